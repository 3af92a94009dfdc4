// SPDX-License-Identifier: ISC
/*
 * The sim guest: a detached process that owns a guest's RAM (a shared
 * file) and runs a workload thread dirtying it at a set rate and pattern,
 * the way a busy guest dirties its memory under Xen.  Also here: the
 * toolstack's half of the handshakes with it (boot, suspend, run, kill),
 * and the guest's workload config, an sxp list such as
 *
 *	(sim (dirty-rate 209715200) (working-set 67108864) (pattern hot))
 *
 * The guest process runs only this file's code after fork(); it trusts
 * its .ctl, which only root can write and which its creator validated.
 * sim_config_parse() trusts nothing: the config may come from a peer in a
 * reserve request.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "sim.h"
#include "sxp.h"
#include "util.h"

/* The most pages the workload writes between two looks at ctl->run. */
#define SIM_TICK_PAGES_MAX	1024

static const char *const sim_pattern_names[] = {
	[SIM_PATTERN_UNIFORM] = "uniform",
	[SIM_PATTERN_HOT] = "hot",
	[SIM_PATTERN_SEQUENTIAL] = "sequential"
};
#define SIM_NPATTERNS	3

/* The guest process's own view of itself. */
struct sim_proc {
	struct sim_ctl	*ctl;
	uint8_t		*mem;
	uint64_t	 hot_pages;
	int		 running;	/* what we last told ctl->running */
};

/*
 * Futexes on the shared .ctl mapping (so not FUTEX_PRIVATE): the guest
 * and the toolstack are different processes.  A wait may return early;
 * every caller re-checks its condition.
 */
void
sim_futex_wait(uint32_t *addr, uint32_t val, uint64_t timeout_us)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(timeout_us / 1000000);
	ts.tv_nsec = (long)(timeout_us % 1000000) * 1000;
	syscall(SYS_futex, addr, FUTEX_WAIT, val, &ts, NULL, 0);
}

void
sim_futex_wake(uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/*
 * OFD locks belong to an open file description, not to a process: they
 * survive fork() into the guest, and die with the last descriptor, which
 * is what makes them a crash-proof "alive" or "busy" flag.
 */
int
sim_lock_try(int fd, int byte)
{
	struct flock	fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Whether another description holds byte; in doubt, yes (never reap). */
int
sim_lock_held(int fd, int byte)
{
	struct flock	fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	if (fcntl(fd, F_OFD_GETLK, &fl) == -1)
		return 1;
	return fl.l_type != F_UNLCK;
}

/* xoshiro256**: fast, and its whole state fits the VCPU record. */
static uint64_t
sim_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
sim_prng_next(uint64_t s[4])
{
	uint64_t	result = sim_rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sim_rotl(s[3], 45);
	return result;
}

static uint64_t
sim_splitmix(uint64_t *x)
{
	uint64_t	z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* FNV-1a: a guest's uuid seeds its memory and workload, reproducibly. */
static uint64_t
sim_seed_of(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

void
sim_vcpu_seed(struct sim_vcpu *v, const char *uuid)
{
	uint64_t	x = sim_seed_of(uuid);
	int		i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < 4; i++)
		v->prng[i] = sim_splitmix(&x);
	/* xoshiro's one bad state; splitmix never yields it, but be sure. */
	if ((v->prng[0] | v->prng[1] | v->prng[2] | v->prng[3]) == 0)
		v->prng[0] = 1;
}

/*
 * A written page holds its number, the write's serial number, and bytes
 * derived from one PRNG draw: real, distinct content at a fraction of
 * the cost of drawing every word.
 */
static void
sim_page_write(uint8_t *page, uint64_t pfn, uint64_t stamp, uint64_t r)
{
	uint64_t	*w = (uint64_t *)(void *)page;
	size_t		 i;

	w[0] = pfn;
	w[1] = stamp;
	for (i = 2; i < SIM_PAGE_SIZE / sizeof(*w); i++)
		w[i] = r ^ (i * 0x9e3779b97f4a7c15ULL);
}

/*
 * A compressible page: as sim_page_write's for its first quarter, then
 * one 64-byte run, drawn from r, over and over; zstd's level 1 makes
 * about a quarter of it, as it does of code and text.
 */
static void
sim_page_write_compressible(uint8_t *page, uint64_t pfn, uint64_t r)
{
	uint64_t	*w = (uint64_t *)(void *)page;
	size_t		 i, n = SIM_PAGE_SIZE / sizeof(*w);

	sim_page_write(page, pfn, 0, r);
	for (i = n / 4; i < n; i++)
		w[i] = r * (2 * (i % 8) + 1);
}

/*
 * A new guest's RAM is not all zero, so round 0 carries real content;
 * but zero_percent of its pages, spread over all of it, stay zero (the
 * file's holes), as an idle guest's free memory does.  Of the others,
 * those whose number times 37 ends, modulo 100, below
 * compressible_percent (another spread over all of memory) get
 * compressible content.
 */
void
sim_memory_fill(uint8_t *mem, uint64_t pages, const char *uuid,
    uint32_t zero_percent, uint32_t compressible_percent)
{
	uint64_t	x = sim_seed_of(uuid) ^ 0x5a5a5a5a5a5a5a5aULL;
	uint64_t	pfn, r;

	for (pfn = 0; pfn < pages; pfn++) {
		r = sim_splitmix(&x);
		if (pfn % 100 < zero_percent)
			continue;
		if (pfn * 37 % 100 < compressible_percent)
			sim_page_write_compressible(mem + pfn * SIM_PAGE_SIZE,
			    pfn, r);
		else
			sim_page_write(mem + pfn * SIM_PAGE_SIZE, pfn, 0, r);
	}
}

/*
 * Puts val in the first empty slot of n slots of size bytes each (a
 * guest's bridges or disks); false if val is empty, too long or no slot
 * is left.
 */
static bool
name_append(char *slots, size_t n, size_t size, const char *val)
{
	size_t	i, len = strlen(val);

	if (len == 0 || len >= size)
		return false;
	for (i = 0; i < n; i++, slots += size)
		if (slots[0] == '\0') {
			memcpy(slots, val, len + 1);
			return true;
		}
	return false;
}

/*
 * A device key: (bridge NAME) and (disk PATH) may repeat, up to their
 * limit; (pci N) and (disable-migrate yes|no) may not.  Returns 1 if kv
 * was one (0 or -1 from there on), 0 if it is a workload key.
 */
/* The workload keys of sim_config_field, whose seen bits come first. */
#define SIM_WORKLOAD_KEYS	5

static int
sim_config_device(const struct sxp_node *kv, const char *key,
    const char *val, struct sim_params *p, unsigned int *seen,
    struct backend_error *err)
{
	const char	*errstr = NULL;
	size_t		 i;

	if (strcmp(key, "bridge") == 0) {
		if (!name_append(&p->bridge[0][0], SIM_BRIDGES_MAX,
		    sizeof(p->bridge[0]), val))
			return backend_fail(err, BE_UNSUPPORTED, "sim config, "
			    "line %d: at most %d bridges of 1 to %d characters",
			    kv->line, SIM_BRIDGES_MAX, SIM_BRIDGE_NAME_MAX);
		return 1;
	}
	if (strcmp(key, "disk") == 0) {
		if (!name_append(&p->disk[0][0], SIM_DISKS_MAX,
		    sizeof(p->disk[0]), val))
			return backend_fail(err, BE_UNSUPPORTED, "sim config, "
			    "line %d: at most %d disks of 1 to %d characters",
			    kv->line, SIM_DISKS_MAX, SIM_DISK_PATH_MAX);
		return 1;
	}
	if (strcmp(key, "pci") != 0 && strcmp(key, "disable-migrate") != 0)
		return 0;
	/* Their seen bits come after the workload keys' (sim_config_field). */
	i = key[0] == 'p' ? SIM_WORKLOAD_KEYS : SIM_WORKLOAD_KEYS + 1;
	if (*seen & (1U << i))
		return backend_fail(err, BE_UNSUPPORTED, "sim config, line "
		    "%d: %s given twice", kv->line, key);
	*seen |= 1U << i;
	if (i == SIM_WORKLOAD_KEYS)
		p->pci = (uint32_t)util_strtonum(val, 0, SIM_PCI_MAX, &errstr);
	else if (strcmp(val, "yes") == 0 || strcmp(val, "no") == 0)
		p->disable_migrate = strcmp(val, "yes") == 0;
	else
		errstr = "not yes or no";
	if (errstr != NULL)
		return backend_fail(err, BE_UNSUPPORTED, "sim config, line "
		    "%d: %s is %s", kv->line, key, errstr);
	return 1;
}

/*
 * One key of the config list: (dirty-rate N), (working-set N), (pattern
 * P), (zero-percent N), (compressible-percent N), or a device key
 * (sim_config_device).
 */
static int
sim_config_field(const struct sxp_node *kv, uint64_t memory,
    struct sim_params *p, unsigned int *seen, struct backend_error *err)
{
	static const char *const keys[] = {
		"dirty-rate", "working-set", "pattern", "zero-percent",
		"compressible-percent"
	};
	const unsigned int	 nkeys = sizeof(keys) / sizeof(keys[0]);

	_Static_assert(sizeof(keys) / sizeof(keys[0]) == SIM_WORKLOAD_KEYS,
	    "the device keys' seen bits follow the workload keys'");
	const struct sxp_node	*key, *val;
	const char		*errstr = NULL;
	unsigned int		 k;
	int			 r;

	if (kv->type != SXP_LIST || (key = kv->first) == NULL ||
	    key->type != SXP_ATOM || (val = key->next) == NULL ||
	    val->type == SXP_LIST || val->next != NULL ||
	    strlen(val->text) != val->len)
		return backend_fail(err, BE_UNSUPPORTED,
		    "sim config, line %d: expected (key value)", kv->line);
	if ((r = sim_config_device(kv, key->text, val->text, p, seen,
	    err)) != 0)
		return r == -1 ? -1 : 0;
	for (k = 0; k < nkeys && strcmp(key->text, keys[k]) != 0; k++)
		continue;
	if (k == nkeys)
		return backend_fail(err, BE_UNSUPPORTED,
		    "sim config, line %d: unknown key '%.32s'", kv->line,
		    key->text);
	if (*seen & (1U << k))
		return backend_fail(err, BE_UNSUPPORTED,
		    "sim config, line %d: %s given twice", kv->line, keys[k]);
	*seen |= 1U << k;
	if (k == 0)
		p->dirty_rate = (uint64_t)util_strtonum(val->text, 0,
		    (long long)SIM_DIRTY_RATE_MAX, &errstr);
	else if (k == 1)
		p->working_set = (uint64_t)util_strtonum(val->text,
		    (long long)SIM_PAGE_SIZE, (long long)memory, &errstr);
	else if (k == 3)
		p->zero_percent = (uint32_t)util_strtonum(val->text, 0, 100,
		    &errstr);
	else if (k == 4)
		p->compressible_percent = (uint32_t)util_strtonum(val->text, 0,
		    100, &errstr);
	else {
		for (p->pattern = 0; p->pattern < SIM_NPATTERNS; p->pattern++)
			if (strcmp(val->text, sim_pattern_names[p->pattern])
			    == 0)
				break;
		if (p->pattern == SIM_NPATTERNS)
			errstr = "not uniform, hot or sequential";
	}
	if (errstr != NULL)
		return backend_fail(err, BE_UNSUPPORTED,
		    "sim config, line %d: %s is %s", kv->line, keys[k],
		    errstr);
	return 0;
}

/*
 * Parses a workload config for a guest of memory bytes.  NULL or "" is
 * an idle guest.  Missing keys take defaults: rate 0, the working set
 * all of memory, pattern uniform.
 */
int
sim_config_parse(const char *config, uint64_t memory, struct sim_params *p,
    struct backend_error *err)
{
	struct sxp_node		*root = NULL, *top;
	const struct sxp_node	*kv;
	struct sxp_error	 serr;
	unsigned int		 seen = 0;
	size_t			 len;
	int			 rc = -1;

	memset(p, 0, sizeof(*p));
	p->working_set = memory;
	p->pattern = SIM_PATTERN_UNIFORM;
	if (config == NULL || *config == '\0')
		return 0;
	if ((len = strnlen(config, BACKEND_CONFIG_MAX + 1)) >
	    BACKEND_CONFIG_MAX)
		return backend_fail(err, BE_UNSUPPORTED,
		    "sim config is longer than %d bytes", BACKEND_CONFIG_MAX);
	if (sxp_parse(config, len, &root, &serr) == -1)
		return backend_fail(err, BE_UNSUPPORTED,
		    "sim config, line %d: %s", serr.line, serr.msg);
	top = root->first;
	if (top == NULL || top->next != NULL || top->type != SXP_LIST ||
	    top->first == NULL || top->first->type != SXP_ATOM ||
	    strcmp(top->first->text, "sim") != 0) {
		backend_fail(err, BE_UNSUPPORTED,
		    "sim config is not one (sim ...) list");
		goto out;
	}
	for (kv = top->first->next; kv != NULL; kv = kv->next)
		if (sim_config_field(kv, memory, p, &seen, err) == -1)
			goto out;
	rc = 0;
out:
	sxp_free(root);
	return rc;
}

/* The canonical form, which sim_config_parse() reads back unchanged. */
int
sim_config_format(const struct sim_params *p, char *buf, size_t len)
{
	char	q[4 * SIM_DISK_PATH_MAX + 3];
	size_t	off, i;
	int	r;

	r = snprintf(buf, len,
	    "(sim (dirty-rate %llu) (working-set %llu) (pattern %s)",
	    (unsigned long long)p->dirty_rate,
	    (unsigned long long)p->working_set,
	    p->pattern < SIM_NPATTERNS ? sim_pattern_names[p->pattern] :
	    "uniform");
	if (r < 0 || (size_t)r >= len)
		return -1;
	off = (size_t)r;
	/* Devices only when there are some: the old form stays the same. */
	for (i = 0; i < SIM_BRIDGES_MAX + SIM_DISKS_MAX; i++) {
		const char *v = i < SIM_BRIDGES_MAX ? p->bridge[i] :
		    p->disk[i - SIM_BRIDGES_MAX];
		size_t max = i < SIM_BRIDGES_MAX ? SIM_BRIDGE_NAME_MAX :
		    SIM_DISK_PATH_MAX;

		if (v[0] == '\0')
			continue;
		if (sxp_quote(v, strnlen(v, max), q, sizeof(q)) == -1)
			return -1;
		r = snprintf(buf + off, len - off, " (%s %s)",
		    i < SIM_BRIDGES_MAX ? "bridge" : "disk", q);
		if (r < 0 || (size_t)r >= len - off)
			return -1;
		off += (size_t)r;
	}
	if (p->pci > 0 || p->disable_migrate) {
		r = snprintf(buf + off, len - off, " (pci %u) "
		    "(disable-migrate %s)", p->pci,
		    p->disable_migrate ? "yes" : "no");
		if (r < 0 || (size_t)r >= len - off)
			return -1;
		off += (size_t)r;
	}
	if (off + 2 > len)
		return -1;
	buf[off++] = ')';
	buf[off] = '\0';
	return 0;
}

/*
 * Dirties one page.  The content is written before the page's bits are
 * set (written always, log-dirty if on), and the fence pairs with the saver's seq_cst store enabling
 * log-dirty: either we see log-dirty on and set the bit, or the saver's
 * round 0 copies the page after our write.  Either way the write reaches
 * the destination.
 */
static void
sim_workload_dirty(struct sim_proc *p, struct sim_vcpu *v)
{
	struct sim_ctl	*ctl = p->ctl;
	uint64_t	 pfn, r = sim_prng_next(v->prng);

	switch (ctl->params.pattern) {
	case SIM_PATTERN_HOT:
		pfn = r % p->hot_pages;
		break;
	case SIM_PATTERN_SEQUENTIAL:
		pfn = v->seq_pos % ctl->pages;
		v->seq_pos = (pfn + 1) % ctl->pages;
		break;
	default:
		pfn = r % ctl->pages;
		break;
	}
	v->pages_written++;
	sim_page_write(p->mem + pfn * SIM_PAGE_SIZE, pfn, v->pages_written,
	    sim_prng_next(v->prng));
	__atomic_fetch_or(&sim_wbitmap(ctl)[pfn / 64], 1ULL << (pfn % 64),
	    __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ctl->logdirty, __ATOMIC_RELAXED))
		__atomic_fetch_or(&sim_bitmap(ctl)[pfn / 64], 1ULL << (pfn % 64),
		    __ATOMIC_RELEASE);
}

/*
 * The safe point.  If we were running, publish the vCPU state and
 * acknowledge (running = 0), then wait until told to run, and take the
 * vCPU state back, which restore() may have replaced meanwhile.
 */
static void
sim_workload_park(struct sim_proc *p, struct sim_vcpu *v)
{
	struct sim_ctl	*ctl = p->ctl;

	if (p->running) {
		v->heartbeat = __atomic_load_n(&ctl->heartbeat,
		    __ATOMIC_RELAXED);
		memcpy(&ctl->vcpu, v, sizeof(*v));
		__atomic_store_n(&ctl->progress, v->pages_written,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&ctl->running, 0, __ATOMIC_SEQ_CST);
		sim_futex_wake(&ctl->running);
		p->running = 0;
	}
	while (__atomic_load_n(&ctl->run, __ATOMIC_SEQ_CST) == 0)
		sim_futex_wait(&ctl->run, 0, SIM_WATCHDOG_MS * 1000);
	memcpy(v, &ctl->vcpu, sizeof(*v));
	if ((v->prng[0] | v->prng[1] | v->prng[2] | v->prng[3]) == 0)
		sim_vcpu_seed(v, ctl->uuid);
	/*
	 * Acknowledge before the caller looks at run again: a suspend that
	 * saw running == 0 before this store is then seen by that look.
	 */
	__atomic_store_n(&ctl->running, 1, __ATOMIC_SEQ_CST);
	p->running = 1;
}

/* Bytes the workload may write now: rate x throttle, bounded backlog. */
static double
sim_workload_credit(const struct sim_ctl *ctl, double credit, uint64_t dt_us)
{
	uint32_t	pct = __atomic_load_n(&ctl->throttle, __ATOMIC_RELAXED);
	double		rate, cap;

	if (pct == 0 || pct > 100)
		pct = 100;
	rate = (double)ctl->params.dirty_rate * pct / 100.0;
	cap = rate * SIM_CREDIT_MAX_US / 1e6;
	if (cap < SIM_PAGE_SIZE)
		cap = SIM_PAGE_SIZE;
	credit += rate * (double)dt_us / 1e6;
	return credit > cap ? cap : credit;
}

static void *
sim_workload(void *arg)
{
	struct sim_proc	*p = arg;
	struct sim_ctl	*ctl = p->ctl;
	struct sim_vcpu	 v;
	uint64_t	 last = 0, now, n;
	double		 credit = 0;

	memset(&v, 0, sizeof(v));
	for (;;) {
		/* Parking is also how the first run loads the vCPU state. */
		if (!p->running ||
		    __atomic_load_n(&ctl->run, __ATOMIC_SEQ_CST) == 0) {
			sim_workload_park(p, &v);
			last = util_now_us();
			credit = 0;
			continue;
		}
		now = util_now_us();
		credit = sim_workload_credit(ctl, credit, now - last);
		last = now;
		for (n = 0; n < SIM_TICK_PAGES_MAX && credit >= SIM_PAGE_SIZE;
		    n++) {
			sim_workload_dirty(p, &v);
			credit -= SIM_PAGE_SIZE;
		}
		__atomic_add_fetch(&ctl->heartbeat, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&ctl->progress, v.pages_written,
		    __ATOMIC_RELAXED);
		/* Still owing a full tick's pages: no sleep, look at run. */
		if (credit < SIM_PAGE_SIZE)
			sim_futex_wait(&ctl->run, 1, SIM_TICK_US);
	}
	return NULL;
}

/*
 * Cuts the guest off from its creator: no inherited descriptors (a pipe
 * end held here would keep a stream from ever seeing EOF), stdio on
 * /dev/null, no terminal signals, nothing blocked.  The .ctl ends up on
 * descriptor 3 and the RAM file on 4.
 */
static void
sim_proc_detach(int *ctl_fd, int *mem_fd)
{
	sigset_t	none;
	int		a, b, null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	if ((a = fcntl(*ctl_fd, F_DUPFD, 64)) == -1 ||
	    (b = fcntl(*mem_fd, F_DUPFD, 64)) == -1 ||
	    (null = open("/dev/null", O_RDWR)) == -1)
		_exit(1);
	if (dup2(null, 0) == -1 || dup2(null, 1) == -1 ||
	    dup2(null, 2) == -1 || dup2(a, 3) == -1 || dup2(b, 4) == -1)
		_exit(1);
	if (close_range(5, ~0U, 0) == -1)
		_exit(1);
	*ctl_fd = 3;
	*mem_fd = 4;
}

static int
sim_proc_map(struct sim_proc *p, int ctl_fd, int mem_fd)
{
	struct stat	st;
	void		*m;

	if (fstat(ctl_fd, &st) == -1 ||
	    (size_t)st.st_size < sizeof(struct sim_ctl))
		return -1;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, ctl_fd, 0);
	if (m == MAP_FAILED)
		return -1;
	p->ctl = m;
	if ((uint64_t)st.st_size < SIM_CTL_LEN(p->ctl->pages))
		return -1;
	if (fstat(mem_fd, &st) == -1 ||
	    (uint64_t)st.st_size != p->ctl->memory_bytes ||
	    p->ctl->pages != p->ctl->memory_bytes / SIM_PAGE_SIZE ||
	    p->ctl->pages == 0)
		return -1;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, mem_fd, 0);
	if (m == MAP_FAILED)
		return -1;
	p->mem = m;
	p->hot_pages = p->ctl->params.working_set / SIM_PAGE_SIZE;
	if (p->hot_pages == 0 || p->hot_pages > p->ctl->pages)
		p->hot_pages = p->ctl->pages;
	return 0;
}

/*
 * The guest process.  The main thread is a watchdog: when the .ctl is
 * unlinked (destroy, or someone removed the state directory) the guest
 * has nothing left to be, and exits.
 */
static void __attribute__((noreturn))
sim_proc_main(int ctl_fd, int mem_fd, int fill)
{
	struct sim_proc	 p;
	struct stat	 st;
	struct timespec	 ts;
	pthread_t	 t;
	char		 comm[16];

	sim_proc_detach(&ctl_fd, &mem_fd);
	memset(&p, 0, sizeof(p));
	if (sim_proc_map(&p, ctl_fd, mem_fd) == -1)
		_exit(1);
	close(mem_fd);
	/* A label for ps: the kernel keeps 15 characters, so it may be cut. */
	if (snprintf(comm, sizeof(comm), "sim:%s", p.ctl->name) < 0)
		_exit(1);
	prctl(PR_SET_NAME, comm, 0, 0, 0);
	/* It holds a copy of its creator's memory: no core dumps of that. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (fill)
		sim_memory_fill(p.mem, p.ctl->pages, p.ctl->uuid,
		    p.ctl->params.zero_percent,
		    p.ctl->params.compressible_percent);
	__atomic_store_n(&p.ctl->booted, 1, __ATOMIC_SEQ_CST);
	sim_futex_wake(&p.ctl->booted);
	if (pthread_create(&t, NULL, sim_workload, &p) != 0)
		_exit(1);
	ts.tv_sec = 0;
	ts.tv_nsec = SIM_WATCHDOG_MS * 1000000L;
	for (;;) {
		nanosleep(&ts, NULL);
		if (fstat(ctl_fd, &st) == -1 || st.st_nlink == 0)
			_exit(0);
	}
}

/*
 * Starts the guest process for an open .ctl (which the caller has
 * locked, SIM_LOCK_ALIVE, and mapped as ctl) and RAM file.  fill: give
 * the RAM initial content (create) or leave it zero (reserve).  Returns
 * once the process exists; sim_guest_wait_boot() waits for it to be up.
 */
int
sim_guest_spawn(int ctl_fd, int mem_fd, int fill, struct sim_ctl *ctl,
    struct backend_error *err)
{
	pid_t	pid, guest;
	int	status, r;

	if ((pid = fork()) == -1)
		return backend_fail(err, BE_INTERNAL, "cannot fork: %s",
		    strerror(errno));
	if (pid == 0) {
		/*
		 * A session of its own, then a second fork: the guest is
		 * nobody's child to reap, and no terminal's to signal.
		 */
		if (setsid() == -1 || (guest = fork()) == -1)
			_exit(1);
		if (guest == 0)
			sim_proc_main(ctl_fd, mem_fd, fill);
		__atomic_store_n(&ctl->pid, (int32_t)guest, __ATOMIC_SEQ_CST);
		_exit(0);
	}
	while ((r = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		continue;
	if (r == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return backend_fail(err, BE_INTERNAL,
		    "cannot start the guest process");
	return 0;
}

/* g->ctl_fd must be a description of its own, not the locked one. */
int
sim_guest_wait_boot(struct sim_guest *g, struct backend_error *err)
{
	uint64_t	deadline;

	deadline = util_now_us() + SIM_BOOT_TIMEOUT_MS * 1000ULL;
	while (__atomic_load_n(&g->ctl->booted, __ATOMIC_SEQ_CST) == 0) {
		if (!sim_lock_held(g->ctl_fd, SIM_LOCK_ALIVE))
			return backend_fail(err, BE_INTERNAL,
			    "guest %s exited while starting", g->ctl->name);
		if (util_now_us() >= deadline)
			return backend_fail(err, BE_INTERNAL,
			    "guest %s did not start within %d ms",
			    g->ctl->name, SIM_BOOT_TIMEOUT_MS);
		sim_futex_wait(&g->ctl->booted, 0, 50000);
	}
	return 0;
}

/*
 * Asks the workload to stop at its safe point and waits for it, as
 * libxl waits for a guest to acknowledge a suspend request.  On timeout
 * the guest is told to run on, so that it is never left half-suspended.
 */
int
sim_guest_suspend(struct sim_guest *g, struct backend_error *err)
{
	struct sim_ctl	*ctl = g->ctl;
	uint64_t	 deadline;

	deadline = util_now_us() + SIM_SUSPEND_TIMEOUT_MS * 1000ULL;
	__atomic_store_n(&ctl->run, 0, __ATOMIC_SEQ_CST);
	sim_futex_wake(&ctl->run);
	while (__atomic_load_n(&ctl->running, __ATOMIC_SEQ_CST) != 0) {
		if (util_now_us() >= deadline ||
		    !sim_lock_held(g->ctl_fd, SIM_LOCK_ALIVE)) {
			sim_guest_run(g);
			return backend_fail(err, BE_BAD_STATE,
			    "guest %s did not suspend within %d ms",
			    ctl->name, SIM_SUSPEND_TIMEOUT_MS);
		}
		sim_futex_wait(&ctl->running, 1, 10000);
	}
	return 0;
}

void
sim_guest_run(struct sim_guest *g)
{
	__atomic_store_n(&g->ctl->run, 1, __ATOMIC_SEQ_CST);
	sim_futex_wake(&g->ctl->run);
}

/*
 * Kills a guest and waits until it is gone.  fd is a description of
 * the guest's .ctl other than the guest's own; hdr holds its pid.
 */
int
sim_guest_kill(const struct sim_ctl *hdr, int fd, struct backend_error *err)
{
	struct timespec	 ts = { 0, 1000000 };
	uint64_t	 deadline;
	int		 pidfd = -1, rc = -1;

	if (hdr->pid > 0)
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)hdr->pid, 0);
	/*
	 * Signal only if the lock is still held after pidfd_open: then
	 * the pid was the guest's when we opened it, not a recycled one.
	 */
	if (pidfd != -1 && sim_lock_held(fd, SIM_LOCK_ALIVE))
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	deadline = util_now_us() + SIM_KILL_TIMEOUT_MS * 1000ULL;
	while (sim_lock_held(fd, SIM_LOCK_ALIVE)) {
		if (util_now_us() >= deadline) {
			backend_fail(err, BE_INTERNAL,
			    "guest %s (pid %d) did not exit", hdr->name,
			    (int)hdr->pid);
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	rc = 0;
out:
	if (pidfd != -1)
		close(pidfd);
	return rc;
}
