// SPDX-License-Identifier: ISC
/*
 * relocctl evacuate's migrations: each placed guest goes as relocctl
 * migrate --live would send it, at most --parallel at a time, each on
 * its own control connection to relocd, with a line per guest as it
 * starts and ends, then a summary (or, with --json, one object).
 *
 * SIGINT and SIGTERM stop it the way relocctl cancel does: every
 * migration in flight is cancelled by its id (a migration past its
 * commit finishes: relocd refuses to cancel it), nothing new starts,
 * and it waits at most EVACUATE_CANCEL_MS for them to end.  Every other
 * wait is bounded too (bounds.h).
 *
 * Runs as the invoking user; relocd's replies are parsed with the
 * project's bounded reader and escaped for the terminal.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "proto.h"
#include "relocctl.h"
#include "relocctl_evac.h"
#include "sxp.h"
#include "util.h"

/* How often the loop looks at the clock and the signal flag. */
#define EVAC_TICK_MS		200
/* One frame, once poll says it is coming, arrives whole within this. */
#define EVAC_FRAME_MS		5000

static volatile sig_atomic_t	evac_stop;

static void
evac_on_signal(int sig)
{
	(void)sig;
	evac_stop = 1;
}

void
evac_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = evac_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
evac_stopping(void)
{
	return evac_stop != 0;
}

/* One reply on fd, typed; -1 if none came whole in ms. */
static int
evac_read(int fd, int ms, char **type_r, json_t **o_r)
{
	struct sxp_node		*root = NULL;
	struct sxp_error	 serr;
	static char		*buf;
	ssize_t			 len;
	int			 rc = -1;

	*o_r = NULL;
	*type_r = NULL;
	if (buf == NULL && (buf = malloc(CTL_MSG_MAX + 1)) == NULL)
		return -1;
	if ((len = ctl_read_frame(fd, buf, CTL_MSG_MAX + 1, ms)) == -1 ||
	    sxp_parse(buf, (size_t)len, &root, &serr) == -1 ||
	    !relocctl_is_reply(root) ||
	    (*o_r = relocctl_json_msg(root->first)) == NULL)
		goto out;
	*type_r = strdup(root->first->first->text);
	rc = *type_r != NULL ? 0 : -1;
out:
	if (rc == -1) {
		json_decref(*o_r);
		*o_r = NULL;
	}
	sxp_free(root);
	return rc;
}

/*
 * Sends req (a migration or a check) and waits, at most ms in all, for
 * its result, which *o_r gets; -1 with text saying why there is none.
 */
int
evac_job_result(struct relocctl *rc, const char *req, int ms, json_t **o_r,
    char *text, size_t textlen)
{
	uint64_t	 deadline = util_now_ms() + (uint64_t)ms;
	json_t		*o = NULL;
	char		*type = NULL;
	int		 fd, ret = -1;
	uint64_t	 now;

	*o_r = NULL;
	if ((fd = relocctl_open(rc)) == -1) {
		snprintf(text, textlen, "cannot reach relocd here");
		return -1;
	}
	if (ctl_write_frame(fd, req, strlen(req)) == -1) {
		snprintf(text, textlen, "cannot write to relocd");
		goto out;
	}
	while ((now = util_now_ms()) < deadline) {
		free(type);
		json_decref(o);
		if (evac_read(fd, (int)(deadline - now), &type, &o) == -1)
			break;
		if (strcmp(type, "error") == 0) {
			snprintf(text, textlen, "%s", json_string_value(
			    json_object_get(o, "text")) ?: "relocd refused");
			goto out;
		}
		if (strcmp(type, "result") == 0) {
			*o_r = o;
			o = NULL;
			ret = 0;
			goto out;
		}
	}
	snprintf(text, textlen, "no answer from relocd in %d s; see relocctl "
	    "status", ms / 1000);
out:
	free(type);
	json_decref(o);
	close(fd);
	return ret;
}

static void
evac_stayed(struct evac_guest *g, const char *fmt, const char *text)
{
	g->outcome = EVAC_STAYED;
	snprintf(g->reason, sizeof(g->reason), fmt, text);
	if (g->fd != -1) {
		close(g->fd);
		g->fd = -1;
	}
}

/* Starts g's migration to its peer; on failure it stays, with why. */
static void
evac_start(struct evac *ev, struct evac_guest *g)
{
	const struct evac_peer	*p = &ev->peers[g->peer];
	char			 req[1024] = "(migrate (live 1)";

	g->fd = -1;
	g->outcome = EVAC_RUNNING;
	g->start_ms = g->last_ms = util_now_ms();
	if (req_add(req, sizeof(req), "guest", g->name) == -1 ||
	    req_add(req, sizeof(req), "host", p->host) == -1 ||
	    (p->port[0] && req_add(req, sizeof(req), "port", p->port)) ||
	    req_finish(req, sizeof(req)) == -1) {
		evac_stayed(g, "%s", "the request is too long");
		return;
	}
	if ((g->fd = relocctl_open(ev->rc)) == -1) {
		evac_stayed(g, "%s", "cannot reach relocd here");
		return;
	}
	if (ctl_write_frame(g->fd, req, strlen(req)) == -1) {
		evac_stayed(g, "%s", "cannot write to relocd");
		return;
	}
	if (!ev->json)
		printf("%s: migrating to %s (%llu MiB)\n",
		    relocctl_display(g->name), relocctl_display(p->label),
		    (unsigned long long)(g->memory >> 20));
	fflush(stdout);
}

/* The end of g's migration, in its result o. */
static void
evac_result(struct evac *ev, struct evac_guest *g, const json_t *o)
{
	const char	*text = json_string_value(json_object_get(o, "text"));

	g->elapsed_ms = util_now_ms() - g->start_ms;
	if (json_is_true(json_object_get(o, "ok"))) {
		g->outcome = EVAC_MOVED;
		close(g->fd);
		g->fd = -1;
		if (!ev->json)
			printf("%s: moved to %s in %.2f s\n",
			    relocctl_display(g->name),
			    relocctl_display(ev->peers[g->peer].label),
			    g->elapsed_ms / 1000.0);
	} else {
		evac_stayed(g, "the migration failed: %s",
		    text != NULL ? text : "no reason given");
		if (!ev->json)
			printf("%s: %s\n", relocctl_display(g->name),
			    relocctl_display(g->reason));
	}
	fflush(stdout);
}

/* relocctl cancel ID; a refusal (past the commit) is fine: it ends. */
static void
evac_cancel_one(struct evac *ev, const struct evac_guest *g)
{
	struct sxp_node	*root;
	char		 req[128];

	snprintf(req, sizeof(req), "(cancel (id %s))", g->id);
	if (relocctl_request(ev->rc, req, &root) == EXIT_OK)
		sxp_free(root);
}

/* One reply on a migration's connection. */
static void
evac_reply(struct evac *ev, struct evac_guest *g)
{
	json_t	*o = NULL;
	char	*type = NULL;
	const char *id;

	if (evac_read(g->fd, EVAC_FRAME_MS, &type, &o) == -1) {
		evac_stayed(g, "%s", "lost relocd; see relocctl status");
		return;
	}
	g->last_ms = util_now_ms();
	if (strcmp(type, "started") == 0 &&
	    (id = json_string_value(json_object_get(o, "id"))) != NULL &&
	    proto_id_valid(id)) {
		strlcpy(g->id, id, sizeof(g->id));
		/* Its id came after the cancel went out: cancel it now. */
		if (evac_stopping())
			evac_cancel_one(ev, g);
	} else if (strcmp(type, "error") == 0)
		evac_stayed(g, "relocd refused it: %s", json_string_value(
		    json_object_get(o, "text")) ?: "no reason given");
	else if (strcmp(type, "result") == 0)
		evac_result(ev, g, o);
	free(type);
	json_decref(o);
}

/* relocctl cancel ID for every migration in flight with an id. */
static void
evac_cancel_all(struct evac *ev)
{
	size_t	i;

	if (!ev->json)
		fprintf(stderr, "relocctl: cancelling the migrations in "
		    "flight; nothing new starts\n");
	for (i = 0; i < ev->nguests; i++) {
		struct evac_guest	*g = &ev->guests[i];

		if (g->outcome == EVAC_RUNNING && g->id[0] != '\0')
			evac_cancel_one(ev, g);
	}
}

/* Fills pfd with the running migrations; returns how many. */
static size_t
evac_poll_set(struct evac *ev, struct pollfd *pfd, size_t *idx)
{
	size_t	i, n = 0;

	for (i = 0; i < ev->nguests; i++)
		if (ev->guests[i].outcome == EVAC_RUNNING) {
			pfd[n].fd = ev->guests[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			idx[n++] = i;
		}
	return n;
}

/* Starts placed guests while fewer than --parallel run. */
static void
evac_fill(struct evac *ev)
{
	size_t	i, running = 0;

	for (i = 0; i < ev->nguests; i++)
		running += ev->guests[i].outcome == EVAC_RUNNING;
	for (i = 0; i < ev->nguests && running < (size_t)ev->parallel; i++)
		if (ev->guests[i].outcome == EVAC_PENDING &&
		    ev->guests[i].peer >= 0) {
			evac_start(ev, &ev->guests[i]);
			running += ev->guests[i].outcome == EVAC_RUNNING;
		}
}

/* Bounds: no word for EVACUATE_IDLE_MS, or past the cancel's grace. */
static void
evac_timeouts(struct evac *ev, uint64_t cancel_deadline)
{
	uint64_t	now = util_now_ms();
	size_t		i;

	for (i = 0; i < ev->nguests; i++) {
		struct evac_guest	*g = &ev->guests[i];

		if (g->outcome != EVAC_RUNNING)
			continue;
		if (cancel_deadline != 0 && now >= cancel_deadline)
			evac_stayed(g, "%s", "still in flight after the cancel; "
			    "see relocctl status");
		else if (now - g->last_ms >= EVACUATE_IDLE_MS)
			evac_stayed(g, "%s", "no word from relocd for 10 "
			    "minutes; see relocctl status");
	}
}

void
evac_run(struct evac *ev)
{
	struct pollfd	pfd[EVACUATE_GUESTS_MAX];
	size_t		idx[EVACUATE_GUESTS_MAX], n, k, i;
	uint64_t	cancel_deadline = 0;

	for (i = 0; i < ev->nguests; i++)
		ev->guests[i].fd = -1;
	for (;;) {
		if (evac_stopping() && cancel_deadline == 0) {
			evac_cancel_all(ev);
			cancel_deadline = util_now_ms() + EVACUATE_CANCEL_MS;
		}
		if (cancel_deadline == 0)
			evac_fill(ev);
		if ((n = evac_poll_set(ev, pfd, idx)) == 0)
			break;
		if (poll(pfd, n, EVAC_TICK_MS) == -1 && errno != EINTR)
			break;
		for (k = 0; k < n; k++)
			if (pfd[k].revents != 0)
				evac_reply(ev, &ev->guests[idx[k]]);
		evac_timeouts(ev, cancel_deadline);
	}
	/* Those never started stay: cancelled before their turn. */
	for (i = 0; i < ev->nguests; i++)
		if (ev->guests[i].outcome == EVAC_PENDING)
			evac_stayed(&ev->guests[i], "%s", ev->guests[i].peer >= 0 ?
			    "cancelled before it started" : "not placed");
}

static const char *
evac_outcome_name(int outcome)
{
	return outcome == EVAC_MOVED ? "moved" : "stayed";
}

static void
evac_summary_json(const struct evac *ev, size_t left)
{
	json_t	*o, *a, *g;
	size_t	 i;

	o = json_pack("{s:s, s:b, s:i, s:i, s:I}", "type", "evacuate",
	    "ok", left == 0, "left", (json_int_t)left, "parallel",
	    ev->parallel, "elapsed-ms",
	    (json_int_t)(util_now_ms() - ev->started_ms));
	a = json_array();
	for (i = 0; o != NULL && a != NULL && i < ev->npeers; i++) {
		const struct evac_peer	*p = &ev->peers[i];

		g = json_pack("{s:s, s:i}", "peer", p->label, "protocol",
		    (json_int_t)p->protocol);
		if (g != NULL && p->known)
			json_object_set_new(g, "available",
			    json_integer((json_int_t)p->available));
		if (g != NULL && p->why[0] != '\0')
			json_object_set_new(g, "text", json_string(p->why));
		json_array_append_new(a, g);
	}
	json_object_set_new(o, "peers", a);
	a = json_array();
	for (i = 0; o != NULL && a != NULL && i < ev->nguests; i++) {
		const struct evac_guest	*eg = &ev->guests[i];

		g = json_pack("{s:s, s:s, s:I, s:I}", "guest", eg->name,
		    "result", evac_outcome_name(eg->outcome), "memory",
		    (json_int_t)eg->memory, "elapsed-ms",
		    (json_int_t)eg->elapsed_ms);
		if (g != NULL && eg->peer >= 0)
			json_object_set_new(g, "peer",
			    json_string(ev->peers[eg->peer].label));
		if (g != NULL && eg->outcome != EVAC_MOVED)
			json_object_set_new(g, "text", json_string(eg->reason));
		json_array_append_new(a, g);
	}
	json_object_set_new(o, "guests", a);
	if (o == NULL || relocctl_json_print(o) == -1)
		fprintf(stderr, "relocctl: cannot write the JSON output\n");
	json_decref(o);
}

/* Each guest's outcome, then one line on the host. */
void
evac_summary(const struct evac *ev, size_t left)
{
	size_t	i, moved = 0;

	if (ev->json) {
		evac_summary_json(ev, left);
		return;
	}
	printf("\nsummary:\n");
	for (i = 0; i < ev->nguests; i++) {
		const struct evac_guest	*g = &ev->guests[i];

		if (g->outcome == EVAC_MOVED) {
			moved++;
			printf("  %-20s moved to %s in %.2f s\n",
			    relocctl_display(g->name),
			    relocctl_display(ev->peers[g->peer].label),
			    g->elapsed_ms / 1000.0);
		} else
			printf("  %-20s stays here: %s\n",
			    relocctl_display(g->name),
			    relocctl_display(g->reason));
	}
	printf("%zu of %zu guests moved in %.2f s; ", moved, ev->nguests,
	    (util_now_ms() - ev->started_ms) / 1000.0);
	if (left == 0)
		printf("this host is empty\n");
	else
		printf("%zu guests remain here\n", left);
}
