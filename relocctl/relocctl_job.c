// SPDX-License-Identifier: ISC
/*
 * relocctl's commands that start work in the daemon and follow it:
 * migrate (with xm migrate's options), save, restore, cancel, resolve,
 * and the sim backend's sim-create and sim-destroy.  While a migration runs,
 * relocctl shows one progress line on a terminal, or with --json one JSON
 * object per reply from the daemon (relocctl_json.c), and ends with a
 * report.
 *
 * Runs as the invoking user; save and restore open the file here, with
 * that user's rights, and pass the descriptor to the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "ctl.h"
#include "pause.h"
#include "proto.h"
#include "relocctl.h"
#include "sxp.h"
#include "target.h"
#include "util.h"

/* A migration may take as long as relocd-migration-timeout allows. */
#define JOB_READ_TIMEOUT_MS	(24 * 3600 * 1000)

struct follow {
	int	json;
	int	tty;
	int	shown;		/* a progress line is on the terminal */
	int	told;		/* the target out of reach was told */
};

/* An integer member of a reply's object; 0 if absent or null. */
static long long
num(const json_t *o, const char *name)
{
	return json_integer_value(json_object_get(o, name));
}

/* A string member of a reply's object, or def, escaped for the terminal. */
static const char *
str(const json_t *o, const char *name, const char *def)
{
	const char	*v = json_string_value(json_object_get(o, name));

	return relocctl_display(v != NULL ? v : def);
}

/*
 * One progress line on a terminal, redrawn in place.  The sim backend
 * also says how much memory the bytes carried: its zero pages travel as
 * their numbers only, so the two part.
 */
static void
print_progress(struct follow *fw, const json_t *m)
{
	long long	bytes = num(m, "bytes"), mem = num(m, "memory");
	long long	sent = num(m, "memory-sent");

	if (fw->json || !fw->tty)
		return;
	if (sent > 0)
		printf("\r  round %-3lld %4lld MiB of memory (%lld%%) in %4lld "
		    "MiB, %lld zero pages", num(m, "round"), sent >> 20,
		    mem ? sent * 100 / mem : 0, bytes >> 20,
		    num(m, "zero-pages"));
	else
		printf("\r  round %-3lld %4lld MiB sent (%lld%% of memory)",
		    num(m, "round"), bytes >> 20, mem ? bytes * 100 / mem : 0);
	/* A compressed stream: its bytes per byte on the wire so far. */
	if (num(m, "wire-bytes") > 0)
		printf("  zstd %.2fx", (double)num(m, "stream-bytes") /
		    (double)num(m, "wire-bytes"));
	printf("  %5lld MiB/s  dirtying %5lld MiB/s  downtime ~%lld ms  "
	    "%.1fs   ", num(m, "bandwidth") >> 20, num(m, "dirty-rate") >> 20,
	    num(m, "downtime-ms"), num(m, "elapsed-ms") / 1000.0);
	fflush(stdout);
	fw->shown = 1;
}

/*
 * The downtime target out of reach (relocd/target.c), once, on stderr,
 * from the first reply that says it: a progress report before the stop,
 * or the result.  With --json, the JSON carries it.
 */
static void
print_target(struct follow *fw, const json_t *m)
{
	struct target	t;
	char		text[512];

	if (fw->json || fw->told || target_from_json(json_object_get(m,
	    "target-unreachable"), &t) == -1 || t.reason == TARGET_REACHABLE ||
	    target_format(&t, text, sizeof(text)) == -1)
		return;
	fw->told = 1;
	if (fw->shown) {
		printf("\n");
		fflush(stdout);
		fw->shown = 0;
	}
	fprintf(stderr, "relocctl: %s\n", text);
}

/* The parts of the pause, those measured (relocd/pause.c). */
static void
print_pause(const json_t *m)
{
	struct pause	pa;
	char		text[256];

	if (pause_from_json(json_object_get(m, "pause"), &pa) == 0 &&
	    pa.known != 0 && pause_format(&pa, text, sizeof(text)) == 0)
		printf("  the pause: %s\n", text);
}

/* What the prediction took the pause's fixed cost to be, and whence. */
static void
print_fixed_cost(const json_t *m)
{
	if (num(m, "fixed-cost-samples") > 0)
		printf("  predicted with a fixed cost of %lld ms, learnt from "
		    "%lld migration%s\n", num(m, "fixed-cost-ms"),
		    num(m, "fixed-cost-samples"),
		    num(m, "fixed-cost-samples") == 1 ? "" : "s");
	else if (json_object_get(m, "fixed-cost-ms") != NULL)
		printf("  predicted with a fixed cost of %lld ms, a first "
		    "guess\n", num(m, "fixed-cost-ms"));
}

/* The report of a job that succeeded, on stdout. */
static void
print_done(const json_t *m, const char *what, const char *guest,
    const char *text)
{
	if (strcmp(what, "migrate") == 0) {
		printf("%s: migrated in %.2f s, downtime %lld ms (predicted "
		    "%lld ms), %lld MiB sent in %lld rounds\n", guest,
		    num(m, "elapsed-ms") / 1000.0, num(m, "downtime-ms"),
		    num(m, "predicted-downtime-ms"), num(m, "bytes") >> 20,
		    num(m, "rounds"));
		if (num(m, "memory-sent") > 0 && num(m, "bytes") > 0)
			printf("  %lld MiB of memory went as %lld MiB on the "
			    "wire (%.1fx), %lld zero pages as their numbers "
			    "only\n", num(m, "memory-sent") >> 20,
			    num(m, "bytes") >> 20, (double)num(m,
			    "memory-sent") / (double)num(m, "bytes"),
			    num(m, "zero-pages"));
		if (strcmp(str(m, "compression", ""), "zstd") == 0 &&
		    num(m, "wire-bytes") > 0)
			printf("  the stream's %lld MiB went as %lld MiB of "
			    "zstd on the wire (%.2fx)\n", num(m, "bytes") >> 20,
			    num(m, "wire-bytes") >> 20, (double)num(m,
			    "bytes") / (double)num(m, "wire-bytes"));
		if (num(m, "skipped-pages") > 0)
			printf("  %lld pages dirtied again within their round "
			    "were left to the next (--skip-redirtied)\n",
			    num(m, "skipped-pages"));
		if (num(m, "throttle") != 0 && num(m, "throttle") < 100)
			printf("  the guest was throttled to %lld%% to "
			    "converge\n", num(m, "throttle"));
		/* Only the sim backend hashes memory; Xen has no such step. */
		if (num(m, "digest-ms") > 0)
			printf("  up to %lld ms of it went to the sim backend's "
			    "check of the memory digest\n", num(m, "digest-ms"));
		print_pause(m);
		print_fixed_cost(m);
	} else if (strcmp(what, "check") == 0)
		printf("%s: the destination would take it; every check passed "
		    "(name and uuid free, memory, guest type, Xen version, CPU "
		    "features, clocks, bridges and disks)\n", guest);
	else if (strcmp(what, "resolve") == 0)
		printf("%s\n", text);
	else
		printf("%s %s: done\n", what, guest);
}

/*
 * The pre-flight's findings (relocd's "checks"), one a line: after a
 * check that passed, what was looked at, on stdout; after a failure, on
 * stderr, every check that failed (each one sentence that says what to
 * do), then those that passed.  The texts may be a peer's: escaped.
 */
static void
print_checks(const json_t *m, int ok)
{
	const json_t	*a = json_object_get(m, "checks"), *c;
	size_t		 i;
	int		 pass;

	for (pass = ok ? 1 : 0; pass < 2; pass++)
		json_array_foreach(a, i, c) {
			if (json_is_true(json_object_get(c, "ok")) != pass)
				continue;
			if (ok)
				printf("  %s\n", str(c, "text", "?"));
			else
				fprintf(stderr, "relocctl:   %s: %s\n", pass ?
				    "passed" : "failed", str(c, "text", "?"));
		}
}

/* The final report; returns the exit status it implies. */
static int
print_result(struct follow *fw, const json_t *m)
{
	const char	*text = str(m, "text", "");
	const char	*what = str(m, "what", "job");
	const char	*guest = str(m, "guest", "");

	if (fw->shown)
		printf("\n");
	if (json_is_true(json_object_get(m, "ok"))) {
		if (!fw->json) {
			print_done(m, what, guest, text);
			/* What a check looked at; a migration just went. */
			if (strcmp(what, "check") == 0)
				print_checks(m, 1);
		}
		return EXIT_OK;
	}
	fprintf(stderr, "relocctl: %s %s failed: %s\n", what, guest, text);
	print_checks(m, 0);
	return strncmp(text, "in doubt", 8) == 0 ? EXIT_IN_DOUBT : EXIT_FAILED;
}

/*
 * Reads the next reply of a job into *root_r and its typed object into
 * *o_r; -1 having said why.
 */
static int
follow_read(int fd, char *buf, struct sxp_node **root_r, json_t **o_r)
{
	struct sxp_error	serr;
	ssize_t			len;

	sxp_free(*root_r);
	*root_r = NULL;
	json_decref(*o_r);
	*o_r = NULL;
	if ((len = ctl_read_frame(fd, buf, CTL_MSG_MAX + 1,
	    JOB_READ_TIMEOUT_MS)) == -1 ||
	    sxp_parse(buf, (size_t)len, root_r, &serr) == -1 ||
	    !relocctl_is_reply(*root_r)) {
		fprintf(stderr, "relocctl: lost relocd; see relocctl status\n");
		return -1;
	}
	if ((*o_r = relocctl_json_msg((*root_r)->first)) == NULL) {
		fprintf(stderr, "relocctl: out of memory\n");
		return -1;
	}
	return 0;
}

/*
 * Sends a request (with fd, or -1) and follows the job to its result.
 * With --json every reply, an error too, is one line on stdout, and only
 * a failure is also told in words, on stderr.
 */
static int
follow_job(struct relocctl *rc, const char *req, int pass_fd, int json)
{
	struct follow	 fw = { json, isatty(STDOUT_FILENO), 0, 0 };
	struct sxp_node	*root = NULL;
	json_t		*o = NULL;
	const char	*type;
	char		*buf;
	int		 fd, status = EXIT_FAILED;

	if ((fd = relocctl_open(rc)) == -1)
		return EXIT_NO_DAEMON;
	if ((buf = malloc(CTL_MSG_MAX + 1)) == NULL)
		goto out;
	if ((pass_fd == -1 ? ctl_write_frame(fd, req, strlen(req)) :
	    ctl_write_frame_fd(fd, req, strlen(req), pass_fd)) == -1)
		goto out;
	for (;;) {
		if (follow_read(fd, buf, &root, &o) == -1)
			goto out;
		if (json && relocctl_json_print(o) == -1) {
			fprintf(stderr, "relocctl: cannot write the JSON "
			    "output\n");
			goto out;
		}
		if (relocctl_is_error(root->first))
			goto out;
		type = root->first->first->text;
		if (strcmp(type, "progress") == 0) {
			print_target(&fw, o);
			print_progress(&fw, o);
		} else if (strcmp(type, "result") == 0) {
			print_target(&fw, o);
			status = print_result(&fw, o);
			goto out;
		}
	}
out:
	json_decref(o);
	sxp_free(root);
	free(buf);
	close(fd);
	return status;
}

/* Appends " (name value)" to a request, quoting value for sxp. */
int
req_add(char *req, size_t size, const char *name, const char *value)
{
	char	q[4 * 256 + 3];
	size_t	len = strlen(req);
	int	r;

	if (sxp_quote(value, strlen(value), q, sizeof(q)) == -1)
		return -1;
	r = snprintf(req + len, size - len, " (%s %s)", name, q);
	return r < 0 || (size_t)r >= size - len ? -1 : 0;
}

static const struct option migrate_options[] = {
	{ "live", no_argument, NULL, 'l' },
	{ "port", required_argument, NULL, 'p' },
	{ "ssl", no_argument, NULL, 's' },
	{ "node", required_argument, NULL, 'n' },
	{ "change_home_server", no_argument, NULL, 'c' },
	{ "resource", required_argument, NULL, 'r' },
	{ "bandwidth", required_argument, NULL, 'r' },
	{ "max-downtime", required_argument, NULL, 'D' },
	{ "abort-if-busy", no_argument, NULL, 'A' },
	{ "throttle", no_argument, NULL, 'T' },
	{ "skip-redirtied", no_argument, NULL, 'S' },
	{ "compress", required_argument, NULL, 'C' },
	{ "offline-fallback", no_argument, NULL, 'O' },
	{ "timeout", required_argument, NULL, 't' },
	{ "policy", required_argument, NULL, 'P' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Adds a number option after checking it, as "(name N)". */
static int
req_num(char *req, size_t size, const char *name, const char *v,
    long long min, long long max)
{
	const char	*errstr;

	util_strtonum(v, min, max, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "relocctl: --%s %s: %s (%lld to %lld)\n", name,
		    v, errstr, min, max);
		exit(EXIT_USAGE);
	}
	return req_add(req, size, name, v);
}

/* HOST or HOST:PORT (an IPv6 literal takes the form [ADDR]:PORT). */
static void
migrate_target(char *req, size_t size, char *target, const char *port)
{
	char	*colon = strrchr(target, ':'), *host = target;

	if (target[0] == '[' && (colon = strstr(target, "]:")) != NULL) {
		*colon = '\0';
		host = target + 1;
		port = colon + 2;
	} else if (colon != NULL && strchr(target, ':') == colon) {
		*colon = '\0';
		port = colon + 1;
	}
	req_add(req, size, "host", host);
	if (port != NULL)
		req_num(req, size, "port", port, 1, 65535);
}

int
cmd_migrate(struct relocctl *rc, int argc, char **argv)
{
	char		 req[2048] = "(migrate";
	const char	*port = NULL;
	int		 ch, live = 0, json = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "lp:sn:cr:h", migrate_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'l': live = 1; break;
		case 'p': port = optarg; break;
		case 's': break;	/* TLS is always on; xm's -s is moot */
		case 'n':
		case 'c':
			fprintf(stderr, "relocctl: -%c is accepted for xm "
			    "compatibility and ignored\n", ch);
			break;
		case 'r': req_num(req, sizeof(req), "max-bandwidth", optarg,
		    1, 1000000); break;
		case 'D': req_num(req, sizeof(req), "max-downtime", optarg,
		    1, 600000); break;
		case 'A': req_add(req, sizeof(req), "on-nonconvergence",
		    "abort"); break;
		case 'T': req_add(req, sizeof(req), "on-nonconvergence",
		    "throttle"); break;
		case 'O': req_add(req, sizeof(req), "on-nonconvergence",
		    "stop-and-copy"); break;
		case 'S': req_add(req, sizeof(req), "skip-redirtied", "1");
		    break;
		case 'C':
			if (conf_compress_parse(optarg) == -1) {
				fprintf(stderr, "relocctl: --compress %s: not "
				    "on, off or auto\n", optarg);
				exit(EXIT_USAGE);
			}
			req_add(req, sizeof(req), "compress", optarg);
			break;
		case 't': req_num(req, sizeof(req), "timeout", optarg, 0,
		    604800); break;
		case 'P': req_add(req, sizeof(req), "policy", optarg); break;
		case 'j': json = 1; break;
		default: relocctl_cmd_usage(argv[0]);
		}
	}
	if (argc - optind != 2)
		relocctl_cmd_usage(argv[0]);
	req_add(req, sizeof(req), "guest", argv[optind]);
	migrate_target(req, sizeof(req), argv[optind + 1], port);
	req_add(req, sizeof(req), "live", live ? "1" : "0");
	if (strlen(req) + 2 >= sizeof(req))
		relocctl_cmd_usage(argv[0]);
	strncat(req, ")", sizeof(req) - strlen(req) - 1);
	return follow_job(rc, req, -1, json);
}

/*
 * A migration that stops once the destination has accepted the guest:
 * every pre-flight check of a reservation runs (DESIGN section 5, phase
 * 0 and 1), and nothing is copied or suspended.
 */
int
cmd_check(struct relocctl *rc, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char		 req[1024] = "(migrate (check 1) (live 1)";
	const char	*port = NULL;
	int		 ch, json = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': port = optarg; break;
		case 'j': json = 1; break;
		default: relocctl_cmd_usage(argv[0]);
		}
	}
	if (argc - optind != 2)
		relocctl_cmd_usage(argv[0]);
	req_add(req, sizeof(req), "guest", argv[optind]);
	migrate_target(req, sizeof(req), argv[optind + 1], port);
	if (strlen(req) + 2 >= sizeof(req))
		relocctl_cmd_usage(argv[0]);
	strncat(req, ")", sizeof(req) - strlen(req) - 1);
	return follow_job(rc, req, -1, json);
}

/* Closes a request's list; -1: no room. */
int
req_finish(char *req, size_t size)
{
	size_t	len = strlen(req);

	if (len + 2 > size)
		return -1;
	req[len] = ')';
	req[len + 1] = '\0';
	return 0;
}

int
cmd_save(struct relocctl *rc, int argc, char **argv)
{
	char	req[512] = "(save";
	int	fd, status;

	if (argc != 3)
		relocctl_cmd_usage(argv[0]);
	/* Opened here, as the user, so the daemon never picks a path. */
	if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		fprintf(stderr, "relocctl: %s: %s%s\n", argv[2],
		    strerror(errno), errno == EEXIST ?
		    "; remove it or choose another name" : "");
		return EXIT_FAILED;
	}
	if (req_add(req, sizeof(req), "guest", argv[1]) == -1 ||
	    req_finish(req, sizeof(req)) == -1)
		relocctl_cmd_usage(argv[0]);
	status = follow_job(rc, req, fd, 0);
	close(fd);
	if (status != EXIT_OK)
		unlink(argv[2]);
	return status;
}

int
cmd_restore(struct relocctl *rc, int argc, char **argv)
{
	int	fd, status;

	if (argc != 2)
		relocctl_cmd_usage(argv[0]);
	if ((fd = open(argv[1], O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "relocctl: %s: %s\n", argv[1],
		    strerror(errno));
		return EXIT_FAILED;
	}
	status = follow_job(rc, "(restore)", fd, 0);
	close(fd);
	return status;
}

/* "1G", "200M", "4096": bytes, with binary K, M, G and T suffixes. */
static const char *
size_arg(const char *s, char *out, size_t outlen)
{
	char			*end;
	unsigned long long	 v;
	int			 shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		return NULL;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end != '\0' || v > (1ULL << (62 - shift)))
		return NULL;
	snprintf(out, outlen, "%llu", v << shift);
	return out;
}

static const struct option sim_options[] = {
	{ "memory", required_argument, NULL, 'm' },
	{ "vcpus", required_argument, NULL, 'v' },
	{ "dirty-rate", required_argument, NULL, 'd' },
	{ "working-set", required_argument, NULL, 'w' },
	{ "pattern", required_argument, NULL, 'p' },
	{ "zero-percent", required_argument, NULL, 'z' },
	{ "compressible-percent", required_argument, NULL, 'Z' },
	{ "uuid", required_argument, NULL, 'u' },
	{ "bridge", required_argument, NULL, 'b' },
	{ "disk", required_argument, NULL, 'k' },
	{ "pci", required_argument, NULL, 'c' },
	{ "disable-migrate", no_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_sim_create(struct relocctl *rc, int argc, char **argv)
{
	static const char *const keys[] = {
		['m'] = "memory", ['d'] = "dirty-rate", ['w'] = "working-set"
	};
	char	req[1024] = "(sim-create", bytes[32];
	int	ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", sim_options, NULL)) != -1) {
		if (ch == 'm' || ch == 'd' || ch == 'w') {
			if (size_arg(optarg, bytes, sizeof(bytes)) == NULL) {
				fprintf(stderr, "relocctl: --%s %s: not a size "
				    "(e.g. 512M, 1G)\n", keys[ch], optarg);
				return EXIT_USAGE;
			}
			req_add(req, sizeof(req), keys[ch], bytes);
		} else if (ch == 'v')
			req_add(req, sizeof(req), "vcpus", optarg);
		else if (ch == 'p')
			req_add(req, sizeof(req), "pattern", optarg);
		else if (ch == 'z')
			req_add(req, sizeof(req), "zero-percent", optarg);
		else if (ch == 'Z')
			req_add(req, sizeof(req), "compressible-percent",
			    optarg);
		else if (ch == 'u')
			req_add(req, sizeof(req), "uuid", optarg);
		/* Devices, as a real guest's config names them (pre-flight). */
		else if (ch == 'b')
			req_add(req, sizeof(req), "bridge", optarg);
		else if (ch == 'k')
			req_add(req, sizeof(req), "disk", optarg);
		else if (ch == 'c')
			req_add(req, sizeof(req), "pci", optarg);
		else if (ch == 'n')
			req_add(req, sizeof(req), "disable-migrate", "yes");
		else
			relocctl_cmd_usage(argv[0]);
	}
	if (argc - optind != 1)
		relocctl_cmd_usage(argv[0]);
	req_add(req, sizeof(req), "name", argv[optind]);
	if (req_finish(req, sizeof(req)) == -1)
		relocctl_cmd_usage(argv[0]);
	return follow_job(rc, req, -1, 0);
}

int
cmd_sim_destroy(struct relocctl *rc, int argc, char **argv)
{
	char	req[256] = "(sim-destroy";

	if (argc != 2 || req_add(req, sizeof(req), "guest", argv[1]) == -1 ||
	    req_finish(req, sizeof(req)) == -1)
		relocctl_cmd_usage(argv[0]);
	return follow_job(rc, req, -1, 0);
}

int
cmd_cancel(struct relocctl *rc, int argc, char **argv)
{
	struct sxp_node	*root;
	char		 req[128] = "(cancel";
	int		 status;

	if (argc != 2 || req_add(req, sizeof(req), "id", argv[1]) == -1 ||
	    req_finish(req, sizeof(req)) == -1)
		relocctl_cmd_usage(argv[0]);
	if ((status = relocctl_request(rc, req, &root)) != EXIT_OK)
		return status;
	status = relocctl_is_error(root->first) ? EXIT_FAILED : EXIT_OK;
	if (status == EXIT_OK)
		printf("cancelled %s; the guest runs on here\n", argv[1]);
	sxp_free(root);
	return status;
}

static const struct option resolve_options[] = {
	{ "force-resume", no_argument, NULL, 'R' },
	{ "force-destroy", no_argument, NULL, 'D' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * A guest left suspended here in doubt: ask the destination again, by
 * the migration id recorded with the guest, and free or resume it on
 * the answer.  --force-resume and --force-destroy act without one, for
 * a destination that is gone for good: the administrator has checked.
 */
int
cmd_resolve(struct relocctl *rc, int argc, char **argv)
{
	char		 req[256] = "(resolve";
	const char	*force = NULL;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", resolve_options,
	    NULL)) != -1) {
		if (ch == 'R' && force == NULL)
			force = "resume";
		else if (ch == 'D' && force == NULL)
			force = "destroy";
		else
			relocctl_cmd_usage(argv[0]);
	}
	if (argc - optind != 1 ||
	    req_add(req, sizeof(req), "guest", argv[optind]) == -1 ||
	    (force != NULL && req_add(req, sizeof(req), "force", force) == -1) ||
	    req_finish(req, sizeof(req)) == -1)
		relocctl_cmd_usage(argv[0]);
	if (force != NULL)
		fprintf(stderr, "relocctl: WARNING: --force-%s %s %s here "
		    "without asking the destination; if it %s there, the "
		    "guest %s\n", force, strcmp(force, "resume") == 0 ?
		    "runs" : "destroys", argv[optind], strcmp(force,
		    "resume") == 0 ? "runs" : "does not run",
		    strcmp(force, "resume") == 0 ? "now runs twice and its "
		    "disks will be corrupted" : "is lost");
	return follow_job(rc, req, -1, 0);
}
