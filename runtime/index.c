/*
 * index.c - reading INDEX sets (see index.h). With `check` it validates a
 * set's structure for the loader: every count within the set, every list
 * strictly increasing and naming real blocks, keys an earlier STRINGS set.
 * The block offsets are checked against the code by the verifier.
 */
#include "index.h"

#include <string.h>

#include "internal.h"

struct reader {
	const unsigned char *items;
	uint32_t n, at;
	bool ok;
};

static uint32_t read_word(struct reader *r)
{
	if (r->at >= r->n) {
		r->ok = false;
		return 0;
	}
	return ep_read_u32(r->items + 4 * (uint64_t)r->at++);
}

static const unsigned char *read_words(struct reader *r, uint32_t count)
{
	if (!r->ok || count > r->n - r->at) {
		r->ok = false;
		return r->items;
	}
	const unsigned char *p = r->items + 4 * (uint64_t)r->at;
	r->at += count;
	return p;
}

static bool list_valid(const unsigned char *entries, uint32_t n, uint32_t nblocks)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t b = ep_read_u32(entries + 4 * i);
		if (b >= nblocks || (i && b <= ep_read_u32(entries + 4 * (i - 1))))
			return false;
	}
	return true;
}

/* 0 = b0 <= b1 <= ... <= bK (= the entries read), before any list is looked at. */
static bool bounds_valid(const struct ep_index *ix, enum ep_index_subject s)
{
	const unsigned char *b = ix->subject[s].bounds;
	if (ep_read_u32(b) != 0)
		return false;
	for (uint32_t k = 0; k < ix->subject[s].nkeys; k++)
		if (ep_read_u32(b + 4 * k) > ep_read_u32(b + 4 * (k + 1)))
			return false;
	return true;
}

static bool has_length(const struct ep_index *ix, enum ep_index_subject s, uint32_t len)
{
	for (uint32_t i = 0; i < ix->subject[s].nlengths; i++)
		if (ep_read_u32(ix->subject[s].lengths + 4 * i) == len)
			return true;
	return false;
}

/* Prefix subjects: lengths increasing and nonzero, and every key's length among them. */
static bool lengths_valid(const struct ep_program *prog, const struct ep_index *ix,
                          enum ep_index_subject s)
{
	uint32_t n = ix->subject[s].nlengths;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = ep_read_u32(ix->subject[s].lengths + 4 * i);
		if (len == 0 || (i && len <= ep_read_u32(ix->subject[s].lengths + 4 * (i - 1))))
			return false;
	}
	if (!ep_index_is_prefix(s))
		return true;
	const unsigned char *e = prog->set_index + 12 * ix->subject[s].keys;
	const unsigned char *keys = prog->set_items + 4 * (uint64_t)ep_read_u32(e + 4);
	for (uint32_t k = 0; k < ix->subject[s].nkeys; k++) {
		const char *key = ep_string(prog, ep_read_u32(keys + 4 * k));
		if (!has_length(ix, s, (uint32_t)strlen(key)))
			return false;
	}
	return true;
}

static bool lists_valid(const struct ep_index *ix, enum ep_index_subject s)
{
	for (uint32_t k = 0; k < ix->subject[s].nkeys; k++) {
		struct ep_block_list l = ep_index_list(ix, s, k);
		if (!list_valid(l.entries, l.n, ix->nblocks))
			return false;
	}
	return true;
}

static bool read_subject(const struct ep_program *prog, uint32_t set, struct reader *r, bool check,
                         struct ep_index *ix, enum ep_index_subject s)
{
	uint32_t keys = read_word(r);
	ix->subject[s].keys = keys;
	ix->subject[s].nkeys = 0;
	if (keys == EP_NONE)
		return r->ok;
	if (check && (keys >= set || !ep_set_is(prog, keys, EP_SET_STRINGS)))
		return false;
	uint32_t nkeys = ep_read_u32(prog->set_index + 12 * keys + 8);
	ix->subject[s].nkeys = nkeys;
	if (nkeys == UINT32_MAX)
		return false;
	ix->subject[s].bounds = read_words(r, nkeys + 1);
	if (!r->ok)
		return false;
	uint32_t total = ep_read_u32(ix->subject[s].bounds + 4 * nkeys);
	ix->subject[s].entries = read_words(r, total);
	ix->subject[s].nlengths = 0;
	if (ep_index_is_prefix(s)) {
		ix->subject[s].nlengths = read_word(r);
		ix->subject[s].lengths = read_words(r, ix->subject[s].nlengths);
	}
	if (!check || !r->ok)
		return r->ok;
	return bounds_valid(ix, s) && lengths_valid(prog, ix, s) && lists_valid(ix, s);
}

int ep_index_read(const struct ep_program *prog, uint32_t set, bool check, struct ep_index *ix)
{
	const unsigned char *e = prog->set_index + 12 * set;
	struct reader r = { prog->set_items + 4 * (uint64_t)ep_read_u32(e + 4), ep_read_u32(e + 8), 0, true };

	ix->nblocks = read_word(&r);
	ix->end = read_word(&r);
	ix->blocks = read_words(&r, ix->nblocks);
	ix->always.n = read_word(&r);
	ix->always.entries = read_words(&r, ix->always.n);
	if (!r.ok || (check && (ix->nblocks == 0 || !list_valid(ix->always.entries, ix->always.n, ix->nblocks))))
		return -1;
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++)
		if (!read_subject(prog, set, &r, check, ix, (enum ep_index_subject)s))
			return -1;
	return check && r.at != r.n ? -1 : 0;
}

struct ep_block_list ep_index_list(const struct ep_index *ix, enum ep_index_subject s, uint32_t k)
{
	uint32_t lo = ep_read_u32(ix->subject[s].bounds + 4 * k);
	uint32_t hi = ep_read_u32(ix->subject[s].bounds + 4 * (k + 1));
	return (struct ep_block_list){ ix->subject[s].entries + 4 * (uint64_t)lo, hi - lo };
}
