// SPDX-License-Identifier: ISC
/*
 * Unit tests for xlreq.c (which words of an xl plugin's request pass, and
 * the argv rebuilt from them) and for the xl-receive / xl-exit messages
 * in proto.c.
 */
#include <stdlib.h>

#include "proto.h"
#include "unit.h"
#include "util.h"
#include "xlreq.h"

/* Parses a space-separated request; returns xlreq_parse's result. */
static int
parse(const char *line, struct xl_flags *f, char *err, size_t errlen)
{
	xlreq_word	 w[XL_ARGS_MAX];
	char		 copy[512], *p, *tok;
	size_t		 n = 0;

	strlcpy(copy, line, sizeof(copy));
	for (p = copy; (tok = strsep(&p, " ")) != NULL && n < XL_ARGS_MAX; )
		strlcpy(w[n++], tok, sizeof(w[0]));
	return xlreq_parse((const xlreq_word *)w, n, f, err, errlen);
}

/* The argv xl gets for a request, joined with spaces. */
static const char *
rebuilt(const char *line)
{
	static char	 out[256];
	struct xl_flags	 f;
	char		 err[256];

	if (parse(line, &f, err, sizeof(err)) == -1)
		return err[0] ? "refused" : "?";
	xlreq_format(&f, out, sizeof(out));
	return out;
}

static void
test_what_xl_migrate_sends(void)
{
	/* Every form of xl_migrate.c's rune (4.17). */
	CHECK_STR(rebuilt("xl migrate-receive"), "xl migrate-receive");
	CHECK_STR(rebuilt("xl -t migrate-receive -e"),
	    "xl -t migrate-receive -e");
	CHECK_STR(rebuilt("xl -t -T -vvvv migrate-receive -e -d -p"),
	    "xl -t -T -vvvv migrate-receive -e -d -p");
	CHECK_STR(rebuilt("xl -vv migrate-receive -p"),
	    "xl -vv migrate-receive -p");
	/* Repeated -v words add up, to xl's own maximum. */
	CHECK_STR(rebuilt("xl -v -v migrate-receive"), "xl -vv migrate-receive");
}

static void
test_anything_else_refused(void)
{
	static const char *const bad[] = {
		"xl destroy guest", "xl migrate-receive -F",
		"xl migrate-receive -r", "xl migrate-receive --colo",
		"xl migrate-receive extra", "xl -e migrate-receive",
		"xl -vvvvv migrate-receive", "xl -vvv -vv migrate-receive",
		"xl -N migrate-receive", "xl -f migrate-receive",
		"sh -c true", "xl", "xl migrate-receive -e;reboot",
		"xl -t", "/usr/sbin/xl migrate-receive", "xl -vx migrate-receive",
	};
	struct xl_flags	f;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i], &f, err, sizeof(err)) != -1) {
			fprintf(stderr, "  accepted: %s\n", bad[i]);
			CHECK(0);
		}
		CHECK(err[0] != '\0');
	}
	CHECK(parse("xl destroy guest", &f, err, sizeof(err)) == -1);
	CHECK_STR(err, "xl command 'destroy' is not allowed: only "
	    "migrate-receive");
}

static void
test_refusal_text_is_clean(void)
{
	xlreq_word	w[2];
	struct xl_flags	f;
	char		err[256], line[128];

	strlcpy(w[0], "xl", sizeof(w[0]));
	strlcpy(w[1], "a\nb\033c d", sizeof(w[1]));
	CHECK(xlreq_parse((const xlreq_word *)w, 2, &f, err, sizeof(err)) == -1);
	CHECK_STR(err, "xl command 'a?b?c?d' is not allowed: only "
	    "migrate-receive");
	xlreq_words_format((const xlreq_word *)w, 2, line, sizeof(line));
	CHECK_STR(line, "xl a?b?c?d");
}

static void
test_argv_from_flags_only(void)
{
	struct xl_flags	 f = { 1, 0, 2, 1, 0, 1 };
	const char	*argv[XLREQ_ARGV_MAX];

	CHECK_INT(xlreq_argv(&f, "/usr/sbin/xl", argv), 6);
	CHECK_STR(argv[0], "/usr/sbin/xl");
	CHECK_STR(argv[1], "-t");
	CHECK_STR(argv[2], "-vv");
	CHECK_STR(argv[3], "migrate-receive");
	CHECK_STR(argv[4], "-e");
	CHECK_STR(argv[5], "-p");
	CHECK(argv[6] == NULL);
	CHECK(xlreq_valid(&f));
	f.verbose = XL_VERBOSE_MAX + 1;
	CHECK(!xlreq_valid(&f));
	f.verbose = 0;
	f.debug = 2;
	CHECK(!xlreq_valid(&f));
}

static void
test_wire_round_trip(void)
{
	static struct proto_msg	m, back;
	char			buf[PROTO_CONTROL_MAX + 1], err[256];
	size_t			len;

	memset(&m, 0, sizeof(m));
	m.type = PT_XL_RECEIVE;
	strlcpy(m.id, "0123456789abcdef0123456789abcdef", sizeof(m.id));
	strlcpy(m.xl_args[0], "xl", sizeof(m.xl_args[0]));
	strlcpy(m.xl_args[1], "-vv", sizeof(m.xl_args[0]));
	strlcpy(m.xl_args[2], "migrate-receive", sizeof(m.xl_args[0]));
	strlcpy(m.xl_args[3], "a b", sizeof(m.xl_args[0]));
	m.xl_nargs = 4;
	CHECK(proto_encode(&m, buf, sizeof(buf), &len) == 0);
	CHECK_STR(buf, "(xl-receive (id 0123456789abcdef0123456789abcdef) "
	    "(args xl -vv migrate-receive 'a b'))");
	CHECK_INT(proto_decode(buf, len, &back, err, sizeof(err)), PE_NONE);
	CHECK_INT(back.type, PT_XL_RECEIVE);
	CHECK_INT(back.xl_nargs, 4);
	CHECK_STR(back.xl_args[3], "a b");
	/* Longer than any flag, more than xl sends, none, or a list. */
	strlcpy(buf, "(xl-receive (id 0123456789abcdef0123456789abcdef) "
	    "(args xl 0123456789012345678901234567890123456789))", sizeof(buf));
	CHECK_INT(proto_decode(buf, strlen(buf), &back, err, sizeof(err)),
	    PE_PROTOCOL);
	strlcpy(buf, "(xl-receive (args xl 1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
	    "15 16))", sizeof(buf));
	CHECK_INT(proto_decode(buf, strlen(buf), &back, err, sizeof(err)),
	    PE_PROTOCOL);
	strlcpy(buf, "(xl-receive (id 0123456789abcdef0123456789abcdef) "
	    "(args))", sizeof(buf));
	CHECK_INT(proto_decode(buf, strlen(buf), &back, err, sizeof(err)),
	    PE_PROTOCOL);
	strlcpy(buf, "(xl-receive (args xl (migrate-receive)))", sizeof(buf));
	CHECK_INT(proto_decode(buf, strlen(buf), &back, err, sizeof(err)),
	    PE_PROTOCOL);
}

static void
test_exit_status_bounds(void)
{
	static struct proto_msg	m;
	char			err[256];
	const char		*ok = "(xl-exit (id 0123456789abcdef0123456789abcdef)"
				    " (status 255))";
	const char		*bad = "(xl-exit (status 256))";

	CHECK_INT(proto_decode(ok, strlen(ok), &m, err, sizeof(err)), PE_NONE);
	CHECK_INT(m.status, 255);
	CHECK_INT(proto_decode(bad, strlen(bad), &m, err, sizeof(err)),
	    PE_PROTOCOL);
}

static void
test_state_machine(void)
{
	CHECK_INT(proto_next_state(PS_READY, PT_XL_RECEIVE, 0), PS_XL_STARTING);
	CHECK_INT(proto_next_state(PS_HELLO, PT_XL_RECEIVE, 0), -1);
	CHECK_INT(proto_next_state(PS_XL_STARTING, 0, 1), -1);
	CHECK_INT(proto_next_state(PS_XL_STARTING, PT_XL_STARTED, 0),
	    PS_XL_STREAMING);
	CHECK_INT(proto_next_state(PS_XL_STREAMING, 0, 1), PS_XL_STREAMING);
	CHECK_INT(proto_next_state(PS_XL_STREAMING, PT_XL_EOF, 0),
	    PS_XL_STREAMING);
	CHECK_INT(proto_next_state(PS_XL_STREAMING, PT_XL_EXIT, 0), PS_DONE);
	CHECK_INT(proto_next_state(PS_XL_STREAMING, PT_END, 0), -1);
	CHECK_INT(proto_next_state(PS_STREAMING, PT_XL_EOF, 0), -1);
	CHECK_STR(proto_error_text(PE_NOT_PERMITTED), "request not permitted");
}

UNIT_MAIN("xlreq",
    UNIT_TEST(test_what_xl_migrate_sends),
    UNIT_TEST(test_anything_else_refused),
    UNIT_TEST(test_refusal_text_is_clean),
    UNIT_TEST(test_argv_from_flags_only),
    UNIT_TEST(test_wire_round_trip),
    UNIT_TEST(test_exit_status_bounds),
    UNIT_TEST(test_state_machine))
