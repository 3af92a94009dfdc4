// SPDX-License-Identifier: ISC
/*
 * Unit tests for zero pages in the sim stream (sim_zero.c, stream
 * version 3): the zero test, the ZERO_PAGES record's encoding and its
 * bounds, and whole streams: an idle guest's zero pages go as page
 * numbers and arrive intact, a dropped zero page fails the digest, a
 * zero page over data is written, and an older destination (protocol
 * 3 or below) still gets every page whole.
 */
#include "sim_fixture.h"
#include "sim_digest.h"
#include "proto.h"
#include "sim_zero.h"
#include "version.h"

/* Pages of a guest with zero_percent p that its boot leaves zero. */
static uint64_t
zero_pages_of(uint64_t pages, uint64_t p)
{
	uint64_t	pfn, n = 0;

	for (pfn = 0; pfn < pages; pfn++)
		n += pfn % 100 < p;
	return n;
}

/* A zero page is zero; one bit anywhere, first to last byte, is not. */
static void
test_page_zero(void)
{
	static uint8_t	page[SIM_PAGE_SIZE];
	static const size_t at[] = { 0, 7, 8, 63, 64, 1000, 2048, 4031,
	    4032, 4088, 4095 };
	size_t		i;

	memset(page, 0, sizeof(page));
	CHECK(sim_page_zero(page));
	CHECK(sim_page_zero(sim_zero_page));
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		page[at[i]] = 0x80;
		CHECK(!sim_page_zero(page));
		page[at[i]] = 0;
	}
	CHECK(sim_page_zero(page));
}

/*
 * The workload key that makes an idle guest: a percentage, once, beside
 * the device keys (whose "given twice" bits it must not share).
 */
static void
test_config_zero_percent(void)
{
	struct sim_params	p;
	struct backend_error	err;

	CHECK(sim_config_parse("(sim (zero-percent 40))", MIB, &p, &err) == 0);
	CHECK_INT(p.zero_percent, 40);
	CHECK(sim_config_parse("(sim (zero-percent 100) (pci 1) "
	    "(disable-migrate no))", MIB, &p, &err) == 0);
	CHECK(p.zero_percent == 100 && p.pci == 1);
	CHECK(sim_config_parse("(sim)", MIB, &p, &err) == 0 &&
	    p.zero_percent == 0);
	CHECK(sim_config_parse("(sim (zero-percent 101))", MIB, &p,
	    &err) == -1 && err.code == BE_UNSUPPORTED);
	CHECK(strstr(err.msg, "zero-percent is too large") != NULL);
	CHECK(sim_config_parse("(sim (zero-percent 1) (zero-percent 2))", MIB,
	    &p, &err) == -1 && strstr(err.msg, "given twice") != NULL);
	/* Its compressible share, beside pci (their bits must differ). */
	CHECK(sim_config_parse("(sim (zero-percent 20) (compressible-percent "
	    "75) (pci 1))", MIB, &p, &err) == 0);
	CHECK(p.zero_percent == 20 && p.compressible_percent == 75 &&
	    p.pci == 1);
	CHECK(sim_config_parse("(sim (compressible-percent 101))", MIB, &p,
	    &err) == -1 && strstr(err.msg, "compressible-percent is too "
	    "large") != NULL);
	CHECK(sim_config_parse("(sim (compressible-percent 1) "
	    "(compressible-percent 2))", MIB, &p, &err) == -1 &&
	    strstr(err.msg, "given twice") != NULL);
}

/*
 * A compressible guest's boot: the zero pages stay zero, the share asked
 * for of the others compresses (a page's last three quarters repeat one
 * 64-byte run), and the rest does not.
 */
static void
test_fill_compressible(void)
{
	uint8_t		*mem = calloc(100, SIM_PAGE_SIZE);
	uint64_t	 pfn, zero = 0, runs = 0;
	const uint8_t	*pg;

	CHECK(mem != NULL);
	sim_memory_fill(mem, 100, "5e10e5e1-0000-4000-8000-0000000c0de1", 20,
	    75);
	for (pfn = 0; pfn < 100; pfn++) {
		pg = mem + pfn * SIM_PAGE_SIZE;
		if (sim_page_zero(pg)) {
			zero++;
			continue;
		}
		runs += memcmp(pg + SIM_PAGE_SIZE / 4, pg + SIM_PAGE_SIZE / 4 +
		    64, SIM_PAGE_SIZE * 3 / 4 - 64) == 0;
	}
	CHECK_INT(zero, 20);
	/* pfn 20 to 99 whose number times 37 ends below 75: 59 of them. */
	CHECK_INT(runs, 59);
	free(mem);
}

/* A record as sim_zero_encode() writes it, and decoded back. */
static void
test_record_encode_decode(void)
{
	static uint8_t		rec[SIM_ZERO_REC_MAX];
	struct backend_error	err;
	uint32_t		count = 0, i;
	size_t			len;

	for (i = 0; i < 3; i++)
		sim_zero_put(rec, i, 10 + 100 * (uint64_t)i);
	len = sim_zero_encode(rec, 3);
	CHECK_INT(len, 8 + 8 + 3 * 8);
	CHECK_INT(sim_get32(rec), SIM_REC_ZERO_PAGES);
	CHECK_INT(sim_get32(rec + 4), 8 + 3 * 8);
	CHECK_INT(sim_get32(rec + 8), 3);
	CHECK_INT(sim_get32(rec + 12), 0);
	CHECK_INT(sim_get64(rec + 16), 10);
	CHECK_INT(sim_get64(rec + 32), 210);
	CHECK(sim_zero_count(sim_get32(rec + 4), &count, &err) == 0);
	CHECK_INT(count, 3);
	CHECK(sim_zero_decode(rec + 8, count, 211, &err) == 0);
	for (i = 0; i < 3; i++)
		CHECK_INT(sim_zero_pfn(rec + 8, i), 10 + 100 * i);
	/* The largest record the bound allows. */
	for (i = 0; i < SIM_ZERO_BATCH_MAX; i++)
		sim_zero_put(rec, i, i);
	CHECK_INT(sim_zero_encode(rec, SIM_ZERO_BATCH_MAX), SIM_ZERO_REC_MAX);
	CHECK(sim_zero_count(sim_get32(rec + 4), &count, &err) == 0 &&
	    count == SIM_ZERO_BATCH_MAX);
	CHECK(sim_zero_decode(rec + 8, count, SIM_ZERO_BATCH_MAX, &err) == 0);
}

/* What a peer's record may not be, each refused with a clear error. */
static void
test_record_bounds(void)
{
	static uint8_t		rec[SIM_ZERO_REC_MAX];
	struct backend_error	err;
	uint32_t		count = 0;

	/* Lengths: shorter than the head, ragged, empty, over the bound. */
	CHECK(sim_zero_count(4, &count, &err) == -1 && err.code == BE_STREAM);
	CHECK(strstr(err.msg, "ZERO_PAGES record length 4") != NULL);
	CHECK(sim_zero_count(8 + 12, &count, &err) == -1 &&
	    err.code == BE_STREAM);
	CHECK(sim_zero_count(8, &count, &err) == -1 && err.code == BE_STREAM);
	CHECK(strstr(err.msg, "holds 0 pages; 1 to 4096") != NULL);
	CHECK(sim_zero_count(8 + 8 * (SIM_ZERO_BATCH_MAX + 1), &count,
	    &err) == -1 && err.code == BE_STREAM);
	CHECK(strstr(err.msg, "holds 4097 pages; 1 to 4096 are allowed") !=
	    NULL);
	CHECK(sim_zero_count(UINT32_MAX - 7, &count, &err) == -1);
	/* A count that disagrees with the length, a reserved word set. */
	sim_zero_put(rec, 0, 1);
	sim_zero_put(rec, 1, 2);
	sim_zero_encode(rec, 2);
	CHECK(sim_zero_decode(rec + 8, 2, 16, &err) == 0);
	CHECK(sim_zero_decode(rec + 8, 1, 16, &err) == -1 &&
	    err.code == BE_STREAM);
	CHECK(strstr(err.msg, "of 1 pages says it holds 2") != NULL);
	sim_put32(rec + 12, 1);
	CHECK(sim_zero_decode(rec + 8, 2, 16, &err) == -1);
	sim_put32(rec + 12, 0);
	/* Page numbers past the guest, and past 2^32. */
	sim_zero_put(rec, 1, 16);
	CHECK(sim_zero_decode(rec + 8, 2, 16, &err) == -1 &&
	    err.code == BE_STREAM);
	CHECK(strstr(err.msg, "zero page 16 is outside the guest's 16 "
	    "pages") != NULL);
	sim_zero_put(rec, 1, 1ULL << 32 | 1);
	CHECK(sim_zero_decode(rec + 8, 2, 16, &err) == -1);
}

/* The records of a stream: callback per record at its offset. */
static size_t
records_find(const uint8_t *img, size_t len, uint32_t type, size_t *off_r,
    size_t nmax)
{
	size_t	off = 32, n = 0;

	while (off + 8 <= len) {
		if (sim_get32(img + off) == type && n < nmax)
			off_r[n++] = off;
		off += 8 + sim_get32(img + off + 4);
	}
	return n;
}

/*
 * An idle guest, 90% zero: offline, its zero pages go as page numbers
 * (a stream of about a tenth of its memory), and it arrives intact,
 * the destination counting the same zero pages.
 */
static void
test_idle_guest_sends_zero_pages(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_save_result	 res;
	struct backend_restore_result	 rres;
	uint8_t				*img;
	size_t				 len = 0, off[4];
	uint64_t			 pages = 16 * MIB / 4096, zero;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 16 * MIB, "(sim (zero-percent 90))");
	zero = zero_pages_of(pages, 90);
	img = image_save(&a, &desc, BACKEND_SAVE_ZERO_PAGES, &res, &len);
	CHECK_INT(res.zero_pages, zero);
	CHECK_INT(res.memory_sent, 16 * MIB);
	CHECK(res.bytes < (pages - zero) * (4096 + 8) + zero * 8 + 64 * 1024);
	CHECK(img != NULL && sim_get32(img + 8) == 3);
	CHECK(img != NULL && records_find(img, len, SIM_REC_ZERO_PAGES, off,
	    4) > 0);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	CHECK_INT(restore_buf(&b, img, len, &rres), BE_OK);
	CHECK_INT(rres.zero_pages, zero);
	CHECK_INT(rres.memory_sent, 16 * MIB);
	CHECK_INT(rres.bytes, res.bytes);
	check_arrived(&a, &b, UUID_A);
	free(img);
	destroy_checked(&a, UUID_A);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * Live, with the workload writing over zero pages between rounds: the
 * zero and data pages of every round keep their places in the digest,
 * and the destination is the suspended source.
 */
static void
test_live_migration_with_zero_pages(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err, rerr;
	struct backend_restore_result	 rres;
	struct backend_save_callbacks	 cb;
	struct save_job			 job;
	struct script			 s;
	struct sim_ctl			*actl;
	size_t				 alen = 0;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 16 * MIB, "(sim (dirty-rate "
	    "52428800) (pattern uniform) (zero-percent 60))");
	CHECK(a.ops->create(a.h, &desc, &info, &err) == 0);
	actl = guest_map(&a, UUID_A, ".ctl", &alen);
	CHECK(actl != NULL && wait_advance(&actl->progress, 0));
	if (actl != NULL)
		munmap(actl, alen);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	memset(&cb, 0, sizeof(cb));
	cb.precopy_policy = script_policy;
	cb.suspended = script_suspended;
	cb.data = &s;
	CHECK(migrate(&a, &b, "tiny", BACKEND_SAVE_LIVE |
	    BACKEND_SAVE_ZERO_PAGES, &cb, &job, &rres, &rerr) == 0);
	CHECK(job.rc == 0);
	CHECK(job.res.zero_pages > 0 && job.res.zero_pages ==
	    rres.zero_pages);
	CHECK(job.res.memory_sent > 16 * MIB && job.res.memory_sent ==
	    rres.memory_sent);
	check_arrived(&a, &b, UUID_A);
	destroy_checked(&a, UUID_A);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * One page number dropped from a ZERO_PAGES record mid-stream, the
 * record's count and length made whole again: the page is zero on the
 * destination anyway, so only the digest can tell, and it does.
 */
static void
test_dropped_zero_page_fails_digest(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_save_result	 res;
	struct backend_restore_result	 rres;
	uint8_t				*img, *bad = NULL, *rec;
	size_t				 len = 0, off[8], n, k = 5, cut;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 4 * MIB, "(sim (zero-percent 50))");
	img = image_save(&a, &desc, BACKEND_SAVE_ZERO_PAGES, &res, &len);
	destroy_checked(&a, UUID_A);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	n = img != NULL ? records_find(img, len, SIM_REC_ZERO_PAGES, off,
	    8) : 0;
	/* Not the first record: the drop is mid-stream. */
	CHECK(n >= 2);
	if (n < 2 || (bad = malloc(len)) == NULL)
		goto out;
	rec = bad + off[1];
	cut = off[1] + 16 + 8 * k;
	CHECK(sim_get32(img + off[1] + 8) > k);
	memcpy(bad, img, cut);
	memcpy(bad + cut, img + cut + 8, len - cut - 8);
	sim_put32(rec + 4, sim_get32(rec + 4) - 8);
	sim_put32(rec + 8, sim_get32(rec + 8) - 1);
	CHECK_INT(restore_buf(&b, bad, len - 8, &rres), BE_DIGEST);
	CHECK(b.ops->lookup(b.h, "tiny", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RESERVED);
	/* The same stream whole restores. */
	CHECK_INT(restore_buf(&b, img, len, &rres), BE_OK);
out:
	free(img);
	free(bad);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * A zero page that follows data of the same page in one stream (the
 * guest freed it between rounds) is written as zeros: the destination
 * skips only pages no data reached.  The stream is the saved one with a
 * ZERO_PAGES record for page 7 before its VCPU record, and its digest
 * recomputed with that copy last, as a source would have sent it.
 */
static void
test_zero_page_over_data(void)
{
	static uint8_t			 zrec[64];
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_save_result	 res;
	struct backend_restore_result	 rres;
	struct sim_digest		 d;
	uint8_t				*img, *bad = NULL, *mem = NULL, *p;
	uint8_t				 dig[SIM_DIGEST_MAX_LEN];
	size_t				 len = 0, off[2], mlen = 0, zlen, dlen, i;
	size_t				 vcpu, digest;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 1 * MIB, NULL);
	img = image_save(&a, &desc, BACKEND_SAVE_ZERO_PAGES, &res, &len);
	destroy_checked(&a, UUID_A);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	/* All 256 pages hold data: one PAGES record, then VCPU, DIGEST. */
	if (img == NULL || records_find(img, len, 2, off, 1) != 1 ||
	    (bad = malloc(len + sizeof(zrec))) == NULL) {
		CHECK(0);
		goto out;
	}
	vcpu = off[0];
	digest = vcpu + 8 + 56;
	CHECK_INT(vcpu, 32 + 16 + 256 * (8 + 4096));
	sim_zero_put(zrec, 0, 7);
	zlen = sim_zero_encode(zrec, 1);
	CHECK(sim_digest_init(&d, 2, 256, &err) == 0);
	for (i = 0; i < 256; i++) {
		p = img + 32 + 16 + 256 * 8 + i * 4096;
		CHECK(sim_digest_page(&d, sim_get64(img + 48 + 8 * i), p,
		    &err) == 0);
	}
	CHECK(sim_digest_page(&d, 7, sim_zero_page, &err) == 0);
	CHECK(sim_digest_final(&d, dig, &dlen, &err) == 0 && dlen == 24);
	memcpy(bad, img, vcpu);
	memcpy(bad + vcpu, zrec, zlen);
	memcpy(bad + vcpu + zlen, img + vcpu, len - vcpu);
	memcpy(bad + digest + zlen + 8, dig, dlen);
	CHECK_INT(restore_buf(&b, bad, len + zlen, &rres), BE_OK);
	CHECK_INT(rres.zero_pages, 1);
	mem = guest_map(&b, UUID_A, ".mem", &mlen);
	CHECK(mem != NULL && mlen == MIB);
	if (mem != NULL) {
		CHECK(sim_page_zero(mem + 7 * 4096));
		CHECK(memcmp(mem + 8 * 4096, img + 48 + 256 * 8 + 8 * 4096,
		    4096) == 0);
		munmap(mem, mlen);
	}
	sim_digest_free(&d);
out:
	free(img);
	free(bad);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * A destination that chose protocol 3 or below lacks zero pages: the
 * source's save flags leave them out, its stream is version 2 with
 * every page whole, and it still arrives.  A version 2 stream that
 * carries a ZERO_PAGES record is refused.
 */
static void
test_old_peer_gets_full_pages(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_save_result	 res;
	struct backend_restore_result	 rres;
	uint8_t				*img, *bad = NULL;
	uint8_t				 zrec[32];
	size_t				 len = 0, off[1], zlen;

	CHECK_INT(version_save_flags(1), BACKEND_SAVE_STREAM_V1);
	CHECK_INT(version_save_flags(2), 0);
	CHECK_INT(version_save_flags(3), 0);
	CHECK_INT(version_save_flags(PROTO_VERSION_ZERO_PAGES),
	    BACKEND_SAVE_ZERO_PAGES);
	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 4 * MIB, "(sim (zero-percent 90))");
	img = image_save(&a, &desc, version_save_flags(3), &res, &len);
	CHECK_INT(res.zero_pages, 0);
	CHECK(res.bytes > 4 * MIB);
	CHECK(img != NULL && sim_get32(img + 8) == 2);
	CHECK(img != NULL && records_find(img, len, SIM_REC_ZERO_PAGES, off,
	    1) == 0);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	CHECK_INT(restore_buf(&b, img, len, &rres), BE_OK);
	CHECK_INT(rres.zero_pages, 0);
	check_arrived(&a, &b, UUID_A);
	destroy_checked(&b, UUID_A);
	/* A ZERO_PAGES record after the header of a version 2 stream. */
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	sim_zero_put(zrec, 0, 3);
	zlen = sim_zero_encode(zrec, 1);
	if (img != NULL && (bad = malloc(len + zlen)) != NULL) {
		memcpy(bad, img, 32);
		memcpy(bad + 32, zrec, zlen);
		memcpy(bad + 32 + zlen, img + 32, len - 32);
		CHECK_INT(restore_buf(&b, bad, len + zlen, &rres), BE_STREAM);
	} else
		CHECK(0);
	free(img);
	free(bad);
	destroy_checked(&a, UUID_A);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

/*
 * A peer's ZERO_PAGES records through restore(): a count over the
 * bound, a page past the guest, a record after VCPU; each BE_STREAM,
 * the guest left reserved.
 */
static void
test_hostile_zero_records(void)
{
	struct host			 a, b;
	struct guest_desc		 desc;
	struct guest_info		 info;
	struct backend_error		 err;
	struct backend_save_result	 res;
	struct backend_restore_result	 rres;
	uint8_t				*img, *bad = NULL;
	size_t				 len = 0, off[1], z;

	if (host_open(&a) == -1 || host_open(&b) == -1) {
		CHECK(0);
		return;
	}
	desc_init(&desc, "tiny", UUID_A, 1 * MIB, "(sim (zero-percent 50))");
	img = image_save(&a, &desc, BACKEND_SAVE_ZERO_PAGES, &res, &len);
	destroy_checked(&a, UUID_A);
	CHECK(b.ops->reserve(b.h, &desc, &info, &err) == 0);
	if (img == NULL || records_find(img, len, SIM_REC_ZERO_PAGES, off,
	    1) != 1 || (bad = malloc(len)) == NULL) {
		CHECK(0);
		goto out;
	}
	z = off[0];
	/* A length that claims more pages than the bound allows. */
	memcpy(bad, img, len);
	sim_put32(bad + z + 4, 8 + 8 * (SIM_ZERO_BATCH_MAX + 1));
	CHECK_INT(restore_buf(&b, bad, len, &rres), BE_STREAM);
	/* A page number one past the guest's last page. */
	memcpy(bad, img, len);
	sim_put64(bad + z + 16, 256);
	CHECK_INT(restore_buf(&b, bad, len, &rres), BE_STREAM);
	/* The count field against the length. */
	memcpy(bad, img, len);
	sim_put32(bad + z + 8, sim_get32(img + z + 8) + 1);
	CHECK_INT(restore_buf(&b, bad, len, &rres), BE_STREAM);
	/* The record type past ZERO_PAGES is unknown. */
	memcpy(bad, img, len);
	sim_put32(bad + z, SIM_REC_ZERO_PAGES + 1);
	CHECK_INT(restore_buf(&b, bad, len, &rres), BE_STREAM);
	CHECK(b.ops->lookup(b.h, "tiny", &info, &err) == 0 &&
	    info.state == GUEST_STATE_RESERVED);
	CHECK_INT(restore_buf(&b, img, len, &rres), BE_OK);
out:
	free(img);
	free(bad);
	destroy_checked(&b, UUID_A);
	host_close(&a);
	host_close(&b);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_page_zero),
		UNIT_TEST(test_config_zero_percent),
		UNIT_TEST(test_fill_compressible),
		UNIT_TEST(test_record_encode_decode),
		UNIT_TEST(test_record_bounds),
		UNIT_TEST(test_idle_guest_sends_zero_pages),
		UNIT_TEST(test_live_migration_with_zero_pages),
		UNIT_TEST(test_dropped_zero_page_fails_digest),
		UNIT_TEST(test_zero_page_over_data),
		UNIT_TEST(test_old_peer_gets_full_pages),
		UNIT_TEST(test_hostile_zero_records),
	};

	log_set_sink(log_drop);
	signal(SIGPIPE, SIG_IGN);
	return unit_run("sim-zero", tests, sizeof(tests) / sizeof(tests[0]));
}
