/* SPDX-License-Identifier: ISC */
/*
 * A writer thread for tests of read loops: it writes a buffer in odd
 * 1001-byte pieces (into a pipe, so every read comes back short), then
 * closes its end.  Start it with pthread_create(..., trickle_run, &t).
 */
#ifndef RELOCD_TRICKLE_H
#define RELOCD_TRICKLE_H

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "util.h"

#define TRICKLE_PIECE	1001

struct trickle {
	int		 fd;
	const uint8_t	*buf;
	size_t		 len;
};

static void *
trickle_run(void *arg)
{
	struct trickle	*t = arg;
	size_t		 off, n;

	for (off = 0; off < t->len; off += n) {
		n = t->len - off < TRICKLE_PIECE ? t->len - off :
		    TRICKLE_PIECE;
		if (util_write_all(t->fd, t->buf + off, n) == -1)
			break;
	}
	close(t->fd);
	return NULL;
}

#endif /* RELOCD_TRICKLE_H */
