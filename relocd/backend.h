/* SPDX-License-Identifier: ISC */
/*
 * The hypervisor backend interface, shaped after libxenguest so that the
 * xen backend maps onto it directly and the sim backend mirrors it:
 *
 *   save()    is xc_domain_save(xch, fd, dom, XCFLAGS_LIVE, &cb, ...):
 *             round 0 sends every page, later rounds what was dirtied,
 *             cb.precopy_policy decides between rounds, then the guest is
 *             suspended, the last pages, vCPU state and an end record go.
 *   restore() is xc_domain_restore() into a guest made by reserve().
 *   resume()  is libxl_domain_resume(..., suspend_cancel=1): the source
 *             runs on after a failure before "go".
 *
 * Backends run only in the worker (root, no network): they trust their
 * caller, but restore() treats the stream as untrusted input and checks
 * every record's bounds.
 */
#ifndef RELOCD_BACKEND_H
#define RELOCD_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "checks.h"
#include "guest.h"
#include "pause.h"

/*
 * What a destination is asked to make room for.  config is the backend's
 * own description (sim: workload sxp; xen: libxl's JSON domain config),
 * at most BACKEND_CONFIG_MAX bytes, NUL-terminated.
 */
/* The source host's facts a destination checks (xen: xen_preflight.h). */
#define BACKEND_FACTS_MAX	512

struct guest_desc {
	struct guest_info info;
	const char	*config;
	/*
	 * The source host's facts for the destination's pre-flight ("" if
	 * none: sim, or a save file, whose clock is rightly old).
	 */
	char		 facts[BACKEND_FACTS_MAX + 1];
	/*
	 * Where describe() (source) and reserve() (destination) list their
	 * pre-flight findings, passed or failed (checks.h); NULL: the
	 * caller wants none.
	 */
	struct check_list *checks;
};

#define BACKEND_CONFIG_MAX	(60 * 1024)
#define BACKEND_NOTE_MAX	1024

/* Why an operation failed; code maps onto the protocol's error codes. */
enum backend_errcode {
	BE_OK,
	BE_NOT_FOUND,		/* no such guest */
	BE_CLASH,		/* name or uuid already in use */
	BE_NO_MEMORY,		/* not enough free memory for the guest */
	BE_BAD_STATE,		/* e.g. not running, already migrating */
	BE_UNSUPPORTED,		/* this backend or hypervisor cannot */
	BE_STREAM,		/* malformed or truncated stream */
	BE_DIGEST,		/* memory digest mismatch: image not good */
	BE_ABORTED,		/* the policy or the caller aborted */
	BE_IO,			/* reading or writing the fd failed */
	BE_INTERNAL
};

struct backend_error {
	int		 code;		/* enum backend_errcode */
	char		 msg[256];	/* one sentence, for the user */
};

/* As libxenguest's struct precopy_stats, plus what a policy needs. */
struct backend_precopy_stats {
	unsigned int	 iteration;	/* rounds completed */
	uint64_t	 total_written;	/* bytes written to the fd so far */
	long		 dirty_count;	/* pages dirty now; -1 unknown */
	uint64_t	 page_size;
	uint64_t	 memory_pages;
	/*
	 * Sim only (0 elsewhere): the memory sent so far, every page copy
	 * at its full size, and how many pages went as zero pages.
	 */
	uint64_t	 memory_sent;
	uint64_t	 zero_pages;
};

/* Return values of precopy_policy, as libxenguest's XGS_POLICY_*. */
#define BACKEND_POLICY_ABORT		(-1)
#define BACKEND_POLICY_CONTINUE		0
#define BACKEND_POLICY_STOP_AND_COPY	1

/*
 * precopy_policy is called as libxenguest 4.17 calls it, by both
 * backends (policy.c has the source's lines): first with iteration 0 and
 * dirty_count = every page; then, after each live send, once with
 * iteration one higher and dirty_count -1 (the bitmap not read yet), and
 * on "continue" once more with the count.  A stop with the count known
 * still sends those pages live before the suspend.  A NULL
 * precopy_policy means libxenguest's own rule (policy.h, xen-default).
 */
struct backend_save_callbacks {
	/* Between rounds; decides whether to go on, stop, or abort. */
	int	(*precopy_policy)(const struct backend_precopy_stats *,
		    void *);
	/* The guest has just been suspended (when_ms: CLOCK_REALTIME). */
	void	(*suspended)(uint64_t, void *);
	void	 *data;
	/*
	 * Optional bandwidth cap: told how many bytes were just written,
	 * returns how many microseconds the writer waits before the next
	 * write (policy_pace()).  NULL: no cap.
	 */
	uint64_t (*pace)(uint64_t, void *);
};

struct backend_save_result {
	uint64_t	 bytes;		/* written to the fd */
	unsigned int	 rounds;	/* pre-copy rounds, final excluded */
	uint64_t	 final_pages;	/* sent while suspended */
	uint64_t	 suspend_ms;	/* CLOCK_REALTIME at suspend */
	/*
	 * Sim only: milliseconds spent hashing memory for the digest while
	 * suspended.  It is part of the measured downtime, but a real
	 * hypervisor has no such cost, so reports may subtract it.
	 */
	uint64_t	 digest_ms;
	/*
	 * Sim only (0 elsewhere): the memory the stream carried, every
	 * round's page copies at their full size, against its bytes; and
	 * how many pages went as zero pages (their page numbers only).
	 */
	uint64_t	 memory_sent;
	uint64_t	 zero_pages;
	/*
	 * Sim only, with BACKEND_SAVE_SKIP_REDIRTIED: the pages live rounds
	 * left out because the guest had dirtied them again (the next
	 * round, or the final copy, sent them).
	 */
	uint64_t	 skipped_pages;
	/*
	 * The source's parts of the pause (pause.h) the backend measured:
	 * suspend, final copy, state, digest; zeroed, all unknown.
	 */
	struct pause	 pause;
};

struct backend_restore_result {
	uint64_t	 bytes;		/* read from the fd */
	uint64_t	 suspend_ms;	/* the source's, from the stream */
	uint64_t	 digest_ms;	/* sim only: verifying the digest */
	uint64_t	 memory_sent;	/* sim only: as in the save's result */
	uint64_t	 zero_pages;
	/* The destination's parts of the pause it measured: restore. */
	struct pause	 pause;
};

#define BACKEND_SAVE_LIVE	0x1	/* pre-copy while running */
/* The reader is relocd 0.1.0 (protocol 1): sim writes its stream version. */
#define BACKEND_SAVE_STREAM_V1	0x2
/* The reader takes zero pages as page numbers (protocol 4; sim only). */
#define BACKEND_SAVE_ZERO_PAGES	0x4
/*
 * Sim only: a live round leaves out a page the guest has dirtied again
 * since the round began (sim_stream.c); the destination needs nothing
 * for it.  On Xen libxenguest sends the rounds: the xen backend refuses.
 */
#define BACKEND_SAVE_SKIP_REDIRTIED	0x8

struct backend_ops {
	const char	*name;
	/*
	 * The argument: sim, the directory of its "hypervisor"
	 * (relocd-sim-dir); xen, the xl program (relocd-xl-command).
	 */
	int	(*open)(const char *, void **, struct backend_error *);
	void	(*close)(void *);
	/* Caller frees *guests_r with free(). */
	int	(*list)(void *, struct guest_info **, size_t *,
		    struct backend_error *);
	int	(*lookup)(void *, const char *, struct guest_info *,
		    struct backend_error *);
	int	(*free_memory)(void *, uint64_t *, struct backend_error *);
	/* The description a destination needs; caller frees *config_r. */
	int	(*describe)(void *, const char *, struct guest_desc *,
		    char **, struct backend_error *);
	/* Destination: check name/uuid/memory, make an empty paused guest. */
	int	(*reserve)(void *, const struct guest_desc *,
		    struct guest_info *, struct backend_error *);
	/*
	 * The fd is plain and blocking, as libxenguest wants it.  Callers
	 * ignore SIGPIPE, so that a reader that goes away is BE_IO.
	 */
	int	(*save)(void *, const char *, int, unsigned int,
		    const struct backend_save_callbacks *,
		    struct backend_save_result *, struct backend_error *);
	/*
	 * Reads the stream from the first fd.  The second (-1: none) turns
	 * readable when the caller wants to give up, say the source
	 * aborted: a backend that may wait after the stream's last byte
	 * (xen, for xl's "ready") must watch it.
	 */
	int	(*restore)(void *, const char *, int, int,
		    struct backend_restore_result *, struct backend_error *);
	int	(*resume)(void *, const char *, struct backend_error *);
	int	(*unpause)(void *, const char *, struct backend_error *);
	int	(*destroy)(void *, const char *, struct backend_error *);
	/*
	 * Auto-converge: slow the guest to percent (1..100) of its speed.
	 * The caller sets 100 again when a migration fails or aborts.
	 */
	int	(*set_throttle)(void *, const char *, unsigned int,
		    struct backend_error *);
	/*
	 * A short note (at most BACKEND_NOTE_MAX bytes) that lives with a
	 * guest and goes with it when it is destroyed: relocd records in it
	 * a migration that is past its commit, or half-received, so that
	 * the record outlives relocd itself but never the guest.  A NULL
	 * note clears it; get_note() fails with BE_NOT_FOUND if there is
	 * none.  (xen: libxl_userdata_store(), as xl keeps its own.)
	 * Without them a backend cannot migrate: the commit could not be
	 * told from a failure after a crash.
	 */
	int	(*set_note)(void *, const char *, const char *,
		    struct backend_error *);
	int	(*get_note)(void *, const char *, char *, size_t,
		    struct backend_error *);
	/* Sim only (NULL elsewhere): create and start a guest. */
	int	(*create)(void *, const struct guest_desc *,
		    struct guest_info *, struct backend_error *);
};

/* The ops for enum conf_backend, or NULL for a value that names none. */
const struct backend_ops *backend_get(int);
const char	*backend_errcode_name(int);
/* Refuses (BE_CLASH) a guest that would take dom0's name or uuid. */
int		 backend_check_not_host(const struct guest_info *,
		    struct backend_error *);
/*
 * Fails with code for the failures in a list of findings: the one
 * failure's sentence, or how many failed and the first (the list has
 * them all).
 */
int		 backend_fail_checks(struct backend_error *, int,
		    const struct check_list *);
/*
 * Fills err (if not NULL) with code and a printf-style message, and
 * returns -1 so that a failure path reads "return backend_fail(...)".
 */
int		 backend_fail(struct backend_error *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

#endif /* RELOCD_BACKEND_H */
