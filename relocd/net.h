/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_NET_H
#define RELOCD_NET_H

#include <sys/socket.h>

#include <stdint.h>

struct conf;
struct proc_identity;
struct proto_msg;
struct tls_conn;
struct tls_ctx;

/* What the parent hands a network child for one accepted connection. */
struct net_args {
	int			 fd;		/* the accepted socket */
	int			 parent_fd;	/* msg socket to the parent */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	const struct conf	*conf;
	struct tls_ctx		*tls;		/* NULL: plaintext listener */
	const struct proc_identity *id;
	const char		*local_name;	/* our host name, for hello */
};

void	net_serve(const struct net_args *) __attribute__((noreturn));

int	net_read_frame(struct tls_conn *, uint64_t, int *, char *, size_t,
	    size_t *, char *, size_t);
int	net_send_msg(struct tls_conn *, const struct proto_msg *, uint64_t);
int	net_send_error(struct tls_conn *, int, uint64_t);

#endif /* RELOCD_NET_H */
