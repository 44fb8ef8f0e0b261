/*
 * test_differential.c - libep's evaluator against polc's reference
 * evaluator (compiler/eval_ref.c), plus a few fixed cases that pin the
 * reference itself to the language's documented semantics.
 *
 * A seeded PRNG writes random policy texts from a fixed vocabulary (names,
 * globs, wrapping time ranges, day lists and ranges, dates, and/or/not and
 * parentheses, deny rules, layered settings, limits per day, week and
 * month, otherwise allow/deny). Each is compiled (no target), its bytecode
 * loaded and verified, and many random requests (times across years and
 * near midnight, offsets from -12h to +14h, grant histories near period
 * boundaries, a few malformed requests) are decided by both evaluators,
 * which must agree on every field of the decision. A failure prints the
 * policy and the request. Deterministic: the same seed, the same cases
 * (at most one PRNG call per full expression, so on every compiler).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "calendar.h"
#include "eval_ref.h"
#include "helpers.h"

#define SEED 0x5EED2026u
#define POLICIES 4000
#define REQUESTS_PER_POLICY 100


/* ---- a growing text buffer ------------------------------------------------------ */


/* ---- the vocabulary ---------------------------------------------------------------- */

static const char *const users[] = { "alice", "bob", "carol", "dave", "kiosk", "guest", "root",
                                     "zo\xC3\xAB" };
static const char *const groups[] = { "staff", "contractors", "admin", "wheel", "lab", "ops",
                                      "dev-1", "dev-2" };
static const char *const hosts[] = { "mac-01", "mac-02", "lab-01", "lab-7", "kiosk-1", "build",
                                     "Mac-01" };
static const char *const globs[] = { "lab-*", "*-0?", "mac-*", "*", "?ob", "a*e", "*o*", "dev-?",
                                     "*1", "k*k*", "zo?", "" };
/* What requests use: every policy name and a few more. */
static const char *const request_names[] = { "alice", "bob", "carol", "dave", "kiosk", "guest",
                                             "root", "zo\xC3\xAB", "zoe", "staff", "contractors",
                                             "admin", "wheel", "lab", "dev-1", "dev-3", "mac-01",
                                             "mac-02", "lab-01", "lab-", "lab-7", "kiosk-1",
                                             "build", "Mac-01", "", "ob", "a-e", "xlab-01" };
static const char *const day_words[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun",
                                         "monday", "tuesday", "wednesday", "thursday", "friday",
                                         "saturday", "sunday" };
static const char *const choice_words[] = { "Install/Remove an Application", "Change a Setting",
                                            "Debug \\\"it\\\"", "R\xC3\xA9seau", "Other" };
static const uint32_t durations[] = { 1, 30, 60, 90, 120, 300, 600, 3600, 5400, 86400 };

/* First and last local day requests are mostly drawn from: 2024-01-01 .. 2028-12-31. */
#define DAY_FIRST 19723
#define DAY_LAST 21549

/* ---- writing a random policy ----------------------------------------------------------- */

#define MAX_SPOTS 64

/* A policy's text and the days and minutes where its conditions change. */
struct gen {
	struct rng *r;
	struct text t;
	int32_t days[MAX_SPOTS];
	size_t ndays;
	uint16_t minutes[MAX_SPOTS];
	size_t nminutes;
	/* the elevation block's values that rule settings layer over */
	uint32_t duration, max;
	bool max_given;
	uint32_t reason_min, reason_max;
};

static void note_day(struct gen *g, int32_t day)
{
	if (g->ndays < MAX_SPOTS)
		g->days[g->ndays++] = day;
}

static void note_minute(struct gen *g, uint16_t minute)
{
	if (g->nminutes < MAX_SPOTS)
		g->minutes[g->nminutes++] = minute;
}

static void put_duration(struct gen *g, uint32_t s)
{
	if (s >= 3600 && s % 3600 == 0 && chance(g->r, 70))
		put(&g->t, "%uh", s / 3600);
	else if (s >= 3600 && s % 60 == 0)
		put(&g->t, "%uh%um", s / 3600, s % 3600 / 60);
	else if (s % 60 == 0)
		put(&g->t, "%um", s / 60);
	else if (s > 60 && chance(g->r, 50))
		put(&g->t, "%um%us", s / 60, s % 60);
	else
		put(&g->t, "%us", s);
}

static void put_date(struct gen *g, int32_t day)
{
	struct civil_date d = ep_civil_from_days(day);
	put(&g->t, "%04d-%02u-%02u", (int)d.year, d.month, d.day);
	note_day(g, day);
}

static void put_time(struct gen *g, uint16_t minute, bool is_end)
{
	if (is_end && minute == 0 && chance(g->r, 50))
		put(&g->t, "24:00");
	else
		put(&g->t, chance(g->r, 20) ? "%u:%02u" : "%02u:%02u", minute / 60u, minute % 60u);
	note_minute(g, minute);
}

static uint16_t random_minute(struct rng *r)
{
	return (uint16_t)(chance(r, 50) ? 30 * below(r, 48) : below(r, 1440));
}

/* One value (or range, when ranges are allowed) of a test's list. */
static void put_item(struct gen *g, int subject, bool may_range)
{
	struct rng *r = g->r;
	switch (subject) {
	case 0: put(&g->t, "\"%s\"", PICK(r, users)); return;
	case 1: put(&g->t, "\"%s\"", PICK(r, groups)); return;
	case 2: put(&g->t, "\"%s\"", PICK(r, hosts)); return;
	case 3: put(&g->t, "%s", chance(r, 50) ? "console" : "remote"); return;
	case 4: {
		uint16_t from = random_minute(r), to;
		do
			to = random_minute(r);
		while (to == from || (to == 0 && from == 0));
		put_time(g, from, false);
		put(&g->t, "..");
		put_time(g, to, true);
		return;
	}
	case 5:
		put(&g->t, "%s", PICK(r, day_words));
		if (may_range && chance(r, 40))
			put(&g->t, "..%s", PICK(r, day_words));
		return;
	default: {
		int32_t from = (int32_t)between(r, DAY_FIRST, DAY_LAST);
		put_date(g, from);
		if (may_range && chance(r, 50)) {
			put(&g->t, "..");
			put_date(g, from + (int32_t)below(r, chance(r, 50) ? 3 : 400));
		}
		return;
	}
	}
}

static const char *const subject_words[] = { "user", "group", "host", "session", "time", "day",
                                             "date" };

static void gen_test(struct gen *g)
{
	struct rng *r = g->r;
	int subject = (int)below(r, 7);
	bool names = subject <= 2;
	unsigned op = subject == 4 ? 2 + below(r, 2) : below(r, names ? 5 : 4);

	put(&g->t, "%s ", subject_words[subject]);
	if (op == 4) {
		put(&g->t, "matches \"%s\"", PICK(r, globs));
		return;
	}
	static const char *const ops[] = { "==", "!=", "in", "not in" };
	put(&g->t, "%s ", ops[op]);
	if (op < 2) {
		put_item(g, subject, false);
		return;
	}
	if (subject != 4 && subject != 5 && subject != 6 && chance(r, 30)) {
		put_item(g, subject, false);        /* `in` with one value, no brackets */
		return;
	}
	unsigned n = 1 + below(r, chance(r, 15) ? 10 : 4);
	bool brackets = n > 1 || chance(r, 60);
	put(&g->t, brackets ? "[" : "");
	for (unsigned i = 0; i < n; i++) {
		put(&g->t, i ? (chance(r, 10) ? ",\n    " : ", ") : "");
		put_item(g, subject, true);
	}
	put(&g->t, brackets ? "]" : "");
}

enum { PREC_OR = 1, PREC_AND, PREC_NOT, PREC_TEST };

/* An expression that needs precedence at least min_prec where it stands. */
static void gen_expr(struct gen *g, int depth, int min_prec)
{
	struct rng *r = g->r;
	int kind = depth <= 0 || chance(r, 40) ? PREC_TEST : (int)(1 + below(r, 3));
	bool parens = kind < min_prec || (kind != PREC_TEST && chance(r, 15)) || chance(r, 5);

	put(&g->t, parens ? "(" : "");
	switch (kind) {
	case PREC_OR:
	case PREC_AND:
		gen_expr(g, depth - 1, kind);
		put(&g->t, kind == PREC_OR ? " or" : " and");
		put(&g->t, chance(r, 15) ? "\n        " : " ");
		gen_expr(g, depth - 1, kind + 1);
		break;
	case PREC_NOT:
		put(&g->t, "not ");
		gen_expr(g, depth - 1, PREC_NOT);
		break;
	default:
		gen_test(g);
	}
	put(&g->t, parens ? ")" : "");
}

static uint32_t pick_duration(struct rng *r, uint32_t lo, uint32_t hi)
{
	uint32_t d;
	do
		d = PICK(r, durations);
	while (d < lo || d > hi);
	return d;
}

static void gen_limit(struct gen *g)
{
	static const char *const periods[] = { "day", "week", "month" };
	if (chance(g->r, 20)) {
		put(&g->t, "    limit none\n");
		return;
	}
	unsigned count = chance(g->r, 5) ? 10000u : 1 + below(g->r, 6);
	put(&g->t, "    limit %u per %s\n", count, PICK(g->r, periods));
}

static void gen_auth(struct gen *g)
{
	static const char *const methods[] = { "password", "biometric", "biometric or password",
	                                       "password or biometric", "none" };
	put(&g->t, "    authenticate %s\n", PICK(g->r, methods));
}

/* reason MODE [min N] [max N], keeping min <= max over what is layered below. */
static void gen_reason(struct gen *g, uint32_t base_min, uint32_t base_max, uint32_t *min_out,
                       uint32_t *max_out)
{
	static const char *const modes[] = { "required", "optional", "none" };
	struct rng *r = g->r;
	const char *mode = PICK(r, modes);
	uint32_t min = base_min, max = base_max;
	bool give_min = false, give_max = false;

	if (strcmp(mode, "none") != 0) {
		give_min = chance(r, 50);
		give_max = chance(r, 50);
		if (give_min)
			min = below(r, 51);
		if (give_max)
			max = (uint32_t)between(r, min > 1 ? min : 1, 200);
		if (!give_max && max && min > max) {
			give_min = false;
			min = base_min;
		}
	}
	put(&g->t, "    reason %s", mode);
	bool max_first = chance(r, 30);
	if (give_max && max_first)
		put(&g->t, " max %u", max);
	if (give_min)
		put(&g->t, " min %u", min);
	if (give_max && !max_first)
		put(&g->t, " max %u", max);
	put(&g->t, "\n");
	*min_out = min;
	*max_out = max;
}

static void gen_choices(struct gen *g)
{
	size_t n = sizeof(choice_words) / sizeof(choice_words[0]);
	unsigned first = below(g->r, (uint32_t)n), count = 1 + below(g->r, (uint32_t)n);
	put(&g->t, "    choices ");
	for (unsigned i = 0; i < count; i++)
		put(&g->t, "%s\"%s\"", i ? (chance(g->r, 20) ? ",\n        " : ", ") : "",
		    choice_words[(first + i) % n]);
	put(&g->t, "\n");
}

static void gen_flags(struct gen *g)
{
	if (chance(g->r, 30))
		put(&g->t, "    other %s\n", chance(g->r, 50) ? "allowed" : "not allowed");
	if (chance(g->r, 30))
		put(&g->t, "    timer %s\n", chance(g->r, 50) ? "shown" : "hidden");
}

static void gen_elevation(struct gen *g)
{
	struct rng *r = g->r;
	g->duration = DEFAULT_DURATION_SECONDS;
	g->max_given = false;
	g->reason_min = g->reason_max = 0;
	if (chance(r, 20))
		return;
	put(&g->t, "elevation {\n");
	if (chance(r, 50)) {
		g->duration = pick_duration(r, 1, MAX_DURATION_SECONDS);
		put(&g->t, "    duration ");
		put_duration(g, g->duration);
		put(&g->t, "\n");
	}
	if (chance(r, 30)) {
		g->max_given = true;
		g->max = pick_duration(r, g->duration, MAX_DURATION_SECONDS);
		put(&g->t, "    max ");
		put_duration(g, g->max);
		put(&g->t, "\n");
	}
	if (chance(r, 50))
		gen_limit(g);
	if (chance(r, 50))
		gen_auth(g);
	if (chance(r, 50))
		gen_reason(g, 0, 0, &g->reason_min, &g->reason_max);
	if (chance(r, 40))
		gen_choices(g);
	gen_flags(g);
	put(&g->t, "}\n\n");
}

/* duration and max in a rule, consistent with what they layer over. */
static void gen_rule_durations(struct gen *g)
{
	struct rng *r = g->r;
	bool give_duration = chance(r, 30), give_max = chance(r, 20);
	uint32_t duration = g->duration;

	if (give_duration) {
		uint32_t hi = !give_max && g->max_given ? g->max : MAX_DURATION_SECONDS;
		duration = pick_duration(r, 1, hi);
		put(&g->t, "    duration ");
		put_duration(g, duration);
		put(&g->t, "\n");
	}
	if (give_max) {
		put(&g->t, "    max ");
		put_duration(g, pick_duration(r, duration, MAX_DURATION_SECONDS));
		put(&g->t, "\n");
	}
}

static void gen_rule(struct gen *g, unsigned index)
{
	struct rng *r = g->r;
	uint32_t min, max;

	put(&g->t, "rule \"r%u%s\" {\n", index,
	    chance(r, 10) ? " \\\"quoted\\\" \xC3\xBC" : chance(r, 10) ? ": \\\\ back" : "");
	if (!chance(r, 5)) {
		put(&g->t, "    when ");
		gen_expr(g, (int)below(r, 5), PREC_OR);
		put(&g->t, "\n");
	}
	if (chance(r, 25))
		put(&g->t, chance(r, 60) ? "    deny \"denied by r%u\"\n" : "    deny\n", index);
	gen_rule_durations(g);
	if (chance(r, 30))
		gen_limit(g);
	if (chance(r, 25))
		gen_auth(g);
	if (chance(r, 25))
		gen_reason(g, g->reason_min, g->reason_max, &min, &max);
	if (chance(r, 20))
		gen_choices(g);
	gen_flags(g);
	put(&g->t, "}\n\n");
}

static void gen_policy(struct gen *g)
{
	struct rng *r = g->r;
	g->t.len = 0;
	g->ndays = g->nminutes = 0;
	put(&g->t, TEST_PROFILE "\n");
	gen_elevation(g);
	unsigned nrules = chance(r, 2) ? 20 + below(r, 280) : below(r, 9);
	for (unsigned i = 0; i < nrules; i++)
		gen_rule(g, i);
	switch (below(r, 4)) {
	case 0: break;
	case 1: put(&g->t, "otherwise allow\n"); break;
	case 2: put(&g->t, "otherwise deny\n"); break;
	default: put(&g->t, "otherwise deny \"nobody else\"\n"); break;
	}
}

/* ---- random requests ------------------------------------------------------------------ */

struct request_buf {
	struct ep_request req;
	const char *groups[EP_MAX_GROUPS + 1];
	int64_t grants[EP_MAX_GRANTS + 1];
};

static int32_t random_offset(struct rng *r)
{
	if (chance(r, 3))
		return (int32_t)between(r, -12 * 3600, 14 * 3600);   /* odd seconds */
	return (int32_t)between(r, -12 * 4, 14 * 4) * 900;
}

/* A local day: mostly 2024..2028, some where the policy's dates change, some far away. */
static int64_t random_day(struct rng *r, const struct gen *g)
{
	unsigned kind = below(r, 100);
	if (kind < 15 && g->ndays) {
		int64_t day = g->days[below(r, (uint32_t)g->ndays)];
		return day + between(r, -1, 1);
	}
	if (kind < 25) {
		static const int32_t edges[] = { 0, 10957, 11016, 19723, 19782, 20088, 20453, 20819 };
		int64_t edge = PICK(r, edges);                /* 1970, 2000 (a leap year), new years */
		return edge + between(r, -2, 2);
	}
	if (kind < 28)
		return between(r, -800000, 800000);              /* 1960s .. 4160 */
	return between(r, DAY_FIRST, DAY_LAST);
}

/* A second of the local day: anywhere, near midnight, or near a time the policy names. */
static int64_t random_second(struct rng *r, const struct gen *g)
{
	unsigned kind = below(r, 100);
	if (kind < 25)
		return chance(r, 50) ? between(r, 0, 90) : between(r, 86310, 86399);
	if (kind < 55 && g->nminutes) {
		int64_t m = g->minutes[below(r, (uint32_t)g->nminutes)];
		return ((m * 60 + between(r, -61, 61)) % 86400 + 86400) % 86400;
	}
	return between(r, 0, 86399);
}

/* A grant near a period boundary of now's local day (or anywhere recent). */
static int64_t random_grant(struct rng *r, const struct request_buf *b, int64_t day)
{
	struct civil_date c = ep_civil_from_days((int32_t)day);
	unsigned weekday = ep_weekday((int32_t)day);
	int64_t month_start = day - (c.day - 1), grant_day;

	switch (below(r, 8)) {
	case 0: grant_day = day; break;
	case 1: grant_day = day - 1; break;
	case 2: grant_day = day + between(r, 0, 1); break;
	case 3: grant_day = day - weekday - between(r, 0, 1); break;     /* Monday, or Sunday before */
	case 4: grant_day = month_start - between(r, 0, 1); break;      /* 1st, or last of previous */
	case 5: grant_day = day - between(r, 0, 40); break;
	default: grant_day = day - between(r, 0, 3); break;
	}
	int64_t sec = chance(r, 50) ? (chance(r, 50) ? between(r, 0, 60) : between(r, 86340, 86399))
	                            : between(r, 0, 86399);
	return grant_day * 86400 + sec - b->req.utc_offset;
}

static void random_names(struct rng *r, struct request_buf *b)
{
	b->req.user = chance(r, 60) ? PICK(r, users) : PICK(r, request_names);
	b->req.host = chance(r, 60) ? PICK(r, hosts) : PICK(r, request_names);
	b->req.ngroups = chance(r, 5) ? below(r, 20) : below(r, 5);
	for (size_t i = 0; i < b->req.ngroups; i++)
		b->groups[i] = chance(r, 70) ? PICK(r, groups) : PICK(r, request_names);
	b->req.groups = b->groups;
	b->req.session = chance(r, 50) ? EP_SESSION_CONSOLE : EP_SESSION_REMOTE;
}

static void random_grants(struct rng *r, struct request_buf *b, int64_t day)
{
	b->req.ngrants = chance(r, 2) ? 200 + below(r, 100) : below(r, 13);
	int64_t same = random_grant(r, b, day);
	for (size_t i = 0; i < b->req.ngrants; i++)
		b->grants[i] = b->req.ngrants > 100 && chance(r, 50) ? same : random_grant(r, b, day);
	b->req.grants = b->grants;
}

/* Breaks one thing ep_request_valid() checks. */
static void break_request(struct rng *r, struct request_buf *b)
{
	switch (below(r, 9)) {
	case 0: b->req.user = NULL; break;
	case 1: b->req.host = NULL; break;
	case 2: b->req.session = (enum ep_session)2; break;
	case 3: b->req.utc_offset = chance(r, 50) ? 18 * 3600 + 1 : -18 * 3600 - 1; break;
	case 4: b->req.now = chance(r, 50) ? (int64_t)1 << 40 : -((int64_t)1 << 40); break;
	case 5:
		b->grants[0] = (int64_t)1 << 41;
		b->req.ngrants = b->req.ngrants ? b->req.ngrants : 1;
		break;
	case 6:
		b->groups[0] = NULL;
		b->req.ngroups = b->req.ngroups ? b->req.ngroups : 1;
		break;
	case 7: b->req.ngroups = EP_MAX_GROUPS + 1; break;
	default: b->req.ngrants = EP_MAX_GRANTS + 1; break;
	}
}

static void random_request(struct rng *r, const struct gen *g, struct request_buf *b)
{
	memset(&b->req, 0, sizeof(b->req));
	random_names(r, b);
	b->req.utc_offset = random_offset(r);
	int64_t day = random_day(r, g);
	b->req.now = day * 86400 + random_second(r, g) - b->req.utc_offset;
	random_grants(r, b, day);
	if (chance(r, 1))
		break_request(r, b);
}

/* ---- comparing decisions ------------------------------------------------------------- */

static void print_decision(const char *who, const struct ep_decision *d)
{
	print_error("%s: verdict %d code %d rule %d name %s message %s duration %u max %u auth %u\n"
	            "    reason %d min %u max %u choices %u other %d timer %d limit %d %u used %u left %u\n",
	            who, d->verdict, d->code, (int)d->rule, d->rule_name ? d->rule_name : "(null)",
	            d->message ? d->message : "(null)", d->duration, d->max, d->auth, d->reason.mode,
	            d->reason.min, d->reason.max, d->reason.nchoices, d->reason.other_allowed,
	            d->timer_shown, d->limit.period, d->limit.count, d->limit.used, d->limit.left);
}

static void print_request(const struct ep_request *q)
{
	print_error("request: user %s host %s session %d now %lld offset %d ngroups %zu ngrants %zu\n",
	            q->user ? q->user : "(null)", q->host ? q->host : "(null)", (int)q->session,
	            (long long)q->now, (int)q->utc_offset, q->ngroups, q->ngrants);
	for (size_t i = 0; i < q->ngroups && i < 20 && q->ngroups <= EP_MAX_GROUPS; i++)
		print_error("  group %s\n", q->groups[i] ? q->groups[i] : "(null)");
	for (size_t i = 0; i < q->ngrants && i < 20; i++)
		print_error("  grant %lld\n", (long long)q->grants[i]);
}

/* ---- the differential test ----------------------------------------------------------- */

struct tally {
	unsigned long cases, by_code[EP_REASON_FAULT + 1], traced;
};

static void count_vm_test(void *ctx, uint32_t pc, bool result)
{
	(void)pc;
	(void)result;
	(*(unsigned long *)ctx)++;
}

static void count_ref_test(void *ctx, const struct cond *test, bool result)
{
	(void)test;
	(void)result;
	(*(unsigned long *)ctx)++;
}

/*
 * Both evaluators decide req; decisions and return codes must agree. The
 * VM may test fewer conditions (its rule index skips rules that cannot
 * match), never more.
 */
static void check_one(const struct compilation *c, const struct ep_program *prog,
                      const struct ep_request *req, const char *policy_text, struct tally *t)
{
	struct ep_decision vm, ref;
	unsigned long vm_tests = 0, ref_tests = 0;
	memset(&vm, 0xA5, sizeof(vm));
	memset(&ref, 0x5A, sizeof(ref));
	int vm_rc = ep_evaluate_traced(prog, req, &vm, count_vm_test, &vm_tests);
	int ref_rc = eval_reference(c->policy, req, &ref, count_ref_test, &ref_tests);
	if (vm_rc != ref_rc || !ep_decision_equal(&vm, &ref) || vm_tests > ref_tests) {
		print_error("MISMATCH (vm rc %d, reference rc %d, tests traced %lu and %lu) for policy:\n%s\n",
		            vm_rc, ref_rc, vm_tests, ref_tests, policy_text);
		print_request(req);
		print_decision("vm", &vm);
		print_decision("reference", &ref);
		fail();
	}
	t->cases++;
	t->by_code[vm.code]++;
	t->traced += vm_tests;
}

static void compile_and_load(struct compilation *c, struct ep_program *prog, const char *text)
{
	int rc = compile_text(c, text, NULL, false);
	if (rc != 0) {
		print_error("generated policy does not compile:\n%s\n", text);
		for (const struct diag *d = c->diags.head; d; d = d->next)
			print_error("  %s: %s\n", diag_code_name(d->code), d->message);
	}
	assert_int_equal(rc, 0);
	struct ep_error err;
	rc = ep_load(prog, c->bytecode, c->bytecode_len, &err);
	if (rc != 0)
		print_error("ep_load: %s at byte %u:\n%s\n", ep_status_name(err.status), err.offset, text);
	assert_int_equal(rc, 0);
}

static void test_vm_agrees_with_reference(void **state)
{
	(void)state;
	struct rng r = { SEED };
	struct gen g = { .r = &r };
	static struct request_buf b;
	struct tally t = { 0 };
	clock_t start = clock();

	for (unsigned p = 0; p < POLICIES; p++) {
		struct compilation c;
		struct ep_program prog;
		gen_policy(&g);
		compile_and_load(&c, &prog, g.t.s);
		for (unsigned q = 0; q < REQUESTS_PER_POLICY; q++) {
			random_request(&r, &g, &b);
			check_one(&c, &prog, &b.req, g.t.s, &t);
		}
		compilation_free(&c);
	}
	free(g.t.s);
	printf("differential: %u policies, %lu cases, %lu tests in %.2fs: %lu allowed, %lu rule-denied, "
	       "%lu default-denied, %lu limit-reached, %lu fault\n",
	       POLICIES, t.cases, t.traced, (double)(clock() - start) / CLOCKS_PER_SEC,
	       t.by_code[EP_REASON_ALLOWED], t.by_code[EP_REASON_RULE_DENIED],
	       t.by_code[EP_REASON_DEFAULT_DENIED], t.by_code[EP_REASON_LIMIT_REACHED],
	       t.by_code[EP_REASON_FAULT]);
	assert_true(t.cases >= 100000);
	for (int code = EP_REASON_ALLOWED; code <= EP_REASON_FAULT; code++)
		assert_true(t.by_code[code] > 0);
}

/* ---- the reference's own semantics, on fixed cases -------------------------------------- */

#define RULES_POLICY \
	TEST_PROFILE \
	"elevation {\n" \
	"    duration 5m\n" \
	"    max 30m\n" \
	"    limit 10 per month\n" \
	"    authenticate biometric or password\n" \
	"    reason required min 10 max 200\n" \
	"    choices \"Install\", \"Change a Setting\"\n" \
	"    other allowed\n" \
	"    timer shown\n" \
	"}\n" \
	"rule \"weekend\" {\n" \
	"    when day in [sat, sun]\n" \
	"    deny \"not at weekends\"\n" \
	"}\n" \
	"rule \"shared\" {\n" \
	"    when user in [\"kiosk\", \"guest\"] or host matches \"lab-*\"\n" \
	"    deny\n" \
	"}\n" \
	"rule \"contractors\" {\n" \
	"    when group == \"contractors\"\n" \
	"    duration 2m\n" \
	"    limit 3 per day\n" \
	"    authenticate password\n" \
	"}\n" \
	"rule \"night\" {\n" \
	"    when time in 22:00..06:00\n" \
	"    reason required min 30\n" \
	"}\n"

/* Unix seconds of a local civil time at a UTC offset. */
static int64_t local_time(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, int32_t offset)
{
	return (int64_t)ep_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 - offset;
}

static struct ep_request request_at(const char *user, int64_t now, int32_t offset)
{
	struct ep_request q = { .user = user, .host = "mac-01", .now = now, .utc_offset = offset };
	return q;
}

/* Compiles text, decides q with the reference and checks the VM agrees. */
static struct ep_decision decide(const char *text, const struct ep_request *q)
{
	struct compilation c;
	struct ep_program prog;
	struct ep_decision ref, vm;
	struct tally t = { 0 };
	compile_and_load(&c, &prog, text);
	assert_int_equal(eval_reference(c.policy, q, &ref, NULL, NULL), 0);
	check_one(&c, &prog, q, text, &t);
	assert_int_equal(ep_evaluate(&prog, q, &vm), 0);
	compilation_free(&c);
	ref.rule_name = ref.message = NULL;     /* they pointed into the freed policy */
	memset(ref.reason.choices, 0, sizeof(ref.reason.choices));
	return ref;
}

static void test_reference_weekend_and_shared_accounts(void **state)
{
	(void)state;
	/* 2026-12-05 is a Saturday, 2026-12-07 a Monday. */
	struct ep_request q = request_at("alice", local_time(2026, 12, 5, 10, 0, 3600), 3600);
	struct ep_decision d = decide(RULES_POLICY, &q);
	assert_int_equal(d.verdict, EP_DENY);
	assert_int_equal(d.code, EP_REASON_RULE_DENIED);
	assert_int_equal(d.rule, 0);
	assert_int_equal(d.duration, 0);
	assert_int_equal(d.auth, 0);
	assert_int_equal(d.limit.period, EP_PERIOD_NONE);

	q = request_at("kiosk", local_time(2026, 12, 7, 10, 0, 3600), 3600);
	d = decide(RULES_POLICY, &q);
	assert_int_equal(d.code, EP_REASON_RULE_DENIED);
	assert_int_equal(d.rule, 1);

	q = request_at("alice", local_time(2026, 12, 7, 10, 0, 3600), 3600);
	q.host = "lab-";
	assert_int_equal(decide(RULES_POLICY, &q).rule, 1);
	q.host = "xlab-1";
	d = decide(RULES_POLICY, &q);
	assert_int_equal(d.rule, EP_RULE_OTHERWISE);
	assert_int_equal(d.code, EP_REASON_ALLOWED);
	assert_int_equal(d.duration, 300);
	assert_int_equal(d.max, 1800);
	assert_int_equal(d.auth, EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD);
	assert_int_equal(d.reason.nchoices, 2);
	assert_int_equal(d.limit.period, EP_PERIOD_MONTH);
	assert_int_equal(d.limit.left, 10);
}

static void test_reference_contractor_limit(void **state)
{
	(void)state;
	const char *gs[] = { "staff", "contractors" };
	int64_t grants[3] = {
		local_time(2026, 12, 7, 0, 0, 3600), local_time(2026, 12, 7, 9, 0, 3600),
		local_time(2026, 12, 6, 23, 59, 3600),       /* the day before */
	};
	struct ep_request q = request_at("carol", local_time(2026, 12, 7, 10, 0, 3600), 3600);
	q.groups = gs;
	q.ngroups = 2;
	q.grants = grants;
	q.ngrants = 3;
	struct ep_decision d = decide(RULES_POLICY, &q);
	assert_int_equal(d.code, EP_REASON_ALLOWED);
	assert_int_equal(d.rule, 2);
	assert_int_equal(d.duration, 120);
	assert_int_equal(d.max, 1800);
	assert_int_equal(d.auth, EP_AUTH_PASSWORD);
	assert_int_equal(d.limit.count, 3);
	assert_int_equal(d.limit.used, 2);
	assert_int_equal(d.limit.left, 1);

	grants[2] = local_time(2026, 12, 7, 9, 30, 3600);
	d = decide(RULES_POLICY, &q);
	assert_int_equal(d.verdict, EP_DENY);
	assert_int_equal(d.code, EP_REASON_LIMIT_REACHED);
	assert_int_equal(d.rule, 2);
	assert_int_equal(d.duration, 0);
	assert_int_equal(d.max, 0);
	assert_int_equal(d.auth, EP_AUTH_PASSWORD);      /* the settings stay visible */
	assert_int_equal(d.reason.min, 10);
	assert_int_equal(d.limit.used, 3);
	assert_int_equal(d.limit.left, 0);
}

static void test_reference_time_wraps_midnight(void **state)
{
	(void)state;
	static const struct { unsigned h, mi; int rule; } cases[] = {
		{ 21, 59, EP_RULE_OTHERWISE }, { 22, 0, 3 }, { 23, 30, 3 }, { 0, 0, 3 },
		{ 5, 59, 3 }, { 6, 0, EP_RULE_OTHERWISE },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t offset = 2 * 3600;
		/* Tuesday 2026-12-08, so no weekend rule. */
		struct ep_request q = request_at("alice", local_time(2026, 12, 8, cases[i].h, cases[i].mi,
		                                                     offset), offset);
		struct ep_decision d = decide(RULES_POLICY, &q);
		assert_int_equal(d.rule, cases[i].rule);
		if (d.rule == 3) {
			assert_int_equal(d.reason.min, 30);
			assert_int_equal(d.reason.max, 200);   /* inherited */
		}
	}
}

static void test_reference_periods_are_local_calendar_periods(void **state)
{
	(void)state;
	const char *text = TEST_PROFILE "rule \"w\" {\n    when user == \"w\"\n    limit 1 per week\n}\n"
	                   "rule \"m\" {\n    when user == \"m\"\n    limit 1 per month\n}\n";
	int32_t offset = 14 * 3600;
	int64_t grant;
	/* Monday 2026-12-07 00:00 local; the grant Sunday 23:59 local is last week. */
	struct ep_request q = request_at("w", local_time(2026, 12, 7, 0, 0, offset), offset);
	q.grants = &grant;
	q.ngrants = 1;
	grant = local_time(2026, 12, 6, 23, 59, offset);
	assert_int_equal(decide(text, &q).code, EP_REASON_ALLOWED);
	grant = local_time(2026, 12, 7, 0, 0, offset);
	assert_int_equal(decide(text, &q).code, EP_REASON_LIMIT_REACHED);
	/* Months: the last day of November is another period than December 1st. */
	q = request_at("m", local_time(2026, 12, 1, 0, 0, -12 * 3600), -12 * 3600);
	q.grants = &grant;
	q.ngrants = 1;
	grant = local_time(2026, 11, 30, 23, 59, -12 * 3600);
	assert_int_equal(decide(text, &q).code, EP_REASON_ALLOWED);
	grant = local_time(2026, 12, 31, 23, 59, -12 * 3600);
	assert_int_equal(decide(text, &q).code, EP_REASON_LIMIT_REACHED);
}

struct trace_log {
	const struct source *src;
	char text[4][64];
	bool result[4];
	unsigned n;
};

static void log_test(void *ctx, const struct cond *test, bool result)
{
	struct trace_log *log = ctx;
	assert_true(log->n < 4);
	span_text(log->src, test->span, log->text[log->n], sizeof(log->text[0]));
	log->result[log->n++] = result;
}

static void test_reference_traces_tests_as_written(void **state)
{
	(void)state;
	const char *text = TEST_PROFILE "rule \"r\" {\n"
	                   "    when user != \"bob\" and not (group in [\"a\", \"b\"]) or session == remote\n"
	                   "    deny\n}\n";
	struct compilation c;
	struct ep_program prog;
	struct ep_decision d;
	struct trace_log log = { .n = 0 };
	const char *gs[] = { "b" };
	struct ep_request q = request_at("alice", 0, 0);
	q.groups = gs;
	q.ngroups = 1;
	compile_and_load(&c, &prog, text);
	log.src = &c.src;
	assert_int_equal(eval_reference(c.policy, &q, &d, log_test, &log), 0);
	assert_int_equal(log.n, 3);                     /* every test runs */
	assert_string_equal(log.text[0], "user != \"bob\"");
	assert_true(log.result[0]);
	assert_string_equal(log.text[1], "(group in [\"a\", \"b\"])");   /* spans keep parentheses */
	assert_true(log.result[1]);
	assert_string_equal(log.text[2], "session == remote");
	assert_false(log.result[2]);
	assert_int_equal(d.rule, EP_RULE_OTHERWISE);
	compilation_free(&c);
}

static void test_reference_refuses_bad_requests(void **state)
{
	(void)state;
	struct compilation c;
	struct ep_program prog;
	struct ep_decision d;
	compile_and_load(&c, &prog, RULES_POLICY);
	struct ep_request q = request_at(NULL, 0, 0);
	assert_int_equal(eval_reference(c.policy, &q, &d, NULL, NULL), -EP_BAD_REQUEST);
	assert_int_equal(d.verdict, EP_DENY);
	assert_int_equal(d.code, EP_REASON_FAULT);
	assert_int_equal(d.rule, EP_RULE_OTHERWISE);
	assert_null(d.rule_name);
	assert_false(ep_request_valid(&q));
	assert_int_equal(eval_reference(c.policy, NULL, &d, NULL, NULL), -EP_BAD_REQUEST);
	assert_int_equal(d.code, EP_REASON_FAULT);
	compilation_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_weekend_and_shared_accounts),
		cmocka_unit_test(test_reference_contractor_limit),
		cmocka_unit_test(test_reference_time_wraps_midnight),
		cmocka_unit_test(test_reference_periods_are_local_calendar_periods),
		cmocka_unit_test(test_reference_traces_tests_as_written),
		cmocka_unit_test(test_reference_refuses_bad_requests),
		cmocka_unit_test(test_vm_agrees_with_reference),
	};
	return cmocka_run_group_tests_name("differential", tests, NULL, NULL);
}
