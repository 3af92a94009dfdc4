// SPDX-License-Identifier: ISC
/*
 * Unit tests for version.c and the hello fields in proto.c: the
 * negotiation between this relocd and a peer of the release before
 * (0.1.0, which sends and accepts "(protocol 1)" alone), of the same
 * release, and of later ones, whose hellos may carry fields no version
 * here knows; and the one sentence that names both sides' versions when
 * there is no version in common.
 */
#include <stdlib.h>

#include "proto.h"
#include "unit.h"
#include "util.h"
#include "version.h"

static char	wire[2 * PROTO_CONTROL_MAX];
static char	ours[32];	/* our range as the sentence words it */

static struct proto_msg *
msg_new(void)
{
	struct proto_msg	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		abort();
	return m;
}

static int
decode(const char *text, struct proto_msg *m)
{
	char	err[256];

	return proto_decode(text, strlen(text), m, err, sizeof(err));
}

/* m on the wire, in wire. */
static void
encode(const struct proto_msg *m)
{
	size_t	len;

	wire[0] = '\0';
	CHECK_INT(proto_encode(m, wire, sizeof(wire), &len), 0);
}

/* What our hello (or reply with version v chosen) looks like. */
static void
encode_hello(uint32_t v)
{
	struct proto_msg	*m = msg_new();

	m->type = PT_HELLO;
	version_hello(m);
	if (v != 0)
		m->version = v;
	strlcpy(m->host, "b", sizeof(m->host));
	encode(m);
	free(m);
}

static void
ours_set(void)
{
	if (PROTO_VERSION_MIN == PROTO_VERSION_MAX)
		snprintf(ours, sizeof(ours), "%d", PROTO_VERSION_MAX);
	else
		snprintf(ours, sizeof(ours), "%d-%d", PROTO_VERSION_MIN,
		    PROTO_VERSION_MAX);
}

/*
 * relocd 0.1.0 decodes only "protocol" from a hello and refuses any
 * value but 1: our hello must carry (protocol 1), whatever else it has.
 */
static void
test_hello_passes_0_1_0(void)
{
	struct proto_msg	*m = msg_new();
	char			 want[64];

	encode_hello(0);
	CHECK(strstr(wire, " (protocol 1)") != NULL);
	snprintf(want, sizeof(want), " (protocol-max %d)", PROTO_VERSION_MAX);
	CHECK(strstr(wire, want) != NULL);
	CHECK(strstr(wire, " (release ") != NULL);
	CHECK_INT(decode(wire, m), PE_NONE);
	CHECK_INT(m->version, PROTO_VERSION_MIN);
	CHECK_INT(m->version_max, PROTO_VERSION_MAX);
	CHECK_STR(m->release, relocd_version);
	CHECK(PROTO_VERSION_MIN == 1);
	free(m);
}

/* 0.1.0 as source, then as destination: both use version 1. */
static void
test_old_peer_speaks_1(void)
{
	struct proto_msg	*m = msg_new();
	uint32_t		 v = 0;

	CHECK_INT(decode("(hello (protocol 1) (host old))", m), PE_NONE);
	CHECK_INT(m->version_max, 1);
	CHECK_STR(m->release, "");
	CHECK_INT(version_choose(m, &v), 0);
	CHECK_INT(v, 1);
	/* Our reply names 1 as "protocol": all that 0.1.0 checks. */
	encode_hello(v);
	CHECK(strstr(wire, "(hello (protocol 1) ") == wire);
	/* 0.1.0's reply to our hello. */
	CHECK_INT(decode("(hello (protocol 1) (host old))", m), PE_NONE);
	CHECK(version_accept(m));
	free(m);
}

/* Two hosts of this release use the highest version, both ways. */
static void
test_same_release_speaks_max(void)
{
	struct proto_msg	*m = msg_new();
	uint32_t		 v = 0;

	encode_hello(0);
	CHECK_INT(decode(wire, m), PE_NONE);
	CHECK_INT(version_choose(m, &v), 0);
	CHECK_INT(v, PROTO_VERSION_MAX);
	encode_hello(v);
	CHECK_INT(decode(wire, m), PE_NONE);
	CHECK(version_accept(m));
	CHECK_INT(m->version, PROTO_VERSION_MAX);
	free(m);
}

/*
 * A later release that still speaks our highest version: its fields
 * and lists we do not know are skipped, and the connection uses the
 * highest version both speak.
 */
static void
test_later_release_overlapping(void)
{
	struct proto_msg	*m = msg_new();
	uint32_t		 v = 0;
	char			 hello[256];

	snprintf(hello, sizeof(hello), "(hello (protocol %d) (protocol-max 9) "
	    "(release 3.1.0) (features compress capacity) (capacity (memory "
	    "1) (vcpus 2)) (host later))", PROTO_VERSION_MAX);
	CHECK_INT(decode(hello, m), PE_NONE);
	CHECK_INT(m->version_max, 9);
	CHECK_STR(m->release, "3.1.0");
	CHECK_STR(m->host, "later");
	CHECK_INT(version_choose(m, &v), 0);
	CHECK_INT(v, PROTO_VERSION_MAX);
	/* Its reply when we are the source: it chose our highest. */
	snprintf(hello, sizeof(hello), "(hello (zstd-level 3) (protocol %d) "
	    "(protocol-max 9) (release 3.1.0) (host later))",
	    PROTO_VERSION_MAX);
	CHECK_INT(decode(hello, m), PE_NONE);
	CHECK(version_accept(m));
	free(m);
}

/*
 * A later release that dropped every version we speak: refused, with
 * one sentence that names both sides' versions and releases and says
 * to upgrade this host (the older one) first.
 */
static void
test_later_release_disjoint(void)
{
	struct proto_msg	*m = msg_new();
	uint32_t		 v = 0;
	char			 got[PROTO_TEXT_MAX + 1], want[PROTO_TEXT_MAX + 1];
	char			 hello[128];

	snprintf(hello, sizeof(hello), "(hello (protocol %d) (protocol-max %d) "
	    "(release 0.9.0) (host later))", PROTO_VERSION_MAX + 1,
	    PROTO_VERSION_MAX + 2);
	CHECK_INT(decode(hello, m), PE_NONE);
	CHECK_INT(version_choose(m, &v), -1);
	version_mismatch(got, sizeof(got), "source 192.0.2.7", m, "b");
	ours_set();
	snprintf(want, sizeof(want), "source 192.0.2.7 speaks relocd protocol "
	    "%d-%d (relocd 0.9.0) and b speaks %s (relocd %s), no version "
	    "in common: upgrade b first", PROTO_VERSION_MAX + 1,
	    PROTO_VERSION_MAX + 2, ours, relocd_version);
	CHECK_STR(got, want);
	/* As a destination's reply: the version it chose is not ours. */
	snprintf(hello, sizeof(hello), "(hello (protocol %d) (host later))",
	    PROTO_VERSION_MAX + 1);
	CHECK_INT(decode(hello, m), PE_NONE);
	CHECK(!version_accept(m));
	free(m);
}

/*
 * A peer below our lowest version (here version 0, which none ever
 * spoke): the sentence says to upgrade the peer, and a peer that named
 * no release is relocd 0.1.0.
 */
static void
test_older_peer_sentence(void)
{
	struct proto_msg	*m = msg_new();
	uint32_t		 v = 0;
	char			 got[PROTO_TEXT_MAX + 1], want[PROTO_TEXT_MAX + 1];

	CHECK_INT(decode("(hello (protocol 0) (host old))", m), PE_NONE);
	CHECK_INT(version_choose(m, &v), -1);
	CHECK(!version_accept(m));
	version_mismatch(got, sizeof(got), "destination a", m, "source b");
	ours_set();
	snprintf(want, sizeof(want), "destination a speaks relocd protocol 0 "
	    "(relocd " VERSION_RELEASE_V1 ") and source b speaks %s (relocd "
	    "%s), no version in common: upgrade destination a first", ours,
	    relocd_version);
	CHECK_STR(got, want);
	free(m);
}

/*
 * A version refusal carries the refuser's range, so that the other side
 * can word its own sentence; 0.1.0's carries none.
 */
static void
test_version_refusal_fields(void)
{
	struct proto_msg	*m = msg_new(), *b = msg_new();

	m->type = PT_ERROR;
	m->code = PE_VERSION;
	strlcpy(m->text, "no version in common", sizeof(m->text));
	version_hello(m);
	encode(m);
	CHECK_INT(decode(wire, b), PE_NONE);
	CHECK_INT(b->code, PE_VERSION);
	CHECK_INT(b->version, PROTO_VERSION_MIN);
	CHECK_INT(b->version_max, PROTO_VERSION_MAX);
	CHECK_STR(b->release, relocd_version);
	CHECK_INT(decode("(error (code 2) (text 'unsupported protocol "
	    "version'))", b), PE_NONE);
	CHECK_INT(b->code, PE_VERSION);
	CHECK_INT(b->version, 0);
	/* Other errors carry no range, even if m has one. */
	m->code = PE_BUSY;
	encode(m);
	CHECK(strstr(wire, "protocol") == NULL);
	free(m);
	free(b);
}

/* The hello fields we do know are checked as strictly as any other. */
static void
test_malformed_hello_refused(void)
{
	static const char *const bad[] = {
		"(hello (host x))",
		"(hello (protocol 2) (protocol-max 1))",
		"(hello (protocol 1) (protocol-max two))",
		"(hello (protocol 1) (protocol-max (2)))",
		"(hello (protocol 1) (release ''))",
		"(hello (protocol 1) (release '0.1 x'))",
		"(hello (protocol 1) (release '0.1\\n'))",
		"(hello (protocol 1) (release 0123456789012345678901234567890123))",
		"(error (code 2) (protocol 0))",
		"(error (code 2) (protocol 3) (protocol-max 2))",
	};
	struct proto_msg	*m = msg_new();
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode(bad[i], m) != PE_PROTOCOL) {
			fprintf(stderr, "  accepted: %s\n", bad[i]);
			unit_test_failed = 1;
		}
	/* The longest release that fits. */
	CHECK_INT(decode("(hello (protocol 1) (release "
	    "0123456789012345678901234567890))", m), PE_NONE);
	CHECK_INT(strlen(m->release), PROTO_RELEASE_MAX);
	free(m);
}

UNIT_MAIN("version",
    UNIT_TEST(test_hello_passes_0_1_0),
    UNIT_TEST(test_old_peer_speaks_1),
    UNIT_TEST(test_same_release_speaks_max),
    UNIT_TEST(test_later_release_overlapping),
    UNIT_TEST(test_later_release_disjoint),
    UNIT_TEST(test_older_peer_sentence),
    UNIT_TEST(test_version_refusal_fields),
    UNIT_TEST(test_malformed_hello_refused))
