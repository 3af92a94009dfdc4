// SPDX-License-Identifier: ISC
/*
 * What the pre-flight reads from a guest's libxl configuration: the
 * fields that make a guest unmigratable (the source's refusals) and the
 * bridges and disks it names (the destination's checks).  Only the
 * extraction lives here; the verdicts are xen_preflight.c's, which the
 * unit tests drive without libxl.
 *
 * Runs in the worker (root).
 */
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "xen.h"
#include "xen_preflight.h"

/*
 * Source, before anything is reserved: what in the guest's own config
 * stops any migration (xen_preflight_migratable says why each does).
 */
int
xen_config_migratable(const libxl_domain_config *d, const char *guest,
    struct check_list *l, struct backend_error *err)
{
	struct xen_blockers	b;

	memset(&b, 0, sizeof(b));
	b.pci = d->num_pcidevs > 0 ? (unsigned int)d->num_pcidevs : 0;
	b.dtdev = d->num_dtdevs > 0 ? (unsigned int)d->num_dtdevs : 0;
	b.vnuma = d->b_info.num_vnuma_nodes > 0 ?
	    (unsigned int)d->b_info.num_vnuma_nodes : 0;
	b.usb = d->num_usbdevs > 0 ? (unsigned int)d->num_usbdevs : 0;
	b.vtpm = d->num_vtpms > 0 ? (unsigned int)d->num_vtpms : 0;
	b.disable_migrate = libxl_defbool_is_default(d->b_info.disable_migrate)
	    ? 0 : libxl_defbool_val(d->b_info.disable_migrate);
	if (xen_preflight_migratable(guest, &b, l) > 0)
		return backend_fail_checks(err, BE_UNSUPPORTED, l);
	return 0;
}

/*
 * The bridges and disks the guest's config names must be here: each is
 * a finding in l, and every one is checked, whatever failed before.
 * -1 only if it could not look.
 */
int
xen_config_devices(const libxl_domain_config *d, struct check_list *l,
    struct backend_error *err)
{
	const char	**bridges = NULL, **disks = NULL;
	int		  i, rc = -1;

	bridges = calloc((size_t)d->num_nics + 1, sizeof(*bridges));
	disks = calloc((size_t)d->num_disks + 1, sizeof(*disks));
	if (bridges == NULL || disks == NULL) {
		backend_fail(err, BE_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < d->num_nics; i++)
		bridges[i] = d->nics[i].bridge;
	for (i = 0; i < d->num_disks; i++)
		disks[i] = d->disks[i].pdev_path;
	(void)xen_preflight_devices("", bridges, (size_t)d->num_nics, disks,
	    (size_t)d->num_disks, l);
	rc = 0;
out:
	free(bridges);
	free(disks);
	return rc;
}
