/* vault_int.h — what core modules reach of an open vault: its master key,
 * for the blobs other than EIR keys that it wraps (escrow). */
#ifndef ENRP_VAULT_INT_H
#define ENRP_VAULT_INT_H

#include <enrp/keys.h>
#include <enrp/vault.h>

/* The master key of V; NULL for an unencrypted store.  Borrowed. */
const enrp_master *vault_master(const enrp_vault *v);

#endif
