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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "sxp.h"
#include "util.h"
#include "relocctl.h"

#define CTL_TIMEOUT_MS	(30 * 1000)

struct command {
	const char	*name;
	int		(*run)(struct relocctl *, int, char **);
	const char	*args;
	const char	*help;
};

static const struct command commands[] = {
	{ "migrate", cmd_migrate, "[options] GUEST HOST",
	    "move a guest to HOST (-l: live)" },
	{ "check", cmd_check, "[-p port] GUEST HOST",
	    "ask HOST whether it would take GUEST; nothing moves" },
	{ "save", cmd_save, "GUEST FILE", "save a guest to FILE and stop it" },
	{ "restore", cmd_restore, "FILE", "start a guest saved in FILE" },
	{ "list", cmd_list, "[--json]", "list the guests on this host" },
	{ "status", cmd_status, "[--json] [ID]",
	    "show the daemon and its migrations, or one's report" },
	{ "cancel", cmd_cancel, "ID", "cancel a migration before it commits" },
	{ "resolve", cmd_resolve, "[--force-...] GUEST",
	    "settle a migration in doubt" },
	{ "sim-create", cmd_sim_create, "[options] NAME",
	    "create a simulated guest (sim backend)" },
	{ "sim-destroy", cmd_sim_destroy, "NAME", "destroy a simulated guest" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

void
relocctl_usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: relocctl [-f config] [-S socket] command "
	    "[args]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(stderr, "  %-11s %-22s %s\n", commands[i].name,
		    commands[i].args, commands[i].help);
	fprintf(stderr, "\nrelocctl COMMAND -h shows a command's options; "
	    "see relocctl(8).\n");
	exit(EXIT_USAGE);
}

/*
 * Connects to the daemon's control socket: -S, else the config's
 * relocd-control-socket.  Returns the fd, or -1 having said why (and set
 * rc->default_port from the config on the way).
 */
int
relocctl_open(struct relocctl *rc)
{
	struct conf	*conf = NULL;
	char		 path[256], err[512];
	int		 fd;

	if (conf_load(rc->config, &conf) == 0)
		rc->default_port = conf->relocation_port;
	else if (rc->socket == NULL)
		return -1;
	strlcpy(path, rc->socket != NULL ? rc->socket : conf->control_socket,
	    sizeof(path));
	conf_free(conf);
	if ((fd = ctl_connect(path, err, sizeof(err))) == -1)
		fprintf(stderr, "relocctl: %s\n", err);
	return fd;
}

/* Sends one request and parses the one reply; caller frees *root_r. */
int
relocctl_request(struct relocctl *rc, const char *req,
    struct sxp_node **root_r)
{
	struct sxp_error	 serr;
	char			*buf = NULL;
	ssize_t			 len;
	int			 fd = -1, status = EXIT_NO_DAEMON;

	*root_r = NULL;
	if ((fd = relocctl_open(rc)) == -1)
		goto out;
	status = EXIT_FAILED;
	if ((buf = malloc(CTL_MSG_MAX + 1)) == NULL)
		goto out;
	if (ctl_write_frame(fd, req, strlen(req)) == -1 ||
	    (len = ctl_read_frame(fd, buf, CTL_MSG_MAX + 1,
	    CTL_TIMEOUT_MS)) == -1) {
		fprintf(stderr, "relocctl: no answer from relocd\n");
		goto out;
	}
	if (sxp_parse(buf, (size_t)len, root_r, &serr) == -1 ||
	    !relocctl_is_reply(*root_r)) {
		fprintf(stderr, "relocctl: unreadable answer from relocd\n");
		goto out;
	}
	status = EXIT_OK;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return status;
}

/* Whether a parsed reply is one message with a head, (type ...). */
int
relocctl_is_reply(const struct sxp_node *root)
{
	const struct sxp_node	*m = root->first;

	return m != NULL && m->type == SXP_LIST && m->first != NULL &&
	    m->first->type == SXP_ATOM;
}

/*
 * Text from relocd for the terminal.  Much of it is a peer's (an abort
 * reason, a destination's error, a guest list), so every byte that could
 * drive the terminal comes out as \xNN.  The buffers are a small ring so
 * that one printf may show several values.
 */
const char *
relocctl_display(const char *s)
{
	static char	ring[RELOCCTL_DISPLAY_SLOTS][RELOCCTL_DISPLAY_MAX];
	static size_t	next;
	char		*buf = ring[next++ % RELOCCTL_DISPLAY_SLOTS];

	util_text_escape(buf, RELOCCTL_DISPLAY_MAX, s);
	return buf;
}

/* For display: the field's value (sxp_field's rules), or def. */
static const char *
show(const struct sxp_node *list, const char *name, const char *def)
{
	const char	*v = sxp_field(list, name);

	return relocctl_display(v != NULL ? v : def);
}

/* A reply (error (text ...)) becomes one sentence on stderr. */
int
relocctl_is_error(const struct sxp_node *reply)
{
	if (strcmp(reply->first->text, "error") != 0)
		return 0;
	fprintf(stderr, "relocctl: relocd: %s\n", show(reply, "text",
	    "unknown error"));
	return 1;
}

int
main(int argc, char *argv[])
{
	struct relocctl	rc = { conf_default_path(), NULL, 8002 };
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
			relocctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		relocctl_usage();
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(&rc, argc, argv);
	fprintf(stderr, "relocctl: unknown command %s\n", argv[0]);
	relocctl_usage();
}
