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

# A plaintext stream that breaks mid-way fails as a TLS one does: the
# guest runs on at the source and the destination keeps nothing.  b
# restarts with a pause before every data frame of s2 and s3 (so that
# the stream is surely in flight), then a network child is killed while
# the splices run: b's (the destination's) for s2, a's (the source's)
# for s3.
kill_relocd b
rm -f "$WORK/b/relocd.sock"
cat "$WORK/b/log" >>"$WORK/b/log.before"
RELOCD_FAULT="destination-net-data@s2=50,destination-net-data@s3=50" \
    start_relocd b

# net_child NAME: the pid of NAME's network child (relocd -N), one
# migration running.
net_child() {
	local p
	for p in $(pgrep -P "$(cat "$WORK/$1/pid")"); do
		tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- ' -N' && { echo "$p"; return 0; }
	done
	return 1
}

# broken GUEST WHOSE: GUEST's migration a -> b while WHOSE's network
# child is killed mid-stream.
broken() {
	local g=$1 whose=$2 pid rc i child
	ctl a sim-create --memory 128M "$g" >/dev/null || return 1
	ctl a migrate -l "$g" "$B" >"$WORK/$g.out" 2>&1 &
	pid=$!
	wait_log b "fault point destination-net-data for $g:" 30 || return 1
	for i in $(seq 1 50); do
		child=$(net_child "$whose") && break
		sleep 0.1
	done
	[ -n "$child" ] && kill -KILL "$child" || { echo "no network child of $whose"; return 1; }
	wait "$pid"
	rc=$?
	for i in $(seq 1 100); do
		[ "$(guest_state a "$g")" = running ] &&
		    [ "$(guest_state b "$g")" = absent ] && break
		sleep 0.1
	done
	[ $rc -ne 0 ] && [ "$(running_on "$g" a b)" = a ] &&
	    [ "$(guest_state b "$g")" = absent ] &&
	    grep -q "runs on here\|still running here\|running here" "$WORK/$g.out" ||
	    { echo "migrate exited $rc; a: $(guest_state a "$g"), b: $(guest_state b "$g")"; cat "$WORK/$g.out"; return 1; }
}
check "plaintext, the destination's network child killed mid-stream: the guest runs on at the source, nothing kept at the destination" broken s2 b
check "plaintext, the source's network child killed mid-stream: the guest runs on at the source, nothing kept at the destination" broken s3 a
exit $CASES_FAILED
