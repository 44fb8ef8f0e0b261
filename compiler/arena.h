/*
 * arena.h - bump allocation for one compilation.
 *
 * Everything the front end builds (tokens' decoded strings, the AST, the
 * checked policy, diagnostics) lives in one arena and is released at once by
 * arena_free(). Nothing allocated here is ever freed individually.
 * Allocation failure aborts the process: polc is a batch compiler and has
 * no useful way to continue without memory.
 */
#ifndef POLC_ARENA_H
#define POLC_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
};

void *arena_alloc(struct arena *a, size_t size);   /* zeroed, 16-byte aligned */
char *arena_strndup(struct arena *a, const char *s, size_t len);
void arena_free(struct arena *a);

/* Typed helpers: ARENA_NEW(a, struct foo), ARENA_ARRAY(a, struct foo, n). */
#define ARENA_NEW(a, type) ((type *)arena_alloc((a), sizeof(type)))
#define ARENA_ARRAY(a, type, n) ((type *)arena_alloc_array((a), sizeof(type), (n)))

void *arena_alloc_array(struct arena *a, size_t elem, size_t count);

#endif
