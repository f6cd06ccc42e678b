# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A small IPFIX decoder (RFC 7011) for the tests, written apart from nfxdp's
encoder: messages, template sets (enterprise elements included) and data
records with fixed- and variable-length elements. A record is a dict
{(enterprise, element id): raw bytes}.
"""
import socket
import struct

REV, NFX = 29305, 32473  # RFC 5103's reverse PEN, nfxdp's
VARLEN = 65535


def parse_templates(body, templates):
    """Adds the template set's templates to templates; yields their ids."""
    off = 0
    while off + 4 <= len(body):
        tid, count = struct.unpack_from("!HH", body, off)
        off += 4
        fields = []
        for _ in range(count):
            ie, length = struct.unpack_from("!HH", body, off)
            off += 4
            pen = 0
            if ie & 0x8000:
                pen, = struct.unpack_from("!I", body, off)
                off += 4
            fields.append((pen, ie & 0x7fff, length))
        templates[tid] = fields
        yield tid


def _one(body, off, fields):
    """The record at off, and where the next starts (RFC 7011 7: 255 then 2 bytes)."""
    rec = {}
    for pen, ie, length in fields:
        if length == VARLEN:
            length, off = body[off], off + 1
            if length == 255:
                length, off = struct.unpack_from("!H", body, off)[0], off + 2
        rec[(pen, ie)] = body[off:off + length]
        off += length
    return rec, off


def parse_data(body, fields):
    """The data set's records; what is left past the last whole one is padding."""
    least = sum(1 if f[2] == VARLEN else f[2] for f in fields)
    off = 0
    while least and off + least <= len(body):
        rec, off = _one(body, off, fields)
        yield rec


def parse_message(msg, templates):
    """One message: its header's fields, the template ids it set, its records."""
    ver, length, export, seq, domain = struct.unpack_from("!HHIII", msg)
    m = {"version": ver, "length": length, "len_ok": length == len(msg), "seq": seq,
         "domain": domain, "templates": [], "records": []}
    off = 16
    while off + 4 <= length:
        sid, slen = struct.unpack_from("!HH", msg, off)
        body = msg[off + 4:off + slen]
        if sid == 2:
            m["templates"] += list(parse_templates(body, templates))
        elif sid >= 256 and sid in templates:
            m["records"] += list(parse_data(body, templates[sid]))
        elif sid >= 256:
            m["unknown_set"] = True
        off += slen
    return m


def udp_records(port_file, quiet=3.0):
    """Listens on a UDP port of 127.0.0.1 (its number written to port_file) and
    returns every record received until quiet seconds pass without a message."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    with open(port_file, "w") as f:
        f.write(f"{s.getsockname()[1]}\n")
    s.settimeout(quiet)
    templates, recs = {}, []
    try:
        while True:
            recs += parse_message(s.recv(65535), templates)["records"]
    except socket.timeout:
        pass
    return recs


def uint(rec, pen, ie):
    return int.from_bytes(rec[(pen, ie)], "big")


def text(rec, pen, ie):
    return rec[(pen, ie)].decode()
