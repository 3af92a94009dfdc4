#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Under systemd, a worker that brings a guest here runs in a
# relocd-receive@TOKEN.service that systemd starts, not as relocd's
# child, and gets its descriptors from relocd's parent over SCM_RIGHTS
# (parent_unit.c, handoff.c).  No systemd runs here: RELOCD_RECEIVE_UNIT_CMD
# stands in for the D-Bus StartUnit with a script that starts
# "relocd -R TOKEN" detached (setsid), as systemd would, outside b's
# process tree.  Every worker that may create or destroy a guest's
# devices (receive, restore, send, save) must work through it and be the
# stand-in's process; other workers (sim-create) must not.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
cat >"$WORK/unit-start" <<EOS
#!/bin/bash
setsid "$RELOCD" -R "\$1" -v -f "$WORK/b/xend-config.sxp" \
    >>"$WORK/b/unit.log" 2>&1 </dev/null &
echo \$! >>"$WORK/b/unit.pids"
EOS
chmod 0755 "$WORK/unit-start"
: >"$WORK/b/unit.pids"
echo "(relocd-xl-command $TOP/tests/regress/fake-xl)" >>"$WORK/b/xend-config.sxp"
RELOCD_RECEIVE_UNIT_CMD=$WORK/unit-start start_relocd b
units() { wc -l <"$WORK/b/unit.pids"; }

# in_unit N: the Nth worker the stand-in started is the one b adopted.
in_unit() {
	local pid
	pid=$(sed -n "${1}p" "$WORK/b/unit.pids")
	[ -n "$pid" ] && wait_log b "worker $pid runs in its unit"
}

migrate_in() {
	ctl a sim-create --memory 64M --dirty-rate 5M u1 >/dev/null || return 1
	ctl a migrate -l u1 "$B" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	[ "$(units)" -eq 1 ] && in_unit 1 &&
	    grep -q 'worker: migration [0-9a-f]*: u1 is running here' \
	    "$WORK/b/unit.log" &&
	    [ "$(running_on u1 a b)" = b ] ||
	    { cat "$WORK/b/unit.log"; false; }
}
check "a received guest's worker runs in the unit, with the handed-over stream" migrate_in

# A save ends with the guest destroyed: on xen, libxl runs the hotplug
# scripts (block's losetup -d), which relocd's own unit may not.
local_ops() {
	ctl b sim-create --memory 32M u2 >/dev/null &&
	    [ "$(units)" -eq 1 ] &&
	    ctl b save u2 "$WORK/u2.save" >/dev/null &&
	    [ "$(units)" -eq 2 ] && in_unit 2
}
check "creating starts no unit, saving runs in one" local_ops

restore_in() {
	ctl b restore "$WORK/u2.save" >/dev/null &&
	    [ "$(units)" -eq 3 ] && in_unit 3 &&
	    [ "$(guest_state b u2)" = running ]
}
check "a restore's worker runs in a unit too" restore_in

# A pre-flight is a send that stops at the reservation: no device, no
# unit (evacuate asks one per guest and peer).
check_out() {
	ctl b check u2 "127.0.0.1:$PA" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	[ "$(units)" -eq 3 ] || { echo "units started: $(units), not 3"; return 1; }
}
check "a pre-flight (relocctl check) runs as relocd's child, in no unit" check_out

# The source destroys its copy after the commit: devices again.
send_out() {
	ctl b migrate -l u2 "127.0.0.1:$PA" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	[ "$(units)" -eq 4 ] && in_unit 4 &&
	    [ "$(running_on u2 a b)" = a ]
}
check "a send's worker runs in a unit, and the guest moves" send_out

# xl migrate -s relocd-xl: fake-xl plays xl migrate-receive, in the unit.
xl_in() {
	python3 "$TOP/tests/regress/xlsend.py" --size $((1 << 20)) \
	    --back 100000 -- "$TOP/$O/relocd-xl" -f "$WORK/a/xend-config.sxp" \
	    "127.0.0.1:$PB" xl migrate-receive >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	[ "$(units)" -eq 5 ] && in_unit 5 &&
	    grep -q 'xl: fake-xl: received 1048576 bytes' "$WORK/b/unit.log"
}
check "an xl-receive for relocd-xl runs in a unit, xl's output in its log" xl_in

# SIGTERM to b while its unit worker receives: the source resumes, the
# worker in the unit discards what it built and exits, as would a child.
stop_mid_stream() {
	local pid i
	ctl a sim-create --memory 256M --dirty-rate 10M u3 >/dev/null || return 1
	ctl a migrate -l --bandwidth 10 u3 "$B" >"$WORK/out" 2>&1 &
	[ -n "$(wait_job a streaming)" ] || return 1
	pid=$(sed -n 6p "$WORK/b/unit.pids")
	[ -n "$pid" ] && kill -0 "$pid" || return 1
	kill -TERM "$(cat "$WORK/b/pid")"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { echo "worker $pid runs on" >&2; return 1; }
	wait $! && return 1
	[ "$(guest_state a u3)" = running ] &&
	    grep -q 'destroyed the half-built u3' "$WORK/b/unit.log"
}
check "SIGTERM to b mid-stream: the unit's worker discards, u3 runs on a" stop_mid_stream
gone() { [ ! -e "$WORK/b/receive.sock" ]; }
check "a stopped relocd leaves no receive.sock" gone

# RELOCD_RECEIVE_UNITS=no: the administrator's switch back to children.
switched_off() {
	local n
	kill_relocd b
	rm -f "$WORK/b/relocd.sock"
	RELOCD_RECEIVE_UNITS=no RELOCD_RECEIVE_UNIT_CMD=$WORK/unit-start \
	    start_relocd b
	n=$(units)
	ctl a sim-create --memory 32M u4 >/dev/null &&
	    ctl a migrate -l u4 "$B" >/dev/null &&
	    [ "$(running_on u4 a b)" = b ] && [ "$(units)" -eq "$n" ] &&
	    [ ! -e "$WORK/b/receive.sock" ] &&
	    grep -q 'receiving workers stay in relocd.s unit (RELOCD_RECEIVE_UNITS=no)' \
	    "$WORK/b/log"
}
check "RELOCD_RECEIVE_UNITS=no keeps receiving workers as children" switched_off
[ $CASES_FAILED -eq 0 ] || { sed "s/^/  b: /" "$WORK/b/log" | grep -E "parent: (relocd started|receiv)"; }
exit $CASES_FAILED
