/*
 * diag.c - diagnostic collection and rendering (see diag.h).
 * Rendering never changes the list; reporting never prints.
 */
#include "diag.h"

#include <stdarg.h>
#include <string.h>

#include "json.h"

static const struct {
	const char *name;
	enum diag_severity severity;
	const char *title;
} diag_table[DIAG_CODE_COUNT] = {
#define DIAG_ROW(code, sev, title) { #code, DIAG_SEV_##sev, title },
	DIAG_CODES(DIAG_ROW)
#undef DIAG_ROW
};

void diag_init(struct diag_list *dl, struct arena *arena, const struct source *src)
{
	memset(dl, 0, sizeof(*dl));
	dl->arena = arena;
	dl->src = src;
}

const char *diag_code_name(enum diag_code code)
{
	return diag_table[code].name;
}

const char *diag_code_title(enum diag_code code)
{
	return diag_table[code].title;
}

static const char *format_in_arena(struct arena *a, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		n = 0;
	char *s = arena_alloc(a, (size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

struct diag *diag_report(struct diag_list *dl, enum diag_code code, struct span span,
                         const char *fmt, ...)
{
	struct diag *d = ARENA_NEW(dl->arena, struct diag);
	va_list ap;

	d->code = code;
	d->severity = diag_table[code].severity;
	if (d->severity == DIAG_SEV_WARNING && dl->warnings_are_errors)
		d->severity = DIAG_SEV_ERROR;
	d->span = span;
	va_start(ap, fmt);
	d->message = format_in_arena(dl->arena, fmt, ap);
	va_end(ap);
	if (d->severity == DIAG_SEV_ERROR)
		dl->errors++;
	else
		dl->warnings++;
	if (dl->tail)
		dl->tail->next = d;
	else
		dl->head = d;
	dl->tail = d;
	return d;
}

void diag_help(struct diag_list *dl, struct diag *d, const char *fmt, ...)
{
	va_list ap;
	if (d->nhelp == DIAG_MAX_HELP)
		return;
	va_start(ap, fmt);
	d->help[d->nhelp++] = format_in_arena(dl->arena, fmt, ap);
	va_end(ap);
}

static struct diag *merge_by_position(struct diag *a, struct diag *b)
{
	struct diag head = { 0 }, *tail = &head;
	while (a && b) {
		struct diag **take = b->span.off < a->span.off ? &b : &a;
		tail->next = *take;
		tail = *take;
		*take = (*take)->next;
	}
	tail->next = a ? a : b;
	return head.next;
}

static struct diag *sort_by_position(struct diag *list, unsigned n)
{
	if (n < 2)
		return list;
	struct diag *mid = list;
	for (unsigned i = 1; i < n / 2; i++)
		mid = mid->next;
	struct diag *second = mid->next;
	mid->next = NULL;
	return merge_by_position(sort_by_position(list, n / 2), sort_by_position(second, n - n / 2));
}

void diag_sort(struct diag_list *dl)
{
	dl->head = sort_by_position(dl->head, dl->errors + dl->warnings);
	dl->tail = dl->head;
	while (dl->tail && dl->tail->next)
		dl->tail = dl->tail->next;
}

/* ---- text ---------------------------------------------------------------- */

struct palette {
	const char *bold, *error, *warning, *caret, *help, *reset;
};

static const struct palette colours = {
	"\033[1m", "\033[1;31m", "\033[1;35m", "\033[1;32m", "\033[1;36m", "\033[0m"
};
static const struct palette plain = { "", "", "", "", "", "" };

/* Prints the source line with a caret and tildes under the span. */
static void render_excerpt(const struct source *src, const struct diag *d,
                           const struct palette *p, FILE *out)
{
	struct position pos = source_position(src, d->span.off);
	struct span line = source_line_span(src, pos.line);
	const char *text = src->text + line.off;
	/* A span can start before its line's text: in a byte order mark. */
	uint32_t start = d->span.off > line.off ? d->span.off - line.off : 0;
	uint32_t end = start + d->span.len;

	if (end > line.len)
		end = line.len;
	fprintf(out, "%5u | %.*s\n", pos.line, (int)line.len, text);
	fputs("      | ", out);
	for (uint32_t i = 0; i < start; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			fputc(text[i] == '\t' ? '\t' : ' ', out);
	fputs(p->caret, out);
	fputc('^', out);
	for (uint32_t i = start + 1; i < end; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			fputc('~', out);
	fprintf(out, "%s\n", p->reset);
}

static void render_text(const struct diag_list *dl, const struct diag *d,
                        const struct palette *p, FILE *out)
{
	struct position pos = source_position(dl->src, d->span.off);
	int is_error = d->severity == DIAG_SEV_ERROR;

	fprintf(out, "%s%s:%u:%u:%s %s%s[%s]:%s %s%s%s\n", p->bold, dl->src->name, pos.line,
	        pos.column, p->reset, is_error ? p->error : p->warning,
	        is_error ? "error" : "warning", diag_code_name(d->code), p->reset, p->bold,
	        d->message, p->reset);
	render_excerpt(dl->src, d, p, out);
	for (unsigned i = 0; i < d->nhelp; i++)
		fprintf(out, "      = %shelp:%s %s\n", p->help, p->reset, d->help[i]);
}

/* ---- JSON ---------------------------------------------------------------- */

static void render_json(const struct diag_list *dl, const struct diag *d, FILE *out)
{
	struct position pos = source_position(dl->src, d->span.off);
	struct position end = source_position(dl->src, d->span.off + d->span.len);

	fputs("{\"file\":", out);
	json_write_string(out, dl->src->name);
	fprintf(out, ",\"line\":%u,\"column\":%u,\"end\":{\"line\":%u,\"column\":%u}", pos.line,
	        pos.column, end.line, end.column);
	fprintf(out, ",\"severity\":\"%s\",\"code\":\"%s\",\"message\":",
	        d->severity == DIAG_SEV_ERROR ? "error" : "warning", diag_code_name(d->code));
	json_write_string(out, d->message);
	fputs(",\"help\":[", out);
	for (unsigned i = 0; i < d->nhelp; i++) {
		if (i)
			fputc(',', out);
		json_write_string(out, d->help[i]);
	}
	fputs("]}\n", out);
}

void diag_render(const struct diag_list *dl, FILE *out, enum diag_format fmt, bool colour)
{
	for (const struct diag *d = dl->head; d; d = d->next) {
		if (fmt == DIAG_FORMAT_JSON)
			render_json(dl, d, out);
		else
			render_text(dl, d, colour ? &colours : &plain, out);
	}
}
