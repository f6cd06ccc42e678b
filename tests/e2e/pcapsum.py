#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Per flow and direction, what an Ethernet capture holds: frames and bytes
as each --accounting mode counts them, written independently of nfxdp.

  pcapsum.py FILE.pcap            one line per (flow, sender):
      proto src sport dst dport frames link ip transport payload \
      hdr_link hdr_ip hdr_transport
  (hdr_*: the header bytes each mode counts of the sender's largest frame:
  what every segment of a GSO packet repeats.)

IPv4 and IPv6 over Ethernet (802.1Q tags skipped); TCP, UDP, ICMP.
"""
import socket
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        magic = struct.unpack("<I", f.read(24)[:4])[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            sys.exit(f"{path}: not a little-endian classic pcap")
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            _, _, caplen, wirelen = struct.unpack("<IIII", h)
            yield f.read(caplen), wirelen


def parse(data, wirelen):
    """(key, sender, (link, ip, transport, payload), (hdr per mode)) of a frame, or None."""
    off, etype = 14, struct.unpack(">H", data[12:14])[0]
    while etype in (0x8100, 0x88A8):
        etype = struct.unpack(">H", data[off + 2:off + 4])[0]
        off += 4
    if etype == 0x0800:
        ihl = (data[off] & 15) * 4
        ip_len = struct.unpack(">H", data[off + 2:off + 4])[0]
        proto = data[off + 9]
        src, dst = socket.inet_ntop(socket.AF_INET, data[off + 12:off + 16]), \
            socket.inet_ntop(socket.AF_INET, data[off + 16:off + 20])
        l4, l4_len, ip_bytes, ip_from = off + ihl, ip_len - ihl, ip_len, off
    elif etype == 0x86DD:
        pay = struct.unpack(">H", data[off + 4:off + 6])[0]
        proto = data[off + 6]
        src, dst = socket.inet_ntop(socket.AF_INET6, data[off + 8:off + 24]), \
            socket.inet_ntop(socket.AF_INET6, data[off + 24:off + 40])
        # NFStream's IPv6 bytes: the payload length, without the fixed header.
        l4, l4_len, ip_bytes, ip_from = off + 40, pay, pay, off + 40
    else:
        return None
    sport = dport = 0
    hdr = 8
    if proto == 6:
        sport, dport = struct.unpack(">HH", data[l4:l4 + 4])
        hdr = (data[l4 + 12] >> 4) * 4
    elif proto == 17:
        sport, dport = struct.unpack(">HH", data[l4:l4 + 4])
    a, b = (src, sport), (dst, dport)
    key = (proto,) + (a + b if a <= b else b + a)
    counts = (wirelen, ip_bytes, l4_len, max(l4_len - hdr, 0))
    return key, a, counts, (l4 + hdr, l4 + hdr - ip_from, hdr)


def main():
    flows = {}
    for data, wirelen in frames(sys.argv[1]):
        p = parse(data, wirelen)
        if not p:
            continue
        key, sender, counts, hdrs = p
        k = (key[0],) + sender + (key[3:5] if sender == key[1:3] else key[1:3])
        s = flows.setdefault(k, {"n": 0, "counts": [0, 0, 0, 0], "largest": -1, "hdrs": ()})
        s["n"] += 1
        s["counts"] = [x + y for x, y in zip(s["counts"], counts)]
        if counts[0] > s["largest"]:
            s["largest"], s["hdrs"] = counts[0], hdrs
    for k, s in sorted(flows.items()):
        print(*k, s["n"], *s["counts"], *s["hdrs"])


if __name__ == "__main__":
    main()
