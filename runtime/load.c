/*
 * load.c - ep_load(): checks a .epb file's header, section table, string
 * table, sets and rule table, then hands the code to the verifier.
 *
 * Reads only inside the caller's buffer, bounds-checks every offset and
 * count before use (64-bit arithmetic, no overflow), and never marks a
 * program usable unless every check, including the code verifier's, passed.
 */
#include <string.h>

#include "ep.h"
#include "index.h"
#include "internal.h"
#include "text.h"

static const char *const status_messages[EP_STATUS_COUNT] = {
#define EP_STATUS_MESSAGE(name, msg) msg,
	EP_STATUSES(EP_STATUS_MESSAGE)
#undef EP_STATUS_MESSAGE
};

static const char *const status_names[EP_STATUS_COUNT] = {
#define EP_STATUS_NAME(name, msg) #name,
	EP_STATUSES(EP_STATUS_NAME)
#undef EP_STATUS_NAME
};

static unsigned status_index(int status)
{
	unsigned s = (unsigned)(status < 0 ? -status : status);
	return s < EP_STATUS_COUNT ? s : EP_EVAL_FAULT;
}

const char *ep_status_message(int status)
{
	return status_messages[status_index(status)];
}

const char *ep_status_name(int status)
{
	return status_names[status_index(status)];
}

int ep_fail(struct ep_error *err, enum ep_status status, uint32_t offset)
{
	if (err) {
		err->status = status;
		err->offset = offset;
		err->has_pc = false;
		err->pc = 0;
	}
	return -(int)status;
}

static uint32_t offset_of(const struct ep_program *prog, const unsigned char *p)
{
	return (uint32_t)(p - prog->bytes);
}

/* ---- header and section table ------------------------------------------- */

static int load_header(struct ep_program *prog, struct ep_error *err)
{
	const unsigned char *b = prog->bytes;

	if (prog->size < 4)
		return ep_fail(err, EP_TRUNCATED, prog->size);
	if (memcmp(b, EP_MAGIC, 4) != 0)
		return ep_fail(err, EP_BAD_MAGIC, 0);
	/* As much of the canary as there is must be intact; then check the length. */
	if (memcmp(b + 4, EP_CANARY, prog->size < 8 ? prog->size - 4 : 4) != 0)
		return ep_fail(err, EP_BAD_CANARY, 4);
	if (prog->size < EP_HEADER_SIZE)
		return ep_fail(err, EP_TRUNCATED, prog->size);
	if (ep_read_u16(b + 8) != EP_FORMAT_VERSION)
		return ep_fail(err, EP_BAD_VERSION, 8);
	if (ep_read_u16(b + 10) != 0)
		return ep_fail(err, EP_BAD_FLAGS, 10);
	uint32_t file_size = ep_read_u32(b + 12);
	if (file_size > prog->size)
		return ep_fail(err, EP_TRUNCATED, 12);
	if (file_size != prog->size)
		return ep_fail(err, EP_BAD_SIZE, 12);
	if (ep_read_u32(b + 16) != EP_HEADER_SIZE)
		return ep_fail(err, EP_BAD_HEADER, 16);
	if (ep_read_u32(b + 20) != EP_SECTION_COUNT)
		return ep_fail(err, EP_BAD_HEADER, 20);
	return 0;
}

static bool all_zero(const unsigned char *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Sections follow each other in order, 4-byte aligned, zero-padded, to the end. */
static int load_sections(struct ep_program *prog, struct ep_error *err)
{
	uint64_t expected = EP_HEADER_SIZE;

	for (unsigned i = 0; i < EP_SECTION_COUNT; i++) {
		const unsigned char *entry = prog->bytes + 24 + 8 * i;
		uint64_t off = ep_read_u32(entry), size = ep_read_u32(entry + 4);
		uint64_t aligned = (expected + 3) & ~(uint64_t)3;
		if (off != aligned || off + size > prog->size)
			return ep_fail(err, EP_BAD_SECTION, 24 + 8 * i);
		if (!all_zero(prog->bytes + expected, off - expected))
			return ep_fail(err, EP_BAD_PADDING, (uint32_t)expected);
		prog->section[i].data = prog->bytes + off;
		prog->section[i].size = (uint32_t)size;
		expected = off + size;
	}
	if (expected != prog->size)
		return ep_fail(err, EP_BAD_SECTION, (uint32_t)expected);
	return 0;
}

/* ---- strings ------------------------------------------------------------- */

static int load_strings(struct ep_program *prog, struct ep_error *err)
{
	const struct ep_section_view *s = &prog->section[EP_SECTION_STRINGS];
	if (s->size < 4)
		return ep_fail(err, EP_BAD_STRING, offset_of(prog, s->data));
	uint64_t n = ep_read_u32(s->data);
	if (4 + n * 8 > s->size)
		return ep_fail(err, EP_BAD_STRING, offset_of(prog, s->data));
	prog->nstrings = (uint32_t)n;
	prog->string_index = s->data + 4;
	prog->string_blob = s->data + 4 + n * 8;
	uint64_t blob_size = s->size - 4 - n * 8;

	/* Strings follow each other in the blob, so checking them all is linear. */
	uint64_t next_free = 0;
	for (uint32_t i = 0; i < prog->nstrings; i++) {
		const unsigned char *e = prog->string_index + 8 * i;
		uint64_t off = ep_read_u32(e), len = ep_read_u32(e + 4);
		if (off < next_free || len > EP_MAX_STRING || off + len >= blob_size ||
		    prog->string_blob[off + len] != 0 || memchr(prog->string_blob + off, 0, len) != NULL ||
		    !ep_utf8_valid(prog->string_blob + off, len))
			return ep_fail(err, EP_BAD_STRING, offset_of(prog, e));
		next_free = off + len + 1;
	}
	return 0;
}

const char *ep_string(const struct ep_program *prog, uint32_t index)
{
	return index < prog->nstrings ? ep_verified_string(prog, index) : NULL;
}

/* ---- sets ---------------------------------------------------------------- */

/* Sorted sets: strictly increasing (so distinct). Lists: distinct indexes, any order. */
static int check_string_items(const struct ep_program *prog, const unsigned char *items,
                              uint32_t count, bool sorted)
{
	for (uint32_t i = 0; i < count; i++) {
		uint32_t s = ep_read_u32(items + 4 * i);
		if (s >= prog->nstrings)
			return -1;
		const char *str = ep_string(prog, s);
		if (sorted) {
			if (i && strcmp(ep_string(prog, ep_read_u32(items + 4 * (i - 1))), str) >= 0)
				return -1;
			continue;
		}
		for (uint32_t j = 0; j < i; j++)
			if (ep_read_u32(items + 4 * j) == s)
				return -1;
	}
	return 0;
}

/* Items are from | to << 16, sorted strictly by (from, to); to may be 1440 (24:00). */
static int check_time_items(const unsigned char *items, uint32_t count)
{
	uint32_t prev_key = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t v = ep_read_u32(items + 4 * i);
		uint32_t from = v & 0xFFFF, to = v >> 16, key = from << 16 | to;
		if (from >= 1440 || to > 1440 || from == to || (i && key <= prev_key))
			return -1;
		prev_key = key;
	}
	return 0;
}

static int check_date_items(const unsigned char *items, uint32_t count)
{
	if (count % 2)
		return -1;
	for (uint32_t i = 0; i < count; i += 2) {
		int32_t from = (int32_t)ep_read_u32(items + 4 * i);
		int32_t to = (int32_t)ep_read_u32(items + 4 * i + 4);
		if (from > to)
			return -1;
		if (i) {
			int32_t pfrom = (int32_t)ep_read_u32(items + 4 * i - 8);
			int32_t pto = (int32_t)ep_read_u32(items + 4 * i - 4);
			if (pfrom > from || (pfrom == from && pto >= to))
				return -1;
		}
	}
	return 0;
}

static int load_sets(struct ep_program *prog, struct ep_error *err)
{
	const struct ep_section_view *s = &prog->section[EP_SECTION_SETS];
	uint32_t at = offset_of(prog, s->data);
	if (s->size < 8)
		return ep_fail(err, EP_BAD_SET, at);
	uint64_t n = ep_read_u32(s->data);
	if (4 + n * 12 + 4 > s->size)
		return ep_fail(err, EP_BAD_SET, at);
	uint64_t m = ep_read_u32(s->data + 4 + n * 12);
	if (4 + n * 12 + 4 + m * 4 != s->size)
		return ep_fail(err, EP_BAD_SET, at);
	prog->nsets = (uint32_t)n;
	prog->set_index = s->data + 4;
	prog->set_items = s->data + 4 + n * 12 + 4;

	/* Each set owns its items, in order, so checking them all is linear. */
	uint64_t next_item = 0;
	for (uint32_t i = 0; i < prog->nsets; i++) {
		const unsigned char *e = prog->set_index + 12 * i;
		uint8_t kind = e[0];
		uint64_t first = ep_read_u32(e + 4), count = ep_read_u32(e + 8);
		int bad = e[1] | e[2] | e[3] || count == 0 || first < next_item || first + count > m;
		next_item = first + count;
		if (!bad) {
			const unsigned char *items = prog->set_items + 4 * first;
			switch (kind) {
			case EP_SET_STRINGS: bad = check_string_items(prog, items, (uint32_t)count, true); break;
			case EP_SET_LIST:
				bad = count > EP_MAX_CHOICES || check_string_items(prog, items, (uint32_t)count, false);
				break;
			case EP_SET_TIMES: bad = check_time_items(items, (uint32_t)count); break;
			case EP_SET_DATES: bad = check_date_items(items, (uint32_t)count); break;
			case EP_SET_INDEX: {
				struct ep_index ix;
				bad = ep_index_read(prog, i, true, &ix) < 0;
				break;
			}
			default: bad = 1;
			}
		}
		if (bad)
			return ep_fail(err, EP_BAD_SET, offset_of(prog, e));
	}
	return 0;
}

bool ep_set_is(const struct ep_program *prog, uint32_t index, enum ep_set_kind kind)
{
	return index < prog->nsets && prog->set_index[12 * index] == kind;
}

/* ---- rules --------------------------------------------------------------- */

static bool string_or_none(const struct ep_program *prog, uint32_t s)
{
	return s == EP_NONE || s < prog->nstrings;
}

static bool allow_entry_valid(const struct ep_program *prog, const unsigned char *r)
{
	uint32_t duration = ep_read_u32(r + 12), max = ep_read_u32(r + 16);
	uint32_t limit = ep_read_u32(r + 20), period = r[24];
	uint32_t rmin = ep_read_u32(r + 28), rmax = ep_read_u32(r + 32), choices = ep_read_u32(r + 36);

	return r[9] <= 3 && r[10] <= EP_REASON_REQUIRED && r[11] <= 3 && duration >= 1 &&
	       duration <= EP_MAX_DURATION && max >= duration && max <= EP_MAX_DURATION &&
	       period <= EP_PERIOD_MONTH &&
	       (period == EP_PERIOD_NONE ? limit == 0 : limit >= 1 && limit <= EP_MAX_LIMIT) &&
	       rmin <= EP_MAX_REASON && rmax <= EP_MAX_REASON && (rmax == 0 || rmax >= rmin) &&
	       (choices == EP_NONE || ep_set_is(prog, choices, EP_SET_LIST));
}

static int load_rules(struct ep_program *prog, struct ep_error *err)
{
	const struct ep_section_view *s = &prog->section[EP_SECTION_RULES];
	if (s->size < 4)
		return ep_fail(err, EP_BAD_RULE, offset_of(prog, s->data));
	uint64_t n = ep_read_u32(s->data);
	if (n == 0 || 4 + n * EP_RULE_SIZE != s->size)
		return ep_fail(err, EP_BAD_RULE, offset_of(prog, s->data));
	prog->nrules = (uint32_t)n;
	prog->rules = s->data + 4;

	for (uint32_t i = 0; i < prog->nrules; i++) {
		const unsigned char *r = prog->rules + EP_RULE_SIZE * i;
		uint32_t name = ep_read_u32(r);
		bool is_otherwise = i == prog->nrules - 1;
		bool ok = (is_otherwise ? name == EP_NONE : name < prog->nstrings) &&
		          string_or_none(prog, ep_read_u32(r + 4)) && r[8] <= 1 &&
		          all_zero(r + 25, 3);
		if (ok && r[8] == 1)     /* deny: no settings at all */
			ok = all_zero(r + 9, 3) && all_zero(r + 12, 24) && ep_read_u32(r + 36) == EP_NONE;
		else if (ok)
			ok = allow_entry_valid(prog, r);
		if (!ok)
			return ep_fail(err, EP_BAD_RULE, offset_of(prog, r));
	}
	return 0;
}

uint32_t ep_rule_count(const struct ep_program *prog)
{
	return prog->nrules ? prog->nrules - 1 : 0;
}

/* ---- code and signature --------------------------------------------------- */

static int load_code(struct ep_program *prog, struct ep_error *err)
{
	const struct ep_section_view *s = &prog->section[EP_SECTION_CODE];
	if (s->size < 4 || ep_read_u32(s->data) != s->size - 4)
		return ep_fail(err, EP_BAD_SECTION, offset_of(prog, s->data));
	prog->code = s->data + 4;
	prog->code_size = s->size - 4;
	if (prog->code_size == 0)
		return ep_fail(err, EP_EMPTY_CODE, offset_of(prog, s->data));
	return 0;
}

static int load_signature(struct ep_program *prog, struct ep_error *err)
{
	const struct ep_section_view *s = &prog->section[EP_SECTION_SIGNATURE];
	if (s->size == 0)
		return 0;
	if (s->size != EP_SIGNATURE_SIZE || ep_read_u32(s->data) != EP_SIG_ED25519)
		return ep_fail(err, EP_BAD_SIGNATURE_SECTION, offset_of(prog, s->data));
	return 0;
}

int ep_load(struct ep_program *prog, const void *bytes, size_t len, struct ep_error *err)
{
	int rc;

	memset(prog, 0, sizeof(*prog));
	if (err)
		memset(err, 0, sizeof(*err));
	if (!bytes || len > UINT32_MAX)
		return ep_fail(err, bytes ? EP_BAD_SIZE : EP_TRUNCATED, 0);
	prog->bytes = bytes;
	prog->size = (uint32_t)len;
	if ((rc = load_header(prog, err)) < 0 || (rc = load_sections(prog, err)) < 0 ||
	    (rc = load_strings(prog, err)) < 0 || (rc = load_sets(prog, err)) < 0 ||
	    (rc = load_rules(prog, err)) < 0 || (rc = load_code(prog, err)) < 0 ||
	    (rc = load_signature(prog, err)) < 0 || (rc = ep_verify_code(prog, err)) < 0) {
		memset(prog, 0, sizeof(*prog));
		return rc;
	}
	prog->verified = EP_VERIFIED_MAGIC;
	return 0;
}
