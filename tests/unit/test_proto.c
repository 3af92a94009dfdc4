// SPDX-License-Identifier: ISC
/*
 * Unit tests for proto.c, the wire protocol between two relocd hosts,
 * through its public calls only: every message type survives encode and
 * decode at typical and boundary values; what a hostile peer may send
 * instead (fields over their limits, missing or malformed, unknown
 * types, bad ids, bad frame headers) is refused with a fixed code; and
 * migration ids are random or not made at all.
 */
#include <sys/wait.h>

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <unistd.h>

#include "proto.h"
#include "unit.h"
#include "util.h"

#define ID	"0123456789abcdef0123456789abcdef"
#define UUID	"01234567-89ab-4def-8123-456789abcdef"

/* Room for the largest control frame and then some. */
static char	wire[2 * PROTO_CONTROL_MAX];

/* m encoded, then decoded into back; returns decode's code, or -1. */
static int
round_trip(const struct proto_msg *m, struct proto_msg *back)
{
	char	err[256];
	size_t	len;

	if (proto_encode(m, wire, sizeof(wire), &len) == -1)
		return -1;
	CHECK_INT(len, strlen(wire));
	CHECK(len <= PROTO_CONTROL_MAX);
	return proto_decode(wire, len, back, err, sizeof(err));
}

static int
decode(const char *text, struct proto_msg *m)
{
	char	err[256];

	err[0] = '\0';
	return proto_decode(text, strlen(text), m, err, sizeof(err));
}

/* Hostile input and the code proto_decode must answer it with. */
struct refusal {
	const char	*text;
	int		 code;
};

static void
check_refusals(const struct refusal *r, size_t n)
{
	struct proto_msg	*m;
	size_t			 i;
	int			 code;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		abort();
	for (i = 0; i < n; i++)
		if ((code = decode(r[i].text, m)) != r[i].code) {
			fprintf(stderr, "  %s: %d, want %d\n", r[i].text, code,
			    r[i].code);
			CHECK(0);
		}
	free(m);
}

/* A fresh message of type t carrying ID. */
static struct proto_msg *
msg_new(int type)
{
	struct proto_msg	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		abort();
	m->type = type;
	strlcpy(m->id, ID, sizeof(m->id));
	return m;
}

/* A reserve message as relocd sends it, for the tests to vary. */
static struct proto_msg *
reserve_new(void)
{
	struct proto_msg	*m = msg_new(PT_RESERVE);

	strlcpy(m->guest.name, "web1", sizeof(m->guest.name));
	strlcpy(m->guest.uuid, UUID, sizeof(m->guest.uuid));
	m->guest.type = GUEST_TYPE_PVH;
	m->guest.memory_bytes = 1ULL << 30;
	m->guest.vcpus = 2;
	m->live = 1;
	strlcpy(m->facts, "(xen 4.17)", sizeof(m->facts));
	m->config_len = strlcpy(m->config, "name = 'web1'\nmemory = 1024\n"
	    "disk = [ 'phy:/dev/vg/web1,xvda,w' ]\n", sizeof(m->config));
	return m;
}

/* The wire form of a reserve with one field's value replaced. */
static const char *
reserve_text(const char *vcpus, const char *memory, const char *config)
{
	int	r;

	r = snprintf(wire, sizeof(wire), "(reserve (id " ID ") (name web1) "
	    "(uuid " UUID ") (type hvm) (memory %s) (vcpus %s) (live no) "
	    "(config '%s'))", memory, vcpus, config);
	CHECK(r > 0 && (size_t)r < sizeof(wire));
	return wire;
}

static void
test_hello_round_trip(void)
{
	struct proto_msg	*m = msg_new(PT_HELLO), *b = msg_new(PT_MAX);

	m->id[0] = '\0';
	m->version = PROTO_VERSION_MAX;
	strlcpy(m->host, "dom0-a.example.org", sizeof(m->host));
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->type, PT_HELLO);
	CHECK_STR(b->id, "");
	CHECK_INT(b->version, PROTO_VERSION_MAX);
	CHECK_STR(b->host, "dom0-a.example.org");
	/* The longest host that fits, and the largest version number. */
	memset(m->host, 'h', sizeof(m->host) - 1);
	m->host[sizeof(m->host) - 1] = '\0';
	m->version = UINT32_MAX;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_STR(b->host, m->host);
	CHECK(b->version == UINT32_MAX);
	free(m);
	free(b);
}

static void
test_reserve_round_trip(void)
{
	struct proto_msg	*m = reserve_new(), *b = msg_new(PT_MAX);

	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->type, PT_RESERVE);
	CHECK_STR(b->id, ID);
	CHECK_STR(b->guest.name, "web1");
	CHECK_STR(b->guest.uuid, UUID);
	CHECK_INT(b->guest.type, GUEST_TYPE_PVH);
	CHECK(b->guest.memory_bytes == 1ULL << 30);
	CHECK_INT(b->guest.vcpus, 2);
	CHECK_INT(b->live, 1);
	CHECK_STR(b->facts, "(xen 4.17)");
	CHECK_INT(b->config_len, m->config_len);
	CHECK_STR(b->config, m->config);

	/* Boundaries: the limits themselves pass, quoting included. */
	memset(m->guest.name, 'n', GUEST_NAME_MAX);
	m->guest.name[GUEST_NAME_MAX] = '\0';
	m->guest.type = GUEST_TYPE_SIM;
	m->guest.memory_bytes = INT64_MAX;
	m->guest.vcpus = GUEST_VCPUS_MAX;
	m->live = 0;
	m->facts[0] = '\0';
	m->config_len = strlcpy(m->config, "it's \"quoted\" \\ and\ttabbed\n",
	    sizeof(m->config));
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_STR(b->guest.name, m->guest.name);
	CHECK_INT(b->guest.type, GUEST_TYPE_SIM);
	CHECK(b->guest.memory_bytes == INT64_MAX);
	CHECK_INT(b->guest.vcpus, GUEST_VCPUS_MAX);
	CHECK_INT(b->live, 0);
	CHECK_STR(b->facts, "");
	CHECK_STR(b->config, m->config);
	m->guest.vcpus = 1;
	m->guest.memory_bytes = 1;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->guest.vcpus, 1);
	CHECK(b->guest.memory_bytes == 1);
	/* The largest config fits in one control frame. */
	memset(m->config, 'c', BACKEND_CONFIG_MAX);
	m->config[BACKEND_CONFIG_MAX] = '\0';
	m->config_len = BACKEND_CONFIG_MAX;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->config_len, BACKEND_CONFIG_MAX);
	CHECK(memcmp(b->config, m->config, BACKEND_CONFIG_MAX + 1) == 0);
	free(m);
	free(b);
}

static void
test_stream_messages_round_trip(void)
{
	struct proto_msg	*m = msg_new(PT_END), *b = msg_new(PT_MAX);

	m->bytes = 123456789;
	m->round = 3;
	m->dirty = 4096;
	m->downtime_ms = 250;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->type, PT_END);
	CHECK(b->bytes == 123456789);
	CHECK_INT(b->round, 3);
	CHECK_INT(b->dirty, 4096);
	CHECK_INT(b->downtime_ms, 250);
	/* Boundaries: not known yet (-1) and the largest counts. */
	m->type = PT_END;
	m->bytes = INT64_MAX;
	m->round = UINT32_MAX;
	m->dirty = -1;
	m->downtime_ms = 0;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->type, PT_END);
	CHECK(b->bytes == INT64_MAX);
	CHECK(b->round == UINT32_MAX);
	CHECK_INT(b->dirty, -1);
	CHECK_INT(b->downtime_ms, 0);

	memset(m, 0, sizeof(*m));
	m->type = PT_ACTIVATED;
	strlcpy(m->id, ID, sizeof(m->id));
	m->downtime_ms = 180;
	m->digest_ms = 42;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->type, PT_ACTIVATED);
	CHECK_INT(b->downtime_ms, 180);
	CHECK_INT(b->digest_ms, 42);
	/* The unpause: 0 ms is a measurement, -1 none (not sent). */
	CHECK_INT(b->unpause_ms, 0);
	m->unpause_ms = -1;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->unpause_ms, -1);
	m->unpause_ms = 7;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->unpause_ms, 7);
	/* The backend's restore likewise, apart from the unpause. */
	CHECK_INT(b->restore_ms, 0);
	m->restore_ms = -1;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->restore_ms, -1);
	CHECK_INT(b->unpause_ms, 7);
	m->restore_ms = 1234;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->restore_ms, 1234);
	CHECK_INT(b->unpause_ms, 7);
	free(m);
	free(b);
}

/* The messages that carry nothing but their type and id. */
static void
test_bare_messages_round_trip(void)
{
	static const int	 types[] = { PT_RESERVED, PT_PREPARED, PT_GO,
	    PT_QUERY, PT_XL_STARTED, PT_XL_EOF };
	struct proto_msg	*m, *b = msg_new(PT_MAX);
	size_t			 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		m = msg_new(types[i]);
		CHECK_INT(round_trip(m, b), PE_NONE);
		CHECK_INT(b->type, types[i]);
		CHECK_STR(b->id, ID);
		CHECK_STR(proto_type_name(b->type), proto_type_name(types[i]));
		free(m);
	}
	free(b);
}

static void
test_abort_state_xl_round_trip(void)
{
	struct proto_msg	*m = msg_new(PT_ABORT), *b = msg_new(PT_MAX);

	m->code = PE_NO_MEMORY;
	strlcpy(m->text, "only 512 MiB free on 'dom0-b'", sizeof(m->text));
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->type, PT_ABORT);
	CHECK_INT(b->code, PE_NO_MEMORY);
	CHECK_STR(b->text, m->text);
	/* The last code and the longest text, every byte needing quotes. */
	m->type = PT_ERROR;
	m->code = PE_MAX - 1;
	memset(m->text, '\'', PROTO_TEXT_MAX);
	m->text[PROTO_TEXT_MAX] = '\0';
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->type, PT_ERROR);
	CHECK_INT(b->code, PE_MAX - 1);
	CHECK_STR(b->text, m->text);

	memset(m, 0, sizeof(*m));
	m->type = PT_STATE;
	strlcpy(m->id, ID, sizeof(m->id));
	strlcpy(m->phase, "activated", sizeof(m->phase));
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_STR(b->phase, "activated");

	memset(m, 0, sizeof(*m));
	m->type = PT_XL_RECEIVE;
	strlcpy(m->id, ID, sizeof(m->id));
	strlcpy(m->xl_args[0], "xl", sizeof(m->xl_args[0]));
	strlcpy(m->xl_args[1], "migrate-receive", sizeof(m->xl_args[1]));
	m->xl_nargs = 2;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->xl_nargs, 2);
	CHECK_STR(b->xl_args[1], "migrate-receive");

	memset(m, 0, sizeof(*m));
	m->type = PT_XL_EXIT;
	strlcpy(m->id, ID, sizeof(m->id));
	m->status = 255;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->status, 255);
	m->status = 0;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->status, 0);
	free(m);
	free(b);
}

/* What we would never send: no type, or more than a frame holds. */
static void
test_encode_refuses(void)
{
	struct proto_msg	*m = reserve_new();
	char			 small[64];
	size_t			 len;

	CHECK_INT(proto_encode(m, small, sizeof(small), &len), -1);
	m->type = -1;
	CHECK_INT(proto_encode(m, wire, sizeof(wire), &len), -1);
	m->type = PT_MAX;
	CHECK_INT(proto_encode(m, wire, sizeof(wire), &len), -1);
	/*
	 * A config that fits the buffer given, but whose quoted form (4
	 * bytes for each control character) passes PROTO_CONTROL_MAX.
	 */
	m->type = PT_RESERVE;
	memset(m->config, 'c', BACKEND_CONFIG_MAX);
	memset(m->config, '\001', 2048);
	m->config[BACKEND_CONFIG_MAX] = '\0';
	m->config_len = BACKEND_CONFIG_MAX;
	CHECK_INT(proto_encode(m, wire, sizeof(wire), &len), -1);
	free(m);
}

/* The vCPU limit is the one the daemon accepts everywhere. */
static void
test_vcpus_over_limit_refused(void)
{
	struct proto_msg	*m = msg_new(PT_MAX);
	char			 n[32];

	snprintf(n, sizeof(n), "%d", GUEST_VCPUS_MAX);
	CHECK_INT(decode(reserve_text(n, "1073741824", "x"), m), PE_NONE);
	CHECK_INT(m->guest.vcpus, GUEST_VCPUS_MAX);
	snprintf(n, sizeof(n), "%d", GUEST_VCPUS_MAX + 1);
	CHECK_INT(decode(reserve_text(n, "1073741824", "x"), m), PE_PROTOCOL);
	CHECK_INT(decode(reserve_text("4096", "1073741824", "x"), m),
	    PE_PROTOCOL);
	CHECK_INT(decode(reserve_text("0", "1073741824", "x"), m),
	    PE_PROTOCOL);
	CHECK_INT(decode(reserve_text("-1", "1073741824", "x"), m),
	    PE_PROTOCOL);
	CHECK_INT(decode(reserve_text("4294967298", "1073741824", "x"), m),
	    PE_PROTOCOL);
	CHECK_INT(decode(reserve_text("2x", "1073741824", "x"), m),
	    PE_PROTOCOL);
	free(m);
}

static void
test_fields_over_limit_refused(void)
{
	static const struct refusal	over[] = {
		/* A name one over GUEST_NAME_MAX, a bad uuid, type, name. */
		{ "(reserve (name nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
		    "nnnnnnnnnnnnnnnnnnn) (uuid " UUID ") (type hvm) "
		    "(memory 1) (vcpus 1) (config x))", PE_PROTOCOL },
		{ "(reserve (name web1) (uuid 0123) (type hvm) (memory 1) "
		    "(vcpus 1) (config x))", PE_PROTOCOL },
		{ "(reserve (name web1) (uuid " UUID ") (type kvm) "
		    "(memory 1) (vcpus 1) (config x))", PE_PROTOCOL },
		{ "(reserve (name ../etc) (uuid " UUID ") (type hvm) "
		    "(memory 1) (vcpus 1) (config x))", PE_PROTOCOL },
		/* Other numbers outside their range. */
		{ "(xl-exit (status 256))", PE_PROTOCOL },
		{ "(xl-exit (status -1))", PE_PROTOCOL },
		{ "(abort (code 0))", PE_PROTOCOL },
		{ "(error (code 99))", PE_PROTOCOL },
		{ "(end (bytes -1))", PE_PROTOCOL },
		{ "(hello (protocol 4294967296))", PE_PROTOCOL },
		/* A phase that does not fit is refused, never cut. */
		{ "(state (phase pppppppppppppppppppppppppppppppppppppppp))",
		    PE_PROTOCOL },
	};
	struct proto_msg		*m = msg_new(PT_MAX);
	char				*config;

	CHECK_INT(decode(reserve_text("2", "0", "x"), m), PE_PROTOCOL);
	CHECK_INT(decode(reserve_text("2", "9223372036854775808", "x"), m),
	    PE_PROTOCOL);
	/* A config one byte over BACKEND_CONFIG_MAX. */
	if ((config = malloc(BACKEND_CONFIG_MAX + 2)) == NULL)
		abort();
	memset(config, 'c', BACKEND_CONFIG_MAX + 1);
	config[BACKEND_CONFIG_MAX + 1] = '\0';
	CHECK_INT(decode(reserve_text("2", "1024", config), m), PE_PROTOCOL);
	config[BACKEND_CONFIG_MAX] = '\0';
	CHECK_INT(decode(reserve_text("2", "1024", config), m), PE_NONE);
	CHECK_INT(m->config_len, BACKEND_CONFIG_MAX);
	free(config);
	free(m);
	check_refusals(over, sizeof(over) / sizeof(over[0]));
}

/*
 * Optional text that is too long is dropped whole: never cut (a cut
 * message could say something else), never written past its buffer.
 */
static void
test_oversized_text_dropped(void)
{
	struct proto_msg	*m = msg_new(PT_MAX);
	char			*text;
	int			 r;

	if ((text = malloc(PROTO_CONTROL_MAX)) == NULL)
		abort();
	memset(text, 't', PROTO_TEXT_MAX + 1);
	text[PROTO_TEXT_MAX + 1] = '\0';
	r = snprintf(wire, sizeof(wire), "(abort (code %d) (text %s))",
	    PE_BUSY, text);
	CHECK(r > 0 && (size_t)r < sizeof(wire));
	CHECK_INT(decode(wire, m), PE_NONE);
	CHECK_INT(m->code, PE_BUSY);
	CHECK_STR(m->text, "");
	text[PROTO_TEXT_MAX] = '\0';
	snprintf(wire, sizeof(wire), "(abort (code %d) (text %s))", PE_BUSY,
	    text);
	CHECK_INT(decode(wire, m), PE_NONE);
	CHECK_STR(m->text, text);
	/* A hello's host the same way. */
	memset(text, 'h', sizeof(m->host));
	text[sizeof(m->host)] = '\0';
	snprintf(wire, sizeof(wire), "(hello (protocol 1) (host %s))", text);
	CHECK_INT(decode(wire, m), PE_NONE);
	CHECK_STR(m->host, "");
	free(text);
	free(m);
}

static void
test_unknown_or_malformed_refused(void)
{
	static const struct refusal	bad[] = {
		{ "(HELLO (protocol 1))", PE_UNKNOWN_TYPE },
		{ "(receive)", PE_UNKNOWN_TYPE },
		{ "hello", PE_PROTOCOL },
		{ "", PE_PROTOCOL },
		{ "()", PE_PROTOCOL },
		{ "((hello))", PE_PROTOCOL },
		{ "(go) (go)", PE_PROTOCOL },
		{ "(hello (protocol 1)", PE_PROTOCOL },
		/* An embedded NUL would make a C string say something else. */
		{ "(reserve (name 'web1\\x00x') (uuid " UUID ") (type hvm) "
		    "(memory 1) (vcpus 1) (config x))", PE_PROTOCOL },
	};
	struct proto_msg		*m = msg_new(PT_MAX);

	CHECK_INT(decode("(migrate (id " ID "))", m), PE_UNKNOWN_TYPE);
	CHECK_INT(m->type, -1);
	free(m);
	check_refusals(bad, sizeof(bad) / sizeof(bad[0]));
}

/*
 * "progress" was a type no relocd sent: it is unknown now, in both
 * directions, and its number is not reused.
 */
static void
test_progress_retired(void)
{
	struct proto_msg	*m = msg_new(PT_MAX);
	size_t			 len;

	CHECK_INT(decode("(progress (bytes 1) (round 1))", m), PE_UNKNOWN_TYPE);
	CHECK_INT(m->type, -1);
	CHECK_STR(proto_type_name(PT_UNUSED_3), "?");
	CHECK_INT(PT_UNUSED_3, 3);
	CHECK_INT(PT_END, 4);
	m->type = PT_UNUSED_3;
	CHECK_INT(proto_encode(m, wire, sizeof(wire), &len), -1);
	CHECK_INT(proto_next_state(PS_STREAMING, PT_UNUSED_3, 0), -1);
	free(m);
}

static void
test_missing_fields_refused(void)
{
	static const char *const missing[] = {
		"(hello)",
		"(hello (host a))",
		"(reserve (name web1) (uuid " UUID ") (type hvm) (memory 1) "
		    "(config x))",
		"(reserve (name web1) (uuid " UUID ") (type hvm) (vcpus 1) "
		    "(config x))",
		"(reserve (name web1) (uuid " UUID ") (type hvm) (memory 1) "
		    "(vcpus 1))",
		"(reserve (uuid " UUID ") (type hvm) (memory 1) (vcpus 1) "
		    "(config x))",
		"(reserve (name web1) (uuid " UUID ") (memory 1) (vcpus 1) "
		    "(config x))",
		/* A field as a list, or without its value. */
		"(reserve (name web1) (uuid " UUID ") (type hvm) (memory 1) "
		    "(vcpus (1)) (config x))",
		"(reserve (name web1) (uuid " UUID ") (type hvm) (memory 1) "
		    "(vcpus) (config x))",
		"(abort)",
		"(error (text 'no code'))",
		"(end (round 1))",
		"(end)",
		"(state)",
		"(xl-receive)",
		"(xl-receive (args))",
		"(xl-exit)",
	};
	struct refusal		 r;
	struct proto_msg	*m = msg_new(PT_MAX);
	size_t			 i;

	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		r.text = missing[i];
		r.code = PE_PROTOCOL;
		check_refusals(&r, 1);
	}
	/* What is optional stays optional. */
	CHECK_INT(decode("(activated (id " ID "))", m), PE_NONE);
	CHECK_INT(decode("(go)", m), PE_NONE);
	CHECK_INT(decode("(hello (protocol 1))", m), PE_NONE);
	free(m);
}

/*
 * A present id that is invalid is refused, never read as absent: an
 * absent id means the connection's own migration, so a too-long id, one
 * with a NUL or a list must not pass as "(go)".
 */
static void
test_bad_ids_refused(void)
{
	static const char *const bad[] = {
		"",
		"0123456789abcdef0123456789abcde",	/* 31 */
		"0123456789ABCDEF0123456789abcdef",	/* upper case */
		"0123456789abcdef0123456789abcdeg",
		"0123456789abcdef 123456789abcdef",
		"../../../../etc/passwd0123456789",
	};
	struct proto_msg	*m = msg_new(PT_MAX);
	char			 text[128];
	size_t			 i;

	CHECK(proto_id_valid(ID));
	CHECK(!proto_id_valid(ID "0"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!proto_id_valid(bad[i]));
		snprintf(text, sizeof(text), "(go (id '%s'))", bad[i]);
		CHECK_INT(decode(text, m), PE_PROTOCOL);
	}
	CHECK_INT(decode("(go (id " ID "0))", m), PE_PROTOCOL);
	CHECK_INT(decode("(go (id '0123456789abcdef\\x000123456789abcde'))",
	    m), PE_PROTOCOL);
	CHECK_INT(decode("(go (id (" ID ")))", m), PE_PROTOCOL);
	CHECK_INT(decode("(go (id))", m), PE_PROTOCOL);
	free(m);
}

static void
test_id_new_distinct_and_valid(void)
{
	static char	ids[256][MIG_ID_LEN + 1];
	char		small[MIG_ID_LEN] = "junk";
	size_t		i, j;

	for (i = 0; i < 256; i++) {
		CHECK_INT(proto_id_new(ids[i], sizeof(ids[i])), 0);
		CHECK(proto_id_valid(ids[i]));
		for (j = 0; j < i; j++)
			CHECK(strcmp(ids[i], ids[j]) != 0);
	}
	CHECK(strspn(ids[0], "0") != MIG_ID_LEN);
	/* No room for the id and its NUL: refused, and left empty. */
	errno = 0;
	CHECK_INT(proto_id_new(small, sizeof(small)), -1);
	CHECK_INT(errno, EINVAL);
	CHECK_STR(small, "");
}

/*
 * Without randomness (getrandom and every file refused, in a child, by
 * seccomp), proto_id_new fails rather than hand out a guessable id.
 */
static void
test_id_new_fails_loudly(void)
{
	scmp_filter_ctx	 ctx;
	char		 id[MIG_ID_LEN + 1];
	pid_t		 pid;
	int		 status, rc;

	if ((pid = fork()) == 0) {
		memset(id, 'x', sizeof(id));
		if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(getrandom), 0) != 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(openat), 0) != 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(open), 0) != 0 ||
		    seccomp_load(ctx) != 0)
			_exit(10);
		errno = 0;
		rc = proto_id_new(id, sizeof(id));
		if (rc != -1)
			_exit(strspn(id, "0") == MIG_ID_LEN ? 11 : 12);
		_exit(errno == ENOSYS && id[0] == '\0' ? 0 : 13);
	}
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	/* 11: an all-zero id; 12: an id from nowhere; 13: no errno. */
	CHECK_INT(WEXITSTATUS(status), 0);
}

static void
test_frames(void)
{
	uint8_t	hdr[PROTO_FRAME_HDR];
	size_t	len;
	int	kind;

	proto_frame_header(hdr, PROTO_FRAME_CONTROL, PROTO_CONTROL_MAX);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_NONE);
	CHECK_INT(kind, PROTO_FRAME_CONTROL);
	CHECK_INT(len, PROTO_CONTROL_MAX);
	proto_frame_header(hdr, PROTO_FRAME_DATA, PROTO_DATA_MAX);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_NONE);
	CHECK_INT(kind, PROTO_FRAME_DATA);
	CHECK_INT(len, PROTO_DATA_MAX);
	proto_frame_header(hdr, PROTO_FRAME_DATA, 1);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_NONE);
	CHECK_INT(len, 1);
	/* Over a kind's bound, empty, or of no known kind. */
	proto_frame_header(hdr, PROTO_FRAME_CONTROL, PROTO_CONTROL_MAX + 1);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_TOO_LARGE);
	proto_frame_header(hdr, PROTO_FRAME_DATA, PROTO_DATA_MAX + 1);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_TOO_LARGE);
	proto_frame_header(hdr, PROTO_FRAME_CONTROL, 0);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_PROTOCOL);
	proto_frame_header(hdr, 'X', 10);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_PROTOCOL);
}

/* A migration in order walks through; anything out of order stops. */
static void
test_state_machine(void)
{
	static const int	path[] = { PT_HELLO, PT_RESERVE, PT_RESERVED,
	    PT_END, PT_PREPARED, PT_GO, PT_ACTIVATED };
	int			s = PS_HELLO;
	size_t			i;

	for (i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
		s = proto_next_state(s, path[i], 0);
		CHECK(s != -1);
		if (path[i] == PT_RESERVED)
			CHECK_INT(proto_next_state(s, 0, 1), PS_STREAMING);
	}
	CHECK_INT(s, PS_DONE);
	CHECK_INT(proto_next_state(PS_HELLO, PT_RESERVE, 0), -1);
	CHECK_INT(proto_next_state(PS_READY, PT_GO, 0), -1);
	CHECK_INT(proto_next_state(PS_PREPARED, PT_ACTIVATED, 0), -1);
	CHECK_INT(proto_next_state(PS_READY, 0, 1), -1);
	CHECK_INT(proto_next_state(PS_STREAMING, PT_ABORT, 0), PS_DONE);
	/* After go, only the peer's report settles who owns the guest. */
	CHECK_INT(proto_next_state(PS_COMMITTED, PT_ABORT, 0), -1);
	CHECK_INT(proto_next_state(PS_MAX, PT_HELLO, 0), -1);
}

static void
test_names_and_codes(void)
{
	CHECK_STR(proto_type_name(PT_XL_EXIT), "xl-exit");
	CHECK_STR(proto_type_name(-1), "?");
	CHECK_STR(proto_type_name(PT_MAX), "?");
	CHECK_STR(proto_error_text(PE_TIMEOUT), "deadline passed");
	CHECK_STR(proto_error_text(PE_MAX), "unknown error");
	CHECK_INT(proto_error_from_backend(BE_OK), PE_NONE);
	CHECK_INT(proto_error_from_backend(BE_DIGEST), PE_IMAGE);
	CHECK_INT(proto_error_from_backend(-5), PE_INTERNAL);
}

/*
 * Protocol 3: "reserved" and "error" carry the pre-flight's findings,
 * every one, with a peer's awkward bytes intact; a malformed list is
 * refused as a malformed message.
 */
static void
test_checks_round_trip(void)
{
	static const struct refusal bad[] = {
		{ "(reserved (checks (check (ok maybe) (text t))))",
		    PE_PROTOCOL },
		{ "(reserved (checks (check (ok yes))))", PE_PROTOCOL },
		{ "(error (code 12) (checks (nope (ok yes) (text t))))",
		    PE_PROTOCOL },
		{ "(error (code 12) (checks (check (ok no) (text 'a\\x00b'))))",
		    PE_PROTOCOL },
	};
	struct proto_msg	*m, *back;
	uint32_t		 i;

	m = calloc(1, sizeof(*m));
	back = calloc(1, sizeof(*back));
	CHECK(m != NULL && back != NULL);
	if (m == NULL || back == NULL)
		goto out;
	m->type = PT_RESERVED;
	STRLCPY_ARRAY(m->id, ID);
	checks_add(&m->checks, 1, "bridge xenbr0: present");
	checks_add(&m->checks, 0, "disk /srv/x'en/\"g\".img does not exist "
	    "here\n\x1b[31m");
	CHECK_INT(round_trip(m, back), PE_NONE);
	CHECK_INT(back->checks.n, 2);
	CHECK_INT(back->checks.item[0].ok, 1);
	CHECK_STR(back->checks.item[0].text, "bridge xenbr0: present");
	CHECK_INT(back->checks.item[1].ok, 0);
	CHECK_STR(back->checks.item[1].text, m->checks.item[1].text);
	/* An error: code, text and a full list of the longest findings. */
	memset(m, 0, sizeof(*m));
	m->type = PT_ERROR;
	m->code = PE_UNSUPPORTED;
	STRLCPY_ARRAY(m->text, "2 pre-flight checks failed");
	for (i = 0; i < CHECKS_MAX; i++) {
		checks_add(&m->checks, (int)(i % 2), "%0200u", i);
		CHECK_INT(strlen(m->checks.item[i].text), PROTO_TEXT_MAX);
	}
	CHECK_INT(round_trip(m, back), PE_NONE);
	CHECK_INT(back->code, PE_UNSUPPORTED);
	CHECK_INT(back->checks.n, CHECKS_MAX);
	CHECK(memcmp(&back->checks, &m->checks, sizeof(m->checks)) == 0);
	/* A list with one finding too many is refused. */
	CHECK_INT(decode("(reserved (checks (check (ok yes) (text 1)) "
	    "(check (ok yes) (text 2)) (check (ok yes) (text 3)) "
	    "(check (ok yes) (text 4)) (check (ok yes) (text 5)) "
	    "(check (ok yes) (text 6)) (check (ok yes) (text 7)) "
	    "(check (ok yes) (text 8)) (check (ok yes) (text 9)) "
	    "(check (ok yes) (text 10)) (check (ok yes) (text 11)) "
	    "(check (ok yes) (text 12)) (check (ok yes) (text 13)) "
	    "(check (ok yes) (text 14)) (check (ok yes) (text 15)) "
	    "(check (ok yes) (text 16)) (check (ok yes) (text 17))))",
	    back), PE_PROTOCOL);
	check_refusals(bad, sizeof(bad) / sizeof(bad[0]));
	/* Without the field (protocol 2 and older): an empty list. */
	CHECK_INT(decode("(reserved)", back), PE_NONE);
	CHECK_INT(back->checks.n, 0);
	CHECK_INT(decode("(error (code 12) (text t))", back), PE_NONE);
	CHECK_INT(back->checks.n, 0);
out:
	free(m);
	free(back);
}

/*
 * Protocol 5: "reserved" says what the destination can give; 0 is a
 * figure too, and an older destination's "reserved" has none, which
 * is not the same as 0.  A negative or non-numeric figure is refused.
 */
static void
test_available_round_trip(void)
{
	struct proto_msg	*m = msg_new(PT_RESERVED), *b = msg_new(PT_MAX);

	m->available = 48ULL << 30;
	m->available_known = 1;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->available_known, 1);
	CHECK(b->available == 48ULL << 30);
	m->available = 0;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->available_known, 1);
	CHECK(b->available == 0);
	m->available_known = 0;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->available_known, 0);
	CHECK_INT(decode("(reserved (id " ID "))", b), PE_NONE);
	CHECK_INT(b->available_known, 0);
	CHECK(decode("(reserved (id " ID ") (available -1))", b) != PE_NONE);
	CHECK(decode("(reserved (id " ID ") (available lots))", b) !=
	    PE_NONE);
	CHECK(PROTO_VERSION_CAPACITY <= PROTO_VERSION_MAX);
	free(m);
	free(b);
}

/*
 * (compress zstd) in reserve (the offer) and reserved (the acceptance)
 * survives a round trip; a compressor we do not know, or none, is no
 * offer; and a 'Z' frame is data-sized.
 */
static void
test_compress_round_trip(void)
{
	struct proto_msg	*m, *b = msg_new(PT_MAX);
	uint8_t			 hdr[PROTO_FRAME_HDR];
	size_t			 len;
	int			 kind;
	unsigned int		 i;

	for (i = 0; i < 2; i++) {
		m = i == 0 ? reserve_new() : msg_new(PT_RESERVED);
		m->compress = 1;
		CHECK_INT(round_trip(m, b), PE_NONE);
		CHECK_INT(b->compress, 1);
		m->compress = 0;
		CHECK_INT(round_trip(m, b), PE_NONE);
		CHECK_INT(b->compress, 0);
		free(m);
	}
	CHECK_INT(decode("(reserved (id " ID ") (compress zstd))", b),
	    PE_NONE);
	CHECK_INT(b->compress, 1);
	CHECK_INT(decode("(reserved (id " ID ") (compress lz5))", b), PE_NONE);
	CHECK_INT(b->compress, 0);
	proto_frame_header(hdr, PROTO_FRAME_ZSTD, PROTO_DATA_MAX);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_NONE);
	CHECK_INT(kind, PROTO_FRAME_ZSTD);
	proto_frame_header(hdr, PROTO_FRAME_ZSTD, PROTO_DATA_MAX + 1);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_TOO_LARGE);
	proto_frame_header(hdr, PROTO_FRAME_ZSTD, 0);
	CHECK_INT(proto_frame_parse(hdr, &kind, &len), PE_PROTOCOL);
	CHECK(PROTO_VERSION_COMPRESS <= PROTO_VERSION_MAX);
	free(b);
}

/*
 * relocd-xl's offer (xl-receive) and relocd's acceptance (xl-started),
 * PROTO_VERSION_XL_COMPRESS: both survive a round trip, next to the
 * words; none is no offer.
 */
static void
test_xl_compress_round_trip(void)
{
	struct proto_msg	*m = msg_new(PT_XL_RECEIVE), *b = msg_new(PT_MAX);

	strlcpy(m->xl_args[0], "xl", sizeof(m->xl_args[0]));
	strlcpy(m->xl_args[1], "migrate-receive", sizeof(m->xl_args[1]));
	m->xl_nargs = 2;
	m->compress = 1;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->compress, 1);
	CHECK_INT(b->xl_nargs, 2);
	CHECK_STR(b->xl_args[1], "migrate-receive");
	m->compress = 0;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->compress, 0);
	free(m);
	m = msg_new(PT_XL_STARTED);
	m->compress = 1;
	CHECK_INT(round_trip(m, b), PE_NONE);
	CHECK_INT(b->compress, 1);
	CHECK_INT(decode("(xl-started (id " ID "))", b), PE_NONE);
	CHECK_INT(b->compress, 0);
	CHECK(PROTO_VERSION_COMPRESS < PROTO_VERSION_XL_COMPRESS &&
	    PROTO_VERSION_XL_COMPRESS <= PROTO_VERSION_MAX);
	free(m);
	free(b);
}

UNIT_MAIN("proto",
    UNIT_TEST(test_compress_round_trip),
    UNIT_TEST(test_xl_compress_round_trip),
    UNIT_TEST(test_available_round_trip),
    UNIT_TEST(test_checks_round_trip),
    UNIT_TEST(test_hello_round_trip),
    UNIT_TEST(test_reserve_round_trip),
    UNIT_TEST(test_stream_messages_round_trip),
    UNIT_TEST(test_bare_messages_round_trip),
    UNIT_TEST(test_abort_state_xl_round_trip),
    UNIT_TEST(test_encode_refuses),
    UNIT_TEST(test_vcpus_over_limit_refused),
    UNIT_TEST(test_fields_over_limit_refused),
    UNIT_TEST(test_oversized_text_dropped),
    UNIT_TEST(test_unknown_or_malformed_refused),
    UNIT_TEST(test_progress_retired),
    UNIT_TEST(test_missing_fields_refused),
    UNIT_TEST(test_bad_ids_refused),
    UNIT_TEST(test_id_new_distinct_and_valid),
    UNIT_TEST(test_id_new_fails_loudly),
    UNIT_TEST(test_frames),
    UNIT_TEST(test_state_machine),
    UNIT_TEST(test_names_and_codes))
