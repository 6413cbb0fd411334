/* hold_int.h — holds as the namespace and fsck see them (hold.c). */
#ifndef ENRP_HOLD_INT_H
#define ENRP_HOLD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store_int.h"

/* Is regular file INO (of EIR EIR_ID, sealed at SEALED_AT) held at NOW: an
 * unexpired hold, or the EIR's lock?  1 held, 0 not, -errno. */
int hold_active_txn(enrp_txn *t, uint32_t eir_id, uint64_t ino, int64_t sealed_at, int64_t now);

/* Is snapshot GEN of EIR_ID held at NOW?  1, 0 or -errno; *UNTIL (may be
 * NULL) the end of its hold, expired or not. */
int hold_snapshot_active_txn(enrp_txn *t, uint32_t eir_id, uint64_t gen, int64_t now,
                             int64_t *until);

/* The EIR, kind ('f' a file, 's' a snapshot) and id (inode number or
 * snapshot gen) of a DBI_HOLD key, and the end of a DBI_HOLD value: -EIO
 * when they do not parse. */
int hold_key_parse(const void *key, size_t n, uint32_t *eir_id, char *kind, uint64_t *id);
int hold_until_of(const void *value, size_t n, int64_t *until);

#endif
