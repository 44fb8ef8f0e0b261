/*
 * target.h - the vendors a profile can be compiled for.
 *
 * A target checks what it can and cannot express (warnings W003, naming
 * what the profile will carry instead) and adds its payloads to the
 * profile. compiler/profile.c owns the envelope and calls the target; a
 * target never writes files or sees the AST.
 */
#ifndef POLC_TARGET_H
#define POLC_TARGET_H

#include <plist/plist.h>

#include "diag.h"
#include "policy.h"

enum payload_style { PAYLOAD_MANAGED, PAYLOAD_INLINE };

struct target {
	const char *name;                  /* as given to --target */
	void (*check)(const struct policy *p, struct diag_list *diags);
	/* Appends the target's payload dictionaries to the array `payloads`. */
	int (*add_payloads)(const struct policy *p, enum payload_style style, plist_t payloads);
};

extern const struct target target_jamf_connect;

/* NULL when no target has that name. */
const struct target *target_find(const char *name);
/* "jamf-connect" (for usage messages). */
const char *target_names(void);

/*
 * Helpers for targets (compiler/profile.c): a payload dictionary with the
 * common keys, and one carrying preferences for a domain, either in the
 * managed-preferences form Jamf Pro generates or inline. NULL on failure.
 */
plist_t profile_payload_new(const struct policy *p, const char *type, const char *id_suffix,
                            const char *display_name);
plist_t profile_preferences_payload(const struct policy *p, const char *domain,
                                    plist_t settings_key, const char *settings_name,
                                    enum payload_style style, const char *display_name);

#endif
