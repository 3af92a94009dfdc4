// SPDX-License-Identifier: ISC
/*
 * The stream's compression, zstd (compress.h says where it runs and
 * why).  Each data chunk is one zstd frame of its own, with its size
 * in the frame header: a chunk is decompressed alone, into one buffer
 * of COMPRESS_CHUNK_MAX bytes, so the decoder needs no history and a
 * frame that declares more, or holds more than it declares, or trails
 * bytes past its end, is refused before anything is written.  Per-chunk
 * frames cost some ratio against one long stream (no match reaches back
 * past a chunk), but a chunk of 1 MiB is most of what zstd's window at
 * level 1 would see anyway.
 *
 * Runs in the network children, sandboxed (proc.c): zstd is computation
 * and malloc only, within the seccomp allow-list.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <zstd.h>

#include "compress.h"

struct compress_enc {
	ZSTD_CCtx	*cctx;
};

struct compress_dec {
	ZSTD_DCtx	*dctx;
};

struct compress_enc *
compress_enc_new(void)
{
	struct compress_enc	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if ((e->cctx = ZSTD_createCCtx()) == NULL ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx,
	    ZSTD_c_compressionLevel, COMPRESS_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_windowLog,
	    COMPRESS_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx,
	    ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_checksumFlag,
	    0))) {
		compress_enc_free(e);
		return NULL;
	}
	return e;
}

void
compress_enc_free(struct compress_enc *e)
{
	if (e == NULL)
		return;
	ZSTD_freeCCtx(e->cctx);
	free(e);
}

/*
 * Compresses len bytes of src (at most COMPRESS_CHUNK_MAX) into dst, of
 * size bytes, as one frame.  Returns the frame's length, or 0 when it
 * would not be shorter than src (or size): the chunk then goes as it is.
 * TLS already checks the bytes in transit, so the frame carries no
 * checksum; the sim digest and the end record's length check the rest.
 */
size_t
compress_chunk(struct compress_enc *e, void *dst, size_t size,
    const void *src, size_t len)
{
	size_t	r;

	if (len == 0 || len > COMPRESS_CHUNK_MAX)
		return 0;
	if (size >= len)
		size = len - 1;
	if (size == 0)
		return 0;
	r = ZSTD_compress2(e->cctx, dst, size, src, len);
	/* Too small a buffer is zstd's "it does not shrink". */
	return ZSTD_isError(r) ? 0 : r;
}

struct compress_dec *
compress_dec_new(void)
{
	struct compress_dec	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->dctx = ZSTD_createDCtx()) == NULL ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(d->dctx,
	    ZSTD_d_windowLogMax, COMPRESS_WINDOW_LOG))) {
		compress_dec_free(d);
		return NULL;
	}
	return d;
}

void
compress_dec_free(struct compress_dec *d)
{
	if (d == NULL)
		return;
	ZSTD_freeDCtx(d->dctx);
	free(d);
}

/*
 * Decompresses one frame, len bytes of src as a peer sent them, into
 * dst, of size bytes (at most COMPRESS_CHUNK_MAX are ever allowed).
 * The frame must be exactly one zstd frame that declares its size, at
 * least 1 and within the bound, and holds exactly that.  Returns 0 with
 * *out_r set, or -1 with err saying what was wrong (our words, never
 * the peer's bytes).
 */
int
compress_unchunk(struct compress_dec *d, void *dst, size_t size,
    const void *src, size_t len, size_t *out_r, char *err, size_t errlen)
{
	unsigned long long	declared;
	size_t			frame, r;

	if (size > COMPRESS_CHUNK_MAX)
		size = COMPRESS_CHUNK_MAX;
	frame = ZSTD_findFrameCompressedSize(src, len);
	if (ZSTD_isError(frame) || frame != len) {
		snprintf(err, errlen, "a compressed frame of %zu bytes is not "
		    "one whole zstd frame", len);
		return -1;
	}
	declared = ZSTD_getFrameContentSize(src, len);
	if (declared == ZSTD_CONTENTSIZE_UNKNOWN ||
	    declared == ZSTD_CONTENTSIZE_ERROR || declared == 0) {
		snprintf(err, errlen, "a compressed frame of %zu bytes does "
		    "not declare its size", len);
		return -1;
	}
	if (declared > size) {
		snprintf(err, errlen, "a compressed frame of %zu bytes "
		    "declares %llu bytes, over the bound of %zu", len,
		    declared, size);
		return -1;
	}
	/* The declared size is the buffer: a frame that lies overflows it. */
	r = ZSTD_decompressDCtx(d->dctx, dst, (size_t)declared, src, len);
	if (ZSTD_isError(r) || r != declared) {
		snprintf(err, errlen, "a compressed frame of %zu bytes does "
		    "not decompress to the %llu bytes it declares (%s)", len,
		    declared, ZSTD_isError(r) ? ZSTD_getErrorName(r) :
		    "short");
		return -1;
	}
	*out_r = r;
	return 0;
}
