/* hold_int.h — holds as the namespace and fsck see them (hold.c). */
#ifndef ENRP_HOLD_INT_H
#define ENRP_HOLD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store_int.h"

/* Is regular file INO (of EIR EIR_ID, sealed at SEALED_AT) held at NOW: an
 * unexpired hold, or the EIR's lock?  1 held, 0 not, -errno. */
int hold_active_txn(enrp_txn *t, uint32_t eir_id, uint64_t ino, int64_t sealed_at, int64_t now);

/* The EIR and inode of a DBI_HOLD key, and the end of a DBI_HOLD value:
 * -EIO when they do not parse. */
int hold_key_parse(const void *key, size_t n, uint32_t *eir_id, uint64_t *ino);
int hold_until_of(const void *value, size_t n, int64_t *until);

#endif
