// SPDX-License-Identifier: ISC
/*
 * Unit tests for the pre-copy policy, driven by synthetic sequences:
 * hand-written rounds where the numbers matter, and a model guest (a
 * bandwidth, a dirty rate, a working set) where the shape matters.  The
 * clock is ours, so every expected decision is exact.
 */
#include <stdlib.h>

#include "conf.h"
#include "policy.h"
#include "unit.h"

#define MIB		(1024ULL * 1024)
#define GIB_PAGES	262144		/* 1 GiB of 4 KiB pages */

static struct backend_precopy_stats
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

static void
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
static int
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
 * are the next count, or what the pause carries.  The model obeys the
 * throttle the policy asks for.  d[] gets each count call's decision, or
 * the -1 call's when that one stops; returns how many, the last final.
 */
struct model {
	uint64_t	pages;
	uint64_t	bw;
	uint64_t	rate;
	uint64_t	ws_pages;
	uint64_t	pause_pages;	/* out: what the pause carried */
	uint64_t	pause_ms;	/* out: and its time at bw */
};

static uint64_t
model_send(struct model *m, struct backend_precopy_stats *st, uint64_t *t,
    unsigned int pct)
{
	uint64_t	bytes = (uint64_t)st->dirty_count * 4096, usec, dirtied;

	usec = bytes * 1000000 / m->bw;
	*t += usec;
	st->total_written += bytes;
	dirtied = m->rate * pct / 100 * usec / 1000000 / 4096;
	return dirtied < m->ws_pages ? dirtied : m->ws_pages;
}

static unsigned int
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

static void
test_first_call_continues(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d;

	params(&pp, CONF_NONCONV_ABORT);
	policy_init(&p, &pp, 0);
	CHECK_INT(step(&p, &d, 0, 0, 0, GIB_PAGES), BACKEND_POLICY_CONTINUE);
	CHECK_INT(d.downtime_ms, -1);
	CHECK_INT(d.bandwidth, 0);
	CHECK(strstr(d.reason, "round 0") != NULL);
}

/*
 * 100 MiB in 1 s is 100 MiB/s.  A stop with 2560 pages (10 MiB) dirty
 * sends them live first (100 ms), and the pause carries what the guest
 * dirties meanwhile.  With one count (10 MiB in 1 s) all the policy can
 * say is "at most 10 MiB": 100 ms.  A second count, 5 MiB in 0.5 s,
 * shows a rate that does not saturate, so the 68 ms send of 5 MiB leaves
 * 0.68 MiB: 9 ms.
 */
static void
test_prediction_is_the_pause_set(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d;

	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	pp.max_downtime_ms = 50;
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	CHECK_INT(step(&p, &d, 1, 1000, 100, 2560), BACKEND_POLICY_CONTINUE);
	CHECK_INT(d.bandwidth, 100 * MIB);
	CHECK_INT(d.dirty_rate, 10 * MIB);
	CHECK_INT(d.pause_pages, 2560);
	CHECK_INT(d.downtime_ms, 100);
	CHECK(strstr(d.reason, "predicted downtime 100 ms over 50 ms") != NULL);
	/* Sent: 100 MiB in 1 s, then 10 MiB in 0.5 s. */
	CHECK_INT(step(&p, &d, 2, 1500, 110, 1280),
	    BACKEND_POLICY_STOP_AND_COPY);
	CHECK_INT(d.bandwidth, 110 * MIB * 2 / 3);
	CHECK(d.pause_pages >= 173 && d.pause_pages <= 175);
	CHECK_INT(d.downtime_ms, 9);
	CHECK(strstr(d.reason, "predicted downtime 9 ms is within 50 ms") !=
	    NULL);
}

/*
 * The learnt fixed cost is part of every prediction: with 60 ms of it, the
 * first count above (100 ms of pages) predicts 160 ms, and the second
 * (9 ms of pages) 69 ms, over a 50 ms target: the policy goes on where
 * the pages alone would have stopped.
 */
static void
test_fixed_cost_in_prediction(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d;

	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	pp.max_downtime_ms = 50;
	pp.fixed_cost_ms = 60;
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	CHECK_INT(step(&p, &d, 1, 1000, 100, 2560), BACKEND_POLICY_CONTINUE);
	CHECK_INT(d.fixed_ms, 60);
	CHECK_INT(d.downtime_ms, 160);
	CHECK_INT(step(&p, &d, 2, 1500, 110, 1280), BACKEND_POLICY_CONTINUE);
	CHECK_INT(d.downtime_ms, 69);
}

/* A guest with a small hot set converges at once; a busier one later. */
static void
test_converging(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[64];
	struct model		quiet = { GIB_PAGES, 1000000000, 100 * MIB,
				    16384, 0, 0 };
	struct model		busy = { GIB_PAGES, 1000000000, 500 * MIB,
				    GIB_PAGES, 0, 0 };
	unsigned int		n;

	params(&pp, CONF_NONCONV_ABORT);
	policy_init(&p, &pp, 0);
	n = model_run(&p, &quiet, d, 64);
	CHECK_INT(n, 2);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK_INT(d[n - 1].iteration, 1);
	/* 64 MiB over ~954 MiB/s. */
	CHECK(d[n - 1].downtime_ms >= 66 && d[n - 1].downtime_ms <= 68);
	CHECK(strstr(d[n - 1].reason, "within 300 ms") != NULL);

	policy_init(&p, &pp, 0);
	n = model_run(&p, &busy, d, 64);
	CHECK_INT(n, 3);
	CHECK_INT(d[1].action, BACKEND_POLICY_CONTINUE);
	CHECK(d[1].downtime_ms > 300);
	CHECK_INT(d[2].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(d[2].downtime_ms > 0 && d[2].downtime_ms <= 300);
}

/*
 * The dirty rate overtakes the bandwidth (hand-written): with a second
 * round of data the policy calls it non-convergence, and each mode
 * does its thing.
 */
static void
test_rate_above_bandwidth_modes(void)
{
	static const int	modes[] = { CONF_NONCONV_STOP_AND_COPY,
				    CONF_NONCONV_ABORT, CONF_NONCONV_THROTTLE };
	static const int	want[] = { BACKEND_POLICY_STOP_AND_COPY,
				    BACKEND_POLICY_ABORT,
				    BACKEND_POLICY_CONTINUE };
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d;
	size_t			i;

	for (i = 0; i < 3; i++) {
		params(&pp, modes[i]);
		policy_init(&p, &pp, 0);
		step(&p, &d, 0, 0, 0, GIB_PAGES);
		/* 100 MiB/s out, 117 MiB dirty: one sample, go on. */
		CHECK_INT(step(&p, &d, 1, 1000, 100, 30000),
		    BACKEND_POLICY_CONTINUE);
		/* 217 MiB in 2 s out; 117 + 156 MiB dirtied in 2 s. */
		CHECK_INT(step(&p, &d, 2, 2000, 217, 40000), want[i]);
		CHECK(strstr(d.reason, "dirtying") != NULL);
		CHECK(d.dirty_rate >= d.bandwidth);
		CHECK(d.downtime_ms > 1000);
	}
	/* stop-and-copy and abort say so; throttle asks for 80%. */
	CHECK_INT(d.throttle, 80);
	CHECK(strstr(d.reason, "throttling the guest to 80%") != NULL);
	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	step(&p, &d, 1, 1000, 100, 30000);
	step(&p, &d, 2, 2000, 217, 40000);
	CHECK(strstr(d.reason, "stopping anyway, predicted downtime") != NULL);
	params(&pp, CONF_NONCONV_ABORT);
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	step(&p, &d, 1, 1000, 100, 30000);
	step(&p, &d, 2, 2000, 217, 40000);
	CHECK(strstr(d.reason, "stays on the source") != NULL);
}

/*
 * A hot set bigger than a round can clear: the dirty count stays put
 * while the rate looks fine.  Three rounds without shrinking is it.
 */
static void
test_stalled_dirty_set(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[64];
	struct model		hot = { GIB_PAGES, 100 * MIB, 400 * MIB,
				    65536, 0, 0 };
	unsigned int		n, i;

	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	policy_init(&p, &pp, 0);
	n = model_run(&p, &hot, d, 64);
	CHECK_INT(n, 5);
	for (i = 0; i + 1 < n; i++)
		CHECK_INT(d[i].action, BACKEND_POLICY_CONTINUE);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(strstr(d[n - 1].reason, "not shrinking for 3 rounds") != NULL);
	CHECK_INT(d[n - 1].downtime_ms, 2560);	/* 256 MiB at 100 MiB/s */
}

/*
 * Hand-written: the dirty set shrinks by 1% a round (each round sends
 * the last one's pages at 25600 pages/s), so the rate stays under the
 * bandwidth and only the stall rule can call it.
 */
static void
test_stall_without_rate(void)
{
	struct policy_params		pp;
	struct policy			p;
	struct policy_decision		d;
	struct backend_precopy_stats	st;
	static const long		dirty[] = { 12800, 12672, 12544, 12416 };
	static const uint64_t		t_ms[] = { 10240, 10740, 11235, 11725 };
	uint64_t			written = GIB_PAGES;
	unsigned int			i;

	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	for (i = 0; i < 4; i++) {
		st = stats(i + 1, written * 4096, -1, GIB_PAGES);
		CHECK_INT(policy_decide(&p, &st, t_ms[i] * 1000, &d),
		    BACKEND_POLICY_CONTINUE);
		st.dirty_count = dirty[i];
		CHECK_INT(policy_decide(&p, &st, t_ms[i] * 1000, &d),
		    i < 3 ? BACKEND_POLICY_CONTINUE :
		    BACKEND_POLICY_STOP_AND_COPY);
		written += (uint64_t)dirty[i];
	}
	CHECK(strstr(d.reason, "not shrinking for 3 rounds") != NULL);
	CHECK(d.dirty_rate < d.bandwidth);
	CHECK_INT(d.bandwidth, 25600 * 4096);
}

/*
 * Auto-converge: the same guest, throttled 80, 60, 40, 20 percent; at
 * 20% it dirties less than the link carries and converges.  A guest too
 * busy even at 20% is stopped anyway.
 */
static void
test_throttle_steps(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[128];
	struct model		hot = { GIB_PAGES, 100 * MIB, 400 * MIB,
				    65536, 0, 0 };
	struct model		wild = { GIB_PAGES, 100 * MIB, 1000 * MIB,
				    65536, 0, 0 };
	unsigned int		n, i, steps[8], nsteps = 0;

	params(&pp, CONF_NONCONV_THROTTLE);
	pp.max_iterations = 100;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &hot, d, 128);
	for (i = 0; i < n; i++)
		if (d[i].throttle != 0 && nsteps < 8)
			steps[nsteps++] = d[i].throttle;
	CHECK_INT(nsteps, 4);
	CHECK(nsteps == 4 && steps[0] == 80 && steps[1] == 60 &&
	    steps[2] == 40 && steps[3] == 20);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(strstr(d[n - 1].reason, "within 300 ms") != NULL);

	policy_init(&p, &pp, 0);
	n = model_run(&p, &wild, d, 128);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(strstr(d[n - 1].reason, "not converging at 20%") != NULL);
	CHECK(d[n - 1].downtime_ms > 300);
}

/* Shrinking, slowly: only the iteration limit stops it. */
static void
test_max_iterations(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d;
	long			dirty = 200000;
	unsigned int		i;
	uint64_t		written = 1024;

	params(&pp, CONF_NONCONV_ABORT);
	pp.max_iterations = 4;
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	for (i = 1; i < 4; i++) {
		CHECK_INT(step(&p, &d, i, i * 1000, written, dirty),
		    BACKEND_POLICY_CONTINUE);
		written += (uint64_t)dirty * 4096 / MIB;
		dirty = dirty * 3 / 4;
	}
	CHECK_INT(step(&p, &d, 4, 4000, written, dirty),
	    BACKEND_POLICY_STOP_AND_COPY);
	CHECK(strstr(d.reason, "iteration limit 4 reached") != NULL);
	CHECK(d.downtime_ms > 300);
}

/*
 * Past the budget: abort, unless the guest can stop within target.  A
 * call with -1 before any count cannot tell, so at (1, -1) past the
 * budget it aborts; a count that fits, even one read past it, stops.
 */
static void
test_time_budget(void)
{
	struct policy_params		pp;
	struct policy			p;
	struct policy_decision		d;
	struct backend_precopy_stats	st;

	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	pp.timeout_ms = 5000;
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	CHECK_INT(step(&p, &d, 1, 3000, 300, 60000), BACKEND_POLICY_CONTINUE);
	CHECK_INT(step(&p, &d, 2, 6000, 534, 40000), BACKEND_POLICY_ABORT);
	CHECK(strstr(d.reason, "time budget of 5 s") != NULL);

	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	CHECK_INT(step(&p, &d, 1, 6000, 600, 1000), BACKEND_POLICY_ABORT);
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	st = stats(1, 490 * MIB, -1, GIB_PAGES);
	CHECK_INT(policy_decide(&p, &st, 4900000, &d),
	    BACKEND_POLICY_CONTINUE);
	st.dirty_count = 1000;
	CHECK_INT(policy_decide(&p, &st, 5100000, &d),
	    BACKEND_POLICY_STOP_AND_COPY);
	CHECK(strstr(d.reason, "within") != NULL);
}

/*
 * libxenguest's two calls a round (policy.c has its lines): the call with
 * -1 comes first, before the bitmap is read, and never stops on a count
 * (relocd's "nothing dirty", xen-default's "under 50 pages"); a stop with
 * the count predicts what the guest dirties while that count is sent
 * live, not the count.
 */
static void
test_libxenguest_two_calls(void)
{
	struct policy_params		pp;
	struct policy			p;
	struct policy_decision		d;
	struct backend_precopy_stats	st;
	unsigned int			i;

	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	policy_init(&p, &pp, 0);
	st = stats(0, 0, GIB_PAGES, GIB_PAGES);
	CHECK_INT(policy_decide(&p, &st, 0, &d), BACKEND_POLICY_CONTINUE);
	/* (1, -1): round 0 sent, 100 MiB in 1 s; no count yet. */
	st = stats(1, 100 * MIB, -1, GIB_PAGES);
	CHECK_INT(policy_decide(&p, &st, 1000000, &d), BACKEND_POLICY_CONTINUE);
	CHECK_INT(d.bandwidth, 100 * MIB);
	CHECK_INT(d.downtime_ms, -1);
	CHECK(strstr(d.reason, "round 1 sent") != NULL);
	/* (1, 25600): the read took 1 ms, which is no send. */
	st.dirty_count = 25600;
	CHECK_INT(policy_decide(&p, &st, 1001000, &d), BACKEND_POLICY_CONTINUE);
	CHECK_INT(d.bandwidth, 100 * MIB);
	CHECK_INT(d.downtime_ms, 1000);
	/*
	 * (2, -1) after 50 MiB more in 0.5 s: a stop now would carry what
	 * was dirtied in those 0.5 s, at most the last count, 100 MiB.
	 */
	st = stats(2, 150 * MIB, -1, GIB_PAGES);
	CHECK_INT(policy_decide(&p, &st, 1501000, &d), BACKEND_POLICY_CONTINUE);
	CHECK_INT(d.bandwidth, 100 * MIB);
	CHECK_INT(d.downtime_ms, 1000);
	/*
	 * (2, 1280): 5 MiB dirtied in 0.5 s, a rate that does not saturate;
	 * sending them live takes 50 ms, in which the guest dirties 0.5 MiB,
	 * and that is the pause.  The count over the bandwidth would say
	 * 50 ms.
	 */
	st.dirty_count = 1280;
	CHECK_INT(policy_decide(&p, &st, 1502000, &d),
	    BACKEND_POLICY_STOP_AND_COPY);
	CHECK(d.pause_pages >= 125 && d.pause_pages <= 130);
	CHECK(d.downtime_ms >= 4 && d.downtime_ms <= 5);

	/* Up to iteration 4, -1 never stops, whatever a count rule says. */
	for (i = 1; i < 5; i++) {
		st = stats(i, 0, -1, GIB_PAGES);
		CHECK_INT(policy_xen_default(&st), BACKEND_POLICY_CONTINUE);
	}
	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	pp.max_downtime_ms = 1000000;
	policy_init(&p, &pp, 0);
	st = stats(0, 0, GIB_PAGES, GIB_PAGES);
	policy_decide(&p, &st, 0, &d);
	st = stats(1, 100 * MIB, -1, GIB_PAGES);
	CHECK_INT(policy_decide(&p, &st, 1000000, &d), BACKEND_POLICY_CONTINUE);
	st.dirty_count = 0;
	CHECK_INT(policy_decide(&p, &st, 1000000, &d),
	    BACKEND_POLICY_STOP_AND_COPY);
	CHECK_INT(d.downtime_ms, 0);
}

/*
 * Against the model, which knows what the pause really carries (what
 * the guest dirtied during the last live send): the prediction at the
 * stop is never under it by much, and once two counts are known it is
 * within a quarter above, for guests whose rate does not saturate
 * (models 0 and 1).  Model 2 stops at its first count, of a hot set that
 * a round of that length saturated; one count cannot tell how fast the
 * set fills in a shorter time, so the policy assumes at once: an upper
 * bound, ten times the pause here.
 */
static void
test_prediction_matches_pause(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[64];
	struct model		m[] = {
		{ GIB_PAGES, 100 * MIB, 20 * MIB, GIB_PAGES, 0, 0 },
		{ GIB_PAGES, 100 * MIB, 60 * MIB, GIB_PAGES, 0, 0 },
		{ GIB_PAGES, 1000000000, 100 * MIB, 16384, 0, 0 },
	};
	unsigned int		n, i;
	int64_t			want, got;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		params(&pp, CONF_NONCONV_STOP_AND_COPY);
		policy_init(&p, &pp, 0);
		n = model_run(&p, &m[i], d, 64);
		CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
		CHECK(strstr(d[n - 1].reason, "within 300 ms") != NULL);
		want = (int64_t)m[i].pause_ms;
		got = d[n - 1].downtime_ms;
		if (got < want * 9 / 10 || (i < 2 && got > want * 5 / 4 + 1))
			fprintf(stderr, "  model %u: predicted %lld ms, the "
			    "pause carried %lld ms\n", i, (long long)got,
			    (long long)want);
		CHECK(got >= want * 9 / 10);
		if (i < 2) {
			CHECK(got <= want * 5 / 4 + 1);
			CHECK(d[n - 1].iteration >= 2);
		}
		CHECK(m[i].pause_ms <= 300);
	}
}

static void
test_xen_default(void)
{
	struct policy_params		pp;
	struct policy			p;
	struct policy_decision		d;
	struct backend_precopy_stats	st;
	unsigned int			i;

	st = stats(0, 0, GIB_PAGES, GIB_PAGES);
	CHECK_INT(policy_xen_default(&st), BACKEND_POLICY_CONTINUE);
	st = stats(3, 0, 49, GIB_PAGES);
	CHECK_INT(policy_xen_default(&st), BACKEND_POLICY_STOP_AND_COPY);
	st = stats(3, 0, 50, GIB_PAGES);
	CHECK_INT(policy_xen_default(&st), BACKEND_POLICY_CONTINUE);
	st = stats(4, 0, -1, GIB_PAGES);
	CHECK_INT(policy_xen_default(&st), BACKEND_POLICY_CONTINUE);
	st = stats(5, 0, -1, GIB_PAGES);
	CHECK_INT(policy_xen_default(&st), BACKEND_POLICY_STOP_AND_COPY);

	/* As a policy: 5 rounds whatever the downtime, no other limits. */
	policy_params_default(&pp);
	pp.kind = POLICY_XEN_DEFAULT;
	pp.timeout_ms = 1;
	policy_init(&p, &pp, 0);
	CHECK_INT(step(&p, &d, 0, 0, 0, GIB_PAGES), BACKEND_POLICY_CONTINUE);
	for (i = 1; i < 5; i++)
		CHECK_INT(step(&p, &d, i, i * 1000, i * 100, 200000),
		    BACKEND_POLICY_CONTINUE);
	CHECK_INT(step(&p, &d, 5, 5000, 500, 200000),
	    BACKEND_POLICY_STOP_AND_COPY);
	CHECK_STR(d.reason, "5 iterations done");
	CHECK_INT(d.downtime_ms, 200000LL * 4096 * 1000 / (100 * MIB));
	policy_init(&p, &pp, 0);
	step(&p, &d, 0, 0, 0, GIB_PAGES);
	CHECK_INT(step(&p, &d, 1, 1000, 100, 49),
	    BACKEND_POLICY_STOP_AND_COPY);
	CHECK_STR(d.reason, "fewer than 50 pages dirty (49)");
}

/* The cap: a writer waits bytes/cap, and idle time earns no burst. */
static void
test_pace(void)
{
	struct policy_params	pp;
	struct policy		p;

	policy_params_default(&pp);
	policy_init(&p, &pp, 0);
	CHECK_INT(policy_pace(&p, 1000000, 0), 0);
	pp.max_bandwidth = 100000000;	/* 800 Mbit/s */
	policy_init(&p, &pp, 0);
	CHECK_INT(policy_pace(&p, 1000000, 0), 10000);
	CHECK_INT(policy_pace(&p, 1000000, 0), 20000);
	CHECK_INT(policy_pace(&p, 1000000, 15000), 15000);
	CHECK_INT(policy_pace(&p, 1000000, 1000000), 10000);
}

static void
test_params_from_conf(void)
{
	struct policy_params	pp;
	struct conf		conf;

	memset(&conf, 0, sizeof(conf));
	conf.max_downtime_ms = 250;
	conf.max_bandwidth_mbit = 1000;
	conf.max_iterations = 12;
	conf.migration_timeout_s = 1800;
	conf.nonconvergence = CONF_NONCONV_THROTTLE;
	policy_params_from_conf(&pp, &conf);
	CHECK_INT(pp.kind, POLICY_RELOCD);
	CHECK_INT(pp.max_downtime_ms, 250);
	CHECK_INT(pp.max_bandwidth, 125000000);
	CHECK_INT(pp.max_iterations, 12);
	CHECK_INT(pp.timeout_ms, 1800000);
	CHECK_INT(pp.nonconvergence, CONF_NONCONV_THROTTLE);
	CHECK_STR(policy_action_name(BACKEND_POLICY_ABORT), "abort");
	CHECK_STR(policy_action_name(BACKEND_POLICY_STOP_AND_COPY),
	    "stop-and-copy");
}

UNIT_MAIN("policy",
    UNIT_TEST(test_first_call_continues),
    UNIT_TEST(test_prediction_is_the_pause_set),
    UNIT_TEST(test_fixed_cost_in_prediction),
    UNIT_TEST(test_converging),
    UNIT_TEST(test_rate_above_bandwidth_modes),
    UNIT_TEST(test_stalled_dirty_set),
    UNIT_TEST(test_stall_without_rate),
    UNIT_TEST(test_throttle_steps),
    UNIT_TEST(test_max_iterations),
    UNIT_TEST(test_time_budget),
    UNIT_TEST(test_libxenguest_two_calls),
    UNIT_TEST(test_prediction_matches_pause),
    UNIT_TEST(test_xen_default),
    UNIT_TEST(test_pace),
    UNIT_TEST(test_params_from_conf))
