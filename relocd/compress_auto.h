/* SPDX-License-Identifier: ISC */
/*
 * relocd-compress auto (relocctl migrate --compress auto): compress
 * while that makes the stream go faster, which is while the link, not
 * the CPU, is the bottleneck.  Neither is known in advance, and both
 * change during a migration (another stream shares the link, a round
 * of few dirty pages reads slowly), so the sending network child
 * measures as it goes: it times each window of COMPRESS_AUTO_WINDOW
 * stream bytes, end to end (reading the worker's pipe, compressing,
 * waiting for the socket), and compares a window sent one way with the
 * window before it, sent the other.  A window sent compressed must take
 * at most (100 - COMPRESS_AUTO_MARGIN_PCT) % of the time per stream byte
 * of an uncompressed one for compression to go on; an uncompressed one
 * must take no more than that for compression to stay off.  And the
 * compressed window must have shrunk by the margin too: compressing
 * only adds CPU work, so all it can gain is the link's time for the
 * bytes it saved, and a faster window that saved nothing (noise, which
 * zstd stores as it is) timed a quieter moment, not a better way.  Under
 * a sanitizer build, noise timed 6 % faster compressed.  Measuring
 * the way that is not taken costs one window of it: the next probe
 * waits COMPRESS_AUTO_WAIT windows, twice as long after each probe
 * that changed nothing (at most COMPRESS_AUTO_WAIT_MAX), so a steady
 * stream pays for few probes.  The first window warms the link up and
 * is not judged.
 *
 * Pure arithmetic on what the caller measured: no clock, no zstd, so
 * that tests/unit/test_compress_auto.c can play any link and any CPU.
 */
#ifndef RELOCD_COMPRESS_AUTO_H
#define RELOCD_COMPRESS_AUTO_H

#include <stddef.h>
#include <stdint.h>

#define COMPRESS_AUTO_WINDOW		(32ULL << 20)
#define COMPRESS_AUTO_MARGIN_PCT	5
#define COMPRESS_AUTO_WAIT		4
#define COMPRESS_AUTO_WAIT_MAX		64

struct compress_auto {
	int		 compressing;	/* the way the next chunk goes */
	int		 warm;		/* the first window is behind us */
	uint64_t	 bytes, wire, us;	/* this window's, so far */
	/* The last judged window each way: microseconds per MiB, 0 unknown. */
	uint64_t	 us_per_mib[2];
	/* The last judged compressed window's wire bytes, % of its stream. */
	uint64_t	 compressed_wire_pct;
	unsigned	 wait;		/* windows until the next probe */
	unsigned	 backoff;	/* what wait starts from next time */
	int		 probing;	/* this window is a probe */
};

void	compress_auto_init(struct compress_auto *);
int	compress_auto_account(struct compress_auto *, uint64_t, uint64_t,
	    uint64_t, char *, size_t);

#endif /* RELOCD_COMPRESS_AUTO_H */
