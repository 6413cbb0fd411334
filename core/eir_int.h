/* eir_int.h — EIR registry calls for use inside a core transaction. */
#ifndef ENRP_EIR_INT_H
#define ENRP_EIR_INT_H

#include <enrp/eir.h>

#include "store_int.h"

/* enrp_eir_create inside T (SPEC checked here too); *E receives the stored
 * record. */
int eir_create_txn(enrp_txn *t, const struct enrp_eir *spec, const struct enrp_actor *actor,
                   struct enrp_eir *e);

/* -ENOENT if no such EIR (or NAME is no valid EIR name). */
int eir_lookup_txn(enrp_txn *t, const char *name, uint32_t *id);
/* Writes the EIR record E as it is (destroy.c's state change). */
int eir_put_txn(enrp_txn *t, const struct enrp_eir *e);
int eir_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir *out);
int eir_get_by_name_txn(enrp_txn *t, const char *name, struct enrp_eir *out);
/* Calls CB for every EIR in name order (destroyed ones included) inside T;
 * a non-zero return from CB stops the walk and is returned. */
int eir_each_txn(enrp_txn *t, int (*cb)(const struct enrp_eir *eir, void *arg), void *arg);
int eir_usage_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir_usage *out);
/* Adds signed deltas to the usage counters of EIR ID (clamped at 0). */
int eir_usage_add(enrp_txn *t, uint32_t id, int64_t dbytes, int64_t dinodes);
/* The same for the stored side: chunk bytes and chunk count. */
int eir_usage_add_stored(enrp_txn *t, uint32_t id, int64_t dstored, int64_t dchunks);

/* File-state counts (struct enrp_eir_files) of EIR ID; -ENOENT when the
 * record does not exist (a store older than them; see enrp_ns_recover). */
int eir_files_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir_files *out);
int eir_files_put(enrp_txn *t, uint32_t id, const struct enrp_eir_files *f);
/* Adds the deltas D (open, pending, verified, corrupt; clamped at 0),
 * raises last_sealed to SEALED_AT and moves tree_gen on.  A missing record
 * is left missing: partial counts would be wrong, a missing record is
 * counted again at mount.  D NULL: only tree_gen moves (a directory
 * changed). */
int eir_files_add(enrp_txn *t, uint32_t id, const int64_t d[4], int64_t sealed_at);
/* The ids of the EIRs that have no file-state record, in a new array (the
 * caller frees it). */
int eir_files_missing(enrp_txn *t, uint32_t **ids, size_t *n);

/* Per-EIR settings that issue 9 and later add (retention, lock, rpo...),
 * kept in DBI_POLICY under (EIR id, NAME) so that each needs no new field in
 * the EIR record.  NAME is a short ASCII word (at most 32 bytes); VALUE is
 * the setting's own encoding.  get: -ENOENT when unset (*VALUE then points
 * into the transaction's pages: copy it before the transaction ends). */
int eir_setting_get(enrp_txn *t, uint32_t id, const char *name, const void **value,
                    size_t *len);
int eir_setting_put(enrp_txn *t, uint32_t id, const char *name, const void *value, size_t len);
/* 0 also when it was not set. */
int eir_setting_del(enrp_txn *t, uint32_t id, const char *name);

#endif
