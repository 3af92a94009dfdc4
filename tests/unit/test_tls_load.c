// SPDX-License-Identifier: ISC
/*
 * Unit tests for tls.c's loading of the key, certificate and CA files:
 * owners and modes, mismatches, and the sentence each refusal gives.
 */
#include "tls_fixture.h"

static int
load_err(const char *key, const char *cert, const char *ca, char *err,
    size_t errlen)
{
	char		 k[PATH_MAX], c[PATH_MAX], a[PATH_MAX];
	struct tls_files files = { k, c, a, NULL, 0, NULL };
	struct tls_ctx	*ctx = NULL;
	int		 rc;

	path(k, sizeof(k), "%s", key);
	path(c, sizeof(c), "%s", cert);
	path(a, sizeof(a), "%s", ca);
	err[0] = '\0';
	rc = tls_ctx_load(&files, &ctx, err, errlen);
	CHECK((rc == 0) == (ctx != NULL));
	tls_ctx_free(ctx);
	return rc;
}

static bool
contains(const char *s, const char *sub)
{
	if (strstr(s, sub) != NULL)
		return true;
	fprintf(stderr, "  \"%s\" does not contain \"%s\"\n", s, sub);
	return false;
}

static int
copy_key(const char *to, mode_t mode)
{
	char	cmd[3 * PATH_MAX], p[PATH_MAX];

	(void)snprintf(cmd, sizeof(cmd), "cp '%s/pool/alpha.key' '%s'",
	    tmpdir, path(p, sizeof(p), "%s", to));
	if (system(cmd) != 0)
		return -1;
	return chmod(p, mode);
}

static void
test_key_file_permissions(void)
{
	char	err[512], p[PATH_MAX], q[PATH_MAX];

	CHECK(setup());
	CHECK(load_err("pool/alpha.key", "pool/alpha.pem", "pool/ca.pem",
	    err, sizeof(err)) == 0);
	CHECK(copy_key("loose.key", 0644) == 0);
	CHECK(load_err("loose.key", "pool/alpha.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "loose.key: readable by group or others "
	    "(mode 0644); run chmod 600 on it"));
	CHECK(copy_key("gw.key", 0620) == 0);
	CHECK(load_err("gw.key", "pool/alpha.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "gw.key: writable by group or others"));
	/* A symbolic link is refused, even to a good key. */
	CHECK(symlink(path(p, sizeof(p), "pool/alpha.key"),
	    path(q, sizeof(q), "link.key")) == 0);
	CHECK(load_err("link.key", "pool/alpha.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "link.key: is a symbolic link"));
	/* Owned by someone else: only root can arrange that here. */
	if (geteuid() == 0) {
		CHECK(copy_key("theirs.key", 0600) == 0);
		CHECK(chown(path(p, sizeof(p), "theirs.key"), 4242, 4242) == 0);
		CHECK(load_err("theirs.key", "pool/alpha.pem", "pool/ca.pem",
		    err, sizeof(err)) == -1);
		CHECK(contains(err, "owned by uid 4242, not root"));
	}
}

static void
test_key_cert_mismatch(void)
{
	char	err[512];

	CHECK(setup());
	CHECK(load_err("pool/beta.key", "pool/alpha.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "pool/beta.key does not match the certificate "));
	CHECK(contains(err, "pool/alpha.pem"));
}

static int
write_file(const char *name, const char *text, mode_t mode)
{
	char	p[PATH_MAX];
	int	fd;
	ssize_t	r;

	fd = open(path(p, sizeof(p), "%s", name), O_WRONLY | O_CREAT |
	    O_TRUNC, mode);
	if (fd == -1)
		return -1;
	r = write(fd, text, strlen(text));
	close(fd);
	return r == (ssize_t)strlen(text) ? 0 : -1;
}

static void
test_load_errors(void)
{
	char	err[512], cmd[3 * PATH_MAX];

	CHECK(setup());
	CHECK(load_err("missing.key", "pool/alpha.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "missing.key: no such file"));
	CHECK(load_err("pool/alpha.key", "missing.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "missing.pem: No such file"));
	CHECK(load_err("pool/alpha.key", "pool/alpha.pem", "missing-ca.pem",
	    err, sizeof(err)) == -1);
	CHECK(contains(err, "missing-ca.pem: No such file"));
	CHECK(write_file("junk.key", "not a key\n", 0600) == 0);
	CHECK(load_err("junk.key", "pool/alpha.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "junk.key: not a PEM private key"));
	CHECK(write_file("junk.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", 0644) == 0);
	CHECK(load_err("pool/alpha.key", "junk.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "junk.pem: no PEM certificate in it"));
	CHECK(load_err("pool/alpha.key", "pool/alpha.pem", "junk.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "junk.pem: certificate 1 does not parse"));
	/* The certificate given as the key. */
	CHECK(copy_key("swapped.key", 0600) == 0);
	(void)snprintf(cmd, sizeof(cmd), "cp '%s/pool/alpha.pem' '%s/swapped.key'",
	    tmpdir, tmpdir);
	CHECK(system(cmd) == 0);
	CHECK(load_err("swapped.key", "pool/alpha.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "holds a certificate, not a private key"));
	/* An encrypted key would need a passphrase prompt: refused. */
	(void)snprintf(cmd, sizeof(cmd), "openssl pkey -in '%s/pool/alpha.key' "
	    "-aes128 -passout pass:secret -out '%s/enc.key'", tmpdir, tmpdir);
	CHECK(system(cmd) == 0);
	CHECK(load_err("enc.key", "pool/alpha.pem", "pool/ca.pem", err,
	    sizeof(err)) == -1);
	CHECK(contains(err, "enc.key: the key is encrypted"));
}

UNIT_MAIN("tls_load",
	UNIT_TEST(test_key_file_permissions),
	UNIT_TEST(test_key_cert_mismatch),
	UNIT_TEST(test_load_errors),
)
