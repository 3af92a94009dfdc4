// SPDX-License-Identifier: ISC
/*
 * Drives a local `xl migrate-receive` through pipes (see xen_xl.h for
 * why the destination receives through xl).  xl is started with a fixed
 * argv, never through a shell.  Its stderr goes to a memfd, so that a
 * failure can be explained with xl's own last words and the whole of it
 * can go to relocd's log.
 *
 * Runs in the destination worker, as root.  What xl writes on stdout is
 * compared byte for byte with the messages xl is known to send.
 */
#include <sys/mman.h>
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
#include "util.h"
#include "xen_stream.h"
#include "xen_xl.h"

#define XEN_XL_COPY_BUF		(256 * 1024)
#define XEN_XL_BANNER_MS	(60 * 1000)
#define XEN_XL_EXIT_MS		(30 * 1000)

void
xen_xl_init(struct xen_xl *x)
{
	x->pid = -1;
	x->to = x->from = x->err = -1;
	x->status = -1;
}

static void
xl_child(const char *path, const char *const *args, int in, int out, int err)
{
	char	*argv[XEN_XL_ARGS_MAX + 2];
	int	 i;

	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(127);
	closefrom(3);
	signal(SIGPIPE, SIG_DFL);
	/* execv wants writable strings; this process execs or exits. */
	if ((argv[0] = strdup(path)) == NULL)
		_exit(127);
	for (i = 0; args[i] != NULL && i < XEN_XL_ARGS_MAX; i++)
		if ((argv[i + 1] = strdup(args[i])) == NULL)
			_exit(127);
	argv[i + 1] = NULL;
	/* A bare name is looked up on PATH, as relocd-xl-command says. */
	if (strchr(path, '/') == NULL)
		execvp(path, argv);
	else
		execv(path, argv);
	dprintf(2, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

static int
xl_spawn(struct xen_xl *x, const char *path, const char *const *args)
{
	int	in[2] = { -1, -1 }, out[2] = { -1, -1 };

	if ((x->err = memfd_create("xl-stderr", MFD_CLOEXEC)) == -1 ||
	    util_pipe_data(in) == -1 || pipe2(out, O_CLOEXEC) == -1)
		goto fail;
	if ((x->pid = fork()) == -1)
		goto fail;
	if (x->pid == 0)
		xl_child(path, args, in[0], out[1], x->err);
	close(in[0]);
	close(out[1]);
	x->to = in[1];
	x->from = out[0];
	return 0;
fail:
	if (in[0] != -1) {
		close(in[0]);
		close(in[1]);
	}
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	return -1;
}

/* Reaps xl if it has exited (or waits up to ms for it); 1 if reaped. */
static int
xl_reap(struct xen_xl *x, int ms)
{
	int	 r, i;

	if (x->pid == -1)
		return 1;
	for (i = 0; i <= ms / 10; i++) {
		r = waitpid(x->pid, &x->status, WNOHANG);
		if (r == x->pid || (r == -1 && errno == ECHILD)) {
			x->pid = -1;
			return 1;
		}
		if (ms > 0)
			usleep(10 * 1000);
	}
	return 0;
}

/* Explains a failure talking to xl: its exit and its last words. */
static int
xl_failed(struct xen_xl *x, const char *what, char *why, size_t why_max)
{
	char	words[160];

	xl_reap(x, 2000);
	xen_xl_last_words(x, words, sizeof(words));
	if (x->pid == -1 && WIFEXITED(x->status))
		snprintf(why, why_max, "xl migrate-receive %s and exited %d%s%s",
		    what, WEXITSTATUS(x->status), words[0] ? ": " : "", words);
	else
		snprintf(why, why_max, "xl migrate-receive %s%s%s", what,
		    words[0] ? ": " : "", words);
	return -1;
}

/* xl_read_exact's answer when the caller's cancel fd turned readable. */
#define XL_CANCELLED	(-2)

/*
 * Reads exactly len bytes within ms; 0, or -1 on EOF/timeout/error, or
 * XL_CANCELLED as soon as cancel_fd (ignored when -1, as poll() does)
 * has something to read.
 */
static int
xl_read_exact(int fd, void *buf, size_t len, int ms, int cancel_fd)
{
	struct pollfd	 pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = cancel_fd, .events = POLLIN },
	};
	uint64_t	 end = util_now_ms() + (uint64_t)ms;
	size_t		 got = 0;
	ssize_t		 n;
	int		 left, r;

	while (got < len) {
		left = (int)(end - util_now_ms());
		if (left <= 0)
			return -1;
		if ((r = poll(pfd, 2, left)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (pfd[1].revents != 0)
			return XL_CANCELLED;
		if (pfd[0].revents == 0)
			continue;
		n = read(fd, (char *)buf + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int
xl_expect(struct xen_xl *x, const char *msg, size_t len, int ms,
    int cancel_fd, const char *what, char *why, size_t why_max)
{
	char	buf[128];
	int	r;

	if (len > sizeof(buf))
		return xl_failed(x, what, why, why_max);
	if ((r = xl_read_exact(x->from, buf, len, ms, cancel_fd)) ==
	    XL_CANCELLED) {
		snprintf(why, why_max, "the migration was aborted before xl "
		    "had the whole stream");
		return -1;
	}
	if (r == -1)
		return xl_failed(x, what, why, why_max);
	if (memcmp(buf, msg, len) != 0) {
		snprintf(why, why_max, "xl migrate-receive sent something "
		    "other than %s", msg);
		return -1;
	}
	return 0;
}

int
xen_xl_start(struct xen_xl *x, const char *path, const char *const *args,
    int banner_ms, char *why, size_t why_max)
{
	if (xl_spawn(x, path, args) == -1) {
		snprintf(why, why_max, "cannot start %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return xl_expect(x, XL_MSG_BANNER, XL_MSG_BANNER_LEN,
	    banner_ms > 0 ? banner_ms : XEN_XL_BANNER_MS, -1,
	    "did not start", why, why_max);
}

int
xen_xl_write(struct xen_xl *x, const void *buf, size_t len, char *why,
    size_t why_max)
{
	if (util_write_all(x->to, buf, len) == -1)
		return xl_failed(x, "stopped reading the stream", why,
		    why_max);
	return 0;
}

int
xen_xl_copy(struct xen_xl *x, int fd, uint64_t *bytes_r, char *why,
    size_t why_max)
{
	char	*buf;
	ssize_t	 n;
	int	 rc = -1;

	if ((buf = malloc(XEN_XL_COPY_BUF)) == NULL) {
		snprintf(why, why_max, "out of memory");
		return -1;
	}
	for (;;) {
		if ((n = read(fd, buf, XEN_XL_COPY_BUF)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, why_max, "reading the stream: %s",
			    strerror(errno));
			break;
		}
		if (n == 0) {
			rc = 0;
			break;
		}
		if (xen_xl_write(x, buf, (size_t)n, why, why_max) == -1)
			break;
		*bytes_r += (uint64_t)n;
	}
	free(buf);
	return rc;
}

int
xen_xl_await_ready(struct xen_xl *x, int ms, int cancel_fd, char *why,
    size_t why_max)
{
	return xl_expect(x, XL_MSG_READY, XL_MSG_READY_LEN, ms, cancel_fd,
	    "did not restore the guest", why, why_max);
}

int
xen_xl_go(struct xen_xl *x, int ms, char *why, size_t why_max)
{
	signed char	status;

	if (xen_xl_write(x, XL_MSG_GO, XL_MSG_GO_LEN, why, why_max) == -1 ||
	    xl_expect(x, XL_MSG_REPORT, XL_MSG_REPORT_LEN, ms, -1,
	    "did not report", why, why_max) == -1)
		return -1;
	if (xl_read_exact(x->from, &status, 1, ms, -1) == -1)
		return xl_failed(x, "did not report", why, why_max);
	if (status != 0) {
		snprintf(why, why_max, "xl could not start the guest (libxl "
		    "error %d); it destroyed its copy", -(int)status);
		xl_reap(x, XEN_XL_EXIT_MS);
		return -1;
	}
	close(x->to);
	x->to = -1;
	if (!xl_reap(x, XEN_XL_EXIT_MS) || !WIFEXITED(x->status) ||
	    WEXITSTATUS(x->status) != 0)
		log_warnx("xl migrate-receive reported success but did not "
		    "exit cleanly");
	return 0;
}

void
xen_xl_abandon(struct xen_xl *x, int ms)
{
	if (x->to != -1) {
		close(x->to);
		x->to = -1;
	}
	if (xl_reap(x, ms))
		return;
	log_warnx("xl migrate-receive (pid %d) did not exit; killing it",
	    (int)x->pid);
	kill(x->pid, SIGKILL);
	xl_reap(x, 5000);
}

void
xen_xl_last_words(struct xen_xl *x, char *buf, size_t max)
{
	char	 tail[512];
	off_t	 size;
	ssize_t	 n;
	char	*line, *end;

	buf[0] = '\0';
	if (x->err == -1 || (size = lseek(x->err, 0, SEEK_END)) <= 0)
		return;
	n = pread(x->err, tail, sizeof(tail) - 1,
	    size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 :
	    0);
	if (n <= 0)
		return;
	tail[n] = '\0';
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
		tail[--n] = '\0';
	end = tail + n;
	line = memrchr(tail, '\n', (size_t)(end - tail));
	util_text_copy(buf, line != NULL ? line + 1 : tail, max);
}

void
xen_xl_log_stderr(struct xen_xl *x, const char *id, int max)
{
	FILE	*f;
	char	 line[512];
	int	 fd, n = 0;

	if (x->err == -1 || (fd = dup(x->err)) == -1)
		return;
	lseek(fd, 0, SEEK_SET);
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '\0')
			log_info("migration %s: xl: %s", id, line);
		n++;
	}
	fclose(f);
}

void
xen_xl_close(struct xen_xl *x)
{
	if (x->pid != -1)
		xen_xl_abandon(x, XEN_XL_EXIT_MS);
	if (x->from != -1)
		close(x->from);
	if (x->err != -1)
		close(x->err);
	xen_xl_init(x);
}
