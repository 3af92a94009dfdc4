// SPDX-License-Identifier: ISC
/*
 * The parent process: root, long-lived, and deliberately dull.  It owns
 * the configuration, the listening sockets, the control socket and the
 * job table; it decides hosts-allow on each connection's address before
 * anything is read (parent_admit.c), execs a network child for every
 * connection it admits (parent_net.c) and a worker for every operation, and
 * relays typed messages between them.
 *
 * It never reads a byte a peer sent.  What it reads from network
 * children are fixed-size internal messages (msg.c), re-terminated and
 * re-validated here; a child that sends anything malformed is killed,
 * which drops only its connection.  Nothing a peer does can stop the
 * parent.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "acl.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "net.h"
#include "parent.h"
#include "parent_job.h"
#include "parent_metrics.h"
#include "proto.h"
#include "tls.h"
#include "tls_key.h"
#include "util.h"
#include "worker.h"

/* A child still unauthenticated this long after its deadline is killed. */
#define PARENT_PREAUTH_SLACK_MS	2000
/* Connections accepted per listener per wake-up, so none starves. */
#define PARENT_ACCEPT_BURST	16

static int	parent_signal_fd = -1;

static void
parent_on_signal(int sig)
{
	unsigned char	c = (unsigned char)sig;
	int		saved = errno;

	/* A full pipe means a wake-up is already pending. */
	(void)!write(parent_signal_fd, &c, 1);
	errno = saved;
}

/* The signals parent_on_signal catches. */
static const int parent_caught[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };

static void
parent_signals(struct parent *p)
{
	struct sigaction	sa;
	size_t			i;

	if (pipe2(p->sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe");
	parent_signal_fd = p->sigpipe[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = parent_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(parent_caught) / sizeof(parent_caught[0]); i++)
		sigaction(parent_caught[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Holds the caught signals back, for a call that would fail rather than
 * resume if a signal cut its poll short (sd-bus's); old is the mask to
 * restore with parent_signals_release.  Nothing is lost: a held signal
 * is delivered on release, and its handler only wakes the main loop.
 */
void
parent_signals_hold(sigset_t *old)
{
	sigset_t	hold;
	size_t		i;

	sigemptyset(&hold);
	for (i = 0; i < sizeof(parent_caught) / sizeof(parent_caught[0]); i++)
		sigaddset(&hold, parent_caught[i]);
	if (sigprocmask(SIG_BLOCK, &hold, old) == -1)
		fatal("sigprocmask");
}

void
parent_signals_release(const sigset_t *old)
{
	if (sigprocmask(SIG_SETMASK, old, NULL) == -1)
		fatal("sigprocmask");
}

struct child *
parent_child_new(struct parent *p, pid_t pid, int kind, int fd)
{
	size_t	i;

	for (i = 0; i < CHILDREN_MAX; i++)
		if (p->children[i].pid == 0) {
			memset(&p->children[i], 0, sizeof(p->children[i]));
			p->children[i].pid = pid;
			p->children[i].kind = kind;
			p->children[i].fd = fd;
			p->children[i].job = -1;
			p->children[i].ctl = -1;
			p->children[i].pidfd = -1;
			p->children[i].started_ms = util_now_ms();
			return &p->children[i];
		}
	return NULL;
}

struct child *
parent_child_find(struct parent *p, pid_t pid)
{
	size_t	i;

	for (i = 0; i < CHILDREN_MAX; i++)
		if (p->children[i].pid == pid && pid != 0)
			return &p->children[i];
	return NULL;
}

void
parent_child_kill(struct child *c, const char *why)
{
	log_warnx("%s %d: %s; killing it", c->kind == CHILD_NET ?
	    "network child" : "worker", (int)c->pid, why);
	kill(c->pid, SIGKILL);
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
}

/* Spawns a worker; its message socket goes to *fd_r and a child slot. */
int
parent_spawn_worker(struct parent *p, int job, int data_fd, int *fd_r,
    pid_t *pid_r)
{
	struct child	*c;
	pid_t		 pid;
	int		 sv[2];

	if (msg_socketpair(sv) == -1)
		return -1;
	if ((pid = proc_spawn('W', sv[1], data_fd, p->verbose)) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	if ((c = parent_child_new(p, pid, CHILD_WORKER, sv[0])) == NULL) {
		kill(pid, SIGKILL);
		close(sv[0]);
		return -1;
	}
	c->job = job;
	*fd_r = sv[0];
	*pid_r = pid;
	return 0;
}

/* Unauthenticated network children, in total and from ip. */
void
parent_count_preauth(struct parent *p, const char *ip, int *total,
    int *from_ip)
{
	size_t	i;

	*total = *from_ip = 0;
	for (i = 0; i < CHILDREN_MAX; i++) {
		struct child	*c = &p->children[i];

		if (c->pid == 0 || c->kind != CHILD_NET || c->authenticated)
			continue;
		(*total)++;
		if (strcmp(c->ip, ip) == 0)
			(*from_ip)++;
	}
}

/*
 * A connection hosts-allow admitted (parent_admit.c), by its address or
 * by host, its forward-confirmed name: only now does it count against
 * the pre-auth caps, so refused peers can never fill them.
 */
void
parent_admitted(struct parent *p, const struct listener *l, int fd,
    const struct sockaddr_storage *ss, socklen_t sslen, const char *ip,
    const char *host)
{
	int	total, from_ip;

	parent_count_preauth(p, ip, &total, &from_ip);
	if (total >= p->conf->max_preauth ||
	    from_ip >= p->conf->max_preauth_per_host) {
		log_peer_warnx("peer %s: refused: %s", ip, from_ip >=
		    p->conf->max_preauth_per_host ?
		    "too many unauthenticated connections from this "
		    "address (relocd-max-preauth-per-host)" :
		    "too many unauthenticated connections "
		    "(relocd-max-preauth)");
		parent_metrics_refused(METRICS_REFUSED_LIMITS);
		close(fd);
		return;
	}
	parent_spawn_net(p, l, fd, ss, sslen, ip, host);
}

static void
parent_accept(struct parent *p, const struct listener *l)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	char			ip[64];
	int			fd, n;

	for (n = 0; n < PARENT_ACCEPT_BURST; n++) {
		sslen = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_CLOEXEC);
		if (fd == -1)
			return;
		if (acl_peer_ip((struct sockaddr *)&ss, sslen, ip,
		    sizeof(ip)) == -1)
			STRLCPY_ARRAY(ip, "?");
		if (p->stopping) {
			log_peer_warnx("peer %s: refused: shutting down", ip);
			close(fd);
			continue;
		}
		parent_admit(p, l, fd, &ss, sslen, ip);
	}
}

/*
 * A child's last messages may still be queued when we learn that it
 * exited (SIGCHLD and its socket wake the same poll): read them first,
 * so that a worker's final report is never mistaken for a crash.
 */
static void
parent_drain(struct parent *p, struct child *c)
{
	struct pollfd	pfd;
	int		n;

	for (n = 0; n < 64 && c->fd != -1; n++) {
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) != 1)
			return;
		if (c->kind == CHILD_NET)
			parent_job_net_message(p, c);
		else
			parent_job_worker_message(p, c);
	}
}

/*
 * With -v, each child's peak resident set and CPU time as the kernel
 * counted them, so that what a migration costs, and where, can be
 * measured (make bench) without sampling processes that live a second.
 * A worker's peak includes the guest memory it maps.
 */
static void
parent_log_rusage(struct parent *p, const struct child *c,
    const struct rusage *ru)
{
	const char	*id = "-";
	char		 cpu[64];

	if (c->job >= 0 && c->job < JOBS_MAX)
		id = p->jobs[c->job].id;
	util_rusage_cpu(cpu, sizeof(cpu), ru);
	log_debug("%s %d exited: job %s, peak rss %ld KiB, cpu %s",
	    c->kind == CHILD_NET ? "network child" : "worker", (int)c->pid,
	    id, ru->ru_maxrss, cpu);
}

/* A child is gone: its last words, then its job learns of it. */
static void
parent_child_gone(struct parent *p, struct child *c, int status)
{
	pid_t	pid = c->pid;

	parent_drain(p, c);
	if (c->kind == CHILD_WORKER && (!WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0))
		log_warnx("worker %d ended with %s %d", (int)pid,
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
	parent_job_child_exited(p, c, status);
	if (c->fd != -1)
		close(c->fd);
	if (c->pidfd != -1)
		close(c->pidfd);
	free(c->reply);
	memset(c, 0, sizeof(*c));
}

static void
parent_reap(struct parent *p)
{
	struct child	*c;
	struct rusage	 ru;
	pid_t		 pid;
	size_t		 i;
	int		 status;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		if (parent_key_exited(p, pid, status))
			continue;
		if ((c = parent_child_find(p, pid)) == NULL) {
			parent_admit_reaped(p, pid, status);
			continue;
		}
		parent_log_rusage(p, c, &ru);
		parent_child_gone(p, c, status);
	}
	/* Workers in units are not our children: their pidfds tell. */
	for (i = 0; p->unit_fd != -1 && i < CHILDREN_MAX; i++) {
		c = &p->children[i];
		if (c->pid != 0 && c->in_unit &&
		    parent_unit_exited(c, &status)) {
			log_debug("worker %d in its unit exited", (int)c->pid);
			parent_child_gone(p, c, status);
		}
	}
}

/* Network children that have not authenticated in time are killed. */
static void
parent_enforce_deadlines(struct parent *p)
{
	uint64_t	limit, now = util_now_ms();
	size_t		i;

	limit = (uint64_t)p->conf->handshake_timeout_s * 1000 +
	    PARENT_PREAUTH_SLACK_MS;
	for (i = 0; i < CHILDREN_MAX; i++) {
		struct child	*c = &p->children[i];

		if (c->pid != 0 && c->kind == CHILD_NET && !c->authenticated &&
		    now - c->started_ms > limit) {
			kill(c->pid, SIGKILL);
			log_peer_warnx("peer %s: handshake deadline passed; "
			    "connection dropped", c->ip);
			parent_metrics_refused(METRICS_REFUSED_LIMITS);
			c->authenticated = 1;	/* counted once only */
		}
	}
}

static int
parent_same_listeners(const struct conf *a, const struct conf *b)
{
	return a->relocation_server == b->relocation_server &&
	    a->ssl_server == b->ssl_server &&
	    a->relocation_port == b->relocation_port &&
	    a->ssl_port == b->ssl_port &&
	    a->insecure_plaintext == b->insecure_plaintext &&
	    strcmp(a->relocation_address, b->relocation_address) == 0;
}

/*
 * SIGHUP: read the config again.  A broken new config (or certificates
 * that do not load) is reported and the running one kept, so a typo
 * never takes a host out of its pool.
 */
static void
parent_reload(struct parent *p)
{
	struct conf	*conf;
	char		 err[512];

	log_info("reloading %s", p->config_path);
	/* Type=notify: systemctl reload waits for the READY=1 below. */
	sd_notify(0, "RELOADING=1");
	if (conf_load(p->config_path, &conf) == -1) {
		log_warnx("reload failed: %s has errors; keeping the running "
		    "configuration", p->config_path);
		sd_notify(0, "READY=1");
		return;
	}
	if (p->backend_override != NULL)
		conf_backend_parse(p->backend_override, &conf->backend);
	if (parent_load_tls(p, conf, err, sizeof(err)) == -1) {
		log_warnx("reload failed: %s; keeping the running "
		    "configuration", err);
		conf_free(conf);
		sd_notify(0, "READY=1");
		return;
	}
	if (!parent_same_listeners(p->conf, conf))
		log_warnx("listening addresses and ports changed: restart "
		    "relocd to apply them");
	conf_free(p->conf);
	p->conf = conf;
	parent_admit_reload(p);
	parent_metrics_reload(p->conf);
	parent_report_init(p);
	log_info("configuration reloaded");
	sd_notify(0, "READY=1");
}

static void
parent_on_signals(struct parent *p)
{
	unsigned char	sigs[64];
	ssize_t		n, i;

	while ((n = read(p->sigpipe[0], sigs, sizeof(sigs))) > 0)
		for (i = 0; i < n; i++) {
			if (sigs[i] == SIGCHLD)
				parent_reap(p);
			else if (sigs[i] == SIGHUP)
				parent_reload(p);
			else
				parent_stop_begin(p);
		}
}

enum pollkind { PK_SIGNAL, PK_LISTENER, PK_CTL, PK_CTL_CLIENT, PK_CHILD,
	PK_UNIT, PK_RESOLVER };

/*
 * Signals, listeners, control socket and clients, children (and the
 * pidfd of each worker in a unit), the receive-unit socket, resolver.
 */
#define POLLSET_MAX	(1 + LISTENERS_MAX + 1 + CTL_CLIENTS_MAX + \
			    2 * CHILDREN_MAX + 1 + 1)

struct pollset {
	struct pollfd	 fds[POLLSET_MAX];
	int		 kind[POLLSET_MAX];
	size_t		 index[POLLSET_MAX];
	nfds_t		 n;
};

static void
pollset_add(struct pollset *ps, int fd, int kind, size_t index)
{
	ps->fds[ps->n].fd = fd;
	ps->fds[ps->n].events = POLLIN;
	ps->fds[ps->n].revents = 0;
	ps->kind[ps->n] = kind;
	ps->index[ps->n] = index;
	ps->n++;
}

static void
parent_build_pollset(struct parent *p, struct pollset *ps)
{
	size_t	i;

	ps->n = 0;
	pollset_add(ps, p->sigpipe[0], PK_SIGNAL, 0);
	for (i = 0; i < p->nlisteners; i++)
		pollset_add(ps, p->listeners[i].fd, PK_LISTENER, i);
	if (p->ctl_fd != -1)
		pollset_add(ps, p->ctl_fd, PK_CTL, 0);
	for (i = 0; i < CTL_CLIENTS_MAX; i++)
		if (p->ctl[i].fd != -1 && !p->ctl[i].busy)
			pollset_add(ps, p->ctl[i].fd, PK_CTL_CLIENT, i);
	for (i = 0; i < CHILDREN_MAX; i++) {
		if (p->children[i].pid != 0 && p->children[i].fd != -1)
			pollset_add(ps, p->children[i].fd, PK_CHILD, i);
		/* A worker in a unit: its exit wakes us as SIGCHLD would. */
		if (p->children[i].pid != 0 && p->children[i].pidfd != -1)
			pollset_add(ps, p->children[i].pidfd, PK_SIGNAL, 0);
	}
	if (p->unit_fd != -1)
		pollset_add(ps, p->unit_fd, PK_UNIT, 0);
	if (parent_admit_fd(p) != -1)
		pollset_add(ps, parent_admit_fd(p), PK_RESOLVER, 0);
}

static void
parent_dispatch(struct parent *p, const struct pollset *ps, nfds_t i)
{
	struct child	*c;

	switch (ps->kind[i]) {
	case PK_SIGNAL:
		parent_on_signals(p);
		break;
	case PK_UNIT:
		parent_unit_accept(p);
		break;
	case PK_LISTENER:
		parent_accept(p, &p->listeners[ps->index[i]]);
		break;
	case PK_CTL:
		parent_ctl_accept(p);
		break;
	case PK_CTL_CLIENT:
		parent_ctl_read(p, (int)ps->index[i]);
		break;
	case PK_RESOLVER:
		if (parent_admit_fd(p) != -1)
			parent_admit_read(p);
		break;
	case PK_CHILD:
		c = &p->children[ps->index[i]];
		if (c->pid == 0 || c->fd == -1)
			break;
		if (c->kind == CHILD_NET)
			parent_job_net_message(p, c);
		else
			parent_job_worker_message(p, c);
		break;
	}
}

void
parent_run(struct parent *p)
{
	static struct pollset	ps;
	nfds_t			i;
	int			r;

	for (;;) {
		parent_build_pollset(p, &ps);
		r = poll(ps.fds, ps.n, 1000);
		if (r == -1 && errno != EINTR)
			fatal("poll");
		for (i = 0; r > 0 && i < ps.n; i++)
			if (ps.fds[i].revents != 0)
				parent_dispatch(p, &ps, i);
		/* SIGCHLD may have arrived while we were busy above. */
		parent_reap(p);
		parent_enforce_deadlines(p);
		parent_admit_tick(p);
		parent_out_tick(p);
		parent_unit_tick(p);
		parent_metrics_tick(p);
		parent_stop_maybe_exit(p);
	}
}

static void
parent_warn_risks(const struct parent *p)
{
	const struct conf	*conf = p->conf;

	if (!p->id.drop)
		log_warnx("not running as root: network children keep uid %u "
		    "and cannot chroot (acceptable for tests only)",
		    (unsigned)geteuid());
	if (conf->insecure_plaintext && conf->relocation_server)
		log_warnx("WARNING: relocd-insecure-plaintext is on: port %d "
		    "accepts plain TCP with no authentication, as xend did",
		    conf->relocation_port);
	if (p->nlisteners > 0 && acl_hosts_count(conf->hosts_acl) == 0)
		log_warnx("xend-relocation-hosts-allow is empty: any host %s "
		    "may migrate guests here", conf->insecure_plaintext ?
		    "that can reach this port" : "with a certificate from the CA");
}

/* A worker that removes what a relocd that died mid-migration left. */
static void
parent_cleanup(struct parent *p)
{
	struct msg_worker_start	*st;

	if ((st = parent_worker_start_new(p, WORKER_OP_CLEANUP, NULL)) == NULL ||
	    parent_job_start_worker(p, NULL, st, -1, NULL) == -1)
		log_warnx("no cleanup worker: what a crash left stays");
	free(st);
}

/* Everything that can fail at start fails here, before we serve. */
int
parent_start(struct parent *p)
{
	char	err[512];
	size_t	i;

	p->ctl_fd = -1;
	p->unit_fd = -1;
	for (i = 0; i < CTL_CLIENTS_MAX; i++)
		p->ctl[i].fd = p->ctl[i].passed_fd = -1;
	if (gethostname(p->hostname, sizeof(p->hostname)) == -1)
		STRLCPY_ARRAY(p->hostname, "localhost");
	if (backend_get(p->conf->backend) == NULL)
		fatalx("relocd-backend %d: no such backend (use xen or sim)",
		    p->conf->backend);
	p->key_ctl = -1;
	p->key_pid = -1;
	if (proc_identity_setup(p->conf, &p->id, err, sizeof(err)) == -1 ||
	    parent_load_tls(p, p->conf, err, sizeof(err)) == -1 ||
	    listen_open(p->conf, p->listeners, LISTENERS_MAX, &p->nlisteners,
	    err, sizeof(err)) == -1 ||
	    ctl_open(p->conf->control_socket, p->conf->control_group,
	    &p->ctl_fd, err, sizeof(err)) == -1)
		fatalx("%s", err);
	/* One bucket for every network child's peer messages, not one each. */
	if (log_peer_share() == -1)
		fatal("shared log rate limit");
	parent_signals(p);
	if (parent_admit_init(p) == -1)
		fatal("parent_admit_init");
	parent_admit_reload(p);
	parent_warn_risks(p);
	for (i = 0; i < p->nlisteners; i++)
		log_info("listening on %s (%s)", p->listeners[i].where,
		    p->listeners[i].use_tls ? "TLS" : "plaintext");
	if (p->nlisteners == 0)
		log_info("not accepting migrations (xend-relocation-server "
		    "and xend-relocation-ssl-server are off)");
	parent_cleanup(p);
	parent_unit_init(p);
	parent_metrics_start(p);
	parent_report_init(p);
	log_info("relocd started: backend %s, control socket %s",
	    conf_backend_name(p->conf->backend), p->conf->control_socket);
	/*
	 * Type=notify: ready once the listeners and the control socket are
	 * bound.  Without NOTIFY_SOCKET this does nothing.
	 */
	sd_notify(0, "READY=1");
	return 0;
}
