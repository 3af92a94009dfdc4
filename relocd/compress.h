/* SPDX-License-Identifier: ISC */
/*
 * The migration stream's optional compression (relocctl migrate
 * --compress, relocd-compress), and xl's through relocd-xl (relocd-xl
 * --compress): zstd, one independent frame per data chunk, where the
 * bytes meet the network only (net_client.c and relocd-xl compress;
 * net_zstd.c decompresses in the receiving network child), so that both
 * backends and xl's stream get it and no root process ever parses a
 * peer's compressed bytes.
 *
 * The one home of libzstd in relocd.  Every bound is fixed here: a
 * chunk decompresses to at most COMPRESS_CHUNK_MAX bytes, whatever its
 * frame declares, so a compression bomb is an error.  A chunk is
 * decoded in one shot straight into that buffer, which needs no window
 * of zstd's own (whatever a frame's header asks for); the decoder's
 * window limit, COMPRESS_WINDOW_LOG, is set all the same, for any
 * streaming use.  The encoder's window is a chunk, at level 1: both
 * sides' contexts stay a few MiB (the workers' and children's goal is
 * 32 MiB of private memory at peak).
 */
#ifndef RELOCD_COMPRESS_H
#define RELOCD_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "proto.h"

/* What one compressed frame may grow to: one data frame's payload. */
#define COMPRESS_CHUNK_MAX	(PROTO_DATA_MAX - PROTO_FRAME_HDR)
/* 2^20: one chunk; a streaming decoder would refuse larger windows. */
#define COMPRESS_WINDOW_LOG	20
/* zstd's fastest level: the link is what compression is for, not CPU. */
#define COMPRESS_LEVEL		1
/* The name on the wire, (compress zstd), and in reports. */
#define COMPRESS_ZSTD_NAME	"zstd"

/*
 * relocd-compress and relocctl migrate --compress name a mode (enum
 * conf_compress, conf.h); auto's rule is compress_auto.h's.
 */

struct compress_enc;
struct compress_dec;

struct compress_enc *compress_enc_new(void);
void		 compress_enc_free(struct compress_enc *);
size_t		 compress_chunk(struct compress_enc *, void *, size_t,
		    const void *, size_t);

struct compress_dec *compress_dec_new(void);
void		 compress_dec_free(struct compress_dec *);
int		 compress_unchunk(struct compress_dec *, void *, size_t,
		    const void *, size_t, size_t *, char *, size_t);

#endif /* RELOCD_COMPRESS_H */
