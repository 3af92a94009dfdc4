// SPDX-License-Identifier: ISC
/*
 * The resolver: the one process that looks up peers' host names for
 * hosts-allow (finding 8 of issue 19: no DNS as root).  The parent
 * starts it, only while some hosts-allow pattern names hosts, and sends
 * it a peer's address (msg_resolve); it answers with the reverse name if
 * that name resolves forward to the same address (acl.c).
 *
 * It reads DNS answers, bytes a peer may choose through its own reverse
 * zone, so it is built to be lost:
 *  - it holds nothing secret: it is exec'd afresh (none of the parent's
 *    memory, no key, no config) and runs as relocd-user, who cannot read
 *    the key files;
 *  - the parent becomes relocd-user before the exec, so this program
 *    never runs as root, and no_new_privs keeps it so;
 *  - no core dumps, no ptrace by the same user;
 *  - a seccomp allow-list: files open read-only, sockets of the kinds
 *    the name service uses (IPv4/IPv6 for DNS, unix for nscd or
 *    systemd-resolved, netlink for nss-myhostname), no exec, no fork,
 *    no kill or ptrace (so not even the network children, which share
 *    its user, can be signalled from here).
 * It is not chrooted: the C library reads /etc/resolv.conf, /etc/hosts
 * and /etc/nsswitch.conf again when they change, and loads the
 * name-service modules nsswitch.conf names from the system's library
 * directories; a copy in a chroot would go stale.  What it can read
 * there, any local user can.  A resolver that lies can admit only what
 * a forged DNS answer could: peers that a name pattern allows.
 *
 * Each of its ADMIT_LOOKUPS_MAX threads takes one query at a time from
 * the socket (SOCK_SEQPACKET: one message to one reader) and answers it,
 * so a slow reverse zone holds one thread, never the others.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "bounds.h"
#include "log.h"
#include "msg.h"
#include "proc.h"
#include "resolver.h"

/*
 * glibc's resolver waits 5 s per try and tries twice per name server:
 * a reverse zone that never answers would hold a thread for tens of
 * seconds.  One second per try, two tries, bounds a reverse and a
 * forward query to about 4 s per silent server; the parent's deadline
 * (ADMIT_LOOKUP_MS) decides for the connection either way, and the
 * thread is free again a few seconds later.  RES_OPTIONS applies on top
 * of resolv.conf, and only in this process.
 */
#define RESOLVER_RES_OPTIONS	"timeout:1 attempts:2"

/*
 * Starts the resolver: fork, put msg_fd at RESOLVER_FD, become
 * relocd-user (when we are root), and exec this program in resolver
 * mode.  Returns its pid, or -1 with err saying why.
 */
pid_t
resolver_spawn(const struct proc_identity *id, int msg_fd, int verbose,
    char *err, size_t errlen)
{
	char	*argv[] = { "relocd", log_getstderr() ? "-Hd" : "-H",
	    verbose ? "-v" : NULL, NULL };
	char	 why[256];
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid != 0)
		return pid;
	if (dup2(msg_fd, RESOLVER_FD) == -1)
		_exit(127);
	closefrom(RESOLVER_FD + 1);
	/* Opened as root: the path may be one relocd-user cannot walk. */
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) == -1)
		_exit(127);
	if (id->drop && proc_setuser(id, why, sizeof(why)) == -1) {
		log_warnx("resolver: %s", why);
		_exit(127);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(127);
	fexecve(fd, argv, environ);
	_exit(127);
}

/*
 * What getnameinfo and getaddrinfo need beyond every sandbox's base
 * (proc.c), through the files, dns, resolve and myhostname modules.
 */
static const int resolver_syscalls[] = {
	SCMP_SYS(pread64), SCMP_SYS(statx), SCMP_SYS(connect),
	SCMP_SYS(bind), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(sendmmsg),
	SCMP_SYS(recvmmsg), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(uname),
	SCMP_SYS(sched_yield),
};

/* Socket families the name service uses; no raw or packet sockets. */
static const int resolver_families[] = {
	AF_UNIX, AF_INET, AF_INET6, AF_NETLINK
};

/* The allow-list, for every thread (they exist already: no clone). */
static int
resolver_seccomp(char *err, size_t errlen)
{
	struct scmp_arg_cmp	 cmp;
	scmp_filter_ctx		 ctx;
	size_t			 i;
	int			 r;

	if ((ctx = proc_seccomp_begin(resolver_syscalls,
	    sizeof(resolver_syscalls) / sizeof(int), 1, err, errlen)) == NULL)
		return -1;
	/* Files: read-only, never created or truncated. */
	cmp = SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
	    O_APPEND, O_RDONLY);
	r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    &cmp);
	for (i = 0; r >= 0 && i < sizeof(resolver_families) / sizeof(int);
	    i++) {
		cmp = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)resolver_families[i]);
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 1, &cmp);
	}
	/* glibc's DNS code asks how much a datagram holds. */
	cmp = SCMP_A1(SCMP_CMP_EQ, FIONREAD);
	if (r >= 0)
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(ioctl), 1, &cmp);
	return proc_seccomp_load(ctx, r, err, errlen);
}

/* Fills q->name and q->confirmed for q's address. */
static void
resolver_lookup(struct msg_resolve *q)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;

	memset(&ss, 0, sizeof(ss));
	q->confirmed = 0;
	memset(q->name, 0, sizeof(q->name));
	if (q->family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, q->addr, sizeof(sin->sin_addr));
		len = sizeof(*sin);
	} else if (q->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, q->addr, sizeof(sin6->sin6_addr));
		len = sizeof(*sin6);
	} else
		return;
	if (acl_peer_confirmed_name((struct sockaddr *)&ss, len, q->name,
	    sizeof(q->name)) == 0)
		q->confirmed = 1;
}

/*
 * Every thread has made its start-up system calls (rseq, robust futex
 * list, signal mask) before the filter goes on: it meets this barrier
 * first.
 */
static pthread_barrier_t	resolver_started;

/* One thread: a query in, its answer out, until the parent goes. */
static void *
resolver_serve(void *arg)
{
	struct msg_resolve	q;
	uint32_t		type;
	size_t			len;
	int			r;

	if (arg != NULL)
		pthread_barrier_wait(&resolver_started);
	for (;;) {
		r = msg_recv(RESOLVER_FD, &type, &q, sizeof(q), &len, NULL);
		if (r == 1)
			_exit(0);
		if (r == -1 || type != MSG_RESOLVE_QUERY)
			fatalx("bad message from the parent");
		resolver_lookup(&q);
		/* Failing here, the parent is gone: so are we. */
		if (msg_send(RESOLVER_FD, MSG_RESOLVE_ANSWER, &q, sizeof(q),
		    -1) == -1)
			_exit(0);
	}
	return NULL;
}

int
resolver_main(void)
{
	pthread_t	t;
	char		err[256];
	int		i;

	log_procinit("resolver");
	proc_no_dumps();
	/* The parent drops root before our exec; never run as root. */
	if (geteuid() == 0 || getuid() == 0)
		fatalx("running as root; relocd starts it as "
		    "relocd-user");
	if (setenv("RES_OPTIONS", RESOLVER_RES_OPTIONS, 1) == -1)
		fatal("setenv");
	if ((errno = pthread_barrier_init(&resolver_started, NULL,
	    ADMIT_LOOKUPS_MAX)) != 0)
		fatal("pthread_barrier_init");
	for (i = 1; i < ADMIT_LOOKUPS_MAX; i++)
		if ((errno = pthread_create(&t, NULL, resolver_serve,
		    &resolver_started)) != 0)
			fatal("pthread_create");
	pthread_barrier_wait(&resolver_started);
	if (proc_under_valgrind())
		log_warnx("running under valgrind: no seccomp filter");
	else if (resolver_seccomp(err, sizeof(err)) == -1)
		fatalx("%s", err);
	resolver_serve(NULL);
	return 1;
}
