#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The fault-injection matrix, destination side: each process of the
# destination's relocd (parent, network child, worker) killed with
# SIGKILL at each phase of a live migration (faults-lib says what every
# case checks).  Before "go" the destination's half-built guest must go
# and the source run on; after "go" the destination runs the guest.
# Where the destination's relocd restarted in between, the source cannot
# know: it says "in doubt", and relocctl resolve settles it.
. "$TOP/tests/regress/lib"
. "$TOP/tests/regress/faults-lib"

# ID  phase  point-side  point  role  kill-side  where  rc  how
CASES=(
"D01|reserve|b|destination-worker-after-reserve|parent|b|a|1|the orphaned worker discards; runs on at a"
"D02|reserve|b|destination-worker-after-reserve|net|b|a|1|b discards its reservation; runs on at a"
"D03|reserve|b|destination-worker-after-reserve|worker|b|a|1|b removes the reserved guest; runs on at a"
"D04|early pre-copy|a|source-worker-precopy-early|net|b|a|1|b discards; a resumes"
"D05|late pre-copy|a|source-worker-precopy-late|worker|b|a|1|b removes the half-restored guest"
"D06|late pre-copy|a|source-worker-precopy-late|parent|b|a|1|the orphaned worker discards; a resumes"
"D07|stop-and-copy|a|source-worker-suspended|worker|b|a|1|b removes it; a resumes"
"D08|after prepared|a|source-worker-before-commit|worker|b|a|1|b removes it; after go a asks, resumes"
"D09|after prepared|a|source-worker-before-commit|net|b|a|1|b discards; after go a asks, resumes"
"D11|after go|b|destination-worker-after-go|worker|b|b|0|a new worker runs it on b"
"D13|after go|b|destination-net-after-go|net|b|b|0|b runs it; a asks, frees its copy"
"D14|after activation|b|destination-worker-after-unpause|worker|b|b|0|a new worker finds it running; a frees"
)
for c in "${CASES[@]}"; do
	IFS='|' read -r id _ side pt _ <<<"$c"
	point "$side" "$pt" "$(echo "$id" | tr 'A-Z' 'a-z')"
done
point a source-worker-before-commit d10
point b destination-worker-after-go d12
setup

# in_doubt_case ID FAULT FUNCTION WHERE HOW: a case that ends in doubt
# and is settled by relocctl resolve; FUNCTION does it all.
in_doubt_case() {
	local g
	wanted "$1" || return 0
	g=$(echo "$1" | tr 'A-Z' 'a-z')
	if "$3" >"$WORK/$g.why" 2>&1; then
		verify "$1" "$2" "$g" "$4" "$5"
	else
		case_fail "$1 $2: not resolved"
		ROWS+=("$(printf '%-4s %-46s FAILED' "$1" "$2")")
		# The reason last: tests/run shows only the last 30 lines.
		tail -n 10 "$WORK/a/log" | sed 's/^/    a: /'
		cat "$WORK/$g.out" "$WORK/$g.why" 2>/dev/null | sed 's/^/    /'
		ctl a sim-destroy "$g" >/dev/null 2>&1
		ctl b sim-destroy "$g" >/dev/null 2>&1
	fi
}

# D10: the whole destination relocd dies after "prepared" and restarts,
# removing the complete but never-run guest.  The source sent "go" into
# the dead connection: it asks, b has no record, and it says "in doubt";
# so does relocctl resolve; the administrator sees b has no copy and
# resumes the guest with --force-resume.
d10() {
	migrate_bg d10 && at a source-worker-before-commit d10 &&
	    sigkill all b && restart b || return 1
	wait_mig
	[ "$MIGRC" -eq 4 ] && grep -q 'in doubt: d10 stays suspended' \
	    "$WORK/d10.out" || { echo "migrate exited $MIGRC"; return 1; }
	# The restarted worker removes it if the guest process outlived
	# relocd; the sim census, if the process died with it.
	wait_log b 'removed the half-built guest d10|guest d10 \(.*\) is no longer running; removing it' 10 ||
	    return 1
	ctl a resolve d10 >"$WORK/d10.r1" 2>&1
	[ $? -eq 4 ] && grep -q 'has no record of migration' "$WORK/d10.r1" ||
	    { cat "$WORK/d10.r1"; return 1; }
	[ "$(guest_state b d10)" = absent ] &&
	    [ "$(guest_state a d10)" = suspended ] || return 1
	ctl a resolve --force-resume d10 >"$WORK/d10.r2" 2>&1 &&
	    grep -q "d10 was resumed here on the administrator's word" \
	    "$WORK/d10.r2" && grep -q 'WARNING: --force-resume' "$WORK/d10.r2"
}

# D12: the destination's parent dies after "go": its orphaned worker
# still runs the guest, but nobody can tell the source, and the
# restarted b has no record.  In doubt; b runs it; --force-destroy.
d12() {
	# b restarts once the orphan has run the guest, as it would in real
	# life, where nothing holds it at the fault point.  (Restarted
	# before, b's clean-up removes the stopped guest instead: also
	# safe, since a keeps its copy; resolve --force-resume then.)
	migrate_bg d12 && at b destination-worker-after-go d12 &&
	    sigkill parent b && wait_log b 'd12 is running here' 15 &&
	    restart b || return 1
	wait_mig
	[ "$MIGRC" -eq 4 ] || { echo "migrate exited $MIGRC"; return 1; }
	[ "$(guest_state b d12)" = running ] &&
	    [ "$(guest_state a d12)" = suspended ] ||
	    { echo "d12: a $(guest_state a d12), b $(guest_state b d12)";
	    grep d12 "$WORK/b/log"; return 1; }
	ctl a resolve --force-destroy d12 >"$WORK/d12.r" 2>&1 &&
	    grep -q "d12 was destroyed here on the administrator's word" \
	    "$WORK/d12.r"
}

for c in "${CASES[@]}"; do
	IFS='|' read -r id phase side pt role kside where rc how <<<"$c"
	kill_case "$id" "$phase" "$side" "$pt" "$role" "$kside" "$where" \
	    "$rc" "$how"
	case $id in
	D09) in_doubt_case D10 "after prepared: SIGKILL all of destination" \
	    d10 a "b removes it; a in doubt; resolve --force-resume";;
	D11) in_doubt_case D12 "after go: SIGKILL destination parent" d12 b \
	    "b runs it; a in doubt; resolve --force-destroy";;
	esac
done

table "Fault matrix, destination side (guest on a, migrating to b):"
exit $((CASES_FAILED > 0))
