/*
 * compile.h - the compiler as one call: text -> tokens -> AST -> checked
 * policy -> target checks -> bytecode.
 *
 * Used by the CLI and by the fuzz target, so both run exactly the same
 * pipeline. A compilation owns its arena, source, diagnostics and
 * bytecode; its policy and bytecode are set only when no error was
 * reported.
 */
#ifndef POLC_COMPILE_H
#define POLC_COMPILE_H

#include "diag.h"
#include "policy.h"
#include "target.h"

struct compilation {
	struct arena arena;
	struct source src;
	struct diag_list diags;
	struct policy *policy;
	unsigned char *bytecode;           /* unsigned .epb (malloc'd) */
	size_t bytecode_len;
};

struct compile_options {
	const struct target *target;       /* NULL: no target checks */
	bool warnings_are_errors;
};

/* Takes ownership of a loaded source. Returns 0 when the policy is usable. */
int compile_source(struct compilation *c, struct source *src, const struct compile_options *opts);
void compilation_free(struct compilation *c);

#endif
