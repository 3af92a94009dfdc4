// SPDX-License-Identifier: ISC
/*
 * Handing descriptors to a process systemd starts for us.  systemd 252
 * cannot give a transient unit descriptors, so the parent starts an
 * instance of a template unit shipped in the package
 * (relocd-receive@TOKEN.service) and keeps the descriptors in a slot
 * until that instance connects to a unix socket under /run/relocd and
 * names the slot's token; they then travel over SCM_RIGHTS.
 *
 * Who may take them, checked in this order:
 *   - the socket is 0600 in a root-only directory, and the parent takes
 *     only a peer whose SO_PEERCRED uid is 0;
 *   - the token, 128 random bits, names one slot and serves once; it is
 *     public once the unit runs (unit names are), so it binds a
 *     connection to a handoff rather than being the secret;
 *   - when the parent started a unit, the peer must live in that unit's
 *     cgroup (/proc/PID/cgroup), so only the process systemd started
 *     for this handoff gets its descriptors;
 *   - an unclaimed slot expires after HANDOFF_START_MS.
 * The fetching side checks that the socket's owner (its SO_PEERCRED) is
 * root too, so it takes its stream from no one else.
 *
 * The parent runs handoff_listen/offer/serve/expired; the process in the
 * unit runs handoff_fetch.  Both trust only root peers.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "handoff.h"
#include "proto.h"
#include "util.h"

/* What the fetching side sends: a version tag and the token. */
struct handoff_req {
	char	magic[8];
	char	token[HANDOFF_TOKEN_LEN + 1];
	char	pad[7];
};

static const char handoff_magic[8] = "relocd1";

static int
handoff_addr(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		snprintf(err, errlen, "%s: longer than %zu characters", path,
		    sizeof(sun->sun_path) - 1);
		return -1;
	}
	return 0;
}

/* The parent's socket: 0600, non-blocking, at path (a stale one goes). */
int
handoff_listen(const char *path, int *fd_r, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd, r;

	*fd_r = -1;
	if (handoff_addr(path, &sun, err, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)unlink(path);
	/* Never a moment when the socket is open to others. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1 || chmod(path, 0600) == -1 ||
	    listen(fd, HANDOFF_BACKLOG) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/*
 * The handoff socket sits beside the control socket (/run/relocd), so
 * the parent and the unit's process, which reads the same config, agree.
 */
int
handoff_socket_path(const char *control_socket, char *out, size_t size)
{
	const char	*slash = strrchr(control_socket, '/');
	int		 r;

	r = slash == NULL ? snprintf(out, size, "receive.sock") :
	    snprintf(out, size, "%.*s/receive.sock",
	    (int)(slash - control_socket), control_socket);
	if (r < 0 || (size_t)r >= size) {
		if (size > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

/* "relocd-receive" and a token: "relocd-receive@TOKEN.service". */
int
handoff_unit_name(const char *template, const char *token, char *out,
    size_t size)
{
	int	r = snprintf(out, size, "%s@%s.service", template, token);

	return r < 0 || (size_t)r >= size ? -1 : 0;
}

/*
 * Keeps copies of fds (the caller closes its own) in a free slot under
 * a new token until deadline_ms.  template, if not NULL, names the
 * template unit whose instance alone may take them.
 */
int
handoff_offer(struct handoff_slot *slots, size_t n, const int *fds,
    size_t nfds, int cookie, const char *template, uint64_t deadline_ms,
    struct handoff_slot **slot_r)
{
	struct handoff_slot	*s = NULL;
	size_t			 i;

	*slot_r = NULL;
	for (i = 0; i < n && s == NULL; i++)
		if (slots[i].token[0] == '\0')
			s = &slots[i];
	if (s == NULL || nfds > HANDOFF_FDS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	memset(s, 0, sizeof(*s));
	for (i = 0; i < HANDOFF_FDS_MAX; i++)
		s->fds[i] = -1;
	if (proto_id_new(s->token, sizeof(s->token)) == -1 ||
	    (template != NULL && handoff_unit_name(template, s->token,
	    s->unit, sizeof(s->unit)) == -1))
		goto fail;
	/* nfds counts what was copied, for handoff_drop to close. */
	for (i = 0; i < nfds; i++) {
		if ((s->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0)) == -1)
			goto fail;
		s->nfds = i + 1;
	}
	s->cookie = cookie;
	s->deadline_ms = deadline_ms;
	*slot_r = s;
	return 0;
fail:
	handoff_drop(s);
	return -1;
}

/* Frees a slot and closes what it kept (a zeroed slot keeps nothing). */
void
handoff_drop(struct handoff_slot *s)
{
	size_t	i;

	for (i = 0; i < s->nfds && i < HANDOFF_FDS_MAX; i++)
		if (s->fds[i] != -1)
			close(s->fds[i]);
	memset(s, 0, sizeof(*s));
	for (i = 0; i < HANDOFF_FDS_MAX; i++)
		s->fds[i] = -1;
}

/* The index of a slot past its deadline, or -1; the caller drops it. */
int
handoff_expired(struct handoff_slot *slots, size_t n, uint64_t now_ms)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (slots[i].token[0] != '\0' && now_ms >= slots[i].deadline_ms)
			return (int)i;
	return -1;
}

/*
 * Is one of the lines of a /proc/PID/cgroup text a path whose last
 * component is unit?  cgroup v2 has one line ("0::/system.slice/..."),
 * a hybrid host also "1:name=systemd:/...": either will do.
 */
int
handoff_cgroup_is_unit(const char *cgroups, const char *unit)
{
	const char	*line = cgroups, *end, *last;
	size_t		 ulen = strlen(unit);

	while (ulen > 0 && *line != '\0') {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		for (last = end; last > line && last[-1] != '/'; last--)
			;
		if (last > line && (size_t)(end - last) == ulen &&
		    memcmp(last, unit, ulen) == 0)
			return 1;
		line = *end == '\n' ? end + 1 : end;
	}
	return 0;
}

static int
handoff_peer_in_unit(pid_t pid, const char *unit)
{
	char	 path[64], *buf = NULL;
	size_t	 len;
	int	 ok;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (util_read_file(path, HANDOFF_CGROUP_FILE_MAX, &buf, &len) == -1)
		return 0;
	ok = handoff_cgroup_is_unit(buf, unit);
	free(buf);
	return ok;
}

/* Reads exactly len bytes within HANDOFF_READ_MS. */
static int
handoff_read(int fd, void *buf, size_t len)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	uint64_t	deadline = util_now_ms() + HANDOFF_READ_MS, now;
	size_t		got = 0;
	ssize_t		r;

	while (got < len) {
		now = util_now_ms();
		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) < 1)
			return -1;
		r = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* One status byte, 0 with the slot's descriptors or 1 without. */
static int
handoff_reply(int fd, const struct handoff_slot *s)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(HANDOFF_FDS_MAX * sizeof(int))];
	} cm;
	unsigned char	status = s != NULL ? 0 : 1;
	struct iovec	iov = { &status, 1 };
	struct msghdr	mh;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (s != NULL && s->nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(s->nfds * sizeof(int));
		cm.hdr.cmsg_level = SOL_SOCKET;
		cm.hdr.cmsg_type = SCM_RIGHTS;
		cm.hdr.cmsg_len = CMSG_LEN(s->nfds * sizeof(int));
		memcpy(CMSG_DATA(&cm.hdr), s->fds, s->nfds * sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ? 0 : -1;
}

/* The slot req names, if its token is one we hold. */
static struct handoff_slot *
handoff_find(struct handoff_slot *slots, size_t n,
    const struct handoff_req *req)
{
	size_t	i;

	if (memcmp(req->magic, handoff_magic, sizeof(handoff_magic)) != 0 ||
	    req->token[HANDOFF_TOKEN_LEN] != '\0' ||
	    strlen(req->token) != HANDOFF_TOKEN_LEN)
		return NULL;
	for (i = 0; i < n; i++)
		if (slots[i].token[0] != '\0' && CRYPTO_memcmp(slots[i].token,
		    req->token, HANDOFF_TOKEN_LEN) == 0)
			return &slots[i];
	return NULL;
}

/*
 * Serves one connection on the parent's socket: the slot's descriptors
 * to a peer that passes every check above, and the slot is free again.
 * Returns the slot's index with *peer_r set, or -1 with err saying why
 * (empty if there was no connection to take).
 */
int
handoff_serve(int lfd, struct handoff_slot *slots, size_t n,
    struct handoff_peer *peer_r, char *err, size_t errlen)
{
	struct handoff_req	 req;
	struct handoff_slot	*s = NULL;
	struct ucred		 cred;
	socklen_t		 clen = sizeof(cred);
	int			 fd, rc = -1;

	err[0] = '\0';
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return -1;
	memset(&req, 0, sizeof(req));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1)
		snprintf(err, errlen, "SO_PEERCRED: %s", strerror(errno));
	else if (cred.uid != 0)
		snprintf(err, errlen, "pid %d: refused: uid %u is not root",
		    (int)cred.pid, (unsigned)cred.uid);
	else if (handoff_read(fd, &req, sizeof(req)) == -1)
		snprintf(err, errlen, "pid %d: refused: no request within "
		    "%d ms", (int)cred.pid, HANDOFF_READ_MS);
	else if ((s = handoff_find(slots, n, &req)) == NULL)
		snprintf(err, errlen, "pid %d: refused: no such token",
		    (int)cred.pid);
	else if (util_now_ms() >= s->deadline_ms) {
		snprintf(err, errlen, "pid %d: refused: the token expired",
		    (int)cred.pid);
		s = NULL;
	} else if (s->unit[0] != '\0' && !handoff_peer_in_unit(cred.pid,
	    s->unit)) {
		snprintf(err, errlen, "pid %d: refused: not in %s",
		    (int)cred.pid, s->unit);
		s = NULL;
	}
	if (handoff_reply(fd, s) == -1 && s != NULL)
		snprintf(err, errlen, "pid %d: sending the descriptors: %s",
		    (int)cred.pid, strerror(errno));
	else if (s != NULL) {
		peer_r->pid = cred.pid;
		peer_r->cookie = s->cookie;
		rc = (int)(s - slots);
	}
	/*
	 * A token works once, whether its descriptors arrived or not.  A
	 * peer refused above spends nothing: the unit's own process may
	 * still come.
	 */
	if (s != NULL)
		handoff_drop(s);
	close(fd);
	return rc;
}

/* Takes up to max descriptors from a reply; closes any beyond. */
static size_t
handoff_take_fds(struct msghdr *mh, int *fds, size_t max)
{
	struct cmsghdr	*c;
	size_t		 i, k, got = 0;
	int		 fd;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
			if (got < max)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	return got;
}

/*
 * The unit's side: connect to path, make sure root listens there, name
 * the token, and take the descriptors (close-on-exec) into fds.
 */
int
handoff_fetch(const char *path, const char *token, int *fds, size_t max,
    size_t *nfds_r, char *err, size_t errlen)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(HANDOFF_FDS_MAX * sizeof(int))];
	} cm;
	struct sockaddr_un	 sun;
	struct handoff_req	 req;
	struct ucred		 cred;
	socklen_t		 clen = sizeof(cred);
	struct timeval		 tv = { HANDOFF_READ_MS / 1000,
				    (HANDOFF_READ_MS % 1000) * 1000 };
	unsigned char		 status = 1;
	struct iovec		 iov = { &status, 1 };
	struct msghdr		 mh;
	ssize_t			 r;
	size_t			 got;
	int			 fd = -1, rc = -1;

	*nfds_r = 0;
	memset(&req, 0, sizeof(req));
	memcpy(req.magic, handoff_magic, sizeof(req.magic));
	if (strlen(token) != HANDOFF_TOKEN_LEN ||
	    strlcpy(req.token, token, sizeof(req.token)) >= sizeof(req.token)) {
		snprintf(err, errlen, "the token is not %d characters long",
		    HANDOFF_TOKEN_LEN);
		return -1;
	}
	if (handoff_addr(path, &sun, err, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (cred.uid != 0) {
		snprintf(err, errlen, "%s: its owner, uid %u, is not root",
		    path, (unsigned)cred.uid);
		goto out;
	}
	if (util_write_all(fd, &req, sizeof(req)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do {
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (r == -1 && errno == EINTR);
	got = r == 1 ? handoff_take_fds(&mh, fds, max) : 0;
	if (r != 1 || status != 0) {
		while (got > 0)
			close(fds[--got]);
		snprintf(err, errlen, "%s: relocd refused token %s (see its "
		    "log)", path, token);
		goto out;
	}
	*nfds_r = got;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}
