// SPDX-License-Identifier: ISC
/*
 * The sim stream's memory digest, both versions of it.  sim_stream.c's
 * opening comment says what the digest proves and why version 2 is a
 * sum; this file is only the arithmetic.
 *
 * Runs in the worker (root), on the source over the copies it sends and
 * on the destination over the pages as they landed in its memory.  It
 * trusts its callers: page numbers are checked by sim_stream.c before a
 * page reaches it.
 *
 * Version 2: a copy of page pfn at position n (0 for the stream's first
 * page copy, counting every copy of every page) adds
 *	XXH3_128bits_withSeed(contents, 4096, n << 24 | pfn)
 * to the sums, its low 64 bits to sum[0] and its high 64 bits to
 * sum[1], each modulo 2^64.  The digest is sum[0] u64 | sum[1] u64 |
 * copies u64, little-endian.  It holds 24 bytes whatever the guest's
 * size, and each copy's term is independent of the others, so batches
 * could be hashed in any order or on several threads.
 *
 * Version 1 (relocd 0.1.0): the SHA-256 of the list of every page's
 * SHA-256, in page order, the last copy of a page replacing its entry:
 * 32 bytes per page of memory, kept only to migrate with 0.1.0.
 */
#include <sys/mman.h>

#include <string.h>

#include <xxhash.h>

#include "sim.h"
#include "sim_digest.h"
#include "tls.h"

_Static_assert(SIM_MEMORY_MAX / SIM_PAGE_SIZE <= 1ULL << SIM_DIGEST_PFN_BITS,
    "a page number fits the digest seed's low bits");
_Static_assert((SIM_MEMORY_MAX / SIM_PAGE_SIZE) * (SIM_STREAM_PASSES_MAX + 1) <
    1ULL << (64 - SIM_DIGEST_PFN_BITS),
    "a copy's position fits the digest seed's high bits");
_Static_assert(TLS_SHA256_LEN == SIM_DIGEST_V1_LEN, "version 1 is a SHA-256");

int
sim_digest_init(struct sim_digest *d, uint32_t version, uint64_t pages,
    struct backend_error *err)
{
	void	*m;

	memset(d, 0, sizeof(*d));
	d->version = version;
	if (version != 1)
		return 0;
	/*
	 * Straight from the kernel: malloc's heap made freeing these
	 * megabytes take a tenth of a second, on the downtime path.
	 */
	m = mmap(NULL, (size_t)(pages * SIM_DIGEST_V1_LEN), PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	d->leaf = m;
	d->pages = pages;
	if ((d->sha = tls_sha256_new()) == NULL)
		return backend_fail(err, BE_INTERNAL, "out of memory");
	return 0;
}

void
sim_digest_free(struct sim_digest *d)
{
	tls_sha256_free(d->sha);
	if (d->leaf != NULL)
		munmap(d->leaf, (size_t)(d->pages * SIM_DIGEST_V1_LEN));
	memset(d, 0, sizeof(*d));
}

static int
sim_digest_sha(struct sim_digest *d, const void *data, size_t len,
    uint8_t *out, struct backend_error *err)
{
	if (tls_sha256(d->sha, data, len, out) == -1)
		return backend_fail(err, BE_INTERNAL, "SHA-256 failed");
	return 0;
}

static void
sim_digest_add(struct sim_digest *d, uint64_t pfn, const uint8_t *page)
{
	XXH128_hash_t	h;

	h = XXH3_128bits_withSeed(page, SIM_PAGE_SIZE,
	    d->copies << SIM_DIGEST_PFN_BITS | pfn);
	d->sum[0] += h.low64;
	d->sum[1] += h.high64;
	d->copies++;
}

/*
 * One copy of page pfn, in stream order: sent, or as it landed.  The
 * source also adds, after the final round, each page that changed after
 * its last copy was taken (or was never sent): version 1 replaces the
 * page's entry with the page as it is, version 2 counts it as one more
 * copy, one the destination never gets.  Either way the digests differ
 * unless the destination's memory is the source's.
 */
int
sim_digest_page(struct sim_digest *d, uint64_t pfn, const uint8_t *page,
    struct backend_error *err)
{
	if (d->version == 1)
		return sim_digest_sha(d, page, SIM_PAGE_SIZE, d->leaf +
		    pfn * SIM_DIGEST_V1_LEN, err);
	sim_digest_add(d, pfn, page);
	return 0;
}

/* The digest into out (SIM_DIGEST_MAX_LEN bytes); its length in *len_r. */
int
sim_digest_final(struct sim_digest *d, uint8_t *out, size_t *len_r,
    struct backend_error *err)
{
	if (d->version == 1) {
		*len_r = SIM_DIGEST_V1_LEN;
		return sim_digest_sha(d, d->leaf, (size_t)(d->pages *
		    SIM_DIGEST_V1_LEN), out, err);
	}
	sim_put64(out, d->sum[0]);
	sim_put64(out + 8, d->sum[1]);
	sim_put64(out + 16, d->copies);
	*len_r = SIM_DIGEST_V2_LEN;
	return 0;
}

/* A version 2 digest's count of page copies. */
uint64_t
sim_digest_copies(const uint8_t *digest)
{
	return sim_get64(digest + 16);
}
