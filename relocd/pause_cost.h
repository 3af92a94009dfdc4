/* SPDX-License-Identifier: ISC */
/*
 * The fixed cost of a migration's pause (what it costs beyond its final
 * copy: suspend, state, commit, unpause), learnt per destination and
 * guest type and kept in relocd-state-dir, so that the policy's
 * prediction (policy_params.fixed_cost_ms) counts it.  pause_cost.c
 * says how a cost is measured, learnt and kept.
 */
#ifndef RELOCD_PAUSE_COST_H
#define RELOCD_PAUSE_COST_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "guest.h"
#include "pause.h"

/* One cost for each enum guest_type. */
#define PAUSE_COST_TYPES	(GUEST_TYPE_SIM + 1)
/* The file in relocd-state-dir. */
#define PAUSE_COST_FILE		"pause-costs.json"

struct pause_cost {
	uint64_t	 ms;
	uint32_t	 samples;	/* 0: a first guess, never measured */
	uint32_t	 pad;
};

/* The first guess for a guest type's fixed cost, milliseconds. */
uint64_t	 pause_cost_guess_ms(int);
/* "host:port" ("[addr]:port" for IPv6) into buf; -1 if it does not fit. */
int		 pause_cost_dest(char *, size_t, const char *, int);
/*
 * costs[PAUSE_COST_TYPES] for a destination: learnt, or first guesses.
 * 0, or -1 with err saying why the file could not be used (the costs
 * are then the first guesses, and migrations go on).
 */
int		 pause_cost_lookup(const char *, const char *,
		    struct pause_cost *, char *, size_t);
/*
 * Folds one measured fixed cost (ms) into the destination's and type's
 * learnt cost at wall time now_ms, the new cost in *cost_r.  0; 1 when
 * a damaged file was replaced (err says so); -1 with err if the file
 * cannot be written.
 */
int		 pause_cost_learn(const char *, const char *, int, uint64_t,
		    int64_t, struct pause_cost *, char *, size_t);
/* The learnt cost of n measurements (microseconds): their median. */
uint64_t	 pause_cost_median_us(const uint64_t *, size_t);
/*
 * The fixed cost a finished migration measured (ms): its downtime less
 * its final copy, from its parts, or -1 if it says too little.
 * Arguments: downtime, parts, the last prediction, the fixed cost used.
 */
int64_t		 pause_cost_sample(uint64_t, const struct pause *, uint64_t,
		    uint64_t);

#endif /* RELOCD_PAUSE_COST_H */
