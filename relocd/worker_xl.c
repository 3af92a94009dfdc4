// SPDX-License-Identifier: ISC
/*
 * The worker for an xl plugin's request: it runs `xl migrate-receive`
 * with the flags the parent sent (already parsed from the peer's words
 * by the network child, checked again here) and with xl's stdin and
 * stdout on WORKER_DATA_FD, a socket pair whose other end the network
 * child pumps to and from the peer.  xl itself then does everything a
 * receiving xl does over ssh: it restores the guest from the stream,
 * answers ready / go / report, and owns the guest afterwards.
 *
 * xl's argv comes from xlreq_argv, which uses fixed strings only; xl is
 * exec'd directly, never through a shell.  Its stderr is logged here,
 * line by line and bounded.  Its exit status is our report.
 *
 * Runs in the worker, as root, with no network.  It trusts the parent;
 * the stream is parsed by xl and libxl, as with ssh (relocd's trust
 * boundary, README).
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "proto.h"
#include "util.h"
#include "worker.h"
#include "xlreq.h"

/* xl's stderr lines logged per request; the rest are counted. */
#define WORKER_XL_LOG_LINES	200
/* Checked while xl's stderr stays open (a child of xl may hold it). */
#define WORKER_XL_POLL_MS	1000

/* Where xl's stderr lines are collected until a newline. */
struct xl_errlog {
	const char	*id;
	char		 line[200];
	size_t		 len;
	unsigned	 lines;
	unsigned	 dropped;
};

static int
worker_xl_report(struct worker *w, int phase, int code, int status,
    const char *text)
{
	struct msg_step	st;

	memset(&st, 0, sizeof(st));
	STRLCPY_ARRAY(st.id, w->start.reserve.id);	/* w->id */
	st.phase = phase;
	st.code = code;
	st.status = status;
	util_text_copy(st.text, text, sizeof(st.text));
	if (msg_send(WORKER_MSG_FD, MSG_WORKER_STEP, &st, sizeof(st),
	    -1) == -1) {
		log_warn("xl-receive %s: reporting to the parent", w->id);
		return -1;
	}
	return 0;
}

/*
 * In the child: the stream becomes stdin and stdout, the stderr pipe
 * stderr, the exec-status pipe fd 3 (close-on-exec, so it reads empty if
 * exec works); nothing else stays open.  Never returns.
 */
static void __attribute__((noreturn))
worker_xl_exec(const char *cmd, const char **argv, int err_fd, int exec_fd)
{
	char	path[XL_COMMAND_MAX + 16];
	int	e;

	if (dup3(exec_fd, WORKER_MSG_FD, O_CLOEXEC) == -1)
		_exit(127);
	if (dup2(WORKER_DATA_FD, 0) == -1 || dup2(WORKER_DATA_FD, 1) == -1 ||
	    dup2(err_fd, 2) == -1)
		goto fail;
	closefrom(WORKER_MSG_FD + 1);
	/* relocd ignores SIGPIPE, and an ignored signal survives exec. */
	signal(SIGPIPE, SIG_DFL);
	execvp(cmd, (char *const *)(uintptr_t)argv);
	/* Debian's xl is in /usr/sbin, which a bare PATH may lack. */
	if (errno == ENOENT && strchr(cmd, '/') == NULL &&
	    snprintf(path, sizeof(path), "/usr/sbin/%s", cmd) <
	    (int)sizeof(path))
		execv(path, (char *const *)(uintptr_t)argv);
fail:
	e = errno;
	(void)!write(WORKER_MSG_FD, &e, sizeof(e));
	_exit(127);
}

/* Logs complete lines of xl's stderr; \r ends a progress line too. */
static void
worker_xl_log(struct xl_errlog *el, const char *buf, size_t n, int flush)
{
	size_t	i;

	for (i = 0; i <= n; i++) {
		if (i < n && buf[i] != '\n' && buf[i] != '\r') {
			if (el->len + 1 < sizeof(el->line))
				el->line[el->len++] = buf[i] >= ' ' &&
				    buf[i] < 0x7f ? buf[i] : '?';
			continue;
		}
		if (i == n && !flush)
			break;
		if (el->len == 0)
			continue;
		el->line[el->len] = '\0';
		if (el->lines++ < WORKER_XL_LOG_LINES)
			log_info("xl-receive %s: xl: %s", el->id, el->line);
		else
			el->dropped++;
		el->len = 0;
	}
}

/*
 * Logs xl's stderr until it closes and xl has exited; returns xl's exit
 * status as a shell reports it (128 + signal if it was killed), and in
 * ru what xl used.
 */
static int
worker_xl_wait(struct xl_errlog *el, pid_t pid, int err_fd,
    struct rusage *ru)
{
	struct pollfd	pfd = { err_fd, POLLIN, 0 };
	char		buf[4096];
	ssize_t		n;
	pid_t		r = 0;
	int		status = 0;

	while (err_fd != -1) {
		if (poll(&pfd, 1, WORKER_XL_POLL_MS) == -1 && errno != EINTR)
			break;
		if (pfd.revents != 0) {
			n = read(err_fd, buf, sizeof(buf));
			if (n > 0) {
				worker_xl_log(el, buf, (size_t)n, 0);
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			break;
		}
		/* xl is gone but something it started holds its stderr. */
		if ((r = wait4(pid, &status, WNOHANG, ru)) == pid)
			break;
	}
	worker_xl_log(el, "", 0, 1);
	if (el->dropped > 0)
		log_info("xl-receive %s: %u more lines from xl not logged",
		    el->id, el->dropped);
	while (r != pid && (r = wait4(pid, &status, 0, ru)) == -1 &&
	    errno == EINTR)
		;
	if (r != pid)
		return 255;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Forks and execs xl; returns its pid, or -1 with err saying why. */
static pid_t
worker_xl_start(struct worker *w, int *err_fd_r, char *err, size_t errlen)
{
	const char	*argv[XLREQ_ARGV_MAX];
	int		 errp[2] = { -1, -1 }, execp[2] = { -1, -1 }, e = 0;
	pid_t		 pid = -1;
	ssize_t		 n;

	xlreq_argv(&w->start.xl, w->start.xl_command, argv);
	if (pipe2(errp, O_CLOEXEC) == -1 || pipe2(execp, O_CLOEXEC) == -1 ||
	    (pid = fork()) == -1) {
		snprintf(err, errlen, "cannot start xl: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		worker_xl_exec(w->start.xl_command, argv, errp[1], execp[1]);
	close(execp[1]);
	execp[1] = -1;
	while ((n = read(execp[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	if (n > 0) {
		snprintf(err, errlen, "cannot run %s (relocd-xl-command): %s",
		    w->start.xl_command, strerror(e));
		waitpid(pid, NULL, 0);
		pid = -1;
		goto out;
	}
	*err_fd_r = errp[0];
	errp[0] = -1;
out:
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	if (execp[0] != -1)
		close(execp[0]);
	if (execp[1] != -1)
		close(execp[1]);
	return pid;
}

int
worker_xl_receive(struct worker *w)
{
	struct xl_errlog	el;
	struct rusage		ru;
	char			what[96], err[512], text[64], cpu[64];
	int			err_fd = -1, status;
	pid_t			pid;

	MSG_TERMINATE(w->start.xl_command);
	if (!xlreq_valid(&w->start.xl) || w->start.xl_command[0] == '\0')
		fatalx("xl-receive %s: invalid start message", w->id);
	xlreq_format(&w->start.xl, what, sizeof(what));
	if ((pid = worker_xl_start(w, &err_fd, err, sizeof(err))) == -1) {
		close(WORKER_DATA_FD);
		log_warnx("xl-receive %s: %s", w->id, err);
		worker_xl_report(w, PHASE_RESERVED, PE_UNSUPPORTED, 0, err);
		return -1;
	}
	/* xl holds the stream now; our copy would hide its end from it. */
	close(WORKER_DATA_FD);
	log_info("xl-receive %s: running %s (%s, pid %d)", w->id, what,
	    w->start.xl_command, (int)pid);
	worker_xl_report(w, PHASE_RESERVED, PE_NONE, 0, "");
	memset(&el, 0, sizeof(el));
	memset(&ru, 0, sizeof(ru));
	el.id = w->id;
	status = worker_xl_wait(&el, pid, err_fd, &ru);
	close(err_fd);
	snprintf(text, sizeof(text), "xl exited with status %d", status);
	log_info("xl-receive %s: %s", w->id, text);
	/*
	 * xl's CPU is in the worker's own figure when the parent reaps it:
	 * this line lets that figure be split into relocd's and xl's.
	 */
	util_rusage_cpu(cpu, sizeof(cpu), &ru);
	log_debug("xl-receive %s: xl used cpu %s", w->id, cpu);
	return worker_xl_report(w, PHASE_DONE, PE_NONE, status, text);
}
