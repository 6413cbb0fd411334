/*
 * store.c — the LMDB environment, its databases, the schema version, and the
 * transaction wrappers every other core module goes through.
 *
 * Concurrency.  One mutex (st->lock) serialises every use of the environment
 * inside a process: a FUSE daemon on two cores gains nothing from parallel
 * B-tree walks of a few microseconds, and one lock makes map resizing (which
 * remaps the file under every reader) trivially safe.  Other processes
 * (enrpctl) share the environment through LMDB's own locking.  Lock order:
 * st->lock, then LMDB's writer mutex, then nothing.  The writer-intent flock
 * (below) is taken before LMDB's writer mutex and never while waiting for
 * st->lock.  Every use holds the lock briefly: long walks (the .enrp lists)
 * go in batches through enrp_store_read_bulk, which lets the threads that
 * wait for the lock go first between two batches.
 *
 * Durability design.  A synced LMDB commit costs ~300 us here, an unsynced
 * one ~3 us, and an untar makes several metadata operations per file, so a
 * flush per operation is too slow; a bare MDB_NOSYNC is unsafe, because on a
 * power loss the disk may hold a meta page pointing at pages it never wrote.
 * Instead the daemon (ENRP_STORE_GROUP_COMMIT) uses group commit, the way
 * journalling filesystems do:
 *
 *   - a committer thread begins one write transaction (the "group"), and
 *     every metadata operation runs in a nested transaction inside it, so each
 *     operation is atomic on its own (a failing rename leaves nothing behind)
 *     and visible at once to the whole daemon;
 *   - the group is committed when it is one second old, when it has been
 *     idle for a few milliseconds, when another process wants to write
 *     (writer-intent flock), and at once when a client calls fsync,
 *     fdatasync, fsyncdir or syncfs (enrp_store_sync), so concurrent fsyncs
 *     share one disk flush;
 *   - the commit is LMDB's, with MDB_NOMETASYNC: it flushes the data pages,
 *     then writes the meta page that points at them; the committer flushes
 *     that page with st->lock released and the next group already open, so
 *     that the daemon's reads and writes wait for one flush per commit, not
 *     two.  The commit counts as durable (its syncs return, its hooks run,
 *     store_read_committed shows it) only once that flush is done.  A meta
 *     page written but not flushed is what LMDB's own MDB_NOMETASYNC leaves,
 *     and keeps the environment intact: its pages were flushed before it,
 *     and the pages the commit before it points at are reused only after
 *     the next commit's flush.  Another process sees such a commit before
 *     it is durable; store_read_committed flushes the file first there;
 *   - chunk files that a seal in the group references are made durable by
 *     one chunk sync before the group's commit (txn_needs_chunks), not one
 *     per seal; it runs with st->lock released;
 *   - files that metadata stopped referencing (spool files of freed inodes)
 *     are unlinked (or pooled, spool.c) only after the commit that freed
 *     them is durable, by a reclaimer thread with st->lock released, while
 *     the next groups are applied and committed (inode numbers are never
 *     reused, and an unseal that would make the same spool file waits for
 *     its hook: store_hook_wait).  A sync returns once its commit is
 *     durable: freeing a large file's blocks takes milliseconds, and a
 *     client's fsync used to wait for those of every file freed before it.
 *
 * What each kind of crash can lose:
 *
 *   SIGKILL of enrpfs: the open group, i.e. the metadata changes of at most
 *   the last second that no client had fsync'd.  Nothing that was fsync'd or
 *   committed.  The environment is untouched: an uncommitted transaction is
 *   never referenced by a meta page (pages LMDB spills early are free pages).
 *   Spool bytes written to the kernel survive; a spool file whose inode was
 *   in the lost group is removed at the next mount (enrp_ns_recover), and an
 *   inode whose last size update was lost shows its older size.
 *
 *   OS crash or power loss: the same, plus spool bytes that were written but
 *   not fsync'd may read back as zeros.  LMDB's commit writes and flushes
 *   the data pages before the meta page that points at them, and
 *   keeps two meta pages, so the newest fully written commit is what opens:
 *   the environment cannot be corrupted.  fsync of a file returns once its
 *   spool bytes, its spool directory entry (if new) and the commit are all
 *   durable; the commit runs while the bytes are flushed.  A file whose
 *   every other change is durable already (txn_inode_changed) needs no
 *   commit: its spool file, synced whole with a note of its generation,
 *   gives the next mount its size (ns.c, enrp_ns_sync_plan).
 *
 * Map full.  A nested operation that meets MDB_MAP_FULL fails alone and is
 * retried after the map grows; but the group's own commit also needs pages
 * (LMDB's free list), and a failing group commit would lose acknowledged
 * operations.  So the committer never begins a group unless the map has room
 * for the whole environment again plus GROUP_ROOM, growing it first, and a
 * group ends after GROUP_MAX_OPS operations, far less than that room holds.
 *
 * Disk full.  LMDB writes a commit's pages with pwrite, so a full disk
 * would make a commit fail after its operations were acknowledged.  Before
 * it begins a group the committer therefore reserves disk blocks beyond
 * what the environment uses (fallocate, KEEP_SIZE: LMDB sees the same file),
 * at least HEADROOM more than a group can dirty.  The reservation outlives
 * the process (a new one starts from the blocks the file already has), and
 * when it cannot grow, groups still begin within what is left of it, each
 * limited to half of that (group_budget; an operation that would pass it
 * has the group committed and goes into the next, waiting for that one to
 * open, not for the flush of the full one): a full disk never stops an rm or
 * recovery at mount while reserved blocks remain.  Only when none remain
 * does no group begin; writers get -ENOSPC at once, nothing acknowledged is
 * lost, and writing resumes as soon as space returns.  Client data stops
 * earlier, at a reserve of free space (enrp_store_data_room), so the
 * reservation can normally grow even on a disk clients have filled.
 *
 * What the daemon shows as verified.  The daemon's own reads go through the
 * open group, so it sees a seal (and the create or rename that made the file
 * reachable) up to a second before a crash could no longer take it back.  A
 * `verified` state must never be shown that early: owners stop worrying
 * about a transfer once they see it.  So the group remembers which EIRs its
 * operations changed (txn_touch_eir, called for every inode written), and
 * whatever shows a file as verified first calls enrp_store_sync_eir(), which
 * commits the group if — and only if — it holds a change of that EIR.  That
 * costs one synced commit the first time an owner looks after a change, the
 * same as the fsync a client may ask for at any time, and nothing when the
 * group holds only other EIRs' work, so polling one EIR's status never
 * breaks up the batching of another's transfer.  Seals themselves stay in
 * the group: forcing a commit per seal would cost ~300 us to each of the
 * 20,000 files of an untar.
 *
 * enrpctl (default mode) commits every write on its own, synced, so a change
 * it reports is durable.
 */
#define ENRP_INTERNAL 1 /* defines the test-only accessors declared in store.h */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <enrp/enrp.h>

#include "record_int.h"
#include "chunk_int.h"
#include "spool_int.h"
#include "store_int.h"

#define MAP_INITIAL ((size_t)256 << 20)
#define MAP_CEILING ((size_t)1 << 40)
#define INODE_BUCKET_BITS 14
#define INODE_BUCKETS ((size_t)1 << INODE_BUCKET_BITS)
#define GROUP_MAX_AGE_NS 1000000000LL   /* "flushed at least every second" */
#define GROUP_IDLE_NS 20000000LL        /* commit a quiet group after 20 ms */
#define GROUP_TICK_NS 5000000LL         /* committer wake-up period */
#define GROUP_ROOM ((size_t)16 << 20)   /* map room kept beyond twice the used size */
#define GROUP_MAX_OPS 20000             /* operations per group at most */
#define HEADROOM_MIN ((off_t)16 << 20)  /* reserved ahead of LMDB's last page */
#define HEADROOM_STEP ((off_t)32 << 20) /* reserved at a time */
#define HEADROOM_EMERGENCY ((off_t)1 << 20) /* enough for groups of a few operations */
#define ROOM_REFRESH_NS 100000000LL     /* free space re-read at least this often */

static const char *const dbi_names[DBI_COUNT] = {
	[DBI_META] = "meta",         [DBI_EIR] = "eir",       [DBI_EIR_NAME] = "eir_name",
	[DBI_USAGE] = "usage",       [DBI_INODE] = "inode",   [DBI_DIRENT] = "dirent",
	[DBI_XATTR] = "xattr",       [DBI_ORPHAN] = "orphan", [DBI_SPOOL] = "spool",
	[DBI_JOURNAL] = "journal",   [DBI_QUEUE] = "queue",   [DBI_CHUNK] = "chunk",
	[DBI_EXTENT] = "extent",     [DBI_KEYS] = "keys",     [DBI_POLICY] = "policy",
	[DBI_HOLD] = "hold",         [DBI_RESTORE] = "restore", [DBI_CALENDAR] = "calendar",
	[DBI_TRASH] = "trash",       [DBI_SNAPSHOT] = "snapshot", [DBI_PRESERVED] = "preserved",
	[DBI_BASE] = "base",
};

/* Hooks run after a commit (spool files unlinked or pooled: up to a
 * millisecond each for a large file) are the reclaimer thread's, not the
 * committer's: a client's fsync waits for its commit, and the next commit
 * for nothing but the disk.  At most HOOK_BATCHES_MAX commits' hooks wait;
 * past that the committer waits for the reclaimer before committing. */
#define HOOK_BATCHES_MAX 64

struct hook_batch {
	uint64_t commit;        /* the commit that made them due */
	struct store_hook *hooks;
	size_t n;
};

struct enrp_store {
	char *path;
	char *spool_path;
	int spool_dirfd;
	int chunks_dirfd;
	struct spool_pool *pool; /* emptied spool files (daemon only; spool.c) */
	struct chunk_pins *pins; /* seals against garbage collection (chunk.c) */
	struct chunk_unsynced *unsynced; /* chunk files to make durable (chunk.c) */
	_Atomic uint64_t spool_size_max; /* largest file the spool takes; 0 until known */
	_Atomic uint64_t unreferenced; /* chunks whose last reference went (a GC hint) */
	_Atomic uint64_t recovered[STORE_RECOVERED_COUNT]; /* this open's mount-time recovery */
	int intent_fd;     /* run/writer.lock: "a writer is waiting" (see group) */
	unsigned flags;
	unsigned format;
	MDB_env *env;
	MDB_dbi dbi[DBI_COUNT];
	bool dbi_absent[DBI_COUNT]; /* a newer format's, in an older store opened read-only */

	pthread_mutex_t lock;   /* serialises all LMDB use in this process */
	_Atomic unsigned lock_waiters; /* threads blocked in store_lock() */
	pthread_cond_t cond;    /* protected by lock: group state changes */
	MDB_txn *rtxn;          /* protected by lock: reset read txn, reused */

	/* Group commit (ENRP_STORE_GROUP_COMMIT); all protected by lock. */
	MDB_txn *group;
	struct store_hook *ghooks;
	size_t nghooks, ghooks_cap;
	int64_t group_born, group_touched; /* CLOCK_MONOTONIC ns */
	bool begin_wanted;
	unsigned group_ops;     /* operations applied to the open group */
	uint64_t group_pages;   /* worst-case pages the open group may have dirtied */
	uint64_t group_budget;  /* pages the open group may dirty within the reserved
	                           disk blocks (UINT64_MAX: no reservation possible) */
	int group_fd;           /* run/group.lock: held (flock) while a group is open */
	uint32_t *gtouched;     /* EIRs whose files the open group changed */
	size_t ngtouched, gtouched_cap;
	bool gtouched_all;      /* too many to list: every EIR counts as changed */
	uint64_t sync_wanted;   /* highest commit number a sync waits for */
	/* Per bucket of inode numbers (inode_bucket), the number of the commit
	 * that makes the last change of any of them durable, changes of a
	 * size by a write or truncate aside (txn_inode_changed).  Inodes that
	 * share a bucket only wait for each other's commits. */
	uint64_t *inode_changes;
	uint64_t written;       /* groups committed so far, durable or not yet */
	uint64_t committed;     /* of those, the durable ones: syncs wait for this */
	int group_err;          /* a failed group commit: the daemon must stop */
	int begin_err;          /* a group could not begin (disk full): transient */
	/* Chunk files ride the group commit (txn_needs_chunks): a seal takes a
	 * ticket, the current epoch, once its chunk files are written; each
	 * chunk sync the committer runs first moves the epoch on, and once it
	 * returns, every ticket below the epoch it began is durable. */
	_Atomic uint64_t chunk_epoch;
	uint64_t chunks_durable_below; /* protected by lock */
	uint64_t group_chunk_ticket;   /* highest ticket in the open group; 0: none */
	_Atomic uint64_t chunk_syncs;  /* chunk syncs run by the committer (tests) */
	int (*test_chunk_sync_hook)(void *); /* runs in the unlocked chunk sync (tests) */
	void (*test_meta_sync_hook)(void *);  /* runs in the unlocked meta flush (tests) */
	void *test_meta_sync_arg;
	void *test_chunk_sync_arg;
	/* enrp_store_test_crowd_hook: pages other writers are taken to have
	 * added to the open group before each apply (tests of the budget). */
	uint64_t (*test_crowd_hook)(void *arg, uint64_t budget, uint64_t pages);
	void *test_crowd_arg;
	off_t reserved;         /* bytes of the data file reserved with fallocate */

	/* Free space for client data (enrp_store_data_room). */
	pthread_mutex_t room_lock;
	uint64_t room_free;     /* protected by room_lock: bytes free, as last read */
	uint64_t room_reserve;  /* protected by room_lock */
	int64_t room_read_at;   /* protected by room_lock: CLOCK_MONOTONIC ns */
	/* The hooks of durable commits, oldest first, for the reclaimer
	 * thread (protected by lock); the oldest is the one it runs. */
	struct hook_batch hq[HOOK_BATCHES_MAX];
	unsigned hq_head, hq_len;
	uint64_t hooks_ran;     /* every hook of commits up to this one has run */
	pthread_cond_t hq_cond; /* the reclaimer waits on it for batches */
	_Atomic int fail_writes; /* enrp_store_test_fail_writes */
	bool stopping;
	bool reclaimer_stopping;
	pthread_t committer, reclaimer;
	bool committer_started, reclaimer_started;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int store_mdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return -ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		enrp_log(ENRP_LOG_ERR, "metadata store is damaged: %s", mdb_strerror(rc));
		return -EIO;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return -EPROTONOSUPPORT;
	default:
		if (rc > 0 && rc < 4096)
			return -rc; /* plain errno from the OS */
		enrp_log(ENRP_LOG_ERR, "metadata store error: %s", mdb_strerror(rc));
		return -EIO;
	}
}

MDB_dbi store_dbi(const enrp_txn *t, enum store_dbi which)
{
	return t->st->dbi[which];
}

/* Worst-case pages a change may dirty: a copy-on-write path from the root
 * to a leaf, a split, and the overflow pages of a large value. */
static uint64_t change_pages(size_t vlen)
{
	return 6 + vlen / 4096;
}

/* Records the translated error of a failed LMDB change. */
static int change_failed(enrp_txn *t, int rc)
{
	t->map_full = rc == MDB_MAP_FULL || rc == MDB_TXN_FULL;
	return t->ret = store_mdb_err(rc);
}

int txn_get(enrp_txn *t, enum store_dbi db, const void *key, size_t klen, MDB_val *val)
{
	if (t->ret)
		return t->ret;
	if (t->st->dbi_absent[db])
		return -ENOENT;
	MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
	int rc = mdb_get(t->txn, t->st->dbi[db], &k, val);
	/* A missing key is an answer, not a failure of the transaction. */
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc)
		t->ret = store_mdb_err(rc);
	return t->ret;
}

int txn_put(enrp_txn *t, enum store_dbi db, const void *key, size_t klen,
            const void *val, size_t vlen, unsigned flags)
{
	if (t->ret)
		return t->ret;
	if (!t->write)
		return t->ret = -EROFS;
	MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
	MDB_val v = { .mv_size = vlen, .mv_data = (void *)val };
	t->pages += change_pages(vlen);
	int rc = mdb_put(t->txn, t->st->dbi[db], &k, &v, flags);
	if (rc == MDB_KEYEXIST)
		return -EEXIST;
	if (rc)
		return change_failed(t, rc);
	return t->ret;
}

int txn_del(enrp_txn *t, enum store_dbi db, const void *key, size_t klen)
{
	if (t->ret)
		return t->ret;
	if (!t->write)
		return t->ret = -EROFS;
	MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
	t->pages += change_pages(0);
	int rc = mdb_del(t->txn, t->st->dbi[db], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc)
		return change_failed(t, rc);
	return t->ret;
}

int txn_cursor(enrp_txn *t, enum store_dbi db, MDB_cursor **out)
{
	if (t->ret)
		return t->ret;
	if (t->st->dbi_absent[db])
		return -ENOENT;
	int rc = mdb_cursor_open(t->txn, t->st->dbi[db], out);
	if (rc)
		t->ret = store_mdb_err(rc);
	return t->ret;
}

int txn_prefix_each(enrp_txn *t, enum store_dbi db, const void *prefix, size_t plen,
                    txn_prefix_fn *fn, void *arg)
{
	MDB_cursor *cur;
	int rc = txn_cursor(t, db, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	MDB_val k = { plen, (void *)prefix }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (rc = 0; mrc == 0 && rc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen))
			break;
		rc = fn(&k, &v, arg);
	}
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : store_mdb_err(mrc);
}

int txn_next_id(enrp_txn *t, const char *key, uint64_t start, uint64_t *out)
{
	MDB_val v;
	uint64_t next = start;
	int rc = txn_get(t, DBI_META, key, strlen(key), &v);
	if (rc == 0) {
		if (v.mv_size != 8)
			return t->ret = -EIO;
		next = be64_get(v.mv_data);
	} else if (rc != -ENOENT) {
		return rc;
	}
	uint8_t buf[8];
	be64_put(buf, next + 1);
	rc = txn_put(t, DBI_META, key, strlen(key), buf, sizeof(buf), 0);
	if (rc)
		return rc;
	*out = next;
	return 0;
}

static int hooks_push(struct store_hook **v, size_t *n, size_t *cap, store_hook_fn *fn,
                      uint64_t arg, bool once)
{
	for (size_t i = 0; once && i < *n; i++) {
		if ((*v)[i].once && (*v)[i].fn == fn) {
			if ((*v)[i].arg < arg)
				(*v)[i].arg = arg;
			return 0;
		}
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct store_hook *nv = realloc(*v, ncap * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = (struct store_hook){ fn, arg, once };
	return 0;
}

int txn_on_durable(enrp_txn *t, store_hook_fn *fn, uint64_t arg)
{
	if (t->ret)
		return t->ret;
	int rc = hooks_push(&t->hooks, &t->nhooks, &t->hooks_cap, fn, arg, false);
	if (rc)
		t->ret = rc;
	return rc;
}

int txn_on_durable_once(enrp_txn *t, store_hook_fn *fn, uint64_t arg)
{
	if (t->ret)
		return t->ret;
	int rc = hooks_push(&t->hooks, &t->nhooks, &t->hooks_cap, fn, arg, true);
	if (rc)
		t->ret = rc;
	return rc;
}

static int group_sync_locked(enrp_store *st);
static int durable_wait_locked(enrp_store *st, uint64_t commit);
static void store_lock(enrp_store *st);

static bool hook_listed(const struct store_hook *h, size_t n, store_hook_fn *fn, uint64_t arg)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].fn == fn && h[i].arg == arg)
			return true;
	return false;
}

int store_hook_wait(enrp_store *st, store_hook_fn *fn, uint64_t arg)
{
	int rc = 0;
	store_lock(st);
	if (hook_listed(st->ghooks, st->nghooks, fn, arg))
		rc = group_sync_locked(st); /* its group is still to commit */
	uint64_t commit = 0;
	for (unsigned i = 0; rc == 0 && i < st->hq_len; i++) {
		const struct hook_batch *b = &st->hq[(st->hq_head + i) % HOOK_BATCHES_MAX];
		if (hook_listed(b->hooks, b->n, fn, arg))
			commit = b->commit;
	}
	while (rc == 0 && st->hooks_ran < commit && !st->group_err)
		pthread_cond_wait(&st->cond, &st->lock);
	if (rc == 0)
		rc = st->group_err;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void txn_touch_eir(enrp_txn *t, uint32_t eir_id)
{
	for (unsigned i = 0; i < t->ntouched && i < TXN_TOUCHED_MAX; i++)
		if (t->touched[i] == eir_id)
			return;
	if (t->ntouched < TXN_TOUCHED_MAX)
		t->touched[t->ntouched] = eir_id;
	if (t->ntouched <= TXN_TOUCHED_MAX)
		t->ntouched++;
}

static size_t inode_bucket(uint64_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> (64 - INODE_BUCKET_BITS));
}

void txn_inode_changed(enrp_txn *t, uint64_t ino)
{
	enrp_store *st = t->st;
	/* The daemon's writes run in its group, under st->lock; the group
	 * becomes commit number written + 1. */
	if (t->write && st->inode_changes)
		st->inode_changes[inode_bucket(ino)] = st->written + 1;
}

bool txn_inode_change_durable(enrp_txn *t, uint64_t ino)
{
	enrp_store *st = t->st;
	return !st->inode_changes || st->inode_changes[inode_bucket(ino)] <= st->committed;
}

/* Adds what nested transaction T touched to the open group's set (st->lock
 * held).  A set that cannot grow counts as "every EIR": a sync too many,
 * never one too few. */
static void group_touch(enrp_store *st, const enrp_txn *t)
{
	if (t->ntouched > TXN_TOUCHED_MAX) {
		st->gtouched_all = true;
		return;
	}
	for (unsigned i = 0; i < t->ntouched && !st->gtouched_all; i++) {
		size_t j = 0;
		while (j < st->ngtouched && st->gtouched[j] != t->touched[i])
			j++;
		if (j < st->ngtouched)
			continue;
		if (st->ngtouched == st->gtouched_cap) {
			size_t cap = st->gtouched_cap ? st->gtouched_cap * 2 : 16;
			uint32_t *nv = cap <= 4096 ? realloc(st->gtouched, cap * sizeof(*nv)) : NULL;
			if (!nv) {
				st->gtouched_all = true;
				break;
			}
			st->gtouched = nv;
			st->gtouched_cap = cap;
		}
		st->gtouched[st->ngtouched++] = t->touched[i];
	}
}

static bool eir_waits_for_group(const enrp_store *st, uint32_t eir_id)
{
	if (st->gtouched_all)
		return true;
	for (size_t i = 0; i < st->ngtouched; i++)
		if (st->gtouched[i] == eir_id)
			return true;
	return false;
}

static void run_hooks(enrp_store *st, struct store_hook *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h[i].fn(st, h[i].arg);
}

const char *store_spool_dir(const enrp_store *st)
{
	return st->spool_path;
}

int store_spool_dirfd(const enrp_store *st)
{
	return st->spool_dirfd;
}

void store_recovered_add(enrp_store *st, enum store_recovered what, uint64_t n)
{
	st->recovered[what] += n;
}

uint64_t store_recovered(const enrp_store *st, enum store_recovered what)
{
	return st->recovered[what];
}

uint64_t store_spool_size_max(const enrp_store *st)
{
	return st->spool_size_max;
}

void store_set_spool_size_max(enrp_store *st, uint64_t size)
{
	st->spool_size_max = size;
}

int store_chunks_dirfd(const enrp_store *st)
{
	return st->chunks_dirfd;
}

struct spool_pool *store_spool_pool(const enrp_store *st)
{
	return st->pool;
}

struct chunk_pins *store_chunk_pins(const enrp_store *st)
{
	return st->pins;
}

struct chunk_unsynced *store_chunk_unsynced(const enrp_store *st)
{
	return st->unsynced;
}

void store_note_unreferenced(enrp_store *st)
{
	atomic_fetch_add(&st->unreferenced, 1);
}

uint64_t enrp_store_unreferenced(const enrp_store *st)
{
	return atomic_load(&st->unreferenced);
}

const char *enrp_store_path(const enrp_store *st)
{
	return st->path;
}

unsigned enrp_store_format(const enrp_store *st)
{
	return st->format;
}

uint64_t enrp_store_commit_count(enrp_store *st)
{
	pthread_mutex_lock(&st->lock);
	uint64_t n = st->committed;
	pthread_mutex_unlock(&st->lock);
	return n;
}

uint64_t enrp_store_chunk_sync_count(const enrp_store *st)
{
	return atomic_load(&st->chunk_syncs);
}

void enrp_store_test_meta_sync_hook(enrp_store *st, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&st->lock);
	st->test_meta_sync_hook = fn;
	st->test_meta_sync_arg = arg;
	pthread_mutex_unlock(&st->lock);
}

void enrp_store_test_crowd_hook(enrp_store *st,
                                uint64_t (*fn)(void *arg, uint64_t budget, uint64_t pages),
                                void *arg)
{
	pthread_mutex_lock(&st->lock);
	st->test_crowd_hook = fn;
	st->test_crowd_arg = arg;
	pthread_mutex_unlock(&st->lock);
}

void enrp_store_test_chunk_sync_hook(enrp_store *st, int (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&st->lock);
	st->test_chunk_sync_hook = fn;
	st->test_chunk_sync_arg = arg;
	pthread_mutex_unlock(&st->lock);
}

/* ---- environment lifecycle ---- */

static char *path_join(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

/* Grows the map after MDB_MAP_FULL.  Called with st->lock held and no
 * transaction of this process alive, as mdb_env_set_mapsize requires. */
static int grow_map(enrp_store *st)
{
	MDB_envinfo info;
	mdb_env_info(st->env, &info);
	if (info.me_mapsize >= MAP_CEILING) {
		enrp_log(ENRP_LOG_ERR, "metadata map is at its ceiling (%zu bytes)", info.me_mapsize);
		return -ENOSPC;
	}
	size_t next = info.me_mapsize * 2;
	if (next > MAP_CEILING)
		next = MAP_CEILING;
	int rc = mdb_env_set_mapsize(st->env, next);
	if (rc)
		return store_mdb_err(rc);
	enrp_log(ENRP_LOG_INFO, "metadata map grown to %zu MiB", next >> 20);
	return 0;
}

/* mdb_txn_begin with the retries of STYLE rule 16: another process grew the
 * map (adopt its size) or a dead process left reader slots (reclaim them). */
static int begin_txn(enrp_store *st, MDB_txn *parent, unsigned flags, MDB_txn **out)
{
	int rc = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		rc = mdb_txn_begin(st->env, parent, flags, out);
		if (rc == MDB_MAP_RESIZED) {
			mdb_env_set_mapsize(st->env, 0);
			continue;
		}
		if (rc == MDB_READERS_FULL) {
			int dead = 0;
			mdb_reader_check(st->env, &dead);
			continue;
		}
		break;
	}
	return store_mdb_err(rc);
}

static int renew_read(enrp_store *st)
{
	int rc = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		if (!st->rtxn)
			return begin_txn(st, NULL, MDB_RDONLY, &st->rtxn);
		rc = mdb_txn_renew(st->rtxn);
		if (rc == MDB_MAP_RESIZED) {
			mdb_txn_abort(st->rtxn);
			st->rtxn = NULL;
			mdb_env_set_mapsize(st->env, 0);
			continue;
		}
		if (rc == MDB_READERS_FULL) {
			int dead = 0;
			mdb_reader_check(st->env, &dead);
			continue;
		}
		break;
	}
	return store_mdb_err(rc);
}

static int read_format(enrp_store *st, MDB_txn *txn)
{
	MDB_val k = { .mv_size = 6, .mv_data = (void *)"format" }, v;
	int rc = mdb_get(txn, st->dbi[DBI_META], &k, &v);
	if (rc || v.mv_size != 4)
		return -EMEDIUMTYPE; /* LMDB, but not ours */
	st->format = be32_get(v.mv_data);
	/* Only here are the numbers known: the one line the caller needs. */
	if (st->format > ENRP_STORE_FORMAT) {
		enrp_log(ENRP_LOG_ERR,
		         "cannot open store '%s': its format %u is newer than this enrp reads (%u)",
		         st->path, st->format, ENRP_STORE_FORMAT);
		return -EPROTONOSUPPORT;
	}
	if (st->format < 1) {
		enrp_log(ENRP_LOG_ERR, "cannot open store '%s': its format %u is unknown", st->path,
		         st->format);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* Opens every database in one transaction (STYLE rule 14); CREATE only from
 * enrp_store_create.  The format is checked before anything else is used. */
/* Does the store lack one of the databases a newer format added? */
static bool lacks_databases(MDB_txn *txn)
{
	for (int i = DBI_FIRST_FORMAT4; i < DBI_COUNT; i++) {
		MDB_dbi dbi;
		if (mdb_dbi_open(txn, dbi_names[i], 0, &dbi) == MDB_NOTFOUND)
			return true;
	}
	return false;
}

/* Creates the databases from FIRST on that do not exist yet. */
static int add_databases(enrp_store *st, int first)
{
	MDB_txn *txn;
	int rc = begin_txn(st, NULL, 0, &txn);
	if (rc)
		return rc;
	for (int i = first; rc == 0 && i < DBI_COUNT; i++) {
		MDB_dbi dbi;
		rc = store_mdb_err(mdb_dbi_open(txn, dbi_names[i], MDB_CREATE, &dbi));
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return store_mdb_err(mdb_txn_commit(txn));
}

static int open_dbis(enrp_store *st, bool create)
{
	MDB_txn *txn;
	/* A read transaction suffices to open existing databases, and does not
	 * wait for a daemon's group to release LMDB's writer lock. */
	int rc = begin_txn(st, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc)
		return rc;
	unsigned f = create ? MDB_CREATE : 0;
	int mrc = mdb_dbi_open(txn, dbi_names[DBI_META], f, &st->dbi[DBI_META]);
	if (mrc == MDB_NOTFOUND) {
		rc = -EMEDIUMTYPE; /* an LMDB environment, but not ours */
		goto out_abort;
	}
	if (mrc) {
		rc = store_mdb_err(mrc);
		goto out_abort;
	}
	if (create) {
		uint8_t fmt[4];
		be32_put(fmt, ENRP_STORE_FORMAT);
		MDB_val k = { .mv_size = 6, .mv_data = (void *)"format" };
		MDB_val v = { .mv_size = 4, .mv_data = fmt };
		mrc = mdb_put(txn, st->dbi[DBI_META], &k, &v, 0);
		if (mrc) {
			rc = store_mdb_err(mrc);
			goto out_abort;
		}
	}
	rc = read_format(st, txn);
	if (rc)
		goto out_abort;
	if (!create && !(st->flags & ENRP_STORE_RDONLY) && lacks_databases(txn)) {
		/* Databases a newer format added are created empty, in a write
		 * transaction of their own, by the first writable open (a
		 * read-only one reads them as empty). */
		mdb_txn_abort(txn);
		if ((rc = add_databases(st, DBI_FIRST_FORMAT4)))
			return rc;
		if ((rc = begin_txn(st, NULL, MDB_RDONLY, &txn)))
			return rc;
		if ((mrc = mdb_dbi_open(txn, dbi_names[DBI_META], 0, &st->dbi[DBI_META]))) {
			rc = store_mdb_err(mrc);
			goto out_abort;
		}
	}
	for (int i = 0; i < DBI_COUNT; i++) {
		if (i == DBI_META)
			continue;
		mrc = mdb_dbi_open(txn, dbi_names[i], f, &st->dbi[i]);
		if (mrc == MDB_NOTFOUND && i >= DBI_FIRST_FORMAT4 && (st->flags & ENRP_STORE_RDONLY)) {
			st->dbi_absent[i] = true; /* read as empty */
			continue;
		}
		if (mrc) {
			enrp_log(ENRP_LOG_ERR, "cannot open store '%s': it lacks database '%s' (%s)",
			         st->path, dbi_names[i], mdb_strerror(mrc));
			rc = mrc == MDB_NOTFOUND ? -EPROTONOSUPPORT : store_mdb_err(mrc);
			goto out_abort;
		}
	}
	mrc = mdb_txn_commit(txn);
	return store_mdb_err(mrc);
out_abort:
	mdb_txn_abort(txn);
	return rc;
}

/* A writer of an older store marks it with this binary's format first, so
 * that an older binary refuses the records it cannot read (format 2 added
 * fields to inode and EIR records; their version-1 form still decodes).
 * Called before any other transaction of this process. */
static int upgrade_format(enrp_store *st)
{
	if (st->format >= ENRP_STORE_FORMAT)
		return 0;
	MDB_txn *txn;
	int rc = begin_txn(st, NULL, 0, &txn);
	if (rc)
		return rc;
	uint8_t fmt[4];
	be32_put(fmt, ENRP_STORE_FORMAT);
	MDB_val k = { .mv_size = 6, .mv_data = (void *)"format" };
	MDB_val v = { .mv_size = 4, .mv_data = fmt };
	rc = store_mdb_err(mdb_put(txn, st->dbi[DBI_META], &k, &v, 0));
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = store_mdb_err(mdb_txn_commit(txn));
	if (rc == 0) {
		enrp_log(ENRP_LOG_NOTICE, "store '%s' upgraded from format %u to %u", st->path,
		         st->format, ENRP_STORE_FORMAT);
		st->format = ENRP_STORE_FORMAT;
	}
	return rc;
}

/* Grows the map until it holds twice what is used plus GROUP_ROOM (see "Map
 * full" above).  Called by the committer, st->lock held, no transaction of
 * this process alive. */
static int ensure_map_room(enrp_store *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	if (mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &ms))
		return 0;
	size_t used = (info.me_last_pgno + 1) * ms.ms_psize;
	size_t want = 2 * used + GROUP_ROOM;
	if (info.me_mapsize >= want)
		return 0;
	size_t next = info.me_mapsize;
	while (next < want && next < MAP_CEILING)
		next *= 2;
	if (next > MAP_CEILING)
		next = MAP_CEILING;
	if (next <= info.me_mapsize)
		return -ENOSPC;
	int rc = store_mdb_err(mdb_env_set_mapsize(st->env, next));
	if (rc == 0)
		enrp_log(ENRP_LOG_INFO, "metadata map grown to %zu MiB", next >> 20);
	return rc;
}

/* Keeps disk blocks reserved ahead of the environment's last page (see
 * "Disk full" above).  Called by the committer, st->lock held, no group. */
static int reserve_headroom(enrp_store *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	int fd;
	if (mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &ms) ||
	    mdb_env_get_fd(st->env, &fd))
		return 0; /* nothing to measure by: do not block writes on it */
	off_t used = (off_t)(info.me_last_pgno + 1) * ms.ms_psize;
	if (st->reserved - used >= HEADROOM_MIN)
		return 0;
	off_t want = used + HEADROOM_STEP;
	if (want > (off_t)info.me_mapsize)
		want = (off_t)info.me_mapsize;
	if (want <= st->reserved)
		return 0;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, want) < 0) {
		if (errno == EOPNOTSUPP)
			return 0; /* a filesystem without it: no better guarantee to give */
		int rc = -errno;
		/* What is still reserved keeps small groups going (group_budget). */
		if (st->reserved - used >= HEADROOM_EMERGENCY)
			return 0;
		enrp_log(ENRP_LOG_WARNING, "cannot reserve space for metadata: %s; refusing "
		         "writes until there is room", strerror(-rc));
		return rc;
	}
	st->reserved = want;
	return 0;
}

/* Pages a new group may dirty without needing disk blocks that were not
 * reserved: half of what reserve_headroom set aside beyond the used size
 * (the other half for LMDB's free list and the meta pages). */
static uint64_t group_budget(enrp_store *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	if (st->reserved == 0 || mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &ms))
		return UINT64_MAX; /* no reservation possible here: the map room rules */
	off_t used = (off_t)(info.me_last_pgno + 1) * ms.ms_psize;
	if (st->reserved <= used)
		return 0;
	return (uint64_t)(st->reserved - used) / ms.ms_psize / 2;
}

static void *committer_main(void *arg);
static void *reclaimer_main(void *arg);
static void reclaimer_stop(enrp_store *st);

/* The blocks the data file already has: a reservation made by an earlier
 * process, still there after a crash or a full disk. */
static void adopt_reservation(enrp_store *st)
{
	int fd;
	struct stat sb;
	if (mdb_env_get_fd(st->env, &fd) == 0 && fstat(fd, &sb) == 0)
		st->reserved = (off_t)sb.st_blocks * 512;
}

int enrp_store_data_room(enrp_store *st, uint64_t len)
{
	int64_t now = mono_ns();
	int rc = 0;
	pthread_mutex_lock(&st->room_lock);
	bool close = st->room_free < st->room_reserve + len + ((uint64_t)64 << 20);
	if (st->room_read_at == 0 || now - st->room_read_at > ROOM_REFRESH_NS || close) {
		struct statvfs sv;
		if (fstatvfs(st->spool_dirfd, &sv) == 0) {
			uint64_t bs = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
			uint64_t total = (uint64_t)sv.f_blocks * bs;
			st->room_free = (uint64_t)sv.f_bavail * bs;
			st->room_reserve = total / 32;
			if (st->room_reserve < ((uint64_t)1 << 20))
				st->room_reserve = (uint64_t)1 << 20;
			if (st->room_reserve > ((uint64_t)256 << 20))
				st->room_reserve = (uint64_t)256 << 20;
			st->room_read_at = now;
		}
	}
	if (st->room_read_at && st->room_free < st->room_reserve + len)
		rc = -ENOSPC;
	pthread_mutex_unlock(&st->room_lock);
	return rc;
}

/* The store's own directories and its LMDB files, and what each may not
 * grant to anyone but root (077: nothing at all). */
static const struct {
	const char *name;
	mode_t type, forbidden;
} store_parts[] = {
	{ "meta", S_IFDIR, 077 },  { "spool", S_IFDIR, 077 },  { "chunks", S_IFDIR, 077 },
	{ "run", S_IFDIR, 077 },   { "meta/data.mdb", S_IFREG, 022 },
	{ "meta/lock.mdb", S_IFREG, 022 },
};

int enrp_store_check(const char *path, struct enrp_trust_problem *p)
{
	char real[PATH_MAX], part[PATH_MAX + 32];
	bool exists;
	int rc = enrp_trust_walk(path, real, &exists, p);
	if (rc)
		return rc;
	if (!exists)
		return -ENOENT;
	/* A directory without meta/ is no store, which open says in its words. */
	struct stat sb;
	snprintf(part, sizeof(part), "%s/meta", real);
	if (lstat(part, &sb) < 0 && errno == ENOENT)
		return -ENOENT;
	rc = enrp_trust_own(real, S_IFDIR, 077, p);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(store_parts) / sizeof(store_parts[0]); i++) {
		snprintf(part, sizeof(part), "%s/%s", real, store_parts[i].name);
		rc = enrp_trust_own(part, store_parts[i].type, store_parts[i].forbidden, p);
		/* A missing part is for open to judge ("not an enrp store"). */
		if (rc && rc != -ENOENT)
			return rc;
	}
	return 0;
}

/* enrp_store_check for open: the problem is logged. */
static int check_owner(const char *path)
{
	struct enrp_trust_problem p;
	int rc = enrp_store_check(path, &p);
	if (rc == -EPERM)
		enrp_log(ENRP_LOG_ERR, "store '%s' is not root's alone: '%s' %s", path, p.path, p.why);
	return rc == -ENOENT ? 0 : rc;
}

static int open_env(const char *path, unsigned flags, bool create, enrp_store **out)
{
	int rc;
	enrp_store *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->flags = flags;
	st->spool_dirfd = -1;
	st->chunks_dirfd = -1;
	st->intent_fd = -1;
	st->group_fd = -1;
	st->chunk_epoch = 1;
	st->chunks_durable_below = 1;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->room_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&st->hq_cond, NULL);

	st->path = strdup(path);
	st->spool_path = path_join(path, "spool");
	char *meta = path_join(path, "meta");
	char *intent = path_join(path, "run/writer.lock");
	char *group = path_join(path, "run/group.lock");
	if (!st->path || !st->spool_path || !meta || !intent || !group) {
		rc = -ENOMEM;
		goto out_free;
	}
	struct stat sb;
	if (stat(path, &sb) < 0) {
		rc = -errno;
		goto out_free;
	}
	/* Before anything in it is opened: a store someone else can change is
	 * someone else's. */
	rc = S_ISDIR(sb.st_mode) ? check_owner(path) : 0;
	if (rc)
		goto out_free;
	if (!S_ISDIR(sb.st_mode)) {
		rc = -ENOTDIR;
		goto out_free;
	}
	if (stat(meta, &sb) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out_free;
	}
	/* The caller says "not an enrp store" (enrp_strerror), and nothing
	 * more: a directory that is no store has no format to speak of. */
	if (stat(meta, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		rc = -EMEDIUMTYPE;
		goto out_free;
	}
	st->spool_dirfd = open(st->spool_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->spool_dirfd < 0 && !(flags & ENRP_STORE_RDONLY)) {
		rc = -errno;
		enrp_log(ENRP_LOG_ERR, "cannot open '%s': %s", st->spool_path, strerror(-rc));
		goto out_free;
	}
	char *chunks = path_join(path, "chunks");
	st->chunks_dirfd = chunks ? open(chunks, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	free(chunks);
	if (!(flags & ENRP_STORE_RDONLY)) {
		st->intent_fd = open(intent, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		st->group_fd = open(group, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (st->intent_fd < 0 || st->group_fd < 0) {
			rc = -errno;
			enrp_log(ENRP_LOG_ERR, "cannot open '%s': %s", st->intent_fd < 0 ? intent : group,
			         strerror(-rc));
			goto out_free;
		}
	}

	int mrc = mdb_env_create(&st->env);
	if (mrc) {
		rc = store_mdb_err(mrc);
		goto out_free;
	}
	mdb_env_set_maxdbs(st->env, DBI_COUNT + 4);
	mdb_env_set_maxreaders(st->env, 254);
	size_t map = MAP_INITIAL;
	const char *env_map = getenv("ENRP_LMDB_MAPSIZE"); /* tests of map growth */
	if (env_map && strtoull(env_map, NULL, 10) >= (1 << 20))
		map = strtoull(env_map, NULL, 10);
	mdb_env_set_mapsize(st->env, map);
	unsigned eflags = MDB_NOTLS | MDB_NORDAHEAD;
	if (flags & ENRP_STORE_RDONLY)
		eflags |= MDB_RDONLY;
	else if (flags & ENRP_STORE_GROUP_COMMIT)
		eflags |= MDB_NOMETASYNC; /* group_commit flushes the meta page */
	mrc = mdb_env_open(st->env, meta, eflags, 0600);
	if (mrc) {
		/* meta/ without LMDB's files, or with files that are not LMDB's:
		 * no store.  A version mismatch is LMDB's own format, older or
		 * newer than ours, which only the format record could judge. */
		if (mrc == ENOENT || mrc == MDB_INVALID)
			rc = -EMEDIUMTYPE;
		else
			rc = mrc == EACCES ? -mrc : store_mdb_err(mrc);
		if (mrc == MDB_VERSION_MISMATCH)
			enrp_log(ENRP_LOG_ERR, "cannot open store '%s': its metadata has another LMDB "
			         "format (%s)", path, mdb_strerror(mrc));
		goto out_env;
	}
	/* A process killed inside a read transaction (a snapshot mount, an
	 * enrpctl) leaves its reader slot pinning the pages it saw, so the
	 * writer could never reuse them and the map would only grow: every
	 * open clears the slots of dead processes. */
	int dead = 0;
	mdb_reader_check(st->env, &dead);
	if (dead)
		enrp_log(ENRP_LOG_INFO, "cleared %d stale LMDB reader slot%s", dead, dead == 1 ? "" : "s");
	rc = open_dbis(st, create);
	if (rc == 0 && !(flags & ENRP_STORE_RDONLY))
		rc = upgrade_format(st);
	if (rc == 0 && (!(st->pins = chunk_pins_new()) || !(st->unsynced = chunk_unsynced_new())))
		rc = -ENOMEM;
	if (rc)
		goto out_env;
	if (flags & ENRP_STORE_GROUP_COMMIT) {
		adopt_reservation(st);
		st->pool = spool_pool_new();
		st->inode_changes = calloc(INODE_BUCKETS, sizeof(*st->inode_changes));
		if (!st->pool || !st->inode_changes) {
			rc = -ENOMEM;
			goto out_env;
		}
		rc = -pthread_create(&st->reclaimer, NULL, reclaimer_main, st);
		if (rc)
			goto out_env;
		st->reclaimer_started = true;
		rc = -pthread_create(&st->committer, NULL, committer_main, st);
		if (rc)
			goto out_env;
		st->committer_started = true;
	}
	free(meta);
	free(intent);
	free(group);
	*out = st;
	return 0;

out_env:
	reclaimer_stop(st);
	spool_pool_free(st->pool);
	chunk_pins_free(st->pins);
	chunk_unsynced_free(st->unsynced);
	mdb_env_close(st->env);
	st->env = NULL;
out_free:
	if (st->spool_dirfd >= 0)
		close(st->spool_dirfd);
	if (st->chunks_dirfd >= 0)
		close(st->chunks_dirfd);
	if (st->intent_fd >= 0)
		close(st->intent_fd);
	if (st->group_fd >= 0)
		close(st->group_fd);
	free(meta);
	free(intent);
	free(group);
	free(st->path);
	free(st->spool_path);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->room_lock);
	pthread_cond_destroy(&st->cond);
	pthread_cond_destroy(&st->hq_cond);
	free(st);
	return rc;
}

int enrp_store_open(const char *path, unsigned flags, enrp_store **out)
{
	return open_env(path, flags, false, out);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Makes the existing directory PATH, owned by root, the top of a new store:
 * mode 0700 first (so nobody else can add an entry meanwhile), then it must
 * be empty; if it is not, its mode is put back. */
static int adopt_dir(const char *path, struct enrp_trust_problem *p)
{
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -EEXIST : -errno;
	struct stat sb;
	int rc = fstat(dfd, &sb) < 0 ? -errno : 0;
	if (rc == 0 && sb.st_uid != 0) {
		close(dfd);
		return enrp_trust_own(path, S_IFDIR, 0, p);
	}
	if (rc == 0 && fchmod(dfd, 0700) < 0)
		rc = -errno;
	if (rc) {
		close(dfd);
		return rc;
	}
	int dup_fd = dup(dfd);
	DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		rc = -ENOMEM;
	} else {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rc = -EEXIST;
		closedir(d);
	}
	if (rc && fchmod(dfd, sb.st_mode & 07777) < 0)
		enrp_log(ENRP_LOG_WARNING, "cannot restore the mode of '%s': %s", path, strerror(errno));
	close(dfd);
	return rc;
}

int enrp_store_create_checked(const char *path, struct enrp_trust_problem *p)
{
	static const char *const subdirs[] = { "meta", "spool", "chunks", "run" };
	bool exists;
	int rc = enrp_trust_walk(path, NULL, &exists, p);
	if (rc)
		return rc;
	if (!exists) {
		if (mkdir(path, 0700) < 0)
			return -errno;
	} else {
		/* An existing empty directory is fine (a fresh mount point of a
		 * disk), if root owns it. */
		rc = adopt_dir(path, p);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *sub = path_join(path, subdirs[i]);
		if (!sub)
			return -ENOMEM;
		rc = mkdir(sub, 0700) < 0 ? -errno : 0;
		free(sub);
		if (rc)
			return rc;
	}
	enrp_store *st;
	rc = open_env(path, 0, true, &st);
	if (rc)
		return rc;
	enrp_store_close(st);
	return fsync_path(path);
}

int enrp_store_create(const char *path)
{
	struct enrp_trust_problem p;
	int rc = enrp_store_create_checked(path, &p);
	if (rc == -EPERM)
		enrp_log(ENRP_LOG_ERR, "cannot create store '%s': '%s' %s", path, p.path, p.why);
	return rc;
}

/* ---- transactions ---- */

static void txn_release(enrp_txn *t)
{
	free(t->hooks);
	t->hooks = NULL;
	t->nhooks = t->hooks_cap = 0;
}

/* Takes st->lock; a thread that has to wait is counted, so that bulk
 * readers can let it pass (enrp_store_read_bulk). */
static void store_lock(enrp_store *st)
{
	if (pthread_mutex_trylock(&st->lock) == 0)
		return;
	atomic_fetch_add(&st->lock_waiters, 1);
	pthread_mutex_lock(&st->lock);
	atomic_fetch_sub(&st->lock_waiters, 1);
}

static int store_read(enrp_store *st, enrp_txn_fn *fn, void *arg, bool counted)
{
	enrp_txn t = { .st = st };
	int rc;
	if (counted)
		store_lock(st);
	else
		pthread_mutex_lock(&st->lock);
	if (st->group) {
		/* Our own uncommitted group is the truth for this process. */
		t.txn = st->group;
		rc = fn(&t, arg);
	} else {
		rc = renew_read(st);
		if (rc == 0) {
			t.txn = st->rtxn;
			rc = fn(&t, arg);
			mdb_txn_reset(st->rtxn);
		}
	}
	pthread_mutex_unlock(&st->lock);
	txn_release(&t);
	return rc;
}

int store_read_committed(enrp_store *st, enrp_txn_fn *fn, void *arg)
{
	enrp_txn t = { .st = st };
	store_lock(st);
	/* Never the open group, nor a commit whose meta page is written but
	 * not yet flushed (group_commit): wait for its flush.  Another process
	 * (enrpctl) sees the daemon's commits that way too, and flushes the
	 * file itself, so that what it then reads is durable.  After a failed
	 * flush nothing newer than the last durable commit may be read (gc
	 * would free on the strength of it): the store's error instead. */
	int rc = durable_wait_locked(st, st->written);
	if (rc == 0)
		rc = renew_read(st);
	if (rc == 0) {
		/* Flushed after the read began: all it can see is then durable. */
		int fd;
		if (!(st->flags & ENRP_STORE_GROUP_COMMIT) && mdb_env_get_fd(st->env, &fd) == 0 &&
		    fdatasync(fd) < 0)
			rc = -errno;
		t.txn = st->rtxn;
		if (rc == 0)
			rc = fn(&t, arg);
		mdb_txn_reset(st->rtxn);
	}
	pthread_mutex_unlock(&st->lock);
	txn_release(&t);
	return rc;
}

bool store_group_commit(const enrp_store *st)
{
	return st->flags & ENRP_STORE_GROUP_COMMIT;
}

int enrp_store_read(enrp_store *st, enrp_txn_fn *fn, void *arg)
{
	return store_read(st, fn, arg, true);
}

/* How long a bulk reader lets waiting threads go first, at most. */
#define BULK_YIELD_NS 2000000LL

int enrp_store_read_bulk(enrp_store *st, enrp_txn_fn *fn, void *arg)
{
	/* glibc's mutex is not fair: a thread that unlocks and locks again at
	 * once wins against the one its unlock woke, so a walk in batches
	 * would hold the store for its whole length.  Waiting while others
	 * wait lets each of them in between two batches.  Bounded, so a
	 * stream of short operations delays a walk but cannot stop it; bulk
	 * readers are not counted, so they do not wait for each other. */
	int64_t until = mono_ns() + BULK_YIELD_NS;
	while (atomic_load(&st->lock_waiters) && mono_ns() < until) {
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
	int rc = store_read(st, fn, arg, false);
	/* The CPU too: a walk is the one thread that never waits, and on two
	 * CPUs the threads serving other EIRs' requests would queue behind it
	 * (a create's p99 went 3-4x up under a SHA256SUMS poller without this,
	 * 1.2-1.9x with it).  Outside the lock, so nothing waits on us. */
	sched_yield();
	return rc;
}

/* The pages the open group may hold when an operation is applied to it.
 * One that was already turned away from a full group (RETRY) may go a
 * quarter of the reservation further, into the half kept for LMDB's free
 * list: otherwise the writers that fill each new group while it waits for
 * the last one's flush could turn it away again and again. */
static uint64_t group_limit(const enrp_store *st, bool retry)
{
	uint64_t b = st->group_budget;
	return retry && b <= UINT64_MAX / 2 ? b + b / 2 : b;
}

/* Runs FN in a nested transaction of the open group.  Called with st->lock.
 * *MAP_FULL: it failed because LMDB's map is full.  *OVER: it would take the
 * group past its page limit (group_limit, RETRY), so nothing was applied:
 * commit, then retry. */
static int group_apply(enrp_store *st, enrp_txn_fn *fn, void *arg, bool retry, bool *map_full,
                       bool *over)
{
	enrp_txn t = { .st = st, .write = true };
	*map_full = *over = false;
	if (st->test_crowd_hook) {
		uint64_t crowd = st->test_crowd_hook(st->test_crowd_arg, st->group_budget,
		                                     st->group_pages);
		if (crowd) {
			st->group_pages += crowd;
			st->group_ops++;
		}
	}
	int rc = begin_txn(st, st->group, 0, &t.txn);
	if (rc)
		return rc;
	rc = fn(&t, arg);
	if (rc == 0 && t.ret)
		rc = t.ret;
	if (rc == 0 && st->group_ops && st->group_pages + t.pages > group_limit(st, retry)) {
		mdb_txn_abort(t.txn);
		*over = true;
	} else if (rc) {
		*map_full = t.map_full;
		mdb_txn_abort(t.txn);
	} else {
		int crc = mdb_txn_commit(t.txn);
		*map_full = crc == MDB_MAP_FULL || crc == MDB_TXN_FULL;
		rc = store_mdb_err(crc);
		for (size_t i = 0; rc == 0 && i < t.nhooks; i++)
			rc = hooks_push(&st->ghooks, &st->nghooks, &st->ghooks_cap, t.hooks[i].fn,
			                t.hooks[i].arg, t.hooks[i].once);
		if (rc == 0) {
			st->group_touched = mono_ns();
			st->group_ops++;
			st->group_pages += t.pages;
			group_touch(st, &t);
		}
	}
	txn_release(&t);
	return rc;
}

/* Waits (st->lock held) until the committer has a group open. */
static int group_wait_open(enrp_store *st)
{
	st->begin_err = 0;
	while (!st->group && !st->group_err && !st->stopping && !st->begin_err) {
		st->begin_wanted = true;
		pthread_cond_broadcast(&st->cond);
		pthread_cond_wait(&st->cond, &st->lock);
	}
	if (!st->group && st->begin_err)
		return st->begin_err;
	if (st->group_err)
		return st->group_err;
	return st->group ? 0 : -ESHUTDOWN;
}

/* Waits (st->lock held) until commit COMMIT is durable; the store's error. */
static int durable_wait_locked(enrp_store *st, uint64_t commit)
{
	while (st->committed < commit && !st->group_err)
		pthread_cond_wait(&st->cond, &st->lock);
	return st->group_err;
}

/* Asks the committer for a commit of everything applied so far; the
 * number of that commit (0 when nothing is open). */
static uint64_t group_sync_ask_locked(enrp_store *st)
{
	if (!st->group)
		return 0;
	uint64_t target = st->written + 1;
	if (st->sync_wanted < target)
		st->sync_wanted = target;
	pthread_cond_broadcast(&st->cond);
	return target;
}

/* Waits (st->lock held) until commit COMMIT is written, durable or not
 * yet: the group after it is open then, unless something keeps it from
 * beginning (group_wait_open asks for it).  The store's error. */
static int written_wait_locked(enrp_store *st, uint64_t commit)
{
	while (st->written < commit && !st->group_err)
		pthread_cond_wait(&st->cond, &st->lock);
	return st->group_err;
}

/* Asks for a commit of everything applied so far and waits until it is
 * durable (its hooks may be still to run: store_hook_wait waits for one). */
static int group_sync_locked(enrp_store *st)
{
	return durable_wait_locked(st, group_sync_ask_locked(st));
}

/* The commit a sync asked now waits for: the open group's, or, when it has
 * nothing in it (begun at the last commit), the commit before it. */
static uint64_t sync_target_locked(enrp_store *st)
{
	return st->group && !st->group_ops ? st->written : group_sync_ask_locked(st);
}

/* Commits a writer may wait for before its operation finds room in a
 * group, and map growths it may need: past them it fails (-EAGAIN, or the
 * map's error) — never returns 0 for an operation that was not applied. */
#define WRITE_OVER_MAX 64
#define WRITE_GROW_MAX 3

static int write_group(enrp_store *st, enrp_txn_fn *fn, void *arg)
{
	int rc = 0;
	int overs = 0, grown = 0;
	store_lock(st);
	for (;;) {
		bool map_full, over;
		rc = group_wait_open(st);
		if (rc)
			break;
		rc = group_apply(st, fn, arg, overs > 0, &map_full, &over);
		if (over) {
			if (++overs > WRITE_OVER_MAX) {
				enrp_log(ENRP_LOG_ERR, "a metadata operation found no room in %d groups "
				         "in a row; it was not applied", WRITE_OVER_MAX);
				rc = -EAGAIN;
				break;
			}
			/* The group has used the disk blocks reserved for it: commit
			 * it; a new group reserves again (or reports ENOSPC).  Only
			 * the new group is needed, not the old one's meta flush: a
			 * create that waited for the flush too took 3-9 ms beside a
			 * busy EIR (docs/performance.md). */
			if ((rc = written_wait_locked(st, group_sync_ask_locked(st))))
				break;
			continue;
		}
		if (map_full && !st->group_err && grown++ < WRITE_GROW_MAX) {
			/* Make the group durable, grow the map, retry in a fresh group.
			 * The nested txn kept the failure out of the group; if growing
			 * does not help in the end, that failure (RC) is the answer. */
			int grc = group_sync_locked(st);
			if (grc == 0 && !st->group)
				grc = grow_map(st);
			if (grc) {
				rc = grc;
				break;
			}
			continue;
		}
		break;
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

#define GROUP_WAIT_NS (10 * 1000000000LL)
/* How long a writer waits to announce itself: the daemon takes that lock
 * only for an instant (to begin a group), another enrpctl for one write,
 * but a daemon stopped in that instant would hold it for ever. */
#define INTENT_WAIT_NS (20 * 1000000000LL)

static int wait_intent_lock(enrp_store *st)
{
	int64_t deadline = mono_ns() + INTENT_WAIT_NS;
	for (;;) {
		if (flock(st->intent_fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (mono_ns() > deadline) {
			enrp_log(ENRP_LOG_ERR, "another process (the enrpfs serving '%s', or another "
			         "enrpctl) holds the store's write lock and does not let go; nothing "
			         "was changed", st->path);
			return -ETIMEDOUT;
		}
		usleep(2000);
	}
}

static int wait_group_lock(enrp_store *st)
{
	int64_t deadline = mono_ns() + GROUP_WAIT_NS;
	for (;;) {
		if (flock(st->group_fd, LOCK_EX | LOCK_NB) == 0) {
			flock(st->group_fd, LOCK_UN);
			return 0;
		}
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (mono_ns() > deadline) {
			enrp_log(ENRP_LOG_ERR, "the enrpfs serving '%s' holds the metadata write "
			         "lock and does not respond; nothing was changed", st->path);
			return -ETIMEDOUT;
		}
		usleep(2000);
	}
}

static int write_single(enrp_store *st, enrp_txn_fn *fn, void *arg)
{
	struct store_hook *hooks = NULL;
	size_t nhooks = 0;
	int rc;
	store_lock(st);
	/* Announce the write so a daemon holding a group commits it now. */
	int announced = wait_intent_lock(st);
	/* Then wait for its group to end — with a deadline: a stopped or hung
	 * daemon holds LMDB's writer mutex, on which mdb_txn_begin would block
	 * for ever.  (It cannot begin another: we hold the intent lock.) */
	int locked = announced ? announced : wait_group_lock(st);
	rc = locked;
	for (int attempt = 0; locked == 0 && attempt < 2; attempt++) {
		enrp_txn t = { .st = st, .write = true };
		rc = begin_txn(st, NULL, 0, &t.txn);
		if (rc)
			break;
		rc = fn(&t, arg);
		if (rc == 0 && t.ret)
			rc = t.ret;
		if (rc) {
			mdb_txn_abort(t.txn);
		} else {
			int crc = mdb_txn_commit(t.txn);
			t.map_full = crc == MDB_MAP_FULL || crc == MDB_TXN_FULL;
			rc = store_mdb_err(crc);
			if (rc == 0) {
				hooks = t.hooks;
				nhooks = t.nhooks;
				t.hooks = NULL;
			}
		}
		txn_release(&t);
		/* Only a full map grows it; a full disk is just reported. */
		if (!t.map_full || attempt)
			break;
		if (grow_map(st))
			break;
	}
	if (announced == 0)
		flock(st->intent_fd, LOCK_UN);
	pthread_mutex_unlock(&st->lock);
	/* Hooks run unlocked, as a group's do: they may read the store (the
	 * journal's syslog mirror does) and must not hold a daemon's writes. */
	run_hooks(st, hooks, nhooks);
	free(hooks);
	return rc;
}

void enrp_store_test_fail_writes(enrp_store *st, int err)
{
	atomic_store(&st->fail_writes, err);
}

int enrp_store_write(enrp_store *st, enrp_txn_fn *fn, void *arg)
{
	int injected = atomic_load(&st->fail_writes);
	if (injected)
		return injected;
	if (st->flags & ENRP_STORE_RDONLY)
		return -EROFS;
	if (st->flags & ENRP_STORE_GROUP_COMMIT)
		return write_group(st, fn, arg);
	return write_single(st, fn, arg);
}

int enrp_store_sync(enrp_store *st)
{
	if (!(st->flags & ENRP_STORE_GROUP_COMMIT))
		return 0;
	store_lock(st);
	uint64_t commit = sync_target_locked(st);
	/* And the hooks of that commit and those before it: a sync of the
	 * whole store (syncfs, gc) finds the spool files it freed gone. */
	while ((st->committed < commit ||
	        (st->hq_len && st->hq[st->hq_head].commit <= commit)) && !st->group_err)
		pthread_cond_wait(&st->cond, &st->lock);
	int rc = st->group_err;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

uint64_t enrp_store_sync_ask(enrp_store *st)
{
	if (!(st->flags & ENRP_STORE_GROUP_COMMIT))
		return 0;
	store_lock(st);
	uint64_t commit = sync_target_locked(st);
	pthread_mutex_unlock(&st->lock);
	return commit;
}

int enrp_store_sync_wait(enrp_store *st, uint64_t commit)
{
	if (!(st->flags & ENRP_STORE_GROUP_COMMIT))
		return 0;
	pthread_mutex_lock(&st->lock);
	int rc = durable_wait_locked(st, commit);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int enrp_store_sync_eir(enrp_store *st, uint32_t id)
{
	if (!(st->flags & ENRP_STORE_GROUP_COMMIT))
		return 0;
	pthread_mutex_lock(&st->lock);
	int rc = st->group_err;
	if (rc == 0 && st->group && eir_waits_for_group(st, id)) {
		rc = group_sync_locked(st);
	} else {
		rc = durable_wait_locked(st, st->written); /* the commit being flushed may hold them */
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int enrp_store_flush_due(enrp_store *st)
{
	/* The committer does this on its own clock; kept for callers that want
	 * to nudge it (e.g. before reporting status). */
	pthread_mutex_lock(&st->lock);
	pthread_cond_broadcast(&st->cond);
	int rc = st->group_err;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* ---- the committer thread ---- */

static bool writer_waiting(enrp_store *st)
{
	if (flock(st->intent_fd, LOCK_EX | LOCK_NB) == 0) {
		flock(st->intent_fd, LOCK_UN);
		return false;
	}
	return errno == EWOULDBLOCK;
}

/* Makes the chunk files of the open group's seals durable before the commit
 * that points at them (st->lock held).  One chunk sync serves every seal of
 * the group, instead of one per seal, and runs with st->lock released, so
 * that reads and writes go on meanwhile.  A seal applied during that sync
 * may have written after it began: then one more sync, holding the lock. */
static int group_chunks_durable(enrp_store *st)
{
	for (int round = 0; st->group_chunk_ticket >= st->chunks_durable_below; round++) {
		uint64_t began = atomic_fetch_add(&st->chunk_epoch, 1) + 1;
		int (*hook)(void *) = st->test_chunk_sync_hook;
		void *hook_arg = st->test_chunk_sync_arg;
		if (round == 0)
			pthread_mutex_unlock(&st->lock);
		int rc = hook ? hook(hook_arg) : 0;
		if (rc == 0)
			rc = chunk_sync(st);
		atomic_fetch_add(&st->chunk_syncs, 1);
		if (round == 0)
			pthread_mutex_lock(&st->lock);
		if (rc)
			return rc;
		if (began > st->chunks_durable_below)
			st->chunks_durable_below = began;
	}
	return 0;
}

uint64_t store_chunk_ticket(enrp_store *st)
{
	return atomic_load(&st->chunk_epoch);
}

int txn_needs_chunks(enrp_txn *t, uint64_t ticket)
{
	enrp_store *st = t->st;
	if (!(st->flags & ENRP_STORE_GROUP_COMMIT) || !st->group) {
		atomic_fetch_add(&st->chunk_syncs, 1);
		return chunk_sync(st); /* committed on its own: sync now */
	}
	if (ticket > st->group_chunk_ticket)
		st->group_chunk_ticket = ticket;
	return 0;
}

/* Begins a group (st->lock held); a failure is left for the writers that
 * wait (begin_err: transient, group_err: the daemon must stop). */
static void group_begin(enrp_store *st)
{
	int rc = ensure_map_room(st);
	if (rc == 0)
		rc = reserve_headroom(st);
	if (rc) {
		st->begin_err = rc;
		st->begin_wanted = false;
		pthread_cond_broadcast(&st->cond);
		return;
	}
	/* Let a waiting enrpctl writer through before taking LMDB's writer
	 * mutex again, so it cannot starve under load. */
	while (flock(st->intent_fd, LOCK_EX) < 0 && errno == EINTR)
		;
	while (flock(st->group_fd, LOCK_EX) < 0 && errno == EINTR)
		;
	rc = begin_txn(st, NULL, 0, &st->group);
	if (rc)
		flock(st->group_fd, LOCK_UN);
	flock(st->intent_fd, LOCK_UN);
	if (rc) {
		st->group = NULL;
		st->group_err = rc;
		enrp_log(ENRP_LOG_ERR, "cannot begin metadata transaction: %s", strerror(-rc));
	} else {
		st->group_born = st->group_touched = mono_ns();
		st->group_ops = 0;
		st->group_pages = 0;
		st->group_budget = group_budget(st);
	}
	st->begin_wanted = false;
	pthread_cond_broadcast(&st->cond);
}

/* Commits the open group (st->lock held).  Its hooks go to the reclaimer
 * once the commit is durable: a hook acts on the spool file of an inode its
 * group sealed or freed, inode numbers are never reused, and an unseal of
 * that inode waits for the hook (store_hook_wait).  A failed commit loses
 * the group, so the store refuses all further writes rather than
 * acknowledging changes it might not keep. */
static void group_commit(enrp_store *st)
{
	while (st->nghooks && st->hq_len == HOOK_BATCHES_MAX)
		pthread_cond_wait(&st->cond, &st->lock); /* the reclaimer is behind */
	unsigned ops = st->group_ops;
	int rc = group_chunks_durable(st);
	struct store_hook *hooks = st->ghooks;
	size_t nhooks = st->nghooks;
	st->ghooks = NULL;
	st->nghooks = st->ghooks_cap = 0;
	if (rc == 0) {
		rc = store_mdb_err(mdb_txn_commit(st->group));
	} else {
		enrp_log(ENRP_LOG_ERR, "cannot make the chunk files of this group durable: %s",
		         strerror(-rc));
		mdb_txn_abort(st->group);
	}
	st->group = NULL;
	st->group_chunk_ticket = 0;
	/* Written (or lost, and the store refuses writes): either way no EIR
	 * has changes waiting for the open group any more. */
	st->ngtouched = 0;
	st->gtouched_all = false;
	flock(st->group_fd, LOCK_UN);
	if (rc == 0)
		st->written++;
	if (rc == 0 && ops) {
		/* The data pages are flushed and the meta page written
		 * (MDB_NOMETASYNC): flush it with st->lock released and the next
		 * group open, so that reads and writes go on during the flush
		 * instead of waiting for it (it was half of every commit).  Only
		 * after a group that wrote: an idle daemon holds no group (and
		 * LMDB's writer lock) longer than GROUP_IDLE_NS. */
		if (!st->stopping && !writer_waiting(st))
			group_begin(st);
		pthread_cond_broadcast(&st->cond); /* writers that wait for the new group */
		void (*hook)(void *) = st->test_meta_sync_hook;
		void *hook_arg = st->test_meta_sync_arg;
		pthread_mutex_unlock(&st->lock);
		if (hook)
			hook(hook_arg);
		int src = mdb_env_sync(st->env, 1);
		pthread_mutex_lock(&st->lock);
		rc = store_mdb_err(src);
	}
	if (rc) {
		enrp_log(ENRP_LOG_ERR, "group commit failed: %s; refusing further writes",
		         strerror(-rc));
		st->group_err = rc == -ENOSPC ? -ENOSPC : -EIO;
		if (st->group) { /* begun before the flush failed: nothing in it counts */
			mdb_txn_abort(st->group);
			st->group = NULL;
			flock(st->group_fd, LOCK_UN);
		}
	} else {
		st->committed = st->written;
		if (nhooks) {
			st->hq[(st->hq_head + st->hq_len) % HOOK_BATCHES_MAX] =
				(struct hook_batch){ st->committed, hooks, nhooks };
			st->hq_len++;
			hooks = NULL;
			pthread_cond_signal(&st->hq_cond);
		}
	}
	free(hooks);
	pthread_cond_broadcast(&st->cond);
}

/* Runs the hooks of durable commits in their order, unlocked: they may
 * read the store (the journal's syslog mirror does). */
static void *reclaimer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-reclaim");
	enrp_store *st = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&st->lock);
	for (;;) {
		while (!st->hq_len && !st->reclaimer_stopping)
			pthread_cond_wait(&st->hq_cond, &st->lock);
		if (!st->hq_len)
			break;
		/* The committer fills only the slots past the queue's end. */
		struct hook_batch *b = &st->hq[st->hq_head];
		pthread_mutex_unlock(&st->lock);
		run_hooks(st, b->hooks, b->n);
		pthread_mutex_lock(&st->lock);
		st->hooks_ran = b->commit;
		free(b->hooks);
		st->hq_head = (st->hq_head + 1) % HOOK_BATCHES_MAX;
		st->hq_len--;
		pthread_cond_broadcast(&st->cond);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* Lets the reclaimer run what is queued, then ends it. */
static void reclaimer_stop(enrp_store *st)
{
	if (!st->reclaimer_started)
		return;
	pthread_mutex_lock(&st->lock);
	st->reclaimer_stopping = true;
	pthread_cond_signal(&st->hq_cond);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->reclaimer, NULL);
	st->reclaimer_started = false;
}

static void *committer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-commit");
	enrp_store *st = arg;
	/* Signals are the program's: a SIGINT taken here would never wake the
	 * thread that waits for it (fuse_session_loop_mt's main thread). */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&st->lock);
	for (;;) {
		int64_t now = mono_ns();
		if (st->group) {
			bool due = st->sync_wanted > st->committed || st->stopping ||
			           st->group_ops >= GROUP_MAX_OPS ||
			           now - st->group_born >= GROUP_MAX_AGE_NS ||
			           now - st->group_touched >= GROUP_IDLE_NS || writer_waiting(st);
			if (due)
				group_commit(st);
		}
		if (st->stopping && !st->group)
			break;
		if (!st->group && st->begin_wanted && !st->group_err) {
			group_begin(st);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += GROUP_TICK_NS;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!st->group && !st->begin_wanted && !st->stopping)
			pthread_cond_wait(&st->cond, &st->lock);
		else
			pthread_cond_timedwait(&st->cond, &st->lock, &ts);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

void enrp_store_close(enrp_store *st)
{
	if (!st)
		return;
	if (st->committer_started) {
		pthread_mutex_lock(&st->lock);
		st->stopping = true;
		pthread_cond_broadcast(&st->cond);
		pthread_mutex_unlock(&st->lock);
		pthread_join(st->committer, NULL);
	}
	reclaimer_stop(st);
	if (st->rtxn)
		mdb_txn_abort(st->rtxn);
	free(st->ghooks);
	free(st->gtouched);
	free(st->inode_changes);
	spool_pool_free(st->pool);
	chunk_pins_free(st->pins);
	chunk_unsynced_free(st->unsynced);
	mdb_env_close(st->env);
	if (st->spool_dirfd >= 0)
		close(st->spool_dirfd);
	if (st->chunks_dirfd >= 0)
		close(st->chunks_dirfd);
	if (st->intent_fd >= 0)
		close(st->intent_fd);
	if (st->group_fd >= 0)
		close(st->group_fd);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->room_lock);
	pthread_cond_destroy(&st->cond);
	pthread_cond_destroy(&st->hq_cond);
	free(st->path);
	free(st->spool_path);
	free(st);
}
