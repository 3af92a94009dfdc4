#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Every libFuzzer harness builds against the real modules, replays each
# crasher kept in tests/fuzz/regress/NAME/ (each was a bug, now fixed),
# and survives a short run from its seed corpus.  Bounded: 20000 runs or
# 10 seconds per harness.
set -u
: "${TOP:?run through tests/run}"
cd "$TOP" || exit 1
command -v "${FUZZ_CC:-clang}" >/dev/null ||
    { echo "clang not installed (scripts/install-deps)"; exit 77; }
names=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
out=$(make -s fuzz-build 2>&1) || {
	echo "$out" | tail -n 30
	for n in $names; do echo "FAIL fuzz $n (does not build)"; done
	exit 1
}
# shellcheck disable=SC2086
tests/fuzz/run -smoke $names
