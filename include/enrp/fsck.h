/*
 * fsck.h — metadata consistency check and repair of a store (DESIGN §8,
 * `enrpctl fsck [--repair]`).
 *
 * The check reads the whole metadata in one read transaction (a consistent
 * view) and compares it with itself and with the spool and chunk files:
 *
 *   - every dirent names an existing inode of its directory's EIR;
 *     directory parent pointers and link counts match the dirents;
 *   - every inode with nlink > 0 is reachable from the root, every inode
 *     with nlink 0 is listed as an orphan;
 *   - DBI_SPOOL entries, inodes whose content is a spool file, and the
 *     files in STORE/spool/ agree; the seal queue, the spool index and the
 *     inodes' QUEUED flags agree;
 *   - every sealed file has a chunk list whose lengths sum to its size;
 *     chunk reference counts equal the references from chunk lists; every
 *     referenced chunk file exists; chunk files nothing references are
 *     counted (informational: garbage collection removes them);
 *   - each EIR's usage counters and file-state counts (struct
 *     enrp_eir_files) equal the recomputed sums;
 *   - the audit journal's hash chain is intact.
 *
 * With ENRP_FSCK_REPAIR it fixes what is safe to fix (usage and file-state counters,
 * chunk reference counts and index entries, link counts and parent
 * pointers, dangling dirents and index entries, stray spool and chunk
 * files, the seal queue, orphans) and never removes a reachable file or
 * anything a sealed file references.  Repair needs the store to itself: it
 * refuses with -EBUSY while an enrpfs serves it.  A check while enrpfs
 * serves the store is allowed but may report transient findings (files
 * being written are not queued yet, chunks of a seal in progress are not
 * referenced yet, spool files of files being created or unsealed).
 *
 * Thread-safety: one call at a time per store handle is enough.
 */
#ifndef ENRP_FSCK_H
#define ENRP_FSCK_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>

enum enrp_fsck_severity {
	ENRP_FSCK_INFO,    /* expected state (orphans, unreferenced chunks): exit 0 */
	ENRP_FSCK_PROBLEM, /* an inconsistency */
};

/* One finding, as passed to the callback.  All strings are NUL-terminated. */
struct enrp_fsck_finding {
	const char *kind;      /* static, e.g. "dangling-dirent" (see enrpctl(8)) */
	enum enrp_fsck_severity severity;
	char object[128];      /* what it is about: "inode 42", "spool/000000000000002a" */
	char message[256];     /* what is wrong */
	bool repaired;         /* ENRP_FSCK_REPAIR fixed it */
	bool after_repair;     /* found by the re-check after a repair: remains */
};

typedef void enrp_fsck_report_fn(const struct enrp_fsck_finding *f, void *arg);

struct enrp_fsck_result {
	uint64_t inodes, dirents, chunks, chunk_files, spool_files; /* checked */
	uint64_t holds;                                            /* checked */
	uint64_t trash;                                            /* entries checked */
	uint64_t problems;     /* findings of severity PROBLEM (first pass) */
	uint64_t infos;        /* informational findings (first pass) */
	uint64_t unreferenced_chunks; /* of which: chunk files nothing references */
	uint64_t repaired;     /* findings fixed by ENRP_FSCK_REPAIR */
	uint64_t remaining;    /* problems left: after a repair, the re-check's */
};

enum enrp_fsck_flags {
	ENRP_FSCK_REPAIR = 1 << 0,
};

/* Checks ST (and with ENRP_FSCK_REPAIR repairs it), calling REPORT (may be
 * NULL) for every finding.  Returns 0 when the check ran (findings or not:
 * see OUT), -EBUSY for a repair while enrpfs serves the store, -EROFS for a
 * repair of a store opened read-only, -ENOMEM, or -errno of the store. */
int enrp_fsck(enrp_store *st, unsigned flags, const struct enrp_actor *actor,
              enrp_fsck_report_fn *report, void *arg, struct enrp_fsck_result *out);

#endif
