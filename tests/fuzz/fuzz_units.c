/*
 * fuzz_units.c — the size, duration and time parsers and printers of
 * core/units.c against independent reference implementations.
 *
 * Input: one selector byte, then the text (parsers see a NUL-terminated copy,
 * cut at the first NUL).  SEL % 8 (the digits '0'..'7' select 0..7, so seeds
 * are plain text):
 *
 *   0  enrp_size_parse.  The reference parser computes the exact value
 *      floor((whole + fraction) * 2^shift) with every fraction digit, and
 *      says whether the text is well-formed.  Well-formed and below 2^63:
 *      the parser must give exactly that value; well-formed and larger:
 *      -ERANGE; malformed: -EINVAL (or -ERANGE when a number overflows
 *      first).  A fraction of more than 18 digits may also be refused with
 *      -EINVAL; it may not be rounded wrongly.  On success:
 *      enrp_size_format, parsed back, must parse and be within the printed
 *      rounding (half a tenth of the printed unit), and printing that
 *      value again gives the same text.
 *   1  enrp_duration_parse against the reference: ([0-9]+[smhdw])+, exact
 *      int64 ns, -ERANGE past INT64_MAX, -EINVAL (or -ERANGE) otherwise.
 *   2..5  enrp_time_parse with NOW = 2026-01-01, INT64_MAX - 1000,
 *      INT64_MIN + 1000, 0: "now", [+-]DURATION, or
 *      YYYY-MM-DD[(T| )HH:MM[:SS][Z]] checked with a days-from-civil
 *      reference (no libc time functions).  On success enrp_time_format,
 *      parsed back, gives the time rounded down to the second.
 *   6  enrp_size_format of 8 raw bytes (then 1 byte of buffer size): no
 *      overflow of a short buffer; the text parses back within rounding.
 *   7  enrp_time_format of 8 raw bytes likewise.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/units.h>

#include "fuzz_common.h"

#define NS 1000000000LL
#define SIZE_LIMIT ((uint64_t)1 << 63)

typedef unsigned __int128 u128;
typedef __int128 i128;

static bool dig(char c)
{
	return c >= '0' && c <= '9';
}

/* ---- sizes ---- */

static int ref_shift(char c)
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

/* Reference size parser.  Returns false for malformed text.  Otherwise
 * *BIG says the value is 2^63 or more, else *V is the exact value;
 * *FRAC_DIGITS counts the fraction's digits and *FRAC_NONZERO says whether
 * any of them is not 0. */
static bool ref_size(const char *s, bool *big, uint64_t *v, size_t *frac_digits,
                     bool *frac_nonzero)
{
	const char *w = s, *f = NULL;
	size_t nw = 0, nf = 0;
	int shift = 0;

	*big = false;
	*v = 0;
	*frac_digits = 0;
	*frac_nonzero = false;
	if (strcmp(s, "none") == 0)
		return true;
	while (dig(s[nw]))
		nw++;
	if (nw == 0)
		return false;
	s += nw;
	if (*s == '.') {
		f = ++s;
		while (dig(f[nf]))
			nf++;
		if (nf == 0)
			return false;
		s += nf;
	}
	if (*s && ref_shift(*s) >= 0) {
		shift = ref_shift(*s++);
		if (*s == 'i')
			s++;
	}
	if (*s == 'B')
		s++;
	if (*s)
		return false;
	*frac_digits = nf;
	for (size_t i = 0; i < nf; i++)
		if (f[i] != '0')
			*frac_nonzero = true;
	if (shift == 0 && *frac_nonzero)
		return false; /* a fraction of a byte */

	/* Whole part, saturating at 2^64 (anything that big is past 2^63). */
	u128 whole = 0;
	for (size_t i = 0; i < nw; i++) {
		whole = whole * 10 + (unsigned)(w[i] - '0');
		if (whole >> 64) {
			*big = true;
			return true;
		}
	}
	/* floor(0.f1f2...fk * 2^shift): double the decimal fraction SHIFT
	 * times, collecting the carries out of its top digit. */
	uint64_t carry_int = 0;
	if (nf && shift) {
		uint8_t *d = malloc(nf);
		FUZZ_CHECK(d, "out of memory");
		for (size_t i = 0; i < nf; i++)
			d[i] = (uint8_t)(f[i] - '0');
		for (int b = 0; b < shift; b++) {
			unsigned c = 0;
			for (size_t i = nf; i-- > 0;) {
				unsigned x = d[i] * 2u + c;
				d[i] = (uint8_t)(x % 10);
				c = x / 10;
			}
			carry_int = carry_int * 2 + c;
		}
		free(d);
	}
	u128 total = (whole << shift) + carry_int;
	if (total >= SIZE_LIMIT)
		*big = true;
	else
		*v = (uint64_t)total;
	return true;
}

/* The unit of a formatted size ("1.5G" → 2^30, "12" → 1). */
static uint64_t printed_unit(const char *s)
{
	size_t n = strlen(s);
	int sh = n ? ref_shift(s[n - 1]) : -1;
	return sh < 0 ? 1 : (uint64_t)1 << sh;
}

/* Formats V, parses it back, checks the rounding; then the same with short
 * buffers (each exactly allocated, so ASan sees an overflow). */
static void check_size_format(uint64_t v, size_t shortsz)
{
	char buf[64], again[64];
	uint64_t back, back2;

	enrp_size_format(v, buf, sizeof(buf));
	FUZZ_CHECK(strlen(buf) < 24, "size %llu printed as \"%s\"", (unsigned long long)v, buf);
	if (v < SIZE_LIMIT) {
		int rc = enrp_size_parse(buf, &back);
		FUZZ_CHECK(rc == 0, "size %llu printed as \"%s\" does not parse back (%d)",
		           (unsigned long long)v, buf, rc);
		uint64_t unit = printed_unit(buf);
		u128 diff = back > v ? back - v : v - back;
		/* Half a printed tenth, plus the byte the parser rounds down. */
		FUZZ_CHECK(diff * 20 <= unit + 20, "size %llu printed as \"%s\" parses back as %llu",
		           (unsigned long long)v, buf, (unsigned long long)back);
		enrp_size_format(back, again, sizeof(again));
		FUZZ_CHECK(strcmp(buf, again) == 0, "size %llu prints \"%s\", its parse %llu \"%s\"",
		           (unsigned long long)v, buf, (unsigned long long)back, again);
		FUZZ_CHECK(enrp_size_parse(again, &back2) == 0 && back2 == back, "unstable");
	}
	char *sb = malloc(shortsz ? shortsz : 1);
	FUZZ_CHECK(sb, "out of memory");
	enrp_size_format(v, sb, shortsz);
	if (shortsz)
		FUZZ_CHECK(strnlen(sb, shortsz) < shortsz && strncmp(sb, buf, shortsz - 1) == 0,
		           "short buffer of %zu holds \"%.*s\"", shortsz, (int)shortsz, sb);
	free(sb);
}

static void fuzz_size(const char *s)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5a, want;
	bool big, frac_nonzero;
	size_t frac_digits;
	int rc = enrp_size_parse(s, &v);
	bool ok = ref_size(s, &big, &want, &frac_digits, &frac_nonzero);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE, "\"%s\": %d", s, rc);
	if (rc == -EINVAL && ok && frac_digits > 18)
		return; /* refusing an absurdly precise fraction is fine */
	if (!ok)
		FUZZ_CHECK(rc == -EINVAL || rc == -ERANGE, "malformed \"%s\" parsed as %llu", s,
		           (unsigned long long)v);
	else if (big)
		FUZZ_CHECK(rc == -ERANGE, "\"%s\" is 2^63 or more, parse gave %d (%llu)", s, rc,
		           (unsigned long long)v);
	else
		FUZZ_CHECK(rc == 0 && v == want, "\"%s\" is %llu, parse gave %d (%llu)", s,
		           (unsigned long long)want, rc, (unsigned long long)v);
	if (rc == 0)
		check_size_format(v, strlen(s) % 8);
}

/* ---- durations ---- */

static int64_t ref_unit(char c)
{
	switch (c) {
	case 's': return NS;
	case 'm': return 60 * NS;
	case 'h': return 3600 * NS;
	case 'd': return 86400 * NS;
	case 'w': return 7 * 86400 * NS;
	default: return 0;
	}
}

/* Reference: false if malformed; else *BIG (past INT64_MAX) or *V. */
static bool ref_duration(const char *s, bool *big, int64_t *v)
{
	i128 total = 0;

	*big = false;
	*v = 0;
	if (!*s)
		return false;
	while (*s) {
		i128 n = 0;
		bool sat = false;
		if (!dig(*s))
			return false;
		for (; dig(*s); s++) {
			n = n * 10 + (*s - '0');
			if (n > INT64_MAX)
				sat = true, n = (i128)INT64_MAX + 1;
		}
		int64_t unit = ref_unit(*s);
		if (!unit)
			return false;
		s++;
		if (sat)
			*big = true;
		else if (!*big) {
			total += n * unit;
			if (total > INT64_MAX)
				*big = true;
		}
	}
	if (!*big)
		*v = (int64_t)total;
	return true;
}

static void fuzz_duration(const char *s)
{
	int64_t v = 0x5a5a5a5a, want;
	bool big;
	int rc = enrp_duration_parse(s, &v);
	bool ok = ref_duration(s, &big, &want);

	if (!ok)
		FUZZ_CHECK(rc == -EINVAL || rc == -ERANGE, "malformed \"%s\": %d (%lld)", s, rc,
		           (long long)v);
	else if (big)
		FUZZ_CHECK(rc == -ERANGE, "\"%s\" overflows, parse gave %d (%lld)", s, rc,
		           (long long)v);
	else
		FUZZ_CHECK(rc == 0 && v == want, "\"%s\" is %lld ns, parse gave %d (%lld)", s,
		           (long long)want, rc, (long long)v);
}

/* ---- times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool ref_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool fixed(const char **s, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		if (!dig((*s)[i]))
			return false;
		x = x * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*v = x;
	return true;
}

/* Reference for absolute times: -EINVAL, -ERANGE or 0 with *V. */
static int ref_absolute(const char *s, int64_t *v)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h = 0, mi = 0, sec = 0;

	if (!fixed(&s, 4, &y) || *s != '-')
		return -EINVAL;
	s++;
	if (!fixed(&s, 2, &mo) || *s != '-')
		return -EINVAL;
	s++;
	if (!fixed(&s, 2, &d))
		return -EINVAL;
	if (*s == 'T' || *s == ' ') {
		s++;
		if (!fixed(&s, 2, &h) || *s != ':')
			return -EINVAL;
		s++;
		if (!fixed(&s, 2, &mi))
			return -EINVAL;
		if (*s == ':') {
			s++;
			if (!fixed(&s, 2, &sec))
				return -EINVAL;
		}
		if (*s == 'Z')
			s++;
	}
	if (*s)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	if (d > (mo == 2 && ref_leap(y) ? 29 : mdays[mo - 1]))
		return -EINVAL;
	i128 t = (i128)days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
	         sec;
	i128 ns = t * NS;
	if (ns > INT64_MAX || ns < INT64_MIN)
		return -ERANGE;
	*v = (int64_t)ns;
	return 0;
}

/* Round down to a whole second. */
static int64_t floor_sec(int64_t ns)
{
	int64_t s = ns / NS;
	if (ns % NS < 0)
		s--;
	return s;
}

static void check_time_format(int64_t t, size_t shortsz)
{
	char buf[64];
	int64_t back;

	enrp_time_format(t, buf, sizeof(buf));
	FUZZ_CHECK(strlen(buf) == 20, "time %lld printed as \"%s\"", (long long)t, buf);
	int rc = enrp_time_parse(buf, 0, &back);
	/* The second a time lies in may start before int64 ns can say: the
	 * parser refuses it, which is fine only at that edge. */
	if (rc == -ERANGE)
		FUZZ_CHECK(t < INT64_MIN + 2 * NS, "time %lld printed as \"%s\" is out of range",
		           (long long)t, buf);
	else
		FUZZ_CHECK(rc == 0 && back == (i128)floor_sec(t) * NS,
		           "time %lld printed as \"%s\" parses back as %lld (%d)", (long long)t, buf,
		           (long long)back, rc);
	char *sb = malloc(shortsz ? shortsz : 1);
	FUZZ_CHECK(sb, "out of memory");
	enrp_time_format(t, sb, shortsz);
	if (shortsz)
		FUZZ_CHECK(strnlen(sb, shortsz) < shortsz && strncmp(sb, buf, shortsz - 1) == 0,
		           "short buffer of %zu holds \"%.*s\"", shortsz, (int)shortsz, sb);
	free(sb);
}

static void fuzz_time(const char *s, int64_t now)
{
	int64_t v = 0x5a5a5a5a, want = 0;
	int wrc;

	int rc = enrp_time_parse(s, now, &v);
	if (*s == '\0') {
		wrc = -EINVAL;
	} else if (strcmp(s, "now") == 0) {
		wrc = 0;
		want = now;
	} else if (*s == '+' || *s == '-') {
		bool big;
		int64_t d;
		if (!ref_duration(s + 1, &big, &d)) {
			FUZZ_CHECK(rc == -EINVAL || rc == -ERANGE, "malformed \"%s\": %d (%lld)", s, rc,
			           (long long)v);
			return;
		}
		i128 r = *s == '+' ? (i128)now + d : (i128)now - d;
		if (big || r > INT64_MAX || r < INT64_MIN) {
			wrc = -ERANGE;
		} else {
			wrc = 0;
			want = (int64_t)r;
		}
	} else {
		wrc = ref_absolute(s, &want);
	}
	FUZZ_CHECK(rc == wrc && (rc || v == want),
	           "\"%s\" (now %lld): parse gave %d (%lld), reference %d (%lld)", s,
	           (long long)now, rc, (long long)v, wrc, (long long)want);
	if (rc == 0)
		check_time_format(v, strlen(s) % 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t nows[4] = {
		1767225600LL * NS, /* 2026-01-01T00:00:00Z */
		INT64_MAX - 1000,
		INT64_MIN + 1000,
		0,
	};

	if (size < 1)
		return 0;
	unsigned sel = data[0] % 8;
	data++;
	size--;
	if (sel >= 6) {
		uint8_t raw[8] = { 0 };
		memcpy(raw, data, size < 8 ? size : 8);
		uint64_t x = 0;
		for (int i = 0; i < 8; i++)
			x = x << 8 | raw[i];
		size_t shortsz = size > 8 ? data[8] % 32 : 0;
		if (sel == 6)
			check_size_format(x, shortsz);
		else
			check_time_format((int64_t)x, shortsz);
		return 0;
	}
	char *s = fuzz_text(data, size);
	if (sel == 0)
		fuzz_size(s);
	else if (sel == 1)
		fuzz_duration(s);
	else
		fuzz_time(s, nows[sel - 2]);
	free(s);
	return 0;
}
