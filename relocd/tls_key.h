/* SPDX-License-Identifier: ISC */
/*
 * The host's private key, held by one process and used by others over a
 * socket (tls_key.c).  A process that reads a peer's bytes builds its TLS
 * context with only the certificate's public key; its handshake's one
 * private-key operation is a request on its key channel, answered by the
 * key process (keyproc.c), which reads no peer bytes.
 */
#ifndef RELOCD_TLS_KEY_H
#define RELOCD_TLS_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/* What a channel may have signed: the handshake role it serves. */
enum tls_key_role {
	TLS_KEY_ROLE_NONE,
	TLS_KEY_ROLE_SERVER,	/* a destination's network child */
	TLS_KEY_ROLE_CLIENT	/* a source's network child, relocd-xl */
};

/* The digest a signature is made with, as the handshake chose it. */
enum tls_key_md {
	TLS_KEY_MD_NONE,
	TLS_KEY_MD_SHA256,
	TLS_KEY_MD_SHA384,
	TLS_KEY_MD_SHA512
};

/* One request on a key channel: sent as one SOCK_SEQPACKET message. */
struct tls_key_req {
	uint32_t	md;		/* enum tls_key_md */
	uint32_t	len;
	uint8_t		tbs[TLS_KEY_TBS_MAX];
};

/* Its answer: len 0 means refused. */
struct tls_key_rep {
	uint32_t	len;
	uint8_t		sig[TLS_KEY_SIG_MAX];
};

/* A private key, in the key process only. */
struct tls_key;

/*
 * In a process that uses a key held elsewhere: registers the provider
 * that forwards signatures (once, before any TLS context is made), and
 * names this process's channel to the key process.
 */
int		 tls_key_provider_init(void);
void		 tls_key_set_channel(int);

/* In the key process: load (with tls.c's file checks), sign, free. */
struct tls_key	*tls_key_load(const char *, char *, size_t);
int		 tls_key_public(const struct tls_key *, uint8_t *, size_t,
		    size_t *);
int		 tls_key_sign(const struct tls_key *, int, const uint8_t *,
		    size_t, uint8_t *, size_t, size_t *);
void		 tls_key_free(struct tls_key *);

#endif /* RELOCD_TLS_KEY_H */
