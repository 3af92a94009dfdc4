#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Offline check of the --devices guest work and its client, outside Xen
(root: it makes two network namespaces joined by a veth pair, both
removed at the end).  Run by hand before a XEN_DEVICES=1 run:

    sudo python3 tests/xen/test_devices.py

It builds heartbeat.c + hbwork.c and hbclient.c as check-xen does, runs
the guest as a normal process (heartbeat --local) with eth0 in one
namespace and a sparse file as its disk, and hbclient in the other, then
proves what each leg of a real run relies on:
  - a window with the guest running has UDP echoes, a small gap and tcp ok;
  - stopping the whole guest for 1.5 s (as a suspend does) shows as a UDP
    gap of at least that, and the same TCP connection answers after it;
  - the disk log is continuous, and hbclient check fails on a hole, a
    duplicate, a torn record and a record from another boot;
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
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    procs = []
    try:
        sh("ip", "netns", "add", NS_G)
        sh("ip", "netns", "add", NS_C)
        sh("ip", "link", "add", "c0", "netns", NS_C, "type", "veth", "peer",
           "name", "eth0", "netns", NS_G)
        sh("ip", "-n", NS_C, "addr", "add", "10.77.0.1/24", "dev", "c0")
        sh("ip", "-n", NS_C, "link", "set", "c0", "up")
        guest = subprocess.Popen(
            ["ip", "netns", "exec", NS_G, hb, "--local",
             f"hbname=t hbms=100 hbnet=10.77.0.2/24 hbdisk={img}"],
            stdout=subprocess.DEVNULL, start_new_session=True)
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
        # A suspend: every process of the guest stopped at once.
        os.killpg(guest.pid, signal.SIGSTOP)
        time.sleep(1.5)
        os.killpg(guest.pid, signal.SIGCONT)
        time.sleep(1.0)
        w2 = window(out, cpid)
        expect(int(w2["maxgap_ms"]) >= 1400 and w2["tcp"] == "ok" and
               int(w2["tcp_age_ms"]) < 1000 and w2["lport"] == w["lport"],
               f"1.5 s stop: udp gap seen, same tcp answers: {w2}")
        rc, text = check(hbc, img)
        n = int(text.split()[1])
        expect(rc == 0 and n > 20, f"disk log continuous: {text}")
        for name, src, dst, data in (
                ("hole", 0, 5, bytes(512)),
                ("duplicate", 3, n, None),
                ("stale", 2, 7, None),
                ("torn", 4, 4, b"X" * 512)):
            rc, text = check(hbc, corrupt(img, tmp, name, src, dst, data))
            expect(rc == 1, f"hbclient check fails on a {name}: {text}")
        with open(img, "rb") as f:
            boot = f.read(16)[8:].decode()
        r = sh(hbc, "check", img, "0" * 8 if boot != "0" * 8 else "1" * 8,
               check=False)
        expect(r.returncode == 1, f"... and on another boot's records: "
               f"{r.stdout.strip()}")
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
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"test_devices: {'FAILED: ' + str(len(FAILS)) if FAILS else 'all'}"
          f" checks {'' if FAILS else 'right'}")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
