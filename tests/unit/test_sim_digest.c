// SPDX-License-Identifier: ISC
/*
 * Unit tests for sim_digest.c, the sim stream's memory digest: version
 * 2's leaf is the one sim_digest.c documents (XXH3-128 seeded with the
 * copy's position and page number), and the digest changes when a copy
 * is lost, added, changed, moved to another page or reordered, which is
 * what lets restore() catch a lost page.  Version 1, relocd 0.1.0's
 * hash list, keeps its definition.
 */
#include <string.h>

#include <xxhash.h>

#include "sim.h"
#include "sim_digest.h"
#include "tls.h"
#include "unit.h"

#define PAGES	16

static uint8_t	page_a[SIM_PAGE_SIZE], page_b[SIM_PAGE_SIZE];

static void
pages_fill(void)
{
	size_t	i;

	for (i = 0; i < SIM_PAGE_SIZE; i++) {
		page_a[i] = (uint8_t)(i * 7 + 1);
		page_b[i] = (uint8_t)(i * 13 + 5);
	}
}

/* One copy: a page number and its contents. */
struct copy {
	uint64_t	 pfn;
	const uint8_t	*page;
};

/* The version 2 digest of a sequence of copies, into out (24 bytes). */
static void
digest_of(const struct copy *c, size_t n, uint8_t *out)
{
	struct sim_digest	d;
	struct backend_error	err;
	size_t			i, len = 0;

	CHECK(sim_digest_init(&d, 2, PAGES, &err) == 0);
	for (i = 0; i < n; i++)
		CHECK(sim_digest_page(&d, c[i].pfn, c[i].page, &err) == 0);
	CHECK(sim_digest_final(&d, out, &len, &err) == 0);
	CHECK_INT(len, SIM_DIGEST_V2_LEN);
	sim_digest_free(&d);
}

static int
digests_differ(const struct copy *c1, size_t n1, const struct copy *c2,
    size_t n2)
{
	uint8_t	d1[SIM_DIGEST_MAX_LEN], d2[SIM_DIGEST_MAX_LEN];

	digest_of(c1, n1, d1);
	digest_of(c2, n2, d2);
	return memcmp(d1, d2, SIM_DIGEST_V2_LEN) != 0;
}

/*
 * The format, pinned: a stream's digest is the sum of its copies'
 * XXH3-128, seeded position << 24 | page number, then the copy count.
 * A change here breaks migrations between releases.
 */
static void
test_v2_format(void)
{
	const struct copy	c[] = { { 3, page_a }, { 9, page_b },
	    { 3, page_b } };
	XXH128_hash_t		h;
	uint64_t		lo = 0, hi = 0;
	uint8_t			out[SIM_DIGEST_MAX_LEN];
	size_t			i;

	for (i = 0; i < 3; i++) {
		h = XXH3_128bits_withSeed(c[i].page, SIM_PAGE_SIZE,
		    (uint64_t)i << 24 | c[i].pfn);
		lo += h.low64;
		hi += h.high64;
	}
	digest_of(c, 3, out);
	CHECK(sim_get64(out) == lo);
	CHECK(sim_get64(out + 8) == hi);
	CHECK_INT(sim_get64(out + 16), 3);
	CHECK_INT(sim_digest_copies(out), 3);
}

/* What restore() relies on: each kind of loss changes the digest. */
static void
test_v2_catches_loss(void)
{
	const struct copy	sent[] = { { 1, page_a }, { 2, page_b },
	    { 1, page_b }, { 5, page_a } };
	const struct copy	dropped[] = { { 1, page_a }, { 2, page_b },
	    { 5, page_a } };
	const struct copy	swapped[] = { { 1, page_b }, { 2, page_b },
	    { 1, page_a }, { 5, page_a } };
	const struct copy	moved[] = { { 1, page_a }, { 3, page_b },
	    { 1, page_b }, { 5, page_a } };
	const struct copy	extra[] = { { 1, page_a }, { 2, page_b },
	    { 1, page_b }, { 5, page_a }, { 5, page_b } };
	static uint8_t		flipped[SIM_PAGE_SIZE];
	struct copy		changed[4];

	CHECK(!digests_differ(sent, 4, sent, 4));
	/* A copy lost mid-stream, even one a later copy would repair. */
	CHECK(digests_differ(sent, 4, dropped, 3));
	CHECK(digests_differ(sent, 3, sent, 4));
	/* Two copies of page 1 in the other order: the stale one wins. */
	CHECK(digests_differ(sent, 4, swapped, 4));
	/* The right bytes at the wrong page. */
	CHECK(digests_differ(sent, 4, moved, 4));
	/* The source's extra copy of a page written after its last one. */
	CHECK(digests_differ(sent, 4, extra, 5));
	/* One bit of one page. */
	memcpy(flipped, page_b, sizeof(flipped));
	flipped[4000] ^= 0x10;
	memcpy(changed, sent, sizeof(changed));
	changed[2].page = flipped;
	CHECK(digests_differ(sent, 4, changed, 4));
}

/*
 * The sums, not only the count: the same number of copies with one
 * page's term replaced still differs in the sums themselves.
 */
static void
test_v2_sums_not_count(void)
{
	const struct copy	a[] = { { 4, page_a }, { 6, page_b } };
	const struct copy	b[] = { { 4, page_a }, { 6, page_a } };
	uint8_t			d1[SIM_DIGEST_MAX_LEN], d2[SIM_DIGEST_MAX_LEN];

	digest_of(a, 2, d1);
	digest_of(b, 2, d2);
	CHECK(memcmp(d1 + 16, d2 + 16, 8) == 0);
	CHECK(memcmp(d1, d2, 8) != 0);
	CHECK(memcmp(d1 + 8, d2 + 8, 8) != 0);
}

/*
 * Version 1 (relocd 0.1.0): the SHA-256 of the per-page SHA-256 list,
 * the last copy of a page replacing its entry, a page never seen
 * leaving 32 zero bytes.
 */
static void
test_v1_hash_list(void)
{
	struct sim_digest	 d;
	struct backend_error	 err;
	struct tls_sha256	*sha;
	uint8_t			 list[PAGES * 32], want[32];
	uint8_t			 out[SIM_DIGEST_MAX_LEN];
	size_t			 len = 0;

	memset(list, 0, sizeof(list));
	CHECK((sha = tls_sha256_new()) != NULL);
	if (sha == NULL)
		return;
	CHECK(tls_sha256(sha, page_b, SIM_PAGE_SIZE, list + 2 * 32) == 0);
	CHECK(tls_sha256(sha, page_a, SIM_PAGE_SIZE, list + 7 * 32) == 0);
	CHECK(tls_sha256(sha, list, sizeof(list), want) == 0);
	tls_sha256_free(sha);

	CHECK(sim_digest_init(&d, 1, PAGES, &err) == 0);
	CHECK(sim_digest_page(&d, 2, page_a, &err) == 0);
	CHECK(sim_digest_page(&d, 7, page_a, &err) == 0);
	CHECK(sim_digest_page(&d, 2, page_b, &err) == 0);
	CHECK(sim_digest_final(&d, out, &len, &err) == 0);
	CHECK_INT(len, SIM_DIGEST_V1_LEN);
	CHECK(memcmp(out, want, sizeof(want)) == 0);
	sim_digest_free(&d);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_v2_format),
		UNIT_TEST(test_v2_catches_loss),
		UNIT_TEST(test_v2_sums_not_count),
		UNIT_TEST(test_v1_hash_list),
	};

	pages_fill();
	return unit_run("sim-digest", tests, sizeof(tests) / sizeof(tests[0]));
}
