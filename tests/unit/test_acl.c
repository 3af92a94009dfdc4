// SPDX-License-Identifier: ISC
/* Unit tests for acl.c: xend's re.match semantics, names, lookups. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "acl.h"
#include "bounds.h"
#include "unit.h"

static struct acl *
hosts(const char *const *patterns, size_t n)
{
	struct acl	*acl = acl_hosts_new();
	char		 err[256];
	size_t		 i;

	for (i = 0; acl != NULL && i < n; i++)
		if (acl_hosts_add(acl, patterns[i], err, sizeof(err)) == -1)
			fprintf(stderr, "  %s\n", err);
	return acl;
}

static void
test_anchored_at_start_only(void)
{
	static const char *const p[] = { "^localhost$", "10\\.0\\.", "host" };
	struct acl	*acl = hosts(p, 3);

	CHECK(acl != NULL && acl_hosts_count(acl) == 3);
	CHECK(acl_hosts_match(acl, "127.0.0.1", "localhost"));
	CHECK(!acl_hosts_match(acl, "127.0.0.1", "localhost.localdomain"));
	/* re.match: anchored at the start, open at the end. */
	CHECK(acl_hosts_match(acl, "10.0.0.7", NULL));
	CHECK(!acl_hosts_match(acl, "110.0.0.7", NULL));
	CHECK(acl_hosts_match(acl, "192.0.2.1", "host7.example.org"));
	CHECK(!acl_hosts_match(acl, "192.0.2.1", "myhost.example.org"));
	CHECK(!acl_hosts_match(acl, "192.0.2.1", NULL));
	acl_hosts_free(acl);
}

/*
 * A pattern that starts like an address is tried against the address
 * only: a peer owning its reverse and forward zones cannot make a
 * confirmed name that fits an address prefix.
 */
static void
test_address_patterns_never_match_names(void)
{
	static const char *const addr[] = { "^192\\.168\\.1\\.", "10\\.",
	    "^fe80:", "::1", "^2001:db8:" };
	static const char *const name[] = { "^host\\.", "^.*\\.example$",
	    "(3par\\.example)", "^fe80x" };
	struct acl	*a = hosts(addr, 5), *n = hosts(name, 4);

	CHECK(!acl_hosts_names(a));
	CHECK(acl_hosts_names(n));
	CHECK(acl_hosts_match(a, "192.168.1.9", NULL));
	CHECK(!acl_hosts_match(a, "192.0.2.1", "192.168.1.evil.example"));
	CHECK(!acl_hosts_match(a, "192.0.2.1", "10.evil.example"));
	CHECK(acl_hosts_match(a, "fe80::1", NULL));
	CHECK(acl_hosts_match(n, "192.0.2.1", "host.pool"));
	CHECK(acl_hosts_match(n, "192.0.2.1", "3par.example"));
	CHECK(acl_hosts_match(n, "192.0.2.1", "a.example"));
	CHECK(!acl_hosts_match(n, "192.0.2.1", NULL));
	CHECK(!acl_hosts_names(NULL));
	acl_hosts_free(a);
	acl_hosts_free(n);
}

static void
test_empty_list_allows_all(void)
{
	struct acl	*acl = acl_hosts_new();

	CHECK(acl_hosts_match(acl, "203.0.113.9", NULL));
	CHECK(acl_hosts_match(NULL, "203.0.113.9", NULL));
	acl_hosts_free(acl);
}

static void
test_bad_pattern_reports_offset(void)
{
	struct acl	*acl = acl_hosts_new();
	char		 err[256];

	CHECK(acl_hosts_add(acl, "^host(", err, sizeof(err)) == -1);
	CHECK(strstr(err, "'^host(' does not compile") != NULL);
	CHECK(strstr(err, "offset 6") != NULL);
	CHECK(acl_hosts_add(acl, "", err, sizeof(err)) == -1);
	CHECK_INT(acl_hosts_count(acl), 0);
	acl_hosts_free(acl);
}

static void
test_catastrophic_pattern_is_bounded(void)
{
	static const char *const p[] = { "(a+)+$" };
	struct acl	*acl = hosts(p, 1);
	char		 subject[64];

	/* Exponential backtracking hits the match limit: denied, quickly. */
	memset(subject, 'a', sizeof(subject) - 2);
	subject[sizeof(subject) - 2] = '!';
	subject[sizeof(subject) - 1] = '\0';
	CHECK(!acl_hosts_match(acl, "192.0.2.1", subject));
	acl_hosts_free(acl);
}

static void
test_names_exact_and_wildcard(void)
{
	struct acl_names	*names = acl_names_new();
	const char		*cert1[] = { "dom0-b.example.org" };
	const char		*cert2[] = { "x", "A.Pool.Example.Org" };
	const char		*cert3[] = { "a.b.pool.example.org" };
	const char		*cert4[] = { "pool.example.org" };
	char			 err[256];

	CHECK(acl_names_add(names, "dom0-b.example.org", err, 256) == 0);
	CHECK(acl_names_add(names, "*.pool.example.org", err, 256) == 0);
	CHECK(acl_names_add(names, "bad name", err, 256) == -1);
	CHECK(acl_names_add(names, "*.", err, 256) == -1);
	CHECK(acl_names_match(names, cert1, 1));
	CHECK(acl_names_match(names, cert2, 2));
	CHECK(!acl_names_match(names, cert3, 1));
	CHECK(!acl_names_match(names, cert4, 1));
	acl_names_free(names);
	CHECK(acl_names_match(NULL, cert4, 1));
}

static void
test_peer_lookup_loopback(void)
{
	struct sockaddr_in	sin;
	char			ip[64], name[256];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(acl_peer_ip((struct sockaddr *)&sin, sizeof(sin), ip,
	    sizeof(ip)) == 0);
	CHECK_STR(ip, "127.0.0.1");
	/* /etc/hosts maps 127.0.0.1 to localhost and back. */
	CHECK(acl_peer_confirmed_name((struct sockaddr *)&sin, sizeof(sin),
	    name, sizeof(name)) == 0);
	CHECK(strncmp(name, "localhost", 9) == 0);
	/* TEST-NET-1 has no reverse name here: no name is claimed. */
	sin.sin_addr.s_addr = htonl(0xc0000201);
	CHECK(acl_peer_confirmed_name((struct sockaddr *)&sin, sizeof(sin),
	    name, sizeof(name)) == -1);
	CHECK_STR(name, "");
}

/* A dual-stack listener's IPv4 peer is its IPv4 address. */
static void
test_peer_v4_mapped(void)
{
	struct sockaddr_in6	sin6;
	char			ip[64], name[256];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:10.99.0.1", &sin6.sin6_addr);
	CHECK(acl_peer_ip((struct sockaddr *)&sin6, sizeof(sin6), ip,
	    sizeof(ip)) == 0);
	CHECK_STR(ip, "10.99.0.1");
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	CHECK(acl_peer_confirmed_name((struct sockaddr *)&sin6, sizeof(sin6),
	    name, sizeof(name)) == 0);
	CHECK(strncmp(name, "localhost", 9) == 0);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	CHECK(acl_peer_ip((struct sockaddr *)&sin6, sizeof(sin6), ip,
	    sizeof(ip)) == 0);
	CHECK_STR(ip, "2001:db8::1");
}

UNIT_MAIN("acl",
    UNIT_TEST(test_anchored_at_start_only),
    UNIT_TEST(test_address_patterns_never_match_names),
    UNIT_TEST(test_empty_list_allows_all),
    UNIT_TEST(test_bad_pattern_reports_offset),
    UNIT_TEST(test_catastrophic_pattern_is_bounded),
    UNIT_TEST(test_names_exact_and_wildcard),
    UNIT_TEST(test_peer_lookup_loopback),
    UNIT_TEST(test_peer_v4_mapped))
