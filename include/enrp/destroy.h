/*
 * destroy.h — the end of an EIR's life (DESIGN §4 "destroyed", §9; issue 11
 * item 5): guaranteed destruction of a retired EIR whose retention, lock
 * and holds have all expired.
 *
 * What goes: the EIR's wrapped data key first and then its key share
 * (crypto-shredding, encrypted stores; keys.h "Key shares"), then its chunk files, spool files, snapshots, trash, holds,
 * test-restore records, settings, namespace (inodes, names, xattrs, chunk
 * lists), chunk index, usage and seal-queue entries.  What stays: the
 * registry entry (state "destroyed", its registration form) and the
 * journal, plus the destruction record this module keeps (the "destroy"
 * setting of the EIR) and journals as "eir-destroyed".
 *
 * Crash safety.  The first transaction checks every blocker, sets the state
 * to destroyed, deletes the wrapped key and writes the record marked
 * unfinished, all at once: after it the EIR is gone for every reader
 * (policy answers ENOENT, no key can be unwrapped nor made again), before
 * it nothing changed.  Everything after is idempotent removal of what a
 * destroyed EIR leaves; a crash there leaves the record unfinished, and
 * enrp_destroy_resume() (called by every enrpfs start and by a rerun of
 * enrpctl eir destroy) finishes it.  The record is marked finished and
 * "eir-destroyed" journalled in the last transaction.
 *
 * Approval.  The caller passes the approver: enrpctl the person who
 * approved its "eir-destroy" request (approval.h, four eyes).
 */
#ifndef ENRP_DESTROY_H
#define ENRP_DESTROY_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>

/* What still keeps an EIR from being destroyed at a given time.  A field
 * of 0 blocks nothing; dates are platform-clock ns since the epoch. */
struct enrp_destroy_blockers {
	bool not_retired;          /* state is not retired (STATE says which) */
	enum enrp_state state;
	uint64_t busy_files;       /* open or pending files (not yet sealed) */
	uint64_t retained_files;   /* live files and trash copies within files=DAYS */
	int64_t retained_until;    /* the last of their ends */
	uint64_t locked_files;     /* live files and trash copies within the lock */
	int64_t locked_until;
	uint64_t kept_snapshots;   /* snapshots taken less than files=DAYS ago */
	int64_t snapshots_until;
	uint64_t holds;            /* unexpired holds (files and snapshots) */
	int64_t holds_until;
};

#define ENRP_DESTROY_ACTOR_MAX 127

/* A destruction record: what went, how, when, who asked and who approved. */
struct enrp_destruction {
	uint32_t eir_id;
	char eir[ENRP_EIR_NAME_MAX + 1];
	bool finished;            /* false: removal under way (or interrupted) */
	int64_t started;          /* platform clock: the key shredded, state destroyed */
	int64_t finished_at;      /* 0 until finished */
	uint64_t files;           /* regular files it held (live) */
	uint64_t bytes;           /* their logical bytes (the quota's count) */
	uint64_t inodes;          /* live inodes */
	uint64_t chunks;          /* chunks in its index */
	uint64_t stored;          /* bytes of its chunk files */
	uint64_t snapshots, trash, holds;
	uint64_t chunk_files_deleted; /* chunk files removed from disk */
	uint64_t spool_files_deleted;
	bool encrypted;           /* the store is encrypted */
	bool shredded;            /* a wrapped data key existed and was deleted */
	bool share_destroyed;     /* its key share (beside the master key file) was
	                             destroyed: old copies of the store are useless */
	char requested_by[ENRP_DESTROY_ACTOR_MAX + 1]; /* "uid=0 login=1000 sudo=alice ..." */
	char approved_by[ENRP_DESTROY_ACTOR_MAX + 1];
	char reason[ENRP_REASON_MAX + 1];
};

/* What blocks destroying EIR NAME at NOW (platform clock).  0 and *B all
 * zero: nothing blocks; -EBUSY with *B filled; -ENOENT no such EIR;
 * -EALREADY destroyed already. */
int enrp_destroy_check(enrp_store *st, const char *name, int64_t now,
                       struct enrp_destroy_blockers *b);

/* Destroys EIR NAME at NOW (the platform clock) for REASON (non-empty), as
 * asked by REQUESTER and approved by APPROVER (see "Approval").  Checks
 * again inside its first transaction: -EBUSY with *B (may be NULL) filled
 * when something blocks; -ENOENT no such EIR; -EINVAL empty or too long
 * reason; -EALREADY destroyed and finished.  An EIR destroyed but not
 * finished is finished (0).  OUT (may be NULL) gets the record.  -ENOSPC,
 * -EIO, or -errno of a file removal (the record stays unfinished; run again). */
int enrp_eir_destroy(enrp_store *st, const char *name, int64_t now, const char *reason,
                     const struct enrp_actor *requester, const struct enrp_actor *approver,
                     struct enrp_destroy_blockers *b, struct enrp_destruction *out);

/* The two halves of enrp_eir_destroy, for a caller that has something to
 * do between them (enrpctl tells the running enrpfs to forget the key as
 * soon as it is gone): begin is step 1, durable when it returns 0 with
 * *EIR_ID set (also when it found the EIR destroyed but unfinished); finish
 * is steps 2-4, with ACTOR journalled.  Same errors. */
int enrp_destroy_begin(enrp_store *st, const char *name, int64_t now, const char *reason,
                       const struct enrp_actor *requester, const struct enrp_actor *approver,
                       struct enrp_destroy_blockers *b, uint32_t *eir_id);
int enrp_destroy_finish(enrp_store *st, uint32_t eir_id, const struct enrp_actor *actor,
                        struct enrp_destruction *out);

/* Finishes every destruction a crash interrupted (enrpfs calls it at start);
 * *DONE (may be NULL) gets how many it finished.  ACTOR journals them. */
int enrp_destroy_resume(enrp_store *st, const struct enrp_actor *actor, unsigned *done);

/* The destruction record of EIR ID: -ENOENT when it has none. */
int enrp_destroy_record(enrp_store *st, uint32_t eir_id, struct enrp_destruction *out);

/* "uid=N login=N sudo=USER pid=N cmd=COMMAND" of A into BUF. */
void enrp_destroy_actor_text(const struct enrp_actor *a, char *buf, size_t size);

#endif
