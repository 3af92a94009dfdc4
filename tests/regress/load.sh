#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Load and abuse on loopback: 16 concurrent live migrations of small sim
# guests between two relocd instances all succeed with verified digests;
# then one migration completes while 1000 unauthenticated connections
# and a slowloris client (a byte a second) hit the destination, which
# refuses the flood, rate-limits its log lines and drops the slow client
# at the handshake deadline.  Every wait is bounded.
. "$TOP/tests/regress/lib"

ensure_user
make_pki a b
PA=$(free_port)
PB=$(free_port)
write_conf a "$PA" "(relocd-max-migrations 16)"
# 16 handshakes from one source at once exceed the default per-host
# bound on unauthenticated connections (8); the flood below comes from
# another address and still meets it.
write_conf b "$PB" "(relocd-max-migrations 16)" \
    "(relocd-max-preauth-per-host 16)"
start_relocd a
RELOCD_SIM_HOST_MEMORY=$((2 << 30)) start_relocd b
B=127.0.0.1:$PB
FLOOD="python3 $TOP/tests/regress/flood.py"
N=16

digests() { grep -c 'digest verified' "$WORK/b/log"; }

concurrent() {
	local i pids=() rc=0 d
	d=$(digests b)
	for i in $(seq 1 $N); do
		ctl a sim-create --memory $((16 + (i % 2) * 16))M \
		    --dirty-rate 4M "c$i" >/dev/null || return 1
	done
	for i in $(seq 1 $N); do
		timeout 300 "$RELOCCTL" -f "$WORK/a/xend-config.sxp" migrate -l \
		    "c$i" "$B" >"$WORK/c$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { rc=1; cat "$WORK/c$((i + 1)).out"; }
	done
	[ $rc -eq 0 ] || return 1
	for i in $(seq 1 $N); do
		[ "$(running_on "c$i" a b)" = b ] || { echo "c$i not on b only"; return 1; }
	done
	[ "$(digests b)" -eq $((d + N)) ] ||
	    { echo "digests: $(digests b), want $((d + N))"; return 1; }
}
check "$N concurrent live migrations: all on b, $N digests verified" concurrent

under_attack() {
	local d fpid spid mrc
	d=$(digests b)
	ctl a sim-create --memory 32M --dirty-rate 4M victim >/dev/null || return 1
	$FLOOD flood "$PB" 127.0.0.2 1000 >"$WORK/flood.out" 2>&1 &
	fpid=$!
	$FLOOD slowloris "$PB" 127.0.0.3 >"$WORK/slow.out" 2>&1 &
	spid=$!
	sleep 1
	timeout 300 "$RELOCCTL" -f "$WORK/a/xend-config.sxp" migrate -l victim \
	    "$B" >"$WORK/victim.out" 2>&1
	mrc=$?
	wait $fpid $spid
	cat "$WORK/flood.out" "$WORK/slow.out"
	[ $mrc -eq 0 ] || { cat "$WORK/victim.out"; return 1; }
	[ "$(running_on victim a b)" = b ] && [ "$(digests b)" -eq $((d + 1)) ]
}
check "a migration completes during a flood and a slowloris" under_attack

# Refused: counted by b's metrics, whatever the log kept.  Logged: a
# line about the flood's address.  The refusal's own line may be one the
# per-peer rate limit suppressed, when the flood's first lines were its
# admitted connections' (a loaded machine slows the flood down).
flood_refused() {
	ctl b metrics | grep -Eq '^relocd_refusals_total\{reason="limits"\} [1-9]' &&
	    grep -q 'peer 127.0.0.2: ' "$WORK/b/log"
}
check "the flood is refused and logged" flood_refused

# Without the rate limit, 1000 connections would log ~1000 lines.  With
# it, a burst and then one a second: a flood slowed down by a loaded
# machine (or ASan) lasts longer and logs more, so the bound is loose.
rate_limited() {
	local n
	n=$(grep -c 'peer 127.0.0.2' "$WORK/b/log")
	echo "lines about 127.0.0.2: $n"
	[ "$n" -lt 500 ] && grep -q 'peer messages suppressed (rate limit)' "$WORK/b/log"
}
check "the flood's log lines are rate limited" rate_limited

slow_dropped() {
	local s
	s=$(sed -n 's/^closed after \([0-9]*\) s$/\1/p' "$WORK/slow.out")
	[ -n "$s" ] && [ "$s" -le 10 ]
}
check "the slowloris client is dropped at the handshake deadline" slow_dropped

check "relocd b still serves" relocd_alive b
check "no network child or worker outlives its job" no_stray_children
exit $((CASES_FAILED > 0))
