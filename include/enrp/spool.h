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

/* The largest size of a file: what the spool directory's filesystem takes,
 * found once per store (spool.c), at most INT64_MAX.  Extending a file past
 * it (write, truncate, fallocate) is EFBIG, checked before the quota.
 * Thread-safe. */
uint64_t enrp_spool_size_max(enrp_store *st);

#endif
