/* SPDX-License-Identifier: ISC */
/*
 * The TLS layer: the only module that includes OpenSSL.
 *
 * One tls_ctx holds this host's identity (key + certificate) and the CA;
 * it serves both as server (requires and verifies a client certificate)
 * and as client (verifies the server's certificate and its name).  A
 * tls_conn is one connection, TLS or - only when the operator enabled
 * relocd-insecure-plaintext - plain TCP, behind the same calls, so the
 * protocol code never knows the difference.
 *
 * Every call that touches the network takes an absolute deadline
 * (util_now_ms's monotonic milliseconds) and never blocks past it, so a
 * slow or silent peer cannot stall us.
 */
#ifndef RELOCD_TLS_H
#define RELOCD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bounds.h"

struct tls_ctx;
struct tls_conn;

struct tls_files {
	const char	*key_file;	/* PEM private key; see tls_ctx_load */
	const char	*cert_file;	/* PEM certificate (chain) */
	const char	*ca_file;	/* PEM CA bundle that signs peers */
	/*
	 * Or, with key_file NULL, a key held by the key process: its public
	 * key (DER SubjectPublicKeyInfo) and its file's name for errors.
	 * Signatures then go over the channel of tls_key_set_channel.
	 */
	const uint8_t	*key_pub;
	size_t		 key_publen;
	const char	*key_name;
};

/* A peer's identity: its certificate's DNS and IP SANs, else its CN. */
struct tls_peer {
	size_t		 nnames;
	char		 names[TLS_PEER_NAMES_MAX][PEER_NAME_MAX + 1];
	char		 subject[256];	/* for logs only */
	char		 version[16];	/* "TLSv1.3" */
	char		 cipher[64];
};

/*
 * Loads key, certificate and CA.  The key file must be a regular file
 * owned by root or by the effective user, and not readable or writable by
 * group or others; otherwise this fails with a sentence saying so.  The
 * key's bytes are wiped from our buffers once OpenSSL holds the key.
 */
int		 tls_ctx_load(const struct tls_files *, struct tls_ctx **,
		    char *, size_t);
void		 tls_ctx_free(struct tls_ctx *);
/* The expiry of path's first certificate, as a Unix time. */
int		 tls_cert_expiry(const char *, int64_t *, char *, size_t);

/*
 * Server side: TLS handshake on a connected socket, requiring a client
 * certificate signed by the CA (TLS 1.2 minimum).  On failure, err says
 * why in words fit for a log line ("no client certificate", "certificate
 * has expired", "wrong version number: not a TLS client", ...).
 */
int		 tls_accept(struct tls_ctx *, int, uint64_t,
		    struct tls_conn **, struct tls_peer *, char *, size_t);
/*
 * Client side: handshake, verify the server's certificate against the CA
 * and against expected_name (a DNS name or an IP literal; NULL skips the
 * name check, for tests only).
 */
int		 tls_connect(struct tls_ctx *, int, const char *, uint64_t,
		    struct tls_conn **, struct tls_peer *, char *, size_t);
/* Plain TCP behind the same interface (relocd-insecure-plaintext). */
int		 tls_plain(int, struct tls_conn **);

/*
 * Reads up to len bytes: returns the count, 0 on a clean close by the
 * peer, or -1 on error or deadline (err says which).  Partial reads are
 * normal; tls_read_full loops until len bytes or failure.
 */
ssize_t		 tls_read(struct tls_conn *, void *, size_t, uint64_t,
		    char *, size_t);
int		 tls_read_full(struct tls_conn *, void *, size_t, uint64_t,
		    char *, size_t);
int		 tls_write_full(struct tls_conn *, const void *, size_t,
		    uint64_t, char *, size_t);
/*
 * Plaintext connections only (tls_is_plain): the migration stream by
 * splice(2) between a pipe and the socket, never through our memory.
 */
#define TLS_SPLICE_PEER	(-1)	/* the peer's side failed; err says why */
#define TLS_SPLICE_PIPE	(-2)	/* the pipe's side failed; errno says why */
bool		 tls_is_plain(const struct tls_conn *);
int		 tls_plain_send_from_pipe(struct tls_conn *, const void *,
		    size_t, int, size_t, uint64_t, char *, size_t);
int		 tls_plain_recv_to_pipe(struct tls_conn *, int, size_t,
		    uint64_t, char *, size_t);
/* Bytes OpenSSL holds (decrypted, or read ahead), which poll() cannot see. */
size_t		 tls_pending(struct tls_conn *);
int		 tls_fd(const struct tls_conn *);
/* Sends close_notify (best effort, bounded), closes the fd, frees. */
void		 tls_close(struct tls_conn *, uint64_t);

/* SHA-256, so that OpenSSL stays in the TLS layer (sim digest, version 1). */
#define TLS_SHA256_LEN	32
struct tls_sha256;

struct tls_sha256 *tls_sha256_new(void);
int		 tls_sha256(struct tls_sha256 *, const void *, size_t,
		    uint8_t [TLS_SHA256_LEN]);
void		 tls_sha256_free(struct tls_sha256 *);

#endif /* RELOCD_TLS_H */
