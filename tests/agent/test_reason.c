/*
 * test_reason.c - the reason check (runtime/agent/reason.c) as tables: each
 * row is a decision's reason rules, what the user gave (choice, text), and
 * the expected status, logged text and user-facing message. Rows cover
 * every rule in reason.h: listed choices, Other, free text with and without
 * choices, required / optional / none, min and max in characters (not
 * bytes: 2-, 3- and 4-byte characters), the byte cap, trimming, invalid
 * UTF-8 (stray, overlong, surrogate, truncated, above U+10FFFF), control
 * and bidirectional characters, inconsistent decisions, small buffers; and
 * the choice-number parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "agent/reason.h"

/* The decisions the rows refer to. */
enum dec {
	CHOICES_OTHER,       /* required, 3 choices + Other, 10..40 characters */
	CHOICES_ONLY,        /* required, 3 choices, no Other */
	FREE_REQUIRED,       /* required, no choices, at least 30, no maximum */
	FREE_OPTIONAL,       /* optional, no choices, 5..10 */
	NONE,                /* no reason */
	CHOICES_OPTIONAL,    /* optional, 3 choices + Other, no bounds */
	ONE_CHOICE,          /* required, 1 choice */
	FREE_MAX500,         /* required, no choices, at most 500 */
	MIN_ONE,             /* required, no choices, at least 1 */
	DEC_COUNT
};

static const char *const CHOICES[] = { "Deploy", "Debug", "Install software" };

static struct ep_decision decision(enum dec which)
{
	struct ep_decision d;
	memset(&d, 0, sizeof(d));
	d.verdict = EP_ALLOW;
	d.reason.mode = EP_REASON_REQUIRED;
	switch (which) {
	case CHOICES_OTHER:
	case CHOICES_ONLY:
	case CHOICES_OPTIONAL:
		d.reason.nchoices = 3;
		memcpy(d.reason.choices, CHOICES, sizeof(CHOICES));
		d.reason.other_allowed = which != CHOICES_ONLY;
		if (which != CHOICES_OPTIONAL)
			d.reason.min = 10, d.reason.max = 40;
		else
			d.reason.mode = EP_REASON_OPTIONAL;
		break;
	case FREE_REQUIRED:  d.reason.min = 30; break;
	case FREE_OPTIONAL:  d.reason.mode = EP_REASON_OPTIONAL; d.reason.min = 5; d.reason.max = 10; break;
	case NONE:           d.reason.mode = EP_REASON_NONE; break;
	case ONE_CHOICE:     d.reason.nchoices = 1; d.reason.choices[0] = "Patch Tuesday"; break;
	case FREE_MAX500:    d.reason.max = 500; break;
	case MIN_ONE:        d.reason.min = 1; break;
	case DEC_COUNT:      break;
	}
	return d;
}

struct row {
	int line;
	enum dec dec;
	unsigned choice;
	const char *text;
	int status;
	const char *out;        /* the logged reason when status == REASON_OK */
	const char *message;    /* reason_message(), when not NULL */
};

#define ROW(dec, choice, text, status, out, message) \
	{ __LINE__, dec, choice, text, status, out, message }

/* "x" * n, "é" * n, ... built at run time for the length rows. */
static char rep_buf[8][4200];
static const char *rep(int slot, const char *unit, size_t n)
{
	char *p = rep_buf[slot];
	size_t u = strlen(unit);
	for (size_t i = 0; i < n; i++)
		memcpy(p + i * u, unit, u);
	p[n * u] = '\0';
	return p;
}

static void run_rows(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		struct ep_decision d = decision(r->dec);
		char out[REASON_OUT_SIZE], msg[REASON_MESSAGE_SIZE];
		int rc;
		memcpy(out, "untouched", 10);
		rc = reason_check(&d, r->choice, r->text, out, sizeof(out));
		if (rc != r->status)
			print_error("row at line %d: status %d (%s), expected %d\n", r->line, rc,
			            reason_strerror(rc), r->status);
		assert_int_equal(rc, r->status);
		if (rc == REASON_OK) {
			if (strcmp(out, r->out) != 0)
				print_error("row at line %d: out \"%s\"\n", r->line, out);
			assert_string_equal(out, r->out);
		} else {
			assert_string_equal(out, "untouched");   /* written only on success */
		}
		if (r->message) {
			reason_message(rc, &d, msg, sizeof(msg));
			if (strcmp(msg, r->message) != 0)
				print_error("row at line %d: message \"%s\"\n", r->line, msg);
			assert_string_equal(msg, r->message);
		}
	}
}

/* ---- choices and Other ----------------------------------------------------------- */

static void test_choices(void **state)
{
	const struct row rows[] = {
		ROW(CHOICES_OTHER, 1, NULL, REASON_OK, "Deploy", NULL),
		ROW(CHOICES_OTHER, 3, NULL, REASON_OK, "Install software", NULL),
		ROW(CHOICES_OTHER, 2, "   ", REASON_OK, "Debug", NULL),       /* blank text is none */
		ROW(CHOICES_OTHER, 4, "  migrating the db to v2 \n", REASON_OK,
		    "Other: migrating the db to v2", NULL),
		ROW(CHOICES_OTHER, 4, NULL, REASON_E_OTHER_EMPTY, NULL, "\"Other\" needs the reason as text"),
		ROW(CHOICES_OTHER, 4, " \t ", REASON_E_OTHER_EMPTY, NULL, NULL),
		ROW(CHOICES_OTHER, 5, NULL, REASON_E_CHOICE, NULL, "choose 1-4"),
		ROW(CHOICES_OTHER, 99999, "some long enough text", REASON_E_CHOICE, NULL, "choose 1-4"),
		ROW(CHOICES_OTHER, 1, "and a text", REASON_E_BOTH, NULL,
		    "give either a listed choice or a text, not both"),
		ROW(CHOICES_OTHER, 0, "need to fix the printer", REASON_OK,
		    "Other: need to fix the printer", NULL),                  /* free text is Other */
		ROW(CHOICES_OTHER, 0, NULL, REASON_E_REQUIRED, NULL, "a reason is required"),
		ROW(CHOICES_OTHER, 0, "", REASON_E_REQUIRED, NULL, NULL),
		ROW(CHOICES_ONLY, 3, NULL, REASON_OK, "Install software", NULL),
		ROW(CHOICES_ONLY, 4, "Other things to do", REASON_E_CHOICE, NULL, "choose 1-3"),
		ROW(CHOICES_ONLY, 0, "need to fix the printer", REASON_E_FREE_TEXT, NULL,
		    "free text is not allowed: choose 1-3"),
		ROW(ONE_CHOICE, 1, NULL, REASON_OK, "Patch Tuesday", NULL),
		ROW(ONE_CHOICE, 2, NULL, REASON_E_CHOICE, NULL, "choose 1"),
		ROW(FREE_REQUIRED, 1, NULL, REASON_E_NO_CHOICES, NULL,
		    "there are no reasons to choose from: give the reason as text"),
		ROW(CHOICES_OPTIONAL, 0, NULL, REASON_OK, "", NULL),
		ROW(CHOICES_OPTIONAL, 2, NULL, REASON_OK, "Debug", NULL),
		ROW(CHOICES_OPTIONAL, 0, "x", REASON_OK, "Other: x", NULL),
		ROW(CHOICES_OPTIONAL, 4, "y", REASON_OK, "Other: y", NULL),
	};
	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* ---- required, optional, none ---------------------------------------------------- */

static void test_modes(void **state)
{
	const struct row rows[] = {
		ROW(NONE, 0, NULL, REASON_OK, "", NULL),
		ROW(NONE, 0, "  \t", REASON_OK, "", NULL),
		ROW(NONE, 0, "because", REASON_E_UNEXPECTED, NULL, "this request takes no reason"),
		ROW(NONE, 1, NULL, REASON_E_UNEXPECTED, NULL, NULL),
		ROW(FREE_OPTIONAL, 0, NULL, REASON_OK, "", NULL),
		ROW(FREE_OPTIONAL, 0, " \r\n", REASON_OK, "", NULL),
		ROW(FREE_OPTIONAL, 0, "abc", REASON_E_TOO_SHORT, NULL,
		    "reason must be at least 5 characters"),               /* given, so min applies */
		ROW(FREE_OPTIONAL, 0, "abcde", REASON_OK, "abcde", NULL),
		ROW(FREE_REQUIRED, 0, NULL, REASON_E_REQUIRED, NULL, NULL),
		ROW(FREE_REQUIRED, 0, "    ", REASON_E_REQUIRED, NULL, NULL),
	};
	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* ---- lengths in characters --------------------------------------------------------- */

static void test_lengths(void **state)
{
	const struct row rows[] = {
		ROW(FREE_REQUIRED, 0, rep(0, "x", 29), REASON_E_TOO_SHORT, NULL,
		    "reason must be at least 30 characters"),
		ROW(FREE_REQUIRED, 0, rep(1, "x", 30), REASON_OK, rep_buf[1], NULL),   /* no prefix */
		/* 29 two-byte characters are 58 bytes and still too short. */
		ROW(FREE_REQUIRED, 0, rep(2, "\xc3\xa9", 29), REASON_E_TOO_SHORT, NULL, NULL),
		ROW(FREE_REQUIRED, 0, rep(3, "\xc3\xa9", 30), REASON_OK, rep_buf[3], NULL),
		ROW(FREE_OPTIONAL, 0, rep(4, "\xe6\x97\xa5", 10), REASON_OK, rep_buf[4], NULL),
		ROW(FREE_OPTIONAL, 0, rep(5, "\xe6\x97\xa5", 11), REASON_E_TOO_LONG, NULL,
		    "reason must be at most 10 characters"),
		ROW(FREE_OPTIONAL, 0, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		    "\xf0\x9f\x98\x80", REASON_OK, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", NULL),               /* 5 emoji, 20 bytes */
		ROW(CHOICES_OTHER, 4, "short", REASON_E_TOO_SHORT, NULL,
		    "reason must be at least 10 characters"),
		ROW(CHOICES_OTHER, 4, "0123456789", REASON_OK, "Other: 0123456789", NULL),
		ROW(CHOICES_OTHER, 0, "0123456789012345678901234567890123456789", REASON_OK,
		    "Other: 0123456789012345678901234567890123456789", NULL),
		ROW(CHOICES_OTHER, 4, "01234567890123456789012345678901234567890", REASON_E_TOO_LONG,
		    NULL, "reason must be at most 40 characters"),
		/* Trimmed before counting: 10 characters with spaces around. */
		ROW(CHOICES_OTHER, 4, "   0123456789   ", REASON_OK, "Other: 0123456789", NULL),
		/* Inner spaces count. */
		ROW(CHOICES_OTHER, 4, "a        b", REASON_OK, "Other: a        b", NULL),
		ROW(MIN_ONE, 0, "", REASON_E_REQUIRED, NULL, NULL),
		ROW(MIN_ONE, 0, "k", REASON_OK, "k", NULL),
		/* The byte cap: no maximum, or a maximum in characters that 1000 bytes cannot hold. */
		ROW(FREE_REQUIRED, 0, rep(6, "x", REASON_TEXT_MAX), REASON_OK, rep_buf[6], NULL),
		ROW(FREE_REQUIRED, 0, rep(7, "x", REASON_TEXT_MAX + 1), REASON_E_TOO_BIG, NULL,
		    "reason is too long (at most 1000 bytes)"),
	};
	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_byte_cap_with_maximum(void **state)
{
	const struct row rows[] = {
		ROW(FREE_MAX500, 0, rep(0, "\xe6\x97\xa5", 333), REASON_OK, rep_buf[0], NULL),
		ROW(FREE_MAX500, 0, rep(1, "\xe6\x97\xa5", 334), REASON_E_TOO_BIG, NULL, NULL),
		ROW(FREE_MAX500, 0, rep(2, "x", 501), REASON_E_TOO_LONG, NULL,
		    "reason must be at most 500 characters"),
	};
	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_singular_message(void **state)
{
	struct ep_decision d = decision(MIN_ONE);
	char msg[REASON_MESSAGE_SIZE];
	(void)state;
	assert_string_equal(reason_message(REASON_E_TOO_SHORT, &d, msg, sizeof(msg)),
	                    "reason must be at least 1 character");
}

/* ---- encoding and characters --------------------------------------------------------- */

static void test_encoding(void **state)
{
	const struct row rows[] = {
		ROW(FREE_OPTIONAL, 0, "caf\xc3\xa9 ok", REASON_OK, "caf\xc3\xa9 ok", NULL),
		ROW(FREE_OPTIONAL, 0, "abc\xff" "def", REASON_E_UTF8, NULL, "reason is not valid UTF-8"),
		ROW(FREE_OPTIONAL, 0, "\x80" "abcdef", REASON_E_UTF8, NULL, NULL),     /* stray continuation */
		ROW(FREE_OPTIONAL, 0, "ab\xc0\xaf" "cdef", REASON_E_UTF8, NULL, NULL),  /* overlong '/' */
		ROW(FREE_OPTIONAL, 0, "ab\xc1\xbf" "cdef", REASON_E_UTF8, NULL, NULL),
		ROW(FREE_OPTIONAL, 0, "ab\xe0\x80\xaf" "cd", REASON_E_UTF8, NULL, NULL),/* overlong 3-byte */
		ROW(FREE_OPTIONAL, 0, "ab\xf0\x80\x80\xaf", REASON_E_UTF8, NULL, NULL), /* overlong 4-byte */
		ROW(FREE_OPTIONAL, 0, "ab\xed\xa0\x80" "cd", REASON_E_UTF8, NULL, NULL),/* surrogate */
		ROW(FREE_OPTIONAL, 0, "ab\xf4\x90\x80\x80", REASON_E_UTF8, NULL, NULL), /* > U+10FFFF */
		ROW(FREE_OPTIONAL, 0, "ab\xf5\x80\x80\x80", REASON_E_UTF8, NULL, NULL),
		ROW(FREE_OPTIONAL, 0, "abcde\xe2\x82", REASON_E_UTF8, NULL, NULL),      /* truncated */
		ROW(FREE_OPTIONAL, 0, "abc\xe2\x82" "de", REASON_E_UTF8, NULL, NULL),
		ROW(FREE_OPTIONAL, 0, "ab\xf4\x8f\xbf\xbf" "cd", REASON_OK, "ab\xf4\x8f\xbf\xbf" "cd", NULL),
		ROW(FREE_OPTIONAL, 0, "tab\there", REASON_E_CONTROL, NULL,
		    "reason must not contain control characters"),
		ROW(FREE_OPTIONAL, 0, "two\nlines", REASON_E_CONTROL, NULL, NULL),
		ROW(FREE_OPTIONAL, 0, "cr\rhere", REASON_E_CONTROL, NULL, NULL),
		ROW(FREE_OPTIONAL, 0, "esc\x1b[2J", REASON_E_CONTROL, NULL, NULL),
		ROW(FREE_OPTIONAL, 0, "del\x7fx", REASON_E_CONTROL, NULL, NULL),
		ROW(FREE_OPTIONAL, 0, "nel\xc2\x85x", REASON_E_CONTROL, NULL, NULL),    /* C1 */
		ROW(FREE_OPTIONAL, 0, "ab\xe2\x80\xa8" "cd", REASON_E_CONTROL, NULL, NULL), /* U+2028 */
		ROW(FREE_OPTIONAL, 0, "ab\xe2\x80\xa9" "cd", REASON_E_CONTROL, NULL, NULL), /* U+2029 */
		ROW(FREE_OPTIONAL, 0, "ab\xe2\x80\xae" "cd", REASON_E_CONTROL, NULL, NULL), /* RLO */
		ROW(FREE_OPTIONAL, 0, "ab\xe2\x80\x8f" "cd", REASON_E_CONTROL, NULL, NULL), /* RLM */
		ROW(FREE_OPTIONAL, 0, "ab\xe2\x81\xa6" "cd", REASON_E_CONTROL, NULL, NULL), /* LRI */
		ROW(FREE_OPTIONAL, 0, "ab\xe2\x80\x8d" "cd", REASON_OK, "ab\xe2\x80\x8d" "cd", NULL), /* ZWJ */
		ROW(FREE_OPTIONAL, 0, "\t  hello  \r\n", REASON_OK, "hello", NULL),
		/* Encoding is checked before length: a short invalid text is an encoding error. */
		ROW(FREE_REQUIRED, 0, "\xff", REASON_E_UTF8, NULL, NULL),
	};
	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* ---- inconsistent decisions, buffers, arguments -------------------------------------- */

static void test_bad_decisions(void **state)
{
	char out[64];
	struct ep_decision d;
	(void)state;
	d = decision(CHOICES_OTHER);
	d.reason.mode = (enum ep_reason_mode)7;
	assert_int_equal(reason_check(&d, 1, NULL, out, sizeof(out)), REASON_E_DECISION);
	d = decision(CHOICES_OTHER);
	d.reason.nchoices = EP_MAX_CHOICES + 1;
	assert_int_equal(reason_check(&d, 1, NULL, out, sizeof(out)), REASON_E_DECISION);
	assert_int_equal(reason_menu_size(&d), 0);
	d = decision(CHOICES_OTHER);
	d.reason.choices[1] = NULL;
	assert_int_equal(reason_check(&d, 1, NULL, out, sizeof(out)), REASON_E_DECISION);
	d = decision(CHOICES_OTHER);
	d.reason.min = 41;
	assert_int_equal(reason_check(&d, 1, NULL, out, sizeof(out)), REASON_E_DECISION);
	/* Even a rule with no reason is checked. */
	d = decision(NONE);
	d.reason.min = 5, d.reason.max = 4;
	assert_int_equal(reason_check(&d, 0, NULL, out, sizeof(out)), REASON_E_DECISION);
}

static void test_buffers_and_arguments(void **state)
{
	struct ep_decision d = decision(CHOICES_OTHER);
	char out[32];
	(void)state;
	memcpy(out, "keep", 5);
	assert_int_equal(reason_check(&d, 3, NULL, out, 16), REASON_E_NOSPACE);  /* 16 + NUL */
	assert_string_equal(out, "keep");
	assert_int_equal(reason_check(&d, 3, NULL, out, 17), REASON_OK);
	assert_string_equal(out, "Install software");
	assert_int_equal(reason_check(&d, 4, "0123456789", out, 17), REASON_E_NOSPACE);
	assert_int_equal(reason_check(&d, 4, "0123456789", out, 18), REASON_OK);
	assert_int_equal(reason_check(&d, 1, NULL, out, 0), REASON_E_NOSPACE);
	assert_int_equal(reason_check(NULL, 1, NULL, out, sizeof(out)), REASON_E_ARG);
	assert_int_equal(reason_check(&d, 1, NULL, NULL, sizeof(out)), REASON_E_ARG);
	d = decision(NONE);
	assert_int_equal(reason_check(&d, 0, NULL, out, 1), REASON_OK);
	assert_string_equal(out, "");
}

static void test_menu_and_messages(void **state)
{
	struct ep_decision d;
	char msg[REASON_MESSAGE_SIZE], tiny[8];
	(void)state;
	d = decision(CHOICES_OTHER);
	assert_int_equal(reason_menu_size(&d), 4);
	d = decision(CHOICES_ONLY);
	assert_int_equal(reason_menu_size(&d), 3);
	d = decision(FREE_REQUIRED);
	assert_int_equal(reason_menu_size(&d), 0);
	assert_int_equal(reason_menu_size(NULL), 0);
	assert_string_equal(reason_message(REASON_E_CHOICE, &d, msg, sizeof(msg)),
	                    "there is nothing to choose from");
	assert_string_equal(reason_message(REASON_E_TOO_SHORT, NULL, msg, sizeof(msg)),
	                    "reason is too short");
	assert_string_equal(reason_message(-999, NULL, msg, sizeof(msg)), "unknown reason status");
	d = decision(FREE_REQUIRED);
	assert_string_equal(reason_message(REASON_E_TOO_SHORT, &d, tiny, sizeof(tiny)), "reason ");
	assert_string_equal(reason_message(REASON_E_TOO_SHORT, &d, tiny, 0), "");
	assert_string_equal(reason_message(REASON_E_TOO_SHORT, &d, NULL, 10), "");
	assert_string_equal(reason_strerror(REASON_OK), "ok");
	/* Every status has its own message. */
	for (int a = REASON_E_NUMBER; a <= REASON_OK; a++)
		for (int b = a + 1; b <= REASON_OK; b++)
			assert_string_not_equal(reason_strerror(a), reason_strerror(b));
}

/* ---- choice numbers ------------------------------------------------------------------ */

static void test_parse_choice(void **state)
{
	static const struct { const char *s; int status; unsigned value; } rows[] = {
		{ "1", REASON_OK, 1 },          { " 12 ", REASON_OK, 12 },
		{ "007", REASON_OK, 7 },        { "99999", REASON_OK, 99999 },
		{ "\t3\n", REASON_OK, 3 },
		{ "0", REASON_E_NUMBER, 0 },    { "00", REASON_E_NUMBER, 0 },
		{ "-1", REASON_E_NUMBER, 0 },   { "+1", REASON_E_NUMBER, 0 },
		{ "1a", REASON_E_NUMBER, 0 },   { "1 2", REASON_E_NUMBER, 0 },
		{ "", REASON_E_NUMBER, 0 },     { "   ", REASON_E_NUMBER, 0 },
		{ "123456", REASON_E_NUMBER, 0 }, { "0x1", REASON_E_NUMBER, 0 },
		{ "\xd9\xa1", REASON_E_NUMBER, 0 },   /* ARABIC-INDIC DIGIT ONE */
	};
	unsigned v;
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		v = 4242;
		assert_int_equal(reason_parse_choice(rows[i].s, &v), rows[i].status);
		assert_int_equal(v, rows[i].status == REASON_OK ? rows[i].value : 4242);
	}
	assert_int_equal(reason_parse_choice(NULL, &v), REASON_E_ARG);
	assert_int_equal(reason_parse_choice("1", NULL), REASON_E_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choices),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_byte_cap_with_maximum),
		cmocka_unit_test(test_singular_message),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_bad_decisions),
		cmocka_unit_test(test_buffers_and_arguments),
		cmocka_unit_test(test_menu_and_messages),
		cmocka_unit_test(test_parse_choice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
