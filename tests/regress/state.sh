#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Machine-readable state (issue 23, part 2): relocctl list --json and
# status --json parse, each field with the type relocctl(8) gives it;
# relocctl status ID shows a migration's whole report on both hosts, in
# text and in JSON, kept in relocd-state-dir (mode 0600) and still
# there after either daemon restarts; an unknown id is an error; and a
# state directory that cannot be written is logged, naming it, while
# migrations go on.  Pruning by age and count is test_report's: its
# limits (a week, 256 reports) are too large to wait for here.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
start_relocd b

# typed FILE PYTHON: FILE holds one line of JSON, the object o; the
# checks in PYTHON call INT, STR and BOOL (name, object), which demand
# that the member be there with that type (an int that is not a bool:
# bool is an int in Python), and may add to bad.
typed() {
	python3 - "$@" <<'EOF'
import json, sys

bad = []
lines = open(sys.argv[1], "rb").read().decode("utf-8").splitlines()
if len(lines) != 1:
    print("not one line of JSON: %r" % lines)
    sys.exit(1)
o = json.loads(lines[0])

def member(name, obj, types, what):
    if name not in obj:
        bad.append("%s is missing from %r" % (name, obj))
    elif type(obj[name]) not in types:
        bad.append("%s is %r, not %s" % (name, obj[name], what))

def INT(name, obj=None):
    member(name, o if obj is None else obj, (int,), "an integer")

def STR(name, obj=None):
    member(name, o if obj is None else obj, (str,), "a string")

def BOOL(name, obj=None):
    member(name, o if obj is None else obj, (bool,), "true or false")

exec(sys.argv[2])
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
}

# Every member of a report (relocctl(8), "status ID"), typed.
REPORT_TYPES='
for k in ("id", "what", "guest", "peer", "state", "text", "decision"):
    STR(k)
BOOL("ok")
for k in ("code", "start-time-ms", "end-time-ms", "setup-ms", "elapsed-ms",
          "downtime-ms", "predicted-downtime-ms", "fixed-cost-ms",
          "fixed-cost-samples", "digest-ms",
          "suspend-time-ms", "bytes", "memory", "memory-sent",
          "zero-pages", "rounds", "bandwidth", "dirty-rate", "dirty",
          "throttle"):
    INT(k)
if o.get("type") != "report":
    bad.append("type is %r, not report" % o.get("type"))
'

list_json() {
	ctl a sim-create --memory 64M --dirty-rate 20M --working-set 8M \
	    --pattern hot s1 >/dev/null || return 1
	ctl a list --json >"$WORK/out" 2>&1 &&
	    typed "$WORK/out" '
if o.get("type") != "guests" or type(o.get("guests")) is not list:
    bad.append("not {type: guests, guests: [...]}: %r" % o)
gs = [g for g in o.get("guests", []) if g.get("name") == "s1"]
if len(gs) != 1:
    bad.append("s1 is not listed once: %r" % o)
for g in gs:
    for k in ("name", "uuid", "type", "state"):
        STR(k, g)
    for k in ("domid", "memory", "vcpus"):
        INT(k, g)
    if g.get("memory") != 64 << 20 or g.get("state") != "running":
        bad.append("s1 is not 64 MiB and running: %r" % g)' ||
	    { cat "$WORK/out"; false; }
}
check "list --json: one object, the guests with their types" list_json

# Migrates s1 from a to b; ID is the migration's id, from --json.
ID=
migrate_s1() {
	ctl a migrate -l --json s1 "$B" >"$WORK/mig" 2>&1 ||
	    { cat "$WORK/mig"; return 1; }
	ID=$(python3 -c 'import json, sys
print(json.loads(open(sys.argv[1]).readline())["id"])' "$WORK/mig")
	[ -n "$ID" ]
}
check "a migration from a to b" migrate_s1

status_json() {
	ctl a status --json >"$WORK/out" 2>&1 &&
	    typed "$WORK/out" '
if o.get("type") != "status":
    bad.append("type is not status: %r" % o)
for k in ("version", "backend", "host"):
    STR(k)
if type(o.get("listen-tls")) is not list or \
        not all(type(a) is str for a in o["listen-tls"]):
    bad.append("listen-tls is not a list of strings: %r" % o)
jobs = [j for j in o.get("jobs", []) if j.get("id") == sys.argv[3]]
if len(jobs) != 1:
    bad.append("the migration is not among the jobs once: %r" % o)
for j in jobs:
    for k in ("id", "what", "state", "guest", "peer", "result"):
        STR(k, j)
    for k in ("elapsed-ms", "bytes", "memory", "round", "downtime-ms"):
        INT(k, j)
    BOOL("ok", j)' "$ID" ||
	    { cat "$WORK/out"; false; }
}
check "status --json: the daemon and its jobs, typed" status_json

# report NAME WHAT: status --json ID on NAME is the migration's report,
# every member typed, with what WHAT, ok, bytes sent and a downtime.
report() {
	ctl "$1" status --json "$ID" >"$WORK/out" 2>&1 &&
	    typed "$WORK/out" "$REPORT_TYPES"'
if o.get("id") != sys.argv[3] or o.get("what") != sys.argv[4] or \
        o.get("ok") is not True or o.get("guest") != "s1":
    bad.append("not the migration, or not one that worked: %r" % o)
if not o.get("bytes", 0) >= 64 << 20 or not o.get("downtime-ms", 0) > 0:
    bad.append("no bytes or no downtime: %r" % o)
if not 0 < o.get("start-time-ms", 0) <= o.get("end-time-ms", 0):
    bad.append("start and end times out of order: %r" % o)
if sys.argv[4] == "migrate" and not (o.get("rounds", 0) >= 1 and
        o.get("setup-ms", -1) >= 0 and
        o.get("elapsed-ms", 0) >= o.get("downtime-ms", 0)):
    bad.append("source: no rounds, or downtime past the total: %r" % o)' \
	    "$ID" "$2" || { cat "$WORK/out"; false; }
}
check "status --json ID on the source: the whole report" report a migrate
check "status --json ID on the destination: its report" report b receive

# The text report: a line for each measurement, in virsh's manner.
report_text() {
	ctl a status "$ID" >"$WORK/out" 2>&1 &&
	    grep -qx "Migration: *$ID" "$WORK/out" &&
	    grep -qx 'Result: *succeeded: done' "$WORK/out" &&
	    grep -qE '^Rounds: *[1-9][0-9]*$' "$WORK/out" &&
	    grep -qE '^Data sent: *[1-9][0-9]* bytes' "$WORK/out" &&
	    grep -qE '^Downtime: *[1-9][0-9]* ms$' "$WORK/out" &&
	    grep -qE '^Started: *20[0-9-]+ [0-9:.]+ UTC$' "$WORK/out" ||
	    { cat "$WORK/out"; false; }
}
check "status ID: the report as text" report_text

# complete WORDS...: what bash completion offers for the last word of
# "relocctl -f a's config WORDS...", one per line, with this tree's
# relocctl first in PATH.
complete_words() {
	PATH="$TOP/$O:$PATH" bash -c '
. /usr/share/bash-completion/bash_completion
. "$1/scripts/relocctl.bash-completion"
shift
COMP_WORDS=(relocctl "$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_relocctl relocctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf "%s\n" "${COMPREPLY[@]}"' - "$TOP" -f "$WORK/a/xend-config.sxp" "$@"
}

# status completes the ids of the jobs relocd has (status --json), and
# --json.
completion() {
	[ -r /usr/share/bash-completion/bash_completion ] || {
		echo "skipped: bash-completion is not installed"; return 0; }
	complete_words status "" >"$WORK/out" 2>&1 &&
	    grep -qx "$ID" "$WORK/out" &&
	    [ "$(complete_words status --j)" = --json ] &&
	    [ "$(complete_words list --j)" = --json ] ||
	    { cat "$WORK/out"; false; }
}
check "completion: status offers migration ids, list and status --json" completion

# A migration still running has its report so far: its state, no end.
running() {
	local pid rc=0 rid
	ctl a sim-create --memory 64M s2 >/dev/null || return 1
	ctl a migrate -l --bandwidth 100 s2 "$B" >"$WORK/mig2" 2>&1 &
	pid=$!
	rid=$(wait_job a streaming) &&
	    ctl a status --json "$rid" >"$WORK/out" 2>&1 &&
	    typed "$WORK/out" "$REPORT_TYPES"'
if o.get("state") != "streaming" or o.get("ok") is not False or \
        o.get("end-time-ms") != 0 or o.get("elapsed-ms", 0) <= 0 or \
        o.get("guest") != "s2":
    bad.append("not a running migration of s2: %r" % o)' &&
	    ctl a status "$rid" | grep -qx 'State: *streaming (running)' || rc=1
	wait "$pid" || rc=1
	[ $rc -eq 0 ] && [ "$(running_on s2 a b)" = b ] ||
	    { cat "$WORK/out" "$WORK/mig2"; false; }
}
check "status ID of a running migration: its report so far" running

kept() {
	local f
	for f in "$WORK/a/state/$ID.json" "$WORK/b/state/$ID.json"; do
		[ "$(stat -c %a "$f")" = 600 ] &&
		    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
		    "$f" || { ls -l "$f"; return 1; }
	done
	! ls "$WORK"/[ab]/state | grep -q '\.tmp$'
}
check "each host keeps the report, JSON of mode 0600" kept

# restart NAME: stops NAME's relocd (SIGTERM) and starts it again.
restart() {
	local pid
	pid=$(cat "$WORK/$1/pid")
	kill -TERM "$pid"
	timeout 20 tail --pid="$pid" -f /dev/null 2>/dev/null || return 1
	start_relocd "$1"
}

# After a restart the job table is empty; the report comes from the file.
after_restart() {
	restart a && restart b || return 1
	ctl a status --json >"$WORK/st" && ! grep -q "$ID" "$WORK/st" &&
	    report a migrate && report b receive &&
	    ctl b status "$ID" | grep -qx 'Operation: *receive' ||
	    { cat "$WORK/st"; false; }
}
check "after both daemons restart, status ID still has the report" after_restart

unknown() {
	local rc=0 rc2=0
	ctl a status 00112233445566778899aabbccddeeff >"$WORK/out" \
	    2>"$WORK/err" || rc=$?
	ctl a status --json 00112233445566778899aabbccddeeff >"$WORK/jout" \
	    2>/dev/null || rc2=$?
	[ "$rc" -eq 1 ] && [ "$rc2" -eq 1 ] && [ ! -s "$WORK/out" ] &&
	    grep -q '^relocctl: relocd: no migration 00112233445566778899aabbccddeeff here' \
	    "$WORK/err" &&
	    typed "$WORK/jout" 'STR("text")
if o.get("type") != "error":
    bad.append("not an error object: %r" % o)' || 
	    { echo "exit $rc $rc2"; cat "$WORK/out" "$WORK/err" "$WORK/jout"; false; }
}
check "an unknown id: an error, exit 1 (and an error object with --json)" unknown

not_an_id() {
	local rc=0
	ctl a status nosuch >"$WORK/out" 2>&1 || rc=$?
	[ "$rc" -eq 2 ] && grep -q 'nosuch: not a migration id' "$WORK/out" ||
	    { echo "exit $rc"; cat "$WORK/out"; false; }
}
check "status with something not an id: a usage error, exit 2" not_an_id

# b's state directory goes missing: said at start with the path and
# what to do; a migration from b still works, its report not kept.
no_dir() {
	sed -i "s|^(relocd-state-dir .*|(relocd-state-dir $WORK/b/gone)|" \
	    "$WORK/b/xend-config.sxp"
	restart b || return 1
	grep -q "relocd-state-dir $WORK/b/gone: No such file or directory; .*mkdir -m 0700" \
	    "$WORK/b/log" || { cat "$WORK/b/log"; return 1; }
	ctl b migrate -l --json s1 "127.0.0.1:$PA" >"$WORK/mig" 2>&1 &&
	    [ "$(running_on s1 a b)" = a ] &&
	    grep -q "$WORK/b/gone/[0-9a-f]*\.json: No such file or directory; the report of migration [0-9a-f]* is not kept" \
	    "$WORK/b/log" || { cat "$WORK/mig" "$WORK/b/log"; false; }
}
check "a missing state directory: logged with its path, migrations go on" no_dir
check "no stray relocd processes" no_stray_children

exit $CASES_FAILED
