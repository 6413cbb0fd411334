/*
 * loss.h — verified data that clients remove, replace or truncate, in the
 * audit journal (issue 10 item 1).
 *
 * A verified file's copy goes to trash when it is lost (trash.h), and
 * trash-add counts what went there; these records say who lost what and
 * where, at the moment it happened:
 *   file-removed    the last name of a verified file was unlinked
 *   file-replaced   a rename put another file over it, or it was opened to
 *                   be written in place (how=rename or how=rewrite)
 *   file-truncated  it was cut (truncate, O_TRUNC, an overwrite with >)
 * A hard link with names left loses nothing and is not recorded.
 *
 * Aggregation: a tree removed by rm -rf must give one record, not one per
 * file.  Losses are counted in memory per (EIR, event); a record is written
 * once its burst has been quiet for ENRP_LOSS_QUIET_NS, or has gone on for
 * ENRP_LOSS_SPAN_NS, and at unmount.  It holds count, bytes (the total size
 * lost), the first file's path, size and sha256, the paths of the next ones
 * up to ENRP_LOSS_PATHS in all (path2, path3, ... as far as the details
 * hold them; listed says how many), and names the first caller as its
 * actor, with others=yes when other processes took part.  Every file's
 * size and sha256 stays in `enrpctl trash list`.
 *
 * Thread-safe.
 */
#ifndef ENRP_LOSS_H
#define ENRP_LOSS_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/ns.h>
#include <enrp/store.h>

enum enrp_loss_kind {
	ENRP_LOSS_REMOVED,
	ENRP_LOSS_REPLACED,
	ENRP_LOSS_TRUNCATED,
	ENRP_LOSS_KIND_COUNT
};

#define ENRP_LOSS_PATHS 10
#define ENRP_LOSS_QUIET_NS (1500LL * 1000000)
#define ENRP_LOSS_SPAN_NS (30LL * 1000000000)

/* "file-removed", "file-replaced", "file-truncated". */
const char *enrp_loss_event(enum enrp_loss_kind kind);

typedef struct enrp_losses enrp_losses;

int enrp_losses_new(enrp_store *st, enrp_losses **out);
void enrp_losses_free(enrp_losses *l); /* writes nothing; NULL is a no-op */

/* What a note of KIND in EIR_ID would still keep: ENRP_LOSS_WANT_ACTOR for
 * the first of a record (its caller), ENRP_LOSS_WANT_PATH while fewer than
 * ENRP_LOSS_PATHS paths are kept.  Finding either costs a read of /proc or
 * of the store, so the caller finds only what is wanted. */
enum enrp_losses_want {
	ENRP_LOSS_WANT_ACTOR = 1 << 0,
	ENRP_LOSS_WANT_PATH = 1 << 1,
};
unsigned enrp_losses_want(enrp_losses *l, uint32_t eir_id, enum enrp_loss_kind kind);

/* Counts the loss of VICTIM (a verified regular file, as it was before)
 * by process PID; WHO and PATH (relative to the EIR) as wanted, else NULL.
 * HOW ("rename", "rewrite"; NULL) is kept from the first. */
void enrp_losses_note(enrp_losses *l, enum enrp_loss_kind kind, const struct enrp_stat *victim,
                      uint32_t pid, const struct enrp_actor *who, const char *path,
                      const char *how);

/* Writes the records that are due at NOW (all of them with ALL: unmount),
 * naming DAEMON when a record's caller is unknown.  The counts of a record
 * that could not be written are kept for the next flush.  -ENOSPC, -EIO. */
int enrp_losses_flush(enrp_losses *l, const struct enrp_actor *daemon, int64_t now, bool all);

#endif
