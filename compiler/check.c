/*
 * check.c - semantic checks: AST in, checked policy (policy.h) out.
 *
 * Interprets setting words and condition subjects, validates every value,
 * layers rule settings over the elevation defaults, and finds rules that
 * can never match. Reports all it finds; returns NULL when any error was
 * reported, so backends never see a policy that did not pass.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "format.h"
#include "parser.h"
#include "suggest.h"

#define COUNT(a) (sizeof(a) / sizeof(*(a)))

struct checker {
	const struct source *src;
	struct arena *arena;
	struct diag_list *diags;
	struct policy *policy;
};

/* ---- reading a setting's atoms ------------------------------------------ */

struct cursor {
	struct checker *c;
	const struct ast_stmt *stmt;
	const struct ast_atom *at;
	const struct token *last;    /* the token take() returned last */
};

static const struct token *peek(const struct cursor *cur)
{
	return cur->at ? &cur->at->tok : NULL;
}

static const struct token *take(struct cursor *cur)
{
	const struct token *t = peek(cur);
	if (cur->at) {
		cur->at = cur->at->next;
		cur->last = t;
	}
	return t;
}

static bool is_word(const struct token *t, const char *w)
{
	return t && t->kind == TK_WORD && strcmp(t->v.str, w) == 0;
}

static const char *setting_name(const struct cursor *cur)
{
	return cur->stmt->name.v.str;
}

/* The text of a token as written, for messages. */
static int token_len(const struct cursor *cur, const struct token *t)
{
	(void)cur;
	return (int)(t->span.len > 40 ? 40 : t->span.len);
}

static const char *token_text(const struct cursor *cur, const struct token *t)
{
	return cur->c->src->text + t->span.off;
}

/* Where a missing value would have been: just after the statement. */
static struct span after_statement(const struct ast_stmt *s)
{
	return (struct span){ s->span.off + s->span.len, 1 };
}

static void report_missing(struct cursor *cur, const char *what, const char *example)
{
	struct diag *d = diag_report(cur->c->diags, DIAG_E011, after_statement(cur->stmt),
	                             "'%s' needs %s", setting_name(cur), what);
	diag_help(cur->c->diags, d, "for example: %s", example);
}

static void report_wrong_type(struct cursor *cur, const struct token *t, const char *what,
                              const char *example)
{
	struct diag *d = diag_report(cur->c->diags, DIAG_E012, t->span,
	                             "'%s' expects %s, found %s", setting_name(cur), what,
	                             token_kind_name(t->kind));
	if (t->kind == TK_NUMBER && strstr(what, "duration"))
		diag_help(cur->c->diags, d, "durations need a unit: %us, %um, %uh or %ud",
		          t->v.number, t->v.number, t->v.number, t->v.number);
	else
		diag_help(cur->c->diags, d, "for example: %s", example);
}

/* Reports anything left after a complete setting. */
static bool expect_end(struct cursor *cur)
{
	const struct token *t = peek(cur);
	if (!t)
		return true;
	diag_report(cur->c->diags, DIAG_E011, t->span, "unexpected '%.*s' after '%s' setting",
	            token_len(cur, t), token_text(cur, t), setting_name(cur));
	return false;
}

/*
 * Takes one word from a fixed vocabulary; returns its index, or -1 after
 * reporting a missing, mistyped or unknown word (with "did you mean").
 */
static int take_keyword(struct cursor *cur, const char *const *words, size_t n, const char *what,
                        const char *example)
{
	const struct token *t = take(cur);
	if (!t) {
		report_missing(cur, what, example);
		return -1;
	}
	if (t->kind == TK_WORD || t->kind == TK_ALLOW || t->kind == TK_NOT) {
		const char *w = t->kind == TK_WORD ? t->v.str : t->kind == TK_ALLOW ? "allow" : "not";
		for (size_t i = 0; i < n; i++)
			if (strcmp(w, words[i]) == 0)
				return (int)i;
		struct diag *d = diag_report(cur->c->diags, DIAG_E011, t->span,
		                             "unknown value '%s' for '%s'", w, setting_name(cur));
		const char *best = suggest_closest(w, words, n);
		if (best)
			diag_help(cur->c->diags, d, "did you mean '%s'?", best);
		else
			diag_help(cur->c->diags, d, "for example: %s", example);
		return -1;
	}
	report_wrong_type(cur, t, what, example);
	return -1;
}

static void mark_given(struct settings *s, enum setting_id id, struct span where)
{
	s->given |= 1u << id;
	s->where[id] = where;
}

/* ---- value checks shared by settings ------------------------------------ */

static bool check_duration_value(struct checker *c, const struct token *t, const char *what)
{
	if (t->v.seconds == 0) {
		struct diag *d = diag_report(c->diags, DIAG_E020, t->span, "%s must be positive", what);
		diag_help(c->diags, d, "to refuse elevation, write a rule with 'deny'");
		return false;
	}
	if (t->v.seconds > MAX_DURATION_SECONDS) {
		struct diag *d = diag_report(c->diags, DIAG_E021, t->span,
		                             "%s %.*s is longer than 24 hours", what,
		                             (int)t->span.len, c->src->text + t->span.off);
		diag_help(c->diags, d, "temporary admin rights last at most 24h");
		return false;
	}
	return true;
}

static bool take_duration(struct cursor *cur, uint32_t *out)
{
	const struct token *t = take(cur);
	if (!t) {
		report_missing(cur, "a duration", "duration 5m");
		return false;
	}
	if (t->kind != TK_DURATION) {
		report_wrong_type(cur, t, "a duration such as 5m", "duration 5m");
		return false;
	}
	if (!check_duration_value(cur->c, t, setting_name(cur)))
		return false;
	*out = t->v.seconds;
	return true;
}

/* A count such as a limit or a reason length, within [lo, hi]. */
static bool take_count(struct cursor *cur, const char *what, uint32_t lo, uint32_t hi,
                       const char *example, uint32_t *out)
{
	const struct token *t = take(cur);
	if (!t) {
		report_missing(cur, what, example);
		return false;
	}
	if (t->kind != TK_NUMBER) {
		report_wrong_type(cur, t, what, example);
		return false;
	}
	if (t->v.number < lo || t->v.number > hi) {
		struct diag *d = diag_report(cur->c->diags, DIAG_E029, t->span,
		                             "%s must be between %u and %u", what, lo, hi);
		if (lo == 1 && t->v.number == 0 && strcmp(setting_name(cur), "limit") == 0)
			diag_help(cur->c->diags, d, "to refuse elevation, write a rule with 'deny'");
		return false;
	}
	*out = t->v.number;
	return true;
}

/* ---- the settings ----------------------------------------------------- */

static void parse_duration(struct cursor *cur, struct settings *s)
{
	if (take_duration(cur, &s->duration) && expect_end(cur))
		mark_given(s, SETTING_DURATION, cur->stmt->span);
}

static void parse_max(struct cursor *cur, struct settings *s)
{
	if (take_duration(cur, &s->max) && expect_end(cur))
		mark_given(s, SETTING_MAX, cur->stmt->span);
}

static void parse_limit(struct cursor *cur, struct settings *s)
{
	static const char *const periods[] = { "day", "week", "month" };
	const struct token *t = peek(cur);

	if (is_word(t, "none")) {
		take(cur);
		if (expect_end(cur)) {
			s->limit_count = 0;
			s->limit_period = PERIOD_NONE;
			mark_given(s, SETTING_LIMIT, cur->stmt->span);
		}
		return;
	}
	if (t && t->kind == TK_WORD) {
		take(cur);
		struct diag *d = diag_report(cur->c->diags, DIAG_E011, t->span,
		                             "unknown value '%s' for 'limit'", t->v.str);
		const char *const none[] = { "none" };
		if (suggest_closest(t->v.str, none, 1))
			diag_help(cur->c->diags, d, "did you mean 'none'?");
		else
			diag_help(cur->c->diags, d, "write 'limit none' or 'limit 3 per day'");
		return;
	}
	uint32_t count;
	if (!take_count(cur, "a number of elevations", 1, MAX_LIMIT_COUNT, "limit 3 per day", &count))
		return;
	const struct token *per = take(cur);
	if (!is_word(per, "per")) {
		struct diag *d = diag_report(cur->c->diags, DIAG_E011,
		                             per ? per->span : after_statement(cur->stmt),
		                             "'limit' needs a period after the count");
		diag_help(cur->c->diags, d, "write 'limit %u per day', 'per week' or 'per month'", count);
		return;
	}
	int period = take_keyword(cur, periods, COUNT(periods), "a period (day, week or month)",
	                          "limit 3 per day");
	if (period < 0 || !expect_end(cur))
		return;
	s->limit_count = count;
	s->limit_period = (enum limit_period)(PERIOD_DAY + period);
	mark_given(s, SETTING_LIMIT, cur->stmt->span);
}

static void parse_authenticate(struct cursor *cur, struct settings *s)
{
	static const char *const methods[] = { "biometric", "password", "none" };
	unsigned auth = 0;
	bool ok = true, saw_none = false;

	for (;;) {
		const struct token *t = peek(cur);
		int m = take_keyword(cur, methods, COUNT(methods), "an authentication method",
		                     "authenticate biometric or password");
		if (m < 0)
			return;
		unsigned bit = m == 0 ? AUTH_BIOMETRIC : m == 1 ? AUTH_PASSWORD : 0;
		if ((bit && (auth & bit)) || (m == 2 && saw_none)) {
			diag_report(cur->c->diags, DIAG_E011, t->span, "'%s' is listed twice", methods[m]);
			ok = false;
		}
		saw_none |= m == 2;
		auth |= bit;
		if (!peek(cur) || peek(cur)->kind != TK_OR)
			break;
		take(cur);
	}
	if (saw_none && auth) {
		diag_report(cur->c->diags, DIAG_E011, cur->stmt->span,
		            "'none' cannot be combined with other methods");
		ok = false;
	}
	if (ok && expect_end(cur)) {
		s->auth = auth;
		mark_given(s, SETTING_AUTH, cur->stmt->span);
	}
}

static void parse_reason(struct cursor *cur, struct settings *s)
{
	static const char *const modes[] = { "none", "optional", "required" };
	int mode = take_keyword(cur, modes, COUNT(modes), "a requirement (required, optional or none)",
	                        "reason required min 10");
	if (mode < 0)
		return;
	struct settings parsed = { 0 };
	for (const struct token *t; (t = peek(cur)) != NULL;) {
		bool is_min = is_word(t, "min"), is_max = is_word(t, "max");
		if (!is_min && !is_max)
			break;
		take(cur);
		enum setting_id id = is_min ? SETTING_REASON_MIN : SETTING_REASON_MAX;
		if (parsed.given & (1u << id)) {
			diag_report(cur->c->diags, DIAG_E013, t->span, "'%s' is given twice",
			            is_min ? "min" : "max");
			return;
		}
		uint32_t v;
		if (!take_count(cur, is_min ? "a minimum length" : "a maximum length", is_min ? 0 : 1,
		                MAX_REASON_LENGTH, "reason required min 10 max 200", &v))
			return;
		if (mode == REASON_NONE) {
			diag_report(cur->c->diags, DIAG_E011, t->span,
			            "'%s' needs 'reason required' or 'reason optional'", is_min ? "min" : "max");
			return;
		}
		if (is_min)
			parsed.reason_min = v;
		else
			parsed.reason_max = v;
		mark_given(&parsed, id, span_join(t->span, cur->last->span));
	}
	if (!expect_end(cur))
		return;
	s->reason = (enum reason_mode)mode;
	mark_given(s, SETTING_REASON, cur->stmt->span);
	if (parsed.given & SETTING_BIT(REASON_MIN)) {
		s->reason_min = parsed.reason_min;
		mark_given(s, SETTING_REASON_MIN, parsed.where[SETTING_REASON_MIN]);
	}
	if (parsed.given & SETTING_BIT(REASON_MAX)) {
		s->reason_max = parsed.reason_max;
		mark_given(s, SETTING_REASON_MAX, parsed.where[SETTING_REASON_MAX]);
	}
}

static void parse_choices(struct cursor *cur, struct settings *s)
{
	size_t n = 0;
	bool ok = true;
	for (const struct ast_atom *a = cur->at; a; a = a->next)
		n += a->tok.kind == TK_STRING;
	const char **choices = ARENA_ARRAY(cur->c->arena, const char *, n ? n : 1);
	size_t count = 0;

	for (;;) {
		const struct token *t = take(cur);
		if (!t) {
			report_missing(cur, "at least one choice", "choices \"Install an app\", \"Other\"");
			return;
		}
		if (t->kind != TK_STRING) {
			report_wrong_type(cur, t, "quoted choices", "choices \"Install an app\", \"Other\"");
			return;
		}
		if (t->v.str[0] == '\0') {
			diag_report(cur->c->diags, DIAG_E027, t->span, "a choice cannot be empty");
			ok = false;
		}
		for (size_t i = 0; i < count; i++) {
			if (strcmp(choices[i], t->v.str) == 0) {
				diag_report(cur->c->diags, DIAG_E028, t->span, "choice \"%s\" is listed twice",
				            t->v.str);
				ok = false;
			}
		}
		choices[count++] = t->v.str;
		const struct token *sep = peek(cur);
		if (!sep)
			break;
		if (sep->kind != TK_COMMA) {
			struct diag *d = diag_report(cur->c->diags, DIAG_E011, sep->span,
			                             "choices must be separated by commas");
			diag_help(cur->c->diags, d, "choices \"Install an app\", \"Change a setting\"");
			return;
		}
		take(cur);
	}
	if (count > EP_MAX_CHOICES) {
		diag_report(cur->c->diags, DIAG_E029, cur->stmt->span, "at most %d choices are allowed",
		            EP_MAX_CHOICES);
		return;
	}
	if (!ok)
		return;
	s->choices = choices;
	s->nchoices = count;
	mark_given(s, SETTING_CHOICES, cur->stmt->span);
}

static void parse_other(struct cursor *cur, struct settings *s)
{
	static const char *const values[] = { "allowed", "not" };
	int v = take_keyword(cur, values, COUNT(values), "'allowed' or 'not allowed'", "other allowed");
	if (v < 0)
		return;
	if (v == 1) {
		static const char *const allowed[] = { "allowed" };
		if (take_keyword(cur, allowed, 1, "'allowed' after 'not'", "other not allowed") < 0)
			return;
	}
	if (expect_end(cur)) {
		s->other_allowed = v == 0;
		mark_given(s, SETTING_OTHER, cur->stmt->span);
	}
}

static void parse_timer(struct cursor *cur, struct settings *s)
{
	static const char *const values[] = { "shown", "hidden" };
	int v = take_keyword(cur, values, COUNT(values), "'shown' or 'hidden'", "timer shown");
	if (v >= 0 && expect_end(cur)) {
		s->timer_shown = v == 0;
		mark_given(s, SETTING_TIMER, cur->stmt->span);
	}
}

struct setting_syntax {
	const char *name;
	enum setting_id id;
	void (*parse)(struct cursor *cur, struct settings *s);
};

static const struct setting_syntax setting_syntaxes[] = {
	{ "duration", SETTING_DURATION, parse_duration },
	{ "max", SETTING_MAX, parse_max },
	{ "limit", SETTING_LIMIT, parse_limit },
	{ "authenticate", SETTING_AUTH, parse_authenticate },
	{ "reason", SETTING_REASON, parse_reason },
	{ "choices", SETTING_CHOICES, parse_choices },
	{ "other", SETTING_OTHER, parse_other },
	{ "timer", SETTING_TIMER, parse_timer },
};

static const char *const setting_names[] = {
	"duration", "max", "limit", "authenticate", "reason", "choices", "other", "timer",
};

static const char *const profile_fields[] = { "identifier", "organization", "description" };

static int find_name(const char *w, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, names[i]) == 0)
			return (int)i;
	return -1;
}

static void report_unknown_setting(struct checker *c, const struct ast_stmt *st,
                                   const char *const *names, size_t n, const char *block)
{
	struct diag *d = diag_report(c->diags, DIAG_E010, st->name.span, "unknown setting '%s' in %s",
	                             st->name.v.str, block);
	static const char *const rule_keywords[] = { "when", "deny" };
	const char *best = suggest_closest(st->name.v.str, names, n);
	if (!best && strcmp(block, "a rule") == 0)
		best = suggest_closest(st->name.v.str, rule_keywords, 2);
	if (best)
		diag_help(c->diags, d, "did you mean '%s'?", best);
}

/* One setting of an elevation block or rule. */
static void check_setting(struct checker *c, const struct ast_stmt *st, struct settings *s,
                          const char *block)
{
	int i = find_name(st->name.v.str, setting_names, COUNT(setting_names));
	if (i < 0) {
		if (find_name(st->name.v.str, profile_fields, COUNT(profile_fields)) >= 0) {
			struct diag *d = diag_report(c->diags, DIAG_E016, st->name.span,
			                             "'%s' is not allowed in %s", st->name.v.str, block);
			diag_help(c->diags, d, "'%s' belongs in the profile block", st->name.v.str);
			return;
		}
		report_unknown_setting(c, st, setting_names, COUNT(setting_names), block);
		return;
	}
	const struct setting_syntax *syn = &setting_syntaxes[i];
	if (s->given & (1u << syn->id)) {
		struct diag *d = diag_report(c->diags, DIAG_E013, st->name.span,
		                             "'%s' is given twice in %s", syn->name, block);
		struct position first = source_position(c->src, s->where[syn->id].off);
		diag_help(c->diags, d, "first given on line %u", first.line);
		return;
	}
	struct cursor cur = { c, st, st->atoms, NULL };
	syn->parse(&cur, s);
}

/* ---- conditions --------------------------------------------------------- */

static const char *const subject_names[] = {
	"user", "group", "host", "session", "time", "day", "date",
};

static const char *const day_names[] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun",
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};

static const char *const op_names[] = { "==", "!=", "in", "not in", "matches" };

static struct cond *new_cond(struct checker *c, enum cond_kind kind, struct span span)
{
	struct cond *k = ARENA_NEW(c->arena, struct cond);
	k->kind = kind;
	k->span = span;
	return k;
}

static bool op_allowed(enum subject s, enum ast_op op)
{
	switch (s) {
	case SUBJECT_USER: case SUBJECT_GROUP: case SUBJECT_HOST:
		return true;
	case SUBJECT_TIME:
		return op == AST_OP_IN || op == AST_OP_NOT_IN;
	default:
		return op != AST_OP_MATCHES;
	}
}

static void report_bad_op(struct checker *c, const struct ast_expr *e, enum subject s)
{
	struct diag *d = diag_report(c->diags, DIAG_E015, e->op_span, "'%s' cannot be used with '%s'",
	                             op_names[e->op], subject_names[s]);
	if (s == SUBJECT_TIME)
		diag_help(c->diags, d, "write a range: time in 22:00..06:00");
	else if (e->op == AST_OP_MATCHES)
		diag_help(c->diags, d, "'matches' takes a pattern for user, group or host");
}

static const char *item_expectation(enum subject s)
{
	switch (s) {
	case SUBJECT_USER: case SUBJECT_GROUP: case SUBJECT_HOST:
		return "a quoted name";
	case SUBJECT_SESSION: return "console or remote";
	case SUBJECT_TIME: return "a time range such as 22:00..06:00";
	case SUBJECT_DAY: return "a day such as mon";
	default: return "a date such as 2026-12-24";
	}
}

static void report_item_type(struct checker *c, const struct token *t, enum subject s)
{
	diag_report(c->diags, DIAG_E012, t->span, "'%s' is compared with %s, found %s",
	            subject_names[s], item_expectation(s), token_kind_name(t->kind));
}

static bool check_time_value(struct checker *c, const struct token *t, bool is_end, uint16_t *out)
{
	if (t->kind != TK_TIME) {
		report_item_type(c, t, SUBJECT_TIME);
		return false;
	}
	unsigned h = t->v.time.hour, m = t->v.time.minute;
	bool end_of_day = is_end && h == 24 && m == 0;
	if ((h > 23 || m > 59) && !end_of_day) {
		struct diag *d = diag_report(c->diags, DIAG_E024, t->span, "invalid time of day '%.*s'",
		                             (int)t->span.len, c->src->text + t->span.off);
		diag_help(c->diags, d, "times run from 00:00 to 23:59 (24:00 may end a range)");
		return false;
	}
	*out = (uint16_t)(h * 60 + m);
	return true;
}

static int check_day_value(struct checker *c, const struct token *t)
{
	if (t->kind != TK_WORD) {
		report_item_type(c, t, SUBJECT_DAY);
		return -1;
	}
	int i = find_name(t->v.str, day_names, COUNT(day_names));
	if (i >= 0)
		return i % 7;
	struct diag *d = diag_report(c->diags, DIAG_E025, t->span, "unknown day '%s'", t->v.str);
	const char *best = suggest_closest(t->v.str, day_names, COUNT(day_names));
	diag_help(c->diags, d, best ? "did you mean '%s'?" : "days are %s", best ? best : "mon, tue, wed, thu, fri, sat, sun");
	return -1;
}

static bool check_date_value(struct checker *c, const struct token *t, int32_t *out)
{
	if (t->kind != TK_DATE) {
		report_item_type(c, t, SUBJECT_DATE);
		return false;
	}
	unsigned y = t->v.date.year, m = t->v.date.month, d = t->v.date.day;
	if (y < 1970 || !ep_date_is_valid((int32_t)y, m, d)) {
		struct diag *dg = diag_report(c->diags, DIAG_E026, t->span, "invalid date '%.*s'",
		                              (int)t->span.len, c->src->text + t->span.off);
		if (y < 1970)
			diag_help(c->diags, dg, "dates start at 1970-01-01");
		return false;
	}
	*out = ep_days_from_civil((int32_t)y, m, d);
	return true;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int compare_times(const void *a, const void *b)
{
	const struct time_range *x = a, *y = b;
	return x->from != y->from ? (x->from > y->from) - (x->from < y->from)
	                          : (x->to > y->to) - (x->to < y->to);
}

static int compare_dates(const void *a, const void *b)
{
	const struct date_range *x = a, *y = b;
	return x->from != y->from ? (x->from > y->from) - (x->from < y->from)
	                          : (x->to > y->to) - (x->to < y->to);
}

/* Sorts and removes duplicates, so equal sets compare equal. */
static size_t sort_unique(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n == 0)
		return 0;
	qsort(base, n, size, cmp);
	size_t out = 1;
	for (size_t i = 1; i < n; i++) {
		char *prev = (char *)base + (out - 1) * size, *cur = (char *)base + i * size;
		if (cmp(prev, cur) != 0)
			memmove((char *)base + out++ * size, cur, size);
	}
	return out;
}

static bool reject_range(struct checker *c, const struct ast_item *it, enum subject s)
{
	if (!it->is_range)
		return false;
	diag_report(c->diags, DIAG_E012, it->span, "'%s' cannot take a range", subject_names[s]);
	return true;
}

/* Fills a set condition from the items of a test; false after errors. */
static bool fill_set(struct checker *c, struct cond *k, const struct ast_expr *e)
{
	size_t n = 0;
	bool ok = true;
	for (const struct ast_item *it = e->items; it; it = it->next)
		n++;
	switch (k->subject) {
	case SUBJECT_USER: case SUBJECT_GROUP: case SUBJECT_HOST:
		k->strings = ARENA_ARRAY(c->arena, const char *, n);
		for (const struct ast_item *it = e->items; it; it = it->next) {
			if (reject_range(c, it, k->subject)) { ok = false; continue; }
			if (it->lo.kind != TK_STRING) {
				report_item_type(c, &it->lo, k->subject);
				ok = false;
				continue;
			}
			k->strings[k->nstrings++] = it->lo.v.str;
		}
		k->nstrings = sort_unique(k->strings, k->nstrings, sizeof(*k->strings), compare_strings);
		return ok;
	case SUBJECT_SESSION:
		for (const struct ast_item *it = e->items; it; it = it->next) {
			static const char *const kinds[] = { "console", "remote" };
			if (reject_range(c, it, k->subject)) { ok = false; continue; }
			int i = it->lo.kind == TK_WORD ? find_name(it->lo.v.str, kinds, 2) : -1;
			if (i < 0) {
				struct diag *d = diag_report(c->diags, DIAG_E011, it->lo.span,
				                             "a session is 'console' or 'remote'");
				const char *best = it->lo.kind == TK_WORD ? suggest_closest(it->lo.v.str, kinds, 2) : NULL;
				if (best)
					diag_help(c->diags, d, "did you mean '%s'?", best);
				ok = false;
				continue;
			}
			k->sessions |= i == 0 ? SESSION_CONSOLE : SESSION_REMOTE;
		}
		return ok;
	case SUBJECT_TIME:
		k->times = ARENA_ARRAY(c->arena, struct time_range, n);
		for (const struct ast_item *it = e->items; it; it = it->next) {
			struct time_range r;
			if (!it->is_range) {
				struct diag *d = diag_report(c->diags, DIAG_E012, it->span,
				                             "'time' needs a range, not a single time");
				diag_help(c->diags, d, "write a range: time in 22:00..06:00");
				ok = false;
				continue;
			}
			bool from_ok = check_time_value(c, &it->lo, false, &r.from);
			bool to_ok = check_time_value(c, &it->hi, true, &r.to);
			if (!from_ok || !to_ok) {
				ok = false;
				continue;
			}
			if (r.from == r.to) {
				diag_report(c->diags, DIAG_E033, it->span, "time range is empty");
				ok = false;
				continue;
			}
			k->times[k->ntimes++] = r;
		}
		k->ntimes = sort_unique(k->times, k->ntimes, sizeof(*k->times), compare_times);
		return ok;
	case SUBJECT_DAY:
		for (const struct ast_item *it = e->items; it; it = it->next) {
			int lo = check_day_value(c, &it->lo);
			int hi = it->is_range ? check_day_value(c, &it->hi) : lo;
			if (lo < 0 || hi < 0) {
				ok = false;
				continue;
			}
			for (int d = lo;; d = (d + 1) % 7) {
				k->days |= (uint8_t)(1u << d);
				if (d == hi)
					break;
			}
		}
		return ok;
	case SUBJECT_DATE:
		k->dates = ARENA_ARRAY(c->arena, struct date_range, n);
		for (const struct ast_item *it = e->items; it; it = it->next) {
			struct date_range r;
			bool lo_ok = check_date_value(c, &it->lo, &r.from);
			bool hi_ok = it->is_range ? check_date_value(c, &it->hi, &r.to) : (r.to = r.from, true);
			if (!lo_ok || !hi_ok) {
				ok = false;
				continue;
			}
			if (r.to < r.from) {
				struct diag *d = diag_report(c->diags, DIAG_E033, it->span, "date range is empty");
				diag_help(c->diags, d, "the first date of a range comes before the last");
				ok = false;
				continue;
			}
			k->dates[k->ndates++] = r;
		}
		k->ndates = sort_unique(k->dates, k->ndates, sizeof(*k->dates), compare_dates);
		return ok;
	}
	return false;
}

static struct cond *check_test(struct checker *c, const struct ast_expr *e)
{
	const struct token *subj = &e->subject;
	int s = find_name(subj->v.str, subject_names, COUNT(subject_names));
	if (s < 0) {
		struct diag *d = diag_report(c->diags, DIAG_E014, subj->span,
		                             "unknown condition subject '%s'", subj->v.str);
		const char *best = suggest_closest(subj->v.str, subject_names, COUNT(subject_names));
		if (best)
			diag_help(c->diags, d, "did you mean '%s'?", best);
		else
			diag_help(c->diags, d, "conditions test user, group, host, session, time, day or date");
		return NULL;
	}
	if (!op_allowed((enum subject)s, e->op)) {
		report_bad_op(c, e, (enum subject)s);
		return NULL;
	}
	struct cond *k = new_cond(c, e->op == AST_OP_MATCHES ? COND_MATCH : COND_IN, e->span);
	k->subject = (enum subject)s;
	if (!fill_set(c, k, e))
		return NULL;
	if (e->op != AST_OP_NE && e->op != AST_OP_NOT_IN)
		return k;
	struct cond *neg = new_cond(c, COND_NOT, e->span);
	neg->lhs = k;
	return neg;
}

static struct cond *check_expr(struct checker *c, const struct ast_expr *e)
{
	if (e->kind == AST_EXPR_TEST)
		return check_test(c, e);
	struct cond *lhs = check_expr(c, e->lhs);
	struct cond *rhs = e->kind == AST_EXPR_NOT ? NULL : check_expr(c, e->rhs);
	if (!lhs || (e->kind != AST_EXPR_NOT && !rhs))
		return NULL;
	struct cond *k = new_cond(c, e->kind == AST_EXPR_AND ? COND_AND
	                             : e->kind == AST_EXPR_OR ? COND_OR : COND_NOT, e->span);
	k->lhs = lhs;
	k->rhs = rhs;
	return k;
}

/* ---- blocks ------------------------------------------------------------- */

static bool is_identifier_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-';
}

static bool identifier_is_valid(const char *id)
{
	bool label_empty = true;
	if (!*id)
		return false;
	for (const char *p = id; *p; p++) {
		if (*p == '.') {
			if (label_empty)
				return false;
			label_empty = true;
		} else if (is_identifier_char(*p)) {
			label_empty = false;
		} else {
			return false;
		}
	}
	return !label_empty;
}

static const char *check_name(struct checker *c, const struct token *name, struct span keyword,
                              const char *what, const char *example)
{
	if (name->kind == TK_STRING && name->v.str[0])
		return name->v.str;
	struct diag *d = diag_report(c->diags, DIAG_E018, name->kind ? name->span : keyword,
	                             "%s needs a name", what);
	diag_help(c->diags, d, "for example: %s", example);
	return NULL;
}

/* A profile field: exactly one string. */
static const char *take_profile_string(struct checker *c, const struct ast_stmt *st)
{
	struct cursor cur = { c, st, st->atoms, NULL };
	const struct token *t = take(&cur);
	if (!t) {
		report_missing(&cur, "a quoted value", "identifier \"com.example.elevation\"");
		return NULL;
	}
	if (t->kind != TK_STRING) {
		report_wrong_type(&cur, t, "a quoted value", "organization \"Example Corp\"");
		return NULL;
	}
	return expect_end(&cur) ? t->v.str : NULL;
}

static void report_misplaced(struct checker *c, const struct ast_stmt *st, const char *block)
{
	struct diag *d = diag_report(c->diags, DIAG_E016, st->name.span, "'%s' is not allowed in %s",
	                             st->kind == AST_STMT_WHEN ? "when" : "deny", block);
	diag_help(c->diags, d, "'when' and 'deny' belong in a rule");
}

static void check_profile(struct checker *c, const struct ast_block *b)
{
	struct profile_info *pi = &c->policy->profile;
	const char **fields[] = { &pi->identifier, &pi->organization, &pi->description };
	struct span where[COUNT(fields)] = { { 0, 0 } };

	pi->span = b->keyword;
	pi->name = check_name(c, &b->name, b->keyword, "the profile",
	                      "profile \"Temporary Admin Rights\" {");
	for (const struct ast_stmt *st = b->stmts; st; st = st->next) {
		if (st->kind != AST_STMT_SETTING) {
			report_misplaced(c, st, "the profile block");
			continue;
		}
		int i = find_name(st->name.v.str, profile_fields, COUNT(profile_fields));
		if (i < 0) {
			if (find_name(st->name.v.str, setting_names, COUNT(setting_names)) >= 0) {
				struct diag *d = diag_report(c->diags, DIAG_E016, st->name.span,
				                             "'%s' is not allowed in the profile block",
				                             st->name.v.str);
				diag_help(c->diags, d, "'%s' belongs in the elevation block or a rule",
				          st->name.v.str);
			} else {
				report_unknown_setting(c, st, profile_fields, COUNT(profile_fields),
				                       "the profile block");
			}
			continue;
		}
		if (where[i].len) {
			diag_report(c->diags, DIAG_E013, st->name.span,
			            "'%s' is given twice in the profile block", profile_fields[i]);
			continue;
		}
		where[i] = st->span;
		*fields[i] = take_profile_string(c, st);
		if (i == 0 && pi->identifier && !identifier_is_valid(pi->identifier)) {
			struct diag *d = diag_report(c->diags, DIAG_E032, st->atoms->tok.span,
			                             "invalid profile identifier \"%s\"", pi->identifier);
			diag_help(c->diags, d, "use reverse-DNS form: letters, digits and '-' in dot-separated parts, such as com.example.elevation");
		}
	}
	if (!where[0].len) {
		struct diag *d = diag_report(c->diags, DIAG_E031, b->keyword,
		                             "the profile has no identifier");
		diag_help(c->diags, d, "add: identifier \"com.example.elevation\"");
	}
}

static void check_settings_block(struct checker *c, const struct ast_block *b, struct settings *s,
                                 const char *block)
{
	for (const struct ast_stmt *st = b->stmts; st; st = st->next) {
		if (st->kind == AST_STMT_SETTING)
			check_setting(c, st, s, block);
		else
			report_misplaced(c, st, block);
	}
}

static void check_rule_body(struct checker *c, const struct ast_block *b, struct rule *r,
                            bool *cond_ok)
{
	struct span when_at = { 0, 0 }, deny_at = { 0, 0 };
	*cond_ok = true;
	for (const struct ast_stmt *st = b->stmts; st; st = st->next) {
		if (st->kind == AST_STMT_SETTING) {
			check_setting(c, st, &r->own, "a rule");
			continue;
		}
		struct span *seen = st->kind == AST_STMT_WHEN ? &when_at : &deny_at;
		if (seen->len) {
			struct diag *d = diag_report(c->diags, DIAG_E013, st->name.span,
			                             "'%s' is given twice in rule \"%s\"",
			                             st->kind == AST_STMT_WHEN ? "when" : "deny",
			                             r->name ? r->name : "");
			if (st->kind == AST_STMT_WHEN)
				diag_help(c->diags, d, "combine conditions with 'and' or 'or'");
			continue;
		}
		*seen = st->name.span;
		if (st->kind == AST_STMT_WHEN) {
			r->when = check_expr(c, st->when);
			*cond_ok = r->when != NULL;
		} else {
			r->deny = true;
			r->message = st->message.kind ? st->message.v.str : NULL;
		}
	}
}

/* ---- layering and cross-setting checks ----------------------------------- */

static void fill_defaults(struct settings *s)
{
	if (!(s->given & SETTING_BIT(DURATION)))
		s->duration = DEFAULT_DURATION_SECONDS;
	if (!(s->given & SETTING_BIT(AUTH)))
		s->auth = AUTH_PASSWORD;
}

static void layer(struct settings *out, const struct settings *own, const struct settings *base)
{
	*out = *base;
	out->given = own->given;
	for (int id = 0; id < SETTING_COUNT; id++) {
		if (!(own->given & (1u << id)))
			continue;
		out->where[id] = own->where[id];
		switch ((enum setting_id)id) {
		case SETTING_DURATION: out->duration = own->duration; break;
		case SETTING_MAX: out->max = own->max; break;
		case SETTING_LIMIT:
			out->limit_count = own->limit_count;
			out->limit_period = own->limit_period;
			break;
		case SETTING_AUTH: out->auth = own->auth; break;
		case SETTING_REASON: out->reason = own->reason; break;
		case SETTING_REASON_MIN: out->reason_min = own->reason_min; break;
		case SETTING_REASON_MAX: out->reason_max = own->reason_max; break;
		case SETTING_CHOICES:
			out->choices = own->choices;
			out->nchoices = own->nchoices;
			break;
		case SETTING_OTHER: out->other_allowed = own->other_allowed; break;
		case SETTING_TIMER: out->timer_shown = own->timer_shown; break;
		case SETTING_COUNT: break;
		}
	}
}

/*
 * Checks max >= duration and reason min <= max on effective settings.
 * `own` says which values the block wrote; a conflict is reported only in
 * a block that wrote one of the two values, where the user can fix it.
 * Afterwards max defaults to duration.
 */
static void check_consistency(struct checker *c, struct settings *eff, uint32_t own,
                              const struct settings *base)
{
	bool max_set = (own | (base ? base->given : 0)) & SETTING_BIT(MAX);
	uint32_t pair = SETTING_BIT(MAX) | SETTING_BIT(DURATION);
	if (max_set && eff->max < eff->duration && (own & pair)) {
		enum setting_id at = (own & SETTING_BIT(MAX)) ? SETTING_MAX : SETTING_DURATION;
		struct diag *d = diag_report(c->diags, DIAG_E022, eff->where[at],
		                             "max (%us) is shorter than duration (%us)", eff->max,
		                             eff->duration);
		diag_help(c->diags, d, "max is the longest a user may ask for; it cannot be below duration");
	}
	if (!max_set)
		eff->max = eff->duration;
	pair = SETTING_BIT(REASON_MIN) | SETTING_BIT(REASON_MAX);
	if (eff->reason_max && eff->reason_min > eff->reason_max && (own & pair)) {
		enum setting_id at = (own & SETTING_BIT(REASON_MIN)) ? SETTING_REASON_MIN : SETTING_REASON_MAX;
		diag_report(c->diags, DIAG_E023, eff->where[at],
		            "reason min (%u) is above reason max (%u)", eff->reason_min, eff->reason_max);
	}
}

/* ---- rules that can never match ----------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h;
}

static uint64_t hash_string(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
	return mix(h, 0xFF);
}

static uint64_t cond_hash(const struct cond *k)
{
	uint64_t h = mix(0, (uint64_t)k->kind);
	if (k->kind == COND_AND || k->kind == COND_OR || k->kind == COND_NOT) {
		h = mix(h, cond_hash(k->lhs));
		return k->rhs ? mix(h, cond_hash(k->rhs)) : h;
	}
	h = mix(h, (uint64_t)k->subject);
	for (size_t i = 0; i < k->nstrings; i++)
		h = hash_string(h, k->strings[i]);
	h = mix(h, k->sessions | (uint64_t)k->days << 8);
	for (size_t i = 0; i < k->ntimes; i++)
		h = mix(h, (uint64_t)k->times[i].from << 16 | k->times[i].to);
	for (size_t i = 0; i < k->ndates; i++)
		h = mix(h, (uint64_t)(uint32_t)k->dates[i].from << 32 | (uint32_t)k->dates[i].to);
	return h;
}

static bool cond_equal(const struct cond *a, const struct cond *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind)
		return false;
	if (a->kind == COND_AND || a->kind == COND_OR || a->kind == COND_NOT)
		return cond_equal(a->lhs, b->lhs) && cond_equal(a->rhs, b->rhs);
	if (a->subject != b->subject || a->nstrings != b->nstrings || a->sessions != b->sessions ||
	    a->days != b->days || a->ntimes != b->ntimes || a->ndates != b->ndates)
		return false;
	for (size_t i = 0; i < a->nstrings; i++)
		if (strcmp(a->strings[i], b->strings[i]) != 0)
			return false;
	return (a->ntimes == 0 || memcmp(a->times, b->times, a->ntimes * sizeof(*a->times)) == 0) &&
	       (a->ndates == 0 || memcmp(a->dates, b->dates, a->ndates * sizeof(*a->dates)) == 0);
}

/* Open-addressing table of rule indexes, keyed by a caller's hash/equality. */
struct rule_table {
	uint32_t *slots;       /* rule index + 1; 0 = empty */
	uint64_t *hashes;
	size_t mask;
};

static void rule_table_init(struct checker *c, struct rule_table *t, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	t->slots = ARENA_ARRAY(c->arena, uint32_t, cap);
	t->hashes = ARENA_ARRAY(c->arena, uint64_t, cap);
	t->mask = cap - 1;
}

/* Returns the earlier rule equal to rule i, or inserts i and returns -1. */
static long rule_table_find_or_add(struct rule_table *t, const struct rule *rules, size_t i,
                                   uint64_t hash,
                                   bool (*equal)(const struct rule *, const struct rule *))
{
	for (size_t slot = hash & t->mask;; slot = (slot + 1) & t->mask) {
		if (!t->slots[slot]) {
			t->slots[slot] = (uint32_t)i + 1;
			t->hashes[slot] = hash;
			return -1;
		}
		size_t j = t->slots[slot] - 1;
		if (t->hashes[slot] == hash && equal(&rules[j], &rules[i]))
			return (long)j;
	}
}

static bool same_name(const struct rule *a, const struct rule *b)
{
	return strcmp(a->name, b->name) == 0;
}

static bool same_condition(const struct rule *a, const struct rule *b)
{
	return cond_equal(a->when, b->when);
}

static void check_duplicate_names(struct checker *c, const struct rule *rules, size_t n)
{
	struct rule_table t;
	rule_table_init(c, &t, n);
	for (size_t i = 0; i < n; i++) {
		if (!rules[i].name)
			continue;
		long j = rule_table_find_or_add(&t, rules, i, hash_string(0, rules[i].name), same_name);
		if (j < 0)
			continue;
		struct diag *d = diag_report(c->diags, DIAG_E030, rules[i].name_span,
		                             "duplicate rule name \"%s\"", rules[i].name);
		diag_help(c->diags, d, "first used on line %u",
		          source_position(c->src, rules[j].name_span.off).line);
	}
}

static void check_reachability(struct checker *c, const struct rule *rules, size_t n)
{
	struct rule_table t;
	long catch_all = -1;

	rule_table_init(c, &t, n);
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &rules[i];
		long j = catch_all;
		if (j < 0 && r->when)
			j = rule_table_find_or_add(&t, rules, i, cond_hash(r->when), same_condition);
		if (j >= 0) {
			struct diag *d = diag_report(c->diags, DIAG_W001, r->name_span,
			                             "rule \"%s\" can never match", r->name);
			diag_help(c->diags, d, rules[j].when
			              ? "rule \"%s\" (line %u) has the same condition and comes first"
			              : "rule \"%s\" (line %u) has no 'when' and matches every request",
			          rules[j].name, source_position(c->src, rules[j].name_span.off).line);
		} else if (!r->when) {
			catch_all = (long)i;
		}
	}
	if (catch_all >= 0 && c->policy->otherwise_given) {
		struct diag *d = diag_report(c->diags, DIAG_W001, c->policy->otherwise_span,
		                             "'otherwise' is never reached");
		diag_help(c->diags, d, "rule \"%s\" has no 'when' and matches every request",
		          rules[catch_all].name);
	}
}

static void warn_deny_settings(struct checker *c, const struct rule *r)
{
	for (int id = 0; id < SETTING_COUNT; id++) {
		if (!(r->own.given & (1u << id)) || id == SETTING_REASON_MIN || id == SETTING_REASON_MAX)
			continue;
		struct diag *d = diag_report(c->diags, DIAG_W002, r->own.where[id],
		                             "this setting never applies: rule \"%s\" denies", r->name);
		diag_help(c->diags, d, "remove it, or remove 'deny' to make the rule allow");
	}
}

/* ---- the whole policy --------------------------------------------------- */

static size_t count_rules(const struct ast_file *file)
{
	size_t n = 0;
	for (const struct ast_block *b = file->blocks; b; b = b->next)
		n += b->kind == AST_BLOCK_RULE;
	return n;
}

static void report_twice(struct checker *c, struct span at, struct span first, const char *what)
{
	struct diag *d = diag_report(c->diags, DIAG_E017, at, "%s is given twice", what);
	diag_help(c->diags, d, "first given on line %u", source_position(c->src, first.off).line);
}

static void check_otherwise(struct checker *c, const struct ast_file *file)
{
	struct policy *p = c->policy;
	for (const struct ast_otherwise *o = file->otherwise; o; o = o->next) {
		if (p->otherwise_given) {
			report_twice(c, o->span, p->otherwise_span, "'otherwise'");
			continue;
		}
		p->otherwise_given = true;
		p->otherwise_span = o->span;
		p->otherwise_deny = o->deny;
		p->otherwise_message = o->message.kind ? o->message.v.str : NULL;
	}
}

static void check_blocks(struct checker *c, const struct ast_file *file, bool *cond_ok)
{
	struct policy *p = c->policy;
	bool have_profile = false;

	for (const struct ast_block *b = file->blocks; b; b = b->next) {
		if (b->kind == AST_BLOCK_PROFILE) {
			if (have_profile) {
				report_twice(c, b->keyword, p->profile.span, "the profile block");
				continue;
			}
			have_profile = true;
			check_profile(c, b);
		} else if (b->kind == AST_BLOCK_ELEVATION) {
			if (p->has_elevation) {
				report_twice(c, b->keyword, p->elevation_span, "the elevation block");
				continue;
			}
			p->has_elevation = true;
			p->elevation_span = b->keyword;
			if (b->name.kind)
				diag_report(c->diags, DIAG_E016, b->name.span,
				            "the elevation block takes no name");
			check_settings_block(c, b, &p->defaults, "the elevation block");
		} else {
			struct rule *r = &p->rules[p->nrules++];
			r->span = b->span;
			r->name_span = b->name.kind ? b->name.span : b->keyword;
			r->name = check_name(c, &b->name, b->keyword, "a rule",
			                     "rule \"Contractors\" {");
			bool ok;
			check_rule_body(c, b, r, &ok);
			*cond_ok &= ok;
		}
	}
	if (!have_profile) {
		struct diag *d = diag_report(c->diags, DIAG_E031, (struct span){ 0, 0 },
		                             "the policy has no profile block with an identifier");
		diag_help(c->diags, d, "add: profile \"Temporary Admin Rights\" { identifier \"com.example.elevation\" }");
	}
}

struct policy *check_policy(const struct ast_file *file, struct arena *arena,
                            struct diag_list *diags)
{
	struct checker c = { diags->src, arena, diags, ARENA_NEW(arena, struct policy) };
	struct policy *p = c.policy;
	unsigned errors_before = diags->errors;
	bool cond_ok = true;

	p->rules = ARENA_ARRAY(arena, struct rule, count_rules(file) + 1);
	check_otherwise(&c, file);
	check_blocks(&c, file, &cond_ok);
	fill_defaults(&p->defaults);
	check_consistency(&c, &p->defaults, p->defaults.given, NULL);
	for (size_t i = 0; i < p->nrules; i++) {
		struct rule *r = &p->rules[i];
		layer(&r->effective, &r->own, &p->defaults);
		if (r->deny)
			warn_deny_settings(&c, r);
		else
			check_consistency(&c, &r->effective, r->own.given, &p->defaults);
		r->effective.given = r->own.given | p->defaults.given;
	}
	check_duplicate_names(&c, p->rules, p->nrules);
	if (cond_ok && diags->errors == errors_before)
		check_reachability(&c, p->rules, p->nrules);
	return diags->errors == errors_before ? p : NULL;
}
