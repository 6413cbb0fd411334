/*
 * ns.h — the namespace: inodes, directory entries, symlinks, xattrs, and the
 * per-EIR usage they add up to.
 *
 * Inode 1 is the root of the mount; its entries are the EIR directories.
 * Inode numbers are never reused.  Every changing call checks the access
 * policy of the inode's EIR in the same transaction as the change, so a mode
 * change is either entirely before or entirely after an operation.
 *
 * Regular files keep their bytes in a spool file (spool.h) while open; the
 * inode records the authoritative size.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef ENRP_NS_H
#define ENRP_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <enrp/policy.h>
#include <enrp/store.h>

#define ENRP_ROOT_INO 1
#define ENRP_NAME_MAX 255
#define ENRP_SYMLINK_MAX 4095

/* Names reserved in every EIR directory (DESIGN §3). */
#define ENRP_SNAPSHOTS_NAME ".snapshots"
#define ENRP_STATUS_DIR_NAME ".enrp"

/* Where a regular file's bytes are. */
enum enrp_content {
	ENRP_CONTENT_NONE,   /* not a regular file */
	ENRP_CONTENT_SPOOL,  /* a plain spool file, being written or not yet sealed */
	ENRP_CONTENT_SEALED, /* an immutable chunk list (issue 3) */
};

/* What is known of a regular file's content (the enrp.state attribute). */
enum enrp_file_state {
	ENRP_FILE_OPEN,     /* in a spool file, not yet queued for sealing */
	ENRP_FILE_PENDING,  /* queued: its checksum is being computed */
	ENRP_FILE_VERIFIED, /* sealed: chunk list and SHA-256 committed */
	ENRP_FILE_CORRUPT,  /* sealed, but a chunk failed its check */
};

/* The mtime (seconds since the epoch, 0 nanoseconds) a corrupt file shows
 * instead of its own, so that rsync's quick check (size and mtime) never
 * takes it for the source file it was sent as and sends it again: its own
 * mtime is the source's.  A file whose own mtime is this shows
 * ENRP_CORRUPT_MTIME + 1.  The stored mtime is kept (and shown again once
 * the file is verified). */
#define ENRP_CORRUPT_MTIME 0

/* "open", "pending", "verified", "corrupt". */
const char *enrp_file_state_name(enum enrp_file_state s);

/* Attributes of one inode. */
struct enrp_stat {
	struct stat st;       /* st_ino, st_mode, st_nlink, st_uid, st_gid, st_rdev,
	                         st_size, st_blocks, st_blksize, st_[amc]tim */
	uint32_t eir_id;      /* 0 for the root of the mount */
	enum enrp_content content;
	enum enrp_file_state state;  /* regular files only */
	uint8_t sha256[32];   /* when state is VERIFIED or CORRUPT */
	int64_t sealed_at;    /* platform clock, ns; 0 when not sealed */
	uint64_t parent;      /* directories: the one containing it (the root's is
	                         the root); 0 for other types */
};

/* True for names a client may not create in an EIR directory. */
bool enrp_ns_reserved(const char *name);

/* -ENOENT (also for reserved names: the caller handles those), -ENOTDIR. */
int enrp_ns_lookup(enrp_store *st, uint64_t parent, const char *name, struct enrp_stat *out);
int enrp_ns_getattr(enrp_store *st, uint64_t ino, struct enrp_stat *out);

/* Checks the policy for OP on INO's EIR for CALLER (data operations on open
 * handles: read, write).  A write or remove check of a held regular file
 * (enrp/hold.h) is refused with -EPERM; unlink, rename over, truncate and
 * writes below check holds themselves. */
int enrp_ns_check(enrp_store *st, const struct enrp_caller *caller, uint64_t ino, enum enrp_op op);

/* What enrp_ns_open_check found beside the file's attributes. */
struct enrp_open_check {
	bool denied;            /* the error is the policy's refusal of DENIED_OP */
	enum enrp_op denied_op;
	bool uncached;          /* handles bypass the page cache (enrp_policy_uncached) */
};

/* An open of INO with FLAGS (O_ACCMODE, O_TRUNC) by CALLER, in one read of
 * the store: *OUT as enrp_ns_getattr fills it, then the read check (O_RDONLY,
 * O_RDWR) and the write check (O_WRONLY, O_RDWR, O_TRUNC) of
 * enrp_ns_check.  An open is the busiest request of a file server: one
 * lock section of the store instead of four. */
int enrp_ns_open_check(enrp_store *st, const struct enrp_caller *caller, uint64_t ino, int flags,
                       struct enrp_stat *out, struct enrp_open_check *oc);

/* Creates a regular file, directory, symlink, fifo, socket or device node.
 * MODE carries the type; RDEV for devices; TARGET only for S_IFLNK.
 * New inodes take the caller's uid, and its gid unless the parent is setgid.
 * Errors: -EPERM at the root of the mount, -EEXIST (also reserved names),
 * -ENAMETOOLONG, -ENOTDIR, -ENOENT (parent gone), the policy's errno, -ENOSPC. */
int enrp_ns_mknod(enrp_store *st, const struct enrp_caller *caller, uint64_t parent,
                  const char *name, mode_t mode, dev_t rdev, const char *target,
                  struct enrp_stat *out);

/* Hard link.  -EXDEV across EIRs, -EPERM for directories and at the root,
 * -EMLINK past 65000 links. */
int enrp_ns_link(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                 uint64_t newparent, const char *newname, struct enrp_stat *out);

/* unlink (DIR false) or rmdir (DIR true).  -ENOTEMPTY, -EISDIR, -ENOTDIR,
 * -EPERM at the root and for EIR directories.  When the last link goes, the
 * inode becomes an orphan: its bytes leave the EIR's usage at once, and it is
 * freed by enrp_ns_forget() once the kernel and all handles let go of it. */
int enrp_ns_unlink(enrp_store *st, const struct enrp_caller *caller, uint64_t parent,
                   const char *name, bool dir);

/* Retention's removal of a live file past files=DAYS (DESIGN §6): removes
 * the entry NAME of directory PARENT if it still names regular file INO,
 * sealed at or before SEALED_BEFORE (platform clock, ns) and not held or
 * locked.  The platform's own act: no access mode applies, and the copy
 * does not go to trash (its files=DAYS have passed); snapshots keep theirs.
 * The last link leaves an orphan, freed by enrp_ns_forget() as after
 * unlink.  With DRY_RUN nothing changes.  -ESTALE the entry no longer names
 * such a file (removed, replaced, rewritten since), -EPERM held or locked,
 * -ENOTDIR, -EIO. */
int enrp_ns_expire(enrp_store *st, uint64_t parent, const char *name, uint64_t ino,
                   int64_t sealed_before, bool dry_run);

/* RENAME_NOREPLACE and RENAME_EXCHANGE as in renameat2(2); other flags
 * -EINVAL.  -EXDEV across EIRs, -EPERM at the root, -EINVAL moving a
 * directory under itself, -EEXIST with NOREPLACE, -ENOTEMPTY, -EISDIR,
 * -ENOTDIR as rename(2). */
int enrp_ns_rename(enrp_store *st, const struct enrp_caller *caller, uint64_t parent,
                   const char *name, uint64_t newparent, const char *newname, unsigned flags);

/* Copies the target (NUL-terminated, cut to SIZE - 1).  -EINVAL if not a symlink. */
int enrp_ns_readlink(enrp_store *st, uint64_t ino, char *buf, size_t size);

/* Fields enrp_ns_setattr changes. */
enum enrp_ns_setattr_flags {
	ENRP_SETATTR_MODE  = 1 << 0,
	ENRP_SETATTR_UID   = 1 << 1,
	ENRP_SETATTR_GID   = 1 << 2,
	ENRP_SETATTR_SIZE  = 1 << 3,
	ENRP_SETATTR_ATIME = 1 << 4,
	ENRP_SETATTR_MTIME = 1 << 5,
	ENRP_SETATTR_ATIME_NOW = 1 << 6,
	ENRP_SETATTR_MTIME_NOW = 1 << 7,
	ENRP_SETATTR_CTIME = 1 << 8,
	/* Not a field: the caller is the writer of INO's current writing
	 * session (it made or emptied the file and has had it open for writing
	 * since), so it may shorten it even in a write-only EIR. */
	ENRP_SETATTR_OWN_SESSION = 1 << 9,
};

/* Applies the fields of ATTR named by FLAGS (permission checks are the
 * kernel's, under default_permissions).  A size change truncates or extends
 * the spool file too.  On an EIR directory, mode, uid and gid belong to the
 * registry: they are accepted and left as they are.  In a write-only EIR a
 * shortening truncate (not to 0) needs ENRP_SETATTR_OWN_SESSION.  -EFBIG
 * (extended past enrp_spool_size_max, checked before the quota), -EDQUOT,
 * -EISDIR (size of a dir), the policy's errno. */
int enrp_ns_setattr(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                    const struct stat *attr, unsigned flags, struct enrp_stat *out);

/* One directory entry, as enrp_ns_readdir reports it. */
struct enrp_dirent {
	const char *name;          /* borrowed; valid during the callback */
	struct enrp_stat attr;
};

/* Calls CB for every entry of directory INO in name order ("." and ".." not
 * included).  A non-zero return from CB stops the walk and is returned.
 * The entries are read in batches of a few hundred, each in its own read
 * transaction (the store's lock is free between them), so the walk is not
 * one snapshot: an entry that exists throughout is reported exactly once,
 * one created or removed meanwhile may or may not be. */
int enrp_ns_readdir(enrp_store *st, uint64_t ino,
                    int (*cb)(const struct enrp_dirent *ent, void *arg), void *arg);

enum enrp_ns_readdir_flags {
	/* Fill only st_ino and the type bits of st_mode: no inode is read. */
	ENRP_NS_READDIR_TYPE = 1 << 0,
};

/* One batch of a directory walk that the caller resumes: calls CB for the
 * entries of directory INO whose names sort after AFTER (NULL or "": from
 * the first), in name order, at most MAX of them, in one read transaction.
 * CB returns 0 to take the entry and go on, 1 to stop before it (it is not
 * taken: the next batch starts with it), or -errno to fail.  Resuming after
 * the last name taken reports every entry that exists throughout exactly
 * once, whatever is created, removed or renamed between batches.
 * Returns 1 when it stopped before the end (MAX taken, or CB returned 1),
 * 0 when no entry follows, or -errno: -ENOENT, -ENOTDIR, -ENAMETOOLONG
 * (AFTER), -EIO (a damaged entry), CB's. */
int enrp_ns_readdir_from(enrp_store *st, uint64_t ino, const char *after, size_t max,
                         unsigned flags, int (*cb)(const struct enrp_dirent *ent, void *arg),
                         void *arg);

/* The kernel and every handle have let go of INO: an orphan is freed now
 * (with its spool file, once that is durable).  Anything else: no-op. */
int enrp_ns_forget(enrp_store *st, uint64_t ino);

/* Frees each orphan that HELD(INO, ARG) says the kernel and the handles no
 * longer hold: one whose enrp_ns_forget failed (a full disk) is freed once
 * writing works again instead of at the next mount.  *FREED (may be NULL)
 * counts the freed; the first error is returned, after trying them all. */
int enrp_ns_free_unheld_orphans(enrp_store *st, bool (*held)(uint64_t ino, void *arg), void *arg,
                                uint64_t *freed);

/* Frees every orphan left by a crash and removes spool files no inode
 * references.  The daemon calls it once at mount, before serving; its pool
 * of emptied spool files is listed again (another process removes them).
 * An EIR without file-state counts (a store written before they existed) is
 * counted first, in one pass over the inodes. */
int enrp_ns_recover(enrp_store *st, uint64_t *orphans_freed, uint64_t *spools_removed);

/* What enrp_ns_write_check is told about a write. */
enum enrp_ns_write_flags {
	/* Through a handle whose pages the kernel caches (ENRP_POLICY_CACHED). */
	ENRP_WRITE_CACHED = 1 << 0,
	/* The caller is the writer of INO's current writing session (see
	 * ENRP_SETATTR_OWN_SESSION): it may rewrite what it wrote. */
	ENRP_WRITE_OWN_SESSION = 1 << 1,
	/* The range's bytes change (write, hole punch), as opposed to a mere
	 * reservation of space; below the end of the file that is a rewrite. */
	ENRP_WRITE_CHANGES_BYTES = 1 << 2,
	/* Not a write: space reserved past the end (fallocate KEEP_SIZE),
	 * charged to the quota like bytes (enrp_ns_reserve_done). */
	ENRP_WRITE_RESERVED = 1 << 3,
	/* A hole punched into the range: its bytes change (with
	 * ENRP_WRITE_CHANGES_BYTES) but it needs no space and charges nothing. */
	ENRP_WRITE_PUNCH = 1 << 4,
};

/* A write of LEN bytes at OFF into INO's spool file is about to happen: the
 * policy allows it (FLAGS: enum enrp_ns_write_flags) and the quota has room.
 * -EFBIG when OFF + LEN passes enrp_spool_size_max (a write that starts
 * below it is first cut to end there by the caller, as write(2) is),
 * checked before the quota; -EDQUOT, policy errno (-EACCES for a rewrite or
 * a cached handle in wo). */
int enrp_ns_write_check(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                        uint64_t off, uint64_t len, unsigned flags);

/* Records that INO's spool file now extends to at least END (bytes were
 * written there): grows size and usage, sets mtime and ctime.  OUT may be NULL. */
int enrp_ns_write_done(enrp_store *st, uint64_t ino, uint64_t end, struct enrp_stat *out);

/* How an fsync of INO may make it durable.  *ALONE is true when INO is a
 * spool file and every change of it since the last durable commit is one its
 * spool file can tell after a crash: bytes written, and the size and times
 * set by writes and truncates.  Then enrp_spool_sync_sized(..., *GEN) alone
 * makes it durable, with no commit; the next mount records the spool file's
 * size (enrp_ns_recover).  *GEN is INO's generation now.  Otherwise the
 * fsync needs the commit too.  0 or -errno. */
int enrp_ns_sync_plan(enrp_store *st, uint64_t ino, bool *alone, uint64_t *gen);

/* Records that INO's spool file has space reserved up to END past its size
 * (fallocate KEEP_SIZE, checked first with enrp_ns_write_check): charged to
 * the EIR's quota until the file is sealed or freed. */
int enrp_ns_reserve_done(enrp_store *st, uint64_t ino, uint64_t end);

/* Extended attributes in the user.* namespace; other namespaces give
 * -EOPNOTSUPP on set and -ENODATA on get.  SETXATTR FLAGS are XATTR_CREATE
 * and XATTR_REPLACE.  For get and list, SIZE 0 asks for the size: *LEN gets
 * it; -ERANGE when SIZE is too small. */
int enrp_ns_setxattr(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                     const char *name, const void *value, size_t size, int flags);
int enrp_ns_getxattr(enrp_store *st, uint64_t ino, const char *name, void *buf,
                     size_t size, size_t *len);
int enrp_ns_listxattr(enrp_store *st, uint64_t ino, char *buf, size_t size, size_t *len);
int enrp_ns_removexattr(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                        const char *name);

/* statfs: at the root, the store's filesystem; inside an EIR (INO is the EIR
 * directory or anything in it), the EIR's own space and inodes as
 * enrp_eir_statfs computes them. */
int enrp_ns_statfs(enrp_store *st, uint64_t ino, struct statvfs *out);

#endif
