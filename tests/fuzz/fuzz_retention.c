/*
 * fuzz_retention.c — the retention policy parser and printer, the operator's
 * date parser (enrp_date_parse) and the snapshot selection.
 *
 * Input: one selector byte, then the payload.  SEL % 8 (the digits '0'..'7'
 * select 0..7, so seeds are plain text):
 *
 *   0  enrp_retention_parse of the text (NUL-terminated copy).  Accepted:
 *      every item is KEY=DIGITS with a known key, once; the canonical text
 *      fits ENRP_RETENTION_SPEC_MAX, parses back to the same policy, and
 *      printing that again gives the same text.  Refused: -EINVAL with a
 *      non-empty message.
 *   1..3  enrp_date_parse in UTC, Asia/Almaty, Europe/Berlin.  Accepted:
 *      the value is >= 0 and whole seconds; text with Z or an offset gives
 *      the instant its fields and offset say (days-from-civil reference);
 *      a bare local time reads back through enrp_tz_civil as its fields,
 *      unless the zone changes offset within a day of it.  Refused: -EINVAL
 *      or -ERANGE with a message.
 *   4..7  enrp_retention_select: byte 0 picks the zone (UTC, Almaty,
 *      Berlin), bytes 1..6 the six keep counts (% 6), then 4 bytes per
 *      snapshot: seconds after 2020-10-01, up to ~4 years, at most 64.
 *      Each rule keeps at most N, numbered 1..k without gaps; what is not
 *      kept has no number; the choice does not depend on the input order;
 *      keep-last alone keeps min(N, distinct seconds) snapshots.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/retention.h>
#include <enrp/tz.h>
#include <enrp/units.h>

#include "fuzz_common.h"

#define NS 1000000000LL
#define MAX_SNAPS 64

static const char *const zone_names[3] = { "UTC", "Asia/Almaty", "Europe/Berlin" };
static enrp_tz *zones[3];

static void load_zones(void)
{
	if (zones[0])
		return;
	for (int i = 0; i < 3; i++)
		FUZZ_CHECK(enrp_tz_open(zone_names[i], &zones[i]) == 0, "cannot load %s",
		           zone_names[i]);
}

static bool known_key(const char *k, size_t n)
{
	static const char *const keys[] = { "files",      "keep-last",    "keep-hourly",
		                            "keep-daily", "keep-weekly",  "keep-monthly",
		                            "keep-yearly" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
			return true;
	return false;
}

static void fuzz_policy(const char *s)
{
	struct enrp_retention p, q;
	char err[ENRP_RETENTION_ERR_MAX] = "", buf[ENRP_RETENTION_SPEC_MAX], again[ENRP_RETENTION_SPEC_MAX];
	int rc = enrp_retention_parse(s, &p, err, sizeof(err));

	if (rc) {
		FUZZ_CHECK(rc == -EINVAL, "rc %d for '%s'", rc, s);
		FUZZ_CHECK(err[0] != '\0', "no message for '%s'", s);
		return;
	}
	/* The grammar, checked independently. */
	for (const char *item = s; *item;) {
		size_t len = strcspn(item, ",");
		const char *eq = memchr(item, '=', len);
		FUZZ_CHECK(eq && eq > item && known_key(item, (size_t)(eq - item)),
		           "accepted item without a known key in '%s'", s);
		FUZZ_CHECK(len - (size_t)(eq - item) > 1, "accepted an empty value in '%s'", s);
		for (const char *d = eq + 1; d < item + len; d++)
			FUZZ_CHECK(*d >= '0' && *d <= '9', "accepted a non-digit in '%s'", s);
		item += len;
		if (*item == ',')
			item++;
	}
	enrp_retention_format(&p, buf, sizeof(buf));
	FUZZ_CHECK(strlen(buf) < sizeof(buf) - 1, "canonical text may be cut: '%s'", buf);
	FUZZ_CHECK(enrp_retention_parse(buf, &q, NULL, 0) == 0, "'%s' does not parse back", buf);
	FUZZ_CHECK(memcmp(&p, &q, sizeof(p)) == 0, "'%s' parses to another policy", buf);
	enrp_retention_format(&q, again, sizeof(again));
	FUZZ_CHECK(strcmp(buf, again) == 0, "'%s' prints as '%s'", buf, again);
}

static void fuzz_date(const char *s, const enrp_tz *tz)
{
	char err[160] = "";
	int64_t v = -12345;
	int rc = enrp_date_parse(s, tz, &v, err, sizeof(err));

	if (rc) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ERANGE, "rc %d for '%s'", rc, s);
		FUZZ_CHECK(err[0] != '\0', "no message for '%s'", s);
		FUZZ_CHECK(v == -12345, "output written on failure for '%s'", s);
		return;
	}
	FUZZ_CHECK(v >= 0 && v % NS == 0, "value %lld for '%s'", (long long)v, s);
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	FUZZ_CHECK(sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3, "fields of '%s'", s);
	const char *p = s + n;
	if (*p == 'T' || *p == ' ') {
		int m = 0;
		FUZZ_CHECK(sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) == 2, "time of '%s'", s);
		p += 1 + m;
		if (*p == ':') {
			FUZZ_CHECK(sscanf(p + 1, "%2d%n", &sec, &m) == 1, "seconds of '%s'", s);
			p += 1 + m;
		}
	}
	int64_t local = enrp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (*p == 'Z' || *p == '+' || *p == '-') {
		int off = 0;
		if (*p != 'Z')
			off = (*p == '+' ? 1 : -1) *
			      (((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60);
		FUZZ_CHECK(v / NS == local - off, "'%s' is %lld, want %lld", s, (long long)(v / NS),
		           (long long)(local - off));
		return;
	}
	FUZZ_CHECK(*p == '\0', "accepted trailing text in '%s'", s);
	int64_t t = v / NS;
	if (enrp_tz_offset(tz, t - 86400) != enrp_tz_offset(tz, t + 86400))
		return; /* near a change of offset: gaps and repeats are their own rule */
	struct enrp_civil c;
	enrp_tz_civil(tz, t, &c);
	FUZZ_CHECK(c.year == y && c.month == mo && c.day == d && c.hour == h && c.minute == mi &&
	                   c.second == sec,
	           "'%s' in %s reads back as %04d-%02d-%02d %02d:%02d:%02d", s, enrp_tz_name(tz),
	           c.year, c.month, c.day, c.hour, c.minute, c.second);
}

static void fuzz_select(const uint8_t *data, size_t size)
{
	struct enrp_retention p = { 0 };
	int64_t ts[MAX_SNAPS], rev[MAX_SNAPS];
	struct enrp_retention_pick pick[MAX_SNAPS], rpick[MAX_SNAPS];
	const int64_t base = 1601510400; /* 2020-10-01T00:00:00Z */

	if (size < 7)
		return;
	const enrp_tz *tz = zones[data[0] % 3];
	for (int r = 0; r < ENRP_KEEP_RULES; r++)
		p.keep[r] = data[1 + r] % 6;
	data += 7;
	size -= 7;
	size_t n = size / 4 > MAX_SNAPS ? MAX_SNAPS : size / 4;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = (uint32_t)data[4 * i] << 24 | (uint32_t)data[4 * i + 1] << 16 |
		             (uint32_t)data[4 * i + 2] << 8 | data[4 * i + 3];
		/* Mostly whole seconds, some with a fraction, ~4 years. */
		ts[i] = (base + x % 126230400) * NS + (x & 1 ? (int64_t)(x % 1000) * 1000000 : 0);
		rev[n - 1 - i] = ts[i];
	}
	FUZZ_CHECK(enrp_retention_select(&p, tz, ts, n, pick) == 0, "select failed");
	if (!enrp_retention_has_keep(&p)) {
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(pick[i].rule == ENRP_KEEP_LAST, "no rule must keep everything");
		return;
	}
	uint32_t count[ENRP_KEEP_RULES] = { 0 };
	uint64_t seen[ENRP_KEEP_RULES] = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (pick[i].rule == ENRP_KEEP_RULES) {
			FUZZ_CHECK(pick[i].number == 0 && !pick[i].oldest, "unkept with a number");
			continue;
		}
		int r = pick[i].rule;
		FUZZ_CHECK(r >= 0 && r < ENRP_KEEP_RULES, "bad rule %d", r);
		FUZZ_CHECK(pick[i].number >= 1 && pick[i].number <= p.keep[r],
		           "rule %d number %u of %u", r, pick[i].number, p.keep[r]);
		FUZZ_CHECK(!(seen[r] >> pick[i].number & 1), "rule %d number %u twice", r,
		           pick[i].number);
		seen[r] |= 1ull << pick[i].number;
		count[r]++;
	}
	for (int r = 0; r < ENRP_KEEP_RULES; r++)
		FUZZ_CHECK(seen[r] == (((1ull << count[r]) - 1) << 1), "rule %d numbers have gaps", r);
	if (n > 0)
		FUZZ_CHECK(count[0] + count[1] + count[2] + count[3] + count[4] + count[5] > 0,
		           "rules set, snapshots given, nothing kept");

	/* The input order does not matter, except which of two equal times is
	 * "later" (the higher index): skip inputs with equal times. */
	bool equal = false;
	for (size_t i = 0; i < n && !equal; i++)
		for (size_t j = i + 1; j < n && !equal; j++)
			equal = ts[i] == ts[j];
	if (!equal) {
		FUZZ_CHECK(enrp_retention_select(&p, tz, rev, n, rpick) == 0, "select failed");
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(memcmp(&pick[i], &rpick[n - 1 - i], sizeof(pick[i])) == 0,
			           "the order of the input changed the choice of snapshot %zu", i);
	}
	/* keep-last alone: the newest of each distinct second, N of them. */
	if (p.keep[ENRP_KEEP_LAST] && count[0] == (uint32_t)(count[0] + count[1] + count[2] +
	                                                       count[3] + count[4] + count[5]) &&
	    p.keep[1] + p.keep[2] + p.keep[3] + p.keep[4] + p.keep[5] == 0) {
		size_t distinct = 0;
		for (size_t i = 0; i < n; i++) {
			bool first = true;
			for (size_t j = 0; j < i; j++)
				if (ts[j] / NS == ts[i] / NS)
					first = false;
			distinct += first;
		}
		size_t want = distinct < p.keep[0] ? distinct : p.keep[0];
		/* borg's [oldest] may add the oldest snapshot when fewer seconds
		 * than N exist and it shares its second with a kept one. */
		FUZZ_CHECK(count[0] == want || (distinct < p.keep[0] && count[0] == want + 1),
		           "keep-last=%u kept %u of %zu distinct seconds", p.keep[0], count[0],
		           distinct);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	load_zones();
	unsigned sel = data[0] % 8;
	data++;
	size--;
	if (sel >= 4) {
		fuzz_select(data, size);
		return 0;
	}
	char *s = fuzz_text(data, size);
	if (sel == 0)
		fuzz_policy(s);
	else
		fuzz_date(s, zones[sel - 1]);
	free(s);
	return 0;
}
