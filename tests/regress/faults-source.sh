#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The fault-injection matrix, source side: each process of the source's
# relocd (parent, network child, worker) killed with SIGKILL at each
# phase of a live migration (faults-lib says what every case checks).
# Before the commit the guest must run on at the source, afterwards on
# the destination, and relocctl resolve settles a source that died in
# between.
. "$TOP/tests/regress/lib"
. "$TOP/tests/regress/faults-lib"

# ID  phase  point-side  point  role  kill-side  where  rc  how
CASES=(
"S01|reserve|b|destination-worker-after-reserve|parent|a|a|1|runs on at the source; b discards its reservation"
"S02|reserve|b|destination-worker-after-reserve|net|a|a|1|runs on at the source; b discards its reservation"
"S03|reserve|b|destination-worker-after-reserve|worker|a|a|1|a new worker finds it running; b discards"
"S04|early pre-copy|a|source-worker-precopy-early|net|a|a|1|the save fails, the guest runs on"
"S05|early pre-copy|a|source-worker-precopy-early|worker|a|a|1|still running; b discards the half-built copy"
"S06|late pre-copy|a|source-worker-precopy-late|parent|a|a|1|the orphaned worker cancels; runs on"
"S07|stop-and-copy|a|source-worker-suspended|worker|a|a|1|suspended; a new worker resumes it"
"S08|stop-and-copy|a|source-worker-suspended|net|a|a|1|the save fails; resumed"
"S09|stop-and-copy|a|source-worker-suspended|parent|a|a|1|the orphaned worker resumes it; b discards"
"S10|after prepared|a|source-worker-before-commit|worker|a|a|1|a new worker resumes it; b discards"
"S11|after prepared|a|source-worker-before-commit|parent|a|a|1|the commit cannot be reported: resumed"
"S13|after go|a|source-net-after-go|net|a|b|0|lost link after go: asks b, frees its copy"
"S14|after go|a|source-worker-after-commit|worker|a|b|0|a new worker frees the copy on b's word"
"S15|after activation|a|source-worker-before-destroy|worker|a|b|0|a new worker frees the copy"
"S16|after activation|a|source-worker-before-destroy|parent|a|b|1|the orphaned worker frees the copy"
)
for c in "${CASES[@]}"; do
	IFS='|' read -r id _ side pt _ <<<"$c"
	point "$side" "$pt" "$(echo "$id" | tr 'A-Z' 'a-z')"
done
point a source-net-after-go s12
setup

# S12: the source's parent dies right after "go": b runs the guest, a
# keeps a suspended copy with its note, and relocctl resolve on the
# restarted a asks b by migration id and frees it.
resolve_after_go() {
	migrate_bg s12 && at a source-net-after-go s12 &&
	    sigkill parent a && restart a || return 1
	wait_mig
	wait_log a 'guest s12 is suspended: .*run relocctl resolve s12' 10 &&
	    [ "$(guest_state a s12)" = suspended ] || return 1
	ctl a resolve s12 >"$WORK/s12.resolve" 2>&1 &&
	    grep -q 's12 was destroyed here; it runs on 127.0.0.1' \
	    "$WORK/s12.resolve"
}
case_s12() {
	local fault="after go: SIGKILL source parent"
	wanted S12 || return 0
	if resolve_after_go >"$WORK/s12.why" 2>&1; then
		verify S12 "$fault" s12 b "in doubt at restart; resolve asks b, frees it"
	else
		case_fail "S12 $fault: not resolved"
		ROWS+=("$(printf '%-4s %-46s FAILED' S12 "$fault")")
		cat "$WORK/s12.why" "$WORK/s12.resolve" 2>/dev/null | sed 's/^/    /'
		ctl a sim-destroy s12 >/dev/null 2>&1
		ctl b sim-destroy s12 >/dev/null 2>&1
	fi
}

for c in "${CASES[@]}"; do
	IFS='|' read -r id phase side pt role kside where rc how <<<"$c"
	kill_case "$id" "$phase" "$side" "$pt" "$role" "$kside" "$where" \
	    "$rc" "$how"
	[ "$id" = S11 ] && case_s12
done

table "Fault matrix, source side (guest on a, migrating to b):"
exit $((CASES_FAILED > 0))
