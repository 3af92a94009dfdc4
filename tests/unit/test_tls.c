// SPDX-License-Identifier: ISC
/*
 * Unit tests for tls.c: real handshakes between a server thread and a
 * client in the main thread, over socketpairs and loopback TCP, with
 * certificates made by scripts/relocd-pki in a temporary directory
 * (tls_fixture.h).  Loading key files is in test_tls_load.c.
 *
 * In TLS 1.3 the client finishes its handshake before the server has
 * judged the client's certificate, so a refused client learns of the
 * refusal from the alert on its first read; the tests read once to see it.
 */
#include "tls_fixture.h"

static void
test_pki_makes_certificates(void)
{
	struct stat	st;
	char		p[PATH_MAX];

	CHECK(setup());
	CHECK(stat(path(p, sizeof(p), "pool/ca.key"), &st) == 0 &&
	    (st.st_mode & 0777) == 0600);
	CHECK(stat(path(p, sizeof(p), "pool/alpha.key"), &st) == 0 &&
	    (st.st_mode & 0777) == 0600);
	CHECK(stat(path(p, sizeof(p), "pool/alpha.pem"), &st) == 0 &&
	    (st.st_mode & 0777) == 0644);
	/* A second init must not replace the CA. */
	(void)snprintf(p, sizeof(p), "init -d %s/pool 2>/dev/null", tmpdir);
	CHECK(pki(p, true) == -1);
}


static void
test_handshake_ok(void)
{
	struct end	srv = { 0 }, cl = { 0 };

	CHECK(setup());
	srv.ctx = ctx_load("pool", "alpha", "pool");
	cl.ctx = ctx_load("pool", "beta", "pool");
	CHECK(srv.ctx != NULL && cl.ctx != NULL);
	if (srv.ctx == NULL || cl.ctx == NULL)
		goto out;
	cl.expected = "alpha";
	srv.then = srv_greet;
	cl.then = cli_greet;
	run_pair(&srv, &cl);
	CHECK_INT(srv.rc, 0);
	CHECK_INT(cl.rc, 0);
	/* The server sees the client's DNS SAN; the client all of alpha's. */
	CHECK_INT(srv.peer.nnames, 1);
	CHECK_STR(srv.peer.names[0], "beta");
	CHECK_STR(srv.peer.subject, "CN=beta");
	CHECK_STR(srv.peer.version, "TLSv1.3");
	CHECK(srv.peer.cipher[0] != '\0');
	CHECK_INT(cl.peer.nnames, 4);
	CHECK_STR(cl.peer.names[0], "alpha");
	CHECK(has_name(&cl.peer, "127.0.0.1"));
	CHECK(has_name(&cl.peer, "::1"));
	CHECK(has_name(&cl.peer, "2001:db8::1"));
	CHECK_STR(cl.peer.version, "TLSv1.3");
	CHECK_INT(cl.then_rc, 0);
	CHECK_INT(srv.then_rc, 0);
out:
	tls_ctx_free(srv.ctx);
	tls_ctx_free(cl.ctx);
}

/* The server's IP SANs verify; names it does not hold do not. */
static void
test_server_name_check(void)
{
	static const struct {
		const char	*name;
		int		 rc;
	} cases[] = {
		{ "127.0.0.1", 0 },
		{ "::1", 0 },
		{ "gamma.example.org", -1 },
		{ "192.0.2.99", -1 },
	};
	struct tls_ctx	*a, *b;
	char		 want[128];
	size_t		 i;

	CHECK(setup());
	a = ctx_load("pool", "alpha", "pool");
	b = ctx_load("pool", "beta", "pool");
	CHECK(a != NULL && b != NULL);
	for (i = 0; a != NULL && b != NULL && i < 4; i++) {
		struct end	srv = { .ctx = a }, cl = { .ctx = b };

		cl.expected = cases[i].name;
		run_pair(&srv, &cl);
		CHECK_INT(cl.rc, cases[i].rc);
		if (cases[i].rc == 0)
			continue;
		(void)snprintf(want, sizeof(want),
		    "certificate does not name '%s'", cases[i].name);
		CHECK_STR(cl.err, want);
		/* The client aborts with an alert, so the server fails too. */
		CHECK_INT(srv.rc, -1);
		CHECK(strstr(srv.err, "peer") != NULL);
	}
	tls_ctx_free(a);
	tls_ctx_free(b);
}

/* Server alpha refuses a client with the given credentials. */
static void
refused_client(const char *keydir, const char *name, const char *srv_err,
    const char *cl_err)
{
	struct end	srv = { 0 }, cl = { 0 };

	CHECK(setup());
	srv.ctx = ctx_load("pool", "alpha", "pool");
	/* The client trusts the pool CA, so only its own certificate fails. */
	cl.ctx = ctx_load(keydir, name, "pool");
	CHECK(srv.ctx != NULL && cl.ctx != NULL);
	if (srv.ctx != NULL && cl.ctx != NULL) {
		cl.expected = "alpha";
		cl.then = read_refusal;
		run_pair(&srv, &cl);
		CHECK_INT(srv.rc, -1);
		CHECK_STR(srv.err, srv_err);
		CHECK_INT(cl.rc, 0);
		CHECK_INT(cl.then_rc, -1);
		CHECK_STR(cl.then_err, cl_err);
	}
	tls_ctx_free(srv.ctx);
	tls_ctx_free(cl.ctx);
}

static void
test_self_signed_client(void)
{
	refused_client("pool", "rogue", "self-signed certificate",
	    "peer rejected our certificate: unknown CA");
}

/*
 * A leaf that is itself a CA could sign more "hosts": refused, though
 * the pool's CA signed it and its purposes are right.
 */
static void
test_ca_leaf_client(void)
{
	CHECK(setup());
	CHECK(odd_cert("caleaf", "/CN=caleaf", "-addext "
	    "'basicConstraints=critical,CA:TRUE' -addext "
	    "'extendedKeyUsage=serverAuth,clientAuth' -addext "
	    "'subjectAltName=DNS:caleaf'"));
	refused_client("pool", "caleaf",
	    "certificate is a CA's (CA:TRUE), not a host's",
	    "peer rejected our certificate (certificate unknown; its log "
	    "says why)");
}

/*
 * A certificate whose only SAN is a wildcard is nobody: not the
 * wildcard (one identity is one host), and not its CN either, since a
 * certificate with a DNS or IP SAN never names itself by CN (RFC 6125).
 */
static void
test_wildcard_san_is_nobody(void)
{
	struct end	srv = { 0 }, cl = { 0 };

	CHECK(setup());
	CHECK(odd_cert("wild", "/CN=client", "-addext "
	    "'basicConstraints=critical,CA:FALSE' -addext "
	    "'extendedKeyUsage=serverAuth,clientAuth' -addext "
	    "'subjectAltName=DNS:*.example.org'"));
	srv.ctx = ctx_load("pool", "alpha", "pool");
	cl.ctx = ctx_load("pool", "wild", "pool");
	CHECK(srv.ctx != NULL && cl.ctx != NULL);
	if (srv.ctx != NULL && cl.ctx != NULL) {
		cl.expected = "alpha";
		srv.then = srv_greet;
		cl.then = cli_greet;
		run_pair(&srv, &cl);
		CHECK_INT(srv.rc, 0);
		CHECK_INT(srv.peer.nnames, 0);
		CHECK(!has_name(&srv.peer, "client"));
		CHECK(!has_name(&srv.peer, "*.example.org"));
		CHECK_STR(srv.peer.subject, "CN=client");
	}
	tls_ctx_free(srv.ctx);
	tls_ctx_free(cl.ctx);
}

static void
test_client_from_other_ca(void)
{
	refused_client("other", "intruder",
	    "unknown CA: certificate not signed by the configured CA",
	    "peer rejected our certificate: unknown CA");
}

static void
test_expired_client(void)
{
	refused_client("pool", "old", "certificate has expired",
	    "peer rejected our certificate: certificate has expired");
}

static void
test_no_client_certificate(void)
{
	struct end	srv = { 0 };
	struct bare	b = { .name = NULL, .max_version = 0 };

	CHECK(setup());
	if ((srv.ctx = ctx_load("pool", "alpha", "pool")) == NULL) {
		CHECK(srv.ctx != NULL);
		return;
	}
	run_bare(&srv, &b);
	CHECK_INT(srv.rc, -1);
	CHECK_STR(srv.err, "no client certificate");
	CHECK_INT(b.rc, 0);
	CHECK(b.read_rc <= 0);
	tls_ctx_free(srv.ctx);
}

/* TLS 1.2 is accepted, with a forward-secret AEAD suite; 1.1 is not. */
static void
test_protocol_versions(void)
{
	struct end	srv = { 0 }, old = { 0 };
	struct bare	b12 = { .name = "beta", .max_version = TLS1_2_VERSION };
	struct bare	b11 = { .name = "beta", .max_version = TLS1_1_VERSION };

	CHECK(setup());
	srv.ctx = ctx_load("pool", "alpha", "pool");
	old.ctx = srv.ctx;
	if (srv.ctx == NULL) {
		CHECK(srv.ctx != NULL);
		return;
	}
	run_bare(&srv, &b12);
	CHECK_INT(b12.rc, 0);
	CHECK_STR(b12.version, "TLSv1.2");
	CHECK_INT(srv.rc, 0);
	CHECK_STR(srv.peer.version, "TLSv1.2");
	CHECK(strncmp(srv.peer.cipher, "ECDHE-", 6) == 0);
	CHECK(strstr(srv.peer.cipher, "GCM") != NULL ||
	    strstr(srv.peer.cipher, "CHACHA20") != NULL);
	CHECK_STR(srv.peer.names[0], "beta");
	run_bare(&old, &b11);
	CHECK_INT(b11.rc, -1);
	CHECK_INT(old.rc, -1);
	CHECK_STR(old.err, "peer offers only TLS versions older than 1.2");
	tls_ctx_free(srv.ctx);
}

/* The client side refuses a server whose certificate is not the pool's. */
static void
test_client_refuses_unknown_server(void)
{
	struct end	srv = { 0 }, cl = { 0 };

	CHECK(setup());
	/* The server trusts the pool CA; its own certificate is not from it. */
	srv.ctx = ctx_load("other", "intruder", "pool");
	cl.ctx = ctx_load("pool", "beta", "pool");
	CHECK(srv.ctx != NULL && cl.ctx != NULL);
	if (srv.ctx != NULL && cl.ctx != NULL) {
		cl.expected = "intruder";
		run_pair(&srv, &cl);
		CHECK_INT(cl.rc, -1);
		CHECK_STR(cl.err, "unknown CA: certificate not signed by the "
		    "configured CA");
		CHECK_INT(srv.rc, -1);
		CHECK_STR(srv.err, "peer rejected our certificate: unknown CA");
	}
	tls_ctx_free(srv.ctx);
	tls_ctx_free(cl.ctx);
}

/* xend's old plaintext protocol against a TLS server. */
static void
test_plain_client_to_tls_server(void)
{
	static const char xend[] = "(receive)\n(domain (name guest))\n";
	struct end	 srv = { 0 };
	struct tls_conn	*c = NULL;
	pthread_t	 t;
	char		 err[128];
	int		 sv[2];

	CHECK(setup());
	if ((srv.ctx = ctx_load("pool", "alpha", "pool")) == NULL) {
		CHECK(srv.ctx != NULL);
		return;
	}
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	srv.fd = sv[0];
	srv.deadline = util_now_ms() + SLOW_MS;
	CHECK(pthread_create(&t, NULL, server_main, &srv) == 0);
	CHECK(tls_plain(sv[1], &c) == 0);
	CHECK(tls_write_full(c, xend, sizeof(xend) - 1, util_now_ms() + SLOW_MS,
	    err, sizeof(err)) == 0);
	pthread_join(t, NULL);
	tls_close(c, util_now_ms() + 100);
	CHECK_INT(srv.rc, -1);
	CHECK_STR(srv.err, "wrong version number: peer is not speaking TLS");
	tls_ctx_free(srv.ctx);
}

/* A peer that never speaks: both sides give up at the deadline. */
static void
test_silent_peer_deadline(void)
{
	struct tls_ctx	*ctx;
	struct tls_conn	*c = NULL;
	char		 err[128];
	uint64_t	 t0, took;
	int		 sv[2], server;

	CHECK(setup());
	if ((ctx = ctx_load("pool", "alpha", "pool")) == NULL) {
		CHECK(ctx != NULL);
		return;
	}
	for (server = 0; server < 2; server++) {
		CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
		t0 = util_now_ms();
		if (server)
			CHECK(tls_accept(ctx, sv[0], t0 + 300, &c, NULL, err,
			    sizeof(err)) == -1);
		else
			CHECK(tls_connect(ctx, sv[0], "alpha", t0 + 300, &c,
			    NULL, err, sizeof(err)) == -1);
		took = util_now_ms() - t0;
		CHECK_STR(err, "handshake deadline passed");
		CHECK(took >= 300);
		CHECK(took < 2000);
		CHECK(c == NULL);
		close(sv[0]);
		close(sv[1]);
	}
	tls_ctx_free(ctx);
}

/* A peer that hangs up at once, and one that speaks HTTP. */
static void
test_peer_hangs_up(void)
{
	static const char get[] = "GET / HTTP/1.0\r\n\r\n";
	struct tls_ctx	*ctx;
	struct tls_conn	*c = NULL;
	char		 err[128];
	int		 sv[2];

	CHECK(setup());
	if ((ctx = ctx_load("pool", "alpha", "pool")) == NULL) {
		CHECK(ctx != NULL);
		return;
	}
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[1]);
	CHECK(tls_accept(ctx, sv[0], util_now_ms() + SLOW_MS, &c, NULL, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "peer closed the connection");
	close(sv[0]);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(write(sv[1], get, sizeof(get) - 1) == sizeof(get) - 1);
	CHECK(tls_accept(ctx, sv[0], util_now_ms() + SLOW_MS, &c, NULL, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "HTTP request: peer is not speaking TLS");
	close(sv[0]);
	close(sv[1]);
	tls_ctx_free(ctx);
}


static void
fill(unsigned char *buf, size_t len, unsigned seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)((i * 2654435761u + seed) >> 13);
}

#define UP_BYTES	(4u << 20)
#define DOWN_BYTES	(3u << 20)

/* Server side of the bulk test: 100-byte message, read 4 MiB, send 3. */
static void
srv_bulk(struct end *e, struct tls_conn *c)
{
	unsigned char	*got = malloc(UP_BYTES), *want = malloc(UP_BYTES);
	unsigned char	 msg[100];

	e->then_rc = -1;
	if (got == NULL || want == NULL)
		goto out;
	fill(msg, sizeof(msg), 7);
	fill(want, UP_BYTES, 1);
	if (tls_write_full(c, msg, sizeof(msg), e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1 ||
	    tls_read_full(c, got, UP_BYTES, e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1 || memcmp(got, want, UP_BYTES) != 0)
		goto out;
	fill(want, DOWN_BYTES, 2);
	if (tls_write_full(c, want, DOWN_BYTES, e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1)
		goto out;
	e->then_rc = 0;
out:
	free(got);
	free(want);
}

static void
cli_bulk(struct end *e, struct tls_conn *c)
{
	unsigned char	*buf = malloc(UP_BYTES), *want = malloc(UP_BYTES);
	unsigned char	 msg[100], exp[100];

	e->then_rc = -1;
	if (buf == NULL || want == NULL)
		goto out;
	/* Read part of the first record: the rest is pending in OpenSSL. */
	fill(exp, sizeof(exp), 7);
	CHECK(tls_read_full(c, msg, 10, e->deadline, e->then_err,
	    sizeof(e->then_err)) == 0);
	CHECK_INT(tls_pending(c), 90);
	CHECK(tls_read_full(c, msg + 10, 90, e->deadline, e->then_err,
	    sizeof(e->then_err)) == 0);
	CHECK(memcmp(msg, exp, sizeof(msg)) == 0);
	fill(buf, UP_BYTES, 1);
	if (tls_write_full(c, buf, UP_BYTES, e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1 ||
	    tls_read_full(c, buf, DOWN_BYTES, e->deadline, e->then_err,
	    sizeof(e->then_err)) == -1)
		goto out;
	fill(want, DOWN_BYTES, 2);
	CHECK(memcmp(buf, want, DOWN_BYTES) == 0);
	/* The server closes with close_notify: a clean end, 0. */
	e->then_rc = (int)tls_read(c, buf, 1, e->deadline, e->then_err,
	    sizeof(e->then_err));
out:
	free(buf);
	free(want);
}

/* Bulk data both ways over loopback TCP, the server named by its IP. */
static void
test_round_trip_tcp(void)
{
	struct end		srv = { 0 }, cl = { 0 };
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);
	pthread_t		t;
	int			lfd;

	CHECK(setup());
	srv.ctx = ctx_load("pool", "alpha", "pool");
	cl.ctx = ctx_load("pool", "beta", "pool");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(lfd != -1 && bind(lfd, (struct sockaddr *)&sin, len) == 0 &&
	    listen(lfd, 1) == 0 &&
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == 0);
	cl.fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(cl.fd, (struct sockaddr *)&sin, len) == 0);
	srv.fd = accept(lfd, NULL, NULL);
	CHECK(srv.fd != -1 && srv.ctx != NULL && cl.ctx != NULL);
	if (srv.fd != -1 && srv.ctx != NULL && cl.ctx != NULL) {
		srv.deadline = cl.deadline = util_now_ms() + SLOW_MS;
		cl.expected = "127.0.0.1";
		srv.then = srv_bulk;
		cl.then = cli_bulk;
		CHECK(pthread_create(&t, NULL, server_main, &srv) == 0);
		client_run(&cl);
		pthread_join(t, NULL);
		CHECK_INT(srv.rc, 0);
		CHECK_INT(cl.rc, 0);
		CHECK_INT(srv.then_rc, 0);
		CHECK_INT(cl.then_rc, 0);
		if (srv.then_rc != 0 || cl.then_rc != 0)
			fprintf(stderr, "  server: %s; client: %s\n",
			    srv.then_err, cl.then_err);
	}
	close(lfd);
	tls_ctx_free(srv.ctx);
	tls_ctx_free(cl.ctx);
}

static void *
plain_writer(void *arg)
{
	struct end	*e = arg;
	struct tls_conn	*c = NULL;
	unsigned char	*buf = malloc(UP_BYTES);

	e->rc = -1;
	if (buf != NULL && tls_plain(e->fd, &c) == 0) {
		fill(buf, UP_BYTES, 3);
		e->rc = tls_write_full(c, buf, UP_BYTES, e->deadline, e->err,
		    sizeof(e->err));
		/* Stay silent through the reader's deadline test. */
		if (read(e->hold, buf, 1) != 1)
			e->rc = -1;
		tls_close(c, util_now_ms() + 100);
	} else
		close(e->fd);
	free(buf);
	return NULL;
}

static void
test_plain_round_trip(void)
{
	struct end	 w = { 0 };
	struct tls_conn	*c = NULL;
	unsigned char	*buf = malloc(UP_BYTES), *want = malloc(UP_BYTES);
	pthread_t	 t;
	char		 err[128];
	uint64_t	 t0;
	int		 sv[2], hold[2];

	CHECK(buf != NULL && want != NULL);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(pipe(hold) == 0);
	w.fd = sv[0];
	w.hold = hold[0];
	w.deadline = util_now_ms() + SLOW_MS;
	CHECK(pthread_create(&t, NULL, plain_writer, &w) == 0);
	CHECK(tls_plain(sv[1], &c) == 0);
	CHECK_INT(tls_fd(c), sv[1]);
	if (buf != NULL && want != NULL) {
		CHECK(tls_read_full(c, buf, UP_BYTES, w.deadline, err,
		    sizeof(err)) == 0);
		fill(want, UP_BYTES, 3);
		CHECK(memcmp(buf, want, UP_BYTES) == 0);
	}
	CHECK_INT(tls_pending(c), 0);
	t0 = util_now_ms();
	CHECK(tls_read(c, buf, 1, t0 + 100, err, sizeof(err)) == -1);
	CHECK_STR(err, "read deadline passed");
	CHECK(util_now_ms() - t0 >= 100);
	/* Now the writer closes: end of stream. */
	CHECK(write(hold[1], "", 1) == 1);
	CHECK(tls_read(c, buf, 1, util_now_ms() + SLOW_MS, err,
	    sizeof(err)) == 0);
	pthread_join(t, NULL);
	CHECK_INT(w.rc, 0);
	tls_close(c, util_now_ms() + 100);
	close(hold[0]);
	close(hold[1]);
	free(buf);
	free(want);
}

UNIT_MAIN("tls",
	UNIT_TEST(test_pki_makes_certificates),
	UNIT_TEST(test_handshake_ok),
	UNIT_TEST(test_server_name_check),
	UNIT_TEST(test_no_client_certificate),
	UNIT_TEST(test_protocol_versions),
	UNIT_TEST(test_client_refuses_unknown_server),
	UNIT_TEST(test_self_signed_client),
	UNIT_TEST(test_client_from_other_ca),
	UNIT_TEST(test_ca_leaf_client),
	UNIT_TEST(test_wildcard_san_is_nobody),
	UNIT_TEST(test_expired_client),
	UNIT_TEST(test_plain_client_to_tls_server),
	UNIT_TEST(test_silent_peer_deadline),
	UNIT_TEST(test_peer_hangs_up),
	UNIT_TEST(test_round_trip_tcp),
	UNIT_TEST(test_plain_round_trip),
)
