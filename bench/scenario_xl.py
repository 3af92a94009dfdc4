# SPDX-License-Identifier: ISC
"""Scenario 8: relocd-xl's path without Xen.  A stand-in `xl migrate`
(tests/regress/xlsend.py) sends a stream of random MiB blocks through
relocd-xl to relocd, whose worker runs a stand-in `xl migrate-receive`
(tests/regress/fake-xl) that hashes what it reads.  The stream is the
domain's bytes as xl would send them: relocd carries them and does not
look inside, so the figures are the transport's own cost.

Over mutual TLS and over plaintext, interleaved with a third kind: over
TLS, a guest-like stream (every other page zero, the rest text) that
relocd-xl compresses (--compress on); iperf3's loopback ceiling before
and after.  CPU seconds: relocd-xl's from its rusage
(xlsend waits for it), the destination's network child and worker from
relocd -v's log.  The stand-ins' own CPU is nobody's figure, but they
share the machine's two cores with relocd.
"""

import os
import re
import subprocess
import time

from benchlib import (GIB, MIB, BenchError, Host, logged_rusage, med,
                      size_str, spread, table)

SENT_RE = re.compile(r"sent (\d+) bytes sha256 ([0-9a-f]{64}); .* exit status "
                     r"(\d+); transport cpu ([\d.]+) s; wall ([\d.]+) s")
# worker_xl.c logs what xl used, which the worker's own figure includes.
XL_CPU_RE = re.compile(r"xl used cpu ([\d.]+) s user, ([\d.]+) s system")
# relocd-xl's closing line when it compressed xl's stream.
ZSTD_RE = re.compile(r"went as ([\d.]+) MiB on the wire \(zstd, ([\d.]+)x\)")
XL_TIMEOUT = 600


def xl_pair(b, kind):
    """The destination relocd (running, its xl the stand-in) and the
    source's configuration for relocd-xl (its certificate, the CA)."""
    fake = os.path.join(b.top, "tests", "regress", "fake-xl")
    extra = ["(relocd-xl-command %s)" % fake]
    if kind == "plain":
        extra.append("(relocd-insecure-plaintext yes)")
    z = b.host("x8%sz" % kind, extra=extra)
    src = Host(b, "x8%sa" % kind, extra=extra[1:])
    b.make_cert(src.name, src.addr)
    src.write_conf()
    return src, z


def xl_stream(b, src, z, size, zstd=False):
    """One stream through relocd-xl (zstd: guest-like, compressed); its
    figures, or raise."""
    relocd_xl = os.path.join(os.path.dirname(b.relocd), "relocd-xl")
    send = os.path.join(b.top, "tests", "regress", "xlsend.py")
    since = z.log_size()
    try:
        out = subprocess.run(
            ["python3", send, "--repeat", "--size", str(size)] +
            (["--content", "guest"] if zstd else []) +
            ["--", relocd_xl, "-f", src.conf] +
            (["--compress", "on"] if zstd else []) +
            [z.target(), "xl", "migrate-receive"], capture_output=True,
            text=True,
            timeout=XL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError("relocd-xl stream of %s did not end within %d s" %
                         (size_str(size), XL_TIMEOUT))
    m = SENT_RE.search(out.stdout)
    wire = ZSTD_RE.search(out.stderr)
    if out.returncode != 0 or not m or m.group(3) != "0" or \
            (zstd and not wire):
        raise BenchError("relocd-xl stream failed: %s %s" % (
            out.stdout.strip()[-300:], out.stderr.strip()[-300:]))
    # What the stand-in xl read must be what was sent.
    got = "fake-xl: received %d bytes sha256 %s" % (size, m.group(2))
    kids = {}
    for _ in range(50):
        log = z.read_log()[since:]
        kids = {f["role"]: f for f in logged_rusage(z, since)}
        if got in log and len(kids) == 2:
            break
        time.sleep(0.1)
    log = z.read_log()[since:]
    if got not in log:
        raise BenchError("the stand-in xl did not log %r" % got)
    xl = XL_CPU_RE.search(log)
    xl_cpu = float(xl.group(1)) + float(xl.group(2)) if xl else None
    worker = kids.get("worker", {}).get("cpu")
    return {"wall": float(m.group(5)), "src_cpu": float(m.group(4)),
            "ratio": float(wire.group(2)) if wire else None,
            "dst_net": kids.get("net", {}).get("cpu"),
            "dst_worker": worker - xl_cpu if None not in (worker, xl_cpu)
            else None, "xl_cpu": xl_cpu}


def s8_xl(b, rep, cfg):
    size = cfg["s8_stream"]
    pairs = {k: xl_pair(b, k) for k in ("plain", "tls")}
    pairs["zstd"] = pairs["tls"]
    kinds = ("plain", "tls", "zstd")
    runs = {k: [] for k in kinds}
    ceil = [b.iperf3(seconds=cfg["iperf_s"])]
    for i in range(cfg["s8_reps"]):
        for j in range(len(kinds)):
            kind = kinds[(i + j) % len(kinds)]
            runs[kind].append(xl_stream(b, *pairs[kind], size,
                                        zstd=kind == "zstd"))
    ceil.append(b.iperf3(seconds=cfg["iperf_s"]))
    b.stop_hosts()
    rep.raw["s8"] = {"runs": runs, "ceiling": ceil}
    ceiling = sum(ceil) / len(ceil)
    gib = size / GIB

    def per_gib(r, keys):
        xs = [r[k] for k in keys]
        return sum(xs) / gib if None not in xs else None
    rows, figs = [], {}
    names = {"plain": "relocd-xl, plaintext",
             "tls": "relocd-xl, mutual TLS",
             "zstd": "relocd-xl, mutual TLS, guest-like, --compress on"}
    for kind in kinds:
        rs = runs[kind]
        src = [per_gib(r, ("src_cpu",)) for r in rs]
        dst = [per_gib(r, ("dst_net", "dst_worker")) for r in rs]
        frac = [size / r["wall"] / ceiling for r in rs]
        figs[kind] = (med(src), med(dst), med(frac))
        rows.append([names[kind], len(rs),
                     spread([r["wall"] for r in rs], "%.2f"),
                     spread([size / r["wall"] / MIB for r in rs], "%.0f"),
                     spread(frac, "%.3f"), spread(src, "%.2f"),
                     spread([per_gib(r, ("dst_net",)) for r in rs], "%.2f"),
                     spread([per_gib(r, ("dst_worker",)) for r in rs],
                            "%.2f"),
                     spread([per_gib(r, ("xl_cpu",)) for r in rs], "%.2f")])
    rows.append(["iperf3, 1 stream, loopback", len(ceil), "-",
                 spread([c / MIB for c in ceil], "%.0f"), "1", "-", "-",
                 "-", "-"])
    body = table(["transfer", "n", "time s", "MiB/s", "fraction of ceiling",
                  "source: relocd-xl CPU-s/GiB",
                  "destination net child CPU-s/GiB",
                  "destination worker CPU-s/GiB",
                  "stand-in xl CPU-s/GiB"], rows)
    src, dst, frac = figs["tls"]
    lines = [
        rep.goal("8", "relocd-xl over TLS, source <= 0.5 CPU-s per GiB",
                 "%.2f" % src if src is not None else "n/a",
                 src <= 0.5 if src is not None else None),
        rep.goal("8", "relocd-xl over TLS, destination (network child + "
                 "worker) <= 0.5 CPU-s per GiB",
                 "%.2f" % dst if dst is not None else "n/a",
                 dst <= 0.5 if dst is not None else None),
        rep.goal("8", "relocd-xl over TLS >= 0.4 of the TCP ceiling",
                 "%.3f" % frac, frac >= 0.4),
    ]
    zsrc, zdst, zfrac = figs["zstd"]
    if None not in (zsrc, zdst):
        lines.append("- beside the goals: a guest-like stream (every other "
                     "4 KiB page zero, the rest text) with --compress on "
                     "went as 1/%s of its size on the wire, at %.3f of the "
                     "ceiling in stream bytes, costing relocd-xl %.2f CPU-s "
                     "per GiB of stream (%.2f more than TLS alone) and the "
                     "destination %.2f (%.2f)." % (
                         spread([r["ratio"] for r in runs["zstd"]], "%.1f"),
                         zfrac, zsrc, zsrc - src, zdst, zdst - dst))
    psrc, pdst, pfrac = figs["plain"]
    if None not in (src, psrc, dst, pdst):
        lines.append("- beside the goals: TLS over plaintext adds %.2f "
                     "CPU-s per GiB at the source and %.2f at the "
                     "destination; plaintext runs at %.3f of the ceiling." %
                     (src - psrc, dst - pdst, pfrac))
    intro = ("A %s stream (one random MiB repeated) from a stand-in `xl "
             "migrate` (tests/regress/xlsend.py) through relocd-xl to "
             "relocd on loopback, whose worker runs a stand-in `xl "
             "migrate-receive` (tests/regress/fake-xl) that checks its "
             "SHA-256; over mutual TLS and plaintext, and over TLS a guest-like "
             "stream (every other page zero, the rest text) that relocd-xl "
             "compresses (--compress on), interleaved, %d of each; iperf3's loopback ceiling before and after. Time is "
             "the stream's, from xl's banner to relocd-xl's exit. The "
             "stand-ins share the 2 cores with relocd. The worker's column "
             "leaves out the stand-in xl it runs (worker_xl.c logs xl's "
             "rusage), which has a column of its own and counts for no "
             "goal: xl's stdin and stdout are the network child's socket "
             "pair, so the worker carries no byte." % (
                 size_str(size), cfg["s8_reps"]))
    return intro, body + "\n\n" + "\n".join(lines)
