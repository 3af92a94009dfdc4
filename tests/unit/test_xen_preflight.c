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

static void
facts(struct xen_facts *f, int minor, uint64_t clock, uint32_t w0, uint32_t w1)
{
	memset(f, 0, sizeof(*f));
	f->major = 4;
	f->minor = minor;
	f->clock_ms = clock;
	f->cpu[0] = w0;
	f->cpu[1] = w1;
	f->ncpu = 2;
}

static void
test_facts_round_trip(void)
{
	struct xen_facts	f, g;
	char			buf[512];

	facts(&f, 17, 1732250000123ull, 0xdeadbeef, 0x1);
	CHECK_INT(xen_facts_format(&f, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "xen=4.17 clock=1732250000123 cpu=deadbeef,00000001");
	CHECK_INT(xen_facts_parse(buf, &g), 0);
	CHECK(memcmp(&f, &g, sizeof(f)) == 0);
	CHECK_INT(xen_facts_format(&f, buf, 20), -1);	/* does not fit */
}

static void
test_facts_malformed(void)
{
	static const char *const bad[] = {
		"", "xen=4.17", "xen=4.17 clock=1", "xen=4 clock=1 cpu=",
		"xen=4.17 clock=-1 cpu=1", "xen=4.17 clock=1 cpu=1,",
		"xen=4.17 clock=1 cpu=DEAD", "xen=4.17 clock=1 cpu=1 x",
		"xen=256.1 clock=1 cpu=1", "xen=4.17 clock=1 cpu=100000000",
		"xen=4.17 clock= 1 cpu=1", "xen=+4.17 clock=1 cpu=1",
		"xen=4.17 clock=1 cpu=1,2,3,4,5,6,7,8,9,a,b,c,d,e,f,10,11,12,"
		    "13,14,15,16,17,18,19,1a,1b,1c,1d,1e,1f,20,21",
	};
	struct xen_facts	f;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xen_facts_parse(bad[i], &f) != -1) {
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	/* No cpu words at all is well-formed (and then nothing is missing). */
	CHECK_INT(xen_facts_parse("xen=4.17 clock=1 cpu=", &f), 0);
	CHECK_INT(f.ncpu, 0);
}

static void
test_facts_compare(void)
{
	struct xen_facts	src, here;
	char			why[256], warn[256];
	uint64_t		now = 1732250000000ull;

	facts(&src, 17, now, 0x0f, 0x3);
	facts(&here, 17, now, 0xff, 0x3);
	CHECK_INT(xen_facts_compare(&src, &here, now + 1000, why, sizeof(why),
	    warn, sizeof(warn)), 0);
	CHECK_STR(warn, "");
	/* Another Xen version. */
	facts(&here, 16, now, 0xff, 0x3);
	CHECK_INT(xen_facts_compare(&src, &here, now, why, sizeof(why), warn,
	    sizeof(warn)), -1);
	CHECK(strstr(why, "Xen 4.17 and this host Xen 4.16") != NULL);
	/* Three features the guest has at the source are not here. */
	facts(&here, 17, now, 0x0e, 0x0);
	CHECK_INT(xen_facts_compare(&src, &here, now, why, sizeof(why), warn,
	    sizeof(warn)), -1);
	CHECK(strstr(why, "lacks 3 features") != NULL);
	/* Clocks: a warning past 5 s, a refusal past 60 s, either way. */
	facts(&here, 17, now, 0xff, 0x3);
	CHECK_INT(xen_facts_compare(&src, &here, now + 10000, why, sizeof(why),
	    warn, sizeof(warn)), 0);
	CHECK(strstr(warn, "about 10 s") != NULL);
	CHECK_INT(xen_facts_compare(&src, &here, now - 61000, why, sizeof(why),
	    warn, sizeof(warn)), -1);
	CHECK(strstr(why, "differ by 61 s") != NULL);
}

/* An HVM guest's QEMU: the default path, or the config's override. */
static void
test_device_model(void)
{
	char	why[256] = "";

	CHECK_INT(xen_preflight_device_model(root, "w", NULL, why,
	    sizeof(why)), -1);
	CHECK_STR(why, "w is an HVM guest and needs QEMU's device model "
	    "/usr/libexec/xen-qemu-system-i386, which this host does not "
	    "have; install the qemu-system-xen package here");
	make("/usr", 1);
	make("/usr/libexec", 1);
	make("/usr/libexec/xen-qemu-system-i386", 0);
	why[0] = '\0';
	CHECK_INT(xen_preflight_device_model(root, "w", "", why, sizeof(why)),
	    0);
	CHECK_STR(why, "");
	CHECK_INT(xen_preflight_device_model(root, "w", "/opt/qemu", why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "device model /opt/qemu,") != NULL);
	CHECK_INT(xen_preflight_device_model(root, "w", "usr/libexec/"
	    "xen-qemu-system-i386", why, sizeof(why)), -1);
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
		UNIT_TEST(test_facts_round_trip),
		UNIT_TEST(test_facts_malformed),
		UNIT_TEST(test_facts_compare),
		UNIT_TEST(test_device_model),
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
