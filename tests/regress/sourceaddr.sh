#!/bin/bash
# SPDX-License-Identifier: ISC
#
# A migration network (relocd-source-address, issue 22): outgoing
# migrations leave from the configured address, so the destination's
# hosts-allow sees that address, and a destination named by its address
# on that network is verified against the IP in its certificate
# (relocd-pki host NAME IP).  Loopback stands for the network: b listens
# on 127.0.0.3 only and allows 127.0.0.2 only; a leaves from 127.0.0.2.
. "$TOP/tests/regress/lib"

ensure_user
make_pki a
"$PKI" host -d "$WORK/pki" b 127.0.0.3 >/dev/null || die "relocd-pki host b"
PA=$(free_port)
PB=$(free_port)
write_conf a "$PA" "(relocd-source-address 127.0.0.2)"
write_conf b "$PB" "(xend-relocation-hosts-allow '^127\\\\.0\\\\.0\\\\.2\$')"
sed -i 's/^(xend-relocation-address 127.0.0.1)$/(xend-relocation-address 127.0.0.3)/' \
    "$WORK/b/xend-config.sxp"
start_relocd a
start_relocd b
MIG=127.0.0.3:$PB

# migrate_from_a GUEST: relocctl migrate to b through a's daemon (bounded).
migrate_from_a() {
	timeout 120 "$RELOCCTL" -f "$WORK/a/xend-config.sxp" migrate -l "$1" \
	    "$MIG" >"$WORK/$1.out" 2>&1
}

ctl a sim-create --memory 16M --dirty-rate 1M g1 >/dev/null || die "sim-create g1"
moves_from_source_address() {
	migrate_from_a g1 || { cat "$WORK/g1.out"; return 1; }
	[ "$(running_on g1 a b)" = b ] &&
	    grep -q 'peer 127\.0\.0\.2' "$WORK/b/log" &&
	    grep -q 'digest verified' "$WORK/b/log"
}
check "a migration leaves from relocd-source-address: b (hosts-allow 127.0.0.2 only) takes it, digest verified" \
    moves_from_source_address

# Without the key, a leaves from the route's address, 127.0.0.1, which
# b refuses: the test above depends on the key, not on luck.
stop_a() {
	kill "$(cat "$WORK/a/pid")"
	timeout 10 tail --pid="$(cat "$WORK/a/pid")" -f /dev/null
}
stop_a
sed -i '/^(relocd-source-address /d' "$WORK/a/xend-config.sxp"
start_relocd a
ctl a sim-create --memory 16M g2 >/dev/null || die "sim-create g2"
refused_without_key() {
	! migrate_from_a g2 && [ "$(running_on g2 a b)" = a ] &&
	    grep -q 'peer 127\.0\.0\.1: refused (not authorized): address not in hosts-allow' \
	    "$WORK/b/log"
}
check "without it, the same migration leaves from 127.0.0.1 and b refuses it; g2 runs on a" \
    refused_without_key

# An address this host does not have: the bind fails, said plainly, and
# the guest stays.
stop_a
echo "(relocd-source-address 192.0.2.1)" >>"$WORK/a/xend-config.sxp"
start_relocd a
bad_address() {
	! migrate_from_a g2 && [ "$(running_on g2 a b)" = a ] &&
	    grep -q 'cannot bind to relocd-source-address 192.0.2.1' "$WORK/g2.out" ||
	    { cat "$WORK/g2.out"; return 1; }
}
check "an address this host lacks fails the migration with the key's name; g2 runs on a" \
    bad_address

# An IPv6 destination with an IPv4 source address: an error, not a
# silent fallback to another network.
stop_a
sed -i 's/^(relocd-source-address .*/(relocd-source-address 127.0.0.2)/' \
    "$WORK/a/xend-config.sxp"
start_relocd a
family_mismatch() {
	! timeout 120 "$RELOCCTL" -f "$WORK/a/xend-config.sxp" migrate -l g2 \
	    "[::1]:$PB" >"$WORK/g2v6.out" 2>&1 &&
	    [ "$(running_on g2 a b)" = a ] &&
	    grep -q 'relocd-source-address 127.0.0.2 has no IPv6 address' "$WORK/g2v6.out" ||
	    { cat "$WORK/g2v6.out"; return 1; }
}
check "an IPv6 destination with an IPv4 source address is refused with the reason; g2 runs on a" \
    family_mismatch

check "relocd -n shows the key" bash -c \
    "'$RELOCD' -n -v -f '$WORK/a/xend-config.sxp' 2>&1 | grep -q 'relocd-source-address 127.0.0.2'"
