# SPDX-License-Identifier: ISC
"""The benchmark's plumbing: relocd instances on the sim backend (on
loopback, or each in its own network namespace joined by a shaped veth
pair), migrations through relocctl --json, an iperf3 ceiling, a sampler
of the daemons' children's memory, and cleanup that always runs.

Every wait here is bounded in count and in time, and every process and
namespace made here is undone by Bench.close(), which bench.py runs from
a finally clause and on SIGINT/SIGTERM.
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time

MIB = 1024 * 1024
GIB = 1024 * MIB

# Upper bounds on waits; a migration of 8 GiB at 100 MiB/s takes 80 s.
START_TIMEOUT = 10
MIGRATE_TIMEOUT = 900
CTL_TIMEOUT = 300


class BenchError(Exception):
    pass


def run(argv, timeout=CTL_TIMEOUT, check=True, **kw):
    """Runs argv to completion (bounded); stdout and stderr as text."""
    r = subprocess.run(argv, capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise BenchError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                               (r.stderr or r.stdout).strip()))
    return r


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def machine():
    """nproc, CPU model, RAM and kernel, for the results' header."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        ram = int(f.readline().split()[1]) * 1024
    return {"nproc": os.cpu_count(), "cpu": model,
            "ram_gib": ram / GIB, "kernel": os.uname().release}


def proc_status(pid):
    """A few fields of /proc/PID/status in KiB; None once it is gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile",
                         "RssShmem"):
                    out[k] = int(v.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return out


def proc_children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


class Link:
    """Two network namespaces joined by a veth pair, each end's egress
    shaped with tbf to the given rate (netem is not in every kernel,
    and tbf alone is what a rate needs)."""

    def __init__(self, tag, rate="1gbit", subnet="10.213.%d"):
        self.ns = ["rb%s-a" % tag, "rb%s-b" % tag]
        self.dev = ["rb%sa" % tag, "rb%sb" % tag]
        self.addr = [subnet % 0 + ".1", subnet % 0 + ".2"]
        self.rate = rate
        self.up = False

    def setup(self):
        self.up = True
        for ns in self.ns:
            run(["ip", "netns", "add", ns])
        run(["ip", "link", "add", self.dev[0], "type", "veth", "peer",
             "name", self.dev[1]])
        for ns, dev, addr in zip(self.ns, self.dev, self.addr):
            run(["ip", "link", "set", dev, "netns", ns])
            run(["ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            # burst must hold a tick's worth at the rate (1 Gbit/s at
            # HZ=250 is 500 kB); latency bounds the queue.
            run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev,
                 "root", "tbf", "rate", self.rate, "burst", "512kb",
                 "latency", "20ms"])
        return self

    def describe(self):
        r = run(["ip", "netns", "exec", self.ns[0], "tc", "qdisc", "show",
                 "dev", self.dev[0]])
        return r.stdout.strip()

    def teardown(self):
        if not self.up:
            return
        for ns in self.ns:
            run(["ip", "netns", "del", ns], check=False, timeout=20)
        # The veth pair goes with its namespaces; this is for a half-done
        # setup that left it in ours.
        run(["ip", "link", "del", self.dev[0]], check=False, timeout=20)
        self.up = False


class Host:
    """One relocd -d -v on the sim backend, optionally in a namespace."""

    def __init__(self, bench, name, addr="127.0.0.1", ns=None, extra=()):
        self.bench = bench
        self.name = name
        self.addr = addr
        self.ns = ns
        self.port = bench.free_port()
        self.dir = os.path.join(bench.work, name)
        self.sim = os.path.join(bench.shm, name)
        self.conf = os.path.join(self.dir, "xend-config.sxp")
        self.log = os.path.join(self.dir, "log")
        self.extra = list(extra)
        self.proc = None
        self.logf = None

    def write_conf(self):
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(self.sim, exist_ok=True)
        os.makedirs(self.dir + "/state", mode=0o700, exist_ok=True)
        pki = self.bench.pki
        lines = [
            "(xend-relocation-server yes)",
            "(xend-relocation-port %d)" % self.port,
            "(xend-relocation-address %s)" % self.addr,
            "(xend-relocation-server-ssl-key-file %s/%s.key)" % (pki,
                                                                  self.name),
            "(xend-relocation-server-ssl-cert-file %s/%s.pem)" % (pki,
                                                                   self.name),
            "(relocd-ca-file %s/ca.pem)" % pki,
            "(relocd-control-socket %s/relocd.sock)" % self.dir,
            "(relocd-chroot %s/empty)" % self.dir,
            "(relocd-sim-dir %s)" % self.sim,
            "(relocd-state-dir %s/state)" % self.dir,
            "(relocd-backend sim)",
        ] + self.extra
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        self.bench.make_cert(self.name, self.addr)
        self.write_conf()
        argv = [self.bench.relocd, "-d", "-v", "-f", self.conf]
        if self.ns:
            argv = ["ip", "netns", "exec", self.ns] + argv
        self.logf = open(self.log, "w")
        # ip netns exec execs relocd in place: the pid is the daemon's.
        self.proc = subprocess.Popen(argv, stdout=self.logf,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.bench.hosts.append(self)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if os.path.exists(os.path.join(self.dir, "relocd.sock")) and \
                    "relocd started" in self.read_log():
                return self
            time.sleep(0.05)
        raise BenchError("relocd %s did not start:\n%s" %
                         (self.name, self.read_log()[-2000:]))

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None
        # Sim guests exit once their directory is gone.
        shutil.rmtree(self.sim, ignore_errors=True)

    @property
    def pid(self):
        return self.proc.pid

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except FileNotFoundError:
            return 0

    def target(self):
        return "%s:%d" % (self.addr, self.port)

    def ctl(self, *args, timeout=CTL_TIMEOUT, check=True):
        return run([self.bench.relocctl, "-f", self.conf] + list(args),
                   timeout=timeout, check=check)

    def sim_create(self, guest, memory, rate=0, ws=None, pattern="hot",
                   content=()):
        """content: sim-create's options for what the memory holds
        (--zero-percent, --compressible-percent)."""
        args = ["sim-create", "--memory", str(memory), "--vcpus", "1",
                "--dirty-rate", str(rate), "--pattern", pattern]
        if ws:
            args += ["--working-set", str(ws)]
        self.ctl(*(args + list(content) + [guest]))

    def sim_destroy(self, guest):
        self.ctl("sim-destroy", guest, check=False)

    def guest_state(self, guest):
        r = self.ctl("list", check=False)
        for line in r.stdout.splitlines():
            f = line.split()
            if f and f[0] == guest:
                return f[4]
        return "absent"

    def migrate_cmd(self, guest, dst, opts=(), live=True):
        return [self.bench.relocctl, "-f", self.conf, "migrate"] + (
            ["--live"] if live else []) + ["--json"] + list(opts) + [
                guest, dst.target()]


def parse_migrate(out, rc, wall):
    """relocctl migrate --json's output: the result, the progress seen."""
    result, progress = None, []
    for line in out.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if obj.get("type") == "progress":
            progress.append(obj)
        elif obj.get("type") == "result":
            result = obj
    if result is None:
        result = {"ok": False, "text": "no result (exit %d)" % rc}
    # relocctl(8): ok is a JSON boolean (null if relocd sent neither).
    result["ok"] = result.get("ok") is True
    result["exit"] = rc
    result["wall_s"] = wall
    result["progress"] = progress
    return result


class Migration:
    """One relocctl migrate --json running in the background."""

    def __init__(self, src, guest, dst, opts=(), live=True):
        self.argv = src.migrate_cmd(guest, dst, opts, live)
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def wait(self, timeout=MIGRATE_TIMEOUT):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate(timeout=10)
        r = parse_migrate(out, self.proc.returncode,
                          time.monotonic() - self.t0)
        r["stderr"] = err.strip()
        return r


class RssSampler(threading.Thread):
    """Every 50 ms, the memory of each daemon's children (network
    children and workers; sim guests are the hypervisor, not relocd).
    Peaks of VmHWM are exact; the private part (RssAnon + RssFile, i.e.
    without the guest memory a sim worker maps, which is shmem) is a
    sampled peak."""

    PERIOD = 0.05

    def __init__(self, hosts, limit_s=MIGRATE_TIMEOUT):
        super().__init__(daemon=True)
        self.hosts = hosts
        self.limit = limit_s
        self.stop_ev = threading.Event()
        self.peaks = {}         # pid -> dict(host, role, hwm, private)

    def run(self):
        deadline = time.monotonic() + self.limit
        while not self.stop_ev.is_set() and time.monotonic() < deadline:
            for h in self.hosts:
                for pid in proc_children(h.pid):
                    self.sample(h, pid)
            self.stop_ev.wait(self.PERIOD)

    def sample(self, host, pid):
        cmd = proc_cmdline(pid)
        if not cmd or not cmd[0] or cmd[0].startswith(b"sim:"):
            return
        st = proc_status(pid)
        if st is None or "VmHWM" not in st:
            return
        role = "worker" if b"-W" in cmd else "net"
        p = self.peaks.setdefault(pid, {"host": host.name, "role": role,
                                        "hwm": 0, "private": 0})
        p["hwm"] = max(p["hwm"], st["VmHWM"])
        p["private"] = max(p["private"], st.get("RssAnon", 0) +
                           st.get("RssFile", 0))

    def stop(self):
        self.stop_ev.set()
        self.join(timeout=5)
        return self.peaks


RUSAGE_RE = re.compile(r"(worker|network child) (\d+) exited: job (\S+), "
                       r"peak rss (\d+) KiB, cpu ([\d.]+) s user, "
                       r"([\d.]+) s system")


def logged_rusage(host, since):
    """What relocd -v logged of each child that exited after offset
    since: [dict(role, pid, job, maxrss KiB, cpu s)]."""
    out = []
    with open(host.log, errors="replace") as f:
        f.seek(since)
        for m in RUSAGE_RE.finditer(f.read()):
            out.append({"role": "worker" if m.group(1) == "worker" else "net",
                        "pid": int(m.group(2)), "job": m.group(3),
                        "maxrss": int(m.group(4)),
                        "cpu": float(m.group(5)) + float(m.group(6))})
    return out


def job_rusage(ends, job, want=4, timeout=5.0):
    """{(side, role): logged figures} of one migration's children, from
    ends = [(side, host, log offset before it started)].  A child may be
    reaped just after relocctl has its result: wait (bounded) for want
    entries."""
    deadline = time.monotonic() + timeout
    while True:
        out = {}
        for side, host, since in ends:
            for f in logged_rusage(host, since):
                if f["job"] == job:
                    out[(side, f["role"])] = f
        if len(out) >= want or time.monotonic() >= deadline:
            return out
        time.sleep(0.1)


class Bench:
    """Owns the temporary directories, the PKI, hosts and links."""

    def __init__(self, build):
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.top = top
        self.relocd = os.path.join(top, build, "relocd")
        self.relocctl = os.path.join(top, build, "relocctl")
        self.pkitool = os.path.join(top, "scripts", "relocd-pki")
        for p in (self.relocd, self.relocctl):
            if not os.access(p, os.X_OK):
                raise BenchError("%s not built (make)" % p)
        self.work = tempfile.mkdtemp(prefix="relocd-bench.", dir="/tmp")
        os.chmod(self.work, 0o755)
        self.shm = tempfile.mkdtemp(prefix="relocd-bench.", dir="/dev/shm")
        self.pki = os.path.join(self.work, "pki")
        self.hosts = []
        self.links = []
        self.certs = set()
        self.ports = set()
        self.iperf = []
        run([self.pkitool, "init", "-d", self.pki])
        self.ensure_user()

    @staticmethod
    def ensure_user():
        # As root, relocd's network children run as the user relocd.
        if os.getuid() != 0:
            return
        if run(["getent", "passwd", "relocd"], check=False).returncode != 0:
            run(["useradd", "--system", "--no-create-home", "--shell",
                 "/usr/sbin/nologin", "relocd"])

    def make_cert(self, name, addr):
        if name in self.certs:
            return
        run([self.pkitool, "host", "-d", self.pki, name, addr, "127.0.0.1"])
        self.certs.add(name)

    def free_port(self):
        """A port no listener on loopback uses; bounded tries."""
        import random
        for _ in range(100):
            port = random.randint(20000, 39999)
            if port in self.ports:
                continue
            r = run(["ss", "-Htln", "sport = :%d" % port], check=False)
            if not r.stdout.strip():
                self.ports.add(port)
                return port
        raise BenchError("no free port")

    def host(self, name, **kw):
        return Host(self, name, **kw).start()

    def link(self, tag, rate="1gbit"):
        ln = Link(tag, rate)
        self.links.append(ln)
        return ln.setup()

    def iperf3(self, server_ns=None, client_ns=None, addr="127.0.0.1",
               seconds=5):
        """Single-stream TCP throughput in bytes/s (iperf3, bounded)."""
        port = self.free_port()
        pre = lambda ns: ["ip", "netns", "exec", ns] if ns else []
        srv = subprocess.Popen(pre(server_ns) + ["iperf3", "-s", "-1", "-p",
                                                 str(port)],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        self.iperf.append(srv)
        try:
            r = None
            for _ in range(50):         # the server needs a moment
                time.sleep(0.1)
                r = run(pre(client_ns) + ["iperf3", "-c", addr, "-p",
                                          str(port), "-t", str(seconds),
                                          "-J"],
                        timeout=seconds + 30, check=False)
                if r.returncode == 0:
                    break
            if r is None or r.returncode != 0:
                raise BenchError("iperf3 failed: %s" % (r and r.stdout[-500:]))
            j = json.loads(r.stdout)
            return j["end"]["sum_received"]["bits_per_second"] / 8
        finally:
            if srv.poll() is None:
                srv.kill()
            srv.wait(timeout=10)

    def stop_hosts(self):
        for h in self.hosts:
            h.stop()
        self.hosts = []

    def close(self):
        self.stop_hosts()
        for p in self.iperf:
            if p.poll() is None:
                p.kill()
        for ln in self.links:
            ln.teardown()
        self.links = []
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.shm, ignore_errors=True)


# --- the results file's figures ------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs, fmt="%.0f"):
    """median (min-max), or the one value, or n/a."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return fmt % xs[0]
    return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(xs),
                                                    min(xs), max(xs))


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def size_str(n):
    """1 GiB, 512 MiB."""
    return "%d GiB" % (n // GIB) if n % GIB == 0 else "%d MiB" % (n // MIB)
