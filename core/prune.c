/*
 * prune.c — applying retention policies (see include/enrp/prune.h).
 *
 * Each EIR is done on its own: its snapshots are listed, the policy's
 * keep-* rules select the ones that stay (enrp_retention_select, the same
 * choices as borg prune), and the others are deleted through
 * enrp_snapshot_delete, which refuses a held one; then its trash entries
 * whose files=DAYS have passed since their seal are purged through
 * enrp_trash_purge, which refuses a held or locked copy.  A snapshot
 * mounted for a test restore stays too (enrp_snapshot_delete's -EBUSY; a
 * dry run asks enrp_snapshot_mounted) and is reported as mounted, apart
 * from the held ones.  Both journal what they remove; prune adds one
 * record per EIR with the counts.  What it frees goes to garbage
 * collection.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/calendar.h>
#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/hold.h>
#include <enrp/journal.h>
#include <enrp/prune.h>
#include <enrp/retention.h>
#include <enrp/trash.h>
#include <enrp/tz.h>

#define NS_PER_DAY (86400LL * 1000000000LL)

struct run {
	enrp_store *st;
	bool dry_run;
	const struct enrp_actor *actor;
	enrp_prune_fn *cb;
	enrp_prune_progress_fn *progress;
	void *arg;
	struct enrp_prune_result *out;
	int64_t now;
	const enrp_tz *tz;
};

struct snaps {
	struct enrp_snapshot *v;
	size_t n, cap;
};

static int snap_collect(const struct enrp_snapshot *s, void *arg)
{
	struct snaps *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct enrp_snapshot *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *s;
	return 0;
}

static void tell(struct run *r, const char *eir, enum enrp_prune_kind kind, const char *what,
                 uint64_t id, int64_t at, bool held, bool mounted)
{
	struct enrp_prune_item it = { .kind = kind, .id = id, .at = at, .held = held,
		                      .mounted = mounted };
	snprintf(it.eir, sizeof(it.eir), "%s", eir);
	snprintf(it.what, sizeof(it.what), "%s", what);
	if (held)
		r->out->held++;
	if (mounted)
		r->out->mounted++;
	if (r->cb)
		r->cb(&it, r->arg);
}

static void progress(struct run *r)
{
	if (r->progress)
		r->progress(r->out, r->arg);
}

static int prune_snapshots(struct run *r, const char *eir, const struct enrp_retention *p,
                           uint64_t *gone)
{
	struct snaps l = { 0 };
	int rc = enrp_snapshot_list(r->st, eir, snap_collect, &l);
	int64_t *ts = rc == 0 && l.n ? malloc(l.n * sizeof(*ts)) : NULL;
	struct enrp_retention_pick *pick = ts ? malloc(l.n * sizeof(*pick)) : NULL;
	if (rc == 0 && l.n && !pick)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		ts[i] = l.v[i].created;
	if (rc == 0 && l.n)
		rc = enrp_retention_select(p, r->tz, ts, l.n, pick);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		r->out->snapshots_seen++;
		if (pick[i].rule != ENRP_KEEP_RULES) {
			progress(r);
			continue; /* selected by a rule: it stays */
		}
		bool held = false, mounted = false;
		if ((rc = enrp_snapshot_held(r->st, eir, l.v[i].name, &held)))
			break;
		if (!held && r->dry_run &&
		    enrp_snapshot_mounted(r->st, eir, l.v[i].name, NULL, 0, &mounted) != 0)
			mounted = false; /* gone meanwhile, or no lock to ask: say it would go */
		if (!held && !r->dry_run) {
			rc = enrp_snapshot_delete(r->st, eir, l.v[i].name, r->actor);
			/* Held meanwhile, or mounted for a test restore: it stays
			 * this time, and is reported as what keeps it. */
			held = rc == -EPERM;
			mounted = rc == -EBUSY;
			if (held || mounted)
				rc = 0;
		}
		if (rc == 0 && !held && !mounted) {
			r->out->snapshots++;
			(*gone)++;
		}
		if (rc == 0)
			tell(r, eir, ENRP_PRUNE_SNAPSHOT, l.v[i].name, l.v[i].gen, l.v[i].created, held,
			     mounted);
		progress(r);
	}
	free(pick);
	free(ts);
	free(l.v);
	return rc;
}

struct expired {
	struct enrp_trash_entry *v;
	size_t n, cap;
	int64_t now;
};

static int trash_collect(const struct enrp_trash_entry *e, void *arg)
{
	struct expired *l = arg;
	if (!e->expires || e->expires > l->now)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct enrp_trash_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

static int prune_trash(struct run *r, const char *eir, uint64_t *gone)
{
	struct expired l = { .now = r->now };
	uint32_t lock_days = 0;
	int rc = enrp_trash_list(r->st, eir, trash_collect, &l);
	if (rc == 0)
		rc = enrp_hold_lock_get(r->st, eir, &lock_days);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const struct enrp_trash_entry *e = &l.v[i];
		r->out->trash_seen++;
		bool held = lock_days && e->sealed_at + (int64_t)lock_days * NS_PER_DAY > r->now;
		if (!held && !r->dry_run) {
			struct enrp_trash_purged pg;
			rc = enrp_trash_purge(r->st, eir, e->id, r->actor, &pg);
			if (rc == -EPERM || rc == -ESRCH) { /* held, or restored meanwhile */
				held = rc == -EPERM;
				rc = 0;
				if (!held)
					continue;
			}
		}
		if (rc == 0 && !held) {
			r->out->trash++;
			r->out->trash_bytes += e->size;
			(*gone)++;
		}
		if (rc == 0)
			tell(r, eir, ENRP_PRUNE_TRASH, e->path[0] ? e->path : e->name, e->id, e->sealed_at,
			     held, false);
		progress(r);
	}
	free(l.v);
	return rc;
}

struct names {
	char (*v)[ENRP_EIR_NAME_MAX + 1];
	size_t n, cap;
	const char *only;
};

static int name_collect(const struct enrp_eir *e, void *arg)
{
	struct names *l = arg;
	if (l->only && strcmp(l->only, e->name) != 0)
		return 0;
	if (e->state == ENRP_STATE_DESTROYED)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char(*v)[ENRP_EIR_NAME_MAX + 1] = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", e->name);
	return 0;
}

int enrp_prune(enrp_store *st, const char *eir, bool dry_run, const struct enrp_actor *actor,
               enrp_prune_fn *cb, enrp_prune_progress_fn *progress_fn, void *arg,
               struct enrp_prune_result *out)
{
	memset(out, 0, sizeof(*out));
	struct run r = { .st = st, .dry_run = dry_run, .actor = actor, .cb = cb,
		         .progress = progress_fn, .arg = arg, .out = out };
	struct names l = { .only = eir };
	char zone[ENRP_ZONE_MAX + 1];
	enrp_tz *tz = NULL;
	int rc = enrp_platform_now(st, &r.now);
	if (rc == 0)
		rc = enrp_eir_list(st, name_collect, &l);
	if (rc == 0 && eir && l.n == 0)
		rc = -ENOENT;
	if (rc == 0)
		rc = enrp_calendar_zone(st, zone);
	if (rc == 0)
		rc = enrp_tz_open(zone, &tz);
	r.tz = tz;
	out->eirs_total = (uint32_t)l.n;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct enrp_retention p;
		uint64_t snaps = 0, trash = 0;
		/* This EIR's counts are the run's growth across it. */
		struct enrp_prune_result before = *out;
		if ((rc = enrp_retention_get(st, l.v[i], &p)))
			break;
		if (!p.files_days && !enrp_retention_has_keep(&p)) {
			out->eirs_done++;
			progress(&r);
			continue; /* no policy: everything is kept */
		}
		out->eirs++;
		if (enrp_retention_has_keep(&p))
			rc = prune_snapshots(&r, l.v[i], &p, &snaps);
		if (rc == 0 && p.files_days)
			rc = prune_trash(&r, l.v[i], &trash);
		uint64_t held = out->held - before.held, mounted = out->mounted - before.mounted;
		if (rc == 0 && !dry_run && (snaps || trash || held || mounted))
			rc = enrp_journal_append(st, actor, l.v[i], "prune",
			                         "snapshots=%" PRIu64 " kept=%" PRIu64 " trash=%" PRIu64
			                         " trash_bytes=%" PRIu64 " held=%" PRIu64 " mounted=%" PRIu64,
			                         snaps, out->snapshots_seen - before.snapshots_seen - snaps,
			                         trash, out->trash_bytes - before.trash_bytes, held,
			                         mounted);
		out->eirs_done++;
		progress(&r);
	}
	enrp_tz_free(tz);
	free(l.v);
	return rc;
}
