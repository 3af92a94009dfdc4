# SPDX-License-Identifier: ISC
"""make bench: relocd's speed claims, each measured against an anchor in
the same run on the same machine, because the machines are shared and
noisy.  See bench/README.md for the scenarios, the sweep points and how
to read the results.

Usage: python3 bench/bench.py [--build DIR] [--quick] [--only 1,2,...]
                              [--out DIR]
Writes OUT/<date>.md (or <date>-quick.md), OUT/<date>[-quick].json with
every raw result, and the scenario 3 plots OUT/<date>[-quick]-*.png; and
prints the tables.
"""
import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (GIB, MIB, Bench, BenchError, Migration,  # noqa: E402
                      RssSampler, job_rusage, loadavg, machine, med,
                      mem_available, proc_status, size_str, spread, table)
import perfsplit  # noqa: E402
from scenario_xl import s8_xl  # noqa: E402

# Scenario 2's sim-only variant (issue 20 item 3): reported in its own
# row and line, with no goal of its own.
S2_SKIP = "relocd --skip-redirtied (sim only)"

# Sweep points, chosen for run time (never for the results): the full
# run takes about 25 minutes on a 2-core machine under load, the quick
# one 2-3; bench/README.md has the measured times.
FULL = {
    "s1_guest": 4 * GIB, "s1_reps": 2, "iperf_s": 5,
    "s2_reps": 3,
    "s3_guest": 512 * MIB,
    "s3_rates": [32, 128, 512, 2048],                     # MiB/s
    "s3_ws": [16, 64, 256],                               # MiB
    # At S3_WS_RATE, for the working-set plot.
    "s3_ws_extra": [16, 32, 64, 128, 256],
    "s2_variants": ["relocd", "xen-default", "relocd --throttle",
                    S2_SKIP],
    "s4_guest": GIB, "s4_reps": 2,
    "s4_modes": ["abort-if-busy", "throttle", "stop-and-copy",
                 "xen-default"],
    "s2_guest": GIB,
    "s5_sizes": [GIB, 2 * GIB, 4 * GIB, 8 * GIB],
    "s6_guest": 512 * MIB, "s6_counts": [1, 2, 4, 8],
    "s7_guest": GIB, "s7_reps": 2, "s7_offline": 2 * GIB,
    "s7_loop_guest": GIB, "s7_loop_reps": 3,
    "s8_stream": 4 * GIB, "s8_reps": 2,
}
QUICK = {
    "s1_guest": 512 * MIB, "s1_reps": 1, "iperf_s": 2,
    "s2_guest": 512 * MIB, "s2_reps": 1,
    "s3_guest": 256 * MIB,
    "s3_rates": [32, 2048], "s3_ws": [64], "s3_ws_extra": [],
    "s2_variants": ["relocd", "xen-default", S2_SKIP],
    "s4_guest": 512 * MIB, "s4_reps": 1,
    "s4_modes": ["abort-if-busy"],
    "s5_sizes": [512 * MIB, GIB],
    "s6_guest": 256 * MIB, "s6_counts": [1, 2],
    "s7_guest": 256 * MIB, "s7_reps": 1, "s7_offline": 512 * MIB,
    "s7_loop_guest": 256 * MIB, "s7_loop_reps": 1,
    "s8_stream": 512 * MIB, "s8_reps": 1,
}
S2_WS, S2_RATE = 64 * MIB, 256 * MIB
S3_WS_RATE = 256
S4_WS, S4_RATE = 256 * MIB, 320 * MIB   # 2.7x a 1 Gbit/s link
S5_WS, S5_RATE = 64 * MIB, 32 * MIB
MAX_DOWNTIME = 300
LINK_RATE = "1gbit"
LINK_BYTES = 1e9 / 8


def verdict(ok):
    if ok is None:
        return "**not measured**"
    return "**met**" if ok else "**NOT MET**"


class Report:
    """The results file, built scenario by scenario."""

    def __init__(self):
        self.parts = []
        self.goals = []         # (scenario, goal, measured, ok)
        self.raw = {}

    def section(self, title, intro, body, load):
        text = "## %s\n\n%s\n\nLoad average before/after: %s / %s.\n\n%s\n" % (
            title, intro, load[0], load[1], body)
        self.parts.append(text)
        print("\n" + text, flush=True)

    def goal(self, scenario, goal, measured, ok):
        self.goals.append((scenario, goal, measured, ok))
        return "- goal %s: %s: %s" % (goal, measured, verdict(ok))


def say(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def migrate(src, guest, dst, opts=(), live=True):
    r = Migration(src, guest, dst, opts, live).wait()
    if not r["ok"]:
        say("migration of %s failed: %s %s" % (guest, r.get("text"),
                                               r.get("stderr", "")))
    return r


def fresh_guest(h, guest, memory, rate=0, ws=None, settle=1.0, content=()):
    """A new sim guest, its workload given time to reach its rate."""
    h.sim_create(guest, memory, rate, ws, content=content)
    time.sleep(settle)


def cleanup_guest(guest, *hosts):
    for h in hosts:
        h.sim_destroy(guest)


# --- scenario 1: TLS cost -------------------------------------------------

def s1_tls(b, rep, cfg):
    size = cfg["s1_guest"]
    tls = (b.host("t1a"), b.host("t1b"))
    plain = (b.host("p1a", extra=["(relocd-insecure-plaintext yes)"]),
             b.host("p1b", extra=["(relocd-insecure-plaintext yes)"]))
    runs = {"tls": [], "plain": []}
    ceil = [b.iperf3(seconds=cfg["iperf_s"])]
    for i in range(cfg["s1_reps"]):
        # Alternate which goes first, so drifting load hits both alike.
        order = ("plain", "tls") if i % 2 == 0 else ("tls", "plain")
        for kind in order:
            a, z = tls if kind == "tls" else plain
            g = "idle%d%s" % (i, kind)
            fresh_guest(a, g, size, settle=0)
            ends = [("source", a, a.log_size()), ("dest", z, z.log_size())]
            r = migrate(a, g, z)
            r["cpu"] = {"%s %s" % k: v["cpu"] for k, v in
                        job_rusage(ends, r.get("id")).items()}
            cleanup_guest(g, a, z)
            runs[kind].append(r)
    ceil.append(b.iperf3(seconds=cfg["iperf_s"]))
    # One more TLS migration under perf, after the timed ones (perf's
    # own cost stays out of them): what each process spends its CPU on.
    split = s1_profile(b, tls, size)
    b.stop_hosts()
    rep.raw["s1"] = {"runs": runs, "ceiling": ceil, "profile": split}

    def secs(kind):
        return [r["elapsed-ms"] / 1000 for r in runs[kind] if r["ok"]]
    ceiling = statistics.mean(ceil)
    rows = []
    for kind in ("plain", "tls"):
        s = secs(kind)
        rows.append(["relocd, " + ("mutual TLS" if kind == "tls" else
                                   "plaintext"),
                     len(s), spread(s, "%.2f"),
                     spread([size / x / MIB for x in s], "%.0f"),
                     spread([r["bytes"] / r["elapsed-ms"] * 1000 / MIB
                             for r in runs[kind] if r["ok"]], "%.0f"),
                     spread([size / x / ceiling for x in s], "%.3f")])
    rows.append(["iperf3, 1 stream, loopback", len(ceil),
                 "%d s each" % cfg["iperf_s"], "-",
                 spread([c / MIB for c in ceil], "%.0f"), "1"])
    body = table(["transfer", "n", "time s", "memory MiB/s",
                  "on the wire MiB/s", "fraction of ceiling"], rows)
    crows = []
    for kind in ("plain", "tls"):
        ok = [r for r in runs[kind] if r["ok"]]
        keys = ("source worker", "source net", "dest net", "dest worker")
        crows.append([kind] + [spread([r["cpu"].get(k) for r in ok], "%.2f")
                               for k in keys] +
                     [spread([sum(r["cpu"].values()) /
                              (r["elapsed-ms"] / 1000) for r in ok],
                             "%.2f")])
    body += ("\n\nWhere the time goes: CPU seconds (user + system) of each "
             "of relocd's processes in one migration, from `wait4`, and "
             "their sum over the migration's time (how many of the %d "
             "cores relocd kept busy).\n\n" % os.cpu_count())
    body += table(["transfer", "source worker", "source net child",
                   "destination net child", "destination worker",
                   "cores busy"], crows)
    t, p = med(secs("tls")), med(secs("plain"))
    lines = []
    ratio = t / p if t and p else None
    lines.append(rep.goal("1", "TLS/plain time <= 1.10",
                          "%.2f" % ratio if ratio else "n/a",
                          ratio <= 1.10 if ratio else None))
    cpu = {k: med([sum(r["cpu"].values()) for r in runs[k] if r["ok"]])
           for k in runs}
    if cpu["tls"] and cpu["plain"]:
        lines.append("- beside the goal: CPU seconds of relocd's processes, "
                     "TLS/plain: %.2f (%.1f vs %.1f s); CPU time depends "
                     "far less on the machine's load than wall time does." %
                     (cpu["tls"] / cpu["plain"], cpu["tls"], cpu["plain"]))
    frac = size / t / ceiling if t else None
    lines.append(rep.goal("1", "TLS throughput >= 0.5 of the TCP ceiling",
                          "%.3f (%.0f of %.0f MiB/s)" % (
                              frac, size / t / MIB, ceiling / MIB)
                          if frac else "n/a",
                          frac >= 0.5 if frac else None))
    # Issue 21's goals: CPU seconds per GiB at each end, which carry over
    # to other hosts better than a share of this one's ceiling.
    lines.append(rep.goal("1", "TLS throughput >= 0.4 of the TCP ceiling",
                          "%.3f" % frac if frac else "n/a",
                          frac >= 0.4 if frac else None))
    per_gib = {k: s1_cpu_per_gib(runs[k], size) for k in runs}
    for end, label in (("source", "source (worker + network child)"),
                       ("dest", "destination (network child + worker)")):
        tls_end = per_gib["tls"].get(end)
        plain_end = per_gib["plain"].get(end)
        lines.append(rep.goal(
            "1", "TLS, %s <= 0.6 CPU-s per GiB" % label,
            "%.2f" % tls_end if tls_end is not None else "n/a",
            tls_end <= 0.6 if tls_end is not None else None))
        extra = (tls_end - plain_end if tls_end is not None and
                 plain_end is not None else None)
        lines.append(rep.goal(
            "1", "TLS over plaintext, %s <= 0.3 CPU-s per GiB" % end.replace(
                "dest", "destination"),
            "%.2f (%.2f against %.2f)" % (extra, tls_end, plain_end)
            if extra is not None else "n/a",
            extra <= 0.3 if extra is not None else None))
    body += "\n\n" + s1_split_table(split, per_gib["tls"], size)
    intro = ("An idle %s sim guest migrated between two relocd on "
             "loopback, over mutual TLS and over plaintext "
             "(`relocd-insecure-plaintext`), alternating, %d of each; "
             "iperf3's single-stream loopback TCP ceiling measured before "
             "and after. Time is relocd's own (request to result); memory "
             "MiB/s is guest memory over that time." % (
                 size_str(size), cfg["s1_reps"]))
    return intro, body + "\n\n" + "\n".join(lines)


S1_ROLES = (("source worker", "source", "worker"),
            ("source net", "source", "net"),
            ("dest net", "dest", "net"),
            ("dest worker", "dest", "worker"))


def s1_cpu_per_gib(runs, size):
    """{"source" | "dest" | role: median CPU-s per GiB} over ok runs."""
    ok = [r for r in runs if r["ok"]]
    out = {}
    for key, _, _ in S1_ROLES:
        xs = [r["cpu"][key] for r in ok if key in r["cpu"]]
        if xs:
            out[key] = med(xs) / (size / GIB)
    for end in ("source", "dest"):
        keys = [k for k, e, _ in S1_ROLES if e == end]
        if all(k in out for k in keys):
            out[end] = sum(out[k] for k in keys)
    return out


def s1_profile(b, hosts, size):
    """One TLS migration under a system-wide perf record: {role: {kind:
    share of that process's samples}}, or None without perf."""
    a, z = hosts
    path = os.path.join(b.work, "s1.perf.data")
    g = "idleprof"
    fresh_guest(a, g, size, settle=0)
    ends = [("source", a, a.log_size()), ("dest", z, z.log_size())]
    rec = perfsplit.record(path)
    if rec is None:
        cleanup_guest(g, a, z)
        return None
    time.sleep(1)                   # perf's start-up, outside the run
    r = migrate(a, g, z)
    recorded = perfsplit.stop(rec)
    cleanup_guest(g, a, z)
    if not r["ok"] or not recorded:
        return None
    pids = {"%s %s" % k: f["pid"] for k, f in
            job_rusage(ends, r.get("id")).items()}
    counts = perfsplit.split(path, pids.values())
    os.unlink(path)
    return {role: perfsplit.fractions(counts[pid])
            for role, pid in pids.items() if counts.get(pid)}


def s1_split_table(split, per_gib, size):
    """The TLS run's CPU-s per GiB for each process, split by kind of
    work (the profiled run's shares times the timed runs' medians)."""
    if not split:
        return ("Where the CPU goes: not profiled (perf is missing, or "
                "the profiled run failed).")
    rows = []
    for kind in perfsplit.KIND_NAMES:
        row = [kind]
        for key, _, _ in S1_ROLES:
            f = split.get(key, {}).get(kind)
            c = per_gib.get(key)
            row.append("%.2f" % (f * c) if f is not None and c else "-")
        if any(x not in ("-", "0.00") for x in row[1:]):
            rows.append(row)
    rows.append(["all"] + ["%.2f" % per_gib[k] if k in per_gib else "-"
                           for k, _, _ in S1_ROLES])
    return ("Where the CPU goes over TLS: CPU seconds per GiB of each "
            "process (the timed runs' medians), split by what a "
            "system-wide `perf record` of one more %s TLS migration saw "
            "each process do (bench/perfsplit.py names the kinds). "
            "*Memory* at the destination worker is mostly the sim "
            "guest's RAM coming into being (tmpfs page faults and "
            "clearing): the simulated hypervisor's work, which on Xen is "
            "Xen's. *Other kernel* holds what a VM's timer-based sampling "
            "cannot see inside (work with interrupts off lands on the "
            "unlock that ends it).\n\n" %
            size_str(size) +
            table(["kind of work", "source worker", "source net child",
                   "destination net child", "destination worker"], rows))


# --- scenarios 2-4: the shaped link ---------------------------------------

def shaped_pair(b, tag):
    ln = b.link(tag, LINK_RATE)
    a = b.host("s%sa" % tag, addr=ln.addr[0], ns=ln.ns[0])
    z = b.host("s%sb" % tag, addr=ln.addr[1], ns=ln.ns[1])
    return ln, a, z


def final_round(r):
    """Progress from the last pre-copy round the policy saw."""
    return r["progress"][-1] if r["progress"] else {}


def s2_downtime(b, rep, cfg, ln, a, z):
    variants = [("relocd", ["--max-downtime", str(MAX_DOWNTIME)]),
                ("xen-default", ["--policy", "xen-default"]),
                ("relocd --throttle", ["--max-downtime", str(MAX_DOWNTIME),
                                       "--throttle"]),
                (S2_SKIP, ["--max-downtime", str(MAX_DOWNTIME),
                           "--skip-redirtied"])]
    variants = [v for v in variants if v[0] in cfg["s2_variants"]]
    runs = {name: [] for name, _ in variants}
    for i in range(cfg["s2_reps"]):
        for name, opts in variants:
            g = "hot%d" % i
            fresh_guest(a, g, cfg["s2_guest"], S2_RATE, S2_WS)
            runs[name].append(migrate(a, g, z, opts))
            cleanup_guest(g, a, z)
    rep.raw["s2"] = runs
    rows = []
    for name, _ in variants:
        ok = [r for r in runs[name] if r["ok"]]
        rows.append([
            name, "%d/%d" % (len(ok), len(runs[name])),
            spread([r["rounds"] for r in ok]),
            spread([r["elapsed-ms"] / 1000 for r in ok], "%.2f"),
            spread([r["bytes"] / r["memory"] for r in ok], "%.2f"),
            spread([r["predicted-downtime-ms"] for r in ok]),
            spread([r["downtime-ms"] for r in ok]),
            spread([100 * (r["downtime-ms"] - r["predicted-downtime-ms"]) /
                    r["predicted-downtime-ms"] for r in ok
                    if r["predicted-downtime-ms"]], "%+.0f%%"),
            spread([r["throttle"] for r in ok]),
            spread([r.get("skipped-pages", 0) for r in ok]),
            " ".join("%s/%s" % (r.get("fixed-cost-ms", "?"),
                                r.get("fixed-cost-samples", "?"))
                     for r in ok)])
    body = table(["policy", "ok", "rounds", "total s", "bytes / memory",
                  "predicted ms", "achieved ms", "achieved vs predicted",
                  "final throttle %", "skipped pages",
                  "fixed cost ms/samples, each run"], rows)

    def m(name, key):
        return med([r[key] for r in runs[name] if r["ok"]])
    # Issue 20's goals for this scenario.
    lines = []
    dt, xdt = m("relocd", "downtime-ms"), m("xen-default", "downtime-ms")
    by, xby = m("relocd", "bytes"), m("xen-default", "bytes")
    el, xel = m("relocd", "elapsed-ms"), m("xen-default", "elapsed-ms")
    dev = [(r["downtime-ms"] - r["predicted-downtime-ms"]) /
           r["predicted-downtime-ms"] for r in runs["relocd"]
           if r["ok"] and r["predicted-downtime-ms"]]
    n_runs = len(runs["relocd"])
    lines.append(rep.goal(
        "2", "relocd achieved within +-15% of predicted, every run",
        "%d of %d runs within (%s)" % (
            sum(abs(d) <= 0.15 for d in dev), n_runs,
            ", ".join("%+.0f%%" % (100 * d) for d in dev)) if dev else "n/a",
        len(dev) == n_runs and all(abs(d) <= 0.15 for d in dev)
        if dev else None))
    lines.append(rep.goal("2", "relocd downtime <= xen-default (medians)",
                          "%.2fx (%s vs %s ms)" % (dt / xdt, dt, xdt)
                          if dt and xdt else "n/a",
                          dt <= xdt if dt and xdt else None))
    lines.append(rep.goal("2", "relocd bytes <= 1.1x xen-default",
                          "%.2fx" % (by / xby) if by and xby else "n/a",
                          by / xby <= 1.1 if by and xby else None))
    lines.append(rep.goal("2", "relocd total time <= 1.1x xen-default",
                          "%.2fx (%.2f vs %.2f s)" % (el / xel, el / 1000,
                                                       xel / 1000)
                          if el and xel else "n/a",
                          el / xel <= 1.1 if el and xel else None))
    if "relocd --throttle" in runs:
        th = [r["downtime-ms"] for r in runs["relocd --throttle"]
              if r["ok"]]
        t = med(th)
        lines.append(rep.goal(
            "2", "relocd --throttle downtime <= %d ms (median)" %
            MAX_DOWNTIME, "%s ms, %.2fx xen-default" % (
                spread(th), t / xdt if xdt else float("nan"))
            if t is not None else "n/a",
            t <= MAX_DOWNTIME if t is not None else None))
    if S2_SKIP in runs and m(S2_SKIP, "downtime-ms") is not None:
        sdt, sby = m(S2_SKIP, "downtime-ms"), m(S2_SKIP, "bytes")
        lines.append("- reported separately, sim only, no goal: relocd with "
                     "`--skip-redirtied` (a live round leaves out pages "
                     "dirtied again since it began) skipped %s pages, "
                     "%s ms achieved, %s bytes vs relocd's." % (
                         m(S2_SKIP, "skipped-pages"), sdt,
                         "%.2fx" % (sby / by) if sby and by else "n/a"))
    intro = ("A %s guest whose workload dirties a %d MiB hot working set "
             "at %d MiB/s, migrated over a veth pair between two network "
             "namespaces, each end shaped with tbf to 1 Gbit/s (`%s`); "
             "iperf3 over it: %.0f MiB/s. Policies interleaved, %d runs "
             "each, on a fresh guest each time. relocd's policy uses its "
             "default on non-convergence (stop and copy); the `--throttle` "
             "row is the same policy with auto-converge, and the "
             "`--skip-redirtied (sim only)` row the same policy with live "
             "rounds that leave out the pages dirtied again since they "
             "began (the sim backend only; on Xen libxenguest sends the "
             "rounds; reported separately, with no goal). Predicted is the "
             "policy's downtime at its stop decision: the fixed cost of "
             "the pause learnt for this destination (0 samples: the first "
             "guess), plus what the guest dirties while the last dirty set "
             "is sent live, over the measured bandwidth; achieved is the "
             "time the guest "
             "ran nowhere, from the source's suspend to the destination's "
             "unpause, as the engine measures it. Cells are median "
             "(min-max)." % (size_str(cfg["s2_guest"]), S2_WS // MIB,
                             S2_RATE // MIB,
                             ln.describe(), rep.raw.get("link_mib_s", 0),
                             cfg["s2_reps"]))
    return intro, body + "\n\n" + "\n".join(lines)


def s3_points(cfg):
    pts = [(rate, ws) for ws in cfg["s3_ws"] for rate in cfg["s3_rates"]]
    pts += [(S3_WS_RATE, ws) for ws in cfg["s3_ws_extra"]
            if (S3_WS_RATE, ws) not in pts]
    return pts


def s3_sweep(b, rep, cfg, ln, a, z, plotdir, stem):
    size = cfg["s3_guest"]
    res = []
    for rate, ws in s3_points(cfg):
        for pol, opts in (("relocd", ["--max-downtime", str(MAX_DOWNTIME)]),
                          ("xen-default", ["--policy", "xen-default"])):
            g = "sw%d_%d" % (rate, ws)
            fresh_guest(a, g, size, rate * MIB, ws * MIB)
            r = migrate(a, g, z, opts)
            cleanup_guest(g, a, z)
            r.update({"policy": pol, "rate": rate, "ws": ws})
            res.append(r)
    rep.raw["s3"] = res
    rows = []
    for r in res:
        rows.append([r["rate"], r["ws"], r["policy"],
                     "yes" if r["ok"] else "no: " + r.get("text", ""),
                     r.get("rounds", ""), "%.2f" % (r.get("elapsed-ms", 0) /
                                                    1000),
                     "%.2f" % (r.get("bytes", 0) / size),
                     r.get("predicted-downtime-ms", ""),
                     r.get("downtime-ms", "")])
    body = table(["dirty MiB/s", "working set MiB", "policy", "ok", "rounds",
                  "total s", "bytes / memory", "predicted ms",
                  "achieved ms"], rows)
    plots = s3_plot(res, plotdir, stem, cfg)
    body += "\n\n" + "\n".join("![%s](%s)" % (t, os.path.basename(p))
                               for t, p in plots)
    body += "\n\n" + "\n".join(s3_goals(rep, res, cfg))
    intro = ("A %s guest on the same shaped 1 Gbit/s link, one run per "
             "point, relocd's policy (max-downtime %d ms, stop and copy on "
             "non-convergence) and xen-default on identical workloads: hot "
             "working sets of %s MiB at %s MiB/s, and working sets of %s "
             "MiB at %d MiB/s. The dirty rate is the workload's set rate; "
             "on this shared 2-core machine the highest rates may not be "
             "reached." % (size_str(size), MAX_DOWNTIME,
                           ", ".join(map(str, cfg["s3_ws"])),
                           ", ".join(map(str, cfg["s3_rates"])),
                           ", ".join(map(str, sorted(set(
                               cfg["s3_ws"] + cfg["s3_ws_extra"])))),
                           S3_WS_RATE))
    return intro, body


def s3_goals(rep, res, cfg):
    """Issue 20's goals for the sweep: at every point relocd's downtime
    is at most xen-default's, and within 25 % of its prediction."""
    by = {(r["rate"], r["ws"], r["policy"]): r for r in res}
    pts = s3_points(cfg)
    le, near, slower, off = 0, 0, [], []
    for rate, ws in pts:
        r, x = by.get((rate, ws, "relocd")), by.get((rate, ws, "xen-default"))
        if r and x and r["ok"] and x["ok"] and \
                r["downtime-ms"] <= x["downtime-ms"]:
            le += 1
        elif r and x:
            slower.append("%d/%d: %s vs %s ms" % (
                rate, ws, r.get("downtime-ms", "failed"),
                x.get("downtime-ms", "failed")))
        p = r.get("predicted-downtime-ms") if r and r["ok"] else None
        if p and abs(r["downtime-ms"] - p) <= 0.25 * p:
            near += 1
        elif r:
            off.append("%d/%d: %s vs %s ms" % (
                rate, ws, r.get("downtime-ms", "failed"), p))
    return [
        rep.goal("3", "relocd downtime <= xen-default at every point",
                 "%d of %d points%s" % (le, len(pts), (
                     "; not at (MiB/s / MiB) " + ", ".join(slower))
                     if slower else ""), le == len(pts)),
        rep.goal("3", "relocd achieved within +-25% of predicted at every "
                 "point", "%d of %d points%s" % (near, len(pts), (
                     "; not at (MiB/s / MiB, achieved vs predicted) " +
                     ", ".join(off)) if off else ""), near == len(pts))]


def s3_plot(res, plotdir, stem, cfg):
    """Three PNGs with gnuplot; returns [(title, path)]."""
    tmp = tempfile.mkdtemp(prefix="relocd-bench-plot.")
    series = []
    for pol in ("relocd", "xen-default"):
        for ws in cfg["s3_ws"]:
            pts = sorted((r["rate"], r["downtime-ms"], r["elapsed-ms"] / 1000)
                         for r in res if r["ok"] and r["policy"] == pol and
                         r["ws"] == ws and r["rate"] in cfg["s3_rates"])
            fn = os.path.join(tmp, "rate-%s-%d.dat" % (pol, ws))
            with open(fn, "w") as f:
                f.writelines("%d %d %.3f\n" % p for p in pts)
            series.append((fn, "%s, ws %d MiB" % (pol, ws)))
    ws_series = []
    for pol in ("relocd", "xen-default"):
        pts = sorted((r["ws"], r["downtime-ms"], r["elapsed-ms"] / 1000)
                     for r in res if r["ok"] and r["policy"] == pol and
                     r["rate"] == S3_WS_RATE)
        fn = os.path.join(tmp, "ws-%s.dat" % pol)
        with open(fn, "w") as f:
            f.writelines("%d %d %.3f\n" % p for p in pts)
        ws_series.append((fn, pol))
    out = []
    gp = ["set terminal pngcairo size 900,560 font ',10'",
          "set grid", "set key outside right top",
          "set logscale x 2", "set xlabel 'dirty rate, MiB/s'"]

    def plot(name, title, ylabel, col, ser, extra=()):
        # A line needs two points; a quick run may not have them.
        ser = [(fn, t) for fn, t in ser if sum(1 for _ in open(fn)) >= 2]
        if not ser:
            return []
        path = os.path.join(plotdir, "%s-%s.png" % (stem, name))
        cmds = ["set output '%s'" % path, "set title '%s'" % title,
                "set ylabel '%s'" % ylabel] + list(extra)
        cmds.append("plot " + ", ".join(
            "'%s' using 1:%d with linespoints lw 2 title '%s'" % (fn, col, t)
            for fn, t in ser))
        out.append((title, path))
        return cmds
    gp += plot("sweep-downtime", "Downtime against dirty rate (1 Gbit/s, "
               "max-downtime %d ms)" % MAX_DOWNTIME, "downtime, ms", 2,
               series, ["set logscale y", "set arrow from graph 0, first %d "
                        "to graph 1, first %d nohead dt 2" % (MAX_DOWNTIME,
                                                               MAX_DOWNTIME)])
    gp += ["unset arrow", "unset logscale y"]
    gp += plot("sweep-time", "Total time against dirty rate (1 Gbit/s)",
               "total time, s", 3, series)
    gp += ["set xlabel 'hot working set, MiB'"]
    gp += plot("sweep-ws", "Downtime against working set at %d MiB/s "
               "(1 Gbit/s)" % S3_WS_RATE, "downtime, ms", 2, ws_series,
               ["set logscale y"])
    script = os.path.join(tmp, "sweep.gp")
    with open(script, "w") as f:
        f.write("\n".join(gp) + "\n")
    try:
        r = subprocess.run(["gnuplot", script], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            say("gnuplot: " + r.stderr.strip())
            out = []
    except FileNotFoundError:
        say("gnuplot not installed (scripts/install-deps --bench): no plots")
        out = []
    for fn in os.listdir(tmp):
        os.unlink(os.path.join(tmp, fn))
    os.rmdir(tmp)
    return out


def settled_states(g, a, z, timeout=10):
    """Where the guest is, once the destination has dropped a half-built
    copy (it does that just after the source's result; bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        sa, sz = a.guest_state(g), z.guest_state(g)
        if sz in ("absent", "running") or time.monotonic() >= deadline:
            return "source: %s, destination: %s" % (sa, sz)
        time.sleep(0.2)


def s4_nonconvergent(b, rep, cfg, ln, a, z):
    size = cfg["s4_guest"]
    base = ["--max-downtime", str(MAX_DOWNTIME)]
    modes = [("abort-if-busy", base + ["--abort-if-busy"]),
             ("throttle", base + ["--throttle"]),
             ("stop-and-copy", base + ["--offline-fallback"]),
             ("xen-default", ["--policy", "xen-default"])]
    modes = [m for m in modes if m[0] in cfg["s4_modes"]]
    runs = {m: [] for m, _ in modes}
    for i in range(cfg["s4_reps"]):
        for name, opts in modes:
            g = "busy%d" % i
            fresh_guest(a, g, size, S4_RATE, S4_WS)
            r = migrate(a, g, z, opts)
            r["after"] = settled_states(g, a, z)
            cleanup_guest(g, a, z)
            runs[name].append(r)
    rep.raw["s4"] = runs
    rows = []
    for name, _ in modes:
        rs = runs[name]
        ok = [r for r in rs if r["ok"]]
        rows.append([
            name, "%d/%d" % (len(ok), len(rs)),
            spread([r["elapsed-ms"] / 1000 for r in rs if "elapsed-ms" in r],
                   "%.2f"),
            spread([r.get("rounds") for r in rs if "elapsed-ms" in r]),
            spread([r["throttle"] for r in rs if "throttle" in r]),
            spread([r["predicted-downtime-ms"] for r in ok]),
            spread([r["downtime-ms"] for r in ok]),
            "; ".join(sorted(set(r["after"] for r in rs))),
            "; ".join(sorted(set((r.get("text") or "")[:90] for r in rs)))])
    body = table(["mode", "migrated", "time s (to decide, for abort)",
                  "rounds", "final throttle %", "predicted ms",
                  "achieved ms", "guest afterwards", "result"], rows)
    lines = []
    ab = runs["abort-if-busy"]
    ok = bool(ab) and all(not r["ok"] and r["after"].startswith(
        "source: running, destination: absent") for r in ab)
    lines.append(rep.goal("4", "abort-if-busy leaves the guest running on "
                          "the source", "%d of %d runs" % (
                              sum(not r["ok"] and r["after"].startswith(
                                  "source: running, destination: absent")
                                  for r in ab), len(ab)), ok))
    th = [r for r in runs.get("throttle", []) if r["ok"]]
    tdt = med([r["downtime-ms"] for r in th])
    if "throttle" in runs:
        lines.append(rep.goal("4", "throttle reaches <= max-downtime "
                              "(%d ms)" % MAX_DOWNTIME,
                              "achieved %s ms, final throttle %s%%" % (
                                  tdt, med([r["throttle"] for r in th])),
                              tdt <= MAX_DOWNTIME if tdt is not None
                              else None))
    intro = ("A %s guest dirtying a %d MiB hot working set at %d MiB/s, "
             "%.1fx the 1 Gbit/s link, on the link of scenario 2; %d run(s) "
             "per mode. relocd's three answers to non-convergence, and "
             "xen-default beside them." % (
                 size_str(size), S4_WS // MIB, S4_RATE // MIB,
                 S4_RATE / LINK_BYTES, cfg["s4_reps"]))
    return intro, body + "\n\n" + "\n".join(lines)


# --- scenario 5: memory ---------------------------------------------------

def s5_memory(b, rep, cfg):
    a, z = b.host("m5a"), b.host("m5b")
    rows, res = [], []
    for size in cfg["s5_sizes"]:
        need = 2 * size + GIB
        if mem_available() < need:
            rows.append([size_str(size), "skipped: %.1f GiB available, "
                         "%.1f needed" % (mem_available() / GIB,
                                          need / GIB)] + [""] * 7)
            continue
        g = "mem%d" % (size // MIB)
        fresh_guest(a, g, size, S5_RATE, S5_WS)
        ends = [("source", a, a.log_size()), ("dest", z, z.log_size())]
        smp = RssSampler([a, z])
        smp.start()
        r = migrate(a, g, z)
        peaks = smp.stop()
        cleanup_guest(g, a, z)
        fig = {}
        for k, f in job_rusage(ends, r.get("id")).items():
            fig["%s %s" % k] = {"maxrss": f["maxrss"], "private":
                                peaks.get(f["pid"], {}).get("private")}
        parents = [proc_status(h.pid)["VmHWM"] for h in (a, z)]
        res.append({"size": size, "result": r, "figures": fig,
                    "parents": parents})

        def cell(key):
            f = fig.get(key)
            if not f:
                return "n/a"
            return "%.1f / %s" % (f["maxrss"] / 1024, "%.1f" % (
                f["private"] / 1024) if f["private"] else "n/a")
        rows.append([size_str(size), "yes" if r["ok"] else "no",
                     "%.1f" % (r.get("elapsed-ms", 0) / 1000),
                     r.get("downtime-ms", "n/a"),
                     cell("source worker"), cell("source net"),
                     cell("dest net"), cell("dest worker"),
                     "%.1f / %.1f" % (parents[0] / 1024, parents[1] / 1024)])
    b.stop_hosts()
    rep.raw["s5"] = res
    body = table(["guest", "ok", "total s", "downtime ms",
                  "source worker", "source net child",
                  "destination net child", "destination worker",
                  "parents (source / destination)"], rows)

    def series(role, field):
        return [x["figures"][k][field] / 1024 for x in res
                for k in ("source " + role, "dest " + role)
                if k in x["figures"] and x["figures"][k][field]]
    lines = []
    for role, label in (("net", "network children"), ("worker", "workers")):
        for field, what in (("maxrss", "peak RSS"),
                            ("private", "private peak")):
            s = series(role, field)
            if not s:
                continue
            flat = max(s) <= 1.25 * min(s)
            lines.append(rep.goal("5", "%s %s <= 32 MiB and flat" % (
                label, what), "%.1f-%.1f MiB (%s)" % (
                    min(s), max(s), "flat" if flat else "grows with the "
                    "guest"), max(s) <= 32 and flat))
    p = [x["parents"] for x in res]
    if p:
        hi = max(max(x) for x in p) / 1024
        lines.append(rep.goal("5", "parents <= 32 MiB", "%.1f MiB" % hi,
                              hi <= 32))
    intro = ("One migration per guest size on loopback over mutual TLS, "
             "the guest dirtying %d MiB at %d MiB/s, fresh daemons. Memory "
             "cells are MiB: *peak RSS* as the kernel counts it "
             "(`ru_maxrss` from `wait4`, logged by relocd -v when the child "
             "exits) / *private peak*, RssAnon+RssFile sampled every 50 ms "
             "from /proc. The difference is shared memory: a sim worker "
             "maps the guest's RAM, which is the simulated hypervisor's, "
             "and touches every page of it. The parents' column is their "
             "VmHWM since start. \"Flat\" below means the largest figure "
             "is within 25%% of the smallest." % (S5_WS // MIB,
                                                   S5_RATE // MIB))
    return intro, body + "\n\n" + "\n".join(lines)


# --- scenario 6: concurrency ----------------------------------------------

def s6_batch(a, z, n, size):
    """n migrations at once; their wall time and results."""
    guests = ["c%d_%d" % (n, i) for i in range(n)]
    for g in guests:
        fresh_guest(a, g, size, settle=0)
    t0 = time.monotonic()
    ms = [Migration(a, g, z) for g in guests]
    rs = [m.wait() for m in ms]
    wall = time.monotonic() - t0
    for g in guests:
        cleanup_guest(g, a, z)
    ok = sum(r["ok"] for r in rs)
    return {"n": n, "ok": ok, "wall": wall, "agg": ok * size / wall,
            "results": rs}


def s6_concurrency(b, rep, cfg):
    size = cfg["s6_guest"]
    a, z = b.host("c6a"), b.host("c6b")
    # One migration alone, first and again last: the faster of the two
    # is the baseline, so that a burst of load during one of them cannot
    # flatter the ratios.
    counts = cfg["s6_counts"] + [1]
    res, skipped = [], []
    for n in counts:
        if mem_available() < 2 * n * size + GIB:
            skipped.append(n)
            continue
        res.append(s6_batch(a, z, n, size))
    b.stop_hosts()
    rep.raw["s6"] = res
    singles = [x["agg"] for x in res if x["n"] == 1 and x["ok"]]
    base = max(singles) if singles else None
    rows = []
    for x in res:
        rs = x["results"]
        rows.append([x["n"], "%d/%d" % (x["ok"], x["n"]), "%.2f" % x["wall"],
                     spread([r["elapsed-ms"] / 1000 for r in rs if r["ok"]],
                            "%.2f"),
                     "%.0f" % (x["agg"] / MIB),
                     "%.2f" % (x["agg"] / base) if base else "n/a"])
    rows += [[n, "skipped: not enough memory", "", "", "", ""]
             for n in skipped]
    body = table(["migrations at once", "ok", "wall s", "each s",
                  "aggregate MiB/s", "relative to one"], rows)
    top = max(cfg["s6_counts"])
    last = [x for x in res if x["n"] == top]
    lines = []
    if last and base:
        ratio = last[0]["agg"] / base
        lines.append(rep.goal("6", "aggregate throughput at %d >= 0.8x one"
                              % top, "%.2f (%.0f vs %.0f MiB/s)" % (
                                  ratio, last[0]["agg"] / MIB, base / MIB),
                              ratio >= 0.8))
    intro = ("N idle %s guests migrated at once between two relocd on "
             "loopback over mutual TLS (no shaping: the link would hide "
             "the daemons' own scaling), N = %s, then one alone again. "
             "Aggregate = N x guest memory / wall time from the first "
             "request to the last result; the baseline is the faster of "
             "the two single migrations." % (
                 size_str(size), ", ".join(map(str, cfg["s6_counts"]))))
    return intro, body + "\n\n" + "\n".join(lines)


# --- scenario 7: compression ---------------------------------------------

# What the guests hold (sim-create's options): issue 21's two contents,
# and noise for auto on loopback, where compression only costs.
S7_CONTENTS = {
    "half zero, half text": ["--zero-percent", "50",
                             "--compressible-percent", "100"],
    "all zero": ["--zero-percent", "100"],
    "noise": [],
}
S7_MODES = ["off", "on", "auto"]
S7_OFFLINE_GOAL_S = 10


def s7_runs(a, z, size, content, modes, reps, live=True):
    """reps x modes migrations of a fresh guest holding content, the
    modes interleaved and their order alternating; {mode: [result]}."""
    runs = {m: [] for m in modes}
    for i in range(reps):
        for mode in (modes if i % 2 == 0 else modes[::-1]):
            g = "z%d%s" % (i, mode)
            fresh_guest(a, g, size, settle=0,
                        content=S7_CONTENTS[content])
            runs[mode].append(migrate(a, g, z, ["--compress", mode], live))
            cleanup_guest(g, a, z)
    return runs


def s7_rate(size, runs):
    """The median effective memory rate in MiB/s: guest memory over
    relocd's time."""
    s = med([r["elapsed-ms"] / 1000 for r in runs if r["ok"]])
    return size / s / MIB if s else None


def s7_compress(b, rep, cfg, ln, a, z):
    size = cfg["s7_guest"]
    link = rep.raw["link_mib_s"]
    raw = {"link_mib_s": link, "shaped": {}, "loopback": {}}
    rows, rates = [], {}
    for content in ("half zero, half text", "all zero"):
        runs = s7_runs(a, z, size, content, S7_MODES, cfg["s7_reps"])
        raw["shaped"][content] = runs
        for mode in S7_MODES:
            ok = [r for r in runs[mode] if r["ok"]]
            rate = s7_rate(size, runs[mode])
            rates[content, mode] = rate
            rows.append([content, mode, "%d/%d" % (len(ok),
                                                   len(runs[mode])),
                         spread([r["elapsed-ms"] / 1000 for r in ok],
                                "%.2f"),
                         "%.0f" % rate if rate else "n/a",
                         "%.2f" % (rate / link) if rate else "n/a",
                         spread([r["bytes"] / MIB for r in ok], "%.0f"),
                         spread([r.get("wire-bytes", r["bytes"]) / MIB
                                 for r in ok], "%.0f")])
    off = s7_runs(a, z, cfg["s7_offline"], "half zero, half text", ["on"],
                  1, live=False)["on"]
    raw["offline"] = off
    b.stop_hosts()
    la, lz = b.host("z7a"), b.host("z7b")
    lrows, loop = [], {}
    for content in ("half zero, half text", "noise"):
        runs = s7_runs(la, lz, cfg["s7_loop_guest"], content,
                       ["off", "auto"], cfg["s7_loop_reps"])
        raw["loopback"][content] = runs
        t = {m: med([r["elapsed-ms"] / 1000 for r in runs[m] if r["ok"]])
             for m in runs}
        loop[content] = t
        lrows.append([content] + [spread([r["elapsed-ms"] / 1000 for r in
                                          runs[m] if r["ok"]], "%.2f")
                                  for m in ("off", "auto")] +
                     ["%.3f" % (t["auto"] / t["off"])
                      if t["auto"] and t["off"] else "n/a"])
    b.stop_hosts()
    rep.raw["s7"] = raw
    body = table(["guest", "--compress", "ok", "time s", "memory MiB/s",
                  "x link", "stream MiB", "wire MiB"], rows)
    body += ("\n\nOn loopback, `auto` against `off`, %s guests, %d of "
             "each, interleaved:\n\n" % (size_str(cfg["s7_loop_guest"]),
                                         cfg["s7_loop_reps"]))
    body += table(["guest", "off s", "auto s", "auto/off"], lrows)
    lines = []
    for content, want in (("half zero, half text", 1.5), ("all zero", 5)):
        for mode in ("on", "auto"):
            r = rates.get((content, mode))
            lines.append(rep.goal("7", "%s, --compress %s: memory rate >= "
                                  "%gx the link" % (content, mode, want),
                                  "%.2fx (%.0f MiB/s, link %.0f)" % (
                                      r / link, r, link) if r else "n/a",
                                  r / link >= want if r else None))
    ok = [r for r in off if r["ok"]]
    secs = ok[0]["elapsed-ms"] / 1000 if ok else None
    full = cfg["s7_offline"] == 2 * GIB
    lines.append(rep.goal("7", "offline %s, half zero, half text, "
                          "--compress on: <= %d s" % (
                              size_str(cfg["s7_offline"]),
                              S7_OFFLINE_GOAL_S),
                          "%.1f s" % secs if secs else "n/a",
                          secs <= S7_OFFLINE_GOAL_S
                          if secs and full else None))
    for content, t in loop.items():
        ratio = t["auto"] / t["off"] if t["auto"] and t["off"] else None
        lines.append(rep.goal("7", "loopback, %s: auto <= 1.05x off" %
                              content, "%.3f" % ratio if ratio else "n/a",
                              ratio <= 1.05 if ratio else None))
    intro = ("Idle %s sim guests migrated live over the 1 Gbit/s shaped "
             "link of scenarios 2-4 (iperf3: %.0f MiB/s), with `--compress` "
             "off, on and auto interleaved, %d of each per content: half "
             "their pages zero and the rest text-like, or all zero. The sim "
             "backend sends a zero page as its number only, compressed or "
             "not. Memory MiB/s is the guest's memory over relocd's time; "
             "`x link` divides it by the link's rate. Then one offline "
             "migration of a %s guest with the first content, compressed; "
             "then `auto` against `off` on loopback, where the CPU, not "
             "the link, is the bottleneck." % (
                 size_str(size), link, cfg["s7_reps"],
                 size_str(cfg["s7_offline"])))
    return intro, body + "\n\n" + "\n".join(lines)


# --- the run --------------------------------------------------------------

def header(m, quick, load, started, wall):
    return "\n".join([
        "<!-- SPDX-License-Identifier: ISC -->",
        "# relocd benchmarks, %s%s" % (started.strftime("%Y-%m-%d"),
                                        " (quick subset)" if quick else ""),
        "",
        "Written by `make bench%s` (bench/bench.py); see bench/README.md "
        "for how to read it." % (" QUICK=1" if quick else ""),
        "",
        "* **Date:** %s to %s UTC (%.1f min)." % (
            started.strftime("%Y-%m-%d %H:%M"),
            (started + datetime.timedelta(seconds=wall)).strftime("%H:%M"),
            wall / 60),
        "* **Machine:** %d cores (%s), %.1f GiB RAM, kernel %s." % (
            m["nproc"], m["cpu"], m["ram_gib"], m["kernel"]),
        "* **Load average** (1, 5, 15 min) before: %s; after: %s. The "
        "machine is shared with other builds, tests and VMs: absolute "
        "figures are noisy; each goal is a ratio or comparison measured "
        "in the same run." % load,
        "* **relocd:** %s, sim backend, `relocd -d -v`, at normal "
        "priority." % git_describe(),
        ""])


def git_describe():
    try:
        r = subprocess.run(["git", "describe", "--always", "--dirty"],
                           capture_output=True, text=True, timeout=10,
                           cwd=os.path.dirname(os.path.abspath(__file__)))
        return "commit " + r.stdout.strip() if r.returncode == 0 else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def summary(rep):
    rows = [[s, g, m, verdict(ok)] for s, g, m, ok in rep.goals]
    return "## Goals\n\n" + table(["scenario", "goal", "measured",
                                   "verdict"], rows) + "\n"


def on_signal(sig, frame):
    raise KeyboardInterrupt("signal %d" % sig)


def main():
    ap = argparse.ArgumentParser(description="relocd benchmarks")
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="1,2,3,4,5,6,7,8")
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results"))
    args = ap.parse_args()
    cfg = QUICK if args.quick else FULL
    only = set(args.only.split(","))
    root = os.getuid() == 0
    # Also SIGINT: a shell's background job starts with it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    started = datetime.datetime.now(datetime.timezone.utc)
    stem = started.strftime("%Y-%m-%d") + ("-quick" if args.quick else "")
    os.makedirs(args.out, exist_ok=True)
    rep = Report()
    load0 = loadavg()
    t0 = time.monotonic()
    b = Bench(args.build)
    failed = False
    try:
        def scenario(num, title, fn, *a):
            nonlocal failed
            if num not in only:
                return
            say("scenario %s: %s" % (num, title))
            l0, s0 = loadavg(), time.monotonic()
            try:
                intro, body = fn(b, rep, cfg, *a)
            except BenchError as e:
                failed = True
                intro, body = "Failed: %s" % e, ""
                b.stop_hosts()
            rep.section("%s. %s" % (num, title), intro + " Took %.0f s." % (
                time.monotonic() - s0), body, (l0, loadavg()))
        scenario("1", "TLS cost", s1_tls)
        if root and only & {"2", "3", "4"}:
            ln, a, z = shaped_pair(b, str(os.getpid() % 100000))
            rep.raw["link_mib_s"] = b.iperf3(
                server_ns=ln.ns[1], client_ns=ln.ns[0], addr=ln.addr[1],
                seconds=cfg["iperf_s"]) / MIB
            scenario("2", "Downtime against Xen's default policy",
                     s2_downtime, ln, a, z)
            scenario("3", "Sweep: dirty rate and working set", s3_sweep, ln,
                     a, z, args.out, stem)
            scenario("4", "Non-convergent guest", s4_nonconvergent, ln, a, z)
            b.stop_hosts()
            for l in b.links:
                l.teardown()
        elif only & {"2", "3", "4"}:
            rep.section("2-4. Shaped-link scenarios", "Skipped: they need "
                        "root for network namespaces and tc.", "",
                        (loadavg(), loadavg()))
        scenario("5", "Memory", s5_memory)
        scenario("6", "Concurrency", s6_concurrency)
        if root and "7" in only:
            ln, a, z = shaped_pair(b, str(os.getpid() % 100000 + 1))
            if "link_mib_s" not in rep.raw:
                rep.raw["link_mib_s"] = b.iperf3(
                    server_ns=ln.ns[1], client_ns=ln.ns[0],
                    addr=ln.addr[1], seconds=cfg["iperf_s"]) / MIB
            scenario("7", "Compression", s7_compress, ln, a, z)
            b.stop_hosts()
            for l in b.links:
                l.teardown()
        elif "7" in only:
            rep.section("7. Compression", "Skipped: it needs root for "
                        "network namespaces and tc.", "",
                        (loadavg(), loadavg()))
        scenario("8", "relocd-xl without Xen", s8_xl)
    finally:
        b.close()
    wall = time.monotonic() - t0
    text = header(machine(), args.quick, (load0, loadavg()), started, wall)
    text += "\n" + summary(rep) + "\n" + "\n".join(rep.parts)
    md = os.path.join(args.out, stem + ".md")
    with open(md, "w") as f:
        f.write(text)
    with open(os.path.join(args.out, stem + ".json"), "w") as f:
        json.dump(rep.raw, f, indent=1, default=str)
    print("\n" + summary(rep))
    say("wrote %s (%.1f min)" % (md, wall / 60))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        say("interrupted (%s); cleaned up" % e)
        sys.exit(130)
