/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_MSG_H
#define RELOCD_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "bounds.h"

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
	MSG_NET_RESERVE,		/* struct msg_reserve */
	MSG_NET_ABORT,			/* struct msg_result: peer aborted */
	/* parent -> network child */
	MSG_RESERVE_RESULT,		/* struct msg_result (+ pipe fd) */
	/* parent -> worker */
	MSG_WORKER_START,		/* struct msg_worker_start */
	MSG_WORKER_ABORT,		/* struct msg_result */
	/* worker -> parent */
	MSG_WORKER_RESULT,		/* struct msg_result */
	MSG_WORKER_GUEST,		/* struct msg_guest: one list entry */
	MSG_TYPE_MAX
};

struct msg_peer {
	char		 ip[64];
	char		 host[256];	/* forward-confirmed name or "" */
	char		 tls_version[16];
	uint32_t	 ncert;
	char		 cert[TLS_PEER_NAMES_MAX][PEER_NAME_MAX + 1];
};

struct msg_reserve {
	char		 id[MIG_ID_LEN + 1];
	struct guest_info guest;
	uint32_t	 live;
	uint32_t	 config_len;
	char		 config[BACKEND_CONFIG_MAX + 1];
};

/* Which step a msg_result reports on. */
enum msg_phase {
	PHASE_RESERVED,		/* destination: the empty guest exists */
	PHASE_PREPARED,		/* destination: image complete, digest good */
	PHASE_ACTIVATED,	/* destination: guest running */
	PHASE_LISTED,		/* end of a guest list */
	PHASE_ABORTED
};

struct msg_result {
	char		 id[MIG_ID_LEN + 1];
	int32_t		 phase;		/* enum msg_phase */
	int32_t		 code;		/* enum proto_error; 0: success */
	char		 text[PROTO_TEXT_MAX + 1];
	struct guest_info guest;
};

enum worker_op {
	WORKER_OP_LIST,
	WORKER_OP_RECEIVE	/* reserve, then restore from the pipe */
};

struct msg_worker_start {
	int32_t		 op;		/* enum worker_op */
	int32_t		 backend;	/* enum conf_backend */
	char		 state_dir[256];
	struct msg_reserve reserve;	/* WORKER_OP_RECEIVE */
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
