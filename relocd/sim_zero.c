// SPDX-License-Identifier: ISC
/*
 * Zero pages in the sim stream.  An idle guest's memory is mostly zero
 * pages, and each cost 4 KiB on the wire as data; since stream version
 * 3 (protocol 4) the source sends them in ZERO_PAGES records, as their
 * page numbers only: 8 bytes instead of 4104.
 *
 * The source tests a page as it is about to copy it (sim_page_zero):
 * a page with data fails at its first non-zero cache line, usually the
 * first, so the test costs the data pages almost nothing, and a zero
 * page is read once and never copied.
 *
 * The destination writes a zero page only where this stream has
 * written data before (struct sim_landed, a bit a page: 32 KiB per GiB
 * of guest).  Elsewhere its memory is zero already: reserve() makes a
 * guest's RAM a fresh sparse file, and a failed restore punches it back
 * to holes (backend_sim.c, sim_memory_discard).  Skipping those pages
 * leaves them unallocated, so an idle guest costs the destination host
 * no memory and no page faults for its zero pages.
 *
 * Both sides still add every zero page to the digest, as a copy of
 * sim_zero_page at its place in the stream (sim_digest.c), so a lost
 * or misplaced zero page fails the digest as a lost data page does.
 * The places agree: the source keeps one batch of data pages and one of
 * zero pages, and each flush writes the PAGES record, then the
 * ZERO_PAGES record.  A data page is hashed as it is copied, taking the
 * next place; a zero page only at the flush, after the batch's data
 * pages, which is where the destination will read it.
 *
 * Runs in the worker (root).  The record's decoding trusts nothing: its
 * length, count and page numbers come from a peer and are checked
 * before the first is used.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_digest.h"
#include "sim_zero.h"

_Static_assert(SIM_ZERO_REC_MAX < UINT32_MAX, "a record's length is a u32");

/* What a zero page's copy is, for the digest. */
const uint8_t	sim_zero_page[SIM_PAGE_SIZE];

/*
 * Whether a page is all zero: one cache line at a time, eight words
 * or'ed together (the compiler vectorises it), stopping at the first
 * line with a bit set.
 */
bool
sim_page_zero(const uint8_t *page)
{
	const uint64_t	*w = (const uint64_t *)(const void *)page;
	size_t		 i;

	for (i = 0; i < SIM_PAGE_SIZE / 8; i += 8)
		if ((w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] |
		    w[i + 5] | w[i + 6] | w[i + 7]) != 0)
			return false;
	return true;
}

/*
 * A ZERO_PAGES record of count pages (1..SIM_ZERO_BATCH_MAX) whose
 * numbers sim_zero_put() placed in rec: its record head and its own
 * head into rec, and the whole record's length back.
 */
size_t
sim_zero_encode(uint8_t *rec, uint32_t count)
{
	uint32_t	len = SIM_ZERO_HEAD_LEN + count * 8;

	sim_put32(rec, SIM_REC_ZERO_PAGES);
	sim_put32(rec + 4, len);
	sim_put32(rec + 8, count);
	sim_put32(rec + 12, 0);
	return 8 + (size_t)len;
}

/* The i-th page number of a record that rec (with its head) will hold. */
void
sim_zero_put(uint8_t *rec, uint32_t i, uint64_t pfn)
{
	sim_put64(rec + 8 + SIM_ZERO_HEAD_LEN + (size_t)i * 8, pfn);
}

/* The page count a record of len bytes holds, or an error naming why not. */
int
sim_zero_count(uint32_t len, uint32_t *count_r, struct backend_error *err)
{
	uint32_t	count;

	if (len < SIM_ZERO_HEAD_LEN || (len - SIM_ZERO_HEAD_LEN) % 8 != 0)
		return backend_fail(err, BE_STREAM, "ZERO_PAGES record length "
		    "%u is not 8 + 8 per page", len);
	count = (len - SIM_ZERO_HEAD_LEN) / 8;
	if (count == 0 || count > SIM_ZERO_BATCH_MAX)
		return backend_fail(err, BE_STREAM, "a ZERO_PAGES record holds "
		    "%u pages; 1 to %d are allowed", count, SIM_ZERO_BATCH_MAX);
	*count_r = count;
	return 0;
}

/*
 * A record's body (after its record head), count pages long as its
 * length said: the count it gives must agree, and every page number be
 * one of the guest's pages.
 */
int
sim_zero_decode(const uint8_t *body, uint32_t count, uint64_t pages,
    struct backend_error *err)
{
	uint64_t	pfn;
	uint32_t	i;

	if (sim_get32(body) != count || sim_get32(body + 4) != 0)
		return backend_fail(err, BE_STREAM, "a ZERO_PAGES record of %u "
		    "pages says it holds %u", count, sim_get32(body));
	for (i = 0; i < count; i++)
		if ((pfn = sim_zero_pfn(body, i)) >= pages)
			return backend_fail(err, BE_STREAM, "zero page %llu is "
			    "outside the guest's %llu pages",
			    (unsigned long long)pfn, (unsigned long long)pages);
	return 0;
}

/* The i-th page number of a decoded body. */
uint64_t
sim_zero_pfn(const uint8_t *body, uint32_t i)
{
	return sim_get64(body + SIM_ZERO_HEAD_LEN + (size_t)i * 8);
}

/*
 * A decoded record's pages land in mem: each is zeroed where data of
 * this stream landed before, and left alone elsewhere, zero already.
 */
void
sim_zero_land(const uint8_t *body, uint32_t count, uint8_t *mem,
    struct sim_landed *l)
{
	uint64_t	pfn;
	uint32_t	i;

	for (i = 0; i < count; i++) {
		pfn = sim_zero_pfn(body, i);
		if (sim_landed_clear(l, pfn))
			memset(mem + pfn * SIM_PAGE_SIZE, 0, SIM_PAGE_SIZE);
	}
}

/* A record's pages into the digest, in order, each a copy of zeros. */
int
sim_zero_digest(const uint8_t *body, uint32_t count, struct sim_digest *d,
    struct backend_error *err)
{
	uint32_t	i;

	for (i = 0; i < count; i++)
		if (sim_digest_page(d, sim_zero_pfn(body, i), sim_zero_page,
		    err) == -1)
			return -1;
	return 0;
}

int
sim_landed_init(struct sim_landed *l, uint64_t pages,
    struct backend_error *err)
{
	l->pages = pages;
	if ((l->bits = calloc((size_t)((pages + 63) / 64), 8)) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	return 0;
}

void
sim_landed_free(struct sim_landed *l)
{
	free(l->bits);
	l->bits = NULL;
}

/* Data landed on page pfn (< pages: the caller checked). */
void
sim_landed_set(struct sim_landed *l, uint64_t pfn)
{
	l->bits[pfn / 64] |= 1ULL << (pfn % 64);
}

/*
 * A zero page lands on pfn: whether it must be written (data landed
 * there before), and from now on that page is known zero again.
 */
bool
sim_landed_clear(struct sim_landed *l, uint64_t pfn)
{
	uint64_t	bit = 1ULL << (pfn % 64);
	bool		was = (l->bits[pfn / 64] & bit) != 0;

	l->bits[pfn / 64] &= ~bit;
	return was;
}
