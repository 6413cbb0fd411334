/*
 * calendar.h — the platform's calendar: dates, working days, the holidays
 * the administrator sets and the time zone the platform keeps its dates in.
 *
 * Rules stated in days ("three working days' notice", "quarterly") are
 * about the platform's local dates, not about UTC instants: a restore
 * planned on Monday in Almaty is on Monday there, whatever the hour in UTC.
 * A date is therefore a day number (days since 1970-01-01 in the proleptic
 * Gregorian calendar, enrp_day), and the one step from an instant to a date
 * is enrp_day_of(), given the zone's UTC offset at that instant.
 *
 * The arithmetic is pure (no clock, no store, no time zone database):
 * callers pass "today", so tests can run any date.  Working days are Monday
 * to Friday minus the holidays.  The holidays and the zone's name are kept
 * in the store (DBI_CALENDAR) and every change is journalled.  Converting
 * the zone's name into an offset needs the host's tz database and belongs
 * to the program (enrpctl), not to the library, which has no business
 * changing the process's TZ under a daemon's threads.
 */
#ifndef ENRP_CALENDAR_H
#define ENRP_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>

/* Days since 1970-01-01 (negative before). */
typedef int32_t enrp_day;

/* Room for "YYYY-MM-DD" and its NUL. */
#define ENRP_DAY_BUF 11

/* The year range enrp_day_parse accepts (and enrp_day_format prints). */
#define ENRP_YEAR_MIN 1970
#define ENRP_YEAR_MAX 9999

/* The day number of Y-M-D.  M 1..12, D 1..31 (not checked against the
 * month: callers validate first, see enrp_days_in_month). */
enrp_day enrp_day_from_ymd(int y, int m, int d);
/* The year, month (1..12) and day (1..31) of DAY. */
void enrp_day_to_ymd(enrp_day day, int *y, int *m, int *d);
bool enrp_leap_year(int y);
int enrp_days_in_month(int y, int m);

/* Day of the week: 0 Monday .. 6 Sunday (ISO order). */
int enrp_day_weekday(enrp_day day);

/* "YYYY-MM-DD", exactly (four-digit year ENRP_YEAR_MIN..MAX, a real date).
 * -EINVAL for anything else. */
int enrp_day_parse(const char *s, enrp_day *out);
void enrp_day_format(enrp_day day, char buf[ENRP_DAY_BUF]);

/* The local date of the instant NS (ns since the epoch, UTC) in a zone whose
 * offset from UTC at that instant is UTC_OFFSET_S seconds (east positive:
 * Almaty is +18000).  Floors, so 23:59:59.9 local is still that day. */
enrp_day enrp_day_of(int64_t ns, int32_t utc_offset_s);

/* DAY plus MONTHS calendar months; a day the target month does not have
 * becomes its last (Nov 30 + 3 months = Feb 28, or 29 in a leap year;
 * Aug 31 + 6 months = Feb 28/29). */
enrp_day enrp_day_add_months(enrp_day day, unsigned months);

/* Whether DAY is a working day: Monday to Friday and not one of the N
 * HOLIDAYS (sorted ascending, as enrp_calendar_holidays gives them). */
bool enrp_workday(enrp_day day, const enrp_day *holidays, size_t n);

/* The N-th working day after DAY (DAY itself never counts): with N 3 and a
 * Friday, the next Wednesday, unless holidays fall between.  N 0: DAY. */
enrp_day enrp_workday_after(enrp_day day, unsigned n, const enrp_day *holidays, size_t nh);

/* Working days in (FROM, TO]: 0 when TO <= FROM. */
unsigned enrp_workdays_between(enrp_day from, enrp_day to, const enrp_day *holidays, size_t nh);

/* ---- the store's calendar ---- */

#define ENRP_CALENDAR_NOTE_MAX 255
#define ENRP_ZONE_MAX 63
#define ENRP_ZONE_DEFAULT "Asia/Almaty"

struct enrp_holiday {
	enrp_day day;
	char note[ENRP_CALENDAR_NOTE_MAX + 1]; /* "" when none was given */
};

/* Adds DAY as a holiday, journalling "holiday-add date=DAY note=NOTE".
 * NOTE may be NULL or "".  -EEXIST already a holiday (nothing changes),
 * -EINVAL DAY outside ENRP_YEAR_MIN..MAX or NOTE too long, -ENOSPC, -EIO. */
int enrp_calendar_holiday_add(enrp_store *st, enrp_day day, const char *note,
                              const struct enrp_actor *actor);
/* Removes the holiday DAY, journalling "holiday-remove date=DAY note=NOTE"
 * (the note it had).  -ENOENT if DAY is no holiday. */
int enrp_calendar_holiday_remove(enrp_store *st, enrp_day day, const struct enrp_actor *actor);

/* Every holiday, in date order, into a new array (*OUT, *N; the caller
 * frees *OUT with free(); NULL when N is 0).  -EIO for a damaged record,
 * -ENOMEM. */
int enrp_calendar_holidays(enrp_store *st, struct enrp_holiday **out, size_t *n);

/* Zone names: 1..ENRP_ZONE_MAX bytes of [A-Za-z0-9/_+-], no component
 * empty or starting with '.', no leading '/': a name the tz database could
 * hold, never a path out of it.  Says nothing of whether the database has
 * it (the caller checks that where it converts). */
bool enrp_zone_name_valid(const char *zone);

/* The platform's zone (ENRP_ZONE_DEFAULT until one is set) into ZONE.
 * -EIO for a damaged record. */
int enrp_calendar_zone(enrp_store *st, char zone[ENRP_ZONE_MAX + 1]);
/* Sets the platform's zone, journalling "calendar-zone from=OLD to=NEW".
 * -EINVAL a name enrp_zone_name_valid refuses, -EALREADY it is the zone
 * already (nothing journalled). */
int enrp_calendar_zone_set(enrp_store *st, const char *zone, const struct enrp_actor *actor);

#endif
