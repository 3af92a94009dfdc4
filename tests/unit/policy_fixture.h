/* SPDX-License-Identifier: ISC */
/*
 * Fixtures shared by the policy's unit tests (test_policy.c, hand-written
 * rounds; test_policy_model.c, a model guest): stats as libxenguest
 * passes them, one round's two calls, and the model guest under
 * libxenguest's loop.
 */
#ifndef RELOCD_POLICY_FIXTURE_H
#define RELOCD_POLICY_FIXTURE_H

#include <stdlib.h>

#include "conf.h"
#include "policy.h"
#include "unit.h"

#define MIB		(1024ULL * 1024)
#define GIB_PAGES	262144		/* 1 GiB of 4 KiB pages */

static inline struct backend_precopy_stats
stats(unsigned int iteration, uint64_t written, long dirty, uint64_t pages)
{
	struct backend_precopy_stats	st;

	st.iteration = iteration;
	st.total_written = written;
	st.dirty_count = dirty;
	st.page_size = 4096;
	st.memory_pages = pages;
	return st;
}

static inline void
params(struct policy_params *pp, int mode)
{
	policy_params_default(pp);
	pp->nonconvergence = mode;
}

/*
 * One round as libxenguest asks (policy.c): at t_ms the live send has
 * ended with written_mib in all, so a call with dirty_count -1; then, on
 * "continue", the bitmap is read and a call with the count.  Iteration 0
 * is the one call before round 0.  Returns the last call's action.
 */
static inline int
step(struct policy *p, struct policy_decision *d, unsigned int iteration,
    uint64_t t_ms, uint64_t written_mib, long dirty)
{
	struct backend_precopy_stats	st;
	int				action;

	if (iteration > 0) {
		st = stats(iteration, written_mib * MIB, -1, GIB_PAGES);
		action = policy_decide(p, &st, t_ms * 1000, d);
		if (action != BACKEND_POLICY_CONTINUE)
			return action;
	}
	st = stats(iteration, written_mib * MIB, dirty, GIB_PAGES);
	return policy_decide(p, &st, t_ms * 1000, d);
}

/*
 * A model guest under libxenguest's loop: each count is sent live at bw
 * bytes/s, also after a stop; meanwhile the guest dirties rate x
 * throttle bytes/s, distinct pages capped at its working set, and those
 * are the next count, or what the pause carries.  With sat, the guest
 * writes pages of its working set at random, so distinct pages fill it
 * as 1 - e^(-rate t / ws) does (in 1 ms steps): the set shrinks round
 * after round towards a floor, as Clark et al. measured.  The model
 * obeys the throttle the policy asks for.  d[] gets each count call's
 * decision, or the -1 call's when that one stops; returns how many, the
 * last final.
 */
struct model {
	uint64_t	pages;
	uint64_t	bw;
	uint64_t	rate;
	uint64_t	ws_pages;
	uint64_t	pause_pages;	/* out: what the pause carried */
	uint64_t	pause_ms;	/* out: and its time at bw */
	int		sat;
	uint64_t	bytes;		/* out: sent live and in the pause */
};

static inline uint64_t
model_dirtied(const struct model *m, uint64_t usec, unsigned int pct)
{
	double		x = 0, per_ms = (double)m->rate * pct / 100 / 4096 / 1000;
	uint64_t	dirtied, ms;

	if (!m->sat) {
		dirtied = m->rate * pct / 100 * usec / 1000000 / 4096;
		return dirtied < m->ws_pages ? dirtied : m->ws_pages;
	}
	for (ms = 0; ms < usec / 1000 && ms < 3600000; ms++)
		x += per_ms * (1 - x / (double)m->ws_pages);
	return (uint64_t)x;
}

static inline uint64_t
model_send(struct model *m, struct backend_precopy_stats *st, uint64_t *t,
    unsigned int pct)
{
	uint64_t	bytes = (uint64_t)st->dirty_count * 4096, usec;

	usec = bytes * 1000000 / m->bw;
	*t += usec;
	st->total_written += bytes;
	return model_dirtied(m, usec, pct);
}

static inline unsigned int
model_run(struct policy *p, struct model *m, struct policy_decision *d,
    unsigned int max)
{
	struct backend_precopy_stats	st;
	struct policy_decision		minus;
	uint64_t			t = 0, next;
	unsigned int			i, pct = 100;
	int				action;

	st = stats(0, 0, (long)m->pages, m->pages);
	for (i = 0; i < max; i++) {
		action = policy_decide(p, &st, t, &d[i]);
		if (action == BACKEND_POLICY_ABORT)
			return i + 1;
		if (d[i].throttle != 0)
			pct = d[i].throttle;
		next = model_send(m, &st, &t, pct);
		m->pause_pages = next;
		m->pause_ms = next * 4096 * 1000 / m->bw;
		m->bytes = st.total_written + next * 4096;
		if (action != BACKEND_POLICY_CONTINUE)
			return i + 1;
		st.iteration++;
		st.dirty_count = -1;
		if (policy_decide(p, &st, t, &minus) !=
		    BACKEND_POLICY_CONTINUE) {
			/* The stop comes in place of the next count. */
			if (i + 1 < max)
				d[i + 1] = minus;
			return i + 2 <= max ? i + 2 : max;
		}
		st.dirty_count = (long)next;
	}
	return max;
}

#endif /* RELOCD_POLICY_FIXTURE_H */
