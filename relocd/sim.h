/* SPDX-License-Identifier: ISC */
/*
 * Internals of the sim backend, a simulated hypervisor whose whole state
 * lives in one directory (the open() argument), so that several processes,
 * and two relocd instances on one machine with a directory each, can
 * share it:
 *
 *   <dir>/host-memory	the simulated host's RAM in bytes, as text
 *   <dir>/next-domid	the next domid to hand out, as text
 *   <dir>/lock		flock()ed around every metadata change
 *   <dir>/<uuid>.mem	a guest's RAM, mmap'd MAP_SHARED
 *   <dir>/<uuid>.ctl	a guest's control area: struct sim_ctl, then the
 *			log-dirty and written bitmaps (one bit per page)
 *   <dir>/<uuid>.note	the toolstack's note on a guest (set_note()), if any
 *
 * A guest is alive while its process holds an OFD lock on byte 0 of its
 * .ctl file; a .ctl without that lock is stale (the process died) and is
 * removed by the next scan.  Save and restore take byte 1, so that one
 * guest is never migrated twice at once, and a crashed worker releases
 * it.  The directory should be on tmpfs (/dev/shm, /run): guest RAM is a
 * file there.
 *
 * sim_dir.c keeps the directory, backend_sim.c is the toolstack (the
 * guests' lifecycle), sim_guest.c the guest process, its workload and
 * the suspend handshake, sim_stream.c save and restore.
 */
#ifndef RELOCD_SIM_H
#define RELOCD_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define SIM_PAGE_SHIFT		12
#define SIM_PAGE_SIZE		(1ULL << SIM_PAGE_SHIFT)
#define SIM_MIB			(1024ULL * 1024)

/*
 * Guest RAM: at least 1 MiB, at most 64 GiB, a whole number of pages
 * (sim_digest.h's seed packing relies on the bound).
 */
#define SIM_MEMORY_MIN		SIM_MIB
#define SIM_MEMORY_MAX		(64 * 1024 * SIM_MIB)
/* The simulated host: 64 GiB unless <dir>/host-memory says otherwise. */
#define SIM_HOST_MEMORY_DEFAULT	(64 * 1024 * SIM_MIB)
#define SIM_HOST_MEMORY_MAX	(1ULL << 50)
#define SIM_HOST_MEMORY_ENV	"RELOCD_SIM_HOST_MEMORY"
/* The workload's rate: 0 (idle) to 64 GiB/s. */
#define SIM_DIRTY_RATE_MAX	(64 * 1024 * SIM_MIB)
/* Xen's DOMID_FIRST_RESERVED is 0x7ff0; domid 0 is dom0. */
#define SIM_DOMID_MAX		0x7fef
/* Guests one directory holds (list() allocates for them). */
#define SIM_GUESTS_MAX		4096

/* How long we wait for a guest to boot, suspend, and die. */
#define SIM_BOOT_TIMEOUT_MS	60000
#define SIM_SUSPEND_TIMEOUT_MS	5000
#define SIM_KILL_TIMEOUT_MS	5000
/* The workload's tick, and the most work it may owe after a stall. */
#define SIM_TICK_US		1000
#define SIM_CREDIT_MAX_US	10000
/* How often a guest checks that its .ctl still exists. */
#define SIM_WATCHDOG_MS		100

/*
 * The stream: pages per PAGES record (1 MiB of data), and how many times
 * over its memory a stream may send pages before we call it hostile.
 */
#define SIM_BATCH_PAGES_MAX	256
#define SIM_STREAM_PASSES_MAX	1024

/*
 * A sim guest's devices, named in its config as a real guest's are, so
 * that the pre-flight (xen_preflight.c) runs on the sim: the bridges its
 * vifs join (an interface name: IFNAMSIZ - 1), the disks it opens, how
 * many PCI devices it has passed through, and disable_migrate.
 */
#define SIM_BRIDGES_MAX		2
#define SIM_BRIDGE_NAME_MAX	15
#define SIM_DISKS_MAX		2
#define SIM_DISK_PATH_MAX	127
#define SIM_PCI_MAX		16

enum sim_pattern {
	SIM_PATTERN_UNIFORM,	/* random pages over all memory */
	SIM_PATTERN_HOT,	/* random pages within the working set */
	SIM_PATTERN_SEQUENTIAL	/* page after page, wrapping around */
};

struct sim_params {
	uint64_t	 dirty_rate;	/* bytes/s at throttle 100 */
	uint64_t	 working_set;	/* bytes; pattern hot only */
	uint32_t	 pattern;	/* enum sim_pattern */
	/*
	 * Percent of pages a created guest's boot leaves zero (every page
	 * whose number ends, modulo 100, below it), as an idle guest's
	 * memory is; the rest gets content.  Only create() uses it, so a
	 * description for a destination leaves it out.
	 */
	uint32_t	 zero_percent;
	/*
	 * Percent of the pages a created guest's boot gives content that
	 * it fills compressibly (sim_memory_fill), as code and text
	 * compress; the rest are noise, as a workload's writes always are.
	 * Only create() uses it.
	 */
	uint32_t	 compressible_percent;
	/* Devices ("": none), only for the pre-flight. */
	char		 bridge[SIM_BRIDGES_MAX][SIM_BRIDGE_NAME_MAX + 1];
	char		 disk[SIM_DISKS_MAX][SIM_DISK_PATH_MAX + 1];
	uint32_t	 pci;
	uint32_t	 disable_migrate;
};

/*
 * The workload's state, which travels in the stream's VCPU record so
 * that the guest goes on where it stopped: the same page sequence, the
 * same counters.
 */
struct sim_vcpu {
	uint64_t	 prng[4];	/* xoshiro256** */
	uint64_t	 pages_written;
	uint64_t	 seq_pos;	/* next page, pattern sequential */
	uint64_t	 heartbeat;
};

#define SIM_CTL_MAGIC		0x314c54434d495352ULL	/* "RSIMCTL1" */
#define SIM_CTL_VERSION		2	/* 2: devices in params */

/*
 * The control area, shared by the guest process and the toolstack, and
 * followed in its file by the log-dirty bitmap (sim_bitmap()).  The
 * identity block is written once by the creator before the guest can be
 * found; the fields after it are only touched with __atomic builtins.
 * vcpu belongs to the workload while it runs and to the toolstack while
 * it is parked (run and running both 0).
 */
struct sim_ctl {
	uint64_t	 magic;
	uint32_t	 version;
	uint32_t	 header_size;	/* sizeof(struct sim_ctl) */
	char		 name[GUEST_NAME_MAX + 1];
	char		 uuid[GUEST_UUID_LEN + 1];
	uint32_t	 domid;
	uint32_t	 vcpus;
	uint64_t	 memory_bytes;
	uint64_t	 pages;
	uint64_t	 bitmap_words;
	struct sim_params params;
	int32_t		 pid;		/* the guest process */

	uint32_t	 state;		/* enum guest_state */
	uint32_t	 run;		/* toolstack: 1 run, 0 park */
	uint32_t	 running;	/* workload: acknowledges run */
	uint32_t	 booted;	/* the guest process is up */
	uint32_t	 throttle;	/* percent, 1..100 */
	uint32_t	 logdirty;	/* 1: set bits in bitmap */
	uint32_t	 pad;
	uint64_t	 heartbeat;	/* ticks while running */
	uint64_t	 progress;	/* pages written, published per tick */
	struct sim_vcpu	 vcpu;
} __attribute__((aligned(64)));

/*
 * Two bitmaps follow the control area in its file, bitmap_words each:
 * the log-dirty bitmap, which the saver enables, reads and clears like
 * Xen's; and the written bitmap, which the workload sets on every write,
 * always.  The saver keeps a page's hash for the digest only while its
 * written bit stays clear, so the digest checks log-dirty
 * independently: a write that log-dirty lost is still a set bit here.
 */
static inline uint64_t *
sim_bitmap(struct sim_ctl *ctl)
{
	return (uint64_t *)(void *)(ctl + 1);
}

static inline uint64_t *
sim_wbitmap(struct sim_ctl *ctl)
{
	return sim_bitmap(ctl) + ctl->bitmap_words;
}

#define SIM_CTL_LEN(pages)	(sizeof(struct sim_ctl) + \
				    2 * (((pages) + 63) / 64) * 8)

/* The stream's integers, little-endian. */
static inline void
sim_put32(uint8_t *p, uint32_t v)
{
	int	i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
sim_put64(uint8_t *p, uint64_t v)
{
	sim_put32(p, (uint32_t)v);
	sim_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t
sim_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
sim_get64(const uint8_t *p)
{
	return (uint64_t)sim_get32(p) | (uint64_t)sim_get32(p + 4) << 32;
}

/* A guest mapped into the toolstack's process. */
struct sim_guest {
	struct sim_ctl	*ctl;
	size_t		 ctl_len;
	uint8_t		*mem;
	uint64_t	 mem_len;
	int		 ctl_fd;
	int		 mem_fd;
};

/* A backend handle: one state directory. */
struct sim {
	char		 dir[4096];
	uint64_t	 host_memory;
	/* A saved guest left mapped until after the commit (sim_guest_park). */
	struct sim_guest parked;
	int		 parked_set;
};

/* What one scan of the directory learns. */
struct sim_census {
	const char	*name;		/* to look for, or NULL */
	const char	*uuid;		/* to look for, or NULL */
	int		 name_found;
	int		 uuid_found;
	struct sim_ctl	 match;		/* the guest found, uuid first */
	uint64_t	 used_memory;
	size_t		 count;
	uint8_t		 domids[SIM_DOMID_MAX / 8 + 1];
	/* list(): every guest's info, if collecting. */
	int		 collect;
	struct guest_info *infos;
};

extern const struct backend_ops	backend_sim_ops;

/* sim_dir.c: the state directory. */
int	 sim_dir_open(const char *, void **, struct backend_error *);
void	 sim_dir_close(void *);
int	 sim_dir_lock(const struct sim *, struct backend_error *);
void	 sim_dir_unlock(int);
void	 sim_dir_remove(const struct sim *, const char *);
int	 sim_path(const struct sim *, const char *, const char *, char *,
	    size_t);
int	 sim_census_take(const struct sim *, struct sim_census *, int *,
	    struct backend_error *);
int	 sim_find(const struct sim *, const char *, struct sim_census *, int *,
	    struct backend_error *);
int	 sim_domid_alloc(const struct sim *, const struct sim_census *,
	    uint32_t *, struct backend_error *);
void	 sim_info_from(const struct sim_ctl *, struct guest_info *);
int	 sim_guest_map(const struct sim *, const char *, struct sim_guest *,
	    struct backend_error *);
int	 sim_guest_get(struct sim *, const char *, struct sim_guest *,
	    struct backend_error *);
void	 sim_guest_unmap(struct sim_guest *);
void	 sim_guest_park(struct sim *, struct sim_guest *);
void	 sim_guest_unpark(struct sim *);

/* sim_guest.c: workload config, the guest process, handshakes. */
int	 sim_config_parse(const char *, uint64_t, struct sim_params *,
	    struct backend_error *);
int	 sim_config_format(const struct sim_params *, char *, size_t);
int	 sim_guest_spawn(int, int, int, struct sim_ctl *,
	    struct backend_error *);
int	 sim_guest_wait_boot(struct sim_guest *, struct backend_error *);
int	 sim_guest_suspend(struct sim_guest *, struct backend_error *);
void	 sim_guest_run(struct sim_guest *);
int	 sim_guest_kill(const struct sim_ctl *, int, struct backend_error *);
int	 sim_lock_try(int, int);
int	 sim_lock_held(int, int);
void	 sim_futex_wait(uint32_t *, uint32_t, uint64_t);
void	 sim_futex_wake(uint32_t *);
void	 sim_vcpu_seed(struct sim_vcpu *, const char *);
void	 sim_memory_fill(uint8_t *, uint64_t, const char *, uint32_t,
	    uint32_t);

/*
 * sim_precopy.c: libxenguest's pre-copy loop.  A snapshot of the
 * log-dirty bitmap (libxenguest's dirty_bitmap_hbuf): the pages a round
 * sends.
 */
struct sim_dirty {
	uint64_t	*bits;
	uint64_t	 words;
	uint64_t	 count;		/* pages in bits */
};

/* What the loop needs of the stream's writer. */
struct sim_precopy {
	int		(*send)(void *, const struct sim_dirty *, uint64_t *,
			    struct backend_error *);
	void		 *arg;
	const uint64_t	 *written;	/* bytes written so far */
	const uint64_t	 *copies;	/* page copies sent, zero ones too */
	const uint64_t	 *zero_pages;	/* pages sent as zero pages */
};

int	 sim_dirty_init(struct sim_dirty *, const struct sim_ctl *,
	    struct backend_error *);
void	 sim_dirty_free(struct sim_dirty *);
void	 sim_bitmap_fill(struct sim_ctl *, uint64_t *);
uint64_t sim_dirty_clean(struct sim_ctl *, struct sim_dirty *);
int	 sim_precopy_live(struct sim_guest *, struct sim_dirty *,
	    const struct backend_save_callbacks *, const struct sim_precopy *,
	    struct backend_save_result *, struct backend_error *);

/* sim_stream.c: save and restore. */
int	 sim_stream_save(struct sim_guest *, int, unsigned int,
	    const struct backend_save_callbacks *,
	    struct backend_save_result *, struct backend_error *);
int	 sim_stream_restore(struct sim_guest *, int,
	    struct backend_restore_result *, struct backend_error *);

/* Byte 0 of a .ctl: the guest is alive.  Byte 1: a save or restore. */
#define SIM_LOCK_ALIVE		0
#define SIM_LOCK_BUSY		1

#endif /* RELOCD_SIM_H */
