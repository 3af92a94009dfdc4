#!/bin/bash
# SPDX-License-Identifier: ISC
#
# relocd-evacuate.service, the shutdown hook (issue 22): its ExecStop,
# taken from etc/ as systemd would run it with /etc/default/relocd's
# variables, moves every guest of a to the peers RELOCD_EVACUATE_TO
# names (two, HOST:PORT each, blank-separated) and exits 0; with the
# list empty it moves nothing, says why and exits 0; a guest Pacemaker's
# agent marks stays, is named in the report, and the stop exits 1.
# relocctl there is this build's, pointed at a's config.
. "$TOP/tests/regress/lib"

unit=$TOP/etc/relocd-evacuate.service
two_hosts
make_host_cert c
PC=$(free_port)
write_conf c "$PC"
C=127.0.0.1:$PC
start_relocd a
start_relocd b
start_relocd c
export HA_RSCTMP=$WORK/rsctmp
mkdir -p "$HA_RSCTMP"

# The ExecStop= line, its continuation lines joined and systemd's "$$"
# made "$".  Its one quoted word has no backslash, so systemd's
# unquoting and the shell's agree and "set --" splits it as systemd does.
cat >"$WORK/relocctl" <<EOF
#!/bin/sh
exec "$RELOCCTL" -f "$WORK/a/xend-config.sxp" "\$@"
EOF
chmod 0755 "$WORK/relocctl"
stop_cmd=$(awk '/^ExecStop=/ { on = 1 } on { line = line $0 "\n";
    if ($0 !~ /\\$/) exit } END { printf "%s", line }' "$unit" |
    sed -e 's/\\$//' -e 's/^ExecStop=//' | tr '\n' ' ')
quoted=${stop_cmd#*\'}
case $quoted in *\\*) echo "ExecStop's quoted word has a backslash" >&2; exit 1 ;; esac
stop_cmd=${stop_cmd//\$\$/\$}
stop_cmd=${stop_cmd//\/usr\/sbin\/relocctl/$WORK\/relocctl}
[ "$stop_cmd" != "" ] && grep -q "$WORK/relocctl" <<<"$stop_cmd" ||
    { echo "no ExecStop running /usr/sbin/relocctl in $unit" >&2; exit 1; }

# hook_stop TO: the stop as systemd runs it, with RELOCD_EVACUATE_TO=TO.
hook_stop() {
	local to=$1
	eval "set -- $stop_cmd"
	env RELOCD_EVACUATE_TO="$to" RELOCD_EVACUATE_PARALLEL=2 "$@"
}

on() { running_on "$1" a b c; }

empty_list() {
	local rc
	hot_guests h1 h2 || return 1
	hook_stop "" >"$WORK/out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] && [ "$(on h1)" = a ] && [ "$(on h2)" = a ] &&
	    grep -q 'RELOCD_EVACUATE_TO in /etc/default/relocd names no host: no guest moved' \
	    "$WORK/out" || { echo "exit $rc"; cat "$WORK/out"; return 1; }
}
check "an empty RELOCD_EVACUATE_TO: nothing moves, it says why, exit 0" \
    empty_list

two_peers() {
	local rc g
	hot_guests h3 || return 1
	hook_stop " $B	$C " >"$WORK/out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] && grep -q 'this host is empty' "$WORK/out" ||
	    { echo "exit $rc"; cat "$WORK/out"; return 1; }
	for g in h1 h2 h3; do
		case $(on "$g") in
		b|c) ;;
		*) echo "$g runs on '$(on "$g")'"; cat "$WORK/out"; return 1 ;;
		esac
	done
}
check "RELOCD_EVACUATE_TO with two peers: a's guests go, exit 0" two_peers

pacemaker() {
	local rc
	hot_guests h4 h5 || return 1
	touch "$HA_RSCTMP/relocd-guest-h5.managed"
	hook_stop "$B" >"$WORK/out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] && [ "$(on h4)" = b ] && [ "$(on h5)" = a ] &&
	    grep -q 'h5 .*stays here: Pacemaker manages it' "$WORK/out" ||
	    { echo "exit $rc"; cat "$WORK/out"; return 1; }
	rm -f "$HA_RSCTMP/relocd-guest-h5.managed"
	ctl a sim-destroy h5 >/dev/null
}
check "a guest Pacemaker marks stays, named, and the stop exits 1" pacemaker
check "no stray relocd processes" no_stray_children
exit $CASES_FAILED
