// SPDX-License-Identifier: ISC
/* Unit tests for log.c: formatting and the peer-message rate limit. */
#include <sys/wait.h>

#include <errno.h>
#include <syslog.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "unit.h"

static char	last[LOG_LINE_MAX];
static int	lines, last_priority;
static double	fake_now = 1000.0;

static void
capture(int priority, const char *line)
{
	snprintf(last, sizeof(last), "%s", line);
	last_priority = priority;
	lines++;
}

static double
fake_clock(void)
{
	return fake_now;
}

static void
test_warn_appends_errno(void)
{
	log_set_sink(capture);
	errno = ENOENT;
	log_warn("open %s", "/x");
	CHECK_STR(last, "open /x: No such file or directory");
	CHECK_INT(errno, ENOENT);
	log_warnx("plain %d", 7);
	CHECK_STR(last, "plain 7");
	CHECK_INT(last_priority, LOG_ERR);
}

/*
 * A peer's text in any %s cannot forge a line or drive a terminal: a
 * newline, ESC, DEL and bytes from 0x80 come out as \xNN; a backslash
 * (a config pattern) stays as written.
 */
static void
test_peer_bytes_escaped(void)
{
	log_set_sink(capture);
	log_info("abort: %s", "x\nmigration 1: succeeded, digest verified");
	CHECK_STR(last, "abort: x\\x0amigration 1: succeeded, digest verified");
	log_warnx("hello from %s", "\x1b[2J\x7f\xc3\xa9\tend");
	CHECK_STR(last, "hello from \\x1b[2J\\x7f\\xc3\\xa9\\x09end");
	log_warnx("pattern %s", "^10\\.1\\.");
	CHECK_STR(last, "pattern ^10\\.1\\.");
}

static void
test_debug_only_when_verbose(void)
{
	log_set_sink(capture);
	lines = 0;
	log_setverbose(0);
	log_debug("hidden");
	CHECK_INT(lines, 0);
	log_setverbose(1);
	log_debug("shown");
	CHECK_INT(lines, 1);
	log_setverbose(0);
}

static void
test_long_line_truncated(void)
{
	char	big[3 * LOG_LINE_MAX];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_set_sink(capture);
	log_info("%s", big);
	CHECK_INT(strlen(last), LOG_LINE_MAX - 1);
}

static void
test_peer_rate_limit(void)
{
	int	i;

	log_set_sink(capture);
	log_set_clock(fake_clock);
	fake_now += 100;	/* a full bucket */
	lines = 0;
	for (i = 0; i < 10 * LOG_PEER_BURST_MAX; i++)
		log_peer_warnx("peer 192.0.2.1: refused %d", i);
	CHECK_INT(lines, LOG_PEER_BURST_MAX);
	/* Three seconds later: the suppression note, then three lines. */
	fake_now += 3;
	lines = 0;
	for (i = 0; i < 10; i++)
		log_peer_warnx("peer 192.0.2.1: refused again %d", i);
	CHECK_INT(lines, 4);
	CHECK_STR(last, "peer 192.0.2.1: refused again 2");
}

/*
 * Once shared, the bucket is one for every process forked afterwards:
 * what a child (one connection) spends, the next one no longer has.
 */
static void
test_peer_rate_limit_shared(void)
{
	pid_t	pid;
	int	i, status = -1;

	log_set_sink(capture);
	log_set_clock(fake_clock);
	fake_now += 100;	/* a full bucket */
	CHECK_INT(log_peer_share(), 0);
	/* Any note about the tests before goes out with this one. */
	log_peer_warnx("peer 192.0.2.1: refused");
	if ((pid = fork()) == 0) {
		lines = 0;
		for (i = 0; i < LOG_PEER_BURST_MAX - 6; i++)
			log_peer_warnx("peer 192.0.2.1: refused %d", i);
		_exit(lines);
	}
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	    LOG_PEER_BURST_MAX - 6);
	lines = 0;
	for (i = 0; i < 10; i++)
		log_peer_warnx("peer 192.0.2.2: refused %d", i);
	CHECK_INT(lines, 5);
}

UNIT_MAIN("log",
    UNIT_TEST(test_warn_appends_errno),
    UNIT_TEST(test_peer_bytes_escaped),
    UNIT_TEST(test_debug_only_when_verbose),
    UNIT_TEST(test_long_line_truncated),
    UNIT_TEST(test_peer_rate_limit),
    UNIT_TEST(test_peer_rate_limit_shared))
