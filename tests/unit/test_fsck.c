/*
 * test_fsck.c — enrp_fsck on real stores: a store built through the core
 * APIs (two EIRs, directories, a hard link, a symlink, sealed files with
 * shared chunks, a queued spool file) is clean; then each scenario damages
 * a fresh copy through the internal API in one way, and asserts that the
 * check finds exactly the expected kinds, that --repair fixes what it may
 * (a second check is clean) and leaves alone what it must (leaked inodes,
 * lost data, a broken journal), and that repair refuses while a daemon
 * holds the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/fsck.h>
#include <enrp/ingest.h>
#include <enrp/ns.h>
#include <enrp/rundir.h>
#include <enrp/spool.h>
#include <enrp/store.h>
#include <enrp/vault.h>

#include "chunk_int.h"
#include "record_int.h"
#include "store_int.h"

#include "../tap.h"

static const char *tmp;
static struct enrp_actor actor;
static const struct enrp_caller user = { .uid = 1000, .gid = 1000, .pid = 4242 };

/* What a scenario works on. */
struct fx {
	char path[256];
	enrp_store *st;
	struct enrp_eir a, b;
	uint64_t dir1, f1, f2, f4, g1, sp1, sym, gone;
};

static void bail(const char *what, int rc)
{
	printf("Bail out! %s: %s\n", what, enrp_strerror(rc));
	exit(1);
}

static uint64_t mk(struct fx *x, uint64_t parent, const char *name, mode_t mode)
{
	struct enrp_stat s;
	int rc = enrp_ns_mknod(x->st, &user, parent, name, mode, 0, S_ISLNK(mode) ? "t" : NULL, &s);
	if (rc)
		bail(name, rc);
	return s.st.st_ino;
}

static void fill(struct fx *x, uint64_t ino, size_t n, unsigned seed)
{
	uint8_t *b = malloc(n ? n : 1);
	uint32_t v = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		v = v * 1103515245u + 12345u;
		b[i] = (uint8_t)(v >> 16);
	}
	int fd = enrp_spool_open(x->st, ino, 1);
	if (fd < 0)
		bail("spool open", fd);
	if (pwrite(fd, b, n, 0) != (ssize_t)n)
		bail("pwrite", -EIO);
	close(fd);
	free(b);
	int rc = enrp_ns_write_done(x->st, ino, n, NULL);
	if (rc)
		bail("write_done", rc);
}

static void make_eir(struct fx *x, const char *name, struct enrp_eir *out)
{
	struct enrp_eir spec;
	enrp_eir_defaults(&spec, name);
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	int rc = enrp_eir_create(x->st, &spec, &actor, out);
	if (rc)
		bail("eir create", rc);
}

/* The fixture: a/dir1/f1 (700 KB, several chunks), a/f2 and its hard link
 * a/dir1/f2link, a/f4 (same bytes as f2: shared chunk), a/sym, a/gone
 * (sealed, to be unlinked by scenarios), b/g1 (same bytes as f2, other EIR),
 * a/sp1 (a queued spool file). */
static void build(struct fx *x, const char *name)
{
	snprintf(x->path, sizeof(x->path), "%s/%s", tmp, name);
	int rc = enrp_store_create(x->path);
	if (rc == 0)
		rc = enrp_store_open(x->path, 0, &x->st);
	if (rc)
		bail("store", rc);
	make_eir(x, "a", &x->a);
	make_eir(x, "b", &x->b);
	x->dir1 = mk(x, x->a.root_ino, "dir1", S_IFDIR | 0755);
	mk(x, x->dir1, "sub", S_IFDIR | 0755);
	x->f1 = mk(x, x->dir1, "f1", S_IFREG | 0644);
	x->f2 = mk(x, x->a.root_ino, "f2", S_IFREG | 0644);
	x->f4 = mk(x, x->a.root_ino, "f4", S_IFREG | 0644);
	x->gone = mk(x, x->a.root_ino, "gone", S_IFREG | 0644);
	x->sym = mk(x, x->a.root_ino, "sym", S_IFLNK | 0777);
	x->g1 = mk(x, x->b.root_ino, "g1", S_IFREG | 0644);
	fill(x, x->f1, 700000, 1);
	fill(x, x->f2, 5000, 2);
	fill(x, x->f4, 5000, 2);
	fill(x, x->g1, 5000, 2);
	fill(x, x->gone, 3000, 3);
	struct enrp_stat s;
	if ((rc = enrp_ns_link(x->st, &user, x->f2, x->dir1, "f2link", &s)))
		bail("link", rc);

	enrp_vault *v;
	enrp_ingest *ing;
	struct enrp_ingest_config cfg = { .workers = 1 };
	if ((rc = enrp_vault_open(x->st, NULL, &v)) || (rc = enrp_ingest_open(x->st, v, &cfg, &ing)))
		bail("ingest", rc);
	if ((rc = enrp_ingest_wait_idle(ing, 20000)))
		bail("seal", rc);
	enrp_ingest_close(ing);
	/* A queued spool file nobody seals (no workers). */
	cfg.workers = 0;
	if ((rc = enrp_ingest_open(x->st, v, &cfg, &ing)))
		bail("ingest", rc);
	x->sp1 = mk(x, x->a.root_ino, "sp1", S_IFREG | 0644);
	fill(x, x->sp1, 4000, 4);
	if ((rc = enrp_ingest_enqueue(ing, x->sp1)))
		bail("enqueue", rc);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
}

static void teardown(struct fx *x)
{
	enrp_store_close(x->st);
	tap_rmrf(x->path);
}

/* ---- findings as "kind,kind" (sorted, unique) ---- */

struct kinds {
	char first[512], after[512];
	struct enrp_fsck_result r;
};

static void add_kind(char *buf, const char *kind)
{
	char tmpb[512], *items[32];
	size_t n = 0;
	snprintf(tmpb, sizeof(tmpb), "%s", buf);
	for (char *save, *p = strtok_r(tmpb, ",", &save); p && n < 31; p = strtok_r(NULL, ",", &save))
		if (strcmp(p, kind))
			items[n++] = p;
	items[n++] = (char *)kind;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
			char *t = items[j];
			items[j] = items[j - 1];
			items[j - 1] = t;
		}
	char out[512] = "";
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(out, ",", sizeof(out) - strlen(out) - 1);
		strncat(out, items[i], sizeof(out) - strlen(out) - 1);
	}
	memcpy(buf, out, sizeof(out));
}

static void on_finding(const struct enrp_fsck_finding *f, void *arg)
{
	struct kinds *k = arg;
	add_kind(f->after_repair ? k->after : k->first, f->kind);
	if (getenv("FSCK_VERBOSE"))
		diag("%s%s %s: %s", f->after_repair ? "remains " : "", f->kind, f->object, f->message);
}

static int run_fsck(struct fx *x, unsigned flags, struct kinds *k)
{
	memset(k, 0, sizeof(*k));
	return enrp_fsck(x->st, flags, &actor, on_finding, k, &k->r);
}

/* ---- corruption through the internal API ---- */

typedef int corrupt_fn(enrp_txn *t, struct fx *x);

struct corrupt_args {
	corrupt_fn *fn;
	struct fx *x;
};

static int corrupt_txn(enrp_txn *t, void *arg)
{
	struct corrupt_args *a = arg;
	int rc = a->fn(t, a->x);
	return rc ? rc : t->ret;
}

static int inode_edit(enrp_txn *t, uint64_t ino, void (*edit)(struct inode_rec *r))
{
	uint8_t k[8];
	MDB_val v;
	struct inode_rec r;
	struct rec_out o;
	be64_put(k, ino);
	int rc = txn_get(t, DBI_INODE, k, 8, &v);
	if (rc == 0)
		rc = rec_inode_decode(v.mv_data, v.mv_size, &r);
	if (rc)
		return rc;
	edit(&r);
	rec_out_init(&o);
	rc = rec_inode_encode(&r, &o);
	if (rc == 0)
		rc = txn_put(t, DBI_INODE, k, 8, o.buf, o.len, 0);
	rec_out_release(&o);
	return rc;
}

static int first_chunk(enrp_txn *t, uint64_t ino, uint32_t eir, uint8_t key[CHUNK_KEY_LEN])
{
	struct extent_ent *v;
	size_t n;
	int rc = extent_get(t, ino, &v, &n);
	if (rc)
		return rc;
	key_chunk(key, eir, v[0].digest);
	free(v);
	return 0;
}

static void nlink5(struct inode_rec *r) { r->nlink = 5; }
static void parent_bad(struct inode_rec *r) { r->parent = 1234; }
static void unflag(struct inode_rec *r) { r->flags &= (uint8_t)~INODE_QUEUED; }

static int c_dangling_dirent(enrp_txn *t, struct fx *x)
{
	uint8_t k[8 + ENRP_NAME_MAX], v[DIRENT_VAL_LEN];
	size_t kl = key_dirent(k, x->a.root_ino, "ghost");
	rec_dirent_encode(v, 999999, S_IFREG);
	return txn_put(t, DBI_DIRENT, k, kl, v, sizeof(v), 0);
}

static int c_nlink(enrp_txn *t, struct fx *x) { return inode_edit(t, x->f2, nlink5); }
static int c_parent(enrp_txn *t, struct fx *x) { return inode_edit(t, x->dir1, parent_bad); }

static int c_leak(enrp_txn *t, struct fx *x)
{
	uint8_t k[8 + ENRP_NAME_MAX];
	return txn_del(t, DBI_DIRENT, k, key_dirent(k, x->dir1, "f1"));
}

static int c_orphan_unlisted(enrp_txn *t, struct fx *x)
{
	uint8_t k[8];
	be64_put(k, x->gone);
	return txn_del(t, DBI_ORPHAN, k, 8);
}

static int c_orphan_dangling(enrp_txn *t, struct fx *x)
{
	(void)x;
	uint8_t k[8];
	be64_put(k, 888888);
	return txn_put(t, DBI_ORPHAN, k, 8, "", 0, 0);
}

static int c_orphan_linked(enrp_txn *t, struct fx *x)
{
	uint8_t k[8];
	be64_put(k, x->f2);
	return txn_put(t, DBI_ORPHAN, k, 8, "", 0, 0);
}

/* sp1 out of every index: unindexed (its spool file would be removed at
 * the next mount) and so also unqueued. */
static int c_spool_unindexed(enrp_txn *t, struct fx *x)
{
	uint8_t k[8];
	MDB_val v;
	be64_put(k, x->sp1);
	int rc = txn_get(t, DBI_SPOOL, k, 8, &v);
	if (rc)
		return rc;
	uint8_t qk[QUEUE_KEY_LEN];
	memcpy(qk, v.mv_data, sizeof(qk));
	if ((rc = txn_del(t, DBI_QUEUE, qk, sizeof(qk))) || (rc = txn_del(t, DBI_SPOOL, k, 8)))
		return rc;
	return inode_edit(t, x->sp1, unflag);
}

static int c_spool_unqueued(enrp_txn *t, struct fx *x)
{
	uint8_t k[8];
	MDB_val v;
	be64_put(k, x->sp1);
	int rc = txn_get(t, DBI_SPOOL, k, 8, &v);
	if (rc)
		return rc;
	uint8_t qk[QUEUE_KEY_LEN];
	memcpy(qk, v.mv_data, sizeof(qk));
	if ((rc = txn_del(t, DBI_QUEUE, qk, sizeof(qk))) || (rc = txn_put(t, DBI_SPOOL, k, 8, "", 0, 0)))
		return rc;
	return inode_edit(t, x->sp1, unflag);
}

static int c_queue_flag(enrp_txn *t, struct fx *x) { return inode_edit(t, x->sp1, unflag); }

static int c_queue_dangling(enrp_txn *t, struct fx *x)
{
	(void)x;
	uint8_t qk[QUEUE_KEY_LEN];
	key_queue(qk, 3, 1, 1, 777777);
	return txn_put(t, DBI_QUEUE, qk, sizeof(qk), "", 0, 0);
}

static int c_spool_entry_stale(enrp_txn *t, struct fx *x)
{
	uint8_t k[8];
	be64_put(k, x->f2);
	return txn_put(t, DBI_SPOOL, k, 8, "", 0, 0);
}

static int c_spool_entry_dangling(enrp_txn *t, struct fx *x)
{
	(void)x;
	uint8_t k[8];
	be64_put(k, 666666);
	return txn_put(t, DBI_SPOOL, k, 8, "", 0, 0);
}

static int c_extent_missing(enrp_txn *t, struct fx *x)
{
	uint8_t k[8];
	be64_put(k, x->f1);
	return txn_del(t, DBI_EXTENT, k, 8);
}

static int c_extent_stale(enrp_txn *t, struct fx *x)
{
	struct extent_ent *v;
	size_t n;
	int rc = extent_get(t, x->f2, &v, &n);
	if (rc == 0)
		rc = extent_put(t, x->a.id, x->sym, v, n);
	free(v);
	return rc;
}

static int c_refcount(enrp_txn *t, struct fx *x)
{
	uint8_t key[CHUNK_KEY_LEN], val[CHUNK_VAL_LEN];
	struct chunk_rec c;
	int rc = first_chunk(t, x->f2, x->a.id, key);
	if (rc == 0)
		rc = chunk_lookup(t, x->a.id, key + 4, &c);
	if (rc)
		return rc;
	c.refs = 7;
	rec_chunk_encode(val, &c);
	return txn_put(t, DBI_CHUNK, key, sizeof(key), val, sizeof(val), 0);
}

static int c_unindexed(enrp_txn *t, struct fx *x)
{
	uint8_t key[CHUNK_KEY_LEN];
	int rc = first_chunk(t, x->f1, x->a.id, key);
	return rc ? rc : txn_del(t, DBI_CHUNK, key, sizeof(key));
}

/* EIR a's counts say one verified file too many and no seal ever. */
static int c_files(enrp_txn *t, struct fx *x)
{
	uint8_t k[KEY_FILES_LEN], v[FILES_VAL_LEN];
	MDB_val cur;
	struct enrp_eir_files f;
	key_files(k, x->a.id);
	int rc = txn_get(t, DBI_USAGE, k, sizeof(k), &cur);
	if (rc == 0)
		rc = rec_files_decode(cur.mv_data, cur.mv_size, &f);
	if (rc)
		return rc;
	if (f.verified == 0 || f.last_sealed == 0)
		return -EINVAL; /* the fixture must have sealed files */
	f.verified++;
	f.last_sealed = 0;
	rec_files_encode(v, &f);
	return txn_put(t, DBI_USAGE, k, sizeof(k), v, sizeof(v), 0);
}

/* A store written before the counts existed. */
static int c_files_missing(enrp_txn *t, struct fx *x)
{
	uint8_t k[KEY_FILES_LEN];
	key_files(k, x->b.id);
	return txn_del(t, DBI_USAGE, k, sizeof(k));
}

static int c_usage(enrp_txn *t, struct fx *x)
{
	uint8_t k[4], v[USAGE_VAL_LEN];
	MDB_val cur;
	struct enrp_eir_usage u;
	be32_put(k, x->b.id);
	int rc = txn_get(t, DBI_USAGE, k, 4, &cur);
	if (rc == 0)
		rc = rec_usage_decode(cur.mv_data, cur.mv_size, &u);
	if (rc)
		return rc;
	u.bytes += 100;
	u.chunks += 1;
	rec_usage_encode(v, &u);
	return txn_put(t, DBI_USAGE, k, 4, v, sizeof(v), 0);
}

static int c_journal(enrp_txn *t, struct fx *x)
{
	(void)x;
	uint8_t k[8];
	be64_put(k, 1);
	return txn_del(t, DBI_JOURNAL, k, 8);
}

/* Chunk file paths, as chunk.c lays them out. */
static void chunk_file(struct fx *x, uint64_t ino, uint32_t eir, char *buf, size_t n);

struct chunk_path_args {
	uint64_t ino;
	uint32_t eir;
	uint8_t key[CHUNK_KEY_LEN];
};

static int chunk_path_fn(enrp_txn *t, void *arg)
{
	struct chunk_path_args *a = arg;
	return first_chunk(t, a->ino, a->eir, a->key);
}

static void chunk_file(struct fx *x, uint64_t ino, uint32_t eir, char *buf, size_t n)
{
	struct chunk_path_args a = { .ino = ino, .eir = eir };
	char h[65];
	if (enrp_store_read(x->st, chunk_path_fn, &a))
		bail("chunk path", -EIO);
	enrp_hex(a.key + 4, 32, h);
	snprintf(buf, n, "%s/chunks/%u/%.2s/%.2s/%s", x->path, eir, h, h + 2, h);
}

/* ---- scenarios ---- */

enum fs_damage { FS_NONE, FS_STRAY_SPOOL, FS_SEALED_SPOOL, FS_SPOOL_LOST, FS_CHUNK_GONE,
                 FS_STRAY_CHUNK, FS_UNLINK_ORPHAN };

static void do_fs(struct fx *x, enum fs_damage d)
{
	char p[512];
	int rc = 0;
	switch (d) {
	case FS_NONE:
		break;
	case FS_STRAY_SPOOL:
		snprintf(p, sizeof(p), "%s/spool/00000000000fffff", x->path);
		rc = close(open(p, O_CREAT | O_WRONLY, 0600));
		break;
	case FS_SEALED_SPOOL: /* sealed f1 keeps a spool file (a crash before its hook) */
		snprintf(p, sizeof(p), "%s/spool/%016llx", x->path, (unsigned long long)x->f1);
		rc = close(open(p, O_CREAT | O_WRONLY, 0600));
		break;
	case FS_SPOOL_LOST:
		snprintf(p, sizeof(p), "%s/spool/%016llx", x->path, (unsigned long long)x->sp1);
		rc = unlink(p);
		break;
	case FS_CHUNK_GONE:
		chunk_file(x, x->f1, x->a.id, p, sizeof(p));
		rc = unlink(p);
		break;
	case FS_STRAY_CHUNK:
		snprintf(p, sizeof(p), "%s/chunks/%u/ab", x->path, x->a.id);
		mkdir(p, 0700);
		snprintf(p, sizeof(p), "%s/chunks/%u/ab/cd", x->path, x->a.id);
		mkdir(p, 0700);
		snprintf(p, sizeof(p), "%s/chunks/%u/ab/cd/abcd%060d", x->path, x->a.id, 0);
		rc = close(open(p, O_CREAT | O_WRONLY, 0600));
		break;
	case FS_UNLINK_ORPHAN:
		rc = enrp_ns_unlink(x->st, &user, x->a.root_ino, "gone", false);
		break;
	}
	if (rc)
		bail("fs damage", rc < 0 ? rc : -EIO);
}

/* Damages a fresh fixture with FN (metadata) and FS (files), then checks
 * that fsck finds exactly FOUND, that --repair leaves exactly REMAINS
 * ("" = clean), and that a last check agrees. */
/* A DBI_HOLD record on INO of EIR, until an hour from now, as hold.c
 * writes it (or garbage with BAD). */
static int put_hold(enrp_txn *t, uint32_t eir, uint64_t ino, bool bad)
{
	uint8_t key[13];
	be32_put(key, eir);
	key[4] = 'f';
	be64_put(key + 5, ino);
	if (bad)
		return txn_put(t, DBI_HOLD, key, sizeof(key), "junk", 4, 0);
	struct rec_out o;
	rec_out_init(&o);
	rec_put_u8(&o, 1);
	rec_put_u64(&o, (uint64_t)(enrp_now_ns() + 3600LL * 1000000000LL));
	rec_put_u64(&o, (uint64_t)enrp_now_ns());
	rec_put_str(&o, "uid=0 test_fsck");
	rec_put_str(&o, "order 12");
	rec_put_str(&o, "f4");
	int rc = o.err ? o.err : txn_put(t, DBI_HOLD, key, sizeof(key), o.buf, o.len, 0);
	rec_out_release(&o);
	return rc;
}

static int c_hold_bad(enrp_txn *t, struct fx *x) { return put_hold(t, x->a.id, x->f4, true); }
static int c_hold_lost(enrp_txn *t, struct fx *x) { return put_hold(t, x->a.id, 999999, false); }
static int c_hold_eir(enrp_txn *t, struct fx *x) { (void)x; return put_hold(t, 77, 5, false); }
static int c_hold_ok(enrp_txn *t, struct fx *x) { return put_hold(t, x->a.id, x->f4, false); }

static void scenario(const char *name, enum fs_damage fs, corrupt_fn *fn, const char *found,
                     const char *remains)
{
	struct fx x;
	struct kinds k;
	memset(&x, 0, sizeof(x));
	build(&x, name);
	do_fs(&x, fs);
	if (fn) {
		struct corrupt_args a = { fn, &x };
		int rc = enrp_store_write(x.st, corrupt_txn, &a);
		if (rc)
			bail(name, rc);
	}
	is_int(run_fsck(&x, 0, &k), 0, "%s: fsck runs", name);
	is_str(k.first, found, "%s: fsck finds exactly %s", name, found);
	bool info_only = k.r.problems == 0;
	ok(info_only == (k.r.remaining == 0), "%s: remaining %llu matches problems %llu", name,
	   (unsigned long long)k.r.remaining, (unsigned long long)k.r.problems);
	is_int(run_fsck(&x, ENRP_FSCK_REPAIR, &k), 0, "%s: fsck --repair runs", name);
	is_str(k.after, remains, "%s: after --repair, remains '%s'", name, remains);
	is_int(run_fsck(&x, 0, &k), 0, "%s: fsck runs again", name);
	is_str(k.first, remains, "%s: a second fsck finds '%s'", name, remains);
	is_int(k.r.remaining != 0, remains[0] != '\0', "%s: exit status agrees", name);
	teardown(&x);
}

struct late_unlink {
	char path[512];
	int rc;
};

static void *unlink_late(void *arg)
{
	struct late_unlink *u = arg;
	usleep(300000);
	u->rc = unlink(u->path);
	return NULL;
}

/* A daemon removes a sealed file's spool file just after the commit: a check
 * that meets it looks again before calling it stray, and one that stays is
 * reported (the scenario above). */
static void sealed_spool_removed_late(void)
{
	struct fx x;
	struct kinds k;
	memset(&x, 0, sizeof(x));
	build(&x, "sealed-spool-late");
	do_fs(&x, FS_SEALED_SPOOL);
	struct late_unlink u = { .rc = -1 };
	snprintf(u.path, sizeof(u.path), "%s/spool/%016llx", x.path, (unsigned long long)x.f1);
	pthread_t t;
	if (pthread_create(&t, NULL, unlink_late, &u))
		bail("pthread_create", -EAGAIN);
	is_int(run_fsck(&x, 0, &k), 0, "sealed-spool-late: fsck runs");
	pthread_join(t, NULL);
	is_int(u.rc, 0, "sealed-spool-late: the file was removed 0.3 s in");
	is_str(k.first, "", "sealed-spool-late: a spool file removed while fsck looks is no finding");
	teardown(&x);
}

int main(void)
{
	enrp_log_set_sink(NULL, NULL, getenv("FSCK_VERBOSE") ? ENRP_LOG_DEBUG : ENRP_LOG_ERR);
	enrp_actor_self(&actor, "test_fsck");
	tmp = tap_tmpdir();
	if (!tmp)
		bail("tmpdir", -errno);

	/* The fixture is clean. */
	struct fx x;
	struct kinds k;
	memset(&x, 0, sizeof(x));
	build(&x, "clean");
	is_int(run_fsck(&x, 0, &k), 0, "clean store: fsck runs");
	is_str(k.first, "", "clean store: no findings");
	ok(k.r.inodes >= 11 && k.r.dirents >= 10 && k.r.chunks >= 3 && k.r.spool_files == 1,
	   "clean store: counts (%llu inodes, %llu dirents, %llu chunks, %llu spool files)",
	   (unsigned long long)k.r.inodes, (unsigned long long)k.r.dirents,
	   (unsigned long long)k.r.chunks, (unsigned long long)k.r.spool_files);
	is_int(k.r.remaining, 0, "clean store: nothing remains");
	/* Repair refuses while a daemon holds the store. */
	pid_t holder;
	int lfd = enrp_rundir_lock(x.path, &holder);
	ok(lfd >= 0, "took the daemon lock");
	is_int(run_fsck(&x, ENRP_FSCK_REPAIR, &k), -EBUSY, "repair while a daemon serves: -EBUSY");
	is_int(run_fsck(&x, 0, &k), 0, "a check while a daemon serves runs");
	if (lfd >= 0)
		close(lfd);
	teardown(&x);

	scenario("dangling-dirent", FS_NONE, c_dangling_dirent, "dangling-dirent", "");
	scenario("nlink", FS_NONE, c_nlink, "nlink", "");
	scenario("dir-parent", FS_NONE, c_parent, "dir-parent", "");
	scenario("leaked", FS_NONE, c_leak, "leaked-inode", "leaked-inode");
	scenario("orphan", FS_UNLINK_ORPHAN, NULL, "orphan", "");
	scenario("orphan-unlisted", FS_UNLINK_ORPHAN, c_orphan_unlisted, "orphan-unlisted", "");
	scenario("orphan-dangling", FS_NONE, c_orphan_dangling, "orphan-dangling", "");
	scenario("orphan-linked", FS_NONE, c_orphan_linked, "orphan-linked", "");
	scenario("stray-spool", FS_STRAY_SPOOL, NULL, "stray-spool-file", "");
	scenario("sealed-spool", FS_SEALED_SPOOL, NULL, "stray-spool-file", "");
	sealed_spool_removed_late();
	scenario("spool-lost", FS_SPOOL_LOST, NULL, "spool-data-lost", "spool-data-lost");
	/* Editing the flags behind the namespace's back also puts the file in
	 * another state than its EIR's file-state counts say. */
	scenario("spool-unindexed", FS_NONE, c_spool_unindexed,
	         "file-states,spool-unindexed,spool-unqueued", "");
	scenario("spool-unqueued", FS_NONE, c_spool_unqueued, "file-states,spool-unqueued", "");
	scenario("spool-entry-stale", FS_NONE, c_spool_entry_stale, "spool-entry-stale", "");
	scenario("spool-entry-dangling", FS_NONE, c_spool_entry_dangling, "spool-entry-dangling", "");
	scenario("queue-flag", FS_NONE, c_queue_flag, "file-states,queue-inconsistent", "");
	scenario("queue-dangling", FS_NONE, c_queue_dangling, "queue-dangling", "");
	/* f1's chunks lose their only user: the refcounts say so, but nothing of
	 * an EIR with a broken chunk list is dropped. */
	scenario("extent-missing", FS_NONE, c_extent_missing, "chunk-refcount,extent-missing",
	         "chunk-refcount,extent-missing");
	scenario("extent-stale", FS_NONE, c_extent_stale, "extent-stale", "");
	scenario("chunk-refcount", FS_NONE, c_refcount, "chunk-refcount", "");
	scenario("chunk-unindexed", FS_NONE, c_unindexed, "chunk-unindexed,usage", "");
	scenario("chunk-file-missing", FS_CHUNK_GONE, NULL, "chunk-file-missing",
	         "chunk-file-missing");
	scenario("unreferenced-chunk", FS_STRAY_CHUNK, NULL, "unreferenced-chunk", "");
	scenario("usage", FS_NONE, c_usage, "usage", "");
	scenario("file-states", FS_NONE, c_files, "file-states", "");
	scenario("file-states-missing", FS_NONE, c_files_missing, "file-states", "");
	scenario("journal", FS_NONE, c_journal, "journal-broken", "journal-broken");
	scenario("hold-ok", FS_NONE, c_hold_ok, "", "");
	scenario("hold-bad", FS_NONE, c_hold_bad, "hold-bad", "hold-bad");
	scenario("hold-lost", FS_NONE, c_hold_lost, "hold-lost", "hold-lost");
	scenario("hold-eir", FS_NONE, c_hold_eir, "hold-eir", "hold-eir");

	rmdir(tmp);
	return done_testing();
}
