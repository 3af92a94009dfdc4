# SPDX-License-Identifier: ISC
"""The migration transports the harness exercises, and the registry that
holds them.

A transport is one function that moves a running guest from ctx.src to
ctx.dst.  The harness runs each registered transport as a scenario per
guest type: it creates the guest, migrates it A->B and B->A, and around
every call measures total time, guest-visible downtime and bytes on the
wire itself, and checks that the guest kept running.  So a new transport
is one call:

    register_transport("relocctl", relocctl_migrate, setup=start_relocd)

    def relocctl_migrate(ctx):
        ctx.src.run(f"relocctl migrate --live {ctx.guest} {ctx.dst.ip}",
                    timeout=900)

migrate(ctx) raises (VMError from a failed ctx.*.run, or MigrationError) on
failure.  It may return a dict: "bytes" replaces the harness's count of
bytes on the wire with the transport's own, "note" is printed.
prepare(ctx), if given, runs before each migration outside the timed
window (e.g. start a one-shot listener); verify(ctx) after a migration
that the harness judged a success, also untimed, for the transport's own
checks: it raises to fail the leg, or returns a note to print.
setup(a, b, run) runs once after both dom0s are up.  guest_types limits
the guest types: ("pvh", "pv") unless a transport says it handles "hvm"
too, so a transport is tried on HVM guests only once it claims to.
"""

import re
import shlex
import time
from dataclasses import dataclass

from relocd_setup import log_cat, relocd_log, setup_relocd
from xenvm import VM


class MigrationError(Exception):
    pass


@dataclass
class Transport:
    name: str
    migrate: object
    prepare: object = None
    setup: object = None
    guest_types: tuple = ("pvh", "pv")
    verify: object = None


@dataclass
class Ctx:
    """What a transport gets for one migration."""
    src: VM
    dst: VM
    guest: str          # the xl domain name
    gtype: str          # "pv", "pvh" or "hvm"
    rundir: str         # host directory of this run (shared as /host/run)


TRANSPORTS = []
# Round trips per transport in this run (xentest.py sets it), so that a
# verify hook knows its transport's last leg.
ROUNDS = 1
# Set when checks after the scenarios (the systemctl cases) need every
# guest alive: a verify hook then leaves out what would destroy one.
KEEP_GUESTS = False


def register_transport(name, migrate, prepare=None, setup=None,
                       guest_types=("pvh", "pv"), verify=None):
    TRANSPORTS.append(Transport(name, migrate, prepare, setup,
                                tuple(guest_types), verify))


# ----------------------------------------------------------- xl over TCP
# xl's stream over a bare TCP connection: `-s ""` makes xl run its "host"
# argument as the transport command.  socat's default 8 KiB buffer costs
# 4x under TCG (every syscall in a PV dom0 is expensive), so 256 KiB.
# Not 8002: relocd listens there when a relocd transport runs too.
XL_TCP_PORT = 8012


def xl_tcp_prepare(ctx):
    # A one-shot listener; it exits after the migration it carried.
    ctx.dst.run(f"socat -b 262144 TCP-LISTEN:{XL_TCP_PORT},reuseaddr "
                f"EXEC:'xl migrate-receive' >/tmp/recv.log 2>&1 &", 30)
    # ss on the systemd dom0 (Debian has no netstat), netstat on busybox.
    ctx.dst.run(f"i=0; until {{ ss -ltn 2>/dev/null || netstat -ltn; }} | "
                f"grep -q ':{XL_TCP_PORT} '; do "
                f"i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done", 30)


def xl_tcp_migrate(ctx):
    rc, out = ctx.src.run(
        f'xl migrate -s "" {ctx.guest} '
        f'"socat -b 262144 - TCP:{ctx.dst.ip}:{XL_TCP_PORT}"',
        timeout=900, check=False)
    if rc != 0:
        _, recv = ctx.dst.run("cat /tmp/recv.log", 30, check=False)
        raise MigrationError(f"xl migrate exited {rc}:\n{out[-1500:]}\n"
                             f"receiver:\n{recv[-1500:]}")


# ----------------------------------------------------------- xl over ssh
# xl's default: `xl migrate GUEST HOST` runs `ssh HOST xl migrate-receive`.
# Keys are made per run by the harness and installed by sshd-up.
def xl_ssh_setup(a, b, rundir):
    for vm in (a, b):
        vm.run(f"sshd-up {vm.name}", 30)
    # Prove the channel before timing anything over it.
    a.run(f"ssh {b.ip} true", 60)
    b.run(f"ssh {a.ip} true", 60)


def xl_ssh_migrate(ctx):
    rc, out = ctx.src.run(f"xl migrate {ctx.guest} {ctx.dst.ip}",
                          timeout=900, check=False)
    if rc != 0:
        raise MigrationError(f"xl migrate over ssh exited {rc}:\n"
                             f"{out[-1500:]}")


# Plain xl moves HVM guests too: libxl saves the device model's state
# through QMP and the receiver starts QEMU with it.
XL_TYPES = ("pvh", "pv", "hvm")
register_transport("xl-tcp", xl_tcp_migrate, prepare=xl_tcp_prepare,
                   guest_types=XL_TYPES)
register_transport("xl-ssh", xl_ssh_migrate, setup=xl_ssh_setup,
                   guest_types=XL_TYPES)


# ----------------------------------------------------------- xl over relocd
# `xl migrate -s relocd-xl GUEST B`: xl's own stream over relocd's mutual
# TLS instead of ssh.  relocd-xl runs on the source as xl's transport;
# relocd on the destination checks the request and runs xl
# migrate-receive.  relocd_setup starts relocd on both dom0s with a PKI
# made for this run.
XL_PLUGIN = "relocd-xl"
_refusals_done = []


def logged(vm, text):
    """True if vm's relocd log has a line containing text."""
    return vm.run(f"{log_cat(vm)} | grep -qF {shlex.quote(text)}", 60,
                  check=False)[0] == 0


def still_running_on(src, dst, guest, since):
    """The guest heartbeats on src after `since`, and xl lists it on src
    only: an attempt that was refused left it alone."""
    end = time.monotonic() + 60
    while not src.heartbeats(guest, since):
        if time.monotonic() > end:
            raise MigrationError(f"{guest} stopped heartbeating on "
                                 f"{src.name} after a refused attempt")
        time.sleep(0.2)
    if dst.heartbeats(guest, since):
        raise MigrationError(f"{guest} heartbeats on {dst.name} after a "
                             f"refused attempt")
    if src.run(f"xl list {guest} >/dev/null 2>&1", 30, check=False)[0] or \
            not dst.run(f"xl list {guest} >/dev/null 2>&1", 30,
                        check=False)[0]:
        raise MigrationError(f"xl list does not show {guest} on "
                             f"{src.name} only after a refused attempt")


def refused(ctx, cmd, message, log_line):
    """cmd (run on the source) fails saying message, the destination's
    relocd logs log_line, and the guest runs on where it was."""
    rc, out = ctx.src.run(cmd, 300, check=False)
    if rc == 0 or message not in out:
        raise MigrationError(f"`{cmd}` was not refused ({rc}):\n"
                             f"{out[-1000:]}")
    if not logged(ctx.dst, log_line):
        raise MigrationError(f"{ctx.dst.name}'s relocd did not log "
                             f"{log_line!r}:\n{relocd_log(ctx.dst)}")
    still_running_on(ctx.src, ctx.dst, ctx.guest, time.monotonic())


def relocd_xl_refusals(ctx):
    """Once per session, before its first migration and outside the timed
    window: what relocd must refuse, each time leaving the guest running
    on the source."""
    if any(ctx.src in pair and ctx.dst in pair for pair in _refusals_done):
        return
    _refusals_done.append((ctx.src, ctx.dst))
    src, dst, g = ctx.src, ctx.dst, ctx.guest
    # A host whose certificate is not from the pool's CA (rogue.sxp has
    # the same name's key from another CA): xl migrate fails before it
    # touches the guest.
    refused(ctx, f'xl migrate -s "{XL_PLUGIN} -f /etc/xen/rogue.sxp" '
            f'{g} {dst.ip}', "rejected our certificate",
            f"peer {src.ip}: refused: TLS handshake failed: unknown CA")
    # Anything but migrate-receive, from a valid host.
    for words, why in ((f"destroy {g}", "xl command 'destroy' is not "
                        "allowed"),
                       ("migrate-receive -F", "migrate-receive option '-F' "
                        "is not allowed")):
        refused(ctx, f"{XL_PLUGIN} {dst.ip} xl {words} </dev/null",
                "refused: request not permitted",
                f"peer {src.ip}: refused (request not permitted): "
                f"xl request 'xl {words}' from certificate {src.name}: "
                f"{why}")


# relocd-xl's closing line when it compressed xl's stream.
XL_ZSTD_LINE = re.compile(r"xl's stream to (\S+): ([0-9.]+) MiB went as "
                          r"([0-9.]+) MiB on the wire \(zstd, ([0-9.]+)x\)")


def relocd_xl_migrate(ctx):
    # Issue 21 through relocd-xl: every leg from A goes compressed (zstd,
    # relocd-xl compressing, the destination's network child
    # decompressing), every leg from B as it is.
    zstd = ctx.src.name == "A"
    plugin = f'"{XL_PLUGIN} --compress on"' if zstd else XL_PLUGIN
    rc, out = ctx.src.run(f"xl migrate -s {plugin} {ctx.guest} "
                          f"{ctx.dst.ip}", timeout=900, check=False)
    if rc != 0:
        raise MigrationError(f"xl migrate -s {plugin} exited {rc}:\n"
                             f"{out[-1500:]}\nrelocd on {ctx.dst.name}:\n"
                             f"{relocd_log(ctx.dst)}")
    if not zstd:
        return None
    m = XL_ZSTD_LINE.search(out)
    if not m or m.group(1) != ctx.dst.ip or \
            not 0 < float(m.group(3)) < float(m.group(2)):
        raise MigrationError(f"xl migrate -s {plugin}: relocd-xl did not "
                             f"report a compressed stream:\n{out[-1500:]}")
    if not logged(ctx.dst, "the stream compressed (zstd)"):
        raise MigrationError(f"{ctx.dst.name}'s relocd did not log a "
                             f"compressed xl stream:\n{relocd_log(ctx.dst)}")
    return {"note": f"zstd: xl's {m.group(2)} MiB of stream as "
                    f"{m.group(3)} MiB on the wire ({m.group(4)}x)"}


def relocd_xl_verify(ctx):
    """The destination's relocd logged this receive: peer, certificate,
    flags and xl's exit status 0."""
    _, last = ctx.dst.run(f"{log_cat(ctx.dst)} | grep 'xl-receive "
                          f"[0-9a-f]* from peer' | tail -n 1", 60,
                          check=False)
    if f"from peer {ctx.src.ip} ({ctx.src.name}): xl " not in last or \
            not last.endswith("xl exited with status 0"):
        raise MigrationError(f"{ctx.dst.name}'s relocd log does not show "
                             f"this receive:\n{relocd_log(ctx.dst)}")


register_transport("relocd-xl", relocd_xl_migrate, prepare=relocd_xl_refusals,
                   setup=lambda a, b, run: setup_relocd(a, b, run),
                   verify=relocd_xl_verify, guest_types=XL_TYPES)
