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
#include "version.h"
#include "relocctl.h"

#define CTL_TIMEOUT_MS	(30 * 1000)

/*
 * One entry per command: its name, what runs it, and its usage, which
 * "relocctl --help", "relocctl COMMAND -h" and a usage error all print
 * from here.  A new command, or a new option, is a change to its entry
 * (and to its parsing).
 */
struct command {
	const char	*name;
	int		(*run)(struct relocctl *, int, char **);
	const char	*args;		/* after the name in its usage line */
	const char	*help;		/* one line, for relocctl --help */
	const char	*options;	/* one line per option but -h, or NULL */
};

static int	cmd_metrics(struct relocctl *, int, char **);

static const struct command commands[] = {
	{ "migrate", cmd_migrate, "[options] GUEST HOST[:PORT]",
	    "move a guest to HOST (-l: live)",
	    "  -l, --live                copy memory while the guest runs\n"
	    "  -p, --port PORT           the destination's port\n"
	    "  -s, --ssl                 accepted for xm; TLS is always on\n"
	    "  -n, --node N              accepted for xm and ignored\n"
	    "  -c, --change_home_server  accepted for xm and ignored\n"
	    "  -r, --bandwidth MBIT      cap the traffic at MBIT Mbit/s "
	    "(also --resource)\n"
	    "  --max-downtime MS         the longest pause the guest should "
	    "see\n"
	    "  --abort-if-busy           if it does not converge: give up, "
	    "the guest runs on\n"
	    "  --throttle                ... or slow the guest until it "
	    "converges\n"
	    "  --offline-fallback        ... or finish with a longer pause\n"
	    "  --skip-redirtied          sim only: a round leaves out pages "
	    "dirtied again\n"
	    "  --compress on|off|auto    zstd on the wire, if the destination "
	    "takes it\n"
	    "  --timeout SECONDS         give up if not committed in time\n"
	    "  --policy xen-default      libxenguest's rule instead of "
	    "relocd's\n"
	    "  --json                    one JSON object per reply\n" },
	{ "check", cmd_check, "[-p port] [--json] GUEST HOST[:PORT]",
	    "ask HOST whether it would take GUEST; nothing moves",
	    "  -p, --port PORT           the destination's port\n"
	    "  --json                    one JSON object per reply\n" },
	{ "evacuate", cmd_evacuate,
	    "--to HOST[:PORT] [--to ...] [--parallel N] [-p port] [--json]",
	    "move every guest here live to the peers named",
	    "  --to HOST                 a peer that may take guests, as "
	    "HOST or HOST:PORT\n"
	    "                            (repeat it for each peer)\n"
	    "  --parallel N              migrations at a time (default 2)\n"
	    "  -p, --port PORT           the peers' port if --to names none\n"
	    "  --json                    one JSON object: the summary\n" },
	{ "save", cmd_save, "GUEST FILE",
	    "save a guest to FILE and stop it", NULL },
	{ "restore", cmd_restore, "FILE",
	    "start a guest saved in FILE", NULL },
	{ "list", cmd_list, "[--json]", "list the guests on this host",
	    "  --json                    one JSON object\n" },
	{ "status", cmd_status, "[--json] [ID]",
	    "show the daemon and its migrations, or one's report",
	    "  --json                    one JSON object\n" },
	{ "metrics", cmd_metrics, "",
	    "print the metrics (Prometheus text)", NULL },
	{ "cancel", cmd_cancel, "ID",
	    "cancel a migration before it commits", NULL },
	{ "resolve", cmd_resolve, "[--force-resume | --force-destroy] GUEST",
	    "settle a migration in doubt",
	    "  --force-resume            resume the guest here without an "
	    "answer\n"
	    "  --force-destroy           destroy the copy here without an "
	    "answer\n" },
	{ "sim-create", cmd_sim_create, "[options] NAME",
	    "create a simulated guest (sim backend)",
	    "  --memory SIZE             the guest's memory (e.g. 512M, 1G)\n"
	    "  --vcpus N                 its vCPUs\n"
	    "  --dirty-rate SIZE         bytes its workload dirties a second\n"
	    "  --working-set SIZE        the memory the hot pattern dirties\n"
	    "  --pattern uniform|hot|sequential\n"
	    "                            where the workload writes\n"
	    "  --zero-percent N          pages (0-100%) its boot leaves zero\n"
	    "  --compressible-percent N  of the rest, pages (0-100%) it fills "
	    "compressibly\n"
	    "  --uuid UUID               its uuid (default: a random one)\n"
	    "  --bridge NAME             a bridge its vif joins (up to 2)\n"
	    "  --disk PATH               a disk it opens (up to 2)\n"
	    "  --pci N                   PCI devices passed through\n"
	    "  --disable-migrate         its config sets disable_migrate\n" },
	{ "sim-destroy", cmd_sim_destroy, "GUEST",
	    "destroy a simulated guest", NULL },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
print_usage(FILE *out)
{
	size_t	i;

	fprintf(out, "usage: relocctl [-f config] [-S socket] command "
	    "[args]\n       relocctl --help | --version\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-11s %s\n", commands[i].name,
		    commands[i].help);
	fprintf(out, "\nrelocctl COMMAND -h shows a command's usage and "
	    "options; see relocctl(8).\n");
}

void
relocctl_usage(void)
{
	print_usage(stderr);
	exit(EXIT_USAGE);
}

static const struct command *
command_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static void
print_command_usage(FILE *out, const struct command *cmd)
{
	fprintf(out, "usage: relocctl %s%s%s\n%s\n", cmd->name,
	    cmd->args[0] != '\0' ? " " : "", cmd->args, cmd->help);
	fprintf(out, "\noptions:\n%s  -h, --help                this help\n",
	    cmd->options != NULL ? cmd->options : "");
}

/* A command's usage error: its own usage on stderr, exit 2. */
void
relocctl_cmd_usage(const char *name)
{
	const struct command	*cmd = command_find(name);

	if (cmd == NULL)
		relocctl_usage();
	print_command_usage(stderr, cmd);
	exit(EXIT_USAGE);
}

/*
 * Whether a command's arguments ask for its help: -h or --help before
 * any "--", wherever it stands, as getopt_long would find it.  Checked
 * before the command parses anything, so that help never reaches the
 * daemon or a file.
 */
static int
wants_help(int argc, char **argv)
{
	int	i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
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

/*
 * The daemon's metrics as Prometheus text, as relocd-metrics-file holds
 * them.  The text is relocd's own rendering of its counters, not a
 * peer's, but it goes through the display escape all the same.
 */
static int
cmd_metrics(struct relocctl *rc, int argc, char **argv)
{
	struct sxp_node		*root;
	const struct sxp_node	*l;
	int			 status;

	if (argc != 1)
		relocctl_cmd_usage(argv[0]);
	if ((status = relocctl_request(rc, "(metrics)", &root)) != EXIT_OK)
		return status;
	if (relocctl_is_error(root->first) ||
	    strcmp(root->first->first->text, "metrics") != 0) {
		if (strcmp(root->first->first->text, "error") != 0)
			fprintf(stderr, "relocctl: relocd does not know the "
			    "metrics request (an older relocd?)\n");
		sxp_free(root);
		return EXIT_FAILED;
	}
	for (l = root->first->first->next; l != NULL; l = l->next)
		if (l->type != SXP_LIST)
			printf("%s\n", relocctl_display(l->text));
	sxp_free(root);
	return EXIT_OK;
}

static const struct option main_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct relocctl		 rc = { conf_default_path(), NULL, 8002 };
	const struct command	*cmd;
	int			 ch;

	log_init(LOG_TO_STDERR, 0);
	log_procinit("relocctl");
	while ((ch = getopt_long(argc, argv, "+f:S:hV", main_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			rc.config = optarg;
			break;
		case 'S':
			rc.socket = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return EXIT_OK;
		case 'V':
			version_print("relocctl");
			return EXIT_OK;
		default:
			relocctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		relocctl_usage();
	if ((cmd = command_find(argv[0])) == NULL) {
		fprintf(stderr, "relocctl: unknown command %s\n",
		    relocctl_display(argv[0]));
		relocctl_usage();
	}
	if (wants_help(argc, argv)) {
		print_command_usage(stdout, cmd);
		return EXIT_OK;
	}
	return cmd->run(&rc, argc, argv);
}
