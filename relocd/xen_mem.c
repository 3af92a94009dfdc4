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
 * xl.conf's autoballoon decides as xl decides (xl.c's global config):
 * "on" or 1 balloons, "off" or 0 does not, "auto" (or no file, no key,
 * or a value xl rejects) follows dom0_mem=.  The file is read with
 * libxlutil, xl's own parser, so that its syntax is xl's exactly.  Runs
 * in the worker (root).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxlutil.h>

#include "log.h"
#include "util.h"
#include "xen.h"

/* xl's global configuration, where the autoballoon setting lives. */
#define XEN_XL_CONF		"/etc/xen/xl.conf"

/* libxl's floor for dom0's balloon target, in KiB (LIBXL_MIN_DOM0_MEM). */
#define XEN_DOM0_MIN_KB		(128 * 1024)

int
xen_mem_autoballoon(const char *setting, const char *cmdline)
{
	const char	*c;

	if (setting != NULL) {
		if (strcmp(setting, "on") == 0 || strcmp(setting, "1") == 0)
			return 1;
		if (strcmp(setting, "off") == 0 || strcmp(setting, "0") == 0)
			return 0;
	}
	/* "auto": on unless Xen's command line fixes dom0's memory. */
	if (cmdline == NULL)
		return 0;	/* not known: count only what is free */
	for (c = cmdline; (c = strstr(c, "dom0_mem=")) != NULL; c++)
		if (c == cmdline || c[-1] == ' ')
			return 0;
	return 1;
}

/*
 * xl.conf's autoballoon value into buf, or "" when the file or the key
 * is absent; a file xl could not read either is logged by name.
 */
static void
xen_xl_conf_autoballoon(char *buf, size_t size)
{
	XLU_Config	*cfg;
	const char	*v;
	int		 e;

	buf[0] = '\0';
	if ((cfg = xlu_cfg_init(stderr, XEN_XL_CONF)) == NULL)
		return;
	if ((e = xlu_cfg_readfile(cfg, XEN_XL_CONF)) != 0) {
		if (e != ENOENT)
			log_warnx("%s: %s; autoballoon taken as \"auto\"",
			    XEN_XL_CONF, strerror(e));
	} else if (xlu_cfg_get_string(cfg, "autoballoon", &v, 1) == 0) {
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0 &&
		    strcmp(v, "auto") != 0 && strcmp(v, "1") != 0 &&
		    strcmp(v, "0") != 0)
			log_warnx("%s: autoballoon is not on, off or auto; "
			    "taken as \"auto\", as xl does", XEN_XL_CONF);
		else if (strlcpy(buf, v, size) >= size)
			buf[0] = '\0';	/* a caller's buffer under 5 bytes */
	}
	xlu_cfg_destroy(cfg);
}

/* Whether xl would balloon dom0 down to make room for a guest. */
static int
xen_dom0_balloons(struct xen *x)
{
	const libxl_version_info	*vi = libxl_get_version_info(x->ctx);
	char				 setting[16];

	xen_xl_conf_autoballoon(setting, sizeof(setting));
	return xen_mem_autoballoon(setting[0] != '\0' ? setting : NULL,
	    vi != NULL ? vi->commandline : NULL);
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
