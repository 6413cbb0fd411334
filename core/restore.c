/*
 * restore.c — test-restore plans and records, and when each EIR's next
 * test restore is due (see include/enrp/restore.h).
 *
 * Layout: DBI_RESTORE maps be32(EIR id) + be64(seq) to one plan or record
 * (rec_restore_encode); seq comes from the store-wide counter
 * "next_restore" in DBI_META, so an EIR's entries are one cursor range in
 * the order they were entered.  Entries are only ever added.
 *
 * Every plan or record is journalled in the transaction that stores it, and
 * a refused one (too early, bad name, destroyed EIR) stores and journals
 * nothing.  The notice rule is judged inside that same transaction, with
 * the holidays it reads, so a holiday added concurrently is either seen or
 * was added after the plan was accepted.
 *
 * A store older than format 4 opened read-only has no DBI_RESTORE: it
 * reads as empty (txn_cursor's -ENOENT).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/restore.h>

#include "calendar_int.h"
#include "eir_int.h"
#include "journal_int.h"
#include "record_int.h"
#include "snapshot_int.h"
#include "store_int.h"

static const char *const result_names[] = {
	[ENRP_RESTORE_NONE] = "",
	[ENRP_RESTORE_PASS] = "pass",
	[ENRP_RESTORE_FAIL] = "fail",
};

const char *enrp_restore_result_name(enum enrp_restore_result r)
{
	return (unsigned)r <= ENRP_RESTORE_FAIL ? result_names[r] : "?";
}

int enrp_restore_result_parse(const char *s, enum enrp_restore_result *out)
{
	if (s && !strcmp(s, "pass"))
		*out = ENRP_RESTORE_PASS;
	else if (s && !strcmp(s, "fail"))
		*out = ENRP_RESTORE_FAIL;
	else
		return -EINVAL;
	return 0;
}

static const char *const standing_names[] = {
	[ENRP_RESTORE_OK] = "ok",
	[ENRP_RESTORE_SOON] = "due",
	[ENRP_RESTORE_OVERDUE] = "overdue",
	[ENRP_RESTORE_EXEMPT] = "exempt",
};

const char *enrp_restore_standing_name(enum enrp_restore_standing s)
{
	return (unsigned)s <= ENRP_RESTORE_EXEMPT ? standing_names[s] : "?";
}

bool enrp_restore_snapshot_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > ENRP_SNAPSHOT_NAME_MAX || !strcmp(name, "latest"))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

unsigned enrp_restore_interval_months(unsigned eir_class, enum enrp_mode mode, bool is_database)
{
	switch (eir_class) {
	case 1:
		return 3;
	case 2:
	case 3:
		/* An active EIR's database is replicated live by its agent: the
		 * quarterly rule for databases exempts it, and its class decides. */
		if (is_database && mode != ENRP_MODE_ACTIVE)
			return 3;
		return eir_class == 2 ? 6 : 12;
	default:
		return 0;
	}
}

enrp_day enrp_restore_due(unsigned interval_months, bool have_pass, enrp_day last_pass,
                          enrp_day created)
{
	return enrp_day_add_months(have_pass ? last_pass : created, interval_months);
}

enum enrp_restore_standing enrp_restore_judge(enrp_day due, enrp_day today)
{
	if (today > due)
		return ENRP_RESTORE_OVERDUE;
	if ((int64_t)due - today <= ENRP_RESTORE_SOON_DAYS)
		return ENRP_RESTORE_SOON;
	return ENRP_RESTORE_OK;
}

/* ---- plan and record ---- */

struct add_ctx {
	const char *name;
	struct enrp_restore_entry entry;
	enrp_day today;
	const struct enrp_actor *actor;
};

static int earliest_txn(enrp_txn *t, enrp_day today, enrp_day *out)
{
	enrp_day *holidays;
	size_t n;
	int rc = calendar_holiday_days_txn(t, &holidays, &n);
	if (rc)
		return rc;
	*out = enrp_workday_after(today, ENRP_RESTORE_NOTICE_DAYS, holidays, n);
	free(holidays);
	return 0;
}

static int add_fn(enrp_txn *t, void *arg)
{
	struct add_ctx *c = arg;
	struct enrp_restore_entry *e = &c->entry;
	struct enrp_eir eir;
	uint8_t key[KEY_RESTORE_LEN];
	char date[ENRP_DAY_BUF], details[ENRP_JOURNAL_DETAILS_MAX + 1];
	struct rec_out o;
	const char *event;
	unsigned ahead = 0;
	struct enrp_snapshot snap;
	bool have_snap = false;
	int rc;

	rc = eir_get_by_name_txn(t, c->name, &eir);
	if (rc)
		return rc;
	if (eir.state == ENRP_STATE_DESTROYED)
		return -EINVAL;
	if (e->kind == ENRP_RESTORE_PLAN) {
		enrp_day *holidays;
		size_t nh;
		if ((rc = calendar_holiday_days_txn(t, &holidays, &nh)))
			return rc;
		enrp_day earliest = enrp_workday_after(c->today, ENRP_RESTORE_NOTICE_DAYS, holidays, nh);
		/* The notice given, as the regulation counts it. */
		ahead = enrp_workdays_between(c->today, e->day, holidays, nh);
		free(holidays);
		if (e->day < earliest)
			return -ERANGE;
	} else {
		/* What the drill had to restore, while the snapshot is there
		 * (a record may name one deleted since, or another system's). */
		uint64_t gen;
		rc = snap_gen_of(t, eir.id, e->snapshot, &gen);
		if (rc == 0)
			rc = snap_load(t, &eir, gen, &snap);
		have_snap = rc == 0;
		if (rc && rc != -ENOENT)
			return rc;
	}
	rc = txn_next_id(t, "next_restore", 1, &e->seq);
	if (rc)
		return rc;
	e->eir_id = eir.id;
	key_restore(key, eir.id, e->seq);
	rec_out_init(&o);
	rec_restore_encode(e, &o);
	rc = o.err ? o.err : txn_put(t, DBI_RESTORE, key, sizeof(key), o.buf, o.len, MDB_NOOVERWRITE);
	rec_out_release(&o);
	if (rc)
		return rc;

	enrp_day_format(e->day, date);
	if (e->kind == ENRP_RESTORE_PLAN) {
		event = "restore-test-planned";
		details[0] = '\0';
		enrp_details_add(details, sizeof(details), "seq", "%llu", (unsigned long long)e->seq);
		enrp_details_add(details, sizeof(details), "date", "%s", date);
		enrp_details_add(details, sizeof(details), "workdays_ahead", "%u", ahead);
		enrp_details_add(details, sizeof(details), "note", "%s", e->note);
	} else {
		event = "restore-test-recorded";
		details[0] = '\0';
		enrp_details_add(details, sizeof(details), "seq", "%llu", (unsigned long long)e->seq);
		enrp_details_add(details, sizeof(details), "snapshot", "%s", e->snapshot);
		if (have_snap) {
			enrp_details_add(details, sizeof(details), "files", "%llu",
			                 (unsigned long long)snap.files);
			enrp_details_add(details, sizeof(details), "bytes", "%llu",
			                 (unsigned long long)snap.bytes);
		}
		enrp_details_add(details, sizeof(details), "result", "%s",
		                 enrp_restore_result_name(e->result));
		enrp_details_add(details, sizeof(details), "date", "%s", date);
		enrp_details_add(details, sizeof(details), "note", "%s", e->note);
	}
	return journal_append_txn(t, c->actor, eir.name, event, details);
}

static int add_entry(enrp_store *st, struct add_ctx *c, const char *note, uint64_t *seq)
{
	if (note && strlen(note) > ENRP_RESTORE_NOTE_MAX)
		return -EINVAL;
	snprintf(c->entry.note, sizeof(c->entry.note), "%s", note ? note : "");
	c->entry.uid = c->actor->uid;
	c->entry.pid = c->actor->pid;
	snprintf(c->entry.command, sizeof(c->entry.command), "%s", c->actor->command);
	int rc = enrp_store_write(st, add_fn, c);
	if (rc == 0 && seq)
		*seq = c->entry.seq;
	return rc;
}

int enrp_restore_plan(enrp_store *st, const char *name, enrp_day day, const char *note,
                      int64_t now_ns, enrp_day today, const struct enrp_actor *actor,
                      uint64_t *seq)
{
	struct add_ctx c = { .name = name, .today = today, .actor = actor };
	c.entry.kind = ENRP_RESTORE_PLAN;
	c.entry.day = day;
	c.entry.time_ns = now_ns;
	return add_entry(st, &c, note, seq);
}

int enrp_restore_record(enrp_store *st, const char *name, const char *snapshot,
                        enum enrp_restore_result result, const char *note, int64_t now_ns,
                        enrp_day today, const struct enrp_actor *actor, uint64_t *seq)
{
	struct add_ctx c = { .name = name, .today = today, .actor = actor };
	if (!enrp_restore_snapshot_name_valid(snapshot) ||
	    (result != ENRP_RESTORE_PASS && result != ENRP_RESTORE_FAIL))
		return -EINVAL;
	c.entry.kind = ENRP_RESTORE_RECORD;
	c.entry.day = today;
	c.entry.time_ns = now_ns;
	c.entry.result = result;
	snprintf(c.entry.snapshot, sizeof(c.entry.snapshot), "%s", snapshot);
	return add_entry(st, &c, note, seq);
}

struct earliest_ctx {
	enrp_day today, out;
};

static int earliest_fn(enrp_txn *t, void *arg)
{
	struct earliest_ctx *c = arg;
	return earliest_txn(t, c->today, &c->out);
}

int enrp_restore_earliest(enrp_store *st, enrp_day today, enrp_day *out)
{
	struct earliest_ctx c = { today, 0 };
	int rc = enrp_store_read(st, earliest_fn, &c);
	if (rc == 0)
		*out = c.out;
	return rc;
}

/* ---- reading ---- */

/* Calls CB for each entry of EIR_ID (0: all) inside transaction T. */
static int iter_txn(enrp_txn *t, uint32_t eir_id,
                    int (*cb)(const struct enrp_restore_entry *e, void *arg), void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t start[KEY_RESTORE_LEN];
	int rc, mrc;

	rc = txn_cursor(t, DBI_RESTORE, &cur);
	if (rc == -ENOENT) /* an older store opened read-only: nothing recorded */
		return 0;
	if (rc)
		return rc;
	key_restore(start, eir_id, 0);
	k.mv_data = start;
	k.mv_size = sizeof(start);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct enrp_restore_entry e;
		if (k.mv_size != KEY_RESTORE_LEN) {
			rc = -EIO;
			goto out_close;
		}
		e.eir_id = be32_get(k.mv_data);
		if (eir_id && e.eir_id != eir_id)
			break;
		rc = rec_restore_decode(v.mv_data, v.mv_size, &e);
		if (rc)
			goto out_close;
		e.seq = be64_get((const uint8_t *)k.mv_data + 4);
		e.eir_id = be32_get(k.mv_data);
		rc = cb(&e, arg);
		if (rc)
			goto out_close;
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
out_close:
	mdb_cursor_close(cur);
	return rc;
}

struct iter_ctx {
	uint32_t eir_id;
	int (*cb)(const struct enrp_restore_entry *e, void *arg);
	void *arg;
};

static int iter_fn(enrp_txn *t, void *arg)
{
	struct iter_ctx *c = arg;
	return iter_txn(t, c->eir_id, c->cb, c->arg);
}

int enrp_restore_iter(enrp_store *st, uint32_t eir_id,
                      int (*cb)(const struct enrp_restore_entry *e, void *arg), void *arg)
{
	struct iter_ctx c = { eir_id, cb, arg };
	return enrp_store_read(st, iter_fn, &c);
}

struct status_ctx {
	enrp_txn *t;
	enrp_day today;
	int32_t utc_offset_s;
	struct enrp_restore_status *v;
	size_t n, cap;
};

/* Folds one entry into the status of its EIR (the last one started). */
static int status_entry(const struct enrp_restore_entry *e, void *arg)
{
	struct status_ctx *c = arg;
	struct enrp_restore_status *s = &c->v[c->n - 1];
	if (e->kind == ENRP_RESTORE_PLAN) {
		if (e->day >= c->today) {
			s->plans_ahead++;
			if (!s->have_plan || e->day < s->next_plan)
				s->next_plan = e->day;
			s->have_plan = true;
		}
		return 0;
	}
	/* Seq order is entry order: the last one seen is the latest. */
	s->have_record = true;
	s->last_record = *e;
	if (e->result == ENRP_RESTORE_PASS) {
		s->have_pass = true;
		s->last_pass = *e;
	}
	return 0;
}

/* Appends the status of EIR (unless destroyed) and folds its entries in. */
static int status_eir(const struct enrp_eir *eir, void *arg)
{
	struct status_ctx *c = arg;
	if (eir->state == ENRP_STATE_DESTROYED)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct enrp_restore_status *nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	struct enrp_restore_status *s = &c->v[c->n++];
	memset(s, 0, sizeof(*s));
	s->eir = *eir;
	int rc = iter_txn(c->t, eir->id, status_entry, c);
	if (rc)
		return rc;
	/* The registry has no "database" field yet (the registration form's
	 * DBMS column will say): class alone decides for now. */
	s->interval_months = enrp_restore_interval_months(eir->eir_class, eir->mode, false);
	s->due = enrp_restore_due(s->interval_months, s->have_pass, s->last_pass.day,
	                          enrp_day_of(eir->created, c->utc_offset_s));
	s->standing = eir->state == ENRP_STATE_RETIRED ? ENRP_RESTORE_EXEMPT
	                                                : enrp_restore_judge(s->due, c->today);
	return 0;
}

static int status_fn(enrp_txn *t, void *arg)
{
	struct status_ctx *c = arg;
	c->n = 0; /* a second run after the map grew starts over */
	c->t = t;
	return eir_each_txn(t, status_eir, c);
}

int enrp_restore_status_all(enrp_store *st, enrp_day today, int32_t utc_offset_s,
                            struct enrp_restore_status **out, size_t *n)
{
	struct status_ctx c = { .today = today, .utc_offset_s = utc_offset_s };
	int rc = enrp_store_read(st, status_fn, &c);
	if (rc) {
		free(c.v);
		*out = NULL;
		*n = 0;
		return rc;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}
