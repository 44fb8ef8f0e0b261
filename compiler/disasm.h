/*
 * disasm.h - `polc disasm`: a verified program as readable text.
 */
#ifndef POLC_DISASM_H
#define POLC_DISASM_H

#include <stdio.h>

#include "ep.h"

/* signer: who signed it ("signed by key ..."), or NULL for "unsigned". */
void disasm_print(FILE *out, const struct ep_program *prog, const char *signer);

#endif
