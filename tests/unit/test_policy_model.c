// SPDX-License-Identifier: ISC
/*
 * Unit tests for the pre-copy policy against a model guest (a bandwidth,
 * a dirty rate, a working set; policy_fixture.h) under libxenguest's
 * loop, where the shape matters: convergence, the stop at the working
 * set's minimum against Xen's rule on the same guest, the throttle's
 * steps, and a target out of reach.  The model knows what the pause
 * really carries, so the predictions are held against it.
 */
#include "policy_fixture.h"

/*
 * A guest with a small hot set converges at once, a busier one later;
 * with 60 ms of fixed cost.  Within the target, the first count does
 * not stop it (it would have predicted 127 ms for the quiet guest, whose
 * pause is 3 ms of pages), and a set that still shrinks goes on until
 * its final copy is at most a sixteenth of the pause: the busy guest's
 * set halves round after round, from 214 ms predicted within the target
 * down to 63 (rule 1).
 */
static void
test_converging(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[64];
	struct model		quiet = { GIB_PAGES, 1000000000, 100 * MIB,
				    16384, 0, 0, 0, 0 };
	struct model		busy = { GIB_PAGES, 1000000000, 500 * MIB,
				    GIB_PAGES, 0, 0, 0, 0 };
	unsigned int		n, i;

	params(&pp, CONF_NONCONV_ABORT);
	pp.fixed_cost_ms = 60;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &quiet, d, 64);
	CHECK_INT(n, 3);
	/* 60 ms and 64 MiB over ~954 MiB/s. */
	CHECK(d[1].downtime_ms >= 126 && d[1].downtime_ms <= 128);
	CHECK_INT(d[1].action, BACKEND_POLICY_CONTINUE);
	CHECK(strstr(d[1].reason, "one dirty count cannot tell") != NULL);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK_INT(d[n - 1].iteration, 2);
	CHECK(d[n - 1].downtime_ms >= 60 && d[n - 1].downtime_ms <= 64);
	CHECK(quiet.pause_ms <= 4);

	policy_init(&p, &pp, 0);
	n = model_run(&p, &busy, d, 64);
	CHECK(n >= 5 && n <= 12);
	CHECK(d[1].downtime_ms > 300);
	for (i = 2; i < n - 1; i++) {
		CHECK_INT(d[i].action, BACKEND_POLICY_CONTINUE);
		CHECK(d[i].downtime_ms <= 300);
		CHECK(strstr(d[i].reason, "still shrinks") != NULL);
	}
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(d[n - 1].downtime_ms >= 60 &&
	    (d[n - 1].downtime_ms - 60) * POLICY_SHRINK_DIV <=
	    d[n - 1].downtime_ms);
	CHECK(busy.pause_ms <= 5);
}

/*
 * A hot set bigger than the link clears in the target: round 0 leaves it
 * all dirty (256 MiB), and so does every round after.  The second count,
 * the first that can show it, does not shrink: the set is at its
 * minimum, and more rounds would send it again for the same pause.  So
 * the policy stops there, at iteration 2 (it used to wait three stalled
 * rounds, to iteration 4), and says the target cannot be met.  Xen's
 * rule on the same guest sends five rounds for the same pause.
 */
static void
test_working_set_minimum(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[64];
	struct model		hot = { GIB_PAGES, 100 * MIB, 400 * MIB,
				    65536, 0, 0, 0, 0 };
	uint64_t		bytes, pause_ms;
	unsigned int		n, i;

	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	policy_init(&p, &pp, 0);
	n = model_run(&p, &hot, d, 64);
	CHECK_INT(n, 3);
	for (i = 0; i + 1 < n; i++)
		CHECK_INT(d[i].action, BACKEND_POLICY_CONTINUE);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK_INT(d[n - 1].iteration, 2);
	CHECK(strstr(d[n - 1].reason, "stopped shrinking at 65536 pages") !=
	    NULL);
	CHECK_INT(d[n - 1].downtime_ms, 2560);	/* 256 MiB at 100 MiB/s */
	CHECK_INT(d[n - 1].unreachable, TARGET_NOT_CONVERGING);
	CHECK_INT(d[n - 1].min_pause_ms, 2560);
	CHECK_INT(hot.pause_ms, 2560);
	bytes = hot.bytes;
	pause_ms = hot.pause_ms;
	CHECK_INT(bytes, (1024 + 3 * 256) * MIB);

	pp.kind = POLICY_XEN_DEFAULT;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &hot, d, 64);
	CHECK_INT(d[n - 1].iteration, 5);
	CHECK_INT(hot.bytes, (1024 + 5 * 256) * MIB);
	CHECK(bytes < hot.bytes);
	CHECK(pause_ms <= hot.pause_ms);
}

/*
 * The same, for a set that shrinks towards its floor (a working set
 * written at random, twice as fast as the link): 256, 221, 211 MiB, and
 * a floor of 204 MiB.  The third count is within 1/16 of the second: the
 * policy stops there, within 1/16 of the floor, at iteration 3 (it used
 * to go to 5), for a pause within 2% of the one Xen's rule reaches after
 * five rounds, with fewer bytes.
 */
static void
test_working_set_floor(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[64];
	struct model		ws = { GIB_PAGES, 100 * MIB, 200 * MIB,
				    65536, 0, 0, 1, 0 };
	uint64_t		floor = 65536, bytes, pause_ms;
	unsigned int		n, i;

	/* The floor: a set that dirties itself again while it is sent. */
	for (i = 0; i < 30; i++)
		floor = model_dirtied(&ws, floor * 4096 * 1000000 / ws.bw,
		    100);
	CHECK(floor > 51000 && floor < 53000);	/* about 204 MiB */
	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	policy_init(&p, &pp, 0);
	n = model_run(&p, &ws, d, 64);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK_INT(d[n - 1].iteration, 3);
	CHECK(strstr(d[n - 1].reason, "stopped shrinking") != NULL);
	CHECK(d[n - 1].pause_pages <= (int64_t)(floor + floor / 16));
	/* The prediction holds against what the model's pause carried. */
	CHECK(d[n - 1].downtime_ms >= (int64_t)ws.pause_ms * 9 / 10);
	CHECK(d[n - 1].downtime_ms <= (int64_t)ws.pause_ms * 11 / 10);
	bytes = ws.bytes;
	pause_ms = ws.pause_ms;

	pp.kind = POLICY_XEN_DEFAULT;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &ws, d, 64);
	CHECK_INT(d[n - 1].iteration, 5);
	CHECK(bytes < ws.bytes);
	CHECK(pause_ms <= ws.pause_ms + ws.pause_ms / 50);
}

/*
 * Auto-converge in proportion to the excess: each step scales the
 * guest's speed by the rate the link clears in the target over the rate
 * measured (here, half the link over what the counts show), at least 10
 * points a step.  The hot guest (4x the link) converges at 12%, in three
 * steps where fixed 20-point steps took four; one too busy even at the
 * floor (10x) is stopped anyway, saying that the target cannot be met.
 */
static void
test_throttle_steps(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[128];
	struct model		hot = { GIB_PAGES, 100 * MIB, 400 * MIB,
				    65536, 0, 0, 0, 0 };
	struct model		wild = { GIB_PAGES, 100 * MIB, 1000 * MIB,
				    65536, 0, 0, 0, 0 };
	unsigned int		n, i, steps[8], nsteps = 0;

	params(&pp, CONF_NONCONV_THROTTLE);
	pp.max_iterations = 100;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &hot, d, 128);
	for (i = 0; i < n; i++)
		if (d[i].throttle != 0 && nsteps < 8)
			steps[nsteps++] = d[i].throttle;
	CHECK_INT(nsteps, 3);
	CHECK(nsteps == 3 && steps[0] == 50 && steps[1] == 25 &&
	    steps[2] == 12);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(strstr(d[n - 1].reason, "within 300 ms") != NULL);
	CHECK(hot.pause_ms <= 300);
	CHECK_INT(d[n - 1].unreachable, TARGET_REACHABLE);

	nsteps = 0;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &wild, d, 128);
	for (i = 0; i < n; i++)
		if (d[i].throttle != 0 && nsteps < 8)
			steps[nsteps++] = d[i].throttle;
	CHECK(nsteps >= 1 && steps[nsteps - 1] == POLICY_THROTTLE_FLOOR);
	for (i = 1; i < nsteps; i++)
		CHECK(steps[i] < steps[i - 1]);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(strstr(d[n - 1].reason, "cannot be met at 10%") != NULL);
	CHECK_INT(d[n - 1].unreachable, TARGET_NOT_CONVERGING);
	CHECK(d[n - 1].downtime_ms > 300);
}

/*
 * The pause's fixed cost alone over the target: said before round 0,
 * with that cost as the smallest pause, in every decision after.  By
 * default the migration goes on and stops when the pause is as small as
 * it gets, never aborts; abort, if chosen, comes at once; a throttle
 * cannot help, so none is used.
 */
static void
test_fixed_cost_unreachable(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[64];
	struct model		quiet = { GIB_PAGES, 1000000000, 100 * MIB,
				    16384, 0, 0, 0, 0 };
	struct model		hot = { GIB_PAGES, 100 * MIB, 400 * MIB,
				    65536, 0, 0, 0, 0 };
	unsigned int		n, i;

	params(&pp, CONF_NONCONV_STOP_AND_COPY);
	pp.fixed_cost_ms = 400;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &quiet, d, 64);
	CHECK_INT(d[0].action, BACKEND_POLICY_CONTINUE);
	CHECK(strstr(d[0].reason, "target 300 ms cannot be met: the pause's "
	    "fixed cost alone is 400 ms") != NULL);
	CHECK(strstr(d[0].reason, "raise max-downtime") != NULL);
	CHECK_INT(d[0].min_pause_ms, 400);
	for (i = 0; i < n; i++) {
		CHECK_INT(d[i].unreachable, TARGET_FIXED_COST);
		CHECK(d[i].action != BACKEND_POLICY_ABORT);
	}
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(d[n - 1].min_pause_ms >= 400 &&
	    d[n - 1].min_pause_ms <= d[n - 1].downtime_ms);
	CHECK(d[n - 1].downtime_ms < 410);

	params(&pp, CONF_NONCONV_ABORT);
	pp.fixed_cost_ms = 400;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &quiet, d, 64);
	CHECK_INT(n, 1);
	CHECK_INT(d[0].action, BACKEND_POLICY_ABORT);
	CHECK_INT(d[0].unreachable, TARGET_FIXED_COST);
	CHECK(strstr(d[0].reason, "stays on the source") != NULL);

	params(&pp, CONF_NONCONV_THROTTLE);
	pp.fixed_cost_ms = 400;
	policy_init(&p, &pp, 0);
	n = model_run(&p, &hot, d, 64);
	for (i = 0; i < n; i++)
		CHECK_INT(d[i].throttle, 0);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(strstr(d[n - 1].reason, "stopping at the smallest pause") !=
	    NULL);
	CHECK_INT(d[n - 1].iteration, 2);
}

/*
 * Scenario 4's guest in the model: a 256 MiB hot set dirtied at 2.7x
 * the link.  The throttle reaches the target in two steps (fixed
 * 20-point steps took four), and both the prediction and what the
 * model's pause carried are within 300 ms.
 */
static void
test_throttle_reaches_target(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[128];
	struct model		busy = { GIB_PAGES, 100 * MIB, 270 * MIB,
				    65536, 0, 0, 0, 0 };
	unsigned int		n, i, nsteps = 0, last = 100;

	params(&pp, CONF_NONCONV_THROTTLE);
	policy_init(&p, &pp, 0);
	n = model_run(&p, &busy, d, 128);
	for (i = 0; i < n; i++)
		if (d[i].throttle != 0) {
			nsteps++;
			last = d[i].throttle;
		}
	CHECK(nsteps >= 1 && nsteps <= 2);
	CHECK(last > POLICY_THROTTLE_FLOOR);
	CHECK_INT(d[n - 1].action, BACKEND_POLICY_STOP_AND_COPY);
	CHECK(d[n - 1].downtime_ms > 0 && d[n - 1].downtime_ms <= 300);
	CHECK(busy.pause_ms <= 300);
	CHECK(d[n - 1].downtime_ms >= (int64_t)busy.pause_ms * 9 / 10);
	CHECK(d[n - 1].downtime_ms <= (int64_t)busy.pause_ms * 5 / 4 + 1);
	CHECK_INT(d[n - 1].unreachable, TARGET_REACHABLE);
}

/*
 * Against the model, which knows what the pause really carries (what
 * the guest dirtied during the last live send): the prediction at the
 * stop is never under it by much, and within a quarter above.  Model 2's
 * hot set saturates in a round of that length, and its first count
 * cannot tell how fast the set fills in a shorter time (an upper bound,
 * ten times the pause): rule 1 goes on past it, so the stop is
 * predicted from two counts, as for the others.
 */
static void
test_prediction_matches_pause(void)
{
	struct policy_params	pp;
	struct policy		p;
	struct policy_decision	d[64];
	struct model		m[] = {
		{ GIB_PAGES, 100 * MIB, 20 * MIB, GIB_PAGES, 0, 0, 0, 0 },
		{ GIB_PAGES, 100 * MIB, 60 * MIB, GIB_PAGES, 0, 0, 0, 0 },
		{ GIB_PAGES, 1000000000, 100 * MIB, 16384, 0, 0, 0, 0 },
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
		if (got < want * 9 / 10 || got > want * 5 / 4 + 1)
			fprintf(stderr, "  model %u: predicted %lld ms, the "
			    "pause carried %lld ms\n", i, (long long)got,
			    (long long)want);
		CHECK(got >= want * 9 / 10);
		CHECK(got <= want * 5 / 4 + 1);
		CHECK(d[n - 1].iteration >= 2);
		CHECK(m[i].pause_ms <= 300);
	}
}

UNIT_MAIN("policy_model",
    UNIT_TEST(test_converging),
    UNIT_TEST(test_working_set_minimum),
    UNIT_TEST(test_working_set_floor),
    UNIT_TEST(test_throttle_steps),
    UNIT_TEST(test_fixed_cost_unreachable),
    UNIT_TEST(test_throttle_reaches_target),
    UNIT_TEST(test_prediction_matches_pause))
