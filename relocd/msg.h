/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_MSG_H
#define RELOCD_MSG_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "bounds.h"
#include "checks.h"
#include "target.h"
#include "xlreq.h"

/*
 * Typed messages between relocd's processes, over SOCK_SEQPACKET pairs so
 * that one send is one message and file descriptors can travel with it.
 * Payloads are the fixed structs below; msg_recv checks that a message's
 * size is exactly its type's, and the receiver re-terminates every string
 * with MSG_TERMINATE before use, since the sender may be compromised.
 */
enum msg_type {
	MSG_NONE,
	/* network child -> parent */
	MSG_NET_AUTHENTICATED,		/* struct msg_peer */
	MSG_NET_RESERVE,		/* struct msg_reserve: peer asks */
	MSG_NET_STEP,			/* struct msg_step: the peer's news */
	MSG_NET_QUERY,			/* struct msg_step: where is id? */
	MSG_NET_XL_RECEIVE,		/* struct msg_xl_receive: peer asks */
	/* parent -> network child */
	MSG_STEP,			/* struct msg_step (+ fd) */
	/* parent -> worker */
	MSG_WORKER_START,		/* struct msg_worker_start */
	MSG_WORKER_CMD,			/* struct msg_step (+ fd) */
	/* worker -> parent */
	MSG_WORKER_STEP,		/* struct msg_step */
	MSG_WORKER_GUEST,		/* struct msg_guest: one list entry */
	MSG_WORKER_DESC,		/* struct msg_reserve: what to send */
	MSG_WORKER_NOTE,		/* struct msg_outgoing: resolve */
	/* parent <-> resolver (resolver.c) */
	MSG_RESOLVE_QUERY,		/* struct msg_resolve: address */
	MSG_RESOLVE_ANSWER,		/* struct msg_resolve: + name */
	/* parent (or relocd-xl) <-> key process */
	MSG_KEY_LOAD,			/* struct msg_key_load */
	MSG_KEY_LOADED,			/* struct msg_key_loaded */
	MSG_KEY_CHANNEL,		/* struct msg_key_channel + fd */
	/* parent -> a network child it has just exec'd (net_exec.c) */
	MSG_NET_START,			/* struct msg_net_start */
	MSG_NET_DESC,			/* struct msg_reserve: what to send */
	/* network child -> parent, as it refuses a peer */
	MSG_NET_REFUSED,		/* struct msg_refused */
	MSG_TYPE_MAX
};

/* The key process loads one key, once, and says what became of it. */
struct msg_key_load {
	char		 key_file[CONF_PATH_MAX + 1];
};

struct msg_key_loaded {
	char		 err[512];	/* "": loaded */
	uint32_t	 publen;
	uint8_t		 pub[TLS_KEY_PUB_MAX];	/* DER SubjectPublicKeyInfo */
};

/* A channel for one process's handshakes, for one role (tls_key.h). */
struct msg_key_channel {
	uint32_t	 role;
};

/*
 * What an exec'd network child gets from the parent beyond its config
 * (net_exec.c): everything the forked child used to find in memory.
 */
enum msg_net_role {
	NET_ROLE_SERVE = 1,		/* an accepted connection */
	NET_ROLE_CLIENT			/* connecting out, for a job */
};

struct msg_net_start {
	uint32_t		 role;		/* enum msg_net_role */
	uint32_t		 tls;		/* 0: plaintext */
	/* Who to become (proc_identity), resolved by the parent. */
	uint32_t		 drop;
	uint32_t		 uid;
	uint32_t		 gid;
	char			 chroot_dir[256];
	char			 local_name[256];
	/* serve: the peer and the name hosts-allow admitted it by */
	struct sockaddr_storage	 peer;
	uint32_t		 peerlen;
	/* serve: as above; client: the destination to connect to */
	char			 host[256];
	uint32_t		 port;		/* client */
	uint32_t		 query;		/* client: only ask */
	uint32_t		 compress;	/* client: enum conf_compress */
	/* The key process's public key, for the TLS context. */
	uint32_t		 publen;
	uint8_t			 pub[TLS_KEY_PUB_MAX];
};

struct msg_peer {
	char		 ip[64];
	char		 host[256];	/* forward-confirmed name or "" */
	char		 tls_version[16];
	uint32_t	 ncert;
	char		 cert[TLS_PEER_NAMES_MAX][PEER_NAME_MAX + 1];
};

/*
 * A host-name lookup for hosts-allow: the parent sends the peer's
 * address, the resolver sends it back with the forward-confirmed name,
 * if any.  The name came from DNS: the parent re-terminates and checks
 * it before it matches or logs it.
 */
struct msg_resolve {
	uint32_t	 seq;		/* the parent's query number */
	int32_t		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* in_addr or in6_addr */
	int32_t		 confirmed;	/* answer: name resolves back */
	char		 name[HOST_NAME_LEN_MAX + 1];
};

/*
 * A network child refuses its peer for a reason only it can see (the TLS
 * handshake, relocd-peers-allow): the reason, typed, for the metrics.
 */
struct msg_refused {
	int32_t		 reason;	/* enum metrics_refusal */
};

/* An xl plugin's request, already parsed by the network child. */
struct msg_xl_receive {
	char		 id[MIG_ID_LEN + 1];
	struct xl_flags	 flags;
};

struct msg_reserve {
	char		 id[MIG_ID_LEN + 1];
	struct guest_info guest;
	uint32_t	 live;
	char		 facts[BACKEND_FACTS_MAX + 1];
	uint32_t	 config_len;
	char		 config[BACKEND_CONFIG_MAX + 1];
};

/*
 * The steps of a migration (DESIGN section 5), as reported between the
 * processes of one host.  The same struct carries them all.
 */
enum msg_phase {
	PHASE_RESERVED,		/* destination: the empty guest exists */
	PHASE_PROGRESS,		/* pre-copy statistics */
	PHASE_SAVED,		/* source: stream written, guest suspended */
	PHASE_PREPARED,		/* destination: image complete, digest good */
	PHASE_COMMITTED,	/* source: its copy is no longer resumable */
	PHASE_GO,		/* destination: owns the guest from now on */
	PHASE_ACTIVATED,	/* destination: the guest runs */
	PHASE_DONE,		/* source: its copy is gone; all finished */
	PHASE_ABORTED,		/* before go: the source runs on */
	PHASE_IN_DOUBT,		/* after go, peer unreachable: ask, never guess */
	PHASE_LISTED,		/* end of a guest list */
	PHASE_CREATED,		/* sim-create done */
	PHASE_DESTROYED		/* sim-destroy done */
};

/* What relocctl shows while a migration runs, and in its final report. */
struct msg_stats {
	uint64_t	 bytes;			/* sent or received so far */
	uint64_t	 memory_bytes;		/* the guest's RAM */
	/*
	 * Sim only: the memory those bytes carried (each page copy at its
	 * full size, zero pages too), and the zero pages that went as
	 * their numbers only.
	 */
	uint64_t	 memory_sent;
	uint64_t	 zero_pages;
	/* Sim only, --skip-redirtied: pages live rounds left out. */
	uint64_t	 skipped_pages;
	uint64_t	 elapsed_ms;
	uint64_t	 bandwidth;		/* bytes/s, recent rounds */
	uint64_t	 dirty_rate;		/* bytes/s */
	uint64_t	 predicted_downtime_ms;
	uint64_t	 downtime_ms;		/* measured, once known */
	uint64_t	 digest_ms;		/* sim: hashing, inside downtime */
	uint64_t	 suspend_ms;		/* CLOCK_REALTIME at suspend */
	int64_t		 dirty_pages;
	uint32_t	 round;
	uint32_t	 throttle;		/* percent; 100: not throttled */
	char		 decision[64];		/* the policy's last reason */
	struct pause	 pause;			/* its parts, as measured */
	/*
	 * The source's: the pause's fixed cost its policy used
	 * (pause_cost.h), and how many migrations it was learnt from; 0:
	 * a first guess.
	 */
	uint64_t	 fixed_cost_ms;
	uint32_t	 fixed_cost_samples;
	/*
	 * A source's network child: 1 if the destination accepted zstd
	 * (compress.h), and what its data frames carried on the wire, the
	 * stream's bytes being "bytes".
	 */
	uint32_t	 compressed;
	uint64_t	 wire_bytes;
	struct target	 target;		/* out of reach, if it is */
};

/*
 * Where the guest runs after a step, as its worker saw it.  Decisions
 * read this, never the text, which is for people and may be a peer's.
 * Only a worker of ours sets it: the parent ignores it in anything a
 * network child relays.
 */
enum msg_guest_where {
	GUEST_WHERE_UNKNOWN,	/* the step does not say */
	GUEST_WHERE_HERE,	/* runs on this host */
	GUEST_WHERE_PEER,	/* runs on the other host; our copy is gone */
	GUEST_WHERE_GONE	/* our copy was destroyed; none runs here */
};

struct msg_step {
	char		 id[MIG_ID_LEN + 1];
	int32_t		 phase;		/* enum msg_phase */
	int32_t		 code;		/* enum proto_error; 0: success */
	int32_t		 where;		/* enum msg_guest_where */
	char		 text[PROTO_TEXT_MAX + 1];
	struct guest_info guest;
	struct msg_stats stats;
	int32_t		 status;	/* xl-receive, PHASE_DONE: xl's exit */
	/* PHASE_RESERVED, or a refusal before it: the pre-flight's findings */
	struct check_list checks;
	/*
	 * PHASE_RESERVED, from the source's network child to the parent
	 * and on to the worker: the protocol version the destination
	 * chose (version.c), which sets the sim stream's version.
	 */
	uint32_t	 protocol;
	/*
	 * PHASE_RESERVED, from a destination's worker on to its network
	 * child, and from a source's network child to its parent: the
	 * memory the destination could give guests before this one
	 * (backend free_memory), if available_known.
	 */
	uint64_t	 available;
	uint32_t	 available_known;
};

/*
 * An outgoing migration past its commit: where the guest went.  The
 * source's worker keeps it with the guest (backend set_note) until the
 * guest is destroyed or resumed, and reports it to relocctl resolve.
 */
struct msg_outgoing {
	char		 id[MIG_ID_LEN + 1];	/* "": no record */
	char		 peer[256];
	int32_t		 port;
	struct guest_info guest;
};

enum worker_op {
	WORKER_OP_LIST,
	WORKER_OP_RECEIVE,	/* reserve, restore from the pipe, activate */
	WORKER_OP_SEND,		/* describe, save to the pipe, commit */
	WORKER_OP_SAVE,		/* save to a file */
	WORKER_OP_RESTORE,	/* restore from a file */
	WORKER_OP_CREATE,	/* sim-create */
	WORKER_OP_DESTROY,	/* sim-destroy */
	WORKER_OP_CLEANUP,	/* what a crash left behind (guest: one) */
	WORKER_OP_XL_RECEIVE,	/* run xl migrate-receive on the stream */
	WORKER_OP_RESOLVE,	/* source after commit: free or resume */
	WORKER_OP_ACTIVATE	/* destination after go: run the guest */
};

/* The pre-copy policy's settings for one migration. */
struct msg_policy {
	uint32_t	 live;
	uint32_t	 xen_default;		/* libxenguest's own rule */
	uint32_t	 max_downtime_ms;
	uint32_t	 max_bandwidth_mbit;	/* 0: no cap */
	uint32_t	 max_iterations;
	uint32_t	 timeout_s;		/* 0: none */
	int32_t		 nonconvergence;	/* enum conf_nonconvergence */
	uint32_t	 check_only;		/* relocctl check: reserve, stop */
	uint32_t	 skip_redirtied;	/* sim only (BACKEND_SAVE_...) */
	uint32_t	 compress;		/* enum conf_compress */
	/*
	 * The pause's fixed cost for the destination, one per enum
	 * guest_type (the parent learns it, pause_cost.c; the worker
	 * picks its guest's), and the migrations it was learnt from.
	 */
	uint32_t	 fixed_cost_ms[GUEST_TYPE_SIM + 1];
	uint32_t	 fixed_cost_samples[GUEST_TYPE_SIM + 1];
};

/*
 * What a worker is to do; parent_worker_start_new fills in what every
 * operation shares.  The backend's one argument (backend.h, open) has a
 * field for each backend: the sim backend's directory in state_dir, the
 * xen backend's xl program in xl_command.
 */
struct msg_worker_start {
	int32_t		 op;		/* enum worker_op */
	int32_t		 backend;	/* enum conf_backend */
	char		 state_dir[256];	/* sim: relocd-sim-dir */
	char		 guest[GUEST_NAME_MAX + 1];	/* SEND, SAVE, DESTROY */
	char		 path[256];	/* SAVE, RESTORE: the file */
	struct msg_policy policy;
	struct msg_reserve reserve;	/* RECEIVE, CREATE; XL_RECEIVE: id */
	struct msg_outgoing out;	/* SEND: where to */
	struct xl_flags	 xl;		/* XL_RECEIVE */
	/* The xen backend's, and XL_RECEIVE's: relocd-xl-command. */
	char		 xl_command[XL_COMMAND_MAX + 1];
};

struct msg_guest {
	struct guest_info guest;
};

#define MSG_TERMINATE(field)	((field)[sizeof(field) - 1] = '\0')

int	 msg_socketpair(int [2]);
int	 msg_send(int, uint32_t, const void *, size_t, int);
int	 msg_recv(int, uint32_t *, void *, size_t, size_t *, int *);
size_t	 msg_size(uint32_t);
void	 msg_terminate_guest(struct guest_info *);
const char *msg_type_name(uint32_t);

#endif /* RELOCD_MSG_H */
