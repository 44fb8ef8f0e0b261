/*
 * audit.c - elevate's tamper-evident audit log (format in audit.h and
 * docs/agent-audit.md). Writing: build one JSON line, chain it to the last
 * line with SHA-256, append it with one write() under an exclusive fcntl()
 * lock, sync it, copy it to syslog. Reading: a strict parser for exactly
 * the shape we write, used on the last line before every append and on
 * every line by auditlog_verify().
 *
 * Must never: write without holding the lock; leave a partial line behind
 * when it can cut it off; chain onto a last line that does not check out;
 * let a caller's string end its JSON string, the object or the line; hide
 * damage (a restart pins the damaged bytes by their hash, verify still
 * reports them).
 */
#ifdef __APPLE__
#define _DARWIN_C_SOURCE                /* O_NOFOLLOW, O_CLOEXEC, F_FULLFSYNC */
#endif
#include "audit.h"
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/evp.h>

#ifndef LOG_AUTHPRIV
#define LOG_AUTHPRIV LOG_AUTH
#endif

#define HEX_LEN      64
#define TIME_LEN     20                 /* 2024-05-01T09:30:00Z */
#define HASH_SUFFIX  75                 /* ,"hash":"<64 hex>"} */
/* Room for a line, the newline after it and, on a restart, one before it. */
#define BUF_SIZE     (AUDIT_LINE_MAX + 2)

/* The longest line we can build: five caller strings of up to
   AUDIT_FIELD_MAX bytes, each byte escaped to at most six, plus "..." and
   quotes, and well under 512 bytes of keys, numbers, times and hashes. */
_Static_assert(512 + 5 * (6 * AUDIT_FIELD_MAX + 5) <= AUDIT_LINE_MAX,
               "AUDIT_LINE_MAX too small for AUDIT_FIELD_MAX");

static const char hex_digits[] = "0123456789abcdef";
static const char zero_hash[AUDIT_HEX_SIZE] =
	"0000000000000000000000000000000000000000000000000000000000000000";

#define AUDIT_EVENT_NAME(e, name) name,
static const char *const event_names[AUDIT_EV_COUNT] = { AUDIT_EVENTS(AUDIT_EVENT_NAME) };
#undef AUDIT_EVENT_NAME

const char *auditlog_event_name(enum auditlog_event_type type)
{
	return (unsigned)type < AUDIT_EV_COUNT ? event_names[type] : NULL;
}

const char *auditlog_strerror(int status)
{
	switch (status) {
	case AUDIT_OK:        return "ok";
	case AUDIT_EIO:       return "input/output error";
	case AUDIT_ETAMPERED: return "the audit log's last line is damaged or forged";
	case AUDIT_EINVAL:    return "invalid audit event or argument";
	case AUDIT_EUNSAFE:   return "unsafe audit log (not a regular file of ours, or writable by others)";
	case AUDIT_ENOMEM:    return "out of memory";
	}
	return "unknown audit status";
}

void auditlog_event_init(struct auditlog_event *ev, enum auditlog_event_type type, const char *user)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->user = user;
	ev->duration = -1;
}

/* ---- SHA-256 -------------------------------------------------------------- */

static int is_hex64(const char *s, size_t len)
{
	if (len != HEX_LEN)
		return 0;
	for (size_t i = 0; i < HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* ---- UTF-8 ----------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
   no surrogates, nothing above U+10FFFF), or 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* ---- building a line ------------------------------------------------------- */

struct out {
	char *p;
	size_t len, cap;
	int full;               /* something did not fit: the line is refused */
};

static void put(struct out *o, const void *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_char(struct out *o, char c)
{
	put(o, &c, 1);
}

static void put_ascii(struct out *o, unsigned char c)
{
	char esc[7] = "\\u00";
	switch (c) {
	case '"':  put_str(o, "\\\""); return;
	case '\\': put_str(o, "\\\\"); return;
	case '\n': put_str(o, "\\n"); return;
	case '\r': put_str(o, "\\r"); return;
	case '\t': put_str(o, "\\t"); return;
	case '\b': put_str(o, "\\b"); return;
	case '\f': put_str(o, "\\f"); return;
	}
	if (c >= 0x20 && c != 0x7f) {
		put_char(o, (char)c);
		return;
	}
	esc[4] = hex_digits[c >> 4];
	esc[5] = hex_digits[c & 15];
	put(o, esc, 6);
}

/* A JSON string: escapes, \ufffd for each stray byte, cut after AUDIT_FIELD_MAX bytes. */
static void put_json_string(struct out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0;
	put_char(o, '"');
	while (i < n) {
		size_t k = utf8_seq(s + i, n - i), step = k ? k : 1;
		if (i + step > AUDIT_FIELD_MAX) {
			put_str(o, "...");
			break;
		}
		if (k == 0)
			put_str(o, "\\ufffd");
		else if (k == 1)
			put_ascii(o, s[i]);
		else
			put(o, s + i, k);
		i += step;
	}
	put_char(o, '"');
}

static void put_key(struct out *o, const char *key)
{
	put_char(o, ',');
	put_char(o, '"');
	put_str(o, key);
	put_str(o, "\":");
}

static void put_string_or_null(struct out *o, const char *key, const char *s)
{
	put_key(o, key);
	if (s)
		put_json_string(o, s);
	else
		put_str(o, "null");
}

static int format_time(time_t t, char out[TIME_LEN + 1])
{
	struct tm tm;
	if (t < 0 || !gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900)
		return -1;
	return strftime(out, TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) == TIME_LEN ? 0 : -1;
}

static int put_time_or_null(struct out *o, const char *key, time_t t, int null)
{
	char buf[TIME_LEN + 1];
	put_key(o, key);
	if (null) {
		put_str(o, "null");
		return 0;
	}
	if (format_time(t, buf) != 0)
		return -1;
	put_char(o, '"');
	put_str(o, buf);
	put_char(o, '"');
	return 0;
}

static void put_number(struct out *o, unsigned long long v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", v);
	if (n < 0 || (size_t)n >= sizeof(buf))
		o->full = 1;
	else
		put(o, buf, (size_t)n);
}

/* Appends the line for ev (with its newline) to o. The hash covers the
   line's bytes from its '{' through the closing quote of "prev". */
static int build_line(struct out *o, const struct auditlog_event *ev, const char *host, time_t when,
                      unsigned long long seq, const char prev[AUDIT_HEX_SIZE])
{
	size_t start = o->len;
	char hash[AUDIT_HEX_SIZE];
	put_str(o, "{\"seq\":");
	put_number(o, seq);
	if (put_time_or_null(o, "time", when, 0) != 0)
		return AUDIT_EINVAL;
	put_string_or_null(o, "host", host);
	put_string_or_null(o, "user", ev->user);
	put_string_or_null(o, "event", auditlog_event_name(ev->type));
	put_string_or_null(o, "rule", ev->rule);
	put_string_or_null(o, "reason", ev->reason);
	put_key(o, "duration");
	if (ev->duration < 0)
		put_str(o, "null");
	else
		put_number(o, (unsigned long long)ev->duration);
	if (put_time_or_null(o, "expiry", ev->expiry, ev->expiry == 0) != 0)
		return AUDIT_EINVAL;
	put_string_or_null(o, "policy", ev->policy);
	put_string_or_null(o, "detail", ev->detail);
	put_key(o, "prev");
	put_char(o, '"');
	put_str(o, prev);
	put_char(o, '"');
	if (o->full || digest_sha256_hex(o->p + start, o->len - start, hash) != 0)
		return AUDIT_EINVAL;
	put_key(o, "hash");
	put_char(o, '"');
	put_str(o, hash);
	put_str(o, "\"}\n");
	return o->full || o->len - start - 1 > AUDIT_LINE_MAX ? AUDIT_EINVAL : 0;
}

/* ---- parsing a line --------------------------------------------------------- */

struct cursor {
	const char *p, *end;
	const char *err;        /* what was expected where parsing stopped */
};

static int fail(struct cursor *c, const char *expected)
{
	c->err = expected;
	return -1;
}

static int expect(struct cursor *c, const char *lit, const char *expected)
{
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return fail(c, expected);
	c->p += n;
	return 0;
}

/* Consumes "null" if it is next. */
static int take_null(struct cursor *c)
{
	return expect(c, "null", NULL) == 0;
}

/* A decimal number without leading zeros, at most 18 digits. */
static int take_number(struct cursor *c, unsigned long long *v)
{
	const char *s = c->p;
	unsigned long long n = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && c->p - s < 19)
		n = n * 10 + (unsigned long long)(*c->p++ - '0');
	if (c->p == s || c->p - s > 18 || (*s == '0' && c->p - s > 1))
		return fail(c, "a number (no leading zeros, at most 18 digits)");
	*v = n;
	return 0;
}

static int is_hex_digit(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int take_escape(struct cursor *c)
{
	if (c->end - c->p < 2)
		return fail(c, "an escape sequence");
	char e = c->p[1];
	if (strchr("\"\\/bfnrt", e) && e != '\0') {
		c->p += 2;
		return 0;
	}
	if (e != 'u' || c->end - c->p < 6)
		return fail(c, "a valid escape sequence");
	for (int i = 2; i < 6; i++)
		if (!is_hex_digit(c->p[i]))
			return fail(c, "four hex digits after \\u");
	c->p += 6;
	return 0;
}

/* A JSON string of valid UTF-8 without raw control characters or DEL. */
static int take_string(struct cursor *c)
{
	if (expect(c, "\"", "a string") != 0)
		return -1;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;
		size_t k;
		if (ch == '"') {
			c->p++;
			return 0;
		}
		if (ch == '\\') {
			if (take_escape(c) != 0)
				return -1;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f)
			return fail(c, "no raw control characters in a string");
		if ((k = utf8_seq((const unsigned char *)c->p, (size_t)(c->end - c->p))) == 0)
			return fail(c, "valid UTF-8");
		c->p += k;
	}
	return fail(c, "a closing quote");
}

static int take_digits(const char *s, int n, int lo, int hi)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

/* "YYYY-MM-DDTHH:MM:SSZ" */
static int take_time(struct cursor *c)
{
	const char *s = c->p + 1;
	if (c->end - c->p < TIME_LEN + 2 || c->p[0] != '"' || s[TIME_LEN] != '"' ||
	    !take_digits(s, 4, 0, 9999) || s[4] != '-' || !take_digits(s + 5, 2, 1, 12) ||
	    s[7] != '-' || !take_digits(s + 8, 2, 1, 31) || s[10] != 'T' ||
	    !take_digits(s + 11, 2, 0, 23) || s[13] != ':' || !take_digits(s + 14, 2, 0, 59) ||
	    s[16] != ':' || !take_digits(s + 17, 2, 0, 60) || s[19] != 'Z')
		return fail(c, "an RFC 3339 UTC time such as \"2024-05-01T09:30:00Z\"");
	c->p += TIME_LEN + 2;
	return 0;
}

/* "<64 lowercase hex digits>", copied to out if out is not NULL. */
static int take_hash(struct cursor *c, char *out)
{
	if (c->end - c->p < HEX_LEN + 2 || c->p[0] != '"' || !is_hex64(c->p + 1, HEX_LEN) ||
	    c->p[HEX_LEN + 1] != '"')
		return fail(c, "64 lowercase hex digits in quotes");
	if (out) {
		memcpy(out, c->p + 1, HEX_LEN);
		out[HEX_LEN] = '\0';
	}
	c->p += HEX_LEN + 2;
	return 0;
}

static int take_event(struct cursor *c, int *event)
{
	for (int i = 0; i < AUDIT_EV_COUNT; i++) {
		size_t n = strlen(event_names[i]);
		if ((size_t)(c->end - c->p) >= n + 2 && c->p[0] == '"' &&
		    memcmp(c->p + 1, event_names[i], n) == 0 && c->p[n + 1] == '"') {
			*event = i;
			c->p += n + 2;
			return 0;
		}
	}
	return fail(c, "a known event name");
}

/* What auditlog_verify() needs from a line. */
struct record {
	unsigned long long seq;
	int event;
	char prev[AUDIT_HEX_SIZE], hash[AUDIT_HEX_SIZE];
	size_t hashed;          /* bytes covered by "hash" */
};

enum kind { K_SEQ, K_TIME, K_TEXT, K_EVENT, K_TEXT_OR_NULL, K_NUMBER_OR_NULL,
            K_TIME_OR_NULL, K_HASH_OR_NULL, K_PREV, K_HASH };

/* The fields in their fixed order: the one list the parser follows. */
static const struct field {
	const char *key;
	enum kind kind;
} fields[] = {
	{ "seq", K_SEQ }, { "time", K_TIME }, { "host", K_TEXT }, { "user", K_TEXT },
	{ "event", K_EVENT }, { "rule", K_TEXT_OR_NULL }, { "reason", K_TEXT_OR_NULL },
	{ "duration", K_NUMBER_OR_NULL }, { "expiry", K_TIME_OR_NULL },
	{ "policy", K_HASH_OR_NULL }, { "detail", K_TEXT_OR_NULL }, { "prev", K_PREV },
	{ "hash", K_HASH },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int take_value(struct cursor *c, enum kind kind, struct record *rec)
{
	unsigned long long unused;
	switch (kind) {
	case K_SEQ:
		if (take_number(c, &rec->seq) != 0)
			return -1;
		return rec->seq ? 0 : fail(c, "a seq of 1 or more");
	case K_TIME:           return take_time(c);
	case K_TEXT:           return take_string(c);
	case K_EVENT:          return take_event(c, &rec->event);
	case K_TEXT_OR_NULL:   return take_null(c) ? 0 : take_string(c);
	case K_NUMBER_OR_NULL: return take_null(c) ? 0 : take_number(c, &unused);
	case K_TIME_OR_NULL:   return take_null(c) ? 0 : take_time(c);
	case K_HASH_OR_NULL:   return take_null(c) ? 0 : take_hash(c, NULL);
	case K_PREV:           return take_hash(c, rec->prev);
	case K_HASH:           return take_hash(c, rec->hash);
	}
	return fail(c, "a known field kind");
}

static int take_key(struct cursor *c, size_t i)
{
	const char *what = "the next field's key (fields are fixed in name and order)";
	if (expect(c, i == 0 ? "{\"" : ",\"", what) != 0 || expect(c, fields[i].key, what) != 0 ||
	    expect(c, "\":", what) != 0)
		return -1;
	return 0;
}

/* Parses a line (without its newline) and checks its hash. Returns an
   auditlog_fault; on a fault, why (if not NULL) says what is wrong. */
static enum auditlog_fault check_record(const char *line, size_t len, struct record *rec,
                                     char *why, size_t whysize)
{
	struct cursor c = { line, line + len, NULL };
	char want[AUDIT_HEX_SIZE];
	size_t i;
	memset(rec, 0, sizeof(*rec));
	for (i = 0; i < NFIELDS; i++) {
		if (fields[i].kind == K_HASH)
			rec->hashed = (size_t)(c.p - line);
		if (take_key(&c, i) != 0 || take_value(&c, fields[i].kind, rec) != 0)
			break;
	}
	if (i == NFIELDS && expect(&c, "}", "'}'") == 0 && c.p != c.end)
		fail(&c, "the end of the line after '}'");
	if (c.err) {
		if (why)
			snprintf(why, whysize, "not an audit record: at byte %zu (field \"%s\"), expected %s",
			         (size_t)(c.p - line) + 1, fields[i < NFIELDS ? i : NFIELDS - 1].key, c.err);
		return AUDIT_FAULT_MALFORMED;
	}
	if (digest_sha256_hex(line, rec->hashed, want) != 0 || memcmp(want, rec->hash, HEX_LEN) != 0) {
		if (why)
			snprintf(why, whysize, "hash does not match the line's contents: the line was edited");
		return AUDIT_FAULT_HASH;
	}
	return AUDIT_FAULT_NONE;
}

/* ---- file handling ---------------------------------------------------------- */

static int lock_fd(int fd, short type)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;         /* l_start = l_len = 0: the whole file, as it grows */
	while (fcntl(fd, F_SETLKW, &fl) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static int unlock_fd(int fd)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_UNLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

static int sync_fd(int fd)
{
#ifdef F_FULLFSYNC
	if (fcntl(fd, F_FULLFSYNC) == 0)    /* macOS: fsync() does not flush the disk's cache */
		return 0;
#endif
	return fsync(fd);
}

static int pread_full(int fd, char *buf, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, buf, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;    /* the file shrank under the lock: someone ignores it */
			return -1;
		}
		buf += r, n -= (size_t)r, off += r;
	}
	return 0;
}

static int tampered(struct auditlog_log *log, const char *why)
{
	log->why = why;
	return AUDIT_ETAMPERED;
}

/*
 * Under the lock: reads the last line into buf (BUF_SIZE bytes), checks it
 * and sets log->seq and log->head from it; an empty file starts a chain.
 * *size is the file's size.
 */
static int read_tail(struct auditlog_log *log, char *buf, off_t *size)
{
	struct stat st;
	if (fstat(log->fd, &st) != 0)
		return AUDIT_EIO;
	*size = st.st_size;
	log->why = NULL;
	if (st.st_size == 0) {
		log->seq = 0;
		memcpy(log->head, zero_hash, AUDIT_HEX_SIZE);
		return 0;
	}
	size_t want = st.st_size < BUF_SIZE ? (size_t)st.st_size : BUF_SIZE;
	if (pread_full(log->fd, buf, want, st.st_size - (off_t)want) != 0)
		return AUDIT_EIO;
	if (buf[want - 1] != '\n')
		return tampered(log, "the last line has no newline (torn write or truncation)");
	size_t start = want - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && want < (size_t)st.st_size)
		return tampered(log, "the last line is too long");
	struct record rec;
	enum auditlog_fault f = check_record(buf + start, want - 1 - start, &rec, NULL, 0);
	if (f == AUDIT_FAULT_MALFORMED)
		return tampered(log, "the last line is not a well-formed audit record");
	if (f != AUDIT_FAULT_NONE)
		return tampered(log, "the last line's hash does not match its contents");
	if (digest_sha256_hex(buf + start, want - 1 - start, log->head) != 0)
		return AUDIT_ENOMEM;
	log->seq = rec.seq;
	return 0;
}

static void step(const struct auditlog_log *log, const struct auditlog_event *ev,
                 const char *name)
{
	if (log->step_hook)
		log->step_hook(log->step_arg, auditlog_event_name(ev->type), name);
}

/* One write() of the whole line; a short write is cut off again. */
static int write_line(struct auditlog_log *log, const struct auditlog_event *ev, const char *buf,
                      size_t len, off_t old_size)
{
	ssize_t n;
	do
		n = write(log->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n == len) {
		step(log, ev, "written");
		return sync_fd(log->fd) == 0 ? 0 : AUDIT_EIO;
	}
	int saved = n < 0 ? errno : EIO;
	if (n > 0 && ftruncate(log->fd, old_size) != 0)
		log->why = "a short write left a partial line that could not be removed";
	errno = saved;
	return AUDIT_EIO;
}

static int check_event(const struct auditlog_log *log, const struct auditlog_event *ev,
                       const char **host, time_t *when)
{
	if (!log || log->fd < 0 || !ev || !auditlog_event_name(ev->type) || !ev->user || !*ev->user ||
	    ev->time < 0 || ev->expiry < 0)
		return AUDIT_EINVAL;
	if (ev->policy && !is_hex64(ev->policy, strlen(ev->policy)))
		return AUDIT_EINVAL;
	*host = ev->host ? ev->host : log->host;
	if (!**host)
		return AUDIT_EINVAL;
	*when = ev->time ? ev->time : time(NULL);
	return *when < 0 ? AUDIT_EIO : 0;
}

static int append_next(struct auditlog_log *log, const struct auditlog_event *ev, const char *host,
                       time_t when, struct out *o)
{
	off_t size;
	char head[AUDIT_HEX_SIZE];
	int rc = read_tail(log, o->p, &size);
	if (rc != 0)
		return rc;
	if ((rc = build_line(o, ev, host, when, log->seq + 1, log->head)) != 0)
		return rc;
	if (digest_sha256_hex(o->p, o->len - 1, head) != 0)
		return AUDIT_ENOMEM;
	if ((rc = write_line(log, ev, o->p, o->len, size)) != 0)
		return rc;
	log->seq++;
	memcpy(log->head, head, AUDIT_HEX_SIZE);
	return 0;
}

/* SHA-256 of the whole file, its line count, and whether it ends mid-line. */
static int hash_file(int fd, char *buf, char out[AUDIT_HEX_SIZE], unsigned long long *lines,
                     int *torn, off_t *size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	struct stat st;
	int ok;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return AUDIT_ENOMEM;
	ok = fstat(fd, &st) == 0 && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	*lines = 0;
	*torn = 0;
	for (off_t off = 0; ok && off < st.st_size;) {
		size_t n = st.st_size - off < BUF_SIZE ? (size_t)(st.st_size - off) : BUF_SIZE;
		ok = pread_full(fd, buf, n, off) == 0 && EVP_DigestUpdate(ctx, buf, n);
		for (size_t i = 0; ok && i < n; i++)
			*lines += buf[i] == '\n';
		*torn = ok && buf[n - 1] != '\n';
		off += (off_t)n;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, digest, &dlen) && dlen == HEX_LEN / 2;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return AUDIT_EIO;
	digest_to_hex(digest, out);
	*lines += (unsigned long long)*torn;
	*size = st.st_size;
	return 0;
}

static int append_restart(struct auditlog_log *log, const struct auditlog_event *ev, const char *host,
                          time_t when, struct out *o)
{
	char prev[AUDIT_HEX_SIZE], head[AUDIT_HEX_SIZE];
	unsigned long long lines;
	int torn, rc;
	off_t size;
	if ((rc = hash_file(log->fd, o->p, prev, &lines, &torn, &size)) != 0)
		return rc;
	if (torn)
		put_char(o, '\n');
	if ((rc = build_line(o, ev, host, when, lines + 1, prev)) != 0)
		return rc;
	if (digest_sha256_hex(o->p + torn, o->len - 1 - (size_t)torn, head) != 0)
		return AUDIT_ENOMEM;
	if ((rc = write_line(log, ev, o->p, o->len, size)) != 0)
		return rc;
	log->seq = lines + 1;
	log->why = NULL;
	memcpy(log->head, head, AUDIT_HEX_SIZE);
	return 0;
}

static int append_event(struct auditlog_log *log, const struct auditlog_event *ev, int restart)
{
	const char *host;
	time_t when;
	int rc = check_event(log, ev, &host, &when);
	if (rc != 0)
		return rc;
	struct out o = { malloc(BUF_SIZE), 0, BUF_SIZE, 0 };
	if (!o.p)
		return AUDIT_ENOMEM;
	if (lock_fd(log->fd, F_WRLCK) != 0) {
		free(o.p);
		return AUDIT_EIO;
	}
	step(log, ev, "locked");
	rc = restart ? append_restart(log, ev, host, when, &o) : append_next(log, ev, host, when, &o);
	if (unlock_fd(log->fd) != 0 && rc == 0)
		rc = AUDIT_EIO;
	if (rc == 0 && !(log->flags & AUDIT_NO_SYSLOG)) {
		size_t skip = restart && o.p[0] == '\n';
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", (int)(o.len - 1 - skip), o.p + skip);
	}
	free(o.p);
	return rc;
}

int auditlog_append(struct auditlog_log *log, const struct auditlog_event *ev)
{
	return append_event(log, ev, 0);
}

int auditlog_restart(struct auditlog_log *log, const struct auditlog_event *ev)
{
	if (!ev || ev->type != AUDIT_EV_TAMPER_DETECTED)
		return AUDIT_EINVAL;
	return append_event(log, ev, 1);
}

/* ---- opening ---------------------------------------------------------------- */

/* Makes a newly created file's directory entry durable. */
static int sync_parent(const char *path)
{
	char dir[4096];
	size_t n = strlen(path);
	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, path, n + 1);
	char *slash = strrchr(dir, '/');
	if (!slash)
		memcpy(dir, ".", 2);
	else
		slash[slash == dir] = '\0';     /* "/log" -> "/", "a/log" -> "a" */
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : -1;
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

/* Opens or creates (exclusively, mode 0600) the log, never through a symlink. */
static int open_log(const char *path, int *created)
{
	int flags = O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(path, flags | O_CREAT | O_EXCL, 0600);
	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(path, flags);
	return fd;
}

static int check_file(int fd, int created)
{
	struct stat st;
	if (created && fchmod(fd, 0600) != 0)      /* whatever the umask left */
		return AUDIT_EIO;
	if (fstat(fd, &st) != 0)
		return AUDIT_EIO;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return AUDIT_EUNSAFE;
	return 0;
}

static int read_host(char host[256])
{
	struct utsname u;
	size_t n;
	if (uname(&u) < 0 || (n = strlen(u.nodename)) == 0 || n > 255)
		return -1;
	memcpy(host, u.nodename, n + 1);
	return 0;
}

/* Reads the last line under the lock to continue the chain. */
static int load_tail(struct auditlog_log *log)
{
	off_t size;
	char *buf = malloc(BUF_SIZE);
	int rc;
	if (!buf)
		return AUDIT_ENOMEM;
	if (lock_fd(log->fd, F_WRLCK) != 0) {
		free(buf);
		return AUDIT_EIO;
	}
	rc = read_tail(log, buf, &size);
	if (unlock_fd(log->fd) != 0 && rc == 0)
		rc = AUDIT_EIO;
	free(buf);
	return rc;
}

int auditlog_open_flags(struct auditlog_log *log, const char *path, unsigned flags)
{
	int created = 0, rc;
	memset(log, 0, sizeof(*log));
	log->fd = -1;
	log->flags = flags;
	if (!path || !*path)
		return AUDIT_EINVAL;
	if (read_host(log->host) != 0)
		return AUDIT_EIO;
	if ((log->fd = open_log(path, &created)) < 0)
		return errno == ELOOP || errno == EISDIR ? AUDIT_EUNSAFE : AUDIT_EIO;
	rc = check_file(log->fd, created);
	if (rc == 0 && created && sync_parent(path) != 0)
		rc = AUDIT_EIO;
	if (rc == 0)
		rc = load_tail(log);
	if (rc != 0 && rc != AUDIT_ETAMPERED) {
		int saved = errno;
		auditlog_close(log);
		errno = saved;
		return rc;
	}
	if (!(flags & AUDIT_NO_SYSLOG))
		openlog("elevate", LOG_PID, LOG_AUTHPRIV);
	return rc;
}

int auditlog_open(struct auditlog_log *log, const char *path)
{
	return auditlog_open_flags(log, path, 0);
}

void auditlog_close(struct auditlog_log *log)
{
	if (log && log->fd >= 0) {
		/* Every line was synced when written: a failing close loses nothing. */
		(void)close(log->fd);
		log->fd = -1;
	}
}

/* ---- verifying -------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int bad_line(struct auditlog_verify_result *r, unsigned long long line, enum auditlog_fault fault,
                    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->bad_line = line;
	r->fault = fault;
	return AUDIT_ETAMPERED;
}

/* Checks line number n (len bytes with its newline, if any) against prev,
   the previous line's SHA-256, which it then replaces with its own. */
static int check_line(const char *line, size_t len, unsigned long long n,
                      char prev[AUDIT_HEX_SIZE], struct auditlog_verify_result *r)
{
	struct record rec;
	enum auditlog_fault f;
	if (line[len - 1] != '\n')
		return bad_line(r, n, AUDIT_FAULT_TRUNCATED,
		                "no newline at the end: the last line was truncated or appended to");
	if (--len > AUDIT_LINE_MAX)
		return bad_line(r, n, AUDIT_FAULT_MALFORMED, "longer than %d bytes", AUDIT_LINE_MAX);
	if ((f = check_record(line, len, &rec, r->why, sizeof(r->why))) != AUDIT_FAULT_NONE) {
		r->bad_line = n;
		r->fault = f;
		return AUDIT_ETAMPERED;
	}
	if (rec.seq > n)
		return bad_line(r, n, AUDIT_FAULT_SEQ, "seq is %llu, expected %llu: "
		                "a line before it was deleted, or lines were reordered", rec.seq, n);
	if (rec.seq < n)
		return bad_line(r, n, AUDIT_FAULT_SEQ, "seq is %llu, expected %llu: "
		                "a line was inserted or duplicated, or lines were reordered", rec.seq, n);
	if (memcmp(rec.prev, prev, HEX_LEN) != 0)
		return bad_line(r, n, AUDIT_FAULT_PREV, n == 1 ?
		                "prev is not 64 zeros: the start of the log was replaced" :
		                "prev does not match line %llu: a line was replaced or forged", n - 1);
	if (digest_sha256_hex(line, len, prev) != 0)
		return AUDIT_ENOMEM;
	r->lines = n;
	return 0;
}

static int verify_stream(FILE *f, struct auditlog_verify_result *r)
{
	char prev[AUDIT_HEX_SIZE], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	memcpy(prev, zero_hash, AUDIT_HEX_SIZE);
	while (rc == 0 && (len = getline(&line, &cap, f)) > 0)
		rc = check_line(line, (size_t)len, r->lines + 1, prev, r);
	if (rc == 0 && ferror(f)) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		rc = AUDIT_EIO;
	}
	free(line);
	return rc;
}

/* ---- damage not pinned yet ---------------------------------------------------- */

/* Running SHA-256 of the file so far, and of it but the last line's newline. */
struct prefix {
	EVP_MD_CTX *all, *but_newline, *tmp;
};

static int prefix_hex(struct prefix *p, EVP_MD_CTX *ctx, char out[AUDIT_HEX_SIZE])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!EVP_MD_CTX_copy_ex(p->tmp, ctx) || !EVP_DigestFinal_ex(p->tmp, d, &n) || n != 32)
		return AUDIT_ENOMEM;
	digest_to_hex(d, out);
	return 0;
}

static int prefix_add(struct prefix *p, const char *line, size_t len)
{
	size_t body = len > 0 && line[len - 1] == '\n' ? len - 1 : len;
	int ok = EVP_DigestUpdate(p->all, line, body) && EVP_MD_CTX_copy_ex(p->but_newline, p->all) &&
	         EVP_DigestUpdate(p->all, line + body, len - body);
	return ok ? 0 : AUDIT_ENOMEM;
}

/*
 * Whether line n pins every byte before it, as auditlog_restart() writes:
 * a well-formed tamper-detected line numbered n whose prev is the SHA-256
 * of those bytes (without the newline the restart adds after a torn line).
 */
static int pins_prefix(struct prefix *p, const char *line, size_t len, unsigned long long n,
                       int *yes)
{
	struct record rec;
	char all[AUDIT_HEX_SIZE], but[AUDIT_HEX_SIZE];
	*yes = 0;
	if (len < 2 || line[len - 1] != '\n' || len - 1 > AUDIT_LINE_MAX ||
	    check_record(line, len - 1, &rec, NULL, 0) != AUDIT_FAULT_NONE || rec.seq != n ||
	    rec.event != AUDIT_EV_TAMPER_DETECTED)
		return 0;
	if (prefix_hex(p, p->all, all) != 0 || prefix_hex(p, p->but_newline, but) != 0)
		return AUDIT_ENOMEM;
	*yes = memcmp(rec.prev, all, HEX_LEN) == 0 || memcmp(rec.prev, but, HEX_LEN) == 0;
	return 0;
}

/* One line of the scan: a pin clears what was found before it, else the
 * first damage after the last pin is kept in r. */
static int scan_line(struct prefix *p, const char *line, size_t len, unsigned long long n,
                     char prev[AUDIT_HEX_SIZE], struct auditlog_verify_result *r)
{
	struct auditlog_verify_result one;
	int pinned = 0, rc = pins_prefix(p, line, len, n, &pinned);
	if (rc == 0 && pinned) {
		r->bad_line = 0;
		r->fault = AUDIT_FAULT_NONE;
		r->why[0] = '\0';
		rc = digest_sha256_hex(line, len - 1, prev) == 0 ? 0 : AUDIT_ENOMEM;
	} else if (rc == 0 && r->bad_line == 0) {
		memset(&one, 0, sizeof(one));
		rc = check_line(line, len, n, prev, &one);
		if (rc == AUDIT_ETAMPERED) {
			r->bad_line = one.bad_line;
			r->fault = one.fault;
			memcpy(r->why, one.why, sizeof(r->why));
			rc = 0;
		}
	}
	r->lines = n;
	return rc == 0 ? prefix_add(p, line, len) : rc;
}

static int scan_unpinned(FILE *f, struct auditlog_verify_result *r)
{
	struct prefix p = { EVP_MD_CTX_new(), EVP_MD_CTX_new(), EVP_MD_CTX_new() };
	char prev[AUDIT_HEX_SIZE], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = p.all && p.but_newline && p.tmp && EVP_DigestInit_ex(p.all, EVP_sha256(), NULL) &&
	         EVP_MD_CTX_copy_ex(p.but_newline, p.all) ? 0 : AUDIT_ENOMEM;
	memcpy(prev, zero_hash, AUDIT_HEX_SIZE);
	while (rc == 0 && (len = getline(&line, &cap, f)) > 0)
		rc = scan_line(&p, line, (size_t)len, r->lines + 1, prev, r);
	if (rc == 0 && ferror(f)) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		rc = AUDIT_EIO;
	}
	free(line);
	EVP_MD_CTX_free(p.all);
	EVP_MD_CTX_free(p.but_newline);
	EVP_MD_CTX_free(p.tmp);
	return rc == 0 && r->bad_line ? AUDIT_ETAMPERED : rc;
}

/* Opens path read-only under a shared lock and runs scan over it. */
static int scan_file(const char *path, struct auditlog_verify_result *r,
                     int (*scan)(FILE *, struct auditlog_verify_result *))
{
	memset(r, 0, sizeof(*r));
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	FILE *f = NULL;
	if (fd < 0 || lock_fd(fd, F_RDLCK) != 0 || !(f = fdopen(fd, "r"))) {
		snprintf(r->why, sizeof(r->why), "%s", path ? strerror(errno) : "no path");
		if (fd >= 0)
			(void)close(fd);
		return path ? AUDIT_EIO : AUDIT_EINVAL;
	}
	int rc = scan(f, r);
	if (fclose(f) != 0 && rc == 0) {      /* also drops the lock */
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		rc = AUDIT_EIO;
	}
	return rc;
}

int auditlog_verify(const char *path, struct auditlog_verify_result *r)
{
	return scan_file(path, r, verify_stream);
}

int auditlog_find_unpinned(const char *path, struct auditlog_verify_result *r)
{
	return scan_file(path, r, scan_unpinned);
}

int auditlog_verify_command(const char *path)
{
	struct auditlog_verify_result r;
	int rc = auditlog_verify(path, &r);
	if (rc == 0)
		printf("ok: %llu lines\n", r.lines);
	else if (rc == AUDIT_ETAMPERED)
		printf("line %llu: %s\n", r.bad_line, r.why);
	else
		fprintf(stderr, "elevate: %s: %s\n", path ? path : "(null)", r.why);
	return fflush(stdout) == 0 && rc == 0 ? 0 : 1;
}
