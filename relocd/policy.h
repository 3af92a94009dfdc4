/* SPDX-License-Identifier: ISC */
/*
 * The pre-copy policy, shared by every backend: given the stats after
 * each round (and the time, passed in so that tests can make it up), it
 * decides whether to go on copying, stop and copy, or abort, and says
 * why and what downtime it predicts.  See policy.c for the rules.
 */
#ifndef RELOCD_POLICY_H
#define RELOCD_POLICY_H

#include <stdint.h>

#include "backend.h"
#include "target.h"

struct conf;

enum policy_kind {
	POLICY_RELOCD,		/* downtime target, non-convergence modes */
	POLICY_XEN_DEFAULT	/* libxenguest's own rule, for comparison */
};

/* libxenguest's simple_precopy_policy(): 5 rounds or under 50 pages. */
#define POLICY_XEN_MAX_ITERATIONS	5
#define POLICY_XEN_TARGET_DIRTY		50

/* Rounds the bandwidth and dirty-rate estimates average over. */
#define POLICY_WINDOW			3
/*
 * Shrinking means by more than 1/POLICY_SHRINK_DIV of the best count
 * yet; one count that does not is the writable working set's minimum
 * (policy.c, rule 4).
 */
#define POLICY_SHRINK_DIV		16
/*
 * Auto-converge (policy.c, policy_throttle_step()): each step scales the
 * guest's speed by the rate the link can clear within the target over
 * the rate measured, so the step follows the excess; never a goal below
 * POLICY_THROTTLE_CLEAR percent of the bandwidth (a guest dirtying half
 * the link halves its set each round), each step at least
 * POLICY_THROTTLE_STEP_MIN points (QEMU's cpu-throttle-increment
 * default), never under POLICY_THROTTLE_FLOOR percent of full speed; at
 * the floor and still not converging, stop and copy anyway.
 */
#define POLICY_THROTTLE_CLEAR		50
#define POLICY_THROTTLE_STEP_MIN	10
#define POLICY_THROTTLE_FLOOR		10
#define POLICY_REASON_MAX		224

/* The defaults of relocd's config keys (conf.c), for callers without one. */
#define POLICY_DEFAULT_DOWNTIME_MS	300
#define POLICY_DEFAULT_ITERATIONS	30
#define POLICY_DEFAULT_TIMEOUT_MS	(1800 * 1000)

struct policy_params {
	int		 kind;			/* enum policy_kind */
	int		 nonconvergence;	/* enum conf_nonconvergence */
	uint64_t	 max_downtime_ms;
	unsigned int	 max_iterations;	/* 0: no limit */
	uint64_t	 timeout_ms;		/* 0: no limit */
	uint64_t	 max_bandwidth;		/* bytes/s; 0: no cap */
	/*
	 * What the pause costs beyond its final copy (suspend, state,
	 * commit, unpause: pause.h's parts), learnt per destination and
	 * guest type; added to every prediction.  0: none known.
	 */
	uint64_t	 fixed_cost_ms;
};

struct policy_decision {
	int		 action;	/* BACKEND_POLICY_* */
	unsigned int	 throttle;	/* percent to set now; 0: no change */
	/*
	 * What a stop now would leave for the pause (policy.c): pages the
	 * guest dirties during the last live send, and the time to send
	 * them; -1: not known yet.
	 */
	int64_t		 pause_pages;
	int64_t		 downtime_ms;	/* fixed_ms plus the final copy's */
	uint64_t	 fixed_ms;	/* params.fixed_cost_ms, as used */
	uint64_t	 bandwidth;	/* estimate, bytes/s; 0: not known */
	uint64_t	 dirty_rate;	/* estimate, bytes/s */
	unsigned int	 iteration;
	/*
	 * Once the target is known to be out of reach, in every later
	 * decision: why (enum target_reason), and the smallest pause
	 * these hosts can reach (the fixed cost plus the smallest final
	 * copy predicted so far).
	 */
	int		 unreachable;
	int64_t		 min_pause_ms;
	char		 reason[POLICY_REASON_MAX];
};

struct policy_round {
	uint64_t	 bytes;
	uint64_t	 usec;
};

/* One migration's policy state; fields past params are policy.c's. */
struct policy {
	struct policy_params	 params;
	uint64_t		 start_us;
	/* The previous call, and when the bitmap was last read. */
	uint64_t		 last_us;
	uint64_t		 last_written;
	uint64_t		 read_us;
	/* Live sends: bytes and their time. */
	struct policy_round	 sent[POLICY_WINDOW];
	unsigned int		 nsent;
	/* Dirty counts: bytes dirtied, and the time between two reads. */
	struct policy_round	 dirtied[POLICY_WINDOW];
	unsigned int		 ndirtied;
	long			 best_dirty;	/* -1: none yet */
	long			 last_dirty;	/* the last count; -1: none */
	long			 prev_dirty;	/* the count before it; -1: none */
	unsigned int		 stall;		/* the last count did not shrink */
	int			 unreachable;	/* enum target_reason */
	int64_t			 min_copy_ms;	/* smallest final copy; -1 */
	unsigned int		 throttle;	/* percent asked for so far */
	uint64_t		 pace_us;	/* the cap's link is busy until */
};

/*
 * policy_decide() is called as libxenguest 4.17 calls a precopy policy
 * (policy.c has the source's lines): per round, once with dirty_count
 * -1 before the bitmap is read, once with the count after; a stop given
 * with the count still sends those pages live, and the pause carries
 * what the guest dirtied meanwhile.
 */
void		 policy_params_default(struct policy_params *);
void		 policy_params_from_conf(struct policy_params *,
		    const struct conf *);
void		 policy_init(struct policy *, const struct policy_params *,
		    uint64_t);
int		 policy_decide(struct policy *,
		    const struct backend_precopy_stats *, uint64_t,
		    struct policy_decision *);
uint64_t	 policy_pace(struct policy *, uint64_t, uint64_t);
int		 policy_xen_default(const struct backend_precopy_stats *);
const char	*policy_action_name(int);

/*
 * Glue for a worker: a struct policy_run as backend_save_callbacks.data
 * runs the policy on the monotonic clock (util_now_us), applies the
 * throttle it asks for through the backend, paces writes to the cap, and
 * passes each decision to progress() and the suspend time to
 * suspended(), both optional.  Only this glue reads the clock: the
 * policy itself takes the time as an argument, so tests can make it up.
 */
struct policy_run {
	struct policy		 policy;
	struct policy_decision	 last;
	const struct backend_ops *ops;
	void			*backend;
	const char		*guest;
	int			 throttled;
	void			(*progress)(const struct policy_decision *,
				    const struct backend_precopy_stats *,
				    void *);
	void			(*suspended)(uint64_t, void *);
	void			*user;
};

void	 policy_run_init(struct policy_run *, const struct policy_params *,
	    const struct backend_ops *, void *, const char *);
void	 policy_run_callbacks(struct policy_run *,
	    struct backend_save_callbacks *);
void	 policy_run_unthrottle(struct policy_run *);

#endif /* RELOCD_POLICY_H */
