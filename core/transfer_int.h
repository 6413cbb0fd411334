/* transfer_int.h — the transaction-level calls other core modules make into
 * transfer.c. */
#ifndef ENRP_TRANSFER_INT_H
#define ENRP_TRANSFER_INT_H

#include <stdint.h>

#include "store_int.h"

/* Records that a file of EIR ID was verified at SEALED_NS (the platform
 * clock): the seal's own transaction calls it (ingest.c). */
int transfer_seal_txn(enrp_txn *t, uint32_t eir_id, int64_t sealed_ns);

/* The EIR's schedule changed (form.c): slots are owed from now on. */
int transfer_schedule_set_txn(enrp_txn *t, uint32_t eir_id);

#endif
