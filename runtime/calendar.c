/*
 * calendar.c - civil date <-> day number conversions (after H. Hinnant's
 * public-domain algorithms), exact for every date whose day number fits int32.
 * Must stay free of allocation, I/O and global state: libep uses it.
 */
#include "calendar.h"

#include "ep.h"

static bool is_leap(int32_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned ep_days_in_month(int32_t year, unsigned month)
{
	static const uint8_t days_in[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return days_in[month - 1] + (month == 2 && is_leap(year));
}

bool ep_date_is_valid(int32_t year, unsigned month, unsigned day)
{
	return month >= 1 && month <= 12 && day >= 1 && day <= ep_days_in_month(year, month);
}

int32_t ep_days_from_civil(int32_t year, unsigned month, unsigned day)
{
	int64_t y = (int64_t)year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	uint32_t yoe = (uint32_t)(y - era * 400);
	uint32_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + (int64_t)doe - 719468);
}

struct civil_date ep_civil_from_days(int32_t days)
{
	int64_t z = (int64_t)days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	uint32_t doe = (uint32_t)(z - era * 146097);
	uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint32_t mp = (5 * doy + 2) / 153;
	uint32_t d = doy - (153 * mp + 2) / 5 + 1;
	uint32_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
	return (struct civil_date){ (int32_t)y, (uint8_t)m, (uint8_t)d };
}

unsigned ep_weekday(int32_t days)
{
	/* 1970-01-01 was a Thursday (3). */
	int32_t r = (days + 3) % 7;
	return (unsigned)(r < 0 ? r + 7 : r);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t ep_local_day(int64_t t, int32_t utc_offset)
{
	return floor_div(t + utc_offset, 86400);
}

uint32_t ep_local_minute(int64_t t, int32_t utc_offset)
{
	int64_t local = t + utc_offset;
	return (uint32_t)((local - floor_div(local, 86400) * 86400) / 60);
}

int64_t ep_period_number(enum ep_period period, int64_t local_day)
{
	switch (period) {
	case EP_PERIOD_DAY:
		return local_day;
	case EP_PERIOD_WEEK:
		/* Weeks start on Monday; day 0 (1970-01-01) was a Thursday. */
		return floor_div(local_day + 3, 7);
	case EP_PERIOD_MONTH: {
		struct civil_date d = ep_civil_from_days((int32_t)local_day);
		return (int64_t)d.year * 12 + (d.month - 1);
	}
	case EP_PERIOD_NONE:
		break;
	}
	return 0;
}
