/* SPDX-License-Identifier: ISC */
/*
 * The framing around libxenguest's stream that xl and libxl expect
 * (Xen 4.17: tools/xl/xl_saverestore.c, docs/specs/libxl-migration-
 * stream.pandoc), and the fixed messages of xl's migration handshake
 * (tools/xl/xl_migrate.c).  Pure byte layout: no Xen library is needed,
 * so the unit tests cover it on any machine.
 */
#ifndef RELOCD_XEN_STREAM_H
#define RELOCD_XEN_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* xl's header: 32 bytes of magic, then four native-endian uint32s. */
#define XL_HEADER_MAGIC_LEN	32
#define XL_HEADER_LEN		(XL_HEADER_MAGIC_LEN + 4 * 4)
#define XL_BYTEORDER		0x01020304u
#define XL_FLAG_JSON		(1u << 0)	/* config data is JSON */
#define XL_FLAG_STREAMV2	(1u << 1)	/* a libxl v2 stream follows */

/* libxl's stream header: big-endian ident, version, options. */
#define LIBXL_HEADER_LEN	16
#define LIBXL_STREAM_IDENT		0x4c6962786c466d74ull	/* "LibxlFmt" */
#define LIBXL_STREAM_VERSION	2
/* Record header: native-endian type and body length; bodies pad to 8. */
#define LIBXL_REC_HDR_LEN	8
#define LIBXL_REC_END		0u
#define LIBXL_REC_LIBXC_CONTEXT	1u
#define LIBXL_REC_EMULATOR_XENSTORE_DATA	2u
#define LIBXL_REC_EMULATOR_CONTEXT		3u
/* Emulator records start with an id and an index after the header. */
#define LIBXL_EMU_HDR_LEN	8
#define LIBXL_EMULATOR_QEMU_XEN	2u	/* "QEMU upstream" in libxl */
/* libxl pads every record body to 8 bytes. */
#define LIBXL_REC_PAD(len)	((8 - ((len) & 7)) & 7)

/* xl's handshake (the trailing NULs are part of the message). */
#define XL_MSG_BANNER	"xl migration receiver ready, send binary domain data.\n"
#define XL_MSG_READY	"domain received, ready to unpause"
#define XL_MSG_GO	"domain is yours, you are cleared to unpause"
#define XL_MSG_REPORT	"my copy unpause results are as follows"
/* Lengths on the wire: the banner has no NUL, the others one each. */
#define XL_MSG_BANNER_LEN	(sizeof(XL_MSG_BANNER) - 1)
#define XL_MSG_READY_LEN	sizeof(XL_MSG_READY)
#define XL_MSG_GO_LEN		sizeof(XL_MSG_GO)
#define XL_MSG_REPORT_LEN	sizeof(XL_MSG_REPORT)

/*
 * xl's header with the JSON config as its optional data (as
 * save_domain_core_writeconfig() writes it: a uint32 length including
 * the NUL, then the bytes with the NUL).  The caller frees *buf_r.
 */
int	xen_stream_xl_header(const char *, uint8_t **, size_t *);
/*
 * Reads one back: checks magic, byte order and flags, returns the
 * header's whole length and a copy of the config (caller frees).
 * buf holds len bytes; -1 if short or malformed, with a reason.
 */
int	xen_stream_xl_header_parse(const uint8_t *, size_t, size_t *,
	    char **, char *, size_t);
/* libxl's stream header into buf (LIBXL_HEADER_LEN bytes). */
void	xen_stream_libxl_header(uint8_t *);
/* A body-less record (END, LIBXC_CONTEXT) into buf (8 bytes). */
void	xen_stream_libxl_record(uint8_t *, uint32_t);
/*
 * Header and emulator sub-header of an HVM guest's emulator record
 * (LIBXL_REC_HDR_LEN + LIBXL_EMU_HDR_LEN bytes) into buf, for a
 * body of len bytes that follows them, then LIBXL_REC_PAD(len) zeros.
 * -1 if len does not fit the record's 32-bit length.
 */
int	xen_stream_emulator_record(uint8_t *, uint32_t, size_t);
/*
 * Appends key and value, each with its NUL, to the body of an
 * EMULATOR_XENSTORE_DATA record (*buf of *len bytes, realloc'd).
 */
int	xen_stream_xenstore_pair(char **, size_t *, const char *,
	    const char *);
/* Checks a libxl stream header; -1 if it is not one. */
int	xen_stream_libxl_header_check(const uint8_t *, size_t);

#endif /* RELOCD_XEN_STREAM_H */
