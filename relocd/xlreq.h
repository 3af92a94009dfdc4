/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_XLREQ_H
#define RELOCD_XLREQ_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/*
 * What an xl plugin may ask for, as numbers: the only flags of
 * "xl [-t] [-T] [-v...] migrate-receive [-e] [-d] [-p]".  This struct,
 * never the words a peer sent, travels between relocd's processes, and
 * the worker builds xl's argv from it.
 */
struct xl_flags {
	uint32_t	 tty;		/* -t: progress lines end in \r */
	uint32_t	 timestamps;	/* -T: timestamps in xl's log */
	uint32_t	 verbose;	/* -v count, 0..XL_VERBOSE_MAX */
	uint32_t	 no_daemon;	/* -e: no monitoring daemon */
	uint32_t	 debug;		/* -d */
	uint32_t	 paused;	/* -p: leave the guest paused */
};

/* xl's argv: "xl", four global flags, the command, three flags, NULL. */
#define XLREQ_ARGV_MAX	10

typedef char	xlreq_word[XL_ARG_MAX + 1];

int	xlreq_parse(const xlreq_word *, size_t, struct xl_flags *, char *,
	    size_t);
int	xlreq_valid(const struct xl_flags *);
size_t	xlreq_argv(const struct xl_flags *, const char *, const char **);
void	xlreq_format(const struct xl_flags *, char *, size_t);
void	xlreq_words_format(const xlreq_word *, size_t, char *, size_t);

#endif /* RELOCD_XLREQ_H */
