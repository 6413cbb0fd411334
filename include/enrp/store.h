/*
 * store.h — the store: a directory holding an LMDB environment (meta/),
 * spool files (spool/), chunk files (chunks/) and the daemon's run/ dir.
 *
 * All metadata access goes through enrp_store_read() and enrp_store_write(),
 * which run a callback inside a transaction.  Callbacks receive an opaque
 * enrp_txn that only core modules can use (core/store_int.h).
 *
 * Two commit disciplines, chosen at open:
 *   - default (enrpctl): every enrp_store_write() is its own transaction,
 *     durable when it returns.
 *   - ENRP_STORE_GROUP_COMMIT (enrpfs): writes are applied atomically and
 *     visible at once to this process, and made durable together by a group
 *     commit at most one second later, or at once by enrp_store_sync().
 *     See the top comment of core/store.c for what each kind of crash loses.
 *
 * Thread-safety: an enrp_store may be used from any number of threads.
 */
#ifndef ENRP_STORE_H
#define ENRP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/trust.h>

/* On-disk format this binary writes; it opens every older one, and the
 * first writer marks an older store with this number (store.c), so older
 * binaries refuse it.  2: inode and EIR records gained a field each.  3:
 * seal queue keys name the EIR and chunk lists may hold runs of zeros; the
 * daemon rewrites older queue keys when it starts (core/ingest.c).  4: the
 * databases of snapshots, retention, holds and test restores (created empty
 * in an older store when it is first opened).  5: a spool file may rewrite a
 * sealed file whose chunk list stays as its base (core/base.c), which an
 * older binary would read as holes. */
#define ENRP_STORE_FORMAT 5

typedef struct enrp_store enrp_store;
typedef struct enrp_txn enrp_txn;

enum enrp_store_open_flags {
	ENRP_STORE_RDONLY       = 1 << 0, /* never writes (enrpctl show/list) */
	ENRP_STORE_GROUP_COMMIT = 1 << 1, /* the daemon's batched durability */
};

/* A unit of work run inside a transaction.  It must have no side effects
 * outside the transaction: it may be run twice (after the map has grown), and
 * its changes vanish if it returns an error. */
typedef int enrp_txn_fn(enrp_txn *txn, void *arg);

/* A store belongs to root alone (DESIGN §2): the store directory and its
 * meta/, spool/, chunks/ and run/ are real directories owned by root that
 * nobody else may use (no group or other permission bits), meta/'s LMDB
 * files are root's and nobody else may write them, and every directory on
 * the way to the store is root's alone in the sense of trust.h (a sticky
 * directory such as /tmp is accepted when the entry taken from it is root's).
 *
 * enrp_store_check says whether the store at PATH is so: 0; -EPERM with *P
 * naming what is not (and the command that fixes it); -ENOENT when PATH does
 * not exist or holds no meta/ (no store: open says so); the -errno of walking
 * the path.  Other missing parts are not its concern either (open reports
 * them).  Changes nothing. */
int enrp_store_check(const char *path, struct enrp_trust_problem *p);

/* Creates a new, empty store at PATH (mode 0700).  PATH must not exist, or be
 * an empty directory owned by root (which becomes 0700), and the directories
 * leading to it must be root's alone.  -EPERM with *P filled when they are
 * not, or when PATH is owned by someone else; -EEXIST if PATH holds anything
 * or is not a directory; -errno of mkdir/LMDB.  Nothing is changed on
 * -EPERM or -EEXIST. */
int enrp_store_create_checked(const char *path, struct enrp_trust_problem *p);

/* enrp_store_create_checked, logging the problem of an -EPERM. */
int enrp_store_create(const char *path);

/* Opens the store at PATH.  -ENOENT: no such directory; -ENOTDIR: not a
 * directory; -EMEDIUMTYPE: not an enrp store (no meta/, or no enrp metadata
 * in it; nothing is logged: enrp_strerror says it); -EPROTONOSUPPORT: a store
 * of a format this binary does not understand (the reason, with both format
 * numbers, is logged at ENRP_LOG_ERR as "cannot open store 'PATH': ...", so
 * the caller adds only what to do); -EPERM: not root's alone (see
 * enrp_store_check; the reason is logged); -EACCES; -EIO.  Caller closes
 * with enrp_store_close(). */
int enrp_store_open(const char *path, unsigned flags, enrp_store **out);

/* Commits pending group work durably, then releases everything.  NULL is a
 * no-op. */
void enrp_store_close(enrp_store *st);

/* The store directory as given to open.  Borrowed; valid until close. */
const char *enrp_store_path(const enrp_store *st);

/* Runs FN in a read view that sees every write this process has made.
 * Returns FN's result, or -EIO/-ENOMEM if no transaction could be begun. */
int enrp_store_read(enrp_store *st, enrp_txn_fn *fn, void *arg);

/* enrp_store_read() for one batch of a long walk (status lists, large
 * directories): it first lets the threads already waiting for the store go,
 * for up to 2 ms, so a walk of many batches never holds other EIRs'
 * operations up for longer than one batch, and gives up the CPU after it. */
int enrp_store_read_bulk(enrp_store *st, enrp_txn_fn *fn, void *arg);

/* Runs FN in a write transaction; FN's changes apply all or nothing.
 * Returns FN's result; -ENOSPC when the map cannot grow further or the disk
 * is full; -EROFS for a store opened ENRP_STORE_RDONLY. */
int enrp_store_write(enrp_store *st, enrp_txn_fn *fn, void *arg);

/* Makes every write that returned before this call durable (a no-op without
 * ENRP_STORE_GROUP_COMMIT), and waits for what its commit freed (spool files)
 * to be gone.  -EIO/-ENOSPC if the commit failed. */
int enrp_store_sync(enrp_store *st);

/* The commit alone, in two halves, so that it runs while the caller flushes
 * something else (a file's fsync: its spool bytes): ask for it, then wait
 * for the commit number the asking returned.  What it freed is removed
 * later, by another thread. */
uint64_t enrp_store_sync_ask(enrp_store *st);
int enrp_store_sync_wait(enrp_store *st, uint64_t commit);

/* Makes durable every write that returned before this call and changed a
 * file of EIR ID (core changes an EIR's files only through its inodes, and
 * marks every such transaction) — committing the group at once if it holds
 * any, returning at once if not, so one EIR's readers never force commits
 * for another's writers.  Call it after reading a state and before showing
 * it as `verified` (enrp.state, SHA256SUMS, .enrp/status, .enrp/pending):
 * whatever the daemon reads goes through its uncommitted group, and a
 * `verified` shown before its seal, or the names that reach the file, are
 * durable could vanish in a crash.  A no-op without ENRP_STORE_GROUP_COMMIT
 * (every write is durable when it returns).  -EIO/-ENOSPC if the commit
 * failed. */
int enrp_store_sync_eir(enrp_store *st, uint32_t id);

/* Commits the pending group if it is older than the group interval (1 s) or
 * idle; the daemon's flusher thread calls it periodically. */
int enrp_store_flush_due(enrp_store *st);

/* Room on the store's disk for LEN more bytes of client data: -ENOSPC when
 * writing them would eat into the reserve kept for what must go on when the
 * disk is full (metadata commits — rm included —, seals, recovery at
 * mount): 1/32 of the filesystem, at least 1 MiB, at most 256 MiB.
 * Thread-safe; reads the filesystem's free space at most every 100 ms, and
 * at once when it is close to the reserve. */
int enrp_store_data_room(enrp_store *st, uint64_t len);

/* Format version found on disk (for `enrpctl status`). */
unsigned enrp_store_format(const enrp_store *st);

/* How many times, since this process opened ST, a chunk lost its last
 * reference: the daemon collects garbage when it has grown. */
uint64_t enrp_store_unreferenced(const enrp_store *st);

#ifdef ENRP_INTERNAL
/* Number of group commits done so far (tests of the durability design). */
uint64_t enrp_store_commit_count(enrp_store *st);
/* Number of chunk syncs run so far: by the committer before a group
 * commit, or at once for a transaction outside a group. */
uint64_t enrp_store_chunk_sync_count(const enrp_store *st);
/* FN(ARG) runs inside each of the committer's chunk syncs, before the sync
 * itself, with the store unlocked (tests of a seal applied meanwhile); an
 * error it returns stands for a failed sync.  NULL removes it. */
void enrp_store_test_chunk_sync_hook(enrp_store *st, int (*fn)(void *), void *arg);
/* FN(ARG) runs in the committer's flush of each commit's meta page, before
 * the flush itself, with the store unlocked (tests of what goes on during
 * it).  NULL removes it. */
void enrp_store_test_meta_sync_hook(enrp_store *st, void (*fn)(void *), void *arg);
/* Makes every enrp_store_write fail with ERR (< 0) until called with 0,
 * as a full disk would (tests of what retries). */
void enrp_store_test_fail_writes(enrp_store *st, int err);
/* FN(ARG, BUDGET, PAGES) runs (store locked) before each operation is
 * applied to the open group, whose page budget is BUDGET and which holds
 * PAGES: the pages it returns count as other writers' work added to the
 * group meanwhile.  NULL removes it. */
void enrp_store_test_crowd_hook(enrp_store *st,
                                uint64_t (*fn)(void *arg, uint64_t budget, uint64_t pages),
                                void *arg);
#endif

#endif
