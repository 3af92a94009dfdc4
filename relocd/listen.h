/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_LISTEN_H
#define RELOCD_LISTEN_H

#include <stddef.h>

struct conf;

struct listener {
	int	 fd;
	int	 use_tls;
	char	 where[96];		/* "[::]:8002", for logs */
};

int	listen_open(const struct conf *, struct listener *, size_t, size_t *,
	    char *, size_t);
void	listen_close(struct listener *, size_t);

#endif /* RELOCD_LISTEN_H */
