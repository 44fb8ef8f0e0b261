/*
 * uuid.h - name-based UUIDs (RFC 4122 version 5, SHA-1), upper case.
 *
 * Profiles use them so that compiling the same policy twice gives the same
 * PayloadUUIDs and a re-upload to Jamf Pro replaces the old profile.
 */
#ifndef POLC_UUID_H
#define POLC_UUID_H

#include <stdint.h>

#define UUID_STRING_LEN 36

/* RFC 4122 appendix C namespace for DNS names. */
extern const uint8_t uuid_namespace_dns[16];

/* Writes 36 characters and a NUL into out. Returns 0, or -1 if SHA-1 fails. */
int uuid_v5(const uint8_t ns[16], const char *name, char out[UUID_STRING_LEN + 1]);

#endif
