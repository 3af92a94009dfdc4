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

/*
 * The one field lookup, for the daemon's requests, the peer protocol,
 * the workers' notes and relocctl: the value of the field (name value)
 * in list, much as xend's sxp.child_value read it.
 *
 *  - list's first element is its head ("migrate", "result", ...) and is
 *    never a field, whatever it holds; the fields are the lists after it
 *    whose own first element is the atom name;
 *  - the first such field decides.  If its value is missing, is a list,
 *    or holds a NUL byte (a string with \x00 or \000 in it, which C
 *    would read cut short), the answer is NULL and no later field of the
 *    same name is looked at: a duplicate never stands in for a field that
 *    was refused;
 *  - anything after the value, as in (name value extra), is ignored.
 *
 * Returns the value's text, NUL-terminated and free of NUL, or NULL (also
 * for a list that is NULL, empty or not a list).
 */
const char *sxp_field(const struct sxp_node *, const char *);
/*
 * The field (name ...) itself, by the same rules, or NULL: for a field
 * whose value is a list, and to tell a field that is absent from one
 * whose value sxp_field() refused.
 */
const struct sxp_node *sxp_field_node(const struct sxp_node *, const char *);

#endif /* RELOCD_SXP_H */
