#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
#
# keyscan.py KEYFILE PID: does process PID hold the private key of
# KEYFILE?  Reads the key's private scalar (openssl pkey -text) and
# searches every readable mapping of /proc/PID/mem (as root) for it, in
# either byte order.  keyscan.py --text STRING PID searches for STRING's
# bytes instead (a marker only one process should hold).  Prints "found"
# or "absent" and exits 0 or 1; 2 if the scan itself failed.  Each mapping is read at most 1 GiB deep (a
# sanitizer's shadow is terabytes of reserved nothing), in 8 MiB pieces
# that overlap by the needle's length.
import re
import subprocess
import sys

PIECE = 8 << 20
REGION_MAX = 1 << 30


def scalar(keyfile):
    text = subprocess.run(["openssl", "pkey", "-in", keyfile, "-noout",
                           "-text"], check=True, capture_output=True,
                          text=True).stdout
    m = re.search(r"priv:\s*((?:[0-9a-f]{2}:?\s*)+)pub:", text)
    if m is None:
        raise SystemExit("keyscan: no private scalar in %s" % keyfile)
    raw = bytes.fromhex(re.sub(r"[^0-9a-f]", "", m.group(1)))
    return raw.lstrip(b"\0").rjust(32, b"\0")


def holds(pid, needles):
    regions = 0
    overlap = max(len(n) for n in needles) - 1
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if "r" not in f[1] or (len(f) > 5 and f[5] in
                                   ("[vvar]", "[vsyscall]", "[vvar_vclock]")):
                continue
            start, end = (int(x, 16) for x in f[0].split("-"))
            end = min(end, start + REGION_MAX)
            regions += 1
            off, tail = start, b""
            while off < end:
                try:
                    mem.seek(off)
                    buf = mem.read(min(PIECE, end - off))
                except OSError:
                    break
                if not buf:
                    break
                data = tail + buf
                if any(n in data for n in needles):
                    return True
                tail = data[-overlap:] if overlap else b""
                off += len(buf)
    if regions == 0:
        raise SystemExit("keyscan: nothing readable in process %d" % pid)
    return False


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--text" and sys.argv[2]:
        needles = (sys.argv[2].encode(),)
        pid = sys.argv[3]
    elif len(sys.argv) == 3:
        key = scalar(sys.argv[1])
        needles = (key, key[::-1])
        pid = sys.argv[2]
    else:
        raise SystemExit("usage: keyscan.py KEYFILE PID | "
                         "keyscan.py --text STRING PID")
    try:
        found = holds(int(pid), needles)
    except OSError as e:
        print("keyscan: %s" % e, file=sys.stderr)
        sys.exit(2)
    print("found" if found else "absent")
    sys.exit(0 if found else 1)


main()
