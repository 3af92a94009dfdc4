#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The fault-injection matrix, the rest: the link between the hosts cut
# (reset) or gone silent at each phase, one byte of the stream corrupted
# (TLS must notice), a refused reservation, a full disk during a save to
# a file, and the source's whole relocd killed mid-save.  The link runs
# through tests/regress/proxy.py, so that none of this needs root;
# faults-lib says what every case checks.
. "$TOP/tests/regress/lib"
. "$TOP/tests/regress/faults-lib"

PROXY="python3 $TOP/tests/regress/proxy.py"
# b is small, for the refused reservation (L07).
B_MEMORY=64M

point b destination-worker-after-reserve l01
point a source-worker-precopy-early l02
point a source-worker-suspended l03
point a source-net-after-go l04
point a source-worker-precopy-start l05
point a source-worker-suspended l09
setup

# proxy_start [--corrupt N]: a fresh proxy to b; its port in PP.
proxy_start() {
	local i
	PP=$(free_port)
	$PROXY --listen "$PP" --target "$PB" "$@" >"$WORK/proxy.log" 2>&1 &
	PROXY_PID=$!
	for i in $(seq 1 100); do
		grep -q '^ready' "$WORK/proxy.log" && return 0
		sleep 0.05
	done
	return 1
}

proxy_stop() {
	kill "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	cat "$WORK/proxy.log" >>"$WORK/$1.why"
}

# link_case ID PHASE SIDE POINT SIGNAL WHERE RC HOW [HEAL-AFTER]
#   Through the proxy: at POINT, send the proxy SIGNAL (USR1 cut, WINCH
#   silence); heal it HEAL-AFTER seconds later if given.
link_case() {
	local id=$1 phase=$2 side=$3 pt=$4 sig=$5 where=$6 rc=$7 how=$8
	local heal=${9:-} g fault
	wanted "$id" || return 0
	g=$(echo "$id" | tr 'A-Z' 'a-z')
	case $sig in
	USR1) fault="$phase: link cut (reset)";;
	WINCH) fault="$phase: link silent (blackhole)";;
	esac
	[ -n "$heal" ] && fault="$fault, healed"
	: >"$WORK/$g.why"
	if ! proxy_start || ! migrate_bg "$g" "127.0.0.1:$PP"; then
		verify "$id" "$fault" "$g" "$where" "$how"
		return
	fi
	if at "$side" "$pt" "$g"; then
		kill -"$sig" "$PROXY_PID"
		[ -n "$heal" ] && { sleep "$heal"; kill -USR2 "$PROXY_PID"; }
	fi
	wait_mig
	proxy_stop "$g"
	if [ "$MIGRC" != "$rc" ]; then
		case_fail "$id $fault: relocctl migrate exited $MIGRC, want $rc"
		ROWS+=("$(printf '%-4s %-46s FAILED: exit %s' "$id" "$fault" "$MIGRC")")
		cat "$WORK/$g.out" "$WORK/$g.why" | sed 's/^/    /'
		ctl a sim-destroy "$g" >/dev/null 2>&1
		ctl b sim-destroy "$g" >/dev/null 2>&1
		return
	fi
	verify "$id" "$fault" "$g" "$where" "$how"
}

link_case L01 reserve b destination-worker-after-reserve USR1 a 1 \
    "both ends see the reset; runs on at a"
link_case L02 "early pre-copy" a source-worker-precopy-early USR1 a 1 \
    "the stream fails; a resumes, b discards"
link_case L03 stop-and-copy a source-worker-suspended USR1 a 1 \
    "the stream fails; a resumes, b discards"
link_case L04 "after go" a source-net-after-go USR1 b 0 \
    "b runs it; a asks until the link is back" 3
link_case L05 "pre-copy" a source-worker-precopy-start WINCH a 1 \
    "idle deadlines on both ends; a resumes"

# L06: one bit flipped 3 MB into the stream, inside a TLS record.
corrupt() {
	proxy_start --corrupt 3000000 && migrate_bg l06 "127.0.0.1:$PP" ||
	    return 1
	wait_mig
	proxy_stop l06
	[ "$MIGRC" -eq 1 ] && grep -q 'corrupted byte' "$WORK/proxy.log" &&
	    wait_log b 'peer 127.0.0.1: TLS error: decryption failed or bad record mac' 5
}
if wanted L06; then
	if corrupt >>"$WORK/l06.why" 2>&1; then
		verify L06 "one byte of the stream corrupted" l06 a \
		    "TLS refuses the record; a resumes, b discards"
	else
		case_fail "L06 one byte of the stream corrupted: not detected"
		ROWS+=("$(printf '%-4s %-46s FAILED' L06 "one byte corrupted")")
		cat "$WORK/l06.out" "$WORK/l06.why" | sed 's/^/    /'
		ctl a sim-destroy l06 >/dev/null 2>&1
	fi
fi

# L07: b has 64 MiB; a 96 MiB guest is refused at reserve.
refused() {
	ctl a sim-create --memory 96M --dirty-rate 4M l07 >/dev/null &&
	    ! ctl a migrate -l l07 "$B" >"$WORK/l07.out" 2>&1 &&
	    grep -q 'not enough free memory' "$WORK/l07.out"
}
if wanted L07; then
	if refused >"$WORK/l07.why" 2>&1; then
		SERVE_FRESH=1 verify L07 "reservation refused (memory)" l07 a \
		    "refused before a is touched; runs on"
	else
		case_fail "L07 reservation refused: not as expected"
		cat "$WORK/l07.out" | sed 's/^/    /'
		ctl a sim-destroy l07 >/dev/null 2>&1
	fi
fi

# L08: "relocctl save" to a 1 MiB tmpfs, mounted in a private mount
# namespace (unshare -m as root, a user namespace otherwise) so that no
# mount outlives the test: the worker's writes fail with ENOSPC, as on a
# full disk, and the guest runs on.  A file size limit would not do:
# the root worker writes the file, not relocctl.
full_disk() {
	local us=$1 dir=$WORK/small
	mkdir -p "$dir"
	ctl a sim-create --memory 16M --dirty-rate 4M l08 >/dev/null || return 1
	# shellcheck disable=SC2086
	$us sh -c "mount -t tmpfs -o size=1m tmpfs '$dir' &&
	    exec '$RELOCCTL' -f '$WORK/a/xend-config.sxp' save l08 '$dir/l08'" \
	    >"$WORK/l08.out" 2>&1
	[ $? -eq 1 ] && grep -q 'No space left on device' "$WORK/l08.out" &&
	    [ "$(guest_state a l08)" = running ] && [ ! -e "$dir/l08" ]
}
if wanted L08; then
	us="unshare -m"
	[ "$(id -u)" -eq 0 ] || us="unshare -rm"
	if ! $us true 2>/dev/null; then
		skipped L08 "disk full during save" "'$us' is not allowed here"
	elif full_disk "$us" >"$WORK/l08.why" 2>&1; then
		verify L08 "disk full during save to a file" l08 a \
		    "the save fails (ENOSPC); the guest runs on"
	else
		case_fail "L08 disk full during save: not as expected"
		cat "$WORK/l08.out" "$WORK/l08.why" | sed 's/^/    /'
		ctl a sim-destroy l08 >/dev/null 2>&1
	fi
fi

# L09: the source's whole relocd dies in stop-and-copy, leaving its
# guest suspended; the restarted relocd resumes it, since it carries
# no record of a commit.
kill_case L09 "stop-and-copy" a source-worker-suspended all a a - \
    "restart resumes it (no commit record)"

table "Fault matrix, link and resources (guest on a, migrating to b):"
exit $((CASES_FAILED > 0))
