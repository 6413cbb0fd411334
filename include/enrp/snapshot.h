/*
 * snapshot.h — snapshots of an EIR (DESIGN §6; issue 9, item 1).
 *
 * A snapshot freezes the EIR's tree of verified files at one instant.
 * Creating one writes a few records, whatever the size of the tree; from
 * then on each change of a directory entry, inode, chunk list or xattr of
 * the EIR first keeps the old value for the snapshot (once per snapshot and
 * key), so a snapshot costs metadata in proportion to what changes after it,
 * as in ZFS, and no copy of any data: a kept chunk list holds references to
 * the chunks, which garbage collection then leaves alone.
 *
 * What a snapshot holds: every file that was verified at that instant, with
 * its bytes, checksum, attributes and xattrs, and every directory, symlink
 * and special file.  A file still being written or waiting to be sealed at
 * that instant is not in it (its bytes are not yet the platform's):
 * create reports how many there were, and `--wait` waits for them first.
 * Snapshots are immutable: nothing changes what one shows.
 */
#ifndef ENRP_SNAPSHOT_H
#define ENRP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/ns.h>
#include <enrp/store.h>

#define ENRP_SNAPSHOT_NAME_MAX 63

/* The source (fsname) of a snapshot mount in /proc/mounts is this prefix
 * and EIR@NAME (enrpfs -o snapshot=). */
#define ENRP_SNAPMOUNT_FSNAME_PREFIX "enrp-snapshot:"

struct enrp_snapshot {
	char eir[ENRP_EIR_NAME_MAX + 1];
	char name[ENRP_SNAPSHOT_NAME_MAX + 1];
	uint64_t gen;          /* store-wide, increasing: the order of creation */
	int64_t created;       /* platform clock, ns */
	char by[96];           /* "uid=N COMMAND" */
	uint64_t not_included; /* files pending or being written at that instant */
	uint64_t files;        /* verified files it holds */
	uint64_t bytes;        /* their size */
	uint64_t tree_gen;     /* the EIR's tree generation then (changes since: differs) */
};

/* Names: 1-63 of [A-Za-z0-9._:-], starting with a letter or digit; "latest"
 * is reserved (EIR@latest means "a snapshot of this moment"). */
bool enrp_snapshot_name_valid(const char *name);

/* Creates snapshot NAME (NULL: the creation time, 2026-12-01T23:00:00Z) of
 * EIR.  -ENOENT no such EIR, -EEXIST the name is taken, -EINVAL a bad
 * name, -EROFS a retired EIR.  Journalled as snapshot-create. */
int enrp_snapshot_create(enrp_store *st, const char *eir, const char *name,
                         const struct enrp_actor *actor, struct enrp_snapshot *out);

int enrp_snapshot_get(enrp_store *st, const char *eir, const char *name,
                      struct enrp_snapshot *out);

/* Calls CB for each snapshot of EIR (NULL: all), oldest first. */
int enrp_snapshot_list(enrp_store *st, const char *eir,
                       int (*cb)(const struct enrp_snapshot *s, void *arg), void *arg);

/* Deletes snapshot NAME of EIR: what only it kept goes (chunks then to
 * garbage collection).  -ENOENT; -EPERM held; -EBUSY mounted (a snapshot
 * mount of it is running: enrp_rundir_snapshot_delete_lock says where).
 * Journalled as snapshot-delete with what was released. */
int enrp_snapshot_delete(enrp_store *st, const char *eir, const char *name,
                         const struct enrp_actor *actor);

/* Is snapshot NAME of EIR held now (enrp/hold.h)?  -ENOENT. */
int enrp_snapshot_held(enrp_store *st, const char *eir, const char *name, bool *held);

/* Is snapshot NAME of EIR mounted now (a snapshot mount holds its lock in
 * run/, rundir.h)?  WHERE (SIZE bytes; may be NULL) gets the mount point
 * of the last mount of it, "" when not recorded.  The test takes the lock
 * for an instant, as a delete would: a mount starting in that instant is
 * refused, so it is for reports (prune --dry-run), not for polling.
 * -ENOENT no such EIR or snapshot. */
int enrp_snapshot_mounted(enrp_store *st, const char *eir, const char *name, char *where,
                          size_t size, bool *mounted);

/* Active mode (DESIGN §4): takes a snapshot ("auto-<time>") of every
 * active EIR whose tree changed since its latest snapshot, once that one
 * is at least the EIR's rpo old at NOW (an EIR with verified files and no
 * snapshot yet: at once); none while nothing changes.  The daemon calls it
 * every few seconds.  *TAKEN counts the snapshots taken. */
int enrp_snapshot_auto(enrp_store *st, int64_t now, const struct enrp_actor *actor,
                       unsigned *taken);

/* The tree of a snapshot: like enrp_ns_lookup, _getattr and _readdir on
 * the EIR as it was.  Regular files that were not verified then are absent.
 * Inode numbers are those of the live tree (the same file in both has the
 * same number). */
int enrp_snapshot_lookup(enrp_store *st, const struct enrp_snapshot *s, uint64_t parent,
                         const char *name, struct enrp_stat *out);
int enrp_snapshot_getattr(enrp_store *st, const struct enrp_snapshot *s, uint64_t ino,
                          struct enrp_stat *out);
int enrp_snapshot_readdir(enrp_store *st, const struct enrp_snapshot *s, uint64_t dir,
                          int (*cb)(const struct enrp_dirent *ent, void *arg), void *arg);
int enrp_snapshot_readlink(enrp_store *st, const struct enrp_snapshot *s, uint64_t ino,
                           char *buf, size_t size);

/* Extended attributes (user.*) of INO as snapshot S shows them, with
 * enrp_ns_getxattr's and enrp_ns_listxattr's conventions (SIZE 0 asks for
 * the size; -ERANGE, -ENODATA); -ENOENT INO is not in S. */
int enrp_snapshot_getxattr(enrp_store *st, const struct enrp_snapshot *s, uint64_t ino,
                           const char *name, void *buf, size_t size, size_t *len);
int enrp_snapshot_listxattr(enrp_store *st, const struct enrp_snapshot *s, uint64_t ino,
                            char *buf, size_t size, size_t *len);

#endif
