// SPDX-License-Identifier: ISC
/* Unit tests for conf.c; the golden files in tests/config cover the rest. */
#include <sys/stat.h>

#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "acl.h"
#include "bounds.h"
#include "conf.h"
#include "log.h"
#include "unit.h"

static char	captured[8192];

static void
capture(int priority, const char *line)
{
	size_t	len = strlen(captured);

	(void)priority;
	snprintf(captured + len, sizeof(captured) - len, "%s\n", line);
}

static struct conf *
load(const char *text)
{
	struct conf	*conf;

	captured[0] = '\0';
	log_set_sink(capture);
	if (conf_load_buffer("t.sxp", text, strlen(text), &conf) == -1)
		return NULL;
	return conf;
}

static void
test_defaults_are_xends(void)
{
	struct conf	*conf = load("");

	CHECK(conf != NULL);
	if (conf == NULL)
		return;
	CHECK_INT(conf->relocation_server, 0);
	CHECK_INT(conf->relocation_port, 8002);
	CHECK_INT(conf->ssl_port, 8003);
	CHECK_STR(conf->relocation_address, "");
	CHECK_INT(conf->max_downtime_ms, 300);
	CHECK_INT(conf->backend, CONF_BACKEND_XEN);
	CHECK_INT(acl_hosts_count(conf->hosts_acl), 0);
	conf_free(conf);
}

static void
test_first_occurrence_wins(void)
{
	struct conf	*conf;

	conf = load("(xend-relocation-port 9000)\n(xend-relocation-port 9001)");
	CHECK(conf != NULL);
	if (conf == NULL)
		return;
	CHECK_INT(conf->relocation_port, 9000);
	CHECK(strstr(captured, "t.sxp:2: warning: xend-relocation-port: "
	    "duplicate ignored; the first, at line 1, wins") != NULL);
	conf_free(conf);
}

static void
test_booleans_any_case(void)
{
	static const char *const yes[] = { "yes", "Y", "1", "ON", "True", "t" };
	static const char *const no[] = { "NO", "n", "0", "Off", "false", "F" };
	char		 text[128];
	struct conf	*conf;
	size_t		 i;

	for (i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "(xend-relocation-server %s)"
		    "(xend-relocation-ssl %s)", yes[i], no[i]);
		conf = load(text);
		CHECK(conf != NULL);
		if (conf == NULL)
			continue;
		CHECK_INT(conf->relocation_server, 1);
		CHECK_INT(conf->ssl_client, 0);
		conf_free(conf);
	}
	CHECK(load("(xend-relocation-server maybe)") == NULL);
}

static void
test_all_errors_reported(void)
{
	CHECK(load("(xend-relocation-port 0)\n(relocd-max-downtime x)\n"
	    "(relocd-bogus 1)\n(relocd-backend kvm)\n") == NULL);
	CHECK(strstr(captured, "t.sxp:1: xend-relocation-port: 0 is out of "
	    "range (1 to 65535)") != NULL);
	CHECK(strstr(captured, "t.sxp:2: relocd-max-downtime: 'x' is not an "
	    "integer") != NULL);
	CHECK(strstr(captured, "t.sxp:3: unknown relocd key 'relocd-bogus'")
	    != NULL);
	CHECK(strstr(captured, "t.sxp:4: relocd-backend: 'kvm' is not one "
	    "of: xen sim") != NULL);
}

static void
test_bare_key_file_resolves_under_etc_xen(void)
{
	struct conf	*conf;

	conf = load("(xend-relocation-server-ssl-key-file host.key)"
	    "(relocd-ca-file /srv/pki/ca.pem)");
	CHECK(conf != NULL);
	if (conf == NULL)
		return;
	CHECK_STR(conf->ssl_key_file, "/etc/xen/host.key");
	CHECK_STR(conf->ca_file, "/srv/pki/ca.pem");
	conf_free(conf);
	CHECK(load("(relocd-ca-file pki/ca.pem)") == NULL);
}

static void
test_hosts_allow_compiled(void)
{
	struct conf	*conf;

	conf = load("(xend-relocation-hosts-allow "
	    "'^localhost$ ^localhost\\\\.localdomain$')");
	CHECK(conf != NULL);
	if (conf == NULL)
		return;
	CHECK_INT(acl_hosts_count(conf->hosts_acl), 2);
	CHECK(acl_hosts_match(conf->hosts_acl, "192.0.2.1",
	    "localhost.localdomain"));
	CHECK(!acl_hosts_match(conf->hosts_acl, "192.0.2.1",
	    "localhostXlocaldomain"));
	conf_free(conf);
}

static void
test_whitespace_only_hosts_allow_is_an_error(void)
{
	CHECK(load("(xend-relocation-hosts-allow '  ')") == NULL);
	CHECK(strstr(captured, "no patterns") != NULL);
}

/* Writes text to a fresh file of the given mode; returns its path. */
static const char *
conf_file(const char *text, mode_t mode)
{
	static char	path[64];
	int		fd;

	(void)snprintf(path, sizeof(path), "/tmp/relocd-test-conf.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) == -1) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	return path;
}

/*
 * The config names programs root runs: a file that group or others can
 * write is refused, with the fix in the sentence; 0644 and 0600 load.
 */
static void
test_writable_config_refused(void)
{
	static const mode_t	ok_modes[] = { 0644, 0600, 0400 };
	static const mode_t	bad_modes[] = { 0664, 0646, 0666 };
	struct conf		*conf = NULL;
	const char		*path;
	size_t			 i;

	log_set_sink(capture);
	for (i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		captured[0] = '\0';
		CHECK((path = conf_file("(xend-relocation-port 8002)\n",
		    bad_modes[i])) != NULL);
		if (path == NULL)
			continue;
		CHECK_INT(conf_load(path, &conf), -1);
		CHECK(conf == NULL);
		CHECK(strstr(captured, "writable by group or others") != NULL);
		CHECK(strstr(captured, "chmod go-w") != NULL);
		unlink(path);
	}
	for (i = 0; i < sizeof(ok_modes) / sizeof(ok_modes[0]); i++) {
		CHECK((path = conf_file("(xend-relocation-port 8002)\n",
		    ok_modes[i])) != NULL);
		if (path == NULL)
			continue;
		CHECK_INT(conf_load(path, &conf), 0);
		CHECK(conf != NULL);
		conf_free(conf);
		conf = NULL;
		unlink(path);
	}
}

UNIT_MAIN("conf",
    UNIT_TEST(test_defaults_are_xends),
    UNIT_TEST(test_first_occurrence_wins),
    UNIT_TEST(test_booleans_any_case),
    UNIT_TEST(test_all_errors_reported),
    UNIT_TEST(test_bare_key_file_resolves_under_etc_xen),
    UNIT_TEST(test_hosts_allow_compiled),
    UNIT_TEST(test_whitespace_only_hosts_allow_is_an_error),
    UNIT_TEST(test_writable_config_refused))
