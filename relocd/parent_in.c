// SPDX-License-Identifier: ISC
/*
 * The destination's side of a migration, as the parent sees it: a
 * peer's reservation starts the receiving worker (or is refused before
 * any job exists), the stream's pipe goes to the network child once the
 * worker has reserved the guest, and the commit is relayed both ways:
 * "prepared" from the worker to the source, "go" from the source to the
 * worker, "activated" back.  A source that lost us after "go" asks by
 * migration id, and is answered from the job table.
 *
 * It is parent_out.c's counterpart, in a file of its own so that each
 * side of the commit reads in one place; parent_job.c keeps the table
 * and the relay primitives both sides use.
 *
 * Runs in the parent.  What the network child passes on came from the
 * peer: every string is re-terminated and every name, uuid and id is
 * re-validated here before a worker sees it.
 */
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

static int
in_clashes(struct parent *p, const struct msg_reserve *r)
{
	int	i;

	for (i = 0; i < JOBS_MAX; i++)
		if (parent_job_active(&p->jobs[i]) &&
		    (strcmp(p->jobs[i].id, r->id) == 0 ||
		    strcmp(p->jobs[i].guest.name, r->guest.name) == 0 ||
		    strcmp(p->jobs[i].guest.uuid, r->guest.uuid) == 0))
			return 1;
	return 0;
}

static int
in_reserve_valid(struct msg_reserve *r)
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
in_refuse(struct child *c, const char *id, int code, const char *text)
{
	struct msg_step	st;

	log_warnx("migration %s: refused: %s", id, text);
	parent_metrics_refused_code(code);
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
void
parent_in_reserve(struct parent *p, struct child *c, struct msg_reserve *r)
{
	struct msg_worker_start		*st;
	struct job			*j;
	char				 why[PROTO_TEXT_MAX + 1];
	int				 pfd[2];

	if (!c->authenticated || c->job != -1 || !in_reserve_valid(r)) {
		parent_child_kill(c, "invalid reservation message");
		return;
	}
	log_info("peer %s: asks to reserve %s (%s, %llu MiB, %u vcpus) for "
	    "migration %s", c->ip, r->guest.name,
	    guest_type_name(r->guest.type),
	    (unsigned long long)(r->guest.memory_bytes >> 20),
	    r->guest.vcpus, r->id);
	/* A stopping relocd would cancel it at once (parent_stop.c). */
	if (p->stopping) {
		in_refuse(c, r->id, PE_BUSY, "relocd is stopping here");
		return;
	}
	if (parent_job_running(p) >= p->conf->max_migrations) {
		snprintf(why, sizeof(why), "too many migrations: %d running "
		    "(relocd-max-migrations)", p->conf->max_migrations);
		in_refuse(c, r->id, PE_BUSY, why);
		return;
	}
	if (in_clashes(p, r)) {
		in_refuse(c, r->id, PE_CLASH,
		    "a migration of that guest is already running here");
		return;
	}
	if ((j = parent_job_new(p, JOB_IN, "receive")) == NULL ||
	    util_pipe_data(pfd) == -1) {
		in_refuse(c, r->id, PE_BUSY, "job table full");
		return;
	}
	j->state = JOB_RESERVING;
	STRLCPY_ARRAY(j->id, r->id);
	j->guest = r->guest;
	STRLCPY_ARRAY(j->peer, c->ip);
	j->net_pid = c->pid;
	j->data_wr = pfd[1];
	j->stats.memory_bytes = r->guest.memory_bytes;
	c->job = parent_job_index(p, j);
	parent_metrics_job_started(p, j);
	/* r is parent_job.c's job_buf: copied before anything reuses it. */
	if ((st = parent_worker_start_new(p, WORKER_OP_RECEIVE, r->id)) != NULL)
		st->reserve = *r;
	if (st == NULL ||
	    parent_job_start_worker(p, j, st, pfd[0], NULL) == -1) {
		in_refuse(c, r->id, PE_INTERNAL, "no worker");
		parent_job_end(p, j, 0, PE_INTERNAL, "worker failed to start");
	}
	free(st);
	close(pfd[0]);
}

/* What a destination tells a source that asks after a lost connection. */
static const char *
in_phase_for_query(const struct job *j)
{
	if (j == NULL)
		return "unknown";
	if (j->state == JOB_ENDED)
		return j->ok ? "activated" : "aborted";
	if (j->state == JOB_GO)
		return "go";
	return parent_job_state_name(j->state);
}

void
parent_in_query(struct parent *p, struct child *c, struct msg_step *q)
{
	struct job	*j;
	struct msg_step	 st;

	MSG_TERMINATE(q->id);
	j = proto_id_valid(q->id) ? parent_job_find(p, q->id) : NULL;
	if (j != NULL && j->role != JOB_IN)
		j = NULL;
	memset(&st, 0, sizeof(st));
	STRLCPY_ARRAY(st.id, q->id);
	if (strlcpy(st.text, in_phase_for_query(j), sizeof(st.text)) >=
	    sizeof(st.text))
		fatalx("phase name %s longer than %d characters",
		    in_phase_for_query(j), PROTO_TEXT_MAX);
	msg_send(c->fd, MSG_STEP, &st, sizeof(st), -1);
}

/* Destination: the source's news, relayed to the worker. */
void
parent_in_net_step(struct parent *p, struct job *j, const struct msg_step *st)
{
	switch (st->phase) {
	case PHASE_GO:
		if (j->state != JOB_PREPARED)
			break;
		j->state = JOB_GO;
		log_info("migration %s: go: %s is ours now", j->id,
		    j->guest.name);
		parent_job_cmd(p, j, PHASE_GO, PE_NONE, "", -1);
		break;
	case PHASE_ABORTED:
		if (!parent_job_abortable(j))
			break;
		log_info("migration %s: peer %s aborted: %s", j->id, j->peer,
		    st->text);
		parent_job_cmd(p, j, PHASE_ABORTED, PE_ABORTED, st->text, -1);
		break;
	}
}

/* Destination: the worker's steps, relayed to the network child. */
void
parent_in_worker_step(struct parent *p, struct job *j,
    const struct msg_step *st)
{
	if (st->code != PE_NONE) {
		parent_job_to_net(p, j, st->phase, st->code, st->text, -1);
		parent_job_end(p, j, 0, st->code, st->text);
		return;
	}
	switch (st->phase) {
	case PHASE_RESERVED:
		j->guest = st->guest;
		j->available = st->available;
		j->available_known = st->available_known ? 1 : 0;
		j->state = JOB_STREAMING;
		j->streaming_ms = util_now_ms();
		parent_job_to_net(p, j, PHASE_RESERVED, PE_NONE, "",
		    j->data_wr);
		close(j->data_wr);
		j->data_wr = -1;
		break;
	case PHASE_PREPARED:
		j->state = JOB_PREPARED;
		j->stats.bytes = st->stats.bytes;
		j->stats.memory_sent = st->stats.memory_sent;
		j->stats.zero_pages = st->stats.zero_pages;
		j->stats.digest_ms = st->stats.digest_ms;
		pause_merge(&j->stats.pause, &st->stats.pause);
		parent_job_to_net(p, j, PHASE_PREPARED, PE_NONE, "", -1);
		break;
	case PHASE_ACTIVATED:
		j->stats.downtime_ms = st->stats.downtime_ms;
		pause_merge(&j->stats.pause, &st->stats.pause);
		parent_job_to_net(p, j, PHASE_ACTIVATED, PE_NONE, "", -1);
		parent_job_end(p, j, 1, PE_NONE, "activated");
		break;
	case PHASE_ABORTED:
		parent_job_end(p, j, 0, PE_ABORTED, st->text);
		break;
	}
}
