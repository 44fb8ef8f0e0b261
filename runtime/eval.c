/*
 * eval.c - evaluates a verified program for one request.
 *
 * The dispatch loop trusts what the verifier proved (opcodes, operands,
 * stack bounds, termination) and so carries no bounds checks of its own;
 * it refuses any program that ep_load() did not accept. No allocation, no
 * I/O, no global state; time is linear in the size of the file (and in the
 * request's names for index lookups). Every fault yields a deny decision.
 */
#include <stddef.h>
#include <string.h>

#include "calendar.h"
#include "index.h"
#include "internal.h"
#include "opcodes.h"

/* Request-derived values, computed once per evaluation. */
struct facts {
	const struct ep_request *req;
	uint32_t minute;           /* local minute of day */
	uint32_t weekday;          /* Monday = 0 */
	int32_t day;               /* local days since 1970-01-01 */
};

/* |now| up to ~34,800 years keeps every day number inside int32. */
#define EP_TIME_LIMIT ((int64_t)1 << 40)
#define EP_OFFSET_LIMIT (18 * 3600)

static bool time_in_range(int64_t t)
{
	return t > -EP_TIME_LIMIT && t < EP_TIME_LIMIT;
}

bool ep_request_valid(const struct ep_request *req)
{
	if (!req || !req->user || !req->host || (req->ngroups && !req->groups) ||
	    req->ngroups > EP_MAX_GROUPS || (req->ngrants && !req->grants) ||
	    req->ngrants > EP_MAX_GRANTS ||
	    (req->session != EP_SESSION_CONSOLE && req->session != EP_SESSION_REMOTE) ||
	    req->utc_offset < -EP_OFFSET_LIMIT || req->utc_offset > EP_OFFSET_LIMIT ||
	    !time_in_range(req->now))
		return false;
	for (size_t i = 0; i < req->ngroups; i++)
		if (!req->groups[i])
			return false;
	for (size_t i = 0; i < req->ngrants; i++)
		if (!time_in_range(req->grants[i]))
			return false;
	return true;
}

/* ---- operand helpers --------------------------------------------------------- */

static const unsigned char *set_items(const struct ep_program *prog, uint32_t set, uint32_t *count)
{
	const unsigned char *e = prog->set_index + 12 * set;
	*count = ep_read_u32(e + 8);
	return prog->set_items + 4 * ep_read_u32(e + 4);
}

/* Orders the first len bytes of s (all non-NUL) against a whole key, as strcmp would. */
static int compare_prefix(const char *s, size_t len, const char *key)
{
	int c = strncmp(s, key, len);
	return c ? c : key[len] ? -1 : 0;
}

/* Position in a sorted string set of the first len bytes of s, or -1. */
static int64_t find_prefix(const struct ep_program *prog, uint32_t set, const char *s, size_t len)
{
	uint32_t lo = 0, hi;
	const unsigned char *items = set_items(prog, set, &hi);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp = compare_prefix(s, len, ep_verified_string(prog, ep_read_u32(items + 4 * mid)));
		if (cmp == 0)
			return mid;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Position of s in a sorted string set, or -1. */
static int64_t find_string(const struct ep_program *prog, uint32_t set, const char *s)
{
	return find_prefix(prog, set, s, strlen(s));
}

static bool string_in_set(const struct ep_program *prog, uint32_t set, const char *s)
{
	return find_string(prog, set, s) >= 0;
}

static bool minute_in_set(const struct ep_program *prog, uint32_t set, uint32_t minute)
{
	uint32_t n;
	const unsigned char *items = set_items(prog, set, &n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = ep_read_u32(items + 4 * i), from = v & 0xFFFF, to = v >> 16;
		if (from < to ? (minute >= from && minute < to) : (minute >= from || minute < to))
			return true;
	}
	return false;
}

static bool day_in_set(const struct ep_program *prog, uint32_t set, int32_t day)
{
	uint32_t n;
	const unsigned char *items = set_items(prog, set, &n);
	for (uint32_t i = 0; i < n; i += 2)
		if (day >= (int32_t)ep_read_u32(items + 4 * i) && day <= (int32_t)ep_read_u32(items + 4 * i + 4))
			return true;
	return false;
}

enum group_test { GROUP_EQ, GROUP_IN, GROUP_MATCH };

static bool any_group(const struct ep_program *prog, const struct ep_request *req,
                      enum group_test test, uint32_t a)
{
	for (size_t i = 0; i < req->ngroups; i++) {
		const char *g = req->groups[i];
		bool hit = test == GROUP_EQ ? strcmp(g, ep_verified_string(prog, a)) == 0
		         : test == GROUP_IN ? string_in_set(prog, a, g)
		                            : ep_glob_match(ep_verified_string(prog, a), g);
		if (hit)
			return true;
	}
	return false;
}

/* ---- index segments ------------------------------------------------------------ */

/*
 * A request's candidate lists are found once, at INDEX, and kept with a
 * cursor each. A request with more lists than fit (a user in very many
 * groups) takes the slow path: at every NEXT all its lists are looked up
 * again and searched. Both paths visit exactly the same blocks.
 */
#define SEGMENT_MAX_LISTS 512   /* 256 groups, each exact and by one prefix length */

struct segment {
	const struct ep_program *prog;
	const struct ep_request *req;
	struct ep_index ix;
	struct cursor {
		const unsigned char *entries;
		uint32_t n, at;
	} lists[SEGMENT_MAX_LISTS];
	unsigned nlists;
	bool overflow;             /* too many lists to keep: search them again each time */
	uint32_t from;             /* slow path: the lowest block number still to visit */
	uint32_t best;             /* slow path: the lowest candidate found so far */
};

typedef void (*list_fn)(struct segment *seg, struct ep_block_list l);

/* Calls fn with the list of a name, and with those of its prefixes that are keys. */
static void visit_key(struct segment *seg, enum ep_index_subject s, const char *name, list_fn fn)
{
	uint32_t keys = seg->ix.subject[s].keys;
	if (keys == EP_NONE)
		return;
	if (!ep_index_is_prefix(s)) {
		int64_t k = find_string(seg->prog, keys, name);
		if (k >= 0)
			fn(seg, ep_index_list(&seg->ix, s, (uint32_t)k));
		return;
	}
	for (uint32_t i = 0; i < seg->ix.subject[s].nlengths; i++) {
		uint32_t len = ep_read_u32(seg->ix.subject[s].lengths + 4 * i);
		if (strnlen(name, len) < len)
			break;
		int64_t k = find_prefix(seg->prog, keys, name, len);
		if (k >= 0)
			fn(seg, ep_index_list(&seg->ix, s, (uint32_t)k));
	}
}

/* Calls fn with every candidate list of the request. */
static void visit_lists(struct segment *seg, list_fn fn)
{
	const struct ep_request *req = seg->req;
	fn(seg, seg->ix.always);
	visit_key(seg, EP_INDEX_USER, req->user, fn);
	visit_key(seg, EP_INDEX_USER_PREFIX, req->user, fn);
	visit_key(seg, EP_INDEX_HOST, req->host, fn);
	visit_key(seg, EP_INDEX_HOST_PREFIX, req->host, fn);
	visit_key(seg, EP_INDEX_SESSION, req->session == EP_SESSION_REMOTE ? "remote" : "console", fn);
	for (size_t i = 0; i < req->ngroups; i++) {
		visit_key(seg, EP_INDEX_GROUP, req->groups[i], fn);
		visit_key(seg, EP_INDEX_GROUP_PREFIX, req->groups[i], fn);
	}
}

static void keep_list(struct segment *seg, struct ep_block_list l)
{
	if (l.n == 0)
		return;
	if (seg->nlists == SEGMENT_MAX_LISTS)
		seg->overflow = true;
	else
		seg->lists[seg->nlists++] = (struct cursor){ l.entries, l.n, 0 };
}

/* Slow path: the list's first block number >= from, if lower than the best yet. */
static void search_list(struct segment *seg, struct ep_block_list l)
{
	uint32_t lo = 0, hi = l.n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ep_read_u32(l.entries + 4 * mid) < seg->from)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < l.n && ep_read_u32(l.entries + 4 * lo) < seg->best)
		seg->best = ep_read_u32(l.entries + 4 * lo);
}

static void enter_segment(const struct ep_program *prog, const struct ep_request *req,
                          uint32_t set, struct segment *seg)
{
	seg->prog = prog;
	seg->req = req;
	ep_index_read(prog, set, false, &seg->ix);
	seg->nlists = 0;
	seg->overflow = false;
	seg->from = 0;
	visit_lists(seg, keep_list);
}

/* The lowest block number in the kept lists, advancing past it. */
static uint32_t next_kept(struct segment *seg)
{
	uint32_t best = UINT32_MAX;
	for (unsigned i = 0; i < seg->nlists; i++) {
		struct cursor *c = &seg->lists[i];
		if (c->at < c->n && ep_read_u32(c->entries + 4 * c->at) < best)
			best = ep_read_u32(c->entries + 4 * c->at);
	}
	for (unsigned i = 0; i < seg->nlists; i++) {
		struct cursor *c = &seg->lists[i];
		if (c->at < c->n && ep_read_u32(c->entries + 4 * c->at) == best)
			c->at++;
	}
	return best;
}

/* The code offset of the lowest candidate block not yet visited, or the end. */
static uint32_t next_candidate(struct segment *seg)
{
	uint32_t best;
	if (seg->overflow) {
		seg->best = UINT32_MAX;
		visit_lists(seg, search_list);
		best = seg->best;
		seg->from = best + 1;
	} else {
		best = next_kept(seg);
	}
	return best == UINT32_MAX ? seg->ix.end : ep_read_u32(seg->ix.blocks + 4 * best);
}

/* ---- the dispatch loop --------------------------------------------------------- */

/* Operand bytes per opcode, from the one opcode table. */
static const unsigned char operand_bytes[EP_OP_COUNT] = {
#define EP_OPCODE_OPERAND_BYTES(name, operand, pops, pushes, doc) \
	[EP_OP_##name] = EP_OPERAND_BYTES(EP_OPERAND_##operand),
	EP_OPCODES(EP_OPCODE_OPERAND_BYTES)
#undef EP_OPCODE_OPERAND_BYTES
};

/* Runs the code; returns the index of the deciding rule-table entry. */
static uint32_t run(const struct ep_program *prog, const struct facts *f, ep_trace_fn trace,
                    void *ctx)
{
	const struct ep_request *req = f->req;
	const unsigned char *code = prog->code;
	bool stack[EP_STACK_MAX];
	unsigned sp = 0;
	uint32_t pc = 0;
	struct segment seg;

	for (;;) {
		uint8_t op = code[pc];
		unsigned size = operand_bytes[op];
		uint32_t a = size == 4 ? ep_read_u32(code + pc + 1) : size == 1 ? code[pc + 1] : 0;
		uint32_t at = pc;
		bool r;
		pc += 1 + size;

		switch ((enum ep_opcode)op) {
		case EP_OP_USER_EQ:     r = strcmp(req->user, ep_verified_string(prog, a)) == 0; break;
		case EP_OP_USER_IN:     r = string_in_set(prog, a, req->user); break;
		case EP_OP_USER_MATCH:  r = ep_glob_match(ep_verified_string(prog, a), req->user); break;
		case EP_OP_GROUP_EQ:    r = any_group(prog, req, GROUP_EQ, a); break;
		case EP_OP_GROUP_IN:    r = any_group(prog, req, GROUP_IN, a); break;
		case EP_OP_GROUP_MATCH: r = any_group(prog, req, GROUP_MATCH, a); break;
		case EP_OP_HOST_EQ:     r = strcmp(req->host, ep_verified_string(prog, a)) == 0; break;
		case EP_OP_HOST_IN:     r = string_in_set(prog, a, req->host); break;
		case EP_OP_HOST_MATCH:  r = ep_glob_match(ep_verified_string(prog, a), req->host); break;
		case EP_OP_SESSION_IN:  r = (a >> req->session) & 1; break;
		case EP_OP_TIME_IN:     r = minute_in_set(prog, a, f->minute); break;
		case EP_OP_DAY_IN:      r = (a >> f->weekday) & 1; break;
		case EP_OP_DATE_IN:     r = day_in_set(prog, a, f->day); break;
		case EP_OP_NOT:         stack[sp - 1] = !stack[sp - 1]; continue;
		case EP_OP_AND:         sp--; stack[sp - 1] = stack[sp - 1] && stack[sp]; continue;
		case EP_OP_OR:          sp--; stack[sp - 1] = stack[sp - 1] || stack[sp]; continue;
		case EP_OP_JUMP_IF_FALSE:
			if (!stack[--sp])
				pc += a;
			continue;
		case EP_OP_DECIDE:
			return a;
		case EP_OP_INDEX:
			enter_segment(prog, req, a, &seg);
			sp = 0;   /* verified empty; reset all the same */
			pc = next_candidate(&seg);
			continue;
		case EP_OP_NEXT:
			sp = 0;
			pc = next_candidate(&seg);
			continue;
		default:
			return prog->nrules;   /* unreachable for verified code; treated as a fault */
		}
		if (trace)
			trace(ctx, at, r);
		stack[sp++] = r;
	}
}

/* ---- decisions ------------------------------------------------------------------ */

static void deny_fault(struct ep_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = EP_DENY;
	out->code = EP_REASON_FAULT;
	out->rule = EP_RULE_OTHERWISE;
}

static void fill_settings(const struct ep_program *prog, const unsigned char *r,
                          struct ep_decision *out)
{
	out->duration = ep_read_u32(r + 12);
	out->max = ep_read_u32(r + 16);
	out->auth = r[9];
	out->reason.mode = (enum ep_reason_mode)r[10];
	out->reason.other_allowed = r[11] & 1;
	out->timer_shown = (r[11] >> 1) & 1;
	out->reason.min = ep_read_u32(r + 28);
	out->reason.max = ep_read_u32(r + 32);
	uint32_t choices = ep_read_u32(r + 36);
	if (choices != EP_NONE) {
		const unsigned char *items = set_items(prog, choices, &out->reason.nchoices);
		for (uint32_t i = 0; i < out->reason.nchoices; i++)
			out->reason.choices[i] = ep_verified_string(prog, ep_read_u32(items + 4 * i));
	}
	out->limit.period = (enum ep_period)r[24];
	out->limit.count = ep_read_u32(r + 20);
}

/* The local days [*first, *end) of the calendar period holding `day`. */
static void period_bounds(enum ep_period period, int64_t day, int64_t *first, int64_t *end)
{
	if (period == EP_PERIOD_DAY) {
		*first = day;
		*end = day + 1;
	} else if (period == EP_PERIOD_WEEK) {
		*first = day - ep_weekday((int32_t)day);
		*end = *first + 7;
	} else {
		struct civil_date d = ep_civil_from_days((int32_t)day);
		*first = day - (d.day - 1);
		*end = *first + ep_days_in_month(d.year, d.month);
	}
}

/* Counts the grants in the request's current calendar period. */
static uint32_t grants_in_period(const struct ep_request *req, int64_t today, enum ep_period period)
{
	int64_t first, end;
	uint32_t used = 0;
	period_bounds(period, today, &first, &end);
	for (size_t i = 0; i < req->ngrants; i++) {
		int64_t day = ep_local_day(req->grants[i], req->utc_offset);
		used += day >= first && day < end;
	}
	return used;
}

static void apply_limit(const struct facts *f, struct ep_decision *out)
{
	if (out->limit.period == EP_PERIOD_NONE)
		return;
	out->limit.used = grants_in_period(f->req, f->day, out->limit.period);
	if (out->limit.used < out->limit.count) {
		out->limit.left = out->limit.count - out->limit.used;
		return;
	}
	out->verdict = EP_DENY;
	out->code = EP_REASON_LIMIT_REACHED;
	out->duration = 0;
	out->max = 0;
}

static void decide(const struct ep_program *prog, const struct facts *f, uint32_t entry,
                   struct ep_decision *out)
{
	const unsigned char *r = prog->rules + EP_RULE_SIZE * entry;
	bool is_otherwise = entry == prog->nrules - 1;
	uint32_t message = ep_read_u32(r + 4);

	memset(out, 0, offsetof(struct ep_decision, reason.choices));
	out->rule = is_otherwise ? EP_RULE_OTHERWISE : (int32_t)entry;
	out->rule_name = is_otherwise ? NULL : ep_verified_string(prog, ep_read_u32(r));
	out->message = message == EP_NONE ? NULL : ep_verified_string(prog, message);
	if (r[8] == 1) {
		out->verdict = EP_DENY;
		out->code = is_otherwise ? EP_REASON_DEFAULT_DENIED : EP_REASON_RULE_DENIED;
		return;
	}
	out->verdict = EP_ALLOW;
	out->code = EP_REASON_ALLOWED;
	fill_settings(prog, r, out);
	apply_limit(f, out);
}

int ep_evaluate_traced(const struct ep_program *prog, const struct ep_request *req,
                       struct ep_decision *out, ep_trace_fn trace, void *ctx)
{
	if (!out)
		return -EP_BAD_REQUEST;
	if (!prog || prog->verified != EP_VERIFIED_MAGIC) {
		deny_fault(out);
		return -EP_NOT_VERIFIED;
	}
	if (!ep_request_valid(req)) {
		deny_fault(out);
		return -EP_BAD_REQUEST;
	}
	int64_t day = ep_local_day(req->now, req->utc_offset);
	struct facts f = {
		.req = req,
		.minute = (uint32_t)((req->now + req->utc_offset - day * 86400) / 60),
		.weekday = ep_weekday((int32_t)day),
		.day = (int32_t)day,
	};
	uint32_t entry = run(prog, &f, trace, ctx);
	if (entry >= prog->nrules) {
		deny_fault(out);
		return -EP_EVAL_FAULT;
	}
	decide(prog, &f, entry, out);
	return 0;
}

int ep_evaluate(const struct ep_program *prog, const struct ep_request *req,
                struct ep_decision *out)
{
	return ep_evaluate_traced(prog, req, out, NULL, NULL);
}

/* ---- comparing decisions ---------------------------------------------------------- */

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool ep_decision_equal(const struct ep_decision *a, const struct ep_decision *b)
{
	if (a->verdict != b->verdict || a->code != b->code || a->rule != b->rule ||
	    !same_string(a->rule_name, b->rule_name) || !same_string(a->message, b->message) ||
	    a->duration != b->duration || a->max != b->max || a->auth != b->auth ||
	    a->reason.mode != b->reason.mode || a->reason.min != b->reason.min ||
	    a->reason.max != b->reason.max || a->reason.nchoices != b->reason.nchoices ||
	    a->reason.other_allowed != b->reason.other_allowed || a->timer_shown != b->timer_shown ||
	    a->limit.period != b->limit.period || a->limit.count != b->limit.count ||
	    a->limit.used != b->limit.used || a->limit.left != b->limit.left)
		return false;
	for (uint32_t i = 0; i < a->reason.nchoices && i < EP_MAX_CHOICES; i++)
		if (!same_string(a->reason.choices[i], b->reason.choices[i]))
			return false;
	return true;
}
