#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Offline test of the harness's verdict logic (xentest.judge), with fake
VMs instead of QEMU: each case feeds heartbeat streams that a real
migration, a reboot, a reset counter or a guest running on both hosts
would produce, and checks the verdict and the measured downtime.  It takes
a second and needs neither Xen nor QEMU, so check-xen runs it first.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xentest                                   # noqa: E402
from xenvm import Heartbeat                      # noqa: E402
from scenarios import MigrationError             # noqa: E402
import scenarios                                 # noqa: E402

xentest.SETTLE = 0.0


class FakeVM:
    def __init__(self, name, hbs):
        self.name = name
        self.hb = hbs

    def alive(self):
        return True

    def heartbeats(self, guest, since=0.0):
        return [h for h in self.hb if h.guest == guest and h.t >= since]


def stream(vm, first, count, t0, boot="aaaaaaaa", period=0.02):
    return [Heartbeat(t0 + i * period, vm, "g", boot, first + i, 0)
            for i in range(count)]


def case(name, src_hbs, dst_hbs, want_error=None, want_down=None):
    src, dst = FakeVM("A", src_hbs), FakeVM("B", dst_hbs)
    try:
        res = xentest.judge(src, dst, "g", 100.0)
    except MigrationError as e:
        if want_error and want_error in str(e):
            return True
        print(f"FAIL {name}: unexpected error: {e}")
        return False
    if want_error:
        print(f"FAIL {name}: accepted, wanted an error about {want_error!r}")
        return False
    if abs(res["downtime"] - want_down) > 1e-6:
        print(f"FAIL {name}: downtime {res['downtime']}, want {want_down}")
        return False
    return True


def selector(spec, want=None, want_error=None):
    """--transports SPEC selects WANT ({name: guest types}), in the order
    the transports were registered, or fails naming WANT_ERROR."""
    try:
        chosen, _ = xentest.select_transports(spec)
    except ValueError as e:
        if want_error and want_error in str(e):
            return True
        print(f"FAIL --transports {spec}: unexpected error: {e}")
        return False
    got = {t.name: t.guest_types for t in chosen}
    order = [t.name for t in scenarios.TRANSPORTS]
    if want_error or got != want or \
            list(got) != sorted(got, key=order.index):
        print(f"FAIL --transports {spec}: got {got}, want "
              f"{want_error or want}")
        return False
    return True


def selector_cases():
    every = ("pvh", "pv", "hvm")
    return [
        selector("relocctl,relocd-xl:pvh",
                 {"relocd-xl": ("pvh",), "relocctl": every}),
        selector("relocd-xl:hvm+pv", {"relocd-xl": ("hvm", "pv")}),
        selector("relocctl:pvh+arm", want_error="relocctl handles"),
        selector("", {t.name: t.guest_types for t in scenarios.TRANSPORTS}),
    ]


def prediction_cases():
    """The prediction table's error is the median prediction against the
    median of relocd's clock, and "learnt" only counts legs whose fixed
    cost was learnt."""
    def leg(pred, rel, samples, ok=True):
        return {"ok": ok, "predicted_ms": pred, "relocd_ms": rel,
                "fixed_cost_samples": samples, "downtime": rel / 1000 + 0.2,
                "pause": {"suspend-ms": 30, "final-copy-ms": 100}}
    legs = [leg(450, 900, 0), leg(800, 1000, 1), leg(1100, 1000, 2),
            leg(5000, 100, 3, ok=False)]
    got = xentest.predictions({"legs": {("pvh", "relocctl"): legs,
                                        ("pvh", "xl-tcp"): legs}})
    rows = [r for r in got.splitlines() if r.startswith("| pvh")]
    # All three good legs: 800 against 1000 is -20 %; learnt: 950 against
    # 1000 is -5 %; xl-tcp rows are not relocd's and are left out.
    want = "| pvh | 3 | 800 | 1000 | -20 % | 2 | -5 % | 1200 | 30 | 100 |"
    if len(rows) != 1 or not rows[0].startswith(want):
        print(f"FAIL prediction table: got {rows}, want {want}...")
        return [False]
    return [True]


def verdict_cases():
    """A one-way type passes on its one leg; a round-trip type needs both
    legs, and a one-way type with two legs ran something else."""
    import contextlib
    import io
    relocctl = [t for t in scenarios.TRANSPORTS if t.name == "relocctl"]
    leg = {"ok": True}

    def verdict(legs, one_way):
        with contextlib.redirect_stdout(io.StringIO()):
            return xentest.verdicts({"legs": {("hvm", "relocctl"): legs},
                                     "session_error": {}},
                                    ["hvm"], relocctl, 1, one_way)
    want = [(([leg], ["hvm"]), (1, 0)), (([leg], []), (0, 1)),
            (([leg, leg], ["hvm"]), (0, 1)), (([leg, leg], []), (1, 0))]
    ok = []
    for (legs, one_way), expect in want:
        got = verdict(legs, one_way)
        if got != expect:
            print(f"FAIL verdict: {len(legs)} legs, one way {one_way}: "
                  f"got {got}, want {expect}")
        ok.append(got == expect)
    return ok


def main():
    # Source: counters 0..299 at 100.0 .. 105.98 s.  Destination resumes
    # with 300 at 107.0 s: 1.02 s of downtime.
    src = stream("A", 0, 300, 100.0)
    ok = [
        case("good migration", src, stream("B", 300, 50, 107.0),
             want_down=107.0 - 105.98),
        case("guest rebooted", src, stream("B", 0, 50, 107.0, boot="bbbbbbbb"),
             want_error="rebooted"),
        case("counter reset", src, stream("B", 10, 50, 107.0),
             want_error="both hosts"),
        case("ran on both hosts", src + stream("A", 300, 10, 106.0),
             stream("B", 305, 50, 107.0), want_error="both hosts"),
        case("no source stream", [], stream("B", 300, 50, 107.0),
             want_error="no heartbeat"),
    ]
    ok += selector_cases()
    ok += prediction_cases()
    ok += verdict_cases()
    # Not "N passed, N failed": check-xen prints that line once, at the end.
    print(f"test_judge: {sum(ok)} of {len(ok)} verdict and selector cases "
          f"right")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
