/*
 * rule_index.h - planning a rule index (see runtime/index.h): for each rule,
 * the keys (user, group and host names, sessions, name prefixes) one of
 * which a request must have for the rule's condition to hold, or "always"
 * when there are no such keys.
 *
 * The keys come from a necessary condition: `user in S` needs a user in S;
 * `host matches "lab-*"` needs a host starting with "lab-"; `session ==
 * remote` needs the remote session; `a and b` needs what either side
 * needs; `a or b` needs what both sides need, joined. Anything else (not,
 * time, day, date, a pattern starting with a wildcard) needs no key. A
 * rule is filed under every key it needs, so that a request is offered
 * every rule that could possibly match it.
 */
#ifndef POLC_RULE_INDEX_H
#define POLC_RULE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "policy.h"

struct index_entry {
	const char *name;
	uint32_t block;
};

struct index_plan {
	uint32_t *always;                          /* block numbers, increasing */
	size_t nalways, always_cap;
	struct index_entry *entries[EP_INDEX_SUBJECTS];
	size_t n[EP_INDEX_SUBJECTS], cap[EP_INDEX_SUBJECTS];
	char **prefixes;                           /* owned copies of pattern prefixes */
	size_t nprefixes, prefixes_cap;
};

/* Files block number `block` (rules are added in order) under what `when` needs. */
void index_plan_add(struct index_plan *plan, const struct cond *when, uint32_t block);
/* Sorts each subject's entries by name, then block; removes duplicates. */
void index_plan_finish(struct index_plan *plan);
void index_plan_free(struct index_plan *plan);

#endif
