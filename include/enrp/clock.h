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
 * crash loses.  A clock set forwards is not detected: the floor then stays
 * at the future time (a warning is logged when the floor is ahead of the
 * host clock by more than a step).
 */
#ifndef ENRP_CLOCK_H
#define ENRP_CLOCK_H

#include <stdint.h>

#include <enrp/store.h>

#define ENRP_CLOCK_FLOOR_STEP_NS (60 * 1000000000LL)

/* Now, in ns since the epoch: max(CLOCK_REALTIME, the store's floor).
 * Raises the floor when the real clock is a step or more past it (a write
 * transaction; skipped for a store opened read-only).  -EIO when the floor
 * cannot be read; a failure to raise it is only logged.  Thread-safe. */
int enrp_platform_now(enrp_store *st, int64_t *now_ns);

/* The floor as stored (0 when none has been written yet).  -EIO. */
int enrp_clock_floor(enrp_store *st, int64_t *floor_ns);

#ifdef ENRP_INTERNAL
/* Replaces CLOCK_REALTIME in enrp_platform_now with NS (0: the real clock
 * again), for tests that set the host clock backwards. */
void enrp_clock_test_set_wall(int64_t ns);
#endif

#endif
