/*
 * ns.c — inodes, directory entries, symlinks, xattrs, orphans and usage.
 *
 * Invariants (each kept within one transaction):
 *   - every dirent (parent, name) -> ino points at an existing inode of the
 *     same EIR, and a directory's record names its one parent;
 *   - nlink counts dirents (plus "." and ".." for directories);
 *   - an inode with nlink 0 is in DBI_ORPHAN until enrp_ns_forget() frees it;
 *   - an EIR's usage.bytes is what its clients made the platform hold: for
 *     each regular file its size, or the end of the space reserved past it
 *     with fallocate(KEEP_SIZE) if that is further (ns_charge), plus the
 *     names and values of every inode's xattrs; unlinked files still open
 *     (orphans) included until they are freed — as ext4 keeps an open,
 *     unlinked file's blocks charged, so writing through such a handle
 *     cannot escape the quota — and usage.inodes the count of its inodes
 *     with nlink > 0, which EIR.max_files bounds;
 *   - a regular file whose bytes live in a spool file is in DBI_SPOOL.
 *
 * Every changing operation decides access with enrp_policy_check() on the
 * EIR record read in the same transaction, so it is atomic with respect to
 * mode changes.  The root of the mount (inode 1) is the registry's view:
 * clients change nothing there (EPERM).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/ns.h>
#include <enrp/policy.h>
#include <enrp/spool.h>

#include "base_int.h"
#include "chunk_int.h"
#include "clock_int.h"
#include "eir_int.h"
#include "hold_int.h"
#include "ns_int.h"
#include "path_int.h"
#include "record_int.h"
#include "snapshot_int.h"
#include "spool_int.h"
#include "store_int.h"
#include "trash_int.h"

#define NS_LINK_MAX 65000
#define XATTR_VALUE_MAX 65536
#define ST_BLKSIZE 4096

static bool is_dir(const struct inode_rec *r)
{
	return S_ISDIR(r->mode);
}

static bool is_reg(const struct inode_rec *r)
{
	return S_ISREG(r->mode);
}

int ns_inode_get(enrp_txn *t, uint64_t ino, struct inode_rec *r)
{
	uint8_t key[8];
	MDB_val v;
	be64_put(key, ino);
	int rc = txn_get(t, DBI_INODE, key, sizeof(key), &v);
	if (rc)
		return rc;
	rc = rec_inode_decode(v.mv_data, v.mv_size, r);
	if (rc)
		enrp_log(ENRP_LOG_ERR, "inode %llu: corrupt record", (unsigned long long)ino);
	return rc;
}

/* The state a regular file is counted under (enum enrp_file_state), or -1
 * for an inode the file-state counts leave out: not a regular file, or not
 * linked (an orphan). */
int ns_file_class(const struct inode_rec *r)
{
	if (!is_reg(r) || r->nlink == 0)
		return -1;
	if (r->content == ENRP_CONTENT_SEALED)
		return (r->flags & INODE_CORRUPT) ? ENRP_FILE_CORRUPT : ENRP_FILE_VERIFIED;
	/* A rewrite whose base has a damaged chunk cannot be sealed: it is
	 * corrupt until rewritten whole (ingest.c drops it from the queue). */
	if (r->flags & INODE_QUEUED)
		return ENRP_FILE_PENDING;
	return (r->flags & INODE_CORRUPT) ? ENRP_FILE_CORRUPT : ENRP_FILE_OPEN;
}

/* Keeps the EIR's file-state counts in step with inode INO becoming R.
 * Every write of an inode record goes through ns_inode_put, whoever makes
 * it (namespace, seal, reader, scrub, fsck), so the counts change in the
 * transaction that changes the state, without each caller knowing of them.
 * Inodes are deleted only as orphans, which are not counted.  A directory
 * written is one whose entries may have changed (every change of entries
 * writes their directory's times), so it moves the EIR's tree_gen. */
static int files_account(enrp_txn *t, uint64_t ino, const struct inode_rec *r)
{
	struct inode_rec old;
	int64_t d[4] = { 0 }, sealed = 0;
	if (is_dir(r) && r->eir_id)
		return eir_files_add(t, r->eir_id, NULL, 0);
	if (!is_reg(r))
		return 0;
	int before = -1, after = ns_file_class(r);
	/* A record that does not decode is being overwritten (repair): it
	 * counted for nothing we can know; fsck recounts. */
	int rc = ns_inode_get(t, ino, &old);
	if (rc == 0)
		before = ns_file_class(&old);
	else if (rc != -ENOENT && rc != -EIO)
		return rc;
	if (after == ENRP_FILE_VERIFIED || after == ENRP_FILE_CORRUPT)
		if (rc != 0 || r->sealed_at > old.sealed_at)
			sealed = r->sealed_at;
	if (before == after && sealed == 0)
		return 0;
	if (before >= 0)
		d[before]--;
	if (after >= 0)
		d[after]++;
	return eir_files_add(t, r->eir_id, d, sealed);
}

static int inode_put(enrp_txn *t, uint64_t ino, const struct inode_rec *r, bool sized)
{
	uint8_t key[8];
	struct rec_out o;
	int rc = files_account(t, ino, r);
	if (rc)
		return rc;
	be64_put(key, ino);
	if (r->eir_id && (rc = snap_preserve(t, r->eir_id, DBI_INODE, key, sizeof(key))))
		return rc;
	rec_out_init(&o);
	rc = rec_inode_encode(r, &o);
	if (rc == 0)
		rc = txn_put(t, DBI_INODE, key, sizeof(key), o.buf, o.len, 0);
	rec_out_release(&o);
	/* Every change of an EIR's files writes one of its inodes: what shows
	 * `verified` waits for these to be durable (enrp_store_sync_eir). */
	txn_touch_eir(t, r->eir_id);
	if (!sized)
		txn_inode_changed(t, ino);
	return rc;
}

int ns_inode_put(enrp_txn *t, uint64_t ino, const struct inode_rec *r)
{
	return inode_put(t, ino, r, false);
}

/* R's size, mtime, ctime, generation and charge are all that changed, by a
 * write or a truncate of a spool file: what a durable spool file can tell
 * after a crash (enrp_spool_sync_sized, spool_sizes_recover). */
static int inode_put_sized(enrp_txn *t, uint64_t ino, const struct inode_rec *r)
{
	return inode_put(t, ino, r, true);
}

/* The root of the mount exists from the first EIR on; before that (an empty
 * store) it is synthesised. */
static int root_get(enrp_txn *t, struct inode_rec *r)
{
	int rc = ns_inode_get(t, ENRP_ROOT_INO, r);
	if (rc != -ENOENT)
		return rc;
	memset(r, 0, sizeof(*r));
	r->mode = S_IFDIR | 0755;
	r->nlink = 2;
	r->parent = ENRP_ROOT_INO;
	return 0;
}

static int any_inode_get(enrp_txn *t, uint64_t ino, struct inode_rec *r)
{
	return ino == ENRP_ROOT_INO ? root_get(t, r) : ns_inode_get(t, ino, r);
}

static int dirent_get(enrp_txn *t, uint64_t parent, const char *name, uint64_t *ino,
                      uint32_t *type)
{
	uint8_t key[8 + ENRP_NAME_MAX];
	MDB_val v;
	size_t klen = key_dirent(key, parent, name);
	int rc = txn_get(t, DBI_DIRENT, key, klen, &v);
	if (rc)
		return rc;
	return rec_dirent_decode(v.mv_data, v.mv_size, ino, type);
}

int ns_resolve(enrp_txn *t, uint64_t dir, const char *path, uint64_t *ino)
{
	if (!*path || *path == '/')
		return -EINVAL;
	uint64_t cur = dir;
	const char *p = path;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char name[ENRP_NAME_MAX + 1];
		if (n == 0 || n > ENRP_NAME_MAX || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		memcpy(name, p, n);
		name[n] = '\0';
		uint32_t type;
		int rc = dirent_get(t, cur, name, &cur, &type);
		if (rc)
			return rc;
		p += n;
		if (*p == '/') {
			p++;
			if (!S_ISDIR(type))
				return -ENOTDIR;
		}
	}
	*ino = cur;
	return 0;
}

/* Entries of directory PARENT, of EIR EIR_ID (0: the root of the mount,
 * which no snapshot covers).  Snapshots keep what an entry was first. */
static int dirent_put(enrp_txn *t, uint32_t eir_id, uint64_t parent, const char *name,
                      uint64_t ino, uint32_t mode)
{
	uint8_t key[8 + ENRP_NAME_MAX], val[DIRENT_VAL_LEN];
	size_t klen = key_dirent(key, parent, name);
	rec_dirent_encode(val, ino, mode);
	path_hint(ino, parent, name);
	int rc = eir_id ? snap_preserve(t, eir_id, DBI_DIRENT, key, klen) : 0;
	return rc ? rc : txn_put(t, DBI_DIRENT, key, klen, val, sizeof(val), 0);
}

static int dirent_del(enrp_txn *t, uint32_t eir_id, uint64_t parent, const char *name)
{
	uint8_t key[8 + ENRP_NAME_MAX];
	size_t klen = key_dirent(key, parent, name);
	int rc = eir_id ? snap_preserve(t, eir_id, DBI_DIRENT, key, klen) : 0;
	return rc ? rc : txn_del(t, DBI_DIRENT, key, klen);
}

/* Calls CB for each key of DB that starts with the 8-byte PREFIX. */
static int prefix_walk(enrp_txn *t, enum store_dbi db, uint64_t prefix,
                       int (*cb)(enrp_txn *t, const MDB_val *k, const MDB_val *v, void *arg),
                       void *arg)
{
	MDB_cursor *cur;
	uint8_t pk[8];
	be64_put(pk, prefix);
	int rc = txn_cursor(t, db, &cur);
	if (rc)
		return rc;
	MDB_val k = { .mv_size = 8, .mv_data = pk }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0) {
		if (k.mv_size < 8 || memcmp(k.mv_data, pk, 8) != 0)
			break;
		rc = cb(t, &k, &v, arg);
		if (rc)
			break;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
	mdb_cursor_close(cur);
	return rc;
}

static int stop_at_first(enrp_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	(void)t, (void)k, (void)v, (void)arg;
	return 1;
}

static int dir_is_empty(enrp_txn *t, uint64_t ino)
{
	int rc = prefix_walk(t, DBI_DIRENT, ino, stop_at_first, NULL);
	if (rc < 0)
		return rc;
	return rc == 0;
}

static void ns_to_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += 1000000000;
	}
}

/* Times past what int64 nanoseconds hold (1677..2262) are clamped, as the
 * kernel clamps to a filesystem's time range. */
static int64_t ts_to_ns(const struct timespec *ts)
{
	if (ts->tv_sec >= INT64_MAX / 1000000000)
		return INT64_MAX;
	if (ts->tv_sec <= INT64_MIN / 1000000000)
		return INT64_MIN;
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* The mtime of a corrupt file.  Owners send with `rsync -a` every night,
 * and rsync skips a file whose size and mtime match the source's (its quick
 * check; --checksum is too slow for nightly dumps): a damaged copy of an
 * unchanged source file would be skipped forever.  So a corrupt file shows
 * an mtime that is not its own: its own is the source's, which rsync set
 * when it sent it, so the quick check fails and the file is sent again
 * whole — a temporary file renamed over it — and sealed anew.  The epoch,
 * and not "own + 1 s", because a source changed since that happens to have
 * that mtime and size would be skipped, while nobody's dump is dated
 * 1970; it is also older than any source, so `rsync -u` sends it too, and
 * `ls -l` shows the damage.  The size stays true: readers of the parts
 * that can still be read, and the page cache, rely on it. */
static void corrupt_mtime(struct stat *s)
{
	bool own = s->st_mtim.tv_sec == ENRP_CORRUPT_MTIME && s->st_mtim.tv_nsec == 0;
	s->st_mtim.tv_sec = ENRP_CORRUPT_MTIME + (own ? 1 : 0);
	s->st_mtim.tv_nsec = 0;
}

void ns_fill_stat(uint64_t ino, const struct inode_rec *r, struct enrp_stat *out)
{
	memset(out, 0, sizeof(*out));
	struct stat *s = &out->st;
	s->st_ino = ino;
	s->st_mode = r->mode;
	s->st_nlink = r->nlink;
	s->st_uid = r->uid;
	s->st_gid = r->gid;
	s->st_rdev = r->rdev;
	s->st_size = (off_t)(is_dir(r) ? ST_BLKSIZE : r->size);
	s->st_blksize = ST_BLKSIZE;
	s->st_blocks = (blkcnt_t)((r->size + 511) / 512);
	ns_to_ts(r->atime, &s->st_atim);
	ns_to_ts(r->mtime, &s->st_mtim);
	ns_to_ts(r->ctime, &s->st_ctim);
	out->eir_id = r->eir_id;
	out->content = (enum enrp_content)r->content;
	int cls = ns_file_class(r);
	if (cls >= 0)
		out->state = (enum enrp_file_state)cls;
	else if (r->content == ENRP_CONTENT_SEALED) /* an orphan's */
		out->state = (r->flags & INODE_CORRUPT) ? ENRP_FILE_CORRUPT : ENRP_FILE_VERIFIED;
	else
		out->state = (r->flags & INODE_QUEUED) ? ENRP_FILE_PENDING : ENRP_FILE_OPEN;
	if (is_reg(r) && out->state == ENRP_FILE_CORRUPT)
		corrupt_mtime(s);
	memcpy(out->sha256, r->sha256, sizeof(out->sha256));
	out->sealed_at = r->sealed_at;
	out->parent = is_dir(r) ? r->parent : 0;
}

const char *enrp_file_state_name(enum enrp_file_state s)
{
	static const char *const names[] = { "open", "pending", "verified", "corrupt" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

bool enrp_ns_reserved(const char *name)
{
	return strcmp(name, ENRP_SNAPSHOTS_NAME) == 0 || strcmp(name, ENRP_STATUS_DIR_NAME) == 0;
}

static int name_check(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || strchr(name, '/'))
		return -EINVAL;
	if (n > ENRP_NAME_MAX)
		return -ENAMETOOLONG;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EEXIST;
	return 0;
}

/* Is PARENT the directory of an EIR (where the reserved names live)? */
static bool is_eir_root(const struct inode_rec *parent)
{
	return parent->eir_id != 0 && parent->parent == ENRP_ROOT_INO;
}

/* The policy decision for OP on an inode of EIR EIR_ID, read in this txn;
 * FLAGS are enum enrp_policy_flags. */
static int policy_flags_txn(enrp_txn *t, uint32_t eir_id, const struct enrp_caller *caller,
                            enum enrp_op op, unsigned flags)
{
	if (eir_id == 0)
		return op == ENRP_OP_INSPECT ? 0 : -EPERM;
	struct enrp_eir e;
	int rc = eir_get_txn(t, eir_id, &e);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	return enrp_policy_check(&e, op, caller, enrp_now_ns(), flags);
}

static int policy_txn(enrp_txn *t, uint32_t eir_id, const struct enrp_caller *caller,
                      enum enrp_op op)
{
	return policy_flags_txn(t, eir_id, caller, op, 0);
}

/* Adds ENRP_POLICY_HELD to *FLAGS when regular file INO (record R) is held
 * (hold.h): its bytes and its existence are then beyond anyone's reach. */
static int add_held(enrp_txn *t, uint64_t ino, const struct inode_rec *r, unsigned *flags)
{
	/* Only a sealed file can be held or locked (a held one is never
	 * unsealed), so the writes of a file being written cost no lookup. */
	if (!is_reg(r) || r->content != ENRP_CONTENT_SEALED)
		return 0;
	int64_t now;
	int rc = clock_now_txn(t, &now);
	if (rc == 0)
		rc = hold_active_txn(t, r->eir_id, ino, r->sealed_at, now);
	if (rc > 0)
		*flags |= ENRP_POLICY_HELD;
	return rc < 0 ? rc : 0;
}

uint64_t ns_charge(const struct inode_rec *r)
{
	if (!is_reg(r))
		return 0;
	return r->alloc_end > r->size ? r->alloc_end : r->size;
}

/* R's charge changed from OLD (see the top); it counts until R is freed. */
static int charge_changed(enrp_txn *t, const struct inode_rec *r, uint64_t old)
{
	uint64_t now = ns_charge(r);
	if (now == old)
		return 0;
	return eir_usage_add(t, r->eir_id, now > old ? (int64_t)(now - old) : -(int64_t)(old - now),
	                     0);
}

static int quota_check(enrp_txn *t, uint32_t eir_id, uint64_t grow)
{
	if (grow == 0)
		return 0;
	struct enrp_eir e;
	struct enrp_eir_usage u;
	int rc = eir_get_txn(t, eir_id, &e);
	if (rc == 0)
		rc = eir_usage_get_txn(t, eir_id, &u);
	if (rc)
		return rc;
	if (e.quota && (u.bytes + grow > e.quota || u.bytes + grow < u.bytes))
		return -EDQUOT;
	return 0;
}

/* One more inode in EIR_ID: -EDQUOT past its max_files. */
static int files_check(enrp_txn *t, uint32_t eir_id)
{
	struct enrp_eir e;
	struct enrp_eir_usage u;
	int rc = eir_get_txn(t, eir_id, &e);
	if (rc == 0 && e.max_files)
		rc = eir_usage_get_txn(t, eir_id, &u);
	if (rc)
		return rc;
	return e.max_files && u.inodes >= e.max_files ? -EDQUOT : 0;
}

/* ---- lookups ---- */

struct lookup_args {
	uint64_t parent;
	const char *name;
	uint64_t ino;
	struct enrp_stat *out;
};

static int lookup_fn(enrp_txn *t, void *arg)
{
	struct lookup_args *a = arg;
	struct inode_rec p, c;
	uint32_t type;
	uint64_t ino;
	int rc = any_inode_get(t, a->parent, &p);
	if (rc)
		return rc;
	if (!is_dir(&p))
		return -ENOTDIR;
	rc = dirent_get(t, a->parent, a->name, &ino, &type);
	if (rc)
		return rc;
	rc = ns_inode_get(t, ino, &c);
	if (rc)
		return rc == -ENOENT ? -EIO : rc; /* a dangling dirent is damage */
	path_hint(ino, a->parent, a->name); /* audit records name what clients reach */
	ns_fill_stat(ino, &c, a->out);
	return 0;
}

int enrp_ns_lookup(enrp_store *st, uint64_t parent, const char *name, struct enrp_stat *out)
{
	if (strlen(name) > ENRP_NAME_MAX)
		return -ENAMETOOLONG;
	struct lookup_args a = { .parent = parent, .name = name, .out = out };
	return enrp_store_read(st, lookup_fn, &a);
}

static int getattr_fn(enrp_txn *t, void *arg)
{
	struct lookup_args *a = arg;
	struct inode_rec r;
	int rc = any_inode_get(t, a->ino, &r);
	if (rc == 0)
		ns_fill_stat(a->ino, &r, a->out);
	return rc;
}

int enrp_ns_getattr(enrp_store *st, uint64_t ino, struct enrp_stat *out)
{
	struct lookup_args a = { .ino = ino, .out = out };
	return enrp_store_read(st, getattr_fn, &a);
}

struct check_args {
	const struct enrp_caller *caller;
	uint64_t ino;
	enum enrp_op op;
	uint64_t off, len;
	unsigned flags;
	struct enrp_stat *out;
	uint64_t size_max; /* enrp_spool_size_max, found before the txn */
};

static int check_fn(enrp_txn *t, void *arg)
{
	struct check_args *a = arg;
	struct inode_rec r;
	int rc = any_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	/* A write check of a regular file is an open for writing or a
	 * truncate: its bytes would change. */
	unsigned flags = 0;
	if (a->op != ENRP_OP_INSPECT && a->op != ENRP_OP_READ && (rc = add_held(t, a->ino, &r, &flags)))
		return rc;
	return policy_flags_txn(t, r.eir_id, a->caller, a->op, flags);
}

int enrp_ns_check(enrp_store *st, const struct enrp_caller *caller, uint64_t ino, enum enrp_op op)
{
	struct check_args a = { .caller = caller, .ino = ino, .op = op };
	return enrp_store_read(st, check_fn, &a);
}

struct open_check_args {
	const struct enrp_caller *caller;
	uint64_t ino;
	int flags;
	struct enrp_stat *out;
	struct enrp_open_check *oc;
};

static int open_check_fn(enrp_txn *t, void *arg)
{
	struct open_check_args *a = arg;
	struct enrp_open_check *oc = a->oc;
	struct inode_rec r;
	int rc = any_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	ns_fill_stat(a->ino, &r, a->out);
	int acc = a->flags & O_ACCMODE;
	bool read = acc == O_RDONLY || acc == O_RDWR;
	bool write = acc != O_RDONLY || (a->flags & O_TRUNC);
	oc->denied = true;
	oc->denied_op = read ? ENRP_OP_READ : ENRP_OP_WRITE;
	if (r.eir_id == 0)
		return -EPERM;
	struct enrp_eir e;
	if ((rc = eir_get_txn(t, r.eir_id, &e)))
		return rc == -ENOENT ? -EIO : rc;
	oc->uncached = enrp_policy_uncached(&e);
	int64_t now = enrp_now_ns();
	if (read && (rc = enrp_policy_check(&e, ENRP_OP_READ, a->caller, now, 0)))
		return rc;
	oc->denied_op = ENRP_OP_WRITE;
	unsigned held = 0;
	if (write && (rc = add_held(t, a->ino, &r, &held)) == 0)
		rc = enrp_policy_check(&e, ENRP_OP_WRITE, a->caller, now, held);
	oc->denied = rc != 0;
	return rc;
}

int enrp_ns_open_check(enrp_store *st, const struct enrp_caller *caller, uint64_t ino, int flags,
                       struct enrp_stat *out, struct enrp_open_check *oc)
{
	struct open_check_args a = { .caller = caller, .ino = ino, .flags = flags, .out = out,
	                             .oc = oc };
	*oc = (struct enrp_open_check){ .uncached = true };
	return enrp_store_read(st, open_check_fn, &a);
}

/* ---- creation ---- */

struct mknod_args {
	const struct enrp_caller *caller;
	uint64_t parent;
	const char *name;
	mode_t mode;
	dev_t rdev;
	const char *target;
	struct enrp_stat *out;
};

static int new_inode(enrp_txn *t, uint64_t *ino)
{
	/* 1 is the root; numbers are never reused, so no generation is needed. */
	return txn_next_id(t, "next_ino", ENRP_ROOT_INO + 1, ino);
}

static int mknod_fn(enrp_txn *t, void *arg)
{
	struct mknod_args *a = arg;
	struct inode_rec p, r;
	uint64_t ino, existing;
	uint32_t type;
	int rc = any_inode_get(t, a->parent, &p);
	if (rc)
		return rc;
	if (!is_dir(&p))
		return -ENOTDIR;
	if (a->parent == ENRP_ROOT_INO)
		return -EPERM;
	if (p.nlink == 0)
		return -ENOENT; /* creating in a removed directory */
	rc = policy_txn(t, p.eir_id, a->caller, ENRP_OP_WRITE);
	if (rc)
		return rc;
	if (is_eir_root(&p) && enrp_ns_reserved(a->name))
		return -EEXIST;
	rc = dirent_get(t, a->parent, a->name, &existing, &type);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	if (S_ISDIR(a->mode) && p.nlink >= NS_LINK_MAX)
		return -EMLINK;
	rc = files_check(t, p.eir_id);
	if (rc)
		return rc;

	int64_t now = enrp_now_ns();
	memset(&r, 0, sizeof(r));
	r.eir_id = p.eir_id;
	r.mode = a->mode;
	r.uid = a->caller->uid;
	r.gid = a->caller->gid;
	if (p.mode & S_ISGID) {
		/* BSD group semantics under a setgid directory, as ext4 does. */
		r.gid = p.gid;
		if (S_ISDIR(a->mode))
			r.mode |= S_ISGID;
	}
	r.nlink = S_ISDIR(a->mode) ? 2 : 1;
	r.rdev = (S_ISCHR(a->mode) || S_ISBLK(a->mode)) ? a->rdev : 0;
	r.atime = r.mtime = r.ctime = r.btime = now;
	r.parent = S_ISDIR(a->mode) ? a->parent : 0;
	if (S_ISREG(a->mode))
		r.content = ENRP_CONTENT_SPOOL;
	if (S_ISLNK(a->mode)) {
		size_t n = strlen(a->target);
		if (n == 0)
			return -ENOENT;
		if (n > ENRP_SYMLINK_MAX)
			return -ENAMETOOLONG;
		memcpy(r.target, a->target, n + 1);
		r.size = n;
	}
	rc = new_inode(t, &ino);
	if (rc)
		return rc;
	ns_inode_put(t, ino, &r);
	dirent_put(t, r.eir_id, a->parent, a->name, ino, r.mode);
	if (S_ISREG(a->mode)) {
		uint8_t k[8];
		be64_put(k, ino);
		txn_put(t, DBI_SPOOL, k, 8, "", 0, 0);
	}
	if (S_ISDIR(a->mode))
		p.nlink++;
	p.mtime = p.ctime = now;
	ns_inode_put(t, a->parent, &p);
	eir_usage_add(t, r.eir_id, 0, 1);
	if (t->ret)
		return t->ret;
	ns_fill_stat(ino, &r, a->out);
	return 0;
}

int enrp_ns_mknod(enrp_store *st, const struct enrp_caller *caller, uint64_t parent,
                  const char *name, mode_t mode, dev_t rdev, const char *target,
                  struct enrp_stat *out)
{
	int rc = name_check(name);
	if (rc)
		return rc;
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	case S_IFLNK:
		if (!target)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	struct mknod_args a = { caller, parent, name, mode, rdev, target, out };
	return enrp_store_write(st, mknod_fn, &a);
}

/* ---- links ---- */

struct link_args {
	const struct enrp_caller *caller;
	uint64_t ino, newparent;
	const char *newname;
	struct enrp_stat *out;
};

static int link_fn(enrp_txn *t, void *arg)
{
	struct link_args *a = arg;
	struct inode_rec r, p;
	uint64_t existing;
	uint32_t type;
	int rc = any_inode_get(t, a->newparent, &p);
	if (rc == 0)
		rc = ns_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	if (!is_dir(&p))
		return -ENOTDIR;
	if (a->newparent == ENRP_ROOT_INO || is_dir(&r))
		return -EPERM;
	if (p.eir_id != r.eir_id)
		return -EXDEV;
	if (r.nlink == 0 || p.nlink == 0)
		return -ENOENT;
	rc = policy_txn(t, p.eir_id, a->caller, ENRP_OP_WRITE);
	if (rc)
		return rc;
	if (is_eir_root(&p) && enrp_ns_reserved(a->newname))
		return -EEXIST;
	rc = dirent_get(t, a->newparent, a->newname, &existing, &type);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	if (r.nlink >= NS_LINK_MAX)
		return -EMLINK;
	int64_t now = enrp_now_ns();
	r.nlink++;
	r.ctime = now;
	p.mtime = p.ctime = now;
	ns_inode_put(t, a->ino, &r);
	ns_inode_put(t, a->newparent, &p);
	dirent_put(t, r.eir_id, a->newparent, a->newname, a->ino, r.mode);
	if (t->ret)
		return t->ret;
	ns_fill_stat(a->ino, &r, a->out);
	return 0;
}

int enrp_ns_link(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                 uint64_t newparent, const char *newname, struct enrp_stat *out)
{
	int rc = name_check(newname);
	if (rc)
		return rc;
	struct link_args a = { caller, ino, newparent, newname, out };
	return enrp_store_write(st, link_fn, &a);
}

/* Drops the link NAME in PARENT of R (inode INO); at zero it becomes an
 * orphan and leaves the EIR's file count (its bytes stay charged until it
 * is freed).  A regular file's orphan entry keeps that last name and WHY:
 * the name is gone by the time the orphan is freed and its copy trashed,
 * and a hard link with names left is not trashed at all.  R is written
 * back by the caller. */
static int drop_link(enrp_txn *t, uint64_t ino, struct inode_rec *r, uint64_t parent,
                     const char *name, enum enrp_trash_why why)
{
	r->nlink = is_dir(r) ? 0 : r->nlink - 1;
	r->ctime = enrp_now_ns();
	if (r->nlink == 0) {
		uint8_t k[8];
		be64_put(k, ino);
		struct rec_out o;
		rec_out_init(&o);
		if (is_reg(r)) {
			struct trash_note note = { .why = why, .parent = parent, .at = r->ctime };
			snprintf(note.name, sizeof(note.name), "%s", name);
			trash_note_encode(&note, &o);
		}
		if (o.err)
			t->ret = t->ret ? t->ret : o.err;
		else
			txn_put(t, DBI_ORPHAN, k, 8, o.len ? o.buf : (const void *)"", o.len, 0);
		rec_out_release(&o);
		eir_usage_add(t, r->eir_id, 0, -1);
	}
	return t->ret;
}

/* Removes entry NAME of directory PARENT (record P), which names INO
 * (record C): the last link leaves an orphan whose note says WHY. */
static int entry_remove(enrp_txn *t, uint64_t parent, struct inode_rec *p, const char *name,
                        uint64_t ino, struct inode_rec *c, enum enrp_trash_why why)
{
	dirent_del(t, p->eir_id, parent, name);
	p->mtime = p->ctime = enrp_now_ns();
	ns_inode_put(t, parent, p);
	drop_link(t, ino, c, parent, name, why);
	ns_inode_put(t, ino, c);
	return t->ret;
}

struct unlink_args {
	const struct enrp_caller *caller;
	uint64_t parent;
	const char *name;
	bool dir;
};

static int unlink_fn(enrp_txn *t, void *arg)
{
	struct unlink_args *a = arg;
	struct inode_rec p, c;
	uint64_t ino;
	uint32_t type;
	int rc = any_inode_get(t, a->parent, &p);
	if (rc)
		return rc;
	if (!is_dir(&p))
		return -ENOTDIR;
	if (a->parent == ENRP_ROOT_INO)
		return -EPERM;
	if (is_eir_root(&p) && enrp_ns_reserved(a->name))
		return -EPERM;
	rc = dirent_get(t, a->parent, a->name, &ino, &type);
	if (rc)
		return rc;
	rc = ns_inode_get(t, ino, &c);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	if (a->dir && !is_dir(&c))
		return -ENOTDIR;
	if (!a->dir && is_dir(&c))
		return -EISDIR;
	unsigned flags = 0;
	if ((rc = add_held(t, ino, &c, &flags)))
		return rc;
	rc = policy_flags_txn(t, p.eir_id, a->caller, ENRP_OP_REMOVE, flags);
	if (rc)
		return rc;
	if (a->dir) {
		rc = dir_is_empty(t, ino);
		if (rc < 0)
			return rc;
		if (!rc)
			return -ENOTEMPTY;
		p.nlink--;
	}
	return entry_remove(t, a->parent, &p, a->name, ino, &c, ENRP_TRASH_DELETED);
}

int enrp_ns_unlink(enrp_store *st, const struct enrp_caller *caller, uint64_t parent,
                   const char *name, bool dir)
{
	if (strlen(name) > ENRP_NAME_MAX)
		return -ENAMETOOLONG;
	struct unlink_args a = { caller, parent, name, dir };
	return enrp_store_write(st, unlink_fn, &a);
}

/* ---- retention's removal of live files ---- */

struct expire_args {
	uint64_t parent, ino;
	const char *name;
	int64_t sealed_before;
	bool dry_run;
};

static int expire_fn(enrp_txn *t, void *arg)
{
	struct expire_args *a = arg;
	struct inode_rec p, c;
	uint64_t ino;
	uint32_t type;
	int rc = any_inode_get(t, a->parent, &p);
	if (rc == 0 && !is_dir(&p))
		rc = -ENOTDIR;
	if (rc == 0)
		rc = dirent_get(t, a->parent, a->name, &ino, &type);
	if (rc == 0 && ino != a->ino)
		rc = -ESTALE;
	if (rc == 0 && (rc = ns_inode_get(t, ino, &c)) == -ENOENT)
		rc = -EIO;
	if (rc == -ENOENT)
		return -ESTALE;
	if (rc)
		return rc;
	/* Rewritten or unsealed since the caller looked: not what it judged. */
	if (!is_reg(&c) || c.content != ENRP_CONTENT_SEALED || !c.sealed_at ||
	    c.sealed_at > a->sealed_before)
		return -ESTALE;
	unsigned flags = 0;
	if ((rc = add_held(t, ino, &c, &flags)))
		return rc;
	if (flags & ENRP_POLICY_HELD)
		return -EPERM;
	if (a->dry_run)
		return 0;
	return entry_remove(t, a->parent, &p, a->name, ino, &c, TRASH_NOTE_EXPIRED);
}

int enrp_ns_expire(enrp_store *st, uint64_t parent, const char *name, uint64_t ino,
                   int64_t sealed_before, bool dry_run)
{
	if (strlen(name) > ENRP_NAME_MAX)
		return -ENAMETOOLONG;
	if (parent == ENRP_ROOT_INO)
		return -EPERM;
	struct expire_args a = { parent, ino, name, sealed_before, dry_run };
	return dry_run ? enrp_store_read(st, expire_fn, &a) : enrp_store_write(st, expire_fn, &a);
}

/* ---- rename ---- */

struct rename_args {
	const struct enrp_caller *caller;
	uint64_t parent, newparent;
	const char *name, *newname;
	unsigned flags;
};

/* -EINVAL if directory INO is DIR or one of DIR's ancestors. */
static int check_not_ancestor(enrp_txn *t, uint64_t ino, uint64_t dir)
{
	for (int depth = 0; dir != ENRP_ROOT_INO; depth++) {
		if (dir == ino)
			return -EINVAL;
		struct inode_rec r;
		int rc = ns_inode_get(t, dir, &r);
		if (rc)
			return rc;
		if (depth > 100000)
			return -ELOOP; /* a parent cycle is damage, not a deep tree */
		dir = r.parent;
	}
	return 0;
}

/* Reads one inode into OUT, or, when INO is the same as an inode already
 * loaded, shares the caller's copy, so a rename within one directory updates
 * one record and not two stale ones. */
static int rename_fn(enrp_txn *t, void *arg)
{
	struct rename_args *a = arg;
	struct inode_rec pbuf, npbuf, src, dst;
	struct inode_rec *p = &pbuf, *np = &npbuf;
	uint64_t sino, dino;
	uint32_t type;
	bool exchange = a->flags & RENAME_EXCHANGE;
	int rc = any_inode_get(t, a->parent, p);
	if (rc)
		return rc;
	if (a->newparent == a->parent)
		np = p;
	else if ((rc = any_inode_get(t, a->newparent, np)))
		return rc;
	if (!is_dir(p) || !is_dir(np))
		return -ENOTDIR;
	if (a->parent == ENRP_ROOT_INO || a->newparent == ENRP_ROOT_INO)
		return -EPERM;
	if (p->eir_id != np->eir_id)
		return -EXDEV;
	if (p->nlink == 0 || np->nlink == 0)
		return -ENOENT; /* a removed directory takes no new entries */
	if ((is_eir_root(p) && enrp_ns_reserved(a->name)) ||
	    (is_eir_root(np) && enrp_ns_reserved(a->newname)))
		return -EPERM;
	rc = dirent_get(t, a->parent, a->name, &sino, &type);
	if (rc)
		return rc;
	if ((rc = ns_inode_get(t, sino, &src)))
		return rc == -ENOENT ? -EIO : rc;
	rc = dirent_get(t, a->newparent, a->newname, &dino, &type);
	bool dst_exists = rc == 0;
	if (rc && rc != -ENOENT)
		return rc;
	if (dst_exists && (rc = ns_inode_get(t, dino, &dst)))
		return rc == -ENOENT ? -EIO : rc;
	/* Renaming over a file removes it; an exchange keeps both. */
	unsigned flags = 0;
	if (dst_exists && !exchange && dino != sino && (rc = add_held(t, dino, &dst, &flags)))
		return rc;
	rc = policy_flags_txn(t, p->eir_id, a->caller, ENRP_OP_WRITE, flags);
	if (rc)
		return rc;
	if (exchange && !dst_exists)
		return -ENOENT;
	if ((a->flags & RENAME_NOREPLACE) && dst_exists)
		return -EEXIST;
	if (dst_exists && dino == sino)
		return 0; /* same file under both names: rename(2) does nothing */
	if (is_dir(&src) && (rc = check_not_ancestor(t, sino, a->newparent)))
		return rc;
	if (is_dir(&src) && p != np && !(dst_exists && is_dir(&dst)) && np->nlink >= NS_LINK_MAX)
		return -EMLINK;
	if (exchange && is_dir(&dst) && (rc = check_not_ancestor(t, dino, a->parent)))
		return rc;

	int64_t now = enrp_now_ns();
	if (exchange) {
		dirent_put(t, p->eir_id, a->parent, a->name, dino, dst.mode);
		dirent_put(t, p->eir_id, a->newparent, a->newname, sino, src.mode);
		if (p != np) {
			if (is_dir(&src)) {
				src.parent = a->newparent;
				p->nlink--;
				np->nlink++;
			}
			if (is_dir(&dst)) {
				dst.parent = a->parent;
				np->nlink--;
				p->nlink++;
			}
		}
		dst.ctime = now;
		ns_inode_put(t, dino, &dst);
	} else {
		if (dst_exists) {
			if (is_dir(&src) && !is_dir(&dst))
				return -ENOTDIR;
			if (!is_dir(&src) && is_dir(&dst))
				return -EISDIR;
			if (is_dir(&dst)) {
				rc = dir_is_empty(t, dino);
				if (rc < 0)
					return rc;
				if (!rc)
					return -ENOTEMPTY;
				np->nlink--;
			}
			drop_link(t, dino, &dst, a->newparent, a->newname, ENRP_TRASH_RENAMED_OVER);
			ns_inode_put(t, dino, &dst);
		}
		dirent_del(t, p->eir_id, a->parent, a->name);
		dirent_put(t, p->eir_id, a->newparent, a->newname, sino, src.mode);
		if (is_dir(&src) && p != np) {
			src.parent = a->newparent;
			p->nlink--;
			np->nlink++;
		}
	}
	src.ctime = now;
	ns_inode_put(t, sino, &src);
	p->mtime = p->ctime = now;
	np->mtime = np->ctime = now;
	ns_inode_put(t, a->parent, p);
	if (np != p)
		ns_inode_put(t, a->newparent, np);
	return t->ret;
}

int enrp_ns_rename(enrp_store *st, const struct enrp_caller *caller, uint64_t parent,
                   const char *name, uint64_t newparent, const char *newname, unsigned flags)
{
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	int rc = name_check(newname);
	if (rc)
		return rc == -EEXIST ? -EBUSY : rc;
	if (strlen(name) > ENRP_NAME_MAX)
		return -ENAMETOOLONG;
	struct rename_args a = { caller, parent, newparent, name, newname, flags };
	return enrp_store_write(st, rename_fn, &a);
}

/* ---- symlinks and directories ---- */

struct readlink_args {
	uint64_t ino;
	char *buf;
	size_t size;
};

static int readlink_fn(enrp_txn *t, void *arg)
{
	struct readlink_args *a = arg;
	struct inode_rec r;
	int rc = ns_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	if (!S_ISLNK(r.mode))
		return -EINVAL;
	snprintf(a->buf, a->size, "%s", r.target);
	return 0;
}

int enrp_ns_readlink(enrp_store *st, uint64_t ino, char *buf, size_t size)
{
	if (size == 0)
		return -EINVAL;
	struct readlink_args a = { ino, buf, size };
	return enrp_store_read(st, readlink_fn, &a);
}

int ns_dir_scan(enrp_txn *t, uint64_t dir, const char *after, size_t after_len,
                ns_dirent_fn *cb, void *arg)
{
	uint8_t key[8 + ENRP_NAME_MAX];
	MDB_cursor *cur;
	if (after_len > ENRP_NAME_MAX)
		return -ENAMETOOLONG;
	be64_put(key, dir);
	memcpy(key + 8, after, after_len);
	int rc = txn_cursor(t, DBI_DIRENT, &cur);
	if (rc)
		return rc;
	MDB_val k = { .mv_size = 8 + after_len, .mv_data = key }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	/* Resuming: the entry named AFTER (if it is still there) was had. */
	if (mrc == 0 && after_len && k.mv_size == 8 + after_len &&
	    memcmp(k.mv_data, key, 8 + after_len) == 0)
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	while (mrc == 0) {
		uint64_t ino;
		uint32_t type;
		if (k.mv_size < 8 || memcmp(k.mv_data, key, 8) != 0)
			break;
		size_t n = k.mv_size - 8;
		if (n == 0 || n > ENRP_NAME_MAX ||
		    rec_dirent_decode(v.mv_data, v.mv_size, &ino, &type)) {
			rc = -EIO;
			break;
		}
		rc = cb(t, (const char *)k.mv_data + 8, n, ino, type, arg);
		if (rc)
			break;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
	mdb_cursor_close(cur);
	return rc;
}

struct readdir_args {
	int (*cb)(const struct enrp_dirent *ent, void *arg);
	void *arg;
	uint64_t ino;
	const char *after;
	size_t max, taken;
	unsigned flags;
};

static int readdir_one(enrp_txn *t, const char *nm, size_t n, uint64_t ino, uint32_t type,
                       void *arg)
{
	struct readdir_args *a = arg;
	char name[ENRP_NAME_MAX + 1];
	struct inode_rec r;
	struct enrp_dirent ent;
	if (a->taken == a->max)
		return 1;
	memcpy(name, nm, n);
	name[n] = '\0';
	ent.name = name;
	if (a->flags & ENRP_NS_READDIR_TYPE) {
		memset(&ent.attr, 0, sizeof(ent.attr));
		ent.attr.st.st_ino = ino;
		ent.attr.st.st_mode = (mode_t)type;
	} else {
		int rc = ns_inode_get(t, ino, &r);
		if (rc)
			return rc == -ENOENT ? -EIO : rc;
		ns_fill_stat(ino, &r, &ent.attr);
	}
	int rc = a->cb(&ent, a->arg);
	if (rc == 0)
		a->taken++;
	return rc;
}

static int readdir_fn(enrp_txn *t, void *arg)
{
	struct readdir_args *a = arg;
	struct inode_rec r;
	int rc = any_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	if (!is_dir(&r))
		return -ENOTDIR;
	a->taken = 0;
	return ns_dir_scan(t, a->ino, a->after, strlen(a->after), readdir_one, a);
}

int enrp_ns_readdir_from(enrp_store *st, uint64_t ino, const char *after, size_t max,
                         unsigned flags, int (*cb)(const struct enrp_dirent *ent, void *arg),
                         void *arg)
{
	if (max == 0)
		return 1;
	struct readdir_args a = { cb, arg, ino, after ? after : "", max, 0, flags };
	if (strlen(a.after) > ENRP_NAME_MAX)
		return -ENAMETOOLONG;
	/* A walk of many batches: let other EIRs' operations go first. */
	return enrp_store_read_bulk(st, readdir_fn, &a);
}

/* Entries read per transaction by enrp_ns_readdir: the store's lock is
 * free between batches, so a large directory never stalls other work. */
#define READDIR_BATCH 256

struct readdir_all {
	int (*cb)(const struct enrp_dirent *ent, void *arg);
	void *arg;
	char last[ENRP_NAME_MAX + 1];
	int stop; /* the caller's callback said stop */
};

static int readdir_all_one(const struct enrp_dirent *ent, void *arg)
{
	struct readdir_all *a = arg;
	int rc = a->cb(ent, a->arg);
	if (rc) {
		a->stop = rc;
		return 1;
	}
	snprintf(a->last, sizeof(a->last), "%s", ent->name);
	return 0;
}

int enrp_ns_readdir(enrp_store *st, uint64_t ino,
                    int (*cb)(const struct enrp_dirent *ent, void *arg), void *arg)
{
	struct readdir_all a = { .cb = cb, .arg = arg };
	int rc;
	do
		rc = enrp_ns_readdir_from(st, ino, a.last, READDIR_BATCH, 0, readdir_all_one, &a);
	while (rc == 1 && !a.stop);
	return a.stop ? a.stop : rc;
}

/* ---- setattr and writes ---- */

struct setattr_args {
	const struct enrp_caller *caller;
	uint64_t ino;
	const struct stat *attr;
	unsigned flags;
	struct enrp_stat *out;
	uint64_t size_max; /* enrp_spool_size_max, found before the txn */
	bool cut;          /* the spool file is cut to the new size once applied */
};

static int setattr_fn(enrp_txn *t, void *arg)
{
	struct setattr_args *a = arg;
	struct inode_rec r;
	a->cut = false; /* the transaction may be run again */
	int rc = any_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	if (a->ino == ENRP_ROOT_INO)
		return -EPERM;
	/* Cutting bytes off a file is a rewrite unless the caller wrote them
	 * in its own session (policy.h); cutting to zero replaces the file. */
	unsigned pflags = 0;
	if ((a->flags & ENRP_SETATTR_SIZE) && is_reg(&r) && a->attr->st_size != 0 &&
	    (uint64_t)a->attr->st_size < r.size && !(a->flags & ENRP_SETATTR_OWN_SESSION))
		pflags |= ENRP_POLICY_REWRITE;
	if ((a->flags & ENRP_SETATTR_SIZE) && (uint64_t)a->attr->st_size != r.size &&
	    (rc = add_held(t, a->ino, &r, &pflags)))
		return rc;
	rc = policy_flags_txn(t, r.eir_id, a->caller, ENRP_OP_WRITE, pflags);
	if (rc)
		return rc;
	unsigned flags = a->flags;
	/* The registry owns the EIR directory's owner, group and mode, and so
	 * who may enter it (enrp_policy_eir_dir).  A client's chmod or chown
	 * of it — what `rsync -a src/ EIR/` sends for "." — is accepted and
	 * changes nothing, so the nightly job exits 0 and access never widens. */
	if (is_dir(&r) && r.parent == ENRP_ROOT_INO)
		flags &= ~(unsigned)(ENRP_SETATTR_MODE | ENRP_SETATTR_UID | ENRP_SETATTR_GID);
	int64_t now = enrp_now_ns();
	/* A truncate of a spool file that changes nothing but its size (and
	 * mtime to now) is what its spool file tells after a crash. */
	unsigned now_times = (flags & ENRP_SETATTR_MTIME_NOW)
	                     ? ENRP_SETATTR_MTIME | ENRP_SETATTR_MTIME_NOW : 0;
	bool sized = (flags & ENRP_SETATTR_SIZE) &&
	             !(flags & ~(ENRP_SETATTR_SIZE | ENRP_SETATTR_OWN_SESSION | now_times));
	if (flags & ENRP_SETATTR_SIZE) {
		if (is_dir(&r))
			return -EISDIR;
		if (!is_reg(&r))
			return -EINVAL;
		uint64_t size = (uint64_t)a->attr->st_size;
		/* A sealed file's chunks are immutable: the caller turns it back
		 * into a spool file first (enrp_ingest_unseal). */
		if (r.content == ENRP_CONTENT_SEALED && size != r.size)
			return -EBUSY;
		/* Too large for any EIR before too large for this one's quota:
		 * EFBIG as from the filesystem below, never EDQUOT. */
		if (size > r.size && size > a->size_max)
			return -EFBIG;
		uint64_t old = ns_charge(&r);
		uint64_t grown = size > old ? size - old : 0;
		if (grown && (rc = quota_check(t, r.eir_id, grown)))
			return rc;
		/* A file that grows is extended here, idempotently, so that
		 * nothing sees its new size before its spool file has it (a short
		 * read is an end of file to the kernel).  A spool file that
		 * shrinks or keeps its size is cut once this is applied, with the
		 * store's lock released (enrp_ns_setattr): a truncate on ext4 can
		 * wait for a journal commit, and every operation waited with it. */
		if (size > r.size)
			rc = spool_truncate(t->st, a->ino, size, true);
		else
			a->cut = r.content == ENRP_CONTENT_SPOOL;
		/* What was cut off a rewritten file's base is gone from it, even
		 * if the file grows again (zeros, as in any file). */
		if (rc == 0)
			rc = base_cut_txn(t, r.eir_id, a->ino, size);
		if (rc)
			return rc;
		/* A cut into a base notes the change itself (base.c). */
		sized = sized && r.content == ENRP_CONTENT_SPOOL;
		if (size != r.size)
			r.gen++;
		/* Cutting a file frees every block past its new end, reserved
		 * ones included; growing it keeps them. */
		if (size < r.size) {
			sized = sized && r.alloc_end == 0;
			r.alloc_end = 0;
		}
		/* Emptied: a damaged base (see file_class) is gone with it. */
		if (size == 0 && r.content == ENRP_CONTENT_SPOOL) {
			sized = sized && !(r.flags & INODE_CORRUPT);
			r.flags &= ~INODE_CORRUPT;
		}
		r.size = size;
		charge_changed(t, &r, old);
		r.mtime = now;
	}
	if (flags & ENRP_SETATTR_MODE)
		r.mode = (r.mode & S_IFMT) | (a->attr->st_mode & 07777);
	if (flags & ENRP_SETATTR_UID)
		r.uid = a->attr->st_uid;
	if (flags & ENRP_SETATTR_GID)
		r.gid = a->attr->st_gid;
	if (flags & ENRP_SETATTR_ATIME_NOW)
		r.atime = now;
	else if (flags & ENRP_SETATTR_ATIME)
		r.atime = ts_to_ns(&a->attr->st_atim);
	if (flags & ENRP_SETATTR_MTIME_NOW)
		r.mtime = now;
	else if (flags & ENRP_SETATTR_MTIME)
		r.mtime = ts_to_ns(&a->attr->st_mtim);
	if (flags & ENRP_SETATTR_CTIME)
		r.ctime = ts_to_ns(&a->attr->st_ctim);
	else
		r.ctime = now;
	inode_put(t, a->ino, &r, sized);
	if (t->ret)
		return t->ret;
	if (a->out)
		ns_fill_stat(a->ino, &r, a->out);
	return 0;
}

int enrp_ns_setattr(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                    const struct stat *attr, unsigned flags, struct enrp_stat *out)
{
	if ((flags & ENRP_SETATTR_SIZE) && attr->st_size < 0)
		return -EINVAL;
	struct setattr_args a = { caller, ino, attr, flags, out, 0, false };
	if (flags & ENRP_SETATTR_SIZE)
		a.size_max = enrp_spool_size_max(st);
	int rc = enrp_store_write(st, setattr_fn, &a);
	/* Before the reply: the kernel sends no write of this file meanwhile
	 * (a truncate holds the inode's lock; the O_TRUNC open is not done).
	 * A read racing the truncate may still get the bytes being cut, as it
	 * may on any filesystem.  A crash between the commit and the cut
	 * leaves a spool file longer than its file, as a crash between the
	 * cut and the commit always could.  No spool file: sealed meanwhile,
	 * at this size, and nothing to cut. */
	if (rc == 0 && a.cut && (rc = spool_truncate(st, ino, (uint64_t)attr->st_size, false)))
		enrp_log(ENRP_LOG_ERR, "cannot cut the spool file of inode %llu to %lld bytes: %s",
		         (unsigned long long)ino, (long long)attr->st_size, strerror(-rc));
	return rc;
}

static int write_check_fn(enrp_txn *t, void *arg)
{
	struct check_args *a = arg;
	struct inode_rec r;
	int rc = ns_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	if (!is_reg(&r))
		return -EINVAL;
	unsigned pflags = 0;
	if (a->flags & ENRP_WRITE_CACHED)
		pflags |= ENRP_POLICY_CACHED;
	if ((a->flags & ENRP_WRITE_CHANGES_BYTES) && a->len && a->off < r.size &&
	    !(a->flags & ENRP_WRITE_OWN_SESSION))
		pflags |= ENRP_POLICY_REWRITE;
	if ((rc = add_held(t, a->ino, &r, &pflags)))
		return rc;
	rc = policy_flags_txn(t, r.eir_id, a->caller, ENRP_OP_WRITE, pflags);
	if (rc)
		return rc;
	/* Past the largest file: EFBIG before the quota's EDQUOT, as the
	 * filesystem below would answer in an EIR without one (a write that
	 * starts below the limit is cut short by the caller, as write(2) is). */
	uint64_t end = a->off + a->len;
	if (end < a->off || (end > a->size_max && a->len))
		return -EFBIG;
	uint64_t charged = ns_charge(&r);
	if (end > charged && !(a->flags & ENRP_WRITE_PUNCH))
		return quota_check(t, r.eir_id, end - charged);
	return 0;
}

int enrp_ns_write_check(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                        uint64_t off, uint64_t len, unsigned flags)
{
	struct check_args a = { .caller = caller, .ino = ino, .off = off, .len = len,
	                        .flags = flags, .size_max = enrp_spool_size_max(st) };
	int rc = enrp_store_read(st, write_check_fn, &a);
	/* The policy and the quota speak first; then the disk's reserve. */
	if (rc == 0 && len && !(flags & ENRP_WRITE_PUNCH))
		rc = enrp_store_data_room(st, len);
	return rc;
}

static int write_done_fn(enrp_txn *t, void *arg)
{
	struct check_args *a = arg;
	struct inode_rec r;
	int rc = ns_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	if (!is_reg(&r))
		return -EINVAL;
	if (r.content != ENRP_CONTENT_SPOOL)
		return -EBUSY;
	uint64_t old = ns_charge(&r);
	if (a->flags & ENRP_WRITE_RESERVED) {
		/* Space reserved past the end: charged, the size unchanged. */
		if (a->off > r.alloc_end)
			r.alloc_end = a->off;
		charge_changed(t, &r, old);
		ns_inode_put(t, a->ino, &r);
		if (t->ret)
			return t->ret;
		if (a->out)
			ns_fill_stat(a->ino, &r, a->out);
		return 0;
	}
	if (a->off > r.size) {
		r.size = a->off;
		charge_changed(t, &r, old);
	}
	r.gen++; /* a seal started before this write must not commit */
	r.mtime = r.ctime = enrp_now_ns();
	inode_put_sized(t, a->ino, &r);
	if (t->ret)
		return t->ret;
	if (a->out)
		ns_fill_stat(a->ino, &r, a->out);
	return 0;
}

int enrp_ns_write_done(enrp_store *st, uint64_t ino, uint64_t end, struct enrp_stat *out)
{
	struct check_args a = { .ino = ino, .off = end, .out = out };
	return enrp_store_write(st, write_done_fn, &a);
}

int enrp_ns_reserve_done(enrp_store *st, uint64_t ino, uint64_t end)
{
	struct check_args a = { .ino = ino, .off = end, .flags = ENRP_WRITE_RESERVED };
	return enrp_store_write(st, write_done_fn, &a);
}

/* ---- xattrs ---- */

static bool xattr_name_ours(const char *name)
{
	return strncmp(name, "user.", 5) == 0 && name[5] != '\0';
}

struct xattr_args {
	const struct enrp_caller *caller;
	uint64_t ino;
	const char *name;
	const void *value;
	void *buf;
	size_t size;
	size_t *len;
	int flags;
};

static int setxattr_fn(enrp_txn *t, void *arg)
{
	struct xattr_args *a = arg;
	struct inode_rec r;
	uint8_t key[8 + ENRP_NAME_MAX];
	MDB_val v;
	int rc = any_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	rc = policy_txn(t, r.eir_id, a->caller, ENRP_OP_WRITE);
	if (rc)
		return rc;
	size_t klen = key_xattr(key, a->ino, a->name);
	rc = txn_get(t, DBI_XATTR, key, klen, &v);
	if (rc && rc != -ENOENT)
		return rc;
	if (rc == 0 && (a->flags & XATTR_CREATE))
		return -EEXIST;
	if (rc == -ENOENT && (a->flags & XATTR_REPLACE))
		return -ENODATA;
	/* Names and values count against the quota (see the top). */
	uint64_t had = rc == 0 ? (klen - 8) + v.mv_size : 0;
	uint64_t will = a->value ? (klen - 8) + a->size : 0;
	if (a->value == NULL) { /* removal */
		if (rc == -ENOENT)
			return -ENODATA;
		if ((rc = snap_preserve(t, r.eir_id, DBI_XATTR, key, klen)))
			return rc;
		txn_del(t, DBI_XATTR, key, klen);
	} else {
		if (will > had && (rc = quota_check(t, r.eir_id, will - had)))
			return rc;
		if ((rc = snap_preserve(t, r.eir_id, DBI_XATTR, key, klen)))
			return rc;
		txn_put(t, DBI_XATTR, key, klen, a->value, a->size, 0);
	}
	if (will != had)
		eir_usage_add(t, r.eir_id, (int64_t)will - (int64_t)had, 0);
	r.ctime = enrp_now_ns();
	ns_inode_put(t, a->ino, &r);
	return t->ret;
}

int enrp_ns_setxattr(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                     const char *name, const void *value, size_t size, int flags)
{
	if (strlen(name) > ENRP_NAME_MAX)
		return -ERANGE;
	if (strcmp(name, "user.") == 0)
		return -EINVAL; /* a namespace with no name in it, as the VFS says */
	if (!xattr_name_ours(name))
		return -EOPNOTSUPP;
	if (size > XATTR_VALUE_MAX)
		return -E2BIG;
	if (!value && size)
		return -EINVAL;
	struct xattr_args a = { .caller = caller, .ino = ino, .name = name,
	                        .value = value ? value : "", .size = size, .flags = flags };
	return enrp_store_write(st, setxattr_fn, &a);
}

int enrp_ns_removexattr(enrp_store *st, const struct enrp_caller *caller, uint64_t ino,
                        const char *name)
{
	if (strlen(name) > ENRP_NAME_MAX || !xattr_name_ours(name))
		return -ENODATA;
	struct xattr_args a = { .caller = caller, .ino = ino, .name = name };
	return enrp_store_write(st, setxattr_fn, &a);
}

static int getxattr_fn(enrp_txn *t, void *arg)
{
	struct xattr_args *a = arg;
	uint8_t key[8 + ENRP_NAME_MAX];
	MDB_val v;
	size_t klen = key_xattr(key, a->ino, a->name);
	int rc = txn_get(t, DBI_XATTR, key, klen, &v);
	if (rc)
		return rc == -ENOENT ? -ENODATA : rc;
	*a->len = v.mv_size;
	if (a->size == 0)
		return 0;
	if (a->size < v.mv_size)
		return -ERANGE;
	memcpy(a->buf, v.mv_data, v.mv_size);
	return 0;
}

int enrp_ns_getxattr(enrp_store *st, uint64_t ino, const char *name, void *buf,
                     size_t size, size_t *len)
{
	if (strlen(name) > ENRP_NAME_MAX || !xattr_name_ours(name))
		return -ENODATA;
	struct xattr_args a = { .ino = ino, .name = name, .buf = buf, .size = size, .len = len };
	return enrp_store_read(st, getxattr_fn, &a);
}

static int listxattr_one(enrp_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	(void)t, (void)v;
	struct xattr_args *a = arg;
	size_t n = k->mv_size - 8;
	if (a->size && *a->len + n + 1 <= a->size) {
		memcpy((char *)a->buf + *a->len, (const char *)k->mv_data + 8, n);
		((char *)a->buf)[*a->len + n] = '\0';
	}
	*a->len += n + 1;
	return 0;
}

static int listxattr_fn(enrp_txn *t, void *arg)
{
	struct xattr_args *a = arg;
	*a->len = 0;
	int rc = prefix_walk(t, DBI_XATTR, a->ino, listxattr_one, a);
	if (rc)
		return rc;
	if (a->size && *a->len > a->size)
		return -ERANGE;
	return 0;
}

int enrp_ns_listxattr(enrp_store *st, uint64_t ino, char *buf, size_t size, size_t *len)
{
	struct xattr_args a = { .ino = ino, .buf = buf, .size = size, .len = len };
	return enrp_store_read(st, listxattr_fn, &a);
}

/* ---- statfs ---- */

struct statfs_args {
	uint64_t ino;
	struct enrp_eir eir;
	struct enrp_eir_usage usage;
	bool have_eir;
};

static int statfs_fn(enrp_txn *t, void *arg)
{
	struct statfs_args *a = arg;
	struct inode_rec r;
	int rc = any_inode_get(t, a->ino, &r);
	if (rc || r.eir_id == 0)
		return rc;
	rc = eir_get_txn(t, r.eir_id, &a->eir);
	if (rc == 0)
		rc = eir_usage_get_txn(t, r.eir_id, &a->usage);
	a->have_eir = rc == 0;
	return rc;
}

int enrp_ns_statfs(enrp_store *st, uint64_t ino, struct statvfs *out)
{
	struct statfs_args a = { .ino = ino };
	int rc = enrp_store_read(st, statfs_fn, &a);
	if (rc)
		return rc;
	struct statvfs disk;
	if (statvfs(enrp_store_path(st), &disk) < 0)
		return -errno;
	/* Inside an EIR, its own accounting; at the root, the store's disk.
	 * No per-EIR inode limit exists yet: 0 (none) until one does. */
	if (a.have_eir)
		enrp_eir_statfs(a.eir.quota, a.eir.max_files, &a.usage, &disk, out);
	else
		*out = disk;
	out->f_namemax = ENRP_NAME_MAX;
	return 0;
}

/* ---- orphans and recovery ---- */

struct xattr_del {
	uint32_t eir_id;
	uint64_t count, bytes;
};

static int xattr_del_one(enrp_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct xattr_del *x = arg;
	x->count++;
	x->bytes += (k->mv_size - 8) + v->mv_size;
	uint8_t kb[8 + ENRP_NAME_MAX + 1];
	if (k->mv_size > sizeof(kb))
		return t->ret = -EIO;
	memcpy(kb, k->mv_data, k->mv_size); /* the key lives in pages the put below may move */
	MDB_val key = { .mv_size = k->mv_size, .mv_data = kb };
	int rc = x->eir_id ? snap_preserve(t, x->eir_id, DBI_XATTR, kb, k->mv_size) : 0;
	if (rc)
		return t->ret = rc;
	rc = mdb_del(t->txn, store_dbi(t, DBI_XATTR), &key, NULL);
	return rc ? (t->ret = store_mdb_err(rc)) : 0;
}

/* Frees orphan INO: inode, xattrs, index entries; the spool file goes after
 * the commit is durable.  Returns 1 (nothing freed) for a stale entry. */
static int free_orphan(enrp_txn *t, uint64_t ino)
{
	struct inode_rec r;
	uint8_t k[8];
	be64_put(k, ino);
	int rc = ns_inode_get(t, ino, &r);
	if (rc && rc != -ENOENT)
		return rc;
	bool have = rc == 0; /* a missing record leaves only index entries to drop */
	struct trash_note note;
	MDB_val ov;
	if ((rc = txn_get(t, DBI_ORPHAN, k, 8, &ov)) && rc != -ENOENT)
		return rc;
	/* A note that does not decode costs the copy its name, never its bytes. */
	if (rc || trash_note_decode(ov.mv_data, ov.mv_size, &note))
		trash_note_decode("", 0, &note);
	if (have && r.nlink != 0) {
		/* A stale index entry (damage): drop it, keep the live inode. */
		enrp_log(ENRP_LOG_WARNING, "inode %llu is linked but listed as orphan; unlisted",
		         (unsigned long long)ino);
		txn_del(t, DBI_ORPHAN, k, 8);
		return t->ret ? t->ret : 1;
	}
	/* Deleting while walking: restart the walk until nothing is left. */
	uint64_t xattr_bytes = 0;
	for (;;) {
		struct xattr_del x = { have ? r.eir_id : 0, 0, 0 };
		rc = prefix_walk(t, DBI_XATTR, ino, xattr_del_one, &x);
		xattr_bytes += x.bytes;
		if (rc || x.count == 0)
			break;
	}
	if (rc)
		return rc;
	if (have && r.content == ENRP_CONTENT_SEALED && (rc = trash_or_release(t, ino, &r, &note)))
		return rc;
	/* A rewrite in progress: its base's chunk list lets go too.  (Its
	 * verified copy went to trash when the rewrite began.) */
	if (have && r.content == ENRP_CONTENT_SPOOL && (rc = base_end_txn(t, r.eir_id, ino, true)))
		return rc;
	if (have && ns_charge(&r) + xattr_bytes)
		eir_usage_add(t, r.eir_id, -(int64_t)(ns_charge(&r) + xattr_bytes), 0);
	MDB_val sv;
	if (txn_get(t, DBI_SPOOL, k, 8, &sv) == 0) {
		if (sv.mv_size == QUEUE_KEY_LEN) {
			uint8_t qk[QUEUE_KEY_LEN];
			memcpy(qk, sv.mv_data, sizeof(qk));
			txn_del(t, DBI_QUEUE, qk, sizeof(qk));
		}
		txn_del(t, DBI_SPOOL, k, 8);
		txn_on_durable(t, spool_unlink_hook, ino);
	}
	if (have && (rc = snap_preserve(t, r.eir_id, DBI_INODE, k, 8)))
		return rc;
	txn_del(t, DBI_INODE, k, 8);
	txn_del(t, DBI_ORPHAN, k, 8);
	return t->ret;
}

static int forget_fn(enrp_txn *t, void *arg)
{
	uint64_t ino = *(uint64_t *)arg;
	uint8_t k[8];
	MDB_val v;
	be64_put(k, ino);
	int rc = txn_get(t, DBI_ORPHAN, k, 8, &v);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = free_orphan(t, ino);
	return rc > 0 ? 0 : rc;
}

/* Whether INO has an entry in DB (its orphan or spool record). */
struct ino_listed_args {
	enum store_dbi db;
	uint64_t ino;
	bool listed;
};

static int ino_listed_fn(enrp_txn *t, void *arg)
{
	struct ino_listed_args *a = arg;
	uint8_t k[8];
	MDB_val v;
	be64_put(k, a->ino);
	int rc = txn_get(t, a->db, k, 8, &v);
	a->listed = rc == 0;
	return rc == -ENOENT ? 0 : rc;
}

int enrp_ns_forget(enrp_store *st, uint64_t ino)
{
	/* Most forgets are of linked inodes (the kernel trimming its cache:
	 * 100,000 at a time after a drop of caches): a read tells, without a
	 * write for each.  Nothing can make INO an orphan meanwhile but
	 * retention's expiry, which frees it itself (node_release_unknown). */
	struct ino_listed_args o = { DBI_ORPHAN, ino, false };
	int rc = enrp_store_read(st, ino_listed_fn, &o);
	if (rc || !o.listed)
		return rc;
	return enrp_store_write(st, forget_fn, &ino);
}

/* Orphans listed per read by enrp_ns_free_unheld_orphans. */
#define ORPHAN_BATCH 256

struct orphan_batch {
	uint64_t after; /* list those past this inode number */
	uint64_t ino[ORPHAN_BATCH];
	size_t n;
};

static int orphan_batch_fn(enrp_txn *t, void *arg)
{
	struct orphan_batch *b = arg;
	MDB_cursor *cur;
	b->n = 0;
	int rc = txn_cursor(t, DBI_ORPHAN, &cur);
	if (rc)
		return rc;
	uint8_t kb[8];
	be64_put(kb, b->after + 1);
	MDB_val k = { .mv_size = 8, .mv_data = kb }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && b->n < ORPHAN_BATCH) {
		if (k.mv_size == 8)
			b->ino[b->n++] = be64_get(k.mv_data);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? (t->ret = store_mdb_err(mrc)) : 0;
}

int enrp_ns_free_unheld_orphans(enrp_store *st, bool (*held)(uint64_t ino, void *arg), void *arg,
                                uint64_t *freed)
{
	struct orphan_batch *b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	int rc = 0, first_err = 0;
	uint64_t n = 0;
	b->after = 0;
	/* A batch per read: the store's lock is free between them, and each
	 * orphan is freed in its own write, as a forget frees it. */
	do {
		rc = enrp_store_read(st, orphan_batch_fn, b);
		for (size_t i = 0; rc == 0 && i < b->n; i++) {
			b->after = b->ino[i];
			if (held(b->ino[i], arg))
				continue;
			/* Listed as an orphan just now: no look before the write. */
			int frc = enrp_store_write(st, forget_fn, &b->ino[i]);
			if (frc && !first_err)
				first_err = frc;
			n += frc == 0;
		}
	} while (rc == 0 && b->n == ORPHAN_BATCH);
	free(b);
	if (freed)
		*freed = n;
	return rc ? rc : first_err;
}

struct recover_args {
	uint64_t orphans;
};

static int recover_fn(enrp_txn *t, void *arg)
{
	struct recover_args *a = arg;
	MDB_cursor *cur;
	int rc;
	/* Free one at a time from the start: freeing deletes the cursor's key. */
	for (;;) {
		rc = txn_cursor(t, DBI_ORPHAN, &cur);
		if (rc)
			return rc;
		MDB_val k, v;
		int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		uint64_t ino = mrc == 0 && k.mv_size == 8 ? be64_get(k.mv_data) : 0;
		mdb_cursor_close(cur);
		if (mrc == MDB_NOTFOUND)
			return 0;
		if (mrc)
			return t->ret = store_mdb_err(mrc);
		if (ino == 0)
			return t->ret = -EIO;
		rc = free_orphan(t, ino);
		if (rc < 0)
			return rc;
		if (rc == 0)
			a->orphans++;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Counts the file states of every EIR that has no record of them (a store
 * written before they existed): one pass over the inodes, at mount only. */
static int files_rebuild_fn(enrp_txn *t, void *arg)
{
	size_t *counted = arg, n;
	uint32_t *ids;
	struct enrp_eir_files *f = NULL;
	MDB_cursor *cur = NULL;
	*counted = 0;
	int rc = eir_files_missing(t, &ids, &n);
	if (rc || n == 0)
		goto out;
	qsort(ids, n, sizeof(*ids), cmp_u32);
	f = calloc(n, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = txn_cursor(t, DBI_INODE, &cur)))
		goto out;
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct inode_rec r;
		if (rec_inode_decode(v.mv_data, v.mv_size, &r))
			continue; /* fsck's to report */
		int c = ns_file_class(&r);
		uint32_t *p = c < 0 ? NULL : bsearch(&r.eir_id, ids, n, sizeof(*ids), cmp_u32);
		if (!p)
			continue;
		struct enrp_eir_files *x = &f[p - ids];
		uint64_t *slot[] = { &x->open, &x->pending, &x->verified, &x->corrupt };
		(*slot[c])++;
		if (r.content == ENRP_CONTENT_SEALED && r.sealed_at > x->last_sealed)
			x->last_sealed = r.sealed_at;
	}
	if (mrc != MDB_NOTFOUND) {
		rc = t->ret = store_mdb_err(mrc);
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = eir_files_put(t, ids[i], &f[i]);
	if (rc == 0)
		*counted = n;
out:
	if (cur)
		mdb_cursor_close(cur);
	free(f);
	free(ids);
	return rc;
}

/* ---- fsync without a commit ---- */

struct sync_plan_args {
	uint64_t ino;
	bool alone;
	uint64_t gen;
};

static int sync_plan_fn(enrp_txn *t, void *arg)
{
	struct sync_plan_args *a = arg;
	struct inode_rec r;
	int rc = ns_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	a->gen = r.gen;
	a->alone = store_group_commit(t->st) && is_reg(&r) && r.content == ENRP_CONTENT_SPOOL &&
	           r.nlink > 0 && txn_inode_change_durable(t, a->ino);
	return 0;
}

int enrp_ns_sync_plan(enrp_store *st, uint64_t ino, bool *alone, uint64_t *gen)
{
	struct sync_plan_args a = { .ino = ino };
	int rc = enrp_store_read(st, sync_plan_fn, &a);
	*alone = rc == 0 && a.alone;
	*gen = a.gen;
	return rc;
}

int ino_list_push(struct ino_list *l, uint64_t ino)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		uint64_t *nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = ino;
	return 0;
}

static int spool_inos_fn(enrp_txn *t, void *arg)
{
	struct ino_list *l = arg;
	MDB_cursor *cur;
	l->n = 0;
	int rc = txn_cursor(t, DBI_SPOOL, &cur);
	if (rc)
		return rc;
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; mrc == 0 && rc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (k.mv_size == 8) /* else fsck's to report */
			rc = ino_list_push(l, be64_get(k.mv_data));
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND ? 0 : store_mdb_err(mrc);
}

struct sized_spool {
	uint64_t ino, gen, size;
	int64_t mtime;
	bool raised;
};

static int sized_recover_fn(enrp_txn *t, void *arg)
{
	struct sized_spool *a = arg;
	struct inode_rec r;
	a->raised = false;
	int rc = ns_inode_get(t, a->ino, &r);
	if (rc == -ENOENT)
		return 0;
	/* A record changed after the note was taken is the newer truth. */
	if (rc || !is_reg(&r) || r.content != ENRP_CONTENT_SPOOL || a->gen < r.gen ||
	    a->size == r.size)
		return rc;
	uint64_t old = ns_charge(&r);
	if ((rc = base_cut_txn(t, r.eir_id, a->ino, a->size)))
		return rc;
	r.size = a->size;
	r.gen = a->gen + 1;
	if (a->mtime > r.mtime)
		r.mtime = a->mtime;
	if (r.mtime > r.ctime)
		r.ctime = r.mtime;
	charge_changed(t, &r, old);
	ns_inode_put(t, a->ino, &r);
	a->raised = t->ret == 0;
	return t->ret;
}

/* Files whose last fsync made only their spool file durable (an fsync
 * without a commit, enrp_ns_sync_plan): each one's spool file, noted with
 * a generation no older than its record's, tells its size.  Quotas do not
 * refuse these bytes: the client was told they were written.  *RAISED
 * counts the records changed. */
static int spool_sizes_recover(enrp_store *st, uint64_t *raised)
{
	struct ino_list l = { 0 };
	*raised = 0;
	int rc = enrp_store_read(st, spool_inos_fn, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		char name[SPOOL_NAME_LEN + 1];
		struct sized_spool a = { .ino = l.v[i] };
		struct stat sb;
		spool_name(name, a.ino);
		int fd = openat(store_spool_dirfd(st), name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			rc = errno == ENOENT ? 0 : -errno; /* base_recover_spools, fsck */
			continue;
		}
		rc = enrp_spool_sized_gen(fd, a.ino, &a.gen);
		if (rc == 0 && fstat(fd, &sb) < 0)
			rc = -errno;
		close(fd);
		if (rc == -ENODATA) {
			rc = 0;
			continue;
		}
		if (rc)
			break;
		a.size = (uint64_t)sb.st_size;
		a.mtime = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
		rc = enrp_store_write(st, sized_recover_fn, &a);
		if (rc == 0 && a.raised)
			(*raised)++;
	}
	free(l.v);
	return rc;
}

int enrp_ns_recover(enrp_store *st, uint64_t *orphans_freed, uint64_t *spools_removed)
{
	struct recover_args a = { 0 };
	size_t counted;
	int rc = enrp_store_write(st, files_rebuild_fn, &counted);
	if (rc)
		return rc;
	if (counted)
		enrp_log(ENRP_LOG_INFO, "counted the file states of %zu EIR(s) (a store older "
		         "than those counts)", counted);
	rc = enrp_store_write(st, recover_fn, &a);
	if (rc == 0)
		rc = enrp_store_sync(st);
	if (rc)
		return rc;
	if (orphans_freed)
		*orphans_freed = a.orphans;
	uint64_t rewrites;
	if ((rc = base_recover_spools(st, &rewrites)))
		return rc;
	store_recovered_add(st, STORE_RECOVERED_REWRITES, rewrites);
	if (rewrites)
		enrp_log(ENRP_LOG_NOTICE, "%" PRIu64 " rewritten file(s) had lost their spool file "
		         "in a crash: made again, they read as before the rewrite", rewrites);
	uint64_t sized;
	if ((rc = spool_sizes_recover(st, &sized)))
		return rc;
	if (sized && (rc = enrp_store_sync(st)))
		return rc;
	store_recovered_add(st, STORE_RECOVERED_SIZES, sized);
	if (sized)
		enrp_log(ENRP_LOG_NOTICE, "%" PRIu64 " file(s) fsync'd since their last commit: "
		         "their sizes are taken from their spool files", sized);

	/* Spool files no inode references: creations lost with their group.
	 * Pool files (spool.c) are listed again for reuse. */
	uint64_t removed = 0, pooled;
	int dfd = dup(store_spool_dirfd(st));
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	rewinddir(d);
	spool_pool_reset(st);
	struct dirent *de;
	while ((de = readdir(d))) {
		struct ino_listed_args k = { DBI_SPOOL, 0, false };
		if (spool_parse_pool_name(de->d_name, &pooled)) {
			if (!spool_pool_add(st, pooled))
				unlinkat(store_spool_dirfd(st), de->d_name, 0);
			continue;
		}
		if (!spool_parse_name(de->d_name, &k.ino))
			continue;
		rc = enrp_store_read(st, ino_listed_fn, &k);
		if (rc)
			break;
		if (!k.listed && unlinkat(store_spool_dirfd(st), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	if (spools_removed)
		*spools_removed = removed;
	return rc;
}

/* ---- for trash ---- */

int ns_restore_file(enrp_txn *t, uint64_t parent, const char *name, struct inode_rec *r,
                    uint64_t *ino)
{
	struct inode_rec p;
	uint64_t existing;
	uint32_t type;
	int rc = name_check(name);
	if (rc)
		return rc;
	if ((rc = ns_inode_get(t, parent, &p)))
		return rc;
	if (!is_dir(&p))
		return -ENOTDIR;
	if (p.nlink == 0 || p.eir_id != r->eir_id)
		return -ENOENT; /* a removed directory, or another EIR's */
	if (is_eir_root(&p) && enrp_ns_reserved(name))
		return -EEXIST;
	rc = dirent_get(t, parent, name, &existing, &type);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	int64_t now = enrp_now_ns();
	r->nlink = 1;
	r->ctime = r->btime = now;
	r->parent = 0;
	r->flags = 0;
	if ((rc = new_inode(t, ino)))
		return rc;
	ns_inode_put(t, *ino, r);
	dirent_put(t, r->eir_id, parent, name, *ino, r->mode);
	p.mtime = p.ctime = now;
	ns_inode_put(t, parent, &p);
	/* Live again, so charged again; an operator's restore is not refused
	 * for the owner's quota. */
	eir_usage_add(t, r->eir_id, (int64_t)ns_charge(r), 1);
	return t->ret;
}

/* ---- for the EIR registry ---- */

int ns_create_eir_root(enrp_txn *t, const struct enrp_eir *e, uint64_t *ino)
{
	struct inode_rec root, r;
	int rc = ns_inode_get(t, ENRP_ROOT_INO, &root);
	if (rc == -ENOENT) {
		rc = root_get(t, &root);
		root.atime = root.mtime = root.ctime = root.btime = enrp_now_ns();
	}
	if (rc)
		return rc;
	int64_t now = enrp_now_ns();
	struct enrp_dir_access acc;
	enrp_policy_eir_dir(e, &acc);
	memset(&r, 0, sizeof(r));
	r.eir_id = e->id;
	r.mode = S_IFDIR | acc.mode;
	r.uid = acc.uid;
	r.gid = acc.gid;
	r.nlink = 2;
	r.parent = ENRP_ROOT_INO;
	r.atime = r.mtime = r.ctime = r.btime = now;
	rc = new_inode(t, ino);
	if (rc)
		return rc;
	ns_inode_put(t, *ino, &r);
	dirent_put(t, 0, ENRP_ROOT_INO, e->name, *ino, r.mode);
	root.nlink++;
	root.mtime = root.ctime = now;
	ns_inode_put(t, ENRP_ROOT_INO, &root);
	return t->ret;
}

int ns_spool_released(enrp_txn *t, struct inode_rec *r)
{
	uint64_t old = ns_charge(r);
	r->alloc_end = 0;
	return charge_changed(t, r, old);
}

int ns_update_eir_root(enrp_txn *t, const struct enrp_eir *e)
{
	struct inode_rec r;
	int rc = ns_inode_get(t, e->root_ino, &r);
	if (rc)
		return rc;
	struct enrp_dir_access acc;
	enrp_policy_eir_dir(e, &acc);
	if (r.mode == (S_IFDIR | acc.mode) && r.uid == acc.uid && r.gid == acc.gid)
		return 0;
	r.mode = S_IFDIR | acc.mode;
	r.uid = acc.uid;
	r.gid = acc.gid;
	r.ctime = enrp_now_ns();
	return ns_inode_put(t, e->root_ino, &r);
}
