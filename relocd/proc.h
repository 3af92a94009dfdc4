/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_PROC_H
#define RELOCD_PROC_H

#include <sys/types.h>

#include <seccomp.h>

struct conf;

/* Who network children become; resolved by the parent at start. */
struct proc_identity {
	int		 drop;		/* 0 when not running as root */
	uid_t		 uid;
	gid_t		 gid;
	char		 chroot_dir[256];
};

int	proc_identity_setup(const struct conf *, struct proc_identity *,
	    char *, size_t);
int	proc_setuser(const struct proc_identity *, char *, size_t);
int	proc_sandbox_net(const struct proc_identity *, char *, size_t);
scmp_filter_ctx
	proc_seccomp_begin(const int *, size_t, int, char *, size_t);
int	proc_seccomp_load(scmp_filter_ctx, int, char *, size_t);
void	proc_no_dumps(void);
pid_t	proc_spawn(char, int, int, int);
pid_t	proc_spawn_fds(char, const int *, int, int);
int	proc_set_nonblock(int);
int	proc_under_valgrind(void);

#endif /* RELOCD_PROC_H */
