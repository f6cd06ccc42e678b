/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * CURVE for the ZeroMQ stream: the publisher holds a long-term key pair in
 * a file (nfxdp --curve-keygen FILE writes FILE and FILE.pub); subscribers
 * know its public key and make an ephemeral pair of their own. Traffic is
 * encrypted and the publisher authenticated; subscribers are not (anyone
 * with the public key may subscribe), as with any ZeroMQ CURVE server
 * without a ZAP handler.
 */
#ifndef NFXDP_EXPORT_CURVE_H
#define NFXDP_EXPORT_CURVE_H

#define CURVE_KEY_LEN 40 /* Z85 text of a 32-byte key */

/* Writes a new key pair: @path (both keys, mode 0600) and @path.pub. */
int curve_keygen(const char *path);
/* Makes @sock a CURVE server with the secret key in @path. */
int curve_server(void *sock, const char *path);
/* Makes @sock a CURVE client of the server whose public key is @key_or_path. */
int curve_client(void *sock, const char *key_or_path);

#endif /* NFXDP_EXPORT_CURVE_H */
