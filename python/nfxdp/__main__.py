# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""python3 -m nfxdp [ENDPOINT] [--max-flows N] [--timeout S] [--idle-timeout S]

Prints the stream's flows as CSV with NFStream's column names (lists as
"[a, b]"), then the stream's counters on stderr.
"""
import argparse
import csv
import sys

from .consumer import DEFAULT_ENDPOINT, Streamer


def cell(v):
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m nfxdp")
    ap.add_argument("endpoint", nargs="?", default=DEFAULT_ENDPOINT)
    ap.add_argument("--max-flows", type=int)
    ap.add_argument("--timeout", type=float, help="seconds in all")
    ap.add_argument("--idle-timeout", type=float, help="seconds without a batch")
    a = ap.parse_args(argv)
    with Streamer(a.endpoint) as s:
        rows, columns = s.rows(a.max_flows, a.timeout, a.idle_timeout)
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(columns)
        for r in rows:
            out.writerow([cell(r.get(c, "")) for c in columns])
        print(" ".join(f"{k}={v}" for k, v in s.stats.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
