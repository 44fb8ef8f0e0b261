/*
 * groupdb.h - the agent's editor for the Linux group database: adds a user
 * to, or removes a user from, the explicit member list of one group in
 * ROOT/group and ROOT/gshadow, the way shadow-utils' usermod and gpasswd do.
 *
 * It must never leave a partial file, never touch a byte outside the one
 * member list it edits, and never guess: anything it does not understand
 * about the target group's line is refused with its own status, and the
 * files stay as they were. docs/agent-groups.md has the details.
 *
 * Every function returns 0 (GROUPDB_OK) or a negative enum groupdb_status;
 * groupdb_strerror() names it. After GROUPDB_E_IO errno says why. Out
 * parameters are written only on success. Nothing is returned that the
 * caller must free; the strings passed in stay the caller's.
 *
 * Membership here means the group's explicit member list only (4th field
 * of ROOT/group). A user whose primary group (the gid in passwd) is the
 * group is a member for the kernel and for sudo, but groupdb_is_member()
 * says no: the primary group is not something this module can grant or take
 * away, and passwd may live in LDAP or sssd rather than under ROOT, so a
 * file check would give false assurance. The agent must check the primary
 * group itself (getpwnam) and treat such a user as already an admin.
 *
 * Writers serialise on ROOT/.pwd.lock with an fcntl write lock, the lock
 * lckpwdf(3), shadow-utils and systemd-sysusers take. The lock is a POSIX
 * record lock: it is per process, so two threads of one process are not
 * serialised against each other (the agent is single-threaded).
 */
#ifndef ELEVATE_GROUPDB_H
#define ELEVATE_GROUPDB_H

#include <stdbool.h>

#define GROUPDB_DEFAULT_ROOT "/etc"
#define GROUPDB_LOCK_TIMEOUT_MS 15000u   /* as lckpwdf(3) */
#define GROUPDB_NAME_MAX 255             /* bytes, without the NUL */
#define GROUPDB_FILE_MAX (16u << 20)     /* a bigger group file is refused */

/* X(name, value, message): one list for the enum and the messages. */
#define GROUPDB_STATUSES(X) \
	X(GROUPDB_OK,                 0,  "success") \
	X(GROUPDB_E_ARG,             -1,  "missing argument") \
	X(GROUPDB_E_BAD_USER,        -2,  "invalid user name") \
	X(GROUPDB_E_BAD_GROUP,       -3,  "invalid group name") \
	X(GROUPDB_E_NO_GROUP,        -4,  "no such group in the group file") \
	X(GROUPDB_E_DUP_GROUP,       -5,  "the group has more than one line in the group file") \
	X(GROUPDB_E_MALFORMED,       -6,  "the group's line in the group file is malformed") \
	X(GROUPDB_E_GSHADOW_DUP,     -7,  "the group has more than one line in the gshadow file") \
	X(GROUPDB_E_GSHADOW_MALFORMED, -8, "the group's line in the gshadow file is malformed") \
	X(GROUPDB_E_NOT_REGULAR,     -9,  "a group database file is not a regular file") \
	X(GROUPDB_E_TOO_BIG,        -10,  "a group database file is too large") \
	X(GROUPDB_E_LOCK_TIMEOUT,   -11,  "timed out waiting for the .pwd.lock lock") \
	X(GROUPDB_E_IO,             -12,  "system call failed") \
	X(GROUPDB_E_NOMEM,          -13,  "out of memory") \
	X(GROUPDB_E_HOOK,           -14,  "stopped by the step hook")

#define GROUPDB_ENUM_(name, value, msg) name = (value),
enum groupdb_status { GROUPDB_STATUSES(GROUPDB_ENUM_) };
#undef GROUPDB_ENUM_

/*
 * The points at which a write can be interrupted, in order, for each file
 * written (gshadow before group when adding, group before gshadow when
 * removing, so that a crash in between never leaves the user an admin by
 * the group file without the agent knowing).
 */
enum groupdb_step {
	GROUPDB_STEP_LOCKED,        /* lock held, nothing read yet (file NULL) */
	GROUPDB_STEP_TEMP_WRITTEN,  /* FILE+ written and synced, not renamed */
	GROUPDB_STEP_BACKUP_LINKED, /* FILE- is the old version, FILE+ not renamed */
	GROUPDB_STEP_RENAMED        /* FILE+ renamed over FILE, directory synced */
};

struct groupdb_options {
	/* How long to wait for ROOT/.pwd.lock; 0 means GROUPDB_LOCK_TIMEOUT_MS. */
	unsigned lock_timeout_ms;
	/*
	 * Tests only. Called at every step with the file's name ("group",
	 * "gshadow") or NULL; a non-zero return stops the edit with
	 * GROUPDB_E_HOOK after cleaning up as for any other failure. A hook
	 * may also _exit() to simulate a crash at that point.
	 */
	int (*step_hook)(void *arg, enum groupdb_step step, const char *file);
	void *step_arg;
};

/* The message for a status; never NULL. */
const char *groupdb_strerror(int status);

/*
 * Whether a user or group name is one this module will write: 1 to
 * GROUPDB_NAME_MAX bytes, no ':' ',' whitespace or control characters,
 * not starting with '-', '+' or '#' (option, NIS and comment markers).
 */
bool groupdb_valid_name(const char *name);

/*
 * Adds user to group's member list in ROOT/group and, if ROOT/gshadow exists
 * and has a line for the group, to that line's member list too. root NULL
 * means GROUPDB_DEFAULT_ROOT. If ROOT/group already lists the user nothing
 * is written and *already is true.
 */
int groupdb_add_member(const char *root, const char *group, const char *user, bool *already);

/*
 * Removes every occurrence of user from group's member list in ROOT/group and
 * ROOT/gshadow. *was_member says whether ROOT/group listed the user; gshadow
 * is cleaned even when group did not list the user (a repair after a crash).
 */
int groupdb_remove_member(const char *root, const char *group, const char *user, bool *was_member);

/* Whether ROOT/group lists user as a member of group (see the top: explicit only). */
int groupdb_is_member(const char *root, const char *group, const char *user, bool *member);

/* As above, with options (opt may be NULL). */
int groupdb_add_member_opt(const char *root, const char *group, const char *user,
                           const struct groupdb_options *opt, bool *already);
int groupdb_remove_member_opt(const char *root, const char *group, const char *user,
                              const struct groupdb_options *opt, bool *was_member);

#endif
