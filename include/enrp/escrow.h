/*
 * escrow.h — owners' decryption material kept by the platform (DESIGN §9,
 * issue 11 item 6): an owner who encrypts dumps before sending them
 * deposits the key (or passphrase file) they decrypt with, so a restore
 * does not depend on the owner still having it.
 *
 * Each deposit is wrapped by the store's master key (enrp_master_wrap,
 * bound to the label "escrow:EIR-ID:ID", so a blob moved to another slot
 * does not open) and kept in DBI_KEYS under be32(EIR id) + 'e' + be64(id),
 * beside the EIR's own data key: destroying an EIR shreds both.  Only an
 * encrypted store keeps escrow (an unencrypted one has no key to wrap
 * with).  Nothing here ever writes the plaintext to the store.
 *
 * Every access is journalled: escrow-put, escrow-list, escrow-get.  A get
 * needs a request approved by a second person (approval.h): the action
 * "escrow-get" with target "ID", consumed in the get's own transaction.
 */
#ifndef ENRP_ESCROW_H
#define ENRP_ESCROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/approval.h>
#include <enrp/eir.h>
#include <enrp/keys.h>
#include <enrp/store.h>
#include <enrp/vault.h>

#define ENRP_ESCROW_NAME_MAX 127
#define ENRP_ESCROW_REASON_MAX 255

struct enrp_escrow {
	uint64_t id;                       /* store-wide, increasing */
	char eir[ENRP_EIR_NAME_MAX + 1];
	char name[ENRP_ESCROW_NAME_MAX + 1]; /* what the depositor called it */
	char reason[ENRP_ESCROW_REASON_MAX + 1];
	uint64_t size;                     /* plaintext bytes */
	char sha256[65];                   /* of the plaintext, hex */
	int64_t created;                   /* ns since the epoch */
	char by[96];                       /* who deposited it: "uid=N person=NAME" */
};

/* Deposits the N bytes at DATA for EIR under NAME, journalled "escrow-put"
 * (id, name, size, sha256, reason).  -ENOKEY the store is not encrypted;
 * -ENOENT no such EIR; -EINVAL a destroyed EIR, an empty or over-long
 * NAME or REASON, N 0 or above ENRP_ESCROW_MAX; -ENOSPC, -EIO.  *ID gets
 * the deposit's id. */
int enrp_escrow_put(enrp_store *st, enrp_vault *v, const char *eir, const char *name,
                    const void *data, size_t n, const char *reason, int64_t now_ns,
                    const struct enrp_actor *actor, uint64_t *id);

/* Calls CB for every deposit of EIR, oldest first, and journals
 * "escrow-list" (the count).  -ENOENT no such EIR. */
int enrp_escrow_list(enrp_store *st, const char *eir,
                     int (*cb)(const struct enrp_escrow *e, void *arg), void *arg,
                     const struct enrp_actor *actor);

/* Unwraps deposit ID of EIR into *OUT (*N bytes; free with
 * enrp_master_buf_free), consuming ACTOR's approved "escrow-get" request
 * for it (REQUEST gets it), journalled "escrow-get" (id, name, reason,
 * request, approver) in the same transaction.  -ENOKEY not encrypted;
 * -ENOENT no such EIR or deposit; -EACCES no approved request by ACTOR's
 * person (make one with enrp_request_create); -EKEYREJECTED the blob does
 * not open (damaged, or moved); -EINVAL REASON empty or too long. */
int enrp_escrow_get(enrp_store *st, enrp_vault *v, const char *eir, uint64_t id,
                    const char *reason, int64_t now_ns, const struct enrp_actor *actor,
                    uint8_t **out, size_t *n, struct enrp_request *request);

#endif
