/*
 * transfer.c — transfers checked against the schedule (transfer.h gives the
 * definitions of met, late, missed and pending).
 *
 * In the store, all under the EIR's id:
 *   DBI_USAGE  be32(id) 'T' be64(minute)  a minute with a verified seal
 *   DBI_POLICY "window"         the window, seconds (absent: until the next)
 *              "sched_since"    when the schedule was last set
 *              "transfer_mark"  the daemon's progress (record_int.h)
 * The seal minutes are written by the seal's transaction, so a file is
 * never verified without its minute.  The daemon's records are appended in
 * the transaction that moves transfer_mark past their slot: both commit or
 * neither does, which is the whole of "once per slot" across crashes and
 * restarts.  The mark only moves forwards, over slots whose outcome can no
 * longer change (a missed slot is settled when its late arrival came or the
 * next slot started).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/transfer.h>
#include <enrp/units.h>

#include "clock_int.h"
#include "eir_int.h"
#include "form_int.h"
#include "journal_int.h"
#include "record_int.h"
#include "transfer_int.h"

#define SETTING_WINDOW "window"
#define SETTING_SINCE "sched_since"
#define SETTING_MARK "transfer_mark"
#define NS 1000000000LL
/* Slots the daemon looks at per EIR and check: the rest waits for the next
 * check (seconds later), so one transaction stays short. */
#define CHECK_SLOTS_MAX 2000

const char *enrp_slot_status_name(enum enrp_slot_status s)
{
	static const char *const names[] = { "met", "late", "missed", "pending" };
	return (unsigned)s < 4 ? names[s] : "?";
}

/* ---- seal minutes ---- */

int transfer_seal_txn(enrp_txn *t, uint32_t eir_id, int64_t sealed_ns)
{
	uint8_t key[KEY_SEAL_LEN];
	int64_t s = sealed_ns / NS;
	key_seal(key, eir_id, s - s % 60);
	return txn_put(t, DBI_USAGE, key, sizeof(key), "", 0, 0);
}

/* The first seal minute of EIR ID in [A, B) into *AT; -ENOENT none. */
static int seal_first(enrp_txn *t, uint32_t id, int64_t a, int64_t b, int64_t *at)
{
	uint8_t key[KEY_SEAL_LEN];
	MDB_cursor *cur;
	MDB_val k, v;

	if (a >= b)
		return -ENOENT;
	int rc = txn_cursor(t, DBI_USAGE, &cur);
	if (rc)
		return rc;
	key_seal(key, id, a < 0 ? 0 : a);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (mrc == MDB_NOTFOUND)
		return -ENOENT;
	if (mrc)
		return store_mdb_err(mrc);
	if (k.mv_size != KEY_SEAL_LEN || memcmp(k.mv_data, key, 5) != 0)
		return -ENOENT;
	int64_t m = (int64_t)be64_get((const uint8_t *)k.mv_data + 5);
	if (m >= b)
		return -ENOENT;
	*at = m;
	return 0;
}

/* ---- settings ---- */

static int get_i64(enrp_txn *t, uint32_t id, const char *name, int64_t dflt, int64_t *out)
{
	const void *v;
	size_t n;
	int rc = eir_setting_get(t, id, name, &v, &n);
	if (rc == -ENOENT) {
		*out = dflt;
		return 0;
	}
	return rc ? rc : rec_setting_i64_decode(v, n, out);
}

static int put_i64(enrp_txn *t, uint32_t id, const char *name, int64_t v)
{
	uint8_t buf[SETTING_I64_LEN];
	rec_setting_i64_encode(buf, v);
	return eir_setting_put(t, id, name, buf, sizeof(buf));
}

int transfer_schedule_set_txn(enrp_txn *t, uint32_t eir_id)
{
	int64_t now;
	int rc = clock_now_txn(t, &now);
	if (rc)
		return rc;
	/* The mark stays: it only ever moves forwards, and since is later. */
	return put_i64(t, eir_id, SETTING_SINCE, now / NS);
}

static int plan_txn(enrp_txn *t, const struct enrp_eir *e, struct enrp_transfer_plan *p)
{
	struct enrp_eir_form *f = malloc(sizeof(*f));
	int rc;

	memset(p, 0, sizeof(*p));
	if (!f)
		return -ENOMEM;
	rc = form_get_txn(t, e->id, f);
	/* A stored schedule was checked when set: one that no longer parses
	 * is a damaged record, read as none rather than failing the caller. */
	if (rc == 0 && enrp_schedule_parse(f->value[ENRP_FORM_SCHEDULE], &p->schedule, NULL, 0))
		p->schedule.n = 0;
	free(f);
	if (rc == 0)
		rc = get_i64(t, e->id, SETTING_WINDOW, 0, &p->window);
	if (rc == 0)
		rc = get_i64(t, e->id, SETTING_SINCE, e->created / NS, &p->since);
	if (rc == 0 && (p->window < 0 || p->window > ENRP_SLOT_WINDOW_MAX))
		p->window = 0;
	return rc;
}

struct plan_ctx {
	const char *name;
	struct enrp_transfer_plan *out;
};

static int plan_fn(enrp_txn *t, void *arg)
{
	struct plan_ctx *c = arg;
	struct enrp_eir e;
	int rc = eir_get_by_name_txn(t, c->name, &e);
	return rc ? rc : plan_txn(t, &e, c->out);
}

int enrp_transfer_plan_get(enrp_store *st, const char *name, struct enrp_transfer_plan *out)
{
	struct plan_ctx c = { name, out };
	return enrp_store_read(st, plan_fn, &c);
}

/* ---- the window ---- */

int enrp_transfer_window_parse(const char *s, int64_t *out)
{
	int64_t ns;
	if (strcmp(s, "next") == 0 || strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (enrp_duration_parse(s, &ns) || ns <= 0 || ns % (60 * NS) ||
	    ns / NS > ENRP_SLOT_WINDOW_MAX)
		return -EINVAL;
	*out = ns / NS;
	return 0;
}

void enrp_transfer_window_format(int64_t window, char *buf, size_t bufsz)
{
	static const struct { int64_t sec; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t len = 0;

	if (bufsz)
		buf[0] = '\0';
	if (window <= 0) {
		snprintf(buf, bufsz, "next");
		return;
	}
	for (size_t i = 0; i < 4 && len < bufsz; i++) {
		if (window < units[i].sec)
			continue;
		int n = snprintf(buf + len, bufsz - len, "%lld%c", (long long)(window / units[i].sec),
		                 units[i].unit);
		if (n < 0)
			break;
		len += (size_t)n;
		window %= units[i].sec;
	}
}

struct window_ctx {
	const char *name;
	int64_t window;
	const struct enrp_actor *actor;
};

static int window_fn(enrp_txn *t, void *arg)
{
	struct window_ctx *c = arg;
	char details[128] = "", from[ENRP_TRANSFER_WINDOW_TEXT], to[ENRP_TRANSFER_WINDOW_TEXT];
	struct enrp_eir e;
	int64_t cur;
	int rc = eir_get_by_name_txn(t, c->name, &e);

	if (rc)
		return rc;
	if (e.state == ENRP_STATE_DESTROYED)
		return -EINVAL;
	if (e.state == ENRP_STATE_RETIRED)
		return -EROFS;
	if ((rc = get_i64(t, e.id, SETTING_WINDOW, 0, &cur)))
		return rc;
	if (cur == c->window)
		return -EALREADY;
	rc = c->window ? put_i64(t, e.id, SETTING_WINDOW, c->window)
	               : eir_setting_del(t, e.id, SETTING_WINDOW);
	if (rc)
		return rc;
	enrp_transfer_window_format(cur, from, sizeof(from));
	enrp_transfer_window_format(c->window, to, sizeof(to));
	enrp_details_add(details, sizeof(details), "from", "%s", from);
	enrp_details_add(details, sizeof(details), "to", "%s", to);
	return journal_append_txn(t, c->actor, e.name, "schedule-window", details);
}

int enrp_transfer_window_set(enrp_store *st, const char *name, int64_t window,
                             const struct enrp_actor *actor)
{
	if (window < 0 || window > ENRP_SLOT_WINDOW_MAX || window % 60)
		return -EINVAL;
	struct window_ctx c = { name, window, actor };
	return enrp_store_write(st, window_fn, &c);
}

/* ---- accounting ---- */

static int classify(enrp_txn *t, uint32_t id, const struct enrp_slot *s, int64_t now,
                    struct enrp_slot_report *r)
{
	int64_t at;
	int rc;

	r->slot = *s;
	r->verified = 0;
	/* Up to NOW included: a transfer sealed this very minute counts. */
	int64_t mend = s->window_end < now + 1 ? s->window_end : now + 1;
	rc = seal_first(t, id, s->start, mend, &at);
	if (rc == 0) {
		r->status = ENRP_SLOT_MET;
		r->verified = at;
		return 0;
	}
	if (rc != -ENOENT)
		return rc;
	if (s->window_end > now) {
		r->status = ENRP_SLOT_PENDING;
		return 0;
	}
	int64_t lend = s->next_start < now + 1 ? s->next_start : now + 1;
	rc = seal_first(t, id, s->window_end, lend, &at);
	if (rc == 0) {
		r->status = ENRP_SLOT_LATE;
		r->verified = at;
		return 0;
	}
	if (rc != -ENOENT)
		return rc;
	r->status = ENRP_SLOT_MISSED;
	return 0;
}

struct slots_ctx {
	const char *name;
	const enrp_tz *tz;
	int64_t from, to, now;
	struct enrp_slot_report *v;
	size_t n, cap;
};

static int slots_fn(enrp_txn *t, void *arg)
{
	struct slots_ctx *c = arg;
	struct enrp_transfer_plan p;
	struct enrp_slot s;
	struct enrp_eir e;
	int rc = eir_get_by_name_txn(t, c->name, &e);

	c->n = 0; /* the callback may run again */
	if (rc || (rc = plan_txn(t, &e, &p)))
		return rc;
	if (p.schedule.n == 0)
		return 0;
	int64_t at = c->from > p.since ? c->from : p.since;
	while (at < c->to) {
		rc = enrp_slot_next(&p.schedule, c->tz, p.window, at, &s);
		if (rc == -ENOENT)
			break;
		if (rc)
			return rc;
		if (s.start >= c->to)
			break;
		if (c->n == ENRP_TRANSFER_SLOTS_MAX)
			return -E2BIG;
		if (c->n == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 64;
			void *nv = realloc(c->v, ncap * sizeof(*c->v));
			if (!nv)
				return -ENOMEM;
			c->v = nv;
			c->cap = ncap;
		}
		if ((rc = classify(t, e.id, &s, c->now, &c->v[c->n])))
			return rc;
		c->n++;
		at = s.next_start;
	}
	return 0;
}

int enrp_transfer_slots(enrp_store *st, const char *name, const enrp_tz *tz, int64_t from,
                        int64_t to, int64_t now, struct enrp_slot_report **out, size_t *n)
{
	struct slots_ctx c = { name, tz, from, to, now, NULL, 0, 0 };
	int rc = enrp_store_read(st, slots_fn, &c);
	if (rc || c.n == 0) {
		free(c.v);
		c.v = NULL;
		c.n = 0;
	}
	*out = c.v;
	*n = c.n;
	return rc;
}

/* ---- the daemon's check ---- */

static void iso(int64_t s, char *buf, size_t n)
{
	enrp_time_format(s * NS, buf, n);
}

/* The details of a slot's record. */
static const char *slot_details(char *details, size_t size, const struct enrp_slot *s,
                                int64_t verified)
{
	char a[40], b[40];
	details[0] = '\0';
	iso(s->start, a, sizeof(a));
	iso(s->window_end, b, sizeof(b));
	enrp_details_add(details, size, "slot", "%s", a);
	enrp_details_add(details, size, "type", "%s", enrp_backup_type_name(s->type));
	enrp_details_add(details, size, "window_end", "%s", b);
	if (verified) {
		iso(verified, a, sizeof(a));
		enrp_details_add(details, size, "verified", "%s", a);
	}
	return details;
}

struct check_ctx {
	uint32_t id;
	const enrp_tz *tz;
	int64_t now;
	const struct enrp_actor *actor;
	unsigned journalled;
};

/* Old missed slots summed up into one record (ENRP_TRANSFER_CATCHUP). */
struct summary {
	unsigned n;
	int64_t first, last;
};

static int summary_flush(enrp_txn *t, struct check_ctx *c, const char *eir, struct summary *sm)
{
	char details[200] = "", a[40], b[40];
	if (sm->n == 0)
		return 0;
	iso(sm->first, a, sizeof(a));
	iso(sm->last, b, sizeof(b));
	enrp_details_add(details, sizeof(details), "slots", "%u", sm->n);
	enrp_details_add(details, sizeof(details), "first", "%s", a);
	enrp_details_add(details, sizeof(details), "last", "%s", b);
	sm->n = 0;
	c->journalled++;
	return journal_append_txn(t, c->actor, eir, "transfer-missed", details);
}

static int check_fn(enrp_txn *t, void *arg)
{
	struct check_ctx *c = arg;
	struct enrp_transfer_plan p;
	struct summary sm = { 0 };
	struct enrp_slot s;
	struct enrp_eir e;
	int64_t done, missed, at;
	char d[256];
	const void *v;
	size_t vn;
	int rc;

	c->journalled = 0; /* the callback may run again */
	if ((rc = eir_get_txn(t, c->id, &e)) || (rc = plan_txn(t, &e, &p)))
		return rc;
	if (p.schedule.n == 0)
		return 0;
	rc = eir_setting_get(t, e.id, SETTING_MARK, &v, &vn);
	if (rc == -ENOENT) {
		done = p.since - 1;
		missed = 0;
	} else if (rc || (rc = rec_transfer_mark_decode(v, vn, &done, &missed))) {
		return rc;
	}
	int64_t done0 = done, missed0 = missed;

	/* A slot journalled missed: its late arrival, or the next slot's start
	 * settles it. */
	if (missed) {
		rc = enrp_slot_next(&p.schedule, c->tz, p.window, missed, &s);
		if (rc == 0 && s.start == missed) {
			int64_t lend = s.next_start < c->now + 1 ? s.next_start : c->now + 1;
			rc = seal_first(t, e.id, s.window_end, lend, &at);
			if (rc == 0) {
				if ((rc = journal_append_txn(t, c->actor, e.name, "transfer-late",
				                              slot_details(d, sizeof(d), &s, at))))
					return rc;
				c->journalled++;
			}
			if (rc == 0 || c->now >= s.next_start) {
				done = missed;
				missed = 0;
			} else if (rc != -ENOENT) {
				return rc;
			}
		} else if (rc == 0 || rc == -ENOENT) {
			/* The schedule changed under it: nothing to wait for. */
			done = missed;
			missed = 0;
		} else {
			return rc;
		}
	}
	for (int i = 0; !missed && i < CHECK_SLOTS_MAX; i++) {
		int64_t from = done + 1 > p.since ? done + 1 : p.since;
		rc = enrp_slot_next(&p.schedule, c->tz, p.window, from, &s);
		if (rc == -ENOENT || (rc == 0 && s.window_end > c->now))
			break;
		if (rc)
			return rc;
		rc = seal_first(t, e.id, s.start, s.window_end, &at);
		if (rc == 0) {
			done = s.start;
			continue;
		}
		if (rc != -ENOENT)
			return rc;
		if (s.window_end < c->now - ENRP_TRANSFER_CATCHUP) {
			if (sm.n++ == 0)
				sm.first = s.start;
			sm.last = s.start;
			done = s.start;
			continue;
		}
		if ((rc = summary_flush(t, c, e.name, &sm)))
			return rc;
		if ((rc = journal_append_txn(t, c->actor, e.name, "transfer-missed",
		                              slot_details(d, sizeof(d), &s, 0))))
			return rc;
		c->journalled++;
		int64_t lend = s.next_start < c->now + 1 ? s.next_start : c->now + 1;
		rc = seal_first(t, e.id, s.window_end, lend, &at);
		if (rc == 0) {
			if ((rc = journal_append_txn(t, c->actor, e.name, "transfer-late",
				                              slot_details(d, sizeof(d), &s, at))))
				return rc;
			c->journalled++;
		} else if (rc != -ENOENT) {
			return rc;
		}
		if (rc == 0 || c->now >= s.next_start)
			done = s.start;
		else
			missed = s.start;
	}
	if ((rc = summary_flush(t, c, e.name, &sm)))
		return rc;
	if (done == done0 && missed == missed0)
		return 0;
	uint8_t buf[TRANSFER_MARK_VAL_LEN];
	rec_transfer_mark_encode(buf, done, missed);
	return eir_setting_put(t, e.id, SETTING_MARK, buf, sizeof(buf));
}

struct ids_ctx {
	uint32_t *v;
	size_t n, cap;
};

static int ids_cb(const struct enrp_eir *e, void *arg)
{
	struct ids_ctx *c = arg;
	if (e->state == ENRP_STATE_RETIRED || e->state == ENRP_STATE_DESTROYED)
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		void *nv = realloc(c->v, ncap * sizeof(*c->v));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = ncap;
	}
	c->v[c->n++] = e->id;
	return 0;
}

static int ids_fn(enrp_txn *t, void *arg)
{
	struct ids_ctx *c = arg;
	c->n = 0;
	return eir_each_txn(t, ids_cb, c);
}

/* Whether EIR ID has a schedule: a read first, so that the check of EIRs
 * without one never takes the write lock. */
static int has_work_fn(enrp_txn *t, void *arg)
{
	struct check_ctx *c = arg;
	struct enrp_transfer_plan p;
	struct enrp_eir e;
	int rc = eir_get_txn(t, c->id, &e);
	if (rc == 0)
		rc = plan_txn(t, &e, &p);
	if (rc)
		return rc;
	if (p.schedule.n == 0)
		return 0;
	/* Only when a window has closed since the mark. */
	const void *v;
	size_t vn;
	int64_t done = p.since - 1, missed = 0;
	rc = eir_setting_get(t, e.id, SETTING_MARK, &v, &vn);
	if (rc == 0 && rec_transfer_mark_decode(v, vn, &done, &missed))
		return 1;
	if (rc && rc != -ENOENT)
		return rc;
	if (missed)
		return 1;
	struct enrp_slot s;
	rc = enrp_slot_next(&p.schedule, c->tz, p.window, done + 1 > p.since ? done + 1 : p.since, &s);
	return rc == 0 && s.window_end <= c->now;
}

int enrp_transfer_check(enrp_store *st, const enrp_tz *tz, int64_t now_ns,
                        const struct enrp_actor *actor, unsigned *journalled)
{
	struct ids_ctx ids = { 0 };
	unsigned total = 0;
	int first = enrp_store_read(st, ids_fn, &ids);

	/* One EIR's damaged record must not stop the others' checks. */
	for (size_t i = 0; i < ids.n; i++) {
		struct check_ctx c = { ids.v[i], tz, now_ns / NS, actor, 0 };
		int rc = enrp_store_read(st, has_work_fn, &c);
		if (rc == 1) {
			rc = enrp_store_write(st, check_fn, &c);
			if (rc == 0)
				total += c.journalled;
		}
		if (rc < 0 && rc != -ENOENT && first == 0) /* -ENOENT: gone since listed */
			first = rc;
	}
	free(ids.v);
	if (journalled)
		*journalled = total;
	return first < 0 ? first : 0;
}
