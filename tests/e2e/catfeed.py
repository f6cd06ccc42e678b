#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Feeds nfxdp-cat what an adversary would, for tests/e2e/test_cat.sh.

  catfeed.py spool FILE MIB          a spool of about MIB MiB of batches
  catfeed.py seq FILE SEQ...         one batch per SEQ (one flow each), one stream
  catfeed.py ctrl FILE               a batch whose strings hold control characters
  catfeed.py bomb ENDPOINT           publish: an 8 KB deflated batch that
                                     inflates to 8 MB of empty flows, then a
                                     batch of one flow
  catfeed.py empties ENDPOINT MIB    publish: MIB MiB of empty flows, not
                                     deflated, then a batch of one flow
  catfeed.py big ENDPOINT MIB        publish: a message of MIB MiB, then (once
                                     the subscriber joins again) one flow

Publishing waits for a subscriber before each part. flow_pb2 comes from
$NFXDP_PB_DIR (build/python).
"""
import os
import sys
import zlib

sys.path.insert(0, os.environ.get("NFXDP_PB_DIR", "build/python"))
import flow_pb2  # noqa: E402

STREAM = 0x5EED


def flow(i, **kw):
    f = flow_pb2.Flow(id=i, src_ip="198.18.7.1", dst_ip="198.18.7.2", src_port=1000 + i % 50000,
                      dst_port=53, protocol=17, ip_version=4, bidirectional_packets=1,
                      bidirectional_bytes=60, src_mac="02:00:00:00:0a:01",
                      dst_mac="02:00:00:00:0a:02")
    for k, v in kw.items():
        if isinstance(v, list):
            getattr(f, k).extend(v)
        else:
            setattr(f, k, v)
    return f


def batch(seq, flows):
    return flow_pb2.FlowBatch(schema_version=1, agent="catfeed", interface="test", stream_id=STREAM,
                              sequence=seq, flows=flows).SerializeToString()


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def write_batches(path, batches):
    with open(path, "wb") as f:
        for b in batches:
            f.write(varint(len(b)) + b)


def spool(path, mib):
    # The flows once, then a small head per batch: repeated fields concatenate.
    flows = b"".join(b"\x82\x01" + varint(len(s)) + s for s in
                     (flow(i, splt_ps=list(range(1000, 1032))).SerializeToString()
                      for i in range(1000)))
    n = mib * (1 << 20) // len(flows) + 1
    with open(path, "wb") as f:
        for seq in range(n):
            b = batch(seq, []) + flows
            f.write(varint(len(b)) + b)
    print(n * 1000)


def publisher(endpoint):
    import zmq
    ctx = zmq.Context()
    s = ctx.socket(zmq.XPUB)
    s.setsockopt(zmq.XPUB_VERBOSE, 1)
    s.setsockopt(zmq.SNDHWM, 0)
    s.setsockopt(zmq.RCVTIMEO, 20000)  # a test that went wrong ends
    s.bind(endpoint)
    return s


def joined(s):
    """Waits for a subscription to the flows topic (a subscriber, or the same again)."""
    while True:
        m = s.recv()
        if m[:1] == b"\x01" and m[1:].startswith(b"flows"):
            return


def main():
    cmd, arg = sys.argv[1], sys.argv[2]
    if cmd == "spool":
        spool(arg, int(sys.argv[3]))
    elif cmd == "seq":
        write_batches(arg, [batch(int(q), [flow(i)]) for i, q in enumerate(sys.argv[3:])])
    elif cmd == "ctrl":
        write_batches(arg, [batch(0, [flow(0, src_ip="198.18.7.1\x1b[2J\x07", dst_mac="a\r\nb\x7f",
                                            dst_ip="\xc2\x9b31m")])])
    elif cmd in ("bomb", "empties"):
        s = publisher(arg)
        joined(s)
        if cmd == "bomb":
            s.send_multipart([b"flowsz", zlib.compress(b"\x82\x01\x00" * ((8 << 20) // 3), 9)])
        else:
            s.send_multipart([b"flows", b"\x82\x01\x00" * ((int(sys.argv[3]) << 20) // 3)])
        s.send_multipart([b"flows", batch(1, [flow(1)])])
        s.recv()  # the subscriber leaves: the batch was delivered
    elif cmd == "big":
        s = publisher(arg)
        joined(s)
        s.send_multipart([b"flows", bytes(int(sys.argv[3]) << 20)])
        joined(s)  # libzmq dropped it: it comes back
        s.send_multipart([b"flows", batch(1, [flow(1)])])
        s.recv()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
