# SPDX-License-Identifier: ISC
"""relocd on both dom0s of a harness session, ready to serve migrations
and xl plugin requests over mutual TLS, with a PKI made for this run.

    from relocd_setup import setup_relocd
    register_transport("relocctl", relocctl_migrate,
                       setup=lambda a, b, run: setup_relocd(a, b, run))

setup_relocd(a, b, rundir) makes a CA and one certificate per dom0 on the
host with scripts/relocd-pki (under the run directory's share/, which
dom0 sees read-only as /host/run), installs each dom0's key, certificate
and CA under /etc/xen/relocd (key mode 600, owned by root, as relocd
demands), writes /etc/xen/xend-config.sxp, adds the relocd user, and
starts `relocd -d` with its log in /var/log/relocd.log.  It returns once
both daemons listen.  Every command is bounded.

On the systemd dom0 (vm.dom0 == "systemd") it does what an administrator
does instead: `apt install ./relocd_*.deb` (the package `make deb` built,
shared as /host/run/deb), `relocd-pki install` of the host's key and
certificate, the same xend-config.sxp, and `systemctl enable --now
relocd`; the relocd user and /run/relocd come from the package.  The log
is then the journal (log_cat(vm)).

Each dom0 allows only the other and itself (hosts-allow on the wire's
addresses, peers-allow on the certificate names A and B).  `extra` is
appended to both configs, e.g. "(relocd-max-downtime 100)".

Also made, for refusal tests: /etc/xen/rogue.sxp on each dom0, the same
config but with a key and certificate for the same name from another CA,
which the pool must refuse (the pool CA still verifies the peer, so the
refusal is the peer's).
"""

import os
import subprocess

from xenvm import VMError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PKI = os.path.join(REPO, "scripts", "relocd-pki")
PORT = 8002
# The xen backend: relocctl migrations need it, and xl plugin requests
# run xl whichever backend relocd has.
DEFAULT_BACKEND = "xen"

CONFIG = """\
(xend-relocation-server yes)
(xend-relocation-port {port})
(xend-relocation-hosts-allow '^10\\\\.99\\\\.0\\\\.[12]$')
(xend-relocation-server-ssl-key-file /etc/xen/relocd/{keyname}.key)
(xend-relocation-server-ssl-cert-file /etc/xen/relocd/{keyname}.pem)
(relocd-ca-file /etc/xen/relocd/ca.pem)
(relocd-peers-allow 'A B')
(relocd-backend {backend})
(relocd-sim-dir /run/relocd/sim)
(relocd-handshake-timeout 60)
(relocd-idle-timeout 300)
{extra}
"""


def make_pki(rundir, vms):
    """A CA and a certificate per dom0 (CN and DNS name the VM's name, IP
    its address), plus a rogue CA with the same names; the host side of
    /host/run/relocd.  Made once per run, reused by every session."""
    d = os.path.join(rundir, "share", "relocd")
    if os.path.exists(os.path.join(d, ".done")):
        return d
    os.makedirs(d, exist_ok=True)
    for ca in (d, os.path.join(d, "rogue")):
        subprocess.run([PKI, "init", "-d", ca, "--force"], check=True,
                       timeout=60, stdout=subprocess.DEVNULL)
        for vm in vms:
            subprocess.run([PKI, "host", "-d", ca, "--force", vm.name, vm.ip],
                           check=True, timeout=60, stdout=subprocess.DEVNULL)
    open(os.path.join(d, ".done"), "w").close()
    return d


def write_configs(d, vm, backend, extra):
    """vm's xend-config.sxp and rogue.sxp, on the host side."""
    for keyname in ("host", "rogue"):
        with open(os.path.join(d, f"{vm.name}-{keyname}.sxp"), "w") as f:
            f.write(CONFIG.format(port=PORT, keyname=keyname,
                                  backend=backend, extra=extra))


def install(vm):
    """Keys, configs and the relocd user in vm's dom0."""
    src = "/host/run/relocd"
    n = vm.name
    # /var/lib/relocd: relocd-state-dir, for migration reports (the
    # unit's StateDirectory= on a systemd dom0; by hand on busybox).
    vm.run("mkdir -p /etc/xen/relocd /run/relocd/empty /run/relocd/sim && "
           "mkdir -p -m 0700 /var/lib/relocd && "
           "chmod 755 /run/relocd /run/relocd/empty && "
           f"cp {src}/ca.pem /etc/xen/relocd/ca.pem && "
           f"cp {src}/{n}.pem /etc/xen/relocd/host.pem && "
           f"cp {src}/{n}.key /etc/xen/relocd/host.key && "
           f"cp {src}/rogue/{n}.pem /etc/xen/relocd/rogue.pem && "
           f"cp {src}/rogue/{n}.key /etc/xen/relocd/rogue.key && "
           "chmod 600 /etc/xen/relocd/*.key && "
           "chown -R root:root /etc/xen/relocd && "
           f"cp {src}/{n}-host.sxp /etc/xen/xend-config.sxp && "
           f"cp {src}/{n}-rogue.sxp /etc/xen/rogue.sxp && "
           # relocd refuses a config group or others could write.
           "chown root:root /etc/xen/xend-config.sxp /etc/xen/rogue.sxp && "
           "chmod 644 /etc/xen/xend-config.sxp /etc/xen/rogue.sxp", 60)
    vm.run("grep -q '^relocd:' /etc/passwd || "
           "echo 'relocd:x:101:65534:relocd:/nonexistent:/bin/false' "
           ">> /etc/passwd", 30)


def install_systemd(vm):
    """The package, certificates and config in a systemd dom0, as an
    administrator installs them; relocd is not started."""
    src = "/host/run/relocd"
    n = vm.name
    vm.run("cp /host/run/deb/relocd_*.deb /root/ && cd /root && "
           "apt install -y -q ./relocd_*.deb "
           ">/tmp/apt-relocd.log 2>&1 || { tail -20 /tmp/apt-relocd.log; "
           "exit 1; }", 300)
    vm.run(f"relocd-pki install -d {src} {n} >/dev/null && "
           "mkdir -p /tmp/rogue && "
           f"relocd-pki install -d {src}/rogue --dest /tmp/rogue {n} "
           ">/dev/null && "
           "install -m 600 /tmp/rogue/host.key /etc/xen/relocd/rogue.key && "
           "install -m 644 /tmp/rogue/host.pem /etc/xen/relocd/rogue.pem && "
           f"install -m 644 {src}/{n}-host.sxp /etc/xen/xend-config.sxp && "
           f"install -m 644 {src}/{n}-rogue.sxp /etc/xen/rogue.sxp", 60)


def start_systemd(vm):
    """systemctl enable --now relocd: Type=notify, so it returns once
    relocd says READY=1 (its listeners are bound)."""
    rc, out = vm.run("systemctl enable --now relocd 2>&1 && "
                     "systemctl is-active relocd", 120, check=False)
    if rc != 0:
        _, st = vm.run("systemctl status --no-pager -n 30 relocd", 60,
                       check=False)
        raise VMError(f"{vm.name}: systemctl enable --now relocd exited "
                      f"{rc}:\n{out[-800:]}\n{st[-2000:]}")


def log_cat(vm):
    """A shell command printing vm's relocd log, oldest line first: the
    file relocd -d writes, or on a systemd dom0 relocd's journal (the
    receive units of relocd-receive@ included, once there are any)."""
    if getattr(vm, "dom0", "busybox") == "systemd":
        return ("journalctl -q --no-pager -o cat -u relocd.service "
                "-u 'relocd-receive@*'")
    return "cat /var/log/relocd.log"


def start(vm):
    """relocd -d in the background; wait until it listens (bounded)."""
    vm.run("setsid relocd -d -v -f /etc/xen/xend-config.sxp "
           "</dev/null >/var/log/relocd.log 2>&1 &", 30)
    vm.run("i=0; until grep -q 'relocd started' /var/log/relocd.log; do "
           "i=$((i+1)); if [ $i -ge 600 ]; then cat /var/log/relocd.log; "
           "exit 1; fi; sleep 0.1; done", 90)


# The pairs of dom0s already set up: every relocd transport of a session
# registers this as its setup, and relocd must start once.
_ready = []


def setup_relocd(a, b, rundir, backend=DEFAULT_BACKEND, extra=""):
    """Certificates, configs and a running relocd on both dom0s (once per
    pair)."""
    if any(a is x and b is y for x, y in _ready):
        return
    _ready.append((a, b))
    d = make_pki(rundir, (a, b))
    for vm in (a, b):
        write_configs(d, vm, backend, extra)
        if getattr(vm, "dom0", "busybox") == "systemd":
            install_systemd(vm)
            start_systemd(vm)
        else:
            install(vm)
            start(vm)


def relocd_log(vm, lines=40):
    """The tail of vm's relocd log, for error messages."""
    _, out = vm.run(f"{log_cat(vm)} | tail -n {lines}", 60, check=False)
    return out
