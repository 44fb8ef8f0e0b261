/*
 * bytes.h - a growable byte buffer for building binary output
 * (little-endian integers, as the bytecode format wants), and joining
 * strings.
 * Allocation failure aborts, as in arena.c.
 */
#ifndef POLC_BYTES_H
#define POLC_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct bytes {
	unsigned char *data;
	size_t len, cap;
};

void bytes_append(struct bytes *b, const void *data, size_t n);
void bytes_u8(struct bytes *b, uint8_t v);
void bytes_u16(struct bytes *b, uint16_t v);
void bytes_u32(struct bytes *b, uint32_t v);
void bytes_align4(struct bytes *b);
/* Overwrites 4 bytes at offset, which must already exist. */
void bytes_patch_u32(struct bytes *b, size_t offset, uint32_t v);
void bytes_free(struct bytes *b);

/* a, sep and b joined in a new malloc'd string (free with free()). */
char *str_join(const char *a, const char *sep, const char *b);

#endif
