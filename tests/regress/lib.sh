# SPDX-License-Identifier: ISC
#
# Shared by the regress scenarios: a throw-away PKI, relocd instances on
# loopback with the sim backend, and cleanup that always runs.  Every wait
# is bounded.  Sourced by bash scripts run from tests/run (TOP, O, RELOCD
# are exported there).
set -u

: "${TOP:?run through tests/run}"
RELOCCTL=$TOP/$O/relocctl
PKI=$TOP/scripts/relocd-pki
PEER="python3 $TOP/tests/regress/peer.py"
WORK=$(mktemp -d /tmp/relocd-regress.XXXXXX)
chmod 755 "$WORK"
SIMROOT=$(mktemp -d /dev/shm/relocd-regress.XXXXXX)
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null ||
		    kill -KILL "$pid" 2>/dev/null
	done
	# Sim guests run as their own processes; none may outlive a test.
	pkill -KILL -f "^sim:" 2>/dev/null
	rm -rf "$WORK" "$SIMROOT"
}
trap cleanup EXIT

die() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

# As root, network children become this user; tests create it if needed.
ensure_user() {
	if [ "$(id -u)" -eq 0 ] && ! getent passwd relocd >/dev/null; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    relocd || die "cannot create user relocd"
	fi
}

# A free TCP port on loopback (bounded tries).
free_port() {
	local port i
	for i in $(seq 1 50); do
		port=$((20000 + RANDOM % 20000))
		if ! ss -Htln "sport = :$port" | grep -q .; then
			echo "$port"
			return 0
		fi
	done
	die "no free port"
}

# make_pki: a CA and host certificates in $WORK/pki; names as arguments.
make_pki() {
	local name
	"$PKI" init -d "$WORK/pki" >/dev/null || die "relocd-pki init"
	for name in "$@"; do
		"$PKI" host -d "$WORK/pki" "$name" 127.0.0.1 ::1 >/dev/null ||
		    die "relocd-pki host $name"
	done
}

# write_conf NAME PORT [extra sxp lines]: $WORK/NAME/xend-config.sxp
write_conf() {
	local name=$1 port=$2 dir=$WORK/$1
	shift 2
	mkdir -p "$dir" "$SIMROOT/$name"
	cat >"$dir/xend-config.sxp" <<EOC
(xend-relocation-server yes)
(xend-relocation-port $port)
(xend-relocation-address 127.0.0.1)
(xend-relocation-server-ssl-key-file $WORK/pki/$name.key)
(xend-relocation-server-ssl-cert-file $WORK/pki/$name.pem)
(relocd-ca-file $WORK/pki/ca.pem)
(relocd-control-socket $dir/relocd.sock)
(relocd-chroot $dir/empty)
(relocd-sim-dir $SIMROOT/$name)
(relocd-backend sim)
(relocd-handshake-timeout 3)
$(printf '%s\n' "$@")
EOC
}

# start_relocd NAME: runs relocd -d on $WORK/NAME, logging to NAME/log.
start_relocd() {
	local name=$1 dir=$WORK/$1 i
	"$RELOCD" -d -v -f "$dir/xend-config.sxp" >"$dir/log" 2>&1 &
	PIDS+=($!)
	echo $! >"$dir/pid"
	for i in $(seq 1 100); do
		[ -S "$dir/relocd.sock" ] && grep -q "relocd started" "$dir/log" &&
		    return 0
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.05
	done
	cat "$dir/log" >&2
	die "relocd $name did not start"
}

relocd_alive() { kill -0 "$(cat "$WORK/$1/pid")" 2>/dev/null; }

# wait_log NAME REGEX [SECONDS]: until NAME's log has a matching line.
wait_log() {
	local i n=$(( ${3:-5} * 20 ))
	for i in $(seq 1 "$n"); do
		grep -qE "$2" "$WORK/$1/log" && return 0
		sleep 0.05
	done
	echo "--- log of $1:" >&2
	tail -n 20 "$WORK/$1/log" >&2
	return 1
}

# Per-case results that tests/run counts one by one.
CASES_FAILED=0
case_ok() { echo "ok   $*"; }
case_fail() { echo "FAIL $*"; CASES_FAILED=$((CASES_FAILED + 1)); }
check() {
	local name=$1
	shift
	if "$@"; then case_ok "$name"; else case_fail "$name"; fi
}
