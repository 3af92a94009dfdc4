// SPDX-License-Identifier: ISC
/*
 * The source's side of a migration, as the parent sees it: start the
 * worker that checks and later saves the guest, connect a network child
 * to the destination with the worker's description, and commit only when
 * both the worker (stream written, guest suspended) and the destination
 * (image complete and consistent) are ready.
 *
 * After "go", a lost connection is settled by asking the destination by
 * migration id, never by guessing: only "activated" frees the source's
 * copy and only "aborted" resumes it.  Anything else is asked again, and
 * after the last attempt the migration is reported in doubt with the
 * guest left suspended here, so it can never run twice; relocctl
 * resolve asks again later (parent_settle.c).
 *
 * Runs in the parent.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "parent_job.h"
#include "parent_metrics.h"
#include "pause_cost.h"
#include "proto.h"
#include "util.h"
#include "worker.h"

/* In doubt: how often and how many times the destination is asked. */
#define OUT_QUERY_INTERVAL_MS	2000
#define OUT_QUERY_ATTEMPTS	15
/*
 * The source could not start its worker: a pre-flight quotes it after
 * the peer's name, so it says whose failure it is.
 */
#define OUT_NO_WORKER	"cannot start a worker on this host (the source); "\
	"see relocd's log"

/*
 * The pause's fixed costs for the destination, one per guest type, for
 * the worker, which alone learns the guest's type before it saves
 * (pause_cost.c).  A damaged file is said and leaves the first guesses.
 */
static void
out_fixed_costs(struct parent *p, struct job *j)
{
	struct pause_cost	costs[PAUSE_COST_TYPES];
	char			dest[PAUSE_COST_DEST_MAX + 1], err[1400];
	int			i;

	_Static_assert(PAUSE_COST_TYPES == sizeof(j->policy.fixed_cost_ms) /
	    sizeof(j->policy.fixed_cost_ms[0]), "a fixed cost per guest type");
	if (pause_cost_dest(dest, sizeof(dest), j->peer, j->port) == -1)
		dest[0] = '\0';
	if (pause_cost_lookup(p->conf->state_dir, dest, costs, err,
	    sizeof(err)) == -1)
		log_warnx("migration %s: %s", j->id, err);
	for (i = 0; i < PAUSE_COST_TYPES; i++) {
		j->policy.fixed_cost_ms[i] = (uint32_t)costs[i].ms;
		j->policy.fixed_cost_samples[i] = costs[i].samples;
	}
}

/*
 * A live migration went through: what its pause cost beyond the final
 * copy is learnt for the destination and the guest's type.
 */
static void
out_learn(struct parent *p, struct job *j)
{
	const struct msg_stats	*s = &j->stats;
	struct pause_cost	 cost;
	char			 dest[PAUSE_COST_DEST_MAX + 1], err[1400];
	int64_t			 sample;
	int			 rc;

	if (!j->policy.live || j->policy.check_only ||
	    pause_cost_dest(dest, sizeof(dest), j->peer, j->port) == -1 ||
	    (sample = pause_cost_sample(s->downtime_ms, &s->pause,
	    s->predicted_downtime_ms, s->fixed_cost_ms)) < 0)
		return;
	rc = pause_cost_learn(p->conf->state_dir, dest, j->guest.type,
	    (uint64_t)sample, (int64_t)util_realtime_ms(), &cost, err,
	    sizeof(err));
	if (rc != 0)
		log_warnx("migration %s: %s", j->id, err);
	if (rc >= 0)
		log_info("migration %s: the pause cost %lld ms beyond its final "
		    "copy; fixed cost for %s guests to %s now %llu ms, "
		    "learnt from %u migration%s", j->id,
		    (long long)sample, guest_type_name(j->guest.type), dest,
		    (unsigned long long)cost.ms, cost.samples,
		    cost.samples == 1 ? "" : "s");
}

void
parent_out_start(struct parent *p, struct job *j)
{
	struct msg_worker_start	*st;

	/* relocctl check uses the same path, and moves nothing. */
	if (!j->policy.check_only)
		parent_metrics_job_started(p, j);
	if ((st = parent_worker_start_new(p, WORKER_OP_SEND, j->id)) == NULL) {
		parent_job_end(p, j, 0, PE_INTERNAL, OUT_NO_WORKER);
		return;
	}
	STRLCPY_ARRAY(st->guest, j->guest.name);
	/* Recorded with the guest at the commit (worker_settle.c). */
	STRLCPY_ARRAY(st->out.id, j->id);
	STRLCPY_ARRAY(st->out.peer, j->peer);
	st->out.port = j->port;
	out_fixed_costs(p, j);
	st->policy = j->policy;
	if (parent_job_start_worker(p, j, st, -1, NULL) == -1)
		parent_job_end(p, j, 0, PE_INTERNAL, OUT_NO_WORKER);
	free(st);
	log_info("migration %s: %s to %s port %d (%s)", j->id, j->guest.name,
	    j->peer, j->port, j->policy.live ? "live" : "offline");
}

/* The worker described the guest: reach the destination with it. */
void
parent_out_worker_desc(struct parent *p, struct job *j,
    struct msg_reserve *r)
{
	int	pfd[2];

	MSG_TERMINATE(r->config);
	MSG_TERMINATE(r->facts);
	msg_terminate_guest(&r->guest);
	/* Cancelled while the worker looked (a stop): reach no one. */
	if (j->state != JOB_STARTING || j->desc != NULL || j->aborting ||
	    (j->desc = malloc(sizeof(*r))) == NULL)
		return;
	memcpy(j->desc, r, sizeof(*r));
	STRLCPY_ARRAY(j->desc->id, j->id);
	j->guest = r->guest;
	j->stats.memory_bytes = r->guest.memory_bytes;
	if (util_pipe_data(pfd) == -1) {
		parent_job_cmd(p, j, PHASE_ABORTED, PE_INTERNAL, "no pipe", -1);
		return;
	}
	j->data_wr = pfd[1];
	j->state = JOB_RESERVING;
	if (parent_spawn_client(p, j, pfd[0], 0) == -1)
		parent_job_cmd(p, j, PHASE_ABORTED, PE_INTERNAL,
		    "cannot start a network child", -1);
	close(pfd[0]);
}

static void
out_maybe_commit(struct parent *p, struct job *j)
{
	if (!j->saved || !j->prepared || j->state >= JOB_COMMITTED)
		return;
	j->state = JOB_PREPARED;
	parent_job_cmd(p, j, PHASE_PREPARED, PE_NONE, "", -1);
}

/* The destination's answer to "where does migration id stand?" */
static void
out_query_answer(struct parent *p, struct job *j, const char *phase)
{
	char	text[400];

	log_info("migration %s: the destination says: %s", j->id, phase);
	if (strcmp(phase, "activated") == 0 || strcmp(phase, "go") == 0) {
		j->state = JOB_GO;
		parent_job_cmd(p, j, PHASE_ACTIVATED, PE_NONE, "", -1);
	} else if (strcmp(phase, "aborted") == 0)
		parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED, "the "
		    "destination never took the guest over", -1);
	else if (strcmp(phase, "unknown") == 0) {
		snprintf(text, sizeof(text), "%s has no record of migration "
		    "%s", j->peer, j->desc != NULL ? j->desc->id : j->id);
		util_text_copy(j->result, text, sizeof(j->result));
	}
	/* Anything else: not settled yet; parent_out_tick asks again. */
}

/*
 * The destination's news of activation brings its parts of the pause:
 * its digest check (the sim's) goes with our digest at suspend, its
 * restore and its unpause.  The commit exchange is the rest of the
 * time from the stream's end to this news: the stream still in flight,
 * prepared, our commit record, go, activated.
 */
static void
out_pause(struct job *j, const struct msg_stats *peer)
{
	struct pause	*pa = &j->stats.pause;
	int64_t		 ours = pause_get(pa, PAUSE_DIGEST);
	int64_t		 restore = pause_get(&peer->pause, PAUSE_RESTORE);
	int64_t		 unpause = pause_get(&peer->pause, PAUSE_UNPAUSE);
	int64_t		 commit;

	if (ours >= 0)
		pause_set(pa, PAUSE_DIGEST, ours + (int64_t)peer->digest_ms);
	if (restore >= 0)
		pause_set(pa, PAUSE_RESTORE, restore);
	if (unpause >= 0)
		pause_set(pa, PAUSE_UNPAUSE, unpause);
	if (j->saved_ms == 0)
		return;
	commit = (int64_t)(util_now_ms() - j->saved_ms) -
	    (ours >= 0 ? (int64_t)peer->digest_ms : 0) -
	    (restore >= 0 ? restore : 0) - (unpause >= 0 ? unpause : 0);
	pause_set(pa, PAUSE_COMMIT, commit);
}

void
parent_out_net_step(struct parent *p, struct job *j, const struct msg_step *st)
{
	/* The worker was told to abort (or died): nothing may go on. */
	if (j->aborting && parent_job_abortable(j) &&
	    (st->phase == PHASE_RESERVED || st->phase == PHASE_PREPARED))
		return;
	switch (st->phase) {
	case PHASE_RESERVED:
		/* A peer's figure: only for relocctl, never decided on here. */
		j->available = st->available;
		j->available_known = st->available_known ? 1 : 0;
		j->protocol = st->protocol;
		j->compressed = st->stats.compressed ? 1 : 0;
		if (j->policy.check_only) {
			/* The destination accepted; that was the question. */
			j->checked = 1;
			parent_job_to_net(p, j, PHASE_ABORTED, PE_ABORTED,
			    "only a check", -1);
			parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED,
			    "only a check", -1);
			break;
		}
		j->state = JOB_STREAMING;
		j->streaming_ms = util_now_ms();
		j->protocol = st->protocol;
		parent_job_cmd(p, j, PHASE_RESERVED, PE_NONE, "", j->data_wr);
		close(j->data_wr);
		j->data_wr = -1;
		break;
	case PHASE_PROGRESS:
		/* The stream so far, and its bytes on the wire. */
		j->stream_bytes = st->stats.bytes;
		j->wire_bytes = st->stats.wire_bytes;
		break;
	case PHASE_PREPARED:
		j->stream_bytes = st->stats.bytes;
		j->wire_bytes = st->stats.wire_bytes;
		j->prepared = 1;
		out_maybe_commit(p, j);
		break;
	case PHASE_ACTIVATED:
		j->state = JOB_GO;
		/*
		 * The destination measures from the suspend time in the
		 * stream to its unpause; without that, we measure to its
		 * report, one network hop later.
		 */
		if (st->stats.downtime_ms != 0)
			j->stats.downtime_ms = st->stats.downtime_ms;
		else if (j->stats.suspend_ms != 0)
			j->stats.downtime_ms = util_realtime_ms() -
			    j->stats.suspend_ms;
		out_pause(j, &st->stats);
		/* Both hosts hash memory, at the same time: the longer. */
		if (st->stats.digest_ms > j->stats.digest_ms)
			j->stats.digest_ms = st->stats.digest_ms;
		parent_job_cmd(p, j, PHASE_ACTIVATED, PE_NONE, "", -1);
		break;
	case PHASE_IN_DOUBT:
		out_query_answer(p, j, st->text);
		break;
	case PHASE_ABORTED:
		/* Settled by asking (see net_gone); the reason, if in doubt. */
		if (!parent_job_abortable(j)) {
			STRLCPY_ARRAY(j->result, st->text);
			break;
		}
		STRLCPY_ARRAY(j->result, st->text);
		parent_job_cmd(p, j, PHASE_ABORTED, st->code, st->text, -1);
		break;
	}
}

void
parent_out_worker_step(struct parent *p, struct job *j,
    const struct msg_step *st)
{
	uint64_t	downtime = j->stats.downtime_ms;
	char		text[800];

	if ((j->resolve != RESOLVE_NONE || j->recoveries > 0) &&
	    parent_settle_step(p, j, st))
		return;
	switch (st->phase) {
	case PHASE_PROGRESS:
		j->stats = st->stats;
		parent_ctl_progress(p, j);
		break;
	case PHASE_SAVED:
		j->stats = st->stats;
		j->saved = 1;
		j->saved_ms = util_now_ms();
		out_maybe_commit(p, j);
		break;
	case PHASE_COMMITTED:
		j->state = JOB_COMMITTED;
		parent_job_to_net(p, j, PHASE_GO, PE_NONE, "", -1);
		break;
	case PHASE_DONE:
		j->stats.downtime_ms = downtime;
		if (pause_format(&j->stats.pause, text, sizeof(text)) == 0)
			log_info("migration %s: pause of %s: %s; predicted "
			    "with a fixed cost of %llu ms (%s)", j->id,
			    j->guest.name, text,
			    (unsigned long long)j->stats.fixed_cost_ms,
			    j->stats.fixed_cost_samples > 0 ? "learnt" :
			    "a first guess");
		out_learn(p, j);
		parent_job_end(p, j, 1, PE_NONE, "done");
		break;
	case PHASE_IN_DOUBT:
		snprintf(text, sizeof(text), "in doubt: %s stays suspended "
		    "here (%s); run relocctl resolve %s", j->guest.name,
		    st->text, j->guest.name);
		j->in_doubt = 1;
		parent_job_end(p, j, 0, PE_INTERNAL, text);
		break;
	case PHASE_ABORTED:
		if (j->checked) {
			parent_job_end(p, j, 1, PE_NONE, "every check passed");
			break;
		}
		parent_job_to_net(p, j, PHASE_ABORTED, st->code, st->text, -1);
		/*
		 * The last progress report came at a round's end; a stream
		 * cut inside a round (a timeout in round 0 of a capped
		 * migration) sent more, and the worker's count says how much.
		 */
		if (st->stats.bytes > j->stats.bytes) {
			j->stats.bytes = st->stats.bytes;
			j->stats.memory_sent = st->stats.memory_sent;
			j->stats.zero_pages = st->stats.zero_pages;
			j->stats.round = st->stats.round;
		}
		/*
		 * Our own reason (cancel, timeout, the destination's refusal)
		 * says more than the broken pipe the worker may have seen;
		 * the worker's typed report says whether the guest runs on
		 * here.
		 */
		if (j->result[0] != '\0' && st->where == GUEST_WHERE_HERE)
			snprintf(text, sizeof(text), "%s; %s is still running "
			    "here", j->result, j->guest.name);
		else
			STRLCPY_ARRAY(text, st->text);
		parent_job_end(p, j, 0, st->code ? st->code : PE_ABORTED,
		    text);
		break;
	}
}

void
parent_out_net_gone(struct parent *p, struct job *j)
{
	if (parent_job_abortable(j)) {
		parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED, j->result[0] ?
		    j->result : "lost the connection to the destination", -1);
		return;
	}
	if (j->state == JOB_GO)
		return;		/* activated: the worker is finishing */
	if (j->state != JOB_IN_DOUBT)
		log_warnx("migration %s: lost the destination after go; "
		    "asking it where %s is", j->id, j->guest.name);
	j->state = JOB_IN_DOUBT;
	j->next_query_ms = util_now_ms() +
	    (j->queries ? OUT_QUERY_INTERVAL_MS : 0);
}

/* Timeouts before commit, and questions for jobs in doubt. */
void
parent_out_tick(struct parent *p)
{
	uint64_t	 now = util_now_ms();
	struct job	*j;
	int		 i;

	for (i = 0; i < JOBS_MAX; i++) {
		j = &p->jobs[i];
		if (j->role != JOB_OUT || j->state == JOB_FREE ||
		    j->state == JOB_ENDED)
			continue;
		if (parent_job_abortable(j) && j->policy.timeout_s != 0 &&
		    now - j->started_ms > (uint64_t)j->policy.timeout_s * 1000 &&
		    j->result[0] == '\0') {
			STRLCPY_ARRAY(j->result,
			    "relocd-migration-timeout passed");
			parent_job_cmd(p, j, PHASE_ABORTED, PE_TIMEOUT,
			    j->result, -1);
			parent_job_to_net(p, j, PHASE_ABORTED, PE_TIMEOUT,
			    j->result, -1);
		}
		if (j->state != JOB_IN_DOUBT || j->net_pid != 0 ||
		    now < j->next_query_ms)
			continue;
		if (j->queries++ >= (j->query_limit ? j->query_limit :
		    OUT_QUERY_ATTEMPTS)) {
			parent_job_cmd(p, j, PHASE_IN_DOUBT, PE_INTERNAL,
			    j->result[0] ? j->result :
			    "the destination could not be asked", -1);
			continue;
		}
		j->next_query_ms = now + OUT_QUERY_INTERVAL_MS;
		parent_spawn_client(p, j, -1, 1);
	}
}
