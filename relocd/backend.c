// SPDX-License-Identifier: ISC
/*
 * What every backend shares: the table that picks one at start-up, the
 * names of error codes, and backend_fail().  Guest names and their
 * validators are in guest.c, which programs without a backend link.
 *
 * Runs in the parent and in the worker.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "conf.h"
#include "xen.h"

/* Defined in backend_sim.c; backend_xen_ops is declared in xen.h. */
extern const struct backend_ops	backend_sim_ops;

const struct backend_ops *
backend_get(int which)
{
	switch (which) {
	case CONF_BACKEND_SIM:
		return &backend_sim_ops;
	case CONF_BACKEND_XEN:
		return &backend_xen_ops;
	default:
		return NULL;
	}
}

static const char *const errcode_names[] = {
	[BE_OK] = "ok",
	[BE_NOT_FOUND] = "not-found",
	[BE_CLASH] = "clash",
	[BE_NO_MEMORY] = "no-memory",
	[BE_BAD_STATE] = "bad-state",
	[BE_UNSUPPORTED] = "unsupported",
	[BE_STREAM] = "stream",
	[BE_DIGEST] = "digest",
	[BE_ABORTED] = "aborted",
	[BE_IO] = "io",
	[BE_INTERNAL] = "internal"
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* An out-of-range code names itself "unknown" rather than crash. */
const char *
backend_errcode_name(int code)
{
	if (code < 0 || (size_t)code >= NELEM(errcode_names) ||
	    errcode_names[code] == NULL)
		return "unknown";
	return errcode_names[code];
}

int
backend_fail(struct backend_error *err, int code, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
backend_fail_checks(struct backend_error *err, int code,
    const struct check_list *l)
{
	const char	*first = checks_first_failure(l);
	unsigned int	 n = checks_failed(l);

	if (first == NULL)
		return backend_fail(err, code, "a pre-flight check failed");
	if (n == 1)
		return backend_fail(err, code, "%s", first);
	return backend_fail(err, code, "%u pre-flight checks failed, the "
	    "first: %s", n, first);
}

int
backend_check_not_host(const struct guest_info *g, struct backend_error *err)
{
	if (guest_is_host(g->name, g->uuid))
		return backend_fail(err, BE_CLASH, "%s (%s) would be this "
		    "host's dom0; dom0 is never a migration's target",
		    g->name, g->uuid);
	return 0;
}
