// SPDX-License-Identifier: ISC
/*
 * The worker: one process per operation, exec'd by the parent, running
 * as root with the hypervisor backend and no network.  It gets its orders
 * and reports its results as typed messages on WORKER_MSG_FD; a stream,
 * if the operation has one, arrives on WORKER_DATA_FD from the network
 * child.  The orders come from the parent, which it trusts; the stream
 * comes from an authenticated peer and is parsed by the backend (in the
 * xen backend, by libxenguest): that is relocd's trust boundary.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "msg.h"
#include "proc.h"
#include "proto.h"
#include "util.h"
#include "worker.h"

struct worker {
	const struct backend_ops *ops;
	void			*be;
	struct msg_worker_start	 start;
};

static int
worker_report(int phase, const char *id, int code, const char *text,
    const struct guest_info *g)
{
	struct msg_result	res;

	memset(&res, 0, sizeof(res));
	res.phase = phase;
	res.code = code;
	strlcpy(res.id, id, sizeof(res.id));
	strlcpy(res.text, text, sizeof(res.text));
	if (g != NULL)
		res.guest = *g;
	return msg_send(WORKER_MSG_FD, MSG_WORKER_RESULT, &res, sizeof(res),
	    -1);
}

static int
worker_list(struct worker *w)
{
	struct backend_error	 err;
	struct guest_info	*gs = NULL;
	struct msg_guest	 mg;
	size_t			 n = 0, i;

	if (w->ops->list(w->be, &gs, &n, &err) == -1)
		return worker_report(PHASE_LISTED, "",
		    proto_error_from_backend(err.code), err.msg, NULL);
	for (i = 0; i < n; i++) {
		memset(&mg, 0, sizeof(mg));
		mg.guest = gs[i];
		if (msg_send(WORKER_MSG_FD, MSG_WORKER_GUEST, &mg, sizeof(mg),
		    -1) == -1)
			break;
	}
	free(gs);
	return worker_report(PHASE_LISTED, "", PE_NONE, "", NULL);
}

/* Waits for the parent to say abort (or for it to go away). */
static void
worker_wait_abort(void)
{
	struct msg_result	res;
	uint32_t		type;
	size_t			len;

	while (msg_recv(WORKER_MSG_FD, &type, &res, sizeof(res), &len,
	    NULL) == 0 && type != MSG_WORKER_ABORT)
		;
}

/*
 * Destination side: reserve an empty guest.  The stream, the commit and
 * activation arrive with the migration engine; until then a reservation
 * is held until the peer or the parent aborts, then released.
 */
static int
worker_receive(struct worker *w)
{
	struct msg_reserve	*r = &w->start.reserve;
	struct guest_desc	 desc;
	struct guest_info	 got;
	struct backend_error	 err;

	memset(&desc, 0, sizeof(desc));
	desc.info = r->guest;
	desc.config = r->config;
	memset(&err, 0, sizeof(err));
	if (w->ops->reserve(w->be, &desc, &got, &err) == -1) {
		log_info("migration %s: reservation of %s refused: %s", r->id,
		    r->guest.name, err.msg);
		return worker_report(PHASE_RESERVED, r->id,
		    proto_error_from_backend(err.code), err.msg, NULL);
	}
	log_info("migration %s: reserved %s (domid %u)", r->id, got.name,
	    got.domid);
	if (worker_report(PHASE_RESERVED, r->id, PE_NONE, "", &got) == -1)
		log_warn("migration %s: reporting to the parent", r->id);
	worker_wait_abort();
	if (w->ops->destroy(w->be, got.name, &err) == -1)
		log_warnx("migration %s: releasing %s: %s", r->id, got.name,
		    err.msg);
	else
		log_info("migration %s: released %s", r->id, got.name);
	return worker_report(PHASE_ABORTED, r->id, PE_ABORTED, "released",
	    NULL);
}

int
worker_main(void)
{
	struct worker		 w;
	struct backend_error	 err;
	uint32_t		 type;
	size_t			 len;
	int			 rc;

	log_procinit("worker");
	proc_no_dumps();
	memset(&w, 0, sizeof(w));
	if (msg_recv(WORKER_MSG_FD, &type, &w.start, sizeof(w.start), &len,
	    NULL) != 0 || type != MSG_WORKER_START)
		fatalx("no start message from the parent");
	MSG_TERMINATE(w.start.state_dir);
	MSG_TERMINATE(w.start.reserve.id);
	MSG_TERMINATE(w.start.reserve.config);
	msg_terminate_guest(&w.start.reserve.guest);
	if ((w.ops = backend_get(w.start.backend)) == NULL)
		fatalx("backend %d is not built in", w.start.backend);
	if (w.ops->open(w.start.state_dir, &w.be, &err) == -1) {
		worker_report(w.start.op == WORKER_OP_LIST ? PHASE_LISTED :
		    PHASE_RESERVED, w.start.reserve.id, PE_INTERNAL, err.msg,
		    NULL);
		fatalx("backend %s: %s", w.ops->name, err.msg);
	}
	switch (w.start.op) {
	case WORKER_OP_LIST:
		rc = worker_list(&w);
		break;
	case WORKER_OP_RECEIVE:
		rc = worker_receive(&w);
		break;
	default:
		fatalx("unknown operation %d", w.start.op);
	}
	w.ops->close(w.be);
	return rc == 0 ? 0 : 1;
}
