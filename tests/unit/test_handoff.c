// SPDX-License-Identifier: ISC
/*
 * Unit tests for handoff.c: a receiving worker's descriptors reach only
 * the process that names a live token, once, as root, from the right
 * unit; and the fetching side takes them only from a root listener.
 * The socket lives in a fresh directory under /tmp; the checks that
 * need a second uid run when the test runs as root (make check does).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "handoff.h"
#include "util.h"
#include "unit.h"

static char	dir[] = "/tmp/relocd-handoff.XXXXXX";
static char	sock[128];

static void
teardown(void)
{
	unlink(sock);
	rmdir(dir);
}

/* The socket's directory, made on first use and removed at exit. */
static void
setup(void)
{
	if (sock[0] != '\0')
		return;
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(sock, sizeof(sock), "%s/receive.sock", dir);
	atexit(teardown);
}

/* A child that fetches token and writes "ok" into the first fd got. */
static pid_t
fetcher(const char *token, uid_t uid)
{
	char	err[256];
	size_t	n;
	int	fds[HANDOFF_FDS_MAX];
	pid_t	pid;

	if ((pid = fork()) != 0)
		return pid;
	if (uid != 0 && setuid(uid) == -1)
		_exit(3);
	if (handoff_fetch(sock, token, fds, HANDOFF_FDS_MAX, &n, err,
	    sizeof(err)) == -1)
		_exit(1);
	if (n != 2 || write(fds[0], "ok", 2) != 2)
		_exit(2);
	_exit(0);
}

static int
exit_status(pid_t pid)
{
	int	status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Serves the one connection a fetcher makes (which may be refused). */
static int
serve_one(int lfd, struct handoff_slot *slots, size_t n,
    struct handoff_peer *peer, char *err, size_t errlen)
{
	int	i, rc;

	/* The listener is non-blocking: wait for the connection (5 s). */
	for (i = 0; i < 500; i++) {
		rc = handoff_serve(lfd, slots, n, peer, err, errlen);
		if (rc != -1 || err[0] != '\0')
			return rc;
		usleep(10000);
	}
	return -1;
}

static void
test_handoff_once(void)
{
	struct handoff_slot	 slots[2], *s;
	struct handoff_peer	 peer;
	char			 err[256], buf[4], token[HANDOFF_TOKEN_LEN + 1];
	int			 lfd, pfd[2], sv[2], fds[2];
	pid_t			 pid;

	setup();
	memset(slots, 0, sizeof(slots));
	CHECK_INT(handoff_listen(sock, &lfd, err, sizeof(err)), 0);
	CHECK(pipe(pfd) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fds[0] = pfd[1];
	fds[1] = sv[1];
	CHECK_INT(handoff_offer(slots, 2, fds, 2, 7, NULL,
	    util_now_ms() + 5000, &s), 0);
	CHECK(s != NULL && strlen(s->token) == HANDOFF_TOKEN_LEN);
	STRLCPY_ARRAY(token, s->token);
	/* The slot holds copies: the caller's own may go. */
	close(pfd[1]);
	close(sv[1]);

	pid = fetcher(token, 0);
	CHECK(serve_one(lfd, slots, 2, &peer, err, sizeof(err)) ==
	    (int)(s - slots));
	CHECK_INT(peer.pid, pid);
	CHECK_INT(peer.cookie, 7);
	CHECK_INT(exit_status(pid), 0);
	CHECK(read(pfd[0], buf, 2) == 2 && memcmp(buf, "ok", 2) == 0);
	CHECK_STR(slots[0].token, "");

	/* The same token a second time: refused, and nothing travels. */
	pid = fetcher(token, 0);
	CHECK_INT(serve_one(lfd, slots, 2, &peer, err, sizeof(err)), -1);
	CHECK(strstr(err, "no such token") != NULL);
	CHECK_INT(exit_status(pid), 1);
	close(pfd[0]);
	close(sv[0]);
	close(lfd);
}

static void
test_handoff_wrong_or_expired(void)
{
	struct handoff_slot	 slots[1], *s;
	struct handoff_peer	 peer;
	char			 err[256], other[HANDOFF_TOKEN_LEN + 1];
	int			 lfd, pfd[2];
	pid_t			 pid;

	setup();
	memset(slots, 0, sizeof(slots));
	CHECK_INT(handoff_listen(sock, &lfd, err, sizeof(err)), 0);
	CHECK(pipe(pfd) == 0);
	CHECK_INT(handoff_offer(slots, 1, pfd, 2, 1, NULL,
	    util_now_ms() + 5000, &s), 0);
	/* A well-formed token that is not the slot's. */
	memset(other, 'a', HANDOFF_TOKEN_LEN);
	other[HANDOFF_TOKEN_LEN] = '\0';
	pid = fetcher(other, 0);
	CHECK_INT(serve_one(lfd, slots, 1, &peer, err, sizeof(err)), -1);
	CHECK_INT(exit_status(pid), 1);
	/* A wrong guess spends nothing; the slot still waits. */
	CHECK(slots[0].token[0] != '\0');

	/* Past its deadline the right token is refused, and expires. */
	slots[0].deadline_ms = util_now_ms() - 1;
	pid = fetcher(slots[0].token, 0);
	CHECK_INT(serve_one(lfd, slots, 1, &peer, err, sizeof(err)), -1);
	CHECK(strstr(err, "expired") != NULL);
	CHECK_INT(exit_status(pid), 1);
	CHECK_INT(handoff_expired(slots, 1, util_now_ms()), 0);
	handoff_drop(&slots[0]);
	CHECK_INT(handoff_expired(slots, 1, util_now_ms()), -1);
	close(pfd[0]);
	close(pfd[1]);
	close(lfd);
}

/* Root only: a peer of another uid is refused, whichever side it is. */
static void
test_handoff_root_only(void)
{
	struct handoff_slot	 slots[1], *s;
	struct handoff_peer	 peer;
	char			 err[256];
	int			 lfd, pfd[2], fds[2];
	size_t			 n;
	pid_t			 pid;

	if (getuid() != 0) {
		printf("skip test_handoff_root_only: needs root for a "
		    "second uid\n");
		return;
	}
	setup();
	memset(slots, 0, sizeof(slots));
	/* The directory is root's 0700 in real life; here others connect. */
	CHECK(chmod(dir, 0755) == 0);
	CHECK_INT(handoff_listen(sock, &lfd, err, sizeof(err)), 0);
	CHECK(chmod(sock, 0666) == 0);
	CHECK(pipe(pfd) == 0);
	CHECK_INT(handoff_offer(slots, 1, pfd, 2, 1, NULL,
	    util_now_ms() + 5000, &s), 0);
	pid = fetcher(s->token, 65534);
	CHECK_INT(serve_one(lfd, slots, 1, &peer, err, sizeof(err)), -1);
	CHECK(strstr(err, "uid 65534 is not root") != NULL);
	CHECK_INT(exit_status(pid), 1);
	CHECK(slots[0].token[0] != '\0');
	close(lfd);

	/* A listener that is not root's gets no token from us. */
	unlink(sock);
	CHECK(chmod(dir, 0777) == 0);
	if ((pid = fork()) == 0) {
		if (setuid(65534) == -1 ||
		    handoff_listen(sock, &lfd, err, sizeof(err)) == -1)
			_exit(1);
		sleep(5);
		_exit(0);
	}
	usleep(200000);
	CHECK_INT(handoff_fetch(sock, slots[0].token, fds, 2, &n, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "uid 65534, is not root") != NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	handoff_drop(&slots[0]);
	CHECK(chmod(dir, 0700) == 0);
}

/* The cgroup check: the peer must be the unit's own process. */
static void
test_handoff_cgroup(void)
{
	const char	*unit = "relocd-receive@0123456789abcdef0123456789abcdef"
	    ".service";
	char		 name[HANDOFF_UNIT_NAME_MAX];

	CHECK_INT(handoff_unit_name("relocd-receive",
	    "0123456789abcdef0123456789abcdef", name, sizeof(name)), 0);
	CHECK_STR(name, unit);
	CHECK(handoff_cgroup_is_unit("0::/system.slice/"
	    "system-relocd\\x2dreceive.slice/relocd-receive@0123456789abcdef"
	    "0123456789abcdef.service\n", unit));
	CHECK(handoff_cgroup_is_unit("12:cpu:/\n1:name=systemd:/system.slice/"
	    "system-relocd\\x2dreceive.slice/relocd-receive@0123456789abcdef"
	    "0123456789abcdef.service\n0::/\n", unit));
	/* relocd's own cgroup, a prefix, a longer name: no. */
	CHECK(!handoff_cgroup_is_unit("0::/system.slice/relocd.service\n",
	    unit));
	CHECK(!handoff_cgroup_is_unit("0::/x/relocd-receive@0123456789abcdef"
	    "0123456789abcdef.service/child\n", unit));
	CHECK(!handoff_cgroup_is_unit("0::/x/xrelocd-receive@0123456789abcdef"
	    "0123456789abcdef.service\n", unit));
	CHECK(!handoff_cgroup_is_unit("0::/x/relocd-receive@0123456789abcdef"
	    "0123456789abcdef.service-old\n", unit));
	CHECK(!handoff_cgroup_is_unit("", unit));
}

UNIT_MAIN("handoff",
    UNIT_TEST(test_handoff_once),
    UNIT_TEST(test_handoff_wrong_or_expired),
    UNIT_TEST(test_handoff_root_only),
    UNIT_TEST(test_handoff_cgroup))
