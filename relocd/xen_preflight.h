/* SPDX-License-Identifier: ISC */
/*
 * Checks a destination makes before it accepts a guest, on what the
 * guest's configuration names: the bridges its vifs join and the disk
 * images or devices it opens must exist here (the seeds' manual
 * checklist).  Pure: given names and a root directory, so the unit
 * tests can run it against a made-up /sys and filesystem.
 */
#ifndef RELOCD_XEN_PREFLIGHT_H
#define RELOCD_XEN_PREFLIGHT_H

#include <stddef.h>

/*
 * root is prefixed to every path looked at ("" on a real host).  NULL
 * or empty names are skipped (libxl's defaults), as are disk targets
 * that are not absolute paths (e.g. a network block script's target).
 * Returns 0, or -1 with one sentence in why.
 */
int	xen_preflight_devices(const char *, const char *, const char *const *,
	    size_t, const char *const *, size_t, char *, size_t);

#endif /* RELOCD_XEN_PREFLIGHT_H */
