// SPDX-License-Identifier: ISC
/*
 * The TLS layer (this file: the context, the host identity, and SHA-256
 * for the sim backend's version 1 digest; tls_conn.c: connections; tls_key.c: a key
 * held by the key process).  The three are the only files in relocd that
 * include OpenSSL.  One
 * context per host identity, mutual authentication against the pool's CA
 * (TLS 1.2 at least, 1.3 preferred), and connections behind read and
 * write calls that never block past a deadline.
 *
 * The network child runs it, before and after authentication.  Until the
 * handshake succeeds every byte is hostile: OpenSSL parses it, and what
 * we take from a certificate (names, subject) is checked or escaped
 * before it can reach a log line or an allow list.  The key file is
 * trusted only once its owner and mode say that nobody but root could
 * have written or read it; its bytes are wiped as soon as OpenSSL holds
 * the key.
 *
 * Sockets are switched to non-blocking mode and every wait is a poll()
 * bounded by the caller's absolute deadline.  A process using this module
 * must ignore SIGPIPE (OpenSSL writes to sockets with write(2)); the
 * plain path uses MSG_NOSIGNAL itself.
 *
 * File descriptors: tls_accept, tls_connect and tls_plain take the fd
 * only when they succeed; on failure it stays the caller's to close.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bounds.h"
#include "tls.h"
#include "tls_impl.h"
#include "tls_key.h"
#include "util.h"

/* TLS 1.2 suites: forward secrecy and AEAD only.  1.3's are all fine. */
#define TLS12_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20"
/*
 * Without AES instructions ChaCha20-Poly1305 is about three times
 * cheaper than AES-GCM in software, and under an emulator more still:
 * such a host puts it first, as a client and as a server.
 */
#define TLS12_CIPHERS_NO_AES	"ECDHE+CHACHA20:ECDHE+AESGCM"
#define TLS13_SUITES_NO_AES	"TLS_CHACHA20_POLY1305_SHA256:" \
				"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"
/*
 * Read this much of the socket at once (read-ahead): one system call
 * takes several 16 KiB records of a stream, not two calls per record.
 * Not more: before each record, OpenSSL 3.0 moves what is left in the
 * buffer to its front (ssl3_read_n aligns the payload), so a buffer of
 * B bytes copies about B/2 bytes per record.  At 256 KiB that memmove
 * was a fifth of the receiving network child's CPU; 64 KiB measured
 * lowest of 34-256 KiB (bench scenario 8 and 1, issue 21).
 */
#define TLS_READ_BUFFER		(64 * 1024)

void
tls_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Loading the identity.
 */

/*
 * Opens the key file and checks that nobody but its owner, root or us,
 * can read or change it.
 */
static int
key_open(const char *path, int *fd_r, size_t *size_r, char *err,
    size_t errlen)
{
	struct stat	st;
	mode_t		mode;
	int		fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP)
			tls_errf(err, errlen, "%s: is a symbolic link; point the "
			    "configuration at the key file itself", path);
		else if (errno == ENOENT)
			tls_errf(err, errlen, "%s: no such file; make one with "
			    "relocd-pki host and relocd-pki install", path);
		else
			tls_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		tls_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	mode = st.st_mode & 07777;
	if (!S_ISREG(st.st_mode))
		tls_errf(err, errlen, "%s: not a regular file", path);
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		tls_errf(err, errlen, "%s: owned by uid %u, not root; run chown "
		    "root on it", path, (unsigned)st.st_uid);
	else if (mode & 044)
		tls_errf(err, errlen, "%s: readable by group or others (mode "
		    "0%03o); run chmod 600 on it", path, (unsigned)mode);
	else if (mode & 077)
		tls_errf(err, errlen, "%s: writable by group or others (mode "
		    "0%03o); run chmod 600 on it", path, (unsigned)mode);
	else if (st.st_size == 0)
		tls_errf(err, errlen, "%s: empty; it should hold a PEM private "
		    "key", path);
	else if (st.st_size > TLS_FILE_MAX)
		tls_errf(err, errlen, "%s: larger than %d KiB, so not a key file",
		    path, TLS_FILE_MAX / 1024);
	else
		rc = 0;
out:
	if (rc == 0) {
		*fd_r = fd;
		*size_r = (size_t)st.st_size;
	} else
		close(fd);
	return rc;
}

/* A passphrase prompt would hang an unattended daemon: refuse instead. */
static int
key_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* Parses the key held in buf (NUL-terminated), with a reason if not. */
static EVP_PKEY *
key_parse(const char *path, const char *buf, size_t len, char *err,
    size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bio;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, key_no_passphrase,
		    NULL);
		BIO_free(bio);
	}
	ERR_clear_error();
	if (pkey != NULL)
		return pkey;
	if (strstr(buf, "ENCRYPTED") != NULL)
		tls_errf(err, errlen, "%s: the key is encrypted, and relocd starts "
		    "unattended; decrypt it with openssl pkey and keep it "
		    "mode 600", path);
	else if (strstr(buf, "BEGIN CERTIFICATE") != NULL)
		tls_errf(err, errlen, "%s: holds a certificate, not a private key; "
		    "are the key and certificate files swapped?", path);
	else
		tls_errf(err, errlen, "%s: not a PEM private key", path);
	return NULL;
}

/*
 * Reads and parses the private key.  The bytes live only in our buffer,
 * which is wiped on every path.
 */
EVP_PKEY *
tls_pkey_load(const char *path, char *err, size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	char		*buf = NULL;
	size_t		 size = 0, len = 0;
	ssize_t		 r;
	int		 fd = -1;

	if (key_open(path, &fd, &size, err, errlen) == -1)
		goto out;
	/* One spare byte notices a file that grew since fstat. */
	if ((buf = OPENSSL_zalloc(size + 2)) == NULL) {
		tls_errf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (len < size + 1) {
		r = read(fd, buf + len, size + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			tls_errf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len != size) {
		tls_errf(err, errlen, "%s: changed while being read; try again",
		    path);
		goto out;
	}
	pkey = key_parse(path, buf, len, err, errlen);
out:
	if (buf != NULL)
		OPENSSL_clear_free(buf, size + 2);
	if (fd != -1)
		close(fd);
	return pkey;
}

/* Reads a PEM file of certificates into a memory BIO, bounded. */
static BIO *
pem_open(const char *path, char *err, size_t errlen)
{
	BIO	*bio = NULL;
	char	*buf = NULL;
	size_t	 len;

	if (util_read_file(path, TLS_FILE_MAX, &buf, &len) == -1) {
		if (errno == EFBIG)
			tls_errf(err, errlen, "%s: larger than %d KiB, so not a "
			    "certificate file", path, TLS_FILE_MAX / 1024);
		else if (errno == EINVAL)
			tls_errf(err, errlen, "%s: not a regular file", path);
		else
			tls_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* A read-write memory BIO copies the bytes, so buf can go now. */
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    BIO_write(bio, buf, (int)len) != (int)len) {
		tls_errf(err, errlen, "%s: out of memory", path);
		BIO_free(bio);
		bio = NULL;
	}
	free(buf);
	return bio;
}

/* The next certificate in bio; NULL at the end (*bad set if malformed). */
static X509 *
pem_next(BIO *bio, bool *bad)
{
	X509		*x;
	unsigned long	 e;

	ERR_clear_error();
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	e = ERR_peek_last_error();
	*bad = x == NULL && e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
	ERR_clear_error();
	return x;
}

/*
 * When the first certificate in path (this host's) expires, as a Unix
 * time, for relocd_certificate_expiry_timestamp_seconds: the parent
 * reads only the public certificate, never the key.
 */
int
tls_cert_expiry(const char *path, int64_t *t_r, char *err, size_t errlen)
{
	X509		*x;
	BIO		*bio;
	struct tm	 tm;
	bool		 bad = false;
	int		 rc = -1;

	if ((bio = pem_open(path, err, errlen)) == NULL)
		return -1;
	if ((x = pem_next(bio, &bad)) == NULL)
		tls_errf(err, errlen, "%s: no PEM certificate in it", path);
	else if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		tls_errf(err, errlen, "%s: unreadable expiry time", path);
	else {
		*t_r = (int64_t)timegm(&tm);
		rc = 0;
	}
	X509_free(x);
	BIO_free(bio);
	return rc;
}

/* Our certificate and any intermediates after it; returns the leaf. */
static X509 *
cert_load(SSL_CTX *ssl, const char *path, char *err, size_t errlen)
{
	X509	*leaf = NULL, *x;
	BIO	*bio;
	bool	 bad = false;
	int	 rc = -1;

	if ((bio = pem_open(path, err, errlen)) == NULL)
		return NULL;
	if ((leaf = pem_next(bio, &bad)) == NULL) {
		tls_errf(err, errlen, "%s: no PEM certificate in it", path);
		goto out;
	}
	if (SSL_CTX_use_certificate(ssl, leaf) != 1) {
		tls_errf(err, errlen, "%s: OpenSSL refuses the certificate (too "
		    "weak a key or signature?)", path);
		goto out;
	}
	while ((x = pem_next(bio, &bad)) != NULL)
		if (SSL_CTX_add0_chain_cert(ssl, x) != 1) {
			X509_free(x);
			bad = true;
			break;
		}
	if (bad) {
		tls_errf(err, errlen, "%s: a certificate after the first does "
		    "not parse", path);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		X509_free(leaf);
		leaf = NULL;
	}
	ERR_clear_error();
	BIO_free(bio);
	return leaf;
}

/* The CA bundle: the only certificates we trust, no system defaults. */
static int
ca_load(SSL_CTX *ssl, const char *path, char *err, size_t errlen)
{
	X509_STORE	*store = SSL_CTX_get_cert_store(ssl);
	X509		*x;
	BIO		*bio;
	bool		 bad = false;
	int		 n = 0, rc = -1;

	if ((bio = pem_open(path, err, errlen)) == NULL)
		return -1;
	while ((x = pem_next(bio, &bad)) != NULL) {
		/* Tell clients which CA we want their certificate from. */
		if (X509_STORE_add_cert(store, x) != 1 ||
		    SSL_CTX_add_client_CA(ssl, x) != 1)
			bad = true;
		X509_free(x);
		if (bad)
			break;
		n++;
	}
	if (bad)
		tls_errf(err, errlen, "%s: certificate %d does not parse", path,
		    n + 1);
	else if (n == 0)
		tls_errf(err, errlen, "%s: no PEM certificate in it", path);
	else
		rc = 0;
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

/* Does this CPU encrypt AES in hardware? */
static bool
cpu_has_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_cpu_supports("aes");
#else
	return true;	/* other CPUs: keep OpenSSL's order */
#endif
}

/* Protocol settings shared by the server and the client side. */

/*
 * OpenSSL's chain checks accept a leaf that is itself a CA (CA:TRUE):
 * any CA the pool's CA signed could then act as a host, and sign more
 * hosts.  A peer's own certificate must be a host's, so the leaf's CA
 * markings fail it with OpenSSL's own code for that.
 */
static int
tls_verify_leaf(int preverify_ok, X509_STORE_CTX *xs)
{
	X509	*cert;

	if (preverify_ok != 1 || X509_STORE_CTX_get_error_depth(xs) != 0)
		return preverify_ok;
	if ((cert = X509_STORE_CTX_get_current_cert(xs)) != NULL &&
	    X509_check_ca(cert) != 0) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_INVALID_NON_CA);
		return 0;
	}
	return 1;
}
static int
ctx_configure(SSL_CTX *ssl)
{
	bool	aes = cpu_has_aes();

	static const unsigned char sid[] = "relocd";

	/*
	 * Renegotiation and compression are attack surface we do not use;
	 * connections are few and long, so resumption buys nothing.
	 */
	/*
	 * A server prefers its own order, except that a client that lists
	 * ChaCha20 first (one without AES instructions) gets it.
	 */
	SSL_CTX_set_options(ssl, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
	SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
	/* Non-blocking I/O: we retry ourselves, and writes may be partial. */
	SSL_CTX_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* tls_pending() counts what read-ahead buffered (SSL_has_pending). */
	SSL_CTX_set_read_ahead(ssl, 1);
	SSL_CTX_set_default_read_buffer_len(ssl, TLS_READ_BUFFER);
	/*
	 * Both roles verify the peer; a server also demands a certificate
	 * (the flag means nothing to a client).
	 */
	SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_verify_leaf);
	SSL_CTX_set_verify_depth(ssl, TLS_CHAIN_DEPTH_MAX);
	if (SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ssl, aes ? TLS12_CIPHERS :
	    TLS12_CIPHERS_NO_AES) != 1 ||
	    (!aes && SSL_CTX_set_ciphersuites(ssl, TLS13_SUITES_NO_AES) != 1) ||
	    SSL_CTX_set_num_tickets(ssl, 0) != 1 ||
	    SSL_CTX_set_session_id_context(ssl, sid, sizeof(sid) - 1) != 1)
		return -1;
	return 0;
}

/* The key itself, or one that the key process holds for us. */
static EVP_PKEY *
ctx_key(const struct tls_files *files, char *err, size_t errlen)
{
	EVP_PKEY	*pkey;

	if (files->key_file != NULL)
		return tls_pkey_load(files->key_file, err, errlen);
	if ((pkey = tls_key_remote(files->key_pub, files->key_publen)) == NULL)
		tls_errf(err, errlen, "%s: not an EC key on P-256, P-384 or "
		    "P-521, which are the keys relocd can keep in its key "
		    "process; make one with relocd-pki", files->key_name);
	return pkey;
}

int
tls_ctx_load(const struct tls_files *files, struct tls_ctx **ctx_r,
    char *err, size_t errlen)
{
	struct tls_ctx	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	X509		*leaf = NULL;
	int		 rc = -1;

	*ctx_r = NULL;
	/* Before SSL_CTX_new, which fetches its algorithms once. */
	if (files->key_file == NULL && tls_key_provider_init() == -1) {
		tls_errf(err, errlen, "cannot load relocd's key provider");
		goto out;
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL ||
	    (ctx->ssl = SSL_CTX_new(TLS_method())) == NULL ||
	    ctx_configure(ctx->ssl) == -1) {
		tls_errf(err, errlen, "cannot set up a TLS context");
		goto out;
	}
	if ((pkey = ctx_key(files, err, errlen)) == NULL ||
	    (leaf = cert_load(ctx->ssl, files->cert_file, err,
	    errlen)) == NULL ||
	    ca_load(ctx->ssl, files->ca_file, err, errlen) == -1)
		goto out;
	if (X509_check_private_key(leaf, pkey) != 1) {
		tls_errf(err, errlen, "%s does not match the certificate %s; use "
		    "the key made with that certificate", files->key_file != NULL ?
		    files->key_file : files->key_name, files->cert_file);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey(ctx->ssl, pkey) != 1) {
		tls_errf(err, errlen, "%s: OpenSSL refuses the key",
		    files->key_file);
		goto out;
	}
	*ctx_r = ctx;
	ctx = NULL;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	X509_free(leaf);
	tls_ctx_free(ctx);
	return rc;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl);
	free(ctx);
}


/*
 * SHA-256, for the sim backend's memory digest as relocd 0.1.0 made it
 * (sim_digest.c, version 1): here so that OpenSSL stays inside the TLS
 * layer.  One hasher is reused for many inputs.
 */
struct tls_sha256 {
	EVP_MD		*md;
	EVP_MD_CTX	*ctx;
};

struct tls_sha256 *
tls_sha256_new(void)
{
	struct tls_sha256	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (h->ctx = EVP_MD_CTX_new()) == NULL) {
		tls_sha256_free(h);
		return NULL;
	}
	return h;
}

int
tls_sha256(struct tls_sha256 *h, const void *data, size_t len,
    uint8_t out[TLS_SHA256_LEN])
{
	if (!EVP_DigestInit_ex2(h->ctx, h->md, NULL) ||
	    !EVP_DigestUpdate(h->ctx, data, len) ||
	    !EVP_DigestFinal_ex(h->ctx, out, NULL))
		return -1;
	return 0;
}

void
tls_sha256_free(struct tls_sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}
