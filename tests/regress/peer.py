#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A relocd peer for the regress tests, written independently of relocd's
C code so that a client nobody here wrote in C is in the loop: it speaks
the wire protocol (4-byte frames: kind 'C'/'D' + 24-bit length; sxp
control messages) over TLS with Python's ssl module, and can misbehave
on purpose.  Prints the server's last control message; the exit status
says whether the expected outcome happened."""
import argparse
import re
import socket
import ssl
import struct
import sys
import time


def frame(kind, payload):
    return kind + struct.pack(">I", len(payload))[1:] + payload


def control(msg):
    return frame(b"C", msg.encode())


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def read_control(s):
    hdr = read_exact(s, 4)
    if hdr[0:1] != b"C":
        raise ValueError("not a control frame: %r" % hdr)
    n = struct.unpack(">I", b"\0" + hdr[1:])[0]
    return read_exact(s, n).decode()


def quote(word):
    """One sxp atom, quoted when it holds anything but plain characters."""
    if word and re.fullmatch(r"[A-Za-z0-9_.:/+-]+", word):
        return word
    return "'" + word.replace("\\", "\\\\").replace("'", "\\'") + "'"


def connect(a):
    source = (a.source, 0) if a.source else None
    raw = socket.create_connection((a.host, a.port), timeout=a.timeout,
                                   source_address=source)
    if a.plain:
        return raw
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(a.ca)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    return ctx.wrap_socket(raw, server_hostname=a.host)


def zstd_frame(content):
    """One zstd frame of raw blocks, its size declared in the header."""
    out = struct.pack("<I", 0xFD2FB528)
    # single segment, a 4-byte content size
    out += bytes([0xA0]) + struct.pack("<I", len(content))
    pos = 0
    while True:
        block = content[pos:pos + (128 << 10)]
        pos += len(block)
        last = pos >= len(content)
        out += struct.pack("<I", int(last) | len(block) << 3)[:3] + block
        if last:
            return out


def zstd_bomb():
    """A frame that declares 2 MiB, over any chunk's bound, in RLE
    blocks of 128 KiB: a few bytes that would grow a thousandfold."""
    out = struct.pack("<I", 0xFD2FB528) + bytes([0xA0])
    out += struct.pack("<I", 2 << 20)
    for i in range(16):
        last = i == 15
        out += struct.pack("<I", int(last) | 1 << 1 | (128 << 10) << 3)[:3]
        out += b"\0"
    return out


RESERVE = ("(reserve (id {id}) (name {name}) (uuid {uuid}) (type sim) "
           "(memory {memory}) (vcpus 1) (live yes) "
           "(config '(sim (dirty-rate 0) (pattern uniform))'))")


def bad_zstd_after(a, s, reply):
    """The peer's reply must accept zstd; then one bad compressed frame
    (a.kind: bomb or truncated), and the peer's answer to it."""
    if "(compress zstd)" not in reply:
        return "zstd not accepted: " + reply
    if a.kind == "bomb":
        payload = zstd_bomb()
    else:
        payload = zstd_frame(b"RLCDSIM\n" * 512)[:-100]
    s.sendall(frame(b"Z", payload))
    return read_control(s)


def scenario(a, s):
    """Runs a.action; returns the last control message received."""
    hello = a.hello
    if a.action == "hello":
        s.sendall(control(hello))
        return read_control(s)
    if a.action == "reserve":
        s.sendall(control(hello))
        read_control(s)
        s.sendall(control(RESERVE.format(id=a.id, name=a.name, uuid=a.uuid,
                                         memory=a.memory)))
        reply = read_control(s)
        if a.hold:
            time.sleep(a.hold)
        s.sendall(control("(abort (id %s) (code 14) (text 'test done'))"
                          % a.id))
        return reply
    if a.action == "zstd-bad":
        # A source that agrees on zstd (protocol 6), then sends one bad
        # compressed frame (a.kind): the destination must refuse it.
        s.sendall(control("(hello (protocol 1) (protocol-max 6) "
                          "(host peer.py))"))
        read_control(s)
        s.sendall(control(RESERVE.format(
            id=a.id, name=a.name, uuid=a.uuid,
            memory=a.memory).replace("(config", "(compress zstd) (config")))
        return bad_zstd_after(a, s, read_control(s))
    if a.action == "xl-zstd-bad":
        # An xl plugin that offers zstd (--hello's protocol-max decides if
        # it may), then sends one bad compressed frame (a.kind): relocd
        # must refuse it before xl sees a byte.
        s.sendall(control(hello))
        read_control(s)
        words = " ".join(quote(w) for w in a.args.split(" "))
        s.sendall(control("(xl-receive (id %s) (compress zstd) (args %s))"
                          % (a.id, words)))
        return bad_zstd_after(a, s, read_control(s))
    if a.action == "oversized":
        s.sendall(b"C\xff\xff\xff")
        return read_control(s)
    if a.action == "unknown-type":
        s.sendall(control(hello))
        read_control(s)
        s.sendall(control("(teleport (id 0))"))
        return read_control(s)
    if a.action == "out-of-order":
        s.sendall(control(RESERVE.format(id=a.id, name=a.name, uuid=a.uuid,
                                         memory=a.memory)))
        return read_control(s)
    if a.action == "xl-receive":
        # An xl plugin's request, with the words as given (--args).
        s.sendall(control(hello))
        reply = read_control(s)
        if reply.startswith("(error"):
            return reply
        words = " ".join(quote(w) for w in a.args.split(" "))
        s.sendall(control("(xl-receive (id %s) (args %s))" % (a.id, words)))
        return read_control(s)
    if a.action == "silent":
        start = time.monotonic()
        try:
            data = s.recv(4096)
        except (ConnectionError, ssl.SSLError, socket.timeout) as e:
            data = repr(e).encode()
        return "closed after %.1f s: %r" % (time.monotonic() - start, data[:60])
    raise SystemExit("unknown action " + a.action)


def serve_hello(a):
    """A destination that answers one source's hello with a.reply (a later
    release's hello or refusal) and returns what the source sent next:
    a source must send nothing, no reserve above all, when they share no
    protocol version."""
    ls = socket.create_server((a.host, a.port))
    ls.settimeout(a.timeout)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    raw, _ = ls.accept()
    raw.settimeout(a.timeout)
    s = ctx.wrap_socket(raw, server_side=True)
    hello = read_control(s)
    if not hello.startswith("(hello "):
        return "no hello first: " + hello
    s.sendall(control(a.reply))
    try:
        return "then: " + read_control(s)
    except (EOFError, OSError, ssl.SSLError) as e:
        return "then closed (%s)" % e


def main():
    p = argparse.ArgumentParser()
    p.add_argument("action")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--source")
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--id", default="0123456789abcdef0123456789abcdef")
    p.add_argument("--name", default="guest1")
    p.add_argument("--uuid", default="8f14e45f-ceea-467a-9575-6a1f3b1c2d3e")
    p.add_argument("--memory", type=int, default=16 << 20)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--kind", default="bomb",
                   help="zstd-bad, xl-zstd-bad: bomb or truncated")
    p.add_argument("--args", default="xl migrate-receive",
                   help="xl-receive: the words, separated by spaces")
    p.add_argument("--hello", default="(hello (protocol 1) (host peer.py))",
                   help="the hello to send, e.g. a later release's")
    p.add_argument("--reply", help="serve-hello: the answer to a hello")
    p.add_argument("--expect", help="regex the last message must match")
    a = p.parse_args()
    try:
        if a.action == "serve-hello":
            reply = serve_hello(a)
        else:
            reply = scenario(a, connect(a))
    except (OSError, EOFError, ValueError, ssl.SSLError) as e:
        reply = "exception: %s" % e
    print(reply)
    if a.expect and not re.search(a.expect, reply):
        print("expected /%s/" % a.expect, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
