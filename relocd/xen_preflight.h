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
#include <stdint.h>

#include "checks.h"

#define XEN_FACTS_CPU_WORDS	32
/* Past this, a guest's clock would visibly jump: refuse. */
#define XEN_CLOCK_SKEW_MAX_MS	(60 * 1000)
/* Past this, warn (the figure includes the connection's set-up). */
#define XEN_CLOCK_SKEW_WARN_MS	(5 * 1000)

/*
 * What a source says about its host in a reservation (the "facts"
 * field): Xen's version, its clock, and the CPU features a guest of
 * this type gets by default there.
 */
struct xen_facts {
	int		 major;
	int		 minor;
	uint64_t	 clock_ms;		/* CLOCK_REALTIME */
	uint32_t	 cpu[XEN_FACTS_CPU_WORDS];
	unsigned int	 ncpu;
};

/* "xen=4.17 clock=MS cpu=hex,hex,..." */
int	xen_facts_format(const struct xen_facts *, char *, size_t);
int	xen_facts_parse(const char *, struct xen_facts *);
/*
 * The destination's verdict: src's facts against this host's (whose cpu
 * words are the most a guest may have here).  -1 with one sentence in
 * why; 0, possibly with a warning in warn (else warn is "").
 */
int	xen_facts_compare(const struct xen_facts *, const struct xen_facts *,
	    uint64_t, char *, size_t, char *, size_t);

/*
 * The destination's device checks, one finding each into the list
 * (checks.h): a bridge is there when ROOT/sys/class/net/NAME/bridge is,
 * a disk when ROOT/PATH opens for reading.  root is prefixed to every
 * path looked at ("" on a real host).  NULL or empty names are skipped
 * (libxl's defaults), as are disk targets that are not absolute paths
 * (e.g. a network block script's target).  Every device is checked,
 * whatever failed before it.  Returns how many failed.
 */
unsigned int	xen_preflight_devices(const char *, const char *const *,
		    size_t, const char *const *, size_t, struct check_list *);

/*
 * What in a guest's libxl config stops any migration, counted by
 * backend_xen.c from libxl_domain_config so that this stays pure.
 */
struct xen_blockers {
	unsigned int	 pci;		/* num_pcidevs */
	unsigned int	 dtdev;		/* num_dtdevs */
	unsigned int	 vnuma;		/* b_info.num_vnuma_nodes */
	int		 disable_migrate; /* b_info.disable_migrate */
	unsigned int	 usb;		/* num_usbdevs: host USB devices */
	unsigned int	 vtpm;		/* num_vtpms */
};

/*
 * The source's "cannot migrate at all" checks, before anything is
 * reserved: a failure into the list for each blocker.  Returns how many.
 */
unsigned int	xen_preflight_migratable(const char *,
		    const struct xen_blockers *, struct check_list *);

/*
 * libxenlight's default device model for HVM guests, as Debian builds it
 * (package qemu-system-xen).  A guest's device_model_override wins.
 */
#define XEN_QEMU_XEN_PATH	"/usr/libexec/xen-qemu-system-i386"

/*
 * An HVM guest needs its QEMU here: dm is the config's override (NULL or
 * empty for the default).  0, or -1 with one sentence in why.
 */
int	xen_preflight_device_model(const char *, const char *, const char *,
	    char *, size_t);

#endif /* RELOCD_XEN_PREFLIGHT_H */
