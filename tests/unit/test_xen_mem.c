// SPDX-License-Identifier: ISC
/*
 * Whether xl balloons dom0 down for a guest (relocd/xen_mem.c), the
 * rule evacuate's capacity and the reservation's memory check follow:
 * xl.conf's autoballoon, then for "auto" Xen's command line.
 */
#include "xen.h"
#include "unit.h"

/* An explicit setting wins over the command line, as in xl. */
static void
test_explicit_setting(void)
{
	CHECK_INT(xen_mem_autoballoon("on", "dom0_mem=1024M"), 1);
	CHECK_INT(xen_mem_autoballoon("1", "dom0_mem=1024M"), 1);
	CHECK_INT(xen_mem_autoballoon("off", "console=com1"), 0);
	CHECK_INT(xen_mem_autoballoon("0", ""), 0);
}

/* "auto", or no setting: on unless dom0_mem= is a word of the line. */
static void
test_auto(void)
{
	CHECK_INT(xen_mem_autoballoon(NULL, "console=com1 loglvl=all"), 1);
	CHECK_INT(xen_mem_autoballoon("auto", "console=com1"), 1);
	CHECK_INT(xen_mem_autoballoon("auto", "dom0_mem=512M,max:512M"), 0);
	CHECK_INT(xen_mem_autoballoon(NULL, "console=com1 dom0_mem=2G"), 0);
	/* Part of another word is not the option. */
	CHECK_INT(xen_mem_autoballoon(NULL, "xdom0_mem=2G"), 1);
	/* Not known: only what is free counts. */
	CHECK_INT(xen_mem_autoballoon(NULL, NULL), 0);
	CHECK_INT(xen_mem_autoballoon("auto", NULL), 0);
	/* A value xl rejects is left to "auto" by the caller (logged). */
	CHECK_INT(xen_mem_autoballoon("yes", "console=com1"), 1);
}

UNIT_MAIN("xen_mem",
    UNIT_TEST(test_explicit_setting),
    UNIT_TEST(test_auto))
