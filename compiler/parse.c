/*
 * parse.c - drives grammar/lexer.re into grammar/parser.y and builds the AST.
 *
 * Owns the newline rules of the language (which newlines end a statement)
 * and the wording of syntax errors. Stops at the first lexical or syntax
 * error; it never hands a partial tree to the checker.
 */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "suggest.h"

/* lemon's generated interface (build/gen/parser.c). */
void *PolcParseAlloc(void *(*alloc)(size_t), struct parse_state *ps);
void PolcParse(void *parser, int kind, struct token tok);
void PolcParseFree(void *parser, void (*dealloc)(void *));

void parse_add_block(struct parse_state *ps, enum ast_block_kind kind, struct span kw,
                     struct token name, struct stmt_list body, struct span close)
{
	struct ast_block *b = ARENA_NEW(ps->arena, struct ast_block);
	b->kind = kind;
	b->keyword = kw;
	b->name = name;
	b->stmts = body.head;
	b->span = span_join(kw, close);
	*ps->block_tail = b;
	ps->block_tail = &b->next;
}

void parse_add_otherwise(struct parse_state *ps, struct span kw, bool deny, struct token msg,
                         struct span end)
{
	struct ast_otherwise *o = ARENA_NEW(ps->arena, struct ast_otherwise);
	o->deny = deny;
	o->message = msg;
	o->span = span_join(kw, end);
	*ps->otherwise_tail = o;
	ps->otherwise_tail = &o->next;
}

struct stmt_list stmt_list_append(struct stmt_list l, struct ast_stmt *s)
{
	if (l.tail)
		l.tail->next = s;
	else
		l.head = s;
	l.tail = s;
	return l;
}

struct atom_list atom_list_append(struct parse_state *ps, struct atom_list l, struct token t)
{
	struct ast_atom *a = ARENA_NEW(ps->arena, struct ast_atom);
	a->tok = t;
	if (l.tail)
		l.tail->next = a;
	else
		l.head = a;
	l.tail = a;
	return l;
}

struct item_list item_list_append(struct item_list l, struct ast_item *it)
{
	if (l.tail)
		l.tail->next = it;
	else
		l.head = it;
	l.tail = it;
	return l;
}

struct ast_stmt *ast_setting(struct parse_state *ps, struct token name, struct atom_list atoms)
{
	struct ast_stmt *s = ARENA_NEW(ps->arena, struct ast_stmt);
	s->kind = AST_STMT_SETTING;
	s->name = name;
	s->atoms = atoms.head;
	s->span = atoms.tail ? span_join(name.span, atoms.tail->tok.span) : name.span;
	return s;
}

struct ast_stmt *ast_when(struct parse_state *ps, struct token kw, struct ast_expr *e)
{
	struct ast_stmt *s = ARENA_NEW(ps->arena, struct ast_stmt);
	s->kind = AST_STMT_WHEN;
	s->name = kw;
	s->when = e;
	s->span = span_join(kw.span, e->span);
	return s;
}

struct ast_stmt *ast_deny(struct parse_state *ps, struct token kw, struct token msg)
{
	struct ast_stmt *s = ARENA_NEW(ps->arena, struct ast_stmt);
	s->kind = AST_STMT_DENY;
	s->name = kw;
	s->message = msg;
	s->span = msg.kind ? span_join(kw.span, msg.span) : kw.span;
	return s;
}

struct ast_item *ast_item_new(struct parse_state *ps, struct token lo, const struct token *hi)
{
	struct ast_item *it = ARENA_NEW(ps->arena, struct ast_item);
	it->lo = lo;
	it->span = lo.span;
	if (hi) {
		it->hi = *hi;
		it->is_range = true;
		it->span = span_join(lo.span, hi->span);
	}
	return it;
}

struct ast_expr *ast_binary(struct parse_state *ps, enum ast_expr_kind k, struct ast_expr *l,
                            struct ast_expr *r)
{
	struct ast_expr *e = ARENA_NEW(ps->arena, struct ast_expr);
	e->kind = k;
	e->lhs = l;
	e->rhs = r;
	e->span = span_join(l->span, r->span);
	return e;
}

struct ast_expr *ast_not(struct parse_state *ps, struct token kw, struct ast_expr *x)
{
	struct ast_expr *e = ARENA_NEW(ps->arena, struct ast_expr);
	e->kind = AST_EXPR_NOT;
	e->lhs = x;
	e->span = span_join(kw.span, x->span);
	return e;
}

struct ast_expr *ast_test(struct parse_state *ps, struct token subject, enum ast_op op,
                          struct span op_span, struct item_list items, bool bracketed)
{
	struct ast_expr *e = ARENA_NEW(ps->arena, struct ast_expr);
	e->kind = AST_EXPR_TEST;
	e->subject = subject;
	e->op = op;
	e->op_span = op_span;
	e->items = items.head;
	e->bracketed = bracketed;
	e->span = span_join(subject.span, items.span);
	return e;
}

static const char *const statement_keywords[] = {
	"profile", "elevation", "rule", "otherwise", "when", "deny",
};

static bool starts_statement(int prev_kind)
{
	return prev_kind == TK_NL || prev_kind == TK_LBRACE || prev_kind == LEX_EOF;
}

static const char *const rule_keywords[] = { "when", "deny" };

/* A misspelt `when` or `deny` parses as a setting name until the next token fails. */
static bool report_misspelt_statement(struct parse_state *ps)
{
	const struct token *first = &ps->stmt_first;
	if (first->kind != TK_WORD)
		return false;
	const char *best = suggest_closest(first->v.str, rule_keywords, 2);
	if (!best)
		return false;
	struct diag *d = diag_report(ps->diags, DIAG_E006, first->span, "unknown keyword '%s'",
	                             first->v.str);
	diag_help(ps->diags, d, "did you mean '%s'?", best);
	return true;
}

static void report_bad_otherwise(struct parse_state *ps, const struct token *tok)
{
	static const char *const verdicts[] = { "allow", "deny" };
	struct diag *d = diag_report(ps->diags, DIAG_E005, tok->span, "'otherwise' must be followed by 'allow' or 'deny'");
	const char *best = tok->kind == TK_WORD ? suggest_closest(tok->v.str, verdicts, 2) : NULL;
	if (best)
		diag_help(ps->diags, d, "did you mean '%s'?", best);
	else
		diag_help(ps->diags, d, "write 'otherwise allow' or 'otherwise deny \"message\"'");
}

void parse_syntax_error(struct parse_state *ps, const struct token *tok)
{
	struct diag *d;

	if (ps->failed)
		return;
	ps->failed = true;
	if (ps->prev_kind == TK_OTHERWISE) {
		report_bad_otherwise(ps, tok);
		return;
	}
	if (!starts_statement(ps->prev_kind) && report_misspelt_statement(ps))
		return;
	if (tok->kind == TK_WORD && starts_statement(ps->prev_kind)) {
		d = diag_report(ps->diags, DIAG_E006, tok->span, "unknown keyword '%s'", tok->v.str);
		const char *best = suggest_closest(tok->v.str, statement_keywords,
		                                   sizeof(statement_keywords) / sizeof(*statement_keywords));
		if (best)
			diag_help(ps->diags, d, "did you mean '%s'?", best);
		else
			diag_help(ps->diags, d, "a policy is made of 'profile', 'elevation' and 'rule' blocks and an 'otherwise' line");
		return;
	}
	if (tok->kind == TK_WORD || tok->kind == TK_STRING)
		d = diag_report(ps->diags, DIAG_E005, tok->span, "unexpected %s '%.*s'",
		                token_kind_name(tok->kind), (int)tok->span.len,
		                ps->src->text + tok->span.off);
	else
		d = diag_report(ps->diags, DIAG_E005, tok->span, "unexpected %s",
		                token_kind_name(tok->kind));
	if (tok->kind == LEX_EOF)
		diag_help(ps->diags, d, "is a '}' missing?");
	else if (tok->kind == TK_NL && (ps->prev_kind == TK_STRING || ps->prev_kind == TK_ELEVATION) &&
	         ps->stmt_first.kind != TK_WORD)
		diag_help(ps->diags, d, "a block's '{' goes on the line of its keyword: rule \"name\" {");
	else if (tok->kind == TK_LBRACE)
		diag_help(ps->diags, d, "a block's '{' goes on the line of its keyword: rule \"name\" {");
}

void parse_stack_overflow(struct parse_state *ps)
{
	if (ps->failed)
		return;
	ps->failed = true;
	diag_report(ps->diags, DIAG_E005, ps->last_span, "policy nested too deeply");
}

/* A newline after these tokens continues the statement on the next line. */
static bool continues_line(int kind)
{
	switch (kind) {
	case TK_NL: case TK_AND: case TK_OR: case TK_COMMA:
	case TK_LBRACKET: case TK_LPAREN: case TK_LBRACE: case LEX_EOF:
		return true;
	default:
		return false;
	}
}

static void feed(struct parse_state *ps, void *parser, const struct token *tok)
{
	if (starts_statement(ps->prev_kind))
		ps->stmt_first = *tok;
	ps->last_span = tok->span;
	PolcParse(parser, tok->kind, *tok);
	ps->prev_kind = tok->kind;
}

struct ast_file *parse_source(const struct source *src, struct arena *arena,
                              struct diag_list *diags)
{
	struct parse_state ps = { .src = src, .arena = arena, .diags = diags, .prev_kind = LEX_EOF };
	struct lexer lx;
	struct token tok, pending_nl;
	bool have_pending_nl = false;

	ps.file = ARENA_NEW(arena, struct ast_file);
	ps.block_tail = &ps.file->blocks;
	ps.otherwise_tail = &ps.file->otherwise;
	lexer_init(&lx, src, arena, diags);
	void *parser = PolcParseAlloc(malloc, &ps);
	if (!parser)
		abort();
	while (!ps.failed) {
		int kind = lexer_next(&lx, &tok);
		if (kind == LEX_ERROR) {
			ps.failed = true;
			break;
		}
		if (kind == TK_NL) {
			if (!continues_line(ps.prev_kind) && !have_pending_nl) {
				pending_nl = tok;
				have_pending_nl = true;
			}
			continue;
		}
		if (have_pending_nl && kind != TK_RBRACE)
			feed(&ps, parser, &pending_nl);
		if (kind == LEX_EOF && !ps.failed && !have_pending_nl && ps.prev_kind != LEX_EOF &&
		    ps.prev_kind != TK_NL) {
			struct token nl = { .kind = TK_NL, .span = tok.span };
			feed(&ps, parser, &nl);
		}
		have_pending_nl = false;
		if (!ps.failed)
			feed(&ps, parser, &tok);
		if (kind == LEX_EOF)
			break;
	}
	PolcParseFree(parser, free);
	return ps.failed ? NULL : ps.file;
}
