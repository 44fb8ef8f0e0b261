/*
 * epb_builder.h - builds .epb files byte by byte for the runtime's tests.
 *
 * Written from the layout documented in runtime/format.h and
 * runtime/opcodes.h only, independently of compiler/codegen.c, so that the
 * tests check the format as documented rather than what the code generator
 * happens to emit. Header-only (static inline), no allocation: every buffer
 * lives in struct epb.
 *
 * Use: epb_init() (or epb_minimal() for the smallest valid program), add
 * strings, sets, code, rules and optionally a signature, then epb_finish()
 * lays out the header, section table (4-byte aligned, zero padded) and
 * sections into b->file / b->len and records every section's offset and
 * size in b->off[] / b->size[]. A test then changes exactly one thing,
 * either before epb_finish() (through the raw adders) or after it (through
 * epb_put_*() on the finished bytes).
 */
#ifndef POLC_TEST_EPB_BUILDER_H
#define POLC_TEST_EPB_BUILDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "opcodes.h"

#define EPB_BUF_MAX 4096
#define EPB_FILE_MAX (8 * EPB_BUF_MAX + 256)

struct epb_bytes {
	unsigned char data[EPB_BUF_MAX];
	size_t len;
};

struct epb {
	uint32_t nstrings;
	struct epb_bytes str_index, str_blob;     /* {u32 off, u32 len} entries; blob */
	uint32_t nsets, nitems;
	struct epb_bytes set_index, set_items;    /* {u8 kind, u8[3], u32 first, u32 count}; u32 items */
	struct epb_bytes code;                    /* instructions, without the length word */
	uint32_t nrules;
	struct epb_bytes rules;                   /* EP_RULE_SIZE-byte entries */
	struct epb_bytes signature;               /* empty or raw signature section */
	/* If set, epb_finish() writes this as the section's body verbatim. */
	const struct epb_bytes *raw[EP_SECTION_COUNT];

	/* Filled by epb_finish(). */
	unsigned char file[EPB_FILE_MAX];
	size_t len;
	uint32_t off[EP_SECTION_COUNT], size[EP_SECTION_COUNT];
};

/* A rule table entry, field by field (see format.h). */
struct epb_rule {
	uint32_t name, message;
	uint8_t kind, auth, reason, flags;
	uint32_t duration, max, limit;
	uint8_t period;
	uint8_t reserved[3];
	uint32_t reason_min, reason_max, choices;
};

/* ---- little-endian bytes ------------------------------------------------------ */

static inline void epb_append(struct epb_bytes *b, const void *data, size_t n)
{
	if (n > EPB_BUF_MAX - b->len)
		abort();   /* a test built more than the builder holds */
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

static inline void epb_append_u8(struct epb_bytes *b, uint8_t v)
{
	epb_append(b, &v, 1);
}

static inline void epb_append_u32(struct epb_bytes *b, uint32_t v)
{
	unsigned char le[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                        (unsigned char)(v >> 24) };
	epb_append(b, le, 4);
}

static inline void epb_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void epb_init(struct epb *b)
{
	memset(b, 0, sizeof(*b));
}

/* ---- strings ------------------------------------------------------------------- */

/* Appends raw bytes to the string blob; returns their offset in the blob. */
static inline uint32_t epb_blob(struct epb *b, const void *data, size_t n)
{
	uint32_t off = (uint32_t)b->str_blob.len;
	epb_append(&b->str_blob, data, n);
	return off;
}

/* Appends a raw string index entry; returns its string index. */
static inline uint32_t epb_string_entry(struct epb *b, uint32_t off, uint32_t len)
{
	epb_append_u32(&b->str_index, off);
	epb_append_u32(&b->str_index, len);
	return b->nstrings++;
}

/* A well-formed string: its bytes and terminating NUL in the blob. */
static inline uint32_t epb_string(struct epb *b, const char *s)
{
	size_t len = strlen(s);
	return epb_string_entry(b, epb_blob(b, s, len + 1), (uint32_t)len);
}

/* ---- sets ------------------------------------------------------------------------ */

/* Appends a raw set index entry (reserved bytes zero); returns its set index. */
static inline uint32_t epb_set_entry(struct epb *b, uint8_t kind, uint32_t first, uint32_t count)
{
	epb_append_u8(&b->set_index, kind);
	epb_append(&b->set_index, "\0\0\0", 3);
	epb_append_u32(&b->set_index, first);
	epb_append_u32(&b->set_index, count);
	return b->nsets++;
}

/* Appends one raw item to the shared item array; returns its item index. */
static inline uint32_t epb_item(struct epb *b, uint32_t v)
{
	epb_append_u32(&b->set_items, v);
	return b->nitems++;
}

/* A set whose items follow the items already added. */
static inline uint32_t epb_set(struct epb *b, enum ep_set_kind kind, const uint32_t *items, size_t n)
{
	uint32_t set = epb_set_entry(b, (uint8_t)kind, b->nitems, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		epb_item(b, items[i]);
	return set;
}

/* A time-range item: minutes of the day, from | to << 16. */
static inline uint32_t epb_time_range(unsigned from, unsigned to)
{
	return (uint32_t)from | (uint32_t)to << 16;
}

/* ---- code ------------------------------------------------------------------------ */

/* Appends raw code bytes; returns the pc of the first one. */
static inline uint32_t epb_code(struct epb *b, const void *data, size_t n)
{
	uint32_t pc = (uint32_t)b->code.len;
	epb_append(&b->code, data, n);
	return pc;
}

/* An instruction without operand; returns its pc. */
static inline uint32_t epb_op(struct epb *b, enum ep_opcode op)
{
	uint8_t byte = (uint8_t)op;
	return epb_code(b, &byte, 1);
}

/* An instruction with a one-byte (mask) operand; returns its pc. */
static inline uint32_t epb_op8(struct epb *b, enum ep_opcode op, uint8_t a)
{
	uint32_t pc = epb_op(b, op);
	epb_append_u8(&b->code, a);
	return pc;
}

/* An instruction with a four-byte operand; returns its pc. */
static inline uint32_t epb_op32(struct epb *b, enum ep_opcode op, uint32_t a)
{
	uint32_t pc = epb_op(b, op);
	epb_append_u32(&b->code, a);
	return pc;
}

/* ---- rules ------------------------------------------------------------------------- */

/* An allow entry with valid settings: password, 5 minutes, no limit, no reason. */
static inline struct epb_rule epb_allow(uint32_t name)
{
	struct epb_rule r = {
		.name = name, .message = EP_NONE, .kind = 0, .auth = 2, .reason = 0, .flags = 0,
		.duration = 300, .max = 300, .limit = 0, .period = 0,
		.reason_min = 0, .reason_max = 0, .choices = EP_NONE,
	};
	return r;
}

/* A deny entry: no settings at all. */
static inline struct epb_rule epb_deny(uint32_t name, uint32_t message)
{
	struct epb_rule r = { .name = name, .message = message, .kind = 1, .choices = EP_NONE };
	return r;
}

/* Appends a rule table entry; returns its rule index. */
static inline uint32_t epb_rule(struct epb *b, const struct epb_rule *r)
{
	struct epb_bytes *o = &b->rules;
	epb_append_u32(o, r->name);
	epb_append_u32(o, r->message);
	epb_append_u8(o, r->kind);
	epb_append_u8(o, r->auth);
	epb_append_u8(o, r->reason);
	epb_append_u8(o, r->flags);
	epb_append_u32(o, r->duration);
	epb_append_u32(o, r->max);
	epb_append_u32(o, r->limit);
	epb_append_u8(o, r->period);
	epb_append(o, r->reserved, 3);
	epb_append_u32(o, r->reason_min);
	epb_append_u32(o, r->reason_max);
	epb_append_u32(o, r->choices);
	return b->nrules++;
}

/* ---- signature ------------------------------------------------------------------- */

/* A well-formed signature section: algorithm, 8-byte key id, 64-byte signature. */
static inline void epb_signature(struct epb *b, uint32_t algorithm, uint8_t key_fill, uint8_t sig_fill)
{
	unsigned char fill[64];
	epb_append_u32(&b->signature, algorithm);
	memset(fill, key_fill, 8);
	epb_append(&b->signature, fill, 8);
	memset(fill, sig_fill, 64);
	epb_append(&b->signature, fill, 64);
}

/* ---- the file --------------------------------------------------------------------- */

static inline void epb_put_u8(struct epb *b, size_t off, uint8_t v)
{
	b->file[off] = v;
}

static inline void epb_put_u16(struct epb *b, size_t off, uint16_t v)
{
	b->file[off] = (unsigned char)v;
	b->file[off + 1] = (unsigned char)(v >> 8);
}

static inline void epb_put_u32(struct epb *b, size_t off, uint32_t v)
{
	epb_le32(b->file + off, v);
}

static inline uint32_t epb_get_u32(const struct epb *b, size_t off)
{
	return ep_read_u32(b->file + off);
}

/* Starts a section at the next 4-byte boundary, zero padding before it. */
static inline void epb_begin_section(struct epb *b, unsigned index)
{
	while (b->len % 4)
		b->file[b->len++] = 0;
	b->off[index] = (uint32_t)b->len;
}

static inline void epb_emit_u32(struct epb *b, uint32_t v)
{
	epb_le32(b->file + b->len, v);
	b->len += 4;
}

static inline void epb_emit(struct epb *b, const struct epb_bytes *part)
{
	memcpy(b->file + b->len, part->data, part->len);
	b->len += part->len;
}

/* Ends a section and records its offset and size in the section table. */
static inline void epb_end_section(struct epb *b, unsigned index)
{
	b->size[index] = (uint32_t)b->len - b->off[index];
	epb_le32(b->file + 24 + 8 * index, b->off[index]);
	epb_le32(b->file + 28 + 8 * index, b->size[index]);
}

/* Writes a section from its parts, or verbatim from b->raw[index]; true if written raw. */
static inline bool epb_raw_section(struct epb *b, unsigned index)
{
	epb_begin_section(b, index);
	if (!b->raw[index])
		return false;
	epb_emit(b, b->raw[index]);
	epb_end_section(b, index);
	return true;
}

/* Lays out the whole file from the parts added so far; returns its length. */
static inline size_t epb_finish(struct epb *b)
{
	memset(b->file, 0, sizeof(b->file));
	memcpy(b->file, EP_MAGIC, 4);
	memcpy(b->file + 4, EP_CANARY, 4);
	epb_put_u16(b, 8, EP_FORMAT_VERSION);
	epb_put_u16(b, 10, 0);
	epb_put_u32(b, 16, EP_HEADER_SIZE);
	epb_put_u32(b, 20, EP_SECTION_COUNT);
	b->len = EP_HEADER_SIZE;

	if (!epb_raw_section(b, EP_SECTION_STRINGS)) {      /* u32 n; n x {off, len}; blob */
		epb_emit_u32(b, b->nstrings);
		epb_emit(b, &b->str_index);
		epb_emit(b, &b->str_blob);
		epb_end_section(b, EP_SECTION_STRINGS);
	}
	if (!epb_raw_section(b, EP_SECTION_SETS)) {         /* u32 n; n entries; u32 m; m items */
		epb_emit_u32(b, b->nsets);
		epb_emit(b, &b->set_index);
		epb_emit_u32(b, b->nitems);
		epb_emit(b, &b->set_items);
		epb_end_section(b, EP_SECTION_SETS);
	}
	if (!epb_raw_section(b, EP_SECTION_CODE)) {         /* u32 len; len bytes */
		epb_emit_u32(b, (uint32_t)b->code.len);
		epb_emit(b, &b->code);
		epb_end_section(b, EP_SECTION_CODE);
	}
	if (!epb_raw_section(b, EP_SECTION_RULES)) {        /* u32 n; n entries */
		epb_emit_u32(b, b->nrules);
		epb_emit(b, &b->rules);
		epb_end_section(b, EP_SECTION_RULES);
	}
	if (!epb_raw_section(b, EP_SECTION_SIGNATURE)) {    /* empty or EP_SIGNATURE_SIZE bytes */
		epb_emit(b, &b->signature);
		epb_end_section(b, EP_SECTION_SIGNATURE);
	}

	epb_put_u32(b, 12, (uint32_t)b->len);
	return b->len;
}

/* File offsets of the parts tests point at (valid after epb_finish()). */
static inline uint32_t epb_string_entry_at(const struct epb *b, uint32_t i)
{
	return b->off[EP_SECTION_STRINGS] + 4 + 8 * i;
}

static inline uint32_t epb_blob_at(const struct epb *b)
{
	return b->off[EP_SECTION_STRINGS] + 4 + 8 * b->nstrings;
}

static inline uint32_t epb_set_entry_at(const struct epb *b, uint32_t i)
{
	return b->off[EP_SECTION_SETS] + 4 + 12 * i;
}

static inline uint32_t epb_item_at(const struct epb *b, uint32_t i)
{
	return b->off[EP_SECTION_SETS] + 4 + 12 * b->nsets + 4 + 4 * i;
}

static inline uint32_t epb_code_at(const struct epb *b, uint32_t pc)
{
	return b->off[EP_SECTION_CODE] + 4 + pc;
}

static inline uint32_t epb_rule_at(const struct epb *b, uint32_t i)
{
	return b->off[EP_SECTION_RULES] + 4 + EP_RULE_SIZE * i;
}

/*
 * The smallest valid program: no strings, no sets, one instruction
 * (DECIDE 0) and one rule table entry, the `otherwise` allow; no signature.
 * Not finished, so that a test can still add to it.
 */
static inline void epb_minimal(struct epb *b)
{
	epb_init(b);
	struct epb_rule otherwise = epb_allow(EP_NONE);
	epb_rule(b, &otherwise);
	epb_op32(b, EP_OP_DECIDE, 0);
}

#endif
