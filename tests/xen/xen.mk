# SPDX-License-Identifier: ISC
#
# Real-Xen targets, included by the top-level Makefile
# (-include tests/xen/xen.mk) or run alone from the repository root:
#   make -f tests/xen/xen.mk check-xen
#
#   check-xen   boot two Xen 4.17 hosts in QEMU and migrate a PVH, a PV
#               and an HVM guest A->B->A with every transport; "N passed,
#               N failed"
#   bench-xen   the same with XEN_BENCH_ROUNDS round trips per transport,
#               and the baseline table
#   clean-xen   drop the cache (/var/tmp/relocd-xen)
#
# Knobs: XEN_CACHE (cache directory), XEN_EXTRA_BINS (host binaries for
# dom0, relative to the repository root), XEN_TYPES (pvh,pv,hvm, or some),
# XEN_TRANSPORTS (default: all registered), XEN_BENCH_ROUNDS (3),
# XEN_HB_MS (guest heartbeat period, 20 ms), XEN_DOM0 (busybox, or
# systemd: Debian 12 with systemd, relocd installed from `make deb`'s
# package, one pair of hosts for every guest type, then the systemctl
# cases of systemd_cases.py), XEN_ONE_WAY (guest types that each
# transport moves A->B only, no round trip: CI's HVM), XEN_DEADLINE (Unix
# time by which the run stops itself and reports what ran: CI's limit),
# XEN_CASES (keys of the systemctl cases to run, comma-separated:
# restart, stop-start, reinstall, mid-stream, journal, evacuate,
# shutdown; default all).
# Minutes each, and about 2.5 GB of RAM: not part of `make check`.

XEN_DIR		:= tests/xen
XEN_CACHE	?= /var/tmp/relocd-xen
# The top Makefile builds into $(O) (build, or build-san).
XEN_EXTRA_BINS	?= $(or $(O),build)/relocd $(or $(O),build)/relocctl \
		   $(or $(O),build)/relocd-xl
XEN_TYPES	?= pvh,pv,hvm
XEN_TRANSPORTS	?=
XEN_BENCH_ROUNDS ?= 3
XEN_HB_MS	?= 20
XEN_ONE_WAY	?=
XEN_DEADLINE	?=
XEN_CASES	?=
XEN_PYTHON	:= /usr/bin/python3
XEN_DOM0	?= busybox

# The systemd dom0: the package (nocheck: `make check` is its own
# target), then the image built around build-images' kernel and guest.
XEN_DEB_DIR	:= $(or $(O),build)/deb
ifeq ($(XEN_DOM0),systemd)
# mkdir: the log sits beside the package, and a fresh clone has no build/.
XEN_DOM0_PREP = t=$$(date +%s) && scripts/install-deps --deb && \
	mkdir -p $(dir $(XEN_DEB_DIR)) && \
	{ DEB_BUILD_OPTIONS=nocheck $(MAKE) --no-print-directory -f Makefile \
	    deb >$(XEN_DEB_DIR).log 2>&1 || \
	  { tail -30 $(XEN_DEB_DIR).log; echo "check-xen: make deb failed"; \
	    false; }; } && \
	deb=$$(ls $(XEN_DEB_DIR)/relocd_*.deb | head -n 1) && \
	echo "check-xen: phase package: $$(($$(date +%s) - t))s ($$deb)" && \
	t=$$(date +%s) && \
	dom0=$$(XEN_CACHE=$(XEN_CACHE) flock $(XEN_CACHE).lock \
	    $(XEN_DIR)/build-dom0-systemd "$$img" "$$deb") && \
	echo "check-xen: phase systemd dom0 image: $$(($$(date +%s) - t))s" &&
# relocd comes from the package, so the busybox image (whose kernel,
# hypervisors and guest this dom0 boots) carries no extra binaries.
XEN_EXTRA_BINS :=
XEN_DOM0_ARGS = --dom0 systemd --dom0-dir "$$dom0" --deb "$$deb" \
	--one-pair --cases
else ifneq ($(XEN_DOM0),busybox)
$(error XEN_DOM0 is busybox or systemd, not $(XEN_DOM0))
endif
XEN_DOM0_ARGS += $(if $(filter 1,$(XEN_DEVICES)),--devices)

# build-images prints the image directory, and nothing else, on stdout.
# test_judge checks the verdict logic offline before any VM boots.
XEN_RUN = $(XEN_DIR)/install-deps && \
	$(XEN_PYTHON) $(XEN_DIR)/test_judge.py && \
	t=$$(date +%s) && \
	img=$$(XEN_CACHE=$(XEN_CACHE) XEN_EXTRA_BINS="$(XEN_EXTRA_BINS)" \
	    flock $(XEN_CACHE).lock $(XEN_DIR)/build-images) && \
	echo "check-xen: phase images: $$(($$(date +%s) - t))s" && \
	$(XEN_DOM0_PREP) \
	XEN_CACHE=$(XEN_CACHE) $(XEN_PYTHON) $(XEN_DIR)/xentest.py \
	    --img "$$img" --types $(XEN_TYPES) --transports "$(XEN_TRANSPORTS)" \
	    --hb-ms $(XEN_HB_MS) --one-way "$(XEN_ONE_WAY)" \
	    --deadline $(or $(XEN_DEADLINE),0) $(XEN_DOM0_ARGS) \
	    $(if $(XEN_CASES),--only-cases "$(XEN_CASES)")

.PHONY: check-xen bench-xen clean-xen

check-xen:
	@$(XEN_RUN)

bench-xen:
	@$(XEN_RUN) --rounds $(XEN_BENCH_ROUNDS)

clean-xen:
	rm -rf $(XEN_CACHE) $(XEN_CACHE).lock
