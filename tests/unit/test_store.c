/*
 * test_store.c — the store: creation, refusal of foreign and newer stores,
 * read-only opens, map growth, group commit (atomic nested operations,
 * visibility, durability on sync, concurrent writers), a second process
 * writing while the daemon holds a group, and enrp_store_sync_eir (a group
 * is committed for the EIRs whose changes it holds, and only for them),
 * chunk files made durable by the commit of the seals that point at them
 * (one sync per group, a seal applied during that sync), and a commit's
 * hooks running while the next group takes writes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <enrp/store.h>

#include "chunk_int.h"
#include "record_int.h"
#include "store_int.h"

#include "../tap.h"

static const char *tmp;

static char *path_of(const char *name)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ % 8];
	snprintf(p, 256, "%s/%s", tmp, name);
	return p;
}

/* ---- key/value helpers run as transactions ---- */

struct kv {
	const char *key;
	uint64_t value;
	int fail_after_put; /* returns this error after the put */
};

static int put_fn(enrp_txn *t, void *arg)
{
	struct kv *kv = arg;
	uint8_t v[8];
	be64_put(v, kv->value);
	int rc = txn_put(t, DBI_META, kv->key, strlen(kv->key), v, 8, 0);
	return rc ? rc : kv->fail_after_put;
}

static int get_fn(enrp_txn *t, void *arg)
{
	struct kv *kv = arg;
	MDB_val v;
	int rc = txn_get(t, DBI_META, kv->key, strlen(kv->key), &v);
	if (rc)
		return rc;
	kv->value = be64_get(v.mv_data);
	return 0;
}

static int incr_fn(enrp_txn *t, void *arg)
{
	struct kv *kv = arg;
	uint64_t cur = 0;
	MDB_val v;
	int rc = txn_get(t, DBI_META, kv->key, strlen(kv->key), &v);
	if (rc == 0)
		cur = be64_get(v.mv_data);
	else if (rc != -ENOENT)
		return rc;
	uint8_t nv[8];
	be64_put(nv, cur + 1);
	return txn_put(t, DBI_META, kv->key, strlen(kv->key), nv, 8, 0);
}

static uint64_t get_value(enrp_store *st, const char *key, int *rc)
{
	struct kv kv = { .key = key };
	*rc = enrp_store_read(st, get_fn, &kv);
	return kv.value;
}

static void creation_and_refusal(void)
{
	enrp_store *st = NULL;
	is_int(enrp_store_create(path_of("a")), 0, "create a new store");
	struct stat sb;
	ok(stat(path_of("a"), &sb) == 0 && (sb.st_mode & 07777) == 0700, "store is mode 0700");
	ok(stat(path_of("a/spool"), &sb) == 0 && S_ISDIR(sb.st_mode), "spool/ exists");
	is_int(enrp_store_create(path_of("a")), -EEXIST, "create over a store: -EEXIST");
	is_int(enrp_store_open(path_of("missing"), 0, &st), -ENOENT, "open missing: -ENOENT");
	mkdir(path_of("plain"), 0700);
	is_int(enrp_store_open(path_of("plain"), 0, &st), -EMEDIUMTYPE,
	       "open a plain directory: -EMEDIUMTYPE");

	is_int(enrp_store_open(path_of("a"), 0, &st), 0, "open the store");
	is_int(enrp_store_format(st), ENRP_STORE_FORMAT, "format is current");
	struct kv kv = { .key = "format" };
	enrp_store_close(st);
	is_int(enrp_store_open(path_of("a"), ENRP_STORE_RDONLY, &st), 0, "open read-only");
	is_int(enrp_store_write(st, put_fn, &kv), -EROFS, "write on a read-only open: -EROFS");
	enrp_store_close(st);
}

static int set_format_fn(enrp_txn *t, void *arg)
{
	uint8_t v[4];
	be32_put(v, *(uint32_t *)arg);
	return txn_put(t, DBI_META, "format", 6, v, 4, 0);
}

static void newer_format(void)
{
	enrp_store *st;
	enrp_store_create(path_of("newer"));
	enrp_store_open(path_of("newer"), 0, &st);
	uint32_t fmt = ENRP_STORE_FORMAT + 1;
	is_int(enrp_store_write(st, set_format_fn, &fmt), 0, "write a newer format number");
	enrp_store_close(st);
	st = NULL;
	is_int(enrp_store_open(path_of("newer"), 0, &st), -EPROTONOSUPPORT,
	       "a newer store is refused: -EPROTONOSUPPORT");
	ok(st == NULL, "and no handle is returned");
	is_int(enrp_store_open(path_of("newer"), ENRP_STORE_RDONLY, &st), -EPROTONOSUPPORT,
	       "also read-only");
}

/* A format-3 store: no databases of format 4. */
static int make_format3_fn(enrp_txn *t, void *arg)
{
	(void)arg;
	for (int i = DBI_FIRST_FORMAT4; i < DBI_COUNT; i++) {
		int mrc = mdb_drop(t->txn, store_dbi(t, (enum store_dbi)i), 1);
		if (mrc)
			return -EIO;
	}
	uint32_t fmt = 3;
	return set_format_fn(t, &fmt);
}

static int has_hold_db_fn(enrp_txn *t, void *arg)
{
	MDB_val v;
	int rc = txn_get(t, DBI_HOLD, "x", 1, &v);
	*(int *)arg = rc;
	return 0;
}

static void older_format(void)
{
	enrp_store *st;
	enrp_store_create(path_of("older"));
	enrp_store_open(path_of("older"), 0, &st);
	is_int(enrp_store_write(st, make_format3_fn, NULL), 0,
	       "make a format-3 store (the databases of format 4 dropped)");
	enrp_store_close(st);
	st = NULL;
	int got = 1;
	is_int(enrp_store_open(path_of("older"), ENRP_STORE_RDONLY, &st), 0,
	       "a format-3 store opens read-only");
	is_int(enrp_store_read(st, has_hold_db_fn, &got), 0, "and reads");
	is_int(got, -ENOENT, "its new databases exist, empty");
	is_int(enrp_store_format(st), 3, "a read-only open leaves the format number");
	enrp_store_close(st);
	is_int(enrp_store_open(path_of("older"), 0, &st), 0, "opens writable");
	is_int(enrp_store_format(st), ENRP_STORE_FORMAT, "and is marked with the current format");
	enrp_store_close(st);
}

struct bulk {
	int n, base;
};

static int bulk_fn(enrp_txn *t, void *arg)
{
	struct bulk *b = arg;
	char key[32];
	uint8_t val[200];
	memset(val, 0xab, sizeof(val));
	for (int i = 0; i < b->n; i++) {
		int klen = snprintf(key, sizeof(key), "bulk-%08d", b->base + i);
		int rc = txn_put(t, DBI_INODE, key, (size_t)klen, val, sizeof(val), 0);
		if (rc)
			return rc;
	}
	return 0;
}

static void map_growth(unsigned flags, const char *name)
{
	enrp_store *st;
	setenv("ENRP_LMDB_MAPSIZE", "1048576", 1);
	enrp_store_create(path_of(name));
	is_int(enrp_store_open(path_of(name), flags, &st), 0, "%s: open with a 1 MiB map", name);
	int rc = 0;
	for (int round = 0; round < 40 && rc == 0; round++) {
		struct bulk b = { .n = 500, .base = round * 500 };
		rc = enrp_store_write(st, bulk_fn, &b);
	}
	is_int(rc, 0, "%s: 20000 records (~5 MiB) written: the map grew", name);
	is_int(enrp_store_sync(st), 0, "%s: sync", name);
	enrp_store_close(st);
	unsetenv("ENRP_LMDB_MAPSIZE");
	is_int(enrp_store_open(path_of(name), ENRP_STORE_RDONLY, &st), 0, "%s: reopen", name);
	enrp_store_close(st);
}

static void *incr_thread(void *arg)
{
	enrp_store *st = arg;
	struct kv kv = { .key = "counter" };
	for (int i = 0; i < 500; i++)
		enrp_store_write(st, incr_fn, &kv);
	return NULL;
}

static void group_commit(void)
{
	enrp_store *st;
	int rc;
	enrp_store_create(path_of("group"));
	is_int(enrp_store_open(path_of("group"), ENRP_STORE_GROUP_COMMIT, &st), 0,
	       "open with group commit");

	struct kv good = { .key = "k1", .value = 41 };
	is_int(enrp_store_write(st, put_fn, &good), 0, "a write in the group");
	is_int(get_value(st, "k1", &rc), 41, "is visible at once to this process");

	struct kv bad = { .key = "k2", .value = 7, .fail_after_put = -EINVAL };
	is_int(enrp_store_write(st, put_fn, &bad), -EINVAL, "a failing operation reports its error");
	get_value(st, "k2", &rc);
	is_int(rc, -ENOENT, "and leaves nothing behind (nested transaction)");
	is_int(get_value(st, "k1", &rc), 41, "while the group's earlier work survives");

	uint64_t before = enrp_store_commit_count(st);
	is_int(enrp_store_sync(st), 0, "sync");
	ok(enrp_store_commit_count(st) > before, "sync commits the group");

	/* Another process sees what was synced. */
	pid_t pid = fork();
	if (pid == 0) {
		enrp_store *ro;
		int crc;
		if (enrp_store_open(path_of("group"), ENRP_STORE_RDONLY, &ro))
			_exit(3);
		uint64_t v = get_value(ro, "k1", &crc);
		enrp_store_close(ro);
		_exit(crc == 0 && v == 41 ? 0 : 4);
	}
	int status;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second process reads synced data");

	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, incr_thread, st);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	is_int(get_value(st, "counter", &rc), 2000, "4 threads x 500 increments: no lost update");

	/* A writer in another process (enrpctl) gets through while this one
	 * keeps its group busy. */
	pid = fork();
	if (pid == 0) {
		enrp_store *w;
		if (enrp_store_open(path_of("group"), 0, &w))
			_exit(3);
		struct kv kv = { .key = "from-child", .value = 99 };
		int crc = enrp_store_write(w, put_fn, &kv);
		enrp_store_close(w);
		_exit(crc ? 4 : 0);
	}
	int done = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; !done; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 30)
			break; /* a generous bound: starvation, not slowness, fails */
		struct kv kv = { .key = "busy" };
		enrp_store_write(st, incr_fn, &kv);
		done = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (!done)
		waitpid(pid, &status, 0);
	diag("the other writer took %.1f ms", (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	ok(done, "the other process's write completed while this one kept writing");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "and succeeded");
	enrp_store_sync(st);
	is_int(get_value(st, "from-child", &rc), 99, "its write is visible after our next group");
	enrp_store_close(st);

	/* Close commits what was not yet synced. */
	is_int(enrp_store_open(path_of("group"), ENRP_STORE_GROUP_COMMIT, &st), 0, "reopen");
	struct kv last = { .key = "last", .value = 5 };
	enrp_store_write(st, put_fn, &last);
	enrp_store_close(st);
	enrp_store_open(path_of("group"), ENRP_STORE_RDONLY, &st);
	is_int(get_value(st, "last", &rc), 5, "close makes the open group durable");
	enrp_store_close(st);
}

/* ---- what waits for `verified` ---- */

struct touch {
	const char *key;
	uint32_t eir;
};

static int touch_fn(enrp_txn *t, void *arg)
{
	struct touch *a = arg;
	uint8_t v[8] = { 0 };
	txn_touch_eir(t, a->eir);
	return txn_put(t, DBI_META, a->key, strlen(a->key), v, 8, 0);
}

static int touch_fail_fn(enrp_txn *t, void *arg)
{
	touch_fn(t, arg);
	return -EINVAL;
}

static int touch_many_fn(enrp_txn *t, void *arg)
{
	for (uint32_t e = 100; e < 100 + TXN_TOUCHED_MAX + 1; e++)
		txn_touch_eir(t, e);
	return touch_fn(t, arg);
}

static void sync_eir(void)
{
	enrp_store *st;
	if (enrp_store_create(path_of("synceir")) ||
	    enrp_store_open(path_of("synceir"), ENRP_STORE_GROUP_COMMIT, &st)) {
		ok(0, "store for sync_eir");
		return;
	}
	uint64_t c0 = enrp_store_commit_count(st);
	is_int(enrp_store_sync_eir(st, 7), 0, "sync_eir with no group open: 0");
	is_int(enrp_store_commit_count(st), c0, "and no commit");

	struct touch a = { "a", 7 };
	is_int(enrp_store_write(st, touch_fn, &a), 0, "a write that changes EIR 7");
	c0 = enrp_store_commit_count(st);
	is_int(enrp_store_sync_eir(st, 8), 0, "sync_eir(8) while the group holds EIR 7's change");
	is_int(enrp_store_commit_count(st), c0, "commits nothing: another EIR's readers never "
	       "break up EIR 7's group");
	is_int(enrp_store_sync_eir(st, 7), 0, "sync_eir(7)");
	ok(enrp_store_commit_count(st) > c0, "commits the group that holds EIR 7's change");
	c0 = enrp_store_commit_count(st);
	is_int(enrp_store_sync_eir(st, 7), 0, "sync_eir(7) again");
	is_int(enrp_store_commit_count(st), c0, "commits nothing: EIR 7's change is durable");

	struct touch b = { "b", 7 };
	is_int(enrp_store_write(st, touch_fail_fn, &b), -EINVAL, "a failing write that touched 7");
	struct touch c = { "c", 9 };
	is_int(enrp_store_write(st, touch_fn, &c), 0, "and one of EIR 9 keeps the group open");
	c0 = enrp_store_commit_count(st);
	is_int(enrp_store_sync_eir(st, 7), 0, "sync_eir(7)");
	is_int(enrp_store_commit_count(st), c0, "an aborted operation leaves nothing to wait for");

	struct touch d = { "d", 1 };
	is_int(enrp_store_write(st, touch_many_fn, &d), 0, "one operation touching 6 EIRs");
	c0 = enrp_store_commit_count(st);
	is_int(enrp_store_sync_eir(st, 5000), 0, "sync_eir of an EIR it did not list");
	ok(enrp_store_commit_count(st) > c0, "commits: an overflowing set counts as every EIR");

	/* Visible to this process at once; to another one only once durable. */
	struct touch e = { "e", 7 };
	enrp_store_write(st, touch_fn, &e);
	enrp_store_sync_eir(st, 7);
	pid_t pid = fork();
	if (pid == 0) {
		enrp_store *ro;
		int crc;
		if (enrp_store_open(path_of("synceir"), ENRP_STORE_RDONLY, &ro))
			_exit(3);
		get_value(ro, "e", &crc);
		enrp_store_close(ro);
		_exit(crc == 0 ? 0 : 4);
	}
	int status;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "after sync_eir another process reads the change from disk");
	enrp_store_close(st);

	if (enrp_store_open(path_of("synceir"), 0, &st) == 0) {
		is_int(enrp_store_sync_eir(st, 7), 0, "without group commit: a no-op, 0");
		enrp_store_close(st);
	}
}

/* ---- chunk files ride the group commit (txn_needs_chunks) ---- */

/* A seal's commit: a record that points at chunk files written before
 * TICKET was taken. */
struct sealish {
	const char *key;
	uint64_t ticket;
};

static int sealish_fn(enrp_txn *t, void *arg)
{
	struct sealish *s = arg;
	int rc = txn_needs_chunks(t, s->ticket);
	if (rc)
		return rc;
	struct kv kv = { .key = s->key, .value = s->ticket };
	return put_fn(t, &kv);
}

/* Whether another process reads KEY from disk (durable data only). */
static bool on_disk(const char *store, const char *key)
{
	pid_t pid = fork();
	if (pid == 0) {
		enrp_store *ro;
		int crc;
		if (enrp_store_open(store, ENRP_STORE_RDONLY, &ro))
			_exit(3);
		get_value(ro, key, &crc);
		enrp_store_close(ro);
		_exit(crc == 0 ? 0 : crc == -ENOENT ? 1 : 4);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct in_sync {
	enrp_store *st;
	const char *store;
	struct sealish late;  /* applied while the sync runs (key NULL: none) */
	bool late_fresh;      /* its ticket is taken inside the sync */
	int calls;
	int write_rc;
	bool seen_early;      /* the group's records were on disk before the sync ended */
	int fail;             /* returned as the sync's error */
};

static int during_sync(void *arg)
{
	struct in_sync *x = arg;
	if (x->calls++ == 0) {
		x->seen_early = on_disk(x->store, "s1");
		if (x->late.key) {
			if (x->late_fresh)
				x->late.ticket = store_chunk_ticket(x->st);
			x->write_rc = enrp_store_write(x->st, sealish_fn, &x->late);
		}
	}
	return x->fail;
}

static void chunks_ride_commit(void)
{
	enrp_store *st;
	const char *store = path_of("chunkride");
	if (enrp_store_create(store) || enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &st)) {
		ok(0, "store for chunks_ride_commit");
		return;
	}
	uint64_t s0 = enrp_store_chunk_sync_count(st);
	struct kv plain = { .key = "plain", .value = 1 };
	enrp_store_write(st, put_fn, &plain);
	is_int(enrp_store_sync(st), 0, "a group without seals commits");
	is_int(enrp_store_chunk_sync_count(st), s0, "with no chunk sync");

	struct sealish a = { "a", store_chunk_ticket(st) }, b = { "b", store_chunk_ticket(st) };
	is_int(enrp_store_write(st, sealish_fn, &a), 0, "a seal in the group");
	is_int(enrp_store_write(st, sealish_fn, &b), 0, "a second seal in the same group");
	is_int(enrp_store_chunk_sync_count(st), s0, "neither syncs chunks while the group is open");
	is_int(enrp_store_sync(st), 0, "the group commits");
	is_int(enrp_store_chunk_sync_count(st), s0 + 1, "after one chunk sync for both seals");
	ok(on_disk(store, "a") && on_disk(store, "b"), "both seals are durable");

	/* The commit waits for the sync: nothing of the group is on disk while
	 * it runs, and a seal applied meanwhile with a ticket from before the
	 * sync began is covered by it. */
	struct in_sync x = { .st = st, .store = store };
	struct sealish s1 = { "s1", store_chunk_ticket(st) };
	x.late = (struct sealish){ "s2", store_chunk_ticket(st) };
	enrp_store_test_chunk_sync_hook(st, during_sync, &x);
	s0 = enrp_store_chunk_sync_count(st);
	enrp_store_write(st, sealish_fn, &s1);
	is_int(enrp_store_sync(st), 0, "a group whose seal's chunks are being synced commits");
	ok(!x.seen_early, "nothing of it was on disk before its chunks were synced");
	is_int(x.write_rc, 0, "a seal applied during the sync (store unlocked) is taken");
	is_int(enrp_store_chunk_sync_count(st), s0 + 1,
	       "its chunks were written before the sync began: one sync covers both");
	ok(on_disk(store, "s1") && on_disk(store, "s2"), "both are durable");

	/* A seal whose chunks were written after the sync began needs another. */
	x = (struct in_sync){ .st = st, .store = store, .late_fresh = true };
	x.late.key = "s4";
	struct sealish s3 = { "s3", store_chunk_ticket(st) };
	s0 = enrp_store_chunk_sync_count(st);
	enrp_store_write(st, sealish_fn, &s3);
	is_int(enrp_store_sync(st), 0, "a seal written during the sync: the group still commits");
	is_int(x.write_rc, 0, "that seal was applied");
	is_int(enrp_store_chunk_sync_count(st), s0 + 2, "after a second sync, for its chunks");
	ok(on_disk(store, "s4"), "and it is durable");

	/* A failed chunk sync loses the group rather than commit records that
	 * point at chunks the disk may not hold: the store refuses writes. */
	x = (struct in_sync){ .st = st, .store = store, .fail = -EIO };
	struct sealish s5 = { "s5", store_chunk_ticket(st) };
	enrp_store_write(st, sealish_fn, &s5);
	is_int(enrp_store_sync(st), -EIO, "a failed chunk sync fails the sync");
	ok(!on_disk(store, "s5"), "and the seal it could not make durable is not committed");
	struct kv after = { .key = "after", .value = 2 };
	is_int(enrp_store_write(st, put_fn, &after), -EIO, "further writes are refused");
	enrp_store_test_chunk_sync_hook(st, NULL, NULL);
	enrp_store_close(st);

	/* Outside a group (enrpctl), a seal syncs its chunks at once. */
	if (enrp_store_open(store, 0, &st) == 0) {
		s0 = enrp_store_chunk_sync_count(st);
		struct sealish c = { "c", store_chunk_ticket(st) };
		is_int(enrp_store_write(st, sealish_fn, &c), 0, "without group commit: the seal commits");
		is_int(enrp_store_chunk_sync_count(st), s0 + 1, "after a chunk sync of its own");
		enrp_store_close(st);
	}
}

/* ---- chunk files are synced one by one when they are few ---- */

static int put_chunk(enrp_store *st, uint8_t last)
{
	uint8_t digest[32] = { 0x11, 0x22 };
	digest[31] = last;
	bool written;
	return chunk_write(st, 1, digest, "frame", 5, &written);
}

static int put_chunk_at(enrp_store *st, uint8_t dir, uint8_t last)
{
	uint8_t digest[32] = { 0x11, dir };
	digest[31] = last;
	bool written;
	return chunk_write(st, 1, digest, "frame", 5, &written);
}

/* A sync after a few chunk files syncs those files, the directories they
 * are in and the parents of the directories made for them; one after more
 * than are listed syncs the whole filesystem; one after nothing does
 * nothing. */
static void chunk_sync_kinds(void)
{
	enrp_store *st;
	const char *store = path_of("chunksync");
	if (enrp_store_create(store) || enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &st)) {
		ok(0, "store for chunk_sync_kinds");
		return;
	}
	uint64_t files, whole, dirs;
	is_int(put_chunk(st, 1), 0, "a first chunk file (its directories made)");
	is_int(chunk_sync(st), 0, "synced");
	chunk_sync_counts(st, &files, &whole, &dirs);
	/* ".", "1", "1/11" hold the directories made; "1/11/22" the file. */
	ok(files == 1 && whole == 0 && dirs == 4, "file by file, with 4 directories (%llu, %llu, %llu)",
	   (unsigned long long)files, (unsigned long long)whole, (unsigned long long)dirs);
	is_int(put_chunk(st, 2), 0, "a chunk file beside it");
	is_int(put_chunk(st, 3), 0, "and another");
	is_int(chunk_sync(st), 0, "synced");
	chunk_sync_counts(st, &files, &whole, &dirs);
	ok(files == 2 && whole == 0 && dirs == 5, "file by file, their one directory");
	is_int(put_chunk_at(st, 0x23, 1), 0, "a chunk file in a new last-level directory");
	is_int(chunk_sync(st), 0, "synced");
	chunk_sync_counts(st, &files, &whole, &dirs);
	ok(files == 3 && whole == 0 && dirs == 7, "its directory and the one it was made in");
	is_int(chunk_sync(st), 0, "a sync with nothing written");
	chunk_sync_counts(st, &files, &whole, &dirs);
	ok(files == 3 && whole == 0 && dirs == 7, "syncs nothing");
	int rc = 0;
	for (uint8_t k = 10; k < 10 + 65 && rc == 0; k++)
		rc = put_chunk(st, k);
	is_int(rc, 0, "65 chunk files, one more than are listed");
	is_int(chunk_sync(st), 0, "synced");
	chunk_sync_counts(st, &files, &whole, &dirs);
	ok(files == 3 && whole == 1, "by a syncfs");
	enrp_store_close(st);
}

/* A chunk may land in a directory that another writer made and has not yet
 * listed for a sync: the sync waits for that listing, so it covers the
 * directory's entry too. */
struct made_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool paused, release;
	int hits;
};

static void made_pause_hook(void *arg)
{
	struct made_pause *m = arg;
	pthread_mutex_lock(&m->lock);
	/* The writer makes "1", "1/tmp", "1/44", "1/44/55": hold it at the
	 * last one, made but not listed. */
	if (++m->hits == 4) {
		m->paused = true;
		pthread_cond_broadcast(&m->cond);
		while (!m->release)
			pthread_cond_wait(&m->cond, &m->lock);
	}
	pthread_mutex_unlock(&m->lock);
}

struct writer_args {
	enrp_store *st;
	uint8_t last;
	int rc;
};

static void *chunk_writer(void *arg)
{
	struct writer_args *w = arg;
	uint8_t digest[32] = { 0x44, 0x55 };
	digest[31] = w->last;
	bool written;
	w->rc = chunk_write(w->st, 1, digest, "frame", 5, &written);
	return NULL;
}

struct syncer_args {
	enrp_store *st;
	int rc;
	_Atomic bool done;
};

static void *chunk_syncer(void *arg)
{
	struct syncer_args *a = arg;
	a->rc = chunk_sync(a->st);
	atomic_store(&a->done, true);
	return NULL;
}

static void chunk_sync_waits_for_mkdir(void)
{
	enrp_store *st;
	const char *store = path_of("chunkmkdir");
	if (enrp_store_create(store) || enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &st)) {
		ok(0, "store for chunk_sync_waits_for_mkdir");
		return;
	}
	struct made_pause m = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	chunk_test_made_hook(st, made_pause_hook, &m);
	struct writer_args a = { .st = st, .last = 1 }, b = { .st = st, .last = 2 };
	pthread_t ta, ts;
	pthread_create(&ta, NULL, chunk_writer, &a);
	pthread_mutex_lock(&m.lock);
	while (!m.paused)
		pthread_cond_wait(&m.cond, &m.lock);
	pthread_mutex_unlock(&m.lock);
	/* B finds the directory A made and renames its chunk into it. */
	chunk_writer(&b);
	is_int(b.rc, 0, "a second writer puts its chunk into the directory the first made");
	struct syncer_args sy = { .st = st };
	pthread_create(&ts, NULL, chunk_syncer, &sy);
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	for (int i = 0; i < 10; i++)
		nanosleep(&ms, NULL);
	ok(!atomic_load(&sy.done), "the sync waits while that directory is not listed");
	pthread_mutex_lock(&m.lock);
	m.release = true;
	pthread_cond_broadcast(&m.cond);
	pthread_mutex_unlock(&m.lock);
	pthread_join(ta, NULL);
	pthread_join(ts, NULL);
	is_int(a.rc, 0, "the first writer's chunk");
	is_int(sy.rc, 0, "then the sync runs");
	uint64_t files, whole, dirs;
	chunk_sync_counts(st, &files, &whole, &dirs);
	/* ".", "1", "1/44" and "1/44/55"; the first writer's file may come in
	 * this sync or the next. */
	ok(whole == 0 && dirs == 4, "it synced the new directory's parent (%llu directories)",
	   (unsigned long long)dirs);
	chunk_test_made_hook(st, NULL, NULL);
	enrp_store_close(st);
}

/* ---- a commit's meta page is flushed with the store unlocked ---- */

struct in_flush {
	enrp_store *st;
	const char *store;
	uint64_t commits;  /* commits counted before the flush */
	bool ran;
	uint64_t commits_seen;
	int write_rc, read_rc;
	uint64_t read_value;
	bool durable_early;
};

static void during_flush(void *arg)
{
	struct in_flush *x = arg;
	if (x->ran)
		return;
	x->ran = true;
	x->commits_seen = enrp_store_commit_count(x->st);
	struct kv during = { .key = "during", .value = 9 };
	x->write_rc = enrp_store_write(x->st, put_fn, &during);
	struct kv before = { .key = "before" };
	x->read_rc = enrp_store_read(x->st, get_fn, &before);
	x->read_value = before.value;
	x->durable_early = on_disk(x->store, "during");
}

/* MDB_NOMETASYNC: the commit flushes its data pages, writes its meta page,
 * and the committer flushes that with the store unlocked and the next
 * group open.  Reads and writes go on during the flush; the commit counts,
 * and its sync returns, only after it. */
static void meta_flush_unlocked(void)
{
	enrp_store *st;
	const char *store = path_of("metaflush");
	if (enrp_store_create(store) || enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &st)) {
		ok(0, "store for meta_flush_unlocked");
		return;
	}
	struct in_flush x = { .st = st, .store = store, .commits = enrp_store_commit_count(st) };
	struct kv before = { .key = "before", .value = 5 };
	is_int(enrp_store_write(st, put_fn, &before), 0, "a write");
	enrp_store_test_meta_sync_hook(st, during_flush, &x);
	is_int(enrp_store_sync(st), 0, "its sync");
	enrp_store_test_meta_sync_hook(st, NULL, NULL);
	ok(x.ran, "flushed the commit's meta page with the store unlocked");
	is_int(x.commits_seen, x.commits, "the commit did not count before its flush ended");
	is_int(x.write_rc, 0, "a write during the flush is taken, by the next group");
	ok(x.read_rc == 0 && x.read_value == 5, "a read during the flush sees the commit");
	ok(!x.durable_early, "the write taken during the flush is not durable yet");
	ok(enrp_store_commit_count(st) > x.commits && on_disk(store, "before"),
	   "after the flush the commit counts and is durable");
	is_int(enrp_store_sync(st), 0, "the next sync");
	ok(on_disk(store, "during"), "makes the write taken during the flush durable");
	enrp_store_close(st);
}

/* ---- hooks run while the next group takes writes ---- */

static pthread_mutex_t hk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hk_cv = PTHREAD_COND_INITIALIZER;
static int hk_state; /* protected by hk_mu: 0 not run, 1 running (held), 2 released */

static void held_hook(enrp_store *st, uint64_t arg)
{
	(void)st, (void)arg;
	pthread_mutex_lock(&hk_mu);
	hk_state = 1;
	pthread_cond_broadcast(&hk_cv);
	while (hk_state == 1)
		pthread_cond_wait(&hk_cv, &hk_mu);
	pthread_mutex_unlock(&hk_mu);
}

static int hooked_put_fn(enrp_txn *t, void *arg)
{
	int rc = put_fn(t, arg);
	return rc ? rc : txn_on_durable(t, held_hook, 7);
}

struct syncer {
	enrp_store *st;
	struct kv kv;  /* written first unless key is NULL */
	int rc;
	atomic_bool done;
	pthread_t th;
};

static void *syncer_main(void *arg)
{
	struct syncer *x = arg;
	x->rc = x->kv.key ? enrp_store_write(x->st, put_fn, &x->kv) : 0;
	if (x->rc == 0)
		x->rc = enrp_store_sync(x->st);
	atomic_store(&x->done, true);
	return NULL;
}

static void *hook_waiter_main(void *arg)
{
	struct syncer *x = arg;
	x->rc = store_hook_wait(x->st, held_hook, 7);
	atomic_store(&x->done, true);
	return NULL;
}

static bool hook_running(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&hk_mu);
	int rc = 0;
	while (hk_state != 1 && rc == 0)
		rc = pthread_cond_timedwait(&hk_cv, &hk_mu, &ts);
	bool running = hk_state == 1;
	pthread_mutex_unlock(&hk_mu);
	return running;
}

/* The hooks of a commit (spool files freed) run in the reclaimer thread:
 * a file's fsync (enrp_store_sync_ask/wait), of that commit or of the next
 * ones, returns once its commit is durable, however long the hook takes;
 * a sync of the whole store and store_hook_wait wait for the hook. */
static void hooks_beside_next_group(void)
{
	enrp_store *st;
	const char *store = path_of("hooks");
	if (enrp_store_create(store) || enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &st)) {
		ok(0, "store for hooks_beside_next_group");
		return;
	}
	struct kv h1 = { .key = "h1", .value = 1 };
	is_int(enrp_store_write(st, hooked_put_fn, &h1), 0, "a write whose commit has a hook");
	uint64_t c0 = enrp_store_commit_count(st);
	struct syncer whole = { .st = st };
	pthread_create(&whole.th, NULL, syncer_main, &whole);
	ok(hook_running(), "a sync commits the group and the hook runs (held)");
	ok(on_disk(store, "h1"), "the commit is durable before its hook runs");
	ok(enrp_store_commit_count(st) > c0, "and counts");

	struct kv during = { .key = "during", .value = 2 };
	is_int(enrp_store_write(st, put_fn, &during), 0,
	       "a write while the hook is held: taken by the next group, at once");
	is_int(enrp_store_sync_wait(st, enrp_store_sync_ask(st)), 0,
	       "a file's sync of the next group returns, the hook still held");
	ok(on_disk(store, "during"), "which made the next group's write durable");
	struct syncer waiter = { .st = st };
	pthread_create(&waiter.th, NULL, hook_waiter_main, &waiter);
	usleep(100000);
	ok(!atomic_load(&whole.done), "the sync of the whole store waits for the hook");
	ok(!atomic_load(&waiter.done), "so does store_hook_wait");

	pthread_mutex_lock(&hk_mu);
	hk_state = 2;
	pthread_cond_broadcast(&hk_cv);
	pthread_mutex_unlock(&hk_mu);
	pthread_join(whole.th, NULL);
	pthread_join(waiter.th, NULL);
	is_int(whole.rc, 0, "the sync of the whole store returns once the hook ran");
	is_int(waiter.rc, 0, "and so does store_hook_wait");
	is_int(store_hook_wait(st, held_hook, 7), 0, "store_hook_wait of a hook that ran: at once");

	/* A hook of the open group: store_hook_wait commits it, then waits. */
	pthread_mutex_lock(&hk_mu);
	hk_state = 0;
	pthread_mutex_unlock(&hk_mu);
	struct kv h2 = { .key = "h2", .value = 4 };
	is_int(enrp_store_write(st, hooked_put_fn, &h2), 0, "another write with a hook");
	atomic_store(&waiter.done, false);
	pthread_create(&waiter.th, NULL, hook_waiter_main, &waiter);
	ok(hook_running(), "store_hook_wait commits its group, and the hook runs (held)");
	ok(on_disk(store, "h2"), "after the commit");
	usleep(100000);
	ok(!atomic_load(&waiter.done), "store_hook_wait still waits for it");
	pthread_mutex_lock(&hk_mu);
	hk_state = 2;
	pthread_cond_broadcast(&hk_cv);
	pthread_mutex_unlock(&hk_mu);
	pthread_join(waiter.th, NULL);
	is_int(waiter.rc, 0, "then returns");
	enrp_store_close(st);
}

/* Other writers that fill every group to its budget, or far past it,
 * before the writer under test is applied (the rm -rf beside a stream of
 * forgets that once lost an unlink: 0 returned, nothing applied). */
struct crowd {
	int calls;
	bool flood; /* far past what any retry may add */
};

static uint64_t crowd_fn(void *arg, uint64_t budget, uint64_t pages)
{
	struct crowd *c = arg;
	c->calls++;
	if (budget == UINT64_MAX)
		return 0;
	uint64_t want = c->flood ? 4 * budget : budget;
	return want > pages ? want - pages : 0;
}

/* A writer turned away by a full group waits for the group after it, not
 * for the flush of the full one's meta page. */
struct over_flush {
	enrp_store *st;
	int crowd_calls;     /* the writer's thread only */
	_Atomic bool done;   /* the writer returned */
	_Atomic bool seen;   /* ... while the full group's flush still ran */
	_Atomic bool flushed;
	int rc;
};

static uint64_t crowd_once(void *arg, uint64_t budget, uint64_t pages)
{
	struct over_flush *x = arg;
	if (x->crowd_calls++ || budget == UINT64_MAX)
		return 0;
	return budget > pages ? budget - pages : 0;
}

static void *over_writer(void *arg)
{
	struct over_flush *x = arg;
	struct kv kv = { .key = "turned-away", .value = 7 };
	x->rc = enrp_store_write(x->st, put_fn, &kv);
	atomic_store(&x->done, true);
	return NULL;
}

static void flush_waits_for_writer(void *arg)
{
	struct over_flush *x = arg;
	if (atomic_load(&x->flushed))
		return;
	for (int i = 0; i < 300 && !atomic_load(&x->done); i++)
		usleep(10000);
	atomic_store(&x->seen, atomic_load(&x->done));
	atomic_store(&x->flushed, true);
}

static void over_waits_for_group(void)
{
	enrp_store *st;
	int rc;
	enrp_store_create(path_of("overflush"));
	if (!ok(enrp_store_open(path_of("overflush"), ENRP_STORE_GROUP_COMMIT, &st) == 0,
	        "open with group commit"))
		return;
	struct kv pre = { .key = "pre", .value = 1 };
	enrp_store_write(st, put_fn, &pre); /* the group that will be full */
	struct over_flush x = { .st = st };
	enrp_store_test_meta_sync_hook(st, flush_waits_for_writer, &x);
	enrp_store_test_crowd_hook(st, crowd_once, &x);
	pthread_t th;
	pthread_create(&th, NULL, over_writer, &x);
	pthread_join(th, NULL);
	is_int(enrp_store_sync(st), 0, "sync after it");
	enrp_store_test_crowd_hook(st, NULL, NULL);
	enrp_store_test_meta_sync_hook(st, NULL, NULL);
	is_int(x.rc, 0, "a write turned away by a full group is applied in the next");
	ok(x.crowd_calls >= 2, "after being turned away (%d tries)", x.crowd_calls);
	ok(atomic_load(&x.seen), "while the full group's meta page was still being flushed");
	is_int(get_value(st, "turned-away", &rc), 7, "and is there");
	enrp_store_close(st);
}

static void crowded_groups(void)
{
	enrp_store *st;
	int rc;
	enrp_store_create(path_of("crowd"));
	if (!ok(enrp_store_open(path_of("crowd"), ENRP_STORE_GROUP_COMMIT, &st) == 0,
	        "open with group commit"))
		return;
	struct kv seed = { .key = "seed", .value = 1 };
	enrp_store_write(st, put_fn, &seed);
	enrp_store_sync(st);

	struct crowd full = { 0, false };
	enrp_store_test_crowd_hook(st, crowd_fn, &full);
	struct kv kv = { .key = "crowded", .value = 5 };
	is_int(enrp_store_write(st, put_fn, &kv), 0,
	       "a write into groups that others fill to their budget each time succeeds");
	is_int(get_value(st, "crowded", &rc), 5, "and is applied");
	is_int(rc, 0, "(read back)");
	ok(full.calls >= 2, "after being turned away once (%d tries)", full.calls);

	struct crowd flood = { 0, true };
	enrp_store_test_crowd_hook(st, crowd_fn, &flood);
	struct kv lost = { .key = "flooded", .value = 6 };
	rc = enrp_store_write(st, put_fn, &lost);
	enrp_store_test_crowd_hook(st, NULL, NULL);
	is_int(rc, -EAGAIN, "a write that never finds room fails (no 0 for a write not applied)");
	get_value(st, "flooded", &rc);
	is_int(rc, -ENOENT, "and nothing of it is there");
	ok(flood.calls > 4, "after more than four tries (%d)", flood.calls);
	enrp_store_close(st);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp)
		return 2;
	creation_and_refusal();
	newer_format();
	older_format();
	map_growth(0, "grow-single");
	map_growth(ENRP_STORE_GROUP_COMMIT, "grow-group");
	group_commit();
	crowded_groups();
	over_waits_for_group();
	sync_eir();
	chunks_ride_commit();
	hooks_beside_next_group();
	meta_flush_unlocked();
	chunk_sync_kinds();
	chunk_sync_waits_for_mkdir();
	tap_rmrf(tmp);
	return done_testing();
}
