/*
 * emit_c.c - the native baseline backend: a checked policy as straight-line
 * C (`polc POLICY.ep --emit-c FILE.c`).
 *
 * Used by `make bench` to measure how close libep's interpreter comes to
 * compiled code. The generated function has the evaluator's signature and
 * must return exactly the decisions of ep_evaluate() for valid requests;
 * the benchmark checks that on its whole request mix. It is a measuring
 * stick, not a way to deploy policy: it is never verified or signed.
 */
#include "emit_c.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bytes.h"

static void out(struct bytes *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		bytes_append(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		abort();
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	bytes_append(b, big, (size_t)n);
	free(big);
}

/* A C string literal; policy strings are UTF-8 without NULs. */
static void out_literal(struct bytes *b, const char *s)
{
	bytes_u8(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			out(b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7F)
			out(b, "\\%03o", ch);
		else
			bytes_u8(b, ch);
	}
	bytes_u8(b, '"');
}

static void emit_name_test(struct bytes *b, const struct cond *k, const char *value)
{
	if (k->kind == COND_MATCH) {
		out(b, "ep_glob_match(");
		out_literal(b, k->strings[0]);
		out(b, ", %s)", value);
		return;
	}
	out(b, "(");
	for (size_t i = 0; i < k->nstrings; i++) {
		out(b, "%sstrcmp(%s, ", i ? " || " : "", value);
		out_literal(b, k->strings[i]);
		out(b, ") == 0");
	}
	out(b, ")");
}

static void emit_cond(struct bytes *b, const struct cond *k, unsigned *group_tests);

static void emit_test(struct bytes *b, const struct cond *k, unsigned *group_tests)
{
	switch (k->subject) {
	case SUBJECT_USER: emit_name_test(b, k, "req->user"); return;
	case SUBJECT_HOST: emit_name_test(b, k, "req->host"); return;
	case SUBJECT_GROUP: out(b, "group_test_%u(req)", (*group_tests)++); return;
	case SUBJECT_SESSION: out(b, "((%uu >> req->session) & 1)", k->sessions); return;
	case SUBJECT_DAY: out(b, "((%uu >> f->weekday) & 1)", k->days); return;
	case SUBJECT_TIME:
		out(b, "(");
		for (size_t i = 0; i < k->ntimes; i++) {
			const struct time_range *r = &k->times[i];
			out(b, r->from < r->to ? "%s(f->minute >= %u && f->minute < %u)"
			                       : "%s(f->minute >= %u || f->minute < %u)",
			    i ? " || " : "", r->from, r->to);
		}
		out(b, ")");
		return;
	case SUBJECT_DATE:
		out(b, "(");
		for (size_t i = 0; i < k->ndates; i++)
			out(b, "%s(f->day >= %d && f->day <= %d)", i ? " || " : "", (int)k->dates[i].from,
			    (int)k->dates[i].to);
		out(b, ")");
		return;
	}
}

static void emit_cond(struct bytes *b, const struct cond *k, unsigned *group_tests)
{
	switch (k->kind) {
	case COND_NOT:
		out(b, "!");
		emit_cond(b, k->lhs, group_tests);
		return;
	case COND_AND:
	case COND_OR:
		out(b, "(");
		emit_cond(b, k->lhs, group_tests);
		out(b, k->kind == COND_AND ? " && " : " || ");
		emit_cond(b, k->rhs, group_tests);
		out(b, ")");
		return;
	case COND_IN:
	case COND_MATCH:
		emit_test(b, k, group_tests);
		return;
	}
}

/* Group tests need a loop over the user's groups: one small function each. */
static void emit_group_functions(struct bytes *b, const struct cond *k, unsigned *n)
{
	if (!k)
		return;
	if (k->kind == COND_AND || k->kind == COND_OR || k->kind == COND_NOT) {
		emit_group_functions(b, k->lhs, n);
		emit_group_functions(b, k->rhs, n);
		return;
	}
	if (k->subject != SUBJECT_GROUP)
		return;
	out(b, "static int group_test_%u(const struct ep_request *req)\n{\n", (*n)++);
	out(b, "\tfor (size_t i = 0; i < req->ngroups; i++)\n\t\tif (");
	emit_name_test(b, k, "req->groups[i]");
	out(b, ")\n\t\t\treturn 1;\n\treturn 0;\n}\n\n");
}

/* Writes the decision and `return decided;`. */
static void emit_decision(struct bytes *b, const char *name, const char *message, bool deny,
                          const struct settings *s, int index, int decided)
{
	out(b, "\t\tstatic const struct ep_decision d = {\n");
	out(b, "\t\t\t.verdict = %s, .code = %s, .rule = %d,\n", deny ? "EP_DENY" : "EP_ALLOW",
	    !deny ? "EP_REASON_ALLOWED" : index < 0 ? "EP_REASON_DEFAULT_DENIED" : "EP_REASON_RULE_DENIED",
	    index);
	out(b, "\t\t\t.rule_name = ");
	if (name)
		out_literal(b, name);
	else
		out(b, "NULL");
	out(b, ", .message = ");
	if (message)
		out_literal(b, message);
	else
		out(b, "NULL");
	out(b, ",\n");
	if (!deny) {
		out(b, "\t\t\t.duration = %u, .max = %u, .auth = %u, .timer_shown = %d,\n", s->duration,
		    s->max, s->auth, s->timer_shown);
		out(b, "\t\t\t.reason = { .mode = %d, .min = %u, .max = %u, .nchoices = %zu, "
		       ".other_allowed = %d, .choices = {", (int)s->reason, s->reason_min,
		    s->reason_max, s->nchoices, s->other_allowed);
		for (size_t i = 0; i < s->nchoices; i++) {
			out(b, i ? ", " : " ");
			out_literal(b, s->choices[i]);
		}
		out(b, " } },\n\t\t\t.limit = { .period = %d, .count = %u },\n", (int)s->limit_period,
		    s->limit_count);
	}
	out(b, "\t\t};\n\t\t*out = d;\n");
	if (!deny && s->limit_period != PERIOD_NONE)
		out(b, "\t\tapply_limit(req, out);\n");
	out(b, "\t\treturn %d;\n", decided);
}

static const char prologue[] =
	"/* Generated by polc --emit-c: the native baseline for `make bench`. Do not edit. */\n"
	"#include <string.h>\n\n"
	"#include \"calendar.h\"\n"
	"#include \"ep.h\"\n\n"
	"int polc_native_evaluate(const struct ep_request *req, struct ep_decision *out);\n\n"
	"#if defined(__GNUC__)\n#define NOINLINE __attribute__((noinline))\n#else\n#define NOINLINE\n#endif\n\n"
	"struct facts { uint32_t minute; unsigned weekday; int64_t day; };\n\n"
	"static inline void apply_limit(const struct ep_request *req, struct ep_decision *out)\n"
	"{\n"
	"\tint64_t now = ep_period_number(out->limit.period, ep_local_day(req->now, req->utc_offset));\n"
	"\tuint32_t used = 0;\n"
	"\tfor (size_t i = 0; i < req->ngrants; i++)\n"
	"\t\tused += ep_period_number(out->limit.period,\n"
	"\t\t                         ep_local_day(req->grants[i], req->utc_offset)) == now;\n"
	"\tout->limit.used = used;\n"
	"\tif (used < out->limit.count) {\n"
	"\t\tout->limit.left = out->limit.count - used;\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tout->verdict = EP_DENY;\n"
	"\tout->code = EP_REASON_LIMIT_REACHED;\n"
	"\tout->duration = 0;\n"
	"\tout->max = 0;\n"
	"}\n\n";

/*
 * Rules go into functions of EMIT_C_CHUNK rules each: compilers take far
 * too long over one function with thousands of rules. Each returns 1 when
 * one of its rules decided.
 */
#define EMIT_C_CHUNK 100

static void emit_chunk(struct bytes *b, const struct policy *p, size_t first, size_t end,
                       unsigned *group_tests)
{
	out(b, "NOINLINE static int rules_%zu(const struct ep_request *req, const struct facts *f,\n"
	       "                              struct ep_decision *out)\n{\n\t(void)f;\n",
	    first / EMIT_C_CHUNK);
	for (size_t i = first; i < end; i++) {
		const struct rule *r = &p->rules[i];
		out(b, "\tif (");
		if (r->when)
			emit_cond(b, r->when, group_tests);
		else
			out(b, "1");
		out(b, ") {\n");
		emit_decision(b, r->name, r->message, r->deny, &r->effective, (int)i, 1);
		out(b, "\t}\n");
	}
	out(b, "\treturn 0;\n}\n\n");
}

void emit_c_source(const struct policy *p, unsigned char **text, size_t *len)
{
	struct bytes b = { 0 };
	unsigned group_fns = 0, group_tests = 0;

	out(&b, "%s", prologue);
	for (size_t i = 0; i < p->nrules; i++)
		emit_group_functions(&b, p->rules[i].when, &group_fns);
	for (size_t i = 0; i < p->nrules; i += EMIT_C_CHUNK)
		emit_chunk(&b, p, i, i + EMIT_C_CHUNK < p->nrules ? i + EMIT_C_CHUNK : p->nrules,
		           &group_tests);
	out(&b, "int polc_native_evaluate(const struct ep_request *req, struct ep_decision *out)\n{\n");
	out(&b, "\tif (!ep_request_valid(req))\n\t\treturn -EP_BAD_REQUEST;\n");
	out(&b, "\tint64_t day = ep_local_day(req->now, req->utc_offset);\n");
	out(&b, "\tstruct facts facts = { ep_local_minute(req->now, req->utc_offset), "
	        "ep_weekday((int32_t)day), day };\n\t(void)facts;\n\n");
	for (size_t i = 0; i < p->nrules; i += EMIT_C_CHUNK)
		out(&b, "\tif (rules_%zu(req, &facts, out))\n\t\treturn 0;\n", i / EMIT_C_CHUNK);
	out(&b, "\t{\n");
	emit_decision(&b, NULL, p->otherwise_message, p->otherwise_deny, &p->defaults, -1, 0);
	out(&b, "\t}\n}\n");
	*text = b.data;
	*len = b.len;
}
