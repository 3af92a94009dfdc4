#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Metrics Prometheus can scrape (issue 23): relocd-metrics-file and
# relocctl metrics carry the same text, which python3-prometheus-client's
# parser reads as valid exposition format, and whose values follow what
# happened: a migration that succeeded, one that a third host refused by
# hosts-allow, one cancelled, a TLS refusal and a hosts-allow refusal, a
# name clash at the reserve, a peers-allow refusal, and a migration left
# in doubt until relocctl resolve.  The file is replaced atomically with
# mode 0644 under umask 077, and a write failure is logged once.
. "$TOP/tests/regress/lib"

# The parser: Debian's python3-prometheus-client (scripts/install-deps),
# which a python3 of another prefix in PATH may not see.
PY=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import prometheus_client.parser' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || die "python3-prometheus-client is missing: run scripts/install-deps"

two_hosts
make_host_cert c
PC=$(free_port)
write_conf a "$PA" "(relocd-metrics-file $WORK/a/prom/relocd.prom)"
write_conf b "$PB" "(relocd-metrics-file $WORK/b/prom/relocd.prom)" \
    "(xend-relocation-hosts-allow '^127\\\\.0\\\\.0\\\\.1\$')"
# c allows no loopback peer: a's migration to it is refused at accept.
write_conf c "$PC" "(xend-relocation-hosts-allow '^192\\\\.0\\\\.2\\\\.1\$')"
mkdir -p "$WORK/a/prom" "$WORK/b/prom"
# As under systemd's UMask=0077: the file must still be 0644.
umask 077
start_relocd a
# gd's receiving worker waits after go, for the in-doubt case at the end.
RELOCD_FAULT="destination-worker-after-go@gd=20000" start_relocd b
start_relocd c
umask 022

# metric NAME FILE [LABELS]: one sample's value, or "absent".
metric() {
	awk -v n="$1" -v l="${3:-}" '
	    $1 == (l == "" ? n : n "{" l "}") { print $2; found = 1; exit }
	    END { if (!found) print "absent" }' "$2"
}

# valid FILE: the parser reads it, and every family has HELP and TYPE,
# a relocd_ name, and histograms whose +Inf bucket equals their count.
valid() {
	"$PY" - "$1" <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
helps = {l.split()[2] for l in text.splitlines() if l.startswith("# HELP ")}
types = {l.split()[2] for l in text.splitlines() if l.startswith("# TYPE ")}
assert helps == types and len(helps) >= 14, (helps ^ types, len(helps))
n = 0
for fam in text_string_to_metric_families(text):
    assert fam.name.startswith("relocd_"), fam.name
    assert fam.documentation, fam.name
    assert fam.type in ("counter", "gauge", "histogram"), (fam.name, fam.type)
    if fam.type == "histogram":
        by = {}
        for s in fam.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            by.setdefault(key, {})
            if s.name.endswith("_bucket"):
                by[key].setdefault("b", []).append(s.value)
                if s.labels["le"] == "+Inf":
                    by[key]["inf"] = s.value
            elif s.name.endswith("_count"):
                by[key]["count"] = s.value
        for key, h in by.items():
            assert h["b"] == sorted(h["b"]), (fam.name, key, h["b"])
            assert h["inf"] == h["count"], (fam.name, key)
    n += len(fam.samples)
assert n > 40, n
print("valid: %d families, %d samples" % (len(helps), n))
PYEOF
}

# Before anything happened: the file exists, is valid, counters are 0.
initial() {
	local i
	for i in $(seq 1 50); do
		[ -s "$WORK/b/prom/relocd.prom" ] && break
		sleep 0.1
	done
	valid "$WORK/b/prom/relocd.prom" &&
	    [ "$(metric relocd_migrations_started_total "$WORK/b/prom/relocd.prom" 'direction="in"')" = 0 ] &&
	    [ "$(metric relocd_certificate_expiry_timestamp_seconds "$WORK/b/prom/relocd.prom")" -gt "$(date +%s)" ]
}
check "at start: the file is written, valid, counters at zero, certificate expiry in the future" initial

mode() {
	[ "$(stat -c %a "$WORK/b/prom/relocd.prom")" = 644 ] &&
	    ! ls "$WORK/b/prom" | grep -v -x relocd.prom
}
check "mode 0644 despite umask 077, and no temporary file left beside it" mode

# 50 MB/s, so that the final round has pages and the policy predicts a
# pause of some milliseconds: at 5 MB/s the sim stream (version 2)
# finished round 0 so fast that the prediction rounded to 0 ms, which
# the prediction-error histogram counts as no prediction (metrics.c).
ok_migration() {
	ctl a sim-create --memory 64M --dirty-rate 50M g1 >/dev/null &&
	    ctl a migrate -l g1 "$B" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	[ "$(running_on g1 a b)" = b ]
}
check "a live migration a -> b" ok_migration

cancelled() {
	local id
	ctl a sim-create --memory 256M --dirty-rate 10M slow1 >/dev/null || return 1
	ctl a migrate -l --bandwidth 40 slow1 "$B" >"$WORK/out" 2>&1 &
	id=$(wait_job a streaming)
	[ -n "$id" ] && ctl a cancel "$id" >/dev/null || { ctl a status; return 1; }
	wait $! && return 1
	[ "$(running_on slow1 a b)" = a ] &&
	    wait_log b 'destroyed the half-built slow1'
}
check "a migration cancelled during pre-copy" cancelled

refused() {
	ctl a sim-create --memory 16M g2 >/dev/null || return 1
	! ctl a migrate -l g2 "127.0.0.1:$PC" >"$WORK/out" 2>&1 &&
	    [ "$(running_on g2 a)" = a ] &&
	    wait_log c 'address not in hosts-allow'
}
check "a migration to c, whose hosts-allow refuses loopback" refused

# A stranger on b's port: from 127.0.0.5 (hosts-allow), and plain bytes
# instead of a ClientHello from 127.0.0.1 (the TLS handshake).
strangers() {
	python3 "$TOP/tests/regress/admit.py" probe "$PB" 127.0.0.5 >/dev/null
	python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
try:
    s.recv(100)
except OSError:
    pass
' "$PB"
	wait_log b 'peer 127\.0\.0\.5: refused' &&
	    wait_log b 'peer 127\.0\.0\.1: refused: TLS handshake failed'
}
check "b refuses a stranger by hosts-allow, and one that speaks no TLS" strangers

# The file follows within a scrape: every end writes it, and the period
# (15 s) writes the gauges.  Poll relocctl metrics a little, bounded.
snapshot() {
	local i
	for i in $(seq 1 50); do
		ctl "$1" metrics >"$WORK/$1.ctl" || return 1
		[ -z "${2:-}" ] && break
		[ "$(metric relocd_refusals_total "$WORK/$1.ctl" "reason=\"$2\"")" != 0 ] &&
		    break
		sleep 0.1
	done
}

values_a() {
	local f=$WORK/a.ctl
	snapshot a
	valid "$f" &&
	    [ "$(metric relocd_migrations_started_total "$f" 'direction="out"')" = 3 ] &&
	    [ "$(metric relocd_migrations_ended_total "$f" 'direction="out",result="ok"')" = 1 ] &&
	    [ "$(metric relocd_migrations_ended_total "$f" 'direction="out",result="cancelled"')" = 1 ] &&
	    [ "$(metric relocd_migrations_ended_total "$f" 'direction="out",result="failed"')" = 1 ] &&
	    [ "$(metric relocd_migration_stream_bytes_total "$f" 'direction="out"')" -gt $((64 << 20)) ] &&
	    [ "$(metric relocd_migration_memory_bytes_total "$f" 'direction="out"')" = $((64 << 20)) ] &&
	    [ "$(metric relocd_migration_rounds_total "$f")" -ge 1 ] &&
	    [ "$(metric relocd_migration_downtime_seconds_count "$f" 'direction="out"')" = 1 ] &&
	    [ "$(metric relocd_migration_duration_seconds_count "$f" 'direction="out"')" = 1 ] &&
	    [ "$(metric relocd_migration_downtime_prediction_error_seconds_count "$f")" = 1 ] &&
	    [ "$(metric relocd_migrations_active "$f" 'direction="out"')" = 0 ] ||
	    { cat "$f"; return 1; }
}
check "a (source): 3 started, 1 ok, 1 cancelled, 1 failed; bytes, rounds, histograms" values_a

values_b() {
	local f=$WORK/b.ctl
	snapshot b tls
	valid "$f" &&
	    [ "$(metric relocd_migrations_started_total "$f" 'direction="in"')" = 2 ] &&
	    [ "$(metric relocd_migrations_ended_total "$f" 'direction="in",result="ok"')" = 1 ] &&
	    [ "$(metric relocd_migrations_ended_total "$f" 'direction="in",result="failed"')" = 1 ] &&
	    [ "$(metric relocd_migration_stream_bytes_total "$f" 'direction="in"')" -gt $((64 << 20)) ] &&
	    [ "$(metric relocd_migration_downtime_seconds_count "$f" 'direction="in"')" = 1 ] &&
	    [ "$(metric relocd_refusals_total "$f" 'reason="hosts_allow"')" = 1 ] &&
	    [ "$(metric relocd_refusals_total "$f" 'reason="tls"')" = 1 ] &&
	    [ "$(metric relocd_preauth_connections "$f")" = 0 ] ||
	    { cat "$f"; return 1; }
}
check "b (destination): 2 received, 1 ok; a hosts-allow and a TLS refusal" values_b

values_c() {
	ctl c metrics >"$WORK/c.ctl" &&
	    [ "$(metric relocd_refusals_total "$WORK/c.ctl" 'reason="hosts_allow"')" = 1 ] &&
	    [ "$(metric relocd_migrations_started_total "$WORK/c.ctl" 'direction="in"')" = 0 ]
}
check "c: the refused migration is a hosts-allow refusal, not a migration" values_c

# The file is the same text as relocctl metrics, up to the gauges'
# moment: compare the counters once the last end has been written.
same_text() {
	local i
	for i in $(seq 1 50); do
		grep -v -e '^relocd_preauth' "$WORK/a/prom/relocd.prom" >"$WORK/a.file" 2>/dev/null
		ctl a metrics | grep -v -e '^relocd_preauth' >"$WORK/a.now"
		cmp -s "$WORK/a.file" "$WORK/a.now" && return 0
		sleep 0.2
	done
	diff "$WORK/a.file" "$WORK/a.now"
	return 1
}
check "relocd-metrics-file holds what relocctl metrics prints" same_text

# A directory relocd cannot write to: one warning, not one per period.
write_error() {
	write_conf a "$PA" "(relocd-metrics-file $WORK/a/missing/relocd.prom)"
	kill -HUP "$(cat "$WORK/a/pid")"
	wait_log a 'configuration reloaded' &&
	    wait_log a "metrics: cannot write $WORK/a/missing/relocd.prom: No such file or directory; check" 5 &&
	    ctl a sim-create --memory 16M g3 >/dev/null &&
	    ctl a sim-destroy g3 >/dev/null &&
	    ctl a migrate -l g2 "127.0.0.1:$PC" >/dev/null 2>&1
	sleep 1.5
	[ "$(grep -c 'metrics: cannot write' "$WORK/a/log")" = 1 ] ||
	    { grep -e 'metrics:' -e reload "$WORK/a/log"; return 1; }
}
check "a write failure is logged once, with the path and what to do" write_error

# val NAME METRIC [LABELS]: one value from relocctl metrics now.
val() {
	ctl "$1" metrics >"$WORK/$1.val" && metric "$2" "$WORK/$1.val" "${3:-}"
}

# b already runs a g1 (the first case): the reserve finds the clash.
clash() {
	local before_b before_a
	before_b=$(val b relocd_migrations_ended_total 'direction="in",result="failed"')
	before_a=$(val a relocd_migrations_ended_total 'direction="out",result="failed"')
	ctl a sim-create --memory 16M g1 >/dev/null || return 1
	! ctl a migrate -l g1 "$B" >"$WORK/out" 2>&1 &&
	    grep -q 'name or uuid exists' "$WORK/out" || { cat "$WORK/out"; return 1; }
	ctl a sim-destroy g1 >/dev/null
	[ "$(val b relocd_refusals_total 'reason="clash"')" = 1 ] &&
	    [ "$(val b relocd_migrations_ended_total 'direction="in",result="failed"')" = $((before_b + 1)) ] &&
	    [ "$(val a relocd_migrations_ended_total 'direction="out",result="failed"')" = $((before_a + 1)) ]
}
check "a name clash at b's reserve: a clash refusal on b, a failed migration on both" clash

# c now takes loopback, but only peers named nobody.example.
peers_allow() {
	write_conf c "$PC" "(relocd-peers-allow 'nobody.example')"
	kill -HUP "$(cat "$WORK/c/pid")"
	wait_log c 'configuration reloaded' || return 1
	! ctl a migrate -l g2 "127.0.0.1:$PC" >"$WORK/out" 2>&1 &&
	    wait_log c 'certificate name not in relocd-peers-allow' &&
	    [ "$(val c relocd_refusals_total 'reason="peers_allow"')" = 1 ] &&
	    [ "$(val c relocd_refusals_total 'reason="tls"')" = 0 ]
}
check "a certificate name relocd-peers-allow refuses: a peers_allow refusal on c" peers_allow

# b dies after go: a cannot learn where gd runs, and keeps it suspended
# (15 questions, 2 s apart: parent_out.c), until relocctl resolve.
in_doubt() {
	local rc i g
	ctl a sim-create --memory 16M gd >/dev/null || return 1
	ctl a migrate -l gd "$B" >"$WORK/gd.out" 2>&1 &
	local mpid=$!
	wait_log b 'fault point destination-worker-after-go for gd' 20 ||
	    { kill $mpid; return 1; }
	kill_relocd b
	for i in $(seq 1 100); do
		g=$(val a relocd_migrations_in_doubt)
		[ "$g" = 1 ] && break
		sleep 0.1
	done
	[ "$g" = 1 ] || { echo "in doubt while asking: $g"; return 1; }
	wait $mpid
	rc=$?
	[ "$rc" -eq 4 ] || { echo "migrate exited $rc"; cat "$WORK/gd.out"; return 1; }
	[ "$(val a relocd_migrations_ended_total 'direction="out",result="in_doubt"')" = 1 ] &&
	    [ "$(val a relocd_migrations_in_doubt)" = 1 ] || return 1
	ctl a resolve --force-destroy gd >/dev/null 2>&1
	[ "$(val a relocd_migrations_in_doubt)" = 0 ]
}
check "in doubt after go: counted while asking and after, until resolve settles it" in_doubt

exit "$CASES_FAILED"
