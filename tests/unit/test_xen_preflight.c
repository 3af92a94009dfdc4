// SPDX-License-Identifier: ISC
/*
 * The device pre-flight (xen_preflight.c) against a made-up root: a
 * bridge is there when sys/class/net/NAME/bridge is, a disk when its
 * path is readable; every device is a finding, every failure is listed
 * and names the device and what to do.  And the source's "cannot
 * migrate at all" checks.
 */
#include <sys/stat.h>
#include <sys/wait.h>

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

/* The text of finding i, or "" past the end. */
static const char *
text(const struct check_list *l, uint32_t i)
{
	return i < l->n ? l->item[i].text : "";
}

static void
test_all_present(void)
{
	const char		*bridges[] = { "xenbr0", NULL, "" };
	const char		*disks[] = { "/images/g.img", "iqn.2001-04:target",
	    NULL };
	struct check_list	 l;

	memset(&l, 0, sizeof(l));
	CHECK_INT(xen_preflight_devices(root, bridges, 3, disks, 3, &l), 0);
	/* Each device looked at is named; the skipped ones are not. */
	CHECK_INT(l.n, 2);
	CHECK_STR(text(&l, 0), "bridge xenbr0: present");
	CHECK_STR(text(&l, 1), "disk /images/g.img: present");
	CHECK_INT(l.item[0].ok && l.item[1].ok, 1);
	CHECK_INT(checks_failed(&l), 0);
}

static void
test_missing_bridge(void)
{
	const char		*bridges[] = { "xenbr0", "xenbr1" };
	struct check_list	 l;

	memset(&l, 0, sizeof(l));
	CHECK_INT(xen_preflight_devices(root, bridges, 2, NULL, 0, &l), 1);
	CHECK_INT(l.n, 2);
	CHECK_INT(l.item[1].ok, 0);
	CHECK_STR(text(&l, 1), "bridge xenbr1 does not exist here: create it "
	    "(ip link add xenbr1 type bridge, or brctl addbr xenbr1) or change "
	    "the guest's vif");
}

static void
test_not_a_bridge(void)
{
	/* eth0 exists, but is no bridge: a vif cannot join it. */
	const char		*bridges[] = { "eth0" };
	struct check_list	 l;

	memset(&l, 0, sizeof(l));
	CHECK_INT(xen_preflight_devices(root, bridges, 1, NULL, 0, &l), 1);
	CHECK(strncmp(text(&l, 0), "eth0 here is a network interface but not "
	    "a bridge", 48) == 0);
}

static void
test_bridge_name_escape(void)
{
	const char		*bridges[] = { "../../../images", ".." };
	struct check_list	 l;

	memset(&l, 0, sizeof(l));
	CHECK_INT(xen_preflight_devices(root, bridges, 2, NULL, 0, &l), 2);
	CHECK_STR(text(&l, 0), "bridge ../../../images is no valid interface "
	    "name: change the guest's vif");
}

static void
test_missing_disk(void)
{
	const char		*disks[] = { "/images/g.img", "/images/other.img",
	    "/images" };
	struct check_list	 l;

	memset(&l, 0, sizeof(l));
	CHECK_INT(xen_preflight_devices(root, NULL, 0, disks, 3, &l), 2);
	CHECK_STR(text(&l, 1), "disk /images/other.img does not exist here: "
	    "make the same storage visible here (shared storage, or a copy) or "
	    "change the guest's disk");
	CHECK(strncmp(text(&l, 2), "disk /images is a directory here", 32) ==
	    0);
}

static int
unreadable_seen(void)
{
	const char		*disks[] = { "/images/locked.img" };
	struct check_list	 l;

	memset(&l, 0, sizeof(l));
	return xen_preflight_devices(root, NULL, 0, disks, 1, &l) == 1 &&
	    strncmp(text(&l, 0), "disk /images/locked.img is here but not "
	    "readable (Permission denied)", 68) == 0;
}

/*
 * A disk that is there but not readable, as behind an NFS export that
 * squashes root.  root reads any local file, so as root the check runs
 * in a child that became nobody.
 */
static void
test_unreadable_disk(void)
{
	pid_t	pid;
	int	status = -1;

	if (geteuid() != 0) {
		CHECK(unreadable_seen());
		return;
	}
	if ((pid = fork()) == 0)
		_exit(setgid(65534) == 0 && setuid(65534) == 0 &&
		    unreadable_seen() ? 0 : 1);
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK_INT(status, 0);
}

/*
 * The case: the bridge and the disk both missing.  Both are
 * listed, not just the first, and what passed is still named.
 */
static void
test_every_failure_listed(void)
{
	const char		*bridges[] = { "xenbr9", "xenbr0" };
	const char		*disks[] = { "/srv/xen/g.img", "/images/g.img" };
	struct check_list	 l;

	memset(&l, 0, sizeof(l));
	CHECK_INT(xen_preflight_devices(root, bridges, 2, disks, 2, &l), 2);
	CHECK_INT(l.n, 4);
	CHECK_INT(checks_failed(&l), 2);
	CHECK(strncmp(text(&l, 0), "bridge xenbr9 does not exist here", 33) ==
	    0);
	CHECK_STR(text(&l, 1), "bridge xenbr0: present");
	CHECK(strncmp(text(&l, 2), "disk /srv/xen/g.img does not exist here",
	    39) == 0);
	CHECK_STR(text(&l, 3), "disk /images/g.img: present");
}

/* The source's "cannot migrate at all": one sentence per blocker. */
static void
test_migratable(void)
{
	struct xen_blockers	b;
	struct check_list	l;

	memset(&b, 0, sizeof(b));
	memset(&l, 0, sizeof(l));
	CHECK_INT(xen_preflight_migratable("g", &b, &l), 0);
	CHECK_INT(l.n, 0);
	b.pci = 1;
	b.disable_migrate = 1;
	CHECK_INT(xen_preflight_migratable("g", &b, &l), 2);
	CHECK_INT(checks_failed(&l), 2);
	CHECK_STR(text(&l, 0), "g has 1 PCI device passed through, and Xen "
	    "cannot migrate a guest with assigned devices: detach it first (xl "
	    "pci-detach) or move the guest cold");
	CHECK_STR(text(&l, 1), "g's config sets nomigrate (libxl's "
	    "disable_migrate), so it must not be migrated: remove it from the "
	    "config and restart the guest, or move the guest cold");
	memset(&l, 0, sizeof(l));
	memset(&b, 0, sizeof(b));
	b.pci = 2;
	b.dtdev = 1;
	b.vnuma = 2;
	CHECK_INT(xen_preflight_migratable("g", &b, &l), 3);
	CHECK(strstr(text(&l, 0), "2 PCI devices passed through") != NULL);
	CHECK(strstr(text(&l, 0), "detach them first") != NULL);
	CHECK(strstr(text(&l, 1), "1 device-tree device passed") != NULL);
	CHECK(strstr(text(&l, 2), "vNUMA") != NULL);
	/* Devices whose backend stays here: a host's USB port, a vTPM. */
	memset(&l, 0, sizeof(l));
	memset(&b, 0, sizeof(b));
	b.usb = 1;
	b.vtpm = 2;
	CHECK_INT(xen_preflight_migratable("g", &b, &l), 2);
	CHECK_STR(text(&l, 0), "g has 1 host USB device passed through, "
	    "which stays on this host: detach it first (xl usbdev-detach) or "
	    "move the guest cold");
	CHECK_STR(text(&l, 1), "g has 2 vTPMs, whose backend domain and state "
	    "stay on this host: detach them first (xl vtpm-detach) or move the "
	    "guest cold");
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
		UNIT_TEST(test_unreadable_disk),
		UNIT_TEST(test_every_failure_listed),
		UNIT_TEST(test_migratable),
		UNIT_TEST(test_facts_round_trip),
		UNIT_TEST(test_facts_malformed),
		UNIT_TEST(test_facts_compare),
		UNIT_TEST(test_device_model),
	};
	int	rc;

	if (mkdtemp(root) == NULL || chmod(root, 0755) == -1)
		return 1;
	make("/sys", 1);
	make("/sys/class", 1);
	make("/sys/class/net", 1);
	make("/sys/class/net/xenbr0", 1);
	make("/sys/class/net/xenbr0/bridge", 1);
	make("/sys/class/net/eth0", 1);
	make("/images", 1);
	make("/images/g.img", 0);
	make("/images/locked.img", 0);
	{
		char	path[512];

		snprintf(path, sizeof(path), "%s/images/locked.img", root);
		chmod(path, 0);
	}
	rc = unit_run("xen_preflight", tests, sizeof(tests) / sizeof(tests[0]));
	if (fork() == 0)
		execlp("rm", "rm", "-rf", root, (char *)NULL);
	return rc;
}
