/*
 * test_trash.c — trash on real stores, without FUSE: a verified copy goes
 * to trash when its last name is unlinked, when a rename replaces it, when
 * it is unsealed with truncation (O_TRUNC) or copied back to be rewritten;
 * a hard link with names left, and a file never verified, are not trashed.
 * Listing (paths, why, expiry from files=DAYS), restore to the old path and
 * to --to (refused when a name is taken, when the old name is unknown or
 * its directory gone), purge (one, all, refused under the lock), the
 * trash-add journal record, what quota and stored bytes count, fsck (clean
 * with trash present; reference damage still found, and a repair keeps
 * the trash's references), and GC keeping every trashed chunk until the
 * purge.
 *
 * Every error is asserted as its exact -errno (STYLE rule 35).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/codec.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/fsck.h>
#include <enrp/gc.h>
#include <enrp/hold.h>
#include <enrp/ingest.h>
#include <enrp/journal.h>
#include <enrp/ns.h>
#include <enrp/reader.h>
#include <enrp/spool.h>
#include <enrp/store.h>
#include <enrp/trash.h>
#include <enrp/vault.h>

#include "chunk_int.h"
#include "eir_int.h"
#include "record_int.h"
#include "store_int.h"

#include "../tap.h"
#include "journal_last.h"

#define KiB 1024u
#define IDLE_MS 20000 /* generous: valgrind is slow */
#define NS_PER_DAY (86400LL * 1000000000LL)

static const char *tmp;
static struct enrp_actor actor;
static const struct enrp_caller user = { .uid = 1000, .gid = 1000, .pid = 4242 };

static void bail(const char *what, int rc)
{
	printf("Bail out! %s: %s\n", what, strerror(-rc));
	exit(1);
}

/* ---- a store with one EIR and a seal pipeline ---- */

struct fx {
	enrp_store *st;
	enrp_vault *v;
	enrp_ingest *ing;
	struct enrp_eir e;
};

static void fx_open(struct fx *x, const char *name)
{
	char path[512];
	struct enrp_eir spec;
	struct enrp_ingest_config cfg = { .workers = 1 };
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	int rc = enrp_store_create(path);
	if (rc == 0)
		rc = enrp_store_open(path, 0, &x->st);
	if (rc == 0)
		rc = enrp_vault_open(x->st, NULL, &x->v);
	enrp_eir_defaults(&spec, name);
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	if (rc == 0)
		rc = enrp_eir_create(x->st, &spec, &actor, &x->e);
	if (rc == 0)
		rc = enrp_ingest_open(x->st, x->v, &cfg, &x->ing);
	if (rc)
		bail("fixture", rc);
}

static void fx_close(struct fx *x)
{
	enrp_ingest_close(x->ing);
	enrp_vault_close(x->v);
	enrp_store_close(x->st);
}

/* Bytes that differ per SEED, so files share no chunk unless meant to. */
static uint8_t *bytes_of(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n);
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	if (!p)
		bail("malloc", -ENOMEM);
	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = (uint8_t)s;
	}
	return p;
}

/* A regular file NAME in PARENT holding P[0..N), sealed and verified. */
static uint64_t sealed_file(struct fx *x, uint64_t parent, const char *name, const uint8_t *p,
                            size_t n)
{
	struct enrp_stat s;
	int rc = enrp_ns_mknod(x->st, &user, parent, name, S_IFREG | 0640, 0, NULL, &s);
	if (rc)
		bail("mknod", rc);
	int fd = enrp_spool_open(x->st, s.st.st_ino, 1);
	if (fd < 0 || pwrite(fd, p, n, 0) != (ssize_t)n)
		bail("spool write", fd < 0 ? fd : -EIO);
	close(fd);
	if ((rc = enrp_ns_write_done(x->st, s.st.st_ino, n, NULL)))
		bail("write_done", rc);
	enrp_ingest_enqueue(x->ing, s.st.st_ino);
	if ((rc = enrp_ingest_wait_idle(x->ing, IDLE_MS)))
		bail("seal", rc);
	return s.st.st_ino;
}

/* A directory "d" (*D) holding a sealed file "a" of P[0..N); a's inode. */
static uint64_t sealed_in_d(struct fx *x, struct enrp_stat *d, const uint8_t *p, size_t n)
{
	is_int(enrp_ns_mknod(x->st, &user, x->e.root_ino, "d", S_IFDIR | 0750, 0, NULL, d), 0,
	       "mkdir d");
	return sealed_file(x, d->st.st_ino, "a", p, n);
}

static enum enrp_file_state state_of(struct fx *x, uint64_t ino)
{
	struct enrp_stat s;
	return enrp_ns_getattr(x->st, ino, &s) ? (enum enrp_file_state)99 : s.state;
}

static bool reads_back(struct fx *x, uint64_t ino, const uint8_t *want, size_t n)
{
	enrp_reader *r;
	if (enrp_reader_open(x->ing, ino, &r))
		return false;
	uint8_t *buf = malloc(n + 1);
	ssize_t got = enrp_reader_read(r, buf, n + 1, 0);
	bool same = got == (ssize_t)n && memcmp(buf, want, n) == 0;
	free(buf);
	enrp_reader_close(r);
	return same;
}

static uint64_t lookup(struct fx *x, uint64_t parent, const char *name)
{
	struct enrp_stat s;
	return enrp_ns_lookup(x->st, parent, name, &s) ? 0 : s.st.st_ino;
}

static void delete(struct fx *x, uint64_t parent, const char *name)
{
	uint64_t ino = lookup(x, parent, name);
	is_int(enrp_ns_unlink(x->st, &user, parent, name, false), 0, "unlink %s", name);
	is_int(enrp_ns_forget(x->st, ino), 0, "forget %s", name);
}

static struct enrp_eir_usage usage(struct fx *x)
{
	struct enrp_eir_usage u;
	memset(&u, 0, sizeof(u));
	enrp_eir_usage(x->st, x->e.id, &u);
	return u;
}

/* ---- the trash as listed ---- */

#define LIST_MAX 16

struct list {
	size_t n;
	struct enrp_trash_entry v[LIST_MAX];
};

static int collect(const struct enrp_trash_entry *e, void *arg)
{
	struct list *l = arg;
	if (l->n < LIST_MAX)
		l->v[l->n] = *e;
	l->n++;
	return 0;
}

static struct list trash_of(struct fx *x)
{
	static struct list l;
	memset(&l, 0, sizeof(l));
	int rc = enrp_trash_list(x->st, x->e.name, collect, &l);
	if (rc)
		bail("trash list", rc);
	return l;
}

/* The last entry listed (the newest). */
static const struct enrp_trash_entry *newest(struct fx *x)
{
	struct list *l = NULL;
	static struct list keep;
	keep = trash_of(x);
	l = &keep;
	return l->n ? &l->v[l->n - 1] : NULL;
}

/* ---- internal views: chunk list and references ---- */

struct first_chunk {
	uint64_t ino;
	uint8_t digest[32];
	bool have;
	uint32_t eir_id;
	int64_t refs;
};

static int first_chunk_fn(enrp_txn *t, void *arg)
{
	struct first_chunk *f = arg;
	struct extent_ent *v;
	size_t n;
	int rc = extent_get(t, f->ino, &v, &n);
	if (rc)
		return rc;
	f->have = n > 0 && v[0].plain_len;
	if (f->have)
		memcpy(f->digest, v[0].digest, 32);
	free(v);
	return 0;
}

static int refs_fn(enrp_txn *t, void *arg)
{
	struct first_chunk *f = arg;
	struct chunk_rec c;
	int rc = chunk_lookup(t, f->eir_id, f->digest, &c);
	f->refs = rc ? rc : (int64_t)c.refs;
	return 0;
}

static struct first_chunk first_chunk_of(struct fx *x, uint64_t ino)
{
	struct first_chunk f = { .ino = ino, .eir_id = x->e.id };
	if (enrp_store_read(x->st, first_chunk_fn, &f) || !f.have)
		bail("first chunk", -ENOENT);
	return f;
}

static int64_t refs(struct fx *x, struct first_chunk *f)
{
	enrp_store_read(x->st, refs_fn, f);
	return f->refs;
}

static bool chunk_file_exists(struct fx *x, const struct first_chunk *f)
{
	char h[65], path[700];
	enrp_hex(f->digest, 32, h);
	snprintf(path, sizeof(path), "%s/chunks/%u/%.2s/%.2s/%s", enrp_store_path(x->st), x->e.id, h,
	         h + 2, h);
	return access(path, F_OK) == 0;
}

struct set_refs {
	struct first_chunk *f;
	uint64_t refs;
};

static int set_refs_fn(enrp_txn *t, void *arg)
{
	struct set_refs *a = arg;
	struct chunk_rec c;
	uint8_t key[CHUNK_KEY_LEN], val[CHUNK_VAL_LEN];
	int rc = chunk_lookup(t, a->f->eir_id, a->f->digest, &c);
	if (rc)
		return rc;
	c.refs = a->refs;
	key_chunk(key, a->f->eir_id, a->f->digest);
	rec_chunk_encode(val, &c);
	return txn_put(t, DBI_CHUNK, key, sizeof(key), val, sizeof(val), 0);
}

struct setting {
	uint32_t id;
	const char *name, *value;
};

static int setting_fn(enrp_txn *t, void *arg)
{
	struct setting *s = arg;
	return eir_setting_put(t, s->id, s->name, s->value, strlen(s->value));
}

static void on_finding(const struct enrp_fsck_finding *f, void *arg)
{
	(void)arg;
	diag("fsck: %s %s: %s", f->kind, f->object, f->message);
}

static int fsck(struct fx *x, unsigned flags, struct enrp_fsck_result *r)
{
	memset(r, 0, sizeof(*r));
	return enrp_fsck(x->st, flags, &actor, on_finding, NULL, r);
}

/* ---- tests ---- */

static void trashed_when(void)
{
	struct fx x;
	fx_open(&x, "when");
	uint8_t *a = bytes_of(300 * KiB, 1), *b = bytes_of(200 * KiB, 2);
	struct enrp_stat d;
	uint64_t fa = sealed_in_d(&x, &d, a, 300 * KiB);
	struct first_chunk ca = first_chunk_of(&x, fa);
	struct enrp_eir_usage u0 = usage(&x);
	is_int(trash_of(&x).n, 0, "no trash yet");

	/* Unlink. */
	delete(&x, d.st.st_ino, "a");
	struct list l = trash_of(&x);
	is_int(l.n, 1, "the deleted verified copy is in trash");
	const struct enrp_trash_entry *t = &l.v[0];
	is_str(t->path, "d/a", "its path as it was");
	is_int(t->why, ENRP_TRASH_DELETED, "why: deleted");
	is_int(t->size, 300 * KiB, "size");
	is_int(t->ino, fa, "the inode it had");
	ok(t->sealed_at > 0 && t->trashed_at >= t->sealed_at, "sealed, then trashed");
	is_int(t->expires, 0, "no retention: no expiry");
	ok(t->chunks > 0, "it holds its chunks (%llu)", (unsigned long long)t->chunks);
	is_int(refs(&x, &ca), 1, "the chunk keeps its reference");
	struct enrp_eir_usage u1 = usage(&x);
	is_int(u1.bytes, u0.bytes - 300 * KiB, "quota no longer counts it");
	is_int(u1.stored, u0.stored, "stored still counts it");

	/* A hard link with a name left is not trashed; its last name is. */
	uint64_t fh = sealed_file(&x, x.e.root_ino, "h", b, 200 * KiB);
	struct enrp_stat s;
	is_int(enrp_ns_link(x.st, &user, fh, x.e.root_ino, "h2", &s), 0, "link h2");
	is_int(enrp_ns_unlink(x.st, &user, x.e.root_ino, "h", false), 0, "unlink h");
	is_int(trash_of(&x).n, 1, "a name left: nothing trashed");
	delete(&x, x.e.root_ino, "h2");
	t = newest(&x);
	ok(t && t->ino == fh && strcmp(t->path, "h2") == 0, "the last name's removal trashes it");

	/* Rename over. */
	uint8_t *c = bytes_of(100 * KiB, 3), *c2 = bytes_of(100 * KiB, 4);
	uint64_t fc = sealed_file(&x, x.e.root_ino, "c", c, 100 * KiB);
	sealed_file(&x, x.e.root_ino, "c.tmp", c2, 100 * KiB);
	is_int(enrp_ns_rename(x.st, &user, x.e.root_ino, "c.tmp", x.e.root_ino, "c", 0), 0,
	       "rename c.tmp over c (rsync's way)");
	is_int(enrp_ns_forget(x.st, fc), 0, "forget the old c");
	t = newest(&x);
	ok(t && t->ino == fc && t->why == ENRP_TRASH_RENAMED_OVER && strcmp(t->path, "c") == 0,
	   "the replaced copy: renamed-over, path c");

	/* O_TRUNC, then a copy-back: the inode lives on, so its name is found. */
	uint8_t *o = bytes_of(150 * KiB, 5);
	uint64_t fo = sealed_file(&x, x.e.root_ino, "o", o, 150 * KiB);
	is_int(enrp_ingest_unseal(x.ing, fo, true), 0, "unseal with truncation (> o)");
	t = newest(&x);
	ok(t && t->ino == fo && t->why == ENRP_TRASH_TRUNCATED && t->size == 150 * KiB,
	   "the truncated copy: truncated, its old size");
	is_str(t->path, "o", "a rewrite's path is the file's name now");
	is_int(t->parent, x.e.root_ino, "found by its directory entry");
	int fd = enrp_spool_open(x.st, fo, 1);
	ok(fd >= 0 && pwrite(fd, o, 150 * KiB, 0) == 150 * KiB, "o written again");
	close(fd);
	enrp_ns_write_done(x.st, fo, 150 * KiB, NULL);
	enrp_ingest_enqueue(x.ing, fo);
	is_int(enrp_ingest_wait_idle(x.ing, IDLE_MS), 0, "and sealed");
	is_int(enrp_ingest_unseal(x.ing, fo, false), 0, "unseal with copy-back (open for append)");
	t = newest(&x);
	ok(t && t->ino == fo && t->why == ENRP_TRASH_OVERWRITTEN, "the rewritten copy: overwritten");
	is_int(trash_of(&x).n, 5, "five copies in trash");

	/* Not verified: released as before. */
	struct enrp_stat p;
	is_int(enrp_ns_mknod(x.st, &user, x.e.root_ino, "pending", S_IFREG | 0640, 0, NULL, &p), 0,
	       "a file never sealed");
	delete(&x, x.e.root_ino, "pending");
	is_int(trash_of(&x).n, 5, "an unverified file is not trashed");

	/* One journal record for all of it. */
	struct last before = journal_last_of(x.st);
	unsigned records = 0;
	is_int(enrp_trash_journal(x.st, &actor, &records), 0, "journal what was trashed");
	is_int(records, 1, "one record for the EIR");
	struct last after = journal_last_of(x.st);
	is_int(after.n, before.n + 1, "one record appended");
	is_str(after.rec.event, "trash-add", "trash-add");
	ok(strstr(after.rec.details, "count=5 ") != NULL, "with the count (%s)", after.rec.details);
	is_int(enrp_trash_journal(x.st, &actor, &records), 0, "again");
	is_int(records, 0, "nothing new: no record");
	is_int(journal_last_of(x.st).n, after.n, "journal unchanged");

	/* Expiry comes from files=DAYS of the retention setting. */
	struct setting set = { x.e.id, "retention", "keep-daily=7,files=30" };
	is_int(enrp_store_write(x.st, setting_fn, &set), 0, "retention files=30");
	t = newest(&x);
	ok(t && t->expires == t->sealed_at + 30 * NS_PER_DAY, "expires 30 days after its seal");

	is_int(enrp_trash_list(x.st, "nope", collect, &l), -ENOENT, "list of no EIR: -ENOENT");
	fx_close(&x);
	free(a);
	free(b);
	free(c);
	free(c2);
	free(o);
}

static void restore_and_refusals(void)
{
	struct fx x;
	fx_open(&x, "rest");
	uint8_t *a = bytes_of(250 * KiB, 11), *n2 = bytes_of(10 * KiB, 12);
	struct enrp_stat d;
	uint64_t fa = sealed_in_d(&x, &d, a, 250 * KiB);
	struct first_chunk ca = first_chunk_of(&x, fa);
	struct enrp_stat before;
	enrp_ns_getattr(x.st, fa, &before);
	struct enrp_eir_usage u0 = usage(&x);
	delete(&x, d.st.st_ino, "a");
	uint64_t id = newest(&x)->id;

	/* Refused: the name is taken. */
	sealed_file(&x, d.st.st_ino, "a", n2, 10 * KiB);
	struct enrp_trash_entry out;
	struct last j0 = journal_last_of(x.st);
	is_int(enrp_trash_restore(x.st, x.e.name, id, NULL, &actor, &out), -EEXIST,
	       "restore over a live file: -EEXIST");
	ok(reads_back(&x, lookup(&x, d.st.st_ino, "a"), n2, 10 * KiB), "the live file untouched");
	is_int(trash_of(&x).n, 1, "the entry stays");
	is_int(enrp_trash_restore(x.st, x.e.name, id, "d", &actor, &out), -EEXIST,
	       "--to a directory: -EEXIST");
	is_int(enrp_trash_restore(x.st, x.e.name, id, "nodir/a", &actor, &out), -ENOENT,
	       "--to a missing directory: -ENOENT (none is made)");
	is_int(enrp_trash_restore(x.st, x.e.name, id, "d/a/b", &actor, &out), -ENOTDIR,
	       "--to under a file: -ENOTDIR");
	is_int(enrp_trash_restore(x.st, x.e.name, id, "../a", &actor, &out), -EINVAL,
	       "--to with '..': -EINVAL");
	is_int(enrp_trash_restore(x.st, x.e.name, id, ".enrp", &actor, &out), -EEXIST,
	       "--to a reserved name: -EEXIST");
	is_int(enrp_trash_restore(x.st, x.e.name, 999, NULL, &actor, &out), -ESRCH,
	       "no such entry: -ESRCH");
	is_int(enrp_trash_restore(x.st, "nope", id, NULL, &actor, &out), -ENOENT,
	       "no such EIR: -ENOENT");
	is_int(journal_last_of(x.st).n, j0.n, "refusals journal nothing");

	/* --to. */
	is_int(enrp_trash_restore(x.st, x.e.name, id, "d/a.restored", &actor, &out), 0,
	       "restore --to d/a.restored");
	is_str(out.path, "d/a.restored", "told where");
	uint64_t fr = lookup(&x, d.st.st_ino, "a.restored");
	ok(fr && fr != fa, "a new inode");
	is_int(state_of(&x, fr), ENRP_FILE_VERIFIED, "verified");
	struct enrp_stat after;
	enrp_ns_getattr(x.st, fr, &after);
	ok(memcmp(after.sha256, before.sha256, 32) == 0 && after.sealed_at == before.sealed_at,
	   "same checksum and seal time");
	ok(after.st.st_uid == before.st.st_uid && after.st.st_mode == before.st.st_mode &&
	   after.st.st_mtim.tv_sec == before.st.st_mtim.tv_sec, "same owner, mode and mtime");
	ok(reads_back(&x, fr, a, 250 * KiB), "reads back");
	is_int(refs(&x, &ca), 1, "the reference moved back, none added");
	is_int(trash_of(&x).n, 0, "the entry is gone");
	is_int(usage(&x).bytes, u0.bytes + 10 * KiB, "charged again");
	struct last j1 = journal_last_of(x.st);
	is_str(j1.rec.event, "trash-restore", "journalled as trash-restore");
	is_int(enrp_trash_restore(x.st, x.e.name, id, NULL, &actor, &out), -ESRCH,
	       "restored once only");

	/* The old path, after the file there went too. */
	delete(&x, d.st.st_ino, "a");
	delete(&x, d.st.st_ino, "a.restored");
	id = newest(&x)->id;
	is_int(enrp_trash_restore(x.st, x.e.name, id, NULL, &actor, &out), 0,
	       "restore to its old path d/a.restored");
	ok(reads_back(&x, lookup(&x, d.st.st_ino, "a.restored"), a, 250 * KiB), "reads back there");

	/* A rewrite knows no free old name. */
	uint64_t fo = lookup(&x, d.st.st_ino, "a.restored");
	is_int(enrp_ingest_unseal(x.ing, fo, true), 0, "truncate it");
	id = newest(&x)->id;
	is_int(enrp_trash_restore(x.st, x.e.name, id, NULL, &actor, &out), -EDESTADDRREQ,
	       "a rewrite has no old name of its own (the live file's): -EDESTADDRREQ");
	is_int(enrp_trash_restore(x.st, x.e.name, id, "before-truncate", &actor, &out), 0,
	       "restore --to before-truncate");
	ok(reads_back(&x, lookup(&x, x.e.root_ino, "before-truncate"), a, 250 * KiB), "reads back");
	enrp_ingest_enqueue(x.ing, fo);
	is_int(enrp_ingest_wait_idle(x.ing, IDLE_MS), 0, "the emptied file sealed");

	/* The directory went: the name stays, the path cannot be told. */
	uint8_t *z = bytes_of(20 * KiB, 13);
	struct enrp_stat g;
	is_int(enrp_ns_mknod(x.st, &user, x.e.root_ino, "gone", S_IFDIR | 0750, 0, NULL, &g), 0,
	       "mkdir gone");
	sealed_file(&x, g.st.st_ino, "z", z, 20 * KiB);
	delete(&x, g.st.st_ino, "z");
	is_int(enrp_ns_unlink(x.st, &user, x.e.root_ino, "gone", true), 0, "rmdir gone");
	is_int(enrp_ns_forget(x.st, g.st.st_ino), 0, "forget gone");
	const struct enrp_trash_entry *t = newest(&x);
	ok(t && t->path[0] == '\0' && strcmp(t->name, "z") == 0, "no path, the name z");
	id = t->id;
	is_int(enrp_trash_restore(x.st, x.e.name, id, NULL, &actor, &out), -ENOENT,
	       "its directory is gone: -ENOENT");
	is_int(enrp_trash_restore(x.st, x.e.name, id, "z", &actor, &out), 0, "restore --to z");

	struct enrp_fsck_result r;
	is_int(fsck(&x, 0, &r), 0, "fsck");
	is_int(r.problems, 0, "clean after restores");
	fx_close(&x);
	free(a);
	free(n2);
	free(z);
}

static void fsck_gc_purge(void)
{
	struct fx x;
	fx_open(&x, "fgp");
	uint8_t *a = bytes_of(400 * KiB, 21), *b = bytes_of(100 * KiB, 22);
	uint64_t fa = sealed_file(&x, x.e.root_ino, "a", a, 400 * KiB);
	uint64_t fb = sealed_file(&x, x.e.root_ino, "b", b, 100 * KiB);
	struct first_chunk ca = first_chunk_of(&x, fa), cb = first_chunk_of(&x, fb);
	delete(&x, x.e.root_ino, "a");
	delete(&x, x.e.root_ino, "b");
	struct list l = trash_of(&x);
	is_int(l.n, 2, "two entries");

	/* fsck counts the trash's references. */
	struct enrp_fsck_result r;
	is_int(fsck(&x, 0, &r), 0, "fsck");
	is_int(r.problems, 0, "clean with trash present");
	is_int(r.trash, 2, "two trash entries checked");
	is_int(r.unreferenced_chunks, 0, "no trashed chunk looks unreferenced");
	struct set_refs bad = { &ca, 7 };
	is_int(enrp_store_write(x.st, set_refs_fn, &bad), 0, "damage a trashed chunk's count");
	is_int(fsck(&x, 0, &r), 0, "fsck");
	is_int(r.problems, 1, "the wrong count is found");
	is_int(fsck(&x, ENRP_FSCK_REPAIR, &r), 0, "fsck --repair");
	is_int(r.remaining, 0, "repaired");
	is_int(refs(&x, &ca), 1, "to the trash's one reference, not to none");
	bad.refs = 0;
	is_int(enrp_store_write(x.st, set_refs_fn, &bad), 0, "a count of 0 for a trashed chunk");
	is_int(fsck(&x, ENRP_FSCK_REPAIR, &r), 0, "fsck --repair");
	is_int(refs(&x, &ca), 1, "repaired to 1: the entry is a user");

	/* GC keeps the trash. */
	struct enrp_gc_result g;
	is_int(enrp_gc_run(x.st, NULL, &actor, NULL, NULL, NULL, &g), 0, "gc");
	is_int(g.chunks_freed, 0, "nothing freed");
	ok(chunk_file_exists(&x, &ca) && chunk_file_exists(&x, &cb), "the trashed chunks are there");
	struct enrp_trash_entry out;
	is_int(enrp_trash_restore(x.st, x.e.name, l.v[0].id, NULL, &actor, &out), 0, "restore a");
	uint64_t fr = lookup(&x, x.e.root_ino, "a");
	enrp_ingest_close(x.ing);
	struct enrp_ingest_config cfg = { .workers = 1 };
	is_int(enrp_ingest_open(x.st, x.v, &cfg, &x.ing), 0, "a cold reader");
	ok(reads_back(&x, fr, a, 400 * KiB), "after gc, a reads back whole");

	/* Purge: refused under the lock, in another EIR. */
	struct fx y;
	fx_open(&y, "lk");
	uint64_t fl = sealed_file(&y, y.e.root_ino, "l", b, 100 * KiB);
	(void)fl;
	delete(&y, y.e.root_ino, "l");
	is_int(enrp_hold_lock_set(y.st, "lk", 30, &actor), 0, "lock the EIR for 30 days");
	uint64_t lid = newest(&y)->id;
	struct enrp_trash_purged p;
	struct last j0 = journal_last_of(y.st);
	is_int(enrp_trash_purge(y.st, "lk", lid, &actor, &p), -EPERM, "purge of a locked copy: -EPERM");
	is_int(journal_last_of(y.st).n, j0.n, "a refusal journals nothing");
	is_int(enrp_trash_purge(y.st, "lk", 0, &actor, &p), 0, "purge all");
	ok(p.entries == 0 && p.kept == 1, "kept the locked copy");
	is_int(trash_of(&y).n, 1, "still in trash");
	fx_close(&y);

	/* Purge one, then all; GC frees them. */
	is_int(enrp_trash_purge(x.st, x.e.name, 999, &actor, &p), -ESRCH, "no such entry: -ESRCH");
	is_int(enrp_trash_purge(x.st, "nope", 0, &actor, &p), -ENOENT, "no such EIR: -ENOENT");
	delete(&x, x.e.root_ino, "a");
	struct enrp_eir_usage u0 = usage(&x);
	l = trash_of(&x);
	is_int(l.n, 2, "a and b in trash");
	is_int(enrp_trash_purge(x.st, x.e.name, l.v[0].id, &actor, &p), 0, "purge one");
	ok(p.entries == 1 && p.bytes == l.v[0].size, "one entry, its bytes");
	struct last j = journal_last_of(x.st);
	is_str(j.rec.event, "trash-purge", "journalled as trash-purge");
	is_int(trash_of(&x).n, 1, "one left");
	is_int(enrp_trash_purge(x.st, x.e.name, 0, &actor, &p), 0, "purge all");
	ok(p.entries == 1 && p.kept == 0, "the other");
	is_int(trash_of(&x).n, 0, "trash empty");
	ok(refs(&x, &ca) == -ENOENT && refs(&x, &cb) == -ENOENT, "no reference left");
	ok(usage(&x).stored < u0.stored, "stored dropped");
	is_int(enrp_gc_run(x.st, NULL, &actor, NULL, NULL, NULL, &g), 0, "gc");
	ok(g.chunks_freed > 0, "freed the chunks (%llu)", (unsigned long long)g.chunks_freed);
	ok(!chunk_file_exists(&x, &ca) && !chunk_file_exists(&x, &cb), "their files are gone");
	is_int(usage(&x).stored, 0, "stored 0");
	is_int(fsck(&x, 0, &r), 0, "fsck");
	is_int(r.problems, 0, "clean");
	fx_close(&x);
	free(a);
	free(b);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_trash");
	trashed_when();
	restore_and_refusals();
	fsck_gc_purge();
	tap_rmrf(tmp);
	return done_testing();
}
