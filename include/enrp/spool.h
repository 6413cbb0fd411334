/*
 * spool.h — plain staging files that hold the bytes of regular files while
 * they are written (STORE/spool/<16 hex digits of the inode>).
 *
 * The daemon holds a spool descriptor only while a client handle needs it;
 * nothing is cached per inode.
 */
#ifndef ENRP_SPOOL_H
#define ENRP_SPOOL_H

#include <stdint.h>

#include <enrp/store.h>

/* Opens INO's spool file read-write (creating it with CREATE).  Returns the
 * descriptor, which the caller closes, or -errno. */
int enrp_spool_open(enrp_store *st, uint64_t ino, int create);

/* Makes the bytes of INO's spool file FD and its directory entry durable
 * (fdatasync of the file, and fsync of the spool directory unless a sync of
 * it began after the file was made). */
int enrp_spool_sync(enrp_store *st, uint64_t ino, int fd);

/* enrp_spool_sync for an fsync without a commit (enrp_ns_sync_plan): first
 * notes INO and GEN on the spool file (an extended attribute), then makes
 * the file durable whole, size and note included (fsync).  After a crash,
 * a spool file noted with its inode and a generation at least the one its
 * durable record holds tells that file's size.  0 when synced; 1 when the
 * note could not be written (no extended attributes on the spool
 * filesystem, no space for one): nothing was synced, and the caller
 * commits instead; -errno when the sync failed. */
int enrp_spool_sync_sized(enrp_store *st, uint64_t ino, int fd, uint64_t gen);

/* The generation noted on spool file FD of INO by enrp_spool_sync_sized:
 * 0 and *GEN set, -ENODATA when none is noted for INO (or the spool
 * filesystem keeps no extended attributes), or -errno. */
int enrp_spool_sized_gen(int fd, uint64_t ino, uint64_t *gen);

/* The largest size of a file: what the spool directory's filesystem takes,
 * found once per store (spool.c), at most INT64_MAX.  Extending a file past
 * it (write, truncate, fallocate) is EFBIG, checked before the quota.
 * Thread-safe. */
uint64_t enrp_spool_size_max(enrp_store *st);

#endif
