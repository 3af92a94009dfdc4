// SPDX-License-Identifier: ISC
/*
 * relocd-xl: the transport that `xl migrate -s relocd-xl GUEST HOST` runs
 * instead of ssh.  xl executes
 *
 *   sh -c "exec relocd-xl HOST xl [-t] [-T] [-v...] migrate-receive [-e] [-d] [-p]"
 *
 * and uses our stdin and stdout as its migration stream.  We connect to
 * relocd on HOST with this host's certificate (mutual TLS, as a migration
 * between two relocds), ask it for an xl receive with those words
 * (xl-receive, see relocd/net_xl.c), and pump both directions until both
 * have ended: our stdin to the remote xl's stdin, its stdout to our
 * stdout, each end of file passed on as xl-eof.  We exit with the remote
 * xl's exit status; on any failure of our own (config, certificate,
 * connection, refusal) we say on stderr, in one sentence, what failed
 * and what to do, and exit 1.  stdout is the stream: nothing else is
 * ever written there.
 *
 * The remote relocd checks the words; we pass them on as xl wrote them,
 * so that it alone decides what is permitted (and logs the refusals).
 *
 * xl's stream to the remote xl may go compressed (--compress, or the
 * config's relocd-compress): zstd chunks as a migration's source sends
 * them (compress.h), offered in xl-receive to a relocd that speaks
 * PROTO_VERSION_XL_COMPRESS, and decompressed there in the network
 * child.  auto measures as relocd's own source does (compress_auto.h).
 * The remote xl's answers, a few lines, always go as they are.
 *
 * Runs as root (xl does), but only until the connection is open: then
 * it takes the network child's sandbox (chroot to relocd-chroot,
 * relocd-user, no_new_privs, seccomp; proc.c) before reading a byte from
 * the peer.  It never holds the private key: before the key is loaded it
 * forks a key process (keyproc.c), which loads it and signs this
 * handshake's CertificateVerify over a socket, and reads nothing the
 * peer sent.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "compress.h"
#include "compress_auto.h"
#include "conf.h"
#include "keyproc.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "proc.h"
#include "proto.h"
#include "tls.h"
#include "tls_key.h"
#include "util.h"
#include "version.h"
#include "xlreq.h"

/* The size we ask for xl's stdin pipe (F_SETPIPE_SZ). */
#define XLC_PIPE_SIZE	(1024 * 1024)

/* Everything this run knows; one per process. */
struct xlc {
	const char	*config;
	char		 host[256];
	int		 port;			/* 0: the config's */
	int		 compress;		/* enum conf_compress; -1:
						   the config's */
	xlreq_word	 words[XL_ARGS_MAX];
	size_t		 nwords;
	struct conf	*conf;
	struct tls_ctx	*tls;			/* NULL: plaintext */
	struct tls_conn	*conn;
	struct tls_peer	 peer;
	char		 local[256];		/* our host name, for hello */
	char		 id[MIG_ID_LEN + 1];
	uint64_t	 idle_ms;
	char		*frame;			/* from relocd: PROTO_DATA_MAX */
	uint8_t		*out;			/* to relocd: header + chunk */
	int		 stdin_eof;
	int		 stdin_fifo;		/* a pipe: we may splice it */
	int		 stdout_closed;		/* relocd sent xl-eof */
	int		 stdout_gone;		/* xl stopped reading: drop */
	uint32_t	 version;		/* protocol, chosen at hello */
	/* Compression, once relocd accepted it (xlc_start_compress). */
	int		 zstd;
	int		 compressing;		/* the next chunk */
	struct compress_enc *enc;
	uint8_t		*zout;			/* header + a zstd frame */
	struct compress_auto automatic;		/* auto's way */
	uint64_t	 chunk_end_us;
	uint64_t	 sent, wire;		/* xl's bytes; data frames' */
	int		 reported;		/* xlc_report_compress ran */
	struct proto_msg msg;
};

/*
 * On stderr and exit 1 for a usage error; -h and --help print it on
 * stdout (never when xl runs us: xl's first word is the host).
 */
static void __attribute__((noreturn))
usage_to(FILE *out, int status)
{
	fprintf(out, "usage: relocd-xl [-f config] [--compress on|off|auto] "
	    "host[:port]\n"
	    "                 xl [-t] [-T] [-v...] migrate-receive [-e] [-d] "
	    "[-p]\n"
	    "       relocd-xl -h | --help | -V | --version\n"
	    "xl runs it: xl migrate -s relocd-xl GUEST HOST; see "
	    "relocd-xl(8)\n");
	exit(status);
}

static void __attribute__((noreturn))
usage(void)
{
	usage_to(stderr, 1);
}

/*
 * One sentence on stderr, then exit 1; stdout is xl's stream.  _exit, as
 * a network child does: inside the sandbox, exit handlers (OpenSSL's,
 * a sanitizer's leak check) may want system calls it forbids.
 */
static void __attribute__((noreturn, format(printf, 1, 2)))
xlc_fail(const char *fmt, ...)
{
	char	msg[LOG_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	_exit(1);
}

/* host, host:port, [v6]:port; a bare IPv6 literal has no port. */
static void
xlc_parse_host(struct xlc *c, const char *arg)
{
	const char	*colon = strrchr(arg, ':'), *end, *errstr;
	size_t		 len = strlen(arg);

	if (arg[0] == '[' && (end = strchr(arg, ']')) != NULL) {
		len = (size_t)(end - arg - 1);
		arg++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			usage();
	} else if (colon != NULL && strchr(arg, ':') == colon)
		len = (size_t)(colon - arg);
	else
		colon = NULL;
	if (len == 0 || len >= sizeof(c->host) || len > HOST_NAME_LEN_MAX)
		usage();
	memcpy(c->host, arg, len);
	c->host[len] = '\0';
	if (strspn(c->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	    "WXYZ0123456789.-:_") != len)
		xlc_fail("'%s' is not a host name or address", c->host);
	if (colon != NULL) {
		c->port = (int)util_strtonum(colon + 1, 1, 65535, &errstr);
		if (errstr != NULL)
			xlc_fail("port '%s' is %s (1 to 65535)", colon + 1,
			    errstr);
	}
}

static const struct option xlc_options[] = {
	{ "compress", required_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void
xlc_parse_args(struct xlc *c, int argc, char **argv)
{
	int	ch;

	c->config = conf_default_path();
	c->compress = -1;
	while ((ch = getopt_long(argc, argv, "+f:hV", xlc_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			c->config = optarg;
			break;
		case 'C':
			if ((c->compress = conf_compress_parse(optarg)) == -1)
				xlc_fail("--compress %s: not on, off or auto",
				    optarg);
			break;
		case 'h':
			usage_to(stdout, 0);
		case 'V':
			version_print("relocd-xl");
			exit(0);
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	xlc_parse_host(c, argv[0]);
	for (argc--, argv++; argc > 0; argc--, argv++) {
		if (c->nwords == XL_ARGS_MAX || strlcpy(c->words[c->nwords++],
		    argv[0], sizeof(c->words[0])) > XL_ARG_MAX)
			xlc_fail("too many or too long arguments for an xl "
			    "request (at most %d of %d characters)",
			    XL_ARGS_MAX, XL_ARG_MAX);
	}
}

/*
 * Forks the key process, which alone loads the key, and keeps a channel
 * to it for our handshake; returns the key's public key in pub.  The key
 * process ends when we do (its channel closes).
 */
static void
xlc_keyproc(const struct xlc *c, uint8_t *pub, size_t size, size_t *len_r)
{
	char	err[512];
	pid_t	pid;
	int	sv[2], ch, fd;

	if (msg_socketpair(sv) == -1 || (pid = fork()) == -1)
		xlc_fail("cannot start the key process: %s", strerror(errno));
	if (pid == 0) {
		/* xl's stream is none of its business. */
		close(sv[0]);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		keyproc_main(sv[1]);
	}
	close(sv[1]);
	if (keyproc_start_key(sv[0], c->conf->ssl_key_file, pub, size, len_r,
	    err, sizeof(err)) == -1)
		xlc_fail("%s; give this host its key (relocd-pki, see "
		    "relocd-xl(8))", err);
	if ((ch = keyproc_channel(sv[0], TLS_KEY_ROLE_CLIENT)) == -1)
		xlc_fail("no channel to the key process: %s", strerror(errno));
	close(sv[0]);
	tls_key_set_channel(ch);
}

/* Config, certificates, and what the sandbox needs, while we can. */
static void
xlc_setup(struct xlc *c)
{
	struct tls_files	files;
	uint8_t			pub[TLS_KEY_PUB_MAX];
	size_t			publen;
	char			err[512];

	if (conf_load(c->config, &c->conf) == -1)
		xlc_fail("cannot use %s (see above); fix it, or name the "
		    "config with -f", c->config);
	if (c->port == 0)
		c->port = c->conf->relocation_port;
	if (c->compress == -1)
		c->compress = c->conf->compress;
	c->idle_ms = (uint64_t)c->conf->idle_timeout_s * 1000;
	if (gethostname(c->local, sizeof(c->local)) == -1)
		STRLCPY_ARRAY(c->local, "localhost");
	if (proto_id_new(c->id, sizeof(c->id)) == -1)
		xlc_fail("cannot make a migration id: %s", strerror(errno));
	if ((c->frame = malloc(PROTO_DATA_MAX)) == NULL ||
	    (c->out = malloc(PROTO_FRAME_HDR + XL_CHUNK_MAX)) == NULL)
		xlc_fail("out of memory");
	if (c->conf->insecure_plaintext) {
		log_warnx("warning: relocd-insecure-plaintext is on: the "
		    "stream to %s is neither encrypted nor authenticated",
		    c->host);
		return;
	}
	xlc_keyproc(c, pub, sizeof(pub), &publen);
	memset(&files, 0, sizeof(files));
	files.key_pub = pub;
	files.key_publen = publen;
	files.key_name = c->conf->ssl_key_file;
	files.cert_file = c->conf->ssl_cert_file;
	files.ca_file = c->conf->ca_file;
	if (tls_ctx_load(&files, &c->tls, err, sizeof(err)) == -1)
		xlc_fail("%s; give this host its certificate (relocd-pki, see "
		    "relocd-xl(8))", err);
}

/* Connects, then gives up root before the peer says anything. */
static void
xlc_connect(struct xlc *c)
{
	struct proc_identity	id;
	const char		*names[TLS_PEER_NAMES_MAX];
	char			 err[512];
	size_t			 i;
	int			 fd;

	if ((fd = net_connect(c->host, c->port,
	    c->conf->source_address, err, sizeof(err))) == -1)
		xlc_fail("%s; check that relocd runs on %s and listens on "
		    "port %d (xend-relocation-server)", err, c->host, c->port);
	if (proc_identity_setup(c->conf, &id, err, sizeof(err)) == -1 ||
	    proc_sandbox_net(&id, err, sizeof(err)) == -1)
		xlc_fail("cannot drop privileges: %s", err);
	if (c->tls == NULL) {
		if (tls_plain(fd, &c->conn) == -1)
			xlc_fail("out of memory");
		return;
	}
	if (tls_connect(c->tls, fd, c->host, util_now_ms() +
	    (uint64_t)c->conf->handshake_timeout_s * 1000, &c->conn, &c->peer,
	    err, sizeof(err)) == -1)
		xlc_fail("TLS with relocd on %s port %d failed: %s; both hosts "
		    "need certificates from the same CA, and %s's must name it "
		    "as it is named here", c->host, c->port, err, c->host);
	for (i = 0; i < c->peer.nnames; i++)
		names[i] = c->peer.names[i];
	if (!acl_names_match(c->conf->peers_names, names, c->peer.nnames))
		xlc_fail("the certificate of %s (%s) is not in "
		    "relocd-peers-allow; add it there or migrate to a pool "
		    "member", c->host, c->peer.nnames ? c->peer.names[0] : "-");
}

static void
xlc_send(struct xlc *c, int type)
{
	char	err[256];

	c->msg.type = type;
	if (type == PT_HELLO)
		c->msg.id[0] = '\0';
	else
		STRLCPY_ARRAY(c->msg.id, c->id);
	if (net_send_msg(c->conn, &c->msg, util_now_ms() + c->idle_ms) == -1) {
		snprintf(err, sizeof(err), "the connection broke");
		xlc_fail("lost the connection to relocd on %s port %d: %s; see "
		    "relocd's log on %s", c->host, c->port, err, c->host);
	}
}

/* What to do about a refusal, by its code. */
static const char *
xlc_hint(int code)
{
	switch (code) {
	case PE_UNAUTHORIZED:
		return "that host must allow this one in "
		    "xend-relocation-hosts-allow and, if set, relocd-peers-allow";
	case PE_NOT_PERMITTED:
		return "only 'xl [-t] [-T] [-v...] migrate-receive [-e] [-d] "
		    "[-p]' may be requested";
	case PE_BUSY:
		return "try again later";
	default:
		return "see relocd's log there";
	}
}

static void __attribute__((noreturn))
xlc_refused(struct xlc *c, int code, const char *text)
{
	xlc_fail("relocd on %s port %d refused: %s; %s", c->host, c->port,
	    text[0] ? text : proto_error_text(code), xlc_hint(code));
}

/*
 * No protocol version in common with relocd there (net_client.c's
 * client_refuse_version says the same from relocd's own source side).
 */
static void __attribute__((noreturn))
xlc_refuse_version(struct xlc *c)
{
	char	peer[300], text[600];

	if (c->msg.version == 0) {
		c->msg.version = c->msg.version_max = 1;
		c->msg.release[0] = '\0';
	}
	snprintf(peer, sizeof(peer), "relocd on %s", c->host);
	version_mismatch(text, sizeof(text), peer, &c->msg, "this relocd-xl");
	xlc_fail("%s", text);
}

/*
 * The next control message from relocd.  An error or abort ends us; a
 * read that fails right after our hello is, with TLS 1.3, how a server
 * that rejects our certificate says so.
 */
static void
xlc_expect(struct xlc *c, int type, const char *during)
{
	char	err[512];
	size_t	len;
	int	kind, code;

	code = net_read_frame(c->conn, util_now_ms() + c->idle_ms, &kind,
	    c->frame, PROTO_DATA_MAX, &len, err, sizeof(err));
	if (code == PE_NONE && kind != PROTO_FRAME_CONTROL)
		code = PE_UNEXPECTED;
	if (code == PE_NONE)
		code = proto_decode(c->frame, len, &c->msg, err, sizeof(err));
	if (code != PE_NONE)
		xlc_fail("relocd on %s port %d closed the connection %s: %s; "
		    "check this host's certificate and see relocd's log on %s",
		    c->host, c->port, during, err, c->host);
	if (c->msg.type == PT_ERROR && c->msg.code == PE_VERSION)
		xlc_refuse_version(c);
	if (c->msg.type == PT_ERROR || c->msg.type == PT_ABORT)
		xlc_refused(c, c->msg.code, c->msg.text);
	if (c->msg.type != type)
		xlc_fail("relocd on %s port %d answered %s with %s; is it a "
		    "relocd of this version?", c->host, c->port, during,
		    proto_type_name(c->msg.type));
}

/*
 * Whether to offer zstd in xl-receive: if asked for and relocd there
 * speaks PROTO_VERSION_XL_COMPRESS.  An older one never sees the offer.
 */
static int
xlc_offer_compress(const struct xlc *c)
{
	if (c->compress == CONF_COMPRESS_OFF)
		return 0;
	if (c->version >= PROTO_VERSION_XL_COMPRESS)
		return 1;
	log_info("relocd on %s speaks protocol %u, before compressed xl "
	    "streams (%u): xl's stream goes uncompressed", c->host,
	    c->version, PROTO_VERSION_XL_COMPRESS);
	return 0;
}

static void
xlc_start_compress(struct xlc *c)
{
	if ((c->enc = compress_enc_new()) == NULL ||
	    (c->zout = malloc(PROTO_DATA_MAX)) == NULL)
		xlc_fail("cannot set up zstd compression: out of memory");
	c->zstd = 1;
	/* auto starts uncompressed, and measures (compress_auto.h). */
	c->compressing = c->compress != CONF_COMPRESS_AUTO;
	compress_auto_init(&c->automatic);
	c->chunk_end_us = util_now_us();
}

/* hello both ways, then the request. */
static void
xlc_request(struct xlc *c)
{
	size_t	i;
	int	offered;

	memset(&c->msg, 0, offsetof(struct proto_msg, config));
	version_hello(&c->msg);
	STRLCPY_ARRAY(c->msg.host, c->local);
	xlc_send(c, PT_HELLO);
	xlc_expect(c, PT_HELLO, "after our hello");
	/* relocd's "protocol" is the version it chose. */
	if (!version_accept(&c->msg))
		xlc_refuse_version(c);
	c->version = c->msg.version;
	memset(&c->msg, 0, offsetof(struct proto_msg, config));
	for (i = 0; i < c->nwords; i++)
		memcpy(c->msg.xl_args[i], c->words[i], sizeof(c->words[i]));
	c->msg.xl_nargs = (uint32_t)c->nwords;
	c->msg.compress = offered = xlc_offer_compress(c);
	xlc_send(c, PT_XL_RECEIVE);
	xlc_expect(c, PT_XL_STARTED, "after our xl-receive request");
	if (c->msg.compress && !offered)
		xlc_fail("relocd on %s accepted a compression it was not "
		    "offered; is it a relocd of this version?", c->host);
	if (c->msg.compress)
		xlc_start_compress(c);
	else if (offered)
		log_info("relocd on %s declined compression: xl's stream "
		    "goes uncompressed", c->host);
}

/*
 * xl's stdout may be a pipe it reads slowly (non-blocking, xlc_pipes):
 * never block on it blindly, but give up only after xl took nothing for
 * relocd-idle-timeout.
 */
static void
xlc_write_stdout(struct xlc *c, const char *buf, size_t len)
{
	if (c->stdout_gone ||
	    util_write_all_idle(STDOUT_FILENO, buf, len, (int)c->idle_ms) == 0)
		return;
	if (errno == ETIMEDOUT)
		xlc_fail("xl stopped reading from us for %llu s "
		    "(relocd-idle-timeout); giving up",
		    (unsigned long long)c->idle_ms / 1000);
	/* xl closed our stdout: it has what it wanted, or failed. */
	c->stdout_gone = 1;
}

/*
 * What compression did, in one line on stderr beside xl's own output.
 * Said once, as soon as the remote xl first answers the stream (its
 * "ready": the domain's bytes are all sent), because xl exits right
 * after its last message and does not wait for us: a line at our exit
 * would land after the shell's prompt.
 */
static void
xlc_report_compress(struct xlc *c)
{
	if (!c->zstd || c->reported)
		return;
	c->reported = 1;
	log_info("xl's stream to %s: %.1f MiB went as %.1f MiB on the wire "
	    "(zstd%s, %.1fx)", c->host, (double)c->sent / (1 << 20),
	    (double)c->wire / (1 << 20), c->compress == CONF_COMPRESS_AUTO ?
	    " auto" : "", c->wire ? (double)c->sent / (double)c->wire : 1.0);
}

/*
 * One frame from relocd.  Returns the remote xl's exit status once it
 * arrived, or -1 to go on.
 */
static int
xlc_from_remote(struct xlc *c)
{
	char	err[512];
	size_t	len;
	int	kind, code;

	code = net_read_frame(c->conn, util_now_ms() + c->idle_ms, &kind,
	    c->frame, PROTO_DATA_MAX, &len, err, sizeof(err));
	if (code != PE_NONE)
		xlc_fail("lost the connection to relocd on %s port %d before "
		    "xl finished: %s; see relocd's log on %s", c->host, c->port,
		    err, c->host);
	if (kind == PROTO_FRAME_DATA) {
		if (c->stdout_closed)
			xlc_fail("relocd on %s sent data after xl-eof", c->host);
		/* Its banner came before the stream; this answers it. */
		if (c->sent > 0)
			xlc_report_compress(c);
		xlc_write_stdout(c, c->frame, len);
		return -1;
	}
	if ((code = proto_decode(c->frame, len, &c->msg, err,
	    sizeof(err))) != PE_NONE)
		xlc_fail("relocd on %s sent a malformed message: %s", c->host,
		    err);
	switch (c->msg.type) {
	case PT_XL_EOF:
		if (!c->stdout_closed)
			close(STDOUT_FILENO);
		c->stdout_closed = 1;
		return -1;
	case PT_XL_EXIT:
		return c->msg.status;
	case PT_ERROR:
	case PT_ABORT:
		xlc_refused(c, c->msg.code, c->msg.text);
	default:
		xlc_fail("relocd on %s sent %s during the stream", c->host,
		    proto_type_name(c->msg.type));
	}
}

/*
 * A chunk of xl's stream went out as wire bytes.  auto: the chunk,
 * timed from the end of the one before (xl's pace, compressing and the
 * socket's wait all count), tells compress_auto.c how the stream goes
 * each way.
 */
static void
xlc_sent(struct xlc *c, size_t bytes, size_t wire)
{
	char		why[200];
	uint64_t	now;

	c->sent += bytes;
	c->wire += wire;
	if (c->compress != CONF_COMPRESS_AUTO || !c->zstd)
		return;
	now = util_now_us();
	if (compress_auto_account(&c->automatic, bytes, wire,
	    now - c->chunk_end_us, why, sizeof(why)))
		log_debug("%s", why);
	c->compressing = c->automatic.compressing;
	c->chunk_end_us = now;
}

/*
 * Plaintext, stdin a pipe: what it holds now goes to relocd as one data
 * frame by splice(2), never through our memory (issue 21; see
 * tls_plain_send_from_pipe).  Returns 0 when it sent nothing (an empty
 * pipe, at its end or not: xlc_from_stdin's read tells which).
 */
static int
xlc_splice_stdin(struct xlc *c)
{
	uint8_t	hdr[PROTO_FRAME_HDR];
	char	err[256];
	int	avail;
	size_t	len;

	/* Compressed bytes must pass through our memory. */
	if (!c->stdin_fifo || !tls_is_plain(c->conn) || c->compressing ||
	    ioctl(STDIN_FILENO, FIONREAD, &avail) == -1 || avail <= 0)
		return 0;
	len = (size_t)avail < XL_CHUNK_MAX ? (size_t)avail : XL_CHUNK_MAX;
	proto_frame_header(hdr, PROTO_FRAME_DATA, len);
	if (tls_plain_send_from_pipe(c->conn, hdr, sizeof(hdr), STDIN_FILENO,
	    len, util_now_ms() + c->idle_ms, err, sizeof(err)) == -1)
		xlc_fail("lost the connection to relocd on %s port %d: %s; see "
		    "relocd's log on %s", c->host, c->port, err, c->host);
	xlc_sent(c, len, len);
	return 1;
}

/*
 * One read of our stdin, sent as one data frame (a zstd frame when
 * compressing shrinks it); its end as xl-eof.
 */
static void
xlc_from_stdin(struct xlc *c)
{
	uint8_t	*out = c->out;
	char	 err[256];
	ssize_t	 r;
	size_t	 len, z;
	int	 kind = PROTO_FRAME_DATA;

	if (xlc_splice_stdin(c))
		return;
	r = read(STDIN_FILENO, c->out + PROTO_FRAME_HDR, XL_CHUNK_MAX);
	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		c->stdin_eof = 1;
		memset(&c->msg, 0, offsetof(struct proto_msg, config));
		xlc_send(c, PT_XL_EOF);
		return;
	}
	len = (size_t)r;
	if (c->compressing && (z = compress_chunk(c->enc,
	    c->zout + PROTO_FRAME_HDR, PROTO_DATA_MAX - PROTO_FRAME_HDR,
	    c->out + PROTO_FRAME_HDR, len)) > 0) {
		out = c->zout;
		len = z;
		kind = PROTO_FRAME_ZSTD;
	}
	proto_frame_header(out, kind, len);
	if (tls_write_full(c->conn, out, PROTO_FRAME_HDR + len,
	    util_now_ms() + c->idle_ms, err, sizeof(err)) == -1)
		xlc_fail("lost the connection to relocd on %s port %d: %s; see "
		    "relocd's log on %s", c->host, c->port, err, c->host);
	xlc_sent(c, (size_t)r, len);
}


/* Until relocd reports the remote xl's exit; returns its status. */
static int
xlc_pump(struct xlc *c)
{
	struct pollfd	pfd[2];
	int		r, status;

	for (;;) {
		pfd[0].fd = c->stdin_eof ? -1 : STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = tls_fd(c->conn);
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		r = poll(pfd, 2, tls_pending(c->conn) > 0 ? 0 :
		    (int)c->idle_ms);
		if (r == -1 && errno != EINTR)
			xlc_fail("poll: %s", strerror(errno));
		if (r == 0 && tls_pending(c->conn) == 0)
			xlc_fail("no data either way with %s for %llu s "
			    "(relocd-idle-timeout); giving up", c->host,
			    (unsigned long long)c->idle_ms / 1000);
		if ((pfd[1].revents != 0 || tls_pending(c->conn) > 0) &&
		    (status = xlc_from_remote(c)) >= 0)
			return status;
		if (pfd[0].revents != 0)
			xlc_from_stdin(c);
	}
}

/*
 * xl's pipes: a write to stdout must not block us (xl reads when it can),
 * and a pipe larger than Linux's 64 KiB lets one read take a whole
 * XL_CHUNK_MAX of xl's stream, so fewer wake-ups per byte (best effort).
 */
static void
xlc_pipes(struct xlc *c)
{
	struct stat	st;

	if (fstat(STDIN_FILENO, &st) == 0 && S_ISFIFO(st.st_mode)) {
		(void)fcntl(STDIN_FILENO, F_SETPIPE_SZ, XLC_PIPE_SIZE);
		c->stdin_fifo = 1;
	}
	if (fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		proc_set_nonblock(STDOUT_FILENO);
}

int
main(int argc, char *argv[])
{
	static struct xlc	c;
	int			status;

	log_init(LOG_TO_STDERR, 0);
	log_procinit("relocd-xl");
	xlc_parse_args(&c, argc, argv);
	/* A closed stdout is xl's business, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	xlc_pipes(&c);
	xlc_setup(&c);
	xlc_connect(&c);
	xlc_request(&c);
	status = xlc_pump(&c);
	xlc_report_compress(&c);
	tls_close(c.conn, util_now_ms() + 2000);
	_exit(status);
}
