# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Refuses to build a package without its schema module (pyproject.toml has the rest)."""
import os
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
if not os.path.exists(os.path.join(HERE, "nfxdp", "flow_pb2.py")):
    sys.exit("python/nfxdp/flow_pb2.py is missing: run 'make python' in the nfxdp checkout "
             "first (it generates it from proto/flow.proto with protoc, Debian's "
             "protobuf-compiler)")
setup()
