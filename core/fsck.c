/*
 * fsck.c — metadata consistency check and repair (see include/enrp/fsck.h).
 *
 * Design.  One read transaction loads what the check needs into sorted
 * arrays (inodes in key order, dirents by parent, chunk references and the
 * chunk index by (EIR, digest)), so the whole check sees one consistent
 * state and runs without holding the store's lock; then the spool and chunk
 * directories are listed and everything is compared in memory.  Memory is
 * linear in the number of inodes, dirents and chunk references.
 *
 * Repair.  Each fixable finding appends an action; the metadata actions are
 * applied in one write transaction (all or nothing), and only after it has
 * committed are files removed (stray spool files, unreferenced chunk files)
 * and orphans freed through enrp_ns_forget(), which removes their spool
 * files after its own commit.  So a crash during a repair leaves either the
 * old state or the repaired one, plus at worst files nothing references,
 * which the next fsck or mount removes.  A repair then checks again (quietly
 * repairing what the first pass's fixes changed, such as usage counters
 * after reference counts), and a last pass counts what remains.
 *
 * Safety rules of repair: a dirent is only removed when it names no inode;
 * an inode is only freed when it is an orphan (nlink 0, named by nothing);
 * a chunk file is only removed when neither the index nor any chunk list
 * names it; nothing a sealed file's or a trash entry's chunk list names is
 * ever removed (trash entries count as references: trash.c).
 * Leaked inodes, missing chunk files, broken chunk lists and a broken journal
 * are reported and left alone: fixing them needs a human.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/fsck.h>
#include <enrp/journal.h>
#include <enrp/ns.h>
#include <enrp/rundir.h>
#include <enrp/spool.h>

#include "base_int.h"
#include "chunk_int.h"
#include "eir_int.h"
#include "hold_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "record_int.h"
#include "snapshot_int.h"
#include "spool_int.h"
#include "store_int.h"
#include "trash_int.h"

enum { SP_NONE, SP_PLAIN, SP_QUEUED };

/* Disk space a spool file may hold past what its EIR is charged for
 * before fsck calls it unaccounted: allocation is in blocks, and ext4
 * keeps small preallocations of its own for files written in pieces. */
#define SPOOL_SLACK ((uint64_t)1 << 20)

struct ient {
	uint64_t ino, size, parent, dparent, ext_sum;
	uint64_t alloc_end;   /* space reserved past size (see ns_charge) */
	uint64_t xattr_bytes; /* names and values of its xattrs */
	uint64_t spool_alloc; /* bytes its spool file has on disk */
	uint64_t gen;
	/* Its spool file was fsync'd alone since its last commit
	 * (enrp_spool_sync_sized): the next mount takes its size from it. */
	uint64_t spool_size;
	bool spool_sized;
	int64_t sealed_at;
	uint32_t eir_id, mode, nlink, links, subdirs;
	uint8_t content, flags, spool;
	uint8_t qkey[QUEUE_KEY_LEN];
	bool qfound, orphan, reached, has_extent, spool_file;
	/* A spool file rewriting a sealed one (core/base_int.h): it has a base
	 * record, and its chunk list is the base's. */
	bool based, base_list;
};

struct dent {
	uint64_t parent, child;
};

/* A hold record: whose, on what, until when; BAD when it does not decode. */
struct hent {
	uint32_t eir_id;
	uint64_t ino;       /* or, for a snapshot's hold, its gen */
	int64_t until;
	char kind;          /* 'f' a file, 's' a snapshot */
	bool bad;
	bool snap_exists;   /* a snapshot's hold: the snapshot is there */
};

/* A trash entry: whose; BAD when it does not decode. */
struct tent {
	uint32_t eir_id;
	uint64_t id;
	bool bad;
};

/* A key we may have to delete: dirent, spool or queue entry, ... */
struct rawkey {
	uint8_t key[8 + ENRP_NAME_MAX];
	size_t klen;
	uint8_t val[QUEUE_KEY_LEN];
	size_t vlen;
};

struct cref {
	uint8_t key[CHUNK_KEY_LEN];
	uint32_t plain_len;
};

struct cidx {
	uint8_t key[CHUNK_KEY_LEN];
	struct chunk_rec c;
};

struct eent {
	struct enrp_eir e;
	struct enrp_eir_usage u, calc;
	struct enrp_eir_files files, fcalc;
	bool have_usage, have_files;
	bool damaged; /* a sealed file's chunk list is missing or broken */
};

enum act_type {
	A_DEL_DIRENT, A_FIX_NLINK, A_FIX_PARENT, A_ORPHAN_ADD, A_ORPHAN_DEL, A_SPOOL_ADD,
	A_SPOOL_DEL, A_QUEUE_DEL, A_QUEUE_NORMALIZE, A_EXTENT_DEL, A_BASE_DEL, A_CHUNK_SET,
	A_CHUNK_DEL,
	A_USAGE_SET, A_FILES_SET,
	/* after the commit */
	A_FREE_ORPHAN, A_UNLINK_SPOOL, A_UNLINK_CHUNK, A_TRIM_SPOOL,
};

struct action {
	enum act_type type;
	uint64_t ino, val;
	struct rawkey k;
	struct chunk_rec c;
	struct enrp_eir_usage u;
	struct enrp_eir_files files;
	char path[128];
};

#define VEC(T) struct { T *v; size_t n, cap; }

struct fsck {
	enrp_store *st;
	bool repair, quiet, after;
	enrp_fsck_report_fn *report;
	void *arg;
	struct enrp_fsck_result *res;
	int err; /* ENOMEM while collecting */

	VEC(struct ient) in;
	VEC(struct dent) de;
	VEC(struct rawkey) bad_dirents;  /* name no inode */
	VEC(uint64_t) lost_orphans;      /* orphan entries of missing inodes */
	VEC(struct rawkey) lost_spools;  /* spool entries of missing inodes */
	VEC(struct rawkey) queue;        /* every queue key */
	VEC(uint64_t) lost_extents;      /* chunk lists of missing or unsealed inodes */
	VEC(uint64_t) lost_bases;        /* base records of inodes that are no rewrite */
	VEC(struct cref) refs;
	VEC(struct cidx) idx;
	VEC(struct eent) eirs;
	VEC(struct hent) holds;
	VEC(struct tent) trash;
	VEC(struct action) acts;
};

static void *vec_grow(void *vp, size_t *n, size_t *cap, size_t size, int *err)
{
	void **v = vp;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		void *nv = realloc(*v, ncap * size);
		if (!nv) {
			*err = -ENOMEM;
			return NULL;
		}
		*v = nv;
		*cap = ncap;
	}
	void *slot = (char *)*v + (*n)++ * size;
	memset(slot, 0, size);
	return slot;
}

#define PUSH(f, vec) ((__typeof__((f)->vec.v))vec_grow(&(f)->vec.v, &(f)->vec.n, \
                      &(f)->vec.cap, sizeof(*(f)->vec.v), &(f)->err))

static void fsck_release(struct fsck *f)
{
	free(f->in.v);
	free(f->de.v);
	free(f->bad_dirents.v);
	free(f->lost_orphans.v);
	free(f->lost_spools.v);
	free(f->queue.v);
	free(f->lost_extents.v);
	free(f->lost_bases.v);
	free(f->refs.v);
	free(f->idx.v);
	free(f->eirs.v);
	free(f->holds.v);
	free(f->trash.v);
	free(f->acts.v);
	memset(&f->in, 0, (char *)(&f->acts + 1) - (char *)&f->in);
}

static struct ient *ifind(struct fsck *f, uint64_t ino)
{
	size_t lo = 0, hi = f->in.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->in.v[mid].ino == ino)
			return &f->in.v[mid];
		if (f->in.v[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct eent *efind(struct fsck *f, uint32_t id)
{
	for (size_t i = 0; i < f->eirs.n; i++)
		if (f->eirs.v[i].e.id == id)
			return &f->eirs.v[i];
	return NULL;
}

static int cidx_cmp(const void *a, const void *b)
{
	return memcmp(a, b, CHUNK_KEY_LEN); /* key is the first member of both */
}

static struct cidx *cfind(struct fsck *f, const uint8_t key[CHUNK_KEY_LEN])
{
	return f->idx.n ? bsearch(key, f->idx.v, f->idx.n, sizeof(*f->idx.v), cidx_cmp) : NULL;
}

static struct cref *rfind(struct fsck *f, const uint8_t key[CHUNK_KEY_LEN])
{
	return f->refs.n ? bsearch(key, f->refs.v, f->refs.n, sizeof(*f->refs.v), cidx_cmp) : NULL;
}

static void hexs(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* "<eir>/ab/cd/<hex>" relative to chunks/, as chunk.c names chunk files. */
static void chunk_relpath(const uint8_t key[CHUNK_KEY_LEN], char *buf, size_t n)
{
	char h[65];
	hexs(key + 4, 32, h);
	snprintf(buf, n, "%u/%.2s/%.2s/%s", be32_get(key), h, h + 2, h);
}

__attribute__((format(printf, 6, 7)))
static void report(struct fsck *f, const char *kind, enum enrp_fsck_severity sev, bool fixable,
                   const char *object, const char *fmt, ...)
{
	struct enrp_fsck_finding fd = { .kind = kind, .severity = sev };
	fd.repaired = f->repair && fixable;
	fd.after_repair = f->after;
	if (f->quiet)
		return;
	if (f->after && sev == ENRP_FSCK_INFO)
		return;
	snprintf(fd.object, sizeof(fd.object), "%s", object);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fd.message, sizeof(fd.message), fmt, ap);
	va_end(ap);
	if (f->after) {
		f->res->remaining++;
	} else {
		if (sev == ENRP_FSCK_PROBLEM)
			f->res->problems++;
		else
			f->res->infos++;
		if (fd.repaired)
			f->res->repaired++;
		else if (sev == ENRP_FSCK_PROBLEM)
			f->res->remaining++;
	}
	if (f->report)
		f->report(&fd, f->arg);
}

static struct action *act(struct fsck *f, enum act_type type, uint64_t ino)
{
	if (!f->repair)
		return NULL;
	struct action *a = PUSH(f, acts);
	if (a) {
		a->type = type;
		a->ino = ino;
	}
	return a;
}

/* ---- loading (one read transaction) ---- */

static int load_eirs(enrp_txn *t, struct fsck *f)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_EIR, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && rc == 0) {
		struct eent *e = PUSH(f, eirs);
		if (!e)
			break;
		if (rec_eir_decode(v.mv_data, v.mv_size, &e->e)) {
			f->eirs.n--;
			enrp_log(ENRP_LOG_ERR, "fsck: an EIR record cannot be decoded");
		} else {
			rc = eir_usage_get_txn(t, e->e.id, &e->u);
			e->have_usage = rc == 0;
			if (rc == -ENOENT || rc == -EIO) {
				t->ret = 0;
				rc = 0;
			}
			if (rc == 0) {
				rc = eir_files_get_txn(t, e->e.id, &e->files);
				e->have_files = rc == 0;
				if (rc == -ENOENT || rc == -EIO) {
					t->ret = 0;
					rc = 0;
				}
			}
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc ? rc : mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : f->err;
}

static int load_inodes(enrp_txn *t, struct fsck *f)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_INODE, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0) {
		struct inode_rec r;
		if (k.mv_size != 8 || rec_inode_decode(v.mv_data, v.mv_size, &r)) {
			enrp_log(ENRP_LOG_ERR, "fsck: inode record %s cannot be decoded",
			         k.mv_size == 8 ? "" : "key");
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		struct ient *e = PUSH(f, in);
		if (!e)
			break;
		e->ino = be64_get(k.mv_data);
		e->size = r.size;
		e->gen = r.gen;
		e->parent = r.parent;
		e->eir_id = r.eir_id;
		e->mode = r.mode;
		e->nlink = r.nlink;
		e->content = r.content;
		e->flags = r.flags;
		e->alloc_end = r.alloc_end;
		e->sealed_at = r.sealed_at;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : f->err;
}

static int load_dirents(enrp_txn *t, struct fsck *f)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_DIRENT, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && !f->err) {
		uint64_t ino;
		uint32_t type;
		f->res->dirents++;
		if (k.mv_size < 9 || k.mv_size > 8 + ENRP_NAME_MAX ||
		    rec_dirent_decode(v.mv_data, v.mv_size, &ino, &type) || !ifind(f, ino)) {
			struct rawkey *b = PUSH(f, bad_dirents);
			if (b) {
				memcpy(b->key, k.mv_data, k.mv_size > sizeof(b->key) ? sizeof(b->key)
				                                                     : k.mv_size);
				b->klen = k.mv_size;
				b->vlen = v.mv_size == DIRENT_VAL_LEN ? 8 : 0;
				if (b->vlen)
					memcpy(b->val, v.mv_data, 8);
			}
		} else {
			struct dent *d = PUSH(f, de);
			if (d) {
				d->parent = be64_get(k.mv_data);
				d->child = ino;
			}
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : f->err;
}

static int load_simple(enrp_txn *t, struct fsck *f, enum store_dbi db)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, db, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && !f->err) {
		uint64_t ino = k.mv_size == 8 ? be64_get(k.mv_data) : 0;
		struct ient *e = ino ? ifind(f, ino) : NULL;
		if (db == DBI_ORPHAN) {
			if (e) {
				e->orphan = true;
			} else {
				uint64_t *p = PUSH(f, lost_orphans);
				if (p)
					*p = ino;
			}
		} else if (db == DBI_SPOOL) {
			if (e) {
				e->spool = v.mv_size == QUEUE_KEY_LEN ? SP_QUEUED : SP_PLAIN;
				if (e->spool == SP_QUEUED)
					memcpy(e->qkey, v.mv_data, QUEUE_KEY_LEN);
			} else {
				struct rawkey *b = PUSH(f, lost_spools);
				if (b) {
					b->klen = 8;
					be64_put(b->key, ino);
					if (v.mv_size == QUEUE_KEY_LEN) {
						memcpy(b->val, v.mv_data, QUEUE_KEY_LEN);
						b->vlen = QUEUE_KEY_LEN;
					}
				}
			}
		} else if (db == DBI_QUEUE) {
			struct rawkey *b = PUSH(f, queue);
			if (b) {
				b->klen = k.mv_size > sizeof(b->key) ? sizeof(b->key) : k.mv_size;
				memcpy(b->key, k.mv_data, b->klen);
			}
		} else if (db == DBI_EXTENT) {
			struct extent_ent *x;
			size_t n;
			bool base = e && e->content == ENRP_CONTENT_SPOOL && e->based;
			if (base)
				e->base_list = true;
			if (!e || (e->content != ENRP_CONTENT_SEALED && !base) ||
			    rec_extent_decode(v.mv_data, v.mv_size, &x, &n)) {
				uint64_t *p = PUSH(f, lost_extents);
				if (p)
					*p = ino;
				if (e)
					e->has_extent = e->content == ENRP_CONTENT_SEALED;
			} else {
				e->has_extent = !base;
				for (size_t i = 0; i < n; i++) {
					e->ext_sum += extent_len(&x[i]);
					if (!x[i].plain_len)
						continue; /* a run of zeros: no chunk */
					struct cref *c = PUSH(f, refs);
					if (!c)
						break;
					key_chunk(c->key, e->eir_id, x[i].digest);
					c->plain_len = x[i].plain_len;
				}
				free(x);
			}
		} else if (db == DBI_XATTR) {
			/* Charged to the EIR like bytes (ns.c); one of a missing
			 * inode is freed with nothing and charges nothing. */
			if (k.mv_size >= 8 && (e = ifind(f, be64_get(k.mv_data))))
				e->xattr_bytes += (k.mv_size - 8) + v.mv_size;
		} else if (db == DBI_CHUNK) {
			struct cidx *c = PUSH(f, idx);
			if (c) {
				if (k.mv_size != CHUNK_KEY_LEN ||
				    rec_chunk_decode(v.mv_data, v.mv_size, &c->c)) {
					f->idx.n--;
					enrp_log(ENRP_LOG_ERR, "fsck: a chunk index record cannot be decoded");
				} else {
					memcpy(c->key, k.mv_data, CHUNK_KEY_LEN);
				}
			}
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : f->err;
}

/* A chunk list a snapshot keeps holds references like a live one. */
static int preserved_extent(uint32_t eir_id, const void *val, size_t n, void *arg)
{
	struct fsck *f = arg;
	struct extent_ent *x;
	size_t cnt;
	if (rec_extent_decode(val, n, &x, &cnt)) {
		char obj[32];
		snprintf(obj, sizeof(obj), "eir %" PRIu32, eir_id);
		report(f, "snapshot-extent", ENRP_FSCK_PROBLEM, false, obj,
		       "a chunk list a snapshot keeps does not decode");
		return 0;
	}
	for (size_t i = 0; i < cnt; i++) {
		if (!x[i].plain_len)
			continue;
		struct cref *c = PUSH(f, refs);
		if (!c)
			break;
		key_chunk(c->key, eir_id, x[i].digest);
		c->plain_len = x[i].plain_len;
	}
	free(x);
	return f->err;
}

static int load_holds(enrp_txn *t, struct fsck *f)
{
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_HOLD, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc; /* an older store opened read-only */
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0) {
		struct hent *h = vec_grow(&f->holds.v, &f->holds.n, &f->holds.cap, sizeof(*h), &f->err);
		if (!h)
			break;
		memset(h, 0, sizeof(*h));
		h->bad = hold_key_parse(k.mv_data, k.mv_size, &h->eir_id, &h->kind, &h->ino) ||
		         hold_until_of(v.mv_data, v.mv_size, &h->until);
		if (!h->bad && h->kind == 's')
			h->snap_exists = snap_exists(t, h->eir_id, h->ino);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : 0;
}

/* Trash entries hold references like chunk lists do (trash.c): counting
 * them is what keeps a repair from dropping those references and GC from
 * freeing a trashed copy. */
static int load_trash(enrp_txn *t, struct fsck *f)
{
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_TRASH, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc; /* an older store opened read-only */
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && !f->err) {
		struct tent *te = PUSH(f, trash);
		struct enrp_trash_entry e;
		struct extent_ent *x;
		size_t n;
		if (!te)
			break;
		te->bad = trash_record_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &te->eir_id,
		                              &e, &x, &n) != 0;
		te->eir_id = k.mv_size >= 4 ? be32_get(k.mv_data) : 0;
		te->id = k.mv_size >= 12 ? be64_get((const uint8_t *)k.mv_data + 4) : 0;
		for (size_t i = 0; !te->bad && i < n; i++) {
			if (!x[i].plain_len)
				continue; /* a run of zeros: no chunk */
			struct cref *c = PUSH(f, refs);
			if (!c)
				break;
			key_chunk(c->key, te->eir_id, x[i].digest);
			c->plain_len = x[i].plain_len;
		}
		free(x);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : f->err;
}

/* Base records (core/base_int.h): each inode's limit key marks it based;
 * keys of an inode that is not a spool file are stale. */
static int load_bases(enrp_txn *t, struct fsck *f)
{
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_BASE, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc; /* an older store opened read-only */
	MDB_val k, v;
	uint64_t last = 0;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && !f->err) {
		uint64_t ino = k.mv_size >= 9 ? be64_get(k.mv_data) : 0;
		if (ino != last) { /* the first key of an inode decides for all */
			last = ino;
			struct ient *e = ino ? ifind(f, ino) : NULL;
			bool based = false;
			uint64_t limit;
			if (e && e->content == ENRP_CONTENT_SPOOL &&
			    (rc = base_get_txn(t, ino, &based, &limit)) && rc != -EIO)
				break;
			rc = 0;
			if (based) {
				e->based = true;
			} else {
				uint64_t *p = PUSH(f, lost_bases);
				if (p)
					*p = ino;
			}
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : f->err;
}

static int load_fn(enrp_txn *t, void *arg)
{
	struct fsck *f = arg;
	int rc = load_eirs(t, f);
	if (rc == 0)
		rc = load_inodes(t, f);
	if (rc == 0)
		rc = load_dirents(t, f);
	if (rc == 0)
		rc = load_simple(t, f, DBI_ORPHAN);
	if (rc == 0)
		rc = load_simple(t, f, DBI_SPOOL);
	if (rc == 0)
		rc = load_simple(t, f, DBI_QUEUE);
	if (rc == 0)
		rc = load_bases(t, f);
	if (rc == 0)
		rc = load_simple(t, f, DBI_EXTENT);
	if (rc == 0)
		rc = load_simple(t, f, DBI_CHUNK);
	if (rc == 0)
		rc = load_simple(t, f, DBI_XATTR);
	if (rc == 0)
		rc = load_holds(t, f);
	if (rc == 0)
		rc = snap_each_extent(t, preserved_extent, f);
	if (rc == 0)
		rc = load_trash(t, f);
	return rc;
}

/* ---- checks ---- */

static void check_dirents(struct fsck *f)
{
	char obj[128];
	for (size_t i = 0; i < f->bad_dirents.n; i++) {
		struct rawkey *b = &f->bad_dirents.v[i];
		size_t nl = b->klen > 8 ? b->klen - 8 : 0;
		snprintf(obj, sizeof(obj), "dirent %" PRIu64 "/%.*s",
		         b->klen >= 8 ? be64_get(b->key) : 0, (int)(nl > 80 ? 80 : nl),
		         (const char *)b->key + 8);
		if (b->vlen)
			report(f, "dangling-dirent", ENRP_FSCK_PROBLEM, true, obj,
			       "names inode %" PRIu64 ", which does not exist", be64_get(b->val));
		else
			report(f, "dangling-dirent", ENRP_FSCK_PROBLEM, true, obj,
			       "cannot be decoded");
		struct action *a = act(f, A_DEL_DIRENT, 0);
		if (a)
			a->k = *b;
	}
	for (size_t i = 0; i < f->de.n; i++) {
		struct dent *d = &f->de.v[i];
		struct ient *p = ifind(f, d->parent), *c = ifind(f, d->child);
		snprintf(obj, sizeof(obj), "dirent %" PRIu64 " -> %" PRIu64, d->parent, d->child);
		if (!p || !S_ISDIR(p->mode)) {
			report(f, "dirent-parent", ENRP_FSCK_PROBLEM, false, obj,
			       "is in inode %" PRIu64 ", which is %s", d->parent,
			       p ? "not a directory" : "missing");
			continue;
		}
		if (d->parent == ENRP_ROOT_INO ? c->eir_id == 0 || !S_ISDIR(c->mode)
		                               : c->eir_id != p->eir_id) {
			report(f, "dirent-cross-eir", ENRP_FSCK_PROBLEM, false, obj,
			       "inode %" PRIu64 " of EIR %u is named in a directory of EIR %u",
			       d->child, c->eir_id, p->eir_id);
		}
		c->links++;
		if (S_ISDIR(c->mode)) {
			p->subdirs++;
			c->dparent = d->parent;
		}
	}
}

/* Marks every inode reachable from the root (dirents are sorted by parent). */
static int reach(struct fsck *f)
{
	uint64_t *stack = malloc((f->in.n + 1) * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	size_t sp = 0;
	struct ient *root = ifind(f, ENRP_ROOT_INO);
	if (root)
		root->reached = true;
	stack[sp++] = ENRP_ROOT_INO;
	while (sp) {
		uint64_t dir = stack[--sp];
		size_t lo = 0, hi = f->de.n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (f->de.v[mid].parent < dir)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < f->de.n && f->de.v[i].parent == dir; i++) {
			struct ient *c = ifind(f, f->de.v[i].child);
			if (!c || c->reached)
				continue;
			c->reached = true;
			if (S_ISDIR(c->mode) && sp <= f->in.n)
				stack[sp++] = c->ino;
		}
	}
	free(stack);
	return 0;
}

static void check_queue(struct fsck *f)
{
	char obj[128], h[2 * QUEUE_KEY_LEN + 1];
	for (size_t i = 0; i < f->queue.n; i++) {
		struct rawkey *q = &f->queue.v[i];
		uint64_t ino = q->klen == QUEUE_KEY_LEN ? key_queue_ino(q->key) : 0;
		struct ient *e = ino ? ifind(f, ino) : NULL;
		if (e && e->content == ENRP_CONTENT_SPOOL && e->spool == SP_QUEUED &&
		    memcmp(e->qkey, q->key, QUEUE_KEY_LEN) == 0) {
			e->qfound = true;
			continue;
		}
		hexs(q->key, q->klen < QUEUE_KEY_LEN ? q->klen : QUEUE_KEY_LEN, h);
		snprintf(obj, sizeof(obj), "queue %s", h);
		report(f, "queue-dangling", ENRP_FSCK_PROBLEM, true, obj,
		       "names inode %" PRIu64 ", which %s", ino,
		       !e ? "does not exist"
		          : e->content != ENRP_CONTENT_SPOOL ? "is not a spool file"
		                                              : "is not indexed under this entry");
		struct action *a = act(f, A_QUEUE_DEL, ino);
		if (a)
			a->k = *q;
	}
}

/* What an inode charges to its EIR (ns_charge, plus its xattrs). */
static uint64_t charge(const struct ient *e)
{
	uint64_t bytes = 0;
	if (S_ISREG(e->mode))
		bytes = e->size > e->alloc_end ? e->size : e->alloc_end;
	return bytes + e->xattr_bytes;
}

/* A linked regular file, counted by state as ns.c counts it. */
static void count_file_state(struct eent *ee, const struct ient *e)
{
	struct enrp_eir_files *c = &ee->fcalc;
	if (e->content == ENRP_CONTENT_SEALED) {
		if (e->flags & INODE_CORRUPT)
			c->corrupt++;
		else
			c->verified++;
		if (e->sealed_at > c->last_sealed)
			c->last_sealed = e->sealed_at;
	} else if (e->flags & INODE_QUEUED) {
		c->pending++;
	} else {
		c->open++;
	}
}

static void check_inode(struct fsck *f, struct ient *e)
{
	char obj[128];
	snprintf(obj, sizeof(obj), "inode %" PRIu64, e->ino);
	bool dir = S_ISDIR(e->mode), reg = S_ISREG(e->mode);
	bool root = e->ino == ENRP_ROOT_INO;
	struct eent *ee = root ? NULL : efind(f, e->eir_id);
	struct action *a;

	if (!root && !ee)
		report(f, "inode-eir", ENRP_FSCK_PROBLEM, false, obj, "belongs to EIR %u, which is "
		       "not registered", e->eir_id);
	/* links and orphans */
	if (e->nlink == 0) {
		/* An orphan's bytes stay charged until it is freed (ns.c). */
		if (ee && !e->links)
			ee->calc.bytes += charge(e);
		if (e->links) {
			uint32_t want = dir ? 2 + e->subdirs : e->links;
			report(f, "nlink", ENRP_FSCK_PROBLEM, true, obj,
			       "has nlink 0 but %u dirents name it; nlink should be %u", e->links, want);
			if ((a = act(f, A_FIX_NLINK, e->ino)))
				a->val = want;
			if (e->orphan)
				act(f, A_ORPHAN_DEL, e->ino);
		} else if (!e->orphan) {
			report(f, "orphan-unlisted", ENRP_FSCK_PROBLEM, true, obj,
			       "has nlink 0 and is not listed as an orphan (leaked)");
			act(f, A_ORPHAN_ADD, e->ino);
			act(f, A_FREE_ORPHAN, e->ino);
		} else {
			report(f, "orphan", ENRP_FSCK_INFO, true, obj,
			       "is unlinked and waits to be freed (at the next mount, or by --repair)");
			act(f, A_FREE_ORPHAN, e->ino);
		}
	} else {
		if (e->orphan) {
			report(f, "orphan-linked", ENRP_FSCK_PROBLEM, true, obj,
			       "is listed as an orphan but has nlink %u", e->nlink);
			act(f, A_ORPHAN_DEL, e->ino);
		}
		if (!root && !e->reached) {
			report(f, "leaked-inode", ENRP_FSCK_PROBLEM, false, obj,
			       "has nlink %u but cannot be reached from the root (%u dirents name "
			       "it)", e->nlink, e->links);
		} else {
			uint32_t want = dir ? 2 + e->subdirs : e->links;
			if (e->nlink != want && want > 0) {
				report(f, "nlink", ENRP_FSCK_PROBLEM, true, obj,
				       "has nlink %u, the dirents say %u", e->nlink, want);
				if ((a = act(f, A_FIX_NLINK, e->ino)))
					a->val = want;
			}
			if (dir && !root && e->links > 1)
				report(f, "dir-hardlink", ENRP_FSCK_PROBLEM, false, obj,
				       "is a directory named by %u dirents", e->links);
			if (dir && !root && e->links == 1 && e->parent != e->dparent) {
				report(f, "dir-parent", ENRP_FSCK_PROBLEM, true, obj,
				       "records parent %" PRIu64 " but is named in %" PRIu64, e->parent,
				       e->dparent);
				if ((a = act(f, A_FIX_PARENT, e->ino)))
					a->val = e->dparent;
			}
		}
		if (ee && e->ino != ee->e.root_ino)
			ee->calc.inodes++;
		if (ee)
			ee->calc.bytes += charge(e);
		if (ee && e->ino != ee->e.root_ino && reg)
			count_file_state(ee, e);
	}

	/* content */
	if (reg && e->content == ENRP_CONTENT_NONE)
		report(f, "content", ENRP_FSCK_PROBLEM, false, obj, "is a regular file without content");
	if (!reg && e->content != ENRP_CONTENT_NONE)
		report(f, "content", ENRP_FSCK_PROBLEM, false, obj,
		       "is not a regular file but has content");
	if (e->content == ENRP_CONTENT_SPOOL) {
		if (e->spool == SP_NONE) {
			report(f, "spool-unindexed", ENRP_FSCK_PROBLEM, true, obj,
			       "keeps its bytes in a spool file but is not in the spool index "
			       "(the next mount would remove its spool file)");
			act(f, A_SPOOL_ADD, e->ino);
		}
		if (!e->spool_file && e->size > 0 && store_spool_dirfd(f->st) >= 0 && e->based)
			report(f, "spool-rewrite-lost", ENRP_FSCK_INFO, false, obj,
			       "rewrites a sealed file, and a crash took its spool file: the next "
			       "mount makes it again, and the file reads as before the rewrite");
		else if (!e->spool_file && e->size > 0 && store_spool_dirfd(f->st) >= 0)
			report(f, "spool-data-lost", ENRP_FSCK_PROBLEM, false, obj,
			       "has %" PRIu64 " bytes in a spool file that does not exist", e->size);
		/* Disk space no quota sees: what the spool file holds past the
		 * bytes and reservations its EIR is charged for (allocation
		 * is in blocks, and ext4 may round up to a cluster). */
		uint64_t charged = e->size > e->alloc_end ? e->size : e->alloc_end;
		bool sized = e->spool_file && e->spool_sized && e->spool_size != e->size;
		if (sized)
			report(f, "spool-size-pending", ENRP_FSCK_INFO, false, obj,
			       "was fsync'd after its last commit: the next mount records its size, "
			       "%" PRIu64 " bytes (%" PRIu64 " recorded)", e->spool_size, e->size);
		if (e->spool_file && !sized && e->spool_alloc > charged + SPOOL_SLACK) {
			report(f, "spool-unaccounted", ENRP_FSCK_PROBLEM, true, obj,
			       "its spool file holds %" PRIu64 " bytes on disk, %" PRIu64 " more than "
			       "the %" PRIu64 " its EIR is charged for", e->spool_alloc,
			       e->spool_alloc - charged, charged);
			act(f, A_TRIM_SPOOL, e->ino);
		}
		if (e->has_extent) {
			report(f, "extent-stale", ENRP_FSCK_PROBLEM, true, obj,
			       "is a spool file but has a chunk list");
			act(f, A_EXTENT_DEL, e->ino);
		}
		/* Its unwritten bytes are only in the base: nothing to repair
		 * them from. */
		if (e->based && !e->base_list)
			report(f, "base-missing", ENRP_FSCK_PROBLEM, false, obj,
			       "rewrites a sealed file whose chunk list is gone");
		bool flag = e->flags & INODE_QUEUED;
		bool queued_ok = e->spool == SP_QUEUED && e->qfound && flag;
		bool unqueued = e->spool != SP_QUEUED && !flag;
		if (!queued_ok && !unqueued) {
			report(f, "queue-inconsistent", ENRP_FSCK_PROBLEM, true, obj,
			       "queued flag %s, spool index %s, queue entry %s", flag ? "set" : "clear",
			       e->spool == SP_QUEUED ? "names a queue entry" : "names none",
			       e->qfound ? "present" : "absent");
			act(f, A_QUEUE_NORMALIZE, e->ino);
		} else if (unqueued && e->nlink > 0) {
			report(f, "spool-unqueued", ENRP_FSCK_PROBLEM, true, obj,
			       "is a closed spool file not queued for sealing (queued at the next "
			       "mount, or by --repair; transient while enrpfs serves it)");
			act(f, A_QUEUE_NORMALIZE, e->ino);
		}
	} else {
		if (e->spool != SP_NONE) {
			report(f, "spool-entry-stale", ENRP_FSCK_PROBLEM, true, obj,
			       "is in the spool index but its content is %s",
			       e->content == ENRP_CONTENT_SEALED ? "sealed" : "not a file");
			act(f, A_QUEUE_NORMALIZE, e->ino);
		} else if (e->flags & INODE_QUEUED) {
			report(f, "queue-inconsistent", ENRP_FSCK_PROBLEM, true, obj,
			       "has the queued flag but is not a spool file");
			act(f, A_QUEUE_NORMALIZE, e->ino);
		}
	}
	if (e->content == ENRP_CONTENT_SEALED) {
		if (!e->has_extent && ee)
			ee->damaged = true;
		if (!e->has_extent)
			report(f, "extent-missing", ENRP_FSCK_PROBLEM, false, obj,
			       "is sealed but has no chunk list (its data is lost)");
		else if (e->ext_sum != e->size)
			report(f, "extent-size", ENRP_FSCK_PROBLEM, false, obj,
			       "has size %" PRIu64 " but its chunks hold %" PRIu64 " bytes", e->size,
			       e->ext_sum);
	}
}

static void check_lost_entries(struct fsck *f)
{
	char obj[128];
	for (size_t i = 0; i < f->lost_orphans.n; i++) {
		snprintf(obj, sizeof(obj), "orphan %" PRIu64, f->lost_orphans.v[i]);
		report(f, "orphan-dangling", ENRP_FSCK_PROBLEM, true, obj,
		       "the orphan list names an inode that does not exist");
		act(f, A_ORPHAN_DEL, f->lost_orphans.v[i]);
	}
	for (size_t i = 0; i < f->lost_spools.n; i++) {
		struct rawkey *b = &f->lost_spools.v[i];
		snprintf(obj, sizeof(obj), "spool-index %" PRIu64, be64_get(b->key));
		report(f, "spool-entry-dangling", ENRP_FSCK_PROBLEM, true, obj,
		       "the spool index names an inode that does not exist");
		struct action *a = act(f, A_SPOOL_DEL, be64_get(b->key));
		if (a)
			a->k = *b;
	}
	for (size_t i = 0; i < f->lost_bases.n; i++) {
		uint64_t ino = f->lost_bases.v[i];
		snprintf(obj, sizeof(obj), "base %" PRIu64, ino);
		report(f, "base-stale", ENRP_FSCK_PROBLEM, true, obj,
		       "a rewrite's base record of an inode that is not being rewritten");
		act(f, A_BASE_DEL, ino);
	}
	for (size_t i = 0; i < f->lost_extents.n; i++) {
		uint64_t ino = f->lost_extents.v[i];
		struct ient *e = ifind(f, ino);
		if (e && e->content == ENRP_CONTENT_SPOOL)
			continue; /* reported with the inode */
		snprintf(obj, sizeof(obj), "extent %" PRIu64, ino);
		if (e && e->content == ENRP_CONTENT_SEALED) {
			struct eent *ee = efind(f, e->eir_id);
			if (ee)
				ee->damaged = true;
			report(f, "extent-corrupt", ENRP_FSCK_PROBLEM, false, obj,
			       "the chunk list of a sealed file cannot be decoded");
			continue;
		}
		report(f, "extent-stale", ENRP_FSCK_PROBLEM, true, obj,
		       "a chunk list of an inode that %s", e ? "is not a sealed file"
		                                             : "does not exist");
		act(f, A_EXTENT_DEL, ino);
	}
}

static void check_eirs(struct fsck *f)
{
	char obj[128];
	for (size_t i = 0; i < f->eirs.n; i++) {
		struct eent *ee = &f->eirs.v[i];
		if (ee->e.state == ENRP_STATE_DESTROYED)
			continue;
		snprintf(obj, sizeof(obj), "eir %s", ee->e.name);
		struct ient *r = ifind(f, ee->e.root_ino);
		if (!r || !S_ISDIR(r->mode) || r->eir_id != ee->e.id || r->parent != ENRP_ROOT_INO ||
		    !r->reached)
			report(f, "eir-root", ENRP_FSCK_PROBLEM, false, obj,
			       "its directory (inode %" PRIu64 ") is %s", ee->e.root_ino,
			       !r ? "missing" : !S_ISDIR(r->mode) ? "not a directory"
			       : r->eir_id != ee->e.id ? "of another EIR"
			       : !r->reached ? "not reachable from the root" : "not under the root");
	}
}

/* A hold names its EIR and, while it runs, a regular file of that EIR (the
 * namespace refuses to remove a held file, so one that is gone means
 * damage).  Holds are never removed by a repair: they need a human. */
static void check_holds(struct fsck *f)
{
	char obj[96];
	int64_t now = enrp_now_ns();
	for (size_t i = 0; i < f->holds.n; i++) {
		const struct hent *h = &f->holds.v[i];
		snprintf(obj, sizeof(obj), "hold eir=%" PRIu32 " ino=%" PRIu64, h->eir_id, h->ino);
		f->res->holds++;
		if (h->bad) {
			report(f, "hold-bad", ENRP_FSCK_PROBLEM, false, obj, "the record does not decode");
			continue;
		}
		if (!efind(f, h->eir_id)) {
			report(f, "hold-eir", ENRP_FSCK_PROBLEM, false, obj, "its EIR does not exist");
			continue;
		}
		if (h->until <= now)
			continue; /* expired: history, its file may be gone */
		if (h->kind == 's') {
			if (!h->snap_exists)
				report(f, "hold-lost", ENRP_FSCK_PROBLEM, false, obj,
				       "the snapshot it holds is gone");
			continue;
		}
		const struct ient *e = ifind(f, h->ino);
		if (!e || !S_ISREG(e->mode) || e->eir_id != h->eir_id || e->nlink == 0)
			report(f, "hold-lost", ENRP_FSCK_PROBLEM, false, obj,
			       "the file it holds is %s", !e ? "gone" : !S_ISREG(e->mode) ?
			       "not a regular file" : e->eir_id != h->eir_id ? "of another EIR" :
			       "unlinked");
	}
}

/* A trash entry decodes and names an existing EIR.  Never repaired: what a
 * broken entry held is a copy only a human can judge; its EIR's index
 * entries are kept (DAMAGED) so no repair frees the chunks it may use. */
static void check_trash(struct fsck *f)
{
	char obj[96];
	for (size_t i = 0; i < f->trash.n; i++) {
		const struct tent *te = &f->trash.v[i];
		struct eent *ee = efind(f, te->eir_id);
		snprintf(obj, sizeof(obj), "trash eir=%" PRIu32 " id=%" PRIu64, te->eir_id, te->id);
		f->res->trash++;
		if (te->bad) {
			report(f, "trash-bad", ENRP_FSCK_PROBLEM, false, obj, "the record does not decode");
			if (ee)
				ee->damaged = true;
		} else if (!ee) {
			report(f, "trash-eir", ENRP_FSCK_PROBLEM, false, obj, "its EIR does not exist");
		}
	}
}

/* Reference counts, index entries and chunk files that the index names. */
static void check_chunks(struct fsck *f)
{
	char obj[160], rel[128];
	int dfd = store_chunks_dirfd(f->st);
	if (f->refs.n) /* qsort's array may not be NULL, even empty */
		qsort(f->refs.v, f->refs.n, sizeof(*f->refs.v), cidx_cmp);
	size_t i = 0;
	/* Each distinct referenced chunk: its count against the index. */
	while (i < f->refs.n) {
		size_t j = i;
		while (j < f->refs.n && memcmp(f->refs.v[j].key, f->refs.v[i].key, CHUNK_KEY_LEN) == 0)
			j++;
		uint64_t want = j - i;
		const uint8_t *key = f->refs.v[i].key;
		struct cidx *c = cfind(f, key);
		chunk_relpath(key, rel, sizeof(rel));
		snprintf(obj, sizeof(obj), "chunk %s", rel);
		struct stat sb;
		bool have_file = dfd >= 0 && fstatat(dfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		                 S_ISREG(sb.st_mode);
		if (!have_file)
			report(f, "chunk-file-missing", ENRP_FSCK_PROBLEM, false, obj,
			       "is used %" PRIu64 " times by sealed files but its file is missing",
			       want);
		if (!c) {
			report(f, "chunk-unindexed", ENRP_FSCK_PROBLEM, have_file, obj,
			       "is used %" PRIu64 " times but the chunk index lacks it", want);
			struct action *a = have_file ? act(f, A_CHUNK_SET, 0) : NULL;
			if (a) {
				memcpy(a->k.key, key, CHUNK_KEY_LEN);
				a->c.refs = want;
				a->c.stored_len = (uint32_t)sb.st_size;
				a->c.plain_len = f->refs.v[i].plain_len;
			}
		} else if (c->c.refs != want) {
			report(f, "chunk-refcount", ENRP_FSCK_PROBLEM, true, obj,
			       "has reference count %" PRIu64 ", chunk lists use it %" PRIu64 " times",
			       c->c.refs, want);
			struct action *a = act(f, A_CHUNK_SET, 0);
			if (a) {
				memcpy(a->k.key, key, CHUNK_KEY_LEN);
				a->c = c->c;
				a->c.refs = want;
			}
		}
		i = j;
	}
	/* Index entries nothing uses; and the stored side of usage. */
	for (i = 0; i < f->idx.n; i++) {
		struct cidx *c = &f->idx.v[i];
		struct eent *ee = efind(f, be32_get(c->key));
		if (ee) {
			ee->calc.stored += c->c.stored_len;
			ee->calc.chunks++;
		}
		f->res->chunks++;
		if (rfind(f, c->key))
			continue;
		chunk_relpath(c->key, rel, sizeof(rel));
		snprintf(obj, sizeof(obj), "chunk %s", rel);
		/* In an EIR with a broken chunk list, the entry may be that
		 * file's: keep it (and its file) for an operator. */
		bool keep = ee && ee->damaged;
		report(f, "chunk-refcount", ENRP_FSCK_PROBLEM, !keep, obj,
		       "has reference count %" PRIu64 " but no chunk list uses it%s", c->c.refs,
		       keep ? " (kept: a sealed file of this EIR has a broken chunk list)" : "");
		struct action *a = keep ? NULL : act(f, A_CHUNK_DEL, 0);
		if (a)
			memcpy(a->k.key, c->key, CHUNK_KEY_LEN);
	}
}

static void check_usage(struct fsck *f)
{
	char obj[128];
	for (size_t i = 0; i < f->eirs.n; i++) {
		struct eent *ee = &f->eirs.v[i];
		if (ee->e.state == ENRP_STATE_DESTROYED)
			continue;
		snprintf(obj, sizeof(obj), "eir %s usage", ee->e.name);
		const struct enrp_eir_usage *u = &ee->u, *c = &ee->calc;
		if (!ee->have_usage)
			report(f, "usage", ENRP_FSCK_PROBLEM, true, obj, "the usage record is missing");
		else if (u->bytes != c->bytes || u->inodes != c->inodes || u->stored != c->stored ||
		         u->chunks != c->chunks)
			report(f, "usage", ENRP_FSCK_PROBLEM, true, obj,
			       "recorded bytes %" PRIu64 " inodes %" PRIu64 " stored %" PRIu64
			       " chunks %" PRIu64 "; recomputed %" PRIu64 " %" PRIu64 " %" PRIu64
			       " %" PRIu64, u->bytes, u->inodes, u->stored, u->chunks, c->bytes, c->inodes,
			       c->stored, c->chunks);
		else
			continue;
		struct action *a = act(f, A_USAGE_SET, ee->e.id);
		if (a)
			a->u = *c;
	}
}

/* The file-state counts must equal the recount; last_sealed may be later
 * than any live file's seal (that file went since), never earlier. */
static void check_files(struct fsck *f)
{
	char obj[128];
	for (size_t i = 0; i < f->eirs.n; i++) {
		struct eent *ee = &f->eirs.v[i];
		if (ee->e.state == ENRP_STATE_DESTROYED)
			continue;
		snprintf(obj, sizeof(obj), "eir %s file-states", ee->e.name);
		const struct enrp_eir_files *u = &ee->files, *c = &ee->fcalc;
		struct enrp_eir_files want = *c;
		if (!ee->have_files) {
			report(f, "file-states", ENRP_FSCK_PROBLEM, true, obj,
			       "the record of files by state is missing (counted again at the "
			       "next mount, or by --repair)");
		} else if (u->open != c->open || u->pending != c->pending ||
		           u->verified != c->verified || u->corrupt != c->corrupt ||
		           u->last_sealed < c->last_sealed) {
			/* tree_gen has no right value, only a new one after a change. */
			want.tree_gen = u->tree_gen + 1;
			report(f, "file-states", ENRP_FSCK_PROBLEM, true, obj,
			       "recorded open %" PRIu64 " pending %" PRIu64 " verified %" PRIu64
			       " corrupt %" PRIu64 " last sealed %" PRId64 "; recounted %" PRIu64
			       " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64, u->open, u->pending,
			       u->verified, u->corrupt, u->last_sealed, c->open, c->pending,
			       c->verified, c->corrupt, c->last_sealed);
			if (u->last_sealed > want.last_sealed)
				want.last_sealed = u->last_sealed;
		} else {
			continue;
		}
		struct action *a = act(f, A_FILES_SET, ee->e.id);
		if (a)
			a->files = want;
	}
}

/* ---- the spool and chunk directories ---- */

static void stray_spool(struct fsck *f, const char *name, uint64_t ino, const char *why)
{
	char obj[128];
	snprintf(obj, sizeof(obj), "spool/%.100s", name);
	report(f, "stray-spool-file", ENRP_FSCK_PROBLEM, true, obj,
	       "no inode keeps its bytes here (%s)", why);
	struct action *a = act(f, A_UNLINK_SPOOL, ino);
	if (a)
		snprintf(a->path, sizeof(a->path), "%.100s", name);
}

/* Spool files of sealed inodes looked at again (see scan_spool): at most
 * this many (more are reported at once), for up to 2 s. */
#define SEALED_LATE_MAX 64
#define SEALED_LATE_TRIES 20
#define SEALED_LATE_WAIT_US 100000

static void scan_spool(struct fsck *f, bool record_only)
{
	uint64_t sealed_late[SEALED_LATE_MAX];
	size_t nsealed = 0;
	int sfd = store_spool_dirfd(f->st);
	if (sfd < 0)
		return;
	int dfd = dup(sfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		f->err = -errno;
		return;
	}
	rewinddir(d);
	struct dirent *de;
	char obj[128];
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		uint64_t ino;
		snprintf(obj, sizeof(obj), "spool/%.100s", de->d_name);
		if (spool_parse_pool_name(de->d_name, &ino))
			continue; /* an emptied spool file kept for reuse (spool.c) */
		if (!spool_parse_name(de->d_name, &ino)) {
			if (!record_only)
				report(f, "spool-unknown-file", ENRP_FSCK_INFO, false, obj,
				       "is not a spool file name; left alone");
			continue;
		}
		struct ient *e = ifind(f, ino);
		if (record_only) {
			f->res->spool_files++;
			struct stat sb;
			int spool_fd = e ? openat(dirfd(d), de->d_name,
			                          O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
			if (e) {
				e->spool_file = true;
				uint64_t noted;
				if (spool_fd >= 0 && fstat(spool_fd, &sb) == 0) {
					e->spool_alloc = (uint64_t)sb.st_blocks * 512;
					e->spool_sized = enrp_spool_sized_gen(spool_fd, ino, &noted) == 0 &&
					                 noted >= e->gen;
					e->spool_size = (uint64_t)sb.st_size;
				}
			}
			if (spool_fd >= 0)
				close(spool_fd);
			continue;
		}
		if (e && (e->spool != SP_NONE || e->content == ENRP_CONTENT_SPOOL))
			continue;
		if (!f->repair && e && e->content == ENRP_CONTENT_SEALED && nsealed < SEALED_LATE_MAX) {
			sealed_late[nsealed++] = ino;
			continue;
		}
		stray_spool(f, de->d_name, ino, !e ? "no such inode" : "the inode is sealed or not a file");
	}
	closedir(d);
	/* A daemon removes a sealed file's spool file just after the seal's
	 * commit is durable: one sealed while we read may still have it.  Only
	 * a check runs beside a daemon (a repair refuses to), so it looks again
	 * for a moment before calling such a file stray. */
	for (int tries = 0; nsealed && tries < SEALED_LATE_TRIES; tries++) {
		usleep(SEALED_LATE_WAIT_US);
		size_t kept = 0;
		for (size_t i = 0; i < nsealed; i++) {
			char name[SPOOL_NAME_LEN + 1];
			spool_name(name, sealed_late[i]);
			if (faccessat(sfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				sealed_late[kept++] = sealed_late[i];
		}
		nsealed = kept;
	}
	for (size_t i = 0; i < nsealed; i++) {
		char name[SPOOL_NAME_LEN + 1];
		spool_name(name, sealed_late[i]);
		stray_spool(f, name, sealed_late[i], "the inode is sealed or not a file");
	}
}

static void found_chunk_file(struct fsck *f, const char *rel, const uint8_t *key, bool tmp)
{
	char obj[160];
	snprintf(obj, sizeof(obj), "chunk %s", rel);
	f->res->chunk_files++;
	if (!tmp && (cfind(f, key) || rfind(f, key)))
		return;
	struct eent *ee = key ? efind(f, be32_get(key)) : NULL;
	bool keep = ee && ee->damaged;
	if (tmp)
		report(f, "chunk-tmp", ENRP_FSCK_INFO, true, obj,
		       "a partly written chunk of an interrupted seal");
	else
		report(f, "unreferenced-chunk", ENRP_FSCK_INFO, !keep, obj,
		       "no index entry or chunk list uses it (garbage collection removes it)");
	if (!tmp && !f->quiet && !f->after)
		f->res->unreferenced_chunks++;
	struct action *a = keep ? NULL : act(f, A_UNLINK_CHUNK, 0);
	if (a)
		snprintf(a->path, sizeof(a->path), "%.120s", rel);
}

static void scan_chunks(struct fsck *f)
{
	int cfd = store_chunks_dirfd(f->st);
	if (cfd < 0)
		return;
	DIR *top = chunk_opendir_at(cfd, ".");
	if (!top) {
		f->err = -errno;
		return;
	}
	struct dirent *e1;
	char rel[160];
	while ((e1 = readdir(top))) {
		char *end;
		unsigned long eir = strtoul(e1->d_name, &end, 10);
		if (*end || e1->d_name[0] == '\0' || e1->d_name[0] == '.' || eir > UINT32_MAX)
			continue;
		DIR *d1 = chunk_opendir_at(cfd, e1->d_name);
		if (!d1)
			continue;
		struct dirent *e2;
		while ((e2 = readdir(d1))) {
			if (!strcmp(e2->d_name, "tmp")) {
				snprintf(rel, sizeof(rel), "%.16s/tmp", e1->d_name);
				DIR *t = chunk_opendir_at(cfd, rel);
				struct dirent *et;
				while (t && (et = readdir(t))) {
					if (et->d_name[0] == '.')
						continue;
					snprintf(rel, sizeof(rel), "%.16s/tmp/%.64s", e1->d_name, et->d_name);
					found_chunk_file(f, rel, NULL, true);
				}
				if (t)
					closedir(t);
				continue;
			}
			if (!chunk_hex_name(e2->d_name, 2))
				continue;
			snprintf(rel, sizeof(rel), "%.16s/%.2s", e1->d_name, e2->d_name);
			DIR *d2 = chunk_opendir_at(cfd, rel);
			struct dirent *e3;
			while (d2 && (e3 = readdir(d2))) {
				if (!chunk_hex_name(e3->d_name, 2))
					continue;
				snprintf(rel, sizeof(rel), "%.16s/%.2s/%.2s", e1->d_name, e2->d_name, e3->d_name);
				DIR *d3 = chunk_opendir_at(cfd, rel);
				struct dirent *e4;
				while (d3 && (e4 = readdir(d3))) {
					if (!chunk_hex_name(e4->d_name, 64) ||
					    strncmp(e4->d_name, e2->d_name, 2) ||
					    strncmp(e4->d_name + 2, e3->d_name, 2))
						continue;
					uint8_t key[CHUNK_KEY_LEN];
					be32_put(key, (uint32_t)eir);
					for (int i = 0; i < 32; i++) {
						unsigned v;
						sscanf(e4->d_name + 2 * i, "%2x", &v);
						key[4 + i] = (uint8_t)v;
					}
					snprintf(rel, sizeof(rel), "%.16s/%.2s/%.2s/%.64s", e1->d_name, e2->d_name,
					         e3->d_name, e4->d_name);
					found_chunk_file(f, rel, key, false);
				}
				if (d3)
					closedir(d3);
			}
			if (d2)
				closedir(d2);
		}
		closedir(d1);
	}
	closedir(top);
}

/* ---- repair ---- */

/* The spool index, the queue and the QUEUED flag of INO made to agree: a
 * spool file with links is queued afresh, anything else is unqueued. */
static int queue_normalize(enrp_txn *t, uint64_t ino)
{
	struct inode_rec r;
	uint8_t k[8];
	MDB_val v;
	int rc = ns_inode_get(t, ino, &r);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	be64_put(k, ino);
	rc = txn_get(t, DBI_SPOOL, k, 8, &v);
	if (rc && rc != -ENOENT)
		return rc;
	bool indexed = rc == 0;
	if (indexed && v.mv_size == QUEUE_KEY_LEN) {
		uint8_t qk[QUEUE_KEY_LEN];
		memcpy(qk, v.mv_data, sizeof(qk));
		rc = txn_del(t, DBI_QUEUE, qk, sizeof(qk));
		if (rc && rc != -ENOENT)
			return rc;
	}
	r.flags &= ~INODE_QUEUED;
	if (r.content != ENRP_CONTENT_SPOOL) {
		if (indexed && (rc = txn_del(t, DBI_SPOOL, k, 8)) && rc != -ENOENT)
			return rc;
		return ns_inode_put(t, ino, &r);
	}
	if (r.nlink == 0) {
		txn_put(t, DBI_SPOOL, k, 8, "", 0, 0);
		return ns_inode_put(t, ino, &r);
	}
	struct enrp_eir e;
	if ((rc = eir_get_txn(t, r.eir_id, &e)))
		return rc;
	uint8_t qk[QUEUE_KEY_LEN];
	key_queue(qk, e.eir_class, r.eir_id, enrp_now_ns(), ino);
	txn_put(t, DBI_QUEUE, qk, sizeof(qk), "", 0, 0);
	txn_put(t, DBI_SPOOL, k, 8, qk, sizeof(qk), 0);
	r.flags |= INODE_QUEUED;
	return ns_inode_put(t, ino, &r);
}

static int usage_set(enrp_txn *t, uint32_t id, const struct enrp_eir_usage *u)
{
	uint8_t key[4], val[USAGE_VAL_LEN];
	be32_put(key, id);
	rec_usage_encode(val, u);
	return txn_put(t, DBI_USAGE, key, sizeof(key), val, sizeof(val), 0);
}

static int apply_fn(enrp_txn *t, void *arg)
{
	struct fsck *f = arg;
	for (size_t i = 0; i < f->acts.n && !t->ret; i++) {
		struct action *a = &f->acts.v[i];
		struct inode_rec r;
		uint8_t k[8];
		int rc = 0;
		be64_put(k, a->ino);
		switch (a->type) {
		case A_DEL_DIRENT:
			rc = txn_del(t, DBI_DIRENT, a->k.key, a->k.klen);
			break;
		case A_FIX_NLINK:
		case A_FIX_PARENT:
			if ((rc = ns_inode_get(t, a->ino, &r)))
				break;
			if (a->type == A_FIX_NLINK)
				r.nlink = (uint32_t)a->val;
			else
				r.parent = a->val;
			rc = ns_inode_put(t, a->ino, &r);
			break;
		case A_ORPHAN_ADD:
			rc = txn_put(t, DBI_ORPHAN, k, 8, "", 0, 0);
			break;
		case A_ORPHAN_DEL:
			rc = txn_del(t, DBI_ORPHAN, k, 8);
			break;
		case A_SPOOL_ADD:
			rc = txn_put(t, DBI_SPOOL, k, 8, "", 0, MDB_NOOVERWRITE);
			if (rc == -EEXIST)
				rc = 0;
			break;
		case A_SPOOL_DEL:
			if (a->k.vlen == QUEUE_KEY_LEN && (rc = txn_del(t, DBI_QUEUE, a->k.val,
			                                                QUEUE_KEY_LEN)) == -ENOENT)
				rc = 0;
			if (rc == 0)
				rc = txn_del(t, DBI_SPOOL, k, 8);
			break;
		case A_QUEUE_DEL:
			rc = txn_del(t, DBI_QUEUE, a->k.key, a->k.klen);
			break;
		case A_QUEUE_NORMALIZE:
			rc = queue_normalize(t, a->ino);
			break;
		case A_EXTENT_DEL:
			rc = txn_del(t, DBI_EXTENT, k, 8);
			break;
		case A_BASE_DEL:
			rc = base_drop_txn(t, a->ino);
			break;
		case A_CHUNK_SET: {
			uint8_t val[CHUNK_VAL_LEN];
			rec_chunk_encode(val, &a->c);
			rc = txn_put(t, DBI_CHUNK, a->k.key, CHUNK_KEY_LEN, val, sizeof(val), 0);
			break;
		}
		case A_CHUNK_DEL:
			rc = txn_del(t, DBI_CHUNK, a->k.key, CHUNK_KEY_LEN);
			break;
		case A_USAGE_SET:
			rc = usage_set(t, (uint32_t)a->ino, &a->u);
			break;
		case A_FILES_SET:
			rc = eir_files_put(t, (uint32_t)a->ino, &a->files);
			break;
		default:
			break;
		}
		if (rc == -ENOENT)
			rc = 0; /* already gone: the goal is reached */
		if (rc)
			return rc;
	}
	return t->ret;
}

static int apply(struct fsck *f)
{
	int rc = enrp_store_write(f->st, apply_fn, f);
	if (rc)
		return rc;
	for (size_t i = 0; i < f->acts.n; i++) {
		struct action *a = &f->acts.v[i];
		if (a->type == A_FREE_ORPHAN) {
			int frc = enrp_ns_forget(f->st, a->ino);
			if (frc)
				enrp_log(ENRP_LOG_ERR, "fsck: cannot free orphan %" PRIu64 ": %s", a->ino,
				         enrp_strerror(frc));
		} else if (a->type == A_UNLINK_SPOOL) {
			if (unlinkat(store_spool_dirfd(f->st), a->path, 0) < 0 && errno != ENOENT)
				enrp_log(ENRP_LOG_ERR, "fsck: cannot remove spool/%s: %s", a->path,
				         strerror(errno));
		} else if (a->type == A_TRIM_SPOOL) {
			/* Growing a file by a byte and cutting it back frees every
			 * block past its end and leaves its bytes as they are. */
			struct stat sb;
			int fd = enrp_spool_open(f->st, a->ino, 0);
			int trc = fd < 0 ? fd : 0;
			if (trc == 0 && (fstat(fd, &sb) < 0 || ftruncate(fd, sb.st_size + 1) < 0 ||
			                 ftruncate(fd, sb.st_size) < 0))
				trc = -errno;
			if (fd >= 0)
				close(fd);
			if (trc)
				enrp_log(ENRP_LOG_ERR, "fsck: cannot trim the spool file of inode %" PRIu64
				         ": %s", a->ino, enrp_strerror(trc));
		} else if (a->type == A_UNLINK_CHUNK) {
			if (unlinkat(store_chunks_dirfd(f->st), a->path, 0) < 0 && errno != ENOENT)
				enrp_log(ENRP_LOG_ERR, "fsck: cannot remove chunks/%s: %s", a->path,
				         strerror(errno));
		}
	}
	return 0;
}

/* ---- one pass ---- */

static int pass(struct fsck *f)
{
	struct enrp_fsck_result scratch = { 0 };
	struct enrp_fsck_result *keep = f->res;
	if (f->quiet || f->after)
		f->res = &scratch; /* counts of the checked objects: first pass only */
	if (f->after)
		scratch.remaining = 0;
	f->err = 0;
	int rc = enrp_store_read(f->st, load_fn, f);
	if (rc == 0)
		rc = f->err;
	if (rc == 0) {
		scan_spool(f, true);
		check_dirents(f);
		rc = reach(f);
	}
	if (rc == 0) {
		check_queue(f);
		f->res->inodes = f->in.n;
		for (size_t i = 0; i < f->in.n; i++)
			check_inode(f, &f->in.v[i]);
		check_lost_entries(f);
		check_eirs(f);
		check_holds(f);
		check_trash(f);
		check_chunks(f);
		check_usage(f);
		check_files(f);
		scan_spool(f, false);
		scan_chunks(f);
		rc = f->err;
	}
	if (rc == 0 && f->repair && f->acts.n)
		rc = apply(f);
	if (f->after)
		keep->remaining += scratch.remaining;
	f->res = keep;
	fsck_release(f);
	return rc;
}

int enrp_fsck(enrp_store *st, unsigned flags, const struct enrp_actor *actor,
              enrp_fsck_report_fn *report_fn, void *arg, struct enrp_fsck_result *out)
{
	struct fsck f = { .st = st, .report = report_fn, .arg = arg, .res = out };
	memset(out, 0, sizeof(*out));
	bool repair = flags & ENRP_FSCK_REPAIR;
	if (repair) {
		pid_t pid = enrp_rundir_daemon_pid(enrp_store_path(st));
		if (pid) {
			enrp_log(ENRP_LOG_ERR, "enrpfs (pid %d) serves the store; unmount it before "
			         "repairing", (int)pid);
			return -EBUSY;
		}
	}
	f.repair = repair;
	int rc = pass(&f);
	if (rc)
		return rc;

	/* The journal's chain: reported, never repaired (it is evidence). */
	struct enrp_journal_verdict jv;
	rc = enrp_journal_verify(st, &jv);
	if (rc)
		return rc;
	if (!jv.intact) {
		f.repair = false;
		char obj[64];
		snprintf(obj, sizeof(obj), "journal record %" PRIu64, jv.bad_seq);
		report(&f, "journal-broken", ENRP_FSCK_PROBLEM, false, obj, "%s", jv.reason);
		f.repair = repair;
	}
	if (!repair)
		return 0;

	uint64_t fixed = out->repaired;
	/* Fixes can change what follows from them (usage after reference
	 * counts, orphans after link counts): once more, quietly. */
	f.quiet = true;
	if ((rc = pass(&f)))
		return rc;
	f.quiet = false;
	f.repair = false;
	f.after = true;
	out->remaining = 0;
	if ((rc = pass(&f)))
		return rc;
	if (!jv.intact) {
		char obj[64];
		snprintf(obj, sizeof(obj), "journal record %" PRIu64, jv.bad_seq);
		report(&f, "journal-broken", ENRP_FSCK_PROBLEM, false, obj, "%s", jv.reason);
	}
	if (fixed && actor) {
		char details[128] = "";
		enrp_details_add(details, sizeof(details), "repaired", "%" PRIu64, fixed);
		enrp_details_add(details, sizeof(details), "problems", "%" PRIu64, out->problems);
		enrp_details_add(details, sizeof(details), "remaining", "%" PRIu64, out->remaining);
		enrp_journal_append(st, actor, "", "fsck-repair", "%s", details);
	}
	return 0;
}
