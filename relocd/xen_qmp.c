// SPDX-License-Identifier: ISC
/*
 * QMP, the little of it relocd needs (see xen_qmp.h).  QEMU sends one
 * JSON object per line: a greeting, then per command either
 * {"return": ...} or {"error": {"desc": ...}}, with {"event": ...}
 * lines in between whenever QEMU likes.  Only top-level members are
 * looked at, by a scanner that knows strings and nesting and nothing
 * else; a line longer than the buffer is an error, never a split.
 *
 * Runs in the source worker, as root.  The replies come from the local
 * device model, which a guest can influence, so every length is bounded
 * and an error description is copied printable-only.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "xen_qmp.h"

#define QMP_LINE_MAX	(64 * 1024)

struct qmp {
	int	 fd;
	size_t	 len;		/* bytes in buf */
	size_t	 next;		/* where the line after the current starts */
	char	 buf[QMP_LINE_MAX];
};

int
xen_qmp_path(uint32_t domid, char *buf, size_t max)
{
	int	n = snprintf(buf, max, XEN_QMP_PATH_FMT, domid);

	return n < 0 || (size_t)n >= max ? -1 : 0;
}

/* p at an opening quote: the closing one, or NULL if there is none. */
static const char *
qmp_string_end(const char *p)
{
	for (p++; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			return p;
	}
	return NULL;
}

/*
 * The value of member key of the object that starts at obj, top level
 * only: a string at depth 1 followed by ':' is a key.  NULL if absent.
 */
static const char *
qmp_member(const char *obj, const char *key)
{
	const char	*p, *e, *c;
	size_t		 klen = strlen(key);
	int		 depth = 0;

	if (*obj != '{')
		return NULL;
	for (p = obj; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			if ((e = qmp_string_end(p)) == NULL)
				return NULL;
			for (c = e + 1; isspace((unsigned char)*c); c++)
				;
			if (depth == 1 && *c == ':' &&
			    (size_t)(e - p - 1) == klen &&
			    memcmp(p + 1, key, klen) == 0) {
				for (c++; isspace((unsigned char)*c); c++)
					;
				return c;
			}
			p = e;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return NULL;
			break;
		}
	}
	return NULL;
}

/* Member key of obj as a number from 0 to INT32_MAX, or -1. */
static long long
qmp_int_member(const char *obj, const char *key)
{
	const char	*v;
	char		*end;
	long long	 n;

	if ((v = qmp_member(obj, key)) == NULL || !isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || n > INT32_MAX ||
	    (*end != ',' && *end != '}' && !isspace((unsigned char)*end)))
		return -1;
	return n;
}

/* QEMU's error description, printable characters only. */
static void
qmp_error_desc(const char *line, char *why, size_t max)
{
	const char	*err, *desc, *e, *p;
	size_t		 n = 0;

	if ((err = qmp_member(line, "error")) == NULL ||
	    (desc = qmp_member(err, "desc")) == NULL || *desc != '"' ||
	    (e = qmp_string_end(desc)) == NULL) {
		snprintf(why, max, "QEMU refused it, without a reason");
		return;
	}
	for (p = desc + 1; p < e && n + 1 < max; p++) {
		if (*p == '\\' && p + 1 < e)
			p++;
		why[n++] = isprint((unsigned char)*p) ? *p : '?';
	}
	why[n] = '\0';
}

/*
 * Drops the line qmp_read_line() returned, then makes the next one
 * q->buf, NUL-terminated without its "\r\n"; 0, or -1 with a reason.
 */
static int
qmp_read_line(struct qmp *q, uint64_t deadline, char *why, size_t max)
{
	struct pollfd	 pfd = { .fd = q->fd, .events = POLLIN };
	char		*nl;
	ssize_t		 n;
	uint64_t	 now;

	memmove(q->buf, q->buf + q->next, q->len - q->next);
	q->len -= q->next;
	q->next = 0;
	for (;;) {
		if ((nl = memchr(q->buf, '\n', q->len)) != NULL) {
			q->next = (size_t)(nl - q->buf) + 1;
			*nl = '\0';
			if (nl > q->buf && nl[-1] == '\r')
				nl[-1] = '\0';
			return 0;
		}
		if (q->len == sizeof(q->buf) - 1) {
			snprintf(why, max, "QEMU sent a line over %d bytes",
			    QMP_LINE_MAX);
			return -1;
		}
		if ((now = util_now_ms()) >= deadline) {
			snprintf(why, max, "QEMU did not answer within %d s",
			    XEN_QMP_REPLY_MS / 1000);
			return -1;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, max, "poll: %s", strerror(errno));
			return -1;
		}
		if (pfd.revents == 0)
			continue;
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, max, "QEMU closed its QMP socket%s%s",
			    n == -1 ? ": " : "", n == -1 ? strerror(errno) : "");
			return -1;
		}
		q->len += (size_t)n;
	}
}

/*
 * Sends cmd (one JSON object), with pass_fd as SCM_RIGHTS if it is not
 * -1, and waits for its reply, skipping events.  On success the reply's
 * "return" value is copied into ret (if given).
 */
static int
qmp_run(struct qmp *q, const char *cmd, int pass_fd, char *ret,
    size_t ret_max, char *why, size_t max)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec	 iov = { .iov_base = (void *)(uintptr_t)cmd,
			    .iov_len = strlen(cmd) };
	struct msghdr	 msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr	*c;
	const char	*v;
	uint64_t	 deadline;
	ssize_t		 n;

	if (pass_fd != -1) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do
		n = sendmsg(q->fd, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)iov.iov_len) {
		snprintf(why, max, "sending to QEMU: %s",
		    n == -1 ? strerror(errno) : "short write");
		return -1;
	}
	deadline = util_now_ms() + XEN_QMP_REPLY_MS;
	for (;;) {
		if (qmp_read_line(q, deadline, why, max) == -1)
			return -1;
		if ((v = qmp_member(q->buf, "return")) != NULL) {
			if (ret != NULL &&
			    strlcpy(ret, v, ret_max) >= ret_max) {
				snprintf(why, max, "QEMU's answer is longer "
				    "than %zu bytes", ret_max - 1);
				return -1;
			}
			return 0;
		}
		if (qmp_member(q->buf, "error") != NULL) {
			qmp_error_desc(q->buf, why, max);
			return -1;
		}
		/* An event, or something newer QEMUs say: not ours. */
	}
}

static void
qmp_close(struct qmp *q)
{
	if (q->fd != -1)
		close(q->fd);
	free(q);
}

/* Connects, reads the greeting and leaves negotiation mode. */
static struct qmp *
qmp_open(const char *path, char *why, size_t max)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct qmp		*q;
	int			 n;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(why, max, "out of memory");
		return NULL;
	}
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(why, max, "%s: path too long", path);
		free(q);
		return NULL;
	}
	if ((q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(q->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(why, max, "cannot reach the guest's QEMU at %s: %s",
		    path, strerror(errno));
		qmp_close(q);
		return NULL;
	}
	n = qmp_read_line(q, util_now_ms() + XEN_QMP_REPLY_MS, why, max);
	if (n == -1 || qmp_member(q->buf, "QMP") == NULL) {
		if (n != -1)
			snprintf(why, max, "%s does not speak QMP", path);
		qmp_close(q);
		return NULL;
	}
	if (qmp_run(q, "{\"execute\":\"qmp_capabilities\"}", -1, NULL, 0,
	    why, max) == -1) {
		qmp_close(q);
		return NULL;
	}
	return q;
}

int
xen_qmp_set_dirty_log(const char *path, int enable, char *why, size_t max)
{
	struct qmp	*q;
	char		 cmd[128];
	int		 rc;

	if ((q = qmp_open(path, why, max)) == NULL)
		return -1;
	if (snprintf(cmd, sizeof(cmd), "{\"execute\":\"xen-set-global-dirty-log\","
	    "\"arguments\":{\"enable\":%s}}", enable ? "true" : "false") >=
	    (int)sizeof(cmd)) {
		snprintf(why, max, "a QMP command longer than %zu bytes",
		    sizeof(cmd) - 1);
		rc = -1;
	} else
		rc = qmp_run(q, cmd, -1, NULL, 0, why, max);
	qmp_close(q);
	return rc;
}

int
xen_qmp_save_devices(const char *path, int fd, int live, char *why,
    size_t max)
{
	struct qmp	*q;
	char		 cmd[192], ret[256], ignored[256];
	long long	 fdset;
	int		 rc = -1;

	if ((q = qmp_open(path, why, max)) == NULL)
		return -1;
	if (qmp_run(q, "{\"execute\":\"stop\"}", -1, NULL, 0, why, max) == -1)
		goto out;
	if (qmp_run(q, "{\"execute\":\"add-fd\"}", fd, ret, sizeof(ret),
	    why, max) == -1)
		goto out;
	if ((fdset = qmp_int_member(ret, "fdset-id")) == -1) {
		snprintf(why, max, "QEMU's add-fd gave no fd set id");
		goto out;
	}
	if (snprintf(cmd, sizeof(cmd), "{\"execute\":\"xen-save-devices-state\","
	    "\"arguments\":{\"filename\":\"/dev/fdset/%lld\",\"live\":%s}}",
	    fdset, live ? "true" : "false") >= (int)sizeof(cmd)) {
		snprintf(why, max, "a QMP command longer than %zu bytes",
		    sizeof(cmd) - 1);
		goto out;
	}
	rc = qmp_run(q, cmd, -1, NULL, 0, why, max);
	/* QEMU keeps its copy of the fd until told; not worth a failure. */
	if (snprintf(cmd, sizeof(cmd), "{\"execute\":\"remove-fd\","
	    "\"arguments\":{\"fdset-id\":%lld}}", fdset) < (int)sizeof(cmd))
		(void)qmp_run(q, cmd, -1, NULL, 0, ignored, sizeof(ignored));
out:
	qmp_close(q);
	return rc;
}
