/* snapshot_int.h — what the namespace and the chunk index do for snapshots
 * inside their transactions (snapshot.c). */
#ifndef ENRP_SNAPSHOT_INT_H
#define ENRP_SNAPSHOT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/snapshot.h>

#include "store_int.h"

/* Before the value of KEY in DB (DBI_INODE, DBI_DIRENT, DBI_EXTENT or
 * DBI_XATTR; an object of EIR EIR_ID) is put or deleted: if the EIR has a
 * snapshot and KEY has not changed since its latest one, keeps what KEY
 * holds now — or that it did not exist — for that snapshot.  A kept chunk
 * list takes references of its own.  0 or -errno. */
int snap_preserve(enrp_txn *t, uint32_t eir_id, enum store_dbi db, const void *key, size_t klen);

/* The value KEY of DB had in snapshot GEN of EIR_ID: 0 with *VAL (valid
 * until the transaction ends), -ENOENT when it did not exist then. */
int snap_get(enrp_txn *t, uint32_t eir_id, uint64_t gen, enum store_dbi db, const void *key,
             size_t klen, MDB_val *val);

/* Calls CB for each directory entry of DIR as it was in snapshot GEN of
 * EIR_ID, in name order, with the entry's value (DIRENT_VAL_LEN bytes),
 * until CB returns non-zero (returned). */
typedef int snap_dirent_fn(const char *name, size_t len, const void *val, size_t vlen, void *arg);
int snap_dir_scan(enrp_txn *t, uint32_t eir_id, uint64_t gen, uint64_t dir, snap_dirent_fn *cb,
                  void *arg);

/* The chunk list and EIR of regular file INO as snapshot S shows it
 * (caller frees *V): -ENOENT not in it, -EINVAL not a file with bytes. */
struct enrp_snapshot;
struct extent_ent;
int snap_file_extents(enrp_txn *t, const struct enrp_snapshot *s, uint64_t ino, uint32_t *eir_id,
                      struct extent_ent **v, size_t *n);

/* The target of symlink INO as snapshot S shows it. */
int snap_readlink(enrp_txn *t, const struct enrp_snapshot *s, uint64_t ino, char *buf, size_t size);

/* Does snapshot GEN of EIR_ID exist? */
bool snap_exists(enrp_txn *t, uint32_t eir_id, uint64_t gen);

/* The generation of EIR_ID's snapshot NAME (-ENOENT none). */
int snap_gen_of(enrp_txn *t, uint32_t eir_id, const char *name, uint64_t *gen);

/* Snapshot GEN of EIR E into S (-ENOENT none). */
int snap_load(enrp_txn *t, const struct enrp_eir *e, uint64_t gen, struct enrp_snapshot *s);

/* Calls CB for every chunk list kept for snapshots (fsck counts their
 * references), with its EIR. */
int snap_each_extent(enrp_txn *t, int (*cb)(uint32_t eir_id, const void *val, size_t n, void *arg),
                     void *arg);

#endif
