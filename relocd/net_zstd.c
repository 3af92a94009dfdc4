// SPDX-License-Identifier: ISC
/*
 * The receiving network child's side of a compressed stream
 * (compress.h): a migration's (net_server.c, from PROTO_VERSION_COMPRESS)
 * and xl's (net_xl.c, from PROTO_VERSION_XL_COMPRESS) accept the offer
 * and decode 'Z' frames here, so that both bound a peer's frames the
 * same way.  Runs sandboxed: every byte decoded here came from the peer.
 */
#include <stdlib.h>

#include "compress.h"
#include "log.h"
#include "net.h"

/*
 * The source offers zstd: accepted whenever we can set it up, as its
 * cost is bounded here (compress.h) and the choice is the source's; a
 * failure only means the stream comes uncompressed.
 */
int
net_zstd_accept(struct net_session *s)
{
	if ((s->dec = compress_dec_new()) == NULL ||
	    (s->plain = malloc(COMPRESS_CHUNK_MAX)) == NULL) {
		log_peer_warnx("peer %s: cannot set up zstd: out of memory; "
		    "the stream comes uncompressed", s->ip);
		compress_dec_free(s->dec);
		s->dec = NULL;
		return 0;
	}
	return 1;
}

/*
 * The zstd frame of len bytes in s->frame, decompressed into s->plain
 * within its bound before a byte goes on, so that a bomb or a corrupt
 * frame ends the stream as a bad image, never as our memory's
 * exhaustion.  Returns the plain length; refuses (and ends us) on any
 * fault, or if no compression was agreed.
 */
size_t
net_zstd_frame(struct net_session *s, size_t len)
{
	char	err[256];
	size_t	out;

	if (s->dec == NULL)
		net_refuse(s, PE_UNEXPECTED, "compressed data frame, but no "
		    "compression was agreed");
	if (compress_unchunk(s->dec, s->plain, COMPRESS_CHUNK_MAX, s->frame,
	    len, &out, err, sizeof(err)) == -1)
		net_refuse(s, PE_IMAGE, err);
	s->wire += len;
	return out;
}
