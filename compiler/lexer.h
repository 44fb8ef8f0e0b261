/*
 * lexer.h - turning policy text into tokens (implemented in grammar/lexer.re).
 *
 * Tokens are spans into the source plus, for literals, their decoded value.
 * Token kinds are the parser's own TK_* codes (build/gen/parser.h), as in
 * SQLite. The lexer reports its own errors (E001-E004, E020) and then
 * returns LEX_ERROR; it never reads past the source's NUL terminator.
 */
#ifndef POLC_LEXER_H
#define POLC_LEXER_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "source.h"

#define LEX_EOF 0
#define LEX_ERROR (-1)

struct token {
	int kind;                  /* TK_* from parser.h, LEX_EOF or LEX_ERROR */
	struct span span;
	union {
		uint32_t number;       /* TK_NUMBER (saturates at UINT32_MAX) */
		uint32_t seconds;      /* TK_DURATION (saturates at UINT32_MAX) */
		struct { uint8_t hour, minute; } time;                 /* TK_TIME, unchecked */
		struct { uint16_t year; uint8_t month, day; } date;    /* TK_DATE, unchecked */
		const char *str;       /* TK_STRING (decoded, in the arena) and TK_WORD */
	} v;
};

struct lexer {
	const struct source *src;
	const char *cursor;
	struct arena *arena;
	struct diag_list *diags;
};

void lexer_init(struct lexer *lx, const struct source *src, struct arena *arena,
                struct diag_list *diags);
/* Returns the kind of the next token, which is also stored in *tok. */
int lexer_next(struct lexer *lx, struct token *tok);
/* A human name for a token kind, for messages: "'{'", "string", "end of line". */
const char *token_kind_name(int kind);

#endif
