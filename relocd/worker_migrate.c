// SPDX-License-Identifier: ISC
/*
 * The worker's two halves of a live migration (DESIGN section 5).
 *
 * Destination (worker_receive): reserve an empty paused guest, restore
 * the stream from the pipe into it, report "prepared" only if the image
 * is complete and its digest good, then unpause it on "go" - or destroy
 * it on anything else.
 *
 * Source (worker_send): describe the guest, save it live into the pipe
 * under relocd's pre-copy policy, report "saved" with the guest
 * suspended, mark the copy non-resumable on the parent's word, and
 * destroy it once the destination reports the guest running
 * (worker_settle.c).  Any failure before that resumes it: a guest never
 * runs on both hosts, and at every point exactly one copy can run.
 *
 * Runs in the worker, as root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "conf.h"
#include "fault.h"
#include "log.h"
#include "msg.h"
#include "policy.h"
#include "proto.h"
#include "util.h"
#include "version.h"
#include "worker.h"

/* Destination, after a failure: the half-built guest must not remain. */
static int
worker_discard(struct worker *w, const struct guest_info *g)
{
	struct backend_error	err;

	if (w->ops->destroy(w->be, g->name, &err) == -1) {
		log_warnx("migration %s: destroying %s: %s", w->id, g->name,
		    err.msg);
		return -1;
	}
	log_info("migration %s: destroyed the half-built %s", w->id, g->name);
	return 0;
}

int
worker_receive(struct worker *w)
{
	struct msg_reserve		*r = &w->start.reserve;
	struct guest_desc		 desc;
	struct guest_info		 got;
	struct backend_error		 err;
	struct backend_restore_result	 res;
	struct msg_stats		 stats;
	struct msg_step			 cmd;
	struct check_list		 checks;
	uint64_t			 t;
	char				 parts[200];

	fault_guest(r->guest.name);
	memset(&desc, 0, sizeof(desc));
	memset(&checks, 0, sizeof(checks));
	desc.checks = &checks;
	desc.info = r->guest;
	desc.config = r->config;
	STRLCPY_ARRAY(desc.facts, r->facts);
	memset(&err, 0, sizeof(err));
	/*
	 * What this host could give guests before this one: the source's
	 * relocctl evacuate places guests by it.  Asked before the
	 * reservation, which takes the guest's share on some backends
	 * (sim) and none on others (xen, until the stream comes).  Not
	 * knowing it refuses nothing: the reservation checks memory itself.
	 */
	if (w->ops->free_memory(w->be, &w->available, &err) == 0)
		w->available_known = 1;
	else
		log_info("migration %s: free memory unknown: %s", w->id,
		    err.msg);
	memset(&err, 0, sizeof(err));
	if (w->ops->reserve(w->be, &desc, &got, &err) == -1) {
		log_info("migration %s: reservation of %s refused: %s", w->id,
		    r->guest.name, err.msg);
		return worker_fail_checks(w, PHASE_RESERVED, &err, &checks);
	}
	/* Marked as ours, so that a relocd after a crash removes it. */
	if (worker_note_incoming(w, got.name, &err) == -1) {
		worker_discard(w, &got);
		return worker_fail(w, PHASE_RESERVED, &err);
	}
	/* The xen backend builds no domain until the stream comes: no id. */
	if (got.domid != 0)
		log_info("migration %s: reserved %s (domid %u)", w->id,
		    got.name, got.domid);
	else
		log_info("migration %s: reserved %s", w->id, got.name);
	fault_point("destination-worker-after-reserve");
	worker_step_checks(w, PHASE_RESERVED, PE_NONE, "", &got, &checks);
	memset(&res, 0, sizeof(res));
	if (w->ops->restore(w->be, got.name, WORKER_DATA_FD,
	    WORKER_MSG_FD, &res, &err)) {
		log_warnx("migration %s: restore failed: %s", w->id, err.msg);
		worker_discard(w, &got);
		return worker_fail(w, PHASE_PREPARED, &err);
	}
	close(WORKER_DATA_FD);
	memset(&stats, 0, sizeof(stats));
	stats.bytes = res.bytes;
	stats.memory_sent = res.memory_sent;
	stats.zero_pages = res.zero_pages;
	stats.suspend_ms = res.suspend_ms;
	stats.digest_ms = res.digest_ms;
	/*
	 * Our parts of the pause: the digest check, the backend's restore
	 * after the stream, the wait for go, the unpause.  Only the sim
	 * stream has a digest (and a suspend time).
	 */
	pause_merge(&stats.pause, &res.pause);
	if (res.suspend_ms > 0)
		pause_set(&stats.pause, PAUSE_DIGEST, (int64_t)res.digest_ms);
	log_info("migration %s: %s restored, digest verified (%llu bytes, "
	    "%llu zero pages)", w->id, got.name, (unsigned long long)res.bytes,
	    (unsigned long long)res.zero_pages);
	worker_step(w, PHASE_PREPARED, PE_NONE, "", &got, &stats);
	t = util_now_us();
	if (worker_wait_cmd(&cmd, NULL) == -1 || cmd.phase != PHASE_GO) {
		log_info("migration %s: no go (%s)", w->id, cmd.text);
		return worker_step_where(w, PHASE_ABORTED, PE_ABORTED,
		    worker_discard(w, &got) == 0 ? GUEST_WHERE_GONE :
		    GUEST_WHERE_UNKNOWN, cmd.text, NULL, NULL);
	}
	/* From here the guest is ours, whatever happens to the peer. */
	fault_point("destination-worker-after-go");
	pause_set(&stats.pause, PAUSE_COMMIT, util_ms_since(&t));
	if (w->ops->unpause(w->be, got.name, &err) == -1)
		return worker_fail(w, PHASE_ACTIVATED, &err);
	pause_set(&stats.pause, PAUSE_UNPAUSE, util_ms_since(&t));
	worker_note_clear(w, got.name);
	fault_point("destination-worker-after-unpause");
	stats.downtime_ms = res.suspend_ms > 0 ?
	    util_realtime_ms() - res.suspend_ms : 0;
	(void)pause_format(&stats.pause, parts, sizeof(parts));
	log_info("migration %s: %s is running here (downtime %llu ms; %s)",
	    w->id, got.name, (unsigned long long)stats.downtime_ms, parts);
	return worker_step_where(w, PHASE_ACTIVATED, PE_NONE, GUEST_WHERE_HERE,
	    "", &got, &stats);
}

/* What the source worker keeps while saving. */
struct send_state {
	struct worker		*w;
	struct policy_run	 run;
	int			(*policy_fn)(const struct backend_precopy_stats *,
				    void *);
	struct msg_stats	 stats;
	uint64_t		 start_us;
	int			 cancelled;
	char			 cancel_text[PROTO_TEXT_MAX + 1];
};

static void
send_progress(const struct policy_decision *d,
    const struct backend_precopy_stats *st, void *data)
{
	struct send_state	*ss = data;
	struct msg_stats	*s = &ss->stats;

	s->bytes = st->total_written;
	s->memory_sent = st->memory_sent;
	s->zero_pages = st->zero_pages;
	s->round = st->iteration;
	s->dirty_pages = st->dirty_count;
	s->bandwidth = d->bandwidth;
	s->dirty_rate = d->dirty_rate;
	s->predicted_downtime_ms = d->downtime_ms > 0 ?
	    (uint64_t)d->downtime_ms : 0;
	s->throttle = ss->run.policy.throttle ? ss->run.policy.throttle : 100;
	s->elapsed_ms = (util_now_us() - ss->start_us) / 1000;
	util_text_copy(s->decision, d->reason, sizeof(s->decision));
	/* Out of reach: said once in the log, then in every report. */
	if (d->unreachable != TARGET_REACHABLE) {
		if (s->target.reason == TARGET_REACHABLE)
			log_warnx("migration %s: %s: %s", ss->w->id,
			    ss->run.guest, d->reason);
		s->target.reason = d->unreachable;
		s->target.choice = ss->run.policy.params.nonconvergence;
		s->target.min_pause_ms = d->min_pause_ms;
		s->target.max_downtime_ms =
		    (int64_t)ss->run.policy.params.max_downtime_ms;
	}
	/*
	 * libxenguest asks twice per iteration (xg_sr_save.c,
	 * send_memory_live): first with dirty_count -1, before it reads
	 * the dirty bitmap, then again with the count.  Each call used to
	 * become a progress report, so relocctl showed a round twice.  The
	 * first call is reported only when it ends the pre-copy, as then
	 * no second one comes; the stats above are kept either way.
	 */
	if (st->dirty_count < 0 && d->action == BACKEND_POLICY_CONTINUE)
		return;
	worker_step(ss->w, PHASE_PROGRESS, PE_NONE, "", NULL, s);
}

static void
send_suspended(uint64_t when_ms, void *data)
{
	struct send_state	*ss = data;

	ss->stats.suspend_ms = when_ms;
	fault_point("source-worker-suspended");
}

/*
 * Our callbacks get our state as data (policy_run's own would get its),
 * so each of them is wrapped here.
 */
static uint64_t
send_pace(uint64_t bytes, void *data)
{
	struct send_state	*ss = data;

	return policy_pace(&ss->run.policy, bytes, util_now_us());
}

/* The policy, unless the parent has cancelled (relocctl cancel, timeout). */
static int
send_policy(const struct backend_precopy_stats *st, void *data)
{
	struct send_state	*ss = data;
	struct msg_step		 cmd;

	/*
	 * Before round 0, after it, and a later round of a busy guest:
	 * once each, at the first of a round's two calls (dirty_count -1).
	 */
	if (st->iteration == 0)
		fault_point("source-worker-precopy-start");
	else if (st->iteration == 1 && st->dirty_count < 0)
		fault_point("source-worker-precopy-early");
	else if (st->iteration == 3 && st->dirty_count < 0)
		fault_point("source-worker-precopy-late");
	if (worker_poll_cmd(&cmd) && cmd.phase == PHASE_ABORTED) {
		ss->cancelled = 1;
		STRLCPY_ARRAY(ss->cancel_text, cmd.text);
		return BACKEND_POLICY_ABORT;
	}
	return ss->policy_fn(st, &ss->run);
}

static void
send_params(const struct msg_policy *mp, struct policy_params *pp)
{
	policy_params_default(pp);
	pp->kind = mp->xen_default ? POLICY_XEN_DEFAULT : POLICY_RELOCD;
	pp->nonconvergence = mp->nonconvergence;
	pp->max_downtime_ms = mp->max_downtime_ms;
	pp->max_iterations = mp->max_iterations;
	pp->timeout_ms = (uint64_t)mp->timeout_s * 1000;
	pp->max_bandwidth = (uint64_t)mp->max_bandwidth_mbit * 1000000 / 8;
}

/*
 * The pause's fixed cost for this guest's type, of those the parent
 * looked up for the destination (pause_cost.c): into the stats, which
 * report it, and from there into the policy's prediction.
 */
static void
send_fixed_cost(struct worker *w, const struct guest_info *g,
    struct msg_stats *s)
{
	const struct msg_policy	*mp = &w->start.policy;

	if (g->type < 0 || g->type > GUEST_TYPE_SIM)
		return;
	s->fixed_cost_ms = mp->fixed_cost_ms[g->type];
	s->fixed_cost_samples = mp->fixed_cost_samples[g->type];
	if (s->fixed_cost_samples > 0)
		log_info("migration %s: fixed cost of the pause for a %s guest "
		    "to %s port %d: %llu ms, learnt from %u migration%s",
		    w->id, guest_type_name(g->type), w->start.out.peer,
		    w->start.out.port, (unsigned long long)s->fixed_cost_ms,
		    s->fixed_cost_samples,
		    s->fixed_cost_samples == 1 ? "" : "s");
	else
		log_info("migration %s: fixed cost of the pause for a %s guest "
		    "to %s port %d: %llu ms, a first guess", w->id,
		    guest_type_name(g->type), w->start.out.peer,
		    w->start.out.port, (unsigned long long)s->fixed_cost_ms);
}

/* Checks the guest and tells the parent what the destination needs. */
static int
send_describe(struct worker *w, struct guest_info *g)
{
	struct msg_reserve	*r;
	struct guest_desc	 desc;
	struct backend_error	 err;
	struct check_list	 checks;
	char			*config = NULL;
	int			 rc;

	if (w->ops->lookup(w->be, w->start.guest, g, &err) == -1)
		return worker_fail(w, PHASE_ABORTED, &err);
	if (g->state != GUEST_STATE_RUNNING)
		return worker_step(w, PHASE_ABORTED, PE_BAD_GUEST,
		    "the guest is not running", NULL, NULL);
	memset(&desc, 0, sizeof(desc));
	memset(&checks, 0, sizeof(checks));
	/* The guest's own "cannot migrate at all", before any reservation. */
	desc.checks = &checks;
	if (w->ops->describe(w->be, g->name, &desc, &config, &err) == -1)
		return worker_fail_checks(w, PHASE_ABORTED, &err, &checks);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		free(config);
		return -1;
	}
	STRLCPY_ARRAY(r->id, w->start.reserve.id);	/* w->id */
	r->guest = desc.info;
	STRLCPY_ARRAY(r->facts, desc.facts);
	r->live = w->start.policy.live;
	r->config_len = (uint32_t)strlen(config);
	if (strlcpy(r->config, config, sizeof(r->config)) >=
	    sizeof(r->config)) {
		free(r);
		free(config);
		backend_fail(&err, BE_UNSUPPORTED, "the guest's configuration "
		    "is longer than %d bytes", BACKEND_CONFIG_MAX);
		return worker_fail(w, PHASE_ABORTED, &err);
	}
	rc = msg_send(WORKER_MSG_FD, MSG_WORKER_DESC, r, sizeof(*r), -1);
	free(r);
	free(config);
	return rc;
}

/*
 * Saves the guest into the pipe; returns 0 with the guest suspended.
 * A destination that chose protocol 1 is relocd 0.1.0, which reads only
 * the sim stream's version 1; one that chose 2 or 3 reads no zero
 * pages (version_save_flags).
 */
static int
send_stream(struct worker *w, struct send_state *ss, const char *guest,
    int fd, uint32_t protocol, struct backend_error *err)
{
	struct backend_save_callbacks	cb;
	struct backend_save_result	res;
	struct policy_params		pp;
	unsigned int			flags = 0;
	int				rc;

	send_params(&w->start.policy, &pp);
	pp.fixed_cost_ms = ss->stats.fixed_cost_ms;
	policy_run_init(&ss->run, &pp, w->ops, w->be, guest);
	ss->run.progress = send_progress;
	ss->run.suspended = send_suspended;
	ss->run.user = ss;
	policy_run_callbacks(&ss->run, &cb);
	ss->run.suspended = NULL;
	/* Our wrapper sees cancellations; the policy does the deciding. */
	ss->policy_fn = cb.precopy_policy;
	cb.precopy_policy = send_policy;
	cb.suspended = send_suspended;
	cb.pace = send_pace;
	cb.data = ss;
	ss->start_us = util_now_us();
	memset(&res, 0, sizeof(res));
	if (w->start.policy.live)
		flags |= BACKEND_SAVE_LIVE;
	flags |= version_save_flags(protocol);
	if (w->start.policy.skip_redirtied)
		flags |= BACKEND_SAVE_SKIP_REDIRTIED;
	rc = w->ops->save(w->be, guest, fd, flags, &cb, &res, err);
	close(fd);
	policy_run_unthrottle(&ss->run);
	ss->stats.bytes = res.bytes;
	ss->stats.memory_sent = res.memory_sent;
	ss->stats.zero_pages = res.zero_pages;
	ss->stats.skipped_pages = res.skipped_pages;
	ss->stats.round = res.rounds;
	ss->stats.digest_ms = res.digest_ms;
	ss->stats.pause = res.pause;
	ss->stats.elapsed_ms = (util_now_us() - ss->start_us) / 1000;
	if (res.suspend_ms != 0)
		ss->stats.suspend_ms = res.suspend_ms;
	if (w->start.policy.skip_redirtied)
		log_info("migration %s: %s: live rounds left out %llu pages "
		    "the guest had dirtied again (--skip-redirtied)", w->id,
		    guest, (unsigned long long)res.skipped_pages);
	return rc;
}

/*
 * After "saved": wait for the commit, record it with the guest, and
 * only then let the parent send "go".  If the parent cannot hear that
 * we committed, it cannot send "go" either: then we resume.
 */
static int
send_commit(struct worker *w, const struct guest_info *g,
    struct send_state *ss)
{
	struct backend_error	err;
	struct msg_step		cmd;

	if (worker_wait_cmd(&cmd, NULL) == -1 || cmd.phase != PHASE_PREPARED)
		return worker_resume(w, g->name, cmd.code ? cmd.code :
		    PE_ABORTED, cmd.text[0] ? cmd.text : "aborted before go",
		    &ss->stats);
	fault_point("source-worker-before-commit");
	memset(&err, 0, sizeof(err));
	if (worker_note_outgoing(w, g->name, &err) == -1) {
		log_warnx("migration %s: recording the commit: %s", w->id,
		    err.msg);
		return worker_resume(w, g->name, PE_INTERNAL,
		    "the commit could not be recorded", &ss->stats);
	}
	/* From here only the destination's word may free or resume us. */
	log_info("migration %s: %s committed; the destination takes over",
	    w->id, g->name);
	if (worker_step(w, PHASE_COMMITTED, PE_NONE, "", g, &ss->stats) == -1)
		return worker_resume(w, g->name, PE_INTERNAL,
		    "relocd went away before go", &ss->stats);
	fault_point("source-worker-after-commit");
	return worker_settle(w, g, &ss->stats);
}

int
worker_send(struct worker *w)
{
	struct send_state	*ss;
	struct guest_info	 g;
	struct backend_error	 err;
	struct msg_step		 cmd;
	int			 fd, rc;

	fault_guest(w->start.guest);
	if (send_describe(w, &g) == -1)
		return -1;
	if (worker_wait_cmd(&cmd, &fd) == -1 || cmd.phase != PHASE_RESERVED ||
	    fd == -1) {
		if (fd != -1)
			close(fd);
		return worker_step(w, PHASE_ABORTED, cmd.code ? cmd.code :
		    PE_ABORTED, cmd.text, NULL, NULL);
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return -1;
	ss->w = w;
	ss->stats.memory_bytes = g.memory_bytes;
	send_fixed_cost(w, &g, &ss->stats);
	memset(&err, 0, sizeof(err));
	if (send_stream(w, ss, g.name, fd, cmd.protocol, &err) == -1) {
		if (ss->cancelled)
			rc = worker_resume(w, g.name, PE_ABORTED, ss->cancel_text,
			    &ss->stats);
		else if (err.code == BE_ABORTED)
			rc = worker_resume(w, g.name, PE_ABORTED,
			    ss->run.last.reason, &ss->stats);
		else
			rc = worker_resume(w, g.name,
			    proto_error_from_backend(err.code), err.msg,
			    &ss->stats);
		free(ss);
		return rc;
	}
	log_info("migration %s: %s saved: %llu bytes, %u rounds", w->id,
	    g.name, (unsigned long long)ss->stats.bytes, ss->stats.round);
	worker_step(w, PHASE_SAVED, PE_NONE, "", &g, &ss->stats);
	rc = send_commit(w, &g, ss);
	free(ss);
	return rc;
}
