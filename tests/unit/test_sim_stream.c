// SPDX-License-Identifier: ISC
/*
 * Unit tests for the sim backend's save and restore: live and offline,
 * between two state directories (two "hosts"), under the policy, with
 * aborts, lost dirty bits, a dropped page, write errors, hostile
 * streams, both stream versions, and a stream that comes in pieces.  Timings on
 * this machine are noisy: tests check behaviour, and only upper bounds of
 * speed.
 */
#include "sim_fixture.h"
#include "trickle.h"

/*
 * The heart of it: a live migration between two hosts while the
 * workload dirties memory.  Up to four pre-copy rounds, then the final one;
 * the destination's memory is byte for byte the suspended source's,
 * its vCPU state the same, and it runs on from there.
 */
static void
test_live_migration(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct save_job			 job;
	struct script			 s;
	struct sim_ctl			*actl;
	size_t				 alen = 0;
	char				*config = NULL;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "web", UUID_A, 32 * MIB, "(sim (dirty-rate "
	    "104857600) (working-set 4194304) (pattern hot))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	actl = guest_map(&a, UUID_A, ".ctl", &alen);
	CHECK(actl != NULL && wait_advance(&actl->progress, 0));
	if (actl != NULL)
		munmap(actl, alen);
	CHECK(a.ops->describe(a.h, "web", &desc, &config, &err) == 0);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	CHECK_INT(info.state, GUEST_STATE_RESERVED);

	memset(&s, 0, sizeof(s));
	s.stop_at = 4;
	memset(&cb, 0, sizeof(cb));
	cb.precopy_policy = script_policy;
	cb.suspended = script_suspended;
	cb.data = &s;
	CHECK(migrate(&a, &b, "web", BACKEND_SAVE_LIVE, &cb, &job, &rres,
	    &rerr) == 0);
	CHECK(job.rc == 0);
	/*
	 * As libxenguest: two calls a round, the stop at (4, -1) before
	 * the bitmap is read; a round with nothing dirty sends nothing.
	 */
	CHECK_INT(s.calls, 8);
	CHECK(s.iteration[0] == 0 && s.iteration[7] == 4 && s.dirty[7] == -1);
	CHECK_INT(job.res.rounds, 1 + (s.dirty[2] > 0) + (s.dirty[4] > 0) +
	    (s.dirty[6] > 0));
	CHECK_INT(s.dirty[0], 32 * MIB / 4096);	/* round 0: everything */
	CHECK(job.res.bytes > 32 * MIB && job.res.bytes == rres.bytes);
	CHECK(job.res.suspend_ms == s.suspended_ms && s.suspended_ms != 0);
	/* The source's parts of the pause, all measured; the rest not. */
	CHECK_INT(job.res.pause.known, (1U << PAUSE_SUSPEND) |
	    (1U << PAUSE_FINAL) | (1U << PAUSE_STATE) | (1U << PAUSE_DIGEST) |
	    (1U << PAUSE_RELEASE));
	CHECK(rres.suspend_ms == job.res.suspend_ms);
	check_arrived(&a, &b, UUID_A);
	CHECK(b.ops->unpause(b.h, "web", &err) == -1 &&
	    err.code == BE_BAD_STATE);
	free(config);
	destroy_checked(&a, UUID_A);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * There and back again, with the real policy through policy_run: the
 * guest that arrived migrates back, and the glue's decisions are sane.
 */
static void
test_migration_with_policy(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct policy_params		 pp;
	struct policy_run		 run;
	struct save_job			 job;
	char				*config = NULL;
	int				 leg;
	struct host			*from, *to;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "db", UUID_B, 16 * MIB, "(sim (dirty-rate 20971520) "
	    "(working-set 1048576) (pattern hot))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	policy_params_default(&pp);
	pp.max_bandwidth = 0;
	for (leg = 0; leg < 2; leg++) {
		from = leg == 0 ? &a : &b;
		to = leg == 0 ? &b : &a;
		CHECK(from->ops->describe(from->h, "db", &desc, &config,
		    &err) == 0);
		CHECK(to->ops->reserve(to->h, &desc, &info, &err) == 0);
		free(config);
		config = NULL;
		policy_run_init(&run, &pp, from->ops, from->h, "db");
		policy_run_callbacks(&run, &cb);
		CHECK(migrate(from, to, "db", BACKEND_SAVE_LIVE, &cb, &job,
		    &rres, &rerr) == 0);
		CHECK(job.rc == 0);
		CHECK_INT(run.last.action, BACKEND_POLICY_STOP_AND_COPY);
		CHECK(run.last.reason[0] != '\0');
		CHECK(run.last.bandwidth > 0);
		CHECK(job.res.rounds >= 1);
		destroy_checked(from, UUID_B);
		CHECK(to->ops->unpause(to->h, "db", &err) == 0);
	}
	destroy_checked(&a, UUID_B);
	host_close(&a);
	host_close(&b);
}

/* Collects the throttle steps a policy_run asked for. */
struct steps {
	unsigned int	pct[16];
	unsigned int	n;
};

static void
steps_progress(const struct policy_decision *d,
    const struct backend_precopy_stats *st, void *user)
{
	struct steps	*s = user;

	(void)st;
	if (d->throttle != 0 && s->n < 16)
		s->pct[s->n++] = d->throttle;
}

/*
 * Auto-converge for real: a hot set far faster than a capped link.  The
 * policy throttles the source guest (a first step of at least
 * POLICY_THROTTLE_STEP_MIN points, as far as the excess asks, never
 * under the floor), the writer is paced to the cap, the guest arrives
 * intact and unthrottled.  How many steps come after the first, and the
 * first's size (the measured rates), depend on the machine's load, so
 * only its bounds are checked.
 */
static void
test_throttle_mode_migration(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct policy_params		 pp;
	struct policy_run		 run;
	struct save_job			 job;
	struct steps			 steps;
	struct sim_ctl			*ctl;
	size_t				 len = 0;
	uint64_t			 t0, us;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "hot", UUID_A, 2 * MIB, "(sim (dirty-rate 67108864) "
	    "(working-set 524288) (pattern hot))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	policy_params_default(&pp);
	pp.nonconvergence = CONF_NONCONV_THROTTLE;
	pp.max_downtime_ms = 20;
	pp.max_bandwidth = 8000000;
	policy_run_init(&run, &pp, a.ops, a.h, "hot");
	policy_run_callbacks(&run, &cb);
	memset(&steps, 0, sizeof(steps));
	run.progress = steps_progress;
	run.user = &steps;
	t0 = util_now_us();
	CHECK(migrate(&a, &b, "hot", BACKEND_SAVE_LIVE, &cb, &job, &rres,
	    &rerr) == 0);
	us = util_now_us() - t0;
	CHECK(job.rc == 0);
	CHECK(steps.n >= 1 &&
	    steps.pct[0] <= 100 - POLICY_THROTTLE_STEP_MIN &&
	    steps.pct[0] >= POLICY_THROTTLE_FLOOR);
	CHECK(run.throttled);
	/* Paced: no faster than the cap allows after the first write. */
	CHECK(us >= (job.res.bytes - SIM_BATCH_PAGES_MAX * 4096 - 4096) *
	    1000000 / pp.max_bandwidth);
	if ((ctl = guest_map(&a, UUID_A, ".ctl", &len)) != NULL) {
		CHECK(steps.n >= 1 && ctl->throttle <= steps.pct[0]);
		munmap(ctl, len);
	}
	if (getenv("TEST_SIM_VERBOSE") != NULL)
		fprintf(stderr, "  %u steps, last %u%%, %s\n", steps.n,
		    steps.n ? steps.pct[steps.n - 1] : 100, run.last.reason);
	check_arrived(&a, &b, UUID_A);
	destroy_checked(&a, UUID_A);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/* Offline: suspend, everything once, to a file; restore from it. */
static void
test_offline_save_to_file(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_save_result	 res, res2;
	struct backend_restore_result	 rres;
	struct sim_ctl			*actl = NULL;
	size_t				 alen = 0;
	char				 path[128];
	uint64_t			 hb;
	int				 fd;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "batch", UUID_A, 16 * MIB,
	    "(sim (dirty-rate 52428800) (pattern uniform))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	actl = guest_map(&a, UUID_A, ".ctl", &alen);
	CHECK(actl != NULL && wait_advance(&actl->progress, 0));
	snprintf(path, sizeof(path), "%s/saved-image", b.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1);
	CHECK(a.ops->save(a.h, "batch", fd, 0, NULL, &res, &err) == 0);
	CHECK_INT(res.rounds, 0);
	CHECK_INT(res.final_pages, 16 * MIB / 4096);
	CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)res.bytes);
	CHECK(a.ops->lookup(a.h, "batch", &info, &err) == 0 &&
	    info.state == GUEST_STATE_SUSPENDED);
	/* A suspended guest cannot be saved again. */
	CHECK(a.ops->save(a.h, "batch", fd, 0, NULL, &res2, &err) == -1 &&
	    err.code == BE_BAD_STATE);

	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(b.ops->restore(b.h, UUID_A, fd, -1, &rres, &err) == 0);
	CHECK(rres.bytes == res.bytes);
	close(fd);
	unlink(path);
	check_arrived(&a, &b, UUID_A);
	/* suspend_cancel: the source runs on too (a copy, in this test). */
	CHECK(a.ops->resume(a.h, "batch", &err) == 0);
	if (actl != NULL) {
		hb = __atomic_load_n(&actl->heartbeat, __ATOMIC_SEQ_CST);
		CHECK(wait_advance(&actl->heartbeat, hb));
		munmap(actl, alen);
	}
	CHECK(a.ops->lookup(a.h, "batch", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RUNNING);
	destroy_checked(&a, UUID_A);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * The policy aborts mid-way: save() fails with BE_ABORTED and the
 * source runs on, log-dirty off; the destination sees a cut stream and
 * goes back to reserved, to be destroyed without a trace.  Meanwhile a
 * second save and a resume of the busy guest are refused.
 */
static void
test_policy_abort(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct save_job			 job;
	struct script			 s;
	struct sim_ctl			*actl;
	size_t				 alen;
	uint64_t			 hb;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "busy", UUID_A, 16 * MIB,
	    "(sim (dirty-rate 104857600) (pattern uniform))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	memset(&s, 0, sizeof(s));
	s.stop_at = 100;
	s.abort_at = 2;
	s.host = &a;
	s.guest = "busy";
	memset(&cb, 0, sizeof(cb));
	cb.precopy_policy = script_policy;
	cb.data = &s;
	CHECK(migrate(&a, &b, "busy", BACKEND_SAVE_LIVE, &cb, &job, &rres,
	    &rerr) == -1);
	CHECK(job.rc == -1 && job.err.code == BE_ABORTED);
	CHECK_INT(job.res.rounds, 2);
	CHECK_INT(s.second_save, BE_BAD_STATE);
	CHECK_INT(s.resume_code, BE_BAD_STATE);
	CHECK_INT(rerr.code, BE_STREAM);
	CHECK(a.ops->lookup(a.h, "busy", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RUNNING);
	CHECK(b.ops->lookup(b.h, "busy", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RESERVED);
	actl = guest_map(&a, UUID_A, ".ctl", &alen);
	CHECK(actl != NULL);
	if (actl != NULL) {
		CHECK_INT(actl->logdirty, 0);
		hb = __atomic_load_n(&actl->heartbeat, __ATOMIC_SEQ_CST);
		CHECK(wait_advance(&actl->heartbeat, hb));
		munmap(actl, alen);
	}
	destroy_checked(&b, UUID_A);
	destroy_checked(&a, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * The digest does not trust log-dirty: pages the guest wrote but whose
 * log-dirty bits were lost never reach the destination, and restore()
 * says so.
 */
static void
test_lost_dirty_pages_are_caught(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct save_job			 job;
	struct script			 s;
	size_t				 len = 0;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "leaky", UUID_A, 16 * MIB,
	    "(sim (dirty-rate 52428800) (pattern uniform))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	memset(&s, 0, sizeof(s));
	s.stop_at = 100;
	s.lose_dirty = guest_map(&a, UUID_A, ".ctl", &len);
	CHECK(s.lose_dirty != NULL);
	memset(&cb, 0, sizeof(cb));
	cb.precopy_policy = script_policy;
	cb.data = &s;
	if (s.lose_dirty != NULL) {
		CHECK(migrate(&a, &b, "leaky", BACKEND_SAVE_LIVE, &cb, &job,
		    &rres, &rerr) == -1);
		/* The source may finish, or find the reader gone. */
		CHECK(job.rc == 0 || job.err.code == BE_IO);
		CHECK_INT(rerr.code, BE_DIGEST);
		munmap(s.lose_dirty, len);
	}
	CHECK(b.ops->lookup(b.h, "leaky", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RESERVED);
	destroy_checked(&a, UUID_A);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/* A reader that takes 2 MiB of a stream and hangs up. */
static void *
hangup_thread(void *arg)
{
	static uint8_t	buf[65536];
	int		fd = *(int *)arg;
	size_t		got = 0;
	ssize_t		r;

	while (got < 2 * MIB && (r = read(fd, buf, sizeof(buf))) > 0)
		got += (size_t)r;
	close(fd);
	return NULL;
}

/* Saves guest into a pipe whose reader hangs up; returns the error code. */
static int
save_to_hangup(struct host *a, const char *guest, unsigned int flags)
{
	struct backend_save_result	res;
	struct backend_error		err;
	pthread_t			t;
	int				fds[2], rc;

	if (pipe(fds) == -1)
		return -2;
	if (pthread_create(&t, NULL, hangup_thread, &fds[0]) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -2;
	}
	err.code = BE_OK;
	rc = a->ops->save(a->h, guest, fds[1], flags, NULL, &res, &err);
	pthread_join(t, NULL);
	close(fds[1]);
	return rc == 0 ? BE_OK : err.code;
}

/*
 * The reader goes away: live, the guest runs on as it was, log-dirty
 * off; offline (suspended first), it stays suspended for resume().
 */
static void
test_write_errors(void)
{
	struct host		 a;
	struct guest_desc	 desc;
	struct guest_info	 info;
	struct backend_error	 err;
	struct sim_ctl		*ctl;
	size_t			 len = 0;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "cut", UUID_A, 16 * MIB,
	    "(sim (dirty-rate 52428800) (pattern uniform))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	ctl = guest_map(&a, UUID_A, ".ctl", &len);
	CHECK(ctl != NULL);
	if (ctl != NULL) {
		CHECK_INT(save_to_hangup(&a, "cut", BACKEND_SAVE_LIVE), BE_IO);
		CHECK_INT(ctl->state, GUEST_STATE_RUNNING);
		CHECK_INT(ctl->logdirty, 0);
		CHECK(wait_advance(&ctl->heartbeat, ctl->heartbeat));
		CHECK_INT(save_to_hangup(&a, "cut", 0), BE_IO);
		CHECK_INT(ctl->state, GUEST_STATE_SUSPENDED);
		CHECK(a.ops->resume(a.h, "cut", &err) == 0);
		CHECK_INT(ctl->state, GUEST_STATE_RUNNING);
		CHECK(wait_advance(&ctl->heartbeat, ctl->heartbeat));
		munmap(ctl, len);
	}
	destroy_checked(&a, UUID_A);
	host_close(&a);
}

/* An offline save of a fresh guest "tiny", which is then destroyed. */
static uint8_t *
image_make(struct host *a, const struct guest_desc *desc, unsigned int flags,
    size_t *len_r)
{
	struct backend_save_result	 res;
	uint8_t				*img;

	img = image_save(a, desc, flags, &res, len_r);
	destroy_checked(a, UUID_A);
	return img;
}

/* Header and record fields that restore() must refuse. */
static void
corrupt_fields(struct host *b, const uint8_t *img, uint8_t *bad, size_t len)
{
	static const struct {
		size_t		off;
		uint32_t	val;
	} fields[] = {
		{ 0, 0x44434c58 },	/* magic "XLCD..." */
		{ 8, 4 },		/* version: later than ours */
		{ 12, 8192 },		/* page size */
		{ 16, 512 },		/* memory pages */
		{ 28, 1 },		/* reserved */
		{ 32, 9 },		/* record type */
		{ 36, 0xffffffff },	/* record length */
		{ 40, 0 },		/* PAGES count 0 */
		{ 40, 257 },		/* PAGES count over the bound */
		{ 44, 1 },		/* PAGES reserved */
		{ 48 + 8 * 3, 256 },	/* a page number past the end */
		{ 48 + 8 * 3 + 4, 1 },	/* a page number past 2^32 */
	};
	size_t	i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memcpy(bad, img, len);
		memcpy(bad + fields[i].off, &fields[i].val, 4);
		CHECK_INT(restore_buf(b, bad, len, NULL), BE_STREAM);
	}
	/* END right after the header, before VCPU and DIGEST. */
	memcpy(bad, img, 32);
	memcpy(bad + 32, img + len - 8, 8);
	CHECK_INT(restore_buf(b, bad, 40, NULL), BE_STREAM);
}

/*
 * Hostile and broken streams: every one is refused with BE_STREAM or
 * BE_DIGEST, leaves the reserved guest reserved (so the next attempt
 * can use it), and the intact stream still restores at the end.
 */
static void
test_corrupt_streams(void)
{
	struct host		 a, b;
	struct guest_desc	 desc;
	struct guest_info	 info;
	struct backend_error	 err;
	uint8_t			*img, *bad;
	size_t			 len = 0, i, cut;
	unsigned int		 seed = 7;
	int			 code;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 1 * MIB, NULL);
	img = image_make(&a, &desc, 0, &len);
	bad = malloc(len);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	if (img == NULL || bad == NULL)
		goto out;
	/* One byte of page 7 changed: only the digest can tell. */
	memcpy(bad, img, len);
	bad[32 + 16 + 256 * 8 + 4096 * 7 + 100] ^= 0x01;
	CHECK_INT(restore_buf(&b, bad, len, NULL), BE_DIGEST);
	/* Truncated anywhere, even one byte short of the end. */
	for (cut = 0; cut < len; cut += len / 13 + 1)
		CHECK_INT(restore_buf(&b, img, cut, NULL), BE_STREAM);
	CHECK_INT(restore_buf(&b, img, len - 1, NULL), BE_STREAM);
	corrupt_fields(&b, img, bad, len);
	/* Random bytes changed: refused, or harmless (vCPU, timestamp). */
	for (i = 0; i < 40; i++) {
		memcpy(bad, img, len);
		bad[(size_t)rand_r(&seed) % len] ^= (uint8_t)(1 +
		    rand_r(&seed) % 255);
		code = restore_buf(&b, bad, len, NULL);
		CHECK(code == BE_DIGEST || code == BE_STREAM || code == BE_OK);
		if (code == BE_OK) {
			destroy_checked(&b, UUID_A);
			CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
		}
	}
	CHECK(b.ops->lookup(b.h, "tiny", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RESERVED);
	CHECK_INT(restore_buf(&b, img, len, NULL), BE_OK);
	CHECK(b.ops->lookup(b.h, "tiny", &info, &err) == 0 &&
	    info.state == GUEST_STATE_PAUSED);
out:
	free(img);
	free(bad);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/* Offsets in a stream of one-MiB PAGES records (256 pages each). */
#define REC_LEN		(8 + 8 + 256 * 8 + 256 * 4096)
#define REC_OFF(r)	(32 + (size_t)(r) * REC_LEN)

/*
 * One page dropped mid-stream, the record and its lengths made whole
 * again, as a relay that lost a page would: only the digest can tell,
 * and restore() refuses it.
 */
static void
test_dropped_page_fails_digest(void)
{
	struct host		 a, b;
	struct guest_desc	 desc;
	struct guest_info	 info;
	struct backend_error	 err;
	uint8_t			*img, *bad = NULL, *rec;
	size_t			 len = 0, k = 100, off = REC_OFF(2);

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 4 * MIB, NULL);
	img = image_make(&a, &desc, 0, &len);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	if (img == NULL || (bad = malloc(len)) == NULL)
		goto out;
	/* Record 2 of 4, page k of 256: its number, then its contents. */
	rec = bad + off;
	memcpy(bad, img, off + 16 + 8 * k);
	memcpy(rec + 16 + 8 * k, img + off + 16 + 8 * (k + 1),
	    8 * (255 - k) + 4096 * k);
	memcpy(rec + 16 + 8 * 255 + 4096 * k, img + off + 16 + 8 * 256 +
	    4096 * (k + 1), len - (off + 16 + 8 * 256 + 4096 * (k + 1)));
	memcpy(rec + 4, &(uint32_t){ 8 + 255 * (8 + 4096) }, 4);
	memcpy(rec + 8, &(uint32_t){ 255 }, 4);
	CHECK_INT(restore_buf(&b, bad, len - 8 - 4096, NULL), BE_DIGEST);
	CHECK(b.ops->lookup(b.h, "tiny", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RESERVED);
	/* The same stream whole restores. */
	CHECK_INT(restore_buf(&b, img, len, NULL), BE_OK);
out:
	free(img);
	free(bad);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * Version 2 by default, version 1 for relocd 0.1.0 (protocol 1), told
 * apart by the header and the DIGEST record's length; restore() reads
 * both.
 */
static void
test_stream_versions(void)
{
	static const struct {
		unsigned int	flags;
		uint32_t	version, digest_len;
	} v[] = {
		{ 0, 2, 32 },
		{ BACKEND_SAVE_STREAM_V1, 1, 40 },
	};
	struct host		 a, b;
	struct guest_desc	 desc;
	struct guest_info	 info;
	struct backend_error	 err;
	uint8_t			*img;
	size_t			 len = 0, i, dig;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 1 * MIB, NULL);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		img = image_make(&a, &desc, v[i].flags, &len);
		CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
		if (img == NULL || len != REC_OFF(1) + 8 + 56 + 8 +
		    v[i].digest_len + 8) {
			CHECK(0);
			free(img);
			break;
		}
		dig = REC_OFF(1) + 8 + 56;
		CHECK_INT(sim_get32(img + 8), v[i].version);
		CHECK_INT(sim_get32(img + dig), 3);
		CHECK_INT(sim_get32(img + dig + 4), v[i].digest_len);
		CHECK_INT(restore_buf(&b, img, len, NULL), BE_OK);
		free(img);
		destroy_checked(&b, UUID_A);
	}
	host_close(&a);
	host_close(&b);
}

/* A stream that arrives a little at a time lands whole. */
static void
test_restore_in_pieces(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_restore_result	 res;
	struct trickle			 t;
	pthread_t			 th;
	uint8_t				*img;
	size_t				 len = 0;
	int				 fds[2] = { -1, -1 };

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 2 * MIB, NULL);
	img = image_make(&a, &desc, 0, &len);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	if (img != NULL && pipe(fds) == 0) {
		(void)fcntl(fds[1], F_SETPIPE_SZ, 4096);
		t.fd = fds[1];
		t.buf = img;
		t.len = len;
		CHECK(pthread_create(&th, NULL, trickle_run, &t) == 0);
		CHECK(b.ops->restore(b.h, UUID_A, fds[0], -1, &res, &err) == 0);
		CHECK(res.bytes == len);
		/* First, so that a writer left blocked by a failure ends. */
		close(fds[0]);
		pthread_join(th, NULL);
	} else
		CHECK(0);
	free(img);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_live_migration),
		UNIT_TEST(test_migration_with_policy),
		UNIT_TEST(test_throttle_mode_migration),
		UNIT_TEST(test_offline_save_to_file),
		UNIT_TEST(test_policy_abort),
		UNIT_TEST(test_lost_dirty_pages_are_caught),
		UNIT_TEST(test_write_errors),
		UNIT_TEST(test_corrupt_streams),
		UNIT_TEST(test_dropped_page_fails_digest),
		UNIT_TEST(test_stream_versions),
		UNIT_TEST(test_restore_in_pieces),
	};

	/* Stale-guest notices and the like are expected here. */
	log_set_sink(log_drop);
	/* A save whose reader went away must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return unit_run("sim-stream", tests, sizeof(tests) / sizeof(tests[0]));
}
