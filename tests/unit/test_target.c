// SPDX-License-Identifier: ISC
/*
 * Unit tests for a downtime target out of reach (relocd/target.c): a
 * reachable target adds nothing to a reply, the sxp field and the JSON
 * object carry the same four members, a report file's object is
 * checked, and relocctl's one line says why, the smallest pause, what
 * follows and what the administrator can do.
 */
#include <jansson.h>

#include "conf.h"
#include "sxp.h"
#include "target.h"
#include "unit.h"

static void
test_reachable_says_nothing(void)
{
	struct target	t;
	char		buf[64] = "(progress";
	size_t		off = strlen(buf);

	memset(&t, 0, sizeof(t));
	CHECK_INT(target_sxp(&t, buf, sizeof(buf), &off), 0);
	CHECK_INT(off, strlen("(progress"));
	CHECK_INT(target_from_json(NULL, &t), 0);
	CHECK_INT(t.reason, TARGET_REACHABLE);
}

static void
test_sxp_and_json(void)
{
	struct target		 t = { TARGET_NOT_CONVERGING,
				    CONF_NONCONV_ABORT, 2600, 300 };
	struct target		 back;
	struct sxp_node		*root = NULL;
	struct sxp_error	 serr;
	const struct sxp_node	*f;
	char			 buf[256] = "(result (id x)";
	size_t			 off = strlen(buf);
	json_t			*o;

	CHECK_INT(target_sxp(&t, buf, sizeof(buf), &off), 0);
	CHECK(off + 2 <= sizeof(buf));
	buf[off++] = ')';
	buf[off] = '\0';
	CHECK_INT(sxp_parse(buf, off, &root, &serr), 0);
	if (root != NULL) {
		f = sxp_field_node(root->first, "target-unreachable");
		CHECK(f != NULL);
		if (f != NULL) {
			CHECK_STR(sxp_field(f, "reason"), "not-converging");
			CHECK_STR(sxp_field(f, "choice"), "abort");
			CHECK_STR(sxp_field(f, "min-pause-ms"), "2600");
			CHECK_STR(sxp_field(f, "max-downtime-ms"), "300");
		}
	}
	sxp_free(root);
	/* Too small a buffer is an error, not a cut field. */
	off = 0;
	CHECK_INT(target_sxp(&t, buf, 20, &off), -1);

	o = target_json(&t);
	CHECK(o != NULL);
	CHECK_INT(target_from_json(o, &back), 0);
	CHECK_INT(back.reason, TARGET_NOT_CONVERGING);
	CHECK_INT(back.choice, CONF_NONCONV_ABORT);
	CHECK_INT(back.min_pause_ms, 2600);
	CHECK_INT(back.max_downtime_ms, 300);
	json_decref(o);
}

static void
test_json_bad(void)
{
	static const char *const bad[] = {
		"5",
		"{\"reason\": \"fixed-cost\"}",
		"{\"reason\": \"tired\", \"choice\": \"abort\", "
		    "\"min-pause-ms\": 1, \"max-downtime-ms\": 1}",
		"{\"reason\": \"fixed-cost\", \"choice\": \"pray\", "
		    "\"min-pause-ms\": 1, \"max-downtime-ms\": 1}",
		"{\"reason\": \"fixed-cost\", \"choice\": \"abort\", "
		    "\"min-pause-ms\": -1, \"max-downtime-ms\": 1}",
	};
	struct target	t;
	json_t		*o;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		CHECK(o != NULL);
		CHECK_INT(target_from_json(o, &t), -1);
		CHECK_INT(t.reason, TARGET_REACHABLE);
		json_decref(o);
	}
}

static void
test_format(void)
{
	struct target	fixed = { TARGET_FIXED_COST,
			    CONF_NONCONV_STOP_AND_COPY, 420, 300 };
	struct target	busy = { TARGET_NOT_CONVERGING,
			    CONF_NONCONV_STOP_AND_COPY, 2600, 300 };
	char		buf[512];

	CHECK_INT(target_format(&fixed, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "the 300 ms downtime target cannot be met: the "
	    "pause's fixed cost alone is over it") != NULL);
	CHECK(strstr(buf, "about 420 ms") != NULL);
	CHECK(strstr(buf, "raise --max-downtime") != NULL);
	CHECK(strstr(buf, "--throttle") == NULL);
	CHECK(strchr(buf, '\n') == NULL);

	CHECK_INT(target_format(&busy, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "faster than the link clears it") != NULL);
	CHECK(strstr(buf, "about 2600 ms") != NULL);
	CHECK(strstr(buf, "choose --throttle") != NULL);
	busy.choice = CONF_NONCONV_ABORT;
	CHECK_INT(target_format(&busy, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "aborting, the guest stays here") != NULL);
	busy.choice = CONF_NONCONV_THROTTLE;
	CHECK_INT(target_format(&busy, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "the throttle is at its floor") != NULL);
	CHECK_INT(target_format(&busy, buf, 40), -1);
}

UNIT_MAIN("target",
    UNIT_TEST(test_reachable_says_nothing),
    UNIT_TEST(test_sxp_and_json),
    UNIT_TEST(test_json_bad),
    UNIT_TEST(test_format))
