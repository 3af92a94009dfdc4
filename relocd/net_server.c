// SPDX-License-Identifier: ISC
/*
 * The network child on the destination: it answers a source's hello,
 * passes its reservation request to the parent, pumps the stream into
 * the worker's pipe, and walks the commit (prepared -> go -> activated)
 * with the parent relaying to and from the worker.
 *
 * Runs sandboxed (net.c); every byte here came from the peer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fault.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "proto.h"
#include "tls.h"
#include "util.h"
#include "version.h"
#include "acl.h"
#include "proc.h"

/* Messages a source may send to a destination; the rest are ours. */
static int
net_client_may_send(int type)
{
	return type == PT_HELLO || type == PT_RESERVE || type == PT_END ||
	    type == PT_GO || type == PT_ABORT || type == PT_ERROR ||
	    type == PT_QUERY || type == PT_XL_RECEIVE;
}

static void
net_reply(struct net_session *s, int type, uint64_t deadline)
{
	struct proto_msg	*m = &s->msg;

	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = type;
	STRLCPY_ARRAY(m->id, s->id);
	if (net_send_msg(s->conn, m, deadline) == -1)
		net_exit(s, 1);
}

/*
 * No protocol version in common: the source is told, in one sentence
 * naming both sides' versions and releases, before anything is
 * reserved.  The error carries our range too, so a source of a later
 * release can word the sentence its own way.
 */
static void __attribute__((noreturn))
net_refuse_version(struct net_session *s)
{
	struct proto_msg	*m = &s->msg;
	char			 peer[96], here[300], text[600];

	/* Whole in our log; cut (and marked so) to fit the error. */
	snprintf(peer, sizeof(peer), "source %s", s->ip);
	snprintf(here, sizeof(here), "destination %s", s->args->local_name);
	version_mismatch(text, sizeof(text), peer, m, here);
	log_peer_warnx("peer %s: refused (%s): %s", s->ip,
	    proto_error_text(PE_VERSION), text);
	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_ERROR;
	m->code = PE_VERSION;
	util_text_copy(m->text, text, sizeof(m->text));
	version_hello(m);
	net_send_msg(s->conn, m, util_now_ms() + NET_CLOSE_MS);
	net_exit(s, 1);
}

static void
net_on_hello(struct net_session *s, uint64_t deadline)
{
	struct proto_msg	*m = &s->msg;
	uint32_t		 v;

	if (version_choose(m, &v) == -1)
		net_refuse_version(s);
	s->version = v;
	log_debug("peer %s: hello from %s, relocd %s, protocol %u", s->ip,
	    m->host, m->release[0] != '\0' ? m->release : VERSION_RELEASE_V1,
	    v);
	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_HELLO;
	/* Our choice is our lowest here; a 0.1.0 source reads only this. */
	version_hello(m);
	m->version = v;
	if (strlcpy(m->host, s->args->local_name, sizeof(m->host)) >=
	    sizeof(m->host))
		net_refuse(s, PE_INTERNAL, "this host's name is longer than "
		    "255 characters");
	if (net_send_msg(s->conn, m, deadline) == -1)
		net_exit(s, 1);
}

/*
 * Tells the parent about a step the peer took.  Nothing else from the
 * peer goes with it: no statistics, and no word on where the guest runs
 * (msg_step.where stays unknown; the parent ignores it from us anyway).
 */
static void
net_tell_parent(struct net_session *s, uint32_t type, int phase, int code,
    const char *text)
{
	struct msg_step	st;

	memset(&st, 0, sizeof(st));
	STRLCPY_ARRAY(st.id, s->id);
	st.phase = phase;
	st.code = code;
	util_text_copy(st.text, text, sizeof(st.text));
	if (msg_send(s->args->parent_fd, type, &st, sizeof(st), -1) == -1)
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
	struct msg_step		 st;
	struct proto_msg	*m = &s->msg;
	int			 fd = -1, offered;

	if (m->id[0] == '\0')
		net_refuse(s, PE_PROTOCOL, "reserve without an id");
	offered = m->compress && s->version >= PROTO_VERSION_COMPRESS;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		net_exit(s, 1);
	STRLCPY_ARRAY(r->id, m->id);
	r->guest = m->guest;
	r->live = (uint32_t)m->live;
	STRLCPY_ARRAY(r->facts, m->facts);
	r->config_len = (uint32_t)m->config_len;
	memcpy(r->config, m->config, m->config_len + 1);
	STRLCPY_ARRAY(s->id, m->id);
	fault_guest(m->guest.name);
	if (msg_send(s->args->parent_fd, MSG_NET_RESERVE, r, sizeof(r[0]),
	    -1) == -1)
		net_exit(s, 1);
	free(r);
	net_expect_step(s, PHASE_RESERVED, NET_RESERVE_WAIT_MS, &st, &fd);
	if (fd == -1)
		net_refuse(s, PE_INTERNAL, "no stream pipe");
	s->data_fd = fd;
	memset(m, 0, offsetof(struct proto_msg, config));
	m->type = PT_RESERVED;
	STRLCPY_ARRAY(m->id, s->id);
	m->guest = st.guest;
	/* What the pre-flight looked at, for a source that reads it. */
	if (s->version >= PROTO_VERSION_CHECKS)
		m->checks = st.checks;
	if (s->version >= PROTO_VERSION_CAPACITY && st.available_known) {
		m->available = st.available;
		m->available_known = 1;
	}
	m->compress = offered && net_zstd_accept(s);
	if (net_send_msg(s->conn, m, deadline) == -1)
		net_exit(s, 1);
	log_peer_info("peer %s: reserved %s for migration %s", s->ip,
	    st.guest.name, s->id);
}

/* The peer gave up (or vanished) before go: tell the parent, then leave. */
static void __attribute__((noreturn))
net_peer_aborted(struct net_session *s, int code, const char *why)
{
	if (s->state >= PS_STREAMING && s->state <= PS_PREPARED)
		net_tell_parent(s, MSG_NET_STEP, PHASE_ABORTED, code, why);
	log_peer_info("peer %s: %s", s->ip, why);
	net_exit(s, 0);
}

/*
 * Writing into the worker's pipe failed (errno ETIMEDOUT: it stopped
 * reading for longer than the peer's idle deadline allows).
 */
static void __attribute__((noreturn))
net_worker_stopped(struct net_session *s)
{
	struct msg_step	st;

	if (errno == ETIMEDOUT)
		net_refuse(s, PE_TIMEOUT, "the worker stopped reading");
	/* The worker failed; the parent knows why. */
	net_expect_step(s, PHASE_PREPARED, NET_FAILURE_WAIT_MS, &st, NULL);
	net_refuse(s, PE_INTERNAL, "the worker stopped reading");
}

/* One data frame's payload is in the worker's pipe. */
static void
net_data_landed(struct net_session *s, size_t len)
{
	s->received += len;
	fault_point("destination-net-data");
}

/*
 * Writes one data frame into the worker's pipe.  The worker may pause
 * for what is left of the peer's idle deadline, and no longer: a worker
 * that stops reading must not hold the peer's connection open forever.
 */
static void
net_on_data(struct net_session *s, const char *buf, size_t len,
    uint64_t deadline)
{
	uint64_t	now = util_now_ms();

	if (util_write_all_idle(s->data_fd, buf, len,
	    now < deadline ? (int)(deadline - now) : 0) == -1)
		net_worker_stopped(s);
	net_data_landed(s, len);
}

/* A zstd frame of the stream: its plain bytes go to the worker. */
static void
net_on_zstd(struct net_session *s, size_t len, uint64_t deadline)
{
	size_t	out = net_zstd_frame(s, len);

	net_on_data(s, s->plain, out, deadline);
}

/*
 * Plaintext: one data frame's payload spliced from the socket into the
 * worker's pipe, never through our memory (tls_plain_recv_to_pipe);
 * failures end as net_loop's and net_on_data's do.
 */
static void
net_splice_data(struct net_session *s, size_t len, uint64_t deadline)
{
	char		err[256];
	int		r;

	err[0] = '\0';
	r = tls_plain_recv_to_pipe(s->conn, s->data_fd, len, deadline, err,
	    sizeof(err));
	if (r == TLS_SPLICE_PEER && util_now_ms() >= deadline)
		net_refuse(s, PE_TIMEOUT, "idle deadline passed "
		    "(relocd-idle-timeout)");
	if (r == TLS_SPLICE_PEER)
		net_peer_aborted(s, PE_ABORTED, err[0] != '\0' ? err :
		    "connection closed");
	if (r == TLS_SPLICE_PIPE)
		net_worker_stopped(s);
	s->wire += len;
	net_data_landed(s, len);
}

/* The stream is complete: the worker checks the image, we report. */
static void
net_on_end(struct net_session *s, uint64_t deadline)
{
	struct msg_step	st;

	close(s->data_fd);
	s->data_fd = -1;
	if (s->msg.bytes != s->received)
		net_refuse(s, PE_IMAGE, "stream length differs from the end "
		    "record");
	if (s->dec != NULL)
		log_peer_info("peer %s: migration %s: %llu bytes of stream "
		    "came as %llu on the wire (zstd)", s->ip, s->id,
		    (unsigned long long)s->received,
		    (unsigned long long)s->wire);
	net_expect_step(s, PHASE_PREPARED, NET_VERIFY_WAIT_MS, &st, NULL);
	s->state = PS_PREPARED;
	net_reply(s, PT_PREPARED, deadline + NET_VERIFY_WAIT_MS);
	log_peer_info("peer %s: migration %s prepared: image complete and "
	    "consistent", s->ip, s->id);
}

/* From here the guest is ours: activate it whatever the peer does next. */
static void __attribute__((noreturn))
net_on_go(struct net_session *s, uint64_t deadline)
{
	struct msg_step	st;

	net_tell_parent(s, MSG_NET_STEP, PHASE_GO, PE_NONE, "");
	fault_point("destination-net-after-go");
	net_expect_step(s, PHASE_ACTIVATED, NET_ACTIVATE_WAIT_MS, &st, NULL);
	memset(&s->msg, 0, offsetof(struct proto_msg, config));
	s->msg.type = PT_ACTIVATED;
	STRLCPY_ARRAY(s->msg.id, s->id);
	s->msg.downtime_ms = st.stats.downtime_ms;
	s->msg.digest_ms = st.stats.digest_ms;
	s->msg.unpause_ms = pause_get(&st.stats.pause, PAUSE_UNPAUSE);
	s->msg.restore_ms = pause_get(&st.stats.pause, PAUSE_RESTORE);
	if (net_send_msg(s->conn, &s->msg, deadline + NET_ACTIVATE_WAIT_MS))
		net_exit(s, 1);
	log_peer_info("peer %s: migration %s activated %s", s->ip, s->id,
	    st.guest.name);
	net_exit(s, 0);
}

/* After a lost connection the source asks where migration id stands. */
static void __attribute__((noreturn))
net_on_query(struct net_session *s, uint64_t deadline)
{
	struct msg_step	st;

	if (s->msg.id[0] == '\0')
		net_refuse(s, PE_PROTOCOL, "query without an id");
	STRLCPY_ARRAY(s->id, s->msg.id);
	net_tell_parent(s, MSG_NET_QUERY, PHASE_PROGRESS, PE_NONE, "");
	if (net_wait_parent(s, MSG_STEP, &st, sizeof(st), NULL,
	    util_now_ms() + NET_REPLY_MS) == -1)
		net_refuse(s, PE_INTERNAL, "no answer from the parent");
	MSG_TERMINATE(st.text);
	memset(&s->msg, 0, offsetof(struct proto_msg, config));
	s->msg.type = PT_STATE;
	STRLCPY_ARRAY(s->msg.id, s->id);
	if (strlcpy(s->msg.phase, st.text, sizeof(s->msg.phase)) >=
	    sizeof(s->msg.phase))
		net_refuse(s, PE_INTERNAL, "the phase name is longer than "
		    "31 characters");
	net_send_msg(s->conn, &s->msg, deadline);
	log_peer_info("peer %s: asked about migration %s: %s", s->ip, s->id,
	    st.text);
	net_exit(s, 0);
}

static void
net_dispatch(struct net_session *s, uint64_t deadline)
{
	struct proto_msg	*m = &s->msg;
	int			 next;

	if (!net_client_may_send(m->type) ||
	    (next = proto_next_state(s->state, m->type, 0)) == -1)
		net_refuse(s, PE_UNEXPECTED, proto_type_name(m->type));
	if (m->id[0] != '\0' && s->id[0] != '\0' && strcmp(m->id, s->id) != 0)
		net_refuse(s, PE_PROTOCOL, "message for another migration");
	s->state = next;
	switch (m->type) {
	case PT_HELLO:
		net_on_hello(s, deadline);
		break;
	case PT_RESERVE:
		net_on_reserve(s, deadline);
		s->state = PS_STREAMING;
		break;
	case PT_END:
		net_on_end(s, deadline);
		break;
	case PT_GO:
		net_on_go(s, deadline);
	case PT_QUERY:
		net_on_query(s, deadline);
	case PT_XL_RECEIVE:
		net_xl_serve(s, deadline);
	case PT_ABORT:
	case PT_ERROR:
		net_peer_aborted(s, m->code, m->text[0] ? m->text :
		    "peer aborted the migration");
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
		    util_now_ms() + (uint64_t)conf->idle_timeout_s * 1000;
		err[0] = '\0';
		code = net_read_frame_head(s->conn, deadline, &kind,
		    PROTO_DATA_MAX, &len, err, sizeof(err));
		if (code == PE_NONE && kind == PROTO_FRAME_DATA &&
		    tls_is_plain(s->conn) && s->data_fd != -1 &&
		    proto_next_state(s->state, 0, 1) != -1) {
			net_splice_data(s, len, deadline);
			continue;
		}
		if (code == PE_NONE && tls_read_full(s->conn, s->frame, len,
		    deadline, err, sizeof(err)) == -1)
			code = util_now_ms() >= deadline ? PE_TIMEOUT :
			    PE_ABORTED;
		/* A record that fails TLS's integrity check ends here too. */
		if (code == PE_ABORTED)
			net_peer_aborted(s, PE_ABORTED, err[0] != '\0' ? err :
			    "connection closed");
		if (code == PE_TIMEOUT)
			net_refuse(s, code, s->state == PS_HELLO ?
			    "handshake deadline passed: no hello" :
			    "idle deadline passed (relocd-idle-timeout)");
		if (code != PE_NONE)
			net_refuse(s, code, err);
		if (kind == PROTO_FRAME_DATA || kind == PROTO_FRAME_ZSTD) {
			if (proto_next_state(s->state, 0, 1) == -1)
				net_refuse(s, PE_UNEXPECTED, "data frame");
			if (kind == PROTO_FRAME_ZSTD)
				net_on_zstd(s, len, deadline);
			else {
				s->wire += len;
				net_on_data(s, s->frame, len, deadline);
			}
			continue;
		}
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
	s->parent_fd = a->parent_fd;
	s->data_fd = -1;
	s->state = PS_HELLO;
	deadline = util_now_ms() +
	    (uint64_t)a->conf->handshake_timeout_s * 1000;
	if (acl_peer_ip((const struct sockaddr *)&a->peer, a->peerlen, s->ip,
	    sizeof(s->ip)) == -1)
		STRLCPY_ARRAY(s->ip, "?");
	STRLCPY_ARRAY(s->host, a->host);
	if (proc_sandbox_net(a->id, err, sizeof(err)) == -1) {
		log_warnx("peer %s: sandbox: %s", s->ip, err);
		_exit(1);
	}
	net_handshake(s, deadline);
	net_authorize(s);
	net_loop(s, deadline);
}
