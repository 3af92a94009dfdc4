#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Under systemd, relocd -d writes to the journal's stream, which files
# each line at the priority of its sd-daemon(3) "<N>" prefix: that is
# what makes `journalctl -u relocd -p warning` show warnings and not info
# lines.  systemd names its stream in JOURNAL_STREAM=dev:ino; here that
# is the file relocd a's stderr goes to.  Every process logs through
# log.c, so the parent, a worker and a network child must all prefix.
# relocd b inherits a JOURNAL_STREAM that is not its stderr (a shell
# started from the unit, say, writing to a terminal) and c has none:
# neither may print a prefix.
. "$TOP/tests/regress/lib"

two_hosts
make_host_cert c
write_conf c "$(free_port)"
: >"$WORK/a/log"
JOURNAL_STREAM=$(stat -c %d:%i "$WORK/a/log") start_relocd a
JOURNAL_STREAM=$(stat -c %d:%i /dev/null) start_relocd b
JOURNAL_STREAM= start_relocd c

# A worker logs info lines (and, with -v, debug ones) for a migration.
ctl a sim-create --memory 32M j1 >/dev/null || die "sim-create j1"
ctl a migrate -l j1 "$B" >/dev/null || die "migrate j1"
# A failed job: the parent logs the worker's failure as an error.
ctl a migrate -l no-such-guest "$B" >/dev/null 2>&1
# A peer that does not speak TLS: the network child warns.
plain_peer() {
	exec 3<>"/dev/tcp/127.0.0.1/$1" && echo hello >&3 && exec 3>&-
}
plain_peer "$PA"
plain_peer "$PB"
wait_log a 'TLS handshake failed' || die "a logged no refusal"
wait_log b 'TLS handshake failed' || die "b logged no refusal"
wait_log a 'worker [0-9]+ ended with status' || die "a logged no failed job"

has() { grep -qE "$2" "$WORK/$1/log"; }
check "warning <4> (network child: peer refused)" \
    has a '^<4>net: peer 127\.0\.0\.1: refused: TLS handshake failed'
check "info <6> (parent)" has a '^<6>parent: relocd started'
check "info <6> (worker)" has a '^<6>worker: migration [0-9a-f]+: j1 saved'
check "error <3> (parent: a job failed)" \
    has a '^<3>parent: worker [0-9]+ ended with status 1$'
check "debug <7> (-v)" has a '^<7>worker: '
prefixed() { ! grep -vqE '^<[0-7]>(parent|worker|net): ' "$WORK/a/log"; }
check "every line of a carries a priority" prefixed
bare() { ! grep -qE '^<[0-9]>' "$WORK/$1/log" && has "$1" '^parent: relocd started'; }
check "JOURNAL_STREAM names another file: no prefix" bare b
check "no JOURNAL_STREAM: no prefix" bare c
[ $CASES_FAILED -eq 0 ] || { sed 's/^/  a: /' "$WORK/a/log" | head -n 40; exit 1; }
