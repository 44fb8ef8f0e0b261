/*
 * uuid.c - UUIDv5 from a namespace and a name, via OpenSSL's SHA-1.
 * Deterministic by construction: no clock, no randomness.
 */
#include "uuid.h"

#include <string.h>

#include <openssl/evp.h>

const uint8_t uuid_namespace_dns[16] = {
	0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
	0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
};

int uuid_v5(const uint8_t ns[16], const char *name, char out[UUID_STRING_LEN + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
	         EVP_DigestUpdate(ctx, ns, 16) && EVP_DigestUpdate(ctx, name, strlen(name)) &&
	         EVP_DigestFinal_ex(ctx, digest, &dlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || dlen < 16)
		return -1;
	digest[6] = (unsigned char)((digest[6] & 0x0F) | 0x50);   /* version 5 */
	digest[8] = (unsigned char)((digest[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[digest[i] >> 4];
		*o++ = hex[digest[i] & 0x0F];
	}
	*o = '\0';
	return 0;
}
