/* SPDX-License-Identifier: ISC */
/*
 * hbwork: the test guest's work beside the heartbeat (heartbeat.c starts
 * it), each part only when the kernel command line asks for it:
 *
 *	hbnet=IP/PREFIX[,GW]  eth0 gets this address (ioctls, no tools), and
 *	                      the guest echoes TCP and UDP on port hbport=
 *	                      (7): a TCP connection stays open as long as the
 *	                      client keeps it, which is what proves that a
 *	                      migration kept it; each UDP reply ends in
 *	                      " disk RECORDS ERRORS": the records the disk
 *	                      part has made durable (-1 before its file is
 *	                      open) and its failed writes, mounts or syncs
 *	hbdisk=DEV            mount DEV (ext4, made by the harness) on hbmnt=
 *	                      (/disk) and append a record every 20 ms to
 *	                      HBREC_FILE on it, each durable (fdatasync)
 *	                      before the next: the log hbrec.h describes.
 *	                      hbwork_stop() (the guest's /sbin/poweroff)
 *	                      has it stop, close the file and unmount.
 *	hbdirty=MIBPS,MIB     dirty MIBPS MiB/s of memory, one byte per page,
 *	                      cycling over a working set of MIB MiB, so that
 *	                      a pre-copy has pages to send again
 *
 * Each part is a process of its own, so that a disk write blocked across
 * a suspend never delays an echo (the client measures the network's gap,
 * not the disk's); the disk part's figures reach the echo through a page
 * shared between them, so dom0 learns the log's progress without reading
 * a file system the guest has mounted.  In the guest, the Xen network and
 * block front-ends and ext4 are modules (Debian's kernel), loaded from
 * /lib/modules in the initramfs (NAME.dep lists a module's dependencies
 * in load order, build-images writes it) before the parts start.  Status
 * and errors go to the console as "HBW <name> ..." lines, which the
 * harness reads after a failure.
 *
 * Trust: it serves whoever connects, echoing bytes without parsing them;
 * it runs only in a test guest on the harness's private wire.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hbrec.h"
#include "hbwork.h"

#define WORK_PERIOD_MS	20	/* disk record and dirtying period */
/*
 * For eth0 or the disk: a netfront under TCG can take minutes (the
 * harness waits CLIENT_UP_S for the first echo).
 */
#define WAIT_DEV_S	480
/* hbwork_stop: the disk part's last record, close and unmount. */
#define STOP_S		30
#define UMOUNT_TRIES	20	/* 50 ms apart: a racing sync may hold it */
#define MNT_DEFAULT	"/disk"
#define ECHO_PORT	7
#define CONNS_MAX	16
#define ARG_MAX_LEN	128
#define DISK_FIG_LEN	64	/* " disk RECORDS ERRORS" in a UDP reply */

static const char	*w_name = "guest";
static int		 w_con = STDOUT_FILENO;

/*
 * The disk part's figures, in a page shared with the network part (or
 * this static copy if the mapping failed: the echo then says -1).
 */
struct disk_state {
	long long	records;	/* durable; -1 until the file is open */
	long long	errors;		/* failed mounts, writes, syncs */
};
static struct disk_state	 w_disk0 = { -1, 0 };
static struct disk_state	*w_disk = &w_disk0;
static volatile sig_atomic_t	 w_stop;

static void
say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n, m;

	n = snprintf(line, sizeof(line), "HBW %s ", w_name);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m < (int)sizeof(line) - n - 1 ? m : (int)sizeof(line) - n - 2;
	line[n++] = '\n';
	if (write(w_con, line, (size_t)n) < 0)
		return;		/* the console is all we have */
}

static long long
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sleep until the absolute monotonic deadline *due, then advance it. */
static void
tick(long long *due, long long period)
{
	struct timespec t;

	*due += period;
	if (*due < mono_ns() - period)		/* a stall: no burst */
		*due = mono_ns() + period;
	t.tv_sec = *due / 1000000000LL;
	t.tv_nsec = *due % 1000000000LL;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
	    EINTR)
		;
}

/* KEY's value from the command line into buf; 0, or -1 if absent. */
static int
arg(const char *cmdline, const char *key, char *buf, size_t len)
{
	const char *p = cmdline;
	size_t n, klen = strlen(key);

	while ((p = strstr(p, key)) != NULL) {
		if (p == cmdline || p[-1] == ' ' || p[-1] == '\t')
			break;
		p += klen;
	}
	if (p == NULL)
		return -1;
	p += klen;
	n = strcspn(p, " \t\n");
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

/* Load /lib/modules/NAME.ko (finit_module: no modprobe in the guest). */
static void
load_one(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/lib/modules/%s.ko", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		say("module %s: %s", name, strerror(errno));
		return;
	}
	/* ENODEV: a CPU-specific variant (crc32c-intel) that does not fit. */
	if (syscall(SYS_finit_module, fd, "", 0) == -1 && errno != EEXIST &&
	    errno != ENODEV)
		say("module %s: %s", name, strerror(errno));
	close(fd);
}

/* NAME and what it needs: the names in /lib/modules/NAME.dep, in order. */
static void
load_module(const char *name)
{
	char path[128], line[64];
	FILE *f;

	snprintf(path, sizeof(path), "/lib/modules/%s.dep", name);
	if ((f = fopen(path, "re")) == NULL) {
		load_one(name);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, " \t\n")] = '\0';
		if (line[0] != '\0')
			load_one(line);
	}
	fclose(f);
}

static int
wait_path(const char *path)
{
	int i;

	for (i = 0; i < WAIT_DEV_S * 10; i++) {
		if (access(path, F_OK) == 0) {
			if (i >= 50)
				say("%s appeared after %d s", path, i / 10);
			return 0;
		}
		usleep(100000);
	}
	say("%s did not appear within %d s", path, WAIT_DEV_S);
	return -1;
}

/* ------------------------------------------------------------ network */
static int
if_addr(int s, const char *ifn, unsigned long req, in_addr_t a)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifn);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = a;
	return ioctl(s, req, &ifr);
}

static int
if_up(int s, const char *ifn)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifn);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static int
add_gateway(int s, in_addr_t gw)
{
	struct rtentry rt;
	struct sockaddr_in *sin;

	memset(&rt, 0, sizeof(rt));
	sin = (struct sockaddr_in *)&rt.rt_dst;
	sin->sin_family = AF_INET;
	sin = (struct sockaddr_in *)&rt.rt_genmask;
	sin->sin_family = AF_INET;
	sin = (struct sockaddr_in *)&rt.rt_gateway;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = gw;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	return ioctl(s, SIOCADDRT, &rt);
}

/* "IP/PREFIX[,GW]" on eth0, and lo up. */
static int
net_config(const char *spec)
{
	char buf[ARG_MAX_LEN], *slash, *comma = NULL;
	struct in_addr ip, gw;
	long prefix;
	in_addr_t mask;
	int s, rc = -1;

	snprintf(buf, sizeof(buf), "%s", spec);
	if ((slash = strchr(buf, '/')) == NULL)
		goto bad;
	*slash++ = '\0';
	if ((comma = strchr(slash, ',')) != NULL)
		*comma++ = '\0';
	prefix = strtol(slash, NULL, 10);
	if (inet_pton(AF_INET, buf, &ip) != 1 || prefix < 1 || prefix > 32 ||
	    (comma != NULL && inet_pton(AF_INET, comma, &gw) != 1))
		goto bad;
	mask = htonl(prefix == 32 ? 0xffffffffu :
	    ~(0xffffffffu >> prefix));
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (if_up(s, "lo") == -1 || wait_path("/sys/class/net/eth0") == -1 ||
	    if_addr(s, "eth0", SIOCSIFADDR, ip.s_addr) == -1 ||
	    if_addr(s, "eth0", SIOCSIFNETMASK, mask) == -1 ||
	    if_up(s, "eth0") == -1 ||
	    (comma != NULL && add_gateway(s, gw.s_addr) == -1))
		say("net: configuring eth0 with %s: %s", spec, strerror(errno));
	else
		rc = 0;
	close(s);
	return rc;
bad:
	say("net: bad hbnet=%s (want IP/PREFIX[,GW])", spec);
	return -1;
}

static int
listen_on(int type, int port)
{
	struct sockaddr_in sin;
	int s, one = 1;

	if ((s = socket(AF_INET, type | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (type == SOCK_STREAM && listen(s, CONNS_MAX) == -1)) {
		close(s);
		return -1;
	}
	return s;
}

/* One poll loop: the UDP socket, the TCP listener, the connections. */
static void
net_serve(int port)
{
	struct pollfd pfd[2 + CONNS_MAX];
	struct sockaddr_storage from;
	socklen_t flen;
	char buf[2048];
	ssize_t r;
	int i, j, n = 2, c;

	pfd[0].fd = listen_on(SOCK_DGRAM, port);
	pfd[1].fd = listen_on(SOCK_STREAM, port);
	if (pfd[0].fd == -1 || pfd[1].fd == -1) {
		say("net: cannot listen on port %d: %s", port, strerror(errno));
		return;
	}
	pfd[0].events = pfd[1].events = POLLIN;
	say("net: echo on tcp and udp port %d", port);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) == -1)
			continue;
		if (pfd[0].revents & POLLIN) {
			flen = sizeof(from);
			/* Room for the disk figures after the ping's bytes. */
			r = recvfrom(pfd[0].fd, buf, sizeof(buf) - DISK_FIG_LEN,
			    MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
			if (r > 0) {
				r += snprintf(buf + r, DISK_FIG_LEN,
				    " disk %lld %lld",
				    __atomic_load_n(&w_disk->records,
				    __ATOMIC_RELAXED),
				    __atomic_load_n(&w_disk->errors,
				    __ATOMIC_RELAXED));
				sendto(pfd[0].fd, buf, (size_t)r, MSG_DONTWAIT,
				    (struct sockaddr *)&from, flen);
			}
		}
		if ((pfd[1].revents & POLLIN) &&
		    (c = accept4(pfd[1].fd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
			if (n < 2 + CONNS_MAX) {
				pfd[n].fd = c;
				pfd[n++].events = POLLIN;
			} else
				close(c);
		}
		for (i = 2; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			r = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0 && send(pfd[i].fd, buf, (size_t)r,
			    MSG_DONTWAIT | MSG_NOSIGNAL) == r)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			close(pfd[i].fd);
			for (j = i; j < n - 1; j++)
				pfd[j] = pfd[j + 1];
			n--;
			i--;
		}
	}
}

/* ------------------------------------------------------------ disk */
static void
disk_error(void)
{
	__atomic_add_fetch(&w_disk->errors, 1, __ATOMIC_RELAXED);
}

static void
on_term(int sig)
{
	(void)sig;
	w_stop = 1;
}

/* DIR is a mount point: another device than its parent's. */
static int
mounted(const char *dir)
{
	char parent[ARG_MAX_LEN + 4];
	struct stat a, b;

	snprintf(parent, sizeof(parent), "%s/..", dir);
	return stat(dir, &a) == 0 && stat(parent, &b) == 0 &&
	    a.st_dev != b.st_dev;
}

/* umount, a few tries apart; 0 or -1 with errno. */
static int
unmount(const char *dir)
{
	int i;

	for (i = 0; i < UMOUNT_TRIES; i++) {
		if (umount(dir) == 0)
			return 0;
		if (errno != EBUSY)
			return -1;
		usleep(50000);
	}
	return -1;
}

static void
disk_log(const char *dev, const char *mnt, const char *boot)
{
	char path[ARG_MAX_LEN + 16], pidf[ARG_MAX_LEN + 8];
	struct sigaction sa;
	struct hbrec rec;
	uint64_t seq = 0;
	long long due;
	FILE *pf;
	int fd, failing = 0;

	if (wait_path(dev) == -1) {
		disk_error();
		return;
	}
	mkdir(mnt, 0755);
	if (mount(dev, mnt, "ext4", 0, NULL) == -1) {
		say("disk: cannot mount %s on %s as ext4: %s", dev, mnt,
		    strerror(errno));
		disk_error();
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", mnt, HBREC_FILE);
	snprintf(pidf, sizeof(pidf), "%s.pid", mnt);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		say("disk: cannot open %s: %s", path, strerror(errno));
		disk_error();
		unmount(mnt);
		return;
	}
	/* hbwork_stop() finds us here, and waits for the file to go. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	if ((pf = fopen(pidf, "we")) != NULL) {
		fprintf(pf, "%d\n", (int)getpid());
		fclose(pf);
	}
	__atomic_store_n(&w_disk->records, 0, __ATOMIC_RELAXED);
	say("disk: %s on %s (ext4), appending to %s", dev, mnt, path);
	due = mono_ns();
	while (!w_stop) {
		hbrec_fill(&rec, boot, seq, (uint64_t)mono_ns());
		/* At its slot, so a failed record is retried in place. */
		if (pwrite(fd, &rec, sizeof(rec), (off_t)(seq * HBREC_SIZE)) ==
		    (ssize_t)sizeof(rec) && fdatasync(fd) == 0) {
			seq++;
			__atomic_store_n(&w_disk->records, (long long)seq,
			    __ATOMIC_RELAXED);
			failing = 0;
		} else {
			disk_error();
			if (!failing++)	/* once per run of failures */
				say("disk: record %llu: %s",
				    (unsigned long long)seq, strerror(errno));
		}
		tick(&due, WORK_PERIOD_MS * 1000000LL);
	}
	if (close(fd) == -1 || unmount(mnt) == -1) {
		say("disk: stopping: %s: %s", mnt, strerror(errno));
		disk_error();
	} else
		say("disk: stopped after %llu records, %s unmounted",
		    (unsigned long long)seq, mnt);
	unlink(pidf);		/* hbwork_stop checks the mount itself */
}

int
hbwork_stop(const char *cmdline, const char *name, int console)
{
	char dev[ARG_MAX_LEN], mnt[ARG_MAX_LEN], pidf[ARG_MAX_LEN + 8];
	char buf[32];
	long pid = 0;
	FILE *pf;
	int i;

	w_name = name;
	w_con = console;
	if (arg(cmdline, "hbdisk=", dev, sizeof(dev)) == -1)
		return 0;
	if (arg(cmdline, "hbmnt=", mnt, sizeof(mnt)) == -1)
		snprintf(mnt, sizeof(mnt), "%s", MNT_DEFAULT);
	snprintf(pidf, sizeof(pidf), "%s.pid", mnt);
	if ((pf = fopen(pidf, "re")) != NULL) {
		if (fgets(buf, sizeof(buf), pf) != NULL)
			pid = strtol(buf, NULL, 10);
		fclose(pf);
	}
	if (pid > 1 && kill((pid_t)pid, SIGTERM) == 0) {
		for (i = 0; i < STOP_S * 20 && access(pidf, F_OK) == 0; i++)
			usleep(50000);
		if (access(pidf, F_OK) == 0)
			say("stop: the disk writer (pid %ld) did not stop "
			    "within %d s", pid, STOP_S);
	}
	/* Its writer gone or never started: unmount, or at least freeze. */
	if (mounted(mnt) && unmount(mnt) == -1 &&
	    mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) == -1) {
		say("stop: %s is still mounted read-write: %s", mnt,
		    strerror(errno));
		return -1;
	}
	say("stop: %s not mounted", mnt);
	return 0;
}

/* ------------------------------------------------------------ memory */
static void
dirty(const char *spec)
{
	unsigned char *mem;
	long rate, ws, pages, per_tick, i, at = 0;
	long long due;
	char *end;

	rate = strtol(spec, &end, 10);
	ws = *end == ',' ? strtol(end + 1, NULL, 10) : 0;
	if (rate < 1 || rate > 1024 || ws < 1 || ws > 1024) {
		say("dirty: bad hbdirty=%s (want MIBPS,MIB)", spec);
		return;
	}
	pages = ws * 256;
	/* Pages per period; at least one, or a low rate dirties nothing. */
	per_tick = rate * 256 * WORK_PERIOD_MS / 1000;
	if (per_tick < 1)
		per_tick = 1;
	mem = mmap(NULL, (size_t)pages * 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED) {
		say("dirty: cannot map %ld MiB: %s", ws, strerror(errno));
		return;
	}
	say("dirty: %ld MiB/s over %ld MiB", rate, ws);
	due = mono_ns();
	for (;;) {
		for (i = 0; i < per_tick; i++) {
			mem[(size_t)at * 4096]++;
			at = (at + 1) % pages;
		}
		tick(&due, WORK_PERIOD_MS * 1000000LL);
	}
}

/* ------------------------------------------------------------ start */
/* Run fn-part in a child; local runs die with their parent. */
static int
spawn(int local)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid == -1 ? -1 : 1;
	if (local)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return 0;
}

void
hbwork_start(const char *cmdline, const char *name, const char *boot,
    int console, int local)
{
	char net[ARG_MAX_LEN], disk[ARG_MAX_LEN], drt[ARG_MAX_LEN];
	char mnt[ARG_MAX_LEN], port[16];
	struct disk_state *shared;
	int has_net, has_disk, has_dirty;

	w_name = name;
	w_con = console;
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared != MAP_FAILED) {
		*shared = w_disk0;
		w_disk = shared;
	}
	has_net = arg(cmdline, "hbnet=", net, sizeof(net)) == 0;
	has_disk = arg(cmdline, "hbdisk=", disk, sizeof(disk)) == 0;
	has_dirty = arg(cmdline, "hbdirty=", drt, sizeof(drt)) == 0;
	if (arg(cmdline, "hbport=", port, sizeof(port)) == -1)
		snprintf(port, sizeof(port), "%d", ECHO_PORT);
	if (arg(cmdline, "hbmnt=", mnt, sizeof(mnt)) == -1)
		snprintf(mnt, sizeof(mnt), "%s", MNT_DEFAULT);
	if (has_net && spawn(local) == 0) {
		if (!local) {
			/*
			 * heartbeat.c mounts /dev and /proc only, and
			 * wait_path looks for eth0 in sysfs.
			 */
			mkdir("/sys", 0755);
			if (mount("sysfs", "/sys", "sysfs", 0, NULL) == -1 &&
			    errno != EBUSY)
				say("mount /sys: %s", strerror(errno));
			load_module("xen-netfront");
		}
		if (net_config(net) == 0)
			net_serve(atoi(port));
		_exit(1);
	}
	if (has_disk && spawn(local) == 0) {
		if (!local) {
			load_module("xen-blkfront");
			load_module("ext4");
		}
		disk_log(disk, mnt, boot);
		_exit(1);
	}
	if (has_dirty && spawn(local) == 0) {
		dirty(drt);
		_exit(1);
	}
}
