// SPDX-License-Identifier: ISC
/*
 * Unit tests for util.c's write-all and read-all loops and monotonic
 * clock: every process writes its pipes and sockets through
 * util_write_all, so a short write, EINTR, EAGAIN or a vanished reader
 * must each come out right; the sim stream reads through
 * util_readv_all, so must a short read; and every deadline reads
 * util_now_us.  And for util.h's string
 * copies: STRLCPY_ARRAY between arrays the compiler proves large
 * enough, and util_text_copy, which cuts text for people visibly and
 * never inside a UTF-8 character.
 */
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "trickle.h"
#include "unit.h"
#include "util.h"

/* Linux's smallest pipe: one page, so a large write is cut short. */
#define SMALL_PIPE	4096
/* Larger than any pipe here, so it takes many writes. */
#define BIG_WRITE	(1024 * 1024)

struct reader {
	int		 fd;
	unsigned	 delay_ms;	/* before the first read */
	size_t		 chunk;		/* bytes per read(2) */
	pthread_t	 signal_to;	/* interrupt this thread once, or not */
	int		 signal;
	unsigned char	*got;
	size_t		 len;		/* read until EOF, at most this */
	size_t		 n;
};

static void
sleep_ms(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void *
reader_run(void *arg)
{
	struct reader	*r = arg;
	ssize_t		 got;

	if (r->signal != 0) {
		sleep_ms(r->delay_ms / 2);
		pthread_kill(r->signal_to, r->signal);
	}
	sleep_ms(r->delay_ms);
	while (r->n < r->len) {
		got = read(r->fd, r->got + r->n, r->chunk < r->len - r->n ?
		    r->chunk : r->len - r->n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		r->n += (size_t)got;
	}
	return NULL;
}

static void
pattern(unsigned char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + i / 251);
}

/* A pipe of SMALL_PIPE bytes; the write end non-blocking if asked. */
static int
small_pipe(int fds[2], int nonblock)
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	if (fcntl(fds[1], F_SETPIPE_SZ, SMALL_PIPE) == -1 ||
	    (nonblock && proc_set_nonblock(fds[1]) == -1)) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

/* Fills a non-blocking pipe until the kernel says it is full. */
static size_t
fill(int fd)
{
	static const char	zeros[512];
	size_t			n = 0;
	ssize_t			w;

	while ((w = write(fd, zeros, sizeof(zeros))) > 0)
		n += (size_t)w;
	return n;
}

/*
 * BIG_WRITE as uneven parts, with empty ones among them, so that short
 * writes end inside parts and on their edges.
 */
static int
write_parts(int fd, unsigned char *buf, int idle_ms)
{
	static const size_t	 sizes[] = { 1, 0, 4095, 70000, 0, 3, 500000 };
	struct iovec		 iov[8];
	size_t			 off = 0;
	int			 n;

	for (n = 0; n < 7; off += sizes[n], n++) {
		iov[n].iov_base = buf + off;
		iov[n].iov_len = sizes[n];
	}
	iov[n].iov_base = buf + off;
	iov[n++].iov_len = BIG_WRITE - off;
	return idle_ms < 0 ? util_writev_all(fd, iov, n) :
	    util_writev_all_idle(fd, iov, n, idle_ms);
}

/*
 * Writes BIG_WRITE through a small pipe to a reader taking odd-sized
 * bites: on a non-blocking fd every write is cut short and most meet
 * EAGAIN; the bytes must all arrive, once each, in order.
 */
static void
write_through_small_pipe(int nonblock, int idle_ms, int vector)
{
	struct reader	 r = { .chunk = 1000 };
	unsigned char	*buf, *got;
	pthread_t	 t;
	int		 fds[2];

	buf = malloc(BIG_WRITE);
	got = calloc(1, BIG_WRITE);
	CHECK(buf != NULL && got != NULL);
	if (buf == NULL || got == NULL || small_pipe(fds, nonblock) == -1) {
		CHECK(0);
		goto out;
	}
	pattern(buf, BIG_WRITE);
	r.fd = fds[0];
	r.got = got;
	r.len = BIG_WRITE;
	CHECK_INT(pthread_create(&t, NULL, reader_run, &r), 0);
	if (vector)
		CHECK_INT(write_parts(fds[1], buf, idle_ms), 0);
	else
		CHECK_INT(idle_ms < 0 ? util_write_all(fds[1], buf, BIG_WRITE) :
		    util_write_all_idle(fds[1], buf, BIG_WRITE, idle_ms), 0);
	close(fds[1]);
	pthread_join(t, NULL);
	close(fds[0]);
	CHECK_INT(r.n, BIG_WRITE);
	CHECK(memcmp(buf, got, BIG_WRITE) == 0);
out:
	free(buf);
	free(got);
}

static void
test_write_all_short_writes(void)
{
	write_through_small_pipe(1, -1, 0);
	write_through_small_pipe(1, 5000, 0);
	write_through_small_pipe(0, -1, 0);
	write_through_small_pipe(0, 5000, 0);
}

static void
test_writev_all_short_writes(void)
{
	struct iovec	iov[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };

	write_through_small_pipe(1, -1, 1);
	write_through_small_pipe(1, 5000, 1);
	write_through_small_pipe(0, -1, 1);
	/* Only empty parts: nothing to do, not even a bad fd's error. */
	CHECK_INT(util_writev_all(-1, iov, 3), 0);
}

/*
 * Fills a small pipe, then writes len bytes more (blocking, or not)
 * while a reader drains it after 100 ms, interrupting us first with sig
 * when it is not 0; all of them must arrive, after what was there.
 */
static void
write_to_full_pipe(size_t len, int blocking, int sig)
{
	unsigned char	*buf, *got = NULL;
	struct reader	 r = { .delay_ms = 100, .chunk = SMALL_PIPE };
	pthread_t	 t;
	size_t		 full;
	int		 fds[2], fl;

	if ((buf = malloc(len)) == NULL || small_pipe(fds, 1) == -1) {
		CHECK(0);
		free(buf);
		return;
	}
	full = fill(fds[1]);
	CHECK(full >= SMALL_PIPE);
	fl = fcntl(fds[1], F_GETFL);
	CHECK(!blocking ||
	    (fl != -1 && fcntl(fds[1], F_SETFL, fl & ~O_NONBLOCK) == 0));
	pattern(buf, len);
	CHECK((got = calloc(1, full + len)) != NULL);
	r.fd = fds[0];
	r.got = got;
	r.len = full + len;
	r.signal_to = pthread_self();
	r.signal = sig;
	CHECK_INT(pthread_create(&t, NULL, reader_run, &r), 0);
	CHECK_INT(util_write_all(fds[1], buf, len), 0);
	close(fds[1]);
	pthread_join(t, NULL);
	close(fds[0]);
	CHECK_INT(r.n, full + len);
	CHECK(got != NULL && memcmp(got + full, buf, len) == 0);
	free(got);
	free(buf);
}

/* A full non-blocking pipe: wait (poll) until the reader makes room. */
static void
test_write_all_waits_on_eagain(void)
{
	write_to_full_pipe(3 * SMALL_PIPE, 0, 0);
}

static void
on_signal(int sig)
{
	(void)sig;
}

/*
 * A signal (no SA_RESTART) while write(2) blocks on a full pipe: the
 * write fails with EINTR, having written nothing, and is tried again.
 */
static void
test_write_all_retries_eintr(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	CHECK_INT(sigaction(SIGUSR1, &sa, NULL), 0);
	write_to_full_pipe(2 * SMALL_PIPE, 1, SIGUSR1);
	signal(SIGUSR1, SIG_DFL);
}

/* Nobody reads a full pipe: the idle bound ends the wait, ETIMEDOUT. */
static void
test_write_all_idle_times_out(void)
{
	char		buf[100] = "x";
	uint64_t	t0, took;
	int		fds[2];

	if (small_pipe(fds, 1) == -1) {
		CHECK(0);
		return;
	}
	fill(fds[1]);
	t0 = util_now_ms();
	errno = 0;
	CHECK_INT(util_write_all_idle(fds[1], buf, sizeof(buf), 150), -1);
	CHECK_INT(errno, ETIMEDOUT);
	took = util_now_ms() - t0;
	CHECK(took >= 150 && took < 5000);
	/* A bound of 0 asks once and does not wait at all. */
	errno = 0;
	CHECK_INT(util_write_all_idle(fds[1], buf, sizeof(buf), 0), -1);
	CHECK_INT(errno, ETIMEDOUT);
	close(fds[0]);
	close(fds[1]);
}

/* The reader has gone: -1 with EPIPE, never a loop or a success. */
static void
test_write_all_closed_reader(void)
{
	char	buf[BIG_WRITE / 16];
	int	fds[2];

	memset(buf, 'y', sizeof(buf));
	signal(SIGPIPE, SIG_IGN);
	if (small_pipe(fds, 0) == -1) {
		CHECK(0);
		return;
	}
	close(fds[0]);
	errno = 0;
	CHECK_INT(util_write_all(fds[1], buf, sizeof(buf)), -1);
	CHECK_INT(errno, EPIPE);
	errno = 0;
	CHECK_INT(util_write_all_idle(fds[1], buf, sizeof(buf), 1000), -1);
	CHECK_INT(errno, EPIPE);
	close(fds[1]);
	/* A closed descriptor is an error too, not a success. */
	errno = 0;
	CHECK_INT(util_write_all(fds[1], buf, 1), -1);
	CHECK_INT(errno, EBADF);
}

/* Nothing to write: success at once, no system call, no byte. */
static void
test_write_all_zero_length(void)
{
	char	c;
	int	fds[2];

	CHECK_INT(util_write_all(-1, "", 0), 0);
	CHECK_INT(util_write_all_idle(-1, "", 0, 0), 0);
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		CHECK(0);
		return;
	}
	CHECK_INT(util_write_all(fds[1], "z", 0), 0);
	CHECK_INT(read(fds[0], &c, 1), -1);
	CHECK_INT(errno, EAGAIN);
	close(fds[0]);
	close(fds[1]);
}

/*
 * The read-all loop: odd-sized parts filled in order across short
 * reads, and the end of the file as a short count, not an error.
 */
static void
test_readv_all_short_reads(void)
{
	static uint8_t	src[3 * 4096 + 17], dst[sizeof(src) + 5];
	struct iovec	iov[3];
	struct trickle	t;
	pthread_t	th;
	size_t		i, got = 0;
	int		fds[2];

	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 31 + 7);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		CHECK(0);
		return;
	}
	(void)fcntl(fds[1], F_SETPIPE_SZ, SMALL_PIPE);
	t.fd = fds[1];
	t.buf = src;
	t.len = sizeof(src);
	CHECK(pthread_create(&th, NULL, trickle_run, &t) == 0);
	memset(dst, 0, sizeof(dst));
	iov[0] = (struct iovec){ dst, 5000 };
	iov[1] = (struct iovec){ dst + 5000, 3 };
	iov[2] = (struct iovec){ dst + 5003, sizeof(dst) - 5003 };
	CHECK_INT(util_readv_all(fds[0], iov, 3, &got), 0);
	CHECK_INT(got, sizeof(src));
	CHECK(memcmp(dst, src, sizeof(src)) == 0);
	close(fds[0]);
	pthread_join(th, NULL);
}

/* The one monotonic clock: never backwards, units that agree. */
static void
test_now_monotonic(void)
{
	uint64_t	us0, ms0, us1, ms1, prev, now;
	int		i;

	us0 = util_now_us();
	ms0 = util_now_ms();
	CHECK(ms0 >= us0 / 1000 && ms0 - us0 / 1000 < 1000);
	sleep_ms(50);
	us1 = util_now_us();
	ms1 = util_now_ms();
	CHECK(us1 - us0 >= 50 * 1000);
	CHECK(ms1 - ms0 >= 49 && ms1 - ms0 < 5000);
	for (i = 0, prev = util_now_us(); i < 10000; i++, prev = now)
		CHECK((now = util_now_us()) >= prev);
}

static void
test_array_copy_whole(void)
{
	char	src[8] = "abcdefg", same[8], larger[32];

	STRLCPY_ARRAY(same, src);
	CHECK_STR(same, "abcdefg");
	STRLCPY_ARRAY(larger, src);
	CHECK_STR(larger, "abcdefg");
	STRLCPY_ARRAY(larger, "a literal");
	CHECK_STR(larger, "a literal");
}

static void
test_text_that_fits_is_unchanged(void)
{
	char	buf[8];

	util_text_copy(buf, "seven!!", sizeof(buf));
	CHECK_STR(buf, "seven!!");
	util_text_copy(buf, "", sizeof(buf));
	CHECK_STR(buf, "");
}

static void
test_cut_text_ends_in_dots(void)
{
	char	buf[8];

	util_text_copy(buf, "eight!!!", sizeof(buf));
	CHECK_STR(buf, "eigh...");
	util_text_copy(buf, "a much longer sentence", sizeof(buf));
	CHECK_STR(buf, "a mu...");
}

static void
test_cut_keeps_utf8_whole(void)
{
	char	buf[8];

	/* "ab" then e-acute (2 bytes) then "cdef": the cut falls inside é. */
	util_text_copy(buf, "ab\xc3\xa9" "cdef", sizeof(buf));
	CHECK_STR(buf, "ab\xc3\xa9...");
	util_text_copy(buf, "abc\xc3\xa9" "def", sizeof(buf));
	CHECK_STR(buf, "abc...");
	/* A 4-byte character straddling the cut goes entirely. */
	util_text_copy(buf, "a\xf0\x9f\x99\x82" "bcdef", sizeof(buf));
	CHECK_STR(buf, "a...");
}

static void
test_tiny_buffers(void)
{
	char	buf[4];

	util_text_copy(buf, "abcd", sizeof(buf));
	CHECK_STR(buf, "...");
	util_text_copy(buf, "abcd", 3);
	CHECK_STR(buf, "ab");
	util_text_copy(buf, "abcd", 1);
	CHECK_STR(buf, "");
}

UNIT_MAIN("util",
    UNIT_TEST(test_write_all_short_writes),
    UNIT_TEST(test_writev_all_short_writes),
    UNIT_TEST(test_write_all_waits_on_eagain),
    UNIT_TEST(test_write_all_retries_eintr),
    UNIT_TEST(test_write_all_idle_times_out),
    UNIT_TEST(test_write_all_closed_reader),
    UNIT_TEST(test_write_all_zero_length),
    UNIT_TEST(test_readv_all_short_reads),
    UNIT_TEST(test_now_monotonic),
    UNIT_TEST(test_array_copy_whole),
    UNIT_TEST(test_text_that_fits_is_unchanged),
    UNIT_TEST(test_cut_text_ends_in_dots),
    UNIT_TEST(test_cut_keeps_utf8_whole),
    UNIT_TEST(test_tiny_buffers))
