/*
 * profile.c - the Configuration profile envelope around a target's payloads.
 *
 * Owns the keys every profile carries (PayloadType Configuration, scope,
 * TargetDeviceType, UUIDs); the vendor keys are the targets' business.
 * Never writes a file: it returns bytes for compiler/output.c.
 */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uuid.h"

static const struct target *const targets[] = { &target_jamf_connect };

const struct target *target_find(const char *name)
{
	for (size_t i = 0; i < sizeof(targets) / sizeof(*targets); i++)
		if (strcmp(targets[i]->name, name) == 0)
			return targets[i];
	return NULL;
}

const char *target_names(void)
{
	return "jamf-connect";
}

static int set_uuid(plist_t dict, const char *name)
{
	char uuid[UUID_STRING_LEN + 1];
	if (uuid_v5(uuid_namespace_dns, name, uuid) < 0)
		return -1;
	plist_dict_set_item(dict, "PayloadUUID", plist_new_string(uuid));
	return 0;
}

static char *join_identifier(const char *base, const char *suffix)
{
	size_t n = strlen(base) + strlen(suffix) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s.%s", base, suffix);
	return s;
}

plist_t profile_payload_new(const struct policy *p, const char *type, const char *id_suffix,
                            const char *display_name)
{
	char *identifier = join_identifier(p->profile.identifier, id_suffix);
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

/*
 * Managed form: PayloadContent > domain > Forced > [ { mcx_preference_settings
 * > { name: settings } } ], as Jamf Pro writes custom settings.
 * Inline form: PayloadType is the domain and the settings sit in the payload.
 * Takes ownership of settings.
 */
plist_t profile_preferences_payload(const struct policy *p, const char *domain,
                                    plist_t settings, const char *settings_name,
                                    enum payload_style style, const char *display_name)
{
	if (style == PAYLOAD_INLINE) {
		plist_t d = profile_payload_new(p, domain, domain, display_name);
		if (!d) {
			plist_free(settings);
			return NULL;
		}
		plist_dict_set_item(d, settings_name, settings);
		return d;
	}
	plist_t d = profile_payload_new(p, "com.apple.ManagedClient.preferences", domain, display_name);
	if (!d) {
		plist_free(settings);
		return NULL;
	}
	plist_t mcx = plist_new_dict();
	plist_dict_set_item(mcx, settings_name, settings);
	plist_t forced_entry = plist_new_dict();
	plist_dict_set_item(forced_entry, "mcx_preference_settings", mcx);
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
	if (opts->target->add_payloads(p, opts->style, payloads) < 0) {
		plist_free(payloads);
		return -1;
	}
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
