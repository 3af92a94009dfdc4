/* SPDX-License-Identifier: ISC */
/*
 * Zero pages in the sim stream (sim_stream.c, version 3): the source's
 * test for an all-zero page, the ZERO_PAGES record that carries such
 * pages as their page numbers only, and the destination's map of the
 * pages a stream has written, which tells it where a zero page must be
 * written and where memory is zero already.
 */
#ifndef RELOCD_SIM_ZERO_H
#define RELOCD_SIM_ZERO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "bounds.h"

struct sim_digest;

/*
 * ZERO_PAGES, record type 5: count u32 (1..SIM_ZERO_BATCH_MAX) |
 * reserved u32 (0) | count x page number u64; length exactly 8 + count
 * x 8.  SIM_ZERO_REC_MAX is a whole record with its 8-byte record head.
 */
#define SIM_REC_ZERO_PAGES	5
#define SIM_ZERO_HEAD_LEN	8
#define SIM_ZERO_REC_MAX	(8 + SIM_ZERO_HEAD_LEN + SIM_ZERO_BATCH_MAX * 8)

/* Which pages of a guest a stream has written data to (a bit a page). */
struct sim_landed {
	uint64_t	*bits;
	uint64_t	 pages;
};

extern const uint8_t	sim_zero_page[];

bool	 sim_page_zero(const uint8_t *);
size_t	 sim_zero_encode(uint8_t *, uint32_t);
void	 sim_zero_put(uint8_t *, uint32_t, uint64_t);
int	 sim_zero_count(uint32_t, uint32_t *, struct backend_error *);
int	 sim_zero_decode(const uint8_t *, uint32_t, uint64_t,
	    struct backend_error *);
uint64_t sim_zero_pfn(const uint8_t *, uint32_t);
void	 sim_zero_land(const uint8_t *, uint32_t, uint8_t *,
	    struct sim_landed *);
int	 sim_zero_digest(const uint8_t *, uint32_t, struct sim_digest *,
	    struct backend_error *);

int	 sim_landed_init(struct sim_landed *, uint64_t,
	    struct backend_error *);
void	 sim_landed_free(struct sim_landed *);
void	 sim_landed_set(struct sim_landed *, uint64_t);
bool	 sim_landed_clear(struct sim_landed *, uint64_t);

#endif /* RELOCD_SIM_ZERO_H */
