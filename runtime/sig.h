/*
 * sig.h - libep's signature check: only bytecode signed by a trusted key
 * is loaded (link with libcrypto; the verifier and evaluator do not need it).
 *
 * A signed .epb ends with a signature section (runtime/format.h): u32
 * algorithm (1 = Ed25519), the signer's 8-byte key id, and a 64-byte
 * Ed25519 signature over every byte before the section. The key id is the
 * first 8 bytes of SHA-256 over the raw 32-byte public key.
 *
 * ep_load_signed() checks the signature before the rest of the file is
 * parsed (after the magic and the header's length), then runs ep_load(). Unsigned bytecode, an unknown key id and a signature that does
 * not verify are refused with their own statuses. Ownership is as in ep.h;
 * the trusted keys belong to the caller.
 */
#ifndef EP_SIG_H
#define EP_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "ep.h"

#define EP_KEY_ID_SIZE 8

struct ep_public_key {
	uint8_t raw[32];                   /* Ed25519 public key */
	uint8_t id[EP_KEY_ID_SIZE];        /* ep_key_id(raw) */
};

/* Fills key->id from key->raw. 0, or -1 if hashing failed. */
int ep_key_id(struct ep_public_key *key);

/* The key id in a signed file's signature section, or -status. */
int ep_signer_id(const void *bytes, size_t len, uint8_t id[EP_KEY_ID_SIZE], struct ep_error *err);

int ep_load_signed(struct ep_program *prog, const void *bytes, size_t len,
                   const struct ep_public_key *trusted, size_t ntrusted, struct ep_error *err);

#endif
