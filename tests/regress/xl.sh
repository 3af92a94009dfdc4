#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The xl plugin (relocd-xl) without Xen: xlsend.py plays `xl migrate`
# (banner, stream, ready -> go -> report) through relocd-xl and relocd to
# fake-xl, which plays `xl migrate-receive`.  Bytes must arrive intact
# both ways, the end of each direction must reach the other side, xl's
# flags and exit status must come through exactly, and every request
# must be checked (certificate, hosts-allow, peers-allow, the words,
# relocd-max-migrations, relocd-idle-timeout) and logged.
. "$TOP/tests/regress/lib"

ensure_user
make_pki dest client outsider bounded noxl dual plainxl
PKI2=$WORK/pki-other
"$PKI" init -d "$PKI2" >/dev/null && "$PKI" host -d "$PKI2" client 127.0.0.1 >/dev/null ||
    die "second CA"
P=$WORK/pki
FAKE=$TOP/tests/regress/fake-xl
XLSEND="python3 $TOP/tests/regress/xlsend.py"
RELOCD_XL=$TOP/$O/relocd-xl

PORT=$(free_port)
write_conf dest "$PORT" "(relocd-xl-command $FAKE)" \
    "(xend-relocation-hosts-allow '^127\\\\.0\\\\.0\\\\.1\$')" \
    "(relocd-peers-allow 'client')"
start_relocd dest

# Client configs: the plugin reads the same file as relocd (its
# certificate, the CA, the default port).
client_conf() {
	local name=$1 pki=$2
	write_conf "$name" "$PORT"
	sed -i "s|$WORK/pki/$name|$pki/client|" "$WORK/$name/xend-config.sxp"
}
client_conf client "$P"
client_conf other-ca "$PKI2"
write_conf outsider "$PORT"

# xl_to NAME [PORT]: the relocd-xl command line xl would run, with NAME's config.
xl_to() { echo "$RELOCD_XL -f $WORK/$1/xend-config.sxp 127.0.0.1:${2:-$PORT}"; }
logged() { wait_log dest "$1" 15; }

# --- the stream, both ways -------------------------------------------
migrate() {
	local out
	out=$($XLSEND --size $((4 << 20)) --back $((3 << 20)) -- \
	    $(xl_to client) xl -t -T -vv migrate-receive -e -d -p) || { echo "$out"; return 1; }
	echo "$out" >"$WORK/migrate.out"
	# What fake-xl read must be what xlsend sent (digest in relocd's log).
	logged "xl: fake-xl: received 4194304 bytes sha256 $(sed -n 's/.*sha256 \([0-9a-f]*\);.*/\1/p' "$WORK/migrate.out")"
}
check "4 MiB to xl and 3 MiB back, ready/go/report, exit 0" migrate
check "xl gets exactly the flags asked for" logged 'xl: fake-xl: argv: -t -T -vv migrate-receive -e -d -p$'
check "the receive is logged with peer, certificate, flags and result" \
    logged "xl-receive [0-9a-f]{32} from peer 127\\.0\\.0\\.1 \\(client\\): xl -t -T -vv migrate-receive -e -d -p: xl exited with status 0"
# What xl used is in the worker's rusage: bench scenario 8 subtracts it.
check "the worker logs the CPU xl used" \
    logged "xl-receive [0-9a-f]{32}: xl used cpu [0-9]+\\.[0-9]{3} s user, [0-9]+\\.[0-9]{3} s system"

status() {
	$XLSEND --size 100000 --exit 3 -- $(xl_to client) xl migrate-receive >/dev/null &&
	    logged 'xl exited with status 3'
}
check "xl's exit status (3) is relocd-xl's" status

halfclose() {
	local out
	out=$($XLSEND --mode eof --size $((2 << 20)) --back 100000 -- \
	    $(xl_to client) xl migrate-receive) || { echo "$out"; return 1; }
	logged "fake-xl: stdin ended after 2097152 bytes"
}
check "half-close: stdin's end reaches xl, and its answer still comes back" halfclose

# --- what may be asked for -------------------------------------------
refused_cmd() {
	local err
	err=$($(xl_to client) xl destroy hb-guest </dev/null 2>&1 >/dev/null)
	[ $? -eq 1 ] && [[ $err == *"refused: request not permitted"* ]] ||
	    { echo "$err"; return 1; }
}
check "another xl command is refused (relocd-xl exits 1, says why)" refused_cmd
check "and logged with the words and the certificate" \
    logged "refused \\(request not permitted\\): xl request 'xl destroy hb-guest' from certificate client: xl command 'destroy' is not allowed"

as_client() { $PEER xl-receive --port "$PORT" --ca "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" "$@"; }
check "a flag xl migrate never sends (-F) is refused" \
    as_client --args "xl migrate-receive -F" --expect '^\(error \(code 16\)'
check "a flag before the command that belongs after it is refused" \
    as_client --args "xl -e migrate-receive" --expect '^\(error \(code 16\)'
check "a shell command is refused" \
    as_client --args "sh -c reboot" --expect '^\(error \(code 16\)'
check "a word with a newline is refused and logged cleaned" \
    as_client --args $'xl migrate-receive -e\nreboot' --expect '^\(error \(code 16\)'
check "the newline never reaches the log" logged "migrate-receive option '-e\\?reboot' is not allowed"
check "five -v (more than xl passes) are refused" \
    as_client --args "xl -vvvvv migrate-receive" --expect '^\(error \(code 16\)'
check "a well-formed request through peer.py starts xl" \
    as_client --args "xl -vvvv migrate-receive -e" --expect '^\(xl-started \(id '

# --- who may ask ------------------------------------------------------
other_ca() {
	local err
	err=$($(xl_to other-ca) xl migrate-receive </dev/null 2>&1 >/dev/null)
	[ $? -eq 1 ] && [[ $err == *"127.0.0.1"* ]] || { echo "$err"; return 1; }
}
check "a certificate from another CA is refused" other_ca
check "and logged" logged 'TLS handshake failed: unknown CA'
check "no client certificate is refused" $PEER xl-receive --port "$PORT" \
    --ca "$P/ca.pem" --expect exception

outsider() {
	local err
	err=$($(xl_to outsider) xl migrate-receive </dev/null 2>&1 >/dev/null)
	[ $? -eq 1 ] && [[ $err == *"refused: not authorized"* ]] || { echo "$err"; return 1; }
}
check "a certificate name not in relocd-peers-allow is refused" outsider
check "and logged" logged 'refused \(not authorized\): certificate name not in relocd-peers-allow'
# Closed at accept, before TLS: no error frame, no certificate.
check "an address not in hosts-allow is refused" as_client --source 127.0.0.2 \
    --expect '^exception'
check "and logged" logged 'peer 127.0.0.2: refused \(not authorized\): address not in hosts-allow'

# --- bounds and failures ----------------------------------------------
PORT2=$(free_port)
write_conf bounded "$PORT2" "(relocd-xl-command $FAKE)" "(relocd-max-migrations 1)" \
    "(relocd-idle-timeout 15)"
start_relocd bounded
mkfifo "$WORK/hold"
# A receive that waits for its stream: fake-xl sits at the header.
sleep 30 >"$WORK/hold" &
HOLDER=$!
$(xl_to client "$PORT2") xl migrate-receive <"$WORK/hold" >/dev/null 2>"$WORK/held.err" &
HELD=$!
busy() {
	wait_log bounded 'xl-receive [0-9a-f]*: running' 15 || return 1
	local err
	err=$($(xl_to client "$PORT2") xl migrate-receive </dev/null 2>&1 >/dev/null)
	[[ $err == *"refused: busy, try again later"* ]] || { echo "$err"; return 1; }
}
check "relocd-max-migrations counts xl receives" busy
sandboxed() {
	[ "$(id -u)" -eq 0 ] || return 0
	local pid uid
	# HELD is relocd-xl itself, or a shell around it; relocd-xl's own
	# child is its key process, which does not pump.
	pid=$HELD
	[ "$(cat /proc/$HELD/comm)" = relocd-xl ] ||
	    pid=$(pgrep -P $HELD -x relocd-xl)
	uid=$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)
	[ "$uid" = "$(id -u relocd)" ] &&
	    [ "$(readlink /proc/$pid/root)" = "$WORK/client/empty" ] &&
	    grep -q '^Seccomp:[[:space:]]*2' /proc/$pid/status
}
check "relocd-xl pumps as relocd-user, chrooted, under seccomp" sandboxed
idle() {
	# No byte either way: dropped at relocd-idle-timeout (15 s).
	timeout 60 tail --pid=$HELD -f /dev/null
	wait $HELD
	[ $? -eq 1 ] && grep -q 'relocd on 127.0.0.1 port .* refused: deadline passed' "$WORK/held.err" ||
	    { cat "$WORK/held.err"; return 1; }
}
check "an idle receive is dropped at relocd-idle-timeout" idle
check "and logged" wait_log bounded 'xl-receive: idle deadline passed' 15
kill $HOLDER 2>/dev/null

PORT3=$(free_port)
write_conf noxl "$PORT3" "(relocd-xl-command /nonexistent/xl)"
start_relocd noxl
noxl() {
	local err
	err=$($(xl_to client "$PORT3") xl migrate-receive </dev/null 2>&1 >/dev/null)
	[ $? -eq 1 ] && [[ $err == *"refused: not supported here"* ]] || { echo "$err"; return 1; }
}
check "an xl that cannot be run is reported to the plugin" noxl
check "with the reason in relocd's log" wait_log noxl \
    'cannot run /nonexistent/xl \(relocd-xl-command\): No such file or directory' 15

# Listening on every address ('' as in xend's sample), an IPv4 peer
# arrives as ::ffff:127.0.0.1 and must still match an IPv4 hosts-allow.
PORT4=$(free_port)
write_conf dual "$PORT4" "(relocd-xl-command $FAKE)" \
    "(xend-relocation-hosts-allow '^127\\\\.0\\\\.0\\\\.1\$')"
sed -i "s/^(xend-relocation-address 127.0.0.1)/(xend-relocation-address '')/" \
    "$WORK/dual/xend-config.sxp"
start_relocd dual
dual() {
	$XLSEND --size 100000 -- $(xl_to client "$PORT4") xl migrate-receive >/dev/null &&
	    wait_log dual 'xl-receive [0-9a-f]* from peer 127\.0\.0\.1 \(client\)' 15
}
check "a listener on every address sees an IPv4 peer as IPv4 (hosts-allow)" dual

# relocd-insecure-plaintext: relocd-xl splices xl's stdin pipe to the
# socket (issue 21), and the bytes still arrive intact both ways.
PORT5=$(free_port)
write_conf plainxl "$PORT5" "(relocd-xl-command $FAKE)" \
    "(relocd-insecure-plaintext yes)"
start_relocd plainxl
plainxl() {
	local out
	command -v strace >/dev/null || { echo "skipped: no strace"; return 0; }
	out=$($XLSEND --size $((4 << 20)) --back $((3 << 20)) -- \
	    strace -f -q -e trace=splice -o "$WORK/xl.trace" \
	    $(xl_to plainxl "$PORT5") xl migrate-receive) || { echo "$out"; return 1; }
	wait_log plainxl "xl: fake-xl: received 4194304 bytes sha256 $(echo "$out" |
	    sed -n 's/.*sha256 \([0-9a-f]*\);.*/\1/p')" 15 &&
	    grep -qE '^[0-9]+ +splice\(0, .*\) = [1-9][0-9]*$' "$WORK/xl.trace" ||
	    { echo "no splice of stdin with data:"; tail -n 5 "$WORK/xl.trace"; return 1; }
}
check "plaintext: relocd-xl splices xl's stream, which arrives intact" plainxl

# --- compression (issue 21) --------------------------------------------
# xl's stream compressed by relocd-xl and decompressed by relocd's
# network child: guest-like content (half its pages zero), intact at xl,
# fewer bytes on the wire, and both ends say so.
zsend() {
	local conf=$1
	shift
	$XLSEND --content guest --size $((8 << 20)) --back 100000 -- \
	    $RELOCD_XL -f "$WORK/$conf/xend-config.sxp" "$@" 127.0.0.1:$PORT \
	    xl migrate-receive 2>"$WORK/xl.err" >"$WORK/xl.out" ||
	    { cat "$WORK/xl.out" "$WORK/xl.err"; return 1; }
	logged "xl: fake-xl: received 8388608 bytes sha256 $(sed -n 's/.*sha256 \([0-9a-f]*\);.*/\1/p' "$WORK/xl.out")"
}
compressed() {
	local ratio
	zsend client --compress on || return 1
	ratio=$(sed -n "s/.*xl's stream to 127\.0\.0\.1: 8\.0 MiB went as [0-9.]* MiB on the wire (zstd, \([0-9.]*\)x)$/\1/p" "$WORK/xl.err")
	[ -n "$ratio" ] && awk -v r="$ratio" 'BEGIN { exit !(r >= 2) }' ||
	    { echo "ratio '$ratio'"; cat "$WORK/xl.err"; return 1; }
	logged "xl-receive [0-9a-f]{32}: running xl migrate-receive, the stream compressed \(zstd\)" &&
	    logged "xl exited with status 0 \(8388[0-9]{3} bytes in \([0-9]+ on the wire, zstd\), 100[0-9]{3} out\)"
}
check "--compress on: xl's stream arrives intact in fewer bytes, both ends say so" compressed
client_conf zclient "$P"
echo "(relocd-compress on)" >>"$WORK/zclient/xend-config.sxp"
config_key() {
	zsend zclient && grep -q "zstd, [0-9.]*x)$" "$WORK/xl.err" ||
	    { cat "$WORK/xl.err"; return 1; }
	zsend zclient --compress off && ! grep -q zstd "$WORK/xl.err"
}
check "relocd-compress on compresses; --compress off overrides it" config_key
check "--compress auto: intact, and reported" \
    eval 'zsend client --compress auto && grep -q "(zstd auto, [0-9.]*x)$" "$WORK/xl.err"'
bad_mode() {
	local err
	err=$($RELOCD_XL --compress maybe 127.0.0.1 xl migrate-receive 2>&1 </dev/null)
	[ $? -eq 1 ] && [[ $err == *"--compress maybe: not on, off or auto"* ]] ||
	    { echo "$err"; return 1; }
}
check "--compress maybe is refused, naming the option" bad_mode
as_zclient() { $PEER xl-zstd-bad --id "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" --port "$PORT" --ca "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" "$@"; }
check "a compression bomb in xl's stream is refused as a bad image" \
    as_zclient --hello "(hello (protocol 1) (protocol-max 7) (host p))" \
    --expect '^\(error \(code 13\)'
check "and logged" logged "refused \(guest image incomplete or corrupt\): a compressed frame"
check "zstd is not accepted from a peer that chose protocol 6" \
    as_zclient --hello "(hello (protocol 1) (protocol-max 6) (host p))" \
    --expect '^zstd not accepted: \(xl-started \(id [0-9a-f]+\)\)$'
# A relocd of protocol 6 (before compressed xl streams) never sees the
# offer, and relocd-xl says why the stream goes uncompressed.
old_dest() {
	serve_hello dest "(hello (protocol 6) (protocol-max 6) (release 0.2.0))"
	$RELOCD_XL -f "$WORK/client/xend-config.sxp" --compress on \
	    "127.0.0.1:$SERVE_PORT" xl migrate-receive </dev/null >/dev/null \
	    2>"$WORK/xl.err"
	serve_hello_done
	grep -q "relocd on 127.0.0.1 speaks protocol 6, before compressed xl streams (7): xl's stream goes uncompressed" \
	    "$WORK/xl.err" && grep -q '^then: (xl-receive (id [0-9a-f]*) (args xl migrate-receive))$' \
	    "$WORK/peer" || { cat "$WORK/xl.err" "$WORK/peer"; return 1; }
}
check "--compress on to a protocol 6 relocd: no offer, and relocd-xl says why" old_dest

usage() {
	local err
	err=$($RELOCD_XL 2>&1)
	[ $? -eq 1 ] && [[ $err == usage:* ]]
}
check "relocd-xl without arguments prints its usage and exits 1" usage
check "relocd is still running" relocd_alive dest
check "no worker or network child is left" no_stray_children

exit $CASES_FAILED
