/*
 * test_index.c - rule indexes (runtime/index.h): INDEX sets, index
 * segments, INDEX and NEXT.
 *
 * The verifier part builds a small valid indexed program byte by byte with
 * tests/unit/epb_builder.h (which follows the documented layout, not
 * compiler/codegen.c), checks that it loads and decides as its index says,
 * then changes exactly one thing per test and expects the exact status and
 * location: BAD_SET for a malformed INDEX set, code errors (with their pc)
 * for segments that do not match the code.
 *
 * The evaluator part compiles policies with enough rules to be indexed and
 * checks first-match decisions exactly (and against the reference
 * evaluator), including requests with many groups: more candidate lists
 * than the runtime keeps at once (SEGMENT_MAX_LISTS, 512) take its fallback
 * path, which must decide the same. Ends with a differential loop over
 * random indexed policies whose names share prefixes.
 *
 * Tests named regression_* reproduce runtime bugs found while writing this
 * file (since fixed); they keep them fixed.
 *
 * Every file is loaded from a heap copy of exactly its length, so that
 * AddressSanitizer catches any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "calendar.h"
#include "ep.h"
#include "epb_builder.h"
#include "eval_ref.h"
#include "helpers.h"
#include "index.h"
#include "opcodes.h"

/* ---- loading ---------------------------------------------------------------------- */

struct loaded {
	unsigned char *copy;       /* exactly the file's bytes; the program points into it */
	struct ep_program prog;
	struct ep_error err;
	int rc;
};

static void load(struct loaded *l, const void *bytes, size_t len)
{
	l->copy = malloc(len ? len : 1);
	assert_non_null(l->copy);
	if (len)
		memcpy(l->copy, bytes, len);
	memset(&l->prog, 0x5A, sizeof(l->prog));
	memset(&l->err, 0x5A, sizeof(l->err));
	l->rc = ep_load(&l->prog, l->copy, len, &l->err);
	assert_true(l->rc <= 0 && l->rc > -EP_STATUS_COUNT);
	if (l->rc != 0) {
		/* A rejected program is never evaluated. */
		const struct ep_request q = { .user = "alice", .host = "", .now = 1772700000 };
		struct ep_decision d;
		assert_int_equal(l->err.status, -l->rc);
		assert_int_equal(ep_evaluate(&l->prog, &q, &d), -EP_NOT_VERIFIED);
		assert_int_equal(d.verdict, EP_DENY);
		assert_int_equal(d.code, EP_REASON_FAULT);
	}
}

static void unload(struct loaded *l)
{
	free(l->copy);
	l->copy = NULL;
}

static void print_load_error(const struct loaded *l)
{
	print_error("ep_load: %d %s at offset %u", l->rc, ep_status_name(l->rc), l->err.offset);
	if (l->err.has_pc)
		print_error(" (pc %u)", l->err.pc);
	print_error("\n");
}

/* Finishes b; the file must load. */
static void expect_ok(struct epb *b)
{
	struct loaded l;
	epb_finish(b);
	load(&l, b->file, b->len);
	if (l.rc != 0)
		print_load_error(&l);
	assert_int_equal(l.rc, 0);
	unload(&l);
}

/* Finishes b; set number `set` must be rejected as malformed. */
static void expect_bad_set(struct epb *b, uint32_t set)
{
	struct loaded l;
	epb_finish(b);
	load(&l, b->file, b->len);
	uint32_t offset = epb_set_entry_at(b, set);
	if (l.rc != -EP_BAD_SET || l.err.offset != offset || l.err.has_pc) {
		print_load_error(&l);
		print_error("wanted BAD_SET at offset %u (set %u)\n", offset, set);
	}
	assert_int_equal(l.rc, -EP_BAD_SET);
	assert_int_equal(l.err.status, EP_BAD_SET);
	assert_int_equal(l.err.offset, offset);
	assert_false(l.err.has_pc);
	unload(&l);
}

/* Finishes b; the code must be rejected with this status at this pc. */
static void expect_code_error(struct epb *b, enum ep_status status, uint32_t pc)
{
	struct loaded l;
	epb_finish(b);
	load(&l, b->file, b->len);
	if (l.rc != -(int)status || !l.err.has_pc || l.err.pc != pc ||
	    l.err.offset != epb_code_at(b, pc)) {
		print_load_error(&l);
		print_error("wanted %s at pc %u\n", ep_status_name((int)status), pc);
	}
	assert_int_equal(l.rc, -(int)status);
	assert_int_equal(l.err.status, status);
	assert_true(l.err.has_pc);
	assert_int_equal(l.err.pc, pc);
	assert_int_equal(l.err.offset, epb_code_at(b, pc));
	unload(&l);
}


/* ---- the words of an INDEX set -------------------------------------------------------- */

#define WORDS_MAX 1000

struct words {
	uint32_t w[WORDS_MAX];
	size_t n;
};

static void words_put(struct words *w, uint32_t v)
{
	assert_true(w->n < WORDS_MAX);
	w->w[w->n++] = v;
}

static void words_insert(struct words *w, size_t at, uint32_t v)
{
	assert_true(w->n < WORDS_MAX && at <= w->n);
	memmove(&w->w[at + 1], &w->w[at], (w->n - at) * sizeof(w->w[0]));
	w->w[at] = v;
	w->n++;
}

static void words_remove(struct words *w, size_t at)
{
	assert_true(at < w->n);
	memmove(&w->w[at], &w->w[at + 1], (w->n - at - 1) * sizeof(w->w[0]));
	w->n--;
}

/* ---- the valid indexed program ---------------------------------------------------------- */

/*
 * Strings, sets and rules of the program every verifier test starts from.
 * SET_LATE is a well-formed STRINGS set that comes after the INDEX set.
 */
enum { S_R0, S_R1, S_R2, S_R3, S_R4, S_ALICE, S_BOB, S_CAROL, S_L, S_LAB, S_LAB_GLOB, S_L_GLOB,
       NSTRINGS };
enum { SET_USERS, SET_HOST_PREFIXES, SET_TIMES, SET_INDEX, SET_LATE, NSETS };
enum { R_OTHERWISE = 5, NBLOCKS = 5 };

/*
 * The code (pc: instruction):
 *
 *    0: INDEX 3
 *  block 0 (rule 0: user == alice and session == console)
 *    5: USER_EQ alice; 10: SESSION_IN 1; 12: AND; 13: JIF 5; 18: DECIDE 0; 23: NEXT
 *  block 1 (rule 1: host matches "lab-*")
 *   24: HOST_MATCH "lab-*"; 29: JIF 5; 34: DECIDE 1; 39: NEXT
 *  block 2 (rule 2: host matches "l*" or user == bob)
 *   40: HOST_MATCH "l*"; 45: USER_EQ bob; 50: OR; 51: JIF 5; 56: DECIDE 2; 61: NEXT
 *  block 3 (rule 3: user == alice)
 *   62: USER_EQ alice; 67: JIF 5; 72: DECIDE 3; 77: NEXT
 *  block 4 (rule 4: session == remote; always a candidate)
 *   78: SESSION_IN 2; 80: JIF 5; 85: DECIDE 4; 90: NEXT
 *  end
 *   91: DECIDE 5 (otherwise); the code is 96 bytes.
 */
enum { PC_B0 = 5, PC_B1 = 24, PC_B2 = 40, PC_B3 = 62, PC_B4 = 78, PC_END = 91, CODE_SIZE = 96 };

/* Bytes of each block's test, before its JUMP_IF_FALSE. */
static const uint32_t test_size[NBLOCKS] = { 8, 5, 11, 5, 2 };

/*
 * The INDEX set's words (runtime/index.h):
 *   B = 5, end = 91, block offsets 5 24 40 62 78, always [4],
 *   users: keys SET_USERS (alice, bob, carol), bounds 0 2 3 3, lists [0 3] [2] [],
 *   groups, hosts, sessions, user prefixes, group prefixes: none,
 *   host prefixes: keys SET_HOST_PREFIXES ("l", "lab-"), bounds 0 1 2, lists [2] [1],
 *     2 lengths: 1 4.
 */
enum {
	W_NBLOCKS, W_END, W_BLOCKS,
	W_NALWAYS = W_BLOCKS + NBLOCKS, W_ALWAYS,
	W_USER_KEYS, W_USER_BOUNDS,
	W_USER_ENTRIES = W_USER_BOUNDS + 4,
	W_GROUP_KEYS = W_USER_ENTRIES + 3, W_HOST_KEYS, W_SESSION_KEYS, W_USER_PREFIX_KEYS,
	W_GROUP_PREFIX_KEYS, W_HOST_PREFIX_KEYS, W_HOST_PREFIX_BOUNDS,
	W_HOST_PREFIX_ENTRIES = W_HOST_PREFIX_BOUNDS + 3,
	W_NLENGTHS = W_HOST_PREFIX_ENTRIES + 2, W_LENGTHS,
	W_COUNT = W_LENGTHS + 2
};

struct ixp {
	struct epb b;
	struct words w;
};

static void default_words(struct words *w)
{
	w->n = 0;
	words_put(w, NBLOCKS);
	words_put(w, PC_END);
	for (uint32_t k = 0; k < NBLOCKS; k++)
		words_put(w, 0);           /* filled in as the blocks are emitted */
	words_put(w, 1);
	words_put(w, 4);
	words_put(w, SET_USERS);
	const uint32_t user_bounds[] = { 0, 2, 3, 3 }, user_entries[] = { 0, 3, 2 };
	for (size_t i = 0; i < 4; i++)
		words_put(w, user_bounds[i]);
	for (size_t i = 0; i < 3; i++)
		words_put(w, user_entries[i]);
	for (int s = EP_INDEX_GROUP; s < EP_INDEX_HOST_PREFIX; s++)
		words_put(w, EP_NONE);
	words_put(w, SET_HOST_PREFIXES);
	words_put(w, 0);
	words_put(w, 1);
	words_put(w, 2);
	words_put(w, 2);
	words_put(w, 1);
	words_put(w, 2);
	words_put(w, 1);
	words_put(w, 4);
	assert_int_equal(w->n, W_COUNT);
}

/* Strings, rules and the default INDEX words; no code, no sets yet. */
static void ixp_init(struct ixp *p)
{
	struct epb *b = &p->b;
	epb_init(b);
	static const char *const strings[NSTRINGS] = {
		"r0", "r1", "r2", "r3", "r4", "alice", "bob", "carol", "l", "lab-", "lab-*", "l*",
	};
	for (int i = 0; i < NSTRINGS; i++)
		assert_int_equal(epb_string(b, strings[i]), i);
	struct epb_rule r0 = epb_allow(S_R0), r1 = epb_deny(S_R1, EP_NONE), r2 = epb_allow(S_R2),
	                r3 = epb_allow(S_R3), r4 = epb_deny(S_R4, S_R4), otherwise = epb_deny(EP_NONE, EP_NONE);
	r3.duration = r3.max = 600;
	epb_rule(b, &r0);
	epb_rule(b, &r1);
	epb_rule(b, &r2);
	epb_rule(b, &r3);
	epb_rule(b, &r4);
	assert_int_equal(epb_rule(b, &otherwise), R_OTHERWISE);
	default_words(&p->w);
}

static uint32_t ixp_pc(const struct ixp *p)
{
	return (uint32_t)p->b.code.len;
}

static void ixp_index(struct ixp *p)
{
	epb_op32(&p->b, EP_OP_INDEX, SET_INDEX);
}

/* The test of default block k. */
static void block_test(struct epb *b, unsigned k)
{
	switch (k) {
	case 0:
		epb_op32(b, EP_OP_USER_EQ, S_ALICE);
		epb_op8(b, EP_OP_SESSION_IN, 1);
		epb_op(b, EP_OP_AND);
		break;
	case 1:
		epb_op32(b, EP_OP_HOST_MATCH, S_LAB_GLOB);
		break;
	case 2:
		epb_op32(b, EP_OP_HOST_MATCH, S_L_GLOB);
		epb_op32(b, EP_OP_USER_EQ, S_BOB);
		epb_op(b, EP_OP_OR);
		break;
	case 3:
		epb_op32(b, EP_OP_USER_EQ, S_ALICE);
		break;
	default:
		epb_op8(b, EP_OP_SESSION_IN, 2);
		break;
	}
}

/* Records block k's offset here; emits the block as the compiler does. */
static void ixp_block(struct ixp *p, unsigned k)
{
	p->w.w[W_BLOCKS + k] = ixp_pc(p);
	block_test(&p->b, k);
	epb_op32(&p->b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p->b, EP_OP_DECIDE, k);
	epb_op(&p->b, EP_OP_NEXT);
}

/* Records the segment's end here; emits the final DECIDE. */
static void ixp_end(struct ixp *p)
{
	p->w.w[W_END] = ixp_pc(p);
	epb_op32(&p->b, EP_OP_DECIDE, R_OTHERWISE);
}

/* Adds the sets, the INDEX set from p->w. */
static void ixp_sets(struct ixp *p)
{
	struct epb *b = &p->b;
	const uint32_t users[] = { S_ALICE, S_BOB, S_CAROL }, prefixes[] = { S_L, S_LAB };
	const uint32_t times[] = { epb_time_range(60, 120) };
	assert_int_equal(epb_set(b, EP_SET_STRINGS, users, 3), SET_USERS);
	assert_int_equal(epb_set(b, EP_SET_STRINGS, prefixes, 2), SET_HOST_PREFIXES);
	assert_int_equal(epb_set(b, EP_SET_TIMES, times, 1), SET_TIMES);
	assert_int_equal(epb_set(b, EP_SET_INDEX, p->w.w, p->w.n), SET_INDEX);
	assert_int_equal(epb_set(b, EP_SET_STRINGS, users, 2), SET_LATE);
}

/* The whole default code, block offsets recorded; the sets are still to add. */
static void ixp_default_code(struct ixp *p)
{
	ixp_init(p);
	ixp_index(p);
	for (unsigned k = 0; k < NBLOCKS; k++)
		ixp_block(p, k);
	ixp_end(p);
}

/* The valid program, sets and all, with one INDEX word changed. */
static void ixp_with_word(struct ixp *p, size_t at, uint32_t v)
{
	ixp_default_code(p);
	assert_true(at < p->w.n);
	p->w.w[at] = v;
	ixp_sets(p);
}

/* Overwrites the u32 operand of the instruction at pc. */
static void patch_operand(struct ixp *p, uint32_t pc, uint32_t v)
{
	assert_true(pc + 5 <= p->b.code.len);
	epb_le32(p->b.code.data + pc + 1, v);
}

static uint32_t jif_pc(unsigned k)
{
	static const uint32_t starts[NBLOCKS] = { PC_B0, PC_B1, PC_B2, PC_B3, PC_B4 };
	return starts[k] + test_size[k];
}

/* ---- the valid program loads and decides by its index ------------------------------------ */

static void test_valid_indexed_program_loads(void **state)
{
	(void)state;
	static struct ixp p;
	struct loaded l;

	ixp_default_code(&p);
	ixp_sets(&p);
	const uint32_t blocks[NBLOCKS] = { PC_B0, PC_B1, PC_B2, PC_B3, PC_B4 };
	for (unsigned k = 0; k < NBLOCKS; k++) {
		assert_int_equal(p.w.w[W_BLOCKS + k], blocks[k]);
		assert_int_equal(jif_pc(k) + 11, k + 1 < NBLOCKS ? blocks[k + 1] : PC_END);
	}
	assert_int_equal(p.w.w[W_END], PC_END);
	assert_int_equal(p.b.code.len, CODE_SIZE);

	epb_finish(&p.b);
	load(&l, p.b.file, p.b.len);
	if (l.rc)
		print_load_error(&l);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.prog.code_size, CODE_SIZE);
	assert_int_equal(l.prog.nsets, NSETS);
	assert_int_equal(l.prog.max_stack, 2);

	/* What the runtime reads back is what was written. */
	struct ep_index ix;
	assert_int_equal(ep_index_read(&l.prog, SET_INDEX, true, &ix), 0);
	assert_int_equal(ix.nblocks, NBLOCKS);
	assert_int_equal(ix.end, PC_END);
	assert_int_equal(ix.always.n, 1);
	assert_int_equal(ep_read_u32(ix.always.entries), 4);
	assert_int_equal(ix.subject[EP_INDEX_USER].keys, SET_USERS);
	assert_int_equal(ix.subject[EP_INDEX_USER].nkeys, 3);
	assert_int_equal(ep_index_list(&ix, EP_INDEX_USER, 0).n, 2);
	assert_int_equal(ep_index_list(&ix, EP_INDEX_USER, 1).n, 1);
	assert_int_equal(ep_index_list(&ix, EP_INDEX_USER, 2).n, 0);
	assert_int_equal(ix.subject[EP_INDEX_GROUP].keys, EP_NONE);
	assert_int_equal(ix.subject[EP_INDEX_GROUP].nkeys, 0);
	assert_int_equal(ix.subject[EP_INDEX_HOST_PREFIX].nkeys, 2);
	assert_int_equal(ix.subject[EP_INDEX_HOST_PREFIX].nlengths, 2);
	assert_int_equal(ep_read_u32(ix.subject[EP_INDEX_HOST_PREFIX].lengths + 4), 4);
	unload(&l);
}

/* Rule tests traced by the VM, by pc. */
struct pcs {
	uint32_t pc[64];
	unsigned n;
};

static void log_pc(void *ctx, uint32_t pc, bool result)
{
	struct pcs *t = ctx;
	(void)result;
	assert_true(t->n < 64);
	t->pc[t->n++] = pc;
}

static void test_valid_indexed_program_decides(void **state)
{
	(void)state;
	static struct ixp p;
	struct loaded l;
	static const struct {
		const char *user, *host;
		enum ep_session session;
		int rule;
		unsigned ntests;            /* tests run: only the candidate blocks' */
	} cases[] = {
		{ "alice", "mac", EP_SESSION_CONSOLE, 0, 2 },
		{ "alice", "mac", EP_SESSION_REMOTE, 3, 3 },           /* blocks 0, 3 */
		{ "alice", "lab-1", EP_SESSION_REMOTE, 1, 3 },         /* blocks 0, 1 */
		{ "bob", "mac", EP_SESSION_CONSOLE, 2, 2 },
		{ "carol", "lab-1", EP_SESSION_CONSOLE, 1, 1 },       /* "l" and "lab-": block 1 first */
		{ "carol", "lab-", EP_SESSION_CONSOLE, 1, 1 },
		{ "carol", "lab", EP_SESSION_CONSOLE, 2, 2 },         /* only "l" */
		{ "carol", "la", EP_SESSION_CONSOLE, 2, 2 },
		{ "carol", "l", EP_SESSION_CONSOLE, 2, 2 },
		{ "carol", "x", EP_SESSION_REMOTE, 4, 1 },            /* only the always block */
		{ "carol", "x", EP_SESSION_CONSOLE, EP_RULE_OTHERWISE, 1 },
		{ "carol", "", EP_SESSION_CONSOLE, EP_RULE_OTHERWISE, 1 },
		{ "", "", EP_SESSION_CONSOLE, EP_RULE_OTHERWISE, 1 },
		{ "alic", "xl", EP_SESSION_CONSOLE, EP_RULE_OTHERWISE, 1 },
	};

	ixp_default_code(&p);
	ixp_sets(&p);
	epb_finish(&p.b);
	load(&l, p.b.file, p.b.len);
	assert_int_equal(l.rc, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ep_request q = { .user = cases[i].user, .host = cases[i].host,
		                        .session = cases[i].session, .now = 1772700000 };
		struct ep_decision d;
		struct pcs t = { .n = 0 };
		assert_int_equal(ep_evaluate_traced(&l.prog, &q, &d, log_pc, &t), 0);
		if (d.rule != cases[i].rule || t.n != cases[i].ntests)
			print_error("case %zu: rule %d after %u tests\n", i, (int)d.rule, t.n);
		assert_int_equal(d.rule, cases[i].rule);
		assert_int_equal(t.n, cases[i].ntests);
		assert_int_equal(d.verdict, d.rule == 0 || d.rule == 2 || d.rule == 3 ? EP_ALLOW : EP_DENY);
		if (d.rule == 3)
			assert_int_equal(d.duration, 600);
		if (d.rule == EP_RULE_OTHERWISE)
			assert_int_equal(d.code, EP_REASON_DEFAULT_DENIED);
		/* Tests run in code order: blocks are visited forwards only. */
		for (unsigned j = 1; j < t.n; j++)
			assert_true(t.pc[j] > t.pc[j - 1]);
	}
	/* alice, console, mac: block 0's two tests and nothing else. */
	struct ep_request q = { .user = "alice", .host = "mac", .now = 1772700000 };
	struct ep_decision d;
	struct pcs t = { .n = 0 };
	assert_int_equal(ep_evaluate_traced(&l.prog, &q, &d, log_pc, &t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.pc[0], PC_B0);
	assert_int_equal(t.pc[1], PC_B0 + 5);
	unload(&l);
}

/* Variants that must load too. */
static void test_valid_index_variants_load(void **state)
{
	(void)state;
	static struct ixp p;

	/* Every subject without keys and nothing always: every request goes to the end. */
	ixp_default_code(&p);
	p.w.n = 0;
	words_put(&p.w, NBLOCKS);
	words_put(&p.w, PC_END);
	const uint32_t blocks[NBLOCKS] = { PC_B0, PC_B1, PC_B2, PC_B3, PC_B4 };
	for (unsigned k = 0; k < NBLOCKS; k++)
		words_put(&p.w, blocks[k]);
	words_put(&p.w, 0);
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++)
		words_put(&p.w, EP_NONE);
	ixp_sets(&p);
	expect_ok(&p.b);

	/* Every block always (a prefix subject's keys still need their lengths listed). */
	ixp_default_code(&p);
	p.w.w[W_NALWAYS] = NBLOCKS;
	words_remove(&p.w, W_ALWAYS);
	for (uint32_t k = 0; k < NBLOCKS; k++)
		words_insert(&p.w, W_ALWAYS + k, k);
	ixp_sets(&p);
	expect_ok(&p.b);

	/* A block that decides on both paths needs no NEXT; a block may jump inside itself. */
	ixp_init(&p);
	ixp_index(&p);
	ixp_block(&p, 0);
	p.w.w[W_BLOCKS + 1] = ixp_pc(&p);
	block_test(&p.b, 1);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p.b, EP_OP_DECIDE, 1);
	epb_op32(&p.b, EP_OP_DECIDE, 2);
	for (unsigned k = 2; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	ixp_sets(&p);
	expect_ok(&p.b);

	/* A plain rule after the segment. */
	ixp_default_code(&p);
	p.b.code.len -= 5;                          /* the final DECIDE */
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);         /* at the segment's end */
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p.b, EP_OP_DECIDE, 0);
	epb_op32(&p.b, EP_OP_DECIDE, R_OTHERWISE);
	ixp_sets(&p);
	expect_ok(&p.b);
}

/* Two segments one after the other, each with its own INDEX set. */
static void test_two_segments_in_sequence(void **state)
{
	(void)state;
	static struct ixp p;
	struct loaded l;
	struct words first;

	ixp_default_code(&p);
	first = p.w;
	p.b.code.len -= 5;                          /* the end of the first segment: */
	assert_int_equal(ixp_pc(&p), PC_END);
	epb_op32(&p.b, EP_OP_INDEX, NSETS);          /* a second INDEX, set 5 */
	for (unsigned k = 0; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	struct words second = p.w;
	p.w = first;
	ixp_sets(&p);
	assert_int_equal(epb_set(&p.b, EP_SET_INDEX, second.w, second.n), NSETS);
	epb_finish(&p.b);
	load(&l, p.b.file, p.b.len);
	if (l.rc)
		print_load_error(&l);
	assert_int_equal(l.rc, 0);
	/* carol, remote, x: block 4 of the first segment decides. */
	struct ep_request q = { .user = "carol", .host = "x", .session = EP_SESSION_REMOTE,
	                        .now = 1772700000 };
	struct ep_decision d;
	assert_int_equal(ep_evaluate(&l.prog, &q, &d), 0);
	assert_int_equal(d.rule, 4);
	q.session = EP_SESSION_CONSOLE;
	assert_int_equal(ep_evaluate(&l.prog, &q, &d), 0);
	assert_int_equal(d.rule, EP_RULE_OTHERWISE);
	unload(&l);
}

/* ---- malformed INDEX sets: BAD_SET ------------------------------------------------------ */

static void test_index_set_zero_blocks(void **state)
{
	(void)state;
	static struct ixp p;

	ixp_default_code(&p);
	p.w.n = 0;
	words_put(&p.w, 0);                          /* B = 0 */
	words_put(&p.w, PC_END);
	words_put(&p.w, 0);                          /* always: none */
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++)
		words_put(&p.w, EP_NONE);
	ixp_sets(&p);
	expect_bad_set(&p.b, SET_INDEX);

	/* One block is enough: INDEX; block 0; the end. */
	ixp_init(&p);
	ixp_index(&p);
	ixp_block(&p, 0);
	ixp_end(&p);
	uint32_t end = p.w.w[W_END];
	p.w.n = 0;
	words_put(&p.w, 1);
	words_put(&p.w, end);
	words_put(&p.w, PC_B0);
	words_put(&p.w, 0);
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++)
		words_put(&p.w, EP_NONE);
	ixp_sets(&p);
	expect_ok(&p.b);
}

static void test_index_set_block_number_out_of_range(void **state)
{
	(void)state;
	static struct ixp p;

	ixp_with_word(&p, W_ALWAYS, NBLOCKS);                 /* always [5] of 5 blocks */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_ALWAYS, EP_NONE);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_ALWAYS, NBLOCKS - 1);             /* the last block is fine */
	expect_ok(&p.b);
	ixp_with_word(&p, W_USER_ENTRIES + 2, NBLOCKS);       /* bob's list [5] */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_USER_ENTRIES + 1, NBLOCKS);       /* alice's [0 5] */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_HOST_PREFIX_ENTRIES + 1, 0x80000000u);
	expect_bad_set(&p.b, SET_INDEX);
}

static void test_index_set_list_not_increasing(void **state)
{
	(void)state;
	static struct ixp p;

	/* alice's list [0 3] as [3 0] and [0 0]. */
	ixp_default_code(&p);
	p.w.w[W_USER_ENTRIES] = 3;
	p.w.w[W_USER_ENTRIES + 1] = 0;
	ixp_sets(&p);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_USER_ENTRIES + 1, 0);
	expect_bad_set(&p.b, SET_INDEX);

	/* always [4] as [4 4], and [2 1]. */
	ixp_default_code(&p);
	p.w.w[W_NALWAYS] = 2;
	words_insert(&p.w, W_ALWAYS, 4);
	ixp_sets(&p);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_default_code(&p);
	p.w.w[W_NALWAYS] = 2;
	p.w.w[W_ALWAYS] = 1;
	words_insert(&p.w, W_ALWAYS, 2);
	ixp_sets(&p);
	expect_bad_set(&p.b, SET_INDEX);
	/* [1 2] is fine. */
	ixp_default_code(&p);
	p.w.w[W_NALWAYS] = 2;
	p.w.w[W_ALWAYS] = 2;
	words_insert(&p.w, W_ALWAYS, 1);
	ixp_sets(&p);
	expect_ok(&p.b);
}

static void test_index_set_keys_not_an_earlier_strings_set(void **state)
{
	(void)state;
	static struct ixp p;

	ixp_with_word(&p, W_USER_KEYS, SET_TIMES);            /* not STRINGS */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_HOST_PREFIX_KEYS, SET_TIMES);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_USER_KEYS, SET_INDEX);            /* itself */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_USER_KEYS, SET_LATE);             /* a STRINGS set, but later */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_USER_KEYS, NSETS);                /* no such set */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_USER_KEYS, EP_NONE - 1);
	expect_bad_set(&p.b, SET_INDEX);
	/* Another earlier STRINGS set with the same number of keys is fine. */
	ixp_with_word(&p, W_HOST_PREFIX_KEYS, SET_HOST_PREFIXES);
	expect_ok(&p.b);
}

static void test_index_set_bounds(void **state)
{
	(void)state;
	static struct ixp p;

	/* Not starting at 0: 1 2 3 3 (the total stays 3). */
	ixp_with_word(&p, W_USER_BOUNDS, 1);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_HOST_PREFIX_BOUNDS, 1);
	expect_bad_set(&p.b, SET_INDEX);
	/* Decreasing: 0 2 1 3 (list 0 is [0 3], valid; list 1 runs from 2 back to 1). */
	ixp_with_word(&p, W_USER_BOUNDS + 2, 1);
	expect_bad_set(&p.b, SET_INDEX);
	/* 0 3 2 3: list 0 would be [0 3 2]. */
	ixp_with_word(&p, W_USER_BOUNDS + 1, 3);
	expect_bad_set(&p.b, SET_INDEX);
	/* Equal bounds are empty lists: 0 0 3 3 gives alice nothing, bob [0 3 2]: not sorted. */
	ixp_with_word(&p, W_USER_BOUNDS + 1, 0);
	expect_bad_set(&p.b, SET_INDEX);
	/* 0 2 2 3: alice [0 3], bob [], carol [2]: fine. */
	ixp_with_word(&p, W_USER_BOUNDS + 2, 2);
	expect_ok(&p.b);
}

static void test_index_set_item_count(void **state)
{
	(void)state;
	static struct ixp p;

	/* One word too many at the end. */
	ixp_default_code(&p);
	words_put(&p.w, 0);
	ixp_sets(&p);
	expect_bad_set(&p.b, SET_INDEX);
	/* One too few: the last length missing. */
	ixp_default_code(&p);
	words_remove(&p.w, W_COUNT - 1);
	ixp_sets(&p);
	expect_bad_set(&p.b, SET_INDEX);
	/* Counts that run past the set: B, always n, total entries, L. */
	ixp_with_word(&p, W_NBLOCKS, W_COUNT);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_NBLOCKS, EP_NONE);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_NALWAYS, W_COUNT);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_NALWAYS, EP_NONE);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_USER_BOUNDS + 3, 4);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_HOST_PREFIX_BOUNDS + 2, EP_NONE);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_NLENGTHS, 3);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_NLENGTHS, 1);                      /* one left over */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_NLENGTHS, EP_NONE);
	expect_bad_set(&p.b, SET_INDEX);
	/* Every word cut off in turn. */
	for (size_t n = 1; n < W_COUNT; n++) {
		ixp_default_code(&p);
		p.w.n = n;
		ixp_sets(&p);
		expect_bad_set(&p.b, SET_INDEX);
	}
	/* The set entry's count one short, the last item still in the item array. */
	ixp_default_code(&p);
	ixp_sets(&p);
	epb_finish(&p.b);
	epb_put_u32(&p.b, epb_set_entry_at(&p.b, SET_INDEX) + 8, W_COUNT - 1);
	struct loaded l;
	load(&l, p.b.file, p.b.len);
	assert_int_equal(l.rc, -EP_BAD_SET);
	assert_int_equal(l.err.offset, epb_set_entry_at(&p.b, SET_INDEX));
	unload(&l);
}

static void test_index_set_prefix_lengths(void **state)
{
	(void)state;
	static struct ixp p;

	ixp_with_word(&p, W_LENGTHS, 0);                       /* 0 4 */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_LENGTHS + 1, 1);                   /* 1 1 */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_LENGTHS, 5);                       /* 5 4 */
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_LENGTHS + 1, 0);                   /* 1 0 */
	expect_bad_set(&p.b, SET_INDEX);
	/* 1 huge: increasing, but key "lab-" (4 bytes) would never be looked up. */
	ixp_with_word(&p, W_LENGTHS + 1, EP_NONE);
	expect_bad_set(&p.b, SET_INDEX);
	ixp_with_word(&p, W_NLENGTHS, 1);                      /* only length 1 */
	expect_bad_set(&p.b, SET_INDEX);
}

/* ---- INDEX's operand: BAD_SET_INDEX --------------------------------------------------- */

static void test_index_operand_not_an_index_set(void **state)
{
	(void)state;
	static struct ixp p;
	static const uint32_t bad[] = { SET_USERS, SET_HOST_PREFIXES, SET_TIMES, SET_LATE, NSETS,
	                                EP_NONE };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ixp_default_code(&p);
		patch_operand(&p, 0, bad[i]);
		ixp_sets(&p);
		expect_code_error(&p.b, EP_BAD_SET_INDEX, 0);
	}
	/* And an INDEX set is no string set. */
	static const enum ep_opcode in_ops[] = { EP_OP_USER_IN, EP_OP_GROUP_IN, EP_OP_HOST_IN };
	for (size_t i = 0; i < sizeof(in_ops) / sizeof(in_ops[0]); i++) {
		ixp_default_code(&p);
		p.b.code.data[PC_B3] = (unsigned char)in_ops[i];
		patch_operand(&p, PC_B3, SET_USERS);
		ixp_sets(&p);
		expect_ok(&p.b);
		ixp_default_code(&p);
		p.b.code.data[PC_B3] = (unsigned char)in_ops[i];
		patch_operand(&p, PC_B3, SET_INDEX);
		ixp_sets(&p);
		expect_code_error(&p.b, EP_BAD_SET_INDEX, PC_B3);
	}
	ixp_default_code(&p);
	p.b.code.data[PC_B3] = EP_OP_TIME_IN;
	patch_operand(&p, PC_B3, SET_INDEX);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_BAD_SET_INDEX, PC_B3);
}

/* ---- block offsets against the code: BAD_INDEX -------------------------------------------- */

static void test_index_blocks_do_not_match_code(void **state)
{
	(void)state;
	static struct ixp p;

	/* The first block must start right after INDEX. */
	ixp_with_word(&p, W_BLOCKS, PC_B0 + 1);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_BLOCKS, PC_B0 - 1);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_BLOCKS, 0);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_BLOCKS, PC_B1);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	/* Blocks strictly increasing. */
	ixp_with_word(&p, W_BLOCKS + 1, PC_B0);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_BLOCKS + 1, PC_B0 - 1);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_BLOCKS + 3, PC_B2);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_BLOCKS + 4, PC_B3 - 1);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	/* The end after the last block and inside the code. */
	ixp_with_word(&p, W_END, PC_B4);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_END, PC_B4 - 1);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_END, 0);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_END, CODE_SIZE);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_END, CODE_SIZE + 1);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_END, EP_NONE);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	/* Blocks beyond the code: the end cannot follow them. */
	ixp_with_word(&p, W_BLOCKS + 4, CODE_SIZE);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
	ixp_with_word(&p, W_BLOCKS + 4, EP_NONE);
	expect_code_error(&p.b, EP_BAD_INDEX, 0);
}

/* ---- where INDEX may stand ------------------------------------------------------------------ */

static void test_index_inside_a_segment(void **state)
{
	(void)state;
	static struct ixp p;

	/* Block 0 starts with another INDEX (of the same, valid set). */
	ixp_init(&p);
	ixp_index(&p);
	p.w.w[W_BLOCKS] = ixp_pc(&p);
	epb_op32(&p.b, EP_OP_INDEX, SET_INDEX);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p.b, EP_OP_DECIDE, 0);
	epb_op(&p.b, EP_OP_NEXT);
	for (unsigned k = 1; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_INDEX_NESTED, PC_B0);

	/* In the last block, after its test's jump is resolved. */
	ixp_init(&p);
	ixp_index(&p);
	for (unsigned k = 0; k < NBLOCKS - 1; k++)
		ixp_block(&p, k);
	p.w.w[W_BLOCKS + 4] = ixp_pc(&p);
	epb_op8(&p.b, EP_OP_SESSION_IN, 2);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p.b, EP_OP_DECIDE, 4);
	uint32_t nested = epb_op32(&p.b, EP_OP_INDEX, SET_INDEX);
	ixp_end(&p);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_INDEX_NESTED, nested);
}

static void test_index_with_values_on_the_stack(void **state)
{
	(void)state;
	static struct ixp p;

	ixp_init(&p);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);           /* pc 0, left on the stack */
	ixp_index(&p);                                 /* pc 2 */
	for (unsigned k = 0; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_STACK_NOT_EMPTY, 2);
}

static void test_index_with_a_jump_pending(void **state)
{
	(void)state;
	static struct ixp p;

	/* SESSION_IN 1 (0); JUMP_IF_FALSE (2) over the whole segment to its end; INDEX (7). */
	for (int target = 0; target < 3; target++) {
		ixp_init(&p);
		epb_op8(&p.b, EP_OP_SESSION_IN, 1);
		uint32_t jif = epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 0);
		ixp_index(&p);
		for (unsigned k = 0; k < NBLOCKS; k++)
			ixp_block(&p, k);
		ixp_end(&p);
		uint32_t to = target == 0 ? p.w.w[W_END] : target == 1 ? p.w.w[W_BLOCKS + 1]
		                                                         : p.w.w[W_BLOCKS];
		patch_operand(&p, jif, to - (jif + 5));
		ixp_sets(&p);
		expect_code_error(&p.b, EP_INDEX_JUMP_ACROSS, 7);
	}
	/* Jumping onto the INDEX itself is fine. */
	ixp_init(&p);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 0);
	ixp_index(&p);
	for (unsigned k = 0; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	ixp_sets(&p);
	expect_ok(&p.b);
}

/* ---- blocks: entered only through INDEX and NEXT --------------------------------------------- */

static void test_index_block_falls_through(void **state)
{
	(void)state;
	static struct ixp p;

	/* Block 3 ends with SESSION_IN 1, reached by its jump: it runs into block 4. */
	ixp_init(&p);
	ixp_index(&p);
	for (unsigned k = 0; k < 3; k++)
		ixp_block(&p, k);
	p.w.w[W_BLOCKS + 3] = ixp_pc(&p);
	block_test(&p.b, 3);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p.b, EP_OP_DECIDE, 3);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);
	ixp_block(&p, 4);
	ixp_end(&p);
	ixp_sets(&p);
	assert_int_equal(p.w.w[W_BLOCKS + 4], PC_B4 + 1);
	expect_code_error(&p.b, EP_INDEX_FALLTHROUGH, PC_B4 + 1);

	/* The last block runs into the segment's end. */
	ixp_init(&p);
	ixp_index(&p);
	for (unsigned k = 0; k < 4; k++)
		ixp_block(&p, k);
	p.w.w[W_BLOCKS + 4] = ixp_pc(&p);
	block_test(&p.b, 4);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p.b, EP_OP_DECIDE, 4);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);          /* reached by the jump, runs on */
	ixp_end(&p);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_INDEX_FALLTHROUGH, p.w.w[W_END]);

	/* A block's test falling into the next block without a jump at all. */
	ixp_init(&p);
	ixp_index(&p);
	p.w.w[W_BLOCKS] = ixp_pc(&p);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 0);
	for (unsigned k = 1; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_INDEX_FALLTHROUGH, p.w.w[W_BLOCKS + 1]);
}

/*
 * Block k laid out as a linear program would be: its test, JUMP_IF_FALSE
 * `jump`, DECIDE k, no NEXT; so the jump is the only way on.
 */
static void ixp_block_without_next(struct ixp *p, unsigned k, uint32_t jump)
{
	p->w.w[W_BLOCKS + k] = ixp_pc(p);
	block_test(&p->b, k);
	epb_op32(&p->b, EP_OP_JUMP_IF_FALSE, jump);
	epb_op32(&p->b, EP_OP_DECIDE, k);
}

static void test_index_jump_across_a_block_boundary(void **state)
{
	(void)state;
	static struct ixp p;

	/* Block 1 (24..39) jumps onto the start of block 2 (39). */
	ixp_init(&p);
	ixp_index(&p);
	ixp_block(&p, 0);
	ixp_block_without_next(&p, 1, 5);
	for (unsigned k = 2; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	ixp_sets(&p);
	assert_int_equal(p.w.w[W_BLOCKS + 2], 39);
	expect_code_error(&p.b, EP_INDEX_JUMP_ACROSS, 39);

	/* Into the middle of block 2: its USER_EQ at 44. */
	ixp_init(&p);
	ixp_index(&p);
	ixp_block(&p, 0);
	ixp_block_without_next(&p, 1, 10);
	for (unsigned k = 2; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_INDEX_JUMP_ACROSS, 39);

	/* Block 0 jumps over every other block onto the end's DECIDE: found at block 1. */
	ixp_init(&p);
	ixp_index(&p);
	ixp_block_without_next(&p, 0, 0);
	for (unsigned k = 1; k < NBLOCKS; k++)
		ixp_block(&p, k);
	ixp_end(&p);
	uint32_t jif = p.w.w[W_BLOCKS] + test_size[0];
	patch_operand(&p, jif, p.w.w[W_END] - (jif + 5));
	ixp_sets(&p);
	expect_code_error(&p.b, EP_INDEX_JUMP_ACROSS, p.w.w[W_BLOCKS + 1]);

	/* The last block jumps past the segment's end, onto the end's DECIDE. */
	ixp_init(&p);
	ixp_index(&p);
	for (unsigned k = 0; k < NBLOCKS - 1; k++)
		ixp_block(&p, k);
	ixp_block_without_next(&p, 4, 5);
	ixp_end(&p);
	ixp_sets(&p);
	assert_int_equal(p.w.w[W_END], PC_END - 1);
	expect_code_error(&p.b, EP_INDEX_JUMP_ACROSS, PC_END - 1);

	/* The last block jumps beyond the end's DECIDE (into plain code after the segment). */
	ixp_init(&p);
	ixp_index(&p);
	for (unsigned k = 0; k < NBLOCKS - 1; k++)
		ixp_block(&p, k);
	ixp_block_without_next(&p, 4, 12);           /* onto the DECIDE at 97 */
	p.w.w[W_END] = ixp_pc(&p);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 0);
	epb_op32(&p.b, EP_OP_DECIDE, R_OTHERWISE);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_INDEX_JUMP_ACROSS, PC_END - 1);

	/* Without the segment the same code is a valid linear program. */
	ixp_init(&p);
	ixp_block_without_next(&p, 0, 5);
	ixp_block_without_next(&p, 1, 5);
	ixp_end(&p);
	ixp_sets(&p);
	expect_ok(&p.b);
}

static void test_index_block_starts_inside_an_instruction(void **state)
{
	(void)state;
	static struct ixp p;

	/* The error names the boundary itself. Block 2 "starts" at 37, inside
	 * block 1's DECIDE (34..39), found when the NEXT at 39 is reached. */
	ixp_with_word(&p, W_BLOCKS + 2, 37);
	expect_code_error(&p.b, EP_INDEX_BOUNDARY_MID, 37);
	/* Block 1 at 20, inside block 0's DECIDE (18..23). */
	ixp_with_word(&p, W_BLOCKS + 1, 20);
	expect_code_error(&p.b, EP_INDEX_BOUNDARY_MID, 20);
	/* The end at 88, inside block 4's DECIDE (85..90). */
	ixp_with_word(&p, W_END, 88);
	expect_code_error(&p.b, EP_INDEX_BOUNDARY_MID, 88);
	/* A block start after a NEXT but before the next instruction that is reached:
	   the instruction in between is unreachable. */
	ixp_with_word(&p, W_BLOCKS + 2, PC_B2 + 1);
	expect_code_error(&p.b, EP_UNREACHABLE, PC_B2);
}

static void test_next_outside_a_segment(void **state)
{
	(void)state;
	static struct ixp p;

	/* No INDEX at all: SESSION_IN 1 (0); JIF 5 (2); DECIDE 0 (7); NEXT (12); DECIDE 5 (13). */
	ixp_init(&p);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p.b, EP_OP_DECIDE, 0);
	epb_op(&p.b, EP_OP_NEXT);
	epb_op32(&p.b, EP_OP_DECIDE, R_OTHERWISE);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_NEXT_OUTSIDE_INDEX, 12);

	ixp_init(&p);
	epb_op(&p.b, EP_OP_NEXT);
	epb_op32(&p.b, EP_OP_DECIDE, R_OTHERWISE);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_NEXT_OUTSIDE_INDEX, 0);

	/* Right at the segment's end, where the segment is over. */
	ixp_default_code(&p);
	p.b.code.len -= 5;
	epb_op(&p.b, EP_OP_NEXT);
	epb_op32(&p.b, EP_OP_DECIDE, R_OTHERWISE);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_NEXT_OUTSIDE_INDEX, PC_END);
}

/*
 * NEXT goes to the next block, which the verifier checks with an empty
 * stack: a NEXT with values on the stack would leave them to the next
 * block, and blocks that each leave one would overflow the evaluator's
 * fixed stack.
 */
static void test_next_with_values_on_the_stack(void **state)
{
	(void)state;
	static struct ixp p;

	ixp_init(&p);
	ixp_index(&p);
	for (unsigned k = 0; k < NBLOCKS - 1; k++)
		ixp_block(&p, k);
	p.w.w[W_BLOCKS + 4] = ixp_pc(&p);
	epb_op8(&p.b, EP_OP_SESSION_IN, 2);
	epb_op32(&p.b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&p.b, EP_OP_DECIDE, 4);
	epb_op8(&p.b, EP_OP_SESSION_IN, 1);          /* left on the stack at NEXT */
	uint32_t next = epb_op(&p.b, EP_OP_NEXT);
	assert_int_equal(next, 92);
	ixp_end(&p);
	ixp_sets(&p);
	expect_code_error(&p.b, EP_STACK_NOT_EMPTY, next);

	/* 70 blocks of SESSION_IN 3; NEXT, each leaving one value, all always candidates. */
	struct epb *b = &p.b;
	struct words w = { .n = 0 };
	epb_init(b);
	epb_string(b, "r");
	struct epb_rule otherwise = epb_allow(EP_NONE);
	epb_rule(b, &otherwise);
	epb_op32(b, EP_OP_INDEX, 0);
	words_put(&w, 70);
	words_put(&w, 5 + 3 * 70);
	for (uint32_t k = 0; k < 70; k++)
		words_put(&w, 5 + 3 * k);
	words_put(&w, 70);
	for (uint32_t k = 0; k < 70; k++)
		words_put(&w, k);
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++)
		words_put(&w, EP_NONE);
	epb_set(b, EP_SET_INDEX, w.w, w.n);
	for (uint32_t k = 0; k < 70; k++) {
		epb_op8(b, EP_OP_SESSION_IN, 3);
		epb_op(b, EP_OP_NEXT);
	}
	epb_op32(b, EP_OP_DECIDE, 0);
	expect_code_error(b, EP_STACK_NOT_EMPTY, 7);
}

/* ---- regressions ----------------------------------------------------------------------- */

/*
 * A block start (or the segment's end) inside the code's last instruction
 * used to go unchecked: the verifier's loop ended before reaching the
 * boundary, the program loaded, and INDEX jumped into the middle of the
 * final DECIDE. It must be refused (INDEX_BOUNDARY_MID).
 */
static void test_regression_block_start_in_the_last_instruction(void **state)
{
	(void)state;
	struct epb b;
	struct loaded l;

	epb_init(&b);
	epb_string(&b, "r0");
	epb_string(&b, "r1");
	struct epb_rule r0 = epb_allow(0), r1 = epb_allow(1), otherwise = epb_allow(EP_NONE);
	epb_rule(&b, &r0);
	epb_rule(&b, &r1);
	epb_rule(&b, &otherwise);
	/*  0: INDEX 0
	 *  5: SESSION_IN 1; 7: NOT; 8: NOT; 9: JIF 5; 14: DECIDE 0   block 0
	 * 19: DECIDE 2 (19..24)                                      "block 1" at 20, end 22 */
	epb_op32(&b, EP_OP_INDEX, 0);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op(&b, EP_OP_NOT);
	epb_op(&b, EP_OP_NOT);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op32(&b, EP_OP_DECIDE, 2);
	const uint32_t words[] = { 2, 22, 5, 20, 1, 1, EP_NONE, EP_NONE, EP_NONE, EP_NONE, EP_NONE,
	                           EP_NONE, EP_NONE };
	epb_set(&b, EP_SET_INDEX, words, sizeof(words) / sizeof(words[0]));
	epb_finish(&b);
	load(&l, b.file, b.len);
	if (l.rc == 0)
		print_error("block 1 at pc 20, inside the final DECIDE (19..24), loaded\n");
	assert_int_not_equal(l.rc, 0);
	unload(&l);
}

/* The same with the segment's end: block 4 ends with the code, its jump landing on the
 * final DECIDE (90..95); the end at 92. */
static void test_regression_segment_end_in_the_last_instruction(void **state)
{
	(void)state;
	static struct ixp p;
	struct loaded l;

	ixp_init(&p);
	ixp_index(&p);
	for (unsigned k = 0; k < NBLOCKS - 1; k++)
		ixp_block(&p, k);
	ixp_block_without_next(&p, 4, 5);
	epb_op32(&p.b, EP_OP_DECIDE, R_OTHERWISE);
	p.w.w[W_END] = 92;
	ixp_sets(&p);
	epb_finish(&p.b);
	load(&l, p.b.file, p.b.len);
	if (l.rc == 0)
		print_error("segment end at pc 92, inside the final DECIDE (90..95), loaded\n");
	assert_int_not_equal(l.rc, 0);
	unload(&l);
}

/*
 * ep_index_read(check) used to read list k before knowing that bound k+1
 * was within the set: bounds 0, X, T with X > T made it read past the end
 * of the caller's buffer. The bounds are now checked first; the set is
 * refused without reading outside it (AddressSanitizer would tell).
 */
static void test_regression_index_bounds_read_past_the_buffer(void **state)
{
	(void)state;
	static struct epb b;
	static struct epb_bytes code, rules;
	struct words w = { .n = 0 };

	epb_init(&b);
	epb_string(&b, "a");
	epb_string(&b, "b");
	const uint32_t keys[] = { 0, 1 };
	epb_set(&b, EP_SET_STRINGS, keys, 2);
	/* 64 blocks; host prefixes, the last subject: keys {a, b}, bounds 0 1000 1, list [0],
	 * lengths [2]; every word from the list on is an increasing block number < 64. */
	words_put(&w, 64);
	words_put(&w, 1000);
	for (uint32_t k = 0; k < 64; k++)
		words_put(&w, 5 + k);
	words_put(&w, 0);
	for (int s = 0; s < EP_INDEX_HOST_PREFIX; s++)
		words_put(&w, EP_NONE);
	words_put(&w, 0);
	words_put(&w, 0);
	words_put(&w, 1000);
	words_put(&w, 1);
	words_put(&w, 0);                /* the list, then L = 1, length 2 */
	words_put(&w, 1);
	words_put(&w, 2);
	epb_set(&b, EP_SET_INDEX, w.w, w.n);
	/* The sections after the sets, checked only after them: 3 4 5 6, then 7 8 9 10, the end. */
	code.len = rules.len = 0;
	for (uint32_t v = 3; v <= 6; v++)
		epb_append_u32(&code, v);
	for (uint32_t v = 7; v <= 10; v++)
		epb_append_u32(&rules, v);
	b.raw[EP_SECTION_CODE] = &code;
	b.raw[EP_SECTION_RULES] = &rules;
	expect_bad_set(&b, 1);
}

/* ---- compiled policies: first match through the index ---------------------------------------- */



static void print_request(const struct ep_request *q)
{
	print_error("request: user \"%s\" host \"%s\" session %d now %lld offset %d ngroups %zu\n",
	            q->user, q->host, (int)q->session, (long long)q->now, (int)q->utc_offset,
	            q->ngroups);
	for (size_t i = 0; i < q->ngroups && i < 30; i++)
		print_error("  group \"%s\"\n", q->groups[i]);
}

struct policy_under_test {
	struct compilation c;
	struct loaded l;
	const char *text;
};

static void count_vm_test(void *ctx, uint32_t pc, bool result)
{
	(void)pc;
	(void)result;
	(*(unsigned *)ctx)++;
}

static void count_ref_test(void *ctx, const struct cond *test, bool result)
{
	(void)test;
	(void)result;
	(*(unsigned *)ctx)++;
}

/* Compiles text (no target); it must be indexed when `indexed`. */
static void compile_policy(struct policy_under_test *t, const char *text, bool indexed)
{
	t->text = text;
	int rc = compile_text(&t->c, text, NULL, false);
	if (rc != 0) {
		print_error("policy does not compile:\n%s\n", text);
		for (const struct diag *d = t->c.diags.head; d; d = d->next)
			print_error("  %s: %s\n", diag_code_name(d->code), d->message);
	}
	assert_int_equal(rc, 0);
	load(&t->l, t->c.bytecode, t->c.bytecode_len);
	if (t->l.rc != 0) {
		print_load_error(&t->l);
		print_error("%s\n", text);
	}
	assert_int_equal(t->l.rc, 0);
	if (indexed != (t->l.prog.code[0] == EP_OP_INDEX))
		print_error("wanted %s policy:\n%s\n", indexed ? "an indexed" : "a linear", text);
	assert_int_equal(t->l.prog.code[0] == EP_OP_INDEX, indexed);
}

static void free_policy(struct policy_under_test *t)
{
	unload(&t->l);
	compilation_free(&t->c);
}

/* Tests the reference ran in the last decide(). */
static unsigned last_ref_tests;

/*
 * Decides q with the VM and the reference; they must agree, the VM may run
 * no more tests than the reference. Returns the VM's decision; *ntests
 * (if given) gets the number of tests the VM ran.
 */
static struct ep_decision decide(const struct policy_under_test *t, const struct ep_request *q,
                                 unsigned *ntests)
{
	struct ep_decision vm, ref;
	unsigned vm_tests = 0, ref_tests = 0;
	memset(&vm, 0xA5, sizeof(vm));
	memset(&ref, 0x5A, sizeof(ref));
	int vm_rc = ep_evaluate_traced(&t->l.prog, q, &vm, count_vm_test, &vm_tests);
	int ref_rc = eval_reference(t->c.policy, q, &ref, count_ref_test, &ref_tests);
	if (vm_rc != ref_rc || !ep_decision_equal(&vm, &ref) || vm_tests > ref_tests) {
		print_error("MISMATCH: vm rc %d rule %d (%u tests), reference rc %d rule %d (%u tests)\n",
		            vm_rc, (int)vm.rule, vm_tests, ref_rc, (int)ref.rule, ref_tests);
		print_request(q);
		print_error("policy:\n%s\n", t->text);
		fail();
	}
	if (ntests)
		*ntests = vm_tests;
	last_ref_tests = ref_tests;
	return vm;
}

/* Tuesday 2026-12-08 at hh:mm UTC. */
static int64_t tuesday_at(unsigned h, unsigned m)
{
	return (int64_t)ep_days_from_civil(2026, 12, 8) * 86400 + h * 3600 + m * 60;
}

#define RULE(name, body) "rule \"" name "\" {\n" body "}\n"

/* 14 rules, each kind of key once; rule n is named "rn". */
#define KEYED_RULES \
	RULE("r0", "    when user == \"alice\"\n") \
	RULE("r1", "    when time in 03:00..04:00\n    deny \"night\"\n") \
	RULE("r2", "    when group == \"admin\"\n") \
	RULE("r3", "    when group in [\"staff\", \"wheel\"]\n    deny \"staff\"\n") \
	RULE("r4", "    when host == \"build\"\n    duration 10m\n") \
	RULE("r5", "    when host matches \"lab-*\"\n    deny \"lab\"\n") \
	RULE("r6", "    when session == remote and user in [\"bob\", \"kiosk\"]\n") \
	RULE("r7", "    when user == \"carol\" or group == \"dev\"\n") \
	RULE("r8", "    when user == \"dave\" and day in [sat, sun]\n") \
	RULE("r9", "    when not (user in [\"alice\", \"bob\"]) and host == \"kiosk-1\"\n") \
	RULE("r10", "    when not (group == \"ops\") and user matches \"*-svc\"\n") \
	RULE("r11", "    when date in 2026-12-24\n    deny \"holiday\"\n") \
	RULE("r12", "    when user matches \"adm?n\"\n") \
	RULE("r13", "    when group matches \"proj-*\"\n    deny\n")

#define KEYED_POLICY TEST_PROFILE KEYED_RULES "otherwise deny \"nobody\"\n"
#define CATCH_ALL_POLICY TEST_PROFILE KEYED_RULES \
	RULE("all", "    deny \"catch-all\"\n") \
	RULE("after", "    when user == \"alice\"\n") \
	"otherwise allow\n"

enum { NKEYED = 14, R_NONE = -2 };

struct keyed_case {
	const char *user, *host;
	const char *groups[4];
	enum ep_session session;
	int64_t now;                   /* 0: Tuesday noon */
	int rule;                      /* R_NONE: no rule matches */
};

static void check_keyed_cases(const struct policy_under_test *t, int nomatch)
{
	const int64_t noon = tuesday_at(12, 0);
	const int64_t saturday = noon + 4 * 86400, christmas_eve = noon + 16 * 86400;
	const struct keyed_case cases[] = {
		{ "alice", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, 0 },
		{ "alice", "mac-01", { NULL }, EP_SESSION_CONSOLE, tuesday_at(3, 30), 0 },
		{ "bob", "mac-01", { NULL }, EP_SESSION_CONSOLE, tuesday_at(3, 30), 1 },
		{ "erin", "mac-01", { NULL }, EP_SESSION_CONSOLE, tuesday_at(3, 0), 1 },
		{ "erin", "mac-01", { NULL }, EP_SESSION_CONSOLE, tuesday_at(4, 0), R_NONE },
		/* groups */
		{ "bob", "mac-01", { "admin" }, EP_SESSION_CONSOLE, 0, 2 },
		{ "bob", "mac-01", { "staff", "admin" }, EP_SESSION_CONSOLE, 0, 2 },   /* the 2nd group */
		{ "bob", "mac-01", { "wheel", "x", "admin" }, EP_SESSION_CONSOLE, 0, 2 },
		{ "bob", "mac-01", { "staff" }, EP_SESSION_CONSOLE, 0, 3 },
		{ "bob", "mac-01", { "x", "y", "wheel" }, EP_SESSION_CONSOLE, 0, 3 },
		{ "bob", "mac-01", { "Admin", "admins", "admi" }, EP_SESSION_CONSOLE, 0, R_NONE },
		/* hosts */
		{ "bob", "build", { NULL }, EP_SESSION_CONSOLE, 0, 4 },
		{ "bob", "build", { "wheel" }, EP_SESSION_CONSOLE, 0, 3 },
		{ "bob", "builder", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "erin", "lab-", { NULL }, EP_SESSION_CONSOLE, 0, 5 },
		{ "erin", "lab-1", { NULL }, EP_SESSION_CONSOLE, 0, 5 },
		{ "erin", "lab-01-x", { NULL }, EP_SESSION_CONSOLE, 0, 5 },
		{ "erin", "la", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "erin", "lab", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "erin", "lab_1", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "erin", "xlab-1", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "erin", "", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "alice", "lab-1", { NULL }, EP_SESSION_CONSOLE, 0, 0 },
		/* session (keyed through the left side of an `and`) */
		{ "bob", "mac-01", { NULL }, EP_SESSION_REMOTE, 0, 6 },
		{ "kiosk", "mac-01", { NULL }, EP_SESSION_REMOTE, 0, 6 },
		{ "kiosk", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "erin", "mac-01", { NULL }, EP_SESSION_REMOTE, 0, R_NONE },
		{ "bob", "lab-2", { NULL }, EP_SESSION_REMOTE, 0, 5 },
		/* or of two subjects */
		{ "carol", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, 7 },
		{ "carol", "mac-01", { NULL }, EP_SESSION_REMOTE, 0, 7 },
		{ "erin", "mac-01", { "dev" }, EP_SESSION_CONSOLE, 0, 7 },
		{ "erin", "mac-01", { "x", "dev" }, EP_SESSION_CONSOLE, 0, 7 },
		{ "erin", "mac-01", { "dev", "staff" }, EP_SESSION_CONSOLE, 0, 3 },
		/* and with one keyed side */
		{ "dave", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "dave", "mac-01", { NULL }, EP_SESSION_CONSOLE, saturday, 8 },
		{ "erin", "kiosk-1", { NULL }, EP_SESSION_CONSOLE, 0, 9 },
		{ "alice", "kiosk-1", { NULL }, EP_SESSION_CONSOLE, 0, 0 },
		{ "bob", "kiosk-1", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		/* not: no keys, always a candidate */
		{ "x-svc", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, 10 },
		{ "x-svc", "mac-01", { "ops" }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "x-svc", "mac-01", { "ops", "dev" }, EP_SESSION_CONSOLE, 0, 7 },
		{ "-svc", "kiosk-1", { "ops" }, EP_SESSION_CONSOLE, 0, 9 },
		/* no keys at all */
		{ "erin", "mac-01", { NULL }, EP_SESSION_CONSOLE, christmas_eve, 11 },
		{ "carol", "mac-01", { NULL }, EP_SESSION_CONSOLE, christmas_eve, 7 },
		/* user and group prefixes */
		{ "admin", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, 12 },
		{ "admXn", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, 12 },
		{ "adm", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "admins", "mac-01", { NULL }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "admin", "lab-1", { NULL }, EP_SESSION_CONSOLE, 0, 5 },
		{ "erin", "mac-01", { "proj-x" }, EP_SESSION_CONSOLE, 0, 13 },
		{ "erin", "mac-01", { "proj-" }, EP_SESSION_CONSOLE, 0, 13 },
		{ "erin", "mac-01", { "proj" }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "erin", "mac-01", { "proj-x", "admin" }, EP_SESSION_CONSOLE, 0, 2 },
		/* empty names */
		{ "", "", { "" }, EP_SESSION_CONSOLE, 0, R_NONE },
		{ "", "", { "" }, EP_SESSION_REMOTE, tuesday_at(3, 59), 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct keyed_case *k = &cases[i];
		size_t ngroups = 0;
		while (ngroups < 4 && k->groups[ngroups])
			ngroups++;
		struct ep_request q = { .user = k->user, .host = k->host, .groups = k->groups,
		                        .ngroups = ngroups, .session = k->session,
		                        .now = k->now ? k->now : noon };
		struct ep_decision d = decide(t, &q, NULL);
		int want = k->rule == R_NONE ? nomatch : k->rule;
		if (d.rule != want) {
			print_error("case %zu: rule %d, wanted %d\n", i, (int)d.rule, want);
			print_request(&q);
		}
		assert_int_equal(d.rule, want);
	}
}

static void test_indexed_policy_first_match(void **state)
{
	(void)state;
	struct policy_under_test t;

	compile_policy(&t, KEYED_POLICY, true);
	check_keyed_cases(&t, EP_RULE_OTHERWISE);

	/* Some decisions in full. */
	struct ep_request q = { .user = "erin", .host = "mac-01", .now = tuesday_at(12, 0) };
	struct ep_decision d = decide(&t, &q, NULL);
	assert_int_equal(d.verdict, EP_DENY);
	assert_int_equal(d.code, EP_REASON_DEFAULT_DENIED);
	assert_string_equal(d.message, "nobody");
	q.host = "build";
	d = decide(&t, &q, NULL);
	assert_int_equal(d.code, EP_REASON_ALLOWED);
	assert_string_equal(d.rule_name, "r4");
	assert_int_equal(d.duration, 600);
	q.host = "lab-9";
	d = decide(&t, &q, NULL);
	assert_int_equal(d.code, EP_REASON_RULE_DENIED);
	assert_string_equal(d.message, "lab");
	free_policy(&t);
}

static void test_catch_all_after_indexed_rules(void **state)
{
	(void)state;
	struct policy_under_test t;

	compile_policy(&t, CATCH_ALL_POLICY, true);
	check_keyed_cases(&t, NKEYED);
	struct ep_request q = { .user = "erin", .host = "mac-01", .now = tuesday_at(12, 0) };
	struct ep_decision d = decide(&t, &q, NULL);
	assert_int_equal(d.rule, NKEYED);
	assert_int_equal(d.code, EP_REASON_RULE_DENIED);
	assert_string_equal(d.message, "catch-all");
	/* Nothing after the catch-all is emitted: the code ends with its DECIDE. */
	const unsigned char *end = t.l.prog.code + t.l.prog.code_size - 5;
	assert_int_equal(end[0], EP_OP_DECIDE);
	assert_int_equal(ep_read_u32(end + 1), NKEYED);
	free_policy(&t);

	/* Only the rules before the catch-all are indexed: a catch-all first means no index. */
	compile_policy(&t, TEST_PROFILE RULE("all", "") KEYED_RULES, false);
	d = decide(&t, &q, NULL);
	assert_int_equal(d.rule, 0);
	free_policy(&t);
}

/* The index only offers rules that could match: count the tests the VM runs. */
static void test_indexed_policy_runs_only_candidate_tests(void **state)
{
	(void)state;
	struct policy_under_test t;
	unsigned n;

	compile_policy(&t, KEYED_POLICY, true);
	/* erin, console, mac-01, no groups: the always rules r1 (1 test), r10 (2), r11 (1). */
	struct ep_request q = { .user = "erin", .host = "mac-01", .now = tuesday_at(12, 0) };
	assert_int_equal(decide(&t, &q, &n).rule, EP_RULE_OTHERWISE);
	assert_int_equal(n, 4);
	/* alice: r0 decides at once. */
	q.user = "alice";
	assert_int_equal(decide(&t, &q, &n).rule, 0);
	assert_int_equal(n, 1);
	/* dev and remote: r7 (2 tests) after r1 and r6 (2 tests): r1 first, then r6, r7. */
	const char *groups[] = { "dev" };
	q.user = "erin";
	q.groups = groups;
	q.ngroups = 1;
	q.session = EP_SESSION_REMOTE;
	assert_int_equal(decide(&t, &q, &n).rule, 7);
	assert_int_equal(n, 1 + 2 + 2);
	free_policy(&t);

	/* Seven rules are not indexed; the VM runs every test up to the match. */
	compile_policy(&t, TEST_PROFILE
	               RULE("a", "    when user == \"a\"\n") RULE("b", "    when user == \"b\"\n")
	               RULE("c", "    when user == \"c\"\n") RULE("d", "    when user == \"d\"\n")
	               RULE("e", "    when user == \"e\"\n") RULE("f", "    when user == \"f\"\n")
	               RULE("g", "    when user == \"g\"\n"), false);
	q = (struct ep_request){ .user = "g", .host = "", .now = tuesday_at(12, 0) };
	assert_int_equal(decide(&t, &q, &n).rule, 6);
	assert_int_equal(n, 7);
	free_policy(&t);

	/* Eight are. */
	compile_policy(&t, TEST_PROFILE
	               RULE("a", "    when user == \"a\"\n") RULE("b", "    when user == \"b\"\n")
	               RULE("c", "    when user == \"c\"\n") RULE("d", "    when user == \"d\"\n")
	               RULE("e", "    when user == \"e\"\n") RULE("f", "    when user == \"f\"\n")
	               RULE("g", "    when user == \"g\"\n") RULE("h", "    when user == \"h\"\n"), true);
	assert_int_equal(decide(&t, &q, &n).rule, 6);
	assert_int_equal(n, 1);
	q.user = "i";
	assert_int_equal(decide(&t, &q, &n).rule, EP_RULE_OTHERWISE);
	assert_int_equal(n, 0);
	free_policy(&t);
}

/*
 * Many groups. 20 user rules, then 100 rules `group == "gK"` for K = 99
 * down to 0 (rule 20 + 99 - K), then one rule with no keys. A request
 * with more candidate lists than the runtime keeps (64) visits every
 * block in order; one with fewer visits only its candidates. Both must
 * give the first match.
 */
#define NUSER_RULES 20
#define NGROUP_RULES 100

/*
 * Tests run for a request with more candidate lists than the runtime
 * keeps: at least the candidates' (every candidate before the match is
 * tested), at most every block's up to the match (a linear scan).
 */
static void assert_tests_between(unsigned n, unsigned candidates, unsigned linear)
{
	if (n < candidates || n > linear)
		print_error("%u tests, wanted %u..%u\n", n, candidates, linear);
	assert_true(n >= candidates && n <= linear);
}

static int group_rule(unsigned k)
{
	return NUSER_RULES + NGROUP_RULES - 1 - (int)k;
}

static void test_many_groups(void **state)
{
	(void)state;
	struct text text = { 0 };
	struct policy_under_test t;
	static char names[300][8];
	const char *groups[EP_MAX_GROUPS];
	unsigned n;

	put(&text, TEST_PROFILE);
	for (unsigned i = 0; i < NUSER_RULES; i++)
		put(&text, "rule \"u%u\" {\n    when user == \"u%u\"\n}\n", i, i);
	for (unsigned i = 0; i < NGROUP_RULES; i++)
		put(&text, "rule \"g-rule-%u\" {\n    when group == \"g%u\"\n}\n", i, NGROUP_RULES - 1 - i);
	put(&text, "rule \"late\" {\n    when not (user == \"nobody\")\n    deny\n}\n");
	put(&text, "otherwise deny\n");
	compile_policy(&t, text.s, true);
	const int late = NUSER_RULES + NGROUP_RULES;

	for (unsigned i = 0; i < 300; i++)
		snprintf(names[i], sizeof(names[i]), i < 200 ? "g%u" : "h%u", i < 200 ? i : i - 200);
	struct ep_request q = { .user = "x", .host = "mac", .groups = groups, .now = tuesday_at(12, 0) };

	/* All 100 groups, in increasing order: g99's rule is the first. */
	for (unsigned i = 0; i < 100; i++)
		groups[i] = names[i];
	q.ngroups = 100;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(99));
	assert_tests_between(n, 1, NUSER_RULES + 1);
	q.ngroups = 99;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(98));
	assert_tests_between(n, 1, NUSER_RULES + 2);
	/* 64 groups and the always list: 65 lists (the runtime keeps up to 512). */
	q.ngroups = 64;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(63));
	assert_tests_between(n, 1, NUSER_RULES + 1 + 99 - 63);
	/* 63 groups and the always list: 64 lists: candidates only. */
	q.ngroups = 63;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(62));
	assert_int_equal(n, 1);
	q.ngroups = 10;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(9));
	assert_int_equal(n, 1);
	q.ngroups = 0;
	assert_int_equal(decide(&t, &q, &n).rule, late);
	assert_int_equal(n, 1);

	/* The same groups in decreasing order, and repeated up to EP_MAX_GROUPS. */
	for (unsigned i = 0; i < 100; i++)
		groups[i] = names[99 - i];
	q.ngroups = 100;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(99));
	for (unsigned i = 0; i < EP_MAX_GROUPS; i++)
		groups[i] = names[(i * 7) % 100];
	q.ngroups = EP_MAX_GROUPS;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(99));
	/* Many copies of one group: lists enough for every block, one rule matches. */
	for (unsigned i = 0; i < 100; i++)
		groups[i] = names[42];
	q.ngroups = 100;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(42));
	q.ngroups = 50;
	assert_int_equal(decide(&t, &q, &n).rule, group_rule(42));
	assert_int_equal(n, 1);

	/* A user rule before every group rule. */
	for (unsigned i = 0; i < 100; i++)
		groups[i] = names[i];
	q.ngroups = 100;
	q.user = "u7";
	assert_int_equal(decide(&t, &q, &n).rule, 7);
	assert_tests_between(n, 1, 8);
	q.user = "u19";
	q.ngroups = 5;
	assert_int_equal(decide(&t, &q, &n).rule, 19);
	assert_int_equal(n, 1);

	/* 100 groups that are no keys: only the always rule. */
	q.user = "x";
	for (unsigned i = 0; i < 100; i++)
		groups[i] = names[200 + i];
	q.ngroups = 100;
	assert_int_equal(decide(&t, &q, &n).rule, late);
	assert_int_equal(n, 1);
	q.user = "nobody";
	assert_int_equal(decide(&t, &q, &n).rule, EP_RULE_OTHERWISE);
	free_policy(&t);
	free(text.s);
}

/* Group prefixes: each group looks up every key length, so a few groups make many lists. */
static void test_many_group_prefixes(void **state)
{
	(void)state;
	struct text text = { 0 };
	struct policy_under_test t;
	static char names[200][24];
	const char *groups[EP_MAX_GROUPS];
	unsigned n;

	/* Rules for prefixes "p", "pp", ..., 12 lengths, the longest first. */
	put(&text, TEST_PROFILE);
	for (unsigned len = 12; len >= 1; len--)
		put(&text, "rule \"len%u\" {\n    when group matches \"%.*s*\"\n}\n", len, (int)len,
		    "pppppppppppp");
	put(&text, "rule \"host\" {\n    when host matches \"pp*\"\n}\n");
	compile_policy(&t, text.s, true);
	for (unsigned i = 0; i < 200; i++)
		snprintf(names[i], sizeof(names[i]), "%.*sq%u", (int)(i % 13), "pppppppppppp", i);
	struct ep_request q = { .user = "x", .host = "ppq", .groups = groups, .now = tuesday_at(12, 0) };
	/* Groups with 11, 3 and 5 p's: 19 lists and the host's, candidates only. */
	groups[0] = names[11];
	groups[1] = names[3];
	groups[2] = names[5];
	q.ngroups = 3;
	assert_int_equal(decide(&t, &q, &n).rule, 1);        /* "ppppppppppp*" */
	assert_int_equal(n, 1);
	/* Five groups with 11 p's: 55 lists and the host's: candidates only. */
	for (unsigned i = 0; i < 6; i++)
		groups[i] = names[11 + 13 * i];
	q.ngroups = 5;
	assert_int_equal(decide(&t, &q, &n).rule, 1);
	assert_int_equal(n, 1);
	/* Six: 67 lists. */
	q.ngroups = 6;
	assert_int_equal(decide(&t, &q, &n).rule, 1);
	assert_tests_between(n, 1, 2);
	/* Fifty groups with 12 p's (15 names, repeated): 600 lists, more than the
	 * runtime keeps (512), so every NEXT looks them up again; same decision. */
	for (unsigned i = 0; i < 50; i++)
		groups[i] = names[12 + 13 * (i % 15)];
	q.ngroups = 50;
	assert_int_equal(decide(&t, &q, &n).rule, 0);
	assert_int_equal(n, 1);
	/* Ten groups with 12 p's: 121 lists. */
	for (unsigned i = 0; i < 10; i++)
		groups[i] = names[12 + 13 * i];
	q.ngroups = 10;
	assert_int_equal(decide(&t, &q, &n).rule, 0);
	assert_int_equal(n, 1);
	q.ngroups = 0;
	assert_int_equal(decide(&t, &q, &n).rule, 12);
	q.host = "ppq";
	q.ngroups = 10;
	groups[9] = "q";                                      /* 108 lists, one group no key */
	assert_int_equal(decide(&t, &q, &n).rule, 0);
	q.host = "p";
	q.ngroups = 0;
	assert_int_equal(decide(&t, &q, &n).rule, EP_RULE_OTHERWISE);
	assert_int_equal(n, 0);
	q.host = "pp";
	assert_int_equal(decide(&t, &q, &n).rule, 12);
	free_policy(&t);
	free(text.s);
}

/* ---- differential: random indexed policies against the reference ------------------------------ */

#define DIFF_SEED 0x1DE5EEDu
#define DIFF_POLICIES 200
#define DIFF_REQUESTS 300


/* Names that share prefixes, and patterns whose literal starts are those prefixes. */
static const char *const user_names[] = { "a", "al", "ali", "alice", "alicia", "alex", "b", "bo",
                                          "bob", "bobby" };
static const char *const group_names[] = { "d", "de", "dev", "dev-1", "dev-10", "dev-2", "op", "ops",
                                           "st", "staff" };
static const char *const host_names[] = { "l", "la", "lab", "lab-", "lab-1", "lab-10", "lab-2",
                                          "m", "mac", "mac-1" };
static const char *const patterns[] = { "a*", "al*", "ali*", "alice*", "a?i*", "*ce", "b*", "bo*",
                                        "bob?", "dev-*", "dev*", "d*", "de?-1*", "l*", "la*",
                                        "lab-*", "lab-1*", "lab-?", "m*", "mac-*", "*", "", "?*",
                                        "st*", "op*", "ali", "dev-1", "lab-", "a*e*", "l?b*" };
static const char *const extra_names[] = { "", "x", "alic", "ALICE", "lab-100", "dev-", "labx",
                                           "mac-10", "alice2", "bobby-1", "op-s", "d-1" };

static const char *request_name(struct rng *r, const char *const *own, size_t nown)
{
	if (chance(r, 45))
		return own[below(r, (uint32_t)nown)];
	switch (below(r, 3)) {
	case 0: return PICK(r, extra_names);
	case 1: return PICK(r, user_names);
	default: return chance(r, 50) ? PICK(r, group_names) : PICK(r, host_names);
	}
}

static void gen_names(struct rng *r, struct text *t, const char *const *names, size_t n)
{
	unsigned count = 1 + below(r, 4);
	bool brackets = count > 1 || chance(r, 50);
	put(t, brackets ? "[" : "");
	for (unsigned i = 0; i < count; i++)
		put(t, "%s\"%s\"", i ? ", " : "", names[below(r, (uint32_t)n)]);
	put(t, brackets ? "]" : "");
}

/* A test of a user, group or host name; negated with `negate` percent. */
static void gen_name_test(struct rng *r, struct text *t, unsigned negate)
{
	static const char *const subjects[] = { "user", "group", "host" };
	unsigned s = below(r, 3);
	const char *const *names = s == 0 ? user_names : s == 1 ? group_names : host_names;
	size_t n = 10;
	if (chance(r, negate)) {
		if (chance(r, 50)) {
			put(t, "%s not in ", subjects[s]);
			gen_names(r, t, names, n);
		} else {
			put(t, "%s != \"%s\"", subjects[s], names[below(r, (uint32_t)n)]);
		}
		return;
	}
	switch (below(r, 5)) {
	case 0: case 1: put(t, "%s in ", subjects[s]); gen_names(r, t, names, n); return;
	case 2: put(t, "%s == \"%s\"", subjects[s], names[below(r, (uint32_t)n)]); return;
	default: put(t, "%s matches \"%s\"", subjects[s], PICK(r, patterns)); return;
	}
}

static void gen_test(struct rng *r, struct text *t)
{
	unsigned kind = below(r, 100);
	if (kind < 75) {
		gen_name_test(r, t, 15);
		return;
	}
	if (kind < 85) {
		put(t, "session %s %s", chance(r, 70) ? "==" : "!=", chance(r, 50) ? "console" : "remote");
		return;
	}
	if (kind < 93) {
		unsigned from = below(r, 24), to = (from + 1 + below(r, 22)) % 24;
		put(t, "time in %02u:00..%02u:00", from, to);
		return;
	}
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	put(t, "day in %s..%s", PICK(r, days), PICK(r, days));
}

static void gen_expr(struct rng *r, struct text *t, int depth)
{
	unsigned kind = depth <= 0 ? 3 : below(r, 10);
	if (kind < 2) {
		put(t, "(");
		gen_expr(r, t, depth - 1);
		put(t, kind == 0 ? " and " : " or ");
		gen_expr(r, t, depth - 1);
		put(t, ")");
	} else if (kind == 2) {
		put(t, "not (");
		gen_expr(r, t, depth - 1);
		put(t, ")");
	} else {
		gen_test(r, t);
	}
}

/* A rule's condition: mostly selective (a name test, maybe narrowed), sometimes anything. */
static void gen_condition(struct rng *r, struct text *t)
{
	unsigned kind = below(r, 100);
	if (kind < 40) {
		gen_name_test(r, t, 5);
	} else if (kind < 60) {
		gen_name_test(r, t, 5);
		put(t, " and ");
		gen_expr(r, t, (int)below(r, 2));
	} else if (kind < 75) {
		gen_name_test(r, t, 5);
		put(t, " or ");
		gen_name_test(r, t, 5);
	} else if (kind < 82) {
		put(t, "not (");
		gen_name_test(r, t, 0);
		put(t, ") and ");
		gen_name_test(r, t, 0);
	} else {
		gen_expr(r, t, (int)below(r, 4));
	}
}

/* A random policy whose first 8 .. 47 rules have conditions; returns that count. */
static unsigned gen_policy(struct rng *r, struct text *t)
{
	unsigned nrules = 8 + below(r, 40);
	t->len = 0;
	put(t, TEST_PROFILE);
	for (unsigned i = 0; i < nrules; i++) {
		put(t, "rule \"r%u\" {\n    when ", i);
		gen_condition(r, t);
		put(t, "\n%s}\n", chance(r, 30) ? "    deny\n" : "");
	}
	if (chance(r, 10))
		put(t, "rule \"all\" {\n    deny \"all\"\n}\n");
	switch (below(r, 3)) {
	case 0: break;
	case 1: put(t, "otherwise deny\n"); break;
	default: put(t, "otherwise allow\n"); break;
	}
	return nrules;
}

static void random_request(struct rng *r, struct ep_request *q, const char **groups)
{
	memset(q, 0, sizeof(*q));
	q->user = request_name(r, user_names, 10);
	q->host = request_name(r, host_names, 10);
	unsigned kind = below(r, 100);
	q->ngroups = kind < 10 ? 0 : kind < 85 ? 1 + below(r, 4) : 40 + below(r, EP_MAX_GROUPS - 39);
	for (size_t i = 0; i < q->ngroups; i++)
		groups[i] = request_name(r, group_names, 10);
	q->groups = groups;
	q->session = chance(r, 50) ? EP_SESSION_CONSOLE : EP_SESSION_REMOTE;
	q->now = tuesday_at(0, 0) + (int64_t)below(r, 7 * 24) * 3600 + below(r, 3600);
}

static void test_random_indexed_policies_agree_with_reference(void **state)
{
	(void)state;
	struct rng r = { DIFF_SEED };
	struct text text = { 0 };
	static const char *groups[EP_MAX_GROUPS];
	unsigned long vm_tests = 0, ref_tests = 0, by_rule = 0, late = 0;

	for (unsigned p = 0; p < DIFF_POLICIES; p++) {
		struct policy_under_test t;
		unsigned nrules = gen_policy(&r, &text);
		compile_policy(&t, text.s, true);
		for (unsigned i = 0; i < DIFF_REQUESTS; i++) {
			struct ep_request q;
			unsigned n;
			random_request(&r, &q, groups);
			struct ep_decision d = decide(&t, &q, &n);
			vm_tests += n;
			ref_tests += last_ref_tests;
			by_rule += d.rule != EP_RULE_OTHERWISE;
			late += d.rule != EP_RULE_OTHERWISE && (unsigned)d.rule >= nrules / 2;
		}
		free_policy(&t);
	}
	free(text.s);
	printf("index differential: %u policies, %u requests each; %lu decided by a rule (%lu by one "
	       "in the second half); %lu tests run by the VM, %lu by the reference\n",
	       DIFF_POLICIES, DIFF_REQUESTS, by_rule, late, vm_tests, ref_tests);
	/* The index must have skipped something, and rules must have decided. */
	assert_true(vm_tests < ref_tests);
	assert_true(by_rule > DIFF_POLICIES * DIFF_REQUESTS / 4);
	assert_true(by_rule < DIFF_POLICIES * DIFF_REQUESTS);
	assert_true(late > DIFF_POLICIES * DIFF_REQUESTS / 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_indexed_program_loads),
		cmocka_unit_test(test_valid_indexed_program_decides),
		cmocka_unit_test(test_valid_index_variants_load),
		cmocka_unit_test(test_two_segments_in_sequence),

		cmocka_unit_test(test_index_set_zero_blocks),
		cmocka_unit_test(test_index_set_block_number_out_of_range),
		cmocka_unit_test(test_index_set_list_not_increasing),
		cmocka_unit_test(test_index_set_keys_not_an_earlier_strings_set),
		cmocka_unit_test(test_index_set_bounds),
		cmocka_unit_test(test_index_set_item_count),
		cmocka_unit_test(test_index_set_prefix_lengths),

		cmocka_unit_test(test_index_operand_not_an_index_set),
		cmocka_unit_test(test_index_blocks_do_not_match_code),
		cmocka_unit_test(test_index_inside_a_segment),
		cmocka_unit_test(test_index_with_values_on_the_stack),
		cmocka_unit_test(test_index_with_a_jump_pending),
		cmocka_unit_test(test_index_block_falls_through),
		cmocka_unit_test(test_index_jump_across_a_block_boundary),
		cmocka_unit_test(test_index_block_starts_inside_an_instruction),
		cmocka_unit_test(test_next_outside_a_segment),
		cmocka_unit_test(test_next_with_values_on_the_stack),

		cmocka_unit_test(test_regression_block_start_in_the_last_instruction),
		cmocka_unit_test(test_regression_segment_end_in_the_last_instruction),
		cmocka_unit_test(test_regression_index_bounds_read_past_the_buffer),

		cmocka_unit_test(test_indexed_policy_first_match),
		cmocka_unit_test(test_catch_all_after_indexed_rules),
		cmocka_unit_test(test_indexed_policy_runs_only_candidate_tests),
		cmocka_unit_test(test_many_groups),
		cmocka_unit_test(test_many_group_prefixes),
		cmocka_unit_test(test_random_indexed_policies_agree_with_reference),
	};
	return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
