/*
 * clock.h — the platform's clock: the time retention, holds and trash
 * count by (DESIGN §6).
 *
 * It is the host's CLOCK_REALTIME, but never earlier than a floor kept in
 * the store: a host clock set backwards (by hand, by a bad NTP server, by a
 * dead RTC battery at boot) leaves the platform's time standing at the
 * floor until the host clock passes it again, so nothing expires early.
 * The floor follows the real clock durably, at most once per
 * ENRP_CLOCK_FLOOR_STEP_NS, so it lags by at most that much plus what a
 * crash loses.  A clock set forwards does not move the floor back: the
 * floor then stays at the future time (a warning is logged when the floor
 * is ahead of the host clock by more than a step); enrpfs journals every
 * jump of the clock as it happens (enrp_clock_jump_check).
 */
#ifndef ENRP_CLOCK_H
#define ENRP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/policy.h>
#include <enrp/store.h>

#define ENRP_CLOCK_FLOOR_STEP_NS (60 * 1000000000LL)

/* Now, in ns since the epoch: max(CLOCK_REALTIME, the store's floor).
 * Raises the floor when the real clock is a step or more past it (a write
 * transaction; skipped for a store opened read-only).  -EIO when the floor
 * cannot be read; a failure to raise it is only logged.  Thread-safe. */
int enrp_platform_now(enrp_store *st, int64_t *now_ns);

/* The floor as stored (0 when none has been written yet).  -EIO. */
int enrp_clock_floor(enrp_store *st, int64_t *floor_ns);

/* Whether the kernel's clock is disciplined (NTP, chrony, PTP), as
 * adjtimex(2) reports it with modes 0 (read only, no privilege needed). */
struct enrp_clock_sync {
	bool synchronised;    /* not STA_UNSYNC and the state is not TIME_ERROR */
	int state;            /* adjtimex's return: TIME_OK (0) .. TIME_ERROR (5) */
	const char *state_name; /* "ok", "insert", "delete", "leap", "wait", "error" */
	int status;           /* the STA_* bits */
	int64_t offset_ns;    /* the discipline's current offset */
	int64_t maxerror_us;  /* maximum error the kernel estimates (16 s when
	                         nothing disciplines the clock) */
	int64_t esterror_us;  /* estimated error */
};

/* Reads the kernel's clock state.  0, or -errno of adjtimex. */
int enrp_clock_sync(struct enrp_clock_sync *out);

/* A jump of the wall clock: how far CLOCK_REALTIME moved away from what
 * CLOCK_MONOTONIC predicted since the last look. */
#define ENRP_CLOCK_JUMP_NS (5 * 1000000000LL)

struct enrp_clock_watch {
	int64_t wall_ns, mono_ns;   /* the last look (0: none yet) */
};

/* Looks at both clocks; when the wall clock moved more than
 * ENRP_CLOCK_JUMP_NS away from what the monotonic clock predicts, returns 1
 * with *FROM_NS the wall time predicted and *TO_NS the wall time now (their
 * difference is the jump; either sign), else 0.  Remembers this look. */
int enrp_clock_jump_check(struct enrp_clock_watch *w, int64_t *from_ns, int64_t *to_ns);

/* Journals "clock-jump" (as ACTOR) for a wall clock CLOCK_REALTIME that
 * moved from FROM_NS to TO_NS against what a steady clock predicted:
 * details from, to (RFC 3339 UTC), delta_ns (signed), direction
 * (forward|backward), seen_by (SEEN_BY: "monotonic" from a daemon's
 * watch, "floor" when the wall clock is behind the store's floor).
 * -EROFS, -ENOSPC, -EIO. */
int enrp_clock_jump_journal(enrp_store *st, const struct enrp_actor *actor, int64_t from_ns,
                            int64_t to_ns, const char *seen_by);

/* For a process that does not watch the clock (enrpctl): when the wall
 * clock is more than ENRP_CLOCK_JUMP_NS behind the store's floor, it was
 * set backwards since the floor was last raised; journals that once per
 * floor value (a "clock-jump" seen_by=floor from the floor to the wall
 * clock) and returns 1; 0 when there is nothing (new) to journal.
 * -EROFS for a read-only store, -EIO. */
int enrp_clock_floor_check(enrp_store *st, const struct enrp_actor *actor);

#ifdef ENRP_INTERNAL
/* Replaces CLOCK_REALTIME in enrp_platform_now with NS (0: the real clock
 * again), for tests that set the host clock backwards. */
void enrp_clock_test_set_wall(int64_t ns);
#endif

#endif
