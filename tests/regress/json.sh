#!/bin/bash
# SPDX-License-Identifier: ISC
#
# relocctl --json (relocctl(8), JSON OUTPUT): one JSON object per line,
# each field with its documented type, each pre-copy round reported
# once, and valid JSON whatever bytes a reply holds.  A real pair of
# relocd instances gives the types of a migration that works and of one
# that fails; a fake relocd on a control socket of its own gives replies
# relocd would not send itself: a peer's text that is not UTF-8, numbers
# out of range, fields with no value or two values.
. "$TOP/tests/regress/lib"

two_hosts
start_relocd a
start_relocd b

# jsonl FILE KIND: python3 checks FILE, relocctl's stdout, line by line
# against the types relocctl(8) documents.  KIND says what else must
# hold: "migrated" (ok true, rounds once each), "failed" (ok false) or
# "checked" (a check that passed).  Prints what is wrong.
jsonl() {
	python3 - "$@" <<'EOF'
import json, sys

path, kind = sys.argv[1], sys.argv[2]
STR = ("id", "what", "guest", "text", "decision", "compression")
INT = ("code", "round", "rounds", "bytes", "memory", "memory-sent",
       "zero-pages", "dirty", "bandwidth", "dirty-rate", "downtime-ms",
       "predicted-downtime-ms", "digest-ms", "elapsed-ms", "throttle",
       "fixed-cost-ms", "fixed-cost-samples", "protocol", "available",
       "skipped-pages", "wire-bytes")
FIELDS = {
    "started": {"id", "what"},
    "progress": {"id", "round", "bytes", "memory", "memory-sent",
                 "zero-pages", "dirty", "bandwidth", "dirty-rate",
                 "downtime-ms", "elapsed-ms", "throttle", "decision"},
    "result": {"id", "what", "ok", "code", "text", "guest", "elapsed-ms",
               "downtime-ms", "predicted-downtime-ms", "fixed-cost-ms",
               "fixed-cost-samples", "digest-ms", "bytes",
               "memory", "memory-sent", "zero-pages", "skipped-pages",
               "rounds", "throttle", "pause"},
}
# A source's result once the destination reserved (also a migration that
# failed after that): the protocol it chose and the memory it can give
# (relocctl evacuate reads them).
RESERVED = {"protocol", "available"}
# A source's result once its stream went to the end: compressed or not,
# and the bytes its data frames took on the wire.
STREAMED = {"compression", "wire-bytes"}
# The parts of the pause: milliseconds, or null when not measured.
PAUSE = {"suspend-ms", "final-copy-ms", "state-ms", "digest-ms",
         "release-ms", "restore-ms", "commit-ms", "unpause-ms"}
# Once the downtime target is out of reach, progress and result say so.
TARGET = {"reason", "choice", "min-pause-ms", "max-downtime-ms"}
def target_bad(v):
    return (type(v) is not dict or set(v) != TARGET or
            v["reason"] not in ("fixed-cost", "not-converging") or
            v["choice"] not in ("stop-and-copy", "throttle", "abort") or
            any(type(v[k]) is not int or v[k] < 0
                for k in ("min-pause-ms", "max-downtime-ms")))
bad = []
# Strict UTF-8: a raw byte that is not UTF-8 is an error, not a guess.
lines = open(path, "rb").read().decode("utf-8").splitlines()
msgs = [json.loads(line) for line in lines]
for m in msgs:
    if not isinstance(m, dict) or m.get("type") not in FIELDS:
        bad.append("not a started, progress or result object: %r" % m)
        continue
    want = FIELDS[m["type"]]
    if m["type"] == "result" and kind in ("migrated", "checked",
                                          "unreachable"):
        want = want | RESERVED
    if m["type"] == "result" and kind == "migrated":
        want = want | STREAMED
    if set(m) - {"type", "target-unreachable"} != want or (
            "target-unreachable" in m and m["type"] == "started"):
        bad.append("%s has fields %s" % (m["type"], sorted(m)))
    for k, v in m.items():
        # bool is an int in Python: a number must not be true or false.
        if k in INT and (type(v) is not int or v < (-1 if k == "dirty" else 0)):
            bad.append("%s: %s is %r, not an integer" % (m["type"], k, v))
        if k in STR and type(v) is not str:
            bad.append("%s: %s is %r, not a string" % (m["type"], k, v))
        if k == "ok" and type(v) is not bool:
            bad.append("%s: ok is %r, not true or false" % (m["type"], v))
        if k == "pause" and (type(v) is not dict or set(v) != PAUSE or any(
                x is not None and (type(x) is not int or x < 0)
                for x in v.values())):
            bad.append("%s: pause is %r" % (m["type"], v))
        if k == "target-unreachable" and target_bad(v):
            bad.append("%s: target-unreachable is %r" % (m["type"], v))
types = [m.get("type") for m in msgs]
if types[:1] != ["started"] or types[-1:] != ["result"] or \
        types.count("started") != 1 or types.count("result") != 1:
    bad.append("not started, progress..., result: %s" % types)
res = msgs[-1]
rounds = [m.get("round") for m in msgs if m.get("type") == "progress"]
if kind == "migrated":
    if res.get("ok") is not True or res.get("what") != "migrate":
        bad.append("result is not a migration that worked: %r" % res)
    # Each pre-copy round once, in order (libxenguest asks twice a round).
    if rounds != sorted(set(rounds)):
        bad.append("progress rounds are not each once, in order: %s" % rounds)
    if len(rounds) < 2:
        bad.append("too few rounds reported to tell: %s" % rounds)
    if any(m["memory"] != res["memory"] for m in msgs
           if m.get("type") == "progress"):
        bad.append("progress and result disagree on memory")
    # The sim measures every part of the pause, the other host's too.
    if any(type(v) is not int for v in res.get("pause", {}).values()):
        bad.append("a sim migration left parts of its pause unmeasured: "
                   "%r" % res.get("pause"))
elif kind == "failed":
    if res.get("ok") is not False or res.get("code", 0) <= 0:
        bad.append("result is not a failure with a code: %r" % res)
elif kind == "unreachable":
    # Said in a progress report before the result, and in the result.
    told = [i for i, m in enumerate(msgs) if "target-unreachable" in m]
    t = res.get("target-unreachable", {})
    if res.get("ok") is not False or not told or \
            msgs[told[0]].get("type") != "progress" or \
            t.get("reason") != "not-converging" or t.get("choice") != "abort" \
            or t.get("max-downtime-ms") != 300 or \
            t.get("min-pause-ms", 0) <= 300:
        bad.append("the target out of reach was not told before the "
                   "result, or not as it was: %r" % [msgs[i] for i in told])
elif kind == "checked":
    if res.get("ok") is not True or res.get("what") != "check":
        bad.append("result is not a check that passed: %r" % res)
if len({m.get("id") for m in msgs}) != 1:
    bad.append("the lines name more than one job")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
}

# A busy guest (the relocd policy would stop after one round) under
# Xen's rule of five iterations, at a capped rate so that the rounds are
# far enough apart to be reported.
migrated() {
	ctl a sim-create --memory 64M --dirty-rate 20M --working-set 8M \
	    --pattern hot j1 >/dev/null || return 1
	ctl a migrate -l --json --policy xen-default --bandwidth 400 j1 "$B" \
	    >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/out" "$WORK/err"; return 1; }
	jsonl "$WORK/out" migrated || { cat "$WORK/out"; return 1; }
	[ ! -s "$WORK/err" ] && [ "$(running_on j1 a b)" = b ]
}
check "a migration's lines have their types and each round once" migrated

failed() {
	local rc=0
	ctl a migrate -l --json nosuch "$B" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" -eq 1 ] && jsonl "$WORK/out" failed &&
	    grep -q 'relocctl: migrate nosuch failed: no guest nosuch' "$WORK/err" ||
	    { echo "exit $rc"; cat "$WORK/out" "$WORK/err"; false; }
}
check "a failed migration: ok is false, the reason on stderr, exit 1" failed

# A guest dirtying faster than the link carries, with abort chosen: the
# policy says the target cannot be met, with the smallest pause, in a
# progress report before the result, and in the result.
unreachable() {
	local rc=0
	ctl a sim-create --memory 128M --dirty-rate 100M j3 >/dev/null || return 1
	sleep 0.3
	ctl a migrate -l --json --bandwidth 80 --abort-if-busy j3 "$B" \
	    >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" -eq 1 ] && jsonl "$WORK/out" unreachable &&
	    [ "$(running_on j3 a b)" = a ] ||
	    { echo "exit $rc"; cat "$WORK/out" "$WORK/err"; false; }
}
check "a target out of reach is told in progress before the result, and in it" unreachable
ctl a sim-destroy j3 >/dev/null

# A capped migration whose budget ends inside round 0: no progress report
# came (a round's end does), yet the result says what the stream sent.
cut() {
	local rc=0
	ctl a sim-create --memory 64M j2 >/dev/null || return 1
	ctl a migrate -l --json --bandwidth 1 --timeout 3 j2 "$B" \
	    >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" -eq 1 ] && [ "$(running_on j2 a b)" = a ] &&
	    python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
res, reported = lines[-1], [l["bytes"] for l in lines if l["type"] == "progress"]
# More than round 0 had sent when it began: the stream ran for seconds.
sys.exit(0 if res["type"] == "result" and res["ok"] is False and
         reported and res["bytes"] > max(reported) else 1)' "$WORK/out" ||
	    { echo "exit $rc"; cat "$WORK/out" "$WORK/err"; false; }
}
check "a migration cut inside a round reports the bytes it sent" cut

checked() {
	ctl b check --json j1 "127.0.0.1:$PA" >"$WORK/out" 2>&1 &&
	    jsonl "$WORK/out" checked || { cat "$WORK/out"; false; }
}
check "relocctl check --json: ok is true" checked

# fake_relocd SCENARIO: a fake daemon on $WORK/fake.sock that takes one
# request and answers with the scenario's replies (sxp, with the reader's
# \xHH escapes for bytes relocd would not write), then goes.
fake_relocd() {
	rm -f "$WORK/fake.sock"
	python3 - "$WORK/fake.sock" "$1" <<'EOF' &
import socket, struct, sys

ID = b"00112233445566778899aabbccddeeff"
SCENARIOS = {
    "odd": [
        b"(started (id " + ID + b") (what migrate))",
        # dirty -1: libxenguest had not counted yet.
        b"(progress (id " + ID + b") (round 1) (dirty -1) (throttle 100))",
        # Two ok fields (the first decides), a peer's text that is not
        # UTF-8, numbers that are not numbers or out of range, fields
        # with no value or a list, and a field relocctl does not know.
        b"(result (id " + ID + b") (what migrate) (ok yes) (ok no) "
        b"(code 0) (text 'caf\\xc3\\xa9 \\xff|\\xc0\\xaf|\\xed\\xa0\\x80|"
        b"\\xe2\\x82x|\\xf4\\x90\\x80\\x80|tab\\there\\x01 \\xe2\\x82') "
        b"(guest g1) (bytes -5) (rounds x) (memory) (digest-ms (1 2)) "
        b"(elapsed-ms 99999999999999999999) (extra 'new field'))",
    ],
    "nul": [
        b"(started (id " + ID + b") (what migrate))",
        b"(result (id " + ID + b") (what migrate) (ok no) (code 5) "
        b"(text 'cut\\x00short') (guest g1))",
    ],
    "error": [b"(error (text 'no guest \\xff here'))"],
    # status and list --json (lists of objects, a repeated name): bad
    # numbers in a job, a peer's non-UTF-8, an item that is not a list,
    # a listener without an address, a second jobs list (the first
    # decides).
    "status": [
        b"(status (version 1.0) (backend sim) (host 'h\\xff') "
        b"(listen-tls 127.0.0.1:1) (listen-plain) (listen-tls '[::1]:1') "
        b"(jobs (job (id " + ID + b") (bytes -5) (round 3) (ok yes)) junk "
        b"(job (guest 'caf\\xc3\\xa9') (memory 12))) (jobs))",
    ],
    "guests": [
        b"(guests (guest (name g1) (domid 7) (type hvm) (vcpus x)) junk "
        b"(guest))",
    ],
    # A destination's reason that would clear the terminal and forge a
    # line, as a peer can send it through relocd.
    "hostile": [
        b"(started (id " + ID + b") (what migrate))",
        b"(result (id " + ID + b") (what migrate) (ok no) (code 5) "
        b"(text 'refused\\x1b[2J\\nrelocctl: migrate g1: done') "
        b"(guest g1))",
    ],
}
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(1)
srv.settimeout(20)
conn, _ = srv.accept()
conn.settimeout(20)
hdr = conn.recv(4, socket.MSG_WAITALL)
conn.recv(struct.unpack(">I", b"\0" + hdr[1:])[0], socket.MSG_WAITALL)
for reply in SCENARIOS[sys.argv[2]]:
    conn.sendall(b"C" + struct.pack(">I", len(reply))[1:] + reply)
conn.close()
EOF
	FAKE=$!
	for i in $(seq 1 100); do
		[ -S "$WORK/fake.sock" ] && return 0
		sleep 0.05
	done
	return 1
}

# fake NAME ARGS...: relocctl ARGS against the fake daemon's scenario
# NAME; stdout to $WORK/out, stderr to $WORK/err, the status in FAKERC.
fake() {
	local name=$1
	shift
	fake_relocd "$name" || return 1
	FAKERC=0
	ctl a -S "$WORK/fake.sock" "$@" >"$WORK/out" 2>"$WORK/err" || FAKERC=$?
	wait "$FAKE"
}

# want FILE PYTHON: FILE's lines, parsed as JSON (strictly UTF-8), are
# the list m; PYTHON is an expression of m that must be true.
want() {
	python3 -c '
import json, sys
m = [json.loads(l) for l in
     open(sys.argv[1], "rb").read().decode("utf-8").splitlines()]
ok = eval("(" + sys.argv[2] + ")")
if not ok:
    print("not %s:" % sys.argv[2], m)
sys.exit(0 if ok else 1)' "$@"
}

odd() {
	local text
	fake odd migrate --json g1 host || return 1
	# Python's own reading of the same bytes is the reference.
	text=$(printf '%s' 'caf\xc3\xa9 \xff|\xc0\xaf|\xed\xa0\x80|\xe2\x82x|\xf4\x90\x80\x80|tab\there\x01 \xe2\x82')
	[ "$FAKERC" -eq 0 ] &&
	    want "$WORK/out" 'len(m) == 3 and m[1]["dirty"] == -1 and
		m[1]["round"] == 1 and m[2]["ok"] is True and
		m[2]["code"] == 0 and type(m[2]["code"]) is int and
		m[2]["text"] == bytes(sys.argv[3], "ascii").decode(
		    "unicode_escape").encode("latin-1").decode("utf-8",
		    "replace") and
		m[2]["bytes"] is None and m[2]["rounds"] is None and
		m[2]["memory"] is None and m[2]["digest-ms"] is None and
		m[2]["elapsed-ms"] is None and
		m[2]["extra"] == "new field" and list(m[2])[0] == "type"' \
	    "$text" &&
	    grep -q 'relocd sent a bad bytes (not an integer from 0 to' "$WORK/err" ||
	    { echo "exit $FAKERC"; cat "$WORK/out" "$WORK/err"; false; }
}
check "bytes that are not UTF-8, bad numbers, odd fields: valid, typed JSON" odd

nul() {
	fake nul migrate --json g1 host || return 1
	[ "$FAKERC" -eq 1 ] &&
	    want "$WORK/out" 'm[-1]["text"] is None and m[-1]["ok"] is False' ||
	    { echo "exit $FAKERC"; cat "$WORK/out" "$WORK/err"; false; }
}
check "a text with a NUL in it is null, not cut short" nul

error() {
	fake error migrate --json g1 host || return 1
	[ "$FAKERC" -eq 1 ] &&
	    want "$WORK/out" 'm == [{"type": "error",
		"text": "no guest \ufffd here"}]' &&
	    grep -q '^relocctl: relocd: no guest' "$WORK/err" ||
	    { echo "exit $FAKERC"; cat "$WORK/out" "$WORK/err"; false; }
}
check "an error reply is a JSON line too, and a sentence on stderr" error

lists() {
	fake status status --json || return 1
	[ "$FAKERC" -eq 0 ] &&
	    want "$WORK/out" 'len(m) == 1 and m[0]["type"] == "status" and
		m[0]["host"] == "h\ufffd" and
		m[0]["listen-tls"] == ["127.0.0.1:1", "[::1]:1"] and
		m[0]["listen-plain"] == [None] and len(m[0]["jobs"]) == 2 and
		m[0]["jobs"][0]["bytes"] is None and
		m[0]["jobs"][0]["round"] == 3 and
		m[0]["jobs"][0]["ok"] is True and
		m[0]["jobs"][1] == {"guest": "caf\u00e9", "memory": 12}' ||
	    { echo "exit $FAKERC"; cat "$WORK/out" "$WORK/err"; return 1; }
	fake guests list --json || return 1
	[ "$FAKERC" -eq 0 ] &&
	    want "$WORK/out" 'm == [{"type": "guests", "guests": [
		{"name": "g1", "domid": 7, "type": "hvm", "vcpus": None},
		{}]}]' &&
	    grep -q 'relocd sent a bad vcpus' "$WORK/err" ||
	    { echo "exit $FAKERC"; cat "$WORK/out" "$WORK/err"; false; }
}
check "status and list --json: lists typed item by item, odd replies valid" lists

# The terminal gets a peer's bytes escaped: no ESC, no forged line.
hostile() {
	fake hostile migrate g1 host || return 1
	[ "$FAKERC" -eq 1 ] && ! grep -q $'\x1b' "$WORK/err" &&
	    [ "$(wc -l <"$WORK/err")" -eq 1 ] &&
	    grep -qF 'failed: refused\x1b[2J\x0arelocctl: migrate g1: done' \
	    "$WORK/err" ||
	    { echo "exit $FAKERC"; cat -v "$WORK/out" "$WORK/err"; false; }
}
check "a peer's text reaches the terminal escaped" hostile
check "no stray relocd processes" no_stray_children

exit $CASES_FAILED
