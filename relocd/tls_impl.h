/* SPDX-License-Identifier: ISC */
/*
 * Shared by tls.c, tls_conn.c and tls_key.c only: the definitions behind tls.h's
 * opaque types.
 */
#ifndef RELOCD_TLS_IMPL_H
#define RELOCD_TLS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct tls_ctx {
	SSL_CTX		*ssl;
};

struct tls_conn {
	int		 fd;
	SSL		*ssl;		/* NULL for plain TCP */
	bool		 failed;	/* fatal TLS error: no close_notify */
};

void	tls_errf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	tls_conn_wait(int, short, uint64_t, const char *, char *, size_t);
/* tls.c: the key file, checked and read; tls_key.c: a key held elsewhere. */
EVP_PKEY *tls_pkey_load(const char *, char *, size_t);
EVP_PKEY *tls_key_remote(const uint8_t *, size_t);

#endif /* RELOCD_TLS_IMPL_H */
