/*
 * source.h - a policy's text in memory and positions within it.
 *
 * A source owns a NUL-terminated copy of the file (the lexer relies on the
 * terminator) and a table of line starts, so that a byte offset can be
 * turned into a 1-based line and column. Columns count Unicode code points,
 * as editors do. Spans are byte ranges into the text; nothing is copied.
 */
#ifndef POLC_SOURCE_H
#define POLC_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct span {
	uint32_t off;   /* first byte */
	uint32_t len;   /* bytes */
};

struct source {
	const char *name;     /* as given on the command line, for messages */
	char *text;           /* NUL-terminated; may contain other NULs */
	size_t len;           /* bytes, without the terminator */
	uint32_t *lines;      /* byte offset of each line's first byte */
	size_t nlines;
};

struct position {
	uint32_t line;        /* 1-based */
	uint32_t column;      /* 1-based, in code points */
};

/* Largest file polc accepts; spans are 32-bit. */
#define SOURCE_MAX_BYTES (256u * 1024 * 1024)

/* 0 on success; -1 with errno set (EFBIG for files over the limit). */
int source_load_file(struct source *src, const char *path);
int source_from_buffer(struct source *src, const char *name, const char *data, size_t len);
void source_free(struct source *src);
/* Reads a whole file ("-" for standard input) into *data (free with free()). */
int read_file(const char *path, char **data, size_t *len);

/* The smallest span covering both. */
struct span span_join(struct span a, struct span b);

struct position source_position(const struct source *src, uint32_t off);
/* The line holding off, without its newline. */
struct span source_line_span(const struct source *src, uint32_t line);

#endif
