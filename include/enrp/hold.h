/*
 * hold.h — holds and the write-once lock (DESIGN §6; issue 9, items 7-8).
 *
 * A held file cannot be removed, truncated, overwritten or renamed over, in
 * any mode, by anyone, root included: each such operation fails with EPERM
 * (a mode that refuses changes anyway says EROFS first).  Its metadata
 * (mode, owner, times, xattrs) and its name may still change, and new hard
 * links may be made; its bytes and its existence may not.
 *
 * A file is held while an explicit hold on it has not expired (`enrpctl
 * hold add EIR/PATH --until DATE --reason TEXT`: long-term storage, an
 * investigation), or while its EIR's lock has not run out since the file
 * was sealed (`eir set --lock DAYS`, object lock's default retention: what
 * an owner's stolen credentials cannot destroy).  Only verified files can
 * be held explicitly: their bytes are the ones the platform vouches for.
 * A hold can be extended, never shortened or released before it expires;
 * a lock can be lengthened, never shortened (a release approved by two
 * administrators comes with the governance work).  Times are the
 * platform's clock; a hold ends at UNTIL.
 */
#ifndef ENRP_HOLD_H
#define ENRP_HOLD_H

#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>

#define ENRP_HOLD_REASON_MAX 255
#define ENRP_HOLD_PATH_MAX 1024

struct enrp_hold {
	char eir[ENRP_EIR_NAME_MAX + 1];
	uint64_t ino;
	char path[ENRP_HOLD_PATH_MAX + 1];   /* relative to the EIR, as given when held */
	int64_t until;                       /* ns since the epoch */
	int64_t created;                     /* when first added */
	char by[96];                         /* who added it: "uid=N COMMAND" */
	char reason[ENRP_HOLD_REASON_MAX + 1];
	bool linked;                         /* the file still has a name, or the
	                                        snapshot still exists */
	bool snapshot;                       /* a hold on snapshot @PATH (INO: its gen) */
};

/* Holds the verified regular file PATH (relative to EIR, no "." or ".."
 * components, symlinks not followed) until UNTIL, or extends its hold.
 * -ENOENT no such EIR or file, -EINVAL a bad path, reason or UNTIL not in
 * the future, -EISDIR/-EPERM not a regular file, -EAGAIN not verified yet,
 * -EPERM UNTIL earlier than its current hold (holds are never shortened;
 * *CURRENT then tells it).  EXTEND: the file must be held already (-ENOENT
 * otherwise); REASON may then be NULL to keep the first one.  Journalled as
 * hold-add or hold-extend. */
int enrp_hold_add(enrp_store *st, const char *eir, const char *path, int64_t until,
                  const char *reason, bool extend, const struct enrp_actor *actor,
                  int64_t *current);

/* Holds snapshot SNAPSHOT of EIR until UNTIL, or extends its hold, as
 * enrp_hold_add does for a file: until then it cannot be deleted (nor
 * pruned).  -ENOENT no such EIR or snapshot. */
int enrp_hold_add_snapshot(enrp_store *st, const char *eir, const char *snapshot, int64_t until,
                           const char *reason, bool extend, const struct enrp_actor *actor,
                           int64_t *current);

/* Calls CB for each hold of EIR (NULL: all EIRs), expired ones included
 * (they are history), in EIR then inode order. */
int enrp_hold_list(enrp_store *st, const char *eir,
                   int (*cb)(const struct enrp_hold *h, void *arg), void *arg);

/* The lock of EIR in days (0: none). */
int enrp_hold_lock_get(enrp_store *st, const char *eir, uint32_t *days);
/* Sets the lock of EIR to DAYS (at most 36500); -EPERM when DAYS is shorter
 * than the current lock.  Journalled as lock-set. */
int enrp_hold_lock_set(enrp_store *st, const char *eir, uint32_t days,
                       const struct enrp_actor *actor);

#endif
