/*
 * reason.c - the user's reason checked against the decision's reason rules
 * (contract in reason.h). Pure functions on the caller's strings: trim,
 * decode UTF-8 strictly, refuse control characters, count code points,
 * pick the choice, write the text for the audit log.
 *
 * Must never: accept text the rule does not allow (free text without
 * Other, a text with a listed choice, any reason when none is asked for);
 * count bytes where the rule says characters; let a control or
 * bidirectional-override character through to the log; write the output
 * buffer on failure.
 */
#include "reason.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHOICE_DIGITS_MAX 5     /* reason_parse_choice(): 1 .. 99999 */

struct span {
	const char *p;
	size_t n;
};

const char *reason_strerror(int status)
{
	switch (status) {
#define REASON_CASE_(name, value, msg) case name: return msg;
	REASON_STATUSES(REASON_CASE_)
#undef REASON_CASE_
	}
	return "unknown reason status";
}

unsigned reason_menu_size(const struct ep_decision *d)
{
	if (!d || d->reason.nchoices == 0 || d->reason.nchoices > EP_MAX_CHOICES)
		return 0;
	return d->reason.nchoices + (d->reason.other_allowed ? 1u : 0u);
}

/* ---- text --------------------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static struct span trim(const char *s)
{
	struct span t = { s, strlen(s) };
	while (t.n > 0 && is_space(t.p[t.n - 1]))
		t.n--;
	while (t.n > 0 && is_space(t.p[0])) {
		t.p++;
		t.n--;
	}
	return t;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
   surrogates, nothing above U+10FFFF) with its code point in *cp, or 0. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, *cp = c & 0x1fu;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, *cp = c & 0x0fu, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, *cp = c & 0x07u, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3fu);
	}
	return len;
}

/* C0, DEL, C1, line/paragraph separators and bidirectional controls. */
static bool is_control(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	       cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* Encoding and characters first, then the rule's lengths, then the byte cap. */
static int check_text(const struct ep_decision *d, struct span t)
{
	const unsigned char *s = (const unsigned char *)t.p;
	size_t i = 0, chars = 0;
	while (i < t.n) {
		unsigned long cp = 0;
		size_t k = utf8_decode(s + i, t.n - i, &cp);
		if (k == 0)
			return REASON_E_UTF8;
		if (is_control(cp))
			return REASON_E_CONTROL;
		i += k;
		chars++;
	}
	if (chars < d->reason.min)
		return REASON_E_TOO_SHORT;
	if (d->reason.max && chars > d->reason.max)
		return REASON_E_TOO_LONG;
	if (t.n > REASON_TEXT_MAX)
		return REASON_E_TOO_BIG;
	return REASON_OK;
}

/* out = prefix + text, or REASON_E_NOSPACE with out untouched. */
static int put_out(char *out, size_t size, const char *prefix, struct span t)
{
	size_t pn = strlen(prefix);
	if (pn >= size || t.n >= size - pn)
		return REASON_E_NOSPACE;
	memcpy(out, prefix, pn);
	if (t.n)
		memcpy(out + pn, t.p, t.n);
	out[pn + t.n] = '\0';
	return REASON_OK;
}

static int put_checked(const struct ep_decision *d, struct span t, const char *prefix,
                       char *out, size_t size)
{
	int rc = check_text(d, t);
	return rc != REASON_OK ? rc : put_out(out, size, prefix, t);
}

/* ---- the rules ------------------------------------------------------------------ */

static int check_decision(const struct ep_decision *d)
{
	switch (d->reason.mode) {
	case EP_REASON_NONE:
	case EP_REASON_OPTIONAL:
	case EP_REASON_REQUIRED:
		break;
	default:
		return REASON_E_DECISION;
	}
	if (d->reason.nchoices > EP_MAX_CHOICES || (d->reason.max && d->reason.min > d->reason.max))
		return REASON_E_DECISION;
	for (uint32_t i = 0; i < d->reason.nchoices; i++)
		if (!d->reason.choices[i])
			return REASON_E_DECISION;
	return REASON_OK;
}

static int check_choice(const struct ep_decision *d, unsigned choice, struct span t,
                        char *out, size_t size)
{
	static const struct span none = { "", 0 };
	uint32_t n = d->reason.nchoices;
	if (n == 0)
		return REASON_E_NO_CHOICES;
	if (choice <= n)
		return t.n ? REASON_E_BOTH : put_out(out, size, d->reason.choices[choice - 1], none);
	if (choice != n + 1 || !d->reason.other_allowed)
		return REASON_E_CHOICE;
	if (t.n == 0)
		return REASON_E_OTHER_EMPTY;
	return put_checked(d, t, REASON_OTHER_PREFIX, out, size);
}

static int check_free_text(const struct ep_decision *d, struct span t, char *out, size_t size)
{
	if (d->reason.nchoices == 0)
		return put_checked(d, t, "", out, size);
	if (!d->reason.other_allowed)
		return REASON_E_FREE_TEXT;
	return put_checked(d, t, REASON_OTHER_PREFIX, out, size);
}

int reason_check(const struct ep_decision *d, unsigned choice, const char *text,
                 char *out, size_t size)
{
	struct span t = { "", 0 };
	int rc;
	if (!d || !out)
		return REASON_E_ARG;
	rc = check_decision(d);
	if (rc != REASON_OK)
		return rc;
	if (text)
		t = trim(text);
	if (d->reason.mode == EP_REASON_NONE)
		return choice || t.n ? REASON_E_UNEXPECTED : put_out(out, size, "", t);
	if (choice)
		return check_choice(d, choice, t, out, size);
	if (t.n)
		return check_free_text(d, t, out, size);
	if (d->reason.mode == EP_REASON_REQUIRED)
		return REASON_E_REQUIRED;
	return put_out(out, size, "", t);
}

int reason_parse_choice(const char *s, unsigned *choice)
{
	struct span t;
	unsigned v = 0;
	if (!s || !choice)
		return REASON_E_ARG;
	t = trim(s);
	if (t.n == 0 || t.n > CHOICE_DIGITS_MAX)
		return REASON_E_NUMBER;
	for (size_t i = 0; i < t.n; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return REASON_E_NUMBER;
		v = v * 10 + (unsigned)(t.p[i] - '0');
	}
	if (v == 0)
		return REASON_E_NUMBER;
	*choice = v;
	return REASON_OK;
}

/* ---- messages --------------------------------------------------------------------- */

static int choose_range(char *buf, size_t size, const char *lead, unsigned menu)
{
	if (menu == 0)
		return snprintf(buf, size, "%sthere is nothing to choose from", lead);
	if (menu == 1)
		return snprintf(buf, size, "%schoose 1", lead);
	return snprintf(buf, size, "%schoose 1-%u", lead, menu);
}

static int length_message(char *buf, size_t size, const char *bound, uint32_t n)
{
	return snprintf(buf, size, "reason must be at %s %u character%s", bound, (unsigned)n,
	                n == 1 ? "" : "s");
}

const char *reason_message(int status, const struct ep_decision *d, char *buf, size_t size)
{
	int n;
	if (!buf || size == 0)
		return "";
	switch (d ? status : REASON_OK) {
	case REASON_E_TOO_SHORT:
		n = length_message(buf, size, "least", d->reason.min);
		break;
	case REASON_E_TOO_LONG:
		n = length_message(buf, size, "most", d->reason.max);
		break;
	case REASON_E_TOO_BIG:
		n = snprintf(buf, size, "reason is too long (at most %u bytes)", REASON_TEXT_MAX);
		break;
	case REASON_E_CHOICE:
		n = choose_range(buf, size, "", reason_menu_size(d));
		break;
	case REASON_E_FREE_TEXT:
		n = choose_range(buf, size, "free text is not allowed: ", reason_menu_size(d));
		break;
	default:
		n = snprintf(buf, size, "%s", reason_strerror(status));
		break;
	}
	if (n < 0)
		buf[0] = '\0';
	return buf;
}
