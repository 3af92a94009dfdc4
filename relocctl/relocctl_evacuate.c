// SPDX-License-Identifier: ISC
/*
 * relocctl evacuate: every guest on this host migrates live to the
 * peers named with --to, N at a time.  It asks each peer, for each
 * guest, the question relocctl check asks (a migration that stops once
 * the destination has run its pre-flight and reserved room), and a peer
 * of protocol 5 or later also says there how much memory it could give
 * (relocd/version.c).  placement.c then gives each guest the peer with
 * the most memory left for it, and the migrations run
 * (relocctl_evac_run.c).  A guest that cannot move stays running here
 * and is listed with the reason; the exit status is 0 only if this host
 * is empty afterwards.
 *
 * A guest that Pacemaker manages is refused: moved behind the cluster's
 * back, it would be seen on two nodes and restarted.  The mark is a file
 * the resource agent (ocf/guest) keeps in HA_RSCTMP while the guest is
 * its resource here, relocd-guest-NAME.managed: the agent is what
 * starts and stops such a guest, so it is there exactly when Pacemaker
 * owns it, it needs no cluster query (crm_resource may hang on a node
 * that lost quorum, and is not installed on hosts outside a cluster),
 * and HA_RSCTMP is a tmpfs that a reboot empties with the guests.
 *
 * Runs as the invoking user; everything a peer said comes through
 * relocd's typed replies and is escaped for the terminal.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "placement.h"
#include "relocctl.h"
#include "relocctl_evac.h"
#include "sxp.h"
#include "util.h"

/* Where ocf-shellfuncs puts HA_RSCTMP on Debian when none is set. */
#define EVAC_RSCTMP_DEFAULT	"/run/resource-agents"

static const char *
jstr(const json_t *o, const char *name, const char *def)
{
	const char	*v = json_string_value(json_object_get(o, name));

	return v != NULL ? v : def;
}

static long long
jnum(const json_t *o, const char *name)
{
	return json_integer_value(json_object_get(o, name));
}

/* HOST or HOST:PORT, or [ADDR]:PORT for an IPv6 literal. */
static int
evac_peer_parse(struct evac_peer *p, const char *arg, const char *port)
{
	char	 buf[300], *colon, *host = buf;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		return -1;
	colon = strrchr(buf, ':');
	if (buf[0] == '[' && (colon = strstr(buf, "]:")) != NULL) {
		*colon = '\0';
		host = buf + 1;
		port = colon + 2;
	} else if (colon != NULL && strchr(buf, ':') == colon) {
		*colon = '\0';
		port = colon + 1;
	}
	if (host[0] == '\0' || strlcpy(p->host, host, sizeof(p->host)) >=
	    sizeof(p->host))
		return -1;
	p->port[0] = '\0';
	if (port != NULL) {
		const char	*errstr;

		util_strtonum(port, 1, 65535, &errstr);
		if (errstr != NULL)
			return -1;
		strlcpy(p->port, port, sizeof(p->port));
	}
	snprintf(p->label, sizeof(p->label), "%s%s%s", host,
	    port != NULL ? ":" : "", port != NULL ? port : "");
	return 0;
}

/* Whether Pacemaker's resource agent marks guest as its own here. */
static int
evac_managed(const char *guest)
{
	const char	*dir = getenv("HA_RSCTMP");
	char		 path[512];

	if (dir == NULL || dir[0] == '\0')
		dir = EVAC_RSCTMP_DEFAULT;
	if (snprintf(path, sizeof(path), "%s/relocd-guest-%s.managed", dir,
	    guest) >= (int)sizeof(path))
		return 0;
	return access(path, F_OK) == 0;
}

/* The guests here, from relocd's list; -1 having said why. */
static int
evac_list(struct relocctl *rc, struct evac *ev)
{
	struct sxp_node	*root = NULL;
	const json_t	*g;
	json_t		*o = NULL;
	size_t		 k;
	int		 status;

	ev->nguests = 0;
	if ((status = relocctl_request(rc, "(list)", &root)) != EXIT_OK)
		return -1;
	if (relocctl_is_error(root->first) ||
	    (o = relocctl_json_msg(root->first)) == NULL) {
		sxp_free(root);
		return -1;
	}
	json_array_foreach(json_object_get(o, "guests"), k, g) {
		struct evac_guest	*eg;

		if (ev->nguests == EVACUATE_GUESTS_MAX)
			break;
		eg = &ev->guests[ev->nguests++];
		memset(eg, 0, sizeof(*eg));
		strlcpy(eg->name, jstr(g, "name", "?"), sizeof(eg->name));
		strlcpy(eg->state, jstr(g, "state", "?"), sizeof(eg->state));
		eg->memory = (uint64_t)jnum(g, "memory");
		eg->peer = -1;
	}
	json_decref(o);
	sxp_free(root);
	return 0;
}

/*
 * relocctl check GUEST PEER, quietly: the pre-flight's answer, and what
 * the peer says it could give.  *ok_r is 1 if the peer would take it;
 * text says why not.
 */
static void
evac_check(struct relocctl *rc, const struct evac_guest *g,
    struct evac_peer *p, int *ok_r, char *text, size_t textlen)
{
	char		 req[1024] = "(migrate (check 1) (live 1)";
	json_t		*o = NULL;

	*ok_r = 0;
	if (req_add(req, sizeof(req), "guest", g->name) == -1 ||
	    req_add(req, sizeof(req), "host", p->host) == -1 ||
	    (p->port[0] && req_add(req, sizeof(req), "port", p->port)) ||
	    req_finish(req, sizeof(req)) == -1) {
		snprintf(text, textlen, "the request is too long");
		return;
	}
	if (evac_job_result(rc, req, EVACUATE_CHECK_MS, &o, text,
	    textlen) == -1)
		return;
	*ok_r = json_is_true(json_object_get(o, "ok"));
	if (!*ok_r)
		snprintf(text, textlen, "%s", jstr(o, "text", "refused"));
	if (json_object_get(o, "protocol") != NULL)
		p->protocol = (uint32_t)jnum(o, "protocol");
	if (*ok_r && json_object_get(o, "available") != NULL &&
	    !p->known) {
		p->available = (uint64_t)jnum(o, "available");
		p->known = 1;
	}
	json_decref(o);
}

/* Every movable guest against every peer; the findings into pl. */
static void
evac_ask(struct relocctl *rc, struct evac *ev, struct place_guest *pl)
{
	char	text[EVAC_TEXT_MAX], line[2 * EVAC_TEXT_MAX];
	size_t	i, k;
	int	ok;

	for (i = 0; i < ev->nguests; i++) {
		struct evac_guest	*g = &ev->guests[i];

		memset(&pl[i], 0, sizeof(pl[i]));
		pl[i].memory = g->memory;
		if (g->outcome != EVAC_PENDING)
			continue;
		for (k = 0; k < ev->npeers && !evac_stopping(); k++) {
			evac_check(rc, g, &ev->peers[k], &ok, text,
			    sizeof(text));
			pl[i].passed[k] = ok;
			/* The first refusal, cut (and marked) to fit. */
			snprintf(line, sizeof(line), "%s: %s",
			    ev->peers[k].label, text);
			if (!ok && g->refusal[0] == '\0')
				util_text_copy(g->refusal, line,
				    sizeof(g->refusal));
			if (!ev->json)
				printf("%s: %s %s\n", relocctl_display(g->name),
				    ok ? "passes the pre-flight on" :
				    "fails the pre-flight on", relocctl_display(ok ?
				    ev->peers[k].label : g->refusal));
		}
	}
}

/* Says of each peer what it can give, or why it cannot be asked. */
static void
evac_tell_peers(struct evac *ev)
{
	size_t	k;

	for (k = 0; k < ev->npeers; k++) {
		struct evac_peer	*p = &ev->peers[k];

		if (!p->known && p->protocol != 0 &&
		    p->protocol < EVAC_PROTOCOL_CAPACITY)
			snprintf(p->why, sizeof(p->why), "%s speaks protocol "
			    "%u, which cannot tell its capacity: upgrade relocd "
			    "there, or leave it out of --to and migrate to it "
			    "with relocctl migrate", p->label, p->protocol);
		if (ev->json)
			continue;
		if (p->known)
			printf("%s can give %llu MiB\n",
			    relocctl_display(p->label),
			    (unsigned long long)(p->available >> 20));
		else if (p->why[0] != '\0')
			fprintf(stderr, "relocctl: %s\n",
			    relocctl_display(p->why));
	}
}

/* The reason a guest that placement left out stays, in words. */
static void
evac_unplaced(struct evac *ev, struct evac_guest *g,
    const struct place_guest *pl)
{
	size_t	k;

	g->outcome = EVAC_STAYED;
	switch (pl->outcome) {
	case PLACE_REFUSED:
		snprintf(g->reason, sizeof(g->reason), "no peer passed its "
		    "pre-flight (%s)", g->refusal[0] ? g->refusal : "not asked");
		break;
	case PLACE_UNKNOWN:
		for (k = 0; k < ev->npeers && ev->peers[k].why[0] == '\0'; k++)
			;
		snprintf(g->reason, sizeof(g->reason), "%s",
		    k < ev->npeers ? ev->peers[k].why : "no peer that would "
		    "take it said what it can give");
		break;
	default:
		snprintf(g->reason, sizeof(g->reason), "it needs %llu MiB "
		    "and no peer that would take it has that much left",
		    (unsigned long long)(g->memory >> 20));
	}
}

/* Guests that cannot go whatever the peers say: not running, or owned. */
static void
evac_screen(struct evac *ev)
{
	size_t	i;

	for (i = 0; i < ev->nguests; i++) {
		struct evac_guest	*g = &ev->guests[i];

		g->outcome = EVAC_PENDING;
		if (evac_managed(g->name)) {
			g->outcome = EVAC_STAYED;
			snprintf(g->reason, sizeof(g->reason), "Pacemaker "
			    "manages it (ocf:relocd:guest): use 'crm node "
			    "standby' on this node to move it; moved behind "
			    "the cluster's back it would be restarted");
		} else if (strcmp(g->state, "running") != 0) {
			g->outcome = EVAC_STAYED;
			snprintf(g->reason, sizeof(g->reason), "it is %s, not "
			    "running: only a running guest migrates live "
			    "(relocctl resolve settles a suspended one)",
			    g->state);
		}
	}
}

static void
evac_place(struct evac *ev)
{
	static struct place_guest	pl[EVACUATE_GUESTS_MAX];
	struct place_peer		pp[EVACUATE_PEERS_MAX];
	size_t				i, k;

	evac_ask(ev->rc, ev, pl);
	/* Cancelled while asking: the answers are partial, nothing goes. */
	for (i = 0; evac_stopping() && i < ev->nguests; i++)
		if (ev->guests[i].outcome == EVAC_PENDING) {
			ev->guests[i].outcome = EVAC_STAYED;
			snprintf(ev->guests[i].reason,
			    sizeof(ev->guests[i].reason), "cancelled before "
			    "it started");
		}
	evac_tell_peers(ev);
	for (k = 0; k < ev->npeers; k++) {
		pp[k].available = ev->peers[k].available;
		pp[k].known = ev->peers[k].known;
	}
	placement_choose(pl, ev->nguests, pp, ev->npeers);
	for (i = 0; i < ev->nguests; i++) {
		struct evac_guest	*g = &ev->guests[i];

		if (g->outcome != EVAC_PENDING)
			continue;
		if (pl[i].peer >= 0)
			g->peer = pl[i].peer;
		else
			evac_unplaced(ev, g, &pl[i]);
	}
}

static const struct option evac_options[] = {
	{ "to", required_argument, NULL, 't' },
	{ "parallel", required_argument, NULL, 'P' },
	{ "port", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
evac_options_parse(struct evac *ev, int argc, char **argv)
{
	const char	*to[EVACUATE_PEERS_MAX], *port = NULL, *errstr;
	size_t		 nto = 0, k;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "p:h", evac_options,
	    NULL)) != -1) {
		switch (ch) {
		case 't':
			if (nto == EVACUATE_PEERS_MAX) {
				fprintf(stderr, "relocctl: at most %d --to\n",
				    EVACUATE_PEERS_MAX);
				exit(EXIT_USAGE);
			}
			to[nto++] = optarg;
			break;
		case 'P':
			ev->parallel = (int)util_strtonum(optarg, 1,
			    EVACUATE_PARALLEL_MAX, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "relocctl: --parallel %s: %s "
				    "(1 to %d)\n", optarg, errstr,
				    EVACUATE_PARALLEL_MAX);
				exit(EXIT_USAGE);
			}
			break;
		case 'p': port = optarg; break;
		case 'j': ev->json = 1; break;
		default: relocctl_cmd_usage(argv[0]);
		}
	}
	if (optind != argc || nto == 0)
		relocctl_cmd_usage(argv[0]);
	for (k = 0; k < nto; k++)
		if (evac_peer_parse(&ev->peers[ev->npeers++], to[k],
		    port) == -1) {
			fprintf(stderr, "relocctl: --to %s: not HOST or "
			    "HOST:PORT\n", relocctl_display(to[k]));
			exit(EXIT_USAGE);
		}
}

int
cmd_evacuate(struct relocctl *rc, int argc, char **argv)
{
	static struct evac	ev, after;

	memset(&ev, 0, sizeof(ev));
	ev.rc = rc;
	ev.parallel = EVACUATE_PARALLEL_DEFAULT;
	evac_options_parse(&ev, argc, argv);
	evac_signals();
	ev.started_ms = util_now_ms();
	if (evac_list(rc, &ev) == -1)
		return EXIT_FAILED;
	evac_screen(&ev);
	evac_place(&ev);
	evac_run(&ev);
	/* The host's own word on what is left, not our bookkeeping. */
	if (evac_list(rc, &after) == -1)
		return EXIT_FAILED;
	evac_summary(&ev, after.nguests);
	return after.nguests == 0 ? EXIT_OK : EXIT_FAILED;
}
