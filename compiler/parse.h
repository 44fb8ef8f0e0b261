/*
 * parse.h - from source text to AST: drives the lexer into the lemon parser.
 *
 * parse_source() returns the tree, or NULL after reporting the first lexical
 * or syntax error (polc does not try to recover inside a statement).
 * Newlines end statements; the driver drops the newlines that the language
 * says continue a line (after `and`, `or`, `,`, `[`, `(`, `{`) and those
 * before a `}`. The helpers below are what grammar/parser.y's actions call.
 */
#ifndef POLC_PARSE_H
#define POLC_PARSE_H

#include "ast.h"

struct parse_state {
	const struct source *src;
	struct arena *arena;
	struct diag_list *diags;
	struct ast_file *file;
	struct ast_block **block_tail;
	struct ast_otherwise **otherwise_tail;
	int prev_kind;        /* last token given to the parser */
	struct token stmt_first;   /* first token of the statement being parsed */
	struct span last_span;     /* span of the last token given to the parser */
	bool failed;
};

/* Singly linked lists under construction, used as parser value types. */
struct stmt_list { struct ast_stmt *head, *tail; };
struct atom_list { struct ast_atom *head, *tail; };
struct item_list { struct ast_item *head, *tail; struct span span; };

struct ast_file *parse_source(const struct source *src, struct arena *arena,
                              struct diag_list *diags);

/* Called from grammar/parser.y. */
void parse_add_block(struct parse_state *ps, enum ast_block_kind kind, struct span kw,
                     struct token name, struct stmt_list body, struct span close);
void parse_add_otherwise(struct parse_state *ps, struct span kw, bool deny, struct token msg,
                         struct span end);
struct stmt_list stmt_list_append(struct stmt_list l, struct ast_stmt *s);
struct atom_list atom_list_append(struct parse_state *ps, struct atom_list l, struct token t);
struct item_list item_list_append(struct item_list l, struct ast_item *it);
struct ast_stmt *ast_setting(struct parse_state *ps, struct token name, struct atom_list atoms);
struct ast_stmt *ast_when(struct parse_state *ps, struct token kw, struct ast_expr *e);
struct ast_stmt *ast_deny(struct parse_state *ps, struct token kw, struct token msg);
struct ast_item *ast_item_new(struct parse_state *ps, struct token lo, const struct token *hi);
struct ast_expr *ast_binary(struct parse_state *ps, enum ast_expr_kind k, struct ast_expr *l,
                            struct ast_expr *r);
struct ast_expr *ast_not(struct parse_state *ps, struct token kw, struct ast_expr *e);
struct ast_expr *ast_test(struct parse_state *ps, struct token subject, enum ast_op op,
                          struct span op_span, struct item_list items, bool bracketed);
void parse_syntax_error(struct parse_state *ps, const struct token *tok);
void parse_stack_overflow(struct parse_state *ps);

#endif
