# SPDX-License-Identifier: ISC
"""Where a process's CPU time goes, from a system-wide `perf record`:
its samples split into a few kinds of work (TLS crypto, copies, the
digest, new memory, ...), so that a CPU-per-GiB goal that is not met
says what the time was spent on.

Used by bench.py (scenario 1); also by hand:
    python3 bench/perfsplit.py perf.data PID [PID...]
"""

import re
import shutil
import signal
import subprocess
import sys

# (kind, test on (dso, symbol)); the first that matches names a sample.
# Kernel symbols are matched by name: they differ across kernels, so a
# symbol no pattern knows lands in "other kernel", never in a wrong kind.
KINDS = [
    ("TLS crypto", lambda d, s: d.startswith(("libcrypto", "libssl"))),
    ("digest (XXH3)", lambda d, s: d.startswith("libxxhash")),
    ("compression", lambda d, s: d.startswith(("libzstd", "liblz4"))),
    ("copies", lambda d, s: re.search(
        r"memmove|memcpy|_copy_to_iter|_copy_from_iter|copy_user|"
        r"copy_page|rep_movs", s) is not None),
    ("memory (faults, allocation, clearing, mappings)", lambda d, s:
     d == "k" and
     re.search(r"fault|clear_page|shmem|folio|alloc_pages|freelist|"
               r"frozen_pages|charge|memcg|lruvec|lru|page_counter|pte|"
               r"vm_enough_memory|mt_find|xas_|rmqueue|zone|unmap|filemap|"
               r"find_lock_entries|pfnblock|dquot|vma|vm_normal_page|tlb",
               s) is not None),
    ("pipe and socket", lambda d, s: d == "k" and re.search(
        r"pipe|splice|tcp|skb|sock|inet|ip_|net_|softirq|napi|"
        r"__dev_|loopback", s) is not None),
    ("relocd", lambda d, s: d == "relocd"),
    # In a VM perf samples with a timer, which cannot fire while
    # interrupts are off: work in such sections lands on the unlock that
    # ends them (_raw_spin_unlock_irq...), so it cannot be attributed.
    ("other kernel", lambda d, s: d == "k"),
    ("other", lambda d, s: True),
]
KIND_NAMES = [k for k, _ in KINDS]

LINE_RE = re.compile(r"^\s*(\d+)\s*\|\s*(\d+):\S*\s*\|\s*(\S+)\s*\|\s*"
                     r"\[(.)\]\s*(.*?)\s*$")


def available():
    return shutil.which("perf") is not None


def record(path):
    """Start a system-wide perf record into path; stop it with stop().
    None when perf is missing."""
    if not available():
        return None
    # No workload: perf records until SIGINT, then exits 0.
    return subprocess.Popen(["perf", "record", "-a", "-F", "999", "-q",
                             "-o", path],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(proc):
    if proc is None:
        return False
    proc.send_signal(signal.SIGINT)
    try:
        # perf writes its file, then dies of the signal it caught.
        return proc.wait(timeout=60) in (0, -signal.SIGINT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


def kind_of(dso, mark, sym):
    d = "k" if mark == "k" or dso.startswith("[kernel") else \
        dso.rsplit("/", 1)[-1]
    for name, test in KINDS:
        if test(d, sym):
            return name
    return "other"


def split(path, pids):
    """{pid: {kind: samples}} for the given pids (ints)."""
    out = subprocess.run(["perf", "report", "-i", path, "--no-children",
                          "-F", "sample,pid,dso,sym", "-g", "none",
                          "--stdio", "-t", "|"],
                         capture_output=True, text=True, timeout=600).stdout
    want = set(pids)
    res = {p: {} for p in want}
    for line in out.splitlines():
        m = LINE_RE.match(line)
        if not m or int(m.group(2)) not in want:
            continue
        k = kind_of(m.group(3), m.group(4), m.group(5))
        d = res[int(m.group(2))]
        d[k] = d.get(k, 0) + int(m.group(1))
    return res


def fractions(counts):
    """{kind: share of the process's samples}, kinds in KINDS order."""
    total = sum(counts.values())
    return {k: counts.get(k, 0) / total for k in KIND_NAMES} if total \
        else {}


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    for pid, counts in split(argv[1], [int(p) for p in argv[2:]]).items():
        total = sum(counts.values())
        print("pid %d: %d samples" % (pid, total))
        for k, f in fractions(counts).items():
            if f:
                print("  %5.1f %%  %s" % (100 * f, k))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
