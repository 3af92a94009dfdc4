// SPDX-License-Identifier: ISC
/*
 * The destination's device pre-flight (xen_preflight.c) against a
 * made-up root: a bridge is there when sys/class/net/NAME/bridge is, a
 * disk when its path is; each refusal names the device.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "xen_preflight.h"

static char root[] = "/tmp/relocd-preflight-XXXXXX";

static void
make(const char *rel, int dir)
{
	char	path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (dir)
		mkdir(path, 0755);
	else if ((f = fopen(path, "w")) != NULL)
		fclose(f);
}

static void
test_all_present(void)
{
	const char	*bridges[] = { "xenbr0", NULL, "" };
	const char	*disks[] = { "/images/g.img", "iqn.2001-04:target",
	    NULL };
	char		 why[256] = "";

	CHECK_INT(xen_preflight_devices(root, "g", bridges, 3, disks, 3, why,
	    sizeof(why)), 0);
	CHECK_STR(why, "");
}

static void
test_missing_bridge(void)
{
	const char	*bridges[] = { "xenbr0", "xenbr1" };
	char		 why[256] = "";

	CHECK_INT(xen_preflight_devices(root, "g", bridges, 2, NULL, 0, why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "bridge xenbr1") != NULL);
	CHECK(strstr(why, "interface 1") != NULL);
}

static void
test_not_a_bridge(void)
{
	/* eth0 exists, but is no bridge: a vif cannot join it. */
	const char	*bridges[] = { "eth0" };
	char		 why[256] = "";

	CHECK_INT(xen_preflight_devices(root, "g", bridges, 1, NULL, 0, why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "eth0") != NULL);
}

static void
test_bridge_name_escape(void)
{
	const char	*bridges[] = { "../../../images" };
	char		 why[256] = "";

	CHECK_INT(xen_preflight_devices(root, "g", bridges, 1, NULL, 0, why,
	    sizeof(why)), -1);
}

static void
test_missing_disk(void)
{
	const char	*disks[] = { "/images/g.img", "/images/other.img" };
	char		 why[256] = "";

	CHECK_INT(xen_preflight_devices(root, "g", NULL, 0, disks, 2, why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "/images/other.img") != NULL);
	CHECK(strstr(why, "g's disk") != NULL);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_all_present),
		UNIT_TEST(test_missing_bridge),
		UNIT_TEST(test_not_a_bridge),
		UNIT_TEST(test_bridge_name_escape),
		UNIT_TEST(test_missing_disk),
	};
	int	rc;

	if (mkdtemp(root) == NULL)
		return 1;
	make("/sys", 1);
	make("/sys/class", 1);
	make("/sys/class/net", 1);
	make("/sys/class/net/xenbr0", 1);
	make("/sys/class/net/xenbr0/bridge", 1);
	make("/sys/class/net/eth0", 1);
	make("/images", 1);
	make("/images/g.img", 0);
	rc = unit_run("xen_preflight", tests, sizeof(tests) / sizeof(tests[0]));
	if (fork() == 0)
		execlp("rm", "rm", "-rf", root, (char *)NULL);
	return rc;
}
