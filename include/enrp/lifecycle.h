/*
 * lifecycle.h — the daemon's own life in the audit journal: mount,
 * unmount, the start after a crash and what its recovery did, and the use
 * of an encrypted store's key file (DESIGN §7, issue 10 item 1).
 *
 * A crash is told from a clean stop by a mark in the store: a mount sets
 * it, in the transaction of its "mount" record, and a clean unmount clears
 * it in the transaction of its "unmount" record.  A mount that finds it set
 * writes "recovery" (the daemon before it never unmounted) ahead of its own
 * "mount".  An enrpctl fsck or any other offline tool leaves it alone.
 *
 * Records (details keys; every path is absolute):
 *   recovery     previous_pid, previous_since (the crashed daemon's pid and
 *                mount time), orphans_freed, spools_removed,
 *                rewrites_restored (rewritten files whose spool file the
 *                crash lost, made again from their base), requeued (files
 *                written but never queued, queued now), chunk_tmp_removed
 *                (temporary chunk files of the dead writer), pending
 *                (files still to be sealed, resumed now)
 *   mount        store, mountpoint, options (the -o options as given), pid
 *   keyfile-use  path (the master key file read), store, pid
 *   unmount      store, mountpoint, pid, clean=yes
 * Each names the daemon as the actor (its uid, pid, login uid and sudo
 * user: who started it).
 *
 * Thread-safety: call from the daemon's main thread.
 */
#ifndef ENRP_LIFECYCLE_H
#define ENRP_LIFECYCLE_H

#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>

/* What the mount-time recovery found and did (enrp_ns_recover and the
 * ingest restart). */
struct enrp_recovery {
	uint64_t orphans_freed;     /* inodes unlinked but still open at the crash */
	uint64_t spools_removed;    /* spool files no inode referenced any more */
	uint64_t pending;           /* files queued for sealing (resumed now) */
};

/* Journals the mount of STORE at MOUNTPOINT by ACTOR, with OPTIONS (the
 * options as given, may be NULL), preceded by "recovery" with R when the
 * store's previous daemon did not unmount cleanly, and "keyfile-use" when
 * KEYFILE (NULL: none) was read.  Marks the store mounted.  -ENOSPC, -EIO. */
int enrp_lifecycle_mount(enrp_store *st, const struct enrp_actor *actor, const char *store,
                         const char *mountpoint, const char *options, const char *keyfile,
                         const struct enrp_recovery *r);

/* Journals a clean unmount and clears the mark.  -ENOSPC, -EIO. */
int enrp_lifecycle_unmount(enrp_store *st, const struct enrp_actor *actor, const char *store,
                           const char *mountpoint);

#endif
