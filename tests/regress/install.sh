#!/bin/bash
# SPDX-License-Identifier: ISC
# 'make install' into a scratch DESTDIR puts every file where the unit,
# the man pages and the completion expect it, with sane modes; the
# installed unit verifies, the man pages lint clean, the example config is
# accepted, and 'make uninstall' takes everything away again.
set -u
cd "${TOP:?}"
tmp=$(mktemp -d /tmp/relocd-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
P=/usr

ok() { echo "ok $1"; }
bad() { echo "FAIL $1: $2"; }

if ! out=$(make -s install O="$O" DESTDIR="$dest" PREFIX=$P 2>&1); then
	echo "$out" | tail -n 20
	bad make-install "make install failed"
	exit 1
fi
ok make-install

# path mode: each installed file and the mode it must have.
want="$P/sbin/relocd 755
$P/sbin/relocctl 755
$P/sbin/relocd-xl 755
$P/sbin/relocd-pki 755
$P/share/man/man8/relocd.8 644
$P/share/man/man8/relocctl.8 644
$P/share/man/man8/relocd-xl.8 644
$P/share/man/man8/relocd-pki.8 644
$P/share/man/man5/xend-config.sxp.5 644
$P/share/man/man7/ocf_relocd_guest.7 644
/usr/lib/ocf/resource.d/relocd/guest 755
/etc/xen/xend-config.sxp.relocd-example 644
/lib/systemd/system/relocd.service 644
/lib/systemd/system/relocd-receive@.service 644
/lib/systemd/system/relocd-evacuate.service 644
/etc/default/relocd 644
/usr/lib/sysusers.d/relocd.conf 644
/usr/lib/tmpfiles.d/relocd.conf 644
$P/share/bash-completion/completions/relocctl 644"
fail=0
while read -r path mode; do
	got=$(stat -c %a "$dest$path" 2>/dev/null)
	if [ "$got" != "$mode" ]; then
		echo "$path: mode '${got:-missing}', want $mode"
		fail=1
	fi
done <<<"$want"
# Nothing else: a stray file would be shipped unnoticed.
n=$(find "$dest" -type f | wc -l)
[ "$n" -eq "$(echo "$want" | wc -l)" ] || {
	echo "$n files installed:"; find "$dest" -type f; fail=1; }
# A real xend-config.sxp belongs to the admin: install never writes one.
[ ! -e "$dest/etc/xen/xend-config.sxp" ] || { echo "wrote xend-config.sxp"; fail=1; }
[ $fail -eq 0 ] && ok files-and-modes || bad files-and-modes "see above"

unit=$dest/lib/systemd/system/relocd.service
if grep -qx "ExecStart=$P/sbin/relocd -d" "$unit"; then
	ok unit-execstart
else
	bad unit-execstart "$(grep ExecStart= "$unit")"
fi

# verify checks the binary is executable at its absolute path, so point
# a copy of the unit at the DESTDIR one; --man=no because the man pages
# are not on this system's MANPATH.
if command -v systemd-analyze >/dev/null; then
	sed "s|^ExecStart=$P|ExecStart=$dest$P|" "$unit" >"$tmp/relocd.service"
	if out=$(systemd-analyze verify --man=no "$tmp/relocd.service" 2>&1) &&
	    [ -z "$out" ]; then
		ok unit-verify
	else
		bad unit-verify "$out"
	fi
	# The template, as an instance: what relocd asks systemd to start.
	sed "s|^ExecStart=$P|ExecStart=$dest$P|" \
	    "$dest/lib/systemd/system/relocd-receive@.service" \
	    >"$tmp/relocd-receive@0123456789abcdef0123456789abcdef.service"
	if out=$(systemd-analyze verify --man=no \
	    "$tmp/relocd-receive@0123456789abcdef0123456789abcdef.service" 2>&1) &&
	    [ -z "$out" ]; then
		ok receive-unit-verify
	else
		bad receive-unit-verify "$out"
	fi
	# The shutdown hook runs SBINDIR's relocctl (inside sh -c, which
	# verify does not look into).
	if grep -q "exec $P/sbin/relocctl evacuate" \
	    "$dest/lib/systemd/system/relocd-evacuate.service" &&
	    out=$(systemd-analyze verify --man=no \
	    "$dest/lib/systemd/system/relocd-evacuate.service" 2>&1) &&
	    [ -z "$out" ]; then
		ok evacuate-unit-verify
	else
		bad evacuate-unit-verify "$out"
	fi
else
	echo "skip unit-verify: systemd-analyze is not installed"
fi

if out=$(mandoc -Tlint -W warning "$dest$P"/share/man/man[578]/* 2>&1) &&
    [ -z "$out" ]; then
	ok man-lint
else
	bad man-lint "$out"
fi

if "$dest$P/sbin/relocd" -n -f "$dest/etc/xen/xend-config.sxp.relocd-example" \
    2>&1 | grep -qx 'configuration OK'; then
	ok example-config
else
	bad example-config "relocd -n rejects the installed example"
fi

# The installed agent runs from its place and describes itself (it needs
# resource-agents' shell functions).
if [ ! -r /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ]; then
	echo "skip ocf-agent: resource-agents is not installed"
elif "$dest/usr/lib/ocf/resource.d/relocd/guest" meta-data 2>&1 |
    grep -q '^<resource-agent name="guest"'; then
	ok ocf-agent
else
	bad ocf-agent "the installed agent's meta-data"
fi

# The installed relocd-pki is the copy make stamped with the release.
release=$(awk -F '[()]' 'NR == 1 { print $2 }' debian/changelog)
if [ "$("$dest$P/sbin/relocd-pki" --version)" = "relocd-pki $release" ]; then
	ok pki-version
else
	bad pki-version "$("$dest$P/sbin/relocd-pki" --version 2>&1)"
fi

# One completion file, under each program's name (bash-completion loads
# completions/NAME for the command NAME); it registers all four.
comp=$dest$P/share/bash-completion/completions
if bash -n "$comp/relocctl" &&
    grep -q 'complete -F _relocctl relocctl' "$comp/relocctl" &&
    grep -q 'complete -F _relocd relocd$' "$comp/relocctl" &&
    grep -q 'complete -F _relocd_xl relocd-xl' "$comp/relocctl" &&
    grep -q 'complete -F _relocd_pki relocd-pki' "$comp/relocctl" &&
    [ "$(readlink "$comp/relocd")" = relocctl ] &&
    [ "$(readlink "$comp/relocd-xl")" = relocctl ] &&
    [ "$(readlink "$comp/relocd-pki")" = relocctl ]; then
	ok completion
else
	bad completion "does not parse, register all four, or have their names"
fi

# The snippets must name the user and directories relocd defaults to.
if grep -q '^u relocd ' "$dest/usr/lib/sysusers.d/relocd.conf" &&
    grep -q '^d /run/relocd/empty[[:space:]]*0755 root root' \
    "$dest/usr/lib/tmpfiles.d/relocd.conf" &&
    grep -q '^d /run/relocd/sim[[:space:]]*0700 root root' \
    "$dest/usr/lib/tmpfiles.d/relocd.conf" &&
    grep -q '^d /var/lib/relocd[[:space:]]*0700 root root' \
    "$dest/usr/lib/tmpfiles.d/relocd.conf" &&
    grep -qx 'StateDirectory=relocd' \
    "$dest/lib/systemd/system/relocd.service"; then
	ok snippets
else
	bad snippets "sysusers or tmpfiles snippet is wrong"
fi

make -s uninstall DESTDIR="$dest" PREFIX=$P >/dev/null 2>&1
left=$(find "$dest" -type f -o -type l)
if [ -z "$left" ]; then
	ok uninstall
else
	bad uninstall "left behind: $left"
fi
exit 0
