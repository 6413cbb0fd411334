/*
 * store_int.h — what core modules see of the store: the LMDB transaction
 * inside an enrp_txn, the named databases, and error translation.
 * Never installed; fs/ and tools/ cannot include it.
 */
#ifndef ENRP_STORE_INT_H
#define ENRP_STORE_INT_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include <enrp/store.h>

/* The named databases.  Keys and values are built in record.c. */
#define DBI_FIRST_FORMAT4 DBI_POLICY
enum store_dbi {
	DBI_META,     /* "format", "next_ino", "next_eir", "journal_head" ... */
	DBI_EIR,      /* eir id (be32) -> eir record */
	DBI_EIR_NAME, /* name -> eir id (be32) */
	DBI_USAGE,    /* eir id (be32) -> usage record;
	                 eir id (be32) + 's' -> file-state counts */
	DBI_INODE,    /* ino (be64) -> inode record */
	DBI_DIRENT,   /* parent ino (be64) + name -> child ino (be64) + type */
	DBI_XATTR,    /* ino (be64) + name -> value */
	DBI_ORPHAN,   /* ino (be64) -> "" : unlinked, still referenced */
	DBI_SPOOL,    /* ino (be64) -> "" or its DBI_QUEUE key: bytes in a spool file */
	DBI_JOURNAL,  /* seq (be64) -> journal record */
	DBI_QUEUE,    /* class (u8) + queued_at (be64) + ino (be64) -> "" : files to seal */
	DBI_CHUNK,    /* eir id (be32) + digest -> chunk record (refcount, sizes) */
	DBI_EXTENT,   /* ino (be64) -> chunk list of a sealed file */
	DBI_KEYS,     /* eir id (be32) -> data key wrapped by the master key */
	/* Format 4 (issue 9: snapshots, retention, holds, test restores).
	 * Stores of older formats get them, empty, at their next open. */
	DBI_POLICY,   /* eir id (be32) + setting name -> value (retention, lock, rpo...) */
	DBI_HOLD,     /* eir id (be32) + kind (u8) + id (be64) -> hold record */
	DBI_RESTORE,  /* eir id (be32) + seq (be64) -> test-restore plan or record */
	DBI_CALENDAR, /* "holiday" + yyyy-mm-dd -> note: the platform's calendar */
	DBI_TRASH,    /* eir id (be32) + trash id (be64) -> a deleted or overwritten
	                 verified copy: its inode record and chunk list */
	DBI_SNAPSHOT, /* eir id (be32) + snapshot gen (be64) -> snapshot record;
	                 eir id (be32) + 'n' + name -> gen (be64) */
	DBI_PRESERVED,/* what a snapshot still sees of a key changed after it:
	                 kind + key + snapshot gen -> the old value, or a tombstone */
	/* Format 5 (issue 9 item 9: rewrites at chunk granularity). */
	DBI_BASE,     /* ino (be64) + 'L' -> limit (be64): a spool file rewriting a
	                 sealed one, whose chunk list stays as its base;
	                 ino (be64) + 'C' + index (be32) -> "": base chunk INDEX is
	                 in the spool file now */
	DBI_COUNT
};

/* A hook run after the transaction that registered it is durable (files to
 * unlink only once no metadata can point at them again).  Dropped if the
 * transaction aborts. */
typedef void store_hook_fn(enrp_store *st, uint64_t arg);

struct store_hook {
	store_hook_fn *fn;
	uint64_t arg;
	bool once;   /* txn_on_durable_once: one per commit, the highest ARG */
};

#define TXN_TOUCHED_MAX 4

struct enrp_txn {
	enrp_store *st;
	MDB_txn *txn;
	bool write;
	int ret;                 /* sticky first error (knot-style) */
	bool map_full;           /* the error was LMDB's map (not the disk) being full */
	uint64_t pages;          /* worst-case pages this txn's changes may dirty */
	struct store_hook *hooks; /* registered by this txn, owned */
	size_t nhooks, hooks_cap;
	uint32_t touched[TXN_TOUCHED_MAX]; /* EIRs whose files this txn changed */
	unsigned ntouched;       /* > TXN_TOUCHED_MAX: too many to list, "all" */
};

MDB_dbi store_dbi(const enrp_txn *t, enum store_dbi which);
/* txn_get and txn_cursor on a database of a newer format that an older store
 * opened read-only lacks return -ENOENT (an empty database) and leave the
 * transaction usable: callers of DBI_FIRST_FORMAT4 and later treat -ENOENT
 * from txn_cursor as "nothing there". */

/* The one translation of LMDB errors (STYLE rule 11). */
int store_mdb_err(int rc);

/* Thin wrappers that translate errors and keep the sticky t->ret: after a
 * failure every later call returns that error and does nothing. */
int txn_get(enrp_txn *t, enum store_dbi db, const void *key, size_t klen, MDB_val *val);
int txn_put(enrp_txn *t, enum store_dbi db, const void *key, size_t klen,
            const void *val, size_t vlen, unsigned flags);
int txn_del(enrp_txn *t, enum store_dbi db, const void *key, size_t klen);
int txn_cursor(enrp_txn *t, enum store_dbi db, MDB_cursor **out);

/* Calls FN for every record of DB whose key starts with PREFIX (PLEN
 * bytes), in key order; a non-zero return from FN stops and is returned.
 * A database the store lacks (an older format, read-only) has none. */
typedef int txn_prefix_fn(const MDB_val *key, const MDB_val *val, void *arg);
int txn_prefix_each(enrp_txn *t, enum store_dbi db, const void *prefix, size_t plen,
                    txn_prefix_fn *fn, void *arg);

/* Next value of the counter KEY in DBI_META (starting at START), persisted. */
int txn_next_id(enrp_txn *t, const char *key, uint64_t start, uint64_t *out);

/* Registers a post-durability hook (see store_hook_fn).  Hooks run in the
 * order registered, after the commit, with no store lock held (they may
 * read the store): in the daemon, by the reclaimer thread, while the next
 * groups are applied and committed; a sync does not wait for them. */
int txn_on_durable(enrp_txn *t, store_hook_fn *fn, uint64_t arg);

/* The same, but FN runs once per commit, whatever number of transactions
 * of a group registered it, with the highest ARG registered (the journal's
 * mirror: one send of everything up to the last record, not one each). */
int txn_on_durable_once(enrp_txn *t, store_hook_fn *fn, uint64_t arg);
/* Waits until a hook FN(ARG) registered by a committed transaction has
 * run: commits its group if that is still open, then waits for the
 * reclaimer to run it.  At once when none is pending.  0 or the store's
 * error. */
int store_hook_wait(enrp_store *st, store_hook_fn *fn, uint64_t arg);

/* Like enrp_store_read(), but never through the daemon's open group: the
 * view holds only committed, hence durable, data. */
int store_read_committed(enrp_store *st, enrp_txn_fn *fn, void *arg);

/* Chunk files written before this call are made durable by the commit of
 * any transaction that calls txn_needs_chunks with the returned ticket. */
uint64_t store_chunk_ticket(enrp_store *st);
/* The transaction points at chunk files written before TICKET was taken:
 * in the daemon's group, the committer makes them durable (one chunk sync
 * for the whole group) before the commit; otherwise they are synced now. */
int txn_needs_chunks(enrp_txn *t, uint64_t ticket);

/* Whether the store was opened ENRP_STORE_GROUP_COMMIT (the daemon). */
bool store_group_commit(const enrp_store *st);

/* This write changes INO other than by setting its size through a write or
 * a truncate (its record, its base, its names...).  An fsync of INO may
 * skip the commit only once such changes are durable (enrp_ns_sync_plan).
 * Only the daemon's group keeps count; for any other store every write is
 * durable on its return. */
void txn_inode_changed(enrp_txn *t, uint64_t ino);
/* Whether every change of INO that txn_inode_changed noted is durable (a
 * read or write transaction of the daemon: st->lock held). */
bool txn_inode_change_durable(enrp_txn *t, uint64_t ino);

/* This transaction changes the files of EIR_ID (an inode, a name, a seal):
 * until it is durable, enrp_store_sync_eir(EIR_ID) commits the group. */
void txn_touch_eir(enrp_txn *t, uint32_t eir_id);

/* What the mount-time recovery of this open did, beyond what
 * enrp_ns_recover returns, for the recovery record (lifecycle.c). */
enum store_recovered {
	STORE_RECOVERED_REWRITES,   /* rewritten files whose spool a crash lost, made again */
	STORE_RECOVERED_REQUEUED,   /* spool files never queued, queued at start */
	STORE_RECOVERED_CHUNK_TMP,  /* temporary chunk files of a dead writer removed */
	STORE_RECOVERED_SIZES,      /* sizes taken from spool files fsync'd alone */
	STORE_RECOVERED_COUNT
};
void store_recovered_add(enrp_store *st, enum store_recovered what, uint64_t n);
uint64_t store_recovered(const enrp_store *st, enum store_recovered what);

/* Directory paths inside the store (borrowed, valid until close). */
const char *store_spool_dir(const enrp_store *st);
int store_spool_dirfd(const enrp_store *st);
int store_chunks_dirfd(const enrp_store *st);
/* The largest file size the spool directory's filesystem takes, as
 * spool.c found it (0 until it has looked). */
uint64_t store_spool_size_max(const enrp_store *st);
void store_set_spool_size_max(enrp_store *st, uint64_t size);
/* The daemon's pool of emptied spool files (spool.c), or NULL. */
struct spool_pool *store_spool_pool(const enrp_store *st);
/* The table of chunks that seals have pinned against GC (chunk.c). */
struct chunk_pins *store_chunk_pins(const enrp_store *st);
/* A chunk's last reference went (counted even if its transaction aborts:
 * only a hint for when to collect). */
void store_note_unreferenced(enrp_store *st);
struct chunk_pins *chunk_pins_new(void);
void chunk_pins_free(struct chunk_pins *p);
/* The chunk files written and not yet synced (chunk.c). */
struct chunk_unsynced *store_chunk_unsynced(const enrp_store *st);
struct chunk_unsynced *chunk_unsynced_new(void);
void chunk_unsynced_free(struct chunk_unsynced *u);

#endif
