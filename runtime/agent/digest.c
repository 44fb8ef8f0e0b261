/*
 * digest.c - SHA-256 in lowercase hex for the agent's modules (digest.h).
 */
#include "agent/digest.h"

#include <openssl/evp.h>

void digest_to_hex(const unsigned char digest[32], char out[DIGEST_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = digits[digest[i] >> 4];
		out[2 * i + 1] = digits[digest[i] & 15];
	}
	out[64] = '\0';
}

int digest_sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_SIZE])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL) || n != 32)
		return -1;
	digest_to_hex(digest, out);
	return 0;
}
