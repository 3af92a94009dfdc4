/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_SXP_H
#define RELOCD_SXP_H

#include <stddef.h>

enum sxp_type {
	SXP_LIST,
	SXP_ATOM,
	SXP_STRING
};

struct sxp_node {
	enum sxp_type	 type;
	int		 line;		/* 1-based line where it starts */
	char		*text;		/* atoms and strings, NUL-terminated */
	size_t		 len;		/* length of text; strings may hold NUL */
	struct sxp_node	*first;		/* lists: first child */
	struct sxp_node	*next;		/* next sibling */
};

struct sxp_error {
	int		 line;
	char		 msg[160];
};

int	 sxp_parse(const char *, size_t, struct sxp_node **,
	    struct sxp_error *);
int	 sxp_parse_bounded(const char *, size_t, size_t, struct sxp_node **,
	    struct sxp_error *);
void	 sxp_free(struct sxp_node *);
int	 sxp_quote(const char *, size_t, char *, size_t);

#endif /* RELOCD_SXP_H */
