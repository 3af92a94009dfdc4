#!/bin/bash
# SPDX-License-Identifier: ISC
# relocd.service is Type=notify: relocd says READY=1 only once it listens,
# RELOADING=1 then READY=1 around a SIGHUP reload (a failed one included),
# and STOPPING=1 on SIGTERM.  A datagram socket stands in for systemd.
. "$TOP/tests/regress/lib"

ensure_user
make_pki a
write_conf a "$(free_port)"

# The stand-in for systemd: one line per notification datagram.
dgram_sink "$WORK/notify.sock" "$WORK/notify.log"

# wait_notify N: until the stand-in has N notifications (5 s).
wait_notify() {
	local i
	for i in $(seq 1 100); do
		[ "$(wc -l <"$WORK/notify.log")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
notes() { tr '\n' ' ' <"$WORK/notify.log"; }

NOTIFY_SOCKET=$WORK/notify.sock start_relocd a
pid=$(cat "$WORK/a/pid")
wait_notify 1
# READY=1 must come after the listener is bound, i.e. once it is logged.
check "READY=1 once the listener is bound" \
    test "$(notes)" = "READY=1 " -a -n "$(grep 'listening on' "$WORK/a/log")"

kill -HUP "$pid"
wait_notify 3
check "SIGHUP: RELOADING=1 then READY=1" test "$(notes)" = "READY=1 RELOADING=1 READY=1 "

echo '(relocd-no-such-key 1)' >>"$WORK/a/xend-config.sxp"
kill -HUP "$pid"
wait_notify 5
check "a failed reload still ends with READY=1" \
    test "$(notes)" = "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 "

kill -TERM "$pid"
wait_notify 6
check "SIGTERM: STOPPING=1" test "$(sed -n 6p "$WORK/notify.log")" = "STOPPING=1"
[ $CASES_FAILED -eq 0 ] || { echo "notifications: $(notes)"; exit 1; }
