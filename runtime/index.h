/*
 * index.h - rule indexes: how large policies skip rules that cannot match.
 *
 * A segment of the code starts with INDEX and holds one block per rule:
 * the rule's test, a JUMP_IF_FALSE to a NEXT, and a DECIDE. Its INDEX set
 * says, for each key a request can have, which blocks could match such a
 * request, plus the blocks that any request could match ("always"). Keys
 * are the user, group and host names, the session ("console", "remote"),
 * and prefixes of user, group and host names (for `matches "lab-*"`). The
 * evaluator visits only the candidate blocks, in order, so first-match
 * semantics are kept exactly; every jump still goes forward.
 *
 * An INDEX set's u32 items:
 *   B, end                   number of blocks (>= 1), code offset after the segment
 *   B block offsets          strictly increasing code offsets
 *   n, n block numbers       the "always" list, strictly increasing
 *   for each subject, in enum ep_index_subject order:
 *     keys                   a STRINGS set of an earlier index, or EP_NONE
 *     K + 1 bounds           (only when keys is a set of K names) 0 = b0 <= .. <= bK
 *     bK block numbers       list k is items [b_k, b_k+1): strictly increasing
 *     L, L lengths           (prefix subjects, with keys) the key lengths, increasing
 */
#ifndef EP_INDEX_H
#define EP_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "ep.h"

enum ep_index_subject {
	EP_INDEX_USER, EP_INDEX_GROUP, EP_INDEX_HOST, EP_INDEX_SESSION,
	EP_INDEX_USER_PREFIX, EP_INDEX_GROUP_PREFIX, EP_INDEX_HOST_PREFIX,
	EP_INDEX_SUBJECTS
};

static inline bool ep_index_is_prefix(enum ep_index_subject s)
{
	return s >= EP_INDEX_USER_PREFIX;
}

struct ep_block_list {
	const unsigned char *entries;    /* u32 block numbers */
	uint32_t n;
};

struct ep_index {
	uint32_t nblocks, end;
	const unsigned char *blocks;     /* u32 code offsets */
	struct ep_block_list always;
	struct {
		uint32_t keys;               /* STRINGS set index or EP_NONE */
		uint32_t nkeys;
		const unsigned char *bounds; /* nkeys + 1 u32 */
		const unsigned char *entries;
		uint32_t nlengths;           /* prefix subjects: distinct key lengths */
		const unsigned char *lengths;
	} subject[EP_INDEX_SUBJECTS];
};

/*
 * Reads INDEX set `set`. With check, validates everything that does not
 * depend on the code (the loader); without, trusts a verified program.
 * Returns 0, or -1 when malformed.
 */
int ep_index_read(const struct ep_program *prog, uint32_t set, bool check, struct ep_index *ix);

/* The block list for key number k of a subject. */
struct ep_block_list ep_index_list(const struct ep_index *ix, enum ep_index_subject s, uint32_t k);

#endif
