// SPDX-License-Identifier: ISC
/*
 * Unit tests for msg.c, the typed messages between relocd's processes:
 * a message is accepted only at exactly its type's size, a descriptor
 * travels with it (and only one), unknown types are refused, and the
 * receiver's re-termination leaves no string unterminated.  Messages
 * are written raw with send(2) where msg_send would refuse to make
 * them, as a compromised network child could.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "msg.h"
#include "unit.h"
#include "util.h"

/* The same header msg.c puts before every payload. */
struct raw_hdr {
	uint32_t	type;
	uint32_t	len;
};

static union {
	struct msg_step		step;
	struct msg_worker_start	start;
	char			bytes[MSG_PAYLOAD_MAX + 64];
} buf;

/* Sends a header claiming type and len, then n payload bytes, raw. */
static int
send_raw(int fd, uint32_t type, uint32_t len, size_t n)
{
	static char	 out[sizeof(struct raw_hdr) + MSG_PAYLOAD_MAX + 64];
	struct raw_hdr	 h = { type, len };

	memcpy(out, &h, sizeof(h));
	memset(out + sizeof(h), 'x', n);
	return send(fd, out, sizeof(h) + n, 0) ==
	    (ssize_t)(sizeof(h) + n) ? 0 : -1;
}

/* msg_recv's result for what the other end of sv sent; errno kept. */
static int
recv_one(int fd, uint32_t *type, size_t *len, int *fd_r)
{
	return msg_recv(fd, type, &buf, sizeof(buf), len, fd_r);
}

/* Whether the next message on fd is refused as malformed. */
static int
refused(int fd)
{
	uint32_t	type;
	size_t		len;

	errno = 0;
	return recv_one(fd, &type, &len, NULL) == -1 && errno == EBADMSG;
}

static int
open_fds(void)
{
	DIR	*d = opendir("/proc/self/fd");
	int	 n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
test_round_trip(void)
{
	struct msg_step	 st;
	uint32_t	 type = 0;
	size_t		 len = 0;
	int		 sv[2];

	CHECK_INT(msg_socketpair(sv), 0);
	memset(&st, 0, sizeof(st));
	st.phase = PHASE_PREPARED;
	st.where = GUEST_WHERE_HERE;
	strlcpy(st.text, "image complete", sizeof(st.text));
	CHECK_INT(msg_send(sv[0], MSG_WORKER_STEP, &st, sizeof(st), -1), 0);
	CHECK_INT(recv_one(sv[1], &type, &len, NULL), 0);
	CHECK_INT(type, MSG_WORKER_STEP);
	CHECK_INT(len, sizeof(struct msg_step));
	CHECK_INT(buf.step.phase, PHASE_PREPARED);
	CHECK_INT(buf.step.where, GUEST_WHERE_HERE);
	CHECK_STR(buf.step.text, "image complete");
	close(sv[0]);
	close(sv[1]);
}

/* msg_send refuses to build a message of the wrong size or type. */
static void
test_send_exact_size(void)
{
	struct msg_step	st;
	int		sv[2];

	CHECK_INT(msg_socketpair(sv), 0);
	memset(&st, 0, sizeof(st));
	errno = 0;
	CHECK_INT(msg_send(sv[0], MSG_STEP, &st, sizeof(st) - 1, -1), -1);
	CHECK_INT(errno, EINVAL);
	errno = 0;
	CHECK_INT(msg_send(sv[0], MSG_STEP, &buf, sizeof(st) + 1, -1), -1);
	CHECK_INT(errno, EINVAL);
	errno = 0;
	CHECK_INT(msg_send(sv[0], MSG_TYPE_MAX, &st, sizeof(st), -1), -1);
	CHECK_INT(errno, EINVAL);
	/* MSG_NONE has no payload to get wrong, but msg_recv refuses it. */
	errno = 0;
	CHECK_INT(msg_send(sv[0], MSG_NONE, NULL, 0, -1), -1);
	CHECK_INT(errno, EINVAL);
	close(sv[0]);
	close(sv[1]);
}

/* A short or long message, or a header that lies, is EBADMSG. */
static void
test_recv_exact_size(void)
{
	const uint32_t	 size = (uint32_t)sizeof(struct msg_step);
	const struct {
		uint32_t	 len;		/* what the header claims */
		size_t		 n;		/* bytes that follow */
	} bad[] = {
		{ size - 1, size - 1 },		/* short, header agrees */
		{ size + 1, size + 1 },		/* long, header agrees */
		{ size, size - 1 },		/* header claims more */
		{ size - 1, size },		/* header claims less */
		{ 0, 0 },			/* no payload at all */
	};
	size_t		 i;
	int		 sv[2];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(msg_socketpair(sv), 0);
		CHECK_INT(send_raw(sv[0], MSG_NET_STEP, bad[i].len,
		    bad[i].n), 0);
		CHECK(refused(sv[1]));
		close(sv[0]);
		close(sv[1]);
	}
	/* Shorter than a header. */
	CHECK_INT(msg_socketpair(sv), 0);
	CHECK_INT(send(sv[0], "abc", 3, 0), 3);
	CHECK(refused(sv[1]));
	close(sv[0]);
	close(sv[1]);
}

/* More than the receiver's buffer holds is refused, not cut short. */
static void
test_recv_truncated(void)
{
	struct msg_step	 st;
	uint32_t	 type;
	size_t		 len;
	int		 sv[2];

	CHECK_INT(msg_socketpair(sv), 0);
	memset(&st, 0, sizeof(st));
	CHECK_INT(msg_send(sv[0], MSG_STEP, &st, sizeof(st), -1), 0);
	errno = 0;
	CHECK_INT(msg_recv(sv[1], &type, &buf, sizeof(st) - 8, &len, NULL),
	    -1);
	CHECK_INT(errno, EBADMSG);
	close(sv[0]);
	close(sv[1]);
}

static void
test_unknown_type(void)
{
	int	sv[2];

	CHECK_INT(msg_socketpair(sv), 0);
	CHECK_INT(send_raw(sv[0], MSG_TYPE_MAX, 0, 0), 0);
	CHECK_INT(send_raw(sv[0], 0xffffffffu, 16, 16), 0);
	CHECK_INT(send_raw(sv[0], MSG_NONE, 0, 0), 0);
	CHECK(refused(sv[1]));
	CHECK(refused(sv[1]));
	CHECK(refused(sv[1]));
	close(sv[0]);
	close(sv[1]);
}

/* The other end gone: a clean end of file, not an error. */
static void
test_end_of_file(void)
{
	uint32_t	type;
	size_t		len;
	int		sv[2];

	CHECK_INT(msg_socketpair(sv), 0);
	close(sv[0]);
	CHECK_INT(recv_one(sv[1], &type, &len, NULL), 1);
	close(sv[1]);
}

/* A descriptor travels with its message and works at the other end. */
static void
test_fd_passing(void)
{
	struct msg_step	 st;
	uint32_t	 type;
	size_t		 len;
	char		 c = 0;
	int		 sv[2], pfd[2], got = -1;

	CHECK_INT(msg_socketpair(sv), 0);
	CHECK_INT(pipe(pfd), 0);
	memset(&st, 0, sizeof(st));
	st.phase = PHASE_RESERVED;
	CHECK_INT(msg_send(sv[0], MSG_STEP, &st, sizeof(st), pfd[1]), 0);
	close(pfd[1]);
	CHECK_INT(recv_one(sv[1], &type, &len, &got), 0);
	CHECK(got != -1);
	CHECK(got == -1 || (fcntl(got, F_GETFD) & FD_CLOEXEC));
	CHECK_INT(write(got, "k", 1), 1);
	CHECK_INT(read(pfd[0], &c, 1), 1);
	CHECK_INT(c, 'k');
	if (got != -1)
		close(got);
	/* No descriptor sent: the receiver is told so. */
	CHECK_INT(msg_send(sv[0], MSG_STEP, &st, sizeof(st), -1), 0);
	got = 42;
	CHECK_INT(recv_one(sv[1], &type, &len, &got), 0);
	CHECK_INT(got, -1);
	close(pfd[0]);
	close(sv[0]);
	close(sv[1]);
}

/* A descriptor nobody asked for, or one too many, is closed. */
static void
test_fd_extras_closed(void)
{
	struct msg_step	 st;
	struct raw_hdr	 h = { MSG_STEP, sizeof(struct msg_step) };
	struct iovec	 iov[2];
	struct msghdr	 mh;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	uint32_t	 type;
	size_t		 len;
	int		 sv[2], pfd[2], fds[2], got = -1, before;

	CHECK_INT(msg_socketpair(sv), 0);
	CHECK_INT(pipe(pfd), 0);
	memset(&st, 0, sizeof(st));
	before = open_fds();
	/* Unasked for: fd_r NULL. */
	CHECK_INT(msg_send(sv[0], MSG_STEP, &st, sizeof(st), pfd[0]), 0);
	CHECK_INT(recv_one(sv[1], &type, &len, NULL), 0);
	CHECK_INT(open_fds(), before);
	/* Two at once, as msg_send never sends: one kept, one closed. */
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = &st;
	iov[1].iov_len = sizeof(st);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	cm.hdr.cmsg_level = SOL_SOCKET;
	cm.hdr.cmsg_type = SCM_RIGHTS;
	cm.hdr.cmsg_len = CMSG_LEN(sizeof(fds));
	fds[0] = pfd[0];
	fds[1] = pfd[1];
	memcpy(CMSG_DATA(&cm.hdr), fds, sizeof(fds));
	CHECK_INT(sendmsg(sv[0], &mh, 0), (ssize_t)(sizeof(h) + sizeof(st)));
	CHECK_INT(recv_one(sv[1], &type, &len, &got), 0);
	CHECK(got != -1);
	CHECK_INT(open_fds(), before + 1);
	if (got != -1)
		close(got);
	/* A malformed message with a descriptor leaks none either. */
	h.len = 1;
	iov[1].iov_len = 1;
	CHECK_INT(sendmsg(sv[0], &mh, 0), (ssize_t)(sizeof(h) + 1));
	got = 42;
	CHECK_INT(recv_one(sv[1], &type, &len, &got), -1);
	CHECK_INT(got, -1);
	CHECK_INT(open_fds(), before);
	close(pfd[0]);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_type_names(void)
{
	uint32_t	t;

	CHECK_STR(msg_type_name(MSG_STEP), "step");
	CHECK_STR(msg_type_name(MSG_NET_STEP), "net-step");
	CHECK_STR(msg_type_name(MSG_TYPE_MAX), "unknown");
	CHECK_STR(msg_type_name(0xffffffffu), "unknown");
	CHECK_INT(msg_size(MSG_TYPE_MAX), 0);
	CHECK_INT(msg_size(0xffffffffu), 0);
	CHECK_INT(msg_size(MSG_WORKER_START), sizeof(struct msg_worker_start));
	/* Every type has a name and, but for MSG_NONE, a payload size. */
	for (t = 0; t < MSG_TYPE_MAX; t++) {
		CHECK(msg_type_name(t) != NULL);
		CHECK(t == MSG_NONE || msg_size(t) > 0);
		CHECK(msg_size(t) <= MSG_PAYLOAD_MAX);
	}
}

/* A sender that leaves no NUL: the receiver's re-termination holds. */
static void
test_terminate(void)
{
	struct msg_step	 st;
	uint32_t	 type;
	size_t		 len;
	int		 sv[2];

	CHECK_INT(msg_socketpair(sv), 0);
	memset(&st, 'A', sizeof(st));
	CHECK_INT(msg_send(sv[0], MSG_NET_STEP, &st, sizeof(st), -1), 0);
	CHECK_INT(recv_one(sv[1], &type, &len, NULL), 0);
	MSG_TERMINATE(buf.step.text);
	MSG_TERMINATE(buf.step.id);
	msg_terminate_guest(&buf.step.guest);
	CHECK_INT(strlen(buf.step.text), sizeof(buf.step.text) - 1);
	CHECK_INT(strlen(buf.step.id), MIG_ID_LEN);
	CHECK_INT(strlen(buf.step.guest.name),
	    sizeof(buf.step.guest.name) - 1);
	CHECK_INT(strlen(buf.step.guest.uuid),
	    sizeof(buf.step.guest.uuid) - 1);
	/* Re-terminating a terminated string changes nothing. */
	strlcpy(buf.step.text, "short", sizeof(buf.step.text));
	MSG_TERMINATE(buf.step.text);
	CHECK_STR(buf.step.text, "short");
	close(sv[0]);
	close(sv[1]);
}

UNIT_MAIN("msg",
    UNIT_TEST(test_round_trip),
    UNIT_TEST(test_send_exact_size),
    UNIT_TEST(test_recv_exact_size),
    UNIT_TEST(test_recv_truncated),
    UNIT_TEST(test_unknown_type),
    UNIT_TEST(test_end_of_file),
    UNIT_TEST(test_fd_passing),
    UNIT_TEST(test_fd_extras_closed),
    UNIT_TEST(test_type_names),
    UNIT_TEST(test_terminate))
