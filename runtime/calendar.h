/*
 * calendar.h - proleptic Gregorian calendar arithmetic for libep and polc.
 *
 * Pure functions on integers: no time zone database, no locale, no I/O.
 * Days are counted from 1970-01-01 (day 0, a Thursday); weekdays are
 * Monday = 0 .. Sunday = 6, as ISO 8601 orders the week.
 */
#ifndef EP_CALENDAR_H
#define EP_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

struct civil_date {
	int32_t year;
	uint8_t month;    /* 1..12 */
	uint8_t day;      /* 1..31 */
};

bool ep_date_is_valid(int32_t year, unsigned month, unsigned day);
unsigned ep_days_in_month(int32_t year, unsigned month);   /* month 1..12 */
/* Valid dates only. */
int32_t ep_days_from_civil(int32_t year, unsigned month, unsigned day);
struct civil_date ep_civil_from_days(int32_t days);
unsigned ep_weekday(int32_t days);

#endif
