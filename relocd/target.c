// SPDX-License-Identifier: ISC
/*
 * "The downtime target cannot be met", in the forms it travels in: the
 * sxp field of relocctl's progress and result messages and of a report
 * ("(target-unreachable (reason fixed-cost) (choice stop-and-copy)
 * (min-pause-ms 420) (max-downtime-ms 300))"), its JSON object, and the
 * one line relocctl prints before the stop.  The policy (policy.c)
 * decides it; nothing here decides.
 *
 * Used by the daemon (worker, parent) and by relocctl; it trusts its
 * callers, and target_from_json() checks what it reads (a report file).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "target.h"

static const char *const target_reasons[] = {
	"none", "fixed-cost", "not-converging", NULL
};

const char *
target_reason_name(int reason)
{
	return reason >= TARGET_REACHABLE && reason <= TARGET_NOT_CONVERGING ?
	    target_reasons[reason] : "unknown";
}

int
target_sxp(const struct target *t, char *buf, size_t size, size_t *off)
{
	int	n;

	if (t->reason == TARGET_REACHABLE)
		return 0;
	if (*off >= size)
		return -1;
	n = snprintf(buf + *off, size - *off, " (target-unreachable "
	    "(reason %s) (choice %s) (min-pause-ms %lld) "
	    "(max-downtime-ms %lld))", target_reason_name(t->reason),
	    conf_nonconvergence_name(t->choice), (long long)t->min_pause_ms,
	    (long long)t->max_downtime_ms);
	if (n < 0 || (size_t)n >= size - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

json_t *
target_json(const struct target *t)
{
	return json_pack("{s:s, s:s, s:I, s:I}",
	    "reason", target_reason_name(t->reason),
	    "choice", conf_nonconvergence_name(t->choice),
	    "min-pause-ms", (json_int_t)t->min_pause_ms,
	    "max-downtime-ms", (json_int_t)t->max_downtime_ms);
}

int
target_from_json(const json_t *o, struct target *t)
{
	const char	*reason, *choice;
	json_int_t	 min, max;
	int		 i;

	memset(t, 0, sizeof(*t));
	if (o == NULL || json_is_null(o))
		return 0;
	if (json_unpack((json_t *)(uintptr_t)o, "{s:s, s:s, s:I, s:I}",
	    "reason", &reason, "choice", &choice, "min-pause-ms", &min,
	    "max-downtime-ms", &max) == -1 || min < 0 || max < 0)
		return -1;
	for (i = TARGET_FIXED_COST; target_reasons[i] != NULL; i++)
		if (strcmp(reason, target_reasons[i]) == 0)
			t->reason = i;
	if (t->reason == TARGET_REACHABLE ||
	    (t->choice = conf_nonconvergence_parse(choice)) == -1) {
		memset(t, 0, sizeof(*t));
		return -1;
	}
	t->min_pause_ms = min;
	t->max_downtime_ms = max;
	return 0;
}

/*
 * One line, plain: the target, why not, the smallest pause, what
 * follows, and what the administrator can do about it.
 */
int
target_format(const struct target *t, char *buf, size_t size)
{
	const char	*why, *then, *can;
	int		 n;

	if (t->reason == TARGET_FIXED_COST) {
		why = "the pause's fixed cost alone is over it";
		can = "raise --max-downtime (relocd-max-downtime), or accept it";
	} else {
		why = "the guest dirties memory faster than the link clears "
		    "it within the target";
		can = t->choice == CONF_NONCONV_THROTTLE ?
		    "raise --max-downtime (relocd-max-downtime), or accept it" :
		    "raise --max-downtime (relocd-max-downtime), choose "
		    "--throttle, or accept it";
	}
	switch (t->choice) {
	case CONF_NONCONV_ABORT:
		then = "aborting, the guest stays here";
		break;
	case CONF_NONCONV_THROTTLE:
		then = t->reason == TARGET_FIXED_COST ?
		    "no throttle can help; stopping at the smallest pause" :
		    "the throttle is at its floor; stopping anyway";
		break;
	default:
		then = "stopping at the smallest pause";
		break;
	}
	n = snprintf(buf, size, "the %lld ms downtime target cannot be met: "
	    "%s; the smallest pause these hosts can reach is about %lld ms; "
	    "%s; %s", (long long)t->max_downtime_ms, why,
	    (long long)t->min_pause_ms, then, can);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
