/*
 * target_runtime.c - the polc runtime's own payload, in the preference
 * domain org.polc.elevate: the compiled policy as <data>, its format
 * version and SHA-256. Every profile carries it; `--target runtime` emits
 * it alone. The runtime can express every policy, so this target has no
 * warnings.
 */
#include <stdio.h>

#include <openssl/evp.h>

#include "format.h"
#include "target.h"

static int sha256_hex(const unsigned char *data, size_t len, char hex[65])
{
	unsigned char digest[32];
	unsigned int n = 0;
	if (!EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL) || n != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

plist_t target_runtime_payload(const struct policy *p, const unsigned char *bytecode, size_t len,
                               enum payload_style style)
{
	char hex[65];
	if (sha256_hex(bytecode, len, hex) < 0)
		return NULL;
	plist_t prefs = plist_new_dict();
	plist_dict_set_item(prefs, "PolicyBytecode", plist_new_data((const char *)bytecode, len));
	plist_dict_set_item(prefs, "PolicyFormatVersion", plist_new_uint(EP_FORMAT_VERSION));
	plist_dict_set_item(prefs, "PolicySHA256", plist_new_string(hex));
	return profile_preferences_payload(p, RUNTIME_DOMAIN, prefs, style, "polc elevation policy");
}

static void runtime_check(const struct policy *p, struct diag_list *diags)
{
	(void)p;
	(void)diags;
}

static int runtime_add_payloads(const struct policy *p, enum payload_style style, plist_t payloads)
{
	(void)p;
	(void)style;
	(void)payloads;
	return 0;
}

const struct target target_runtime = {
	.name = "runtime",
	.check = runtime_check,
	.add_payloads = runtime_add_payloads,
};
