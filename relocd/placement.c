// SPDX-License-Identifier: ISC
/*
 * relocctl evacuate's placement (placement.h): guests onto peers by the
 * memory each peer said it could give, larger guests first.  A greedy
 * choice, not an optimal packing: evacuation wants each guest where it
 * has the most room, so that the peers stay balanced and a guest that
 * grows (or a peer's own guests) still fits, rather than the tightest
 * fit.  Runs in relocctl; its input is relocd's typed replies.
 */
#include <string.h>

#include "placement.h"

/* The index of the largest guest not placed yet, or -1. */
static int
next_largest(const struct place_guest *g, size_t ng, const int *done)
{
	size_t	i;
	int	best = -1;

	for (i = 0; i < ng; i++)
		if (!done[i] && (best == -1 || g[i].memory > g[best].memory))
			best = (int)i;
	return best;
}

/* Places one guest against what is left on each peer. */
static void
place_one(struct place_guest *g, const struct place_peer *p, size_t np,
    uint64_t *left)
{
	size_t	k;
	int	passed = 0, known = 0;

	g->peer = -1;
	for (k = 0; k < np; k++) {
		if (!g->passed[k])
			continue;
		passed = 1;
		if (!p[k].known)
			continue;
		known = 1;
		if (left[k] < g->memory)
			continue;
		if (g->peer == -1 || left[k] > left[g->peer])
			g->peer = (int)k;
	}
	if (g->peer != -1) {
		left[g->peer] -= g->memory;
		g->outcome = PLACE_OK;
	} else
		g->outcome = !passed ? PLACE_REFUSED : !known ? PLACE_UNKNOWN :
		    PLACE_NO_ROOM;
}

void
placement_choose(struct place_guest *g, size_t ng,
    const struct place_peer *p, size_t np)
{
	uint64_t	left[EVACUATE_PEERS_MAX];
	int		done[EVACUATE_GUESTS_MAX];
	size_t		k, n;
	int		i;

	if (np > EVACUATE_PEERS_MAX)
		np = EVACUATE_PEERS_MAX;
	if (ng > EVACUATE_GUESTS_MAX)
		ng = EVACUATE_GUESTS_MAX;
	for (k = 0; k < np; k++)
		left[k] = p[k].known ? p[k].available : 0;
	memset(done, 0, sizeof(done));
	for (n = 0; n < ng; n++) {
		if ((i = next_largest(g, ng, done)) == -1)
			break;
		done[i] = 1;
		place_one(&g[i], p, np, left);
	}
}
