// SPDX-License-Identifier: ISC
/*
 * Backend-independent helpers: names of types and states, validators for
 * what peers and users send as guest names and uuids, and the backend
 * table.  Runs everywhere; validators treat their input as hostile.
 */
#include <string.h>

#include "backend.h"
#include "conf.h"

static const char *const type_names[] = { "pv", "pvh", "hvm", "sim" };
static const char *const state_names[] = {
	"running", "paused", "suspended", "reserved", "incoming"
};

/* XXX no backend is built in yet: the sim backend lands with issue 4. */
const struct backend_ops *
backend_get(int which)
{
	(void)which;
	return NULL;
}

const char *
guest_type_name(int t)
{
	return t >= 0 && t <= GUEST_TYPE_SIM ? type_names[t] : "unknown";
}

int
guest_type_parse(const char *s, int *t_r)
{
	int	i;

	for (i = 0; i <= GUEST_TYPE_SIM; i++)
		if (strcmp(s, type_names[i]) == 0) {
			*t_r = i;
			return 0;
		}
	return -1;
}

const char *
guest_state_name(int s)
{
	return s >= 0 && s <= GUEST_STATE_INCOMING ? state_names[s] :
	    "unknown";
}

int
guest_name_valid(const char *name)
{
	size_t	len = strlen(name);

	if (len == 0 || len > GUEST_NAME_MAX || name[0] == '-' ||
	    name[0] == '.')
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

int
guest_uuid_valid(const char *uuid)
{
	size_t	i;

	if (strlen(uuid) != GUEST_UUID_LEN)
		return 0;
	for (i = 0; i < GUEST_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (uuid[i] != '-')
				return 0;
		} else if (!((uuid[i] >= '0' && uuid[i] <= '9') ||
		    (uuid[i] >= 'a' && uuid[i] <= 'f')))
			return 0;
	}
	return 1;
}

const char *
backend_errcode_name(int code)
{
	static const char *const names[] = {
		"ok", "not found", "clash", "no memory", "bad state",
		"unsupported", "stream", "digest", "aborted", "io", "internal"
	};

	return code >= 0 && code <= BE_INTERNAL ? names[code] : "unknown";
}
