/*
 * policyfile.c - the agent's policy, from raw bytecode or from managed
 * preferences (policyfile.h). Property lists are parsed by libplist, which
 * reads both the XML and the binary form; every key is checked for its
 * type, and the bytecode for its format version and SHA-256.
 */
#include "agent/policyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plist/plist.h>

#include "agent/digest.h"
#include "format.h"

int policyfile_check_owned(int fd, uid_t owner, char *err, size_t errsize)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return snprintf(err, errsize, "%s", strerror(errno)), -1;
	if (!S_ISREG(st.st_mode))
		return snprintf(err, errsize, "not a regular file"), -1;
	if (st.st_uid != 0 && st.st_uid != owner)
		return snprintf(err, errsize, "not owned by root"), -1;
	if (st.st_mode & S_IWOTH)
		return snprintf(err, errsize, "writable by others"), -1;
	if ((uintmax_t)st.st_size > POLICYFILE_MAX)
		return snprintf(err, errsize, "too large"), -1;
	return 0;
}

static int read_all(int fd, unsigned char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	unsigned char *buf = malloc(cap);
	while (buf) {
		ssize_t r;
		if (n == cap) {
			unsigned char *nb = cap >= POLICYFILE_MAX ? NULL : realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			*out = buf;
			*len = n;
			return 0;
		}
		n += (size_t)r;
	}
	free(buf);
	return -1;
}

static int read_file(const char *path, uid_t owner, unsigned char **buf, size_t *len,
                     char *err, size_t errsize)
{
	char why[128];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc;
	if (fd < 0)
		return snprintf(err, errsize, "policy %s: %s", path, strerror(errno)), -1;
	rc = policyfile_check_owned(fd, owner, why, sizeof(why));
	if (rc != 0)
		snprintf(err, errsize, "policy %s: %s", path, why);
	else if ((rc = read_all(fd, buf, len)) != 0)
		snprintf(err, errsize, "policy %s: cannot read it", path);
	if (close(fd) != 0 && rc == 0) {
		snprintf(err, errsize, "policy %s: %s", path, strerror(errno));
		free(*buf);
		rc = -1;
	}
	return rc;
}

/* The dictionary's item of the given type, or NULL. */
static plist_t item_of(plist_t dict, const char *key, plist_type type)
{
	plist_t item = plist_dict_get_item(dict, key);
	return item && plist_get_node_type(item) == type ? item : NULL;
}

/* Takes the bytecode out of managed preferences; -1 with why. */
static int from_preferences(plist_t dict, struct policyfile *out, const char **why)
{
	plist_t data = item_of(dict, "PolicyBytecode", PLIST_DATA);
	plist_t version = item_of(dict, "PolicyFormatVersion", PLIST_UINT);
	plist_t sum = item_of(dict, "PolicySHA256", PLIST_STRING);
	uint64_t v = 0;
	uint64_t n = 0;
	const char *bytes, *hex;
	if (!data || !version || !sum)
		return *why = "PolicyBytecode (data), PolicyFormatVersion (integer) and "
		              "PolicySHA256 (string) are required", -1;
	plist_get_uint_val(version, &v);
	if (v != EP_FORMAT_VERSION)
		return *why = "PolicyFormatVersion is not a version this agent reads", -1;
	bytes = plist_get_data_ptr(data, &n);
	if (!bytes || n == 0 || n > POLICYFILE_MAX)
		return *why = "PolicyBytecode is empty or too large", -1;
	out->bytecode = malloc((size_t)n);
	if (!out->bytecode)
		return *why = "out of memory", -1;
	memcpy(out->bytecode, bytes, (size_t)n);
	out->len = (size_t)n;
	hex = plist_get_string_ptr(sum, NULL);
	if (digest_sha256_hex(out->bytecode, out->len, out->sha256) != 0)
		return *why = "cannot hash PolicyBytecode", -1;
	if (!hex || strcmp(hex, out->sha256) != 0)
		return *why = "PolicySHA256 does not match PolicyBytecode", -1;
	return 0;
}

static int parse_preferences(const unsigned char *buf, size_t len, struct policyfile *out,
                             const char **why)
{
	plist_t root = NULL;
	int rc;
	if (len > UINT32_MAX)
		return *why = "too large", -1;
	plist_from_memory((const char *)buf, (uint32_t)len, &root);   /* XML or binary */
	if (!root)
		return *why = "neither bytecode nor a property list", -1;
	if (plist_get_node_type(root) != PLIST_DICT) {
		*why = "the property list is not a dictionary";
		rc = -1;
	} else {
		rc = from_preferences(root, out, why);
	}
	plist_free(root);
	return rc;
}

int policyfile_read(const char *path, uid_t owner, struct policyfile *out, char *err,
                    size_t errsize)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	const char *why = NULL;
	memset(out, 0, sizeof(*out));
	if (read_file(path, owner, &buf, &len, err, errsize) != 0)
		return -1;
	if (len >= sizeof(EP_MAGIC) - 1 && memcmp(buf, EP_MAGIC, sizeof(EP_MAGIC) - 1) == 0) {
		out->bytecode = buf;
		out->len = len;
		out->form = "bytecode";
		if (digest_sha256_hex(buf, len, out->sha256) == 0)
			return 0;
		why = "cannot hash the policy";
	} else {
		out->form = "managed preferences";
		if (parse_preferences(buf, len, out, &why) == 0) {
			free(buf);
			return 0;
		}
		free(buf);
	}
	free(out->bytecode);
	memset(out, 0, sizeof(*out));
	snprintf(err, errsize, "policy %s: %s", path, why);
	return -1;
}
