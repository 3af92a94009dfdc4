/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_KEYPROC_H
#define RELOCD_KEYPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The key process's control socket, when the parent execs it (-K). */
#define KEYPROC_CTL_FD	3

void	keyproc_main(int) __attribute__((noreturn));
bool	keyproc_tbs_ok(int, const uint8_t *, size_t);
int	keyproc_start_key(int, const char *, uint8_t *, size_t, size_t *,
	    char *, size_t);
int	keyproc_channel(int, int);

#endif /* RELOCD_KEYPROC_H */
