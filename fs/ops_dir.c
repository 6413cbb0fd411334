/*
 * ops_dir.c — mknod, mkdir, symlink, link, unlink, rmdir, rename, and
 * directory reading.
 *
 * readdirplus hands the kernel entries with attributes, and each entry it
 * accepts is one lookup reference (except "." and "..", sent with ino 0 so
 * the kernel makes no dentry of them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      dev_t rdev, const char *target)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(parent)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	struct enrp_caller caller;
	struct enrp_stat s;
	caller_of(req, &caller);
	int rc = enrp_ns_mknod(fs->st, &caller, parent, name, mode, rdev, target, &s);
	reply_entry_stat(req, fs, rc, &s, ENRP_OP_WRITE, parent);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	make_node(req, parent, name, mode, rdev, NULL);
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL);
}

void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make_node(req, parent, name, S_IFLNK | 0777, 0, link);
}

void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino) || hidden_ino(newparent)) {
		fuse_reply_err(req, hidden_ino(newparent) ? EROFS : EXDEV);
		return;
	}
	struct enrp_caller caller;
	struct enrp_stat s;
	caller_of(req, &caller);
	int rc = enrp_ns_link(fs->st, &caller, ino, newparent, newname, &s);
	reply_entry_stat(req, fs, rc, &s, ENRP_OP_WRITE, newparent);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(parent)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	struct enrp_caller caller;
	caller_of(req, &caller);
	int rc = enrp_ns_unlink(fs->st, &caller, parent, name, dir);
	if (rc)
		reply_denied(req, fs, eir_of(fs, parent), ENRP_OP_REMOVE, rc);
	else
		fuse_reply_err(req, 0);
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, false);
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, true);
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
               const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(parent) || hidden_ino(newparent)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	struct enrp_caller caller;
	caller_of(req, &caller);
	int rc = enrp_ns_rename(fs->st, &caller, parent, name, newparent, newname, flags);
	if (rc)
		reply_denied(req, fs, eir_of(fs, parent), ENRP_OP_WRITE, rc);
	else
		fuse_reply_err(req, 0);
}

/* ---- directory handles ---- */

int dir_add(struct dir_handle *d, const char *name, const struct enrp_stat *attr)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct dir_entry *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	d->v[d->n].name = copy;
	d->v[d->n].attr = *attr;
	d->n++;
	return 0;
}

static void dir_clear(struct dir_handle *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	d->n = 0;
}

void dir_free(struct dir_handle *d)
{
	if (!d)
		return;
	dir_clear(d);
	free(d->v);
	free(d);
}

static void dir_destroy(struct handle *h)
{
	dir_free((struct dir_handle *)h);
}

struct dir_handle *dir_new(uint64_t ino)
{
	struct dir_handle *d = calloc(1, sizeof(*d));
	if (d) {
		handle_init(&d->h, dir_destroy);
		d->ino = ino;
	}
	return d;
}

static int collect_entry(const struct enrp_dirent *ent, void *arg)
{
	return dir_add(arg, ent->name, &ent->attr);
}

/* Fills D with ".", ".." and the entries of directory INO. */
static int dir_fill(struct fs *fs, struct dir_handle *d)
{
	struct enrp_stat dot;
	dir_clear(d);
	int rc = enrp_ns_getattr(fs->st, d->ino, &dot);
	if (rc)
		return rc;
	dot.st.st_ino = 0; /* "." and ".." carry no kernel reference */
	if (dir_add(d, ".", &dot) || dir_add(d, "..", &dot))
		return -ENOMEM;
	return enrp_ns_readdir(fs->st, d->ino, collect_entry, d);
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		hidden_opendir(req, fs, ino, fi);
		return;
	}
	struct dir_handle *d = dir_new(ino);
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	int rc = dir_fill(fs, d);
	if (rc) {
		dir_free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0)
		dir_free(d);
}

static void read_dir_held(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                          struct fuse_file_info *fi, bool plus)
{
	struct fs *fs = fs_of(req);
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	(void)ino;
	if (off == 0 && !hidden_ino(d->ino)) {
		/* rewinddir(3) must see the directory as it is now. */
		int rc = dir_fill(fs, d);
		if (rc) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t pos = 0;
	uint64_t *refs = plus ? malloc(d->n * sizeof(*refs)) : NULL;
	size_t nrefs = 0;
	if (plus && !refs && d->n) {
		free(buf);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < d->n; i++) {
		const struct dir_entry *de = &d->v[i];
		size_t len;
		if (plus) {
			struct fuse_entry_param e;
			entry_of(fs, &de->attr, &e);
			len = fuse_add_direntry_plus(req, buf + pos, size - pos, de->name, &e,
			                             (off_t)(i + 1));
			if (len > size - pos)
				break;
			if (e.ino) {
				/* Counted before the reply, as for lookup. */
				node_ref(fs, e.ino, de->attr.eir_id);
				refs[nrefs++] = e.ino;
			}
		} else {
			len = fuse_add_direntry(req, buf + pos, size - pos, de->name, &de->attr.st,
			                        (off_t)(i + 1));
			if (len > size - pos)
				break;
		}
		pos += len;
	}
	if (fuse_reply_buf(req, buf, pos) != 0)
		for (size_t i = 0; i < nrefs; i++)
			node_forget(fs, refs[i], 1);
	free(buf);
	free(refs);
}

static void read_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi, bool plus)
{
	struct handle *h = handle_get(fi);
	read_dir_held(req, ino, size, off, fi, plus);
	handle_put(h);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                struct fuse_file_info *fi)
{
	read_dir(req, ino, size, off, fi, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	read_dir(req, ino, size, off, fi, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_release(fs_of(req), fi);
	fuse_reply_err(req, 0);
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, -enrp_store_sync(fs_of(req)->st));
}
