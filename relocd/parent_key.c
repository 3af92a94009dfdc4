// SPDX-License-Identifier: ISC
/*
 * The parent's side of the key process (keyproc.c): start one per key
 * (at start and on every reload), build the TLS context around the public
 * key it hands back, and give every network child a channel to it before
 * the child reads a peer's byte.
 *
 * The parent never reads the key file, so no child it starts can hold the
 * key either.  What the key process says is trusted as far as the parent
 * trusts root: it is exec'd from our own binary and reads no peer bytes.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "keyproc.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "tls.h"
#include "tls_key.h"

/* Starts a key process for conf's key; its control socket goes to *ctl_r. */
static int
parent_key_spawn(struct parent *p, const struct conf *conf, int *ctl_r,
    pid_t *pid_r, uint8_t *pub, size_t size, size_t *len_r, char *err,
    size_t errlen)
{
	pid_t	pid;
	int	sv[2];

	if (msg_socketpair(sv) == -1) {
		snprintf(err, errlen, "key process: socketpair failed");
		return -1;
	}
	if ((pid = proc_spawn('K', sv[1], -1, p->verbose)) == -1) {
		snprintf(err, errlen, "key process: fork failed");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	if (keyproc_start_key(sv[0], conf->ssl_key_file, pub, size, len_r,
	    err, errlen) == -1) {
		close(sv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	*ctl_r = sv[0];
	*pid_r = pid;
	return 0;
}

/*
 * TLS is needed for every listener except a plaintext 8002, and for every
 * outgoing migration unless plaintext is enabled; load it whenever the
 * config does not rule it out entirely.  On success the new key process
 * and context replace the old ones, whose children keep their channels.
 */
int
parent_load_tls(struct parent *p, const struct conf *conf, char *err,
    size_t errlen)
{
	struct tls_files	 files;
	struct tls_ctx		*tls = NULL;
	uint8_t			 pub[TLS_KEY_PUB_MAX];
	size_t			 publen;
	char			 why[512];
	pid_t			 pid = -1;
	int			 ctl = -1;

	if (!(conf->insecure_plaintext && !conf->ssl_server)) {
		if (parent_key_spawn(p, conf, &ctl, &pid, pub, sizeof(pub),
		    &publen, why, sizeof(why)) == -1)
			goto fail;
		memset(&files, 0, sizeof(files));
		files.key_pub = pub;
		files.key_publen = publen;
		files.key_name = conf->ssl_key_file;
		files.cert_file = conf->ssl_cert_file;
		files.ca_file = conf->ca_file;
		if (tls_ctx_load(&files, &tls, why, sizeof(why)) == -1) {
			close(ctl);	/* it exits: no channel, no parent */
			goto fail;
		}
	}
	if (p->key_ctl != -1)
		close(p->key_ctl);
	tls_ctx_free(p->tls);
	p->tls = tls;
	p->key_publen = 0;
	if (tls != NULL) {
		memcpy(p->key_pub, pub, publen);
		p->key_publen = publen;
	}
	p->key_ctl = ctl;
	p->key_pid = pid;
	return 0;
fail:
	snprintf(err, errlen, "%s (create certificates with relocd-pki; see "
	    "relocd(8))", why);
	return -1;
}

/*
 * A channel in role for a child about to be spawned, or -1 if there is
 * no key (plaintext only) or it could not be made: the child's handshake
 * then fails, and only that connection with it.
 */
int
parent_key_channel(struct parent *p, int role)
{
	int	fd;

	if (p->key_ctl == -1)
		return -1;
	if ((fd = keyproc_channel(p->key_ctl, role)) == -1)
		log_warn("key process: no channel for a new connection");
	return fd;
}

/* Whether pid was the key process; if so, a new one takes its place. */
int
parent_key_exited(struct parent *p, pid_t pid, int status)
{
	char	err[512];

	if (pid != p->key_pid || pid <= 0)
		return 0;
	log_warnx("key process %d ended with %s %d; starting another",
	    (int)pid, WIFSIGNALED(status) ? "signal" : "status",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	p->key_pid = -1;
	if (!p->stopping && parent_load_tls(p, p->conf, err,
	    sizeof(err)) == -1)
		log_warnx("no key process: %s; handshakes fail until a "
		    "reload (SIGHUP) succeeds", err);
	return 1;
}
