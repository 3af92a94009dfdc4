// SPDX-License-Identifier: ISC
/*
 * Unit tests for the sim backend's pre-copy loop (relocd/sim_precopy.c):
 * between two state directories, a recording policy sees the calls
 * libxenguest's send_memory_live() makes, in its order, with its
 * semantics.
 */
#include "sim_fixture.h"

/*
 * A recording policy: each call's stats.  In the calls with -1 (after a
 * live send, before the bitmap is read) it waits for the guest to write
 * 2048 pages more, which in a hot set of 1024 dirties far more than 50
 * (xen-default's threshold) for the next count, however loaded the
 * machine; and it stops as told.
 */
struct recorder {
	unsigned int	 calls;
	unsigned int	 iteration[32];
	long		 dirty[32];
	uint64_t	 written[32];
	unsigned int	 stop_at;	/* at this iteration's count call */
	int		 xen_default;	/* decide by libxenguest's rule */
	struct sim_ctl	*ctl;		/* the guest, to wait for its writes */
};

static int
recorder_policy(const struct backend_precopy_stats *st, void *data)
{
	struct recorder		*r = data;

	if (r->calls < 32) {
		r->iteration[r->calls] = st->iteration;
		r->dirty[r->calls] = st->dirty_count;
		r->written[r->calls] = st->total_written;
	}
	r->calls++;
	if (st->dirty_count < 0 && r->ctl != NULL)
		CHECK(wait_advance(&r->ctl->progress, __atomic_load_n(
		    &r->ctl->progress, __ATOMIC_SEQ_CST) + 2048));
	if (r->xen_default || r->calls >= 32)
		return policy_xen_default(st);
	return st->dirty_count >= 0 && st->iteration >= r->stop_at ?
	    BACKEND_POLICY_STOP_AND_COPY : BACKEND_POLICY_CONTINUE;
}

/*
 * The sim asks the policy as libxenguest's send_memory_live() does:
 * (0, every page), send, (1, -1), read, (1, d1), send, (2, -1), ...; a
 * stop given with the count still sends that count live before the
 * suspend, and xen-default's rule ends at (5, -1) after five sends.
 */
static void
test_libxenguest_call_order(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct save_job			 job;
	struct recorder			 r;
	struct sim_ctl			*ctl;
	size_t				 len = 0;
	unsigned int			 i, pass;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "order", UUID_A, 16 * MIB, "(sim (dirty-rate "
	    "104857600) (working-set 4194304) (pattern hot))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	ctl = guest_map(&a, UUID_A, ".ctl", &len);
	CHECK(ctl != NULL);
	for (pass = 0; pass < 2; pass++) {
		CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
		memset(&r, 0, sizeof(r));
		r.ctl = ctl;
		r.stop_at = 2;
		r.xen_default = pass == 1;
		memset(&cb, 0, sizeof(cb));
		cb.precopy_policy = recorder_policy;
		cb.data = &r;
		CHECK(migrate(&a, &b, "order", BACKEND_SAVE_LIVE, &cb, &job,
		    &rres, &rerr) == 0);
		CHECK(job.rc == 0);
		/* Two calls a round after the first, -1 first. */
		CHECK_INT(r.iteration[0], 0);
		CHECK_INT(r.dirty[0], 16 * MIB / 4096);
		for (i = 1; i < r.calls && i < 32; i++) {
			CHECK_INT(r.iteration[i], (i + 1) / 2);
			CHECK(i % 2 == 1 ? r.dirty[i] == -1 : r.dirty[i] > 0);
			/* A send between a count and the next -1 only. */
			if (i % 2 == 1)
				CHECK(r.written[i] >= r.written[i - 1] +
				    (uint64_t)(i == 1 ? r.dirty[0] :
				    r.dirty[i - 1]) * 4096);
			else
				CHECK(r.written[i] == r.written[i - 1]);
		}
		if (pass == 0) {
			/* The stop at (2, d2) still sent d2 live. */
			CHECK_INT(r.calls, 5);
			CHECK_INT(job.res.rounds, 3);
		} else {
			CHECK_INT(r.calls, 10);
			CHECK(r.iteration[9] == 5 && r.dirty[9] == -1);
			CHECK_INT(job.res.rounds, 5);
		}
		/* It all arrived; the source runs on for the next pass. */
		check_arrived(&a, &b, UUID_A);
		destroy_checked(&b, UUID_A);
		CHECK(a.ops->resume(a.h, "order", &err) == 0);
	}
	if (ctl != NULL)
		munmap(ctl, len);
	destroy_checked(&a, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * --skip-redirtied's policy: at a round's count call, the snapshot
 * taken and nothing of it sent yet, it plays the guest writing page
 * mark (as the workload does: contents, written bit, then log-dirty),
 * before the snapshot of round 1 and again after it, and stops there.
 * Round 1's snapshot then holds the page, dirtied again: the last live
 * round must leave it out, and the final copy must bring it.
 */
struct redirty {
	struct sim_ctl	*ctl;
	uint8_t		*mem;
	uint64_t	 mark;		/* the page written */
	uint32_t	 value;		/* its contents' latest byte */
};

static void
redirty_write(struct redirty *r)
{
	uint64_t	bit = 1ULL << (r->mark % 64);

	memset(r->mem + r->mark * SIM_PAGE_SIZE, (int)++r->value,
	    SIM_PAGE_SIZE);
	__atomic_fetch_or(&sim_wbitmap(r->ctl)[r->mark / 64], bit,
	    __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&sim_bitmap(r->ctl)[r->mark / 64], bit,
	    __ATOMIC_SEQ_CST);
}

static int
redirty_policy(const struct backend_precopy_stats *st, void *data)
{
	struct redirty	*r = data;

	if (st->iteration == 0)
		return BACKEND_POLICY_CONTINUE;
	redirty_write(r);
	return st->dirty_count < 0 ? BACKEND_POLICY_CONTINUE :
	    BACKEND_POLICY_STOP_AND_COPY;
}

/*
 * An idle guest whose one page is written in the last live round: with
 * BACKEND_SAVE_SKIP_REDIRTIED that round skips it (1 skipped, none
 * sent) and the final copy carries it; without, the round sends it and
 * the final copy again.  Either way the digest verifies and the
 * destination holds the page's latest contents, as all of memory; and
 * so in each stream version (any destination reads a stream with
 * pages skipped: nothing in it changes).
 */
static void
test_skip_redirtied_last_round(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct save_job			 job;
	struct redirty			 r;
	uint8_t				*dmem;
	size_t				 clen = 0, mlen = 0, dlen = 0;
	static const unsigned int	 flags[] = {
		BACKEND_SAVE_SKIP_REDIRTIED,
		0,
		BACKEND_SAVE_SKIP_REDIRTIED | BACKEND_SAVE_ZERO_PAGES,
		BACKEND_SAVE_SKIP_REDIRTIED | BACKEND_SAVE_STREAM_V1,
	};
	unsigned int			 pass, skip;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "peek", UUID_A, 1 * MIB, "(sim (dirty-rate 0))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	memset(&r, 0, sizeof(r));
	r.ctl = guest_map(&a, UUID_A, ".ctl", &clen);
	r.mem = guest_map(&a, UUID_A, ".mem", &mlen);
	r.mark = 77;
	CHECK(r.ctl != NULL && r.mem != NULL);
	for (pass = 0; pass < sizeof(flags) / sizeof(flags[0]) &&
	    r.ctl != NULL && r.mem != NULL; pass++) {
		skip = (flags[pass] & BACKEND_SAVE_SKIP_REDIRTIED) != 0;
		CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
		memset(&cb, 0, sizeof(cb));
		cb.precopy_policy = redirty_policy;
		cb.data = &r;
		CHECK(migrate(&a, &b, "peek", BACKEND_SAVE_LIVE | flags[pass],
		    &cb, &job, &rres, &rerr) == 0);
		CHECK(job.rc == 0);
		CHECK_INT(job.res.rounds, 2);
		CHECK_INT(job.res.skipped_pages, skip);
		CHECK_INT(job.res.final_pages, 1);
		/* Round 0 every page, round 1 the page or nothing, final 1. */
		CHECK_INT(job.res.memory_sent, (256 + !skip + 1) *
		    SIM_PAGE_SIZE);
		dmem = guest_map(&b, UUID_A, ".mem", &dlen);
		CHECK(dmem != NULL && dlen == mlen);
		if (dmem != NULL) {
			CHECK_INT(dmem[r.mark * SIM_PAGE_SIZE], r.value & 0xff);
			CHECK_INT(dmem[(r.mark + 1) * SIM_PAGE_SIZE - 1],
			    r.value & 0xff);
			munmap(dmem, dlen);
		}
		check_arrived(&a, &b, UUID_A);
		destroy_checked(&b, UUID_A);
		CHECK(a.ops->resume(a.h, "peek", &err) == 0);
	}
	if (r.ctl != NULL)
		munmap(r.ctl, clen);
	if (r.mem != NULL)
		munmap(r.mem, mlen);
	destroy_checked(&a, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * At each round's count call, after its snapshot, a hot set of 1024
 * pages takes 2048 writes more: most of it is dirtied again before the
 * round reaches it.
 */
static int
hot_policy(const struct backend_precopy_stats *st, void *data)
{
	struct sim_ctl	*ctl = data;

	if (st->dirty_count < 0)
		return BACKEND_POLICY_CONTINUE;
	CHECK(wait_advance(&ctl->progress, __atomic_load_n(&ctl->progress,
	    __ATOMIC_SEQ_CST) + 2048));
	return st->iteration >= 2 ? BACKEND_POLICY_STOP_AND_COPY :
	    BACKEND_POLICY_CONTINUE;
}

/*
 * A busy guest migrated with BACKEND_SAVE_SKIP_REDIRTIED: pages are
 * skipped, the digest verifies, and the destination's memory and vCPU
 * are the suspended source's, byte for byte.
 */
static void
test_skip_redirtied_hot(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct save_job			 job;
	struct sim_ctl			*ctl;
	size_t				 len = 0;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "hot", UUID_A, 16 * MIB, "(sim (dirty-rate "
	    "104857600) (working-set 4194304) (pattern hot))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK((ctl = guest_map(&a, UUID_A, ".ctl", &len)) != NULL);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	memset(&cb, 0, sizeof(cb));
	cb.precopy_policy = hot_policy;
	cb.data = ctl;
	if (ctl != NULL) {
		CHECK(migrate(&a, &b, "hot", BACKEND_SAVE_LIVE |
		    BACKEND_SAVE_SKIP_REDIRTIED, &cb, &job, &rres,
		    &rerr) == 0);
		CHECK(job.rc == 0);
		CHECK_INT(job.res.rounds, 3);
		CHECK(job.res.skipped_pages > 0);
		if (getenv("TEST_SIM_VERBOSE") != NULL)
			fprintf(stderr, "  skipped %llu pages\n",
			    (unsigned long long)job.res.skipped_pages);
		check_arrived(&a, &b, UUID_A);
		destroy_checked(&b, UUID_A);
		munmap(ctl, len);
	}
	destroy_checked(&a, UUID_A);
	host_close(&a);
	host_close(&b);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_libxenguest_call_order),
		UNIT_TEST(test_skip_redirtied_last_round),
		UNIT_TEST(test_skip_redirtied_hot),
	};

	log_set_sink(log_drop);
	/* As in test_sim_stream: a reader that went away is an error. */
	signal(SIGPIPE, SIG_IGN);
	return unit_run("sim-precopy", tests, sizeof(tests) / sizeof(tests[0]));
}
