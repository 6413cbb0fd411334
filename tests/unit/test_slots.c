/*
 * test_slots.c — the slots of a schedule over the calendar (slots.h),
 * against expectations computed independently (Python's zoneinfo reading
 * the same tz files, candidate days enumerated one by one:
 * tests/integration/slots_ref.py --unit-cases prints the cases): whole years in several
 * zones, month ends, Feb 29 in 2028 and not in 2027 or 2100, clock changes
 * in Berlin and New York, a +5:45 zone; then walks backwards, merged rules,
 * windows and refusals.
 */
#include <errno.h>
#include <inttypes.h>

#include <enrp/slots.h>
#include <enrp/units.h>

#include "../tap.h"

static const struct enrp_schedule *sched(const char *text)
{
	static struct enrp_schedule s;
	char err[ENRP_SCHEDULE_ERR_MAX];
	if (enrp_schedule_parse(text, &s, err, sizeof(err)))
		diag("cannot parse '%s': %s", text, err);
	return &s;
}

static enrp_tz *zone(const char *name)
{
	enrp_tz *tz = NULL;
	int rc = enrp_tz_open(name, &tz);
	if (rc)
		diag("cannot open zone %s: %d", name, rc);
	return tz;
}

static int64_t at(const char *iso)
{
	int64_t ns = 0;
	if (enrp_time_parse(iso, 0, &ns))
		diag("bad time %s", iso);
	return ns / 1000000000;
}

static void iso(int64_t t, char *buf, size_t n)
{
	enrp_time_format(t * 1000000000, buf, n);
}

/* The slots from FROM on, N of them, must be WANT (space-separated); and
 * walking back from the last one must give the same list reversed. */
static void list(const char *text, const char *zname, const char *from, const char *want)
{
	const struct enrp_schedule *s = sched(text);
	enrp_tz *tz = zone(zname);
	char got[2048] = "", one[40];
	int64_t starts[64];
	size_t n = 0;
	struct enrp_slot sl;
	int64_t t = at(from);
	int rc = 0;
	size_t wantn = (strlen(want) + 1) / 21;

	for (; n < wantn && (rc = enrp_slot_next(s, tz, 0, t, &sl)) == 0; n++) {
		iso(sl.start, one, sizeof(one));
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", n ? " " : "", one);
		if (sl.window_end != sl.next_start || sl.next_start <= sl.start)
			rc = -999;
		starts[n] = sl.start;
		t = sl.next_start;
	}
	ok(rc == 0 && strcmp(got, want) == 0, "%s in %s from %s: %s (rc %d)", text, zname, from,
	   got, rc);
	bool back = true;
	for (size_t i = n; i-- > 1;) {
		if (enrp_slot_prev(s, tz, 0, starts[i], &sl) || sl.start != starts[i - 1] ||
		    sl.next_start != starts[i])
			back = false;
		/* Any moment inside the slot has it as its previous slot. */
		if (enrp_slot_prev(s, tz, 0, starts[i - 1] + 1, &sl) || sl.start != starts[i - 1])
			back = false;
	}
	ok(back, "%s in %s: walking back gives the same slots", text, zname);
	enrp_tz_free(tz);
}

/* Every slot starting in calendar year YEAR (UTC): COUNT of them, their
 * starts summing to SUM; the same walking backwards from the year's end. */
static void year(const char *text, const char *zname, int y, long count, long long sum)
{
	const struct enrp_schedule *s = sched(text);
	enrp_tz *tz = zone(zname);
	int64_t a = enrp_days_from_civil(y, 1, 1) * 86400, b = enrp_days_from_civil(y + 1, 1, 1) * 86400;
	struct enrp_slot sl;
	long n = 0;
	long long total = 0;

	for (int64_t t = a; enrp_slot_next(s, tz, 0, t, &sl) == 0 && sl.start < b; t = sl.next_start) {
		n++;
		total += sl.start;
	}
	ok(n == count && total == sum, "%s in %s, year %d: %ld slots (want %ld), sum %lld (want %lld)",
	   text, zname, y, n, count, total, sum);
	n = 0;
	total = 0;
	for (int64_t t = b; enrp_slot_prev(s, tz, 0, t, &sl) == 0 && sl.start >= a; t = sl.start) {
		n++;
		total += sl.start;
	}
	ok(n == count && total == sum, "%s in %s, year %d backwards: %ld slots, sum %lld", text,
	   zname, y, n, total);
	enrp_tz_free(tz);
}

static void merged(void)
{
	const struct enrp_schedule *s =
		sched("daily 23:00 incremental; weekly fri 23:00 differential; monthly first-fri 23:00 full");
	enrp_tz *tz = zone("UTC");
	struct enrp_slot sl;
	/* 2027-02-05 is the first Friday of February: three rules, one slot. */
	int rc = enrp_slot_next(s, tz, 0, at("2027-02-05T22:00:00Z"), &sl);
	ok(rc == 0 && sl.start == at("2027-02-05T23:00:00Z") && sl.type == ENRP_BACKUP_FULL &&
	   sl.rule == 0 && sl.next_start == at("2027-02-06T23:00:00Z"),
	   "rules on one moment are one slot, full, rule 0 (rc %d type %d rule %u)", rc, sl.type, sl.rule);
	rc = enrp_slot_next(s, tz, 0, at("2027-02-12T23:00:00Z"), &sl);
	ok(rc == 0 && sl.type == ENRP_BACKUP_DIFFERENTIAL && sl.rule == 0,
	   "a later Friday: differential (type %d)", sl.type);
	rc = enrp_slot_next(s, tz, 0, at("2027-02-13T23:00:00Z"), &sl);
	ok(rc == 0 && sl.type == ENRP_BACKUP_INCREMENTAL, "a Saturday: incremental");
	rc = enrp_slot_next(s, tz, 0, at("2027-02-13T23:00:01Z"), &sl);
	ok(rc == 0 && sl.start == at("2027-02-14T23:00:00Z"), "one second after a slot: the next one");
	enrp_tz_free(tz);
}

static void windows(void)
{
	const struct enrp_schedule *s = sched("weekly mon,tue 23:00 full");
	enrp_tz *tz = zone("Asia/Almaty");
	struct enrp_slot sl;
	int rc = enrp_slot_next(s, tz, 6 * 3600, at("2027-03-01T00:00:00Z"), &sl);
	ok(rc == 0 && sl.start == at("2027-03-01T18:00:00Z") &&
	   sl.window_end == at("2027-03-02T00:00:00Z") && sl.next_start == at("2027-03-02T18:00:00Z"),
	   "a 6h window ends 6 hours after the start");
	rc = enrp_slot_next(s, tz, 48 * 3600, at("2027-03-01T00:00:00Z"), &sl);
	ok(rc == 0 && sl.window_end == at("2027-03-02T18:00:00Z"),
	   "a 48h window stops at the next slot (Tuesday)");
	rc = enrp_slot_next(s, tz, 48 * 3600, at("2027-03-02T18:00:00Z"), &sl);
	ok(rc == 0 && sl.window_end == at("2027-03-04T18:00:00Z"),
	   "Tuesday's 48h window runs whole (next slot Monday)");
	rc = enrp_slot_prev(s, tz, 0, at("2027-03-05T00:00:00Z"), &sl);
	ok(rc == 0 && sl.start == at("2027-03-02T18:00:00Z") && sl.window_end == at("2027-03-08T18:00:00Z"),
	   "default window: until the next slot");
	ok(enrp_slot_next(s, tz, -1, 0, &sl) == -EINVAL, "negative window: -EINVAL");
	ok(enrp_slot_next(s, tz, ENRP_SLOT_WINDOW_MAX + 1, 0, &sl) == -EINVAL, "window over a year: -EINVAL");
	ok(enrp_slot_next(s, tz, 0, INT64_MAX / 2, &sl) == -EINVAL, "far future: -EINVAL");
	ok(enrp_slot_prev(s, tz, 0, -4000000000LL, &sl) == -EINVAL, "before 1900: -EINVAL");
	ok(enrp_slot_next(sched(""), tz, 0, 0, &sl) == -ENOENT, "no rules: -ENOENT");
	ok(enrp_slot_prev(sched(""), tz, 0, 0, &sl) == -ENOENT, "no rules: -ENOENT (prev)");
	enrp_tz_free(tz);
}

int main(void)
{
	/* Generated by tests/integration/slots_ref.py --unit-cases. */
	list("daily 23:00 full", "Asia/Almaty", "2027-12-30T00:00:00Z",
	     "2027-12-30T18:00:00Z 2027-12-31T18:00:00Z 2028-01-01T18:00:00Z 2028-01-02T18:00:00Z");
	list("monthly first-fri 23:00 full", "Asia/Almaty", "2027-01-01T00:00:00Z",
	     "2027-01-01T18:00:00Z 2027-02-05T18:00:00Z 2027-03-05T18:00:00Z 2027-04-02T18:00:00Z 2027-05-07T18:00:00Z 2027-06-04T18:00:00Z 2027-07-02T18:00:00Z 2027-08-06T18:00:00Z 2027-09-03T18:00:00Z 2027-10-01T18:00:00Z 2027-11-05T18:00:00Z 2027-12-03T18:00:00Z");
	list("quarterly first-sat 23:00 full", "Asia/Almaty", "2027-01-01T00:00:00Z",
	     "2027-01-02T18:00:00Z 2027-04-03T18:00:00Z 2027-07-03T18:00:00Z 2027-10-02T18:00:00Z 2028-01-01T18:00:00Z");
	list("yearly first-sat 23:00 full", "Asia/Almaty", "2026-01-03T17:59:59Z",
	     "2026-01-03T18:00:00Z 2027-01-02T18:00:00Z 2028-01-01T18:00:00Z 2029-01-06T18:00:00Z");
	list("daily 23:00 full", "Asia/Almaty", "2028-02-27T00:00:00Z",
	     "2028-02-27T18:00:00Z 2028-02-28T18:00:00Z 2028-02-29T18:00:00Z 2028-03-01T18:00:00Z");
	list("daily 23:00 full", "UTC", "2027-02-27T00:00:00Z",
	     "2027-02-27T23:00:00Z 2027-02-28T23:00:00Z 2027-03-01T23:00:00Z");
	list("daily 00:00 full", "UTC", "2100-02-27T12:00:00Z",
	     "2100-02-28T00:00:00Z 2100-03-01T00:00:00Z 2100-03-02T00:00:00Z");
	list("daily 00:00 full", "UTC", "2028-02-27T12:00:00Z",
	     "2028-02-28T00:00:00Z 2028-02-29T00:00:00Z 2028-03-01T00:00:00Z");
	list("monthly first-tue 10:00 incremental", "UTC", "2028-01-31T00:00:00Z",
	     "2028-02-01T10:00:00Z 2028-03-07T10:00:00Z 2028-04-04T10:00:00Z");
	list("daily 02:30 full", "Europe/Berlin", "2027-03-26T00:00:00Z",
	     "2027-03-26T01:30:00Z 2027-03-27T01:30:00Z 2027-03-28T01:30:00Z 2027-03-29T00:30:00Z");
	list("daily 02:30 full", "Europe/Berlin", "2027-10-29T00:00:00Z",
	     "2027-10-29T00:30:00Z 2027-10-30T00:30:00Z 2027-10-31T00:30:00Z 2027-11-01T01:30:00Z");
	list("weekly sun 01:30 full", "America/New_York", "2027-11-01T00:00:00Z",
	     "2027-11-07T05:30:00Z 2027-11-14T06:30:00Z");
	list("weekly sun 02:30 full", "America/New_York", "2027-03-10T00:00:00Z",
	     "2027-03-14T07:30:00Z 2027-03-21T06:30:00Z");
	list("daily 23:00 full", "Asia/Kathmandu", "2027-06-30T00:00:00Z",
	     "2027-06-30T17:15:00Z 2027-07-01T17:15:00Z");
	list("weekly mon,wed,fri 23:30 differential", "Asia/Almaty", "2027-12-29T00:00:00Z",
	     "2027-12-29T18:30:00Z 2027-12-31T18:30:00Z 2028-01-03T18:30:00Z 2028-01-05T18:30:00Z 2028-01-07T18:30:00Z");
	list("daily 23:00 incremental; monthly first-fri 23:00 full", "Asia/Almaty", "2027-01-31T00:00:00Z",
	     "2027-01-31T18:00:00Z 2027-02-01T18:00:00Z 2027-02-02T18:00:00Z 2027-02-03T18:00:00Z 2027-02-04T18:00:00Z 2027-02-05T18:00:00Z 2027-02-06T18:00:00Z 2027-02-07T18:00:00Z");
	list("yearly first-sun 00:00 full", "Asia/Kathmandu", "2027-01-01T00:00:00Z",
	     "2027-01-02T18:15:00Z 2028-01-01T18:15:00Z 2029-01-06T18:15:00Z");
	list("quarterly first-mon 09:15 full", "America/New_York", "2027-12-31T00:00:00Z",
	     "2028-01-03T14:15:00Z 2028-04-03T13:15:00Z 2028-07-03T13:15:00Z 2028-10-02T13:15:00Z 2029-01-01T14:15:00Z");
	year("daily 23:00 full", "Asia/Almaty", 2027, 365, 662311188000LL);
	year("daily 23:00 full", "Asia/Almaty", 2028, 366, 675683726400LL);
	year("daily 23:00 full", "Europe/Berlin", 2027, 365, 662315662800LL);
	year("daily 02:30 full", "Europe/Berlin", 2027, 365, 662288725800LL);
	year("daily 01:30 full", "America/New_York", 2028, 366, 675667717200LL);
	year("daily 23:00 full", "Asia/Kathmandu", 2100, 365, 1503154570500LL);
	year("weekly sat,sun 23:00 full", "UTC", 2028, 106, 195691730400LL);
	year("daily 23:00 incremental; monthly first-fri 23:00 full; quarterly first-sat 23:00 full; yearly first-sat 23:00 full", "Asia/Almaty", 2027, 365, 662311188000LL);
	merged();
	windows();
	return done_testing();
}
