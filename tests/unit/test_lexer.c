/*
 * test_lexer.c - grammar/lexer.re: token kinds, spans and decoded values
 * (words, keywords, numbers, durations, times, dates, strings, comments,
 * newlines) and every lexical error with its diagnostic code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"
#include "lexer.h"
#include "parser.h"

struct lexfix {
	struct fixture f;
	struct lexer lx;
};

static void lex_start(struct lexfix *l, const char *text, size_t len)
{
	fixture_init(&l->f, text, len);
	lexer_init(&l->lx, &l->f.src, &l->f.arena, &l->f.diags);
}

/* For string literals, including ones with embedded NUL bytes. */
#define LEX_START(l, lit) lex_start((l), (lit), sizeof(lit) - 1)

static void lex_end(struct lexfix *l)
{
	fixture_free(&l->f);
}

/* Lexes text to the end and checks the kinds; expected ends with LEX_EOF. */
static void assert_kinds(const char *text, const int *expected, size_t n)
{
	struct lexfix l;
	struct token tok;

	lex_start(&l, text, strlen(text));
	for (size_t i = 0; i < n; i++) {
		int kind = lexer_next(&l.lx, &tok);
		if (kind != expected[i])
			print_error("token %zu of \"%s\": got %s (%d), want %s (%d)\n", i, text,
			            token_kind_name(kind), kind, token_kind_name(expected[i]), expected[i]);
		assert_int_equal(kind, expected[i]);
		assert_int_equal(tok.kind, kind);
	}
	assert_int_equal(l.f.diags.errors, 0);
	lex_end(&l);
}

#define ASSERT_KINDS(text, ...) \
	do { \
		static const int want_[] = { __VA_ARGS__ }; \
		assert_kinds((text), want_, sizeof(want_) / sizeof(*want_)); \
	} while (0)

/* Lexes the text expecting exactly one error as the first bad token. */
static const struct diag *lex_until_error(struct lexfix *l, struct token *tok)
{
	for (int i = 0; i < 64; i++) {
		int kind = lexer_next(&l->lx, tok);
		if (kind == LEX_ERROR) {
			assert_int_equal(tok->kind, LEX_ERROR);
			assert_int_equal(l->f.diags.errors, 1);
			assert_non_null(l->f.diags.head);
			assert_int_equal(l->f.diags.head->severity, DIAG_SEV_ERROR);
			return l->f.diags.head;
		}
		assert_int_not_equal(kind, LEX_EOF);
	}
	fail_msg("no lexical error");
	return NULL;
}

/* ---- kinds ---------------------------------------------------------------- */

static void test_keywords_have_their_own_kinds(void **state)
{
	(void)state;
	ASSERT_KINDS("profile elevation rule otherwise when deny allow and or not in matches",
	             TK_PROFILE, TK_ELEVATION, TK_RULE, TK_OTHERWISE, TK_WHEN, TK_DENY, TK_ALLOW,
	             TK_AND, TK_OR, TK_NOT, TK_IN, TK_MATCHES, LEX_EOF);
}

static void test_keyword_prefixes_and_case_variants_are_words(void **state)
{
	(void)state;
	ASSERT_KINDS("profiles ruler inside orx Deny WHEN _and", TK_WORD, TK_WORD, TK_WORD, TK_WORD,
	             TK_WORD, TK_WORD, TK_WORD, LEX_EOF);
}

static void test_punctuation_kinds(void **state)
{
	(void)state;
	ASSERT_KINDS("== != ( ) [ ] { } , ..", TK_EQ, TK_NE, TK_LPAREN, TK_RPAREN, TK_LBRACKET,
	             TK_RBRACKET, TK_LBRACE, TK_RBRACE, TK_COMMA, TK_DOTDOT, LEX_EOF);
}

static void test_ranges_split_into_three_tokens(void **state)
{
	(void)state;
	ASSERT_KINDS("mon..fri", TK_WORD, TK_DOTDOT, TK_WORD, LEX_EOF);
	ASSERT_KINDS("22:00..06:00", TK_TIME, TK_DOTDOT, TK_TIME, LEX_EOF);
	ASSERT_KINDS("2026-12-24..2027-01-01", TK_DATE, TK_DOTDOT, TK_DATE, LEX_EOF);
	ASSERT_KINDS("1..5", TK_NUMBER, TK_DOTDOT, TK_NUMBER, LEX_EOF);
}

static void test_tokens_need_no_spaces_between_them(void **state)
{
	(void)state;
	ASSERT_KINDS("user==\"a\"", TK_WORD, TK_EQ, TK_STRING, LEX_EOF);
	ASSERT_KINDS("[\"a\",\"b\"]", TK_LBRACKET, TK_STRING, TK_COMMA, TK_STRING, TK_RBRACKET,
	             LEX_EOF);
	ASSERT_KINDS("rule\"x\"{", TK_RULE, TK_STRING, TK_LBRACE, LEX_EOF);
}

static void test_newlines_are_tokens_and_blanks_are_not(void **state)
{
	(void)state;
	ASSERT_KINDS("a\nb\r\n\n c\t\r", TK_WORD, TK_NL, TK_WORD, TK_NL, TK_NL, TK_WORD, LEX_EOF);
	ASSERT_KINDS("", LEX_EOF);
	ASSERT_KINDS(" \t\r ", LEX_EOF);
}

static void test_comments_are_skipped_up_to_the_newline(void **state)
{
	(void)state;
	ASSERT_KINDS("a # comment with \"quotes\", ; and \xE2\x9C\x93\nb", TK_WORD, TK_NL, TK_WORD,
	             LEX_EOF);
	ASSERT_KINDS("# only a comment", LEX_EOF);
	ASSERT_KINDS("#\n#\n", TK_NL, TK_NL, LEX_EOF);
	ASSERT_KINDS("duration 5m# no space", TK_WORD, TK_DURATION, LEX_EOF);
}

/* ---- spans and values ----------------------------------------------------- */

static void test_word_value_and_span(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "  foo_Bar9 x");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_WORD);
	assert_int_equal(tok.span.off, 2);
	assert_int_equal(tok.span.len, 8);
	assert_string_equal(tok.v.str, "foo_Bar9");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_WORD);
	assert_int_equal(tok.span.off, 11);
	assert_int_equal(tok.span.len, 1);
	assert_string_equal(tok.v.str, "x");
	lex_end(&l);
}

static void test_keyword_span_covers_the_keyword(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\televation {");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_ELEVATION);
	assert_int_equal(tok.span.off, 1);
	assert_int_equal(tok.span.len, 9);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_LBRACE);
	assert_int_equal(tok.span.off, 11);
	assert_int_equal(tok.span.len, 1);
	lex_end(&l);
}

static void test_numbers_decode_and_saturate(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "0 42 007 4294967295 4294967296 99999999999999999999");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_NUMBER);
	assert_int_equal(tok.v.number, 0);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_NUMBER);
	assert_int_equal(tok.v.number, 42);
	assert_int_equal(tok.span.off, 2);
	assert_int_equal(tok.span.len, 2);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_NUMBER);
	assert_int_equal(tok.v.number, 7);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_NUMBER);
	assert_int_equal(tok.v.number, UINT32_MAX);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_NUMBER);
	assert_int_equal(tok.v.number, UINT32_MAX);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_NUMBER);
	assert_int_equal(tok.v.number, UINT32_MAX);
	assert_int_equal(tok.span.len, 20);
	assert_int_equal(lexer_next(&l.lx, &tok), LEX_EOF);
	lex_end(&l);
}

static void assert_duration(const char *text, uint32_t seconds)
{
	struct lexfix l;
	struct token tok;

	lex_start(&l, text, strlen(text));
	assert_int_equal(lexer_next(&l.lx, &tok), TK_DURATION);
	assert_int_equal(tok.v.seconds, seconds);
	assert_int_equal(tok.span.off, 0);
	assert_int_equal(tok.span.len, strlen(text));
	assert_int_equal(lexer_next(&l.lx, &tok), LEX_EOF);
	lex_end(&l);
}

static void test_durations_decode_to_seconds(void **state)
{
	(void)state;
	assert_duration("5m", 300);
	assert_duration("90s", 90);
	assert_duration("1h30m", 5400);
	assert_duration("2d", 172800);
	assert_duration("2h", 7200);
	assert_duration("30s", 30);
	assert_duration("0s", 0);
	assert_duration("1d1s", 86401);
	assert_duration("1m1m", 120);
}

static void test_durations_saturate_instead_of_wrapping(void **state)
{
	(void)state;
	assert_duration("99999999999d", UINT32_MAX);
	assert_duration("50000d", UINT32_MAX);           /* 4.32e9 seconds */
	assert_duration("4294967295s", UINT32_MAX);
	assert_duration("4294967295s1s", UINT32_MAX);
}

static void test_times_decode_hour_and_minute(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "22:00 6:05 99:99");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_TIME);
	assert_int_equal(tok.v.time.hour, 22);
	assert_int_equal(tok.v.time.minute, 0);
	assert_int_equal(tok.span.len, 5);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_TIME);
	assert_int_equal(tok.v.time.hour, 6);
	assert_int_equal(tok.v.time.minute, 5);
	assert_int_equal(tok.span.off, 6);
	assert_int_equal(tok.span.len, 4);
	/* The lexer does not range-check; the checker does (E024). */
	assert_int_equal(lexer_next(&l.lx, &tok), TK_TIME);
	assert_int_equal(tok.v.time.hour, 99);
	assert_int_equal(tok.v.time.minute, 99);
	lex_end(&l);
}

static void test_dates_decode_year_month_day(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "2026-12-24 1999-02-31");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_DATE);
	assert_int_equal(tok.v.date.year, 2026);
	assert_int_equal(tok.v.date.month, 12);
	assert_int_equal(tok.v.date.day, 24);
	assert_int_equal(tok.span.off, 0);
	assert_int_equal(tok.span.len, 10);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_DATE);
	assert_int_equal(tok.v.date.year, 1999);
	assert_int_equal(tok.v.date.month, 2);
	assert_int_equal(tok.v.date.day, 31);
	lex_end(&l);
}

static void test_string_span_includes_quotes_value_does_not(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "x \"Install an app\"");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_WORD);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_STRING);
	assert_int_equal(tok.span.off, 2);
	assert_int_equal(tok.span.len, 16);
	assert_string_equal(tok.v.str, "Install an app");
	lex_end(&l);
}

static void test_string_escapes_decode(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\"say \\\"hi\\\" \\\\ done\"");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_STRING);
	assert_string_equal(tok.v.str, "say \"hi\" \\ done");
	assert_int_equal(tok.span.len, 20);
	assert_int_equal(lexer_next(&l.lx, &tok), LEX_EOF);
	lex_end(&l);
}

static void test_string_keeps_utf8_bytes(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	/* é (2 bytes), ✓ (3 bytes), 😀 (4 bytes). */
	LEX_START(&l, "\"caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80\"");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_STRING);
	assert_string_equal(tok.v.str, "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80");
	assert_int_equal(tok.span.len, 16);
	lex_end(&l);
}

static void test_empty_string_decodes_to_empty(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\"\"");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_STRING);
	assert_string_equal(tok.v.str, "");
	assert_int_equal(tok.span.len, 2);
	lex_end(&l);
}

static void test_keywords_inside_strings_stay_strings(void **state)
{
	(void)state;
	ASSERT_KINDS("\"deny\" \"# not a comment\"", TK_STRING, TK_STRING, LEX_EOF);
}

static void test_newline_span_and_eof_at_end(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "a\n");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_WORD);
	assert_int_equal(lexer_next(&l.lx, &tok), TK_NL);
	assert_int_equal(tok.span.off, 1);
	assert_int_equal(tok.span.len, 1);
	assert_int_equal(lexer_next(&l.lx, &tok), LEX_EOF);
	assert_int_equal(tok.span.off, 2);
	assert_int_equal(tok.span.len, 0);
	/* EOF is sticky: the lexer never runs past the terminator. */
	assert_int_equal(lexer_next(&l.lx, &tok), LEX_EOF);
	assert_int_equal(tok.span.off, 2);
	lex_end(&l);
}

static void test_byte_order_mark_is_skipped(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\xEF\xBB\xBFrule");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_RULE);
	assert_int_equal(tok.span.off, 3);
	assert_int_equal(lexer_next(&l.lx, &tok), LEX_EOF);
	lex_end(&l);
}

static void test_byte_order_mark_only_at_the_start(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "rule \xEF\xBB\xBF");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_RULE);
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_int_equal(d->span.off, 5);
	assert_int_equal(d->span.len, 3);
	lex_end(&l);
}

static void test_token_kind_names(void **state)
{
	(void)state;
	assert_string_equal(token_kind_name(LEX_EOF), "end of file");
	assert_string_equal(token_kind_name(TK_NL), "end of line");
	assert_string_equal(token_kind_name(TK_LBRACE), "'{'");
	assert_string_equal(token_kind_name(TK_STRING), "string");
	assert_string_equal(token_kind_name(TK_DURATION), "duration");
	assert_string_equal(token_kind_name(TK_MATCHES), "'matches'");
}

/* ---- errors ---------------------------------------------------------------- */

static void test_unexpected_character_is_e001(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "duration @");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_string_equal(d->message, "unexpected character '@'");
	assert_int_equal(d->span.off, 9);
	assert_int_equal(d->span.len, 1);
	assert_int_equal(tok.span.off, 9);
	lex_end(&l);
}

static void test_semicolon_is_e001_with_help(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "duration 5m;");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_string_equal(d->message, "unexpected character ';'");
	assert_int_equal(d->span.off, 11);
	assert_true(diag_has_help(d, "no semicolons"));
	lex_end(&l);
}

static void test_single_quote_is_e001_with_help(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "'kiosk'");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_true(diag_has_help(d, "double quotes"));
	lex_end(&l);
}

static void test_nul_byte_is_e001(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "ab\0cd");
	assert_int_equal(lexer_next(&l.lx, &tok), TK_WORD);
	assert_string_equal(tok.v.str, "ab");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_string_equal(d->message, "unexpected NUL byte");
	assert_int_equal(d->span.off, 2);
	assert_int_equal(d->span.len, 1);
	lex_end(&l);
}

static void test_nul_byte_at_start_is_not_eof(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\0");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_int_equal(d->span.off, 0);
	lex_end(&l);
}

static void test_nul_byte_in_comment_is_e001(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "# a\0b\nx");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_string_equal(d->message, "unexpected NUL byte");
	assert_int_equal(d->span.off, 3);
	lex_end(&l);
}

static void test_non_ascii_character_outside_string_is_e001(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "a \xC3\xA9");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_string_equal(d->message, "unexpected character '\xC3\xA9'");
	assert_int_equal(d->span.off, 2);
	assert_int_equal(d->span.len, 2);
	lex_end(&l);
}

static void test_lone_minus_is_e001(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "- x");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	lex_end(&l);
}

static void test_number_glued_to_letters_is_e001(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "duration 5min");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_string_equal(d->message, "invalid duration or number '5min'");
	assert_int_equal(d->span.off, 9);
	assert_int_equal(d->span.len, 4);
	assert_true(diag_has_help(d, "30s, 5m, 2h, 1d or 1h30m"));
	lex_end(&l);
}

static void test_single_equals_is_e001_with_help(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "user = \"a\"");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_int_equal(d->span.off, 5);
	assert_true(diag_has_help(d, "did you mean '=='?"));
	lex_end(&l);
}

static void test_ampersand_is_e001_with_help(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "a && b");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E001);
	assert_true(diag_has_help(d, "write 'and'"));
	lex_end(&l);
}

static void test_unterminated_string_is_e002(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "x \"abc");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E002);
	assert_int_equal(d->span.off, 2);
	assert_int_equal(d->span.len, 4);
	lex_end(&l);
}

static void test_string_ends_at_newline_is_e002(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\"abc\ndef\"");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E002);
	assert_int_equal(d->span.off, 0);
	assert_int_equal(d->span.len, 4);
	lex_end(&l);
}

static void test_string_with_nul_byte_is_e002(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\"a\0b\"");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E002);
	assert_int_equal(d->span.len, 2);
	lex_end(&l);
}

static void test_escaped_quote_at_end_is_e002(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\"abc\\\"");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E002);
	lex_end(&l);
}

static void test_bad_escape_is_e003(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\"line\\nbreak\"");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E003);
	assert_int_equal(d->span.off, 5);
	assert_int_equal(d->span.len, 2);
	assert_true(diag_has_help(d, "only \\\" and \\\\ are escapes"));
	lex_end(&l);
}

static void test_invalid_utf8_in_string_is_e004(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "\"ab\xFF\"");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E004);
	assert_string_equal(d->message, "invalid UTF-8 in string");
	assert_int_equal(d->span.off, 3);
	assert_int_equal(d->span.len, 1);
	lex_end(&l);
}

static void assert_string_is_e004(const char *text)
{
	struct lexfix l;
	struct token tok;

	lex_start(&l, text, strlen(text));
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E004);
	lex_end(&l);
}

static void test_malformed_utf8_forms_in_string_are_e004(void **state)
{
	(void)state;
	assert_string_is_e004("\"\xC0\xAF\"");               /* overlong '/' */
	assert_string_is_e004("\"\xE0\x80\xAF\"");           /* overlong, 3 bytes */
	assert_string_is_e004("\"\xED\xA0\x80\"");           /* UTF-16 surrogate */
	assert_string_is_e004("\"\xF4\x90\x80\x80\"");       /* above U+10FFFF */
	assert_string_is_e004("\"\xE2\x9C\"");               /* truncated sequence */
	assert_string_is_e004("\"\x80\"");                   /* lone continuation byte */
}

static void test_invalid_utf8_in_comment_is_e004(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "a # bad \xFE here\nb");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E004);
	assert_string_equal(d->message, "invalid UTF-8 in comment");
	assert_int_equal(d->span.off, 8);
	lex_end(&l);
}

static void test_invalid_utf8_outside_string_is_e004(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "a \xFF");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E004);
	assert_int_equal(d->span.off, 2);
	lex_end(&l);
}

static void test_negative_duration_is_e020(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "duration -5m");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E020);
	assert_int_equal(d->span.off, 9);
	assert_int_equal(d->span.len, 3);
	assert_non_null(strstr(d->message, "negative"));
	lex_end(&l);
}

static void test_negative_number_is_e020(void **state)
{
	struct lexfix l;
	struct token tok;
	(void)state;

	LEX_START(&l, "limit -3 per day");
	const struct diag *d = lex_until_error(&l, &tok);
	assert_int_equal(d->code, DIAG_E020);
	assert_int_equal(d->span.off, 6);
	assert_int_equal(d->span.len, 2);
	lex_end(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keywords_have_their_own_kinds),
		cmocka_unit_test(test_keyword_prefixes_and_case_variants_are_words),
		cmocka_unit_test(test_punctuation_kinds),
		cmocka_unit_test(test_ranges_split_into_three_tokens),
		cmocka_unit_test(test_tokens_need_no_spaces_between_them),
		cmocka_unit_test(test_newlines_are_tokens_and_blanks_are_not),
		cmocka_unit_test(test_comments_are_skipped_up_to_the_newline),
		cmocka_unit_test(test_word_value_and_span),
		cmocka_unit_test(test_keyword_span_covers_the_keyword),
		cmocka_unit_test(test_numbers_decode_and_saturate),
		cmocka_unit_test(test_durations_decode_to_seconds),
		cmocka_unit_test(test_durations_saturate_instead_of_wrapping),
		cmocka_unit_test(test_times_decode_hour_and_minute),
		cmocka_unit_test(test_dates_decode_year_month_day),
		cmocka_unit_test(test_string_span_includes_quotes_value_does_not),
		cmocka_unit_test(test_string_escapes_decode),
		cmocka_unit_test(test_string_keeps_utf8_bytes),
		cmocka_unit_test(test_empty_string_decodes_to_empty),
		cmocka_unit_test(test_keywords_inside_strings_stay_strings),
		cmocka_unit_test(test_newline_span_and_eof_at_end),
		cmocka_unit_test(test_byte_order_mark_is_skipped),
		cmocka_unit_test(test_byte_order_mark_only_at_the_start),
		cmocka_unit_test(test_token_kind_names),
		cmocka_unit_test(test_unexpected_character_is_e001),
		cmocka_unit_test(test_semicolon_is_e001_with_help),
		cmocka_unit_test(test_single_quote_is_e001_with_help),
		cmocka_unit_test(test_nul_byte_is_e001),
		cmocka_unit_test(test_nul_byte_at_start_is_not_eof),
		cmocka_unit_test(test_nul_byte_in_comment_is_e001),
		cmocka_unit_test(test_non_ascii_character_outside_string_is_e001),
		cmocka_unit_test(test_lone_minus_is_e001),
		cmocka_unit_test(test_number_glued_to_letters_is_e001),
		cmocka_unit_test(test_single_equals_is_e001_with_help),
		cmocka_unit_test(test_ampersand_is_e001_with_help),
		cmocka_unit_test(test_unterminated_string_is_e002),
		cmocka_unit_test(test_string_ends_at_newline_is_e002),
		cmocka_unit_test(test_string_with_nul_byte_is_e002),
		cmocka_unit_test(test_escaped_quote_at_end_is_e002),
		cmocka_unit_test(test_bad_escape_is_e003),
		cmocka_unit_test(test_invalid_utf8_in_string_is_e004),
		cmocka_unit_test(test_malformed_utf8_forms_in_string_are_e004),
		cmocka_unit_test(test_invalid_utf8_in_comment_is_e004),
		cmocka_unit_test(test_invalid_utf8_outside_string_is_e004),
		cmocka_unit_test(test_negative_duration_is_e020),
		cmocka_unit_test(test_negative_number_is_e020),
	};
	return cmocka_run_group_tests_name("lexer", tests, NULL, NULL);
}
