// SPDX-License-Identifier: ISC
/*
 * Privilege separation: what each process gives up, and how the parent
 * starts the others.
 *
 *  - The network child (one per connection) loses core dumps and
 *    ptrace-ability, chroots into an empty directory, becomes the
 *    unprivileged relocd user, and enters a seccomp allow-list before it
 *    reads a single byte from the peer.
 *  - The worker (one per operation), the key process (one per key) and
 *    the network child are exec'd afresh as root, so they inherit
 *    nothing from the parent but the descriptors they are given.
 *
 * Runs in the parent (setup, spawning) and in the network child (sandbox).
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "conf.h"
#include "log.h"
#include "proc.h"
#include "util.h"

/*
 * Under valgrind (tests/regress/lib's RELOCD_VALGRIND), whose own system
 * calls no allow-list of ours can foresee: RUNNING_ON_VALGRIND is a
 * no-op instruction sequence that only valgrind's CPU answers, so
 * nothing outside it can switch the filter off.
 */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define PROC_UNDER_VALGRIND	RUNNING_ON_VALGRIND
#else
#define PROC_UNDER_VALGRIND	0
#endif

/*
 * Resolves the network children's user and makes their chroot directory.
 * As root, a missing user is an error that says how to create it; not as
 * root (tests, development), nothing can be dropped, and the caller warns.
 */
int
proc_identity_setup(const struct conf *conf, struct proc_identity *id,
    char *err, size_t errlen)
{
	struct passwd	*pw;
	struct stat	 st;

	memset(id, 0, sizeof(*id));
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(conf->user)) == NULL) {
		snprintf(err, errlen, "user %s does not exist; create it "
		    "(useradd --system --no-create-home --shell /usr/sbin/"
		    "nologin %s) or set relocd-user", conf->user, conf->user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "relocd-user %s is root; use an "
		    "unprivileged user", conf->user);
		return -1;
	}
	if (strlcpy(id->chroot_dir, conf->chroot_dir,
	    sizeof(id->chroot_dir)) >= sizeof(id->chroot_dir)) {
		snprintf(err, errlen, "relocd-chroot: path too long");
		return -1;
	}
	if (mkdir(id->chroot_dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", id->chroot_dir, strerror(errno));
		return -1;
	}
	/* The child must not be able to write to its own root. */
	if (stat(id->chroot_dir, &st) == -1 || st.st_uid != 0 ||
	    (st.st_mode & 022) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s must be a directory owned by root "
		    "and writable only by root", id->chroot_dir);
		return -1;
	}
	id->drop = 1;
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	return 0;
}

void
proc_no_dumps(void)
{
	struct rlimit	rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * Becomes relocd-user for good: its group only, and no way back to root.
 * The network child calls it after its chroot; the resolver, which must
 * read the host's name service files, before its exec (resolver.c).
 */
int
proc_setuser(const struct proc_identity *id, char *err, size_t errlen)
{
	uid_t	ruid, euid, suid;

	if (setgroups(1, &id->gid) == -1 ||
	    setresgid(id->gid, id->gid, id->gid) == -1 ||
	    setresuid(id->uid, id->uid, id->uid) == -1) {
		snprintf(err, errlen, "dropping privileges: %s",
		    strerror(errno));
		return -1;
	}
	/* Belt and braces: make sure there is no way back to root. */
	if (getresuid(&ruid, &euid, &suid) == -1 || ruid != id->uid ||
	    euid != id->uid || suid != id->uid || setuid(0) != -1) {
		snprintf(err, errlen, "privileges were not dropped");
		return -1;
	}
	return 0;
}

static int
proc_drop_privileges(const struct proc_identity *id, char *err,
    size_t errlen)
{
	if (chroot(id->chroot_dir) == -1 || chdir("/") == -1) {
		snprintf(err, errlen, "chroot %s: %s", id->chroot_dir,
		    strerror(errno));
		return -1;
	}
	return proc_setuser(id, err, errlen);
}

/*
 * What every sandboxed process needs whatever it does: reading and
 * writing descriptors it already holds, memory, time, randomness,
 * signals and exit.  Nothing that opens a file or a socket, and no exec.
 */
static const int proc_base_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(sendto),
	SCMP_SYS(recvfrom), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(close), SCMP_SYS(fcntl),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(mprotect), SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(getrandom),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(lseek),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
#ifdef __SANITIZE_ADDRESS__
	/*
	 * ASan tears down its alternate signal stack at exit; without this
	 * every sandboxed process of "make SANITIZE=1" dies of SIGSYS on its
	 * way out.
	 */
	SCMP_SYS(sigaltstack),
#endif
};

/*
 * The network child's (and the key process's) few more, once the peer
 * may talk to it: TLS over an already open socket ends with shutdown,
 * and OpenSSL's and libc's timers use alarm.  A plaintext stream moves
 * between pipe and socket by splice (tls_plain_send_from_pipe).
 */
static const int proc_net_syscalls[] = {
	SCMP_SYS(shutdown), SCMP_SYS(alarm), SCMP_SYS(splice),
};

/*
 * The one way a sandbox's allow-list starts: a filter that kills the
 * process on any call but the base ones and extra[], allowed whatever
 * their arguments.  all_threads: the filter covers threads that already
 * exist (TSYNC).  The caller adds rules with arguments, then calls
 * proc_seccomp_load().  NULL on failure, with err set.
 */
scmp_filter_ctx
proc_seccomp_begin(const int *extra, size_t nextra, int all_threads,
    char *err, size_t errlen)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 r = 0;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return NULL;
	}
	if (all_threads)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (i = 0; r >= 0 && i < sizeof(proc_base_syscalls) / sizeof(int);
	    i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    proc_base_syscalls[i], 0);
	for (i = 0; r >= 0 && i < nextra; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, extra[i], 0);
	if (r < 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(-r));
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* Loads and frees what proc_seccomp_begin() started; r: an earlier error. */
int
proc_seccomp_load(scmp_filter_ctx ctx, int r, char *err, size_t errlen)
{
	if (r >= 0)
		r = seccomp_load(ctx);
	if (r < 0)
		snprintf(err, errlen, "seccomp: %s", strerror(-r));
	seccomp_release(ctx);
	return r < 0 ? -1 : 0;
}

static int
proc_seccomp(char *err, size_t errlen)
{
	scmp_filter_ctx	 ctx;

	struct scmp_arg_cmp	 cmp;
	int			 r;

	if ((ctx = proc_seccomp_begin(proc_net_syscalls,
	    sizeof(proc_net_syscalls) / sizeof(int), 0, err, errlen)) == NULL)
		return -1;
	/* How much the worker's pipe holds: one plaintext frame's size. */
	cmp = SCMP_A1(SCMP_CMP_EQ, FIONREAD);
	r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    &cmp);
	return proc_seccomp_load(ctx, r, err, errlen);
}

/* Everything the network child gives up before talking to the peer. */
int
proc_sandbox_net(const struct proc_identity *id, char *err, size_t errlen)
{
	proc_no_dumps();
	if (id->drop && proc_drop_privileges(id, err, errlen) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (PROC_UNDER_VALGRIND) {
		log_warnx("running under valgrind: no seccomp filter");
		return 0;
	}
	return proc_seccomp(err, errlen);
}

/*
 * Starts this same program in mode (-W a worker, -K the key process, -N
 * a network child) with fds[i] at descriptor 3 + i (-1: that number
 * stays closed) and nothing else open.  Exec (not just fork) gives the
 * process a clean address space with no parent state in it.  It logs
 * where we log: -d passes on our stderr, else it opens syslog.
 */
pid_t
proc_spawn_fds(char mode, const int *fds, int nfds, int verbose)
{
	char	 flag[4] = { '-', mode, log_getstderr() ? 'd' : '\0', '\0' };
	char	*argv[] = { "relocd", flag, verbose ? "-v" : NULL, NULL };
	int	 tmp[PROC_SPAWN_FDS_MAX];
	pid_t	 pid;
	int	 fd, i;

	if (nfds > PROC_SPAWN_FDS_MAX)
		return -1;
	if ((pid = fork()) != 0)
		return pid;
	/*
	 * Above every target number first, so that no dup2 below can
	 * overwrite a descriptor still to be moved.
	 */
	for (i = 0; i < nfds; i++)
		if (fds[i] != -1 &&
		    (tmp[i] = fcntl(fds[i], F_DUPFD, 3 + nfds)) == -1)
			_exit(127);
	/* dup2 clears close-on-exec on the new numbers; close the rest. */
	for (i = 0; i < nfds; i++) {
		if (fds[i] == -1)
			close(3 + i);
		else if (dup2(tmp[i], 3 + i) == -1)
			_exit(127);
	}
	closefrom(3 + nfds);
	/*
	 * The running binary, even if a new one was installed meanwhile;
	 * through a descriptor because valgrind, unlike the kernel, would
	 * take the path /proc/self/exe for its own.
	 */
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) != -1)
		fexecve(fd, argv, environ);
	_exit(127);
}

/* A worker (mode 'W') or the key process ('K'): msg_fd, then data_fd. */
pid_t
proc_spawn(char mode, int msg_fd, int data_fd, int verbose)
{
	int	fds[2] = { msg_fd, data_fd };

	return proc_spawn_fds(mode, fds, 2, verbose);
}

int
proc_set_nonblock(int fd)
{
	int	flags = fcntl(fd, F_GETFL);

	if (flags == -1)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* The resolver's seccomp filter steps aside for valgrind too (above). */
int
proc_under_valgrind(void)
{
	return PROC_UNDER_VALGRIND;
}
