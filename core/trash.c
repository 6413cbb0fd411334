/*
 * trash.c — verified copies that clients deleted or overwrote (see
 * include/enrp/trash.h).
 *
 * Where copies come from.  A sealed file's chunk list is dropped in exactly
 * two places: when its inode is freed (ns.c free_orphan: the last name went
 * and no handle or lookup holds it) and when it is made a spool file again
 * to be changed (ingest.c unseal: O_TRUNC, a truncation to 0, or a
 * copy-back).  Both call trash_or_release(), which, for a verified copy,
 * moves the chunk list's bytes unchanged into a DBI_TRASH entry — with the
 * references they hold in DBI_CHUNK, so GC keeps every chunk — instead of
 * dropping them.  That is one put and one delete in the transaction that
 * makes the change: a crash leaves either the old file or the trash entry,
 * never neither and never both.  A hard link with names left is not freed,
 * so it is not trashed; the last name's removal trashes it.
 *
 * Names.  The namespace knows a file's last name only when it goes (unlink,
 * rename over), long before the orphan is freed; it keeps it in the file's
 * DBI_ORPHAN value (struct trash_note), and the entry records that directory
 * and name.  A rewrite knows no name: the inode lives on under its names,
 * and listing finds them then.  Paths are derived when listed, from the
 * directory inode up to the EIR's directory; a directory removed since then
 * leaves only the name.
 *
 * Records.  Key: EIR id (be32) + trash id (be64, the store counter
 * "next_trash"), so an EIR's entries are together and oldest first.  Value
 * (version 1): why, inode, parent, name, size, SHA-256, sealed_at,
 * trashed_at, mtime, mode, uid, gid, then the chunk list exactly as
 * DBI_EXTENT held it (rec_extent_encode; length 0 when the file had none).
 *
 * Journal.  Clients remove files by the thousand, so trashing writes no
 * record of its own: enrp_trash_journal() writes one trash-add record per
 * EIR for everything trashed since the last one (the DBI_META marker
 * "trash_journalled" is the first id not yet journalled, moved in the same
 * transaction as the records).  The daemon calls it about every second;
 * restore and purge call it first in their own transaction, so an id is
 * always journalled as added before it is restored or purged.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/trash.h>

#include "chunk_int.h"
#include "eir_int.h"
#include "hold_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "record_int.h"
#include "snapshot_int.h"
#include "store_int.h"
#include "trash_int.h"

#define TRASH_KEY_LEN 12
#define TRASH_VERSION 1
#define NOTE_VERSION 1
#define NS_PER_DAY (86400LL * 1000000000LL)
#define RETENTION_DAYS_MAX 36500
#define PATH_DEPTH_MAX 2048
#define META_NEXT "next_trash"
#define META_JOURNALLED "trash_journalled"

static const char *const why_names[ENRP_TRASH_WHY_COUNT] = {
	[ENRP_TRASH_DELETED] = "deleted",
	[ENRP_TRASH_RENAMED_OVER] = "renamed-over",
	[ENRP_TRASH_TRUNCATED] = "truncated",
	[ENRP_TRASH_OVERWRITTEN] = "overwritten",
};

const char *enrp_trash_why_name(enum enrp_trash_why why)
{
	return (unsigned)why < ENRP_TRASH_WHY_COUNT ? why_names[why] : "?";
}

static void trash_key(uint8_t key[TRASH_KEY_LEN], uint32_t eir_id, uint64_t id)
{
	be32_put(key, eir_id);
	be64_put(key + 4, id);
}

/* ---- the orphan's note ---- */

int trash_note_encode(const struct trash_note *n, struct rec_out *o)
{
	rec_put_u8(o, NOTE_VERSION);
	rec_put_u8(o, (uint8_t)n->why);
	rec_put_u64(o, n->parent);
	rec_put_u64(o, (uint64_t)n->at);
	rec_put_str(o, n->name);
	return o->err;
}

int trash_note_decode(const void *p, size_t len, struct trash_note *n)
{
	memset(n, 0, sizeof(*n));
	n->why = ENRP_TRASH_DELETED;
	if (len == 0)
		return 0;
	struct rec_in in;
	rec_in_init(&in, p, len);
	if (rec_get_u8(&in) != NOTE_VERSION)
		return -EIO;
	n->why = rec_get_u8(&in);
	n->parent = rec_get_u64(&in);
	n->at = (int64_t)rec_get_u64(&in);
	rec_get_str(&in, n->name, sizeof(n->name));
	int rc = rec_in_end(&in);
	if (rc == 0 && (unsigned)n->why > TRASH_NOTE_EXPIRED)
		rc = -EIO;
	if (rc)
		trash_note_decode("", 0, n);
	return rc;
}

/* ---- entries ---- */

/* A decoded value: the entry, and its chunk list's bytes (borrowed from
 * the value). */
struct raw_entry {
	struct enrp_trash_entry e;
	const void *ext;
	size_t ext_len;
};

static int entry_encode(const struct enrp_trash_entry *e, const void *ext, size_t ext_len,
                        struct rec_out *o)
{
	rec_put_u8(o, TRASH_VERSION);
	rec_put_u8(o, (uint8_t)e->why);
	rec_put_u64(o, e->ino);
	rec_put_u64(o, e->parent);
	rec_put_str(o, e->name);
	rec_put_u64(o, e->size);
	rec_put_bytes(o, e->sha256, 32);
	rec_put_u64(o, (uint64_t)e->sealed_at);
	rec_put_u64(o, (uint64_t)e->trashed_at);
	rec_put_u64(o, (uint64_t)e->mtime);
	rec_put_u32(o, e->mode);
	rec_put_u32(o, e->uid);
	rec_put_u32(o, e->gid);
	rec_put_u32(o, (uint32_t)ext_len);
	rec_put_bytes(o, ext, ext_len);
	return o->err;
}

static int entry_decode(const void *p, size_t n, struct raw_entry *r)
{
	struct rec_in in;
	struct enrp_trash_entry *e = &r->e;
	rec_in_init(&in, p, n);
	if (rec_get_u8(&in) != TRASH_VERSION)
		return -EIO;
	e->why = rec_get_u8(&in);
	e->ino = rec_get_u64(&in);
	e->parent = rec_get_u64(&in);
	rec_get_str(&in, e->name, sizeof(e->name));
	e->size = rec_get_u64(&in);
	rec_get_bytes(&in, e->sha256, 32);
	e->sealed_at = (int64_t)rec_get_u64(&in);
	e->trashed_at = (int64_t)rec_get_u64(&in);
	e->mtime = (int64_t)rec_get_u64(&in);
	e->mode = rec_get_u32(&in);
	e->uid = rec_get_u32(&in);
	e->gid = rec_get_u32(&in);
	uint32_t ext_len = rec_get_u32(&in);
	if (in.err || in.left != ext_len || (unsigned)e->why >= ENRP_TRASH_WHY_COUNT ||
	    !S_ISREG(e->mode))
		return -EIO;
	r->ext = in.p;
	r->ext_len = ext_len;
	return 0;
}

/* The chunk list of R (empty for a file that had none). */
static int entry_extents(const struct raw_entry *r, struct extent_ent **v, size_t *n)
{
	*v = NULL;
	*n = 0;
	return r->ext_len ? rec_extent_decode(r->ext, r->ext_len, v, n) : 0;
}

static uint64_t count_chunks(const struct extent_ent *v, size_t n)
{
	uint64_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += v[i].plain_len != 0; /* a run of zeros holds no chunk */
	return c;
}

int trash_record_decode(const void *key, size_t klen, const void *val, size_t vlen,
                        uint32_t *eir_id, struct enrp_trash_entry *e, struct extent_ent **v,
                        size_t *n)
{
	struct raw_entry r;
	*v = NULL;
	*n = 0;
	if (klen != TRASH_KEY_LEN)
		return -EIO;
	memset(&r, 0, sizeof(r));
	*eir_id = be32_get(key);
	int rc = entry_decode(val, vlen, &r);
	if (rc == 0)
		rc = entry_extents(&r, v, n);
	if (rc)
		return -EIO;
	r.e.id = be64_get((const uint8_t *)key + 4);
	r.e.chunks = count_chunks(*v, *n);
	*e = r.e;
	return 0;
}

int trash_or_release(enrp_txn *t, uint64_t ino, const struct inode_rec *r,
                     const struct trash_note *note)
{
	if (!S_ISREG(r->mode) || r->content != ENRP_CONTENT_SEALED || (r->flags & INODE_CORRUPT) ||
	    note->why == TRASH_NOTE_EXPIRED)
		return extent_release(t, r->eir_id, ino);
	uint64_t id;
	uint8_t k[8];
	be64_put(k, ino);
	/* A snapshot that still shows these bytes keeps its own copy of the
	 * chunk list (and references) before it moves here. */
	int rc = snap_preserve(t, r->eir_id, DBI_EXTENT, k, sizeof(k));
	if (rc == 0)
		rc = txn_next_id(t, META_NEXT, 1, &id);
	if (rc)
		return rc;
	/* Read after the puts above: a write may move the pages a value
	 * points into. */
	MDB_val ev = { 0, NULL };
	rc = txn_get(t, DBI_EXTENT, k, sizeof(k), &ev);
	if (rc && rc != -ENOENT)
		return rc;
	bool had_list = rc == 0;
	struct enrp_trash_entry e;
	memset(&e, 0, sizeof(e));
	e.why = note->why;
	e.ino = ino;
	e.parent = note->parent;
	snprintf(e.name, sizeof(e.name), "%s", note->name);
	e.size = r->size;
	memcpy(e.sha256, r->sha256, 32);
	e.sealed_at = r->sealed_at;
	e.trashed_at = note->at ? note->at : enrp_now_ns();
	e.mtime = r->mtime;
	e.mode = r->mode;
	e.uid = r->uid;
	e.gid = r->gid;
	struct rec_out o;
	uint8_t key[TRASH_KEY_LEN];
	rec_out_init(&o);
	trash_key(key, r->eir_id, id);
	rc = entry_encode(&e, ev.mv_data, had_list ? ev.mv_size : 0, &o);
	if (rc == 0)
		rc = txn_put(t, DBI_TRASH, key, sizeof(key), o.buf, o.len, MDB_NOOVERWRITE);
	rec_out_release(&o);
	if (rc == 0 && had_list)
		rc = txn_del(t, DBI_EXTENT, k, sizeof(k));
	return rc;
}

/* files=DAYS of the EIR's retention setting ("files=90,keep-daily=7"), 0
 * when there is none.  Only this piece of the policy is read here; the
 * retention module owns the rest of the syntax. */
static int retention_files_days(enrp_txn *t, uint32_t eir_id, uint32_t *days)
{
	const void *v;
	size_t n;
	*days = 0;
	int rc = eir_setting_get(t, eir_id, "retention", &v, &n);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	char text[256];
	if (n >= sizeof(text))
		return 0; /* not ours to judge: no expiry shown */
	memcpy(text, v, n);
	text[n] = '\0';
	for (char *p = text; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (strncmp(p, "files=", 6) != 0)
			continue;
		char *end;
		unsigned long d = strtoul(p + 6, &end, 10);
		if (end != p + 6 && (*end == '\0' || *end == ',') && d <= RETENTION_DAYS_MAX)
			*days = (uint32_t)d;
		return 0;
	}
	return 0;
}

/* ---- paths ---- */

struct find_child {
	uint64_t ino;
	char *name;
	size_t size;
};

static int find_child_cb(enrp_txn *t, const char *name, size_t len, uint64_t ino, uint32_t type,
                         void *arg)
{
	struct find_child *f = arg;
	(void)t;
	(void)type;
	if (ino != f->ino || len >= f->size)
		return 0;
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	return 1;
}

/* Prepends "NAME/" (or NAME when *POS is at the end) before *POS of BUF. */
static int prepend(char *buf, size_t *pos, const char *name, bool slash)
{
	size_t n = strlen(name) + (slash ? 1 : 0);
	if (n > *pos)
		return -ENAMETOOLONG;
	*pos -= n;
	memcpy(buf + *pos, name, strlen(name));
	if (slash)
		buf[*pos + n - 1] = '/';
	return 0;
}

/* The path of NAME in directory DIR relative to ROOT, into OUT (SIZE):
 * -ENOENT when a directory on the way is gone or unlinked. */
static int path_of(enrp_txn *t, uint64_t root, uint64_t dir, const char *name, char *out,
                   size_t size)
{
	char buf[ENRP_TRASH_PATH_MAX + 1];
	size_t pos = sizeof(buf) - 1;
	buf[pos] = '\0';
	int rc = prepend(buf, &pos, name, false);
	for (int depth = 0; rc == 0 && dir != root; depth++) {
		struct inode_rec r;
		char part[ENRP_NAME_MAX + 1];
		struct find_child f = { dir, part, sizeof(part) };
		if (depth > PATH_DEPTH_MAX || dir == ENRP_ROOT_INO)
			return -ENOENT;
		if ((rc = ns_inode_get(t, dir, &r)))
			return rc;
		if (!S_ISDIR(r.mode) || r.nlink == 0)
			return -ENOENT;
		rc = ns_dir_scan(t, r.parent, "", 0, find_child_cb, &f);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -ENOENT;
		rc = prepend(buf, &pos, part, true);
		dir = r.parent;
	}
	if (rc == 0)
		snprintf(out, size, "%s", buf + pos);
	return rc;
}

/* ---- list ---- */

struct list_args {
	const char *eir;
	int (*cb)(const struct enrp_trash_entry *e, void *arg);
	void *arg;
	struct enrp_trash_entry *v;
	size_t n, cap;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* For rewrites, which know no name: where each inode that still lives is
 * linked now, found in one pass over the directory entries (only when such
 * entries are listed). */
static int name_rewrites(enrp_txn *t, struct list_args *a, uint32_t eir_id)
{
	uint64_t *want = NULL;
	size_t nwant = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct inode_rec r;
		struct enrp_trash_entry *e = &a->v[i];
		if (e->parent || ns_inode_get(t, e->ino, &r) || r.nlink == 0 || r.eir_id != eir_id)
			continue;
		uint64_t *w = realloc(want, (nwant + 1) * sizeof(*want));
		if (!w) {
			free(want);
			return -ENOMEM;
		}
		want = w;
		want[nwant++] = e->ino;
	}
	if (nwant == 0)
		return 0;
	qsort(want, nwant, sizeof(*want), cmp_u64);
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_DIRENT, &cur);
	if (rc) {
		free(want);
		return rc;
	}
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0) {
		uint64_t ino;
		uint32_t type;
		if (k.mv_size > 8 && k.mv_size <= 8 + ENRP_NAME_MAX &&
		    rec_dirent_decode(v.mv_data, v.mv_size, &ino, &type) == 0 &&
		    bsearch(&ino, want, nwant, sizeof(*want), cmp_u64)) {
			for (size_t i = 0; i < a->n; i++) {
				struct enrp_trash_entry *e = &a->v[i];
				if (e->ino != ino || e->parent || e->name[0])
					continue;
				e->parent = be64_get(k.mv_data);
				memcpy(e->name, (const char *)k.mv_data + 8, k.mv_size - 8);
				e->name[k.mv_size - 8] = '\0';
			}
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	free(want);
	return mrc == MDB_NOTFOUND ? 0 : store_mdb_err(mrc);
}

static int list_fn(enrp_txn *t, void *arg)
{
	struct list_args *a = arg;
	struct enrp_eir eir;
	uint32_t days;
	int rc = eir_get_by_name_txn(t, a->eir, &eir);
	if (rc == 0)
		rc = retention_files_days(t, eir.id, &days);
	if (rc)
		return rc;
	MDB_cursor *cur;
	if ((rc = txn_cursor(t, DBI_TRASH, &cur)))
		return rc == -ENOENT ? 0 : rc; /* an older store opened read-only */
	uint8_t start[TRASH_KEY_LEN];
	trash_key(start, eir.id, 0);
	MDB_val k = { sizeof(start), start }, v;
	a->n = 0;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && rc == 0 && k.mv_size == TRASH_KEY_LEN && be32_get(k.mv_data) == eir.id) {
		struct extent_ent *x;
		size_t nx;
		uint32_t id32;
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 64;
			void *nv = realloc(a->v, cap * sizeof(*a->v));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			a->v = nv;
			a->cap = cap;
		}
		struct enrp_trash_entry *e = &a->v[a->n];
		memset(e, 0, sizeof(*e));
		rc = trash_record_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &id32, e, &x, &nx);
		free(x);
		if (rc) {
			enrp_log(ENRP_LOG_ERR, "trash entry %" PRIu64 " of EIR '%s': corrupt record",
			         be64_get((const uint8_t *)k.mv_data + 4), eir.name);
			break;
		}
		snprintf(e->eir, sizeof(e->eir), "%s", eir.name);
		e->expires = days ? e->sealed_at + (int64_t)days * NS_PER_DAY : 0;
		a->n++;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	if (mrc && mrc != MDB_NOTFOUND)
		return store_mdb_err(mrc);
	if ((rc = name_rewrites(t, a, eir.id)))
		return rc;
	/* Entries of one rm -rf share their directories: the last directory's
	 * path is remembered instead of walked up again. */
	uint64_t memo_dir = 0;
	bool memo_ok = false;
	char memo[ENRP_TRASH_PATH_MAX + 1];
	for (size_t i = 0; i < a->n && rc == 0; i++) {
		struct enrp_trash_entry *e = &a->v[i];
		if (e->parent && e->name[0]) {
			if (e->parent != memo_dir) {
				memo_dir = e->parent;
				memo_ok = path_of(t, eir.root_ino, e->parent, "", memo, sizeof(memo)) == 0;
			}
			size_t m = strlen(memo), nm = strlen(e->name);
			if (memo_ok && m + nm < sizeof(e->path)) { /* else: too long to tell */
				memcpy(e->path, memo, m);
				memcpy(e->path + m, e->name, nm + 1);
			}
		}
		rc = a->cb(e, a->arg);
	}
	return rc;
}

int enrp_trash_list(enrp_store *st, const char *eir,
                    int (*cb)(const struct enrp_trash_entry *e, void *arg), void *arg)
{
	struct list_args a = { .eir = eir, .cb = cb, .arg = arg };
	int rc = enrp_store_read(st, list_fn, &a);
	free(a.v);
	return rc;
}

/* ---- journal ---- */

static int meta_u64(enrp_txn *t, const char *key, uint64_t dflt, uint64_t *out)
{
	MDB_val v;
	int rc = txn_get(t, DBI_META, key, strlen(key), &v);
	*out = dflt;
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size != 8)
		return -EIO;
	*out = be64_get(v.mv_data);
	return 0;
}

struct added {
	uint64_t from;      /* first id not journalled yet */
	const struct enrp_actor *actor;
	unsigned records;
	enrp_txn *t;
};

static int journal_eir_added(const struct enrp_eir *eir, void *arg)
{
	struct added *a = arg;
	enrp_txn *t = a->t;
	uint64_t count = 0, bytes = 0, first = 0, last = 0, why[ENRP_TRASH_WHY_COUNT] = { 0 };
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_TRASH, &cur);
	if (rc)
		return rc;
	uint8_t start[TRASH_KEY_LEN];
	trash_key(start, eir->id, a->from);
	MDB_val k = { sizeof(start), start }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && k.mv_size == TRASH_KEY_LEN && be32_get(k.mv_data) == eir->id) {
		struct raw_entry r;
		uint64_t id = be64_get((const uint8_t *)k.mv_data + 4);
		if (entry_decode(v.mv_data, v.mv_size, &r) == 0) {
			count++;
			bytes += r.e.size;
			why[r.e.why]++;
			first = first ? first : id;
			last = id;
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (mrc && mrc != MDB_NOTFOUND)
		return store_mdb_err(mrc);
	if (count == 0)
		return 0;
	char details[256] = "";
	enrp_details_add(details, sizeof(details), "count", "%" PRIu64, count);
	enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, bytes);
	enrp_details_add(details, sizeof(details), "ids", "%" PRIu64 "-%" PRIu64, first, last);
	enrp_details_add(details, sizeof(details), "deleted", "%" PRIu64, why[ENRP_TRASH_DELETED]);
	enrp_details_add(details, sizeof(details), "renamed_over", "%" PRIu64,
	                 why[ENRP_TRASH_RENAMED_OVER]);
	enrp_details_add(details, sizeof(details), "truncated", "%" PRIu64,
	                 why[ENRP_TRASH_TRUNCATED]);
	enrp_details_add(details, sizeof(details), "overwritten", "%" PRIu64,
	                 why[ENRP_TRASH_OVERWRITTEN]);
	a->records++;
	return journal_append_txn(t, a->actor, eir->name, "trash-add", details);
}

/* Journals the entries added since the marker; moves the marker. */
static int journal_added_txn(enrp_txn *t, const struct enrp_actor *actor, unsigned *records)
{
	uint64_t from, next;
	int rc = meta_u64(t, META_JOURNALLED, 1, &from);
	if (rc == 0)
		rc = meta_u64(t, META_NEXT, 1, &next);
	if (rc || from >= next)
		return rc;
	struct added a = { .from = from, .actor = actor, .t = t };
	if ((rc = eir_each_txn(t, journal_eir_added, &a)))
		return rc;
	uint8_t buf[8];
	be64_put(buf, next);
	if (records)
		*records += a.records;
	return txn_put(t, DBI_META, META_JOURNALLED, strlen(META_JOURNALLED), buf, sizeof(buf), 0);
}

static int journal_due_fn(enrp_txn *t, void *arg)
{
	bool *due = arg;
	uint64_t from, next;
	int rc = meta_u64(t, META_JOURNALLED, 1, &from);
	if (rc == 0)
		rc = meta_u64(t, META_NEXT, 1, &next);
	*due = rc == 0 && from < next;
	return rc;
}

struct journal_args {
	const struct enrp_actor *actor;
	unsigned records;
};

static int journal_fn(enrp_txn *t, void *arg)
{
	struct journal_args *a = arg;
	a->records = 0;
	return journal_added_txn(t, a->actor, &a->records);
}

int enrp_trash_journal(enrp_store *st, const struct enrp_actor *actor, unsigned *records)
{
	bool due = false;
	struct journal_args a = { .actor = actor };
	/* A read first: the daemon asks every second, and mostly nothing is due. */
	int rc = enrp_store_read(st, journal_due_fn, &due);
	if (rc == 0 && due)
		rc = enrp_store_write(st, journal_fn, &a);
	if (records)
		*records = rc ? 0 : a.records;
	return rc;
}

/* ---- restore ---- */

/* One entry, read and copied out of the transaction's pages (the value is
 * used after writes). */
struct held_entry {
	struct raw_entry r;
	uint8_t *copy;
};

static int entry_get(enrp_txn *t, uint32_t eir_id, uint64_t id, struct held_entry *h)
{
	uint8_t key[TRASH_KEY_LEN];
	MDB_val v;
	trash_key(key, eir_id, id);
	h->copy = NULL;
	int rc = txn_get(t, DBI_TRASH, key, sizeof(key), &v);
	if (rc)
		return rc == -ENOENT ? -ESRCH : rc;
	h->copy = malloc(v.mv_size ? v.mv_size : 1);
	if (!h->copy)
		return -ENOMEM;
	memcpy(h->copy, v.mv_data, v.mv_size);
	memset(&h->r, 0, sizeof(h->r));
	rc = entry_decode(h->copy, v.mv_size, &h->r);
	h->r.e.id = id;
	return rc;
}

struct restore_args {
	const char *eir, *to;
	uint64_t id;
	const struct enrp_actor *actor;
	struct enrp_trash_entry out;
};

/* The directory and name TO names under the EIR's directory ROOT. */
static int resolve_to(enrp_txn *t, uint64_t root, const char *to, uint64_t *dir,
                      const char **name)
{
	size_t n = strlen(to);
	if (n == 0 || to[0] == '/' || to[n - 1] == '/' || n > ENRP_TRASH_PATH_MAX)
		return -EINVAL;
	const char *slash = strrchr(to, '/');
	*name = slash ? slash + 1 : to;
	if (!slash) {
		*dir = root;
		return 0;
	}
	char parent[ENRP_TRASH_PATH_MAX + 1];
	memcpy(parent, to, (size_t)(slash - to));
	parent[slash - to] = '\0';
	return ns_resolve(t, root, parent, dir);
}

static int restore_fn(enrp_txn *t, void *arg)
{
	struct restore_args *a = arg;
	struct enrp_eir eir;
	struct held_entry h = { .copy = NULL };
	int rc = eir_get_by_name_txn(t, a->eir, &eir);
	if (rc)
		return rc;
	if (eir.state == ENRP_STATE_RETIRED || eir.state == ENRP_STATE_DESTROYED)
		return -EROFS;
	if ((rc = journal_added_txn(t, a->actor, NULL)))
		return rc;
	if ((rc = entry_get(t, eir.id, a->id, &h)))
		goto out_free;
	struct enrp_trash_entry *e = &h.r.e;
	uint64_t dir = e->parent;
	const char *name = e->name;
	if (a->to)
		rc = resolve_to(t, eir.root_ino, a->to, &dir, &name);
	else if (!dir || !name[0])
		rc = -EDESTADDRREQ;
	if (rc)
		goto out_free;
	struct inode_rec r;
	memset(&r, 0, sizeof(r));
	r.eir_id = eir.id;
	r.mode = e->mode;
	r.uid = e->uid;
	r.gid = e->gid;
	r.size = e->size;
	r.atime = r.mtime = e->mtime;
	r.content = ENRP_CONTENT_SEALED;
	r.gen = 1;
	/* The seal's time, not now: retention and the lock count from it. */
	r.sealed_at = e->sealed_at;
	memcpy(r.sha256, e->sha256, 32);
	uint64_t ino;
	if ((rc = ns_restore_file(t, dir, name, &r, &ino)))
		goto out_free;
	uint8_t k[8], key[TRASH_KEY_LEN];
	be64_put(k, ino);
	if (h.r.ext_len && (rc = snap_preserve(t, eir.id, DBI_EXTENT, k, sizeof(k))) == 0)
		txn_put(t, DBI_EXTENT, k, sizeof(k), h.r.ext, h.r.ext_len, 0);
	if (rc)
		goto out_free;
	trash_key(key, eir.id, a->id);
	txn_del(t, DBI_TRASH, key, sizeof(key));
	if ((rc = t->ret))
		goto out_free;
	a->out = *e;
	snprintf(a->out.eir, sizeof(a->out.eir), "%s", eir.name);
	if (a->to)
		snprintf(a->out.path, sizeof(a->out.path), "%s", a->to);
	else if (path_of(t, eir.root_ino, dir, name, a->out.path, sizeof(a->out.path)))
		snprintf(a->out.path, sizeof(a->out.path), "%s", name);
	char sha[65], details[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	journal_hex(e->sha256, 32, sha);
	enrp_details_add(details, sizeof(details), "id", "%" PRIu64, a->id);
	enrp_details_add(details, sizeof(details), "path", "%s", a->out.path);
	enrp_details_add(details, sizeof(details), "ino", "%" PRIu64, ino);
	enrp_details_add(details, sizeof(details), "size", "%" PRIu64, e->size);
	enrp_details_add(details, sizeof(details), "sha256", "%s", sha);
	rc = journal_append_txn(t, a->actor, eir.name, "trash-restore", details);
out_free:
	free(h.copy);
	return rc;
}

int enrp_trash_restore(enrp_store *st, const char *eir, uint64_t id, const char *to,
                       const struct enrp_actor *actor, struct enrp_trash_entry *out)
{
	struct restore_args a = { .eir = eir, .to = to, .id = id, .actor = actor };
	int rc = enrp_store_write(st, restore_fn, &a);
	if (rc == 0 && out)
		*out = a.out;
	return rc;
}

/* ---- purge ---- */

struct purge_args {
	const char *eir;
	uint64_t id;
	const struct enrp_actor *actor;
	struct enrp_trash_purged out;
};

/* Purges entry ID of EIR unless it is held or locked (-EPERM). */
static int purge_one(enrp_txn *t, uint32_t eir_id, uint64_t id, int64_t now,
                     struct enrp_trash_purged *out)
{
	struct held_entry h;
	struct extent_ent *v = NULL;
	size_t n = 0;
	int rc = entry_get(t, eir_id, id, &h);
	if (rc)
		goto out_free;
	/* The lock promises that nothing sealed in its last DAYS is destroyed:
	 * an operator's purge keeps that promise too. */
	rc = hold_active_txn(t, eir_id, h.r.e.ino, h.r.e.sealed_at, now);
	if (rc > 0) {
		out->kept++;
		rc = -EPERM;
		goto out_free;
	}
	if (rc || (rc = entry_extents(&h.r, &v, &n)))
		goto out_free;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (v[i].plain_len)
			rc = chunk_unref(t, eir_id, v[i].digest);
	uint8_t key[TRASH_KEY_LEN];
	trash_key(key, eir_id, id);
	if (rc == 0)
		rc = txn_del(t, DBI_TRASH, key, sizeof(key));
	if (rc == 0) {
		out->entries++;
		out->bytes += h.r.e.size;
	}
out_free:
	free(v);
	free(h.copy);
	return rc;
}

/* The ids of EIR_ID's entries, in a new array (caller frees). */
static int entry_ids(enrp_txn *t, uint32_t eir_id, uint64_t **ids, size_t *n)
{
	MDB_cursor *cur;
	size_t cap = 0;
	*ids = NULL;
	*n = 0;
	int rc = txn_cursor(t, DBI_TRASH, &cur);
	if (rc)
		return rc;
	uint8_t start[TRASH_KEY_LEN];
	trash_key(start, eir_id, 0);
	MDB_val k = { sizeof(start), start }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && k.mv_size == TRASH_KEY_LEN && be32_get(k.mv_data) == eir_id) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			uint64_t *nv = realloc(*ids, cap * sizeof(**ids));
			if (!nv) {
				mdb_cursor_close(cur);
				return -ENOMEM;
			}
			*ids = nv;
		}
		(*ids)[(*n)++] = be64_get((const uint8_t *)k.mv_data + 4);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : 0;
}

static int purge_fn(enrp_txn *t, void *arg)
{
	struct purge_args *a = arg;
	uint32_t eir_id;
	int64_t now = enrp_now_ns();
	memset(&a->out, 0, sizeof(a->out));
	int rc = eir_lookup_txn(t, a->eir, &eir_id);
	if (rc == 0)
		rc = journal_added_txn(t, a->actor, NULL);
	if (rc)
		return rc;
	char details[160] = "";
	if (a->id) {
		if ((rc = purge_one(t, eir_id, a->id, now, &a->out)))
			return rc;
		enrp_details_add(details, sizeof(details), "id", "%" PRIu64, a->id);
		enrp_details_add(details, sizeof(details), "count", "1");
		enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, a->out.bytes);
	} else {
		uint64_t *ids;
		size_t n;
		rc = entry_ids(t, eir_id, &ids, &n);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			rc = purge_one(t, eir_id, ids[i], now, &a->out);
			if (rc == -EPERM)
				rc = 0; /* counted as kept; the others still go */
		}
		free(ids);
		if (rc)
			return rc;
		if (a->out.entries == 0 && a->out.kept == 0)
			return 0; /* nothing to purge: nothing to journal */
		/* kept: entries held or still locked */
		enrp_details_add(details, sizeof(details), "all", "yes");
		enrp_details_add(details, sizeof(details), "count", "%" PRIu64, a->out.entries);
		enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, a->out.bytes);
		enrp_details_add(details, sizeof(details), "kept", "%" PRIu64, a->out.kept);
	}
	return journal_append_txn(t, a->actor, a->eir, "trash-purge", details);
}

int enrp_trash_purge(enrp_store *st, const char *eir, uint64_t id,
                     const struct enrp_actor *actor, struct enrp_trash_purged *out)
{
	struct purge_args a = { .eir = eir, .id = id, .actor = actor };
	int rc = enrp_store_write(st, purge_fn, &a);
	if (out)
		*out = a.out;
	return rc;
}
