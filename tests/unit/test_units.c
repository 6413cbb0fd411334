/*
 * test_units.c — sizes, durations and times: accepted spellings with their
 * exact values, and the junk, negatives and overflows that must be refused
 * with the documented errno.
 */
#include <errno.h>

#include <enrp/units.h>

#include "../tap.h"

#define S 1000000000LL
#define KiB 1024ULL
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)
#define PiB (TiB * 1024)

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 12345;
	int rc = enrp_size_parse(s, &v);
	ok(rc == 0 && v == want, "size '%s' = %llu (rc %d, got %llu)", s, (unsigned long long)want,
	   rc, (unsigned long long)v);
}

static void size_bad(const char *s, int want)
{
	uint64_t v = 12345;
	int rc = enrp_size_parse(s, &v);
	ok(rc == want && v == 12345, "size '%s' refused with %d (got %d)", s, want, rc);
}

static void sizes(void)
{
	size_ok("0", 0);
	size_ok("none", 0);
	size_ok("1024", 1024);
	size_ok("1024B", 1024);
	size_ok("512K", 512 * KiB);
	size_ok("512k", 512 * KiB);
	size_ok("1KiB", KiB);
	size_ok("1KB", KiB);
	size_ok("1Ki", KiB);
	size_ok("50G", 50 * GiB);
	size_ok("1.5G", GiB + GiB / 2);
	size_ok("1.5T", TiB + TiB / 2);
	size_ok("2TiB", 2 * TiB);
	size_ok("3P", 3 * PiB);
	size_ok("0.5K", 512);
	size_ok("8191P", 8191 * PiB);
	size_ok("9223372036854775807", 9223372036854775807ULL);

	size_bad("", -EINVAL);
	size_bad("-1", -EINVAL);
	size_bad("-1G", -EINVAL);
	size_bad("+1G", -EINVAL);
	size_bad(" 1G", -EINVAL);
	size_bad("1G ", -EINVAL);
	size_bad("1 G", -EINVAL);
	size_bad("G", -EINVAL);
	size_bad("1X", -EINVAL);
	size_bad("1GG", -EINVAL);
	size_bad("1iB", -EINVAL);
	size_bad("1.", -EINVAL);
	size_bad(".5G", -EINVAL);
	size_bad("1.5", -EINVAL);
	size_bad("0x10", -EINVAL);
	size_bad("1e3", -EINVAL);
	size_bad("None", -EINVAL);
	size_bad("8192P", -ERANGE);
	size_bad("9223372036854775808", -ERANGE);
	size_bad("99999999999999999999999", -ERANGE);
	size_bad("100000000000000000G", -ERANGE);
}

static void fmt_is(uint64_t v, const char *want)
{
	char buf[32];
	enrp_size_format(v, buf, sizeof(buf));
	is_str(buf, want, "format %llu", (unsigned long long)v);
}

static void size_formats(void)
{
	fmt_is(0, "0");
	fmt_is(1023, "1023");
	fmt_is(1024, "1K");
	fmt_is(1536, "1.5K");
	fmt_is(50 * GiB, "50G");
	fmt_is(GiB + GiB / 2, "1.5G");
	fmt_is(MiB - 1, "1M");
	fmt_is(3 * PiB, "3P");
	fmt_is(UINT64_MAX, "16384P");

	/* Every formatted value parses back to within 5%. */
	int bad = 0;
	for (uint64_t v = 1; v < (1ULL << 62); v = v * 3 + 7) {
		char buf[32];
		uint64_t back;
		enrp_size_format(v, buf, sizeof(buf));
		if (enrp_size_parse(buf, &back) || back > v + v / 20 + 1 || back + v / 20 + 1 < v)
			bad++;
	}
	is_int(bad, 0, "format then parse round-trips within rounding");
}

static void dur_ok(const char *s, int64_t want)
{
	int64_t v = 7;
	int rc = enrp_duration_parse(s, &v);
	ok(rc == 0 && v == want, "duration '%s' (rc %d)", s, rc);
}

static void dur_bad(const char *s, int want)
{
	int64_t v = 7;
	int rc = enrp_duration_parse(s, &v);
	ok(rc == want && v == 7, "duration '%s' refused with %d (got %d)", s, want, rc);
}

static void durations(void)
{
	dur_ok("90s", 90 * S);
	dur_ok("30m", 1800 * S);
	dur_ok("2h", 7200 * S);
	dur_ok("7d", 7 * 86400 * S);
	dur_ok("1w", 7 * 86400 * S);
	dur_ok("1h30m", 5400 * S);
	dur_ok("1d2h3m4s", (86400 + 7200 + 180 + 4) * S);
	dur_ok("0s", 0);

	dur_bad("", -EINVAL);
	dur_bad("90", -EINVAL);
	dur_bad("h", -EINVAL);
	dur_bad("1hm", -EINVAL);
	dur_bad("-1h", -EINVAL);
	dur_bad("1.5h", -EINVAL);
	dur_bad("1x", -EINVAL);
	dur_bad("1 h", -EINVAL);
	dur_bad("1H", -EINVAL);
	dur_bad("106752d", -ERANGE);
	dur_bad("106751d106751d", -ERANGE);
	dur_bad("99999999999999999999s", -ERANGE);
}

static void time_ok(const char *s, int64_t now, int64_t want)
{
	int64_t v = 7;
	int rc = enrp_time_parse(s, now, &v);
	ok(rc == 0 && v == want, "time '%s' (rc %d, got %lld want %lld)", s, rc, (long long)v,
	   (long long)want);
}

static void time_bad(const char *s, int want)
{
	int64_t v = 7;
	int rc = enrp_time_parse(s, 0, &v);
	ok(rc == want && v == 7, "time '%s' refused with %d (got %d)", s, want, rc);
}

static void times(void)
{
	const int64_t t2026 = 1795219200LL * S; /* 2026-11-21T00:00:00Z */
	const int64_t now = t2026 + 36000 * S;

	time_ok("2026-11-21", 0, t2026);
	time_ok("2026-11-21T10:00", 0, t2026 + 36000 * S);
	time_ok("2026-11-21T10:00:00Z", 0, t2026 + 36000 * S);
	time_ok("2026-11-21T10:00:05", 0, t2026 + 36005 * S);
	time_ok("2026-11-21 10:00Z", 0, t2026 + 36000 * S);
	time_ok("1970-01-01", 0, 0);
	time_ok("2024-02-29", 0, 1709164800LL * S);
	time_ok("now", now, now);
	time_ok("-7d", now, now - 7 * 86400 * S);
	time_ok("+1h30m", now, now + 5400 * S);

	time_bad("", -EINVAL);
	time_bad("yesterday", -EINVAL);
	time_bad("2026-11-21T", -EINVAL);
	time_bad("2026-11-21T10", -EINVAL);
	time_bad("2026-11-21T10:00:00+02:00", -EINVAL);
	time_bad("2026-13-01", -EINVAL);
	time_bad("2026-00-01", -EINVAL);
	time_bad("2026-02-29", -EINVAL);
	time_bad("2026-04-31", -EINVAL);
	time_bad("2026-11-21T24:00", -EINVAL);
	time_bad("2026-11-21T10:60", -EINVAL);
	time_bad("26-11-21", -EINVAL);
	time_bad("2026-1-21", -EINVAL);
	time_bad("-7", -EINVAL);
	time_bad("1000-01-01", -ERANGE);
	time_bad("9999-01-01", -ERANGE);

	char buf[40];
	enrp_time_format(t2026 + 36000 * S + 999999999, buf, sizeof(buf));
	is_str(buf, "2026-11-21T10:00:00Z", "time format truncates to seconds");
	enrp_time_format(0, buf, sizeof(buf));
	is_str(buf, "1970-01-01T00:00:00Z", "time format of the epoch");
	enrp_time_format(-1, buf, sizeof(buf));
	is_str(buf, "1969-12-31T23:59:59Z", "time format floors before the epoch");

	int64_t back;
	enrp_time_format(now, buf, sizeof(buf));
	ok(enrp_time_parse(buf, 0, &back) == 0 && back == now, "time format parses back");
}

int main(void)
{
	sizes();
	size_formats();
	durations();
	times();
	return done_testing();
}
