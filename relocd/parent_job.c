// SPDX-License-Identifier: ISC
/*
 * The parent's job table: one entry per migration, linking the network
 * child that talks to the peer with the worker that drives the backend.
 * The parent relays between them and records what happened; the stream
 * itself goes from one to the other through a pipe, never through here.
 *
 * Runs in the parent.  Messages from network children are untrusted in
 * the sense of msg.c: every string is re-terminated and re-validated.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "proto.h"
#include "util.h"

static union {
	struct msg_peer		peer;
	struct msg_reserve	reserve;
	struct msg_result	result;
	struct msg_guest	guest;
	struct msg_worker_start	start;
} job_buf;

static int
job_active(const struct job *j)
{
	return j->state == JOB_RESERVING || j->state == JOB_RESERVED;
}

static int
job_count_active(const struct parent *p)
{
	int	i, n = 0;

	for (i = 0; i < JOBS_MAX; i++)
		n += job_active(&p->jobs[i]);
	return n;
}

static int
job_clashes(const struct parent *p, const struct msg_reserve *r)
{
	int	i;

	for (i = 0; i < JOBS_MAX; i++)
		if (job_active(&p->jobs[i]) &&
		    (strcmp(p->jobs[i].id, r->id) == 0 ||
		    strcmp(p->jobs[i].guest.name, r->guest.name) == 0 ||
		    strcmp(p->jobs[i].guest.uuid, r->guest.uuid) == 0))
			return 1;
	return 0;
}

/* A free slot, reusing the oldest ended job when the table is full. */
static int
job_new(struct parent *p)
{
	int	i, oldest = -1;

	for (i = 0; i < JOBS_MAX; i++) {
		if (p->jobs[i].state == JOB_FREE)
			return i;
		if (p->jobs[i].state == JOB_ENDED && (oldest == -1 ||
		    p->jobs[i].started_ms < p->jobs[oldest].started_ms))
			oldest = i;
	}
	return oldest;
}

static void
job_end(struct job *j, const char *result)
{
	j->state = JOB_ENDED;
	strlcpy(j->result, result, sizeof(j->result));
	if (j->data_wr != -1) {
		close(j->data_wr);
		j->data_wr = -1;
	}
}

/* Answers a network child's reservation request. */
static void
job_reply_reserve(struct parent *p, pid_t net_pid, const char *id, int code,
    const char *text, const struct guest_info *g, int fd)
{
	struct child		*c = parent_child_find(p, net_pid);
	struct msg_result	 res;

	if (c == NULL || c->fd == -1)
		return;
	memset(&res, 0, sizeof(res));
	res.phase = PHASE_RESERVED;
	res.code = code;
	strlcpy(res.id, id, sizeof(res.id));
	strlcpy(res.text, text, sizeof(res.text));
	if (g != NULL)
		res.guest = *g;
	if (msg_send(c->fd, MSG_RESERVE_RESULT, &res, sizeof(res), fd) == -1)
		log_warn("peer %s: answering the reservation", c->ip);
}

static int
job_reserve_valid(struct msg_reserve *r)
{
	MSG_TERMINATE(r->id);
	MSG_TERMINATE(r->config);
	msg_terminate_guest(&r->guest);
	if (r->config_len > BACKEND_CONFIG_MAX)
		return 0;
	r->config[r->config_len] = '\0';
	return proto_id_valid(r->id) && guest_name_valid(r->guest.name) &&
	    guest_uuid_valid(r->guest.uuid);
}

/* Starts the worker that reserves, and later receives, the guest. */
static void
job_start_receive(struct parent *p, struct child *c, struct msg_reserve *r)
{
	struct msg_worker_start	*st = &job_buf.start;
	struct job		*j;
	int			 slot, pfd[2], wfd;

	if ((slot = job_new(p)) == -1 || pipe2(pfd, O_CLOEXEC) == -1) {
		job_reply_reserve(p, c->pid, r->id, PE_BUSY, "job table full",
		    NULL, -1);
		return;
	}
	j = &p->jobs[slot];
	memset(j, 0, sizeof(*j));
	j->state = JOB_RESERVING;
	strlcpy(j->id, r->id, sizeof(j->id));
	j->guest = r->guest;
	strlcpy(j->peer, c->ip, sizeof(j->peer));
	j->net_pid = c->pid;
	j->data_wr = pfd[1];
	j->started_ms = parent_now_ms();
	c->job = slot;
	memset(st, 0, sizeof(*st));
	st->op = WORKER_OP_RECEIVE;
	st->backend = p->conf->backend;
	strlcpy(st->state_dir, p->conf->sim_dir, sizeof(st->state_dir));
	st->reserve = *r;
	if (parent_spawn_worker(p, slot, pfd[0], &wfd, &j->worker_pid) == -1 ||
	    msg_send(wfd, MSG_WORKER_START, st, sizeof(*st), -1) == -1) {
		log_warn("migration %s: starting the worker", r->id);
		job_reply_reserve(p, c->pid, r->id, PE_INTERNAL, "no worker",
		    NULL, -1);
		job_end(j, "worker failed to start");
	}
	close(pfd[0]);
}

static void
job_on_reserve(struct parent *p, struct child *c, struct msg_reserve *r)
{
	if (!c->authenticated || c->job != -1 || !job_reserve_valid(r)) {
		parent_child_kill(c, "invalid reservation message");
		return;
	}
	log_info("peer %s: asks to reserve %s (%s, %llu MiB, %u vcpus) for "
	    "migration %s", c->ip, r->guest.name,
	    guest_type_name(r->guest.type),
	    (unsigned long long)(r->guest.memory_bytes >> 20),
	    r->guest.vcpus, r->id);
	if (job_count_active(p) >= p->conf->max_migrations) {
		log_warnx("migration %s: refused: %d migrations running "
		    "(relocd-max-migrations)", r->id, p->conf->max_migrations);
		job_reply_reserve(p, c->pid, r->id, PE_BUSY,
		    "too many migrations", NULL, -1);
		return;
	}
	if (job_clashes(p, r)) {
		job_reply_reserve(p, c->pid, r->id, PE_CLASH,
		    "a migration of that guest is already running", NULL, -1);
		return;
	}
	job_start_receive(p, c, r);
}

static struct job *
job_of(struct parent *p, const struct child *c)
{
	return c->job >= 0 && c->job < JOBS_MAX ? &p->jobs[c->job] : NULL;
}

/* Tells a job's worker to give up; the worker releases what it holds. */
static void
job_abort_worker(struct parent *p, struct job *j, int code, const char *why)
{
	struct child		*w = parent_child_find(p, j->worker_pid);
	struct msg_result	 res;

	if (w == NULL || w->fd == -1)
		return;
	memset(&res, 0, sizeof(res));
	res.phase = PHASE_ABORTED;
	res.code = code;
	strlcpy(res.id, j->id, sizeof(res.id));
	strlcpy(res.text, why, sizeof(res.text));
	if (msg_send(w->fd, MSG_WORKER_ABORT, &res, sizeof(res), -1) == -1)
		log_warn("migration %s: telling the worker to abort", j->id);
}

static void
job_on_net_abort(struct parent *p, struct child *c, struct msg_result *res)
{
	struct job	*j = job_of(p, c);

	MSG_TERMINATE(res->text);
	if (j == NULL || !job_active(j))
		return;
	log_info("migration %s: peer %s aborted: %s", j->id, c->ip,
	    res->text);
	job_abort_worker(p, j, PE_ABORTED, "peer aborted");
}

void
parent_job_net_message(struct parent *p, struct child *c)
{
	uint32_t	type;
	size_t		len;
	int		r;

	r = msg_recv(c->fd, &type, &job_buf, sizeof(job_buf), &len, NULL);
	if (r == 1) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	if (r == -1) {
		parent_child_kill(c, "malformed message");
		return;
	}
	switch (type) {
	case MSG_NET_AUTHENTICATED:
		MSG_TERMINATE(job_buf.peer.cert[0]);
		MSG_TERMINATE(job_buf.peer.tls_version);
		c->authenticated = 1;
		log_info("peer %s: authenticated as %s (%s)", c->ip,
		    job_buf.peer.ncert > 0 ? job_buf.peer.cert[0] : "-",
		    job_buf.peer.tls_version);
		break;
	case MSG_NET_RESERVE:
		job_on_reserve(p, c, &job_buf.reserve);
		break;
	case MSG_NET_ABORT:
		job_on_net_abort(p, c, &job_buf.result);
		break;
	default:
		parent_child_kill(c, "unexpected message");
	}
}

static void
job_on_worker_result(struct parent *p, struct child *w,
    struct msg_result *res)
{
	struct job	*j = job_of(p, w);

	MSG_TERMINATE(res->text);
	MSG_TERMINATE(res->id);
	msg_terminate_guest(&res->guest);
	if (w->ctl != -1) {
		parent_ctl_worker_done(p, w, res);
		return;
	}
	if (j == NULL)
		return;
	if (res->phase == PHASE_RESERVED && j->state == JOB_RESERVING) {
		if (res->code != PE_NONE) {
			job_reply_reserve(p, j->net_pid, j->id, res->code,
			    res->text, NULL, -1);
			job_end(j, res->text);
			return;
		}
		j->guest = res->guest;
		j->state = JOB_RESERVED;
		job_reply_reserve(p, j->net_pid, j->id, PE_NONE, "",
		    &res->guest, j->data_wr);
		close(j->data_wr);
		j->data_wr = -1;
	} else if (res->phase == PHASE_ABORTED)
		job_end(j, res->text[0] ? res->text : "aborted");
}

void
parent_job_worker_message(struct parent *p, struct child *w)
{
	uint32_t	type;
	size_t		len;
	int		r;

	r = msg_recv(w->fd, &type, &job_buf, sizeof(job_buf), &len, NULL);
	if (r != 0) {
		close(w->fd);
		w->fd = -1;
		return;
	}
	if (type == MSG_WORKER_RESULT)
		job_on_worker_result(p, w, &job_buf.result);
	else if (type == MSG_WORKER_GUEST && w->ctl != -1)
		parent_ctl_worker_guest(p, w, &job_buf.guest);
	else
		parent_child_kill(w, "unexpected message");
}

/* A child is gone: whatever it was part of must not wait for it. */
void
parent_job_child_exited(struct parent *p, struct child *c, int status)
{
	struct job	*j = job_of(p, c);

	if (c->kind == CHILD_WORKER && c->ctl != -1)
		parent_ctl_worker_gone(p, c);
	if (j == NULL || !job_active(j))
		return;
	if (c->kind == CHILD_NET && c->pid == j->net_pid) {
		j->net_pid = 0;
		job_abort_worker(p, j, PE_ABORTED, "connection lost");
	} else if (c->kind == CHILD_WORKER && c->pid == j->worker_pid) {
		j->worker_pid = 0;
		if (j->state == JOB_RESERVING)
			job_reply_reserve(p, j->net_pid, j->id, PE_INTERNAL,
			    "worker failed", NULL, -1);
		job_end(j, WIFSIGNALED(status) ? "worker killed" :
		    "worker exited");
	}
}

int
parent_job_running(const struct parent *p)
{
	return job_count_active(p);
}
