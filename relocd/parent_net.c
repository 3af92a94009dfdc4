// SPDX-License-Identifier: ISC
/*
 * The parent's side of network children: one exec'd (relocd -N,
 * net_exec.c) per admitted connection and per outgoing migration or
 * query.  Exec rather than fork, so that the process that parses a
 * stranger's ClientHello has a fresh address space: none of the
 * parent's job table, control clients or other connections, only what
 * is passed here at the fixed descriptors of net.h and in one start
 * message.
 */
#include <sys/mman.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "parent.h"
#include "proc.h"
#include "tls_key.h"
#include "util.h"

/*
 * The configuration p runs with now (after any reload), re-serialised
 * into a memfd: the child parses exactly what the parent parsed, never
 * the file, which may have changed since.
 */
static int
parent_net_conf_fd(const struct parent *p)
{
	FILE	*f;
	int	 fd, dfd;

	if ((fd = memfd_create("relocd-conf", MFD_CLOEXEC)) == -1)
		return -1;
	if ((dfd = dup(fd)) == -1 || (f = fdopen(dfd, "w")) == NULL) {
		if (dfd != -1)
			close(dfd);
		close(fd);
		return -1;
	}
	conf_print(p->conf, f);
	if (fclose(f) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What every network child gets: who to become and the TLS key's half. */
static void
parent_net_start(const struct parent *p, struct msg_net_start *st, int role,
    int tls)
{
	memset(st, 0, sizeof(*st));
	st->role = (uint32_t)role;
	st->drop = (uint32_t)p->id.drop;
	st->uid = (uint32_t)p->id.uid;
	st->gid = (uint32_t)p->id.gid;
	STRLCPY_ARRAY(st->chroot_dir, p->id.chroot_dir);
	STRLCPY_ARRAY(st->local_name, p->hostname);
	if (tls && p->key_publen <= sizeof(st->pub)) {
		st->tls = 1;
		memcpy(st->pub, p->key_pub, p->key_publen);
		st->publen = (uint32_t)p->key_publen;
	}
}

/*
 * Execs a network child with conn (or -1) and key (or -1) and sends it
 * st and, for a client, desc.  Returns its pid with the parent's end of
 * its message socket in *msg_r, or -1.  conn and key stay the caller's.
 */
static pid_t
parent_net_spawn(struct parent *p, const struct msg_net_start *st,
    const struct msg_reserve *desc, int conn, int key, int *msg_r)
{
	int	sv[2], fds[NET_FDS], conf_fd;
	pid_t	pid;

	if (msg_socketpair(sv) == -1)
		return -1;
	if ((conf_fd = parent_net_conf_fd(p)) == -1) {
		log_warn("network child: configuration memfd");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	fds[NET_MSG_FD - NET_MSG_FD] = sv[1];
	fds[NET_CONN_FD - NET_MSG_FD] = conn;
	fds[NET_KEY_FD - NET_MSG_FD] = key;
	fds[NET_PEERLOG_FD - NET_MSG_FD] = log_peer_share_fd();
	fds[NET_CONF_FD - NET_MSG_FD] = conf_fd;
	pid = proc_spawn_fds('N', fds, NET_FDS, p->verbose);
	close(sv[1]);
	close(conf_fd);
	if (pid == -1) {
		log_warn("fork");
		close(sv[0]);
		return -1;
	}
	/* The socket's buffer holds both: the child reads them first. */
	if (msg_send(sv[0], MSG_NET_START, st, sizeof(*st), -1) == -1 ||
	    (desc != NULL && msg_send(sv[0], MSG_NET_DESC, desc,
	    sizeof(*desc), -1) == -1)) {
		log_warn("network child %d: start message", (int)pid);
		kill(pid, SIGKILL);
		close(sv[0]);
		return -1;
	}
	*msg_r = sv[0];
	return pid;
}

/* A network child for a connection hosts-allow admitted. */
void
parent_spawn_net(struct parent *p, const struct listener *l, int fd,
    const struct sockaddr_storage *ss, socklen_t sslen, const char *ip,
    const char *host)
{
	struct msg_net_start	 st;
	struct child		*c;
	pid_t			 pid;
	int			 msg_fd, key = -1;

	parent_net_start(p, &st, NET_ROLE_SERVE, l->use_tls);
	memcpy(&st.peer, ss, sslen);
	st.peerlen = (uint32_t)sslen;
	/* At most HOST_NAME_LEN_MAX: parent_admit.c checked it. */
	if (strlcpy(st.host, host, sizeof(st.host)) >= sizeof(st.host)) {
		close(fd);
		return;
	}
	if (l->use_tls)
		key = parent_key_channel(p, TLS_KEY_ROLE_SERVER);
	pid = parent_net_spawn(p, &st, NULL, fd, key, &msg_fd);
	close(fd);
	if (key != -1)
		close(key);
	if (pid == -1)
		return;
	if ((c = parent_child_new(p, pid, CHILD_NET, msg_fd)) == NULL) {
		kill(pid, SIGKILL);
		close(msg_fd);
		return;
	}
	if (strlcpy(c->ip, ip, sizeof(c->ip)) >= sizeof(c->ip))
		parent_child_kill(c, "its peer's address is longer than 63 "
		    "characters");
}

/*
 * A network child that connects out, for job j: with the stream's read
 * end to send a migration, or (query) only to ask where it stands.
 * data_fd stays the caller's.
 */
int
parent_spawn_client(struct parent *p, struct job *j, int data_fd, int query)
{
	struct msg_net_start	 st;
	struct msg_reserve	*desc;
	struct child		*c;
	pid_t			 pid;
	int			 msg_fd, key = -1;

	parent_net_start(p, &st, NET_ROLE_CLIENT,
	    !p->conf->insecure_plaintext);
	STRLCPY_ARRAY(st.host, j->peer);
	st.port = (uint32_t)j->port;
	st.query = query != 0;
	st.compress = j->policy.compress;
	/* A query of a job whose worker never described it: the id only. */
	if ((desc = j->desc) == NULL) {
		if ((desc = calloc(1, sizeof(*desc))) == NULL)
			return -1;
		STRLCPY_ARRAY(desc->id, j->id);
	}
	if (st.tls)
		key = parent_key_channel(p, TLS_KEY_ROLE_CLIENT);
	pid = parent_net_spawn(p, &st, desc, data_fd, key, &msg_fd);
	if (desc != j->desc)
		free(desc);
	if (key != -1)
		close(key);
	if (pid == -1)
		return -1;
	if ((c = parent_child_new(p, pid, CHILD_NET, msg_fd)) == NULL) {
		kill(pid, SIGKILL);
		close(msg_fd);
		return -1;
	}
	/* It talks to a peer we chose and verify: not a pre-auth slot. */
	c->authenticated = 1;
	c->job = (int)(j - p->jobs);
	/* The destination's name, for log lines only: it may be cut. */
	util_text_copy(c->ip, j->peer, sizeof(c->ip));
	j->net_pid = pid;
	return 0;
}
