// SPDX-License-Identifier: ISC
/*
 * The worker: one process per operation, exec'd by the parent, running
 * as root with the hypervisor backend and no network.  It gets its orders
 * and reports its steps as typed messages on WORKER_MSG_FD; a stream, if
 * the operation has one, arrives on or leaves through WORKER_DATA_FD,
 * whose other end is a network child.  The orders come from the parent,
 * which it trusts; the stream comes from an authenticated peer and is
 * parsed by the backend (for Xen guests, by libxenguest): that is
 * relocd's trust boundary.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "conf.h"
#include "log.h"
#include "msg.h"
#include "proc.h"
#include "proto.h"
#include "util.h"
#include "worker.h"

/*
 * Reports one step to the parent, and where the guest runs after it
 * (enum msg_guest_where): the parent decides on that, never on text.
 */
static int
worker_send_step(struct worker *w, int phase, int code, int where,
    const char *text, const struct guest_info *g,
    const struct msg_stats *stats, const struct check_list *checks)
{
	struct msg_step	*st;
	int		 rc = 0;

	/* Large with its findings: not on the stack of every caller. */
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_warn("reporting to the parent");
		return -1;
	}
	st->phase = phase;
	st->code = code;
	st->where = where;
	STRLCPY_ARRAY(st->id, w->start.reserve.id);	/* w->id */
	util_text_copy(st->text, text, sizeof(st->text));
	if (g != NULL)
		st->guest = *g;
	if (stats != NULL)
		st->stats = *stats;
	if (checks != NULL)
		st->checks = *checks;
	if (phase == PHASE_RESERVED && code == PE_NONE) {
		st->available = w->available;
		st->available_known = (uint32_t)w->available_known;
	}
	if (msg_send(WORKER_MSG_FD, MSG_WORKER_STEP, st, sizeof(*st),
	    -1) == -1) {
		log_warn("reporting to the parent");
		rc = -1;
	}
	free(st);
	return rc;
}

int
worker_step_where(struct worker *w, int phase, int code, int where,
    const char *text, const struct guest_info *g,
    const struct msg_stats *stats)
{
	return worker_send_step(w, phase, code, where, text, g, stats, NULL);
}

/* A step with the pre-flight's findings (reserved, or its refusal). */
int
worker_step_checks(struct worker *w, int phase, int code, const char *text,
    const struct guest_info *g, const struct check_list *checks)
{
	return worker_send_step(w, phase, code, GUEST_WHERE_UNKNOWN, text, g,
	    NULL, checks);
}

/* Reports one step that does not say where the guest runs. */
int
worker_step(struct worker *w, int phase, int code, const char *text,
    const struct guest_info *g, const struct msg_stats *stats)
{
	return worker_step_where(w, phase, code, GUEST_WHERE_UNKNOWN, text, g,
	    stats);
}

/* Reports a backend failure as the end of this operation. */
int
worker_fail_checks(struct worker *w, int phase,
    const struct backend_error *err, const struct check_list *checks)
{
	worker_step_checks(w, phase, proto_error_from_backend(err->code),
	    err->msg, NULL, checks);
	return -1;
}

int
worker_fail(struct worker *w, int phase, const struct backend_error *err)
{
	worker_step(w, phase, proto_error_from_backend(err->code), err->msg,
	    NULL, NULL);
	return -1;
}

/*
 * Waits for the parent's next command.  If the parent is gone, that is an
 * abort: a worker never acts on its own past the step it was told.
 */
int
worker_wait_cmd(struct msg_step *cmd, int *fd_r)
{
	uint32_t	type;
	size_t		len;

	if (fd_r != NULL)
		*fd_r = -1;
	if (msg_recv(WORKER_MSG_FD, &type, cmd, sizeof(*cmd), &len,
	    fd_r) != 0 || type != MSG_WORKER_CMD) {
		memset(cmd, 0, sizeof(*cmd));
		cmd->phase = PHASE_ABORTED;
		cmd->code = PE_INTERNAL;
		STRLCPY_ARRAY(cmd->text, "relocd went away");
		return -1;
	}
	MSG_TERMINATE(cmd->text);
	return 0;
}

/* Like worker_wait_cmd, but only if a command is already waiting. */
int
worker_poll_cmd(struct msg_step *cmd)
{
	struct pollfd	pfd = { WORKER_MSG_FD, POLLIN, 0 };

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	worker_wait_cmd(cmd, NULL);
	return 1;
}

/*
 * Reads whatever the parent sent that we no longer need, so that our
 * exit does not reset the socket pair before the parent has read our
 * last report.
 */
static void
worker_drain(void)
{
	struct msg_step	cmd;
	int		n;

	/* Bounded: a closed socket polls readable forever. */
	for (n = 0; n < 16 && worker_poll_cmd(&cmd); n++)
		;
}

static int
worker_list(struct worker *w)
{
	struct backend_error	 err;
	struct guest_info	*gs = NULL;
	struct msg_guest	 mg;
	size_t			 n = 0, i;

	if (w->ops->list(w->be, &gs, &n, &err) == -1)
		return worker_fail(w, PHASE_LISTED, &err);
	for (i = 0; i < n; i++) {
		memset(&mg, 0, sizeof(mg));
		mg.guest = gs[i];
		if (msg_send(WORKER_MSG_FD, MSG_WORKER_GUEST, &mg, sizeof(mg),
		    -1) == -1)
			break;
	}
	free(gs);
	return worker_step(w, PHASE_LISTED, PE_NONE, "", NULL, NULL);
}

static void
worker_read_start(struct worker *w)
{
	uint32_t	type;
	size_t		len;

	if (msg_recv(WORKER_MSG_FD, &type, &w->start, sizeof(w->start), &len,
	    NULL) != 0 || type != MSG_WORKER_START)
		fatalx("no start message from the parent");
	MSG_TERMINATE(w->start.state_dir);
	MSG_TERMINATE(w->start.xl_command);
	MSG_TERMINATE(w->start.guest);
	MSG_TERMINATE(w->start.path);
	MSG_TERMINATE(w->start.reserve.id);
	MSG_TERMINATE(w->start.reserve.config);
	msg_terminate_guest(&w->start.reserve.guest);
	w->id = w->start.reserve.id;
}

int
worker_main(void)
{
	static struct worker	 w;
	struct backend_error	 err;
	int			 rc;

	log_procinit("worker");
	proc_no_dumps();
	worker_read_start(&w);
	if (w.start.op == WORKER_OP_XL_RECEIVE) {
		/* xl is the toolstack here: no backend of ours is involved. */
		rc = worker_xl_receive(&w);
		worker_drain();
		return rc == 0 ? 0 : 1;
	}
	if ((w.ops = backend_get(w.start.backend)) == NULL)
		fatalx("backend %d: no such backend", w.start.backend);
	memset(&err, 0, sizeof(err));
	/* The backend's one argument has a field of its own (msg.h). */
	if (w.ops->open(w.start.backend == CONF_BACKEND_XEN ?
	    w.start.xl_command : w.start.state_dir, &w.be, &err) == -1) {
		worker_fail(&w, PHASE_ABORTED, &err);
		fatalx("backend %s: %s", w.ops->name, err.msg);
	}
	switch (w.start.op) {
	case WORKER_OP_LIST:
		rc = worker_list(&w);
		break;
	case WORKER_OP_RECEIVE:
		rc = worker_receive(&w);
		break;
	case WORKER_OP_SEND:
		rc = worker_send(&w);
		break;
	case WORKER_OP_SAVE:
		rc = worker_save_file(&w);
		break;
	case WORKER_OP_RESTORE:
		rc = worker_restore_file(&w);
		break;
	case WORKER_OP_CREATE:
		rc = worker_create(&w);
		break;
	case WORKER_OP_DESTROY:
		rc = worker_destroy(&w);
		break;
	case WORKER_OP_CLEANUP:
		rc = worker_cleanup(&w);
		break;
	case WORKER_OP_RESOLVE:
		rc = worker_resolve(&w);
		break;
	case WORKER_OP_ACTIVATE:
		rc = worker_activate(&w);
		break;
	default:
		fatalx("unknown operation %d", w.start.op);
	}
	w.ops->close(w.be);
	worker_drain();
	return rc == 0 ? 0 : 1;
}
