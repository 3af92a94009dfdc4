#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The plaintext transport (relocd-insecure-plaintext) moves the stream
# between the worker's pipe and the socket by splice(2), on both sides,
# so that the network child never copies it (issue 21); and what
# arrives is still, byte for byte, what left.  strace, attached to both
# daemons and following their children, sees the splices.
. "$TOP/tests/regress/lib"

command -v strace >/dev/null || skip "strace is not installed"
two_hosts
write_conf a "$PA" "(relocd-insecure-plaintext yes)"
write_conf b "$PB" "(relocd-insecure-plaintext yes)"
start_relocd a
start_relocd b
UUID=5e10e5e1-0000-4000-8000-00000000591c

# trace NAME: splice calls of NAME's daemon and every child it starts.
trace() {
	strace -f -q -e trace=splice -o "$WORK/$1.trace" \
	    -p "$(cat "$WORK/$1/pid")" 2>/dev/null &
	PIDS+=($!)
	echo $! >"$WORK/$1.strace"
}
trace a
trace b
sleep 1

# An idle guest, so that its memory when suspended is its memory now.
plain() {
	ctl a sim-create --memory 64M --zero-percent 10 --uuid "$UUID" \
	    s1 >/dev/null || return 1
	cp "$SIMROOT/a/$UUID.mem" "$WORK/s1.mem" || return 1
	ctl a migrate -l s1 "$B" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	[ "$(running_on s1 a b)" = b ] &&
	    grep -q 's1 restored, digest verified' "$WORK/b/log" &&
	    cmp "$WORK/s1.mem" "$SIMROOT/b/$UUID.mem"
}
check "plaintext migration arrives intact" plain

# spliced NAME: NAME's children spliced stream bytes (a call returned >0).
spliced() {
	grep -qE 'splice\(.*\) = [1-9][0-9]*$' "$WORK/$1.trace" ||
	    { echo "no splice with data in $1's trace:" >&2;
	      tail -n 5 "$WORK/$1.trace" >&2; return 1; }
}
check "the source's network child splices pipe to socket" spliced a
check "the destination's network child splices socket to pipe" spliced b

kill "$(cat "$WORK/a.strace")" "$(cat "$WORK/b.strace")" 2>/dev/null
exit $CASES_FAILED
