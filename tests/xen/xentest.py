#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Real-Xen migration harness: boot two emulated Xen 4.17 hosts in QEMU,
create a live guest on A and migrate it A->B->A with every registered
transport (scenarios.py), proving after each migration that it kept
running, and print total time, guest-visible downtime and bytes moved.

One session per guest type, each on its own pair of hosts (PV needs its
own hypervisor):
  pvh  Debian's stock hypervisor (log-dirty through HAP)
  pv   the hypervisor rebuilt with shadow paging (build-xen-shadow)
  hvm  Debian's stock hypervisor, QEMU's Xen device model in dom0
       (only with the transports that list it)

Each scenario (guest type x transport) prints PASS or FAIL with a reason;
the run ends with one line "N passed, N failed" and exits non-zero if any
failed.  Every wait is bounded, both QEMUs are always killed, and the run
checks that none is left.

usage: xentest.py --img DIR [--rounds N] [--types pvh,pv,hvm]
                  [--transports xl-tcp,relocd-xl:pvh+pv] [--table-md FILE]
"""

import argparse
import dataclasses
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xenvm import VM, VMError, tcp_listening          # noqa: E402
import scenarios                                      # noqa: E402
import relocd_dom0                                    # noqa: E402,F401
import systemd_cases                                  # noqa: E402
import devices                                        # noqa: E402
import preflight_cases                                # noqa: E402
from scenarios import Ctx, MigrationError             # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("XEN_CACHE", "/var/tmp/relocd-xen")

BOOT_TIMEOUT = 240          # per boot attempt: 20-70 s seen, more under load
GUEST_TIMEOUT = 300         # xl create to first heartbeat: 30-90 s seen
# HVM boots through hvmloader, SeaBIOS and QEMU's option ROM, whose every
# port access is a round trip to the device model in dom0: 2-3 minutes.
GUEST_TIMEOUT_BY_TYPE = {"hvm": 600}
SETTLE = 2.0                # heartbeats collected after each migration
MEM_NEEDED_MIB = 2600       # two 1 GiB VMs plus QEMU's own memory
RUN_DEADLINE = 75 * 60      # the whole run; CI allows 90 minutes
# ... for pvh and pv; an HVM session (6-10 minutes, its guest boots in
# 1-2) extends it.
EXTRA_DEADLINE = {"hvm": 25 * 60}
HYPERVISOR = {"pvh": "xen-4.17", "pv": "xen-4.17-shadow",
              "hvm": "xen-4.17"}
IPS = {"A": "10.99.0.1", "B": "10.99.0.2"}

ALL_VMS = []                # every VM ever started, for teardown


class Abort(Exception):
    """A signal or the run deadline: stop everything now."""


def log(*a):
    print(time.strftime("[%H:%M:%S]"), *a, flush=True)


# ------------------------------------------------------------ environment
def preflight(img):
    """Fail loudly, naming what is missing, instead of skipping."""
    problems = []
    if shutil.which("qemu-system-x86_64") is None:
        problems.append("qemu-system-x86_64 not found "
                        "(run tests/xen/install-deps)")
    if shutil.which("ssh-keygen") is None:
        problems.append("ssh-keygen not found (openssh-client)")
    for f in ("xen-4.17", "xen-4.17-shadow", "vmlinuz", "dom0.cpio.gz"):
        if not os.path.exists(os.path.join(img, f)):
            problems.append(f"{img}/{f} missing (run tests/xen/build-images)")
    with open("/proc/meminfo") as f:
        avail = next(int(l.split()[1]) for l in f
                     if l.startswith("MemAvailable:")) // 1024
    if avail < MEM_NEEDED_MIB:
        problems.append(f"only {avail} MiB of RAM available, the two VMs "
                        f"need about {MEM_NEEDED_MIB} MiB")
    for p in problems:
        print(f"xentest: environment: {p}", file=sys.stderr)
    return not problems


def make_rundir():
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    rundir = os.path.join(CACHE, "run", stamp)
    os.makedirs(os.path.join(rundir, "share", "ssh"))
    # Old runs only cost disk: keep the ten newest.
    runs = sorted(os.listdir(os.path.join(CACHE, "run")))
    for old in runs[:-10]:
        shutil.rmtree(os.path.join(CACHE, "run", old), ignore_errors=True)
    return rundir


def make_ssh_keys(rundir):
    """Fresh keys for every run: a client key both dom0s trust, and one
    host key per dom0 that the other pins in known_hosts."""
    d = os.path.join(rundir, "share", "ssh")
    gen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "relocd-xen"]
    subprocess.run(gen + ["-f", f"{d}/id_ed25519"], check=True, timeout=30)
    with open(f"{d}/known_hosts", "w") as kh:
        for name, ip in IPS.items():
            subprocess.run(gen + ["-f", f"{d}/host_{name}"], check=True,
                           timeout=30)
            with open(f"{d}/host_{name}.pub") as pub:
                kh.write(f"{ip} {' '.join(pub.read().split()[:2])}\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ hosts
# The dom0 both hosts boot: "busybox" (build-images' initramfs, relocd
# copied in) or "systemd" (build-dom0-systemd: Debian 12 with systemd,
# relocd installed from its package); main() sets these.
DOM0 = "busybox"
DOM0_DIR = None


def boot_pair(img, gtype, rundir, attempt, hypervisor=None):
    """Start A and B on one socket wire and wait for both dom0s."""
    logdir = os.path.join(rundir, f"{gtype}-boot{attempt}")
    os.makedirs(logdir)
    hyp = os.path.join(img, hypervisor or HYPERVISOR[gtype])
    port = free_port()
    # "out" is the one writable share: files a scenario hands back to
    # the host (relocd's save files, checked by verify-stream-v2).
    out = os.path.join(rundir, "out")
    os.makedirs(out, exist_ok=True)
    shares = [("run", os.path.join(rundir, "share")), ("repo", REPO),
              ("out", out, "rw")]
    a = VM("A", img, hyp, logdir, IPS["A"],
           f"socket,listen=127.0.0.1:{port}", "52:54:00:99:00:01", shares,
           dom0_dir=DOM0_DIR)
    b = VM("B", img, hyp, logdir, IPS["B"],
           f"socket,connect=127.0.0.1:{port}", "52:54:00:99:00:02", shares,
           dom0_dir=DOM0_DIR)
    a.dom0 = b.dom0 = DOM0
    ALL_VMS.extend([a, b])
    t0 = time.monotonic()
    a.start()
    # B's QEMU connects once at start-up, so A must already listen.
    end = time.monotonic() + 30
    while not tcp_listening(port):
        if time.monotonic() > end or not a.alive():
            raise VMError(f"A's QEMU is not listening on port {port}")
        time.sleep(0.1)
    b.start()
    for vm in (a, b):
        left = max(30.0, BOOT_TIMEOUT - (time.monotonic() - t0))
        log(f"{gtype}: {vm.name} dom0 ready after "
            f"{vm.wait_ready(left):.1f}s{vm.ready_note}")
    a.run(f"ping -c 2 -W 10 {IPS['B']} >/dev/null", 60)
    return a, b, time.monotonic() - t0


def check_extras(img, vm):
    """The extra host binaries (XEN_EXTRA_BINS) must load in dom0: the
    dynamic loader lists their libraries and fails if one is missing.
    (The systemd dom0 has none: relocd comes from its package.)"""
    if DOM0 == "systemd":
        return
    with open(os.path.join(img, "manifest")) as f:
        names = [l.strip().rsplit("/", 1)[-1] for l in f
                 if l.startswith("extra=")]
    for n in names:
        vm.run(f"/lib64/ld-linux-x86-64.so.2 --list /usr/local/sbin/{n} "
               f">/dev/null", 60)
    if names:
        log(f"extra binaries load in dom0: {' '.join(names)}")


def boot_with_retry(img, gtype, rundir, hypervisor=None):
    """One retry: a TCG boot that stalls once is noise, twice is a bug."""
    for attempt in (1, 2):
        try:
            return boot_pair(img, gtype, rundir, attempt, hypervisor)
        except VMError as e:
            log(f"{gtype}: boot attempt {attempt} failed: {e}")
            stop_all()
    raise VMError("both dom0s did not come up in two attempts")


def stop_all():
    for vm in ALL_VMS:
        try:
            vm.stop()
        except Exception as e:        # keep stopping the others
            log(f"stopping {vm.name}: {e}")


# ------------------------------------------------------------ guests
def wait_heartbeat(vm, guest, since, timeout, after_counter=-1):
    """The first heartbeat of guest on vm after `since`, or None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for h in vm.heartbeats(guest, since):
            if h.counter > after_counter:
                return h
        if not vm.alive():
            raise VMError(f"{vm.name}: qemu died")
        time.sleep(0.05)
    return None


HB_MS = 20                  # heartbeat period; --hb-ms
DEVICES = False             # --devices: vif, disk, client (devices.py)


def create_guest(vm, guest, gtype):
    t0 = time.monotonic()
    # xl create of an HVM guest waits for the device model (libxl allows
    # it 60 s) and then returns; the boot itself is the wait below.
    # XEN_DIRTY without devices: a dirtying guest for bench-xen's
    # prediction table, with no vif or disk to hotplug.
    extra = (devices.mkguest_args(vm, guest, gtype) if DEVICES else
             f" - - - {devices.DIRTY}" if devices.DIRTY else "")
    vm.run(f"mkguest {guest} {gtype} {HB_MS}{extra}", 180)
    limit = GUEST_TIMEOUT_BY_TYPE.get(gtype, GUEST_TIMEOUT)
    h = wait_heartbeat(vm, guest, t0, limit)
    if h is None:
        _, con = vm.run(f"tail -c 1500 /var/log/xen/console/guest-{guest}.log"
                        + (f"; tail -c 1500 /var/log/xen/qemu-dm-{guest}.log"
                           if gtype == "hvm" else ""), 30, check=False)
        raise VMError(f"{guest} printed no heartbeat within "
                      f"{limit}s of xl create; console:\n{con}")
    log(f"{gtype}: {guest} heartbeating on {vm.name} "
        f"{h.t - t0:.1f}s after xl create (boot id {h.boot})")
    if DEVICES:
        try:
            devices.start_client(vm, guest, gtype)
        except MigrationError as e:
            raise VMError(str(e))
        log(f"{gtype}: hbclient on {vm.name} holds tcp to {guest} and "
            f"pings it over udp every 10 ms")
    time.sleep(SETTLE)
    return h.t - t0


def locate(a, b, guest):
    for vm in (a, b):
        if vm.run(f"xl list {guest} >/dev/null 2>&1", 30, check=False)[0] == 0:
            return vm
    return None


# ------------------------------------------------------------ measurement
def max_gap(hbs):
    ts = sorted(h.t for h in hbs)
    return max((y - x for x, y in zip(ts, ts[1:])), default=0.0)


def judge(src, dst, guest, t0):
    """Check the guest moved and kept running; measure its downtime.

    Downtime is the host-clock interval between the arrival of the last
    heartbeat from the source and the first from the destination.  It
    includes the stop-and-copy, the destination's unpause and the console
    path on both sides; its resolution is the 20 ms heartbeat period plus
    that path's jitter, reported as "jitter": the largest gap between
    heartbeats on either side of the switch while the guest ran.
    """
    first = wait_heartbeat(dst, guest, t0, 60)
    if first is None:
        raise MigrationError(f"no heartbeat from {guest} on {dst.name} "
                             f"within 60s of the migration")
    time.sleep(SETTLE)
    on_src = src.heartbeats(guest, t0 - 5)
    on_dst = dst.heartbeats(guest, t0)
    if not on_src:
        raise MigrationError(f"no heartbeat from {guest} on {src.name} "
                             f"around the migration")
    first = min(on_dst, key=lambda h: h.counter)
    last = max(on_src, key=lambda h: h.counter)
    if first.boot != last.boot:
        raise MigrationError(f"boot id changed {last.boot} -> {first.boot}: "
                             f"the guest rebooted")
    # Counters are unique to one run of the guest: if the source printed a
    # counter the destination also reached, both copies were running.
    both = [h for h in on_src if h.counter >= first.counter]
    if both:
        raise MigrationError(f"guest ran on both hosts: {src.name} printed "
                             f"{both[0].counter} after {dst.name} started "
                             f"at {first.counter}")
    if first.counter <= last.counter:
        raise MigrationError(f"counter went back {last.counter} -> "
                             f"{first.counter}: guest state was not kept")
    tail = [h for h in on_dst if h.t <= first.t + SETTLE]
    return {
        "c_src": last.counter, "c_dst": first.counter,
        "lost": first.counter - last.counter - 1,
        "downtime": first.t - last.t,
        "jitter": max(max_gap([h for h in on_src if h.t <= last.t]),
                      max_gap(tail)),
        "boot": last.boot,
    }


def migrate_leg(tr, src, dst, guest, gtype, rundir):
    """One timed migration src -> dst with transport tr; a result dict."""
    ctx = Ctx(src, dst, guest, gtype, rundir)
    res = {"transport": tr.name, "gtype": gtype,
           "dir": f"{src.name}->{dst.name}", "ok": False}
    try:
        if wait_heartbeat(src, guest, time.monotonic() - 1, 30) is None:
            raise MigrationError(f"{guest} is not heartbeating on {src.name}")
        for vm in (src, dst):
            vm.sync_clock()
        if tr.prepare:
            tr.prepare(ctx)
        dev = devices.leg_begin(ctx) if DEVICES else None
        # With --devices dom0's link is a port of xenbr0.
        link = "xenbr0" if DEVICES else "eth0"
        rx0, tx0 = src.net_bytes(link)
        t0 = time.monotonic()
        ret = tr.migrate(ctx) or {}
        res["total"] = time.monotonic() - t0
        rx1, tx1 = src.net_bytes(link)
        for key in ("relocd_ms", "predicted_ms", "fixed_cost_ms",
                    "fixed_cost_samples", "pause"):
            res[key] = ret.get(key)
        res["bytes"] = ret.get("bytes", (rx1 - rx0) + (tx1 - tx0))
        res.update(judge(src, dst, guest, t0))
        if locate(src, dst, guest) is not dst:
            raise MigrationError(f"xl list does not show {guest} on "
                                 f"{dst.name} only")
        if DEVICES:
            res["devices"] = devices.leg_end(ctx, dev, res)
        # The transport's own checks, outside the timed window.
        if tr.verify:
            for vm in (src, dst):
                vm.sync_clock()     # the checks migrate too
            extra = tr.verify(ctx)
            if extra:
                ret["note"] = "; ".join(n for n in (ret.get("note"), extra)
                                        if n)
        res["ok"] = True
        log(f"{gtype} {tr.name} {res['dir']}: ok, {res['total']:.2f}s total, "
            f"{res['downtime'] * 1000:.0f} ms down (jitter "
            f"{res['jitter'] * 1000:.0f} ms), {res['bytes'] / 1e6:.1f} MB, "
            f"counter {res['c_src']} -> {res['c_dst']}, boot {res['boot']}"
            + (f", {res['lost']} lines lost" if res["lost"] else "")
            + (f", {ret['note']}" if ret.get("note") else ""))
        if DEVICES:
            log(f"{gtype} {tr.name} {res['dir']}: devices: "
                f"{res['devices']}")
    except (MigrationError, VMError) as e:
        res["reason"] = str(e)
        log(f"{gtype} {tr.name} {res['dir']}: FAILED: {e}")
        if DEVICES:
            try:
                log(devices.diag(src, dst))
            except VMError as e2:
                log(f"no device diagnostics: {e2}")
    return res


# ------------------------------------------------------------ sessions
def session(img, gtype, transports, rounds, rundir, results, pair=None,
            one_way=False):
    """Boot a pair (or use the one given), then run every transport's
    round trips on one guest.  The guest stays where its last migration
    left it; a pair of our own is stopped at the end.  one_way: each
    transport moves the guest once, from where it is to the other host
    (A->B for the first), with no round trip."""
    guest = f"hb-{gtype}"
    a = b = None
    if pair:
        a, b = pair
    t_session = time.monotonic()
    try:
        if not pair:
            a, b, boot_s = boot_with_retry(img, gtype, rundir)
            results["boot"][gtype] = boot_s
            check_extras(img, a)
        for tr in transports:
            if tr.setup:
                tr.setup(a, b, rundir)
        results["guest_boot"][gtype] = create_guest(a, guest, gtype)
        for tr in transports:
            legs = results["legs"].setdefault((gtype, tr.name), [])
            if one_way:
                src = locate(a, b, guest) or a
                dst = b if src is a else a
                legs.append(migrate_leg(tr, src, dst, guest, gtype, rundir))
                if not legs[-1]["ok"]:
                    recover(a, b, guest, gtype)
                continue
            for _ in range(rounds):
                for src, dst in ((a, b), (b, a)):
                    legs.append(migrate_leg(tr, src, dst, guest, gtype, rundir))
                    if not legs[-1]["ok"]:
                        break
                if not legs[-1]["ok"]:
                    break
            if not legs[-1]["ok"]:
                recover(a, b, guest, gtype)
    except (VMError, MigrationError, subprocess.SubprocessError) as e:
        results["session_error"][gtype] = str(e)
        log(f"{gtype}: session failed: {e}")
        for vm in (a, b):
            if vm is not None and vm.alive():
                try:
                    vm.run(f"xl dmesg > /dev/null; xl dmesg | tail -40", 30,
                           check=False)
                except VMError:
                    pass
    finally:
        if not pair:
            stop_all()
        results["session_s"][gtype] = time.monotonic() - t_session
        log(f"{gtype}: session took {results['session_s'][gtype]:.0f}s")


def recover(a, b, guest, gtype):
    """After a failed migration, put a fresh guest back on A."""
    for vm in (a, b):
        vm.run(f"xl destroy {guest} 2>/dev/null; xl destroy {guest}--incoming "
               f"2>/dev/null; true", 60, check=False)
    create_guest(a, guest, gtype)


# ------------------------------------------------------------ reporting
def fmt(vals, scale, digits):
    vals = [v * scale for v in vals]
    if not vals:
        return "-"
    med = statistics.median(vals)
    if len(vals) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(vals):.{digits}f}-{max(vals):.{digits}f})"


def table(results):
    dev = ("| udp gap ms | relocd ms | tcp kept | disk err " if DEVICES
           else "")
    rows = ["| guest | transport | direction | total s | downtime ms "
            "| jitter ms | MB on wire " + dev + "| legs |",
            "|---|---|---|---|---|---|---|" + "---|" * (4 * DEVICES)
            + "---|"]
    for (gtype, tname), legs in results["legs"].items():
        for d in ("A->B", "B->A"):
            ok = [l for l in legs if l["dir"] == d and l["ok"]]
            n = len([l for l in legs if l["dir"] == d])
            dev = ""
            if DEVICES:
                rel = [l["relocd_ms"] / 1000 for l in ok
                       if l.get("relocd_ms") is not None]
                dev = (f"{fmt([l['udp_gap'] for l in ok], 1000, 0)} | "
                       f"{fmt(rel, 1000, 0)} | "
                       f"{'yes' if ok and len(ok) == n else 'no'} | "
                       f"{sum(l['disk_err'] for l in ok) if ok else '-'} | ")
            rows.append(
                f"| {gtype} | {tname} | {d} | "
                f"{fmt([l['total'] for l in ok], 1, 2)} | "
                f"{fmt([l['downtime'] for l in ok], 1000, 0)} | "
                f"{fmt([l['jitter'] for l in ok], 1000, 0)} | "
                f"{fmt([l['bytes'] for l in ok], 1e-6, 1)} | {dev}"
                f"{len(ok)}/{n} |")
    return "\n".join(rows)


def ratios(results, base="xl-tcp"):
    """Each transport against xl over plain TCP in the same run: medians
    over every leg, both directions (the machine's load drifts, so only
    same-run ratios compare)."""
    def med(legs, key):
        vals = [l[key] for l in legs if l["ok"]]
        return statistics.median(vals) if vals else None

    rows = ["| guest | transport | legs | total s | vs " + base +
            " | downtime ms | vs " + base + " |", "|---|---|---|---|---|---|---|"]
    for (gtype, tname), legs in results["legs"].items():
        ref = results["legs"].get((gtype, base), [])
        t, d = med(legs, "total"), med(legs, "downtime")
        rt, rd = med(ref, "total"), med(ref, "downtime")
        if t is None:
            continue
        rows.append(
            f"| {gtype} | {tname} | {len([l for l in legs if l['ok']])} | "
            f"{t:.1f} | {t / rt:.2f} | {d * 1000:.0f} | "
            f"{d / rd:.2f} |" if rt and rd else
            f"| {gtype} | {tname} | {len(legs)} | {t:.1f} | - | "
            f"{d * 1000:.0f} | - |")
    return "\n".join(rows)


PAUSE_PARTS = ("suspend-ms", "final-copy-ms", "state-ms", "restore-ms",
               "commit-ms", "unpause-ms")


def predictions(results):
    """relocctl's prediction against its own suspend-to-unpause clock,
    per guest type (issue 20's goal: within 25 %, median over the legs),
    with the heartbeat gap beside it and the measured parts of the pause;
    "learnt" repeats it over the legs whose fixed cost had been learnt
    (fixed-cost-samples > 0), not a first guess."""
    def med(vals):
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    def cell(v, digits=0):
        return "-" if v is None else f"{v:.{digits}f}"

    rows = ["| guest | legs | predicted ms | relocd ms | error | "
            "learnt legs | learnt error | heartbeat gap ms | "
            + " | ".join(p[:-3] for p in PAUSE_PARTS) + " |",
            "|---|" + "---|" * (7 + len(PAUSE_PARTS))]
    for (gtype, tname), legs in results["legs"].items():
        legs = [l for l in legs if l["ok"] and
                l.get("predicted_ms") is not None and l.get("relocd_ms")]
        if tname != "relocctl" or not legs:
            continue

        def error(ls):
            p = med([l["predicted_ms"] for l in ls])
            r = med([l["relocd_ms"] for l in ls])
            return None if p is None or not r else (p - r) / r * 100

        learnt = [l for l in legs if (l.get("fixed_cost_samples") or 0) > 0]
        parts = [med([(l.get("pause") or {}).get(p) for l in legs])
                 for p in PAUSE_PARTS]
        err, lerr = error(legs), error(learnt)
        rows.append(
            f"| {gtype} | {len(legs)} | "
            f"{cell(med([l['predicted_ms'] for l in legs]))} | "
            f"{cell(med([l['relocd_ms'] for l in legs]))} | "
            f"{'-' if err is None else f'{err:+.0f} %'} | {len(learnt)} | "
            f"{'-' if lerr is None else f'{lerr:+.0f} %'} | "
            f"{cell(med([l['downtime'] * 1000 for l in legs]))} | "
            + " | ".join(cell(v) for v in parts) + " |")
    return "\n".join(rows) if len(rows) > 2 else ""


def verdicts(results, types, transports, rounds, one_way=()):
    passed = failed = 0
    for gtype in types:
        for tr in transports:
            if gtype not in tr.guest_types:
                print(f"SKIP {gtype}/{tr.name}: not run for {gtype} "
                      f"guests (the transport's guest_types, or "
                      f"--transports {tr.name}:TYPE)")
                continue
            legs = results["legs"].get((gtype, tr.name), [])
            bad = [l for l in legs if not l["ok"]]
            want = 1 if gtype in one_way else 2 * rounds
            name = (f"{gtype}/{tr.name} " +
                    ("one way" if gtype in one_way else "A->B->A"))
            if legs and not bad and len(legs) == want:
                passed += 1
                print(f"PASS {name}: guest kept running across "
                      f"{len(legs)} migration{'s' if len(legs) > 1 else ''}")
            else:
                failed += 1
                why = (bad[0].get("reason") if bad else
                       results["session_error"].get(gtype, "did not run"))
                print(f"FAIL {name}: {why.splitlines()[0] if why else '?'}")
    return passed, failed


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for l in f:
            if l.startswith("model name"):
                cpu = l.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 30
    return (f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem} GiB, "
            f"kernel {platform.release()}, QEMU TCG")


def no_qemu_left(rundir):
    """Our QEMUs are reaped; also ask the kernel, by this run's path."""
    alive = [vm.name for vm in ALL_VMS if vm.alive()]
    r = subprocess.run(["pgrep", "-f", f"qemu-system-x86_64.*{rundir}"],
                       capture_output=True, text=True, timeout=10)
    if alive or r.stdout.strip():
        print(f"xentest: QEMU left behind: {alive} {r.stdout.split()}",
              file=sys.stderr)
        return False
    return True


# ------------------------------------------------------------ main
def on_signal(signum, frame):
    if signum == signal.SIGALRM:
        raise Abort("the run's time budget ran out (--deadline, or "
                    "RUN_DEADLINE): what ran is reported below")
    raise Abort(f"signal {signum}")


def select_transports(spec):
    """The transports SPEC names ("relocctl,relocd-xl:pvh"; empty: all
    registered), and the names.  NAME:TYPE+TYPE narrows a transport to
    those guest types, so that a suite short of time runs one transport
    with every type and another with one."""
    chosen, names = [], []
    known = {t.name: t for t in scenarios.TRANSPORTS}
    for item in [i for i in spec.split(",") if i]:
        name, _, only = item.partition(":")
        names.append(name)
        if name not in known:
            continue            # reported with the unknown guest types
        tr = known[name]
        if only:
            want = tuple(t for t in only.split("+") if t)
            odd = [t for t in want if t not in tr.guest_types]
            if not want or odd:
                raise ValueError(
                    f"{item}: {name} handles {'+'.join(tr.guest_types)}")
            tr = dataclasses.replace(tr, guest_types=want)
        chosen.append(tr)
    if not names:
        chosen = list(scenarios.TRANSPORTS)
    # Registration order, whatever the spec's: a verify hook may count on
    # the legs before it (relocctl's last leg ends the session's checks).
    order = list(known)
    chosen.sort(key=lambda t: order.index(t.name))
    return chosen, names


def main():
    global HB_MS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--img", required=True, help="build-images output")
    ap.add_argument("--rounds", type=int, default=1,
                    help="A->B->A round trips per transport")
    ap.add_argument("--types", default="pvh,pv")
    ap.add_argument("--transports", default="",
                    help="comma-separated names, each NAME or "
                    "NAME:TYPE+TYPE for some guest types; default all "
                    "registered")
    ap.add_argument("--one-way", default="",
                    help="comma-separated guest types that each "
                    "transport moves once (A->B), not A->B->A: CI's "
                    "time for HVM")
    ap.add_argument("--deadline", type=int, default=0,
                    help="Unix time by which the run must end (CI's "
                    "limit): the run stops there, reports what ran and "
                    "fails, instead of being killed silently")
    ap.add_argument("--table-md", help="also write the table here")
    ap.add_argument("--hb-ms", type=int, default=HB_MS,
                    help="guest heartbeat period (the downtime resolution)")
    ap.add_argument("--dom0", choices=("busybox", "systemd"),
                    default="busybox", help="which dom0 the hosts boot")
    ap.add_argument("--dom0-dir", help="build-dom0-systemd output")
    ap.add_argument("--deb", help="the relocd package (systemd dom0)")
    ap.add_argument("--one-pair", action="store_true",
                    help="one pair of hosts (shadow-paging Xen) for "
                    "every guest type")
    ap.add_argument("--cases", action="store_true",
                    help="after the scenarios, the systemctl cases "
                    "(systemd dom0, with --one-pair)")
    ap.add_argument("--only-cases", default="",
                    help="comma-separated keys of the systemctl cases "
                    "to run (" + ",".join(systemd_cases.CASE_KEYS) +
                    "); default all")
    ap.add_argument("--devices", action="store_true",
                    help="guests with a vif on xenbr0 and a disk on NFS, "
                    "a TCP/UDP client in A (devices.py; systemd dom0, "
                    "with --one-pair)")
    args = ap.parse_args()
    HB_MS = args.hb_ms
    global DEVICES
    DEVICES = args.devices
    if DEVICES and not (args.dom0 == "systemd" and args.one_pair):
        print("xentest: --devices needs --dom0 systemd and --one-pair "
              "(XEN_DOM0=systemd)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    global DOM0, DOM0_DIR
    DOM0, DOM0_DIR = args.dom0, args.dom0_dir
    if DOM0 == "systemd" and not (args.dom0_dir and args.deb):
        print("xentest: --dom0 systemd needs --dom0-dir and --deb",
              file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    only_cases = [k for k in args.only_cases.split(",") if k]
    if any(k not in systemd_cases.CASE_KEYS for k in only_cases):
        print(f"xentest: --only-cases: the keys are "
              f"{','.join(systemd_cases.CASE_KEYS)}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    if args.cases:
        # The cases need the guests the scenarios leave running.
        scenarios.KEEP_GUESTS = True

    scenarios.ROUNDS = args.rounds
    types = [t for t in args.types.split(",") if t]
    one_way = [t for t in args.one_way.split(",") if t]
    try:
        transports, names = select_transports(args.transports)
    except ValueError as e:
        print(f"xentest: --transports: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    if args.dom0 == "systemd" and any(t.name == "xl-ssh" for t in transports):
        # The systemd dom0 has no sshd: a real dom0 would, but it would
        # cost boot time for a transport relocd does not use.
        print("SKIP xl-ssh: the systemd dom0 has no sshd")
        transports = [t for t in transports if t.name != "xl-ssh"]
    bad = [t for t in types + one_way if t not in HYPERVISOR]
    unknown = [n for n in names
               if n not in [t.name for t in scenarios.TRANSPORTS]]
    if bad or unknown:
        print(f"xentest: unknown {' '.join(bad + unknown)}; guest types "
              f"are {','.join(HYPERVISOR)}, transports "
              f"{','.join(t.name for t in scenarios.TRANSPORTS)}",
              file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    if not preflight(args.img):
        print("0 passed, 1 failed")
        return 1
    # SIGINT too: a background job inherits it ignored, and then Ctrl-C
    # on make would leave this run going.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, on_signal)
    budget = RUN_DEADLINE + sum(EXTRA_DEADLINE.get(t, 0) for t in types)
    if args.deadline:
        left = args.deadline - int(time.time())
        if left < 60:
            print(f"xentest: --deadline is {left} s away: no time to run",
                  file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
        budget = min(budget, left)
    signal.alarm(budget)

    rundir = make_rundir()
    log(f"run directory {rundir}; it stops itself after {budget} s")
    if args.deb:
        # dom0 installs the package from /host/run/deb (relocd_setup).
        os.makedirs(os.path.join(rundir, "share", "deb"))
        shutil.copy(args.deb, os.path.join(rundir, "share", "deb"))
    make_ssh_keys(rundir)
    results = {"boot": {}, "guest_boot": {}, "session_s": {}, "legs": {},
               "session_error": {}}
    t_run = time.monotonic()
    pair = None
    cases = []
    try:
        run_types = []
        for gtype in types:
            mine = [t for t in transports if gtype in t.guest_types]
            if not mine:
                # Nothing would run: no scenario, no verdict, no VMs.
                log(f"{gtype}: skipped, no selected transport supports it "
                    f"({', '.join(t.name for t in transports)})")
                continue
            run_types.append((gtype, mine))
        if args.one_pair and run_types:
            # One pair for every guest type: the shadow-paging build runs
            # PVH and HVM guests as the stock one does (HAP), and PV too.
            t = time.monotonic()
            try:
                a, b, boot_s = boot_with_retry(args.img, "pair", rundir,
                                               HYPERVISOR["pv"])
                results["boot"]["pair"] = boot_s
                check_extras(args.img, a)
                if DEVICES:
                    t_dev = time.monotonic()
                    devices.setup_hosts(a, b)
                    log(f"devices: xenbr0 on A and B, {devices.DIR} on A "
                        f"exported over NFS to B, in "
                        f"{time.monotonic() - t_dev:.0f}s")
                pair = (a, b)
            except VMError as e:
                log(f"boot failed: {e}")
                for gtype, _ in run_types:
                    results["session_error"][gtype] = f"boot failed: {e}"
                run_types = []
            log(f"phase boot: {time.monotonic() - t:.0f}s")
        for gtype, mine in run_types:
            t = time.monotonic()
            session(args.img, gtype, mine, args.rounds, rundir, results,
                    pair, gtype in one_way)
            log(f"phase {gtype}: {time.monotonic() - t:.0f}s")
        if DEVICES and pair and run_types:
            # The guests are back on A: the pre-flight's refusals, on one.
            t = time.monotonic()
            gtype = "pv" if "pv" in types else run_types[0][0]
            cases += preflight_cases.run(pair[0], pair[1], f"hb-{gtype}",
                                         gtype=gtype)
            log(f"phase pre-flight cases: {time.monotonic() - t:.0f}s")
        if args.cases and pair:
            t = time.monotonic()
            # With devices, A exports the guests' disks: it must stay
            # up, so the shutdown hook runs without the poweroff.
            cases = systemd_cases.run(pair[0], pair[1], rundir,
                                      [g for g, _ in run_types],
                                      only_cases, poweroff=not DEVICES)
            log(f"phase systemctl cases: {time.monotonic() - t:.0f}s")
        if DEVICES and pair:
            try:
                cases += devices.finish(pair[0], pair[1])
            except VMError as e:
                cases.append(("disk: the record logs at the end", False,
                              str(e)))
    except (Abort, KeyboardInterrupt) as e:
        log(f"aborted: {e or 'interrupted'}")
        for gtype in types:
            results["session_error"].setdefault(gtype, f"aborted ({e})")
    finally:
        stop_all()
        signal.alarm(0)
    wall = time.monotonic() - t_run

    md = (f"Xen 4.17 in QEMU, {time.strftime('%Y-%m-%d %H:%M %Z')}, "
          f"{machine()}; heartbeat every {HB_MS} ms, {args.rounds} "
          f"round trip(s) per transport\n\n{table(results)}\n\n"
          f"Against xl over TCP in the same run:\n\n{ratios(results)}\n")
    pred = predictions(results)
    if pred:
        md += ("\nrelocctl's predicted pause against its own clock (suspend "
               "to the destination's unpause), medians over the legs; "
               "parts in ms (final copy includes the vCPU records; state "
               "is QEMU's, HVM only):\n\n" + pred + "\n")
    print("\n" + md)
    with open(os.path.join(rundir, "table.md"), "w") as f:
        f.write(md)
    if args.table_md:
        with open(args.table_md, "w") as f:
            f.write(md)
    with open(os.path.join(rundir, "results.json"), "w") as f:
        json.dump({"boot": results["boot"], "wall": wall,
                   "guest_boot": results["guest_boot"],
                   "session_s": results["session_s"],
                   "session_error": results["session_error"],
                   "legs": [l for v in results["legs"].values() for l in v]},
                  f, indent=1)
    passed, failed = verdicts(results, types, transports, args.rounds,
                              one_way)
    for name, ok, why in cases:
        print(f"PASS {name}" if ok else f"FAIL {name}: {why}")
        passed, failed = passed + ok, failed + (not ok)
    if args.cases and pair is None:
        failed += 1
        print("FAIL systemctl cases: did not run (no pair of hosts)")
    if not no_qemu_left(rundir):
        failed += 1
        print("FAIL teardown: QEMU processes left behind")
    log(f"wall time {wall:.0f}s; logs in {rundir}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
