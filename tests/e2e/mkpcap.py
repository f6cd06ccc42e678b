#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Writes a capture file of crafted frames for the shell tests.

  mkpcap.py OUT [--pcapng] < FRAMES

One frame per line of FRAMES (blank lines and # comments skipped):

  TIME SRC DST SPORT DPORT [proto=udp|tcp] [payload=N] [len=N] [caplen=N]
                           [fabricpath=1] [vlan=N]

TIME is Unix time in seconds (fractions allowed); SRC and DST are IPv4
addresses; the frame is Ethernet / IPv4 / UDP (or TCP) with N payload bytes
(default 18, a 60-byte frame). len= makes the record claim another original
length, caplen= keeps fewer bytes of the frame. fabricpath=1 puts the frame
behind a Cisco FabricPath outer header (16 bytes, ethertype 0x8903); vlan=
adds an 802.1Q tag. OUT "-" is standard output.
"""
import socket
import struct
import sys

MAC_A = bytes.fromhex("020000000a01")
MAC_B = bytes.fromhex("020000000a02")


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, proto="udp", payload=18, fabricpath=False, vlan=None):
    data = bytes(payload)
    if proto == "tcp":
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x10, 65535, 0, 0) + data
        pnum = 6
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
        pnum = 17
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, pnum, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    eth = MAC_B + MAC_A + tag + struct.pack("!H", 0x0800) + ip + l4
    if fabricpath:
        # Outer DA, SA (switch ids), ethertype 0x8903, FTag and TTL.
        eth = bytes.fromhex("0a0000010000") + bytes.fromhex("0a0000020000") + \
            struct.pack("!HH", 0x8903, 0x0401) + eth
    return eth


def parse(line):
    f = line.split()
    t, src, dst, sport, dport = float(f[0]), f[1], f[2], int(f[3]), int(f[4])
    opt = dict(kv.split("=", 1) for kv in f[5:])
    b = frame(src, dst, sport, dport, opt.get("proto", "udp"), int(opt.get("payload", 18)),
              opt.get("fabricpath") == "1",
              int(opt["vlan"]) if "vlan" in opt else None)
    wire = int(opt.get("len", len(b)))
    cap = int(opt.get("caplen", len(b)))
    return t, b[:cap], wire


def pcap(out, frames):
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for t, b, wire in frames:
        sec = int(t)
        usec = int(round((t - sec) * 1e6))
        out.write(struct.pack("<IIII", sec, usec, len(b), wire) + b)


def block(btype, body):
    body += bytes(-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng(out, frames):
    out.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
    out.write(block(1, struct.pack("<HHI", 1, 0, 262144)))  # microseconds
    for t, b, wire in frames:
        us = int(round(t * 1e6))
        out.write(block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(b), wire) + b))


def main():
    args = sys.argv[1:]
    ng = "--pcapng" in args
    args = [a for a in args if a != "--pcapng"]
    if len(args) != 1:
        sys.exit(__doc__)
    frames = (parse(l) for l in sys.stdin if l.strip() and not l.startswith("#"))
    out = sys.stdout.buffer if args[0] == "-" else open(args[0], "wb")
    (pcapng if ng else pcap)(out, frames)
    out.flush()


if __name__ == "__main__":
    main()
