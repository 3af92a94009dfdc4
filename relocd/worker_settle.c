// SPDX-License-Identifier: ISC
/*
 * What happens to a guest once a migration of it is past its commit,
 * and how relocd finds that out again after a crash.
 *
 * Source: before "go" can leave, the worker records the migration with
 * the guest, in the backend's note (xen: libxl userdata), as
 * "(relocd-outgoing (id ID) (peer HOST) (port N))".  From then on only
 * the destination's word frees the copy here ("activated") or resumes it
 * ("aborted"); without that word it stays suspended.  The note lives as
 * long as the guest, so relocctl resolve can ask the destination again,
 * by the same migration id, after relocd itself died; and a suspended
 * guest with no note was never committed, so it is safe to resume.
 *
 * Destination: a guest being received carries "(relocd-incoming (id
 * ID))" until it runs, so that a relocd starting after a crash knows a
 * stopped guest for a half-built one.  If the worker dies after "go", a
 * new one (worker_activate) runs the guest the source gave up.
 *
 * Runs in the worker, as root.  Notes are root's files, but they are
 * still parsed with bounds and checked like anything else we read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "fault.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "sxp.h"
#include "util.h"
#include "worker.h"

/* Parses a note; o->id stays "" unless it records an outgoing migration. */
static int
note_parse(const char *text, struct msg_outgoing *o, int *incoming_r)
{
	struct sxp_node		*root = NULL;
	const struct sxp_node	*l;
	struct sxp_error	 serr;
	const char		*id, *peer, *port, *errstr;
	int			 rc = -1;

	*incoming_r = 0;
	if (sxp_parse(text, strlen(text), &root, &serr) == -1)
		return -1;
	l = root->first;
	if (l == NULL || l->type != SXP_LIST || l->first == NULL ||
	    l->first->type != SXP_ATOM || (id = sxp_field(l, "id")) == NULL ||
	    !proto_id_valid(id))
		goto out;
	if (strcmp(l->first->text, "relocd-incoming") == 0) {
		*incoming_r = 1;
		rc = 0;
		goto out;
	}
	if (strcmp(l->first->text, "relocd-outgoing") != 0 ||
	    (peer = sxp_field(l, "peer")) == NULL || *peer == '\0' ||
	    strlen(peer) >= sizeof(o->peer) ||
	    (port = sxp_field(l, "port")) == NULL)
		goto out;
	o->port = (int32_t)util_strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL)
		goto out;
	if (strlcpy(o->id, id, sizeof(o->id)) >= sizeof(o->id) ||
	    strlcpy(o->peer, peer, sizeof(o->peer)) >= sizeof(o->peer))
		goto out;
	rc = 0;
out:
	sxp_free(root);
	return rc;
}

/* The source's record that migration w->id of guest is past its commit. */
int
worker_note_outgoing(struct worker *w, const char *guest,
    struct backend_error *err)
{
	char	note[BACKEND_NOTE_MAX + 1], q[4 * sizeof(w->start.out.peer)];

	MSG_TERMINATE(w->start.out.peer);
	if (w->ops->set_note == NULL)
		return backend_fail(err, BE_UNSUPPORTED, "the %s backend "
		    "cannot record a commit", w->ops->name);
	if (sxp_quote(w->start.out.peer, strlen(w->start.out.peer), q,
	    sizeof(q)) == -1 || snprintf(note, sizeof(note),
	    "(relocd-outgoing (id %s) (peer %s) (port %d))", w->id, q,
	    (int)w->start.out.port) >= (int)sizeof(note))
		return backend_fail(err, BE_INTERNAL, "note too long");
	return w->ops->set_note(w->be, guest, note, err);
}

/* The destination's mark on a guest it is receiving. */
int
worker_note_incoming(struct worker *w, const char *guest,
    struct backend_error *err)
{
	char	note[64 + MIG_ID_LEN];

	if (w->ops->set_note == NULL)
		return backend_fail(err, BE_UNSUPPORTED, "the %s backend "
		    "cannot mark a guest", w->ops->name);
	if (snprintf(note, sizeof(note), "(relocd-incoming (id %s))",
	    w->id) >= (int)sizeof(note))
		return backend_fail(err, BE_INTERNAL, "note longer than %zu "
		    "bytes", sizeof(note) - 1);
	return w->ops->set_note(w->be, guest, note, err);
}

void
worker_note_clear(struct worker *w, const char *guest)
{
	struct backend_error	err;

	if (w->ops->set_note != NULL &&
	    w->ops->set_note(w->be, guest, NULL, &err) == -1 &&
	    err.code != BE_NOT_FOUND)
		log_warnx("%s: clearing its note: %s", guest, err.msg);
}

/*
 * What the note on guest says: NOTE_NONE, NOTE_INCOMING, or
 * NOTE_OUTGOING with *o filled in.  An unreadable note counts as none
 * only for an incoming guest's purposes; callers that could free a
 * guest on it treat it as unknown (see worker_cleanup).
 */
int
worker_note_read(struct worker *w, const char *guest, struct msg_outgoing *o)
{
	struct backend_error	err;
	char			text[BACKEND_NOTE_MAX + 1];
	int			incoming;

	memset(o, 0, sizeof(*o));
	if (w->ops->get_note == NULL)
		return NOTE_BAD;	/* cannot tell: never free or resume */
	if (w->ops->get_note(w->be, guest, text, sizeof(text), &err) == -1)
		return err.code == BE_NOT_FOUND ? NOTE_NONE : NOTE_BAD;
	if (note_parse(text, o, &incoming) == -1) {
		log_warnx("%s: unreadable note '%s'", guest, text);
		memset(o, 0, sizeof(*o));
		return NOTE_BAD;
	}
	return incoming ? NOTE_INCOMING : NOTE_OUTGOING;
}

/* A worker that died may have left its guest slowed down (throttle). */
static void
worker_unthrottle(struct worker *w, const char *guest)
{
	struct backend_error	err;

	if (w->ops->set_throttle != NULL &&
	    w->ops->set_throttle(w->be, guest, 100, &err) == -1)
		log_warnx("%s: unthrottling: %s", guest, err.msg);
}

/* Source, before the destination owns it: the guest runs here again. */
int
worker_resume(struct worker *w, const char *guest, int code, const char *why,
    const struct msg_stats *stats)
{
	struct backend_error	err;
	struct guest_info	g;
	char			text[PROTO_TEXT_MAX + 1];

	if (w->ops->lookup(w->be, guest, &g, &err) == 0 &&
	    g.state != GUEST_STATE_RUNNING &&
	    w->ops->resume(w->be, guest, &err) == -1) {
		log_warnx("migration %s: resuming %s failed: %s", w->id, guest,
		    err.msg);
		return worker_step(w, PHASE_ABORTED, PE_INTERNAL,
		    "the guest could not be resumed; see relocd's log", NULL,
		    NULL);
	}
	/* Resumed: no record may say that it might run elsewhere. */
	worker_note_clear(w, guest);
	worker_unthrottle(w, guest);
	snprintf(text, sizeof(text), "%s; %s is still running here", why,
	    guest);
	log_info("migration %s: %s", w->id, text);
	return worker_step_where(w, PHASE_ABORTED, code, GUEST_WHERE_HERE, text,
	    NULL, stats);
}

/*
 * Source, past the commit: the parent relays the destination's word.
 * "activated" frees the copy here, "aborted" resumes it; silence (the
 * parent gone, or "in doubt") leaves it suspended, with its note.
 */
int
worker_settle(struct worker *w, const struct guest_info *g,
    struct msg_stats *stats)
{
	struct backend_error	err;
	struct msg_step		cmd;

	if (worker_wait_cmd(&cmd, NULL) == -1 || (cmd.phase != PHASE_ABORTED &&
	    cmd.phase != PHASE_ACTIVATED)) {
		log_warnx("migration %s: in doubt: %s stays suspended here "
		    "until the destination is asked (%s)", w->id, g->name,
		    cmd.text);
		return worker_step(w, PHASE_IN_DOUBT, PE_INTERNAL, cmd.text,
		    g, stats);
	}
	if (cmd.phase == PHASE_ABORTED)
		return worker_resume(w, g->name, cmd.code, cmd.text, NULL);
	fault_point("source-worker-before-destroy");
	if (w->ops->destroy(w->be, g->name, &err) == -1)
		log_warnx("migration %s: destroying the source copy: %s",
		    w->id, err.msg);
	stats->downtime_ms = cmd.stats.downtime_ms;
	/*
	 * The sim stream carries the suspend time, so the destination
	 * measures; a libxl stream does not, so measure here, from suspend
	 * to the news of activation (one network delay more).
	 */
	if (stats->downtime_ms == 0 && stats->suspend_ms != 0)
		stats->downtime_ms = util_realtime_ms() - stats->suspend_ms;
	log_info("migration %s: %s now runs on the destination; source copy "
	    "destroyed", w->id, g->name);
	return worker_step_where(w, PHASE_DONE, PE_NONE, GUEST_WHERE_PEER, "",
	    g, stats);
}

/*
 * relocctl resolve, or a source worker that died: report what the
 * guest's note says, then settle it on the parent's word.
 */
int
worker_resolve(struct worker *w)
{
	struct msg_outgoing	 o;
	struct msg_stats	 stats;
	struct backend_error	 err;
	struct guest_info	 g;
	char			 text[PROTO_TEXT_MAX + 1];

	MSG_TERMINATE(w->start.guest);
	fault_guest(w->start.guest);
	memset(&err, 0, sizeof(err));
	if (w->ops->lookup(w->be, w->start.guest, &g, &err) == -1)
		return worker_fail(w, PHASE_ABORTED, &err);
	if (g.state != GUEST_STATE_SUSPENDED) {
		if (g.state == GUEST_STATE_RUNNING)
			worker_unthrottle(w, g.name);
		snprintf(text, sizeof(text), "%s is %s, not suspended: "
		    "nothing to resolve%s", g.name, guest_state_name(g.state),
		    g.state == GUEST_STATE_RUNNING ? "; it is still running "
		    "here" : "");
		return worker_step_where(w, PHASE_ABORTED, PE_BAD_GUEST,
		    g.state == GUEST_STATE_RUNNING ? GUEST_WHERE_HERE :
		    GUEST_WHERE_UNKNOWN, text, &g, NULL);
	}
	if (worker_note_read(w, g.name, &o) != NOTE_OUTGOING)
		memset(&o, 0, sizeof(o));
	o.guest = g;
	/* Our log lines name the migration, once we know which. */
	if (o.id[0] != '\0')
		STRLCPY_ARRAY(w->start.reserve.id, o.id);
	if (msg_send(WORKER_MSG_FD, MSG_WORKER_NOTE, &o, sizeof(o), -1) == -1)
		return -1;
	memset(&stats, 0, sizeof(stats));
	stats.memory_bytes = g.memory_bytes;
	return worker_settle(w, &g, &stats);
}

/*
 * Destination, after "go", when the worker that had the guest died:
 * the guest is ours, so a stopped one is run; only a guest that cannot
 * run (it never got its image) is destroyed, and then the source hears
 * "aborted" and resumes its own.
 */
int
worker_activate(struct worker *w)
{
	struct backend_error	 err;
	struct guest_info	 g;
	char			 text[PROTO_TEXT_MAX + 1];
	int			 where = GUEST_WHERE_GONE;

	MSG_TERMINATE(w->start.guest);
	memset(&err, 0, sizeof(err));
	if (w->ops->lookup(w->be, w->start.guest, &g, &err) == -1)
		return worker_fail(w, PHASE_ABORTED, &err);
	fault_guest(g.name);
	if (g.state == GUEST_STATE_PAUSED &&
	    w->ops->unpause(w->be, g.name, &err) == -1)
		log_warnx("migration %s: unpausing %s: %s", w->id, g.name,
		    err.msg);
	else if (g.state == GUEST_STATE_PAUSED)
		g.state = GUEST_STATE_RUNNING;
	if (g.state != GUEST_STATE_RUNNING) {
		snprintf(text, sizeof(text), "%s was %s and could not be "
		    "activated", g.name, guest_state_name(g.state));
		if (w->ops->destroy(w->be, g.name, &err) == -1) {
			log_warnx("migration %s: destroying %s: %s", w->id,
			    g.name, err.msg);
			where = GUEST_WHERE_UNKNOWN;
		}
		return worker_step_where(w, PHASE_ABORTED, PE_INTERNAL, where,
		    text, NULL, NULL);
	}
	worker_note_clear(w, g.name);
	log_info("migration %s: %s is running here (activated after its "
	    "worker died)", w->id, g.name);
	return worker_step_where(w, PHASE_ACTIVATED, PE_NONE, GUEST_WHERE_HERE,
	    "", &g, NULL);
}
