/*
 * state.h - elevate's grant state store: the active grants (who is an admin
 * because of elevate, since when, until when, in which phase of the
 * two-phase protocol), every user's grant history for `limit`, the latest
 * wall-clock time ever seen and the "locked" causes (the clock went back,
 * the audit log was found tampered with). One line-based text file, DIR/state, in a root-only directory;
 * docs/agent-state.md is the format's reference.
 *
 * It must never: read or write through a symbolic link or in a directory
 * or file that anyone but the expected owner could have written; leave a
 * partial state file (every change rewrites the whole file to DIR/state.tmp,
 * syncs it, renames it over DIR/state and syncs the directory); accept a
 * file it does not understand completely (fail closed: STATE_E_MALFORMED,
 * the agent denies and logs tampering); let a wall-clock change lengthen a
 * grant or refill a quota; crash or misbehave on any file contents.
 *
 * Ownership: struct state is opaque, made by state_open() and released by
 * state_close(). Strings passed in stay the caller's and are only read
 * during the call; records returned are copies (struct state_grant, or a
 * struct state_list the caller frees with state_list_free()). Functions
 * return 0 (STATE_OK) or a negative enum state_status, named by
 * state_strerror(); after STATE_E_IO errno says why. Out parameters are
 * written only on success (lists are emptied on failure).
 *
 * Reading and locking: state_open() reads a snapshot. state_lock() takes
 * the exclusive lock on DIR/lock and rereads the file; every read function
 * answers from the handle's snapshot, so a decision that must not race
 * (count grants -> grant) is made between state_lock() and state_unlock().
 * A changing function called without the lock takes it itself for the one
 * change (rereading the file first) and releases it again. The lock is a
 * POSIX fcntl() record lock: it belongs to the process, so two handles in
 * one process do not exclude each other (closing either drops both their
 * locks), and threads must not share a handle. The agent is one thread
 * with one handle.
 *
 * After a failed reread (for example STATE_E_MALFORMED) the handle holds no
 * contents: every call fails with that status until a state_lock() or
 * state_reload() succeeds. After a failed write the handle rereads the
 * file, so it never shows a change that is not on disk.
 */
#ifndef ELEVATE_STATE_H
#define ELEVATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __APPLE__
#define STATE_DEFAULT_DIR "/var/db/elevate"
#else
#define STATE_DEFAULT_DIR "/var/lib/elevate"
#endif
#define STATE_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"   /* Linux */

#define STATE_FORMAT_VERSION 1
#define STATE_LOCK_TIMEOUT_MS 15000u     /* default wait for DIR/lock */
#define STATE_CLOCK_TOLERANCE 120        /* seconds the clock may go back unnoticed */
#define STATE_HISTORY_DAYS 400           /* history older than this is pruned */
#define STATE_HISTORY_PER_USER 10000     /* = EP_MAX_GRANTS; the oldest beyond is dropped */
#define STATE_MAX_GRANTS 1024            /* active records at once */
#define STATE_NAME_MAX 255               /* user and rule names, in bytes */
#define STATE_REASON_MAX 4096            /* reason, in bytes (1000 UTF-8 characters) */
#define STATE_BOOT_ID_MAX 64             /* [0-9A-Za-z._:-], 1 to 64 bytes */
#define STATE_DURATION_MAX 86400         /* the language's longest duration, 24 h */
#define STATE_TIME_LIMIT (INT64_C(1) << 40)   /* times are 0 <= t < 2^40, as in ep.h */
#define STATE_FILE_MAX (16u << 20)       /* a bigger state file is refused */

/* X(name, value, message): one list for the enum and the messages. */
#define STATE_STATUSES(X) \
	X(STATE_OK,              0, "success") \
	X(STATE_E_ARG,          -1, "missing or invalid argument") \
	X(STATE_E_BAD_FIELD,    -2, "a user, rule, reason, boot id, time or duration is empty, too long or out of range") \
	X(STATE_E_NO_DIR,       -3, "the state directory does not exist") \
	X(STATE_E_UNSAFE_DIR,   -4, "the state directory is a symbolic link, not a directory, not owned by the expected user, or writable by group or others") \
	X(STATE_E_UNSAFE_FILE,  -5, "a file in the state directory is not a regular file, not owned by the expected user, or writable by group or others") \
	X(STATE_E_MALFORMED,    -6, "the state file is malformed (damaged or tampered with)") \
	X(STATE_E_VERSION,      -7, "the state file has an unsupported format version") \
	X(STATE_E_TOO_BIG,      -8, "the state file is too large") \
	X(STATE_E_LOCK_TIMEOUT, -9, "timed out waiting for the state lock") \
	X(STATE_E_NOT_FOUND,   -10, "no such grant") \
	X(STATE_E_PHASE,       -11, "the grant is not in a phase that allows this step") \
	X(STATE_E_LOCKED,      -12, "elevation is locked; an administrator must clear it (elevate unlock)") \
	X(STATE_E_CLOCK_BACK,  -13, "the clock jumped (back, or forward faster than time passed); elevation is now locked") \
	X(STATE_E_FULL,        -14, "too many active grants") \
	X(STATE_E_BOOT_ID,     -15, "cannot read a valid boot id") \
	X(STATE_E_IO,          -16, "system call failed") \
	X(STATE_E_NOMEM,       -17, "out of memory") \
	X(STATE_E_HOOK,        -18, "stopped by the step hook")

#define STATE_ENUM_(name, value, msg) name = (value),
enum state_status { STATE_STATUSES(STATE_ENUM_) };
#undef STATE_ENUM_

/* The two-phase protocol (docs/agent-state.md). */
enum state_phase {
	STATE_PHASE_INTENT,      /* recorded before the user is added to the group */
	STATE_PHASE_GRANTED,     /* the user was added; the grant runs */
	STATE_PHASE_REVOKING     /* recorded before the user is removed from the group */
};

/* One active grant, as stored. */
struct state_grant {
	uint64_t id;                          /* unique, never reused; > 0 */
	enum state_phase phase;
	char user[STATE_NAME_MAX + 1];        /* non-empty */
	char rule[STATE_NAME_MAX + 1];        /* "" when `otherwise` decided */
	char reason[STATE_REASON_MAX + 1];    /* "" when none was given */
	int64_t start_wall;                   /* Unix seconds when granted */
	int64_t expiry_wall;                  /* start_wall + duration, for display */
	uint32_t duration;                    /* seconds, 1 to STATE_DURATION_MAX */
	char boot_id[STATE_BOOT_ID_MAX + 1];  /* the boot it was granted in */
	int64_t mono_start;                   /* STATE_MONO_CLOCK seconds when granted */
};

/* A list of records; free with state_list_free(). */
struct state_list {
	struct state_grant *v;
	size_t n;
};

/* The clocks and the boot, read together (state_read_clock) or made up by tests. */
struct state_now {
	int64_t wall;                          /* Unix seconds */
	int64_t mono;                          /* STATE_MONO_CLOCK seconds */
	char boot_id[STATE_BOOT_ID_MAX + 1];
};

/* The points at which a write can be interrupted, in order. */
enum state_step {
	STATE_STEP_LOCKED,        /* lock taken, file not read yet */
	STATE_STEP_TEMP_WRITTEN,  /* DIR/state.tmp written and synced, not renamed */
	STATE_STEP_RENAMED        /* renamed over DIR/state, directory synced */
};

struct state_options {
	/* How long a change made without state_lock() waits for the lock; 0: STATE_LOCK_TIMEOUT_MS. */
	unsigned lock_timeout_ms;
	/* How far (seconds) the clock may go back before elevation locks; 0: STATE_CLOCK_TOLERANCE. */
	unsigned clock_tolerance;
	/*
	 * Tests only. Called at every step with the operation's name ("lock",
	 * "begin-grant", "commit-grant", "begin-revoke", "finish-revoke",
	 * "note-time", "set-lock", "clear-lock"); a non-zero return stops the operation
	 * with STATE_E_HOOK after cleaning up as for any other failure. A hook
	 * may also _exit() to simulate a crash at that point.
	 */
	int (*step_hook)(void *arg, enum state_step step, const char *op);
	void *step_arg;
};

struct state;

/* The message for a status; never NULL. */
const char *state_strerror(int status);
/* "intent", "granted", "revoking", or NULL when out of range. */
const char *state_phase_name(enum state_phase phase);

/*
 * Opens the state in dir (NULL: STATE_DEFAULT_DIR), which must exist, be a
 * directory and not a symbolic link, be owned by owner (root, 0, for the
 * agent; the tests pass geteuid()) and not be writable by group or others.
 * Reads DIR/state if it exists (an absent file is an empty state; it is
 * written by the first change). Files the store creates get mode 0600 and
 * the effective uid, which must therefore be owner for any change.
 * opt may be NULL. Nothing is allocated on failure.
 */
int state_open(const char *dir, uid_t owner, struct state **out);
int state_open_opt(const char *dir, uid_t owner, const struct state_options *opt,
                   struct state **out);
/* Releases the lock if held and frees everything; NULL is fine. */
void state_close(struct state *st);

/*
 * Takes the exclusive lock (DIR/lock, created 0600 when missing), polling
 * for up to timeout_ms (0: STATE_LOCK_TIMEOUT_MS), then rechecks the
 * directory and rereads the file. On any failure the lock is not held.
 * STATE_E_ARG if the handle already holds it.
 */
int state_lock(struct state *st, unsigned timeout_ms);
/* Releases the lock; harmless when not held. */
void state_unlock(struct state *st);
/* Rereads the file (under the lock if held, else as one atomic snapshot). */
int state_reload(struct state *st);

/*
 * The user's grant times within the last STATE_HISTORY_DAYS days before
 * the latest time seen, oldest first; at most max of them, the most recent
 * ones if there are more. Feed them to ep_request.grants / ngrants (max no
 * more than EP_MAX_GRANTS). Every time is 0 <= t < STATE_TIME_LIMIT.
 */
int state_grant_times(const struct state *st, const char *user, int64_t *out, size_t max,
                      size_t *n);

/*
 * Phase 1 of a grant: records rec (user, rule, reason, start_wall,
 * duration, boot_id, mono_start; id, phase and expiry_wall are ignored)
 * in phase intent, adds start_wall to the user's history (a grant that
 * never completes still counts against the limit) and writes the file,
 * all before the caller touches the group. *id names the record.
 * STATE_E_LOCKED if elevation is locked; STATE_E_CLOCK_BACK (and the lock
 * is set and written) if start_wall is more than the tolerance before the
 * latest time seen. A user may hold several records at once.
 */
int state_begin_grant(struct state *st, const struct state_grant *rec, uint64_t *id);
/* Phase 2 of a grant: intent -> granted, after the user was added to the group. */
int state_commit_grant(struct state *st, uint64_t id);
/*
 * Phase 1 of a revocation (or of rolling back an intent): intent or
 * granted -> revoking, before the user is removed from the group. Already
 * revoking: nothing to do, STATE_OK.
 */
int state_begin_revoke(struct state *st, uint64_t id);
/* Phase 2: deletes the revoking record, after the user was removed from the group. */
int state_finish_revoke(struct state *st, uint64_t id);

/* A copy of the record with that id. */
int state_get(const struct state *st, uint64_t id, struct state_grant *rec);
/* The user's granted record that ends last (by expiry_wall, then id); STATE_E_NOT_FOUND if none. */
int state_active(const struct state *st, const char *user, struct state_grant *rec);
/* Every record of the user, in any phase, in id order. */
int state_user_grants(const struct state *st, const char *user, struct state_list *out);

/*
 * Seconds of the grant left at now: 0 once the monotonic time elapsed
 * since mono_start reaches the duration, the wall clock reaches
 * expiry_wall, the monotonic clock is behind mono_start, or the boot id
 * differs. Never more than duration minus the monotonic time elapsed, so
 * no change of the wall clock lengthens a grant.
 */
int64_t state_remaining(const struct state_grant *rec, const struct state_now *now);
/* The granted records with nothing left at now (state_remaining() == 0), in id order. */
int state_expired(const struct state *st, const struct state_now *now, struct state_list *out);
/* Records left in phase intent or revoking by an interrupted agent, for `elevate sweep`. */
int state_pending_repairs(const struct state *st, struct state_list *out);
/*
 * Whether the user holds a granted record other than except_id with time
 * left at now: if so, revoking except_id must not remove the user from
 * the group (only delete the record).
 */
int state_other_live_grant(const struct state *st, const char *user, uint64_t except_id,
                           const struct state_now *now, bool *found);
void state_list_free(struct state_list *list);

/* How the wall clock moved against the latest time seen (state_note_time). */
enum state_jump {
	STATE_JUMP_NONE,
	STATE_JUMP_BACK,            /* back by more than the tolerance */
	STATE_JUMP_FORWARD,         /* same boot: ahead of the monotonic clock by more than it */
};

/*
 * Records a clock reading (wall, monotonic, boot). A jump (enum
 * state_jump): sets and writes the clock lock cause, *jump says which
 * (only on the call that sets it; later readings while locked report
 * STATE_JUMP_NONE). Otherwise a wall time after the latest one seen
 * becomes the latest, anchored to the monotonic reading and boot (written,
 * and history older than STATE_HISTORY_DAYS before it is pruned); a new
 * boot moves the anchor only. A forward jump can be seen only within one
 * boot: across a reboot there is no monotonic clock to compare with.
 * jump may be NULL.
 */
int state_note_time(struct state *st, const struct state_now *now, enum state_jump *jump);

/* Why elevation is locked: bits of the file's `locked` value. */
enum state_lock_cause {
	STATE_LOCK_CLOCK = 1,       /* the wall clock went back (state_note_time, begin_grant) */
	STATE_LOCK_AUDIT = 2,       /* the audit log was found tampered with (the agent) */
};
#define STATE_LOCK_ALL 3u
/* The lock causes set, 0 when not locked. */
int state_lock_causes(const struct state *st, unsigned *causes);
/* Adds lock causes (STATE_LOCK_*) and writes them; grants are refused until cleared. */
int state_set_lock(struct state *st, unsigned causes);
/* The latest wall-clock time seen; 0 for a new state. */
int state_latest_time(const struct state *st, int64_t *latest);
/*
 * The administrator's command: clears every lock cause and accepts now
 * as the latest time seen and its anchor (also when it is earlier: the
 * admin vouches for the clock). History after now->wall is kept and counts
 * again once the clock reaches its period.
 */
int state_clear_lock(struct state *st, const struct state_now *now);

/* The bytes the file holds for the handle's contents (tests, diagnostics); free() *out. */
int state_serialize(const struct state *st, char **out, size_t *len);

/*
 * Reads the clocks: wall (CLOCK_REALTIME), mono (STATE_MONO_CLOCK) and the
 * boot id. The boot id comes from the file boot_id_path (one line of
 * [0-9A-Za-z._:-], at most STATE_BOOT_ID_MAX bytes, then an optional
 * newline); NULL means the system's: STATE_BOOT_ID_PATH on Linux, the
 * kern.bootsessionuuid sysctl on macOS (compiled there only, untested).
 * STATE_E_BOOT_ID if it cannot be read or is not valid.
 */
int state_read_clock(const char *boot_id_path, struct state_now *now);
int state_read_boot_id(const char *path, char *buf, size_t size);

/* The monotonic clock: counts time asleep, starts at boot. */
#ifdef __APPLE__
#define STATE_MONO_CLOCK CLOCK_MONOTONIC   /* macOS: includes sleep */
#else
#define STATE_MONO_CLOCK CLOCK_BOOTTIME    /* Linux: CLOCK_MONOTONIC stops during suspend */
#endif

#endif
