// SPDX-License-Identifier: ISC
/*
 * Device pre-flight for an incoming guest (see xen_preflight.h).  A
 * bridge exists when /sys/class/net/NAME/bridge does; a disk when its
 * path does.  Each failure is one sentence naming the guest, the device
 * and what to do.
 *
 * Runs in the destination worker; the names come from a peer's config
 * that libxl has already parsed, and only ever reach stat(2).
 */
#include <sys/stat.h>

#include <stdio.h>
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
