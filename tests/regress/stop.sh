#!/bin/bash
# SPDX-License-Identifier: ISC
#
# What SIGTERM (systemctl stop, a package upgrade's restart) does to
# migrations in flight.  A migration that has not reached "go" is
# cancelled on either side, so the guest resumes on the source and the
# destination keeps nothing; one past "go" is finished first.  Each case
# checks that the guest runs in exactly one place, the right one, and
# that the relocd told to stop exits within a bound well under the
# unit's TimeoutStopSec, rather than draining a migration that could
# take minutes.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
start_relocd b
# Far more than a stop needs, far less than a 256 MiB guest at 10 MiB/s.
STOP_BOUND_S=10

# stopped_within NAME SECONDS: NAME's relocd exits in time; its log is
# kept as NAME/log.stopN for the checks that follow.
STOPS=0
stopped_within() {
	local pid rc=0
	pid=$(cat "$WORK/$1/pid")
	timeout "$2" tail --pid="$pid" -f /dev/null 2>/dev/null || rc=1
	STOPS=$((STOPS + 1))
	cp "$WORK/$1/log" "$WORK/$1/log.stop$STOPS"
	[ $rc -eq 0 ] || echo "relocd $1 still runs $2 s after SIGTERM" >&2
	return $rc
}
# stop_within NAME SECONDS: SIGTERM, then as stopped_within.
stop_within() {
	kill -TERM "$(cat "$WORK/$1/pid")"
	stopped_within "$@"
}
# restart NAME: start NAME again (with the caller's RELOCD_FAULT).
restart() {
	kill_relocd "$1"
	rm -f "$WORK/$1/relocd.sock"
	start_relocd "$1"
}
# up NAME...: each of them running, so that one failed case does not fail
# the next.
up() {
	local n
	for n in "$@"; do
		relocd_alive "$n" || restart "$n"
	done
}
stopped_log() { grep -qE "$2" "$WORK/$1/log.stop$STOPS"; }

# A slow migration a -> b, caught in pre-copy (round 0 of 25 s).
slow_migration() {
	ctl a sim-create --memory 256M --dirty-rate 10M "$1" >/dev/null ||
	    return 1
	ctl a migrate -l --bandwidth 10 "$1" "$B" >"$WORK/out" 2>&1 &
	MIG=$!
	[ -n "$(wait_job a streaming)" ] || { ctl a status; return 1; }
	sleep 0.5
}

source_stop() {
	up a b
	slow_migration st1 || return 1
	stop_within a $STOP_BOUND_S || return 1
	wait $MIG && { echo "relocctl says the migration succeeded" >&2; return 1; }
	grep -q 'relocd is stopping' "$WORK/out" ||
	    { cat "$WORK/out" >&2; return 1; }
	stopped_log a 'stopping: migration [0-9a-f]+ of st1 is not past go: cancelling it' &&
	    stopped_log a '^parent: stopped$' || return 1
	wait_log b 'destroyed the half-built st1' || return 1
	start_relocd a
	[ "$(running_on st1 a b)" = a ] && [ "$(guest_state b st1)" = absent ]
}
check "SIGTERM to the source mid-stream: cancelled, st1 runs on the source only" source_stop

dest_stop() {
	up a b
	slow_migration st2 || return 1
	stop_within b $STOP_BOUND_S || return 1
	wait $MIG && { echo "relocctl says the migration succeeded" >&2; return 1; }
	stopped_log b 'stopping: migration [0-9a-f]+ of st2 is not past go: dropping it' &&
	    stopped_log b 'destroyed the half-built st2' || return 1
	[ "$(guest_state a st2)" = running ] || return 1
	start_relocd b
	# Nothing for the restarted b to clean up: the stop left nothing.
	sleep 0.5
	! grep -qE 'half-built guest st2|guest st2 .* no longer running' \
	    "$WORK/b/log" &&
	    [ "$(running_on st2 a b)" = a ] && [ "$(guest_state b st2)" = absent ]
}
check "SIGTERM to the destination mid-stream: st2 runs on the source only, b keeps nothing" dest_stop

# Past go the destination owns the guest: a stop finishes the
# activation (held up 3 s here) before exiting, and refuses new work
# meanwhile.
dest_past_go() {
	restart a
	RELOCD_FAULT=destination-worker-after-go=3000 restart b
	ctl a sim-create --memory 64M --dirty-rate 5M st4 >/dev/null || return 1
	ctl a migrate -l st4 "$B" >"$WORK/out" 2>&1 &
	MIG=$!
	wait_log b 'fault point destination-worker-after-go' 20 || return 1
	kill -TERM "$(cat "$WORK/b/pid")"
	sleep 0.3
	! ctl b sim-create --memory 32M st9 2>"$WORK/err" &&
	    grep -q 'relocd is stopping' "$WORK/err" ||
	    { echo "b took new work while stopping:" >&2; cat "$WORK/err" >&2; return 1; }
	stopped_within b $STOP_BOUND_S || return 1
	wait $MIG || { cat "$WORK/out" >&2; return 1; }
	stopped_log b 'st4 is running here' || return 1
	restart b
	[ "$(running_on st4 a b)" = b ] && [ "$(guest_state a st4)" = absent ]
}
check "SIGTERM to the destination after go: st4 activated on b, new work refused" dest_past_go

source_past_go() {
	restart b
	RELOCD_FAULT=source-net-after-go=3000 restart a
	ctl a sim-create --memory 64M --dirty-rate 5M st5 >/dev/null || return 1
	ctl a migrate -l st5 "$B" >"$WORK/out" 2>&1 &
	MIG=$!
	wait_log a 'fault point source-net-after-go' 20 || return 1
	stop_within a $STOP_BOUND_S || return 1
	wait $MIG || { cat "$WORK/out" >&2; return 1; }
	stopped_log a 'st5 now runs on the destination' || return 1
	restart a
	[ "$(running_on st5 a b)" = b ] && [ "$(guest_state a st5)" = absent ]
}
check "SIGTERM to the source after go: st5 finishes and runs on b only" source_past_go

# A second SIGTERM does not wait: b exits at once even with a job past
# go held up for 60 s.  The guest is then in doubt, never running twice.
second_term() {
	local pid
	restart a
	RELOCD_FAULT=destination-worker-after-go=60000 restart b
	ctl a sim-create --memory 64M --dirty-rate 5M st6 >/dev/null || return 1
	ctl a migrate -l st6 "$B" >"$WORK/out" 2>&1 &
	MIG=$!
	wait_log b 'fault point destination-worker-after-go' 20 || return 1
	pid=$(cat "$WORK/b/pid")
	kill -TERM "$pid"
	sleep 0.5
	stop_within b 3 || return 1
	stopped_log b 'second SIGTERM' || return 1
	kill "$MIG" 2>/dev/null
	[ "$(running_on st6 a)" != a ] || [ "$(guest_state a st6)" = suspended ]
}
check "a second SIGTERM ends the stop at once; st6 never runs twice" second_term

exit $CASES_FAILED
