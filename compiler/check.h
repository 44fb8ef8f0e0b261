/*
 * check.h - from AST to checked policy (compiler/policy.h).
 *
 * Reports every semantic error and warning it finds (it does not stop at the
 * first) and returns the policy only when there were no errors, so that no
 * backend ever sees unchecked input. Target-specific warnings are the
 * backends' business, not this step's.
 */
#ifndef POLC_CHECK_H
#define POLC_CHECK_H

#include "ast.h"
#include "diag.h"
#include "policy.h"

struct policy *check_policy(const struct ast_file *file, struct arena *arena,
                            struct diag_list *diags);


#endif
