// SPDX-License-Identifier: ISC
/*
 * What every backend shares: the table that picks one at start-up, the
 * names of types, states and error codes, and the validators for guest
 * names and uuids.
 *
 * Runs in the parent (validating what relocctl and peers send) and in the
 * worker.  The validators trust nothing: a name or uuid that reaches them
 * may come straight from a peer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "conf.h"
#include "xen.h"

/* Defined in backend_sim.c; the xen backend is not built yet. */
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

static const char *const type_names[] = {
	[GUEST_TYPE_PV] = "pv",
	[GUEST_TYPE_PVH] = "pvh",
	[GUEST_TYPE_HVM] = "hvm",
	[GUEST_TYPE_SIM] = "sim"
};

static const char *const state_names[] = {
	[GUEST_STATE_RUNNING] = "running",
	[GUEST_STATE_PAUSED] = "paused",
	[GUEST_STATE_SUSPENDED] = "suspended",
	[GUEST_STATE_RESERVED] = "reserved",
	[GUEST_STATE_INCOMING] = "incoming"
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Out-of-range values name themselves "unknown" rather than crash. */
static const char *
backend_name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n || names[v] == NULL)
		return "unknown";
	return names[v];
}

const char *
backend_errcode_name(int code)
{
	return backend_name_of(errcode_names, NELEM(errcode_names), code);
}

const char *
guest_type_name(int type)
{
	return backend_name_of(type_names, NELEM(type_names), type);
}

const char *
guest_state_name(int state)
{
	return backend_name_of(state_names, NELEM(state_names), state);
}

int
guest_type_parse(const char *s, int *type_r)
{
	size_t	i;

	if (s == NULL)
		return -1;
	for (i = 0; i < NELEM(type_names); i++) {
		if (strcmp(s, type_names[i]) == 0) {
			*type_r = (int)i;
			return 0;
		}
	}
	return -1;
}

/*
 * A guest name becomes a file name (sim), a xenstore value and a log
 * word, so it is held to a conservative set: no '/', no spaces, no
 * leading '-' (an option) or '.' (hidden, "." and "..").
 */
int
guest_name_valid(const char *s)
{
	size_t	i, len;

	if (s == NULL)
		return 0;
	len = strnlen(s, GUEST_NAME_MAX + 1);
	if (len == 0 || len > GUEST_NAME_MAX)
		return 0;
	if (s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char	c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-')
			continue;
		return 0;
	}
	return 1;
}

/* Lower case only, so that one uuid has exactly one spelling. */
int
guest_uuid_valid(const char *s)
{
	size_t	i;

	if (s == NULL || strnlen(s, GUEST_UUID_LEN + 1) != GUEST_UUID_LEN)
		return 0;
	for (i = 0; i < GUEST_UUID_LEN; i++) {
		char	c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
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
