// SPDX-License-Identifier: ISC
/*
 * Fault injection for the regress and reliability tests: at a named
 * point, a process may pause, so that a test can kill a process or cut
 * a link at exactly that step of a migration.
 *
 * RELOCD_FAULT="point=ms,point@guest=ms" in relocd's environment (set by
 * the test that starts it) pauses at each named point for ms
 * milliseconds; with "@guest", only in a process that works for that
 * guest (fault_guest()), so that one daemon can carry the points of many
 * test cases, each with a guest of its own.  Without the variable a
 * point costs one getenv.  It only ever delays: it cannot change what
 * relocd decides.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "fault.h"
#include "log.h"
#include "util.h"

#define FAULT_MAX_MS	60000

/* The guest this process works for, once it knows; "" before. */
static char	fault_guest_name[GUEST_NAME_MAX + 1];

void
fault_guest(const char *name)
{
	if (strlcpy(fault_guest_name, name, sizeof(fault_guest_name)) >=
	    sizeof(fault_guest_name)) {
		log_warnx("fault: guest name longer than %d characters; "
		    "no fault point names it", GUEST_NAME_MAX);
		fault_guest_name[0] = '\0';
	}
}

/* Whether entry p ("point[@guest]=ms") names point name for us. */
static int
fault_match(const char *p, const char *name, const char **ms_r)
{
	size_t	len = strlen(name), glen;

	if (strncmp(p, name, len) != 0)
		return 0;
	p += len;
	if (*p == '@') {
		p++;
		glen = strcspn(p, "=,");
		if (glen == 0 || glen != strlen(fault_guest_name) ||
		    strncmp(p, fault_guest_name, glen) != 0)
			return 0;
		p += glen;
	}
	if (*p != '=')
		return 0;
	*ms_r = p + 1;
	return 1;
}

void
fault_point(const char *name)
{
	const char	*spec = getenv("RELOCD_FAULT"), *p, *val, *errstr;
	char		 ms[16];
	size_t		 n;
	long long	 v;
	struct timespec	 ts;

	for (p = spec; p != NULL && *p != '\0'; p += strcspn(p, ",")) {
		if (*p == ',')
			p++;
		if (!fault_match(p, name, &val))
			continue;
		n = strcspn(val, ",");
		if (n == 0 || n >= sizeof(ms))
			return;
		memcpy(ms, val, n);
		ms[n] = '\0';
		v = util_strtonum(ms, 0, FAULT_MAX_MS, &errstr);
		if (errstr != NULL)
			return;
		log_info("fault point %s%s%s: pausing %lld ms", name,
		    fault_guest_name[0] ? " for " : "", fault_guest_name, v);
		ts.tv_sec = (time_t)(v / 1000);
		ts.tv_nsec = (long)(v % 1000) * 1000000;
		nanosleep(&ts, NULL);
		return;
	}
}
