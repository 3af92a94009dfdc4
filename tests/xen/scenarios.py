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
window (e.g. start a one-shot listener); after(ctx) runs after each
migration has been judged a success, also untimed, for the transport's
own checks: it raises to fail the leg, or returns a note.  setup(a, b, run) runs once after
both dom0s are up.  guest_types limits the guest types.
"""

from dataclasses import dataclass

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
    after: object = None


@dataclass
class Ctx:
    """What a transport gets for one migration."""
    src: VM
    dst: VM
    guest: str          # the xl domain name
    gtype: str          # "pv" or "pvh"
    rundir: str         # host directory of this run (shared as /host/run)


TRANSPORTS = []


def register_transport(name, migrate, prepare=None, setup=None,
                       guest_types=("pvh", "pv"), after=None):
    TRANSPORTS.append(Transport(name, migrate, prepare, setup,
                                tuple(guest_types), after))


# ----------------------------------------------------------- xl over TCP
# xl's stream over a bare TCP connection: `-s ""` makes xl run its "host"
# argument as the transport command.  socat's default 8 KiB buffer costs
# 4x under TCG (every syscall in a PV dom0 is expensive), so 256 KiB.
XL_TCP_PORT = 8002


def xl_tcp_prepare(ctx):
    # A one-shot listener; it exits after the migration it carried.
    ctx.dst.run(f"socat -b 262144 TCP-LISTEN:{XL_TCP_PORT},reuseaddr "
                f"EXEC:'xl migrate-receive' >/tmp/recv.log 2>&1 &", 30)
    ctx.dst.run(f"i=0; until netstat -ltn | grep -q ':{XL_TCP_PORT} '; do "
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


register_transport("xl-tcp", xl_tcp_migrate, prepare=xl_tcp_prepare)
register_transport("xl-ssh", xl_ssh_migrate, setup=xl_ssh_setup)
