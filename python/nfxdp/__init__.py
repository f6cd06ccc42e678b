# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""nfxdp flow records in Python.

    from nfxdp import NFStreamer        # was: from nfstream import NFStreamer
    df = NFStreamer(source="tcp://127.0.0.1:5556").to_pandas(max_flows=1000, timeout=60)

Streamer (alias NFStreamer) subscribes to an nfxdp agent's ZeroMQ stream and
gives flows with NFStream's column names; iter_pb_file() reads the batches
of an ``nfxdp --format pb`` file and decode_batch() any packed FlowBatch
(ZeroMQ, MQTT payloads). docs/stream.md describes the wire formats.
"""
from .consumer import DEFAULT_ENDPOINT, NFStreamer, StreamEvent, Streamer, StreamTracker
from .schema import (columns_for, decode_batch, flow_fields, flow_to_dict, iter_pb_file,
                     parse_value, pb2)

__all__ = ["DEFAULT_ENDPOINT", "NFStreamer", "StreamEvent", "Streamer", "StreamTracker",
           "columns_for", "decode_batch", "flow_fields", "flow_to_dict", "iter_pb_file",
           "parse_value", "pb2"]
