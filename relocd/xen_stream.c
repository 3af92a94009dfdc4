// SPDX-License-Identifier: ISC
/*
 * Byte layout of xl's save/migration header and libxl's stream framing
 * (see xen_stream.h for the references).  The source worker writes
 *
 *   libxl header, LIBXC_CONTEXT record, libxenguest's stream, END record
 *
 * into the migration; the destination worker puts xl's header (with the
 * JSON domain config that came with the reservation) in front before
 * handing the whole to `xl migrate-receive`.  An HVM guest's stream has
 * two more records before END, both for its QEMU: EMULATOR_XENSTORE_DATA
 * (the physmap keys QEMU keeps in xenstore, as key/value string pairs)
 * and EMULATOR_CONTEXT (QEMU's device state).  PV and PVH guests have no
 * emulator.
 *
 * Runs in the worker.  xen_stream_xl_header_parse() reads untrusted
 * bytes (a save file) and checks every length against what it was given.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "xen_stream.h"

/* Includes its two NULs: xl compares all 32 bytes. */
static const char xl_magic[XL_HEADER_MAGIC_LEN] =
    "Xen saved domain, xl format\n \0 \r";

static void
put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));	/* native order, as xl writes it */
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int
xen_stream_xl_header(const char *config, uint8_t **buf_r, size_t *len_r)
{
	uint8_t		*buf;
	size_t		 clen, len;

	*buf_r = NULL;
	clen = strlen(config) + 1;
	if (clen > BACKEND_CONFIG_MAX)
		return -1;
	len = XL_HEADER_LEN + 4 + clen;
	if ((buf = calloc(1, len)) == NULL)
		return -1;
	memcpy(buf, xl_magic, XL_HEADER_MAGIC_LEN);
	put_u32(buf + 32, XL_BYTEORDER);
	put_u32(buf + 36, XL_FLAG_STREAMV2 | XL_FLAG_JSON);
	put_u32(buf + 40, 0);
	put_u32(buf + 44, (uint32_t)(4 + clen));
	put_u32(buf + 48, (uint32_t)clen);
	memcpy(buf + 52, config, clen);
	*buf_r = buf;
	*len_r = len;
	return 0;
}

int
xen_stream_xl_header_parse(const uint8_t *buf, size_t len, size_t *hdr_len_r,
    char **config_r, char *why, size_t why_max)
{
	uint32_t	 mandatory, optlen, clen;

	*config_r = NULL;
	if (len < XL_HEADER_LEN || memcmp(buf, xl_magic, XL_HEADER_MAGIC_LEN)) {
		snprintf(why, why_max, "not an xl save image (bad magic)");
		return -1;
	}
	if (get_u32(buf + 32) != XL_BYTEORDER) {
		snprintf(why, why_max, "xl image from a host of the other "
		    "byte order");
		return -1;
	}
	mandatory = get_u32(buf + 36);
	optlen = get_u32(buf + 44);
	if (mandatory != (XL_FLAG_STREAMV2 | XL_FLAG_JSON)) {
		snprintf(why, why_max, "xl image flags 0x%x: only a v2 stream "
		    "with a JSON config is understood", mandatory);
		return -1;
	}
	if (optlen < 4 || optlen > 4 + BACKEND_CONFIG_MAX ||
	    len < XL_HEADER_LEN + (size_t)optlen) {
		snprintf(why, why_max, "xl image config of %u bytes does not "
		    "fit", optlen);
		return -1;
	}
	clen = get_u32(buf + XL_HEADER_LEN);
	if (clen == 0 || clen > optlen - 4 ||
	    buf[XL_HEADER_LEN + 4 + clen - 1] != '\0' ||
	    memchr(buf + XL_HEADER_LEN + 4, '\0', clen - 1) != NULL) {
		snprintf(why, why_max, "xl image config is not one "
		    "NUL-terminated string");
		return -1;
	}
	if ((*config_r = strdup((const char *)buf + XL_HEADER_LEN + 4)) ==
	    NULL) {
		snprintf(why, why_max, "out of memory");
		return -1;
	}
	*hdr_len_r = XL_HEADER_LEN + optlen;
	return 0;
}

void
xen_stream_libxl_header(uint8_t *buf)
{
	uint64_t	ident = htobe64(LIBXL_STREAM_IDENT);
	uint32_t	version = htobe32(LIBXL_STREAM_VERSION), options = 0;

	/* options bit 0 clear: little-endian records, as on every x86. */
	memcpy(buf, &ident, 8);
	memcpy(buf + 8, &version, 4);
	memcpy(buf + 12, &options, 4);
}

void
xen_stream_libxl_record(uint8_t *buf, uint32_t type)
{
	put_u32(buf, type);
	put_u32(buf + 4, 0);
}

int
xen_stream_emulator_record(uint8_t *buf, uint32_t type, size_t len)
{
	if (len > UINT32_MAX - LIBXL_EMU_HDR_LEN - 7)
		return -1;
	put_u32(buf, type);
	put_u32(buf + 4, (uint32_t)(len + LIBXL_EMU_HDR_LEN));
	put_u32(buf + 8, LIBXL_EMULATOR_QEMU_XEN);
	put_u32(buf + 12, 0);		/* index: the only emulator */
	return 0;
}

int
xen_stream_xenstore_pair(char **buf, size_t *len, const char *key,
    const char *val)
{
	size_t	 klen = strlen(key) + 1, vlen = strlen(val) + 1;
	char	*n;

	if (*len > UINT32_MAX - klen - vlen ||
	    (n = realloc(*buf, *len + klen + vlen)) == NULL)
		return -1;
	memcpy(n + *len, key, klen);
	memcpy(n + *len + klen, val, vlen);
	*buf = n;
	*len += klen + vlen;
	return 0;
}

int
xen_stream_libxl_header_check(const uint8_t *buf, size_t len)
{
	uint8_t	want[LIBXL_HEADER_LEN];

	xen_stream_libxl_header(want);
	if (len < LIBXL_HEADER_LEN || memcmp(buf, want, LIBXL_HEADER_LEN))
		return -1;
	return 0;
}
