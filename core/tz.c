/*
 * tz.c — time zones from TZif files (RFC 8536), read without libc's
 * localtime machinery.
 *
 * Why not setenv("TZ") + tzset + localtime_r: TZ is process-wide, so the
 * daemon's other threads (and every log line's timestamp) would see the zone
 * change under them, and tzset itself is not safe to race with localtime_r.
 * A TZif file is a sorted table of transition moments, each naming a local
 * time type (an offset from UTC), which is all the retention rules and the
 * date parser need: a binary search per conversion, no global state.
 *
 * What is read: the 64-bit (version 2+) body when present, else the 32-bit
 * one.  The footer's POSIX TZ rule for moments after the last transition is
 * not interpreted; Debian builds its files "fat", with explicit transitions
 * up to 2037, and after that the last transition's offset is kept (standard
 * time for zones that still observe summer time).  Files with leap seconds
 * are refused: every time in enrp is POSIX time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <enrp/tz.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"
/* The largest TZif file in tzdata is under 10 KiB. */
#define TZIF_SIZE_MAX (256 * 1024)
#define TZIF_HEADER_LEN 44
/* No zone has ever been more than a day away from UTC. */
#define OFFSET_LIMIT (26 * 3600)

struct enrp_tz {
	char name[ENRP_TZ_NAME_MAX + 1];
	size_t ntrans;
	int64_t *trans_at;       /* ascending moments of the transitions */
	int32_t *trans_offset;   /* offset in force from trans_at[i] on */
	int32_t initial_offset;  /* before the first transition (type 0) */
};

int64_t enrp_days_from_civil(int64_t year, int month, int day)
{
	/* Days from 0000-03-01 in 400-year eras, as in H. Hinnant's
	 * "chrono-compatible low-level date algorithms". */
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void enrp_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*month <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool name_valid(const char *name)
{
	size_t n = strlen(name);
	const char *part = name;

	if (n == 0 || n > ENRP_TZ_NAME_MAX)
		return false;
	for (const char *p = name;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - part);
			/* No empty part (no leading '/'), no "." or "..". */
			if (len == 0 || (len == 1 && part[0] == '.') ||
			    (len == 2 && part[0] == '.' && part[1] == '.'))
				return false;
			if (*p == '\0')
				return true;
			part = p + 1;
			continue;
		}
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '+' || c == '.'))
			return false;
	}
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t get_time(const uint8_t *p, size_t size)
{
	if (size == 4)
		return (int32_t)get32(p);
	return (int64_t)((uint64_t)get32(p) << 32 | get32(p + 4));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static bool header(const uint8_t *p, size_t len, struct tzif_counts *c)
{
	if (len < TZIF_HEADER_LEN || memcmp(p, "TZif", 4) != 0)
		return false;
	c->isut = get32(p + 20);
	c->isstd = get32(p + 24);
	c->leap = get32(p + 28);
	c->time = get32(p + 32);
	c->type = get32(p + 36);
	c->chars = get32(p + 40);
	/* Bounded by the file size, so the products below cannot overflow. */
	return c->time <= TZIF_SIZE_MAX && c->type <= 256 && c->chars <= TZIF_SIZE_MAX &&
	       c->leap <= TZIF_SIZE_MAX && c->isut <= 256 && c->isstd <= 256;
}

static size_t body_len(const struct tzif_counts *c, size_t tsize)
{
	return c->time * tsize + c->time + c->type * 6 + c->chars + c->leap * (tsize + 4) +
	       c->isstd + c->isut;
}

/* Fills TZ from the TZif image P[LEN].  -EINVAL when it is not one. */
static int tzif_parse(enrp_tz *tz, const uint8_t *p, size_t len)
{
	struct tzif_counts c;
	size_t tsize = 4;

	if (!header(p, len, &c))
		return -EINVAL;
	if (p[4] >= '2') {
		/* Skip the 32-bit body to the 64-bit header and body. */
		size_t skip = TZIF_HEADER_LEN + body_len(&c, 4);
		if (skip > len)
			return -EINVAL;
		p += skip;
		len -= skip;
		if (!header(p, len, &c))
			return -EINVAL;
		tsize = 8;
	}
	if (c.type == 0 || c.leap != 0 || TZIF_HEADER_LEN + body_len(&c, tsize) > len)
		return -EINVAL;

	const uint8_t *times = p + TZIF_HEADER_LEN;
	const uint8_t *idx = times + c.time * tsize;
	const uint8_t *types = idx + c.time;
	int32_t offsets[256];
	for (uint32_t i = 0; i < c.type; i++) {
		int32_t off = (int32_t)get32(types + 6 * i);
		if (off <= -OFFSET_LIMIT || off >= OFFSET_LIMIT)
			return -EINVAL;
		offsets[i] = off;
	}
	tz->initial_offset = offsets[0];
	tz->ntrans = c.time;
	if (c.time == 0)
		return 0;
	tz->trans_at = malloc(c.time * sizeof(*tz->trans_at));
	tz->trans_offset = malloc(c.time * sizeof(*tz->trans_offset));
	if (!tz->trans_at || !tz->trans_offset)
		return -ENOMEM;
	for (uint32_t i = 0; i < c.time; i++) {
		tz->trans_at[i] = get_time(times + i * tsize, tsize);
		if (idx[i] >= c.type || (i > 0 && tz->trans_at[i] <= tz->trans_at[i - 1]))
			return -EINVAL;
		tz->trans_offset[i] = offsets[idx[i]];
	}
	return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	uint8_t *buf = malloc(TZIF_SIZE_MAX);
	size_t n = 0;
	int rc = buf ? 0 : -ENOMEM;
	while (rc == 0 && n < TZIF_SIZE_MAX) {
		ssize_t r = read(fd, buf + n, TZIF_SIZE_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = errno == EISDIR ? -ENOENT : -errno;
		else if (r == 0)
			break;
		else
			n += (size_t)r;
	}
	close(fd);
	if (rc == 0 && n == TZIF_SIZE_MAX)
		rc = -EINVAL;
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

int enrp_tz_open(const char *name, enrp_tz **out)
{
	char path[sizeof(ZONEINFO_DIR) + ENRP_TZ_NAME_MAX + 1];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (!name || !name_valid(name))
		return -EINVAL;
	enrp_tz *tz = calloc(1, sizeof(*tz));
	if (!tz)
		return -ENOMEM;
	strcpy(tz->name, name);
	if (strcmp(name, "UTC") == 0) {
		*out = tz;
		return 0;
	}
	strcpy(path, ZONEINFO_DIR "/");
	strcat(path, name);
	rc = read_file(path, &buf, &len);
	if (rc == 0)
		rc = tzif_parse(tz, buf, len);
	free(buf);
	if (rc) {
		enrp_tz_free(tz);
		return rc;
	}
	*out = tz;
	return 0;
}

void enrp_tz_free(enrp_tz *tz)
{
	if (!tz)
		return;
	free(tz->trans_at);
	free(tz->trans_offset);
	free(tz);
}

const char *enrp_tz_name(const enrp_tz *tz)
{
	return tz->name;
}

int32_t enrp_tz_offset(const enrp_tz *tz, int64_t t)
{
	if (tz->ntrans == 0 || t < tz->trans_at[0])
		return tz->initial_offset;
	/* The last transition at or before T. */
	size_t lo = 0, hi = tz->ntrans;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->trans_at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->trans_offset[lo];
}

void enrp_tz_civil(const enrp_tz *tz, int64_t t, struct enrp_civil *out)
{
	int32_t off = enrp_tz_offset(tz, t);
	int64_t local = t + off;
	int64_t days = floor_div(local, 86400);
	int64_t secs = local - days * 86400;
	int64_t year;

	enrp_civil_from_days(days, &year, &out->month, &out->day);
	out->year = (int)year;
	out->hour = (int)(secs / 3600);
	out->minute = (int)(secs / 60 % 60);
	out->second = (int)(secs % 60);
	/* 1970-01-01 was a Thursday (ISO day 4). */
	out->iso_wday = (int)((days % 7 + 7 + 3) % 7) + 1;
	/* An ISO week belongs to the year of its Thursday. */
	int64_t thursday = days - out->iso_wday + 4;
	int64_t ty;
	int tm, td;
	enrp_civil_from_days(thursday, &ty, &tm, &td);
	out->iso_year = (int)ty;
	out->iso_week = (int)((thursday - enrp_days_from_civil(ty, 1, 1)) / 7 + 1);
	out->utc_offset = off;
}

int64_t enrp_tz_from_civil(const enrp_tz *tz, int year, int month, int day, int hour,
                           int minute, int second)
{
	int64_t local = enrp_days_from_civil(year, month, day) * 86400 + hour * 3600 +
	                minute * 60 + second;
	/* A day either side is further than any transition's jump, so the two
	 * offsets around LOCAL are these two. */
	int32_t before = enrp_tz_offset(tz, local - 86400 - OFFSET_LIMIT);
	int32_t after = enrp_tz_offset(tz, local + 86400 + OFFSET_LIMIT);
	int64_t t_before = local - before, t_after = local - after;
	bool ok_before = enrp_tz_offset(tz, t_before) == before;
	bool ok_after = enrp_tz_offset(tz, t_after) == after;

	if (ok_before && ok_after)
		return t_before < t_after ? t_before : t_after;
	if (ok_after)
		return t_after;
	/* Valid with the old offset, or in a gap: the old offset either way. */
	return t_before;
}
