/*
 * vault.h — encryption at rest for a store (DESIGN §9): whether the store is
 * encrypted, its master key file, and the per-EIR data keys it wraps.
 *
 * The master key file lives outside the store; the store keeps only a check
 * value (so a wrong key is refused, never used to write garbage), the key
 * file's path (the default for enrpfs and enrpctl), and each EIR's data key
 * wrapped by the master key.
 */
#ifndef ENRP_VAULT_H
#define ENRP_VAULT_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/codec.h>
#include <enrp/store.h>

typedef struct enrp_vault enrp_vault;

/* Makes a new, still empty store encrypted with the key in KEYFILE, which is
 * created (32 random bytes, mode 0400) when it does not exist.  KEYFILE must
 * be outside the store.  -EEXIST: the store already has EIRs or a key;
 * -EINVAL: KEYFILE inside the store; the errors of enrp_master_load. */
int enrp_vault_init(enrp_store *st, const char *keyfile);

/* Whether ST is encrypted, and the key file path recorded at init (copied
 * into PATH, size PATHSZ; "" when not encrypted). */
int enrp_vault_info(enrp_store *st, bool *encrypted, char *path, size_t pathsz);

/* Opens the keys of ST: for an encrypted store, loads KEYFILE (or, when
 * NULL, the recorded path) and checks it against the store.
 * -ENOKEY: encrypted and no key file given or recorded; -EKEYREJECTED: the
 * key file holds another key; -EPERM: the key file is readable by others;
 * -ENOENT: no such key file.  An unencrypted store gives a vault whose EIR
 * keys are NULL.  Caller frees with enrp_vault_close(). */
int enrp_vault_open(enrp_store *st, const char *keyfile, enrp_vault **out);
void enrp_vault_close(enrp_vault *v);

bool enrp_vault_encrypted(const enrp_vault *v);

/* The key material of EIR ID (created and wrapped on first use), or *OUT =
 * NULL for an unencrypted store.  Borrowed: valid until enrp_vault_close.
 * Thread-safe. */
int enrp_vault_eir_key(enrp_vault *v, uint32_t eir_id, const struct enrp_eir_key **out);

/* Wipes the cached key material of EIR ID from memory (a destroyed EIR,
 * destroy.h); a later enrp_vault_eir_key for it reads the store again, and
 * fails with -EKEYREVOKED once the EIR is destroyed.  Thread-safe. */
void enrp_vault_forget(enrp_vault *v, uint32_t eir_id);

#endif
