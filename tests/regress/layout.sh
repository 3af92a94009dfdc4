#!/bin/bash
# SPDX-License-Identifier: ISC
# Each program links only what it uses (STYLE.md, "Layout"): relocctl
# and relocd-xl borrow a few of relocd/'s modules, so neither may link a
# Xen library, and relocctl, which only reads the config and talks to
# the control socket, links no TLS or sandbox library either.  jansson
# is for JSON: relocctl's --json and the daemon's migration reports
# (report.c); relocd-xl writes none.
set -u
cd "${TOP:?}"
fail=0

# Prints the sonames of a binary's direct dependencies (readelf's
# NEEDED entries: ldd would also list what those pull in).
needed() {
	readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}

for prog in relocctl relocd-xl; do
	libs=$(needed "$O/$prog") || { echo "cannot read $O/$prog"; exit 1; }
	[ -n "$libs" ] || { echo "$prog: no NEEDED entries read"; exit 1; }
	bad=$(echo "$libs" | grep -E '^libxen' || true)
	[ -z "$bad" ] || { echo "$prog links Xen libraries:" $bad; fail=1; }
done

bad=$(needed "$O/relocctl" | grep -E '^lib(ssl|crypto|seccomp|systemd)' || true)
[ -z "$bad" ] || { echo "relocctl links daemon libraries:" $bad; fail=1; }

for prog in relocctl relocd; do
	needed "$O/$prog" | grep -q '^libjansson' ||
	    { echo "$prog does not link libjansson"; fail=1; }
done
if needed "$O/relocd-xl" | grep -q '^libjansson'; then
	echo "relocd-xl links libjansson"; fail=1
fi

# The daemon itself does link the xen backend's libraries.
needed "$O/relocd" | grep -q '^libxenguest' ||
    { echo "relocd does not link libxenguest"; fail=1; }

# A whole-tree ldd as a user would run it shows the same.
if ldd "$O/relocctl" | grep -q libxen; then
	echo "ldd $O/relocctl lists a Xen library"; fail=1
fi
exit $fail
