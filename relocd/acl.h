/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_ACL_H
#define RELOCD_ACL_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

/* hosts-allow: anchored PCRE2 patterns, xend's re.match semantics. */
struct acl;

struct acl	*acl_hosts_new(void);
int		 acl_hosts_add(struct acl *, const char *, char *, size_t);
size_t		 acl_hosts_count(const struct acl *);
const char	*acl_hosts_pattern(const struct acl *, size_t);
bool		 acl_hosts_names(const struct acl *);
bool		 acl_hosts_match(const struct acl *, const char *,
		    const char *);
void		 acl_hosts_free(struct acl *);

/* The peer's address as text and its forward-confirmed name, if any. */
int		 acl_peer_ip(const struct sockaddr *, socklen_t, char *,
		    size_t);
int		 acl_peer_confirmed_name(const struct sockaddr *, socklen_t,
		    char *, size_t);

/* relocd-peers-allow: certificate names, exact or "*.suffix". */
struct acl_names;

struct acl_names *acl_names_new(void);
int		 acl_names_add(struct acl_names *, const char *, char *,
		    size_t);
size_t		 acl_names_count(const struct acl_names *);
const char	*acl_names_entry(const struct acl_names *, size_t);
bool		 acl_names_match(const struct acl_names *,
		    const char *const *, size_t);
void		 acl_names_free(struct acl_names *);

#endif /* RELOCD_ACL_H */
