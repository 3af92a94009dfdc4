/* SPDX-License-Identifier: ISC */
/*
 * A list of pre-flight findings: what a check looked at and what it
 * found, one sentence each ("bridge xenbr0: present", or a failure that
 * says what to do next).  The xen pre-flight (xen_preflight.c) fills
 * it; workers, the parent and the network children carry it in typed
 * fields (msg.h, proto.h); relocctl shows it.  A finding's ok flag is
 * the outcome, its text only for people: nothing decides on the text.
 */
#ifndef RELOCD_CHECKS_H
#define RELOCD_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

struct sxp_node;

struct check {
	int32_t		 ok;		/* 1: passed; 0: failed */
	char		 text[PROTO_TEXT_MAX + 1];
};

struct check_list {
	uint32_t	 n;
	struct check	 item[CHECKS_MAX];
};

/*
 * Adds a finding (text cut to fit, and marked so).  A full list drops
 * a passed check for a failure, else the new finding.
 */
void	checks_add(struct check_list *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
unsigned int checks_failed(const struct check_list *);
/* The first failure's text, or NULL. */
const char *checks_first_failure(const struct check_list *);
/* Each failure's text becomes "PREFIX: text" (cut to fit). */
void	checks_prefix_failures(struct check_list *, const char *);
/* From another process: n bounded, every string terminated. */
void	checks_terminate(struct check_list *);
/*
 * Appends " (checks (check (ok yes) (text '...')) ...)" at *off; nothing
 * for an empty list.  -1 if it does not fit.
 */
int	checks_format(const struct check_list *, char *, size_t, size_t *);
/*
 * The (checks ...) field of message list msg, if any, into the list
 * (left empty without one).  -1 if it is malformed: not a list of
 * (check (ok yes|no) (text T)), more than CHECKS_MAX, or a text that
 * is too long or holds a NUL.
 */
int	checks_parse(const struct sxp_node *, struct check_list *);

#endif /* RELOCD_CHECKS_H */
