/*
 * slots.h — the slots a schedule (schedule.h) gives over the calendar: the
 * moments a transfer is expected, each with the window inside which a
 * verified file counts for it.
 *
 * Reading of the rules, in the platform's zone TZ:
 *   daily HH:MM        every day at HH:MM
 *   weekly DAYS HH:MM  each named weekday at HH:MM
 *   monthly first-DAY  the first DAY of every month (day 1..7 of it)
 *   quarterly first-DAY the first DAY of January, April, July and October
 *   yearly first-DAY   the first DAY of January
 * A local time the clocks skip (spring forward) or repeat (fall back) is
 * read as enrp_tz_from_civil does, which is Python's zoneinfo with fold=0
 * and mktime's reading: a repeated time is its earlier moment, a skipped
 * one is read with the offset before the gap (02:30 in a 02:00->03:00 gap
 * is 03:30 of the new offset).  Deterministic either way.
 *
 * Slots of several rules that fall on the same moment are one slot: a
 * transfer cannot say which rule it answers.  Its type is the largest of
 * theirs (full > differential > incremental) and its rule the first of them.
 *
 * Window: [start, window_end) where window_end = start + WINDOW, but never
 * past the next slot's start; WINDOW 0 means "until the next slot".  So a
 * verification counts for at most one slot: the latest one that started at
 * or before it, if that slot's window is still open.
 *
 * Times are seconds since the epoch (UTC).  Pure functions: thread-safe, no
 * allocation, no clock.
 */
#ifndef ENRP_SLOTS_H
#define ENRP_SLOTS_H

#include <stdint.h>

#include <enrp/schedule.h>
#include <enrp/tz.h>

/* The longest window accepted (a year): a longer one is not a schedule. */
#define ENRP_SLOT_WINDOW_MAX (366LL * 86400)

struct enrp_slot {
	int64_t start;       /* seconds since the epoch */
	int64_t window_end;  /* end of its window (exclusive) */
	int64_t next_start;  /* start of the slot after it */
	unsigned rule;       /* index of the (first) rule giving it */
	enum enrp_backup_type type;
};

/* The first slot of S starting at or after T (seconds), with window WINDOW
 * seconds (0: until the next slot).  -ENOENT: S has no rules; -EINVAL:
 * WINDOW negative or above ENRP_SLOT_WINDOW_MAX, or T outside years
 * 1900..9000. */
int enrp_slot_next(const struct enrp_schedule *s, const enrp_tz *tz, int64_t window, int64_t t,
                   struct enrp_slot *out);

/* The last slot of S starting before T.  Errors as enrp_slot_next. */
int enrp_slot_prev(const struct enrp_schedule *s, const enrp_tz *tz, int64_t window, int64_t t,
                   struct enrp_slot *out);

#endif
