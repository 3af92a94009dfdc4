/* SPDX-License-Identifier: ISC */
/*
 * relocctl evacuate's choice of a peer for each guest, as a pure
 * function of what was asked: each guest's memory, which peers passed
 * its pre-flight, and what each peer said it could give.  No network,
 * no daemon: tests/unit/test_placement.c runs it on tables.
 */
#ifndef RELOCD_PLACEMENT_H
#define RELOCD_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/* Why a guest got no peer; the caller words it, with its figures. */
enum place_outcome {
	PLACE_OK,
	PLACE_REFUSED,		/* no peer passed its pre-flight */
	PLACE_UNKNOWN,		/* those that passed could not say what
				   they can give (an older relocd) */
	PLACE_NO_ROOM		/* those that passed have less left than
				   it needs, once larger guests are placed */
};

struct place_peer {
	uint64_t	 available;	/* bytes it said it could give */
	int		 known;		/* it said (protocol 5 or later) */
};

struct place_guest {
	uint64_t	 memory;
	int		 passed[EVACUATE_PEERS_MAX];	/* its pre-flight, per peer */
	int		 peer;		/* out: the index chosen, or -1 */
	int		 outcome;	/* out: enum place_outcome */
};

/*
 * Chooses a peer for every guest: larger guests first (they are the
 * hardest to fit), each to the peer, among those that passed its
 * pre-flight and told their capacity, with the most memory left for
 * it once the guests placed before it are counted; ties go to the
 * peer named first.  np is at most EVACUATE_PEERS_MAX.
 */
void	placement_choose(struct place_guest *, size_t,
	    const struct place_peer *, size_t);

#endif /* RELOCD_PLACEMENT_H */
