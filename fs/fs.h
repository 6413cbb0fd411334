/*
 * fs.h — the per-mount state of enrpfs and the prototypes of its FUSE ops.
 *
 * fs/ translates FUSE requests into core calls and nothing more (DESIGN §1):
 * access decisions, quotas and metadata are core's.  What lives here is what
 * only the driver can know: the kernel's lookup counts, open handles, the
 * virtual .snapshots/.enrp trees and kernel cache invalidation.
 *
 * Lock order: fs->mode_lock (read side held across a data read's policy
 * check and reply), then fs->nodes.lock.  Neither is held while calling
 * fuse_lowlevel_notify_*.
 */
#ifndef ENRP_FS_H
#define ENRP_FS_H

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/gc.h>
#include <enrp/ingest.h>
#include <enrp/reader.h>
#include <enrp/snapshot.h>
#include <enrp/journal.h>
#include <enrp/loss.h>
#include <enrp/ns.h>
#include <enrp/path.h>
#include <enrp/policy.h>
#include <enrp/store.h>

/* Every open handle starts with this (handle.c). */
enum { LET_GO_NOT_YET, LET_GO_RUNNING, LET_GO_DONE };

struct handle {
	_Atomic unsigned refs;         /* the open, plus each op using it */
	_Atomic bool released;         /* the kernel released it (handle.c) */
	_Atomic int let_go_state;      /* LET_GO_*: let_go runs once */
	void (*let_go)(struct handle *h);  /* NULL, or frees what it holds */
	void (*destroy)(struct handle *h); /* frees it (see handle_init) */
	int64_t released_at;           /* protected by fs->dead_lock */
	struct handle *next_dead;      /* protected by fs->dead_lock */
	/* On fs->live from the reply to its open until its release
	 * (protected by fs->dead_lock). */
	struct handle *live_next, **live_pprev;
};

/* Kernel lookup counts and open handles per inode (inode.c). */
struct node {
	uint64_t ino;
	uint32_t eir_id;
	uint64_t nlookup;   /* protected by nodes.lock */
	uint32_t nopen;     /* protected by nodes.lock */
	uint32_t nwriters;  /* protected by nodes.lock: open handles that write */
	/* The account whose writing session is open (it created or emptied the
	 * file, and its bytes since are all its own writes), or ENRP_NO_UID.
	 * Protected by nodes.lock; ends when the last writer closes. */
	uint32_t session_uid;
	/* The kernel's pages of INO may hold bytes the store does not: a write
	 * failed after the kernel had copied it into its cache (a refused
	 * write-back of a mapping leaves its pages so), or the daemon changed
	 * bytes other than by a write the kernel made.  The next open drops
	 * the pages instead of keeping them.  Protected by nodes.lock. */
	bool stale_pages;
	struct node *next;  /* hash chain */
};

struct node_table {
	pthread_mutex_t lock;
	struct node **buckets; /* protected by lock */
	size_t nbuckets, count;
	/* An orphan could not be freed when nothing held it any more (a full
	 * disk): nodes_free_owed, on the maintenance tick, tries again. */
	_Atomic bool owed;
};

/* Sizes of .enrp lists with the EIR tree generation they hold for
 * (hidden.c): a stat of an unchanged list costs no walk.  Direct-mapped by
 * EIR and file; a collision only costs a recount. */
#define LIST_SIZE_SLOTS 256

struct list_size {
	uint32_t eir_id;   /* 0: an empty slot */
	unsigned file;     /* enum enrp_status_file */
	uint64_t gen, size;
};

struct list_sizes {
	pthread_mutex_t lock;
	struct list_size slot[LIST_SIZE_SLOTS]; /* protected by lock */
};

struct fs {
	enrp_store *st;
	enrp_vault *vault;
	enrp_ingest *ing;
	const char *store_path;
	struct fuse_session *se;
	enrp_denials *denials;
	enrp_losses *losses;            /* lost verified files, for the journal */
	enrp_gc *gc;                    /* garbage collection, on request and on its own */
	long gc_interval;               /* seconds between runs of its own; 0: none */
	struct enrp_actor actor;        /* the daemon, for journal records */
	pthread_rwlock_t mode_lock;     /* see file-top comment */
	struct node_table nodes;
	double timeout;                 /* entry and attr cache, seconds */
	int control_fd;
	pthread_t control_thread, maint_thread;
	bool threads_started;
	pthread_mutex_t dead_lock;
	struct handle *dead;            /* released handles awaiting the reaper, oldest first */
	struct handle **dead_tail;      /* where the next one goes; NULL: &dead */
	struct handle *live;            /* open handles not released yet (dead_lock) */
	struct list_sizes sizes;        /* hidden.c */
	struct snapmount *snapmount;    /* a snapshot mount (snapmount.c); NULL live */
	/* fsyncs of files answered by their spool file alone, and with a
	 * commit (op_fsync; metrics) */
	_Atomic uint64_t fsyncs_alone, fsyncs_committed;
	_Atomic bool stopping;
};

/* inode.c */
int nodes_init(struct node_table *t);
void nodes_release(struct node_table *t);
/* One more kernel reference to INO (after a successful reply_entry/create). */
void node_ref(struct fs *fs, uint64_t ino, uint32_t eir_id);
/* The kernel forgot N references; frees an orphan when nothing holds it. */
void node_forget(struct fs *fs, uint64_t ino, uint64_t n);
/* An open handle on INO (WRITER: one that can write) comes and goes. */
/* ops_xattr.c: replies to a getxattr of SIZE with the text VALUE (its
 * length for SIZE 0, ERANGE when it does not fit). */
void reply_xattr_text(fuse_req_t req, const char *value, size_t size);
/* Replies to a getxattr of NAME (NULL: a listxattr) of SIZE with the user.*
 * attributes INO has: live, or as snapshot SNAP (non-NULL) shows it. */
void reply_stored_xattr(fuse_req_t req, enrp_store *st, const struct enrp_snapshot *snap,
                        uint64_t ino, const char *name, size_t size);

/* INO lost its last name outside a kernel request (retention): freed now
 * if neither the kernel nor a handle holds it, else when they let go. */
void node_release_unknown(struct fs *fs, uint64_t ino);
/* Frees the orphans whose freeing failed once nothing held them (the
 * maintenance tick calls it; it does nothing unless one failed). */
void nodes_free_owed(struct fs *fs);
/* Also tells whether the new handle may keep the kernel's pages of INO:
 * not once after node_pages_stale. */
bool node_open(struct fs *fs, uint64_t ino, uint32_t eir_id, bool writer);
void node_close(struct fs *fs, uint64_t ino, bool writer);
/* Writing sessions (the rewrite rule of write-only EIRs, core/policy.h):
 * UID created or emptied INO, which is open for writing. */
void node_session_begin(struct fs *fs, uint64_t ino, uint32_t uid);
/* Is the open session of INO UID's?  Then UID may rewrite INO's bytes. */
bool node_session_owned(struct fs *fs, uint64_t ino, uint32_t uid);
/* Someone else changed INO's bytes: from now on the file holds bytes its
 * session's writer did not write, so the session is over. */
void node_session_end(struct fs *fs, uint64_t ino);
/* INO's cached pages may differ from its stored bytes (struct node). */
void node_pages_stale(struct fs *fs, uint64_t ino);
/* Copies the inode numbers of EIR_ID (all when 0) into a new array. */
int nodes_of_eir(struct fs *fs, uint32_t eir_id, uint64_t **inos, size_t *n);

/* An open directory (ops_dir.c).  A directory of the store is read from
 * the store by each request, resumed by name, so a handle holds only the
 * names of its last reply (bounded by one reply's size), whatever the size
 * of the directory; offset 0 reads afresh, so rewinddir sees changes.  The
 * hidden directories have a few fixed entries made at opendir. */
struct dir_entry {
	char *name;
	struct enrp_stat attr;
};

struct dir_handle {
	struct handle h;
	uint64_t ino;
	bool streamed;          /* a directory of the store */
	pthread_mutex_t lock;   /* one request at a time */
	struct dir_entry *v;    /* hidden directories: the fixed entries */
	size_t n, cap;
	/* streamed: the store's entries the last reply held, protected by lock */
	char *last_names;       /* their names, each NUL-terminated, in order */
	uint64_t last_first;    /* the offset index of the first of them */
	size_t last_n;
};

int dir_add(struct dir_handle *d, const char *name, const struct enrp_stat *attr);
/* A new, empty directory handle for INO, or NULL. */
struct dir_handle *dir_new(uint64_t ino);
void dir_free(struct dir_handle *d);

/* handle.c */
/* LET_GO (may be NULL) runs once, as soon as the handle is released and
 * unused: it frees what the handle holds besides its memory, and ends what
 * its open began.  DESTROY frees the handle later; for one never released
 * (an open that failed, or one still open at exit) it frees what LET_GO
 * would have, and must not end what LET_GO ends twice. */
void handle_init(struct handle *h, void (*let_go)(struct handle *h),
                 void (*destroy)(struct handle *h));
/* Takes a reference for the duration of REQ; handle_put gives it back.
 * NULL, REQ answered, when the handle was released already: the kernel
 * abandoned the request (the reply goes nowhere), and it must not be used. */
struct handle *handle_get(fuse_req_t req, const struct fuse_file_info *fi);
void handle_put(struct handle *h);
/* RELEASE: drops the open's reference; what the handle holds goes once no
 * op uses it, the handle itself when the reaper destroys it later. */
void handle_release(struct fs *fs, const struct fuse_file_info *fi);
/* H is about to be an open's handle (before its reply, which may be
 * released at once): on fs->live until released.  handle_unlive takes it
 * off again when the reply failed (no-op when not on it). */
void handle_live(struct fs *fs, struct handle *h);
void handle_unlive(struct fs *fs, struct handle *h);
/* Destroys released handles nothing uses any more; with ALL (at exit,
 * nothing serving any more) every handle, released or not. */
void handles_reap(struct fs *fs, bool all);

/* The caller of REQ, for core's policy. */
void caller_of(fuse_req_t req, struct enrp_caller *caller);
/* Replies with RC (< 0) and notes a policy denial for the audit journal,
 * about entry NAME of directory AT, or (NAME NULL) inode AT (0: no path). */
void reply_denied(fuse_req_t req, struct fs *fs, uint32_t eir_id, uint64_t at, const char *name,
                  enum enrp_op op, int rc);
/* fuse_entry_param from a core stat. */
void entry_of(struct fs *fs, const struct enrp_stat *s, struct fuse_entry_param *e);
/* The EIR of INO (for denial records); 0 when unknown. */
uint32_t eir_of(struct fs *fs, fuse_ino_t ino);
/* Reply for calls that create or look up an entry NAME of WHERE: the
 * entry, or RC as a denial in the EIR of WHERE. */
void reply_entry_stat(fuse_req_t req, struct fs *fs, int rc, const struct enrp_stat *s,
                      enum enrp_op op, fuse_ino_t where, const char *name);

/* audit.c — the mount (with the recovery before it: ORPHANS and SPOOLS
 * from enrp_ns_recover, KEYFILE the master key read or NULL) and the clean
 * unmount at MNT in the journal (enrp/lifecycle.h); failures are logged. */
void audit_mount(struct fs *fs, int argc, char **argv, const char *mnt, const char *keyfile,
                 uint64_t orphans, uint64_t spools);
void audit_unmount(struct fs *fs, const char *mnt);
/* The loss of a verified file (enrp/loss.h), in two steps around the
 * operation that loses it: loss_prepare, before it, takes what the record
 * needs while the file still has its name (VICTIM its stat, NAME in
 * directory PARENT or, NAME NULL, the inode's own path) and tells whether
 * VICTIM is a verified file whose copy is lost; loss_commit, once the
 * operation succeeded, counts it. */
struct pending_loss {
	bool relevant;
	enum enrp_loss_kind kind;
	struct enrp_stat victim;
	uint32_t pid;
	unsigned want;
	bool known;
	const char *how;
	struct enrp_actor who;
	char path[ENRP_PATH_MAX + 1];
};
void loss_prepare(fuse_req_t req, struct fs *fs, struct pending_loss *pl, enum enrp_loss_kind kind,
                  const struct enrp_stat *victim, uint64_t parent, const char *name,
                  const char *how);
void loss_commit(struct fs *fs, const struct pending_loss *pl);
/* ops_file.c: a truncate to SIZE through FI (NULL: by path) is the first
 * change of a handle that unsealed a verified file: journalled now. */
void file_loss_truncate(struct fs *fs, struct fuse_file_info *fi, off_t size);

/* hidden.c — the virtual .snapshots/ and .enrp/ trees. */
bool hidden_ino(fuse_ino_t ino);
/* The EIR a hidden inode belongs to. */
uint32_t hidden_eir(fuse_ino_t ino);
/* Lookup of NAME in an EIR directory: 1 if NAME is one of ours (replied),
 * 0 if not. */
int hidden_lookup_in_eir(fuse_req_t req, struct fs *fs, fuse_ino_t parent, const char *name);
void hidden_lookup(fuse_req_t req, struct fs *fs, fuse_ino_t parent, const char *name);
void hidden_getattr(fuse_req_t req, struct fs *fs, fuse_ino_t ino);
void hidden_open(fuse_req_t req, struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi);
void hidden_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                 struct fuse_file_info *fi);
void hidden_readlink(fuse_req_t req, struct fs *fs, fuse_ino_t ino);
/* The attributes of INO if it is a snapshot's (for its enrp.* xattrs),
 * else -ENODATA. */
int hidden_snapshot_stat(struct fs *fs, fuse_ino_t ino, struct enrp_stat *out);
/* The snapshot a .snapshots/ inode shows (borrowed: slots never go) and
 * the inode it is there; -ENODATA for other hidden inodes. */
int hidden_snapshot_node(fuse_ino_t ino, const struct enrp_snapshot **s, uint64_t *real);
void hidden_opendir(fuse_req_t req, struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi);
/* An open file of snapshot S (borrowed: it must outlive the handle), live
 * inode INO as S shows it, read through the verifying chunk reader.  Errors
 * of enrp_reader_open_snapshot, -ENOMEM.  snap_file_free if no open reply
 * took it. */
struct enrp_snapshot;
int snap_file_new(struct fs *fs, const struct enrp_snapshot *s, uint64_t ino,
                  struct handle **out);
void snap_file_free(struct handle *h);
/* READ on a handle of snap_file_new. */
void snap_file_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);

/* snapmount.c — a mount of one snapshot, read-only (-o snapshot=EIR@NAME). */
struct snapmount;
/* Who besides the mounting account may use the mount (-o allow=). */
struct snapmount_access {
	uint32_t *uids, *gids;
	size_t nuids, ngids;
};
/* Adds the users and groups of LIST ("name[:name...]"; a name that is both
 * adds both) to A.  -ENOENT with the unknown name copied into BAD, -EINVAL
 * an empty list, -ENOMEM. */
int snapmount_allow(struct snapmount_access *a, const char *list, char *bad, size_t badsz);
/* Serves snapshot SPEC ("EIR@NAME") of fs->st (opened read-only) at
 * MOUNTPOINT: takes its mount lock and moves ACCESS's lists into the mount.
 * -EINVAL a bad SPEC, -ENOENT no such EIR or snapshot, -EBUSY being
 * deleted, -errno. */
int snapmount_open(struct fs *fs, const char *spec, struct snapmount_access *access,
                   const char *mountpoint);
/* Releases the lock (the snapshot may be deleted again) and frees. */
void snapmount_close(struct fs *fs);
extern const struct fuse_lowlevel_ops snapmount_ops;

/* notify.c — control socket and periodic maintenance. */
/* metrics.c: -o metrics=FILE.  metrics_check_path says whether FILE.tmp
 * can be made (FILE absolute, its directory writable): 0 or -errno.
 * metrics_start writes FILE at once and then every INTERVAL seconds from a
 * thread of its own; metrics_stop (NULL ok) writes it a last time, with
 * enrp_up 0, and frees it. */
struct metrics;
int metrics_check_path(const char *path);
int metrics_start(struct fs *fs, const char *path, long interval, struct metrics **out);
void metrics_stop(struct metrics *m);

int notify_start(struct fs *fs);
void notify_stop(struct fs *fs);

/* relay.c: enrpctl for role members who are not root (enrp/relay.h).
 * NULL when it cannot listen (logged): root's enrpctl still works. */
struct relay;
struct relay *relay_start(const char *store);
void relay_stop(struct relay *r);
void invalidate_eir(struct fs *fs, uint32_t eir_id);

/* ops: one function per FUSE request (ops_*.c). */
void op_init(void *userdata, struct fuse_conn_info *conn);
void op_destroy(void *userdata);
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                struct fuse_file_info *fi);
void op_readlink(fuse_req_t req, fuse_ino_t ino);
void op_statfs(fuse_req_t req, fuse_ino_t ino);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
               const char *newname, unsigned int flags);
void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
               struct fuse_file_info *fi);
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
              struct fuse_file_info *fi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                  struct fuse_file_info *fi);
void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                 size_t size, int flags);
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

static inline struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

#endif
