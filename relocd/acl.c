// SPDX-License-Identifier: ISC
/*
 * Authorization lists.
 *
 * hosts-allow keeps xend's meaning: each pattern is a regular expression
 * anchored at the start (Python's re.match), tried against the peer's IP
 * address text and against its host name.  Unlike xend, the host name
 * counts only when it is forward-confirmed (the reverse lookup's name
 * resolves back to the same address), because anyone who controls the
 * reverse zone of their own address can otherwise claim any name.
 *
 * A pattern that starts like an address (after an optional '^': a decimal
 * digit, a ':', or one to four hex digits and a ':') is an address
 * pattern, tried against the address text only.  Two reasons: with one,
 * no host-name lookup is needed (the parent decides at accept), and a
 * peer that owns a reverse and a forward zone could otherwise make a
 * confirmed name such as "192.168.1.evil.example" to match '^192\.168\.1\.'.
 * Every other pattern is a name pattern, tried against both.
 *
 * peers-allow lists certificate names: exact (case-insensitive) or a
 * "*.suffix" wildcard that stands for exactly one leftmost label.
 *
 * Patterns come from the root-owned config.  Subjects (names from DNS or
 * from a verified certificate) are treated as hostile: matching has PCRE2
 * match and depth limits so a crafted name cannot make us backtrack.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/socket.h>
#include <netinet/in.h>

#include <netdb.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "bounds.h"
#include "util.h"

/* Backtracking bounds for one match against a peer-influenced name. */
#define ACL_MATCH_LIMIT		100000
#define ACL_DEPTH_LIMIT		1000

struct acl {
	size_t			 count;
	char			*text[ACL_PATTERNS_MAX];
	pcre2_code		*code[ACL_PATTERNS_MAX];
	bool			 address_only[ACL_PATTERNS_MAX];
	pcre2_match_context	*mctx;
};

struct acl_names {
	size_t			 count;
	char			*name[PEER_NAMES_MAX];
};

struct acl *
acl_hosts_new(void)
{
	struct acl	*acl;

	if ((acl = calloc(1, sizeof(*acl))) == NULL)
		return NULL;
	if ((acl->mctx = pcre2_match_context_create(NULL)) == NULL) {
		free(acl);
		return NULL;
	}
	pcre2_set_match_limit(acl->mctx, ACL_MATCH_LIMIT);
	pcre2_set_depth_limit(acl->mctx, ACL_DEPTH_LIMIT);
	return acl;
}

/* True if the pattern starts like an address: see the top of the file. */
static bool
acl_is_address_pattern(const char *pattern)
{
	const char	*p = pattern;
	size_t		 n;

	if (*p == '^')
		p++;
	if ((*p >= '0' && *p <= '9') || *p == ':')
		return true;
	n = strspn(p, "0123456789abcdefABCDEF");
	return n >= 1 && n <= 4 && p[n] == ':';
}

/*
 * Compiles one pattern.  On failure err holds a sentence that names the
 * pattern, PCRE2's reason and the offset, for a file:line message.
 */
int
acl_hosts_add(struct acl *acl, const char *pattern, char *err, size_t errlen)
{
	PCRE2_UCHAR	 reason[128];
	PCRE2_SIZE	 offset;
	pcre2_code	*code;
	int		 errcode;
	size_t		 len = strlen(pattern);

	if (acl->count >= ACL_PATTERNS_MAX) {
		snprintf(err, errlen, "more than %d patterns",
		    ACL_PATTERNS_MAX);
		return -1;
	}
	if (len == 0 || len > ACL_PATTERN_MAX) {
		snprintf(err, errlen, "pattern length must be 1 to %d",
		    ACL_PATTERN_MAX);
		return -1;
	}
	code = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_ANCHORED,
	    &errcode, &offset, NULL);
	if (code == NULL) {
		pcre2_get_error_message(errcode, reason, sizeof(reason));
		snprintf(err, errlen,
		    "pattern '%s' does not compile: %s at offset %zu",
		    pattern, (char *)reason, (size_t)offset);
		return -1;
	}
	if ((acl->text[acl->count] = strdup(pattern)) == NULL) {
		pcre2_code_free(code);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	acl->address_only[acl->count] = acl_is_address_pattern(pattern);
	acl->code[acl->count++] = code;
	return 0;
}

size_t
acl_hosts_count(const struct acl *acl)
{
	return acl == NULL ? 0 : acl->count;
}

const char *
acl_hosts_pattern(const struct acl *acl, size_t i)
{
	return i < acl_hosts_count(acl) ? acl->text[i] : NULL;
}

/*
 * True if some pattern is a name pattern: only then is a peer's host
 * name worth looking up.
 */
bool
acl_hosts_names(const struct acl *acl)
{
	size_t	i;

	for (i = 0; i < acl_hosts_count(acl); i++)
		if (!acl->address_only[i])
			return true;
	return false;
}

static bool
acl_hosts_match_one(const struct acl *acl, size_t i, const char *subject)
{
	pcre2_match_data	*md;
	int			 r;

	if ((md = pcre2_match_data_create_from_pattern(acl->code[i],
	    NULL)) == NULL)
		return false;
	r = pcre2_match(acl->code[i], (PCRE2_SPTR)subject,
	    PCRE2_ZERO_TERMINATED, 0, 0, md, acl->mctx);
	pcre2_match_data_free(md);
	/* Errors, including hitting the match limit, never allow. */
	return r >= 0;
}

/*
 * True if any pattern matches the IP text, or any name pattern the
 * forward-confirmed name (NULL when there is none).  An empty list means "allow all", xend's
 * meaning of an empty option; the config loader warns about it.
 */
bool
acl_hosts_match(const struct acl *acl, const char *ip, const char *name)
{
	size_t	i;

	if (acl_hosts_count(acl) == 0)
		return true;
	for (i = 0; i < acl->count; i++) {
		if (ip != NULL && acl_hosts_match_one(acl, i, ip))
			return true;
		if (name != NULL && !acl->address_only[i] &&
		    acl_hosts_match_one(acl, i, name))
			return true;
	}
	return false;
}

void
acl_hosts_free(struct acl *acl)
{
	size_t	i;

	if (acl == NULL)
		return;
	for (i = 0; i < acl->count; i++) {
		pcre2_code_free(acl->code[i]);
		free(acl->text[i]);
	}
	pcre2_match_context_free(acl->mctx);
	free(acl);
}

/*
 * A listener on [::] (xend-relocation-address '') takes IPv4 peers too,
 * as ::ffff:a.b.c.d: such a peer is its IPv4 address, for hosts-allow
 * (xend's patterns are written for a.b.c.d) and for its host name.
 */
static const struct sockaddr *
acl_unmap(const struct sockaddr *sa, socklen_t *salen,
    struct sockaddr_in *sin)
{
	const struct sockaddr_in6	*s6;

	if (sa->sa_family != AF_INET6 || *salen < sizeof(*s6))
		return sa;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return sa;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = s6->sin6_port;
	memcpy(&sin->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	*salen = sizeof(*sin);
	return (const struct sockaddr *)(const void *)sin;
}

int
acl_peer_ip(const struct sockaddr *sa, socklen_t salen, char *ip,
    size_t iplen)
{
	struct sockaddr_in	sin;

	sa = acl_unmap(sa, &salen, &sin);
	if (getnameinfo(sa, salen, ip, iplen, NULL, 0, NI_NUMERICHOST) != 0)
		return -1;
	return 0;
}

static bool
acl_same_address(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)(const void *)a;
		b6 = (const struct sockaddr_in6 *)(const void *)b;
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	}
	return false;
}

/*
 * Reverse-resolves the peer, then resolves that name forward; the name is
 * returned only if one of its addresses is the peer's.  Blocking DNS on a
 * reverse zone the peer may own: only the resolver process (resolver.c),
 * unprivileged and holding nothing secret, calls it.
 */
int
acl_peer_confirmed_name(const struct sockaddr *sa, socklen_t salen,
    char *name, size_t namelen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	struct sockaddr_in sin;
	int		 rc = -1;

	sa = acl_unmap(sa, &salen, &sin);
	if (getnameinfo(sa, salen, name, namelen, NULL, 0, NI_NAMEREQD) != 0)
		goto out;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = sa->sa_family;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		goto out;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (acl_same_address(sa, ai->ai_addr)) {
			rc = 0;
			break;
		}
out:
	if (res != NULL)
		freeaddrinfo(res);
	if (rc == -1 && namelen > 0)
		name[0] = '\0';
	return rc;
}

struct acl_names *
acl_names_new(void)
{
	return calloc(1, sizeof(struct acl_names));
}

/* A DNS name, an IP address, or "*." followed by a DNS name. */
static bool
acl_names_valid(const char *entry)
{
	const char	*p = entry;
	size_t		 len = strlen(entry);

	if (len == 0 || len > PEER_NAME_MAX)
		return false;
	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:", *p) == NULL)
			return false;
	return true;
}

int
acl_names_add(struct acl_names *names, const char *entry, char *err,
    size_t errlen)
{
	if (names->count >= PEER_NAMES_MAX) {
		snprintf(err, errlen, "more than %d names", PEER_NAMES_MAX);
		return -1;
	}
	if (!acl_names_valid(entry)) {
		snprintf(err, errlen, "'%s' is not a host name, an IP address"
		    " or a '*.domain' wildcard", entry);
		return -1;
	}
	if ((names->name[names->count] = strdup(entry)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	names->count++;
	return 0;
}

size_t
acl_names_count(const struct acl_names *names)
{
	return names == NULL ? 0 : names->count;
}

const char *
acl_names_entry(const struct acl_names *names, size_t i)
{
	return i < acl_names_count(names) ? names->name[i] : NULL;
}

/* "*.example.org" matches "a.example.org" but not "a.b.example.org". */
static bool
acl_names_match_one(const char *entry, const char *name)
{
	const char	*dot;

	if (strncmp(entry, "*.", 2) != 0)
		return strcasecmp(entry, name) == 0;
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return false;
	return strcasecmp(entry + 1, dot) == 0;
}

/*
 * True if any of the certificate's names matches an entry.  An empty list
 * allows every certificate the CA signed.
 */
bool
acl_names_match(const struct acl_names *names, const char *const *cert,
    size_t ncert)
{
	size_t	i, j;

	if (acl_names_count(names) == 0)
		return true;
	for (i = 0; i < names->count; i++)
		for (j = 0; j < ncert; j++)
			if (cert[j] != NULL &&
			    acl_names_match_one(names->name[i], cert[j]))
				return true;
	return false;
}

void
acl_names_free(struct acl_names *names)
{
	size_t	i;

	if (names == NULL)
		return;
	for (i = 0; i < names->count; i++)
		free(names->name[i]);
	free(names);
}
