/*
 * codegen.h - the bytecode backend: checked policy -> unsigned .epb bytes.
 *
 * Every checked policy compiles; the output is exactly what libep's
 * verifier accepts. The caller frees *out with free().
 */
#ifndef POLC_CODEGEN_H
#define POLC_CODEGEN_H

#include <stddef.h>

#include "policy.h"

void codegen_bytecode(const struct policy *p, unsigned char **out, size_t *len);
/* Stack slots the condition needs (the compiler's own bound check). */
unsigned codegen_cond_depth(const struct cond *k);

#endif
