/*
 * helpers.h - small helpers shared by the unit tests: a source, arena and
 * diagnostic list for driving the lexer or parser, compiling a policy text
 * in one call, finding diagnostics by code, building policy texts, and a
 * seeded random number generator for generated tests.
 * Header-only.
 */
#ifndef POLC_TEST_HELPERS_H
#define POLC_TEST_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "diag.h"
#include "source.h"

/* ---- a seeded PRNG (splitmix64) ------------------------------------------------ */

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

/* Uniform in [lo, hi]. */
static inline int64_t between(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static inline bool chance(struct rng *r, unsigned percent)
{
	return below(r, 100) < percent;
}

#define PICK(r, list) ((list)[below((r), sizeof(list) / sizeof((list)[0]))])

/* A growing text buffer for building policies; free t->s when done.
 * Needs <cmocka.h> (and <stdarg.h>, <stdio.h>) included first. */
struct text {
	char *s;
	size_t len, cap;
};

static inline void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void put(struct text *t, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (t->s && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
}

/* A minimal valid profile block, to put in front of the part under test. */
#define TEST_PROFILE "profile \"Test\" {\n    identifier \"com.example.test\"\n}\n"

/* examples/jamf-seed.ep, the normative example of SPEC.md section 2. */
#define JAMF_SEED \
	"# The configuration from the Jamf Connect walkthrough.\n" \
	"profile \"Temporary Admin Rights\" {\n" \
	"    identifier   \"com.example.elevation\"\n" \
	"    organization \"Example Corp\"\n" \
	"    description  \"Standard users may become admin for five minutes.\"\n" \
	"}\n" \
	"\n" \
	"elevation {\n" \
	"    duration      5m\n" \
	"    limit         none\n" \
	"    authenticate  biometric or password\n" \
	"    reason        required\n" \
	"    choices       \"Install/Remove an Application\", \"Change a Setting\"\n" \
	"}\n"

/* What the lexer and parser need; must not move after fixture_init(). */
struct fixture {
	struct source src;
	struct arena arena;
	struct diag_list diags;
};

static inline void fixture_init(struct fixture *f, const char *text, size_t len)
{
	memset(f, 0, sizeof(*f));
	if (source_from_buffer(&f->src, "test.ep", text, len) < 0)
		abort();
	diag_init(&f->diags, &f->arena, &f->src);
}

static inline void fixture_free(struct fixture *f)
{
	arena_free(&f->arena);
	source_free(&f->src);
}

/* Runs the whole front end on text; returns compile_source()'s result. */
static inline int compile_text(struct compilation *c, const char *text,
                               const struct target *target, bool werror)
{
	struct source src;
	struct compile_options opts = { .target = target, .warnings_are_errors = werror };

	if (source_from_buffer(&src, "test.ep", text, strlen(text)) < 0)
		abort();
	return compile_source(c, &src, &opts);
}

/* The first diagnostic with that code, or NULL. */
static inline const struct diag *find_diag(const struct diag_list *dl, enum diag_code code)
{
	for (const struct diag *d = dl->head; d; d = d->next)
		if (d->code == code)
			return d;
	return NULL;
}

static inline unsigned count_diags(const struct diag_list *dl, enum diag_code code)
{
	unsigned n = 0;
	for (const struct diag *d = dl->head; d; d = d->next)
		n += d->code == code;
	return n;
}

static inline unsigned count_all_diags(const struct diag_list *dl)
{
	unsigned n = 0;
	for (const struct diag *d = dl->head; d; d = d->next)
		n++;
	return n;
}

/* True when one of d's help lines contains text. */
static inline bool diag_has_help(const struct diag *d, const char *text)
{
	for (unsigned i = 0; i < d->nhelp; i++)
		if (strstr(d->help[i], text))
			return true;
	return false;
}

/* The source text a span covers, in a caller's buffer (truncated to fit). */
static inline const char *span_text(const struct source *src, struct span sp, char *buf,
                                    size_t size)
{
	size_t n = sp.len < size - 1 ? sp.len : size - 1;
	memcpy(buf, src->text + sp.off, n);
	buf[n] = '\0';
	return buf;
}

#endif
