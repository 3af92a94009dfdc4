#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The peer-message rate limit holds across connections: each failing
# connection is served by its own network child, and all of them draw
# from one bucket (LOG_PEER_BURST_MAX lines, then one a second), so a
# rapid series of connections sending TLS garbage logs at most that many
# refusals, and a later line says how many were suppressed.  Before the
# bucket was shared, every child had a full bucket and each connection
# got its line.  Every loop is bounded.
. "$TOP/tests/regress/lib"

BURST=$(sed -n 's/^#define LOG_PEER_BURST_MAX[[:space:]]*\([0-9]*\).*/\1/p' \
    "$TOP/relocd/bounds.h")
[ -n "$BURST" ] || die "no LOG_PEER_BURST_MAX in relocd/bounds.h"
N=$((BURST * 4))

ensure_user
make_pki b
PB=$(free_port)
write_conf b "$PB"
start_relocd b

# garbage PORT N: N connections one after another, each sends bytes that
# are no TLS record and waits (2 s at most) for the server to hang up.
# Prints the seconds the series took.
garbage() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
start = time.monotonic()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"\x00" * 64)
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
print("%d" % (time.monotonic() - start + 1))
PY
}

refusals() { grep -c 'peer 127\.0\.0\.1: refused' "$WORK/b/log"; }

limited() {
	local secs n
	secs=$(garbage "$PB" "$N") || return 1
	# Every child has logged (or been denied) by the time it hung up.
	n=$(refusals)
	echo "$N connections in about $secs s: $n refusals logged"
	# The burst, plus the one token a second that refills meanwhile.
	[ "$n" -ge 1 ] && [ "$n" -le $((BURST + secs)) ]
}
check "$N failing connections log at most a burst of refusals" limited

summary() {
	sleep 1.5
	garbage "$PB" 1 >/dev/null || return 1
	wait_log b 'peer messages suppressed \(rate limit\)'
}
check "a later refusal says how many lines were suppressed" summary

check "relocd b still serves" relocd_alive b
check "no network child outlives its connection" no_stray_children
exit $((CASES_FAILED > 0))
