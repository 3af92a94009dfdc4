#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Live migration on the sim backend, between two relocd instances on
# loopback (DESIGN section 5).  Every case checks that exactly one copy
# of the guest runs afterwards, where it should, and that the destination
# verified the memory digest whenever the guest moved.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
# b has 512 MiB of simulated host memory, for the memory refusal.
RELOCD_SIM_HOST_MEMORY=$((512 << 20)) start_relocd b
A=127.0.0.1:$PA
digests() { grep -c 'digest verified' "$WORK/$1/log"; }

live() {
	local d
	d=$(digests b)
	ctl a sim-create --memory 128M --dirty-rate 50M --working-set 16M \
	    --pattern hot g1 >/dev/null || return 1
	sleep 0.5
	ctl a migrate --live g1 "$B" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	grep -q 'g1: migrated in' "$WORK/out" &&
	    [ "$(digests b)" -eq $((d + 1)) ] &&
	    [ "$(running_on g1 a b)" = b ] && [ "$(guest_state a g1)" = absent ]
}
check "live migration of a dirtying guest: digest verified, runs on b only" live

back() {
	ctl b migrate -l g1 "$A" >/dev/null && [ "$(running_on g1 a b)" = a ]
}
check "and back again" back

offline() {
	local d
	d=$(digests b)
	ctl a migrate g1 "$B" >/dev/null && [ "$(running_on g1 a b)" = b ] &&
	    [ "$(digests b)" -eq $((d + 1)) ]
}
check "offline migration (no -l)" offline

saverestore() {
	ctl b save g1 "$WORK/g1.save" >/dev/null &&
	    [ "$(guest_state b g1)" = absent ] && [ -s "$WORK/g1.save" ] &&
	    ctl b restore "$WORK/g1.save" >/dev/null &&
	    [ "$(guest_state b g1)" = running ]
}
check "save to a file and restore" saverestore
overwrite() {
	! ctl b save g1 "$WORK/g1.save" 2>"$WORK/err" &&
	    grep -q 'remove it or choose another name' "$WORK/err" &&
	    [ "$(guest_state b g1)" = running ]
}
check "save refuses to overwrite a file; the guest runs on" overwrite

clash() {
	ctl a sim-create --memory 64M g1 >/dev/null || return 1
	! ctl a migrate -l g1 "$B" 2>"$WORK/err" &&
	    { grep -q "a guest with that name or uuid exists" "$WORK/err" ||
	    { cat "$WORK/err"; tail -25 "$WORK/a/log"; false; }; } &&
	    { [ "$(running_on g1 a b)" = "a b" ] ||
	    { ctl a list; ctl b list; cat "$WORK/err"; tail -25 "$WORK/a/log"; false; }; }
}
check "a name clash is refused at reserve; both copies untouched" clash
ctl a sim-destroy g1 >/dev/null

memory() {
	ctl a sim-create --memory 1G big >/dev/null || return 1
	! ctl a migrate -l big "$B" 2>"$WORK/err" &&
	    grep -q 'not enough free memory' "$WORK/err" &&
	    [ "$(running_on big a b)" = a ]
}
check "too little memory is refused at reserve; the source runs on" memory
ctl a sim-destroy big >/dev/null

busy() {
	ctl a sim-create --memory 128M --dirty-rate 100M busy1 >/dev/null || return 1
	sleep 0.3
	! ctl a migrate -l --bandwidth 80 --abort-if-busy busy1 "$B" 2>"$WORK/err" &&
	    { grep -qE 'cannot be met \(.+\): smallest pause [0-9]+ ms; aborting, the guest stays on the source' \
	    "$WORK/err" || { cat "$WORK/err"; false; }; } &&
	    { head -1 "$WORK/err" | grep -qE '^relocctl: the [0-9]+ ms downtime target cannot be met: .* about [0-9]+ ms; aborting' ||
	    { cat "$WORK/err"; false; }; } &&
	    [ "$(running_on busy1 a b)" = a ] &&
	    wait_log b 'destroyed the half-built busy1'
}
# b removes its half-built copy after a has reported the abort: wait for
# it, or the next case's reserve may meet the migration still ending there.
check "abort-if-busy, guest dirtying faster than the link: source runs on, destination cleans up" busy

throttle() {
	ctl a migrate -l --bandwidth 400 --throttle --max-downtime 200 busy1 "$B" \
	    >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	{ [ "$(running_on busy1 a b)" = b ] && grep -q throttl "$WORK/a/log"; } ||
	    { cat "$WORK/out"; grep -E "busy1|throttl" "$WORK/a/log" | tail -8; false; }
}
check "throttle makes a busy guest converge" throttle
ctl b sim-destroy busy1 >/dev/null

cancel() {
	local id
	ctl a sim-create --memory 256M --dirty-rate 10M slow1 >/dev/null || return 1
	ctl a migrate -l --bandwidth 40 slow1 "$B" >"$WORK/out" 2>&1 &
	id=$(wait_job a streaming)
	[ -n "$id" ] && ctl a cancel "$id" || { ctl a status; return 1; }
	wait $! && return 1
	grep -q cancelled "$WORK/out" && [ "$(running_on slow1 a b)" = a ] &&
	    wait_log b 'destroyed the half-built slow1'
}
check "cancel during pre-copy resumes the source, destination cleans up" cancel

kill_dest() {
	ctl a migrate -l --bandwidth 40 slow1 "$B" >"$WORK/out" 2>&1 &
	[ -n "$(wait_job a streaming)" ] || return 1
	sleep 0.5
	kill_relocd b
	wait $! && return 1
	[ "$(running_on slow1 a)" = a ] && cat "$WORK/out"
}
check "killing the destination's relocd mid-stream: the source runs on" kill_dest
# A restarted b removes the half-built guest its death left behind: the
# worker removes it if the guest process outlived relocd; the census
# removes its files if the guest process died with it.
rm -f "$WORK/b/relocd.sock"
start_relocd b
cleaned() {
	wait_log b 'removed the half-built guest slow1|guest slow1 \(.*\) is no longer running; removing it' &&
	    [ "$(guest_state b slow1)" = absent ]
}
check "a restarted destination removes the half-built guest" cleaned

# Source relocd killed right after it sent "go": the destination owns the
# guest and runs it; the source's copy stays suspended, never running.
PC=$(free_port)
make_host_cert c
write_conf c "$PC"
RELOCD_FAULT=source-net-after-go=4000 start_relocd c
kill_after_go() {
	ctl c sim-create --memory 64M --dirty-rate 5M g2 >/dev/null || return 1
	ctl c migrate -l g2 "$B" >/dev/null 2>&1 &
	wait_log c 'fault point source-net-after-go' 20 || return 1
	kill_relocd c
	rm -f "$WORK/c/relocd.sock"
	start_relocd c
	wait_log b 'g2 is running here' 10 &&
	    [ "$(running_on g2 b c)" = b ] &&
	    [ "$(guest_state c g2)" = suspended ] &&
	    wait_log c 'guest g2 is suspended: an outgoing migration'
}
check "killing the source's relocd after go: the guest runs on b only" kill_after_go

# Only the source's network child dies after go: the parent asks b where
# the migration stands, learns "activated", and frees its own copy.
ask_after_go() {
	local net
	ctl c sim-destroy g2 >/dev/null
	ctl b sim-destroy g2 >/dev/null
	kill_relocd c
	rm -f "$WORK/c/relocd.sock"
	RELOCD_FAULT=source-net-after-go=4000 start_relocd c
	ctl c sim-create --memory 64M --dirty-rate 5M g3 >/dev/null || return 1
	ctl c migrate -l g3 "$B" >"$WORK/out" 2>&1 &
	wait_count c 'fault point source-net-after-go' 1 || sleep 10
	net=$(pgrep -P "$(cat "$WORK/c/pid")" -f "relocd -N" | head -n 1)
	[ -n "$net" ] && kill -KILL "$net"
	wait $! || { cat "$WORK/out"; return 1; }
	wait_log c 'the destination says: (activated|go)' &&
	    [ "$(running_on g3 b c)" = b ] && [ "$(guest_state c g3)" = absent ]
}
check "a source that loses its connection after go asks, and frees its copy" ask_after_go

# While a streams slow1 to b, c asks b to take another guest of the same
# name: b refuses at reserve, logs the refusal under c's migration id,
# and neither migration is harmed.
clash_in_flight() {
	local id cid
	ctl a migrate -l --bandwidth 40 slow1 "$B" >"$WORK/out" 2>&1 &
	id=$(wait_job a streaming)
	[ -n "$id" ] || { ctl a status; return 1; }
	ctl c sim-create --memory 64M slow1 >/dev/null || return 1
	! ctl c migrate -l --json slow1 "$B" >"$WORK/out2" 2>&1 || return 1
	cid=$(sed -n 's/.*"type":"started","id":"\([0-9a-f]*\)".*/\1/p' \
	    "$WORK/out2")
	ctl a cancel "$id" >/dev/null
	wait $!
	grep -q 'already running here' "$WORK/out2" && [ -n "$cid" ] &&
	    grep -q "migration $cid: refused: a migration of that guest is already running here" \
	    "$WORK/b/log" &&
	    [ "$(guest_state c slow1)" = running ] &&
	    [ "$(running_on slow1 a b)" = a ] ||
	    { cat "$WORK/out2"; grep slow1 "$WORK/b/log" | tail -5; false; }
}
check "a second migration of a guest being received is refused and logged by id" clash_in_flight
check "no stray relocd processes" no_stray_children

exit $CASES_FAILED
