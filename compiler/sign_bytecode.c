/*
 * sign_bytecode.c - Ed25519 signing of compiled policies (see
 * sign_bytecode.h and runtime/sig.h). Private keys are read unencrypted,
 * as `polc keygen` writes them (mode 0600); a key readable by others is
 * refused rather than used. Never writes a key over an existing file.
 */
#include "sign_bytecode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bytes.h"
#include "cli.h"
#include "format.h"
#include "output.h"

static int fail(const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	fprintf(stderr, "polc: %s '%s'", what, path);
	if (e)
		fprintf(stderr, ": %s", ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "error");
	fputc('\n', stderr);
	ERR_clear_error();
	return -1;
}

/* PEM pass-phrase callback that refuses: bytecode keys are never encrypted. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *read_private_key(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "polc: cannot read bytecode key '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	if (st.st_mode & 077) {
		fprintf(stderr, "polc: bytecode key '%s' is readable by others (mode %03o); "
		        "run: chmod 600 '%s'\n", path, (unsigned)(st.st_mode & 0777), path);
		return NULL;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "polc: cannot read bytecode key '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!key) {
		fail("not an unencrypted PEM private key:", path);
		return NULL;
	}
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(key);
		fprintf(stderr, "polc: bytecode key '%s' is not an Ed25519 key (make one with polc keygen)\n", path);
		return NULL;
	}
	return key;
}

static int public_key_of(EVP_PKEY *pkey, struct ep_public_key *key)
{
	size_t n = sizeof(key->raw);
	if (EVP_PKEY_get_raw_public_key(pkey, key->raw, &n) != 1 || n != sizeof(key->raw))
		return -1;
	return ep_key_id(key);
}

static void patch_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Grows an unsigned .epb by its signature section and signs what precedes it. */
static int sign_with(EVP_PKEY *pkey, unsigned char **bytecode, size_t *len)
{
	struct ep_public_key pub;
	unsigned char *b = *bytecode;
	const unsigned char *entry = b + 24 + 8 * EP_SECTION_SIGNATURE;
	uint32_t off = ep_read_u32(entry);

	if (*len < EP_HEADER_SIZE || ep_read_u32(entry + 4) != 0 || off != *len ||
	    public_key_of(pkey, &pub) < 0)
		return -1;
	b = realloc(b, *len + EP_SIGNATURE_SIZE);
	if (!b)
		return -1;
	*bytecode = b;
	patch_u32(b + 24 + 8 * EP_SECTION_SIGNATURE + 4, EP_SIGNATURE_SIZE);
	patch_u32(b + 12, (uint32_t)(*len + EP_SIGNATURE_SIZE));
	patch_u32(b + off, EP_SIG_ED25519);
	memcpy(b + off + 4, pub.id, EP_KEY_ID_SIZE);
	size_t sig_len = 64;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	         EVP_DigestSign(ctx, b + off + 4 + EP_KEY_ID_SIZE, &sig_len, b, off) == 1 && sig_len == 64;
	EVP_MD_CTX_free(ctx);
	*len += EP_SIGNATURE_SIZE;
	return ok ? 0 : -1;
}

int bytecode_sign(const char *key_path, unsigned char **bytecode, size_t *len)
{
	EVP_PKEY *pkey = read_private_key(key_path);
	if (!pkey)
		return -1;
	int rc = sign_with(pkey, bytecode, len);
	EVP_PKEY_free(pkey);
	if (rc < 0)
		return fail("could not sign the bytecode with", key_path);
	return 0;
}

int bytecode_read_public_key(const char *path, struct ep_public_key *key)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "polc: cannot read trusted key '%s': %s\n", path, strerror(errno));
		return -1;
	}
	EVP_PKEY *pkey = PEM_read_PUBKEY(f, NULL, no_passphrase, NULL);
	fclose(f);
	int rc = pkey && EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 ? public_key_of(pkey, key) : -1;
	EVP_PKEY_free(pkey);
	if (rc < 0)
		return fail("not a PEM Ed25519 public key:", path);
	return 0;
}

void bytecode_format_key_id(const uint8_t id[EP_KEY_ID_SIZE], char out[2 * EP_KEY_ID_SIZE + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < EP_KEY_ID_SIZE; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * EP_KEY_ID_SIZE] = '\0';
}

/* ---- polc keygen ---------------------------------------------------------- */

/* PEM text of a key, in memory. */
static char *pem_of(EVP_PKEY *pkey, bool private_part, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text = NULL;
	if (bio && (private_part ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
	                         : PEM_write_bio_PUBKEY(bio, pkey))) {
		char *data;
		long n = BIO_get_mem_data(bio, &data);
		text = n > 0 ? malloc((size_t)n) : NULL;
		if (text) {
			memcpy(text, data, (size_t)n);
			*len = (size_t)n;
		}
	}
	BIO_free(bio);
	return text;
}


static int write_key_pair(const char *base, EVP_PKEY *pkey)
{
	size_t priv_len = 0, pub_len = 0;
	char *priv = pem_of(pkey, true, &priv_len), *pub = pem_of(pkey, false, &pub_len);
	char *priv_path = str_join(base, "", ".key"), *pub_path = str_join(base, "", ".pub");
	int rc = -1;
	struct stat st;

	if (!priv || !pub || !priv_path || !pub_path) {
		fputs("polc: could not encode the key pair\n", stderr);
	} else if (stat(priv_path, &st) == 0 || stat(pub_path, &st) == 0) {
		fprintf(stderr, "polc: '%s' or '%s' exists; polc keygen never overwrites a key\n",
		        priv_path, pub_path);
	} else {
		struct output_file files[2] = {
			{ priv_path, priv, priv_len, 0600 },
			{ pub_path, pub, pub_len, 0644 },
		};
		const char *failed = priv_path;
		rc = output_write_all(files, 2, &failed);
		if (rc < 0)
			fprintf(stderr, "polc: cannot write '%s': %s\n", failed, strerror(errno));
	}
	if (priv)
		OPENSSL_cleanse(priv, priv_len);
	free(priv);
	free(pub);
	free(priv_path);
	free(pub_path);
	return rc;
}

int keygen_command(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		puts("usage: polc keygen --out NAME\n\n"
		     "Writes an Ed25519 key pair for signing bytecode: NAME.key (private, mode 0600)\n"
		     "and NAME.pub (give it to devices and to --trust).");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "--out") != 0)
		return cli_usage_error("polc keygen", "%s", "usage: polc keygen --out NAME");
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		fail("could not generate a key for", argv[2]);
		return EXIT_USAGE;
	}
	EVP_PKEY_CTX_free(ctx);
	struct ep_public_key pub;
	int rc = write_key_pair(argv[2], pkey) < 0 || public_key_of(pkey, &pub) < 0 ? EXIT_USAGE : 0;
	EVP_PKEY_free(pkey);
	if (rc == 0) {
		char id[2 * EP_KEY_ID_SIZE + 1];
		bytecode_format_key_id(pub.id, id);
		printf("polc: wrote %s.key (keep it secret) and %s.pub, key id %s\n", argv[2], argv[2], id);
	}
	return rc;
}
