/*
 * emit_c.h - the native C baseline backend (`--emit-c`), for benchmarks.
 */
#ifndef POLC_EMIT_C_H
#define POLC_EMIT_C_H

#include <stddef.h>

#include "policy.h"

/*
 * C source defining
 *   int polc_native_evaluate(const struct ep_request *, struct ep_decision *);
 * which decides like ep_evaluate(). The caller frees *text with free().
 */
void emit_c_source(const struct policy *p, unsigned char **text, size_t *len);

#endif
