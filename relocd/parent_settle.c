// SPDX-License-Identifier: ISC
/*
 * Settling a guest whose fate a crash left open, in the parent.
 *
 * A worker that dies mid-migration leaves its guest wherever it had got
 * to.  A new worker finishes by the rule the dead one followed (DESIGN
 * section 5):
 *
 *   source, before the commit   resume the guest: "go" was never sent;
 *   source, after the commit    wait for the destination's word, as the
 *                               dead worker did, and free or resume;
 *   destination, before "go"    destroy the half-built guest;
 *   destination, after "go"     run the guest, which is ours now.
 *
 * relocctl resolve does the second for a guest that relocd left
 * suspended and in doubt, after its questions ran out or after relocd
 * itself died: a worker reads the guest's note (which migration, to
 * which host; worker_settle.c), and the destination is asked again by
 * migration id, as parent_out.c asks.  Only --force-resume and
 * --force-destroy act without an answer: they are the administrator's
 * word, for a destination that is gone for good, and logged as such.
 *
 * Runs in the parent.  What workers report is re-validated here.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "guest.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "parent_metrics.h"
#include "proto.h"
#include "util.h"
#include "worker.h"

/* Workers started for one job after its own died, at most. */
#define SETTLE_RECOVERIES_MAX	3
/* relocctl resolve asks this many times, 2 s apart (parent_out.c). */
#define SETTLE_RESOLVE_QUERIES	3

/* A worker for job j (or none, job NULL) that settles guest key. */
static int
settle_spawn(struct parent *p, struct job *j, int op, const char *key)
{
	struct msg_worker_start	*st;
	int			 rc = -1;

	if ((st = parent_worker_start_new(p, op, j != NULL ? j->id : NULL)) ==
	    NULL)
		log_warnx("settling %s: no worker", key);
	else if (strlcpy(st->guest, key, sizeof(st->guest)) >=
	    sizeof(st->guest))
		log_warnx("settling %s: a guest name or uuid is at most %zu "
		    "characters long", key, sizeof(st->guest) - 1);
	else if ((rc = parent_job_start_worker(p, j, st, -1, NULL)) == -1)
		log_warnx("settling %s: no worker", key);
	free(st);
	return rc;
}

/*
 * The worker of job j died (status).  Returns 1 if a new worker carries
 * the job on; 0 if the caller ends it as failed (any half-built guest
 * is being removed by then).
 */
int
parent_settle_worker_gone(struct parent *p, struct job *j, int status)
{
	const char	*key = guest_uuid_valid(j->guest.uuid) ?
			    j->guest.uuid : j->guest.name;

	if (!guest_name_valid(j->guest.name) ||
	    j->recoveries++ >= SETTLE_RECOVERIES_MAX)
		return 0;
	log_warnx("%s %s: the worker %s; settling %s", j->what, j->id,
	    WIFSIGNALED(status) ? "was killed" : "failed", j->guest.name);
	if (j->role == JOB_LOCAL || (j->role == JOB_IN &&
	    parent_job_abortable(j))) {
		/* Not ours to run: a half-built guest goes, a saved one runs. */
		settle_spawn(p, NULL, WORKER_OP_CLEANUP, key);
		return 0;
	}
	if (j->role == JOB_IN)
		return settle_spawn(p, j, WORKER_OP_ACTIVATE, key) == 0;
	if (settle_spawn(p, j, WORKER_OP_RESOLVE, j->guest.name) == -1)
		return 0;
	j->aborting = 0;
	if (parent_job_abortable(j)) {
		if (j->result[0] == '\0' && WIFSIGNALED(status))
			STRLCPY_ARRAY(j->result, "the worker was killed");
		else if (j->result[0] == '\0')
			STRLCPY_ARRAY(j->result, "the worker failed");
		parent_job_to_net(p, j, PHASE_ABORTED, PE_INTERNAL, j->result,
		    -1);
		parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED, j->result, -1);
	} else if (j->state == JOB_GO)
		parent_job_cmd(p, j, PHASE_ACTIVATED, PE_NONE, "", -1);
	/* Committed or in doubt: the destination's word is still to come. */
	return 1;
}

/* relocctl resolve: the worker found the guest suspended, and its note. */
void
parent_settle_note(struct parent *p, struct job *j, struct msg_outgoing *o)
{
	MSG_TERMINATE(o->id);
	MSG_TERMINATE(o->peer);
	msg_terminate_guest(&o->guest);
	if (j->resolve == RESOLVE_NONE || j->state != JOB_STARTING)
		return;		/* a recovery: the job knows where it went */
	j->guest = o->guest;
	if (j->resolve == RESOLVE_FORCE_RESUME) {
		log_warnx("resolve %s: resuming %s here on the administrator's "
		    "word, without an answer from %s: if it runs there too, "
		    "it now runs twice", j->id, j->guest.name,
		    o->peer[0] ? o->peer : "the destination");
		j->state = JOB_COMMITTED;
		parent_job_cmd(p, j, PHASE_ABORTED, PE_NONE,
		    "resumed by relocctl resolve --force-resume", -1);
		return;
	}
	if (j->resolve == RESOLVE_FORCE_DESTROY) {
		log_warnx("resolve %s: destroying %s here on the "
		    "administrator's word, without an answer from %s", j->id,
		    j->guest.name, o->peer[0] ? o->peer : "the destination");
		j->state = JOB_GO;
		parent_job_cmd(p, j, PHASE_ACTIVATED, PE_NONE, "", -1);
		return;
	}
	if (!proto_id_valid(o->id) || !host_name_valid(o->peer, 1) ||
	    o->port < 1 || o->port > 65535 ||
	    (j->desc = calloc(1, sizeof(*j->desc))) == NULL) {
		j->state = JOB_IN_DOUBT;
		parent_job_cmd(p, j, PHASE_IN_DOUBT, PE_INTERNAL,
		    "no record here of where it went", -1);
		return;
	}
	STRLCPY_ARRAY(j->desc->id, o->id);
	j->desc->guest = o->guest;
	STRLCPY_ARRAY(j->peer, o->peer);
	j->port = o->port;
	j->state = JOB_IN_DOUBT;
	j->queries = 0;
	j->query_limit = SETTLE_RESOLVE_QUERIES;
	j->next_query_ms = util_now_ms();
	log_info("resolve %s: asking %s port %d where migration %s of %s "
	    "stands", j->id, j->peer, j->port, o->id, j->guest.name);
}

/* How a resolve (or a recovered migration) ends; 1 if handled here. */
int
parent_settle_step(struct parent *p, struct job *j, const struct msg_step *st)
{
	const char	*name = j->guest.name;
	char		 text[800];
	int		 forced = j->resolve == RESOLVE_FORCE_RESUME ||
			    j->resolve == RESOLVE_FORCE_DESTROY, ok;

	if (j->resolve == RESOLVE_NONE) {
		/* Recovered after "activated": our copy was already gone. */
		if (j->state != JOB_GO || st->phase != PHASE_ABORTED)
			return 0;
		parent_job_end(p, j, 1, PE_NONE, "done");
		return 1;
	}
	switch (st->phase) {
	case PHASE_DONE:
		snprintf(text, sizeof(text), "%s was destroyed here%s%s", name,
		    forced ? " on the administrator's word" : "; it runs on ",
		    forced ? "" : j->peer);
		parent_job_end(p, j, 1, PE_NONE, text);
		return 1;
	case PHASE_ABORTED:
		ok = st->code != PE_BAD_GUEST && st->code != PE_INTERNAL &&
		    st->where == GUEST_WHERE_HERE;
		if (ok)
			snprintf(text, sizeof(text), "%s was resumed here%s",
			    name, forced ? " on the administrator's word" :
			    "; the destination never took it over");
		else
			STRLCPY_ARRAY(text, st->text);
		parent_job_end(p, j, ok, ok ? PE_NONE : st->code, text);
		return 1;
	case PHASE_IN_DOUBT:
		snprintf(text, sizeof(text), "in doubt: %s stays suspended here "
		    "(%s); if it runs on %s, use resolve --force-destroy, "
		    "else --force-resume", name, st->text, j->peer[0] ?
		    j->peer : "the destination");
		j->in_doubt = 1;
		parent_job_end(p, j, 0, PE_INTERNAL, text);
		return 1;
	}
	return 0;
}

/*
 * relocctl resolve GUEST: job j (new, role JOB_OUT) gets a worker that
 * finds the guest and its note; the rest follows from its report.
 */
int
parent_settle_resolve(struct parent *p, struct job *j, int mode, char *err,
    size_t errlen)
{
	struct job	*o;
	int		 i;

	for (i = 0; i < JOBS_MAX; i++) {
		o = &p->jobs[i];
		if (o != j && o->state != JOB_FREE && o->state != JOB_ENDED &&
		    strcmp(o->guest.name, j->guest.name) == 0) {
			snprintf(err, errlen, "%s %s of %s is still running "
			    "(state %s); see relocctl status", o->what, o->id,
			    o->guest.name, parent_job_state_name(o->state));
			return -1;
		}
	}
	j->resolve = mode;
	if (settle_spawn(p, j, WORKER_OP_RESOLVE, j->guest.name) == -1) {
		snprintf(err, errlen, "cannot start a worker");
		return -1;
	}
	return 0;
}
