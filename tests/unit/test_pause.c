// SPDX-License-Identifier: ISC
/*
 * Unit tests for the parts of a pause (relocd/pause.c): a zeroed pause
 * knows nothing, 0 ms is a measurement and not "unknown", another
 * host's parts fold in without erasing ours, and the log line, the sxp
 * and the JSON say "unknown" (null) for what was not measured.
 */
#include <jansson.h>

#include "pause.h"
#include "sxp.h"
#include "unit.h"

static void
test_unknown_is_not_zero(void)
{
	struct pause	p;
	char		buf[256];

	memset(&p, 0, sizeof(p));
	CHECK_INT(pause_get(&p, PAUSE_SUSPEND), -1);
	CHECK_INT(pause_get(&p, PAUSE_NPARTS), -1);
	pause_set(&p, PAUSE_STATE, 0);
	CHECK_INT(pause_get(&p, PAUSE_STATE), 0);
	/* A negative difference of clocks is no time at all. */
	pause_set(&p, PAUSE_COMMIT, -4);
	CHECK_INT(pause_get(&p, PAUSE_COMMIT), 0);
	pause_set(&p, PAUSE_NPARTS, 5);
	CHECK_INT(p.known, (1U << PAUSE_STATE) | (1U << PAUSE_COMMIT));
	CHECK_INT(pause_format(&p, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "suspend unknown, final copy unknown, vcpu state 0 ms, "
	    "digest unknown, release unknown, restore unknown, commit 0 ms, "
	    "unpause unknown");
	CHECK_INT(pause_format(&p, buf, 20), -1);
}

static void
test_merge(void)
{
	struct pause	ours, peer;

	memset(&ours, 0, sizeof(ours));
	memset(&peer, 0, sizeof(peer));
	pause_set(&ours, PAUSE_FINAL, 20);
	pause_set(&ours, PAUSE_UNPAUSE, 1);
	pause_set(&peer, PAUSE_UNPAUSE, 3);
	pause_merge(&ours, &peer);
	CHECK_INT(pause_get(&ours, PAUSE_FINAL), 20);
	CHECK_INT(pause_get(&ours, PAUSE_UNPAUSE), 3);
	CHECK_INT(pause_get(&ours, PAUSE_COMMIT), -1);
}

static void
test_sxp_and_json(void)
{
	struct pause		 p, back;
	struct sxp_node		*root = NULL;
	struct sxp_error	 serr;
	json_t			*o;
	char			 buf[512];
	size_t			 off = 0;

	memset(&p, 0, sizeof(p));
	pause_set(&p, PAUSE_SUSPEND, 2);
	pause_set(&p, PAUSE_RELEASE, 33);
	CHECK_INT(pause_sxp(&p, buf, sizeof(buf), &off), 0);
	CHECK_INT(off, strlen(buf));
	CHECK_INT(sxp_parse(buf, off, &root, &serr), 0);
	if (root != NULL) {
		CHECK_STR(root->first->first->text, "pause");
		CHECK_STR(sxp_field(root->first, "suspend-ms"), "2");
		CHECK_STR(sxp_field(root->first, "release-ms"), "33");
		CHECK_STR(sxp_field(root->first, "commit-ms"), "unknown");
		sxp_free(root);
	}
	off = 0;
	CHECK_INT(pause_sxp(&p, buf, 40, &off), -1);

	o = pause_json(&p);
	CHECK(o != NULL);
	if (o == NULL)
		return;
	CHECK_INT(json_object_size(o), PAUSE_NPARTS);
	CHECK_INT(json_integer_value(json_object_get(o, "release-ms")), 33);
	CHECK(json_is_null(json_object_get(o, "digest-ms")));
	memset(&back, 0x55, sizeof(back));
	CHECK_INT(pause_from_json(o, &back), 0);
	CHECK(memcmp(&p, &back, sizeof(p)) == 0);
	json_decref(o);
	/* Absent: all unknown; not an object, or a bad part: refused. */
	CHECK_INT(pause_from_json(NULL, &back), 0);
	CHECK_INT(back.known, 0);
	o = json_loads("{\"unpause-ms\": -1}", 0, NULL);
	CHECK_INT(pause_from_json(o, &back), -1);
	json_decref(o);
	o = json_loads("[1]", 0, NULL);
	CHECK_INT(pause_from_json(o, &back), -1);
	json_decref(o);
}

UNIT_MAIN("pause",
    UNIT_TEST(test_unknown_is_not_zero),
    UNIT_TEST(test_merge),
    UNIT_TEST(test_sxp_and_json))
