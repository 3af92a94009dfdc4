#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Without -d, relocd daemonizes and logs to syslog, and so must every
# process it starts: the network children it forks and the workers it
# execs, whose stderr daemon() pointed at /dev/null.  relocd a runs in a
# private mount namespace whose /dev/log is a datagram socket this test
# reads, so the machine's own syslog sees nothing; b runs with -d as
# usual.  Migrations between them must leave lines from a's parent, its
# workers and its network child in the sink, and none in b's stderr.
. "$TOP/tests/regress/lib"

[ "$(id -u)" -eq 0 ] || skip "needs root for a private mount namespace"
unshare -m --propagation private true 2>/dev/null ||
    skip "unshare -m does not work here"

two_hosts
start_relocd b
SINK=$WORK/syslog

# The sink: one line per datagram, as syslogd would receive it.
dgram_sink "$WORK/syslog.sock" "$SINK"

# A /dev of its own for relocd a: a tmpfs with the device nodes relocd
# uses bound in from the real /dev, /dev/shm for the sim guests, and
# /dev/log pointing at the sink.  Mounts made here stay in the namespace.
# relocd daemonizes, so unshare returns once the parent has forked off.
unshare -m --propagation private /bin/bash -e -c '
	w=$1 d=$1/dev
	shift
	mkdir "$d"
	mount -t tmpfs -o mode=755,size=1m relocd-test-dev "$d"
	for n in null zero full random urandom; do
		touch "$d/$n"
		mount --bind "/dev/$n" "$d/$n"
	done
	mkdir "$d/shm"
	mount --rbind /dev/shm "$d/shm"
	ln -s /proc/self/fd "$d/fd"
	ln -s "$w/syslog.sock" "$d/log"
	mount --move "$d" /dev
	exec "$@"
' syslog-ns "$WORK" "$RELOCD" -v -f "$WORK/a/xend-config.sxp" ||
    die "relocd a (without -d) did not start"

# sink_has REGEX: until the sink has a matching line (5 s).
sink_has() {
	local i
	for i in $(seq 1 100); do
		grep -qE "$1" "$SINK" && return 0
		sleep 0.05
	done
	return 1
}

# The daemon's pid comes from its own "relocd started" line (LOG_PID).
sink_has 'relocd\[[0-9]+\]: parent: relocd started' ||
    { cat "$SINK" >&2; die "relocd a did not log its start to syslog"; }
PA_PID=$(sed -nE 's/.*relocd\[([0-9]+)\]: parent: relocd started.*/\1/p' \
    "$SINK" | head -n 1)
PIDS+=("$PA_PID")
echo "$PA_PID" >"$WORK/a/pid"
for i in $(seq 1 100); do
	[ -S "$WORK/a/relocd.sock" ] && break
	sleep 0.05
done

# other_pid ROLE: a line from ROLE logged by a process other than the parent.
other_pid() {
	grep -E "relocd\[[0-9]+\]: $1: " "$SINK" |
	    grep -vq "relocd\[$PA_PID\]" || return 1
	grep -E "relocd\[[0-9]+\]: $1: " "$SINK" | grep -v "relocd\[$PA_PID\]" |
	    grep -qE "$2"
}

worker_logs() {
	ctl a sim-create --memory 32M sl1 >/dev/null || return 1
	sink_has 'worker: created sim guest sl1' &&
	    other_pid worker 'created sim guest sl1' ||
	    { echo "--- sink:"; cat "$SINK"; false; } >&2
}
check "a worker of a relocd without -d logs to syslog" worker_logs

# a sends sl1 to b (a's worker saves it), and b sends it back (a's
# network child serves b, a's worker restores it).
migration_logs() {
	ctl a migrate -l sl1 "$B" >"$WORK/out" 2>&1 &&
	    ctl b migrate -l sl1 "127.0.0.1:$PA" >>"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	sink_has 'worker: migration [0-9a-f]+: sl1 saved' &&
	    sink_has 'worker: migration [0-9a-f]+: sl1 restored, digest verified' &&
	    other_pid worker 'sl1 saved' && other_pid net 'peer 127\.0\.0\.1' &&
	    ! grep -q 'relocd\[' "$WORK/b/log" ||
	    { echo "--- sink:"; cat "$SINK"; false; } >&2
}
check "a migration's workers and network child log to syslog" migration_logs

exit $CASES_FAILED
