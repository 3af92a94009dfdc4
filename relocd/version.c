// SPDX-License-Identifier: ISC
/*
 * Which relocd this is, and which protocol version a connection speaks.
 *
 * The release has one home, the first line of debian/changelog; the
 * Makefile passes it here as RELOCD_VERSION, so the package, every
 * program's --version, relocctl status and the hello all say the same.
 *
 * A pool is upgraded one host at a time, so two adjacent releases must
 * either migrate between them or refuse at hello, before anything is
 * reserved or suspended, with one sentence naming both.  Each hello
 * names a range, protocol..protocol-max, and the release.  The
 * destination answers with the highest version both speak as its
 * "protocol" (and its own protocol-max and release); the source checks
 * that it speaks that one too.  A later release that adds a message or
 * a field raises PROTO_VERSION_MAX and sends the new thing only when the
 * chosen version has it; one that drops an old version raises
 * PROTO_VERSION_MIN.
 *
 * The versions so far:
 *   1  relocd 0.1.0.  A hello carries one version, and both must be 1.
 *   2  relocd 0.2.0.  A hello carries a range and the release, and a
 *      version refusal (an error with code PE_VERSION) carries the
 *      refuser's, so the other side can name both.  The sim backend's
 *      stream is its version 2 (sim_stream.c), which a source sends
 *      only when 2 or later was chosen: to a destination that chose
 *      1 it sends the stream's version 1.  The rest is as 1.
 *   3  "reserved" and "error" may carry the pre-flight's findings,
 *      (checks (check (ok yes|no) (text T)) ...), every bridge and disk
 *      the destination looked at and every one that failed
 *      (checks.h).  Sent only on a connection that chose 3; an older
 *      peer gets the first failure in "text", as before.
 *   4  The sim backend's stream is its version 3, which carries zero
 *      pages as their page numbers only (sim_zero.c); a source sends it
 *      only on a connection that chose 4 or later, and to an older
 *      destination every page whole, as before.  Nothing else changed:
 *      the capability is the version, as the sim stream's 2 was.
 *   5  "reserved" may carry (available BYTES), the memory the
 *      destination could give guests before this one, free memory and
 *      what dom0 can give back (backend free_memory); relocctl
 *      evacuate places guests by it.  Sent only on a connection that
 *      chose 5; from an older peer evacuate learns no capacity and
 *      says so.
 *   6  "reserve" may offer (compress zstd) and "reserved" accept it;
 *      the stream may then carry 'Z' frames, each one zstd frame of a
 *      data chunk (compress.h).  A source offers it only on a
 *      connection that chose 6; an older destination gets the stream
 *      as before.
 *   7  "xl-receive" may offer (compress zstd) and "xl-started" accept
 *      it; relocd-xl's stream to xl may then carry 'Z' frames, as a
 *      migration's may from 6.  relocd-xl offers it only on a
 *      connection that chose 7; an older relocd gets xl's stream as
 *      before.
 *
 * relocd 0.1.0 reads only "protocol", and refuses anything but 1: a
 * range that starts at 1 passes it, and its reply, "protocol" alone,
 * reads as the range 1..1 (proto.c).
 *
 * Runs in network children and relocd-xl, on a hello from the peer,
 * and in relocd, relocctl and relocd-xl for --version.
 */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "proto.h"
#include "util.h"
#include "version.h"

#ifndef RELOCD_VERSION
#error "RELOCD_VERSION comes from the Makefile (debian/changelog's first line)"
#endif

const char	relocd_version[] = RELOCD_VERSION;

_Static_assert(sizeof(RELOCD_VERSION) <= PROTO_RELEASE_MAX + 1,
    "the release fits a hello's release field");

/* What this relocd speaks, into a hello (or a version refusal). */
void
version_hello(struct proto_msg *m)
{
	m->version = PROTO_VERSION_MIN;
	m->version_max = PROTO_VERSION_MAX;
	STRLCPY_ARRAY(m->release, relocd_version);
}

/*
 * The highest version both this relocd and the sender of hello m speak,
 * or -1 if there is none.  A destination answers with it; a source
 * reading the answer gets the destination's choice back (its "protocol"
 * is the choice, and nothing above it is common).
 */
int
version_choose(const struct proto_msg *m, uint32_t *version_r)
{
	uint32_t	lo, hi, peer_max;

	peer_max = m->version_max != 0 ? m->version_max : m->version;
	lo = m->version > PROTO_VERSION_MIN ? m->version : PROTO_VERSION_MIN;
	hi = peer_max < PROTO_VERSION_MAX ? peer_max : PROTO_VERSION_MAX;
	if (m->version == 0 || lo > hi)
		return -1;
	*version_r = hi;
	return 0;
}

/*
 * Whether a destination's hello names a version this relocd speaks, as
 * its "protocol": the version it chose for the connection.
 */
bool
version_accept(const struct proto_msg *m)
{
	return m->version >= PROTO_VERSION_MIN &&
	    m->version <= PROTO_VERSION_MAX;
}

/*
 * What a source's save may send a destination that chose protocol
 * (BACKEND_SAVE_* flags): the sim stream's version 1 to relocd 0.1.0,
 * zero pages only from protocol 4 on.
 */
unsigned int
version_save_flags(uint32_t protocol)
{
	if (protocol == 1)
		return BACKEND_SAVE_STREAM_V1;
	if (protocol >= PROTO_VERSION_ZERO_PAGES)
		return BACKEND_SAVE_ZERO_PAGES;
	return 0;
}

/* "1", or "1-2". */
static void
version_range(char *out, size_t size, uint32_t lo, uint32_t hi)
{
	if (hi <= lo)
		snprintf(out, size, "%u", lo);
	else
		snprintf(out, size, "%u-%u", lo, hi);
}

/*
 * The one sentence of a version refusal: what peer (described by m)
 * and here speak, and which to upgrade first, the one whose versions
 * are all below the other's.  A peer's release is its own text, so it
 * is escaped (log_* would too; this sentence also travels in an error
 * to the other host).
 */
void
version_mismatch(char *out, size_t size, const char *peer,
    const struct proto_msg *m, const char *here)
{
	char		 theirs[24], ours[24], release[4 * PROTO_RELEASE_MAX + 1];
	uint32_t	 peer_max;

	peer_max = m->version_max != 0 ? m->version_max : m->version;
	version_range(theirs, sizeof(theirs), m->version, peer_max);
	version_range(ours, sizeof(ours), PROTO_VERSION_MIN,
	    PROTO_VERSION_MAX);
	util_text_escape(release, sizeof(release),
	    m->release[0] != '\0' ? m->release : VERSION_RELEASE_V1);
	snprintf(out, size, "%s speaks relocd protocol %s (relocd %s) and %s "
	    "speaks %s (relocd %s), no version in common: upgrade %s first",
	    peer, theirs, release, here, ours, relocd_version,
	    peer_max < PROTO_VERSION_MIN ? peer : here);
}

/*
 * --version of every program: "relocd 0.2.0~dev (protocol 1-2)", the
 * release and what a rolling upgrade needs to know of a host.
 */
void
version_print(const char *prog)
{
	char	range[24];

	version_range(range, sizeof(range), PROTO_VERSION_MIN,
	    PROTO_VERSION_MAX);
	printf("%s %s (protocol %s)\n", prog, relocd_version, range);
}
