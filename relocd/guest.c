// SPDX-License-Identifier: ISC
/*
 * Guest names, types and states, and the validators for names and uuids.
 * Shared by the daemon, relocctl and relocd-xl, none of which needs a
 * backend for this.  The validators trust nothing: a name or uuid that
 * reaches them may come straight from a peer.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "bounds.h"
#include "guest.h"

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
guest_name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n || names[v] == NULL)
		return "unknown";
	return names[v];
}

const char *
guest_type_name(int type)
{
	return guest_name_of(type_names, NELEM(type_names), type);
}

const char *
guest_state_name(int state)
{
	return guest_name_of(state_names, NELEM(state_names), state);
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

/*
 * Whether a name or uuid is dom0's.  dom0 is the host itself: a peer that
 * asks to reserve it, or to create a guest under its name or uuid, is
 * refused before any backend looks for a clash (the xen backend's guest
 * list leaves dom0 out, so its clash check alone would never see it).
 * Case is ignored for the name, as a second spelling would still confuse
 * xl and every administrator.
 */
bool
guest_is_host(const char *name, const char *uuid)
{
	return (name != NULL && strcasecmp(name, GUEST_HOST_NAME) == 0) ||
	    (uuid != NULL && strcmp(uuid, GUEST_HOST_UUID) == 0);
}

/*
 * A host as a user or DNS writes one: letters, digits, '-', '_' and dots,
 * at most HOST_NAME_LEN_MAX characters; address_ok lets ':' through too,
 * for an IPv6 address where a host may be given by address.  It lives
 * beside the guest validators because the same three programs check
 * hosts that reach them from users, peers and the resolver.
 */
int
host_name_valid(const char *s, int address_ok)
{
	size_t	len;

	if (s == NULL || (len = strnlen(s, HOST_NAME_LEN_MAX + 1)) == 0 ||
	    len > HOST_NAME_LEN_MAX)
		return 0;
	return strspn(s, address_ok ?
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:" :
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
	    len;
}
