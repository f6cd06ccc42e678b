/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Protobuf encoding of batches in one pass over their fields. protobuf-c
 * walks every field of every Flow three times to pack a batch (its size
 * for the batch, its size again for its length prefix, then its bytes);
 * here each field is read once, its bytes written straight into one
 * growing buffer, and a length prefix fixed up after the message it
 * counts. The bytes are protobuf-c's, to the byte (tests/unit checks), for
 * the field kinds proto/flow.proto uses; any other kind is refused
 * (-ENOTSUP) and the caller packs with protobuf-c instead.
 */
#ifndef NFXDP_RECORD_ENCODE_H
#define NFXDP_RECORD_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

struct pb_out {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* Appends @msg, packed, to @o (grown as needed): 0, -ENOMEM or -ENOTSUP (@o->len unchanged). */
int pb_encode(struct pb_out *o, const ProtobufCMessage *msg);

#endif /* NFXDP_RECORD_ENCODE_H */
