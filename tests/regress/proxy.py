#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A TCP proxy for the fault matrix (faults-*.sh): forwards connections
to 127.0.0.1:LISTEN to 127.0.0.1:TARGET, and breaks the link on command
the ways a network breaks:

  SIGUSR1   cut: every connection is reset, and new ones are reset
            until the link is healed
  SIGUSR2   heal: forward again
  SIGWINCH  blackhole: stop moving bytes, leaving the sockets open, as a
            link that went down without a word
  --corrupt N   flip one bit in byte N of the first connection's
                client-to-server stream (inside a TLS record)

Prints "ready" once listening, and a line for each event.  Single
threaded: one select loop, non-blocking sockets, bounded buffers."""
import argparse
import select
import signal
import socket
import struct
import sys

BUF_MAX = 1 << 20


class Pipe:
    """One direction of one proxied connection."""

    def __init__(self, src, dst, corrupt_at=None):
        self.src, self.dst = src, dst
        self.buf = bytearray()
        self.seen = 0
        self.corrupt_at = corrupt_at
        self.eof = False


class Proxy:
    def __init__(self, a):
        self.a = a
        self.conns = []          # (client, server, up, down)
        self.cut = False
        self.blackhole = False
        self.first = True
        self.pending = []
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", a.listen))
        self.ls.listen(64)
        self.ls.setblocking(False)
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH):
            signal.signal(sig, lambda s, f: self.pending.append(s))

    @staticmethod
    def reset(s):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            pass

    def say(self, what):
        print(what, flush=True)

    def drop_all(self):
        for c in self.conns:
            self.reset(c[0])
            self.reset(c[1])
        self.conns = []

    def on_signal(self, sig):
        if sig == signal.SIGUSR1:
            self.cut, self.blackhole = True, False
            self.say("cut: reset %d connections" % len(self.conns))
            self.drop_all()
        elif sig == signal.SIGUSR2:
            self.cut = self.blackhole = False
            self.say("healed")
        else:
            self.blackhole = True
            self.say("blackhole")

    def accept(self):
        try:
            c, _ = self.ls.accept()
        except BlockingIOError:
            return
        if self.cut:
            self.reset(c)
            self.say("refused a connection (cut)")
            return
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", self.a.target))
        except OSError:
            self.reset(c)
            return
        c.setblocking(False)
        s.setblocking(False)
        corrupt = self.a.corrupt if self.first else None
        self.first = False
        self.conns.append((c, s, Pipe(c, s, corrupt), Pipe(s, c)))

    def move(self, p, readable, writable):
        """Moves bytes one way; returns False once the pipe is done."""
        if p.src in readable and len(p.buf) < BUF_MAX and not p.eof:
            try:
                data = p.src.recv(65536)
            except OSError:
                return False
            if not data:
                p.eof = True
            else:
                start = p.seen
                p.seen += len(data)
                if p.corrupt_at is not None and start <= p.corrupt_at < p.seen:
                    data = bytearray(data)
                    data[p.corrupt_at - start] ^= 0x10
                    self.say("corrupted byte %d" % p.corrupt_at)
                    p.corrupt_at = None
                p.buf += data
        if p.buf and p.dst in writable:
            try:
                n = p.dst.send(p.buf)
            except OSError:
                return False
            del p.buf[:n]
        if p.eof and not p.buf:
            try:
                p.dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return None
        return True

    def run(self):
        self.say("ready")
        while True:
            while self.pending:
                self.on_signal(self.pending.pop(0))
            rl = [self.ls]
            wl = []
            if not self.blackhole:
                for c, s, up, down in self.conns:
                    for p in (up, down):
                        if not p.eof and len(p.buf) < BUF_MAX:
                            rl.append(p.src)
                        if p.buf:
                            wl.append(p.dst)
            try:
                r, w, _ = select.select(rl, wl, [], 0.2)
            except InterruptedError:
                continue
            if self.ls in r:
                self.accept()
            if self.blackhole:
                continue
            keep = []
            for conn in self.conns:
                c, s, up, down = conn
                a, b = self.move(up, r, w), self.move(down, r, w)
                if a is False or b is False:
                    self.reset(c)
                    self.reset(s)
                elif a is None and b is None:
                    c.close()
                    s.close()
                else:
                    keep.append(conn)
            self.conns = keep


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--target", type=int, required=True)
    p.add_argument("--corrupt", type=int)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
    Proxy(a).run()


if __name__ == "__main__":
    main()
