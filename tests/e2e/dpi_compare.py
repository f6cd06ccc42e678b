#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""nfxdp --dpi against ndpiReader (the same nDPI) and NFStream's results.

dpi_compare.py NFXDP PCAPDIR RESULTSDIR N [--list]

Against ndpiReader (run with -T N -U N: at most N packets a flow, as
--dpi N), flows are matched by 5-tuple (protocol and both endpoints, either
way round); where a 5-tuple has several flows, their (application,
category) pairs are compared as multisets. NFStream's results/*.csv name no
endpoints: application_name is compared as a multiset per capture, for
nfxdp and, as a yardstick, for ndpiReader with its defaults. Prints:
  ndpireader AGREE COMPARED        application and category equal
  nfstream AGREE FLOWS             nfxdp's application_name in NFStream's
  ndpireader-nfstream AGREE FLOWS  ndpiReader's (defaults) in NFStream's
and with --list one line per flow that differs from ndpiReader.
"""
import collections
import csv
import os
import re
import subprocess
import sys

PROTOS = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPV6": 58, "IGMP": 2, "SCTP": 132,
          "GRE": 47, "ESP": 50, "OSPF": 89, "VRRP": 112, "PIM": 103}
LINE = re.compile(r"^\s+\d+\s+(\S+)\s+(\S+)\s+(?:<->|->)\s+(\S+)\s+\[proto: [^/]*/([^\]]+)\]"
                  r"(?:.*?\[cat: ([^/\]]+)/)?")


def endpoint(text):
    m = re.match(r"^\[?(.*?)\]?:(\d+)$", text)
    return (m.group(1), int(m.group(2))) if m else (text, 0)


def key(proto, a, b):
    return (int(proto), tuple(sorted([a, b])))


def ndpireader(pcap, n=None):
    limits = ["-T", str(n), "-U", str(n)] if n else []
    out = subprocess.run(["ndpiReader", "-t", *limits, "-v", "2", "-i", pcap],
                         capture_output=True, text=True).stdout
    flows = collections.defaultdict(list)
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        proto = PROTOS.get(m.group(1).upper(), m.group(1))
        if not isinstance(proto, int) and not proto.isdigit():
            continue
        flows[key(proto, endpoint(m.group(2)), endpoint(m.group(3)))].append(
            (m.group(4), m.group(5) or "Unspecified"))
    return flows


def nfxdp(binary, pcap, n):
    out = subprocess.run([binary, "--pcap", pcap, "--dpi", str(n)], capture_output=True,
                         text=True, check=True).stdout
    flows = collections.defaultdict(list)
    for r in csv.DictReader(out.splitlines()):
        k = key(r["protocol"], (r["src_ip"], int(r["src_port"])),
                (r["dst_ip"], int(r["dst_port"])))
        flows[k].append((r["application_name"], r["application_category_name"]))
    return flows


def nfstream(path):
    """NFStream's results name no endpoints: one multiset per capture."""
    with open(path) as f:
        return {"capture": [(r["application_name"], None) for r in csv.DictReader(f)]}


def per_capture(flows):
    return {"capture": [x for v in flows.values() for x in v]}


def compare(ours, theirs, name_only, pcap, diffs):
    """Flows of @ours equal to @theirs, and flows compared (@theirs' count for a capture)."""
    agree = compared = 0
    for k, mine in ours.items():
        other = theirs.get(k, [])
        if not other:
            continue
        a = collections.Counter(x[0] if name_only else x for x in mine)
        b = collections.Counter(x[0] if name_only else x for x in other)
        n = len(other) if name_only else min(len(mine), len(other))
        same = min(sum((a & b).values()), n)
        agree += same
        compared += n
        if same < n and not name_only:
            diffs.append(f"{os.path.basename(pcap)} {k[0]} {k[1][0][0]}:{k[1][0][1]} "
                         f"{k[1][1][0]}:{k[1][1][1]} nfxdp={sorted(a)} other={sorted(b)}")
    return agree, compared


def main():
    binary, pcaps, results, n = sys.argv[1:5]
    listing = "--list" in sys.argv
    totals = {"ndpireader": [0, 0], "nfstream": [0, 0], "ndpireader-nfstream": [0, 0]}
    diffs = {"ndpireader": [], "nfstream": [], "ndpireader-nfstream": []}
    for name in sorted(os.listdir(pcaps)):
        pcap = os.path.join(pcaps, name)
        ours = nfxdp(binary, pcap, n)
        for ref, theirs, name_only in (("ndpireader", ndpireader(pcap, n), False),):
            a, c = compare(ours, theirs, name_only, pcap, diffs[ref])
            totals[ref][0] += a
            totals[ref][1] += c
        res = os.path.join(results, name + ".csv")
        if os.path.exists(res):
            nfs = nfstream(res)
            for ref, flows in (("nfstream", ours), ("ndpireader-nfstream", ndpireader(pcap))):
                a, c = compare(per_capture(flows), nfs, True, pcap, diffs[ref])
                totals[ref][0] += a
                totals[ref][1] += c
    for ref in totals:
        print(ref, *totals[ref])
    if listing:
        for d in diffs["ndpireader"]:
            print("ndpireader", d)


if __name__ == "__main__":
    main()
