/*
 * rule_index.c - which keys each rule needs (see rule_index.h). Must never
 * leave out a key a matching request could have: a rule missing from a
 * list would silently never be tested for that request.
 */
#include "rule_index.h"

#include <stdlib.h>
#include <string.h>

/* At most this many tests make up one rule's needs; beyond, it is "always". */
#define MAX_NEEDED_TESTS 16

struct needs {
	const struct cond *tests[MAX_NEEDED_TESTS];
	size_t n;
};

static bool is_name(enum subject s)
{
	return s == SUBJECT_USER || s == SUBJECT_GROUP || s == SUBJECT_HOST;
}

/* The length of a pattern's literal start, before its first wildcard. */
static size_t literal_prefix_length(const char *glob)
{
	return strcspn(glob, "*?");
}

/* A test that alone needs a key: `in` on a name or a session, or `matches` with a literal start. */
static bool is_key_test(const struct cond *k)
{
	if (k->kind == COND_IN)
		return is_name(k->subject) || k->subject == SUBJECT_SESSION;
	return k->kind == COND_MATCH && is_name(k->subject) && literal_prefix_length(k->strings[0]) > 0;
}

/* Fills *out with a necessary condition; false when none is known. */
static bool needed_keys(const struct cond *k, struct needs *out)
{
	struct needs rhs;
	switch (k->kind) {
	case COND_IN:
	case COND_MATCH:
		if (!is_key_test(k))
			return false;
		out->tests[0] = k;
		out->n = 1;
		return true;
	case COND_AND:
		return needed_keys(k->lhs, out) || needed_keys(k->rhs, out);
	case COND_OR:
		if (!needed_keys(k->lhs, out) || !needed_keys(k->rhs, &rhs) ||
		    out->n + rhs.n > MAX_NEEDED_TESTS)
			return false;
		memcpy(out->tests + out->n, rhs.tests, rhs.n * sizeof(*rhs.tests));
		out->n += rhs.n;
		return true;
	default:
		return false;
	}
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t cap2 = *cap ? *cap * 2 : 64;
	while (cap2 < need)
		cap2 *= 2;
	void *q = realloc(p, cap2 * elem);
	if (!q)
		abort();
	*cap = cap2;
	return q;
}

static void add_entry(struct index_plan *plan, enum ep_index_subject s, const char *key,
                      uint32_t block)
{
	plan->entries[s] = grow(plan->entries[s], &plan->cap[s], plan->n[s] + 1,
	                        sizeof(struct index_entry));
	plan->entries[s][plan->n[s]++] = (struct index_entry){ key, block };
}

static enum ep_index_subject index_subject(enum subject s, bool prefix)
{
	if (s == SUBJECT_USER)
		return prefix ? EP_INDEX_USER_PREFIX : EP_INDEX_USER;
	if (s == SUBJECT_GROUP)
		return prefix ? EP_INDEX_GROUP_PREFIX : EP_INDEX_GROUP;
	return prefix ? EP_INDEX_HOST_PREFIX : EP_INDEX_HOST;
}

static const char *own_prefix(struct index_plan *plan, const char *glob)
{
	size_t len = literal_prefix_length(glob);
	char *p = malloc(len + 1);
	if (!p)
		abort();
	memcpy(p, glob, len);
	p[len] = '\0';
	plan->prefixes = grow(plan->prefixes, &plan->prefixes_cap, plan->nprefixes + 1, sizeof(char *));
	plan->prefixes[plan->nprefixes++] = p;
	return p;
}

static void add_test(struct index_plan *plan, const struct cond *t, uint32_t block)
{
	if (t->kind == COND_MATCH) {
		add_entry(plan, index_subject(t->subject, true), own_prefix(plan, t->strings[0]), block);
	} else if (t->subject == SUBJECT_SESSION) {
		if (t->sessions & SESSION_CONSOLE)
			add_entry(plan, EP_INDEX_SESSION, "console", block);
		if (t->sessions & SESSION_REMOTE)
			add_entry(plan, EP_INDEX_SESSION, "remote", block);
	} else {
		for (size_t j = 0; j < t->nstrings; j++)
			add_entry(plan, index_subject(t->subject, false), t->strings[j], block);
	}
}

void index_plan_add(struct index_plan *plan, const struct cond *when, uint32_t block)
{
	struct needs needs;
	if (!when || !needed_keys(when, &needs)) {
		plan->always = grow(plan->always, &plan->always_cap, plan->nalways + 1, sizeof(uint32_t));
		plan->always[plan->nalways++] = block;
		return;
	}
	for (size_t i = 0; i < needs.n; i++)
		add_test(plan, needs.tests[i], block);
}

static int compare_entries(const void *a, const void *b)
{
	const struct index_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->block > y->block) - (x->block < y->block);
}

void index_plan_finish(struct index_plan *plan)
{
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++) {
		struct index_entry *e = plan->entries[s];
		size_t n = plan->n[s], out = 0;
		if (n == 0)
			continue;
		qsort(e, n, sizeof(*e), compare_entries);
		for (size_t i = 0; i < n; i++)
			if (out == 0 || compare_entries(&e[out - 1], &e[i]) != 0)
				e[out++] = e[i];
		plan->n[s] = out;
	}
}

void index_plan_free(struct index_plan *plan)
{
	for (size_t i = 0; i < plan->nprefixes; i++)
		free(plan->prefixes[i]);
	free(plan->prefixes);
	free(plan->always);
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++)
		free(plan->entries[s]);
	memset(plan, 0, sizeof(*plan));
}
