/*
 * snapshot.c — snapshots: their records, the versions kept for them, and
 * the reading of a key as it was (see include/enrp/snapshot.h).
 *
 * Layout.  DBI_SNAPSHOT: EIR + 'g' + gen -> snapshot record; EIR + 'n' +
 * name -> gen.  The EIR setting "snap_latest" holds the gen of its newest
 * snapshot (absent: none).  DBI_PRESERVED holds, for each key of DBI_INODE,
 * DBI_DIRENT, DBI_EXTENT and DBI_XATTR changed after a snapshot:
 *
 *   EIR + kind + key' + gen -> 'V' + the value it had, or 'T' (it did not exist)
 *   EIR + 'G' + gen + kind + key' -> ""    (what snapshot gen keeps: for delete)
 *
 * where kind is 'i', 'd', 'e' or 'x' and key' is the database's key with a
 * NUL after the name in a dirent or xattr key, so that the versions of one
 * key sort together, oldest snapshot first.
 *
 * Rule.  A version kept under gen g is the value the key had when snapshot g
 * was taken, and is kept at the key's first change after g.  The value of a
 * key in snapshot N is then its version under the smallest g >= N, or, when
 * there is none, its live value (it has not changed since N).  A key created
 * after the latest snapshot gets a 'T' under it, so that older snapshots do
 * not see it.  Deleting snapshot g moves each version it kept to the
 * snapshot before it, p, unless p keeps one of its own (the key changed
 * between p and g) — then, or when g was the oldest, the version goes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <enrp/details.h>
#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/rundir.h>
#include <enrp/snapshot.h>

#include "chunk_int.h"
#include "clock_int.h"
#include "eir_int.h"
#include "hold_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "record_int.h"
#include "snapshot_int.h"
#include "store_int.h"

#define SNAP_VERSION 1
#define PKEY_MAX (4 + 1 + 8 + ENRP_NAME_MAX + 1 + 8 + 256)
#define VAL_KEPT 'V'
#define VAL_ABSENT 'T'

/* ---- keys ---- */

static char kind_of(enum store_dbi db)
{
	switch (db) {
	case DBI_INODE: return 'i';
	case DBI_DIRENT: return 'd';
	case DBI_EXTENT: return 'e';
	case DBI_XATTR: return 'x';
	default: return 0;
	}
}

/* EIR + kind + key' (without the gen); its length, 0 if it does not fit. */
static size_t pkey_prefix(uint8_t *buf, uint32_t eir_id, enum store_dbi db, const void *key,
                          size_t klen)
{
	bool named = db == DBI_DIRENT || db == DBI_XATTR;
	if (5 + klen + 1 + 8 > PKEY_MAX)
		return 0;
	be32_put(buf, eir_id);
	buf[4] = (uint8_t)kind_of(db);
	memcpy(buf + 5, key, klen);
	size_t n = 5 + klen;
	if (named)
		buf[n++] = 0;
	return n;
}

static size_t index_key(uint8_t *buf, uint32_t eir_id, uint64_t gen, const uint8_t *prefix,
                        size_t plen)
{
	be32_put(buf, eir_id);
	buf[4] = 'G';
	be64_put(buf + 5, gen);
	memcpy(buf + 13, prefix + 4, plen - 4);
	return 13 + plen - 4;
}

/* ---- the latest snapshot of an EIR ---- */

static int latest_gen(enrp_txn *t, uint32_t eir_id, uint64_t *gen)
{
	const void *v;
	size_t n;
	*gen = 0;
	int rc = eir_setting_get(t, eir_id, "snap_latest", &v, &n);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (n != 8)
		return -EIO;
	*gen = be64_get(v);
	return 0;
}

static int set_latest(enrp_txn *t, uint32_t eir_id, uint64_t gen)
{
	if (gen == 0)
		return eir_setting_del(t, eir_id, "snap_latest");
	uint8_t v[8];
	be64_put(v, gen);
	return eir_setting_put(t, eir_id, "snap_latest", v, sizeof(v));
}

/* ---- references of kept chunk lists ---- */

/* One more (DELTA 1) or one less (-1) reference to each chunk of the chunk
 * list VAL.  The chunks exist: the live list being kept holds them. */
static int extent_refs(enrp_txn *t, uint32_t eir_id, const void *val, size_t n, int delta)
{
	struct extent_ent *v;
	size_t cnt;
	int rc = rec_extent_decode(val, n, &v, &cnt);
	if (rc)
		return rc;
	for (size_t i = 0; i < cnt && rc == 0; i++) {
		if (!v[i].plain_len)
			continue; /* a run of zeros */
		if (delta > 0) {
			struct chunk_rec c;
			rc = chunk_lookup(t, eir_id, v[i].digest, &c);
			if (rc == 0)
				rc = chunk_ref(t, eir_id, v[i].digest, c.stored_len, c.plain_len);
			else if (rc == -ENOENT)
				rc = -EIO; /* a live chunk list names a chunk the index lacks */
		} else {
			rc = chunk_unref(t, eir_id, v[i].digest);
		}
	}
	free(v);
	return rc;
}

/* ---- preserving ---- */

int snap_preserve(enrp_txn *t, uint32_t eir_id, enum store_dbi db, const void *key, size_t klen)
{
	uint64_t gen;
	int rc = latest_gen(t, eir_id, &gen);
	if (rc || gen == 0)
		return rc;
	uint8_t pkey[PKEY_MAX], ikey[PKEY_MAX];
	size_t plen = pkey_prefix(pkey, eir_id, db, key, klen);
	if (!plen)
		return -ENAMETOOLONG;
	be64_put(pkey + plen, gen);
	MDB_val old;
	rc = txn_get(t, DBI_PRESERVED, pkey, plen + 8, &old);
	if (rc == 0)
		return 0; /* kept already: this is not the first change since gen */
	if (rc != -ENOENT)
		return rc;
	MDB_val cur;
	rc = txn_get(t, db, key, klen, &cur);
	if (rc && rc != -ENOENT)
		return rc;
	bool exists = rc == 0;
	uint8_t *val = malloc(exists ? cur.mv_size + 1 : 1);
	if (!val)
		return -ENOMEM;
	val[0] = exists ? VAL_KEPT : VAL_ABSENT;
	size_t vlen = 1;
	if (exists) {
		memcpy(val + 1, cur.mv_data, cur.mv_size);
		vlen += cur.mv_size;
	}
	rc = 0;
	if (exists && db == DBI_EXTENT)
		rc = extent_refs(t, eir_id, val + 1, vlen - 1, +1);
	if (rc == 0)
		rc = txn_put(t, DBI_PRESERVED, pkey, plen + 8, val, vlen, 0);
	free(val);
	size_t ilen = index_key(ikey, eir_id, gen, pkey, plen);
	if (rc == 0)
		rc = txn_put(t, DBI_PRESERVED, ikey, ilen, "", 0, 0);
	return rc;
}

/* ---- reading as it was ---- */

int snap_get(enrp_txn *t, uint32_t eir_id, uint64_t gen, enum store_dbi db, const void *key,
             size_t klen, MDB_val *val)
{
	uint8_t pkey[PKEY_MAX];
	size_t plen = pkey_prefix(pkey, eir_id, db, key, klen);
	if (!plen)
		return -ENOENT;
	be64_put(pkey + plen, gen);
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_PRESERVED, &cur);
	if (rc == -ENOENT)
		return txn_get(t, db, key, klen, val); /* an older store: no versions */
	if (rc)
		return rc;
	MDB_val k = { .mv_size = plen + 8, .mv_data = pkey }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (mrc == 0 && k.mv_size == plen + 8 && memcmp(k.mv_data, pkey, plen) == 0) {
		const uint8_t *p = v.mv_data;
		if (v.mv_size < 1)
			return -EIO;
		if (p[0] == VAL_ABSENT)
			return -ENOENT;
		val->mv_data = (void *)(p + 1);
		val->mv_size = v.mv_size - 1;
		return 0;
	}
	if (mrc && mrc != MDB_NOTFOUND)
		return store_mdb_err(mrc);
	return txn_get(t, db, key, klen, val);
}

/* The named keys of object DIR in DB (directory entries, or an inode's
 * xattrs: both are the id and a name) as they were in snapshot GEN: the
 * live keys and the kept ones, merged by name. */
static int snap_named_scan(enrp_txn *t, uint32_t eir_id, uint64_t gen, enum store_dbi db,
                           uint64_t dir, snap_dirent_fn *cb, void *arg)
{
	MDB_cursor *live, *kept = NULL;
	int rc = txn_cursor(t, db, &live);
	if (rc)
		return rc;
	rc = txn_cursor(t, DBI_PRESERVED, &kept);
	if (rc == -ENOENT) {
		kept = NULL;
		rc = 0;
	}
	if (rc) {
		mdb_cursor_close(live);
		return rc;
	}
	uint8_t lpre[8], kpre[13];
	be64_put(lpre, dir);
	be32_put(kpre, eir_id);
	kpre[4] = kind_of(db);
	be64_put(kpre + 5, dir);
	MDB_val lk = { 8, lpre }, lv, kk = { 13, kpre }, kv;
	int lrc = mdb_cursor_get(live, &lk, &lv, MDB_SET_RANGE);
	int krc = kept ? mdb_cursor_get(kept, &kk, &kv, MDB_SET_RANGE) : MDB_NOTFOUND;
	char name[ENRP_NAME_MAX + 1];
	while (rc == 0) {
		bool lok = lrc == 0 && lk.mv_size > 8 && memcmp(lk.mv_data, lpre, 8) == 0;
		bool kok = krc == 0 && kk.mv_size > 13 + 1 + 8 && memcmp(kk.mv_data, kpre, 13) == 0;
		if (!lok && !kok)
			break;
		const char *ln = lok ? (const char *)lk.mv_data + 8 : NULL;
		size_t lnl = lok ? lk.mv_size - 8 : 0;
		const char *kn = kok ? (const char *)kk.mv_data + 13 : NULL;
		size_t knl = kok ? kk.mv_size - 13 - 1 - 8 : 0;
		int cmp;
		if (!lok)
			cmp = 1;
		else if (!kok)
			cmp = -1;
		else {
			size_t m = lnl < knl ? lnl : knl;
			cmp = memcmp(ln, kn, m);
			if (cmp == 0)
				cmp = lnl < knl ? -1 : lnl > knl;
		}
		const char *nm = cmp <= 0 ? ln : kn;
		size_t nl = cmp <= 0 ? lnl : knl;
		if (nl > ENRP_NAME_MAX) {
			rc = -EIO;
			break;
		}
		memcpy(name, nm, nl);
		name[nl] = '\0';
		uint8_t dkey[8 + ENRP_NAME_MAX];
		size_t dlen = key_dirent(dkey, dir, name);
		MDB_val val;
		int grc = snap_get(t, eir_id, gen, db, dkey, dlen, &val);
		if (grc == 0)
			rc = cb(name, nl, val.mv_data, val.mv_size, arg);
		else if (grc != -ENOENT)
			rc = grc;
		/* Past this name in both: the live entry, and every kept version. */
		if (cmp <= 0)
			lrc = mdb_cursor_get(live, &lk, &lv, MDB_NEXT);
		while (cmp >= 0 && krc == 0 && kk.mv_size == 13 + nl + 1 + 8 &&
		       memcmp(kk.mv_data, kpre, 13) == 0 && memcmp((char *)kk.mv_data + 13, name, nl) == 0)
			krc = mdb_cursor_get(kept, &kk, &kv, MDB_NEXT);
	}
	mdb_cursor_close(live);
	if (kept)
		mdb_cursor_close(kept);
	if (rc == 0 && ((lrc && lrc != MDB_NOTFOUND) || (krc && krc != MDB_NOTFOUND)))
		rc = -EIO;
	return rc;
}

int snap_dir_scan(enrp_txn *t, uint32_t eir_id, uint64_t gen, uint64_t dir, snap_dirent_fn *cb,
                  void *arg)
{
	return snap_named_scan(t, eir_id, gen, DBI_DIRENT, dir, cb, arg);
}

/* ---- snapshot records ---- */

bool enrp_snapshot_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > ENRP_SNAPSHOT_NAME_MAX || strcmp(name, "latest") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-' && c != ':')))
			return false;
	}
	return true;
}

static void rec_key(uint8_t key[13], uint32_t eir_id, uint64_t gen)
{
	be32_put(key, eir_id);
	key[4] = 'g';
	be64_put(key + 5, gen);
}

static size_t name_key(uint8_t *key, uint32_t eir_id, const char *name)
{
	size_t n = strlen(name);
	be32_put(key, eir_id);
	key[4] = 'n';
	memcpy(key + 5, name, n);
	return 5 + n;
}

static int snap_encode(const struct enrp_snapshot *s, struct rec_out *o)
{
	rec_put_u8(o, SNAP_VERSION);
	rec_put_str(o, s->name);
	rec_put_u64(o, (uint64_t)s->created);
	rec_put_str(o, s->by);
	rec_put_u64(o, s->not_included);
	rec_put_u64(o, s->files);
	rec_put_u64(o, s->bytes);
	rec_put_u64(o, s->tree_gen);
	return o->err;
}

static int snap_decode(const void *p, size_t n, struct enrp_snapshot *s)
{
	struct rec_in in;
	rec_in_init(&in, p, n);
	if (rec_get_u8(&in) != SNAP_VERSION)
		return -EIO;
	rec_get_str(&in, s->name, sizeof(s->name));
	s->created = (int64_t)rec_get_u64(&in);
	rec_get_str(&in, s->by, sizeof(s->by));
	s->not_included = rec_get_u64(&in);
	s->files = rec_get_u64(&in);
	s->bytes = rec_get_u64(&in);
	s->tree_gen = rec_get_u64(&in);
	return rec_in_end(&in);
}

int snap_gen_of(enrp_txn *t, uint32_t eir_id, const char *name, uint64_t *gen)
{
	uint8_t key[5 + ENRP_SNAPSHOT_NAME_MAX];
	MDB_val v;
	if (!enrp_snapshot_name_valid(name))
		return -ENOENT;
	int rc = txn_get(t, DBI_SNAPSHOT, key, name_key(key, eir_id, name), &v);
	if (rc)
		return rc;
	if (v.mv_size != 8)
		return -EIO;
	*gen = be64_get(v.mv_data);
	return 0;
}

bool snap_exists(enrp_txn *t, uint32_t eir_id, uint64_t gen)
{
	uint8_t key[13];
	MDB_val v;
	rec_key(key, eir_id, gen);
	return txn_get(t, DBI_SNAPSHOT, key, sizeof(key), &v) == 0;
}

int snap_load(enrp_txn *t, const struct enrp_eir *e, uint64_t gen, struct enrp_snapshot *s)
{
	uint8_t key[13];
	MDB_val v;
	rec_key(key, e->id, gen);
	memset(s, 0, sizeof(*s));
	int rc = txn_get(t, DBI_SNAPSHOT, key, sizeof(key), &v);
	if (rc == 0)
		rc = snap_decode(v.mv_data, v.mv_size, s);
	if (rc == 0) {
		s->gen = gen;
		snprintf(s->eir, sizeof(s->eir), "%s", e->name);
	}
	return rc;
}

struct create_args {
	const char *eir;
	char name[ENRP_SNAPSHOT_NAME_MAX + 1];
	int64_t now;
	const struct enrp_actor *actor;
	struct enrp_snapshot *out;
};

static int create_fn(enrp_txn *t, void *arg)
{
	struct create_args *a = arg;
	struct enrp_eir e;
	int rc = eir_get_by_name_txn(t, a->eir, &e);
	if (rc)
		return rc;
	if (e.state == ENRP_STATE_DESTROYED)
		return -ENOENT;
	uint64_t gen;
	if (snap_gen_of(t, e.id, a->name, &gen) == 0)
		return -EEXIST;
	struct enrp_eir_files f;
	struct enrp_eir_usage u;
	memset(&f, 0, sizeof(f));
	memset(&u, 0, sizeof(u));
	if ((rc = eir_files_get_txn(t, e.id, &f)) && rc != -ENOENT)
		return rc;
	if ((rc = eir_usage_get_txn(t, e.id, &u)))
		return rc;
	if ((rc = txn_next_id(t, "next_snapshot", 1, &gen)))
		return rc;
	struct enrp_snapshot s;
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", a->name);
	snprintf(s.eir, sizeof(s.eir), "%s", e.name);
	snprintf(s.by, sizeof(s.by), "uid=%" PRIu32 " %s", a->actor->uid, a->actor->command);
	s.gen = gen;
	s.created = a->now;
	s.not_included = f.open + f.pending;
	s.files = f.verified;
	s.bytes = u.bytes;
	s.tree_gen = f.tree_gen;
	uint8_t key[13], nkey[5 + ENRP_SNAPSHOT_NAME_MAX], gv[8];
	struct rec_out o;
	rec_out_init(&o);
	rc = snap_encode(&s, &o);
	rec_key(key, e.id, gen);
	if (rc == 0)
		rc = txn_put(t, DBI_SNAPSHOT, key, sizeof(key), o.buf, o.len, 0);
	rec_out_release(&o);
	be64_put(gv, gen);
	if (rc == 0)
		rc = txn_put(t, DBI_SNAPSHOT, nkey, name_key(nkey, e.id, s.name), gv, 8, 0);
	if (rc == 0)
		rc = set_latest(t, e.id, gen);
	if (rc)
		return rc;
	char details[512] = "";
	enrp_details_add(details, sizeof(details), "snapshot", "%s", s.name);
	enrp_details_add(details, sizeof(details), "gen", "%" PRIu64, gen);
	enrp_details_add(details, sizeof(details), "files", "%" PRIu64, s.files);
	enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, s.bytes);
	enrp_details_add(details, sizeof(details), "not_included", "%" PRIu64, s.not_included);
	if ((rc = journal_append_txn(t, a->actor, e.name, "snapshot-create", details)))
		return rc;
	if (a->out)
		*a->out = s;
	return 0;
}

int enrp_snapshot_create(enrp_store *st, const char *eir, const char *name,
                         const struct enrp_actor *actor, struct enrp_snapshot *out)
{
	struct create_args a = { .eir = eir, .actor = actor, .out = out };
	int rc = enrp_platform_now(st, &a.now);
	if (rc)
		return rc;
	if (name) {
		if (!enrp_snapshot_name_valid(name))
			return -EINVAL;
		snprintf(a.name, sizeof(a.name), "%s", name);
	} else {
		time_t secs = (time_t)(a.now / 1000000000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(a.name, sizeof(a.name), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	return enrp_store_write(st, create_fn, &a);
}

struct get_args {
	const char *eir, *name;
	struct enrp_snapshot *out;
};

static int get_fn(enrp_txn *t, void *arg)
{
	struct get_args *a = arg;
	struct enrp_eir e;
	uint64_t gen;
	int rc = eir_get_by_name_txn(t, a->eir, &e);
	if (rc == 0)
		rc = snap_gen_of(t, e.id, a->name, &gen);
	return rc ? rc : snap_load(t, &e, gen, a->out);
}

int enrp_snapshot_get(enrp_store *st, const char *eir, const char *name,
                      struct enrp_snapshot *out)
{
	struct get_args a = { .eir = eir, .name = name, .out = out };
	return enrp_store_read(st, get_fn, &a);
}

struct list_args {
	const char *eir;
	int (*cb)(const struct enrp_snapshot *s, void *arg);
	void *arg;
};

static int list_eir(enrp_txn *t, const struct enrp_eir *e, struct list_args *a)
{
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_SNAPSHOT, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	uint8_t pre[5];
	be32_put(pre, e->id);
	pre[4] = 'g';
	MDB_val k = { 5, pre }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && mrc == 0 && k.mv_size == 13 && memcmp(k.mv_data, pre, 5) == 0) {
		struct enrp_snapshot s;
		memset(&s, 0, sizeof(s));
		rc = snap_decode(v.mv_data, v.mv_size, &s);
		if (rc == 0) {
			s.gen = be64_get((const uint8_t *)k.mv_data + 5);
			snprintf(s.eir, sizeof(s.eir), "%s", e->name);
			rc = a->cb(&s, a->arg);
		}
		if (rc == 0)
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc ? rc : (mrc && mrc != MDB_NOTFOUND) ? store_mdb_err(mrc) : 0;
}

struct list_walk {
	enrp_txn *t;
	struct list_args *a;
};

static int list_walk_fn(const struct enrp_eir *e, void *arg)
{
	struct list_walk *w = arg;
	return list_eir(w->t, e, w->a);
}

static int list_fn(enrp_txn *t, void *arg)
{
	struct list_args *a = arg;
	if (a->eir) {
		struct enrp_eir e;
		int rc = eir_get_by_name_txn(t, a->eir, &e);
		return rc ? rc : list_eir(t, &e, a);
	}
	struct list_walk w = { t, a };
	return eir_each_txn(t, list_walk_fn, &w);
}

int enrp_snapshot_list(enrp_store *st, const char *eir,
                       int (*cb)(const struct enrp_snapshot *s, void *arg), void *arg)
{
	struct list_args a = { .eir = eir, .cb = cb, .arg = arg };
	return enrp_store_read(st, list_fn, &a);
}

/* ---- delete ---- */

struct delete_args {
	const char *eir, *name;
	uint64_t gen;          /* the one whose mount lock the caller holds */
	const struct enrp_actor *actor;
	uint64_t moved, dropped;
	int64_t held_until;
};

/* The gen of the snapshot of EIR_ID just before GEN (0: none). */
static int previous_gen(enrp_txn *t, uint32_t eir_id, uint64_t gen, uint64_t *prev)
{
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_SNAPSHOT, &cur);
	if (rc)
		return rc;
	uint8_t key[13];
	rec_key(key, eir_id, gen);
	MDB_val k = { sizeof(key), key }, v;
	*prev = 0;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (mrc == 0)
		mrc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	if (mrc == 0 && k.mv_size == 13 && memcmp(k.mv_data, key, 5) == 0)
		*prev = be64_get((const uint8_t *)k.mv_data + 5);
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : 0;
}

/* What snapshot GEN of EIR_ID keeps: the DBI_PRESERVED prefixes (EIR +
 * kind + key'), read into memory before any of them moves. */
struct prefixes {
	uint8_t (*v)[PKEY_MAX];
	size_t *len;
	size_t n, cap;
};

static int kept_by(enrp_txn *t, uint32_t eir_id, uint64_t gen, struct prefixes *out)
{
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_PRESERVED, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	uint8_t pre[13];
	be32_put(pre, eir_id);
	pre[4] = 'G';
	be64_put(pre + 5, gen);
	MDB_val k = { sizeof(pre), pre }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && k.mv_size > 13 && memcmp(k.mv_data, pre, 13) == 0) {
		size_t plen = 4 + k.mv_size - 13;
		if (plen + 8 > PKEY_MAX) {
			rc = -EIO;
			break;
		}
		if (out->n == out->cap) {
			size_t cap = out->cap ? 2 * out->cap : 64;
			void *nv = realloc(out->v, cap * sizeof(*out->v));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			out->v = nv;
			size_t *nl = realloc(out->len, cap * sizeof(*out->len));
			if (!nl) {
				rc = -ENOMEM;
				break;
			}
			out->len = nl;
			out->cap = cap;
		}
		be32_put(out->v[out->n], eir_id);
		memcpy(out->v[out->n] + 4, (const uint8_t *)k.mv_data + 13, k.mv_size - 13);
		out->len[out->n++] = plen;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
	return rc;
}

/* Moves or drops the version of PREFIX kept under GEN (see the file top). */
static int release_version(enrp_txn *t, uint32_t eir_id, const uint8_t *prefix, size_t plen,
                           uint64_t gen, uint64_t prev, struct delete_args *a)
{
	uint8_t key[PKEY_MAX], pkey[PKEY_MAX], ikey[PKEY_MAX];
	memcpy(key, prefix, plen);
	be64_put(key + plen, gen);
	MDB_val v;
	int rc = txn_get(t, DBI_PRESERVED, key, plen + 8, &v);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	size_t vlen = v.mv_size;
	uint8_t *val = malloc(vlen ? vlen : 1);
	if (!val)
		return -ENOMEM;
	memcpy(val, v.mv_data, vlen);
	bool move = false;
	if (prev) {
		memcpy(pkey, prefix, plen);
		be64_put(pkey + plen, prev);
		MDB_val pv;
		rc = txn_get(t, DBI_PRESERVED, pkey, plen + 8, &pv);
		move = rc == -ENOENT;
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc == 0 && move) {
		rc = txn_put(t, DBI_PRESERVED, pkey, plen + 8, val, vlen, 0);
		if (rc == 0)
			rc = txn_put(t, DBI_PRESERVED, ikey, index_key(ikey, eir_id, prev, prefix, plen),
			             "", 0, 0);
		a->moved++;
	} else if (rc == 0) {
		if (prefix[4] == 'e' && vlen > 1 && val[0] == VAL_KEPT)
			rc = extent_refs(t, eir_id, val + 1, vlen - 1, -1);
		a->dropped++;
	}
	free(val);
	if (rc == 0)
		rc = txn_del(t, DBI_PRESERVED, key, plen + 8);
	if (rc == 0)
		rc = txn_del(t, DBI_PRESERVED, ikey, index_key(ikey, eir_id, gen, prefix, plen));
	return rc;
}

static int delete_fn(enrp_txn *t, void *arg)
{
	struct delete_args *a = arg;
	struct enrp_eir e;
	struct enrp_snapshot s;
	uint64_t gen, prev, latest;
	int rc = eir_get_by_name_txn(t, a->eir, &e);
	if (rc == 0)
		rc = snap_gen_of(t, e.id, a->name, &gen);
	if (rc == 0 && gen != a->gen)
		rc = -EAGAIN; /* deleted and taken again since it was locked */
	if (rc == 0)
		rc = snap_load(t, &e, gen, &s); /* what it held, for the journal */
	if (rc == 0)
		rc = previous_gen(t, e.id, gen, &prev);
	if (rc == 0)
		rc = latest_gen(t, e.id, &latest);
	int64_t now = 0;
	if (rc == 0)
		rc = clock_now_txn(t, &now);
	if (rc == 0 && (rc = hold_snapshot_active_txn(t, e.id, gen, now, &a->held_until)) > 0)
		rc = -EPERM; /* held: nobody deletes it before its hold ends */
	if (rc)
		return rc;
	struct prefixes kept = { 0 };
	rc = kept_by(t, e.id, gen, &kept);
	for (size_t i = 0; rc == 0 && i < kept.n; i++)
		rc = release_version(t, e.id, kept.v[i], kept.len[i], gen, prev, a);
	free(kept.v);
	free(kept.len);
	uint8_t key[13], nkey[5 + ENRP_SNAPSHOT_NAME_MAX];
	rec_key(key, e.id, gen);
	if (rc == 0)
		rc = txn_del(t, DBI_SNAPSHOT, key, sizeof(key));
	if (rc == 0)
		rc = txn_del(t, DBI_SNAPSHOT, nkey, name_key(nkey, e.id, a->name));
	if (rc == 0 && latest == gen)
		rc = set_latest(t, e.id, prev);
	if (rc)
		return rc;
	char details[512] = "";
	enrp_details_add(details, sizeof(details), "snapshot", "%s", a->name);
	enrp_details_add(details, sizeof(details), "gen", "%" PRIu64, gen);
	enrp_details_add(details, sizeof(details), "files", "%" PRIu64, s.files);
	enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, s.bytes);
	enrp_details_add(details, sizeof(details), "versions_moved", "%" PRIu64, a->moved);
	enrp_details_add(details, sizeof(details), "versions_released", "%" PRIu64, a->dropped);
	return journal_append_txn(t, a->actor, e.name, "snapshot-delete", details);
}

int enrp_snapshot_delete(enrp_store *st, const char *eir, const char *name,
                         const struct enrp_actor *actor)
{
	struct enrp_snapshot s;
	struct enrp_eir e;
	int rc = enrp_snapshot_get(st, eir, name, &s);
	if (rc == 0)
		rc = enrp_eir_get(st, eir, &e);
	if (rc)
		return rc;
	/* A mounted snapshot stays: an operator is restoring from it.  The
	 * lock is held across the deletion so no mount starts meanwhile. */
	int lock = enrp_rundir_snapshot_delete_lock(enrp_store_path(st), e.id, s.gen, NULL, 0);
	if (lock < 0)
		return lock;
	struct delete_args a = { .eir = eir, .name = name, .gen = s.gen, .actor = actor };
	rc = enrp_store_write(st, delete_fn, &a);
	close(lock);
	return rc;
}

int enrp_snapshot_mounted(enrp_store *st, const char *eir, const char *name, char *where,
                          size_t size, bool *mounted)
{
	struct enrp_snapshot s;
	struct enrp_eir e;
	*mounted = false;
	if (where && size)
		where[0] = '\0';
	int rc = enrp_snapshot_get(st, eir, name, &s);
	if (rc == 0)
		rc = enrp_eir_get(st, eir, &e);
	if (rc)
		return rc;
	int lock = enrp_rundir_snapshot_delete_lock(enrp_store_path(st), e.id, s.gen, where, size);
	if (lock == -EBUSY) {
		*mounted = true;
		return 0;
	}
	if (lock < 0)
		return lock;
	close(lock);
	return 0;
}

/* ---- the tree as it was ---- */

struct view_args {
	const struct enrp_snapshot *s;
	uint64_t parent, ino;
	const char *name;
	struct enrp_stat *out;
	int (*cb)(const struct enrp_dirent *ent, void *arg);
	void *arg;
	enrp_txn *t;
	uint32_t eir_id;
};

/* Inode INO in the snapshot; a regular file must have been verified then. */
static int view_inode(enrp_txn *t, uint32_t eir_id, uint64_t gen, uint64_t ino,
                      struct enrp_stat *out)
{
	uint8_t key[8];
	MDB_val v;
	struct inode_rec r;
	be64_put(key, ino);
	int rc = snap_get(t, eir_id, gen, DBI_INODE, key, sizeof(key), &v);
	if (rc == 0)
		rc = rec_inode_decode(v.mv_data, v.mv_size, &r);
	if (rc)
		return rc;
	if (r.eir_id != eir_id)
		return -ENOENT;
	if (S_ISREG(r.mode) && r.content != ENRP_CONTENT_SEALED)
		return -ENOENT; /* not the platform's bytes yet at that instant */
	ns_fill_stat(ino, &r, out);
	return 0;
}

static int view_eir(enrp_txn *t, const struct enrp_snapshot *s, uint32_t *eir_id)
{
	struct enrp_eir e;
	uint64_t gen;
	int rc = eir_get_by_name_txn(t, s->eir, &e);
	if (rc == 0)
		rc = snap_gen_of(t, e.id, s->name, &gen);
	if (rc == 0 && gen != s->gen)
		rc = -ENOENT; /* deleted, and the name reused */
	if (rc == 0)
		*eir_id = e.id;
	return rc;
}

static int getattr_fn(enrp_txn *t, void *arg)
{
	struct view_args *a = arg;
	uint32_t id;
	int rc = view_eir(t, a->s, &id);
	return rc ? rc : view_inode(t, id, a->s->gen, a->ino, a->out);
}

int enrp_snapshot_getattr(enrp_store *st, const struct enrp_snapshot *s, uint64_t ino,
                          struct enrp_stat *out)
{
	struct view_args a = { .s = s, .ino = ino, .out = out };
	return enrp_store_read(st, getattr_fn, &a);
}

static int lookup_fn(enrp_txn *t, void *arg)
{
	struct view_args *a = arg;
	uint32_t id;
	int rc = view_eir(t, a->s, &id);
	if (rc)
		return rc;
	uint8_t key[8 + ENRP_NAME_MAX];
	MDB_val v;
	uint64_t ino;
	uint32_t type;
	if (strlen(a->name) > ENRP_NAME_MAX)
		return -ENAMETOOLONG;
	rc = snap_get(t, id, a->s->gen, DBI_DIRENT, key, key_dirent(key, a->parent, a->name), &v);
	if (rc == 0)
		rc = rec_dirent_decode(v.mv_data, v.mv_size, &ino, &type);
	return rc ? rc : view_inode(t, id, a->s->gen, ino, a->out);
}

int enrp_snapshot_lookup(enrp_store *st, const struct enrp_snapshot *s, uint64_t parent,
                         const char *name, struct enrp_stat *out)
{
	struct view_args a = { .s = s, .parent = parent, .name = name, .out = out };
	return enrp_store_read(st, lookup_fn, &a);
}

static int readdir_ent(const char *name, size_t len, const void *val, size_t vlen, void *arg)
{
	struct view_args *a = arg;
	uint64_t ino;
	uint32_t type;
	(void)len;
	int rc = rec_dirent_decode(val, vlen, &ino, &type);
	if (rc)
		return rc;
	struct enrp_dirent ent = { .name = name };
	rc = view_inode(a->t, a->eir_id, a->s->gen, ino, &ent.attr);
	if (rc == -ENOENT)
		return 0; /* a file that was not verified then */
	return rc ? rc : a->cb(&ent, a->arg);
}

static int readdir_fn(enrp_txn *t, void *arg)
{
	struct view_args *a = arg;
	int rc = view_eir(t, a->s, &a->eir_id);
	if (rc)
		return rc;
	a->t = t;
	struct enrp_stat dir;
	if ((rc = view_inode(t, a->eir_id, a->s->gen, a->ino, &dir)))
		return rc;
	if (!S_ISDIR(dir.st.st_mode))
		return -ENOTDIR;
	return snap_dir_scan(t, a->eir_id, a->s->gen, a->ino, readdir_ent, a);
}

int enrp_snapshot_readdir(enrp_store *st, const struct enrp_snapshot *s, uint64_t dir,
                          int (*cb)(const struct enrp_dirent *ent, void *arg), void *arg)
{
	struct view_args a = { .s = s, .ino = dir, .cb = cb, .arg = arg };
	return enrp_store_read(st, readdir_fn, &a);
}

int snap_file_extents(enrp_txn *t, const struct enrp_snapshot *s, uint64_t ino, uint32_t *eir_id,
                      struct extent_ent **v, size_t *n)
{
	uint8_t key[8];
	MDB_val val;
	struct inode_rec r;
	int rc = view_eir(t, s, eir_id);
	be64_put(key, ino);
	if (rc == 0)
		rc = snap_get(t, *eir_id, s->gen, DBI_INODE, key, sizeof(key), &val);
	if (rc == 0)
		rc = rec_inode_decode(val.mv_data, val.mv_size, &r);
	if (rc)
		return rc;
	if (r.eir_id != *eir_id)
		return -ENOENT;
	if (!S_ISREG(r.mode) || r.content != ENRP_CONTENT_SEALED)
		return -EINVAL;
	rc = snap_get(t, *eir_id, s->gen, DBI_EXTENT, key, sizeof(key), &val);
	if (rc == -ENOENT && r.size == 0) {
		*v = NULL;
		*n = 0;
		return 0;
	}
	return rc ? (rc == -ENOENT ? -EIO : rc) : rec_extent_decode(val.mv_data, val.mv_size, v, n);
}

int snap_readlink(enrp_txn *t, const struct enrp_snapshot *s, uint64_t ino, char *buf, size_t size)
{
	uint8_t key[8];
	MDB_val val;
	struct inode_rec r;
	uint32_t eir_id;
	int rc = view_eir(t, s, &eir_id);
	be64_put(key, ino);
	if (rc == 0)
		rc = snap_get(t, eir_id, s->gen, DBI_INODE, key, sizeof(key), &val);
	if (rc == 0)
		rc = rec_inode_decode(val.mv_data, val.mv_size, &r);
	if (rc)
		return rc;
	if (r.eir_id != eir_id)
		return -ENOENT;
	if (!S_ISLNK(r.mode))
		return -EINVAL;
	snprintf(buf, size, "%s", r.target);
	return 0;
}

struct readlink_args {
	const struct enrp_snapshot *s;
	uint64_t ino;
	char *buf;
	size_t size;
};

static int readlink_fn(enrp_txn *t, void *arg)
{
	struct readlink_args *a = arg;
	return snap_readlink(t, a->s, a->ino, a->buf, a->size);
}

int enrp_snapshot_readlink(enrp_store *st, const struct enrp_snapshot *s, uint64_t ino,
                           char *buf, size_t size)
{
	struct readlink_args a = { s, ino, buf, size };
	return enrp_store_read(st, readlink_fn, &a);
}

/* ---- extended attributes as they were ---- */

struct view_xattr_args {
	const struct enrp_snapshot *s;
	uint64_t ino;
	const char *name; /* get; NULL: list */
	char *buf;
	size_t size, *len;
};

static int xattr_list_one(const char *name, size_t len, const void *val, size_t vlen, void *arg)
{
	(void)val, (void)vlen;
	struct view_xattr_args *a = arg;
	if (a->size && *a->len + len + 1 <= a->size) {
		memcpy(a->buf + *a->len, name, len);
		a->buf[*a->len + len] = '\0';
	}
	*a->len += len + 1;
	return 0;
}

static int view_xattr_fn(enrp_txn *t, void *arg)
{
	struct view_xattr_args *a = arg;
	struct enrp_stat st;
	uint32_t id;
	int rc = view_eir(t, a->s, &id);
	if (rc == 0)
		rc = view_inode(t, id, a->s->gen, a->ino, &st);
	if (rc)
		return rc;
	*a->len = 0;
	if (!a->name) {
		rc = snap_named_scan(t, id, a->s->gen, DBI_XATTR, a->ino, xattr_list_one, a);
		return rc ? rc : a->size && *a->len > a->size ? -ERANGE : 0;
	}
	uint8_t key[8 + ENRP_NAME_MAX];
	MDB_val v;
	rc = snap_get(t, id, a->s->gen, DBI_XATTR, key, key_xattr(key, a->ino, a->name), &v);
	if (rc)
		return rc == -ENOENT ? -ENODATA : rc;
	*a->len = v.mv_size;
	if (a->size && a->size < v.mv_size)
		return -ERANGE;
	if (a->size)
		memcpy(a->buf, v.mv_data, v.mv_size);
	return 0;
}

int enrp_snapshot_getxattr(enrp_store *st, const struct enrp_snapshot *s, uint64_t ino,
                           const char *name, void *buf, size_t size, size_t *len)
{
	/* Only user.* is stored (enrp_ns_setxattr). */
	if (strncmp(name, "user.", 5) != 0 || strlen(name) > ENRP_NAME_MAX)
		return -ENODATA;
	struct view_xattr_args a = { s, ino, name, buf, size, len };
	return enrp_store_read(st, view_xattr_fn, &a);
}

int enrp_snapshot_listxattr(enrp_store *st, const struct enrp_snapshot *s, uint64_t ino,
                            char *buf, size_t size, size_t *len)
{
	struct view_xattr_args a = { s, ino, NULL, buf, size, len };
	return enrp_store_read(st, view_xattr_fn, &a);
}

/* ---- for fsck ---- */

int snap_each_extent(enrp_txn *t, int (*cb)(uint32_t eir_id, const void *val, size_t n, void *arg),
                     void *arg)
{
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_PRESERVED, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && mrc == 0) {
		const uint8_t *key = k.mv_data, *val = v.mv_data;
		if (k.mv_size == 4 + 1 + 8 + 8 && key[4] == 'e' && v.mv_size > 1 && val[0] == VAL_KEPT)
			rc = cb(be32_get(key), val + 1, v.mv_size - 1, arg);
		if (rc == 0)
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc ? rc : (mrc && mrc != MDB_NOTFOUND) ? store_mdb_err(mrc) : 0;
}

/* ---- active mode: a snapshot at least every rpo while changes arrive ---- */

struct auto_eir {
	char name[ENRP_EIR_NAME_MAX + 1];
	uint32_t id;
	uint32_t rpo_minutes;
};

struct auto_list {
	struct auto_eir *v;
	size_t n, cap;
};

static int auto_collect(const struct enrp_eir *e, void *arg)
{
	struct auto_list *l = arg;
	if (e->mode != ENRP_MODE_ACTIVE || e->state != ENRP_STATE_NORMAL)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct auto_eir *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n].name, sizeof(l->v[l->n].name), "%s", e->name);
	l->v[l->n].id = e->id;
	l->v[l->n].rpo_minutes = e->rpo_minutes ? e->rpo_minutes : 60;
	l->n++;
	return 0;
}

struct due_args {
	const struct auto_eir *a;
	int64_t now;
	bool due;
};

/* Due: the tree changed since the latest snapshot, and that one is at
 * least rpo old; or there is none yet and verified files have arrived. */
static int due_fn(enrp_txn *t, void *arg)
{
	struct due_args *d = arg;
	struct enrp_eir_files f;
	struct enrp_eir e;
	uint64_t gen;
	d->due = false;
	int rc = eir_files_get_txn(t, d->a->id, &f);
	if (rc == -ENOENT)
		return 0; /* counts not rebuilt yet: the next round */
	if (rc == 0)
		rc = latest_gen(t, d->a->id, &gen);
	if (rc)
		return rc;
	if (gen == 0) {
		d->due = f.verified != 0; /* its first verified files have arrived */
		return 0;
	}
	struct enrp_snapshot last;
	if ((rc = eir_get_txn(t, d->a->id, &e)) || (rc = snap_load(t, &e, gen, &last)))
		return rc;
	d->due = last.tree_gen != f.tree_gen &&
	         d->now - last.created >= (int64_t)d->a->rpo_minutes * 60 * 1000000000LL;
	return 0;
}

int enrp_snapshot_auto(enrp_store *st, int64_t now, const struct enrp_actor *actor,
                       unsigned *taken)
{
	struct auto_list l = { 0 };
	*taken = 0;
	int rc = enrp_eir_list(st, auto_collect, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct due_args d = { .a = &l.v[i], .now = now };
		rc = enrp_store_read(st, due_fn, &d);
		if (rc || !d.due)
			continue;
		char name[ENRP_SNAPSHOT_NAME_MAX + 1];
		time_t secs = (time_t)(now / 1000000000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(name, sizeof(name), "auto-%Y-%m-%dT%H:%M:%SZ", &tm);
		struct create_args a = { .eir = l.v[i].name, .now = now, .actor = actor };
		snprintf(a.name, sizeof(a.name), "%s", name);
		rc = enrp_store_write(st, create_fn, &a);
		if (rc == -EEXIST)
			rc = 0; /* one this second already */
		else if (rc == 0)
			(*taken)++;
	}
	free(l.v);
	return rc;
}

struct held_args {
	const char *eir, *name;
	int64_t now;
	bool held;
};

static int held_fn(enrp_txn *t, void *arg)
{
	struct held_args *a = arg;
	uint32_t id;
	uint64_t gen;
	int rc = eir_lookup_txn(t, a->eir, &id);
	if (rc == 0)
		rc = snap_gen_of(t, id, a->name, &gen);
	if (rc == 0)
		rc = hold_snapshot_active_txn(t, id, gen, a->now, NULL);
	if (rc < 0)
		return rc;
	a->held = rc > 0;
	return 0;
}

int enrp_snapshot_held(enrp_store *st, const char *eir, const char *name, bool *held)
{
	struct held_args a = { .eir = eir, .name = name, .now = enrp_now_ns() };
	int rc = enrp_store_read(st, held_fn, &a);
	*held = a.held;
	return rc;
}
