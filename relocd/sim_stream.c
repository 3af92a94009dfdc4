// SPDX-License-Identifier: ISC
/*
 * Save and restore for the sim backend, mirroring xc_domain_save() and
 * xc_domain_restore(): log-dirty on, round 0 sends every page, each
 * later round the pages dirtied since, the pre-copy policy deciding
 * between rounds; then suspend, the last dirty pages, the vCPU state, a
 * digest of the page copies and of memory at suspend, and an end record.
 *
 * Runs in the worker (root).  save() trusts its guest.  restore() trusts
 * nothing in the stream: it may come from a peer, so every count,
 * length and page number is checked against the reserved guest before
 * a byte of it is used, and it never reads past the end record.
 *
 * The stream, version 3.  Integers are little-endian.
 *
 *   header, 32 bytes:
 *	magic "RLCDSIM\n" (8) | version u32 (3) | page size u32 (4096) |
 *	memory pages u64 | flags u32 (bit 0: live) | reserved u32 (0)
 *   then records, each: type u32 | length u32 | body (length bytes)
 *	PAGES  1: count u32 (1..256) | reserved u32 (0) |
 *		  count x page number u64 | count x page contents;
 *		  length is exactly 8 + count x (8 + page size)
 *	VCPU   2: prng u64 x 4 | pages written u64 | next sequential
 *		  page u64 | heartbeat u64; length 56
 *	DIGEST 3: sum of the low halves u64 | sum of the high halves u64 |
 *		  page copies u64 | suspend time, ms since the epoch u64;
 *		  length 32 (sim_digest.c defines the sums)
 *	END    4: length 0
 *	ZERO_PAGES 5: count u32 (1..SIM_ZERO_BATCH_MAX) | reserved u32 (0)
 *		  | count x page number u64; length exactly 8 + count x 8:
 *		  pages whose contents are all zero (sim_zero.c)
 *   in the order header, PAGES and ZERO_PAGES..., VCPU, DIGEST, END.
 *
 * Version 2 (relocd 0.2.0, protocols 2 and 3) has no ZERO_PAGES: every
 * page travels whole.  Version 1 (relocd 0.1.0, protocol 1) differs
 * from 2 only in its DIGEST: the SHA-256 of the list of every page's
 * SHA-256 (32) | suspend time u64; length 40.  restore() reads all
 * three; save() writes version 3 only for a destination that chose
 * protocol 4 or later (BACKEND_SAVE_ZERO_PAGES), and version 1 only for
 * one that chose protocol 1 (BACKEND_SAVE_STREAM_V1).
 *
 * A page may come many times (once per round it was dirty in); the
 * last copy wins.  A stream may carry at most SIM_STREAM_PASSES_MAX
 * times the guest's pages.
 *
 * The digest makes a sim migration prove that nothing was lost: the
 * destination's memory after the stream is the source's at suspend.
 * TLS already authenticates the bytes, so the digest need not resist
 * forgery, only catch a lost, misplaced or stale page; and it must cost
 * little at line rate, little memory whatever the guest's size, and
 * almost nothing at suspend, where every millisecond is downtime.
 * Version 1 kept the suspend short by hashing each page as it went,
 * but at a SHA-256 per page (1.7 GB/s here), into a hash list of 32
 * bytes per page on each side (256 MiB for a 64 GiB guest) whose own
 * hash at suspend still took about 60 ms per 4 GiB.
 *
 * Version 2 digests the sequence of page copies, not memory.  Each
 * side adds, for the n-th page copy of the stream, the XXH3-128 (about
 * 18 GB/s here) of its contents seeded with n and its page number to a
 * pair of sums: the source over the copy it sends, the destination
 * over the page as it landed in its memory, after the write, so a copy
 * written to the wrong place counts against it.  Equal digests mean
 * (but for a chance of about 2^-64 per error: the digest is no MAC) the
 * same copies of the same pages in the same order, so the destination's
 * last copy of every page is the source's last copy.  The source then
 * proves, without trusting log-dirty, that its last copies are its
 * memory at suspend: a page's written bit (sim.h) is cleared before the
 * copy is taken, every bit is set before round 0, and after the final
 * round each page whose bit is set again (written after its last copy,
 * because log-dirty missed it, or never sent) is added once more as a
 * copy the destination never gets.  Then the digests differ.
 *
 * Why not a digest of memory, like version 1?  The destination could
 * keep one cheaply (subtract a page's old hash before overwriting it),
 * but the source cannot: a page's old copy is gone from its memory, so
 * it would have to store every page's hash (8-16 bytes per page still
 * grows with the guest) or hash all of memory at suspend (a quarter of
 * a second per 4 GiB, all of it downtime).  A hash per chunk of pages
 * shrinks the store, but then each page dirty at suspend costs
 * re-hashing its whole chunk there, and re-hashing stale chunks
 * between rounds chases the very pages the rounds send anyway.
 * Digesting the copies keeps 24 bytes whatever the guest's size, and
 * at suspend scans only the written bitmap (32 KiB per GiB).  The
 * price: a stream that lost a copy fails even when a later copy of the
 * same page would have repaired memory, which is right, since a stream
 * that loses bytes is broken.
 *
 * With BACKEND_SAVE_SKIP_REDIRTIED (relocctl migrate --skip-redirtied)
 * a live round leaves out each page whose log-dirty bit is set again
 * when its turn comes (sim_redirtied()).  The digest needs nothing for
 * it: a copy not sent is not digested by either side, and the page's
 * bits stay set, so the next snapshot (the final one, for the last
 * live round) sends it, clearing its written bit first as for any
 * copy.  The stream's format does not change: any destination reads it.
 *
 * Pages are read into the guest's memory straight from the stream: one
 * read for a PAGES record's head and page numbers, which are checked,
 * then one readv for its pages (more only when the pipe returns less).
 * sim_zero.c says how zero pages (version 3) keep their places in the
 * digest.
 */
#include <sys/uio.h>
#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "backend.h"
#include "log.h"
#include "sim.h"
#include "sim_digest.h"
#include "sim_zero.h"
#include "util.h"

#define SIM_STREAM_MAGIC	"RLCDSIM\n"
#define SIM_STREAM_VERSION	3	/* with ZERO_PAGES */
#define SIM_STREAM_VERSION_V2	2
#define SIM_STREAM_VERSION_V1	1
#define SIM_STREAM_FLAG_LIVE	0x1
#define SIM_HEADER_LEN		32
#define SIM_RECORD_HEAD_LEN	8
#define SIM_PAGES_HEAD_LEN	8
#define SIM_VCPU_LEN		56
/* A DIGEST record's body: the digest, then the suspend time (u64). */
#define SIM_DIGEST_REC_LEN(v)	((v) == SIM_STREAM_VERSION_V1 ? \
				    SIM_DIGEST_V1_LEN + 8 : SIM_DIGEST_V2_LEN + 8)
/* The longest pause a pacing callback may ask for at once. */
#define SIM_PACE_MAX_US		(60ULL * 1000000)

enum sim_record {
	SIM_REC_PAGES = 1,
	SIM_REC_VCPU = 2,
	SIM_REC_DIGEST = 3,
	SIM_REC_END = 4,
	SIM_REC_ZERO = SIM_REC_ZERO_PAGES
};

struct sim_writer {
	int		 fd;
	uint64_t	 bytes;
	struct sim_digest dig;
	const struct backend_save_callbacks *cb;
	uint8_t		*data;		/* SIM_BATCH_PAGES_MAX pages */
	unsigned int	 n;		/* pages in the batch */
	/* Version 3: the batch's zero pages, as a ZERO_PAGES record. */
	bool		 zero;
	uint8_t		*zrec;		/* SIM_ZERO_REC_MAX bytes */
	uint32_t	 nz;
	uint64_t	 copies;	/* page copies sent, zero ones too */
	uint64_t	 zero_pages;
	/* BACKEND_SAVE_SKIP_REDIRTIED: live rounds peek at log-dirty. */
	bool		 skip_redirtied;
	uint64_t	 skipped;	/* pages a live round left out */
	/* Record head, PAGES head, then the batch's page numbers. */
	uint8_t		 head[SIM_RECORD_HEAD_LEN + SIM_PAGES_HEAD_LEN +
			    SIM_BATCH_PAGES_MAX * 8];
};

struct sim_reader {
	struct sim_guest *g;
	int		 fd;
	uint64_t	 bytes;
	uint32_t	 version;	/* the stream's */
	struct sim_digest dig;
	uint64_t	 pages_in;	/* page copies, zero ones too */
	uint64_t	 zero_in;
	struct sim_landed landed;	/* version 3: pages data reached */
	uint8_t		*zbody;		/* a ZERO_PAGES record's body */
	struct sim_vcpu	 vcpu;
	uint8_t		 digest[SIM_DIGEST_MAX_LEN];
	size_t		 digest_len;
	uint64_t	 suspend_ms;
	uint64_t	 digest_ms;
	/* A PAGES record's head and page numbers, then where its pages go. */
	uint8_t		 head[SIM_PAGES_HEAD_LEN + SIM_BATCH_PAGES_MAX * 8];
	struct iovec	 iov[SIM_BATCH_PAGES_MAX];
};

static void
sim_sleep_us(uint64_t us)
{
	struct timespec	ts, rem;

	if (us > SIM_PACE_MAX_US)
		us = SIM_PACE_MAX_US;
	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

/* Writes all of iov (util_writev_all consumes it); then paces. */
static int
sim_emit(struct sim_writer *w, struct iovec *iov, int iovcnt,
    struct backend_error *err)
{
	size_t	 total = 0;
	int	 i;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (util_writev_all(w->fd, iov, iovcnt) == -1)
		return backend_fail(err, BE_IO,
		    "writing the stream failed: %s", strerror(errno));
	w->bytes += total;
	if (w->cb != NULL && w->cb->pace != NULL)
		sim_sleep_us(w->cb->pace(total, w->cb->data));
	return 0;
}

static int
sim_write_record(struct sim_writer *w, uint32_t type, const uint8_t *body,
    uint32_t len, struct backend_error *err)
{
	uint8_t		head[SIM_RECORD_HEAD_LEN];
	struct iovec	iov[2];

	sim_put32(head, type);
	sim_put32(head + 4, len);
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof(head);
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = len;
	return sim_emit(w, iov, len > 0 ? 2 : 1, err);
}

/*
 * The batch: its PAGES record, then its ZERO_PAGES record, in one
 * write.  The zero pages are hashed here, after the data pages, in the
 * order the destination will read them.
 */
static int
sim_flush(struct sim_writer *w, struct backend_error *err)
{
	struct iovec	iov[3];
	size_t		pfn_len = (size_t)w->n * 8;
	int		n = 0;

	if (w->n > 0) {
		sim_put32(w->head, SIM_REC_PAGES);
		sim_put32(w->head + 4, (uint32_t)(SIM_PAGES_HEAD_LEN +
		    pfn_len + w->n * SIM_PAGE_SIZE));
		sim_put32(w->head + 8, w->n);
		sim_put32(w->head + 12, 0);
		iov[n].iov_base = w->head;
		iov[n++].iov_len = SIM_RECORD_HEAD_LEN + SIM_PAGES_HEAD_LEN +
		    pfn_len;
		iov[n].iov_base = w->data;
		iov[n++].iov_len = w->n * SIM_PAGE_SIZE;
	}
	if (w->nz > 0) {
		if (sim_zero_digest(w->zrec + 8, w->nz, &w->dig, err) == -1)
			return -1;
		iov[n].iov_base = w->zrec;
		iov[n++].iov_len = sim_zero_encode(w->zrec, w->nz);
	}
	w->n = 0;
	w->nz = 0;
	return n > 0 ? sim_emit(w, iov, n, err) : 0;
}

/*
 * One page into the batch: a zero page (version 3) as its number, any
 * other copied and hashed.  Flushes when either kind is full.
 */
static int
sim_send_page(struct sim_guest *g, struct sim_writer *w, uint64_t pfn,
    struct backend_error *err)
{
	const uint8_t	*page = g->mem + pfn * SIM_PAGE_SIZE;
	uint8_t		*copy = w->data + w->n * SIM_PAGE_SIZE;

	w->copies++;
	if (w->zero && sim_page_zero(page)) {
		sim_zero_put(w->zrec, w->nz, pfn);
		w->zero_pages++;
		if (++w->nz == SIM_ZERO_BATCH_MAX)
			return sim_flush(w, err);
		return 0;
	}
	sim_put64(w->head + SIM_RECORD_HEAD_LEN + SIM_PAGES_HEAD_LEN +
	    w->n * 8, pfn);
	memcpy(copy, page, SIM_PAGE_SIZE);
	if (sim_digest_page(&w->dig, pfn, copy, err) == -1)
		return -1;
	if (++w->n == SIM_BATCH_PAGES_MAX)
		return sim_flush(w, err);
	return 0;
}

/*
 * Whether a live round may leave page pfn out ("peeking at the bitmap",
 * Clark et al., NSDI 2005): its log-dirty bit is set again, so the
 * guest wrote it after this round's snapshot, and the copy would be
 * stale before it landed.  Only the saver clears a log-dirty bit, and
 * only by taking a snapshot, so the page is in the next one: the next
 * round's, or the final one taken at suspend, which the pause sends
 * whole.  Its written bit is set too (the workload sets it first), so
 * until that copy the digest's scan at suspend would catch a loss.
 */
static bool
sim_redirtied(struct sim_guest *g, uint64_t pfn)
{
	return (__atomic_load_n(&sim_bitmap(g->ctl)[pfn / 64],
	    __ATOMIC_ACQUIRE) & (1ULL << (pfn % 64))) != 0;
}

/*
 * Sends the pages of a snapshot of the log-dirty bitmap (sim_precopy.c
 * takes it, and clears their written bits, before a copy is taken).  A
 * live round (live) with skip_redirtied leaves out the pages dirtied
 * again since; the final round, with the guest suspended, sends all.
 */
static int
sim_send_dirty(struct sim_guest *g, struct sim_writer *w,
    const struct sim_dirty *d, int live, uint64_t *sent_r,
    struct backend_error *err)
{
	uint64_t	 i, bits, pfn, sent = 0;
	bool		 peek = live && w->skip_redirtied;

	for (i = 0; i < d->words; i++) {
		for (bits = d->bits[i]; bits != 0; bits &= bits - 1) {
			pfn = i * 64 + (uint64_t)__builtin_ctzll(bits);
			if (pfn >= g->ctl->pages)
				continue;
			if (peek && sim_redirtied(g, pfn)) {
				w->skipped++;
				continue;
			}
			if (sim_send_page(g, w, pfn, err) == -1)
				return -1;
			sent++;
		}
	}
	*sent_r = sent;
	return sim_flush(w, err);
}

/*
 * After the final round, with the guest suspended: every page written
 * since its last copy was taken goes into the digest as it is now
 * (sim_digest_page() says how).  With log-dirty working there are none,
 * and this is a scan of the written bitmap; any found were lost.
 */
static int
sim_digest_written(struct sim_guest *g, struct sim_digest *d,
    struct backend_error *err)
{
	struct sim_ctl	*ctl = g->ctl;
	uint64_t	 i, bits, pfn, n = 0;

	for (i = 0; i < ctl->bitmap_words; i++) {
		bits = __atomic_exchange_n(&sim_wbitmap(ctl)[i], 0,
		    __ATOMIC_ACQ_REL);
		for (; bits != 0; bits &= bits - 1) {
			pfn = i * 64 + (uint64_t)__builtin_ctzll(bits);
			if (pfn >= ctl->pages)
				continue;
			if (sim_digest_page(d, pfn, g->mem + pfn * SIM_PAGE_SIZE,
			    err) == -1)
				return -1;
			n++;
		}
	}
	if (n > 0)
		log_warnx("sim: %s: %llu written pages were never sent; the "
		    "digest will not match", ctl->name, (unsigned long long)n);
	return 0;
}

/* sim_precopy_live()'s way to send a snapshot. */
struct sim_save_live {
	struct sim_guest	*g;
	struct sim_writer	*w;
};

static int
sim_save_send(void *arg, const struct sim_dirty *d, uint64_t *sent_r,
    struct backend_error *err)
{
	struct sim_save_live	*sl = arg;

	return sim_send_dirty(sl->g, sl->w, d, 1, sent_r, err);
}

static int
sim_save_suspend(struct sim_guest *g, const struct backend_save_callbacks *cb,
    struct backend_save_result *res, struct backend_error *err)
{
	if (sim_guest_suspend(g, err) == -1)
		return -1;
	__atomic_store_n(&g->ctl->state, GUEST_STATE_SUSPENDED,
	    __ATOMIC_SEQ_CST);
	res->suspend_ms = util_realtime_ms();
	if (cb != NULL && cb->suspended != NULL)
		cb->suspended(res->suspend_ms, cb->data);
	return 0;
}

/* VCPU, DIGEST, END: the guest is suspended, its vcpu state published. */
static int
sim_save_tail(struct sim_guest *g, struct sim_writer *w,
    struct backend_save_result *res, struct backend_error *err)
{
	const struct sim_vcpu	*v = &g->ctl->vcpu;
	uint8_t			 vcpu[SIM_VCPU_LEN], dig[SIM_DIGEST_MAX_LEN + 8];
	uint64_t		 t0;
	size_t			 len;
	int			 i;

	for (i = 0; i < 4; i++)
		sim_put64(vcpu + 8 * i, v->prng[i]);
	sim_put64(vcpu + 32, v->pages_written);
	sim_put64(vcpu + 40, v->seq_pos);
	sim_put64(vcpu + 48, v->heartbeat);
	if (sim_write_record(w, SIM_REC_VCPU, vcpu, sizeof(vcpu), err) == -1)
		return -1;
	t0 = util_now_us();
	if (sim_digest_written(g, &w->dig, err) == -1 ||
	    sim_digest_final(&w->dig, dig, &len, err) == -1)
		return -1;
	res->digest_ms = (util_now_us() - t0) / 1000;
	sim_put64(dig + len, res->suspend_ms);
	if (sim_write_record(w, SIM_REC_DIGEST, dig, (uint32_t)len + 8,
	    err) == -1)
		return -1;
	return sim_write_record(w, SIM_REC_END, NULL, 0, err);
}

/*
 * save(): with BACKEND_SAVE_LIVE, pre-copy rounds, then suspend and the
 * final round; without, suspend first and send everything once.  On
 * failure the guest may be left suspended (resume() is the caller's
 * call), but never with log-dirty on.  BACKEND_SAVE_STREAM_V1 writes
 * the stream relocd 0.1.0 reads; without BACKEND_SAVE_ZERO_PAGES, the
 * version 2 that relocd 0.2.0 reads, every page whole.
 */
int
sim_stream_save(struct sim_guest *g, int fd, unsigned int flags,
    const struct backend_save_callbacks *cb, struct backend_save_result *res,
    struct backend_error *err)
{
	struct sim_writer	w;
	struct sim_dirty	d;
	struct sim_save_live	sl = { g, &w };
	struct sim_precopy	sp = { sim_save_send, &sl, &w.bytes, &w.copies,
				    &w.zero_pages };
	struct iovec		iov;
	uint8_t			hdr[SIM_HEADER_LEN];
	uint32_t		version = SIM_STREAM_VERSION_V2;
	uint64_t		t;
	int			rc = -1, live = (flags & BACKEND_SAVE_LIVE) != 0;

	memset(&w, 0, sizeof(w));
	memset(&d, 0, sizeof(d));
	w.fd = fd;
	w.cb = cb;
	if (flags & BACKEND_SAVE_STREAM_V1)
		version = SIM_STREAM_VERSION_V1;
	else if (flags & BACKEND_SAVE_ZERO_PAGES)
		version = SIM_STREAM_VERSION;
	w.zero = version == SIM_STREAM_VERSION;
	w.skip_redirtied = (flags & BACKEND_SAVE_SKIP_REDIRTIED) != 0;
	/* Versions 2 and 3 share the digest: sim_digest.c's version 2. */
	if (sim_digest_init(&w.dig, version == SIM_STREAM_VERSION_V1 ? 1 : 2,
	    g->ctl->pages, err) == -1)
		goto out;
	if ((w.data = malloc(SIM_BATCH_PAGES_MAX * SIM_PAGE_SIZE)) == NULL ||
	    (w.zero && (w.zrec = malloc(SIM_ZERO_REC_MAX)) == NULL)) {
		backend_fail(err, BE_INTERNAL, "out of memory");
		goto out;
	}
	if (sim_dirty_init(&d, g->ctl, err) == -1)
		goto out;
	sim_bitmap_fill(g->ctl, sim_wbitmap(g->ctl));
	memcpy(hdr, SIM_STREAM_MAGIC, 8);
	sim_put32(hdr + 8, version);
	sim_put32(hdr + 12, SIM_PAGE_SIZE);
	sim_put64(hdr + 16, g->ctl->pages);
	sim_put32(hdr + 24, live ? SIM_STREAM_FLAG_LIVE : 0);
	sim_put32(hdr + 28, 0);
	iov.iov_base = hdr;
	iov.iov_len = sizeof(hdr);
	if (sim_emit(&w, &iov, 1, err) == -1)
		goto out;
	if (live && sim_precopy_live(g, &d, cb, &sp, res, err) == -1)
		goto out;
	t = util_now_us();
	if (sim_save_suspend(g, cb, res, err) == -1)
		goto out;
	pause_set(&res->pause, PAUSE_SUSPEND, util_ms_since(&t));
	if (!live)
		sim_bitmap_fill(g->ctl, sim_bitmap(g->ctl));
	/* The final snapshot: what was dirtied since the last one. */
	sim_dirty_clean(g->ctl, &d);
	if (sim_send_dirty(g, &w, &d, 0, &res->final_pages, err) == -1)
		goto out;
	pause_set(&res->pause, PAUSE_FINAL, util_ms_since(&t));
	__atomic_store_n(&g->ctl->logdirty, 0, __ATOMIC_SEQ_CST);
	if (sim_save_tail(g, &w, res, err) == -1)
		goto out;
	/* The tail is the VCPU record, then the digest's work and END. */
	pause_set(&res->pause, PAUSE_DIGEST, (int64_t)res->digest_ms);
	pause_set(&res->pause, PAUSE_STATE, util_ms_since(&t) -
	    (int64_t)res->digest_ms);
	rc = 0;
out:
	__atomic_store_n(&g->ctl->logdirty, 0, __ATOMIC_SEQ_CST);
	res->bytes = w.bytes;
	res->memory_sent = w.copies * SIM_PAGE_SIZE;
	res->zero_pages = w.zero_pages;
	res->skipped_pages = w.skipped;
	sim_digest_free(&w.dig);
	sim_dirty_free(&d);
	free(w.data);
	free(w.zrec);
	return rc;
}

/* Fills iov from the stream; running out is a malformed stream. */
static int
sim_readv(struct sim_reader *r, struct iovec *iov, int iovcnt, size_t len,
    struct backend_error *err)
{
	size_t	got;
	int	rc;

	rc = util_readv_all(r->fd, iov, iovcnt, &got);
	r->bytes += got;
	if (rc == -1)
		return backend_fail(err, BE_IO, "reading the stream failed: %s",
		    strerror(errno));
	if (got < len)
		return backend_fail(err, BE_STREAM, "the stream ended early, "
		    "after %llu bytes", (unsigned long long)r->bytes);
	return 0;
}

static int
sim_read(struct sim_reader *r, void *buf, size_t len, struct backend_error *err)
{
	struct iovec	iov = { buf, len };

	return sim_readv(r, &iov, 1, len, err);
}

static int
sim_read_header(struct sim_reader *r, struct backend_error *err)
{
	uint8_t		hdr[SIM_HEADER_LEN];
	uint64_t	pages;

	if (sim_read(r, hdr, sizeof(hdr), err) == -1)
		return -1;
	if (memcmp(hdr, SIM_STREAM_MAGIC, 8) != 0)
		return backend_fail(err, BE_STREAM, "not a sim stream");
	r->version = sim_get32(hdr + 8);
	if (r->version < SIM_STREAM_VERSION_V1 ||
	    r->version > SIM_STREAM_VERSION)
		return backend_fail(err, BE_STREAM, "sim stream version %u is "
		    "not supported (this relocd reads %d to %d)", r->version,
		    SIM_STREAM_VERSION_V1, SIM_STREAM_VERSION);
	if (sim_get32(hdr + 12) != SIM_PAGE_SIZE ||
	    (sim_get32(hdr + 24) & ~SIM_STREAM_FLAG_LIVE) != 0 ||
	    sim_get32(hdr + 28) != 0)
		return backend_fail(err, BE_STREAM, "bad sim stream header");
	if ((pages = sim_get64(hdr + 16)) != r->g->ctl->pages)
		return backend_fail(err, BE_STREAM, "the stream is for a guest "
		    "of %llu pages, not %llu", (unsigned long long)pages,
		    (unsigned long long)r->g->ctl->pages);
	if (r->version == SIM_STREAM_VERSION &&
	    (sim_landed_init(&r->landed, pages, err) == -1 ||
	    (r->zbody = malloc(SIM_ZERO_REC_MAX)) == NULL))
		return backend_fail(err, BE_INTERNAL, "out of memory");
	return sim_digest_init(&r->dig, r->version == SIM_STREAM_VERSION_V1 ?
	    1 : 2, pages, err);
}

/*
 * A PAGES record's head and page numbers, in one read: the record's
 * length says how many pages it holds, and the head must agree.
 */
static int
sim_read_pages_head(struct sim_reader *r, uint32_t len, uint32_t *count_r,
    struct backend_error *err)
{
	uint64_t	 pages = r->g->ctl->pages, pfn;
	uint32_t	 count, i;

	if (len < SIM_PAGES_HEAD_LEN || (len - SIM_PAGES_HEAD_LEN) %
	    (8 + SIM_PAGE_SIZE) != 0)
		return backend_fail(err, BE_STREAM, "PAGES record length %u "
		    "is not 8 + a whole number of pages", len);
	count = (uint32_t)((len - SIM_PAGES_HEAD_LEN) / (8 + SIM_PAGE_SIZE));
	if (count == 0 || count > SIM_BATCH_PAGES_MAX)
		return backend_fail(err, BE_STREAM, "a PAGES record holds %u "
		    "pages; 1 to %d are allowed", count, SIM_BATCH_PAGES_MAX);
	if (r->pages_in + count > pages * SIM_STREAM_PASSES_MAX)
		return backend_fail(err, BE_STREAM, "the stream sends more "
		    "than %d times the guest's memory", SIM_STREAM_PASSES_MAX);
	if (sim_read(r, r->head, SIM_PAGES_HEAD_LEN + (size_t)count * 8,
	    err) == -1)
		return -1;
	if (sim_get32(r->head) != count || sim_get32(r->head + 4) != 0)
		return backend_fail(err, BE_STREAM, "a PAGES record of %u "
		    "pages says it holds %u", count, sim_get32(r->head));
	for (i = 0; i < count; i++)
		if ((pfn = sim_get64(r->head + SIM_PAGES_HEAD_LEN + 8 * i)) >=
		    pages)
			return backend_fail(err, BE_STREAM, "page %llu is "
			    "outside the guest's %llu pages",
			    (unsigned long long)pfn, (unsigned long long)pages);
	*count_r = count;
	return 0;
}

/*
 * A PAGES record: every number checked, then the pages read straight
 * into the guest's memory, and each digested as it landed there.
 */
static int
sim_read_pages(struct sim_reader *r, uint32_t len, struct backend_error *err)
{
	uint64_t	 pfn;
	uint32_t	 count = 0, i;

	if (sim_read_pages_head(r, len, &count, err) == -1)
		return -1;
	for (i = 0; i < count; i++) {
		pfn = sim_get64(r->head + SIM_PAGES_HEAD_LEN + 8 * i);
		r->iov[i].iov_base = r->g->mem + pfn * SIM_PAGE_SIZE;
		r->iov[i].iov_len = SIM_PAGE_SIZE;
		if (r->landed.bits != NULL)
			sim_landed_set(&r->landed, pfn);
	}
	if (sim_readv(r, r->iov, (int)count, (size_t)count * SIM_PAGE_SIZE,
	    err) == -1)
		return -1;
	for (i = 0; i < count; i++) {
		pfn = sim_get64(r->head + SIM_PAGES_HEAD_LEN + 8 * i);
		if (sim_digest_page(&r->dig, pfn, r->g->mem + pfn *
		    SIM_PAGE_SIZE, err) == -1)
			return -1;
	}
	r->pages_in += count;
	return 0;
}

/* A ZERO_PAGES record (version 3): its numbers checked, then landed. */
static int
sim_read_zero(struct sim_reader *r, uint32_t len, struct backend_error *err)
{
	uint64_t	pages = r->g->ctl->pages;
	uint32_t	count = 0;

	if (r->version != SIM_STREAM_VERSION)
		return backend_fail(err, BE_STREAM, "a ZERO_PAGES record in a "
		    "version %u stream", r->version);
	if (sim_zero_count(len, &count, err) == -1)
		return -1;
	if (r->pages_in + count > pages * SIM_STREAM_PASSES_MAX)
		return backend_fail(err, BE_STREAM, "the stream sends more "
		    "than %d times the guest's memory", SIM_STREAM_PASSES_MAX);
	if (sim_read(r, r->zbody, len, err) == -1 ||
	    sim_zero_decode(r->zbody, count, pages, err) == -1)
		return -1;
	sim_zero_land(r->zbody, count, r->g->mem, &r->landed);
	if (sim_zero_digest(r->zbody, count, &r->dig, err) == -1)
		return -1;
	r->pages_in += count;
	r->zero_in += count;
	return 0;
}

/* The VCPU record ends the pages, so the digest is complete. */
static int
sim_read_vcpu(struct sim_reader *r, uint32_t len, struct backend_error *err)
{
	uint8_t		b[SIM_VCPU_LEN];
	uint64_t	t0;
	int		i;

	if (len != SIM_VCPU_LEN)
		return backend_fail(err, BE_STREAM, "VCPU record length %u, "
		    "not %d", len, SIM_VCPU_LEN);
	if (sim_read(r, b, sizeof(b), err) == -1)
		return -1;
	for (i = 0; i < 4; i++)
		r->vcpu.prng[i] = sim_get64(b + 8 * i);
	r->vcpu.pages_written = sim_get64(b + 32);
	r->vcpu.seq_pos = sim_get64(b + 40);
	r->vcpu.heartbeat = sim_get64(b + 48);
	if ((r->vcpu.prng[0] | r->vcpu.prng[1] | r->vcpu.prng[2] |
	    r->vcpu.prng[3]) == 0 || r->vcpu.seq_pos >= r->g->ctl->pages)
		return backend_fail(err, BE_STREAM, "bad VCPU record");
	t0 = util_now_us();
	if (sim_digest_final(&r->dig, r->digest, &r->digest_len, err) == -1)
		return -1;
	r->digest_ms = (util_now_us() - t0) / 1000;
	return 0;
}

static int
sim_read_digest(struct sim_reader *r, uint32_t len, struct backend_error *err)
{
	uint8_t		b[SIM_DIGEST_MAX_LEN + 8];
	uint64_t	sent;

	if (len != SIM_DIGEST_REC_LEN(r->version))
		return backend_fail(err, BE_STREAM, "DIGEST record length %u, "
		    "not %d", len, SIM_DIGEST_REC_LEN(r->version));
	if (sim_read(r, b, len, err) == -1)
		return -1;
	r->suspend_ms = sim_get64(b + r->digest_len);
	/* The count first: it says how the two streams differ. */
	if (r->version != SIM_STREAM_VERSION_V1 &&
	    (sent = sim_digest_copies(b)) != r->pages_in)
		return backend_fail(err, BE_DIGEST, "memory digest mismatch: "
		    "the source digested %llu page copies, %llu arrived",
		    (unsigned long long)sent, (unsigned long long)r->pages_in);
	if (memcmp(b, r->digest, r->digest_len) != 0)
		return backend_fail(err, BE_DIGEST, "memory digest mismatch: "
		    "the rebuilt image is not what the source had at suspend");
	return 0;
}

/* Records until END, each only where the order allows it. */
static int
sim_read_records(struct sim_reader *r, struct backend_error *err)
{
	static const char *const names[] = { "?", "PAGES", "VCPU", "DIGEST",
	    "END", "ZERO_PAGES" };
	uint8_t		head[SIM_RECORD_HEAD_LEN];
	uint32_t	type, len;
	uint32_t	phase = SIM_REC_PAGES;
	int		rc;

	for (;;) {
		if (sim_read(r, head, sizeof(head), err) == -1)
			return -1;
		type = sim_get32(head);
		len = sim_get32(head + 4);
		if (type < SIM_REC_PAGES || type > SIM_REC_ZERO)
			return backend_fail(err, BE_STREAM,
			    "unknown record type %u", type);
		/*
		 * PAGES and ZERO_PAGES repeat; each other record moves to
		 * the next phase.
		 */
		if (type != phase && !(phase == SIM_REC_PAGES &&
		    (type == SIM_REC_VCPU || type == SIM_REC_ZERO)))
			return backend_fail(err, BE_STREAM, "%s record out of "
			    "order", names[type]);
		if (type == SIM_REC_PAGES)
			rc = sim_read_pages(r, len, err);
		else if (type == SIM_REC_ZERO)
			rc = sim_read_zero(r, len, err);
		else if (type == SIM_REC_VCPU)
			rc = sim_read_vcpu(r, len, err);
		else if (type == SIM_REC_DIGEST)
			rc = sim_read_digest(r, len, err);
		else
			return len == 0 ? 0 : backend_fail(err, BE_STREAM,
			    "END record with a body");
		if (rc == -1)
			return -1;
		if (type != SIM_REC_PAGES && type != SIM_REC_ZERO)
			phase = type + 1;
	}
}

/*
 * restore(): the stream into a reserved guest's memory, checked against
 * the digest, then the vCPU state, so that unpause() continues the
 * workload where the source stopped.
 */
int
sim_stream_restore(struct sim_guest *g, int fd,
    struct backend_restore_result *res, struct backend_error *err)
{
	struct sim_reader	*r;
	int			 rc = -1;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	r->g = g;
	r->fd = fd;
	if (sim_read_header(r, err) == -1 || sim_read_records(r, err) == -1)
		goto out;
	memcpy(&g->ctl->vcpu, &r->vcpu, sizeof(r->vcpu));
	__atomic_store_n(&g->ctl->heartbeat, r->vcpu.heartbeat,
	    __ATOMIC_SEQ_CST);
	__atomic_store_n(&g->ctl->progress, r->vcpu.pages_written,
	    __ATOMIC_SEQ_CST);
	res->suspend_ms = r->suspend_ms;
	res->digest_ms = r->digest_ms;
	log_debug("sim: %s: restored %llu pages (%llu of them zero) from "
	    "%llu bytes", g->ctl->name, (unsigned long long)r->pages_in,
	    (unsigned long long)r->zero_in, (unsigned long long)r->bytes);
	rc = 0;
out:
	res->bytes = r->bytes;
	res->memory_sent = r->pages_in * SIM_PAGE_SIZE;
	res->zero_pages = r->zero_in;
	sim_digest_free(&r->dig);
	sim_landed_free(&r->landed);
	free(r->zbody);
	free(r);
	return rc;
}
