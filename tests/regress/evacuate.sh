#!/bin/bash
# SPDX-License-Identifier: ISC
#
# relocctl evacuate (issue 22): every guest on a migrates live to b and
# c, --parallel at a time, each to the peer with the most memory left
# for it (b can give 320 MiB and c 256 MiB, so four 64 MiB guests go
# three to b and one to c: not two and two, not all to the first).
# Each guest then runs exactly once, its digest verified, a is empty
# and the exit status is 0.  A guest that fits nowhere and one that
# Pacemaker's agent marks as its own stay on a, each with its reason,
# and the status is 1.  SIGINT cancels what is in flight and starts
# nothing new: every guest runs once.  A peer of the previous release
# (protocol 1) cannot say what it can give, and evacuate says so.
# The two runs' times (indicative) are printed at the end, with uptime.
. "$TOP/tests/regress/lib"

two_hosts
make_host_cert c
PC=$(free_port)
write_conf c "$PC"
C=127.0.0.1:$PC
# Slow streams for the cancel case only, by guest name.
RELOCD_FAULT="destination-net-data@slow1=40,destination-net-data@slow2=40" \
    start_relocd a
RELOCD_SIM_HOST_MEMORY=$((320 << 20)) \
RELOCD_FAULT="destination-net-data@slow1=40,destination-net-data@slow2=40" \
    start_relocd b
RELOCD_SIM_HOST_MEMORY=$((256 << 20)) \
RELOCD_FAULT="destination-net-data@slow1=40,destination-net-data@slow2=40" \
    start_relocd c
export HA_RSCTMP=$WORK/rsctmp
mkdir -p "$HA_RSCTMP"

digests() { grep -c 'digest verified' "$WORK/$1/log"; }
on() { running_on "$1" a b c; }
count_on() {
	ctl "$1" list 2>/dev/null | awk 'NR > 1 && $5 == "running"' | wc -l
}


# evacuate_four TAG N: four guests off a with --parallel N.
evacuate_four() {
	local tag=$1 n=$2 db dc g t0 t1 rc
	hot_guests "${tag}1" "${tag}2" "${tag}3" "${tag}4" || return 1
	db=$(digests b) dc=$(digests c)
	t0=$(date +%s.%N)
	ctl a evacuate --to "$B" --to "$C" --parallel "$n" >"$WORK/out" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	echo "parallel $n: $(echo "$t1 - $t0" | bc) s, load: $(uptime)" \
	    >>"$WORK/figures"
	[ "$rc" -eq 0 ] || { cat "$WORK/out"; return 1; }
	grep -q 'this host is empty' "$WORK/out" || { cat "$WORK/out"; return 1; }
	for g in "${tag}1" "${tag}2" "${tag}3" "${tag}4"; do
		case $(on "$g") in
		b|c) ;;
		*) echo "$g runs on '$(on "$g")'"; return 1 ;;
		esac
	done
	[ "$(count_on a)" -eq 0 ] &&
	    [ $(( $(digests b) - db + $(digests c) - dc )) -eq 4 ] &&
	    [ "$(count_on b)" -eq 3 ] && [ "$(count_on c)" -eq 1 ] ||
	    { cat "$WORK/out"; ctl b list; ctl c list; return 1; }
}

clear_peers() {
	local h g
	for h in b c; do
		for g in $(ctl "$h" list | awk 'NR > 1 { print $1 }'); do
			ctl "$h" sim-destroy "$g" >/dev/null || return 1
		done
	done
}

check "evacuate --parallel 1: four guests spread by capacity, a empty" \
    evacuate_four p 1
clear_peers || die "clearing b and c"
check "evacuate --parallel 2: four guests spread by capacity, a empty" \
    evacuate_four q 2
clear_peers || die "clearing b and c"

stays() {
	local rc
	hot_guests ok1 pm1 || return 1
	ctl a sim-create --memory 1G big >/dev/null || return 1
	touch "$HA_RSCTMP/relocd-guest-pm1.managed"
	ctl a evacuate --to "$B" --to "$C" >"$WORK/out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] && [ "$(on ok1)" != a ] && [ -n "$(on ok1)" ] &&
	    [ "$(on big)" = a ] && [ "$(on pm1)" = a ] &&
	    grep -q 'big .*stays here: .*needs 1024 MiB' "$WORK/out" &&
	    grep -q "pm1 .*stays here: Pacemaker manages it.*crm node standby" \
	    "$WORK/out" && grep -q '2 guests remain here' "$WORK/out" ||
	    { echo "exit $rc"; cat "$WORK/out"; return 1; }
}
check "a guest that fits nowhere and a Pacemaker guest stay, with reasons" \
    stays

json() {
	# ok2 passes both peers' pre-flight: both say what they can give.
	hot_guests ok2 || return 1
	ctl a evacuate --json --to "$B" --to "$C" >"$WORK/out" 2>"$WORK/err"
	[ $? -eq 1 ] && [ "$(wc -l <"$WORK/out")" -eq 1 ] &&
	    jq -e '.type == "evacuate" and .ok == false and .left == 2 and
	    ([.guests[] | select(.guest == "pm1" and .result == "stayed" and
	    (.text | test("crm node standby")))] | length == 1) and
	    ([.peers[] | select(.protocol >= 5 and .available > 0)] |
	    length == 2)' "$WORK/out" >/dev/null ||
	    { cat "$WORK/out" "$WORK/err"; return 1; }
}
command -v jq >/dev/null && check "--json: one summary object" json
rm -f "$HA_RSCTMP/relocd-guest-pm1.managed"
ctl a sim-destroy big >/dev/null
ctl a sim-destroy pm1 >/dev/null
clear_peers || die "clearing b and c"

cancel() {
	local pid i rc g
	hot_guests slow1 slow2 || return 1
	# relocctl itself, not a shell around it, gets the signal.
	"$RELOCCTL" -f "$WORK/a/xend-config.sxp" evacuate --parallel 1 \
	    --to "$B" --to "$C" >"$WORK/out" 2>&1 &
	pid=$!
	for i in $(seq 1 100); do
		grep -q 'migrating to' "$WORK/out" && break
		sleep 0.05
	done
	sleep 0.5
	kill -INT "$pid"
	timeout 90 tail --pid="$pid" -f /dev/null
	wait "$pid"
	rc=$?
	[ "$rc" -eq 1 ] || { echo "exit $rc"; cat "$WORK/out"; return 1; }
	for g in slow1 slow2; do
		case $(on "$g") in
		a|b|c) ;;
		*) echo "$g runs on '$(on "$g")'"; cat "$WORK/out"; return 1 ;;
		esac
	done
	# The one in flight was cancelled; the other never started.
	[ "$(on slow1)" = a ] && [ "$(on slow2)" = a ] &&
	    grep -q 'stays here: cancelled before it started' "$WORK/out" &&
	    grep -q 'stays here: the migration failed: .*cancel' "$WORK/out" ||
	    { cat "$WORK/out"; return 1; }
}
check "SIGINT cancels the migration in flight; each guest runs once, on a" \
    cancel
ctl a sim-destroy slow1 >/dev/null
ctl a sim-destroy slow2 >/dev/null

# A previous-release peer, if it can be built here.
old_peer() {
	local prev pd rc
	prev=$("$TOP/tests/prev-release" "$TOP/$O") || return 1
	make_host_cert d
	pd=$(free_port)
	write_conf d "$pd"
	sed -i '/^(relocd-state-dir /d' "$WORK/d/xend-config.sxp"
	RELOCD=$prev/relocd start_relocd d
	hot_guests old1 || return 1
	ctl a evacuate --to "127.0.0.1:$pd" >"$WORK/out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] && [ "$(on old1)" = a ] &&
	    grep -q "127.0.0.1:$pd speaks protocol 1, which cannot tell its capacity: upgrade relocd there" "$WORK/out" &&
	    grep -q 'old1 .*stays here: .*protocol 1' "$WORK/out" ||
	    { echo "exit $rc"; cat "$WORK/out"; return 1; }
}
check "a peer of the previous release: said clearly, the guest stays" old_peer

check "no stray relocd processes" no_stray_children
cat "$WORK/figures"
exit $CASES_FAILED
