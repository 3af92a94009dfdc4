#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Zero pages on the sim backend (issue 21): an idle guest, most of its
# memory zero, migrates live with those pages sent as their page numbers
# only (sim stream version 3, protocol 4), and arrives intact: the
# destination's memory is, byte for byte, what the source's was.  The
# saving shows where relocctl reports it: the result line, --json, the
# report of relocctl status ID, and both hosts' zero pages counter.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
start_relocd b
A=127.0.0.1:$PA
UUID=5e10e5e1-0000-4000-8000-00000000d1e0
MEM=$((256 << 20))
PAGES=$((MEM / 4096))

# An idle guest writes nothing, so its memory now is its memory when it
# is suspended; the copy is what b must hold afterwards.
idle() {
	local f
	ctl a sim-create --memory 256M --zero-percent 95 --uuid "$UUID" \
	    z1 >/dev/null || return 1
	f=$SIMROOT/a/$UUID.mem
	cp "$f" "$WORK/z1.mem" || return 1
	ctl a migrate -l --json z1 "$B" >"$WORK/out" 2>"$WORK/err" ||
	    { cat "$WORK/out" "$WORK/err"; return 1; }
	[ "$(running_on z1 a b)" = b ] && [ "$(guest_state a z1)" = absent ] &&
	    grep -q 'z1 restored, digest verified' "$WORK/b/log" &&
	    cmp "$WORK/z1.mem" "$SIMROOT/b/$UUID.mem" || return 1
	# Most pages went as zero pages; the stream is a fraction of memory.
	python3 - "$WORK/out" "$MEM" "$PAGES" <<'EOF' || { cat "$WORK/out"; return 1; }
import json, sys
res = [json.loads(l) for l in open(sys.argv[1])][-1]
mem, pages = int(sys.argv[2]), int(sys.argv[3])
ok = (res["type"] == "result" and res["ok"] is True and
      res["memory"] == mem and res["memory-sent"] >= mem and
      res["zero-pages"] >= pages * 9 // 10 and
      res["bytes"] < mem // 10)
sys.exit(0 if ok else 1)
EOF
}
check "an idle guest: most pages go as zero pages, b's memory is a's" idle

# The same, back to a, in text: the line that says what the wire
# carried, and the report's lines.
text() {
	local id
	ctl b migrate -l z1 "$A" >"$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
	grep -qE '^  256 MiB of memory went as [0-9]+ MiB on the wire \([0-9.]+x\), [0-9]+ zero pages as their numbers only$' \
	    "$WORK/out" || { cat "$WORK/out"; return 1; }
	cmp "$WORK/z1.mem" "$SIMROOT/a/$UUID.mem" || return 1
	id=$(ctl b status --json | python3 -c 'import json, sys
jobs = [j for j in json.load(sys.stdin)["jobs"] if j["what"] == "migrate"]
print(jobs[-1]["id"] if jobs else "")')
	[ -n "$id" ] && ctl b status "$id" >"$WORK/report" || return 1
	grep -qE '^Zero pages: +[0-9]{5,}$' "$WORK/report" &&
	    grep -qE '^Memory sent: +268435456 bytes' "$WORK/report" &&
	    grep -qE '^Compression: +zero pages only: [0-9.]+ bytes of memory per byte sent$' \
	    "$WORK/report" || { cat "$WORK/report"; return 1; }
}
check "back again: the result line and the report say what the wire carried" text

# metric HOST NAME LABELS: one sample of relocctl metrics.
metric() {
	ctl "$1" metrics | awk -v n="$2{$3}" '$1 == n { print $2 }'
}
counters() {
	[ "$(metric a relocd_migration_zero_pages_total 'direction="out"')" -ge $((PAGES * 9 / 10)) ] &&
	    [ "$(metric b relocd_migration_zero_pages_total 'direction="in"')" -ge $((PAGES * 9 / 10)) ] &&
	    [ "$(metric b relocd_migration_zero_pages_total 'direction="out"')" -ge $((PAGES * 9 / 10)) ]
}
check "relocd_migration_zero_pages_total counts them on both hosts" counters

exit $CASES_FAILED
