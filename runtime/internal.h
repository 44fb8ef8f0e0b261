/*
 * internal.h - what libep's own files share and callers must not use.
 */
#ifndef EP_INTERNAL_H
#define EP_INTERNAL_H

#include "ep.h"

/* Fills *err and returns -status. */
int ep_fail(struct ep_error *err, enum ep_status status, uint32_t offset);
/* The one linear pass over the code (runtime/verify.c). */
int ep_verify_code(struct ep_program *prog, struct ep_error *err);
bool ep_set_is(const struct ep_program *prog, uint32_t index, enum ep_set_kind kind);

/* String `index` of a program; the index must have been verified. */
static inline const char *ep_verified_string(const struct ep_program *prog, uint32_t index)
{
	return (const char *)prog->string_blob + ep_read_u32(prog->string_index + 8 * index);
}

#endif
