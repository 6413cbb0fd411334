/*
 * prune.h — applying each EIR's retention policy (DESIGN §6; issue 9,
 * item 5): live files and trash entries whose files=DAYS have passed since
 * they were sealed, and snapshots its keep-* rules do not select.  Time is the platform's
 * clock (enrp/clock.h: a clock set backwards prunes nothing early);
 * periods are the platform calendar's zone.  Held snapshots and held or
 * locked copies are never pruned: they are reported and skipped, and so is
 * a snapshot mounted for a test restore (rundir.h), reported as mounted.
 */
#ifndef ENRP_PRUNE_H
#define ENRP_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/snapshot.h>
#include <enrp/store.h>

enum enrp_prune_kind {
	ENRP_PRUNE_SNAPSHOT, /* WHAT: its name */
	ENRP_PRUNE_TRASH,    /* WHAT: its path; ID: the trash entry */
	ENRP_PRUNE_FILE,     /* WHAT: its path in the EIR; ID: its inode */
};

struct enrp_prune_item {
	char eir[ENRP_EIR_NAME_MAX + 1];
	enum enrp_prune_kind kind;
	char what[1100];
	uint64_t id;
	int64_t at;          /* created (snapshot) or sealed (file, trash), platform clock */
	bool held;           /* would go, but is held or locked: stays */
	bool mounted;        /* would go, but is mounted for a test restore: stays
	                      * this time (a snapshot; never also held) */
};

struct enrp_prune_result {
	uint64_t files;      /* live files removed (or to remove) */
	uint64_t snapshots;  /* deleted (or, dry run, to delete) */
	uint64_t trash;      /* purged (or to purge) */
	uint64_t trash_bytes;/* their logical bytes (gc frees what no one else uses) */
	uint64_t held;       /* skipped: held or locked */
	uint64_t mounted;    /* skipped: mounted for a test restore */
	uint32_t eirs;       /* EIRs with a policy */
	/* How far the run is, for progress: */
	uint32_t eirs_done;      /* EIRs looked at so far ... */
	uint32_t eirs_total;     /* ... of these */
	uint64_t snapshots_seen; /* snapshots weighed against the keep-* rules */
	uint64_t trash_seen;     /* trash entries found past files=DAYS */
};

typedef void enrp_prune_fn(const struct enrp_prune_item *item, void *arg);
typedef void enrp_prune_progress_fn(const struct enrp_prune_result *sofar, void *arg);

/* Removes one live file past files=DAYS: enrp_ns_expire's arguments (never
 * a dry run), its result.  The running daemon must do it, since it knows
 * what the kernel holds and must tell it the name is gone. */
typedef int enrp_prune_expire_fn(uint64_t parent, const char *name, uint64_t ino,
                                 int64_t sealed_before, void *arg);

struct enrp_prune_opts {
	bool dry_run;               /* change nothing; report what would go */
	enrp_prune_fn *cb;          /* told each item; may be NULL */
	/* Called with the counts so far after each file, snapshot, trash entry
	 * and EIR (often: a caller that draws shows the latest now and then);
	 * may be NULL. */
	enrp_prune_progress_fn *progress;
	void *arg;                  /* CB's and PROGRESS's */
	/* NULL: enrp_ns_expire here, then enrp_ns_forget, which is right only
	 * while no enrpfs serves the store (the caller keeps one out). */
	enrp_prune_expire_fn *expire;
	void *expire_arg;
};

/* Prunes EIR (NULL: every EIR with a policy): live files sealed more than
 * files=DAYS ago are removed (their copies do not go to trash), snapshots
 * the keep-* rules do not select are deleted, and trash entries past
 * files=DAYS are purged.  Each EIR that lost something, or kept it only for
 * a hold, a lock or a mount, gets a "prune" journal record with its counts:
 * files= removed, snapshots= deleted, kept= snapshots staying (for a rule,
 * a hold or a mount), trash= purged, trash_bytes= their bytes, held=,
 * mounted= (and the snapshot-delete and trash-purge records of what went).
 * -ENOENT no such EIR. */
int enrp_prune(enrp_store *st, const char *eir, const struct enrp_prune_opts *opts,
               const struct enrp_actor *actor, struct enrp_prune_result *out);

#endif
