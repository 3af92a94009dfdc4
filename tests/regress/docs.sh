#!/bin/bash
# SPDX-License-Identifier: ISC
# The documentation keeps up with the code: every config key relocd knows
# is in xend-config.sxp(5) and the README, every option of relocd is in
# relocd(8), the man pages lint clean, and the example config is accepted.
set -u
cd "${TOP:?}"
fail=0
empty=$(mktemp)
trap 'rm -f "$empty"' EXIT

keys=$("$RELOCD" -nv -f "$empty" | sed -n 's/^(\([a-z-]*\) .*/\1/p')
[ "$(echo "$keys" | wc -l)" -ge 20 ] || { echo "too few keys: $keys"; exit 1; }
for k in $keys; do
	grep -q "^\.It Cm $k " man/xend-config.sxp.5 ||
	    { echo "xend-config.sxp(5) does not document $k"; fail=1; }
	grep -q -- "$k" README.md ||
	    { echo "README.md does not mention $k"; fail=1; }
done

# Options from relocd's own usage line, e.g. "[-dnv] [-B xen|sim] [-f config]".
usage=$("$RELOCD" -h 2>&1)
opts=$(echo "$usage" | grep -o '\[-[A-Za-z]*' | tr -d '[-' | fold -w1)
[ -n "$opts" ] || { echo "no options found in: $usage"; exit 1; }
for o in $opts; do
	grep -q "^\.It Fl $o\b" man/relocd.8 ||
	    { echo "relocd(8) does not document -$o"; fail=1; }
done

# relocctl: every command in its usage, in relocctl(8) and the README,
# and every option of migrate and resolve.
RELOCCTL=$TOP/$O/relocctl
cmds=$("$RELOCCTL" 2>&1 | sed -n 's/^  \([a-z-]*\) .*/\1/p')
[ "$(echo "$cmds" | wc -w)" -ge 8 ] || { echo "too few commands: $cmds"; exit 1; }
for c in $cmds; do
	grep -qE "^\.(It|Cm) .*\b$c\b|^\.Cm $c\$" man/relocctl.8 ||
	    { echo "relocctl(8) does not document the command $c"; fail=1; }
done
for c in $cmds; do
	grep -qE "relocctl $c\b" README.md ||
	    { echo "README.md does not show relocctl $c"; fail=1; }
done
for c in migrate resolve; do
	for o in $("$RELOCCTL" $c -h 2>&1 | grep -oE -- '--[a-z-]+' | sort -u); do
		grep -qF -- "Fl \\${o#-}" man/relocctl.8 ||
		    { echo "relocctl(8) does not document $c $o"; fail=1; }
		[ $c = migrate ] || grep -qF -- "$o" README.md ||
		    { echo "README.md does not mention $c $o"; fail=1; }
	done
done

# relocd-xl: every option and xl flag of its usage is in relocd-xl(8),
# and the README says how to use it.
usage=$("$TOP/$O/relocd-xl" -h 2>&1 | head -n 2)
opts=$(echo "$usage" | grep -o '\[-[A-Za-z]' | tr -d '[-')
[ "$(echo "$opts" | wc -w)" -ge 7 ] || { echo "too few options in: $usage"; exit 1; }
for o in $opts; do
	grep -q "^\.\(It\|Op\) Fl $o\b" man/relocd-xl.8 ||
	    { echo "relocd-xl(8) does not document -$o"; fail=1; }
done
for o in $(echo "$usage" | grep -o '\[--[a-z-]*' | tr -d '['); do
	grep -q "^\.\(It\|Op\) Fl \\\\${o#-}\b" man/relocd-xl.8 ||
	    { echo "relocd-xl(8) does not document $o"; fail=1; }
	grep -q -- "$o" scripts/relocctl.bash-completion ||
	    { echo "the completion does not offer relocd-xl $o"; fail=1; }
done
grep -q 'xl migrate -s relocd-xl' README.md ||
    { echo "README.md does not say how to use relocd-xl"; fail=1; }

# The resource agent: every parameter and action its meta-data declares
# is in ocf_relocd_guest(7), and the README names the agent.
params=$(sed -n 's/^<parameter name="\([a-z_]*\)".*/\1/p' ocf/guest)
actions=$(sed -n 's/^<action name="\([a-z_-]*\)".*/\1/p' ocf/guest)
[ "$(echo "$params" | wc -w)" -ge 10 ] && [ "$(echo "$actions" | wc -w)" -eq 8 ] ||
    { echo "cannot read the agent's meta-data: $params / $actions"; exit 1; }
for p in $params $actions; do
	grep -qE "^\.It .*Cm $p( |\$)" man/ocf_relocd_guest.7 ||
	    { echo "ocf_relocd_guest(7) does not document $p"; fail=1; }
done
grep -q 'ocf:relocd:guest' README.md ||
    { echo "README.md does not name ocf:relocd:guest"; fail=1; }

if ! out=$(mandoc -Tlint -W warning man/*.[0-9] 2>&1) || [ -n "$out" ]; then
	echo "mandoc -Tlint: $out"; fail=1
fi
"$RELOCD" -n -f etc/xend-config.sxp.example 2>&1 | grep -qx 'configuration OK' ||
    { echo "etc/xend-config.sxp.example is not accepted"; fail=1; }
exit $fail
