#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
#
# Hostile clients for tests/regress/load.sh, on loopback only.
#   flood.py flood PORT SOURCE N   N unauthenticated connections in
#                                  batches of 100, each sends junk and is
#                                  held 0.3 s; prints how many connected
#   flood.py slowloris PORT SOURCE sends one byte a second (at most 30)
#                                  and prints when the server hung up
# Every loop is bounded in count and in time.
import socket
import sys
import time


def flood(port, source, n):
    connected = 0
    deadline = time.monotonic() + 60
    for start in range(0, n, 100):
        if time.monotonic() > deadline:
            break
        batch = []
        for _ in range(min(100, n - start)):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.bind((source, 0))
                s.connect(("127.0.0.1", port))
                s.send(b"\x16\x03\x01\x00\x05junk")
                connected += 1
            except OSError:
                pass
            batch.append(s)
        time.sleep(0.3)
        for s in batch:
            s.close()
    print("connected %d of %d" % (connected, n))


def slowloris(port, source):
    s = socket.socket()
    s.settimeout(1)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    start = time.monotonic()
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40
    for i in range(30):
        try:
            s.send(hello[i:i + 1])
            if s.recv(1) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
    print("closed after %.0f s" % (time.monotonic() - start))


def main():
    if sys.argv[1] == "flood":
        flood(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "slowloris":
        slowloris(int(sys.argv[2]), sys.argv[3])
    else:
        raise SystemExit("unknown action " + sys.argv[1])


if __name__ == "__main__":
    main()
