/*
 * test_check.c - compile_source() without a target: the checked policy model, every diagnostic
 * E010..E033, W001..W003 (Jamf target) and -Werror; compiler/suggest.c and runtime/calendar.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "calendar.h"
#include "format.h"
#include "helpers.h"
#include "suggest.h"

static void print_diags(const struct compilation *c)
{
	for (const struct diag *d = c->diags.head; d; d = d->next)
		print_error("  %s: %s\n", diag_code_name(d->code), d->message);
}

/* Compiles text that must pass without any diagnostic; returns the policy. */
static const struct policy *compile_clean(struct compilation *c, const char *text)
{
	int rc = compile_text(c, text, NULL, false);
	if (rc != 0 || c->diags.head)
		print_diags(c);
	assert_int_equal(rc, 0);
	assert_null(c->diags.head);
	assert_non_null(c->policy);
	return c->policy;
}

/*
 * Compiles text (no target) expecting a diagnostic with code; checks its
 * severity and, for errors, that compilation failed. Returns the first one.
 */
static const struct diag *compile_expect(struct compilation *c, const char *text,
                                         enum diag_code code)
{
	int rc = compile_text(c, text, NULL, false);
	const struct diag *d = find_diag(&c->diags, code);
	if (!d) {
		print_error("expected %s, got:\n", diag_code_name(code));
		print_diags(c);
	}
	assert_non_null(d);
	if (diag_code_name(code)[0] == 'E') {
		assert_int_equal(d->severity, DIAG_SEV_ERROR);
		assert_int_equal(rc, -1);
		assert_null(c->policy);
	} else {
		assert_int_equal(d->severity, DIAG_SEV_WARNING);
	}
	return d;
}

static void assert_message_has(const struct diag *d, const char *text)
{
	if (!strstr(d->message, text))
		print_error("message \"%s\" lacks \"%s\"\n", d->message, text);
	assert_non_null(strstr(d->message, text));
}

static void assert_help_has(const struct diag *d, const char *text)
{
	if (!diag_has_help(d, text))
		print_error("help of \"%s\" lacks \"%s\"\n", d->message, text);
	assert_true(diag_has_help(d, text));
}

/* The condition of the first rule of a policy whose only rule has `when cond`. */
static const struct cond *compile_cond(struct compilation *c, const char *cond)
{
	char text[1024];
	snprintf(text, sizeof(text), TEST_PROFILE "rule \"r\" {\n    when %s\n}\n", cond);
	const struct policy *p = compile_clean(c, text);
	assert_int_equal(p->nrules, 1);
	assert_non_null(p->rules[0].when);
	return p->rules[0].when;
}

/* ---- settings ------------------------------------------------------------- */

static void test_jamf_seed_settings(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, JAMF_SEED);
	assert_string_equal(p->profile.name, "Temporary Admin Rights");
	assert_string_equal(p->profile.identifier, "com.example.elevation");
	assert_string_equal(p->profile.organization, "Example Corp");
	assert_string_equal(p->profile.description,
	                    "Standard users may become admin for five minutes.");
	assert_true(p->has_elevation);
	const struct settings *s = &p->defaults;
	assert_int_equal(s->given, SETTING_BIT(DURATION) | SETTING_BIT(LIMIT) | SETTING_BIT(AUTH) |
	                           SETTING_BIT(REASON) | SETTING_BIT(CHOICES));
	assert_int_equal(s->duration, 300);
	assert_int_equal(s->max, 300);
	assert_int_equal(s->limit_period, PERIOD_NONE);
	assert_int_equal(s->limit_count, 0);
	assert_int_equal(s->auth, AUTH_BIOMETRIC | AUTH_PASSWORD);
	assert_int_equal(s->reason, REASON_REQUIRED);
	assert_int_equal(s->nchoices, 2);
	assert_string_equal(s->choices[0], "Install/Remove an Application");
	assert_string_equal(s->choices[1], "Change a Setting");
	assert_false(s->other_allowed);
	assert_false(s->timer_shown);
	assert_int_equal(p->nrules, 0);
	assert_false(p->otherwise_given);
	assert_false(p->otherwise_deny);
	compilation_free(&c);
}

static void test_defaults_without_elevation_block(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE);
	assert_false(p->has_elevation);
	assert_null(p->profile.organization);
	assert_null(p->profile.description);
	const struct settings *s = &p->defaults;
	assert_int_equal(s->given, 0);
	assert_int_equal(s->duration, DEFAULT_DURATION_SECONDS);
	assert_int_equal(s->max, DEFAULT_DURATION_SECONDS);
	assert_int_equal(s->auth, AUTH_PASSWORD);
	assert_int_equal(s->reason, REASON_NONE);
	assert_int_equal(s->limit_period, PERIOD_NONE);
	assert_int_equal(s->nchoices, 0);
	compilation_free(&c);
}

static void test_setting_values(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE "elevation {\n"
	                                                        "    duration 1h30m\n"
	                                                        "    max 24h\n"
	                                                        "    limit 10000 per week\n"
	                                                        "    authenticate none\n"
	                                                        "    reason optional min 0 max 1000\n"
	                                                        "    other allowed\n"
	                                                        "    timer shown\n"
	                                                        "}\n");
	const struct settings *s = &p->defaults;
	assert_int_equal(s->duration, 5400);
	assert_int_equal(s->max, 86400);
	assert_int_equal(s->limit_count, 10000);
	assert_int_equal(s->limit_period, PERIOD_WEEK);
	assert_int_equal(s->auth, 0);
	assert_true(s->given & SETTING_BIT(AUTH));
	assert_int_equal(s->reason, REASON_OPTIONAL);
	assert_int_equal(s->reason_min, 0);
	assert_int_equal(s->reason_max, 1000);
	assert_true(s->given & SETTING_BIT(REASON_MIN));
	assert_true(s->given & SETTING_BIT(REASON_MAX));
	assert_true(s->other_allowed);
	assert_true(s->timer_shown);
	compilation_free(&c);
}

static void test_negative_forms_of_settings(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE "elevation {\n"
	                                                        "    authenticate password\n"
	                                                        "    limit 1 per day\n"
	                                                        "    other not allowed\n"
	                                                        "    timer hidden\n"
	                                                        "    reason none\n"
	                                                        "}\n");
	const struct settings *s = &p->defaults;
	assert_int_equal(s->auth, AUTH_PASSWORD);
	assert_int_equal(s->limit_count, 1);
	assert_int_equal(s->limit_period, PERIOD_DAY);
	assert_false(s->other_allowed);
	assert_true(s->given & SETTING_BIT(OTHER));
	assert_false(s->timer_shown);
	assert_true(s->given & SETTING_BIT(TIMER));
	assert_int_equal(s->reason, REASON_NONE);
	assert_true(s->given & SETTING_BIT(REASON));
	compilation_free(&c);
}

static void test_where_points_at_the_setting(void **state)
{
	struct compilation c;
	char buf[64];
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE "elevation {\n    limit 3 per month\n}\n");
	assert_string_equal(span_text(&c.src, p->defaults.where[SETTING_LIMIT], buf, sizeof(buf)),
	                    "limit 3 per month");
	compilation_free(&c);
}

/* ---- rules and layering ------------------------------------------------ */

#define LAYERED_DEFAULTS \
	TEST_PROFILE \
	"elevation {\n" \
	"    duration 5m\n" \
	"    max 30m\n" \
	"    limit 10 per month\n" \
	"    authenticate biometric or password\n" \
	"    reason required min 10 max 200\n" \
	"    choices \"Install\", \"Setting\"\n" \
	"    other allowed\n" \
	"}\n"

static void test_rule_settings_layer_over_defaults(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, LAYERED_DEFAULTS
	                                       "rule \"Contractors\" {\n"
	                                       "    when group == \"contractors\"\n"
	                                       "    duration 2m\n"
	                                       "    limit 3 per day\n"
	                                       "    authenticate password\n"
	                                       "}\n");
	const struct rule *r = &p->rules[0];
	assert_string_equal(r->name, "Contractors");
	assert_false(r->deny);
	assert_int_equal(r->own.given,
	                 SETTING_BIT(DURATION) | SETTING_BIT(LIMIT) | SETTING_BIT(AUTH));
	/* Its own values... */
	assert_int_equal(r->effective.duration, 120);
	assert_int_equal(r->effective.limit_count, 3);
	assert_int_equal(r->effective.limit_period, PERIOD_DAY);
	assert_int_equal(r->effective.auth, AUTH_PASSWORD);
	/* ...over the elevation block's. */
	assert_int_equal(r->effective.max, 1800);
	assert_int_equal(r->effective.reason, REASON_REQUIRED);
	assert_int_equal(r->effective.reason_min, 10);
	assert_int_equal(r->effective.reason_max, 200);
	assert_int_equal(r->effective.nchoices, 2);
	assert_string_equal(r->effective.choices[1], "Setting");
	assert_true(r->effective.other_allowed);
	assert_int_equal(r->effective.given, r->own.given | p->defaults.given);
	/* The defaults are untouched by the rule. */
	assert_int_equal(p->defaults.duration, 300);
	assert_int_equal(p->defaults.auth, AUTH_BIOMETRIC | AUTH_PASSWORD);
	compilation_free(&c);
}

static void test_rule_reason_min_inherits_max(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, LAYERED_DEFAULTS
	                                       "rule \"Night\" {\n"
	                                       "    when time in 22:00..06:00\n"
	                                       "    reason required min 30\n"
	                                       "}\n");
	const struct rule *r = &p->rules[0];
	assert_int_equal(r->own.given, SETTING_BIT(REASON) | SETTING_BIT(REASON_MIN));
	assert_int_equal(r->effective.reason_min, 30);
	assert_int_equal(r->effective.reason_max, 200);
	compilation_free(&c);
}

static void test_rule_reason_max_inherits_min(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, LAYERED_DEFAULTS
	                                       "rule \"Terse\" {\n"
	                                       "    when user == \"a\"\n"
	                                       "    reason optional max 50\n"
	                                       "}\n");
	const struct rule *r = &p->rules[0];
	assert_int_equal(r->effective.reason, REASON_OPTIONAL);
	assert_int_equal(r->effective.reason_min, 10);
	assert_int_equal(r->effective.reason_max, 50);
	compilation_free(&c);
}

static void test_rule_inherits_every_unset_setting(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, LAYERED_DEFAULTS
	                                       "rule \"Same\" {\n    when user == \"a\"\n}\n");
	const struct rule *r = &p->rules[0];
	assert_int_equal(r->own.given, 0);
	assert_int_equal(r->effective.given, p->defaults.given);
	assert_int_equal(r->effective.duration, p->defaults.duration);
	assert_int_equal(r->effective.max, p->defaults.max);
	assert_int_equal(r->effective.limit_count, p->defaults.limit_count);
	assert_int_equal(r->effective.auth, p->defaults.auth);
	assert_int_equal(r->effective.reason_min, p->defaults.reason_min);
	compilation_free(&c);
}

static void test_max_follows_rule_duration_when_no_max_is_given(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE
	                                       "elevation {\n    duration 10m\n}\n"
	                                       "rule \"Long\" {\n    when user == \"a\"\n    duration 20m\n}\n");
	assert_int_equal(p->defaults.max, 600);
	assert_int_equal(p->rules[0].effective.duration, 1200);
	assert_int_equal(p->rules[0].effective.max, 1200);
	compilation_free(&c);
}

static void test_rules_keep_source_order(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE
	                                       "rule \"b\" {\n    when user == \"x\"\n}\n"
	                                       "rule \"a\" {\n    when user == \"y\"\n}\n"
	                                       "rule \"c\" {\n    when user == \"z\"\n}\n");
	assert_int_equal(p->nrules, 3);
	assert_string_equal(p->rules[0].name, "b");
	assert_string_equal(p->rules[1].name, "a");
	assert_string_equal(p->rules[2].name, "c");
	compilation_free(&c);
}

static void test_deny_rule_with_and_without_message(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE
	                                       "rule \"Weekend\" {\n    when day in [sat, sun]\n"
	                                       "    deny \"Not at weekends.\"\n}\n"
	                                       "rule \"Kiosk\" {\n    when user == \"kiosk\"\n    deny\n}\n");
	assert_true(p->rules[0].deny);
	assert_string_equal(p->rules[0].message, "Not at weekends.");
	assert_true(p->rules[1].deny);
	assert_null(p->rules[1].message);
	compilation_free(&c);
}

static void test_rule_without_when_matches_everything(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE "rule \"All\" {\n    duration 1m\n}\n");
	assert_null(p->rules[0].when);
	assert_false(p->rules[0].deny);
	compilation_free(&c);
}

static void test_otherwise_allow_and_deny(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE "otherwise allow\n");
	assert_true(p->otherwise_given);
	assert_false(p->otherwise_deny);
	assert_null(p->otherwise_message);
	compilation_free(&c);

	p = compile_clean(&c, TEST_PROFILE "otherwise deny \"Ask IT.\"\n");
	assert_true(p->otherwise_given);
	assert_true(p->otherwise_deny);
	assert_string_equal(p->otherwise_message, "Ask IT.");
	compilation_free(&c);

	p = compile_clean(&c, TEST_PROFILE "otherwise deny\n");
	assert_true(p->otherwise_deny);
	assert_null(p->otherwise_message);
	compilation_free(&c);
}

/* ---- normalised conditions ------------------------------------------------ */

static void test_string_set_is_sorted_and_deduplicated(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "user in [\"guest\", \"admin\", \"kiosk\", \"guest\"]");
	assert_int_equal(k->kind, COND_IN);
	assert_int_equal(k->subject, SUBJECT_USER);
	assert_int_equal(k->nstrings, 3);
	assert_string_equal(k->strings[0], "admin");
	assert_string_equal(k->strings[1], "guest");
	assert_string_equal(k->strings[2], "kiosk");
	compilation_free(&c);
}

static void test_equality_is_a_one_element_set(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "group == \"contractors\"");
	assert_int_equal(k->kind, COND_IN);
	assert_int_equal(k->subject, SUBJECT_GROUP);
	assert_int_equal(k->nstrings, 1);
	assert_string_equal(k->strings[0], "contractors");
	compilation_free(&c);
}

static void test_not_equal_and_not_in_are_negated_sets(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "host != \"build\"");
	assert_int_equal(k->kind, COND_NOT);
	assert_non_null(k->lhs);
	assert_int_equal(k->lhs->kind, COND_IN);
	assert_int_equal(k->lhs->subject, SUBJECT_HOST);
	assert_string_equal(k->lhs->strings[0], "build");
	compilation_free(&c);

	k = compile_cond(&c, "group not in [\"b\", \"a\"]");
	assert_int_equal(k->kind, COND_NOT);
	assert_int_equal(k->lhs->kind, COND_IN);
	assert_int_equal(k->lhs->nstrings, 2);
	assert_string_equal(k->lhs->strings[0], "a");
	compilation_free(&c);
}

static void test_matches_keeps_one_glob(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "host matches \"lab-*\"");
	assert_int_equal(k->kind, COND_MATCH);
	assert_int_equal(k->subject, SUBJECT_HOST);
	assert_int_equal(k->nstrings, 1);
	assert_string_equal(k->strings[0], "lab-*");
	compilation_free(&c);
}

static void test_session_kinds_become_bits(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "session == remote");
	assert_int_equal(k->subject, SUBJECT_SESSION);
	assert_int_equal(k->sessions, SESSION_REMOTE);
	compilation_free(&c);

	k = compile_cond(&c, "session in [console, remote]");
	assert_int_equal(k->sessions, SESSION_CONSOLE | SESSION_REMOTE);
	compilation_free(&c);
}

static uint8_t compile_days(struct compilation *c, const char *cond)
{
	const struct cond *k = compile_cond(c, cond);
	assert_int_equal(k->kind, COND_IN);
	assert_int_equal(k->subject, SUBJECT_DAY);
	return k->days;
}

static void test_day_sets_become_bitmasks(void **state)
{
	struct compilation c;
	(void)state;

	assert_int_equal(compile_days(&c, "day in [sat, sun]"), 0x60);
	compilation_free(&c);
	assert_int_equal(compile_days(&c, "day == mon"), 0x01);
	compilation_free(&c);
	assert_int_equal(compile_days(&c, "day in mon..fri"), 0x1F);
	compilation_free(&c);
	assert_int_equal(compile_days(&c, "day in [wednesday, sunday..sunday]"), 0x44);
	compilation_free(&c);
}

static void test_day_range_wraps_over_the_weekend(void **state)
{
	struct compilation c;
	(void)state;

	/* fri, sat, sun, mon */
	assert_int_equal(compile_days(&c, "day in fri..mon"), 0x71);
	compilation_free(&c);
	assert_int_equal(compile_days(&c, "day in sun..sun"), 0x40);
	compilation_free(&c);
	assert_int_equal(compile_days(&c, "day in [mon..wed, tue, tuesday..wed]"), 0x07);
	compilation_free(&c);
}

static void test_time_range_in_minutes(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "time in 08:30..17:00");
	assert_int_equal(k->kind, COND_IN);
	assert_int_equal(k->subject, SUBJECT_TIME);
	assert_int_equal(k->ntimes, 1);
	assert_int_equal(k->times[0].from, 510);
	assert_int_equal(k->times[0].to, 1020);
	compilation_free(&c);
}

static void test_time_range_wraps_midnight(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "time in 22:00..06:00");
	assert_int_equal(k->ntimes, 1);
	assert_int_equal(k->times[0].from, 1320);
	assert_int_equal(k->times[0].to, 360);
	compilation_free(&c);
}

static void test_time_range_may_end_at_24_00(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "time in 23:00..24:00");
	assert_int_equal(k->times[0].from, 1380);
	assert_int_equal(k->times[0].to, 1440);
	compilation_free(&c);

	/* The whole day, not an empty range. */
	k = compile_cond(&c, "time in 00:00..24:00");
	assert_int_equal(k->ntimes, 1);
	assert_int_equal(k->times[0].from, 0);
	assert_int_equal(k->times[0].to, 1440);
	compilation_free(&c);
}

static void test_time_ranges_are_sorted_and_deduplicated(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "time in [12:00..13:00, 8:00..9:00, 12:00..13:00, 12:00..12:30]");
	assert_int_equal(k->ntimes, 3);
	assert_int_equal(k->times[0].from, 480);
	assert_int_equal(k->times[0].to, 540);
	assert_int_equal(k->times[1].from, 720);
	assert_int_equal(k->times[1].to, 750);
	assert_int_equal(k->times[2].from, 720);
	assert_int_equal(k->times[2].to, 780);
	compilation_free(&c);
}

static void test_dates_become_day_numbers(void **state)
{
	struct compilation c;
	(void)state;

	/* 2026-12-24 is day 20811 after 1970-01-01 (python3 datetime). */
	const struct cond *k = compile_cond(&c, "date == 2026-12-24");
	assert_int_equal(k->subject, SUBJECT_DATE);
	assert_int_equal(k->ndates, 1);
	assert_int_equal(k->dates[0].from, 20811);
	assert_int_equal(k->dates[0].to, 20811);
	compilation_free(&c);

	k = compile_cond(&c, "date in [2026-12-24..2027-01-01, 1970-01-01, 2026-12-24..2027-01-01]");
	assert_int_equal(k->ndates, 2);
	assert_int_equal(k->dates[0].from, 0);
	assert_int_equal(k->dates[0].to, 0);
	assert_int_equal(k->dates[1].from, 20811);
	assert_int_equal(k->dates[1].to, 20819);
	compilation_free(&c);
}

static void test_and_or_not_keep_their_shape(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "not day in [sat, sun] and (user == \"a\" or group == \"g\")");
	assert_int_equal(k->kind, COND_AND);
	assert_int_equal(k->lhs->kind, COND_NOT);
	assert_int_equal(k->lhs->lhs->subject, SUBJECT_DAY);
	assert_null(k->lhs->rhs);
	assert_int_equal(k->rhs->kind, COND_OR);
	assert_int_equal(k->rhs->lhs->subject, SUBJECT_USER);
	assert_int_equal(k->rhs->rhs->subject, SUBJECT_GROUP);
	compilation_free(&c);
}

/* ---- errors E010..E033 ---------------------------------------------------- */

static void test_e010_unknown_setting_with_suggestion(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    durration 5m\n}\n",
	                                      DIAG_E010);
	assert_message_has(d, "unknown setting 'durration'");
	assert_help_has(d, "did you mean 'duration'?");
	compilation_free(&c);
}

static void test_e010_unknown_profile_field_with_suggestion(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, "profile \"P\" {\n    identifer \"com.example.t\"\n}\n",
	                                      DIAG_E010);
	assert_help_has(d, "did you mean 'identifier'?");
	compilation_free(&c);
}

static void test_e010_far_off_word_has_no_suggestion(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    colour blue\n}\n",
	                                      DIAG_E010);
	assert_false(diag_has_help(d, "did you mean"));
	compilation_free(&c);
}

static void test_e010_misspelt_deny_in_rule_suggests_deny(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    dney\n}\n", DIAG_E010);
	assert_message_has(d, "unknown setting 'dney' in a rule");
	assert_help_has(d, "did you mean 'deny'?");
	compilation_free(&c);
}

static void test_e011_unknown_value_with_suggestion(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    reason requird\n}\n",
	                                      DIAG_E011);
	assert_message_has(d, "unknown value 'requird' for 'reason'");
	assert_help_has(d, "did you mean 'required'?");
	compilation_free(&c);

	d = compile_expect(&c, TEST_PROFILE "elevation {\n    limit 3 per dya\n}\n", DIAG_E011);
	assert_help_has(d, "did you mean 'day'?");
	compilation_free(&c);

	d = compile_expect(&c, TEST_PROFILE "elevation {\n    limit nnoe\n}\n", DIAG_E011);
	assert_help_has(d, "did you mean 'none'?");
	compilation_free(&c);
}

static void test_e011_missing_value(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    duration\n}\n",
	                                      DIAG_E011);
	assert_message_has(d, "'duration' needs a duration");
	assert_help_has(d, "duration 5m");
	compilation_free(&c);
}

static void test_e011_extra_value(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    duration 5m 6m\n}\n",
	                                      DIAG_E011);
	assert_message_has(d, "unexpected '6m' after 'duration'");
	compilation_free(&c);
}

static void test_e011_limit_needs_a_period(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    limit 3\n}\n",
	                                      DIAG_E011);
	assert_message_has(d, "needs a period");
	assert_help_has(d, "limit 3 per day");
	compilation_free(&c);
}

static void test_e011_authentication_methods(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(
		&c, TEST_PROFILE "elevation {\n    authenticate password or password\n}\n", DIAG_E011);
	assert_message_has(d, "'password' is listed twice");
	compilation_free(&c);

	d = compile_expect(&c, TEST_PROFILE "elevation {\n    authenticate none or biometric\n}\n",
	                   DIAG_E011);
	assert_message_has(d, "'none' cannot be combined");
	compilation_free(&c);
}

static void test_e011_reason_length_needs_a_reason(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    reason none min 5\n}\n",
	                                      DIAG_E011);
	assert_message_has(d, "'min' needs 'reason required' or 'reason optional'");
	compilation_free(&c);
}

static void test_e011_choices_need_commas(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    choices \"a\" \"b\"\n}\n",
	                                      DIAG_E011);
	assert_message_has(d, "separated by commas");
	compilation_free(&c);
}

static void test_e011_unknown_session_kind(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when session == remot\n}\n",
	                                      DIAG_E011);
	assert_help_has(d, "did you mean 'remote'?");
	compilation_free(&c);
}

static void test_e012_number_where_duration_expected(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    duration 5\n}\n",
	                                      DIAG_E012);
	assert_message_has(d, "found number");
	assert_help_has(d, "durations need a unit: 5s, 5m, 5h or 5d");
	compilation_free(&c);
}

static void test_e012_choice_must_be_quoted(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    choices Install\n}\n",
	                                      DIAG_E012);
	assert_message_has(d, "quoted choices");
	compilation_free(&c);
}

static void test_e012_user_name_must_be_quoted(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when user == alice\n}\n",
	                                      DIAG_E012);
	assert_message_has(d, "a quoted name");
	compilation_free(&c);
}

static void test_e012_time_needs_a_range(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when time in 22:00\n}\n",
	                                      DIAG_E012);
	assert_message_has(d, "needs a range");
	compilation_free(&c);
}

static void test_e012_strings_take_no_range(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(
		&c, TEST_PROFILE "rule \"r\" {\n    when user in \"a\"..\"z\"\n}\n", DIAG_E012);
	assert_message_has(d, "cannot take a range");
	compilation_free(&c);
}

static void test_e013_setting_given_twice(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    duration 5m\n    duration 6m\n}\n",
	                                      DIAG_E013);
	assert_message_has(d, "'duration' is given twice");
	assert_help_has(d, "first given on line 5");
	compilation_free(&c);
}

static void test_e013_when_given_twice(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(
		&c, TEST_PROFILE "rule \"r\" {\n    when user == \"a\"\n    when user == \"b\"\n}\n",
		DIAG_E013);
	assert_help_has(d, "combine conditions with 'and' or 'or'");
	compilation_free(&c);
}

static void test_e013_reason_min_given_twice(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(
		&c, TEST_PROFILE "elevation {\n    reason required min 1 min 2\n}\n", DIAG_E013);
	assert_message_has(d, "'min' is given twice");
	compilation_free(&c);
}

static void test_e013_profile_field_given_twice(void **state)
{
	struct compilation c;
	(void)state;

	compile_expect(&c, "profile \"P\" {\n    identifier \"a.b\"\n    identifier \"c.d\"\n}\n",
	               DIAG_E013);
	compilation_free(&c);
}

static void test_e014_unknown_subject_with_suggestion(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when usr == \"a\"\n}\n",
	                                      DIAG_E014);
	assert_message_has(d, "unknown condition subject 'usr'");
	assert_help_has(d, "did you mean 'user'?");
	compilation_free(&c);
}

static void test_e015_time_cannot_be_compared_with_equals(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when time == 22:00\n}\n",
	                                      DIAG_E015);
	assert_message_has(d, "'==' cannot be used with 'time'");
	assert_help_has(d, "time in 22:00..06:00");
	compilation_free(&c);
}

static void test_e015_matches_only_for_names(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when day matches \"s*\"\n}\n",
	                                      DIAG_E015);
	assert_message_has(d, "'matches' cannot be used with 'day'");
	compilation_free(&c);
}

static void test_e016_when_outside_a_rule(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    when user == \"a\"\n}\n",
	                                      DIAG_E016);
	assert_message_has(d, "'when' is not allowed in the elevation block");
	assert_help_has(d, "belong in a rule");
	compilation_free(&c);
}

static void test_e016_profile_field_in_elevation(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    identifier \"x.y\"\n}\n",
	                                      DIAG_E016);
	assert_help_has(d, "belongs in the profile block");
	compilation_free(&c);
}

static void test_e016_setting_in_profile(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(
		&c, "profile \"P\" {\n    identifier \"a.b\"\n    duration 5m\n}\n", DIAG_E016);
	assert_help_has(d, "belongs in the elevation block or a rule");
	compilation_free(&c);
}

static void test_e016_named_elevation_block(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation \"x\" {\n}\n", DIAG_E016);
	assert_message_has(d, "takes no name");
	compilation_free(&c);
}

static void test_e017_blocks_given_twice(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n}\nelevation {\n}\n",
	                                      DIAG_E017);
	assert_message_has(d, "the elevation block is given twice");
	assert_help_has(d, "first given on line 4");
	compilation_free(&c);

	d = compile_expect(&c, TEST_PROFILE TEST_PROFILE, DIAG_E017);
	assert_message_has(d, "the profile block is given twice");
	compilation_free(&c);

	d = compile_expect(&c, TEST_PROFILE "otherwise allow\notherwise deny\n", DIAG_E017);
	assert_message_has(d, "'otherwise' is given twice");
	compilation_free(&c);
}

static void test_e018_missing_or_empty_names(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule {\n}\n", DIAG_E018);
	assert_message_has(d, "a rule needs a name");
	compilation_free(&c);

	compile_expect(&c, TEST_PROFILE "rule \"\" {\n}\n", DIAG_E018);
	compilation_free(&c);

	d = compile_expect(&c, "profile {\n    identifier \"a.b\"\n}\n", DIAG_E018);
	assert_message_has(d, "the profile needs a name");
	compilation_free(&c);
}

static void test_e020_zero_duration(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    duration 0s\n}\n",
	                                      DIAG_E020);
	assert_message_has(d, "must be positive");
	assert_help_has(d, "write a rule with 'deny'");
	compilation_free(&c);
}

static void test_e020_negative_value_stops_compilation(void **state)
{
	struct compilation c;
	(void)state;

	compile_expect(&c, TEST_PROFILE "elevation {\n    duration -5m\n}\n", DIAG_E020);
	assert_int_equal(count_all_diags(&c.diags), 1);
	compilation_free(&c);
}

static void test_e021_duration_over_24_hours(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    duration 25h\n}\n",
	                                      DIAG_E021);
	assert_message_has(d, "duration 25h is longer than 24 hours");
	compilation_free(&c);

	compile_expect(&c, TEST_PROFILE "elevation {\n    max 1d1s\n}\n", DIAG_E021);
	compilation_free(&c);

	compile_expect(&c, TEST_PROFILE "elevation {\n    duration 99999999999d\n}\n", DIAG_E021);
	compilation_free(&c);
}

static void test_24_hours_is_the_longest_duration(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, TEST_PROFILE "elevation {\n    duration 24h\n}\n");
	assert_int_equal(p->defaults.duration, MAX_DURATION_SECONDS);
	compilation_free(&c);
}

static void test_e022_max_shorter_than_duration(void **state)
{
	struct compilation c;
	char buf[32];
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    duration 10m\n    max 5m\n}\n",
	                                      DIAG_E022);
	assert_message_has(d, "max (300s) is shorter than duration (600s)");
	assert_string_equal(span_text(&c.src, d->span, buf, sizeof(buf)), "max 5m");
	compilation_free(&c);
}

static void test_e022_rule_duration_above_inherited_max(void **state)
{
	struct compilation c;
	char buf[32];
	(void)state;

	const struct diag *d = compile_expect(&c, LAYERED_DEFAULTS
	                                      "rule \"r\" {\n    when user == \"a\"\n    duration 45m\n}\n",
	                                      DIAG_E022);
	assert_message_has(d, "max (1800s) is shorter than duration (2700s)");
	assert_string_equal(span_text(&c.src, d->span, buf, sizeof(buf)), "duration 45m");
	compilation_free(&c);
}

static void test_e022_not_checked_in_deny_rules(void **state)
{
	struct compilation c;
	(void)state;

	compile_text(&c, LAYERED_DEFAULTS "rule \"r\" {\n    when user == \"a\"\n    duration 45m\n    deny\n}\n",
	             NULL, false);
	assert_null(find_diag(&c.diags, DIAG_E022));
	assert_non_null(find_diag(&c.diags, DIAG_W002));
	assert_non_null(c.policy);
	compilation_free(&c);
}

static void test_e023_reason_min_above_max(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    reason required min 20 max 10\n}\n",
	                                      DIAG_E023);
	assert_message_has(d, "reason min (20) is above reason max (10)");
	compilation_free(&c);
}

static void test_e023_rule_min_above_inherited_max(void **state)
{
	struct compilation c;
	char buf[32];
	(void)state;

	const struct diag *d = compile_expect(&c, LAYERED_DEFAULTS
	                                      "rule \"r\" {\n    when user == \"a\"\n    reason required min 300\n}\n",
	                                      DIAG_E023);
	assert_message_has(d, "reason min (300) is above reason max (200)");
	assert_string_equal(span_text(&c.src, d->span, buf, sizeof(buf)), "min 300");
	compilation_free(&c);
}

static void test_e024_invalid_times(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when time in 25:00..06:00\n}\n",
	                                      DIAG_E024);
	assert_message_has(d, "invalid time of day '25:00'");
	compilation_free(&c);

	compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when time in 22:60..23:00\n}\n", DIAG_E024);
	compilation_free(&c);

	/* 24:00 may end a range but not start one, and nothing goes past it. */
	compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when time in 24:00..06:00\n}\n", DIAG_E024);
	compilation_free(&c);
	compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when time in 22:00..24:01\n}\n", DIAG_E024);
	compilation_free(&c);
}

static void test_e025_unknown_day(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when day == mnday\n}\n",
	                                      DIAG_E025);
	assert_message_has(d, "unknown day 'mnday'");
	assert_help_has(d, "did you mean 'monday'?");
	compilation_free(&c);

	d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when day in mon..xyz\n}\n", DIAG_E025);
	assert_help_has(d, "mon, tue, wed, thu, fri, sat, sun");
	compilation_free(&c);
}

static void test_e026_invalid_dates(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when date == 2026-02-30\n}\n",
	                                      DIAG_E026);
	assert_message_has(d, "invalid date '2026-02-30'");
	compilation_free(&c);

	compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when date == 2025-02-29\n}\n", DIAG_E026);
	compilation_free(&c);
	compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when date == 2026-13-01\n}\n", DIAG_E026);
	compilation_free(&c);
	compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when date == 1969-12-31\n}\n", DIAG_E026);
	compilation_free(&c);
}

static void test_leap_day_is_a_valid_date(void **state)
{
	struct compilation c;
	(void)state;

	const struct cond *k = compile_cond(&c, "date == 2024-02-29");
	assert_int_equal(k->dates[0].from, ep_days_from_civil(2024, 2, 29));
	compilation_free(&c);
}

static void test_e027_empty_choice(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    choices \"a\", \"\"\n}\n",
	                                      DIAG_E027);
	assert_message_has(d, "cannot be empty");
	compilation_free(&c);
}

static void test_e028_duplicate_choice(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(
		&c, TEST_PROFILE "elevation {\n    choices \"Install\", \"Other\", \"Install\"\n}\n", DIAG_E028);
	assert_message_has(d, "choice \"Install\" is listed twice");
	assert_int_equal(count_diags(&c.diags, DIAG_E028), 1);
	compilation_free(&c);
}

static void test_e029_numbers_out_of_range(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "elevation {\n    limit 0 per day\n}\n",
	                                      DIAG_E029);
	assert_message_has(d, "between 1 and 10000");
	assert_help_has(d, "write a rule with 'deny'");
	compilation_free(&c);

	compile_expect(&c, TEST_PROFILE "elevation {\n    limit 10001 per month\n}\n", DIAG_E029);
	compilation_free(&c);
	compile_expect(&c, TEST_PROFILE "elevation {\n    reason required max 0\n}\n", DIAG_E029);
	compilation_free(&c);
	compile_expect(&c, TEST_PROFILE "elevation {\n    reason required min 1001\n}\n", DIAG_E029);
	compilation_free(&c);
}

static void test_e029_too_many_choices(void **state)
{
	struct compilation c;
	char text[2048];
	size_t n;
	(void)state;

	n = (size_t)snprintf(text, sizeof(text), TEST_PROFILE "elevation {\n    choices \"c0\"");
	for (int i = 1; i <= EP_MAX_CHOICES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", \"c%d\"", i);
	snprintf(text + n, sizeof(text) - n, "\n}\n");
	const struct diag *d = compile_expect(&c, text, DIAG_E029);
	assert_message_has(d, "at most");
	compilation_free(&c);

	/* Exactly the maximum is fine. */
	n = (size_t)snprintf(text, sizeof(text), TEST_PROFILE "elevation {\n    choices \"c1\"");
	for (int i = 2; i <= EP_MAX_CHOICES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", \"c%d\"", i);
	snprintf(text + n, sizeof(text) - n, "\n}\n");
	const struct policy *p = compile_clean(&c, text);
	assert_int_equal(p->defaults.nchoices, EP_MAX_CHOICES);
	compilation_free(&c);
}

static void test_e030_duplicate_rule_name(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE
	                                      "rule \"Same\" {\n    when user == \"a\"\n}\n"
	                                      "rule \"Same\" {\n    when user == \"b\"\n}\n",
	                                      DIAG_E030);
	assert_message_has(d, "duplicate rule name \"Same\"");
	assert_help_has(d, "first used on line 4");
	assert_int_equal(count_diags(&c.diags, DIAG_E030), 1);
	compilation_free(&c);
}

static void test_e031_missing_profile_or_identifier(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, "elevation {\n    duration 5m\n}\n", DIAG_E031);
	assert_message_has(d, "no profile block");
	compilation_free(&c);

	d = compile_expect(&c, "profile \"P\" {\n    organization \"Example\"\n}\n", DIAG_E031);
	assert_message_has(d, "the profile has no identifier");
	compilation_free(&c);
}

static void assert_identifier_rejected(const char *id)
{
	struct compilation c;
	char text[256];

	snprintf(text, sizeof(text), "profile \"P\" {\n    identifier \"%s\"\n}\n", id);
	compile_expect(&c, text, DIAG_E032);
	compilation_free(&c);
}

static void test_e032_invalid_identifiers(void **state)
{
	(void)state;
	assert_identifier_rejected("");
	assert_identifier_rejected("com..example");
	assert_identifier_rejected("com.example.");
	assert_identifier_rejected(".com.example");
	assert_identifier_rejected("com.exa mple");
	assert_identifier_rejected("com.example/x");
	assert_identifier_rejected("com.ex_ample");
}

static void test_valid_identifiers(void **state)
{
	struct compilation c;
	(void)state;

	const struct policy *p = compile_clean(&c, "profile \"P\" {\n    identifier \"com.Example-1.x9\"\n}\n");
	assert_string_equal(p->profile.identifier, "com.Example-1.x9");
	compilation_free(&c);
}

static void test_e033_empty_ranges(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when time in 10:00..10:00\n}\n",
	                                      DIAG_E033);
	assert_message_has(d, "time range is empty");
	compilation_free(&c);

	d = compile_expect(&c, TEST_PROFILE "rule \"r\" {\n    when date in 2026-12-25..2026-12-24\n}\n",
	                   DIAG_E033);
	assert_message_has(d, "date range is empty");
	compilation_free(&c);
}

static void test_every_error_is_reported_not_just_the_first(void **state)
{
	struct compilation c;
	(void)state;

	int rc = compile_text(&c, TEST_PROFILE "elevation {\n    durration 5m\n    limit 0 per day\n"
	                                       "    choices \"\"\n}\n"
	                                       "rule \"r\" {\n    when usr == \"a\"\n}\n",
	                      NULL, false);
	assert_int_equal(rc, -1);
	assert_int_equal(c.diags.errors, 4);
	assert_non_null(find_diag(&c.diags, DIAG_E010));
	assert_non_null(find_diag(&c.diags, DIAG_E029));
	assert_non_null(find_diag(&c.diags, DIAG_E027));
	assert_non_null(find_diag(&c.diags, DIAG_E014));
	compilation_free(&c);
}

/* ---- warnings ------------------------------------------------------------ */

static void test_w001_same_condition_as_earlier_rule(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE
	                                      "rule \"First\" {\n    when user in [\"a\", \"b\"]\n}\n"
	                                      "rule \"Second\" {\n    when user in [\"b\", \"a\", \"a\"]\n}\n",
	                                      DIAG_W001);
	assert_message_has(d, "rule \"Second\" can never match");
	assert_help_has(d, "rule \"First\" (line 4) has the same condition");
	assert_int_equal(count_all_diags(&c.diags), 1);
	/* A warning does not stop compilation. */
	assert_non_null(c.policy);
	compilation_free(&c);
}

static void test_w001_day_range_equals_day_list(void **state)
{
	struct compilation c;
	(void)state;

	compile_expect(&c, TEST_PROFILE
	               "rule \"A\" {\n    when day in [sat, sun]\n}\n"
	               "rule \"B\" {\n    when day in saturday..sunday\n}\n",
	               DIAG_W001);
	compilation_free(&c);
}

static void test_w001_rule_after_catch_all(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE
	                                      "rule \"All\" {\n    duration 1m\n}\n"
	                                      "rule \"Later\" {\n    when user == \"a\"\n}\n"
	                                      "otherwise deny\n",
	                                      DIAG_W001);
	assert_message_has(d, "rule \"Later\" can never match");
	assert_help_has(d, "has no 'when' and matches every request");
	assert_int_equal(count_diags(&c.diags, DIAG_W001), 2);
	assert_message_has(d->next, "'otherwise' is never reached");
	compilation_free(&c);
}

static void test_no_w001_for_different_conditions(void **state)
{
	struct compilation c;
	(void)state;

	compile_clean(&c, TEST_PROFILE
	              "rule \"A\" {\n    when user in [\"a\", \"b\"]\n}\n"
	              "rule \"B\" {\n    when group in [\"a\", \"b\"]\n}\n"
	              "rule \"C\" {\n    when not user in [\"a\", \"b\"]\n}\n"
	              "rule \"D\" {\n    when time in 22:00..06:00\n}\n"
	              "rule \"E\" {\n    when time in 22:00..07:00\n}\n"
	              "otherwise allow\n");
	compilation_free(&c);
}

static void test_w002_settings_in_deny_rule(void **state)
{
	struct compilation c;
	char buf[32];
	(void)state;

	const struct diag *d = compile_expect(&c, TEST_PROFILE
	                                      "rule \"No\" {\n    when user == \"a\"\n    duration 5m\n    deny\n}\n",
	                                      DIAG_W002);
	assert_message_has(d, "never applies: rule \"No\" denies");
	assert_string_equal(span_text(&c.src, d->span, buf, sizeof(buf)), "duration 5m");
	assert_non_null(c.policy);
	compilation_free(&c);
}

/* Compiles for Jamf Connect and returns the first W003 (which must exist). */
static const struct diag *expect_w003(struct compilation *c, const char *text)
{
	int rc = compile_text(c, text, &target_jamf_connect, false);
	assert_int_equal(rc, 0);
	assert_int_equal(c->diags.errors, 0);
	const struct diag *d = find_diag(&c->diags, DIAG_W003);
	if (!d)
		print_diags(c);
	assert_non_null(d);
	assert_int_equal(d->severity, DIAG_SEV_WARNING);
	return d;
}

static void test_w003_duration_in_seconds(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = expect_w003(&c, TEST_PROFILE "elevation {\n    duration 90s\n}\n");
	assert_message_has(d, "whole minutes");
	assert_help_has(d, "the profile will carry UserPromotionDuration 1");
	assert_help_has(d, "the polc runtime enforces duration 1m30s");
	compilation_free(&c);
}

static void test_w003_limit_per_day(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = expect_w003(&c, TEST_PROFILE "elevation {\n    limit 3 per day\n}\n");
	assert_message_has(d, "per calendar month");
	assert_help_has(d, "UserPromotionLimit 93");
	assert_help_has(d, "limit 3 per day");
	compilation_free(&c);

	d = expect_w003(&c, TEST_PROFILE "elevation {\n    limit 2 per week\n}\n");
	assert_help_has(d, "UserPromotionLimit 12");
	compilation_free(&c);
}

static void test_w003_rules_and_otherwise_deny(void **state)
{
	struct compilation c;
	(void)state;

	const struct diag *d = expect_w003(&c, TEST_PROFILE
	                                   "rule \"Contractors\" {\n    when group == \"c\"\n}\n"
	                                   "otherwise deny\n");
	assert_message_has(d, "has no rules");
	assert_help_has(d, "rule \"Contractors\"");
	assert_int_equal(count_diags(&c.diags, DIAG_W003), 2);
	assert_message_has(d->next, "cannot deny elevation by default");
	compilation_free(&c);
}

static void test_w003_settings_jamf_cannot_express(void **state)
{
	struct compilation c;
	(void)state;

	expect_w003(&c, TEST_PROFILE "elevation {\n    max 30m\n}\n");
	compilation_free(&c);
	expect_w003(&c, TEST_PROFILE "elevation {\n    authenticate biometric\n}\n");
	compilation_free(&c);
	expect_w003(&c, TEST_PROFILE "elevation {\n    reason optional\n}\n");
	compilation_free(&c);
	expect_w003(&c, TEST_PROFILE "elevation {\n    reason required min 10\n}\n");
	compilation_free(&c);
	expect_w003(&c, TEST_PROFILE "elevation {\n    other allowed\n}\n");
	compilation_free(&c);
}

static void test_no_w003_for_what_jamf_expresses(void **state)
{
	struct compilation c;
	(void)state;

	int rc = compile_text(&c, JAMF_SEED, &target_jamf_connect, false);
	assert_int_equal(rc, 0);
	assert_null(c.diags.head);
	compilation_free(&c);

	rc = compile_text(&c, TEST_PROFILE "elevation {\n    duration 2h\n    limit 10 per month\n"
	                                   "    authenticate password\n    other not allowed\n"
	                                   "    timer shown\n}\notherwise allow\n",
	                  &target_jamf_connect, false);
	assert_int_equal(rc, 0);
	assert_null(c.diags.head);
	compilation_free(&c);
}

static void test_no_w003_without_a_target(void **state)
{
	struct compilation c;
	(void)state;

	compile_clean(&c, TEST_PROFILE "elevation {\n    duration 90s\n    limit 3 per day\n}\n");
	compilation_free(&c);
}

static void test_werror_turns_w003_into_an_error(void **state)
{
	struct compilation c;
	(void)state;

	int rc = compile_text(&c, TEST_PROFILE "elevation {\n    duration 90s\n}\n",
	                      &target_jamf_connect, true);
	assert_int_equal(rc, -1);
	assert_null(c.policy);
	const struct diag *d = find_diag(&c.diags, DIAG_W003);
	assert_non_null(d);
	assert_int_equal(d->severity, DIAG_SEV_ERROR);
	assert_int_equal(c.diags.errors, 1);
	assert_int_equal(c.diags.warnings, 0);
	compilation_free(&c);
}

static void test_werror_turns_w001_into_an_error(void **state)
{
	struct compilation c;
	(void)state;

	int rc = compile_text(&c, TEST_PROFILE "rule \"All\" {\n}\notherwise allow\n", NULL, true);
	assert_int_equal(rc, -1);
	assert_null(c.policy);
	const struct diag *d = find_diag(&c.diags, DIAG_W001);
	assert_non_null(d);
	assert_int_equal(d->severity, DIAG_SEV_ERROR);
	compilation_free(&c);
}

static void test_werror_leaves_clean_policies_alone(void **state)
{
	struct compilation c;
	(void)state;

	int rc = compile_text(&c, JAMF_SEED, &target_jamf_connect, true);
	assert_int_equal(rc, 0);
	assert_non_null(c.policy);
	compilation_free(&c);
}

/* ---- suggest.c ------------------------------------------------------------ */

static void test_edit_distance_basics(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("", ""), 0);
	assert_int_equal(edit_distance("abc", "abc"), 0);
	assert_int_equal(edit_distance("abc", ""), 3);
	assert_int_equal(edit_distance("", "abcd"), 4);
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("sitting", "kitten"), 3);
	assert_int_equal(edit_distance("duraton", "duration"), 1);
	assert_int_equal(edit_distance("flaw", "lawn"), 2);
}

static void test_edit_distance_counts_a_transposition_once(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("ab", "ba"), 1);
	assert_int_equal(edit_distance("durtaion", "duration"), 1);
	/* Optimal string alignment, not full Damerau: no edits inside a transposition. */
	assert_int_equal(edit_distance("ca", "abc"), 3);
}

static void test_edit_distance_of_long_words_is_bounded(void **state)
{
	char longw[101];
	(void)state;

	memset(longw, 'a', 100);
	longw[100] = '\0';
	assert_int_equal(edit_distance(longw, ""), 100);
	assert_int_equal(edit_distance("", longw), 100);
}

static void test_suggest_closest(void **state)
{
	static const char *const settings[] = { "duration", "max", "limit", "authenticate",
		                                    "reason", "choices", "other", "timer" };
	const size_t n = sizeof(settings) / sizeof(*settings);
	(void)state;

	assert_string_equal(suggest_closest("duraton", settings, n), "duration");
	assert_string_equal(suggest_closest("durtaion", settings, n), "duration");
	assert_string_equal(suggest_closest("limt", settings, n), "limit");
	assert_string_equal(suggest_closest("authenticat", settings, n), "authenticate");
	assert_null(suggest_closest("colour", settings, n));
	assert_null(suggest_closest("xyz", settings, n));
	assert_null(suggest_closest("duration", settings, 0));
}

static void test_suggest_closest_needs_a_plausible_typo(void **state)
{
	static const char *const one[] = { "a" };
	static const char *const ax[] = { "ax" };
	static const char *const abx[] = { "abx" };
	static const char *const far[] = { "elevation" };
	(void)state;

	assert_string_equal(suggest_closest("a", one, 1), "a");
	assert_null(suggest_closest("b", one, 1));         /* distance 1 of 1 letter */
	assert_null(suggest_closest("ab", ax, 1));         /* half the word */
	assert_string_equal(suggest_closest("abc", abx, 1), "abx");
	assert_string_equal(suggest_closest("elvaton", far, 1), "elevation");
	assert_null(suggest_closest("elvtn", far, 1));      /* distance 4 */
}

static void test_suggest_closest_prefers_the_first_of_equals(void **state)
{
	static const char *const days[] = { "man", "mun" };
	(void)state;
	assert_string_equal(suggest_closest("mon", days, 2), "man");
}

/* ---- calendar.c ------------------------------------------------------------- */

static void test_days_from_civil_known_values(void **state)
{
	(void)state;
	assert_int_equal(ep_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(ep_days_from_civil(1970, 1, 2), 1);
	assert_int_equal(ep_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(ep_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(ep_days_from_civil(2026, 12, 24), 20811);
	assert_int_equal(ep_days_from_civil(2038, 1, 19), 24855);
	assert_int_equal(ep_days_from_civil(1900, 1, 1), -25567);
	assert_int_equal(ep_days_from_civil(0, 3, 1), -719468);
}

static void test_civil_from_days_known_values(void **state)
{
	(void)state;
	struct civil_date d = ep_civil_from_days(0);
	assert_int_equal(d.year, 1970);
	assert_int_equal(d.month, 1);
	assert_int_equal(d.day, 1);
	d = ep_civil_from_days(-1);
	assert_int_equal(d.year, 1969);
	assert_int_equal(d.month, 12);
	assert_int_equal(d.day, 31);
	d = ep_civil_from_days(19782);
	assert_int_equal(d.year, 2024);
	assert_int_equal(d.month, 2);
	assert_int_equal(d.day, 29);
}

static void test_civil_days_round_trip_over_a_wide_range(void **state)
{
	(void)state;
	/* About years -768 to 7446, one day at a time, checking continuity too. */
	struct civil_date prev = ep_civil_from_days(-1000001);
	for (int32_t days = -1000000; days <= 2000000; days++) {
		struct civil_date d = ep_civil_from_days(days);
		if (!ep_date_is_valid(d.year, d.month, d.day) ||
		    ep_days_from_civil(d.year, d.month, d.day) != days) {
			print_error("day %d -> %d-%u-%u\n", days, d.year, d.month, d.day);
			fail();
		}
		bool next_day = d.year == prev.year && d.month == prev.month && d.day == prev.day + 1;
		bool next_month = d.year == prev.year && d.month == prev.month + 1 && d.day == 1;
		bool next_year = d.year == prev.year + 1 && d.month == 1 && d.day == 1 &&
		                 prev.month == 12 && prev.day == 31;
		if (!next_day && !next_month && !next_year) {
			print_error("day %d: %d-%u-%u follows %d-%u-%u\n", days, d.year, d.month, d.day,
			            prev.year, prev.month, prev.day);
			fail();
		}
		prev = d;
	}
}

static void test_civil_days_round_trip_far_from_1970(void **state)
{
	static const int32_t far[] = { INT32_MIN, INT32_MIN + 1, -2000000000, -123456789,
		                           123456789, 2000000000 };
	(void)state;
	for (size_t i = 0; i < sizeof(far) / sizeof(*far); i++) {
		struct civil_date d = ep_civil_from_days(far[i]);
		assert_true(ep_date_is_valid(d.year, d.month, d.day));
		assert_int_equal(ep_days_from_civil(d.year, d.month, d.day), far[i]);
	}
}

static void test_weekday_of_known_dates(void **state)
{
	(void)state;
	assert_int_equal(ep_weekday(0), 3);                                   /* Thu 1970-01-01 */
	assert_int_equal(ep_weekday(-1), 2);                                  /* Wed 1969-12-31 */
	assert_int_equal(ep_weekday(ep_days_from_civil(2024, 2, 29)), 3);     /* Thursday */
	assert_int_equal(ep_weekday(ep_days_from_civil(2000, 1, 1)), 5);      /* Saturday */
	assert_int_equal(ep_weekday(ep_days_from_civil(1900, 1, 1)), 0);      /* Monday */
	assert_int_equal(ep_weekday(ep_days_from_civil(2026, 12, 24)), 3);    /* Thursday */
	assert_int_equal(ep_weekday(ep_days_from_civil(2026, 12, 27)), 6);    /* Sunday */
	assert_int_equal(ep_weekday(ep_days_from_civil(1776, 7, 4)), 3);      /* Thursday */
	assert_int_equal(ep_weekday(INT32_MIN), 1);                           /* (3 + -2^31 mod 7) mod 7 */
}

static void test_weekday_cycles_every_seven_days(void **state)
{
	(void)state;
	for (int32_t days = -3000; days < 3000; days++) {
		assert_in_range(ep_weekday(days), 0, 6);
		assert_int_equal(ep_weekday(days + 1), (ep_weekday(days) + 1) % 7);
	}
}

static void test_leap_years(void **state)
{
	(void)state;
	assert_false(ep_date_is_valid(1900, 2, 29));
	assert_true(ep_date_is_valid(2000, 2, 29));
	assert_true(ep_date_is_valid(2024, 2, 29));
	assert_false(ep_date_is_valid(2023, 2, 29));
	assert_false(ep_date_is_valid(2100, 2, 29));
	assert_true(ep_date_is_valid(2400, 2, 29));
	assert_int_equal(ep_days_from_civil(1900, 3, 1) - ep_days_from_civil(1900, 2, 28), 1);
	assert_int_equal(ep_days_from_civil(2000, 3, 1) - ep_days_from_civil(2000, 2, 28), 2);
	assert_int_equal(ep_days_from_civil(2024, 3, 1) - ep_days_from_civil(2024, 2, 28), 2);
	assert_int_equal(ep_days_from_civil(2025, 1, 1) - ep_days_from_civil(2024, 1, 1), 366);
	assert_int_equal(ep_days_from_civil(1901, 1, 1) - ep_days_from_civil(1900, 1, 1), 365);
}

static void test_date_validity_edges(void **state)
{
	(void)state;
	assert_true(ep_date_is_valid(2026, 1, 31));
	assert_false(ep_date_is_valid(2026, 4, 31));
	assert_true(ep_date_is_valid(2026, 12, 31));
	assert_false(ep_date_is_valid(2026, 13, 1));
	assert_false(ep_date_is_valid(2026, 0, 1));
	assert_false(ep_date_is_valid(2026, 1, 0));
	assert_false(ep_date_is_valid(2026, 1, 32));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jamf_seed_settings),
		cmocka_unit_test(test_defaults_without_elevation_block),
		cmocka_unit_test(test_setting_values),
		cmocka_unit_test(test_negative_forms_of_settings),
		cmocka_unit_test(test_where_points_at_the_setting),
		cmocka_unit_test(test_rule_settings_layer_over_defaults),
		cmocka_unit_test(test_rule_reason_min_inherits_max),
		cmocka_unit_test(test_rule_reason_max_inherits_min),
		cmocka_unit_test(test_rule_inherits_every_unset_setting),
		cmocka_unit_test(test_max_follows_rule_duration_when_no_max_is_given),
		cmocka_unit_test(test_rules_keep_source_order),
		cmocka_unit_test(test_deny_rule_with_and_without_message),
		cmocka_unit_test(test_rule_without_when_matches_everything),
		cmocka_unit_test(test_otherwise_allow_and_deny),
		cmocka_unit_test(test_string_set_is_sorted_and_deduplicated),
		cmocka_unit_test(test_equality_is_a_one_element_set),
		cmocka_unit_test(test_not_equal_and_not_in_are_negated_sets),
		cmocka_unit_test(test_matches_keeps_one_glob),
		cmocka_unit_test(test_session_kinds_become_bits),
		cmocka_unit_test(test_day_sets_become_bitmasks),
		cmocka_unit_test(test_day_range_wraps_over_the_weekend),
		cmocka_unit_test(test_time_range_in_minutes),
		cmocka_unit_test(test_time_range_wraps_midnight),
		cmocka_unit_test(test_time_range_may_end_at_24_00),
		cmocka_unit_test(test_time_ranges_are_sorted_and_deduplicated),
		cmocka_unit_test(test_dates_become_day_numbers),
		cmocka_unit_test(test_and_or_not_keep_their_shape),
		cmocka_unit_test(test_e010_unknown_setting_with_suggestion),
		cmocka_unit_test(test_e010_unknown_profile_field_with_suggestion),
		cmocka_unit_test(test_e010_far_off_word_has_no_suggestion),
		cmocka_unit_test(test_e010_misspelt_deny_in_rule_suggests_deny),
		cmocka_unit_test(test_e011_unknown_value_with_suggestion),
		cmocka_unit_test(test_e011_missing_value),
		cmocka_unit_test(test_e011_extra_value),
		cmocka_unit_test(test_e011_limit_needs_a_period),
		cmocka_unit_test(test_e011_authentication_methods),
		cmocka_unit_test(test_e011_reason_length_needs_a_reason),
		cmocka_unit_test(test_e011_choices_need_commas),
		cmocka_unit_test(test_e011_unknown_session_kind),
		cmocka_unit_test(test_e012_number_where_duration_expected),
		cmocka_unit_test(test_e012_choice_must_be_quoted),
		cmocka_unit_test(test_e012_user_name_must_be_quoted),
		cmocka_unit_test(test_e012_time_needs_a_range),
		cmocka_unit_test(test_e012_strings_take_no_range),
		cmocka_unit_test(test_e013_setting_given_twice),
		cmocka_unit_test(test_e013_when_given_twice),
		cmocka_unit_test(test_e013_reason_min_given_twice),
		cmocka_unit_test(test_e013_profile_field_given_twice),
		cmocka_unit_test(test_e014_unknown_subject_with_suggestion),
		cmocka_unit_test(test_e015_time_cannot_be_compared_with_equals),
		cmocka_unit_test(test_e015_matches_only_for_names),
		cmocka_unit_test(test_e016_when_outside_a_rule),
		cmocka_unit_test(test_e016_profile_field_in_elevation),
		cmocka_unit_test(test_e016_setting_in_profile),
		cmocka_unit_test(test_e016_named_elevation_block),
		cmocka_unit_test(test_e017_blocks_given_twice),
		cmocka_unit_test(test_e018_missing_or_empty_names),
		cmocka_unit_test(test_e020_zero_duration),
		cmocka_unit_test(test_e020_negative_value_stops_compilation),
		cmocka_unit_test(test_e021_duration_over_24_hours),
		cmocka_unit_test(test_24_hours_is_the_longest_duration),
		cmocka_unit_test(test_e022_max_shorter_than_duration),
		cmocka_unit_test(test_e022_rule_duration_above_inherited_max),
		cmocka_unit_test(test_e022_not_checked_in_deny_rules),
		cmocka_unit_test(test_e023_reason_min_above_max),
		cmocka_unit_test(test_e023_rule_min_above_inherited_max),
		cmocka_unit_test(test_e024_invalid_times),
		cmocka_unit_test(test_e025_unknown_day),
		cmocka_unit_test(test_e026_invalid_dates),
		cmocka_unit_test(test_leap_day_is_a_valid_date),
		cmocka_unit_test(test_e027_empty_choice),
		cmocka_unit_test(test_e028_duplicate_choice),
		cmocka_unit_test(test_e029_numbers_out_of_range),
		cmocka_unit_test(test_e029_too_many_choices),
		cmocka_unit_test(test_e030_duplicate_rule_name),
		cmocka_unit_test(test_e031_missing_profile_or_identifier),
		cmocka_unit_test(test_e032_invalid_identifiers),
		cmocka_unit_test(test_valid_identifiers),
		cmocka_unit_test(test_e033_empty_ranges),
		cmocka_unit_test(test_every_error_is_reported_not_just_the_first),
		cmocka_unit_test(test_w001_same_condition_as_earlier_rule),
		cmocka_unit_test(test_w001_day_range_equals_day_list),
		cmocka_unit_test(test_w001_rule_after_catch_all),
		cmocka_unit_test(test_no_w001_for_different_conditions),
		cmocka_unit_test(test_w002_settings_in_deny_rule),
		cmocka_unit_test(test_w003_duration_in_seconds),
		cmocka_unit_test(test_w003_limit_per_day),
		cmocka_unit_test(test_w003_rules_and_otherwise_deny),
		cmocka_unit_test(test_w003_settings_jamf_cannot_express),
		cmocka_unit_test(test_no_w003_for_what_jamf_expresses),
		cmocka_unit_test(test_no_w003_without_a_target),
		cmocka_unit_test(test_werror_turns_w003_into_an_error),
		cmocka_unit_test(test_werror_turns_w001_into_an_error),
		cmocka_unit_test(test_werror_leaves_clean_policies_alone),
		cmocka_unit_test(test_edit_distance_basics),
		cmocka_unit_test(test_edit_distance_counts_a_transposition_once),
		cmocka_unit_test(test_edit_distance_of_long_words_is_bounded),
		cmocka_unit_test(test_suggest_closest),
		cmocka_unit_test(test_suggest_closest_needs_a_plausible_typo),
		cmocka_unit_test(test_suggest_closest_prefers_the_first_of_equals),
		cmocka_unit_test(test_days_from_civil_known_values),
		cmocka_unit_test(test_civil_from_days_known_values),
		cmocka_unit_test(test_civil_days_round_trip_over_a_wide_range),
		cmocka_unit_test(test_civil_days_round_trip_far_from_1970),
		cmocka_unit_test(test_weekday_of_known_dates),
		cmocka_unit_test(test_weekday_cycles_every_seven_days),
		cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_date_validity_edges),
	};
	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
