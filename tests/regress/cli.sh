#!/bin/bash
# SPDX-License-Identifier: ISC
# The command-line conventions an administrator expects, beside docs.sh:
# each of the four programs answers --help (usage on stdout, exit 0) and
# --version (debian/changelog's release); every relocctl command answers
# -h and --help with its own usage and asks the daemon nothing; the man
# pages are clean under mandoc -Tlint -Wstyle; the bash completion
# completes option values, guests, hosts and migration ids.
. "$TOP/tests/regress/lib"
cd "$TOP"

RELEASE=$(awk -F '[()]' 'NR == 1 { print $2 }' debian/changelog)
PKI_BUILT=$TOP/$O/relocd-pki

# out_ok CMD...: exit 0, something on stdout, nothing on stderr.
out_ok() {
	"$@" >"$WORK/out" 2>"$WORK/err" && [ -s "$WORK/out" ] &&
	    [ ! -s "$WORK/err" ] ||
	    { echo "$*: exit $?, stderr: $(head -c 300 "$WORK/err")"; return 1; }
}

help_of() {
	local prog=$1 opt
	for opt in -h --help; do
		out_ok "$prog" "$opt" && head -n 1 "$WORK/out" |
		    grep -q "^usage: $(basename "$prog")\b" || return 1
	done
}
for p in "$RELOCD" "$RELOCCTL" "$TOP/$O/relocd-xl" "$PKI_BUILT"; do
	check "$(basename "$p") -h and --help: usage on stdout, exit 0" help_of "$p"
done

version_of() {
	local prog=$1 want=$2 opt
	for opt in -V --version; do
		out_ok "$prog" "$opt" || return 1
		[ "$(cat "$WORK/out")" = "$want" ] ||
		    { echo "$prog $opt: '$(cat "$WORK/out")', want '$want'"; return 1; }
	done
}
# The protocol range, from the header that defines it.
pmin=$(awk '$2 == "PROTO_VERSION_MIN" { print $3 }' relocd/proto.h)
pmax=$(awk '$2 == "PROTO_VERSION_MAX" { print $3 }' relocd/proto.h)
range=$pmin-$pmax
[ "$pmin" != "$pmax" ] || range=$pmin
for p in "$RELOCD" "$RELOCCTL" "$TOP/$O/relocd-xl"; do
	n=$(basename "$p")
	check "$n -V and --version: $n $RELEASE (protocol $range)" \
	    version_of "$p" "$n $RELEASE (protocol $range)"
done
check "relocd-pki -V and --version: relocd-pki $RELEASE" \
    version_of "$PKI_BUILT" "relocd-pki $RELEASE"

# A usage error is still one: on stderr, with each program's status.
usage_error() {
	local want=$1
	shift
	"$@" >"$WORK/out" 2>"$WORK/err"
	[ $? -eq "$want" ] && [ ! -s "$WORK/out" ] && grep -q usage: "$WORK/err"
}
check "relocctl --bogus: usage on stderr, exit 2" usage_error 2 "$RELOCCTL" --bogus
check "relocd --bogus: usage on stderr, exit 1" usage_error 1 "$RELOCD" --bogus
check "relocctl migrate with no guest: its usage on stderr, exit 2" \
    usage_error 2 "$RELOCCTL" -S "$WORK/none.sock" migrate

# Every command, from relocctl's own list: -h and --help print its usage
# (its name on the first line) on stdout and exit 0.  The socket does
# not exist and the config is absent, so a command that asked the daemon
# or opened its arguments would fail.
cmds=$("$RELOCCTL" --help | awk '/^commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }')
[ "$(echo "$cmds" | wc -w)" -ge 10 ] || case_fail "too few commands: $cmds"
mkdir -p "$WORK/cwd"
command_help() {
	local c=$1 args
	# Alone, and among other arguments (getopt_long finds it anywhere).
	for args in "-h" "x --help y"; do
		# shellcheck disable=SC2086
		(cd "$WORK/cwd" && out_ok "$RELOCCTL" -f "$WORK/none.sxp" \
		    -S "$WORK/none.sock" "$c" $args) || return 1
		head -n 1 "$WORK/out" | grep -q "^usage: relocctl $c\b" ||
		    { echo "$c $args: $(head -n 1 "$WORK/out")"; return 1; }
	done
	# restore and save would have opened or made a file named so.
	[ -z "$(ls -A "$WORK/cwd")" ] || { echo "$c made $(ls -A "$WORK/cwd")"; return 1; }
}
for c in $cmds; do
	check "relocctl $c -h and --help: its usage, nothing asked" command_help "$c"
done

# The man pages, linted as they are installed (each other's Xr found),
# with only references to pages this machine lacks let through:
# - "outdated mandoc.db lacks NAME(N) entry": the page is there, the
#   index (if any) is stale;
# - "referenced manual not found: Xr NAME N" for the pages below, and no
#   others: xl(1) is in xen-utils-common, which a build machine need not
#   have; crm(8) and crm_attribute(8) are crmsh's and pacemaker's, which
#   the tests do not need (ocf_relocd_guest(7) refers to them).  A new
#   reference to a page not installed here goes in this list.
NOT_INSTALLED=("xl 1" "crm 8" "crm_attribute 8")
man_lint() {
	local m out pat='outdated mandoc\.db lacks [^ ]+ entry'
	for m in "${NOT_INSTALLED[@]}"; do
		pat="$pat|referenced manual not found: Xr $m( |\$)"
	done
	mkdir -p "$WORK/man/man5" "$WORK/man/man7" "$WORK/man/man8"
	cp man/*.5 "$WORK/man/man5" && cp man/*.7 "$WORK/man/man7" &&
	    cp man/*.8 "$WORK/man/man8" || return 1
	out=$(MANPATH=$WORK/man:/usr/share/man mandoc -Tlint -Wstyle man/*.[0-9] 2>&1 |
	    grep -vE "$pat")
	[ -z "$out" ] || { echo "$out"; return 1; }
	for m in relocd relocctl relocd-xl relocd-pki; do
		[ -f "man/$m.8" ] || { echo "no man/$m.8"; return 1; }
		grep -q 'Fl \\-help' "man/$m.8" && grep -q 'Fl \\-version' "man/$m.8" ||
		    { echo "$m(8) does not document --help and --version"; return 1; }
	done
}
check "man pages: mandoc -Tlint -Wstyle clean; each program's has --help and --version" man_lint

# relocd-pki(8) documents every command and option of relocd-pki --help.
pki_man() {
	local w rc=0
	for w in $("$PKI_BUILT" --help | sed '/^Example/,$d' | grep -oE -- '(^|[ |])--?[a-z-]+' | tr -d ' |' | sort -u); do
		grep -qE -- "Fl \\\\?${w#-}\b" man/relocd-pki.8 ||
		    { echo "relocd-pki(8) does not document $w"; rc=1; }
	done
	for w in init host install selfsigned; do
		grep -q "^\.It Cm $w\b" man/relocd-pki.8 ||
		    { echo "relocd-pki(8) does not document $w"; rc=1; }
	done
	return $rc
}
check "relocd-pki(8) documents every command and option" pki_man

# Completion: the file is sourced as bash-completion would, and each
# completion function called with COMP_WORDS as the shell sets it.  A
# stub relocctl answers list and status as a daemon with two guests and
# two migrations would, and runs the real one for the rest (-h, --help).
if [ ! -r /usr/share/bash-completion/bash_completion ]; then
	case_fail "completion: bash-completion is not installed (scripts/install-deps)"
	exit 1
fi
mkdir -p "$WORK/bin" "$WORK/home"
cat >"$WORK/bin/relocctl" <<EOF
#!/bin/bash
case " \$* " in *" -h "*|*" --help "*) exec "$RELOCCTL" "\$@";; esac
case " \$* " in
*" list "*) printf '%s\n' 'NAME DOMID UUID' 'web1 1 u1' 'web2 2 u2';;
*" status "*) printf '%s\n' 'relocd $RELEASE on a, backend sim' \
    'ID  STATE  GUEST  PEER  RESULT' \
    '0123456789abcdef0123456789abcdef  streaming  web1  b' \
    'fedcba9876543210fedcba9876543210  ended  web2  b  done';;
*) exec "$RELOCCTL" "\$@";;
esac
EOF
chmod 755 "$WORK/bin/relocctl"
ln -s "$RELOCD" "$WORK/bin/relocd"
printf "(relocd-peers-allow 'dom0-a.example.org *.example.net dom0-b')\n" \
    >"$WORK/peers.sxp"
echo "192.0.2.7 fallback-host.example" >"$WORK/hosts"

# comp FUNCTION WORD...: the words offered for the last WORD, sorted.
cat >"$WORK/comp.sh" <<'EOF'
. /usr/share/bash-completion/bash_completion
. "$TOP/scripts/relocctl.bash-completion"
comp() {
	local f=$1
	shift
	COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE} COMPREPLY=()
	"$f"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
comp "$@"
EOF
completes() {
	local want=$1 got
	shift
	got=$(cd "$WORK" && HOME=$WORK/home HOSTFILE=$WORK/hosts \
	    XEND_CONFIG=$WORK/none.sxp PATH=$WORK/bin:$PATH \
	    bash "$WORK/comp.sh" "$@" 2>&1)
	[ "$got" = "$want" ] || { echo "${*:2}: got '$got', want '$want'"; return 1; }
}
check "completion: migrate --max-downtime 100 <TAB> offers guests" \
    completes "web1 web2" _relocctl relocctl migrate --max-downtime 100 ""
check "completion: migrate --max-downtime <TAB> offers no guest" \
    completes "" _relocctl relocctl migrate --max-downtime ""
check "completion: migrate -l -p 8002 web1 <TAB> offers hosts, not guests" \
    completes "fallback-host.example" _relocctl relocctl migrate -l -p 8002 web1 ""
check "completion: migrate --policy <TAB> offers its one value" \
    completes "xen-default" _relocctl relocctl migrate --policy ""
check "completion: sim-create --pattern <TAB> offers the patterns" \
    completes "hot sequential uniform" _relocctl relocctl sim-create --pattern ""
check "completion: check <TAB> offers guests" \
    completes "web1 web2" _relocctl relocctl check ""
check "completion: check g <TAB> offers the config's peers (exact names only)" \
    completes "dom0-a.example.org dom0-b" _relocctl relocctl -f "$WORK/peers.sxp" check g ""
check "completion: check g <TAB>, no peers configured: known hosts" \
    completes "fallback-host.example" _relocctl relocctl check g ""
check "completion: evacuate --to <TAB> offers the config's peers" \
    completes "dom0-a.example.org dom0-b" _relocctl relocctl -f "$WORK/peers.sxp" evacuate --to ""
check "completion: evacuate --to h --parallel <TAB> offers nothing" \
    completes "" _relocctl relocctl evacuate --to h --parallel ""
check "completion: cancel <TAB> offers the migrations not ended" \
    completes "0123456789abcdef0123456789abcdef" _relocctl relocctl cancel ""
check "completion: resolve <TAB> offers guests" \
    completes "web1 web2" _relocctl relocctl resolve ""
check "completion: resolve --force-r<TAB>" \
    completes "--force-resume" _relocctl relocctl resolve --force-r
check "completion: relocctl <TAB> offers every command" \
    completes "$(echo "$cmds" | sort | tr '\n' ' ' | sed 's/ $//')" _relocctl relocctl ""
check "completion: relocd -B <TAB>" completes "sim xen" _relocd relocd -B ""
check "completion: relocd --<TAB>" completes "--help --version" _relocd relocd --
check "completion: relocd-xl <TAB> offers hosts" \
    completes "dom0-a.example.org dom0-b" _relocd_xl relocd-xl -f "$WORK/peers.sxp" ""
check "completion: relocd-xl HOST xl -v <TAB>" \
    completes "-T -t -v migrate-receive" _relocd_xl relocd-xl h xl -v ""
check "completion: relocd-pki <TAB> offers its commands" \
    completes "host init install selfsigned" _relocd_pki relocd-pki ""
check "completion: relocd-pki --days <TAB> offers nothing" \
    completes "" _relocd_pki relocd-pki --days ""
exit $((CASES_FAILED > 0))
