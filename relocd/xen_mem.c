// SPDX-License-Identifier: ISC
/*
 * The xen backend's answer to "how much memory could this host give a
 * guest": the hypervisor's free memory plus what dom0 would give back.
 *
 * On a dom0 that autoballoons (xl.conf's default, "auto", which means on
 * unless Xen's command line fixes dom0_mem=), dom0 holds nearly all the
 * host's memory and Xen's free memory is near zero; xl's freemem() then
 * lowers dom0's balloon target to make room before it builds a guest.
 * So the memory available is libxl_get_free_memory() (which already
 * leaves libxl's free-memory slack aside) plus dom0's current target
 * above the floor libxl_set_memory_target() refuses to go below, 128
 * MiB (LIBXL_MIN_DOM0_MEM in libxl_internal.h, not exported).  With
 * dom0_mem= on Xen's command line, xl does not balloon: only the free
 * memory counts.
 *
 * XXX an explicit autoballoon="on" or "off" in /etc/xen/xl.conf is not
 * read: the "auto" rule decides.  Runs in the worker (root).
 */
#include <string.h>

#include "xen.h"

/* libxl's floor for dom0's balloon target, in KiB (LIBXL_MIN_DOM0_MEM). */
#define XEN_DOM0_MIN_KB		(128 * 1024)

/* Whether xl would balloon dom0 down to make room (autoballoon "auto"). */
static int
xen_dom0_balloons(struct xen *x)
{
	const libxl_version_info	*vi = libxl_get_version_info(x->ctx);
	const char			*c;

	if (vi == NULL || vi->commandline == NULL)
		return 0;	/* not known: count only what is free */
	for (c = vi->commandline; (c = strstr(c, "dom0_mem=")) != NULL; c++)
		if (c == vi->commandline || c[-1] == ' ')
			return 0;
	return 1;
}

int
xen_mem_available(struct xen *x, uint64_t *bytes_r, struct backend_error *err)
{
	uint64_t	free_kb = 0, target_kb = 0, reclaim_kb = 0;

	if (libxl_get_free_memory(x->ctx, &free_kb) != 0)
		return backend_fail(err, BE_INTERNAL, "libxl cannot tell the "
		    "free memory");
	/* No target known: dom0's share is not counted, nothing fails. */
	if (xen_dom0_balloons(x) &&
	    libxl_get_memory_target(x->ctx, 0, &target_kb) == 0 &&
	    target_kb > XEN_DOM0_MIN_KB)
		reclaim_kb = target_kb - XEN_DOM0_MIN_KB;
	*bytes_r = (free_kb + reclaim_kb) * 1024;
	return 0;
}
