// SPDX-License-Identifier: ISC
/*
 * The wire protocol between two relocd hosts, inside TLS.
 *
 * Frames: one kind byte ('C' control, 'D' data) and a 24-bit big-endian
 * length, then the payload.  A control frame holds one xend-style sxp
 * message, as xend's relocation protocol did ("(receive)" answered by
 * "(ready receive)"), e.g.
 *
 *   (reserve (id 0f..) (name web1) (uuid ..) (type pvh) (memory 1073741824)
 *            (vcpus 2) (live yes) (config '...'))
 *
 * An xl plugin (relocd-xl) asks instead for xl's own receiver, with the
 * words xl migrate gave it, and both sides then carry xl's stream:
 *
 *   (xl-receive (id 0f..) (args xl -t -vv migrate-receive -e))
 *   (xl-started (id 0f..))            data frames both ways
 *   (xl-eof (id 0f..))                either way: that direction ended
 *   (xl-exit (id 0f..) (status 0))    xl's exit status, 0..255
 *
 * Which words are permitted is xlreq.c's decision (net_xl.c asks it).
 *
 * Every connection opens with a hello each way, naming the protocol
 * versions and the relocd release the sender speaks:
 *
 *   (hello (protocol 1) (protocol-max 2) (release 0.2.0) (host a))
 *
 * version.c picks the version a connection uses and words the refusal
 * when there is none.
 *
 * A connection walks one state machine per side (proto_next_state), so a
 * message out of order is refused with a fixed code rather than reaching
 * code that assumed an earlier step.  Frames are bounded before their
 * payload is read.
 *
 * Runs in the network child (and relocctl), and decodes bytes from the
 * peer: everything here is hostile input, checked field by field.
 */
#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "sxp.h"
#include "util.h"

static int	proto_decode_tree(const struct sxp_node *, struct proto_msg *,
		    char *, size_t);

static const char *const proto_error_texts[PE_MAX] = {
	[PE_NONE] = "ok",
	[PE_PROTOCOL] = "malformed message",
	[PE_VERSION] = "unsupported protocol version",
	[PE_TOO_LARGE] = "frame too large",
	[PE_UNKNOWN_TYPE] = "unknown message type",
	[PE_UNEXPECTED] = "message out of order",
	[PE_UNAUTHORIZED] = "not authorized",
	[PE_BUSY] = "busy, try again later",
	[PE_TIMEOUT] = "deadline passed",
	[PE_CLASH] = "a guest with that name or uuid exists here",
	[PE_NO_MEMORY] = "not enough free memory here",
	[PE_BAD_GUEST] = "invalid guest description",
	[PE_UNSUPPORTED] = "not supported here",
	[PE_IMAGE] = "guest image incomplete or corrupt",
	[PE_ABORTED] = "migration aborted",
	[PE_INTERNAL] = "internal error on the peer",
	[PE_NOT_PERMITTED] = "request not permitted",
};

static const char *const proto_type_names[PT_MAX] = {
	[PT_HELLO] = "hello",
	[PT_RESERVE] = "reserve",
	[PT_RESERVED] = "reserved",
	/* PT_UNUSED_3: no name, so no message decodes to it. */
	[PT_END] = "end",
	[PT_PREPARED] = "prepared",
	[PT_GO] = "go",
	[PT_ACTIVATED] = "activated",
	[PT_ABORT] = "abort",
	[PT_ERROR] = "error",
	[PT_QUERY] = "query",
	[PT_STATE] = "state",
	[PT_XL_RECEIVE] = "xl-receive",
	[PT_XL_STARTED] = "xl-started",
	[PT_XL_EOF] = "xl-eof",
	[PT_XL_EXIT] = "xl-exit",
};

const char *
proto_error_text(int code)
{
	return code >= 0 && code < PE_MAX ? proto_error_texts[code] :
	    "unknown error";
}

const char *
proto_type_name(int type)
{
	return type >= 0 && type < PT_MAX && proto_type_names[type] != NULL ?
	    proto_type_names[type] : "?";
}

int
proto_error_from_backend(int be)
{
	switch (be) {
	case BE_OK:		return PE_NONE;
	case BE_CLASH:		return PE_CLASH;
	case BE_NO_MEMORY:	return PE_NO_MEMORY;
	case BE_UNSUPPORTED:	return PE_UNSUPPORTED;
	case BE_STREAM:
	case BE_DIGEST:		return PE_IMAGE;
	case BE_ABORTED:	return PE_ABORTED;
	case BE_NOT_FOUND:
	case BE_BAD_STATE:	return PE_BAD_GUEST;
	default:		return PE_INTERNAL;
	}
}

/*
 * Allowed transitions.  A message of type t received (or sent) in state s
 * moves the connection to the state returned, or is refused (-1).  Abort
 * and error end a connection before "go"; after it only the peer's report
 * or a later query settles who owns the guest.
 */
int
proto_next_state(int state, int type, int is_data)
{
	if (is_data)
		return state == PS_STREAMING || state == PS_XL_STREAMING ?
		    state : -1;
	if ((type == PT_ABORT || type == PT_ERROR) && state != PS_COMMITTED &&
	    state != PS_DONE)
		return PS_DONE;
	switch (state) {
	case PS_HELLO:
		return type == PT_HELLO ? PS_READY : -1;
	case PS_READY:
		if (type == PT_RESERVE)
			return PS_RESERVING;
		if (type == PT_QUERY || type == PT_STATE)
			return PS_READY;
		return type == PT_XL_RECEIVE ? PS_XL_STARTING : -1;
	case PS_RESERVING:
		return type == PT_RESERVED ? PS_STREAMING : -1;
	case PS_STREAMING:
		return type == PT_END ? PS_VERIFYING : -1;
	case PS_VERIFYING:
		return type == PT_PREPARED ? PS_PREPARED : -1;
	case PS_PREPARED:
		return type == PT_GO ? PS_COMMITTED : -1;
	case PS_COMMITTED:
		if (type == PT_ACTIVATED || type == PT_ERROR)
			return PS_DONE;
		return -1;
	case PS_XL_STARTING:
		return type == PT_XL_STARTED ? PS_XL_STREAMING : -1;
	case PS_XL_STREAMING:
		if (type == PT_XL_EOF)
			return PS_XL_STREAMING;
		return type == PT_XL_EXIT ? PS_DONE : -1;
	default:
		return -1;
	}
}

int
proto_id_valid(const char *id)
{
	size_t	i;

	for (i = 0; i < MIG_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return id[MIG_ID_LEN] == '\0';
}

/*
 * A fresh random migration id: MIG_ID_LEN hex digits of getrandom(2),
 * which needs no file (the network child runs chrooted, and its seccomp
 * filter allows getrandom).  An id names a migration to both hosts, so
 * one that is not random must never be used: without randomness this
 * fails (-1, errno set) and leaves id empty.
 */
int
proto_id_new(char *id, size_t size)
{
	unsigned char	rnd[MIG_ID_LEN / 2];
	size_t		i;
	ssize_t		r;

	if (size > 0)
		id[0] = '\0';
	if (size < MIG_ID_LEN + 1) {
		errno = EINVAL;
		return -1;
	}
	/* Up to 256 bytes come whole; EINTR only before the pool is ready. */
	while ((r = getrandom(rnd, sizeof(rnd), 0)) == -1 && errno == EINTR)
		;
	if (r != (ssize_t)sizeof(rnd)) {
		if (r != -1)
			errno = EIO;
		return -1;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

void
proto_frame_header(uint8_t *hdr, int kind, size_t len)
{
	hdr[0] = (uint8_t)kind;
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

/* Checks a received header: known kind, length within its kind's bound. */
int
proto_frame_parse(const uint8_t *hdr, int *kind_r, size_t *len_r)
{
	size_t	len = (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];

	*kind_r = hdr[0];
	*len_r = len;
	if (hdr[0] == PROTO_FRAME_CONTROL)
		return len > 0 && len <= PROTO_CONTROL_MAX ? PE_NONE :
		    (len == 0 ? PE_PROTOCOL : PE_TOO_LARGE);
	if (hdr[0] == PROTO_FRAME_DATA || hdr[0] == PROTO_FRAME_ZSTD)
		return len > 0 && len <= PROTO_DATA_MAX ? PE_NONE :
		    (len == 0 ? PE_PROTOCOL : PE_TOO_LARGE);
	return PE_PROTOCOL;
}

static int
proto_get_str(const struct sxp_node *msg, const char *name, char *out,
    size_t size)
{
	const char	*v = sxp_field(msg, name);
	size_t		 len;

	if (v == NULL || (len = strlen(v)) >= size)
		return -1;
	memcpy(out, v, len + 1);
	return 0;
}

static int
proto_get_num(const struct sxp_node *msg, const char *name, long long min,
    long long max, long long *out)
{
	const char	*v = sxp_field(msg, name), *errstr;

	if (v == NULL)
		return -1;
	*out = util_strtonum(v, min, max, &errstr);
	return errstr == NULL ? 0 : -1;
}

/*
 * The atoms of (name word word ...) into m->xl_args: at least one, at
 * most XL_ARGS_MAX of at most XL_ARG_MAX bytes (xl migrate sends ten
 * short ones at most).  What they may say is xlreq's business.
 */
static int
proto_get_words(const struct sxp_node *msg, const char *name,
    struct proto_msg *m)
{
	const struct sxp_node	*f, *w;

	for (f = msg->first->next; f != NULL; f = f->next)
		if (f->type == SXP_LIST && f->first != NULL &&
		    f->first->type == SXP_ATOM &&
		    strcmp(f->first->text, name) == 0)
			break;
	if (f == NULL || f->first->next == NULL)
		return -1;
	for (w = f->first->next; w != NULL; w = w->next) {
		if (w->type == SXP_LIST || strlen(w->text) != w->len ||
		    w->len > XL_ARG_MAX || m->xl_nargs == XL_ARGS_MAX)
			return -1;
		memcpy(m->xl_args[m->xl_nargs++], w->text, w->len + 1);
	}
	return 0;
}

static int
proto_decode_guest(const struct sxp_node *msg, struct proto_msg *m)
{
	char		 type[16], live[8];
	long long	 n;

	if (proto_get_str(msg, "name", m->guest.name, sizeof(m->guest.name)) ||
	    !guest_name_valid(m->guest.name) ||
	    proto_get_str(msg, "uuid", m->guest.uuid, sizeof(m->guest.uuid)) ||
	    !guest_uuid_valid(m->guest.uuid) ||
	    proto_get_str(msg, "type", type, sizeof(type)) ||
	    guest_type_parse(type, &m->guest.type) == -1)
		return -1;
	if (proto_get_num(msg, "memory", 1, INT64_MAX, &n) == -1)
		return -1;
	m->guest.memory_bytes = (uint64_t)n;
	if (proto_get_num(msg, "vcpus", 1, GUEST_VCPUS_MAX, &n) == -1)
		return -1;
	m->guest.vcpus = (uint32_t)n;
	if (proto_get_str(msg, "live", live, sizeof(live)) == 0)
		m->live = strcmp(live, "yes") == 0;
	return 0;
}

/* A release as relocd's own look: "0.2.0", "0.2.0~dev", "1.0-rc1". */
static int
proto_release_valid(const char *r)
{
	size_t	len = strspn(r, "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.+~-");

	return len > 0 && r[len] == '\0';
}

/*
 * What a hello (or a version refusal) says its sender speaks.  relocd
 * 0.1.0 sends "protocol" alone, and a field it does not send means what
 * 0.1.0 did: no protocol-max, protocol is the only version spoken; no
 * release, relocd 0.1.0 (version.c names it).  Fields that no version
 * here knows are skipped, as everywhere in decode: a later release may
 * add some, and a peer that needs us to understand one raises its
 * lowest protocol version instead.
 */
static int
proto_decode_speaks(const struct sxp_node *msg, struct proto_msg *m,
    int required)
{
	long long	n;

	if (proto_get_num(msg, "protocol", required ? 0 : 1, UINT32_MAX,
	    &n) == -1)
		return required || sxp_field_node(msg, "protocol") != NULL ?
		    -1 : 0;
	m->version = m->version_max = (uint32_t)n;
	if (sxp_field_node(msg, "protocol-max") != NULL) {
		if (proto_get_num(msg, "protocol-max", n, UINT32_MAX,
		    &n) == -1)
			return -1;
		m->version_max = (uint32_t)n;
	}
	if (sxp_field_node(msg, "release") != NULL &&
	    (proto_get_str(msg, "release", m->release,
	    sizeof(m->release)) == -1 || !proto_release_valid(m->release)))
		return -1;
	return 0;
}

/*
 * Optional (PROTO_VERSION_COMPRESS in reserve and reserved,
 * PROTO_VERSION_XL_COMPRESS in xl-receive and xl-started): (compress
 * zstd) offers or accepts zstd.  Another name is a compressor of a later release: not ours, so
 * neither offered nor accepted, and the stream goes as it is.
 */
static void
proto_decode_compress(const struct sxp_node *msg, struct proto_msg *m)
{
	const char	*v = sxp_field(msg, "compress");

	m->compress = v != NULL && strcmp(v, "zstd") == 0;
}

static int
proto_decode_fields(const struct sxp_node *msg, struct proto_msg *m)
{
	const char		*v;
	size_t			 len;
	long long		 n;

	switch (m->type) {
	case PT_HELLO:
		if (proto_decode_speaks(msg, m, 1) == -1)
			return -1;
		proto_get_str(msg, "host", m->host, sizeof(m->host));
		return 0;
	case PT_RESERVE:
		if (proto_decode_guest(msg, m) == -1)
			return -1;
		if ((v = sxp_field(msg, "config")) == NULL ||
		    (len = strlen(v)) > BACKEND_CONFIG_MAX)
			return -1;
		memcpy(m->config, v, len + 1);
		m->config_len = len;
		/* Optional: older peers and the sim backend send none. */
		proto_get_str(msg, "facts", m->facts, sizeof(m->facts));
		proto_decode_compress(msg, m);
		return 0;
	case PT_RESERVED:
		/* Optional (PROTO_VERSION_CAPACITY): what it can give. */
		if (sxp_field(msg, "available") != NULL) {
			if (proto_get_num(msg, "available", 0, INT64_MAX,
			    &n) == -1)
				return -1;
			m->available = (uint64_t)n;
			m->available_known = 1;
		}
		proto_decode_compress(msg, m);
		/* Optional (PROTO_VERSION_CHECKS): what the check found. */
		return checks_parse(msg, &m->checks);
	case PT_ABORT:
	case PT_ERROR:
		if (proto_get_num(msg, "code", 1, PE_MAX - 1, &n) == -1)
			return -1;
		m->code = (int)n;
		proto_get_str(msg, "text", m->text, sizeof(m->text));
		if (m->type == PT_ERROR && checks_parse(msg, &m->checks) == -1)
			return -1;
		/* A version refusal says what the refuser speaks, if new. */
		return m->code == PE_VERSION ? proto_decode_speaks(msg, m, 0) :
		    0;
	case PT_END:
		if (proto_get_num(msg, "bytes", 0, INT64_MAX, &n) == -1)
			return -1;
		m->bytes = (uint64_t)n;
		if (proto_get_num(msg, "round", 0, UINT32_MAX, &n) == 0)
			m->round = (uint32_t)n;
		if (proto_get_num(msg, "dirty", -1, INT64_MAX, &n) == 0)
			m->dirty = n;
		if (proto_get_num(msg, "downtime-ms", 0, INT64_MAX, &n) == 0)
			m->downtime_ms = (uint64_t)n;
		return 0;
	case PT_STATE:
		return proto_get_str(msg, "phase", m->phase, sizeof(m->phase));
	case PT_XL_RECEIVE:
		proto_decode_compress(msg, m);
		return proto_get_words(msg, "args", m);
	case PT_XL_STARTED:
		proto_decode_compress(msg, m);
		return 0;
	case PT_XL_EXIT:
		if (proto_get_num(msg, "status", 0, 255, &n) == -1)
			return -1;
		m->status = (int)n;
		return 0;
	case PT_ACTIVATED:
		/* Optional: older peers may not measure. */
		if (proto_get_num(msg, "downtime-ms", 0, INT64_MAX, &n) == 0)
			m->downtime_ms = (uint64_t)n;
		if (proto_get_num(msg, "digest-ms", 0, INT64_MAX, &n) == 0)
			m->digest_ms = (uint64_t)n;
		m->unpause_ms = m->restore_ms = -1;
		if (proto_get_num(msg, "unpause-ms", 0, INT64_MAX, &n) == 0)
			m->unpause_ms = n;
		if (proto_get_num(msg, "restore-ms", 0, INT64_MAX, &n) == 0)
			m->restore_ms = n;
		return 0;
	default:
		return 0;
	}
}

/*
 * Decodes one control frame's payload.  Returns PE_NONE, or the error
 * code to send back, with err saying what was wrong (for our log).
 */
int
proto_decode(const char *buf, size_t len, struct proto_msg *m, char *err,
    size_t errlen)
{
	struct sxp_node		*root = NULL;
	struct sxp_error	 serr;
	int			 rc;

	memset(m, 0, offsetof(struct proto_msg, config));
	m->config[0] = '\0';
	m->type = -1;
	if (sxp_parse_bounded(buf, len, PROTO_CONTROL_MAX, &root,
	    &serr) == -1) {
		snprintf(err, errlen, "unparsable message: %s", serr.msg);
		return PE_PROTOCOL;
	}
	rc = proto_decode_tree(root, m, err, errlen);
	sxp_free(root);
	return rc;
}

static int
proto_decode_tree(const struct sxp_node *root, struct proto_msg *m,
    char *err, size_t errlen)
{
	const struct sxp_node	*msg;
	int			 t;

	msg = root->first;
	if (msg == NULL || msg->next != NULL || msg->type != SXP_LIST ||
	    msg->first == NULL || msg->first->type != SXP_ATOM) {
		snprintf(err, errlen, "not one (type ...) message");
		return PE_PROTOCOL;
	}
	for (t = 0; t < PT_MAX; t++)
		if (proto_type_names[t] != NULL &&
		    strcmp(msg->first->text, proto_type_names[t]) == 0)
			break;
	if (t == PT_MAX) {
		snprintf(err, errlen, "unknown message type");
		return PE_UNKNOWN_TYPE;
	}
	m->type = t;
	/*
	 * An id that is present but unreadable (too long, a NUL, a list) is
	 * invalid, never absent: an absent id means the connection's own
	 * migration, so "(go (id <33 digits>))" must not pass as a go.
	 */
	if (sxp_field_node(msg, "id") != NULL &&
	    (proto_get_str(msg, "id", m->id, sizeof(m->id)) == -1 ||
	    !proto_id_valid(m->id))) {
		snprintf(err, errlen, "%s: invalid migration id", msg->first->text);
		return PE_PROTOCOL;
	}
	if (proto_decode_fields(msg, m) == -1) {
		snprintf(err, errlen, "%s: missing or invalid field",
		    msg->first->text);
		return PE_PROTOCOL;
	}
	return PE_NONE;
}

/* Appends " (name value)" to out, quoting the value as sxp needs. */
static int
proto_put(char *out, size_t size, size_t *off, const char *name,
    const char *value, size_t vlen)
{
	char	quoted[4 * PROTO_TEXT_MAX + 3], *q = quoted, *big = NULL;
	size_t	qsize = sizeof(quoted);
	int	r, rc = -1;

	if (4 * vlen + 3 > qsize) {
		qsize = 4 * vlen + 3;
		if ((big = malloc(qsize)) == NULL)
			return -1;
		q = big;
	}
	if (sxp_quote(value, vlen, q, qsize) == -1)
		goto out;
	r = snprintf(out + *off, size - *off, " (%s %s)", name, q);
	if (r < 0 || (size_t)r >= size - *off)
		goto out;
	*off += (size_t)r;
	rc = 0;
out:
	free(big);
	return rc;
}

static int
proto_put_num(char *out, size_t size, size_t *off, const char *name,
    long long v)
{
	char	num[32];

	snprintf(num, sizeof(num), "%lld", v);
	return proto_put(out, size, off, name, num, strlen(num));
}

/* Appends " (name w1 w2 ...)", each word quoted as sxp needs. */
static int
proto_put_words(char *out, size_t size, size_t *off, const char *name,
    const xlreq_word *words, size_t n)
{
	char	q[4 * XL_ARG_MAX + 3];
	size_t	i;
	int	r;

	r = snprintf(out + *off, size - *off, " (%s", name);
	if (r < 0 || (size_t)r >= size - *off)
		return -1;
	*off += (size_t)r;
	for (i = 0; i < n; i++) {
		if (sxp_quote(words[i], strlen(words[i]), q, sizeof(q)) == -1)
			return -1;
		r = snprintf(out + *off, size - *off, " %s", q);
		if (r < 0 || (size_t)r >= size - *off)
			return -1;
		*off += (size_t)r;
	}
	if (*off + 1 >= size)
		return -1;
	out[(*off)++] = ')';
	out[*off] = '\0';
	return 0;
}

/* " (protocol N) (protocol-max N) (release R)", as far as m has them. */
static int
proto_put_speaks(const struct proto_msg *m, char *out, size_t size,
    size_t *off)
{
	int	rc = 0;

	rc |= proto_put_num(out, size, off, "protocol", m->version);
	if (m->version_max != 0)
		rc |= proto_put_num(out, size, off, "protocol-max",
		    m->version_max);
	if (m->release[0] != '\0')
		rc |= proto_put(out, size, off, "release", m->release,
		    strlen(m->release));
	return rc;
}

static int
proto_encode_fields(const struct proto_msg *m, char *out, size_t size,
    size_t *off)
{
	int	rc = 0;

	switch (m->type) {
	case PT_HELLO:
		rc |= proto_put_speaks(m, out, size, off);
		rc |= proto_put(out, size, off, "host", m->host,
		    strlen(m->host));
		break;
	case PT_RESERVE:
		rc |= proto_put(out, size, off, "name", m->guest.name,
		    strlen(m->guest.name));
		rc |= proto_put(out, size, off, "uuid", m->guest.uuid,
		    strlen(m->guest.uuid));
		rc |= proto_put(out, size, off, "type",
		    guest_type_name(m->guest.type),
		    strlen(guest_type_name(m->guest.type)));
		rc |= proto_put_num(out, size, off, "memory",
		    (long long)m->guest.memory_bytes);
		rc |= proto_put_num(out, size, off, "vcpus", m->guest.vcpus);
		rc |= proto_put(out, size, off, "live", m->live ? "yes" : "no",
		    m->live ? 3 : 2);
		if (m->facts[0] != '\0')
			rc |= proto_put(out, size, off, "facts", m->facts,
			    strlen(m->facts));
		if (m->compress)
			rc |= proto_put(out, size, off, "compress", "zstd", 4);
		rc |= proto_put(out, size, off, "config", m->config,
		    m->config_len);
		break;
	case PT_ABORT:
	case PT_ERROR:
		rc |= proto_put_num(out, size, off, "code", m->code);
		rc |= proto_put(out, size, off, "text", m->text,
		    strlen(m->text));
		if (m->code == PE_VERSION && m->version != 0)
			rc |= proto_put_speaks(m, out, size, off);
		if (m->type == PT_ERROR)
			rc |= checks_format(&m->checks, out, size, off);
		break;
	case PT_RESERVED:
		/* The sender fills these only for a peer that reads them. */
		if (m->available_known)
			rc |= proto_put_num(out, size, off, "available",
			    (long long)m->available);
		if (m->compress)
			rc |= proto_put(out, size, off, "compress", "zstd", 4);
		rc |= checks_format(&m->checks, out, size, off);
		break;
	case PT_END:
		rc |= proto_put_num(out, size, off, "bytes", (long long)m->bytes);
		rc |= proto_put_num(out, size, off, "round", m->round);
		rc |= proto_put_num(out, size, off, "dirty", m->dirty);
		rc |= proto_put_num(out, size, off, "downtime-ms",
		    (long long)m->downtime_ms);
		break;
	case PT_STATE:
		rc |= proto_put(out, size, off, "phase", m->phase,
		    strlen(m->phase));
		break;
	case PT_XL_RECEIVE:
		if (m->compress)
			rc |= proto_put(out, size, off, "compress", "zstd", 4);
		rc |= proto_put_words(out, size, off, "args", m->xl_args,
		    m->xl_nargs);
		break;
	case PT_XL_STARTED:
		if (m->compress)
			rc |= proto_put(out, size, off, "compress", "zstd", 4);
		break;
	case PT_XL_EXIT:
		rc |= proto_put_num(out, size, off, "status", m->status);
		break;
	case PT_ACTIVATED:
		rc |= proto_put_num(out, size, off, "downtime-ms",
		    (long long)m->downtime_ms);
		rc |= proto_put_num(out, size, off, "digest-ms",
		    (long long)m->digest_ms);
		/* Optional fields: a peer that does not know them skips them. */
		if (m->unpause_ms >= 0)
			rc |= proto_put_num(out, size, off, "unpause-ms",
			    (long long)m->unpause_ms);
		if (m->restore_ms >= 0)
			rc |= proto_put_num(out, size, off, "restore-ms",
			    (long long)m->restore_ms);
		break;
	}
	return rc ? -1 : 0;
}

/* Encodes m as the payload of one control frame. */
int
proto_encode(const struct proto_msg *m, char *out, size_t size,
    size_t *len_r)
{
	size_t	off;
	int	r;

	if (m->type < 0 || m->type >= PT_MAX ||
	    proto_type_names[m->type] == NULL)
		return -1;
	r = snprintf(out, size, "(%s", proto_type_names[m->type]);
	if (r < 0 || (size_t)r >= size)
		return -1;
	off = (size_t)r;
	if (m->id[0] != '\0' &&
	    proto_put(out, size, &off, "id", m->id, strlen(m->id)) == -1)
		return -1;
	if (proto_encode_fields(m, out, size, &off) == -1 || off + 2 > size)
		return -1;
	out[off++] = ')';
	out[off] = '\0';
	if (off > PROTO_CONTROL_MAX)
		return -1;
	*len_r = off;
	return 0;
}
