/*
 * base_int.h — a sealed file being rewritten keeps its chunk list as its
 * base (base.c): the spool file holds only what was written, and the base
 * chunks that a write touched, copied in before it.
 *
 * DBI_BASE holds, per such file, its limit (bytes past it were cut off
 * since: they read as whatever the spool holds, zeros or new bytes) and one
 * key per base chunk the spool file now holds.  The chunk list itself stays
 * in DBI_EXTENT with its references until the file is sealed again or
 * freed.
 */
#ifndef ENRP_BASE_INT_H
#define ENRP_BASE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store_int.h"

/* Whether INO rewrites a base, and its limit.  0 (with *BASED false when
 * not), or -errno. */
int base_get_txn(enrp_txn *t, uint64_t ino, bool *based, uint64_t *limit);

/* INO starts rewriting its chunk list (in DBI_EXTENT) up to LIMIT. */
int base_begin_txn(enrp_txn *t, uint64_t ino, uint64_t limit);

/* INO was cut to SIZE: the base counts only below it.  At 0 the base goes
 * (base_end_txn).  No-op without a base. */
int base_cut_txn(enrp_txn *t, uint32_t eir_id, uint64_t ino, uint64_t size);

/* Base chunk INDEX of INO is in the spool file now. */
int base_mark_txn(enrp_txn *t, uint64_t ino, uint32_t index);

/* Whether base chunk INDEX of INO is in the spool file. */
int base_marked_txn(enrp_txn *t, uint64_t ino, uint32_t index, bool *marked);

/* The lowest and highest base chunks of INO in the spool file (*FOUND
 * false: none). */
int base_marks_txn(enrp_txn *t, uint64_t ino, bool *found, uint32_t *first, uint32_t *last);

/* INO rewrites no base any more (sealed again, or freed): its records go,
 * and with RELEASE its chunk list too (extent_release).  No-op without a
 * base. */
int base_end_txn(enrp_txn *t, uint32_t eir_id, uint64_t ino, bool release);

/* Deletes every base record of INO, whatever they are (fsck's repair). */
int base_drop_txn(enrp_txn *t, uint64_t ino);

/* Mount-time recovery (enrp_ns_recover).  The unseal that begins a rewrite
 * does not wait for its new spool file to be durable, so a crash may keep
 * the commit and lose the file: each such file is made again, empty and of
 * the inode's size, and its marks go, so that it reads as its base (the
 * bytes from before the rewrite; what was written and not fsync'd since is
 * what a crash may take).  *RESTORED counts them. */
int base_recover_spools(enrp_store *st, uint64_t *restored);

#endif
