// SPDX-License-Identifier: ISC
/*
 * Pre-flight for an incoming guest (see xen_preflight.h): the host
 * facts a source sends (same Xen version, CPU features the destination
 * can give, clocks that agree) and the devices the guest's configuration
 * names.  A
 * bridge exists when /sys/class/net/NAME/bridge does; a disk when its
 * path does.  Each failure is one sentence naming the guest, the device
 * and what to do.
 *
 * Runs in the destination worker and, for formatting, the source's.  The
 * facts string comes from a peer: it is parsed strictly, every number
 * bounded.  Device names come from a config libxl has already parsed,
 * and only ever reach stat(2).
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen_preflight.h"

static int
exists(const char *root, const char *a, const char *b, const char *c)
{
	char		path[1024];
	struct stat	st;
	int		n;

	n = snprintf(path, sizeof(path), "%s%s%s%s", root, a, b, c);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	return stat(path, &st) == 0;
}

int
xen_preflight_devices(const char *root, const char *guest,
    const char *const *bridges, size_t nbridges, const char *const *disks,
    size_t ndisks, char *why, size_t why_max)
{
	size_t	i;

	for (i = 0; i < nbridges; i++) {
		if (bridges[i] == NULL || bridges[i][0] == '\0')
			continue;
		/* A name with a slash could point anywhere under /sys. */
		if (strchr(bridges[i], '/') != NULL ||
		    !exists(root, "/sys/class/net/", bridges[i], "/bridge")) {
			snprintf(why, why_max, "%s's network interface %zu "
			    "joins bridge %s, which does not exist on this "
			    "host; create it or change the guest's vif", guest,
			    i, bridges[i]);
			return -1;
		}
	}
	for (i = 0; i < ndisks; i++) {
		if (disks[i] == NULL || disks[i][0] != '/')
			continue;
		if (!exists(root, disks[i], "", "")) {
			snprintf(why, why_max, "%s's disk %s is not present on "
			    "this host; make the same storage available here "
			    "(shared storage, or copy it) before migrating",
			    guest, disks[i]);
			return -1;
		}
	}
	return 0;
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
