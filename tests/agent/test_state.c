/*
 * test_state.c - the grant state store (runtime/agent/state.c) on real
 * files in a temporary directory: the documented file format byte for
 * byte and its round trip, hostile strings kept to one field, history
 * pruning and the per-user cap, grant times shaped for ep_request, every
 * step of the two-phase protocol, a crash (fork + _exit from the step
 * hook) and a failure at every step of a grant and a revocation, eight
 * processes racing for `limit 3 per day`, lock time-outs, expiry by the
 * monotonic clock and by boot id whatever the wall clock does, clock-back
 * detection that locks and persists, unsafe directories and files
 * refused, malformed files refused with the handle failing closed, and
 * random byte flips giving either the same content back or a clean error.
 */
#define _DEFAULT_SOURCE   /* mkdtemp, symlink, mkfifo via sys/stat */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ep.h"
#include "agent/state.h"
#include "agent/monoclock.h"
#include "helpers.h"

_Static_assert(STATE_HISTORY_PER_USER == EP_MAX_GRANTS, "history cap must match libep's");
_Static_assert(STATE_TIME_LIMIT == (INT64_C(1) << 40), "time range must match ep_request_valid");

#define T0    1714555800          /* 2024-05-01T09:30:00Z */
#define BOOT  "0f3c2a1e-5b7d-4c8e-9a6f-112233445566"
#define MONO0 10000000            /* the monotonic clock at T0 (115 days after boot) */


struct fx {
	char dir[64];
	char state[96], lock[96], temp[96];
	struct state_options opt;
};

/* ---- helpers ------------------------------------------------------------------ */

static void remove_tree(const char *path)
{
	struct stat s;
	if (lstat(path, &s) != 0)
		return;
	if (S_ISDIR(s.st_mode)) {
		(void)chmod(path, 0700);
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			char p[512];
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			remove_tree(p);
		}
		if (d)
			closedir(d);
		(void)rmdir(path);
	} else {
		(void)unlink(path);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/polc-state-XXXXXX");
	if (!mkdtemp(f->dir) || chmod(f->dir, 0700) != 0)
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->lock, sizeof(f->lock), "%s/lock", f->dir);
	snprintf(f->temp, sizeof(f->temp), "%s/state.tmp", f->dir);
	f->opt.lock_timeout_ms = 5000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	remove_tree(f->dir);
	free(f);
	return 0;
}

static struct state *open_ok(const struct fx *f)
{
	struct state *st = NULL;
	assert_int_equal(state_open_opt(f->dir, geteuid(), &f->opt, &st), STATE_OK);
	assert_non_null(st);
	return st;
}

static int open_rc(const struct fx *f)
{
	struct state *st = NULL;
	int rc = state_open_opt(f->dir, geteuid(), &f->opt, &st);
	if (rc == 0)
		state_close(st);
	else
		assert_null(st);
	return rc;
}


static void write_text(const char *path, const char *text)
{
	write_file(path, text, strlen(text), 0600);
}

/* The whole file, NUL-terminated; *len without the NUL. */
static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	assert_non_null(buf);
	for (;;) {
		n += fread(buf + n, 1, cap - n, fp);
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap + 1);
		assert_non_null(buf);
	}
	buf[n] = '\0';
	assert_int_equal(fclose(fp), 0);
	if (len)
		*len = n;
	return buf;
}

static bool exists(const char *path)
{
	struct stat s;
	return lstat(path, &s) == 0;
}

static void assert_file_text(const char *path, const char *text)
{
	size_t len;
	char *got = read_all(path, &len);
	assert_string_equal(got, text);
	free(got);
}

/* The handle's contents serialise to exactly the file's bytes. */
static void assert_handle_matches_file(const struct fx *f, const struct state *st)
{
	char *ser;
	size_t slen, flen;
	assert_int_equal(state_serialize(st, &ser, &slen), STATE_OK);
	char *file = read_all(f->state, &flen);
	assert_int_equal(slen, flen);
	assert_memory_equal(ser, file, slen);
	free(ser);
	free(file);
}

static struct state_grant make_rec(const char *user, int64_t start, uint32_t dur, int64_t mono,
                                   const char *boot)
{
	struct state_grant r;
	memset(&r, 0, sizeof(r));
	snprintf(r.user, sizeof(r.user), "%s", user);
	snprintf(r.rule, sizeof(r.rule), "%s", "developers");
	snprintf(r.reason, sizeof(r.reason), "%s", "install a driver");
	snprintf(r.boot_id, sizeof(r.boot_id), "%s", boot);
	r.start_wall = start;
	r.duration = dur;
	r.mono_start = mono;
	return r;
}

static uint64_t grant(struct state *st, const char *user, int64_t start)
{
	struct state_grant r = make_rec(user, start, 900, MONO0 + (start - T0), BOOT);
	uint64_t id = 0;
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_OK);
	assert_int_equal(state_commit_grant(st, id), STATE_OK);
	return id;
}

static void assert_same_grant(const struct state_grant *a, const struct state_grant *b)
{
	assert_string_equal(a->user, b->user);
	assert_string_equal(a->rule, b->rule);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->boot_id, b->boot_id);
	assert_int_equal(a->start_wall, b->start_wall);
	assert_int_equal(a->duration, b->duration);
	assert_int_equal(a->mono_start, b->mono_start);
	assert_int_equal(a->start_wall + a->duration, b->expiry_wall);
}

static size_t count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void reap(pid_t pid, int expect)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), expect);
}

static struct state_now now_at(int64_t wall, int64_t mono, const char *boot)
{
	struct state_now n;
	memset(&n, 0, sizeof(n));
	n.wall = wall;
	n.mono = mono;
	snprintf(n.boot_id, sizeof(n.boot_id), "%s", boot);
	return n;
}

/* A reading at wall time t in BOOT, the monotonic clock keeping pace with
 * it (no jump); from a ring of eight, so several may be used in one call. */
static const struct state_now *at(int64_t t)
{
	static struct state_now ring[8];
	static unsigned next;
	struct state_now *n = &ring[next++ % 8];
	*n = now_at(t, MONO0 + (t - T0), BOOT);
	return n;
}

/* ---- format and round trip ------------------------------------------------------ */

static void test_new_state_is_empty(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	int64_t times[4];
	size_t n = 99;
	unsigned locked = 99;
	int64_t latest = -1;
	struct state_list l;
	assert_int_equal(state_grant_times(st, "alice", times, 4, &n), STATE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(state_lock_causes(st, &locked), STATE_OK);
	assert_int_equal(locked, 0);
	assert_int_equal(state_latest_time(st, &latest), STATE_OK);
	assert_int_equal(latest, 0);
	assert_int_equal(state_pending_repairs(st, &l), STATE_OK);
	assert_int_equal(l.n, 0);
	state_list_free(&l);
	char *ser;
	size_t len;
	assert_int_equal(state_serialize(st, &ser, &len), STATE_OK);
	assert_int_equal(len, strlen("elevate-state 1\nlatest 0\nlocked 0\nnext-id 1\nend\n"));
	assert_memory_equal(ser, "elevate-state 1\nlatest 0\nlocked 0\nnext-id 1\nend\n", len);
	free(ser);
	/* Opening reads only: nothing is created until the first lock or change. */
	assert_false(exists(f->state));
	assert_false(exists(f->lock));
	state_close(st);
}

static void test_round_trip_and_exact_format(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	struct state_grant a = make_rec("alice", T0, 900, MONO0, BOOT);
	uint64_t ida, idb;
	assert_int_equal(state_begin_grant(st, &a, &ida), STATE_OK);
	assert_int_equal(ida, 1);
	assert_file_text(f->state,
		"elevate-state 1\n"
		"latest 1714555800 10000000 " BOOT "\n"
		"locked 0\n"
		"next-id 2\n"
		"grant 1 intent alice developers 1714555800 1714556700 900 " BOOT " 10000000 install%20a%20driver\n"
		"history alice 1714555800\n"
		"end\n");
	assert_int_equal(state_commit_grant(st, ida), STATE_OK);
	struct state_grant b = make_rec("bob", T0 + 60, 3600, MONO0 + 60, BOOT);
	b.rule[0] = '\0';      /* decided by otherwise */
	b.reason[0] = '\0';    /* no reason asked */
	assert_int_equal(state_begin_grant(st, &b, &idb), STATE_OK);
	assert_int_equal(idb, 2);
	assert_int_equal(state_note_time(st, at(T0 + 120), NULL), STATE_OK);
	state_close(st);

	assert_file_text(f->state,
		"elevate-state 1\n"
		"latest 1714555920 10000120 " BOOT "\n"
		"locked 0\n"
		"next-id 3\n"
		"grant 1 granted alice developers 1714555800 1714556700 900 " BOOT " 10000000 install%20a%20driver\n"
		"grant 2 intent bob - 1714555860 1714559460 3600 " BOOT " 10000060 -\n"
		"history alice 1714555800\n"
		"history bob 1714555860\n"
		"end\n");
	struct stat s;
	assert_int_equal(stat(f->state, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_uid, geteuid());
	assert_false(exists(f->temp));

	st = open_ok(f);
	struct state_grant got;
	assert_int_equal(state_get(st, ida, &got), STATE_OK);
	assert_same_grant(&a, &got);
	assert_int_equal(got.id, ida);
	assert_int_equal(got.phase, STATE_PHASE_GRANTED);
	assert_int_equal(state_get(st, idb, &got), STATE_OK);
	assert_same_grant(&b, &got);
	assert_int_equal(got.phase, STATE_PHASE_INTENT);
	assert_int_equal(state_get(st, 3, &got), STATE_E_NOT_FOUND);
	assert_int_equal(state_active(st, "alice", &got), STATE_OK);
	assert_int_equal(got.id, ida);
	assert_int_equal(state_active(st, "bob", &got), STATE_E_NOT_FOUND);   /* intent only */
	assert_handle_matches_file(f, st);
	state_close(st);
}

static void test_hostile_strings_stay_in_their_field(void **state)
{
	struct fx *f = *state;
	static const char *const texts[] = {
		"-", "--", "a-b", "%", "%25", "%2D", "100% sure", "two  spaces", " lead", "trail ",
		"line\nbreak\nhistory mallory 1\nend", "tab\there", "cr\r\n", "caf\xc3\xa9 \xe2\x9c\x93",
		"\x7f\x80\xff", "grant 9 granted root", "+", "~!@#$^&*()_=[]{}|;:'\",.<>/?`",
	};
	struct state *st = open_ok(f);
	uint64_t ids[sizeof(texts) / sizeof(texts[0])];
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct state_grant r = make_rec(texts[i], T0 + (int64_t)i, 60, 10, BOOT);
		snprintf(r.rule, sizeof(r.rule), "%s", texts[i]);
		snprintf(r.reason, sizeof(r.reason), "reason: %s", texts[i]);
		assert_int_equal(state_begin_grant(st, &r, &ids[i]), STATE_OK);
	}
	/* The longest of everything. */
	struct state_grant big = make_rec("x", T0 + 100, STATE_DURATION_MAX, (int64_t)STATE_TIME_LIMIT - 1,
	                                  "0123456789012345678901234567890123456789012345678901234567890123");
	memset(big.user, 0xfe, STATE_NAME_MAX);
	big.user[STATE_NAME_MAX] = '\0';
	memset(big.rule, ' ', STATE_NAME_MAX);
	big.rule[STATE_NAME_MAX] = '\0';
	memset(big.reason, '%', STATE_REASON_MAX);
	big.reason[STATE_REASON_MAX] = '\0';
	uint64_t bigid;
	assert_int_equal(state_begin_grant(st, &big, &bigid), STATE_OK);
	state_close(st);

	size_t len;
	char *text = read_all(f->state, &len);
	size_t nrec = sizeof(texts) / sizeof(texts[0]) + 1;
	assert_int_equal(count_lines_with(text, "\n"), 4 + 2 * nrec + 1);   /* one line per record */
	assert_int_equal(count_lines_with(text, "\ngrant "), nrec);
	assert_int_equal(count_lines_with(text, "\nhistory "), nrec);
	for (size_t i = 0; i < len; i++)
		assert_true(text[i] == '\n' || (text[i] >= 0x20 && text[i] < 0x7f));
	free(text);

	st = open_ok(f);
	struct state_grant got;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char reason[STATE_REASON_MAX + 1];
		snprintf(reason, sizeof(reason), "reason: %s", texts[i]);
		assert_int_equal(state_get(st, ids[i], &got), STATE_OK);
		assert_string_equal(got.user, texts[i]);
		assert_string_equal(got.rule, texts[i]);
		assert_string_equal(got.reason, reason);
		int64_t t;
		size_t n;
		assert_int_equal(state_grant_times(st, texts[i], &t, 1, &n), STATE_OK);
		assert_int_equal(n, 1);
		assert_int_equal(t, T0 + (int64_t)i);
	}
	assert_int_equal(state_get(st, bigid, &got), STATE_OK);
	assert_same_grant(&big, &got);
	assert_handle_matches_file(f, st);
	state_close(st);
}

static void test_bad_fields_refused(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	struct state_grant r;
	uint64_t id;
#define REFUSE(mutate) do { \
		r = make_rec("alice", T0, 900, 10, BOOT); \
		mutate; \
		assert_int_equal(state_begin_grant(st, &r, &id), STATE_E_BAD_FIELD); \
	} while (0)
	REFUSE(r.user[0] = '\0');
	REFUSE(memset(r.user, 'u', sizeof(r.user)));                 /* no NUL within 256 */
	REFUSE(memset(r.rule, 'r', sizeof(r.rule)));
	REFUSE(memset(r.reason, 'r', sizeof(r.reason)));
	REFUSE(r.boot_id[0] = '\0');
	REFUSE(snprintf(r.boot_id, sizeof(r.boot_id), "boot id"));
	REFUSE(snprintf(r.boot_id, sizeof(r.boot_id), "b/1"));
	REFUSE(r.duration = 0);
	REFUSE(r.duration = STATE_DURATION_MAX + 1);
	REFUSE(r.start_wall = -1);
	REFUSE(r.start_wall = STATE_TIME_LIMIT - 10);                 /* expiry out of range */
	REFUSE(r.mono_start = -1);
	REFUSE(r.mono_start = STATE_TIME_LIMIT);
#undef REFUSE
	r = make_rec("alice", T0, 900, 10, BOOT);
	assert_int_equal(state_begin_grant(st, NULL, &id), STATE_E_ARG);
	assert_int_equal(state_begin_grant(st, &r, NULL), STATE_E_ARG);
	assert_int_equal(state_begin_grant(NULL, &r, &id), STATE_E_ARG);
	assert_int_equal(state_note_time(st, at(-1), NULL), STATE_E_BAD_FIELD);
	assert_int_equal(state_clear_lock(st, at(STATE_TIME_LIMIT)), STATE_E_BAD_FIELD);
	assert_false(exists(f->state));   /* nothing was written */
	state_close(st);
}

/* ---- history and limits ----------------------------------------------------------- */

static void test_history_pruned_after_400_days(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	const int64_t day = 86400;
	int64_t when[] = { T0, T0 + 10 * day, T0 + 100 * day, T0 + 300 * day };
	for (size_t i = 0; i < 4; i++) {
		uint64_t id = grant(st, "alice", when[i]);
		assert_int_equal(state_begin_revoke(st, id), STATE_OK);
		assert_int_equal(state_finish_revoke(st, id), STATE_OK);
		if (i == 0)
			(void)grant(st, "bob", T0 + 5 * day);   /* id 2, kept active */
	}
	int64_t t[8];
	size_t n;
	assert_int_equal(state_grant_times(st, "alice", t, 8, &n), STATE_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(t, when, sizeof(when));

	/* 406 days after T0: T0 and T0 + 5 days are more than 400 days old, T0 + 10 days is not. */
	assert_int_equal(state_note_time(st, at(T0 + 406 * day), NULL), STATE_OK);
	assert_int_equal(state_grant_times(st, "alice", t, 8, &n), STATE_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(t, when + 1, 3 * sizeof(int64_t));
	assert_int_equal(state_grant_times(st, "bob", t, 8, &n), STATE_OK);
	assert_int_equal(n, 0);
	char *text = read_all(f->state, NULL);
	assert_null(strstr(text, "history alice 1714555800\n"));
	assert_null(strstr(text, "history bob "));
	assert_non_null(strstr(text, "history alice 1715419800\n"));
	/* The active record outlives its history entry: pruning only touches history. */
	assert_non_null(strstr(text, "grant 2 granted bob "));
	free(text);
	state_close(st);

	/* A file whose history has aged without a write since: old entries are not counted. */
	write_text(f->state,
		"elevate-state 1\nlatest 1749000000\nlocked 0\nnext-id 1\n"
		"history carol 1700000000\nhistory carol 1748999000\nend\n");
	st = open_ok(f);
	assert_int_equal(state_grant_times(st, "carol", t, 8, &n), STATE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(t[0], 1748999000);
	assert_handle_matches_file(f, st);   /* nothing pruned until the next write */
	state_close(st);
}

static void test_grant_times_feed_ep_request(void **state)
{
	struct fx *f = *state;
	f->opt.clock_tolerance = 4 * 86400;
	struct state *st = open_ok(f);
	const int64_t when[] = { T0 - 3 * 86400, T0 - 3600, T0 - 60, T0, T0 + 30 };
	/* Out of order on purpose: the clock may step back within the tolerance (4 days here). */
	const int order[] = { 3, 0, 2, 1, 4 };
	for (size_t i = 0; i < 5; i++)
		(void)grant(st, "alice", when[order[i]]);
	(void)grant(st, "bob", T0);
	(void)grant(st, "alicex", T0);

	static int64_t buf[EP_MAX_GRANTS];
	size_t n;
	assert_int_equal(state_grant_times(st, "alice", buf, EP_MAX_GRANTS, &n), STATE_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, when, sizeof(when));   /* oldest first */
	struct ep_request req = { .user = "alice", .host = "", .now = T0 + 60, .grants = buf, .ngrants = n };
	assert_true(req.ngrants <= EP_MAX_GRANTS);
	size_t today = 0;
	for (size_t i = 0; i < req.ngrants; i++) {
		assert_true(req.grants[i] >= 0 && req.grants[i] < (INT64_C(1) << 40));
		today += req.grants[i] / 86400 == req.now / 86400;
	}
	assert_int_equal(today, 4);   /* what `limit N per day` counts in UTC */

	/* Fewer slots than grants: the most recent ones, still oldest first. */
	assert_int_equal(state_grant_times(st, "alice", buf, 2, &n), STATE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(buf[0], T0);
	assert_int_equal(buf[1], T0 + 30);
	assert_int_equal(state_grant_times(st, "alice", NULL, 0, &n), STATE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(state_grant_times(st, "alice", NULL, 1, &n), STATE_E_ARG);
	assert_int_equal(state_grant_times(st, "nobody", buf, 4, &n), STATE_OK);
	assert_int_equal(n, 0);
	state_close(st);
}

static void test_history_capped_per_user(void **state)
{
	struct fx *f = *state;
	size_t cap = 64 + (size_t)STATE_HISTORY_PER_USER * 32, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text, cap, "elevate-state 1\nlatest %d\nlocked 0\nnext-id 1\n", T0 + 20000);
	for (int i = 0; i < STATE_HISTORY_PER_USER; i++)
		len += (size_t)snprintf(text + len, cap - len, "history alice %d\n", T0 + i);
	len += (size_t)snprintf(text + len, cap - len, "history bob %d\nend\n", T0);
	write_file(f->state, text, len, 0600);
	free(text);

	struct state *st = open_ok(f);
	static int64_t t[EP_MAX_GRANTS + 1];
	size_t n;
	assert_int_equal(state_grant_times(st, "alice", t, EP_MAX_GRANTS + 1, &n), STATE_OK);
	assert_int_equal(n, STATE_HISTORY_PER_USER);
	(void)grant(st, "alice", T0 + 20000);
	assert_int_equal(state_grant_times(st, "alice", t, EP_MAX_GRANTS + 1, &n), STATE_OK);
	assert_int_equal(n, STATE_HISTORY_PER_USER);   /* the oldest made room */
	assert_int_equal(t[0], T0 + 1);
	assert_int_equal(t[n - 1], T0 + 20000);
	assert_int_equal(state_grant_times(st, "bob", t, 4, &n), STATE_OK);
	assert_int_equal(n, 1);   /* other users untouched */
	state_close(st);
}

/* ---- the two-phase protocol ------------------------------------------------------------ */

static size_t pending_count(const struct state *st, enum state_phase phase)
{
	struct state_list l;
	size_t n = 0;
	assert_int_equal(state_pending_repairs(st, &l), STATE_OK);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_not_equal(l.v[i].phase, STATE_PHASE_GRANTED);
		n += l.v[i].phase == phase;
	}
	state_list_free(&l);
	return n;
}

static void test_two_phase_protocol(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	struct state_grant r = make_rec("alice", T0, 900, 10, BOOT), got;
	uint64_t id;
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_OK);
	assert_int_equal(pending_count(st, STATE_PHASE_INTENT), 1);
	assert_int_equal(state_finish_revoke(st, id), STATE_E_PHASE);
	assert_int_equal(state_commit_grant(st, id), STATE_OK);
	assert_int_equal(pending_count(st, STATE_PHASE_INTENT), 0);
	assert_int_equal(state_commit_grant(st, id), STATE_E_PHASE);
	assert_int_equal(state_finish_revoke(st, id), STATE_E_PHASE);
	assert_int_equal(state_begin_revoke(st, id), STATE_OK);
	assert_int_equal(pending_count(st, STATE_PHASE_REVOKING), 1);
	assert_int_equal(state_commit_grant(st, id), STATE_E_PHASE);
	/* Again: nothing to do, nothing written. */
	char *before = read_all(f->state, NULL);
	assert_int_equal(state_begin_revoke(st, id), STATE_OK);
	char *after = read_all(f->state, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(state_finish_revoke(st, id), STATE_OK);
	assert_int_equal(state_get(st, id, &got), STATE_E_NOT_FOUND);
	assert_int_equal(state_finish_revoke(st, id), STATE_E_NOT_FOUND);
	assert_int_equal(state_begin_revoke(st, id), STATE_E_NOT_FOUND);
	assert_int_equal(state_commit_grant(st, id), STATE_E_NOT_FOUND);
	assert_int_equal(pending_count(st, STATE_PHASE_REVOKING), 0);

	/* Rolling back an intent goes through revoking too; the attempt still counts. */
	uint64_t id2;
	r.start_wall = T0 + 10;
	assert_int_equal(state_begin_grant(st, &r, &id2), STATE_OK);
	assert_true(id2 > id);   /* ids are never reused */
	assert_int_equal(state_begin_revoke(st, id2), STATE_OK);
	assert_int_equal(state_finish_revoke(st, id2), STATE_OK);
	int64_t t[4];
	size_t n;
	assert_int_equal(state_grant_times(st, "alice", t, 4, &n), STATE_OK);
	assert_int_equal(n, 2);

	/* Several records for one user; state_active is the one that ends last. */
	uint64_t a1 = grant(st, "alice", T0 + 100), a2 = grant(st, "alice", T0 + 200);
	struct state_list l;
	assert_int_equal(state_user_grants(st, "alice", &l), STATE_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].id, a1);
	assert_int_equal(l.v[1].id, a2);
	state_list_free(&l);
	assert_int_equal(state_active(st, "alice", &got), STATE_OK);
	assert_int_equal(got.id, a2);
	struct state_now now = *at(T0 + 300);
	bool other;
	assert_int_equal(state_other_live_grant(st, "alice", a1, &now, &other), STATE_OK);
	assert_true(other);    /* revoking a1 must leave alice in the group */
	assert_int_equal(state_begin_revoke(st, a2), STATE_OK);
	assert_int_equal(state_other_live_grant(st, "alice", a1, &now, &other), STATE_OK);
	assert_false(other);   /* a2 is being revoked: a1 is the last */
	assert_int_equal(state_other_live_grant(st, "alice", a2, &now, &other), STATE_OK);
	assert_true(other);
	now.mono = 1000 + 900;   /* both have run out */
	assert_int_equal(state_other_live_grant(st, "alice", a2, &now, &other), STATE_OK);
	assert_false(other);
	state_close(st);
}

/* ---- crashes and failures at every step -------------------------------------------------- */

/*
 * Points of the protocol, counted across the step hook's calls and the
 * simulated group changes (a marker file stands for "alice is in the
 * admin group"):
 *   1 lock        2 begin-grant temp  3 begin-grant renamed  4 user added
 *   5 commit temp 6 commit renamed    7 lock                 8 begin-revoke temp
 *   9 begin-revoke renamed  10 user removed  11 finish-revoke temp  12 finish-revoke renamed
 */
#define PROTOCOL_POINTS 12

struct crash {
	int target;                 /* stop at this point; 0: never */
	int point;
	bool fail;                  /* make the step fail instead of dying */
	enum state_step last_step;
};

static int crash_hook(void *arg, enum state_step step, const char *op)
{
	struct crash *c = arg;
	(void)op;
	c->last_step = step;
	if (++c->point != c->target)
		return 0;
	if (c->fail)
		return 1;
	_exit(42);
}

static void user_point(struct crash *c)
{
	if (++c->point == c->target)
		_exit(42);
}

static void marker_path(const struct fx *f, char *buf, size_t size)
{
	snprintf(buf, size, "%s/member", f->dir);
}

/* The agent's grant then revocation of alice; 0 when it ran to the end. */
static int run_protocol(const struct fx *f, struct crash *c)
{
	struct state_options opt = f->opt;
	opt.step_hook = crash_hook;
	opt.step_arg = c;
	struct state *st;
	char marker[128];
	marker_path(f, marker, sizeof(marker));
	if (state_open_opt(f->dir, geteuid(), &opt, &st) != 0)
		return 1;
	struct state_grant r = make_rec("alice", T0, 900, 10, BOOT);
	uint64_t id;
	int rc = 2;
	if (state_lock(st, 0) == 0 && state_begin_grant(st, &r, &id) == 0) {
		write_text(marker, "alice\n");
		user_point(c);
		rc = state_commit_grant(st, id) == 0 ? 0 : 3;
		state_unlock(st);
	}
	if (rc == 0 && (state_lock(st, 0) != 0 || state_begin_revoke(st, id) != 0))
		rc = 4;
	if (rc == 0) {
		assert_int_equal(unlink(marker), 0);
		user_point(c);
		rc = state_finish_revoke(st, id) == 0 ? 0 : 5;
	}
	state_close(st);
	return rc;
}

/* elevate sweep, simulated: roll back intents, finish revocations, revoke what has expired. */
static void sweep(const struct fx *f, const struct state_now *now)
{
	char marker[128];
	marker_path(f, marker, sizeof(marker));
	struct state *st = open_ok(f);
	assert_int_equal(state_lock(st, 0), STATE_OK);
	struct state_list lists[2];
	assert_int_equal(state_pending_repairs(st, &lists[0]), STATE_OK);
	assert_int_equal(state_expired(st, now, &lists[1]), STATE_OK);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < lists[k].n; i++) {
			uint64_t id = lists[k].v[i].id;
			bool other;
			assert_int_equal(state_begin_revoke(st, id), STATE_OK);
			assert_int_equal(state_other_live_grant(st, "alice", id, now, &other), STATE_OK);
			assert_false(other);
			(void)unlink(marker);
			assert_int_equal(state_finish_revoke(st, id), STATE_OK);
		}
		state_list_free(&lists[k]);
	}
	state_unlock(st);
	state_close(st);
}

static void test_crash_at_every_step(void **state)
{
	struct fx *f = *state;
	/* After a crash at point i: alice's record (-1 none) and whether she is in the group. */
	static const int phase[PROTOCOL_POINTS + 2] = {
		-1, -1, -1, STATE_PHASE_INTENT, STATE_PHASE_INTENT, STATE_PHASE_INTENT,
		STATE_PHASE_GRANTED, STATE_PHASE_GRANTED, STATE_PHASE_GRANTED, STATE_PHASE_REVOKING,
		STATE_PHASE_REVOKING, STATE_PHASE_REVOKING, -1, -1 };
	static const bool member[PROTOCOL_POINTS + 2] = {
		0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
	char marker[128];
	marker_path(f, marker, sizeof(marker));
	for (int target = 1; target <= PROTOCOL_POINTS + 1; target++) {
		(void)unlink(f->state);
		(void)unlink(marker);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct crash c = { .target = target };
			_exit(run_protocol(f, &c));
		}
		reap(pid, target <= PROTOCOL_POINTS ? 42 : 0);

		struct state *st = open_ok(f);   /* never torn, never malformed */
		struct state_list l;
		assert_int_equal(state_user_grants(st, "alice", &l), STATE_OK);
		assert_int_equal(l.n, phase[target] < 0 ? 0 : 1);
		if (l.n == 1)
			assert_int_equal(l.v[0].phase, phase[target]);
		state_list_free(&l);
		assert_int_equal(exists(marker), member[target]);
		/* Nobody is in the group without a record; every half-done record is reported. */
		size_t repairs = pending_count(st, STATE_PHASE_INTENT) + pending_count(st, STATE_PHASE_REVOKING);
		assert_int_equal(repairs, phase[target] == STATE_PHASE_INTENT || phase[target] == STATE_PHASE_REVOKING);
		int64_t t;
		size_t n;
		assert_int_equal(state_grant_times(st, "alice", &t, 1, &n), STATE_OK);
		assert_int_equal(n, target >= 3 ? 1 : 0);   /* counted from the intent on */
		state_close(st);
		assert_int_equal(exists(f->temp), target == 2 || target == 5 || target == 8 || target == 11);

		/* The sweep leaves nobody in the group and nothing pending. */
		struct state_now after = now_at(T0 + 900, 10 + 900, BOOT);
		sweep(f, &after);
		st = open_ok(f);
		assert_int_equal(state_user_grants(st, "alice", &l), STATE_OK);
		assert_int_equal(l.n, 0);
		state_list_free(&l);
		state_close(st);
		assert_false(exists(marker));
		/* And the next grant works, replacing any stale temporary file. */
		struct crash none = { 0 };
		assert_int_equal(run_protocol(f, &none), 0);
		assert_false(exists(f->temp));
	}
}

static void test_failure_at_every_step(void **state)
{
	struct fx *f = *state;
	for (int target = 1; target <= PROTOCOL_POINTS; target++) {
		if (target == 4 || target == 10)
			continue;   /* group changes, not store steps */
		int hook_target = target - (target > 4) - (target > 10);
		(void)unlink(f->state);
		struct crash c = { .target = hook_target, .fail = true };
		struct state_options opt = f->opt;
		opt.step_hook = crash_hook;
		opt.step_arg = &c;
		struct state *st;
		assert_int_equal(state_open_opt(f->dir, geteuid(), &opt, &st), STATE_OK);
		struct state_grant r = make_rec("alice", T0, 900, 10, BOOT);
		uint64_t id = 0;
		int rc = 0, step = 0;
		char *before = NULL;
		for (step = 0; step < 7 && rc == 0; step++) {
			free(before);
			before = exists(f->state) ? read_all(f->state, NULL) : NULL;
			switch (step) {
			case 0: case 3: rc = state_lock(st, 0); break;
			case 1: rc = state_begin_grant(st, &r, &id); break;
			case 2: rc = state_commit_grant(st, id); state_unlock(st); break;
			case 4: rc = state_begin_revoke(st, id); break;
			case 5: rc = state_finish_revoke(st, id); break;
			default: state_unlock(st); break;
			}
		}
		assert_int_equal(rc, STATE_E_HOOK);
		assert_false(exists(f->temp));
		char *now = exists(f->state) ? read_all(f->state, NULL) : NULL;
		if (c.last_step == STATE_STEP_RENAMED) {
			assert_non_null(now);   /* the change is on disk, and shown */
			assert_true(!before || strcmp(before, now) != 0);
		} else if (before) {
			assert_string_equal(before, now);   /* nothing changed on disk, or in the handle */
		} else {
			assert_null(now);
		}
		if (now)
			assert_handle_matches_file(f, st);
		free(before);
		free(now);
		state_close(st);
	}
}

/* ---- locking and concurrency --------------------------------------------------------------- */

/* One request: lock, count today's grants, grant if fewer than three, unlock. */
static int limited_request(const struct fx *f, int64_t now)
{
	struct state *st;
	if (state_open_opt(f->dir, geteuid(), &f->opt, &st) != 0)
		return 2;
	int64_t times[64];
	size_t n, today = 0;
	int rc = 2;
	if (state_lock(st, 20000) == 0 && state_grant_times(st, "alice", times, 64, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			today += times[i] / 86400 == now / 86400;
		struct timespec pause_ts = { 0, 20 * 1000000L };   /* widen the window for a race */
		nanosleep(&pause_ts, NULL);
		rc = 1;
		if (today < 3) {
			struct state_grant r = make_rec("alice", now, 600, 100, BOOT);
			uint64_t id;
			rc = state_begin_grant(st, &r, &id) == 0 && state_commit_grant(st, id) == 0 ? 0 : 2;
		}
	}
	state_unlock(st);
	state_close(st);
	return rc;
}

static void test_eight_requests_limit_three(void **state)
{
	struct fx *f = *state;
	int gate[2];
	pid_t pids[8];
	assert_int_equal(pipe(gate), 0);
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char c;
			(void)close(gate[1]);
			if (read(gate[0], &c, 1) != 0)   /* all start when the parent closes the pipe */
				_exit(3);
			_exit(limited_request(f, T0 + i));
		}
	}
	assert_int_equal(close(gate[0]), 0);
	assert_int_equal(close(gate[1]), 0);
	int granted = 0, denied = 0;
	for (int i = 0; i < 8; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		granted += WEXITSTATUS(status) == 0;
		denied += WEXITSTATUS(status) == 1;
	}
	assert_int_equal(granted, 3);
	assert_int_equal(denied, 5);
	struct state *st = open_ok(f);
	struct state_list l;
	int64_t t[8];
	size_t n;
	assert_int_equal(state_user_grants(st, "alice", &l), STATE_OK);
	assert_int_equal(l.n, 3);
	state_list_free(&l);
	assert_int_equal(state_grant_times(st, "alice", t, 8, &n), STATE_OK);
	assert_int_equal(n, 3);
	assert_handle_matches_file(f, st);
	state_close(st);
}

/* A child holding the lock through its own handle, for ms (or until killed if < 0, 30 s at most). */
static pid_t hold_lock(const struct fx *f, int ms)
{
	int p[2];
	char c;
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *st;
		if (state_open(f->dir, geteuid(), &st) != 0 || state_lock(st, 1000) != 0 ||
		    write(p[1], "x", 1) != 1)
			_exit(1);
		if (ms < 0)
			ms = 30000;   /* never outlive a failed test for long */
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		_exit(0);
	}
	assert_int_equal(close(p[1]), 0);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(close(p[0]), 0);
	return pid;
}

static void test_lock_waits_and_times_out(void **state)
{
	struct fx *f = *state;
	f->opt.lock_timeout_ms = 200;
	struct state *st = open_ok(f);
	pid_t pid = hold_lock(f, 400);
	long long start = monoclock_ms();
	assert_int_equal(state_lock(st, 10000), STATE_OK);
	assert_true(monoclock_ms() - start >= 250);
	reap(pid, 0);
	assert_int_equal(state_lock(st, 100), STATE_E_ARG);   /* already held */
	state_unlock(st);
	state_unlock(st);   /* harmless */

	pid = hold_lock(f, -1);
	start = monoclock_ms();
	assert_int_equal(state_lock(st, 200), STATE_E_LOCK_TIMEOUT);
	/* A change without the lock waits for it too, and changes nothing. */
	assert_int_equal(state_note_time(st, at(T0), NULL), STATE_E_LOCK_TIMEOUT);
	long long took = monoclock_ms() - start;
	assert_true(took >= 400 && took < 5000);
	assert_false(exists(f->state));
	assert_int_equal(kill(pid, SIGKILL), 0);   /* a dead holder's lock is released */
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(state_note_time(st, at(T0), NULL), STATE_OK);
	assert_true(exists(f->state));
	struct stat s;
	assert_int_equal(stat(f->lock, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	state_close(st);
}

/* ---- expiry ------------------------------------------------------------------------------- */

static void test_expiry_by_monotonic_time(void **state)
{
	struct fx *f = *state;
	const int64_t W = T0, M = 1000;
	struct state *st = open_ok(f);
	struct state_grant r = make_rec("alice", W, 600, M, BOOT), g;
	uint64_t id;
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_OK);
	assert_int_equal(state_commit_grant(st, id), STATE_OK);
	assert_int_equal(state_get(st, id, &g), STATE_OK);
	struct state_list l;
	struct state_now now = now_at(W + 599, M + 599, BOOT);
	assert_int_equal(state_remaining(&g, &now), 1);
	assert_int_equal(state_expired(st, &now, &l), STATE_OK);
	assert_int_equal(l.n, 0);
	now = now_at(W + 600, M + 600, BOOT);
	assert_int_equal(state_remaining(&g, &now), 0);
	assert_int_equal(state_expired(st, &now, &l), STATE_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, id);
	state_list_free(&l);

	/* The wall clock set back a day: still 300 s left by the monotonic clock, not a day more. */
	now = now_at(W - 86400, M + 300, BOOT);
	assert_int_equal(state_remaining(&g, &now), 300);
	/* Wall clock frozen at the start: the monotonic clock ends it anyway. */
	now = now_at(W, M + 600, BOOT);
	assert_int_equal(state_remaining(&g, &now), 0);
	assert_int_equal(state_expired(st, &now, &l), STATE_OK);
	assert_int_equal(l.n, 1);
	state_list_free(&l);
	/* The wall clock set forward past the expiry ends it early, never later. */
	now = now_at(W + 10000, M + 300, BOOT);
	assert_int_equal(state_remaining(&g, &now), 0);
	now = now_at(W + 500, M + 300, BOOT);
	assert_int_equal(state_remaining(&g, &now), 100);
	/* The monotonic clock behind the start cannot happen in one boot: treated as over. */
	now = now_at(W + 10, M - 1, BOOT);
	assert_int_equal(state_remaining(&g, &now), 0);
	/* Whatever the wall clock says, never more than the monotonic time left. */
	uint32_t x = 12345;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		int64_t mono = M + (int64_t)(x % 700);
		int64_t wall = (int64_t)(x % 3) == 0 ? INT64_MIN + (int64_t)x : W - 86400 * 400 + (int64_t)(x % (86400u * 800));
		now = now_at(wall, mono, BOOT);
		int64_t left = state_remaining(&g, &now);
		if (mono - M >= 600)
			assert_int_equal(left, 0);
		else
			assert_true(left >= 0 && left <= 600 - (mono - M));
	}
	assert_int_equal(state_remaining(NULL, &now), 0);
	assert_int_equal(state_remaining(&g, NULL), 0);
	state_close(st);
}

static void test_expiry_by_boot_id(void **state)
{
	struct fx *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/boot_id", f->dir);
	write_text(path, "aaaa-1111\n");
	struct state_now now;
	assert_int_equal(state_read_clock(path, &now), STATE_OK);
	assert_string_equal(now.boot_id, "aaaa-1111");
	assert_true(now.wall >= T0 && now.mono >= 0);

	struct state *st = open_ok(f);
	struct state_grant r = make_rec("alice", now.wall, 600, now.mono, now.boot_id);
	uint64_t id;
	struct state_list l;
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_OK);
	assert_int_equal(state_commit_grant(st, id), STATE_OK);
	assert_int_equal(state_expired(st, &now, &l), STATE_OK);
	assert_int_equal(l.n, 0);
	/* A reboot: new boot id, and the monotonic clock starts again near zero. */
	write_text(path, "bbbb-2222");
	assert_int_equal(state_read_clock(path, &now), STATE_OK);
	assert_string_equal(now.boot_id, "bbbb-2222");
	now.mono = r.mono_start + 1;   /* even a monotonic reading that looks fresh */
	assert_int_equal(state_expired(st, &now, &l), STATE_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, id);
	state_list_free(&l);
	state_close(st);

	/* Boot id files that are refused. */
	static const char *const bad[] = { "", "\n", "a b\n", "aaaa\nbbbb\n", "aaaa\n\n", "a/b",
		"00000000001111111111222222222233333333334444444444555555555566666", "\xc3\xa9" };
	char buf[STATE_BOOT_ID_MAX + 1];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i]);
		assert_int_equal(state_read_boot_id(path, buf, sizeof(buf)), STATE_E_BOOT_ID);
		assert_int_equal(state_read_clock(path, &now), STATE_E_BOOT_ID);
	}
	write_text(path, "0000000000111111111122222222223333333333444444444455555555556666");
	assert_int_equal(state_read_boot_id(path, buf, sizeof(buf)), STATE_OK);   /* 64 is the most */
	assert_int_equal(state_read_boot_id(path, buf, 10), STATE_E_ARG);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(state_read_boot_id(path, buf, sizeof(buf)), STATE_E_BOOT_ID);
	assert_int_equal(state_read_boot_id(f->dir, buf, sizeof(buf)), STATE_E_BOOT_ID);
	/* The real one, where there is one. */
	if (exists(STATE_BOOT_ID_PATH)) {
		assert_int_equal(state_read_clock(NULL, &now), STATE_OK);
		assert_int_equal(strlen(now.boot_id), 36);
	}
}

/* ---- the clock going back -------------------------------------------------------------------- */

static void test_clock_back_locks_and_persists(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	enum state_jump back = STATE_JUMP_FORWARD;
	unsigned locked = 99;
	int64_t latest;
	uint64_t id;
	assert_int_equal(state_note_time(st, at(T0), &back), STATE_OK);
	assert_int_equal(back, STATE_JUMP_NONE);
	assert_int_equal(state_note_time(st, at(T0 - STATE_CLOCK_TOLERANCE), &back), STATE_OK);
	assert_int_equal(back, STATE_JUMP_NONE);   /* within the tolerance: ignored */
	assert_int_equal(state_latest_time(st, &latest), STATE_OK);
	assert_int_equal(latest, T0);
	assert_int_equal(state_note_time(st, at(T0 - STATE_CLOCK_TOLERANCE - 1), &back), STATE_OK);
	assert_int_equal(back, STATE_JUMP_BACK);
	assert_int_equal(state_lock_causes(st, &locked), STATE_OK);
	assert_int_equal(locked, STATE_LOCK_CLOCK);
	assert_int_equal(state_note_time(st, at(T0 - 86400), &back), STATE_OK);
	assert_int_equal(back, STATE_JUMP_NONE);   /* reported once */
	state_close(st);

	/* It persists, and refuses every grant, even with the clock right again. */
	st = open_ok(f);
	assert_int_equal(state_lock_causes(st, &locked), STATE_OK);
	assert_int_equal(locked, STATE_LOCK_CLOCK);
	char *text = read_all(f->state, NULL);
	assert_non_null(strstr(text, "\nlocked 1\n"));
	free(text);
	assert_int_equal(state_note_time(st, at(T0 + 60), &back), STATE_OK);
	assert_int_equal(back, STATE_JUMP_NONE);
	struct state_grant r = make_rec("alice", T0 + 60, 600, 10, BOOT);
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_E_LOCKED);
	/* The administrator clears it and vouches for the clock, even an earlier one. */
	assert_int_equal(state_clear_lock(st, at(T0 - 3600)), STATE_OK);
	assert_int_equal(state_lock_causes(st, &locked), STATE_OK);
	assert_int_equal(locked, 0);
	assert_int_equal(state_latest_time(st, &latest), STATE_OK);
	assert_int_equal(latest, T0 - 3600);
	r.start_wall = T0 - 3600;
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_OK);
	assert_int_equal(state_commit_grant(st, id), STATE_OK);
	state_close(st);
}

/* A reading in BOOT at wall time wall, the monotonic clock at MONO0 + mono_off. */
static const struct state_now *skewed(int64_t wall, int64_t mono_off, const char *boot)
{
	static struct state_now n;
	n = now_at(wall, MONO0 + mono_off, boot);
	return &n;
}

/* Forward: within one boot, the wall clock may not run ahead of the monotonic one. */
static void test_clock_forward_locks_within_a_boot(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	enum state_jump j = STATE_JUMP_BACK;
	unsigned causes = 99;
	int64_t latest;
	uint64_t id;
	assert_int_equal(state_note_time(st, at(T0), &j), STATE_OK);
	assert_int_equal(j, STATE_JUMP_NONE);
	/* 200 s on the wall, 100 s on the monotonic clock: within the tolerance. */
	assert_int_equal(state_note_time(st, skewed(T0 + 200, 100, BOOT), &j), STATE_OK);
	assert_int_equal(j, STATE_JUMP_NONE);
	assert_int_equal(state_latest_time(st, &latest), STATE_OK);
	assert_int_equal(latest, T0 + 200);
	/* Then a day on the wall in one more minute: a jump into tomorrow's quota. */
	assert_int_equal(state_note_time(st, skewed(T0 + 86400, 160, BOOT), &j), STATE_OK);
	assert_int_equal(j, STATE_JUMP_FORWARD);
	assert_int_equal(state_lock_causes(st, &causes), STATE_OK);
	assert_int_equal(causes, STATE_LOCK_CLOCK);
	assert_int_equal(state_latest_time(st, &latest), STATE_OK);
	assert_int_equal(latest, T0 + 200);   /* the jump is not taken as the latest time */
	state_close(st);

	/* The same jump seen first by a grant: refused, and locks. */
	assert_int_equal(unlink(f->state), 0);
	st = open_ok(f);
	assert_int_equal(state_note_time(st, at(T0), NULL), STATE_OK);
	struct state_grant r = make_rec("alice", T0 + 86400, 600, MONO0 + 60, BOOT);
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_E_CLOCK_BACK);
	assert_int_equal(state_lock_causes(st, &causes), STATE_OK);
	assert_int_equal(causes, STATE_LOCK_CLOCK);
	state_close(st);
}

/* Across a reboot there is no monotonic clock to compare with: the anchor moves. */
static void test_clock_forward_across_boots_is_not_seen(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	enum state_jump j = STATE_JUMP_BACK;
	unsigned causes = 99;
	int64_t latest;
	assert_int_equal(state_note_time(st, at(T0), NULL), STATE_OK);
	assert_int_equal(state_note_time(st, skewed(T0 + 86400, 10, "boot-2"), &j), STATE_OK);
	assert_int_equal(j, STATE_JUMP_NONE);
	assert_int_equal(state_lock_causes(st, &causes), STATE_OK);
	assert_int_equal(causes, 0);
	assert_int_equal(state_latest_time(st, &latest), STATE_OK);
	assert_int_equal(latest, T0 + 86400);
	char *text = read_all(f->state, NULL);
	assert_non_null(strstr(text, "\nlatest 1714642200 10000010 boot-2\n"));
	free(text);
	/* A new boot with the clock a little behind: only the anchor moves. */
	assert_int_equal(state_note_time(st, skewed(T0 + 86400 - 30, 5, "boot-3"), &j), STATE_OK);
	assert_int_equal(j, STATE_JUMP_NONE);
	text = read_all(f->state, NULL);
	assert_non_null(strstr(text, "\nlatest 1714642200 10000005 boot-3\n"));
	free(text);
	state_close(st);
}

/* The agent's lock for a tampered audit log: persists, adds to the clock's, refuses grants. */
static void test_audit_lock_persists_and_combines(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	unsigned causes = 99;
	uint64_t id;
	assert_int_equal(state_set_lock(st, 0), STATE_E_ARG);
	assert_int_equal(state_set_lock(st, 4), STATE_E_ARG);
	assert_int_equal(state_set_lock(st, STATE_LOCK_AUDIT), STATE_OK);
	assert_int_equal(state_set_lock(st, STATE_LOCK_AUDIT), STATE_OK);   /* idempotent */
	state_close(st);
	st = open_ok(f);
	assert_int_equal(state_lock_causes(st, &causes), STATE_OK);
	assert_int_equal(causes, STATE_LOCK_AUDIT);
	struct state_grant r = make_rec("alice", T0, 600, 10, BOOT);
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_E_LOCKED);
	enum state_jump back = STATE_JUMP_NONE;
	assert_int_equal(state_note_time(st, at(T0 + 86400), &back), STATE_OK);
	assert_int_equal(state_note_time(st, at(T0), &back), STATE_OK);
	assert_int_equal(back, STATE_JUMP_BACK);   /* the clock's cause is new, so it is reported */
	assert_int_equal(state_lock_causes(st, &causes), STATE_OK);
	assert_int_equal(causes, STATE_LOCK_CLOCK | STATE_LOCK_AUDIT);
	char *text = read_all(f->state, NULL);
	assert_non_null(strstr(text, "\nlocked 3\n"));
	free(text);
	assert_int_equal(state_clear_lock(st, at(T0)), STATE_OK);
	assert_int_equal(state_lock_causes(st, &causes), STATE_OK);
	assert_int_equal(causes, 0);
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_OK);
	state_close(st);
}

static void test_grant_with_clock_back_locks(void **state)
{
	struct fx *f = *state;
	f->opt.clock_tolerance = 10;
	struct state *st = open_ok(f);
	uint64_t id;
	(void)grant(st, "alice", T0);
	(void)grant(st, "alice", T0 + 1);
	(void)grant(st, "alice", T0 + 2);   /* three today: a limit of 3 per day is used up */
	/* Setting the clock back a day would put those grants in another period; it locks instead. */
	struct state_grant r = make_rec("alice", T0 - 86400, 600, 10, BOOT);
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_E_CLOCK_BACK);
	state_close(st);
	st = open_ok(f);
	unsigned locked;
	assert_int_equal(state_lock_causes(st, &locked), STATE_OK);
	assert_int_equal(locked, STATE_LOCK_CLOCK);
	struct state_list l;
	assert_int_equal(state_user_grants(st, "alice", &l), STATE_OK);
	assert_int_equal(l.n, 3);   /* nothing recorded for the refused one */
	/* While locked, records are still revoked. */
	assert_int_equal(state_begin_revoke(st, l.v[0].id), STATE_OK);
	assert_int_equal(state_finish_revoke(st, l.v[0].id), STATE_OK);
	state_list_free(&l);
	r.start_wall = T0 + 3;
	assert_int_equal(state_begin_grant(st, &r, &id), STATE_E_LOCKED);
	state_close(st);
}

/* ---- unsafe directories and files ------------------------------------------------------------ */

static int open_dir_rc(const char *dir, uid_t owner)
{
	struct state *st = NULL;
	int rc = state_open(dir, owner, &st);
	state_close(st);
	return rc;
}

static void test_unsafe_directory_refused(void **state)
{
	struct fx *f = *state;
	char sub[128], link[128], plain[128], missing[128];
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	snprintf(plain, sizeof(plain), "%s/plain", f->dir);
	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(symlink(sub, link), 0);
	write_text(plain, "x");
	uid_t me = geteuid();
	assert_int_equal(open_dir_rc(sub, me), STATE_OK);
	assert_int_equal(open_dir_rc(missing, me), STATE_E_NO_DIR);
	assert_int_equal(open_dir_rc(link, me), STATE_E_UNSAFE_DIR);
	assert_int_equal(open_dir_rc(plain, me), STATE_E_UNSAFE_DIR);
	assert_int_equal(open_dir_rc(sub, me + 1), STATE_E_UNSAFE_DIR);
	static const mode_t bad[] = { 0770, 0720, 0702, 0777, 01777, 0730 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(sub, bad[i]), 0);
		assert_int_equal(open_dir_rc(sub, me), STATE_E_UNSAFE_DIR);
	}
	assert_int_equal(chmod(sub, 0755), 0);   /* readable by others is not unsafe */
	assert_int_equal(open_dir_rc(sub, me), STATE_OK);

	/* A directory that becomes unsafe after opening is refused at the next lock. */
	struct state *st;
	assert_int_equal(state_open(sub, me, &st), STATE_OK);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(state_lock(st, 100), STATE_E_UNSAFE_DIR);
	assert_int_equal(state_note_time(st, at(T0), NULL), STATE_E_UNSAFE_DIR);
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(state_note_time(st, at(T0), NULL), STATE_OK);
	state_close(st);

	if (me == 0) {
		/* Owned by someone else: refused for root; for that user, reading works but our writes are refused. */
		assert_int_equal(chown(sub, 4242, 4242), 0);
		assert_int_equal(open_dir_rc(sub, 0), STATE_E_UNSAFE_DIR);
		char subst[160];
		snprintf(subst, sizeof(subst), "%s/state", sub);
		assert_int_equal(chown(subst, 4242, 4242), 0);
		snprintf(subst, sizeof(subst), "%s/lock", sub);
		assert_int_equal(chown(subst, 4242, 4242), 0);
		/* The temporary file we create is root's, not 4242's: refused before it is used. */
		assert_int_equal(state_open(sub, 4242, &st), STATE_OK);
		assert_int_equal(state_note_time(st, at(T0 + 10), NULL), STATE_E_UNSAFE_FILE);
		state_close(st);
	}
}

static void test_unsafe_files_refused(void **state)
{
	struct fx *f = *state;
	const char *good = "elevate-state 1\nlatest 0\nlocked 0\nnext-id 1\nend\n";
	char other[128], outside[128];
	snprintf(other, sizeof(other), "%s/other", f->dir);
	snprintf(outside, sizeof(outside), "%s.outside", f->dir);
	write_text(other, good);
	assert_int_equal(symlink(other, f->state), 0);
	assert_int_equal(open_rc(f), STATE_E_UNSAFE_FILE);
	assert_int_equal(unlink(f->state), 0);
	static const mode_t bad[] = { 0620, 0602, 0666, 0622 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f->state, good, strlen(good), bad[i]);
		assert_int_equal(open_rc(f), STATE_E_UNSAFE_FILE);
	}
	write_file(f->state, good, strlen(good), 0644);
	assert_int_equal(open_rc(f), STATE_OK);
	assert_int_equal(unlink(f->state), 0);
	assert_int_equal(mkdir(f->state, 0700), 0);
	assert_int_equal(open_rc(f), STATE_E_UNSAFE_FILE);
	assert_int_equal(rmdir(f->state), 0);
	assert_int_equal(mkfifo(f->state, 0600), 0);
	assert_int_equal(open_rc(f), STATE_E_UNSAFE_FILE);   /* and does not hang */
	assert_int_equal(unlink(f->state), 0);
	if (geteuid() == 0) {
		write_text(f->state, good);
		assert_int_equal(chown(f->state, 4242, 4242), 0);
		assert_int_equal(open_rc(f), STATE_E_UNSAFE_FILE);
		assert_int_equal(unlink(f->state), 0);
	}

	/* The lock file: a symbolic link, writable by others, or not a file. */
	struct state *st = open_ok(f);
	assert_int_equal(symlink(other, f->lock), 0);
	assert_int_equal(state_lock(st, 100), STATE_E_UNSAFE_FILE);
	assert_int_equal(unlink(f->lock), 0);
	write_file(f->lock, "", 0, 0666);
	assert_int_equal(state_lock(st, 100), STATE_E_UNSAFE_FILE);
	assert_int_equal(unlink(f->lock), 0);
	assert_int_equal(mkdir(f->lock, 0700), 0);
	assert_int_equal(state_lock(st, 100), STATE_E_UNSAFE_FILE);
	assert_int_equal(rmdir(f->lock), 0);

	/* A stale temporary file that is a symbolic link is removed, never followed. */
	write_text(outside, "precious\n");
	assert_int_equal(symlink(outside, f->temp), 0);
	assert_int_equal(state_note_time(st, at(T0), NULL), STATE_OK);
	assert_file_text(outside, "precious\n");
	assert_false(exists(f->temp));
	assert_int_equal(unlink(outside), 0);
	state_close(st);
}

/* ---- malformed files --------------------------------------------------------------------------- */

#define HEAD "elevate-state 1\nlatest 1714555920\nlocked 0\nnext-id 3\n"
#define G(id, phase, user, rest) "grant " #id " " phase " " user " " rest "\n"
#define OKG  "developers 1714555800 1714556700 900 " BOOT " 5000 x"
#define HIST "history alice 1714555800\n"

struct bad_file {
	const char *text;
	int status;
};

static const struct bad_file bad_files[] = {
	{ HEAD G(1, "granted", "alice", OKG) HIST "end\n", STATE_OK },            /* the control */
	{ HEAD G(1, "granted", "%2D", OKG) "end\n", STATE_OK },                  /* the user "-" */
	{ "elevate-state 1\nlatest 1099511627775\nlocked 1\nnext-id 18446744073709551615\nend\n", STATE_OK },
	{ "elevate-state 1\nlatest 5 7 " BOOT "\nlocked 0\nnext-id 1\nend\n", STATE_OK },
	{ "elevate-state 1\nlatest 5 7\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 5 7 b@d\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 5 -7 " BOOT "\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 5 7 " BOOT " x\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "", STATE_E_MALFORMED },
	{ "\n", STATE_E_MALFORMED },
	{ "elevate-state 1", STATE_E_MALFORMED },
	{ "elevate-state 2\nlatest 0\nlocked 0\nnext-id 1\nend\n", STATE_E_VERSION },
	{ "elevate-state 10\n", STATE_E_VERSION },
	{ "elevate-state 0\nlatest 0\nlocked 0\nnext-id 1\nend\n", STATE_E_VERSION },
	{ "elevate-state 01\nlatest 0\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state  1\nlatest 0\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\r\nlatest 0\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1 \nlatest 0\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "Elevate-state 1\nlatest 0\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 99999999999\nlatest 0\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ HEAD, STATE_E_MALFORMED },
	{ HEAD "end", STATE_E_MALFORMED },
	{ HEAD "end\n\n", STATE_E_MALFORMED },
	{ HEAD "end\nend\n", STATE_E_MALFORMED },
	{ HEAD "end \n", STATE_E_MALFORMED },
	{ HEAD "End\n", STATE_E_MALFORMED },
	{ HEAD "\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlocked 0\nlatest 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 0\nlocked 0\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest -1\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest +1\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 1099511627776\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 00\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 0 0\nlocked 0\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 0\nlocked 2\nnext-id 1\nend\n", STATE_OK },
	{ "elevate-state 1\nlatest 0\nlocked 3\nnext-id 1\nend\n", STATE_OK },
	{ "elevate-state 1\nlatest 0\nlocked 4\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 0\nlocked yes\nnext-id 1\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 0\nlocked 0\nnext-id 0\nend\n", STATE_E_MALFORMED },
	{ "elevate-state 1\nlatest 0\nlocked 0\nnext-id 18446744073709551616\nend\n", STATE_E_MALFORMED },
	{ HEAD G(3, "granted", "alice", OKG) "end\n", STATE_E_MALFORMED },       /* id >= next-id */
	{ HEAD G(0, "granted", "alice", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(2, "granted", "alice", OKG) G(1, "granted", "bob", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", OKG) G(1, "granted", "bob", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(01, "granted", "alice", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "revoked", "alice", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "GRANTED", "alice", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "-", OKG) "end\n", STATE_E_MALFORMED },              /* empty user */
	{ HEAD G(1, "granted", "al%ice", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice%", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice%2", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "%41lice", OKG) "end\n", STATE_E_MALFORMED },        /* needless escape */
	{ HEAD G(1, "granted", "a%2Db", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "a%2fb", OKG) "end\n", STATE_E_MALFORMED },          /* lowercase */
	{ HEAD G(1, "granted", "a%0ab", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "a%00b", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "a%G0b", OKG) "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714556701 900 " BOOT " 5000 x") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714555800 0 " BOOT " 5000 x") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714642201 86401 " BOOT " 5000 x") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714556700 900 b/1 5000 x") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714556700 900 "
	         "00000000001111111111222222222233333333334444444444555555555566666 5000 x") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714556700 900 " BOOT " 1099511627776 x") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714556700 900 " BOOT " 5000") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714556700 900 " BOOT " 5000 x y") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714556700 900 " BOOT " 5000 x ") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers  1714555800 1714556700 900 " BOOT " 5000 x") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers\t1714555800 1714556700 900 " BOOT " 5000 x") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", "developers 1714555800 1714556700 900 " BOOT " 5000 caf\xc3\xa9") "end\n", STATE_E_MALFORMED },
	{ HEAD G(1, "granted", "alice", OKG) "\r\nend\n", STATE_E_MALFORMED },
	{ HEAD HIST G(1, "granted", "alice", OKG) "end\n", STATE_E_MALFORMED },    /* history first */
	{ HEAD "history alice\nend\n", STATE_E_MALFORMED },
	{ HEAD "history alice 1714555800 1\nend\n", STATE_E_MALFORMED },
	{ HEAD "history - 1714555800\nend\n", STATE_E_MALFORMED },
	{ HEAD "history alice -1714555800\nend\n", STATE_E_MALFORMED },
	{ HEAD "history  alice 1714555800\nend\n", STATE_E_MALFORMED },
	{ HEAD "grant\nend\n", STATE_E_MALFORMED },
	{ HEAD "history\nend\n", STATE_E_MALFORMED },
	{ HEAD "comment hello\nend\n", STATE_E_MALFORMED },
	{ HEAD "# comment\nend\n", STATE_E_MALFORMED },
};

static void test_malformed_files_refused(void **state)
{
	struct fx *f = *state;
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		write_text(f->state, bad_files[i].text);
		int rc = open_rc(f);
		if (rc != bad_files[i].status)
			fail_msg("case %zu: got %d (%s), want %d:\n%s", i, rc, state_strerror(rc),
			         bad_files[i].status, bad_files[i].text);
	}
	/* Names one byte too long, a NUL byte, too many grants, a file too big. */
	char text[8192];
	char user[STATE_NAME_MAX + 2], reason[STATE_REASON_MAX + 2];
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	snprintf(text, sizeof(text), HEAD "history %s 1714555800\nend\n", user);
	write_text(f->state, text);
	assert_int_equal(open_rc(f), STATE_E_MALFORMED);
	user[STATE_NAME_MAX] = '\0';
	snprintf(text, sizeof(text), HEAD "history %s 1714555800\nend\n", user);
	write_text(f->state, text);
	assert_int_equal(open_rc(f), STATE_OK);
	snprintf(text, sizeof(text), HEAD G(1, "granted", "alice", "- 1714555800 1714556700 900 " BOOT " 5000 %s") "end\n", reason);
	write_text(f->state, text);
	assert_int_equal(open_rc(f), STATE_E_MALFORMED);
	static const char with_nul[] = HEAD "history al\0ice 1714555800\nend\n";
	write_file(f->state, with_nul, sizeof(with_nul) - 1, 0600);
	assert_int_equal(open_rc(f), STATE_E_MALFORMED);

	size_t cap = 256 + (STATE_MAX_GRANTS + 1) * 128, len = 0;
	char *many = malloc(cap);
	assert_non_null(many);
	len += (size_t)snprintf(many, cap, "elevate-state 1\nlatest 0\nlocked 0\nnext-id %d\n", STATE_MAX_GRANTS + 2);
	for (int i = 1; i <= STATE_MAX_GRANTS + 1; i++)
		len += (size_t)snprintf(many + len, cap - len, "grant %d granted u%d - 1 2 1 b 0 -\n", i, i);
	memcpy(many + len, "end\n", 4);
	write_file(f->state, many, len + 4, 0600);
	assert_int_equal(open_rc(f), STATE_E_MALFORMED);
	/* One fewer is fine. */
	char *last = strstr(many, "grant 1025 ");
	assert_non_null(last);
	memcpy(last, "end\n", 4);
	write_file(f->state, many, (size_t)(last - many) + 4, 0600);
	assert_int_equal(open_rc(f), STATE_OK);
	free(many);

	int fd = open(f->state, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)STATE_FILE_MAX + 1), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(open_rc(f), STATE_E_TOO_BIG);
}

static void test_malformed_file_makes_handle_fail_closed(void **state)
{
	struct fx *f = *state;
	struct state *st = open_ok(f);
	uint64_t id = grant(st, "alice", T0);
	size_t len;
	char *good = read_all(f->state, &len);
	const char *bad = HEAD "grant 1 granted alice\nend\n";
	write_text(f->state, bad);
	assert_int_equal(state_lock(st, 100), STATE_E_MALFORMED);
	struct state_grant g = make_rec("bob", T0, 60, 1, BOOT);
	struct state_list l = { (struct state_grant *)1, 7 };
	int64_t t;
	size_t n;
	enum state_jump b;
	unsigned causes;
	char *ser;
	assert_int_equal(state_get(st, id, &g), STATE_E_MALFORMED);
	assert_int_equal(state_active(st, "alice", &g), STATE_E_MALFORMED);
	assert_int_equal(state_grant_times(st, "alice", &t, 1, &n), STATE_E_MALFORMED);
	assert_int_equal(state_pending_repairs(st, &l), STATE_E_MALFORMED);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	assert_int_equal(state_lock_causes(st, &causes), STATE_E_MALFORMED);
	assert_int_equal(state_serialize(st, &ser, &len), STATE_E_MALFORMED);
	assert_int_equal(state_begin_grant(st, &g, &id), STATE_E_MALFORMED);
	assert_int_equal(state_begin_revoke(st, id), STATE_E_MALFORMED);
	assert_int_equal(state_note_time(st, at(T0), &b), STATE_E_MALFORMED);
	assert_int_equal(state_clear_lock(st, at(T0)), STATE_E_MALFORMED);
	assert_file_text(f->state, bad);   /* never overwritten: the evidence stays */
	/* The lock was released on the way out: another process can take it. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *other;
		if (state_open(f->dir, geteuid(), &other) != STATE_E_MALFORMED)
			_exit(1);
		int fd = open(f->lock, O_RDWR);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		_exit(fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 2);
	}
	reap(pid, 0);
	/* Repaired by the administrator: usable again. */
	write_file(f->state, good, len, 0600);
	free(good);
	assert_int_equal(state_reload(st), STATE_OK);
	assert_int_equal(state_get(st, id, &g), STATE_OK);
	assert_int_equal(state_lock(st, 100), STATE_OK);
	state_unlock(st);
	state_close(st);
}

/* ---- fuzzing ----------------------------------------------------------------------------------- */

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* A state with a bit of everything, as the store writes it. */
static char *rich_file(const struct fx *f, size_t *len)
{
	struct state *st = open_ok(f);
	static const char *const users[] = { "alice", "bob smith", "-", "caf\xc3\xa9", "%x" };
	for (size_t i = 0; i < 5; i++) {
		struct state_grant r = make_rec(users[i], T0 + (int64_t)i * 100, 60 + (uint32_t)i, 7 + (int64_t)i, BOOT);
		snprintf(r.reason, sizeof(r.reason), "reason %zu: line\nbreak -%%-", i);
		if (i == 2)
			r.rule[0] = '\0';
		uint64_t id;
		assert_int_equal(state_begin_grant(st, &r, &id), STATE_OK);
		if (i % 3 != 0)
			assert_int_equal(state_commit_grant(st, id), STATE_OK);
		if (i == 4)
			assert_int_equal(state_begin_revoke(st, id), STATE_OK);
	}
	(void)grant(st, "alice", T0 + 1000);
	assert_int_equal(state_note_time(st, at(T0 + 2000), NULL), STATE_OK);
	assert_int_equal(state_note_time(st, at(T0), NULL), STATE_OK);   /* locks */
	state_close(st);
	return read_all(f->state, len);
}

/* Opens the mutated file: a clean error, or contents that serialise back to the same bytes. */
static bool check_mutant(const struct fx *f, const char *data, size_t len)
{
	write_file(f->state, data, len, 0600);
	struct state *st = NULL;
	int rc = state_open_opt(f->dir, geteuid(), &f->opt, &st);
	if (rc != STATE_OK) {
		assert_null(st);
		if (rc != STATE_E_MALFORMED && rc != STATE_E_VERSION)
			fail_msg("unexpected status %d (%s)", rc, state_strerror(rc));
		return false;
	}
	char *ser;
	size_t slen;
	assert_int_equal(state_serialize(st, &ser, &slen), STATE_OK);
	assert_int_equal(slen, len);
	assert_memory_equal(ser, data, len);
	free(ser);
	state_close(st);
	return true;
}

static void test_fuzz_byte_flips(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *base = rich_file(f, &len);
	char *buf = malloc(len + 16);
	assert_non_null(buf);
	size_t accepted = 0, refused = 0;
	for (int iter = 0; iter < 6000; iter++) {
		size_t n = len;
		memcpy(buf, base, len);
		int edits = 1 + (int)(rnd() % 3);
		for (int e = 0; e < edits && n > 1; e++) {
			size_t at = rnd() % n;
			switch (rnd() % 4) {
			case 0: buf[at] ^= (char)(1u << (rnd() % 8)); break;
			case 1: buf[at] = (char)rnd(); break;
			case 2: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;
			default:
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = "0123456789 -%\nAaz\x80"[rnd() % 18];
				n++;
				break;
			}
		}
		if (check_mutant(f, buf, n))
			accepted++;
		else
			refused++;
	}
	/* Digits and letters of names flip into other valid files; most edits do not. */
	assert_true(accepted > 100);
	assert_true(refused > accepted);
	/* Every truncation is refused: the file ends in "end\n". */
	for (size_t cut = 0; cut < len; cut++)
		assert_false(check_mutant(f, base, cut));
	assert_true(check_mutant(f, base, len));
	free(buf);
	free(base);
}

static void test_strerror_names_every_status(void **state)
{
	(void)state;
	for (int s = STATE_OK; s >= STATE_E_HOOK; s--) {
		assert_string_not_equal(state_strerror(s), "unknown status");
		for (int t = s + 1; t <= STATE_OK; t++)
			assert_string_not_equal(state_strerror(s), state_strerror(t));
	}
	assert_string_equal(state_strerror(1), "unknown status");
	assert_string_equal(state_strerror(STATE_E_HOOK - 1), "unknown status");
	assert_string_equal(state_phase_name(STATE_PHASE_INTENT), "intent");
	assert_string_equal(state_phase_name(STATE_PHASE_GRANTED), "granted");
	assert_string_equal(state_phase_name(STATE_PHASE_REVOKING), "revoking");
	assert_null(state_phase_name((enum state_phase)3));
	assert_int_equal(state_open(NULL, 0, NULL), STATE_E_ARG);
	assert_int_equal(state_lock(NULL, 0), STATE_E_ARG);
	assert_int_equal(state_reload(NULL), STATE_E_ARG);
	assert_int_equal(state_commit_grant(NULL, 1), STATE_E_ARG);
	state_close(NULL);
	state_unlock(NULL);
	state_list_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_state_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_and_exact_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_strings_stay_in_their_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_fields_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_pruned_after_400_days, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grant_times_feed_ep_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_capped_per_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_phase_protocol, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_at_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_at_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eight_requests_limit_three, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_waits_and_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_by_monotonic_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_by_boot_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_back_locks_and_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grant_with_clock_back_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_lock_persists_and_combines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_forward_locks_within_a_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_forward_across_boots_is_not_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_directory_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_file_makes_handle_fail_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_byte_flips, setup, teardown),
		cmocka_unit_test(test_strerror_names_every_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
