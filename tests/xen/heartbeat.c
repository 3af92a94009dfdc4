/* SPDX-License-Identifier: ISC */
/*
 * heartbeat: the whole userspace of the harness's test guests.  It runs as
 * /init in a diskless PV or PVH domU and prints, every 20 ms, one line to
 * the Xen console:
 *
 *	HB <name> <boot> <counter> <mono_ms> <boot_ms>
 *
 * name is hbname= from the kernel command line, the period hbms= (20 by
 * default); boot is the first 8
 * characters of the kernel's random boot_id, so a rebooted guest cannot
 * pass for the old one; counter goes up by one per line and lives only in
 * guest memory, so a destination that continues it proves the memory and
 * vCPU state moved and the guest kept running.
 *
 * The two timestamps are informational.  On Xen, CLOCK_MONOTONIC follows
 * Xen system time, which differs between hosts, and Linux's timekeeping
 * resume keeps it from jumping: the time spent suspended is not in it.
 * CLOCK_BOOTTIME adds the suspended time as measured by the Xen wall clock,
 * and two hosts' wall clocks may differ by up to a second.  So the harness
 * measures downtime host-side instead (see xenvm.py), and these stamps
 * are kept only for post-mortems.
 *
 * Run as /sbin/poweroff (a symlink to /init), it powers the guest off
 * instead: that is the program Linux's orderly_poweroff() starts when the
 * toolstack asks the guest to shut down (xl shutdown writes "poweroff" to
 * control/shutdown), and without it the guest ignores the request.
 * First it has hbwork.c's disk part stop and unmount the guest's ext4
 * (hbwork_stop), so that the image is clean for the harness's fsck.
 *
 * With hbnet=, hbdisk= or hbdirty= on the command line it also starts
 * hbwork.c's network echo, disk record log and memory dirtier.  For a
 * test outside Xen, "heartbeat --local 'ARGS'" runs as a normal process
 * with ARGS as its command line, printing to stdout, and "heartbeat
 * --local-stop 'ARGS'" is its poweroff without the power-off: it stops
 * the disk part and exits 0 if nothing is left mounted read-write.
 *
 * Trust: none needed, it only reads /proc and writes the console (hbwork.c
 * says what its parts trust).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hbwork.h"

#define PERIOD_MS	20	/* default period: the downtime resolution */
#define PERIOD_MS_MAX	10000
#define NAME_MAX_LEN	32

static long long
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Read a small file into buf, NUL-terminated; returns 0 or -1. */
static int
read_small(const char *path, char *buf, size_t len)
{
	ssize_t r;
	int fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

/* The value of KEY (e.g. "hbname=") on the kernel command line, or NULL. */
static const char *
cmdline_arg(const char *cmdline, const char *key, size_t *len_r)
{
	const char *p;

	if ((p = strstr(cmdline, key)) == NULL)
		return NULL;
	p += strlen(key);
	*len_r = strcspn(p, " \t\n");
	return p;
}

/* hbname= (or "guest") and hbms= (or PERIOD_MS) from the command line. */
static void
guest_args(const char *cmdline, char *name, size_t len,
    long long *period_ns_r)
{
	char num[16];
	const char *p;
	long ms = PERIOD_MS;
	size_t n;

	snprintf(name, len, "guest");
	*period_ns_r = PERIOD_MS * 1000000LL;
	if ((p = cmdline_arg(cmdline, "hbname=", &n)) != NULL && n > 0 &&
	    n < len) {
		memcpy(name, p, n);
		name[n] = '\0';
	}
	if ((p = cmdline_arg(cmdline, "hbms=", &n)) != NULL && n > 0 &&
	    n < sizeof(num)) {
		memcpy(num, p, n);
		num[n] = '\0';
		ms = strtol(num, NULL, 10);
		if (ms < 1 || ms > PERIOD_MS_MAX)
			ms = PERIOD_MS;
	}
	*period_ns_r = ms * 1000000LL;
}

/* The console: /dev/hvc0 when devtmpfs is up, else what the kernel gave. */
static int
open_console(void)
{
	int fd;

	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if ((fd = open("/dev/hvc0", O_WRONLY | O_NOCTTY)) == -1)
		fd = STDOUT_FILENO;
	return fd;
}

/* write(2) the whole line, riding out EINTR and short writes. */
static void
put_line(int fd, const char *buf, size_t len)
{
	ssize_t r;

	while (len > 0) {
		r = write(fd, buf, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		buf += r;
		len -= (size_t)r;
	}
}

/*
 * As /sbin/poweroff, in init's mount namespace (/proc and /dev are up):
 * the disk part stopped and its file system unmounted first, then the
 * power.  A failed stop is said on the console and powers off anyway:
 * the harness's fsck and journal check will say what it left.
 */
static int
power_off(void)
{
	char cmdline[4096], name[NAME_MAX_LEN];
	long long period;
	int fd;

	if (read_small("/proc/cmdline", cmdline, sizeof(cmdline)) == -1)
		cmdline[0] = '\0';
	guest_args(cmdline, name, sizeof(name), &period);
	if ((fd = open("/dev/hvc0", O_WRONLY | O_NOCTTY)) == -1)
		fd = STDOUT_FILENO;
	hbwork_stop(cmdline, name, fd);
	sync();
	reboot(RB_POWER_OFF);
	return 1;		/* only if the kernel refused */
}

int
main(int argc, char **argv)
{
	char name[NAME_MAX_LEN], boot[64], line[160], cmdline[4096];
	struct timespec next;
	long long mono, due, period;
	unsigned long long counter = 0;
	const char *self;
	int fd, n, local;

	self = argc > 0 && argv[0] != NULL ? argv[0] : "";
	if (strrchr(self, '/') != NULL)
		self = strrchr(self, '/') + 1;
	if (strcmp(self, "poweroff") == 0)
		return power_off();

	if (argc == 3 && strcmp(argv[1], "--local-stop") == 0) {
		guest_args(argv[2], name, sizeof(name), &period);
		return hbwork_stop(argv[2], name, STDOUT_FILENO) == 0 ? 0 : 1;
	}
	local = argc == 3 && strcmp(argv[1], "--local") == 0;
	if (local)
		snprintf(cmdline, sizeof(cmdline), "%s", argv[2]);
	else {
		mkdir("/proc", 0555);
		mount("proc", "/proc", "proc", 0, NULL);
		if (read_small("/proc/cmdline", cmdline, sizeof(cmdline)) == -1)
			cmdline[0] = '\0';
	}
	guest_args(cmdline, name, sizeof(name), &period);
	if (read_small("/proc/sys/kernel/random/boot_id", boot,
	    sizeof(boot)) == -1 || strlen(boot) < 8)
		snprintf(boot, sizeof(boot), "00000000");
	boot[8] = '\0';
	fd = local ? STDOUT_FILENO : open_console();
	hbwork_start(cmdline, name, boot, fd, local);

	due = now_ns(CLOCK_MONOTONIC);
	for (;;) {
		mono = now_ns(CLOCK_MONOTONIC);
		n = snprintf(line, sizeof(line), "HB %s %s %llu %lld %lld\n",
		    name, boot, counter++, mono / 1000000,
		    now_ns(CLOCK_BOOTTIME) / 1000000);
		if (n > 0 && (size_t)n < sizeof(line))
			put_line(fd, line, (size_t)n);
		/*
		 * Absolute deadlines keep the period from drifting.  If we
		 * fell more than a period behind (a slow console, or a clock
		 * step after resume), restart the schedule instead of
		 * printing a burst that would hide the stall.
		 */
		due += period;
		if (due < now_ns(CLOCK_MONOTONIC) - period)
			due = now_ns(CLOCK_MONOTONIC) + period;
		next.tv_sec = due / 1000000000LL;
		next.tv_nsec = due % 1000000000LL;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) == EINTR)
			;
	}
	/* NOTREACHED: init must never exit */
}
