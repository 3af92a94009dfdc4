/* SPDX-License-Identifier: ISC */
/*
 * The xen backend's private state, shared by backend_xen.c (guests,
 * lifecycle, the receiving side) and xen_save.c (the sending side).
 */
#ifndef RELOCD_XEN_H
#define RELOCD_XEN_H

#include <stdint.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xenctrl.h>
#include <xenguest.h>
#include <xenstore.h>

#include "backend.h"
#include "checks.h"
#include "xen_xl.h"

/* relocd-xl-command's default: xl, looked up on PATH. */
#define XEN_XL_PATH_DEFAULT	"xl"
/* How long a guest may take to honour control/shutdown=suspend. */
#define XEN_SUSPEND_TIMEOUT_MS	(60 * 1000)
/* How long xl may take to build the guest after the stream's end. */
#define XEN_RESTORE_TIMEOUT_MS	(10 * 60 * 1000)
#define XEN_GO_TIMEOUT_MS	(2 * 60 * 1000)

struct xen {
	xentoollog_logger_stdiostream	*logger;
	libxl_ctx			*ctx;
	xc_interface			*xch;
	struct xs_handle		*xsh;
	char				 xl_path[256];
	/* Destination: the guest being received, and its xl. */
	struct guest_info		 incoming;
	char				*incoming_config;	/* JSON */
	struct xen_xl			 xl;
	/* The credit cap the guest had before we throttled it. */
	int				 saved_cap;
	int				 capped;
};

extern const struct backend_ops	backend_xen_ops;

/* backend_xen.c */
int	xen_find(struct xen *, const char *, uint32_t *, libxl_dominfo *,
	    struct backend_error *);
void	xen_info_from(struct xen *, const libxl_dominfo *,
	    struct guest_info *);
/* xen_config.c: the pre-flight's fields of a guest's config */
int	xen_config_migratable(const libxl_domain_config *, const char *,
	    struct check_list *, struct backend_error *);
int	xen_config_devices(const libxl_domain_config *, struct check_list *,
	    struct backend_error *);
/* xen_mem.c: free memory and what dom0 would give back */
int	xen_mem_available(struct xen *, uint64_t *, struct backend_error *);
/*
 * Whether xl balloons dom0 down for a guest: xl.conf's autoballoon
 * SETTING ("on", "off", "1", "0", "auto"; NULL: "auto") and Xen's
 * command line (NULL: not known).
 */
int	xen_mem_autoballoon(const char *, const char *);
/* xen_save.c */
int	xen_save(void *, const char *, int, unsigned int,
	    const struct backend_save_callbacks *, struct backend_save_result *,
	    struct backend_error *);

#endif /* RELOCD_XEN_H */
