#!/bin/bash
# SPDX-License-Identifier: ISC
#
# No process that reads a peer's bytes holds the host's private key
# (issue 19, finding 7).  While a destination's network child serves an
# unauthenticated connection, while a source's network child carries a
# migration, and while relocd-xl carries xl's stream, keyscan.py looks
# for the key's private scalar (either byte order) in all of that
# process's memory and must not find it; it must find it in the key
# process, which shows the scan can.  And the network child is exec'd
# with a fresh address space, not forked: a stranger's child on a host
# with a migration under way runs "relocd -N" and does not hold the
# migrating guest's name, which that host's parent holds in its job
# table (the scan finds it there).  Needs root (/proc/PID/mem of a
# process that is not dumpable).  Every wait is bounded.
. "$TOP/tests/regress/lib"

[ "$(id -u)" -eq 0 ] || skip "needs root to read other processes' memory"

HANDSHAKE_S=30
two_hosts
start_relocd a
start_relocd b
KEYSCAN="python3 $TOP/tests/regress/keyscan.py"
HOLDERS=()
trap 'kill "${HOLDERS[@]}" 2>/dev/null; cleanup' EXIT

# role PID: what one of relocd's processes is, by its exec'd arguments.
role() {
	local argv
	argv=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	case "$argv" in
	*" -K"*) echo key ;;
	*" -W"*) echo worker ;;
	*" -N"*) echo net ;;
	*) echo forked ;;
	esac
}

# child NAME ROLE: the first child of relocd NAME in ROLE (5 s at most).
child() {
	local i pid
	for i in $(seq 1 100); do
		for pid in $(pgrep -P "$(cat "$WORK/$1/pid")"); do
			[ "$(role "$pid")" = "$2" ] && { echo "$pid"; return 0; }
		done
		sleep 0.05
	done
	return 1
}

# lacks_key NAME PID: PID does not hold NAME's private key.
lacks_key() {
	local out
	out=$($KEYSCAN "$WORK/pki/$1.key" "$2")
	echo "process $2 ($3): key $out"
	[ "$out" = absent ]
}

holds_key() {
	local out
	out=$($KEYSCAN "$WORK/pki/$1.key" "$2")
	echo "process $2 ($3): key $out"
	[ "$out" = found ]
}

# --- the destination: a stranger's connection, before any certificate
# The first bytes of a ClientHello, then silence: the child waits in the
# handshake, having read what the stranger sent.
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
time.sleep(20)
' "$PB" &
HOLDERS+=($!)

server_side() {
	local pid
	pid=$(child b net) || { echo "no network child on b"; return 1; }
	lacks_key b "$pid" "b's network child, unauthenticated peer"
}
check "a destination's network child serving a stranger lacks the key" server_side
check "b's parent lacks the key" lacks_key b "$(cat "$WORK/b/pid")" "b's parent"
key_process() {
	local pid
	pid=$(child b key) || { echo "no key process on b"; return 1; }
	holds_key b "$pid" "b's key process"
}
check "b's key process holds the key (the scan finds it there)" key_process
kill "${HOLDERS[@]}" 2>/dev/null

# --- the source: its network child, mid-migration ---------------------
# 64 MiB at 40 Mbit/s: more than ten seconds of stream to look during.
# The guest's name is the marker of the fresh-address-space check below.
GUEST=kg-only-in-parents-7c1e9a40
MPID=
client_side() {
	local pid
	ctl a sim-create --memory 64M --dirty-rate 1M "$GUEST" >/dev/null ||
	    return 1
	timeout 300 "$RELOCCTL" -f "$WORK/a/xend-config.sxp" migrate -l \
	    -r 40 "$GUEST" "$B" >"$WORK/kg.out" 2>&1 &
	MPID=$!
	wait_log b "peer 127\\.0\\.0\\.1: reserved $GUEST" 20 || return 1
	pid=$(child a net) || { echo "no network child on a"; return 1; }
	lacks_key a "$pid" "a's network child, mid-migration"
}
check "a source's network child carrying a migration lacks the key" client_side

# lacks_text TEXT PID WHAT / holds_text: PID's memory has no TEXT / has it.
lacks_text() {
	local out
	out=$($KEYSCAN --text "$1" "$2")
	echo "process $2 ($3): \"$1\" $out"
	[ "$out" = absent ]
}

holds_text() {
	local out
	out=$($KEYSCAN --text "$1" "$2")
	echo "process $2 ($3): \"$1\" $out"
	[ "$out" = found ]
}

# While b's parent tracks the incoming guest, a stranger connects to b:
# its network child is the one b did not have before.
fresh_space() {
	local before pid i c rc=0 stranger
	before=" $(pgrep -P "$(cat "$WORK/b/pid")" | tr '\n' ' ') "
	python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
time.sleep(20)
' "$PB" &
	stranger=$!
	HOLDERS+=($stranger)
	pid=
	for i in $(seq 1 100); do
		for c in $(pgrep -P "$(cat "$WORK/b/pid")"); do
			case "$before" in *" $c "*) continue ;; esac
			pid=$c
		done
		[ -n "$pid" ] && break
		sleep 0.05
	done
	[ -n "$pid" ] || { echo "no new child on b"; return 1; }
	echo "process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline"), exe" \
	    "$(readlink "/proc/$pid/exe")"
	[ "$(role "$pid")" = net ] ||
	    { echo "b's new child does not run relocd -N"; rc=1; }
	holds_text "$GUEST" "$(cat "$WORK/b/pid")" "b's parent" || rc=1
	lacks_text "$GUEST" "$pid" "b's network child, unauthenticated peer" ||
	    rc=1
	kill "$stranger" 2>/dev/null
	return $rc
}
check "a stranger's network child is exec'd, without the parent's memory" \
    fresh_space

migration_done() {
	[ -n "$MPID" ] && wait "$MPID" || { cat "$WORK/kg.out"; return 1; }
}
check "the migration completes" migration_done

# --- relocd-xl: the process that does TLS, while it carries a stream --
xl_side() {
	local pid i rc
	write_conf x "$PB"
	sed -i "s|(relocd-sim-dir [^)]*)|&\n(relocd-xl-command $TOP/tests/regress/fake-xl)|" \
	    "$WORK/b/xend-config.sxp"
	kill -HUP "$(cat "$WORK/b/pid")"
	wait_log b "configuration reloaded" 10 || return 1
	sed -i "s|$WORK/pki/x|$WORK/pki/a|" "$WORK/x/xend-config.sxp"
	# xl's side of the pipe stays open and silent: relocd-xl waits.
	sleep 20 | "$TOP/$O/relocd-xl" -f "$WORK/x/xend-config.sxp" \
	    "127.0.0.1:$PB" xl migrate-receive >"$WORK/xl.out" 2>"$WORK/xl.err" &
	pid=$!
	HOLDERS+=($(jobs -p | tail -n 1))
	for i in $(seq 1 100); do
		grep -q "receiver ready" "$WORK/xl.out" && break
		sleep 0.05
	done
	grep -q "receiver ready" "$WORK/xl.out" ||
	    { cat "$WORK/xl.err"; return 1; }
	lacks_key a "$pid" "relocd-xl, mid-transfer"
	rc=$?
	for i in $(pgrep -P "$pid"); do
		holds_key a "$i" "relocd-xl's key process" || rc=1
	done
	[ -n "$(pgrep -P "$pid")" ] || { echo "relocd-xl has no key process"; rc=1; }
	return $rc
}
check "relocd-xl lacks the key while it carries xl's stream" xl_side
kill "${HOLDERS[@]}" 2>/dev/null

check "relocd a still serves" relocd_alive a
check "relocd b still serves" relocd_alive b
exit $((CASES_FAILED > 0))
