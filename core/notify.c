/*
 * notify.c — the items due for notification and the ledger of those
 * emitted (see include/enrp/notify.h).
 *
 * Finding items only reads (public read APIs, each in its own short read
 * transaction); the ledger check is made last, per item, so an item found
 * by two concurrent runs is offered to both and the loser of the
 * enrp_notify_emitted() transaction gets -EEXIST.  The command that emits
 * serialises its runs (a lock file) so that the loser never even runs its
 * --exec hook; the ledger is what keeps the promise when it does not.
 *
 * Why restore items are computed from the plans and not journalled by a
 * daemon: "three working days before" depends on the holidays the
 * administrator may still add; judging on each run with today's calendar
 * notifies on the right day whichever holidays exist then.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/notify.h>
#include <enrp/restore.h>
#include <enrp/retention.h>

#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"

#define LEDGER_PREFIX "notify:"
#define CURSOR_KEY "notify_journal_seq"
#define QUOTA_PREFIX "notify_quota:"
#define DAY_NS (86400LL * 1000000000LL)

static const char *const kind_names[] = {
	[ENRP_NOTIFY_RESTORE_SOON] = "restore-test-soon",
	[ENRP_NOTIFY_RESTORE_REPORT] = "restore-report-due",
	[ENRP_NOTIFY_TRANSFER_MISSED] = "transfer-missed",
	[ENRP_NOTIFY_VERIFY_FAILED] = "verify-failed",
	[ENRP_NOTIFY_HOLD_EXPIRING] = "hold-expiring",
	[ENRP_NOTIFY_RETENTION_EXPIRING] = "retention-expiring",
	[ENRP_NOTIFY_QUOTA] = "quota",
};

const char *enrp_notify_kind_name(enum enrp_notify_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]) || !kind_names[kind])
		return "?";
	return kind_names[kind];
}

/* ---- the ledger (DBI_META) ---- */

struct meta_u64 {
	char key[sizeof(LEDGER_PREFIX) + ENRP_NOTIFY_KEY_MAX + 1];
	uint64_t value;
	bool found;
};

static int meta_u64_fn(enrp_txn *t, void *arg)
{
	struct meta_u64 *m = arg;
	MDB_val v;
	int rc = txn_get(t, DBI_META, m->key, strlen(m->key), &v);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size != 8)
		return -EIO;
	m->value = be64_get(v.mv_data);
	m->found = true;
	return 0;
}

static int meta_u64_get(enrp_store *st, const char *key, uint64_t *out, bool *found)
{
	struct meta_u64 m = { .value = 0 };
	snprintf(m.key, sizeof(m.key), "%s", key);
	int rc = enrp_store_read(st, meta_u64_fn, &m);
	*out = m.value;
	if (found)
		*found = m.found;
	return rc;
}

static bool in_ledger(enrp_store *st, const char *key, int *err)
{
	char k[sizeof(LEDGER_PREFIX) + ENRP_NOTIFY_KEY_MAX + 1];
	snprintf(k, sizeof(k), LEDGER_PREFIX "%s", key);
	uint64_t when;
	bool found = false;
	int rc = meta_u64_get(st, k, &when, &found);
	if (rc && !*err)
		*err = rc;
	return found;
}

/* ---- finding items ---- */

struct due {
	enrp_store *st;
	const struct enrp_notify_when *w;
	enrp_day *holidays;
	size_t nholidays;
	/* per EIR, while walking its plans */
	const struct enrp_eir *eir;
	enrp_day last_record_day;   /* the latest record of the EIR (0: none) */
	bool have_record;
	struct enrp_notify_item *items; /* found, not yet judged against the ledger */
	size_t n, cap;
};

static void item_init(struct enrp_notify_item *it, enum enrp_notify_kind kind,
                      const struct enrp_eir *e)
{
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (e) {
		snprintf(it->eir, sizeof(it->eir), "%s", e->name);
		it->eir_id = e->id;
		it->owner_uid = e->owner_uid;
	}
}

/* Walks may call back inside their read transaction, so items are only
 * collected there and judged against the ledger once every walk is over. */
static int offer(struct due *d, const struct enrp_notify_item *it)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct enrp_notify_item *v = realloc(d->items, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->items = v;
		d->cap = cap;
	}
	d->items[d->n++] = *it;
	return 0;
}

static int last_record_cb(const struct enrp_restore_entry *e, void *arg)
{
	struct due *d = arg;
	if (e->kind == ENRP_RESTORE_RECORD && (!d->have_record || e->day > d->last_record_day)) {
		d->last_record_day = e->day;
		d->have_record = true;
	}
	return 0;
}

static int plan_cb(const struct enrp_restore_entry *e, void *arg)
{
	struct due *d = arg;
	if (e->kind != ENRP_RESTORE_PLAN)
		return 0;
	enrp_day today = d->w->today;
	struct enrp_notify_item it;
	if (e->day >= today) {
		/* Working days from today to the date, the date itself counted. */
		unsigned ahead = enrp_workdays_between(today, e->day, d->holidays, d->nholidays);
		if (ahead > ENRP_NOTIFY_WORKDAYS)
			return 0;
		item_init(&it, ENRP_NOTIFY_RESTORE_SOON, d->eir);
		char day[ENRP_DAY_BUF];
		enrp_day_format(e->day, day);
		snprintf(it.key, sizeof(it.key), "restore-soon:%" PRIu32 ":%" PRIu64 ":%s", d->eir->id,
		         e->seq, day);
		it.day = e->day;
		it.planned = e->day;
		it.seq = e->seq;
		snprintf(it.details, sizeof(it.details), "%s", e->note);
		return offer(d, &it);
	}
	/* The date has passed: a result recorded on or after it answers it. */
	if (d->have_record && d->last_record_day >= e->day)
		return 0;
	item_init(&it, ENRP_NOTIFY_RESTORE_REPORT, d->eir);
	it.planned = e->day;
	it.day = enrp_workday_after(e->day, ENRP_NOTIFY_WORKDAYS, d->holidays, d->nholidays);
	it.seq = e->seq;
	snprintf(it.key, sizeof(it.key), "restore-report:%" PRIu32 ":%" PRIu64, d->eir->id, e->seq);
	snprintf(it.details, sizeof(it.details), "%s", e->note);
	return offer(d, &it);
}

static int quota_item(struct due *d, const struct enrp_eir *e)
{
	struct enrp_eir_usage u;
	if (!e->quota)
		return 0;
	int rc = enrp_eir_usage(d->st, e->id, &u);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	/* used/quota > PCT/100, in integers that cannot overflow */
	if ((unsigned __int128)u.bytes * 100 <= (unsigned __int128)e->quota * ENRP_NOTIFY_QUOTA_PCT)
		return 0;
	char ck[64];
	uint64_t crossing = 0;
	snprintf(ck, sizeof(ck), QUOTA_PREFIX "%" PRIu32, e->id);
	if ((rc = meta_u64_get(d->st, ck, &crossing, NULL)))
		return rc;
	struct enrp_notify_item it;
	item_init(&it, ENRP_NOTIFY_QUOTA, e);
	snprintf(it.key, sizeof(it.key), "quota:%" PRIu32 ":%" PRIu64, e->id, crossing);
	it.used = u.bytes;
	it.quota = e->quota;
	it.time_ns = d->w->now_ns;
	return offer(d, &it);
}

static int retention_item(struct due *d, const struct enrp_eir *e)
{
	if (e->state != ENRP_STATE_RETIRED)
		return 0;
	struct enrp_retention r;
	struct enrp_eir_files f;
	int rc = enrp_retention_get(d->st, e->name, &r);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (!r.files_days)
		return 0; /* kept for ever: nothing expires */
	rc = enrp_eir_files(d->st, e->id, &f);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (!f.last_sealed)
		return 0;
	int64_t end = f.last_sealed + (int64_t)r.files_days * DAY_NS;
	if (end < d->w->now_ns || end - d->w->now_ns > ENRP_NOTIFY_AHEAD_DAYS * DAY_NS)
		return 0;
	struct enrp_notify_item it;
	item_init(&it, ENRP_NOTIFY_RETENTION_EXPIRING, e);
	it.time_ns = end;
	it.day = enrp_day_of(end, d->w->utc_offset_s);
	char day[ENRP_DAY_BUF];
	enrp_day_format(it.day, day);
	snprintf(it.key, sizeof(it.key), "retention:%" PRIu32 ":%s", e->id, day);
	return offer(d, &it);
}

static int hold_cb(const struct enrp_hold *h, void *arg)
{
	struct due *d = arg;
	int64_t now = d->w->now_ns;
	if (!h->linked || h->until < now || h->until - now > ENRP_NOTIFY_AHEAD_DAYS * DAY_NS)
		return 0;
	struct enrp_notify_item it;
	item_init(&it, ENRP_NOTIFY_HOLD_EXPIRING, d->eir);
	it.time_ns = h->until;
	it.day = enrp_day_of(h->until, d->w->utc_offset_s);
	snprintf(it.path, sizeof(it.path), "%s%s", h->snapshot ? "@" : "", h->path);
	snprintf(it.details, sizeof(it.details), "%s", h->reason);
	/* The end is part of the fact: an extended hold is told again. */
	snprintf(it.key, sizeof(it.key), "hold:%" PRIu32 ":%d:%" PRIu64 ":%" PRId64, d->eir->id,
	         h->snapshot ? 1 : 0, h->ino, h->until);
	return offer(d, &it);
}

static int eir_cb(const struct enrp_eir *e, void *arg)
{
	struct due *d = arg;
	if (e->state == ENRP_STATE_DESTROYED)
		return 0;
	d->eir = e;
	d->have_record = false;
	d->last_record_day = 0;
	int rc = enrp_restore_iter(d->st, e->id, last_record_cb, d);
	if (!rc)
		rc = enrp_restore_iter(d->st, e->id, plan_cb, d);
	if (!rc)
		rc = enrp_hold_list(d->st, e->name, hold_cb, d);
	if (!rc)
		rc = retention_item(d, e);
	if (!rc)
		rc = quota_item(d, e);
	d->eir = NULL;
	return rc;
}

struct journal_walk {
	struct due *d;
	uint64_t last;
};

static int journal_cb(const struct enrp_journal_record *rec, void *arg)
{
	struct journal_walk *jw = arg;
	struct due *d = jw->d;
	enum enrp_notify_kind kind;
	jw->last = rec->seq;
	if (!strcmp(rec->event, "transfer-missed"))
		kind = ENRP_NOTIFY_TRANSFER_MISSED;
	else if (!strcmp(rec->event, "chunk-damaged") || !strcmp(rec->event, "scrub-damage"))
		kind = ENRP_NOTIFY_VERIFY_FAILED;
	else
		return 0;
	if (d->w->now_ns - rec->time_ns > ENRP_NOTIFY_AHEAD_DAYS * DAY_NS)
		return 0; /* history by the time it was first looked at */
	struct enrp_notify_item it;
	item_init(&it, kind, NULL);
	snprintf(it.eir, sizeof(it.eir), "%s", rec->eir); /* id and owner: after the walk */
	it.seq = rec->seq;
	it.time_ns = rec->time_ns;
	snprintf(it.key, sizeof(it.key), "journal:%" PRIu64, rec->seq);
	snprintf(it.details, sizeof(it.details), "%s", rec->details);
	enrp_details_get(rec->details, "path", it.path, sizeof(it.path));
	return offer(d, &it);
}

int enrp_notify_due(enrp_store *st, const struct enrp_notify_when *w,
                    int (*cb)(const struct enrp_notify_item *item, void *arg), void *arg,
                    uint64_t *journal_seq)
{
	struct due d = { .st = st, .w = w };
	struct enrp_holiday *h = NULL;
	size_t nh = 0;
	uint64_t cursor = 0;
	int rc = enrp_calendar_holidays(st, &h, &nh);
	if (rc)
		return rc;
	if (nh) {
		d.holidays = malloc(nh * sizeof(*d.holidays));
		if (!d.holidays) {
			free(h);
			return -ENOMEM;
		}
		for (size_t i = 0; i < nh; i++)
			d.holidays[i] = h[i].day;
		d.nholidays = nh;
	}
	free(h);

	rc = enrp_eir_list(st, eir_cb, &d);
	if (!rc)
		rc = meta_u64_get(st, CURSOR_KEY, &cursor, NULL);
	struct journal_walk jw = { .d = &d, .last = cursor };
	if (!rc) {
		struct enrp_journal_filter f = { .from_seq = cursor + 1 };
		rc = enrp_journal_iter(st, &f, journal_cb, &jw);
	}
	for (size_t i = 0; !rc && i < d.n; i++) {
		struct enrp_notify_item *it = &d.items[i];
		struct enrp_eir e;
		if (it->eir[0] && !it->eir_id) {
			if (enrp_eir_get(st, it->eir, &e) == 0) {
				if (e.state == ENRP_STATE_DESTROYED)
					continue;
				it->eir_id = e.id;
				it->owner_uid = e.owner_uid;
			}
		}
		if (!in_ledger(st, d.items[i].key, &rc) && !rc)
			rc = cb(&d.items[i], arg);
	}
	if (journal_seq)
		*journal_seq = jw.last;
	free(d.items);
	free(d.holidays);
	return rc;
}

/* ---- recording ---- */

struct emitted {
	const struct enrp_notify_item *item;
	const char *how;
	const struct enrp_actor *actor;
};

static int emitted_fn(enrp_txn *t, void *arg)
{
	struct emitted *em = arg;
	const struct enrp_notify_item *it = em->item;
	char k[sizeof(LEDGER_PREFIX) + ENRP_NOTIFY_KEY_MAX + 1];
	snprintf(k, sizeof(k), LEDGER_PREFIX "%s", it->key);
	MDB_val v;
	int rc = txn_get(t, DBI_META, k, strlen(k), &v);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	int64_t now = enrp_now_ns();
	uint8_t when[8];
	be64_put(when, (uint64_t)now);
	if ((rc = txn_put(t, DBI_META, k, strlen(k), when, sizeof(when), 0)))
		return rc;
	char details[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	enrp_details_add(details, sizeof(details), "kind", "%s", enrp_notify_kind_name(it->kind));
	enrp_details_add(details, sizeof(details), "key", "%s", it->key);
	enrp_details_add(details, sizeof(details), "how", "%s", em->how);
	if (it->path[0])
		enrp_details_add(details, sizeof(details), "path", "%s", it->path);
	return journal_append_txn(t, em->actor, it->eir, "notified", details);
}

int enrp_notify_emitted(enrp_store *st, const struct enrp_notify_item *item, const char *how,
                        const struct enrp_actor *actor)
{
	struct emitted em = { .item = item, .how = how, .actor = actor };
	return enrp_store_write(st, emitted_fn, &em);
}

struct meta_set {
	const char *key;
	uint64_t value;
	bool only_up;
	bool increment;  /* add 1 to the stored value instead */
};

static int meta_set_fn(enrp_txn *t, void *arg)
{
	struct meta_set *m = arg;
	MDB_val v;
	uint64_t cur = 0;
	int rc = txn_get(t, DBI_META, m->key, strlen(m->key), &v);
	if (rc == 0 && v.mv_size == 8)
		cur = be64_get(v.mv_data);
	else if (rc && rc != -ENOENT)
		return rc;
	uint64_t next = m->increment ? cur + 1 : m->value;
	if (m->only_up && next <= cur)
		return 0;
	uint8_t buf[8];
	be64_put(buf, next);
	return txn_put(t, DBI_META, m->key, strlen(m->key), buf, sizeof(buf), 0);
}

int enrp_notify_advance(enrp_store *st, uint64_t seq)
{
	struct meta_set m = { .key = CURSOR_KEY, .value = seq, .only_up = true };
	return enrp_store_write(st, meta_set_fn, &m);
}

struct rearm {
	enrp_store *st;
	int err;
};

static int rearm_cb(const struct enrp_eir *e, void *arg)
{
	struct rearm *r = arg;
	struct enrp_eir_usage u;
	if (e->state == ENRP_STATE_DESTROYED)
		return 0;
	if (e->quota && enrp_eir_usage(r->st, e->id, &u) == 0 &&
	    (unsigned __int128)u.bytes * 100 > (unsigned __int128)e->quota * ENRP_NOTIFY_QUOTA_PCT)
		return 0; /* still above: the crossing stands */
	char ck[64], lk[sizeof(LEDGER_PREFIX) + ENRP_NOTIFY_KEY_MAX + 1];
	uint64_t crossing = 0;
	int rc = meta_u64_get(r->st, (snprintf(ck, sizeof(ck), QUOTA_PREFIX "%" PRIu32, e->id), ck),
	                      &crossing, NULL);
	if (rc)
		return rc;
	snprintf(lk, sizeof(lk), LEDGER_PREFIX "quota:%" PRIu32 ":%" PRIu64, e->id, crossing);
	if (!in_ledger(r->st, lk + strlen(LEDGER_PREFIX), &r->err))
		return r->err; /* the current crossing was never told: nothing to re-arm */
	struct meta_set m = { .key = ck, .increment = true };
	return enrp_store_write(r->st, meta_set_fn, &m);
}

int enrp_notify_rearm(enrp_store *st, const struct enrp_notify_when *w)
{
	(void)w;
	struct rearm r = { .st = st };
	int rc = enrp_eir_list(st, rearm_cb, &r);
	return rc ? rc : r.err;
}
