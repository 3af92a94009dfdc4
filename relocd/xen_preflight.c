// SPDX-License-Identifier: ISC
/*
 * Pre-flight for an incoming guest (see xen_preflight.h): the host
 * facts a source sends (same Xen version, CPU features the destination
 * can give, clocks that agree) and the devices the guest's configuration
 * names, and on the source what in a guest's config stops any
 * migration.  A bridge exists when /sys/class/net/NAME/bridge does; a
 * disk when its path opens.  Every device is checked and each one is a
 * finding (checks.h): "bridge xenbr0: present", or one sentence naming
 * the device and what to do.
 *
 * Runs in the destination worker and, for formatting, the source's.  The
 * facts string comes from a peer: it is parsed strictly, every number
 * bounded.  Device names come from a config libxl has already parsed,
 * and only ever reach stat(2) and access(2).
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xen_preflight.h"

/* ROOT + a + b + c into path; -1 if it does not fit. */
static int
path_of(char *path, size_t size, const char *root, const char *a,
    const char *b, const char *c)
{
	int	n;

	n = snprintf(path, size, "%s%s%s%s", root, a, b, c);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
exists(const char *root, const char *a, const char *b, const char *c)
{
	char		path[1024];
	struct stat	st;

	return path_of(path, sizeof(path), root, a, b, c) == 0 &&
	    stat(path, &st) == 0;
}

/* One bridge: a vif joins it, so it must exist here and be a bridge. */
static unsigned int
check_bridge(const char *root, const char *br, struct check_list *l)
{
	/* A name with a slash could point anywhere under /sys. */
	if (strchr(br, '/') != NULL || strcmp(br, ".") == 0 ||
	    strcmp(br, "..") == 0) {
		checks_add(l, 0, "bridge %s is no valid interface name: change "
		    "the guest's vif", br);
		return 1;
	}
	if (exists(root, "/sys/class/net/", br, "/bridge")) {
		checks_add(l, 1, "bridge %s: present", br);
		return 0;
	}
	if (exists(root, "/sys/class/net/", br, ""))
		checks_add(l, 0, "%s here is a network interface but not a "
		    "bridge: make it one (ip link add NAME type bridge, then "
		    "enslave %s) or change the guest's vif", br, br);
	else
		checks_add(l, 0, "bridge %s does not exist here: create it (ip "
		    "link add %s type bridge, or brctl addbr %s) or change the "
		    "guest's vif", br, br, br);
	return 1;
}

/*
 * One disk: the path must be there and readable.  access(2), never
 * open(2): the path is a peer's, and opening some devices does
 * something (a watchdog starts).  On NFS it asks the server, so an
 * export that squashes root is caught here, where libxl's hotplug
 * script would only fail later.
 */
static unsigned int
check_disk(const char *root, const char *disk, struct check_list *l)
{
	char		path[1024];
	struct stat	st;

	if (path_of(path, sizeof(path), root, disk, "", "") == -1 ||
	    stat(path, &st) == -1) {
		checks_add(l, 0, "disk %s does not exist here: make the same "
		    "storage visible here (shared storage, or a copy) or "
		    "change the guest's disk", disk);
		return 1;
	}
	if (S_ISDIR(st.st_mode)) {
		checks_add(l, 0, "disk %s is a directory here, not an image or "
		    "a device: make the guest's storage visible at that path",
		    disk);
		return 1;
	}
	if (access(path, R_OK) == -1) {
		checks_add(l, 0, "disk %s is here but not readable (%s): fix "
		    "its permissions or the export's options (root_squash)",
		    disk, strerror(errno));
		return 1;
	}
	checks_add(l, 1, "disk %s: present", disk);
	return 0;
}

unsigned int
xen_preflight_devices(const char *root, const char *const *bridges,
    size_t nbridges, const char *const *disks, size_t ndisks,
    struct check_list *l)
{
	unsigned int	failed = 0;
	size_t		i;

	for (i = 0; i < nbridges; i++)
		if (bridges[i] != NULL && bridges[i][0] != '\0')
			failed += check_bridge(root, bridges[i], l);
	for (i = 0; i < ndisks; i++)
		if (disks[i] != NULL && disks[i][0] == '/')
			failed += check_disk(root, disks[i], l);
	return failed;
}

/*
 * What stops a migration whatever the destination, as libxl and Xen
 * 4.17 decide it (read in xen-project/xen):
 *  - vNUMA: libxl__domain_save (tools/libs/light/libxl_dom_save.c)
 *    refuses a guest with any vNUMA configuration, because the stream
 *    does not carry the node layout;
 *  - disable_migrate: libxl applies it with xc_domain_disable_migrate
 *    (XEN_DOMCTL_disable_migrate), the guest's own "never move me";
 *  - PCI passthrough: Xen will not turn on log-dirty paging for a
 *    domain with assigned devices (their DMA writes would go unseen),
 *    so the save fails after the destination was set up; xl has no
 *    check of its own, which is why relocd makes it here;
 *  - device-tree passthrough is ARM's, and migration is x86 only in
 *    Xen 4.17 (docs/features/migration.pandoc).
 *  - USB host passthrough and vTPM: nothing in libxl 4.17's save path
 *    refuses them, yet neither moves.  A usbdev is a port of this host's
 *    USB bus, and a vTPM's backend is a domain (and its state) on this
 *    host, so the guest would wake on the destination with a frontend
 *    whose backend stayed behind.  relocd refuses them before anything
 *    is reserved rather than leave that to be found in the guest.
 */
unsigned int
xen_preflight_migratable(const char *guest, const struct xen_blockers *b,
    struct check_list *l)
{
	unsigned int	failed = 0;

	if (b->pci > 0) {
		checks_add(l, 0, "%s has %u PCI device%s passed through, and "
		    "Xen cannot migrate a guest with assigned devices: detach "
		    "%s first (xl pci-detach) or move the guest cold", guest,
		    b->pci, b->pci == 1 ? "" : "s", b->pci == 1 ? "it" : "them");
		failed++;
	}
	if (b->disable_migrate) {
		/* xl.cfg(5) calls it nomigrate; libxl, disable_migrate. */
		checks_add(l, 0, "%s's config sets nomigrate (libxl's "
		    "disable_migrate), so it must not be migrated: remove it "
		    "from the config and restart the guest, or move the guest "
		    "cold", guest);
		failed++;
	}
	if (b->dtdev > 0) {
		checks_add(l, 0, "%s has %u device-tree device%s passed "
		    "through, and Xen migrates no such guest: move it cold",
		    guest, b->dtdev, b->dtdev == 1 ? "" : "s");
		failed++;
	}
	if (b->usb > 0) {
		checks_add(l, 0, "%s has %u host USB device%s passed through, "
		    "which stay%s on this host: detach %s first (xl "
		    "usbdev-detach) or move the guest cold", guest, b->usb,
		    b->usb == 1 ? "" : "s", b->usb == 1 ? "s" : "",
		    b->usb == 1 ? "it" : "them");
		failed++;
	}
	if (b->vtpm > 0) {
		checks_add(l, 0, "%s has %u vTPM%s, whose backend domain and "
		    "state stay on this host: detach %s first (xl vtpm-detach) "
		    "or move the guest cold", guest, b->vtpm,
		    b->vtpm == 1 ? "" : "s", b->vtpm == 1 ? "it" : "them");
		failed++;
	}
	if (b->vnuma > 0) {
		checks_add(l, 0, "%s has a vNUMA layout, which libxl cannot "
		    "save: remove vnuma= from its config and restart it, or "
		    "move the guest cold", guest);
		failed++;
	}
	return failed;
}

int
xen_preflight_device_model(const char *root, const char *guest,
    const char *dm, char *why, size_t why_max)
{
	if (dm == NULL || dm[0] == '\0')
		dm = XEN_QEMU_XEN_PATH;
	if (dm[0] == '/' && exists(root, dm, "", ""))
		return 0;
	snprintf(why, why_max, "%s is an HVM guest and needs QEMU's device "
	    "model %s, which this host does not have; install the "
	    "qemu-system-xen package here", guest, dm);
	return -1;
}

int
xen_facts_format(const struct xen_facts *f, char *buf, size_t max)
{
	size_t		 off;
	unsigned int	 i;
	int		 n;

	n = snprintf(buf, max, "xen=%d.%d clock=%" PRIu64 " cpu=", f->major,
	    f->minor, f->clock_ms);
	if (n < 0 || (size_t)n >= max)
		return -1;
	off = (size_t)n;
	for (i = 0; i < f->ncpu; i++) {
		n = snprintf(buf + off, max - off, "%s%08" PRIx32,
		    i ? "," : "", f->cpu[i]);
		if (n < 0 || (size_t)n >= max - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* A number in base 10 or 16 (lower case), no sign, no blanks. */
static int
parse_u64(const char **pp, int base, uint64_t max, uint64_t *v_r)
{
	const char		*digits = base == 10 ? "0123456789" :
				    "0123456789abcdef";
	char			*end;
	unsigned long long	 v;

	if (**pp == '\0' || strchr(digits, **pp) == NULL)
		return -1;
	errno = 0;
	v = strtoull(*pp, &end, base);
	if (errno != 0 || v > max)
		return -1;
	*pp = end;
	*v_r = v;
	return 0;
}

int
xen_facts_parse(const char *s, struct xen_facts *f)
{
	uint64_t	v;

	memset(f, 0, sizeof(*f));
	if (strncmp(s, "xen=", 4) != 0)
		return -1;
	s += 4;
	if (parse_u64(&s, 10, 255, &v) == -1 || *s++ != '.')
		return -1;
	f->major = (int)v;
	if (parse_u64(&s, 10, 255, &v) == -1)
		return -1;
	f->minor = (int)v;
	if (strncmp(s, " clock=", 7) != 0)
		return -1;
	s += 7;
	if (parse_u64(&s, 10, UINT64_MAX / 2, &f->clock_ms) == -1 ||
	    strncmp(s, " cpu=", 5) != 0)
		return -1;
	s += 5;
	while (*s != '\0') {
		if (f->ncpu == XEN_FACTS_CPU_WORDS ||
		    parse_u64(&s, 16, UINT32_MAX, &v) == -1)
			return -1;
		f->cpu[f->ncpu++] = (uint32_t)v;
		if (*s == ',' && s[1] != '\0')
			s++;
		else if (*s != '\0')
			return -1;
	}
	return 0;
}

static unsigned int
cpu_missing(const struct xen_facts *src, const struct xen_facts *here)
{
	unsigned int	i, n = 0;
	uint32_t	have;

	for (i = 0; i < src->ncpu; i++) {
		have = i < here->ncpu ? here->cpu[i] : 0;
		n += (unsigned int)__builtin_popcount(src->cpu[i] & ~have);
	}
	return n;
}

int
xen_facts_compare(const struct xen_facts *src, const struct xen_facts *here,
    uint64_t now_ms, char *why, size_t why_max, char *warn, size_t warn_max)
{
	uint64_t	skew;
	unsigned int	missing;

	warn[0] = '\0';
	if (src->major != here->major || src->minor != here->minor) {
		snprintf(why, why_max, "the source runs Xen %d.%d and this host "
		    "Xen %d.%d; relocd migrates only between hosts of the same "
		    "Xen version", src->major, src->minor, here->major,
		    here->minor);
		return -1;
	}
	if ((missing = cpu_missing(src, here)) > 0) {
		snprintf(why, why_max, "this host's CPU lacks %u feature%s that "
		    "guests get on the source, so Xen would refuse the guest at "
		    "the end of the copy; level the guests' CPUID (cpuid= in "
		    "their config) or use matching hosts", missing,
		    missing == 1 ? "" : "s");
		return -1;
	}
	skew = now_ms > src->clock_ms ? now_ms - src->clock_ms :
	    src->clock_ms - now_ms;
	if (skew > XEN_CLOCK_SKEW_MAX_MS) {
		snprintf(why, why_max, "the clocks of the two hosts differ by "
		    "%" PRIu64 " s; the guest's clock would jump: synchronise "
		    "them (NTP) first", skew / 1000);
		return -1;
	}
	if (skew > XEN_CLOCK_SKEW_WARN_MS)
		snprintf(warn, warn_max, "the clocks of the two hosts differ by "
		    "about %" PRIu64 " s; check NTP", skew / 1000);
	return 0;
}
