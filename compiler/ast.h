/*
 * ast.h - the syntax tree the parser builds (grammar/parser.y).
 *
 * The tree is deliberately loose: blocks hold any statements and settings
 * hold any sequence of value atoms, so that compiler/check.c can say
 * precisely what is wrong ("unknown setting 'duraton'", "'when' is only
 * allowed in a rule") instead of the parser saying "syntax error".
 * All nodes live in the compilation's arena; lists are singly linked.
 */
#ifndef POLC_AST_H
#define POLC_AST_H

#include "lexer.h"

/* One value word of a setting: `10`, `per`, `month`, `"text"`, `,`, `or`. */
struct ast_atom {
	struct ast_atom *next;
	struct token tok;
};

enum ast_op { AST_OP_EQ, AST_OP_NE, AST_OP_IN, AST_OP_NOT_IN, AST_OP_MATCHES };

/* An operand of a condition, possibly a range `mon..fri`, `22:00..06:00`. */
struct ast_item {
	struct ast_item *next;
	struct token lo;
	struct token hi;           /* valid when is_range */
	bool is_range;
	struct span span;
};

enum ast_expr_kind { AST_EXPR_AND, AST_EXPR_OR, AST_EXPR_NOT, AST_EXPR_TEST };

struct ast_expr {
	enum ast_expr_kind kind;
	struct span span;
	struct ast_expr *lhs, *rhs;        /* AND, OR: both; NOT: lhs */
	struct token subject;              /* TEST: `user`, `group`, ... (a word) */
	enum ast_op op;                    /* TEST */
	struct ast_item *items;            /* TEST: one or more */
	bool bracketed;                    /* TEST: items were written as [ ... ] */
	struct span op_span;
};

enum ast_stmt_kind { AST_STMT_SETTING, AST_STMT_WHEN, AST_STMT_DENY };

struct ast_stmt {
	struct ast_stmt *next;
	enum ast_stmt_kind kind;
	struct span span;                  /* the whole statement */
	struct token name;                 /* SETTING: the setting word; else the keyword */
	struct ast_atom *atoms;            /* SETTING */
	struct ast_expr *when;             /* WHEN */
	struct token message;              /* DENY: kind LEX_EOF when absent */
};

enum ast_block_kind { AST_BLOCK_PROFILE, AST_BLOCK_ELEVATION, AST_BLOCK_RULE };

struct ast_block {
	struct ast_block *next;
	enum ast_block_kind kind;
	struct span keyword;               /* `profile`, `elevation`, `rule` */
	struct token name;                 /* kind LEX_EOF when absent */
	struct ast_stmt *stmts;
	struct span span;
};

struct ast_otherwise {
	struct ast_otherwise *next;
	bool deny;
	struct token message;              /* kind LEX_EOF when absent */
	struct span span;
};

struct ast_file {
	struct ast_block *blocks;          /* in source order */
	struct ast_otherwise *otherwise;   /* usually zero or one */
};

#endif
