/* SPDX-License-Identifier: ISC */
/*
 * Fixtures shared by the TLS unit tests (test_tls.c, test_tls_load.c): a
 * throw-away PKI made by scripts/relocd-pki, contexts, and a server thread
 * and client that run one connection between them.
 */
#ifndef RELOCD_TLS_FIXTURE_H
#define RELOCD_TLS_FIXTURE_H

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "bounds.h"
#include "tls.h"
#include "unit.h"
#include "util.h"

/* Generous for a loaded 2-core machine; only the deadline tests are tight. */
#define SLOW_MS		10000

static char	 tmpdir[] = "/tmp/relocd-test-tls.XXXXXX";
static int	 pki_state;	/* 0 not tried, 1 ready, -1 failed */

static inline const char *
path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline const char *
path(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(buf, len, "%s/", tmpdir);
	if (n < 0 || (size_t)n >= len)
		return buf;
	va_start(ap, fmt);
	(void)vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return buf;
}

static inline void
cleanup(void)
{
	char	cmd[PATH_MAX + 16];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", tmpdir);
}

/* Runs relocd-pki with args; says so on stderr if it fails unexpectedly. */
static inline int
pki(const char *args, bool may_fail)
{
	const char	*top = getenv("TOP");
	char		 cmd[2 * PATH_MAX];

	(void)snprintf(cmd, sizeof(cmd), "'%s/scripts/relocd-pki' %s >/dev/null",
	    top != NULL ? top : ".", args);
	if (system(cmd) != 0) {
		if (!may_fail)
			fprintf(stderr, "  failed: %s\n", cmd);
		return -1;
	}
	return 0;
}

/* Makes the pool CA, hosts, and the certificates relocd must refuse. */
static inline bool
setup(void)
{
	static const char *const cmds[] = {
		"init -d %s/pool",
		"host -d %s/pool alpha 127.0.0.1 ::1 2001:db8:0:0::1",
		"host -d %s/pool beta",
		"host -d %s/pool --expired old",
		"selfsigned -d %s/pool rogue",
		"init -d %s/other",
		"host -d %s/other intruder",
	};
	char	args[PATH_MAX + 128];
	size_t	i;

	if (pki_state != 0)
		return pki_state == 1;
	pki_state = -1;
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpdir) == NULL)
		return false;
	atexit(cleanup);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		(void)snprintf(args, sizeof(args), cmds[i], tmpdir);
		if (pki(args, false) == -1)
			return false;
	}
	pki_state = 1;
	return true;
}

/*
 * A certificate the pool's CA signs but relocd-pki would never make:
 * subject subj, extensions exts ("-addext ..." options), key mode 0600.
 */
static inline bool
odd_cert(const char *name, const char *subj, const char *exts)
{
	char	cmd[4 * PATH_MAX];

	(void)snprintf(cmd, sizeof(cmd), "cd '%s/pool' && umask 077 && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout %s.key -out %s.pem -subj '%s' %s -CA ca.pem "
	    "-CAkey ca.key -days 30 2>/dev/null && chmod 644 %s.pem",
	    tmpdir, name, name, subj, exts, name);
	if (system(cmd) != 0) {
		fprintf(stderr, "  failed: %s\n", cmd);
		return false;
	}
	return true;
}

/* A context for host NAME of the CA in cadir ("pool" or "other"). */
static inline struct tls_ctx *
ctx_load(const char *keydir, const char *name, const char *cadir)
{
	char		 key[PATH_MAX], cert[PATH_MAX], ca[PATH_MAX];
	char		 err[512];
	struct tls_files files = { key, cert, ca, NULL, 0, NULL };
	struct tls_ctx	*ctx = NULL;

	path(key, sizeof(key), "%s/%s.key", keydir, name);
	path(cert, sizeof(cert), "%s/%s.pem", keydir, name);
	path(ca, sizeof(ca), "%s/ca.pem", cadir);
	if (tls_ctx_load(&files, &ctx, err, sizeof(err)) == -1)
		fprintf(stderr, "  tls_ctx_load %s: %s\n", name, err);
	return ctx;
}

/*
 * One end of a connection.  The server end runs in a thread; "then" runs
 * after a successful handshake; the end closes its fd or connection.
 */
struct end {
	struct tls_ctx	*ctx;
	int		 fd;
	const char	*expected;	/* client: server name to verify */
	uint64_t	 deadline;
	int		 rc;
	struct tls_peer	 peer;
	char		 err[256];
	void		(*then)(struct end *, struct tls_conn *);
	int		 then_rc;
	char		 then_err[256];
	int		 hold;		/* plain writer: closes after a byte here */
};

static inline void *
server_main(void *arg)
{
	struct end	*s = arg;
	struct tls_conn	*c = NULL;

	s->rc = tls_accept(s->ctx, s->fd, s->deadline, &c, &s->peer, s->err,
	    sizeof(s->err));
	if (s->rc == -1) {
		close(s->fd);
		return NULL;
	}
	if (s->then != NULL)
		s->then(s, c);
	tls_close(c, util_now_ms() + 1000);
	return NULL;
}

static inline void
client_run(struct end *cl)
{
	struct tls_conn	*c = NULL;

	cl->rc = tls_connect(cl->ctx, cl->fd, cl->expected, cl->deadline, &c,
	    &cl->peer, cl->err, sizeof(cl->err));
	if (cl->rc == -1) {
		close(cl->fd);
		return;
	}
	if (cl->then != NULL)
		cl->then(cl, c);
	tls_close(c, util_now_ms() + 1000);
}

/* A refused client sees the server's alert when it next reads. */
static inline void
read_refusal(struct end *e, struct tls_conn *c)
{
	char	b;

	e->then_rc = (int)tls_read(c, &b, 1, util_now_ms() + SLOW_MS,
	    e->then_err, sizeof(e->then_err));
}

/* Runs a server thread and a client over a socketpair. */
static inline void
run_pair(struct end *srv, struct end *cl)
{
	pthread_t	t;
	int		sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	srv->fd = sv[0];
	cl->fd = sv[1];
	srv->deadline = cl->deadline = util_now_ms() + SLOW_MS;
	CHECK(pthread_create(&t, NULL, server_main, srv) == 0);
	client_run(cl);
	pthread_join(t, NULL);
}

static inline bool
has_name(const struct tls_peer *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->nnames; i++)
		if (strcmp(p->names[i], name) == 0)
			return true;
	return false;
}

/* The server writes a greeting and waits for "bye", then a clean close. */
static inline void
srv_greet(struct end *e, struct tls_conn *c)
{
	char	buf[8];

	e->then_rc = -1;
	if (tls_write_full(c, "hello", 5, e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1 ||
	    tls_read_full(c, buf, 3, e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1 || memcmp(buf, "bye", 3) != 0)
		return;
	/* The client's close_notify: tls_read says 0, a clean end. */
	e->then_rc = (int)tls_read(c, buf, sizeof(buf), e->deadline,
	    e->then_err, sizeof(e->then_err));
}

static inline void
cli_greet(struct end *e, struct tls_conn *c)
{
	char		buf[8];
	char		err[128];
	uint64_t	t0;

	e->then_rc = -1;
	if (tls_read_full(c, buf, 5, e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1 || memcmp(buf, "hello", 5) != 0)
		return;
	/* The server now waits for us: a short read deadline must pass. */
	t0 = util_now_ms();
	CHECK(tls_read(c, buf, 1, t0 + 200, err, sizeof(err)) == -1);
	CHECK_STR(err, "read deadline passed");
	CHECK(util_now_ms() - t0 >= 200);
	if (tls_write_full(c, "bye", 3, e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1)
		return;
	e->then_rc = 0;
}

/*
 * Clients written with OpenSSL directly, to do what tls_connect never
 * does: offer no certificate, or an old protocol version.
 */
struct bare {
	int		 fd;
	const char	*name;		/* pool host to present, or NULL */
	int		 max_version;
	int		 rc;		/* SSL_connect == 1 ? 0 : -1 */
	int		 read_rc;
	char		 version[16];
};

static inline void *
bare_client(void *arg)
{
	struct bare	*b = arg;
	SSL_CTX		*ctx;
	SSL		*ssl = NULL;
	char		 p[PATH_MAX], q[PATH_MAX], c;
	struct timeval	 tv = { SLOW_MS / 1000, 0 };

	b->rc = -1;
	(void)setsockopt(b->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* Old versions need the security level lowered to be offered. */
	if (SSL_CTX_set_max_proto_version(ctx, b->max_version) != 1 ||
	    SSL_CTX_set_min_proto_version(ctx, 0) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1 ||
	    SSL_CTX_load_verify_locations(ctx, path(p, sizeof(p),
	    "pool/ca.pem"), NULL) != 1)
		goto out;
	if (b->name != NULL && (SSL_CTX_use_certificate_file(ctx,
	    path(p, sizeof(p), "pool/%s.pem", b->name), SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, path(q, sizeof(q),
	    "pool/%s.key", b->name), SSL_FILETYPE_PEM) != 1))
		goto out;
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, b->fd) != 1)
		goto out;
	/* TLS 1.3: the handshake completes; a refusal comes on read. */
	if (SSL_connect(ssl) == 1) {
		b->rc = 0;
		(void)snprintf(b->version, sizeof(b->version), "%s",
		    SSL_get_version(ssl));
		b->read_rc = SSL_read(ssl, &c, 1);
	}
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(b->fd);
	return NULL;
}

/* Server alpha in this thread against a bare client in another. */
static inline void
run_bare(struct end *srv, struct bare *b)
{
	pthread_t	t;
	int		sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	srv->fd = sv[0];
	b->fd = sv[1];
	srv->deadline = util_now_ms() + SLOW_MS;
	CHECK(pthread_create(&t, NULL, bare_client, b) == 0);
	server_main(srv);
	pthread_join(t, NULL);
}

#endif /* RELOCD_TLS_FIXTURE_H */
