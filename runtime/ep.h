/*
 * ep.h - libep, the on-device policy runtime: load, verify, evaluate.
 *
 * Ownership and lifetime, once for the whole library:
 *  - libep never allocates, never frees, never does I/O and keeps no global
 *    mutable state. Every buffer belongs to the caller.
 *  - ep_load() keeps pointers into the caller's bytecode buffer: the buffer
 *    must outlive the struct ep_program and must not change while it lives.
 *  - A struct ep_decision points into the program (names, messages,
 *    choices): it is valid as long as the program is.
 *  - Request strings belong to the caller and are only read during the call.
 *
 * Functions return 0 on success or a negative enum ep_status. Nothing is
 * ever evaluated unverified: ep_load() verifies the whole file in one linear
 * pass and only a program it accepted can be evaluated. Any fault while
 * loading, verifying or evaluating yields a deny decision (fail closed).
 */
#ifndef EP_H
#define EP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* X(name, message): every load/verify/evaluate status, each with its own code. */
#define EP_STATUSES(X) \
	X(OK,              "ok") \
	X(TRUNCATED,       "file is shorter than its header says") \
	X(BAD_MAGIC,       "not a polc bytecode file (bad magic)") \
	X(BAD_CANARY,      "file was altered in transfer (bad canary: text-mode conversion?)") \
	X(BAD_VERSION,     "unsupported bytecode format version") \
	X(BAD_FLAGS,       "unknown header flags") \
	X(BAD_SIZE,        "file size in the header does not match the file") \
	X(BAD_HEADER,      "bad header size or section count") \
	X(BAD_SECTION,     "section out of place, misaligned or out of bounds") \
	X(BAD_PADDING,     "non-zero padding or reserved bytes") \
	X(BAD_STRING,      "malformed string table entry") \
	X(BAD_SET,         "malformed set") \
	X(BAD_RULE,        "malformed rule table entry") \
	X(BAD_SIGNATURE_SECTION, "malformed signature section") \
	X(EMPTY_CODE,      "code section is empty") \
	X(BAD_OPCODE,      "unknown opcode") \
	X(TRUNCATED_INSN,  "instruction runs past the end of the code") \
	X(BAD_STRING_INDEX, "string index out of range") \
	X(BAD_SET_INDEX,   "set index out of range or set of the wrong kind") \
	X(BAD_MASK,        "mask operand has undefined bits") \
	X(BAD_RULE_INDEX,  "rule index out of range") \
	X(BACKWARD_JUMP,   "backward jump") \
	X(JUMP_OUT_OF_RANGE, "jump target outside the code") \
	X(JUMP_MID_INSN,   "jump into the middle of an instruction") \
	X(TOO_MANY_JUMPS,  "too many jumps pending at once") \
	X(STACK_OVERFLOW,  "stack overflow") \
	X(STACK_UNDERFLOW, "stack underflow") \
	X(STACK_MISMATCH,  "stack depth differs where paths join") \
	X(STACK_NOT_EMPTY, "DECIDE, INDEX or NEXT with values left on the stack") \
	X(UNREACHABLE,     "unreachable instruction") \
	X(NO_RETURN,       "code can run off its end without DECIDE") \
	X(BAD_INDEX,       "index segment's blocks do not match the code") \
	X(INDEX_NESTED,    "INDEX inside an index segment") \
	X(INDEX_FALLTHROUGH, "an index block runs into the next block") \
	X(INDEX_JUMP_ACROSS, "a jump crosses an index block boundary") \
	X(INDEX_BOUNDARY_MID, "an index block starts inside an instruction") \
	X(NEXT_OUTSIDE_INDEX, "NEXT outside an index segment") \
	X(TOO_COSTLY,      "set scans exceed what the file holds (evaluation would not be linear)") \
	X(UNSIGNED,        "bytecode is not signed") \
	X(UNKNOWN_KEY,     "bytecode is signed by a key that is not trusted") \
	X(BAD_SIGNATURE,   "bytecode signature does not verify") \
	X(NOT_VERIFIED,    "program was not loaded and verified") \
	X(BAD_REQUEST,     "malformed request") \
	X(EVAL_FAULT,      "fault during evaluation")

enum ep_status {
#define EP_STATUS_ENUM(name, msg) EP_##name,
	EP_STATUSES(EP_STATUS_ENUM)
#undef EP_STATUS_ENUM
	EP_STATUS_COUNT
};

/* A fixed message for a status (negative or positive). */
const char *ep_status_message(int status);
/* "BAD_MAGIC" etc. */
const char *ep_status_name(int status);

/* Where loading or verification failed. */
struct ep_error {
	enum ep_status status;
	uint32_t offset;           /* byte offset in the file */
	bool has_pc;
	uint32_t pc;               /* byte offset in the code section, for code errors */
};

struct ep_section_view {
	const unsigned char *data;
	uint32_t size;
};

/* A verified program. Read-only views into the caller's buffer; tools such as
 * the disassembler may read them, nothing may write them. */
struct ep_program {
	uint32_t verified;         /* EP_VERIFIED_MAGIC only after ep_load() succeeded */
	const unsigned char *bytes;
	uint32_t size;
	struct ep_section_view section[EP_SECTION_COUNT];
	uint32_t nstrings, nsets, nrules, code_size;
	const unsigned char *string_index, *string_blob;
	const unsigned char *set_index, *set_items;
	const unsigned char *code;
	const unsigned char *rules;
	uint32_t max_stack;
};

#define EP_VERIFIED_MAGIC 0x45504256u   /* "VBPE" */

/* Parses and verifies bytes; on failure fills *err (if given) and returns -status. */
int ep_load(struct ep_program *prog, const void *bytes, size_t len, struct ep_error *err);

/* ---- requests and decisions ------------------------------------------------ */

#define EP_MAX_GROUPS 256
#define EP_MAX_GRANTS 10000

enum ep_session { EP_SESSION_CONSOLE = 0, EP_SESSION_REMOTE = 1 };

struct ep_request {
	const char *user;              /* required */
	const char *const *groups;     /* the user's groups, ngroups <= EP_MAX_GROUPS */
	size_t ngroups;
	const char *host;              /* "" when unknown */
	enum ep_session session;
	int64_t now;                   /* Unix seconds */
	int32_t utc_offset;            /* seconds east of UTC in effect at `now`, |x| <= 18h */
	const int64_t *grants;         /* Unix seconds of this user's earlier grants */
	size_t ngrants;                /* <= EP_MAX_GRANTS */
};

enum ep_verdict { EP_DENY = 0, EP_ALLOW = 1 };

enum ep_reason_code {
	EP_REASON_ALLOWED,             /* allowed by a rule or by otherwise */
	EP_REASON_RULE_DENIED,         /* a deny rule decided */
	EP_REASON_DEFAULT_DENIED,      /* `otherwise deny` decided */
	EP_REASON_LIMIT_REACHED,       /* the deciding rule's limit is used up */
	EP_REASON_FAULT,               /* loading, verification or evaluation failed */
};

enum ep_auth { EP_AUTH_BIOMETRIC = 1u << 0, EP_AUTH_PASSWORD = 1u << 1 };
enum ep_reason_mode { EP_REASON_NONE, EP_REASON_OPTIONAL, EP_REASON_REQUIRED };
enum ep_period { EP_PERIOD_NONE, EP_PERIOD_DAY, EP_PERIOD_WEEK, EP_PERIOD_MONTH };

#define EP_RULE_OTHERWISE (-1)

struct ep_decision {
	enum ep_verdict verdict;
	enum ep_reason_code code;
	int32_t rule;                  /* deciding rule's index, EP_RULE_OTHERWISE */
	const char *rule_name;         /* NULL when otherwise decided */
	const char *message;           /* the deciding rule's message (deny rules have one), or NULL */
	uint32_t duration;             /* seconds granted; 0 on deny */
	uint32_t max;                  /* the longest a user may ask for; 0 on deny */
	unsigned auth;                 /* enum ep_auth bits; 0 = no authentication */
	bool timer_shown;
	struct {
		enum ep_period period;     /* EP_PERIOD_NONE: no limit */
		uint32_t count, used, left;
	} limit;
	struct {
		enum ep_reason_mode mode;
		uint32_t min, max;         /* max 0 = no maximum */
		bool other_allowed;
		uint32_t nchoices;
		/* Only choices[0 .. nchoices) are set; the rest are unspecified. Last,
		 * so that evaluation clears only the part of the decision before it. */
		const char *choices[EP_MAX_CHOICES];
	} reason;
};

/*
 * Observes each condition test (for `polc eval --trace`): pc of the test
 * instruction and its result. Not called when NULL.
 */
typedef void (*ep_trace_fn)(void *ctx, uint32_t pc, bool result);

/*
 * True when a request is well formed: user and host set, no NULL group,
 * counts within EP_MAX_GROUPS and EP_MAX_GRANTS, a known session, |utc_offset|
 * <= 18h, and now and every grant less than 2^40 s (~34,800 years) from 1970.
 * ep_evaluate() denies (EP_REASON_FAULT, -EP_BAD_REQUEST) any other request.
 */
bool ep_request_valid(const struct ep_request *req);

/* Evaluates; always fills *out (a deny on any fault) and returns 0 or -status. */
int ep_evaluate(const struct ep_program *prog, const struct ep_request *req,
                struct ep_decision *out);
int ep_evaluate_traced(const struct ep_program *prog, const struct ep_request *req,
                       struct ep_decision *out, ep_trace_fn trace, void *ctx);

/* Same decision, field by field; strings compared by content (choices up to nchoices). */
bool ep_decision_equal(const struct ep_decision *a, const struct ep_decision *b);

/* Reading a verified program (disassembler, agent). NULL/0 when out of range. */
const char *ep_string(const struct ep_program *prog, uint32_t index);
uint32_t ep_rule_count(const struct ep_program *prog);   /* rules, without otherwise */

/* Shared semantics (also used by polc's reference evaluator). */
bool ep_glob_match(const char *pattern, const char *text);
/* The calendar period number of a local day: same number, same period. */
int64_t ep_period_number(enum ep_period period, int64_t local_day);
/* Floor division of (t + offset) into local day and minute of day. */
int64_t ep_local_day(int64_t t, int32_t utc_offset);
uint32_t ep_local_minute(int64_t t, int32_t utc_offset);

#endif
