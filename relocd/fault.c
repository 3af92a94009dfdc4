// SPDX-License-Identifier: ISC
/*
 * Fault injection for the regress and reliability tests: at a named
 * point, a process may pause, so that a test can kill a process or cut
 * a link at exactly that step of a migration.
 *
 * RELOCD_FAULT="point=ms,point=ms" in relocd's environment (set by the
 * test that starts it) pauses at each named point for ms milliseconds.
 * Without the variable a point costs one getenv.  It only ever delays:
 * it cannot change what relocd decides.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault.h"
#include "log.h"
#include "util.h"

#define FAULT_MAX_MS	60000

void
fault_point(const char *name)
{
	const char	*spec = getenv("RELOCD_FAULT"), *p, *errstr;
	char		 ms[16];
	size_t		 len = strlen(name), n;
	long long	 v;
	struct timespec	 ts;

	for (p = spec; p != NULL && *p != '\0'; p += strcspn(p, ",")) {
		if (*p == ',')
			p++;
		if (strncmp(p, name, len) != 0 || p[len] != '=')
			continue;
		n = strcspn(p + len + 1, ",");
		if (n == 0 || n >= sizeof(ms))
			return;
		memcpy(ms, p + len + 1, n);
		ms[n] = '\0';
		v = util_strtonum(ms, 0, FAULT_MAX_MS, &errstr);
		if (errstr != NULL)
			return;
		log_info("fault point %s: pausing %lld ms", name, v);
		ts.tv_sec = (time_t)(v / 1000);
		ts.tv_nsec = (long)(v % 1000) * 1000000;
		nanosleep(&ts, NULL);
		return;
	}
}
