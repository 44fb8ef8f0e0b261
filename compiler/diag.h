/*
 * diag.h - collecting and printing compiler diagnostics.
 *
 * Every check reports through diag_report() with a stable code from
 * diag_codes.h and a span into the source; nothing in the compiler prints
 * to stderr on its own. The list is rendered once, at the end, as
 * GCC/Clang-style text (with the source line and a caret) or as JSON
 * lines. Diagnostics live in the compilation's arena.
 */
#ifndef POLC_DIAG_H
#define POLC_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "diag_codes.h"
#include "source.h"

enum diag_code {
#define DIAG_ENUM(code, sev, title) DIAG_##code,
	DIAG_CODES(DIAG_ENUM)
#undef DIAG_ENUM
	DIAG_CODE_COUNT
};

enum diag_severity { DIAG_SEV_ERROR, DIAG_SEV_WARNING };

#define DIAG_MAX_HELP 3

struct diag {
	struct diag *next;
	enum diag_code code;
	enum diag_severity severity;
	struct span span;
	const char *message;
	const char *help[DIAG_MAX_HELP];
	unsigned nhelp;
};

struct diag_list {
	struct arena *arena;
	const struct source *src;
	struct diag *head, *tail;
	unsigned errors, warnings;
	bool warnings_are_errors;     /* -Werror */
};

void diag_init(struct diag_list *dl, struct arena *arena, const struct source *src);

#if defined(__GNUC__)
#define DIAG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DIAG_PRINTF(f, a)
#endif

struct diag *diag_report(struct diag_list *dl, enum diag_code code, struct span span,
                         const char *fmt, ...) DIAG_PRINTF(4, 5);
void diag_help(struct diag_list *dl, struct diag *d, const char *fmt, ...) DIAG_PRINTF(3, 4);

const char *diag_code_name(enum diag_code code);     /* "E010" */
const char *diag_code_title(enum diag_code code);

/* Orders diagnostics by position in the source, keeping equal positions in order. */
void diag_sort(struct diag_list *dl);

enum diag_format { DIAG_FORMAT_TEXT, DIAG_FORMAT_JSON };
void diag_render(const struct diag_list *dl, FILE *out, enum diag_format fmt, bool colour);

#endif
