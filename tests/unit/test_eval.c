/*
 * test_eval.c - runtime/eval.c (with runtime/calendar.c and runtime/text.c):
 * table-driven evaluator tests. Each row is a policy text, compiled with
 * compile_source() (no target) and loaded with ep_load(), and a request with
 * the decision it must get: every condition kind and operator, local time
 * under positive and negative UTC offsets, calendar-period limits across
 * week, month, year and leap-day boundaries, the quota exactly used up and
 * overrun, deny messages, `otherwise`, and the fail-closed faults
 * (unverified program, malformed requests).
 *
 * Times are written as local day numbers (days since 1970-01-01, taken from
 * GNU date, not from the runtime's calendar code) plus hours and minutes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ep.h"
#include "helpers.h"

/* ---- days (date -u -d DATE +%s / 86400) ------------------------------------------ */

#define D1969_12_31 (-1)          /* Wednesday */
#define D2026_02_15 20499         /* Sunday */
#define D2026_02_28 20512         /* Saturday */
#define D2026_03_01 20513         /* Sunday */
#define MON 20514                 /* 2026-03-02 .. */
#define TUE 20515
#define WED 20516
#define THU 20517
#define FRI 20518
#define SAT 20519
#define SUN 20520                 /* .. 2026-03-08 */
#define NEXT_MON 20521            /* 2026-03-09 */
#define D2026_12_23 20810         /* Wednesday */
#define D2026_12_24 20811
#define D2026_12_25 20812
#define D2026_12_26 20813
#define D2026_12_27 20814         /* Sunday */
#define D2026_12_28 20815         /* Monday */
#define D2026_12_31 20818         /* Thursday */
#define D2027_01_01 20819         /* Friday */
#define D2028_02_01 21215
#define D2028_02_28 21242
#define D2028_02_29 21243         /* leap day, Tuesday */
#define D2028_03_01 21244

/* Unix time of day d, hh:mm, in UTC. */
#define T(d, hh, mm) ((int64_t)(d) * 86400 + (hh) * 3600 + (mm) * 60)
/* Unix time when the local clock at utc_offset off shows day d, hh:mm. */
#define LOCAL(d, hh, mm, off) (T(d, hh, mm) - (off))

#define NOON T(WED, 12, 0)
#define HOUR 3600

/* ---- compiling and evaluating -------------------------------------------------------- */

struct loaded {
	struct compilation c;
	struct ep_program prog;
};

/* Compiles TEST_PROFILE + body and loads the bytecode; the test fails otherwise. */
static void load_policy(struct loaded *l, const char *body)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", TEST_PROFILE, body);
	int rc = compile_text(&l->c, text, NULL, false);
	if (rc != 0) {
		print_error("policy does not compile:\n%s", text);
		for (const struct diag *d = l->c.diags.head; d; d = d->next)
			print_error("  %s: %s\n", diag_code_name(d->code), d->message);
	}
	assert_int_equal(rc, 0);
	struct ep_error err;
	rc = ep_load(&l->prog, l->c.bytecode, l->c.bytecode_len, &err);
	if (rc != 0)
		print_error("ep_load: %s at offset %u\n%s", ep_status_name(rc), err.offset, text);
	assert_int_equal(rc, 0);
}

static void unload_policy(struct loaded *l)
{
	compilation_free(&l->c);
}

/* Evaluates into a decision first filled with garbage, so every field is checked. */
static int evaluate(const struct ep_program *prog, const struct ep_request *req, struct ep_decision *d)
{
	memset(d, 0xA5, sizeof(*d));
	return ep_evaluate(prog, req, d);
}

static void assert_string_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got ? got : "(null)", want);
}

/* ---- conditions ------------------------------------------------------------------------- */

/*
 * A request for `rule "r" { when COND; deny "hit" }`; hit: the rule decides
 * (deny), otherwise `otherwise` allows. Unset fields take defaults: user
 * "alice", host "mac-01", Wednesday 2026-03-04 12:00 UTC, offset 0.
 */
struct cond_row {
	const char *cond;
	const char *user;
	const char *groups[4];          /* NULL-terminated */
	const char *host;
	enum ep_session session;
	int64_t now;                    /* 0: NOON */
	int32_t offset;
	bool hit;
};

static void check_cond_rows(const struct cond_row *rows, size_t n)
{
	struct loaded l;
	const char *loaded_cond = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct cond_row *r = &rows[i];
		if (!loaded_cond || strcmp(loaded_cond, r->cond) != 0) {
			char body[1024];
			if (loaded_cond)
				unload_policy(&l);
			snprintf(body, sizeof(body), "rule \"r\" {\n    when %s\n    deny \"hit\"\n}\n", r->cond);
			load_policy(&l, body);
			loaded_cond = r->cond;
		}
		size_t ngroups = 0;
		while (ngroups < 4 && r->groups[ngroups])
			ngroups++;
		const struct ep_request req = {
			.user = r->user ? r->user : "alice",
			.groups = r->groups,
			.ngroups = ngroups,
			.host = r->host ? r->host : "mac-01",
			.session = r->session,
			.now = r->now ? r->now : NOON,
			.utc_offset = r->offset,
		};
		struct ep_decision d;
		int rc = evaluate(&l.prog, &req, &d);
		if (rc != 0 || (d.verdict == EP_DENY) != r->hit)
			print_error("row %zu: `%s` for user \"%s\" host \"%s\" session %d now %lld offset %d: "
			            "want %s, got %s (rc %d)\n", i, r->cond, req.user, req.host, (int)req.session,
			            (long long)req.now, (int)req.utc_offset, r->hit ? "hit" : "no hit",
			            d.verdict == EP_DENY ? "hit" : "no hit", rc);
		assert_int_equal(rc, 0);
		if (r->hit) {
			assert_int_equal(d.verdict, EP_DENY);
			assert_int_equal(d.code, EP_REASON_RULE_DENIED);
			assert_int_equal(d.rule, 0);
			assert_string_equal(d.rule_name, "r");
			assert_string_equal(d.message, "hit");
			assert_int_equal(d.duration, 0);
			assert_int_equal(d.max, 0);
		} else {
			assert_int_equal(d.verdict, EP_ALLOW);
			assert_int_equal(d.code, EP_REASON_ALLOWED);
			assert_int_equal(d.rule, EP_RULE_OTHERWISE);
			assert_null(d.rule_name);
			assert_null(d.message);
			assert_int_equal(d.duration, 300);
		}
	}
	if (loaded_cond)
		unload_policy(&l);
}

#define CHECK_COND_ROWS(rows) check_cond_rows((rows), sizeof(rows) / sizeof(*(rows)))

static void test_user_conditions(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "user == \"alice\"", .user = "alice", .hit = true },
		{ .cond = "user == \"alice\"", .user = "bob" },
		{ .cond = "user == \"alice\"", .user = "Alice" },
		{ .cond = "user == \"alice\"", .user = "alice2" },
		{ .cond = "user == \"alice\"", .user = "" },
		{ .cond = "user != \"alice\"", .user = "alice" },
		{ .cond = "user != \"alice\"", .user = "bob", .hit = true },
		{ .cond = "user in [\"alice\", \"bob\"]", .user = "alice", .hit = true },
		{ .cond = "user in [\"alice\", \"bob\"]", .user = "bob", .hit = true },
		{ .cond = "user in [\"alice\", \"bob\"]", .user = "carol" },
		{ .cond = "user in [\"alice\", \"bob\"]", .user = "ali" },
		{ .cond = "user in [\"b\", \"a\", \"c\", \"d\", \"e\"]", .user = "e", .hit = true },
		{ .cond = "user in [\"b\", \"a\", \"c\", \"d\", \"e\"]", .user = "a", .hit = true },
		{ .cond = "user in [\"b\", \"a\", \"c\", \"d\", \"e\"]", .user = "cc" },
		{ .cond = "user not in [\"alice\", \"bob\"]", .user = "alice" },
		{ .cond = "user not in [\"alice\", \"bob\"]", .user = "carol", .hit = true },
	};
	CHECK_COND_ROWS(rows);
}

static void test_user_matches(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "user matches \"adm-*\"", .user = "adm-jo", .hit = true },
		{ .cond = "user matches \"adm-*\"", .user = "adm-", .hit = true },
		{ .cond = "user matches \"adm-*\"", .user = "xadm-jo" },
		{ .cond = "user matches \"adm-*\"", .user = "adm" },
		{ .cond = "user matches \"*-admin\"", .user = "jo-admin", .hit = true },
		{ .cond = "user matches \"*-admin\"", .user = "jo-admin2" },
		{ .cond = "user matches \"*\"", .user = "", .hit = true },
		{ .cond = "user matches \"a?c\"", .user = "abc", .hit = true },
		{ .cond = "user matches \"a?c\"", .user = "ac" },
		{ .cond = "user matches \"a?c\"", .user = "abbc" },
		{ .cond = "user matches \"a?c\"", .user = "a\xC3\xA9" "c", .hit = true },   /* one character, two bytes */
		{ .cond = "user matches \"a*b*c\"", .user = "axxbyyc", .hit = true },
		{ .cond = "user matches \"a*b*c\"", .user = "axxcyyb" },
		{ .cond = "user matches \"jo\"", .user = "jo", .hit = true },
		{ .cond = "user matches \"jo\"", .user = "joe" },
	};
	CHECK_COND_ROWS(rows);
}

static void test_group_any_of_semantics(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "group == \"staff\"", .groups = { "wheel", "staff" }, .hit = true },
		{ .cond = "group == \"staff\"", .groups = { "staff" }, .hit = true },
		{ .cond = "group == \"staff\"", .groups = { "wheel" } },
		{ .cond = "group == \"staff\"", .groups = { NULL } },
		/* != and not in: none of the groups */
		{ .cond = "group != \"staff\"", .groups = { "wheel", "staff" } },
		{ .cond = "group != \"staff\"", .groups = { "staff", "wheel" } },
		{ .cond = "group != \"staff\"", .groups = { "wheel", "admin" }, .hit = true },
		{ .cond = "group != \"staff\"", .groups = { NULL }, .hit = true },
		{ .cond = "group in [\"dev\", \"ops\"]", .groups = { "staff", "ops" }, .hit = true },
		{ .cond = "group in [\"dev\", \"ops\"]", .groups = { "dev", "ops", "staff" }, .hit = true },
		{ .cond = "group in [\"dev\", \"ops\"]", .groups = { "staff", "qa" } },
		{ .cond = "group not in [\"dev\", \"ops\"]", .groups = { "staff", "ops" } },
		{ .cond = "group not in [\"dev\", \"ops\"]", .groups = { "dev", "qa", "staff" } },
		{ .cond = "group not in [\"dev\", \"ops\"]", .groups = { "staff", "qa" }, .hit = true },
		{ .cond = "group not in [\"dev\", \"ops\"]", .groups = { NULL }, .hit = true },
		{ .cond = "group matches \"dev-*\"", .groups = { "staff", "dev-web" }, .hit = true },
		{ .cond = "group matches \"dev-*\"", .groups = { "staff", "web-dev" } },
		{ .cond = "group matches \"dev-*\"", .groups = { NULL } },
		/* the user's name is not a group */
		{ .cond = "group == \"alice\"", .user = "alice", .groups = { "staff" } },
	};
	CHECK_COND_ROWS(rows);
}

static void test_host_conditions(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "host == \"mac-01\"", .host = "mac-01", .hit = true },
		{ .cond = "host == \"mac-01\"", .host = "mac-02" },
		{ .cond = "host == \"mac-01\"", .host = "" },
		{ .cond = "host != \"mac-01\"", .host = "mac-02", .hit = true },
		{ .cond = "host in [\"mac-01\", \"mac-02\"]", .host = "mac-02", .hit = true },
		{ .cond = "host in [\"mac-01\", \"mac-02\"]", .host = "mac-03" },
		{ .cond = "host not in [\"mac-01\", \"mac-02\"]", .host = "mac-03", .hit = true },
		{ .cond = "host matches \"lab-*\"", .host = "lab-01", .hit = true },
		{ .cond = "host matches \"lab-*\"", .host = "lab-", .hit = true },
		{ .cond = "host matches \"lab-*\"", .host = "mylab-01" },
		{ .cond = "host matches \"lab-??\"", .host = "lab-07", .hit = true },
		{ .cond = "host matches \"lab-??\"", .host = "lab-7" },
	};
	CHECK_COND_ROWS(rows);
}

static void test_session_conditions(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "session == console", .session = EP_SESSION_CONSOLE, .hit = true },
		{ .cond = "session == console", .session = EP_SESSION_REMOTE },
		{ .cond = "session == remote", .session = EP_SESSION_REMOTE, .hit = true },
		{ .cond = "session == remote", .session = EP_SESSION_CONSOLE },
		{ .cond = "session != remote", .session = EP_SESSION_CONSOLE, .hit = true },
		{ .cond = "session != remote", .session = EP_SESSION_REMOTE },
		{ .cond = "session in [console, remote]", .session = EP_SESSION_CONSOLE, .hit = true },
		{ .cond = "session in [console, remote]", .session = EP_SESSION_REMOTE, .hit = true },
		{ .cond = "session not in [console]", .session = EP_SESSION_REMOTE, .hit = true },
		{ .cond = "session not in [console]", .session = EP_SESSION_CONSOLE },
	};
	CHECK_COND_ROWS(rows);
}

static void test_time_ranges(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "time in 09:00..17:00", .now = T(WED, 8, 59) },
		{ .cond = "time in 09:00..17:00", .now = T(WED, 9, 0), .hit = true },
		{ .cond = "time in 09:00..17:00", .now = T(WED, 16, 59), .hit = true },
		{ .cond = "time in 09:00..17:00", .now = T(WED, 17, 0) },
		{ .cond = "time in 09:00..17:00", .now = T(WED, 9, 0) - 1 },         /* 08:59:59 */
		{ .cond = "time in 09:00..17:00", .now = T(WED, 17, 0) - 1, .hit = true },
		{ .cond = "time not in 09:00..17:00", .now = T(WED, 8, 59), .hit = true },
		{ .cond = "time not in 09:00..17:00", .now = T(WED, 12, 0) },
		{ .cond = "time in [06:00..07:00, 20:00..21:00]", .now = T(WED, 6, 30), .hit = true },
		{ .cond = "time in [06:00..07:00, 20:00..21:00]", .now = T(WED, 20, 30), .hit = true },
		{ .cond = "time in [06:00..07:00, 20:00..21:00]", .now = T(WED, 12, 0) },
	};
	CHECK_COND_ROWS(rows);
}

static void test_time_range_wrapping_midnight(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "time in 22:00..06:00", .now = T(WED, 21, 59) },
		{ .cond = "time in 22:00..06:00", .now = T(WED, 22, 0), .hit = true },
		{ .cond = "time in 22:00..06:00", .now = T(WED, 23, 59), .hit = true },
		{ .cond = "time in 22:00..06:00", .now = T(THU, 0, 0), .hit = true },
		{ .cond = "time in 22:00..06:00", .now = T(THU, 5, 59), .hit = true },
		{ .cond = "time in 22:00..06:00", .now = T(THU, 6, 0) },
		{ .cond = "time in 22:00..06:00", .now = T(THU, 12, 0) },
		{ .cond = "time not in 22:00..06:00", .now = T(THU, 5, 59) },
		{ .cond = "time not in 22:00..06:00", .now = T(THU, 6, 0), .hit = true },
	};
	CHECK_COND_ROWS(rows);
}

static void test_time_range_ending_at_24(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "time in 00:00..24:00", .now = T(WED, 0, 0), .hit = true },
		{ .cond = "time in 00:00..24:00", .now = T(WED, 12, 0), .hit = true },
		{ .cond = "time in 00:00..24:00", .now = T(WED, 23, 59), .hit = true },
		{ .cond = "time in 18:00..24:00", .now = T(WED, 17, 59) },
		{ .cond = "time in 18:00..24:00", .now = T(WED, 18, 0), .hit = true },
		{ .cond = "time in 18:00..24:00", .now = T(WED, 23, 59), .hit = true },
		{ .cond = "time in 18:00..24:00", .now = T(THU, 0, 0) },
		{ .cond = "time in 18:00..00:00", .now = T(WED, 23, 59), .hit = true },
		{ .cond = "time in 18:00..00:00", .now = T(THU, 0, 0) },
	};
	CHECK_COND_ROWS(rows);
}

static void test_day_conditions(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "day in mon..fri", .now = T(MON, 12, 0), .hit = true },
		{ .cond = "day in mon..fri", .now = T(TUE, 12, 0), .hit = true },
		{ .cond = "day in mon..fri", .now = T(WED, 12, 0), .hit = true },
		{ .cond = "day in mon..fri", .now = T(THU, 12, 0), .hit = true },
		{ .cond = "day in mon..fri", .now = T(FRI, 23, 59), .hit = true },
		{ .cond = "day in mon..fri", .now = T(SAT, 0, 0) },
		{ .cond = "day in mon..fri", .now = T(SUN, 12, 0) },
		{ .cond = "day in mon..fri", .now = T(NEXT_MON, 0, 0), .hit = true },
		{ .cond = "day == sat", .now = T(SAT, 12, 0), .hit = true },
		{ .cond = "day == sat", .now = T(SUN, 12, 0) },
		{ .cond = "day != sat", .now = T(SUN, 12, 0), .hit = true },
		{ .cond = "day in [sat, sun]", .now = T(SUN, 23, 59), .hit = true },
		{ .cond = "day in [sat, sun]", .now = T(NEXT_MON, 0, 0) },
		{ .cond = "day not in [sat, sun]", .now = T(FRI, 12, 0), .hit = true },
		{ .cond = "day in sat..sat", .now = T(SAT, 12, 0), .hit = true },
		{ .cond = "day in sat..sat", .now = T(FRI, 12, 0) },
	};
	CHECK_COND_ROWS(rows);
}

static void test_day_range_wrapping_the_week(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "day in fri..mon", .now = T(FRI, 12, 0), .hit = true },
		{ .cond = "day in fri..mon", .now = T(SAT, 12, 0), .hit = true },
		{ .cond = "day in fri..mon", .now = T(SUN, 12, 0), .hit = true },
		{ .cond = "day in fri..mon", .now = T(MON, 12, 0), .hit = true },
		{ .cond = "day in fri..mon", .now = T(TUE, 12, 0) },
		{ .cond = "day in fri..mon", .now = T(WED, 12, 0) },
		{ .cond = "day in fri..mon", .now = T(THU, 23, 59) },
	};
	CHECK_COND_ROWS(rows);
}

static void test_date_conditions(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "date == 2026-12-24", .now = T(D2026_12_23, 23, 59) },
		{ .cond = "date == 2026-12-24", .now = T(D2026_12_24, 0, 0), .hit = true },
		{ .cond = "date == 2026-12-24", .now = T(D2026_12_24, 23, 59), .hit = true },
		{ .cond = "date == 2026-12-24", .now = T(D2026_12_25, 0, 0) },
		{ .cond = "date != 2026-12-24", .now = T(D2026_12_25, 0, 0), .hit = true },
		{ .cond = "date in 2026-12-24..2026-12-26", .now = T(D2026_12_23, 23, 59) },
		{ .cond = "date in 2026-12-24..2026-12-26", .now = T(D2026_12_24, 0, 0), .hit = true },
		{ .cond = "date in 2026-12-24..2026-12-26", .now = T(D2026_12_25, 12, 0), .hit = true },
		{ .cond = "date in 2026-12-24..2026-12-26", .now = T(D2026_12_26, 23, 59), .hit = true },
		{ .cond = "date in 2026-12-24..2026-12-26", .now = T(D2026_12_27, 0, 0) },
		{ .cond = "date in [2026-12-24, 2026-12-31..2027-01-01]", .now = T(D2026_12_25, 12, 0) },
		{ .cond = "date in [2026-12-24, 2026-12-31..2027-01-01]", .now = T(D2026_12_31, 0, 0), .hit = true },
		{ .cond = "date in [2026-12-24, 2026-12-31..2027-01-01]", .now = T(D2027_01_01, 23, 59), .hit = true },
		{ .cond = "date not in 2026-12-24..2026-12-26", .now = T(D2026_12_27, 0, 0), .hit = true },
		{ .cond = "date == 2028-02-29", .now = T(D2028_02_28, 23, 59) },
		{ .cond = "date == 2028-02-29", .now = T(D2028_02_29, 0, 0), .hit = true },
		{ .cond = "date == 2028-02-29", .now = T(D2028_03_01, 0, 0) },
	};
	CHECK_COND_ROWS(rows);
}

/*
 * Sunday 2026-03-08 23:30 UTC is Monday 01:30 at +02:00; Sunday 00:30 UTC
 * is Saturday 19:30 at -05:00 (no offset within 18 hours turns Sunday 23:30
 * UTC into a Saturday).
 */
static void test_local_time_under_utc_offsets(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "day == sun", .now = T(SUN, 23, 30), .offset = 0, .hit = true },
		{ .cond = "day == sun", .now = T(SUN, 23, 30), .offset = 2 * HOUR },
		{ .cond = "day == mon", .now = T(SUN, 23, 30), .offset = 2 * HOUR, .hit = true },
		{ .cond = "day == mon", .now = T(SUN, 23, 30), .offset = 0 },
		{ .cond = "day == sun", .now = T(SUN, 0, 30), .offset = -5 * HOUR },
		{ .cond = "day == sat", .now = T(SUN, 0, 30), .offset = -5 * HOUR, .hit = true },
		{ .cond = "day == sat", .now = T(SUN, 0, 30), .offset = 0 },
		{ .cond = "time in 22:00..06:00", .now = T(SUN, 23, 30), .offset = 2 * HOUR, .hit = true },
		{ .cond = "time in 22:00..06:00", .now = T(SUN, 23, 30), .offset = -5 * HOUR },
		{ .cond = "time in 22:00..06:00", .now = T(WED, 21, 0), .offset = HOUR, .hit = true },
		{ .cond = "time in 22:00..06:00", .now = T(WED, 21, 0) - 1, .offset = HOUR },
		{ .cond = "time in 22:00..06:00", .now = T(WED, 6, 0), .offset = -60, .hit = true },
		{ .cond = "time in 22:00..06:00", .now = T(WED, 6, 0), .offset = 0 },
		{ .cond = "time in 09:00..17:00", .now = T(WED, 12, 0), .offset = 5 * HOUR + 1800 },
		{ .cond = "time in 09:00..17:00", .now = T(WED, 11, 29), .offset = 5 * HOUR + 1800, .hit = true },
		{ .cond = "date == 2027-01-01", .now = T(D2026_12_31, 23, 30), .offset = HOUR, .hit = true },
		{ .cond = "date == 2027-01-01", .now = T(D2026_12_31, 23, 30), .offset = 0 },
		{ .cond = "date == 2026-12-31", .now = T(D2027_01_01, 0, 30), .offset = -HOUR, .hit = true },
		{ .cond = "date == 2026-12-31", .now = T(D2027_01_01, 0, 30), .offset = 0 },
		/* the extreme offsets: Wednesday noon UTC is Thursday 06:00 and Tuesday 18:00 */
		{ .cond = "day == thu", .now = NOON, .offset = 18 * HOUR, .hit = true },
		{ .cond = "day == tue", .now = NOON, .offset = -18 * HOUR, .hit = true },
		{ .cond = "time in 06:00..06:01", .now = NOON, .offset = 18 * HOUR, .hit = true },
		{ .cond = "time in 18:00..18:01", .now = NOON, .offset = -18 * HOUR, .hit = true },
	};
	CHECK_COND_ROWS(rows);
}

/* Times before 1970 round down to the earlier day and minute. */
static void test_local_time_before_1970(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "day == wed", .now = -60, .hit = true },
		{ .cond = "day == wed", .now = -1, .hit = true },
		{ .cond = "time in 23:59..24:00", .now = -1, .hit = true },
		{ .cond = "time in 23:59..24:00", .now = -61 },
		{ .cond = "date == 1970-01-01", .now = -60 },
		{ .cond = "date == 1970-01-01", .now = -60, .offset = 60, .hit = true },
		{ .cond = "day == thu", .now = T(D1969_12_31, 23, 0), .offset = HOUR, .hit = true },
	};
	CHECK_COND_ROWS(rows);
}

static void test_and_or_not(void **state)
{
	(void)state;
	static const struct cond_row rows[] = {
		{ .cond = "user == \"alice\" and host == \"mac-01\"", .user = "alice", .host = "mac-01", .hit = true },
		{ .cond = "user == \"alice\" and host == \"mac-01\"", .user = "alice", .host = "mac-02" },
		{ .cond = "user == \"alice\" and host == \"mac-01\"", .user = "bob", .host = "mac-01" },
		{ .cond = "user == \"alice\" or group == \"ops\"", .user = "bob", .groups = { "ops" }, .hit = true },
		{ .cond = "user == \"alice\" or group == \"ops\"", .user = "bob", .groups = { "dev" } },
		{ .cond = "not (user == \"alice\")", .user = "bob", .hit = true },
		{ .cond = "not (user == \"alice\")", .user = "alice" },
		{ .cond = "not user == \"alice\" and day == wed", .user = "bob", .hit = true },
		{ .cond = "not user == \"alice\" and day == wed", .user = "bob", .now = T(THU, 12, 0) },
		{ .cond = "day in mon..fri and not (time in 09:00..17:00)", .now = T(WED, 18, 0), .hit = true },
		{ .cond = "day in mon..fri and not (time in 09:00..17:00)", .now = T(WED, 10, 0) },
		{ .cond = "day in mon..fri and not (time in 09:00..17:00)", .now = T(SAT, 18, 0) },
		{ .cond = "user == \"x\" or user == \"y\" and host == \"h\"", .user = "x", .host = "other", .hit = true },
		{ .cond = "user == \"x\" or user == \"y\" and host == \"h\"", .user = "y", .host = "other" },
		{ .cond = "(user == \"x\" or user == \"y\") and host == \"h\"", .user = "x", .host = "other" },
	};
	CHECK_COND_ROWS(rows);
}

/* ---- limits --------------------------------------------------------------------------- */

/*
 * `elevation { limit LIMIT }` and a request at now (UTC) with offset and
 * earlier grants: allowed or LIMIT_REACHED, with used and left.
 */
struct limit_row {
	const char *what;
	const char *limit;
	int64_t now;
	int32_t offset;
	int64_t grants[6];
	size_t ngrants;
	bool allowed;
	uint32_t used, left;
};

static enum ep_period period_of(const char *limit)
{
	return strstr(limit, "day") ? EP_PERIOD_DAY : strstr(limit, "week") ? EP_PERIOD_WEEK : EP_PERIOD_MONTH;
}

static void check_limit_rows(const struct limit_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct limit_row *r = &rows[i];
		struct loaded l;
		char body[256];
		snprintf(body, sizeof(body), "elevation {\n    limit %s\n}\n", r->limit);
		load_policy(&l, body);
		const struct ep_request req = {
			.user = "alice", .host = "mac-01", .now = r->now, .utc_offset = r->offset,
			.grants = r->grants, .ngrants = r->ngrants,
		};
		struct ep_decision d;
		int rc = evaluate(&l.prog, &req, &d);
		if (rc != 0 || (d.verdict == EP_ALLOW) != r->allowed || d.limit.used != r->used ||
		    d.limit.left != r->left)
			print_error("row %zu (%s, limit %s): want %s used %u left %u, got %s used %u left %u\n", i,
			            r->what, r->limit, r->allowed ? "allow" : "deny", r->used, r->left,
			            d.verdict == EP_ALLOW ? "allow" : "deny", d.limit.used, d.limit.left);
		assert_int_equal(rc, 0);
		assert_int_equal(d.rule, EP_RULE_OTHERWISE);
		assert_int_equal(d.limit.period, period_of(r->limit));
		assert_int_equal(d.limit.count, (uint32_t)strtoul(r->limit, NULL, 10));
		assert_int_equal(d.limit.used, r->used);
		assert_int_equal(d.limit.left, r->left);
		if (r->allowed) {
			assert_int_equal(d.verdict, EP_ALLOW);
			assert_int_equal(d.code, EP_REASON_ALLOWED);
			assert_int_equal(d.duration, 300);
		} else {
			assert_int_equal(d.verdict, EP_DENY);
			assert_int_equal(d.code, EP_REASON_LIMIT_REACHED);
			assert_int_equal(d.duration, 0);
			assert_int_equal(d.max, 0);
		}
		unload_policy(&l);
	}
}

#define CHECK_LIMIT_ROWS(rows) check_limit_rows((rows), sizeof(rows) / sizeof(*(rows)))

static void test_limit_per_day(void **state)
{
	(void)state;
	static const struct limit_row rows[] = {
		{ "no grants", "3 per day", NOON, 0, { 0 }, 0, true, 0, 3 },
		{ "two today", "3 per day", NOON, 0, { T(WED, 8, 0), T(WED, 11, 0) }, 2, true, 2, 1 },
		{ "exactly at the quota", "3 per day", NOON, 0,
		  { T(WED, 0, 0), T(WED, 8, 0), T(WED, 11, 59) }, 3, false, 3, 0 },
		{ "one past the quota", "3 per day", NOON, 0,
		  { T(WED, 0, 0), T(WED, 8, 0), T(WED, 9, 0), T(WED, 11, 59) }, 4, false, 4, 0 },
		{ "yesterday does not count", "3 per day", NOON, 0,
		  { T(TUE, 23, 59), T(WED, 8, 0), T(WED, 9, 0) }, 3, true, 2, 1 },
		{ "local day at +02:00", "3 per day", LOCAL(WED, 12, 0, 2 * HOUR), 2 * HOUR,
		  { LOCAL(WED, 1, 30, 2 * HOUR), LOCAL(TUE, 23, 59, 2 * HOUR) }, 2, true, 1, 2 },
		{ "local day at -05:00", "3 per day", LOCAL(WED, 12, 0, -5 * HOUR), -5 * HOUR,
		  { T(WED, 3, 0) /* Tue 22:00 local */, T(WED, 5, 0) /* Wed 00:00 local */ }, 2, true, 1, 2 },
		{ "leap day", "1 per day", T(D2028_02_29, 10, 0), 0,
		  { T(D2028_02_28, 23, 59) }, 1, true, 0, 1 },
		{ "leap day used", "1 per day", T(D2028_02_29, 10, 0), 0,
		  { T(D2028_02_29, 0, 0) }, 1, false, 1, 0 },
	};
	CHECK_LIMIT_ROWS(rows);
}

static void test_limit_per_week(void **state)
{
	(void)state;
	static const struct limit_row rows[] = {
		{ "Sunday -> Monday starts a week", "2 per week", T(NEXT_MON, 0, 0), 0,
		  { T(SAT, 12, 0), T(SUN, 23, 59) }, 2, true, 0, 2 },
		{ "Monday through Sunday is one week", "2 per week", T(SUN, 23, 59), 0,
		  { T(MON, 0, 0), T(WED, 12, 0) }, 2, false, 2, 0 },
		{ "the Sunday before is another week", "2 per week", T(MON, 0, 0), 0,
		  { T(D2026_03_01, 23, 59) }, 1, true, 0, 2 },
		{ "one week across the new year", "2 per week", T(D2027_01_01, 12, 0), 0,
		  { T(D2026_12_27, 23, 59), T(D2026_12_28, 0, 0) }, 2, true, 1, 1 },
		{ "local week at +02:00", "2 per week", LOCAL(NEXT_MON, 0, 30, 2 * HOUR), 2 * HOUR,
		  { T(SUN, 22, 30) /* Mon 00:30 local */ }, 1, true, 1, 1 },
		{ "local week at -05:00", "2 per week", LOCAL(NEXT_MON, 0, 30, -5 * HOUR), -5 * HOUR,
		  { T(NEXT_MON, 4, 0) /* Sun 23:00 local */ }, 1, true, 0, 2 },
	};
	CHECK_LIMIT_ROWS(rows);
}

static void test_limit_per_month(void **state)
{
	(void)state;
	static const struct limit_row rows[] = {
		{ "February does not count in March", "2 per month", T(D2026_03_01, 0, 0), 0,
		  { T(D2026_02_28, 23, 59), T(D2026_03_01, 0, 0) }, 2, true, 1, 1 },
		{ "December does not count in January", "2 per month", T(D2027_01_01, 0, 0), 0,
		  { T(D2026_12_24, 12, 0), T(D2026_12_31, 23, 59) }, 2, true, 0, 2 },
		{ "same month of another year", "2 per month", T(D2027_01_01, 12, 0), 0,
		  { T(D2027_01_01 - 365, 12, 0) }, 1, true, 0, 2 },
		{ "February 2028 has 29 days", "2 per month", T(D2028_02_29, 12, 0), 0,
		  { T(D2028_02_01, 0, 0), T(D2028_02_29, 0, 0) }, 2, false, 2, 0 },
		{ "leap day is February", "2 per month", T(D2028_03_01, 0, 0), 0,
		  { T(D2028_02_01, 0, 0), T(D2028_02_29, 23, 59) }, 2, true, 0, 2 },
		{ "local month at -01:00", "2 per month", T(D2026_03_01, 0, 30), -HOUR,
		  { T(D2026_02_15, 12, 0) }, 1, true, 1, 1 },
		{ "local month at +01:00", "2 per month", T(D2026_02_28, 23, 30), HOUR,
		  { T(D2026_02_15, 12, 0), T(D2026_02_28, 23, 0) }, 2, true, 1, 1 },
		{ "quota 1, used 1", "1 per month", T(D2026_03_01, 12, 0), 0,
		  { T(D2026_03_01, 0, 0) }, 1, false, 1, 0 },
	};
	CHECK_LIMIT_ROWS(rows);
}

static void test_limit_counts_up_to_max_grants(void **state)
{
	(void)state;
	struct loaded l;
	static int64_t grants[EP_MAX_GRANTS];
	struct ep_decision d;

	for (size_t i = 0; i < EP_MAX_GRANTS; i++)
		grants[i] = T(WED, 0, 0) + (int64_t)i;
	load_policy(&l, "elevation {\n    limit 10000 per day\n}\n");
	struct ep_request req = { .user = "alice", .host = "", .now = NOON, .grants = grants,
	                          .ngrants = EP_MAX_GRANTS - 1 };
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);
	assert_int_equal(d.limit.used, EP_MAX_GRANTS - 1);
	assert_int_equal(d.limit.left, 1);
	req.ngrants = EP_MAX_GRANTS;
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_DENY);
	assert_int_equal(d.code, EP_REASON_LIMIT_REACHED);
	assert_int_equal(d.limit.used, EP_MAX_GRANTS);
	assert_int_equal(d.limit.left, 0);
	unload_policy(&l);
}

static void test_no_limit_ignores_grants(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	static const int64_t grants[] = { NOON - 1, NOON - 2, NOON - 3 };

	load_policy(&l, "elevation {\n    limit none\n}\n");
	const struct ep_request req = { .user = "alice", .host = "", .now = NOON, .grants = grants,
	                                .ngrants = 3 };
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);
	assert_int_equal(d.limit.period, EP_PERIOD_NONE);
	assert_int_equal(d.limit.count, 0);
	assert_int_equal(d.limit.used, 0);
	assert_int_equal(d.limit.left, 0);
	unload_policy(&l);
}

/* ---- whole decisions -------------------------------------------------------------------- */

/* examples/rules.ep's elevation block and rules. */
#define RULES_POLICY \
	"elevation {\n" \
	"    duration      5m\n" \
	"    max           30m\n" \
	"    limit         10 per month\n" \
	"    authenticate  biometric or password\n" \
	"    reason        required min 10 max 200\n" \
	"    choices       \"Install/Remove an Application\", \"Change a Setting\"\n" \
	"    other         allowed\n" \
	"    timer         shown\n" \
	"}\n" \
	"rule \"No elevation at weekends\" {\n" \
	"    when day in [sat, sun]\n" \
	"    deny \"Admin rights are not available at weekends. Call the help desk.\"\n" \
	"}\n" \
	"rule \"Shared accounts never\" {\n" \
	"    when user in [\"kiosk\", \"guest\"] or host matches \"lab-*\"\n" \
	"    deny\n" \
	"}\n" \
	"rule \"Contractors: short and rare\" {\n" \
	"    when group == \"contractors\"\n" \
	"    duration 2m\n" \
	"    limit 3 per day\n" \
	"    authenticate password\n" \
	"}\n" \
	"rule \"Night shift writes a real reason\" {\n" \
	"    when time in 22:00..06:00\n" \
	"    reason required min 30\n" \
	"    other allowed\n" \
	"}\n" \
	"otherwise allow\n"

struct decision_row {
	const char *what;
	const char *user;
	const char *group;              /* one group or NULL */
	const char *host;
	int64_t now;
	size_t grants_today;            /* grants at 00:00..00:0n of the request's day */
	enum ep_verdict verdict;
	enum ep_reason_code code;
	int32_t rule;
	const char *rule_name;
	const char *message;
	uint32_t duration, max;
	unsigned auth;
	uint32_t reason_min;
	enum ep_period period;
	uint32_t count, used, left;
};

static void test_rules_example_decisions(void **state)
{
	(void)state;
	static const struct decision_row rows[] = {
		{ "weekday noon", "alice", NULL, "mac-01", NOON, 0, EP_ALLOW, EP_REASON_ALLOWED,
		  EP_RULE_OTHERWISE, NULL, NULL, 300, 1800, EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD, 10,
		  EP_PERIOD_MONTH, 10, 0, 10 },
		{ "Saturday", "alice", NULL, "mac-01", T(SAT, 12, 0), 0, EP_DENY, EP_REASON_RULE_DENIED, 0,
		  "No elevation at weekends", "Admin rights are not available at weekends. Call the help desk.",
		  0, 0, 0, 0, EP_PERIOD_NONE, 0, 0, 0 },
		{ "kiosk account", "kiosk", NULL, "mac-01", NOON, 0, EP_DENY, EP_REASON_RULE_DENIED, 1,
		  "Shared accounts never", NULL, 0, 0, 0, 0, EP_PERIOD_NONE, 0, 0, 0 },
		{ "lab host", "alice", NULL, "lab-12", NOON, 0, EP_DENY, EP_REASON_RULE_DENIED, 1,
		  "Shared accounts never", NULL, 0, 0, 0, 0, EP_PERIOD_NONE, 0, 0, 0 },
		{ "contractor", "carol", "contractors", "mac-01", NOON, 2, EP_ALLOW, EP_REASON_ALLOWED, 2,
		  "Contractors: short and rare", NULL, 120, 1800, EP_AUTH_PASSWORD, 10, EP_PERIOD_DAY, 3, 2, 1 },
		{ "contractor, quota used", "carol", "contractors", "mac-01", NOON, 3, EP_DENY,
		  EP_REASON_LIMIT_REACHED, 2, "Contractors: short and rare", NULL, 0, 0, EP_AUTH_PASSWORD, 10,
		  EP_PERIOD_DAY, 3, 3, 0 },
		{ "night shift", "alice", NULL, "mac-01", T(WED, 23, 0), 0, EP_ALLOW, EP_REASON_ALLOWED, 3,
		  "Night shift writes a real reason", NULL, 300, 1800, EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD, 30,
		  EP_PERIOD_MONTH, 10, 0, 10 },
	};
	struct loaded l;

	load_policy(&l, RULES_POLICY);
	assert_int_equal(ep_rule_count(&l.prog), 4);
	for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
		const struct decision_row *r = &rows[i];
		int64_t grants[4];
		for (size_t g = 0; g < r->grants_today; g++)
			grants[g] = r->now - r->now % 86400 + 60 * (int64_t)g;
		const char *groups[] = { r->group };
		const struct ep_request req = {
			.user = r->user, .groups = groups, .ngroups = r->group ? 1 : 0, .host = r->host,
			.now = r->now, .grants = grants, .ngrants = r->grants_today,
		};
		struct ep_decision d;
		int rc = evaluate(&l.prog, &req, &d);
		if (rc != 0 || d.verdict != r->verdict || d.code != r->code || d.rule != r->rule ||
		    d.duration != r->duration || d.limit.used != r->used)
			print_error("row %zu (%s): got verdict %d code %d rule %d duration %u used %u\n", i,
			            r->what, (int)d.verdict, (int)d.code, (int)d.rule, d.duration, d.limit.used);
		assert_int_equal(rc, 0);
		assert_int_equal(d.verdict, r->verdict);
		assert_int_equal(d.code, r->code);
		assert_int_equal(d.rule, r->rule);
		assert_string_or_null(d.rule_name, r->rule_name);
		assert_string_or_null(d.message, r->message);
		assert_int_equal(d.duration, r->duration);
		assert_int_equal(d.max, r->max);
		assert_int_equal(d.limit.period, r->period);
		assert_int_equal(d.limit.count, r->count);
		assert_int_equal(d.limit.used, r->used);
		assert_int_equal(d.limit.left, r->left);
		if (r->code == EP_REASON_RULE_DENIED) {
			assert_int_equal(d.auth, 0);
			assert_int_equal(d.reason.mode, EP_REASON_NONE);
			assert_int_equal(d.reason.nchoices, 0);
		}
		if (r->verdict == EP_DENY)
			continue;
		assert_int_equal(d.auth, r->auth);
		assert_int_equal(d.reason.mode, EP_REASON_REQUIRED);
		assert_int_equal(d.reason.min, r->reason_min);
		assert_int_equal(d.reason.max, 200);
		assert_int_equal(d.reason.nchoices, 2);
		assert_string_equal(d.reason.choices[0], "Install/Remove an Application");
		assert_string_equal(d.reason.choices[1], "Change a Setting");
		assert_true(d.reason.other_allowed);
		assert_true(d.timer_shown);
	}
	unload_policy(&l);
}

static void test_default_settings(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	const struct ep_request req = { .user = "alice", .host = "", .now = NOON };

	load_policy(&l, "");
	assert_int_equal(ep_rule_count(&l.prog), 0);
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);
	assert_int_equal(d.code, EP_REASON_ALLOWED);
	assert_int_equal(d.rule, EP_RULE_OTHERWISE);
	assert_null(d.rule_name);
	assert_null(d.message);
	assert_int_equal(d.duration, 300);
	assert_int_equal(d.max, 300);
	assert_int_equal(d.auth, EP_AUTH_PASSWORD);
	assert_int_equal(d.reason.mode, EP_REASON_NONE);
	assert_int_equal(d.reason.min, 0);
	assert_int_equal(d.reason.max, 0);
	assert_int_equal(d.reason.nchoices, 0);
	assert_false(d.reason.other_allowed);
	assert_false(d.timer_shown);
	assert_int_equal(d.limit.period, EP_PERIOD_NONE);
	unload_policy(&l);
}

static void test_rule_without_when_decides_everything(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	const struct ep_request req = { .user = "anyone", .host = "", .now = T(SAT, 3, 0) };

	load_policy(&l, "rule \"all\" {\n    duration 1h\n    authenticate none\n}\notherwise deny\n");
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);
	assert_int_equal(d.rule, 0);
	assert_string_equal(d.rule_name, "all");
	assert_int_equal(d.duration, 3600);
	assert_int_equal(d.max, 3600);
	assert_int_equal(d.auth, 0);
	unload_policy(&l);
}

static void test_first_matching_rule_decides(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	const struct ep_request req = { .user = "alice", .host = "mac-01", .now = NOON };

	load_policy(&l, "rule \"first\" {\n    when user == \"alice\"\n    duration 1m\n}\n"
	                "rule \"second\" {\n    when host == \"mac-01\"\n    deny \"second\"\n}\n");
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);
	assert_int_equal(d.rule, 0);
	assert_int_equal(d.duration, 60);

	const struct ep_request bob = { .user = "bob", .host = "mac-01", .now = NOON };
	assert_int_equal(evaluate(&l.prog, &bob, &d), 0);
	assert_int_equal(d.verdict, EP_DENY);
	assert_int_equal(d.rule, 1);
	assert_string_equal(d.message, "second");
	unload_policy(&l);
}

static void test_otherwise_deny(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	const struct ep_request req = { .user = "alice", .host = "mac-01", .now = NOON };

	load_policy(&l, "otherwise deny \"Ask the help desk.\"\n");
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_DENY);
	assert_int_equal(d.code, EP_REASON_DEFAULT_DENIED);
	assert_int_equal(d.rule, EP_RULE_OTHERWISE);
	assert_null(d.rule_name);
	assert_string_equal(d.message, "Ask the help desk.");
	assert_int_equal(d.duration, 0);
	assert_int_equal(d.max, 0);
	assert_int_equal(d.auth, 0);
	unload_policy(&l);

	load_policy(&l, "rule \"admins\" {\n    when group == \"it\"\n}\notherwise deny\n");
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_DENY);
	assert_int_equal(d.code, EP_REASON_DEFAULT_DENIED);
	assert_null(d.message);
	static const char *const it[] = { "it" };
	const struct ep_request admin = { .user = "alice", .groups = it, .ngroups = 1, .host = "", .now = NOON };
	assert_int_equal(evaluate(&l.prog, &admin, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);
	assert_int_equal(d.rule, 0);
	assert_string_equal(d.rule_name, "admins");
	unload_policy(&l);
}

static void test_otherwise_allow(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	const struct ep_request req = { .user = "alice", .host = "mac-01", .now = NOON };

	load_policy(&l, "elevation {\n    duration 10m\n}\n"
	                "rule \"r\" {\n    when user == \"bob\"\n    deny \"Not bob.\"\n}\notherwise allow\n");
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);
	assert_int_equal(d.code, EP_REASON_ALLOWED);
	assert_int_equal(d.rule, EP_RULE_OTHERWISE);
	assert_null(d.message);
	assert_int_equal(d.duration, 600);
	unload_policy(&l);
}

/* Records each test instruction's result. */
struct trace_log {
	uint32_t pc[8];
	bool result[8];
	unsigned n;
};

static void record(void *ctx, uint32_t pc, bool result)
{
	struct trace_log *t = ctx;
	if (t->n < 8) {
		t->pc[t->n] = pc;
		t->result[t->n] = result;
	}
	t->n++;
}

static void test_trace_sees_each_test(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	struct trace_log t = { .n = 0 };
	const struct ep_request req = { .user = "alice", .host = "mac-01", .now = NOON };

	load_policy(&l, "rule \"a\" {\n    when user == \"bob\"\n}\nrule \"b\" {\n    when user == \"alice\"\n}\n");
	assert_int_equal(ep_evaluate_traced(&l.prog, &req, &d, record, &t), 0);
	assert_int_equal(d.rule, 1);
	assert_int_equal(t.n, 2);
	assert_false(t.result[0]);
	assert_true(t.result[1]);
	assert_true(t.pc[0] < t.pc[1]);
	assert_true(t.pc[1] < l.prog.code_size);
	unload_policy(&l);
}

/* ---- faults ------------------------------------------------------------------------------ */

static void assert_fault(const struct ep_decision *d)
{
	assert_int_equal(d->verdict, EP_DENY);
	assert_int_equal(d->code, EP_REASON_FAULT);
	assert_int_equal(d->rule, EP_RULE_OTHERWISE);
	assert_null(d->rule_name);
	assert_null(d->message);
	assert_int_equal(d->duration, 0);
	assert_int_equal(d->max, 0);
	assert_int_equal(d->auth, 0);
	assert_int_equal(d->reason.nchoices, 0);
	assert_int_equal(d->limit.period, EP_PERIOD_NONE);
}

static void test_unverified_program_denies(void **state)
{
	(void)state;
	struct ep_program prog;
	struct ep_decision d;
	const struct ep_request req = { .user = "alice", .host = "mac-01", .now = NOON };

	memset(&prog, 0, sizeof(prog));
	assert_int_equal(evaluate(&prog, &req, &d), -EP_NOT_VERIFIED);
	assert_fault(&d);
	assert_int_equal(evaluate(NULL, &req, &d), -EP_NOT_VERIFIED);
	assert_fault(&d);
}

static void test_program_that_failed_to_load_denies(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_program prog;
	struct ep_decision d;
	const struct ep_request req = { .user = "alice", .host = "mac-01", .now = NOON };

	load_policy(&l, "");
	l.c.bytecode[0] ^= 1;
	assert_int_equal(ep_load(&prog, l.c.bytecode, l.c.bytecode_len, NULL), -EP_BAD_MAGIC);
	assert_int_equal(evaluate(&prog, &req, &d), -EP_NOT_VERIFIED);
	assert_fault(&d);
	unload_policy(&l);
}

static void test_no_decision_buffer(void **state)
{
	(void)state;
	struct loaded l;
	const struct ep_request req = { .user = "alice", .host = "mac-01", .now = NOON };

	load_policy(&l, "");
	assert_int_equal(ep_evaluate(&l.prog, &req, NULL), -EP_BAD_REQUEST);
	unload_policy(&l);
}

/* The next slot of bad, a copy of good, for the caller to spoil one field of. */
static struct ep_request *spoil(struct ep_request *bad, size_t *n, const struct ep_request *good)
{
	bad[*n] = *good;
	return &bad[(*n)++];
}

static void test_malformed_requests_deny(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	static const char *groups[EP_MAX_GROUPS + 1];
	static int64_t grants[EP_MAX_GRANTS + 1];
	static const char *const null_group[] = { "staff", NULL };
	static const int64_t far_grant[] = { (int64_t)1 << 40 };

	for (size_t i = 0; i < EP_MAX_GROUPS + 1; i++)
		groups[i] = "staff";
	for (size_t i = 0; i < EP_MAX_GRANTS + 1; i++)
		grants[i] = NOON - 1;
	load_policy(&l, "");
	const struct ep_request good = { .user = "alice", .host = "mac-01", .now = NOON };
	assert_int_equal(evaluate(&l.prog, &good, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);

	struct ep_request bad[16], *r;
	size_t n = 0;
	spoil(bad, &n, &good)->user = NULL;
	spoil(bad, &n, &good)->host = NULL;
	r = spoil(bad, &n, &good), r->groups = groups, r->ngroups = EP_MAX_GROUPS + 1;
	r = spoil(bad, &n, &good), r->groups = NULL, r->ngroups = 1;
	r = spoil(bad, &n, &good), r->groups = null_group, r->ngroups = 2;
	spoil(bad, &n, &good)->session = (enum ep_session)2;
	spoil(bad, &n, &good)->session = (enum ep_session)-1;
	spoil(bad, &n, &good)->utc_offset = 18 * HOUR + 1;
	spoil(bad, &n, &good)->utc_offset = -18 * HOUR - 1;
	spoil(bad, &n, &good)->utc_offset = INT32_MAX;
	spoil(bad, &n, &good)->utc_offset = INT32_MIN;
	spoil(bad, &n, &good)->now = (int64_t)1 << 40;
	spoil(bad, &n, &good)->now = INT64_MIN;
	r = spoil(bad, &n, &good), r->grants = NULL, r->ngrants = 1;
	r = spoil(bad, &n, &good), r->grants = far_grant, r->ngrants = 1;
	r = spoil(bad, &n, &good), r->grants = grants, r->ngrants = EP_MAX_GRANTS + 1;
	for (size_t i = 0; i < n; i++) {
		int rc = evaluate(&l.prog, &bad[i], &d);
		if (rc != -EP_BAD_REQUEST)
			print_error("malformed request %zu: rc %d\n", i, rc);
		assert_int_equal(rc, -EP_BAD_REQUEST);
		assert_fault(&d);
	}
	assert_int_equal(evaluate(&l.prog, NULL, &d), -EP_BAD_REQUEST);
	assert_fault(&d);
	unload_policy(&l);
}

static void test_request_limits_are_inclusive(void **state)
{
	(void)state;
	struct loaded l;
	struct ep_decision d;
	static const char *groups[EP_MAX_GROUPS];

	for (size_t i = 0; i < EP_MAX_GROUPS; i++)
		groups[i] = "staff";
	load_policy(&l, "rule \"r\" {\n    when group == \"staff\"\n    deny\n}\n");
	struct ep_request req = { .user = "alice", .groups = groups, .ngroups = EP_MAX_GROUPS, .host = "",
	                          .now = NOON, .utc_offset = 18 * HOUR };
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.code, EP_REASON_RULE_DENIED);
	req.utc_offset = -18 * HOUR;
	req.now = ((int64_t)1 << 40) - 1;
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.code, EP_REASON_RULE_DENIED);
	req.now = -((int64_t)1 << 40) + 1;
	assert_int_equal(evaluate(&l.prog, &req, &d), 0);
	assert_int_equal(d.code, EP_REASON_RULE_DENIED);
	unload_policy(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_conditions),
		cmocka_unit_test(test_user_matches),
		cmocka_unit_test(test_group_any_of_semantics),
		cmocka_unit_test(test_host_conditions),
		cmocka_unit_test(test_session_conditions),
		cmocka_unit_test(test_time_ranges),
		cmocka_unit_test(test_time_range_wrapping_midnight),
		cmocka_unit_test(test_time_range_ending_at_24),
		cmocka_unit_test(test_day_conditions),
		cmocka_unit_test(test_day_range_wrapping_the_week),
		cmocka_unit_test(test_date_conditions),
		cmocka_unit_test(test_local_time_under_utc_offsets),
		cmocka_unit_test(test_local_time_before_1970),
		cmocka_unit_test(test_and_or_not),
		cmocka_unit_test(test_limit_per_day),
		cmocka_unit_test(test_limit_per_week),
		cmocka_unit_test(test_limit_per_month),
		cmocka_unit_test(test_limit_counts_up_to_max_grants),
		cmocka_unit_test(test_no_limit_ignores_grants),
		cmocka_unit_test(test_rules_example_decisions),
		cmocka_unit_test(test_default_settings),
		cmocka_unit_test(test_rule_without_when_decides_everything),
		cmocka_unit_test(test_first_matching_rule_decides),
		cmocka_unit_test(test_otherwise_deny),
		cmocka_unit_test(test_otherwise_allow),
		cmocka_unit_test(test_trace_sees_each_test),
		cmocka_unit_test(test_unverified_program_denies),
		cmocka_unit_test(test_program_that_failed_to_load_denies),
		cmocka_unit_test(test_no_decision_buffer),
		cmocka_unit_test(test_malformed_requests_deny),
		cmocka_unit_test(test_request_limits_are_inclusive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
