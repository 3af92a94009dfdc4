/* SPDX-License-Identifier: ISC */
#ifndef RELOCD_PROTO_H
#define RELOCD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "bounds.h"
#include "checks.h"
#include "xlreq.h"

/*
 * The protocol versions this relocd speaks, every one from MIN to MAX
 * (version.c negotiates; its comment says what each version added).
 * A hello names the sender's range: "protocol" its lowest version and
 * "protocol-max" its highest.  relocd 0.1.0 sends "protocol" alone and
 * accepts only 1, so MIN stays 1 for as long as 0.1.0 hosts may be in
 * a pool being upgraded.
 */
#define PROTO_VERSION_MIN	1
#define PROTO_VERSION_MAX	7
/* The first version whose "reserved" and "error" carry (checks ...). */
#define PROTO_VERSION_CHECKS	3
/* The first version whose destination reads the sim stream's zero pages. */
#define PROTO_VERSION_ZERO_PAGES	4
/*
 * The first version whose "reserved" carries (available BYTES): the
 * memory the destination could give guests before this one (relocctl
 * evacuate places guests by it).
 */
#define PROTO_VERSION_CAPACITY	5
/*
 * The first version whose "reserve" may offer (compress zstd) and whose
 * "reserved" may accept it, after which the stream may carry
 * PROTO_FRAME_ZSTD frames (compress.h).
 */
#define PROTO_VERSION_COMPRESS	6
/*
 * The first version whose "xl-receive" may offer (compress zstd) and
 * whose "xl-started" may accept it: relocd-xl's stream to xl may then
 * carry PROTO_FRAME_ZSTD frames.
 */
#define PROTO_VERSION_XL_COMPRESS	7

/* Frame kinds: the first byte of every frame. */
#define PROTO_FRAME_CONTROL	'C'
#define PROTO_FRAME_DATA	'D'
/*
 * Data as one zstd frame (PROTO_VERSION_COMPRESS, or for xl's stream
 * PROTO_VERSION_XL_COMPRESS, when accepted).
 */
#define PROTO_FRAME_ZSTD	'Z'
#define PROTO_FRAME_HDR		4	/* kind + 24-bit big-endian length */

/* Fixed error codes sent to peers; never internal details. */
enum proto_error {
	PE_NONE,
	PE_PROTOCOL,		/* malformed frame or message */
	PE_VERSION,		/* no common protocol version */
	PE_TOO_LARGE,		/* frame over the size limit */
	PE_UNKNOWN_TYPE,	/* message type we do not know */
	PE_UNEXPECTED,		/* message out of state order */
	PE_UNAUTHORIZED,	/* certificate, hosts-allow or peers-allow */
	PE_BUSY,		/* too many connections or migrations */
	PE_TIMEOUT,		/* handshake or idle deadline passed */
	PE_CLASH,		/* guest name or uuid exists here */
	PE_NO_MEMORY,		/* not enough free memory here */
	PE_BAD_GUEST,		/* invalid guest description */
	PE_UNSUPPORTED,		/* this host cannot do that */
	PE_IMAGE,		/* stream incomplete or digest mismatch */
	PE_ABORTED,		/* the other side or the user aborted */
	PE_INTERNAL,		/* something failed here; see our log */
	PE_NOT_PERMITTED,	/* an xl request other than migrate-receive */
	PE_MAX
};

enum proto_type {
	PT_HELLO,
	PT_RESERVE,
	PT_RESERVED,
	/*
	 * Type 3 was "progress", which no relocd ever sent: it is refused as
	 * unknown now, and its number stays unused.
	 */
	PT_UNUSED_3,
	PT_END,			/* source: the stream is complete */
	PT_PREPARED,		/* destination: image complete, consistent */
	PT_GO,
	PT_ACTIVATED,
	PT_ABORT,
	PT_ERROR,
	PT_QUERY,		/* after a lost connection: where is id? */
	PT_STATE,
	PT_XL_RECEIVE,		/* xl plugin: run xl migrate-receive */
	PT_XL_STARTED,		/* destination: xl runs; stream both ways */
	PT_XL_EOF,		/* either side: no more data this way */
	PT_XL_EXIT,		/* destination: xl's exit status */
	PT_MAX
};

/* One decoded control message; which fields matter depends on type. */
struct proto_msg {
	int		 type;			/* enum proto_type */
	char		 id[MIG_ID_LEN + 1];
	uint32_t	 version;		/* hello: lowest, or the chosen
						   one in a reply; PE_VERSION
						   error: the refuser's lowest,
						   0 if it sent none */
	uint32_t	 version_max;		/* hello, PE_VERSION error:
						   highest (decode: version if
						   not sent; encode: 0 omits) */
	char		 release[PROTO_RELEASE_MAX + 1]; /* hello, PE_VERSION
						   error; "" if not sent */
	char		 host[256];		/* hello: sender's name */
	struct guest_info guest;		/* reserve, reserved */
	int		 live;			/* reserve */
	int		 compress;		/* reserve: offers zstd;
						   reserved: accepts it
						   (PROTO_VERSION_COMPRESS) */
	char		 facts[BACKEND_FACTS_MAX + 1];	/* reserve */
	size_t		 config_len;		/* reserve */
	uint64_t	 available;		/* reserved: memory the
						   destination can give
						   (PROTO_VERSION_CAPACITY) */
	int		 available_known;	/* reserved: available sent */
	struct check_list checks;		/* reserved, error: the
						   pre-flight's findings
						   (PROTO_VERSION_CHECKS) */
	xlreq_word	 xl_args[XL_ARGS_MAX];	/* xl-receive */
	uint32_t	 xl_nargs;
	int		 status;		/* xl-exit */
	char		 config[BACKEND_CONFIG_MAX + 1];
	int		 code;			/* abort, error */
	char		 text[PROTO_TEXT_MAX + 1];
	uint64_t	 bytes;			/* end */
	uint32_t	 round;			/* end */
	int64_t		 dirty;			/* end */
	uint64_t	 downtime_ms;		/* end: predicted;
						   activated: measured */
	uint64_t	 digest_ms;		/* activated: sim digest checks */
	int64_t		 unpause_ms;		/* activated: the unpause;
						   -1: not measured (older
						   peers do not send it) */
	int64_t		 restore_ms;		/* activated: the backend
						   finishing its copy
						   after the stream; -1 as
						   unpause_ms */
	char		 phase[32];		/* state */
};

/* Connection states, one machine per side. */
enum proto_state {
	PS_HELLO,		/* waiting for the peer's hello */
	PS_READY,		/* authenticated; a request may come */
	PS_RESERVING,		/* reserve sent or being decided */
	PS_STREAMING,		/* data frames */
	PS_VERIFYING,		/* end seen; destination checks the image */
	PS_PREPARED,		/* waiting for go */
	PS_COMMITTED,		/* go sent/received; activation under way */
	PS_DONE,
	PS_XL_STARTING,		/* xl-receive asked; the parent decides */
	PS_XL_STREAMING,	/* xl runs: data both ways, eof, exit */
	PS_MAX
};

const char	*proto_error_text(int);
const char	*proto_type_name(int);
int		 proto_error_from_backend(int);
int		 proto_decode(const char *, size_t, struct proto_msg *, char *,
		    size_t);
int		 proto_encode(const struct proto_msg *, char *, size_t,
		    size_t *);
int		 proto_next_state(int, int, int);
int		 proto_id_valid(const char *);
int		 proto_id_new(char *, size_t);
void		 proto_frame_header(uint8_t *, int, size_t);
int		 proto_frame_parse(const uint8_t *, int *, size_t *);

#endif /* RELOCD_PROTO_H */
