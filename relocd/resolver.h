/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_RESOLVER_H
#define RELOCD_RESOLVER_H

#include <sys/types.h>

#include <stddef.h>

struct proc_identity;

/* The resolver's message socket to the parent, after its exec. */
#define RESOLVER_FD	3

pid_t	resolver_spawn(const struct proc_identity *, int, int, char *, size_t);
int	resolver_main(void);

#endif /* RELOCD_RESOLVER_H */
