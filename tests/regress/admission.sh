#!/bin/bash
# SPDX-License-Identifier: ISC
#
# hosts-allow is decided by the parent at accept (issue 19, findings 1
# and 8): a refused address gets no TLS byte and fills no pre-auth slot,
# so refused hosts cannot block an allowed peer's migration; host names
# still count when forward-confirmed, looked up by a resolver process
# that runs as relocd-user, with its own cap and deadline.
#
# The name cases need a host table of our own: relocd "n" runs in a
# private mount namespace (unshare -m, root only) where /etc/hosts,
# /etc/nsswitch.conf and /etc/resolv.conf are bind-mounted from $WORK;
# its name servers are admit.py's stand-in on loopback, which answers a
# few records over real DNS and never answers other reverse queries, so
# a lookup for any other address is slow on purpose.
. "$TOP/tests/regress/lib"

ADMIT="python3 $TOP/tests/regress/admit.py"
two_hosts
# Refused hosts' idle connections would otherwise last this long.
HANDSHAKE_S=30 write_conf b "$PB" \
    "(xend-relocation-hosts-allow '^127\\\\.0\\\\.0\\\\.1\$')"
start_relocd a
start_relocd b
P=$WORK/pki

no_tls_byte() {
	$ADMIT probe "$PB" 127.0.0.5
}
check "a refused address gets no TLS byte: closed before the server's hello" no_tls_byte
check "and it is logged as a hosts-allow refusal" wait_log b \
    'peer 127\.0\.0\.5: refused \(not authorized\): address not in hosts-allow'

# 8 refused addresses x 8 idle connections: relocd-max-preauth (64).
refused_fill_nothing() {
	local src=() i
	for i in $(seq 2 9); do src+=(127.0.0.$i); done
	$ADMIT hold "$PB" 15 8 "${src[@]}" >"$WORK/hold.out" 2>&1 &
	local hpid=$!
	for i in $(seq 1 100); do
		grep -q '^connected 64' "$WORK/hold.out" && break
		sleep 0.05
	done
	grep -q '^connected 64' "$WORK/hold.out" || { cat "$WORK/hold.out"; return 1; }
	sleep 0.5
	ctl a sim-create --memory 16M --dirty-rate 1M g1 >/dev/null || return 1
	timeout 120 "$RELOCCTL" -f "$WORK/a/xend-config.sxp" migrate -l g1 "$B" \
	    >"$WORK/g1.out" 2>&1 ||
	    { cat "$WORK/g1.out"; grep 'refused' "$WORK/b/log" | tail -n 3; kill $hpid; return 1; }
	wait $hpid
	cat "$WORK/hold.out"
	[ "$(running_on g1 a b)" = b ] &&
	    grep -q '^closed by the server: 64' "$WORK/hold.out"
}
check "8 refused addresses x 8 idle connections do not stop an allowed peer's migration" \
    refused_fill_nothing
check "no refused connection became a network child" bash -c \
    "! grep -q 'peer 127\.0\.0\.[2-9]: .*TLS' '$WORK/b/log'"

# Only address patterns: nothing can match a name, so no resolver runs.
resolver_of() { pgrep -P "$(cat "$WORK/$1/pid")" -f 'relocd -H' | head -n 1; }
check "with address patterns only, no resolver process runs" \
    test -z "$(resolver_of b)"

# --- names -------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "names: unshare -m needs root (the rest passed)"
unshare -m true 2>/dev/null || skip "names: no mount namespaces here"
NS=""
for i in $(seq 1 20); do
	o=$((100 + RANDOM % 140))
	if ! ss -Hlun | grep -qE "127\.0\.0\.($o|$((o + 1))|$((o + 2))):53 "; then
		NS=127.0.0.$o
		NS2=127.0.0.$((o + 1))
		NS3=127.0.0.$((o + 2))
		break
	fi
done
[ -n "$NS" ] || die "no free loopback address for the stand-in name server"
# 127.0.0.6 is dnspeer.pool.test both ways; 127.0.0.7 claims to be
# liar.pool.test, whose address is 127.0.0.8.
$ADMIT dns 120 "ptr:127.0.0.6=dnspeer.pool.test,a:dnspeer.pool.test=127.0.0.6,ptr:127.0.0.7=liar.pool.test,a:liar.pool.test=127.0.0.8" \
    "$NS" "$NS2" "$NS3" >"$WORK/ns.out" 2>&1 &
PIDS+=($!)
wait_log_file() { for i in $(seq 1 100); do grep -q "$2" "$1" && return 0; sleep 0.05; done; return 1; }
wait_log_file "$WORK/ns.out" listening || die "the stand-in name server did not start"
cat >"$WORK/hosts" <<EOH
127.0.0.1 localhost
127.0.0.3 peer3.pool.test
127.0.0.4 outsider.test
EOH
printf 'hosts: files dns\n' >"$WORK/nsswitch.conf"
printf 'nameserver %s\nnameserver %s\nnameserver %s\n' "$NS" "$NS2" "$NS3" >"$WORK/resolv.conf"
chmod 644 "$WORK/hosts" "$WORK/nsswitch.conf" "$WORK/resolv.conf"
# relocd in a mount namespace of its own, same pid (unshare execs).
cat >"$WORK/relocd-ns" <<EOW
#!/bin/bash
exec unshare -m bash -c 'mount --bind "$WORK/hosts" /etc/hosts &&
    mount --bind "$WORK/nsswitch.conf" /etc/nsswitch.conf &&
    mount --bind "$WORK/resolv.conf" /etc/resolv.conf &&
    exec "\$0" "\$@"' "$RELOCD" "\$@"
EOW
chmod 755 "$WORK/relocd-ns"
PN=$(free_port)
make_host_cert client
make_host_cert n
write_conf n "$PN" \
    "(xend-relocation-hosts-allow '^127\\\\.0\\\\.0\\\\.1\$ ^[a-z0-9]+\\\\.pool\\\\.test\$')"
RELOCD=$WORK/relocd-ns start_relocd n
peer() { $PEER "$1" --port "$PN" --ca "$P/ca.pem" --cert "$P/client.pem" \
    --key "$P/client.key" "${@:2}"; }

check "a name pattern admits a forward-confirmed name" peer hello \
    --source 127.0.0.3 --expect '^\(hello'
check "and says which name" wait_log n \
    'peer 127\.0\.0\.3: host name peer3\.pool\.test is in hosts-allow'
check "a confirmed name no pattern allows is refused before TLS" \
    $ADMIT probe "$PN" 127.0.0.4
check "and logged with the name" wait_log n \
    'peer 127\.0\.0\.4: refused \(not authorized\): address and host name outsider\.test not in hosts-allow'

check "a name confirmed over DNS (the resolver's sockets, under seccomp)" peer hello \
    --source 127.0.0.6 --expect '^\(hello'
check "and says which name" wait_log n \
    'peer 127\.0\.0\.6: host name dnspeer\.pool\.test is in hosts-allow'
check "a reverse name that does not resolve back is no name" \
    $ADMIT probe "$PN" 127.0.0.7
check "and is logged so" wait_log n \
    'peer 127\.0\.0\.7: refused \(not authorized\): address not in hosts-allow, and no forward-confirmed host name'

resolver_sandboxed() {
	local pid st
	pid=$(resolver_of n)
	[ -n "$pid" ] || { echo "no resolver process"; return 1; }
	st=/proc/$pid/status
	awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st" |
	    grep -qx "$(id -u relocd) $(id -u relocd) $(id -u relocd) $(id -u relocd)" &&
	    grep -q '^Seccomp:[[:space:]]*2' "$st" &&
	    grep -q '^NoNewPrivs:[[:space:]]*1' "$st" &&
	    grep -q '^CapEff:[[:space:]]*0000000000000000' "$st" ||
	    { grep -E '^(Uid|Seccomp|NoNewPrivs|CapEff)' "$st"; return 1; }
	# Its threads are its concurrent lookups: ADMIT_LOOKUPS_MAX.
	[ "$(awk '/^Threads:/ { print $2 }' "$st")" -eq 8 ]
}
check "the resolver runs as relocd-user, no capabilities, under seccomp" \
    resolver_sandboxed

# 12 addresses with no name in the host table at once: their lookups go
# to the silent name server.  8 are looked up (the cap), 4 are refused
# at once, and the 8 are refused at the lookup deadline (5 s).
lookup_cap() {
	local src=() i t0 t1
	for i in $(seq 10 21); do src+=(127.0.0.$i); done
	t0=$(date +%s)
	$ADMIT hold "$PN" 8 1 "${src[@]}" >"$WORK/burst.out" 2>&1 &
	local bpid=$!
	wait_count n 'refused: too many host-name lookups at once' 4 || {
		grep -c 'too many host-name lookups' "$WORK/n/log"; kill $bpid; return 1; }
	# The allowed peer is admitted by address meanwhile: no lookup.
	peer hello --expect '^\(hello' >/dev/null || { kill $bpid; return 1; }
	for i in $(seq 1 200); do
		[ "$(grep -c 'lookup took too long' "$WORK/n/log")" -ge 8 ] && break
		sleep 0.05
	done
	t1=$(date +%s)
	wait $bpid
	[ "$(grep -c 'refused: too many host-name lookups at once' "$WORK/n/log")" -eq 4 ] &&
	    [ "$(grep -c 'lookup took too long' "$WORK/n/log")" -eq 8 ] &&
	    [ $((t1 - t0)) -ge 4 ] ||
	    { grep -E 'lookup|127\.0\.0\.(1[0-9]|2[01])' "$WORK/n/log" | tail -n 20; return 1; }
}
check "lookups have their own cap (8 at once) and deadline; address peers do not wait" lookup_cap
check "relocd n still serves" relocd_alive n
# A reload follows the patterns: no name pattern, no resolver; and back.
reload_follows() {
	write_conf n "$PN" "(xend-relocation-hosts-allow '^127\\\\.0\\\\.0\\\\.1\$')"
	kill -HUP "$(cat "$WORK/n/pid")"
	wait_count n 'configuration reloaded' 1 || return 1
	for i in $(seq 1 50); do [ -z "$(resolver_of n)" ] && break; sleep 0.1; done
	[ -z "$(resolver_of n)" ] || { echo "resolver still running"; ps -o pid,stat,user,args --ppid "$(cat "$WORK/n/pid")"; tail -n 5 "$WORK/n/log"; return 1; }
	write_conf n "$PN" "(xend-relocation-hosts-allow '^peer3\\\\.pool\\\\.test\$')"
	kill -HUP "$(cat "$WORK/n/pid")"
	wait_count n 'configuration reloaded' 2 || return 1
	peer hello --source 127.0.0.3 --expect '^\(hello' >/dev/null &&
	    [ -n "$(resolver_of n)" ]
}
check "a reload stops the resolver with the last name pattern, and starts it again" \
    reload_follows
# A system call its seccomp filter lacks would have killed it (SIGSYS).
check "the resolver lived through every lookup" bash -c \
    "! grep -E 'resolver [0-9]+ ended with' '$WORK/n/log'"

[ $CASES_FAILED -eq 0 ]
