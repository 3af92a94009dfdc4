// SPDX-License-Identifier: ISC
/* Unit tests for the sxp reader: xend's syntax, its quirks and bounds. */
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "sxp.h"
#include "unit.h"

/* Parses s, which must hold one element, and returns it (root in *root). */
static struct sxp_node *
parse_one(const char *s, struct sxp_node **root)
{
	struct sxp_error	err;

	if (sxp_parse(s, strlen(s), root, &err) == -1) {
		fprintf(stderr, "  parse of %s failed: %d: %s\n", s, err.line,
		    err.msg);
		return NULL;
	}
	return (*root)->first;
}

/* Returns the error line for s, which must fail, and copies the message. */
static int
parse_error(const char *s, size_t len, char *msg, size_t msglen)
{
	struct sxp_error	 err;
	struct sxp_node		*root;

	if (sxp_parse(s, len, &root, &err) == 0) {
		sxp_free(root);
		return 0;
	}
	snprintf(msg, msglen, "%s", err.msg);
	return err.line;
}

static void
test_list_and_atoms(void)
{
	struct sxp_node	*root, *n;

	n = parse_one("(xend-relocation-port 8002)", &root);
	CHECK(n != NULL);
	if (n == NULL)
		return;
	CHECK_INT(n->type, SXP_LIST);
	CHECK_STR(n->first->text, "xend-relocation-port");
	CHECK_INT(n->first->type, SXP_ATOM);
	CHECK_STR(n->first->next->text, "8002");
	CHECK(n->first->next->next == NULL);
	sxp_free(root);
}

static void
test_comment_ends_atom(void)
{
	struct sxp_node	*root, *n;

	n = parse_one("(key value# comment )\n)", &root);
	CHECK(n != NULL);
	if (n == NULL)
		return;
	CHECK_STR(n->first->next->text, "value");
	CHECK(n->first->next->next == NULL);
	sxp_free(root);
}

static void
test_line_numbers(void)
{
	struct sxp_node	*root, *n;

	n = parse_one("# header\n\n(a 1)\n(b\n 'x')", &root);
	CHECK(n != NULL);
	if (n == NULL)
		return;
	CHECK_INT(n->line, 3);
	CHECK_INT(n->next->line, 4);
	CHECK_INT(n->next->first->next->line, 5);
	sxp_free(root);
}

static void
test_escapes(void)
{
	struct sxp_node	*root, *n;

	n = parse_one("'\\a\\b\\t\\n\\v\\f\\r\\\\\\'\\\"\\x41\\102\\x4g\\0'",
	    &root);
	CHECK(n != NULL);
	if (n == NULL)
		return;
	CHECK_INT(n->type, SXP_STRING);
	CHECK_INT(n->len, 15);
	CHECK(memcmp(n->text, "\a\b\t\n\v\f\r\\'\"AB\004g\0", 15) == 0);
	sxp_free(root);
}

static void
test_unknown_escape_quirk(void)
{
	struct sxp_node	*root, *n;

	/* xend: '\\.' is a backslash and a dot; '\.' loses the dot. */
	n = parse_one("('^localhost\\\\.localdomain$' '^a\\.b$')", &root);
	CHECK(n != NULL);
	if (n == NULL)
		return;
	CHECK_STR(n->first->text, "^localhost\\.localdomain$");
	CHECK_STR(n->first->next->text, "^a\\b$");
	sxp_free(root);
}

static void
test_double_quotes_and_separators(void)
{
	struct sxp_node	*root, *n;

	n = parse_one("(k \"it's\" a;b)", &root);
	CHECK(n != NULL);
	if (n == NULL)
		return;
	CHECK_STR(n->first->next->text, "it's");
	CHECK_STR(n->first->next->next->text, "a");
	CHECK_STR(n->first->next->next->next->text, ";b");
	sxp_free(root);
}

static void
test_errors_name_lines(void)
{
	char	msg[160];

	CHECK_INT(parse_error("(a 1)\n(b 'open)\n", 16, msg, sizeof(msg)), 2);
	CHECK_STR(msg, "unterminated string");
	CHECK_INT(parse_error("(a 1)\n\n)", 8, msg, sizeof(msg)), 3);
	CHECK_STR(msg, "unexpected ')'");
	CHECK_INT(parse_error("\n(a (b 1)\n", 10, msg, sizeof(msg)), 2);
	CHECK_STR(msg, "unclosed '(' at end of input");
	CHECK_INT(parse_error("'\\x'", 4, msg, sizeof(msg)), 1);
	CHECK_STR(msg, "invalid \\x escape: no hex digit");
	CHECK_INT(parse_error("'\\400'", 6, msg, sizeof(msg)), 1);
	CHECK_INT(parse_error("(a \001)", 5, msg, sizeof(msg)), 1);
	CHECK_STR(msg, "invalid character (code 1)");
}

static void
test_depth_bound(void)
{
	char	buf[2 * (SXP_DEPTH_MAX + 2) + 1], msg[160];
	int	i, d;

	/* Exactly the bound parses; one deeper fails. */
	for (d = SXP_DEPTH_MAX; d <= SXP_DEPTH_MAX + 1; d++) {
		for (i = 0; i < d; i++) {
			buf[i] = '(';
			buf[d + i] = ')';
		}
		buf[2 * d] = '\0';
		CHECK_INT(parse_error(buf, 2 * d, msg, sizeof(msg)),
		    d > SXP_DEPTH_MAX ? 1 : 0);
	}
}

static void
test_token_bound(void)
{
	char	*buf, msg[160];

	if ((buf = malloc(SXP_TOKEN_MAX + 3)) == NULL)
		return;
	memset(buf, 'a', SXP_TOKEN_MAX + 2);
	buf[SXP_TOKEN_MAX + 2] = '\0';
	CHECK_INT(parse_error(buf, SXP_TOKEN_MAX, msg, sizeof(msg)), 0);
	CHECK_INT(parse_error(buf, SXP_TOKEN_MAX + 1, msg, sizeof(msg)), 1);
	free(buf);
}

static void
test_quote_round_trip(void)
{
	static const char *const samples[] = {
		"plain", "", "^localhost\\.localdomain$", "it's", "a b",
		"tab\there", "\x01\x7f\xff", "/etc/xen/relocd/host.pem"
	};
	struct sxp_node	*root, *n;
	char		 out[256];
	size_t		 i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		CHECK(sxp_quote(samples[i], strlen(samples[i]), out,
		    sizeof(out)) == 0);
		n = parse_one(out, &root);
		CHECK(n != NULL);
		if (n == NULL)
			continue;
		CHECK_STR(n->text, samples[i]);
		sxp_free(root);
	}
	CHECK(sxp_quote("needs quoting", 13, out, 8) == -1);
}

/* sxp_field on the one message parsed from s (freed by the caller). */
static const char *
field_of(const char *s, size_t len, const char *name, struct sxp_node **root)
{
	struct sxp_error	err;

	*root = NULL;
	if (sxp_parse(s, len, root, &err) == -1) {
		fprintf(stderr, "  parse of %s failed: %s\n", s, err.msg);
		return NULL;
	}
	return sxp_field((*root)->first, name);
}

/* Each case: message, field name, the value wanted (NULL: none). */
static void
test_field(void)
{
	static const struct {
		const char	*msg;
		const char	*name;
		const char	*want;
	} cases[] = {
		/* Found, with the head and other fields around it. */
		{ "(result (id 7) (ok yes))", "ok", "yes" },
		{ "(result (id 7) (text 'two words'))", "text", "two words" },
		/* An empty string is a value, not an absent one. */
		{ "(result (text ''))", "text", "" },
		/* Missing: no such field, or no fields at all. */
		{ "(result (id 7))", "ok", NULL },
		{ "(result)", "ok", NULL },
		{ "()", "ok", NULL },
		/* A field with no value, or a list for a value. */
		{ "(result (ok))", "ok", NULL },
		{ "(result (ok (yes)))", "ok", NULL },
		/* The first field of a name decides, even if refused. */
		{ "(result (ok yes) (ok no))", "ok", "yes" },
		{ "(result (ok) (ok no))", "ok", NULL },
		{ "(result (ok (x)) (ok no))", "ok", NULL },
		/* The head is never a field: not as an atom ... */
		{ "(ok (ok yes))", "ok", "yes" },
		{ "(ok)", "ok", NULL },
		/* ... and not when it is itself a list. */
		{ "((ok yes) (ok no))", "ok", "no" },
		/* Only an atom names a field, and the name is exact. */
		{ "(result ('ok' yes))", "ok", NULL },
		{ "(result (okay yes) (o yes))", "ok", NULL },
		/* Anything after the value is ignored. */
		{ "(result (ok yes no))", "ok", "yes" },
		/* Bare lists and atoms inside the message are skipped. */
		{ "(result stray () (ok yes))", "ok", "yes" },
	};
	struct sxp_node	*root;
	const char	*got;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = field_of(cases[i].msg, strlen(cases[i].msg),
		    cases[i].name, &root);
		if (cases[i].want == NULL && got != NULL)
			fprintf(stderr, "  %s: %s is \"%s\", want none\n",
			    cases[i].msg, cases[i].name, got);
		CHECK(cases[i].want != NULL || got == NULL);
		if (cases[i].want != NULL)
			CHECK_STR(got, cases[i].want);
		sxp_free(root);
	}
	/* Not a list, or no list at all. */
	CHECK(sxp_field(NULL, "ok") == NULL);
	CHECK(field_of("ok", 2, "ok", &root) == NULL);
	sxp_free(root);
}

/*
 * A value with a NUL in it (the reader makes one of \x00 or \000) is
 * refused rather than read cut short, and a later field of the same
 * name does not stand in for it.
 */
static void
test_field_nul(void)
{
	static const char	 hex[] = "(save (guest 'g1\\x00rm') (guest g2))";
	static const char	 oct[] = "(save (guest 'g1\\000'))";
	struct sxp_node		*root;

	CHECK(field_of(hex, sizeof(hex) - 1, "guest", &root) == NULL);
	/* The reader did keep the NUL: the test is of sxp_field. */
	CHECK_INT(root->first->first->next->first->next->len, 5);
	sxp_free(root);
	CHECK(field_of(oct, sizeof(oct) - 1, "guest", &root) == NULL);
	sxp_free(root);
}

UNIT_MAIN("sxp",
    UNIT_TEST(test_list_and_atoms),
    UNIT_TEST(test_comment_ends_atom),
    UNIT_TEST(test_line_numbers),
    UNIT_TEST(test_escapes),
    UNIT_TEST(test_unknown_escape_quirk),
    UNIT_TEST(test_double_quotes_and_separators),
    UNIT_TEST(test_errors_name_lines),
    UNIT_TEST(test_depth_bound),
    UNIT_TEST(test_token_bound),
    UNIT_TEST(test_quote_round_trip),
    UNIT_TEST(test_field),
    UNIT_TEST(test_field_nul))
