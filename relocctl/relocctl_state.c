// SPDX-License-Identifier: ISC
/*
 * relocctl's commands that read state: list (the guests here), status
 * (the daemon and its migrations) and status ID (one migration's whole
 * report, as virsh domjobinfo --completed gives it).  Each asks the
 * daemon once; the reply becomes one typed JSON object
 * (relocctl_json.c), which --json prints as one line and the text
 * output reads, so that the two cannot disagree.
 *
 * Runs as the invoking user; every string from the daemon reaches the
 * terminal through relocctl_display.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pause.h"
#include "proto.h"
#include "relocctl.h"
#include "sxp.h"
#include "target.h"

static const struct option state_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 }
};

/*
 * --json; returns the index of the first operand.  -h never gets here:
 * relocctl answers it from the command table before any command runs.
 */
static int
state_options_parse(int argc, char **argv, int *json_r)
{
	int	ch;

	*json_r = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", state_options, NULL)) != -1) {
		if (ch == 'j')
			*json_r = 1;
		else
			relocctl_cmd_usage(argv[0]);
	}
	return optind;
}

/*
 * Sends req and reads the one reply into *o_r as a typed object; with
 * json, prints it as one line, an error too (as migrate --json does).
 * An error reply is also told in a sentence on stderr.  Returns the
 * exit status.
 */
static int
state_request(struct relocctl *rc, const char *req, int json, json_t **o_r)
{
	struct sxp_node	*root;
	int		 status;

	*o_r = NULL;
	if ((status = relocctl_request(rc, req, &root)) != EXIT_OK)
		return status;
	if ((*o_r = relocctl_json_msg(root->first)) == NULL) {
		fprintf(stderr, "relocctl: out of memory\n");
		status = EXIT_FAILED;
	} else if (json && relocctl_json_print(*o_r) == -1) {
		fprintf(stderr, "relocctl: cannot write the JSON output\n");
		status = EXIT_FAILED;
	} else if (relocctl_is_error(root->first))
		status = EXIT_FAILED;
	sxp_free(root);
	if (status != EXIT_OK) {
		json_decref(*o_r);
		*o_r = NULL;
	}
	return status;
}

/* A string member for the terminal, escaped; def if absent or null. */
static const char *
s_of(const json_t *o, const char *name, const char *def)
{
	const char	*v = json_string_value(json_object_get(o, name));

	return relocctl_display(v != NULL ? v : def);
}

/* An integer member; 0 if absent or null. */
static long long
n_of(const json_t *o, const char *name)
{
	return json_integer_value(json_object_get(o, name));
}

int
cmd_list(struct relocctl *rc, int argc, char **argv)
{
	const json_t		*g;
	json_t			*o;
	size_t			 k;
	int			 json, status;

	if (state_options_parse(argc, argv, &json) != argc)
		relocctl_cmd_usage(argv[0]);
	if ((status = state_request(rc, "(list)", json, &o)) != EXIT_OK ||
	    json) {
		json_decref(o);
		return status;
	}
	printf("%-20s %6s  %-36s  %-4s  %-9s %8s %5s\n", "NAME", "DOMID",
	    "UUID", "TYPE", "STATE", "MEM(MiB)", "VCPUS");
	json_array_foreach(json_object_get(o, "guests"), k, g)
		printf("%-20s %6lld  %-36s  %-4s  %-9s %8lld %5lld\n",
		    s_of(g, "name", "?"), n_of(g, "domid"),
		    s_of(g, "uuid", "?"), s_of(g, "type", "?"),
		    s_of(g, "state", "?"), n_of(g, "memory") >> 20,
		    n_of(g, "vcpus"));
	json_decref(o);
	return EXIT_OK;
}

/* The daemon, its listeners and its jobs, as a table. */
static void
status_print(const json_t *o)
{
	static const char *const kinds[][2] = {
		{ "listen-tls", "TLS" }, { "listen-plain", "plaintext" }
	};
	const json_t	*v;
	size_t		 i, k, njobs;

	printf("relocd %s on %s, backend %s\n", s_of(o, "version", "?"),
	    s_of(o, "host", "?"), s_of(o, "backend", "?"));
	for (i = 0; i < 2; i++)
		json_array_foreach(json_object_get(o, kinds[i][0]), k, v)
			printf("listening on %s (%s)\n", relocctl_display(
			    json_is_string(v) ? json_string_value(v) : "?"),
			    kinds[i][1]);
	njobs = json_array_size(json_object_get(o, "jobs"));
	if (njobs == 0) {
		printf("no migrations\n");
		return;
	}
	printf("%-32s  %-10s  %-16s  %-15s  %s\n", "ID", "STATE", "GUEST",
	    "PEER", "RESULT");
	json_array_foreach(json_object_get(o, "jobs"), k, v)
		printf("%-32s  %-10s  %-16s  %-15s  %s\n", s_of(v, "id", "?"),
		    s_of(v, "state", "?"), s_of(v, "guest", "?"),
		    s_of(v, "peer", "?"), s_of(v, "result", ""));
}

/* A wall-clock time in ms as ISO 8601 UTC, or "-" if not known. */
static const char *
report_time(long long ms, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	size_t		n;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    (n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm)) == 0)
		return "-";
	snprintf(buf + n, size - n, ".%03lld UTC", ms % 1000);
	return buf;
}

/*
 * One migration's report, a line per measurement in the manner of virsh
 * domjobinfo; relocctl(8) says what each means.  relocd compresses
 * nothing (and TLS compression is off); the sim backend's zero pages
 * travel as their numbers only, so memory sent and data sent part, and
 * their ratio is shown.
 */
static void
report_print(const json_t *r)
{
	char		t[64], parts[256], line[512];
	struct pause	pa;
	struct target	tg;
	int		ok = json_is_true(json_object_get(r, "ok"));
	const char	*state = s_of(r, "state", "?");

	printf("%-20s %s\n", "Migration:", s_of(r, "id", "?"));
	printf("%-20s %s\n", "Operation:", s_of(r, "what", "?"));
	printf("%-20s %s\n", "Guest:", s_of(r, "guest", "-"));
	printf("%-20s %s\n", "Peer:", s_of(r, "peer", "-"));
	if (strcmp(state, "ended") != 0)
		printf("%-20s %s (running)\n", "State:", state);
	else
		printf("%-20s %s: %s\n", "Result:", ok ? "succeeded" : "failed",
		    s_of(r, "text", ""));
	printf("%-20s %s\n", "Started:", report_time(n_of(r, "start-time-ms"),
	    t, sizeof(t)));
	printf("%-20s %s\n", "Ended:", report_time(n_of(r, "end-time-ms"), t,
	    sizeof(t)));
	printf("%-20s %lld ms\n", "Time elapsed:", n_of(r, "elapsed-ms"));
	printf("%-20s %lld ms\n", "Setup time:", n_of(r, "setup-ms"));
	printf("%-20s %lld ms\n", "Downtime:", n_of(r, "downtime-ms"));
	printf("%-20s %lld ms\n", "Predicted downtime:",
	    n_of(r, "predicted-downtime-ms"));
	/* The source's prediction only: a destination predicts nothing. */
	if (strcmp(s_of(r, "what", ""), "migrate") == 0 &&
	    n_of(r, "fixed-cost-samples") > 0)
		printf("%-20s %lld ms, learnt from %lld migration%s\n",
		    "Fixed cost:", n_of(r, "fixed-cost-ms"),
		    n_of(r, "fixed-cost-samples"),
		    n_of(r, "fixed-cost-samples") == 1 ? "" : "s");
	else if (strcmp(s_of(r, "what", ""), "migrate") == 0)
		printf("%-20s %lld ms, a first guess\n", "Fixed cost:",
		    n_of(r, "fixed-cost-ms"));
	printf("%-20s %lld ms\n", "Digest check:", n_of(r, "digest-ms"));
	if (pause_from_json(json_object_get(r, "pause"), &pa) == 0 &&
	    pa.known != 0 && pause_format(&pa, parts, sizeof(parts)) == 0)
		printf("%-20s %s\n", "Pause:", parts);
	printf("%-20s %s\n", "Suspended:", report_time(n_of(r,
	    "suspend-time-ms"), t, sizeof(t)));
	printf("%-20s %lld MiB\n", "Memory:", n_of(r, "memory") >> 20);
	printf("%-20s %lld bytes (%.1f MiB)\n", "Data sent:", n_of(r, "bytes"),
	    n_of(r, "bytes") / 1048576.0);
	/* A source's stream as its data frames took it (compressed or not). */
	if (n_of(r, "wire-bytes") > 0)
		printf("%-20s %lld bytes (%.1f MiB)\n", "Wire bytes:",
		    n_of(r, "wire-bytes"), n_of(r, "wire-bytes") / 1048576.0);
	printf("%-20s %lld bytes (%.1f MiB)\n", "Memory sent:",
	    n_of(r, "memory-sent"), n_of(r, "memory-sent") / 1048576.0);
	printf("%-20s %lld\n", "Zero pages:", n_of(r, "zero-pages"));
	/* Sim only, --skip-redirtied: said only when it happened. */
	if (n_of(r, "skipped-pages") > 0)
		printf("%-20s %lld (dirtied again within their round)\n",
		    "Skipped pages:", n_of(r, "skipped-pages"));
	printf("%-20s %lld\n", "Rounds:", n_of(r, "rounds"));
	printf("%-20s %.1f MiB/s\n", "Bandwidth:",
	    n_of(r, "bandwidth") / 1048576.0);
	printf("%-20s %.1f MiB/s\n", "Dirty rate:",
	    n_of(r, "dirty-rate") / 1048576.0);
	printf("%-20s %lld\n", "Dirty pages:", n_of(r, "dirty"));
	printf("%-20s %lld%%\n", "Throttle:", n_of(r, "throttle"));
	printf("%-20s %s\n", "Policy decision:", s_of(r, "decision", ""));
	if (target_from_json(json_object_get(r, "target-unreachable"),
	    &tg) == 0 && tg.reason != TARGET_REACHABLE &&
	    target_format(&tg, line, sizeof(line)) == 0)
		printf("%-20s %s\n", "Target:", line);
	if (strcmp(s_of(r, "compression", ""), "zstd") == 0 &&
	    n_of(r, "wire-bytes") > 0)
		printf("%-20s zstd: %.2f bytes of stream per byte on the wire, "
		    "%.2f bytes of memory per byte on the wire\n",
		    "Compression:", (double)n_of(r, "bytes") /
		    (double)n_of(r, "wire-bytes"), (double)n_of(r,
		    "memory-sent") / (double)n_of(r, "wire-bytes"));
	else if (n_of(r, "zero-pages") > 0 && n_of(r, "bytes") > 0)
		printf("%-20s zero pages only: %.2f bytes of memory per byte "
		    "sent\n", "Compression:", (double)n_of(r, "memory-sent") /
		    (double)n_of(r, "bytes"));
	else
		printf("%-20s none (memory is sent uncompressed)\n",
		    "Compression:");
}

int
cmd_status(struct relocctl *rc, int argc, char **argv)
{
	char			 req[64];
	json_t			*o;
	int			 json, i, status;

	i = state_options_parse(argc, argv, &json);
	if (argc - i > 1)
		relocctl_cmd_usage(argv[0]);
	if (argc - i == 1) {
		if (!proto_id_valid(argv[i])) {
			fprintf(stderr, "relocctl: %s: not a migration id (32 "
			    "hex digits, as relocctl status shows them)\n",
			    relocctl_display(argv[i]));
			return EXIT_USAGE;
		}
		(void)snprintf(req, sizeof(req), "(report (id %s))", argv[i]);
	} else
		(void)snprintf(req, sizeof(req), "(status)");
	if ((status = state_request(rc, req, json, &o)) != EXIT_OK || json) {
		json_decref(o);
		return status;
	}
	if (argc - i == 1)
		report_print(o);
	else
		status_print(o);
	json_decref(o);
	return EXIT_OK;
}
