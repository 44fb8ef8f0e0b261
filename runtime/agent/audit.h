/*
 * audit.h - elevate's tamper-evident audit log: one JSON object per line,
 * each line chained to the one before it by SHA-256, appended with a
 * single write() under an exclusive lock and synced; every line also goes
 * to syslog. docs/agent-audit.md is the format's reference.
 *
 * A line, fields in this order, no whitespace (AUDIT_FIELD_* below):
 *   {"seq":N,"time":T,"host":S,"user":S,"event":E,"rule":S|null,
 *    "reason":S|null,"duration":N|null,"expiry":T|null,"policy":H|null,
 *    "detail":S|null,"prev":H,"hash":H}
 * where "seq" is the 1-based line number, T an RFC 3339 UTC time with
 * seconds ("2024-05-01T09:30:00Z"), H 64 lowercase hex digits, "prev" the
 * SHA-256 of the previous line's bytes (without its newline; 64 zeros on
 * line 1), and "hash" the SHA-256 of this line's bytes up to, excluding,
 * the 75-byte suffix ,"hash":"<64 hex>"} -- that is, from the opening
 * brace through the closing quote of "prev".
 *
 * Strings are written as JSON strings: quote, backslash and every control
 * character (and DEL) are escaped, valid UTF-8 is passed through, and each
 * byte that is not part of a well-formed UTF-8 sequence is written as
 * \ufffd (an event is never refused for its text). A string longer than
 * AUDIT_FIELD_MAX bytes is cut at a character boundary and ends in "...".
 * So a caller's text can never end a line, a string or the object early.
 *
 * Ownership: every string belongs to the caller and is only read during
 * the call. struct auditlog_log owns one file descriptor, released by
 * auditlog_close(). Functions return 0 or a negative enum auditlog_status.
 *
 * Processes: appends from any number of processes are serialised by an
 * exclusive fcntl() lock on the log file, held across reading the last
 * line and writing the new one. fcntl() locks belong to the process, so
 * one struct auditlog_log must not be shared between threads without a mutex.
 */
#ifndef ELEVATE_AUDIT_H
#define ELEVATE_AUDIT_H

#include <time.h>

/* X(enumerator, name in the log): append only, names never change. */
#define AUDIT_EVENTS(X) \
	X(AUDIT_EV_REQUEST,         "request") \
	X(AUDIT_EV_AUTH_FAILURE,    "auth-failure") \
	X(AUDIT_EV_GRANT,           "grant") \
	X(AUDIT_EV_DENIAL,          "denial") \
	X(AUDIT_EV_REVOCATION,      "revocation") \
	X(AUDIT_EV_EXPIRY,          "expiry") \
	X(AUDIT_EV_SWEEP_REPAIR,    "sweep-repair") \
	X(AUDIT_EV_TAMPER_DETECTED, "tamper-detected") \
	X(AUDIT_EV_CLOCK_JUMP,      "clock-jump") \
	X(AUDIT_EV_UNLOCK,          "unlock")

#define AUDIT_EVENT_ENUM(e, name) e,
enum auditlog_event_type { AUDIT_EVENTS(AUDIT_EVENT_ENUM) AUDIT_EV_COUNT };
#undef AUDIT_EVENT_ENUM

/* Every function that can fail returns 0 or one of these; auditlog_strerror() names them. */
enum auditlog_status {
	AUDIT_OK        =  0,
	AUDIT_EIO       = -1,      /* a system call failed: errno says which */
	AUDIT_ETAMPERED = -2,      /* the log's last line is torn, malformed or forged */
	AUDIT_EINVAL    = -3,      /* bad event or argument */
	AUDIT_EUNSAFE   = -4,      /* not a regular file of ours unwritable by others */
	AUDIT_ENOMEM    = -5,
};

#define AUDIT_HEX_SIZE   65        /* 64 hex digits and a NUL */
#define AUDIT_FIELD_MAX  1024      /* longest string field kept, in input bytes */
#define AUDIT_LINE_MAX   32768     /* longest line, without its newline */

#define AUDIT_NO_SYSLOG  0x1u      /* auditlog_open_flags(): do not copy lines to syslog */

struct auditlog_event {
	enum auditlog_event_type type;
	time_t time;            /* when it happened; 0 means now, time(NULL) */
	const char *host;       /* NULL means the log's host (uname's nodename) */
	const char *user;       /* required, non-empty */
	const char *rule;       /* NULL writes null */
	const char *reason;     /* NULL writes null */
	long long duration;     /* seconds; negative writes null */
	time_t expiry;          /* 0 writes null */
	const char *policy;     /* the policy's SHA-256, 64 lowercase hex, or NULL */
	const char *detail;     /* NULL writes null */
};

struct auditlog_log {
	int fd;                         /* the log, or -1 */
	unsigned flags;                 /* AUDIT_NO_SYSLOG */
	unsigned long long seq;         /* the last line's seq; 0 for an empty log */
	char head[AUDIT_HEX_SIZE];      /* SHA-256 of the last line: the next line's prev */
	const char *why;                /* after AUDIT_ETAMPERED: what is wrong, else NULL */
	char host[256];
	/*
	 * Tests only, set after opening: called during an append or restart
	 * with the event's name and the step, "locked" (lock held, nothing
	 * written) or "written" (the line written, not yet synced). It may
	 * _exit() or raise(SIGKILL) to simulate a crash at that point.
	 */
	void (*step_hook)(void *arg, const char *event, const char *step);
	void *step_arg;
};

/* Why auditlog_verify() rejected a line. */
enum auditlog_fault {
	AUDIT_FAULT_NONE,
	AUDIT_FAULT_MALFORMED,          /* not the documented JSON shape */
	AUDIT_FAULT_TRUNCATED,          /* last line without its newline */
	AUDIT_FAULT_HASH,               /* "hash" does not match the line: line edited */
	AUDIT_FAULT_SEQ,                /* "seq" is not the line number: deleted, inserted, reordered */
	AUDIT_FAULT_PREV,               /* "prev" does not match the previous line */
};

struct auditlog_verify_result {
	unsigned long long lines;       /* lines that checked out (all of them if the log is good) */
	unsigned long long bad_line;    /* the first bad line, 1-based; 0 if none */
	enum auditlog_fault fault;
	char why[192];                  /* one line of text, no line number */
};

/* The name written for an event type, or NULL if out of range. */
const char *auditlog_event_name(enum auditlog_event_type type);

/* A message for a status returned by this module. */
const char *auditlog_strerror(int status);

/* An event with every optional field null: time now, no duration. */
void auditlog_event_init(struct auditlog_event *ev, enum auditlog_event_type type, const char *user);

/*
 * Opens (creating with mode 0600 if absent) the log at path, refusing a
 * symbolic link, a non-regular file, a file not owned by the effective
 * user and a file writable by group or others (AUDIT_EUNSAFE), and reads
 * its last line under the lock to continue the chain.
 * AUDIT_ETAMPERED: the last line is malformed, torn or does not match its
 * hash; log->why says how. The log stays OPEN in that case only: the
 * caller must either auditlog_restart() or auditlog_close() it, and
 * auditlog_append() keeps refusing. On every other error the log is closed.
 */
int auditlog_open(struct auditlog_log *log, const char *path);
int auditlog_open_flags(struct auditlog_log *log, const char *path, unsigned flags);

/*
 * Appends one event: under the lock, rereads the last line (another
 * process may have appended), builds the next line, write()s it in one
 * call and syncs it; a short write is cut off again. Then copies the line
 * to syslog (LOG_AUTHPRIV | LOG_NOTICE, ident "elevate") unless
 * AUDIT_NO_SYSLOG. AUDIT_ETAMPERED if the last line does not check out:
 * nothing is written then. Updates log->seq and log->head.
 */
int auditlog_append(struct auditlog_log *log, const struct auditlog_event *ev);

/*
 * Starts a new chain segment after detected tampering. ev->type must be
 * AUDIT_EV_TAMPER_DETECTED. Under the lock: if the file does not end in a
 * newline one is written first (ending the torn line); the new line's
 * "seq" is its line number and its "prev" is the SHA-256 of every byte the
 * file held before this call, so the damaged state is pinned. Later
 * appends chain to it as usual. auditlog_verify() still reports the first
 * damaged line: a restart records tampering, it never hides it.
 */
int auditlog_restart(struct auditlog_log *log, const struct auditlog_event *ev);

void auditlog_close(struct auditlog_log *log);

/*
 * Checks the whole log: every line's shape, "seq" == line number, "hash",
 * and "prev" against the previous line (64 zeros on line 1). 0 if good,
 * AUDIT_ETAMPERED naming the first bad line in *r, AUDIT_EIO if the file
 * cannot be read (r->why says why). Takes a shared lock while reading.
 * Opens path with the caller's privileges: a set-user-ID caller must drop
 * them before verifying a path the user chose.
 */
int auditlog_verify(const char *path, struct auditlog_verify_result *r);

/*
 * Like auditlog_verify(), but damage that a later tamper-detected line pins
 * (its "prev" the SHA-256 of every byte before it, as auditlog_restart()
 * writes) counts as recorded: AUDIT_ETAMPERED names the first damaged
 * line after the last such pin, 0 if there is none. Damage changed again
 * after it was pinned undoes the pin, so it is found again. The agent's
 * sweep runs it, so that an old line edited on its own is recorded and
 * locks elevation without waiting for someone to run `log verify`.
 */
int auditlog_find_unpinned(const char *path, struct auditlog_verify_result *r);

/*
 * `elevate log verify [FILE]`: prints "ok: N lines" and returns 0, or
 * prints "line N: why" and returns 1, both on standard output; if the file
 * cannot be read, prints "elevate: PATH: error" on standard error and
 * returns 1.
 */
int auditlog_verify_command(const char *path);

#endif
