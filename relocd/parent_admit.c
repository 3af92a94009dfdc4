// SPDX-License-Identifier: ISC
/*
 * Admission: hosts-allow, decided by the parent at accept, before the
 * connection counts against any pre-auth cap and before any TLS byte
 * (issue 19, finding 1), as xend refused before it read.  A refused
 * peer's socket is closed unread: no handshake, no certificate, no
 * network child.
 *
 * The address decides at once.  Only when it does not, and some pattern
 * names hosts (acl_hosts_names: a pattern that starts like an address
 * is matched against addresses only), does the peer need a name: the
 * parent keeps the accepted socket, unread, in a table here and asks the
 * resolver (resolver.c), an unprivileged process, for the address's
 * forward-confirmed name, and goes on polling.  The answer, or the
 * deadline, decides.  Lookups have their own bounds (bounds.h: ADMIT_*),
 * so a peer whose reverse zone is slow delays only peers that need a
 * name, and never those an address pattern allows.
 *
 * Runs in the parent.  The resolver's answers are DNS text: the name is
 * re-terminated and checked here before it is matched or logged.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "conf.h"
#include "guest.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "parent.h"
#include "parent_metrics.h"
#include "proto.h"
#include "resolver.h"
#include "util.h"

/* A connection waiting for its address's name. */
struct admit_conn {
	int			 fd;		/* -1: free slot */
	const struct listener	*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 ip[64];
	uint64_t		 deadline;
	int			 query;		/* index into queries */
};

/* One address being looked up; its connections all wait on it. */
struct admit_query {
	int			 busy;
	uint32_t		 seq;
	char			 ip[64];
	uint64_t		 sent_ms;
};

struct admit {
	pid_t			 pid;		/* the resolver, or 0 */
	int			 fd;		/* its socket, or -1 */
	int			 killed;	/* we ended it: no warning */
	uint64_t		 started_ms;
	uint32_t		 seq;
	struct admit_conn	 conns[ADMIT_PENDING_MAX];
	struct admit_query	 queries[ADMIT_LOOKUPS_MAX];
};

static void
admit_refuse(int fd, const char *ip, const char *why)
{
	log_peer_warnx("peer %s: refused (%s): %s", ip,
	    proto_error_text(PE_UNAUTHORIZED), why);
	parent_metrics_refused(METRICS_REFUSED_HOSTS_ALLOW);
	close(fd);
}

/* Refused for a bound, not by hosts-allow: worded as the pre-auth caps. */
static void
admit_refuse_busy(int fd, const char *ip, const char *why)
{
	log_peer_warnx("peer %s: refused: %s", ip, why);
	parent_metrics_refused(METRICS_REFUSED_LIMITS);
	close(fd);
}

static void
admit_conn_free(struct admit_conn *c)
{
	c->fd = -1;
	c->query = -1;
}

int
parent_admit_init(struct parent *p)
{
	struct admit	*a;
	size_t		 i;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	a->fd = -1;
	for (i = 0; i < ADMIT_PENDING_MAX; i++)
		admit_conn_free(&a->conns[i]);
	p->admit = a;
	return 0;
}

/*
 * The resolver stopped, or (end) we stop it: every lookup it had is
 * lost, so every connection waiting on one is refused.  One that ended
 * by itself is news, logged with its status when reaped.
 */
static void
admit_resolver_lost(struct parent *p, const char *why, int end)
{
	struct admit	*a = p->admit;
	size_t		 i;

	if (a->fd != -1) {
		close(a->fd);
		a->fd = -1;
	}
	if (end && a->pid != 0) {
		a->killed = 1;
		kill(a->pid, SIGKILL);
	}
	for (i = 0; i < ADMIT_LOOKUPS_MAX; i++)
		a->queries[i].busy = 0;
	for (i = 0; i < ADMIT_PENDING_MAX; i++)
		if (a->conns[i].fd != -1) {
			admit_refuse_busy(a->conns[i].fd, a->conns[i].ip, why);
			admit_conn_free(&a->conns[i]);
		}
}

static int
admit_resolver_start(struct parent *p)
{
	struct admit	*a = p->admit;
	char		 err[256];
	uint64_t	 now = util_now_ms();
	pid_t		 pid;
	int		 sv[2];

	if (a->fd != -1)
		return 0;
	/* A resolver that keeps dying is not restarted in a tight loop. */
	if (a->started_ms != 0 &&
	    now - a->started_ms < ADMIT_RESOLVER_RESTART_MS)
		return -1;
	a->started_ms = now;
	if (msg_socketpair(sv) == -1) {
		log_warn("resolver: socketpair");
		return -1;
	}
	if ((pid = resolver_spawn(&p->id, sv[1], p->verbose, err,
	    sizeof(err))) == -1) {
		log_warnx("resolver: %s", err);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	if (proc_set_nonblock(sv[0]) == -1) {
		kill(pid, SIGKILL);
		close(sv[0]);
		return -1;
	}
	a->pid = pid;
	a->fd = sv[0];
	a->killed = 0;
	log_debug("resolver %d started for hosts-allow's name patterns",
	    (int)pid);
	return 0;
}

/* Started with the parent, or by a reload, when a pattern names hosts. */
void
parent_admit_reload(struct parent *p)
{
	if (p->nlisteners == 0 || !acl_hosts_names(p->conf->hosts_acl)) {
		if (p->admit->fd != -1)
			admit_resolver_lost(p, "hosts-allow has no name "
			    "pattern any more", 1);
		return;
	}
	p->admit->started_ms = 0;
	if (admit_resolver_start(p) == -1)
		log_warnx("resolver: not started; host names in hosts-allow "
		    "cannot match until it is");
}

int
parent_admit_fd(const struct parent *p)
{
	return p->admit->fd;
}

/* Asks the resolver about the address of c (slot qi is free). */
static int
admit_query_send(struct parent *p, const struct admit_conn *c, int qi)
{
	struct admit		*a = p->admit;
	struct admit_query	*q = &a->queries[qi];
	struct msg_resolve	 m;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(&m, 0, sizeof(m));
	m.seq = ++a->seq;
	m.family = c->ss.ss_family;
	if (c->ss.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)&c->ss;
		memcpy(m.addr, &sin->sin_addr, sizeof(sin->sin_addr));
	} else if (c->ss.ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)&c->ss;
		memcpy(m.addr, &sin6->sin6_addr, sizeof(sin6->sin6_addr));
	} else
		return -1;
	if (msg_send(a->fd, MSG_RESOLVE_QUERY, &m, sizeof(m), -1) == -1) {
		log_warn("resolver: sending a query");
		return -1;
	}
	q->busy = 1;
	q->seq = m.seq;
	q->sent_ms = util_now_ms();
	STRLCPY_ARRAY(q->ip, c->ip);
	return 0;
}

/*
 * The address did not decide: c waits for its name, sharing a lookup
 * already under way for the same address.  Every bound refuses.
 */
static void
admit_wait_for_name(struct parent *p, struct admit_conn *c)
{
	struct admit	*a = p->admit;
	size_t		 i;
	int		 total = 0, from_ip = 0, free_c = -1, qi = -1, free_q = -1;

	for (i = 0; i < ADMIT_PENDING_MAX; i++) {
		if (a->conns[i].fd == -1) {
			if (free_c == -1)
				free_c = (int)i;
			continue;
		}
		total++;
		if (strcmp(a->conns[i].ip, c->ip) == 0)
			from_ip++;
	}
	for (i = 0; i < ADMIT_LOOKUPS_MAX; i++) {
		if (a->queries[i].busy && strcmp(a->queries[i].ip, c->ip) == 0)
			qi = (int)i;
		else if (!a->queries[i].busy && free_q == -1)
			free_q = (int)i;
	}
	if (free_c == -1 || total >= ADMIT_PENDING_MAX) {
		admit_refuse_busy(c->fd, c->ip, "too many connections waiting "
		    "for a host-name lookup (hosts-allow)");
		return;
	}
	if (from_ip >= ADMIT_PENDING_PER_HOST_MAX) {
		admit_refuse_busy(c->fd, c->ip, "too many connections from "
		    "this address waiting for a host-name lookup "
		    "(hosts-allow)");
		return;
	}
	if (qi == -1 && free_q == -1) {
		admit_refuse_busy(c->fd, c->ip, "too many host-name lookups "
		    "at once (hosts-allow)");
		return;
	}
	if (qi == -1) {
		if (admit_resolver_start(p) == -1) {
			admit_refuse_busy(c->fd, c->ip, "address not in "
			    "hosts-allow, and host-name lookups are not "
			    "available (the resolver is not running)");
			return;
		}
		if (admit_query_send(p, c, free_q) == -1) {
			admit_refuse_busy(c->fd, c->ip, "host-name lookup "
			    "failed");
			admit_resolver_lost(p, "host-name lookup failed", 1);
			return;
		}
		qi = free_q;
	}
	a->conns[free_c] = *c;
	a->conns[free_c].query = qi;
	a->conns[free_c].deadline = util_now_ms() + ADMIT_LOOKUP_MS;
}

/*
 * A connection just accepted from ip.  Refused, admitted (to the
 * pre-auth caps: parent_admitted), or left waiting for its name.
 */
void
parent_admit(struct parent *p, const struct listener *l, int fd,
    const struct sockaddr_storage *ss, socklen_t sslen, const char *ip)
{
	const struct acl	*acl = p->conf->hosts_acl;
	struct admit_conn	 c;

	if (acl_hosts_match(acl, ip, NULL)) {
		parent_admitted(p, l, fd, ss, sslen, ip, "");
		return;
	}
	if (!acl_hosts_names(acl)) {
		admit_refuse(fd, ip, "address not in hosts-allow");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.l = l;
	memcpy(&c.ss, ss, sslen);
	c.sslen = sslen;
	/* parent_accept's buffer is as large: a cut is a broken invariant. */
	if (strlcpy(c.ip, ip, sizeof(c.ip)) >= sizeof(c.ip))
		fatalx("parent_admit: address text too long");
	admit_wait_for_name(p, &c);
}

/* The name (or none) for query qi decides each connection waiting on it. */
static void
admit_decide(struct parent *p, int qi, const char *name)
{
	struct admit		*a = p->admit;
	struct admit_conn	 one, *c = &one;
	char			 why[HOST_NAME_LEN_MAX + 80];
	size_t			 i;

	for (i = 0; i < ADMIT_PENDING_MAX; i++) {
		if (a->conns[i].fd == -1 || a->conns[i].query != qi)
			continue;
		/* Out of the table first: the socket is handed on below. */
		one = a->conns[i];
		admit_conn_free(&a->conns[i]);
		if (name[0] != '\0' &&
		    acl_hosts_match(p->conf->hosts_acl, c->ip, name)) {
			log_debug("peer %s: host name %s is in hosts-allow",
			    c->ip, name);
			parent_admitted(p, c->l, c->fd, &c->ss, c->sslen,
			    c->ip, name);
		} else {
			if (name[0] != '\0')
				snprintf(why, sizeof(why), "address and host "
				    "name %s not in hosts-allow", name);
			else
				snprintf(why, sizeof(why), "address not in "
				    "hosts-allow, and no forward-confirmed "
				    "host name");
			admit_refuse(c->fd, c->ip, why);
		}
	}
}

/* The resolver answered (or went away). */
void
parent_admit_read(struct parent *p)
{
	struct admit		*a = p->admit;
	struct msg_resolve	 m;
	uint32_t		 type;
	size_t			 len, i;
	int			 r;

	r = msg_recv(a->fd, &type, &m, sizeof(m), &len, NULL);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r != 0 || type != MSG_RESOLVE_ANSWER) {
		admit_resolver_lost(p, r == 1 ? "host-name lookup failed: "
		    "the resolver exited" : "host-name lookup failed: bad "
		    "message from the resolver", r != 1);
		return;
	}
	MSG_TERMINATE(m.name);
	if (!m.confirmed || !host_name_valid(m.name, 0))
		m.name[0] = '\0';
	for (i = 0; i < ADMIT_LOOKUPS_MAX; i++)
		if (a->queries[i].busy && a->queries[i].seq == m.seq)
			break;
	if (i == ADMIT_LOOKUPS_MAX) {
		admit_resolver_lost(p, "host-name lookup failed: the resolver "
		    "answered a question it was not asked", 1);
		return;
	}
	a->queries[i].busy = 0;
	admit_decide(p, (int)i, m.name);
}

/* Once a second: deadlines of waiting connections, a stuck resolver. */
void
parent_admit_tick(struct parent *p)
{
	struct admit	*a = p->admit;
	uint64_t	 now = util_now_ms();
	size_t		 i;

	for (i = 0; i < ADMIT_PENDING_MAX; i++)
		if (a->conns[i].fd != -1 && now >= a->conns[i].deadline) {
			admit_refuse(a->conns[i].fd, a->conns[i].ip,
			    "address not in hosts-allow, and the host-name "
			    "lookup took too long");
			admit_conn_free(&a->conns[i]);
		}
	/* A query stays counted until answered: the cap stays honest. */
	for (i = 0; i < ADMIT_LOOKUPS_MAX; i++)
		if (a->queries[i].busy &&
		    now - a->queries[i].sent_ms > ADMIT_RESOLVER_STUCK_MS) {
			log_warnx("resolver %d: no answer about %s in %d s; "
			    "restarting it", (int)a->pid, a->queries[i].ip,
			    ADMIT_RESOLVER_STUCK_MS / 1000);
			admit_resolver_lost(p, "host-name lookup failed: the "
			    "resolver was stuck", 1);
			break;
		}
}

/* SIGCHLD for a pid that is no child slot: is it the resolver? */
int
parent_admit_reaped(struct parent *p, pid_t pid, int status)
{
	struct admit	*a = p->admit;

	if (pid != a->pid)
		return 0;
	if (!a->killed && !p->stopping)
		log_warnx("resolver %d ended with %s %d%s", (int)pid,
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status), WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGSYS ? " (a name-service module "
		    "made a system call its sandbox does not allow; use "
		    "addresses in hosts-allow, or report it)" : "");
	a->pid = 0;
	if (a->fd != -1)
		admit_resolver_lost(p, "host-name lookup failed: the resolver "
		    "exited", 0);
	return 1;
}

/* Stopping: no more admissions, and the resolver goes. */
void
parent_admit_stop(struct parent *p)
{
	admit_resolver_lost(p, "shutting down", 1);
}

