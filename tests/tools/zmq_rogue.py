#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A rogue ZeroMQ peer: subscribes to many random topics, as fast as it can.

  zmq_rogue.py HOST PORT COUNT [--source ADDR] [--min-len N] [--max-len N]
               [--seconds S]

Speaks ZMTP 3.0 itself over TCP (NULL mechanism, as an XSUB), so nothing
paces it: after the handshake it writes COUNT subscription messages to
random topics of MIN..MAX bytes (none a prefix of nfxdp's topics) as fast
as the publisher's TCP window allows. When the publisher closes the
connection it connects again and goes on where it was, until every
subscription is written or S seconds pass. Loopback's socket buffers can
take every subscription before the publisher reads the first, so once all
are written it waits (until S seconds) for the publisher to close the last
connection too. Prints "sent=N connections=N refused=N cut=N" at the end,
cut being the connections the publisher closed.
"""
import argparse
import random
import socket
import struct
import sys
import time


def greeting():
    # Signature, version 3.0, mechanism NULL, as-server 0, filler.
    return (b"\xff" + b"\x00" * 8 + b"\x7f" + bytes([3, 0]) + b"NULL".ljust(20, b"\x00")
            + b"\x00" + b"\x00" * 31)


def frame(body, command=False):
    flags = 0x04 if command else 0x00
    if len(body) > 255:
        return bytes([flags | 0x02]) + struct.pack("!Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def ready():
    prop = b"\x0bSocket-Type" + struct.pack("!I", 4) + b"XSUB"
    return frame(b"\x05READY" + prop, command=True)


def topics(rng, count, lo, hi):
    out = []
    while len(out) < count:
        t = bytes(rng.getrandbits(8) for _ in range(rng.randint(lo, hi)))
        if not (b"flowsz".startswith(t) or b"stats".startswith(t)):
            out.append(frame(b"\x01" + t))
    return out


def connect(host, port, source, deadline):
    s = socket.create_connection((host, port), timeout=max(0.1, deadline - time.time()),
                                 source_address=(source, 0) if source else None)
    s.sendall(greeting() + ready())
    # The publisher's greeting (64 bytes) and READY: past them, ours is the stream.
    got = b""
    while len(got) < 64 + 2:
        data = s.recv(4096)
        if not data:
            raise ConnectionError("closed during the handshake")
        got += data
    return s


def closed_by_peer(s, deadline):
    """1 once the publisher closes s, 0 if it is still open at the deadline."""
    while time.time() < deadline:
        s.settimeout(max(0.05, min(0.5, deadline - time.time())))
        try:
            if not s.recv(65536):
                return 1
        except socket.timeout:
            continue
        except OSError:
            return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--source")
    ap.add_argument("--min-len", type=int, default=8)
    ap.add_argument("--max-len", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=30)
    a = ap.parse_args()

    rng = random.Random(a.port)
    subs = topics(rng, a.count, a.min_len, a.max_len)
    deadline = time.time() + a.seconds
    sent = connections = refused = cut = 0
    while sent < len(subs) and time.time() < deadline:
        try:
            s = connect(a.host, a.port, a.source, deadline)
        except OSError:
            refused += 1
            time.sleep(0.05)
            continue
        connections += 1
        try:
            while sent < len(subs) and time.time() < deadline:
                s.settimeout(max(0.1, deadline - time.time()))
                s.sendall(b"".join(subs[sent:sent + 256]))
                sent = min(len(subs), sent + 256)
            cut += closed_by_peer(s, deadline)
        except OSError:
            cut += 1
        s.close()
    print(f"sent={sent} connections={connections} refused={refused} cut={cut}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
