/*
 * disasm.h - `polc disasm`: a verified program as readable text; also the
 * meaning of one instruction, for `polc eval --trace`.
 */
#ifndef POLC_DISASM_H
#define POLC_DISASM_H

#include <stdio.h>

#include "ep.h"

/* signer: who signed it and whether that was checked (compiler/cli.h). */
void disasm_print(FILE *out, const struct ep_program *prog, const char *signer);

/*
 * What the instruction at pc means, on one line without a newline
 * ("user in [\"guest\", \"kiosk\"]"); nothing for operand-less opcodes.
 * pc must start an instruction of prog (as ep_trace_fn reports it).
 */
void disasm_describe(FILE *out, const struct ep_program *prog, uint32_t pc);

#endif
