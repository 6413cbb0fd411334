/*
 * test_snapshot.c — snapshots without FUSE: a snapshot shows the EIR's
 * verified tree as it was, whatever changes after it (contents, deletions,
 * renames, new files, xattrs), costs nothing at creation and in proportion
 * to the changes after; the chunks it shows survive garbage collection;
 * deleting snapshots hands their kept versions on to the older ones or
 * releases them; fsck agrees all along.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/fsck.h>
#include <enrp/gc.h>
#include <enrp/ingest.h>
#include <enrp/ns.h>
#include <enrp/snapshot.h>
#include <enrp/spool.h>
#include <enrp/store.h>
#include <enrp/trash.h>
#include <enrp/clock.h>
#include <enrp/hold.h>
#include <enrp/prune.h>
#include <enrp/retention.h>
#include <enrp/rundir.h>
#include <enrp/status.h>
#include <enrp/vault.h>

#include "chunk_int.h"
#include "record_int.h"
#include "snapshot_int.h"
#include "store_int.h"

#include "../tap.h"
#include "journal_last.h"

#define KiB 1024

static enrp_store *st;
static enrp_vault *vault;
static enrp_ingest *ing;
static struct enrp_actor actor;
static struct enrp_eir eir;
static const struct enrp_caller user = { .uid = 1000, .gid = 1000, .pid = 4242 };

static void bail(const char *what, int rc)
{
	printf("Bail out! %s: %s\n", what, strerror(-rc));
	exit(1);
}

static uint8_t *bytes_of(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n);
	if (!p)
		bail("malloc", -ENOMEM);
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
	return p;
}

/* Writes P into INO's spool file and seals it. */
static void fill_and_seal(uint64_t ino, const uint8_t *p, size_t n)
{
	int fd = enrp_spool_open(st, ino, 1);
	if (fd < 0)
		bail("spool open", fd);
	if (ftruncate(fd, 0) || pwrite(fd, p, n, 0) != (ssize_t)n)
		bail("spool write", -errno);
	close(fd);
	int rc = enrp_ns_write_done(st, ino, n, NULL);
	if (rc == 0)
		rc = enrp_ingest_enqueue(ing, ino);
	if (rc == 0)
		rc = enrp_ingest_wait_idle(ing, 20000);
	if (rc)
		bail("seal", rc);
}

static uint64_t mkfile(uint64_t parent, const char *name, const uint8_t *p, size_t n)
{
	struct enrp_stat s;
	int rc = enrp_ns_mknod(st, &user, parent, name, S_IFREG | 0644, 0, NULL, &s);
	if (rc)
		bail("mknod", rc);
	fill_and_seal(s.st.st_ino, p, n);
	return s.st.st_ino;
}

static uint64_t mkdir_(uint64_t parent, const char *name)
{
	struct enrp_stat s;
	int rc = enrp_ns_mknod(st, &user, parent, name, S_IFDIR | 0755, 0, NULL, &s);
	if (rc)
		bail("mkdir", rc);
	return s.st.st_ino;
}

static void rewrite(uint64_t ino, const uint8_t *p, size_t n)
{
	int rc = enrp_ingest_unseal(ing, ino, true);
	if (rc)
		bail("unseal", rc);
	fill_and_seal(ino, p, n);
}

/* "a b c": the names of DIR in snapshot S (NULL: the live tree). */
struct names {
	char buf[512];
};

static int name_cb(const struct enrp_dirent *ent, void *arg)
{
	struct names *n = arg;
	size_t l = strlen(n->buf);
	snprintf(n->buf + l, sizeof(n->buf) - l, "%s%s", l ? " " : "", ent->name);
	return 0;
}

static const char *names_of(const struct enrp_snapshot *s, uint64_t dir, struct names *n)
{
	n->buf[0] = '\0';
	int rc = s ? enrp_snapshot_readdir(st, s, dir, name_cb, n) : enrp_ns_readdir(st, dir, name_cb, n);
	if (rc)
		snprintf(n->buf, sizeof(n->buf), "error %d", rc);
	return n->buf;
}

static bool sha_is(const struct enrp_stat *s, const uint8_t *p, size_t n)
{
	uint8_t want[32];
	enrp_sha256 *h;
	if (enrp_sha256_new(&h) || enrp_sha256_update(h, p, n) || enrp_sha256_final(h, want))
		return false;
	enrp_sha256_free(h);
	return memcmp(s->sha256, want, 32) == 0;
}

struct count_args {
	uint64_t n;
};

static int count_fn(enrp_txn *t, void *arg)
{
	struct count_args *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	a->n = 0;
	int rc = txn_cursor(t, DBI_PRESERVED, &cur);
	if (rc)
		return rc;
	for (int m = mdb_cursor_get(cur, &k, &v, MDB_FIRST); m == 0;
	     m = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		a->n++;
	mdb_cursor_close(cur);
	return 0;
}

/* Records in DBI_PRESERVED (versions and their index entries). */
static uint64_t kept_records(void)
{
	struct count_args a;
	int rc = enrp_store_read(st, count_fn, &a);
	return rc ? (uint64_t)-1 : a.n;
}

struct chunks_args {
	uint64_t gen, ino;
	bool all_there;
	size_t n;
};

static int chunks_fn(enrp_txn *t, void *arg)
{
	struct chunks_args *a = arg;
	uint8_t key[8];
	MDB_val v;
	be64_put(key, a->ino);
	int rc = snap_get(t, eir.id, a->gen, DBI_EXTENT, key, 8, &v);
	if (rc)
		return rc;
	struct extent_ent *x;
	if ((rc = rec_extent_decode(v.mv_data, v.mv_size, &x, &a->n)))
		return rc;
	a->all_there = true;
	for (size_t i = 0; i < a->n; i++) {
		uint8_t *buf;
		size_t len;
		if (!x[i].plain_len)
			continue;
		if (chunk_read(st, eir.id, x[i].digest, &buf, &len) == 0)
			free(buf);
		else
			a->all_there = false;
	}
	free(x);
	return 0;
}

/* Every chunk of INO's chunk list in snapshot GEN has its file. */
static bool snapshot_chunks_present(uint64_t gen, uint64_t ino)
{
	struct chunks_args a = { .gen = gen, .ino = ino };
	return enrp_store_read(st, chunks_fn, &a) == 0 && a.n > 0 && a.all_there;
}

static void finding(const struct enrp_fsck_finding *f, void *arg)
{
	(void)arg;
	if (f->severity == ENRP_FSCK_PROBLEM)
		diag("fsck: %s %s: %s", f->kind, f->object, f->message);
}

static int count_snap(const struct enrp_snapshot *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static int trash_has_deep(const struct enrp_trash_entry *e, void *arg)
{
	if (strcmp(e->name, "deep") == 0)
		*(bool *)arg = true;
	return 0;
}

/* What prune told: its items and its progress. */
struct prune_seen {
	unsigned calls;
	struct enrp_prune_result last;
	bool monotonic;
	bool mounted_item, mounted_item_held;
};

static void prune_item(const struct enrp_prune_item *it, void *arg)
{
	struct prune_seen *s = arg;
	if (it->mounted) {
		s->mounted_item = true;
		s->mounted_item_held = it->held;
	}
}

static void prune_progress(const struct enrp_prune_result *r, void *arg)
{
	struct prune_seen *s = arg;
	bool grew = s->calls == 0 || (r->snapshots_seen >= s->last.snapshots_seen &&
	                              r->eirs_done >= s->last.eirs_done);
	s->monotonic = (s->calls == 0 || s->monotonic) && grew;
	s->calls++;
	s->last = *r;
}

static int fsck_problems(void)
{
	struct enrp_fsck_result r;
	/* Spool files of sealed files go once their group is durable. */
	int rc = enrp_store_sync(st);
	if (rc == 0)
		rc = enrp_fsck(st, 0, &actor, finding, NULL, &r);
	return rc ? rc : (int)r.problems;
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];
	if (!tmp)
		bail("tmpdir", -errno);
	snprintf(path, sizeof(path), "%s/store", tmp);
	enrp_actor_self(&actor, "test_snapshot");
	struct enrp_eir spec;
	struct enrp_ingest_config cfg = { .workers = 1 };
	int rc = enrp_store_create(path);
	if (rc == 0)
		rc = enrp_store_open(path, ENRP_STORE_GROUP_COMMIT, &st);
	enrp_eir_defaults(&spec, "s");
	spec.owner_uid = spec.owner_gid = 1000;
	if (rc == 0)
		rc = enrp_eir_create(st, &spec, &actor, &eir);
	if (rc == 0)
		rc = enrp_vault_open(st, NULL, &vault);
	if (rc == 0)
		rc = enrp_ingest_open(st, vault, &cfg, &ing);
	if (rc)
		bail("setup", rc);

	const size_t na = 300 * KiB, nb = 200 * KiB, nc = 5 * KiB;
	uint8_t *A = bytes_of(na, 1), *A2 = bytes_of(na + 7, 2), *B = bytes_of(nb, 3), *C = bytes_of(nc, 4);
	uint64_t d = mkdir_(eir.root_ino, "d");
	uint64_t a = mkfile(d, "a", A, na);
	uint64_t b = mkfile(eir.root_ino, "b", B, nb);
	struct enrp_stat s;
	/* A file still being written is not the platform's yet. */
	rc = enrp_ns_mknod(st, &user, eir.root_ino, "open", S_IFREG | 0644, 0, NULL, &s);
	if (rc)
		bail("mknod open", rc);
	enrp_ingest_writer_open(ing, s.st.st_ino);

	/* ---- create ---- */
	struct enrp_snapshot s1, s2, got;
	is_int(enrp_snapshot_create(st, "s", "nightly-1", &actor, &s1), 0, "create nightly-1");
	is_int(kept_records(), 0, "creating a snapshot keeps nothing (no walk of the tree)");
	is_int(s1.files, 2, "it holds the 2 verified files");
	is_int(s1.not_included, 1, "and says 1 file was not verified yet");
	is_int(enrp_snapshot_create(st, "s", "nightly-1", &actor, NULL), -EEXIST, "the same name again: -EEXIST");
	is_int(enrp_snapshot_create(st, "s", "latest", &actor, NULL), -EINVAL, "'latest' is reserved: -EINVAL");
	is_int(enrp_snapshot_create(st, "s", "a/b", &actor, NULL), -EINVAL, "a '/' in a name: -EINVAL");
	is_int(enrp_snapshot_create(st, "nope", "x", &actor, NULL), -ENOENT, "no such EIR: -ENOENT");
	is_int(enrp_snapshot_get(st, "s", "nightly-1", &got), 0, "get it back");
	ok(got.gen == s1.gen && strcmp(got.name, "nightly-1") == 0 && got.created == s1.created,
	   "with its gen, name and time");

	/* ---- change everything ---- */
	struct names n;
	rewrite(a, A2, na + 7);
	is_int(enrp_ns_unlink(st, &user, eir.root_ino, "b", false), 0, "delete b");
	is_int(enrp_ns_forget(st, b), 0, "b freed");
	uint64_t c = mkfile(eir.root_ino, "c", C, nc);
	is_int(enrp_ns_rename(st, &user, eir.root_ino, "d", eir.root_ino, "d2", 0), 0, "rename d to d2");
	is_int(enrp_ns_setxattr(st, &user, a, "user.note", "x", 1, 0), 0, "an xattr on a");
	uint64_t kept_after_changes = kept_records();
	ok(kept_after_changes > 0 && kept_after_changes < 40,
	   "the changes kept %llu records (a few per changed key)", (unsigned long long)kept_after_changes);
	is_str(names_of(NULL, eir.root_ino, &n), "c d2 open", "live: c d2 open");
	is_str(names_of(&s1, eir.root_ino, &n), "b d", "nightly-1: b d (no c, no d2, no open file)");
	is_str(names_of(&s1, d, &n), "a", "nightly-1: d holds a");
	is_int(enrp_snapshot_lookup(st, &s1, d, "a", &s), 0, "nightly-1: look up d/a");
	ok(s.st.st_size == (off_t)na && sha_is(&s, A, na), "nightly-1: d/a has the old size and SHA-256");
	is_int(enrp_snapshot_lookup(st, &s1, eir.root_ino, "b", &s), 0, "nightly-1: b is there");
	ok(sha_is(&s, B, nb), "with its SHA-256");
	is_int(enrp_snapshot_lookup(st, &s1, eir.root_ino, "c", &s), -ENOENT, "nightly-1: c is not");
	is_int(enrp_snapshot_lookup(st, &s1, eir.root_ino, "open", &s), -ENOENT,
	       "nightly-1: the file that was being written is not");
	uint64_t open_ino;
	is_int(enrp_ns_lookup(st, eir.root_ino, "open", &s), 0, "the open file");
	open_ino = s.st.st_ino;
	is_int(enrp_ns_unlink(st, &user, eir.root_ino, "open", false), 0, "unlink the open file");
	enrp_ingest_writer_close(ing, open_ino);
	is_int(enrp_ns_forget(st, open_ino), 0, "and free it");
	is_int(enrp_ns_getattr(st, a, &s), 0, "live a");
	ok(s.st.st_size == (off_t)(na + 7) && sha_is(&s, A2, na + 7), "live a has the new content");

	/* ---- the chunks it shows survive gc ---- */
	struct enrp_gc_result g;
	is_int(enrp_gc_run(st, NULL, &actor, NULL, NULL, NULL, &g), 0, "gc");
	ok(snapshot_chunks_present(s1.gen, a), "nightly-1's chunks of the old a are all there");
	ok(snapshot_chunks_present(s1.gen, b), "nightly-1's chunks of the deleted b are all there");
	is_int(fsck_problems(), 0, "fsck: no problem (kept chunk lists counted)");
	struct enrp_trash_purged tp;
	is_int(enrp_trash_purge(st, "s", 0, &actor, &tp), 0, "purge the trash");
	ok(tp.entries >= 2, "which held the deleted b and the old a (%llu entries)",
	   (unsigned long long)tp.entries);
	is_int(enrp_gc_run(st, NULL, &actor, NULL, NULL, NULL, &g), 0, "gc");
	ok(snapshot_chunks_present(s1.gen, b), "nightly-1 still has b's chunks: the snapshot's own");
	ok(snapshot_chunks_present(s1.gen, a), "and the old a's");
	is_int(fsck_problems(), 0, "fsck: no problem");

	/* ---- a second snapshot, more changes, then delete the first ---- */
	is_int(enrp_snapshot_create(st, "s", "nightly-2", &actor, &s2), 0, "create nightly-2");
	is_int(enrp_ns_unlink(st, &user, eir.root_ino, "c", false), 0, "delete c");
	is_int(enrp_ns_forget(st, c), 0, "c freed");
	rewrite(a, A, na); /* back to the first content */
	is_str(names_of(&s2, eir.root_ino, &n), "c d2", "nightly-2: c d2");
	is_str(names_of(&s1, eir.root_ino, &n), "b d", "nightly-1 still: b d");
	is_int(enrp_snapshot_delete(st, "s", "nightly-1", &actor), 0, "delete nightly-1");
	is_int(enrp_snapshot_get(st, "s", "nightly-1", &got), -ENOENT, "it is gone");
	is_str(names_of(&s2, eir.root_ino, &n), "c d2", "nightly-2 unchanged: c d2");
	is_int(enrp_snapshot_lookup(st, &s2, d, "a", &s), 0, "nightly-2: d2/a");
	ok(sha_is(&s, A2, na + 7), "nightly-2: a has the content it had then");
	is_int(enrp_snapshot_readdir(st, &s1, eir.root_ino, name_cb, &n), -ENOENT,
	       "reading the deleted snapshot: -ENOENT");
	is_int(enrp_trash_purge(st, "s", 0, &actor, &tp), 0, "purge the trash again");
	is_int(enrp_gc_run(st, NULL, &actor, NULL, NULL, NULL, &g), 0, "gc");
	ok(g.chunks_freed > 0, "b's chunks, which only nightly-1 and trash kept, are freed (%llu)",
	   (unsigned long long)g.chunks_freed);
	ok(snapshot_chunks_present(s2.gen, c), "nightly-2's chunks of c are all there");
	ok(snapshot_chunks_present(s2.gen, a), "nightly-2's chunks of the second a are all there");
	is_int(fsck_problems(), 0, "fsck: no problem");

	/* ---- its checksum list (a snapshot mount's .enrp/SHA256SUMS) ---- */
	char *sums;
	size_t sums_len;
	is_int(enrp_status_render_snapshot(st, &s2, &sums, &sums_len), 0, "render nightly-2's SHA256SUMS");
	size_t lines = 0;
	for (size_t i = 0; i < sums_len; i++)
		lines += sums[i] == '\n';
	is_int((int)lines, (int)s2.files, "one line per file it holds");
	ok(strstr(sums, "  d2/a\n") && strstr(sums, "  c\n"), "paths relative to the EIR, depth first");
	free(sums);

	/* ---- a mounted snapshot is not deleted ---- */
	int mfd = enrp_rundir_snapshot_mount_lock(enrp_store_path(st), eir.id, s2.gen, "/mnt/drill");
	ok(mfd >= 0, "a snapshot mount takes its lock");
	is_int(enrp_snapshot_delete(st, "s", "nightly-2", &actor), -EBUSY, "delete while mounted: -EBUSY");
	char where[64];
	is_int(enrp_rundir_snapshot_delete_lock(enrp_store_path(st), eir.id, s2.gen, where, sizeof(where)),
	       -EBUSY, "the delete lock is busy");
	is_str(where, "/mnt/drill", "and says where it is mounted");
	is_int(enrp_snapshot_get(st, "s", "nightly-2", &got), 0, "it is still there");
	close(mfd);

	/* ---- delete the last one: nothing is kept any more ---- */
	is_int(enrp_snapshot_delete(st, "s", "nightly-2", &actor), 0, "delete nightly-2 once unmounted");
	is_int(kept_records(), 0, "no kept version is left");
	is_int(enrp_gc_run(st, NULL, &actor, NULL, NULL, NULL, &g), 0, "gc");
	is_int(fsck_problems(), 0, "fsck: no problem");
	is_int(enrp_snapshot_delete(st, "s", "nightly-2", &actor), -ENOENT, "delete again: -ENOENT");

	/* ---- active mode: a snapshot at least every rpo while changes arrive ---- */
	struct enrp_eir act;
	enrp_eir_defaults(&spec, "act");
	spec.owner_uid = spec.owner_gid = 2000;
	spec.agent_uid = 1000; /* the writer */
	spec.mode = ENRP_MODE_ACTIVE;
	spec.rpo_minutes = 60;
	if ((rc = enrp_eir_create(st, &spec, &actor, &act)))
		bail("eir create act", rc);
	const int64_t min = 60LL * 1000000000LL;
	int64_t t0 = enrp_now_ns();
	unsigned taken = 99;
	int nsnaps;
	is_int(enrp_snapshot_auto(st, t0, &actor, &taken), 0, "auto: nothing written yet");
	is_int(taken, 0, "no snapshot of an EIR that never changed");
	mkfile(act.root_ino, "first", C, nc);
	is_int(enrp_snapshot_auto(st, t0, &actor, &taken), 0, "auto after the first file");
	is_int(taken, 1, "the first change: a snapshot at once");
	is_int(enrp_snapshot_auto(st, t0 + 10 * min, &actor, &taken), 0, "auto 10 min later");
	is_int(taken, 0, "nothing changed: none");
	mkfile(act.root_ino, "second", C, nc);
	is_int(enrp_snapshot_auto(st, t0 + 30 * min, &actor, &taken), 0, "auto 30 min later");
	is_int(taken, 0, "a change, but the latest is younger than the rpo: none yet");
	is_int(enrp_snapshot_auto(st, t0 + 61 * min, &actor, &taken), 0, "auto 61 min later");
	is_int(taken, 1, "a change and the rpo passed: one");
	is_int(enrp_snapshot_auto(st, t0 + 300 * min, &actor, &taken), 0, "auto hours later");
	is_int(taken, 0, "nothing changed since: none");
	nsnaps = 0;
	is_int(enrp_snapshot_list(st, "act", count_snap, &nsnaps), 0, "list act's snapshots");
	is_int(nsnaps, 2, "two auto snapshots");
	nsnaps = 0;
	enrp_snapshot_list(st, "s", count_snap, &nsnaps);
	is_int(nsnaps, 0, "none of the rw EIR, whatever changed in it");

	/* ---- extended attributes as they were ---- */
	{
		uint64_t xf = mkfile(eir.root_ino, "xf", C, nc);
		char v[64];
		size_t len = 0;
		is_int(enrp_ns_setxattr(st, &user, xf, "user.a", "one", 3, 0), 0, "user.a=one");
		is_int(enrp_ns_setxattr(st, &user, xf, "user.gone", "g", 1, 0), 0, "user.gone=g");
		struct enrp_snapshot xs;
		is_int(enrp_snapshot_create(st, "s", "xattrs", &actor, &xs), 0, "snapshot xattrs");
		is_int(enrp_ns_setxattr(st, &user, xf, "user.a", "two!", 4, 0), 0, "then user.a=two!");
		is_int(enrp_ns_removexattr(st, &user, xf, "user.gone"), 0, "user.gone removed");
		is_int(enrp_ns_setxattr(st, &user, xf, "user.new", "n", 1, 0), 0, "user.new added");
		is_int(enrp_snapshot_getxattr(st, &xs, xf, "user.a", NULL, 0, &len), 0, "size of user.a");
		is_int((int)len, 3, "as it was: 3 bytes");
		is_int(enrp_snapshot_getxattr(st, &xs, xf, "user.a", v, 2, &len), -ERANGE,
		       "a small buffer: -ERANGE");
		is_int(enrp_snapshot_getxattr(st, &xs, xf, "user.a", v, sizeof(v), &len), 0, "get user.a");
		ok(len == 3 && memcmp(v, "one", 3) == 0, "the snapshot's value");
		is_int(enrp_snapshot_getxattr(st, &xs, xf, "user.new", v, sizeof(v), &len), -ENODATA,
		       "an attribute set later is not in it");
		is_int(enrp_snapshot_getxattr(st, &xs, xf, "trusted.x", v, sizeof(v), &len), -ENODATA,
		       "another namespace: -ENODATA");
		is_int(enrp_snapshot_listxattr(st, &xs, xf, v, sizeof(v), &len), 0, "list");
		ok(len == sizeof("user.a") + sizeof("user.gone") &&
		   memcmp(v, "user.a\0user.gone\0", len) == 0, "user.a and user.gone, as they were");
		is_int(enrp_snapshot_listxattr(st, &xs, xf, v, 4, &len), -ERANGE, "list, small: -ERANGE");
		is_int(enrp_snapshot_listxattr(st, &xs, xf + 1000, v, sizeof(v), &len), -ENOENT,
		       "an inode not in the snapshot: -ENOENT");
		is_int(enrp_ns_getxattr(st, xf, "user.a", v, sizeof(v), &len), 0, "live user.a");
		ok(len == 4 && memcmp(v, "two!", 4) == 0, "live keeps its own value");
		is_int(enrp_snapshot_delete(st, "s", "xattrs", &actor), 0, "delete snapshot xattrs");
	}

	/* ---- prune: keep-last, a held snapshot, trash past files=DAYS ---- */
	struct enrp_retention pol;
	char err[ENRP_RETENTION_ERR_MAX];
	is_int(enrp_retention_parse("files=1,keep-last=1", &pol, err, sizeof(err)), 0, "a policy");
	is_int(enrp_retention_set(st, "s", &pol, &actor), 0, "set on s");
	struct enrp_snapshot n1, n2, n3;
	is_int(enrp_snapshot_create(st, "s", "n1", &actor, &n1), 0, "n1");
	is_int(enrp_snapshot_create(st, "s", "n2", &actor, &n2), 0, "n2");
	is_int(enrp_snapshot_create(st, "s", "n3", &actor, &n3), 0, "n3");
	int64_t cur;
	is_int(enrp_hold_add_snapshot(st, "s", "n1", enrp_now_ns() + 86400LL * 1000000000LL, "case 9",
	                              false, &actor, &cur), 0, "hold n1");
	struct last held_rec = journal_last_of(st);
	char want[64];
	snprintf(want, sizeof(want), "snapshot=n1 files=%llu bytes=%llu ",
	         (unsigned long long)n1.files, (unsigned long long)n1.bytes);
	ok(!strcmp(held_rec.rec.event, "hold-add") && !strncmp(held_rec.rec.details, want, strlen(want)),
	   "the hold is journalled with what it keeps: '%s'", held_rec.rec.details);
	uint64_t z = mkfile(eir.root_ino, "z", C, nc);
	is_int(enrp_ns_unlink(st, &user, eir.root_ino, "z", false), 0, "delete z (to trash)");
	is_int(enrp_ns_forget(st, z), 0, "z freed");
	/* Live files for files=1: one deep in the tree, one held, and the
	 * snapshot n3 that still has them. */
	struct enrp_stat s0;
	uint64_t sub = mkdir_(mkdir_(eir.root_ino, "old"), "deeper");
	uint64_t deep = mkfile(sub, "deep", C, nc);
	mkfile(eir.root_ino, "kept", C, nc);
	is_int(enrp_hold_add(st, "s", "kept", enrp_now_ns() + 10 * 86400LL * 1000000000LL, "order 7",
	                     false, &actor, &cur), 0, "hold kept for 10 days");
	struct enrp_prune_result pr;
	const struct enrp_prune_opts dry = { .dry_run = true }, real = { 0 };
	is_int(enrp_prune(st, NULL, &dry, &actor, &pr), 0, "prune --dry-run");
	ok(pr.files == 0, "no live file was sealed more than a day ago (%llu)",
	   (unsigned long long)pr.files);
	ok(pr.snapshots == 1 && pr.held == 1 && pr.trash == 0,
	   "dry run: n2 would go, n1 is held, the trash is young (%llu, %llu, %llu)",
	   (unsigned long long)pr.snapshots, (unsigned long long)pr.held,
	   (unsigned long long)pr.trash);
	is_int(enrp_snapshot_get(st, "s", "n2", &got), 0, "a dry run changes nothing");

	/* A mounted snapshot stays, reported as mounted (not held). */
	bool mounted = true;
	is_int(enrp_snapshot_mounted(st, "s", "n2", NULL, 0, &mounted), 0, "n2 mounted?");
	ok(!mounted, "not mounted yet");
	mfd = enrp_rundir_snapshot_mount_lock(enrp_store_path(st), eir.id, n2.gen, "/mnt/drill");
	ok(mfd >= 0, "mount n2");
	is_int(enrp_snapshot_mounted(st, "s", "n2", where, sizeof(where), &mounted), 0, "n2 mounted?");
	ok(mounted && !strcmp(where, "/mnt/drill"), "mounted, at /mnt/drill ('%s')", where);
	is_int(enrp_snapshot_mounted(st, "s", "nope", NULL, 0, &mounted), -ENOENT,
	       "mounted? of no such snapshot: -ENOENT");
	struct prune_seen seen = { 0 };
	const struct enrp_prune_opts watched = { .dry_run = true, .cb = prune_item,
		                                 .progress = prune_progress, .arg = &seen };
	is_int(enrp_prune(st, NULL, &watched, &actor, &pr), 0, "prune --dry-run, n2 mounted");
	ok(pr.snapshots == 0 && pr.held == 1 && pr.mounted == 1,
	   "dry run: n2 stays as mounted, n1 as held (%llu, %llu, %llu)",
	   (unsigned long long)pr.snapshots, (unsigned long long)pr.held,
	   (unsigned long long)pr.mounted);
	ok(seen.mounted_item && !seen.mounted_item_held, "the item says mounted, not held");
	ok(seen.calls >= 4 && seen.last.eirs_done == seen.last.eirs_total &&
	   seen.last.snapshots_seen == 3 && seen.monotonic,
	   "progress: called per snapshot and EIR, counts only grow, ends with every EIR done and "
	   "the 3 snapshots seen (%u calls, %u/%u EIRs, %llu seen)", seen.calls,
	   seen.last.eirs_done, seen.last.eirs_total, (unsigned long long)seen.last.snapshots_seen);
	struct last before = journal_last_of(st);
	is_int(enrp_prune(st, NULL, &real, &actor, &pr), 0, "prune, n2 mounted");
	ok(pr.snapshots == 0 && pr.mounted == 1, "n2 is kept as mounted");
	is_int(enrp_snapshot_get(st, "s", "n2", &got), 0, "n2 stays while mounted");
	struct last after = journal_last_of(st);
	ok(after.n == before.n + 1 && !strcmp(after.rec.event, "prune") &&
	   strstr(after.rec.details, "snapshots=0 kept=3 ") && strstr(after.rec.details, " held=1 mounted=1"),
	   "journalled with its counts: '%s'", after.rec.details);
	close(mfd);

	is_int(enrp_prune(st, NULL, &real, &actor, &pr), 0, "prune");
	is_int(enrp_snapshot_get(st, "s", "n2", &got), -ENOENT, "n2 is gone");
	is_int(enrp_snapshot_get(st, "s", "n1", &got), 0, "the held n1 stays");
	is_int(enrp_snapshot_get(st, "s", "n3", &got), 0, "the last, n3, stays");
	enrp_clock_test_set_wall(enrp_now_ns() + 2 * 86400LL * 1000000000LL);
	is_int(enrp_snapshot_create(st, "s", "n4", &actor, &n3), 0, "n4 has the files of now");
	is_int(enrp_prune(st, NULL, &dry, &actor, &pr), 0, "dry run two days later");
	ok(pr.files >= 2 && pr.held >= 1, "dry run: the old files would go, the held one is kept "
	   "(%llu, %llu)", (unsigned long long)pr.files, (unsigned long long)pr.held);
	is_int(enrp_ns_lookup(st, sub, "deep", &s0), 0, "a dry run removes nothing");
	is_int(enrp_prune(st, NULL, &real, &actor, &pr), 0, "prune two days later");
	ok(pr.trash >= 1, "trash sealed more than files=1 days ago is purged (%llu)",
	   (unsigned long long)pr.trash);
	ok(pr.trash_bytes >= nc, "with its bytes (%llu)", (unsigned long long)pr.trash_bytes);
	ok(pr.files >= 2, "live files sealed more than files=1 days ago are removed (%llu)",
	   (unsigned long long)pr.files);
	is_int(enrp_ns_lookup(st, sub, "deep", &s0), -ENOENT, "old/deeper/deep is gone");
	is_int(enrp_ns_lookup(st, eir.root_ino, "old", &s0), 0, "its directories stay");
	is_int(enrp_ns_lookup(st, eir.root_ino, "kept", &s0), 0, "the held file stays");
	is_int(enrp_ns_getattr(st, deep, &s0), -ENOENT, "deep's inode is freed (no kernel here)");
	bool in_trash = false;
	is_int(enrp_trash_list(st, "s", trash_has_deep, &in_trash), 0, "trash list");
	ok(!in_trash, "an expired file does not go to trash");
	is_int(enrp_snapshot_lookup(st, &n3, sub, "deep", &s0), 0, "n4 still has old/deeper/deep");
	ok(s0.st.st_ino == deep && sha_is(&s0, C, nc) && snapshot_chunks_present(n3.gen, deep),
	   "with its checksum and its chunks");
	uint64_t fresh = mkfile(eir.root_ino, "fresh", C, nc);
	is_int(enrp_prune(st, NULL, &real, &actor, &pr), 0, "prune again");
	is_int(enrp_ns_getattr(st, fresh, &s0), 0, "a file sealed now stays");
	enrp_clock_test_set_wall(enrp_now_ns() - 86400LL * 1000000000LL);
	is_int(enrp_prune(st, NULL, &real, &actor, &pr), 0,
	       "prune with the host clock set back a day");
	is_int(pr.snapshots + pr.trash + pr.files, 0,
	       "nothing more goes: the platform clock does not go back");
	enrp_clock_test_set_wall(0);
	is_int(enrp_prune(st, "nope", &dry, &actor, &pr), -ENOENT, "prune of no such EIR");
	is_int(fsck_problems(), 0, "fsck: no problem after prune");

	enrp_ingest_close(ing);
	enrp_vault_close(vault);
	enrp_store_close(st);
	free(A);
	free(A2);
	free(B);
	free(C);
	tap_rmrf(tmp);
	return done_testing();
}
