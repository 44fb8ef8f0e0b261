/*
 * policy.h - the checked policy model: what a policy means, not how it was
 * written.
 *
 * compiler/check.c builds it from the AST and guarantees every invariant
 * written here; backends (profile, bytecode) and polc's reference evaluator
 * read it and never see the AST. Everything lives in the compilation's
 * arena. Times are minutes after local midnight, days are Monday = 0 ..
 * Sunday = 6, dates are days since 1970-01-01, durations are seconds.
 */
#ifndef POLC_POLICY_H
#define POLC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

enum auth_method {
	AUTH_BIOMETRIC = 1u << 0,
	AUTH_PASSWORD = 1u << 1,
};

enum reason_mode { REASON_NONE, REASON_OPTIONAL, REASON_REQUIRED };

/* PERIOD_NONE means no limit (`limit none`). */
enum limit_period { PERIOD_NONE, PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH };

/* One bit per setting; `given` says which a block wrote itself. */
#define SETTING_LIST(X) \
	X(DURATION, "duration") \
	X(MAX, "max") \
	X(LIMIT, "limit") \
	X(AUTH, "authenticate") \
	X(REASON, "reason") \
	X(REASON_MIN, "reason min") \
	X(REASON_MAX, "reason max") \
	X(CHOICES, "choices") \
	X(OTHER, "other") \
	X(TIMER, "timer")

enum setting_id {
#define SETTING_ENUM(id, name) SETTING_##id,
	SETTING_LIST(SETTING_ENUM)
#undef SETTING_ENUM
	SETTING_COUNT
};

#define SETTING_BIT(id) (1u << SETTING_##id)

/* Values used for settings no block gives (see docs/language.md). */
#define DEFAULT_DURATION_SECONDS 300u
#define MAX_DURATION_SECONDS 86400u
#define MAX_LIMIT_COUNT 10000u
#define MAX_REASON_LENGTH 1000u

struct settings {
	uint32_t given;                    /* SETTING_BIT()s written in the block */
	uint32_t duration;                 /* seconds, 1 .. 86400 */
	uint32_t max;                      /* seconds, duration .. 86400 */
	uint32_t limit_count;              /* 1 .. 10000; 0 with PERIOD_NONE */
	enum limit_period limit_period;
	unsigned auth;                     /* enum auth_method bits; 0 = none */
	enum reason_mode reason;
	uint32_t reason_min, reason_max;   /* characters; reason_max 0 = no maximum */
	const char **choices;              /* distinct, non-empty */
	size_t nchoices;
	bool other_allowed;
	bool timer_shown;
	struct span where[SETTING_COUNT];  /* where each given setting was written */
};

enum subject {
	SUBJECT_USER, SUBJECT_GROUP, SUBJECT_HOST, SUBJECT_SESSION,
	SUBJECT_TIME, SUBJECT_DAY, SUBJECT_DATE,
};

enum session_kind { SESSION_CONSOLE = 1u << 0, SESSION_REMOTE = 1u << 1 };

/* Half-open [from, to) in minutes, to up to 1440 (24:00); wraps midnight when from > to. */
struct time_range { uint16_t from, to; };
/* Inclusive, from <= to. */
struct date_range { int32_t from, to; };

enum cond_kind {
	COND_AND, COND_OR, COND_NOT,
	COND_IN,      /* the subject's value is one of a set (group: any group is) */
	COND_MATCH,   /* the subject's value matches a glob (group: any group does) */
};

struct cond {
	enum cond_kind kind;
	struct span span;
	struct cond *lhs, *rhs;            /* AND, OR: both; NOT: lhs */
	enum subject subject;              /* IN, MATCH */
	const char **strings;              /* user, group, host: sorted, distinct; MATCH: one glob */
	size_t nstrings;
	unsigned sessions;                 /* session: enum session_kind bits */
	uint8_t days;                      /* day: bit d for day d */
	struct time_range *times;          /* time: sorted by from */
	size_t ntimes;
	struct date_range *dates;          /* date: sorted by from */
	size_t ndates;
};

struct rule {
	const char *name;
	struct span span, name_span;
	struct cond *when;                 /* NULL: matches every request */
	bool deny;
	const char *message;               /* deny message or NULL */
	struct settings own;               /* what the rule itself wrote */
	struct settings effective;         /* own layered over the defaults */
};

struct profile_info {
	const char *name;                  /* PayloadDisplayName */
	const char *identifier;            /* PayloadIdentifier, reverse DNS */
	const char *organization;          /* NULL when not given */
	const char *description;           /* NULL when not given */
	struct span span;
};

struct policy {
	struct profile_info profile;
	bool has_elevation;
	struct span elevation_span;
	struct settings defaults;          /* the elevation block, with defaults filled in */
	struct rule *rules;
	size_t nrules;
	bool otherwise_deny;
	const char *otherwise_message;
	bool otherwise_given;
	struct span otherwise_span;
};

#endif
