/*
 * reason.h - checks the reason a user gives for elevating against the
 * policy decision's requirement (struct ep_decision's `reason`) and builds
 * the text the audit log records. docs/agent-auth.md states the rules for
 * users and administrators.
 *
 * The user gives a choice, a text, both or neither:
 *  - choice 1 .. nchoices picks a listed reason; the log gets its text.
 *    No text may come with it.
 *  - choice nchoices + 1 is "Other" when other_allowed: a text is then
 *    required, and the log gets "Other: <text>".
 *  - a text without a choice is free text: allowed when other_allowed
 *    (logged as "Other: <text>") or when the rule lists no choices at all
 *    (logged as the text itself); otherwise refused.
 *  - mode EP_REASON_REQUIRED needs one of the above; EP_REASON_OPTIONAL
 *    accepts nothing (an empty reason); EP_REASON_NONE accepts only
 *    nothing.
 * A text is trimmed of surrounding ASCII white space first (a text that is
 * all white space counts as none). It must then be valid UTF-8 (RFC 3629)
 * without control characters: C0, DEL, C1, the line and paragraph
 * separators U+2028/U+2029 and the bidirectional controls U+200E/U+200F,
 * U+202A-U+202E, U+2066-U+2069 (they could disguise the log). Its length in
 * characters (Unicode code points) must be within min and max (max 0: no
 * maximum), and it may not exceed REASON_TEXT_MAX bytes whatever max says,
 * so that "Other: " and the text fit one audit field uncut. min and max
 * apply to typed text only, also when the reason is optional; a listed
 * choice is the administrator's text and is taken as it is.
 *
 * Functions return 0 (REASON_OK) or a negative enum reason_status;
 * reason_message() turns it into the sentence to show the user, with the
 * rule's numbers ("reason must be at least 30 characters", "choose 1-3").
 * Output buffers are written only on success. Nothing is allocated.
 */
#ifndef ELEVATE_REASON_H
#define ELEVATE_REASON_H

#include <stddef.h>

#include "ep.h"

#define REASON_TEXT_MAX     1000u          /* bytes of typed text, after trimming */
#define REASON_OTHER_PREFIX "Other: "
#define REASON_OTHER_LABEL  "Other"        /* the menu entry nchoices + 1 */
/* Room for any result: a listed choice (a policy string, at most 4096 bytes) or "Other: " + text. */
#define REASON_OUT_SIZE     4097u
#define REASON_MESSAGE_SIZE 128u           /* enough for any reason_message() */

/* X(name, value, generic message): one list for the enum and the messages. */
#define REASON_STATUSES(X) \
	X(REASON_OK,              0, "ok") \
	X(REASON_E_ARG,          -1, "missing argument") \
	X(REASON_E_DECISION,     -2, "the rule's reason settings are inconsistent") \
	X(REASON_E_REQUIRED,     -3, "a reason is required") \
	X(REASON_E_UNEXPECTED,   -4, "this request takes no reason") \
	X(REASON_E_CHOICE,       -5, "no such choice") \
	X(REASON_E_NO_CHOICES,   -6, "there are no reasons to choose from: give the reason as text") \
	X(REASON_E_FREE_TEXT,    -7, "free text is not allowed: choose one of the listed reasons") \
	X(REASON_E_BOTH,         -8, "give either a listed choice or a text, not both") \
	X(REASON_E_OTHER_EMPTY,  -9, "\"Other\" needs the reason as text") \
	X(REASON_E_TOO_SHORT,   -10, "reason is too short") \
	X(REASON_E_TOO_LONG,    -11, "reason is too long") \
	X(REASON_E_TOO_BIG,     -12, "reason is too long (at most 1000 bytes)") \
	X(REASON_E_UTF8,        -13, "reason is not valid UTF-8") \
	X(REASON_E_CONTROL,     -14, "reason must not contain control characters") \
	X(REASON_E_NOSPACE,     -15, "output buffer too small") \
	X(REASON_E_NUMBER,      -16, "not a choice number")

#define REASON_ENUM_(name, value, msg) name = (value),
enum reason_status { REASON_STATUSES(REASON_ENUM_) };
#undef REASON_ENUM_

/* The generic message for a status, without the rule's numbers; never NULL. */
const char *reason_strerror(int status);

/*
 * The user-facing sentence for a status under decision d (d may be NULL:
 * then the generic message), e.g. "reason must be at least 30 characters",
 * "reason must be at most 200 characters", "choose 1-3", "free text is not
 * allowed: choose 1-3". Always NUL-terminates buf if size > 0; returns
 * buf, or "" if buf cannot hold anything.
 */
const char *reason_message(int status, const struct ep_decision *d, char *buf, size_t size);

/* How many numbered entries the menu shows: nchoices, plus one for Other. */
unsigned reason_menu_size(const struct ep_decision *d);

/*
 * Parses a choice number as typed ("--choice 2"): decimal digits only,
 * surrounding ASCII white space allowed, value 1 .. 99999. REASON_E_NUMBER
 * otherwise. Whether the number is in range is reason_check()'s business.
 */
int reason_parse_choice(const char *s, unsigned *choice);

/*
 * Checks choice (0: none) and text (NULL: none) against d's reason rules
 * (see the top) and writes the reason to log into out (size bytes): the
 * choice's text, "Other: <text>", the text, or "" when no reason was
 * given and none is needed. d must be a decision of any verdict; its
 * reason fields are checked for consistency first (REASON_E_DECISION:
 * unknown mode, too many choices, a NULL choice, min > max).
 */
int reason_check(const struct ep_decision *d, unsigned choice, const char *text,
                 char *out, size_t size);

#endif
