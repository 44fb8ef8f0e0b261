/*
 * sign_profile.c - signs a configuration profile as a DER CMS SignedData
 * (see sign_profile.h): loads the signing identity from PEM files or a
 * PKCS#12 file, refuses a certificate that does not fit the key, is not
 * valid now or is not meant for signing, and signs with libcrypto exactly
 * as `openssl cms -sign -nodetach -binary -md sha256` does, taking
 * signingTime from SOURCE_DATE_EPOCH when it is set.
 *
 * Every failure prints one "polc: ..." line (two for a passphrase that
 * cannot be asked for) and nothing is written: main.c writes the output
 * only after sign_profile succeeds.
 */
#include "sign_profile.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "passphrase.h"
#include "source.h"

/* The latest SOURCE_DATE_EPOCH accepted: 9999-12-31 23:59:59 UTC. */
#define EPOCH_MAX INT64_C(253402300799)

/* A loaded signing identity. */
struct identity {
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;      /* certificates to include besides cert */
	OSSL_PROVIDER *legacy, *deflt;   /* loaded for an old PKCS#12 file only */
};

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void sign_error(const char *fmt, ...)
{
	va_list ap;
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	fputs("polc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (reason)
		fprintf(stderr, " (OpenSSL: %s)", reason);
	fputc('\n', stderr);
	ERR_clear_error();
}

/* ---- options ----------------------------------------------------------------------- */

int sign_option_set(struct sign_options *o, int which, const char *arg)
{
	static const char *const names[SIGN_OPT_COUNT] = { "--sign", "--key", "--chain", "--p12", "--pass" };
	const char **slot[SIGN_OPT_COUNT] = { &o->cert, &o->key, &o->chain, &o->p12, &o->pass };
	if (which < 0 || which >= SIGN_OPT_COUNT)
		return EXIT_USAGE;
	if (*slot[which])
		return cli_usage_error("polc", "%s is given twice", names[which]);
	if (which == SIGN_OPT_PASS && !passphrase_source_valid(arg))
		return cli_usage_error("polc", "%s",
		                       "--pass takes env:VAR or file:PATH, never the passphrase itself");
	*slot[which] = arg;
	return 0;
}

bool sign_options_given(const struct sign_options *o)
{
	return o->cert || o->key || o->chain || o->p12 || o->pass;
}

int sign_options_check(const struct sign_options *o)
{
	if (o->p12 && (o->cert || o->key))
		return cli_usage_error("polc", "%s", "--p12 replaces --sign and --key; give one or the other");
	if (o->cert && !o->key)
		return cli_usage_error("polc", "%s", "--sign needs --key KEY.pem (or sign with --p12 ID.p12)");
	if (o->key && !o->cert)
		return cli_usage_error("polc", "%s", "--key needs --sign CERT.pem");
	if (!o->cert && !o->p12 && (o->chain || o->pass))
		return cli_usage_error("polc", "%s", "--chain and --pass need --sign CERT.pem --key KEY.pem or --p12 ID.p12");
	return 0;
}

/* ---- certificate checks --------------------------------------------------------------- */

enum cert_time cert_time_check(X509 *cert)
{
	int before = X509_cmp_current_time(X509_get0_notBefore(cert));
	int after = X509_cmp_current_time(X509_get0_notAfter(cert));
	if (before == 0 || after == 0)
		return CERT_TIME_BAD;
	if (before > 0)
		return CERT_TIME_NOT_YET_VALID;
	if (after < 0)
		return CERT_TIME_EXPIRED;
	return CERT_TIME_VALID;
}

/* Apple's own signing purposes (Developer ID Installer and others). */
static bool is_apple_signing_purpose(const ASN1_OBJECT *obj)
{
	static const char prefix[] = "1.2.840.113635.100.4.";
	char text[80];
	int n = OBJ_obj2txt(text, sizeof(text), obj, 1);
	return n > 0 && (size_t)n < sizeof(text) && strncmp(text, prefix, sizeof(prefix) - 1) == 0;
}

/* 1 if the extendedKeyUsage allows signing, 0 if not, -1 if unreadable. */
static int eku_allows_signing(X509 *cert, bool *tls_only)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	if (!eku)
		return -1;
	bool signing = false, tls = false;
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(obj);
		if (nid == NID_email_protect || nid == NID_code_sign || nid == NID_anyExtendedKeyUsage ||
		    is_apple_signing_purpose(obj))
			signing = true;
		else if (nid == NID_server_auth)
			tls = true;
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	*tls_only = !signing && tls;
	return signing || tls;
}

const char *cert_usage_problem(X509 *cert, bool *tls_only)
{
	*tls_only = false;
	if (X509_get_extension_flags(cert) & EXFLAG_INVALID)
		return "its extensions cannot be parsed";
	uint32_t ku = X509_get_key_usage(cert);
	if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE))
		return "its keyUsage does not include digitalSignature";
	if (X509_get_ext_by_NID(cert, NID_ext_key_usage, -1) < 0)
		return NULL;
	int rc = eku_allows_signing(cert, tls_only);
	if (rc < 0)
		return "its extendedKeyUsage cannot be parsed";
	if (rc == 0)
		return "its extendedKeyUsage has none of codeSigning, emailProtection, "
		       "anyExtendedKeyUsage, an Apple signing purpose or serverAuth";
	return NULL;
}

char *cert_name_string(const X509_NAME *name)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (!mem)
		return NULL;
	unsigned long flags = (XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB);
	if (X509_NAME_print_ex(mem, name, 0, flags) >= 0) {
		char *p;
		long n = BIO_get_mem_data(mem, &p);
		out = malloc((size_t)n + 1);
		if (out) {
			memcpy(out, p, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(mem);
	return out;
}

void cert_time_string(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "(invalid time)");
}

/* ---- loading ------------------------------------------------------------------------- */

/* A memory BIO over a whole file; NULL after a message. */
static BIO *open_file(const char *path, const char *what, char **data, size_t *len)
{
	if (read_file(path, data, len) < 0) {
		fprintf(stderr, "polc: cannot read the %s '%s': %s\n", what, path, strerror(errno));
		return NULL;
	}
	if (*len > INT_MAX) {
		fprintf(stderr, "polc: the %s '%s' is too large\n", what, path);
		free(*data);
		return NULL;
	}
	BIO *bio = BIO_new_mem_buf(*data, (int)*len);
	if (!bio)
		free(*data);
	return bio;
}

static void close_file(BIO *bio, char *data, size_t len)
{
	BIO_free(bio);
	OPENSSL_cleanse(data, len);
	free(data);
}

/* A PEM or DER certificate. */
static X509 *load_cert(const char *path)
{
	char *data;
	size_t len;
	BIO *bio = open_file(path, "certificate", &data, &len);
	if (!bio)
		return NULL;
	X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!cert) {
		const unsigned char *p = (const unsigned char *)data;
		ERR_clear_error();
		cert = d2i_X509(NULL, &p, (long)len);
	}
	if (!cert)
		sign_error("'%s' is not a certificate (PEM or DER)", path);
	close_file(bio, data, len);
	return cert;
}

/* Every PEM certificate in path, appended to chain: 0, or -1 after a message. */
static int load_chain(const char *path, STACK_OF(X509) *chain)
{
	char *data;
	size_t len;
	BIO *bio = open_file(path, "certificate chain", &data, &len);
	if (!bio)
		return -1;
	int n = 0, rc = 0;
	X509 *cert;
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(chain, cert)) {
			X509_free(cert);
			rc = -1;
			break;
		}
		n++;
	}
	unsigned long e = ERR_peek_last_error();
	if (rc == 0 && (n == 0 || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)) {
		sign_error("'%s' is not a list of PEM certificates%s", path,
		           n == 0 ? "" : " (a certificate after the first cannot be read)");
		rc = -1;
	}
	ERR_clear_error();
	close_file(bio, data, len);
	return rc;
}

static EVP_PKEY *load_key(const char *path, struct passphrase *pp)
{
	char *data;
	size_t len;
	BIO *bio = open_file(path, "private key", &data, &len);
	if (!bio)
		return NULL;
	EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, passphrase_pem_cb, pp);
	if (!key && pp->failed)
		ERR_clear_error();
	else if (!key && pp->asked)
		sign_error("cannot decrypt the private key '%s': wrong passphrase (or a damaged key)", path);
	else if (!key)
		sign_error("'%s' is not a PEM private key (for a PKCS#12 file, use --p12)", path);
	close_file(bio, data, len);
	if (key)
		secret_file_check(path, "private key");
	return key;
}

/* The passphrase that unlocks p12: "" or NULL when it has none. */
static int p12_passphrase(PKCS12 *p12, struct passphrase *pp, const char **pass)
{
	bool mac = PKCS12_mac_present(p12);
	if (!pp->source && mac) {
		if (PKCS12_verify_mac(p12, "", 0)) {
			*pass = "";
			return 0;
		}
		if (PKCS12_verify_mac(p12, NULL, 0)) {
			*pass = NULL;
			return 0;
		}
	}
	if (passphrase_get(pp) < 0)
		return -1;
	if (mac && !PKCS12_verify_mac(p12, pp->value, -1)) {
		sign_error("cannot open '%s': wrong passphrase", pp->what);
		return -1;
	}
	*pass = pp->value;
	return 0;
}

/* PKCS12_parse, once more with the legacy provider (RC2, 3DES) for files
 * exported by older tools, such as macOS Keychain Access. */
static int p12_parse(struct identity *id, PKCS12 *p12, const char *pass, const char *path)
{
	STACK_OF(X509) *ca = NULL;
	if (!PKCS12_parse(p12, pass, &id->key, &id->cert, &ca)) {
		ERR_clear_error();
		id->legacy = OSSL_PROVIDER_load(NULL, "legacy");
		id->deflt = OSSL_PROVIDER_load(NULL, "default");
		if (!id->legacy || !PKCS12_parse(p12, pass, &id->key, &id->cert, &ca)) {
			sign_error("cannot read '%s': it is damaged or uses an unsupported algorithm", path);
			return -1;
		}
	}
	int rc = 0;
	for (int i = 0; ca && i < sk_X509_num(ca); i++)
		if (!sk_X509_push(id->chain, sk_X509_value(ca, i)))
			rc = -1;
		else
			sk_X509_set(ca, i, NULL);
	sk_X509_pop_free(ca, X509_free);
	if (!id->cert || !id->key) {
		fprintf(stderr, "polc: '%s' holds no %s\n", path, id->cert ? "private key" : "certificate");
		return -1;
	}
	return rc;
}

static int load_p12(struct identity *id, const char *path, struct passphrase *pp)
{
	char *data;
	size_t len;
	const char *pass = NULL;
	BIO *bio = open_file(path, "PKCS#12 file", &data, &len);
	if (!bio)
		return -1;
	PKCS12 *p12 = d2i_PKCS12_bio(bio, NULL);
	close_file(bio, data, len);
	if (!p12) {
		sign_error("'%s' is not a PKCS#12 file", path);
		return -1;
	}
	int rc = p12_passphrase(p12, pp, &pass);
	if (rc == 0)
		rc = p12_parse(id, p12, pass, path);
	PKCS12_free(p12);
	if (rc == 0)
		secret_file_check(path, "PKCS#12 file");
	return rc;
}

static void identity_free(struct identity *id)
{
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
	sk_X509_pop_free(id->chain, X509_free);
	if (id->legacy)
		OSSL_PROVIDER_unload(id->legacy);
	if (id->deflt)
		OSSL_PROVIDER_unload(id->deflt);
}

static int identity_load(struct identity *id, const struct sign_options *o)
{
	struct passphrase pp = { o->pass, o->p12 ? o->p12 : o->key, NULL, false, false };
	int rc = -1;
	memset(id, 0, sizeof(*id));
	id->chain = sk_X509_new_null();
	if (!id->chain)
		return -1;
	if (o->p12)
		rc = load_p12(id, o->p12, &pp);
	else if ((id->cert = load_cert(o->cert)) != NULL && (id->key = load_key(o->key, &pp)) != NULL)
		rc = 0;
	if (rc == 0 && o->chain)
		rc = load_chain(o->chain, id->chain);
	passphrase_clear(&pp);
	return rc;
}

/* ---- checking the identity -------------------------------------------------------------- */

static void print_cert_problem(X509 *cert, const char *what, const char *problem)
{
	char *subject = cert_name_string(X509_get_subject_name(cert));
	fprintf(stderr, "polc: cannot sign with the certificate in '%s' (%s): %s\n", what,
	        subject ? subject : "unprintable name", problem);
	free(subject);
}

static int check_dates(X509 *cert, const char *what)
{
	char when[64], problem[128];
	switch (cert_time_check(cert)) {
	case CERT_TIME_VALID:
		return 0;
	case CERT_TIME_NOT_YET_VALID:
		cert_time_string(X509_get0_notBefore(cert), when, sizeof(when));
		snprintf(problem, sizeof(problem), "it is not valid before %s", when);
		break;
	case CERT_TIME_EXPIRED:
		cert_time_string(X509_get0_notAfter(cert), when, sizeof(when));
		snprintf(problem, sizeof(problem), "it expired on %s", when);
		break;
	default:
		snprintf(problem, sizeof(problem), "its validity dates cannot be read");
		break;
	}
	print_cert_problem(cert, what, problem);
	return -1;
}

/* What is allowed but worth knowing: a TLS server certificate, a short RSA key, an expired intermediate. */
static void identity_warnings(const struct identity *id, const char *what, bool tls_only)
{
	if (tls_only)
		fprintf(stderr, "polc: warning: the certificate '%s' is for TLS servers (extendedKeyUsage "
		                "serverAuth only); macOS accepts it, but a certificate for signing is better\n",
		        what);
	if (EVP_PKEY_get_base_id(id->key) == EVP_PKEY_RSA && EVP_PKEY_get_bits(id->key) < 2048)
		fprintf(stderr, "polc: warning: the RSA key of '%s' has only %d bits; use 2048 or more\n", what,
		        EVP_PKEY_get_bits(id->key));
	for (int i = 0; i < sk_X509_num(id->chain); i++) {
		X509 *c = sk_X509_value(id->chain, i);
		if (cert_time_check(c) == CERT_TIME_VALID)
			continue;
		char *name = cert_name_string(X509_get_subject_name(c));
		fprintf(stderr, "polc: warning: the chain certificate %s is not valid now\n",
		        name ? name : "(unprintable name)");
		free(name);
	}
}

static int identity_check(const struct identity *id, const struct sign_options *o)
{
	const char *what = o->p12 ? o->p12 : o->cert;
	bool tls_only;
	if (!X509_check_private_key(id->cert, id->key)) {
		ERR_clear_error();
		fprintf(stderr, "polc: the private key '%s' does not belong to the certificate '%s'\n",
		        o->p12 ? o->p12 : o->key, what);
		return -1;
	}
	if (check_dates(id->cert, what) < 0)
		return -1;
	const char *problem = cert_usage_problem(id->cert, &tls_only);
	if (problem) {
		print_cert_problem(id->cert, what, problem);
		return -1;
	}
	identity_warnings(id, what, tls_only);
	return 0;
}

/* ---- signing ------------------------------------------------------------------------ */

/* SOURCE_DATE_EPOCH: 0 with *set false when unset, 0 with *when, or -1. */
static int source_date_epoch(bool *set, time_t *when)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	*set = false;
	if (!s)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > EPOCH_MAX) {
		fprintf(stderr, "polc: SOURCE_DATE_EPOCH must be a number of seconds since 1970 "
		                "(up to %" PRId64 "), not '%s'\n", EPOCH_MAX, s);
		return -1;
	}
	*set = true;
	*when = (time_t)v;
	return 0;
}

/* The certificates besides the signer's: each once, the signer's not again
 * (OpenSSL 3.0's CMS_add1_cert refuses duplicates). */
static STACK_OF(X509) *distinct_chain(const struct identity *id)
{
	STACK_OF(X509) *out = sk_X509_new_null();
	for (int i = 0; out && i < sk_X509_num(id->chain); i++) {
		X509 *c = sk_X509_value(id->chain, i);
		bool dup = X509_cmp(c, id->cert) == 0;
		for (int j = 0; !dup && j < sk_X509_num(out); j++)
			dup = X509_cmp(c, sk_X509_value(out, j)) == 0;
		if (!dup && !sk_X509_push(out, c)) {
			sk_X509_free(out);
			return NULL;
		}
	}
	return out;
}

static int add_signing_time(CMS_SignerInfo *si, time_t when)
{
	ASN1_TIME *t = ASN1_TIME_set(NULL, when);
	int ok = t && CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1);
	ASN1_TIME_free(t);
	return ok ? 0 : -1;
}

static CMS_ContentInfo *build_cms(const struct identity *id, const void *content, size_t len,
                                  const time_t *when)
{
	const unsigned flags = CMS_BINARY | CMS_PARTIAL;
	STACK_OF(X509) *certs = distinct_chain(id);
	BIO *in = BIO_new_mem_buf(content, (int)len);
	CMS_ContentInfo *cms = certs && in ? CMS_sign(NULL, NULL, certs, NULL, flags) : NULL;
	CMS_SignerInfo *si = cms ? CMS_add1_signer(cms, id->cert, id->key, EVP_sha256(), flags) : NULL;
	if (!si || (when && add_signing_time(si, *when) < 0) || !CMS_final(cms, in, NULL, flags)) {
		sign_error("%s", "cannot create the CMS signature");
		CMS_ContentInfo_free(cms);
		cms = NULL;
	}
	BIO_free(in);
	sk_X509_free(certs);
	return cms;
}

static int encode_der(CMS_ContentInfo *cms, unsigned char **der, size_t *der_len)
{
	int n = i2d_CMS_ContentInfo(cms, NULL);
	unsigned char *buf = n > 0 ? malloc((size_t)n) : NULL;
	unsigned char *p = buf;
	if (!buf || i2d_CMS_ContentInfo(cms, &p) != n) {
		free(buf);
		sign_error("%s", "cannot encode the CMS signature");
		return -1;
	}
	*der = buf;
	*der_len = (size_t)n;
	return 0;
}

int sign_profile(const struct sign_options *o, const void *content, size_t len,
                 unsigned char **der, size_t *der_len)
{
	struct identity id;
	bool have_time;
	time_t when;
	int rc = -1;
	if (len > INT_MAX) {
		fprintf(stderr, "polc: the profile is too large to sign\n");
		return -1;
	}
	if (source_date_epoch(&have_time, &when) < 0)
		return -1;
	if (identity_load(&id, o) == 0 && identity_check(&id, o) == 0) {
		CMS_ContentInfo *cms = build_cms(&id, content, len, have_time ? &when : NULL);
		if (cms)
			rc = encode_der(cms, der, der_len);
		CMS_ContentInfo_free(cms);
	}
	identity_free(&id);
	ERR_clear_error();
	return rc;
}
