/*
 * fuzz_schedule.c — the schedule parser (core/schedule.c) and the slots it
 * gives over the calendar (core/slots.c).
 *
 * Input: one selector byte, then the schedule's text.  SEL % 4 (the digits
 * '0'..'3' select, so seeds are plain text):
 *
 *   0    enrp_schedule_parse.  Accepted: the canonical text parses back to
 *        the same rules and prints the same; every rule's hour, minute,
 *        type and day bits are in range (weekly: some day; first-DAY: one
 *        day; daily: none).  Refused: -EINVAL with a message "rule N: ..."
 *        whose N is at most the number of ';' plus one.
 *   1-3  an accepted schedule walked for 24 slots in UTC (1), Europe/Berlin
 *        (2) or Asia/Kathmandu (3), from an instant between 1990 and 2100
 *        and with a window of 0, 6 h or 48 h, both taken from a hash of the
 *        text: starts strictly increase from the instant on, each slot's
 *        next_start is the following slot's start, its window ends inside
 *        (start, next_start], enrp_slot_prev from a slot's next start gives
 *        it back; its local time and day are those of a rule giving it, and
 *        its type the largest of theirs.  In UTC, an independent count of
 *        the rules' moments day by day finds exactly the slots walked.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/schedule.h>
#include <enrp/slots.h>
#include <enrp/tz.h>

#include "fuzz_common.h"

#define WALK 24

static void parse_checks(const char *text, int rc, const struct enrp_schedule *a, const char *err)
{
	char c1[ENRP_SCHEDULE_TEXT_MAX], c2[ENRP_SCHEDULE_TEXT_MAX], err2[ENRP_SCHEDULE_ERR_MAX];
	struct enrp_schedule b;

	if (rc) {
		unsigned no = 0, semis = 0;
		for (const char *p = text; *p; p++)
			semis += *p == ';';
		FUZZ_CHECK(rc == -EINVAL && sscanf(err, "rule %u: ", &no) == 1 && no >= 1 &&
		           no <= semis + 1,
		           "rc %d err '%s'", rc, err);
		return;
	}
	FUZZ_CHECK(a->n <= ENRP_SCHEDULE_RULES_MAX, "%u rules", a->n);
	for (unsigned i = 0; i < a->n; i++) {
		const struct enrp_schedule_rule *r = &a->rule[i];
		FUZZ_CHECK(r->hour < 24 && r->minute < 60 && (unsigned)r->type <= ENRP_BACKUP_DIFFERENTIAL &&
		           (unsigned)r->period <= ENRP_SCHED_YEARLY && r->days < 128, "rule %u out of range", i);
		if (r->period == ENRP_SCHED_DAILY)
			FUZZ_CHECK(r->days == 0, "daily with days");
		else if (r->period == ENRP_SCHED_WEEKLY)
			FUZZ_CHECK(r->days != 0, "weekly without days");
		else
			FUZZ_CHECK(r->days && !(r->days & (r->days - 1)), "first-DAY not one day");
	}
	enrp_schedule_format(a, c1, sizeof(c1));
	FUZZ_CHECK(enrp_schedule_parse(c1, &b, err2, sizeof(err2)) == 0, "canonical '%s' refused: %s",
	           c1, err2);
	FUZZ_CHECK(a->n == b.n && memcmp(a->rule, b.rule, a->n * sizeof(a->rule[0])) == 0,
	           "'%s' reads back differently", c1);
	enrp_schedule_format(&b, c2, sizeof(c2));
	FUZZ_CHECK(strcmp(c1, c2) == 0, "'%s' prints as '%s'", c1, c2);
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static int weekday(int64_t days)
{
	return (int)(((days + 3) % 7 + 7) % 7);
}

/* Whether rule R fires on local date Y-M-D (days since the epoch DAYS). */
static bool rule_day(const struct enrp_schedule_rule *r, int64_t days, int m, int d)
{
	switch (r->period) {
	case ENRP_SCHED_DAILY:
		return true;
	case ENRP_SCHED_WEEKLY:
		return r->days & (1u << weekday(days));
	case ENRP_SCHED_MONTHLY:
		return d <= 7 && (r->days & (1u << weekday(days)));
	case ENRP_SCHED_QUARTERLY:
		return d <= 7 && (m - 1) % 3 == 0 && (r->days & (1u << weekday(days)));
	case ENRP_SCHED_YEARLY:
		return d <= 7 && m == 1 && (r->days & (1u << weekday(days)));
	}
	return false;
}

static int type_rank(enum enrp_backup_type t)
{
	return t == ENRP_BACKUP_FULL ? 2 : t == ENRP_BACKUP_DIFFERENTIAL ? 1 : 0;
}

static void walk(const struct enrp_schedule *s, const char *text, int zone_sel)
{
	static const char *const zones[] = { "UTC", "Europe/Berlin", "Asia/Kathmandu" };
	enrp_tz *tz = NULL;
	if (enrp_tz_open(zones[zone_sel], &tz) != 0)
		return; /* a host without the zone: nothing to check */
	uint64_t h = fnv(text);
	/* 1990-01-01 .. 2100-01-01 */
	int64_t t = 631152000 + (int64_t)(h % (110ull * 365 * 86400));
	static const int64_t windows[] = { 0, 6 * 3600, 48 * 3600 };
	int64_t window = windows[(h >> 40) % 3];
	struct enrp_slot sl[WALK], p;
	int64_t at = t;

	for (int i = 0; i < WALK; i++) {
		FUZZ_CHECK(enrp_slot_next(s, tz, window, at, &sl[i]) == 0, "slot %d refused", i);
		const struct enrp_slot *x = &sl[i];
		FUZZ_CHECK(x->start >= at && (i == 0 || x->start == sl[i - 1].next_start),
		           "slot %d at %lld not after %lld", i, (long long)x->start, (long long)at);
		FUZZ_CHECK(x->next_start > x->start && x->window_end > x->start &&
		           x->window_end <= x->next_start &&
		           (window == 0 || x->window_end == x->start + window ||
		            x->window_end == x->next_start), "slot %d window", i);
		FUZZ_CHECK(enrp_slot_prev(s, tz, window, x->next_start, &p) == 0 && p.start == x->start &&
		           p.next_start == x->next_start && p.type == x->type && p.rule == x->rule,
		           "prev of slot %d's next start is not it", i);
		/* Its local time: a rule's, unless a clock change is near (a
		 * skipped time moves by the gap). */
		struct enrp_civil c;
		enrp_tz_civil(tz, x->start, &c);
		bool steady = enrp_tz_offset(tz, x->start - 4 * 3600) == enrp_tz_offset(tz, x->start + 4 * 3600);
		int64_t days = enrp_days_from_civil(c.year, c.month, c.day);
		int best = -1;
		unsigned first = ENRP_SCHEDULE_RULES_MAX;
		for (unsigned k = 0; k < s->n; k++) {
			const struct enrp_schedule_rule *r = &s->rule[k];
			if (r->hour == c.hour && r->minute == c.minute && c.second == 0 &&
			    rule_day(r, days, c.month, c.day)) {
				if (type_rank(r->type) > best)
					best = type_rank(r->type);
				if (k < first)
					first = k;
			}
		}
		if (steady) {
			FUZZ_CHECK(best >= 0, "slot %d (%04d-%02d-%02d %02d:%02d) is no rule's", i, c.year,
			           c.month, c.day, c.hour, c.minute);
			FUZZ_CHECK(type_rank(x->type) == best && x->rule == first, "slot %d type/rule", i);
		}
		at = x->next_start;
	}
	if (zone_sel == 0) {
		/* UTC: count the rules' moments in [t, last start] day by day. */
		int64_t last = sl[WALK - 1].start, n = 0;
		for (int64_t d = t / 86400 - 1; d <= last / 86400 + 1; d++) {
			int64_t y;
			int m, dd;
			enrp_civil_from_days(d, &y, &m, &dd);
			int64_t seen[ENRP_SCHEDULE_RULES_MAX];
			int nseen = 0;
			for (unsigned k = 0; k < s->n; k++) {
				const struct enrp_schedule_rule *r = &s->rule[k];
				int64_t x = d * 86400 + r->hour * 3600 + r->minute * 60;
				if (!rule_day(r, d, m, dd) || x < t || x > last)
					continue;
				bool dup = false;
				for (int q = 0; q < nseen; q++)
					dup |= seen[q] == x;
				if (!dup)
					seen[nseen++] = x;
			}
			n += nseen;
		}
		FUZZ_CHECK(n == WALK, "UTC: %lld moments of the rules, %d slots walked", (long long)n, WALK);
	}
	enrp_tz_free(tz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ENRP_SCHEDULE_ERR_MAX];
	struct enrp_schedule s;

	if (size < 1)
		return 0;
	char *text = fuzz_text(data + 1, size - 1);
	int rc = enrp_schedule_parse(text, &s, err, sizeof(err));
	if (data[0] % 4 == 0)
		parse_checks(text, rc, &s, err);
	else if (rc == 0 && s.n > 0)
		walk(&s, text, data[0] % 4 - 1);
	free(text);
	return 0;
}
