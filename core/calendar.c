/*
 * calendar.c — dates, working days, holidays and the platform's zone (see
 * include/enrp/calendar.h).
 *
 * Day numbers are converted to and from year/month/day with the usual
 * era-of-400-years arithmetic (an era has 146097 days and repeats exactly),
 * counted from March so that the leap day is the last day of its year: no
 * table, no loop, valid for every int32 day, and exact where timegm and
 * struct tm would drag in the process's zone and int overflow at year ends.
 *
 * The store's part lives in DBI_CALENDAR: "holiday" + YYYY-MM-DD -> note
 * (the textual date makes the keys sort by date), "zone" -> name.  Each
 * change is journalled in the transaction that makes it, so the journal
 * never misses or invents one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/calendar.h>

#include "calendar_int.h"
#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"

#define SECONDS_PER_DAY 86400
#define NS_PER_SEC 1000000000LL
/* 1970-01-01 was a Thursday: 3 in ISO order from Monday = 0. */
#define EPOCH_WEEKDAY 3
/* Days from 0000-03-01 (the first day of era 0) to 1970-01-01. */
#define EPOCH_FROM_ERA0 719468
#define DAYS_PER_ERA 146097

bool enrp_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int enrp_days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && enrp_leap_year(y) ? 29 : days[m - 1];
}

/* Floor division: the era of a day before year 0 is negative. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

enrp_day enrp_day_from_ymd(int y, int m, int d)
{
	/* Years start in March: January and February belong to the year before. */
	int64_t year = m <= 2 ? (int64_t)y - 1 : y;
	int64_t era = floor_div(year, 400);
	int64_t year_of_era = year - era * 400;
	int64_t month_from_march = m > 2 ? m - 3 : m + 9;
	int64_t day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
	int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return (enrp_day)(era * DAYS_PER_ERA + day_of_era - EPOCH_FROM_ERA0);
}

void enrp_day_to_ymd(enrp_day day, int *y, int *m, int *d)
{
	int64_t z = (int64_t)day + EPOCH_FROM_ERA0;
	int64_t era = floor_div(z, DAYS_PER_ERA);
	int64_t day_of_era = z - era * DAYS_PER_ERA;
	/* Leap days every 4 years (1460 days), none every 100 (36524), one
	 * every 400 (146096): remove them, and the year is a plain division. */
	int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
	                       day_of_era / 146096) / 365;
	int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	int64_t month_from_march = (5 * day_of_year + 2) / 153;
	int month = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
	*d = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
	*m = month;
	*y = (int)(year_of_era + era * 400 + (month <= 2));
}

int enrp_day_weekday(enrp_day day)
{
	return (int)((((int64_t)day + EPOCH_WEEKDAY) % 7 + 7) % 7);
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int enrp_day_parse(const char *s, enrp_day *out)
{
	int y, m, d;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		return -EINVAL;
	if (y < ENRP_YEAR_MIN || y > ENRP_YEAR_MAX || m < 1 || m > 12 || d < 1 ||
	    d > enrp_days_in_month(y, m))
		return -EINVAL;
	*out = enrp_day_from_ymd(y, m, d);
	return 0;
}

void enrp_day_format(enrp_day day, char buf[ENRP_DAY_BUF])
{
	int y, m, d;
	enrp_day_to_ymd(day, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(buf, ENRP_DAY_BUF, "invalid");
		return;
	}
	snprintf(buf, ENRP_DAY_BUF, "%04d-%02d-%02d", y, m, d);
}

enrp_day enrp_day_of(int64_t ns, int32_t utc_offset_s)
{
	int64_t local_s = floor_div(ns, NS_PER_SEC) + utc_offset_s;
	return (enrp_day)floor_div(local_s, SECONDS_PER_DAY);
}

enrp_day enrp_day_add_months(enrp_day day, unsigned months)
{
	int y, m, d;
	enrp_day_to_ymd(day, &y, &m, &d);
	int64_t month_index = (int64_t)y * 12 + (m - 1) + months;
	y = (int)(month_index / 12);
	m = (int)(month_index % 12) + 1;
	int last = enrp_days_in_month(y, m);
	return enrp_day_from_ymd(y, m, d > last ? last : d);
}

static bool is_holiday(enrp_day day, const enrp_day *holidays, size_t n)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (holidays[mid] == day)
			return true;
		if (holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool enrp_workday(enrp_day day, const enrp_day *holidays, size_t n)
{
	return enrp_day_weekday(day) < 5 && !is_holiday(day, holidays, n);
}

enrp_day enrp_workday_after(enrp_day day, unsigned n, const enrp_day *holidays, size_t nh)
{
	/* Ends: every week has five weekdays and only NH of them can be
	 * holidays. */
	while (n > 0) {
		day++;
		if (enrp_workday(day, holidays, nh))
			n--;
	}
	return day;
}

unsigned enrp_workdays_between(enrp_day from, enrp_day to, const enrp_day *holidays, size_t nh)
{
	unsigned n = 0;
	for (enrp_day day = from + 1; day <= to && day > from; day++)
		n += enrp_workday(day, holidays, nh);
	return n;
}

bool enrp_zone_name_valid(const char *zone)
{
	size_t n = zone ? strlen(zone) : 0;
	if (n == 0 || n > ENRP_ZONE_MAX)
		return false;
	bool component_start = true;
	for (size_t i = 0; i < n; i++) {
		char c = zone[i];
		if (c == '/') {
			if (component_start) /* leading '/', or "//" */
				return false;
			component_start = true;
			continue;
		}
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		          c == '_' || c == '+' || c == '-';
		/* Only letters, digits and '_' start a component, so neither ".."
		 * nor an option-like "-x" can be spelt. */
		if (!ok || (component_start && (c == '+' || c == '-')))
			return false;
		component_start = false;
	}
	return !component_start;
}

/* ---- the store's calendar ---- */

int calendar_holiday_days_txn(enrp_txn *t, enrp_day **out, size_t *n)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t prefix[KEY_HOLIDAY_LEN];
	size_t cap = 0;
	int rc, mrc;

	*out = NULL;
	*n = 0;
	rc = txn_cursor(t, DBI_CALENDAR, &cur);
	if (rc == -ENOENT) /* an older store opened read-only: no calendar yet */
		return 0;
	if (rc)
		return rc;
	key_holiday(prefix, 0);
	k.mv_data = prefix;
	k.mv_size = KEY_HOLIDAY_PREFIX_LEN;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		enrp_day day;
		if (k.mv_size < KEY_HOLIDAY_PREFIX_LEN ||
		    memcmp(k.mv_data, prefix, KEY_HOLIDAY_PREFIX_LEN) != 0)
			break;
		rc = key_holiday_day(k.mv_data, k.mv_size, &day);
		if (rc)
			goto out_close;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			enrp_day *nv = realloc(*out, cap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				goto out_close;
			}
			*out = nv;
		}
		(*out)[(*n)++] = day;
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
out_close:
	mdb_cursor_close(cur);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

struct holiday_change {
	enrp_day day;
	const char *note;
	const struct enrp_actor *actor;
};

static int holiday_add_fn(enrp_txn *t, void *arg)
{
	struct holiday_change *c = arg;
	uint8_t key[KEY_HOLIDAY_LEN];
	char date[ENRP_DAY_BUF], details[ENRP_JOURNAL_DETAILS_MAX + 1];
	struct rec_out o;
	MDB_val v;
	int rc;

	key_holiday(key, c->day);
	rc = txn_get(t, DBI_CALENDAR, key, sizeof(key), &v);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	rec_out_init(&o);
	rec_holiday_encode(c->note, &o);
	rc = o.err ? o.err : txn_put(t, DBI_CALENDAR, key, sizeof(key), o.buf, o.len, 0);
	rec_out_release(&o);
	if (rc)
		return rc;
	enrp_day_format(c->day, date);
	details[0] = '\0';
	enrp_details_add(details, sizeof(details), "date", "%s", date);
	enrp_details_add(details, sizeof(details), "note", "%s", c->note);
	return journal_append_txn(t, c->actor, "", "holiday-add", details);
}

static bool day_in_range(enrp_day day)
{
	int y, m, d;
	enrp_day_to_ymd(day, &y, &m, &d);
	return y >= ENRP_YEAR_MIN && y <= ENRP_YEAR_MAX;
}

int enrp_calendar_holiday_add(enrp_store *st, enrp_day day, const char *note,
                              const struct enrp_actor *actor)
{
	struct holiday_change c = { day, note ? note : "", actor };
	if (!day_in_range(day) || strlen(c.note) > ENRP_CALENDAR_NOTE_MAX)
		return -EINVAL;
	return enrp_store_write(st, holiday_add_fn, &c);
}

static int holiday_remove_fn(enrp_txn *t, void *arg)
{
	struct holiday_change *c = arg;
	uint8_t key[KEY_HOLIDAY_LEN];
	char date[ENRP_DAY_BUF], note[ENRP_CALENDAR_NOTE_MAX + 1];
	char details[ENRP_JOURNAL_DETAILS_MAX + 1];
	MDB_val v;
	int rc;

	key_holiday(key, c->day);
	rc = txn_get(t, DBI_CALENDAR, key, sizeof(key), &v);
	if (rc == 0)
		rc = rec_holiday_decode(v.mv_data, v.mv_size, note, sizeof(note));
	if (rc == 0)
		rc = txn_del(t, DBI_CALENDAR, key, sizeof(key));
	if (rc)
		return rc;
	enrp_day_format(c->day, date);
	details[0] = '\0';
	enrp_details_add(details, sizeof(details), "date", "%s", date);
	enrp_details_add(details, sizeof(details), "note", "%s", note);
	return journal_append_txn(t, c->actor, "", "holiday-remove", details);
}

int enrp_calendar_holiday_remove(enrp_store *st, enrp_day day, const struct enrp_actor *actor)
{
	struct holiday_change c = { day, NULL, actor };
	if (!day_in_range(day))
		return -ENOENT;
	return enrp_store_write(st, holiday_remove_fn, &c);
}

struct holiday_list {
	struct enrp_holiday *v;
	size_t n;
};

static int holidays_fn(enrp_txn *t, void *arg)
{
	struct holiday_list *l = arg;
	enrp_day *days;
	size_t n;
	int rc;

	free(l->v); /* a second run after the map grew starts over */
	l->v = NULL;
	l->n = 0;
	rc = calendar_holiday_days_txn(t, &days, &n);
	if (rc || n == 0)
		return rc;
	l->v = calloc(n, sizeof(*l->v));
	if (!l->v) {
		free(days);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t key[KEY_HOLIDAY_LEN];
		MDB_val v;
		key_holiday(key, days[i]);
		l->v[i].day = days[i];
		rc = txn_get(t, DBI_CALENDAR, key, sizeof(key), &v);
		if (rc == 0)
			rc = rec_holiday_decode(v.mv_data, v.mv_size, l->v[i].note,
			                        sizeof(l->v[i].note));
	}
	free(days);
	if (rc) {
		free(l->v);
		l->v = NULL;
		return rc;
	}
	l->n = n;
	return 0;
}

int enrp_calendar_holidays(enrp_store *st, struct enrp_holiday **out, size_t *n)
{
	struct holiday_list l = { NULL, 0 };
	int rc = enrp_store_read(st, holidays_fn, &l);
	*out = rc ? NULL : l.v;
	*n = rc ? 0 : l.n;
	return rc;
}

int calendar_zone_txn(enrp_txn *t, char zone[ENRP_ZONE_MAX + 1])
{
	MDB_val v;
	int rc = txn_get(t, DBI_CALENDAR, KEY_ZONE, strlen(KEY_ZONE), &v);
	if (rc == -ENOENT) {
		snprintf(zone, ENRP_ZONE_MAX + 1, "%s", ENRP_ZONE_DEFAULT);
		return 0;
	}
	if (rc == 0)
		rc = rec_zone_decode(v.mv_data, v.mv_size, zone, ENRP_ZONE_MAX + 1);
	/* A name that could not have been stored is damage, not a zone. */
	if (rc == 0 && !enrp_zone_name_valid(zone))
		rc = -EIO;
	return rc;
}

static int zone_fn(enrp_txn *t, void *arg)
{
	return calendar_zone_txn(t, arg);
}

int enrp_calendar_zone(enrp_store *st, char zone[ENRP_ZONE_MAX + 1])
{
	return enrp_store_read(st, zone_fn, zone);
}

struct zone_change {
	const char *zone;
	const struct enrp_actor *actor;
};

static int zone_set_fn(enrp_txn *t, void *arg)
{
	struct zone_change *c = arg;
	char old[ENRP_ZONE_MAX + 1], details[ENRP_JOURNAL_DETAILS_MAX + 1];
	struct rec_out o;
	int rc = calendar_zone_txn(t, old);
	if (rc)
		return rc;
	if (strcmp(old, c->zone) == 0)
		return -EALREADY;
	rec_out_init(&o);
	rec_zone_encode(c->zone, &o);
	rc = o.err ? o.err
	           : txn_put(t, DBI_CALENDAR, KEY_ZONE, strlen(KEY_ZONE), o.buf, o.len, 0);
	rec_out_release(&o);
	if (rc)
		return rc;
	details[0] = '\0';
	enrp_details_add(details, sizeof(details), "from", "%s", old);
	enrp_details_add(details, sizeof(details), "to", "%s", c->zone);
	return journal_append_txn(t, c->actor, "", "calendar-zone", details);
}

int enrp_calendar_zone_set(enrp_store *st, const char *zone, const struct enrp_actor *actor)
{
	struct zone_change c = { zone, actor };
	if (!enrp_zone_name_valid(zone))
		return -EINVAL;
	return enrp_store_write(st, zone_set_fn, &c);
}
