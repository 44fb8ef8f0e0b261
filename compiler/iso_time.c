/*
 * iso_time.c - ISO 8601 times with an offset (see iso_time.h). Strict: the
 * whole text must be one time; nothing about the local time zone is used.
 */
#include "iso_time.h"

#include "calendar.h"

/* Reads exactly n decimal digits. */
static bool read_digits(const char **s, unsigned n, unsigned *out)
{
	unsigned v = 0;
	for (unsigned i = 0; i < n; i++) {
		char ch = (*s)[i];
		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (unsigned)(ch - '0');
	}
	*s += n;
	*out = v;
	return true;
}

static bool skip_char(const char **s, char ch)
{
	if (**s != ch)
		return false;
	(*s)++;
	return true;
}

/* "Z", "+HH:MM", "+HHMM" or "+HH" (or "-"), to the end of s: seconds east of UTC. */
static bool parse_offset(const char *s, int32_t *offset)
{
	unsigned h, m = 0;
	if (skip_char(&s, 'Z') || skip_char(&s, 'z')) {
		*offset = 0;
		return *s == '\0';
	}
	int sign = *s == '-' ? -1 : 1;
	if (!skip_char(&s, '+') && !skip_char(&s, '-'))
		return false;
	if (!read_digits(&s, 2, &h))
		return false;
	bool colon = skip_char(&s, ':');
	if ((colon || *s) && !read_digits(&s, 2, &m))
		return false;
	if (*s || m > 59 || h * 60 + m > 18 * 60)
		return false;
	*offset = sign * (int32_t)(h * 3600 + m * 60);
	return true;
}

/* YYYY-MM-DDTHH:MM[:SS] and an offset: Unix seconds and the offset. */
bool iso_time_parse(const char *text, int64_t *t, int32_t *offset)
{
	const char *s = text;
	unsigned y, mo, d, h, mi, sec = 0;
	if (!read_digits(&s, 4, &y) || !skip_char(&s, '-') || !read_digits(&s, 2, &mo) ||
	    !skip_char(&s, '-') || !read_digits(&s, 2, &d) ||
	    !(skip_char(&s, 'T') || skip_char(&s, 't')) || !read_digits(&s, 2, &h) ||
	    !skip_char(&s, ':') || !read_digits(&s, 2, &mi))
		return false;
	if (skip_char(&s, ':') && !read_digits(&s, 2, &sec))
		return false;
	if (!ep_date_is_valid((int32_t)y, mo, d) || h > 23 || mi > 59 || sec > 59 ||
	    !parse_offset(s, offset))
		return false;
	int64_t day = ep_days_from_civil((int32_t)y, mo, d);
	*t = day * 86400 + (int64_t)(h * 3600 + mi * 60 + sec) - *offset;
	return true;
}
