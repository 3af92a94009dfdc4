# SPDX-License-Identifier: ISC
"""One emulated Xen host: a QEMU process running Xen 4.17 and the busybox
dom0 that build-images made, and the two channels the harness has into it.

 * The serial console (a unix socket, wait=on so no byte is lost) carries
   shell commands to dom0's cmdloop and their output back.  Every command
   has a timeout inside dom0 and a slightly longer one here.
 * A virtio-serial port named "hb" carries the guests' console lines, which
   contap copies out of xenconsoled's logs.  A reader thread stamps each
   line with this host's time.monotonic() as it arrives.  Both VMs are
   stamped by the same clock, so the gap between a guest's last heartbeat
   on the source and its first on the destination is a real, host-measured
   interval, unlike any clock inside the guests (see heartbeat.c).

A VM is always stopped with stop(); QEMU also gets PR_SET_PDEATHSIG, so it
dies with the driver even if the driver is killed with SIGKILL.
"""

import ctypes
import hashlib
import os
import re
import signal
import socket
import subprocess
import threading
import time

# Bytes per serial write.  Xen queues serial input for dom0 in a 128-byte
# ring; we wait for each chunk's echo before sending the next.
CHUNK = 48
PR_SET_PDEATHSIG = 1
XL_CONSOLE_WINDOW_S = 30    # xl console: the guest's heartbeat within this


class VMError(Exception):
    """dom0 or QEMU misbehaved: a timeout, a dead QEMU, a failed command."""


class Heartbeat:
    """One heartbeat line, as received by the host."""
    __slots__ = ("t", "vm", "guest", "boot", "counter", "mono_ms")

    def __init__(self, t, vm, guest, boot, counter, mono_ms):
        self.t, self.vm, self.guest = t, vm, guest
        self.boot, self.counter, self.mono_ms = boot, counter, mono_ms


HB_RX = re.compile(rb"^G \S+ HB (\S+) ([0-9a-f]{8}) (\d+) (\d+) \d+$")


def _die_with_parent():
    # Runs in the child between fork and exec: tie QEMU's life to ours.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_for_path(path, proc, timeout):
    """Wait for QEMU to create a socket file; fail if QEMU dies first."""
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise VMError(f"qemu exited (rc={proc.returncode}) before "
                          f"creating {os.path.basename(path)}")
        if time.monotonic() > end:
            raise VMError(f"qemu did not create {path} in {timeout}s")
        time.sleep(0.05)


def tcp_listening(port):
    """True once something listens on 127.0.0.1:port (from /proc, because
    a probe connection would use up QEMU's single socket-netdev peer)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[1] == want and cols[3] == "0A":
                    return True
    except OSError:
        pass
    return False


class VM:
    def __init__(self, name, img, hypervisor, rundir, ip, netdev, mac,
                 shares=(), mem_mib=1024, dom0_dir=None):
        self.name, self.ip = name, ip
        self.rundir = rundir
        self.serial_path = os.path.join(rundir, f"{name}.serial.sock")
        self.hb_path = os.path.join(rundir, f"{name}.hb.sock")
        self.serial_log = os.path.join(rundir, f"{name}.serial.log")
        self.hb_log = os.path.join(rundir, f"{name}.guests.log")
        self.qemu_log = os.path.join(rundir, f"{name}.qemu.log")
        for p in (self.serial_path, self.hb_path):
            if os.path.exists(p):
                os.unlink(p)
        xen_args = ("console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all "
                    "dom0_mem=512M,max:512M dom0_max_vcpus=1 noreboot")
        k_args = (f"console=hvc0 earlyprintk=xen panic=-1 "
                  f"relocd.name={name} relocd.ip={ip}/24")
        self.cmdline = [
            "qemu-system-x86_64", "-accel", "tcg",
            # -cpu max crashes the PV dom0 under TCG; +svm,+npt gives Xen
            # HAP, which PVH guests need.
            "-cpu", "qemu64,+svm,+npt", "-smp", "1", "-m", str(mem_mib),
            "-nodefaults", "-display", "none", "-vga", "none", "-no-reboot",
            "-chardev", f"socket,id=ser0,path={self.serial_path},server=on,wait=on",
            "-serial", "chardev:ser0",
            "-device", "virtio-serial-pci,id=vs0",
            "-chardev", f"socket,id=hb,path={self.hb_path},server=on,wait=on",
            "-device", "virtserialport,bus=vs0.0,chardev=hb,name=hb",
            "-netdev", f"{netdev},id=n0",
            "-device", f"virtio-net-pci,netdev=n0,mac={mac},romfile=",
            "-kernel", hypervisor, "-append", xen_args,
            "-initrd", f"{img}/vmlinuz {k_args},{img}/dom0.cpio.gz",
        ]
        if dom0_dir:
            # The systemd dom0 (build-dom0-systemd): a small initrd mounts
            # the root file system and starts systemd.  Both VMs boot the
            # one cached image; snapshot=on keeps their writes in QEMU's
            # temporary files.  quiet and show_status=0 keep the kernel
            # and systemd off the console the command channel uses.
            # net.ifnames=0: udev (xen-utils-common needs it) would
            # rename eth0 after its PCI slot.
            # Both boot one image, so each is given its own machine id,
            # as two real hosts have (udev derives bridge MACs from it).
            mid = hashlib.sha256(name.encode()).hexdigest()[:32]
            k_args += (f" systemd.machine_id={mid}")
            k_args += (f" quiet loglevel=1 systemd.show_status=0 "
                       f"systemd.hostname={name} net.ifnames=0")
            self.cmdline[self.cmdline.index("-initrd") + 1] = (
                f"{img}/vmlinuz {k_args},{dom0_dir}/initrd.cpio.gz")
            self.cmdline += ["-drive", f"file={dom0_dir}/root.img,if=virtio,"
                             f"format=raw,snapshot=on"]
        # A share is (tag, path) and read-only, or (tag, path, "rw").
        for tag, path, *mode in shares:
            ro = "off" if mode == ["rw"] else "on"
            self.cmdline += ["-virtfs", f"local,path={path},mount_tag={tag},"
                             f"security_model=none,readonly={ro},id={tag}"]
        self.dom0 = "busybox"
        self.ready_note = ""
        self.dom0_uptime = None
        self.proc = None
        self.sock = None
        self.hbsock = None
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.closed = False
        self.hb = []
        self.seq = 0
        self.t_start = None
        self.threads = []

    # ---------------------------------------------------------- lifecycle
    def start(self):
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(
            self.cmdline, stdin=subprocess.DEVNULL,
            stdout=open(self.qemu_log, "wb"), stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent)
        # QEMU creates the chardevs in order and blocks on each (wait=on)
        # until we connect, so connect them in the same order.
        wait_for_path(self.serial_path, self.proc, 30)
        self.sock = self._connect(self.serial_path)
        wait_for_path(self.hb_path, self.proc, 30)
        self.hbsock = self._connect(self.hb_path)
        for fn in (self._serial_reader, self._hb_reader):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)

    def _connect(self, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        s.settimeout(None)
        return s

    def stop(self):
        """Kill QEMU and reap it; safe to call more than once."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for s in (self.sock, self.hbsock):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ---------------------------------------------------------- readers
    def _serial_reader(self):
        with open(self.serial_log, "ab", buffering=0) as log:
            while True:
                try:
                    d = self.sock.recv(65536)
                except OSError:
                    d = b""
                with self.cond:
                    if not d:
                        self.closed = True
                        self.cond.notify_all()
                        return
                    self.buf += d
                    self.cond.notify_all()
                log.write(d)

    def _hb_reader(self):
        partial = b""
        with open(self.hb_log, "ab", buffering=0) as log:
            while True:
                try:
                    d = self.hbsock.recv(65536)
                except OSError:
                    return
                if not d:
                    return
                # One stamp for everything that arrived together: the host
                # cannot tell those lines apart in time, and must not try.
                t = time.monotonic()
                log.write(f"{t:.3f} ".encode() + d)
                lines = (partial + d).split(b"\n")
                partial = lines.pop()
                for line in lines:
                    m = HB_RX.match(line)
                    if m:
                        self.hb.append(Heartbeat(
                            t, self.name, m.group(1).decode(),
                            m.group(2).decode(), int(m.group(3)),
                            int(m.group(4))))

    # ---------------------------------------------------------- serial
    def expect(self, rx, start, timeout):
        """Wait until rx matches self.buf at or after start; the match."""
        rx = re.compile(rx)
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, start)
                if m:
                    return m
                if self.closed or not self.alive():
                    raise VMError(f"{self.name}: qemu exited "
                                  f"(rc={self.proc.poll()})")
                left = end - time.monotonic()
                if left <= 0:
                    tail = bytes(self.buf[-1500:]).decode(errors="replace")
                    raise VMError(f"{self.name}: no {rx.pattern!r} within "
                                  f"{timeout}s; console tail:\n{tail}")
                self.cond.wait(min(left, 1.0))

    def wait_ready(self, timeout):
        """Wait for dom0's init to report; seconds since QEMU started."""
        m = self.expect(rb"RELOCD-DOM0-(READY|FAIL)([^\r\n]*)\r*\n", 0,
                        timeout)
        rest = m.group(2).decode(errors="replace")
        if m.group(1) == b"FAIL":
            raise VMError(f"{self.name}: dom0 init failed:{rest}")
        # "READY <dom0 uptime> [systemd=<state>]": the systemd dom0 says
        # it once `systemctl is-system-running --wait` has returned.
        words = rest.split()
        self.dom0_uptime = float(words[0]) if words else None
        self.ready_note = (f" (dom0 uptime {words[0]} s"
                           + (f", {words[1]}" if len(words) > 1 else "")
                           + ")") if words else ""
        if len(words) > 1 and words[1] != "systemd=running":
            # A failed unit is the image's bug; name it, but boot on.
            self.ready_note += " " + " ".join(
                re.findall(r"failed unit: (\S+)",
                           bytes(self.buf[:m.start()]).decode(
                               errors="replace")))
        return time.monotonic() - self.t_start

    def _send_line(self, line):
        """Send one line in echoed chunks; return where output starts."""
        with self.cond:
            pos = len(self.buf)
        data = line.encode("ascii")
        for i in range(0, len(data), CHUNK):
            chunk = data[i:i + CHUNK]
            self.sock.sendall(chunk)
            try:
                pos = self.expect(re.escape(chunk), pos, 15).end()
            except VMError:
                if not self.alive():
                    raise
                # The echo got lost or mangled; cmdloop's length check
                # decides whether the line itself survived.
        self.sock.sendall(b"\n")
        return pos

    def run(self, cmd, timeout=60, check=True):
        """Run a shell command in dom0; return (status, output)."""
        if "\n" in cmd or not cmd.isascii():
            raise ValueError("commands are one line of ASCII")
        if not self.alive():
            # Powered off (a case's poweroff), or QEMU died: no console.
            raise VMError(f"{self.name}: qemu is not running "
                          f"(rc={self.proc.poll() if self.proc else None})")
        for _ in range(3):
            self.seq += 1
            seq = self.seq
            pos = self._send_line(f"{seq} {len(cmd)} {int(timeout)} {cmd}")
            m = self.expect(rb"@@(RC|BAD) %d(?: (\d+))?\r*\n" % seq, pos,
                            timeout + 30)
            if m.group(1) == b"RC":
                break
        else:
            raise VMError(f"{self.name}: console kept garbling {cmd!r}")
        rc = int(m.group(2))
        out = bytes(self.buf[pos:m.start()]).decode(errors="replace")
        out = out.replace("\r", "").strip("\n")
        with self.cond:
            # Keep the buffer small; everything is in the serial log.
            if len(self.buf) > (1 << 20):
                del self.buf[:m.end()]
        if check and rc != 0:
            raise VMError(f"{self.name}: `{cmd}` exited {rc}:\n{out[-2000:]}")
        return rc, out

    def xl_console_heartbeats(self, guest, need=2,
                              window=XL_CONSOLE_WINDOW_S):
        """`xl console GUEST` in dom0 until it has shown `need` heartbeat
        lines, or for `window` seconds: (lines seen, what else xl said).

        The window is generous because xl itself can take seconds to
        start in an emulated dom0 under load (seen in CI: nothing at all
        within 10 s while the guest heartbeat on); grep -m ends the
        pipe as soon as `need` lines came, so a healthy guest costs
        about a second.  stdin is a FIFO opened read-write: it never
        reaches end of file (xenconsole would quit) and sends nothing.
        xenconsole takes a lock in /var/lock, which Debian has and the
        busybox dom0 does not."""
        _, out = self.run(
            f"mkdir -p /var/lock; rm -f /tmp/xlc.in; mkfifo /tmp/xlc.in; "
            f"timeout {window} xl console {guest} 0<>/tmp/xlc.in 2>&1 | "
            f"tee /tmp/xlc.out | grep -m {need} -c '^HB '",
            window + 30, check=False)
        lines = out.strip().splitlines()
        n = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        said = ""
        if n < need:
            _, said = self.run("grep -v '^HB ' /tmp/xlc.out | tail -c 300",
                               30, check=False)
        return n, said.strip()

    def console_mark(self):
        """Where the console log ends now, for console_since: the log
        file, not self.buf, which run() trims."""
        try:
            return os.path.getsize(self.serial_log)
        except OSError:
            return 0

    def console_since(self, mark):
        """What the console said after mark, as text."""
        try:
            with open(self.serial_log, "rb") as f:
                f.seek(mark)
                data = f.read()
        except OSError:
            return ""
        return data.decode(errors="replace").replace("\r", "")

    def wait_off(self, timeout, off_rx, mark):
        """After a poweroff inside: wait until QEMU exits, or until the
        console says off_rx after mark (Xen may halt the emulated machine
        rather than power it off), then stop QEMU.  False if neither
        came within timeout seconds."""
        end = time.monotonic() + timeout
        rx = re.compile(off_rx)
        while time.monotonic() < end:
            if not self.alive():
                self.stop()
                return True
            if rx.search(self.console_since(mark).encode()):
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
                self.stop()
                return True
            time.sleep(1)
        return False

    def sync_clock(self):
        """Set dom0's wall clock to the host's, as NTP would in a real
        pool.  Under software emulation a loaded host's VMs lose time at
        different rates (seen: 62 s apart half an hour after boot), and
        relocd's pre-flight rightly refuses hosts whose clocks differ by
        more than a minute.  Whole seconds: busybox's date takes no
        fraction, and relocd warns only from 5 s."""
        self.run(f"date -u -s @{int(time.time())} >/dev/null", 30)

    def net_bytes(self, dev="eth0"):
        """(rx_bytes, tx_bytes) of a dom0 interface."""
        _, out = self.run("cat /proc/net/dev", 30)
        for line in out.splitlines():
            if line.strip().startswith(dev + ":"):
                cols = line.split(":", 1)[1].split()
                return int(cols[0]), int(cols[8])
        raise VMError(f"{self.name}: no {dev} in /proc/net/dev")

    def heartbeats(self, guest, since=0.0):
        return [h for h in list(self.hb) if h.guest == guest and h.t >= since]
