// SPDX-License-Identifier: ISC
/*
 * relocctl's requests that start work: migrate, save, restore,
 * sim-create, sim-destroy, cancel and resolve.  What a watching relocctl
 * then receives (progress, result) is written by parent_ctl.c.
 *
 * Runs in the parent.  Requests come from local administrators (checked
 * with SO_PEERCRED); every field is still parsed with explicit bounds,
 * and names and uuids are validated before any process sees them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "parent_req.h"
#include "proto.h"
#include "sxp.h"
#include "util.h"
#include "worker.h"

/* An optional number in [min, max]; *v keeps its default if absent. */
static int
req_number(const struct sxp_node *m, const char *name, long long min,
    long long max, uint64_t *v, char *err, size_t errlen)
{
	const char	*s = sxp_field(m, name), *errstr;
	long long	 n;

	if (s == NULL)
		return 0;
	n = util_strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		snprintf(err, errlen, "%s: '%s' is %s (%lld to %lld)", name, s,
		    errstr, min, max);
		return -1;
	}
	*v = (uint64_t)n;
	return 0;
}

static void
req_error(struct parent *p, int i, const char *fmt, ...)
{
	char	text[PROTO_TEXT_MAX + 1], q[4 * PROTO_TEXT_MAX + 3];
	char	msg[4 * PROTO_TEXT_MAX + 32];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (sxp_quote(text, strlen(text), q, sizeof(q)) == -1)
		STRLCPY_ARRAY(q, "'error'");
	_Static_assert(sizeof(msg) >= sizeof("(error (text ))") + sizeof(q) - 1,
	    "an error reply holds any quoted text");
	snprintf(msg, sizeof(msg), "(error (text %s))", q);
	parent_ctl_reply(p, i, msg);
}

/*
 * A job for control client i's request, with its id made before anything
 * (a worker, a peer) can see the job; or NULL once i was told why not.
 */
static struct job *
req_job_new(struct parent *p, int i, int role, const char *what)
{
	struct job	*j;

	/* Stopping cancels what it can; it starts nothing new. */
	if (p->stopping) {
		req_error(p, i, "%s: relocd is stopping; try again once it "
		    "runs", what);
		return NULL;
	}
	if ((j = parent_job_new(p, role, what)) == NULL) {
		req_error(p, i, "job table full");
		return NULL;
	}
	if (proto_id_new(j->id, sizeof(j->id)) == -1) {
		log_warn("%s: cannot make a migration id", what);
		j->state = JOB_FREE;
		req_error(p, i, "%s: cannot make a migration id", what);
		return NULL;
	}
	return j;
}

/* Attaches control client i to job j and says which job it is. */
static void
req_started(struct parent *p, int i, struct job *j)
{
	char	msg[128];

	j->ctl = i;
	if (snprintf(msg, sizeof(msg), "(started (id %s) (what %s))", j->id,
	    j->what) >= (int)sizeof(msg))
		fatalx("job kind %s: its started reply is longer than %zu "
		    "bytes", j->what, sizeof(msg) - 1);
	parent_ctl_reply(p, i, msg);
	if (p->ctl[i].fd != -1)
		p->ctl[i].busy = 1;
}

static int
req_policy(struct parent *p, const struct sxp_node *m, struct msg_policy *mp,
    char *err, size_t errlen)
{
	const struct conf	*c = p->conf;
	const char		*s;
	uint64_t		 v[7];
	int			 r;

	v[0] = c->max_downtime_ms;
	v[1] = (uint64_t)c->max_bandwidth_mbit;
	v[2] = (uint64_t)c->max_iterations;
	v[3] = (uint64_t)c->migration_timeout_s;
	v[4] = 1;
	v[5] = 0;
	v[6] = 0;
	if (req_number(m, "max-downtime", 1, 600000, &v[0], err, errlen) ||
	    req_number(m, "max-bandwidth", 0, 1000000, &v[1], err, errlen) ||
	    req_number(m, "max-iterations", 1, 1000, &v[2], err, errlen) ||
	    req_number(m, "timeout", 0, 604800, &v[3], err, errlen) ||
	    req_number(m, "live", 0, 1, &v[4], err, errlen) ||
	    req_number(m, "check", 0, 1, &v[5], err, errlen) ||
	    req_number(m, "skip-redirtied", 0, 1, &v[6], err, errlen))
		return -1;
	/*
	 * A source-side choice of what a live round sends: the destination
	 * reads the same stream, so only this backend and mode matter.
	 */
	if (v[6] && c->backend != CONF_BACKEND_SIM) {
		snprintf(err, errlen, "--skip-redirtied is sim-only: on the "
		    "%s backend libxenguest sends the pre-copy rounds itself",
		    conf_backend_name(c->backend));
		return -1;
	}
	if (v[6] && !v[4]) {
		snprintf(err, errlen, "--skip-redirtied needs --live: only "
		    "live rounds can leave a page for the next one");
		return -1;
	}
	mp->check_only = (uint32_t)v[5];
	mp->skip_redirtied = (uint32_t)v[6];
	mp->max_downtime_ms = (uint32_t)v[0];
	mp->max_bandwidth_mbit = (uint32_t)v[1];
	mp->max_iterations = (uint32_t)v[2];
	mp->timeout_s = (uint32_t)v[3];
	mp->live = (uint32_t)v[4];
	mp->nonconvergence = c->nonconvergence;
	if ((s = sxp_field(m, "on-nonconvergence")) != NULL) {
		if (strcmp(s, "stop-and-copy") == 0)
			mp->nonconvergence = CONF_NONCONV_STOP_AND_COPY;
		else if (strcmp(s, "throttle") == 0)
			mp->nonconvergence = CONF_NONCONV_THROTTLE;
		else if (strcmp(s, "abort") == 0)
			mp->nonconvergence = CONF_NONCONV_ABORT;
		else {
			snprintf(err, errlen, "on-nonconvergence: '%s' is not "
			    "stop-and-copy, throttle or abort", s);
			return -1;
		}
	}
	/* The stream's compression (compress.h): the config's, or this. */
	mp->compress = (uint32_t)c->compress;
	if ((s = sxp_field(m, "compress")) != NULL) {
		if ((r = conf_compress_parse(s)) == -1) {
			snprintf(err, errlen, "compress: '%s' is not on, off "
			    "or auto", s);
			return -1;
		}
		mp->compress = (uint32_t)r;
	}
	s = sxp_field(m, "policy");
	mp->xen_default = s != NULL && strcmp(s, "xen-default") == 0;
	return 0;
}

static void
req_migrate(struct parent *p, int i, const struct sxp_node *m)
{
	const char	*guest = sxp_field(m, "guest");
	const char	*host = sxp_field(m, "host");
	struct job	*j;
	uint64_t	 port = (uint64_t)p->conf->relocation_port;
	char		 err[256];

	if (guest == NULL || !guest_name_valid(guest)) {
		req_error(p, i, "migrate: give a valid guest name");
		return;
	}
	if (!host_name_valid(host, 1)) {
		req_error(p, i, "migrate: give a valid host name or "
		    "address");
		return;
	}
	if (req_number(m, "port", 1, 65535, &port, err, sizeof(err)) == -1) {
		req_error(p, i, "migrate: %s", err);
		return;
	}
	if (parent_job_running(p) >= p->conf->max_migrations) {
		req_error(p, i, "%d migrations are running "
		    "(relocd-max-migrations); try again later",
		    p->conf->max_migrations);
		return;
	}
	if ((j = req_job_new(p, i, JOB_OUT, "migrate")) == NULL)
		return;
	if (req_policy(p, m, &j->policy, err, sizeof(err)) == -1) {
		j->state = JOB_FREE;
		req_error(p, i, "migrate: %s", err);
		return;
	}
	if (j->policy.check_only)
		j->what = "check";
	if (strlcpy(j->guest.name, guest, sizeof(j->guest.name)) >=
	    sizeof(j->guest.name) ||
	    strlcpy(j->peer, host, sizeof(j->peer)) >= sizeof(j->peer)) {
		j->state = JOB_FREE;
		req_error(p, i, "migrate: a guest name is at most %d "
		    "characters long, a host name %zu", GUEST_NAME_MAX,
		    sizeof(j->peer) - 1);
		return;
	}
	j->port = (int)port;
	req_started(p, i, j);
	parent_out_start(p, j);
}

/* A checked copy of a request's field; the client hears if it is long. */
static int
req_copy(struct parent *p, int i, const char *field, char *dst, size_t size,
    const char *src)
{
	if (strlcpy(dst, src, size) < size)
		return 0;
	req_error(p, i, "%s is at most %zu characters long", field, size - 1);
	return -1;
}

/* A worker's start message for op, or NULL after telling the client. */
static struct msg_worker_start *
req_start_new(struct parent *p, int i, int op)
{
	struct msg_worker_start	*st;

	if ((st = parent_worker_start_new(p, op, NULL)) == NULL)
		req_error(p, i, "cannot start a worker; see relocd's log");
	return st;
}

/* save, restore, sim-create, sim-destroy: a local job with one worker. */
static void
req_local(struct parent *p, int i, const char *what,
    const struct msg_worker_start *st, int fd)
{
	struct job	*j;

	if ((j = req_job_new(p, i, JOB_LOCAL, what)) == NULL)
		return;
	if (st->guest[0] != '\0')
		STRLCPY_ARRAY(j->guest.name, st->guest);
	else
		STRLCPY_ARRAY(j->guest.name, st->reserve.guest.name);
	req_started(p, i, j);
	if (parent_job_start_worker(p, j, st, fd, NULL) == -1)
		parent_job_end(p, j, 0, PE_INTERNAL, "cannot start a worker");
}

static void
req_save_restore(struct parent *p, int i, const struct sxp_node *m, int op)
{
	struct msg_worker_start	*st;
	const char		*guest = sxp_field(m, "guest");
	int			 fd = p->ctl[i].passed_fd;

	if (fd == -1) {
		req_error(p, i, "%s: no file was passed with the request",
		    op == WORKER_OP_SAVE ? "save" : "restore");
		return;
	}
	if (op == WORKER_OP_SAVE && (guest == NULL || !guest_name_valid(guest))) {
		req_error(p, i, "save: give a valid guest name");
		return;
	}
	if ((st = req_start_new(p, i, op)) == NULL)
		return;
	if (guest == NULL || req_copy(p, i, "guest", st->guest,
	    sizeof(st->guest), guest) == 0)
		req_local(p, i, op == WORKER_OP_SAVE ? "save" : "restore", st,
		    fd);
	free(st);
}

static const char *const req_patterns[] = { "uniform", "hot", "sequential" };

/*
 * The sim guest's devices, each (bridge NAME), (disk PATH), (pci N) or
 * (disable-migrate yes|no) of the request copied, quoted, into its
 * config after off, and the config closed; backend_sim checks them.
 */
static int
req_sim_devices(const struct sxp_node *m, char *out, size_t size,
    size_t off)
{
	const struct sxp_node	*f;
	char			 q[4 * 256 + 3];
	int			 r;

	for (f = m->first->next; f != NULL; f = f->next) {
		if (f->type != SXP_LIST || f->first == NULL ||
		    f->first->type != SXP_ATOM || f->first->next == NULL ||
		    f->first->next->type == SXP_LIST ||
		    (strcmp(f->first->text, "bridge") != 0 &&
		    strcmp(f->first->text, "disk") != 0 &&
		    strcmp(f->first->text, "pci") != 0 &&
		    strcmp(f->first->text, "disable-migrate") != 0))
			continue;
		if (f->first->next->len > 256 ||
		    sxp_quote(f->first->next->text, f->first->next->len, q,
		    sizeof(q)) == -1)
			return -1;
		r = snprintf(out + off, size - off, " (%s %s)",
		    f->first->text, q);
		if (r < 0 || (size_t)r >= size - off)
			return -1;
		off += (size_t)r;
	}
	if (off + 2 > size)
		return -1;
	out[off++] = ')';
	out[off] = '\0';
	return 0;
}

/* The sim guest's workload as its config sxp (backend_sim parses it). */
static int
req_sim_config(const struct sxp_node *m, char *out, size_t size, char *err,
    size_t errlen)
{
	const char	*pattern = sxp_field(m, "pattern");
	uint64_t	 rate = 0, ws = 0, zp = 0, cp = 0;
	size_t		 k;
	int		 r, z = 0, c = 0;

	if (req_number(m, "dirty-rate", 0, 64LL << 30, &rate, err, errlen) ||
	    req_number(m, "working-set", 0, 1LL << 40, &ws, err, errlen) ||
	    req_number(m, "zero-percent", 0, 100, &zp, err, errlen) ||
	    req_number(m, "compressible-percent", 0, 100, &cp, err, errlen))
		return -1;
	if (pattern == NULL)
		pattern = "uniform";
	for (k = 0; k < 3 && strcmp(pattern, req_patterns[k]) != 0; k++)
		;
	if (k == 3) {
		snprintf(err, errlen, "pattern: '%s' is not uniform, hot or "
		    "sequential", pattern);
		return -1;
	}
	/* No working set: the backend's default, all of memory. */
	if (ws != 0)
		r = snprintf(out, size, "(sim (dirty-rate %llu) (pattern %s) "
		    "(working-set %llu)", (unsigned long long)rate, pattern,
		    (unsigned long long)ws);
	else
		r = snprintf(out, size, "(sim (dirty-rate %llu) (pattern %s)",
		    (unsigned long long)rate, pattern);
	/* How much of its memory the boot leaves zero (sim_memory_fill). */
	if (r >= 0 && (size_t)r < size && zp != 0)
		z = snprintf(out + r, size - (size_t)r, " (zero-percent %llu)",
		    (unsigned long long)zp);
	/* ... and how much of the rest it fills compressibly. */
	if (r >= 0 && (size_t)r < size && z >= 0 && (size_t)z < size -
	    (size_t)r && cp != 0)
		c = snprintf(out + r + z, size - (size_t)(r + z),
		    " (compressible-percent %llu)", (unsigned long long)cp);
	if (r < 0 || (size_t)r >= size || z < 0 || (size_t)z >= size -
	    (size_t)r || c < 0 || (size_t)c >= size - (size_t)(r + z) ||
	    req_sim_devices(m, out, size, (size_t)(r + z + c)) == -1) {
		snprintf(err, errlen, "the workload's config is longer than "
		    "%zu characters", size - 1);
		return -1;
	}
	return 0;
}

static void
req_sim_create(struct parent *p, int i, const struct sxp_node *m)
{
	struct msg_worker_start	*st;
	struct guest_info	*g;
	const char		*name = sxp_field(m, "name");
	const char		*uuid = sxp_field(m, "uuid");
	uint64_t		 mem = 256ULL << 20, vcpus = 1;
	char			 err[256];

	if ((st = req_start_new(p, i, WORKER_OP_CREATE)) == NULL)
		return;
	g = &st->reserve.guest;
	if (name == NULL || !guest_name_valid(name))
		req_error(p, i, "sim-create: give a valid guest name");
	else if (uuid != NULL && !guest_uuid_valid(uuid))
		req_error(p, i, "sim-create: '%s' is not a uuid", uuid);
	else if (req_number(m, "memory", 1 << 20, 1LL << 40, &mem, err,
	    sizeof(err)) || req_number(m, "vcpus", 1, GUEST_VCPUS_MAX, &vcpus,
	    err, sizeof(err)) || req_sim_config(m, st->reserve.config,
	    sizeof(st->reserve.config), err, sizeof(err)))
		req_error(p, i, "sim-create: %s", err);
	/* Without a uuid, the sim backend makes a random one. */
	else if (req_copy(p, i, "name", g->name, sizeof(g->name), name) == 0 &&
	    (uuid == NULL || req_copy(p, i, "uuid", g->uuid, sizeof(g->uuid),
	    uuid) == 0)) {
		g->type = GUEST_TYPE_SIM;
		g->memory_bytes = mem;
		g->vcpus = (uint32_t)vcpus;
		st->reserve.config_len = (uint32_t)strlen(st->reserve.config);
		req_local(p, i, "sim-create", st, -1);
	}
	free(st);
}

static void
req_sim_destroy(struct parent *p, int i, const struct sxp_node *m)
{
	struct msg_worker_start	*st;
	const char		*guest = sxp_field(m, "guest");

	if (guest == NULL || !guest_name_valid(guest)) {
		req_error(p, i, "sim-destroy: give a valid guest name");
		return;
	}
	if ((st = req_start_new(p, i, WORKER_OP_DESTROY)) == NULL)
		return;
	if (req_copy(p, i, "guest", st->guest, sizeof(st->guest), guest) == 0)
		req_local(p, i, "sim-destroy", st, -1);
	free(st);
}

static void
req_cancel(struct parent *p, int i, const struct sxp_node *m)
{
	const char	*id = sxp_field(m, "id");
	char		 err[256];

	if (id == NULL || !proto_id_valid(id))
		req_error(p, i, "cancel: give a migration id (relocctl status)");
	else if (parent_job_cancel(p, id, err, sizeof(err)) == -1)
		req_error(p, i, "%s", err);
	else
		parent_ctl_reply(p, i, "(cancelled)");
}

/* relocctl resolve: settle a guest left suspended in doubt. */
static void
req_resolve(struct parent *p, int i, const struct sxp_node *m)
{
	const char	*guest = sxp_field(m, "guest");
	const char	*force = sxp_field(m, "force");
	struct job	*j;
	char		 err[256];
	int		 mode = RESOLVE_ASK;

	if (guest == NULL || !guest_name_valid(guest)) {
		req_error(p, i, "resolve: give a valid guest name");
		return;
	}
	if (force != NULL && strcmp(force, "resume") == 0)
		mode = RESOLVE_FORCE_RESUME;
	else if (force != NULL && strcmp(force, "destroy") == 0)
		mode = RESOLVE_FORCE_DESTROY;
	else if (force != NULL) {
		req_error(p, i, "resolve: force is resume or destroy");
		return;
	}
	if ((j = req_job_new(p, i, JOB_OUT, "resolve")) == NULL)
		return;
	if (strlcpy(j->guest.name, guest, sizeof(j->guest.name)) >=
	    sizeof(j->guest.name)) {
		j->state = JOB_FREE;
		req_error(p, i, "resolve: a guest name is at most %d "
		    "characters long", GUEST_NAME_MAX);
		return;
	}
	if (parent_settle_resolve(p, j, mode, err, sizeof(err)) == -1) {
		j->state = JOB_FREE;
		req_error(p, i, "resolve: %s", err);
		return;
	}
	req_started(p, i, j);
}

/* Returns 1 if the request was one of ours. */
int
parent_req_handle(struct parent *p, int i, const struct sxp_node *m)
{
	const char	*what = m->first->text;

	if (strcmp(what, "migrate") == 0)
		req_migrate(p, i, m);
	else if (strcmp(what, "save") == 0)
		req_save_restore(p, i, m, WORKER_OP_SAVE);
	else if (strcmp(what, "restore") == 0)
		req_save_restore(p, i, m, WORKER_OP_RESTORE);
	else if (strcmp(what, "sim-create") == 0)
		req_sim_create(p, i, m);
	else if (strcmp(what, "sim-destroy") == 0)
		req_sim_destroy(p, i, m);
	else if (strcmp(what, "cancel") == 0)
		req_cancel(p, i, m);
	else if (strcmp(what, "resolve") == 0)
		req_resolve(p, i, m);
	else
		return 0;
	return 1;
}
