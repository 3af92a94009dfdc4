# SPDX-License-Identifier: ISC
"""What an administrator does to relocd on a systemd dom0, with guests
running, and what each must leave intact (issue 16).  Run by xentest.py
after the scenarios, on the same pair of systemd dom0s (--cases).

Placement first: the HVM guest goes A->B through relocd (relocctl), so B
holds a guest relocd received, with its device model; the PVH and PV
guests are home on A, received there by relocd on their last leg.  Then,
on A and then on B:
  * `systemctl restart relocd`
  * `systemctl stop relocd`, then `systemctl start relocd`
  * `dpkg -i relocd_*.deb` of the installed version (a reinstall: the
    maintainer scripts apt would run, without apt's minutes of
    dependency resolution under emulation)
After each: relocd is active, and every guest runs on its host only, its
heartbeat unbroken (same boot id, counter rising, no gap over GAP_S in
the guest's clock, and a recent one), an HVM guest's device model is
alive, and `xl list` and `xl console` still show it.  Then:
  * `systemctl stop relocd` on the source of a migration mid-stream,
    and on the destination: either way the guest ends with exactly one
    running copy, on the source (the migration is far from "go": at
    8 Mbit/s its 100 MB take minutes);
  * the journal: `journalctl -u relocd -p warning` shows a warning relocd
    logged (a refused TLS handshake) and not an info line
    ("relocd started").
Then relocd's shutdown hook: RELOCD_EVACUATE_TO="B:PORT" in A's
/etc/default/relocd, `systemctl enable --now relocd-evacuate`, then
`systemctl poweroff` on A (with devices, whose disks A exports,
`systemctl stop relocd-evacuate` instead): every guest on A goes live
to B through relocctl evacuate and runs there once, the same boot, its
counter going on, and A powers off.
Last, `xl shutdown -w` of every guest on the host where it ended: the
toolstack still manages what relocd received and what survived the
restarts, so each guest powers off (its /sbin/poweroff is the heartbeat
program, which Linux's orderly_poweroff() runs on Xen's request), leaves
`xl list`, and an HVM guest's device model exits with it.
Every case prints its wall time; each is one PASS or FAIL line naming
"systemctl" or "restart".
"""

import os
import shlex
import time

from relocd_setup import PORT, log_cat
from xenvm import VMError, XL_CONSOLE_WINDOW_S

GAP_S = 3.0             # longest heartbeat gap that is still "unbroken"
RECENT_S = 3.0          # the last heartbeat must be at most this old
SETTLE_S = 5.0          # after an action, before judging the guests
SHUTDOWN_S = 120        # xl shutdown -w: the guest powers off within this
MID_BANDWIDTH = 8       # Mbit/s: the migration stays mid-stream for minutes
DEB = "/root/relocd_*.deb"
EVACUATE_S = 900        # systemctl stop relocd-evacuate: every guest moved
POWEROFF_S = 300        # then the rest of A's shutdown, to QEMU's exit
# What Xen prints once dom0 has powered off or halted: the host is off
# even where the emulated machine stays up.
POWERED_OFF = rb"Hardware Dom0 (halted|shutdown)"
# A reinstall in an emulated dom0.  apt install --reinstall took 150-185 s
# alone and 237 s in CI, almost all of it apt's own work before dpkg; the
# case now runs dpkg -i, which runs the same maintainer scripts.
REINSTALL_S = 600


class CaseError(Exception):
    pass


def log(*a):
    print(time.strftime("[%H:%M:%S]"), *a, flush=True)


def on_host(vm, guest):
    return vm.run(f"xl list {guest} >/dev/null 2>&1", 60,
                  check=False)[0] == 0


def relocd_active(vm):
    rc, out = vm.run("systemctl is-active relocd", 60, check=False)
    return rc == 0, out.strip()


def journal_tail(vm, n=15):
    _, out = vm.run(f"{log_cat(vm)} | tail -n {n}", 60, check=False)
    return out


# ------------------------------------------------------------ judging
def check_guest(vm, other, guest, gtype, since):
    """guest runs on vm only, its heartbeat unbroken since `since`;
    other is the other host, or None if it is off."""
    hbs = sorted(vm.heartbeats(guest, since), key=lambda h: h.t)
    if not hbs:
        raise CaseError(f"{guest}: no heartbeat on {vm.name} since the "
                        f"action")
    now = time.monotonic()
    if now - hbs[-1].t > RECENT_S:
        raise CaseError(f"{guest}: last heartbeat on {vm.name} "
                        f"{now - hbs[-1].t:.1f}s ago: it stopped")
    boots = {h.boot for h in hbs}
    if len(boots) != 1:
        raise CaseError(f"{guest}: boot id changed ({' '.join(boots)}): "
                        f"it rebooted")
    for x, y in zip(hbs, hbs[1:]):
        if y.counter <= x.counter:
            raise CaseError(f"{guest}: counter went {x.counter} -> "
                            f"{y.counter}")
        # The gap in the guest's own clock: a guest paused or stopped
        # shows it there.  The gap in arrival times alone can be dom0's
        # console path stalling while apt or dpkg hogs an emulated dom0
        # (seen: 6.1 s between consecutive counters 20 ms apart in the
        # guest), which says nothing about the guest.
        if y.mono_ms - x.mono_ms > GAP_S * 1000:
            raise CaseError(f"{guest}: heartbeat gap of "
                            f"{(y.mono_ms - x.mono_ms) / 1000:.1f}s in the "
                            f"guest's clock on {vm.name} (counter "
                            f"{x.counter} -> {y.counter}; "
                            f"{y.t - x.t:.1f}s apart on arrival)")
    if other is not None and other.heartbeats(guest, since):
        raise CaseError(f"{guest}: heartbeats on {other.name} too")
    if not on_host(vm, guest) or (other is not None and
                                  on_host(other, guest)):
        raise CaseError(f"{guest}: xl list does not show it on {vm.name} "
                        f"only")
    if gtype == "hvm":
        # The device model: QEMU started by libxl with -xen-domid N.
        rc, out = vm.run(f"d=$(xl domid {guest}) && "
                         f"pgrep -f -- \"-xen-domid $d \" >/dev/null", 60,
                         check=False)
        if rc != 0:
            raise CaseError(f"{guest}: its device model (QEMU) is gone "
                            f"on {vm.name}")
    # xl console: the toolstack still reaches it.
    n, said = vm.xl_console_heartbeats(guest)
    if n < 2:
        raise CaseError(f"{guest}: xl console on {vm.name} showed {n} "
                        f"heartbeat lines in {XL_CONSOLE_WINDOW_S}s; it "
                        f"said: {said!r}")


def check_all(placement, since):
    for guest, (vm, other, gtype) in placement.items():
        check_guest(vm, other, guest, gtype, since)


# ------------------------------------------------------------ cases
def action_case(vm, cmd, placement, timeout=300):
    """Run cmd on vm with guests running; then relocd must be active and
    every guest intact."""
    t0 = time.monotonic()
    rc, out = vm.run(cmd, timeout, check=False)
    took = time.monotonic() - t0
    if rc != 0:
        raise CaseError(f"`{cmd}` exited {rc} after {took:.1f}s:\n"
                        f"{out[-800:]}")
    time.sleep(SETTLE_S)
    ok, state = relocd_active(vm)
    try:
        check_all(placement, t0)
        guests = "every guest intact"
    except CaseError as e:
        if ok:
            raise
        guests = str(e)
    if not ok:
        tail = journal_tail(vm)
        # The next cases need relocd; this one has failed already.
        vm.run("systemctl start relocd", 120, check=False)
        raise CaseError(f"relocd is {state} on {vm.name} after `{cmd}` "
                        f"(started again for the next case); {guests}:\n"
                        f"{tail}")
    return took


def mid_stream_case(src, dst, stop_on, guest, placement):
    """relocctl migrate src->dst at MID_BANDWIDTH; once dst holds the
    reserved guest and the stream runs, `systemctl stop relocd` on
    stop_on.  The guest must end running on src only; relocd is started
    again afterwards either way."""
    for vm in (src, dst):
        vm.sync_clock()
    since = time.monotonic()
    src.run("rm -f /tmp/mid.out /tmp/mid.rc; setsid sh -c "
            + shlex.quote(f"relocctl migrate --live --json --bandwidth "
                          f"{MID_BANDWIDTH} {guest} {dst.ip}:{PORT} "
                          f">/tmp/mid.out 2>&1; echo $? >/tmp/mid.rc")
            + " </dev/null >/dev/null 2>&1 &", 30)
    try:
        # The reserved guest (relocd may name it NAME--incoming).
        rc, _ = dst.run(f"i=0; until xl list | grep -q '^{guest}'; do "
                        f"i=$((i+1)); [ $i -lt 240 ] || exit 1; sleep 0.5; "
                        f"done", 180, check=False)
        if rc != 0:
            _, out = src.run("cat /tmp/mid.out", 30, check=False)
            raise CaseError(f"{dst.name} never reserved {guest}: the "
                            f"stream did not start:\n{out[-800:]}")
        time.sleep(3)           # the stream is flowing
        t_stop = time.monotonic()
        rc, out = stop_on.run("systemctl stop relocd", 300, check=False)
        took = time.monotonic() - t_stop
        if rc != 0:
            raise CaseError(f"systemctl stop relocd on {stop_on.name} "
                            f"exited {rc} after {took:.1f}s:\n{out[-500:]}")
        rc, _ = src.run("i=0; until [ -s /tmp/mid.rc ]; do i=$((i+1)); "
                        "[ $i -lt 240 ] || exit 1; sleep 0.5; done", 180,
                        check=False)
        _, res = src.run("cat /tmp/mid.rc; tail -c 600 /tmp/mid.out", 30,
                         check=False)
        if rc != 0:
            raise CaseError(f"relocctl did not end within 120s of the "
                            f"stop:\n{res}")
        # The destination drops its half-built copy (bounded).
        rc, _ = dst.run(f"i=0; while xl list | grep -q '^{guest}'; do "
                        f"i=$((i+1)); [ $i -lt 180 ] || exit 1; sleep 0.5; "
                        f"done", 150, check=False)
        if rc != 0:
            _, xl = dst.run("xl list", 30, check=False)
            raise CaseError(f"{dst.name} still holds {guest} 90s after "
                            f"the stop (relocctl said: {res.strip()}):\n"
                            f"{xl}")
        time.sleep(SETTLE_S)
        home, other, gtype = placement[guest]
        try:
            check_guest(src, dst, guest, gtype, since)
        except CaseError as e:
            raise CaseError(f"{e} (relocctl said: {res.strip()})")
        return took
    finally:
        for vm in (src, dst):
            vm.run("systemctl start relocd", 120, check=False)


def journal_case(a, b):
    """B's journal sorts relocd's lines by priority: a refused handshake
    (a warning) is under -p warning, "relocd started" (info) is not."""
    a.run("relocd-xl -f /etc/xen/rogue.sxp 10.99.0.2 xl list </dev/null "
          ">/dev/null 2>&1; true", 120)
    time.sleep(1)
    _, warn = b.run("journalctl -q --no-pager -o cat -u relocd -p warning",
                    60, check=False)
    if b.run(f"{log_cat(b)} | grep -q 'relocd started'", 60,
             check=False)[0] != 0:
        raise CaseError("B's journal has no 'relocd started' at all")
    if "refused: TLS handshake failed" not in warn:
        raise CaseError(f"journalctl -u relocd -p warning on B does not "
                        f"show the refused handshake (a warning); it "
                        f"shows {len(warn.splitlines())} lines:\n"
                        f"{warn[-600:]}")
    if "relocd started" in warn:
        raise CaseError("journalctl -u relocd -p warning on B shows the "
                        "info line 'relocd started'")


def evacuate_hook_case(a, b, placement, poweroff=True):
    """relocd's shutdown hook on A: RELOCD_EVACUATE_TO names B in
    /etc/default/relocd and `systemctl enable --now relocd-evacuate`
    arms it.  The unit is ordered after xendomains.service and
    relocd.service, so a shutdown stops it first.

    poweroff: `systemctl poweroff` on A, a real shutdown, with the
    shutdown's own transaction queued around the hook (what `systemctl
    stop` alone cannot show: a unit relocd starts then must still start,
    and nothing it waits for may be waiting for the hook).  A powers off
    (its QEMU exits) within EVACUATE_S + POWEROFF_S.  relocctl's report
    and relocd's log reach A's console for the case (evac_console).
    Otherwise `systemctl stop relocd-evacuate`: it exits 0, the unit's
    Result is success, relocd on A is still active, and the hook is
    disabled again afterwards (the devices run, whose disks A exports,
    uses it).

    Either way: relocctl's report says "this host is empty", and every
    guest that was on A runs on B only, unbroken there, the same boot as
    on A with its counter going on from A's.  Placement follows the
    guests."""
    moving = {g: t for g, (vm, _, t) in placement.items() if vm is a}
    if not moving:
        raise CaseError("no guest on A to move")
    _, after = a.run("systemctl show -p After --value relocd-evacuate", 60,
                     check=False)
    for unit in ("xendomains.service", "relocd.service"):
        if unit not in after.split():
            raise CaseError(f"relocd-evacuate is not ordered after {unit}: "
                            f"After={after.strip()}")
    last = {}
    for g in moving:
        hbs = sorted(a.heartbeats(g, time.monotonic() - 30),
                     key=lambda h: h.t)
        if not hbs:
            raise CaseError(f"{g}: no heartbeat on A before the stop")
        last[g] = hbs[-1]
    a.run("sed -i '/^RELOCD_EVACUATE_TO=/d' /etc/default/relocd && "
          f"echo 'RELOCD_EVACUATE_TO=\"{b.ip}:{PORT}\"' "
          ">>/etc/default/relocd && "
          "systemctl enable --now relocd-evacuate && "
          "systemctl is-active relocd-evacuate", 120)
    t0 = time.monotonic()
    try:
        if poweroff:
            report = evacuate_by_poweroff(a)
        else:
            try:
                report = evacuate_by_stop(a)
            finally:
                a.run("systemctl disable relocd-evacuate", 60, check=False)
    finally:
        follow_moved_guests(a, b, moving, placement, a_off=poweroff)
    took = time.monotonic() - t0
    if "this host is empty" not in report:
        raise CaseError(f"relocctl evacuate did not empty A; its report:\n"
                        f"{report.strip()[-1200:]}")
    time.sleep(SETTLE_S)
    for g, gtype in moving.items():
        # A powered off has nothing to say.
        check_guest(b, None if poweroff else a, g, gtype, t0)
        hbs = sorted(b.heartbeats(g, t0), key=lambda h: h.t)
        if {h.boot for h in hbs} != {last[g].boot}:
            raise CaseError(f"{g}: boot id on B is not A's "
                            f"{last[g].boot}: it was restarted, not "
                            f"migrated")
        if hbs[0].counter <= last[g].counter:
            raise CaseError(f"{g}: counter on B starts at "
                            f"{hbs[0].counter}, not after A's "
                            f"{last[g].counter}")
    if not poweroff:
        ok, state = relocd_active(a)
        if not ok:
            raise CaseError(f"relocd is {state} on A after the hook")
    log(f"relocd-evacuate moved {', '.join(sorted(moving))} to B in "
        f"{took:.1f}s{' (A powered off)' if poweroff else ''}")
    return took


def follow_moved_guests(a, b, moving, placement, a_off):
    """Placement after the hook, whatever the case's verdict: a guest
    on B is B's, and with A off, one that stayed is gone with it.  The
    cases after this one (the shutdown) then act on where the guests
    are, not fail again for this case's failure."""
    for g, gtype in moving.items():
        try:
            there = on_host(b, g)
        except VMError:
            there = False
        if there:
            placement[g] = (b, None if a_off else a, gtype)
        elif a_off:
            del placement[g]


def evacuate_by_stop(a):
    """systemctl stop relocd-evacuate on A; relocctl's report."""
    t0 = time.monotonic()
    rc, out = a.run(f"timeout {EVACUATE_S} systemctl stop "
                    f"relocd-evacuate", EVACUATE_S + 60, check=False)
    took = time.monotonic() - t0
    # The stop job succeeds even when ExecStop fails; the unit's Result
    # says how ExecStop ended.
    _, result = a.run("systemctl show -p Result --value relocd-evacuate",
                      60, check=False)
    _, report = a.run("journalctl -q --no-pager -o cat -u relocd-evacuate "
                      "| tail -n 20", 60, check=False)
    if rc != 0 or result.strip() != "success":
        _, relocd = a.run(f"{log_cat(a)} -p warning | tail -n 15", 60,
                          check=False)
        raise CaseError(f"systemctl stop relocd-evacuate on A exited {rc} "
                        f"after {took:.1f}s, Result={result.strip()} "
                        f"({first_failure(report)}):\n{out[-400:]}\n"
                        f"{report.strip()[-800:]}\nrelocd's warnings:\n"
                        f"{relocd.strip()[-1200:]}")
    return report


def first_failure(report):
    """The first line of relocctl's report that says a guest did not
    move: what a one-line verdict should show."""
    for line in report.splitlines():
        if "refused by" in line or "stays here" in line or \
                "failed" in line:
            return line.strip()
    return "no guest line says why"


# What A's console carries while it shuts down: relocd's and the hook's
# journal, and systemd's job queue every 20 s (a job that waits on
# another shows there), from a unit the shutdown leaves alone (no
# default dependencies) so that it outlives every unit it follows.
EVAC_CONSOLE = ("systemd-run -q --unit=evac-console -p DefaultDependencies=no "
                "sh -c 'journalctl -f -q -o short-monotonic "
                "-u relocd-evacuate -u relocd -u \"relocd-receive@*\" "
                ">/dev/console & while sleep 20; do systemctl list-jobs "
                "--no-pager --no-legend | sed \"s/^/jobs: /\"; done "
                ">/dev/console'")


def evacuate_by_poweroff(a):
    """systemctl poweroff on A; relocctl's report, from A's console."""
    # What an instance would wait for, or conflict with, at shutdown.
    _, deps = a.run("systemctl show -p After,Requires,Wants,Conflicts "
                    "relocd-receive@0123456789abcdef0123456789abcdef"
                    ".service", 60, check=False)
    log(f"relocd-receive@ instance on A: {' '.join(deps.split())}")
    a.run(EVAC_CONSOLE, 60)
    mark = a.console_mark()
    try:
        a.run("systemctl --no-block poweroff", 60, check=False)
    except VMError:
        pass                    # the console went with the shutdown
    if not a.wait_off(EVACUATE_S + POWEROFF_S, POWERED_OFF, mark):
        tail = a.console_since(mark)[-1500:]
        raise CaseError(f"A did not power off within "
                        f"{EVACUATE_S + POWEROFF_S}s of systemctl "
                        f"poweroff; console:\n{tail}")
    said = a.console_since(mark)
    # relocctl's lines carry the identifier of ExecStop's shell; relocd's
    # own are left out, so the report is what relocctl and systemd said.
    report = "\n".join(l for l in said.splitlines() if "relocd[" not in l)
    if "this host is empty" not in report:
        relocd = "\n".join(l for l in said.splitlines() if "relocd[" in l)
        raise CaseError(f"relocctl evacuate did not empty A at its "
                        f"shutdown ({first_failure(report)}):\n"
                        f"{report.strip()[-1200:]}\nrelocd said:\n"
                        f"{relocd.strip()[-800:]}")
    return report


def shutdown_case(placement):
    """xl shutdown -w of every guest: each powers off within
    SHUTDOWN_S, and an HVM guest's QEMU exits too."""
    for guest, (vm, _, gtype) in placement.items():
        _, domid = vm.run(f"xl domid {guest}", 60, check=False)
        domid = domid.strip().splitlines()[-1] if domid.strip() else ""
        if not domid.isdigit():
            raise CaseError(f"{guest}: xl domid on {vm.name} said "
                            f"{domid!r}")
        t0 = time.monotonic()
        rc, out = vm.run(f"timeout {SHUTDOWN_S} xl shutdown -w {guest}",
                         SHUTDOWN_S + 30, check=False)
        took = time.monotonic() - t0
        if rc != 0:
            raise CaseError(f"{guest}: xl shutdown -w on {vm.name} exited "
                            f"{rc} after {took:.1f}s:\n{out[-500:]}")
        # -w returns once the guest has shut down; xl's monitor of the
        # domain (in relocd-receive@ for a guest relocd received) then
        # destroys it.  A domain left shut down means that monitor is gone.
        rc, _ = vm.run(f"i=0; while xl list {guest} >/dev/null 2>&1; do "
                       f"i=$((i+1)); [ $i -lt 60 ] || exit 1; sleep 0.5; "
                       f"done", 60, check=False)
        if rc != 0:
            _, why = vm.run(f"xl list; systemctl list-units --no-pager "
                            f"--all 'relocd-receive@*'; ps -eo pid,args | "
                            f"grep '[x]l '", 60, check=False)
            raise CaseError(f"{guest}: still in xl list on {vm.name} 30s "
                            f"after xl shutdown -w (is xl's monitor of it "
                            f"gone?):\n{why.strip()[-1200:]}")
        if gtype == "hvm":
            # QEMU exits once libxl has destroyed the domain (bounded).
            # $d, not the number: the shell's own command line must not
            # match the pattern pgrep looks for.
            rc, _ = vm.run(f"d={domid}; i=0; while pgrep -f -- "
                           f"\"-xen-domid $d \" >/dev/null; do "
                           f"i=$((i+1)); [ $i -lt 60 ] || exit 1; "
                           f"sleep 0.5; done", 60, check=False)
            if rc != 0:
                raise CaseError(f"{guest}: its device model outlived the "
                                f"shutdown on {vm.name}")
        log(f"{guest}: powered off on {vm.name} in {took:.1f}s")


def place(a, b, types):
    """Where each guest runs, with the HVM guest moved to B by relocd."""
    placement = {}
    for gtype in types:
        guest = f"hb-{gtype}"
        if on_host(a, guest):
            placement[guest] = (a, b, gtype)
        elif on_host(b, guest):
            placement[guest] = (b, a, gtype)
    for vm in (a, b):
        vm.sync_clock()         # xenvm.py says why
    if "hb-hvm" in placement and placement["hb-hvm"][0] is a:
        rc, out = a.run(f"relocctl migrate --live hb-hvm {b.ip}:{PORT}",
                        900, check=False)
        if rc != 0:
            raise CaseError(f"relocctl migrate hb-hvm A->B exited {rc}:\n"
                            f"{out[-800:]}")
        placement["hb-hvm"] = (b, a, "hvm")
    return placement


def run(a, b, rundir, types, only=(), poweroff=True):
    """Every case, or those whose key is in only (CASE_KEYS); a list of
    (name, ok, reason).  poweroff: the shutdown hook's case powers A off
    (evacuate_hook_case), so A runs no case after it."""
    results = []

    def case(key, name, fn, *args):
        if only and key not in only:
            return
        t0 = time.monotonic()
        try:
            extra = fn(*args)
            note = (f", the command took {extra:.1f}s"
                    if isinstance(extra, float) else "")
            results.append((f"{name} ({time.monotonic() - t0:.0f}s{note})",
                            True, ""))
            log(f"{name}: ok ({time.monotonic() - t0:.0f}s{note})")
        except (CaseError, VMError) as e:
            results.append((f"{name} ({time.monotonic() - t0:.0f}s)", False,
                            str(e).splitlines()[0]))
            log(f"{name}: FAILED: {e}")

    try:
        placement = place(a, b, types)
    except (CaseError, VMError) as e:
        return [("systemctl cases: placing the guests", False, str(e))]
    if not placement:
        return [("systemctl cases", False, "no guest left running")]
    log("systemctl cases: guests " + ", ".join(
        f"{g} on {vm.name}" for g, (vm, _, _) in placement.items()))
    # What a restart would kill: every process in relocd's cgroup.
    for vm in (a, b):
        _, cg = vm.run("systemd-cgls --no-pager -l -u relocd.service", 60,
                       check=False)
        log(f"relocd.service's cgroup on {vm.name}:\n{cg}")
    pvh = "hb-pvh" if "hb-pvh" in placement else next(iter(placement))
    for vm in (a, b):
        case("restart", f"systemctl restart relocd on {vm.name}: guests "
             f"unharmed", action_case, vm, "systemctl restart relocd",
             placement)
        # Stop + start and the reinstall run on A only: what they do to
        # relocd is the same on both hosts, the restart above is proven
        # on each, and CI's time is short (80 of its 90 minutes, then
        # over).
        if vm is not a:
            continue
        case("stop-start", f"systemctl stop + start relocd on {vm.name} "
             f"(a restart): guests unharmed", action_case, vm,
             "systemctl stop relocd && systemctl start relocd", placement)
        case("reinstall", f"restart by a reinstall (dpkg -i) on "
             f"{vm.name} (systemctl state kept): guests unharmed",
             action_case, vm,
             f"dpkg -i {DEB} >/tmp/dpkg-re.log 2>&1 || "
             f"{{ tail -20 /tmp/dpkg-re.log; exit 1; }}", placement,
             REINSTALL_S)
    src = placement[pvh][0]
    dst = b if src is a else a
    case("mid-stream", f"systemctl stop relocd on the source mid-stream "
         f"(restart after): {pvh} runs on {src.name} only",
         mid_stream_case, src, dst, src, pvh, placement)
    case("mid-stream", f"systemctl stop relocd on the destination "
         f"mid-stream (restart after): {pvh} runs on {src.name} only",
         mid_stream_case, src, dst, dst, pvh, placement)
    case("journal", "systemctl journal: journalctl -u relocd -p warning "
         "shows warnings, not info (after restart)", journal_case, a, b)
    if poweroff:
        case("evacuate", "systemctl poweroff on A with relocd's shutdown "
             "hook armed (RELOCD_EVACUATE_TO=B): A's guests go live to B, "
             "same boot, then A powers off", evacuate_hook_case, a, b,
             placement, True)
    else:
        case("evacuate", "systemctl stop relocd-evacuate on A (the "
             "shutdown hook, RELOCD_EVACUATE_TO=B): A's guests go live "
             "to B, same boot", evacuate_hook_case, a, b, placement,
             False)
    # Last: it ends the guests.
    case("shutdown", "xl shutdown of every guest after the systemctl "
         "restart, stop and reinstall cases: each powers off",
         shutdown_case, placement)
    save_journals((a, b))
    return results


JOURNAL_LINES = 3000    # of relocd's journal kept per host (serial: ~30 s)


def save_journals(vms):
    """relocd's journal (its units, the hook's) from each host still up,
    to NAME.relocd-journal.log beside its console log: what a failure
    in CI is read from afterwards."""
    for vm in vms:
        if not vm.alive():
            continue
        try:
            _, out = vm.run(f"journalctl -q --no-pager -o short-monotonic "
                            f"-u relocd -u relocd-evacuate "
                            f"-u 'relocd-receive@*' | tail -n "
                            f"{JOURNAL_LINES}", 120, check=False)
        except VMError as e:
            out = f"(not read: {e})"
        with open(os.path.join(vm.rundir, f"{vm.name}.relocd-journal.log"),
                  "w") as f:
            f.write(out + "\n")


# The names XEN_CASES (xentest.py --only-cases) chooses from.
CASE_KEYS = ("restart", "stop-start", "reinstall", "mid-stream", "journal",
             "evacuate", "shutdown")
