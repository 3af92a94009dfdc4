// SPDX-License-Identifier: ISC
/*
 * The network child on the source: it connects to the destination's
 * relocd, verifies its certificate and name, asks it to reserve room for
 * the guest, pumps the worker's stream to it as data frames, and walks
 * the commit: end -> prepared -> (the parent says) go -> activated.
 * After a lost connection past "go", a fresh child of this kind only
 * asks the destination where the migration stands (query).
 *
 * It resolves and connects before entering the sandbox (the resolver
 * needs files); everything the peer sends is handled inside it.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "compress.h"
#include "compress_auto.h"
#include "conf.h"
#include "fault.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "proc.h"
#include "proto.h"
#include "tls.h"
#include "util.h"
#include "version.h"

struct client {
	struct net_session		 s;
	const struct net_client_args	*a;
	uint64_t			 sent;		/* the stream's bytes */
	uint64_t			 wire;		/* its data frames' */
	int				 zstd;		/* accepted */
	int				 compressing;	/* the next chunk */
	struct compress_auto		 automatic;	/* auto's way */
	uint64_t			 chunk_end_us;	/* auto's clock */
	struct compress_enc		*enc;
	uint8_t				*zframe;	/* PROTO_DATA_MAX */
	uint64_t			 progress_ms;
};

/* How often a compressing stream tells the parent its ratio so far. */
#define CLIENT_PROGRESS_MS	1000

static void __attribute__((noreturn))
client_tell_checks(struct client *c, int phase, int code, const char *text,
    const struct check_list *checks, int exit_code)
{
	struct msg_step	st;

	memset(&st, 0, sizeof(st));
	STRLCPY_ARRAY(st.id, c->s.id);
	st.phase = phase;
	st.code = code;
	util_text_copy(st.text, text, sizeof(st.text));
	st.stats.bytes = c->sent;
	st.stats.wire_bytes = c->wire;
	st.stats.compressed = (uint32_t)c->zstd;
	if (checks != NULL)
		st.checks = *checks;
	msg_send(c->a->parent_fd, MSG_NET_STEP, &st, sizeof(st), -1);
	net_exit(&c->s, exit_code);
}

static void __attribute__((noreturn))
client_tell(struct client *c, int phase, int code, const char *text,
    int exit_code)
{
	client_tell_checks(c, phase, code, text, NULL, exit_code);
}

static void
client_tell_ok(struct client *c, int phase, const struct proto_msg *m)
{
	struct msg_step	st;

	memset(&st, 0, sizeof(st));
	STRLCPY_ARRAY(st.id, c->s.id);
	st.phase = phase;
	st.stats.bytes = c->sent;
	st.stats.wire_bytes = c->wire;
	st.stats.compressed = (uint32_t)c->zstd;
	st.protocol = c->s.version;
	if (m != NULL) {
		st.guest = m->guest;
		STRLCPY_ARRAY(st.text, m->phase);
		st.stats.downtime_ms = m->downtime_ms;
		st.stats.digest_ms = m->digest_ms;
		if (m->type == PT_ACTIVATED && m->unpause_ms >= 0)
			pause_set(&st.stats.pause, PAUSE_UNPAUSE,
			    m->unpause_ms);
		if (m->type == PT_ACTIVATED && m->restore_ms >= 0)
			pause_set(&st.stats.pause, PAUSE_RESTORE,
			    m->restore_ms);
		st.checks = m->checks;
		st.available = m->available;
		st.available_known = (uint32_t)m->available_known;
	}
	if (msg_send(c->a->parent_fd, MSG_NET_STEP, &st, sizeof(st), -1))
		net_exit(&c->s, 1);
}

/*
 * The destination speaks no protocol version we do (its hello named
 * others, or it refused ours): one sentence names both sides' versions
 * and releases, and says which host to upgrade first.  Nothing was
 * reserved yet.  A refusal with no range in it comes from relocd 0.1.0,
 * which speaks only version 1.
 */
static void __attribute__((noreturn))
client_refuse_version(struct client *c)
{
	struct proto_msg	*m = &c->s.msg;
	char			 peer[300], here[300], text[600];

	if (m->version == 0) {
		m->version = m->version_max = 1;
		m->release[0] = '\0';
	}
	snprintf(peer, sizeof(peer), "destination %s", c->a->host);
	snprintf(here, sizeof(here), "source %s", c->a->local_name);
	version_mismatch(text, sizeof(text), peer, m, here);
	client_tell(c, PHASE_ABORTED, PE_VERSION, text, 1);
}

/* Reads the next control message; a data frame here is a violation. */
static void
client_read(struct client *c, uint64_t deadline)
{
	char	err[600], where[300];
	size_t	len;
	int	kind, code;

	code = net_read_frame(c->s.conn, deadline, &kind, c->s.frame,
	    PROTO_DATA_MAX, &len, err, sizeof(err));
	if (code == PE_NONE && kind != PROTO_FRAME_CONTROL)
		code = PE_UNEXPECTED;
	if (code == PE_NONE)
		code = proto_decode(c->s.frame, len, &c->s.msg, err,
		    sizeof(err));
	if (code == PE_TIMEOUT)
		client_tell(c, PHASE_ABORTED, PE_TIMEOUT,
		    "the destination did not answer in time", 1);
	if (code != PE_NONE)
		client_tell(c, PHASE_ABORTED, PE_PROTOCOL, code == PE_ABORTED ?
		    "the destination closed the connection" :
		    "the destination sent a malformed message", 1);
	if (c->s.msg.type == PT_ERROR && c->s.msg.code == PE_VERSION)
		client_refuse_version(c);
	if (c->s.msg.type == PT_ERROR || c->s.msg.type == PT_ABORT) {
		/* Say where: "here" in the peer's text means the peer. */
		snprintf(err, sizeof(err), "destination %s: %s", c->a->host,
		    c->s.msg.text[0] ? c->s.msg.text :
		    proto_error_text(c->s.msg.code));
		snprintf(where, sizeof(where), "destination %s", c->a->host);
		checks_prefix_failures(&c->s.msg.checks, where);
		client_tell_checks(c, PHASE_ABORTED, c->s.msg.code, err,
		    &c->s.msg.checks, 1);
	}
}

/* Sends m or gives up: after a failed send there is nothing to say. */
static void
client_send(struct client *c, struct proto_msg *m, uint64_t deadline)
{
	STRLCPY_ARRAY(m->id, c->s.id);
	if (net_send_msg(c->s.conn, m, deadline) == -1)
		client_tell(c, PHASE_ABORTED, PE_PROTOCOL,
		    "lost the connection to the destination", 1);
}

static void
client_expect(struct client *c, int type, uint64_t deadline)
{
	client_read(c, deadline);
	if (c->s.msg.type != type)
		client_tell(c, PHASE_ABORTED, PE_UNEXPECTED,
		    "the destination answered out of order", 1);
}

static void
client_handshake(struct client *c, int fd, uint64_t deadline)
{
	const struct net_client_args	*a = c->a;
	const char			*names[TLS_PEER_NAMES_MAX];
	struct proto_msg		*m = &c->s.msg;
	char				 err[256];
	size_t				 i;

	if (a->tls == NULL) {
		if (tls_plain(fd, &c->s.conn) == -1)
			net_exit(&c->s, 1);
	} else if (tls_connect(a->tls, fd, a->host, deadline, &c->s.conn,
	    &c->s.peer, err, sizeof(err)) == -1) {
		close(fd);
		client_tell(c, PHASE_ABORTED, PE_UNAUTHORIZED, err, 1);
	}
	for (i = 0; i < c->s.peer.nnames; i++)
		names[i] = c->s.peer.names[i];
	if (a->tls != NULL && !acl_names_match(a->conf->peers_names, names,
	    c->s.peer.nnames))
		client_tell(c, PHASE_ABORTED, PE_UNAUTHORIZED, "the "
		    "destination's certificate name is not in "
		    "relocd-peers-allow", 1);
	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_HELLO;
	version_hello(m);
	if (strlcpy(m->host, a->local_name, sizeof(m->host)) >= sizeof(m->host))
		client_tell(c, PHASE_ABORTED, PE_INTERNAL, "this host's name "
		    "is longer than 255 characters", 1);
	client_send(c, m, deadline);
	client_expect(c, PT_HELLO, deadline);
	/* The destination's "protocol" is the version it chose. */
	if (!version_accept(m))
		client_refuse_version(c);
	c->s.version = m->version;
	log_debug("destination %s: relocd %s, protocol %u", a->host,
	    m->release[0] != '\0' ? m->release : VERSION_RELEASE_V1,
	    m->version);
}

/*
 * Whether to offer zstd in reserve: if the migration asks for it and
 * the destination speaks PROTO_VERSION_COMPRESS.  An older one never
 * sees the offer, and the stream goes as it always did.
 */
static int
client_offer_compress(struct client *c)
{
	if (c->a->compress == CONF_COMPRESS_OFF)
		return 0;
	if (c->s.version >= PROTO_VERSION_COMPRESS)
		return 1;
	log_info("migration %s: destination %s speaks protocol %u, before "
	    "compression (%u): the stream goes uncompressed", c->s.id,
	    c->a->host, c->s.version, PROTO_VERSION_COMPRESS);
	return 0;
}

static void
client_start_compress(struct client *c)
{
	if ((c->enc = compress_enc_new()) == NULL ||
	    (c->zframe = malloc(PROTO_DATA_MAX)) == NULL)
		client_tell(c, PHASE_ABORTED, PE_INTERNAL, "cannot set up "
		    "zstd compression: out of memory", 1);
	c->zstd = 1;
	/* auto starts uncompressed, and measures (compress_auto.h). */
	c->compressing = c->a->compress != CONF_COMPRESS_AUTO;
	compress_auto_init(&c->automatic);
	c->chunk_end_us = util_now_us();
}

static void
client_reserve(struct client *c, uint64_t deadline)
{
	const struct msg_reserve	*r = c->a->reserve;
	struct proto_msg		*m = &c->s.msg;
	int				 offered;

	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_RESERVE;
	m->guest = r->guest;
	m->live = (int)r->live;
	_Static_assert(sizeof(m->config) >= sizeof(r->config),
	    "the config of a reservation fits a message");
	m->config_len = strlcpy(m->config, r->config, sizeof(m->config));
	STRLCPY_ARRAY(m->facts, r->facts);
	m->compress = client_offer_compress(c);
	offered = m->compress;
	client_send(c, m, deadline);
	client_expect(c, PT_RESERVED, deadline + NET_RESERVE_WAIT_MS);
	if (m->compress && !offered)
		client_tell(c, PHASE_ABORTED, PE_PROTOCOL, "the destination "
		    "accepted a compression it was not offered", 1);
	if (m->compress)
		client_start_compress(c);
	else if (offered)
		log_info("migration %s: destination %s declined compression: "
		    "the stream goes uncompressed", c->s.id, c->a->host);
	client_tell_ok(c, PHASE_RESERVED, m);
}

/* Waits for the parent: go, or abort (which we pass on, then leave). */
static void
client_wait_parent(struct client *c, int want, uint64_t wait_ms)
{
	struct msg_step		 st;
	struct proto_msg	*m = &c->s.msg;

	if (net_wait_parent(&c->s, MSG_STEP, &st, sizeof(st), NULL,
	    util_now_ms() + wait_ms) == -1)
		memset(&st, 0, sizeof(st)), st.phase = PHASE_ABORTED;
	MSG_TERMINATE(st.text);
	if (st.phase == want)
		return;
	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_ABORT;
	m->code = st.code > PE_NONE && st.code < PE_MAX ? st.code : PE_ABORTED;
	util_text_copy(m->text, st.text[0] ? st.text : "aborted by the source",
	    sizeof(m->text));
	net_send_msg(c->s.conn, m, util_now_ms() + NET_CLOSE_MS);
	net_exit(&c->s, 0);
}

/*
 * auto: the chunk of bytes just sent as wire bytes, timed from the end
 * of the one before (the wait for the worker's pipe, compressing and
 * the socket's wait all count), tells compress_auto.c how the stream
 * goes each way.
 */
static void
client_auto_account(struct client *c, uint64_t bytes, uint64_t wire)
{
	char		why[200];
	uint64_t	now;

	if (c->a->compress != CONF_COMPRESS_AUTO || !c->zstd)
		return;
	now = util_now_us();
	if (compress_auto_account(&c->automatic, bytes, wire,
	    now - c->chunk_end_us, why, sizeof(why)))
		log_info("migration %s: %s", c->s.id, why);
	c->compressing = c->automatic.compressing;
	c->chunk_end_us = now;
}

/*
 * Plaintext: what the worker's pipe holds now, spliced to the socket
 * as one data frame (tls_plain_send_from_pipe says why).  An empty
 * pipe, at its end or on a spurious wake-up, is left to the read path,
 * which tells the two apart.
 */
static int
client_splice_once(struct client *c, uint64_t deadline)
{
	uint8_t	hdr[PROTO_FRAME_HDR];
	char	err[128];
	int	avail;
	size_t	len;

	if (ioctl(c->s.data_fd, FIONREAD, &avail) == -1 || avail <= 0)
		return -1;
	len = (size_t)avail < PROTO_DATA_MAX - PROTO_FRAME_HDR ?
	    (size_t)avail : PROTO_DATA_MAX - PROTO_FRAME_HDR;
	proto_frame_header(hdr, PROTO_FRAME_DATA, len);
	if (tls_plain_send_from_pipe(c->s.conn, hdr, sizeof(hdr),
	    c->s.data_fd, len, deadline, err, sizeof(err)) == -1)
		client_tell(c, PHASE_ABORTED, PE_PROTOCOL, "lost the "
		    "connection to the destination while streaming", 1);
	c->sent += len;
	c->wire += len;
	client_auto_account(c, len, len);
	return 1;
}

/* A compressing stream's ratio so far, for the parent's progress. */
static void
client_progress(struct client *c)
{
	struct msg_step	st;
	uint64_t	now = util_now_ms();

	if (!c->zstd || now - c->progress_ms < CLIENT_PROGRESS_MS)
		return;
	c->progress_ms = now;
	memset(&st, 0, sizeof(st));
	STRLCPY_ARRAY(st.id, c->s.id);
	st.phase = PHASE_PROGRESS;
	st.stats.bytes = c->sent;
	st.stats.wire_bytes = c->wire;
	st.stats.compressed = 1;
	if (msg_send(c->a->parent_fd, MSG_NET_STEP, &st, sizeof(st), -1))
		net_exit(&c->s, 1);
}

/*
 * Sends the r bytes of the stream at buf + PROTO_FRAME_HDR as one frame:
 * a zstd frame when compression shrinks them, else as they are.
 */
static void
client_send_chunk(struct client *c, uint8_t *buf, size_t r,
    uint64_t deadline)
{
	uint8_t	*out = buf;
	char	 err[128];
	size_t	 len = r, z = 0;
	int	 kind = PROTO_FRAME_DATA;

	if (c->compressing && (z = compress_chunk(c->enc,
	    c->zframe + PROTO_FRAME_HDR, PROTO_DATA_MAX - PROTO_FRAME_HDR,
	    buf + PROTO_FRAME_HDR, r)) > 0) {
		out = c->zframe;
		len = z;
		kind = PROTO_FRAME_ZSTD;
	}
	proto_frame_header(out, kind, len);
	if (tls_write_full(c->s.conn, out, PROTO_FRAME_HDR + len, deadline,
	    err, sizeof(err)) == -1)
		client_tell(c, PHASE_ABORTED, PE_PROTOCOL, "lost the "
		    "connection to the destination while streaming", 1);
	c->sent += r;
	c->wire += len;
	client_auto_account(c, r, len);
	client_progress(c);
}

/* One read from the worker's pipe, sent as one data frame. */
static int
client_pump_once(struct client *c, uint64_t deadline)
{
	uint8_t	*buf = (uint8_t *)c->s.frame;
	ssize_t	 r;

	/* Compressed bytes must pass through our memory: no splice. */
	if (tls_is_plain(c->s.conn) && !c->compressing &&
	    (r = client_splice_once(c, deadline)) != -1)
		return (int)r;
	r = read(c->s.data_fd, buf + PROTO_FRAME_HDR,
	    PROTO_DATA_MAX - PROTO_FRAME_HDR);
	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (r <= 0)
		return 0;
	client_send_chunk(c, buf, (size_t)r, deadline);
	return 1;
}

/*
 * Streams until the worker closes the pipe.  Meanwhile the parent may
 * abort us, and the destination may refuse (its error arrives as a
 * control frame); both are watched.
 */
static void
client_stream(struct client *c)
{
	struct pollfd	pfd[3];
	uint64_t	idle = (uint64_t)c->a->conf->idle_timeout_s * 1000;
	int		r;

	pfd[0].fd = c->s.data_fd;
	pfd[1].fd = c->a->parent_fd;
	pfd[2].fd = tls_fd(c->s.conn);
	for (;;) {
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		if ((r = poll(pfd, 3, (int)idle)) == -1 && errno != EINTR)
			net_exit(&c->s, 1);
		if (r == 0)
			client_tell(c, PHASE_ABORTED, PE_TIMEOUT, "the source "
			    "worker stopped writing", 1);
		if (pfd[2].revents != 0 || tls_pending(c->s.conn) > 0)
			client_read(c, util_now_ms() + NET_PENDING_READ_MS);
		if (pfd[1].revents != 0)
			client_wait_parent(c, PHASE_PROGRESS,
			    NET_PARENT_READ_MS);
		if (pfd[0].revents != 0 &&
		    client_pump_once(c, util_now_ms() + idle) == 0)
			break;
	}
	close(c->s.data_fd);
	c->s.data_fd = -1;
	if (c->zstd)
		log_info("migration %s: %llu bytes of stream went as %llu on "
		    "the wire (zstd)", c->s.id, (unsigned long long)c->sent,
		    (unsigned long long)c->wire);
}

static void
client_commit(struct client *c)
{
	struct proto_msg	*m = &c->s.msg;

	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_END;
	m->bytes = c->sent;
	client_send(c, m, util_now_ms() + NET_REPLY_MS);
	client_expect(c, PT_PREPARED, util_now_ms() + NET_VERIFY_WAIT_MS);
	client_tell_ok(c, PHASE_PREPARED, NULL);
	client_wait_parent(c, PHASE_GO, NET_GO_WAIT_MS);
	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_GO;
	/* A failure from here on leaves the parent in doubt: it will ask. */
	if (net_send_msg(c->s.conn, m, util_now_ms() + NET_REPLY_MS) == -1)
		net_exit(&c->s, 2);
	fault_point("source-net-after-go");
	client_expect(c, PT_ACTIVATED, util_now_ms() + NET_ACTIVATE_WAIT_MS);
	client_tell_ok(c, PHASE_ACTIVATED, m);
}

static void __attribute__((noreturn))
client_query(struct client *c)
{
	struct proto_msg	*m = &c->s.msg;

	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_QUERY;
	client_send(c, m, util_now_ms() + NET_REPLY_MS);
	client_expect(c, PT_STATE, util_now_ms() + NET_REPLY_MS);
	client_tell_ok(c, PHASE_IN_DOUBT, m);
	net_exit(&c->s, 0);
}

void
net_client_run(const struct net_client_args *a)
{
	static struct client	c;
	char			err[600];
	uint64_t		deadline;
	int			fd;

	log_procinit("net");
	memset(&c, 0, sizeof(c));
	c.a = a;
	c.s.data_fd = a->data_fd;
	c.s.parent_fd = a->parent_fd;
	STRLCPY_ARRAY(c.s.id, a->reserve->id);
	fault_guest(a->reserve->guest.name);
	/* The destination's name, for log lines only: it may be cut. */
	util_text_copy(c.s.ip, a->host, sizeof(c.s.ip));
	if ((c.s.frame = malloc(PROTO_DATA_MAX)) == NULL)
		_exit(1);
	if ((fd = net_connect(a->host, a->port, a->conf->source_address, err,
	    sizeof(err))) == -1)
		client_tell(&c, PHASE_ABORTED, PE_UNSUPPORTED, err, 1);
	if (proc_sandbox_net(a->id, err, sizeof(err)) == -1) {
		log_warnx("sandbox: %s", err);
		_exit(1);
	}
	deadline = util_now_ms() +
	    (uint64_t)a->conf->handshake_timeout_s * 1000;
	client_handshake(&c, fd, deadline);
	if (a->query)
		client_query(&c);
	client_reserve(&c, util_now_ms() + NET_REPLY_MS);
	client_stream(&c);
	client_commit(&c);
	net_exit(&c.s, 0);
}
