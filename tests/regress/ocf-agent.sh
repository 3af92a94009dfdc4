#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The Pacemaker resource agent ocf:relocd:guest (ocf/guest) on the sim
# backend, without a cluster: ocf-tester's checks, then migrate_to and
# migrate_from run by hand between two relocd on loopback with the
# variables Pacemaker would set.  The guest must move live (digest
# verified, same uuid, running once); a refused migration must leave it
# running on the source with the agent failing; relocctl's "in doubt"
# must fail migrate_to and tell the administrator to run relocctl resolve,
# and stop must not destroy the suspended guest.  The xen backend's start
# and stop run against a stand-in xl.
. "$TOP/tests/regress/lib"

command -v ocf-tester >/dev/null || skip "ocf-tester missing (resource-agents; scripts/install-deps)"
command -v jq >/dev/null || skip "jq missing (scripts/install-deps)"
[ -r /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ] || skip "ocf-shellfuncs missing (resource-agents)"

AGENT=$TOP/ocf/guest
two_hosts
# vm2's migration pauses after "prepared", so that the in-doubt case can
# kill b then (faults-dest.sh's D10).
RELOCD_FAULT="source-worker-before-commit@vm2=2500" start_relocd a
start_relocd b
A=127.0.0.1:$PA
digests() { grep -c 'digest verified' "$WORK/$1/log"; }
uuid_on() {
	ctl "$1" list --json | jq -r --arg g "$2" '.guests[] | select(.name == $g) | .uuid'
}
# live_rounds NAME GUEST: the pre-copy rounds of NAME's last migration of
# GUEST (0 for an offline one).
live_rounds() {
	ctl "$1" status --json | jq -r --arg g "$2" \
	    '[.jobs[] | select(.what == "migrate" and .guest == $g)] | last | .round'
}

# ocf-tester runs meta-data as nobody: the agent must be world-readable.
tester() {
	ocf-tester -n g0 -o guest=g0 -o backend=sim -o sim_memory=32M \
	    -o relocd_config="$WORK/a/xend-config.sxp" -o relocctl="$RELOCCTL" \
	    "$AGENT" >"$WORK/tester.out" 2>&1 &&
	    grep -q 'passed all tests' "$WORK/tester.out" &&
	    [ "$(guest_state a g0)" = absent ] ||
	    { tail -n 20 "$WORK/tester.out"; false; }
}
check "ocf-tester passes the agent (sim backend); nothing left running" tester

# A node attribute gives each node's address, as on a migration network;
# crm_attribute stands in for Pacemaker's, reading $WORK/attr/NODE.
mkdir -p "$WORK/bin" "$WORK/attr"
cat >"$WORK/bin/crm_attribute" <<'EOF'
#!/bin/sh
node=
while [ $# -gt 0 ]; do
	case $1 in --node) node=$2; shift ;; esac
	shift
done
cat "$ATTR_DIR/$node" 2>/dev/null
EOF
chmod 755 "$WORK/bin/crm_attribute"
echo "$A" >"$WORK/attr/node-a"
echo "$B" >"$WORK/attr/node-b"

# agent NODE ACTION [VAR=VALUE...]: the agent as Pacemaker runs it on
# NODE (a or b) for resource vm1; its log goes to $WORK/ocf.log, its
# stderr (the exit reason) to $WORK/agent.err.
agent() {
	local node=$1 action=$2
	shift 2
	env PATH="$WORK/bin:$PATH" ATTR_DIR="$WORK/attr" \
	    HA_RSCTMP="$WORK/rsc-$node" HA_LOGFACILITY=none HA_LOGFILE="$WORK/ocf.log" \
	    OCF_ROOT=/usr/lib/ocf OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=0 \
	    OCF_RESOURCE_INSTANCE=vm1 OCF_RESOURCE_TYPE=guest \
	    OCF_RESKEY_guest=vm1 OCF_RESKEY_backend=sim \
	    OCF_RESKEY_sim_memory=96M OCF_RESKEY_sim_dirty_rate=20M \
	    OCF_RESKEY_relocd_config="$WORK/$node/xend-config.sxp" \
	    OCF_RESKEY_relocctl="${AGENT_RELOCCTL:-$RELOCCTL}" \
	    OCF_RESKEY_CRM_meta_timeout=60000 OCF_RESKEY_CRM_meta_interval=0 \
	    "$@" "$AGENT" "$action" 2>"$WORK/agent.err"
}
# What Pacemaker sets for a migration from node-X to node-Y.
TO_B="OCF_RESKEY_CRM_meta_migrate_source=node-a OCF_RESKEY_CRM_meta_migrate_target=node-b OCF_RESKEY_node_address_attribute=relocd-address"

# The mark relocctl evacuate reads: Pacemaker owns the guest here.
marked() { [ -f "$WORK/rsc-$1/relocd-guest-$2.managed" ]; }
started() {
	agent a start && agent a monitor OCF_RESKEY_CRM_meta_interval=10000 &&
	    { agent b monitor; [ $? -eq 7 ]; } && [ "$(running_on vm1 a b)" = a ] &&
	    marked a vm1 && ! marked b vm1
}
check "start on node-a: monitor 0 there, probe 7 on node-b" started
UUID=$(uuid_on a vm1)

moved() {
	local d rc
	d=$(digests b)
	sleep 0.3
	# shellcheck disable=SC2086
	agent a migrate_to $TO_B || { cat "$WORK/agent.err"; return 1; }
	# shellcheck disable=SC2086
	agent b migrate_from $TO_B || { cat "$WORK/agent.err"; return 1; }
	agent a monitor
	rc=$?
	[ $rc -eq 7 ] || { echo "monitor on node-a: $rc"; return 1; }
	agent b monitor OCF_RESKEY_CRM_meta_interval=10000 &&
	    [ "$(running_on vm1 a b)" = b ] &&
	    [ "$(guest_state b vm1)" = running ] &&
	    [ "$(digests b)" -eq $((d + 1)) ] &&
	    [ -n "$UUID" ] && [ "$(uuid_on b vm1)" = "$UUID" ] &&
	    [ "$(live_rounds a vm1)" -ge 1 ] && marked b vm1 && ! marked a vm1 &&
	    grep -q "vm1 migrated to node-b: .* went as .* on the wire" "$WORK/ocf.log" ||
	    { echo "uuid $UUID -> $(uuid_on b vm1), rounds $(live_rounds a vm1)"
	    tail -n 5 "$WORK/ocf.log"; false; }
}
check "migrate_to/migrate_from node-a -> node-b: live (pre-copy rounds), digest verified, same uuid, running once" moved

# Back without the node attribute: the target's name is the address, and
# the port parameter picks a's port.
back() {
	agent b migrate_to OCF_RESKEY_CRM_meta_migrate_source=node-b \
	    OCF_RESKEY_CRM_meta_migrate_target=127.0.0.1 OCF_RESKEY_port="$PA" &&
	    agent a migrate_from OCF_RESKEY_CRM_meta_migrate_source=node-b \
	    OCF_RESKEY_CRM_meta_migrate_target=node-a &&
	    [ "$(running_on vm1 a b)" = a ] && [ "$(uuid_on a vm1)" = "$UUID" ] ||
	    { cat "$WORK/agent.err"; false; }
}
check "and back (target's name as address, port parameter)" back

# relocctl evacuate refuses the agent's guest, by its mark, and says
# what to do instead; the guest runs on, once.
refused() {
	HA_RSCTMP=$WORK/rsc-a ctl a evacuate --to "$B" >"$WORK/out" 2>&1
	[ $? -eq 1 ] && [ "$(running_on vm1 a b)" = a ] &&
	    grep -q "vm1 .*stays here: Pacemaker manages it.*crm node standby" \
	    "$WORK/out" || { cat "$WORK/out"; false; }
}
check "relocctl evacuate refuses the agent's guest: crm node standby" refused

# b already has a guest named vm1: b refuses at reserve, and the agent
# fails migrate_to, saying the guest runs on at node-a.
refused() {
	local rc
	ctl b sim-create --memory 32M vm1 >/dev/null || return 1
	# shellcheck disable=SC2086
	agent a migrate_to $TO_B
	rc=$?
	[ $rc -eq 1 ] || { echo "migrate_to exited $rc, want 1"; return 1; }
	grep -q 'a guest with that name or uuid exists' "$WORK/agent.err" &&
	    grep -q 'vm1 runs on here' "$WORK/agent.err" &&
	    [ "$(running_on vm1 a b)" = "a b" ] &&
	    [ "$(uuid_on a vm1)" = "$UUID" ] && agent a monitor ||
	    { cat "$WORK/agent.err"; false; }
}
check "a refused migration (name clash on node-b): migrate_to fails, vm1 runs on at node-a" refused
ctl b sim-destroy vm1 >/dev/null

# The tuning parameters reach relocctl migrate, with --timeout inside
# the operation's 60 s: a relocctl that records its arguments and fails.
cat >"$WORK/bin/relocctl-args" <<EOF
#!/bin/sh
case " \$* " in
*" migrate "*)
	echo "\$*" >"$WORK/migrate.args"
	echo "relocctl: migrate vm1 failed: the test's stand-in" >&2
	exit 1 ;;
esac
exec "$RELOCCTL" "\$@"
EOF
chmod 755 "$WORK/bin/relocctl-args"
params() {
	local rc
	# shellcheck disable=SC2086
	AGENT_RELOCCTL=$WORK/bin/relocctl-args agent a migrate_to $TO_B \
	    OCF_RESKEY_max_downtime=300 OCF_RESKEY_bandwidth=200 \
	    OCF_RESKEY_nonconvergence=throttle
	rc=$?
	[ $rc -eq 1 ] || { echo "migrate_to exited $rc, want 1"; return 1; }
	grep -q -- "migrate --live --max-downtime 300 --bandwidth 200 --throttle --timeout 45 vm1 $B\$" \
	    "$WORK/migrate.args" && [ "$(running_on vm1 a b)" = a ] ||
	    { cat "$WORK/agent.err" "$WORK/migrate.args"; false; }
}
check "max_downtime, bandwidth, nonconvergence and the op timeout reach relocctl migrate" params

# In doubt for real: b dies, whole, while vm2's migration waits after
# "prepared", and restarts with no record of it; relocctl exits 4.
# migrate_to fails and logs that relocctl resolve must run; monitor fails
# and stop refuses while vm2 is suspended, so that Pacemaker cannot
# start a second copy; after relocctl resolve the agent sees it again.
doubt() {
	local rc pid i
	agent a start OCF_RESOURCE_INSTANCE=vm2 OCF_RESKEY_guest=vm2 \
	    OCF_RESKEY_sim_memory=16M || return 1
	# shellcheck disable=SC2086
	agent a migrate_to $TO_B OCF_RESOURCE_INSTANCE=vm2 OCF_RESKEY_guest=vm2 &
	pid=$!
	wait_log a "fault point source-worker-before-commit for vm2:" 30 &&
	    kill_relocd b || return 1
	rm -f "$WORK/b/relocd.sock"
	cat "$WORK/b/log" >>"$WORK/b/log.before"
	start_relocd b
	for i in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid"
	rc=$?
	[ $rc -eq 1 ] || { echo "migrate_to exited $rc, want 1"; return 1; }
	grep -q "in doubt" "$WORK/agent.err" &&
	    grep -q "run 'relocctl resolve vm2' on it" "$WORK/ocf.log" &&
	    [ "$(guest_state a vm2)" = suspended ] ||
	    { cat "$WORK/agent.err"; tail -n 3 "$WORK/ocf.log"; return 1; }
	agent a monitor OCF_RESKEY_guest=vm2
	rc=$?
	[ $rc -eq 1 ] || { echo "monitor of suspended vm2: $rc, want 1"; return 1; }
	agent a stop OCF_RESKEY_guest=vm2
	rc=$?
	[ $rc -eq 1 ] && [ "$(guest_state a vm2)" = suspended ] ||
	    { echo "stop of suspended vm2: $rc, now $(guest_state a vm2)"; return 1; }
	[ "$(guest_state b vm2)" = absent ] &&
	    ctl a resolve --force-resume vm2 >/dev/null 2>&1 &&
	    agent a monitor OCF_RESKEY_guest=vm2 &&
	    agent a stop OCF_RESKEY_guest=vm2 && [ -z "$(running_on vm2 a b)" ]
}
check "relocctl exit 4 (in doubt): migrate_to fails and says run relocctl resolve; monitor fails and stop refuses until resolved" doubt

printf 'name = "web9"\nmemory = 512\n' >"$WORK/web9.cfg"
badconf() {
	local rc1 rc2 rc3 rc4
	agent a validate-all OCF_RESKEY_nonconvergence=sometimes; rc1=$?
	agent a validate-all OCF_RESKEY_backend=xen; rc2=$?
	agent a validate-all OCF_RESKEY_guest=../etc; rc3=$?
	agent a validate-all OCF_RESKEY_backend=xen OCF_RESKEY_xlconfig="$WORK/web9.cfg"
	rc4=$?
	[ "$rc1$rc2$rc3$rc4" = 6666 ] &&
	    grep -q "names the guest 'web9', not 'vm1'" "$WORK/agent.err" ||
	    { echo "validate-all: $rc1 $rc2 $rc3 $rc4, want 6 6 6 6"; false; }
}
check "validate-all: a bad nonconvergence, xen without xlconfig, a bad name, an xl config naming another guest are 6" badconf

# The xen backend's lifecycle with a stand-in xl whose domains are files
# in $WORK/xl, and a relocd that does not answer (host c, never started),
# so that xl alone says what runs: xl create from the xl config, xl
# shutdown -w, and xl destroy for a guest that ignores its shutdown.
mkdir -p "$WORK/xl"
cat >"$WORK/bin/xl" <<EOF
#!/bin/sh
# A stand-in xl: create, list, shutdown -w, destroy; calls go to xl.log.
echo "\$*" >>"$WORK/xl.log"
d=$WORK/xl
case \$1 in
create)	n=\$(sed -n 's/^name = "\(.*\)"/\1/p' "\$2")
	[ -e "\$d/\$n" ] && { echo "domain \$n exists" >&2; exit 1; }
	: >"\$d/\$n" ;;
list)	[ -e "\$d/\$2" ] || { echo "invalid domain identifier \$2" >&2; exit 1; } ;;
shutdown)
	[ -e "\$d/\$3" ] || exit 1
	# A guest named stuck-* never shuts down: xl shutdown -w waits.
	case \$3 in stuck-*) exec sleep 600 ;; esac
	rm -f "\$d/\$3" ;;
destroy) rm -f "\$d/\$2" ;;
*)	exit 1 ;;
esac
EOF
chmod 755 "$WORK/bin/xl"
write_conf c "$(free_port)"
printf 'name = "stuck-1"\nmemory = 512\n' >"$WORK/stuck.cfg"

xen_tester() {
	env PATH="$WORK/bin:$PATH" ocf-tester -n web9 -o guest=web9 -o backend=xen \
	    -o xlconfig="$WORK/web9.cfg" -o relocd_config="$WORK/c/xend-config.sxp" \
	    -o relocctl="$RELOCCTL" "$AGENT" >"$WORK/tester.out" 2>&1 &&
	    grep -q 'passed all tests' "$WORK/tester.out" &&
	    [ ! -e "$WORK/xl/web9" ] &&
	    grep -qx "create $WORK/web9.cfg" "$WORK/xl.log" &&
	    grep -qx "shutdown -w web9" "$WORK/xl.log" ||
	    { tail -n 20 "$WORK/tester.out"; false; }
}
check "ocf-tester passes the agent (xen backend, a stand-in xl, relocd not answering)" xen_tester

xen_stuck() {
	local t0 t
	: >"$WORK/xl.log"
	agent c start OCF_RESKEY_backend=xen OCF_RESKEY_guest=stuck-1 \
	    OCF_RESKEY_xlconfig="$WORK/stuck.cfg" && [ -e "$WORK/xl/stuck-1" ] ||
	    { cat "$WORK/agent.err"; return 1; }
	t0=$(date +%s)
	# 25 s for the stop: xl shutdown -w gets 5 s, then xl destroy.
	agent c stop OCF_RESKEY_backend=xen OCF_RESKEY_guest=stuck-1 \
	    OCF_RESKEY_xlconfig="$WORK/stuck.cfg" OCF_RESKEY_CRM_meta_timeout=25000 ||
	    { cat "$WORK/agent.err"; return 1; }
	t=$(( $(date +%s) - t0 ))
	[ ! -e "$WORK/xl/stuck-1" ] && grep -qx "destroy stuck-1" "$WORK/xl.log" &&
	    [ "$t" -ge 4 ] && [ "$t" -le 15 ] ||
	    { echo "stop took $t s"; cat "$WORK/xl.log"; false; }
}
check "xen: a guest that ignores its shutdown is destroyed within the stop's timeout" xen_stuck

stopped() {
	agent a stop && { agent a monitor; [ $? -eq 7 ]; } &&
	    [ -z "$(running_on vm1 a b)" ] && agent a stop
}
check "stop, and stop again: vm1 runs nowhere" stopped

exit $((CASES_FAILED > 0))
