// SPDX-License-Identifier: ISC
/*
 * relocctl: the administrator's command for relocd.  It talks only to the
 * local daemon, over the control socket named in xend-config.sxp, and
 * prints what the daemon answers.  Subcommands go through one table, as
 * in wg(8).
 *
 * Runs as the invoking user (root or a member of relocd-control-group);
 * replies from the daemon are parsed with the project's bounded reader.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "sxp.h"
#include "util.h"

/* Exit codes, documented in relocctl(8). */
#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_NO_DAEMON	3

#define CTL_TIMEOUT_MS	(30 * 1000)

struct relocctl {
	const char	*config;
	const char	*socket;	/* -S overrides the config */
};

struct command {
	const char	*name;
	int		(*run)(struct relocctl *, int, char **);
	const char	*args;
	const char	*help;
};

static int	cmd_status(struct relocctl *, int, char **);
static int	cmd_list(struct relocctl *, int, char **);

static const struct command commands[] = {
	{ "status", cmd_status, "", "show the daemon and its migrations" },
	{ "list", cmd_list, "", "list the guests on this host" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void __attribute__((noreturn))
usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: relocctl [-f config] [-S socket] command "
	    "[args]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(stderr, "  %-8s %-20s %s\n", commands[i].name,
		    commands[i].args, commands[i].help);
	exit(EXIT_USAGE);
}

/* The control socket: -S, else the config's relocd-control-socket. */
static int
relocctl_socket(struct relocctl *rc, const char **path_r,
    struct conf **conf_r)
{
	*conf_r = NULL;
	if (rc->socket != NULL) {
		*path_r = rc->socket;
		return 0;
	}
	if (conf_load(rc->config, conf_r) == -1)
		return -1;
	*path_r = (*conf_r)->control_socket;
	return 0;
}

/* Sends one request and parses the one reply; caller frees *root_r. */
static int
relocctl_request(struct relocctl *rc, const char *req,
    struct sxp_node **root_r)
{
	struct conf		*conf;
	struct sxp_error	 serr;
	const char		*path;
	char			*buf = NULL, err[512];
	ssize_t			 len;
	int			 fd = -1, status = EXIT_NO_DAEMON;

	*root_r = NULL;
	if (relocctl_socket(rc, &path, &conf) == -1)
		return EXIT_FAILED;
	if ((fd = ctl_connect(path, err, sizeof(err))) == -1) {
		fprintf(stderr, "relocctl: %s\n", err);
		goto out;
	}
	status = EXIT_FAILED;
	if ((buf = malloc(CTL_MSG_MAX + 1)) == NULL)
		goto out;
	if (ctl_write_frame(fd, req, strlen(req)) == -1 ||
	    (len = ctl_read_frame(fd, buf, CTL_MSG_MAX + 1,
	    CTL_TIMEOUT_MS)) == -1) {
		fprintf(stderr, "relocctl: no answer from relocd at %s\n",
		    path);
		goto out;
	}
	if (sxp_parse(buf, (size_t)len, root_r, &serr) == -1 ||
	    (*root_r)->first == NULL || (*root_r)->first->type != SXP_LIST) {
		fprintf(stderr, "relocctl: unreadable answer from relocd\n");
		goto out;
	}
	status = EXIT_OK;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	conf_free(conf);
	return status;
}

/* The value of (name value) inside list, or def. */
static const char *
field(const struct sxp_node *list, const char *name, const char *def)
{
	const struct sxp_node	*f;

	for (f = list->first; f != NULL; f = f->next)
		if (f->type == SXP_LIST && f->first != NULL &&
		    f->first->type == SXP_ATOM &&
		    strcmp(f->first->text, name) == 0 && f->first->next != NULL &&
		    f->first->next->type != SXP_LIST)
			return f->first->next->text;
	return def;
}

/* A reply (error (text ...)) becomes one sentence on stderr. */
static int
relocctl_is_error(const struct sxp_node *reply)
{
	if (strcmp(reply->first->text, "error") != 0)
		return 0;
	fprintf(stderr, "relocctl: relocd: %s\n", field(reply, "text",
	    "unknown error"));
	return 1;
}

static int
cmd_status(struct relocctl *rc, int argc, char **argv)
{
	struct sxp_node		*root;
	const struct sxp_node	*st, *f, *job;
	int			 status, njobs = 0;

	(void)argv;
	if (argc != 1)
		usage();
	if ((status = relocctl_request(rc, "(status)", &root)) != EXIT_OK)
		return status;
	st = root->first;
	if (relocctl_is_error(st)) {
		sxp_free(root);
		return EXIT_FAILED;
	}
	printf("relocd %s on %s, backend %s\n", field(st, "version", "?"),
	    field(st, "host", "?"), field(st, "backend", "?"));
	for (f = st->first; f != NULL; f = f->next)
		if (f->type == SXP_LIST && f->first != NULL &&
		    f->first->next != NULL &&
		    strncmp(f->first->text, "listen-", 7) == 0)
			printf("listening on %s (%s)\n", f->first->next->text,
			    strcmp(f->first->text, "listen-tls") == 0 ?
			    "TLS" : "plaintext");
	for (f = st->first; f != NULL; f = f->next) {
		if (f->type != SXP_LIST || f->first == NULL ||
		    strcmp(f->first->text, "jobs") != 0)
			continue;
		for (job = f->first->next; job != NULL; job = job->next) {
			if (njobs++ == 0)
				printf("%-32s  %-10s  %-16s  %-15s  %s\n", "ID",
				    "STATE", "GUEST", "PEER", "RESULT");
			printf("%-32s  %-10s  %-16s  %-15s  %s\n",
			    field(job, "id", "?"), field(job, "state", "?"),
			    field(job, "guest", "?"), field(job, "peer", "?"),
			    field(job, "result", ""));
		}
	}
	if (njobs == 0)
		printf("no migrations\n");
	sxp_free(root);
	return EXIT_OK;
}

static int
cmd_list(struct relocctl *rc, int argc, char **argv)
{
	struct sxp_node		*root;
	const struct sxp_node	*g;
	int			 status;

	(void)argv;
	if (argc != 1)
		usage();
	if ((status = relocctl_request(rc, "(list)", &root)) != EXIT_OK)
		return status;
	if (relocctl_is_error(root->first)) {
		sxp_free(root);
		return EXIT_FAILED;
	}
	printf("%-20s %6s  %-36s  %-4s  %-9s %8s %5s\n", "NAME", "DOMID",
	    "UUID", "TYPE", "STATE", "MEM(MiB)", "VCPUS");
	for (g = root->first->first->next; g != NULL; g = g->next)
		printf("%-20s %6s  %-36s  %-4s  %-9s %8llu %5s\n",
		    field(g, "name", "?"), field(g, "domid", "?"),
		    field(g, "uuid", "?"), field(g, "type", "?"),
		    field(g, "state", "?"),
		    strtoull(field(g, "memory", "0"), NULL, 10) >> 20,
		    field(g, "vcpus", "?"));
	sxp_free(root);
	return EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct relocctl	rc = { conf_default_path(), NULL };
	size_t		i;
	int		ch;

	log_init(LOG_TO_STDERR, 0);
	log_procinit("relocctl");
	while ((ch = getopt(argc, argv, "+f:S:h")) != -1) {
		switch (ch) {
		case 'f':
			rc.config = optarg;
			break;
		case 'S':
			rc.socket = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(&rc, argc, argv);
	fprintf(stderr, "relocctl: unknown command %s\n", argv[0]);
	usage();
}
