/*
 * config.c - reads elevate's configuration file (config.h): one setting per
 * line as `key = value`, `#` starts a comment line, white space around keys
 * and values is ignored. Fail closed: anything not understood is an error.
 */
#include "agent/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/auth.h"
#include "agent/dsgroup.h"
#include "agent/state.h"

#ifdef __APPLE__
#define DEFAULT_POLICY  "/Library/Managed Preferences/org.polc.elevate.plist"
#define DEFAULT_GROUP   "admin"
#define DEFAULT_BACKEND CONFIG_BACKEND_DSEDITGROUP
#else
#define DEFAULT_POLICY  "/etc/elevate/policy.epb"
#define DEFAULT_GROUP   "sudo"
#define DEFAULT_BACKEND CONFIG_BACKEND_GROUP_FILES
#endif

void config_defaults(struct elevate_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->policy, sizeof(cfg->policy), "%s", DEFAULT_POLICY);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", STATE_DEFAULT_DIR);
	snprintf(cfg->audit_log, sizeof(cfg->audit_log), "%s", "/var/log/elevate/audit.log");
	snprintf(cfg->admin_group, sizeof(cfg->admin_group), "%s", DEFAULT_GROUP);
	snprintf(cfg->group_root, sizeof(cfg->group_root), "%s", "/etc");
	cfg->admin_backend = DEFAULT_BACKEND;
	snprintf(cfg->dseditgroup, sizeof(cfg->dseditgroup), "%s", DSGROUP_DEFAULT_TOOL);
	snprintf(cfg->pam_biometric, sizeof(cfg->pam_biometric), "%s", AUTH_DEFAULT_SERVICE_BIOMETRIC);
	snprintf(cfg->pam_password, sizeof(cfg->pam_password), "%s", AUTH_DEFAULT_SERVICE_PASSWORD);
	cfg->session = CONFIG_SESSION_UTMP;
	snprintf(cfg->boot_id_path, sizeof(cfg->boot_id_path), "%s", STATE_BOOT_ID_PATH);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trims [*b, *e) of surrounding white space. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && is_space(**b))
		(*b)++;
	while (*e > *b && is_space((*e)[-1]))
		(*e)--;
}

static int copy_value(char *dst, size_t size, const char *v, size_t n)
{
	if (n == 0 || n >= size || memchr(v, '\0', n))
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int set_session(struct elevate_config *cfg, const char *v, size_t n)
{
	if (n == 4 && memcmp(v, "utmp", 4) == 0)
		cfg->session = CONFIG_SESSION_UTMP;
	else if (n == 7 && memcmp(v, "console", 7) == 0)
		cfg->session = CONFIG_SESSION_CONSOLE;
	else if (n == 6 && memcmp(v, "remote", 6) == 0)
		cfg->session = CONFIG_SESSION_REMOTE;
	else
		return -1;
	return 0;
}

static int set_backend(struct elevate_config *cfg, const char *v, size_t n)
{
	if (n == 11 && memcmp(v, "group-files", 11) == 0)
		cfg->admin_backend = CONFIG_BACKEND_GROUP_FILES;
	else if (n == 11 && memcmp(v, "dseditgroup", 11) == 0)
		cfg->admin_backend = CONFIG_BACKEND_DSEDITGROUP;
	else
		return -1;
	return 0;
}

/* The string field a key names, with its size; NULL if none. */
static char *field_of(struct elevate_config *cfg, const char *k, size_t n, size_t *size)
{
	static const struct { const char *name; size_t off, size; } fields[] = {
#define F(name) { #name, offsetof(struct elevate_config, name), \
		  sizeof(((struct elevate_config *)0)->name) }
		F(policy), F(state_dir), F(audit_log), F(admin_group), F(group_root),
		F(pam_biometric), F(pam_password), F(boot_id_path), F(dseditgroup),
#undef F
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strlen(fields[i].name) == n && memcmp(fields[i].name, k, n) == 0) {
			*size = fields[i].size;
			return (char *)cfg + fields[i].off;
		}
	}
	return NULL;
}

static int set_key(struct elevate_config *cfg, const char *k, size_t kn, const char *v,
                   size_t vn, const char **why)
{
	size_t size;
	char *field;
	*why = "value missing, too long or invalid";
	if (kn == 11 && memcmp(k, "trusted_key", 11) == 0) {
		if (cfg->ntrusted >= CONFIG_MAX_KEYS) {
			*why = "too many trusted_key lines";
			return -1;
		}
		if (copy_value(cfg->trusted_key[cfg->ntrusted], CONFIG_PATH_MAX, v, vn) != 0)
			return -1;
		cfg->ntrusted++;
		return 0;
	}
	if (kn == 7 && memcmp(k, "session", 7) == 0) {
		*why = "session must be utmp, console or remote";
		return set_session(cfg, v, vn);
	}
	if (kn == 13 && memcmp(k, "admin_backend", 13) == 0) {
		*why = "admin_backend must be group-files or dseditgroup";
		return set_backend(cfg, v, vn);
	}
	field = field_of(cfg, k, kn, &size);
	if (!field) {
		*why = "unknown key";
		return -1;
	}
	return copy_value(field, size, v, vn);
}

static int parse_line(struct elevate_config *cfg, const char *b, const char *e, const char **why)
{
	const char *eq, *kb = b, *ke, *vb, *ve = e;
	trim(&kb, &ve);
	if (kb == ve || *kb == '#')
		return 0;
	eq = memchr(kb, '=', (size_t)(ve - kb));
	if (!eq) {
		*why = "expected key = value";
		return -1;
	}
	ke = eq;
	vb = eq + 1;
	trim(&kb, &ke);
	trim(&vb, &ve);
	if (kb == ke) {
		*why = "missing key";
		return -1;
	}
	return set_key(cfg, kb, (size_t)(ke - kb), vb, (size_t)(ve - vb), why);
}

int config_parse(struct elevate_config *cfg, const char *text, size_t len, char *err,
                 size_t errsize)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *why = NULL;
		line++;
		if (parse_line(cfg, p, le, &why) != 0) {
			snprintf(err, errsize, "line %u: %s", line, why);
			return -1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int check_file(int fd, uid_t owner, char *err, size_t errsize)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errsize, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "not a regular file");
		return -1;
	}
	if (st.st_uid != owner && st.st_uid != 0) {
		snprintf(err, errsize, "not owned by root");
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errsize, "writable by group or others");
		return -1;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		snprintf(err, errsize, "too large");
		return -1;
	}
	return 0;
}

int config_load(struct elevate_config *cfg, const char *path, uid_t owner, char *err,
                size_t errsize)
{
	char buf[CONFIG_FILE_MAX + 1];
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsize, "%s", strerror(errno));
		return -1;
	}
	if (check_file(fd, owner, err, errsize) != 0) {
		(void)close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsize, "%s", strerror(errno));
			(void)close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONFIG_FILE_MAX) {
			snprintf(err, errsize, "too large");
			(void)close(fd);
			return -1;
		}
	}
	if (close(fd) != 0) {
		snprintf(err, errsize, "%s", strerror(errno));
		return -1;
	}
	return config_parse(cfg, buf, len, err, errsize);
}
