/*
 * test_parser.c - compiler/parse.c and grammar/parser.y: the AST shapes
 * parse_source() builds (blocks, setting atoms, conditions and their
 * precedence, deny, otherwise), line continuation, and syntax errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "helpers.h"
#include "parse.h"
#include "parser.h"

struct parsed {
	struct fixture f;
	struct ast_file *file;
};

static struct ast_file *parse_text(struct parsed *p, const char *text)
{
	fixture_init(&p->f, text, strlen(text));
	p->file = parse_source(&p->f.src, &p->f.arena, &p->f.diags);
	return p->file;
}

/* Parses text that must be valid; fails the test with the diagnostic otherwise. */
static struct ast_file *parse_ok(struct parsed *p, const char *text)
{
	parse_text(p, text);
	if (!p->file && p->f.diags.head)
		print_error("unexpected %s: %s\n", diag_code_name(p->f.diags.head->code),
		            p->f.diags.head->message);
	assert_non_null(p->file);
	assert_int_equal(p->f.diags.errors, 0);
	return p->file;
}

/* Parses text that must fail with exactly one diagnostic, which is returned. */
static const struct diag *parse_fail(struct parsed *p, const char *text)
{
	parse_text(p, text);
	assert_null(p->file);
	assert_int_equal(p->f.diags.errors, 1);
	assert_int_equal(count_all_diags(&p->f.diags), 1);
	return p->f.diags.head;
}

static void parsed_free(struct parsed *p)
{
	fixture_free(&p->f);
}

static size_t count_blocks(const struct ast_file *file)
{
	size_t n = 0;
	for (const struct ast_block *b = file->blocks; b; b = b->next)
		n++;
	return n;
}

static size_t count_stmts(const struct ast_block *b)
{
	size_t n = 0;
	for (const struct ast_stmt *s = b->stmts; s; s = s->next)
		n++;
	return n;
}

static size_t count_atoms(const struct ast_stmt *s)
{
	size_t n = 0;
	for (const struct ast_atom *a = s->atoms; a; a = a->next)
		n++;
	return n;
}

static size_t count_items(const struct ast_expr *e)
{
	size_t n = 0;
	for (const struct ast_item *it = e->items; it; it = it->next)
		n++;
	return n;
}

/* The condition of the first statement of the only rule in text. */
static const struct ast_expr *parse_when(struct parsed *p, const char *cond)
{
	char text[512];
	snprintf(text, sizeof(text), "rule \"r\" {\n    when %s\n}\n", cond);
	parse_ok(p, text);
	const struct ast_stmt *s = p->file->blocks->stmts;
	assert_int_equal(s->kind, AST_STMT_WHEN);
	assert_non_null(s->when);
	return s->when;
}

static void assert_test(const struct ast_expr *e, const char *subject, enum ast_op op)
{
	assert_non_null(e);
	assert_int_equal(e->kind, AST_EXPR_TEST);
	assert_int_equal(e->subject.kind, TK_WORD);
	assert_string_equal(e->subject.v.str, subject);
	assert_int_equal(e->op, op);
}

/* A TEST whose single operand is the string s (`user == "s"`). */
static void assert_string_test(const struct ast_expr *e, const char *subject, const char *s)
{
	assert_test(e, subject, AST_OP_EQ);
	assert_non_null(e->items);
	assert_int_equal(e->items->lo.kind, TK_STRING);
	assert_string_equal(e->items->lo.v.str, s);
}

/* ---- files and blocks ----------------------------------------------------- */

static void test_empty_file_gives_empty_tree(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "");
	assert_null(p.file->blocks);
	assert_null(p.file->otherwise);
	parsed_free(&p);
}

static void test_comments_and_blank_lines_only(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "# a policy\n\n   \n# nothing else\n");
	assert_null(p.file->blocks);
	parsed_free(&p);
}

static void test_blocks_in_source_order_with_kinds_and_names(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "profile \"P\" {\n    identifier \"com.example.t\"\n}\n"
	             "elevation {\n    duration 5m\n}\n"
	             "rule \"one\" {\n    deny\n}\n"
	             "rule \"two\" {\n}\n");
	assert_int_equal(count_blocks(p.file), 4);
	const struct ast_block *b = p.file->blocks;
	assert_int_equal(b->kind, AST_BLOCK_PROFILE);
	assert_int_equal(b->name.kind, TK_STRING);
	assert_string_equal(b->name.v.str, "P");
	b = b->next;
	assert_int_equal(b->kind, AST_BLOCK_ELEVATION);
	assert_int_equal(b->name.kind, LEX_EOF);
	b = b->next;
	assert_int_equal(b->kind, AST_BLOCK_RULE);
	assert_string_equal(b->name.v.str, "one");
	b = b->next;
	assert_int_equal(b->kind, AST_BLOCK_RULE);
	assert_string_equal(b->name.v.str, "two");
	assert_null(b->stmts);
	parsed_free(&p);
}

static void test_block_span_runs_from_keyword_to_brace(void **state)
{
	struct parsed p;
	char buf[64];
	(void)state;

	parse_ok(&p, "\nelevation {\n    duration 5m\n}  # end\n");
	const struct ast_block *b = p.file->blocks;
	assert_int_equal(b->keyword.off, 1);
	assert_int_equal(b->keyword.len, 9);
	assert_string_equal(span_text(&p.f.src, b->span, buf, sizeof(buf)),
	                    "elevation {\n    duration 5m\n}");
	parsed_free(&p);
}

static void test_block_may_be_written_on_one_line(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "elevation {}\nrule \"r\" { deny }\n");
	assert_int_equal(count_blocks(p.file), 2);
	assert_null(p.file->blocks->stmts);
	assert_int_equal(count_stmts(p.file->blocks->next), 1);
	assert_int_equal(p.file->blocks->next->stmts->kind, AST_STMT_DENY);
	parsed_free(&p);
}

static void test_last_line_needs_no_newline(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "elevation {\n    duration 5m\n}");
	assert_int_equal(count_blocks(p.file), 1);
	assert_int_equal(count_stmts(p.file->blocks), 1);
	parsed_free(&p);
}

/* ---- settings --------------------------------------------------------------- */

static void test_setting_atoms_keep_kinds_and_order(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "elevation {\n"
	             "    limit 3 per day\n"
	             "    authenticate biometric or password\n"
	             "    choices \"a\", \"b\"\n"
	             "    other not allowed\n"
	             "    timer\n"
	             "}\n");
	const struct ast_stmt *s = p.file->blocks->stmts;
	assert_int_equal(s->kind, AST_STMT_SETTING);
	assert_string_equal(s->name.v.str, "limit");
	assert_int_equal(count_atoms(s), 3);
	assert_int_equal(s->atoms->tok.kind, TK_NUMBER);
	assert_int_equal(s->atoms->tok.v.number, 3);
	assert_int_equal(s->atoms->next->tok.kind, TK_WORD);
	assert_string_equal(s->atoms->next->next->tok.v.str, "day");

	s = s->next;
	assert_string_equal(s->name.v.str, "authenticate");
	assert_int_equal(count_atoms(s), 3);
	assert_int_equal(s->atoms->next->tok.kind, TK_OR);

	s = s->next;
	assert_string_equal(s->name.v.str, "choices");
	assert_int_equal(count_atoms(s), 3);
	assert_int_equal(s->atoms->tok.kind, TK_STRING);
	assert_int_equal(s->atoms->next->tok.kind, TK_COMMA);
	assert_string_equal(s->atoms->next->next->tok.v.str, "b");

	s = s->next;
	assert_string_equal(s->name.v.str, "other");
	assert_int_equal(s->atoms->tok.kind, TK_NOT);
	assert_string_equal(s->atoms->next->tok.v.str, "allowed");

	s = s->next;
	assert_string_equal(s->name.v.str, "timer");
	assert_null(s->atoms);
	assert_null(s->next);
	parsed_free(&p);
}

static void test_setting_atoms_take_every_literal_kind(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "elevation {\n    x 5m 22:00 2026-12-24 7 \"s\" allow\n}\n");
	const struct ast_atom *a = p.file->blocks->stmts->atoms;
	static const int kinds[] = { TK_DURATION, TK_TIME, TK_DATE, TK_NUMBER, TK_STRING, TK_ALLOW };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++, a = a->next) {
		assert_non_null(a);
		assert_int_equal(a->tok.kind, kinds[i]);
	}
	assert_null(a);
	parsed_free(&p);
}

static void test_setting_span_covers_name_and_atoms(void **state)
{
	struct parsed p;
	char buf[64];
	(void)state;

	parse_ok(&p, "elevation {\n    limit   3 per day   # comment\n}\n");
	const struct ast_stmt *s = p.file->blocks->stmts;
	assert_string_equal(span_text(&p.f.src, s->span, buf, sizeof(buf)), "limit   3 per day");
	parsed_free(&p);
}

/* ---- deny and otherwise -------------------------------------------------- */

static void test_deny_without_message(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "rule \"r\" {\n    deny\n}\n");
	const struct ast_stmt *s = p.file->blocks->stmts;
	assert_int_equal(s->kind, AST_STMT_DENY);
	assert_int_equal(s->message.kind, LEX_EOF);
	parsed_free(&p);
}

static void test_deny_with_message(void **state)
{
	struct parsed p;
	char buf[64];
	(void)state;

	parse_ok(&p, "rule \"r\" {\n    deny \"Not at weekends.\"\n}\n");
	const struct ast_stmt *s = p.file->blocks->stmts;
	assert_int_equal(s->kind, AST_STMT_DENY);
	assert_int_equal(s->message.kind, TK_STRING);
	assert_string_equal(s->message.v.str, "Not at weekends.");
	assert_string_equal(span_text(&p.f.src, s->span, buf, sizeof(buf)),
	                    "deny \"Not at weekends.\"");
	parsed_free(&p);
}

static void test_otherwise_allow(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "otherwise allow\n");
	assert_null(p.file->blocks);
	assert_non_null(p.file->otherwise);
	assert_false(p.file->otherwise->deny);
	assert_int_equal(p.file->otherwise->message.kind, LEX_EOF);
	assert_null(p.file->otherwise->next);
	parsed_free(&p);
}

static void test_otherwise_deny_without_message(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "otherwise deny");
	assert_true(p.file->otherwise->deny);
	assert_int_equal(p.file->otherwise->message.kind, LEX_EOF);
	parsed_free(&p);
}

static void test_otherwise_deny_with_message(void **state)
{
	struct parsed p;
	char buf[64];
	(void)state;

	parse_ok(&p, "otherwise deny \"Ask the help desk.\"\n");
	const struct ast_otherwise *o = p.file->otherwise;
	assert_true(o->deny);
	assert_int_equal(o->message.kind, TK_STRING);
	assert_string_equal(o->message.v.str, "Ask the help desk.");
	assert_string_equal(span_text(&p.f.src, o->span, buf, sizeof(buf)),
	                    "otherwise deny \"Ask the help desk.\"");
	parsed_free(&p);
}

static void test_every_otherwise_is_kept_for_the_checker(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "otherwise allow\notherwise deny\n");
	assert_false(p.file->otherwise->deny);
	assert_non_null(p.file->otherwise->next);
	assert_true(p.file->otherwise->next->deny);
	parsed_free(&p);
}

/* ---- conditions ---------------------------------------------------------- */

static void test_when_equals_string(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "group == \"contractors\"");
	assert_string_test(e, "group", "contractors");
	assert_false(e->bracketed);
	assert_int_equal(count_items(e), 1);
	assert_false(e->items->is_range);
	parsed_free(&p);
}

static void test_when_not_equal(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "user != \"root\"");
	assert_test(e, "user", AST_OP_NE);
	assert_string_equal(e->items->lo.v.str, "root");
	parsed_free(&p);
}

static void test_and_binds_tighter_than_or(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "user == \"a\" or user == \"b\" and user == \"c\"");
	assert_int_equal(e->kind, AST_EXPR_OR);
	assert_string_test(e->lhs, "user", "a");
	assert_int_equal(e->rhs->kind, AST_EXPR_AND);
	assert_string_test(e->rhs->lhs, "user", "b");
	assert_string_test(e->rhs->rhs, "user", "c");
	parsed_free(&p);

	e = parse_when(&p, "user == \"a\" and user == \"b\" or user == \"c\"");
	assert_int_equal(e->kind, AST_EXPR_OR);
	assert_int_equal(e->lhs->kind, AST_EXPR_AND);
	assert_string_test(e->rhs, "user", "c");
	parsed_free(&p);
}

static void test_or_is_left_associative(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "user == \"a\" or user == \"b\" or user == \"c\"");
	assert_int_equal(e->kind, AST_EXPR_OR);
	assert_int_equal(e->lhs->kind, AST_EXPR_OR);
	assert_string_test(e->lhs->lhs, "user", "a");
	assert_string_test(e->lhs->rhs, "user", "b");
	assert_string_test(e->rhs, "user", "c");
	parsed_free(&p);
}

static void test_not_binds_tighter_than_and(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "not user == \"a\" and group == \"g\"");
	assert_int_equal(e->kind, AST_EXPR_AND);
	assert_int_equal(e->lhs->kind, AST_EXPR_NOT);
	assert_string_test(e->lhs->lhs, "user", "a");
	assert_null(e->lhs->rhs);
	assert_string_test(e->rhs, "group", "g");
	parsed_free(&p);
}

static void test_parentheses_override_precedence(void **state)
{
	struct parsed p;
	char buf[128];
	(void)state;

	const struct ast_expr *e =
		parse_when(&p, "(user == \"a\" or user == \"b\") and group == \"g\"");
	assert_int_equal(e->kind, AST_EXPR_AND);
	assert_int_equal(e->lhs->kind, AST_EXPR_OR);
	assert_string_equal(span_text(&p.f.src, e->lhs->span, buf, sizeof(buf)),
	                    "(user == \"a\" or user == \"b\")");
	assert_string_test(e->rhs, "group", "g");
	parsed_free(&p);

	e = parse_when(&p, "not (user == \"a\" or user == \"b\")");
	assert_int_equal(e->kind, AST_EXPR_NOT);
	assert_int_equal(e->lhs->kind, AST_EXPR_OR);
	parsed_free(&p);
}

static void test_in_bracketed_list(void **state)
{
	struct parsed p;
	char buf[64];
	(void)state;

	const struct ast_expr *e = parse_when(&p, "user in [\"kiosk\", \"guest\"]");
	assert_test(e, "user", AST_OP_IN);
	assert_true(e->bracketed);
	assert_int_equal(count_items(e), 2);
	assert_string_equal(e->items->lo.v.str, "kiosk");
	assert_string_equal(e->items->next->lo.v.str, "guest");
	assert_string_equal(span_text(&p.f.src, e->span, buf, sizeof(buf)),
	                    "user in [\"kiosk\", \"guest\"]");
	assert_string_equal(span_text(&p.f.src, e->op_span, buf, sizeof(buf)), "in");
	parsed_free(&p);
}

static void test_in_single_item_is_not_bracketed(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "day in sat");
	assert_test(e, "day", AST_OP_IN);
	assert_false(e->bracketed);
	assert_int_equal(count_items(e), 1);
	assert_int_equal(e->items->lo.kind, TK_WORD);
	assert_string_equal(e->items->lo.v.str, "sat");
	parsed_free(&p);
}

static void test_not_in_list(void **state)
{
	struct parsed p;
	char buf[64];
	(void)state;

	const struct ast_expr *e = parse_when(&p, "group not in [\"staff\", \"it\"]");
	assert_test(e, "group", AST_OP_NOT_IN);
	assert_true(e->bracketed);
	assert_int_equal(count_items(e), 2);
	assert_string_equal(span_text(&p.f.src, e->op_span, buf, sizeof(buf)), "not in");
	parsed_free(&p);

	e = parse_when(&p, "session not in remote");
	assert_test(e, "session", AST_OP_NOT_IN);
	assert_false(e->bracketed);
	parsed_free(&p);
}

static void test_day_range(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "day in mon..fri");
	assert_test(e, "day", AST_OP_IN);
	assert_int_equal(count_items(e), 1);
	assert_true(e->items->is_range);
	assert_string_equal(e->items->lo.v.str, "mon");
	assert_string_equal(e->items->hi.v.str, "fri");
	assert_int_equal(e->items->span.len, 8);
	parsed_free(&p);
}

static void test_time_range_wrapping_midnight(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "time in 22:00..06:00");
	assert_test(e, "time", AST_OP_IN);
	const struct ast_item *it = e->items;
	assert_true(it->is_range);
	assert_int_equal(it->lo.kind, TK_TIME);
	assert_int_equal(it->lo.v.time.hour, 22);
	assert_int_equal(it->hi.kind, TK_TIME);
	assert_int_equal(it->hi.v.time.hour, 6);
	parsed_free(&p);
}

static void test_list_mixes_ranges_and_single_items(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "date in [2026-12-24..2026-12-26, 2026-12-31]");
	assert_int_equal(count_items(e), 2);
	assert_true(e->items->is_range);
	assert_int_equal(e->items->lo.v.date.day, 24);
	assert_int_equal(e->items->hi.v.date.day, 26);
	assert_false(e->items->next->is_range);
	assert_int_equal(e->items->next->lo.kind, TK_DATE);
	parsed_free(&p);
}

static void test_matches_glob(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "host matches \"lab-*\"");
	assert_test(e, "host", AST_OP_MATCHES);
	assert_int_equal(e->items->lo.kind, TK_STRING);
	assert_string_equal(e->items->lo.v.str, "lab-*");
	parsed_free(&p);
}

static void test_rule_keeps_when_deny_and_settings_in_order(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "rule \"r\" {\n    when day in [sat, sun]\n    duration 2m\n    deny \"no\"\n}\n");
	const struct ast_stmt *s = p.file->blocks->stmts;
	assert_int_equal(s->kind, AST_STMT_WHEN);
	assert_int_equal(s->name.kind, TK_WHEN);
	assert_int_equal(s->next->kind, AST_STMT_SETTING);
	assert_int_equal(s->next->next->kind, AST_STMT_DENY);
	parsed_free(&p);
}

/* ---- line continuation ---------------------------------------------------- */

static void test_line_continues_after_or_and_and(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e =
		parse_when(&p, "user == \"a\" or\n        user == \"b\" and\n\n        group == \"g\"");
	assert_int_equal(e->kind, AST_EXPR_OR);
	assert_int_equal(e->rhs->kind, AST_EXPR_AND);
	assert_int_equal(count_stmts(p.file->blocks), 1);
	parsed_free(&p);
}

static void test_line_continues_after_comma(void **state)
{
	struct parsed p;
	(void)state;

	parse_ok(&p, "elevation {\n    choices \"a\",   # first\n            \"b\"\n    timer shown\n}\n");
	const struct ast_stmt *s = p.file->blocks->stmts;
	assert_int_equal(count_atoms(s), 3);
	assert_int_equal(count_stmts(p.file->blocks), 2);
	parsed_free(&p);
}

static void test_line_continues_after_open_bracket(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "user in [\n        \"a\",\n        \"b\"]");
	assert_int_equal(count_items(e), 2);
	parsed_free(&p);
}

static void test_line_continues_after_open_paren(void **state)
{
	struct parsed p;
	(void)state;

	const struct ast_expr *e = parse_when(&p, "not (\n        user == \"a\")");
	assert_int_equal(e->kind, AST_EXPR_NOT);
	parsed_free(&p);
}

static void test_newline_ends_a_statement(void **state)
{
	struct parsed p;
	(void)state;

	/* Without a trailing 'or', the next line is a new statement. */
	const struct diag *d = parse_fail(&p, "rule \"r\" {\n    when user == \"a\"\n    or user == \"b\"\n}\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_string_equal(d->message, "unexpected 'or'");
	parsed_free(&p);
}

/* ---- syntax errors ------------------------------------------------------- */

static void test_missing_close_brace_is_e005(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "elevation {\n    duration 5m\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_string_equal(d->message, "unexpected end of file");
	assert_true(diag_has_help(d, "is a '}' missing?"));
	parsed_free(&p);
}

static void test_brace_on_next_line_is_e005(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "rule \"r\"\n{\n    deny\n}\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_string_equal(d->message, "unexpected end of line");
	assert_int_equal(d->span.off, 8);
	assert_true(diag_has_help(d, "a block's '{' goes on the line of its keyword"));
	parsed_free(&p);
}

static void test_missing_operand_is_e005(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "rule \"r\" {\n    when user ==\n    deny\n}\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_string_equal(d->message, "unexpected end of line");
	parsed_free(&p);
}

static void test_unexpected_word_after_block_is_e005(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "elevation {\n} extra\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_string_equal(d->message, "unexpected word 'extra'");
	assert_int_equal(d->span.off, 14);
	assert_int_equal(d->span.len, 5);
	parsed_free(&p);
}

static void test_unexpected_string_is_e005(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "otherwise allow \"why\"\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_string_equal(d->message, "unexpected string '\"why\"'");
	parsed_free(&p);
}

static void test_lone_brace_is_e005(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "{\n}\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_true(diag_has_help(d, "a block's '{' goes on the line of its keyword"));
	parsed_free(&p);
}

static void test_lexical_error_stops_the_parse(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "elevation {\n    duration 5m;\n}\n");
	assert_int_equal(d->code, DIAG_E001);
	parsed_free(&p);
}

static void test_unknown_keyword_suggests_elevation(void **state)
{
	struct parsed p;
	char buf[32];
	(void)state;

	const struct diag *d = parse_fail(&p, "elevaton {\n    duration 5m\n}\n");
	assert_int_equal(d->code, DIAG_E006);
	assert_string_equal(d->message, "unknown keyword 'elevaton'");
	assert_string_equal(span_text(&p.f.src, d->span, buf, sizeof(buf)), "elevaton");
	assert_true(diag_has_help(d, "did you mean 'elevation'?"));
	parsed_free(&p);
}

static void test_unknown_keyword_after_a_block_suggests_otherwise(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "elevation {\n}\n\notherwize allow\n");
	assert_int_equal(d->code, DIAG_E006);
	assert_true(diag_has_help(d, "did you mean 'otherwise'?"));
	parsed_free(&p);
}

static void test_unknown_keyword_without_suggestion(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "frobnicate {\n}\n");
	assert_int_equal(d->code, DIAG_E006);
	assert_false(diag_has_help(d, "did you mean"));
	assert_true(diag_has_help(d, "'profile', 'elevation' and 'rule' blocks"));
	parsed_free(&p);
}

static void test_misspelt_when_is_e006_with_suggestion(void **state)
{
	struct parsed p;
	char buf[32];
	(void)state;

	const struct diag *d = parse_fail(&p, "rule \"r\" {\n    wen user == \"a\"\n}\n");
	assert_int_equal(d->code, DIAG_E006);
	assert_string_equal(d->message, "unknown keyword 'wen'");
	assert_string_equal(span_text(&p.f.src, d->span, buf, sizeof(buf)), "wen");
	assert_true(diag_has_help(d, "did you mean 'when'?"));
	parsed_free(&p);
}

static void test_otherwise_needs_allow_or_deny(void **state)
{
	struct parsed p;
	(void)state;

	const struct diag *d = parse_fail(&p, "otherwise alow\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_non_null(strstr(d->message, "'otherwise' must be followed by 'allow' or 'deny'"));
	assert_true(diag_has_help(d, "did you mean 'allow'?"));
	parsed_free(&p);

	d = parse_fail(&p, "otherwise\n");
	assert_int_equal(d->code, DIAG_E005);
	assert_false(diag_has_help(d, "did you mean"));
	parsed_free(&p);
}

static void test_deep_nesting_is_an_error_not_a_crash(void **state)
{
	struct parsed p;
	char text[4096];
	size_t n = 0;
	(void)state;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "rule \"r\" {\n    when ");
	for (int i = 0; i < 500; i++)
		text[n++] = '(';
	n += (size_t)snprintf(text + n, sizeof(text) - n, "user == \"a\"");
	for (int i = 0; i < 500; i++)
		text[n++] = ')';
	snprintf(text + n, sizeof(text) - n, "\n}\n");
	const struct diag *d = parse_fail(&p, text);
	assert_int_equal(d->code, DIAG_E005);
	assert_non_null(strstr(d->message, "nested too deeply"));
	parsed_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_file_gives_empty_tree),
		cmocka_unit_test(test_comments_and_blank_lines_only),
		cmocka_unit_test(test_blocks_in_source_order_with_kinds_and_names),
		cmocka_unit_test(test_block_span_runs_from_keyword_to_brace),
		cmocka_unit_test(test_block_may_be_written_on_one_line),
		cmocka_unit_test(test_last_line_needs_no_newline),
		cmocka_unit_test(test_setting_atoms_keep_kinds_and_order),
		cmocka_unit_test(test_setting_atoms_take_every_literal_kind),
		cmocka_unit_test(test_setting_span_covers_name_and_atoms),
		cmocka_unit_test(test_deny_without_message),
		cmocka_unit_test(test_deny_with_message),
		cmocka_unit_test(test_otherwise_allow),
		cmocka_unit_test(test_otherwise_deny_without_message),
		cmocka_unit_test(test_otherwise_deny_with_message),
		cmocka_unit_test(test_every_otherwise_is_kept_for_the_checker),
		cmocka_unit_test(test_when_equals_string),
		cmocka_unit_test(test_when_not_equal),
		cmocka_unit_test(test_and_binds_tighter_than_or),
		cmocka_unit_test(test_or_is_left_associative),
		cmocka_unit_test(test_not_binds_tighter_than_and),
		cmocka_unit_test(test_parentheses_override_precedence),
		cmocka_unit_test(test_in_bracketed_list),
		cmocka_unit_test(test_in_single_item_is_not_bracketed),
		cmocka_unit_test(test_not_in_list),
		cmocka_unit_test(test_day_range),
		cmocka_unit_test(test_time_range_wrapping_midnight),
		cmocka_unit_test(test_list_mixes_ranges_and_single_items),
		cmocka_unit_test(test_matches_glob),
		cmocka_unit_test(test_rule_keeps_when_deny_and_settings_in_order),
		cmocka_unit_test(test_line_continues_after_or_and_and),
		cmocka_unit_test(test_line_continues_after_comma),
		cmocka_unit_test(test_line_continues_after_open_bracket),
		cmocka_unit_test(test_line_continues_after_open_paren),
		cmocka_unit_test(test_newline_ends_a_statement),
		cmocka_unit_test(test_missing_close_brace_is_e005),
		cmocka_unit_test(test_brace_on_next_line_is_e005),
		cmocka_unit_test(test_missing_operand_is_e005),
		cmocka_unit_test(test_unexpected_word_after_block_is_e005),
		cmocka_unit_test(test_unexpected_string_is_e005),
		cmocka_unit_test(test_lone_brace_is_e005),
		cmocka_unit_test(test_lexical_error_stops_the_parse),
		cmocka_unit_test(test_unknown_keyword_suggests_elevation),
		cmocka_unit_test(test_unknown_keyword_after_a_block_suggests_otherwise),
		cmocka_unit_test(test_unknown_keyword_without_suggestion),
		cmocka_unit_test(test_misspelt_when_is_e006_with_suggestion),
		cmocka_unit_test(test_otherwise_needs_allow_or_deny),
		cmocka_unit_test(test_deep_nesting_is_an_error_not_a_crash),
	};
	return cmocka_run_group_tests_name("parser", tests, NULL, NULL);
}
