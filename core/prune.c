/*
 * prune.c — applying retention policies (see include/enrp/prune.h).
 *
 * Each EIR is done on its own: first its live files sealed more than
 * files=DAYS ago are removed, found by a walk of its tree and each removed
 * by enrp_ns_expire (through the running daemon when there is one: see
 * enrp_prune_expire_fn), which checks again, in its own transaction, that
 * the name still holds that sealed copy and that no hold or lock covers it.
 * Then its snapshots are listed, the policy's
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
#include <sys/stat.h>

#include <enrp/details.h>
#include <enrp/calendar.h>
#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/hold.h>
#include <enrp/journal.h>
#include <enrp/ns.h>
#include <enrp/prune.h>
#include <enrp/retention.h>
#include <enrp/trash.h>
#include <enrp/tz.h>

#define NS_PER_DAY (86400LL * 1000000000LL)

struct run {
	enrp_store *st;
	bool dry_run;
	const struct enrp_actor *actor;
	const struct enrp_prune_opts *opts;
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

/* ---- live files ---- */

/* A directory still to walk, and its path in the EIR ("" for its root). */
struct dir_to_walk {
	uint64_t ino;
	char *path;
};

struct file_walk {
	struct dir_to_walk *dirs;
	size_t ndirs, cap;
	const char *path;       /* of the directory being read */
	int64_t sealed_before;
	/* The expired files of that directory: acted on after its walk, so
	 * no write happens inside the walk's read transactions. */
	struct enrp_prune_item *found;
	uint64_t *found_parent;
	size_t nfound, found_cap;
	uint64_t dir_ino;
};

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", dir, *dir ? "/" : "", name);
	return p;
}

static int walk_entry(const struct enrp_dirent *ent, void *arg)
{
	struct file_walk *w = arg;
	const struct enrp_stat *a = &ent->attr;
	if (S_ISDIR(a->st.st_mode)) {
		if (w->ndirs == w->cap) {
			size_t cap = w->cap ? 2 * w->cap : 16;
			struct dir_to_walk *v = realloc(w->dirs, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			w->dirs = v;
			w->cap = cap;
		}
		char *path = join(w->path, ent->name);
		if (!path)
			return -ENOMEM;
		w->dirs[w->ndirs++] = (struct dir_to_walk){ a->st.st_ino, path };
		return 0;
	}
	if (!S_ISREG(a->st.st_mode) || a->content != ENRP_CONTENT_SEALED || !a->sealed_at ||
	    a->sealed_at > w->sealed_before)
		return 0;
	if (w->nfound == w->found_cap) {
		size_t cap = w->found_cap ? 2 * w->found_cap : 16;
		struct enrp_prune_item *v = realloc(w->found, cap * sizeof(*v));
		uint64_t *pv = v ? realloc(w->found_parent, cap * sizeof(*pv)) : NULL;
		if (v)
			w->found = v;
		if (!pv)
			return -ENOMEM;
		w->found_parent = pv;
		w->found_cap = cap;
	}
	struct enrp_prune_item *it = &w->found[w->nfound];
	memset(it, 0, sizeof(*it));
	it->kind = ENRP_PRUNE_FILE;
	it->id = a->st.st_ino;
	it->at = a->sealed_at;
	/* WHAT holds the path for the report; the name is its last part. */
	if ((size_t)snprintf(it->what, sizeof(it->what), "%s%s%s", w->path, *w->path ? "/" : "",
	                     ent->name) >= sizeof(it->what))
		return -ENAMETOOLONG;
	w->found_parent[w->nfound++] = w->dir_ino;
	return 0;
}

static int expire_here(uint64_t parent, const char *name, uint64_t ino, int64_t sealed_before,
                       void *arg)
{
	enrp_store *st = arg;
	int rc = enrp_ns_expire(st, parent, name, ino, sealed_before, false);
	/* No kernel holds anything while the caller keeps enrpfs out: a last
	 * link's orphan is freed at once. */
	if (rc == 0)
		rc = enrp_ns_forget(st, ino);
	return rc;
}

static int expire_found(struct run *r, const char *eir, struct file_walk *w, uint64_t *gone)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < w->nfound; i++) {
		struct enrp_prune_item *it = &w->found[i];
		const char *slash = strrchr(it->what, '/');
		const char *name = slash ? slash + 1 : it->what;
		if (r->dry_run)
			rc = enrp_ns_expire(r->st, w->found_parent[i], name, it->id, w->sealed_before,
			                    true);
		else if (r->opts->expire)
			rc = r->opts->expire(w->found_parent[i], name, it->id, w->sealed_before,
			                     r->opts->expire_arg);
		else
			rc = expire_here(w->found_parent[i], name, it->id, w->sealed_before, r->st);
		bool held = rc == -EPERM;
		if (rc == -ESTALE) { /* removed or rewritten meanwhile: not ours */
			rc = 0;
			continue;
		}
		if (held)
			rc = 0;
		if (rc)
			break;
		if (!held) {
			r->out->files++;
			(*gone)++;
		}
		tell(r, eir, ENRP_PRUNE_FILE, it->what, it->id, it->at, held, false);
		progress(r);
	}
	w->nfound = 0;
	return rc;
}

static int prune_files(struct run *r, const char *eir, uint32_t days, uint64_t *gone)
{
	struct enrp_eir e;
	int rc = enrp_eir_get(r->st, eir, &e);
	if (rc)
		return rc;
	struct file_walk w = { .sealed_before = r->now - (int64_t)days * NS_PER_DAY };
	char *root = strdup("");
	if (!root)
		return -ENOMEM;
	w.dirs = malloc(sizeof(*w.dirs));
	if (!w.dirs) {
		free(root);
		return -ENOMEM;
	}
	w.dirs[0] = (struct dir_to_walk){ e.root_ino, root };
	w.ndirs = w.cap = 1;
	/* Depth first from the end of the list: memory follows the depth and
	 * the widest level, never the whole tree. */
	while (rc == 0 && w.ndirs) {
		struct dir_to_walk d = w.dirs[--w.ndirs];
		w.path = d.path;
		w.dir_ino = d.ino;
		rc = enrp_ns_readdir(r->st, d.ino, walk_entry, &w);
		if (rc == -ENOENT) /* removed meanwhile */
			rc = 0;
		if (rc == 0)
			rc = expire_found(r, eir, &w, gone);
		free(d.path);
	}
	while (w.ndirs)
		free(w.dirs[--w.ndirs].path);
	free(w.dirs);
	free(w.found);
	free(w.found_parent);
	return rc;
}

/* ---- trash ---- */

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

/* The "prune" record of one EIR: what went, what stayed and why. */
static int journal_prune(enrp_store *st, const struct enrp_actor *actor, const char *eir,
                         uint64_t files, uint64_t snaps, uint64_t kept, uint64_t trash,
                         uint64_t trash_bytes, uint64_t held, uint64_t mounted)
{
	char details[256] = "";
	enrp_details_add(details, sizeof(details), "files", "%" PRIu64, files);
	enrp_details_add(details, sizeof(details), "snapshots", "%" PRIu64, snaps);
	enrp_details_add(details, sizeof(details), "kept", "%" PRIu64, kept);
	enrp_details_add(details, sizeof(details), "trash", "%" PRIu64, trash);
	enrp_details_add(details, sizeof(details), "trash_bytes", "%" PRIu64, trash_bytes);
	enrp_details_add(details, sizeof(details), "held", "%" PRIu64, held);
	enrp_details_add(details, sizeof(details), "mounted", "%" PRIu64, mounted);
	return enrp_journal_append(st, actor, eir, "prune", "%s", details);
}

int enrp_prune(enrp_store *st, const char *eir, const struct enrp_prune_opts *opts,
               const struct enrp_actor *actor, struct enrp_prune_result *out)
{
	memset(out, 0, sizeof(*out));
	bool dry_run = opts->dry_run;
	struct run r = { .st = st, .dry_run = dry_run, .actor = actor, .opts = opts,
		         .cb = opts->cb, .progress = opts->progress, .arg = opts->arg,
		         .out = out };
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
		uint64_t files = 0, snaps = 0, trash = 0;
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
		if (p.files_days)
			rc = prune_files(&r, l.v[i], p.files_days, &files);
		if (rc == 0 && enrp_retention_has_keep(&p))
			rc = prune_snapshots(&r, l.v[i], &p, &snaps);
		if (rc == 0 && p.files_days)
			rc = prune_trash(&r, l.v[i], &trash);
		uint64_t held = out->held - before.held, mounted = out->mounted - before.mounted;
		if (rc == 0 && !dry_run && (files || snaps || trash || held || mounted))
			rc = journal_prune(st, actor, l.v[i], files, snaps,
			                   out->snapshots_seen - before.snapshots_seen - snaps, trash,
			                   out->trash_bytes - before.trash_bytes, held, mounted);
		out->eirs_done++;
		progress(&r);
	}
	enrp_tz_free(tz);
	free(l.v);
	return rc;
}
