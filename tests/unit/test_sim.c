// SPDX-License-Identifier: ISC
/*
 * Unit tests for the sim backend: guests as processes, live and offline
 * save/restore between two state directories (two "hosts"), refusals,
 * aborts, hostile streams and the throttle.  Each test uses fresh state
 * directories under /dev/shm and small guests, and checks that it leaves
 * no guest process and no guest file behind.  Timings on this machine
 * are noisy: tests check behaviour, and only upper bounds of speed.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "conf.h"
#include "log.h"
#include "policy.h"
#include "sim.h"
#include "unit.h"
#include "util.h"

#define MIB		(1024ULL * 1024)
#define UUID_A		"0b5d1a52-6e8e-4b1c-9a0f-2d1c3e4f5a61"
#define UUID_B		"0b5d1a52-6e8e-4b1c-9a0f-2d1c3e4f5a62"
#define WAIT_MS		5000

struct host {
	char				 dir[64];
	const struct backend_ops	*ops;
	void				*h;
};

static void
sleep_ms(unsigned int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static uint64_t
now_ms(void)
{
	return sim_now_us() / 1000;
}

static int
host_open(struct host *host)
{
	struct backend_error	err;

	memset(host, 0, sizeof(*host));
	snprintf(host->dir, sizeof(host->dir), "/dev/shm/relocd-sim.XXXXXX");
	if (mkdtemp(host->dir) == NULL)
		return -1;
	host->ops = backend_get(CONF_BACKEND_SIM);
	if (host->ops->open(host->dir, &host->h, &err) == -1) {
		fprintf(stderr, "  open %s: %s\n", host->dir, err.msg);
		return -1;
	}
	return 0;
}

/* Guest files (.ctl, .mem) left in a host's directory. */
static int
host_guest_files(const struct host *host)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 len;
	int		 n = 0;

	if ((d = opendir(host->dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 4 && (strcmp(de->d_name + len - 4, ".ctl") == 0 ||
		    strcmp(de->d_name + len - 4, ".mem") == 0))
			n++;
	}
	closedir(d);
	return n;
}

/* Whether the test left guests behind; destroys them, removes the dir. */
static void
host_close(struct host *host)
{
	struct backend_error	 err;
	struct guest_info	*guests = NULL;
	size_t			 n = 0, i;
	char			 path[128];
	static const char *const files[] = { "host-memory", "lock",
	    "next-domid" };

	if (host->h == NULL)
		return;
	CHECK(host->ops->list(host->h, &guests, &n, &err) == 0);
	CHECK_INT(n, 0);
	for (i = 0; i < n; i++)
		host->ops->destroy(host->h, guests[i].uuid, &err);
	free(guests);
	CHECK_INT(host_guest_files(host), 0);
	host->ops->close(host->h);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", host->dir, files[i]);
		unlink(path);
	}
	CHECK(rmdir(host->dir) == 0);
	host->h = NULL;
}

static void
desc_init(struct guest_desc *desc, const char *name, const char *uuid,
    uint64_t memory, const char *config)
{
	memset(desc, 0, sizeof(*desc));
	strlcpy(desc->info.name, name, sizeof(desc->info.name));
	strlcpy(desc->info.uuid, uuid, sizeof(desc->info.uuid));
	desc->info.type = GUEST_TYPE_SIM;
	desc->info.memory_bytes = memory;
	desc->info.vcpus = 1;
	desc->config = config;
}

/* Maps a guest file read-write (tests look inside, as a debugger would). */
static void *
guest_map(const struct host *host, const char *uuid, const char *suffix,
    size_t *len_r)
{
	struct stat	 st;
	char		 path[128];
	void		*m;
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s%s", host->dir, uuid, suffix);
	if ((fd = open(path, O_RDWR)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return NULL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	close(fd);
	*len_r = (size_t)st.st_size;
	return m == MAP_FAILED ? NULL : m;
}

/* A process that is gone, or a zombie nobody reaped yet, is not running. */
static int
pid_running(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0')
		return 0;
	return p[2] != 'Z' && p[2] != 'X';
}

static int
wait_pid_gone(pid_t pid)
{
	uint64_t	deadline = now_ms() + WAIT_MS;

	while (pid_running(pid) && now_ms() < deadline)
		sleep_ms(5);
	return !pid_running(pid);
}

/* Waits until *counter passes from; tests want "advances", not "fast". */
static int
wait_advance(const uint64_t *counter, uint64_t from)
{
	uint64_t	deadline = now_ms() + WAIT_MS;

	while (__atomic_load_n(counter, __ATOMIC_SEQ_CST) <= from &&
	    now_ms() < deadline)
		sleep_ms(2);
	return __atomic_load_n(counter, __ATOMIC_SEQ_CST) > from;
}

/* Destroys a guest and checks that its process and files are gone. */
static void
destroy_checked(struct host *host, const char *uuid)
{
	struct backend_error	 err;
	struct sim_ctl		*ctl;
	size_t			 len;
	char			 path[128];
	pid_t			 pid = 0;

	if ((ctl = guest_map(host, uuid, ".ctl", &len)) != NULL) {
		pid = ctl->pid;
		munmap(ctl, len);
	}
	CHECK(pid > 0);
	CHECK(host->ops->destroy(host->h, uuid, &err) == 0);
	CHECK(pid > 0 && wait_pid_gone(pid));
	CHECK(host->ops->lookup(host->h, uuid, &(struct guest_info){ 0 },
	    &err) == -1 && err.code == BE_NOT_FOUND);
	snprintf(path, sizeof(path), "%s/%s.ctl", host->dir, uuid);
	CHECK(access(path, F_OK) == -1 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/%s.mem", host->dir, uuid);
	CHECK(access(path, F_OK) == -1 && errno == ENOENT);
}

/* A scripted policy: continue until stop_at (or abort at abort_at). */
struct script {
	unsigned int	 stop_at;
	unsigned int	 abort_at;	/* 0: never */
	unsigned int	 calls;
	unsigned int	 iteration[64];
	long		 dirty[64];
	uint64_t	 suspended_ms;
	struct host	*host;		/* to poke at the guest mid-save */
	const char	*guest;
	int		 second_save;	/* error code of a concurrent save */
	int		 resume_code;	/* and of resume() mid-save */
	struct sim_ctl	*lose_dirty;	/* wipe its log-dirty bits, stop */
};

static int
script_policy(const struct backend_precopy_stats *st, void *data)
{
	struct script			*s = data;
	struct backend_save_result	 res;
	struct backend_error		 err;

	if (s->calls < 64) {
		s->iteration[s->calls] = st->iteration;
		s->dirty[s->calls] = st->dirty_count;
	}
	s->calls++;
	if (s->host != NULL && st->iteration == 1) {
		err.code = BE_OK;
		s->host->ops->save(s->host->h, s->guest, -1, BACKEND_SAVE_LIVE,
		    NULL, &res, &err);
		s->second_save = err.code;
		err.code = BE_OK;
		s->host->ops->resume(s->host->h, s->guest, &err);
		s->resume_code = err.code;
	}
	if (s->abort_at != 0 && st->iteration >= s->abort_at)
		return BACKEND_POLICY_ABORT;
	if (s->lose_dirty != NULL && st->iteration == 1) {
		/* A hypervisor bug: the guest writes, log-dirty forgets. */
		uint64_t	 i, p0 = s->lose_dirty->progress;

		wait_advance(&s->lose_dirty->progress, p0 + 64);
		for (i = 0; i < s->lose_dirty->bitmap_words; i++)
			__atomic_store_n(&sim_bitmap(s->lose_dirty)[i], 0,
			    __ATOMIC_SEQ_CST);
		return BACKEND_POLICY_STOP_AND_COPY;
	}
	return st->iteration >= s->stop_at ? BACKEND_POLICY_STOP_AND_COPY :
	    BACKEND_POLICY_CONTINUE;
}

static void
script_suspended(uint64_t when_ms, void *data)
{
	((struct script *)data)->suspended_ms = when_ms;
}

struct save_job {
	struct host			*host;
	const char			*guest;
	int				 fd;
	unsigned int			 flags;
	const struct backend_save_callbacks *cb;
	struct backend_save_result	 res;
	struct backend_error		 err;
	int				 rc;
};

static void *
save_thread(void *arg)
{
	struct save_job	*j = arg;

	j->rc = j->host->ops->save(j->host->h, j->guest, j->fd, j->flags,
	    j->cb, &j->res, &j->err);
	close(j->fd);	/* an aborted save ends the stream */
	return NULL;
}

/*
 * Migrates guest from src to dst through a pipe: save in a thread,
 * restore here.  Returns restore()'s result; *job holds save()'s.
 */
static int
migrate(struct host *src, struct host *dst, const char *guest,
    unsigned int flags, const struct backend_save_callbacks *cb,
    struct save_job *job, struct backend_restore_result *rres,
    struct backend_error *rerr)
{
	pthread_t	t;
	int		fds[2], rc;

	if (pipe(fds) == -1)
		return -1;
	memset(job, 0, sizeof(*job));
	job->host = src;
	job->guest = guest;
	job->fd = fds[1];
	job->flags = flags;
	job->cb = cb;
	if (pthread_create(&t, NULL, save_thread, job) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	rc = dst->ops->restore(dst->h, guest, fds[0], rres, rerr);
	close(fds[0]);
	pthread_join(t, NULL);
	if (getenv("TEST_SIM_VERBOSE") != NULL)
		fprintf(stderr, "  save: %d %s; restore: %d %s\n", job->rc,
		    job->rc ? job->err.msg : "ok", rc, rc ? rerr->msg : "ok");
	return rc;
}

static void
test_names_and_validators(void)
{
	int	type;

	CHECK(guest_name_valid("web-01.example_2"));
	CHECK(!guest_name_valid(""));
	CHECK(!guest_name_valid("-rf"));
	CHECK(!guest_name_valid(".hidden"));
	CHECK(!guest_name_valid("a/b"));
	CHECK(!guest_name_valid("a b"));
	CHECK(guest_name_valid("0123456789012345678901234567890123456789"
	    "012345678901234567890123"));
	CHECK(!guest_name_valid("0123456789012345678901234567890123456789"
	    "0123456789012345678901234"));
	CHECK(guest_uuid_valid(UUID_A));
	CHECK(!guest_uuid_valid("0B5D1A52-6E8E-4B1C-9A0F-2D1C3E4F5A61"));
	CHECK(!guest_uuid_valid("0b5d1a52-6e8e-4b1c-9a0f-2d1c3e4f5a6"));
	CHECK(!guest_uuid_valid("0b5d1a52-6e8e-4b1c-9a0f-2d1c3e4f5a611"));
	CHECK(!guest_uuid_valid("0b5d1a526-e8e-4b1c-9a0f-2d1c3e4f5a61"));
	CHECK(!guest_uuid_valid("0b5d1a52-6e8e-4b1c-9a0f-2d1c3e4f5a6g"));
	CHECK(guest_type_parse("hvm", &type) == 0 && type == GUEST_TYPE_HVM);
	CHECK(guest_type_parse("sim", &type) == 0 && type == GUEST_TYPE_SIM);
	CHECK(guest_type_parse("HVM", &type) == -1);
	CHECK_STR(guest_type_name(GUEST_TYPE_PVH), "pvh");
	CHECK_STR(guest_state_name(GUEST_STATE_RESERVED), "reserved");
	CHECK_STR(guest_state_name(99), "unknown");
	CHECK_STR(backend_errcode_name(BE_DIGEST), "digest");
	CHECK(backend_get(CONF_BACKEND_SIM) != NULL);
	CHECK_STR(backend_get(CONF_BACKEND_SIM)->name, "sim");
	CHECK(backend_get(CONF_BACKEND_XEN) == NULL);
}

static void
test_config(void)
{
	struct backend_error	err;
	struct sim_params	p;
	char			buf[256];

	CHECK(sim_config_parse("(sim (dirty-rate 209715200) "
	    "(working-set 67108864) (pattern hot))", 256 * MIB, &p, &err) == 0);
	CHECK(p.dirty_rate == 209715200 && p.working_set == 64 * MIB &&
	    p.pattern == SIM_PATTERN_HOT);
	CHECK(sim_config_format(&p, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "(sim (dirty-rate 209715200) (working-set 67108864) "
	    "(pattern hot))");
	CHECK(sim_config_parse(NULL, 16 * MIB, &p, &err) == 0);
	CHECK(p.dirty_rate == 0 && p.working_set == 16 * MIB &&
	    p.pattern == SIM_PATTERN_UNIFORM);
	CHECK(sim_config_parse("(sim (pattern sequential))", 16 * MIB, &p,
	    &err) == 0 && p.pattern == SIM_PATTERN_SEQUENTIAL);
	/* Working set larger than memory, rates out of bounds, junk. */
	CHECK(sim_config_parse("(sim (working-set 67108864))", 16 * MIB, &p,
	    &err) == -1 && err.code == BE_UNSUPPORTED);
	CHECK(strstr(err.msg, "working-set is too large") != NULL);
	CHECK(sim_config_parse("(sim (dirty-rate -1))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (dirty-rate 99999999999999999999))",
	    16 * MIB, &p, &err) == -1);
	CHECK(sim_config_parse("(sim (pattern zigzag))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (colour blue))", 16 * MIB, &p,
	    &err) == -1 && strstr(err.msg, "unknown key") != NULL);
	CHECK(sim_config_parse("(sim (pattern hot) (pattern hot))", 16 * MIB,
	    &p, &err) == -1 && strstr(err.msg, "twice") != NULL);
	CHECK(sim_config_parse("(xen (pattern hot))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (pattern hot)) (sim)", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (pattern 'hot\\x00x'))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (dirty-rate 1 2))", 16 * MIB, &p,
	    &err) == -1);
	CHECK(sim_config_parse("(sim (dirty-rate", 16 * MIB, &p, &err) == -1);
}

static void
test_create_list_destroy(void)
{
	struct host		 a;
	struct guest_desc	 desc, d2;
	struct guest_info	 info, *list = NULL;
	struct backend_error	 err;
	struct sim_ctl		*ctl;
	char			*config = NULL;
	size_t			 n = 0, len;
	uint64_t		 hb;
	uint32_t		 domid;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "alpha", UUID_A, 16 * MIB,
	    "(sim (dirty-rate 10485760) (pattern sequential))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK_INT(info.state, GUEST_STATE_RUNNING);
	CHECK(info.domid >= 1);
	CHECK(a.ops->list(a.h, &list, &n, &err) == 0 && n == 1);
	CHECK(n == 1 && strcmp(list[0].name, "alpha") == 0);
	free(list);
	CHECK(a.ops->lookup(a.h, "alpha", &info, &err) == 0);
	CHECK_STR(info.uuid, UUID_A);
	CHECK(a.ops->lookup(a.h, UUID_A, &info, &err) == 0);
	CHECK_STR(info.name, "alpha");
	CHECK(a.ops->lookup(a.h, "beta", &info, &err) == -1 &&
	    err.code == BE_NOT_FOUND);
	CHECK(a.ops->lookup(a.h, "../etc", &info, &err) == -1);
	CHECK(a.ops->describe(a.h, "alpha", &d2, &config, &err) == 0);
	CHECK_STR(d2.config, "(sim (dirty-rate 10485760) (working-set "
	    "16777216) (pattern sequential))");
	CHECK_INT(d2.info.memory_bytes, 16 * MIB);
	free(config);
	/* The guest runs: its heartbeat advances, it has a process name. */
	ctl = guest_map(&a, UUID_A, ".ctl", &len);
	CHECK(ctl != NULL);
	if (ctl != NULL) {
		hb = __atomic_load_n(&ctl->heartbeat, __ATOMIC_SEQ_CST);
		CHECK(wait_advance(&ctl->heartbeat, hb));
		CHECK(wait_advance(&ctl->progress, 0));
		munmap(ctl, len);
	}
	/* A second create without a uuid gets one, and its own domid. */
	domid = info.domid;
	desc_init(&desc, "beta", "", 16 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK(guest_uuid_valid(info.uuid));
	CHECK(info.domid >= 1 && info.domid != domid);
	destroy_checked(&a, info.uuid);
	destroy_checked(&a, UUID_A);
	host_close(&a);
}

static void
unmap_all(void **maps, const size_t *lens, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (maps[i] != NULL)
			munmap(maps[i], lens[i]);
}

/*
 * The destination's copy is the suspended source's, byte for byte and
 * vCPU state too; unpaused, it runs on from the source's counters.
 */
static void
check_arrived(struct host *src, struct host *dst, const char *uuid)
{
	struct backend_error	 err;
	struct sim_ctl		*sc, *dc;
	void			*m[4];
	size_t			 l[4] = { 0, 0, 0, 0 };
	uint64_t		 hb;

	m[0] = sc = guest_map(src, uuid, ".ctl", &l[0]);
	m[1] = dc = guest_map(dst, uuid, ".ctl", &l[1]);
	m[2] = guest_map(src, uuid, ".mem", &l[2]);
	m[3] = guest_map(dst, uuid, ".mem", &l[3]);
	CHECK(sc != NULL && dc != NULL && m[2] != NULL && m[3] != NULL &&
	    l[2] == l[3]);
	if (sc != NULL && dc != NULL && m[2] != NULL && m[3] != NULL &&
	    l[2] == l[3]) {
		CHECK_INT(sc->state, GUEST_STATE_SUSPENDED);
		CHECK_INT(dc->state, GUEST_STATE_PAUSED);
		/* Suspended and paused guests do not tick. */
		hb = sc->heartbeat;
		CHECK_INT(sc->heartbeat, sc->vcpu.heartbeat);
		sleep_ms(20);
		CHECK_INT(sc->heartbeat, hb);
		CHECK_INT(dc->heartbeat, sc->vcpu.heartbeat);
		CHECK_INT(dc->throttle, 100);
		CHECK_INT(sc->logdirty, 0);
		CHECK(memcmp(m[2], m[3], l[2]) == 0);
		CHECK(memcmp(&sc->vcpu, &dc->vcpu, sizeof(sc->vcpu)) == 0);
		CHECK(sc->params.dirty_rate == 0 || sc->vcpu.pages_written > 0);
		CHECK(dst->ops->unpause(dst->h, uuid, &err) == 0);
		CHECK(wait_advance(&dc->heartbeat, sc->vcpu.heartbeat));
		if (sc->params.dirty_rate > 0)
			CHECK(wait_advance(&dc->progress,
			    sc->vcpu.pages_written));
	}
	unmap_all(m, l, 4);
}

/*
 * The heart of it: a live migration between two hosts while the
 * workload dirties memory.  Four pre-copy rounds, then the final one;
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
	CHECK_INT(job.res.rounds, 4);
	CHECK_INT(s.calls, 5);
	CHECK(s.iteration[0] == 0 && s.iteration[4] == 4);
	CHECK_INT(s.dirty[0], 32 * MIB / 4096);	/* round 0: everything */
	CHECK(job.res.bytes > 32 * MIB && job.res.bytes == rres.bytes);
	CHECK(job.res.suspend_ms == s.suspended_ms && s.suspended_ms != 0);
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
 * policy throttles the source guest (80% first), the writer is paced to
 * the cap, the guest arrives intact and unthrottled.  How many steps
 * come after the first depends on the machine's load, so only the first
 * is checked.
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
	t0 = sim_now_us();
	CHECK(migrate(&a, &b, "hot", BACKEND_SAVE_LIVE, &cb, &job, &rres,
	    &rerr) == 0);
	us = sim_now_us() - t0;
	CHECK(job.rc == 0);
	CHECK(steps.n >= 1 && steps.pct[0] == 80);
	CHECK(run.throttled);
	/* Paced: no faster than the cap allows after the first write. */
	CHECK(us >= (job.res.bytes - SIM_BATCH_PAGES_MAX * 4096 - 4096) *
	    1000000 / pp.max_bandwidth);
	if ((ctl = guest_map(&a, UUID_A, ".ctl", &len)) != NULL) {
		CHECK(ctl->throttle <= 80);
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
	CHECK(b.ops->restore(b.h, UUID_A, fd, &rres, &err) == 0);
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

static void
test_reserve_refusals(void)
{
	struct host		 a;
	struct guest_desc	 desc;
	struct guest_info	 info;
	struct backend_error	 err;
	uint64_t		 free_mem = 0;

	setenv(SIM_HOST_MEMORY_ENV, "96M", 1);
	if (host_open(&a) == -1) {
		unsetenv(SIM_HOST_MEMORY_ENV);
		CHECK(0);
		return;
	}
	unsetenv(SIM_HOST_MEMORY_ENV);
	CHECK(a.ops->free_memory(a.h, &free_mem, &err) == 0);
	CHECK_INT(free_mem, 96 * MIB);
	desc_init(&desc, "one", UUID_A, 64 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == 0);
	desc_init(&desc, "one", UUID_B, 16 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_CLASH);
	desc_init(&desc, "two", UUID_A, 16 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_CLASH);
	desc_init(&desc, "two", UUID_B, 64 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_NO_MEMORY);
	CHECK(strstr(err.msg, "32 MiB free") != NULL);
	CHECK(a.ops->free_memory(a.h, &free_mem, &err) == 0);
	CHECK_INT(free_mem, 32 * MIB);
	/* Requests that no backend state could satisfy. */
	desc_init(&desc, "two", UUID_B, 16 * MIB, NULL);
	desc.info.type = GUEST_TYPE_PV;
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_UNSUPPORTED);
	desc_init(&desc, "two", UUID_B, 16 * MIB + 1, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_UNSUPPORTED);
	desc_init(&desc, "two/..", UUID_B, 16 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1);
	desc_init(&desc, "two", UUID_B, 16 * MIB, "(sim (pattern x))");
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == -1 &&
	    err.code == BE_UNSUPPORTED);
	/* A reserved guest is paused and cannot be unpaused or saved. */
	CHECK(a.ops->unpause(a.h, "one", &err) == -1 &&
	    err.code == BE_BAD_STATE);
	CHECK(a.ops->save(a.h, "one", -1, BACKEND_SAVE_LIVE, NULL,
	    &(struct backend_save_result){ 0 }, &err) == -1 &&
	    err.code == BE_BAD_STATE);
	desc_init(&desc, "two", UUID_B, 32 * MIB, NULL);
	CHECK(a.ops->reserve(a.h, &desc, &info, &err) == 0);
	CHECK(a.ops->free_memory(a.h, &free_mem, &err) == 0 && free_mem == 0);
	destroy_checked(&a, UUID_A);
	destroy_checked(&a, UUID_B);
	host_close(&a);
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

/* Feeds buf as a stream to restore() through a memfd; returns its code. */
static int
restore_bytes(struct host *h, const uint8_t *buf, size_t len)
{
	struct backend_restore_result	res;
	struct backend_error		err;
	int				fd, rc;

	if ((fd = memfd_create("stream", 0)) == -1)
		return -2;
	if (len > 0 && write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return -2;
	}
	lseek(fd, 0, SEEK_SET);
	err.code = BE_OK;
	rc = h->ops->restore(h->h, UUID_A, fd, &res, &err);
	close(fd);
	return rc == 0 ? BE_OK : err.code;
}

/* An offline save of a fresh 1 MiB guest, which is then destroyed. */
static uint8_t *
image_make(struct host *a, const struct guest_desc *desc, size_t *len_r)
{
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_save_result	 res;
	uint8_t				*img = NULL;
	int				 fd;

	CHECK(a->ops->create(a->h, desc, &info, &err) == 0);
	fd = memfd_create("image", 0);
	CHECK(a->ops->save(a->h, "tiny", fd, 0, NULL, &res, &err) == 0);
	*len_r = (size_t)res.bytes;
	if ((img = malloc(*len_r)) != NULL &&
	    pread(fd, img, *len_r, 0) != (ssize_t)*len_r) {
		free(img);
		img = NULL;
	}
	CHECK(img != NULL);
	close(fd);
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
		{ 8, 2 },		/* version */
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
		CHECK_INT(restore_bytes(b, bad, len), BE_STREAM);
	}
	/* END right after the header, before VCPU and DIGEST. */
	memcpy(bad, img, 32);
	memcpy(bad + 32, img + len - 8, 8);
	CHECK_INT(restore_bytes(b, bad, 40), BE_STREAM);
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
	img = image_make(&a, &desc, &len);
	bad = malloc(len);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	if (img == NULL || bad == NULL)
		goto out;
	/* One byte of page 7 changed: only the digest can tell. */
	memcpy(bad, img, len);
	bad[32 + 16 + 256 * 8 + 4096 * 7 + 100] ^= 0x01;
	CHECK_INT(restore_bytes(&b, bad, len), BE_DIGEST);
	/* Truncated anywhere, even one byte short of the end. */
	for (cut = 0; cut < len; cut += len / 13 + 1)
		CHECK_INT(restore_bytes(&b, img, cut), BE_STREAM);
	CHECK_INT(restore_bytes(&b, img, len - 1), BE_STREAM);
	corrupt_fields(&b, img, bad, len);
	/* Random bytes changed: refused, or harmless (vCPU, timestamp). */
	for (i = 0; i < 40; i++) {
		memcpy(bad, img, len);
		bad[(size_t)rand_r(&seed) % len] ^= (uint8_t)(1 +
		    rand_r(&seed) % 255);
		code = restore_bytes(&b, bad, len);
		CHECK(code == BE_DIGEST || code == BE_STREAM || code == BE_OK);
		if (code == BE_OK) {
			destroy_checked(&b, UUID_A);
			CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
		}
	}
	CHECK(b.ops->lookup(b.h, "tiny", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RESERVED);
	CHECK_INT(restore_bytes(&b, img, len), BE_OK);
	CHECK(b.ops->lookup(b.h, "tiny", &info, &err) == 0 &&
	    info.state == GUEST_STATE_PAUSED);
out:
	free(img);
	free(bad);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/* Pages written in ms milliseconds (measured), from ctl->progress. */
static uint64_t
pages_in(struct sim_ctl *ctl, unsigned int ms, uint64_t *elapsed_us)
{
	uint64_t	p0, t0;

	p0 = __atomic_load_n(&ctl->progress, __ATOMIC_SEQ_CST);
	t0 = sim_now_us();
	sleep_ms(ms);
	*elapsed_us = sim_now_us() - t0;
	return __atomic_load_n(&ctl->progress, __ATOMIC_SEQ_CST) - p0;
}

/*
 * At 5% the workload writes no more than 5% of its rate (plus its
 * bounded backlog), however the machine is loaded; unthrottled it
 * writes more than that bound.  Speed is only ever bounded from above.
 */
static void
test_throttle(void)
{
	struct host		 a;
	struct guest_desc	 desc;
	struct guest_info	 info;
	struct backend_error	 err;
	struct sim_ctl		*ctl;
	size_t			 len;
	uint64_t		 fast = 0, slow, us, bound, rate = 400 * MIB;
	int			 i;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "hog", UUID_A, 16 * MIB,
	    "(sim (dirty-rate 419430400) (pattern uniform))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	CHECK(a.ops->set_throttle(a.h, "hog", 0, &err) == -1);
	CHECK(a.ops->set_throttle(a.h, "hog", 101, &err) == -1);
	ctl = guest_map(&a, UUID_A, ".ctl", &len);
	CHECK(ctl != NULL);
	if (ctl != NULL) {
		CHECK(wait_advance(&ctl->progress, 0));
		CHECK(a.ops->set_throttle(a.h, "hog", 5, &err) == 0);
		sleep_ms(20);
		slow = pages_in(ctl, 400, &us);
		/* 5% of rate over the time, the backlog cap, a tick's slack. */
		bound = (uint64_t)((double)rate * 0.05 * ((double)us + 2 *
		    SIM_CREDIT_MAX_US) / 1e6 / 4096) + 2;
		CHECK(slow <= bound);
		CHECK(slow > 0);
		CHECK(a.ops->set_throttle(a.h, "hog", 100, &err) == 0);
		/* A loaded machine may starve it for a while: a few tries. */
		for (i = 0; i < 10; i++)
			if ((fast = pages_in(ctl, 400, &us)) > bound)
				break;
		CHECK(fast > bound);
		if (slow > bound || fast <= bound)
			fprintf(stderr, "  slow %llu fast %llu bound %llu\n",
			    (unsigned long long)slow, (unsigned long long)fast,
			    (unsigned long long)bound);
		munmap(ctl, len);
	}
	destroy_checked(&a, UUID_A);
	host_close(&a);
}

/*
 * A guest whose process died is cleaned up by the next look at the
 * directory; a guest whose files are removed exits by itself.
 */
static void
test_dead_and_orphaned_guests(void)
{
	struct host		 a;
	struct guest_desc	 desc;
	struct guest_info	 info, *list = NULL;
	struct backend_error	 err;
	struct sim_ctl		*ctl;
	size_t			 len, n = 9;
	char			 path[128];
	uint64_t		 deadline;
	pid_t			 pid = 0;

	if (host_open(&a) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "doomed", UUID_A, 4 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	if ((ctl = guest_map(&a, UUID_A, ".ctl", &len)) != NULL) {
		pid = ctl->pid;
		munmap(ctl, len);
	}
	CHECK(pid > 0 && kill(pid, SIGKILL) == 0 && wait_pid_gone(pid));
	/* Its lock goes with its last thread, a moment after the leader. */
	for (deadline = now_ms() + WAIT_MS; now_ms() < deadline; sleep_ms(5)) {
		CHECK(a.ops->list(a.h, &list, &n, &err) == 0);
		free(list);
		if (n == 0)
			break;
	}
	CHECK_INT(n, 0);
	CHECK_INT(host_guest_files(&a), 0);

	desc_init(&desc, "orphan", UUID_B, 4 * MIB, NULL);
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	pid = 0;
	if ((ctl = guest_map(&a, UUID_B, ".ctl", &len)) != NULL) {
		pid = ctl->pid;
		munmap(ctl, len);
	}
	snprintf(path, sizeof(path), "%s/%s.ctl", a.dir, UUID_B);
	CHECK(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/%s.mem", a.dir, UUID_B);
	CHECK(unlink(path) == 0);
	CHECK(pid > 0 && wait_pid_gone(pid));
	host_close(&a);
}

static void
log_drop(int priority, const char *line)
{
	(void)priority;
	(void)line;
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_names_and_validators),
		UNIT_TEST(test_config),
		UNIT_TEST(test_create_list_destroy),
		UNIT_TEST(test_live_migration),
		UNIT_TEST(test_migration_with_policy),
		UNIT_TEST(test_throttle_mode_migration),
		UNIT_TEST(test_offline_save_to_file),
		UNIT_TEST(test_reserve_refusals),
		UNIT_TEST(test_policy_abort),
		UNIT_TEST(test_lost_dirty_pages_are_caught),
		UNIT_TEST(test_write_errors),
		UNIT_TEST(test_corrupt_streams),
		UNIT_TEST(test_throttle),
		UNIT_TEST(test_dead_and_orphaned_guests),
	};

	/* Stale-guest notices and the like are expected here. */
	log_set_sink(log_drop);
	/* A save whose reader went away must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return unit_run("sim", tests, sizeof(tests) / sizeof(tests[0]));
}
