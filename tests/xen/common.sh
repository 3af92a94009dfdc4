# SPDX-License-Identifier: ISC
#
# Shared by build-images and build-xen-shadow: where the cache lives and how
# packages are fetched into it.  Sourced, never run.
#
# Everything large lives outside the repository, under $XEN_CACHE
# (default /var/tmp/relocd-xen):
#   debs/<version-key>/       .debs fetched with `apt-get download`
#   sysroot/<version-key>/    those .debs unpacked with dpkg-deb -x
#   shadow/<key>/             the shadow-paging hypervisor
#   img/<key>/                hypervisors, kernel, dom0 and guest initramfs
#   src/                      Debian's xen source (tarballs kept, tree removed)
#   run/<stamp>/              one harness run: serial logs, keys, results

XEN_CACHE=${XEN_CACHE:-/var/tmp/relocd-xen}

# Binary packages whose *files* go into the VMs.  They are unpacked, never
# installed, so the host gets no grub entry, init script or sshd.
# The Xen libraries come along so that dom0's libxenlight is exactly the
# version its xl was built with, whatever the host has installed.
# qemu-system-xen (/usr/libexec/xen-qemu-system-i386, the device model
# path libxenlight expects) and seabios (bios-256k.bin, which libxl hands
# to hvmloader) are for HVM guests.
IMAGE_DEBS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils
	libxenmisc4.17 libxenstore4 libxencall1 libxendevicemodel1
	libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenhypfs1
	libxentoolcore1 libxentoollog1
	busybox-static openssh-server openssh-client
	qemu-system-xen seabios"

msg() { echo "${0##*/}: $*" >&2; }
die() { msg "$*"; exit 1; }

# The kernel package behind the linux-image-amd64 metapackage, e.g.
# linux-image-6.1.0-56-amd64.  The guest and dom0 both boot it.
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
	    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# "name=version" for each package that goes into the images, from apt's
# candidate versions.  This is the cache key of the downloaded sysroot.
# One apt-cache call: each one loads the whole package cache.
image_pkg_versions() {
	local kpkg out
	kpkg=$(kernel_pkg)
	[ -n "$kpkg" ] || die "apt cannot resolve linux-image-amd64"
	out=$(apt-cache policy $IMAGE_DEBS "$kpkg" 2>/dev/null | awk '
		/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) }
		$1 == "Candidate:" && $2 != "(none)" { print p "=" $2 }')
	for p in $IMAGE_DEBS "$kpkg"; do
		echo "$out" | grep -q "^$p=" ||
		    die "apt knows no candidate for $p (run apt-get update?)"
	done
	echo "$out"
}

# Make sure apt has package lists.  A fresh machine has none, and then
# apt-cache answers nothing at all.
ensure_apt_lists() {
	if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
		msg "no apt lists yet; running apt-get update"
		apt-get update -qq || die "apt-get update failed"
	fi
}

# Download and unpack the image packages; print the sysroot path.  Cached
# on the exact versions, so a Debian point release makes a new sysroot.
fetch_sysroot() {
	local vers key debs root p
	# build-images passes the sysroot it already resolved.
	if [ -n "${XEN_SYSROOT:-}" ] && [ -e "$XEN_SYSROOT/.done" ]; then
		echo "$XEN_SYSROOT"
		return 0
	fi
	ensure_apt_lists
	vers=$(image_pkg_versions) || exit 1
	key=$(echo "$vers" | sha256sum | cut -c1-16)
	debs="$XEN_CACHE/debs/$key"
	root="$XEN_CACHE/sysroot/$key"
	if [ ! -e "$root/.done" ]; then
		msg "fetching image packages ($key)"
		rm -rf "$debs" "$root"
		mkdir -p "$debs" "$root"
		# apt-get download drops privileges to _apt, which cannot
		# write to a root-owned directory; that only costs a warning.
		(cd "$debs" && apt-get download -q $vers 2>&1 |
		    grep -v -e '^Get:' -e '^Fetched' -e 'unsandboxed' >&2) || true
		for p in $vers; do
			ls "$debs/${p%%=*}"_*.deb >/dev/null 2>&1 ||
			    die "apt-get download ${p} failed"
		done
		for p in "$debs"/*.deb; do
			dpkg-deb -x "$p" "$root" || die "cannot unpack $p"
		done
		echo "$vers" > "$root/.versions"
		touch "$root/.done"
	fi
	echo "$root"
}
