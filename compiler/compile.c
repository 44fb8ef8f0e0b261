/*
 * compile.c - runs the front-end steps in order and stops where one fails.
 * Adds no checks of its own; each step owns its diagnostics.
 */
#include "compile.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codegen.h"
#include "parse.h"

static int run_steps(struct compilation *c, const struct compile_options *opts)
{
	struct ast_file *ast = parse_source(&c->src, &c->arena, &c->diags);
	if (!ast)
		return -1;
	struct policy *p = check_policy(ast, &c->arena, &c->diags);
	if (!p)
		return -1;
	if (opts->target)
		opts->target->check(p, &c->diags);
	if (c->diags.errors)
		return -1;
	codegen_bytecode(p, &c->bytecode, &c->bytecode_len);
	c->policy = p;
	return 0;
}

int compile_source(struct compilation *c, struct source *src, const struct compile_options *opts)
{
	memset(c, 0, sizeof(*c));
	c->src = *src;
	memset(src, 0, sizeof(*src));
	diag_init(&c->diags, &c->arena, &c->src);
	c->diags.warnings_are_errors = opts->warnings_are_errors;
	int rc = run_steps(c, opts);
	diag_sort(&c->diags);
	return rc;
}

void compilation_free(struct compilation *c)
{
	arena_free(&c->arena);
	source_free(&c->src);
	free(c->bytecode);
	c->bytecode = NULL;
	c->policy = NULL;
}
