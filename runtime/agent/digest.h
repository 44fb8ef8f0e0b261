/*
 * digest.h - SHA-256 as 64 lowercase hex digits, the form the audit log
 * and the policy's PolicySHA256 use (OpenSSL libcrypto underneath).
 */
#ifndef ELEVATE_DIGEST_H
#define ELEVATE_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_SIZE 65          /* 64 hex digits and a NUL */

/* The 32 bytes of a SHA-256 digest as hex, NUL-terminated. */
void digest_to_hex(const unsigned char digest[32], char out[DIGEST_HEX_SIZE]);

/* SHA-256 of data as hex: 0, or -1 if libcrypto fails. */
int digest_sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_SIZE]);

#endif
