// SPDX-License-Identifier: ISC
/*
 * Unit tests for the key process (keyproc.c) and the provider that signs
 * through it (tls_key.c): handshakes whose private-key operation is done
 * by a forked key process, in either role and in TLS 1.3 and 1.2, and
 * the key process's refusal of anything that is not a handshake's
 * signed content.
 */
#include <sys/wait.h>

#include "keyproc.h"
#include "msg.h"
#include "tls_fixture.h"
#include "tls_key.h"

static int	key_ctl = -1;
static pid_t	key_pid = -1;
static uint8_t	key_pub[TLS_KEY_PUB_MAX];
static size_t	key_publen;

/* A key process for pool host alpha, as the parent would start one. */
static bool
key_start(void)
{
	char	p[PATH_MAX], err[512];
	int	sv[2];

	if (key_ctl != -1)
		return true;
	if (!setup() || msg_socketpair(sv) == -1)
		return false;
	if ((key_pid = fork()) == 0) {
		close(sv[0]);
		keyproc_main(sv[1]);
	}
	close(sv[1]);
	key_ctl = sv[0];
	if (keyproc_start_key(key_ctl, path(p, sizeof(p), "pool/alpha.key"),
	    key_pub, sizeof(key_pub), &key_publen, err, sizeof(err)) == -1) {
		fprintf(stderr, "  keyproc_start_key: %s\n", err);
		return false;
	}
	return true;
}

/* Host alpha's context with the key left in the key process. */
static struct tls_ctx *
remote_ctx(void)
{
	char		 cert[PATH_MAX], ca[PATH_MAX], err[512];
	struct tls_files files = { NULL, cert, ca, key_pub, key_publen,
	    "alpha.key" };
	struct tls_ctx	*ctx = NULL;

	path(cert, sizeof(cert), "pool/alpha.pem");
	path(ca, sizeof(ca), "pool/ca.pem");
	if (tls_ctx_load(&files, &ctx, err, sizeof(err)) == -1)
		fprintf(stderr, "  tls_ctx_load (remote key): %s\n", err);
	return ctx;
}

static void
test_key_process_starts(void)
{
	char	p[PATH_MAX], err[512];
	uint8_t	pub[TLS_KEY_PUB_MAX];
	size_t	len;
	int	sv[2];
	pid_t	pid;

	CHECK(key_start());
	CHECK(key_publen > 0);
	/* A key file the key process refuses: its reason comes back. */
	CHECK(msg_socketpair(sv) == 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		keyproc_main(sv[1]);
	}
	close(sv[1]);
	CHECK_INT(keyproc_start_key(sv[0], path(p, sizeof(p),
	    "pool/alpha.pem"), pub, sizeof(pub), &len, err, sizeof(err)), -1);
	CHECK(strstr(err, "alpha.pem: readable by group or others") != NULL);
	close(sv[0]);
	CHECK_INT(waitpid(pid, NULL, 0), pid);
}

/* Server alpha signs through the key process; TLS 1.3 and 1.2. */
static void
test_server_signs_through_key_process(void)
{
	struct end	srv = { 0 }, cl = { 0 };
	struct bare	b12 = { .name = "beta", .max_version = TLS1_2_VERSION };
	int		ch;

	CHECK(key_start());
	CHECK((ch = keyproc_channel(key_ctl, TLS_KEY_ROLE_SERVER)) != -1);
	tls_key_set_channel(ch);
	srv.ctx = remote_ctx();
	cl.ctx = ctx_load("pool", "beta", "pool");
	if (srv.ctx == NULL || cl.ctx == NULL) {
		CHECK(srv.ctx != NULL && cl.ctx != NULL);
		return;
	}
	cl.expected = "alpha";
	srv.then = srv_greet;
	cl.then = cli_greet;
	run_pair(&srv, &cl);
	CHECK_INT(srv.rc, 0);
	CHECK_INT(cl.rc, 0);
	CHECK_INT(cl.then_rc, 0);
	CHECK_STR(cl.peer.version, "TLSv1.3");
	srv.then = NULL;
	run_bare(&srv, &b12);
	CHECK_INT(b12.rc, 0);
	CHECK_STR(b12.version, "TLSv1.2");
	tls_ctx_free(srv.ctx);
	tls_ctx_free(cl.ctx);
	tls_key_set_channel(-1);
	close(ch);
}

/* Client alpha signs its CertificateVerify through the key process. */
static void
test_client_signs_through_key_process(void)
{
	struct end	srv = { 0 }, cl = { 0 };
	int		ch;

	CHECK(key_start());
	CHECK((ch = keyproc_channel(key_ctl, TLS_KEY_ROLE_CLIENT)) != -1);
	tls_key_set_channel(ch);
	srv.ctx = ctx_load("pool", "beta", "pool");
	cl.ctx = remote_ctx();
	if (srv.ctx == NULL || cl.ctx == NULL) {
		CHECK(srv.ctx != NULL && cl.ctx != NULL);
		return;
	}
	cl.expected = "beta";
	srv.then = srv_greet;
	cl.then = cli_greet;
	run_pair(&srv, &cl);
	CHECK_INT(srv.rc, 0);
	CHECK_INT(cl.rc, 0);
	CHECK_INT(srv.then_rc, 0);
	CHECK(has_name(&srv.peer, "alpha"));
	tls_ctx_free(srv.ctx);
	tls_ctx_free(cl.ctx);
	tls_key_set_channel(-1);
	close(ch);
}

/* A channel signs for its own role only: a server's is no client's. */
static void
test_channel_role_is_kept(void)
{
	struct end	srv = { 0 }, cl = { 0 };
	int		ch;

	CHECK(key_start());
	CHECK((ch = keyproc_channel(key_ctl, TLS_KEY_ROLE_CLIENT)) != -1);
	tls_key_set_channel(ch);
	srv.ctx = remote_ctx();
	cl.ctx = ctx_load("pool", "beta", "pool");
	if (srv.ctx == NULL || cl.ctx == NULL) {
		CHECK(srv.ctx != NULL && cl.ctx != NULL);
		return;
	}
	cl.expected = "alpha";
	run_pair(&srv, &cl);
	CHECK_INT(srv.rc, -1);
	CHECK_INT(cl.rc, -1);
	tls_ctx_free(srv.ctx);
	tls_ctx_free(cl.ctx);
	tls_key_set_channel(-1);
	close(ch);
}

/* Asked for a signature over bytes of its choosing, a child gets none. */
static void
test_no_signing_oracle(void)
{
	static struct tls_key_req	req;
	struct tls_key_rep		rep;
	ssize_t				r;
	int				ch;

	CHECK(key_start());
	CHECK((ch = keyproc_channel(key_ctl, TLS_KEY_ROLE_SERVER)) != -1);
	req.md = TLS_KEY_MD_SHA256;
	req.len = 32;
	memset(req.tbs, 'A', req.len);
	CHECK(send(ch, &req, offsetof(struct tls_key_req, tbs) + req.len,
	    0) > 0);
	r = recv(ch, &rep, sizeof(rep), 0);
	CHECK_INT(r, offsetof(struct tls_key_rep, sig));
	CHECK_INT(rep.len, 0);
	/* The same request in a handshake's form is signed. */
	req.len = 64 + 33 + 1 + 32;
	memset(req.tbs, 0x20, 64);
	memcpy(req.tbs + 64, "TLS 1.3, server CertificateVerify", 34);
	memset(req.tbs + 98, 'h', 32);
	CHECK(send(ch, &req, offsetof(struct tls_key_req, tbs) + req.len,
	    0) > 0);
	r = recv(ch, &rep, sizeof(rep), 0);
	CHECK(rep.len > 0 && r == (ssize_t)(offsetof(struct tls_key_rep,
	    sig) + rep.len));
	close(ch);
}

static void
test_tbs_forms(void)
{
	uint8_t	b[200];

	memset(b, 0x20, 64);
	memcpy(b + 64, "TLS 1.3, client CertificateVerify", 34);
	CHECK(keyproc_tbs_ok(TLS_KEY_ROLE_CLIENT, b, 64 + 34 + 32));
	CHECK(keyproc_tbs_ok(TLS_KEY_ROLE_CLIENT, b, 64 + 34 + 48));
	CHECK(!keyproc_tbs_ok(TLS_KEY_ROLE_CLIENT, b, 64 + 34 + 20));
	CHECK(!keyproc_tbs_ok(TLS_KEY_ROLE_SERVER, b, 64 + 34 + 32));
	CHECK(!keyproc_tbs_ok(TLS_KEY_ROLE_NONE, b, 64 + 34 + 32));
	b[3] = 'x';
	CHECK(!keyproc_tbs_ok(TLS_KEY_ROLE_CLIENT, b, 64 + 34 + 32));
	/* TLS 1.2 ECDHE parameters: two randoms, curve, one point. */
	memset(b, 0, sizeof(b));
	b[64] = 3;
	b[66] = 23;
	b[67] = 65;
	CHECK(keyproc_tbs_ok(TLS_KEY_ROLE_SERVER, b, 64 + 4 + 65));
	CHECK(!keyproc_tbs_ok(TLS_KEY_ROLE_SERVER, b, 64 + 4 + 64));
	CHECK(!keyproc_tbs_ok(TLS_KEY_ROLE_CLIENT, b, 64 + 4 + 65));
	/* TLS 1.2 transcript: handshake messages from a ClientHello on. */
	memset(b, 0, sizeof(b));
	b[0] = 1, b[3] = 10;
	b[14] = 2, b[17] = 10;
	b[28] = 11, b[31] = 4;
	b[36] = 14;
	CHECK(keyproc_tbs_ok(TLS_KEY_ROLE_CLIENT, b, 40));
	CHECK(!keyproc_tbs_ok(TLS_KEY_ROLE_CLIENT, b, 41));
	b[0] = 2;
	CHECK(!keyproc_tbs_ok(TLS_KEY_ROLE_CLIENT, b, 40));
}

static void
test_key_process_exits(void)
{
	int	status = -1;

	CHECK(key_start());
	close(key_ctl);
	key_ctl = -1;
	CHECK_INT(waitpid(key_pid, &status, 0), key_pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

UNIT_MAIN("tls_key",
    UNIT_TEST(test_key_process_starts),
    UNIT_TEST(test_server_signs_through_key_process),
    UNIT_TEST(test_client_signs_through_key_process),
    UNIT_TEST(test_channel_role_is_kept),
    UNIT_TEST(test_no_signing_oracle),
    UNIT_TEST(test_tbs_forms),
    UNIT_TEST(test_key_process_exits))
