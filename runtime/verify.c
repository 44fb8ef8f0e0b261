/*
 * verify.c - proves a program's code safe in one linear pass, once, before
 * it can ever run.
 *
 * Checked for every instruction: a known opcode, its operand inside the
 * code, every index in range and of the right kind, masks without undefined
 * bits, jumps forward only and onto an instruction boundary, the stack
 * depth within [0, EP_STACK_MAX] and equal on every path into an
 * instruction, nothing unreachable, every path ending in DECIDE with an
 * empty stack, index segments (runtime/index.h) whose blocks are entered
 * only through INDEX and NEXT, and set scans that together read no more
 * items than the file holds. Forward-only jumps make one pass enough and
 * bound evaluation time by the size of the file. Uses a fixed-size table
 * of pending jump targets: no allocation.
 */
#include <string.h>

#include "index.h"
#include "internal.h"
#include "opcodes.h"

struct pending_jump {
	uint32_t target;       /* code offset the jump lands on */
	uint32_t depth;        /* stack depth it arrives with */
};

struct verifier {
	const struct ep_program *prog;
	struct ep_error *err;
	struct pending_jump pending[EP_MAX_PENDING_JUMPS];   /* sorted by target */
	unsigned npending;
	uint32_t pc;
	uint32_t depth;
	bool reachable;
	uint64_t scanned;          /* set items TIME_IN and DATE_IN will look at, in all */
	bool in_segment;           /* between an INDEX and its segment's end */
	struct ep_index ix;
	uint32_t next_block;       /* the block whose start comes next; nblocks = the end */
};

static int fail_at_pc(struct verifier *v, enum ep_status status)
{
	int rc = ep_fail(v->err, status,
	                 (uint32_t)(v->prog->code - v->prog->bytes) + v->pc);
	if (v->err) {
		v->err->has_pc = true;
		v->err->pc = v->pc;
	}
	return rc;
}

/* Records a jump's landing point, merging with an earlier jump to it. */
static int add_pending(struct verifier *v, uint32_t target, uint32_t depth)
{
	unsigned i = 0;
	while (i < v->npending && v->pending[i].target < target)
		i++;
	if (i < v->npending && v->pending[i].target == target)
		return v->pending[i].depth == depth ? 0 : fail_at_pc(v, EP_STACK_MISMATCH);
	if (v->npending == EP_MAX_PENDING_JUMPS)
		return fail_at_pc(v, EP_TOO_MANY_JUMPS);
	memmove(&v->pending[i + 1], &v->pending[i], (v->npending - i) * sizeof(v->pending[0]));
	v->pending[i] = (struct pending_jump){ target, depth };
	v->npending++;
	return 0;
}

/*
 * Index blocks are entered only by INDEX and NEXT, with an empty stack: at
 * each block start (and the segment end) nothing may fall through and no
 * jump may still be pending.
 */
static int enter_index_block(struct verifier *v)
{
	if (!v->in_segment)
		return 0;
	uint32_t n = v->next_block;
	uint32_t boundary = n < v->ix.nblocks ? ep_read_u32(v->ix.blocks + 4 * n) : v->ix.end;
	if (v->pc < boundary)
		return 0;
	if (v->pc > boundary) {
		v->pc = boundary;   /* report where the block should have started */
		return fail_at_pc(v, EP_INDEX_BOUNDARY_MID);
	}
	if (v->reachable)
		return fail_at_pc(v, EP_INDEX_FALLTHROUGH);
	if (v->npending)
		return fail_at_pc(v, EP_INDEX_JUMP_ACROSS);
	v->reachable = true;
	v->depth = 0;
	v->next_block++;
	v->in_segment = n < v->ix.nblocks;
	return 0;
}

/* Joins the jumps that land here with the fall-through path. */
static int join_paths(struct verifier *v)
{
	int rc = enter_index_block(v);
	if (rc < 0)
		return rc;
	if (v->npending && v->pending[0].target < v->pc) {
		v->pc = v->pending[0].target;
		return fail_at_pc(v, EP_JUMP_MID_INSN);
	}
	if (v->npending && v->pending[0].target == v->pc) {
		if (v->reachable && v->depth != v->pending[0].depth)
			return fail_at_pc(v, EP_STACK_MISMATCH);
		v->depth = v->pending[0].depth;
		v->reachable = true;
		v->npending--;
		memmove(&v->pending[0], &v->pending[1], v->npending * sizeof(v->pending[0]));
	}
	return v->reachable ? 0 : fail_at_pc(v, EP_UNREACHABLE);
}

/*
 * TIME_IN and DATE_IN scan their set. All of them together may scan at
 * most as many items as the file holds, so evaluation stays linear in the
 * file's size however often a set is shared.
 */
static int charge_scan(struct verifier *v, uint32_t set)
{
	const struct ep_program *prog = v->prog;
	v->scanned += ep_read_u32(prog->set_index + 12 * set + 8);
	uint64_t total = (prog->section[EP_SECTION_SETS].size - 8 - 12ull * prog->nsets) / 4;
	return v->scanned > total ? fail_at_pc(v, EP_TOO_COSTLY) : 0;
}

static int check_operand(struct verifier *v, enum ep_operand kind, const unsigned char *operand,
                         uint32_t next_pc)
{
	const struct ep_program *prog = v->prog;
	uint32_t a = kind == EP_OPERAND_NONE ? 0
	           : ep_operand_size(kind) == 1 ? operand[0] : ep_read_u32(operand);

	switch (kind) {
	case EP_OPERAND_NONE:
		return 0;
	case EP_OPERAND_SESSIONS:
		return a & ~3u ? fail_at_pc(v, EP_BAD_MASK) : 0;
	case EP_OPERAND_DAYS:
		return a & ~0x7Fu ? fail_at_pc(v, EP_BAD_MASK) : 0;
	case EP_OPERAND_STRING:
		return a >= prog->nstrings ? fail_at_pc(v, EP_BAD_STRING_INDEX) : 0;
	case EP_OPERAND_STRSET:
		return ep_set_is(prog, a, EP_SET_STRINGS) ? 0 : fail_at_pc(v, EP_BAD_SET_INDEX);
	case EP_OPERAND_TIMESET:
		return ep_set_is(prog, a, EP_SET_TIMES) ? charge_scan(v, a) : fail_at_pc(v, EP_BAD_SET_INDEX);
	case EP_OPERAND_DATESET:
		return ep_set_is(prog, a, EP_SET_DATES) ? charge_scan(v, a) : fail_at_pc(v, EP_BAD_SET_INDEX);
	case EP_OPERAND_RULE:
		return a >= prog->nrules ? fail_at_pc(v, EP_BAD_RULE_INDEX) : 0;
	case EP_OPERAND_INDEX:
		return ep_set_is(prog, a, EP_SET_INDEX) ? 0 : fail_at_pc(v, EP_BAD_SET_INDEX);
	case EP_OPERAND_JUMP: {
		int32_t off = (int32_t)a;
		if (off < 0)
			return fail_at_pc(v, EP_BACKWARD_JUMP);
		uint64_t target = (uint64_t)next_pc + (uint32_t)off;
		if (target >= prog->code_size)
			return fail_at_pc(v, EP_JUMP_OUT_OF_RANGE);
		return 0;
	}
	}
	return fail_at_pc(v, EP_BAD_OPCODE);
}

/* INDEX: a segment starts here, its blocks laid out in order after it. */
static int begin_segment(struct verifier *v, uint32_t set, uint32_t next_pc)
{
	if (v->in_segment)
		return fail_at_pc(v, EP_INDEX_NESTED);
	if (v->depth != 0)
		return fail_at_pc(v, EP_STACK_NOT_EMPTY);
	if (v->npending)
		return fail_at_pc(v, EP_INDEX_JUMP_ACROSS);
	ep_index_read(v->prog, set, false, &v->ix);
	uint32_t prev = 0;
	for (uint32_t b = 0; b < v->ix.nblocks; b++) {
		uint32_t at = ep_read_u32(v->ix.blocks + 4 * b);
		if (b ? at <= prev : at != next_pc)
			return fail_at_pc(v, EP_BAD_INDEX);
		prev = at;
	}
	if (v->ix.end <= prev || v->ix.end >= v->prog->code_size)
		return fail_at_pc(v, EP_BAD_INDEX);
	v->in_segment = true;
	v->next_block = 0;
	v->reachable = false;
	return 0;
}

static int apply_stack_effect(struct verifier *v, const struct ep_opcode_info *info)
{
	if (v->depth < info->pops)
		return fail_at_pc(v, EP_STACK_UNDERFLOW);
	v->depth = v->depth - info->pops + info->pushes;
	if (v->depth > EP_STACK_MAX)
		return fail_at_pc(v, EP_STACK_OVERFLOW);
	return 0;
}

static int verify_instruction(struct verifier *v, uint32_t *next_pc)
{
	const struct ep_program *prog = v->prog;
	uint8_t op = prog->code[v->pc];
	int rc;

	if (op >= EP_OP_COUNT)
		return fail_at_pc(v, EP_BAD_OPCODE);
	const struct ep_opcode_info *info = &ep_opcode_table[op];
	uint32_t size = 1 + ep_operand_size(info->operand);
	if ((uint64_t)v->pc + size > prog->code_size)
		return fail_at_pc(v, EP_TRUNCATED_INSN);
	*next_pc = v->pc + size;
	if ((rc = check_operand(v, info->operand, prog->code + v->pc + 1, *next_pc)) < 0 ||
	    (rc = apply_stack_effect(v, info)) < 0)
		return rc;
	if (op == EP_OP_JUMP_IF_FALSE) {
		uint32_t target = *next_pc + ep_read_u32(prog->code + v->pc + 1);
		return add_pending(v, target, v->depth);
	}
	if (op == EP_OP_DECIDE) {
		if (v->depth != 0)
			return fail_at_pc(v, EP_STACK_NOT_EMPTY);
		v->reachable = false;
	}
	if (op == EP_OP_INDEX)
		return begin_segment(v, ep_read_u32(prog->code + v->pc + 1), *next_pc);
	if (op == EP_OP_NEXT) {
		if (!v->in_segment)
			return fail_at_pc(v, EP_NEXT_OUTSIDE_INDEX);
		if (v->depth != 0)
			return fail_at_pc(v, EP_STACK_NOT_EMPTY);
		v->reachable = false;
	}
	return 0;
}

int ep_verify_code(struct ep_program *prog, struct ep_error *err)
{
	struct verifier v = { .prog = prog, .err = err, .reachable = true };
	uint32_t max_depth = 0;
	int rc;

	while (v.pc < prog->code_size) {
		uint32_t next_pc = 0;
		if ((rc = join_paths(&v)) < 0 || (rc = verify_instruction(&v, &next_pc)) < 0)
			return rc;
		if (v.depth > max_depth)
			max_depth = v.depth;
		v.pc = next_pc;
	}
	if (v.in_segment) {
		/* A block start or the segment's end fell inside the last instruction. */
		uint32_t n = v.next_block;
		v.pc = n < v.ix.nblocks ? ep_read_u32(v.ix.blocks + 4 * n) : v.ix.end;
		return fail_at_pc(&v, EP_INDEX_BOUNDARY_MID);
	}
	if (v.npending) {
		v.pc = v.pending[0].target;
		return fail_at_pc(&v, EP_JUMP_MID_INSN);
	}
	if (v.reachable)
		return fail_at_pc(&v, EP_NO_RETURN);
	prog->max_stack = max_depth;
	return 0;
}
