/*
 * snapmount.c — a snapshot mount: `enrpfs -o snapshot=EIR@NAME STORE MNT`
 * serves one snapshot, read-only, as the whole mount (DESIGN §6; issue 9,
 * item 2), for operators' test restores.
 *
 * It is a second process beside the store's daemon, which stays the only
 * writer: the store is opened ENRP_STORE_RDONLY (LMDB readers of another
 * process; no format upgrade, no database created), the daemon lock is not
 * taken, the ingest pipeline has no seal workers (it gives the verifying
 * chunk reader and its cache), and nothing here writes the store — not
 * even the journal: `enrpctl snapshot mount` journals the mount.  The one
 * file it writes is its lock in STORE/run/ (rundir.h), which keeps the
 * snapshot from being deleted while it is mounted.
 *
 * Inode numbers: 1 is the snapshot's root (the EIR directory as it was);
 * every other one is the live inode number the snapshot view uses (below
 * 2^40), so a file has one number for its whole life and none of
 * hidden.c's bits or slots are needed.  Two virtual inodes above that,
 * .enrp/ and .enrp/SHA256SUMS, carry the snapshot's checksum list in the
 * live list's format, rendered once (a snapshot never changes), so `cd MNT
 * && sha256sum -c .enrp/SHA256SUMS` proves every restored byte.
 *
 * Nothing changes a snapshot, so entries and attributes are cached by the
 * kernel for long.  File data is read through the chunk reader, which
 * checks every chunk; opens do not keep the page cache (keep_cache off),
 * so a reopened file is verified again.
 *
 * Who may use it: the mount is made without allow_other, so the kernel
 * lets in only the mounting account (root included: FUSE refuses other
 * users' mounts to root too).  With -o allow=USER|GROUP[:...] it is made
 * with allow_other, and every request is checked here against the
 * mounter and the list (EACCES otherwise).  Anyone let in reads the whole
 * snapshot: the mount itself is the permission (default_permissions is
 * off), as an operator's restore must not depend on each owner's modes.
 * The EIR's mode (ro, wo, ...) does not apply: a drill of a write-only EIR
 * must not need its mode changed.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <enrp/codec.h>
#include <enrp/enrp.h>
#include <enrp/rundir.h>
#include <enrp/snapshot.h>
#include <enrp/status.h>

#include "fs.h"

/* Virtual inodes: far above every live inode number (< 2^40). */
#define SM_ENRP_DIR_INO ((1ull << 62) | 1)
#define SM_SUMS_INO ((1ull << 62) | 2)

/* Nothing changes a snapshot: the kernel may keep what it learnt. */
#define SM_TIMEOUT 3600.0

struct snapmount {
	struct enrp_snapshot snap;
	struct enrp_eir eir;
	int lock_fd;                 /* shared lock: mounted (rundir.h) */
	uid_t mounter;
	bool restricted;             /* allow= given: ops check callers */
	uid_t *uids;
	gid_t *gids;
	size_t nuids, ngids;
	pthread_mutex_t sums_lock;
	char *sums;                  /* protected by sums_lock; rendered once */
	size_t sums_len;             /* protected by sums_lock */
};

static struct snapmount *sm_of(fuse_req_t req)
{
	return fs_of(req)->snapmount;
}

/* ---- access ---- */

static bool id_in(const uint32_t *v, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

static bool caller_allowed(fuse_req_t req, const struct snapmount *sm)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	if (!sm->restricted || ctx->uid == sm->mounter || id_in(sm->uids, sm->nuids, ctx->uid) ||
	    id_in(sm->gids, sm->ngids, ctx->gid))
		return true;
	if (!sm->ngids)
		return false;
	gid_t groups[256];
	int n = fuse_req_getgroups(req, 256, groups);
	for (int i = 0; i < n && i < 256; i++)
		if (id_in(sm->gids, sm->ngids, groups[i]))
			return true;
	return false;
}

/* Replies EACCES to a caller the mount is not open to; true if it did. */
static bool refused(fuse_req_t req)
{
	if (caller_allowed(req, sm_of(req)))
		return false;
	fuse_reply_err(req, EACCES);
	return true;
}

static int add_id(uint32_t **v, size_t *n, uint32_t id)
{
	uint32_t *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = id;
	*v = nv;
	return 0;
}

int snapmount_allow(struct snapmount_access *a, const char *list, char *bad, size_t badsz)
{
	char *copy = strdup(list), *save = NULL;
	int rc = copy ? 0 : -ENOMEM;
	for (char *name = copy ? strtok_r(copy, ":", &save) : NULL; rc == 0 && name;
	     name = strtok_r(NULL, ":", &save)) {
		/* A name that is both (a user's own group) lets in both. */
		struct passwd *pw = getpwnam(name);
		struct group *gr = getgrnam(name);
		if (!pw && !gr) {
			snprintf(bad, badsz, "%s", name);
			rc = -ENOENT;
			break;
		}
		if (pw)
			rc = add_id(&a->uids, &a->nuids, pw->pw_uid);
		if (rc == 0 && gr)
			rc = add_id(&a->gids, &a->ngids, gr->gr_gid);
	}
	if (rc == 0 && !a->nuids && !a->ngids) {
		snprintf(bad, badsz, "%s", list);
		rc = -EINVAL;
	}
	free(copy);
	return rc;
}

/* ---- inode numbers ---- */

static uint64_t live_ino(const struct snapmount *sm, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? sm->eir.root_ino : ino;
}

static fuse_ino_t mount_ino(const struct snapmount *sm, uint64_t ino)
{
	return ino == sm->eir.root_ino ? FUSE_ROOT_ID : ino;
}

/* The checksum list, rendered at its first use. */
static int sums_get(struct fs *fs, const char **text, size_t *len)
{
	struct snapmount *sm = fs->snapmount;
	int rc = 0;
	pthread_mutex_lock(&sm->sums_lock);
	if (!sm->sums)
		rc = enrp_status_render_snapshot(fs->st, &sm->snap, &sm->sums, &sm->sums_len);
	*text = sm->sums;
	*len = sm->sums_len;
	pthread_mutex_unlock(&sm->sums_lock);
	return rc;
}

/* Attributes of INO as the kernel sees it. */
static int sm_stat(struct fs *fs, fuse_ino_t ino, struct stat *out)
{
	struct snapmount *sm = fs->snapmount;
	struct enrp_stat root;
	int rc;
	if (ino == SM_ENRP_DIR_INO || ino == SM_SUMS_INO) {
		rc = enrp_snapshot_getattr(fs->st, &sm->snap, sm->eir.root_ino, &root);
		if (rc)
			return rc;
		*out = root.st;
		out->st_ino = ino;
		if (ino == SM_ENRP_DIR_INO) {
			out->st_mode = S_IFDIR | 0555;
			out->st_nlink = 2;
			return 0;
		}
		const char *text;
		size_t len;
		if ((rc = sums_get(fs, &text, &len)))
			return rc;
		out->st_mode = S_IFREG | 0444;
		out->st_nlink = 1;
		out->st_size = (off_t)len;
		out->st_blocks = (blkcnt_t)((len + 511) / 512);
		return 0;
	}
	struct enrp_stat s;
	rc = enrp_snapshot_getattr(fs->st, &sm->snap, live_ino(sm, ino), &s);
	if (rc == 0) {
		*out = s.st;
		out->st_ino = ino;
	}
	return rc;
}

static void reply_entry_of(fuse_req_t req, struct fs *fs, fuse_ino_t ino)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	int rc = sm_stat(fs, ino, &e.attr);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	e.ino = ino;
	e.generation = 1;
	e.attr_timeout = e.entry_timeout = SM_TIMEOUT;
	fuse_reply_entry(req, &e);
}

/* ---- ops ---- */

static void sm_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* A restore reads dumps front to back: large requests, as live. */
	conn->max_readahead = 1 << 20;
}

static void sm_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct snapmount *sm = fs->snapmount;
	if (refused(req))
		return;
	if (parent == FUSE_ROOT_ID && strcmp(name, ENRP_STATUS_DIR_NAME) == 0) {
		reply_entry_of(req, fs, SM_ENRP_DIR_INO);
		return;
	}
	if (parent == SM_ENRP_DIR_INO) {
		if (strcmp(name, enrp_status_file_name(ENRP_STATUS_SHA256SUMS)) == 0)
			reply_entry_of(req, fs, SM_SUMS_INO);
		else
			fuse_reply_err(req, ENOENT);
		return;
	}
	struct enrp_stat s;
	int rc = parent == SM_SUMS_INO ? -ENOTDIR
	                               : enrp_snapshot_lookup(fs->st, &sm->snap, live_ino(sm, parent),
	                                                      name, &s);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_entry_of(req, fs, mount_ino(sm, s.st.st_ino));
}

/* Nothing is counted per inode: every number stays valid for the mount's
 * life, as the snapshot does. */
static void sm_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino, (void)nlookup;
	fuse_reply_none(req);
}

static void sm_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count, (void)forgets;
	fuse_reply_none(req);
}

static void sm_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	if (refused(req))
		return;
	int rc = sm_stat(fs_of(req), ino, &st);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, SM_TIMEOUT);
}

static void sm_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	char target[ENRP_SYMLINK_MAX + 1];
	if (refused(req))
		return;
	int rc = enrp_snapshot_readlink(fs->st, &fs->snapmount->snap, live_ino(fs->snapmount, ino),
	                                target, sizeof(target));
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

static void sm_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs sv;
	if (refused(req))
		return;
	if (statvfs(fs_of(req)->store_path, &sv) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	/* Nothing can be written here. */
	sv.f_bfree = sv.f_bavail = 0;
	sv.f_ffree = sv.f_favail = 0;
	sv.f_flag |= ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

/* Every request that would change something. */
static void sm_erofs(fuse_req_t req)
{
	fuse_reply_err(req, EROFS);
}

static void sm_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
	(void)ino, (void)attr, (void)to_set, (void)fi;
	sm_erofs(req);
}

static void sm_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                     dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	sm_erofs(req);
}

static void sm_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	sm_erofs(req);
}

static void sm_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	sm_erofs(req);
}

static void sm_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	sm_erofs(req);
}

static void sm_remove(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	sm_erofs(req);
}

static void sm_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	sm_erofs(req);
}

static void sm_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	sm_erofs(req);
}

static void sm_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
	(void)ino, (void)buf, (void)size, (void)off, (void)fi;
	sm_erofs(req);
}

static void sm_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                         struct fuse_file_info *fi)
{
	(void)ino, (void)mode, (void)offset, (void)length, (void)fi;
	sm_erofs(req);
}

static void sm_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
	(void)ino, (void)name, (void)value, (void)size, (void)flags;
	sm_erofs(req);
}

static void sm_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino, (void)name;
	sm_erofs(req);
}

/* What the live mount shows: enrp.state and enrp.sha256 of a file (what it
 * was sealed with: every file of a snapshot is), and the user.* attributes
 * each inode had at the snapshot's instant. */
static void sm_xattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	if (refused(req))
		return;
	struct fs *fs = fs_of(req);
	struct snapmount *sm = fs->snapmount;
	if (ino == SM_ENRP_DIR_INO || ino == SM_SUMS_INO) {
		if (name)
			fuse_reply_err(req, ENODATA);
		else
			reply_xattr_text(req, "", size);
		return;
	}
	if (name && (strcmp(name, "enrp.state") == 0 || strcmp(name, "enrp.sha256") == 0)) {
		struct enrp_stat s;
		int rc = enrp_snapshot_getattr(fs->st, &sm->snap, live_ino(sm, ino), &s);
		char hex[2 * 32 + 1];
		if (rc)
			fuse_reply_err(req, -rc);
		else if (!S_ISREG(s.st.st_mode))
			fuse_reply_err(req, ENODATA);
		else if (strcmp(name, "enrp.state") == 0)
			reply_xattr_text(req, enrp_file_state_name(s.state), size);
		else {
			enrp_hex(s.sha256, 32, hex);
			reply_xattr_text(req, hex, size);
		}
		return;
	}
	reply_stored_xattr(req, fs->st, &sm->snap, live_ino(sm, ino), name, size);
}

static void sm_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	sm_xattr(req, ino, name, size);
}

static void sm_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	sm_xattr(req, ino, NULL, size);
}

/* .enrp/SHA256SUMS: the rendered text, borrowed from the mount. */
struct sums_file {
	struct handle h;
};

static void sums_file_destroy(struct handle *h)
{
	free(h);
}

static void sm_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct snapmount *sm = fs->snapmount;
	struct handle *h = NULL;
	struct stat st;
	if (refused(req))
		return;
	int rc = sm_stat(fs, ino, &st);
	if (rc == 0 && S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (rc == 0 && ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)))
		rc = -EROFS;
	if (rc == 0 && ino == SM_SUMS_INO) {
		struct sums_file *f = calloc(1, sizeof(*f));
		if (f) {
			handle_init(&f->h, NULL, sums_file_destroy);
			h = &f->h;
		} else {
			rc = -ENOMEM;
		}
	} else if (rc == 0) {
		rc = snap_file_new(fs, &sm->snap, live_ino(sm, ino), &h);
	}
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->keep_cache = 0; /* a reopened file is read, and checked, again */
	handle_live(fs, h);
	if (fuse_reply_open(req, fi) != 0) {
		handle_unlive(fs, h);
		h->destroy(h);
	}
}

static void sm_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	if (ino != SM_SUMS_INO) {
		snap_file_read(req, size, off, fi);
		return;
	}
	const char *text;
	size_t len;
	int rc = sums_get(fs_of(req), &text, &len);
	if (rc)
		fuse_reply_err(req, -rc);
	else if (off < 0 || (uint64_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, text + off, len - (size_t)off < size ? len - (size_t)off : size);
}

static void sm_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct fs *fs = fs_of(req);
	handle_release(fs, fi);
	/* No maintenance thread here: releases reap what is past its grace. */
	handles_reap(fs, false);
	fuse_reply_err(req, 0);
}

/* Directory handles hold all their entries, read at opendir (a snapshot
 * does not change), and are served by ops_dir.c's readdir. */
struct sm_fill {
	struct snapmount *sm;
	struct dir_handle *d;
};

static int sm_entry(const struct enrp_dirent *ent, void *arg)
{
	struct sm_fill *f = arg;
	struct enrp_stat a = ent->attr;
	a.st.st_ino = mount_ino(f->sm, ent->attr.st.st_ino);
	return dir_add(f->d, ent->name, &a) ? -ENOMEM : 0;
}

static int sm_fill_dir(struct fs *fs, fuse_ino_t ino, struct dir_handle *d)
{
	struct snapmount *sm = fs->snapmount;
	struct enrp_stat self = { 0 }, up = { 0 };
	int rc = sm_stat(fs, ino, &self.st);
	if (rc)
		return rc;
	if (!S_ISDIR(self.st.st_mode))
		return -ENOTDIR;
	if (ino == SM_ENRP_DIR_INO) {
		struct enrp_stat sums = { 0 };
		rc = sm_stat(fs, FUSE_ROOT_ID, &up.st);
		if (rc == 0)
			rc = sm_stat(fs, SM_SUMS_INO, &sums.st);
		if (rc == 0 && (dir_add(d, ".", &self) || dir_add(d, "..", &up) ||
		                dir_add(d, enrp_status_file_name(ENRP_STATUS_SHA256SUMS), &sums)))
			rc = -ENOMEM;
		return rc;
	}
	struct enrp_stat snap_self;
	rc = enrp_snapshot_getattr(fs->st, &sm->snap, live_ino(sm, ino), &snap_self);
	/* ".." of the root is the root: nothing above it is in the mount. */
	if (rc == 0)
		rc = sm_stat(fs, ino == FUSE_ROOT_ID ? ino : mount_ino(sm, snap_self.parent), &up.st);
	if (rc == 0 && (dir_add(d, ".", &self) || dir_add(d, "..", &up)))
		rc = -ENOMEM;
	struct sm_fill f = { sm, d };
	if (rc == 0)
		rc = enrp_snapshot_readdir(fs->st, &sm->snap, live_ino(sm, ino), sm_entry, &f);
	return rc;
}

static void sm_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (refused(req))
		return;
	struct dir_handle *d = dir_new(ino);
	int rc = d ? sm_fill_dir(fs_of(req), ino, d) : -ENOMEM;
	if (rc) {
		dir_free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)d;
	fi->cache_readdir = 1;
	handle_live(fs_of(req), &d->h);
	if (fuse_reply_open(req, fi) != 0) {
		handle_unlive(fs_of(req), &d->h);
		dir_free(d);
	}
}

static void sm_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	if (!refused(req))
		op_readdir(req, ino, size, off, fi);
}

static void sm_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req); /* REQ is gone once replied to */
	op_releasedir(req, ino, fi);
	handles_reap(fs, false);
}

static void sm_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0); /* nothing was written */
}

/* No readdirplus: entries would be lookup references, and this mount
 * counts none (forget above). */
const struct fuse_lowlevel_ops snapmount_ops = {
	.init = sm_init,
	.lookup = sm_lookup,
	.forget = sm_forget,
	.forget_multi = sm_forget_multi,
	.getattr = sm_getattr,
	.setattr = sm_setattr,
	.readlink = sm_readlink,
	.statfs = sm_statfs,
	.mknod = sm_mknod,
	.mkdir = sm_mkdir,
	.symlink = sm_symlink,
	.link = sm_link,
	.unlink = sm_remove,
	.rmdir = sm_remove,
	.rename = sm_rename,
	.opendir = sm_opendir,
	.readdir = sm_readdir,
	.releasedir = sm_releasedir,
	.fsyncdir = sm_fsync,
	.create = sm_create,
	.open = sm_open,
	.read = sm_read,
	.write = sm_write,
	.release = sm_release,
	.fsync = sm_fsync,
	.fallocate = sm_fallocate,
	.setxattr = sm_setxattr,
	.getxattr = sm_getxattr,
	.listxattr = sm_listxattr,
	.removexattr = sm_removexattr,
};

/* ---- lifecycle ---- */

int snapmount_open(struct fs *fs, const char *spec, struct snapmount_access *access,
                   const char *mountpoint)
{
	char eir[ENRP_EIR_NAME_MAX + 1];
	const char *at = strchr(spec, '@');
	if (!at || at == spec || (size_t)(at - spec) >= sizeof(eir))
		return -EINVAL;
	memcpy(eir, spec, (size_t)(at - spec));
	eir[at - spec] = '\0';
	if (!enrp_eir_name_valid(eir) || !enrp_snapshot_name_valid(at + 1))
		return -EINVAL;
	struct snapmount *sm = calloc(1, sizeof(*sm));
	if (!sm)
		return -ENOMEM;
	sm->lock_fd = -1;
	pthread_mutex_init(&sm->sums_lock, NULL);
	int rc = enrp_eir_get(fs->st, eir, &sm->eir);
	if (rc == 0)
		rc = enrp_snapshot_get(fs->st, eir, at + 1, &sm->snap);
	if (rc)
		goto out_free;
	rc = enrp_rundir_snapshot_mount_lock(fs->store_path, sm->eir.id, sm->snap.gen, mountpoint);
	if (rc < 0)
		goto out_free;
	sm->lock_fd = rc;
	/* Deleted (and perhaps taken again) before the lock was had? */
	struct enrp_snapshot again;
	rc = enrp_snapshot_get(fs->st, eir, at + 1, &again);
	if (rc == 0 && again.gen != sm->snap.gen)
		rc = -ENOENT;
	if (rc)
		goto out_free;
	sm->mounter = getuid();
	sm->restricted = access->nuids || access->ngids;
	sm->uids = access->uids;
	sm->gids = access->gids;
	sm->nuids = access->nuids;
	sm->ngids = access->ngids;
	*access = (struct snapmount_access){ 0 };
	fs->snapmount = sm;
	return 0;
out_free:
	if (sm->lock_fd >= 0)
		close(sm->lock_fd);
	pthread_mutex_destroy(&sm->sums_lock);
	free(sm);
	return rc;
}

void snapmount_close(struct fs *fs)
{
	struct snapmount *sm = fs->snapmount;
	if (!sm)
		return;
	close(sm->lock_fd);
	pthread_mutex_destroy(&sm->sums_lock);
	free(sm->sums);
	free(sm->uids);
	free(sm->gids);
	free(sm);
	fs->snapmount = NULL;
}
