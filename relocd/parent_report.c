// SPDX-License-Identifier: ISC
/*
 * The parent's side of migration reports (relocctl status ID, the
 * equivalent of virsh domjobinfo --completed): a report made from a
 * job's record when it ends, kept in relocd-state-dir (report.c) so
 * that it outlives the job table and a restart, and the control
 * request "(report (id ID))" that answers with a running job's report
 * or a finished one's.
 *
 * Runs in the parent, as root.  The request comes from an authorised
 * local client; its id is checked (proto_id_valid) before it names a
 * file.  Keeping reports is best effort: a missing or unwritable
 * directory is logged with what to do, and migrations go on.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "parent.h"
#include "parent_job.h"
#include "report.h"
#include "sxp.h"
#include "util.h"

/* The reply: every field of a report quoted at its longest fits. */
#define REPORT_REPLY_MAX	4096
_Static_assert(REPORT_REPLY_MAX <= CTL_MSG_MAX,
    "a report fits one control message");

/*
 * Whether job j is a migration, whose report is kept: not a save,
 * restore, sim guest or resolve, whose outcome relocctl showed at once
 * and which move no guest between hosts.
 */
static bool
report_wanted(const struct job *j)
{
	return strcmp(j->what, "migrate") == 0 ||
	    strcmp(j->what, "receive") == 0 ||
	    strcmp(j->what, "xl-receive") == 0;
}

/* j's report, as it stands at now (monotonic) and now_wall. */
static void
report_of_job(const struct job *j, struct report *r, uint64_t now,
    uint64_t now_wall)
{
	const struct msg_stats	*s = &j->stats;
	uint64_t		 end = j->state == JOB_ENDED ? j->ended_ms : now;

	memset(r, 0, sizeof(*r));
	STRLCPY_ARRAY(r->id, j->id);
	(void)snprintf(r->what, sizeof(r->what), "%s", j->what);
	STRLCPY_ARRAY(r->guest, j->guest.name);
	STRLCPY_ARRAY(r->peer, j->peer);
	STRLCPY_ARRAY(r->text, j->result);
	STRLCPY_ARRAY(r->decision, s->decision);
	(void)snprintf(r->state, sizeof(r->state), "%s",
	    parent_job_state_name(j->state));
	r->ok = j->state == JOB_ENDED && j->ok;
	r->code = j->code;
	r->start_time_ms = (int64_t)j->started_wall_ms;
	/* Wall time at its end: now, less the time since it ended. */
	if (j->state == JOB_ENDED)
		r->end_time_ms = (int64_t)(now_wall - (now - j->ended_ms));
	if (j->streaming_ms != 0)
		r->setup_ms = (int64_t)(j->streaming_ms - j->started_ms);
	r->elapsed_ms = (int64_t)(end - j->started_ms);
	r->downtime_ms = (int64_t)s->downtime_ms;
	r->predicted_downtime_ms = (int64_t)s->predicted_downtime_ms;
	r->fixed_cost_ms = (int64_t)s->fixed_cost_ms;
	r->fixed_cost_samples = s->fixed_cost_samples;
	r->digest_ms = (int64_t)s->digest_ms;
	r->suspend_time_ms = (int64_t)s->suspend_ms;
	r->pause = s->pause;
	r->target = s->target;
	r->bytes = (int64_t)s->bytes;
	/* A source's, once its stream went (compress.h). */
	if (j->role == JOB_OUT && j->protocol != 0 && j->stream_bytes != 0) {
		r->wire_bytes = (int64_t)j->wire_bytes;
		(void)snprintf(r->compression, sizeof(r->compression), "%s",
		    j->compressed ? "zstd" : "none");
	}
	r->memory = (int64_t)s->memory_bytes;
	r->memory_sent = (int64_t)s->memory_sent;
	r->zero_pages = (int64_t)s->zero_pages;
	r->skipped_pages = (int64_t)s->skipped_pages;
	r->rounds = s->round;
	r->bandwidth = (int64_t)s->bandwidth;
	r->dirty_rate = (int64_t)s->dirty_rate;
	r->dirty = s->dirty_pages < -1 ? -1 : s->dirty_pages;
	r->throttle = s->throttle == 0 || s->throttle > 100 ? 100 :
	    s->throttle;
}

/* Removes what is past the bounds (bounds.h); logs what it could not. */
static void
report_prune(const struct parent *p)
{
	size_t	removed;

	if (report_store_prune(p->conf->state_dir, (int64_t)util_realtime_ms(),
	    (int64_t)REPORT_AGE_MAX_S * 1000, REPORTS_MAX, &removed) == -1)
		log_warn("relocd-state-dir %s: cannot prune old reports",
		    p->conf->state_dir);
	else if (removed > 0)
		log_debug("relocd-state-dir %s: %zu old reports removed",
		    p->conf->state_dir, removed);
}

/* At start and on reload: say now if reports cannot be kept. */
void
parent_report_init(struct parent *p)
{
	char	err[1024];

	if (report_store_check(p->conf->state_dir, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return;
	}
	report_prune(p);
}

/* Keeps ended job j's report, if it is a migration's. */
void
parent_report_job_end(struct parent *p, const struct job *j)
{
	struct report	r;
	char		err[1024];

	if (!report_wanted(j) || !proto_id_valid(j->id))
		return;
	report_of_job(j, &r, util_now_ms(), util_realtime_ms());
	if (report_store_save(p->conf->state_dir, &r, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return;
	}
	report_prune(p);
}

static void
report_error(struct parent *p, int i, const char *text)
{
	char	q[4 * 512 + 3], msg[sizeof(q) + 32];

	if (sxp_quote(text, strlen(text), q, sizeof(q)) == -1)
		STRLCPY_ARRAY(q, "'error'");
	(void)snprintf(msg, sizeof(msg), "(error (text %s))", q);
	parent_ctl_reply(p, i, msg);
}

/*
 * "(report (id ID))": the job table's record if it still has one
 * (running, or ended since the start), else the kept report.
 */
void
parent_report_request(struct parent *p, int i, const struct sxp_node *m)
{
	const char	*id = sxp_field(m, "id");
	struct report	 r;
	struct job	*j;
	char		 reply[REPORT_REPLY_MAX], err[1024];
	int		 rc;

	if (id == NULL || !proto_id_valid(id)) {
		report_error(p, i, "give a migration id: 32 hex digits, as "
		    "relocctl status lists them");
		return;
	}
	if ((j = parent_job_find(p, id)) != NULL) {
		report_of_job(j, &r, util_now_ms(), util_realtime_ms());
		rc = 0;
	} else
		rc = report_store_load(p->conf->state_dir, id,
		    (int64_t)util_realtime_ms(),
		    (int64_t)REPORT_AGE_MAX_S * 1000, &r, err, sizeof(err));
	if (rc == 1) {
		(void)snprintf(err, sizeof(err), "no migration %s here: none "
		    "runs and no report is kept (reports are kept %d days, "
		    "the last %d, in %s)", id, REPORT_AGE_MAX_S / 86400,
		    REPORTS_MAX, p->conf->state_dir);
		report_error(p, i, err);
		return;
	}
	if (rc == -1) {
		log_warnx("%s", err);
		report_error(p, i, err);
		return;
	}
	if (report_sxp(&r, reply, sizeof(reply)) == -1)
		report_error(p, i, "report too large");
	else
		parent_ctl_reply(p, i, reply);
}
