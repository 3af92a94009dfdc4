#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Rolling upgrades (issue 19, finding 9): a pool is upgraded one host at
# a time, so this relocd and the previous release (v0.1.0, which speaks
# protocol 1 only, built from git history by tests/prev-release) must
# migrate between them both ways; and a host with no protocol version in
# common is refused at hello, before anything is reserved or suspended,
# with one sentence naming both sides' versions and releases.
. "$TOP/tests/regress/lib"

PREV=$("$TOP/tests/prev-release" "$TOP/$O") || die "the previous release" \
    "is needed for this test and could not be built (see above)"
RELEASE=$(awk -F '[()]' 'NR == 1 { print $2 }' "$TOP/debian/changelog")
# The highest protocol version this relocd speaks, from relocd -V, and
# two versions past it for a later release that speaks only those: no
# number here needs editing when a version is added.
MAX=$("$RELOCD" -V | sed -n 's/.*(protocol 1-\([0-9]*\))$/\1/p')
[ -n "$MAX" ] || die "relocd -V names no protocol range: $("$RELOCD" -V)"
LATER=$((MAX + 1)) LATER_MAX=$((MAX + 2))

two_hosts
# 0.1.0 refuses relocd keys newer than itself; it keeps no reports.
sed -i '/^(relocd-state-dir /d' "$WORK/a/xend-config.sxp"
# a runs the previous release, with its own relocctl (its control socket
# is its own business); b runs this one.
RELOCD=$PREV/relocd start_relocd a
start_relocd b
A=127.0.0.1:$PA
old() { RELOCCTL=$PREV/relocctl ctl "$@"; }
digests() { grep -c 'digest verified' "$WORK/$1/log"; }

version() {
	"$RELOCD" -V | grep -qxE "relocd $RELEASE \(protocol [0-9]+-[0-9]+\)" &&
	    ctl b status | grep -q "^relocd $RELEASE on "
}
check "relocd -V and relocctl status name debian/changelog's release" version

old_to_new() {
	local d
	d=$(digests b)
	old a sim-create --memory 64M --dirty-rate 10M --working-set 8M \
	    --pattern hot g1 >/dev/null || return 1
	old a migrate -l g1 "$B" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	[ "$(digests b)" -eq $((d + 1)) ] &&
	    [ "$(guest_state b g1)" = running ] &&
	    [ "$(RELOCCTL=$PREV/relocctl guest_state a g1)" = absent ] &&
	    grep -q "hello from .*, relocd 0\.1\.0, protocol 1$" "$WORK/b/log"
}
check "0.1.0 source -> this destination: live migration, protocol 1" old_to_new

new_to_old() {
	local d
	d=$(digests a)
	ctl b migrate -l g1 "$A" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	[ "$(digests a)" -eq $((d + 1)) ] &&
	    [ "$(RELOCCTL=$PREV/relocctl guest_state a g1)" = running ] &&
	    [ "$(guest_state b g1)" = absent ] &&
	    grep -q "destination 127\.0\.0\.1: relocd 0\.1\.0, protocol 1$" "$WORK/b/log"
}
check "this source -> 0.1.0 destination: live migration, protocol 1" new_to_old

# Compression asked of a destination that predates it (protocol 6, and
# 0.1.0 speaks 1): the
# offer is never made, and the stream goes as 0.1.0 reads it.
compress_old() {
	local d
	d=$(digests b)
	old a migrate -l g1 "$B" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	[ "$(digests b)" -eq $((d + 1)) ] || return 1
	d=$(digests a)
	ctl b migrate -l --compress on --json g1 "$A" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	[ "$(digests a)" -eq $((d + 1)) ] &&
	    [ "$(RELOCCTL=$PREV/relocctl guest_state a g1)" = running ] &&
	    grep -q "destination 127\.0\.0\.1 speaks protocol 1, before compression (6): the stream goes uncompressed" \
	    "$WORK/b/log" &&
	    tail -n 1 "$WORK/out" | grep -q '"compression":"none"' ||
	    { cat "$WORK/out"; return 1; }
}
check "--compress on to a 0.1.0 destination: uncompressed, protocol 1" compress_old

# Two hosts of this release use the highest version both speak.
same() {
	$PEER hello --port "$PB" --ca "$WORK/pki/ca.pem" \
	    --cert "$WORK/pki/a.pem" --key "$WORK/pki/a.key" \
	    --hello "(hello (protocol 1) (protocol-max 99) (release 9.0) (host p))" \
	    --expect "^\(hello \(protocol $MAX\) \(protocol-max $MAX\) \(release $RELEASE\)" \
	    >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
}
check "a later source that also speaks $MAX gets protocol $MAX" same

# A later release that speaks only versions above ours, as a source: b
# refuses its hello with the sentence, and reserves nothing.
later_source() {
	local hello="(hello (protocol $LATER) (protocol-max $LATER_MAX) (release 3.0.0) (host p))"
	$PEER hello --port "$PB" --ca "$WORK/pki/ca.pem" \
	    --cert "$WORK/pki/a.pem" --key "$WORK/pki/a.key" --hello "$hello" \
	    >"$WORK/out" 2>&1
	grep -q "^(error (code 2) (text 'source 127.0.0.1 speaks relocd protocol $LATER-$LATER_MAX (relocd 3.0.0) and destination .* speaks 1-$MAX (relocd $RELEASE), no version in common: upgrade destination .* first') (protocol 1) (protocol-max $MAX) (release $RELEASE))$" \
	    "$WORK/out" || { cat "$WORK/out"; return 1; }
	wait_log b "refused \(unsupported protocol version\): source 127\.0\.0\.1 speaks relocd protocol $LATER-$LATER_MAX \(relocd 3\.0\.0\)" ||
	    return 1
	# A reserve pushed after the refused hello finds the connection gone.
	$PEER reserve --port "$PB" --ca "$WORK/pki/ca.pem" \
	    --cert "$WORK/pki/a.pem" --key "$WORK/pki/a.key" --hello "$hello" \
	    --name gl >"$WORK/out" 2>&1
	! grep -q 'gl' "$WORK/b/log" && [ "$(guest_state b gl)" = absent ]
}
check "a source with no version in common is refused at hello, naming both" later_source

# The same later release as a destination: this source names both
# versions, sends no reserve, and its guest runs on untouched.
later_dest() {
	serve_hello a "(error (code 2) (text 'no version in common') \
(protocol $LATER) (protocol-max $LATER_MAX) (release 3.0.0))"
	ctl b sim-create --memory 32M g2 >/dev/null || return 1
	ctl b migrate -l g2 "127.0.0.1:$SERVE_PORT" >"$WORK/out" 2>&1 && return 1
	serve_hello_done
	grep -q "destination 127.0.0.1 speaks relocd protocol $LATER-$LATER_MAX (relocd 3.0.0) and source .* speaks 1-$MAX (relocd $RELEASE), no version in common: upgrade source .* first" \
	    "$WORK/out" || { cat "$WORK/out"; return 1; }
	grep -q '^then closed' "$WORK/peer" || { cat "$WORK/peer"; return 1; }
	[ "$(guest_state b g2)" = running ]
}
check "a destination with no version in common: no reserve, the guest runs on" later_dest

exit $CASES_FAILED
