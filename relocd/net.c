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

#include <ifaddrs.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "net.h"
#include "proc.h"
#include "proto.h"
#include "tls.h"
#include "util.h"


void
net_exit(struct net_session *s, int code)
{
	if (s->conn != NULL)
		tls_close(s->conn, util_now_ms() + NET_CLOSE_MS);
	_exit(code);
}

/* Refuses the peer: fixed code on the wire, reason in our log. */
void
net_refuse(struct net_session *s, int code, const char *why)
{
	log_peer_warnx("peer %s: refused (%s): %s", s->ip,
	    proto_error_text(code), why);
	if (s->conn != NULL)
		net_send_error(s->conn, code, NULL,
		    util_now_ms() + NET_CLOSE_MS);
	net_exit(s, 1);
}

/*
 * Refuses an authenticated, authorised peer with our reason on the wire
 * too: a pool member asking for a guest is owed the sentence that says
 * what to fix (a missing bridge, too little memory), not just a code.
 */
void
net_refuse_explained(struct net_session *s, int code, const char *why)
{
	net_refuse_checks(s, code, why, NULL);
}

/*
 * As net_refuse_explained, with the pre-flight's findings (NULL: none)
 * for a peer whose protocol version reads them (PROTO_VERSION_CHECKS);
 * an older one gets the sentence alone.
 */
void
net_refuse_checks(struct net_session *s, int code, const char *why,
    const struct check_list *checks)
{
	struct proto_msg	*m;
	char			 text[PROTO_TEXT_MAX + 1];

	log_peer_warnx("peer %s: refused (%s): %s", s->ip,
	    proto_error_text(code), why);
	/* The category first, as every refusal has it, then the reason. */
	snprintf(text, sizeof(text), "%s: %s", proto_error_text(code), why);
	if (s->conn != NULL && (m = calloc(1, sizeof(*m))) != NULL) {
		m->type = PT_ERROR;
		m->code = code;
		util_text_copy(m->text, text, sizeof(m->text));
		if (checks != NULL && s->version >= PROTO_VERSION_CHECKS)
			m->checks = *checks;
		net_send_msg(s->conn, m, util_now_ms() + NET_CLOSE_MS);
		free(m);
	}
	net_exit(s, 1);
}

int
net_send_error(struct tls_conn *conn, int code, const char *why,
    uint64_t deadline)
{
	struct proto_msg	*m;
	int			 rc;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->type = PT_ERROR;
	m->code = code;
	util_text_copy(m->text, why != NULL ? why : proto_error_text(code),
	    sizeof(m->text));
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
	int	code;

	if ((code = net_read_frame_head(conn, deadline, kind_r, size, len_r,
	    err, errlen)) != PE_NONE)
		return code;
	if (tls_read_full(conn, buf, *len_r, deadline, err, errlen))
		return util_now_ms() >= deadline ? PE_TIMEOUT : PE_ABORTED;
	return PE_NONE;
}

/*
 * net_read_frame's first half: the header, checked against size; the
 * caller reads (or splices) the *len_r bytes of payload.
 */
int
net_read_frame_head(struct tls_conn *conn, uint64_t deadline, int *kind_r,
    size_t size, size_t *len_r, char *err, size_t errlen)
{
	uint8_t	hdr[PROTO_FRAME_HDR];
	int	code;

	if (tls_read_full(conn, hdr, sizeof(hdr), deadline, err, errlen))
		return util_now_ms() >= deadline ? PE_TIMEOUT : PE_ABORTED;
	if ((code = proto_frame_parse(hdr, kind_r, len_r)) != PE_NONE) {
		snprintf(err, errlen, "bad frame header %02x %02x %02x %02x",
		    hdr[0], hdr[1], hdr[2], hdr[3]);
		return code;
	}
	if (*len_r > size) {
		snprintf(err, errlen, "frame of %zu bytes", *len_r);
		return PE_TOO_LARGE;
	}
	return PE_NONE;
}

/*
 * Tells the parent why we refuse the peer, before we say so and exit: a
 * typed reason for its metrics, never the log line's words.
 */
static void
net_refused(struct net_session *s, int reason)
{
	struct msg_refused	mr = { reason };

	(void)msg_send(s->args->parent_fd, MSG_NET_REFUSED, &mr, sizeof(mr),
	    -1);
}

void
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
		net_refused(s, METRICS_REFUSED_TLS);
		net_exit(s, 1);
	}
}

/*
 * The certificate checks of DESIGN section 3; the first failure refuses.
 * hosts-allow was decided by the parent before we were started.
 */
void
net_authorize(struct net_session *s)
{
	const char	*names[TLS_PEER_NAMES_MAX];
	struct msg_peer	 mp;
	size_t		 i;

	for (i = 0; i < s->peer.nnames; i++)
		names[i] = s->peer.names[i];
	if (s->args->tls != NULL &&
	    !acl_names_match(s->args->conf->peers_names, names,
	    s->peer.nnames)) {
		net_refused(s, METRICS_REFUSED_PEERS_ALLOW);
		net_refuse(s, PE_UNAUTHORIZED, s->peer.nnames ?
		    "certificate name not in relocd-peers-allow" :
		    "certificate has no usable name");
	}
	memset(&mp, 0, sizeof(mp));
	STRLCPY_ARRAY(mp.ip, s->ip);
	STRLCPY_ARRAY(mp.host, s->host);
	if (s->args->tls)
		STRLCPY_ARRAY(mp.tls_version, s->peer.version);
	else
		STRLCPY_ARRAY(mp.tls_version, "plain");
	mp.ncert = (uint32_t)s->peer.nnames;
	for (i = 0; i < s->peer.nnames; i++)
		STRLCPY_ARRAY(mp.cert[i], s->peer.names[i]);
	if (msg_send(s->args->parent_fd, MSG_NET_AUTHENTICATED, &mp,
	    sizeof(mp), -1) == -1)
		net_exit(s, 1);
}

/* Waits for the parent's answer of type want, up to deadline. */
int
net_wait_parent(struct net_session *s, uint32_t want, void *buf,
    size_t size, int *fd_r, uint64_t deadline)
{
	struct pollfd	pfd = { s->parent_fd, POLLIN, 0 };
	uint32_t	type;
	size_t		len;
	uint64_t	now;

	for (;;) {
		if ((now = util_now_ms()) >= deadline)
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

/*
 * Waits for the parent's next step; a failure there refuses the peer.
 * It lives here, with the other waits on the parent, rather than in
 * net_server.c: both the destination's protocol (net_server.c) and the
 * xl transport it hands a connection to (net_xl.c) need it, and
 * net_server.c already calls into net_xl.c, so a home in either would
 * tie the two into a circle.
 */
void
net_expect_step(struct net_session *s, int phase, uint64_t wait_ms,
    struct msg_step *st, int *fd_r)
{
	if (net_wait_parent(s, MSG_STEP, st, sizeof(*st), fd_r,
	    util_now_ms() + wait_ms) == -1)
		net_refuse(s, PE_INTERNAL, "no answer from the parent");
	MSG_TERMINATE(st->text);
	msg_terminate_guest(&st->guest);
	checks_terminate(&st->checks);
	if (st->code != PE_NONE || st->phase != phase) {
		if (fd_r != NULL && *fd_r != -1)
			close(*fd_r);
		net_refuse_checks(s, st->code > PE_NONE &&
		    st->code < PE_MAX ? st->code : PE_INTERNAL, st->text[0] ?
		    st->text : "the migration failed here", &st->checks);
	}
}

/*
 * An interface's first address of family, for relocd-source-address
 * given as an interface name (xend-relocation-address takes one too).
 */
static int
net_interface_address(const char *ifname, int family,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct ifaddrs	*ifs, *i;
	int		 found = 0;

	if (getifaddrs(&ifs) == -1)
		return 0;
	for (i = ifs; i != NULL && !found; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == family &&
		    strcmp(i->ifa_name, ifname) == 0) {
			*len = family == AF_INET ? sizeof(struct sockaddr_in) :
			    sizeof(struct sockaddr_in6);
			memcpy(ss, i->ifa_addr, *len);
			found = 1;
		}
	freeifaddrs(ifs);
	return found;
}

/*
 * Binds fd, about to connect to a peer of family, to the migration
 * network's address (relocd-source-address: an IP, a host name or an
 * interface), port left to the kernel, so that migrations leave by that
 * network and the peer's hosts-allow sees that address.  0, or -1 with
 * err saying why (no address of the peer's family is an error: leaving
 * from another network would defeat the setting).
 */
static int
net_bind_source(int fd, int family, const char *source, char *err,
    size_t errlen)
{
	struct addrinfo		 hints, *res = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 len = 0;
	int			 r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((r = getaddrinfo(source, "0", &hints, &res)) == 0) {
		len = res->ai_addrlen;
		memcpy(&ss, res->ai_addr, len);
		freeaddrinfo(res);
	} else if (!net_interface_address(source, family, &ss, &len)) {
		snprintf(err, errlen, "relocd-source-address %s has no %s "
		    "address (an IP, a host name or an interface of this "
		    "host): fix it in the config, or name the destination by "
		    "its address on the migration network", source,
		    family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		snprintf(err, errlen, "cannot bind to relocd-source-address "
		    "%s: %s", source, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Connects to host:port, trying each address until one answers within
 * NET_CONNECT_MS, from source (relocd-source-address) if that is not
 * NULL or empty.  The socket stays non-blocking.  Returns the fd, or -1
 * with err saying why.  Used by the source's network child and relocd-xl,
 * both before they enter the sandbox (the resolver needs files).
 */
int
net_connect(const char *host, int port, const char *source, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 service[16];
	struct pollfd	 pfd;
	socklen_t	 len;
	int		 fd = -1, r, soerr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if ((r = getaddrinfo(host, service, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (fd == -1)
			continue;
		if (source != NULL && source[0] != '\0' &&
		    net_bind_source(fd, ai->ai_family, source, err,
		    errlen) == -1) {
			close(fd);
			fd = -1;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		len = sizeof(soerr);
		if (errno == EINPROGRESS &&
		    poll(&pfd, 1, NET_CONNECT_MS) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
		    soerr == 0)
			break;
		snprintf(err, errlen, "cannot connect to %s port %d: %s",
		    host, port, strerror(soerr ? soerr : ETIMEDOUT));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}
