// SPDX-License-Identifier: ISC
/*
 * The network child: one per accepted connection.
 *
 * It does everything that involves bytes from a peer - TLS, authorization,
 * the protocol - and nothing else: before the first byte it has chrooted
 * into an empty directory, become an unprivileged user and entered a
 * seccomp allow-list (proc.c).  It talks to the parent only through typed
 * messages (msg.c) and passes the migration stream to the worker through
 * a pipe.  Any error ends this process and so this connection only.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "conf.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "proc.h"
#include "proto.h"
#include "tls.h"
#include "util.h"

/* How long the parent and worker may take to decide on a reservation. */
#define NET_RESERVE_WAIT_MS	(120 * 1000)
/* Bounded close: the peer gets this long to take our last frame. */
#define NET_CLOSE_MS		2000

struct net_session {
	const struct net_args	*args;
	struct tls_conn		*conn;
	char			 ip[64];
	char			 host[256];
	int			 hosts_ok;
	int			 state;		/* enum proto_state */
	int			 data_fd;	/* pipe to the worker */
	char			 id[MIG_ID_LEN + 1];
	struct tls_peer		 peer;
	struct proto_msg	 msg;		/* last message received */
	char			*frame;		/* PROTO_DATA_MAX bytes */
};

static void __attribute__((noreturn))
net_exit(struct net_session *s, int code)
{
	if (s->conn != NULL)
		tls_close(s->conn, tls_now_ms() + NET_CLOSE_MS);
	_exit(code);
}

/* Refuses the peer: fixed code on the wire, reason in our log. */
static void __attribute__((noreturn))
net_refuse(struct net_session *s, int code, const char *why)
{
	log_peer_warnx("peer %s: refused (%s): %s", s->ip,
	    proto_error_text(code), why);
	if (s->conn != NULL)
		net_send_error(s->conn, code, tls_now_ms() + NET_CLOSE_MS);
	net_exit(s, 1);
}

int
net_send_error(struct tls_conn *conn, int code, uint64_t deadline)
{
	struct proto_msg	*m;
	int			 rc;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->type = PT_ERROR;
	m->code = code;
	strlcpy(m->text, proto_error_text(code), sizeof(m->text));
	rc = net_send_msg(conn, m, deadline);
	free(m);
	return rc;
}

int
net_send_msg(struct tls_conn *conn, const struct proto_msg *m,
    uint64_t deadline)
{
	char	*buf, err[128];
	size_t	 len;
	int	 rc = -1;

	if ((buf = malloc(PROTO_FRAME_HDR + PROTO_CONTROL_MAX + 1)) == NULL)
		return -1;
	if (proto_encode(m, buf + PROTO_FRAME_HDR, PROTO_CONTROL_MAX + 1,
	    &len) == -1)
		goto out;
	proto_frame_header((uint8_t *)buf, PROTO_FRAME_CONTROL, len);
	rc = tls_write_full(conn, buf, PROTO_FRAME_HDR + len, deadline, err,
	    sizeof(err));
out:
	free(buf);
	return rc;
}

/*
 * Reads one frame.  The header is checked before the payload is read, so
 * an oversized or unknown frame costs us four bytes.  Returns PE_NONE, or
 * the code to refuse with (err says why, for the log).  A clean close by
 * the peer is PE_ABORTED.
 */
int
net_read_frame(struct tls_conn *conn, uint64_t deadline, int *kind_r,
    char *buf, size_t size, size_t *len_r, char *err, size_t errlen)
{
	uint8_t	hdr[PROTO_FRAME_HDR];
	int	code;

	if (tls_read_full(conn, hdr, sizeof(hdr), deadline, err, errlen))
		return tls_now_ms() >= deadline ? PE_TIMEOUT : PE_ABORTED;
	if ((code = proto_frame_parse(hdr, kind_r, len_r)) != PE_NONE) {
		snprintf(err, errlen, "bad frame header %02x %02x %02x %02x",
		    hdr[0], hdr[1], hdr[2], hdr[3]);
		return code;
	}
	if (*len_r > size) {
		snprintf(err, errlen, "frame of %zu bytes", *len_r);
		return PE_TOO_LARGE;
	}
	if (tls_read_full(conn, buf, *len_r, deadline, err, errlen))
		return tls_now_ms() >= deadline ? PE_TIMEOUT : PE_ABORTED;
	return PE_NONE;
}

/* hosts-allow, before the sandbox: the name lookup needs the resolver. */
static void
net_check_hosts(struct net_session *s)
{
	const struct net_args	*a = s->args;
	const struct acl	*acl = a->conf->hosts_acl;

	s->hosts_ok = acl_hosts_match(acl, s->ip, NULL);
	if (s->hosts_ok || acl_hosts_count(acl) == 0)
		return;
	if (acl_peer_confirmed_name((const struct sockaddr *)&a->peer,
	    a->peerlen, s->host, sizeof(s->host)) == 0)
		s->hosts_ok = acl_hosts_match(acl, s->ip, s->host);
}

static void
net_handshake(struct net_session *s, uint64_t deadline)
{
	const struct net_args	*a = s->args;
	char			 err[256];

	if (a->tls == NULL) {
		if (tls_plain(a->fd, &s->conn) == -1)
			net_exit(s, 1);
		log_peer_warnx("peer %s: plaintext connection: no "
		    "authentication (relocd-insecure-plaintext)", s->ip);
		return;
	}
	if (tls_accept(a->tls, a->fd, deadline, &s->conn, &s->peer, err,
	    sizeof(err)) == -1) {
		log_peer_warnx("peer %s: refused: TLS handshake failed: %s",
		    s->ip, err);
		net_exit(s, 1);
	}
}

/* All three checks of DESIGN section 3; the first failure refuses. */
static void
net_authorize(struct net_session *s)
{
	const char	*names[TLS_PEER_NAMES_MAX];
	struct msg_peer	 mp;
	size_t		 i;

	for (i = 0; i < s->peer.nnames; i++)
		names[i] = s->peer.names[i];
	if (!s->hosts_ok)
		net_refuse(s, PE_UNAUTHORIZED, s->host[0] ?
		    "address and host name not in hosts-allow" :
		    "address not in hosts-allow");
	if (s->args->tls != NULL &&
	    !acl_names_match(s->args->conf->peers_names, names,
	    s->peer.nnames))
		net_refuse(s, PE_UNAUTHORIZED, s->peer.nnames ?
		    "certificate name not in relocd-peers-allow" :
		    "certificate has no usable name");
	memset(&mp, 0, sizeof(mp));
	strlcpy(mp.ip, s->ip, sizeof(mp.ip));
	strlcpy(mp.host, s->host, sizeof(mp.host));
	strlcpy(mp.tls_version, s->args->tls ? s->peer.version : "plain",
	    sizeof(mp.tls_version));
	mp.ncert = (uint32_t)s->peer.nnames;
	for (i = 0; i < s->peer.nnames; i++)
		strlcpy(mp.cert[i], s->peer.names[i], sizeof(mp.cert[i]));
	if (msg_send(s->args->parent_fd, MSG_NET_AUTHENTICATED, &mp,
	    sizeof(mp), -1) == -1)
		net_exit(s, 1);
}

/* Waits for the parent's answer of type want, up to deadline. */
static int
net_wait_parent(struct net_session *s, uint32_t want, void *buf,
    size_t size, int *fd_r, uint64_t deadline)
{
	struct pollfd	pfd = { s->args->parent_fd, POLLIN, 0 };
	uint32_t	type;
	size_t		len;
	uint64_t	now;

	for (;;) {
		if ((now = tls_now_ms()) >= deadline)
			return -1;
		if (poll(&pfd, 1, (int)(deadline - now)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents == 0)
			continue;
		if (msg_recv(pfd.fd, &type, buf, size, &len, fd_r) != 0)
			return -1;
		return type == want ? 0 : -1;
	}
}

/* Messages a source may send to a destination; the rest are ours. */
static int
net_client_may_send(int type)
{
	return type == PT_HELLO || type == PT_RESERVE || type == PT_PROGRESS ||
	    type == PT_END || type == PT_GO || type == PT_ABORT ||
	    type == PT_ERROR || type == PT_QUERY;
}

static void
net_on_hello(struct net_session *s, uint64_t deadline)
{
	struct proto_msg	*m = &s->msg;

	if (m->version != PROTO_VERSION)
		net_refuse(s, PE_VERSION, "peer speaks another protocol version");
	log_debug("peer %s: hello from %s", s->ip, m->host);
	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_HELLO;
	m->version = PROTO_VERSION;
	strlcpy(m->host, s->args->local_name, sizeof(m->host));
	if (net_send_msg(s->conn, m, deadline) == -1)
		net_exit(s, 1);
}

/*
 * The peer asks us to make room for a guest.  The request goes to the
 * parent as a typed message (it never sees the peer's bytes); the parent
 * and a worker decide, and the parent hands us the pipe to the worker.
 */
static void
net_on_reserve(struct net_session *s, uint64_t deadline)
{
	struct msg_reserve	*r;
	struct msg_result	 res;
	struct proto_msg	*m = &s->msg;
	int			 fd = -1;

	if (m->id[0] == '\0')
		net_refuse(s, PE_PROTOCOL, "reserve without an id");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		net_exit(s, 1);
	strlcpy(r->id, m->id, sizeof(r->id));
	r->guest = m->guest;
	r->live = (uint32_t)m->live;
	r->config_len = (uint32_t)m->config_len;
	memcpy(r->config, m->config, m->config_len + 1);
	strlcpy(s->id, m->id, sizeof(s->id));
	if (msg_send(s->args->parent_fd, MSG_NET_RESERVE, r, sizeof(*r),
	    -1) == -1)
		net_exit(s, 1);
	free(r);
	if (net_wait_parent(s, MSG_RESERVE_RESULT, &res, sizeof(res), &fd,
	    tls_now_ms() + NET_RESERVE_WAIT_MS) == -1)
		net_refuse(s, PE_INTERNAL, "no answer to the reservation");
	MSG_TERMINATE(res.text);
	msg_terminate_guest(&res.guest);
	if (res.code != PE_NONE || fd == -1) {
		if (fd != -1)
			close(fd);
		net_refuse(s, res.code > PE_NONE && res.code < PE_MAX ?
		    res.code : PE_INTERNAL, res.text);
	}
	s->data_fd = fd;
	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_RESERVED;
	strlcpy(m->id, s->id, sizeof(m->id));
	m->guest = res.guest;
	if (net_send_msg(s->conn, m, deadline) == -1)
		net_exit(s, 1);
	s->state = PS_STREAMING;
	log_peer_info("peer %s: reserved %s for migration %s", s->ip,
	    res.guest.name, s->id);
}

/* The peer gave up (or vanished) before go: tell the parent, then leave. */
static void __attribute__((noreturn))
net_peer_aborted(struct net_session *s, int code, const char *why)
{
	struct msg_result	res;

	if (s->state >= PS_STREAMING && s->state <= PS_PREPARED) {
		memset(&res, 0, sizeof(res));
		strlcpy(res.id, s->id, sizeof(res.id));
		res.code = code;
		strlcpy(res.text, why, sizeof(res.text));
		msg_send(s->args->parent_fd, MSG_NET_ABORT, &res, sizeof(res),
		    -1);
	}
	log_peer_info("peer %s: %s", s->ip, why);
	net_exit(s, 0);
}

static void
net_on_data(struct net_session *s, size_t len)
{
	size_t	off = 0;
	ssize_t	r;

	while (off < len) {
		r = write(s->data_fd, s->frame + off, len - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			net_refuse(s, PE_INTERNAL, "the worker stopped reading");
		off += (size_t)r;
	}
}

static void
net_dispatch(struct net_session *s, uint64_t deadline)
{
	struct proto_msg	*m = &s->msg;
	int			 next;

	if (!net_client_may_send(m->type) ||
	    (next = proto_next_state(s->state, m->type, 0)) == -1)
		net_refuse(s, PE_UNEXPECTED, proto_type_name(m->type));
	switch (m->type) {
	case PT_HELLO:
		s->state = next;
		net_on_hello(s, deadline);
		break;
	case PT_RESERVE:
		s->state = next;
		net_on_reserve(s, deadline);
		break;
	case PT_ABORT:
	case PT_ERROR:
		net_peer_aborted(s, m->code, m->text[0] ? m->text :
		    "peer aborted the migration");
	case PT_PROGRESS:
		break;
	default:
		/* XXX end, go and query arrive with the migration engine. */
		net_refuse(s, PE_UNSUPPORTED, "not yet: the migration engine "
		    "is not implemented in this build");
	}
}

/* Reads frames until the connection ends; deadlines bound every read. */
static void __attribute__((noreturn))
net_loop(struct net_session *s, uint64_t handshake_deadline)
{
	const struct conf	*conf = s->args->conf;
	char			 err[256];
	uint64_t		 deadline;
	size_t			 len;
	int			 kind, code;

	for (;;) {
		deadline = s->state == PS_HELLO ? handshake_deadline :
		    tls_now_ms() + (uint64_t)conf->idle_timeout_s * 1000;
		code = net_read_frame(s->conn, deadline, &kind, s->frame,
		    PROTO_DATA_MAX, &len, err, sizeof(err));
		if (code == PE_ABORTED)
			net_peer_aborted(s, PE_ABORTED, "connection closed");
		if (code == PE_TIMEOUT)
			net_refuse(s, code, s->state == PS_HELLO ?
			    "handshake deadline passed: no hello" :
			    "idle deadline passed (relocd-idle-timeout)");
		if (code != PE_NONE)
			net_refuse(s, code, err);
		if (kind == PROTO_FRAME_DATA) {
			if (proto_next_state(s->state, 0, 1) == -1)
				net_refuse(s, PE_UNEXPECTED, "data frame");
			net_on_data(s, len);
			continue;
		}
		if (len > PROTO_CONTROL_MAX)
			net_refuse(s, PE_TOO_LARGE, "control frame");
		if ((code = proto_decode(s->frame, len, &s->msg, err,
		    sizeof(err))) != PE_NONE)
			net_refuse(s, code, err);
		net_dispatch(s, deadline);
	}
}

void
net_serve(const struct net_args *a)
{
	struct net_session	*s;
	char			 err[256];
	uint64_t		 deadline;

	log_procinit("net");
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->frame = malloc(PROTO_DATA_MAX)) == NULL)
		_exit(1);
	s->args = a;
	s->data_fd = -1;
	s->state = PS_HELLO;
	deadline = tls_now_ms() + (uint64_t)a->conf->handshake_timeout_s * 1000;
	if (acl_peer_ip((const struct sockaddr *)&a->peer, a->peerlen, s->ip,
	    sizeof(s->ip)) == -1)
		strlcpy(s->ip, "?", sizeof(s->ip));
	net_check_hosts(s);
	if (proc_sandbox_net(a->id, err, sizeof(err)) == -1) {
		log_warnx("peer %s: sandbox: %s", s->ip, err);
		_exit(1);
	}
	net_handshake(s, deadline);
	net_authorize(s);
	net_loop(s, deadline);
}
