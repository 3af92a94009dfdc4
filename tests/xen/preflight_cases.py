# SPDX-License-Identifier: ISC
"""relocd's pre-flight for guests with real devices (issue 17), on a pair
of systemd dom0s A and B: a guest on A has a vif on a bridge (xenbr0)
and a disk under /srv/xen, which B sees over NFS.  xentest.py calls
run(a, b, guest) once that guest runs on A; each case is one
(name, ok, detail) line, as systemd_cases.py's are.

  1. the bridge gone on B (renamed for the case, then back):
     `relocctl check GUEST B` on A fails and names the bridge;
  2. the disk invisible on B (an empty directory bind-mounted over its
     directory, then unmounted): check fails and names the disk;
  3. both at once: both sentences are listed, each on its own line;
  4. a guest whose config sets disable_migrate: `relocctl check` and
     `relocctl migrate` are refused by A before anything is touched (the
     guest runs on A, B's relocd never heard of it).

Every change to B is undone in a finally clause, whatever the case did.
The sentences looked for are relocd's (relocd/xen_preflight.c); relocctl
prints each failed check on a line "relocctl:   failed: ...".
"""

import contextlib
import json
import os
import shlex
import time

from relocd_setup import PORT, log_cat
from xenvm import VMError

TMP_BRIDGE = "xenbr9"           # the bridge's name while it is "gone"
EMPTY_DIR = "/run/relocd-preflight-empty"
PINNED = "pf-pinned"            # the disable_migrate guest of case 4
CHECK_S = 300                   # relocctl check/migrate: bounded


class CaseError(Exception):
    pass


def log(*a):
    print(time.strftime("[%H:%M:%S]"), *a, flush=True)


def sh(vm, cmd, timeout=60):
    """vm.run that never raises on a non-zero status."""
    return vm.run(cmd, timeout, check=False)


def on_host(vm, guest):
    return sh(vm, f"xl list {shlex.quote(guest)} >/dev/null 2>&1")[0] == 0


def devices(vm, guest):
    """The bridges and disk paths of guest's libxl config on vm."""
    rc, out = sh(vm, f"xl list -l {shlex.quote(guest)}", 120)
    if rc != 0:
        raise CaseError(f"xl list -l {guest} on {vm.name} exited {rc}")
    try:
        cfg = json.loads(out[out.index("["):])[0]["config"]
    except (ValueError, KeyError, IndexError) as e:
        raise CaseError(f"xl list -l {guest}: unreadable JSON ({e})")
    bridges = [n.get("bridge") or "xenbr0" for n in cfg.get("nics", [])]
    disks = [d["pdev_path"] for d in cfg.get("disks", [])
             if str(d.get("pdev_path", "")).startswith("/")]
    return bridges, disks


def relocctl(a, b, what, guest):
    """relocctl WHAT GUEST B on A: (status, output with stderr)."""
    return sh(a, f"relocctl {what} {shlex.quote(guest)} {b.ip}:{PORT} 2>&1",
              CHECK_S)


def failed_lines(out):
    return [ln.split("failed: ", 1)[1] for ln in out.splitlines()
            if ln.startswith("relocctl:   failed: ")]


def expect_refused(out, rc, wanted):
    """rc != 0, and every wanted text starts a "failed:" line (after the
    host it came from, "destination HOST: ")."""
    if rc == 0:
        raise CaseError(f"relocctl succeeded:\n{out[-600:]}")
    lines = failed_lines(out)
    for w in wanted:
        if not any(w in ln for ln in lines):
            raise CaseError(f"no failed check says {w!r}:\n{out[-1200:]}")


def still_home(a, b, guest):
    if not on_host(a, guest):
        raise CaseError(f"{guest} no longer runs on {a.name}")
    if on_host(b, guest) or on_host(b, f"{guest}--incoming"):
        raise CaseError(f"{guest} is on {b.name} as well")


# ------------------------------------------------------------ changes to B
@contextlib.contextmanager
def bridge_gone(b, bridge):
    """bridge renamed TMP_BRIDGE on b for the duration.  A bridge that
    carries b's own address cannot go down without cutting A off b; then
    /sys/class/net is hidden under a tmpfs instead, which is what relocd
    looks at (netlink, and so the network, is untouched)."""
    if sh(b, f"ip link show {TMP_BRIDGE} >/dev/null 2>&1")[0] == 0:
        raise CaseError(f"{TMP_BRIDGE} already exists on {b.name}")
    _, addrs = sh(b, f"ip -o addr show dev {shlex.quote(bridge)}")
    hide = f" {b.ip}/" in addrs
    if hide:
        cmd = "mount -t tmpfs relocd-preflight /sys/class/net"
        undo = "umount /sys/class/net"
    else:
        cmd = (f"ip link set dev {bridge} down && "
               f"ip link set dev {bridge} name {TMP_BRIDGE}")
        undo = (f"ip link set dev {TMP_BRIDGE} name {bridge}; "
                f"ip link set dev {bridge} up")
    rc, out = sh(b, cmd)
    if rc != 0:
        sh(b, undo)
        raise CaseError(f"`{cmd}` on {b.name} exited {rc}: {out[-300:]}")
    log(f"{b.name}: bridge {bridge} gone ({'hidden' if hide else 'renamed'})")
    try:
        yield
    finally:
        rc, out = sh(b, undo)
        if sh(b, f"test -e /sys/class/net/{bridge}/bridge")[0] != 0:
            log(f"{b.name}: bridge {bridge} NOT restored ({rc}): {out}")
        else:
            log(f"{b.name}: bridge {bridge} restored")


@contextlib.contextmanager
def disk_gone(b, disk):
    """The directory holding disk looks empty on b for the duration."""
    d = os.path.dirname(disk)
    rc, out = sh(b, f"mkdir -p {EMPTY_DIR} && "
                    f"mount --bind {EMPTY_DIR} {shlex.quote(d)}")
    if rc != 0:
        raise CaseError(f"bind mount over {d} on {b.name} exited {rc}: "
                        f"{out[-300:]}")
    log(f"{b.name}: {d} hidden")
    try:
        yield
    finally:
        sh(b, f"umount {shlex.quote(d)}")
        if sh(b, f"test -e {shlex.quote(disk)}")[0] != 0:
            log(f"{b.name}: {disk} NOT visible again")
        else:
            log(f"{b.name}: {d} visible again")


# ------------------------------------------------------------ cases
def bridge_case(a, b, guest, bridge):
    with bridge_gone(b, bridge):
        rc, out = relocctl(a, b, "check", guest)
    expect_refused(out, rc, [f"bridge {bridge} does not exist here"])
    still_home(a, b, guest)


def disk_case(a, b, guest, disk):
    with disk_gone(b, disk):
        rc, out = relocctl(a, b, "check", guest)
    expect_refused(out, rc, [f"disk {disk} does not exist here"])
    still_home(a, b, guest)


def both_case(a, b, guest, bridge, disk):
    with bridge_gone(b, bridge), disk_gone(b, disk):
        rc, out = relocctl(a, b, "check", guest)
    expect_refused(out, rc, [f"bridge {bridge} does not exist here",
                             f"disk {disk} does not exist here"])
    still_home(a, b, guest)


def pinned_case(a, b, gtype):
    """A guest with disable_migrate: refused by A for check and migrate,
    before B is asked anything."""
    cfg = (f'name = "{PINNED}"\\ntype = "{gtype}"\\n'
           f'kernel = "/guest/vmlinuz"\\nramdisk = "/guest/guest.cpio.gz"\\n'
           f'extra = "console=hvc0 quiet hbname={PINNED} hbms=1000"\\n'
           f'memory = 96\\nvcpus = 1\\nnomigrate = 1\\n')
    if gtype == "hvm":
        cfg += 'vga = "none"\\nvnc = 0\\nsdl = 0\\n'
    path = f"/tmp/{PINNED}.cfg"
    rc, out = sh(a, f"printf '{cfg}' > {path} && xl create {path}", 180)
    if rc != 0:
        raise CaseError(f"xl create {path} on {a.name} exited {rc}: "
                        f"{out[-400:]}")
    # B's log may name the guest from an earlier run: count what is new.
    _, before = sh(b, f"{log_cat(b)} | grep -c {PINNED}")
    try:
        for what in ("check", "migrate --live"):
            rc, out = relocctl(a, b, what, PINNED)
            expect_refused(out, rc, [f"{PINNED}'s config sets "
                                     f"nomigrate"])
        still_home(a, b, PINNED)
        _, told = sh(b, f"{log_cat(b)} | grep -c {PINNED}")
        new = int(told.strip() or 0) - int(before.strip() or 0)
        if new != 0:
            raise CaseError(f"{b.name}'s relocd heard of {PINNED} "
                            f"({new} new log lines)")
    finally:
        sh(a, f"xl destroy {PINNED}", 120)


def run(a, b, guest, bridge=None, disk=None, gtype="pvh"):
    """Every case; a list of (name, ok, detail).  bridge and disk default
    to the guest's first of each, from its config on A."""
    results = []

    def case(name, fn, *args):
        t0 = time.monotonic()
        try:
            fn(*args)
            results.append((f"{name} ({time.monotonic() - t0:.0f}s)", True,
                            ""))
            log(f"{name}: ok")
        except (CaseError, VMError) as e:
            results.append((f"{name} ({time.monotonic() - t0:.0f}s)", False,
                            str(e).splitlines()[0] if str(e) else repr(e)))
            log(f"{name}: FAILED: {e}")

    try:
        bridges, disks = devices(a, guest)
    except (CaseError, VMError) as e:
        return [("pre-flight cases: the guest's devices", False, str(e))]
    bridge = bridge or (bridges[0] if bridges else None)
    disk = disk or (disks[0] if disks else None)
    if bridge is None or disk is None:
        return [("pre-flight cases", False,
                 f"{guest} has no vif bridge or no disk path "
                 f"(bridges {bridges}, disks {disks})")]
    case(f"pre-flight: bridge {bridge} gone on {b.name}, check names it",
         bridge_case, a, b, guest, bridge)
    case(f"pre-flight: disk {disk} invisible on {b.name}, check names it",
         disk_case, a, b, guest, disk)
    case("pre-flight: bridge and disk both gone, both listed",
         both_case, a, b, guest, bridge, disk)
    case("pre-flight: disable_migrate refused by check and migrate on "
         f"{a.name}, nothing touched", pinned_case, a, b, gtype)
    return results
