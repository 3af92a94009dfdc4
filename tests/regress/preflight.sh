#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The pre-flight for guests with devices, end to end on the sim backend,
# whose guests name bridges, disks, PCI devices and disable_migrate as a
# real guest's config does (relocctl sim-create --bridge/--disk/--pci/
# --disable-migrate) and whose host is relocd-sim-dir/host (a bridge is
# there when host/sys/class/net/NAME/bridge is, a disk when host/PATH
# is).  relocctl check names every bridge and disk it looked at, lists
# every failed check, one sentence each, and relocctl migrate refuses
# the same guests before anything is touched; a guest that cannot
# migrate at all is refused by the source, before any reservation.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
start_relocd b
HB=$SIMROOT/b/host
mkdir -p "$HB/sys/class/net/xenbr0/bridge" "$HB/sys/class/net/eth0" \
    "$HB/srv/xen" || die "the simulated host of b"
: >"$HB/srv/xen/g.img"

ctl a sim-create --memory 32M --bridge xenbr0 --disk /srv/xen/g.img \
    ok1 >/dev/null || die "sim-create ok1"
ctl a sim-create --memory 32M --bridge xenbr9 --disk /srv/xen/g.img \
    nobr >/dev/null || die "sim-create nobr"
ctl a sim-create --memory 32M --bridge xenbr9 --bridge xenbr0 \
    --disk /srv/xen/gone.img both >/dev/null || die "sim-create both"
ctl a sim-create --memory 32M --bridge xenbr0 --pci 1 --disable-migrate \
    pinned >/dev/null || die "sim-create pinned"
ctl a sim-create --memory 32M --bridge $'br\e[31m' esc >/dev/null ||
    die "sim-create esc"

BR9="bridge xenbr9 does not exist here: create it (ip link add xenbr9 type bridge, or brctl addbr xenbr9) or change the guest's vif"
GONE="disk /srv/xen/gone.img does not exist here: make the same storage visible here (shared storage, or a copy) or change the guest's disk"

# Nothing was left on b, and the guest runs on a as before.
untouched() {
	[ "$(running_on "$1" a b)" = a ] && [ "$(guest_state b "$1")" = absent ]
}

present() {
	ctl a check ok1 "$B" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	grep -qx '  bridge xenbr0: present' "$WORK/out" &&
	    grep -qx '  disk /srv/xen/g.img: present' "$WORK/out" &&
	    untouched ok1 || { cat "$WORK/out"; return 1; }
}
check "check names the bridge and the disk it found" present

present_json() {
	ctl a check --json ok1 "$B" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	tail -n 1 "$WORK/out" | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["ok"] is True, m
assert m["checks"] == [
    {"ok": True, "text": "bridge xenbr0: present"},
    {"ok": True, "text": "disk /srv/xen/g.img: present"}], m["checks"]
' || { cat "$WORK/out"; return 1; }
}
check "check --json: the findings as a list of {ok, text}" present_json

no_bridge() {
	! ctl a check nobr "$B" >"$WORK/out" 2>"$WORK/err" &&
	    grep -qxF "relocctl:   failed: destination 127.0.0.1: $BR9" \
	    "$WORK/err" &&
	    grep -qxF "relocctl:   passed: disk /srv/xen/g.img: present" \
	    "$WORK/err" && untouched nobr || { cat "$WORK/err"; return 1; }
}
check "check: a missing bridge, in one sentence that says what to do" no_bridge

# The issue's case: every failure is listed, not only the first.
both_listed() {
	! ctl a check both "$B" >"$WORK/out" 2>"$WORK/err" &&
	    grep -qxF "relocctl:   failed: destination 127.0.0.1: $BR9" \
	    "$WORK/err" &&
	    grep -qxF "relocctl:   failed: destination 127.0.0.1: $GONE" \
	    "$WORK/err" &&
	    grep -qxF "relocctl:   passed: bridge xenbr0: present" \
	    "$WORK/err" &&
	    grep -q "^relocctl: check both failed: destination 127.0.0.1: not supported here: 2 pre-flight checks failed, the first: bridge xenbr9" \
	    "$WORK/err" && untouched both || { cat "$WORK/err"; return 1; }
}
check "check: a missing bridge and a missing disk, both listed" both_listed

migrate_refused() {
	! ctl a migrate -l both "$B" >"$WORK/out" 2>"$WORK/err" &&
	    grep -qxF "relocctl:   failed: destination 127.0.0.1: $BR9" \
	    "$WORK/err" &&
	    grep -qxF "relocctl:   failed: destination 127.0.0.1: $GONE" \
	    "$WORK/err" && untouched both || { cat "$WORK/err"; return 1; }
}
check "migrate: refused for the same findings, nothing moved" migrate_refused

# PCI passthrough and disable_migrate: the source refuses, before it
# reaches b at all (b's log never names the guest).
source_refuses() {
	local what
	for what in check "migrate -l"; do
		# shellcheck disable=SC2086
		! ctl a $what pinned "$B" >"$WORK/out" 2>"$WORK/err" &&
		    grep -qxF "relocctl:   failed: pinned has 1 PCI device passed through, and Xen cannot migrate a guest with assigned devices: detach it first (xl pci-detach) or move the guest cold" \
		    "$WORK/err" &&
		    grep -qxF "relocctl:   failed: pinned's config sets nomigrate (libxl's disable_migrate), so it must not be migrated: remove it from the config and restart the guest, or move the guest cold" \
		    "$WORK/err" || { cat "$WORK/err"; return 1; }
	done
	untouched pinned && ! grep -q pinned "$WORK/b/log"
}
check "check and migrate: PCI and disable_migrate refused by the source" source_refuses

# A name from the guest's config reaches the terminal escaped.
escaped() {
	! ctl a check esc "$B" >"$WORK/out" 2>"$WORK/err" &&
	    grep -qF 'bridge br\x1b[31m does not exist here' "$WORK/err" &&
	    ! grep -q $'\e' "$WORK/err" || { cat -v "$WORK/err"; return 1; }
}
check "a bridge name with a control character is escaped" escaped

then_migrates() {
	ctl a migrate -l ok1 "$B" >/dev/null && [ "$(running_on ok1 a b)" = b ]
}
check "a guest whose devices are all there migrates" then_migrates

check "no stray relocd processes" no_stray_children

exit $CASES_FAILED
