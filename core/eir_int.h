/* eir_int.h — EIR registry calls for use inside a core transaction. */
#ifndef ENRP_EIR_INT_H
#define ENRP_EIR_INT_H

#include <enrp/eir.h>

#include "store_int.h"

/* -ENOENT if no such EIR. */
int eir_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir *out);
int eir_usage_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir_usage *out);
/* Adds signed deltas to the usage counters of EIR ID (clamped at 0). */
int eir_usage_add(enrp_txn *t, uint32_t id, int64_t dbytes, int64_t dfiles);
/* The same for the stored side: chunk bytes and chunk count. */
int eir_usage_add_stored(enrp_txn *t, uint32_t id, int64_t dstored, int64_t dchunks);

#endif
