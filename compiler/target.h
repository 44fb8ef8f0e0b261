/*
 * target.h - the vendors a profile can be compiled for.
 *
 * A target checks what it can and cannot express (warnings W003, naming
 * what the profile will carry instead) and adds its vendor payloads to the
 * profile. compiler/profile.c owns the envelope and always adds the polc
 * runtime's own payload after the target's; a target never writes files
 * or sees the AST.
 */
#ifndef POLC_TARGET_H
#define POLC_TARGET_H

#include <stddef.h>

#include <plist/plist.h>

#include "diag.h"
#include "policy.h"

enum payload_style { PAYLOAD_MANAGED, PAYLOAD_INLINE };

struct target {
	const char *name;                  /* as given to --target */
	void (*check)(const struct policy *p, struct diag_list *diags);
	/* Appends the vendor payload dictionaries to the array `payloads`. */
	int (*add_payloads)(const struct policy *p, enum payload_style style, plist_t payloads);
};

extern const struct target target_jamf_connect;
extern const struct target target_runtime;

/* NULL when no target has that name. */
const struct target *target_find(const char *name);
/* "jamf-connect, runtime" (for usage messages). */
const char *target_names(void);

/*
 * Helper for targets (compiler/profile.c): a payload carrying the
 * preference dictionary `prefs` for `domain`, either in the
 * managed-preferences form Jamf Pro generates (PayloadContent > domain >
 * Forced > mcx_preference_settings) or inline (PayloadType = domain, the
 * preferences as payload keys). Takes ownership of prefs; NULL on failure.
 */
plist_t profile_preferences_payload(const struct policy *p, const char *domain, plist_t prefs,
                                    enum payload_style style, const char *display_name);

/* The polc runtime's own payload carrying the bytecode (compiler/target_runtime.c). */
#define RUNTIME_DOMAIN "org.polc.elevate"
plist_t target_runtime_payload(const struct policy *p, const unsigned char *bytecode, size_t len,
                               enum payload_style style);

#endif
