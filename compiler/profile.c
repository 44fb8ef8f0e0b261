/*
 * profile.c - the Configuration profile envelope around a target's payloads.
 *
 * Owns the keys every profile carries (PayloadType Configuration, scope,
 * TargetDeviceType, UUIDs); the vendor keys are the targets' business.
 * Never writes a file: it returns bytes for compiler/output.c.
 */
#include "profile.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "uuid.h"

static const struct target *const targets[] = { &target_jamf_connect, &target_runtime };

const struct target *target_find(const char *name)
{
	for (size_t i = 0; i < sizeof(targets) / sizeof(*targets); i++)
		if (strcmp(targets[i]->name, name) == 0)
			return targets[i];
	return NULL;
}

const char *target_names(void)
{
	return "jamf-connect, runtime";
}

static int set_uuid(plist_t dict, const char *name)
{
	char uuid[UUID_STRING_LEN + 1];
	if (uuid_v5(uuid_namespace_dns, name, uuid) < 0)
		return -1;
	plist_dict_set_item(dict, "PayloadUUID", plist_new_string(uuid));
	return 0;
}


static plist_t payload_new(const struct policy *p, const char *type, const char *domain,
                           const char *display_name)
{
	char *identifier = str_join(p->profile.identifier, ".", domain);
	plist_t d = plist_new_dict();
	if (!identifier || !d)
		goto fail;
	plist_dict_set_item(d, "PayloadDisplayName", plist_new_string(display_name));
	plist_dict_set_item(d, "PayloadEnabled", plist_new_bool(1));
	plist_dict_set_item(d, "PayloadIdentifier", plist_new_string(identifier));
	plist_dict_set_item(d, "PayloadType", plist_new_string(type));
	if (set_uuid(d, identifier) < 0)
		goto fail;
	plist_dict_set_item(d, "PayloadVersion", plist_new_uint(1));
	free(identifier);
	return d;
fail:
	free(identifier);
	plist_free(d);
	return NULL;
}

/* Moves every key of `from` into `to` and frees `from`. */
static void merge_dict(plist_t to, plist_t from)
{
	plist_dict_iter it = NULL;
	plist_dict_new_iter(from, &it);
	for (;;) {
		char *key = NULL;
		plist_t value = NULL;
		plist_dict_next_item(from, it, &key, &value);
		if (!key)
			break;
		plist_dict_set_item(to, key, plist_copy(value));
		free(key);
	}
	free(it);
	plist_free(from);
}

plist_t profile_preferences_payload(const struct policy *p, const char *domain, plist_t prefs,
                                    enum payload_style style, const char *display_name)
{
	bool managed = style == PAYLOAD_MANAGED;
	plist_t d = payload_new(p, managed ? "com.apple.ManagedClient.preferences" : domain, domain,
	                        display_name);
	if (!d) {
		plist_free(prefs);
		return NULL;
	}
	if (!managed) {
		merge_dict(d, prefs);
		return d;
	}
	plist_t forced_entry = plist_new_dict();
	plist_dict_set_item(forced_entry, "mcx_preference_settings", prefs);
	plist_t forced = plist_new_array();
	plist_array_append_item(forced, forced_entry);
	plist_t domain_dict = plist_new_dict();
	plist_dict_set_item(domain_dict, "Forced", forced);
	plist_t content = plist_new_dict();
	plist_dict_set_item(content, domain, domain_dict);
	plist_dict_set_item(d, "PayloadContent", content);
	return d;
}

static plist_t build_envelope(const struct policy *p, plist_t payloads)
{
	const struct profile_info *pi = &p->profile;
	plist_t top = plist_new_dict();

	plist_dict_set_item(top, "PayloadContent", payloads);
	if (pi->description)
		plist_dict_set_item(top, "PayloadDescription", plist_new_string(pi->description));
	plist_dict_set_item(top, "PayloadDisplayName", plist_new_string(pi->name));
	plist_dict_set_item(top, "PayloadIdentifier", plist_new_string(pi->identifier));
	if (pi->organization)
		plist_dict_set_item(top, "PayloadOrganization", plist_new_string(pi->organization));
	plist_dict_set_item(top, "PayloadScope", plist_new_string("System"));
	plist_dict_set_item(top, "PayloadType", plist_new_string("Configuration"));
	if (set_uuid(top, pi->identifier) < 0) {
		plist_free(top);
		return NULL;
	}
	plist_dict_set_item(top, "PayloadVersion", plist_new_uint(1));
	plist_dict_set_item(top, "TargetDeviceType", plist_new_uint(5));
	return top;
}

int profile_build_xml(const struct policy *p, const struct profile_options *opts, char **xml,
                      size_t *len)
{
	plist_t payloads = plist_new_array();
	plist_t runtime = target_runtime_payload(p, opts->bytecode, opts->bytecode_len, opts->style);
	if (!runtime || opts->target->add_payloads(p, opts->style, payloads) < 0) {
		plist_free(runtime);
		plist_free(payloads);
		return -1;
	}
	plist_array_append_item(payloads, runtime);
	plist_t top = build_envelope(p, payloads);
	if (!top)
		return -1;
	char *text = NULL;
	uint32_t n = 0;
	plist_to_xml(top, &text, &n);
	plist_free(top);
	if (!text)
		return -1;
	*xml = malloc(n ? n : 1);
	if (*xml)
		memcpy(*xml, text, n);
	plist_to_xml_free(text);
	*len = n;
	return *xml ? 0 : -1;
}
