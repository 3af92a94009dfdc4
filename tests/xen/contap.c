/* SPDX-License-Identifier: ISC */
/*
 * contap: runs in each test dom0 and copies every new line of the guest
 * console logs that xenconsoled writes (DIR/guest-*.log) to an output
 * device, prefixed with "G <logname> ".  The harness points it at a
 * virtio-serial port, so the host receives the guests' heartbeats on a
 * channel of its own and stamps each line with the *host's* monotonic
 * clock.  Both VMs feed the same host clock, which is what makes a
 * downtime measured across two hosts meaningful.
 *
 * inotify wakes it on every xenconsoled write, so a line leaves dom0 as
 * soon as xenconsoled has logged it; a 200 ms poll backs inotify up.
 *
 * Trust: the log contents come from guests and are only copied, in bounded
 * lines; nothing is interpreted.
 *
 * usage: contap DIR OUTPUT
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES_MAX	64
#define LINE_MAX_LEN	512	/* longer guest lines are cut, not merged */
#define POLL_MS		200

struct tap {
	char	name[NAME_MAX + 1];
	int	fd;
	ino_t	ino;
	off_t	off;
	char	buf[LINE_MAX_LEN];
	size_t	len;
};

static struct tap taps[FILES_MAX];
static int ntaps;
static int out_fd = -1;

/* Write one prefixed line with a single write(2), so lines never mix. */
static void
emit(const struct tap *t, const char *line, size_t len)
{
	char msg[LINE_MAX_LEN + NAME_MAX + 8];
	int n;

	n = snprintf(msg, sizeof(msg), "G %s %.*s\n", t->name, (int)len, line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (write(out_fd, msg, (size_t)n) == -1 && errno != EINTR) {
		perror("contap: write");
		exit(1);
	}
}

/* Split new bytes into lines; carriage returns are dropped. */
static void
feed(struct tap *t, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			continue;
		if (p[i] == '\n' || t->len == sizeof(t->buf)) {
			emit(t, t->buf, t->len);
			t->len = 0;
			if (p[i] == '\n')
				continue;
		}
		t->buf[t->len++] = p[i];
	}
}

/* Read whatever the file has gained since last time. */
static void
drain(struct tap *t, const char *dir)
{
	char path[PATH_MAX], chunk[8192];
	struct stat st;
	ssize_t r;

	r = snprintf(path, sizeof(path), "%s/%s", dir, t->name);
	if (r < 0 || (size_t)r >= sizeof(path) || stat(path, &st) == -1)
		return;
	/* A new file under the old name, or a truncated one: start over. */
	if (t->fd == -1 || st.st_ino != t->ino || st.st_size < t->off) {
		if (t->fd != -1)
			close(t->fd);
		if ((t->fd = open(path, O_RDONLY)) == -1)
			return;
		t->ino = st.st_ino;
		t->off = 0;
		t->len = 0;
	}
	while ((r = pread(t->fd, chunk, sizeof(chunk), t->off)) > 0) {
		feed(t, chunk, (size_t)r);
		t->off += r;
	}
}

static struct tap *
tap_get(const char *name)
{
	int i;

	for (i = 0; i < ntaps; i++)
		if (strcmp(taps[i].name, name) == 0)
			return &taps[i];
	if (ntaps == FILES_MAX || strlen(name) > NAME_MAX)
		return NULL;
	memset(&taps[ntaps], 0, sizeof(taps[ntaps]));
	snprintf(taps[ntaps].name, sizeof(taps[ntaps].name), "%s", name);
	taps[ntaps].fd = -1;
	return &taps[ntaps++];
}

static int
is_guest_log(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, "guest-", 6) == 0 && n > 4 &&
	    strcmp(name + n - 4, ".log") == 0;
}

/* Pick up new log files and drain every file we know. */
static void
scan(const char *dir)
{
	struct dirent *de;
	struct tap *t;
	DIR *d;
	int i;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (is_guest_log(de->d_name))
				tap_get(de->d_name);
		closedir(d);
	}
	for (i = 0; i < ntaps; i++) {
		t = &taps[i];
		drain(t, dir);
	}
}

/*
 * Drain the files the pending events name.  Syscalls are dear in a PV
 * dom0 under TCG, so a heartbeat line costs one event, one stat and two
 * preads here; a directory scan happens only when a file appears (returns
 * true then) and on the poll timeout.
 */
static int
events(int ifd, const char *dir, char *buf, size_t len)
{
	const struct inotify_event *ev;
	struct tap *t;
	ssize_t r, off;
	int rescan = 0;

	while ((r = read(ifd, buf, len)) > 0) {
		for (off = 0; off < r; off += (ssize_t)sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(const void *)(buf + off);
			if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_Q_OVERFLOW))
				rescan = 1;
			else if (ev->len > 0 && is_guest_log(ev->name) &&
			    (t = tap_get(ev->name)) != NULL)
				drain(t, dir);
		}
	}
	return rescan;
}

int
main(int argc, char *argv[])
{
	char evbuf[4096] __attribute__((aligned(8)));
	struct pollfd pfd;
	int ifd;

	if (argc != 3) {
		fprintf(stderr, "usage: contap DIR OUTPUT\n");
		return 2;
	}
	if ((out_fd = open(argv[2], O_WRONLY | O_NOCTTY)) == -1) {
		perror(argv[2]);
		return 1;
	}
	if ((ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(ifd, argv[1], IN_MODIFY | IN_CREATE |
	    IN_MOVED_TO) == -1) {
		perror("contap: inotify");
		return 1;
	}
	pfd.fd = ifd;
	pfd.events = POLLIN;
	scan(argv[1]);
	for (;;) {
		if (poll(&pfd, 1, POLL_MS) <= 0) {
			scan(argv[1]);
			continue;
		}
		if (events(ifd, argv[1], evbuf, sizeof(evbuf)))
			scan(argv[1]);
	}
}
