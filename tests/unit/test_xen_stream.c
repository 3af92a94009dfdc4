// SPDX-License-Identifier: ISC
/*
 * The framing xl and libxl expect around libxenguest's stream
 * (xen_stream.c): the exact bytes of xl's header, libxl's header and its
 * records, and that a damaged header is refused with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "unit.h"
#include "xen_stream.h"

static const char json[] = "{ \"c_info\": { \"name\": \"hb-pvh\" } }";

static void
test_xl_header_bytes(void)
{
	uint8_t		*buf;
	size_t		 len;
	uint32_t	 v;

	CHECK_INT(xen_stream_xl_header(json, &buf, &len), 0);
	CHECK_INT(len, 48 + 4 + sizeof(json));
	/* xl compares all 32 bytes of magic, its NULs included. */
	CHECK(memcmp(buf, "Xen saved domain, xl format\n \0 \r", 32) == 0);
	memcpy(&v, buf + 32, 4);
	CHECK_INT(v, 0x01020304);
	memcpy(&v, buf + 36, 4);
	CHECK_INT(v, 3);		/* STREAMv2 | JSON */
	memcpy(&v, buf + 40, 4);
	CHECK_INT(v, 0);
	memcpy(&v, buf + 44, 4);
	CHECK_INT(v, 4 + sizeof(json));	/* length word + config + NUL */
	memcpy(&v, buf + 48, 4);
	CHECK_INT(v, sizeof(json));
	CHECK(memcmp(buf + 52, json, sizeof(json)) == 0);
	free(buf);
}

static void
test_xl_header_round_trip(void)
{
	uint8_t	*buf;
	size_t	 len, hdr_len = 0;
	char	*config = NULL, why[128];

	CHECK_INT(xen_stream_xl_header(json, &buf, &len), 0);
	CHECK_INT(xen_stream_xl_header_parse(buf, len, &hdr_len, &config, why,
	    sizeof(why)), 0);
	CHECK_INT(hdr_len, len);
	CHECK_STR(config, json);
	free(config);
	/* Every truncation is refused, never read past. */
	for (size_t cut = 0; cut < len; cut++)
		CHECK_INT(xen_stream_xl_header_parse(buf, cut, &hdr_len,
		    &config, why, sizeof(why)), -1);
	free(buf);
}

static void
test_xl_header_refusals(void)
{
	uint8_t	*buf;
	size_t	 len, hdr_len;
	char	*config, why[128];
	uint32_t v;

	CHECK_INT(xen_stream_xl_header(json, &buf, &len), 0);
	buf[0] = 'x';
	CHECK_INT(xen_stream_xl_header_parse(buf, len, &hdr_len, &config, why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "magic") != NULL);
	buf[0] = 'X';
	v = 0x04030201;
	memcpy(buf + 32, &v, 4);
	CHECK_INT(xen_stream_xl_header_parse(buf, len, &hdr_len, &config, why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "byte order") != NULL);
	v = 0x01020304;
	memcpy(buf + 32, &v, 4);
	v = 2;				/* no JSON config */
	memcpy(buf + 36, &v, 4);
	CHECK_INT(xen_stream_xl_header_parse(buf, len, &hdr_len, &config, why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "flags") != NULL);
	v = 3;
	memcpy(buf + 36, &v, 4);
	buf[len - 1] = 'x';		/* config not NUL-terminated */
	CHECK_INT(xen_stream_xl_header_parse(buf, len, &hdr_len, &config, why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "NUL") != NULL);
	free(buf);
}

static void
test_xl_header_too_large(void)
{
	char	*big;
	uint8_t	*buf = NULL;
	size_t	 len;

	big = malloc(BACKEND_CONFIG_MAX + 1);
	memset(big, 'a', BACKEND_CONFIG_MAX);
	big[BACKEND_CONFIG_MAX] = '\0';
	CHECK_INT(xen_stream_xl_header(big, &buf, &len), -1);
	CHECK(buf == NULL);
	free(big);
}

static void
test_libxl_framing(void)
{
	static const uint8_t want_hdr[16] = {
		'L', 'i', 'b', 'x', 'l', 'F', 'm', 't',	/* big-endian ident */
		0, 0, 0, 2,				/* version 2 */
		0, 0, 0, 0				/* little-endian records */
	};
	uint8_t	hdr[LIBXL_HEADER_LEN], rec[LIBXL_REC_HDR_LEN];
	static const uint8_t end[8] = { 0 };
	static const uint8_t libxc[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };

	xen_stream_libxl_header(hdr);
	CHECK(memcmp(hdr, want_hdr, sizeof(hdr)) == 0);
	CHECK_INT(xen_stream_libxl_header_check(hdr, sizeof(hdr)), 0);
	CHECK_INT(xen_stream_libxl_header_check(hdr, sizeof(hdr) - 1), -1);
	hdr[11] = 3;
	CHECK_INT(xen_stream_libxl_header_check(hdr, sizeof(hdr)), -1);
	xen_stream_libxl_record(rec, LIBXL_REC_END);
	CHECK(memcmp(rec, end, 8) == 0);
	xen_stream_libxl_record(rec, LIBXL_REC_LIBXC_CONTEXT);
	CHECK(memcmp(rec, libxc, 8) == 0);
}

/*
 * An HVM guest's emulator records as libxl writes them
 * (libxl_stream_write.c): type, length counting the 8-byte emulator
 * sub-header, id 2 (qemu-xen), index 0; bodies padded to 8.
 */
static void
test_emulator_records(void)
{
	static const uint8_t want[16] = {
		3, 0, 0, 0,		/* EMULATOR_CONTEXT */
		13, 0, 0, 0,		/* 8 + 5 bytes of body */
		2, 0, 0, 0,		/* EMULATOR_QEMU_UPSTREAM */
		0, 0, 0, 0		/* index */
	};
	uint8_t	rec[LIBXL_REC_HDR_LEN + LIBXL_EMU_HDR_LEN];

	CHECK_INT(xen_stream_emulator_record(rec, LIBXL_REC_EMULATOR_CONTEXT,
	    5), 0);
	CHECK(memcmp(rec, want, sizeof(want)) == 0);
	CHECK_INT(LIBXL_REC_PAD(5), 3);
	CHECK_INT(LIBXL_REC_PAD(16), 0);
	CHECK_INT(LIBXL_REC_PAD(17), 7);
	CHECK_INT(xen_stream_emulator_record(rec,
	    LIBXL_REC_EMULATOR_XENSTORE_DATA, 0), 0);
	CHECK_INT(rec[0], 2);
	CHECK_INT(rec[4], 8);
	CHECK_INT(xen_stream_emulator_record(rec, LIBXL_REC_EMULATOR_CONTEXT,
	    (size_t)UINT32_MAX), -1);
}

/* Key and value, each with its NUL, appended in order. */
static void
test_xenstore_pairs(void)
{
	static const char want[] = "physmap/f0000/start_addr\0f0000\0"
	    "physmap/f0000/name\0vga.vram";	/* and the last NUL */
	char	*buf = NULL;
	size_t	 len = 0;

	CHECK_INT(xen_stream_xenstore_pair(&buf, &len,
	    "physmap/f0000/start_addr", "f0000"), 0);
	CHECK_INT(xen_stream_xenstore_pair(&buf, &len, "physmap/f0000/name",
	    "vga.vram"), 0);
	CHECK_INT(len, sizeof(want));
	CHECK(buf != NULL && memcmp(buf, want, sizeof(want)) == 0);
	free(buf);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_xl_header_bytes),
		UNIT_TEST(test_xl_header_round_trip),
		UNIT_TEST(test_xl_header_refusals),
		UNIT_TEST(test_xl_header_too_large),
		UNIT_TEST(test_libxl_framing),
		UNIT_TEST(test_emulator_records),
		UNIT_TEST(test_xenstore_pairs),
	};

	return unit_run("xen_stream", tests, sizeof(tests) / sizeof(tests[0]));
}
