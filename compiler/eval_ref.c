/*
 * eval_ref.c - decides a request by walking the checked policy model.
 *
 * Written from the language's semantics (docs/language.md sections 7-10),
 * not from the bytecode: it must never read bytecode or share code with
 * libep's evaluator beyond the documented helpers of ep.h (request
 * validity, glob matching, local day and minute, calendar periods). Plain
 * loops and no cleverness: this is the oracle the VM is tested against.
 */
#include "eval_ref.h"

#include <string.h>

#include "calendar.h"

/* What the conditions look at, worked out once per request. */
struct when {
	const struct ep_request *req;
	uint32_t minute;               /* local minute of the day, 0..1439 */
	unsigned weekday;              /* Monday = 0 .. Sunday = 6 */
	int64_t day;                   /* local days since 1970-01-01 */
	eval_ref_trace_fn trace;
	void *ctx;
};

/* ---- tests -------------------------------------------------------------------- */

static bool string_in_list(const struct cond *k, const char *s)
{
	for (size_t i = 0; i < k->nstrings; i++)
		if (strcmp(k->strings[i], s) == 0)
			return true;
	return false;
}

/* `in` (and `==`, a one-item list) or `matches` on one name. */
static bool name_test(const struct cond *k, const char *name)
{
	return k->kind == COND_MATCH ? ep_glob_match(k->strings[0], name) : string_in_list(k, name);
}

/* A group test holds when any of the requester's groups passes it. */
static bool any_group_test(const struct cond *k, const struct ep_request *req)
{
	for (size_t i = 0; i < req->ngroups; i++)
		if (name_test(k, req->groups[i]))
			return true;
	return false;
}

static bool session_test(const struct cond *k, enum ep_session session)
{
	unsigned bit = session == EP_SESSION_REMOTE ? SESSION_REMOTE : SESSION_CONSOLE;
	return (k->sessions & bit) != 0;
}

/* Half-open [from, to); a range whose start is after its end wraps midnight. */
static bool time_test(const struct cond *k, uint32_t minute)
{
	for (size_t i = 0; i < k->ntimes; i++) {
		uint32_t from = k->times[i].from, to = k->times[i].to;
		bool in = from < to ? minute >= from && minute < to : minute >= from || minute < to;
		if (in)
			return true;
	}
	return false;
}

static bool day_test(const struct cond *k, unsigned weekday)
{
	return (k->days >> weekday) & 1u;
}

/* Inclusive [from, to] on the local date. */
static bool date_test(const struct cond *k, int64_t day)
{
	for (size_t i = 0; i < k->ndates; i++)
		if (day >= k->dates[i].from && day <= k->dates[i].to)
			return true;
	return false;
}

static bool leaf_test(const struct cond *k, const struct when *w)
{
	switch (k->subject) {
	case SUBJECT_USER: return name_test(k, w->req->user);
	case SUBJECT_GROUP: return any_group_test(k, w->req);
	case SUBJECT_HOST: return name_test(k, w->req->host);
	case SUBJECT_SESSION: return session_test(k, w->req->session);
	case SUBJECT_TIME: return time_test(k, w->minute);
	case SUBJECT_DAY: return day_test(k, w->weekday);
	case SUBJECT_DATE: return date_test(k, w->day);
	}
	return false;
}

/* ---- conditions --------------------------------------------------------------------- */

/* `user != "x"` and `group not in [...]` are one test in the source, a NOT in the model. */
static bool is_negated_test(const struct cond *k)
{
	return k->kind == COND_NOT && (k->lhs->kind == COND_IN || k->lhs->kind == COND_MATCH) &&
	       k->span.off == k->lhs->span.off && k->span.len == k->lhs->span.len;
}

/* Both operands of `and` and `or` always run, so a trace shows every test. */
static bool holds(const struct cond *k, const struct when *w)
{
	bool l, r = false;
	switch (k->kind) {
	case COND_AND:
		l = holds(k->lhs, w);
		r = holds(k->rhs, w);
		return l && r;
	case COND_OR:
		l = holds(k->lhs, w);
		r = holds(k->rhs, w);
		return l || r;
	case COND_NOT:
		if (!is_negated_test(k))
			return !holds(k->lhs, w);
		r = !leaf_test(k->lhs, w);
		break;
	case COND_IN:
	case COND_MATCH:
		r = leaf_test(k, w);
		break;
	}
	if (w->trace)
		w->trace(w->ctx, k, r);
	return r;
}

/* ---- decisions ------------------------------------------------------------------------ */

static enum ep_reason_mode reason_mode(enum reason_mode m)
{
	switch (m) {
	case REASON_NONE: return EP_REASON_NONE;
	case REASON_OPTIONAL: return EP_REASON_OPTIONAL;
	case REASON_REQUIRED: return EP_REASON_REQUIRED;
	}
	return EP_REASON_NONE;
}

static enum ep_period period(enum limit_period p)
{
	switch (p) {
	case PERIOD_NONE: return EP_PERIOD_NONE;
	case PERIOD_DAY: return EP_PERIOD_DAY;
	case PERIOD_WEEK: return EP_PERIOD_WEEK;
	case PERIOD_MONTH: return EP_PERIOD_MONTH;
	}
	return EP_PERIOD_NONE;
}

static unsigned auth_bits(unsigned auth)
{
	return ((auth & AUTH_BIOMETRIC) ? EP_AUTH_BIOMETRIC : 0u) |
	       ((auth & AUTH_PASSWORD) ? EP_AUTH_PASSWORD : 0u);
}

static void fault(struct ep_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = EP_DENY;
	out->code = EP_REASON_FAULT;
	out->rule = EP_RULE_OTHERWISE;
}

/* An allow decision with the given effective settings, before the limit. */
static void allow(const struct settings *s, struct ep_decision *out)
{
	out->verdict = EP_ALLOW;
	out->code = EP_REASON_ALLOWED;
	out->duration = s->duration;
	out->max = s->max;
	out->auth = auth_bits(s->auth);
	out->reason.mode = reason_mode(s->reason);
	out->reason.min = s->reason_min;
	out->reason.max = s->reason_max;
	out->reason.nchoices = (uint32_t)s->nchoices;
	for (size_t i = 0; i < s->nchoices; i++)
		out->reason.choices[i] = s->choices[i];
	out->reason.other_allowed = s->other_allowed;
	out->timer_shown = s->timer_shown;
	out->limit.period = period(s->limit_period);
	out->limit.count = s->limit_count;
}

/* Grants whose local calendar period is the request's; all in the request's offset. */
static uint32_t grants_this_period(const struct ep_request *req, enum ep_period p)
{
	int64_t current = ep_period_number(p, ep_local_day(req->now, req->utc_offset));
	uint32_t used = 0;
	for (size_t i = 0; i < req->ngrants; i++)
		if (ep_period_number(p, ep_local_day(req->grants[i], req->utc_offset)) == current)
			used++;
	return used;
}

/* A used-up limit turns the allow into a deny that still shows the settings. */
static void check_limit(const struct ep_request *req, struct ep_decision *out)
{
	if (out->limit.period == EP_PERIOD_NONE)
		return;
	out->limit.used = grants_this_period(req, out->limit.period);
	if (out->limit.used < out->limit.count) {
		out->limit.left = out->limit.count - out->limit.used;
		return;
	}
	out->verdict = EP_DENY;
	out->code = EP_REASON_LIMIT_REACHED;
	out->duration = 0;
	out->max = 0;
}

/* The decision of one rule (rule NULL: otherwise). */
static void decide(const struct policy *p, const struct rule *r, int32_t index,
                   const struct ep_request *req, struct ep_decision *out)
{
	bool deny = r ? r->deny : p->otherwise_deny;

	memset(out, 0, sizeof(*out));
	out->rule = r ? index : EP_RULE_OTHERWISE;
	out->rule_name = r ? r->name : NULL;
	if (deny) {
		out->verdict = EP_DENY;
		out->code = r ? EP_REASON_RULE_DENIED : EP_REASON_DEFAULT_DENIED;
		out->message = r ? r->message : p->otherwise_message;
		return;
	}
	allow(r ? &r->effective : &p->defaults, out);
	check_limit(req, out);
}

/* The first rule whose condition holds (no condition: always), or NULL for otherwise. */
static const struct rule *first_match(const struct policy *p, const struct when *w, int32_t *index)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		if (!r->when || holds(r->when, w)) {
			*index = (int32_t)i;
			return r;
		}
	}
	*index = EP_RULE_OTHERWISE;
	return NULL;
}

int eval_reference(const struct policy *p, const struct ep_request *req, struct ep_decision *out,
                   eval_ref_trace_fn trace, void *ctx)
{
	if (!out)
		return -EP_BAD_REQUEST;
	if (!ep_request_valid(req)) {
		fault(out);
		return -EP_BAD_REQUEST;
	}
	int64_t day = ep_local_day(req->now, req->utc_offset);
	struct when w = {
		.req = req,
		.minute = ep_local_minute(req->now, req->utc_offset),
		.weekday = ep_weekday((int32_t)day),
		.day = day,
		.trace = trace,
		.ctx = ctx,
	};
	int32_t index;
	const struct rule *r = first_match(p, &w, &index);
	if ((r ? &r->effective : &p->defaults)->nchoices > EP_MAX_CHOICES) {
		fault(out);          /* the checker never lets this through */
		return -EP_EVAL_FAULT;
	}
	decide(p, r, index, req, out);
	return 0;
}
