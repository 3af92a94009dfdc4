// SPDX-License-Identifier: ISC
/*
 * relocd -R TOKEN: the process systemd starts as
 * relocd-receive@TOKEN.service (parent_unit.c).  It fetches a receiving
 * worker's message socket and stream from relocd's parent (handoff.c),
 * puts them where a worker expects them, and becomes that worker, so
 * that xl and what xl leaves behind run in this unit, not in relocd's.
 *
 * Runs as root in its unit, before any peer byte is read; it trusts only
 * a root listener on the socket beside the config's control socket.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "handoff.h"
#include "log.h"
#include "worker.h"

/* Moves the fetched descriptors to WORKER_MSG_FD and WORKER_DATA_FD. */
static int
worker_unit_place(int *fds, size_t n)
{
	size_t	i;
	int	high[HANDOFF_FDS_MAX];

	/* First above both numbers, so neither dup2 clobbers the other. */
	for (i = 0; i < n; i++) {
		if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC,
		    WORKER_DATA_FD + 1)) == -1)
			return -1;
		close(fds[i]);
	}
	if (dup2(high[0], WORKER_MSG_FD) == -1 ||
	    (n > 1 && dup2(high[1], WORKER_DATA_FD) == -1))
		return -1;
	if (n < 2)
		close(WORKER_DATA_FD);
	closefrom(n > 1 ? WORKER_DATA_FD + 1 : WORKER_MSG_FD + 1);
	return 0;
}

int
worker_unit_main(const char *token, const char *config, int verbose)
{
	struct conf	*conf = NULL;
	char		 path[512], err[512];
	int		 fds[HANDOFF_FDS_MAX];
	size_t		 n;

	/* The unit's stderr is the journal, with priorities (log.c). */
	log_init(LOG_TO_STDERR, 0);
	log_procinit("receive");
	log_setverbose(verbose);
	if (conf_load(config, &conf) == -1)
		fatalx("%s: configuration has errors", config);
	if (handoff_socket_path(conf->control_socket, path,
	    sizeof(path)) == -1)
		fatalx("relocd-control-socket %s: too long",
		    conf->control_socket);
	conf_free(conf);
	if (handoff_fetch(path, token, fds, HANDOFF_FDS_MAX, &n, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if (n < 1 || worker_unit_place(fds, n) == -1)
		fatalx("token %s: the descriptors did not arrive", token);
	return worker_main();
}
