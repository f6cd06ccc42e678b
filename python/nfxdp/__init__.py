# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""nfxdp flow records in Python.

    from nfxdp import NFStreamer        # was: from nfstream import NFStreamer
    df = NFStreamer(source="trace.pcap").to_pandas()

NFStreamer takes NFStream's parameters: for capture files and interfaces it
runs nfxdp and reads its flows through a pipe; for a ZeroMQ endpoint
(tcp://, ipc://) it subscribes to a running agent (Streamer, the subscriber
alone). iter_pb_file() reads the batches of an ``nfxdp --format pb`` file
and decode_batch() any packed FlowBatch (ZeroMQ, MQTT payloads).
docs/stream.md describes the wire formats.
"""
from .consumer import DEFAULT_ENDPOINT, StreamEvent, Streamer, StreamTracker
from .schema import (SchemaError, columns_for, decode_batch, flow_fields, flow_to_dict,
                     iter_pb_file, parse_value, pb2)
from .streamer import NFStreamer, NFXDPWarning, find_nfxdp

__version__ = "0.18.0"
__all__ = ["DEFAULT_ENDPOINT", "NFStreamer", "NFXDPWarning", "SchemaError", "StreamEvent",
           "Streamer", "StreamTracker", "columns_for", "decode_batch", "find_nfxdp",
           "flow_fields", "flow_to_dict", "iter_pb_file", "parse_value", "pb2"]
