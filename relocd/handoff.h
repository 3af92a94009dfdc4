/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_HANDOFF_H
#define RELOCD_HANDOFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bounds.h"

/* The one-time token: as long as a migration id (proto_id_new). */
#define HANDOFF_TOKEN_LEN	32

/*
 * Descriptors the parent holds for a process systemd starts, until it
 * connects with the token.  token[0] == '\0': a free slot.
 */
struct handoff_slot {
	char		 token[HANDOFF_TOKEN_LEN + 1];
	int		 fds[HANDOFF_FDS_MAX];
	size_t		 nfds;
	uint64_t	 deadline_ms;
	int		 cookie;	/* the caller's: which job */
	char		 unit[HANDOFF_UNIT_NAME_MAX];	/* "" : any cgroup */
};

/* Who took a slot's descriptors. */
struct handoff_peer {
	pid_t		 pid;
	int		 cookie;
};

int	handoff_listen(const char *, int *, char *, size_t);
int	handoff_offer(struct handoff_slot *, size_t, const int *, size_t,
	    int, const char *, uint64_t, struct handoff_slot **);
int	handoff_serve(int, struct handoff_slot *, size_t,
	    struct handoff_peer *, char *, size_t);
int	handoff_expired(struct handoff_slot *, size_t, uint64_t);
void	handoff_drop(struct handoff_slot *);
int	handoff_fetch(const char *, const char *, int *, size_t, size_t *,
	    char *, size_t);
int	handoff_socket_path(const char *, char *, size_t);
int	handoff_unit_name(const char *, const char *, char *, size_t);
int	handoff_cgroup_is_unit(const char *, const char *);

#endif /* RELOCD_HANDOFF_H */
