/*
 * trash.h — verified copies that clients deleted or overwrote (DESIGN §6;
 * issue 9, item 6).
 *
 * When the namespace would drop the chunk list of a verified file (its last
 * name removed, a rename over it, a truncation or a rewrite of its bytes),
 * the list moves into a trash entry instead, with the chunk references it
 * holds, in the same transaction: the bytes stay stored and recoverable by
 * operators.  Files that are not verified (open, pending, corrupt) are not
 * trashed: the platform never vouched for them.
 *
 * Trash is the platform's, not the owner's: nothing in a mount shows or
 * reaches it, its bytes are not charged to the EIR's quota (they are counted
 * as stored), and only enrpctl (root) lists, restores or purges it.  Without
 * a lock (`eir set --lock`) it is what an owner's stolen credentials cannot
 * destroy.  Entries expire when the EIR's retention `files=DAYS` has passed
 * since the copy was sealed; removing expired entries is prune's job.
 */
#ifndef ENRP_TRASH_H
#define ENRP_TRASH_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/journal.h>
#include <enrp/ns.h>
#include <enrp/store.h>

/* Why a copy went to trash. */
enum enrp_trash_why {
	ENRP_TRASH_DELETED,      /* its last name was removed */
	ENRP_TRASH_RENAMED_OVER, /* a rename replaced its last name */
	ENRP_TRASH_TRUNCATED,    /* opened with O_TRUNC or truncated to 0 (cp, "> file") */
	ENRP_TRASH_OVERWRITTEN,  /* opened for writing: rewritten in place */
	ENRP_TRASH_WHY_COUNT
};
/* "deleted", "renamed-over", "truncated", "overwritten"; "?" out of range. */
const char *enrp_trash_why_name(enum enrp_trash_why why);

#define ENRP_TRASH_PATH_MAX 4096

struct enrp_trash_entry {
	char eir[ENRP_EIR_NAME_MAX + 1];
	uint64_t id;                     /* unique in the store, never reused */
	uint64_t ino;                    /* the inode the copy had */
	uint64_t parent;                 /* directory of its last name; 0: not known */
	char name[ENRP_NAME_MAX + 1];    /* its last name; "" when not known (rewrites) */
	/* Relative to the EIR, derived when listed: the last name's path while
	 * its directory is still linked, or for a rewrite the path the inode
	 * has now; "" when neither can be told. */
	char path[ENRP_TRASH_PATH_MAX + 1];
	uint64_t size;
	uint8_t sha256[32];
	int64_t sealed_at;               /* platform clock, ns */
	int64_t trashed_at;              /* when it went, ns */
	int64_t expires;                 /* sealed_at + files=DAYS; 0 without retention */
	int64_t mtime;
	uint32_t mode, uid, gid;
	enum enrp_trash_why why;
	uint64_t chunks;                 /* chunk references it holds */
};

/* Calls CB for each trash entry of EIR in id order (oldest first), inside
 * one read transaction: CB must not call into the store.  -ENOENT no such
 * EIR; CB's non-zero return stops the walk and is returned. */
int enrp_trash_list(enrp_store *st, const char *eir,
                    int (*cb)(const struct enrp_trash_entry *e, void *arg), void *arg);

/* Re-creates trash entry ID of EIR as a verified file with the chunk list
 * and checksum it had (the references move back; no data is copied) at its
 * old name, or at TO (relative to the EIR) when TO is not NULL, and drops
 * the entry, all in one transaction; journalled as trash-restore.  No
 * directory is created.  The file counts against the EIR's usage again, but
 * a quota never refuses an operator's restore.  OUT (may be NULL) gets the
 * entry.  -ESRCH no such entry, -ENOENT no such EIR or the directory is
 * gone, -EDESTADDRREQ its name is not known (a rewrite: give TO), -EEXIST
 * something has that name (nothing is ever overwritten), -ENOTDIR,
 * -EINVAL a bad TO, -ENAMETOOLONG, -EROFS the EIR is retired. */
int enrp_trash_restore(enrp_store *st, const char *eir, uint64_t id, const char *to,
                       const struct enrp_actor *actor, struct enrp_trash_entry *out);

struct enrp_trash_purged {
	uint64_t entries, bytes; /* purged: count and file bytes */
	uint64_t kept;           /* refused: held or under the EIR's lock */
};

/* Drops trash entry ID of EIR (ID 0: every entry of EIR), releasing its
 * chunk references so that GC frees what nothing else uses; journalled as
 * trash-purge with the counts.  A copy that is held or still under the
 * EIR's lock (counted from its seal) is never purged: -EPERM for ID, and
 * counted in OUT->kept for all.  -ESRCH no such entry, -ENOENT no such
 * EIR. */
int enrp_trash_purge(enrp_store *st, const char *eir, uint64_t id,
                     const struct enrp_actor *actor, struct enrp_trash_purged *out);

/* Journals what went to trash since the last call: one trash-add record per
 * EIR with counts, byte total and the id range, so an rm -rf of 10,000
 * files is one line.  The daemon calls it every second or so; restore and
 * purge do it first in their own transaction.  *RECORDS (may be NULL): how
 * many records were written. */
int enrp_trash_journal(enrp_store *st, const struct enrp_actor *actor, unsigned *records);

#endif
