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
#include <stdio.h>
#include <sys/timex.h>
#include <time.h>

#define ENRP_INTERNAL 1 /* defines enrp_clock_test_set_wall, declared in clock.h */
#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/units.h>

#include "clock_int.h"
#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"

#define FLOOR_KEY "clock_floor"
/* The floor at which a clock behind it was last journalled (same encoding). */
#define NOTED_KEY "clock_behind_noted"

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

static void jump_details(int64_t from_ns, int64_t to_ns, const char *seen_by, char *buf,
                         size_t size)
{
	char from[40], to[40];
	enrp_time_format(from_ns, from, sizeof(from));
	enrp_time_format(to_ns, to, sizeof(to));
	snprintf(buf, size, "from=%s to=%s delta_ns=%" PRId64 " direction=%s seen_by=%s", from, to,
	         to_ns - from_ns, to_ns >= from_ns ? "forward" : "backward", seen_by);
}

int enrp_clock_jump_journal(enrp_store *st, const struct enrp_actor *actor, int64_t from_ns,
                            int64_t to_ns, const char *seen_by)
{
	char details[256];
	jump_details(from_ns, to_ns, seen_by, details, sizeof(details));
	return enrp_journal_append(st, actor, NULL, "clock-jump", "%s", details);
}

struct behind_ctx {
	const struct enrp_actor *actor;
	int64_t wall;
	bool journalled;
};

static int behind_fn(enrp_txn *t, void *arg)
{
	struct behind_ctx *c = arg;
	int64_t floor_ns, noted = 0;
	uint8_t buf[CLOCK_FLOOR_VAL_LEN];
	char details[256];
	MDB_val v;

	int rc = floor_get_txn(t, &floor_ns);
	if (rc)
		return rc;
	if (floor_ns - c->wall <= ENRP_CLOCK_JUMP_NS)
		return 0;
	rc = txn_get(t, DBI_META, NOTED_KEY, sizeof(NOTED_KEY) - 1, &v);
	if (rc == 0)
		rc = rec_clock_floor_decode(v.mv_data, v.mv_size, &noted);
	if (rc && rc != -ENOENT && rc != -EIO)
		return rc;
	if (noted == floor_ns)
		return 0; /* this setback is in the journal already */
	jump_details(floor_ns, c->wall, "floor", details, sizeof(details));
	rc = journal_append_txn(t, c->actor, NULL, "clock-jump", details);
	if (rc)
		return rc;
	rec_clock_floor_encode(buf, floor_ns);
	rc = txn_put(t, DBI_META, NOTED_KEY, sizeof(NOTED_KEY) - 1, buf, sizeof(buf), 0);
	c->journalled = rc == 0;
	return rc;
}

int enrp_clock_floor_check(enrp_store *st, const struct enrp_actor *actor)
{
	int64_t floor_ns;
	struct behind_ctx c = { actor, wall_now(), false };
	/* Read first: the common case (no setback) must not take the writer. */
	int rc = enrp_clock_floor(st, &floor_ns);
	if (rc || floor_ns - c.wall <= ENRP_CLOCK_JUMP_NS)
		return rc;
	rc = enrp_store_write(st, behind_fn, &c);
	return rc ? rc : c.journalled;
}
