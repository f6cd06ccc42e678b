#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Queries a CSV of flows (nfxdp's or NFStream's) for the shell tests.

  flows.py FILE [--where COL=VAL]... (--count | --get COLS | --sum COL | --pairs COLS)

--get prints the selected rows' columns (space separated, one row a line),
--pairs prints the sorted multiset of those columns, one "a b" per line.
"""
import argparse
import csv
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--where", action="append", default=[])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--count", action="store_true")
    g.add_argument("--get")
    g.add_argument("--sum")
    g.add_argument("--pairs")
    a = ap.parse_args()

    conds = [w.split("=", 1) for w in a.where]
    with open(a.file, newline="") as f:
        rows = [r for r in csv.DictReader(f) if all(r.get(k) == v for k, v in conds)]
    if a.count:
        print(len(rows))
    elif a.sum:
        print(sum(int(r[a.sum]) for r in rows))
    elif a.get:
        for r in rows:
            print(" ".join(r[c] for c in a.get.split(",")))
    else:
        cols = a.pairs.split(",")
        for t in sorted(tuple(int(r[c]) for c in cols) for r in rows):
            print(" ".join(map(str, t)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
