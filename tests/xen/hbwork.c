/* SPDX-License-Identifier: ISC */
/*
 * hbwork: the test guest's work beside the heartbeat (heartbeat.c starts
 * it), each part only when the kernel command line asks for it:
 *
 *	hbnet=IP/PREFIX[,GW]  eth0 gets this address (ioctls, no tools), and
 *	                      the guest echoes TCP and UDP on port hbport=
 *	                      (7): a TCP connection stays open as long as the
 *	                      client keeps it, which is what proves that a
 *	                      migration kept it
 *	hbdisk=DEV            a record every 20 ms at increasing offsets of
 *	                      the raw device, each durable (O_DIRECT where the
 *	                      device takes it, then fdatasync) before the
 *	                      next: the log hbrec.h describes
 *	hbdirty=MIBPS,MIB     dirty MIBPS MiB/s of memory, one byte per page,
 *	                      cycling over a working set of MIB MiB, so that
 *	                      a pre-copy has pages to send again
 *
 * Each part is a process of its own, so that a disk write blocked across
 * a suspend never delays an echo (the client measures the network's gap,
 * not the disk's).  In the guest, the Xen network and block front-ends
 * are modules (Debian's kernel), loaded from /lib/modules in the
 * initramfs before the parts start.  Status and errors go to the console
 * as "HBW <name> ..." lines, which the harness reads after a failure.
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
#define ECHO_PORT	7
#define CONNS_MAX	16
#define ARG_MAX_LEN	128

static const char	*w_name = "guest";
static int		 w_con = STDOUT_FILENO;

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
load_module(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/lib/modules/%s.ko", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		say("module %s: %s", name, strerror(errno));
		return;
	}
	if (syscall(SYS_finit_module, fd, "", 0) == -1 && errno != EEXIST)
		say("module %s: %s", name, strerror(errno));
	close(fd);
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
			r = recvfrom(pfd[0].fd, buf, sizeof(buf), MSG_DONTWAIT,
			    (struct sockaddr *)&from, &flen);
			if (r > 0)
				sendto(pfd[0].fd, buf, (size_t)r, MSG_DONTWAIT,
				    (struct sockaddr *)&from, flen);
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
disk_log(const char *dev, const char *boot)
{
	struct hbrec *rec;
	uint64_t seq = 0, slots;
	long long due;
	off_t size;
	int fd, failing = 0;

	if (wait_path(dev) == -1)
		return;
	/* O_DIRECT: the record reaches the device, not our page cache. */
	if ((fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC)) == -1 &&
	    errno == EINVAL)
		fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd == -1 || (size = lseek(fd, 0, SEEK_END)) <= 0) {
		say("disk: cannot open %s: %s", dev, strerror(errno));
		return;
	}
	if (posix_memalign((void **)&rec, 4096, sizeof(*rec)) != 0)
		return;
	slots = (uint64_t)size / HBREC_SIZE;
	say("disk: %llu record slots on %s", (unsigned long long)slots, dev);
	due = mono_ns();
	while (seq < slots) {
		hbrec_fill(rec, boot, seq, (uint64_t)mono_ns());
		if (pwrite(fd, rec, sizeof(*rec), (off_t)(seq * HBREC_SIZE)) ==
		    (ssize_t)sizeof(*rec) && fdatasync(fd) == 0) {
			seq++;
			failing = 0;
		} else if (!failing++)	/* once per run of failures */
			say("disk: record %llu: %s", (unsigned long long)seq,
			    strerror(errno));
		tick(&due, WORK_PERIOD_MS * 1000000LL);
	}
	say("disk: full after %llu records", (unsigned long long)seq);
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
	char port[16];
	int has_net, has_disk, has_dirty;

	w_name = name;
	w_con = console;
	has_net = arg(cmdline, "hbnet=", net, sizeof(net)) == 0;
	has_disk = arg(cmdline, "hbdisk=", disk, sizeof(disk)) == 0;
	has_dirty = arg(cmdline, "hbdirty=", drt, sizeof(drt)) == 0;
	if (arg(cmdline, "hbport=", port, sizeof(port)) == -1)
		snprintf(port, sizeof(port), "%d", ECHO_PORT);
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
		if (!local)
			load_module("xen-blkfront");
		disk_log(disk, boot);
		_exit(1);
	}
	if (has_dirty && spawn(local) == 0) {
		dirty(drt);
		_exit(1);
	}
}
