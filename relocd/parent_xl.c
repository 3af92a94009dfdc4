// SPDX-License-Identifier: ISC
/*
 * The parent's side of an xl plugin's request: a network child has
 * authenticated a peer (TLS, hosts-allow, peers-allow), parsed its
 * xl-receive into xl's known flags, and asks us to run xl.  We apply the
 * same bounds as to a migration (relocd-max-migrations), start a worker
 * that runs `xl migrate-receive` with exactly those flags on one end of a
 * socket pair, hand the other end to the network child once xl runs, and
 * relay xl's exit status back.  Every request is logged with the peer's
 * address, its certificate name, the flags, and the result.
 *
 * Runs in the parent.  The request comes from a network child: its
 * struct is size-checked by msg.c and every field is checked here.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "parent_metrics.h"
#include "proto.h"
#include "util.h"
#include "worker.h"
#include "xlreq.h"

/*
 * Room in the socket pair for a whole data frame (XL_CHUNK_MAX) each
 * way, so that the network child writes one frame with one system call.
 * As root we may exceed net.core.wmem_max; either way, best effort.
 */
#define XL_SOCKET_BUFFER	(1024 * 1024)

static void
xl_socket_buffers(const int sv[2])
{
	int	size = XL_SOCKET_BUFFER, i;

	for (i = 0; i < 2; i++)
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &size,
		    sizeof(size)) == -1)
			(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size,
			    sizeof(size));
}

/* Tells the network child how things stand, with an fd or -1. */
static void
xl_to_net(struct parent *p, pid_t pid, const char *id, int phase, int code,
    const char *text, int status, int fd)
{
	struct child	*c = parent_child_find(p, pid);
	struct msg_step	 st;

	if (c == NULL || c->fd == -1)
		return;
	memset(&st, 0, sizeof(st));
	if (strlcpy(st.id, id, sizeof(st.id)) >= sizeof(st.id)) {
		log_warnx("xl-receive %s: an id longer than %d characters",
		    id, MIG_ID_LEN);
		return;
	}
	st.phase = phase;
	st.code = code;
	st.status = status;
	util_text_copy(st.text, text, sizeof(st.text));
	if (msg_send(c->fd, MSG_STEP, &st, sizeof(st), fd) == -1)
		log_warn("xl-receive %s: telling the network child", id);
}

/* Refuses before any job exists; the network child tells the peer. */
static void
xl_refuse(struct parent *p, struct child *c, const char *id,
    const char *what, int code, const char *why)
{
	log_warnx("peer %s (%s): xl-receive %s (%s) refused: %s", c->ip,
	    c->cert[0] ? c->cert : "-", id, what, why);
	parent_metrics_refused_code(code);
	xl_to_net(p, c->pid, id, PHASE_RESERVED, code, why, 0, -1);
}

static int
xl_start_worker(struct parent *p, struct job *j, int fd)
{
	struct msg_worker_start	*st;
	int			 rc;

	if ((st = parent_worker_start_new(p, WORKER_OP_XL_RECEIVE,
	    j->id)) == NULL)
		return -1;
	st->xl = j->xl;
	rc = parent_job_start_worker(p, j, st, fd, NULL);
	free(st);
	return rc;
}

/* A network child asks for xl migrate-receive on behalf of its peer. */
void
parent_xl_request(struct parent *p, struct child *c, struct msg_xl_receive *r)
{
	struct job	*j;
	char		 what[96];
	int		 sv[2];

	MSG_TERMINATE(r->id);
	if (!c->authenticated || c->job != -1 || !proto_id_valid(r->id) ||
	    !xlreq_valid(&r->flags)) {
		parent_child_kill(c, "invalid xl-receive message");
		return;
	}
	xlreq_format(&r->flags, what, sizeof(what));
	log_info("peer %s (%s): asks for xl-receive %s: %s", c->ip,
	    c->cert[0] ? c->cert : "-", r->id, what);
	if (p->stopping) {
		xl_refuse(p, c, r->id, what, PE_BUSY, "relocd is stopping here");
		return;
	}
	if (parent_job_running(p) >= p->conf->max_migrations) {
		xl_refuse(p, c, r->id, what, PE_BUSY, "too many migrations "
		    "(relocd-max-migrations)");
		return;
	}
	if (parent_job_find(p, r->id) != NULL) {
		xl_refuse(p, c, r->id, what, PE_PROTOCOL, "that id is in use");
		return;
	}
	if ((j = parent_job_new(p, JOB_XL, "xl-receive")) == NULL) {
		xl_refuse(p, c, r->id, what, PE_BUSY, "job table full");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		j->state = JOB_FREE;
		xl_refuse(p, c, r->id, what, PE_INTERNAL, "no socket pair");
		return;
	}
	xl_socket_buffers(sv);
	j->state = JOB_RESERVING;
	STRLCPY_ARRAY(j->id, r->id);
	STRLCPY_ARRAY(j->peer, c->ip);
	if (c->cert[0] != '\0')
		STRLCPY_ARRAY(j->cert, c->cert);
	else
		STRLCPY_ARRAY(j->cert, "-");
	j->xl = r->flags;
	j->net_pid = c->pid;
	parent_metrics_job_started(p, j);
	j->data_wr = sv[0];
	c->job = (int)(j - p->jobs);
	if (xl_start_worker(p, j, sv[1]) == -1) {
		xl_to_net(p, c->pid, j->id, PHASE_RESERVED, PE_INTERNAL,
		    "no worker", 0, -1);
		parent_job_end(p, j, 0, PE_INTERNAL, "worker failed to start");
	}
	close(sv[1]);
}

/* The worker: xl started (or could not), then xl's exit status. */
void
parent_xl_worker_step(struct parent *p, struct job *j,
    const struct msg_step *st)
{
	char	what[96], result[PROTO_TEXT_MAX + 1];

	xlreq_format(&j->xl, what, sizeof(what));
	if (st->phase == PHASE_RESERVED && st->code == PE_NONE) {
		j->state = JOB_STREAMING;
		j->streaming_ms = util_now_ms();
		xl_to_net(p, j->net_pid, j->id, PHASE_RESERVED, PE_NONE, "", 0,
		    j->data_wr);
		close(j->data_wr);
		j->data_wr = -1;
		return;
	}
	if (st->phase == PHASE_DONE && st->code == PE_NONE) {
		snprintf(result, sizeof(result), "xl exited with status %d",
		    (int)st->status);
		xl_to_net(p, j->net_pid, j->id, PHASE_DONE, PE_NONE, "",
		    st->status, -1);
	} else {
		if (st->text[0] != '\0')
			STRLCPY_ARRAY(result, st->text);
		else
			STRLCPY_ARRAY(result, "xl did not run");
		xl_to_net(p, j->net_pid, j->id, st->phase, st->code > PE_NONE &&
		    st->code < PE_MAX ? st->code : PE_INTERNAL, result, 0, -1);
	}
	/* The one line per request that DESIGN section 3 asks for. */
	log_info("xl-receive %s from peer %s (%s): %s: %s", j->id, j->peer,
	    j->cert, what, result);
	parent_job_end(p, j, st->code == PE_NONE && st->status == 0,
	    st->code, result);
}
