/*
 * sig.c - checks a .epb's Ed25519 signature against trusted keys, then
 * loads it (see sig.h). Reads the header only as far as it must to find
 * the signature section, with every offset bounds-checked; everything else
 * is ep_load()'s job. Never loads bytecode whose signature failed.
 */
#include "sig.h"

#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

int ep_key_id(struct ep_public_key *key)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!EVP_Digest(key->raw, sizeof(key->raw), digest, &n, EVP_sha256(), NULL) || n < EP_KEY_ID_SIZE)
		return -1;
	memcpy(key->id, digest, EP_KEY_ID_SIZE);
	return 0;
}

/* The signature section: where it starts, checked to be the file's last 76 bytes. */
static int find_signature(const unsigned char *b, size_t len, uint32_t *offset, struct ep_error *err)
{
	if (len < EP_HEADER_SIZE || memcmp(b, EP_MAGIC, 4) != 0)
		return ep_fail(err, len < EP_HEADER_SIZE ? EP_TRUNCATED : EP_BAD_MAGIC, 0);
	const unsigned char *entry = b + 24 + 8 * EP_SECTION_SIGNATURE;
	uint32_t off = ep_read_u32(entry), size = ep_read_u32(entry + 4);
	if (size == 0)
		return ep_fail(err, EP_UNSIGNED, 24 + 8 * EP_SECTION_SIGNATURE);
	if (size != EP_SIGNATURE_SIZE || off < EP_HEADER_SIZE || (uint64_t)off + size != len ||
	    ep_read_u32(b + off) != EP_SIG_ED25519)
		return ep_fail(err, EP_BAD_SIGNATURE_SECTION, off < len ? off : 24 + 8 * EP_SECTION_SIGNATURE);
	*offset = off;
	return 0;
}

int ep_signer_id(const void *bytes, size_t len, uint8_t id[EP_KEY_ID_SIZE], struct ep_error *err)
{
	uint32_t off;
	int rc = bytes ? find_signature(bytes, len, &off, err) : ep_fail(err, EP_TRUNCATED, 0);
	if (rc < 0)
		return rc;
	memcpy(id, (const unsigned char *)bytes + off + 4, EP_KEY_ID_SIZE);
	return 0;
}

static bool signature_verifies(const struct ep_public_key *key, const unsigned char *msg,
                               size_t msg_len, const unsigned char *sig)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key->raw, sizeof(key->raw));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = pkey && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	          EVP_DigestVerify(ctx, sig, 64, msg, msg_len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok;
}

int ep_load_signed(struct ep_program *prog, const void *bytes, size_t len,
                   const struct ep_public_key *trusted, size_t ntrusted, struct ep_error *err)
{
	const unsigned char *b = bytes;
	uint32_t off;
	int rc;

	memset(prog, 0, sizeof(*prog));
	if (!b || len > UINT32_MAX || len < EP_HEADER_SIZE || memcmp(b, EP_MAGIC, 4) != 0)
		return ep_load(prog, bytes, len, err);   /* it fails, and says exactly why */
	if ((rc = find_signature(b, len, &off, err)) < 0)
		return rc;
	const unsigned char *id = b + off + 4, *sig = b + off + 4 + EP_KEY_ID_SIZE;
	for (size_t i = 0; i < ntrusted; i++) {
		if (memcmp(trusted[i].id, id, EP_KEY_ID_SIZE) != 0)
			continue;
		if (!signature_verifies(&trusted[i], b, off, sig))
			return ep_fail(err, EP_BAD_SIGNATURE, off);
		return ep_load(prog, bytes, len, err);
	}
	return ep_fail(err, EP_UNKNOWN_KEY, off + 4);
}
