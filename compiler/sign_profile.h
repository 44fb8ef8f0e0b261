/*
 * sign_profile.h - CMS signatures for configuration profiles, and the
 * certificate checks that `polc verify` shares.
 *
 * `--sign CERT --key KEY [--chain CHAIN]` or `--p12 ID.p12`, with
 * `--pass env:VAR|file:PATH` or a prompt for an encrypted key. The result
 * is a DER CMS SignedData with the profile attached as binary content,
 * SHA-256, signed attributes (contentType, signingTime, SMIMECapabilities,
 * messageDigest), and the signer's certificate and chain: what
 * `openssl cms -sign -nodetach -binary -md sha256 -outform DER` writes.
 * With SOURCE_DATE_EPOCH set, signingTime is taken from it, so an RSA
 * signature (PKCS#1 v1.5, deterministic) is the same bytes every time.
 */
#ifndef POLC_SIGN_PROFILE_H
#define POLC_SIGN_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

struct sign_options {
	const char *cert;    /* --sign CERT.pem */
	const char *key;     /* --key KEY.pem */
	const char *chain;   /* --chain CHAIN.pem: intermediates to include */
	const char *p12;     /* --p12 ID.p12: certificate, key and chain */
	const char *pass;    /* --pass env:VAR|file:PATH */
};

/* The options, in this order, as getopt_long entries whose values are
 * first + SIGN_OPT_*; main.c passes them to sign_option_set. */
enum { SIGN_OPT_CERT, SIGN_OPT_KEY, SIGN_OPT_CHAIN, SIGN_OPT_P12, SIGN_OPT_PASS, SIGN_OPT_COUNT };
#define SIGN_LONGOPTS(first)                                                  \
	{ "sign", required_argument, NULL, (first) + SIGN_OPT_CERT },         \
	{ "key", required_argument, NULL, (first) + SIGN_OPT_KEY },           \
	{ "chain", required_argument, NULL, (first) + SIGN_OPT_CHAIN },       \
	{ "p12", required_argument, NULL, (first) + SIGN_OPT_P12 },           \
	{ "pass", required_argument, NULL, (first) + SIGN_OPT_PASS }

#define SIGN_USAGE                                                                        \
	"  --sign CERT.pem          sign the profile (CMS, SHA-256) with this certificate\n" \
	"  --key KEY.pem            and the private key that belongs to it\n"              \
	"  --chain CHAIN.pem        intermediate certificates to include in the signature\n" \
	"  --p12 ID.p12             sign with the certificate, key and chain in ID.p12\n"   \
	"  --pass env:VAR|file:PATH the passphrase of an encrypted key or .p12\n"          \
	"                           (default: asked for on the terminal)\n"

/* Records one option (which is SIGN_OPT_*); EXIT_USAGE after a message, or 0. */
int sign_option_set(struct sign_options *o, int which, const char *arg);

/* After all options: checks they go together; EXIT_USAGE after a message, or 0. */
int sign_options_check(const struct sign_options *o);

/* True if any signing option was given. */
bool sign_options_given(const struct sign_options *o);

/* Signs content (the unsigned profile): 0 with *der (free with free())
 * and *der_len set, or -1 after printing "polc: ..." on standard error. */
int sign_profile(const struct sign_options *o, const void *content, size_t len,
                 unsigned char **der, size_t *der_len);

/* ---- certificate checks, shared with polc verify ---------------------------------- */

enum cert_time { CERT_TIME_VALID, CERT_TIME_NOT_YET_VALID, CERT_TIME_EXPIRED, CERT_TIME_BAD };

/* The certificate's validity period against the current time. */
enum cert_time cert_time_check(X509 *cert);

/* NULL if the certificate may sign (its keyUsage, when present, has
 * digitalSignature; its extendedKeyUsage, when present, has emailProtection,
 * codeSigning, anyExtendedKeyUsage, an Apple signing purpose or
 * serverAuth), else why not. *tls_only is set for serverAuth alone. */
const char *cert_usage_problem(X509 *cert, bool *tls_only);

/* The name as one line, RFC 2253 order, control characters escaped:
 * malloc'd, or NULL. */
char *cert_name_string(const X509_NAME *name);

/* "YYYY-MM-DD HH:MM:SS UTC" into buf (at least 32 bytes). */
void cert_time_string(const ASN1_TIME *t, char *buf, size_t size);

#endif
