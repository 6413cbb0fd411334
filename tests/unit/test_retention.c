/*
 * test_retention.c — retention policies (core/retention.c), the time zones
 * they count in (core/tz.c), the operator's date parser (core/units.c) and
 * the platform clock's floor (core/clock.c).
 *
 * Run with "--select ZONE SPEC" it is instead the selection oracle of
 * t5100-retention-borg.sh: it reads "ID NS" lines and prints, per line,
 * "ID RULE #N" (RULE as borg names it: secondly, daily, daily[oldest]...)
 * or "ID prune", so the shell test compares enrp and borg line by line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <enrp/clock.h>
#include <enrp/eir.h>
#include <enrp/journal.h>
#include <enrp/retention.h>
#include <enrp/tz.h>
#include <enrp/units.h>

#include "../tap.h"

#define S 1000000000LL
#define DAY (86400 * S)

static enrp_store *st;
static struct enrp_actor actor;

/* ---- the oracle for t5100 ---- */

static int select_main(const char *zone, const char *spec)
{
	struct enrp_retention p;
	char err[ENRP_RETENTION_ERR_MAX];
	enrp_tz *tz;
	size_t n = 0, cap = 0;
	long long *ids = NULL;
	int64_t *ts = NULL;
	long long id, ns;
	int rc = 1;

	if (enrp_retention_parse(spec, &p, err, sizeof(err))) {
		fprintf(stderr, "test_retention: %s\n", err);
		return 2;
	}
	if (enrp_tz_open(zone, &tz)) {
		fprintf(stderr, "test_retention: unknown zone '%s'\n", zone);
		return 2;
	}
	while (scanf("%lld %lld", &id, &ns) == 2) {
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			ids = realloc(ids, cap * sizeof(*ids));
			ts = realloc(ts, cap * sizeof(*ts));
			if (!ids || !ts)
				goto out;
		}
		ids[n] = id;
		ts[n++] = ns;
	}
	struct enrp_retention_pick *pick = calloc(n ? n : 1, sizeof(*pick));
	if (pick && enrp_retention_select(&p, tz, ts, n, pick) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (pick[i].rule == ENRP_KEEP_RULES) {
				printf("%lld prune\n", ids[i]);
				continue;
			}
			/* borg calls keep-last "secondly" in its listing. */
			const char *name = pick[i].rule == ENRP_KEEP_LAST
			                           ? "secondly"
			                           : enrp_keep_rule_name(pick[i].rule);
			printf("%lld %s%s #%u\n", ids[i], name, pick[i].oldest ? "[oldest]" : "",
			       pick[i].number);
		}
		rc = 0;
	}
	free(pick);
out:
	free(ids);
	free(ts);
	enrp_tz_free(tz);
	return rc;
}

/* ---- policy text ---- */

static void parse_table(void)
{
	static const struct {
		const char *in, *canonical;
	} good[] = {
		{ "", "" },
		{ "files=90", "files=90" },
		{ "keep-daily=7", "keep-daily=7" },
		{ "keep-yearly=3,keep-monthly=12,keep-weekly=4,keep-daily=7,files=90",
		  "files=90,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3" },
		{ "files=90,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3",
		  "files=90,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3" },
		{ "keep-last=1,keep-hourly=24", "keep-last=1,keep-hourly=24" },
		{ "keep-daily=0", "" },                 /* as borg: 0 is no rule */
		{ "keep-daily=007", "keep-daily=7" },
		{ "files=36500,keep-last=100000", "files=36500,keep-last=100000" },
		{ "files=1", "files=1" },
	};
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "files=0", "'files=0': days must be 1 to 36500" },
		{ "files=36501", "'files=36501': days must be 1 to 36500" },
		{ "keep-daily=100001", "'keep-daily=100001': at most 100000" },
		{ "keep-daily=-1", "'keep-daily=-1': the value must be a whole number" },
		{ "keep-daily=+1", "'keep-daily=+1': the value must be" },
		{ "keep-daily= 1", "'keep-daily= 1': the value must be" },
		{ "keep-daily=1x", "'keep-daily=1x': the value must be" },
		{ "keep-daily=", "'keep-daily=': the value must be" },
		{ "keep-daily=9999999999", "'keep-daily=9999999999': the value must be" },
		{ "keep-daily", "'keep-daily': expected KEY=NUMBER" },
		{ "keep-dayly=1", "'keep-dayly': unknown key" },
		{ "keep-minutely=1", "'keep-minutely': unknown key" },
		{ "KEEP-DAILY=1", "'KEEP-DAILY': unknown key" },
		{ "=1", "'=1': expected KEY=NUMBER" },
		{ "keep-daily=1,keep-daily=2", "'keep-daily': given more than once" },
		{ "files=1,keep-daily=1,files=2", "'files': given more than once" },
		{ "keep-daily=1,", "empty item (a comma at the end)" },
		{ ",keep-daily=1", "empty item" },
		{ "keep-daily=1,,files=3", "empty item" },
		{ " keep-daily=1", "' keep-daily': unknown key" },
	};
	char buf[ENRP_RETENTION_SPEC_MAX], err[ENRP_RETENTION_ERR_MAX];
	struct enrp_retention p, q;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&p, 0xa5, sizeof(p));
		is_int(enrp_retention_parse(good[i].in, &p, err, sizeof(err)), 0, "parse '%s'",
		       good[i].in);
		enrp_retention_format(&p, buf, sizeof(buf));
		is_str(buf, good[i].canonical, "canonical form of '%s'", good[i].in);
		ok(enrp_retention_parse(buf, &q, NULL, 0) == 0 && memcmp(&p, &q, sizeof(p)) == 0,
		   "parse(format(p)) == p for '%s'", good[i].in);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.files_days = 42;
		err[0] = '\0';
		is_int(enrp_retention_parse(bad[i].in, &p, err, sizeof(err)), -EINVAL,
		       "'%s' refused", bad[i].in);
		ok(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0, "'%s': message '%s'",
		   bad[i].in, err);
		is_int(p.files_days, 42, "'%s': output untouched", bad[i].in);
	}
	char longer[ENRP_RETENTION_SPEC_MAX + 8];
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	is_int(enrp_retention_parse(longer, &p, err, sizeof(err)), -EINVAL, "too long refused");
	is_int(enrp_retention_parse(NULL, &p, NULL, 0), -EINVAL, "NULL refused");

	/* Every policy formats within the documented buffer. */
	for (int r = 0; r < ENRP_KEEP_RULES; r++)
		p.keep[r] = ENRP_RETENTION_KEEP_MAX;
	p.files_days = ENRP_RETENTION_FILES_DAYS_MAX;
	enrp_retention_format(&p, buf, sizeof(buf));
	ok(enrp_retention_parse(buf, &q, NULL, 0) == 0 && memcmp(&p, &q, sizeof(p)) == 0,
	   "largest policy round-trips: %s", buf);
}

/* ---- time zones ---- */

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	return (enrp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * S;
}

static void zones(void)
{
	static const char *const names[] = { "UTC",   "Europe/Berlin", "Asia/Almaty",
		                             "America/New_York", "Australia/Lord_Howe",
		                             "Asia/Kathmandu", "America/Sao_Paulo" };
	enrp_tz *tz;

	is_int(enrp_tz_open("No/Such_Zone", &tz), -ENOENT, "unknown zone");
	is_int(enrp_tz_open("Europe", &tz), -ENOENT, "a directory is no zone");
	is_int(enrp_tz_open("../etc/passwd", &tz), -EINVAL, "'..' refused");
	is_int(enrp_tz_open("/etc/localtime", &tz), -EINVAL, "absolute path refused");
	is_int(enrp_tz_open("Europe//Berlin", &tz), -EINVAL, "empty part refused");
	is_int(enrp_tz_open("", &tz), -EINVAL, "empty name refused");
	is_int(enrp_tz_open("zone.tab", &tz), -EINVAL, "a file that is not TZif refused");

	/* Against glibc's localtime_r (a test may change its own TZ). */
	unsigned seed = 12345;
	for (size_t z = 0; z < sizeof(names) / sizeof(names[0]); z++) {
		int bad = 0, reps = tap_reps(3000);
		if (enrp_tz_open(names[z], &tz) != 0) {
			ok(0, "open %s", names[z]);
			continue;
		}
		setenv("TZ", names[z], 1);
		tzset();
		for (int i = 0; i < reps && bad < 3; i++) {
			seed = seed * 1103515245 + 12345;
			/* 1970 .. 2037, where the files list every transition. */
			time_t t = (time_t)((uint64_t)seed * 2u % 2140000000u);
			if (i % 3 == 0)
				t = 1600000000 + (time_t)(seed % 200000000u);
			struct tm tm;
			struct enrp_civil c;
			localtime_r(&t, &tm);
			enrp_tz_civil(tz, t, &c);
			char g[16], want[16];
			strftime(want, sizeof(want), "%G-%V", &tm);
			snprintf(g, sizeof(g), "%04d-%02d", c.iso_year, c.iso_week);
			if (c.year != tm.tm_year + 1900 || c.month != tm.tm_mon + 1 ||
			    c.day != tm.tm_mday || c.hour != tm.tm_hour || c.minute != tm.tm_min ||
			    c.second != tm.tm_sec || c.utc_offset != tm.tm_gmtoff ||
			    c.iso_wday != (tm.tm_wday ? tm.tm_wday : 7) || strcmp(g, want) != 0) {
				diag("%s t=%lld: %04d-%02d-%02d %02d:%02d:%02d %+d %s", names[z],
				     (long long)t, c.year, c.month, c.day, c.hour, c.minute, c.second,
				     c.utc_offset, g);
				bad++;
			}
		}
		is_int(bad, 0, "%s agrees with localtime_r", names[z]);
		enrp_tz_free(tz);
	}
	unsetenv("TZ");
	tzset();

	/* Known moments. */
	struct enrp_civil c;
	enrp_tz_open("Asia/Almaty", &tz);
	enrp_tz_civil(tz, utc(2025, 1, 1, 0, 0, 0) / S, &c);
	is_int(c.utc_offset, 5 * 3600, "Almaty is +05 since 2024-03-01");
	enrp_tz_civil(tz, utc(2023, 1, 1, 0, 0, 0) / S, &c);
	is_int(c.utc_offset, 6 * 3600, "Almaty was +06 in 2023");
	enrp_tz_civil(tz, utc(2050, 7, 1, 0, 0, 0) / S, &c);
	is_int(c.utc_offset, 5 * 3600, "Almaty +05 past the table's end");
	enrp_tz_free(tz);
	enrp_tz_open("Europe/Berlin", &tz);
	/* 2024-03-31 02:30 does not exist; 2023-10-29 02:30 happens twice. */
	is_int(enrp_tz_from_civil(tz, 2024, 3, 31, 2, 30, 0), utc(2024, 3, 31, 1, 30, 0) / S,
	       "a skipped time is read with the offset before the gap");
	is_int(enrp_tz_from_civil(tz, 2023, 10, 29, 2, 30, 0), utc(2023, 10, 29, 0, 30, 0) / S,
	       "a repeated time gives the earlier moment");
	is_int(enrp_tz_from_civil(tz, 2023, 7, 1, 12, 0, 0), utc(2023, 7, 1, 10, 0, 0) / S,
	       "summer time +02");
	enrp_tz_free(tz);
}

/* ---- the date parser ---- */

static void dates(void)
{
	enrp_tz *almaty, *berlin;
	char err[160];
	int64_t v;

	enrp_tz_open("Asia/Almaty", &almaty);
	enrp_tz_open("Europe/Berlin", &berlin);
	static const struct {
		const char *in;
		int64_t want;
	} good[] = {
		{ "2031-01-01", 0 },
		{ "2031-01-01T10:00Z", 0 },
		{ "2031-01-01T10:00:30Z", 0 },
		{ "2031-01-01T10:00+05:00", 0 },
		{ "2031-01-01 10:00-03:30", 0 },
		{ "2031-01-01T10:00", 0 },
		{ "2028-02-29", 0 },
		{ "1970-01-01T00:00Z", 0 },
	};
	int64_t want[] = {
		utc(2030, 12, 31, 19, 0, 0), utc(2031, 1, 1, 10, 0, 0), utc(2031, 1, 1, 10, 0, 30),
		utc(2031, 1, 1, 5, 0, 0),    utc(2031, 1, 1, 13, 30, 0), utc(2031, 1, 1, 5, 0, 0),
		utc(2028, 2, 28, 19, 0, 0),  0,
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		is_int(enrp_date_parse(good[i].in, almaty, &v, err, sizeof(err)), 0, "date '%s'",
		       good[i].in);
		is_int(v, want[i], "date '%s' value", good[i].in);
	}
	ok(enrp_date_parse("2031-07-01", berlin, &v, NULL, 0) == 0 &&
	   v == utc(2031, 6, 30, 22, 0, 0), "bare date at 00:00 Berlin summer time");

	static const struct {
		const char *in, *err;
		int rc;
	} bad[] = {
		{ "", "no date given", -EINVAL },
		{ "2031-02-29", "'2031-02-29': no such day in that month", -EINVAL },
		{ "2100-02-29", "'2100-02-29': no such day", -EINVAL },
		{ "2031-13-01", "'2031-13-01': no such month", -EINVAL },
		{ "2031-00-10", "'2031-00-10': no such month", -EINVAL },
		{ "2031-01-01T24:00", "'2031-01-01T24:00': no such time of day", -EINVAL },
		{ "2031-01-01T10:60", "'2031-01-01T10:60': no such time", -EINVAL },
		{ "2031-01-01T10:00:60", "'2031-01-01T10:00:60': no such time", -EINVAL },
		{ "2031-1-1", "'2031-1-1': expected YYYY-MM-DD", -EINVAL },
		{ "2031-01-01Z", "'2031-01-01Z': expected", -EINVAL },
		{ "2031-01-01T10", "'2031-01-01T10': expected", -EINVAL },
		{ "2031-01-01T10:00+5", "'2031-01-01T10:00+5': expected", -EINVAL },
		{ "2031-01-01T10:00+24:00", "'2031-01-01T10:00+24:00': the UTC offset", -EINVAL },
		{ "2031-01-01T10:00 ", "'2031-01-01T10:00 ': expected", -EINVAL },
		{ "tomorrow", "'tomorrow': expected", -EINVAL },
		{ "1969-12-31", "'1969-12-31': the year must be", -ERANGE },
		{ "2262-01-01", "'2262-01-01': the year must be", -ERANGE },
		{ "1970-01-01", "'1970-01-01': before 1970", -ERANGE }, /* 00:00 +05 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		v = 42;
		is_int(enrp_date_parse(bad[i].in, almaty, &v, err, sizeof(err)), bad[i].rc,
		       "date '%s' refused", bad[i].in);
		ok(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0, "'%s': message '%s'",
		   bad[i].in, err);
		is_int(v, 42, "'%s': output untouched", bad[i].in);
	}
	enrp_tz_free(almaty);
	enrp_tz_free(berlin);
}

/* ---- selection ---- */

/* Runs SPEC over TS[N] in ZONE; WANT is one word per snapshot: "-" pruned,
 * else RULE#N or RULE[oldest]#N, RULE as enrp_keep_rule_name. */
static void check_select(const char *what, const char *zone, const char *spec, const int64_t *ts,
                         size_t n, const char *const *want)
{
	struct enrp_retention p;
	struct enrp_retention_pick pick[64];
	enrp_tz *tz;
	char got[64 * 24] = "", exp[64 * 24] = "";

	if (enrp_retention_parse(spec, &p, NULL, 0) || enrp_tz_open(zone, &tz)) {
		ok(0, "%s: setup", what);
		return;
	}
	is_int(enrp_retention_select(&p, tz, ts, n, pick), 0, "%s: select", what);
	for (size_t i = 0; i < n; i++) {
		char one[32];
		if (pick[i].rule == ENRP_KEEP_RULES)
			snprintf(one, sizeof(one), "-");
		else
			snprintf(one, sizeof(one), "%s%s#%u", enrp_keep_rule_name(pick[i].rule),
			         pick[i].oldest ? "[oldest]" : "", pick[i].number);
		strcat(got, i ? " " : "");
		strcat(got, one);
		strcat(exp, i ? " " : "");
		strcat(exp, want[i]);
	}
	is_str(got, exp, "%s", what);
	enrp_tz_free(tz);
}

static void selection(void)
{
	/* Days 1..4 of a March, UTC. */
	const int64_t days[] = {
		utc(2025, 3, 1, 10, 0, 0), utc(2025, 3, 1, 20, 0, 0), utc(2025, 3, 2, 9, 0, 0),
		utc(2025, 3, 3, 8, 0, 0),  utc(2025, 3, 3, 23, 59, 59), utc(2025, 3, 4, 0, 0, 0),
	};
	check_select("daily keeps the newest of each day", "UTC", "keep-daily=3", days, 6,
	             (const char *const[]){ "-", "-", "daily#3", "-", "daily#2", "daily#1" });
	check_select("fewer days than N keeps the oldest too", "UTC", "keep-daily=5", days, 6,
	             (const char *const[]){ "daily[oldest]#5", "daily#4", "daily#3", "-",
	                                    "daily#2", "daily#1" });
	check_select("a kept snapshot uses up no count of the next rule", "UTC",
	             "keep-last=1,keep-daily=2", days, 6,
	             (const char *const[]){ "-", "-", "daily#2", "-", "daily#1", "last#1" });
	check_select("keep-last", "UTC", "keep-last=4", days, 6,
	             (const char *const[]){ "-", "-", "last#4", "last#3", "last#2", "last#1" });
	check_select("no rule keeps everything", "UTC", "files=30", days, 6,
	             (const char *const[]){ "last#0", "last#0", "last#0", "last#0", "last#0",
	                                    "last#0" });
	check_select("the order of the input does not matter", "UTC", "keep-daily=3",
	             (const int64_t[]){ days[5], days[0], days[3], days[2], days[4], days[1] }, 6,
	             (const char *const[]){ "daily#1", "-", "-", "daily#3", "daily#2", "-" });

	/* A month's end: Jan 31 23:30Z is already February in Almaty (+06 then). */
	const int64_t month_end[] = { utc(2023, 1, 15, 12, 0, 0), utc(2023, 1, 31, 23, 30, 0),
		                      utc(2023, 2, 1, 0, 30, 0) };
	check_select("month end in UTC", "UTC", "keep-monthly=2", month_end, 3,
	             (const char *const[]){ "-", "monthly#2", "monthly#1" });
	check_select("month end in Almaty", "Asia/Almaty", "keep-monthly=2", month_end, 3,
	             (const char *const[]){ "monthly#2", "-", "monthly#1" });

	/* Leap day and a year's end. */
	const int64_t leap[] = { utc(2024, 2, 28, 12, 0, 0), utc(2024, 2, 29, 12, 0, 0),
		                 utc(2024, 3, 1, 12, 0, 0), utc(2024, 12, 31, 12, 0, 0),
		                 utc(2025, 1, 1, 12, 0, 0) };
	check_select("leap day is a day", "UTC", "keep-daily=4", leap, 5,
	             (const char *const[]){ "-", "daily#4", "daily#3", "daily#2", "daily#1" });
	check_select("years", "UTC", "keep-yearly=2", leap, 5,
	             (const char *const[]){ "-", "-", "-", "yearly#2", "yearly#1" });
	check_select("months with a leap February", "UTC", "keep-monthly=10", leap, 5,
	             (const char *const[]){ "monthly[oldest]#5", "monthly#4", "monthly#3", "monthly#2",
	                                    "monthly#1" });

	/* ISO weeks: 2020-12-31 (Thu) and 2021-01-03 (Sun) are 2020-W53,
	 * 2021-01-04 (Mon) 2021-W01; 2024-12-30 (Mon) is 2025-W01. */
	const int64_t weeks[] = { utc(2020, 12, 31, 12, 0, 0), utc(2021, 1, 3, 12, 0, 0),
		                  utc(2021, 1, 4, 12, 0, 0),  utc(2024, 12, 29, 12, 0, 0),
		                  utc(2024, 12, 30, 12, 0, 0), utc(2025, 1, 5, 12, 0, 0) };
	check_select("ISO weeks across years", "UTC", "keep-weekly=4", weeks, 6,
	             (const char *const[]){ "-", "weekly#4", "weekly#3", "weekly#2", "-",
	                                    "weekly#1" });
	struct enrp_civil c;
	enrp_tz *tz;
	enrp_tz_open("UTC", &tz);
	enrp_tz_civil(tz, utc(2021, 1, 3, 12, 0, 0) / S, &c);
	ok(c.iso_year == 2020 && c.iso_week == 53 && c.iso_wday == 7, "2021-01-03 is 2020-W53-7");
	enrp_tz_civil(tz, utc(2024, 12, 30, 12, 0, 0) / S, &c);
	ok(c.iso_year == 2025 && c.iso_week == 1 && c.iso_wday == 1, "2024-12-30 is 2025-W01-1");
	enrp_tz_free(tz);

	/* Berlin's clocks go back at 2023-10-29 01:00Z: both 02:xx are one
	 * hour "02", as borg's strftime("%H") makes them. */
	const int64_t autumn[] = { utc(2023, 10, 29, 0, 10, 0), utc(2023, 10, 29, 0, 50, 0),
		                   utc(2023, 10, 29, 1, 10, 0), utc(2023, 10, 29, 2, 10, 0) };
	check_select("hours when the clocks go back, Berlin", "Europe/Berlin", "keep-hourly=3",
	             autumn, 4,
	             (const char *const[]){ "hourly[oldest]#3", "-", "hourly#2", "hourly#1" });
	check_select("the same hours in UTC", "UTC", "keep-hourly=3", autumn, 4,
	             (const char *const[]){ "-", "hourly#3", "hourly#2", "hourly#1" });
	/* Spring: 2024-03-30 23:30Z is already 2024-03-31 00:30 in Berlin. */
	const int64_t spring[] = { utc(2024, 3, 30, 12, 0, 0), utc(2024, 3, 30, 23, 30, 0),
		                   utc(2024, 3, 31, 1, 30, 0) };
	check_select("days in Berlin across the spring change", "Europe/Berlin", "keep-daily=2",
	             spring, 3, (const char *const[]){ "daily#2", "-", "daily#1" });
	check_select("the same days in UTC", "UTC", "keep-daily=2", spring, 3,
	             (const char *const[]){ "-", "daily#2", "daily#1" });

	/* Equal times: the higher index is the later; keep-last counts
	 * seconds, so two snapshots in one second are one "last". */
	const int64_t same[] = { 100 * S, 100 * S, 100 * S + 700000000, 99 * S };
	check_select("equal times and one second", "UTC", "keep-last=2", same, 4,
	             (const char *const[]){ "-", "-", "last#1", "last#2" });
	check_select("one second, fewer periods than N", "UTC", "keep-last=3", same, 4,
	             (const char *const[]){ "-", "-", "last#1", "last#2" });
	const int64_t pair[] = { 100 * S, 100 * S };
	check_select("two equal times", "UTC", "keep-last=1", pair, 2,
	             (const char *const[]){ "-", "last#1" });
	check_select("two equal times, N 2", "UTC", "keep-last=2", pair, 2,
	             (const char *const[]){ "last[oldest]#2", "last#1" });
	check_select("nothing to select", "UTC", "keep-daily=2", NULL, 0, NULL);
}

/* ---- the store ---- */

struct last {
	uint64_t n;
	struct enrp_journal_record rec;
};

static int last_cb(const struct enrp_journal_record *r, void *arg)
{
	struct last *l = arg;
	l->n++;
	l->rec = *r;
	return 0;
}

static void stored(void)
{
	struct enrp_eir spec, e;
	struct enrp_retention p, got;
	struct last l;
	char buf[ENRP_RETENTION_SPEC_MAX];

	enrp_eir_defaults(&spec, "pop-registry");
	is_int(enrp_eir_create(st, &spec, &actor, &e), 0, "create an EIR");
	memset(&got, 0xa5, sizeof(got));
	is_int(enrp_retention_get(st, "pop-registry", &got), 0, "get with none set");
	enrp_retention_format(&got, buf, sizeof(buf));
	is_str(buf, "", "no policy at first");
	is_int(enrp_retention_get(st, "nope", &got), -ENOENT, "get: no such EIR");

	enrp_retention_parse("keep-yearly=3,files=90,keep-daily=7", &p, NULL, 0);
	is_int(enrp_retention_set(st, "pop-registry", &p, &actor), 0, "set");
	is_int(enrp_retention_get(st, "pop-registry", &got), 0, "get");
	ok(memcmp(&p, &got, sizeof(p)) == 0, "what was set comes back");
	memset(&l, 0, sizeof(l));
	enrp_journal_iter(st, NULL, last_cb, &l);
	is_str(l.rec.event, "retention-set", "journalled");
	is_str(l.rec.eir, "pop-registry", "journalled for the EIR");
	is_str(l.rec.details, "policy=\"files=90,keep-daily=7,keep-yearly=3\" was=\"\"",
	       "journal details");

	uint64_t before = l.n;
	is_int(enrp_retention_set(st, "nope", &p, &actor), -ENOENT, "set: no such EIR");
	memset(&l, 0, sizeof(l));
	enrp_journal_iter(st, NULL, last_cb, &l);
	is_int(l.n, before, "a refused set journals nothing");

	memset(&p, 0, sizeof(p));
	is_int(enrp_retention_set(st, "pop-registry", &p, &actor), 0, "clear");
	is_int(enrp_retention_get(st, "pop-registry", &got), 0, "get after clear");
	ok(memcmp(&p, &got, sizeof(p)) == 0, "cleared");
	memset(&l, 0, sizeof(l));
	enrp_journal_iter(st, NULL, last_cb, &l);
	is_str(l.rec.details, "policy=\"\" was=\"files=90,keep-daily=7,keep-yearly=3\"",
	       "clearing is journalled");
	is_int(enrp_retention_set(st, "pop-registry", &p, &actor), 0, "clearing twice is fine");
}

/* ---- the platform clock ---- */

static void clock_floor(const char *path)
{
	const int64_t t0 = utc(2030, 6, 1, 12, 0, 0);
	int64_t now, floor_ns;

	enrp_clock_test_set_wall(t0);
	is_int(enrp_platform_now(st, &now), 0, "platform now");
	is_int(now, t0, "now is the wall clock");
	enrp_clock_floor(st, &floor_ns);
	is_int(floor_ns, t0, "the first call sets the floor");

	enrp_clock_test_set_wall(t0 + 30 * S);
	enrp_platform_now(st, &now);
	is_int(now, t0 + 30 * S, "the clock moves on");
	enrp_clock_floor(st, &floor_ns);
	is_int(floor_ns, t0, "the floor is not written within a step");

	enrp_clock_test_set_wall(t0 + 61 * S);
	enrp_platform_now(st, &now);
	enrp_clock_floor(st, &floor_ns);
	is_int(floor_ns, t0 + 61 * S, "the floor follows after a step");

	/* A copy sealed a day before t0 + 2 min, under files=1, expires at
	 * t0 + 2 min.  The host clock is then set back a year. */
	const int64_t sealed = t0 + 120 * S - DAY, expires = sealed + DAY;
	enrp_clock_test_set_wall(t0 - 365 * DAY);
	enrp_platform_now(st, &now);
	is_int(now, t0 + 61 * S, "clock set back: the platform's time stands at the floor");
	ok(now < expires, "so the copy has not expired early");
	enrp_clock_floor(st, &floor_ns);
	is_int(floor_ns, t0 + 61 * S, "a clock set back never lowers the floor");

	/* The floor is in the store: a later open (another process) sees it.
	 * LMDB allows one open of an environment per process, hence the close. */
	enrp_store *ro;
	enrp_store_close(st);
	st = NULL;
	is_int(enrp_store_open(path, ENRP_STORE_RDONLY, &ro), 0, "open read-only");
	is_int(enrp_platform_now(ro, &now), 0, "platform now on a read-only store");
	is_int(now, t0 + 61 * S, "the floor holds there too");
	enrp_clock_test_set_wall(t0 + 3600 * S);
	is_int(enrp_platform_now(ro, &now), 0, "read-only: no raise, no error");
	is_int(now, t0 + 3600 * S, "read-only: the wall clock past the floor");
	enrp_store_close(ro);
	if (enrp_store_open(path, 0, &st) != 0) {
		ok(0, "reopen the store");
		return;
	}

	/* The clock comes back: time moves on from the real clock again. */
	enrp_platform_now(st, &now);
	is_int(now, t0 + 3600 * S, "the real clock again once past the floor");
	enrp_clock_floor(st, &floor_ns);
	is_int(floor_ns, t0 + 3600 * S, "and the floor follows it");
	enrp_clock_test_set_wall(0);
	enrp_platform_now(st, &now);
	ok(now >= t0 + 3600 * S, "real clock: never below the floor");
}

/* Which policy changes need a second person (four eyes). */
static bool shortens(const char *cur, const char *next)
{
	struct enrp_retention a, b;
	if (enrp_retention_parse(cur, &a, NULL, 0) || enrp_retention_parse(next, &b, NULL, 0)) {
		diag("bad spec in test: %s -> %s", cur, next);
		return false;
	}
	return enrp_retention_shortens(&a, &b);
}

static void shortening(void)
{
	ok(!shortens("", "files=1,keep-last=1"), "a first policy is onboarding, not shortening");
	ok(!shortens("files=90", "files=120"), "files= raised");
	ok(shortens("files=90", "files=30"), "files= lowered");
	ok(!shortens("files=90,keep-daily=7", "keep-daily=7"), "files= removed: files kept for ever");
	ok(shortens("keep-daily=7", "keep-daily=7,files=365"), "files= added to a policy");
	ok(shortens("files=90", "files=90,keep-daily=7"), "keep rules where there were none");
	ok(!shortens("files=90,keep-daily=7", "files=90"), "every keep rule removed");
	ok(shortens("keep-daily=7,keep-weekly=4", "keep-daily=7"), "one keep rule removed");
	ok(shortens("keep-daily=7", "keep-daily=6"), "a keep count lowered");
	ok(!shortens("keep-daily=7", "keep-daily=7,keep-monthly=12"), "a keep rule added");
	ok(!shortens("files=90,keep-last=3", "keep-last=3,files=90"), "the same policy");
}

int main(int argc, char **argv)
{
	const char *tmp;
	char path[256];

	if (argc == 4 && strcmp(argv[1], "--select") == 0)
		return select_main(argv[2], argv[3]);
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_retention");

	parse_table();
	shortening();
	zones();
	dates();
	selection();
	stored();
	clock_floor(path);

	enrp_store_close(st);
	tap_rmrf(tmp);
	return done_testing();
}
