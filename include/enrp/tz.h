/*
 * tz.h — time zones read from the system's tz database (TZif files under
 * /usr/share/zoneinfo), held per caller, so that code working in the
 * platform's zone never changes the process's TZ (which every thread's
 * localtime_r shares) and two zones can be used side by side.
 *
 * Civil time is the proleptic Gregorian calendar; leap seconds do not exist
 * (POSIX time), and zones whose files count them ("right/...") are refused.
 */
#ifndef ENRP_TZ_H
#define ENRP_TZ_H

#include <stdint.h>

/* The platform's zone when none is configured (issue 11). */
#define ENRP_TZ_DEFAULT "Asia/Almaty"
#define ENRP_TZ_NAME_MAX 64

typedef struct enrp_tz enrp_tz;

/* A moment in local civil time, as callers keep it on the stack. */
struct enrp_civil {
	int year;      /* e.g. 2026 */
	int month;     /* 1..12 */
	int day;       /* 1..31 */
	int hour;      /* 0..23 */
	int minute;    /* 0..59 */
	int second;    /* 0..59 */
	int iso_wday;  /* 1 Monday .. 7 Sunday */
	int iso_year;  /* the year its ISO 8601 week belongs to (%G) */
	int iso_week;  /* 1..53 (%V) */
	int32_t utc_offset; /* seconds east of UTC in force at that moment */
};

/* Loads zone NAME ("UTC", "Asia/Almaty", "Europe/Berlin"): an IANA name of
 * [A-Za-z0-9_+-] parts joined by '/', never "." or "..".  -EINVAL: not such
 * a name, or the file is not a TZif file this reader understands (including
 * leap-second zones); -ENOENT: no such zone; -ENOMEM; -errno of reading.
 * "UTC" needs no file.  The caller frees with enrp_tz_free().  The result is
 * immutable and may be shared between threads. */
int enrp_tz_open(const char *name, enrp_tz **out);

/* NULL is a no-op. */
void enrp_tz_free(enrp_tz *tz);

/* The name given to open.  Borrowed; valid until free. */
const char *enrp_tz_name(const enrp_tz *tz);

/* Offset east of UTC, in seconds, in force at T (seconds since the epoch).
 * Past the last transition in the file (2037 in Debian's files), the offset
 * of that transition stays: a zone that still changes to summer time then
 * is read as on standard time. */
int32_t enrp_tz_offset(const enrp_tz *tz, int64_t t);

/* The local civil time of T (seconds since the epoch) in TZ. */
void enrp_tz_civil(const enrp_tz *tz, int64_t t, struct enrp_civil *out);

/* The moment (seconds since the epoch) when local civil time in TZ reads
 * YEAR-MONTH-DAY HOUR:MINUTE:SECOND (fields must be in range).  A time that
 * occurs twice (clocks set back) gives the earlier moment; one that never
 * occurs (clocks set forward) is read with the offset in force before the
 * gap, as mktime does, so it lands after the gap. */
int64_t enrp_tz_from_civil(const enrp_tz *tz, int year, int month, int day, int hour,
                           int minute, int second);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12) and
 * back. */
int64_t enrp_days_from_civil(int64_t year, int month, int day);
void enrp_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

#endif
