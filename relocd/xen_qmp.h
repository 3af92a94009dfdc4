/* SPDX-License-Identifier: ISC */
/*
 * A minimal client of QEMU's QMP, on the per-domain socket libxl gives
 * every qemu-xen device model (/var/run/xen/qmp-libxl-DOMID).  The
 * sender needs three things from an HVM guest's QEMU, the same three
 * libxl asks for (tools/libs/light/libxl_qmp.c, libxl_dom_save.c):
 * log-dirty tracking of QEMU's own writes to guest memory while
 * pre-copy runs, and at the end "stop" and its device state.
 *
 * Each call opens its own connection and closes it: QEMU serves one
 * client at a time on that socket, and libxl must find it free.
 */
#ifndef RELOCD_XEN_QMP_H
#define RELOCD_XEN_QMP_H

#include <stddef.h>
#include <stdint.h>

/* Where libxl puts the QMP socket of the device model of domid. */
#define XEN_QMP_PATH_FMT	"/var/run/xen/qmp-libxl-%u"
/* How long QEMU may take over one reply. */
#define XEN_QMP_REPLY_MS	(30 * 1000)

/* path for domid into buf; -1 if it does not fit. */
int	xen_qmp_path(uint32_t, char *, size_t);
/* xen-set-global-dirty-log: QEMU marks what it writes in Xen's bitmap. */
int	xen_qmp_set_dirty_log(const char *, int, char *, size_t);
/*
 * Stops QEMU and has it write its device state (not guest memory, which
 * Xen's stream carries) into fd, which must be open for writing only:
 * QEMU's fd sets match on the access mode.  The fd is passed over the
 * socket, so a device model running as another user can still write.
 * live is QMP's flag of the same name: true for a migration, false for
 * a save to a file.
 */
int	xen_qmp_save_devices(const char *, int, int, char *, size_t);

#endif /* RELOCD_XEN_QMP_H */
