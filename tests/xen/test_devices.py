#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Offline check of the --devices guest work and its client, outside Xen
(root: it makes two network namespaces joined by a veth pair, both
removed at the end).  Run by hand before a XEN_DEVICES=1 run:

    sudo python3 tests/xen/test_devices.py

It builds heartbeat.c + hbwork.c and hbclient.c as check-xen does, runs
the guest as a normal process (heartbeat --local) with eth0 in one
namespace and, as its disk, a loop device on a file with an ext4 made as
devices.py makes it (the guest mounts it in the mount namespace that ip
netns exec gave it), and hbclient in the other namespace, then proves
what each leg and the end of a real run rely on:
  - a window with the guest running has UDP echoes, a small gap and tcp
    ok, and the guest's disk figures: records made durable, no error;
  - stopping the whole guest for 1.5 s (as a suspend does) shows as a UDP
    gap of at least that, the same TCP connection answers after it, and
    the guest's records grow after it;
  - hbfscheck refuses the image while the guest has it mounted;
  - the guest's poweroff stand-in (heartbeat --local-stop, in the guest's
    mount namespace) stops the log and unmounts; the echo goes on and
    the records stop growing;
  - hbfscheck then finds the image unmounted cleanly, fsck.ext4 -fn
    clean and the log copied out continuous, with as many records as the
    guest last reported, and fails on an image fsck finds wrong and on
    one without the log; hbclient check fails on a hole, a duplicate, a
    stale or torn record and a record from another boot;
  - a guest whose disk is full, or cannot be mounted, reports errors
    over UDP;
  - devices.py's per-leg disk check, run here on the client's windows,
    passes a growing log and refuses a stopped one and failed writes;
  - killing the guest's echo breaks the TCP connection for good.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import devices  # noqa: E402  (its leg checks, run here on hbclient's output)
from scenarios import MigrationError  # noqa: E402
NS_G, NS_C = f"hbtest-g{os.getpid()}", f"hbtest-c{os.getpid()}"
FAILS = []


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True,
                          timeout=60)


def expect(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILS.append(what)


def window(out, pid):
    n = len(open(out).read().splitlines())
    os.kill(pid, signal.SIGUSR1)
    for _ in range(50):
        lines = open(out).read().splitlines()
        if len(lines) > n:
            w = lines[-1].split()
            return dict(zip(w[2::2], w[3::2]))
        time.sleep(0.1)
    raise RuntimeError("hbclient wrote no window")


def check(hbc, img):
    r = sh(hbc, "check", img, check=False)
    return r.returncode, r.stdout.strip()


def fscheck(img, out, hbc):
    """hbfscheck, as devices.finish runs it in dom0: (rc, its output)."""
    r = sh(f"{HERE}/hbfscheck", img, out, hbc, check=False)
    return r.returncode, (r.stdout + r.stderr).strip()


def disk(w):
    """The guest's disk figures in a window: (records, errors)."""
    return int(w.get("disk", -2)), int(w.get("disk_err", -2))


def corrupt(img, tmp, name, src_slot, dst_slot, data=None):
    """A copy of img with slot dst_slot replaced (by data, or a copy of
    src_slot); hbclient check's verdict on it."""
    p = os.path.join(tmp, name)
    shutil.copy(img, p)
    with open(img, "rb") as f:
        f.seek(src_slot * 512)
        rec = f.read(512)
    with open(p, "r+b") as f:
        f.seek(dst_slot * 512)
        f.write(data if data is not None else rec)
    return p


class Local:
    """devices.py's view of dom0 A, here: its commands run locally."""
    name = "local"

    def run(self, cmd, timeout=60, check=True):
        r = subprocess.run(["sh", "-c", cmd], capture_output=True,
                           text=True, timeout=timeout)
        return r.returncode, (r.stdout + r.stderr).strip()


def leg_disk(out, guest):
    """devices.py's per-leg disk check on the client writing out: the
    records it found durable after the window it closes first, or the
    MigrationError's text."""
    devices._out = lambda g: out
    try:
        w = devices._window(Local(), guest)
        return devices._disk_grows(Local(), guest, w)
    except MigrationError as e:
        return str(e)


def side_guest(hb, hbc, tmp, procs, name, port, dev):
    """A further guest on the same address with its own port and disk,
    and a client for it: its disk figures 1 s after the client is up."""
    out = os.path.join(tmp, f"cl-{name}.out")
    procs.append(subprocess.Popen(
        ["ip", "netns", "exec", NS_G, hb, "--local",
         f"hbname={name} hbms=1000 hbnet=10.77.0.2/24 hbport={port} "
         f"hbdisk={dev} hbmnt={tmp}/mnt-{name}"],
        stdout=subprocess.DEVNULL, start_new_session=True))
    procs.append(subprocess.Popen(
        ["ip", "netns", "exec", NS_C, hbc, "run", "10.77.0.2", str(port),
         out], stdout=subprocess.DEVNULL, start_new_session=True))
    for _ in range(100):
        if os.path.exists(out) and open(out).read().startswith("W 0"):
            break
        time.sleep(0.1)
    time.sleep(1.0)
    return disk(window(out, int(open(out + ".pid").read()))), out


def full_image(tmp):
    """An ext4 image with no block left, even for root (filled in a
    mount namespace of its own)."""
    img, m = os.path.join(tmp, "full.img"), os.path.join(tmp, "full.mnt")
    os.mkdir(m)
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    sh("mkfs.ext4", "-q", "-F", img)
    sh("unshare", "-m", "--propagation", "private", "sh", "-c",
       f"mount -o loop {img} {m} && {{ dd if=/dev/zero of={m}/fill "
       f"bs=64k 2>/dev/null; sync; umount {m}; }}")
    return img


def main():
    if os.geteuid() != 0:
        print("test_devices: needs root (network namespaces)")
        return 2
    tmp = tempfile.mkdtemp(prefix="hbtest.")
    hb, hbc = os.path.join(tmp, "hb"), os.path.join(tmp, "hbclient")
    sh("gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", hb,
       f"{HERE}/heartbeat.c", f"{HERE}/hbwork.c")
    sh("gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", hbc,
       f"{HERE}/hbclient.c")
    img, out = os.path.join(tmp, "disk.img"), os.path.join(tmp, "cl.out")
    log, mnt = os.path.join(tmp, "hb.log"), os.path.join(tmp, "mnt")
    with open(img, "wb") as f:
        f.truncate(32 << 20)
    sh("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,"
       "lazy_journal_init=0", img)
    procs, gout, loops = [], None, []
    try:
        loops.append(sh("losetup", "--find", "--show", img).stdout.strip())
        args = (f"hbname=t hbms=100 hbnet=10.77.0.2/24 hbdisk={loops[0]} "
                f"hbmnt={mnt}")
        sh("ip", "netns", "add", NS_G)
        sh("ip", "netns", "add", NS_C)
        sh("ip", "link", "add", "c0", "netns", NS_C, "type", "veth", "peer",
           "name", "eth0", "netns", NS_G)
        sh("ip", "-n", NS_C, "addr", "add", "10.77.0.1/24", "dev", "c0")
        sh("ip", "-n", NS_C, "link", "set", "c0", "up")
        gout = open(os.path.join(tmp, "guest.out"), "w")
        guest = subprocess.Popen(
            ["ip", "netns", "exec", NS_G, hb, "--local", args],
            stdout=gout, start_new_session=True)
        procs.append(guest)
        client = subprocess.Popen(
            ["ip", "netns", "exec", NS_C, hbc, "run", "10.77.0.2", "7", out],
            stdout=subprocess.DEVNULL, start_new_session=True)
        procs.append(client)
        for _ in range(100):
            if os.path.exists(out) and open(out).read().startswith("W 0"):
                break
            time.sleep(0.1)
        cpid = int(open(out + ".pid").read())
        time.sleep(1.5)
        w = window(out, cpid)
        expect(int(w["recv"]) > 50 and int(w["maxgap_ms"]) < 500 and
               w["tcp"] == "ok", f"running guest: {w}")
        expect(disk(w)[0] > 10 and disk(w)[1] == 0,
               f"running guest: records durable, no error: {disk(w)}")
        # A suspend: every process of the guest stopped at once.
        os.killpg(guest.pid, signal.SIGSTOP)
        time.sleep(1.5)
        os.killpg(guest.pid, signal.SIGCONT)
        time.sleep(1.0)
        w2 = window(out, cpid)
        expect(int(w2["maxgap_ms"]) >= 1400 and w2["tcp"] == "ok" and
               int(w2["tcp_age_ms"]) < 1000 and w2["lport"] == w["lport"],
               f"1.5 s stop: udp gap seen, same tcp answers: {w2}")
        expect(disk(w2)[0] > disk(w)[0] and disk(w2)[1] == 0,
               f"... and records grow after it: {disk(w)} -> {disk(w2)}")
        n = leg_disk(out, "t")
        expect(isinstance(n, int) and n > disk(w2)[0],
               f"devices.py's leg check passes: {n} records durable")
        # Why each leg asks the guest: its ext4 is live until it stops.
        rc, text = fscheck(img, log, hbc)
        expect(rc == 3, f"hbfscheck refuses the mounted image: {text}")
        # The guest's poweroff, in the guest's mount namespace.
        r = subprocess.run(["nsenter", "-t", str(guest.pid), "-m", hb,
                            "--local-stop", args], capture_output=True,
                           text=True, timeout=60)
        expect(r.returncode == 0 and "not mounted" in r.stdout,
               f"--local-stop: exit {r.returncode}, {r.stdout.strip()}")
        said = [l for l in open(gout.name).read().splitlines()
                if l.startswith("HBW t disk: stopped after ")]
        expect(len(said) == 1 and said[0].endswith(f" {mnt} unmounted"),
               f"... the disk part stopped and unmounted: {said}")
        w3 = window(out, cpid)
        time.sleep(0.5)
        w4 = window(out, cpid)
        expect(disk(w4) == disk(w3) and w4["tcp"] == "ok" and
               int(w4["recv"]) > 20,
               f"stopped: records stay {disk(w3)} -> {disk(w4)}, echo on")
        devices.DISK_GROW_S = 2
        e = leg_disk(out, "t")
        expect("made no record durable" in str(e),
               f"... and devices.py's leg check refuses that: {e}")
        rc, text = fscheck(img, log, hbc)
        last = text.splitlines()[-1] if text else ""
        n = int(last.split()[1]) if last.startswith("records ") else -1
        expect(rc == 0 and n == disk(w4)[0],
               f"hbfscheck: clean, log continuous, {disk(w4)[0]} records "
               f"as reported: {text}")
        # An image fsck finds wrong (the root's link count), and one
        # without the log: hbfscheck says which.
        for name, req, want in (("bad link count", "sif <2> links_count 7",
                                 4), ("no log", "rm /hb.log", 5)):
            bad = os.path.join(tmp, "bad.img")
            shutil.copy(img, bad)
            sh("debugfs", "-w", "-R", req, bad)
            rc, text = fscheck(bad, log + ".bad", hbc)
            expect(rc == want, f"hbfscheck fails on {name}: {rc} {text}")
        img = log       # the corruptions below are of the copied-out log
        cases = (("hole", 0, 5, bytes(512)),
                 ("duplicate", 3, n, None),
                 ("stale", 2, 7, None),
                 ("torn", 4, 4, b"X" * 512))
        for name, src, dst, data in cases if os.path.exists(img) else ():
            rc, text = check(hbc, corrupt(img, tmp, name, src, dst, data))
            expect(rc == 1, f"hbclient check fails on a {name}: {text}")
        boot = "0" * 8
        if os.path.exists(img):
            with open(img, "rb") as f:
                boot = f.read(16)[8:].decode()
        r = sh(hbc, "check", img, "0" * 8 if boot != "0" * 8 else "1" * 8,
               check=False)
        expect(r.returncode == 1, f"... and on another boot's records: "
               f"{r.stdout.strip()}")
        # Failed writes and a failed mount are errors over UDP, which a
        # leg refuses (further guests on the same address).
        loops.append(sh("losetup", "--find", "--show",
                        full_image(tmp)).stdout.strip())
        d, out_f = side_guest(hb, hbc, tmp, procs, "f", 8, loops[1])
        # (a few records may fit in what the filling left)
        expect(d[0] >= 0 and d[1] > 5,
               f"full disk: failed writes counted: {d}")
        e = leg_disk(out_f, "f")
        expect("write(s) to its disk failed" in str(e),
               f"... and devices.py's leg check refuses it: {e}")
        d, out_n = side_guest(hb, hbc, tmp, procs, "n", 9, "/dev/null")
        expect(d == (-1, 1), f"unmountable disk: no records, one error: "
               f"{d}")
        # The echo's death: the connection breaks and stays broken.
        window(out, cpid)
        os.killpg(guest.pid, signal.SIGKILL)
        time.sleep(1.0)
        w3 = window(out, cpid)
        # (echoes from the moment before the kill may still count)
        expect(w3["tcp"] == "lost" and int(w3["maxgap_ms"]) >= 800,
               f"guest gone: tcp lost, udp silent: {w3}")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(10)
        for ns in (NS_G, NS_C):
            sh("ip", "netns", "del", ns, check=False)
        # The guests' mounts went with their namespaces' last process.
        for lo in loops:
            sh("losetup", "-d", lo, check=False)
        if gout is not None:
            gout.close()
            said = [l for l in open(gout.name) if l.startswith("HBW")]
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILS and gout is not None:
        print("the guest said:\n" + "".join(said))
    print(f"test_devices: {'FAILED: ' + str(len(FAILS)) if FAILS else 'all'}"
          f" checks {'' if FAILS else 'right'}")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
