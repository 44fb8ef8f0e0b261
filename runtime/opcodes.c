/*
 * opcodes.c - the opcode table expanded into data (see opcodes.h).
 * Constant data only.
 */
#include "opcodes.h"

const struct ep_opcode_info ep_opcode_table[EP_OP_COUNT] = {
#define EP_OPCODE_ROW(name, operand, pops, pushes, doc) \
	{ #name, EP_OPERAND_##operand, pops, pushes, doc },
	EP_OPCODES(EP_OPCODE_ROW)
#undef EP_OPCODE_ROW
};
