// SPDX-License-Identifier: ISC
/*
 * The pre-copy policy, one module for both backends (it knows the
 * backend interface's stats, nothing of sim or Xen).  Called between
 * rounds, it measures and decides:
 *
 *  - bandwidth: bytes sent over the last POLICY_WINDOW live sends
 *    divided by their time, so long rounds weigh more than short noisy
 *    ones;
 *  - dirty rate: each dirty count in bytes over the time since the
 *    bitmap was read before it, averaged the same way;
 *  - the pause's pages: what the guest will have dirtied when it is
 *    suspended if the policy stops now (see below for why that is not
 *    the count), from the last two counts (policy_dirtied());
 *  - predicted downtime: the fixed cost the caller learnt for this
 *    destination and guest type (policy_params.fixed_cost_ms), plus
 *    those pages over the bandwidth.
 *
 * In order, first match wins:
 *  0. before round 0, the fixed cost alone over max-downtime: the target
 *     cannot be met ("cannot be met" below); abort if the user chose
 *     abort, else go on, without throttling, to the smallest pause;
 *  1. nothing dirty, or downtime predicted within max-downtime: stop and
 *     copy (a call with dirty_count -1 never stops on "nothing dirty");
 *     but go on, while neither the time budget nor max iterations is
 *     used up, with one count only (the first count predicts the pause
 *     as that whole count, as it cannot tell how much of the set the
 *     guest dirties again while it is sent: make bench of 2026-12-07
 *     stopped there at 228 ms predicted, 99 achieved, where xen-default
 *     reached 67), and while the set still shrinks (by more than
 *     1/POLICY_SHRINK_DIV of the best count) and the final copy is more
 *     than 1/POLICY_SHRINK_DIV of the pause: the target is a bound, not
 *     the goal, and each such round costs only that small set, sent
 *     live, and shrinks what the pause copies (xen-default's five rounds
 *     go on there too, and stop at five whatever the set does); never
 *     while the guest is throttled, which slows it until the stop;
 *  2. the time budget (relocd-migration-timeout) used up: abort;
 *  3. max iterations reached: stop and copy;
 *  4. not converging, at a count: the dirty rate is at or above the
 *     bandwidth (two rounds of data at least), or the dirty set has
 *     reached the guest's writable working set (Clark et al., NSDI 2005):
 *     the count did not shrink by 1/POLICY_SHRINK_DIV of the best yet,
 *     and the next round, shrinking as the last did, is not predicted to
 *     fit.  One count tells: the set is at its minimum now, and a stop
 *     now, which sends that set live first, leaves the pause what the
 *     guest dirties meanwhile, as small as it gets; more rounds would
 *     only send the same set again.  Then, per relocd-on-nonconvergence:
 *     stop and copy anyway, or abort, or throttle the guest
 *     (policy_throttle_pct(): in proportion to how far its rate exceeds
 *     what the link clears in the target, as QEMU's auto-converge does)
 *     and go on, stopping anyway once at POLICY_THROTTLE_FLOOR;
 *  5. otherwise go on.
 *
 * "Cannot be met": the fixed cost alone is over the target (0), or the
 * guest does not converge (4) with no throttle chosen, or at the
 * throttle's floor.  The decision says so in one line, with the
 * smallest pause these hosts can reach (the fixed cost plus the
 * smallest final copy predicted yet) and what the administrator can do,
 * and from then on every decision carries it typed (unreachable,
 * min_pause_ms), for relocctl to print before the stop and for the JSON.
 * The default choice, stop and copy, never aborts.
 *
 * The bandwidth cap is separate: policy_pace() tells the writer how long
 * to wait after each write.  POLICY_XEN_DEFAULT instead reproduces
 * libxenguest's own rule exactly, limits and all, for comparison.
 *
 * How libxenguest calls a policy, read in Xen 4.17.0's
 * tools/libs/guest/xg_sr_save.c (tag RELEASE-4.17.0), send_memory_live()
 * at line 496 and suspend_and_send_dirty() at line 639:
 *
 *  - Before the loop (525) every page is marked to send, and the stats
 *    are iteration 0, total_written 0, dirty_count = every page (517).
 *  - Each pass of the loop calls the policy twice.  The first call (529)
 *    comes after the dirty bitmap was read, with the count known; then,
 *    whatever it said but abort, the marked pages are sent live (532-541),
 *    and only after that does a stop or abort leave the loop (543).
 *  - The second call (546-550) comes with iteration one higher,
 *    total_written grown by the count just sent (in pages), and
 *    dirty_count -1: the bitmap has not been read.  A stop here leaves
 *    the loop at once (552), with nothing more sent live.
 *  - Only on "continue" is the bitmap read and cleared (555-563,
 *    XEN_DOMCTL_SHADOW_OP_CLEAN), and its count becomes the next first
 *    call's dirty_count (565).
 *  - After the loop the guest is suspended (suspend_and_send_dirty(),
 *    648) and the bitmap read once more (652-656); what it holds is the
 *    final copy (684), sent while the guest is paused.
 *
 * So a stop given with the count known does not send that count in the
 * pause: it sends it live first, and the pause carries what the guest
 * dirtied during that last live send (since the last read of the bitmap).
 * A stop given with -1 carries what was dirtied during the send before
 * it.  Either way the pause's set is one never counted before the stop,
 * and xenguest.h's "immediately suspend and transmit the remaining dirty
 * pages" (XGS_POLICY_STOP_AND_COPY, line 468) undersells the live send
 * in between.  The calls a policy sees, iteration and dirty_count:
 * (0, all) send; (1, -1) read; (1, d1) send; (2, -1) read; (2, d2) send;
 * ...  libxenguest's own rule, 5 iterations or 50 pages, stops at
 * (5, -1) after five live sends, or at (k, dk < 50) after sending those
 * dk live.
 *
 * Runs in the worker.  Its inputs come from the backend, not a peer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "conf.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define MIB	(1024.0 * 1024.0)

const char *
policy_action_name(int action)
{
	switch (action) {
	case BACKEND_POLICY_ABORT:
		return "abort";
	case BACKEND_POLICY_CONTINUE:
		return "continue";
	case BACKEND_POLICY_STOP_AND_COPY:
		return "stop-and-copy";
	default:
		return "unknown";
	}
}

void
policy_params_default(struct policy_params *pp)
{
	memset(pp, 0, sizeof(*pp));
	pp->kind = POLICY_RELOCD;
	pp->nonconvergence = CONF_NONCONV_STOP_AND_COPY;
	pp->max_downtime_ms = POLICY_DEFAULT_DOWNTIME_MS;
	pp->max_iterations = POLICY_DEFAULT_ITERATIONS;
	pp->timeout_ms = POLICY_DEFAULT_TIMEOUT_MS;
}

void
policy_params_from_conf(struct policy_params *pp, const struct conf *conf)
{
	policy_params_default(pp);
	pp->nonconvergence = conf->nonconvergence;
	pp->max_downtime_ms = (uint64_t)conf->max_downtime_ms;
	pp->max_iterations = (unsigned int)conf->max_iterations;
	pp->timeout_ms = (uint64_t)conf->migration_timeout_s * 1000;
	/* Mbit/s as network people count them: 10^6 bits. */
	pp->max_bandwidth = (uint64_t)conf->max_bandwidth_mbit * 1000000 / 8;
}

void
policy_init(struct policy *p, const struct policy_params *pp, uint64_t now_us)
{
	memset(p, 0, sizeof(*p));
	p->params = *pp;
	p->start_us = p->last_us = p->read_us = now_us;
	p->best_dirty = p->prev_dirty = p->last_dirty = -1;
	p->min_copy_ms = -1;
	p->throttle = 100;
}

/* libxenguest's simple_precopy_policy(), to the letter. */
int
policy_xen_default(const struct backend_precopy_stats *st)
{
	if ((st->dirty_count >= 0 &&
	    st->dirty_count < POLICY_XEN_TARGET_DIRTY) ||
	    st->iteration >= POLICY_XEN_MAX_ITERATIONS)
		return BACKEND_POLICY_STOP_AND_COPY;
	return BACKEND_POLICY_CONTINUE;
}

static void
policy_push(struct policy_round *w, unsigned int *n, uint64_t bytes,
    uint64_t usec)
{
	if (*n == POLICY_WINDOW) {
		memmove(w, w + 1, (POLICY_WINDOW - 1) * sizeof(*w));
		(*n)--;
	}
	w[*n].bytes = bytes;
	w[*n].usec = usec;
	(*n)++;
}

/* Bytes per second over a window; 0 when it is empty. */
static uint64_t
policy_rate(const struct policy_round *w, unsigned int n)
{
	uint64_t	bytes = 0, usec = 0;
	unsigned int	i;

	for (i = 0; i < n; i++) {
		bytes += w[i].bytes;
		usec += w[i].usec;
	}
	if (usec == 0)
		return 0;
	return (uint64_t)((double)bytes * 1e6 / (double)usec);
}

/*
 * The dirty set shrinks, or it has stopped at the guest's writable
 * working set: one count that is not clearly under the best yet says so,
 * since a set that shrinks by a steady ratio a round (a guest that
 * dirties at a steady fraction of the link) would have shrunk by it again.
 */
static void
policy_track_dirty(struct policy *p, long dirty)
{
	p->prev_dirty = p->last_dirty;
	p->last_dirty = dirty;
	if (p->best_dirty < 0 ||
	    dirty < p->best_dirty - p->best_dirty / POLICY_SHRINK_DIV) {
		p->best_dirty = dirty;
		p->stall = 0;
	} else
		p->stall = 1;
}

/*
 * Takes the measurements.  A live send runs from a call with the count
 * (or iteration 0) to the next call, which has dirty_count -1; the
 * bytes it wrote over its time are a bandwidth sample.  A count covers
 * the time since the previous count, when the bitmap was last read.
 */
static void
policy_observe(struct policy *p, const struct backend_precopy_stats *st,
    uint64_t now)
{
	uint64_t	usec;

	if (st->iteration > 0 && st->dirty_count < 0 &&
	    st->total_written > p->last_written)
		policy_push(p->sent, &p->nsent,
		    st->total_written - p->last_written,
		    now > p->last_us ? now - p->last_us : 1);
	if (st->dirty_count >= 0) {
		if (st->iteration > 0) {
			usec = now > p->read_us ? now - p->read_us : 1;
			policy_push(p->dirtied, &p->ndirtied,
			    (uint64_t)st->dirty_count * st->page_size, usec);
			policy_track_dirty(p, st->dirty_count);
		}
		p->read_us = now;
	}
	p->last_us = now;
	p->last_written = st->total_written;
}

/* One count's bound: that count for a shorter time, its rate beyond. */
static int64_t
policy_dirtied_one(const struct policy_round *b, uint64_t usec)
{
	if (usec <= b->usec || b->usec == 0)
		return (int64_t)b->bytes;
	return (int64_t)((double)b->bytes * (double)usec / (double)b->usec);
}

/*
 * Bytes the guest dirties in usec, from the last two counts, or -1 if
 * there is none yet.  Distinct pages dirtied over time make a concave
 * curve through the origin: fast at first, flat once the writable
 * working set (Clark et al., NSDI 2005) is all dirty.  The chord through
 * the last two points, extended, lies above such a curve outside them
 * and is close to it near them, so it errs towards a longer pause: it
 * is exact for a guest whose rate does not saturate (a straight line)
 * and for one that has (a flat one).  Its slope is kept between flat
 * and the line from the origin.  With one count only, the bound is that
 * count for a shorter time, or its rate for a longer one.
 */
static int64_t
policy_dirtied(const struct policy *p, uint64_t usec)
{
	const struct policy_round	*a, *b, *t;
	double				 slope, top, v;

	if (p->ndirtied == 0)
		return -1;
	b = &p->dirtied[p->ndirtied - 1];
	if (p->ndirtied == 1)
		return policy_dirtied_one(b, usec);
	a = &p->dirtied[p->ndirtied - 2];
	if (a->usec > b->usec) {	/* a: the shorter window */
		t = a;
		a = b;
		b = t;
	}
	/*
	 * Equal windows give no slope, and fewer pages in the longer one
	 * mean the guest changed its ways: then only the last count holds.
	 */
	if (a->usec == b->usec || b->bytes < a->bytes)
		return policy_dirtied_one(&p->dirtied[p->ndirtied - 1], usec);
	top = a->usec > 0 ? (double)a->bytes / (double)a->usec : 0;
	slope = ((double)b->bytes - (double)a->bytes) /
	    (double)(b->usec - a->usec);
	if (slope > top)
		slope = top;
	v = (double)a->bytes + slope * ((double)usec - (double)a->usec);
	if (v < 0)
		v = 0;
	return (int64_t)v;
}

/*
 * What a stop now leaves for the pause (policy.c's first comment): with
 * the count known, the pages the guest dirties while those are sent
 * live; with -1, those dirtied since the bitmap was last read.
 */
static void
policy_predict(struct policy *p, const struct backend_precopy_stats *st,
    uint64_t now, struct policy_decision *d)
{
	uint64_t	usec, cap = st->memory_pages * st->page_size;
	int64_t		bytes;

	d->pause_pages = d->downtime_ms = -1;
	if (st->iteration == 0 || d->bandwidth == 0)
		return;
	if (st->dirty_count == 0)
		bytes = 0;
	else {
		if (st->dirty_count > 0)
			usec = (uint64_t)((double)st->dirty_count *
			    (double)st->page_size * 1e6 /
			    (double)d->bandwidth);
		else
			usec = now > p->read_us ? now - p->read_us : 0;
		if ((bytes = policy_dirtied(p, usec)) < 0)
			return;
	}
	if (cap > 0 && (uint64_t)bytes > cap)
		bytes = (int64_t)cap;
	d->pause_pages = bytes / (int64_t)st->page_size;
	d->downtime_ms = (int64_t)d->fixed_ms + (int64_t)((double)bytes *
	    1000.0 / (double)d->bandwidth);
	/* The smallest final copy yet: what "cannot be met" reports. */
	if (p->min_copy_ms < 0 ||
	    d->downtime_ms - (int64_t)d->fixed_ms < p->min_copy_ms)
		p->min_copy_ms = d->downtime_ms - (int64_t)d->fixed_ms;
}

static int __attribute__((format(printf, 3, 4)))
policy_say(struct policy_decision *d, int action, const char *fmt, ...)
{
	va_list	ap;

	d->action = action;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	return action;
}

static int
policy_xen(const struct backend_precopy_stats *st, struct policy_decision *d)
{
	int	action = policy_xen_default(st);

	if (action == BACKEND_POLICY_CONTINUE)
		return policy_say(d, action, "round %u: %ld pages dirty",
		    st->iteration, st->dirty_count);
	if (st->dirty_count >= 0 && st->dirty_count < POLICY_XEN_TARGET_DIRTY)
		return policy_say(d, action, "fewer than %d pages dirty (%ld)",
		    POLICY_XEN_TARGET_DIRTY, st->dirty_count);
	return policy_say(d, action, "%d iterations done",
	    POLICY_XEN_MAX_ITERATIONS);
}

/*
 * Rule 1's exception: whether a pause predicted within the target is
 * still worth one more round, and why.
 */
static int
policy_worth_a_round(const struct policy *p, const struct policy_decision *d,
    char *why, size_t len)
{
	int64_t	copy_ms = d->downtime_ms - (int64_t)d->fixed_ms;

	/* A throttled guest runs slowed until the stop: none to spare. */
	if (p->throttle < 100)
		return 0;
	if (p->ndirtied < 2) {
		snprintf(why, len, "one dirty count cannot tell how the set "
		    "is dirtied again while it is sent");
		return 1;
	}
	/*
	 * Once the final copy is at most 1/POLICY_SHRINK_DIV of the pause,
	 * the fixed cost is the pause: more rounds would save little and
	 * each costs a read of the whole bitmap.
	 */
	if (!p->stall && copy_ms * POLICY_SHRINK_DIV > d->downtime_ms) {
		snprintf(why, len, "the dirty set still shrinks (%ld to %ld "
		    "pages)", p->prev_dirty, p->last_dirty);
		return 1;
	}
	return 0;
}

/*
 * Whether the next round can be expected to bring the pause within the
 * target: the last count's ratio to the one before, applied to the final
 * copy predicted now (a set that shrinks by a ratio a round goes on so).
 */
static int
policy_next_fits(const struct policy *p, const struct policy_decision *d)
{
	double	q, next;

	if (p->prev_dirty <= 0 || p->last_dirty < 0 || d->downtime_ms < 0)
		return 0;
	q = (double)p->last_dirty / (double)p->prev_dirty;
	if (q > 1)
		q = 1;
	next = (double)d->fixed_ms + (double)(d->downtime_ms -
	    (int64_t)d->fixed_ms) * q;
	return next <= (double)p->params.max_downtime_ms;
}

/*
 * Whether the guest is not converging; why, if so.  The dirty set that
 * stopped shrinking is at its minimum now: waiting more rounds would
 * send it again and again for the same pause, so one count tells, unless
 * the next round can still be expected to fit the target.
 */
static int
policy_nonconvergent(const struct policy *p, const struct policy_decision *d,
    char *why, size_t len)
{
	if (p->ndirtied >= 2 && d->bandwidth > 0 &&
	    d->dirty_rate >= d->bandwidth) {
		snprintf(why, len, "dirtying %.1f MiB/s, sending %.1f MiB/s",
		    (double)d->dirty_rate / MIB, (double)d->bandwidth / MIB);
		return 1;
	}
	if (p->stall && !policy_next_fits(p, d)) {
		snprintf(why, len, "dirty set stopped shrinking at %ld pages",
		    p->last_dirty);
		return 1;
	}
	return 0;
}

/*
 * The guest's dirty rate, at least: the average over the window, or the
 * fastest count in it if that is more, since a working set that is all
 * dirty by the end of a long window hides how fast it was dirtied.
 */
static double
policy_peak_rate(const struct policy *p, const struct policy_decision *d)
{
	double		r = (double)d->dirty_rate, v;
	unsigned int	i;

	for (i = 0; i < p->ndirtied; i++) {
		if (p->dirtied[i].usec == 0)
			continue;
		v = (double)p->dirtied[i].bytes * 1e6 /
		    (double)p->dirtied[i].usec;
		if (v > r)
			r = v;
	}
	return r;
}

/*
 * Auto-converge, in proportion to the excess (QEMU's cpu-throttle-
 * tailslow reasoning, with relocd's target): the pause carries what the
 * guest dirties while the last set is sent live, set / bandwidth
 * seconds, so a guest that dirties at most bandwidth^2 x budget / set
 * bytes/s fits the target after one more round.  The guest's speed is
 * scaled by that rate over the rate measured, but never for a goal under
 * POLICY_THROTTLE_CLEAR percent of the bandwidth: there the set halves
 * each round and reaches the target within a few more, for less harm to
 * the guest.  At least POLICY_THROTTLE_STEP_MIN points a step, so that a
 * rate the counts underestimate still moves; never under the floor.
 */
static unsigned int
policy_throttle_pct(const struct policy *p,
    const struct backend_precopy_stats *st, const struct policy_decision *d)
{
	double	bw = (double)d->bandwidth, rate = policy_peak_rate(p, d);
	double	set = (double)st->dirty_count * (double)st->page_size;
	double	budget, goal, pct;
	int	most = (int)p->throttle - POLICY_THROTTLE_STEP_MIN;

	budget = ((double)p->params.max_downtime_ms - (double)d->fixed_ms) /
	    1000.0;
	pct = most;
	if (bw > 0 && rate > 0 && set > 0 && budget > 0) {
		goal = bw * bw * budget / set;
		if (goal < bw * POLICY_THROTTLE_CLEAR / 100)
			goal = bw * POLICY_THROTTLE_CLEAR / 100;
		pct = (double)p->throttle * goal / rate;
	}
	if (pct > most)
		pct = most;
	if (pct < POLICY_THROTTLE_FLOOR)
		pct = POLICY_THROTTLE_FLOOR;
	return (unsigned int)pct;
}

/* The smallest pause these hosts can reach: the fixed cost and the copy. */
static int64_t
policy_min_pause(const struct policy *p, const struct policy_decision *d)
{
	return (int64_t)d->fixed_ms + (p->min_copy_ms > 0 ? p->min_copy_ms : 0);
}

/*
 * "Cannot be met", one line that says what the administrator can do;
 * the typed fields (unreachable, min_pause_ms) carry it to relocctl.
 */
static int
policy_unreachable(struct policy *p, struct policy_decision *d, int action,
    const char *why)
{
	const char	*then;

	p->unreachable = TARGET_NOT_CONVERGING;
	if (action == BACKEND_POLICY_ABORT)
		then = "aborting, the guest stays on the source";
	else if (p->throttle < 100)
		then = "stopping anyway";
	else
		then = "stopping and copying anyway";
	if (p->throttle < 100)
		return policy_say(d, action, "target %llu ms cannot be met at "
		    "%u%% (%s): smallest pause %lld ms; %s (raise "
		    "max-downtime, or accept it)",
		    (unsigned long long)p->params.max_downtime_ms,
		    p->throttle, why, (long long)policy_min_pause(p, d), then);
	return policy_say(d, action, "target %llu ms cannot be met (%s): "
	    "smallest pause %lld ms; %s (raise max-downtime, or throttle)",
	    (unsigned long long)p->params.max_downtime_ms, why,
	    (long long)policy_min_pause(p, d), then);
}

static int
policy_nonconverging(struct policy *p, const struct backend_precopy_stats *st,
    struct policy_decision *d, const char *why)
{
	/* Said at round 0; the pause is as small as it gets: stop here. */
	if (p->unreachable == TARGET_FIXED_COST)
		return policy_say(d, BACKEND_POLICY_STOP_AND_COPY, "%s: "
		    "stopping at the smallest pause, predicted downtime "
		    "%lld ms", why, (long long)d->downtime_ms);
	switch (p->params.nonconvergence) {
	case CONF_NONCONV_ABORT:
		return policy_unreachable(p, d, BACKEND_POLICY_ABORT, why);
	case CONF_NONCONV_THROTTLE:
		if (p->throttle > POLICY_THROTTLE_FLOOR) {
			p->throttle = policy_throttle_pct(p, st, d);
			d->throttle = p->throttle;
			/* The old rates say nothing about the slower guest. */
			p->ndirtied = 0;
			p->best_dirty = p->prev_dirty = p->last_dirty = -1;
			p->stall = 0;
			return policy_say(d, BACKEND_POLICY_CONTINUE,
			    "not converging (%s): throttling the guest to "
			    "%u%%", why, p->throttle);
		}
		return policy_unreachable(p, d, BACKEND_POLICY_STOP_AND_COPY,
		    why);
	default:
		return policy_unreachable(p, d, BACKEND_POLICY_STOP_AND_COPY,
		    why);
	}
}

/*
 * The fixed cost alone over the target: no round and no throttle can
 * help, so say so before round 0 and follow the choice: abort at once,
 * or copy until the pause is at its smallest (a throttle would
 * slow the guest for nothing).
 */
static int
policy_fixed_too_big(struct policy *p, const struct backend_precopy_stats *st,
    struct policy_decision *d)
{
	const struct policy_params	*pp = &p->params;

	p->unreachable = TARGET_FIXED_COST;
	if (pp->nonconvergence == CONF_NONCONV_ABORT)
		return policy_say(d, BACKEND_POLICY_ABORT, "target %llu ms "
		    "cannot be met: the pause's fixed cost alone is %llu ms; "
		    "aborting, the guest stays on the source (raise "
		    "max-downtime)", (unsigned long long)pp->max_downtime_ms,
		    (unsigned long long)pp->fixed_cost_ms);
	return policy_say(d, BACKEND_POLICY_CONTINUE, "target %llu ms cannot "
	    "be met: the pause's fixed cost alone is %llu ms; sending all "
	    "%llu pages, then stopping at the smallest pause (raise "
	    "max-downtime, or accept it)",
	    (unsigned long long)pp->max_downtime_ms,
	    (unsigned long long)pp->fixed_cost_ms,
	    (unsigned long long)st->memory_pages);
}

static int
policy_relocd(struct policy *p, const struct backend_precopy_stats *st,
    uint64_t now, struct policy_decision *d)
{
	const struct policy_params	*pp = &p->params;
	uint64_t			 elapsed_ms = (now - p->start_us) / 1000;
	char				 why[96];

	if (st->iteration == 0) {
		if (pp->fixed_cost_ms > pp->max_downtime_ms)
			return policy_fixed_too_big(p, st, d);
		return policy_say(d, BACKEND_POLICY_CONTINUE,
		    "round 0: sending all %llu pages",
		    (unsigned long long)st->memory_pages);
	}
	/* Nothing dirty: with the fixed cost over the target, it is over. */
	if (st->dirty_count == 0 && p->unreachable != TARGET_REACHABLE)
		return policy_say(d, BACKEND_POLICY_STOP_AND_COPY, "nothing "
		    "left to send, predicted downtime %lld ms",
		    (long long)d->downtime_ms);
	if (st->dirty_count != 0 && d->downtime_ms >= 0 &&
	    (uint64_t)d->downtime_ms <= pp->max_downtime_ms &&
	    !(pp->timeout_ms != 0 && elapsed_ms >= pp->timeout_ms) &&
	    !(pp->max_iterations != 0 &&
	    st->iteration >= pp->max_iterations) &&
	    policy_worth_a_round(p, d, why, sizeof(why)))
		return policy_say(d, BACKEND_POLICY_CONTINUE,
		    "predicted downtime %lld ms is within %llu ms, but %s: "
		    "one more round", (long long)d->downtime_ms,
		    (unsigned long long)pp->max_downtime_ms, why);
	if (st->dirty_count == 0 || (d->downtime_ms >= 0 &&
	    (uint64_t)d->downtime_ms <= pp->max_downtime_ms))
		return policy_say(d, BACKEND_POLICY_STOP_AND_COPY,
		    "predicted downtime %lld ms is within %llu ms",
		    (long long)d->downtime_ms,
		    (unsigned long long)pp->max_downtime_ms);
	if (pp->timeout_ms != 0 && elapsed_ms >= pp->timeout_ms)
		return policy_say(d, BACKEND_POLICY_ABORT, "time budget of "
		    "%llu s used up after %u rounds",
		    (unsigned long long)(pp->timeout_ms / 1000), st->iteration);
	if (pp->max_iterations != 0 && st->iteration >= pp->max_iterations)
		return policy_say(d, BACKEND_POLICY_STOP_AND_COPY, "iteration "
		    "limit %u reached, predicted downtime %lld ms",
		    pp->max_iterations, (long long)d->downtime_ms);
	if (st->dirty_count < 0)
		return policy_say(d, BACKEND_POLICY_CONTINUE,
		    "round %u sent", st->iteration);
	if (policy_nonconvergent(p, d, why, sizeof(why)))
		return policy_nonconverging(p, st, d, why);
	return policy_say(d, BACKEND_POLICY_CONTINUE, "round %u: %ld pages "
	    "dirty, predicted downtime %lld ms over %llu ms", st->iteration,
	    st->dirty_count, (long long)d->downtime_ms,
	    (unsigned long long)pp->max_downtime_ms);
}

/*
 * Returns the action (BACKEND_POLICY_*), and fills d with it, the
 * estimates, the predicted downtime and the reason.  now_us is any
 * monotonic clock in microseconds, the same one policy_init() was given.
 */
int
policy_decide(struct policy *p, const struct backend_precopy_stats *st,
    uint64_t now_us, struct policy_decision *d)
{
	int	action;

	memset(d, 0, sizeof(*d));
	policy_observe(p, st, now_us);
	d->iteration = st->iteration;
	d->fixed_ms = p->params.fixed_cost_ms;
	d->bandwidth = policy_rate(p->sent, p->nsent);
	d->dirty_rate = policy_rate(p->dirtied, p->ndirtied);
	policy_predict(p, st, now_us, d);
	if (p->params.kind == POLICY_XEN_DEFAULT)
		action = policy_xen(st, d);
	else
		action = policy_relocd(p, st, now_us, d);
	d->unreachable = p->unreachable;
	d->min_pause_ms = p->unreachable != TARGET_REACHABLE ?
	    policy_min_pause(p, d) : -1;
	return action;
}

/*
 * The bandwidth cap: after writing bytes at now_us, how many
 * microseconds to wait so that the average stays at the cap.  Idle time
 * earns no credit, so there are no bursts above the cap after a pause.
 */
uint64_t
policy_pace(struct policy *p, uint64_t bytes, uint64_t now_us)
{
	if (p->params.max_bandwidth == 0)
		return 0;
	if (p->pace_us < now_us)
		p->pace_us = now_us;
	p->pace_us += (uint64_t)((double)bytes * 1e6 /
	    (double)p->params.max_bandwidth);
	return p->pace_us - now_us;
}

static int
policy_run_precopy(const struct backend_precopy_stats *st, void *data)
{
	struct policy_run	*run = data;
	struct backend_error	 err;
	int			 action;

	action = policy_decide(&run->policy, st, util_now_us(), &run->last);
	if (run->last.throttle != 0 && run->ops != NULL &&
	    run->ops->set_throttle != NULL) {
		if (run->ops->set_throttle(run->backend, run->guest,
		    run->last.throttle, &err) == -1)
			log_warnx("%s: cannot throttle to %u%%: %s", run->guest,
			    run->last.throttle, err.msg);
		else
			run->throttled = 1;
	}
	log_debug("%s: %s: %s", run->guest, policy_action_name(action),
	    run->last.reason);
	if (run->progress != NULL)
		run->progress(&run->last, st, run->user);
	return action;
}

static uint64_t
policy_run_pace(uint64_t bytes, void *data)
{
	struct policy_run	*run = data;

	return policy_pace(&run->policy, bytes, util_now_us());
}

static void
policy_run_suspended(uint64_t when_ms, void *data)
{
	struct policy_run	*run = data;

	if (run->suspended != NULL)
		run->suspended(when_ms, run->user);
}

void
policy_run_init(struct policy_run *run, const struct policy_params *pp,
    const struct backend_ops *ops, void *backend, const char *guest)
{
	memset(run, 0, sizeof(*run));
	policy_init(&run->policy, pp, util_now_us());
	run->ops = ops;
	run->backend = backend;
	run->guest = guest;
}

void
policy_run_callbacks(struct policy_run *run, struct backend_save_callbacks *cb)
{
	memset(cb, 0, sizeof(*cb));
	cb->precopy_policy = policy_run_precopy;
	cb->suspended = policy_run_suspended;
	cb->pace = policy_run_pace;
	cb->data = run;
}

/* After a failed or aborted migration the source runs at full speed. */
void
policy_run_unthrottle(struct policy_run *run)
{
	struct backend_error	err;

	if (!run->throttled)
		return;
	if (run->ops->set_throttle(run->backend, run->guest, 100, &err) == -1)
		log_warnx("%s: cannot remove the throttle: %s", run->guest,
		    err.msg);
	else
		run->throttled = 0;
}
