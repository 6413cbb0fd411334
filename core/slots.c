/*
 * slots.c — the slots of a schedule over the calendar (slots.h gives the
 * reading of each rule, of clock changes and of windows).
 *
 * Each rule is walked on its own, in local dates: the candidate days (every
 * day, the named weekdays, or the first DAY of each month of its period)
 * are turned into moments with enrp_tz_from_civil, and the first candidate
 * at or after T (or the last before it) is that rule's answer.  The walk
 * starts a day (or a period) on the other side of T's local date, because
 * a clock change can put a candidate of the neighbouring local date on
 * either side of T.  A schedule's slot is then the earliest (latest) of its
 * rules' answers.  Every loop is bounded: a rule's candidates are at most
 * 7 days or one period apart.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <enrp/slots.h>

#define YEAR_MIN 1900
#define YEAR_MAX 9000
/* More than enough steps for any rule: a weekly rule with one day needs 9
 * day-steps, a yearly rule 2 year-steps. */
#define STEPS_MAX 40

/* 0 Monday .. 6 Sunday, as schedule.h's day bits. */
static int weekday(int64_t days)
{
	return (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
}

static int64_t moment(const enrp_tz *tz, int64_t days, const struct enrp_schedule_rule *r)
{
	int64_t y;
	int m, d;
	enrp_civil_from_days(days, &y, &m, &d);
	return enrp_tz_from_civil(tz, (int)y, m, d, r->hour, r->minute, 0);
}

static int first_day_bit(uint8_t days)
{
	for (int k = 0; k < 7; k++)
		if (days & (1u << k))
			return k;
	return 0;
}

static int months_per_period(enum enrp_schedule_period p)
{
	return p == ENRP_SCHED_MONTHLY ? 1 : p == ENRP_SCHED_QUARTERLY ? 3 : 12;
}

/* The candidate of month index MI (year * 12 + month - 1): the first
 * weekday of the rule in that month. */
static int64_t month_candidate(const enrp_tz *tz, int64_t mi, const struct enrp_schedule_rule *r)
{
	int64_t first = enrp_days_from_civil(mi / 12, (int)(mi % 12) + 1, 1);
	int64_t day = first + (first_day_bit(r->days) - weekday(first) + 7) % 7;
	return moment(tz, day, r);
}

static bool day_matches(const struct enrp_schedule_rule *r, int64_t days)
{
	return r->period == ENRP_SCHED_DAILY || (r->days & (1u << weekday(days)));
}

/* The rule's first moment at or after T (DIR > 0) or last before T
 * (DIR < 0).  INT64_MIN when the walk finds none (a weekly rule with no
 * day, which the parser never makes). */
static int64_t rule_walk(const struct enrp_schedule_rule *r, const enrp_tz *tz, int64_t t, int dir)
{
	struct enrp_civil c;
	enrp_tz_civil(tz, t, &c);
	if (r->period == ENRP_SCHED_DAILY || r->period == ENRP_SCHED_WEEKLY) {
		int64_t d = enrp_days_from_civil(c.year, c.month, c.day) - dir;
		for (int i = 0; i < STEPS_MAX; i++, d += dir) {
			if (!day_matches(r, d))
				continue;
			int64_t x = moment(tz, d, r);
			if (dir > 0 ? x >= t : x < t)
				return x;
		}
		return INT64_MIN;
	}
	int step = months_per_period(r->period);
	int64_t mi = (int64_t)c.year * 12 + c.month - 1;
	mi = mi / step * step - dir * step; /* the period's first month, one period back */
	for (int i = 0; i < STEPS_MAX; i++, mi += dir * step) {
		int64_t x = month_candidate(tz, mi, r);
		if (dir > 0 ? x >= t : x < t)
			return x;
	}
	return INT64_MIN;
}

static int check(const struct enrp_schedule *s, const enrp_tz *tz, int64_t window, int64_t t)
{
	if (s->n == 0)
		return -ENOENT;
	if (window < 0 || window > ENRP_SLOT_WINDOW_MAX)
		return -EINVAL;
	/* Far outside any year a backup is planned in, civil arithmetic would
	 * only need to stay exact: refuse instead of proving it. */
	if (t < -2208988800LL || t > 221845392000LL) /* 1900-01-01 .. 9000-01-01 */
		return -EINVAL;
	(void)tz;
	return 0;
}

/* The slot starting at START (a moment some rule gives): merges the rules
 * that give it, finds the next slot and the window. */
static void fill(const struct enrp_schedule *s, const enrp_tz *tz, int64_t window, int64_t start,
                 struct enrp_slot *out)
{
	static const int rank[] = { [ENRP_BACKUP_INCREMENTAL] = 0, [ENRP_BACKUP_DIFFERENTIAL] = 1,
	                            [ENRP_BACKUP_FULL] = 2 };
	int64_t next = INT64_MAX;
	bool found = false;

	out->start = start;
	for (unsigned i = 0; i < s->n; i++) {
		const struct enrp_schedule_rule *r = &s->rule[i];
		if (rule_walk(r, tz, start, +1) == start) {
			if (!found || rank[r->type] > rank[out->type])
				out->type = r->type;
			if (!found)
				out->rule = i;
			found = true;
		}
		int64_t x = rule_walk(r, tz, start + 1, +1);
		if (x != INT64_MIN && x < next)
			next = x;
	}
	out->next_start = next;
	out->window_end = window && window < next - start ? start + window : next;
}

int enrp_slot_next(const struct enrp_schedule *s, const enrp_tz *tz, int64_t window, int64_t t,
                   struct enrp_slot *out)
{
	int rc = check(s, tz, window, t);
	if (rc)
		return rc;
	int64_t best = INT64_MAX;
	for (unsigned i = 0; i < s->n; i++) {
		int64_t x = rule_walk(&s->rule[i], tz, t, +1);
		if (x != INT64_MIN && x < best)
			best = x;
	}
	if (best == INT64_MAX)
		return -ENOENT;
	fill(s, tz, window, best, out);
	return 0;
}

int enrp_slot_prev(const struct enrp_schedule *s, const enrp_tz *tz, int64_t window, int64_t t,
                   struct enrp_slot *out)
{
	int rc = check(s, tz, window, t);
	if (rc)
		return rc;
	int64_t best = INT64_MIN;
	for (unsigned i = 0; i < s->n; i++) {
		int64_t x = rule_walk(&s->rule[i], tz, t, -1);
		if (x > best)
			best = x;
	}
	if (best == INT64_MIN)
		return -ENOENT;
	fill(s, tz, window, best, out);
	return 0;
}
