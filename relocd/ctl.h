/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_CTL_H
#define RELOCD_CTL_H

#include <stddef.h>
#include <sys/types.h>

/* A control request or reply: one sxp message in one frame. */
#define CTL_MSG_MAX		(64 * 1024)

int	ctl_open(const char *, const char *, int *, char *, size_t);
int	ctl_peer_allowed(int, const char *, char *, size_t);
int	ctl_connect(const char *, char *, size_t);
int	ctl_write_frame(int, const char *, size_t);
ssize_t	ctl_read_frame(int, char *, size_t, int);
ssize_t	ctl_recv(int, void *, size_t, int *);
int	ctl_write_frame_fd(int, const char *, size_t, int);

#endif /* RELOCD_CTL_H */
