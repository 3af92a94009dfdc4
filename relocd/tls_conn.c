// SPDX-License-Identifier: ISC
/*
 * The TLS layer's connections: handshakes, the peer's identity, and
 * reading and writing within deadlines.  tls.c holds the context and the
 * host identity; the two, with tls_impl.h, are the only files in relocd
 * that include OpenSSL.  What follows is tls.c's account of the layer.
 *
 * The TLS layer: one
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
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bounds.h"
#include "tls.h"
#include "tls_impl.h"
#include "util.h"

/*
 * After the handshake, records go through a buffer this large and leave
 * in one write when a tls_write_full is done: a 256 KiB frame is one
 * system call, not sixteen (see conn_buffer_writes).
 */
#define TLS_WRITE_BUFFER	(272 * 1024)

/*
 * Waits until fd is ready for events or the deadline passes.  "what"
 * names the operation for the error ("handshake deadline passed").
 */
int
tls_conn_wait(int fd, short events, uint64_t deadline, const char *what,
    char *err, size_t errlen)
{
	struct pollfd	pfd;
	uint64_t	now;
	int		r, ms;

	for (;;) {
		now = util_now_ms();
		if (now >= deadline) {
			tls_errf(err, errlen, "%s deadline passed", what);
			return -1;
		}
		ms = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			tls_errf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		/* Ready, or an error or hangup that the next I/O reports. */
		if (r > 0)
			return 0;
	}
}

/*
 * Handshake failures, in words for a log line.
 */

struct why {
	long		 code;
	const char	*why;
};

#define NOT_OUR_CA	"unknown CA: certificate not signed by the configured CA"

/* Why the peer's certificate failed verification on our side. */
static const struct why verify_whys[] = {
	{ X509_V_ERR_CERT_HAS_EXPIRED, "certificate has expired" },
	{ X509_V_ERR_CERT_NOT_YET_VALID,
	    "certificate is not yet valid (check the clocks)" },
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed certificate" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, NOT_OUR_CA },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, NOT_OUR_CA },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, NOT_OUR_CA },
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, NOT_OUR_CA },
	{ X509_V_ERR_CERT_SIGNATURE_FAILURE, NOT_OUR_CA },
	{ X509_V_ERR_INVALID_NON_CA,
	    "certificate is a CA's (CA:TRUE), not a host's" },
	{ X509_V_ERR_INVALID_PURPOSE,
	    "certificate not for TLS client and server use (extendedKeyUsage)" },
};

/*
 * OpenSSL's reasons (ERR_LIB_SSL), ours first, then the alerts a peer
 * sends when it refuses us.
 */
static const struct why ssl_whys[] = {
	{ SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE, "no client certificate" },
	{ SSL_R_WRONG_VERSION_NUMBER, "wrong version number: peer is not "
	    "speaking TLS" },
	{ SSL_R_UNKNOWN_PROTOCOL, "unknown protocol: peer is not speaking TLS" },
	{ SSL_R_PACKET_LENGTH_TOO_LONG, "record too long: peer is not "
	    "speaking TLS" },
	{ SSL_R_HTTP_REQUEST, "HTTP request: peer is not speaking TLS" },
	{ SSL_R_HTTPS_PROXY_REQUEST, "HTTP request: peer is not speaking TLS" },
	{ SSL_R_UNSUPPORTED_PROTOCOL,
	    "peer offers only TLS versions older than 1.2" },
	{ SSL_R_NO_SHARED_CIPHER, "no cipher in common with the peer" },
	{ SSL_R_UNEXPECTED_EOF_WHILE_READING, "peer closed the connection" },
	{ SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED,
	    "peer requires a client certificate" },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,
	    "peer rejected our certificate: certificate has expired" },
	{ SSL_R_TLSV1_ALERT_UNKNOWN_CA,
	    "peer rejected our certificate: unknown CA" },
	{ SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,
	    "peer rejected our certificate (bad certificate)" },
	{ SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE,
	    "peer rejected our certificate (unsupported certificate)" },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
	    "peer rejected our certificate (certificate unknown; its log "
	    "says why)" },
	{ SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
	    "peer does not speak TLS 1.2 or later" },
	{ SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, "peer refused the handshake" },
};

static const char *
why_find(const struct why *t, size_t n, long code)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].why;
	return NULL;
}

static void
verify_reason(SSL *ssl, const char *expected, char *err, size_t errlen)
{
	long		 v = SSL_get_verify_result(ssl);
	const char	*why;

	if (v == X509_V_ERR_HOSTNAME_MISMATCH ||
	    v == X509_V_ERR_IP_ADDRESS_MISMATCH)
		tls_errf(err, errlen, "certificate does not name '%s'",
		    expected != NULL ? expected : "?");
	else if ((why = why_find(verify_whys, sizeof(verify_whys) /
	    sizeof(verify_whys[0]), v)) != NULL)
		tls_errf(err, errlen, "%s", why);
	else
		tls_errf(err, errlen, "certificate rejected: %s",
		    X509_verify_cert_error_string(v));
}

/* Why an SSL call failed; e is SSL_get_error's answer. */
static void
ssl_reason(SSL *ssl, int e, const char *expected, char *err, size_t errlen)
{
	unsigned long	 l, first = 0, ours = 0;
	const char	*s;
	int		 saved = errno;

	while ((l = ERR_get_error()) != 0) {
		if (first == 0)
			first = l;
		if (ours == 0 && ERR_GET_LIB(l) == ERR_LIB_SSL)
			ours = l;
	}
	if (ours == 0)
		ours = first;
	if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && ours == 0 && saved == 0))
		tls_errf(err, errlen, "peer closed the connection");
	else if (e == SSL_ERROR_SYSCALL && ours == 0)
		tls_errf(err, errlen, "%s", saved == ECONNRESET || saved == EPIPE ?
		    "peer closed the connection (reset)" : strerror(saved));
	else if (ERR_GET_LIB(ours) == ERR_LIB_SSL &&
	    ERR_GET_REASON(ours) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		verify_reason(ssl, expected, err, errlen);
	else if (ERR_GET_LIB(ours) == ERR_LIB_SSL && (s = why_find(ssl_whys,
	    sizeof(ssl_whys) / sizeof(ssl_whys[0]), ERR_GET_REASON(ours))) != NULL)
		tls_errf(err, errlen, "%s", s);
	else if (ours != 0 && (s = ERR_reason_error_string(ours)) != NULL)
		tls_errf(err, errlen, "TLS error: %s", s);
	else
		tls_errf(err, errlen, "TLS error %d", e);
	ERR_clear_error();
}

/*
 * The peer's identity.
 */

/* A name we will compare and log: a host name or address, nothing odd. */
static bool
name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > PEER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.' || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

static void
peer_add(struct tls_peer *peer, const char *s, size_t len)
{
	if (peer->nnames >= TLS_PEER_NAMES_MAX || !name_ok(s, len))
		return;
	memcpy(peer->names[peer->nnames], s, len);
	peer->names[peer->nnames][len] = '\0';
	peer->nnames++;
}

/*
 * DNS and IP subjectAltNames; IPs as text, IPv6 compressed.  Returns
 * whether the certificate has any DNS or IP SAN at all, usable or not:
 * if it has, its CN is never its identity (RFC 6125, 6.4.4), so that a
 * certificate for "*.example.org" with CN "client" is nobody, not
 * "client".
 */
static bool
peer_sans(X509 *x, struct tls_peer *peer)
{
	GENERAL_NAMES		*sans;
	const GENERAL_NAME	*gn;
	const unsigned char	*d;
	char			 ip[INET6_ADDRSTRLEN];
	int			 i, n, len;

	bool			 any = false;

	if ((sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return false;
	n = sk_GENERAL_NAME_num(sans);
	for (i = 0; i < n; i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type == GEN_DNS || gn->type == GEN_IPADD)
			any = true;
		if (gn->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(gn->d.dNSName);
			len = ASN1_STRING_length(gn->d.dNSName);
			/*
			 * name_ok refuses "*": a wildcard names many hosts,
			 * and an identity is one, so it is never matched.
			 */
			peer_add(peer, (const char *)d, (size_t)len);
		} else if (gn->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(gn->d.iPAddress);
			len = ASN1_STRING_length(gn->d.iPAddress);
			if ((len == 4 && inet_ntop(AF_INET, d, ip,
			    sizeof(ip)) != NULL) || (len == 16 &&
			    inet_ntop(AF_INET6, d, ip, sizeof(ip)) != NULL))
				peer_add(peer, ip, strlen(ip));
		}
	}
	GENERAL_NAMES_free(sans);
	return any;
}

/* The subject's CN, used only when the certificate has no DNS or IP SAN. */
static void
peer_cn(X509 *x, struct tls_peer *peer)
{
	X509_NAME	*subj = X509_get_subject_name(x);
	unsigned char	*cn = NULL;
	int		 i, len;

	if ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) < 0)
		return;
	len = ASN1_STRING_to_UTF8(&cn,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
	if (len > 0)
		peer_add(peer, (const char *)cn, (size_t)len);
	OPENSSL_free(cn);
}

/* One line for logs; control and non-ASCII bytes come out escaped. */
static void
peer_subject(X509 *x, struct tls_peer *peer)
{
	BIO	*bio;
	char	*p;
	long	 len;

	peer->subject[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
	    XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ) >= 0 &&
	    (len = BIO_get_mem_data(bio, &p)) > 0) {
		if ((size_t)len >= sizeof(peer->subject))
			len = sizeof(peer->subject) - 1;
		memcpy(peer->subject, p, (size_t)len);
		peer->subject[len] = '\0';
	}
	BIO_free(bio);
}

static void
peer_fill(SSL *ssl, struct tls_peer *peer)
{
	X509	*x;

	if (peer == NULL)
		return;
	memset(peer, 0, sizeof(*peer));
	/* For log lines and relocctl status, not for decisions. */
	util_text_copy(peer->version, SSL_get_version(ssl),
	    sizeof(peer->version));
	util_text_copy(peer->cipher, SSL_get_cipher_name(ssl),
	    sizeof(peer->cipher));
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL)
		return;
	if (!peer_sans(x, peer))
		peer_cn(x, peer);
	peer_subject(x, peer);
}

/*
 * Connections.
 */

static struct tls_conn *
conn_new(int fd, char *err, size_t errlen)
{
	struct tls_conn	*c;
	int		 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		tls_errf(err, errlen, "fcntl: %s", strerror(errno));
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		tls_errf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = fd;
	return c;
}

static void
conn_free(struct tls_conn *c)
{
	SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

/* The client checks the server's name: a DNS name or an IP literal. */
static int
conn_expect(SSL *ssl, const char *name, char *err, size_t errlen)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(ssl);
	unsigned char		 addr[sizeof(struct in6_addr)];
	int			 ok;

	if (strlen(name) == 0 || strlen(name) > PEER_NAME_MAX) {
		tls_errf(err, errlen, "bad server name to verify");
		return -1;
	}
	if (inet_pton(AF_INET, name, addr) == 1 ||
	    inet_pton(AF_INET6, name, addr) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, name);
	else {
		X509_VERIFY_PARAM_set_hostflags(param,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = X509_VERIFY_PARAM_set1_host(param, name, 0) == 1 &&
		    SSL_set_tlsext_host_name(ssl, name) == 1;
	}
	if (ok != 1) {
		tls_errf(err, errlen, "'%s': cannot verify this server name",
		    name);
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/*
 * After an SSL call failed with r: when OpenSSL wants the socket, waits
 * for it and returns 0 so the caller repeats the call with the same
 * arguments; otherwise says why and returns -1.
 */
static int
ssl_again(struct tls_conn *c, int r, const char *what, const char *expected,
    uint64_t deadline, char *err, size_t errlen)
{
	int	e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return tls_conn_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, deadline, what, err, errlen);
	/* After a fatal error OpenSSL forbids even a close_notify. */
	c->failed = true;
	ssl_reason(c->ssl, e, expected, err, errlen);
	return -1;
}

/*
 * Puts a buffer between OpenSSL's records and the socket, once the
 * handshake is done.  OpenSSL writes each record (at most 16 KiB) with
 * its own write(2); in a busy or emulated dom0 every system call and
 * every wake-up of the peer counts.  tls_write_full flushes the buffer
 * at its end; OpenSSL flushes it itself after an alert (close_notify).
 */
static int
conn_buffer_writes(struct tls_conn *c)
{
	BIO	*sock = SSL_get_wbio(c->ssl), *buf;

	if ((buf = BIO_new(BIO_f_buffer())) == NULL)
		return -1;
	if (BIO_set_write_buffer_size(buf, TLS_WRITE_BUFFER) != 1 ||
	    BIO_up_ref(sock) != 1) {
		BIO_free(buf);
		return -1;
	}
	/* The chain holds the socket BIO's new reference; SSL drops one. */
	SSL_set0_wbio(c->ssl, BIO_push(buf, sock));
	return 0;
}

static int
conn_start(struct tls_ctx *ctx, int fd, bool server, const char *expected,
    uint64_t deadline, struct tls_conn **conn_r, struct tls_peer *peer,
    char *err, size_t errlen)
{
	struct tls_conn	*c;
	int		 r, rc = -1;

	*conn_r = NULL;
	if (peer != NULL)
		memset(peer, 0, sizeof(*peer));
	if ((c = conn_new(fd, err, errlen)) == NULL)
		return -1;
	if ((c->ssl = SSL_new(ctx->ssl)) == NULL ||
	    SSL_set_fd(c->ssl, fd) != 1) {
		tls_errf(err, errlen, "cannot set up a TLS connection");
		goto out;
	}
	if (server)
		SSL_set_accept_state(c->ssl);
	else {
		SSL_set_connect_state(c->ssl);
		if (expected != NULL &&
		    conn_expect(c->ssl, expected, err, errlen) == -1)
			goto out;
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_do_handshake(c->ssl)) == 1)
			break;
		if (ssl_again(c, r, "handshake", expected, deadline, err,
		    errlen) == -1)
			goto out;
	}
	if (conn_buffer_writes(c) == -1) {
		tls_errf(err, errlen, "cannot set up a TLS connection");
		goto out;
	}
	peer_fill(c->ssl, peer);
	*conn_r = c;
	c = NULL;
	rc = 0;
out:
	ERR_clear_error();
	if (c != NULL) {
		c->fd = -1;	/* the caller keeps its fd on failure */
		conn_free(c);
	}
	return rc;
}

int
tls_accept(struct tls_ctx *ctx, int fd, uint64_t deadline,
    struct tls_conn **conn_r, struct tls_peer *peer, char *err,
    size_t errlen)
{
	return conn_start(ctx, fd, true, NULL, deadline, conn_r, peer, err,
	    errlen);
}

int
tls_connect(struct tls_ctx *ctx, int fd, const char *expected_name,
    uint64_t deadline, struct tls_conn **conn_r, struct tls_peer *peer,
    char *err, size_t errlen)
{
	return conn_start(ctx, fd, false, expected_name, deadline, conn_r,
	    peer, err, errlen);
}

int
tls_plain(int fd, struct tls_conn **conn_r)
{
	*conn_r = conn_new(fd, NULL, 0);
	return *conn_r == NULL ? -1 : 0;
}

/*
 * Reading and writing.
 */

static ssize_t
plain_read(struct tls_conn *c, void *buf, size_t len, uint64_t deadline,
    char *err, size_t errlen)
{
	ssize_t	r;

	for (;;) {
		if ((r = read(c->fd, buf, len)) >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			tls_errf(err, errlen, "%s", errno == ECONNRESET ?
			    "peer closed the connection (reset)" :
			    strerror(errno));
			return -1;
		}
		if (tls_conn_wait(c->fd, POLLIN, deadline, "read", err,
		    errlen) == -1)
			return -1;
	}
}

static ssize_t
ssl_read(struct tls_conn *c, void *buf, size_t len, uint64_t deadline,
    char *err, size_t errlen)
{
	size_t	n;
	int	r;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_read_ex(c->ssl, buf, len, &n)) == 1)
			return (ssize_t)n;
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
			return 0;	/* close_notify: a clean end */
		if (ssl_again(c, r, "read", NULL, deadline, err, errlen) == -1)
			return -1;
	}
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t len, uint64_t deadline,
    char *err, size_t errlen)
{
	if (len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (c->ssl == NULL)
		return plain_read(c, buf, len, deadline, err, errlen);
	return ssl_read(c, buf, len, deadline, err, errlen);
}

int
tls_read_full(struct tls_conn *c, void *buf, size_t len, uint64_t deadline,
    char *err, size_t errlen)
{
	unsigned char	*p = buf;
	size_t		 off = 0;
	ssize_t		 r;

	while (off < len) {
		r = tls_read(c, p + off, len - off, deadline, err, errlen);
		if (r == -1)
			return -1;
		if (r == 0) {
			tls_errf(err, errlen, "peer closed the connection after "
			    "%zu of %zu bytes", off, len);
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/*
 * A plaintext write to the socket returned -1: 0 to try again (it was
 * interrupted, or the socket has room again), -1 with err set when the
 * peer is gone, another error struck, or the deadline passed.
 */
static int
plain_write_failed(struct tls_conn *c, uint64_t deadline, char *err,
    size_t errlen)
{
	if (errno == EINTR)
		return 0;
	if (errno != EAGAIN && errno != EWOULDBLOCK) {
		tls_errf(err, errlen, "%s", errno == EPIPE ||
		    errno == ECONNRESET ? "peer closed the connection" :
		    strerror(errno));
		return -1;
	}
	return tls_conn_wait(c->fd, POLLOUT, deadline, "write", err, errlen);
}

/* One successful write of at most len bytes; *n_r says how many. */
static int
plain_write(struct tls_conn *c, const void *buf, size_t len, size_t *n_r,
    uint64_t deadline, char *err, size_t errlen)
{
	ssize_t	r;

	for (;;) {
		r = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (r == -1 && errno == ENOTSOCK)
			r = write(c->fd, buf, len);
		if (r >= 0) {
			*n_r = (size_t)r;
			return 0;
		}
		if (plain_write_failed(c, deadline, err, errlen) == -1)
			return -1;
	}
}

/* SSL_MODE_ENABLE_PARTIAL_WRITE makes a write report each record sent. */
static int
ssl_write(struct tls_conn *c, const void *buf, size_t len, size_t *n_r,
    uint64_t deadline, char *err, size_t errlen)
{
	int	r;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_write_ex(c->ssl, buf, len, n_r)) == 1)
			return 0;
		if (ssl_again(c, r, "write", NULL, deadline, err, errlen) == -1)
			return -1;
	}
}

/* Sends what conn_buffer_writes holds back. */
static int
ssl_flush(struct tls_conn *c, uint64_t deadline, char *err, size_t errlen)
{
	BIO	*b = SSL_get_wbio(c->ssl);

	for (;;) {
		errno = 0;
		if (BIO_flush(b) > 0)
			return 0;
		if (!BIO_should_retry(b)) {
			c->failed = true;
			tls_errf(err, errlen, "%s", errno == EPIPE ||
			    errno == ECONNRESET ? "peer closed the connection" :
			    errno ? strerror(errno) : "write failed");
			return -1;
		}
		if (tls_conn_wait(c->fd, POLLOUT, deadline, "write", err,
		    errlen) == -1)
			return -1;
	}
}

int
tls_write_full(struct tls_conn *c, const void *buf, size_t len,
    uint64_t deadline, char *err, size_t errlen)
{
	const unsigned char	*p = buf;
	size_t			 off = 0, n, chunk;
	int			 r;

	while (off < len) {
		chunk = len - off > SSIZE_MAX ? SSIZE_MAX : len - off;
		if (c->ssl == NULL)
			r = plain_write(c, p + off, chunk, &n, deadline, err,
			    errlen);
		else
			r = ssl_write(c, p + off, chunk, &n, deadline, err,
			    errlen);
		if (r == -1)
			return -1;
		off += n;
	}
	return c->ssl != NULL ? ssl_flush(c, deadline, err, errlen) : 0;
}

/*
 * Plaintext only: the migration stream moves between the worker's pipe
 * and the socket by splice(2), so that its bytes never pass through the
 * network child's memory: on the source a read from the pipe and a
 * write to the socket, on the destination a read from the socket and a
 * write to the pipe, are each one copy fewer per byte (issue 21).  With
 * TLS the bytes must be encrypted in user space and this cannot apply.
 */
bool
tls_is_plain(const struct tls_conn *c)
{
	return c->ssl == NULL;
}

/*
 * Sends hdr, then exactly len bytes spliced from pipe_fd, which must
 * already hold them (FIONREAD said so), so only the socket is waited
 * for.  MSG_MORE keeps the header in the data's first segment.
 */
int
tls_plain_send_from_pipe(struct tls_conn *c, const void *hdr, size_t hdrlen,
    int pipe_fd, size_t len, uint64_t deadline, char *err, size_t errlen)
{
	const unsigned char	*h = hdr;
	size_t			 off = 0;
	ssize_t			 r;

	while (off < hdrlen + len) {
		if (off < hdrlen)
			r = send(c->fd, h + off, hdrlen - off,
			    MSG_NOSIGNAL | MSG_MORE);
		else
			r = splice(pipe_fd, NULL, c->fd, NULL,
			    hdrlen + len - off, SPLICE_F_MOVE |
			    SPLICE_F_NONBLOCK | SPLICE_F_MORE);
		if (r == 0) {
			tls_errf(err, errlen, "the pipe ended early");
			return -1;
		}
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		if (plain_write_failed(c, deadline, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/*
 * Moves exactly len bytes from the socket into pipe_fd.  Returns 0;
 * TLS_SPLICE_PEER when the peer failed (closed, reset, or the deadline
 * passed waiting for it: err says which); or TLS_SPLICE_PIPE when the
 * pipe's reader failed or did not make room by the deadline (errno
 * ETIMEDOUT).  splice's EAGAIN does not say which side is not ready, so
 * the pipe is waited for first, then the socket.
 */
int
tls_plain_recv_to_pipe(struct tls_conn *c, int pipe_fd, size_t len,
    uint64_t deadline, char *err, size_t errlen)
{
	struct pollfd	pfd;
	uint64_t	now;
	ssize_t		r;

	while (len > 0) {
		r = splice(c->fd, NULL, pipe_fd, NULL, len, SPLICE_F_MOVE |
		    SPLICE_F_NONBLOCK);
		if (r > 0) {
			len -= (size_t)r;
			continue;
		}
		if (r == 0) {
			tls_errf(err, errlen, "peer closed the connection "
			    "inside a frame");
			return TLS_SPLICE_PEER;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE)
			return TLS_SPLICE_PIPE;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			tls_errf(err, errlen, "%s", errno == ECONNRESET ?
			    "peer closed the connection (reset)" :
			    strerror(errno));
			return TLS_SPLICE_PEER;
		}
		pfd.fd = pipe_fd;
		pfd.events = POLLOUT;
		for (;;) {
			pfd.revents = 0;
			now = util_now_ms();
			r = poll(&pfd, 1, now >= deadline ? 0 :
			    deadline - now > INT_MAX ? INT_MAX :
			    (int)(deadline - now));
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1)
				return TLS_SPLICE_PIPE;
			break;
		}
		if (r == 0) {
			errno = ETIMEDOUT;
			return TLS_SPLICE_PIPE;
		}
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			errno = EPIPE;
			return TLS_SPLICE_PIPE;
		}
		if (tls_conn_wait(c->fd, POLLIN, deadline, "read", err,
		    errlen) == -1)
			return TLS_SPLICE_PEER;
	}
	return 0;
}

/*
 * Decrypted bytes, or with read-ahead any record bytes, that OpenSSL
 * holds: poll() on the socket cannot see them.  A partial record counts
 * too; reading it waits for the rest, within the reader's deadline.
 */
size_t
tls_pending(struct tls_conn *c)
{
	int	n;

	if (c->ssl == NULL)
		return 0;
	if ((n = SSL_pending(c->ssl)) > 0)
		return (size_t)n;
	return SSL_has_pending(c->ssl) ? 1 : 0;
}

int
tls_fd(const struct tls_conn *c)
{
	return c->fd;
}

/*
 * Sends our close_notify without waiting for the peer's: the protocol
 * above has already agreed that the conversation is over, and the
 * deadline bounds a peer that stopped reading.
 */
void
tls_close(struct tls_conn *c, uint64_t deadline)
{
	int	r, e;

	if (c == NULL)
		return;
	while (c->ssl != NULL && !c->failed) {
		ERR_clear_error();
		if ((r = SSL_shutdown(c->ssl)) >= 0)
			break;
		e = SSL_get_error(c->ssl, r);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    tls_conn_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, deadline, "close", NULL, 0) == -1)
			break;
	}
	ERR_clear_error();
	conn_free(c);
}
