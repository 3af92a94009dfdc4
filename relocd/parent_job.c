// SPDX-License-Identifier: ISC
/*
 * The parent's job table: one entry per operation, linking the network
 * child that talks to the peer with the worker that drives the backend.
 * The parent relays between them and records what happened; the stream
 * itself goes from one to the other through a pipe, never through here.
 *
 * This file holds the table, the relay primitives, and the destination's
 * side of a migration; parent_out.c holds the source's.
 *
 * Runs in the parent.  Messages from network children are untrusted in
 * the sense of msg.c: every string is re-terminated and re-validated.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "proto.h"
#include "util.h"
#include "worker.h"

static union {
	struct msg_peer		peer;
	struct msg_reserve	reserve;
	struct msg_xl_receive	xl;
	struct msg_step		step;
	struct msg_guest	guest;
	struct msg_outgoing	note;
} job_buf;

static const char *const job_state_names[] = {
	"free", "starting", "reserving", "streaming", "prepared", "committed",
	"go", "in-doubt", "ended"
};

const char *
parent_job_state_name(int state)
{
	return state >= 0 && state <= JOB_ENDED ? job_state_names[state] : "?";
}

static int
job_active(const struct job *j)
{
	return j->state != JOB_FREE && j->state != JOB_ENDED;
}

int
parent_job_running(const struct parent *p)
{
	int	i, n = 0;

	for (i = 0; i < JOBS_MAX; i++)
		n += job_active(&p->jobs[i]) && p->jobs[i].role != JOB_LOCAL;
	return n;
}

struct job *
parent_job_find(struct parent *p, const char *id)
{
	int	i;

	for (i = 0; i < JOBS_MAX; i++)
		if (p->jobs[i].state != JOB_FREE &&
		    strcmp(p->jobs[i].id, id) == 0)
			return &p->jobs[i];
	return NULL;
}

/* A free slot, reusing the oldest ended job when the table is full. */
struct job *
parent_job_new(struct parent *p, int role, const char *what)
{
	struct job	*j = NULL;
	int		 i;

	for (i = 0; i < JOBS_MAX && j == NULL; i++)
		if (p->jobs[i].state == JOB_FREE)
			j = &p->jobs[i];
	for (i = 0; i < JOBS_MAX && j == NULL; i++)
		if (p->jobs[i].state == JOB_ENDED && (j == NULL ||
		    p->jobs[i].ended_ms < j->ended_ms))
			j = &p->jobs[i];
	if (j == NULL)
		return NULL;
	free(j->desc);
	memset(j, 0, sizeof(*j));
	j->state = JOB_STARTING;
	j->role = role;
	j->what = what;
	j->data_wr = -1;
	j->ctl = -1;
	j->started_ms = util_now_ms();
	j->stats.throttle = 100;
	return j;
}

/* Records the outcome, tells whoever watches, and frees the pipe. */
void
parent_job_end(struct parent *p, struct job *j, int ok, int code,
    const char *result)
{
	if (j->state == JOB_ENDED)
		return;
	j->state = JOB_ENDED;
	j->ended_ms = util_now_ms();
	j->ok = ok;
	j->code = code;
	util_text_copy(j->result, result, sizeof(j->result));
	if (j->data_wr != -1) {
		close(j->data_wr);
		j->data_wr = -1;
	}
	log_info("%s %s%s%s: %s", j->what, j->id, j->guest.name[0] ? " of " :
	    "", j->guest.name, ok ? "succeeded" : result);
	parent_ctl_result(p, j);
}

static int
job_index(struct parent *p, const struct job *j)
{
	return (int)(j - p->jobs);
}

int
parent_job_start_worker(struct parent *p, struct job *j,
    struct msg_worker_start *st, int data_fd)
{
	int	wfd;

	st->backend = p->conf->backend;
	/* The backend's one argument (backend.h, open). */
	strlcpy(st->state_dir, p->conf->backend == CONF_BACKEND_XEN ?
	    p->conf->xl_command : p->conf->sim_dir, sizeof(st->state_dir));
	if (parent_spawn_worker(p, job_index(p, j), data_fd, &wfd,
	    &j->worker_pid) == -1 ||
	    msg_send(wfd, MSG_WORKER_START, st, sizeof(*st), -1) == -1) {
		log_warn("%s %s: starting the worker", j->what, j->id);
		return -1;
	}
	return 0;
}

static void
job_send_step(int fd, uint32_t type, const struct job *j, int phase,
    int code, const char *text, int pass_fd)
{
	struct msg_step	st;

	memset(&st, 0, sizeof(st));
	STRLCPY_ARRAY(st.id, j->id);
	st.phase = phase;
	st.code = code;
	util_text_copy(st.text, text, sizeof(st.text));
	st.guest = j->guest;
	st.stats = j->stats;
	if (msg_send(fd, type, &st, sizeof(st), pass_fd) == -1)
		log_warn("%s %s: relaying %d", j->what, j->id, phase);
}

/*
 * Tells the job's worker something (go on, go, abort, in doubt).  Abort
 * goes once: a worker that exits with a second one unread would reset
 * the socket pair and lose its own last report.
 */
void
parent_job_cmd(struct parent *p, struct job *j, int phase, int code,
    const char *text, int pass_fd)
{
	struct child	*w = parent_child_find(p, j->worker_pid);

	if (phase == PHASE_ABORTED && j->aborting++)
		return;
	if (w != NULL && w->fd != -1)
		job_send_step(w->fd, MSG_WORKER_CMD, j, phase, code, text,
		    pass_fd);
}

/* Tells the job's network child something. */
void
parent_job_to_net(struct parent *p, struct job *j, int phase, int code,
    const char *text, int pass_fd)
{
	struct child	*c = parent_child_find(p, j->net_pid);

	if (c != NULL && c->fd != -1)
		job_send_step(c->fd, MSG_STEP, j, phase, code, text, pass_fd);
}

static int
job_clashes(struct parent *p, const struct msg_reserve *r)
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

static int
job_reserve_valid(struct msg_reserve *r)
{
	MSG_TERMINATE(r->id);
	MSG_TERMINATE(r->config);
	MSG_TERMINATE(r->facts);
	msg_terminate_guest(&r->guest);
	if (r->config_len > BACKEND_CONFIG_MAX)
		return 0;
	r->config[r->config_len] = '\0';
	return proto_id_valid(r->id) && guest_name_valid(r->guest.name) &&
	    guest_uuid_valid(r->guest.uuid);
}

/*
 * Refuses a reservation before any job exists for it, and logs that
 * under the migration's id, so that grepping the id finds the refusal.
 */
static void
job_refuse(struct child *c, const char *id, int code, const char *text)
{
	struct msg_step	st;

	log_warnx("migration %s: refused: %s", id, text);
	memset(&st, 0, sizeof(st));
	if (strlcpy(st.id, id, sizeof(st.id)) >= sizeof(st.id)) {
		parent_child_kill(c, "a migration id longer than 32 "
		    "characters");
		return;
	}
	st.phase = PHASE_RESERVED;
	st.code = code;
	util_text_copy(st.text, text, sizeof(st.text));
	msg_send(c->fd, MSG_STEP, &st, sizeof(st), -1);
}

/* A peer asks to migrate a guest here: start the receiving worker. */
static void
job_on_reserve(struct parent *p, struct child *c, struct msg_reserve *r)
{
	static struct msg_worker_start	 start;
	struct msg_worker_start		*st = &start;
	struct job			*j;
	char				 why[PROTO_TEXT_MAX + 1];
	int				 pfd[2];

	if (!c->authenticated || c->job != -1 || !job_reserve_valid(r)) {
		parent_child_kill(c, "invalid reservation message");
		return;
	}
	log_info("peer %s: asks to reserve %s (%s, %llu MiB, %u vcpus) for "
	    "migration %s", c->ip, r->guest.name,
	    guest_type_name(r->guest.type),
	    (unsigned long long)(r->guest.memory_bytes >> 20),
	    r->guest.vcpus, r->id);
	if (parent_job_running(p) >= p->conf->max_migrations) {
		snprintf(why, sizeof(why), "too many migrations: %d running "
		    "(relocd-max-migrations)", p->conf->max_migrations);
		job_refuse(c, r->id, PE_BUSY, why);
		return;
	}
	if (job_clashes(p, r)) {
		job_refuse(c, r->id, PE_CLASH,
		    "a migration of that guest is already running here");
		return;
	}
	if ((j = parent_job_new(p, JOB_IN, "receive")) == NULL ||
	    util_pipe_data(pfd) == -1) {
		job_refuse(c, r->id, PE_BUSY, "job table full");
		return;
	}
	j->state = JOB_RESERVING;
	STRLCPY_ARRAY(j->id, r->id);
	j->guest = r->guest;
	STRLCPY_ARRAY(j->peer, c->ip);
	j->net_pid = c->pid;
	j->data_wr = pfd[1];
	j->stats.memory_bytes = r->guest.memory_bytes;
	c->job = job_index(p, j);
	/* r lives in job_buf: copy it before anything reuses that. */
	memset(st, 0, sizeof(*st));
	st->op = WORKER_OP_RECEIVE;
	st->reserve = *r;
	if (parent_job_start_worker(p, j, st, pfd[0]) == -1) {
		job_refuse(c, r->id, PE_INTERNAL, "no worker");
		parent_job_end(p, j, 0, PE_INTERNAL, "worker failed to start");
	}
	close(pfd[0]);
}

/* What a destination tells a source that asks after a lost connection. */
static const char *
job_phase_for_query(const struct job *j)
{
	if (j == NULL)
		return "unknown";
	if (j->state == JOB_ENDED)
		return j->ok ? "activated" : "aborted";
	if (j->state == JOB_GO)
		return "go";
	return parent_job_state_name(j->state);
}

static void
job_on_query(struct parent *p, struct child *c, struct msg_step *q)
{
	struct job	*j;
	struct msg_step	 st;

	MSG_TERMINATE(q->id);
	j = proto_id_valid(q->id) ? parent_job_find(p, q->id) : NULL;
	if (j != NULL && j->role != JOB_IN)
		j = NULL;
	memset(&st, 0, sizeof(st));
	STRLCPY_ARRAY(st.id, q->id);
	if (strlcpy(st.text, job_phase_for_query(j), sizeof(st.text)) >=
	    sizeof(st.text))
		fatalx("phase name %s longer than %d characters",
		    job_phase_for_query(j), PROTO_TEXT_MAX);
	msg_send(c->fd, MSG_STEP, &st, sizeof(st), -1);
}

/* Destination: the source's news, relayed to the worker. */
static void
job_in_net_step(struct parent *p, struct job *j, const struct msg_step *st)
{
	switch (st->phase) {
	case PHASE_PROGRESS:
		j->stats.bytes = st->stats.bytes;
		j->stats.round = st->stats.round;
		break;
	case PHASE_GO:
		if (j->state != JOB_PREPARED)
			break;
		j->state = JOB_GO;
		log_info("migration %s: go: %s is ours now", j->id,
		    j->guest.name);
		parent_job_cmd(p, j, PHASE_GO, PE_NONE, "", -1);
		break;
	case PHASE_ABORTED:
		if (j->state >= JOB_GO)
			break;
		log_info("migration %s: peer %s aborted: %s", j->id, j->peer,
		    st->text);
		parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED, st->text, -1);
		break;
	}
}

/* Destination: the worker's steps, relayed to the network child. */
static void
job_in_worker_step(struct parent *p, struct job *j, const struct msg_step *st)
{
	if (st->code != PE_NONE) {
		parent_job_to_net(p, j, st->phase, st->code, st->text, -1);
		parent_job_end(p, j, 0, st->code, st->text);
		return;
	}
	switch (st->phase) {
	case PHASE_RESERVED:
		j->guest = st->guest;
		j->state = JOB_STREAMING;
		parent_job_to_net(p, j, PHASE_RESERVED, PE_NONE, "",
		    j->data_wr);
		close(j->data_wr);
		j->data_wr = -1;
		break;
	case PHASE_PREPARED:
		j->state = JOB_PREPARED;
		j->stats.bytes = st->stats.bytes;
		j->stats.digest_ms = st->stats.digest_ms;
		parent_job_to_net(p, j, PHASE_PREPARED, PE_NONE, "", -1);
		break;
	case PHASE_ACTIVATED:
		j->stats.downtime_ms = st->stats.downtime_ms;
		parent_job_to_net(p, j, PHASE_ACTIVATED, PE_NONE, "", -1);
		parent_job_end(p, j, 1, PE_NONE, "activated");
		break;
	case PHASE_ABORTED:
		parent_job_end(p, j, 0, PE_ABORTED, st->text);
		break;
	}
}

static struct job *
job_of(struct parent *p, const struct child *c)
{
	return c->job >= 0 && c->job < JOBS_MAX ? &p->jobs[c->job] : NULL;
}

void
parent_job_net_message(struct parent *p, struct child *c)
{
	struct job	*j;
	uint32_t	 type;
	size_t		 len;
	int		 r;

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
	j = job_of(p, c);
	switch (type) {
	case MSG_NET_AUTHENTICATED:
		MSG_TERMINATE(job_buf.peer.cert[0]);
		MSG_TERMINATE(job_buf.peer.tls_version);
		c->authenticated = 1;
		if (job_buf.peer.ncert > 0)
			STRLCPY_ARRAY(c->cert, job_buf.peer.cert[0]);
		log_info("peer %s: authenticated as %s (%s)", c->ip,
		    job_buf.peer.ncert > 0 ? job_buf.peer.cert[0] : "-",
		    job_buf.peer.tls_version);
		break;
	case MSG_NET_RESERVE:
		job_on_reserve(p, c, &job_buf.reserve);
		break;
	case MSG_NET_QUERY:
		job_on_query(p, c, &job_buf.step);
		break;
	case MSG_NET_XL_RECEIVE:
		parent_xl_request(p, c, &job_buf.xl);
		break;
	case MSG_NET_STEP:
		MSG_TERMINATE(job_buf.step.text);
		msg_terminate_guest(&job_buf.step.guest);
		if (j == NULL || !job_active(j))
			break;
		if (j->role == JOB_IN)
			job_in_net_step(p, j, &job_buf.step);
		else if (j->role == JOB_OUT)
			parent_out_net_step(p, j, &job_buf.step);
		break;
	default:
		parent_child_kill(c, "unexpected message");
	}
}

/* save, restore, sim-create, sim-destroy: one step, then done. */
static void
job_local_worker_step(struct parent *p, struct job *j,
    const struct msg_step *st)
{
	if (st->guest.name[0] != '\0')
		j->guest = st->guest;
	j->stats = st->stats;
	parent_job_end(p, j, st->code == PE_NONE, st->code,
	    st->code == PE_NONE ? "done" : st->text);
}

void
parent_job_worker_message(struct parent *p, struct child *w)
{
	struct job	*j = job_of(p, w);
	uint32_t	 type;
	size_t		 len;

	if (msg_recv(w->fd, &type, &job_buf, sizeof(job_buf), &len,
	    NULL) != 0) {
		close(w->fd);
		w->fd = -1;
		return;
	}
	if (type == MSG_WORKER_GUEST && w->ctl != -1) {
		parent_ctl_worker_guest(p, w, &job_buf.guest);
		return;
	}
	if (type == MSG_WORKER_DESC && j != NULL && j->role == JOB_OUT) {
		parent_out_worker_desc(p, j, &job_buf.reserve);
		return;
	}
	if (type == MSG_WORKER_NOTE && j != NULL && j->role == JOB_OUT) {
		parent_settle_note(p, j, &job_buf.note);
		return;
	}
	if (type != MSG_WORKER_STEP) {
		parent_child_kill(w, "unexpected message");
		return;
	}
	MSG_TERMINATE(job_buf.step.text);
	msg_terminate_guest(&job_buf.step.guest);
	if (w->ctl != -1)
		parent_ctl_worker_done(p, w, &job_buf.step);
	else if (j == NULL || !job_active(j))
		return;
	else if (j->role == JOB_IN)
		job_in_worker_step(p, j, &job_buf.step);
	else if (j->role == JOB_OUT)
		parent_out_worker_step(p, j, &job_buf.step);
	else if (j->role == JOB_XL)
		parent_xl_worker_step(p, j, &job_buf.step);
	else
		job_local_worker_step(p, j, &job_buf.step);
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
		if (j->role == JOB_OUT)
			parent_out_net_gone(p, j);
		else if (j->state < JOB_GO)
			parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED,
			    "connection lost", -1);
	} else if (c->kind == CHILD_WORKER && c->pid == j->worker_pid) {
		j->worker_pid = 0;
		if (parent_settle_worker_gone(p, j, status))
			return;
		parent_job_to_net(p, j, PHASE_ABORTED, PE_INTERNAL,
		    "the worker failed", -1);
		parent_job_end(p, j, 0, PE_INTERNAL, WIFSIGNALED(status) ?
		    "the worker was killed; check the guest with relocctl list" :
		    "the worker failed; check the guest with relocctl list");
	}
}

/* relocctl cancel: allowed until the source's copy is committed. */
int
parent_job_cancel(struct parent *p, const char *id, char *err, size_t len)
{
	struct job	*j = parent_job_find(p, id);

	if (j == NULL || !job_active(j) || j->role != JOB_OUT) {
		snprintf(err, len, "no running outgoing migration %s", id);
		return -1;
	}
	if (j->state >= JOB_COMMITTED) {
		snprintf(err, len, "too late: migration %s is committed and "
		    "the destination owns the guest", id);
		return -1;
	}
	log_info("migration %s: cancelled by relocctl", id);
	/* The worker may first see its pipe close: keep the real reason. */
	STRLCPY_ARRAY(j->result, "cancelled by relocctl");
	parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED, "cancelled", -1);
	parent_job_to_net(p, j, PHASE_ABORTED, PE_ABORTED, "cancelled", -1);
	return 0;
}
