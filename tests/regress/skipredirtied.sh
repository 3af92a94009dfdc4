#!/bin/bash
# SPDX-License-Identifier: ISC
#
# relocctl migrate --skip-redirtied (issue 20, item 3), sim only: a live
# round leaves out the pages the guest has dirtied again since it began.
# A busy guest migrates with it: pages are skipped, and the count shows
# in --json, the result line, the report and a's log; b verifies the
# digest, and b's memory is, byte for byte, a's at suspend (compared
# while a's worker waits before its commit, a suspended, b paused).
# The option is refused, naming it, where it cannot work: on the xen
# backend, whose rounds libxenguest sends, and without --live.
. "$TOP/tests/regress/lib"

two_hosts
RELOCD_FAULT="source-worker-before-commit@hot1=4000" start_relocd a
start_relocd b
A=127.0.0.1:$PA
UUID=5e10e5e1-0000-4000-8000-0000000051e0

busy() {
	local mpid
	ctl a sim-create --memory 64M --dirty-rate 100M --working-set 8M \
	    --pattern hot --uuid "$UUID" hot1 >/dev/null || return 1
	sleep 0.3
	# 400 Mbit/s: round 0 takes over a second, and the hot set is
	# written many times over while a round is on its way.
	ctl a migrate -l -r 400 --skip-redirtied --json hot1 "$B" \
	    >"$WORK/out" 2>"$WORK/err" &
	mpid=$!
	wait_log a "fault point source-worker-before-commit for hot1" 60 ||
	    { wait "$mpid"; cat "$WORK/out" "$WORK/err"; return 1; }
	cmp "$SIMROOT/a/$UUID.mem" "$SIMROOT/b/$UUID.mem" ||
	    { wait "$mpid"; return 1; }
	wait "$mpid" || { cat "$WORK/out" "$WORK/err"; return 1; }
	[ "$(running_on hot1 a b)" = b ] &&
	    grep -q 'hot1 restored, digest verified' "$WORK/b/log" &&
	    grep -qE 'hot1: live rounds left out [1-9][0-9]* pages the guest had dirtied again \(--skip-redirtied\)' \
	    "$WORK/a/log" || { tail -n 20 "$WORK/a/log"; return 1; }
	json_result "$WORK/out" 'res["skipped-pages"] > 0'
}
check "a busy guest with --skip-redirtied: pages skipped, digest verified, b's memory is a's" busy

# Back to a in text; then the report of that migration.
text() {
	local id
	ctl b migrate -l -r 400 --skip-redirtied hot1 "$A" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	grep -qE '^  [1-9][0-9]* pages dirtied again within their round were left to the next \(--skip-redirtied\)$' \
	    "$WORK/out" || { cat "$WORK/out"; return 1; }
	id=$(ctl b status --json | python3 -c 'import json, sys
jobs = [j for j in json.load(sys.stdin)["jobs"] if j["what"] == "migrate"]
print(jobs[-1]["id"] if jobs else "")')
	[ -n "$id" ] && ctl b status "$id" >"$WORK/report" || return 1
	grep -qE '^Skipped pages: +[1-9][0-9]* \(dirtied again within their round\)$' \
	    "$WORK/report" || { cat "$WORK/report"; return 1; }
	ctl b status --json "$id" | python3 -c 'import json, sys
sys.exit(0 if json.load(sys.stdin)["skipped-pages"] > 0 else 1)'
}
check "back again: the result line and the report count the skipped pages" text

# Without the option nothing is skipped, and the field says 0.
without() {
	ctl a migrate -l --json hot1 "$B" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	json_result "$WORK/out" 'res["skipped-pages"] == 0'
}
check "without --skip-redirtied no page is skipped" without

offline() {
	! ctl b migrate --skip-redirtied hot1 "$A" 2>"$WORK/err" &&
	    grep -q -- '--skip-redirtied needs --live' "$WORK/err" &&
	    [ "$(running_on hot1 a b)" = b ] || { cat "$WORK/err"; return 1; }
}
check "refused without --live, naming the option; the guest runs on" offline

# A relocd on the xen backend (a stand-in xl: the refusal comes first).
xen() {
	make_host_cert x
	write_conf x "$(free_port)"
	sed -i -e 's|(relocd-backend sim)|(relocd-backend xen)|' \
	    -e "s|(relocd-sim-dir [^)]*)|&\n(relocd-xl-command $TOP/tests/regress/fake-xl)|" \
	    "$WORK/x/xend-config.sxp"
	start_relocd x
	! ctl x migrate -l --skip-redirtied web1 "$B" 2>"$WORK/err" &&
	    grep -q -- '--skip-redirtied is sim-only: on the xen backend libxenguest sends the pre-copy rounds itself' \
	    "$WORK/err" || { cat "$WORK/err"; return 1; }
}
check "refused on the xen backend, naming the option and saying it is sim-only" xen

exit $CASES_FAILED
