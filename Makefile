# SPDX-License-Identifier: ISC
#
# relocd: one non-recursive GNU Makefile, no configure step.
# Objects and binaries go to $(O) (build/, or build-san/ with SANITIZE=1).

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
DATADIR		?= $(PREFIX)/share
# systemd's own paths do not follow PREFIX: units elsewhere are not found.
UNITDIR		?= /lib/systemd/system
SYSUSERSDIR	?= /usr/lib/sysusers.d
TMPFILESDIR	?= /usr/lib/tmpfiles.d
COMPLETIONDIR	?= $(DATADIR)/bash-completion/completions
# Pacemaker finds OCF resource agents under OCF_ROOT, /usr/lib/ocf, not
# under PREFIX: ocf:relocd:guest is resource.d/relocd/guest there.
OCFDIR		?= /usr/lib/ocf
DESTDIR		?=

CC		?= cc
PKG_CONFIG	?= pkg-config
# Every library relocd may link; checked up front for a clear message.
PKGS		:= xencontrol xenguest xenstore xenlight xentoollog xlutil openssl libpcre2-8 libseccomp \
		   libsystemd jansson libxxhash libzstd

WARNINGS	:= -Wall -Wextra -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wpointer-arith -Wcast-qual
ifeq ($(CI),true)
WARNINGS	+= -Werror
endif
HARDENING	:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARDENING	:= -pie -Wl,-z,relro,-z,now
CFLAGS		?= -O2 -g

ifeq ($(SANITIZE),1)
O		?= build-san
SANFLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
else
O		?= build
SANFLAGS	:=
endif

PKG_MISSING	:= $(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || echo yes)
ifeq ($(PKG_MISSING),yes)
$(error missing build dependencies ($(PKGS)); run scripts/install-deps)
endif
# xlutil: xl's own parser, for xl.conf's autoballoon (xen_mem.c).
XEN_PKGS	:= xencontrol xenguest xenstore xenlight xentoollog xlutil
pkg_cflags	= $(shell $(PKG_CONFIG) --cflags $(1))
pkg_libs	= $(shell $(PKG_CONFIG) --libs $(1))
DEP_CFLAGS	:= $(call pkg_cflags,libpcre2-8 openssl libseccomp libsystemd jansson libxxhash libzstd \
		   $(XEN_PKGS))

ALL_CFLAGS	= -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(HARDENING) $(SANFLAGS) $(CFLAGS) \
		  $(DEP_CFLAGS) -Irelocd -MMD -MP
ALL_LDFLAGS	= $(LDHARDENING) $(SANFLAGS) $(LDFLAGS)

# One source list per program, as relayctl borrows only the relayd files
# it needs: relocctl and relocd-xl take a few of relocd/'s modules and
# link none of the daemon's backends, so neither links a Xen library
# (tests/regress/docs.sh checks with ldd).  The daemon is every file in
# relocd/; a new one is picked up without editing this file.
RELOCD_SRCS	:= $(sort $(wildcard relocd/*.c))
# What the daemon's modules are, without its main: the unit tests link it.
DAEMON_SRCS	:= $(filter-out relocd/relocd.c,$(RELOCD_SRCS))
# jansson: the parent keeps migration reports as JSON (report.c);
# libxxhash: the sim stream's memory digest (sim_digest.c); libzstd: the
# stream's optional compression, in the network children (compress.c).
RELOCD_LIBS	:= $(call pkg_libs,libpcre2-8 openssl libseccomp libsystemd jansson \
		   libxxhash libzstd $(XEN_PKGS)) -lpthread

# relocctl reads the config (conf, acl, sxp) to find the control socket
# and speaks the control protocol (ctl, proto), and prints the parts of
# a pause (pause) and a downtime target out of reach (target); it links
# jansson for --json, as the daemon does for its reports, and relocd-xl
# does not (tests/regress/layout.sh checks).
CTL_BORROWS	:= acl checks conf ctl guest log pause placement proto sxp \
		   target util version
RELOCCTL_SRCS	:= $(wildcard relocctl/*.c) $(CTL_BORROWS:%=relocd/%.c)
RELOCCTL_LIBS	:= $(call pkg_libs,libpcre2-8 jansson)

# relocd-xl is a network child of its own: TLS, the peer protocol and the
# sandbox (net, proc), but no worker and no backend.
# It compresses xl's stream as a source's network child does (compress,
# compress_auto; libzstd).
XL_BORROWS	:= acl checks compress compress_auto conf guest keyproc log msg net \
		   proc proto sxp tls tls_conn tls_key util version xlreq
RELOCD_XL_SRCS	:= xl-plugin/relocd-xl.c $(XL_BORROWS:%=relocd/%.c)
RELOCD_XL_LIBS	:= $(call pkg_libs,libpcre2-8 openssl libseccomp libzstd)

# The release has one home, debian/changelog's first line ("relocd
# (0.2.0~dev) unstable; ..."), so that the package and the programs
# (relocd -V, relocctl status, the hello) never disagree; only
# relocd/version.c is compiled with it.
VERSION		:= $(shell awk -F '[()]' 'NR == 1 { print $$2 }' debian/changelog)
ifeq ($(VERSION),)
$(error cannot read the release from debian/changelog's first line)
endif

objs		= $(1:%.c=$(O)/obj/%.o)
DAEMON_OBJS	:= $(call objs,$(DAEMON_SRCS))

UNIT_TESTS	:= $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS	:= $(UNIT_TESTS:%=$(O)/tests/test_%)

.SECONDARY:
.PHONY: all install uninstall check check-cluster unit bench fuzz fuzz-build lint demo deb clean

all: $(O)/relocd $(O)/relocctl $(O)/relocd-xl $(O)/relocd-pki

$(O)/relocd: $(call objs,$(RELOCD_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(RELOCD_LIBS)

$(O)/relocctl: $(call objs,$(RELOCCTL_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(RELOCCTL_LIBS)

# The xl plugin: xl migrate -s relocd-xl GUEST HOST.
$(O)/relocd-xl: $(call objs,$(RELOCD_XL_SRCS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(RELOCD_XL_LIBS)

# relocd-pki is a shell script: the copy make builds and installs has
# the release stamped in, so that its --version says what the others'
# do.
$(O)/relocd-pki: scripts/relocd-pki debian/changelog
	@mkdir -p $(dir $@)
	sed 's|^RELEASE=@RELEASE@$$|RELEASE=$(VERSION)|' scripts/relocd-pki >$@.tmp
	grep -qx 'RELEASE=$(VERSION)' $@.tmp
	chmod 0755 $@.tmp
	mv -f $@.tmp $@

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/obj/relocd/version.o: debian/changelog
$(O)/obj/relocd/version.o: ALL_CFLAGS += -DRELOCD_VERSION='"$(VERSION)"'

# A unit test links the daemon's modules; the linker takes only what the
# test uses.
$(O)/tests/test_%: $(O)/obj/tests/unit/test_%.o $(DAEMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(DAEMON_OBJS) $(RELOCD_LIBS)

$(O)/obj/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

unit: $(UNIT_BINS)

# The whole suite: unit tests, config goldens, regress scenarios.  Ends
# with one "N passed, N failed" line.
check: all unit
	O=$(O) tests/run

# ocf:relocd:guest in a real two-node Pacemaker cluster on this machine
# (tests/cluster/run): network namespaces, so root only; a minute or two.
# Ends with "N passed, N failed".
check-cluster: all
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "check-cluster: skipped: needs root (network namespaces, corosync, Pacemaker)"; \
		exit 0; \
	fi; \
	scripts/install-deps --cluster && O=$(O) tests/cluster/run

lint:
	mandoc -Tlint -W warning man/*.[578]
	tests/lint-sources

demo: all
	scripts/demo $(O)

# Benchmarks (bench/README.md): about 25 minutes, or 2-3 with QUICK=1.
# The shaped-link scenarios need root (network namespaces, tc); the
# packages come from scripts/install-deps --bench, which says what to
# run when it cannot install them itself.
bench: all
	scripts/install-deps --bench
	python3 bench/bench.py --build $(O) $(if $(QUICK),--quick)

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), each linked with the real
# modules built for fuzzing into build-fuzz/.  "make fuzz" runs every
# harness for FUZZ_SECONDS; "make check" replays crashers and runs a
# short smoke of each (tests/regress/fuzz-smoke.sh).
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_RUNS	?=
FUZZ_O		:= build-fuzz
FUZZ_SAN	:= address,undefined -fno-sanitize-recover=undefined
# Without -Werror: clang warns inside OpenSSL's macros (a const cast in
# SSL_set_tlsext_host_name) where gcc, the CI compiler, does not.
FUZZ_CFLAGS	= -std=gnu11 -D_GNU_SOURCE $(filter-out -Werror,$(WARNINGS)) -g -O1 \
		  -fno-omit-frame-pointer $(DEP_CFLAGS) -Irelocd -MMD -MP
FUZZ_NAMES	:= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS	:= $(FUZZ_NAMES:%=$(FUZZ_O)/fuzz_%)
FUZZ_OBJS	:= $(DAEMON_SRCS:%.c=$(FUZZ_O)/obj/%.o)

$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(FUZZ_O)/obj/relocd/version.o: debian/changelog
$(FUZZ_O)/obj/relocd/version.o: FUZZ_CFLAGS += -DRELOCD_VERSION='"$(VERSION)"'

$(FUZZ_O)/fuzz_%: $(FUZZ_O)/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< $(FUZZ_OBJS) $(RELOCD_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The units name SBINDIR's programs; the example config never replaces a
# real xend-config.sxp, and /etc/default/relocd (the shutdown hook's
# peers) is written only where there is none, and removed by uninstall
# only as shipped.  bash-completion loads completions/NAME by the
# command's name, so the one completion file, which completes all four
# programs, is there under each name.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(SYSCONFDIR)/xen $(DESTDIR)$(SYSCONFDIR)/default \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(COMPLETIONDIR) \
	    $(DESTDIR)$(OCFDIR)/resource.d/relocd
	install -m 0755 $(O)/relocd $(DESTDIR)$(SBINDIR)/relocd
	install -m 0755 $(O)/relocctl $(DESTDIR)$(SBINDIR)/relocctl
	install -m 0755 $(O)/relocd-xl $(DESTDIR)$(SBINDIR)/relocd-xl
	install -m 0755 $(O)/relocd-pki $(DESTDIR)$(SBINDIR)/relocd-pki
	install -m 0644 man/relocd.8 $(DESTDIR)$(MANDIR)/man8/relocd.8
	install -m 0644 man/relocctl.8 $(DESTDIR)$(MANDIR)/man8/relocctl.8
	install -m 0644 man/relocd-xl.8 $(DESTDIR)$(MANDIR)/man8/relocd-xl.8
	install -m 0644 man/relocd-pki.8 $(DESTDIR)$(MANDIR)/man8/relocd-pki.8
	install -m 0644 man/xend-config.sxp.5 \
	    $(DESTDIR)$(MANDIR)/man5/xend-config.sxp.5
	install -m 0644 man/ocf_relocd_guest.7 \
	    $(DESTDIR)$(MANDIR)/man7/ocf_relocd_guest.7
	install -m 0755 ocf/guest $(DESTDIR)$(OCFDIR)/resource.d/relocd/guest
	install -m 0644 etc/xend-config.sxp.example \
	    $(DESTDIR)$(SYSCONFDIR)/xen/xend-config.sxp.relocd-example
	sed 's|/usr/sbin/relocd|$(SBINDIR)/relocd|' etc/relocd.service \
	    >$(DESTDIR)$(UNITDIR)/relocd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/relocd.service
	sed 's|/usr/sbin/relocd|$(SBINDIR)/relocd|' \
	    'etc/relocd-receive@.service' \
	    >'$(DESTDIR)$(UNITDIR)/relocd-receive@.service'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/relocd-receive@.service'
	sed -e 's|/usr/sbin/relocctl|$(SBINDIR)/relocctl|' \
	    -e 's|/etc/default/relocd|$(SYSCONFDIR)/default/relocd|' \
	    etc/relocd-evacuate.service \
	    >$(DESTDIR)$(UNITDIR)/relocd-evacuate.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/relocd-evacuate.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/relocd ] || \
	    install -m 0644 etc/relocd.default \
	    $(DESTDIR)$(SYSCONFDIR)/default/relocd
	install -m 0644 etc/relocd.sysusers.conf \
	    $(DESTDIR)$(SYSUSERSDIR)/relocd.conf
	install -m 0644 etc/relocd.tmpfiles.conf \
	    $(DESTDIR)$(TMPFILESDIR)/relocd.conf
	install -m 0644 scripts/relocctl.bash-completion \
	    $(DESTDIR)$(COMPLETIONDIR)/relocctl
	for p in relocd relocd-xl relocd-pki; do \
	    ln -sf relocctl $(DESTDIR)$(COMPLETIONDIR)/$$p || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/relocd $(DESTDIR)$(SBINDIR)/relocctl \
	    $(DESTDIR)$(SBINDIR)/relocd-pki $(DESTDIR)$(SBINDIR)/relocd-xl \
	    $(DESTDIR)$(MANDIR)/man8/relocd.8 \
	    $(DESTDIR)$(MANDIR)/man8/relocctl.8 \
	    $(DESTDIR)$(MANDIR)/man8/relocd-xl.8 \
	    $(DESTDIR)$(MANDIR)/man8/relocd-pki.8 \
	    $(DESTDIR)$(MANDIR)/man5/xend-config.sxp.5 \
	    $(DESTDIR)$(MANDIR)/man7/ocf_relocd_guest.7 \
	    $(DESTDIR)$(OCFDIR)/resource.d/relocd/guest \
	    $(DESTDIR)$(SYSCONFDIR)/xen/xend-config.sxp.relocd-example \
	    $(DESTDIR)$(UNITDIR)/relocd.service \
	    '$(DESTDIR)$(UNITDIR)/relocd-receive@.service' \
	    $(DESTDIR)$(UNITDIR)/relocd-evacuate.service \
	    $(DESTDIR)$(SYSUSERSDIR)/relocd.conf \
	    $(DESTDIR)$(TMPFILESDIR)/relocd.conf \
	    $(DESTDIR)$(COMPLETIONDIR)/relocctl \
	    $(DESTDIR)$(COMPLETIONDIR)/relocd \
	    $(DESTDIR)$(COMPLETIONDIR)/relocd-xl \
	    $(DESTDIR)$(COMPLETIONDIR)/relocd-pki
	! cmp -s etc/relocd.default $(DESTDIR)$(SYSCONFDIR)/default/relocd || \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/default/relocd

# The Debian package, built from a clean copy of the tree in $(O)/deb so
# that neither this tree's build/ nor the directory above it is touched;
# the .deb lands in $(O)/deb/.  It runs 'make check' itself unless
# DEB_BUILD_OPTIONS has nocheck; the copy has no .git, so the previous
# release that check runs against (tests/regress/upgrade.sh) is built
# here, from this tree's history, and handed over in RELOCD_PREV.
deb:
	rm -rf $(O)/deb
	mkdir -p $(O)/deb/relocd
	tar -cf - --exclude=./build --exclude=./build-san --exclude=./.git \
	    --exclude='./debian/relocd' --exclude='./debian/.debhelper' . | \
	    tar -xf - -C $(O)/deb/relocd
	case "$$DEB_BUILD_OPTIONS" in *nocheck*) prev= ;; \
	*) prev=$$(tests/prev-release $(abspath $(O))) || exit 1 ;; esac; \
	cd $(O)/deb/relocd && RELOCD_PREV=$$prev dpkg-buildpackage -us -uc -b
	rm -rf $(O)/deb/relocd
	ls -l $(O)/deb/*.deb

clean:
	rm -rf build build-san build-fuzz

-include tests/xen/xen.mk
-include $(shell find $(O) $(FUZZ_O) -name '*.d' 2>/dev/null)
