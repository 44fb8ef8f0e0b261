/*
 * test_verify.c - runtime/load.c and runtime/verify.c: ep_load() accepts the
 * smallest valid .epb file and every program the compiler emits, and
 * rejects each malformed file with its exact status and location (byte
 * offset; code offset for code errors). Every bad file is made from a valid
 * one by changing exactly one thing, with tests/unit/epb_builder.h, which
 * follows runtime/format.h and not compiler/codegen.c. Ends with loops over
 * every truncation and every bit flip of a compiled example: each is
 * rejected or loads, and evaluation always yields a decision.
 *
 * Every file is loaded from a heap copy of exactly its length, so that
 * AddressSanitizer catches any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <glob.h>

#include "ep.h"
#include "epb_builder.h"
#include "helpers.h"

/* ---- loading helpers -------------------------------------------------------------- */

/* A few requests every program is evaluated with after loading. */
static void evaluate_some(const struct ep_program *prog, bool loaded)
{
	static const char *const groups[] = { "staff", "contractors" };
	static const int64_t grants[] = { 1772600000, 1772700000 };
	const struct ep_request reqs[] = {
		{ .user = "alice", .host = "mac-01", .now = 1772700000 },
		{ .user = "kiosk", .groups = groups, .ngroups = 2, .host = "lab-7",
		  .session = EP_SESSION_REMOTE, .now = 1773000000, .utc_offset = 7200,
		  .grants = grants, .ngrants = 2 },
		{ .user = "", .groups = groups, .ngroups = 1, .host = "", .now = -86400 * 400,
		  .utc_offset = -64800 },
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(*reqs); i++) {
		struct ep_decision d;
		memset(&d, 0xA5, sizeof(d));
		int rc = ep_evaluate(prog, &reqs[i], &d);
		assert_true(d.verdict == EP_ALLOW || d.verdict == EP_DENY);
		if (!loaded) {
			assert_int_equal(rc, -EP_NOT_VERIFIED);
			assert_int_equal(d.verdict, EP_DENY);
			assert_int_equal(d.code, EP_REASON_FAULT);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_true(d.rule == EP_RULE_OTHERWISE || (d.rule >= 0 && (uint32_t)d.rule < ep_rule_count(prog)));
		if (d.verdict == EP_ALLOW) {
			assert_int_equal(d.code, EP_REASON_ALLOWED);
			assert_true(d.duration >= 1 && d.duration <= d.max && d.max <= EP_MAX_DURATION);
			assert_true(d.reason.nchoices <= EP_MAX_CHOICES);
		} else {
			assert_int_equal(d.duration, 0);
			assert_true(d.code == EP_REASON_RULE_DENIED || d.code == EP_REASON_DEFAULT_DENIED ||
			            d.code == EP_REASON_LIMIT_REACHED);
		}
	}
}

/*
 * Loads a heap copy of exactly len bytes, then evaluates the program (a
 * verified one normally, a rejected one denies as NOT_VERIFIED). Returns
 * ep_load()'s result; *prog_out (if given) gets the loaded program, which
 * does not point into the copy once this returns, so only its counters may
 * be read.
 */
static int load_bytes(const void *bytes, size_t len, struct ep_error *err, struct ep_program *prog_out)
{
	unsigned char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	struct ep_program prog;
	memset(&prog, 0x5A, sizeof(prog));
	memset(err, 0x5A, sizeof(*err));
	int rc = ep_load(&prog, copy, len, err);
	assert_true(rc <= 0 && rc > -EP_STATUS_COUNT);
	if (rc == 0) {
		assert_int_equal(prog.verified, EP_VERIFIED_MAGIC);
	} else {
		assert_int_equal(err->status, -rc);
		assert_int_not_equal(prog.verified, EP_VERIFIED_MAGIC);
	}
	evaluate_some(&prog, rc == 0);
	if (prog_out)
		*prog_out = prog;
	free(copy);
	return rc;
}

static void print_load_error(int rc, const struct ep_error *err)
{
	print_error("ep_load: %d %s at offset %u%s", rc, ep_status_name(rc), err->offset,
	            err->has_pc ? "" : "\n");
	if (err->has_pc)
		print_error(" (pc %u)\n", err->pc);
}

/* The builder's file must load. */
static void expect_ok_bytes(const void *bytes, size_t len, struct ep_program *prog)
{
	struct ep_error err;
	int rc = load_bytes(bytes, len, &err, prog);
	if (rc != 0)
		print_load_error(rc, &err);
	assert_int_equal(rc, 0);
}

static void expect_ok(struct epb *b)
{
	epb_finish(b);
	expect_ok_bytes(b->file, b->len, NULL);
}

/* Exactly this status at this file offset, not a code error. */
static void expect_error_bytes(const void *bytes, size_t len, enum ep_status status, uint32_t offset)
{
	struct ep_error err;
	int rc = load_bytes(bytes, len, &err, NULL);
	if (rc != -(int)status || err.offset != offset || err.has_pc) {
		print_load_error(rc, &err);
		print_error("wanted %s at offset %u\n", ep_status_name((int)status), offset);
	}
	assert_int_equal(rc, -(int)status);
	assert_int_equal(err.status, status);
	assert_int_equal(err.offset, offset);
	assert_false(err.has_pc);
}

/* The already finished file in b, as it is now. */
static void expect_error(const struct epb *b, enum ep_status status, uint32_t offset)
{
	expect_error_bytes(b->file, b->len, status, offset);
}

/* Finishes b, then expects a code error at this code offset. */
static void expect_code_error(struct epb *b, enum ep_status status, uint32_t pc)
{
	struct ep_error err;
	epb_finish(b);
	int rc = load_bytes(b->file, b->len, &err, NULL);
	if (rc != -(int)status || !err.has_pc || err.pc != pc || err.offset != epb_code_at(b, pc)) {
		print_load_error(rc, &err);
		print_error("wanted %s at pc %u\n", ep_status_name((int)status), pc);
	}
	assert_int_equal(rc, -(int)status);
	assert_int_equal(err.status, status);
	assert_true(err.has_pc);
	assert_int_equal(err.pc, pc);
	assert_int_equal(err.offset, epb_code_at(b, pc));
}

/* ---- the minimal valid program ---------------------------------------------------- */

static void test_minimal_program_loads(void **state)
{
	(void)state;
	struct epb b;
	struct ep_program prog;

	epb_minimal(&b);
	epb_finish(&b);
	/* 64 header, 4 strings, 8 sets, 9 code + 3 padding, 44 rules, 0 signature */
	assert_int_equal(b.len, 64 + 4 + 8 + 9 + 3 + 44);
	expect_ok_bytes(b.file, b.len, &prog);
	assert_int_equal(prog.nstrings, 0);
	assert_int_equal(prog.nsets, 0);
	assert_int_equal(prog.nrules, 1);
	assert_int_equal(prog.code_size, 5);
	assert_int_equal(prog.max_stack, 0);
}

static void test_minimal_program_allows_by_otherwise(void **state)
{
	(void)state;
	struct epb b;
	struct ep_program prog;
	struct ep_error err;
	struct ep_decision d;
	const struct ep_request req = { .user = "alice", .host = "", .now = 1772700000 };

	epb_minimal(&b);
	epb_finish(&b);
	assert_int_equal(ep_load(&prog, b.file, b.len, &err), 0);
	assert_int_equal(ep_evaluate(&prog, &req, &d), 0);
	assert_int_equal(d.verdict, EP_ALLOW);
	assert_int_equal(d.code, EP_REASON_ALLOWED);
	assert_int_equal(d.rule, EP_RULE_OTHERWISE);
	assert_null(d.rule_name);
	assert_int_equal(d.duration, 300);
	assert_int_equal(d.auth, EP_AUTH_PASSWORD);
	assert_int_equal(ep_rule_count(&prog), 0);
}

static void test_load_fills_error_only_when_given(void **state)
{
	(void)state;
	struct epb b;
	struct ep_program prog;

	epb_minimal(&b);
	epb_finish(&b);
	b.file[0] = 0;
	assert_int_equal(ep_load(&prog, b.file, b.len, NULL), -EP_BAD_MAGIC);
}

/* ---- header ------------------------------------------------------------------------ */

static void test_null_buffer_is_truncated(void **state)
{
	(void)state;
	struct ep_program prog;
	struct ep_error err;

	assert_int_equal(ep_load(&prog, NULL, 100, &err), -EP_TRUNCATED);
	assert_int_equal(err.status, EP_TRUNCATED);
	assert_int_equal(err.offset, 0);
	assert_int_not_equal(prog.verified, EP_VERIFIED_MAGIC);
}

static void test_length_over_4gib_is_bad_size(void **state)
{
	(void)state;
#if SIZE_MAX > UINT32_MAX
	struct epb b;
	struct ep_program prog;
	struct ep_error err;

	/* Refused before a byte is read, so the small buffer is safe. */
	epb_minimal(&b);
	epb_finish(&b);
	assert_int_equal(ep_load(&prog, b.file, (size_t)UINT32_MAX + 1, &err), -EP_BAD_SIZE);
	assert_int_equal(err.status, EP_BAD_SIZE);
	assert_int_equal(err.offset, 0);
#else
	skip();
#endif
}

static void test_truncated_shorter_than_magic(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	/* Shorter than the magic, or cut inside an intact canary (a DOS text-mode
	 * read stops at its ^Z): truncated, at the end of what there is. */
	for (size_t len = 0; len < 8; len++)
		expect_error_bytes(b.file, len, EP_TRUNCATED, (uint32_t)len);
}

static void test_truncated_shorter_than_header(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	/* Magic and canary intact, the rest of the header missing: offset = length. */
	expect_error_bytes(b.file, 8, EP_TRUNCATED, 8);
	expect_error_bytes(b.file, 12, EP_TRUNCATED, 12);
	expect_error_bytes(b.file, 32, EP_TRUNCATED, 32);
	expect_error_bytes(b.file, EP_HEADER_SIZE - 1, EP_TRUNCATED, EP_HEADER_SIZE - 1);
}

static void test_truncated_shorter_than_file_size_field(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	expect_error_bytes(b.file, b.len - 1, EP_TRUNCATED, 12);
	expect_error_bytes(b.file, EP_HEADER_SIZE, EP_TRUNCATED, 12);
	epb_put_u32(&b, 12, (uint32_t)b.len + 4);
	expect_error(&b, EP_TRUNCATED, 12);
	epb_put_u32(&b, 12, UINT32_MAX);
	expect_error(&b, EP_TRUNCATED, 12);
}

static void test_bad_magic(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	b.file[0] = 0x09;                     /* high bit stripped by a 7-bit link */
	expect_error(&b, EP_BAD_MAGIC, 0);
	b.file[0] = 0x89;
	b.file[3] = 'b';
	expect_error(&b, EP_BAD_MAGIC, 0);
	memcpy(b.file, "bplist00", 8);
	expect_error(&b, EP_BAD_MAGIC, 0);
}

/* A text-mode write turns every LF into CR LF. */
static size_t lf_to_crlf(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n')
			out[n++] = '\r';
		out[n++] = in[i];
	}
	return n;
}

/* A text-mode read turns every CR LF into LF. */
static size_t crlf_to_lf(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (!(in[i] == '\r' && i + 1 < len && in[i + 1] == '\n'))
			out[n++] = in[i];
	return n;
}

static void test_bad_canary_crlf_converted(void **state)
{
	(void)state;
	struct epb b;
	static unsigned char converted[2 * EPB_FILE_MAX];

	epb_minimal(&b);
	epb_finish(&b);
	expect_error_bytes(converted, lf_to_crlf(b.file, b.len, converted), EP_BAD_CANARY, 4);
	expect_error_bytes(converted, crlf_to_lf(b.file, b.len, converted), EP_BAD_CANARY, 4);
}

static void test_bad_canary_any_byte(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	for (size_t i = 4; i < 8; i++) {
		unsigned char saved = b.file[i];
		b.file[i] = ' ';
		expect_error(&b, EP_BAD_CANARY, 4);
		b.file[i] = saved;
	}
}

static void test_wrong_version(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	static const uint16_t versions[] = { 0, EP_FORMAT_VERSION + 1, 0x0100 | EP_FORMAT_VERSION, 0xFFFF };
	for (size_t i = 0; i < sizeof(versions) / sizeof(*versions); i++) {
		epb_put_u16(&b, 8, versions[i]);
		expect_error(&b, EP_BAD_VERSION, 8);
	}
}

static void test_nonzero_flags(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	epb_put_u16(&b, 10, 1);
	expect_error(&b, EP_BAD_FLAGS, 10);
	epb_put_u16(&b, 10, 0x8000);
	expect_error(&b, EP_BAD_FLAGS, 10);
}

static void test_file_size_mismatch_extra_trailing_byte(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	b.file[b.len] = 0;
	expect_error_bytes(b.file, b.len + 1, EP_BAD_SIZE, 12);
}

static void test_file_size_field_too_small(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	epb_put_u32(&b, 12, (uint32_t)b.len - 4);
	expect_error(&b, EP_BAD_SIZE, 12);
	epb_put_u32(&b, 12, 0);
	expect_error(&b, EP_BAD_SIZE, 12);
}

static void test_bad_header_size(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	static const uint32_t sizes[] = { 0, 60, 68, 128 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		epb_put_u32(&b, 16, sizes[i]);
		expect_error(&b, EP_BAD_HEADER, 16);
	}
}

static void test_bad_section_count(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	static const uint32_t counts[] = { 0, 4, 6, UINT32_MAX };
	for (size_t i = 0; i < sizeof(counts) / sizeof(*counts); i++) {
		epb_put_u32(&b, 20, counts[i]);
		expect_error(&b, EP_BAD_HEADER, 20);
	}
}

/* ---- section table ------------------------------------------------------------------ */

/* Table entry of a section: offset at +0, size at +4. */
#define TABLE_AT(section) (24u + 8u * (section))

/* A string table of 15 bytes (4 + 8 + "ab\0"), so one padding byte precedes the sets. */
static void padded_program(struct epb *b)
{
	epb_minimal(b);
	epb_string(b, "ab");
	epb_finish(b);
	assert_int_equal(b->off[EP_SECTION_SETS], 80);
	assert_int_equal(b->size[EP_SECTION_STRINGS], 15);
}

static void test_padded_program_loads(void **state)
{
	(void)state;
	struct epb b;

	padded_program(&b);
	expect_ok_bytes(b.file, b.len, NULL);
}

static void test_section_offset_misaligned(void **state)
{
	(void)state;
	struct epb b;

	padded_program(&b);
	/* Right after the strings, but not on a 4-byte boundary. */
	epb_put_u32(&b, TABLE_AT(EP_SECTION_SETS), 79);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_SETS));
	epb_put_u32(&b, TABLE_AT(EP_SECTION_SETS), 81);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_SETS));
}

static void test_section_offset_out_of_order(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	/* Code and rules swapped in the table. */
	uint32_t code_off = b.off[EP_SECTION_CODE], rules_off = b.off[EP_SECTION_RULES];
	epb_put_u32(&b, TABLE_AT(EP_SECTION_CODE), rules_off);
	epb_put_u32(&b, TABLE_AT(EP_SECTION_RULES), code_off);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_CODE));

	/* The sets overlapping the strings. */
	epb_finish(&b);
	epb_put_u32(&b, TABLE_AT(EP_SECTION_SETS), EP_HEADER_SIZE);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_SETS));
}

static void test_section_leaves_a_gap(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	epb_put_u32(&b, TABLE_AT(EP_SECTION_STRINGS), EP_HEADER_SIZE + 4);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_STRINGS));
}

static void test_section_out_of_bounds(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	epb_put_u32(&b, TABLE_AT(EP_SECTION_SIGNATURE) + 4, 4);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_SIGNATURE));

	epb_finish(&b);
	epb_put_u32(&b, TABLE_AT(EP_SECTION_RULES) + 4, b.size[EP_SECTION_RULES] + 1);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_RULES));

	/* No 32-bit wrap-around: offset + 0xFFFFFFFF is far out of bounds. */
	epb_finish(&b);
	epb_put_u32(&b, TABLE_AT(EP_SECTION_STRINGS) + 4, UINT32_MAX);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_STRINGS));

	epb_finish(&b);
	epb_put_u32(&b, TABLE_AT(EP_SECTION_SIGNATURE), UINT32_MAX - 3);
	expect_error(&b, EP_BAD_SECTION, TABLE_AT(EP_SECTION_SIGNATURE));
}

static void test_sections_do_not_reach_end_of_file(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	size_t end = epb_finish(&b);
	/* Four more bytes that no section covers, and a file size that counts them. */
	memset(b.file + end, 0, 4);
	epb_put_u32(&b, 12, (uint32_t)end + 4);
	expect_error_bytes(b.file, end + 4, EP_BAD_SECTION, (uint32_t)end);
}

static void test_nonzero_padding(void **state)
{
	(void)state;
	struct epb b;

	padded_program(&b);
	b.file[79] = 1;
	expect_error(&b, EP_BAD_PADDING, 79);

	/* The minimal program's 9-byte code section is followed by 3 padding bytes. */
	epb_minimal(&b);
	epb_finish(&b);
	uint32_t pad = b.off[EP_SECTION_CODE] + b.size[EP_SECTION_CODE];
	assert_int_equal(b.off[EP_SECTION_RULES], pad + 3);
	b.file[pad + 2] = 0x80;
	expect_error(&b, EP_BAD_PADDING, pad);
}

static void test_sections_too_small_for_their_counts(void **state)
{
	(void)state;
	static const struct {
		enum ep_section section;
		size_t size;
		enum ep_status status;
	} cases[] = {
		{ EP_SECTION_STRINGS, 0, EP_BAD_STRING },
		{ EP_SECTION_STRINGS, 3, EP_BAD_STRING },
		{ EP_SECTION_SETS, 0, EP_BAD_SET },
		{ EP_SECTION_SETS, 4, EP_BAD_SET },
		{ EP_SECTION_SETS, 7, EP_BAD_SET },
		{ EP_SECTION_CODE, 0, EP_BAD_SECTION },
		{ EP_SECTION_CODE, 3, EP_BAD_SECTION },
		{ EP_SECTION_RULES, 0, EP_BAD_RULE },
		{ EP_SECTION_RULES, 3, EP_BAD_RULE },
	};
	static struct epb_bytes zeros;
	struct epb b;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		epb_minimal(&b);
		memset(&zeros, 0, sizeof(zeros));
		zeros.len = cases[i].size;
		b.raw[cases[i].section] = &zeros;
		epb_finish(&b);
		expect_error(&b, cases[i].status, b.off[cases[i].section]);
	}
}

/* ---- strings ----------------------------------------------------------------------- */

static void test_string_count_beyond_section(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_string(&b, "abc");
	epb_finish(&b);
	epb_put_u32(&b, b.off[EP_SECTION_STRINGS], 2);
	expect_error(&b, EP_BAD_STRING, b.off[EP_SECTION_STRINGS]);
	epb_put_u32(&b, b.off[EP_SECTION_STRINGS], UINT32_MAX);
	expect_error(&b, EP_BAD_STRING, b.off[EP_SECTION_STRINGS]);
}

static void test_string_empty_and_unicode_load(void **state)
{
	(void)state;
	struct epb b;
	struct ep_program prog;

	epb_minimal(&b);
	epb_string(&b, "");
	epb_string(&b, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91");   /* 2-, 3- and 4-byte sequences */
	epb_finish(&b);
	expect_ok_bytes(b.file, b.len, &prog);
	assert_int_equal(prog.nstrings, 2);
}

static void test_string_not_nul_terminated(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_string_entry(&b, epb_blob(&b, "abc", 4), 3);
	expect_ok(&b);

	epb_minimal(&b);
	epb_string_entry(&b, epb_blob(&b, "abc", 4), 2);         /* "ab" is followed by 'c' */
	epb_finish(&b);
	expect_error(&b, EP_BAD_STRING, epb_string_entry_at(&b, 0));
}

static void test_string_interior_nul(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_string_entry(&b, epb_blob(&b, "a\0b", 4), 1);
	epb_string_entry(&b, 2, 1);
	expect_ok(&b);

	epb_minimal(&b);
	epb_string_entry(&b, epb_blob(&b, "a\0b", 4), 1);
	epb_string_entry(&b, 0, 3);                                /* "a\0b" */
	epb_finish(&b);
	expect_error(&b, EP_BAD_STRING, epb_string_entry_at(&b, 1));
}

static void test_string_invalid_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\xC3\x28",             /* lead byte without continuation */
		"\x80",                 /* lone continuation byte */
		"\xC0\xAF",             /* overlong '/' */
		"\xE0\x80\xAF",         /* overlong, 3 bytes */
		"\xED\xA0\x80",         /* UTF-16 surrogate */
		"\xF4\x90\x80\x80",     /* above U+10FFFF */
		"\xE2\x82",             /* sequence cut short by the end */
		"\xFF",
	};
	struct epb b;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		epb_minimal(&b);
		epb_string(&b, "ok");
		epb_string(&b, bad[i]);
		epb_finish(&b);
		expect_error(&b, EP_BAD_STRING, epb_string_entry_at(&b, 1));
	}
}

static void test_string_out_of_blob(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_blob(&b, "abc", 4);
	epb_string_entry(&b, 3, 0);                    /* "" at the final NUL: fine */
	expect_ok(&b);

	static const uint32_t entries[][2] = {
		{ 0, 4 },                                   /* its NUL would be past the blob */
		{ 4, 0 },                                   /* starts past the blob */
		{ 1000, 1 },
		{ UINT32_MAX, UINT32_MAX },                 /* no 32-bit wrap-around */
		{ 1, UINT32_MAX },
	};
	for (size_t i = 0; i < sizeof(entries) / sizeof(*entries); i++) {
		epb_minimal(&b);
		epb_blob(&b, "abc", 4);
		epb_string_entry(&b, 0, 3);
		epb_string_entry(&b, entries[i][0], entries[i][1]);
		epb_finish(&b);
		expect_error(&b, EP_BAD_STRING, epb_string_entry_at(&b, 1));
	}
}

/* ---- sets ------------------------------------------------------------------------------ */

/* Strings for sets: 0 "a", 1 "b", 2 "c", 3 "a" again (same text, other index). */
static void set_program(struct epb *b)
{
	epb_minimal(b);
	epb_string(b, "a");
	epb_string(b, "b");
	epb_string(b, "c");
	epb_string(b, "a");
}

/* A program with one set of this kind and these items: loads, or fails on the set. */
static void check_set(uint8_t kind, const uint32_t *items, size_t n, bool valid)
{
	struct epb b;

	set_program(&b);
	epb_set_entry(&b, kind, 0, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		epb_item(&b, items[i]);
	epb_finish(&b);
	if (valid)
		expect_ok_bytes(b.file, b.len, NULL);
	else
		expect_error(&b, EP_BAD_SET, epb_set_entry_at(&b, 0));
}

#define SET_OK(kind, ...) \
	do { \
		const uint32_t items_[] = { __VA_ARGS__ }; \
		check_set((kind), items_, sizeof(items_) / sizeof(*items_), true); \
	} while (0)

#define SET_BAD(kind, ...) \
	do { \
		const uint32_t items_[] = { __VA_ARGS__ }; \
		check_set((kind), items_, sizeof(items_) / sizeof(*items_), false); \
	} while (0)

static void test_set_of_each_kind_loads(void **state)
{
	(void)state;
	SET_OK(EP_SET_STRINGS, 0, 1, 2);
	SET_OK(EP_SET_LIST, 2, 0, 1);
	SET_OK(EP_SET_TIMES, epb_time_range(540, 1020), epb_time_range(1320, 360));
	SET_OK(EP_SET_DATES, 20811, 20813, 20818, 20818);
}

static void test_set_unknown_kind(void **state)
{
	(void)state;
	SET_BAD(0, 0);
	SET_BAD(0x80, 0);
	SET_BAD(0xFF, 0);
}

static void test_set_reserved_bytes_nonzero(void **state)
{
	(void)state;
	struct epb b;

	for (unsigned i = 1; i < 4; i++) {
		set_program(&b);
		epb_set_entry(&b, EP_SET_STRINGS, 0, 1);
		epb_item(&b, 0);
		epb_finish(&b);
		b.file[epb_set_entry_at(&b, 0) + i] = 1;
		expect_error(&b, EP_BAD_SET, epb_set_entry_at(&b, 0));
	}
}

static void test_string_set_unsorted(void **state)
{
	(void)state;
	SET_BAD(EP_SET_STRINGS, 1, 0);
	SET_BAD(EP_SET_STRINGS, 0, 2, 1);
}

static void test_string_set_sorted_bytewise(void **state)
{
	(void)state;
	struct epb b;

	/* 'B' (0x42) < 'a' (0x61) < 'z' (0x7A) < 'é' (0xC3 0xA9) byte by byte. */
	epb_minimal(&b);
	uint32_t upper_b = epb_string(&b, "B"), a = epb_string(&b, "a");
	uint32_t z = epb_string(&b, "z"), e = epb_string(&b, "\xC3\xA9");
	const uint32_t sorted[] = { upper_b, a, z, e };
	epb_set(&b, EP_SET_STRINGS, sorted, 4);
	expect_ok(&b);

	epb_minimal(&b);
	upper_b = epb_string(&b, "B");
	a = epb_string(&b, "a");
	const uint32_t unsorted[] = { a, upper_b };
	epb_set(&b, EP_SET_STRINGS, unsorted, 2);
	epb_finish(&b);
	expect_error(&b, EP_BAD_SET, epb_set_entry_at(&b, 0));
}

static void test_string_set_duplicate(void **state)
{
	(void)state;
	SET_BAD(EP_SET_STRINGS, 0, 0);
	SET_BAD(EP_SET_STRINGS, 0, 3);        /* "a", "a": the same text under two indexes */
	SET_BAD(EP_SET_STRINGS, 0, 1, 1);
}

static void test_list_duplicate(void **state)
{
	(void)state;
	SET_OK(EP_SET_LIST, 1, 0);            /* any order */
	SET_BAD(EP_SET_LIST, 1, 1);
	/* Distinctness is by string index: comparing texts would make loading
	 * quadratic in long strings. The same text under two indexes loads. */
	SET_OK(EP_SET_LIST, 0, 2, 3);
}

static void test_string_set_item_out_of_range(void **state)
{
	(void)state;
	SET_BAD(EP_SET_STRINGS, 0, 4);
	SET_BAD(EP_SET_STRINGS, EP_NONE);
	SET_BAD(EP_SET_LIST, 4);
}

static void test_time_set_empty_range(void **state)
{
	(void)state;
	SET_BAD(EP_SET_TIMES, epb_time_range(600, 600));
	SET_BAD(EP_SET_TIMES, epb_time_range(0, 0));
}

static void test_time_set_out_of_range(void **state)
{
	(void)state;
	SET_OK(EP_SET_TIMES, epb_time_range(1439, 0));
	SET_OK(EP_SET_TIMES, epb_time_range(0, 1440));          /* to may be 24:00 */
	SET_BAD(EP_SET_TIMES, epb_time_range(1440, 60));
	SET_BAD(EP_SET_TIMES, epb_time_range(1440, 0));
	SET_BAD(EP_SET_TIMES, epb_time_range(60, 1441));
	SET_BAD(EP_SET_TIMES, epb_time_range(0xFFFF, 60));
}

static void test_time_set_unsorted(void **state)
{
	(void)state;
	SET_OK(EP_SET_TIMES, epb_time_range(500, 700), epb_time_range(600, 700));
	SET_OK(EP_SET_TIMES, epb_time_range(500, 600), epb_time_range(500, 700));
	SET_BAD(EP_SET_TIMES, epb_time_range(600, 700), epb_time_range(500, 700));
	SET_BAD(EP_SET_TIMES, epb_time_range(500, 700), epb_time_range(500, 600));
	SET_BAD(EP_SET_TIMES, epb_time_range(500, 700), epb_time_range(500, 700));
}

static void test_date_set_reversed_range(void **state)
{
	(void)state;
	SET_OK(EP_SET_DATES, 20811, 20811);
	SET_OK(EP_SET_DATES, (uint32_t)-5, 3);                   /* before 1970 */
	SET_BAD(EP_SET_DATES, 20812, 20811);
	SET_BAD(EP_SET_DATES, 3, (uint32_t)-5);
}

static void test_date_set_odd_count(void **state)
{
	(void)state;
	SET_BAD(EP_SET_DATES, 20811);
	SET_BAD(EP_SET_DATES, 20811, 20812, 20813);
}

static void test_date_set_unsorted(void **state)
{
	(void)state;
	SET_OK(EP_SET_DATES, 1, 2, 1, 3);
	SET_BAD(EP_SET_DATES, 5, 6, 1, 2);
	SET_BAD(EP_SET_DATES, 1, 3, 1, 2);
	SET_BAD(EP_SET_DATES, 1, 2, 1, 2);
}

static void test_set_empty(void **state)
{
	(void)state;
	static const uint8_t kinds[] = { EP_SET_STRINGS, EP_SET_TIMES, EP_SET_DATES, EP_SET_LIST };
	for (size_t i = 0; i < sizeof(kinds); i++)
		check_set(kinds[i], NULL, 0, false);
}

static void test_set_items_out_of_range(void **state)
{
	(void)state;
	struct epb b;
	static const uint32_t entries[][2] = { { 0, 3 }, { 2, 1 }, { 1, UINT32_MAX }, { UINT32_MAX, 1 } };

	for (size_t i = 0; i < sizeof(entries) / sizeof(*entries); i++) {
		set_program(&b);
		epb_item(&b, 0);
		epb_item(&b, 1);
		epb_set_entry(&b, EP_SET_STRINGS, entries[i][0], entries[i][1]);
		epb_finish(&b);
		expect_error(&b, EP_BAD_SET, epb_set_entry_at(&b, 0));
	}
}

static void test_set_counts_disagree_with_section(void **state)
{
	(void)state;
	struct epb b;
	const uint32_t items[] = { 0, 1 };

	set_program(&b);
	epb_set(&b, EP_SET_STRINGS, items, 2);
	epb_finish(&b);
	uint32_t at = b.off[EP_SECTION_SETS];
	epb_put_u32(&b, at, 2);                                  /* n: one set more */
	expect_error(&b, EP_BAD_SET, at);
	epb_put_u32(&b, at, UINT32_MAX);
	expect_error(&b, EP_BAD_SET, at);

	epb_finish(&b);
	epb_put_u32(&b, at + 4 + 12, 1);                          /* m: one item fewer */
	expect_error(&b, EP_BAD_SET, at);
	epb_put_u32(&b, at + 4 + 12, 3);
	expect_error(&b, EP_BAD_SET, at);
}

static void test_list_over_32_items(void **state)
{
	(void)state;
	struct epb b;
	uint32_t items[EP_MAX_CHOICES + 1];
	char name[8];

	for (size_t n = EP_MAX_CHOICES; n <= EP_MAX_CHOICES + 1; n++) {
		epb_minimal(&b);
		for (size_t i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "c%02zu", i);
			items[i] = epb_string(&b, name);
		}
		epb_set(&b, EP_SET_LIST, items, n);
		epb_finish(&b);
		if (n == EP_MAX_CHOICES)
			expect_ok_bytes(b.file, b.len, NULL);
		else
			expect_error(&b, EP_BAD_SET, epb_set_entry_at(&b, 0));
	}
}

static void test_string_set_over_32_items_loads(void **state)
{
	(void)state;
	struct epb b;
	uint32_t items[40];
	char name[8];

	epb_minimal(&b);
	for (size_t i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "u%02zu", i);
		items[i] = epb_string(&b, name);
	}
	epb_set(&b, EP_SET_STRINGS, items, 40);
	expect_ok(&b);
}

/* ---- rules -------------------------------------------------------------------------- */

/*
 * Strings 0 "r", 1 "msg"; sets 0 LIST ["r", "msg"], 1 STRINGS ["msg", "r"];
 * rule 0 as given, rule 1 `otherwise` as given; code
 * SESSION_IN 3; JUMP_IF_FALSE 5; DECIDE 0; DECIDE 1.
 */
static void rule_program(struct epb *b, const struct epb_rule *rule, const struct epb_rule *otherwise)
{
	epb_init(b);
	epb_string(b, "r");
	epb_string(b, "msg");
	const uint32_t list[] = { 0, 1 }, sorted[] = { 1, 0 };
	epb_set(b, EP_SET_LIST, list, 2);
	epb_set(b, EP_SET_STRINGS, sorted, 2);
	epb_rule(b, rule);
	epb_rule(b, otherwise);
	epb_op8(b, EP_OP_SESSION_IN, 3);
	epb_op32(b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(b, EP_OP_DECIDE, 0);
	epb_op32(b, EP_OP_DECIDE, 1);
	epb_finish(b);
}

/* Rule 0 as given, with a valid `otherwise`: loads, or fails on rule 0. */
static void check_rule(const struct epb_rule *rule, bool valid)
{
	struct epb b;
	const struct epb_rule otherwise = epb_allow(EP_NONE);

	rule_program(&b, rule, &otherwise);
	if (valid)
		expect_ok_bytes(b.file, b.len, NULL);
	else
		expect_error(&b, EP_BAD_RULE, epb_rule_at(&b, 0));
}

static void test_rule_valid_entries_load(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	check_rule(&r, true);
	r = epb_deny(0, EP_NONE);
	check_rule(&r, true);
	r = epb_deny(0, 1);
	check_rule(&r, true);

	/* Every field at its largest valid value. */
	r = epb_allow(0);
	r.message = 1;
	r.auth = 3;
	r.reason = EP_REASON_REQUIRED;
	r.flags = 3;
	r.duration = r.max = EP_MAX_DURATION;
	r.limit = EP_MAX_LIMIT;
	r.period = EP_PERIOD_MONTH;
	r.reason_min = r.reason_max = EP_MAX_REASON;
	r.choices = 0;
	check_rule(&r, true);
	r.reason_max = 0;                  /* no maximum */
	check_rule(&r, true);
}

static void test_rule_name_out_of_range(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(2);
	check_rule(&r, false);
	r = epb_allow(EP_NONE);            /* only `otherwise` has no name */
	check_rule(&r, false);
	r = epb_deny(2, EP_NONE);
	check_rule(&r, false);
}

static void test_rule_message_out_of_range(void **state)
{
	(void)state;
	struct epb_rule r = epb_deny(0, 2);
	check_rule(&r, false);
	r = epb_allow(0);
	r.message = 2;
	check_rule(&r, false);
}

static void test_rule_otherwise_with_a_name(void **state)
{
	(void)state;
	struct epb b;
	const struct epb_rule rule = epb_allow(0);
	struct epb_rule otherwise = epb_allow(0);

	rule_program(&b, &rule, &otherwise);
	expect_error(&b, EP_BAD_RULE, epb_rule_at(&b, 1));
	otherwise = epb_deny(0, 1);
	rule_program(&b, &rule, &otherwise);
	expect_error(&b, EP_BAD_RULE, epb_rule_at(&b, 1));
}

static void test_rule_kind_2(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.kind = 2;
	check_rule(&r, false);
	r.kind = 0xFF;
	check_rule(&r, false);
}

static void test_rule_duration_out_of_range(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.duration = 0;
	check_rule(&r, false);
	r.duration = r.max = EP_MAX_DURATION + 1;
	check_rule(&r, false);
	r.duration = r.max = UINT32_MAX;
	check_rule(&r, false);
	r.duration = r.max = 1;
	check_rule(&r, true);
}

static void test_rule_max_below_duration(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.max = r.duration - 1;
	check_rule(&r, false);
	r.max = 0;
	check_rule(&r, false);
	r.max = EP_MAX_DURATION + 1;       /* above the ceiling */
	check_rule(&r, false);
}

static void test_rule_limit_with_period_none(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.limit = 1;
	r.period = EP_PERIOD_NONE;
	check_rule(&r, false);
}

static void test_rule_limit_out_of_range_for_period(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.period = EP_PERIOD_DAY;
	r.limit = 0;
	check_rule(&r, false);
	r.limit = EP_MAX_LIMIT + 1;
	check_rule(&r, false);
	r.limit = 1;
	check_rule(&r, true);
}

static void test_rule_period_4(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.limit = 1;
	r.period = 4;
	check_rule(&r, false);
}

static void test_rule_reason_3(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.reason = 3;
	check_rule(&r, false);
}

static void test_rule_auth_and_flags_undefined_bits(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.auth = 4;
	check_rule(&r, false);
	r = epb_allow(0);
	r.flags = 4;
	check_rule(&r, false);
}

static void test_rule_reason_lengths(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.reason = EP_REASON_REQUIRED;
	r.reason_min = EP_MAX_REASON + 1;
	check_rule(&r, false);
	r.reason_min = 0;
	r.reason_max = EP_MAX_REASON + 1;
	check_rule(&r, false);
	r.reason_min = 10;
	r.reason_max = 9;
	check_rule(&r, false);
}

static void test_rule_choices_not_a_list(void **state)
{
	(void)state;
	struct epb_rule r = epb_allow(0);
	r.choices = 1;                     /* a sorted string set */
	check_rule(&r, false);
	r.choices = 2;                     /* no such set */
	check_rule(&r, false);
}

static void test_rule_reserved_byte_nonzero(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		struct epb_rule r = epb_allow(0);
		r.reserved[i] = 1;
		check_rule(&r, false);
		r = epb_deny(0, EP_NONE);
		r.reserved[i] = 0x80;
		check_rule(&r, false);
	}
}

static void test_rule_deny_entry_with_settings(void **state)
{
	(void)state;
	struct epb_rule r = epb_deny(0, 1);
	r.auth = EP_AUTH_PASSWORD;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.reason = EP_REASON_OPTIONAL;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.flags = 2;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.duration = 300;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.max = 300;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.limit = 1;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.period = EP_PERIOD_DAY;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.reason_min = 1;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.reason_max = 1;
	check_rule(&r, false);
	r = epb_deny(0, 1);
	r.choices = 0;
	check_rule(&r, false);
}

static void test_rule_table_counts(void **state)
{
	(void)state;
	struct epb b;

	/* No entry at all: not even `otherwise`. */
	epb_init(&b);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_finish(&b);
	expect_error(&b, EP_BAD_RULE, b.off[EP_SECTION_RULES]);

	/* A count that disagrees with the section size. */
	epb_minimal(&b);
	epb_finish(&b);
	epb_put_u32(&b, b.off[EP_SECTION_RULES], 2);
	expect_error(&b, EP_BAD_RULE, b.off[EP_SECTION_RULES]);
	epb_put_u32(&b, b.off[EP_SECTION_RULES], UINT32_MAX);
	expect_error(&b, EP_BAD_RULE, b.off[EP_SECTION_RULES]);
}

/* ---- signature section ------------------------------------------------------------------- */

static void test_signature_section_well_formed_loads(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_signature(&b, EP_SIG_ED25519, 0x11, 0x22);
	epb_finish(&b);
	assert_int_equal(b.size[EP_SECTION_SIGNATURE], EP_SIGNATURE_SIZE);
	expect_ok_bytes(b.file, b.len, NULL);
}

static void test_signature_section_wrong_size(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_signature(&b, EP_SIG_ED25519, 0x11, 0x22);
	b.signature.len = EP_SIGNATURE_SIZE - 1;
	epb_finish(&b);
	expect_error(&b, EP_BAD_SIGNATURE_SECTION, b.off[EP_SECTION_SIGNATURE]);

	epb_minimal(&b);
	epb_signature(&b, EP_SIG_ED25519, 0x11, 0x22);
	epb_append_u8(&b.signature, 0);
	epb_finish(&b);
	expect_error(&b, EP_BAD_SIGNATURE_SECTION, b.off[EP_SECTION_SIGNATURE]);

	epb_minimal(&b);
	epb_append_u32(&b.signature, EP_SIG_ED25519);
	epb_finish(&b);
	expect_error(&b, EP_BAD_SIGNATURE_SECTION, b.off[EP_SECTION_SIGNATURE]);
}

static void test_signature_section_wrong_algorithm(void **state)
{
	(void)state;
	struct epb b;
	static const uint32_t algorithms[] = { 0, 2, UINT32_MAX };

	for (size_t i = 0; i < sizeof(algorithms) / sizeof(*algorithms); i++) {
		epb_minimal(&b);
		epb_signature(&b, algorithms[i], 0x11, 0x22);
		epb_finish(&b);
		expect_error(&b, EP_BAD_SIGNATURE_SECTION, b.off[EP_SECTION_SIGNATURE]);
	}
}

/* ---- code section ------------------------------------------------------------------------- */

static void test_empty_code(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	b.code.len = 0;
	epb_finish(&b);
	expect_error(&b, EP_EMPTY_CODE, b.off[EP_SECTION_CODE]);
}

static void test_code_length_disagrees_with_section(void **state)
{
	(void)state;
	struct epb b;

	epb_minimal(&b);
	epb_finish(&b);
	epb_put_u32(&b, b.off[EP_SECTION_CODE], 4);
	expect_error(&b, EP_BAD_SECTION, b.off[EP_SECTION_CODE]);
	epb_put_u32(&b, b.off[EP_SECTION_CODE], 6);
	expect_error(&b, EP_BAD_SECTION, b.off[EP_SECTION_CODE]);
}

/*
 * For code tests: strings 0 "r", 1 "alice", 2 "bob"; sets 0 STRINGS
 * ["alice", "bob"], 1 TIMES [22:00..06:00], 2 DATES [2026-12-24..2026-12-25],
 * 3 LIST ["alice", "bob"]; rule 0 allow "r", rule 1 `otherwise`. No code yet.
 */
enum { STR_R, STR_ALICE, STR_BOB, NSTRINGS };
enum { SET_NAMES, SET_TIMES, SET_DATES, SET_CHOICES, NSETS };

static void code_program(struct epb *b)
{
	epb_init(b);
	epb_string(b, "r");
	epb_string(b, "alice");
	epb_string(b, "bob");
	const uint32_t names[] = { STR_ALICE, STR_BOB };
	const uint32_t times[] = { epb_time_range(22 * 60, 6 * 60) };
	const uint32_t dates[] = { 20811, 20812 };
	epb_set(b, EP_SET_STRINGS, names, 2);
	epb_set(b, EP_SET_TIMES, times, 1);
	epb_set(b, EP_SET_DATES, dates, 2);
	epb_set(b, EP_SET_LIST, names, 2);
	const struct epb_rule rule = epb_allow(STR_R), otherwise = epb_allow(EP_NONE);
	epb_rule(b, &rule);
	epb_rule(b, &otherwise);
}

/*
 * One rule: TEST; JUMP_IF_FALSE 5; DECIDE 0; DECIDE 1, the test an
 * instruction with a one- or four-byte operand (size 2 or 5).
 */
static void guarded_rule(struct epb *b, enum ep_opcode test, uint32_t a, unsigned size)
{
	code_program(b);
	if (size == 2)
		epb_op8(b, test, (uint8_t)a);
	else
		epb_op32(b, test, a);
	epb_op32(b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(b, EP_OP_DECIDE, 0);
	epb_op32(b, EP_OP_DECIDE, 1);
}

static void expect_guarded_ok(enum ep_opcode test, uint32_t a, unsigned size)
{
	struct epb b;
	guarded_rule(&b, test, a, size);
	expect_ok(&b);
}

static void expect_guarded_error(enum ep_opcode test, uint32_t a, unsigned size, enum ep_status status)
{
	struct epb b;
	guarded_rule(&b, test, a, size);
	expect_code_error(&b, status, 0);
}

static void test_every_opcode_in_a_valid_program(void **state)
{
	(void)state;
	struct epb b;
	struct ep_program prog;

	code_program(&b);
	epb_op32(&b, EP_OP_USER_EQ, STR_ALICE);
	epb_op32(&b, EP_OP_USER_IN, SET_NAMES);
	epb_op32(&b, EP_OP_USER_MATCH, STR_R);
	epb_op32(&b, EP_OP_GROUP_EQ, STR_ALICE);
	epb_op32(&b, EP_OP_GROUP_IN, SET_NAMES);
	epb_op32(&b, EP_OP_GROUP_MATCH, STR_BOB);
	epb_op32(&b, EP_OP_HOST_EQ, STR_BOB);
	epb_op32(&b, EP_OP_HOST_IN, SET_NAMES);
	epb_op32(&b, EP_OP_HOST_MATCH, STR_R);
	epb_op8(&b, EP_OP_SESSION_IN, 3);
	epb_op32(&b, EP_OP_TIME_IN, SET_TIMES);
	epb_op8(&b, EP_OP_DAY_IN, 0x7F);
	epb_op32(&b, EP_OP_DATE_IN, SET_DATES);
	epb_op(&b, EP_OP_NOT);
	for (int i = 0; i < 6; i++)
		epb_op(&b, EP_OP_AND);
	for (int i = 0; i < 6; i++)
		epb_op(&b, EP_OP_OR);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op32(&b, EP_OP_DECIDE, 1);
	epb_finish(&b);
	expect_ok_bytes(b.file, b.len, &prog);
	assert_int_equal(prog.max_stack, 13);
	assert_int_equal(prog.code_size, 13 * 5 - 2 * 3 + 1 + 12 + 15);
}

static void test_unknown_opcode(void **state)
{
	(void)state;
	struct epb b;
	static const uint8_t ops[] = { EP_OP_COUNT, 0x7F, 0x80, 0xFF };

	for (size_t i = 0; i < sizeof(ops); i++) {
		code_program(&b);
		epb_code(&b, &ops[i], 1);
		epb_op32(&b, EP_OP_DECIDE, 1);
		expect_code_error(&b, EP_BAD_OPCODE, 0);

		/* After a valid instruction, at pc 2. */
		code_program(&b);
		epb_op8(&b, EP_OP_SESSION_IN, 1);
		epb_code(&b, &ops[i], 1);
		expect_code_error(&b, EP_BAD_OPCODE, 2);
	}
}

static void test_instruction_truncated_at_end(void **state)
{
	(void)state;
	struct epb b;
	static const uint8_t session_in = EP_OP_SESSION_IN;
	static const uint8_t user_eq[] = { EP_OP_USER_EQ, 1, 0, 0 };

	code_program(&b);
	epb_code(&b, &session_in, 1);
	expect_code_error(&b, EP_TRUNCATED_INSN, 0);

	code_program(&b);
	epb_code(&b, user_eq, sizeof(user_eq));
	expect_code_error(&b, EP_TRUNCATED_INSN, 0);

	/* The final DECIDE one byte short. */
	guarded_rule(&b, EP_OP_SESSION_IN, 1, 2);
	b.code.len--;
	expect_code_error(&b, EP_TRUNCATED_INSN, 12);
}

static void test_string_index_out_of_range(void **state)
{
	(void)state;
	static const enum ep_opcode ops[] = { EP_OP_USER_EQ, EP_OP_USER_MATCH, EP_OP_GROUP_EQ,
	                                      EP_OP_GROUP_MATCH, EP_OP_HOST_EQ, EP_OP_HOST_MATCH };
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		expect_guarded_ok(ops[i], NSTRINGS - 1, 5);
		expect_guarded_error(ops[i], NSTRINGS, 5, EP_BAD_STRING_INDEX);
		expect_guarded_error(ops[i], EP_NONE, 5, EP_BAD_STRING_INDEX);
	}
}

static void test_set_index_out_of_range(void **state)
{
	(void)state;
	static const enum ep_opcode ops[] = { EP_OP_USER_IN, EP_OP_GROUP_IN, EP_OP_HOST_IN,
	                                      EP_OP_TIME_IN, EP_OP_DATE_IN };
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		expect_guarded_error(ops[i], NSETS, 5, EP_BAD_SET_INDEX);
		expect_guarded_error(ops[i], EP_NONE, 5, EP_BAD_SET_INDEX);
	}
}

static void test_set_of_wrong_kind(void **state)
{
	(void)state;
	expect_guarded_ok(EP_OP_USER_IN, SET_NAMES, 5);
	expect_guarded_ok(EP_OP_TIME_IN, SET_TIMES, 5);
	expect_guarded_ok(EP_OP_DATE_IN, SET_DATES, 5);

	expect_guarded_error(EP_OP_TIME_IN, SET_NAMES, 5, EP_BAD_SET_INDEX);
	expect_guarded_error(EP_OP_TIME_IN, SET_DATES, 5, EP_BAD_SET_INDEX);
	expect_guarded_error(EP_OP_DATE_IN, SET_TIMES, 5, EP_BAD_SET_INDEX);
	expect_guarded_error(EP_OP_USER_IN, SET_TIMES, 5, EP_BAD_SET_INDEX);
	expect_guarded_error(EP_OP_GROUP_IN, SET_DATES, 5, EP_BAD_SET_INDEX);
	/* A LIST is in the author's order, not sorted: no binary search on it. */
	expect_guarded_error(EP_OP_USER_IN, SET_CHOICES, 5, EP_BAD_SET_INDEX);
	expect_guarded_error(EP_OP_HOST_IN, SET_CHOICES, 5, EP_BAD_SET_INDEX);
}

static void test_mask_with_undefined_bits(void **state)
{
	(void)state;
	expect_guarded_ok(EP_OP_SESSION_IN, 0, 2);
	expect_guarded_ok(EP_OP_SESSION_IN, 3, 2);
	expect_guarded_ok(EP_OP_DAY_IN, 0x7F, 2);
	expect_guarded_error(EP_OP_SESSION_IN, 4, 2, EP_BAD_MASK);
	expect_guarded_error(EP_OP_SESSION_IN, 0xFF, 2, EP_BAD_MASK);
	expect_guarded_error(EP_OP_DAY_IN, 0x80, 2, EP_BAD_MASK);
	expect_guarded_error(EP_OP_DAY_IN, 0xFF, 2, EP_BAD_MASK);
}

static void test_rule_index_out_of_range(void **state)
{
	(void)state;
	struct epb b;

	code_program(&b);
	epb_op32(&b, EP_OP_DECIDE, 2);
	expect_code_error(&b, EP_BAD_RULE_INDEX, 0);

	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op32(&b, EP_OP_DECIDE, EP_NONE);
	expect_code_error(&b, EP_BAD_RULE_INDEX, 12);
}

/* SESSION_IN 1 (pc 0); JUMP_IF_FALSE a (pc 2); DECIDE 0 (pc 7); DECIDE 1 (pc 12); 17 bytes. */
static void jump_program(struct epb *b, uint32_t a)
{
	code_program(b);
	epb_op8(b, EP_OP_SESSION_IN, 1);
	epb_op32(b, EP_OP_JUMP_IF_FALSE, a);
	epb_op32(b, EP_OP_DECIDE, 0);
	epb_op32(b, EP_OP_DECIDE, 1);
}

static void test_jump_to_next_instruction_loads(void **state)
{
	(void)state;
	struct epb b;

	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 0);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_ok(&b);
}

static void test_backward_jump(void **state)
{
	(void)state;
	struct epb b;

	jump_program(&b, (uint32_t)-5);
	expect_code_error(&b, EP_BACKWARD_JUMP, 2);
	jump_program(&b, (uint32_t)-1);
	expect_code_error(&b, EP_BACKWARD_JUMP, 2);
	jump_program(&b, 0x80000000u);
	expect_code_error(&b, EP_BACKWARD_JUMP, 2);
}

static void test_jump_out_of_range(void **state)
{
	(void)state;
	struct epb b;

	jump_program(&b, 10);                  /* lands on 17, the end of the code */
	expect_code_error(&b, EP_JUMP_OUT_OF_RANGE, 2);
	jump_program(&b, 11);
	expect_code_error(&b, EP_JUMP_OUT_OF_RANGE, 2);
	jump_program(&b, 0x7FFFFFFF);
	expect_code_error(&b, EP_JUMP_OUT_OF_RANGE, 2);
}

static void test_jump_into_middle_of_instruction(void **state)
{
	(void)state;
	struct epb b;

	/* The error points at the jump's landing place. */
	jump_program(&b, 1);                   /* 8: inside DECIDE 0 */
	expect_code_error(&b, EP_JUMP_MID_INSN, 8);
	jump_program(&b, 4);                   /* 11: its last byte */
	expect_code_error(&b, EP_JUMP_MID_INSN, 11);

	/* Into the last instruction, found when the code ends: S (0); JIF 1 (2) to 8; DECIDE 1 (7). */
	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 1);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_code_error(&b, EP_JUMP_MID_INSN, 8);
	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 4);  /* 11: the last byte of the code */
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_code_error(&b, EP_JUMP_MID_INSN, 11);

	/* Into an instruction that nothing else reaches: that one is unreachable first. */
	jump_program(&b, 6);                   /* 13: inside the final DECIDE (12) */
	expect_code_error(&b, EP_UNREACHABLE, 12);
}

/*
 * n tests, each SESSION_IN 1; JUMP_IF_FALSE to its own DECIDE after all of
 * them, so n jumps are pending at once: DECIDE 0 (fall-through), then n
 * DECIDE 1, the i-th test's landing place.
 */
static void pending_jumps_program(struct epb *b, uint32_t n)
{
	code_program(b);
	uint32_t landing = 7 * n + 5;
	for (uint32_t i = 0; i < n; i++) {
		epb_op8(b, EP_OP_SESSION_IN, 1);
		epb_op32(b, EP_OP_JUMP_IF_FALSE, landing + 5 * i - (7 * i + 7));
	}
	epb_op32(b, EP_OP_DECIDE, 0);
	for (uint32_t i = 0; i < n; i++)
		epb_op32(b, EP_OP_DECIDE, 1);
}

static void test_64_pending_jumps_load(void **state)
{
	(void)state;
	struct epb b;

	pending_jumps_program(&b, EP_MAX_PENDING_JUMPS);
	expect_ok(&b);
}

static void test_too_many_pending_jumps(void **state)
{
	(void)state;
	struct epb b;

	pending_jumps_program(&b, EP_MAX_PENDING_JUMPS + 1);
	expect_code_error(&b, EP_TOO_MANY_JUMPS, 7 * EP_MAX_PENDING_JUMPS + 2);
}

/* n pushes, n - 1 ANDs, JUMP_IF_FALSE 5, DECIDE 0, DECIDE 1. */
static void deep_program(struct epb *b, unsigned n)
{
	code_program(b);
	for (unsigned i = 0; i < n; i++)
		epb_op8(b, EP_OP_SESSION_IN, 1);
	for (unsigned i = 1; i < n; i++)
		epb_op(b, EP_OP_AND);
	epb_op32(b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(b, EP_OP_DECIDE, 0);
	epb_op32(b, EP_OP_DECIDE, 1);
}

static void test_stack_of_64_loads(void **state)
{
	(void)state;
	struct epb b;
	struct ep_program prog;

	deep_program(&b, EP_STACK_MAX);
	epb_finish(&b);
	expect_ok_bytes(b.file, b.len, &prog);
	assert_int_equal(prog.max_stack, EP_STACK_MAX);
}

static void test_stack_overflow(void **state)
{
	(void)state;
	struct epb b;

	deep_program(&b, EP_STACK_MAX + 1);
	expect_code_error(&b, EP_STACK_OVERFLOW, 2 * EP_STACK_MAX);
}

static void test_stack_underflow(void **state)
{
	(void)state;
	struct epb b;
	static const enum ep_opcode ops[] = { EP_OP_AND, EP_OP_OR, EP_OP_NOT };

	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		code_program(&b);
		epb_op(&b, ops[i]);
		epb_op32(&b, EP_OP_DECIDE, 1);
		expect_code_error(&b, EP_STACK_UNDERFLOW, 0);
	}

	/* AND with one value on the stack. */
	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op(&b, EP_OP_AND);
	expect_code_error(&b, EP_STACK_UNDERFLOW, 2);
}

static void test_jump_if_false_on_empty_stack(void **state)
{
	(void)state;
	struct epb b;

	code_program(&b);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_code_error(&b, EP_STACK_UNDERFLOW, 0);
}

static void test_stack_depths_agree_at_a_join(void **state)
{
	(void)state;
	struct epb b;

	/* S; S; JIF 1 (to 10, depth 1); NOT (depth 1); 10: JIF 5; DECIDE 0; DECIDE 1 */
	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op8(&b, EP_OP_SESSION_IN, 2);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 1);
	epb_op(&b, EP_OP_NOT);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_ok(&b);

	/* Two jumps to the same place with the same depth. */
	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 12);    /* to 19 */
	epb_op8(&b, EP_OP_SESSION_IN, 2);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);     /* to 19 */
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_ok(&b);
}

static void test_stack_mismatch_at_join(void **state)
{
	(void)state;
	struct epb b;

	/* The jump arrives at 11 with depth 1, the fall-through with depth 2. */
	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op8(&b, EP_OP_SESSION_IN, 2);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 2);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op(&b, EP_OP_AND);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_code_error(&b, EP_STACK_MISMATCH, 11);
}

static void test_stack_mismatch_between_two_jumps(void **state)
{
	(void)state;
	struct epb b;

	/* Both jumps land on 14: the first with depth 1, the second (pc 9) with depth 0. */
	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op8(&b, EP_OP_SESSION_IN, 2);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 0);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_code_error(&b, EP_STACK_MISMATCH, 9);
}

static void test_decide_with_non_empty_stack(void **state)
{
	(void)state;
	struct epb b;

	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_code_error(&b, EP_STACK_NOT_EMPTY, 2);
}

static void test_unreachable_after_decide(void **state)
{
	(void)state;
	struct epb b;

	code_program(&b);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op32(&b, EP_OP_DECIDE, 1);
	expect_code_error(&b, EP_UNREACHABLE, 5);

	jump_program(&b, 5);
	epb_op(&b, EP_OP_NOT);
	expect_code_error(&b, EP_UNREACHABLE, 17);
}

static void test_missing_return(void **state)
{
	(void)state;
	struct epb b;

	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	expect_code_error(&b, EP_NO_RETURN, 2);

	/* The rule's jump lands on a test that runs off the end. */
	code_program(&b);
	epb_op8(&b, EP_OP_SESSION_IN, 1);
	epb_op32(&b, EP_OP_JUMP_IF_FALSE, 5);
	epb_op32(&b, EP_OP_DECIDE, 0);
	epb_op8(&b, EP_OP_SESSION_IN, 2);
	epb_op(&b, EP_OP_NOT);
	expect_code_error(&b, EP_NO_RETURN, 15);
}

/* ---- compiled programs ------------------------------------------------------------------ */

/* The source tree's root, from this file's path (tests/unit/test_verify.c). */
static const char *source_root(char *buf, size_t size)
{
	const char *me = __FILE__, *tail = strstr(me, "tests/unit/");
	size_t n = tail ? (size_t)(tail - me) : 0;
	if (n >= size)
		n = 0;
	memcpy(buf, me, n);
	buf[n] = '\0';
	return buf;
}

/* Compiles a policy file; returns 0 and the bytecode in *c when it compiled. */
static int compile_file(struct compilation *c, const char *path)
{
	struct source src;
	struct compile_options opts = { .target = NULL };

	if (source_load_file(&src, path) < 0) {
		print_error("cannot read %s\n", path);
		fail();
	}
	return compile_source(c, &src, &opts);
}

/* Every file matching pattern that compiles (all of them if must_compile) loads. */
static size_t load_compiled(const char *pattern, bool must_compile)
{
	char root[512], path[1024];
	glob_t g;
	size_t loaded = 0;

	snprintf(path, sizeof(path), "%s%s", source_root(root, sizeof(root)), pattern);
	if (glob(path, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct compilation c;
		int rc = compile_file(&c, g.gl_pathv[i]);
		if (must_compile && rc != 0)
			print_error("%s does not compile\n", g.gl_pathv[i]);
		assert_true(rc == 0 || !must_compile);
		if (rc == 0) {
			struct ep_error err;
			int lrc = load_bytes(c.bytecode, c.bytecode_len, &err, NULL);
			if (lrc != 0) {
				print_error("%s: ", g.gl_pathv[i]);
				print_load_error(lrc, &err);
			}
			assert_int_equal(lrc, 0);
			loaded++;
		}
		compilation_free(&c);
	}
	globfree(&g);
	return loaded;
}

static void test_compiled_examples_load(void **state)
{
	(void)state;
	assert_true(load_compiled("examples/*.ep", true) >= 2);
}

static void test_compiled_golden_policies_load(void **state)
{
	(void)state;
	load_compiled("tests/golden/*.ep", false);
}

/* examples/rules.ep, compiled. */
static void compile_rules_example(struct compilation *c)
{
	char root[512], path[1024];
	snprintf(path, sizeof(path), "%sexamples/rules.ep", source_root(root, sizeof(root)));
	assert_int_equal(compile_file(c, path), 0);
	assert_non_null(c->bytecode);
}

static void test_every_truncation_is_rejected(void **state)
{
	(void)state;
	struct compilation c;

	compile_rules_example(&c);
	for (size_t len = c.bytecode_len; len-- > 0;) {
		struct ep_error err;
		int rc = load_bytes(c.bytecode, len, &err, NULL);
		if (rc >= 0)
			print_error("truncated to %zu bytes, it loads\n", len);
		assert_true(rc < 0);
		if (len >= EP_HEADER_SIZE)
			assert_true(err.status == EP_TRUNCATED && err.offset == 12);
		else
			assert_true(err.status == EP_TRUNCATED && err.offset == len);
	}
	compilation_free(&c);
}

/*
 * The one kind of header flip that may load: a string section size grown
 * into the zero padding before the sets. The padding then counts as unused
 * blob bytes, which docs/bytecode.md section 5.1 says a reader must accept.
 */
static bool flip_absorbs_padding(const struct compilation *c, size_t bit)
{
	size_t at = TABLE_AT(EP_SECTION_STRINGS) + 4;
	if (bit / 8 < at || bit / 8 >= at + 4)
		return false;
	uint32_t size = ep_read_u32(c->bytecode + at);
	uint32_t flipped = size ^ (uint32_t)1 << (bit - 8 * at);
	return flipped > size && EP_HEADER_SIZE + (uint64_t)flipped <= ep_read_u32(c->bytecode + TABLE_AT(EP_SECTION_SETS));
}

static void test_every_header_bit_flip_is_rejected(void **state)
{
	(void)state;
	struct compilation c;

	compile_rules_example(&c);
	for (size_t bit = 0; bit < 8 * EP_HEADER_SIZE; bit++) {
		struct ep_error err;
		if (flip_absorbs_padding(&c, bit))
			continue;
		c.bytecode[bit / 8] ^= (unsigned char)(1u << bit % 8);
		int rc = load_bytes(c.bytecode, c.bytecode_len, &err, NULL);
		c.bytecode[bit / 8] ^= (unsigned char)(1u << bit % 8);
		if (rc >= 0)
			print_error("bit %zu of the header flipped, it loads\n", bit);
		assert_true(rc < 0);
	}
	compilation_free(&c);
}

static void test_every_bit_flip_loads_or_is_rejected(void **state)
{
	(void)state;
	struct compilation c;
	size_t loaded = 0;

	compile_rules_example(&c);
	for (size_t bit = 8 * EP_HEADER_SIZE; bit < 8 * c.bytecode_len; bit++) {
		struct ep_error err;
		c.bytecode[bit / 8] ^= (unsigned char)(1u << bit % 8);
		loaded += load_bytes(c.bytecode, c.bytecode_len, &err, NULL) == 0;
		c.bytecode[bit / 8] ^= (unsigned char)(1u << bit % 8);
	}
	/* Flips inside message text, for one, still verify. */
	assert_true(loaded > 0);
	compilation_free(&c);
}

static void test_every_byte_value_loads_or_is_rejected(void **state)
{
	(void)state;
	struct compilation c;
	static const unsigned char values[] = { 0x00, 0x01, 0x7F, 0x80, 0xFF };

	compile_rules_example(&c);
	for (size_t i = 0; i < c.bytecode_len; i++) {
		unsigned char saved = c.bytecode[i];
		for (size_t v = 0; v < sizeof(values); v++) {
			struct ep_error err;
			c.bytecode[i] = values[v];
			load_bytes(c.bytecode, c.bytecode_len, &err, NULL);
		}
		c.bytecode[i] = saved;
	}
	compilation_free(&c);
}

/* xorshift32: the same "random" mutations on every run. */
static uint32_t next_random(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void test_random_mutations_load_or_are_rejected(void **state)
{
	(void)state;
	struct compilation c;
	uint32_t x = 0x2545F491u;

	compile_rules_example(&c);
	unsigned char *copy = malloc(c.bytecode_len);
	assert_non_null(copy);
	for (int round = 0; round < 20000; round++) {
		struct ep_error err;
		memcpy(copy, c.bytecode, c.bytecode_len);
		for (uint32_t n = 1 + next_random(&x) % 4; n > 0; n--) {
			uint32_t r = next_random(&x);
			uint32_t at = EP_HEADER_SIZE + r % (uint32_t)(c.bytecode_len - EP_HEADER_SIZE);
			copy[at] = (unsigned char)(r >> 24);
		}
		load_bytes(copy, c.bytecode_len, &err, NULL);
	}
	free(copy);
	compilation_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_program_loads),
		cmocka_unit_test(test_minimal_program_allows_by_otherwise),
		cmocka_unit_test(test_load_fills_error_only_when_given),
		/* header */
		cmocka_unit_test(test_null_buffer_is_truncated),
		cmocka_unit_test(test_length_over_4gib_is_bad_size),
		cmocka_unit_test(test_truncated_shorter_than_magic),
		cmocka_unit_test(test_truncated_shorter_than_header),
		cmocka_unit_test(test_truncated_shorter_than_file_size_field),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_bad_canary_crlf_converted),
		cmocka_unit_test(test_bad_canary_any_byte),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_nonzero_flags),
		cmocka_unit_test(test_file_size_mismatch_extra_trailing_byte),
		cmocka_unit_test(test_file_size_field_too_small),
		cmocka_unit_test(test_bad_header_size),
		cmocka_unit_test(test_bad_section_count),
		/* section table */
		cmocka_unit_test(test_padded_program_loads),
		cmocka_unit_test(test_section_offset_misaligned),
		cmocka_unit_test(test_section_offset_out_of_order),
		cmocka_unit_test(test_section_leaves_a_gap),
		cmocka_unit_test(test_section_out_of_bounds),
		cmocka_unit_test(test_sections_do_not_reach_end_of_file),
		cmocka_unit_test(test_nonzero_padding),
		cmocka_unit_test(test_sections_too_small_for_their_counts),
		/* strings */
		cmocka_unit_test(test_string_count_beyond_section),
		cmocka_unit_test(test_string_empty_and_unicode_load),
		cmocka_unit_test(test_string_not_nul_terminated),
		cmocka_unit_test(test_string_interior_nul),
		cmocka_unit_test(test_string_invalid_utf8),
		cmocka_unit_test(test_string_out_of_blob),
		/* sets */
		cmocka_unit_test(test_set_of_each_kind_loads),
		cmocka_unit_test(test_set_unknown_kind),
		cmocka_unit_test(test_set_reserved_bytes_nonzero),
		cmocka_unit_test(test_string_set_unsorted),
		cmocka_unit_test(test_string_set_sorted_bytewise),
		cmocka_unit_test(test_string_set_duplicate),
		cmocka_unit_test(test_list_duplicate),
		cmocka_unit_test(test_string_set_item_out_of_range),
		cmocka_unit_test(test_time_set_empty_range),
		cmocka_unit_test(test_time_set_out_of_range),
		cmocka_unit_test(test_time_set_unsorted),
		cmocka_unit_test(test_date_set_reversed_range),
		cmocka_unit_test(test_date_set_odd_count),
		cmocka_unit_test(test_date_set_unsorted),
		cmocka_unit_test(test_set_empty),
		cmocka_unit_test(test_set_items_out_of_range),
		cmocka_unit_test(test_set_counts_disagree_with_section),
		cmocka_unit_test(test_list_over_32_items),
		cmocka_unit_test(test_string_set_over_32_items_loads),
		/* rules */
		cmocka_unit_test(test_rule_valid_entries_load),
		cmocka_unit_test(test_rule_name_out_of_range),
		cmocka_unit_test(test_rule_message_out_of_range),
		cmocka_unit_test(test_rule_otherwise_with_a_name),
		cmocka_unit_test(test_rule_kind_2),
		cmocka_unit_test(test_rule_duration_out_of_range),
		cmocka_unit_test(test_rule_max_below_duration),
		cmocka_unit_test(test_rule_limit_with_period_none),
		cmocka_unit_test(test_rule_limit_out_of_range_for_period),
		cmocka_unit_test(test_rule_period_4),
		cmocka_unit_test(test_rule_reason_3),
		cmocka_unit_test(test_rule_auth_and_flags_undefined_bits),
		cmocka_unit_test(test_rule_reason_lengths),
		cmocka_unit_test(test_rule_choices_not_a_list),
		cmocka_unit_test(test_rule_reserved_byte_nonzero),
		cmocka_unit_test(test_rule_deny_entry_with_settings),
		cmocka_unit_test(test_rule_table_counts),
		/* signature */
		cmocka_unit_test(test_signature_section_well_formed_loads),
		cmocka_unit_test(test_signature_section_wrong_size),
		cmocka_unit_test(test_signature_section_wrong_algorithm),
		/* code */
		cmocka_unit_test(test_empty_code),
		cmocka_unit_test(test_code_length_disagrees_with_section),
		cmocka_unit_test(test_every_opcode_in_a_valid_program),
		cmocka_unit_test(test_unknown_opcode),
		cmocka_unit_test(test_instruction_truncated_at_end),
		cmocka_unit_test(test_string_index_out_of_range),
		cmocka_unit_test(test_set_index_out_of_range),
		cmocka_unit_test(test_set_of_wrong_kind),
		cmocka_unit_test(test_mask_with_undefined_bits),
		cmocka_unit_test(test_rule_index_out_of_range),
		cmocka_unit_test(test_jump_to_next_instruction_loads),
		cmocka_unit_test(test_backward_jump),
		cmocka_unit_test(test_jump_out_of_range),
		cmocka_unit_test(test_jump_into_middle_of_instruction),
		cmocka_unit_test(test_64_pending_jumps_load),
		cmocka_unit_test(test_too_many_pending_jumps),
		cmocka_unit_test(test_stack_of_64_loads),
		cmocka_unit_test(test_stack_overflow),
		cmocka_unit_test(test_stack_underflow),
		cmocka_unit_test(test_jump_if_false_on_empty_stack),
		cmocka_unit_test(test_stack_depths_agree_at_a_join),
		cmocka_unit_test(test_stack_mismatch_at_join),
		cmocka_unit_test(test_stack_mismatch_between_two_jumps),
		cmocka_unit_test(test_decide_with_non_empty_stack),
		cmocka_unit_test(test_unreachable_after_decide),
		cmocka_unit_test(test_missing_return),
		/* compiled programs */
		cmocka_unit_test(test_compiled_examples_load),
		cmocka_unit_test(test_compiled_golden_policies_load),
		cmocka_unit_test(test_every_truncation_is_rejected),
		cmocka_unit_test(test_every_header_bit_flip_is_rejected),
		cmocka_unit_test(test_every_bit_flip_loads_or_is_rejected),
		cmocka_unit_test(test_every_byte_value_loads_or_is_rejected),
		cmocka_unit_test(test_random_mutations_load_or_are_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
