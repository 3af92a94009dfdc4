#!/bin/bash
# SPDX-License-Identifier: ISC
#
# relocd-compress auto (compress_auto.h) compresses while that makes the
# stream go faster, which is while the link is the bottleneck: a and b
# run in network namespaces of their own, joined by a veth pair whose
# a side tbf shapes to RATE; a compressible guest turns compression on
# once a compressed window has beaten an uncompressed one, and the
# wire then carries less than the stream.  Noise stays uncompressed:
# nothing shrinks, so compressing only costs.  Root only (ip netns,
# tc); everything is torn down by the namespaces' names.
. "$TOP/tests/regress/lib"

[ "$(id -u)" -eq 0 ] || skip "needs root for a shaped link (ip netns, tc)"
command -v tc >/dev/null || skip "needs tc (iproute2)"

RATE=200mbit
TAG=rcz$$
NS_A=$TAG-a
NS_B=$TAG-b
IP_A=10.214.0.1
IP_B=10.214.0.2
UUID=5e10e5e1-0000-4000-8000-00000000a070

# The namespaces go before lib's cleanup removes $WORK (relocd's config):
# relocd exits first (lib's cleanup, from this trap), then the links.
teardown() {
	cleanup
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
}
trap teardown EXIT

ip netns add "$NS_A" && ip netns add "$NS_B" || die "ip netns add"
ip -n "$NS_A" link add "${TAG}a" type veth peer name "${TAG}b" netns "$NS_B" ||
    die "veth"
ip -n "$NS_A" addr add "$IP_A/24" dev "${TAG}a"
ip -n "$NS_B" addr add "$IP_B/24" dev "${TAG}b"
for ns in "$NS_A" "$NS_B"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_A" link set "${TAG}a" up && ip -n "$NS_B" link set "${TAG}b" up ||
    die "link up"
# a's egress carries the stream; burst holds a tick at the rate.
ip netns exec "$NS_A" tc qdisc add dev "${TAG}a" root tbf rate "$RATE" \
    burst 256kb latency 20ms || die "tc tbf"

ensure_user
make_pki
make_host_cert a "$IP_A"
make_host_cert b "$IP_B"
PA=$(free_port)
PB=$(free_port)
LISTEN_ADDR=$IP_A write_conf a "$PA"
LISTEN_ADDR=$IP_B write_conf b "$PB"
RELOCD_NETNS=$NS_A start_relocd a
RELOCD_NETNS=$NS_B start_relocd b
B=$IP_B:$PB

# 256 MiB, three quarters of its pages text-like: past the warm-up, the
# uncompressed window and the compressed probe (96 MiB), the rest goes
# compressed.  At 200 Mbit/s the probe runs some three times faster.
slow_link_on() {
	ctl a sim-create --memory 256M --compressible-percent 75 \
	    --uuid "$UUID" c1 >/dev/null || return 1
	cp "$SIMROOT/a/$UUID.mem" "$WORK/c1.mem" || return 1
	timeout 300 "$RELOCCTL" -f "$WORK/a/xend-config.sxp" migrate -l \
	    --compress auto --json c1 "$B" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	cmp "$WORK/c1.mem" "$SIMROOT/b/$UUID.mem" || return 1
	grep -qE 'compression on: the stream went at [0-9]+ MiB/s compressed against [0-9]+ MiB/s uncompressed \(relocd-compress auto\)' \
	    "$WORK/a/log" || { grep -i compress "$WORK/a/log"; return 1; }
	json_result "$WORK/out" 'res["compression"] == "zstd" and
	    0 < res["wire-bytes"] < res["bytes"] * 3 // 4'
}
check "auto on a shaped link: compression comes on, the wire carries less, b's memory is a's" slow_link_on

# Noise, none of it zero: compressing shrinks nothing, so it never wins.
noise_off() {
	ctl a sim-create --memory 128M --uuid "${UUID%?}1" n1 >/dev/null ||
	    return 1
	timeout 300 "$RELOCCTL" -f "$WORK/a/xend-config.sxp" migrate -l \
	    --compress auto --json n1 "$B" >"$WORK/out" 2>&1 ||
	    { cat "$WORK/out"; return 1; }
	[ "$(grep -c 'compression on:' "$WORK/a/log")" -eq 1 ] ||
	    { grep -i compress "$WORK/a/log"; return 1; }
	json_result "$WORK/out" 'res["bytes"] * 99 // 100 < res["wire-bytes"] <= res["bytes"]'
}
check "auto on the same link with noise: compression stays off" noise_off
