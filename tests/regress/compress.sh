#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The stream's zstd compression (issue 21, item 3): relocctl migrate
# --compress on, over TLS and over plaintext (where splice(2) gives way
# to the network children's buffers), moves a sim guest whose memory
# arrives byte for byte; the result, --json and the report say what
# the wire carried, and the wire carried less than the stream.  The
# default (off) and --compress off send no zstd frame; a bad compressed
# frame from a peer is refused as a bad image, before the worker sees it.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
start_relocd b
A=127.0.0.1:$PA
UUID=5e10e5e1-0000-4000-8000-0000000c0de1

# An idle guest writes nothing, so its memory now is its memory when it
# is suspended; the copy is what the destination must hold afterwards.
# Three quarters of its pages with content are compressible (sim-create
# --compressible-percent), so zstd takes a third off the stream at least.
on_tls() {
	ctl a sim-create --memory 128M --zero-percent 20 \
	    --compressible-percent 75 --uuid "$UUID" c1 >/dev/null || return 1
	cp "$SIMROOT/a/$UUID.mem" "$WORK/c1.mem" || return 1
	ctl a migrate -l --compress on --json c1 "$B" >"$WORK/out" \
	    2>"$WORK/err" || { cat "$WORK/out" "$WORK/err"; return 1; }
	[ "$(running_on c1 a b)" = b ] &&
	    grep -q 'c1 restored, digest verified' "$WORK/b/log" &&
	    cmp "$WORK/c1.mem" "$SIMROOT/b/$UUID.mem" || return 1
	json_result "$WORK/out" 'res["compression"] == "zstd" and
	    0 < res["wire-bytes"] < res["bytes"] * 2 // 3 and
	    res["protocol"] >= 6'
}
check "--compress on: zstd over TLS, fewer bytes on the wire, b's memory is a's" on_tls

# Both network children say what the stream took.
logs() {
	grep -qE 'migration [0-9a-f-]+: [0-9]+ bytes of stream went as [0-9]+ on the wire \(zstd\)' \
	    "$WORK/a/log" &&
	    grep -qE 'peer .*: migration [0-9a-f-]+: [0-9]+ bytes of stream came as [0-9]+ on the wire \(zstd\)' \
	    "$WORK/b/log"
}
check "both network children log the stream's bytes against the wire's" logs

# Back, in text: the result line and the report.
text() {
	local id
	ctl b migrate -l --compress on c1 "$A" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	cmp "$WORK/c1.mem" "$SIMROOT/a/$UUID.mem" || return 1
	grep -qE "^  the stream's [0-9]+ MiB went as [0-9]+ MiB of zstd on the wire \([0-9.]+x\)$" \
	    "$WORK/out" || { cat "$WORK/out"; return 1; }
	id=$(ctl b status --json | python3 -c 'import json, sys
jobs = [j for j in json.load(sys.stdin)["jobs"] if j["what"] == "migrate"]
print(jobs[-1]["id"] if jobs else "")')
	[ -n "$id" ] && ctl b status "$id" >"$WORK/report" || return 1
	grep -qE '^Wire bytes: +[0-9]+ bytes' "$WORK/report" &&
	    grep -qE '^Compression: +zstd: [0-9.]+ bytes of stream per byte on the wire' \
	    "$WORK/report" || { cat "$WORK/report"; return 1; }
	ctl b status --json "$id" | python3 -c 'import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["compression"] == "zstd" and 0 < r["wire-bytes"] < r["bytes"] else 1)'
}
check "back again: the result line, the report and its JSON say zstd" text

# The default is off: no zstd frame, the wire carries the stream as is.
off() {
	ctl a migrate -l --json c1 "$B" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	cmp "$WORK/c1.mem" "$SIMROOT/b/$UUID.mem" || return 1
	json_result "$WORK/out" 'res["compression"] == "none" and
	    res["wire-bytes"] == res["bytes"]' || return 1
	ctl b migrate -l --compress off --json c1 "$A" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	json_result "$WORK/out" 'res["compression"] == "none" and
	    res["wire-bytes"] == res["bytes"]'
}
check "the default and --compress off send the stream uncompressed" off

# auto on loopback with noise (no page compressible, none zero): the
# probe's compressed window shrinks nothing, so compression never comes
# on, and the guest arrives whole.  compress-auto.sh shapes a link where
# compression wins; tests/unit/test_compress_auto.c plays the rule out.
automatic() {
	ctl a sim-create --memory 128M --uuid "${UUID%?}3" n1 >/dev/null ||
	    return 1
	cp "$SIMROOT/a/${UUID%?}3.mem" "$WORK/n1.mem" || return 1
	ctl a migrate -l --compress auto --json n1 "$B" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	cmp "$WORK/n1.mem" "$SIMROOT/b/${UUID%?}3.mem" &&
	    ! grep -q 'compression on:' "$WORK/a/log" ||
	    { grep compress "$WORK/a/log"; return 1; }
	json_result "$WORK/out" 'res["compression"] == "zstd" and
	    res["bytes"] * 99 // 100 < res["wire-bytes"] <= res["bytes"]'
}
check "--compress auto on loopback: noise stays uncompressed, arrives whole" automatic

usage() {
	ctl a migrate --compress maybe c1 "$B" >"$WORK/out" 2>&1
	[ $? -eq 2 ] && grep -q -- '--compress maybe: not on, off or auto' \
	    "$WORK/out" || { cat "$WORK/out"; return 1; }
}
check "--compress takes on, off or auto only" usage

# Plaintext: the children compress and decompress in their buffers,
# instead of splicing.
kill_relocd a
kill_relocd b
rm -f "$WORK/a/relocd.sock" "$WORK/b/relocd.sock"
write_conf a "$PA" "(relocd-insecure-plaintext yes) (relocd-compress on)"
write_conf b "$PB" "(relocd-insecure-plaintext yes)"
start_relocd a
start_relocd b
plain() {
	ctl a migrate -l --json c1 "$B" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	cmp "$WORK/c1.mem" "$SIMROOT/b/$UUID.mem" || return 1
	json_result "$WORK/out" 'res["compression"] == "zstd" and
	    0 < res["wire-bytes"] < res["bytes"]'
}
check "relocd-compress on: zstd over plaintext, b's memory is a's" plain

# A peer's bad frames: a zstd frame that declares more than a chunk may
# hold (a bomb), and one cut short, each after a reservation that
# agreed to zstd; b refuses the stream as a bad image and keeps nothing.
bad() {
	local kind=$1
	$PEER zstd-bad --port "$PB" --plain --name zb \
	    --uuid 5e10e5e1-0000-4000-8000-0000000c0de2 --kind "$kind" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	grep -q "^(error (code 13)" "$WORK/out" || { cat "$WORK/out"; return 1; }
	wait_log b "refused \(guest image incomplete or corrupt\): a compressed frame" ||
	    return 1
	[ "$(guest_state b zb)" = absent ]
}
check "a compression bomb is refused as a bad image" bad bomb
check "a truncated compressed frame is refused as a bad image" bad truncated

exit $CASES_FAILED
