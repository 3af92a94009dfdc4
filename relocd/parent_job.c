// SPDX-License-Identifier: ISC
/*
 * The parent's job table: one entry per operation, linking the network
 * child that talks to the peer with the worker that drives the backend.
 * The parent relays between them and records what happened; the stream
 * itself goes from one to the other through a pipe, never through here.
 *
 * This file holds the table and the relay primitives; parent_in.c holds
 * the destination's side of a migration and parent_out.c the source's.
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
#include "metrics.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "parent_metrics.h"
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
	struct msg_refused	refused;
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

bool
parent_job_active(const struct job *j)
{
	return j->state != JOB_FREE && j->state != JOB_ENDED;
}

/*
 * The invariant of DESIGN section 5, in one place: may job j still end
 * with the source's copy running?  A source's copy is no longer
 * resumable once committed; a destination owns the guest from "go" (an
 * xl-receive and a local job likewise, once past their go).  After
 * that no abort, cancel or lost connection may resume the source: only
 * the peer's word settles where the guest runs.  Pure, so that the unit
 * tests hold every role and state against it.
 */
bool
parent_job_abortable(const struct job *j)
{
	if (!parent_job_active(j))
		return false;
	return j->role == JOB_OUT ? j->state < JOB_COMMITTED :
	    j->state < JOB_GO;
}

int
parent_job_running(const struct parent *p)
{
	int	i, n = 0;

	for (i = 0; i < JOBS_MAX; i++)
		n += parent_job_active(&p->jobs[i]) &&
		    p->jobs[i].role != JOB_LOCAL;
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
	/* The whole table: the first ended job need not be the oldest. */
	if (j == NULL)
		for (i = 0; i < JOBS_MAX; i++)
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
	j->unit_fd = -1;
	j->ctl = -1;
	j->started_ms = util_now_ms();
	j->started_wall_ms = util_realtime_ms();
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
	j->ended_ms = util_now_ms();
	j->ok = ok;
	j->code = code;
	/* Before the state changes: it says where the job ended. */
	parent_metrics_job_ended(p, j);
	j->state = JOB_ENDED;
	util_text_copy(j->result, result, sizeof(j->result));
	if (j->data_wr != -1) {
		close(j->data_wr);
		j->data_wr = -1;
	}
	/* A unit still to come finds its socket's other end closed. */
	if (j->unit_fd != -1) {
		close(j->unit_fd);
		j->unit_fd = -1;
	}
	log_info("%s %s%s%s: %s", j->what, j->id, j->guest.name[0] ? " of " :
	    "", j->guest.name, ok ? "succeeded" : result);
	parent_ctl_result(p, j);
	parent_report_job_end(p, j);
}

int
parent_job_index(const struct parent *p, const struct job *j)
{
	return (int)(j - p->jobs);
}

/* Copies a config value into a start message; a cut value is refused. */
static int
job_start_copy(const char *key, const char *value, char *dst, size_t size)
{
	if (value == NULL || strlcpy(dst, value, size) < size)
		return 0;
	log_warnx("%s is %zu bytes long, and a worker takes at most %zu: "
	    "no worker can start", key, strlen(value), size - 1);
	return -1;
}

/*
 * The one builder of a worker's start message: the fields every
 * operation shares come from the config here, once.  Each backend's one
 * argument (backend.h, open) has a field of its own: the sim backend's
 * directory (relocd-sim-dir) goes in state_dir, the xl program
 * (relocd-xl-command: the xen backend's, and xl-receive's) in
 * xl_command.  A value too long for its field is an error, never cut: a
 * cut path names another directory or program.  id, if not NULL, is the
 * job's migration id, which the worker's log lines name.  Returns the
 * message, for the caller to fill in and free, or NULL (logged).
 */
struct msg_worker_start *
parent_worker_start_new(struct parent *p, int op, const char *id)
{
	const struct conf	*c = p->conf;
	struct msg_worker_start	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_warn("a worker's start message");
		return NULL;
	}
	st->op = op;
	st->backend = c->backend;
	if (job_start_copy("migration id", id, st->reserve.id,
	    sizeof(st->reserve.id)) == -1 ||
	    job_start_copy("relocd-sim-dir", c->backend == CONF_BACKEND_SIM ?
	    c->sim_dir : NULL, st->state_dir, sizeof(st->state_dir)) == -1 ||
	    job_start_copy("relocd-xl-command", c->xl_command,
	    st->xl_command, sizeof(st->xl_command)) == -1) {
		free(st);
		return NULL;
	}
	return st;
}

/*
 * Starts a worker on st (from parent_worker_start_new), for job j, or
 * for no job if j is NULL (a guest list, a cleanup).  data_fd, or -1, is
 * the stream's end the worker gets; pid_r, if not NULL, its pid.
 */
int
parent_job_start_worker(struct parent *p, struct job *j,
    const struct msg_worker_start *st, int data_fd, pid_t *pid_r)
{
	pid_t	pid = 0;
	int	wfd = -1, rc = -1;

	/* A guest coming here: its worker runs in a unit of its own. */
	if (j != NULL && parent_unit_wanted(p, st)) {
		if (pid_r != NULL)
			*pid_r = 0;
		return parent_unit_start_worker(p, j, st, data_fd);
	}
	if (parent_spawn_worker(p, j != NULL ? parent_job_index(p, j) : -1,
	    data_fd, &wfd, &pid) == 0) {
		if (j != NULL)
			j->worker_pid = pid;
		rc = msg_send(wfd, MSG_WORKER_START, st, sizeof(*st), -1);
	}
	if (rc == -1 && j != NULL)
		log_warn("%s %s: starting the worker", j->what, j->id);
	else if (rc == -1)
		log_warn("starting a worker");
	if (pid_r != NULL)
		*pid_r = pid;
	return rc;
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
	st.checks = j->checks;
	st.protocol = j->protocol;
	st.available = j->available;
	st.available_known = j->available_known;
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
	/* Its unit has not connected yet: the command waits for it. */
	else if (w == NULL && j->unit_fd != -1)
		job_send_step(j->unit_fd, MSG_WORKER_CMD, j, phase, code,
		    text, pass_fd);
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

/*
 * A step's pre-flight findings become the job's (the newest list wins:
 * the destination's follow the source's, which only fail).
 */
static void
job_keep_checks(struct job *j, struct msg_step *st)
{
	checks_terminate(&st->checks);
	if (st->checks.n > 0)
		j->checks = st->checks;
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
		parent_in_reserve(p, c, &job_buf.reserve);
		break;
	case MSG_NET_QUERY:
		parent_in_query(p, c, &job_buf.step);
		break;
	case MSG_NET_XL_RECEIVE:
		parent_xl_request(p, c, &job_buf.xl);
		break;
	case MSG_NET_REFUSED:
		/*
		 * Counted once, before authentication only: a child that is
		 * refusing its peer is about to exit, and sends nothing else.
		 */
		if (c->authenticated || c->job != -1) {
			parent_child_kill(c, "unexpected message");
			break;
		}
		parent_metrics_refused(job_buf.refused.reason);
		close(c->fd);
		c->fd = -1;
		break;
	case MSG_NET_STEP:
		MSG_TERMINATE(job_buf.step.text);
		msg_terminate_guest(&job_buf.step.guest);
		/*
		 * Where a guest runs is our workers' word only: a network
		 * child relays what a peer says, and the peer's outcome is
		 * not ours (msg.h).
		 */
		job_buf.step.where = GUEST_WHERE_UNKNOWN;
		if (j == NULL || !parent_job_active(j))
			break;
		job_keep_checks(j, &job_buf.step);
		if (j->role == JOB_IN)
			parent_in_net_step(p, j, &job_buf.step);
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
	if (j != NULL && parent_job_active(j))
		job_keep_checks(j, &job_buf.step);
	if (w->ctl != -1)
		parent_ctl_worker_done(p, w, &job_buf.step);
	else if (j == NULL || !parent_job_active(j))
		return;
	else if (j->role == JOB_IN)
		parent_in_worker_step(p, j, &job_buf.step);
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
	if (j == NULL || !parent_job_active(j))
		return;
	if (c->kind == CHILD_NET && c->pid == j->net_pid) {
		j->net_pid = 0;
		if (j->role == JOB_OUT)
			parent_out_net_gone(p, j);
		else if (parent_job_abortable(j))
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

/*
 * Stops job j where the source's copy can still run on: its worker
 * resumes the guest (source) or discards what it built, and the peer is
 * told why.  Only for a job parent_job_abortable() allows.
 */
void
parent_job_abort(struct parent *p, struct job *j, int code, const char *why)
{
	/* The worker may first see its pipe close: keep the real reason. */
	if (j->result[0] == '\0')
		util_text_copy(j->result, why, sizeof(j->result));
	parent_job_cmd(p, j, PHASE_ABORTED, code, why, -1);
	parent_job_to_net(p, j, PHASE_ABORTED, code, why, -1);
}

/* relocctl cancel: allowed until the source's copy is committed. */
int
parent_job_cancel(struct parent *p, const char *id, char *err, size_t len)
{
	struct job	*j = parent_job_find(p, id);

	if (j == NULL || !parent_job_active(j) || j->role != JOB_OUT) {
		snprintf(err, len, "no running outgoing migration %s", id);
		return -1;
	}
	if (!parent_job_abortable(j)) {
		snprintf(err, len, "too late: migration %s is committed and "
		    "the destination owns the guest", id);
		return -1;
	}
	log_info("migration %s: cancelled by relocctl", id);
	STRLCPY_ARRAY(j->result, "cancelled by relocctl");
	j->cancelled = 1;
	parent_job_abort(p, j, PE_ABORTED, "cancelled");
	return 0;
}
