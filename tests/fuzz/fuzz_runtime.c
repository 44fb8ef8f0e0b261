/*
 * fuzz_runtime.c - libFuzzer entry point for libep: arbitrary bytes ->
 * ep_load (header, tables, one-pass verifier) -> ep_evaluate for a fixed
 * mix of requests. Whatever the bytes, loading must end in a status,
 * evaluation must end in a decision, and nothing may crash, hang or read
 * outside the buffer. tests/fuzz/replay.c replays the corpus in `make check`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void evaluate_mix(const struct ep_program *prog)
{
	static const char *const groups[] = { "staff", "contractors", "admin" };
	static const int64_t grants[] = { 1796000000, 1796040000, 1796090000, 1796600000 };
	static const struct ep_request requests[] = {
		{ "alice", groups, 1, "mac-01", EP_SESSION_CONSOLE, 1796083200, 0, NULL, 0 },
		{ "kiosk", groups, 3, "lab-7", EP_SESSION_REMOTE, 1796112000, 7200, grants, 4 },
		{ "bob", groups + 1, 2, "host", EP_SESSION_CONSOLE, 1796169599, -18000, grants, 2 },
		{ "", NULL, 0, "", EP_SESSION_REMOTE, -86400, 50400, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(requests) / sizeof(*requests); i++) {
		struct ep_decision d;
		int rc = ep_evaluate(prog, &requests[i], &d);
		if (rc == 0 && d.verdict == EP_ALLOW && d.duration == 0)
			abort();   /* an allow always grants time */
		if (rc < 0 && d.verdict != EP_DENY)
			abort();   /* a fault always denies */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy, so that reads past `size` are caught by the sanitizers. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct ep_program prog;
	struct ep_error err;
	if (ep_load(&prog, copy, size, &err) == 0)
		evaluate_mix(&prog);
	else if (err.status == EP_OK)
		abort();   /* a rejection always names its reason */
	free(copy);
	return 0;
}
