/* spool_int.h — spool file names and removal, for the namespace. */
#ifndef ENRP_SPOOL_INT_H
#define ENRP_SPOOL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store_int.h"

#define SPOOL_NAME_LEN 16

/* "%016llx" of INO into BUF (SPOOL_NAME_LEN + 1 bytes). */
void spool_name(char *buf, uint64_t ino);
/* Parses a spool file name; false for anything that is not one. */
bool spool_parse_name(const char *name, uint64_t *ino);
/* Parses a pool file name ("p" and 16 hex digits, see spool.c). */
bool spool_parse_pool_name(const char *name, uint64_t *id);
/* store_hook_fn: once its inode durably stopped using it, INO's spool file
 * is emptied into the pool (the daemon) or unlinked. */
void spool_unlink_hook(enrp_store *st, uint64_t ino);
/* Truncates INO's spool file to SIZE, unless it has that size.  Absent, it
 * is made with CREATE, and otherwise there is nothing to cut (0). */
int spool_truncate(enrp_store *st, uint64_t ino, uint64_t size, bool create);

/* The pool of emptied spool files, owned by the store (store_spool_pool;
 * NULL when the store does not recycle).  Thread-safe. */
struct spool_pool *spool_pool_new(void);
void spool_pool_free(struct spool_pool *p);
/* Forgets every pooled name (before enrp_ns_recover lists them again). */
void spool_pool_reset(enrp_store *st);
/* Adds the pool file named after ID; false when there is no pool or it is
 * full (the caller removes the file). */
bool spool_pool_add(enrp_store *st, uint64_t id);
/* Syncs of the spool directory enrp_spool_sync made so far (tests). */
uint64_t spool_dir_syncs(enrp_store *st);

#endif
