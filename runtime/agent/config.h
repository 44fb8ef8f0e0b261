/*
 * config.h - elevate's configuration file: `key = value` lines, `#`
 * comments and blank lines; an unknown key, a missing `=` or a value that
 * does not fit is an error naming the line. docs/agent.md lists the keys.
 *
 * config_load() checks the file's owner and mode before reading it (a
 * set-user-ID elevate accepts only a root-owned file that group and others
 * cannot write). Everything is stored in fixed-size buffers inside
 * struct elevate_config: nothing to free.
 */
#ifndef ELEVATE_CONFIG_H
#define ELEVATE_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

#define CONFIG_DEFAULT_PATH   "/etc/elevate/elevate.conf"
#define CONFIG_PATH_MAX       1024
#define CONFIG_NAME_MAX       256
#define CONFIG_MAX_KEYS       16          /* trusted_key lines */
#define CONFIG_FILE_MAX       65536       /* a bigger config file is refused */

enum config_session { CONFIG_SESSION_UTMP, CONFIG_SESSION_CONSOLE, CONFIG_SESSION_REMOTE };

/* How the admin group is changed: group and gshadow under group_root
 * (groupdb.c, Linux), or dseditgroup(8) (dsgroup.c, macOS). */
enum config_admin_backend { CONFIG_BACKEND_GROUP_FILES, CONFIG_BACKEND_DSEDITGROUP };

struct elevate_config {
	char policy[CONFIG_PATH_MAX];
	char trusted_key[CONFIG_MAX_KEYS][CONFIG_PATH_MAX];
	size_t ntrusted;
	char state_dir[CONFIG_PATH_MAX];
	char audit_log[CONFIG_PATH_MAX];
	char admin_group[CONFIG_NAME_MAX];
	char group_root[CONFIG_PATH_MAX];
	enum config_admin_backend admin_backend;
	char dseditgroup[CONFIG_PATH_MAX];
	char pam_biometric[CONFIG_NAME_MAX];
	char pam_password[CONFIG_NAME_MAX];
	enum config_session session;
	char boot_id_path[CONFIG_PATH_MAX];
};

/* The built-in defaults (no trusted keys); macOS's differ (docs/agent.md). */
void config_defaults(struct elevate_config *cfg);

/*
 * Parses text (len bytes, need not be NUL-terminated) into cfg, which
 * should hold the defaults. 0, or -1 with a message "LINE: what" in err.
 */
int config_parse(struct elevate_config *cfg, const char *text, size_t len, char *err,
                 size_t errsize);

/*
 * Opens path (no symbolic link), checks that it is a regular file owned by
 * owner (or by root) and not writable by group or others, reads and parses
 * it. 0, or -1 with a message in err.
 */
int config_load(struct elevate_config *cfg, const char *path, uid_t owner, char *err,
                size_t errsize);

#endif
