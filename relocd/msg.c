// SPDX-License-Identifier: ISC
/*
 * Internal messages between the parent, the network children and the
 * workers: a small header and a fixed struct per type, over
 * SOCK_SEQPACKET, with at most one file descriptor attached.
 *
 * Runs in every process.  A message from a less-privileged process (a
 * network child talking to the parent) is checked here for type and exact
 * size; its strings are re-terminated by the receiver.  A malformed
 * internal message is a broken invariant: callers drop that child.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

struct msg_hdr {
	uint32_t	type;
	uint32_t	len;
};

static const struct {
	const char	*name;
	size_t		 size;
} msg_types[MSG_TYPE_MAX] = {
	[MSG_NONE] = { "none", 0 },
	[MSG_NET_AUTHENTICATED] = { "net-authenticated",
	    sizeof(struct msg_peer) },
	[MSG_NET_RESERVE] = { "net-reserve", sizeof(struct msg_reserve) },
	[MSG_NET_STEP] = { "net-step", sizeof(struct msg_step) },
	[MSG_NET_QUERY] = { "net-query", sizeof(struct msg_step) },
	[MSG_NET_XL_RECEIVE] = { "net-xl-receive",
	    sizeof(struct msg_xl_receive) },
	[MSG_STEP] = { "step", sizeof(struct msg_step) },
	[MSG_WORKER_START] = { "worker-start",
	    sizeof(struct msg_worker_start) },
	[MSG_WORKER_CMD] = { "worker-cmd", sizeof(struct msg_step) },
	[MSG_WORKER_STEP] = { "worker-step", sizeof(struct msg_step) },
	[MSG_WORKER_GUEST] = { "worker-guest", sizeof(struct msg_guest) },
	[MSG_WORKER_DESC] = { "worker-desc", sizeof(struct msg_reserve) },
	[MSG_WORKER_NOTE] = { "worker-note", sizeof(struct msg_outgoing) },
	[MSG_RESOLVE_QUERY] = { "resolve-query", sizeof(struct msg_resolve) },
	[MSG_RESOLVE_ANSWER] = { "resolve-answer",
	    sizeof(struct msg_resolve) },
	[MSG_KEY_LOAD] = { "key-load", sizeof(struct msg_key_load) },
	[MSG_KEY_LOADED] = { "key-loaded", sizeof(struct msg_key_loaded) },
	[MSG_KEY_CHANNEL] = { "key-channel", sizeof(struct msg_key_channel) },
	[MSG_NET_START] = { "net-start", sizeof(struct msg_net_start) },
	[MSG_NET_DESC] = { "net-desc", sizeof(struct msg_reserve) },
	[MSG_NET_REFUSED] = { "net-refused", sizeof(struct msg_refused) },
};

_Static_assert(sizeof(struct msg_worker_start) <= MSG_PAYLOAD_MAX,
    "MSG_PAYLOAD_MAX too small");

int
msg_socketpair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

size_t
msg_size(uint32_t type)
{
	return type < MSG_TYPE_MAX ? msg_types[type].size : 0;
}

const char *
msg_type_name(uint32_t type)
{
	return type < MSG_TYPE_MAX ? msg_types[type].name : "unknown";
}

/* Sends one message; fd (or -1) travels with it as SCM_RIGHTS. */
int
msg_send(int sock, uint32_t type, const void *payload, size_t len, int fd)
{
	struct msg_hdr	 hdr = { type, (uint32_t)len };
	struct iovec	 iov[2];
	struct msghdr	 mh;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	ssize_t		 r;

	/* Nothing msg_recv would refuse: MSG_NONE is no message either. */
	if (type == MSG_NONE || len > MSG_PAYLOAD_MAX ||
	    len != msg_size(type)) {
		errno = EINVAL;
		return -1;
	}
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cm.hdr.cmsg_level = SOL_SOCKET;
		cm.hdr.cmsg_type = SCM_RIGHTS;
		cm.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.hdr), &fd, sizeof(int));
	}
	do {
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if ((size_t)r != sizeof(hdr) + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Takes the one descriptor a message may carry; closes any extras. */
static int
msg_take_fd(struct msghdr *mh)
{
	struct cmsghdr	*c;
	int		 fd = -1, extra;
	size_t		 i, n;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&extra, CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
			if (fd == -1)
				fd = extra;
			else
				close(extra);
		}
	}
	return fd;
}

/*
 * Receives one message into payload (size bytes available).  Returns 0
 * with *type_r and *len_r set, 1 on a clean end of file, -1 on error.  A
 * message whose size is not exactly its type's is an error (EBADMSG).
 * fd_r, if not NULL, receives an attached descriptor or -1.
 */
int
msg_recv(int sock, uint32_t *type_r, void *payload, size_t size,
    size_t *len_r, int *fd_r)
{
	struct msg_hdr	 hdr;
	struct iovec	 iov[2];
	struct msghdr	 mh;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	ssize_t		 r;
	int		 fd;

	if (fd_r != NULL)
		*fd_r = -1;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = payload;
	iov[1].iov_len = size;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do {
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (r == -1 && errno == EINTR);
	/* A peer that exited with our messages unread resets the pair. */
	if (r == 0 || (r == -1 && errno == ECONNRESET))
		return 1;
	if (r == -1)
		return -1;
	fd = msg_take_fd(&mh);
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)r < sizeof(hdr) || hdr.type == MSG_NONE ||
	    hdr.type >= MSG_TYPE_MAX || hdr.len != msg_size(hdr.type) ||
	    (size_t)r != sizeof(hdr) + hdr.len) {
		if (fd != -1)
			close(fd);
		errno = EBADMSG;
		return -1;
	}
	if (fd_r != NULL)
		*fd_r = fd;
	else if (fd != -1)
		close(fd);
	*type_r = hdr.type;
	*len_r = hdr.len;
	return 0;
}

void
msg_terminate_guest(struct guest_info *g)
{
	MSG_TERMINATE(g->name);
	MSG_TERMINATE(g->uuid);
}
