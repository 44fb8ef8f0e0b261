/*
 * eval_ref.h - the reference evaluator: decides a request straight from the
 * checked policy model (policy.h), without bytecode.
 *
 * It is the oracle the bytecode evaluator (libep) is tested against and
 * what `polc eval` runs on .ep files, so it must give exactly the
 * struct ep_decision that ep_evaluate() gives for the compiled policy.
 * Decision strings point into the policy (its compilation's arena). It
 * never reads bytecode, allocates or does I/O.
 */
#ifndef POLC_EVAL_REF_H
#define POLC_EVAL_REF_H

#include <stdbool.h>

#include "ep.h"
#include "policy.h"

/*
 * Observes each test as written in the source (a COND_IN or COND_MATCH
 * node, or the COND_NOT that `!=` and `not in` make of one, which shares
 * its span) and its result, in evaluation order: rules top to bottom, left
 * operand before right. Every test of a rule's condition is evaluated.
 */
typedef void (*eval_ref_trace_fn)(void *ctx, const struct cond *test, bool result);

/*
 * Fills *out and returns 0, or a fault deny and -EP_BAD_REQUEST for a
 * request ep_request_valid() refuses, as ep_evaluate() does (and
 * -EP_EVAL_FAULT for a policy with more than EP_MAX_CHOICES choices, which
 * the checker never produces). trace may be NULL.
 */
int eval_reference(const struct policy *p, const struct ep_request *req, struct ep_decision *out,
                   eval_ref_trace_fn trace, void *ctx);

#endif
