/*
 * sign_bytecode.h - Ed25519 keys for compiled policies: `polc keygen`,
 * signing an .epb (`--bytecode-key`), and reading trusted public keys
 * (`--trust`). The format of the signature is in runtime/sig.h.
 *
 * Functions return 0 or -1; on -1 they have printed "polc: ..." to stderr.
 */
#ifndef POLC_SIGN_BYTECODE_H
#define POLC_SIGN_BYTECODE_H

#include <stddef.h>

#include "sig.h"

/* Appends a signature section made with the private key in key_path.
 * *bytecode must be unsigned; it is reallocated. */
int bytecode_sign(const char *key_path, unsigned char **bytecode, size_t *len);

/* Reads one PEM Ed25519 public key (NAME.pub) into *key, with its id. */
int bytecode_read_public_key(const char *path, struct ep_public_key *key);

/* "1a2b3c4d5e6f7081": a key id as 16 hex digits (buffer of 17 bytes). */
void bytecode_format_key_id(const uint8_t id[EP_KEY_ID_SIZE], char out[2 * EP_KEY_ID_SIZE + 1]);

/* polc keygen --out NAME (argv[0] is "keygen"). */
int keygen_command(int argc, char **argv);

#endif
