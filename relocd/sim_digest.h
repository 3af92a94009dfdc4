/* SPDX-License-Identifier: ISC */
/*
 * The sim stream's memory digest (sim_stream.c says what it proves and
 * why it is built this way).  Version 2, the sum: each page copy in the
 * stream adds XXH3-128 of its contents, seeded with its page number and
 * its position among the stream's copies, to two 64-bit sums.  Version
 * 1, the hash list of relocd 0.1.0, is kept to migrate with it: a
 * SHA-256 per page, and the SHA-256 of that list.
 */
#ifndef RELOCD_SIM_DIGEST_H
#define RELOCD_SIM_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* The digest as it travels: version 2's sums and copies, version 1's hash. */
#define SIM_DIGEST_V2_LEN	24
#define SIM_DIGEST_V1_LEN	32
#define SIM_DIGEST_MAX_LEN	32
/*
 * Version 2's seed packs the page number into its low bits and the
 * copy's position above them: an exact (injective) packing while pages
 * stay below 2^SIM_DIGEST_PFN_BITS (sim.h's SIM_MEMORY_MAX, asserted in
 * sim_digest.c) and positions below 2^(64 - SIM_DIGEST_PFN_BITS).
 */
#define SIM_DIGEST_PFN_BITS	24

struct tls_sha256;

struct sim_digest {
	uint32_t	 version;	/* the stream's: 1 or 2 */
	uint64_t	 sum[2];	/* 2: low and high halves, each mod 2^64 */
	uint64_t	 copies;	/* 2: page copies added */
	/* Version 1 only: one SHA-256 per page (32 bytes each). */
	struct tls_sha256 *sha;
	uint8_t		*leaf;
	uint64_t	 pages;
};

int	 sim_digest_init(struct sim_digest *, uint32_t, uint64_t,
	    struct backend_error *);
void	 sim_digest_free(struct sim_digest *);
int	 sim_digest_page(struct sim_digest *, uint64_t, const uint8_t *,
	    struct backend_error *);
int	 sim_digest_final(struct sim_digest *, uint8_t *, size_t *,
	    struct backend_error *);
uint64_t sim_digest_copies(const uint8_t *);

#endif /* RELOCD_SIM_DIGEST_H */
