// SPDX-License-Identifier: ISC
/*
 * auto's rule, from the windows' timings (compress_auto.h says what is
 * measured and why).  Runs in the sending network child.
 */
#include <stdio.h>
#include <string.h>

#include "compress_auto.h"

#define MIB	(1ULL << 20)

void
compress_auto_init(struct compress_auto *a)
{
	memset(a, 0, sizeof(*a));
	a->backoff = COMPRESS_AUTO_WAIT;
}

/*
 * Does compression beat sending as it is, by the margin, in time and in
 * the bytes it saved the link (compress_auto.h says why both)?
 */
static int
auto_compression_wins(const struct compress_auto *a)
{
	return a->us_per_mib[1] * 100 <=
	    a->us_per_mib[0] * (100 - COMPRESS_AUTO_MARGIN_PCT) &&
	    a->compressed_wire_pct <= 100 - COMPRESS_AUTO_MARGIN_PCT;
}

/* MiB/s from microseconds per MiB, for the log. */
static unsigned long long
auto_rate(uint64_t us_per_mib)
{
	return us_per_mib ? 1000000ULL / us_per_mib : 0;
}

/* A window sent the other way ended: keep that way, or go back. */
static int
auto_judge_probe(struct compress_auto *a, char *why, size_t whylen)
{
	int	probed = a->compressing;

	a->probing = 0;
	if (auto_compression_wins(a) == probed) {
		/* The probe's way is the better one now: it stays. */
		a->backoff = COMPRESS_AUTO_WAIT;
		a->wait = a->backoff;
		snprintf(why, whylen, "compression %s: the stream went at %llu "
		    "MiB/s compressed against %llu MiB/s uncompressed "
		    "(relocd-compress auto)", probed ? "on" : "off",
		    auto_rate(a->us_per_mib[1]), auto_rate(a->us_per_mib[0]));
		return 1;
	}
	/* No better: back, and the next probe waits twice as long. */
	a->compressing = !probed;
	if (a->backoff < COMPRESS_AUTO_WAIT_MAX)
		a->backoff *= 2;
	a->wait = a->backoff;
	return 0;
}

/*
 * Accounts for a chunk of bytes of stream that went as wire bytes and
 * took us microseconds, sent the way a->compressing said.  Returns 1,
 * with why for the log, when the way the stream goes has changed for
 * good (a probe won), else 0; a->compressing is the way the next chunk
 * goes.
 */
int
compress_auto_account(struct compress_auto *a, uint64_t bytes, uint64_t wire,
    uint64_t us, char *why, size_t whylen)
{
	int	changed = 0;

	a->bytes += bytes;
	a->wire += wire;
	a->us += us;
	if (a->bytes < COMPRESS_AUTO_WINDOW)
		return 0;
	if (!a->warm)
		a->warm = 1;
	else {
		/* At least 1: a measured way is never "unknown". */
		a->us_per_mib[a->compressing] = a->us * MIB / a->bytes + 1;
		if (a->compressing)
			a->compressed_wire_pct = a->wire * 100 / a->bytes;
		if (a->probing)
			changed = auto_judge_probe(a, why, whylen);
		else if (a->us_per_mib[!a->compressing] == 0 || --a->wait == 0) {
			a->compressing = !a->compressing;
			a->probing = 1;
		}
	}
	a->bytes = a->wire = a->us = 0;
	return changed;
}
