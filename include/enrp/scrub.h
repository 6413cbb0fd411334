/*
 * scrub.h — re-read every chunk and every sealed file of a store (or one
 * EIR) and report damage (DESIGN §5).
 *
 * Every chunk a file uses is read, authenticated (GCM tag or zstd checksum)
 * and re-named (SHA-256 or HMAC of its bytes must equal its name); every
 * sealed file's SHA-256 is recomputed from its chunks and compared with the
 * checksum sealed with it.  Damaged files are marked corrupt; each finding
 * and a summary are journalled.  Safe while enrpfs serves the store.
 */
#ifndef ENRP_SCRUB_H
#define ENRP_SCRUB_H

#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>
#include <enrp/vault.h>

struct enrp_scrub_result {
	uint64_t files;          /* sealed files checked */
	uint64_t files_damaged;  /* whose checksum could not be reproduced */
	uint64_t chunks;         /* chunks checked */
	uint64_t chunks_damaged; /* missing, unreadable, or failing their check */
	uint64_t bytes;          /* plain bytes of the files checked */
};

/* Called after each file with the work done so far and the total files. */
typedef void enrp_scrub_progress_fn(const struct enrp_scrub_result *sofar, uint64_t total_files,
                                    void *arg);

/* Scrubs EIR (NULL: every EIR).  Returns 0 when the scrub ran (damage or
 * not: see OUT), -ENOENT for an unknown EIR, -errno when it could not run. */
int enrp_scrub(enrp_store *st, enrp_vault *vault, const char *eir,
               const struct enrp_actor *actor, enrp_scrub_progress_fn *progress, void *arg,
               struct enrp_scrub_result *out);

#endif
