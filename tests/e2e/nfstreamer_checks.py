# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Checks of python/nfxdp's NFStreamer for tests/e2e/test_nfstreamer.sh.

    nfstreamer_checks.py CHECK ARGS...

Each check prints one line the shell compares with what it wants.
"""
import csv
import glob
import math
import os
import sys
import warnings

import nfxdp
from nfxdp import NFStreamer, schema

warnings.simplefilter("ignore", nfxdp.NFXDPWarning)  # nfxdp's remarks on odd captures


def nfxdp_rows(path):
    """nfxdp's CSV as typed rows (the columns it has)."""
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        return [{k: schema.parse_value(k, v) for k, v in row.items()} for row in r]


def frame_rows(df):
    """A DataFrame's rows as plain Python values."""
    if df is None:
        return []
    out = []
    for row in df.to_dict("records"):
        out.append({k: (list(v) if isinstance(v, list) else
                        v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return out


def same_as_csv(pcap, csv_path, *args):
    """to_pandas() against nfxdp's CSV: rows, columns, every value."""
    kw = dict(a.split("=", 1) for a in args)
    kw = {k: (v == "True" if v in ("True", "False") else int(v)) for k, v in kw.items()}
    df = NFStreamer(source=pcap, **kw).to_pandas()
    ours, theirs = frame_rows(df), nfxdp_rows(csv_path)
    cols_same = df is not None and list(df.columns) == list(theirs[0].keys())
    print(len(ours), cols_same, ours == theirs)


def nfstream_results(pcap, results):
    """to_pandas() against NFStream's results: flows, packets and bytes per flow."""
    df = NFStreamer(source=pcap).to_pandas()
    with open(results, newline="") as f:
        theirs = sorted((int(r["bidirectional_packets"]), int(r["bidirectional_bytes"]))
                        for r in csv.DictReader(f))
    ours = sorted(zip(df["bidirectional_packets"].tolist(), df["bidirectional_bytes"].tolist()))
    print(len(ours), len(theirs), ours == theirs)


def golden_ssl(pcap):
    """statistical_analysis=True, accounting_mode=1 on google_ssl: NFStream's values."""
    df = NFStreamer(source=pcap, statistical_analysis=True, accounting_mode=1).to_pandas()
    f = df.iloc[0]

    def cut(x):  # the README's figures: 3 decimals, truncated
        return "%.3f" % (math.floor(x * 1000) / 1000)

    print(len(df), f.bidirectional_packets, f.bidirectional_bytes, f.src2dst_packets,
          f.src2dst_bytes, f.dst2src_packets, f.dst2src_bytes, f.bidirectional_duration_ms,
          f.bidirectional_min_ps, cut(f.bidirectional_mean_ps),
          cut(f.bidirectional_stddev_ps), f.bidirectional_max_ps,
          f.bidirectional_min_piat_ms, cut(f.bidirectional_mean_piat_ms),
          cut(f.bidirectional_stddev_piat_ms), f.bidirectional_max_piat_ms,
          f.bidirectional_syn_packets, f.bidirectional_ack_packets,
          f.bidirectional_psh_packets, f.bidirectional_fin_packets)


def to_csv(out, *pcaps):
    """to_csv(out) with statistical and splt columns; prints the flows it wrote."""
    print(NFStreamer(source=list(pcaps), statistical_analysis=True,
                     splt_analysis=10).to_csv(out))


def chunks(out, per_file, rotate, *pcaps):
    """to_csv() in files of per_file flows, rotate_files rotate: the files' row counts."""
    n = NFStreamer(source=list(pcaps)).to_csv(out, flows_per_file=int(per_file),
                                              rotate_files=int(rotate))
    base = out[:-4]
    files = sorted(glob.glob(base + ".*.csv"), key=lambda p: int(p.split(".")[-2]))
    sizes = []
    for p in files:
        with open(p) as f:
            lines = f.read().splitlines()
        sizes.append(f"{os.path.basename(p)}:{len(lines) - 1}")
    print(n, " ".join(sizes))


def anonymized(pcap):
    """Anonymized columns: not the clear values, one digest per value within a run,
    others in the next run; the other columns untouched."""
    cols = ["src_ip", "dst_ip", "src_mac"]
    clear = NFStreamer(source=pcap).to_pandas()
    one = NFStreamer(source=pcap).to_pandas(columns_to_anonymize=cols)
    two = NFStreamer(source=pcap).to_pandas(columns_to_anonymize=cols)
    differ = all((one[c] != clear[c]).all() for c in cols)
    hexlen = {len(v) for c in cols for v in one[c]}
    consistent = True
    for c in cols:
        pairs = set(zip(clear[c], one[c]))
        # a function of the clear value, and one to one
        consistent &= len({a for a, _ in pairs}) == len(pairs) == len({b for _, b in pairs})
    # src_ip and dst_ip share one key: an address has one digest in either column
    both = {}
    for c in ("src_ip", "dst_ip"):
        for a, b in zip(clear[c], one[c]):
            consistent &= both.setdefault(a, b) == b
    next_run = all((one[c] != two[c]).all() for c in cols)
    rest = [c for c in clear.columns if c not in cols]
    untouched = clear[rest].equals(one[rest])
    print(len(clear), differ, hexlen, consistent, next_run, untouched)


def anonymized_csv(out, pcap):
    """to_csv(columns_to_anonymize): digests in the file, the other cells as nfxdp's."""
    n = NFStreamer(source=pcap).to_csv(out, columns_to_anonymize=["src_ip"])
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    print(n, {len(r["src_ip"]) for r in rows}, all("." not in r["src_ip"] for r in rows))


def refused(expr):
    """NFStreamer(...) built from EXPR: the error's type and first words."""
    try:
        eval(expr, {"NFStreamer": NFStreamer, "nfxdp": nfxdp, "SRC": os.environ.get("SRC")})
    except (ValueError, TypeError, OSError) as e:
        print(type(e).__name__ + ": " + str(e).splitlines()[0])
        return
    print("accepted")


def run(expr):
    """EXPR's value, printed."""
    print(eval(expr, {"NFStreamer": NFStreamer, "nfxdp": nfxdp, "SRC": os.environ.get("SRC"),
                      "os": os}))


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
