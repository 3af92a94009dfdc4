// SPDX-License-Identifier: ISC
/*
 * Logging in the style of OpenBSD's daemons: one set of calls for every
 * process, lines prefixed with the process role, to stderr in the
 * foreground (the journal captures it) or to syslog otherwise.
 * When that stderr is the journal's stream (systemd names it in
 * JOURNAL_STREAM), each line starts with sd-daemon(3)'s "<N>" so the
 * journal files it at its syslog priority; on a terminal or a file it
 * does not, for there "<6>" would be noise.
 *
 * Runs in every process.  Messages a peer can trigger are rate-limited by a
 * token bucket, so a hostile client cannot fill the disk through us.  The
 * parent puts the bucket in a shared memfd before it starts any child
 * (log_peer_share) and each exec'd network child maps it
 * (log_peer_attach), so that every one draws from the one bucket: with
 * a bucket per connection, a flood of connections would get a full one
 * each.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "util.h"

static int		 log_stderr = LOG_TO_STDERR;
static int		 log_verbose;
static int		 log_journal;
static const char	*log_procname = "relocd";
static log_sink_fn	 log_sink;
static log_clock_fn	 log_clock;

/*
 * Peer-message bucket: LOG_PEER_BURST_MAX tokens, one more per second,
 * kept as one word (the generic cell rate algorithm): tat is when the
 * bucket would be full again, in microseconds of the monotonic clock,
 * which all processes share.  A message may pass while tat is at most a
 * burst ahead of now, and moves it one interval on.  One word means one
 * compare-and-swap and no lock, so a child killed mid-update (the parent
 * kills slow ones) leaves no lock held for the others.
 */
#define LOG_PEER_INTERVAL_US	1000000ULL

struct log_bucket {
	_Atomic uint64_t	tat_us;
	_Atomic unsigned long	dropped;
};

static struct log_bucket	 log_bucket_own;
static struct log_bucket	*log_bucket = &log_bucket_own;

/*
 * Whether fd 2 is the stream systemd connected to the journal.  The
 * variable alone is not enough: it is inherited by everything the unit
 * starts, including a shell whose stderr is a terminal, so it counts only
 * if its device and inode are those of our stderr (systemd.exec(5)).
 */
static int
log_stderr_is_journal(void)
{
	const char	*env = getenv("JOURNAL_STREAM");
	uintmax_t	 dev, ino;
	struct stat	 st;
	char		 end;

	if (env == NULL ||
	    sscanf(env, "%ju:%ju%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
log_init(int to_stderr, int facility)
{
	log_stderr = to_stderr;
	log_journal = to_stderr && log_stderr_is_journal();
	if (!to_stderr)
		openlog("relocd", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *procname)
{
	if (procname != NULL)
		log_procname = procname;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

/* Where this process logs, for the processes it execs to log there too. */
int
log_getstderr(void)
{
	return log_stderr;
}

void
log_set_sink(log_sink_fn sink)
{
	log_sink = sink;
}

void
log_set_clock(log_clock_fn clock_fn)
{
	log_clock = clock_fn;
}

static void
log_emit(int priority, const char *line)
{
	if (log_sink != NULL) {
		log_sink(priority, line);
		return;
	}
	if (log_stderr) {
		/* One fprintf per line, so lines from children do not mix. */
		if (log_journal)
			fprintf(stderr, "<%d>%s: %s\n", LOG_PRI(priority),
			    log_procname, line);
		else
			fprintf(stderr, "%s: %s\n", log_procname, line);
		fflush(stderr);
	} else
		syslog(priority, "%s: %s", log_procname, line);
}

/* Formats one message; with_errno appends strerror as log_warn promises. */
static void
log_vformat(int priority, int with_errno, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX], safe[LOG_LINE_MAX];
	int	 saved_errno = errno;
	int	 r;
	size_t	 len;

	r = vsnprintf(line, sizeof(line), fmt, ap);
	if (r < 0)
		return;
	len = strlen(line);
	if (with_errno && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, ": %s",
		    strerror(saved_errno));
	/*
	 * Here rather than at each call: any %s may carry a peer's bytes
	 * (an abort text, a hello field), and one forgotten call would let
	 * a newline forge a line.
	 */
	util_text_escape(safe, sizeof(safe), line);
	log_emit(priority, safe);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vformat(LOG_ERR, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vformat(LOG_ERR, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vformat(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vformat(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vformat(LOG_CRIT, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vformat(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

static double
log_now(void)
{
	if (log_clock != NULL)
		return log_clock();
	return util_now_us() / 1e6;
}

static int	log_peer_fd = -1;

/*
 * Moves the bucket into memory shared with every network child, keeping
 * its state.  The parent calls it once at start.  The memory is a memfd
 * so that exec'd children, which inherit no mapping, can map it too
 * (log_peer_attach): the parent passes log_peer_share_fd to each.
 */
int
log_peer_share(void)
{
	struct log_bucket	*b;
	int			 fd;

	if (log_bucket != &log_bucket_own)
		return 0;
	if ((fd = memfd_create("relocd-peer-log", MFD_CLOEXEC)) == -1)
		return -1;
	if (ftruncate(fd, sizeof(*b)) == -1 ||
	    (b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0)) == MAP_FAILED) {
		close(fd);
		return -1;
	}
	atomic_init(&b->tat_us, atomic_load(&log_bucket_own.tat_us));
	atomic_init(&b->dropped, atomic_load(&log_bucket_own.dropped));
	log_bucket = b;
	log_peer_fd = fd;
	return 0;
}

/* The shared bucket's memfd, for a child to be spawned, or -1. */
int
log_peer_share_fd(void)
{
	return log_peer_fd;
}

/*
 * In an exec'd network child: draws from the parent's bucket in fd
 * from now on.  On failure the child keeps a bucket of its own.
 */
int
log_peer_attach(int fd)
{
	struct log_bucket	*b;
	struct stat		 st;

	if (fstat(fd, &st) == -1 || st.st_size != (off_t)sizeof(*b))
		return -1;
	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED)
		return -1;
	log_bucket = b;
	return 0;
}

/* Takes a token if one is left; refills one per elapsed second. */
static int
log_peer_allowed(void)
{
	const uint64_t	 limit = LOG_PEER_BURST_MAX * LOG_PEER_INTERVAL_US;
	uint64_t	 now = (uint64_t)(log_now() * 1e6), old, next;
	unsigned long	 dropped;
	int		 tries;

	old = atomic_load(&log_bucket->tat_us);
	/* Bounded: each failed swap means another process took a token. */
	for (tries = 0; tries < 64; tries++) {
		next = (old > now ? old : now) + LOG_PEER_INTERVAL_US;
		if (next - now > limit)
			break;
		if (atomic_compare_exchange_weak(&log_bucket->tat_us, &old,
		    next))
			goto allowed;
	}
	atomic_fetch_add(&log_bucket->dropped, 1);
	return 0;
allowed:
	if ((dropped = atomic_exchange(&log_bucket->dropped, 0)) > 0) {
		char	line[64];

		snprintf(line, sizeof(line),
		    "%lu peer messages suppressed (rate limit)", dropped);
		log_emit(LOG_WARNING, line);
	}
	return 1;
}

void
log_peer_warnx(const char *fmt, ...)
{
	va_list	ap;

	if (!log_peer_allowed())
		return;
	va_start(ap, fmt);
	log_vformat(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_peer_info(const char *fmt, ...)
{
	va_list	ap;

	if (!log_peer_allowed())
		return;
	va_start(ap, fmt);
	log_vformat(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}
