/*
 * opcodes.h - the one table of libep's instructions.
 *
 * The compiler's code generator, the verifier, the evaluator and the
 * disassembler all expand EP_OPCODES, so they can never disagree about an
 * opcode's number, operand or stack effect. docs/bytecode.md documents the
 * same table.
 *
 * An instruction is one opcode byte followed by its operand, if any:
 *
 *     +--------+                     operand NONE
 *     | opcode |
 *     +--------+--------+            operand SESSIONS or DAYS (u8 mask)
 *     | opcode |  mask  |
 *     +--------+--------+--------+--------+--------+
 *     | opcode |        a (u32, little-endian)     |   STRING, STRSET,
 *     +--------+--------+--------+--------+--------+   TIMESET, DATESET,
 *                                                      JUMP, RULE, INDEX
 * Conditions run on a boolean stack: tests push, NOT/AND/OR combine,
 * JUMP_IF_FALSE pops, DECIDE ends evaluation with the stack empty. INDEX
 * and NEXT (with an empty stack) move between the blocks of an index
 * segment (runtime/index.h).
 *
 * OP(name, operand, pops, pushes, semantics)
 */
#ifndef EP_OPCODES_H
#define EP_OPCODES_H

#define EP_OPCODES(OP) \
	OP(USER_EQ,        STRING,   0, 1, "push user == S[a]") \
	OP(USER_IN,        STRSET,   0, 1, "push user in SET[a]") \
	OP(USER_MATCH,     STRING,   0, 1, "push user matches glob S[a]") \
	OP(GROUP_EQ,       STRING,   0, 1, "push (some group) == S[a]") \
	OP(GROUP_IN,       STRSET,   0, 1, "push (some group) in SET[a]") \
	OP(GROUP_MATCH,    STRING,   0, 1, "push (some group) matches glob S[a]") \
	OP(HOST_EQ,        STRING,   0, 1, "push host == S[a]") \
	OP(HOST_IN,        STRSET,   0, 1, "push host in SET[a]") \
	OP(HOST_MATCH,     STRING,   0, 1, "push host matches glob S[a]") \
	OP(SESSION_IN,     SESSIONS, 0, 1, "push (1 << session) & a") \
	OP(TIME_IN,        TIMESET,  0, 1, "push local minute-of-day in some range of SET[a]") \
	OP(DAY_IN,         DAYS,     0, 1, "push (1 << local weekday) & a") \
	OP(DATE_IN,        DATESET,  0, 1, "push local date in some range of SET[a]") \
	OP(NOT,            NONE,     1, 1, "x := pop; push !x") \
	OP(AND,            NONE,     2, 1, "y := pop; x := pop; push x && y") \
	OP(OR,             NONE,     2, 1, "y := pop; x := pop; push x || y") \
	OP(JUMP_IF_FALSE,  JUMP,     1, 0, "x := pop; if !x: pc := next + a (a >= 0)") \
	OP(DECIDE,         RULE,     0, 0, "return the decision of rule R[a] (stack empty)") \
	OP(INDEX,          INDEX,    0, 0, "enter the indexed segment SET[a]: go to its first candidate block") \
	OP(NEXT,           NONE,     0, 0, "go to the segment's next candidate block, or past its end")

enum ep_opcode {
#define EP_OPCODE_ENUM(name, operand, pops, pushes, doc) EP_OP_##name,
	EP_OPCODES(EP_OPCODE_ENUM)
#undef EP_OPCODE_ENUM
	EP_OP_COUNT
};

/* What an operand is, which fixes its size and how the verifier checks it. */
enum ep_operand {
	EP_OPERAND_NONE,      /* no operand */
	EP_OPERAND_SESSIONS,  /* u8 mask of enum ep_session bits (0..1) */
	EP_OPERAND_DAYS,      /* u8 mask of weekdays, Monday = bit 0 .. Sunday = bit 6 */
	EP_OPERAND_STRING,    /* u32 index into the string table */
	EP_OPERAND_STRSET,    /* u32 index of a sorted string set */
	EP_OPERAND_TIMESET,   /* u32 index of a time-range set */
	EP_OPERAND_DATESET,   /* u32 index of a date-range set */
	EP_OPERAND_JUMP,      /* i32 byte offset from the next instruction, never negative */
	EP_OPERAND_RULE,      /* u32 index into the rule table */
	EP_OPERAND_INDEX,     /* u32 index of an INDEX set describing a segment */
};

struct ep_opcode_info {
	const char *name;
	enum ep_operand operand;
	unsigned char pops, pushes;
	const char *doc;
};

/* Indexed by enum ep_opcode (runtime/opcodes.c). */
extern const struct ep_opcode_info ep_opcode_table[EP_OP_COUNT];

/* Bytes an operand occupies after the opcode byte (a constant expression). */
#define EP_OPERAND_BYTES(o) \
	((o) == EP_OPERAND_NONE ? 0 : ((o) == EP_OPERAND_SESSIONS || (o) == EP_OPERAND_DAYS) ? 1 : 4)

static inline unsigned ep_operand_size(enum ep_operand o)
{
	return EP_OPERAND_BYTES(o);
}

#endif
