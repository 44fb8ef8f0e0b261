/*
 * bytes.c - growable little-endian byte buffer (see bytes.h).
 */
#include "bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(struct bytes *b, size_t n)
{
	if (b->cap - b->len >= n)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			abort();
		cap *= 2;
	}
	unsigned char *p = realloc(b->data, cap);
	if (!p) {
		fputs("polc: out of memory\n", stderr);
		abort();
	}
	b->data = p;
	b->cap = cap;
}

void bytes_append(struct bytes *b, const void *data, size_t n)
{
	if (n == 0)
		return;
	reserve(b, n);
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

void bytes_u8(struct bytes *b, uint8_t v)
{
	bytes_append(b, &v, 1);
}

void bytes_u16(struct bytes *b, uint16_t v)
{
	unsigned char le[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	bytes_append(b, le, 2);
}

void bytes_u32(struct bytes *b, uint32_t v)
{
	unsigned char le[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                        (unsigned char)(v >> 24) };
	bytes_append(b, le, 4);
}

void bytes_align4(struct bytes *b)
{
	static const unsigned char zeros[3];
	bytes_append(b, zeros, (4 - b->len % 4) % 4);
}

void bytes_patch_u32(struct bytes *b, size_t offset, uint32_t v)
{
	b->data[offset] = (unsigned char)v;
	b->data[offset + 1] = (unsigned char)(v >> 8);
	b->data[offset + 2] = (unsigned char)(v >> 16);
	b->data[offset + 3] = (unsigned char)(v >> 24);
}

char *str_join(const char *a, const char *sep, const char *b)
{
	struct bytes s = { 0 };
	bytes_append(&s, a, strlen(a));
	bytes_append(&s, sep, strlen(sep));
	bytes_append(&s, b, strlen(b) + 1);
	return (char *)s.data;
}

void bytes_free(struct bytes *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
