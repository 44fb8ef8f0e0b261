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
#define LOCK_POLL_MS 10
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
	bool locked;                /* elevation locked after the clock went back */
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
	put_word(&b, c->locked ? "\nlocked 1\nnext-id" : "\nlocked 0\nnext-id");
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
		if (d > 9 || x > (max - d) / 10)
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

/* The four header lines. */
static int parse_header(struct cursor *cur, struct contents *c)
{
	struct tok line[4], f[2];
	uint64_t v;
	for (int i = 0; i < 4; i++)
		if (next_line(cur, &line[i]) != 1)
			return STATE_E_MALFORMED;
	int rc = parse_magic(&line[0]);
	if (rc != 0)
		return rc;
	if (!keyed(&line[1], "latest", f, 2) || !parse_time(&f[1], &c->latest))
		return STATE_E_MALFORMED;
	if (!keyed(&line[2], "locked", f, 2) || !parse_num(&f[1], 1, &v))
		return STATE_E_MALFORMED;
	c->locked = v == 1;
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
