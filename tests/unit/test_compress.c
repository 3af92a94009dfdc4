// SPDX-License-Identifier: ISC
/*
 * The stream's zstd wrapper (compress.c): a chunk goes and comes back
 * whole; one that does not shrink is left as it is; and whatever a peer
 * sends, a frame that declares more than the bound (a bomb), holds more
 * than it declares, is cut short, trails bytes, is corrupt or hides its
 * size is refused, never written past the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "compress.h"
#include "conf.h"
#include "unit.h"

static uint8_t	src[COMPRESS_CHUNK_MAX], frame[PROTO_DATA_MAX];
static uint8_t	out[COMPRESS_CHUNK_MAX + 64];

/* Text-like bytes: a short run over and over, with a counter in it. */
static void
fill_compressible(uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)("relocd moves guests "[i % 20] + (i / 4096));
}

static void
fill_noise(uint8_t *p, size_t len)
{
	uint64_t	x = 0x9e3779b97f4a7c15ULL;
	size_t		i;

	for (i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

/* A frame header: magic, then descriptor and its fields, as given. */
static size_t
frame_head(uint8_t *p, uint8_t descriptor, const uint8_t *fields, size_t n)
{
	p[0] = 0x28, p[1] = 0xb5, p[2] = 0x2f, p[3] = 0xfd;
	p[4] = descriptor;
	memcpy(p + 5, fields, n);
	return 5 + n;
}

/* One block header: last, type (0 raw, 1 RLE), size. */
static size_t
block_head(uint8_t *p, int last, int type, uint32_t size)
{
	uint32_t	v = (uint32_t)last | (uint32_t)type << 1 | size << 3;

	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
	return 3;
}

static int
unchunk(struct compress_dec *d, const uint8_t *f, size_t len, size_t *got)
{
	char	err[256];

	memset(out, 0xee, sizeof(out));
	err[0] = '\0';
	if (compress_unchunk(d, out, COMPRESS_CHUNK_MAX, f, len, got, err,
	    sizeof(err)) == 0)
		return 0;
	CHECK(err[0] != '\0');
	/* Never a byte past the bound, whatever the frame said. */
	CHECK(out[COMPRESS_CHUNK_MAX] == 0xee);
	return -1;
}

static void
test_round_trip(void)
{
	struct compress_enc	*e = compress_enc_new();
	struct compress_dec	*d = compress_dec_new();
	size_t			 z, got = 0, sizes[] = { 1, 4096, 65536,
				    COMPRESS_CHUNK_MAX };
	unsigned int		 i;

	CHECK(e != NULL && d != NULL);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_compressible(src, sizes[i]);
		z = compress_chunk(e, frame, sizeof(frame), src, sizes[i]);
		if (sizes[i] == 1) {
			/* A byte cannot shrink: it goes as it is. */
			CHECK_INT(z, 0);
			continue;
		}
		CHECK(z > 0 && z < sizes[i] / 4);
		CHECK_INT(unchunk(d, frame, z, &got), 0);
		CHECK_INT(got, sizes[i]);
		CHECK(memcmp(out, src, sizes[i]) == 0);
	}
	/* Noise does not shrink; nor does anything over a chunk. */
	fill_noise(src, sizeof(src));
	CHECK_INT(compress_chunk(e, frame, sizeof(frame), src, sizeof(src)), 0);
	CHECK_INT(compress_chunk(e, frame, sizeof(frame), src,
	    COMPRESS_CHUNK_MAX + 1), 0);
	compress_enc_free(e);
	compress_dec_free(d);
}

/* What a peer may send instead of a good frame. */
static void
test_hostile_frames(void)
{
	struct compress_enc	*e = compress_enc_new();
	struct compress_dec	*d = compress_dec_new();
	uint8_t			 fcs4[4], f[256];
	size_t			 n, z, got, i;
	ZSTD_CCtx		*c;

	CHECK(e != NULL && d != NULL);
	/* A bomb: 2 MiB declared, in 16 RLE blocks of 128 KiB, 64 bytes. */
	fcs4[0] = 0, fcs4[1] = 0, fcs4[2] = 0x20, fcs4[3] = 0;
	n = frame_head(frame, 0xa0, fcs4, 4);
	for (i = 0; i < 16; i++) {
		n += block_head(frame + n, i == 15, 1, 128 << 10);
		frame[n++] = 0;
	}
	CHECK_INT(unchunk(d, frame, n, &got), -1);
	/* One that declares 100 bytes and holds 128 KiB of RLE. */
	n = frame_head(frame, 0x20, (const uint8_t *)"\x64", 1);
	n += block_head(frame + n, 1, 1, 128 << 10);
	frame[n++] = 'x';
	CHECK_INT(unchunk(d, frame, n, &got), -1);
	/* One that declares 200 and holds 100. */
	n = frame_head(frame, 0x20, (const uint8_t *)"\xc8", 1);
	n += block_head(frame + n, 1, 0, 100);
	memset(frame + n, 'y', 100);
	n += 100;
	CHECK_INT(unchunk(d, frame, n, &got), -1);
	/*
	 * A window of 2^27 asked for, 100 bytes declared: one-shot decoding
	 * into the chunk's buffer needs no window, so it costs nothing and
	 * decodes (the bound is the buffer, compress.c).
	 */
	n = frame_head(frame, 0x80, (const uint8_t *)"\x88\x64\0\0\0", 5);
	n += block_head(frame + n, 1, 0, 100);
	memset(frame + n, 'y', 100);
	n += 100;
	CHECK_INT(unchunk(d, frame, n, &got), 0);
	CHECK_INT(got, 100);
	/* A good frame cut short, or trailing a byte, or two frames. */
	fill_compressible(src, 65536);
	z = compress_chunk(e, frame, sizeof(frame), src, 65536);
	CHECK(z > 10);
	CHECK_INT(unchunk(d, frame, z - 1, &got), -1);
	CHECK_INT(unchunk(d, frame, 3, &got), -1);
	frame[z] = 0;
	CHECK_INT(unchunk(d, frame, z + 1, &got), -1);
	memcpy(frame + z, frame, z);
	CHECK_INT(unchunk(d, frame, 2 * z, &got), -1);
	/* Corrupt: its compressed block's bytes flipped. */
	for (i = 12; i < z; i++)
		frame[i] ^= 0x5a;
	CHECK_INT(unchunk(d, frame, z, &got), -1);
	/* A frame that does not declare its size. */
	c = ZSTD_createCCtx();
	CHECK(c != NULL);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	z = ZSTD_compress2(c, f, sizeof(f), src, 100);
	CHECK(!ZSTD_isError(z));
	CHECK_INT(unchunk(d, f, z, &got), -1);
	ZSTD_freeCCtx(c);
	/* Not zstd at all, and nothing. */
	CHECK_INT(unchunk(d, (const uint8_t *)"RLCDSIM\n", 8, &got), -1);
	CHECK_INT(unchunk(d, frame, 0, &got), -1);
	/* After all that, the context still decodes a good frame. */
	z = compress_chunk(e, frame, sizeof(frame), src, 65536);
	CHECK_INT(unchunk(d, frame, z, &got), 0);
	CHECK_INT(got, 65536);
	compress_enc_free(e);
	compress_dec_free(d);
}

static void
test_modes(void)
{
	CHECK_INT(conf_compress_parse("off"), CONF_COMPRESS_OFF);
	CHECK_INT(conf_compress_parse("on"), CONF_COMPRESS_ON);
	CHECK_INT(conf_compress_parse("auto"), CONF_COMPRESS_AUTO);
	CHECK_INT(conf_compress_parse("yes"), -1);
	CHECK_STR(conf_compress_name(CONF_COMPRESS_AUTO), "auto");
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_round_trip),
		UNIT_TEST(test_hostile_frames),
		UNIT_TEST(test_modes),
	};

	return unit_run("compress", tests, sizeof(tests) / sizeof(tests[0]));
}
