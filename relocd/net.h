/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_NET_H
#define RELOCD_NET_H

#include <sys/socket.h>

#include <stdint.h>

struct compress_dec;
struct conf;
struct msg_reserve;
struct proc_identity;
struct proto_msg;
struct tls_conn;
struct tls_ctx;

/*
 * An exec'd network child's descriptors (relocd -N, net_exec.c), placed
 * by proc_spawn_fds in this order.
 */
#define NET_MSG_FD	3	/* message socket to the parent */
#define NET_CONN_FD	4	/* serve: the connection; client: the stream */
#define NET_KEY_FD	5	/* channel to the key process (tls_key.h) */
#define NET_PEERLOG_FD	6	/* the shared peer-log bucket (log.c) */
#define NET_CONF_FD	7	/* the parent's configuration, as sxp */
#define NET_FDS		5

/* What a network child gets for one accepted connection. */
struct net_args {
	int			 fd;		/* the accepted socket */
	int			 parent_fd;	/* msg socket to the parent */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	const struct conf	*conf;
	struct tls_ctx		*tls;		/* NULL: plaintext listener */
	const struct proc_identity *id;
	const char		*local_name;	/* our host name, for hello */
	/*
	 * hosts-allow admitted the peer in the parent (parent_admit.c):
	 * by the forward-confirmed name here, or by address ("").
	 */
	char			 host[256];
};

/* One connection, in either role; shared by net*.c only. */
#include "proto.h"
#include "tls.h"

struct net_session {
	const struct net_args	*args;		/* destination role only */
	int			 parent_fd;	/* both roles */
	struct tls_conn		*conn;
	char			 ip[64];
	char			 host[256];
	int			 state;		/* enum proto_state */
	uint32_t		 version;	/* protocol, chosen at hello */
	int			 data_fd;	/* pipe to the worker */
	char			 id[MIG_ID_LEN + 1];
	struct tls_peer		 peer;
	struct proto_msg	 msg;		/* last message received */
	char			*frame;		/* PROTO_DATA_MAX bytes */
	uint64_t		 received;	/* data bytes, for end */
	/* Destination: zstd accepted (compress.h), and its buffer. */
	struct compress_dec	*dec;
	char			*plain;		/* COMPRESS_CHUNK_MAX bytes */
	uint64_t		 wire;		/* data frames' bytes */
};

/* What a network child that connects out (the source) gets. */
struct net_client_args {
	int			 parent_fd;
	int			 data_fd;	/* the worker's stream, or -1 */
	const struct conf	*conf;
	struct tls_ctx		*tls;		/* NULL: plaintext */
	const struct proc_identity *id;
	const char		*local_name;
	char			 host[256];
	int			 port;
	int			 query;		/* only ask where id stands */
	int			 compress;	/* enum conf_compress */
	const struct msg_reserve *reserve;	/* id, guest, config */
};

void	net_exec_main(void) __attribute__((noreturn));
void	net_serve(const struct net_args *) __attribute__((noreturn));
void	net_exit(struct net_session *, int) __attribute__((noreturn));
void	net_refuse(struct net_session *, int, const char *)
	    __attribute__((noreturn));
void	net_refuse_explained(struct net_session *, int, const char *)
	    __attribute__((noreturn));
void	net_refuse_checks(struct net_session *, int, const char *,
	    const struct check_list *) __attribute__((noreturn));
void	net_handshake(struct net_session *, uint64_t);
void	net_authorize(struct net_session *);
int	net_wait_parent(struct net_session *, uint32_t, void *, size_t, int *,
	    uint64_t);
struct msg_step;
void	net_expect_step(struct net_session *, int, uint64_t, struct msg_step *,
	    int *);
void	net_xl_serve(struct net_session *, uint64_t) __attribute__((noreturn));
void	net_client_run(const struct net_client_args *)
	    __attribute__((noreturn));
int	net_connect(const char *, int, const char *, char *, size_t);
int	net_zstd_accept(struct net_session *);
size_t	net_zstd_frame(struct net_session *, size_t);

int	net_read_frame(struct tls_conn *, uint64_t, int *, char *, size_t,
	    size_t *, char *, size_t);
int	net_read_frame_head(struct tls_conn *, uint64_t, int *, size_t,
	    size_t *, char *, size_t);
int	net_send_msg(struct tls_conn *, const struct proto_msg *, uint64_t);
int	net_send_error(struct tls_conn *, int, const char *, uint64_t);

#endif /* RELOCD_NET_H */
