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
# XEN_HB_MS (guest heartbeat period, 20 ms).
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
XEN_PYTHON	:= /usr/bin/python3

# build-images prints the image directory, and nothing else, on stdout.
# test_judge checks the verdict logic offline before any VM boots.
XEN_RUN = $(XEN_DIR)/install-deps && \
	$(XEN_PYTHON) $(XEN_DIR)/test_judge.py && \
	img=$$(XEN_CACHE=$(XEN_CACHE) XEN_EXTRA_BINS="$(XEN_EXTRA_BINS)" \
	    flock $(XEN_CACHE).lock $(XEN_DIR)/build-images) && \
	XEN_CACHE=$(XEN_CACHE) $(XEN_PYTHON) $(XEN_DIR)/xentest.py \
	    --img "$$img" --types $(XEN_TYPES) --transports "$(XEN_TRANSPORTS)" \
	    --hb-ms $(XEN_HB_MS)

.PHONY: check-xen bench-xen clean-xen

check-xen:
	@$(XEN_RUN)

bench-xen:
	@$(XEN_RUN) --rounds $(XEN_BENCH_ROUNDS)

clean-xen:
	rm -rf $(XEN_CACHE) $(XEN_CACHE).lock
