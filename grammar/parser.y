/*
 * parser.y - the grammar of polc's policy language (lemon, LALR(1)).
 *
 * Builds the loose AST of compiler/ast.h; it knows the shape of blocks,
 * statements and conditions, but not which setting names or subjects exist:
 * compiler/check.c decides that, with better messages than a parser could.
 * Every value lives in the compilation's arena, so no %destructor is needed.
 * Newlines reach this grammar already filtered by compiler/parse.c.
 */

%name PolcParse
%token_prefix TK_
%token_type {struct token}
%extra_context {struct parse_state *ps}
%start_symbol file

%include {
#include <assert.h>
#include <stdlib.h>
#include "parse.h"
}

%syntax_error { parse_syntax_error(ps, &yyminor); }
%parse_failure { ps->failed = true; }
%stack_overflow { parse_stack_overflow(ps); }

/* Fixes the token numbering; the lexer returns these TK_* codes. */
%token PROFILE ELEVATION RULE OTHERWISE WHEN DENY ALLOW.
%token AND OR NOT IN MATCHES.
%token WORD NUMBER DURATION STRING TIME DATE.
%token EQ NE LPAREN RPAREN LBRACKET RBRACKET LBRACE RBRACE COMMA DOTDOT NL.

%left OR.
%left AND.
%right NOT.

file ::= decls.
decls ::= .
decls ::= decls decl NL.

decl ::= PROFILE(K) optname(N) LBRACE body(B) RBRACE(C).
	{ parse_add_block(ps, AST_BLOCK_PROFILE, K.span, N, B, C.span); }
decl ::= ELEVATION(K) optname(N) LBRACE body(B) RBRACE(C).
	{ parse_add_block(ps, AST_BLOCK_ELEVATION, K.span, N, B, C.span); }
decl ::= RULE(K) optname(N) LBRACE body(B) RBRACE(C).
	{ parse_add_block(ps, AST_BLOCK_RULE, K.span, N, B, C.span); }
decl ::= OTHERWISE(K) ALLOW(A).
	{ struct token none = { .kind = 0 }; parse_add_otherwise(ps, K.span, false, none, A.span); }
decl ::= OTHERWISE(K) DENY(D).
	{ struct token none = { .kind = 0 }; parse_add_otherwise(ps, K.span, true, none, D.span); }
decl ::= OTHERWISE(K) DENY STRING(M).
	{ parse_add_otherwise(ps, K.span, true, M, M.span); }

%type optname {struct token}
optname(N) ::= .            { N.kind = 0; N.span.off = 0; N.span.len = 0; }
optname(N) ::= STRING(S).   { N = S; }

%type body {struct stmt_list}
body(B) ::= .               { B.head = B.tail = NULL; }
body(B) ::= stmts(S).       { B = S; }

%type stmts {struct stmt_list}
stmts(L) ::= stmt(S).                { L.head = L.tail = NULL; L = stmt_list_append(L, S); }
stmts(L) ::= stmts(P) NL stmt(S).    { L = stmt_list_append(P, S); }

%type stmt {struct ast_stmt *}
stmt(S) ::= WORD(N) atoms(A).        { S = ast_setting(ps, N, A); }
stmt(S) ::= WHEN(K) expr(E).         { S = ast_when(ps, K, E); }
stmt(S) ::= DENY(K).                 { struct token none = { .kind = 0 }; S = ast_deny(ps, K, none); }
stmt(S) ::= DENY(K) STRING(M).       { S = ast_deny(ps, K, M); }

%type atoms {struct atom_list}
atoms(L) ::= .                       { L.head = L.tail = NULL; }
atoms(L) ::= atoms(P) atom(T).       { L = atom_list_append(ps, P, T); }

%type atom {struct token}
atom(T) ::= WORD(X).      { T = X; }
atom(T) ::= NUMBER(X).    { T = X; }
atom(T) ::= DURATION(X).  { T = X; }
atom(T) ::= STRING(X).    { T = X; }
atom(T) ::= TIME(X).      { T = X; }
atom(T) ::= DATE(X).      { T = X; }
atom(T) ::= OR(X).        { T = X; }
atom(T) ::= NOT(X).       { T = X; }
atom(T) ::= ALLOW(X).     { T = X; }
atom(T) ::= COMMA(X).     { T = X; }

%type expr {struct ast_expr *}
expr(E) ::= expr(L) OR expr(R).          { E = ast_binary(ps, AST_EXPR_OR, L, R); }
expr(E) ::= expr(L) AND expr(R).         { E = ast_binary(ps, AST_EXPR_AND, L, R); }
expr(E) ::= NOT(K) expr(X).              { E = ast_not(ps, K, X); }
expr(E) ::= LPAREN(O) expr(X) RPAREN(C). { E = X; E->span = span_join(O.span, C.span); }
expr(E) ::= WORD(S) EQ(O) operand(V).
	{ struct item_list l = { NULL, NULL, V->span }; E = ast_test(ps, S, AST_OP_EQ, O.span, item_list_append(l, V), false); }
expr(E) ::= WORD(S) NE(O) operand(V).
	{ struct item_list l = { NULL, NULL, V->span }; E = ast_test(ps, S, AST_OP_NE, O.span, item_list_append(l, V), false); }
expr(E) ::= WORD(S) MATCHES(O) operand(V).
	{ struct item_list l = { NULL, NULL, V->span }; E = ast_test(ps, S, AST_OP_MATCHES, O.span, item_list_append(l, V), false); }
expr(E) ::= WORD(S) IN(O) item(V).
	{ struct item_list l = { NULL, NULL, V->span }; E = ast_test(ps, S, AST_OP_IN, O.span, item_list_append(l, V), false); }
expr(E) ::= WORD(S) NOT(N) IN(O) item(V).
	{ struct item_list l = { NULL, NULL, V->span }; E = ast_test(ps, S, AST_OP_NOT_IN, span_join(N.span, O.span), item_list_append(l, V), false); }
expr(E) ::= WORD(S) IN(O) LBRACKET(A) items(L) RBRACKET(B).
	{ L.span = span_join(A.span, B.span); E = ast_test(ps, S, AST_OP_IN, O.span, L, true); }
expr(E) ::= WORD(S) NOT(N) IN(O) LBRACKET(A) items(L) RBRACKET(B).
	{ L.span = span_join(A.span, B.span); E = ast_test(ps, S, AST_OP_NOT_IN, span_join(N.span, O.span), L, true); }

%type items {struct item_list}
items(L) ::= item(I).                  { L.head = L.tail = NULL; L = item_list_append(L, I); }
items(L) ::= items(P) COMMA item(I).   { L = item_list_append(P, I); }

%type item {struct ast_item *}
item(I) ::= operand(V).                          { I = V; }
item(I) ::= operand(V) DOTDOT operand(W).        { I = ast_item_new(ps, V->lo, &W->lo); }

%type operand {struct ast_item *}
operand(I) ::= STRING(T).    { I = ast_item_new(ps, T, NULL); }
operand(I) ::= NUMBER(T).    { I = ast_item_new(ps, T, NULL); }
operand(I) ::= WORD(T).      { I = ast_item_new(ps, T, NULL); }
operand(I) ::= TIME(T).      { I = ast_item_new(ps, T, NULL); }
operand(I) ::= DATE(T).      { I = ast_item_new(ps, T, NULL); }
operand(I) ::= DURATION(T).  { I = ast_item_new(ps, T, NULL); }
