#!/bin/bash
# SPDX-License-Identifier: ISC
#
# relocctl check GUEST HOST: the destination runs every pre-flight check
# of a reservation and the migration stops there.  Nothing moves, nothing
# is left on the destination, and a refusal says why.  (Here the checks
# are name, uuid, memory and type; preflight.sh has a sim guest's bridges,
# disks, PCI devices and disable_migrate; the xen backend adds Xen
# version, CPU features and clocks, covered by the unit tests and make
# check-xen.)
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
RELOCD_SIM_HOST_MEMORY=$((512 << 20)) start_relocd b

ctl a sim-create --memory 64M g1 >/dev/null || die "sim-create g1"
ctl a sim-create --memory 1G big >/dev/null || die "sim-create big"
ctl b sim-create --memory 32M g2 >/dev/null || die "sim-create g2 on b"

accepted() {
	ctl a check g1 "$B" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	grep -q 'g1: the destination would take it; every check passed' \
	    "$WORK/out" && [ "$(running_on g1 a b)" = a ] &&
	    [ "$(guest_state b g1)" = absent ] &&
	    wait_log a 'check .* of g1: succeeded'
}
check "check: accepted, nothing moves, nothing left on b" accepted

memory() {
	! ctl a check big "$B" 2>"$WORK/err" &&
	    { grep -q 'needs 1024 MiB' "$WORK/err" || { cat "$WORK/err"; false; }; } &&
	    [ "$(running_on big a b)" = a ] && [ "$(guest_state b big)" = absent ]
}
check "check: refused for memory, with the figures" memory

clash() {
	# g2 exists on b; a second g2 made on a must be refused there.
	ctl a sim-create --memory 32M --uuid 11111111-2222-3333-4444-555555555555 \
	    g2 >/dev/null || return 1
	! ctl a check g2 "$B" 2>"$WORK/err" && grep -q 'g2' "$WORK/err" &&
	    grep -qi 'exists\|clash\|in use' "$WORK/err" &&
	    [ "$(guest_state a g2)" = running ] &&
	    [ "$(guest_state b g2)" = running ]
}
check "check: refused for a name clash; both guests untouched" clash

usage() {
	ctl a check g1 >/dev/null 2>&1
	[ $? -eq 2 ]
}
check "check: usage error exits 2" usage

then_migrates() {
	ctl a migrate --live g1 "$B" >/dev/null && [ "$(running_on g1 a b)" = b ]
}
check "a real migration after checks still works" then_migrates

check "no stray relocd processes" no_stray_children

exit $CASES_FAILED
