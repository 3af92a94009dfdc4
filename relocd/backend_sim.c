// SPDX-License-Identifier: ISC
/*
 * The sim backend's toolstack: a simulated hypervisor whose state is one
 * directory (sim.h, sim_dir.c), so that the daemon, the worker and
 * relocctl, or two relocd instances with a directory each, share it the
 * way xl and libxl share a real host.  This file holds the backend
 * operations on guests: list, look up, describe, reserve, create,
 * save and restore (the streams are sim_stream.c's), resume, unpause,
 * throttle and destroy.  sim_guest.c runs the guests.
 *
 * Free memory is the simulated host's (sim_dir.c) less the memory of
 * every guest present, reserved ones included.
 *
 * Runs in the worker (root) and in relocctl's sim commands.  It trusts
 * its caller and the state directory (root's), but checks every name,
 * uuid and config it is given: a reserve request comes from a peer.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "bounds.h"
#include "log.h"
#include "sim.h"
#include "util.h"
#include "xen_preflight.h"

static int
sim_list(void *h, struct guest_info **guests_r, size_t *n_r,
    struct backend_error *err)
{
	struct sim_census	*c;
	int			 lockfd = -1, rc = -1;

	*guests_r = NULL;
	*n_r = 0;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->infos = calloc(SIM_GUESTS_MAX, sizeof(*c->infos))) == NULL) {
		backend_fail(err, BE_INTERNAL, "out of memory");
		goto out;
	}
	c->collect = 1;
	if (sim_census_take(h, c, &lockfd, err) == -1)
		goto out;
	*n_r = c->count < SIM_GUESTS_MAX ? c->count : SIM_GUESTS_MAX;
	/* Give back what the guests present do not need. */
	*guests_r = reallocarray(c->infos, *n_r > 0 ? *n_r : 1,
	    sizeof(**guests_r));
	if (*guests_r == NULL)
		*guests_r = c->infos;
	c->infos = NULL;
	rc = 0;
out:
	sim_dir_unlock(lockfd);
	if (c != NULL)
		free(c->infos);
	free(c);
	return rc;
}

static int
sim_lookup(void *h, const char *key, struct guest_info *info,
    struct backend_error *err)
{
	struct sim_census	*c;
	int			 lockfd = -1, rc;

	if ((c = malloc(sizeof(*c))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if ((rc = sim_find(h, key, c, &lockfd, err)) == 0)
		sim_info_from(&c->match, info);
	sim_dir_unlock(lockfd);
	free(c);
	return rc;
}

static int
sim_free_memory(void *h, uint64_t *free_r, struct backend_error *err)
{
	struct sim		*s = h;
	struct sim_census	*c;
	int			 lockfd = -1;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if (sim_census_take(s, c, &lockfd, err) == -1) {
		free(c);
		return -1;
	}
	*free_r = c->used_memory >= s->host_memory ? 0 :
	    s->host_memory - c->used_memory;
	sim_dir_unlock(lockfd);
	free(c);
	return 0;
}

/*
 * The source's "cannot migrate at all", by the xen backend's own rules
 * (xen_preflight_migratable), on what the sim guest's config says.
 */
static int
sim_migratable(const struct sim_ctl *ctl, struct check_list *l,
    struct backend_error *err)
{
	struct xen_blockers	b;
	struct check_list	ignored;

	memset(&b, 0, sizeof(b));
	memset(&ignored, 0, sizeof(ignored));
	b.pci = ctl->params.pci;
	b.disable_migrate = ctl->params.disable_migrate != 0;
	if (xen_preflight_migratable(ctl->name, &b, l != NULL ? l :
	    &ignored) > 0)
		return backend_fail_checks(err, BE_UNSUPPORTED, l != NULL ? l :
		    &ignored);
	return 0;
}

/*
 * The destination's device pre-flight, by the xen backend's rules
 * (xen_preflight_devices), against the simulated host's filesystem:
 * relocd-sim-dir/host stands for / (a bridge is there when
 * host/sys/class/net/NAME/bridge is, a disk when host/PATH is).
 */
static int
sim_devices_check(const struct sim *s, const struct sim_params *p,
    struct check_list *l, struct backend_error *err)
{
	const char		*bridges[SIM_BRIDGES_MAX], *disks[SIM_DISKS_MAX];
	char			 root[sizeof(s->dir) + 8];
	struct check_list	 ignored;
	size_t			 i;

	memset(&ignored, 0, sizeof(ignored));
	if (l == NULL)
		l = &ignored;
	snprintf(root, sizeof(root), "%s/host", s->dir);
	for (i = 0; i < SIM_BRIDGES_MAX; i++)
		bridges[i] = p->bridge[i];
	for (i = 0; i < SIM_DISKS_MAX; i++)
		disks[i] = p->disk[i];
	if (xen_preflight_devices(root, bridges, SIM_BRIDGES_MAX, disks,
	    SIM_DISKS_MAX, l) > 0)
		return backend_fail_checks(err, BE_UNSUPPORTED, l);
	return 0;
}

static int
sim_describe(void *h, const char *key, struct guest_desc *desc,
    char **config_r, struct backend_error *err)
{
	struct sim_census	*c;
	char			 buf[1024];
	int			 lockfd = -1, rc = -1;

	*config_r = NULL;
	if ((c = malloc(sizeof(*c))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if (sim_find(h, key, c, &lockfd, err) == -1 ||
	    sim_migratable(&c->match, desc->checks, err) == -1)
		goto out;
	if (sim_config_format(&c->match.params, buf, sizeof(buf)) == -1 ||
	    (*config_r = strdup(buf)) == NULL) {
		backend_fail(err, BE_INTERNAL, "out of memory");
		goto out;
	}
	sim_info_from(&c->match, &desc->info);
	desc->config = *config_r;
	rc = 0;
out:
	sim_dir_unlock(lockfd);
	free(c);
	return rc;
}

/* A random (version 4) uuid, for sim-create without one. */
static int
sim_uuid_new(char *uuid, struct backend_error *err)
{
	uint8_t	b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return backend_fail(err, BE_INTERNAL, "getrandom: %s",
		    strerror(errno));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(uuid, GUEST_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
	return 0;
}

/* Everything about a request that can be checked without the directory. */
static int
sim_desc_check(const struct guest_desc *desc, int create, char *uuid,
    struct sim_params *params, struct backend_error *err)
{
	const struct guest_info	*info = &desc->info;

	if (!guest_name_valid(info->name))
		return backend_fail(err, BE_UNSUPPORTED,
		    "invalid guest name");
	if (create && info->uuid[0] == '\0') {
		if (sim_uuid_new(uuid, err) == -1)
			return -1;
	} else if (!guest_uuid_valid(info->uuid))
		return backend_fail(err, BE_UNSUPPORTED,
		    "invalid guest uuid");
	else if (strlcpy(uuid, info->uuid, GUEST_UUID_LEN + 1) > GUEST_UUID_LEN)
		return backend_fail(err, BE_UNSUPPORTED,
		    "guest uuid longer than %d characters", GUEST_UUID_LEN);
	if (info->type != GUEST_TYPE_SIM)
		return backend_fail(err, BE_UNSUPPORTED, "the sim backend "
		    "runs sim guests only, not %s",
		    guest_type_name(info->type));
	if (info->memory_bytes < SIM_MEMORY_MIN ||
	    info->memory_bytes > SIM_MEMORY_MAX ||
	    info->memory_bytes % SIM_PAGE_SIZE != 0)
		return backend_fail(err, BE_UNSUPPORTED, "guest memory must "
		    "be whole pages between %llu MiB and %llu MiB",
		    SIM_MEMORY_MIN / SIM_MIB, SIM_MEMORY_MAX / SIM_MIB);
	if (info->vcpus < 1 || info->vcpus > GUEST_VCPUS_MAX)
		return backend_fail(err, BE_UNSUPPORTED,
		    "vcpus must be 1 to %d", GUEST_VCPUS_MAX);
	return sim_config_parse(desc->config, info->memory_bytes, params,
	    err);
}

static void
sim_ctl_init(struct sim_ctl *ctl, const struct guest_desc *desc,
    const char *uuid, const struct sim_params *params, uint32_t domid,
    int create)
{
	ctl->magic = SIM_CTL_MAGIC;
	ctl->version = SIM_CTL_VERSION;
	ctl->header_size = sizeof(*ctl);
	STRLCPY_ARRAY(ctl->name, desc->info.name);
	/* sim_desc_check() made uuid, GUEST_UUID_LEN characters. */
	memcpy(ctl->uuid, uuid, sizeof(ctl->uuid));
	ctl->domid = domid;
	ctl->vcpus = desc->info.vcpus;
	ctl->memory_bytes = desc->info.memory_bytes;
	ctl->pages = ctl->memory_bytes / SIM_PAGE_SIZE;
	ctl->bitmap_words = (ctl->pages + 63) / 64;
	ctl->params = *params;
	ctl->throttle = 100;
	ctl->state = create ? GUEST_STATE_RUNNING : GUEST_STATE_RESERVED;
	ctl->run = create ? 1 : 0;
	if (create)
		sim_vcpu_seed(&ctl->vcpu, uuid);
}

/*
 * Creates a guest's files and process; the caller holds the directory
 * lock.  On success g has the .ctl mapped through a description of its
 * own (the locked one went to the guest).
 */
static int
sim_make_guest(const struct sim *s, const struct guest_desc *desc,
    const char *uuid, const struct sim_params *params, uint32_t domid,
    int create, struct sim_guest *g, struct backend_error *err)
{
	char	 mpath[sizeof(s->dir) + 64], cpath[sizeof(s->dir) + 64];
	size_t	 ctl_len;
	void	*m;
	int	 memfd = -1, ctlfd = -1, rc = -1;

	ctl_len = SIM_CTL_LEN(desc->info.memory_bytes / SIM_PAGE_SIZE);
	if (sim_path(s, uuid, ".mem", mpath, sizeof(mpath)) == -1 ||
	    sim_path(s, uuid, ".ctl", cpath, sizeof(cpath)) == -1 ||
	    (memfd = open(mpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1 ||
	    ftruncate(memfd, (off_t)desc->info.memory_bytes) == -1 ||
	    (ctlfd = open(cpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1 || ftruncate(ctlfd, (off_t)ctl_len) == -1 ||
	    (m = mmap(NULL, ctl_len, PROT_READ | PROT_WRITE, MAP_SHARED,
	    ctlfd, 0)) == MAP_FAILED) {
		backend_fail(err, BE_INTERNAL, "cannot create guest %s: %s",
		    desc->info.name, strerror(errno));
		goto out;
	}
	g->ctl = m;
	g->ctl_len = ctl_len;
	sim_ctl_init(g->ctl, desc, uuid, params, domid, create);
	if (sim_lock_try(ctlfd, SIM_LOCK_ALIVE) == -1) {
		backend_fail(err, BE_INTERNAL, "cannot lock %s: %s", cpath,
		    strerror(errno));
		goto out;
	}
	if (sim_guest_spawn(ctlfd, memfd, create, g->ctl, err) == -1)
		goto out;
	if ((g->ctl_fd = open(cpath, O_RDWR | O_CLOEXEC)) == -1) {
		backend_fail(err, BE_INTERNAL, "%s: %s", cpath,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (memfd != -1)
		close(memfd);
	if (ctlfd != -1)
		close(ctlfd);	/* the guest keeps the lock */
	return rc;
}

/*
 * reserve() and create(): check the request, then, under the directory
 * lock, the clashes and free memory, and make the guest.
 */
static int
sim_make(struct sim *s, const struct guest_desc *desc, int create,
    struct guest_info *info_r, struct backend_error *err)
{
	struct sim_census	*c = NULL;
	struct sim_params	 params;
	struct sim_guest	 g = { .ctl_fd = -1, .mem_fd = -1 };
	char			 uuid[GUEST_UUID_LEN + 1];
	uint32_t		 domid;
	int			 lockfd = -1, rc = -1;

	if (backend_check_not_host(&desc->info, err) == -1 ||
	    sim_desc_check(desc, create, uuid, &params, err) == -1 ||
	    (!create && sim_devices_check(s, &params, desc->checks,
	    err) == -1))
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	c->name = desc->info.name;
	c->uuid = uuid;
	if (sim_census_take(s, c, &lockfd, err) == -1)
		goto out;
	if (c->name_found || c->uuid_found) {
		backend_fail(err, BE_CLASH, "a guest with %s %s exists",
		    c->uuid_found ? "uuid" : "name",
		    c->uuid_found ? uuid : desc->info.name);
		goto out;
	}
	if (desc->info.memory_bytes + c->used_memory > s->host_memory) {
		backend_fail(err, BE_NO_MEMORY, "guest %s needs %llu MiB, "
		    "%llu MiB free", desc->info.name,
		    (unsigned long long)(desc->info.memory_bytes / SIM_MIB),
		    (unsigned long long)(c->used_memory > s->host_memory ? 0 :
		    (s->host_memory - c->used_memory) / SIM_MIB));
		goto out;
	}
	if (sim_domid_alloc(s, c, &domid, err) == -1)
		goto out;
	if (sim_make_guest(s, desc, uuid, &params, domid, create, &g,
	    err) == -1) {
		sim_dir_remove(s, uuid);
		goto out;
	}
	sim_dir_unlock(lockfd);
	lockfd = -1;
	if (sim_guest_wait_boot(&g, err) == -1) {
		sim_guest_kill(g.ctl, g.ctl_fd, NULL);
		sim_dir_remove(s, uuid);
		goto out;
	}
	sim_info_from(g.ctl, info_r);
	log_debug("sim: %s guest %s (%s), domid %u", create ? "created" :
	    "reserved", info_r->name, uuid, domid);
	rc = 0;
out:
	sim_dir_unlock(lockfd);
	sim_guest_unmap(&g);
	free(c);
	return rc;
}

static int
sim_reserve(void *h, const struct guest_desc *desc, struct guest_info *info_r,
    struct backend_error *err)
{
	return sim_make(h, desc, 0, info_r, err);
}

static int
sim_create(void *h, const struct guest_desc *desc, struct guest_info *info_r,
    struct backend_error *err)
{
	return sim_make(h, desc, 1, info_r, err);
}

/* Moves a guest from one state to another, or says why not. */
static int
sim_state_move(struct sim_guest *g, uint32_t from, uint32_t to,
    struct backend_error *err)
{
	uint32_t	cur = from;

	if (!__atomic_compare_exchange_n(&g->ctl->state, &cur, to, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return backend_fail(err, BE_BAD_STATE, "guest %s is %s, not %s",
		    g->ctl->name, guest_state_name((int)cur),
		    guest_state_name((int)from));
	return 0;
}

static int
sim_busy(struct sim_guest *g, struct backend_error *err)
{
	if (sim_lock_try(g->ctl_fd, SIM_LOCK_BUSY) == -1)
		return backend_fail(err, BE_BAD_STATE,
		    "guest %s is being migrated", g->ctl->name);
	return 0;
}

static int
sim_save(void *h, const char *key, int fd, unsigned int flags,
    const struct backend_save_callbacks *cb,
    struct backend_save_result *res, struct backend_error *err)
{
	struct sim_guest	g;
	uint32_t		state;
	uint64_t		t;
	int			rc = -1;

	memset(res, 0, sizeof(*res));
	if (sim_guest_get(h, key, &g, err) == -1)
		return -1;
	if (sim_busy(&g, err) == -1)
		goto out;
	state = __atomic_load_n(&g.ctl->state, __ATOMIC_SEQ_CST);
	if (state != GUEST_STATE_RUNNING) {
		backend_fail(err, BE_BAD_STATE, "guest %s is %s, not running",
		    g.ctl->name, guest_state_name((int)state));
		goto out;
	}
	rc = sim_stream_save(&g, fd, flags, cb, res, err);
out:
	/*
	 * A saved guest stays mapped until after the commit
	 * (sim_guest_park says why); what the pause pays for letting go is
	 * measured all the same.
	 */
	t = util_now_us();
	if (rc == 0) {
		sim_guest_park(h, &g);
		pause_set(&res->pause, PAUSE_RELEASE, util_ms_since(&t));
	} else
		sim_guest_unmap(&g);
	return rc;
}

/*
 * Gives a reserved guest its empty RAM back after a failed restore, so
 * that what is left is exactly what reserve() made.
 */
static void
sim_memory_discard(struct sim_guest *g)
{
	if (fallocate(g->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    0, (off_t)g->mem_len) == -1)
		memset(g->mem, 0, g->mem_len);
	memset(&g->ctl->vcpu, 0, sizeof(g->ctl->vcpu));
	__atomic_store_n(&g->ctl->heartbeat, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&g->ctl->progress, 0, __ATOMIC_SEQ_CST);
}

/*
 * cancel_fd goes unwatched: the sim stream ends in its own end record,
 * so a source that stops short is a short read here, never a wait.
 */
static int
sim_restore(void *h, const char *key, int fd, int cancel_fd,
    struct backend_restore_result *res, struct backend_error *err)
{
	struct sim_guest	g;
	uint64_t		t = 0;
	int			rc = -1;

	(void)cancel_fd;
	memset(res, 0, sizeof(*res));
	if (sim_guest_get(h, key, &g, err) == -1)
		return -1;
	if (sim_busy(&g, err) == -1 || sim_state_move(&g,
	    GUEST_STATE_RESERVED, GUEST_STATE_INCOMING, err) == -1)
		goto out;
	if (sim_stream_restore(&g, fd, res, err) == -1) {
		sim_memory_discard(&g);
		sim_state_move(&g, GUEST_STATE_INCOMING, GUEST_STATE_RESERVED,
		    NULL);
		goto out;
	}
	/* The stream ended and its digest checked: our restore part. */
	t = util_now_us();
	rc = sim_state_move(&g, GUEST_STATE_INCOMING, GUEST_STATE_PAUSED,
	    err);
out:
	sim_guest_unmap(&g);
	if (rc == 0)
		pause_set(&res->pause, PAUSE_RESTORE, util_ms_since(&t));
	return rc;
}

/* libxl_domain_resume(suspend_cancel=1): the source runs on. */
static int
sim_resume(void *h, const char *key, struct backend_error *err)
{
	struct sim_guest	g;
	int			rc = -1;

	if (sim_guest_get(h, key, &g, err) == -1)
		return -1;
	if (sim_busy(&g, err) == -1)
		goto out;
	/* Resuming a guest that never got suspended is no error. */
	if (__atomic_load_n(&g.ctl->state, __ATOMIC_SEQ_CST) ==
	    GUEST_STATE_RUNNING) {
		sim_guest_run(&g);
		rc = 0;
		goto out;
	}
	if (sim_state_move(&g, GUEST_STATE_SUSPENDED, GUEST_STATE_RUNNING,
	    err) == -1)
		goto out;
	sim_guest_run(&g);
	rc = 0;
out:
	sim_guest_unmap(&g);
	return rc;
}

static int
sim_unpause(void *h, const char *key, struct backend_error *err)
{
	struct sim_guest	g;
	int			rc;

	if (sim_guest_get(h, key, &g, err) == -1)
		return -1;
	if ((rc = sim_state_move(&g, GUEST_STATE_PAUSED, GUEST_STATE_RUNNING,
	    err)) == 0)
		sim_guest_run(&g);
	sim_guest_unmap(&g);
	return rc;
}

static int
sim_set_throttle(void *h, const char *key, unsigned int pct,
    struct backend_error *err)
{
	struct sim_guest	g;

	if (pct < 1 || pct > 100)
		return backend_fail(err, BE_UNSUPPORTED,
		    "throttle must be 1 to 100 percent");
	if (sim_guest_get(h, key, &g, err) == -1)
		return -1;
	__atomic_store_n(&g.ctl->throttle, pct, __ATOMIC_SEQ_CST);
	sim_guest_unmap(&g);
	return 0;
}

/* Kills the guest's process and removes its files, whatever its state. */
static int
sim_destroy(void *h, const char *key, struct backend_error *err)
{
	struct sim		*s = h;
	struct sim_census	*c;
	char			 path[sizeof(s->dir) + 64];
	int			 lockfd = -1, fd = -1, rc = -1;

	sim_guest_unpark(s);
	if ((c = malloc(sizeof(*c))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if (sim_find(s, key, c, &lockfd, err) == -1)
		goto out;
	if (sim_path(s, c->match.uuid, ".ctl", path, sizeof(path)) == 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) != -1 &&
	    sim_guest_kill(&c->match, fd, err) == -1)
		goto out;
	sim_dir_remove(s, c->match.uuid);
	log_debug("sim: destroyed guest %s (%s)", c->match.name,
	    c->match.uuid);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	sim_dir_unlock(lockfd);
	free(c);
	return rc;
}

/*
 * <uuid>.note, replaced with rename() so that a reader never sees half
 * a note, under the directory lock so that it cannot outlive a guest
 * that destroy() is removing.
 */
static int
sim_set_note(void *h, const char *key, const char *note,
    struct backend_error *err)
{
	struct sim		*s = h;
	struct sim_census	*c;
	char			 path[sizeof(s->dir) + 64], tmp[sizeof(path)];
	size_t			 len = note != NULL ? strlen(note) : 0;
	int			 lockfd = -1, fd = -1, rc = -1;

	if (len > BACKEND_NOTE_MAX)
		return backend_fail(err, BE_INTERNAL, "note too long");
	if ((c = malloc(sizeof(*c))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if (sim_find(s, key, c, &lockfd, err) == -1 ||
	    sim_path(s, c->match.uuid, ".note", path, sizeof(path)) == -1 ||
	    sim_path(s, c->match.uuid, ".note-new", tmp, sizeof(tmp)) == -1)
		goto out;
	if (note == NULL) {
		if (unlink(path) == -1 && errno != ENOENT) {
			backend_fail(err, BE_INTERNAL, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		rc = 0;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || util_write_all(fd, note, len) == -1 ||
	    fsync(fd) == -1 || rename(tmp, path) == -1) {
		backend_fail(err, BE_INTERNAL, "%s: %s", path,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	sim_dir_unlock(lockfd);
	free(c);
	return rc;
}

static int
sim_get_note(void *h, const char *key, char *buf, size_t size,
    struct backend_error *err)
{
	struct sim		*s = h;
	struct sim_census	*c;
	char			 path[sizeof(s->dir) + 64], *text = NULL;
	size_t			 len;
	int			 lockfd = -1, rc = -1;

	if ((c = malloc(sizeof(*c))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	if (sim_find(s, key, c, &lockfd, err) == -1 ||
	    sim_path(s, c->match.uuid, ".note", path, sizeof(path)) == -1)
		goto out;
	if (util_read_file(path, BACKEND_NOTE_MAX, &text, &len) == -1) {
		backend_fail(err, errno == ENOENT ? BE_NOT_FOUND : BE_INTERNAL,
		    "guest %s: no note: %s", c->match.name, strerror(errno));
		goto out;
	}
	if (len >= size || memchr(text, '\0', len) != NULL) {
		backend_fail(err, BE_INTERNAL, "guest %s: bad note",
		    c->match.name);
		goto out;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	rc = 0;
out:
	sim_dir_unlock(lockfd);
	free(text);
	free(c);
	return rc;
}

const struct backend_ops backend_sim_ops = {
	.name = "sim",
	.open = sim_dir_open,
	.close = sim_dir_close,
	.list = sim_list,
	.lookup = sim_lookup,
	.free_memory = sim_free_memory,
	.describe = sim_describe,
	.reserve = sim_reserve,
	.save = sim_save,
	.restore = sim_restore,
	.resume = sim_resume,
	.unpause = sim_unpause,
	.destroy = sim_destroy,
	.set_throttle = sim_set_throttle,
	.set_note = sim_set_note,
	.get_note = sim_get_note,
	.create = sim_create
};
