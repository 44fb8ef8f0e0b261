/*
 * codegen.h - the bytecode backend: checked policy -> unsigned .epb bytes.
 *
 * The output is exactly what libep's verifier accepts; a policy whose
 * condition would need more than EP_STACK_MAX stack slots is refused with
 * E034 instead. The caller frees *out with free().
 */
#ifndef POLC_CODEGEN_H
#define POLC_CODEGEN_H

#include <stddef.h>

#include "diag.h"
#include "policy.h"

int codegen_bytecode(const struct policy *p, struct diag_list *diags, unsigned char **out,
                     size_t *len);
/* Stack slots the condition needs (the compiler's own bound check). */
unsigned codegen_cond_depth(const struct cond *k);

#endif
