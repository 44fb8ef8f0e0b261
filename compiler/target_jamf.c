/*
 * target_jamf.c - the Jamf Connect target: com.jamf.connect >
 * TemporaryUserPermissions.
 *
 * Jamf Connect knows one set of settings for everyone, counts the duration
 * in whole minutes and the limit per calendar month, and has no rules. This
 * file maps the elevation block onto its keys and warns (W003) about every
 * part of the policy it cannot carry, naming what the profile carries
 * instead; the polc runtime enforces the whole policy regardless.
 */
#include <stdint.h>
#include <stdio.h>

#include "target.h"

#define JAMF_DOMAIN "com.jamf.connect"

/* The largest number of grants `limit` allows in one calendar month. */
static uint32_t monthly_limit(const struct settings *s)
{
	switch (s->limit_period) {
	case PERIOD_NONE: return 0;
	case PERIOD_DAY: return s->limit_count * 31;
	case PERIOD_WEEK: return s->limit_count * 6;   /* a month touches at most 6 weeks */
	case PERIOD_MONTH: return s->limit_count;
	}
	return 0;
}

/* Whole minutes, rounded down, at least 1 (Jamf Connect cannot say less). */
static uint32_t duration_minutes(const struct settings *s)
{
	uint32_t m = s->duration / 60;
	return m ? m : 1;
}

/* "90s", "5m", "2h", "1h30m": how the language writes a duration. */
static void format_duration(char *buf, size_t size, uint32_t s)
{
	uint32_t h = s / 3600, m = s % 3600 / 60, sec = s % 60;
	int n = 0;
	buf[0] = '\0';
	if (h)
		n += snprintf(buf + n, size - (size_t)n, "%uh", h);
	if (m && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, "%um", m);
	if ((sec || s == 0) && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "%us", sec);
}

static bool given(const struct settings *s, enum setting_id id)
{
	return s->given & (1u << id);
}

static void warn(struct diag_list *diags, struct span at, const char *carried, const char *msg,
                 const char *enforced)
{
	struct diag *d = diag_report(diags, DIAG_W003, at, "Jamf Connect %s", msg);
	diag_help(diags, d, "the profile will carry %s", carried);
	diag_help(diags, d, "the polc runtime enforces %s", enforced);
}

static void check_defaults(const struct settings *s, struct diag_list *dl)
{
	char carried[96], enforced[96], text[32];

	if (given(s, SETTING_DURATION) && s->duration % 60) {
		snprintf(carried, sizeof(carried), "UserPromotionDuration %u", duration_minutes(s));
		format_duration(text, sizeof(text), s->duration);
		snprintf(enforced, sizeof(enforced), "duration %s", text);
		warn(dl, s->where[SETTING_DURATION], carried, "counts the duration in whole minutes",
		     enforced);
	}
	if (given(s, SETTING_MAX)) {
		format_duration(text, sizeof(text), s->max);
		snprintf(enforced, sizeof(enforced), "max %s", text);
		warn(dl, s->where[SETTING_MAX], "only UserPromotionDuration",
		     "cannot let users ask for a longer duration", enforced);
	}
	if (given(s, SETTING_LIMIT) && s->limit_period != PERIOD_NONE && s->limit_period != PERIOD_MONTH) {
		const char *per = s->limit_period == PERIOD_DAY ? "day" : "week";
		snprintf(carried, sizeof(carried), "UserPromotionLimit %u (the most %u per %s allows in a month)",
		         monthly_limit(s), s->limit_count, per);
		snprintf(enforced, sizeof(enforced), "limit %u per %s", s->limit_count, per);
		warn(dl, s->where[SETTING_LIMIT], carried, "counts elevations per calendar month", enforced);
	}
	if (given(s, SETTING_AUTH) && s->auth == AUTH_BIOMETRIC)
		warn(dl, s->where[SETTING_AUTH], "VerifyUserPromotion true and UserPromotionBiometrics true",
		     "cannot require Touch ID without also accepting a password", "authenticate biometric");
	if (given(s, SETTING_REASON) && s->reason == REASON_OPTIONAL)
		warn(dl, s->where[SETTING_REASON], "UserPromotionReason false",
		     "cannot ask for an optional reason", "reason optional");
	if (given(s, SETTING_REASON_MIN) || given(s, SETTING_REASON_MAX)) {
		enum setting_id at = given(s, SETTING_REASON_MIN) ? SETTING_REASON_MIN : SETTING_REASON_MAX;
		warn(dl, s->where[at], "no length limits", "cannot limit the length of a reason",
		     "the reason's min and max length");
	}
	if (given(s, SETTING_OTHER) && s->other_allowed)
		warn(dl, s->where[SETTING_OTHER], "only UserPromotionChoices",
		     "cannot offer a free-text 'Other' reason", "other allowed");
}

static void jamf_check(const struct policy *p, struct diag_list *dl)
{
	if (p->has_elevation)
		check_defaults(&p->defaults, dl);
	for (size_t i = 0; i < p->nrules; i++) {
		char enforced[64 + 32];
		snprintf(enforced, sizeof(enforced), "rule \"%.64s\"", p->rules[i].name);
		warn(dl, p->rules[i].name_span, "the elevation block's settings for everyone",
		     "has no rules", enforced);
	}
	if (p->otherwise_given && p->otherwise_deny)
		warn(dl, p->otherwise_span, "TemporaryUserPromotion true",
		     "cannot deny elevation by default", "'otherwise deny'");
}

static plist_t jamf_settings(const struct policy *p)
{
	const struct settings *s = &p->defaults;
	plist_t d = plist_new_dict();

	/*
	 * Duration and authentication always have a value (polc's defaults are
	 * 5m and password), so their keys are always written: Jamf Connect must
	 * never be laxer than the runtime. The other settings' defaults (no
	 * reason, no limit, no choices, no timer) are what an absent key means.
	 */
	plist_dict_set_item(d, "TemporaryUserPromotion", plist_new_bool(1));
	plist_dict_set_item(d, "UserPromotionDuration", plist_new_uint(duration_minutes(s)));
	plist_dict_set_item(d, "VerifyUserPromotion", plist_new_bool(s->auth != 0));
	plist_dict_set_item(d, "UserPromotionBiometrics", plist_new_bool((s->auth & AUTH_BIOMETRIC) != 0));
	if (given(s, SETTING_REASON))
		plist_dict_set_item(d, "UserPromotionReason", plist_new_bool(s->reason == REASON_REQUIRED));
	if (given(s, SETTING_LIMIT))
		plist_dict_set_item(d, "UserPromotionLimit", plist_new_uint(monthly_limit(s)));
	if (given(s, SETTING_CHOICES)) {
		plist_t a = plist_new_array();
		for (size_t i = 0; i < s->nchoices; i++)
			plist_array_append_item(a, plist_new_string(s->choices[i]));
		plist_dict_set_item(d, "UserPromotionChoices", a);
	}
	if (given(s, SETTING_TIMER))
		plist_dict_set_item(d, "UserPromotionTimer", plist_new_bool(s->timer_shown));
	return d;
}

static int jamf_add_payloads(const struct policy *p, enum payload_style style, plist_t payloads)
{
	plist_t prefs = plist_new_dict();
	plist_dict_set_item(prefs, "TemporaryUserPermissions", jamf_settings(p));
	plist_t payload = profile_preferences_payload(p, JAMF_DOMAIN, prefs, style, "Jamf Connect");
	if (!payload)
		return -1;
	plist_array_append_item(payloads, payload);
	return 0;
}

const struct target target_jamf_connect = {
	.name = "jamf-connect",
	.check = jamf_check,
	.add_payloads = jamf_add_payloads,
};
