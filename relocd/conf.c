// SPDX-License-Identifier: ISC
/*
 * The configuration: /etc/xen/xend-config.sxp, read the way xend read it,
 * so that an existing file works unchanged.
 *
 * The file is a sequence of (key value) lists.  As in xend, the first
 * occurrence of a key wins and keys we do not know are ignored, except
 * that a misspelt relocd-… key is an error: it can only be ours.  Values
 * are range-checked, and every problem is reported as file:line before we
 * give up, so an administrator fixes them all in one pass.
 *
 * Runs in the parent (at start-up and on SIGHUP) and in relocctl.  The
 * file is root-owned but is still parsed with every bound in bounds.h.
 */
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <net/if.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acl.h"
#include "bounds.h"
#include "conf.h"
#include "log.h"
#include "msg.h"
#include "proc.h"
#include "sxp.h"
#include "util.h"

enum conf_type {
	CT_BOOL,
	CT_INT,
	CT_ENUM,
	CT_PATH,		/* bare names resolve under /etc/xen */
	CT_ADDRESS,		/* IP literal, host name or interface */
	CT_WORD,		/* a user or group name */
	CT_HOSTS,		/* hosts-allow regex list */
	CT_NAMES,		/* certificate name list */
	CT_COMMAND		/* absolute path, or a name looked up in PATH */
};

struct conf_key {
	const char		*name;
	enum conf_type		 type;
	size_t			 offset;
	long long		 min, max;	/* CT_INT; a string's length */
	const char *const	*choices;	/* CT_ENUM, index = value */
	const char		*def;		/* default, as written in sxp */
};

static const char *const backend_choices[] = { "xen", "sim", NULL };
static const char *const nonconv_choices[] = {
	"stop-and-copy", "throttle", "abort", NULL
};
static const char *const compress_choices[] = { "off", "on", "auto", NULL };

#define O(field)	offsetof(struct conf, field)
#define MEMBER_SIZE(type, m)	sizeof(((type *)0)->m)

/*
 * A string key's max is the longest value that fits the buffer the key
 * fills later; the buffers must keep up with the limits.
 */
_Static_assert(MEMBER_SIZE(struct sockaddr_un, sun_path) > CTL_PATH_MAX,
    "relocd-control-socket fits a unix socket address");
_Static_assert(MEMBER_SIZE(struct proc_identity, chroot_dir) > CONF_DIR_MAX,
    "relocd-chroot fits the network child's chroot_dir");
_Static_assert(MEMBER_SIZE(struct msg_worker_start, state_dir) > CONF_DIR_MAX,
    "relocd-sim-dir fits a worker's state_dir");
_Static_assert(MEMBER_SIZE(struct msg_worker_start, xl_command) >
    XL_COMMAND_MAX, "relocd-xl-command fits a worker's xl_command");

/* The order here is the order relocd -nv prints in. */
static const struct conf_key conf_keys[] = {
	{ "xend-relocation-server", CT_BOOL, O(relocation_server),
	    0, 0, NULL, "no" },
	{ "xend-relocation-port", CT_INT, O(relocation_port),
	    1, 65535, NULL, "8002" },
	{ "xend-relocation-address", CT_ADDRESS, O(relocation_address),
	    0, 0, NULL, "" },
	{ "xend-relocation-hosts-allow", CT_HOSTS, O(hosts_allow),
	    0, 0, NULL, "" },
	{ "xend-relocation-ssl-server", CT_BOOL, O(ssl_server),
	    0, 0, NULL, "no" },
	{ "xend-relocation-ssl-port", CT_INT, O(ssl_port),
	    1, 65535, NULL, "8003" },
	{ "xend-relocation-server-ssl-key-file", CT_PATH, O(ssl_key_file),
	    0, CONF_PATH_MAX, NULL, "/etc/xen/relocd/host.key" },
	{ "xend-relocation-server-ssl-cert-file", CT_PATH, O(ssl_cert_file),
	    0, CONF_PATH_MAX, NULL, "/etc/xen/relocd/host.pem" },
	{ "xend-relocation-ssl", CT_BOOL, O(ssl_client),
	    0, 0, NULL, "no" },
	{ "relocd-ca-file", CT_PATH, O(ca_file),
	    0, CONF_PATH_MAX, NULL, "/etc/xen/relocd/ca.pem" },
	{ "relocd-peers-allow", CT_NAMES, O(peers_allow),
	    0, 0, NULL, "" },
	{ "relocd-insecure-plaintext", CT_BOOL, O(insecure_plaintext),
	    0, 0, NULL, "no" },
	{ "relocd-source-address", CT_ADDRESS, O(source_address),
	    0, 0, NULL, "" },
	{ "relocd-max-downtime", CT_INT, O(max_downtime_ms),
	    1, 600000, NULL, "300" },
	{ "relocd-max-bandwidth", CT_INT, O(max_bandwidth_mbit),
	    0, 1000000, NULL, "0" },
	{ "relocd-max-iterations", CT_INT, O(max_iterations),
	    1, 1000, NULL, "30" },
	{ "relocd-migration-timeout", CT_INT, O(migration_timeout_s),
	    0, 604800, NULL, "1800" },
	{ "relocd-max-migrations", CT_INT, O(max_migrations),
	    1, 64, NULL, "8" },
	{ "relocd-control-socket", CT_PATH, O(control_socket),
	    0, CTL_PATH_MAX, NULL, "/run/relocd/relocd.sock" },
	{ "relocd-control-group", CT_WORD, O(control_group),
	    0, 0, NULL, "" },
	{ "relocd-state-dir", CT_PATH, O(state_dir),
	    0, CONF_DIR_MAX, NULL, "/var/lib/relocd" },
	{ "relocd-backend", CT_ENUM, O(backend),
	    0, 0, backend_choices, "xen" },
	{ "relocd-on-nonconvergence", CT_ENUM, O(nonconvergence),
	    0, 0, nonconv_choices, "stop-and-copy" },
	{ "relocd-compress", CT_ENUM, O(compress),
	    0, 0, compress_choices, "off" },
	{ "relocd-user", CT_WORD, O(user),
	    0, 0, NULL, "relocd" },
	{ "relocd-chroot", CT_PATH, O(chroot_dir),
	    0, CONF_DIR_MAX, NULL, "/run/relocd/empty" },
	{ "relocd-handshake-timeout", CT_INT, O(handshake_timeout_s),
	    1, 300, NULL, "10" },
	{ "relocd-idle-timeout", CT_INT, O(idle_timeout_s),
	    1, 3600, NULL, "60" },
	{ "relocd-max-preauth", CT_INT, O(max_preauth),
	    1, 1000, NULL, "64" },
	{ "relocd-max-preauth-per-host", CT_INT, O(max_preauth_per_host),
	    1, 1000, NULL, "8" },
	{ "relocd-sim-dir", CT_PATH, O(sim_dir),
	    0, CONF_DIR_MAX, NULL, "/run/relocd/sim" },
	{ "relocd-xl-command", CT_COMMAND, O(xl_command),
	    0, XL_COMMAND_MAX, NULL, "xl" },
	{ "relocd-metrics-file", CT_PATH, O(metrics_file),
	    0, CONF_PATH_MAX, NULL, "" },
};

#define CONF_NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

/* Where we are while loading one file. */
struct conf_ctx {
	const char	*file;
	int		 errors;
	int		 set_line[CONF_NKEYS];	/* 0: not set yet */
};

static void
conf_error(struct conf_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
conf_warning(struct conf_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
conf_error(struct conf_ctx *ctx, int line, const char *fmt, ...)
{
	char	msg[LOG_LINE_MAX];
	va_list	ap;

	if (++ctx->errors > CONF_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", ctx->file, line, msg);
}

static void
conf_warning(struct conf_ctx *ctx, int line, const char *fmt, ...)
{
	char	msg[LOG_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: warning: %s", ctx->file, line, msg);
}

const char *
conf_default_path(void)
{
	const char	*env = getenv(CONF_ENV_PATH);

	return env != NULL && *env != '\0' ? env : CONF_DEFAULT_PATH;
}

static int *
conf_int_field(struct conf *conf, const struct conf_key *key)
{
	return (int *)(void *)((char *)conf + key->offset);
}

static char **
conf_str_field(struct conf *conf, const struct conf_key *key)
{
	return (char **)(void *)((char *)conf + key->offset);
}

static const char *
conf_str_value(const struct conf *conf, const struct conf_key *key)
{
	const char	*const *p;

	p = (const char *const *)(const void *)((const char *)conf +
	    key->offset);
	return *p != NULL ? *p : "";
}

static int
conf_int_value(const struct conf *conf, const struct conf_key *key)
{
	return *(const int *)(const void *)((const char *)conf + key->offset);
}

/* xend's get_config_bool: these words, in any case. */
static int
conf_set_bool(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	static const char *const yes[] = { "yes", "y", "1", "on", "true", "t" };
	static const char *const no[] = { "no", "n", "0", "off", "false", "f" };
	size_t	i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*conf_int_field(conf, key) = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*conf_int_field(conf, key) = 0;
			return 0;
		}
	}
	conf_error(ctx, line, "%s: '%s' is not a boolean (use yes or no)",
	    key->name, v);
	return -1;
}

static int
conf_set_int(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	const char	*errstr;
	long long	 n;

	n = util_strtonum(v, key->min, key->max, &errstr);
	if (errstr != NULL) {
		if (strcmp(errstr, "invalid") == 0)
			conf_error(ctx, line, "%s: '%s' is not an integer",
			    key->name, v);
		else
			conf_error(ctx, line, "%s: %s is out of range "
			    "(%lld to %lld)", key->name, v, key->min,
			    key->max);
		return -1;
	}
	*conf_int_field(conf, key) = (int)n;
	return 0;
}

/* Appends word to a space-separated normalised list. */
static int
conf_list_append(char *list, size_t size, const char *word)
{
	size_t	len = strlen(list);
	int	r;

	r = snprintf(list + len, size - len, "%s%s", len ? " " : "", word);
	return r < 0 || (size_t)r >= size - len ? -1 : 0;
}

/* The index of name in a NULL-ended list of choices; -1 if absent. */
static int
conf_choice_index(const char *const *choices, const char *name)
{
	int	i;

	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(name, choices[i]) == 0)
			return i;
	return -1;
}

static int
conf_set_enum(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	char	list[128] = "";
	int	i;

	if ((i = conf_choice_index(key->choices, v)) != -1) {
		*conf_int_field(conf, key) = i;
		return 0;
	}
	for (i = 0; key->choices[i] != NULL; i++)
		conf_list_append(list, sizeof(list), key->choices[i]);
	conf_error(ctx, line, "%s: '%s' is not one of: %s", key->name, v, list);
	return -1;
}

/* Replaces a string field; the old value is freed. */
static int
conf_store(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	char	**field = conf_str_field(conf, key);
	char	 *copy;

	if (key->max > 0 && strlen(v) > (size_t)key->max) {
		conf_error(ctx, line, "%s: longer than %lld characters",
		    key->name, key->max);
		return -1;
	}
	if ((copy = strdup(v)) == NULL) {
		conf_error(ctx, line, "%s: out of memory", key->name);
		return -1;
	}
	free(*field);
	*field = copy;
	return 0;
}

static int
conf_set_path(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	char	path[CONF_PATH_MAX + 1];
	int	r;

	if (*v == '\0' || *v == '/')
		return conf_store(ctx, conf, key, v, line);
	if (strchr(v, '/') != NULL) {
		conf_error(ctx, line, "%s: '%s' is a relative path; use an "
		    "absolute path or a bare file name (looked up in %s)",
		    key->name, v, CONF_XEN_DIR);
		return -1;
	}
	r = snprintf(path, sizeof(path), "%s/%s", CONF_XEN_DIR, v);
	if (r < 0 || (size_t)r >= sizeof(path)) {
		conf_error(ctx, line, "%s: longer than %d characters",
		    key->name, CONF_PATH_MAX);
		return -1;
	}
	return conf_store(ctx, conf, key, path, line);
}

static int
conf_is_name_chars(const char *v, const char *extra)
{
	for (; *v != '\0'; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		    (*v >= '0' && *v <= '9') || strchr(extra, *v) != NULL))
			return 0;
	return 1;
}

/*
 * xend accepted an IP literal, a host name or an interface name here; we
 * accept the same and resolve it when binding.
 */
static int
conf_set_address(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	if (*v == '\0' || inet_pton(AF_INET, v, buf) == 1 ||
	    inet_pton(AF_INET6, v, buf) == 1 ||
	    (strlen(v) <= HOST_NAME_LEN_MAX &&
	    conf_is_name_chars(v, ".-_")))
		return conf_store(ctx, conf, key, v, line);
	conf_error(ctx, line, "%s: '%s' is not an IP address, host name or "
	    "interface name", key->name, v);
	return -1;
}

/*
 * The program a worker runs for xl-receive: an absolute path, or a bare
 * name looked up in PATH (then /usr/sbin).  Unlike CT_PATH, a bare name
 * does not resolve under /etc/xen.
 */
static int
conf_set_command(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	const char	*c;

	for (c = v; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			break;
	if (*v == '\0' || *c != '\0') {
		conf_error(ctx, line, "%s: '%s' is not a program name or path",
		    key->name, v);
		return -1;
	}
	if (*v != '/' && strchr(v, '/') != NULL) {
		conf_error(ctx, line, "%s: '%s' is a relative path; use an "
		    "absolute path or a program name looked up in PATH",
		    key->name, v);
		return -1;
	}
	return conf_store(ctx, conf, key, v, line);
}

static int
conf_set_word(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	if (strlen(v) <= 32 && conf_is_name_chars(v, "._-"))
		return conf_store(ctx, conf, key, v, line);
	conf_error(ctx, line, "%s: '%s' is not a valid user or group name",
	    key->name, v);
	return -1;
}

/*
 * Splits a list option into words on white space.  xend split hosts-allow
 * on single spaces, so a double space made an empty pattern that matched
 * every host; here an empty piece is dropped with a warning instead.
 */
static int
conf_split(struct conf_ctx *ctx, const struct conf_key *key, const char *v,
    int line, int (*add)(void *, const char *, char *, size_t), void *obj,
    char *norm, size_t normsize)
{
	char		 word[SXP_TOKEN_MAX + 1], err[512];
	const char	*p = v, *end;
	int		 rc = 0, empty = 0;
	size_t		 n;

	norm[0] = '\0';
	for (;;) {
		end = p + strcspn(p, " \t\n");
		n = (size_t)(end - p);
		if (n == 0 && *v != '\0')
			empty++;
		if (n > 0) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (add(obj, word, err, sizeof(err)) == -1) {
				conf_error(ctx, line, "%s: %s", key->name, err);
				rc = -1;
			} else if (conf_list_append(norm, normsize, word) == -1) {
				conf_error(ctx, line, "%s: too long", key->name);
				rc = -1;
			}
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	if (empty > 0 && line > 0)
		conf_warning(ctx, line, "%s: %d empty pattern%s dropped (extra"
		    " spaces; xend would have allowed every host)", key->name,
		    empty, empty == 1 ? "" : "s");
	if (rc == 0 && *v != '\0' && norm[0] == '\0') {
		conf_error(ctx, line, "%s: no patterns; write '' to allow "
		    "every host, or list patterns", key->name);
		rc = -1;
	}
	return rc;
}

static int
conf_add_host(void *obj, const char *w, char *err, size_t errlen)
{
	return acl_hosts_add(obj, w, err, errlen);
}

static int
conf_add_name(void *obj, const char *w, char *err, size_t errlen)
{
	return acl_names_add(obj, w, err, errlen);
}

static int
conf_set_hosts(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	char		 norm[SXP_TOKEN_MAX + 1];
	struct acl	*acl;

	if ((acl = acl_hosts_new()) == NULL) {
		conf_error(ctx, line, "%s: out of memory", key->name);
		return -1;
	}
	if (conf_split(ctx, key, v, line, conf_add_host, acl, norm,
	    sizeof(norm)) == -1 || conf_store(ctx, conf, key, norm, line)) {
		acl_hosts_free(acl);
		return -1;
	}
	acl_hosts_free(conf->hosts_acl);
	conf->hosts_acl = acl;
	return 0;
}

static int
conf_set_names(struct conf_ctx *ctx, struct conf *conf,
    const struct conf_key *key, const char *v, int line)
{
	char			 norm[SXP_TOKEN_MAX + 1];
	struct acl_names	*names;

	if ((names = acl_names_new()) == NULL) {
		conf_error(ctx, line, "%s: out of memory", key->name);
		return -1;
	}
	if (conf_split(ctx, key, v, line, conf_add_name, names, norm,
	    sizeof(norm)) == -1 || conf_store(ctx, conf, key, norm, line)) {
		acl_names_free(names);
		return -1;
	}
	acl_names_free(conf->peers_names);
	conf->peers_names = names;
	return 0;
}

static int
conf_set(struct conf_ctx *ctx, struct conf *conf, const struct conf_key *key,
    const char *v, int line)
{
	switch (key->type) {
	case CT_BOOL:
		return conf_set_bool(ctx, conf, key, v, line);
	case CT_INT:
		return conf_set_int(ctx, conf, key, v, line);
	case CT_ENUM:
		return conf_set_enum(ctx, conf, key, v, line);
	case CT_PATH:
		return conf_set_path(ctx, conf, key, v, line);
	case CT_ADDRESS:
		return conf_set_address(ctx, conf, key, v, line);
	case CT_WORD:
		return conf_set_word(ctx, conf, key, v, line);
	case CT_HOSTS:
		return conf_set_hosts(ctx, conf, key, v, line);
	case CT_NAMES:
		return conf_set_names(ctx, conf, key, v, line);
	case CT_COMMAND:
		return conf_set_command(ctx, conf, key, v, line);
	}
	return -1;
}

static const struct conf_key *
conf_find_key(const char *name, size_t *index_r)
{
	size_t	i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0) {
			*index_r = i;
			return &conf_keys[i];
		}
	return NULL;
}

/* One top-level (key value ...) entry. */
static void
conf_entry(struct conf_ctx *ctx, struct conf *conf, const struct sxp_node *e)
{
	const struct conf_key	*key;
	const struct sxp_node	*name = e->first, *value;
	size_t			 i;

	if (e->type != SXP_LIST || name == NULL || name->type == SXP_LIST) {
		log_debug("%s:%d: ignoring an entry that is not (key value)",
		    ctx->file, e->line);
		return;
	}
	if ((key = conf_find_key(name->text, &i)) == NULL) {
		if (strncmp(name->text, "relocd-", 7) == 0)
			conf_error(ctx, e->line, "unknown relocd key '%s'",
			    name->text);
		else
			log_debug("%s:%d: ignoring xend key '%s'", ctx->file,
			    e->line, name->text);
		return;
	}
	if (ctx->set_line[i] != 0) {
		conf_warning(ctx, e->line, "%s: duplicate ignored; the first, "
		    "at line %d, wins", key->name, ctx->set_line[i]);
		return;
	}
	ctx->set_line[i] = e->line;
	if ((value = name->next) == NULL) {
		conf_warning(ctx, e->line, "%s: no value; using the default",
		    key->name);
		ctx->set_line[i] = 0;
		return;
	}
	if (value->type == SXP_LIST) {
		conf_error(ctx, value->line, "%s: expected a value, not a list",
		    key->name);
		return;
	}
	if (strlen(value->text) != value->len) {
		conf_error(ctx, value->line, "%s: value contains a NUL byte",
		    key->name);
		return;
	}
	if (value->next != NULL)
		conf_warning(ctx, e->line, "%s: extra values ignored",
		    key->name);
	conf_set(ctx, conf, key, value->text, value->line);
}

/* Defaults go through the same setters as the file, so they are checked. */
static void
conf_apply_defaults(struct conf_ctx *ctx, struct conf *conf)
{
	size_t	i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (ctx->set_line[i] == 0 &&
		    conf_set(ctx, conf, &conf_keys[i], conf_keys[i].def, 0))
			fatalx("built-in default for %s is invalid",
			    conf_keys[i].name);
}

int
conf_load_buffer(const char *file, const char *buf, size_t len,
    struct conf **conf_r)
{
	struct conf_ctx		 ctx;
	struct sxp_error	 err;
	struct sxp_node		*root = NULL, *e;
	struct conf		*conf = NULL;

	*conf_r = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.file = file;
	if (sxp_parse(buf, len, &root, &err) == -1) {
		conf_error(&ctx, err.line, "%s", err.msg);
		goto out;
	}
	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (conf->path = strdup(file)) == NULL) {
		conf_error(&ctx, 1, "out of memory");
		goto out;
	}
	for (e = root->first; e != NULL; e = e->next)
		conf_entry(&ctx, conf, e);
	conf_apply_defaults(&ctx, conf);
	if (ctx.errors > CONF_ERRORS_MAX)
		log_warnx("%s: %d more errors not shown", file,
		    ctx.errors - CONF_ERRORS_MAX);
out:
	sxp_free(root);
	if (ctx.errors > 0) {
		conf_free(conf);
		return -1;
	}
	*conf_r = conf;
	return 0;
}

/*
 * The config names programs root runs (relocd-xl-command) and the keys
 * and CA it trusts, so whoever can write it is root: it must be owned by
 * root (or by the user running us, for tests) and writable by nobody
 * else, as key files are.  Checked on the descriptor that was read.
 */
static int
conf_check_owner(const char *path, const struct stat *st)
{
	mode_t	mode = st->st_mode & 07777;

	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		log_warnx("%s: owned by uid %u, not root; relocd runs programs "
		    "it names, so run chown root on it", path,
		    (unsigned)st->st_uid);
		return -1;
	}
	if (mode & 022) {
		log_warnx("%s: writable by group or others (mode 0%03o); relocd "
		    "runs programs it names, so run chmod go-w on it", path,
		    (unsigned)mode);
		return -1;
	}
	return 0;
}

int
conf_load(const char *path, struct conf **conf_r)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len;
	int		 rc;

	*conf_r = NULL;
	if (util_read_file_stat(path, CONF_FILE_MAX, &buf, &len, &st) == -1) {
		if (errno == EFBIG)
			log_warnx("%s: larger than %d bytes", path,
			    CONF_FILE_MAX);
		else
			log_warn("%s", path);
		return -1;
	}
	if (conf_check_owner(path, &st) == -1)
		rc = -1;
	else
		rc = conf_load_buffer(path, buf, len, conf_r);
	free(buf);
	return rc;
}

/* Prints the effective configuration as sxp that reads back the same. */
void
conf_print(const struct conf *conf, FILE *f)
{
	const struct conf_key	*key;
	char			 quoted[4 * SXP_TOKEN_MAX + 3];
	const char		*s;
	size_t			 i;

	for (i = 0; i < CONF_NKEYS; i++) {
		key = &conf_keys[i];
		switch (key->type) {
		case CT_BOOL:
			fprintf(f, "(%s %s)\n", key->name,
			    conf_int_value(conf, key) ? "yes" : "no");
			break;
		case CT_INT:
			fprintf(f, "(%s %d)\n", key->name,
			    conf_int_value(conf, key));
			break;
		case CT_ENUM:
			fprintf(f, "(%s %s)\n", key->name,
			    key->choices[conf_int_value(conf, key)]);
			break;
		default:
			s = conf_str_value(conf, key);
			if (sxp_quote(s, strlen(s), quoted, sizeof(quoted)))
				fatalx("%s: value too long to print",
				    key->name);
			fprintf(f, "(%s %s)\n", key->name, quoted);
			break;
		}
	}
}

void
conf_free(struct conf *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].type != CT_BOOL &&
		    conf_keys[i].type != CT_INT && conf_keys[i].type != CT_ENUM)
			free(*conf_str_field(conf, &conf_keys[i]));
	acl_hosts_free(conf->hosts_acl);
	acl_names_free(conf->peers_names);
	free(conf->path);
	free(conf);
}

const char *
conf_backend_name(int backend)
{
	return backend >= 0 && backend <= CONF_BACKEND_SIM ?
	    backend_choices[backend] : "unknown";
}

const char *
conf_nonconvergence_name(int choice)
{
	return choice >= 0 && choice <= CONF_NONCONV_ABORT ?
	    nonconv_choices[choice] : "unknown";
}

/* The choice named as relocd-on-nonconvergence names it; -1 if none. */
int
conf_nonconvergence_parse(const char *name)
{
	return conf_choice_index(nonconv_choices, name);
}

const char *
conf_compress_name(int choice)
{
	return choice >= 0 && choice <= CONF_COMPRESS_AUTO ?
	    compress_choices[choice] : "unknown";
}

/* The mode named as relocd-compress names it; -1 if none. */
int
conf_compress_parse(const char *name)
{
	return conf_choice_index(compress_choices, name);
}

int
conf_backend_parse(const char *name, int *backend_r)
{
	int	i;

	if ((i = conf_choice_index(backend_choices, name)) == -1)
		return -1;
	*backend_r = i;
	return 0;
}
