// SPDX-License-Identifier: ISC
/*
 * Unit tests for checks.c, the pre-flight's list of findings: a full
 * list gives up what passed before any failure; failures take the name
 * of the host they come from; the sxp form reads back to the same list.
 */
#include <stdlib.h>

#include "checks.h"
#include "sxp.h"
#include "unit.h"

static void
test_add_and_count(void)
{
	struct check_list	l;

	memset(&l, 0, sizeof(l));
	CHECK(checks_first_failure(&l) == NULL);
	checks_add(&l, 1, "bridge %s: present", "xenbr0");
	checks_add(&l, 0, "disk %s is gone", "/a");
	checks_add(&l, 0, "disk %s is gone", "/b");
	CHECK_INT(l.n, 3);
	CHECK_INT(checks_failed(&l), 2);
	CHECK_STR(checks_first_failure(&l), "disk /a is gone");
	checks_prefix_failures(&l, "destination b");
	CHECK_STR(l.item[0].text, "bridge xenbr0: present");
	CHECK_STR(l.item[1].text, "destination b: disk /a is gone");
	CHECK_STR(l.item[2].text, "destination b: disk /b is gone");
}

/* Full: a failure pushes out the last check that passed, never a failure. */
static void
test_full_list_keeps_failures(void)
{
	struct check_list	l;
	int			i;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < CHECKS_MAX; i++)
		checks_add(&l, i != 3, "check %d", i);
	CHECK_INT(l.n, CHECKS_MAX);
	checks_add(&l, 1, "one more that passed");
	CHECK_INT(l.n, CHECKS_MAX);
	CHECK_STR(l.item[CHECKS_MAX - 1].text, "check 15");
	for (i = 0; i < CHECKS_MAX; i++)
		checks_add(&l, 0, "failure %d", i);
	CHECK_INT(checks_failed(&l), CHECKS_MAX);
	/* The first failure stays first; the newest that fit are last. */
	CHECK_STR(checks_first_failure(&l), "check 3");
	CHECK_STR(l.item[CHECKS_MAX - 1].text, "failure 14");
	checks_add(&l, 0, "no room");
	CHECK_STR(l.item[CHECKS_MAX - 1].text, "failure 14");
}

/* Over PROTO_TEXT_MAX: cut, and marked so (util_text_copy). */
static void
test_long_text_cut(void)
{
	struct check_list	l;

	memset(&l, 0, sizeof(l));
	checks_add(&l, 0, "%0300d", 7);
	CHECK_INT(strlen(l.item[0].text), PROTO_TEXT_MAX);
}

static void
test_format_parse(void)
{
	struct check_list	 l, back;
	struct sxp_node		*root = NULL;
	struct sxp_error	 err;
	char			 buf[8192] = "(result";
	size_t			 off = strlen(buf);

	memset(&l, 0, sizeof(l));
	CHECK_INT(checks_format(&l, buf, sizeof(buf), &off), 0);
	CHECK_STR(buf, "(result");
	checks_add(&l, 1, "disk /srv/xen/g.img: present");
	checks_add(&l, 0, "it's \"quoted\"\n");
	CHECK_INT(checks_format(&l, buf, sizeof(buf), &off), 0);
	buf[off++] = ')';
	buf[off] = '\0';
	CHECK_STR(buf, "(result (checks (check (ok yes) (text 'disk "
	    "/srv/xen/g.img: present')) (check (ok no) (text 'it\\'s "
	    "\"quoted\"\\x0a'))))");
	CHECK_INT(sxp_parse(buf, strlen(buf), &root, &err), 0);
	if (root != NULL) {
		CHECK_INT(checks_parse(root->first, &back), 0);
		CHECK(memcmp(&back, &l, sizeof(l)) == 0);
	}
	sxp_free(root);
	/* Too small a buffer is an error, never a cut list. */
	off = 0;
	CHECK_INT(checks_format(&l, buf, 40, &off), -1);
}

static void
test_terminate(void)
{
	struct check_list	l;

	memset(&l, 'x', sizeof(l));
	checks_terminate(&l);
	CHECK_INT(l.n, CHECKS_MAX);
	CHECK_INT(strlen(l.item[0].text), PROTO_TEXT_MAX);
	CHECK_INT(l.item[0].ok, 1);
}

UNIT_MAIN("checks",
    UNIT_TEST(test_add_and_count),
    UNIT_TEST(test_full_list_keeps_failures),
    UNIT_TEST(test_long_text_cut),
    UNIT_TEST(test_format_parse),
    UNIT_TEST(test_terminate))
