/*
 * clock.c — the platform clock with its floor in the store.
 *
 * The floor is DBI_META "clock_floor".  It only ever rises: the write
 * transaction re-reads it and stores max(stored, wall), so two processes
 * (daemon and enrpctl) racing can not lower it.  A crash loses at most the
 * last raise (the daemon's group commit makes it durable within a second;
 * enrpctl's writes are durable when they return), and a lost raise only
 * makes the floor lower, which can only make things expire later.
 *
 * Rate: a raise happens only once the wall clock is ENRP_CLOCK_FLOOR_STEP_NS
 * past the floor, so a busy daemon writes it once a minute, not per call.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <sys/timex.h>
#include <time.h>

#define ENRP_INTERNAL 1 /* defines enrp_clock_test_set_wall, declared in clock.h */
#include <enrp/clock.h>
#include <enrp/enrp.h>

#include "clock_int.h"
#include "record_int.h"
#include "store_int.h"

#define FLOOR_KEY "clock_floor"

static _Atomic int64_t fake_wall;

void enrp_clock_test_set_wall(int64_t ns)
{
	atomic_store(&fake_wall, ns);
}

static int64_t wall_now(void)
{
	int64_t fake = atomic_load(&fake_wall);
	return fake ? fake : enrp_now_ns();
}

static int floor_get_txn(enrp_txn *t, int64_t *floor_ns)
{
	MDB_val v;
	int rc = txn_get(t, DBI_META, FLOOR_KEY, sizeof(FLOOR_KEY) - 1, &v);
	if (rc == -ENOENT) {
		*floor_ns = 0;
		return 0;
	}
	return rc ? rc : rec_clock_floor_decode(v.mv_data, v.mv_size, floor_ns);
}

int clock_now_txn(enrp_txn *t, int64_t *now_ns)
{
	int64_t floor;
	int rc = floor_get_txn(t, &floor);
	if (rc == 0) {
		int64_t wall = wall_now();
		*now_ns = wall > floor ? wall : floor;
	}
	return rc;
}

static int floor_read_fn(enrp_txn *t, void *arg)
{
	return floor_get_txn(t, arg);
}

static int floor_raise_fn(enrp_txn *t, void *arg)
{
	const int64_t *wall = arg;
	uint8_t buf[CLOCK_FLOOR_VAL_LEN];
	int64_t cur;
	int rc = floor_get_txn(t, &cur);
	/* An undecodable floor is replaced rather than left to block every
	 * expiry: the wall clock is the best estimate there is. */
	if (rc == -EIO)
		cur = 0;
	else if (rc)
		return rc;
	if (cur >= *wall)
		return 0;
	rec_clock_floor_encode(buf, *wall);
	return txn_put(t, DBI_META, FLOOR_KEY, sizeof(FLOOR_KEY) - 1, buf, sizeof(buf), 0);
}

int enrp_clock_floor(enrp_store *st, int64_t *floor_ns)
{
	return enrp_store_read(st, floor_read_fn, floor_ns);
}

int enrp_platform_now(enrp_store *st, int64_t *now_ns)
{
	int64_t wall = wall_now(), floor_ns;
	int rc = enrp_clock_floor(st, &floor_ns);

	if (rc)
		return rc;
	if (wall >= floor_ns && wall - floor_ns >= ENRP_CLOCK_FLOOR_STEP_NS) {
		rc = enrp_store_write(st, floor_raise_fn, &wall);
		if (rc && rc != -EROFS)
			enrp_log(ENRP_LOG_WARNING, "clock: cannot raise the clock floor: %s",
			         enrp_strerror(rc));
	} else if (floor_ns - wall > ENRP_CLOCK_FLOOR_STEP_NS) {
		enrp_log(ENRP_LOG_WARNING,
		         "clock: the host clock is %" PRId64 " s behind the platform's floor; "
		         "retention counts from the floor until the clock passes it",
		         (floor_ns - wall) / 1000000000);
	}
	*now_ns = wall > floor_ns ? wall : floor_ns;
	return 0;
}

int enrp_clock_sync(struct enrp_clock_sync *out)
{
	static const char *const names[] = { "ok", "insert", "delete", "leap", "wait", "error" };
	struct timex tx = { .modes = 0 };
	int state = adjtimex(&tx);

	if (state < 0)
		return -errno;
	out->state = state;
	out->state_name = state <= TIME_ERROR ? names[state] : "unknown";
	out->status = tx.status;
	out->synchronised = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
	out->offset_ns = (int64_t)tx.offset * ((tx.status & STA_NANO) ? 1 : 1000);
	out->maxerror_us = tx.maxerror;
	out->esterror_us = tx.esterror;
	return 0;
}

static int64_t ts_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int enrp_clock_jump_check(struct enrp_clock_watch *w, int64_t *from_ns, int64_t *to_ns)
{
	/* CLOCK_BOOTTIME, not MONOTONIC: a suspended host's wall clock moves on
	 * over the sleep, and that is no jump. */
	int64_t mono = ts_ns(CLOCK_BOOTTIME), wall = ts_ns(CLOCK_REALTIME);
	int jumped = 0;

	if (w->mono_ns) {
		int64_t predicted = w->wall_ns + (mono - w->mono_ns);
		int64_t d = wall - predicted;
		if (d > ENRP_CLOCK_JUMP_NS || d < -ENRP_CLOCK_JUMP_NS) {
			*from_ns = predicted;
			*to_ns = wall;
			jumped = 1;
		}
	}
	w->wall_ns = wall;
	w->mono_ns = mono;
	return jumped;
}
