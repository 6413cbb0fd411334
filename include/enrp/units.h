/*
 * units.h — parsing and printing of sizes, durations and times, shared by
 * enrpctl and the tests so every command accepts the same spellings.
 */
#ifndef ENRP_UNITS_H
#define ENRP_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/tz.h>

/* "0", "1024", "512K", "50G", "1.5T", "2TiB", "none" (= 0, unlimited).
 * Suffixes K M G T P (powers of 1024), optional "i" and "B".  -EINVAL for
 * anything else, -ERANGE past 2^63. */
int enrp_size_parse(const char *s, uint64_t *out);

/* "1.5G" style, at most BUFSZ bytes; "0" for zero. */
void enrp_size_format(uint64_t bytes, char *buf, size_t bufsz);

/* "90s", "30m", "2h", "7d", "1w", or a combination "1h30m".  Result in ns.
 * -EINVAL for empty, zero-length units or junk, -ERANGE on overflow. */
int enrp_duration_parse(const char *s, int64_t *out_ns);

/* "2026-11-21", "2026-11-21T10:00", "2026-11-21T10:00:00Z" (UTC), "now",
 * or "-7d"/"+7d" style relative to NOW.  -EINVAL otherwise, -ERANGE outside
 * what int64 ns can hold (1677..2262). */
int enrp_time_parse(const char *s, int64_t now_ns, int64_t *out_ns);

/* A date an operator gives (hold --until, restore-test plan --date):
 * "2031-01-01" (00:00 that day in zone TZ, the platform's),
 * "2031-01-01T10:00" or "2031-01-01 10:00:30" (that time in TZ), either
 * followed by "Z" (UTC) or "+05:00"/"-03:30" (that offset from UTC).
 * Result in ns since the epoch.  -EINVAL with ERR (ERRSZ bytes, may be
 * NULL) saying what is wrong; -ERANGE outside 1970..2261.  A local time
 * that the clocks skip or repeat is read as enrp_tz_from_civil says. */
int enrp_date_parse(const char *s, const enrp_tz *tz, int64_t *out_ns, char *err, size_t errsz);

/* "2026-11-21T10:00:00Z" (UTC, seconds). */
void enrp_time_format(int64_t ns, char *buf, size_t bufsz);

#endif
