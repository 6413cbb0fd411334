/*
 * transfer.h — transfers checked against an EIR's schedule: which slots
 * (slots.h) were met, late or missed, the per-EIR window, and the daemon's
 * once-per-slot "transfer-missed" and "transfer-late" records.
 *
 * Definitions (enrpctl(8) SCHEDULES says the same to users).  A transfer
 * is a file of the EIR verified (sealed: the "verified" journal record), at
 * the platform clock's time of its seal.  For a slot S with window
 * [S.start, S.window_end) and the next slot at S.next_start, as of NOW:
 *   met      a transfer in [S.start, S.window_end)
 *   pending  not met, and its window has not closed (S.window_end > NOW),
 *            including slots still to come
 *   late     not met, window closed, and a transfer in
 *            [S.window_end, S.next_start): the first after the window
 *            counts for S, late
 *   missed   not met, window closed, and no transfer in
 *            [S.window_end, min(S.next_start, NOW)): it may still turn late
 *            until the next slot starts.  With the default window (until the
 *            next slot) a slot is met or missed, never late.
 * A transfer counts for at most one slot's window (slots.h), and may be the
 * late arrival of the slot before.
 *
 * Which slots: those of the schedule in the EIR's form, in the platform's
 * zone (calendar.h), starting at or after the moment the schedule was last
 * set (or the EIR created): slots before a schedule existed are not owed.
 * A past period is read with the current schedule.
 *
 * Seal times are kept per EIR at minute precision (one key per minute in
 * which any of its files was verified), written in the seal's own
 * transaction: a nightly transfer of thousands of files adds one key per
 * minute it lasts, and each slot costs one B-tree seek, whatever the
 * history.  Slot starts and windows are whole minutes in every zone in use
 * today, so the minutes answer "a transfer in [a, b)" exactly.
 *
 * Times are seconds since the epoch (UTC) unless named _ns.
 */
#ifndef ENRP_TRANSFER_H
#define ENRP_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/journal.h>
#include <enrp/schedule.h>
#include <enrp/slots.h>
#include <enrp/store.h>
#include <enrp/tz.h>

/* The most slots enrp_transfer_slots lists at once (over 27 years of a
 * daily schedule). */
#define ENRP_TRANSFER_SLOTS_MAX 10000
/* After downtime, the daemon journals each missed slot whose window closed
 * within the last ENRP_TRANSFER_CATCHUP seconds (31 days) on its own; the
 * missed slots before that are journalled as one record (slots=N
 * first=... last=...), so a store left unmounted for years does not write
 * thousands of records at its first mount. */
#define ENRP_TRANSFER_CATCHUP (31LL * 86400)
/* "6h": the longest window text enrp_transfer_window_format writes. */
#define ENRP_TRANSFER_WINDOW_TEXT 24

enum enrp_slot_status {
	ENRP_SLOT_MET,
	ENRP_SLOT_LATE,
	ENRP_SLOT_MISSED,
	ENRP_SLOT_PENDING,
};

/* "met", "late", "missed", "pending". */
const char *enrp_slot_status_name(enum enrp_slot_status s);

/* What an EIR is expected to send. */
struct enrp_transfer_plan {
	struct enrp_schedule schedule; /* n == 0: no schedule */
	int64_t window;                /* seconds; 0: until the next slot */
	int64_t since;                 /* slots start at or after this */
};

/* The plan of EIR NAME.  -ENOENT no such EIR, -EIO. */
int enrp_transfer_plan_get(enrp_store *st, const char *name, struct enrp_transfer_plan *out);

/* A window as users write it: a duration of whole minutes ("90m", "6h",
 * "1d12h") up to ENRP_SLOT_WINDOW_MAX, or "next" (or "0"): until the next
 * slot.  -EINVAL otherwise. */
int enrp_transfer_window_parse(const char *s, int64_t *out);
/* "next", or the largest units that divide it: "6h", "1d12h", "90m" ->
 * "1h30m". */
void enrp_transfer_window_format(int64_t window, char *buf, size_t bufsz);

/* Sets EIR NAME's window (seconds, as parsed above) and journals
 * "schedule-window from=OLD to=NEW".  -EALREADY it is that already
 * (nothing journalled), -EINVAL a bad value or a destroyed EIR, -EROFS a
 * retired one, -ENOENT. */
int enrp_transfer_window_set(enrp_store *st, const char *name, int64_t window,
                             const struct enrp_actor *actor);

struct enrp_slot_report {
	struct enrp_slot slot;
	enum enrp_slot_status status;
	int64_t verified; /* met: the first transfer in the window; late: the
	                     first after it (to the minute); otherwise 0 */
};

/* The slots of EIR NAME starting in [FROM, TO) (and not before the plan's
 * since), in zone TZ, classified as of NOW, in a new array of *N entries
 * (NULL when 0) that the caller frees with free().  -ENOENT no such EIR,
 * -E2BIG more than ENRP_TRANSFER_SLOTS_MAX slots, -EINVAL FROM/TO out of
 * slots.h's range, -ENOMEM, -EIO.  No schedule: 0 slots. */
int enrp_transfer_slots(enrp_store *st, const char *name, const enrp_tz *tz, int64_t from,
                        int64_t to, int64_t now, struct enrp_slot_report **out, size_t *n);

/* The daemon's check, as of the platform time NOW_NS, in zone TZ: for every
 * EIR with a schedule that is not retired or destroyed, journals
 * "transfer-missed" once for each slot whose window has closed with no
 * transfer, and "transfer-late" once when the late arrival of a slot
 * journalled missed comes, each in the transaction that moves the EIR's
 * durable mark past the slot, so that a crash or restart never journals a
 * slot twice and never skips one.  *JOURNALLED (may be NULL) receives how
 * many records were written.  One transaction per EIR; an EIR whose check
 * fails is left as it was and the others are still checked; the first
 * error is returned (-EIO, -ENOSPC, -ENOMEM). */
int enrp_transfer_check(enrp_store *st, const enrp_tz *tz, int64_t now_ns,
                        const struct enrp_actor *actor, unsigned *journalled);

#endif
