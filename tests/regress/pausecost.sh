#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The pause's fixed cost, learnt (issue 20, part 1): the first live
# migration to a destination predicts with the sim's first guess and
# says so; once it is done, relocd-state-dir holds what it measured
# (pause-costs.json, mode 0600), and the next migration to the same
# destination predicts with that, learnt from one migration, in the
# result, the report and the log.  A damaged file is logged, naming it,
# and migrations go on from first guesses, the file then replaced.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
start_relocd b
COSTS=$WORK/a/state/pause-costs.json
# pause_cost.c's first guess for a sim guest.
GUESS=150

# result FILE SAMPLES: relocctl --json's result in FILE is a migration
# that worked, predicted with a fixed cost learnt from SAMPLES
# migrations (0: the first guess); prints the cost it used.
result() {
	python3 - "$@" <<'EOF'
import json, sys
res = [json.loads(l) for l in open(sys.argv[1])][-1]
ok = (res.get("type") == "result" and res.get("ok") is True and
      type(res.get("fixed-cost-ms")) is int and
      res.get("fixed-cost-samples") == int(sys.argv[2]))
if not ok:
    print("not a migration with a cost from %s samples: %r" %
          (sys.argv[2], res), file=sys.stderr)
    sys.exit(1)
print(res["fixed-cost-ms"])
EOF
}

# migrate GUEST OUT: creates GUEST on a and migrates it live to b.
migrate() {
	ctl a sim-create --memory 64M --dirty-rate 20M --working-set 8M \
	    --pattern hot "$1" >/dev/null &&
	    ctl a migrate -l --json "$1" "$B" >"$2" 2>&1 &&
	    [ "$(running_on "$1" a b)" = b ] || { cat "$2"; false; }
}

first() {
	local used
	migrate s1 "$WORK/m1" && used=$(result "$WORK/m1" 0) &&
	    [ "$used" = "$GUESS" ] &&
	    grep -q "fixed cost of the pause for a sim guest to 127.0.0.1 port $PB: $GUESS ms, a first guess" \
	    "$WORK/a/log" ||
	    { echo "used ${used:-?}"; cat "$WORK/m1"; grep "fixed cost" "$WORK/a/log"; false; }
}
check "the first migration to b predicts with the sim's first guess" first

stored() {
	[ "$(stat -c %a "$COSTS")" = 600 ] &&
	    [ "$(stat -c %a "$WORK/a/state")" = 700 ] &&
	    python3 - "$COSTS" "127.0.0.1:$PB" <<'EOF' || { cat "$COSTS"; false; }
import json, sys
o = json.load(open(sys.argv[1]))
es = [e for e in o["costs"] if e["destination"] == sys.argv[2]]
ok = (o["version"] == 2 and len(es) == 1 and es[0]["type"] == "sim" and
      es[0]["samples"] == 1 and len(es[0]["recent-us"]) == 1 and
      type(es[0]["recent-us"][0]) is int)
sys.exit(0 if ok else 1)
EOF
}
check "a keeps what it measured in relocd-state-dir, mode 0600" stored

# The cost learnt is the first migration's measurement, as the log said.
LEARNT=
second() {
	migrate s2 "$WORK/m2" && LEARNT=$(result "$WORK/m2" 1) &&
	    grep -q "fixed cost for sim guests to 127.0.0.1:$PB now $LEARNT ms, learnt from 1 migration" \
	    "$WORK/a/log" &&
	    grep -q "fixed cost of the pause for a sim guest to 127.0.0.1 port $PB: $LEARNT ms, learnt from 1 migration" \
	    "$WORK/a/log" || { cat "$WORK/m2"; grep "fixed cost" "$WORK/a/log"; false; }
}
check "the second migration to b predicts with the cost learnt from the first" second

report() {
	local id
	id=$(python3 -c 'import json, sys
print(json.loads(open(sys.argv[1]).readline())["id"])' "$WORK/m2") &&
	    ctl a status --json "$id" >"$WORK/out" &&
	    python3 - "$WORK/out" "$LEARNT" <<'EOF' &&
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o.get("fixed-cost-ms") == int(sys.argv[2]) and
         o.get("fixed-cost-samples") == 1 else 1)
EOF
	    ctl a status "$id" | grep -qx "Fixed cost: *$LEARNT ms, learnt from 1 migration" ||
	    { cat "$WORK/out"; false; }
}
check "the report says what cost was used and that it was learnt" report

damaged() {
	printf '{"version": 1, "costs": [' >"$COSTS"
	migrate s3 "$WORK/m3" && result "$WORK/m3" 0 >/dev/null &&
	    grep -q "$COSTS: not JSON; the pause's fixed costs start again from first guesses" \
	    "$WORK/a/log" &&
	    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$COSTS" &&
	    [ "$(stat -c %a "$COSTS")" = 600 ] ||
	    { cat "$WORK/m3" "$COSTS"; grep "pause-costs" "$WORK/a/log"; false; }
}
check "a damaged file: logged with its name, first guesses, then replaced" damaged
check "no stray relocd processes" no_stray_children

exit $CASES_FAILED
