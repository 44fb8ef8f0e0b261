/*
 * lexer.re - tokens of the policy language (re2c; generated into build/gen).
 *
 * Reads the NUL-terminated source in place and returns the parser's TK_*
 * codes with spans into the text; strings are decoded into the arena.
 * No rule may match the terminating NUL as part of a longer token, so the
 * lexer can never run past the end of the buffer. On a lexical error it
 * reports one diagnostic and returns LEX_ERROR.
 */
#include <stdint.h>
#include <string.h>

#include "format.h"
#include "lexer.h"
#include "parser.h"
#include "text.h"

void lexer_init(struct lexer *lx, const struct source *src, struct arena *arena,
                struct diag_list *diags)
{
	lx->src = src;
	lx->cursor = src->text;
	if (src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0)
		lx->cursor += 3;   /* a UTF-8 byte order mark, as some editors write */
	lx->arena = arena;
	lx->diags = diags;
}

static struct span span_of(const struct lexer *lx, const char *start, const char *end)
{
	return (struct span){ (uint32_t)(start - lx->src->text), (uint32_t)(end - start) };
}

static int lex_error(struct lexer *lx, struct token *tok, enum diag_code code, const char *start,
                     const char *end, const char *what)
{
	tok->kind = LEX_ERROR;
	tok->span = span_of(lx, start, end);
	diag_report(lx->diags, code, tok->span, "%s", what);
	return LEX_ERROR;
}

static int unexpected_character(struct lexer *lx, struct token *tok, const char *start)
{
	const unsigned char *p = (const unsigned char *)start;
	const unsigned char *end = (const unsigned char *)lx->src->text + lx->src->len;
	size_t n = ep_utf8_sequence_length(p, end);

	if (p == end || *p == 0)
		return lex_error(lx, tok, DIAG_E001, start, start + 1, "unexpected NUL byte");
	if (n == 0)
		return lex_error(lx, tok, DIAG_E004, start, start + 1, "invalid UTF-8 byte sequence");
	tok->kind = LEX_ERROR;
	tok->span = span_of(lx, start, start + n);
	const char *quote = *p == '\'' ? "\"" : "'";
	struct diag *d = diag_report(lx->diags, DIAG_E001, tok->span, "unexpected character %s%.*s%s",
	                             quote, (int)n, start, quote);
	if (*p == ';')
		diag_help(lx->diags, d, "statements end at the end of the line; no semicolons");
	else if (*p == '\'')
		diag_help(lx->diags, d, "strings are written in double quotes");
	else if (*p == '=' || *p == '!')
		diag_help(lx->diags, d, "did you mean '%c='?", *p);
	else if (*p == '&' || *p == '|')
		diag_help(lx->diags, d, "write '%s'", *p == '&' ? "and" : "or");
	else if (*p == '<' || *p == '>')
		diag_help(lx->diags, d, "compare times with a range: time in 09:00..17:00");
	return LEX_ERROR;
}

static uint32_t saturating_decimal(const char *p, const char *end)
{
	uint64_t v = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return UINT32_MAX;
	}
	return (uint32_t)v;
}

/* `1h30m`: a sequence of number+unit pairs, saturating at UINT32_MAX. */
static uint32_t duration_seconds(const char *p, const char *end)
{
	uint64_t total = 0;
	while (p < end) {
		const char *digits = p;
		while (*p >= '0' && *p <= '9')
			p++;
		uint64_t n = saturating_decimal(digits, p);
		uint64_t unit = *p == 's' ? 1 : *p == 'm' ? 60 : *p == 'h' ? 3600 : 86400;
		total += n * unit;
		if (total > UINT32_MAX)
			return UINT32_MAX;
		p++;
	}
	return (uint32_t)total;
}

/* Decodes the body of a string literal (between the quotes) into the arena. */
static int decode_string(struct lexer *lx, struct token *tok, const char *start, const char *end)
{
	char *out = arena_alloc(lx->arena, (size_t)(end - start) + 1);
	char *o = out;
	const unsigned char *uend = (const unsigned char *)lx->src->text + lx->src->len;

	for (const char *p = start + 1; p < end - 1;) {
		if (*p == '\\') {
			if (p[1] != '"' && p[1] != '\\') {
				struct span sp = span_of(lx, p, p + 2);
				tok->kind = LEX_ERROR;
				tok->span = sp;
				struct diag *d = diag_report(lx->diags, DIAG_E003, sp,
				                             "invalid escape sequence in string");
				diag_help(lx->diags, d, "only \\\" and \\\\ are escapes; write other characters as they are");
				return LEX_ERROR;
			}
			*o++ = p[1];
			p += 2;
			continue;
		}
		size_t n = ep_utf8_sequence_length((const unsigned char *)p, uend);
		if (n == 0)
			return lex_error(lx, tok, DIAG_E004, p, p + 1, "invalid UTF-8 in string");
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	if ((size_t)(o - out) > EP_MAX_STRING) {
		tok->kind = LEX_ERROR;
		tok->span = span_of(lx, start, end);
		diag_report(lx->diags, DIAG_E029, tok->span, "string longer than %u bytes", EP_MAX_STRING);
		return LEX_ERROR;
	}
	tok->v.str = out;
	return TK_STRING;
}

/* Skips a comment's body, checking that it is valid UTF-8. */
static int skip_comment(struct lexer *lx, struct token *tok, const char *p)
{
	const unsigned char *uend = (const unsigned char *)lx->src->text + lx->src->len;
	while ((const unsigned char *)p < uend && *p != '\n') {
		size_t n = *p ? ep_utf8_sequence_length((const unsigned char *)p, uend) : 0;
		if (n == 0)
			return *p ? lex_error(lx, tok, DIAG_E004, p, p + 1, "invalid UTF-8 in comment")
			          : lex_error(lx, tok, DIAG_E001, p, p + 1, "unexpected NUL byte");
		p += n;
	}
	lx->cursor = p;
	return 0;
}

int lexer_next(struct lexer *lx, struct token *tok)
{
	const char *YYCURSOR, *YYMARKER, *start;
	const char *limit = lx->src->text + lx->src->len;

	memset(tok, 0, sizeof(*tok));
again:
	YYCURSOR = lx->cursor;
	start = YYCURSOR;
#define TOKEN(k) do { lx->cursor = YYCURSOR; tok->kind = (k); tok->span = span_of(lx, start, YYCURSOR); return (k); } while (0)
	/*!re2c
	re2c:define:YYCTYPE = "unsigned char";
	re2c:yyfill:enable = 0;

	digit    = [0-9];
	word     = [a-zA-Z_][a-zA-Z0-9_]*;
	duration = (digit+ [smhd])+;
	strchar  = [^"\\\n\x00] | "\\" [^\n\x00];

	"\x00"   {
		if (start >= limit) { lx->cursor = start; tok->span = span_of(lx, start, start); tok->kind = LEX_EOF; return LEX_EOF; }
		return unexpected_character(lx, tok, start);
	}
	[ \t\r]+ { lx->cursor = YYCURSOR; goto again; }
	"#"      { if (skip_comment(lx, tok, YYCURSOR) < 0) return LEX_ERROR; goto again; }
	"\n"     { TOKEN(TK_NL); }

	"profile"   { TOKEN(TK_PROFILE); }
	"elevation" { TOKEN(TK_ELEVATION); }
	"rule"      { TOKEN(TK_RULE); }
	"otherwise" { TOKEN(TK_OTHERWISE); }
	"when"      { TOKEN(TK_WHEN); }
	"deny"      { TOKEN(TK_DENY); }
	"allow"     { TOKEN(TK_ALLOW); }
	"and"       { TOKEN(TK_AND); }
	"or"        { TOKEN(TK_OR); }
	"not"       { TOKEN(TK_NOT); }
	"in"        { TOKEN(TK_IN); }
	"matches"   { TOKEN(TK_MATCHES); }
	word        { tok->v.str = arena_strndup(lx->arena, start, (size_t)(YYCURSOR - start)); TOKEN(TK_WORD); }

	digit+      { tok->v.number = saturating_decimal(start, YYCURSOR); TOKEN(TK_NUMBER); }
	duration    { tok->v.seconds = duration_seconds(start, YYCURSOR); TOKEN(TK_DURATION); }
	digit+ [a-zA-Z_] [a-zA-Z0-9_]* {
		tok->kind = LEX_ERROR;
		tok->span = span_of(lx, start, YYCURSOR);
		struct diag *d = diag_report(lx->diags, DIAG_E001, tok->span, "invalid duration or number '%.*s'",
		                             (int)(YYCURSOR - start), start);
		diag_help(lx->diags, d, "durations are written 30s, 5m, 2h, 1d or 1h30m");
		return LEX_ERROR;
	}
	digit{1,2} ":" digit{2} {
		const char *colon = memchr(start, ':', 3);
		tok->v.time.hour = (uint8_t)saturating_decimal(start, colon);
		tok->v.time.minute = (uint8_t)saturating_decimal(colon + 1, YYCURSOR);
		TOKEN(TK_TIME);
	}
	digit{4} "-" digit{2} "-" digit{2} {
		tok->v.date.year = (uint16_t)saturating_decimal(start, start + 4);
		tok->v.date.month = (uint8_t)saturating_decimal(start + 5, start + 7);
		tok->v.date.day = (uint8_t)saturating_decimal(start + 8, start + 10);
		TOKEN(TK_DATE);
	}
	"-" (digit+ | duration) {
		return lex_error(lx, tok, DIAG_E020, start, YYCURSOR, "negative values are not allowed");
	}

	["] strchar* ["] {
		lx->cursor = YYCURSOR;
		tok->span = span_of(lx, start, YYCURSOR);
		tok->kind = decode_string(lx, tok, start, YYCURSOR);
		return tok->kind;
	}
	["] strchar* {
		return lex_error(lx, tok, DIAG_E002, start, YYCURSOR, "unterminated string");
	}

	"==" { TOKEN(TK_EQ); }
	"!=" { TOKEN(TK_NE); }
	"("  { TOKEN(TK_LPAREN); }
	")"  { TOKEN(TK_RPAREN); }
	"["  { TOKEN(TK_LBRACKET); }
	"]"  { TOKEN(TK_RBRACKET); }
	"{"  { TOKEN(TK_LBRACE); }
	"}"  { TOKEN(TK_RBRACE); }
	","  { TOKEN(TK_COMMA); }
	".." { TOKEN(TK_DOTDOT); }

	*    { return unexpected_character(lx, tok, start); }
	*/
#undef TOKEN
}

const char *token_kind_name(int kind)
{
	switch (kind) {
	case LEX_EOF:      return "end of file";
	case TK_PROFILE:   return "'profile'";
	case TK_ELEVATION: return "'elevation'";
	case TK_RULE:      return "'rule'";
	case TK_OTHERWISE: return "'otherwise'";
	case TK_WHEN:      return "'when'";
	case TK_DENY:      return "'deny'";
	case TK_ALLOW:     return "'allow'";
	case TK_AND:       return "'and'";
	case TK_OR:        return "'or'";
	case TK_NOT:       return "'not'";
	case TK_IN:        return "'in'";
	case TK_MATCHES:   return "'matches'";
	case TK_WORD:      return "word";
	case TK_NUMBER:    return "number";
	case TK_DURATION:  return "duration";
	case TK_STRING:    return "string";
	case TK_TIME:      return "time";
	case TK_DATE:      return "date";
	case TK_EQ:        return "'=='";
	case TK_NE:        return "'!='";
	case TK_LPAREN:    return "'('";
	case TK_RPAREN:    return "')'";
	case TK_LBRACKET:  return "'['";
	case TK_RBRACKET:  return "']'";
	case TK_LBRACE:    return "'{'";
	case TK_RBRACE:    return "'}'";
	case TK_COMMA:     return "','";
	case TK_DOTDOT:    return "'..'";
	case TK_NL:        return "end of line";
	default:           return "token";
	}
}
