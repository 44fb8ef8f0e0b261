/*
 * state.c - elevate's grant state store (API in state.h, file format and
 * protocol in docs/agent-state.md). The whole state lives in memory as a
 * struct contents, parsed strictly from DIR/state and written back whole
 * after every change: DIR/state.tmp, fsync, rename over DIR/state, fsync
 * of the directory. Changes are made under an exclusive fcntl() lock on
 * DIR/lock, after rereading the file.
 *
 * Must never: open anything in the directory through a symbolic link, or
 * trust a directory or file another user could have written; write a
 * partial DIR/state; accept a file that is not exactly what the writer
 * would produce (the parser is canonical: a file it accepts serialises
 * back to the same bytes); keep showing a change that did not reach the
 * disk; read past a buffer or crash on any file contents.
 */
#ifdef __APPLE__
#define _DARWIN_C_SOURCE                /* O_NOFOLLOW, O_CLOEXEC, F_FULLFSYNC, sysctlbyname */
#endif
#include "state.h"

#include "lockwait.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>      /* renameat, snprintf */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __APPLE__
#include <sys/sysctl.h>
#endif

#define STATE_FILE  "state"
#define TEMP_FILE   "state.tmp"
#define LOCK_FILE   "lock"
#define MAGIC       "elevate-state"
#define DAY 86400
#define MAX_FIELDS 11           /* a grant line */
#define BOOT_ID_READ_MAX 128    /* bytes read from a boot id file */

/* A grant time of one user. */
struct hist {
	char *user;
	int64_t t;
};

/* Everything the file holds. */
struct contents {
	int64_t latest;             /* the latest wall time seen */
	int64_t latest_mono;        /* the monotonic clock when latest was seen, in boot */
	char latest_boot[STATE_BOOT_ID_MAX + 1];   /* "" if unknown (then no forward check) */
	unsigned locked;            /* enum state_lock_cause bits; 0: not locked */
	uint64_t next_id;           /* the id of the next record, > every id in g */
	struct state_grant *g;      /* active records, ids ascending */
	size_t ng, gcap;
	struct hist *h;             /* history, in the order added */
	size_t nh, hcap;
};

struct state {
	int dirfd, lockfd;
	uid_t owner;
	bool held;                  /* this handle holds the lock */
	int fault;                  /* non-zero: the last reread failed; no contents */
	struct state_options opt;
	struct contents c;
};

#define STATE_MSG_(name, value, msg) case name: return msg;
const char *state_strerror(int status)
{
	switch (status) {
	STATE_STATUSES(STATE_MSG_)
	}
	return "unknown status";
}
#undef STATE_MSG_

static const char *const phase_names[] = { "intent", "granted", "revoking" };

const char *state_phase_name(enum state_phase phase)
{
	return (unsigned)phase < 3 ? phase_names[phase] : NULL;
}

/* ---- fields ------------------------------------------------------------------ */

static bool time_ok(int64_t t)
{
	return t >= 0 && t < STATE_TIME_LIMIT;
}

static bool boot_id_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

static bool boot_id_ok(const char *s, size_t n)
{
	if (n == 0 || n > STATE_BOOT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!boot_id_char((unsigned char)s[i]))
			return false;
	return true;
}

/* A string of at most max bytes (and at least one if nonempty), NUL within max + 1. */
static bool text_ok(const char *s, size_t max, bool nonempty)
{
	if (!s)
		return false;
	size_t n = strnlen(s, max + 1);
	return n <= max && (!nonempty || n > 0);
}

/* Checks the caller's fields of a new grant. */
static bool grant_fields_ok(const struct state_grant *r)
{
	return text_ok(r->user, STATE_NAME_MAX, true) && text_ok(r->rule, STATE_NAME_MAX, false) &&
	       text_ok(r->reason, STATE_REASON_MAX, false) &&
	       text_ok(r->boot_id, STATE_BOOT_ID_MAX, true) &&
	       boot_id_ok(r->boot_id, strlen(r->boot_id)) &&
	       r->duration >= 1 && r->duration <= STATE_DURATION_MAX &&
	       time_ok(r->start_wall) && time_ok(r->start_wall + r->duration) &&
	       time_ok(r->mono_start);
}

/* ---- contents ----------------------------------------------------------------- */

static void contents_init(struct contents *c)
{
	memset(c, 0, sizeof(*c));
	c->next_id = 1;
}

static void contents_free(struct contents *c)
{
	for (size_t i = 0; i < c->nh; i++)
		free(c->h[i].user);
	free(c->h);
	free(c->g);
	contents_init(c);
}

/* Room for one more record. */
static int reserve_grant(struct contents *c)
{
	if (c->ng < c->gcap)
		return 0;
	size_t cap = c->gcap ? c->gcap * 2 : 4;
	struct state_grant *g = realloc(c->g, cap * sizeof(*g));
	if (!g)
		return STATE_E_NOMEM;
	c->g = g;
	c->gcap = cap;
	return 0;
}

/* Room for one more history entry. */
static int reserve_hist(struct contents *c)
{
	if (c->nh < c->hcap)
		return 0;
	size_t cap = c->hcap ? c->hcap * 2 : 16;
	struct hist *h = realloc(c->h, cap * sizeof(*h));
	if (!h)
		return STATE_E_NOMEM;
	c->h = h;
	c->hcap = cap;
	return 0;
}

/* Appends a history entry; the user's name is copied. */
static int add_hist(struct contents *c, const char *user, int64_t t)
{
	int rc = reserve_hist(c);
	if (rc != 0)
		return rc;
	char *copy = strdup(user);
	if (!copy)
		return STATE_E_NOMEM;
	c->h[c->nh].user = copy;
	c->h[c->nh].t = t;
	c->nh++;
	return 0;
}

static void remove_hist(struct contents *c, size_t i)
{
	free(c->h[i].user);
	memmove(&c->h[i], &c->h[i + 1], (c->nh - i - 1) * sizeof(*c->h));
	c->nh--;
}

static size_t count_hist(const struct contents *c, const char *user)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nh; i++)
		n += strcmp(c->h[i].user, user) == 0;
	return n;
}

/* Drops the user's oldest entries until there is room for one more. */
static void cap_hist(struct contents *c, const char *user)
{
	size_t n = count_hist(c, user);
	while (n >= STATE_HISTORY_PER_USER) {
		size_t oldest = c->nh;
		for (size_t i = 0; i < c->nh; i++)
			if (strcmp(c->h[i].user, user) == 0 && (oldest == c->nh || c->h[i].t < c->h[oldest].t))
				oldest = i;
		remove_hist(c, oldest);
		n--;
	}
}

static int64_t history_cutoff(const struct contents *c)
{
	return c->latest - (int64_t)STATE_HISTORY_DAYS * DAY;
}

/* Removes history older than STATE_HISTORY_DAYS before the latest time seen. */
static void prune_hist(struct contents *c)
{
	int64_t cutoff = history_cutoff(c);
	size_t out = 0;
	for (size_t i = 0; i < c->nh; i++) {
		if (c->h[i].t < cutoff)
			free(c->h[i].user);
		else
			c->h[out++] = c->h[i];
	}
	c->nh = out;
}

static struct state_grant *find_grant(const struct contents *c, uint64_t id)
{
	for (size_t i = 0; i < c->ng; i++)
		if (c->g[i].id == id)
			return &c->g[i];
	return NULL;
}

/* ---- the text encoding of strings --------------------------------------------- */

/* Bytes written as %XX: everything but printable ASCII, and '%' itself. */
static bool needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;   /* lowercase is not canonical */
}

struct tok {
	const char *s;
	size_t n;
};

static bool tok_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);
	return t->n == n && memcmp(t->s, word, n) == 0;
}

/*
 * Decodes a string field: "-" is the empty string, "%2D" the string "-",
 * otherwise raw printable bytes and %XX (uppercase) for exactly the bytes
 * needs_escape() names, never NUL. At most max bytes; out has max + 1.
 */
static bool decode(const struct tok *t, char *out, size_t max)
{
	if (tok_is(t, "-") || tok_is(t, "%2D")) {
		size_t n = t->n == 1 ? 0 : 1;
		if (n > max)
			return false;
		memcpy(out, "-", n);
		out[n] = '\0';
		return true;
	}
	size_t o = 0;
	for (size_t i = 0; i < t->n; o++) {
		unsigned char c = (unsigned char)t->s[i];
		if (c == '%') {
			if (t->n - i < 3)
				return false;
			int hi = hex_value(t->s[i + 1]), lo = hex_value(t->s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = (unsigned char)(hi * 16 + lo);
			if (c == 0 || !needs_escape(c))
				return false;
			i += 3;
		} else {
			i++;
		}
		if (o >= max)
			return false;
		out[o] = (char)c;
	}
	out[o] = '\0';
	return true;
}

/* ---- writing the text ------------------------------------------------------------ */

/* A growing output buffer; the first failure sticks. */
struct buf {
	char *p;
	size_t len, cap;
	int rc;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->rc != 0)
		return;
	if (n > STATE_FILE_MAX - b->len) {
		b->rc = STATE_E_TOO_BIG;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->rc = STATE_E_NOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void put_word(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A space (unless first on the line), then the number. */
static void put_num(struct buf *b, uint64_t v, bool space)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%s%llu", space ? " " : "", (unsigned long long)v);
	if (n > 0 && (size_t)n < sizeof(tmp))
		put(b, tmp, (size_t)n);
	else if (b->rc == 0)
		b->rc = STATE_E_IO;
}

/* A space, then the string in the encoding decode() reads. */
static void put_text(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	put(b, " ", 1);
	if (s[0] == '\0') {
		put(b, "-", 1);
		return;
	}
	if (strcmp(s, "-") == 0) {
		put(b, "%2D", 3);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		if (needs_escape(*p))
			put(b, esc, 3);
		else
			put(b, (const char *)p, 1);
	}
}

static void put_grant(struct buf *b, const struct state_grant *g)
{
	put_word(b, "grant");
	put_num(b, g->id, true);
	put(b, " ", 1);
	put_word(b, phase_names[g->phase]);
	put_text(b, g->user);
	put_text(b, g->rule);
	put_num(b, (uint64_t)g->start_wall, true);
	put_num(b, (uint64_t)g->expiry_wall, true);
	put_num(b, g->duration, true);
	put(b, " ", 1);
	put_word(b, g->boot_id);
	put_num(b, (uint64_t)g->mono_start, true);
	put_text(b, g->reason);
	put(b, "\n", 1);
}

/* The file's bytes for c. Times are never negative in a struct contents. */
static int serialize(const struct contents *c, char **out, size_t *len)
{
	struct buf b = { 0 };
	put_word(&b, MAGIC);
	put_num(&b, STATE_FORMAT_VERSION, true);
	put_word(&b, "\nlatest");
	put_num(&b, (uint64_t)c->latest, true);
	if (c->latest_boot[0]) {
		put_num(&b, (uint64_t)c->latest_mono, true);
		put(&b, " ", 1);
		put_word(&b, c->latest_boot);
	}
	put_word(&b, "\nlocked");
	put_num(&b, c->locked, true);
	put_word(&b, "\nnext-id");
	put_num(&b, c->next_id, true);
	put(&b, "\n", 1);
	for (size_t i = 0; i < c->ng; i++)
		put_grant(&b, &c->g[i]);
	for (size_t i = 0; i < c->nh; i++) {
		put_word(&b, "history");
		put_text(&b, c->h[i].user);
		put_num(&b, (uint64_t)c->h[i].t, true);
		put(&b, "\n", 1);
	}
	put_word(&b, "end\n");
	if (b.rc != 0) {
		free(b.p);
		return b.rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- reading the text -------------------------------------------------------------- */

struct cursor {
	const char *p;
	size_t len, pos;
};

/* The next line without its '\n': 1, or 0 at the end; -1 for a last line without '\n'. */
static int next_line(struct cursor *cur, struct tok *line)
{
	if (cur->pos == cur->len)
		return 0;
	const char *start = cur->p + cur->pos;
	const char *nl = memchr(start, '\n', cur->len - cur->pos);
	if (!nl)
		return -1;
	line->s = start;
	line->n = (size_t)(nl - start);
	cur->pos += line->n + 1;
	return 1;
}

/* Splits a line at single spaces; only printable ASCII; -1 unless 1 to max non-empty fields. */
static int split(const struct tok *line, struct tok *f, int max)
{
	int n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= line->n; i++) {
		if (i < line->n && line->s[i] != ' ') {
			unsigned char c = (unsigned char)line->s[i];
			if (c < 0x21 || c > 0x7e)
				return -1;
			continue;
		}
		if (i == start || n == max)
			return -1;
		f[n].s = line->s + start;
		f[n].n = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

/* A decimal number without sign or leading zeros, at most max. */
static bool parse_num(const struct tok *t, uint64_t max, uint64_t *v)
{
	if (t->n == 0 || t->n > 20 || (t->n > 1 && t->s[0] == '0'))
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < t->n; i++) {
		unsigned d = (unsigned)(t->s[i] - '0');
		if (d > 9 || d > max || x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

static bool parse_time(const struct tok *t, int64_t *v)
{
	uint64_t x;
	if (!parse_num(t, (uint64_t)STATE_TIME_LIMIT - 1, &x))
		return false;
	*v = (int64_t)x;
	return true;
}

/* A line of exactly n fields starting with the keyword. */
static bool keyed(const struct tok *line, const char *key, struct tok *f, int n)
{
	return split(line, f, n) == n && tok_is(&f[0], key);
}

static bool parse_phase(const struct tok *t, enum state_phase *p)
{
	for (int i = 0; i < 3; i++) {
		if (tok_is(t, phase_names[i])) {
			*p = (enum state_phase)i;
			return true;
		}
	}
	return false;
}

/* grant ID PHASE USER RULE START EXPIRY DURATION BOOT MONO REASON */
static bool parse_grant_fields(const struct tok *f, struct state_grant *g)
{
	uint64_t dur;
	if (!parse_num(&f[1], UINT64_MAX - 1, &g->id) || g->id == 0 || !parse_phase(&f[2], &g->phase) ||
	    !decode(&f[3], g->user, STATE_NAME_MAX) || g->user[0] == '\0' ||
	    !decode(&f[4], g->rule, STATE_NAME_MAX) || !parse_time(&f[5], &g->start_wall) ||
	    !parse_time(&f[6], &g->expiry_wall) || !parse_num(&f[7], STATE_DURATION_MAX, &dur) ||
	    dur == 0 || !boot_id_ok(f[8].s, f[8].n) || !parse_time(&f[9], &g->mono_start) ||
	    !decode(&f[10], g->reason, STATE_REASON_MAX))
		return false;
	g->duration = (uint32_t)dur;
	memcpy(g->boot_id, f[8].s, f[8].n);
	g->boot_id[f[8].n] = '\0';
	return g->expiry_wall == g->start_wall + g->duration;
}

static int parse_grant(const struct tok *line, struct contents *c)
{
	struct tok f[MAX_FIELDS];
	if (!keyed(line, "grant", f, MAX_FIELDS))
		return STATE_E_MALFORMED;
	if (c->ng >= STATE_MAX_GRANTS)
		return STATE_E_MALFORMED;
	int rc = reserve_grant(c);
	if (rc != 0)
		return rc;
	struct state_grant *g = &c->g[c->ng];
	memset(g, 0, sizeof(*g));
	if (!parse_grant_fields(f, g) || g->id >= c->next_id || (c->ng > 0 && g->id <= c->g[c->ng - 1].id))
		return STATE_E_MALFORMED;
	c->ng++;
	return 0;
}

static int parse_history(const struct tok *line, struct contents *c)
{
	struct tok f[3];
	char user[STATE_NAME_MAX + 1];
	int64_t t;
	if (!keyed(line, "history", f, 3) || !decode(&f[1], user, STATE_NAME_MAX) || user[0] == '\0' ||
	    !parse_time(&f[2], &t))
		return STATE_E_MALFORMED;
	return add_hist(c, user, t);
}

/* "elevate-state 1": another number is another version; anything else is not a state file. */
static int parse_magic(const struct tok *line)
{
	struct tok f[2];
	uint64_t v;
	if (!keyed(line, MAGIC, f, 2) || !parse_num(&f[1], UINT32_MAX, &v))
		return STATE_E_MALFORMED;
	return v == STATE_FORMAT_VERSION ? 0 : STATE_E_VERSION;
}

/* "latest T" or "latest T MONO BOOT". */
static bool parse_latest(const struct tok *line, struct tok *f, struct contents *c)
{
	int n = split(line, f, 4);
	if ((n != 2 && n != 4) || !tok_is(&f[0], "latest") || !parse_time(&f[1], &c->latest))
		return false;
	if (n == 2)
		return true;
	if (!parse_time(&f[2], &c->latest_mono) || !boot_id_ok(f[3].s, f[3].n))
		return false;
	memcpy(c->latest_boot, f[3].s, f[3].n);
	c->latest_boot[f[3].n] = '\0';
	return true;
}

/* The four header lines. */
static int parse_header(struct cursor *cur, struct contents *c)
{
	struct tok line[4], f[4];
	uint64_t v;
	if (next_line(cur, &line[0]) != 1)
		return STATE_E_MALFORMED;
	int rc = parse_magic(&line[0]);   /* first, so that any other version is named as such */
	if (rc != 0)
		return rc;
	for (int i = 1; i < 4; i++)
		if (next_line(cur, &line[i]) != 1)
			return STATE_E_MALFORMED;
	if (!parse_latest(&line[1], f, c))
		return STATE_E_MALFORMED;
	if (!keyed(&line[2], "locked", f, 2) || !parse_num(&f[1], STATE_LOCK_ALL, &v))
		return STATE_E_MALFORMED;
	c->locked = (unsigned)v;
	if (!keyed(&line[3], "next-id", f, 2) || !parse_num(&f[1], UINT64_MAX, &c->next_id) ||
	    c->next_id == 0)
		return STATE_E_MALFORMED;
	return 0;
}

/* Grant lines, then history lines, then "end" and nothing after it. */
static int parse_body(struct cursor *cur, struct contents *c)
{
	struct tok line;
	bool in_history = false;
	for (;;) {
		if (next_line(cur, &line) != 1)
			return STATE_E_MALFORMED;
		int rc;
		if (line.n >= 6 && memcmp(line.s, "grant ", 6) == 0 && !in_history) {
			rc = parse_grant(&line, c);
		} else if (line.n >= 8 && memcmp(line.s, "history ", 8) == 0) {
			in_history = true;
			rc = parse_history(&line, c);
		} else if (line.n == 3 && memcmp(line.s, "end", 3) == 0) {
			return cur->pos == cur->len ? 0 : STATE_E_MALFORMED;
		} else {
			rc = STATE_E_MALFORMED;
		}
		if (rc != 0)
			return rc;
	}
}

/* Parses a whole file into c (initialised here; freed on failure). */
static int parse(const char *data, size_t len, struct contents *c)
{
	struct cursor cur = { data, len, 0 };
	contents_init(c);
	int rc = parse_header(&cur, c);
	if (rc == 0)
		rc = parse_body(&cur, c);
	if (rc != 0)
		contents_free(c);
	return rc;
}

/* ---- files ------------------------------------------------------------------------ */

static bool safe_mode(const struct stat *s, uid_t owner)
{
	return s->st_uid == owner && (s->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

static int check_dir(int dirfd, uid_t owner)
{
	struct stat s;
	if (fstat(dirfd, &s) != 0)
		return STATE_E_IO;
	return S_ISDIR(s.st_mode) && safe_mode(&s, owner) ? 0 : STATE_E_UNSAFE_DIR;
}

static int check_file(int fd, uid_t owner, struct stat *s)
{
	if (fstat(fd, s) != 0)
		return STATE_E_IO;
	return S_ISREG(s->st_mode) && safe_mode(s, owner) ? 0 : STATE_E_UNSAFE_FILE;
}

/* Closes fd keeping errno; for descriptors only read from. */
static void close_quietly(int fd)
{
	int saved = errno;
	(void)close(fd);
	errno = saved;
}

static int read_fd(int fd, char *data, size_t size, size_t *len)
{
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, data + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return STATE_E_IO;
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == size)
			return STATE_E_TOO_BIG;   /* grew past its size while we read */
	}
	*len = got;
	return 0;
}

/* Reads DIR/state whole; *data NULL if the file does not exist. */
static int read_state_file(const struct state *st, char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	int fd = openat(st->dirfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return errno == ELOOP ? STATE_E_UNSAFE_FILE : STATE_E_IO;
	}
	struct stat s;
	int rc = check_file(fd, st->owner, &s);
	if (rc == 0 && (unsigned long long)s.st_size > STATE_FILE_MAX)
		rc = STATE_E_TOO_BIG;
	size_t size = rc == 0 ? (size_t)s.st_size + 1 : 0;
	if (rc == 0 && !(*data = malloc(size)))
		rc = STATE_E_NOMEM;
	if (rc == 0)
		rc = read_fd(fd, *data, size, len);
	close_quietly(fd);
	if (rc != 0) {
		free(*data);
		*data = NULL;
	}
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return STATE_E_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int sync_fd(int fd)
{
#ifdef F_FULLFSYNC
	if (fcntl(fd, F_FULLFSYNC) == 0)   /* macOS: fsync() does not flush the disk's cache */
		return 0;
#endif
	return fsync(fd) == 0 ? 0 : STATE_E_IO;
}

/* DIR/state.tmp with the bytes, mode 0600, owned by the owner, synced. */
static int write_temp(const struct state *st, const char *data, size_t len)
{
	if (unlinkat(st->dirfd, TEMP_FILE, 0) != 0 && errno != ENOENT)
		return STATE_E_IO;   /* a stale one is left by a crash */
	int fd = openat(st->dirfd, TEMP_FILE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return STATE_E_IO;
	struct stat s;
	int rc = fchmod(fd, 0600) == 0 ? 0 : STATE_E_IO;
	if (rc == 0)
		rc = check_file(fd, st->owner, &s);   /* we are not the owner: refuse to write */
	if (rc == 0)
		rc = write_all(fd, data, len);
	if (rc == 0)
		rc = sync_fd(fd);
	if (close(fd) != 0 && rc == 0)
		rc = STATE_E_IO;
	return rc;
}

static int run_hook(const struct state *st, enum state_step step, const char *op)
{
	if (st->opt.step_hook && st->opt.step_hook(st->opt.step_arg, step, op) != 0)
		return STATE_E_HOOK;
	return 0;
}

/* Prunes the history, then replaces DIR/state with the contents; on failure DIR/state is untouched. */
static int save(struct state *st, const char *op)
{
	char *data = NULL;
	size_t len = 0;
	prune_hist(&st->c);
	int rc = serialize(&st->c, &data, &len);
	if (rc == 0)
		rc = write_temp(st, data, len);
	free(data);
	if (rc == 0)
		rc = run_hook(st, STATE_STEP_TEMP_WRITTEN, op);
	if (rc == 0 && renameat(st->dirfd, TEMP_FILE, st->dirfd, STATE_FILE) != 0)
		rc = STATE_E_IO;
	if (rc != 0) {
		int saved = errno;
		(void)unlinkat(st->dirfd, TEMP_FILE, 0);   /* best effort: DIR/state is intact */
		errno = saved;
		return rc;
	}
	if (sync_fd(st->dirfd) != 0)
		return STATE_E_IO;
	return run_hook(st, STATE_STEP_RENAMED, op);
}

/* ---- the lock ------------------------------------------------------------------------ */


/* DIR/lock, opened once per handle and kept open (closing it would drop the lock). */
static int open_lock_file(struct state *st)
{
	if (st->lockfd >= 0)
		return 0;
	int fd = openat(st->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == ELOOP || errno == EISDIR ? STATE_E_UNSAFE_FILE : STATE_E_IO;
	struct stat s;
	int rc = check_file(fd, st->owner, &s);
	if (rc != 0) {
		close_quietly(fd);
		return rc;
	}
	st->lockfd = fd;
	return 0;
}

static int poll_lock(int fd, unsigned timeout_ms)
{
	enum lock_wait_result w = lock_wait(fd, timeout_ms);
	return w == LOCK_WAIT_OK ? 0 : w == LOCK_WAIT_TIMEOUT ? STATE_E_LOCK_TIMEOUT : STATE_E_IO;
}

static void release_lock(struct state *st)
{
	if (!st->held)
		return;
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	int saved = errno;
	if (fcntl(st->lockfd, F_SETLK, &fl) != 0) {
		(void)close(st->lockfd);   /* closing releases it for certain */
		st->lockfd = -1;
	}
	errno = saved;
	st->held = false;
}

/* ---- the handle ----------------------------------------------------------------------- */

/* Rereads DIR/state; on failure the handle holds no contents and remembers why. */
static int reload(struct state *st)
{
	char *data;
	size_t len;
	struct contents fresh;
	int rc = read_state_file(st, &data, &len);
	if (rc == 0 && data)
		rc = parse(data, len, &fresh);
	else if (rc == 0)
		contents_init(&fresh);
	free(data);
	contents_free(&st->c);
	if (rc == 0)
		st->c = fresh;
	st->fault = rc;
	return rc;
}

int state_reload(struct state *st)
{
	return st ? reload(st) : STATE_E_ARG;
}

static int open_dir(const char *dir, int *fd)
{
	*fd = open(dir ? dir : STATE_DEFAULT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	if (errno == ENOENT)
		return STATE_E_NO_DIR;
	return errno == ELOOP || errno == ENOTDIR ? STATE_E_UNSAFE_DIR : STATE_E_IO;
}

int state_open_opt(const char *dir, uid_t owner, const struct state_options *opt,
                   struct state **out)
{
	if (!out)
		return STATE_E_ARG;
	struct state *st = calloc(1, sizeof(*st));
	if (!st)
		return STATE_E_NOMEM;
	st->lockfd = -1;
	st->owner = owner;
	if (opt)
		st->opt = *opt;
	contents_init(&st->c);
	int rc = open_dir(dir, &st->dirfd);
	if (rc != 0)
		st->dirfd = -1;
	if (rc == 0)
		rc = check_dir(st->dirfd, owner);
	if (rc == 0)
		rc = reload(st);
	if (rc != 0) {
		state_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

int state_open(const char *dir, uid_t owner, struct state **out)
{
	return state_open_opt(dir, owner, NULL, out);
}

void state_close(struct state *st)
{
	if (!st)
		return;
	int saved = errno;
	release_lock(st);
	if (st->lockfd >= 0)
		(void)close(st->lockfd);
	if (st->dirfd >= 0)
		(void)close(st->dirfd);
	contents_free(&st->c);
	free(st);
	errno = saved;
}

int state_lock(struct state *st, unsigned timeout_ms)
{
	if (!st || st->held)
		return STATE_E_ARG;
	int rc = check_dir(st->dirfd, st->owner);
	if (rc == 0)
		rc = open_lock_file(st);
	if (rc == 0)
		rc = poll_lock(st->lockfd, timeout_ms ? timeout_ms : STATE_LOCK_TIMEOUT_MS);
	if (rc != 0)
		return rc;
	st->held = true;
	rc = run_hook(st, STATE_STEP_LOCKED, "lock");
	if (rc == 0)
		rc = reload(st);
	if (rc != 0)
		release_lock(st);
	return rc;
}

void state_unlock(struct state *st)
{
	if (st)
		release_lock(st);
}

/* ---- changes ------------------------------------------------------------------------- */

/*
 * A change to the contents. Returns a status; sets *dirty when the contents
 * changed and must be written (also when it returns an error, as when a
 * clock jump locks elevation and the grant is refused). A change that
 * fails without setting *dirty has not touched the contents.
 */
typedef int (*change_fn)(struct state *st, void *arg, bool *dirty);

/* Runs a change under the lock (taken and released here if the caller does not hold it). */
static int change(struct state *st, const char *op, change_fn fn, void *arg)
{
	if (!st)
		return STATE_E_ARG;
	bool own_lock = !st->held;
	int rc = own_lock ? state_lock(st, st->opt.lock_timeout_ms) : st->fault;
	if (rc != 0)
		return rc;
	bool dirty = false;
	rc = fn(st, arg, &dirty);
	if (dirty) {
		int wrc = save(st, op);
		if (wrc != 0) {
			int saved = errno;
			(void)reload(st);   /* show what is on disk; a failure is remembered */
			errno = saved;
			rc = wrc;
		}
	}
	if (own_lock)
		release_lock(st);
	return rc;
}

static unsigned tolerance(const struct state *st)
{
	return st->opt.clock_tolerance ? st->opt.clock_tolerance : STATE_CLOCK_TOLERANCE;
}

/*
 * Whether the wall clock reading t, taken at monotonic time mono in boot,
 * jumped since the latest time seen: back by more than the tolerance, or
 * (same boot only) forward by more than the monotonic clock went on plus
 * the tolerance.
 */
static enum state_jump jumped(const struct state *st, int64_t t, int64_t mono, const char *boot)
{
	const struct contents *c = &st->c;
	int64_t tol = (int64_t)tolerance(st);
	if (c->latest > t && c->latest - t > tol)
		return STATE_JUMP_BACK;
	if (c->latest_boot[0] && boot && strcmp(c->latest_boot, boot) == 0 &&
	    mono >= c->latest_mono && t > c->latest && (t - c->latest) - (mono - c->latest_mono) > tol)
		return STATE_JUMP_FORWARD;
	return STATE_JUMP_NONE;
}

/* Records a wall reading as the latest time seen, with its monotonic anchor. */
static void set_latest(struct contents *c, int64_t t, int64_t mono, const char *boot)
{
	c->latest = t;
	c->latest_mono = mono;
	snprintf(c->latest_boot, sizeof(c->latest_boot), "%s", boot);
}

struct begin_arg {
	const struct state_grant *rec;
	uint64_t id;
};

/* Copies the caller's fields into a new intent record (fields checked already). */
static void fill_record(struct state_grant *g, const struct state_grant *rec, uint64_t id)
{
	memset(g, 0, sizeof(*g));
	g->id = id;
	g->phase = STATE_PHASE_INTENT;
	memcpy(g->user, rec->user, strlen(rec->user) + 1);
	memcpy(g->rule, rec->rule, strlen(rec->rule) + 1);
	memcpy(g->reason, rec->reason, strlen(rec->reason) + 1);
	memcpy(g->boot_id, rec->boot_id, strlen(rec->boot_id) + 1);
	g->start_wall = rec->start_wall;
	g->duration = rec->duration;
	g->expiry_wall = rec->start_wall + rec->duration;
	g->mono_start = rec->mono_start;
}

static int do_begin_grant(struct state *st, void *arg, bool *dirty)
{
	struct begin_arg *a = arg;
	struct contents *c = &st->c;
	if (c->locked)
		return STATE_E_LOCKED;
	if (jumped(st, a->rec->start_wall, a->rec->mono_start, a->rec->boot_id) != STATE_JUMP_NONE) {
		c->locked |= STATE_LOCK_CLOCK;
		*dirty = true;
		return STATE_E_CLOCK_BACK;
	}
	if (c->ng >= STATE_MAX_GRANTS || c->next_id == UINT64_MAX)
		return STATE_E_FULL;
	/* Everything that can fail first: then nothing changes unless everything does. */
	char *user = NULL;
	int rc = reserve_grant(c);
	if (rc == 0)
		rc = reserve_hist(c);
	if (rc == 0 && !(user = strdup(a->rec->user)))
		rc = STATE_E_NOMEM;
	if (rc != 0)
		return rc;
	cap_hist(c, user);   /* only drops entries beyond what a limit can count */
	c->h[c->nh].user = user;
	c->h[c->nh].t = a->rec->start_wall;
	c->nh++;
	a->id = c->next_id++;
	fill_record(&c->g[c->ng++], a->rec, a->id);
	if (a->rec->start_wall > c->latest)
		set_latest(c, a->rec->start_wall, a->rec->mono_start, a->rec->boot_id);
	*dirty = true;
	return 0;
}

int state_begin_grant(struct state *st, const struct state_grant *rec, uint64_t *id)
{
	if (!rec || !id)
		return STATE_E_ARG;
	if (!grant_fields_ok(rec))
		return STATE_E_BAD_FIELD;
	struct begin_arg a = { rec, 0 };
	int rc = change(st, "begin-grant", do_begin_grant, &a);
	if (rc == 0)
		*id = a.id;
	return rc;
}

static int do_commit(struct state *st, void *arg, bool *dirty)
{
	struct state_grant *g = find_grant(&st->c, *(const uint64_t *)arg);
	if (!g)
		return STATE_E_NOT_FOUND;
	if (g->phase != STATE_PHASE_INTENT)
		return STATE_E_PHASE;
	g->phase = STATE_PHASE_GRANTED;
	*dirty = true;
	return 0;
}

int state_commit_grant(struct state *st, uint64_t id)
{
	return change(st, "commit-grant", do_commit, &id);
}

static int do_begin_revoke(struct state *st, void *arg, bool *dirty)
{
	struct state_grant *g = find_grant(&st->c, *(const uint64_t *)arg);
	if (!g)
		return STATE_E_NOT_FOUND;
	if (g->phase != STATE_PHASE_REVOKING) {
		g->phase = STATE_PHASE_REVOKING;
		*dirty = true;
	}
	return 0;
}

int state_begin_revoke(struct state *st, uint64_t id)
{
	return change(st, "begin-revoke", do_begin_revoke, &id);
}

static int do_finish_revoke(struct state *st, void *arg, bool *dirty)
{
	struct contents *c = &st->c;
	struct state_grant *g = find_grant(c, *(const uint64_t *)arg);
	if (!g)
		return STATE_E_NOT_FOUND;
	if (g->phase != STATE_PHASE_REVOKING)
		return STATE_E_PHASE;
	size_t i = (size_t)(g - c->g);
	memmove(&c->g[i], &c->g[i + 1], (c->ng - i - 1) * sizeof(*c->g));
	c->ng--;
	*dirty = true;
	return 0;
}

int state_finish_revoke(struct state *st, uint64_t id)
{
	return change(st, "finish-revoke", do_finish_revoke, &id);
}

struct note_arg {
	const struct state_now *now;
	enum state_jump jump;
};

static int do_note_time(struct state *st, void *arg, bool *dirty)
{
	struct note_arg *a = arg;
	enum state_jump j = jumped(st, a->now->wall, a->now->mono, a->now->boot_id);
	if (j != STATE_JUMP_NONE) {
		if (!(st->c.locked & STATE_LOCK_CLOCK)) {
			st->c.locked |= STATE_LOCK_CLOCK;
			a->jump = j;
			*dirty = true;
		}
	} else if (a->now->wall > st->c.latest) {
		set_latest(&st->c, a->now->wall, a->now->mono, a->now->boot_id);
		*dirty = true;
	} else if (strcmp(st->c.latest_boot, a->now->boot_id) != 0) {
		/* a new boot, the clock within the tolerance: anchor it here */
		set_latest(&st->c, st->c.latest, a->now->mono, a->now->boot_id);
		*dirty = true;
	}
	return 0;
}

static bool now_ok(const struct state_now *now)
{
	return now && time_ok(now->wall) && time_ok(now->mono) &&
	       boot_id_ok(now->boot_id, strnlen(now->boot_id, sizeof(now->boot_id)));
}

int state_note_time(struct state *st, const struct state_now *now, enum state_jump *jump)
{
	if (!now_ok(now))
		return STATE_E_BAD_FIELD;
	struct note_arg a = { now, STATE_JUMP_NONE };
	int rc = change(st, "note-time", do_note_time, &a);
	if (rc == 0 && jump)
		*jump = a.jump;
	return rc;
}

static int do_clear_lock(struct state *st, void *arg, bool *dirty)
{
	const struct state_now *now = arg;
	st->c.locked = 0;
	set_latest(&st->c, now->wall, now->mono, now->boot_id);
	*dirty = true;
	return 0;
}

static int do_set_lock(struct state *st, void *arg, bool *dirty)
{
	unsigned causes = *(const unsigned *)arg;
	if ((st->c.locked | causes) != st->c.locked) {
		st->c.locked |= causes;
		*dirty = true;
	}
	return 0;
}

int state_set_lock(struct state *st, unsigned causes)
{
	if (causes == 0 || (causes & ~STATE_LOCK_ALL) != 0)
		return STATE_E_ARG;
	return change(st, "set-lock", do_set_lock, &causes);
}

int state_clear_lock(struct state *st, const struct state_now *now)
{
	if (!now_ok(now))
		return STATE_E_BAD_FIELD;
	return change(st, "clear-lock", do_clear_lock, (void *)now);
}

/* ---- questions ------------------------------------------------------------------------ */

/* The handle has contents to answer from. */
static int readable(const struct state *st)
{
	return st ? st->fault : STATE_E_ARG;
}

static int cmp_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int state_grant_times(const struct state *st, const char *user, int64_t *out, size_t max,
                      size_t *n)
{
	int rc = readable(st);
	if (rc != 0)
		return rc;
	if (!user || !n || (max > 0 && !out))
		return STATE_E_ARG;
	int64_t cutoff = history_cutoff(&st->c);
	size_t count = 0;
	int64_t *all = malloc((st->c.nh ? st->c.nh : 1) * sizeof(*all));
	if (!all)
		return STATE_E_NOMEM;
	for (size_t i = 0; i < st->c.nh; i++)
		if (st->c.h[i].t >= cutoff && strcmp(st->c.h[i].user, user) == 0)
			all[count++] = st->c.h[i].t;
	qsort(all, count, sizeof(*all), cmp_time);
	size_t keep = count < max ? count : max;
	if (keep > 0)
		memcpy(out, all + (count - keep), keep * sizeof(*all));
	free(all);
	*n = keep;
	return 0;
}

int state_get(const struct state *st, uint64_t id, struct state_grant *rec)
{
	int rc = readable(st);
	if (rc != 0)
		return rc;
	if (!rec)
		return STATE_E_ARG;
	const struct state_grant *g = find_grant(&st->c, id);
	if (!g)
		return STATE_E_NOT_FOUND;
	*rec = *g;
	return 0;
}

int state_active(const struct state *st, const char *user, struct state_grant *rec)
{
	int rc = readable(st);
	if (rc != 0)
		return rc;
	if (!user || !rec)
		return STATE_E_ARG;
	const struct state_grant *best = NULL;
	for (size_t i = 0; i < st->c.ng; i++) {
		const struct state_grant *g = &st->c.g[i];
		if (g->phase == STATE_PHASE_GRANTED && strcmp(g->user, user) == 0 &&
		    (!best || g->expiry_wall >= best->expiry_wall))
			best = g;   /* ids ascend, so >= prefers the later of equal expiries */
	}
	if (!best)
		return STATE_E_NOT_FOUND;
	*rec = *best;
	return 0;
}

int64_t state_remaining(const struct state_grant *rec, const struct state_now *now)
{
	if (!rec || !now || strncmp(rec->boot_id, now->boot_id, sizeof(rec->boot_id)) != 0 ||
	    now->mono < rec->mono_start || now->wall >= rec->expiry_wall)
		return 0;
	int64_t elapsed = now->mono - rec->mono_start;
	if (elapsed >= (int64_t)rec->duration)
		return 0;
	int64_t left = (int64_t)rec->duration - elapsed;
	if (now->wall > rec->expiry_wall - left)
		left = rec->expiry_wall - now->wall;   /* the wall clock ran ahead: end sooner */
	return left;
}

/* Which records a list takes. */
typedef bool (*select_fn)(const struct state_grant *g, const void *arg);

static int collect(const struct state *st, select_fn sel, const void *arg, struct state_list *out)
{
	if (!out)
		return STATE_E_ARG;
	out->v = NULL;
	out->n = 0;
	int rc = readable(st);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < st->c.ng; i++) {
		if (!sel(&st->c.g[i], arg))
			continue;
		if (!out->v && !(out->v = malloc(st->c.ng * sizeof(*out->v))))
			return STATE_E_NOMEM;
		out->v[out->n++] = st->c.g[i];
	}
	return 0;
}

static bool sel_expired(const struct state_grant *g, const void *now)
{
	return g->phase == STATE_PHASE_GRANTED && state_remaining(g, now) == 0;
}

static bool sel_pending(const struct state_grant *g, const void *arg)
{
	(void)arg;
	return g->phase != STATE_PHASE_GRANTED;
}

static bool sel_user(const struct state_grant *g, const void *user)
{
	return strcmp(g->user, user) == 0;
}

int state_expired(const struct state *st, const struct state_now *now, struct state_list *out)
{
	if (!now)
		return STATE_E_ARG;
	return collect(st, sel_expired, now, out);
}

int state_pending_repairs(const struct state *st, struct state_list *out)
{
	return collect(st, sel_pending, NULL, out);
}

int state_user_grants(const struct state *st, const char *user, struct state_list *out)
{
	if (!user)
		return STATE_E_ARG;
	return collect(st, sel_user, user, out);
}

int state_other_live_grant(const struct state *st, const char *user, uint64_t except_id,
                           const struct state_now *now, bool *found)
{
	int rc = readable(st);
	if (rc != 0)
		return rc;
	if (!user || !now || !found)
		return STATE_E_ARG;
	bool any = false;
	for (size_t i = 0; i < st->c.ng && !any; i++) {
		const struct state_grant *g = &st->c.g[i];
		any = g->id != except_id && g->phase == STATE_PHASE_GRANTED &&
		      strcmp(g->user, user) == 0 && state_remaining(g, now) > 0;
	}
	*found = any;
	return 0;
}

void state_list_free(struct state_list *list)
{
	if (!list)
		return;
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

int state_lock_causes(const struct state *st, unsigned *causes)
{
	int rc = readable(st);
	if (rc == 0 && !causes)
		rc = STATE_E_ARG;
	if (rc == 0)
		*causes = st->c.locked;
	return rc;
}

int state_latest_time(const struct state *st, int64_t *latest)
{
	int rc = readable(st);
	if (rc == 0 && !latest)
		rc = STATE_E_ARG;
	if (rc == 0)
		*latest = st->c.latest;
	return rc;
}

int state_serialize(const struct state *st, char **out, size_t *len)
{
	int rc = readable(st);
	if (rc == 0 && (!out || !len))
		rc = STATE_E_ARG;
	return rc == 0 ? serialize(&st->c, out, len) : rc;
}

/* ---- clocks and the boot id ----------------------------------------------------------- */

/* Checks and copies a boot id of n bytes read from somewhere. */
static int take_boot_id(const char *s, size_t n, char *buf, size_t size)
{
	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (!boot_id_ok(s, n))
		return STATE_E_BOOT_ID;
	if (n >= size)
		return STATE_E_ARG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

static int boot_id_from_file(const char *path, char *buf, size_t size)
{
	char tmp[BOOT_ID_READ_MAX];
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return STATE_E_BOOT_ID;
	struct stat s;
	int rc = fstat(fd, &s) == 0 && S_ISREG(s.st_mode) ? 0 : STATE_E_BOOT_ID;
	if (rc == 0)
		rc = read_fd(fd, tmp, sizeof(tmp), &n) == 0 ? 0 : STATE_E_BOOT_ID;
	close_quietly(fd);
	return rc == 0 ? take_boot_id(tmp, n, buf, size) : rc;
}

#ifdef __APPLE__
/* kern.bootsessionuuid: a UUID made at each boot (macOS 10.13 and later). Untested. */
static int boot_id_from_sysctl(char *buf, size_t size)
{
	char tmp[BOOT_ID_READ_MAX];
	size_t n = sizeof(tmp);
	if (sysctlbyname("kern.bootsessionuuid", tmp, &n, NULL, 0) != 0 || n == 0 || n > sizeof(tmp))
		return STATE_E_BOOT_ID;
	if (tmp[n - 1] == '\0')
		n--;
	return take_boot_id(tmp, n, buf, size);
}
#endif

int state_read_boot_id(const char *path, char *buf, size_t size)
{
	if (!buf || size == 0)
		return STATE_E_ARG;
#ifdef __APPLE__
	if (!path)
		return boot_id_from_sysctl(buf, size);
#else
	if (!path)
		path = STATE_BOOT_ID_PATH;
#endif
	return boot_id_from_file(path, buf, size);
}

int state_read_clock(const char *boot_id_path, struct state_now *now)
{
	if (!now)
		return STATE_E_ARG;
	struct timespec wall, mono;
	char boot_id[sizeof(now->boot_id)];
	if (clock_gettime(CLOCK_REALTIME, &wall) != 0 || clock_gettime(STATE_MONO_CLOCK, &mono) != 0)
		return STATE_E_IO;
	int rc = state_read_boot_id(boot_id_path, boot_id, sizeof(boot_id));
	if (rc != 0)
		return rc;
	now->wall = (int64_t)wall.tv_sec;
	now->mono = (int64_t)mono.tv_sec;
	memcpy(now->boot_id, boot_id, sizeof(boot_id));
	return 0;
}
