/*
 * text.c - UTF-8 validation (RFC 3629: no overlongs, no surrogates) and glob
 * matching for `matches`: '*' matches any run of characters, '?' exactly
 * one character, everything else itself. Matching runs in O(len(pattern) *
 * len(text)) at worst, with no recursion and no allocation.
 */
#include "text.h"

#include "ep.h"

size_t ep_utf8_sequence_length(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	unsigned cp;

	if (p >= end)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF) { n = 2; cp = p[0] & 0x1Fu; }
	else if (p[0] >= 0xE0 && p[0] <= 0xEF) { n = 3; cp = p[0] & 0x0Fu; }
	else if (p[0] >= 0xF0 && p[0] <= 0xF4) { n = 4; cp = p[0] & 0x07u; }
	else return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3Fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

bool ep_utf8_valid(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	while (p < end) {
		size_t n = ep_utf8_sequence_length(p, end);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

/* Steps over one character (a UTF-8 lead byte and its continuation bytes). */
static const char *next_char(const char *s)
{
	s++;
	while (((unsigned char)*s & 0xC0) == 0x80)
		s++;
	return s;
}

bool ep_glob_match(const char *pattern, const char *text)
{
	const char *p = pattern, *t = text;
	const char *star = NULL, *resume = NULL;

	while (*t) {
		if (*p == '*') {
			star = ++p;
			resume = t;
		} else if (*p == '?') {
			p++;
			t = next_char(t);
		} else if (*p && *p == *t) {
			p++;
			t++;
		} else if (star) {
			p = star;
			t = resume = next_char(resume);
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}
