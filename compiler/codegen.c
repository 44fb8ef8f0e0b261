/*
 * codegen.c - checked policy -> .epb bytecode (runtime/format.h).
 *
 * Interns strings, lays out sets, compiles each rule's condition into
 * postfix boolean code followed by a forward JUMP_IF_FALSE to the next rule
 * and a DECIDE, and writes the rule table with every rule's effective
 * settings. Emits exactly what libep's verifier accepts, and nothing after
 * a rule that matches every request (that code could never run). Large
 * policies get a rule index (compiler/rule_index.c). The signature section
 * is left empty: the output is unsigned.
 */
#include "codegen.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "format.h"
#include "opcodes.h"
#include "rule_index.h"

/* Below this many rules a linear scan is as fast as an index. */
#define CODEGEN_INDEX_MIN_RULES 8

/* Interned strings are found through their copy in the string blob. */
struct string_slot {
	uint32_t blob_offset;
	uint32_t index;        /* string number + 1; 0 = empty slot */
};

struct codegen {
	const struct policy *p;
	struct string_slot *slots;   /* open addressing */
	size_t slot_mask, nstrings;
	struct bytes str_index, str_blob;
	uint32_t nsets, nitems;
	struct bytes set_index, set_items;
	struct bytes code, rules;
	uint32_t default_choices;    /* LIST set of the elevation block's choices */
};

/* ---- strings -------------------------------------------------------------- */

static uint64_t string_hash(const char *s)
{
	uint64_t h = 0xCBF29CE484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
	return h;
}

static const char *slot_string(const struct codegen *g, const struct string_slot *slot)
{
	return (const char *)g->str_blob.data + slot->blob_offset;
}

static void grow_string_table(struct codegen *g)
{
	size_t cap = g->slots ? (g->slot_mask + 1) * 2 : 1024;
	struct string_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		abort();
	for (size_t i = 0; g->slots && i <= g->slot_mask; i++) {
		if (!g->slots[i].index)
			continue;
		size_t j = string_hash(slot_string(g, &g->slots[i])) & (cap - 1);
		while (slots[j].index)
			j = (j + 1) & (cap - 1);
		slots[j] = g->slots[i];
	}
	free(g->slots);
	g->slots = slots;
	g->slot_mask = cap - 1;
}

static uint32_t intern(struct codegen *g, const char *s)
{
	if (!g->slots || (g->nstrings + 1) * 2 > g->slot_mask + 1)
		grow_string_table(g);
	size_t i = string_hash(s) & g->slot_mask;
	for (; g->slots[i].index; i = (i + 1) & g->slot_mask)
		if (strcmp(slot_string(g, &g->slots[i]), s) == 0)
			return g->slots[i].index - 1;
	size_t len = strlen(s);
	uint32_t offset = (uint32_t)g->str_blob.len;
	bytes_u32(&g->str_index, offset);
	bytes_u32(&g->str_index, (uint32_t)len);
	bytes_append(&g->str_blob, s, len + 1);
	g->slots[i] = (struct string_slot){ offset, (uint32_t)g->nstrings + 1 };
	return (uint32_t)g->nstrings++;
}

static uint32_t intern_or_none(struct codegen *g, const char *s)
{
	return s ? intern(g, s) : EP_NONE;
}

/* ---- sets ------------------------------------------------------------------ */

static uint32_t begin_set(struct codegen *g, enum ep_set_kind kind, uint32_t count)
{
	bytes_u8(&g->set_index, (uint8_t)kind);
	bytes_append(&g->set_index, "\0\0\0", 3);
	bytes_u32(&g->set_index, g->nitems);
	bytes_u32(&g->set_index, count);
	g->nitems += count;
	return g->nsets++;
}

static uint32_t string_set(struct codegen *g, enum ep_set_kind kind, const char *const *s, size_t n)
{
	uint32_t set = begin_set(g, kind, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		bytes_u32(&g->set_items, intern(g, s[i]));
	return set;
}

static uint32_t time_set(struct codegen *g, const struct cond *k)
{
	uint32_t set = begin_set(g, EP_SET_TIMES, (uint32_t)k->ntimes);
	for (size_t i = 0; i < k->ntimes; i++)
		bytes_u32(&g->set_items, (uint32_t)k->times[i].from | (uint32_t)k->times[i].to << 16);
	return set;
}

static uint32_t date_set(struct codegen *g, const struct cond *k)
{
	uint32_t set = begin_set(g, EP_SET_DATES, (uint32_t)k->ndates * 2);
	for (size_t i = 0; i < k->ndates; i++) {
		bytes_u32(&g->set_items, (uint32_t)k->dates[i].from);
		bytes_u32(&g->set_items, (uint32_t)k->dates[i].to);
	}
	return set;
}

/* ---- code ------------------------------------------------------------------ */

static void emit(struct codegen *g, enum ep_opcode op, uint32_t a)
{
	bytes_u8(&g->code, (uint8_t)op);
	switch (ep_operand_size(ep_opcode_table[op].operand)) {
	case 1: bytes_u8(&g->code, (uint8_t)a); break;
	case 4: bytes_u32(&g->code, a); break;
	default: break;
	}
}

/* Stack slots a condition needs when its deeper operand is evaluated first. */
unsigned codegen_cond_depth(const struct cond *k)
{
	if (k->kind == COND_NOT)
		return codegen_cond_depth(k->lhs);
	if (k->kind != COND_AND && k->kind != COND_OR)
		return 1;
	unsigned l = codegen_cond_depth(k->lhs), r = codegen_cond_depth(k->rhs);
	unsigned big = l > r ? l : r, small = l > r ? r : l;
	return big > small + 1 ? big : small + 1;
}

static void emit_string_test(struct codegen *g, const struct cond *k, enum ep_opcode eq)
{
	/* USER_*, GROUP_*, HOST_* come in the order EQ, IN, MATCH. */
	if (k->kind == COND_MATCH)
		emit(g, (enum ep_opcode)(eq + 2), intern(g, k->strings[0]));
	else if (k->nstrings == 1)
		emit(g, eq, intern(g, k->strings[0]));
	else
		emit(g, (enum ep_opcode)(eq + 1), string_set(g, EP_SET_STRINGS, k->strings, k->nstrings));
}

static void emit_cond(struct codegen *g, const struct cond *k)
{
	switch (k->kind) {
	case COND_NOT:
		emit_cond(g, k->lhs);
		emit(g, EP_OP_NOT, 0);
		return;
	case COND_AND:
	case COND_OR: {
		/* Both operands are pure: evaluating the deeper one first keeps the stack low. */
		bool swap = codegen_cond_depth(k->rhs) > codegen_cond_depth(k->lhs);
		emit_cond(g, swap ? k->rhs : k->lhs);
		emit_cond(g, swap ? k->lhs : k->rhs);
		emit(g, k->kind == COND_AND ? EP_OP_AND : EP_OP_OR, 0);
		return;
	}
	case COND_IN:
	case COND_MATCH:
		break;
	}
	switch (k->subject) {
	case SUBJECT_USER: emit_string_test(g, k, EP_OP_USER_EQ); break;
	case SUBJECT_GROUP: emit_string_test(g, k, EP_OP_GROUP_EQ); break;
	case SUBJECT_HOST: emit_string_test(g, k, EP_OP_HOST_EQ); break;
	case SUBJECT_SESSION: emit(g, EP_OP_SESSION_IN, k->sessions); break;
	case SUBJECT_TIME: emit(g, EP_OP_TIME_IN, time_set(g, k)); break;
	case SUBJECT_DAY: emit(g, EP_OP_DAY_IN, k->days); break;
	case SUBJECT_DATE: emit(g, EP_OP_DATE_IN, date_set(g, k)); break;
	}
}

/*
 * One rule's test and decision. Evaluating the deeper operand first bounds
 * the stack by log2(tests) + 1, at most 28 for the largest source polc
 * reads, well under EP_STACK_MAX; a deeper condition is a compiler bug.
 */
static void emit_rule_test(struct codegen *g, size_t i)
{
	const struct rule *r = &g->p->rules[i];
	if (codegen_cond_depth(r->when) > EP_STACK_MAX)
		abort();
	emit_cond(g, r->when);
	size_t jump_at = g->code.len;
	emit(g, EP_OP_JUMP_IF_FALSE, 0);
	emit(g, EP_OP_DECIDE, (uint32_t)i);
	bytes_patch_u32(&g->code, jump_at + 1, (uint32_t)(g->code.len - (jump_at + 5)));
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Prefix keys: the distinct key lengths, increasing, so lookups try each once. */
static void write_key_lengths(struct bytes *words, const char *const *keys, size_t nkeys)
{
	uint32_t *lengths = malloc(nkeys * sizeof(*lengths));
	size_t n = 0;
	if (!lengths)
		abort();
	for (size_t i = 0; i < nkeys; i++)
		lengths[i] = (uint32_t)strlen(keys[i]);
	qsort(lengths, nkeys, sizeof(*lengths), compare_u32);
	for (size_t i = 0; i < nkeys; i++)
		if (n == 0 || lengths[n - 1] != lengths[i])
			lengths[n++] = lengths[i];
	bytes_u32(words, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		bytes_u32(words, lengths[i]);
	free(lengths);
}

/* The descriptor's keys and block lists for one subject (runtime/index.h). */
static void write_index_subject(struct codegen *g, const struct index_plan *plan,
                                enum ep_index_subject s, struct bytes *words)
{
	const struct index_entry *e = plan->entries[s];
	size_t n = plan->n[s], nkeys = 0;
	if (n == 0) {
		bytes_u32(words, EP_NONE);
		return;
	}
	const char **keys = malloc(n * sizeof(*keys));
	if (!keys)
		abort();
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(e[i - 1].name, e[i].name) != 0)
			keys[nkeys++] = e[i].name;
	bytes_u32(words, string_set(g, EP_SET_STRINGS, keys, nkeys));
	bytes_u32(words, 0);
	for (size_t i = 1; i <= n; i++)
		if (i == n || strcmp(e[i - 1].name, e[i].name) != 0)
			bytes_u32(words, (uint32_t)i);
	for (size_t i = 0; i < n; i++)
		bytes_u32(words, e[i].block);
	if (ep_index_is_prefix(s))
		write_key_lengths(words, keys, nkeys);
	free(keys);
}

/* Appends an INDEX set (runtime/index.h) and returns its number. */
static uint32_t index_set(struct codegen *g, struct index_plan *plan, const uint32_t *blocks,
                          size_t nblocks, uint32_t end)
{
	struct bytes words = { 0 };
	bytes_u32(&words, (uint32_t)nblocks);
	bytes_u32(&words, end);
	for (size_t i = 0; i < nblocks; i++)
		bytes_u32(&words, blocks[i]);
	bytes_u32(&words, (uint32_t)plan->nalways);
	for (size_t i = 0; i < plan->nalways; i++)
		bytes_u32(&words, plan->always[i]);
	index_plan_finish(plan);
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++)
		write_index_subject(g, plan, (enum ep_index_subject)s, &words);
	uint32_t set = begin_set(g, EP_SET_INDEX, (uint32_t)(words.len / 4));
	bytes_append(&g->set_items, words.data, words.len);
	bytes_free(&words);
	return set;
}

/* Rules 0..n-1 as an index segment: one block per rule, ending in NEXT. */
static void emit_index_segment(struct codegen *g, size_t n)
{
	struct index_plan plan = { 0 };
	uint32_t *blocks = malloc(n * sizeof(*blocks));
	if (!blocks)
		abort();
	size_t index_at = g->code.len;
	emit(g, EP_OP_INDEX, 0);
	for (size_t i = 0; i < n; i++) {
		blocks[i] = (uint32_t)g->code.len;
		index_plan_add(&plan, g->p->rules[i].when, (uint32_t)i);
		emit_rule_test(g, i);
		emit(g, EP_OP_NEXT, 0);
	}
	uint32_t set = index_set(g, &plan, blocks, n, (uint32_t)g->code.len);
	bytes_patch_u32(&g->code, index_at + 1, set);
	index_plan_free(&plan);
	free(blocks);
}

/*
 * The rules in order, then the decision for requests no rule matched.
 * Nothing after a rule that matches every request could ever run. Policies
 * with many rules get an index segment, so a request tests only the rules
 * that could match its user, groups and host.
 */
static void emit_rules(struct codegen *g)
{
	const struct policy *p = g->p;
	size_t n = 0;

	while (n < p->nrules && p->rules[n].when)
		n++;
	if (n >= CODEGEN_INDEX_MIN_RULES) {
		emit_index_segment(g, n);
	} else {
		for (size_t i = 0; i < n; i++)
			emit_rule_test(g, i);
	}
	emit(g, EP_OP_DECIDE, (uint32_t)n);   /* the catch-all rule, or otherwise */
}

/* ---- the rule table ------------------------------------------------------------ */

static uint32_t choices_set(struct codegen *g, const struct settings *s)
{
	if (!s->nchoices)
		return EP_NONE;
	if (s->choices == g->p->defaults.choices) {
		if (g->default_choices == EP_NONE)
			g->default_choices = string_set(g, EP_SET_LIST, s->choices, s->nchoices);
		return g->default_choices;
	}
	return string_set(g, EP_SET_LIST, s->choices, s->nchoices);
}

static void write_rule_entry(struct codegen *g, const char *name, const char *message, bool deny,
                             const struct settings *s)
{
	struct bytes *b = &g->rules;
	bytes_u32(b, intern_or_none(g, name));
	bytes_u32(b, intern_or_none(g, message));
	bytes_u8(b, deny);
	if (deny) {
		static const unsigned char zeros[27];
		bytes_append(b, zeros, sizeof(zeros));
		bytes_u32(b, EP_NONE);
		return;
	}
	bytes_u8(b, (uint8_t)s->auth);
	bytes_u8(b, (uint8_t)s->reason);
	bytes_u8(b, (uint8_t)(s->other_allowed | s->timer_shown << 1));
	bytes_u32(b, s->duration);
	bytes_u32(b, s->max);
	bytes_u32(b, s->limit_count);
	bytes_u8(b, (uint8_t)s->limit_period);
	bytes_append(b, "\0\0\0", 3);
	bytes_u32(b, s->reason_min);
	bytes_u32(b, s->reason_max);
	bytes_u32(b, choices_set(g, s));
}

static void write_rule_table(struct codegen *g)
{
	const struct policy *p = g->p;
	bytes_u32(&g->rules, (uint32_t)p->nrules + 1);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		write_rule_entry(g, r->name, r->message, r->deny, &r->effective);
	}
	write_rule_entry(g, NULL, p->otherwise_message, p->otherwise_deny, &p->defaults);
}

/* ---- the file ------------------------------------------------------------------- */

static void append_section(struct bytes *out, unsigned index, const struct bytes *body)
{
	bytes_align4(out);
	bytes_patch_u32(out, 24 + 8 * index, (uint32_t)out->len);
	bytes_patch_u32(out, 28 + 8 * index, (uint32_t)body->len);
	bytes_append(out, body->data, body->len);
}

static void assemble(struct codegen *g, struct bytes *out)
{
	struct bytes strings = { 0 }, sets = { 0 }, code = { 0 }, empty = { 0 };

	bytes_u32(&strings, (uint32_t)g->nstrings);
	bytes_append(&strings, g->str_index.data, g->str_index.len);
	bytes_append(&strings, g->str_blob.data, g->str_blob.len);
	bytes_u32(&sets, g->nsets);
	bytes_append(&sets, g->set_index.data, g->set_index.len);
	bytes_u32(&sets, g->nitems);
	bytes_append(&sets, g->set_items.data, g->set_items.len);
	bytes_u32(&code, (uint32_t)g->code.len);
	bytes_append(&code, g->code.data, g->code.len);

	bytes_append(out, EP_MAGIC, 4);
	bytes_append(out, EP_CANARY, 4);
	bytes_u16(out, EP_FORMAT_VERSION);
	bytes_u16(out, 0);
	bytes_u32(out, 0);                        /* file size, patched below */
	bytes_u32(out, EP_HEADER_SIZE);
	bytes_u32(out, EP_SECTION_COUNT);
	for (unsigned i = 0; i < EP_SECTION_COUNT; i++) {
		bytes_u32(out, 0);
		bytes_u32(out, 0);
	}
	append_section(out, EP_SECTION_STRINGS, &strings);
	append_section(out, EP_SECTION_SETS, &sets);
	append_section(out, EP_SECTION_CODE, &code);
	append_section(out, EP_SECTION_RULES, &g->rules);
	append_section(out, EP_SECTION_SIGNATURE, &empty);
	bytes_patch_u32(out, 12, (uint32_t)out->len);
	bytes_free(&strings);
	bytes_free(&sets);
	bytes_free(&code);
}

void codegen_bytecode(const struct policy *p, unsigned char **out, size_t *len)
{
	struct codegen g = { .p = p, .default_choices = EP_NONE };
	struct bytes file = { 0 };

	emit_rules(&g);
	write_rule_table(&g);
	assemble(&g, &file);
	free(g.slots);
	bytes_free(&g.str_index);
	bytes_free(&g.str_blob);
	bytes_free(&g.set_index);
	bytes_free(&g.set_items);
	bytes_free(&g.code);
	bytes_free(&g.rules);
	*out = file.data;
	*len = file.len;
}
