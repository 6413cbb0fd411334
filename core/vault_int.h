/* vault_int.h — what core modules reach of the vault: key shares (keys.h
 * "Key shares") for destroy.c, and the master key of an open vault for the
 * blobs other than EIR keys that it wraps (escrow). */
#ifndef ENRP_VAULT_INT_H
#define ENRP_VAULT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/keys.h>
#include <enrp/vault.h>

/* "KEYFILE.eirkeys/ID" (DIR: the directory "KEYFILE.eirkeys") into BUF.
 * -ENAMETOOLONG. */
int vault_share_path(const char *keyfile, uint32_t eir_id, char *buf, size_t size, bool dir);

/* Reads EIR_ID's share beside KEYFILE into SHARE; with CREATE, makes it
 * when absent (32 random bytes, mode 0400, durable when this returns; a
 * concurrent maker's share wins).  -ENOENT (absent, no CREATE), -EIO
 * (damaged), -errno. */
int vault_share_get(const char *keyfile, uint32_t eir_id, bool create,
                    uint8_t share[ENRP_EIR_SHARE_LEN]);

/* Overwrites, fsyncs and unlinks EIR_ID's share beside KEYFILE, then
 * fsyncs its directory.  *DESTROYED: a share existed and is gone.  0 also
 * when there was none (a version 1 key, or a rerun). */
int vault_share_destroy(const char *keyfile, uint32_t eir_id, bool *destroyed);

/* The master key of V; NULL for an unencrypted store.  Borrowed. */
const enrp_master *vault_master(const enrp_vault *v);

#endif
