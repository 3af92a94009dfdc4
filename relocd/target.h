/* SPDX-License-Identifier: ISC */
/*
 * A downtime target out of reach, said early (issue 20): why, the
 * smallest pause these hosts can reach, the target, and what the policy
 * does about it.  The policy decides it (policy.c); the worker, the
 * parent, the report and relocctl carry and print it (target.c).
 */
#ifndef RELOCD_TARGET_H
#define RELOCD_TARGET_H

#include <stddef.h>
#include <stdint.h>

enum target_reason {
	TARGET_REACHABLE,	/* nothing to say (yet) */
	TARGET_FIXED_COST,	/* the pause's fixed cost alone is over it */
	TARGET_NOT_CONVERGING	/* the guest does not converge to it */
};

struct target {
	int32_t		 reason;	/* enum target_reason */
	int32_t		 choice;	/* enum conf_nonconvergence */
	int64_t		 min_pause_ms;	/* fixed cost + smallest final copy */
	int64_t		 max_downtime_ms;
};

struct json_t;

const char	*target_reason_name(int);
/* " (target-unreachable (reason ...) ...)" at *off; nothing if reachable */
int		 target_sxp(const struct target *, char *, size_t, size_t *);
/* The object of target_sxp()'s fields; NULL: no memory */
struct json_t	*target_json(const struct target *);
/* From target_json()'s object (absent: reachable); -1 if malformed */
int		 target_from_json(const struct json_t *, struct target *);
/* The one line relocctl prints; -1 if it does not fit */
int		 target_format(const struct target *, char *, size_t);

#endif /* RELOCD_TARGET_H */
