/*
 * cli_verify.c - `polc verify PROFILE [--ca CA.pem] [--trust KEY.pub]...
 * [--allow-unsigned]`: checks a configuration profile before it is
 * uploaded, and says what it holds.
 *
 * For a signed profile (DER CMS SignedData) it reports the signer, its
 * validity and usage, the signing time, the certificates, whether the
 * chain leads to a certificate in CA.pem (only with --ca; without it the
 * chain is not checked), whether the signature holds and whether the
 * content hash matches; every check is then repeated by OpenSSL's own
 * CMS_verify. For every profile it summarises the payloads parsed from the
 * content: identifiers, types, the Jamf Connect settings, and the runtime's
 * PolicyBytecode, whose PolicySHA256 it recomputes (and whose Ed25519
 * signature it checks with --trust).
 *
 * The report goes to standard output; a failed check also goes to standard
 * error as "polc: PROFILE: not verified: why". Exit codes: 0 verified (or
 * unsigned with --allow-unsigned), 1 not verified, 2 usage and I/O errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <plist/plist.h>

#include "cli.h"
#include "sign_bytecode.h"
#include "sign_profile.h"
#include "source.h"
#include "target.h"

#define MANAGED_PREFERENCES "com.apple.ManagedClient.preferences"
#define JAMF_DOMAIN "com.jamf.connect"

struct verify_cli {
	const char *path;
	const char *ca;                   /* --ca: trusted root certificates */
	bool allow_unsigned;
	struct ep_public_key *keys;       /* --trust: bytecode keys */
	const char **key_paths;
	size_t nkeys;
};

/* What the checks found: the first failure is the verdict's reason. */
struct report {
	int failures;
	char reason[256];
	int runtime_payloads;
};

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

/* "label:       text" on standard output. */
PRINTF_LIKE(2, 3)
static void field(const char *label, const char *fmt, ...)
{
	va_list ap;
	printf("%-14s", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

PRINTF_LIKE(2, 3)
static void fail(struct report *r, const char *fmt, ...)
{
	va_list ap;
	if (r->failures++ == 0) {
		va_start(ap, fmt);
		vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
		va_end(ap);
	}
}

static const char *openssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *s = e ? ERR_reason_error_string(e) : NULL;
	return s ? s : "no reason given";
}

/* ---- options ---------------------------------------------------------------------------- */

static void verify_usage(FILE *out)
{
	fputs("usage: polc verify PROFILE.mobileconfig [--ca CA.pem] [--trust KEY.pub]... [--allow-unsigned]\n"
	      "\n"
	      "  Checks a profile's CMS signature and content hash and summarises its payloads.\n"
	      "  --ca CA.pem        also check that the signer's chain leads to a certificate in CA.pem\n"
	      "                     (without it the chain is not checked)\n"
	      "  --trust KEY.pub    also check that PolicyBytecode is signed by this bytecode key\n"
	      "  --allow-unsigned   accept an unsigned profile (exit 0 if its content is sound)\n"
	      "  Exit status: 0 verified, 1 not verified, 2 usage or I/O error.\n",
	      out);
}

static int take_trust(struct verify_cli *cli, const char *path)
{
	if (bytecode_read_public_key(path, &cli->keys[cli->nkeys]) < 0)
		return EXIT_USAGE;
	cli->key_paths[cli->nkeys++] = path;
	return 0;
}

/* Returns -1 when ready, else the exit code. */
static int parse_verify_args(struct verify_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "trust", required_argument, NULL, 't' },
		{ "allow-unsigned", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			verify_usage(stdout);
			return 0;
		} else if (opt == ':') {
			return cli_usage_error("polc verify", "option '%s' needs a value", argv[optind - 1]);
		} else if (opt == '?') {
			return cli_usage_error("polc verify", "unknown option '%s'", argv[optind - 1]);
		} else if (opt == 'c') {
			if (cli->ca)
				return cli_usage_error("polc verify", "%s", "--ca is given twice");
			cli->ca = optarg;
		} else if (opt == 't') {
			if (take_trust(cli, optarg) != 0)
				return EXIT_USAGE;
		} else {
			cli->allow_unsigned = true;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("polc verify", "%s", optind >= argc ? "no profile given" : "more than one profile given");
	cli->path = argv[optind];
	return -1;
}

/* ---- printing what a profile holds ------------------------------------------------------ */

/* A string from the profile, quoted, with control characters escaped so
 * that a hostile profile cannot drive the terminal. */
static void print_quoted(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void print_value(plist_t v, int depth)
{
	uint8_t b;
	uint64_t u, n;
	double d;
	switch (plist_get_node_type(v)) {
	case PLIST_BOOLEAN:
		plist_get_bool_val(v, &b);
		fputs(b ? "true" : "false", stdout);
		break;
	case PLIST_UINT:
		plist_get_uint_val(v, &u);
		printf("%" PRIu64, u);
		break;
	case PLIST_REAL:
		plist_get_real_val(v, &d);
		printf("%g", d);
		break;
	case PLIST_STRING:
		print_quoted(plist_get_string_ptr(v, NULL));
		break;
	case PLIST_DATA:
		plist_get_data_ptr(v, &n);
		printf("<%" PRIu64 " bytes of data>", n);
		break;
	case PLIST_ARRAY:
		putchar('[');
		n = plist_array_get_size(v);
		for (uint32_t i = 0; i < n; i++) {
			if (i)
				fputs(", ", stdout);
			if (depth < 3)
				print_value(plist_array_get_item(v, i), depth + 1);
			else
				fputs("...", stdout);
		}
		putchar(']');
		break;
	case PLIST_DICT:
		printf("{%" PRIu32 " keys}", plist_dict_get_size(v));
		break;
	default:
		fputs("(other value)", stdout);
		break;
	}
}

static plist_t dict_item(plist_t dict, const char *key)
{
	return dict && plist_get_node_type(dict) == PLIST_DICT ? plist_dict_get_item(dict, key) : NULL;
}

/* The string value of key in dict, or NULL. */
static const char *dict_string(plist_t dict, const char *key)
{
	plist_t v = dict_item(dict, key);
	return v && plist_get_node_type(v) == PLIST_STRING ? plist_get_string_ptr(v, NULL) : NULL;
}

static void print_dict(plist_t dict, const char *indent)
{
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	for (;;) {
		char *key = NULL;
		plist_t value = NULL;
		plist_dict_next_item(dict, it, &key, &value);
		if (!key)
			break;
		printf("%s", indent);
		print_quoted(key);
		printf("%*s", strlen(key) < 26 ? (int)(26 - strlen(key)) : 1, "");
		print_value(value, 0);
		putchar('\n');
		free(key);
	}
	free(it);
}

/* ---- the payloads ---------------------------------------------------------------------- */

static void sha256_hex(const unsigned char *data, size_t len, char hex[65])
{
	unsigned char digest[32];
	unsigned int n = 0;
	hex[0] = '\0';
	if (EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL) && n == 32)
		for (unsigned i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

/* Who signed the bytecode, and with --trust whether the signature holds. */
static void check_bytecode_signature(struct report *r, const struct verify_cli *cli,
                                     const unsigned char *bytes, size_t len)
{
	uint8_t id[EP_KEY_ID_SIZE];
	char hex[2 * EP_KEY_ID_SIZE + 1];
	struct ep_error err;
	struct ep_program prog;
	if (ep_signer_id(bytes, len, id, &err) < 0) {
		printf("       bytecode %s\n", err.status == EP_UNSIGNED ? "unsigned" : ep_status_message(err.status));
		if (cli->nkeys)
			fail(r, "PolicyBytecode: %s", ep_status_message(err.status));
		return;
	}
	bytecode_format_key_id(id, hex);
	if (!cli->nkeys) {
		printf("       bytecode signed by key %s (not checked: no --trust)\n", hex);
		return;
	}
	if (ep_load_signed(&prog, bytes, len, cli->keys, cli->nkeys, &err) < 0) {
		printf("       bytecode signed by key %s: REFUSED: %s\n", hex, ep_status_message(err.status));
		fail(r, "PolicyBytecode: %s", ep_status_message(err.status));
		return;
	}
	for (size_t i = 0; i < cli->nkeys; i++)
		if (memcmp(cli->keys[i].id, id, EP_KEY_ID_SIZE) == 0) {
			printf("       bytecode signed by key %s, verified with %s\n", hex, cli->key_paths[i]);
			break;
		}
}

static void check_runtime(struct report *r, const struct verify_cli *cli, plist_t prefs)
{
	plist_t data = dict_item(prefs, "PolicyBytecode");
	const char *expected = dict_string(prefs, "PolicySHA256");
	char actual[65];
	uint64_t len = 0;
	r->runtime_payloads++;
	if (!data || plist_get_node_type(data) != PLIST_DATA) {
		printf("     %s: NO PolicyBytecode\n", RUNTIME_DOMAIN);
		fail(r, "the %s payload carries no PolicyBytecode", RUNTIME_DOMAIN);
		return;
	}
	const unsigned char *bytes = (const unsigned char *)plist_get_data_ptr(data, &len);
	sha256_hex(bytes, (size_t)len, actual);
	bool match = expected && strcasecmp(expected, actual) == 0;
	printf("     %s: PolicyBytecode %" PRIu64 " bytes, PolicySHA256 %s\n", RUNTIME_DOMAIN, len,
	       match ? "matches" : expected ? "DOES NOT MATCH" : "MISSING");
	if (!match) {
		printf("       SHA-256 of PolicyBytecode: %s\n", actual);
		fail(r, "PolicySHA256 %s the SHA-256 of PolicyBytecode",
		     expected ? "does not match" : "is missing, so it cannot be checked against");
	}
	check_bytecode_signature(r, cli, bytes, (size_t)len);
}

static void domain_settings(struct report *r, const struct verify_cli *cli, const char *domain,
                            plist_t prefs)
{
	if (strcmp(domain, RUNTIME_DOMAIN) == 0) {
		check_runtime(r, cli, prefs);
	} else if (strcmp(domain, JAMF_DOMAIN) == 0) {
		plist_t tup = dict_item(prefs, "TemporaryUserPermissions");
		if (!tup || plist_get_node_type(tup) != PLIST_DICT) {
			printf("     %s: no TemporaryUserPermissions\n", JAMF_DOMAIN);
			return;
		}
		printf("     %s TemporaryUserPermissions:\n", JAMF_DOMAIN);
		print_dict(tup, "       ");
	}
}

/* The managed-preferences form: PayloadContent > DOMAIN > Forced > [mcx_preference_settings]. */
static void managed_settings(struct report *r, const struct verify_cli *cli, plist_t payload)
{
	plist_t content = dict_item(payload, "PayloadContent");
	if (!content || plist_get_node_type(content) != PLIST_DICT)
		return;
	plist_dict_iter it = NULL;
	plist_dict_new_iter(content, &it);
	for (;;) {
		char *domain = NULL;
		plist_t value = NULL;
		plist_dict_next_item(content, it, &domain, &value);
		if (!domain)
			break;
		plist_t forced = dict_item(value, "Forced");
		uint32_t n = forced && plist_get_node_type(forced) == PLIST_ARRAY ? plist_array_get_size(forced) : 0;
		for (uint32_t i = 0; i < n; i++)
			domain_settings(r, cli, domain,
			                dict_item(plist_array_get_item(forced, i), "mcx_preference_settings"));
		free(domain);
	}
	free(it);
}

static void summarize_payloads(struct report *r, const struct verify_cli *cli, plist_t payloads)
{
	uint32_t n = payloads && plist_get_node_type(payloads) == PLIST_ARRAY ? plist_array_get_size(payloads) : 0;
	field("payloads:", "%" PRIu32, n);
	for (uint32_t i = 0; i < n; i++) {
		plist_t p = plist_array_get_item(payloads, i);
		const char *type = dict_string(p, "PayloadType");
		const char *id = dict_string(p, "PayloadIdentifier");
		printf("  %" PRIu32 ". ", i + 1);
		print_quoted(type ? type : "(no PayloadType)");
		putchar(' ');
		print_quoted(id ? id : "(no PayloadIdentifier)");
		putchar('\n');
		if (type && strcmp(type, MANAGED_PREFERENCES) == 0)
			managed_settings(r, cli, p);
		else if (type)
			domain_settings(r, cli, type, p);
	}
}

static void summarize_profile(struct report *r, const struct verify_cli *cli,
                              const unsigned char *content, size_t len)
{
	plist_t root = NULL;
	if (len <= UINT32_MAX)
		plist_from_memory((const char *)content, (uint32_t)len, &root);
	if (!root || plist_get_node_type(root) != PLIST_DICT) {
		field("profile:", "NOT a property list dictionary");
		fail(r, "%s", "the content is not a property list dictionary");
		plist_free(root);
		return;
	}
	const char *type = dict_string(root, "PayloadType");
	const char *id = dict_string(root, "PayloadIdentifier");
	const char *name = dict_string(root, "PayloadDisplayName");
	printf("%-14s", "profile:");
	print_quoted(id ? id : "(no PayloadIdentifier)");
	if (name) {
		fputs(", ", stdout);
		print_quoted(name);
	}
	putchar('\n');
	if (!type || strcmp(type, "Configuration") != 0) {
		field("type:", "NOT a configuration profile (PayloadType is not Configuration)");
		fail(r, "%s", "the content is not a configuration profile");
	}
	summarize_payloads(r, cli, dict_item(root, "PayloadContent"));
	if (r->runtime_payloads == 0)
		printf("  (no %s payload: the polc runtime has no policy in this profile)\n", RUNTIME_DOMAIN);
	plist_free(root);
}

/* ---- the signer ------------------------------------------------------------------------- */

static void print_name(const char *label, const X509_NAME *name)
{
	char *s = cert_name_string(name);
	field(label, "%s", s ? s : "(unprintable name)");
	free(s);
}

static void print_serial(const X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	field("  serial:", "%s", hex ? hex : "(unreadable)");
	OPENSSL_free(hex);
	BN_free(bn);
}

static void check_validity(struct report *r, X509 *signer)
{
	static const char *const states[] = { "valid now", "NOT YET VALID", "EXPIRED", "UNREADABLE DATES" };
	char from[64], to[64];
	enum cert_time t = cert_time_check(signer);
	cert_time_string(X509_get0_notBefore(signer), from, sizeof(from));
	cert_time_string(X509_get0_notAfter(signer), to, sizeof(to));
	field("  valid:", "%s to %s (%s)", from, to, states[t]);
	if (t == CERT_TIME_EXPIRED)
		fail(r, "the signer's certificate expired on %s", to);
	else if (t != CERT_TIME_VALID)
		fail(r, "the signer's certificate is %s", t == CERT_TIME_BAD ? "unreadable" : "not valid yet");
}

static void check_usage(struct report *r, X509 *signer)
{
	bool tls_only;
	const char *problem = cert_usage_problem(signer, &tls_only);
	if (problem) {
		field("  usage:", "NOT FOR SIGNING: %s", problem);
		fail(r, "the signer's certificate is not for signing: %s", problem);
	} else {
		field("  usage:", "%s", tls_only ? "signing (a TLS server certificate)" : "signing");
	}
}

static void print_signing_time(CMS_SignerInfo *si)
{
	char when[64];
	int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	ASN1_TYPE *t = idx >= 0 ? X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, idx), 0) : NULL;
	if (t && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME)) {
		cert_time_string(t->value.utctime, when, sizeof(when));
		field("  signed at:", "%s", when);
	} else {
		field("  signed at:", "%s", "(no signing time)");
	}
}

/* Parameters absent or NULL, as for SHA-2, RSA PKCS#1 v1.5 and ECDSA; RSASSA-PSS has a SEQUENCE. */
static bool plain_parameters(int ptype, const ASN1_OBJECT *alg)
{
	return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL ||
	       (ptype == V_ASN1_SEQUENCE && OBJ_obj2nid(alg) == NID_rsassaPss);
}

static void check_algorithms(struct report *r, X509_ALGOR *dig, X509_ALGOR *sig)
{
	const ASN1_OBJECT *d, *s;
	int dtype, stype;
	X509_ALGOR_get0(&d, &dtype, NULL, dig);
	X509_ALGOR_get0(&s, &stype, NULL, sig);
	if (!plain_parameters(dtype, d) || !plain_parameters(stype, s))
		fail(r, "%s", "the digest or signature algorithm has unexpected parameters");
	int dn = OBJ_obj2nid(d);
	const char *dname = dn != NID_undef ? OBJ_nid2sn(dn) : "unknown digest";
	const char *sname = OBJ_obj2nid(s) != NID_undef ? OBJ_nid2ln(OBJ_obj2nid(s)) : "unknown";
	bool strong = dn == NID_sha256 || dn == NID_sha384 || dn == NID_sha512;
	field("  algorithms:", "%s, %s%s", dname, sname, strong ? "" : " (WEAK DIGEST)");
	if (!strong)
		fail(r, "the signature uses the digest %s; polc accepts SHA-256, SHA-384 and SHA-512", dname);
}

/* ---- the chain, the signature and the content hash ------------------------------------------ */

static void list_certificates(STACK_OF(X509) *certs)
{
	field("certificates:", "%d in the profile", sk_X509_num(certs));
	for (int i = 0; i < sk_X509_num(certs); i++) {
		char *subject = cert_name_string(X509_get_subject_name(sk_X509_value(certs, i)));
		char *issuer = cert_name_string(X509_get_issuer_name(sk_X509_value(certs, i)));
		printf("  %s\n      issued by %s\n", subject ? subject : "?", issuer ? issuer : "?");
		free(subject);
		free(issuer);
	}
}

static void check_chain(struct report *r, const struct verify_cli *cli, X509 *signer,
                        STACK_OF(X509) *certs, X509_STORE *store)
{
	if (!store) {
		field("chain:", "%s", "not checked (give --ca CA.pem to check it)");
		return;
	}
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!ctx || !X509_STORE_CTX_init(ctx, store, signer, certs)) {
		field("chain:", "NOT CHECKED: %s", openssl_reason());
		fail(r, "%s", "the chain could not be checked");
	} else if (X509_verify_cert(ctx) == 1) {
		STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
		field("chain:", "trusted by %s", cli->ca);
		for (int i = 0; i < sk_X509_num(chain); i++) {
			char *subject = cert_name_string(X509_get_subject_name(sk_X509_value(chain, i)));
			printf("  %d %s\n", i, subject ? subject : "?");
			free(subject);
		}
	} else {
		int err = X509_STORE_CTX_get_error(ctx);
		field("chain:", "NOT TRUSTED by %s: %s (at depth %d)", cli->ca,
		      X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
		fail(r, "the chain is not trusted by %s: %s", cli->ca, X509_verify_cert_error_string(err));
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
}

/* 1 if the content's digest matches the signer's messageDigest attribute. */
static int content_hash_matches(CMS_ContentInfo *cms, CMS_SignerInfo *si)
{
	BIO *cmsbio = CMS_dataInit(cms, NULL);
	char buf[4096];
	if (!cmsbio)
		return 0;
	while (BIO_read(cmsbio, buf, sizeof(buf)) > 0)
		;
	int ok = CMS_SignerInfo_verify_content(si, cmsbio);
	BIO_free_all(cmsbio);
	return ok == 1;
}

static void check_signature(struct report *r, CMS_ContentInfo *cms, CMS_SignerInfo *si)
{
	bool attrs = CMS_signed_get_attr_count(si) > 0;
	bool sig_ok = !attrs || CMS_SignerInfo_verify(si) == 1;
	ERR_clear_error();
	bool hash_ok = content_hash_matches(cms, si);
	ERR_clear_error();
	field("signature:", "%s", sig_ok ? "good" : "BAD (the signed attributes or the signature were changed)");
	field("content hash:", "%s", hash_ok ? "matches" : "DOES NOT MATCH (the profile was changed after signing)");
	if (!sig_ok)
		fail(r, "%s", "the signature does not verify");
	if (!hash_ok)
		fail(r, "%s", "the content hash does not match: the profile was changed after signing");
}

static void check_signer(struct report *r, const struct verify_cli *cli, CMS_ContentInfo *cms,
                         CMS_SignerInfo *si, STACK_OF(X509) *certs, X509_STORE *store)
{
	EVP_PKEY *pkey = NULL;
	X509 *signer = NULL;
	X509_ALGOR *dig = NULL, *sig = NULL;
	CMS_SignerInfo_get0_algs(si, &pkey, &signer, &dig, &sig);
	if (!signer) {
		field("signer:", "%s", "UNKNOWN: the signer's certificate is not in the profile");
		fail(r, "%s", "the signer's certificate is not in the profile");
		return;
	}
	print_name("signer:", X509_get_subject_name(signer));
	print_name("  issuer:", X509_get_issuer_name(signer));
	print_serial(signer);
	check_validity(r, signer);
	check_usage(r, signer);
	print_signing_time(si);
	check_algorithms(r, dig, sig);
	list_certificates(certs);
	check_chain(r, cli, signer, certs, store);
	check_signature(r, cms, si);
}

/* OpenSSL's own verdict, as `openssl cms -verify -purpose any` gives it. */
static void cross_check(struct report *r, CMS_ContentInfo *cms, X509_STORE *store)
{
	unsigned flags = CMS_BINARY | (store ? 0 : CMS_NO_SIGNER_CERT_VERIFY);
	BIO *out = BIO_new(BIO_s_null());
	if (!out || CMS_verify(cms, NULL, store, NULL, out, flags) != 1)
		fail(r, "OpenSSL's CMS_verify refuses it: %s", openssl_reason());
	BIO_free(out);
	ERR_clear_error();
}

static X509_STORE *load_store(const char *path)
{
	X509_STORE *store = X509_STORE_new();
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "polc: cannot read the CA certificates '%s': %s\n", path, strerror(errno));
		X509_STORE_free(store);
		return NULL;
	}
	fclose(f);
	if (!store || X509_STORE_load_file(store, path) != 1 ||
	    !X509_STORE_set_purpose(store, X509_PURPOSE_ANY)) {
		fprintf(stderr, "polc: '%s' holds no PEM certificates (OpenSSL: %s)\n", path, openssl_reason());
		X509_STORE_free(store);
		ERR_clear_error();
		return NULL;
	}
	return store;
}

/* ---- the version fields, which OpenSSL does not check ----------------------------------------- */

/* A DER element's contents, and what follows it. */
struct der {
	const unsigned char *p, *end;
};

/* Takes the next element if its tag is `tag` (one-byte tags only). */
static bool der_take(struct der *d, unsigned char tag, struct der *contents)
{
	const unsigned char *p = d->p;
	if (d->end - p < 2 || *p != tag)
		return false;
	size_t len = p[1];
	p += 2;
	if (len & 0x80) {
		size_t n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(d->end - p) < n)
			return false;
		for (len = 0; n > 0; n--)
			len = (len << 8) | *p++;
	}
	if ((size_t)(d->end - p) < len)
		return false;
	contents->p = p;
	contents->end = p + len;
	d->p = p + len;
	return true;
}

/* A one-byte INTEGER, or -1. */
static int der_small_int(struct der *d)
{
	struct der v;
	return der_take(d, 0x02, &v) && v.end - v.p == 1 && *v.p < 0x80 ? *v.p : -1;
}

/* RFC 5652: SignedData version 1, 3, 4 or 5, every SignerInfo version 1 or 3. */
static bool cms_versions_valid(const unsigned char *data, size_t len)
{
	struct der all = { data, data + len }, info, any, explicit, sd, set, si;
	if (!der_take(&all, 0x30, &info) || !der_take(&info, 0x06, &any) ||
	    !der_take(&info, 0xa0, &explicit) || !der_take(&explicit, 0x30, &sd))
		return false;
	int v = der_small_int(&sd);
	if ((v != 1 && v != 3 && v != 4 && v != 5) || !der_take(&sd, 0x31, &any) || !der_take(&sd, 0x30, &any))
		return false;
	if (sd.p < sd.end && *sd.p == 0xa0 && !der_take(&sd, 0xa0, &any))
		return false;
	if (sd.p < sd.end && *sd.p == 0xa1 && !der_take(&sd, 0xa1, &any))
		return false;
	if (!der_take(&sd, 0x31, &set))
		return false;
	while (set.p < set.end) {
		if (!der_take(&set, 0x30, &si) || ((v = der_small_int(&si)) != 1 && v != 3))
			return false;
	}
	return true;
}

/* The attached content, or NULL after recording why there is none. */
static ASN1_OCTET_STRING *attached_content(struct report *r, CMS_ContentInfo *cms)
{
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		field("signed:", "%s", "NO: a CMS structure, but not SignedData");
		fail(r, "%s", "it is a CMS structure but not SignedData");
		return NULL;
	}
	ASN1_OCTET_STRING **pos = CMS_get0_content(cms);
	if (!pos || !*pos) {
		field("signed:", "%s", "yes, but the profile is not attached (a detached signature)");
		fail(r, "%s", "the signature is detached: the profile is not in the file");
		return NULL;
	}
	field("signed:", "yes, CMS SignedData with the profile attached (%d bytes)",
	      ASN1_STRING_length(*pos));
	if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data)
		fail(r, "%s", "the signed content is not of type data");
	return *pos;
}

/* Checks a signed profile and summarises its content; EXIT_USAGE if --ca cannot be read. */
static int verify_signed(struct report *r, const struct verify_cli *cli, CMS_ContentInfo *cms)
{
	X509_STORE *store = NULL;
	if (cli->ca && !(store = load_store(cli->ca)))
		return EXIT_USAGE;
	ASN1_OCTET_STRING *content = attached_content(r, cms);
	if (content) {
		STACK_OF(X509) *certs = CMS_get1_certs(cms);
		STACK_OF(CMS_SignerInfo) *infos = CMS_get0_SignerInfos(cms);
		CMS_set1_signers_certs(cms, NULL, 0);
		ERR_clear_error();
		if (sk_CMS_SignerInfo_num(infos) <= 0)
			fail(r, "%s", "the signature has no signer");
		for (int i = 0; i < sk_CMS_SignerInfo_num(infos); i++)
			check_signer(r, cli, cms, sk_CMS_SignerInfo_value(infos, i), certs, store);
		if (r->failures == 0)
			cross_check(r, cms, store);
		summarize_profile(r, cli, ASN1_STRING_get0_data(content), (size_t)ASN1_STRING_length(content));
		sk_X509_pop_free(certs, X509_free);
	}
	X509_STORE_free(store);
	return 0;
}

/* ---- the command ---------------------------------------------------------------------------- */

static bool looks_like_plist(const char *data, size_t len)
{
	static const char *const starts[] = { "<?xml", "<!DOCTYPE", "<plist", "bplist00" };
	size_t i = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	for (size_t k = 0; k < sizeof(starts) / sizeof(*starts); k++)
		if (len - i >= strlen(starts[k]) && memcmp(data + i, starts[k], strlen(starts[k])) == 0)
			return true;
	return false;
}

/* Decides what the file is and checks it; returns EXIT_USAGE or 0. */
static int verify_data(struct report *r, const struct verify_cli *cli, const char *data, size_t len)
{
	if (looks_like_plist(data, len)) {
		field("signed:", "%s", "no (an unsigned property list)");
		if (!cli->allow_unsigned)
			fail(r, "%s", "it is not signed (--allow-unsigned accepts unsigned profiles)");
		summarize_profile(r, cli, (const unsigned char *)data, len);
		return 0;
	}
	const unsigned char *p = (const unsigned char *)data;
	CMS_ContentInfo *cms = len <= LONG_MAX ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	ERR_clear_error();
	if (!cms || p != (const unsigned char *)data + len) {
		field("signed:", "%s", cms ? "UNREADABLE: bytes follow the CMS signature"
		                           : "UNREADABLE: neither a property list nor a DER CMS signature");
		fail(r, "%s", cms ? "bytes follow the CMS signature" : "it is neither a property list nor a DER CMS signature");
		CMS_ContentInfo_free(cms);
		return 0;
	}
	if (!cms_versions_valid((const unsigned char *)data, len))
		fail(r, "%s", "the CMS structure has a version number RFC 5652 does not allow");
	int rc = verify_signed(r, cli, cms);
	CMS_ContentInfo_free(cms);
	return rc;
}

int verify_command(int argc, char **argv)
{
	struct verify_cli cli = { 0 };
	struct report r = { 0 };
	char *data = NULL;
	size_t len;
	cli.keys = calloc((size_t)argc + 1, sizeof(*cli.keys));
	cli.key_paths = calloc((size_t)argc + 1, sizeof(*cli.key_paths));
	int rc = cli.keys && cli.key_paths ? parse_verify_args(&cli, argc, argv) : EXIT_USAGE;
	if (rc < 0 && read_file(cli.path, &data, &len) < 0) {
		fprintf(stderr, "polc: cannot read '%s': %s\n", cli.path, strerror(errno));
		rc = EXIT_USAGE;
	}
	if (rc < 0) {
		field("file:", "%s", cli.path);
		rc = verify_data(&r, &cli, data, len);
	}
	if (rc == 0 && data) {
		if (r.failures == 0) {
			field("result:", "%s", cli.allow_unsigned && looks_like_plist(data, len)
			                           ? "unsigned, accepted (--allow-unsigned)" : "verified");
		} else {
			field("result:", "NOT VERIFIED: %s", r.reason);
			fprintf(stderr, "polc: %s: not verified: %s\n", cli.path, r.reason);
			rc = EXIT_POLICY;
		}
	}
	fflush(stdout);
	free(data);
	free(cli.keys);
	free(cli.key_paths);
	return rc;
}
