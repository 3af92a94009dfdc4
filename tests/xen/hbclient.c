/* SPDX-License-Identifier: ISC */
/*
 * hbclient: the harness's view of a test guest's network and disk, run in
 * a dom0 (built static, like contap).
 *
 *   hbclient run IP PORT OUT
 *	Holds one TCP connection to the guest's echo port for its whole
 *	life (it never reconnects: a broken connection stays broken), sends
 *	a line on it every 100 ms and a UDP ping every 10 ms.  Each SIGUSR1
 *	closes a window: one line appended to OUT,
 *	  W <n> sent <udp> recv <udp> maxgap_ms <ms> tcp <ok|lost>
 *	    tcp_echoed <bytes> tcp_age_ms <ms> lport <port>
 *	    disk <records> disk_err <n>
 *	where maxgap_ms is the longest time without any UDP echo in the
 *	window (a gap still open at its end counts up to the end, and the
 *	next window sees it whole), tcp_age_ms the time since the last
 *	TCP echo, and disk and disk_err the highest figures the guest's
 *	UDP replies have carried so far (hbwork.c: records made durable,
 *	failed writes; -1 while none said).  "W 0 ..." once connected;
 *	OUT.pid holds the pid.
 *
 *   hbclient check LOG [BOOT]
 *	Reads the guest's disk record log (hbrec.h; the file copied out of
 *	its image after it shut down) and prints
 *	  records <n> last <seq> lost <n> dup <n> order <n> foreign <n>
 *	exiting 0 only if the log is continuous: no slot before the last
 *	valid record is empty or torn, no sequence number appears twice, no
 *	record sits in another's slot, and every record is from BOOT (or
 *	from the boot that wrote record 0).  Holes are skipped with
 *	SEEK_DATA, so a large sparse file (or a raw image) reads fast.
 *
 * Trust: the guest's echoes are only counted, the disk figures in its
 * replies parsed as two bounded numbers, and the log's fields only
 * compared; nothing from either is printed but numbers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hbrec.h"

#define UDP_MS		10	/* ping period */
#define TCP_MS		100	/* TCP line period */
#define CONNECT_S	600	/* the guest may still be booting (HVM) */

static volatile sig_atomic_t window_due;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_usr1(int sig)
{
	(void)sig;
	window_due = 1;
}

struct win {
	long long	sent, recv, maxgap, echoed;
};

/* The guest's disk figures, the highest any reply carried (-1: none). */
struct disk {
	long long	records, errors;
};

/* " disk RECORDS ERRORS" at the end of a UDP reply of len bytes. */
static void
disk_figures(char *buf, ssize_t len, struct disk *d)
{
	long long rec, err;
	char *p;

	buf[len] = '\0';
	if ((p = strstr(buf, " disk ")) == NULL ||
	    sscanf(p, " disk %lld %lld", &rec, &err) != 2 ||
	    rec < -1 || err < 0)
		return;
	/* Replies may come out of order; both figures only grow. */
	if (rec > d->records)
		d->records = rec;
	if (err > d->errors)
		d->errors = err;
}

static int
connect_guest(const struct sockaddr_in *sin)
{
	long long end = now_ms() + CONNECT_S * 1000LL;
	int s, one = 1;

	while (now_ms() < end) {
		if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		if (connect(s, (const struct sockaddr *)sin,
		    sizeof(*sin)) == 0) {
			setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			return s;
		}
		close(s);
		sleep(1);
	}
	return -1;
}

static void
window_write(FILE *out, int n, const struct win *w, int tcp_ok,
    long long age, int lport, const struct disk *d)
{
	fprintf(out, "W %d sent %lld recv %lld maxgap_ms %lld tcp %s "
	    "tcp_echoed %lld tcp_age_ms %lld lport %d disk %lld disk_err "
	    "%lld\n", n, w->sent, w->recv, w->maxgap, tcp_ok ? "ok" : "lost",
	    w->echoed, age, lport, d->records, d->errors);
	fflush(out);
}

static int
run(const char *ip, const char *port, const char *path)
{
	struct sockaddr_in sin, me;
	socklen_t mlen = sizeof(me);
	struct pollfd pfd[2];
	struct win w = { 0 };
	struct disk dk = { -1, -1 };
	struct sigaction sa;
	char buf[2048], pidpath[512];
	long long t, next_udp, next_tcp, last_rx, last_echo, seq = 0;
	int tcp, udp, tcp_ok = 1, nwin = 0;
	FILE *out, *pf;
	ssize_t r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
		fprintf(stderr, "hbclient: bad address %s\n", ip);
		return 2;
	}
	if ((out = fopen(path, "a")) == NULL) {
		fprintf(stderr, "hbclient: %s: %s\n", path, strerror(errno));
		return 1;
	}
	snprintf(pidpath, sizeof(pidpath), "%s.pid", path);
	if ((pf = fopen(pidpath, "w")) != NULL) {
		fprintf(pf, "%d\n", (int)getpid());
		fclose(pf);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	if ((tcp = connect_guest(&sin)) == -1 ||
	    (udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(udp, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		fprintf(out, "E cannot reach %s port %s: %s\n", ip, port,
		    strerror(errno));
		fclose(out);
		return 1;
	}
	getsockname(tcp, (struct sockaddr *)&me, &mlen);
	pfd[0].fd = udp;
	pfd[1].fd = tcp;
	pfd[0].events = pfd[1].events = POLLIN;
	last_rx = last_echo = next_udp = next_tcp = now_ms();
	window_write(out, nwin++, &w, tcp_ok, 0, ntohs(me.sin_port), &dk);
	for (;;) {
		t = now_ms();
		if (t >= next_udp) {
			r = snprintf(buf, sizeof(buf), "U %lld %lld", seq++, t);
			if (send(udp, buf, (size_t)r, MSG_DONTWAIT) == r)
				w.sent++;
			next_udp += UDP_MS;
			if (next_udp < t)	/* we were stopped: no burst */
				next_udp = t + UDP_MS;
		}
		if (tcp_ok && t >= next_tcp) {
			r = snprintf(buf, sizeof(buf), "T %lld\n", t);
			/* A full send buffer is backlog, not a broken link. */
			if (send(tcp, buf, (size_t)r, MSG_DONTWAIT |
			    MSG_NOSIGNAL) == -1 && errno != EAGAIN)
				tcp_ok = 0;
			next_tcp = t + TCP_MS;
		}
		if (window_due) {
			window_due = 0;
			if (t - last_rx > w.maxgap)
				w.maxgap = t - last_rx;
			window_write(out, nwin++, &w, tcp_ok, t - last_echo,
			    ntohs(me.sin_port), &dk);
			memset(&w, 0, sizeof(w));
		}
		pfd[1].fd = tcp_ok ? tcp : -1;
		if (poll(pfd, 2, (int)(next_udp - t > 0 ? next_udp - t : 0)) <
		    0)
			continue;
		t = now_ms();
		if (pfd[0].revents & POLLIN) {
			while ((r = recv(udp, buf, sizeof(buf) - 1,
			    MSG_DONTWAIT)) > 0) {
				disk_figures(buf, r, &dk);
				if (t - last_rx > w.maxgap)
					w.maxgap = t - last_rx;
				last_rx = t;
				w.recv++;
			}
		}
		if (pfd[1].revents) {
			r = recv(tcp, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0) {
				w.echoed += r;
				last_echo = t;
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR))
				tcp_ok = 0;	/* never reconnect */
		}
	}
}

static int
check(const char *path, const char *want_boot)
{
	struct hbrec rec;
	char boot[HBREC_BOOT_LEN];
	unsigned char *seen = NULL;
	long long valid = 0, last = -1, dup = 0, order = 0, foreign = 0;
	uint64_t slots, i;
	off_t size, pos, data;
	int fd, have_boot = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (size = lseek(fd, 0, SEEK_END)) == -1) {
		fprintf(stderr, "hbclient: %s: %s\n", path, strerror(errno));
		return 2;
	}
	slots = (uint64_t)size / HBREC_SIZE;
	if ((seen = calloc(slots / 8 + 1, 1)) == NULL)
		return 2;
	if (want_boot != NULL) {
		memset(boot, 0, sizeof(boot));
		memcpy(boot, want_boot, strnlen(want_boot, sizeof(boot)));
		have_boot = 1;
	}
	for (i = 0; i < slots; i++) {
		pos = (off_t)(i * HBREC_SIZE);
		/* Skip the file's holes: slots never written. */
		if ((data = lseek(fd, pos, SEEK_DATA)) == -1)
			break;
		if (data > pos) {
			i = (uint64_t)data / HBREC_SIZE - 1;
			continue;
		}
		if (pread(fd, &rec, sizeof(rec), pos) != (ssize_t)sizeof(rec) ||
		    !hbrec_valid(&rec))
			continue;
		if (!have_boot && i == 0) {
			memcpy(boot, rec.boot, sizeof(boot));
			have_boot = 1;
		}
		valid++;
		last = (long long)i;
		if (!have_boot || memcmp(rec.boot, boot, sizeof(boot)) != 0)
			foreign++;
		if (rec.seq != i)
			order++;
		if (rec.seq < slots) {
			if (seen[rec.seq / 8] & (1u << (rec.seq % 8)))
				dup++;
			seen[rec.seq / 8] |= (unsigned char)(1u << (rec.seq % 8));
		}
	}
	free(seen);
	close(fd);
	/* Every slot up to the last valid record must hold one. */
	printf("records %lld last %lld lost %lld dup %lld order %lld "
	    "foreign %lld\n", valid, last, last + 1 - valid, dup, order,
	    foreign);
	return valid > 0 && last + 1 == valid && dup == 0 && order == 0 &&
	    foreign == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argv[3], argv[4]);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "check") == 0)
		return check(argv[2], argc == 4 ? argv[3] : NULL);
	fprintf(stderr, "usage: hbclient run IP PORT OUT\n"
	    "       hbclient check LOG [BOOT]\n");
	return 2;
}
