// SPDX-License-Identifier: ISC
/*
 * libFuzzer harness for the stream's zstd frames (compress.c), on bytes
 * as a peer sends them in a 'Z' frame.  A frame that decodes must have
 * decoded within the bound, to no more than it declared; compressed
 * again and decoded, it must come back the same (a chunk that does not
 * shrink is sent as it is, so that is fine too).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct compress_enc	*enc;
static struct compress_dec	*dec;
static uint8_t			*out, *again, *frame;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	err[256];
	size_t	got, got2, z;

	if (dec == NULL) {
		if ((enc = compress_enc_new()) == NULL ||
		    (dec = compress_dec_new()) == NULL ||
		    (out = malloc(COMPRESS_CHUNK_MAX)) == NULL ||
		    (again = malloc(COMPRESS_CHUNK_MAX)) == NULL ||
		    (frame = malloc(PROTO_DATA_MAX)) == NULL)
			abort();
	}
	if (compress_unchunk(dec, out, COMPRESS_CHUNK_MAX, data, len, &got,
	    err, sizeof(err)) == -1) {
		if (err[0] == '\0') {
			fprintf(stderr, "fuzz: refused without a reason\n");
			abort();
		}
		return 0;
	}
	if (got == 0 || got > COMPRESS_CHUNK_MAX)
		abort();
	if ((z = compress_chunk(enc, frame, PROTO_DATA_MAX, out, got)) == 0)
		return 0;
	if (compress_unchunk(dec, again, COMPRESS_CHUNK_MAX, frame, z, &got2,
	    err, sizeof(err)) == -1 || got2 != got ||
	    memcmp(out, again, got) != 0) {
		fprintf(stderr, "fuzz: a chunk of %zu bytes does not come back "
		    "whole\n", got);
		abort();
	}
	return 0;
}
