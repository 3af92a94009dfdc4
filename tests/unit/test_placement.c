// SPDX-License-Identifier: ISC
/*
 * relocctl evacuate's placement (relocd/placement.c) on tables: guests
 * and what each peer said, to the peer each guest gets, with no network.
 */
#include <string.h>

#include "placement.h"
#include "unit.h"

#define MIB	(1ULL << 20)

/* A guest of mem MiB that passed the pre-flight on the peers in mask. */
static struct place_guest
guest(uint64_t mem, unsigned int mask)
{
	struct place_guest	g;
	int			k;

	memset(&g, 0, sizeof(g));
	g.memory = mem * MIB;
	for (k = 0; k < EVACUATE_PEERS_MAX; k++)
		g.passed[k] = (mask >> k) & 1;
	g.peer = -2;
	return g;
}

static struct place_peer
peer(uint64_t avail)
{
	struct place_peer	p = { avail * MIB, 1 };

	return p;
}

/* Each guest to the peer with the most left: spread, largest first. */
static void
test_most_room_first(void)
{
	struct place_guest	g[4];
	struct place_peer	p[2] = { peer(600), peer(400) };

	g[0] = guest(100, 3);
	g[1] = guest(300, 3);
	g[2] = guest(200, 3);
	g[3] = guest(100, 3);
	placement_choose(g, 4, p, 2);
	/*
	 * 300 -> p0 (300 left, p1 400); 200 -> p1 (200 left); 100 -> p0
	 * (200 left); the last 100: a tie, to the first named, p0.
	 */
	CHECK_INT(g[1].peer, 0);
	CHECK_INT(g[2].peer, 1);
	CHECK_INT(g[0].peer, 0);
	CHECK_INT(g[3].peer, 0);
	CHECK_INT(g[0].outcome, PLACE_OK);
}

/* A guest that fits nowhere has no peer, and the others still go. */
static void
test_no_room(void)
{
	struct place_guest	g[3];
	struct place_peer	p[2] = { peer(256), peer(128) };

	g[0] = guest(1024, 3);
	g[1] = guest(200, 3);
	g[2] = guest(100, 3);
	placement_choose(g, 3, p, 2);
	CHECK_INT(g[0].peer, -1);
	CHECK_INT(g[0].outcome, PLACE_NO_ROOM);
	CHECK_INT(g[1].peer, 0);
	CHECK_INT(g[2].peer, 1);
	/* The capacity is used up by placed guests: 56 and 28 MiB left. */
	g[0] = guest(64, 3);
	g[1] = guest(200, 3);
	g[2] = guest(100, 3);
	placement_choose(g, 3, p, 2);
	CHECK_INT(g[0].peer, -1);
	CHECK_INT(g[0].outcome, PLACE_NO_ROOM);
}

/* Only peers that passed the guest's pre-flight count. */
static void
test_preflight_decides(void)
{
	struct place_guest	g[2];
	struct place_peer	p[2] = { peer(4096), peer(512) };

	g[0] = guest(256, 2);	/* refused by peer 0 (say a bridge) */
	g[1] = guest(256, 0);
	placement_choose(g, 2, p, 2);
	CHECK_INT(g[0].peer, 1);
	CHECK_INT(g[1].peer, -1);
	CHECK_INT(g[1].outcome, PLACE_REFUSED);
}

/* A peer that cannot say what it can give gets nothing. */
static void
test_unknown_capacity(void)
{
	struct place_guest	g[2];
	struct place_peer	p[2] = { peer(4096), peer(4096) };

	p[1].known = 0;
	g[0] = guest(256, 2);
	g[1] = guest(128, 3);
	placement_choose(g, 2, p, 2);
	CHECK_INT(g[0].peer, -1);
	CHECK_INT(g[0].outcome, PLACE_UNKNOWN);
	CHECK_INT(g[1].peer, 0);
}

UNIT_MAIN("placement",
    UNIT_TEST(test_most_room_first),
    UNIT_TEST(test_no_room),
    UNIT_TEST(test_preflight_decides),
    UNIT_TEST(test_unknown_capacity))
