/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_PARENT_H
#define RELOCD_PARENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "backend.h"
#include "bounds.h"
#include "ctl.h"
#include "handoff.h"
#include "listen.h"
#include "msg.h"
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
	char		 cert[PEER_NAME_MAX + 1];	/* its peer's name */
	int		 authenticated;
	uint64_t	 started_ms;
	int		 job;		/* index into jobs, or -1 */
	int		 ctl;		/* control client it answers, or -1 */
	int		 in_unit;	/* a worker systemd started for us */
	int		 pidfd;		/* its pidfd, or -1 */
	char		*reply;		/* ctl answer being built */
	size_t		 reply_len;
	size_t		 reply_size;
};

enum job_role {
	JOB_IN,			/* a peer migrates a guest to us */
	JOB_OUT,		/* we migrate a guest to a peer */
	JOB_LOCAL,		/* save, restore, sim-create, sim-destroy */
	JOB_XL			/* an xl plugin's xl migrate-receive */
};

enum job_state {
	JOB_FREE,
	JOB_STARTING,		/* source: the worker checks the guest */
	JOB_RESERVING,
	JOB_STREAMING,
	JOB_PREPARED,		/* image complete (source: and saved) */
	JOB_COMMITTED,		/* source copy no longer resumable */
	JOB_GO,			/* go sent / received */
	JOB_IN_DOUBT,		/* go sent, no answer: asking the peer */
	JOB_ENDED
};

struct job {
	int		 state;		/* enum job_state */
	int		 role;		/* enum job_role */
	const char	*what;		/* "migrate", "receive", "save", ... */
	char		 id[MIG_ID_LEN + 1];
	struct guest_info guest;
	char		 peer[256];
	int		 port;
	pid_t		 net_pid;
	pid_t		 worker_pid;
	int		 unit_fd;	/* worker's socket until its unit runs */
	int		 data_wr;	/* destination: pipe end for net, or -1 */
	int		 saved;		/* source: worker reported saved */
	int		 prepared;	/* source: destination said prepared */
	int		 checked;	/* source, check only: reserved fine */
	uint32_t	 protocol;	/* source: the destination's choice */
	/* Reserved: what the destination could give (msg_step). */
	uint64_t	 available;
	uint32_t	 available_known;
	/*
	 * Source: the stream's compression as its network child reports
	 * it (msg_stats): zstd accepted, and the stream's bytes against
	 * the bytes its data frames took on the wire.
	 */
	uint32_t	 compressed;
	uint64_t	 stream_bytes;
	uint64_t	 wire_bytes;
	int		 ctl;		/* control client watching, or -1 */
	uint64_t	 started_ms;
	uint64_t	 ended_ms;
	uint64_t	 progress_ms;	/* last progress sent to ctl */
	int		 target_told;	/* ctl has heard it is out of reach */
	uint64_t	 started_wall_ms;	/* its report's start time */
	uint64_t	 streaming_ms;	/* the stream began: setup is over */
	uint64_t	 saved_ms;	/* source: the stream's end */
	struct msg_stats stats;
	struct msg_policy policy;
	struct msg_reserve *desc;	/* source: what the worker described */
	int		 aborting;	/* the worker was told to abort */
	int		 queries;	/* in doubt: attempts so far */
	int		 query_limit;	/* attempts allowed; 0: the default */
	uint64_t	 next_query_ms;
	int		 resolve;	/* enum resolve_mode: relocctl resolve */
	int		 recoveries;	/* workers started after one died */
	int		 ok;
	int		 code;		/* enum proto_error of the outcome */
	char		 result[PROTO_TEXT_MAX + 1];
	/*
	 * The pre-flight's findings: the source worker's, then the
	 * destination's (relayed by the network child); relocctl gets them
	 * with the result, a destination's network child with "reserved".
	 */
	struct check_list checks;
	char		 cert[PEER_NAME_MAX + 1];	/* JOB_XL: the peer's */
	struct xl_flags	 xl;		/* JOB_XL */
	/* For the metrics (parent_metrics.c): typed, never the text. */
	int		 metered;	/* a migration: it counts */
	int		 cancelled;	/* relocctl cancel */
	int		 in_doubt;	/* ended in doubt, not yet resolved */
};

/* relocctl resolve: ask the destination, or the administrator's word. */
enum resolve_mode {
	RESOLVE_NONE,
	RESOLVE_ASK,
	RESOLVE_FORCE_RESUME,
	RESOLVE_FORCE_DESTROY
};

struct ctl_client {
	int		 fd;		/* -1: free */
	char		 buf[PROTO_FRAME_HDR + CTL_MSG_MAX];
	size_t		 len;
	int		 busy;		/* a worker or a job answers for it */
	int		 passed_fd;	/* a file relocctl opened for us, or -1 */
};

struct parent {
	const char		*config_path;
	const char		*backend_override;
	int			 verbose;
	struct conf		*conf;
	struct tls_ctx		*tls;
	int			 key_ctl;	/* the key process, or -1 */
	pid_t			 key_pid;
	/* Its public key, for the TLS context of each network child. */
	uint8_t			 key_pub[TLS_KEY_PUB_MAX];
	size_t			 key_publen;
	struct proc_identity	 id;
	char			 hostname[256];
	struct listener		 listeners[LISTENERS_MAX];
	size_t			 nlisteners;
	int			 ctl_fd;
	struct ctl_client	 ctl[CTL_CLIENTS_MAX];
	struct child		 children[CHILDREN_MAX];
	struct job		 jobs[JOBS_MAX];
	int			 sigpipe[2];
	struct admit		*admit;		/* parent_admit.c */
	int			 stopping;
	uint64_t		 stop_deadline;
	/* Receiving workers in units (parent_unit.c); -1: not used. */
	int			 unit_fd;
	int			 unit_via_cmd;
	struct handoff_slot	 handoffs[HANDOFF_SLOTS_MAX];
};

int	parent_start(struct parent *);
void	parent_run(struct parent *) __attribute__((noreturn));

/*
 * Jobs: the table (parent_job.c), the destination's side (parent_in.c)
 * and the source's (parent_out.c).
 */
struct job *parent_job_new(struct parent *, int, const char *);
void	parent_job_end(struct parent *, struct job *, int, int, const char *);
struct msg_worker_start *parent_worker_start_new(struct parent *, int,
	    const char *);
int	parent_job_start_worker(struct parent *, struct job *,
	    const struct msg_worker_start *, int, pid_t *);
void	parent_job_cmd(struct parent *, struct job *, int, int, const char *,
	    int);
void	parent_job_to_net(struct parent *, struct job *, int, int,
	    const char *, int);
void	parent_in_reserve(struct parent *, struct child *,
	    struct msg_reserve *);
void	parent_in_query(struct parent *, struct child *, struct msg_step *);
void	parent_in_net_step(struct parent *, struct job *,
	    const struct msg_step *);
void	parent_in_worker_step(struct parent *, struct job *,
	    const struct msg_step *);
void	parent_out_start(struct parent *, struct job *);
void	parent_out_worker_step(struct parent *, struct job *,
	    const struct msg_step *);
void	parent_out_worker_desc(struct parent *, struct job *,
	    struct msg_reserve *);
void	parent_out_net_step(struct parent *, struct job *,
	    const struct msg_step *);
void	parent_out_net_gone(struct parent *, struct job *);
void	parent_out_tick(struct parent *);
int	parent_job_cancel(struct parent *, const char *, char *, size_t);
void	parent_job_abort(struct parent *, struct job *, int, const char *);

/* Receiving workers in relocd-receive@ units (parent_unit.c). */
void	parent_unit_init(struct parent *);
bool	parent_unit_wanted(const struct parent *,
	    const struct msg_worker_start *);
int	parent_unit_start_worker(struct parent *, struct job *,
	    const struct msg_worker_start *, int);
void	parent_unit_accept(struct parent *);
void	parent_unit_tick(struct parent *);
bool	parent_unit_exited(struct child *, int *);
void	parent_unit_close(struct parent *);

/* SIGTERM: cancel what may still resume the source (parent_stop.c). */
void	parent_stop_begin(struct parent *);
void	parent_stop_maybe_exit(struct parent *);

/* xl plugin requests (parent_xl.c). */
struct msg_xl_receive;
void	parent_xl_request(struct parent *, struct child *,
	    struct msg_xl_receive *);
void	parent_xl_worker_step(struct parent *, struct job *,
	    const struct msg_step *);
/* A guest whose worker died, and relocctl resolve (parent_settle.c). */
int	parent_settle_worker_gone(struct parent *, struct job *, int);
void	parent_settle_note(struct parent *, struct job *,
	    struct msg_outgoing *);
int	parent_settle_step(struct parent *, struct job *,
	    const struct msg_step *);
int	parent_settle_resolve(struct parent *, struct job *, int, char *,
	    size_t);

/* ctl requests, served by the parent (parent_ctl.c). */
void	parent_ctl_progress(struct parent *, struct job *);
void	parent_ctl_result(struct parent *, struct job *);
void	parent_ctl_accept(struct parent *);
void	parent_ctl_read(struct parent *, int);
void	parent_ctl_reply(struct parent *, int, const char *);
void	parent_ctl_close(struct parent *, int);
struct msg_step;
struct msg_guest;
void	parent_ctl_worker_done(struct parent *, struct child *,
	    const struct msg_step *);
void	parent_ctl_worker_guest(struct parent *, struct child *,
	    const struct msg_guest *);
void	parent_ctl_worker_gone(struct parent *, struct child *);

/* Finished migrations' reports in relocd-state-dir (parent_report.c). */
void	parent_report_init(struct parent *);
void	parent_report_job_end(struct parent *, const struct job *);
struct sxp_node;
void	parent_report_request(struct parent *, int, const struct sxp_node *);

/* hosts-allow at accept, and the resolver (parent_admit.c). */
int	parent_admit_init(struct parent *);
void	parent_admit(struct parent *, const struct listener *, int,
	    const struct sockaddr_storage *, socklen_t, const char *);
void	parent_admitted(struct parent *, const struct listener *, int,
	    const struct sockaddr_storage *, socklen_t, const char *,
	    const char *);
void	parent_admit_reload(struct parent *);
int	parent_admit_fd(const struct parent *);
void	parent_admit_read(struct parent *);
void	parent_admit_tick(struct parent *);
int	parent_admit_reaped(struct parent *, pid_t, int);
void	parent_admit_stop(struct parent *);

void	parent_count_preauth(struct parent *, const char *, int *, int *);
struct child *parent_child_new(struct parent *, pid_t, int, int);
struct child *parent_child_find(struct parent *, pid_t);
int	parent_spawn_worker(struct parent *, int, int, int *, pid_t *);
void	parent_child_kill(struct child *, const char *);
/* The parent's caught signals, held back around a call (parent.c). */
void	parent_signals_hold(sigset_t *);
void	parent_signals_release(const sigset_t *);
int	parent_spawn_client(struct parent *, struct job *, int, int);
void	parent_spawn_net(struct parent *, const struct listener *, int,
	    const struct sockaddr_storage *, socklen_t, const char *,
	    const char *);
/* The key process (parent_key.c). */
int	parent_load_tls(struct parent *, const struct conf *, char *, size_t);
int	parent_key_channel(struct parent *, int);
int	parent_key_exited(struct parent *, pid_t, int);

#endif /* RELOCD_PARENT_H */
