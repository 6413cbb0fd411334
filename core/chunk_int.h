/*
 * chunk_int.h — chunk files (STORE/chunks/<eir>/ab/cd/<digest>) and the
 * per-EIR chunk index, for the seal pipeline, the reader and the namespace.
 */
#ifndef ENRP_CHUNK_INT_H
#define ENRP_CHUNK_INT_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/codec.h>

#include "record_int.h"
#include "store_int.h"

/* Writes FRAME as chunk DIGEST of EIR, replacing a file of that name (which
 * nothing vouches for: callers write only chunks the index lacks or that
 * failed their check).  The file is complete when visible (tmp + rename) but
 * not durable until chunk_sync().  Sets *WRITTEN.  -errno. */
int chunk_write(enrp_store *st, uint32_t eir_id, const uint8_t digest[32], const void *frame,
                size_t n, bool *written);

/* Removes the temporary chunk files (STORE/chunks/EIR/tmp/PID.N) of writers
 * that died before renaming them, counting them in *REMOVED: called by the
 * daemon at start, before its workers write.  -errno of the first failure;
 * the sweep goes on past it. */
int chunk_tmp_sweep(enrp_store *st, unsigned *removed);

/* Makes every chunk this process wrote so far durable: their files and
 * directory entries (and those of the directories made for them) when they
 * are few, else one syncfs(2) of the chunk filesystem (see chunk.c). */
int chunk_sync(enrp_store *st);
/* Syncs so far of either kind, and directories synced by the first kind
 * (tests). */
void chunk_sync_counts(enrp_store *st, uint64_t *files, uint64_t *whole, uint64_t *dirs);
/* Runs FN(ARG) in a chunk writer after each directory it makes, before the
 * directory is listed for a sync (tests; set it while no writer runs). */
void chunk_test_made_hook(enrp_store *st, void (*fn)(void *), void *arg);

/* Reads chunk DIGEST of EIR into a new buffer (*BUF, *N; caller frees).
 * -ENOENT missing, -EIO unreadable. */
int chunk_read(enrp_store *st, uint32_t eir_id, const uint8_t digest[32], uint8_t **buf,
               size_t *n);

/* Reads chunk DIGEST of EIR and decodes it into PLAIN (PLAIN_LEN bytes, the
 * length its chunk list records), verifying it first: GCM tag or zstd
 * checksum, the recorded length, and with CHECK_NAME that its bytes hash to
 * DIGEST (always done for plain chunks, whose frames are not bound to their
 * name).  -EBADMSG damaged, -ENOENT missing, -EIO unreadable, -ENOMEM.  On
 * error PLAIN holds nothing to use. */
int chunk_fetch(enrp_store *st, enrp_codec *codec, uint32_t eir_id,
                const struct enrp_eir_key *key, const uint8_t digest[32], uint32_t plain_len,
                uint8_t *plain, bool check_name);

/* Is S exactly N lowercase hex digits (a chunk file's or level's name)? */
bool chunk_hex_name(const char *s, size_t n);
/* Opens directory REL under DFD without following a symlink; NULL, errno. */
DIR *chunk_opendir_at(int dfd, const char *rel);

/* Removes chunk DIGEST of EIR (0 also when it was not there).  Only garbage
 * collection calls it, for a chunk it has doomed (below). */
int chunk_delete(enrp_store *st, uint32_t eir_id, const uint8_t digest[32]);

/* Calls FN for every chunk of EIR that exists in the chunk store, with its
 * stored size, in no particular order, until FN returns non-zero (returned).
 * Temporary files are not chunks.  -errno when the listing fails. */
typedef int chunk_list_fn(const uint8_t digest[32], uint64_t bytes, void *arg);
int chunk_list(enrp_store *st, uint32_t eir_id, chunk_list_fn *fn, void *arg);

/* Pins: a seal pins each chunk before it looks the chunk up in the index,
 * and keeps it pinned until its chunk list is committed or dropped, so that
 * garbage collection never frees a chunk that a seal is deduplicating onto
 * or has just written.  GC dooms a chunk before it checks that no index
 * entry names it, and removes it only while doomed; a doomed chunk cannot
 * be pinned (chunk_pin waits until GC is done with it, after which the seal
 * finds it absent and writes it again), a pinned one cannot be doomed.
 * Pins live in memory: GC and seals run in the same process (the daemon),
 * or GC runs while no daemon does (enrpctl holds the daemon lock). */
int chunk_pin(enrp_store *st, uint32_t eir_id, const uint8_t digest[32]); /* -ENOMEM */
void chunk_unpin(enrp_store *st, uint32_t eir_id, const uint8_t digest[32]);
/* True when DIGEST was not pinned and is now doomed (false on ENOMEM too). */
bool chunk_doom(enrp_store *st, uint32_t eir_id, const uint8_t digest[32]);
void chunk_undoom(enrp_store *st, uint32_t eir_id, const uint8_t digest[32]);

/* Index, inside a transaction. */
int chunk_lookup(enrp_txn *t, uint32_t eir_id, const uint8_t digest[32], struct chunk_rec *out);
/* One more user of the chunk (creating the entry, and counting its stored
 * bytes in the EIR's usage, the first time). */
int chunk_ref(enrp_txn *t, uint32_t eir_id, const uint8_t digest[32], uint32_t stored_len,
              uint32_t plain_len);
/* One user less; at zero the entry goes (the file stays for GC). */
int chunk_unref(enrp_txn *t, uint32_t eir_id, const uint8_t digest[32]);

/* A sealed file's chunk list (caller frees *V). */
int extent_get(enrp_txn *t, uint64_t ino, struct extent_ent **v, size_t *n);
int extent_put(enrp_txn *t, uint32_t eir_id, uint64_t ino, const struct extent_ent *v, size_t n);
/* Drops INO's chunk list and its references. */
int extent_release(enrp_txn *t, uint32_t eir_id, uint64_t ino);

#endif
