/*
 * test_noalloc.c - libep performs no heap allocation: loading, verifying
 * and evaluating examples/rules.ep many times, with requests of every
 * kind, calls malloc, calloc, realloc and free zero times.
 *
 * On glibc this file defines malloc, calloc, realloc and free itself,
 * forwarding to __libc_malloc and friends and counting calls while a flag
 * is set; the executable's definitions take the place of libc's for every
 * caller in the process. Sanitizer runtimes (ASan, MSan, TSan) install
 * their own allocator, which these wrappers would fight with, so under a
 * sanitizer, or on another C library, the tests are skipped.
 * tests/tools/check-libep-symbols checks the same from the other side: no
 * libep object references an allocator or I/O function at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ep.h"
#include "helpers.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NOALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define NOALLOC_SANITIZED 1
#endif
#endif

#if defined(__GLIBC__) && !defined(NOALLOC_SANITIZED)
#define NOALLOC_WRAPPERS 1

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static volatile int counting;
static volatile unsigned long allocator_calls;

void *malloc(size_t size)
{
	if (counting)
		allocator_calls++;
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	if (counting)
		allocator_calls++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (counting)
		allocator_calls++;
	return __libc_realloc(p, size);
}

void free(void *p)
{
	if (counting)
		allocator_calls++;
	__libc_free(p);
}

static void start_counting(void)
{
	allocator_calls = 0;
	counting = 1;
}

static unsigned long stop_counting(void)
{
	counting = 0;
	return allocator_calls;
}

/* examples/rules.ep, compiled (allocates: call before counting). */
static void compile_rules_example(struct compilation *c)
{
	const char *me = __FILE__, *tail = strstr(me, "tests/unit/");
	char path[1024];
	struct source src;
	struct compile_options opts = { .target = NULL };

	snprintf(path, sizeof(path), "%.*sexamples/rules.ep", tail ? (int)(tail - me) : 0, me);
	assert_int_equal(source_load_file(&src, path), 0);
	assert_int_equal(compile_source(c, &src, &opts), 0);
	assert_non_null(c->bytecode);
}

static void count_trace(void *ctx, uint32_t pc, bool result)
{
	(void)pc;
	(void)result;
	++*(unsigned *)ctx;
}
#endif

/* Skips the calling test where the counting wrappers are not in place. */
#ifdef NOALLOC_WRAPPERS
#define REQUIRE_WRAPPERS() ((void)0)
#else
#define REQUIRE_WRAPPERS() \
	do { \
		print_message("skipped: allocation counting needs glibc and no sanitizer " \
		              "(tests/tools/check-libep-symbols still checks libep)\n"); \
		skip(); \
	} while (0)
#endif

#define ITERATIONS 1000

static void test_counting_wrappers_see_allocations(void **state)
{
	(void)state;
	REQUIRE_WRAPPERS();
#ifdef NOALLOC_WRAPPERS
	/* Through volatile pointers, so the compiler cannot elide the pair. */
	void *(*volatile do_malloc)(size_t) = malloc;
	void *(*volatile do_calloc)(size_t, size_t) = calloc;
	void *(*volatile do_realloc)(void *, size_t) = realloc;
	void (*volatile do_free)(void *) = free;

	start_counting();
	void *p = do_malloc(16);
	void *q = do_calloc(2, 8);
	p = do_realloc(p, 64);
	do_free(p);
	do_free(q);
	assert_int_equal(stop_counting(), 5);
#endif
}

static void test_load_and_evaluate_do_not_allocate(void **state)
{
	(void)state;
	REQUIRE_WRAPPERS();
#ifdef NOALLOC_WRAPPERS
	struct compilation c;
	static const char *const groups[] = { "staff", "contractors" };
	static const int64_t grants[] = { 1772582400, 1772586000, 1772589600 };
	/* Wednesday 2026-03-04 12:00 UTC, Saturday 2026-03-07 12:00 UTC, Wednesday 23:00. */
	const struct ep_request reqs[] = {
		{ .user = "alice", .host = "mac-01", .now = 1772625600 },
		{ .user = "alice", .host = "mac-01", .now = 1772884800, .utc_offset = -5 * 3600 },
		{ .user = "kiosk", .host = "mac-01", .now = 1772625600 },
		{ .user = "bob", .host = "lab-07", .session = EP_SESSION_REMOTE, .now = 1772625600 },
		{ .user = "carol", .groups = groups, .ngroups = 2, .host = "mac-01", .now = 1772625600,
		  .grants = grants, .ngrants = 3 },
		{ .user = "dave", .host = "mac-02", .now = 1772665200, .utc_offset = 2 * 3600 },
		{ .user = NULL, .host = "mac-01", .now = 1772625600 },           /* malformed */
	};
	enum { NREQS = sizeof(reqs) / sizeof(*reqs) };
	struct ep_program prog;
	struct ep_error err;
	struct ep_decision d[NREQS];
	int load_rc = 0, eval_rc[NREQS];
	unsigned traced = 0;

	compile_rules_example(&c);
	start_counting();
	for (int i = 0; i < ITERATIONS; i++) {
		load_rc |= ep_load(&prog, c.bytecode, c.bytecode_len, &err);
		for (size_t r = 0; r < NREQS; r++)
			eval_rc[r] = ep_evaluate(&prog, &reqs[r], &d[r]);
		ep_evaluate_traced(&prog, &reqs[0], &d[0], count_trace, &traced);
	}
	unsigned long calls = stop_counting();
	assert_int_equal(calls, 0);

	/* The work was real: each request got its decision. */
	assert_int_equal(load_rc, 0);
	for (size_t r = 0; r + 1 < NREQS; r++)
		assert_int_equal(eval_rc[r], 0);
	assert_int_equal(eval_rc[NREQS - 1], -EP_BAD_REQUEST);
	assert_int_equal(d[0].verdict, EP_ALLOW);
	assert_int_equal(d[1].code, EP_REASON_RULE_DENIED);          /* weekend */
	assert_int_equal(d[2].rule, 1);                              /* shared account */
	assert_int_equal(d[3].rule, 1);                              /* lab host */
	assert_int_equal(d[4].code, EP_REASON_LIMIT_REACHED);        /* contractor, 3 today */
	assert_int_equal(d[5].rule, 3);                              /* night shift */
	assert_int_equal(d[6].code, EP_REASON_FAULT);
	assert_true(traced >= ITERATIONS);
	compilation_free(&c);
#endif
}

static void test_rejected_files_do_not_allocate(void **state)
{
	(void)state;
	REQUIRE_WRAPPERS();
#ifdef NOALLOC_WRAPPERS
	struct compilation c;
	struct ep_program prog;
	struct ep_error err;
	struct ep_decision d;
	const struct ep_request req = { .user = "alice", .host = "mac-01", .now = 1772625600 };
	int rejected = 0;

	compile_rules_example(&c);
	start_counting();
	for (size_t len = 0; len < c.bytecode_len; len++) {
		rejected += ep_load(&prog, c.bytecode, len, &err) < 0;
		ep_evaluate(&prog, &req, &d);
	}
	for (size_t i = 0; i < c.bytecode_len; i++) {
		c.bytecode[i] ^= 0x10;
		ep_load(&prog, c.bytecode, c.bytecode_len, &err);
		ep_evaluate(&prog, &req, &d);
		c.bytecode[i] ^= 0x10;
	}
	unsigned long calls = stop_counting();
	assert_int_equal(calls, 0);
	assert_int_equal((size_t)rejected, c.bytecode_len);
	compilation_free(&c);
#endif
}

static void test_helpers_do_not_allocate(void **state)
{
	(void)state;
	REQUIRE_WRAPPERS();
#ifdef NOALLOC_WRAPPERS
	unsigned hits = 0;
	int64_t sum = 0;

	start_counting();
	for (int s = 0; s < EP_STATUS_COUNT; s++)
		hits += ep_status_message(-s)[0] != '\0' && ep_status_name(s)[0] != '\0';
	hits += ep_glob_match("lab-*-??", "lab-west-07");
	for (int64_t day = -800; day < 800; day++)
		sum += ep_period_number(EP_PERIOD_MONTH, day) + ep_period_number(EP_PERIOD_WEEK, day);
	sum += ep_local_day(-1, 0) + ep_local_minute(-1, 0);
	unsigned long calls = stop_counting();
	assert_int_equal(calls, 0);
	assert_int_equal(hits, EP_STATUS_COUNT + 1);
	assert_int_not_equal(sum, 0);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counting_wrappers_see_allocations),
		cmocka_unit_test(test_load_and_evaluate_do_not_allocate),
		cmocka_unit_test(test_rejected_files_do_not_allocate),
		cmocka_unit_test(test_helpers_do_not_allocate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
