// SPDX-License-Identifier: ISC
/*
 * libFuzzer harness for the wire protocol, on bytes as a peer sends
 * them: a 4-byte frame header, then the payload.  A header that passes
 * proto_frame_parse as a control frame has its payload (cut to the
 * stated length) decoded; any other input is decoded whole, so seeds of
 * bare sxp messages reach the decoder too.  A message that decodes must
 * encode, and decode again to the same fields: the network child relays
 * what it decoded, so a lossy round trip would change a peer's request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct proto_msg	m1, m2;
static char		buf[PROTO_CONTROL_MAX + 1];

static int
fuzz_same(const struct proto_msg *a, const struct proto_msg *b)
{
	/* decode zeroes everything before config, padding included. */
	return memcmp(a, b, offsetof(struct proto_msg, config)) == 0 &&
	    memcmp(a->config, b->config, a->config_len + 1) == 0;
}

static void
fuzz_round_trip(void)
{
	char	err[256];
	size_t	len;

	if (proto_encode(&m1, buf, sizeof(buf), &len) == -1) {
		/*
		 * Only a config near its bound may fail: escaping can make it
		 * four times longer than a control frame holds.
		 */
		if (m1.type == PT_RESERVE &&
		    4 * m1.config_len + 1024 > PROTO_CONTROL_MAX)
			return;
		fprintf(stderr, "fuzz: decoded %s does not encode\n",
		    proto_type_name(m1.type));
		abort();
	}
	if (proto_decode(buf, len, &m2, err, sizeof(err)) != PE_NONE) {
		fprintf(stderr, "fuzz: encoded %s does not decode: %s\n%s\n",
		    proto_type_name(m1.type), err, buf);
		abort();
	}
	if (!fuzz_same(&m1, &m2)) {
		fprintf(stderr, "fuzz: %s changed in a round trip:\n%s\n",
		    proto_type_name(m1.type), buf);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*payload = (const char *)data;
	size_t		 plen = size, flen;
	char		 err[256];
	int		 kind, rc;

	if (size > PROTO_CONTROL_MAX + PROTO_FRAME_HDR)
		return 0;
	if (size >= PROTO_FRAME_HDR &&
	    proto_frame_parse(data, &kind, &flen) == PE_NONE &&
	    kind == PROTO_FRAME_CONTROL) {
		payload += PROTO_FRAME_HDR;
		plen = size - PROTO_FRAME_HDR < flen ?
		    size - PROTO_FRAME_HDR : flen;
	}
	rc = proto_decode(payload, plen, &m1, err, sizeof(err));
	if (rc < PE_NONE || rc >= PE_MAX)
		abort();
	if (rc == PE_NONE)
		fuzz_round_trip();
	else if (err[0] == '\0')
		abort();	/* a refusal must say why in our log */
	return 0;
}
