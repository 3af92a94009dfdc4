# SPDX-License-Identifier: ISC
"""--devices (XEN_DEVICES=1, systemd dom0 only): guests with a network
and shared storage, as the RHEL 5 guide sets them up (issue 17).

 * Network: on each host a bridge xenbr0 carries dom0's link on the wire
   between the hosts (dom0's address moves from eth0 to xenbr0).  Every
   guest has vif = ['bridge=xenbr0,mac=...'] and an address on the same
   /24 (10.99.0.11 pvh, .12 pv, .13 hvm), which both dom0s reach.
 * Storage: each guest's raw image is /srv/xen/GUEST.img on A, exported
   over NFS (v4.2, sync) to B, which mounts it at the same path; xl picks
   its default backend for a raw image (the leg line names it).  The
   image carries an ext4 file system, made on A when the guest is
   created.
 * The guest (heartbeat.c, hbwork.c) echoes TCP and UDP on port 7, mounts
   its disk and appends a record every 20 ms to /hb.log on it, each made
   durable (fdatasync) before the next; each UDP reply carries the number
   of records made durable so far and of failed writes.  XEN_DIRTY=
   MIBPS,MIB in the environment also has it dirty memory.
 * hbclient runs in A for the whole session (a transient unit,
   hbclient-GUEST): one TCP connection, never reopened, and a UDP ping
   every 10 ms.

Each leg then proves, untimed, after the harness's own checks: the same
TCP connection still echoes; the longest UDP gap (the network's downtime,
beside the heartbeat's and relocd's suspend-to-unpause); the guest has
made records durable on the destination and no write of it failed (its
own figures, over UDP: dom0 must not read a file system the guest has
mounted); the guest's vif is on xenbr0 on the destination; the source
holds no vif, backend, loop device, QEMU or xl process of it.  At the end
of the run each guest is shut down (xl shutdown: its poweroff unmounts
the disk), and each image must be unmounted cleanly, pass fsck.ext4 -fn,
and hold a continuous log (hbclient check of the file copied out with
debugfs: none lost, duplicated or out of order).
"""

import os
import re
import time

from scenarios import MigrationError
from xenvm import VMError

SUBNET = "10.99.0"
ADDR = {"pvh": 11, "pv": 12, "hvm": 13}
DIR = "/srv/xen"
PORT = 7
IMAGE_MIB = 256             # 512-byte records every 20 ms: 2.9 hours
CLIENT_UP_S = 600           # hbclient's first connection (HVM boots slowly)
TCP_BACK_S = 60             # after a leg, for TCP's retransmission backoff
DISK_GROW_S = 60            # after a leg, for the first durable record
SHUTDOWN_S = 150            # xl shutdown -w at the end (poweroff waits 30)
DETACH_S = 30               # then for the block script's losetup -d
DIRTY = os.environ.get("XEN_DIRTY", "")

GUESTS = {}                 # guest name -> gtype, those created here


def ip_of(gtype):
    return f"{SUBNET}.{ADDR[gtype]}"


def image(guest):
    return f"{DIR}/{guest}.img"


def _out(guest):
    return f"/run/hbclient-{guest}.out"


# ------------------------------------------------------------ hosts
def setup_hosts(a, b):
    """The bridge on both hosts, then A's NFS export and B's mount."""
    for vm in (a, b):
        # The units that run hotplug scripts may not load modules.
        vm.run("modprobe -a bridge xen-netback xen-blkback loop tun nfsv4",
               120)
        # The bridge takes eth0's address, as xend's network-bridge did:
        # left to udev's MACAddressPolicy=persistent it would derive one
        # from the machine id and the name.
        vm.run(f"ip link add xenbr0 address "
               f"$(cat /sys/class/net/eth0/address) type bridge "
               f"forward_delay 0 stp_state 0"
               f" && ip link set xenbr0 up && ip addr flush dev eth0 && "
               f"ip link set eth0 master xenbr0 && "
               f"ip addr add {vm.ip}/24 dev xenbr0", 60)
    # A fresh NFSv4 server refuses new opens for its grace period (90 s
    # by default): shorten it, and sit it out here with a probe write
    # from B, not in the first migration's hotplug script.
    # No NFSv4 delegations: with one, a local open on the server (the
    # block script's losetup when a guest moves onto A) waits until B
    # returns it, up to fs.lease-break-time (45 s).  The first devices
    # run saw PV legs onto A pause 43-50 s and suspected this; with
    # delegations off such pauses still happened (37 s, PV B->A, in a
    # run under heavy load), so this removes one known wait, not the
    # cause: each leg now prints how long the hotplug scripts took.
    # nfsd grants no delegation while leases are off.
    a.run("sysctl -w fs.leases-enable=0", 30)
    a.run(f"modprobe nfsd && mkdir -p {DIR} && echo '{DIR} {SUBNET}.0/24"
          f"(rw,sync,no_root_squash,no_subtree_check)' > /etc/exports && "
          f"printf '[nfsd]\\ngrace-time=15\\n' >> /etc/nfs.conf && "
          f"systemctl start nfs-server && exportfs -v", 300)
    b.run(f"mkdir -p {DIR} && mount -t nfs -o vers=4.2 {a.ip}:{DIR} {DIR}"
          f" && grep ' {DIR} nfs' /proc/mounts && dd if=/dev/zero "
          f"of={DIR}/.probe-B bs=512 count=1 conv=fsync 2>&1 && "
          f"rm {DIR}/.probe-B", 300)
    a.run(f"ping -c 2 -W 10 {b.ip} >/dev/null", 60)


def mkguest_args(a, guest, gtype):
    """Make the guest's empty image on A; mkguest's extra arguments."""
    # No lazy init: the guest's kernel would otherwise write the inode
    # tables in the background, across the migrations.
    a.run(f"rm -f {image(guest)} && truncate -s {IMAGE_MIB}M "
          f"{image(guest)} && mkfs.ext4 -q -F -E lazy_itable_init=0,"
          f"lazy_journal_init=0 {image(guest)}", 120)
    GUESTS[guest] = gtype
    mac = f"00:16:3e:99:00:{ADDR[gtype]:02x}"
    return f" {ip_of(gtype)} {mac} {image(guest)}" + (
        f" {DIRTY}" if DIRTY else "")


def start_client(a, guest, gtype):
    """hbclient in A for the guest's life; wait for its connection."""
    unit = f"hbclient-{guest}"
    a.run(f"systemctl stop {unit} 2>/dev/null; rm -f {_out(guest)}; "
          f"systemd-run --quiet --collect --unit {unit} "
          f"/usr/local/sbin/hbclient run {ip_of(gtype)} {PORT} "
          f"{_out(guest)}", 60)
    end = time.monotonic() + CLIENT_UP_S
    while time.monotonic() < end:
        _, out = a.run(f"cat {_out(guest)} 2>/dev/null; systemctl "
                       f"is-active {unit}", 30, check=False)
        if re.search(r"^W 0 ", out, re.M):
            return
        if "E cannot" in out or out.split()[-1:] not in (["active"],
                                                         ["activating"]):
            break
        time.sleep(2)
    _, con = a.run(f"grep -a HBW /var/log/xen/console/guest-{guest}*.log "
                   f"| tail -n 10", 30, check=False)
    raise MigrationError(f"hbclient did not reach {guest} at "
                         f"{ip_of(gtype)}:\n{out}\nguest: {con}")


# ------------------------------------------------------------ legs
def _window(a, guest):
    """Close hbclient's window: its line as a dict."""
    out = _out(guest)
    _, text = a.run(
        f"n=$(wc -l < {out}); kill -USR1 $(cat {out}.pid) || exit 1; "
        f"i=0; while [ $(wc -l < {out}) -le $n ] && [ $i -lt 50 ]; do "
        f"sleep 0.1; i=$((i+1)); done; tail -n 1 {out}", 30, check=False)
    w = text.strip().splitlines()[-1].split() if text.strip() else []
    if len(w) < 20 or w[0] != "W":
        raise MigrationError(f"hbclient for {guest} gave no window: {text}")
    d = dict(zip(w[2::2], w[3::2]))
    return {"recv": int(d["recv"]), "maxgap": int(d["maxgap_ms"]),
            "tcp": d["tcp"], "age": int(d["tcp_age_ms"]),
            "lport": d["lport"], "disk": int(d["disk"]),
            "disk_err": int(d["disk_err"])}


def _domid(vm, guest):
    rc, out = vm.run(f"xl domid {guest}", 30, check=False)
    return int(out.strip()) if rc == 0 and out.strip().isdigit() else None


def leg_begin(ctx):
    """Before the timed window: close the client's window (the leg's
    starts now; it says how many records the guest has made durable),
    note the guest's domid on the source."""
    a = _a(ctx)
    state = {"w0": _window(a, ctx.guest), "src_id": _domid(ctx.src,
                                                           ctx.guest)}
    state["records0"] = state["w0"]["disk"]
    try:
        _, now = ctx.dst.run("date +%s", 30, check=False)
    except VMError:
        now = ""                # the hotplug times go unmeasured
    state["dst_t0"] = now.strip() if now.strip().isdigit() else None
    _, xl = ctx.src.run("pgrep -x xl | wc -l", 30, check=False)
    state["xl0"] = int(xl.strip() or 0)
    return state


def _a(ctx):
    return ctx.src if ctx.src.name == "A" else ctx.dst


def leg_end(ctx, state, res):
    """After the harness's checks: the devices' verdict for this leg, as
    a phrase for the leg's line; fields added to res."""
    a = _a(ctx)
    guest = ctx.guest
    # The leg's longest UDP gap, over as many windows as TCP needs to
    # come back (its retransmission timer backs off while the guest is
    # suspended); a gap spanning windows is counted whole in the later.
    gap, end = 0, time.monotonic() + TCP_BACK_S
    while True:
        w = _window(a, guest)
        gap = max(gap, w["maxgap"])
        if w["tcp"] != "ok":
            raise MigrationError(f"tcp: the connection to {guest} broke "
                                 f"(hbclient never reconnects)")
        if w["age"] < 1000 and w["recv"] > 0:
            break
        if time.monotonic() > end:
            raise MigrationError(f"tcp/udp: {guest} answers no echo "
                                 f"{TCP_BACK_S}s after the migration "
                                 f"(last tcp echo {w['age']} ms ago, "
                                 f"{w['recv']} udp echoes)")
        time.sleep(1)
    if w["lport"] != state["w0"]["lport"]:
        raise MigrationError("tcp: hbclient's connection changed")
    res["udp_gap"] = gap / 1000.0
    n = _disk_grows(a, guest, w)
    res["disk_err"] = 0
    # The destination: the vif on xenbr0, and the disk's backend.
    dst_id = _domid(ctx.dst, guest)
    _, br = ctx.dst.run(f"basename $(readlink /sys/class/net/vif{dst_id}.0"
                        f"/master) 2>&1", 30, check=False)
    if br.strip() != "xenbr0":
        raise MigrationError(f"xenbr0: vif{dst_id}.0 of {guest} on "
                             f"{ctx.dst.name} is on {br.strip()!r}")
    _, be = ctx.dst.run(
        f"for k in vbd qdisk; do xenstore-exists /local/domain/0/backend/"
        f"$k/{dst_id} 2>/dev/null && echo $k; done; "
        f"losetup -j {image(guest)}", 30,
        check=False)
    backend = " ".join(be.split()[:1]) or "?"
    loop = re.findall(r"(/dev/loop\d+)", be)
    # The source: nothing of the guest left.
    left = _source_leftovers(ctx, state)
    if left:
        raise MigrationError(f"the source {ctx.src.name} keeps {guest}'s "
                             f"{', '.join(left)}")
    relocd = res.get("relocd_ms")
    hotplug = _hotplug_times(ctx.dst, state.get("dst_t0"), dst_id)
    return (f"xenbr0 vif{dst_id}.0 on {ctx.dst.name}; "
            f"hotplug on {ctx.dst.name}: {hotplug}; tcp kept (port "
            f"{w['lport']}); udp gap {gap} ms (heartbeat "
            f"{res['downtime'] * 1000:.0f} ms"
            + (f", relocd {relocd} ms" if relocd is not None else "")
            + f"); disk {n} records durable (+{n - state['records0']} "
            f"over the leg, +{n - w['disk']} after it), 0 write errors, "
            f"backend {backend}"
            + (f" on {loop[0]}" if loop else "")
            + f"; source {ctx.src.name} clean (no vif, backend, loop, "
            f"qemu, xl)")


def _hotplug_times(vm, since, domid):
    """How long the destination's hotplug scripts took for the guest's
    devices, from the journal: each script's first line for the domain
    to its "hotplug-status connected".  They run inside the pause (libxl
    unpauses the guest once they are done), so a long pause shows here
    or not.  A diagnostic only: it never fails the leg."""
    if since is None or domid is None:
        return "not measured"
    try:
        _, out = vm.run(f"journalctl -q --no-pager -o short-unix "
                        f"--since=@{since} | grep -F /etc/xen/scripts/ | "
                        f"grep -E '/{domid}(/|$| )'", 60, check=False)
    except VMError as e:
        return f"not measured ({e})"
    spans = {}
    for line in out.splitlines():
        m = re.match(r"(\d+\.\d+) .*?/etc/xen/scripts/([\w-]+): (.*)",
                     line)
        if not m:
            continue
        t, script, msg = float(m.group(1)), m.group(2), m.group(3)
        first, done = spans.get(script, (t, None))
        if "hotplug-status connected" in msg and done is None:
            done = t
        spans[script] = (first, done)
    if not spans:
        return "no script lines in the journal"
    return ", ".join(f"{k} {d - f:.1f}s" if d is not None else
                     f"{k} not connected" for k, (f, d) in
                     sorted(spans.items()))


def _disk_grows(a, guest, w):
    """The guest's own disk figures, from the window w closed after the
    migration on: it makes records durable on the destination (windows
    until one says more than w), and none of its writes failed.  The
    log's continuity is checked once the guest has shut down (finish):
    its ext4 is mounted until then."""
    end = time.monotonic() + DISK_GROW_S
    w2 = w
    while True:
        if w2["disk_err"] != 0:
            raise MigrationError(f"disk: {guest} says {w2['disk_err']} "
                                 f"write(s) to its disk failed (its "
                                 f"console has the HBW lines)")
        if w2["disk"] > w["disk"]:
            return w2["disk"]
        if time.monotonic() > end:
            raise MigrationError(f"disk: {guest} made no record durable "
                                 f"within {DISK_GROW_S}s after the "
                                 f"migration (still {w2['disk']})")
        time.sleep(1)
        w2 = _window(a, guest)


def _source_leftovers(ctx, state):
    i, guest, left = state["src_id"], ctx.guest, []
    if i is None:
        return ["no domid before the migration"]
    checks = (
        ("vif", f"ls -d /sys/class/net/vif{i}.* 2>/dev/null"),
        ("backend", f"for k in vif vbd qdisk; do xenstore-exists "
                    f"/local/domain/0/backend/$k/{i} 2>/dev/null && "
                    f"echo $k; done"),
        ("loop device", f"losetup -j {image(guest)} 2>/dev/null"),
        ("qemu", f"pgrep -af -- '-xen-domi[d] {i}( |$)'"),
        ("xl process", f"pgrep -af '^xl .*[ /]{guest}(\\.cfg)?( |$)'"),
    )
    for what, cmd in checks:
        _, out = ctx.src.run(cmd, 30, check=False)
        if out.strip():
            left.append(f"{what}: {out.strip()[:200]}")
    _, xl = ctx.src.run("pgrep -x xl | wc -l", 30, check=False)
    if int(xl.strip() or 0) > state["xl0"]:
        left.append(f"xl processes: {state['xl0']} before, {xl.strip()} "
                    f"after")
    return left


def diag(*vms):
    """What the hotplug scripts and relocd said, for a failed leg."""
    out = []
    for vm in vms:
        _, text = vm.run("tail -n 12 /var/log/xen/xen-hotplug.log "
                         "2>/dev/null; journalctl -b --no-pager -q -n 200 "
                         "| grep -iE 'hotplug|script|block|vif|loop|"
                         "libxl' | tail -n 15", 60, check=False)
        out.append(f"--- {vm.name}: xen-hotplug.log and journal:\n{text}")
    return "\n".join(out)


# ------------------------------------------------------------ the end
def _shut_down(a, b, guest):
    """xl shutdown -w of the guest wherever it runs (its poweroff stops
    the disk log and unmounts), destroyed if that fails; a case tuple, or
    None if it was already gone (the systemctl cases shut it down)."""
    for vm in (a, b):
        if _domid(vm, guest) is None:
            continue
        rc, out = vm.run(f"timeout {SHUTDOWN_S} xl shutdown -w {guest}",
                         SHUTDOWN_S + 30, check=False)
        ok = rc == 0 and _domid(vm, guest) is None
        if not ok:
            vm.run(f"xl destroy {guest}", 60, check=False)
        _, con = vm.run(f"grep -a 'HBW {guest} \\(disk\\|stop\\)' "
                        f"/var/log/xen/console/guest-{guest}*.log | "
                        f"tail -n 3", 30, check=False)
        # The block script's losetup -d, so that nothing holds the image.
        vm.run(f"i=0; while [ -n \"$(losetup -j {image(guest)})\" ] && "
               f"[ $i -lt {DETACH_S} ]; do sleep 1; i=$((i+1)); done",
               DETACH_S + 30, check=False)
        return (f"disk: {guest} powered off by xl shutdown -w on "
                f"{vm.name}", ok, f"exit {rc}: {out.strip()[:200]}; "
                f"console: {con.strip()[:400]}")
    return None


def finish(a, b):
    """After the run: each guest shut down (if the systemctl cases have
    not), then its image checked on A by hbfscheck (unmounted cleanly,
    fsck.ext4 -fn clean, the log copied out continuous), and whether its
    TCP connection lasted; case tuples (name, ok, why)."""
    cases = []
    for guest in GUESTS:
        _, out = a.run(f"tail -n 1 {_out(guest)}; systemctl stop "
                       f"hbclient-{guest}", 30, check=False)
        tcp = (f"tcp: {guest}'s one connection lasted the session",
               " tcp ok " in out, out.strip()[:300])
        down = _shut_down(a, b, guest)
        if down:
            cases.append(down)
        rc, text = a.run(f"hbfscheck {image(guest)} /run/hb-{guest}.log",
                         300, check=False)
        last = text.strip().splitlines()[-1:] or ["(no output)"]
        cases.append((f"disk: {guest}'s image clean and its whole record "
                      f"log continuous at the end ({' '.join(last)})",
                      rc == 0, text.strip()[-600:]))
        cases.append(tcp)
    return cases
