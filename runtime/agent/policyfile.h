/*
 * policyfile.h - reads the agent's signed policy from a root-owned file:
 * either the compiled bytecode itself (Linux: /etc/elevate/policy.epb) or
 * the managed preferences that the configuration profile installs (macOS:
 * /Library/Managed Preferences/org.polc.elevate.plist, XML or binary), whose
 * PolicyBytecode holds the bytecode, PolicyFormatVersion its format version
 * and PolicySHA256 its SHA-256. The form is told by the first bytes: the
 * bytecode's magic, else a property list. This module only reads and
 * cross-checks; the signature is checked by the caller (ep_load_signed).
 *
 * Files (the policy and the trusted keys) are opened without following a
 * symbolic link and must be regular files owned by root (or by the given
 * owner, for tests run as another user), not writable by others, and at
 * most POLICYFILE_MAX bytes.
 */
#ifndef ELEVATE_POLICYFILE_H
#define ELEVATE_POLICYFILE_H

#include <stddef.h>
#include <sys/types.h>

#define POLICYFILE_MAX (16u << 20)

struct policyfile {
	unsigned char *bytecode;        /* malloc'd; free() it */
	size_t len;
	char sha256[65];                /* of the bytecode, 64 lowercase hex digits */
	const char *form;               /* "bytecode" or "managed preferences" */
};

/* 0 if the open file fd is safe to trust (see above), else -1 with why in err. */
int policyfile_check_owned(int fd, uid_t owner, char *err, size_t errsize);

/* Reads path into *out. 0, or -1 with a message naming path in err (nothing to free). */
int policyfile_read(const char *path, uid_t owner, struct policyfile *out, char *err,
                    size_t errsize);

#endif
