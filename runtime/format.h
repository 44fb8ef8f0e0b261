/*
 * format.h - the byte layout of a compiled policy (.epb), shared by the
 * compiler's code generator and libep's loader. docs/bytecode.md is the
 * specification; this header must say the same thing.
 *
 * All integers are little-endian. The file is a header, a section table and
 * five sections in fixed order, each starting on a 4-byte boundary right
 * after the previous one (zero padding between). Within sections, strings
 * follow each other in the blob (at most EP_MAX_STRING bytes each) and
 * each set's items follow the previous set's, so loading is linear:
 *
 *   0  magic    89 45 50 42        ("\x89EPB": a high bit, caught by 7-bit links)
 *   4  canary   0D 0A 1A 0A        (caught by CRLF and ^Z text-mode mangling)
 *   8  u16 version, u16 flags (0)
 *  12  u32 file size, u32 header size (64), u32 section count (5)
 *  24  5 x { u32 offset, u32 size }: strings, sets, code, rules, signature
 *  64  sections ...
 */
#ifndef EP_FORMAT_H
#define EP_FORMAT_H

#include <stdint.h>

#define EP_MAGIC "\x89" "EPB"
#define EP_CANARY "\r\n\x1a\n"
#define EP_FORMAT_VERSION 1
#define EP_HEADER_SIZE 64
#define EP_NONE 0xFFFFFFFFu          /* "no string / no set" in an index field */

enum ep_section {
	EP_SECTION_STRINGS,   /* u32 n; n x {u32 off, u32 len}; blob of NUL-terminated UTF-8 */
	EP_SECTION_SETS,      /* u32 n; n x {u8 kind, u8[3] 0, u32 first, u32 count}; u32 m; m x u32 */
	EP_SECTION_CODE,      /* u32 len; len bytes of instructions */
	EP_SECTION_RULES,     /* u32 n; n x rule entry (EP_RULE_SIZE bytes); the last is `otherwise` */
	EP_SECTION_SIGNATURE, /* empty, or EP_SIGNATURE_SIZE bytes (see below) */
	EP_SECTION_COUNT
};

enum ep_set_kind {
	EP_SET_STRINGS = 1,   /* string indexes, strictly increasing by bytewise order */
	EP_SET_TIMES = 2,     /* items: from | to << 16, from 0..1439, to 0..1440, from != to, sorted */
	EP_SET_DATES = 3,     /* item pairs: from, to as int32 days since 1970, from <= to, sorted */
	EP_SET_LIST = 4,      /* string indexes in the author's order, distinct (reason choices) */
	EP_SET_INDEX = 5,     /* a rule index for the INDEX instruction (runtime/index.h) */
};

/*
 * Rule entry, EP_RULE_SIZE bytes:
 *   0 u32 name       string index (EP_NONE for the final `otherwise` entry)
 *   4 u32 message    string index or EP_NONE
 *   8 u8  kind       0 allow, 1 deny
 *   9 u8  auth       bit 0 biometric, bit 1 password
 *  10 u8  reason     0 none, 1 optional, 2 required
 *  11 u8  flags      bit 0 other allowed, bit 1 timer shown
 *  12 u32 duration   seconds, 1..86400
 *  16 u32 max        seconds, duration..86400
 *  20 u32 limit      count, 1..10000; 0 when period is none
 *  24 u8  period     0 none, 1 day, 2 week, 3 month; then 3 zero bytes
 *  28 u32 reason_min characters, 0..1000
 *  32 u32 reason_max characters, 0 (no maximum) or reason_min..1000
 *  36 u32 choices    LIST set index or EP_NONE
 * A deny entry has all settings (bytes 9..35) zero and choices EP_NONE.
 */
#define EP_RULE_SIZE 40

/* Signature section: u32 algorithm (1 = Ed25519), u8[8] key id, u8[64] signature. */
#define EP_SIGNATURE_SIZE 76
#define EP_SIG_ED25519 1

/* Limits the verifier enforces; the compiler refuses policies beyond them. */
#define EP_STACK_MAX 64
#define EP_MAX_PENDING_JUMPS 64
#define EP_MAX_CHOICES 32
#define EP_MAX_DURATION 86400u
#define EP_MAX_LIMIT 10000u
#define EP_MAX_REASON 1000u
#define EP_MAX_STRING 4096u           /* bytes in one string, without its NUL */

static inline uint32_t ep_read_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t ep_read_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

#endif
