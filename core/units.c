/*
 * units.c — sizes, durations and times as administrators type them.
 *
 * Parsers are strict: the whole string must be consumed, no sign, no
 * whitespace, no locale (strtod/strtoull would accept " +1e3" and "0x10").
 * Arithmetic is exact integer arithmetic with explicit overflow checks, so
 * "1.5G" is exactly 1610612736 and nothing wraps.  All times are UTC.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <enrp/calendar.h>
#include <enrp/units.h>

#define NS_PER_SEC 1000000000LL
/* Fraction digits kept when parsing sizes: enough for any byte count. */
#define FRAC_DIGITS_MAX 18

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parses a run of digits at *P into *V; -EINVAL when there is none,
 * -ERANGE past UINT64_MAX. */
static int digits(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*p = s;
	*v = x;
	return 0;
}

static int size_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	case 't': case 'T': return 40;
	case 'p': case 'P': return 50;
	default: return -1;
	}
}

int enrp_size_parse(const char *s, uint64_t *out)
{
	uint64_t whole, frac = 0, frac_den = 1;
	unsigned frac_digits = 0;
	int shift = 0, rc;

	if (!s || !*s)
		return -EINVAL;
	if (strcmp(s, "none") == 0) {
		*out = 0;
		return 0;
	}
	rc = digits(&s, &whole);
	if (rc)
		return rc;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return -EINVAL;
		for (; is_digit(*s); s++) {
			/* Past 18 digits a fraction could still decide a byte
			 * (fuzzing showed both ways): refuse rather than guess. */
			if (frac_digits == FRAC_DIGITS_MAX)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*s - '0');
			frac_den *= 10;
			frac_digits++;
		}
	}
	if (*s && size_shift(*s) >= 0) {
		shift = size_shift(*s++);
		if (*s == 'i')
			s++;
	}
	if (*s == 'B')
		s++;
	if (*s)
		return -EINVAL;
	/* A fraction of a byte is not a size. */
	if (shift == 0 && frac)
		return -EINVAL;

	unsigned __int128 v = (unsigned __int128)whole << shift;
	v += ((unsigned __int128)frac << shift) / frac_den;
	if ((whole >> 63) || v >= (unsigned __int128)1 << 63)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

void enrp_size_format(uint64_t bytes, char *buf, size_t bufsz)
{
	static const char units[] = "KMGTP";
	int u = -1;

	while (u + 1 < (int)sizeof(units) - 1 && bytes >= (uint64_t)1 << (10 * (u + 2)))
		u++;
	if (u < 0) {
		snprintf(buf, bufsz, "%llu", (unsigned long long)bytes);
		return;
	}
	uint64_t unit = (uint64_t)1 << (10 * (u + 1));
	if (bytes % unit == 0) {
		snprintf(buf, bufsz, "%llu%c", (unsigned long long)(bytes / unit), units[u]);
		return;
	}
	/* Tenths, rounded; 1023.96K becomes "1.0M", not "1024.0K". */
	uint64_t tenths = (uint64_t)(((unsigned __int128)bytes * 10 + unit / 2) / unit);
	if (tenths >= 10240 && u + 1 < (int)sizeof(units) - 1) {
		u++;
		unit <<= 10;
		tenths = (uint64_t)(((unsigned __int128)bytes * 10 + unit / 2) / unit);
	}
	/* Rounding up at the very top would print a size the parser refuses
	 * (8192P is 2^63): print such a size exactly instead. */
	if (bytes < (uint64_t)1 << 63 && (unsigned __int128)tenths * unit >= (unsigned __int128)10 << 63) {
		snprintf(buf, bufsz, "%llu", (unsigned long long)bytes);
		return;
	}
	if (tenths % 10 == 0)
		snprintf(buf, bufsz, "%llu%c", (unsigned long long)(tenths / 10), units[u]);
	else
		snprintf(buf, bufsz, "%llu.%llu%c", (unsigned long long)(tenths / 10),
		         (unsigned long long)(tenths % 10), units[u]);
}

static int64_t duration_unit(char c)
{
	switch (c) {
	case 's': return NS_PER_SEC;
	case 'm': return 60 * NS_PER_SEC;
	case 'h': return 3600 * NS_PER_SEC;
	case 'd': return 86400 * NS_PER_SEC;
	case 'w': return 7 * 86400 * NS_PER_SEC;
	default: return 0;
	}
}

int enrp_duration_parse(const char *s, int64_t *out_ns)
{
	int64_t total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t n;
		int rc = digits(&s, &n);
		if (rc)
			return rc;
		/* A bare number has no unit: seconds or minutes?  Refuse. */
		int64_t unit = duration_unit(*s);
		if (!unit)
			return -EINVAL;
		s++;
		if (n > (uint64_t)(INT64_MAX / unit))
			return -ERANGE;
		int64_t part = (int64_t)n * unit;
		if (total > INT64_MAX - part)
			return -ERANGE;
		total += part;
	}
	*out_ns = total;
	return 0;
}

/* Exactly N digits at *P into *V. */
static bool fixed_digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

static int parse_absolute(const char *s, int64_t *out_ns)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0;

	if (!fixed_digits(&s, 4, &y) || *s++ != '-' || !fixed_digits(&s, 2, &mo) ||
	    *s++ != '-' || !fixed_digits(&s, 2, &d))
		return -EINVAL;
	if (*s == 'T' || *s == ' ') {
		s++;
		if (!fixed_digits(&s, 2, &h) || *s++ != ':' || !fixed_digits(&s, 2, &mi))
			return -EINVAL;
		if (*s == ':') {
			s++;
			if (!fixed_digits(&s, 2, &sec))
				return -EINVAL;
		}
		if (*s == 'Z')
			s++;
	}
	if (*s)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > enrp_days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 59)
		return -EINVAL;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	/* ns since the epoch in int64 covers 1677..2262. */
	if (t > INT64_MAX / NS_PER_SEC || t < INT64_MIN / NS_PER_SEC)
		return -ERANGE;
	*out_ns = (int64_t)t * NS_PER_SEC;
	return 0;
}

int enrp_time_parse(const char *s, int64_t now_ns, int64_t *out_ns)
{
	int64_t d;
	int rc;

	if (!s || !*s)
		return -EINVAL;
	if (strcmp(s, "now") == 0) {
		*out_ns = now_ns;
		return 0;
	}
	if (s[0] == '-' || s[0] == '+') {
		rc = enrp_duration_parse(s + 1, &d);
		if (rc)
			return rc;
		if (s[0] == '-' ? now_ns < INT64_MIN + d : now_ns > INT64_MAX - d)
			return -ERANGE;
		*out_ns = s[0] == '-' ? now_ns - d : now_ns + d;
		return 0;
	}
	return parse_absolute(s, out_ns);
}

static int date_fail(char *err, size_t errsz, const char *what, const char *s)
{
	if (err && errsz)
		snprintf(err, errsz, "'%.64s': %s", s, what);
	return -EINVAL;
}

int enrp_date_parse(const char *s, const enrp_tz *tz, int64_t *out_ns, char *err, size_t errsz)
{
	static const char form[] = "expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS], optionally "
	                           "followed by Z or +HH:MM/-HH:MM";
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;

	if (!s || !*s) {
		if (err && errsz)
			snprintf(err, errsz, "no date given");
		return -EINVAL;
	}
	if (!fixed_digits(&p, 4, &y) || *p++ != '-' || !fixed_digits(&p, 2, &mo) ||
	    *p++ != '-' || !fixed_digits(&p, 2, &d))
		return date_fail(err, errsz, form, s);
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!fixed_digits(&p, 2, &h) || *p++ != ':' || !fixed_digits(&p, 2, &mi))
			return date_fail(err, errsz, form, s);
		if (*p == ':') {
			p++;
			if (!fixed_digits(&p, 2, &sec))
				return date_fail(err, errsz, form, s);
		}
		if (*p == 'Z') {
			p++;
			sign = 1; /* +00:00 */
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '+' ? 1 : -1;
			if (!fixed_digits(&p, 2, &oh) || *p++ != ':' || !fixed_digits(&p, 2, &om))
				return date_fail(err, errsz, form, s);
			if (oh > 23 || om > 59)
				return date_fail(err, errsz, "the UTC offset must be at most 23:59", s);
		}
	}
	if (*p)
		return date_fail(err, errsz, form, s);
	if (mo < 1 || mo > 12)
		return date_fail(err, errsz, "no such month", s);
	if (d < 1 || d > enrp_days_in_month(y, mo))
		return date_fail(err, errsz, "no such day in that month", s);
	if (h > 23 || mi > 59 || sec > 59)
		return date_fail(err, errsz, "no such time of day (00:00:00 to 23:59:59)", s);
	/* 2262-04-11 is where int64 ns end; whole years keep the rule simple. */
	if (y < 1970 || y > 2261) {
		if (err && errsz)
			snprintf(err, errsz, "'%.64s': the year must be 1970 to 2261", s);
		return -ERANGE;
	}
	int64_t t;
	if (sign)
		t = enrp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
		    sign * (oh * 3600 + om * 60);
	else
		t = enrp_tz_from_civil(tz, y, mo, d, h, mi, sec);
	if (t < 0) {
		if (err && errsz)
			snprintf(err, errsz, "'%.64s': before 1970-01-01T00:00:00Z", s);
		return -ERANGE;
	}
	*out_ns = t * NS_PER_SEC;
	return 0;
}

void enrp_time_format(int64_t ns, char *buf, size_t bufsz)
{
	/* Floor division, so times before 1970 round down like any other. */
	int64_t sec = ns / NS_PER_SEC;
	if (ns % NS_PER_SEC < 0)
		sec--;
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, bufsz, "invalid");
		return;
	}
	snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
