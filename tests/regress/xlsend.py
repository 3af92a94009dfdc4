#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The sending side of xl's protocol, as `xl migrate` drives its transport:
it starts the transport command (relocd-xl ...) with pipes for stdin and
stdout, waits for the receiver's banner, sends a stream, and walks
ready -> go -> report, then reads what the receiver sends back (see
fake-xl for the "FAKE" header).  Prints one line of facts and exits 0 if
every byte and the exit status came through as expected.

With --repeat the stream is one random MiB over and over, so that its
size (a benchmark's GiBs) costs no memory; the line then also gives the
transport's CPU seconds (from its rusage) and the stream's wall time.

With --content guest the stream is what a guest's memory looks like to
a compressor: every other 4 KiB page zero, the rest text (issue 21's
compression scenario).  The default, random, does not compress.

usage: xlsend.py [--mode xl|eof] [--size N] [--back N] [--exit N]
                 [--repeat] [--content random|guest] -- COMMAND...
"""
import argparse
import hashlib
import os
import random
import resource
import subprocess
import sys
import time

BANNER = b"xl migration receiver ready, send binary domain data.\n"
READY = b"domain received, ready to unpause\0"
GO = b"domain is yours, you are cleared to unpause\0"
REPORT = b"my copy unpause results are as follows\0"


def read_exact(f, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            raise EOFError("stdout ended after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def back_data(n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d" % i).digest()
        i += 1
    return bytes(out[:n])


WORDS = (b"the guest wrote this page of its memory while the migration "
         b"of dom0 copied it to another host over relocd").split()


def guest_content(n):
    """n bytes of 4 KiB pages: even ones zero, odd ones text."""
    out = bytearray()
    page = 0
    while len(out) < n:
        if page % 2 == 0:
            out += bytes(4096)
        else:
            rng = random.Random(page)
            text = b" ".join(rng.choice(WORDS) for _ in range(900))
            out += text[:4096].ljust(4096, b".")
        page += 1
    return bytes(out[:n])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("xl", "eof"), default="xl")
    p.add_argument("--size", type=int, default=4 << 20)
    p.add_argument("--back", type=int, default=0)
    p.add_argument("--exit", type=int, default=0)
    p.add_argument("--repeat", action="store_true")
    p.add_argument("--content", choices=("random", "guest"),
                   default="random")
    p.add_argument("cmd", nargs="+")
    a = p.parse_args()
    n = min(a.size, 1 << 20) if a.repeat else a.size
    block = guest_content(n) if a.content == "guest" else os.urandom(n)
    digest = hashlib.sha256()
    proc = subprocess.Popen(a.cmd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, bufsize=0)
    try:
        if read_exact(proc.stdout, len(BANNER)) != BANNER:
            raise ValueError("no banner")
        t0 = time.monotonic()
        length = "eof" if a.mode == "eof" else str(a.size)
        proc.stdin.write(b"FAKE %s %d %d\n" % (length.encode(), a.back,
                                               a.exit))
        left = a.size
        while left:
            part = block[:left]
            proc.stdin.write(part)
            digest.update(part)
            left -= len(part)
        if a.mode == "eof":
            proc.stdin.close()      # half-close: the answer must still come
        else:
            if read_exact(proc.stdout, len(READY)) != READY:
                raise ValueError("no ready message")
            proc.stdin.write(GO)
            if read_exact(proc.stdout, len(REPORT) + 1) != REPORT + b"\0":
                raise ValueError("no success report")
        back = read_exact(proc.stdout, a.back)
        extra = proc.stdout.read()  # must end here: xl-eof
        if a.mode == "xl":
            proc.stdin.close()
        status = proc.wait(60)
        wall = time.monotonic() - t0
    except (EOFError, ValueError, BrokenPipeError) as e:
        proc.kill()
        print("xlsend: %s; transport exited %s" % (e, proc.wait()))
        return 1
    ok = back == back_data(a.back) and not extra and status == a.exit
    line = ("sent %d bytes sha256 %s; got %d bytes back (%s), %d extra; "
            "exit status %d" % (a.size, digest.hexdigest(), len(back),
                                "intact" if back == back_data(a.back) else
                                "CORRUPT", len(extra), status))
    if a.repeat:
        # The transport is the only child this process waits for.
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        line += "; transport cpu %.3f s; wall %.3f s" % (
            ru.ru_utime + ru.ru_stime, wall)
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
