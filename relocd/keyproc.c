// SPDX-License-Identifier: ISC
/*
 * The key process: the only process that holds the host's private key.
 * It reads no byte a peer sent.  The parent starts it (exec'd, so it
 * shares no memory with anyone) and tells it once which key file to
 * load; relocd-xl forks one before it loads anything.  Each process that
 * does a TLS handshake gets a channel of its own, for one role, and asks
 * on it for the handshake's one signature.
 *
 * A channel's requests come from a process that parses a stranger's
 * bytes, so they are trusted for nothing: the key process signs only
 * what a TLS handshake in that channel's role signs (keyproc_tbs_ok), so
 * that a compromised network child gets a handshake signature - which it
 * could get anyway, by doing the handshake - and never a signature over
 * bytes of its choosing.  OpenSSH's monitor and OpenBSD relayd's "ca"
 * process are the model; relayd's signs whatever it is sent.
 *
 * Reloading the key (SIGHUP) means a new key process: this one serves the
 * channels it has until they close, and exits once the parent has closed
 * its end too.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyproc.h"
#include "log.h"
#include "msg.h"
#include "proc.h"
#include "tls_key.h"
#include "util.h"

/* TLS 1.3 (RFC 8446 section 4.4.3): what a CertificateVerify signs. */
#define KEYPROC_TLS13_PAD	64
static const char keyproc_ctx_server[] = "TLS 1.3, server CertificateVerify";
static const char keyproc_ctx_client[] = "TLS 1.3, client CertificateVerify";

struct keyproc_chan {
	int	fd;
	int	role;
};

static bool
keyproc_tls13_ok(const char *context, const uint8_t *tbs, size_t len)
{
	size_t	clen = strlen(context), i, hash;

	if (len < KEYPROC_TLS13_PAD + clen + 1)
		return false;
	for (i = 0; i < KEYPROC_TLS13_PAD; i++)
		if (tbs[i] != 0x20)
			return false;
	if (memcmp(tbs + KEYPROC_TLS13_PAD, context, clen) != 0 ||
	    tbs[KEYPROC_TLS13_PAD + clen] != 0)
		return false;
	/* The transcript hash: SHA-256 or SHA-384, as the suite says. */
	hash = len - (KEYPROC_TLS13_PAD + clen + 1);
	return hash == 32 || hash == 48;
}

/*
 * TLS 1.2 ECDHE (RFC 8422 section 5.4): client_random, server_random and
 * the ServerECDHParams - named_curve (3), the curve, and one point.
 */
static bool
keyproc_tls12_server_ok(const uint8_t *tbs, size_t len)
{
	return len > 64 + 4 && tbs[64] == 3 && tbs[67] > 0 &&
	    len == 64 + 4 + (size_t)tbs[67];
}

/*
 * TLS 1.2 CertificateVerify (RFC 5246 section 7.4.8): every handshake
 * message so far, whole, from the ClientHello on - so the bytes must
 * parse as a series of handshake messages that starts with one.
 */
static bool
keyproc_tls12_client_ok(const uint8_t *tbs, size_t len)
{
	size_t	off = 0, body, n = 0;

	if (len < 4 || tbs[0] != 1)
		return false;
	while (off < len) {
		if (len - off < 4)
			return false;
		body = (size_t)tbs[off + 1] << 16 | (size_t)tbs[off + 2] << 8 |
		    tbs[off + 3];
		if (body > len - off - 4)
			return false;
		off += 4 + body;
		n++;
	}
	/* ClientHello, ServerHello, Certificate, ..., ServerHelloDone. */
	return n >= 4;
}

bool
keyproc_tbs_ok(int role, const uint8_t *tbs, size_t len)
{
	switch (role) {
	case TLS_KEY_ROLE_SERVER:
		return keyproc_tls13_ok(keyproc_ctx_server, tbs, len) ||
		    keyproc_tls12_server_ok(tbs, len);
	case TLS_KEY_ROLE_CLIENT:
		return keyproc_tls13_ok(keyproc_ctx_client, tbs, len) ||
		    keyproc_tls12_client_ok(tbs, len);
	default:
		return false;
	}
}

/* One request; any failure answers "refused" (a signature of 0 bytes). */
static int
keyproc_serve_one(const struct tls_key *key, struct keyproc_chan *ch,
    struct tls_key_req *req, struct tls_key_rep *rep)
{
	ssize_t	r;
	size_t	siglen = 0;

	do {
		r = recv(ch->fd, req, sizeof(*req), MSG_TRUNC);
	} while (r == -1 && errno == EINTR);
	if (r <= 0)
		return -1;
	rep->len = 0;
	if ((size_t)r < offsetof(struct tls_key_req, tbs) ||
	    (size_t)r > sizeof(*req) || req->len > sizeof(req->tbs) ||
	    (size_t)r != offsetof(struct tls_key_req, tbs) + req->len)
		log_peer_warnx("key channel: malformed request of %zd bytes; "
		    "refused", r);
	else if (!keyproc_tbs_ok(ch->role, req->tbs, req->len))
		log_peer_warnx("key channel: %u bytes that no TLS handshake in "
		    "the %s role signs; refused", req->len,
		    ch->role == TLS_KEY_ROLE_SERVER ? "server" : "client");
	else if (tls_key_sign(key, (int)req->md, req->tbs, req->len,
	    rep->sig, sizeof(rep->sig), &siglen) == -1)
		log_warnx("key channel: signing failed");
	else
		rep->len = (uint32_t)siglen;
	if (send(ch->fd, rep, offsetof(struct tls_key_rep, sig) + rep->len,
	    MSG_NOSIGNAL) == -1)
		return -1;
	return 0;
}

/* Loads the key named in the first message; answers with its public key. */
static struct tls_key *
keyproc_load(int ctl)
{
	struct msg_key_load	 req;
	struct msg_key_loaded	 rep;
	struct tls_key		*key = NULL;
	uint8_t			 probe[KEYPROC_TLS13_PAD + 64];
	uint8_t			 sig[TLS_KEY_SIG_MAX];
	uint32_t		 type;
	size_t			 len = 0, siglen;

	if (msg_recv(ctl, &type, &req, sizeof(req), &len, NULL) != 0 ||
	    type != MSG_KEY_LOAD)
		fatalx("key process: no key-load message");
	MSG_TERMINATE(req.key_file);
	memset(&rep, 0, sizeof(rep));
	/*
	 * One signature before the sandbox: OpenSSL loads what it needs
	 * (its config, its algorithms) on first use, and could not later.
	 */
	memset(probe, 0x20, sizeof(probe));
	if ((key = tls_key_load(req.key_file, rep.err,
	    sizeof(rep.err))) != NULL &&
	    (tls_key_public(key, rep.pub, sizeof(rep.pub), &len) == -1 ||
	    tls_key_sign(key, TLS_KEY_MD_SHA256, probe, sizeof(probe), sig,
	    sizeof(sig), &siglen) == -1)) {
		snprintf(rep.err, sizeof(rep.err), "%.400s: not a key relocd can "
		    "sign with; make one with relocd-pki", req.key_file);
		tls_key_free(key);
		key = NULL;
	}
	rep.publen = key != NULL ? (uint32_t)len : 0;
	if (msg_send(ctl, MSG_KEY_LOADED, &rep, sizeof(rep), -1) == -1 ||
	    key == NULL)
		_exit(1);
	return key;
}

/* A new channel from the parent, or its end of the control socket. */
static int
keyproc_control(int *ctl, struct keyproc_chan *chans, size_t *nchans)
{
	struct msg_key_channel	 mc;
	uint32_t		 type;
	size_t			 len;
	int			 fd = -1, r;

	if ((r = msg_recv(*ctl, &type, &mc, sizeof(mc), &len, &fd)) != 0 ||
	    type != MSG_KEY_CHANNEL || fd == -1 ||
	    (mc.role != TLS_KEY_ROLE_SERVER &&
	    mc.role != TLS_KEY_ROLE_CLIENT)) {
		if (fd != -1)
			close(fd);
		if (r == 0)
			fatalx("key process: unexpected message");
		close(*ctl);
		*ctl = -1;
		return 0;
	}
	if (*nchans >= KEYPROC_CHANNELS_MAX) {
		log_warnx("key process: %d channels open; refusing another",
		    KEYPROC_CHANNELS_MAX);
		close(fd);
		return 0;
	}
	chans[*nchans].fd = fd;
	chans[(*nchans)++].role = (int)mc.role;
	return 0;
}

void
keyproc_main(int ctl)
{
	static struct keyproc_chan	 chans[KEYPROC_CHANNELS_MAX];
	static struct pollfd		 pfd[KEYPROC_CHANNELS_MAX + 1];
	struct tls_key_req		*req;
	struct tls_key_rep		 rep;
	struct tls_key			*key;
	struct proc_identity		 none;
	size_t				 n = 0, i;
	char				 err[256];

	log_procinit("key");
	proc_no_dumps();
	key = keyproc_load(ctl);
	/* No chroot or user (it answers to root alone), but no new files. */
	memset(&none, 0, sizeof(none));
	if (proc_sandbox_net(&none, err, sizeof(err)) == -1)
		fatalx("key process: %s", err);
	if ((req = malloc(sizeof(*req))) == NULL)
		fatal("key process");
	while (ctl != -1 || n > 0) {
		pfd[0].fd = ctl;
		pfd[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[i + 1].fd = chans[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, n + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("key process: poll");
		}
		for (i = n; i > 0; i--) {
			if (pfd[i].revents == 0)
				continue;
			if (keyproc_serve_one(key, &chans[i - 1], req,
			    &rep) == 0)
				continue;
			close(chans[i - 1].fd);
			chans[i - 1] = chans[--n];
		}
		if (ctl != -1 && pfd[0].revents != 0)
			keyproc_control(&ctl, chans, &n);
	}
	tls_key_free(key);
	free(req);
	/* _exit: a process forked to be this one runs none of its exits. */
	_exit(0);
}

/*
 * The starter's side: asks the key process to load path, and returns its
 * public key (DER) in pub, or -1 with err saying why.
 */
int
keyproc_start_key(int ctl, const char *path, uint8_t *pub, size_t size,
    size_t *len_r, char *err, size_t errlen)
{
	struct msg_key_load	 req;
	struct msg_key_loaded	 rep;
	struct pollfd		 pfd = { ctl, POLLIN, 0 };
	uint32_t		 type;
	size_t			 len;
	int			 r;

	memset(&req, 0, sizeof(req));
	if (strlcpy(req.key_file, path, sizeof(req.key_file)) >=
	    sizeof(req.key_file)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (msg_send(ctl, MSG_KEY_LOAD, &req, sizeof(req), -1) == -1)
		goto gone;
	do {
		r = poll(&pfd, 1, TLS_KEY_LOAD_MS);
	} while (r == -1 && errno == EINTR);
	if (r != 1 || msg_recv(ctl, &type, &rep, sizeof(rep), &len,
	    NULL) != 0 || type != MSG_KEY_LOADED)
		goto gone;
	MSG_TERMINATE(rep.err);
	if (rep.err[0] != '\0') {
		snprintf(err, errlen, "%s", rep.err);
		return -1;
	}
	if (rep.publen == 0 || rep.publen > sizeof(rep.pub) ||
	    rep.publen > size)
		goto gone;
	memcpy(pub, rep.pub, rep.publen);
	*len_r = rep.publen;
	return 0;
gone:
	snprintf(err, errlen, "%s: the key process did not answer; see the "
	    "lines before this one", path);
	return -1;
}

/* A new channel in role; returns the end for the handshaking process. */
int
keyproc_channel(int ctl, int role)
{
	struct msg_key_channel	mc = { (uint32_t)role };
	int			sv[2];

	if (msg_socketpair(sv) == -1)
		return -1;
	if (msg_send(ctl, MSG_KEY_CHANNEL, &mc, sizeof(mc), sv[0]) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[0]);
	return sv[1];
}
