// SPDX-License-Identifier: ISC
/*
 * Small helpers every process uses: bounded string copies, integer parsing
 * with explicit bounds, reading a whole file with a size cap, writing a
 * whole buffer, and the clocks.
 *
 * Runs in every process; trusts nothing it is given beyond the pointers.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "util.h"

size_t
strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t	srclen = strlen(src);

	if (dsize != 0) {
		size_t	n = srclen < dsize - 1 ? srclen : dsize - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return srclen;
}

/*
 * Text for people into a fixed field (util.h): what does not fit is cut
 * at a character boundary and ends in "...", so that nobody takes it for
 * the whole sentence.
 */
void
util_text_copy(char *dst, const char *src, size_t size)
{
	size_t	cut;

	if (strlcpy(dst, src, size) < size || size < 4)
		return;
	/* Back to the first byte of a UTF-8 character, not into one. */
	cut = size - 4;
	while (cut > 0 && ((unsigned char)dst[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(dst + cut, "...", 4);
}

/*
 * OpenBSD's strtonum: the whole string must be a decimal integer within
 * [minval, maxval].  On error returns 0 and sets *errstr to "invalid",
 * "too small" or "too large", which callers put into their messages.
 */
long long
util_strtonum(const char *s, long long minval, long long maxval,
    const char **errstr)
{
	char		*end;
	long long	 v;

	*errstr = NULL;
	if (s == NULL || *s == '\0' || minval > maxval) {
		*errstr = "invalid";
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || end == s) {
		*errstr = "invalid";
		return 0;
	}
	if ((v == LLONG_MIN && errno == ERANGE) || v < minval) {
		*errstr = "too small";
		return 0;
	}
	if ((v == LLONG_MAX && errno == ERANGE) || v > maxval) {
		*errstr = "too large";
		return 0;
	}
	return v;
}

/*
 * Reads a regular file of at most max bytes into a NUL-terminated buffer.
 * On failure errno says why; EFBIG means the file is over the cap.
 */
int
util_read_file(const char *path, size_t max, char **buf_r, size_t *len_r)
{
	struct stat	st;

	return util_read_file_stat(path, max, buf_r, len_r, &st);
}

/*
 * util_read_file(), and the file's stat as read from the descriptor that
 * was read, so that a caller checking owner and mode checks the very file
 * whose bytes it got, not whatever the path names a moment later.
 */
int
util_read_file_stat(const char *path, size_t max, char **buf_r,
    size_t *len_r, struct stat *st_r)
{
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd = -1, rc = -1, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		goto out;
	if (fstat(fd, st_r) == -1)
		goto out;
	if (!S_ISREG(st_r->st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if ((size_t)st_r->st_size > max) {
		errno = EFBIG;
		goto out;
	}
	if ((buf = malloc(max + 1)) == NULL)
		goto out;
	/* Read to EOF rather than trusting st_size: the file may grow. */
	while (len <= max) {
		r = read(fd, buf + len, max + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto out;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max) {
		errno = EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*buf_r = buf;
	*len_r = len;
	buf = NULL;
	rc = 0;
out:
	saved = errno;
	free(buf);
	if (fd != -1)
		close(fd);
	errno = saved;
	return rc;
}

/* strndup that also refuses embedded NULs, so C strings stay honest. */
char *
util_strndup_checked(const char *s, size_t len)
{
	char	*p;

	if (memchr(s, '\0', len) != NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/*
 * Wall-clock milliseconds.  Downtime is measured from the source's
 * suspend to the destination's unpause, across processes (and hosts,
 * whose clocks NTP keeps together), so it needs the shared wall clock.
 */
uint64_t
util_realtime_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The monotonic clock, in microseconds: deadlines, timeouts and
 * durations, which must not jump when NTP or an operator sets the wall
 * clock.  This is its only home in relocd (tests/lint-sources checks), so
 * every process measures time the same way; its zero is arbitrary, so
 * only differences and comparisons between two readings mean anything.
 */
uint64_t
util_now_us(void)
{
	struct timespec	ts;

	/* Cannot fail: the clock exists on every Linux, ts is valid. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * A child's CPU time as relocd -v logs it; bench/benchlib.py parses
 * these words (RUSAGE_RE, and scenario 8's xl line).
 */
void
util_rusage_cpu(char *buf, size_t len, const struct rusage *ru)
{
	snprintf(buf, len, "%ld.%03ld s user, %ld.%03ld s system",
	    (long)ru->ru_utime.tv_sec, (long)ru->ru_utime.tv_usec / 1000,
	    (long)ru->ru_stime.tv_sec, (long)ru->ru_stime.tv_usec / 1000);
}

/*
 * Milliseconds (rounded) since *t_us on util_now_us()'s clock, moving
 * *t_us on to now, so that consecutive parts of one span add up.
 */
int64_t
util_ms_since(uint64_t *t_us)
{
	uint64_t	now = util_now_us(), d = now > *t_us ? now - *t_us : 0;

	*t_us = now;
	return (int64_t)((d + 500) / 1000);
}

/* The same clock in milliseconds, the unit of every network deadline. */
uint64_t
util_now_ms(void)
{
	return util_now_us() / 1000;
}

/*
 * Writes all of iov to fd, after OpenSSH's atomicio: a short write goes
 * on where it stopped, EINTR retries, and EAGAIN (a non-blocking fd that
 * is full) waits in poll() until fd takes more, so the one loop serves
 * blocking and non-blocking descriptors alike.  A write of nothing means
 * the reader is gone (EPIPE).  Returns 0, or -1 with errno set.  iov is
 * consumed: its entries are advanced past what was written.
 *
 * idle_ms bounds each wait for fd to take more, as relocd-idle-timeout
 * bounds a silent peer: after idle_ms without room, ETIMEDOUT.  With a
 * bound, every write waits in poll() first, because that wait is the
 * only one a blocking fd lets us bound: its write then blocks until it
 * took everything, so a caller that needs a hard bound passes a
 * non-blocking fd.  -1 waits as long as it takes.
 */
int
util_writev_all_idle(int fd, struct iovec *iov, int iovcnt, int idle_ms)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLOUT };
	ssize_t		w = 0;
	int		r, need_poll = idle_ms >= 0;

	for (;;) {
		/* Drop what went out, and empty parts: no call for those. */
		for (; iovcnt > 0 && (size_t)w >= iov->iov_len; iov++, iovcnt--)
			w -= (ssize_t)iov->iov_len;
		if (iovcnt == 0)
			return 0;
		iov->iov_base = (char *)iov->iov_base + w;
		iov->iov_len -= (size_t)w;
		w = 0;
		if (need_poll) {
			if ((r = poll(&pfd, 1, idle_ms)) == -1 &&
			    errno == EINTR)
				continue;
			if (r == -1)
				return -1;
			if (r == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		need_poll = idle_ms >= 0;
		if ((w = writev(fd, iov, iovcnt)) == -1) {
			if (errno != EINTR && errno != EAGAIN)
				return -1;
			need_poll |= errno == EAGAIN;
			w = 0;
		} else if (w == 0) {
			errno = EPIPE;
			return -1;
		}
	}
}

int
util_writev_all(int fd, struct iovec *iov, int iovcnt)
{
	return util_writev_all_idle(fd, iov, iovcnt, -1);
}

/*
 * Reads until iov is full (consuming it, as util_writev_all does) or the
 * end of the file; *got_r says how many bytes came either way, so that a
 * short count is the caller's "ended early".  -1: a read error (errno).
 */
int
util_readv_all(int fd, struct iovec *iov, int iovcnt, size_t *got_r)
{
	ssize_t	r = 0;

	*got_r = 0;
	for (;;) {
		for (; iovcnt > 0 && (size_t)r >= iov->iov_len; iov++, iovcnt--)
			r -= (ssize_t)iov->iov_len;
		if (iovcnt == 0)
			return 0;
		iov->iov_base = (char *)iov->iov_base + r;
		iov->iov_len -= (size_t)r;
		if ((r = readv(fd, iov, iovcnt)) == -1) {
			if (errno != EINTR)
				return -1;
			r = 0;
		} else if (r == 0)
			return 0;
		*got_r += (size_t)r;
	}
}

/* One buffer: the same loop (through a cast, since writev keeps it). */
int
util_write_all_idle(int fd, const void *buf, size_t len, int idle_ms)
{
	struct iovec	iov = { (void *)(uintptr_t)buf, len };

	return util_writev_all_idle(fd, &iov, 1, idle_ms);
}

/* Blocking fds, and threads that may wait as long as the reader does. */
int
util_write_all(int fd, const void *buf, size_t len)
{
	return util_write_all_idle(fd, buf, len, -1);
}

/*
 * A pipe for a migration's data: close-on-exec, and grown to
 * UTIL_PIPE_DATA_SIZE when the kernel allows, because every read and
 * write is a system call, and in a PV dom0 under emulation each costs
 * dearly; a default 64 KiB pipe quarters the size of every copy.
 */
int
util_pipe_data(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	(void)fcntl(fds[1], F_SETPIPE_SZ, UTIL_PIPE_DATA_SIZE);
	return 0;
}

/*
 * Copies text for a log line or a terminal, with every byte that could
 * act on either written as \xNN: control bytes (a newline forges a log
 * line, ESC drives the administrator's terminal), DEL, and bytes from
 * 0x80 (C1 controls to 8-bit terminals; what a peer may say is ASCII).
 * A backslash stays as it is, so that a pattern quoted in a config error
 * reads as written.  Too long for dst, the copy is cut before an escape,
 * never inside one.
 */
void
util_text_escape(char *dst, size_t size, const char *src)
{
	static const char	hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)src;
	size_t			 off = 0;

	if (size == 0)
		return;
	for (; *p != '\0'; p++) {
		if (*p >= 0x20 && *p < 0x7f) {
			if (off + 1 >= size)
				break;
			dst[off++] = (char)*p;
			continue;
		}
		if (off + 4 >= size)
			break;
		dst[off++] = '\\';
		dst[off++] = 'x';
		dst[off++] = hex[*p >> 4];
		dst[off++] = hex[*p & 0xf];
	}
	dst[off] = '\0';
}

/*
 * Replaces path with len bytes of data, mode `mode`, so that a reader
 * (a scraper, or relocd after a crash) sees the old file or the new one
 * whole: a temporary file beside it (same file system, so rename is
 * atomic; its name ends in six random letters, which no reader globs
 * for), synced, then renamed over.  fchmod, not open's mode: UMask=0077
 * would narrow it.  Returns 0, or -1 with errno set and the temporary
 * file gone.
 */
int
util_write_file_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char	tmp[PATH_MAX];
	int	fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1 || util_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	errno = saved;
	return -1;
}
