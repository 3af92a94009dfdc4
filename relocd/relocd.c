// SPDX-License-Identifier: ISC
/*
 * relocd: the relocation server for a Xen dom0.
 *
 * This file holds start-up only: options, the config check (-n), and the
 * hand-over to the parent process.  See README.md for the process model.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "keyproc.h"
#include "log.h"
#include "net.h"
#include "parent.h"
#include "resolver.h"
#include "version.h"
#include "worker.h"

struct relocd_opts {
	const char	*config;
	const char	*backend;	/* -B overrides relocd-backend */
	int		 foreground;
	int		 verbose;
	int		 check_only;
	int		 worker;	/* -W: exec'd by the parent */
	int		 resolver;	/* -H: exec'd by the parent */
	const char	*receive_token;	/* -R: in relocd-receive@TOKEN */
	int		 keyproc;	/* -K: the key process, likewise */
	int		 net;		/* -N: a network child, likewise */
};

/* -h and --help print it on stdout and exit 0; a usage error, stderr and 1. */
static void __attribute__((noreturn))
usage(FILE *out, int status)
{
	fprintf(out,
	    "usage: relocd [-dhnvV] [-B xen|sim] [-f config]\n"
	    "       relocd -R token [-v] [-f config]\n"
	    "       relocd --help | --version\n");
	exit(status);
}

static const struct option relocd_long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void
relocd_parse_args(int argc, char *argv[], struct relocd_opts *o)
{
	int	ch;

	memset(o, 0, sizeof(*o));
	o->config = conf_default_path();
	while ((ch = getopt_long(argc, argv, "B:df:hHKnNR:vVW",
	    relocd_long_options, NULL)) != -1) {
		switch (ch) {
		case 'R':
			o->receive_token = optarg;
			break;
		case 'W':
			o->worker = 1;
			break;
		case 'H':
			o->resolver = 1;
			break;
		case 'K':
			o->keyproc = 1;
			break;
		case 'N':
			o->net = 1;
			break;
		case 'B':
			o->backend = optarg;
			break;
		case 'd':
			o->foreground = 1;
			break;
		case 'f':
			o->config = optarg;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout, 0);
		case 'V':
			version_print("relocd");
			exit(0);
		default:
			usage(stderr, 1);
		}
	}
	if (optind != argc)
		usage(stderr, 1);
}

/* Runs the parent with conf; never returns. */
static void __attribute__((noreturn))
relocd_serve(const struct relocd_opts *o, struct conf *conf)
{
	static struct parent	p;

	memset(&p, 0, sizeof(p));
	p.config_path = o->config;
	p.backend_override = o->backend;
	p.verbose = o->verbose;
	p.conf = conf;
	log_procinit("parent");
	if (!o->foreground && daemon(0, 0) == -1)
		fatal("daemon");
	parent_start(&p);
	parent_run(&p);
}

int
main(int argc, char *argv[])
{
	struct relocd_opts	 o;
	struct conf		*conf;
	int			 backend;

	relocd_parse_args(argc, argv, &o);
	if (o.receive_token != NULL)
		return worker_unit_main(o.receive_token, o.config, o.verbose);
	if (o.worker || o.resolver || o.keyproc || o.net) {
		/*
		 * Log where the parent does: its stderr (it passes -d) or
		 * syslog, for daemon() pointed our stderr at /dev/null.
		 */
		log_init(o.foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG,
		    LOG_DAEMON);
		log_setverbose(o.verbose > 0);
		if (o.keyproc)
			keyproc_main(KEYPROC_CTL_FD);
		if (o.net)
			net_exec_main();
		return o.resolver ? resolver_main() : worker_main();
	}
	/* -n is interactive: errors go to the terminal, not to syslog. */
	log_init(o.foreground || o.check_only ? LOG_TO_STDERR : LOG_TO_SYSLOG,
	    LOG_DAEMON);
	log_setverbose(o.verbose > 1 || (o.verbose && !o.check_only));
	if (o.backend != NULL && conf_backend_parse(o.backend, &backend) == -1)
		fatalx("-B %s: unknown backend (use xen or sim)", o.backend);
	if (conf_load(o.config, &conf) == -1)
		fatalx("%s: configuration has errors%s", o.config,
		    o.check_only ? "" : "; relocd not started");
	if (o.backend != NULL)
		conf->backend = backend;
	if (o.check_only) {
		if (o.verbose)
			conf_print(conf, stdout);
		else
			fprintf(stderr, "configuration OK\n");
		conf_free(conf);
		return 0;
	}
	relocd_serve(&o, conf);
}
