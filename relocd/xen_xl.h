/* SPDX-License-Identifier: ISC */
/*
 * The destination's local `xl migrate-receive`, driven the way xl's own
 * sender drives it (tools/xl/xl_migrate.c): banner, xl header, stream,
 * "ready", then "go" and the report, or a closed stdin for "no go".
 * Receiving through xl means the guest arrives built by the local
 * toolstack exactly as `xl migrate` would leave it: its config stored,
 * devices and hotplug scripts run, xl's monitoring daemon attached.
 */
#ifndef RELOCD_XEN_XL_H
#define RELOCD_XEN_XL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XEN_XL_WHY_MAX		256
#define XEN_XL_ARGS_MAX		8

struct xen_xl {
	pid_t	 pid;		/* -1: not running */
	int	 to;		/* xl's stdin */
	int	 from;		/* xl's stdout */
	int	 err;		/* memfd holding xl's stderr */
	int	 status;	/* wait status once reaped; -1 before */
};

void	xen_xl_init(struct xen_xl *);
/* Starts `path args...` and reads its banner; -1 with why on failure. */
int	xen_xl_start(struct xen_xl *, const char *, const char *const *,
	    int, char *, size_t);
/* Writes all of buf to xl's stdin. */
int	xen_xl_write(struct xen_xl *, const void *, size_t, char *, size_t);
/* Copies fd to xl's stdin until EOF on fd; counts into *bytes_r. */
int	xen_xl_copy(struct xen_xl *, int, uint64_t *, char *, size_t);
/*
 * Waits (timeout in ms) for "domain received, ready to unpause".  Gives
 * up at once when cancel_fd (-1: none) turns readable: a stream that
 * stopped short leaves xl waiting for the rest, never saying ready.
 */
int	xen_xl_await_ready(struct xen_xl *, int, int, char *, size_t);
/*
 * Gives permission to unpause and reads the report; 0 only when xl
 * reports its copy started and then exits 0.
 */
int	xen_xl_go(struct xen_xl *, int, char *, size_t);
/*
 * No go: closes xl's stdin, which makes xl destroy its copy and exit
 * (as after a lost sender); kills it after timeout_ms.
 */
void	xen_xl_abandon(struct xen_xl *, int);
/* The last line xl wrote to stderr, for an error message. */
void	xen_xl_last_words(struct xen_xl *, char *, size_t);
/* Passes xl's stderr to relocd's log, at most max lines. */
void	xen_xl_log_stderr(struct xen_xl *, const char *, int);
void	xen_xl_close(struct xen_xl *);

#endif /* RELOCD_XEN_XL_H */
