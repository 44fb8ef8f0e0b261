/*
 * source.c - loading policy text and mapping offsets to line:column.
 * Never interprets the text: that is the lexer's job.
 */
#include "source.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int index_lines(struct source *src)
{
	size_t n = 1;
	for (size_t i = 0; i < src->len; i++)
		n += src->text[i] == '\n';
	src->lines = malloc(n * sizeof(*src->lines));
	if (!src->lines)
		return -1;
	src->nlines = 0;
	/* A UTF-8 byte order mark is not part of line 1 (the lexer skips it too). */
	src->lines[src->nlines++] = src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	for (size_t i = 0; i < src->len; i++)
		if (src->text[i] == '\n')
			src->lines[src->nlines++] = (uint32_t)(i + 1);
	return 0;
}

int source_from_buffer(struct source *src, const char *name, const char *data, size_t len)
{
	memset(src, 0, sizeof(*src));
	if (len > SOURCE_MAX_BYTES) {
		errno = EFBIG;
		return -1;
	}
	src->name = name;
	src->text = malloc(len + 1);
	if (!src->text)
		return -1;
	memcpy(src->text, data, len);
	src->text[len] = '\0';
	src->len = len;
	if (index_lines(src) < 0) {
		source_free(src);
		return -1;
	}
	return 0;
}

static int read_stream(FILE *f, char **out, size_t *outlen)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		if (len == cap) {
			if (cap > SOURCE_MAX_BYTES) {
				free(buf);
				errno = EFBIG;
				return -1;
			}
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				return -1;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				errno = EIO;
				return -1;
			}
			break;
		}
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int read_file(const char *path, char **data, size_t *len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return -1;
	int rc = read_stream(f, data, len);
	int saved = errno;
	if (!is_stdin)
		fclose(f);
	errno = saved;
	return rc;
}

int source_load_file(struct source *src, const char *path)
{
	char *buf;
	size_t len;

	memset(src, 0, sizeof(*src));
	if (read_file(path, &buf, &len) < 0)
		return -1;
	int rc = source_from_buffer(src, strcmp(path, "-") == 0 ? "<stdin>" : path, buf, len);
	int saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

void source_free(struct source *src)
{
	free(src->text);
	free(src->lines);
	memset(src, 0, sizeof(*src));
}

struct span span_join(struct span a, struct span b)
{
	uint32_t end = b.off + b.len > a.off + a.len ? b.off + b.len : a.off + a.len;
	uint32_t start = a.off < b.off ? a.off : b.off;
	return (struct span){ start, end - start };
}

static size_t line_index(const struct source *src, uint32_t off)
{
	size_t lo = 0, hi = src->nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (src->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

struct position source_position(const struct source *src, uint32_t off)
{
	if (off > src->len)
		off = (uint32_t)src->len;
	size_t li = line_index(src, off);
	uint32_t col = 1;
	for (uint32_t i = src->lines[li]; i < off; i++)
		col += ((unsigned char)src->text[i] & 0xC0) != 0x80;
	return (struct position){ (uint32_t)li + 1, col };
}

struct span source_line_span(const struct source *src, uint32_t line)
{
	if (line == 0 || line > src->nlines)
		return (struct span){ 0, 0 };
	uint32_t start = src->lines[line - 1];
	uint32_t end = start;
	while (end < src->len && src->text[end] != '\n')
		end++;
	if (end > start && src->text[end - 1] == '\r')
		end--;
	return (struct span){ start, end - start };
}
