#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
#
# Clients and a stand-in name server for tests/regress/admission.sh, on
# loopback only.  Every loop is bounded in count and in time.
#   admit.py hold PORT SECONDS PER SOURCE...
#       PER idle connections from each SOURCE address, held SECONDS;
#       prints "connected N" once all are open, then "closed by the
#       server: N" (those the server hung up on while held)
#   admit.py probe PORT SOURCE
#       sends a TLS ClientHello from SOURCE and counts the bytes that
#       come back before the server closes (5 s at most); prints
#       "received N bytes, closed" or "... still open"
#   admit.py dns SECONDS RECORDS ADDRESS...
#       a stand-in name server on ADDRESS:53 (UDP) for SECONDS: RECORDS
#       is a comma-separated list of "ptr:IP=NAME" and "a:NAME=IP"; it
#       answers those, says "no such name" to other A and AAAA queries,
#       and never answers any other PTR query, so such a lookup waits
#       for the resolver's timeouts
import select
import socket
import ssl
import struct
import sys
import time


def hold(port, seconds, per, sources):
    socks = []
    for src in sources:
        for _ in range(per):
            s = socket.socket()
            s.settimeout(2)
            s.bind((src, 0))
            s.connect(("127.0.0.1", port))
            socks.append(s)
    print("connected %d" % len(socks), flush=True)
    closed = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(closed) < len(socks):
        live = [s for s in socks if s not in closed]
        r, _, _ = select.select(live, [], [], 0.2)
        for s in r:
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    closed.add(s)
            except OSError:
                closed.add(s)
    print("closed by the server: %d" % len(closed), flush=True)
    for s in socks:
        s.close()


def client_hello():
    """A real ClientHello, from Python's TLS stack, without a socket."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="relocd")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def probe(port, source):
    s = socket.socket()
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    got, closed = 0, False
    deadline = time.monotonic() + 5
    try:
        s.sendall(client_hello())
    except OSError:
        closed = True
    while not closed and time.monotonic() < deadline:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not data:
            closed = True
            break
        got += len(data)
    print("received %d bytes, %s" % (got, "closed" if closed else
                                      "still open"))
    return 0 if got == 0 and closed else 1


def dns_name(data, off):
    """The query's name, as text, and the offset after it."""
    labels = []
    for _ in range(128):
        n = data[off]
        off += 1
        if n == 0:
            return ".".join(labels).lower(), off
        labels.append(data[off:off + n].decode("ascii", "replace"))
        off += n
    raise ValueError("name too long")


def dns_encode(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_answer(data, records):
    """The reply to one query, or None to stay silent."""
    qid, _, qd = struct.unpack(">HHH", data[:6])
    if qd != 1:
        return None
    name, off = dns_name(data, 12)
    qtype, _ = struct.unpack(">HH", data[off:off + 4])
    question = data[12:off + 4]
    rdata, rcode = None, 0
    if qtype == 12:                         # PTR
        if name not in records:
            return None
        rdata = dns_encode(records[name])
    elif qtype in (1, 28):                  # A, AAAA
        if qtype == 1 and name in records:
            rdata = socket.inet_aton(records[name])
        elif not any(k == name for k in records):
            rcode = 3
    else:
        rcode = 4
    hdr = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1,
                      1 if rdata else 0, 0, 0)
    ans = b""
    if rdata:
        ans = struct.pack(">HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
    return hdr + question + ans


def dns(seconds, spec, addresses):
    records = {}
    for item in spec.split(","):
        kind, rest = item.split(":", 1)
        key, value = rest.split("=", 1)
        if kind == "ptr":
            key = ".".join(reversed(key.split("."))) + ".in-addr.arpa"
        records[key.lower()] = value
    socks = []
    for a in addresses:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 53))
        socks.append(s)
    print("listening", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 0.5)
        for s in r:
            data, peer = s.recvfrom(4096)
            try:
                reply = dns_answer(data, records)
            except (ValueError, IndexError, struct.error):
                reply = None
            if reply:
                s.sendto(reply, peer)


def main():
    a = sys.argv
    if a[1] == "hold":
        hold(int(a[2]), float(a[3]), int(a[4]), a[5:])
    elif a[1] == "probe":
        return probe(int(a[2]), a[3])
    elif a[1] == "dns":
        dns(float(a[2]), a[3], a[4:])
    else:
        raise SystemExit("unknown action " + a[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
