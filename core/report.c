/*
 * report.c — the compliance report: daily usage samples, the facts of each
 * EIR over a period, and the figures derived from them (report.h says what
 * each means).
 *
 * The facts are read EIR by EIR from the modules that own them (eir, form,
 * retention, hold, restore, transfer, journal), each in its own read
 * transaction: a report is a view for people, and the few milliseconds
 * between two reads change nothing they can see.  The failed verifications
 * come from one walk of the period's journal for all EIRs, not one per EIR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/destroy.h>
#include <enrp/form.h>
#include <enrp/journal.h>
#include <enrp/report.h>

#include "eir_int.h"
#include "record_int.h"
#include "store_int.h"

#define NS 1000000000LL

const char *enrp_report_light_name(enum enrp_report_light l)
{
	static const char *const names[] = { "green", "amber", "red", "none" };
	return (unsigned)l < 4 ? names[l] : "?";
}

const char *enrp_report_reason_name(unsigned bit)
{
	static const char *const names[ENRP_REPORT_REASONS] = {
		"missed", "failed-verification", "corrupt", "restore-overdue", "quota-full",
		"late", "restore-due", "restore-failed", "quota-high", "hold-expiring",
		"suspended", "no-schedule", "destroyed",
	};
	return bit < ENRP_REPORT_REASONS ? names[bit] : "?";
}

/* ---- daily usage samples ---- */

struct sample_ctx {
	enrp_day today;
	unsigned written;
};

static int sample_one(enrp_txn *t, const struct enrp_eir *e, struct sample_ctx *c)
{
	uint8_t key[KEY_USAGE_DAY_LEN], val[USAGE_DAY_VAL_LEN];
	MDB_val v;
	struct enrp_eir_usage u;
	struct enrp_eir_files f;
	struct enrp_usage_sample s = { .day = c->today };

	key_usage_day(key, e->id, c->today);
	int rc = txn_get(t, DBI_USAGE, key, sizeof(key), &v);
	if (rc != -ENOENT)
		return rc; /* 0: today's is there already, and is never rewritten */
	if ((rc = eir_usage_get_txn(t, e->id, &u)) == -ENOENT)
		return 0; /* no counters yet (an older store, until a mount): no sample */
	if (rc)
		return rc;
	rc = eir_files_get_txn(t, e->id, &f);
	if (rc && rc != -ENOENT)
		return rc;
	s.used = u.bytes;
	s.stored = u.stored;
	s.files = rc ? 0 : f.open + f.pending + f.verified + f.corrupt;
	rec_usage_day_encode(val, &s);
	rc = txn_put(t, DBI_USAGE, key, sizeof(key), val, sizeof(val), 0);
	if (rc == 0)
		c->written++;
	return rc;
}

struct eir_vec {
	struct enrp_eir *v;
	size_t n, cap;
};

static int vec_cb(const struct enrp_eir *e, void *arg)
{
	struct eir_vec *ev = arg;
	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 16;
		struct enrp_eir *nv = realloc(ev->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		ev->v = nv;
		ev->cap = cap;
	}
	ev->v[ev->n++] = *e;
	return 0;
}

static int sample_fn(enrp_txn *t, void *arg)
{
	struct sample_ctx *c = arg;
	struct eir_vec ev = { 0 };
	c->written = 0; /* the write may be retried (map resize) */
	int rc = eir_each_txn(t, vec_cb, &ev);
	for (size_t i = 0; rc == 0 && i < ev.n; i++)
		if (ev.v[i].state != ENRP_STATE_DESTROYED)
			rc = sample_one(t, &ev.v[i], c);
	free(ev.v);
	return rc;
}

struct sample_check {
	enrp_day today;
	bool missing;
};

static int check_fn(enrp_txn *t, void *arg)
{
	struct sample_check *c = arg;
	struct eir_vec ev = { 0 };
	c->missing = false;
	int rc = eir_each_txn(t, vec_cb, &ev);
	for (size_t i = 0; rc == 0 && i < ev.n && !c->missing; i++) {
		uint8_t key[KEY_USAGE_DAY_LEN];
		MDB_val v;
		struct enrp_eir_usage u;
		if (ev.v[i].state == ENRP_STATE_DESTROYED)
			continue;
		key_usage_day(key, ev.v[i].id, c->today);
		rc = txn_get(t, DBI_USAGE, key, sizeof(key), &v);
		if (rc == -ENOENT) {
			rc = eir_usage_get_txn(t, ev.v[i].id, &u);
			c->missing = rc == 0;
			if (rc == -ENOENT)
				rc = 0;
		}
	}
	free(ev.v);
	return rc;
}

int enrp_usage_sample_today(enrp_store *st, enrp_day today, unsigned *written)
{
	struct sample_check chk = { today, false };
	struct sample_ctx c = { today, 0 };
	/* A read first: the daemon asks every few seconds, and a write
	 * transaction that changes nothing would still cost a commit. */
	int rc = enrp_store_read(st, check_fn, &chk);
	if (rc == 0 && chk.missing)
		rc = enrp_store_write(st, sample_fn, &c);
	if (written)
		*written = rc ? 0 : c.written;
	return rc;
}

struct samples_ctx {
	uint32_t id;
	enrp_day from, to;
	struct enrp_usage_sample *v;
	size_t n, cap;
};

static int samples_fn(enrp_txn *t, void *arg)
{
	struct samples_ctx *c = arg;
	uint8_t key[KEY_USAGE_DAY_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	c->n = 0;
	int rc = txn_cursor(t, DBI_USAGE, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	key_usage_day(key, c->id, c->from);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (; mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != KEY_USAGE_DAY_LEN || memcmp(k.mv_data, key, 5) != 0)
			break;
		struct enrp_usage_sample s;
		s.day = key_usage_day_date(k.mv_data);
		if (s.day > c->to)
			break;
		if ((rc = rec_usage_day_decode(v.mv_data, v.mv_size, &s)))
			break;
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 32;
			struct enrp_usage_sample *nv = realloc(c->v, cap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			c->v = nv;
			c->cap = cap;
		}
		c->v[c->n++] = s;
	}
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : store_mdb_err(mrc);
}

int enrp_usage_samples(enrp_store *st, uint32_t id, enrp_day from, enrp_day to,
                       struct enrp_usage_sample **out, size_t *n)
{
	struct samples_ctx c = { .id = id, .from = from, .to = to };
	*out = NULL;
	*n = 0;
	if (to < from)
		return 0;
	int rc = enrp_store_read(st, samples_fn, &c);
	if (rc || c.n == 0) {
		free(c.v);
		return rc;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

/* ---- figures ---- */

static int period_days(const struct enrp_report *r, size_t *n)
{
	if (r->to < r->from || (int64_t)r->to - r->from + 1 > ENRP_REPORT_DAYS_MAX)
		return -EINVAL;
	*n = (size_t)(r->to - r->from) + 1;
	return 0;
}

static void judge(struct enrp_report_eir *e, const struct enrp_report *r)
{
	unsigned why = 0;
	if (e->eir.state == ENRP_STATE_DESTROYED) {
		e->reasons = ENRP_REPORT_DESTROYED;
		e->light = ENRP_LIGHT_NONE;
		return;
	}
	if (e->missed)
		why |= ENRP_REPORT_MISSED;
	if (e->failed_verifications)
		why |= ENRP_REPORT_FAILED_VERIFY;
	if (e->have_files && e->files.corrupt)
		why |= ENRP_REPORT_CORRUPT;
	if (e->quota_pct >= ENRP_REPORT_QUOTA_RED)
		why |= ENRP_REPORT_QUOTA_FULL;
	else if (e->quota_pct >= ENRP_REPORT_QUOTA_AMBER)
		why |= ENRP_REPORT_QUOTA_HIGH;
	if (e->late)
		why |= ENRP_REPORT_LATE;
	if (e->have_restore) {
		if (e->restore.standing == ENRP_RESTORE_OVERDUE)
			why |= ENRP_REPORT_RESTORE_OVERDUE;
		else if (e->restore.standing == ENRP_RESTORE_SOON)
			why |= ENRP_REPORT_RESTORE_DUE;
		/* A failed drill after the last pass: the copy is not shown to be
		 * restorable, whatever the due date says. */
		if (e->restore.standing != ENRP_RESTORE_EXEMPT && e->restore.have_record &&
		    e->restore.last_record.result == ENRP_RESTORE_FAIL)
			why |= ENRP_REPORT_RESTORE_FAILED;
	}
	if (e->holds_expiring)
		why |= ENRP_REPORT_HOLD_EXPIRING;
	if (e->eir.state == ENRP_STATE_SUSPENDED)
		why |= ENRP_REPORT_SUSPENDED;
	if (e->eir.state == ENRP_STATE_NORMAL && e->schedule[0] == '\0')
		why |= ENRP_REPORT_NO_SCHEDULE;
	(void)r;
	e->reasons = why;
	e->light = (why & ENRP_REPORT_RED) ? ENRP_LIGHT_RED
	           : why                   ? ENRP_LIGHT_AMBER
	                                   : ENRP_LIGHT_GREEN;
}

static void compute_eir(struct enrp_report_eir *e, const struct enrp_report *r)
{
	e->expected = e->arrived = e->late = e->missed = e->pending = 0;
	bool owed = e->eir.state != ENRP_STATE_RETIRED && e->eir.state != ENRP_STATE_DESTROYED;
	for (size_t i = 0; owed && i < e->nslots; i++) {
		const struct enrp_report_slot *s = &e->slots[i];
		if (s->day < r->from || s->day > r->to || s->start > r->now)
			continue;
		struct enrp_report_day *d = &e->days[s->day - r->from];
		e->expected++;
		d->expected++;
		switch (s->status) {
		case ENRP_SLOT_LATE: /* a late slot arrived too */
		case ENRP_SLOT_MET:
			e->arrived++;
			d->arrived++;
			if (s->status == ENRP_SLOT_LATE) {
				e->late++;
				d->late++;
			}
			break;
		case ENRP_SLOT_MISSED:
			e->missed++;
			d->missed++;
			break;
		case ENRP_SLOT_PENDING:
			e->pending++;
			d->pending++;
			break;
		}
	}
	e->files_total = e->have_files ? e->files.open + e->files.pending + e->files.verified +
	                                         e->files.corrupt
	                               : 0;
	e->quota_pct = e->have_usage && e->eir.quota
	                       ? 100.0 * (double)e->usage.bytes / (double)e->eir.quota
	                       : -1;
	e->ratio = e->have_usage && e->usage.stored
	                   ? (double)e->usage.bytes / (double)e->usage.stored
	                   : 0;
	e->holds_active = e->holds_expiring = 0;
	e->next_hold = NULL;
	int64_t soon = r->now + (int64_t)ENRP_REPORT_SOON_DAYS * 86400;
	for (size_t i = 0; i < e->nholds; i++) {
		const struct enrp_hold *h = &e->holds[i];
		int64_t until = h->until / NS;
		if (h->until <= r->now * NS)
			continue;
		e->holds_active++;
		if (until <= soon)
			e->holds_expiring++;
		if (!e->next_hold || h->until < e->next_hold->until)
			e->next_hold = h;
	}
	judge(e, r);
}

int enrp_report_compute(struct enrp_report *r)
{
	size_t nd;
	int rc = period_days(r, &nd);
	if (rc)
		return rc;
	struct enrp_report_summary *sum = &r->summary;
	free(sum->days);
	free(sum->usage);
	memset(sum, 0, sizeof(*sum));
	sum->days = calloc(nd, sizeof(*sum->days));
	sum->usage = calloc(nd, sizeof(*sum->usage));
	if (!sum->days || !sum->usage)
		return -ENOMEM;
	for (size_t d = 0; d < nd; d++)
		sum->days[d].day = r->from + (enrp_day)d;
	for (size_t i = 0; i < r->n; i++) {
		struct enrp_report_eir *e = &r->eirs[i];
		free(e->days);
		e->days = calloc(nd, sizeof(*e->days));
		if (!e->days)
			return -ENOMEM;
		for (size_t d = 0; d < nd; d++)
			e->days[d].day = r->from + (enrp_day)d;
		compute_eir(e, r);

		sum->eirs++;
		switch (e->light) {
		case ENRP_LIGHT_GREEN: sum->green++; break;
		case ENRP_LIGHT_AMBER: sum->amber++; break;
		case ENRP_LIGHT_RED: sum->red++; break;
		case ENRP_LIGHT_NONE: sum->none++; break;
		}
		if (e->have_usage) {
			sum->used += e->usage.bytes;
			sum->stored += e->usage.stored;
		}
		if (e->eir.state != ENRP_STATE_DESTROYED)
			sum->quota += e->eir.quota;
		sum->files += e->files_total;
		sum->expected += e->expected;
		sum->arrived += e->arrived;
		sum->late += e->late;
		sum->missed += e->missed;
		sum->pending += e->pending;
		sum->failed_verifications += e->failed_verifications;
		sum->corrupt_files += e->have_files ? (uint32_t)e->files.corrupt : 0;
		if (e->reasons & ENRP_REPORT_RESTORE_OVERDUE)
			sum->restore_overdue++;
		if (e->reasons & ENRP_REPORT_RESTORE_DUE)
			sum->restore_due++;
		sum->holds_active += e->holds_active;
		sum->holds_expiring += e->holds_expiring;
		for (size_t d = 0; d < nd; d++) {
			sum->days[d].expected += e->days[d].expected;
			sum->days[d].arrived += e->days[d].arrived;
			sum->days[d].late += e->days[d].late;
			sum->days[d].missed += e->days[d].missed;
			sum->days[d].pending += e->days[d].pending;
		}
		for (size_t k = 0; k < e->nsamples; k++) {
			const struct enrp_usage_sample *s = &e->samples[k];
			if (s->day < r->from || s->day > r->to)
				continue;
			struct enrp_usage_sample *p = &sum->usage[s->day - r->from];
			p->day = s->day;
			p->used += s->used;
			p->stored += s->stored;
			p->files += s->files;
		}
	}
	sum->ratio = sum->stored ? (double)sum->used / (double)sum->stored : 0;
	return 0;
}

void enrp_report_free(struct enrp_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->eirs[i].slots);
		free(r->eirs[i].holds);
		free(r->eirs[i].samples);
		free(r->eirs[i].days);
	}
	free(r->eirs);
	free(r->summary.days);
	free(r->summary.usage);
	free(r);
}

/* ---- facts ---- */

/* The instant local midnight starts DAY in TZ (seconds). */
static int64_t day_start(const enrp_tz *tz, enrp_day day)
{
	int y, m, d;
	enrp_day_to_ymd(day, &y, &m, &d);
	return enrp_tz_from_civil(tz, y, m, d, 0, 0, 0);
}

static enrp_day day_of_s(const enrp_tz *tz, int64_t s)
{
	return enrp_day_of(s * NS, enrp_tz_offset(tz, s));
}

struct fail_ctx {
	struct enrp_report *r;
};

static int fail_cb(const struct enrp_journal_record *rec, void *arg)
{
	struct fail_ctx *c = arg;
	if (strcmp(rec->event, "chunk-damaged") != 0 && strcmp(rec->event, "scrub-damage") != 0)
		return 0;
	for (size_t i = 0; i < c->r->n; i++)
		if (strcmp(c->r->eirs[i].eir.name, rec->eir) == 0) {
			c->r->eirs[i].failed_verifications++;
			break;
		}
	return 0;
}

struct holds_ctx {
	struct enrp_report_eir *e;
	size_t cap;
	int err;
};

static int hold_cb(const struct enrp_hold *h, void *arg)
{
	struct holds_ctx *c = arg;
	if (c->e->nholds == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		struct enrp_hold *nv = realloc(c->e->holds, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->e->holds = nv;
		c->cap = cap;
	}
	c->e->holds[c->e->nholds++] = *h;
	return 0;
}

/* SRC into DST when it fits whole ("" otherwise: a cut text would lie). */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size);
	if (n == size)
		n = 0;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int read_eir(enrp_store *st, const enrp_tz *tz, struct enrp_report *r,
                    struct enrp_report_eir *e, int64_t from_s, int64_t to_s)
{
	const char *name = e->eir.name;
	struct enrp_eir_form form;
	struct enrp_retention ret;
	int rc;

	e->have_usage = enrp_eir_usage(st, e->eir.id, &e->usage) == 0;
	e->have_files = enrp_eir_files(st, e->eir.id, &e->files) == 0;
	if (enrp_form_get(st, name, &form) == 0) {
		copy(e->backup_mode, sizeof(e->backup_mode), form.value[ENRP_FORM_HOTCOLD]);
		copy(e->schedule, sizeof(e->schedule), form.value[ENRP_FORM_SCHEDULE]);
	}
	if (enrp_retention_get(st, name, &ret) == 0)
		enrp_retention_format(&ret, e->retention, sizeof(e->retention));
	if (enrp_hold_lock_get(st, name, &e->lock_days) != 0)
		e->lock_days = 0;
	if (e->eir.state != ENRP_STATE_DESTROYED) {
		struct holds_ctx hc = { e, 0, 0 };
		if ((rc = enrp_hold_list(st, name, hold_cb, &hc)) < 0 && rc != -ENOENT)
			return rc;
		struct enrp_slot_report *sr = NULL;
		size_t n = 0;
		rc = enrp_transfer_slots(st, name, tz, from_s, to_s, r->now, &sr, &n);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		if (n) {
			e->slots = calloc(n, sizeof(*e->slots));
			if (!e->slots) {
				free(sr);
				return -ENOMEM;
			}
			for (size_t i = 0; i < n; i++) {
				e->slots[i].start = sr[i].slot.start;
				e->slots[i].day = day_of_s(tz, sr[i].slot.start);
				e->slots[i].status = sr[i].status;
			}
			e->nslots = n;
		}
		free(sr);
	}
	if (e->eir.state == ENRP_STATE_DESTROYED) {
		struct enrp_destruction d;
		if (enrp_destroy_record(st, e->eir.id, &d) == 0) {
			e->destroyed.have = true;
			e->destroyed.finished = d.finished;
			e->destroyed.when_ns = d.started;
			snprintf(e->destroyed.requested_by, sizeof(e->destroyed.requested_by), "%.127s",
			         d.requested_by);
			snprintf(e->destroyed.approved_by, sizeof(e->destroyed.approved_by), "%.127s",
			         d.approved_by);
			snprintf(e->destroyed.reason, sizeof(e->destroyed.reason), "%s", d.reason);
			e->destroyed.files = d.files;
			e->destroyed.bytes = d.bytes;
			e->destroyed.stored = d.stored;
		}
	}
	return enrp_usage_samples(st, e->eir.id, r->from, r->to, &e->samples, &e->nsamples);
}

int enrp_report_build(enrp_store *st, const enrp_tz *tz, enrp_day from, enrp_day to, int64_t now,
                      enrp_day today, struct enrp_report **out)
{
	struct enrp_report *r = calloc(1, sizeof(*r));
	struct eir_vec ev = { 0 };
	struct enrp_restore_status *rs = NULL;
	size_t nrs = 0, nd;
	int rc;

	if (!r)
		return -ENOMEM;
	r->from = from;
	r->to = to;
	r->now = now;
	r->today = today;
	snprintf(r->zone, sizeof(r->zone), "%s", enrp_tz_name(tz));
	if ((rc = period_days(r, &nd)))
		goto out_free;
	if ((rc = enrp_eir_list(st, vec_cb, &ev)))
		goto out_free;
	r->eirs = calloc(ev.n ? ev.n : 1, sizeof(*r->eirs));
	if (!r->eirs) {
		rc = -ENOMEM;
		goto out_free;
	}
	r->n = ev.n;
	for (size_t i = 0; i < ev.n; i++)
		r->eirs[i].eir = ev.v[i];

	int64_t from_s = day_start(tz, from), to_s = day_start(tz, to + 1);
	for (size_t i = 0; i < r->n; i++)
		if ((rc = read_eir(st, tz, r, &r->eirs[i], from_s, to_s)))
			goto out_free;

	if ((rc = enrp_restore_status_all(st, today, enrp_tz_offset(tz, now), &rs, &nrs)))
		goto out_free;
	for (size_t k = 0; k < nrs; k++)
		for (size_t i = 0; i < r->n; i++)
			if (r->eirs[i].eir.id == rs[k].eir.id) {
				r->eirs[i].restore = rs[k];
				r->eirs[i].have_restore = true;
				break;
			}

	struct enrp_journal_filter f = { .since_ns = from_s * NS, .until_ns = to_s * NS - 1 };
	struct fail_ctx fc = { r };
	if ((rc = enrp_journal_iter(st, &f, fail_cb, &fc)))
		goto out_free;

	rc = enrp_report_compute(r);
out_free:
	free(rs);
	free(ev.v);
	if (rc) {
		enrp_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}
