// SPDX-License-Identifier: ISC
/*
 * The network child's side of an xl plugin's request: a relocd-xl on
 * another host, run by `xl migrate -s relocd-xl GUEST HOST`, asks us to
 * run `xl migrate-receive` and to carry xl's own stream both ways.
 *
 *   (xl-receive (id ID) [(compress zstd)] (args xl -t -vv migrate-receive -e))
 *   <- (xl-started (id ID) [(compress zstd)])
 *                                or (error (code 16) ...) if not permitted
 *   <-> data frames              the xl stream, each direction; from
 *                                relocd-xl, zstd frames too if agreed
 *   <-> (xl-eof (id ID))         no more data this way (half-close)
 *   <- (xl-exit (id ID) (status N))   xl's exit status, then we close
 *
 * The words are parsed here into xl's known receive flags (xlreq.c); a
 * request for anything else is refused with PE_NOT_PERMITTED and logged.
 * The parent gets only the parsed flags, starts a worker that runs xl,
 * and hands us one end of a socket pair that is xl's stdin and stdout.
 * The pump below never blocks on xl: our end is non-blocking, and we
 * read from the peer only when xl has taken the last frame.  A write to
 * the peer blocks at most relocd-idle-timeout; xl's protocol sends bulk
 * data one way at a time, so that never waits on a full pipe both ways.
 *
 * Compression (PROTO_VERSION_XL_COMPRESS) is relocd-xl's choice, as a
 * migration's is its source's, and goes one way only: xl's bulk stream
 * travels from relocd-xl to us, and what xl answers is a few lines.  We
 * decompress (net_zstd.c) before a byte reaches xl.
 *
 * Runs sandboxed (net.c); every byte here came from the peer.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "proc.h"
#include "proto.h"
#include "tls.h"
#include "util.h"
#include "xlreq.h"

/* The parent starts a worker, which starts xl. */
#define NET_XL_START_MS		(60 * 1000)
/* After xl exited, the end of its stdout may lag its exit status. */
#define NET_XL_EOF_WAIT_MS	(10 * 1000)

struct xl_pump {
	struct net_session	*s;
	int			 sock;		/* xl's stdin and stdout */
	uint8_t			*out;		/* frame header + xl's output */
	const char		*in;		/* the peer's data: s->frame,
						   or s->plain decompressed */
	size_t			 in_len;
	size_t			 in_off;	/* ... of which xl took this */
	int			 peer_eof;	/* the peer sent xl-eof */
	int			 xl_eof;	/* xl's stdout ended */
	int			 xl_gone;	/* xl closed its stdin: drop */
	int			 exited;	/* the worker reported xl's exit */
	int			 zstd;		/* compression was agreed */
	int			 status;
	uint64_t		 exit_ms;
	uint64_t		 idle_ms;
	uint64_t		 last_ms;	/* last byte either way */
	int			 moved;		/* this round moved something */
	uint64_t		 in_bytes;
	uint64_t		 out_bytes;
	char			 what[96];	/* "xl -e migrate-receive" */
};

static void
net_xl_send(struct xl_pump *p, int type, int status)
{
	struct proto_msg	*m = &p->s->msg;

	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = type;
	m->status = status;
	m->compress = type == PT_XL_STARTED && p->zstd;
	STRLCPY_ARRAY(m->id, p->s->id);
	if (net_send_msg(p->s->conn, m, util_now_ms() + p->idle_ms) == -1) {
		log_peer_info("peer %s: xl-receive %s: lost the connection",
		    p->s->ip, p->s->id);
		net_exit(p->s, 1);
	}
}

/* xl has exited and its output is all sent: report, then close. */
static void __attribute__((noreturn))
net_xl_finish(struct xl_pump *p)
{
	char	wire[64] = "";

	net_xl_send(p, PT_XL_EXIT, p->status);
	if (p->zstd)
		snprintf(wire, sizeof(wire), " (%llu on the wire, zstd)",
		    (unsigned long long)p->s->wire);
	log_peer_info("peer %s: xl-receive %s: xl exited with status %d "
	    "(%llu bytes in%s, %llu out)", p->s->ip, p->s->id, p->status,
	    (unsigned long long)p->in_bytes, wire,
	    (unsigned long long)p->out_bytes);
	net_exit(p->s, 0);
}

/* One frame from the peer: data for xl, or xl-eof, or an abort. */
static void
net_xl_from_peer(struct xl_pump *p)
{
	struct net_session	*s = p->s;
	char			 err[256];
	size_t			 len;
	int			 kind, code;

	code = net_read_frame(s->conn, util_now_ms() + p->idle_ms, &kind,
	    s->frame, PROTO_DATA_MAX, &len, err, sizeof(err));
	if (code == PE_ABORTED) {
		/* xl sees the end of its stdin and decides, as over ssh. */
		log_peer_info("peer %s: xl-receive %s: connection closed before "
		    "xl finished", s->ip, s->id);
		net_exit(s, 0);
	}
	if (code != PE_NONE)
		net_refuse(s, code, err);
	if (kind == PROTO_FRAME_DATA || kind == PROTO_FRAME_ZSTD) {
		if (p->peer_eof)
			net_refuse(s, PE_UNEXPECTED, "data after xl-eof");
		p->in = s->frame;
		if (kind == PROTO_FRAME_ZSTD) {
			len = net_zstd_frame(s, len);
			p->in = s->plain;
		} else
			s->wire += len;
		p->in_len = len;
		p->in_off = p->xl_gone ? len : 0;
		p->in_bytes += len;
		p->moved = 1;
		return;
	}
	if ((code = proto_decode(s->frame, len, &s->msg, err,
	    sizeof(err))) != PE_NONE)
		net_refuse(s, code, err);
	if (s->msg.id[0] != '\0' && strcmp(s->msg.id, s->id) != 0)
		net_refuse(s, PE_PROTOCOL, "message for another request");
	if (s->msg.type == PT_ABORT || s->msg.type == PT_ERROR) {
		log_peer_info("peer %s: xl-receive %s: peer gave up: %s", s->ip,
		    s->id, s->msg.text[0] ? s->msg.text : "no reason given");
		net_exit(s, 0);
	}
	if (s->msg.type != PT_XL_EOF)
		net_refuse(s, PE_UNEXPECTED, proto_type_name(s->msg.type));
	/* We read from the peer only once xl took everything before. */
	if (!p->peer_eof && shutdown(p->sock, SHUT_WR) == -1 &&
	    errno != ENOTCONN)
		log_debug("xl-receive %s: shutdown: %s", s->id,
		    strerror(errno));
	p->peer_eof = 1;
	p->moved = 1;
}

/* Gives xl as much of the peer's last frame as it takes now. */
static void
net_xl_to_xl(struct xl_pump *p)
{
	ssize_t	r;

	r = write(p->sock, p->in + p->in_off, p->in_len - p->in_off);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		/* xl closed its stdin (it failed, or it is done): drop. */
		log_debug("xl-receive %s: xl stopped reading its stdin",
		    p->s->id);
		p->xl_gone = 1;
		p->in_off = p->in_len;
		return;
	}
	p->in_off += (size_t)r;
	p->moved = 1;
}

/* One read of xl's stdout, sent as one data frame. */
static void
net_xl_from_xl(struct xl_pump *p)
{
	char	err[128];
	ssize_t	r;

	r = read(p->sock, p->out + PROTO_FRAME_HDR, XL_CHUNK_MAX);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	p->moved = 1;
	if (r <= 0) {
		p->xl_eof = 1;
		net_xl_send(p, PT_XL_EOF, 0);
		return;
	}
	proto_frame_header(p->out, PROTO_FRAME_DATA, (size_t)r);
	if (tls_write_full(p->s->conn, p->out, PROTO_FRAME_HDR + (size_t)r,
	    util_now_ms() + p->idle_ms, err, sizeof(err)) == -1) {
		log_peer_info("peer %s: xl-receive %s: lost the connection: %s",
		    p->s->ip, p->s->id, err);
		net_exit(p->s, 1);
	}
	p->out_bytes += (uint64_t)r;
}

/* The parent relays the worker's report: xl's exit, or a failure. */
static void
net_xl_from_parent(struct xl_pump *p)
{
	struct msg_step	st;
	uint32_t	type;
	size_t		len;

	if (msg_recv(p->s->parent_fd, &type, &st, sizeof(st), &len,
	    NULL) != 0 || type != MSG_STEP)
		net_refuse(p->s, PE_INTERNAL, "no answer from the parent");
	MSG_TERMINATE(st.text);
	if (st.phase != PHASE_DONE || st.code != PE_NONE)
		net_refuse(p->s, st.code > PE_NONE && st.code < PE_MAX ?
		    st.code : PE_INTERNAL, st.text[0] ? st.text :
		    "xl-receive failed here");
	p->exited = 1;
	p->status = st.status >= 0 && st.status <= 255 ? st.status : 255;
	p->exit_ms = util_now_ms();
}

/* Sets up one poll round; returns the timeout in milliseconds. */
static int
net_xl_events(struct xl_pump *p, struct pollfd *pfd, uint64_t now)
{
	uint64_t	until = p->last_ms + p->idle_ms;
	int		pending = p->in_off < p->in_len;

	pfd[0].fd = tls_fd(p->s->conn);
	pfd[0].events = pending ? 0 : POLLIN;
	pfd[1].fd = p->sock;
	pfd[1].events = (p->xl_eof ? 0 : POLLIN) | (pending ? POLLOUT : 0);
	pfd[2].fd = p->s->parent_fd;
	pfd[2].events = p->exited ? 0 : POLLIN;
	/* A descriptor with no events would still wake us with POLLHUP. */
	for (int i = 0; i < 3; i++) {
		if (pfd[i].events == 0)
			pfd[i].fd = -1;
		pfd[i].revents = 0;
	}
	if (p->exited && p->exit_ms + NET_XL_EOF_WAIT_MS < until)
		until = p->exit_ms + NET_XL_EOF_WAIT_MS;
	if (!pending && tls_pending(p->s->conn) > 0)
		return 0;
	return until > now ? (int)(until - now) : 0;
}

static void __attribute__((noreturn))
net_xl_pump(struct xl_pump *p)
{
	struct pollfd	pfd[3];
	uint64_t	now;
	int		timeout;

	p->last_ms = util_now_ms();
	for (;;) {
		now = util_now_ms();
		if (p->exited && (p->xl_eof ||
		    now >= p->exit_ms + NET_XL_EOF_WAIT_MS))
			net_xl_finish(p);
		if (now >= p->last_ms + p->idle_ms)
			net_refuse(p->s, PE_TIMEOUT, "xl-receive: idle deadline "
			    "passed (relocd-idle-timeout)");
		timeout = net_xl_events(p, pfd, now);
		if (poll(pfd, 3, timeout) == -1 && errno != EINTR)
			net_exit(p->s, 1);
		p->moved = 0;
		if (pfd[2].revents != 0)
			net_xl_from_parent(p);
		if (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP) &&
		    p->in_off < p->in_len)
			net_xl_to_xl(p);
		if (pfd[1].revents & (POLLIN | POLLERR | POLLHUP) && !p->xl_eof)
			net_xl_from_xl(p);
		if (p->in_off == p->in_len && (pfd[0].revents != 0 ||
		    tls_pending(p->s->conn) > 0))
			net_xl_from_peer(p);
		if (p->moved)
			p->last_ms = util_now_ms();
	}
}

/*
 * Checks the request, has the parent start xl, and pumps.  The words are
 * never passed on: the parent gets the parsed flags only.
 */
void
net_xl_serve(struct net_session *s, uint64_t deadline)
{
	static struct xl_pump	 p;
	struct msg_xl_receive	 r;
	struct msg_step		 st;
	struct proto_msg	*m = &s->msg;
	char			 err[160], words[XL_ARGS_MAX * 8], why[640];
	const char		*cert = s->peer.nnames ? s->peer.names[0] : "-";
	int			 fd = -1, offered;

	if (m->id[0] == '\0')
		net_refuse(s, PE_PROTOCOL, "xl-receive without an id");
	STRLCPY_ARRAY(s->id, m->id);
	offered = m->compress && s->version >= PROTO_VERSION_XL_COMPRESS;
	memset(&r, 0, sizeof(r));
	STRLCPY_ARRAY(r.id, m->id);
	if (xlreq_parse((const xlreq_word *)m->xl_args, m->xl_nargs,
	    &r.flags, err, sizeof(err)) == -1) {
		xlreq_words_format((const xlreq_word *)m->xl_args, m->xl_nargs,
		    words, sizeof(words));
		snprintf(why, sizeof(why), "xl request '%s' from certificate "
		    "%s: %s", words, cert, err);
		net_refuse(s, PE_NOT_PERMITTED, why);
	}
	if (msg_send(s->parent_fd, MSG_NET_XL_RECEIVE, &r, sizeof(r),
	    -1) == -1)
		net_exit(s, 1);
	net_expect_step(s, PHASE_RESERVED, NET_XL_START_MS, &st, &fd);
	if (fd == -1 || proc_set_nonblock(fd) == -1)
		net_refuse(s, PE_INTERNAL, "no stream socket");
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.sock = fd;
	p.idle_ms = (uint64_t)s->args->conf->idle_timeout_s * 1000;
	if ((p.out = malloc(PROTO_FRAME_HDR + XL_CHUNK_MAX)) == NULL)
		net_refuse(s, PE_INTERNAL, "out of memory");
	xlreq_format(&r.flags, p.what, sizeof(p.what));
	p.zstd = offered && net_zstd_accept(s);
	s->state = PS_XL_STREAMING;
	net_xl_send(&p, PT_XL_STARTED, 0);
	(void)deadline;
	log_peer_info("peer %s: xl-receive %s: running %s%s", s->ip, s->id,
	    p.what, p.zstd ? ", the stream compressed (zstd)" : "");
	net_xl_pump(&p);
}
