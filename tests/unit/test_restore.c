/*
 * test_restore.c — the calendar and test restores: day numbers against
 * known dates, weekdays, month and leap-year ends, the zone boundary at
 * local midnight, working days with weekends and holidays, due dates per
 * class across month ends, overdue, the store's holidays and zone, plans
 * refused under three working days (nothing stored or journalled), record
 * and plan round trips with their journal records, and damaged records
 * refused on decode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/calendar.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/restore.h>

#include "record_int.h"

#include "../tap.h"
#include "journal_last.h"

#define S 1000000000LL
#define ALMATY (5 * 3600)

static enrp_store *st;
static struct enrp_actor actor;

static enrp_day D(const char *s)
{
	enrp_day d = 0;
	if (enrp_day_parse(s, &d))
		printf("# bad date in test: %s\n", s);
	return d;
}

static const char *fmt(enrp_day d)
{
	static char buf[4][ENRP_DAY_BUF];
	static int i;
	i = (i + 1) % 4;
	enrp_day_format(d, buf[i]);
	return buf[i];
}

/* ---- journal helpers ---- */

static struct last journal_last(void)
{
	return journal_last_of(st);
}

/* ---- pure: dates ---- */

static void days(void)
{
	enrp_day d;
	is_int(D("1970-01-01"), 0, "1970-01-01 is day 0");
	is_int(D("2026-12-02"), 20789, "2026-12-02 is day 20789");
	is_int(D("2000-03-01") - D("2000-02-28"), 2, "2000 is a leap year (400)");
	is_int(enrp_day_from_ymd(1900, 3, 1) - enrp_day_from_ymd(1900, 2, 28), 1,
	       "1900 was not a leap year (100)");
	is_int(D("2100-03-01") - D("2100-02-28"), 1, "2100 is not a leap year");
	is_int(D("2028-03-01") - D("2028-02-28"), 2, "2028 is a leap year");
	is_int(D("2027-01-01") - D("2026-12-31"), 1, "year end");

	/* Every day of four centuries round-trips and steps by one. */
	int bad = 0;
	enrp_day prev = D("2000-01-01") - 1;
	for (d = D("2000-01-01"); d < D("2400-01-01"); d++) {
		int y, m, dd;
		enrp_day_to_ymd(d, &y, &m, &dd);
		if (enrp_day_from_ymd(y, m, dd) != d || d != prev + 1 ||
		    dd > enrp_days_in_month(y, m))
			bad++;
		prev = d;
	}
	is_int(bad, 0, "2000..2399: every day round-trips");
	is_int(D("2400-01-01") - D("2000-01-01"), 146097, "400 years are 146097 days");

	is_int(enrp_day_weekday(0), 3, "1970-01-01 was a Thursday");
	is_int(enrp_day_weekday(D("2026-12-02")), 2, "2026-12-02 is a Wednesday");
	is_int(enrp_day_weekday(D("2026-12-06")), 6, "2026-12-06 is a Sunday");
	is_int(enrp_day_weekday(D("2028-02-29")), 1, "2028-02-29 is a Tuesday");

	static const char *const badspell[] = { "", "2026-2-01", "2026-02-1", "2026-02-30",
		"2027-02-29", "2026-13-01", "2026-00-10", "2026-01-00", "1969-12-31", "20261201",
		"2026-12-01T00:00", " 2026-12-01", "2026/12/01", "+026-12-01", "10000-01-01" };
	int nbad = 0;
	for (size_t i = 0; i < sizeof(badspell) / sizeof(badspell[0]); i++)
		nbad += enrp_day_parse(badspell[i], &d) == -EINVAL;
	is_int(nbad, (int)(sizeof(badspell) / sizeof(badspell[0])), "bad spellings: -EINVAL");
	is_int(enrp_day_parse("2028-02-29", &d), 0, "a leap day parses");
	is_str(fmt(d), "2028-02-29", "and formats back");
}

static void zone_boundary(void)
{
	/* 2026-12-01T18:59:59Z is 23:59:59 in Almaty (+05); a second later it
	 * is the 2nd there, still the 1st in UTC. */
	int64_t before = (int64_t)D("2026-12-01") * 86400 * S + (18 * 3600 + 3599) * S;
	is_str(fmt(enrp_day_of(before, ALMATY)), "2026-12-01", "18:59:59Z: Dec 1 in Almaty");
	is_str(fmt(enrp_day_of(before + S, ALMATY)), "2026-12-02", "19:00:00Z: Dec 2 in Almaty");
	is_str(fmt(enrp_day_of(before + S, 0)), "2026-12-01", "19:00:00Z: Dec 1 in UTC");
	is_str(fmt(enrp_day_of(before + S - 1, ALMATY)), "2026-12-01",
	       "one ns before local midnight: still Dec 1");
	/* West of UTC: 02:00Z on Jan 1 is still Dec 31 in New York (-05). */
	int64_t ny = (int64_t)D("2027-01-01") * 86400 * S + 2 * 3600 * S;
	is_str(fmt(enrp_day_of(ny, -5 * 3600)), "2026-12-31", "west: the day before");
	is_str(fmt(enrp_day_of(-1, 0)), "1969-12-31", "floors before the epoch");

	static const char *const good[] = { "Asia/Almaty", "UTC", "Etc/GMT+5", "America/Port-au-Prince",
		"America/Argentina/Buenos_Aires" };
	static const char *const bad[] = { "", "/etc/passwd", "../x", "Asia/../x", "Asia//Almaty",
		"Asia/", "-x", "Asia/.hidden", "Asia Almaty", "Asia/Almaty\n",
		"abcdefghijklmnopqrstuvwxyz/abcdefghijklmnopqrstuvwxyz/abcdefghijk" };
	int n = 0;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		n += enrp_zone_name_valid(good[i]);
	is_int(n, (int)(sizeof(good) / sizeof(good[0])), "zone names accepted");
	n = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		n += !enrp_zone_name_valid(bad[i]);
	is_int(n, (int)(sizeof(bad) / sizeof(bad[0])), "zone names refused");
}

static void months(void)
{
	is_str(fmt(enrp_day_add_months(D("2026-11-30"), 3)), "2027-02-28", "Nov 30 + 3 = Feb 28");
	is_str(fmt(enrp_day_add_months(D("2027-11-30"), 3)), "2028-02-29",
	       "Nov 30 + 3 = Feb 29 in a leap year");
	is_str(fmt(enrp_day_add_months(D("2026-08-31"), 6)), "2027-02-28", "Aug 31 + 6 = Feb 28");
	is_str(fmt(enrp_day_add_months(D("2028-02-29"), 12)), "2029-02-28", "Feb 29 + 12 = Feb 28");
	is_str(fmt(enrp_day_add_months(D("2026-10-31"), 3)), "2027-01-31", "Oct 31 + 3 = Jan 31");
	is_str(fmt(enrp_day_add_months(D("2026-05-31"), 6)), "2026-11-30", "May 31 + 6 = Nov 30");
	is_str(fmt(enrp_day_add_months(D("2026-12-15"), 0)), "2026-12-15", "+0 months");
}

static void workdays(void)
{
	enrp_day none[1] = { 0 };
	/* 2026-12-02 is a Wednesday. */
	is_str(fmt(enrp_workday_after(D("2026-12-02"), 3, none, 0)), "2026-12-07",
	       "Wed + 3 working days = Mon");
	is_str(fmt(enrp_workday_after(D("2026-12-04"), 3, none, 0)), "2026-12-09",
	       "Fri + 3 = Wed");
	is_str(fmt(enrp_workday_after(D("2026-12-05"), 3, none, 0)), "2026-12-09",
	       "Sat + 3 = Wed (Sunday does not count)");
	is_str(fmt(enrp_workday_after(D("2026-12-06"), 1, none, 0)), "2026-12-07", "Sun + 1 = Mon");
	is_str(fmt(enrp_workday_after(D("2026-12-02"), 0, none, 0)), "2026-12-02", "+0 = itself");
	ok(!enrp_workday(D("2026-12-05"), none, 0) && !enrp_workday(D("2026-12-06"), none, 0),
	   "Saturday and Sunday are not working days");

	/* Kazakhstan's Independence Day (Dec 16, a Wednesday in 2026) and
	 * the New Year (Jan 1-2, 2027: Friday and Saturday). */
	enrp_day hol[] = { D("2026-12-16"), D("2027-01-01"), D("2027-01-02") };
	size_t nh = 3;
	ok(!enrp_workday(D("2026-12-16"), hol, nh), "a holiday is not a working day");
	ok(enrp_workday(D("2026-12-17"), hol, nh), "the day after is");
	is_str(fmt(enrp_workday_after(D("2026-12-14"), 3, hol, nh)), "2026-12-18",
	       "Mon + 3 over a Wednesday holiday = Fri");
	is_str(fmt(enrp_workday_after(D("2026-12-30"), 3, hol, nh)), "2027-01-05",
	       "Wed Dec 30 + 3 over the New Year and a weekend = Tue Jan 5");
	is_str(fmt(enrp_workday_after(D("2028-02-25"), 3, none, 0)), "2028-03-01",
	       "Fri Feb 25 2028 + 3 = Wed Mar 1 (over the leap day)");
	is_str(fmt(enrp_workday_after(D("2027-02-25"), 3, none, 0)), "2027-03-02",
	       "Thu Feb 25 2027 + 3 = Tue Mar 2");
	is_int(enrp_workdays_between(D("2026-12-14"), D("2026-12-18"), hol, nh), 3,
	       "Mon..Fri with a holiday: 3 working days after Monday");
	is_int(enrp_workdays_between(D("2026-12-18"), D("2026-12-14"), hol, nh), 0,
	       "backwards: 0");
	is_int(enrp_workdays_between(D("2026-12-31"), D("2027-12-31"), hol, nh), 260,
	       "2027: 261 weekdays minus the Friday holiday Jan 1");
}

static void rules(void)
{
	is_int(enrp_restore_interval_months(1, ENRP_MODE_RW, false), 3, "class 1: quarterly");
	is_int(enrp_restore_interval_months(1, ENRP_MODE_ACTIVE, false), 3,
	       "class 1 active: quarterly still (see design.md)");
	is_int(enrp_restore_interval_months(2, ENRP_MODE_WO, false), 6, "class 2: half-yearly");
	is_int(enrp_restore_interval_months(3, ENRP_MODE_RO, false), 12, "class 3: yearly");
	is_int(enrp_restore_interval_months(3, ENRP_MODE_RW, true), 3, "a database: quarterly");
	is_int(enrp_restore_interval_months(2, ENRP_MODE_ACTIVE, true), 6,
	       "an active EIR's database: its class");
	is_int(enrp_restore_interval_months(0, ENRP_MODE_RW, false), 0, "class 0: none");
	is_int(enrp_restore_interval_months(4, ENRP_MODE_RW, false), 0, "class 4: none");

	enrp_day created = D("2026-01-15");
	is_str(fmt(enrp_restore_due(3, true, D("2026-11-30"), created)), "2027-02-28",
	       "class 1 passed Nov 30: due Feb 28");
	is_str(fmt(enrp_restore_due(6, true, D("2026-08-31"), created)), "2027-02-28",
	       "class 2 passed Aug 31: due Feb 28");
	is_str(fmt(enrp_restore_due(12, true, D("2028-02-29"), created)), "2029-02-28",
	       "class 3 passed Feb 29: due Feb 28");
	is_str(fmt(enrp_restore_due(3, false, 0, created)), "2026-04-15",
	       "never passed: created + interval");

	enrp_day due = D("2027-02-28");
	is_int(enrp_restore_judge(due, D("2027-03-01")), ENRP_RESTORE_OVERDUE, "the day after: overdue");
	is_int(enrp_restore_judge(due, due), ENRP_RESTORE_SOON, "on the day: due, not overdue");
	is_int(enrp_restore_judge(due, due - ENRP_RESTORE_SOON_DAYS), ENRP_RESTORE_SOON,
	       "30 days before: due");
	is_int(enrp_restore_judge(due, due - ENRP_RESTORE_SOON_DAYS - 1), ENRP_RESTORE_OK,
	       "31 days before: ok");
	is_str(enrp_restore_standing_name(ENRP_RESTORE_OVERDUE), "overdue", "standing names");

	static const char *const good[] = { "nightly-2026-12-01", "a", "0", "Weekly_1.x" };
	static const char *const bad[] = { "", "latest", "-x", ".x", "_x", "a/b", "a b", "a\n",
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01" };
	int n = 0;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		n += enrp_restore_snapshot_name_valid(good[i]);
	is_int(n, 4, "snapshot names accepted");
	n = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		n += !enrp_restore_snapshot_name_valid(bad[i]);
	is_int(n, (int)(sizeof(bad) / sizeof(bad[0])), "snapshot names refused");

	enum enrp_restore_result r;
	ok(enrp_restore_result_parse("pass", &r) == 0 && r == ENRP_RESTORE_PASS, "parse pass");
	ok(enrp_restore_result_parse("fail", &r) == 0 && r == ENRP_RESTORE_FAIL, "parse fail");
	is_int(enrp_restore_result_parse("PASS", &r), -EINVAL, "parse PASS: -EINVAL");
}

/* ---- records ---- */

static void codec(void)
{
	struct enrp_restore_entry e, back;
	struct rec_out o;
	memset(&e, 0, sizeof(e));
	e.kind = ENRP_RESTORE_RECORD;
	e.day = D("2026-12-02");
	e.time_ns = 1796198400 * S + 5;
	e.result = ENRP_RESTORE_PASS;
	e.uid = 1000;
	e.pid = 42;
	snprintf(e.command, sizeof(e.command), "enrpctl restore-test record");
	snprintf(e.snapshot, sizeof(e.snapshot), "nightly-2026-12-01");
	snprintf(e.note, sizeof(e.note), "restored into scratch, 41 tables");
	rec_out_init(&o);
	is_int(rec_restore_encode(&e, &o), 0, "encode a record");
	memset(&back, 0xa5, sizeof(back));
	is_int(rec_restore_decode(o.buf, o.len, &back), 0, "decode it");
	ok(back.kind == e.kind && back.day == e.day && back.time_ns == e.time_ns &&
	   back.result == e.result && back.uid == e.uid && back.pid == e.pid &&
	   !strcmp(back.command, e.command) && !strcmp(back.snapshot, e.snapshot) &&
	   !strcmp(back.note, e.note), "every field survives");

	int refused = 0;
	for (size_t n = 0; n < o.len; n++)
		refused += rec_restore_decode(o.buf, n, &back) == -EIO;
	is_int(refused, (int)o.len, "every short prefix: -EIO");
	uint8_t *longer = malloc(o.len + 1);
	memcpy(longer, o.buf, o.len);
	longer[o.len] = 0;
	is_int(rec_restore_decode(longer, o.len + 1, &back), -EIO, "trailing byte: -EIO");
	longer[0] = 9;
	is_int(rec_restore_decode(longer, o.len, &back), -EIO, "unknown version: -EIO");
	memcpy(longer, o.buf, o.len);
	longer[1] = 7;
	is_int(rec_restore_decode(longer, o.len, &back), -EIO, "unknown kind: -EIO");
	memcpy(longer, o.buf, o.len);
	longer[14] = 3; /* version, kind, day (4), time (8): the result */
	is_int(rec_restore_decode(longer, o.len, &back), -EIO, "unknown result: -EIO");
	longer[14] = 0;
	is_int(rec_restore_decode(longer, o.len, &back), -EIO, "a record without result: -EIO");
	free(longer);
	rec_out_release(&o);

	/* A plan with a snapshot or a result is no plan. */
	e.kind = ENRP_RESTORE_PLAN;
	rec_out_init(&o);
	rec_restore_encode(&e, &o);
	is_int(rec_restore_decode(o.buf, o.len, &back), -EIO, "a plan with a result: -EIO");
	rec_out_release(&o);
	e.result = ENRP_RESTORE_NONE;
	e.snapshot[0] = '\0';
	rec_out_init(&o);
	rec_restore_encode(&e, &o);
	is_int(rec_restore_decode(o.buf, o.len, &back), 0, "a plan decodes");
	is_int(back.kind, ENRP_RESTORE_PLAN, "as a plan");
	rec_out_release(&o);

	char note[ENRP_CALENDAR_NOTE_MAX + 1];
	rec_out_init(&o);
	rec_holiday_encode("Independence Day", &o);
	is_int(rec_holiday_decode(o.buf, o.len, note, sizeof(note)), 0, "holiday value round trip");
	is_str(note, "Independence Day", "holiday note");
	is_int(rec_holiday_decode(o.buf, o.len - 1, note, sizeof(note)), -EIO, "short holiday: -EIO");
	rec_out_release(&o);

	uint8_t key[KEY_HOLIDAY_LEN];
	enrp_day d;
	key_holiday(key, D("2026-12-16"));
	ok(!memcmp(key, "holiday2026-12-16", KEY_HOLIDAY_LEN), "holiday key spelling");
	is_int(key_holiday_day(key, sizeof(key), &d), 0, "holiday key parses");
	is_str(fmt(d), "2026-12-16", "to its day");
	key[15] = '9'; /* 2026-12-96 */
	is_int(key_holiday_day(key, sizeof(key), &d), -EIO, "a key with no real date: -EIO");
	is_int(key_holiday_day(key, sizeof(key) - 1, &d), -EIO, "a short key: -EIO");
}

/* ---- the store ---- */

static void calendar_store(void)
{
	struct enrp_holiday *h;
	size_t n;
	char zone[ENRP_ZONE_MAX + 1];
	uint64_t before = journal_last().n;

	is_int(enrp_calendar_holidays(st, &h, &n), 0, "no holidays yet");
	is_int(n, 0, "none");
	is_int(enrp_calendar_holiday_add(st, D("2026-12-16"), "Independence Day", &actor), 0,
	       "add a holiday");
	struct last l = journal_last();
	is_int(l.n, before + 1, "journalled");
	is_str(l.rec.event, "holiday-add", "as holiday-add");
	is_str(l.rec.details, "date=2026-12-16 note=\"Independence Day\"", "with date and note");
	is_int(enrp_calendar_holiday_add(st, D("2026-12-16"), "again", &actor), -EEXIST,
	       "twice: -EEXIST");
	is_int(enrp_calendar_holiday_add(st, D("2026-12-10"), NULL, &actor), 0, "one without note");
	is_int(journal_last().n, before + 2, "nothing journalled for the refusal");
	is_int(enrp_calendar_holidays(st, &h, &n), 0, "list");
	ok(n == 2 && h[0].day == D("2026-12-10") && h[1].day == D("2026-12-16") &&
	   !strcmp(h[1].note, "Independence Day") && !h[0].note[0], "in date order, with notes");
	free(h);
	is_int(enrp_calendar_holiday_remove(st, D("2026-12-10"), &actor), 0, "remove one");
	is_str(journal_last().rec.event, "holiday-remove", "journalled as holiday-remove");
	is_int(enrp_calendar_holiday_remove(st, D("2026-12-10"), &actor), -ENOENT,
	       "remove again: -ENOENT");

	is_int(enrp_calendar_zone(st, zone), 0, "zone");
	is_str(zone, ENRP_ZONE_DEFAULT, "defaults to Asia/Almaty");
	is_int(enrp_calendar_zone_set(st, "Asia/Almaty", &actor), -EALREADY, "same zone: -EALREADY");
	is_int(enrp_calendar_zone_set(st, "../etc", &actor), -EINVAL, "bad zone: -EINVAL");
	is_int(enrp_calendar_zone_set(st, "UTC", &actor), 0, "set UTC");
	is_str(journal_last().rec.details, "from=Asia/Almaty to=UTC", "journalled from and to");
	enrp_calendar_zone(st, zone);
	is_str(zone, "UTC", "read back");
	is_int(enrp_calendar_zone_set(st, "Asia/Almaty", &actor), 0, "and back");
}

struct collect {
	struct enrp_restore_entry v[16];
	size_t n;
};

static int collect_cb(const struct enrp_restore_entry *e, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16)
		c->v[c->n++] = *e;
	return 0;
}

static struct enrp_restore_status *find(struct enrp_restore_status *v, size_t n,
                                        const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].eir.name, name))
			return &v[i];
	return NULL;
}

static void plans_and_records(void)
{
	struct enrp_eir spec;
	uint64_t seq = 0, before;
	/* Wednesday Dec 2 2026, noon in Almaty; Dec 16 is a holiday (above). */
	enrp_day today = D("2026-12-02");
	int64_t now = (int64_t)today * 86400 * S + 7 * 3600 * S;

	enrp_eir_defaults(&spec, "pop-registry");
	spec.eir_class = 1;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), 0, "create pop-registry (class 1)");
	enrp_eir_defaults(&spec, "archive");
	is_int(enrp_eir_create(st, &spec, &actor, NULL), 0, "create archive (class 3)");
	enrp_eir_defaults(&spec, "gone");
	spec.eir_class = 2;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), 0, "create gone (class 2)");
	is_int(enrp_eir_retire(st, "gone", "test", &actor), 0, "retire it");

	enrp_day earliest;
	is_int(enrp_restore_earliest(st, today, &earliest), 0, "earliest");
	is_str(fmt(earliest), "2026-12-07", "Wed Dec 2: earliest Mon Dec 7");

	before = journal_last().n;
	is_int(enrp_restore_plan(st, "pop-registry", D("2026-12-04"), "too soon", now, today, &actor,
	                         &seq), -ERANGE, "plan on Fri (2 working days): -ERANGE");
	is_int(enrp_restore_plan(st, "pop-registry", D("2026-12-06"), NULL, now, today, &actor,
	                         &seq), -ERANGE, "plan on Sun (2 working days): -ERANGE");
	is_int(enrp_restore_plan(st, "pop-registry", today, NULL, now, today, &actor, &seq), -ERANGE,
	       "plan today: -ERANGE");
	is_int(enrp_restore_plan(st, "pop-registry", today - 10, NULL, now, today, &actor, &seq),
	       -ERANGE, "plan in the past: -ERANGE");
	is_int(enrp_restore_plan(st, "nope", D("2026-12-20"), NULL, now, today, &actor, &seq),
	       -ENOENT, "plan for no EIR: -ENOENT");
	char longnote[ENRP_RESTORE_NOTE_MAX + 2];
	memset(longnote, 'x', sizeof(longnote) - 1);
	longnote[sizeof(longnote) - 1] = '\0';
	is_int(enrp_restore_plan(st, "pop-registry", D("2026-12-20"), longnote, now, today, &actor,
	                         &seq), -EINVAL, "an over-long note: -EINVAL");
	is_int(journal_last().n, before, "no refusal is journalled");
	struct collect c = { .n = 0 };
	enrp_restore_iter(st, 0, collect_cb, &c);
	is_int(c.n, 0, "no refusal is stored");

	is_int(enrp_restore_plan(st, "pop-registry", D("2026-12-07"), "owner told by mail", now,
	                         today, &actor, &seq), 0, "plan on Mon Dec 7 (3 working days): ok");
	is_int(seq, 1, "seq 1");
	struct last l = journal_last();
	is_str(l.rec.event, "restore-test-planned", "journalled as restore-test-planned");
	is_str(l.rec.eir, "pop-registry", "about the EIR");
	is_str(l.rec.details, "seq=1 date=2026-12-07 workdays_ahead=3 note=\"owner told by mail\"",
	       "details, with the notice in working days");

	/* Mon Dec 14: Tue 15, (Wed 16 holiday), Thu 17 = 2 days -> Fri 18. */
	enrp_day mon = D("2026-12-14");
	int64_t mon_now = (int64_t)mon * 86400 * S;
	is_int(enrp_restore_plan(st, "archive", D("2026-12-17"), NULL, mon_now, mon, &actor, &seq),
	       -ERANGE, "over a holiday, Thu is too soon from Mon");
	is_int(enrp_restore_plan(st, "archive", D("2026-12-18"), NULL, mon_now, mon, &actor, &seq), 0,
	       "and Fri is fine");

	is_int(enrp_restore_record(st, "pop-registry", "latest", ENRP_RESTORE_PASS, NULL, now, today,
	                           &actor, &seq), -EINVAL, "record of snapshot 'latest': -EINVAL");
	is_int(enrp_restore_record(st, "pop-registry", "s", ENRP_RESTORE_NONE, NULL, now, today,
	                           &actor, &seq), -EINVAL, "record without result: -EINVAL");
	is_int(enrp_restore_record(st, "pop-registry", "nightly-2026-12-01", ENRP_RESTORE_PASS,
	                           "restored into scratch, 41 tables", now, today, &actor, &seq), 0,
	       "record a pass");
	l = journal_last();
	is_str(l.rec.event, "restore-test-recorded", "journalled as restore-test-recorded");
	is_str(l.rec.details, "seq=3 snapshot=nightly-2026-12-01 result=pass date=2026-12-02 "
	       "note=\"restored into scratch, 41 tables\"", "details");
	is_int(l.rec.uid, actor.uid, "who");
	is_int(enrp_restore_record(st, "pop-registry", "nightly-2026-12-02", ENRP_RESTORE_FAIL,
	                           "pg_restore failed", now + 3600 * S, today, &actor, &seq), 0,
	       "record a fail later");

	memset(&c, 0, sizeof(c));
	is_int(enrp_restore_iter(st, 0, collect_cb, &c), 0, "iterate");
	is_int(c.n, 4, "four entries");
	memset(&c, 0, sizeof(c));
	enrp_eir_get(st, "pop-registry", &spec);
	enrp_restore_iter(st, spec.id, collect_cb, &c);
	ok(c.n == 3 && c.v[0].kind == ENRP_RESTORE_PLAN && c.v[1].result == ENRP_RESTORE_PASS &&
	   c.v[2].result == ENRP_RESTORE_FAIL && !strcmp(c.v[1].snapshot, "nightly-2026-12-01") &&
	   c.v[1].time_ns == now && c.v[1].day == today && c.v[1].uid == actor.uid,
	   "one EIR's entries, in order, round-tripped");

	struct enrp_restore_status *s, *v;
	size_t n;
	is_int(enrp_restore_status_all(st, today, ALMATY, &v, &n), 0, "status");
	is_int(n, 3, "three EIRs");
	s = find(v, n, "pop-registry");
	ok(s && s->have_pass && s->last_pass.day == today && s->have_record &&
	   s->last_record.result == ENRP_RESTORE_FAIL, "pop-registry: last pass today, last record a fail");
	is_str(s ? fmt(s->due) : "", "2027-03-02", "due 3 months after the pass (the fail does not count)");
	is_int(s ? (int)s->standing : -1, ENRP_RESTORE_OK, "not due yet");
	ok(s && s->have_plan && s->next_plan == D("2026-12-07") && s->plans_ahead == 1, "next plan");
	s = find(v, n, "archive");
	ok(s && !s->have_pass && s->interval_months == 12, "archive: never passed, yearly");
	is_str(s ? fmt(s->due) : "", fmt(enrp_day_add_months(enrp_day_of(enrp_now_ns(), ALMATY), 12)),
	       "due a year after its creation");
	s = find(v, n, "gone");
	is_int(s ? (int)s->standing : -1, ENRP_RESTORE_EXEMPT, "a retired EIR is exempt");
	free(v);

	/* The same store a year and a half later. */
	enrp_day later = D("2028-06-01");
	is_int(enrp_restore_status_all(st, later, ALMATY, &v, &n), 0, "status in 2028");
	s = find(v, n, "pop-registry");
	is_int(s ? (int)s->standing : -1, ENRP_RESTORE_OVERDUE, "pop-registry overdue");
	ok(s && !s->have_plan && s->plans_ahead == 0, "its past plan is no plan ahead");
	s = find(v, n, "archive");
	is_int(s ? (int)s->standing : -1, ENRP_RESTORE_OVERDUE, "archive overdue");
	free(v);
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];

	days();
	zone_boundary();
	months();
	workdays();
	rules();
	codec();

	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_restore");
	calendar_store();
	plans_and_records();

	enrp_store_close(st);
	tap_rmrf(tmp);
	return done_testing();
}
