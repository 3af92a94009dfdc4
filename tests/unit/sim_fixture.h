/* SPDX-License-Identifier: ISC */
/*
 * Fixtures shared by the sim backend's unit tests (test_sim.c,
 * test_sim_stream.c): two state directories as two "hosts", small
 * guests, and helpers that check nothing is left behind.
 */
#ifndef RELOCD_SIM_FIXTURE_H
#define RELOCD_SIM_FIXTURE_H

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

static inline void
sleep_ms(unsigned int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static inline uint64_t
now_ms(void)
{
	return util_now_us() / 1000;
}

static inline int
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

/* Guest files (.ctl, .mem, .note) left in a host's directory. */
static inline int
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
		if ((len > 4 && (strcmp(de->d_name + len - 4, ".ctl") == 0 ||
		    strcmp(de->d_name + len - 4, ".mem") == 0)) ||
		    (len > 5 && strcmp(de->d_name + len - 5, ".note") == 0))
			n++;
	}
	closedir(d);
	return n;
}

/* Whether the test left guests behind; destroys them, removes the dir. */
static inline void
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

static inline void
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
static inline void *
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
static inline int
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

static inline int
wait_pid_gone(pid_t pid)
{
	uint64_t	deadline = now_ms() + WAIT_MS;

	while (pid_running(pid) && now_ms() < deadline)
		sleep_ms(5);
	return !pid_running(pid);
}

/* Waits until *counter passes from; tests want "advances", not "fast". */
static inline int
wait_advance(const uint64_t *counter, uint64_t from)
{
	uint64_t	deadline = now_ms() + WAIT_MS;

	while (__atomic_load_n(counter, __ATOMIC_SEQ_CST) <= from &&
	    now_ms() < deadline)
		sleep_ms(2);
	return __atomic_load_n(counter, __ATOMIC_SEQ_CST) > from;
}

/* Destroys a guest and checks that its process and files are gone. */
static inline void
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

static inline int
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

static inline void
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

static inline void *
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
static inline int
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
	rc = dst->ops->restore(dst->h, guest, fds[0], -1, rres, rerr);
	close(fds[0]);
	pthread_join(t, NULL);
	if (getenv("TEST_SIM_VERBOSE") != NULL)
		fprintf(stderr, "  save: %d %s; restore: %d %s\n", job->rc,
		    job->rc ? job->err.msg : "ok", rc, rc ? rerr->msg : "ok");
	return rc;
}

static inline void
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
static inline void
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

static inline void
log_drop(int priority, const char *line)
{
	(void)priority;
	(void)line;
}

/* An offline save of a fresh guest "tiny"; *res its result. */
static inline uint8_t *
image_save(struct host *a, const struct guest_desc *desc, unsigned int flags,
    struct backend_save_result *res, size_t *len_r)
{
	struct guest_info	 info;
	struct backend_error	 err;
	uint8_t			*img = NULL;
	int			 fd;

	CHECK(a->ops->create(a->h, desc, &info, &err) == 0);
	fd = memfd_create("image", 0);
	CHECK(a->ops->save(a->h, "tiny", fd, flags, NULL, res, &err) == 0);
	*len_r = (size_t)res->bytes;
	if ((img = malloc(*len_r)) != NULL &&
	    pread(fd, img, *len_r, 0) != (ssize_t)*len_r) {
		free(img);
		img = NULL;
	}
	CHECK(img != NULL);
	close(fd);
	return img;
}

/*
 * Feeds buf to restore() through a memfd; its code, *res its result
 * (NULL: not wanted).
 */
static inline int
restore_buf(struct host *h, const uint8_t *buf, size_t len,
    struct backend_restore_result *res)
{
	struct backend_restore_result	mine;
	struct backend_error		err;
	int				fd, rc;

	if (res == NULL)
		res = &mine;
	if ((fd = memfd_create("stream", 0)) == -1)
		return -2;
	if (len > 0 && write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return -2;
	}
	lseek(fd, 0, SEEK_SET);
	err.code = BE_OK;
	rc = h->ops->restore(h->h, UUID_A, fd, -1, res, &err);
	if (rc == -1 && getenv("TEST_SIM_VERBOSE") != NULL)
		fprintf(stderr, "  restore: %s\n", err.msg);
	close(fd);
	return rc == 0 ? BE_OK : err.code;
}

#endif /* RELOCD_SIM_FIXTURE_H */
