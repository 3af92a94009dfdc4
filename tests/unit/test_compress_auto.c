// SPDX-License-Identifier: ISC
/*
 * relocd-compress auto's rule (compress_auto.c), on links and CPUs
 * played by a model: a MiB of stream costs the CPU's time to read and
 * send it, plus, compressed, its time to compress, and the link's time
 * for what goes on the wire, the whole MiB or its compressed share.
 * Compression must come on where the link is the bottleneck and the
 * data shrinks, stay off where the CPU is or the data does not, follow
 * a link that changes, and cost a CPU-bound stream few windows of
 * probing.
 */
#include <stdint.h>

#include "compress_auto.h"
#include "unit.h"

#define MIB	(1ULL << 20)
#define WINDOW_MIB	(COMPRESS_AUTO_WINDOW / MIB)

struct model {
	uint64_t	link_mib_s;	/* what the link carries */
	uint64_t	cpu_us;		/* reading and sending a MiB */
	uint64_t	compress_us;	/* compressing a MiB */
	unsigned	wire_pct;	/* a compressed MiB's share on the wire */
	/* A compressed MiB times this % quicker than it costs: jitter. */
	unsigned	luck_pct;
};

struct run {
	uint64_t	mib, compressed_mib;
	unsigned	changes;
	uint64_t	first_on_mib;	/* where compression came on for good */
};

/* What one MiB costs, sent the way a->compressing says. */
static uint64_t
model_us(const struct model *m, int compressing)
{
	uint64_t	wire_pct = compressing ? m->wire_pct : 100;

	uint64_t	us = m->cpu_us + (compressing ? m->compress_us : 0) +
	    1000000ULL * wire_pct / 100 / m->link_mib_s;

	return compressing ? us * (100 - m->luck_pct) / 100 : us;
}

/* What one MiB puts on the wire, sent the way a->compressing says. */
static uint64_t
model_wire(const struct model *m, int compressing)
{
	return compressing ? MIB * m->wire_pct / 100 : MIB;
}

/* Streams mib MiB over m, in chunks of a MiB, as the network child does. */
static void
stream(struct compress_auto *a, const struct model *m, uint64_t mib,
    struct run *r)
{
	char		why[200];
	uint64_t	i;

	for (i = 0; i < mib; i++) {
		int	compressing = a->compressing;

		r->mib++;
		r->compressed_mib += (uint64_t)compressing;
		if (compress_auto_account(a, MIB, model_wire(m, compressing),
		    model_us(m, compressing), why, sizeof(why))) {
			r->changes++;
			if (a->compressing && r->first_on_mib == 0)
				r->first_on_mib = r->mib;
		}
	}
}

/* 1 Gbit/s, text that zstd takes to a third at 500 MiB/s: on. */
static void
test_slow_link_compresses(void)
{
	struct model		m = { 119, 300, 2000, 33, 0 };
	struct compress_auto	a;
	struct run		r = { 0 };

	compress_auto_init(&a);
	stream(&a, &m, 200 * WINDOW_MIB, &r);
	CHECK(a.compressing);
	CHECK_INT(r.changes, 1);
	/* Judged after the warm-up, the uncompressed and the probe window. */
	CHECK_INT(r.first_on_mib, 3 * WINDOW_MIB);
	/* Probes of the uncompressed way cost little. */
	CHECK(r.compressed_mib * 100 > r.mib * 95);
}

/* Loopback's 3 GiB/s: the same data compresses, but the CPU is slower. */
static void
test_fast_link_stays_off(void)
{
	struct model		m = { 3000, 300, 2000, 33, 0 };
	struct compress_auto	a;
	struct run		r = { 0 };

	compress_auto_init(&a);
	stream(&a, &m, 200 * WINDOW_MIB, &r);
	CHECK(!a.compressing);
	CHECK_INT(r.changes, 0);
	/* Probes back off: at most 5 % of the stream goes compressed. */
	CHECK(r.compressed_mib * 100 <= r.mib * 5);
}

/* A hundred windows over m leave compression off, never changed. */
static void
check_stays_off(const struct model *m)
{
	struct compress_auto	a;
	struct run		r = { 0 };

	compress_auto_init(&a);
	stream(&a, m, 100 * WINDOW_MIB, &r);
	CHECK(!a.compressing);
	CHECK_INT(r.changes, 0);
}

/* Noise on a slow link: nothing shrinks, compression only costs. */
static void
test_noise_stays_off(void)
{
	struct model	m = { 119, 300, 1000, 100, 0 };

	check_stays_off(&m);
}

/*
 * Noise whose compressed windows time 10 % quicker than they cost (a
 * quieter moment, as under a sanitizer build on loopback): it saved the
 * link nothing, so compression stays off.
 */
static void
test_noise_timed_lucky_stays_off(void)
{
	struct model	m = { 3000, 300, 0, 100, 10 };

	check_stays_off(&m);
}

/*
 * A gain under the margin is no gain: 3 % faster compressed stays off,
 * 10 % faster comes on.
 */
static void
test_margin(void)
{
	/* 1000 MiB/s: 1000 us a MiB on the link. */
	struct model		small = { 1000, 0, 970, 0, 0 };
	struct model		large = { 1000, 0, 900, 0, 0 };
	struct compress_auto	a;
	struct run		r = { 0 };

	compress_auto_init(&a);
	stream(&a, &small, 50 * WINDOW_MIB, &r);
	CHECK(!a.compressing);
	compress_auto_init(&a);
	memset(&r, 0, sizeof(r));
	stream(&a, &large, 50 * WINDOW_MIB, &r);
	CHECK(a.compressing);
}

/* The link changes under the stream: auto follows, both ways, soon. */
static void
test_link_changes(void)
{
	struct model		fast = { 3000, 300, 2000, 33, 0 };
	struct model		slow = { 119, 300, 2000, 33, 0 };
	struct compress_auto	a;
	struct run		r = { 0 };
	uint64_t		at;

	compress_auto_init(&a);
	stream(&a, &fast, 100 * WINDOW_MIB, &r);
	CHECK(!a.compressing);
	/* Within the longest wait, a probe, and its window. */
	at = r.mib;
	stream(&a, &slow, (COMPRESS_AUTO_WAIT_MAX + 2) * WINDOW_MIB, &r);
	CHECK(a.compressing);
	CHECK(r.first_on_mib > at);
	stream(&a, &fast, (COMPRESS_AUTO_WAIT_MAX + 2) * WINDOW_MIB, &r);
	CHECK(!a.compressing);
	CHECK_INT(r.changes, 2);
}

/* A stream shorter than three windows is never judged: it stays off. */
static void
test_short_stream(void)
{
	struct model		m = { 119, 300, 2000, 33, 0 };
	struct compress_auto	a;
	struct run		r = { 0 };

	compress_auto_init(&a);
	stream(&a, &m, 3 * WINDOW_MIB - 1, &r);
	CHECK_INT(r.changes, 0);
	CHECK_INT(r.compressed_mib, WINDOW_MIB - 1);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_slow_link_compresses),
		UNIT_TEST(test_fast_link_stays_off),
		UNIT_TEST(test_noise_stays_off),
		UNIT_TEST(test_noise_timed_lucky_stays_off),
		UNIT_TEST(test_margin),
		UNIT_TEST(test_link_changes),
		UNIT_TEST(test_short_stream),
	};

	return unit_run("compress_auto", tests, sizeof(tests) / sizeof(tests[0]));
}
