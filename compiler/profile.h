/*
 * profile.h - the configuration profile (.mobileconfig) as XML plist bytes.
 *
 * Builds the top-level Configuration envelope around the target's vendor
 * payloads and the runtime's bytecode payload, with libplist. Deterministic: the same policy and options give
 * the same bytes (UUIDv5 identifiers, libplist keeps insertion order).
 */
#ifndef POLC_PROFILE_H
#define POLC_PROFILE_H

#include <stddef.h>

#include "target.h"

struct profile_options {
	const struct target *target;
	enum payload_style style;
	const unsigned char *bytecode;     /* the .epb the runtime payload carries */
	size_t bytecode_len;
};

/* 0 with *xml (free with free()) and *len set; -1 on failure. */
int profile_build_xml(const struct policy *p, const struct profile_options *opts, char **xml,
                      size_t *len);

#endif
