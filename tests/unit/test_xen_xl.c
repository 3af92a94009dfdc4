// SPDX-License-Identifier: ISC
/*
 * The destination's driving of `xl migrate-receive` (xen_xl.c), against
 * tests/unit/fake-xl, which speaks xl's receiver side: the stream
 * arrives intact behind xl's header, "go" gets the report, and each way
 * xl can fail is reported with xl's own last words.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "xen_stream.h"
#include "xen_xl.h"

#define FAKE_XL		"tests/unit/fake-xl"
#define STREAM_LEN	(3 * 1024 * 1024 + 17)

static const char *const args[] = { "migrate-receive", NULL };
static const char json[] = "{ \"c_info\": { \"name\": \"g\" } }";
static char out_path[] = "/tmp/relocd-fake-xl-XXXXXX";

/* A stream file of STREAM_LEN pseudo-random bytes, and its fd. */
static int
stream_fd(void)
{
	char		 path[] = "/tmp/relocd-xl-stream-XXXXXX";
	unsigned char	*buf;
	int		 fd, i;

	if ((fd = mkstemp(path)) == -1)
		return -1;
	unlink(path);
	buf = malloc(STREAM_LEN);
	for (i = 0; i < STREAM_LEN; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	if (write(fd, buf, STREAM_LEN) != STREAM_LEN)
		fd = -1;
	free(buf);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Starts fake-xl in mode, sends header and stream; 0 if all went in. */
static int
feed(struct xen_xl *x, const char *mode, char *why, size_t why_max)
{
	uint8_t		*hdr;
	size_t		 hdr_len;
	uint64_t	 bytes = 0;
	char		 n[32];
	int		 fd, rc;

	setenv("FAKE_XL_MODE", mode, 1);
	snprintf(n, sizeof(n), "%d", STREAM_LEN);
	setenv("FAKE_XL_BYTES", n, 1);
	setenv("FAKE_XL_OUT", out_path, 1);
	xen_xl_init(x);
	if (xen_xl_start(x, FAKE_XL, args, 10000, why, why_max) == -1)
		return -1;
	if (xen_stream_xl_header(json, &hdr, &hdr_len) == -1)
		return -1;
	fd = stream_fd();
	rc = xen_xl_write(x, hdr, hdr_len, why, why_max);
	if (rc == 0)
		rc = xen_xl_copy(x, fd, &bytes, why, why_max);
	CHECK_INT(bytes, rc == 0 ? STREAM_LEN : bytes);
	close(fd);
	free(hdr);
	return rc;
}

static void
test_receive_and_go(void)
{
	struct xen_xl	 x;
	char		 why[XEN_XL_WHY_MAX] = "";
	FILE		*f;
	long		 size;

	CHECK_INT(feed(&x, "ok", why, sizeof(why)), 0);
	CHECK_INT(xen_xl_await_ready(&x, 10000, -1, why, sizeof(why)), 0);
	CHECK_INT(xen_xl_go(&x, 10000, why, sizeof(why)), 0);
	CHECK_INT(x.pid, -1);		/* reaped */
	CHECK(WIFEXITED(x.status) && WEXITSTATUS(x.status) == 0);
	/* What xl received: header, config, and every byte of the stream. */
	f = fopen(out_path, "rb");
	CHECK(f != NULL);
	if (f != NULL) {
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		CHECK_INT(size, 48 + 4 + (long)sizeof(json) + STREAM_LEN);
		fclose(f);
	}
	xen_xl_close(&x);
}

static void
test_xl_fails_before_ready(void)
{
	struct xen_xl	x;
	char		why[XEN_XL_WHY_MAX] = "";

	CHECK_INT(feed(&x, "die", why, sizeof(why)), 0);
	CHECK_INT(xen_xl_await_ready(&x, 10000, -1, why, sizeof(why)), -1);
	/* The reason names xl's exit and quotes its last line. */
	CHECK(strstr(why, "exited 3") != NULL);
	CHECK(strstr(why, "fake restore failure") != NULL);
	xen_xl_close(&x);
}

static void
test_xl_refuses_after_go(void)
{
	struct xen_xl	x;
	char		why[XEN_XL_WHY_MAX] = "";

	CHECK_INT(feed(&x, "refuse", why, sizeof(why)), 0);
	CHECK_INT(xen_xl_await_ready(&x, 10000, -1, why, sizeof(why)), 0);
	CHECK_INT(xen_xl_go(&x, 10000, why, sizeof(why)), -1);
	CHECK(strstr(why, "could not start the guest") != NULL);
	xen_xl_close(&x);
}

static void
test_no_go_abandons(void)
{
	struct xen_xl	x;
	char		why[XEN_XL_WHY_MAX] = "", words[160];

	CHECK_INT(feed(&x, "ok", why, sizeof(why)), 0);
	CHECK_INT(xen_xl_await_ready(&x, 10000, -1, why, sizeof(why)), 0);
	xen_xl_abandon(&x, 10000);
	CHECK_INT(x.pid, -1);
	CHECK(WIFEXITED(x.status) && WEXITSTATUS(x.status) == 1);
	xen_xl_last_words(&x, words, sizeof(words));
	CHECK(strstr(words, "no GO, destroying our copy") != NULL);
	xen_xl_close(&x);
}

/*
 * A source that aborts mid-stream leaves xl waiting for the rest: the
 * worker's command socket turning readable must end the wait, well
 * before the restore timeout, and closing xl's stdin then ends xl.
 */
static void
test_abort_while_xl_waits(void)
{
	struct xen_xl	x;
	char		why[XEN_XL_WHY_MAX] = "", words[160];
	int		cancel[2];

	CHECK_INT(pipe(cancel), 0);
	CHECK_INT(feed(&x, "starve", why, sizeof(why)), 0);
	CHECK_INT(write(cancel[1], "x", 1), 1);
	CHECK_INT(xen_xl_await_ready(&x, 10 * 60 * 1000, cancel[0], why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "aborted before xl had the whole stream") != NULL);
	CHECK(x.pid != -1);		/* xl is still waiting for bytes */
	xen_xl_abandon(&x, 10000);
	CHECK_INT(x.pid, -1);
	xen_xl_last_words(&x, words, sizeof(words));
	CHECK(strstr(words, "stream ended early") != NULL);
	xen_xl_close(&x);
	close(cancel[0]);
	close(cancel[1]);
}

static void
test_missing_xl(void)
{
	struct xen_xl	x;
	char		why[XEN_XL_WHY_MAX] = "";

	xen_xl_init(&x);
	CHECK_INT(xen_xl_start(&x, "/nonexistent/xl", args, 10000, why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "did not start") != NULL);
	CHECK(strstr(why, "exited 127") != NULL);
	xen_xl_close(&x);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_receive_and_go),
		UNIT_TEST(test_xl_fails_before_ready),
		UNIT_TEST(test_xl_refuses_after_go),
		UNIT_TEST(test_no_go_abandons),
		UNIT_TEST(test_abort_while_xl_waits),
		UNIT_TEST(test_missing_xl),
	};
	int	fd, rc;

	signal(SIGPIPE, SIG_IGN);
	if ((fd = mkstemp(out_path)) != -1)
		close(fd);
	rc = unit_run("xen_xl", tests, sizeof(tests) / sizeof(tests[0]));
	unlink(out_path);
	return rc;
}
