// SPDX-License-Identifier: ISC
/*
 * The local control socket between relocctl and the daemon: a Unix
 * stream socket that only root, the daemon's own user, or members of
 * relocd-control-group may use (checked with SO_PEERCRED on every
 * connection, not only by file mode).  Messages are sxp in the same
 * frames as the wire protocol.
 *
 * Runs in the parent (serving) and in relocctl (connecting).  Requests
 * come from local administrators but are still parsed with bounds.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "proto.h"
#include "util.h"

static int
ctl_sockaddr(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		snprintf(err, errlen, "%s: control socket path too long", path);
		return -1;
	}
	return 0;
}

/* Creates the directory of path, one level, if it is missing. */
static int
ctl_make_dir(const char *path, char *err, size_t errlen)
{
	char	dir[256], *slash;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
ctl_open(const char *path, const char *group, int *fd_r, char *err,
    size_t errlen)
{
	struct sockaddr_un	 sun;
	struct group		*gr = NULL;
	int			 fd = -1;

	if (*group != '\0' && (gr = getgrnam(group)) == NULL) {
		snprintf(err, errlen, "relocd-control-group %s does not exist",
		    group);
		return -1;
	}
	if (ctl_sockaddr(path, &sun, err, errlen) == -1 ||
	    ctl_make_dir(path, err, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		goto fail;
	/* A socket left by a daemon that died is replaced. */
	if (unlink(path) == -1 && errno != ENOENT)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, gr != NULL ? 0660 : 0600) == -1 ||
	    (gr != NULL && chown(path, (uid_t)-1, gr->gr_gid) == -1) ||
	    listen(fd, 16) == -1)
		goto fail;
	*fd_r = fd;
	return 0;
fail:
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static int
ctl_in_group(uid_t uid, gid_t primary, gid_t want)
{
	struct passwd	*pw;
	gid_t		 groups[256];
	int		 n = 256, i;

	if (primary == want)
		return 1;
	if ((pw = getpwuid(uid)) == NULL ||
	    getgrouplist(pw->pw_name, primary, groups, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return 1;
	return 0;
}

/* Root, our own user, or a member of the control group may talk to us. */
int
ctl_peer_allowed(int fd, const char *group, char *who, size_t wholen)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	struct group	*gr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return 0;
	snprintf(who, wholen, "uid %u pid %d", (unsigned)cred.uid,
	    (int)cred.pid);
	if (cred.uid == 0 || cred.uid == geteuid())
		return 1;
	if (*group == '\0' || (gr = getgrnam(group)) == NULL)
		return 0;
	return ctl_in_group(cred.uid, cred.gid, gr->gr_gid);
}

int
ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	int			fd;

	if (ctl_sockaddr(path, &sun, err, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errlen, "cannot reach relocd at %s: %s%s", path,
		    strerror(errno), errno == ENOENT || errno == ECONNREFUSED ?
		    " (is relocd running? see relocd-control-socket)" :
		    errno == EACCES ? " (run as root or join "
		    "relocd-control-group)" : "");
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

int
ctl_write_frame(int fd, const char *msg, size_t len)
{
	uint8_t	hdr[PROTO_FRAME_HDR];

	if (len == 0 || len > CTL_MSG_MAX)
		return -1;
	proto_frame_header(hdr, PROTO_FRAME_CONTROL, len);
	if (util_write_all(fd, hdr, sizeof(hdr)) == -1)
		return -1;
	return util_write_all(fd, msg, len);
}

static int
ctl_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	size_t		off = 0;
	ssize_t		r;

	while (off < len) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		r = read(fd, (char *)buf + off, len - off);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* Reads one frame; returns its length (NUL-terminated in buf) or -1. */
ssize_t
ctl_read_frame(int fd, char *buf, size_t size, int timeout_ms)
{
	uint8_t	hdr[PROTO_FRAME_HDR];
	size_t	len;
	int	kind;

	if (ctl_read_full(fd, hdr, sizeof(hdr), timeout_ms) == -1 ||
	    proto_frame_parse(hdr, &kind, &len) != PE_NONE ||
	    kind != PROTO_FRAME_CONTROL || len >= size ||
	    ctl_read_full(fd, buf, len, timeout_ms) == -1)
		return -1;
	buf[len] = '\0';
	return (ssize_t)len;
}

/* read(2) that also takes a descriptor passed with the bytes, if any. */
ssize_t
ctl_recv(int fd, void *buf, size_t len, int *fd_r)
{
	struct iovec	 iov = { buf, len };
	struct msghdr	 mh;
	struct cmsghdr	*c;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	ssize_t		 r;
	int		 passed;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	if ((r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) <= 0)
		return r;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len != CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&passed, CMSG_DATA(c), sizeof(int));
		if (fd_r != NULL)
			*fd_r = passed;
		else
			close(passed);
	}
	return r;
}

/* Sends one frame with a descriptor attached to its first byte. */
int
ctl_write_frame_fd(int fd, const char *msg, size_t len, int pass_fd)
{
	uint8_t		 hdr[PROTO_FRAME_HDR];
	struct iovec	 iov = { hdr, sizeof(hdr) };
	struct msghdr	 mh;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;

	if (len == 0 || len > CTL_MSG_MAX)
		return -1;
	proto_frame_header(hdr, PROTO_FRAME_CONTROL, len);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	cm.hdr.cmsg_level = SOL_SOCKET;
	cm.hdr.cmsg_type = SCM_RIGHTS;
	cm.hdr.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&cm.hdr), &pass_fd, sizeof(int));
	if (sendmsg(fd, &mh, 0) != (ssize_t)sizeof(hdr))
		return -1;
	return util_write_all(fd, msg, len);
}
