// SPDX-License-Identifier: ISC
/*
 * relocd's QMP client (xen_qmp.c) against a scripted fake QEMU: a child
 * process on a unix socket that greets, checks each command it gets
 * against the script, answers with the script's lines (events first,
 * where the script says so), and records every command in a file that
 * the test reads back.  For add-fd it takes the passed fd and writes
 * "device state" into it, as QEMU would later through /dev/fdset/N.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "xen_qmp.h"

#define GREETING	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, " \
			"\"minor\": 2, \"major\": 7}}, \"capabilities\": []}}\r\n"
#define OK		"{\"return\": {}}\r\n"
#define EVENT		"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, " \
			"\"event\": \"STOP\"}\r\n"
#define STATE		"device state"

/* One exchange: a command must contain want; reply is sent back. */
struct step {
	const char	*want;
	const char	*reply;
};

static char	sock_path[108];
static char	log_path[] = "/tmp/relocd-qmp-log-XXXXXX";

/* Reads one command (up to its closing brace at depth 0), and any fd. */
static ssize_t
read_command(int c, char *buf, size_t max, int *fd_r)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec	 iov = { .iov_base = buf, .iov_len = max - 1 };
	struct msghdr	 msg = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf) };
	struct cmsghdr	*cm;
	ssize_t		 n;

	*fd_r = -1;
	if ((n = recvmsg(c, &msg, 0)) <= 0)
		return n;
	buf[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd_r, CMSG_DATA(cm), sizeof(int));
	return n;
}

/* The fake QEMU: serves one client, then exits 0 if the script held. */
static void
fake_qemu(int l, const struct step *script, size_t n)
{
	char	buf[4096];
	FILE	*log;
	size_t	i;
	int	c, fd;

	if ((log = fopen(log_path, "w")) == NULL ||
	    (c = accept(l, NULL, NULL)) == -1)
		_exit(10);
	if (write(c, GREETING, strlen(GREETING)) < 0)
		_exit(11);
	for (i = 0; i < n; i++) {
		if (read_command(c, buf, sizeof(buf), &fd) <= 0)
			_exit(12);
		fprintf(log, "%s%s\n", buf, fd != -1 ? " +fd" : "");
		fflush(log);
		if (strstr(buf, script[i].want) == NULL)
			_exit(13);
		if (fd != -1) {
			if (write(fd, STATE, strlen(STATE)) < 0)
				_exit(14);
			close(fd);
		}
		if (script[i].reply == NULL)	/* hang up instead */
			_exit(0);
		if (write(c, script[i].reply, strlen(script[i].reply)) < 0)
			_exit(15);
	}
	/* The client must close; anything more is a protocol error. */
	if (read_command(c, buf, sizeof(buf), &fd) != 0)
		_exit(16);
	_exit(0);
}

static pid_t
start_fake(const struct step *script, size_t n)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	pid_t			pid;
	int			l, fd;

	snprintf(sock_path, sizeof(sock_path), "/tmp/relocd-qmp-%d", getpid());
	unlink(sock_path);
	strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	if ((fd = mkstemp(log_path)) != -1)
		close(fd);
	if ((l = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(l, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(l, 1) == -1)
		return -1;
	if ((pid = fork()) == 0)
		fake_qemu(l, script, n);
	close(l);
	return pid;
}

/* The fake's exit status (0: the script held), and cleans up. */
static int
end_fake(pid_t pid)
{
	int	status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	unlink(sock_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* The commands the fake got, one per line. */
static char *
fake_log(void)
{
	static char	buf[8192];
	int		fd;
	ssize_t		n;

	buf[0] = '\0';
	if ((fd = open(log_path, O_RDONLY)) == -1)
		return buf;
	if ((n = read(fd, buf, sizeof(buf) - 1)) > 0)
		buf[n] = '\0';
	close(fd);
	unlink(log_path);
	strcpy(log_path + strlen(log_path) - 6, "XXXXXX");
	return buf;
}

static void
test_path(void)
{
	char	buf[64], small[8];

	CHECK_INT(xen_qmp_path(7, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/var/run/xen/qmp-libxl-7");
	CHECK_INT(xen_qmp_path(7, small, sizeof(small)), -1);
}

static void
test_dirty_log_skips_events(void)
{
	static const struct step script[] = {
		{ "\"qmp_capabilities\"", EVENT OK },
		{ "\"xen-set-global-dirty-log\"", EVENT EVENT OK },
	};
	char	why[256] = "";
	pid_t	pid = start_fake(script, 2);

	CHECK(pid > 0);
	CHECK_INT(xen_qmp_set_dirty_log(sock_path, 1, why, sizeof(why)), 0);
	CHECK_STR(why, "");
	CHECK_INT(end_fake(pid), 0);
	CHECK(strstr(fake_log(), "\"arguments\":{\"enable\":true}") != NULL);
}

static void
test_save_devices(void)
{
	static const struct step script[] = {
		{ "\"qmp_capabilities\"", OK },
		{ "\"stop\"", EVENT OK },
		{ "\"add-fd\"", "{\"return\": {\"fdset-id\": 3, \"fd\": 25}}\r\n" },
		{ "\"xen-save-devices-state\"", OK },
		{ "\"remove-fd\"", OK },
	};
	char	why[256] = "", path[] = "/tmp/relocd-qmp-state-XXXXXX";
	char	got[64] = "", *log;
	pid_t	pid;
	int	fd, wfd;

	fd = mkstemp(path);
	wfd = open(path, O_WRONLY);
	unlink(path);
	pid = start_fake(script, 5);
	CHECK(pid > 0 && fd != -1 && wfd != -1);
	CHECK_INT(xen_qmp_save_devices(sock_path, wfd, 1, why, sizeof(why)),
	    0);
	CHECK_STR(why, "");
	CHECK_INT(end_fake(pid), 0);
	CHECK(pread(fd, got, sizeof(got) - 1, 0) == (ssize_t)strlen(STATE));
	CHECK_STR(got, STATE);
	log = fake_log();
	CHECK(strstr(log, "{\"execute\":\"add-fd\"} +fd") != NULL);
	CHECK(strstr(log, "\"filename\":\"/dev/fdset/3\",\"live\":true") !=
	    NULL);
	CHECK(strstr(log, "\"remove-fd\",\"arguments\":{\"fdset-id\":3}") !=
	    NULL);
	close(fd);
	close(wfd);
}

/* QEMU's reason comes back, unescaped and printable. */
static void
test_error_desc(void)
{
	static const struct step script[] = {
		{ "\"qmp_capabilities\"", OK },
		{ "\"stop\"", OK },
		{ "\"add-fd\"", "{\"return\": {\"fdset-id\": 0, \"fd\": 25}}\r\n" },
		{ "\"xen-save-devices-state\"", "{\"error\": {\"class\": "
		    "\"GenericError\", \"desc\": \"cannot \\\"save\\\"\\u0007"
		    " now\"}}\r\n" },
		{ "\"remove-fd\"", OK },
	};
	char	why[256] = "";
	pid_t	pid = start_fake(script, 5);
	int	fd = open("/dev/null", O_WRONLY);

	CHECK(pid > 0);
	CHECK_INT(xen_qmp_save_devices(sock_path, fd, 0, why, sizeof(why)),
	    -1);
	CHECK_STR(why, "cannot \"save\"u0007 now");
	CHECK_INT(end_fake(pid), 0);
	CHECK(strstr(fake_log(), "\"live\":false") != NULL);
	close(fd);
}

/* No fd set id in add-fd's reply: refused before QEMU is asked to save. */
static void
test_add_fd_without_id(void)
{
	static const struct step script[] = {
		{ "\"qmp_capabilities\"", OK },
		{ "\"stop\"", OK },
		{ "\"add-fd\"", "{\"return\": {\"fd\": 25, \"x\": {\"fdset-id\": 1}}}\r\n" },
	};
	char	why[256] = "";
	pid_t	pid = start_fake(script, 3);
	int	fd = open("/dev/null", O_WRONLY);

	CHECK_INT(xen_qmp_save_devices(sock_path, fd, 1, why, sizeof(why)),
	    -1);
	CHECK_STR(why, "QEMU's add-fd gave no fd set id");
	CHECK_INT(end_fake(pid), 0);
	(void)fake_log();
	close(fd);
}

static void
test_hang_up_and_absent(void)
{
	static const struct step script[] = {
		{ "\"qmp_capabilities\"", OK },
		{ "\"xen-set-global-dirty-log\"", NULL },
	};
	char	why[256] = "";
	pid_t	pid = start_fake(script, 2);

	CHECK_INT(xen_qmp_set_dirty_log(sock_path, 0, why, sizeof(why)), -1);
	CHECK_STR(why, "QEMU closed its QMP socket");
	CHECK_INT(end_fake(pid), 0);
	(void)fake_log();
	CHECK_INT(xen_qmp_set_dirty_log("/nonexistent/qmp", 0, why,
	    sizeof(why)), -1);
	CHECK_STR(why, "cannot reach the guest's QEMU at /nonexistent/qmp: "
	    "No such file or directory");
}

UNIT_MAIN("xen_qmp",
    UNIT_TEST(test_path),
    UNIT_TEST(test_dirty_log_skips_events),
    UNIT_TEST(test_save_devices),
    UNIT_TEST(test_error_desc),
    UNIT_TEST(test_add_fd_without_id),
    UNIT_TEST(test_hang_up_and_absent))
