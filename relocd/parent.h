/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_PARENT_H
#define RELOCD_PARENT_H

#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "bounds.h"
#include "ctl.h"
#include "listen.h"
#include "proc.h"
#include "proto.h"

struct conf;
struct tls_ctx;

enum child_kind {
	CHILD_NET,
	CHILD_WORKER
};

struct child {
	pid_t		 pid;		/* 0: free slot */
	int		 kind;		/* enum child_kind */
	int		 fd;		/* message socket */
	char		 ip[64];
	int		 authenticated;
	uint64_t	 started_ms;
	int		 job;		/* index into jobs, or -1 */
	int		 ctl;		/* control client it answers, or -1 */
	char		*reply;		/* ctl answer being built */
	size_t		 reply_len;
	size_t		 reply_size;
};

enum job_state {
	JOB_FREE,
	JOB_RESERVING,
	JOB_RESERVED,
	JOB_ENDED
};

struct job {
	int		 state;		/* enum job_state */
	char		 id[MIG_ID_LEN + 1];
	struct guest_info guest;
	char		 peer[64];
	pid_t		 net_pid;
	pid_t		 worker_pid;
	int		 data_wr;	/* pipe end for the net child, or -1 */
	uint64_t	 started_ms;
	char		 result[PROTO_TEXT_MAX + 1];
};

struct ctl_client {
	int		 fd;		/* -1: free */
	char		 buf[PROTO_FRAME_HDR + CTL_MSG_MAX];
	size_t		 len;
	int		 busy;		/* a worker is answering for it */
};

struct parent {
	const char		*config_path;
	const char		*backend_override;
	int			 verbose;
	struct conf		*conf;
	struct tls_ctx		*tls;
	struct proc_identity	 id;
	char			 hostname[256];
	struct listener		 listeners[LISTENERS_MAX];
	size_t			 nlisteners;
	int			 ctl_fd;
	struct ctl_client	 ctl[CTL_CLIENTS_MAX];
	struct child		 children[CHILDREN_MAX];
	struct job		 jobs[JOBS_MAX];
	int			 sigpipe[2];
	int			 stopping;
	uint64_t		 stop_deadline;
};

int	parent_start(struct parent *);
void	parent_run(struct parent *) __attribute__((noreturn));

/* ctl requests, served by the parent (parent_ctl.c). */
void	parent_ctl_accept(struct parent *);
void	parent_ctl_read(struct parent *, int);
void	parent_ctl_reply(struct parent *, int, const char *);
void	parent_ctl_close(struct parent *, int);
struct msg_result;
struct msg_guest;
void	parent_ctl_worker_done(struct parent *, struct child *,
	    const struct msg_result *);
void	parent_ctl_worker_guest(struct parent *, struct child *,
	    const struct msg_guest *);
void	parent_ctl_worker_gone(struct parent *, struct child *);

struct child *parent_child_new(struct parent *, pid_t, int, int);
struct child *parent_child_find(struct parent *, pid_t);
int	parent_spawn_worker(struct parent *, int, int, int *, pid_t *);
void	parent_child_kill(struct child *, const char *);
uint64_t parent_now_ms(void);
int	parent_load_tls(const struct conf *, struct tls_ctx **, char *, size_t);

#endif /* RELOCD_PARENT_H */
