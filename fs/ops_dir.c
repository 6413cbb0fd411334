/*
 * ops_dir.c — mknod, mkdir, symlink, link, unlink, rmdir, rename, and
 * directory reading.
 *
 * readdirplus hands the kernel entries with attributes, and each entry it
 * accepts is one lookup reference (except "." and "..", sent with ino 0 so
 * the kernel makes no dentry of them).
 */
#include <errno.h>
#include <stdio.h>
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
	reply_entry_stat(req, fs, rc, &s, ENRP_OP_WRITE, parent, name);
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
	reply_entry_stat(req, fs, rc, &s, ENRP_OP_WRITE, newparent, newname);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(parent)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	struct enrp_caller caller;
	struct enrp_stat victim;
	struct pending_loss pl = { .relevant = false };
	caller_of(req, &caller);
	if (!dir && enrp_ns_lookup(fs->st, parent, name, &victim) == 0)
		loss_prepare(req, fs, &pl, ENRP_LOSS_REMOVED, &victim, parent, name, NULL);
	int rc = enrp_ns_unlink(fs->st, &caller, parent, name, dir);
	if (rc) {
		reply_denied(req, fs, eir_of(fs, parent), parent, name, ENRP_OP_REMOVE, rc);
		return;
	}
	loss_commit(fs, &pl);
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
	struct enrp_stat victim;
	struct pending_loss pl = { .relevant = false };
	caller_of(req, &caller);
	/* A rename over a verified file loses it (an exchange keeps both). */
	if (!(flags & RENAME_EXCHANGE) && enrp_ns_lookup(fs->st, newparent, newname, &victim) == 0)
		loss_prepare(req, fs, &pl, ENRP_LOSS_REPLACED, &victim, newparent, newname, "rename");
	int rc = enrp_ns_rename(fs->st, &caller, parent, name, newparent, newname, flags);
	if (rc) {
		reply_denied(req, fs, eir_of(fs, parent), parent, name, ENRP_OP_WRITE, rc);
		return;
	}
	loss_commit(fs, &pl);
	fuse_reply_err(req, 0);
}

/* ---- directory handles ---- */

int dir_add(struct dir_handle *d, const char *name, const struct enrp_stat *attr)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
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

/* Its entries and names go as soon as the handle is released and unused,
 * not when it is reaped a grace period later (a snapshot directory's
 * handle holds all its entries). */
static void dir_let_go(struct handle *h)
{
	struct dir_handle *d = (struct dir_handle *)h;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
	free(d->last_names);
	d->last_names = NULL;
	d->last_n = 0;
}

void dir_free(struct dir_handle *d)
{
	if (!d)
		return;
	dir_let_go(&d->h);
	pthread_mutex_destroy(&d->lock);
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
		handle_init(&d->h, dir_let_go, dir_destroy);
		pthread_mutex_init(&d->lock, NULL);
		d->ino = ino;
	}
	return d;
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		hidden_opendir(req, fs, ino, fi);
		return;
	}
	/* Nothing is read here: entries are read by each request. */
	struct enrp_stat s;
	int rc = enrp_ns_getattr(fs->st, ino, &s);
	if (rc == 0 && !S_ISDIR(s.st.st_mode))
		rc = -ENOTDIR;
	struct dir_handle *d = rc ? NULL : dir_new(ino);
	if (!rc && !d)
		rc = -ENOMEM;
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	d->streamed = true;
	fi->fh = (uintptr_t)d;
	handle_live(fs, &d->h);
	if (fuse_reply_open(req, fi) != 0) {
		handle_unlive(fs, &d->h);
		dir_free(d);
	}
}

/* Entries one request takes at most (one read transaction): a bound on
 * the store lock's hold whatever buffer size the kernel asks to fill. */
#define DIR_BATCH_MAX 1024

/* One reply being built. */
struct dir_fill {
	fuse_req_t req;
	struct fs *fs;
	bool plus;
	char *buf;
	size_t size, pos;
	uint64_t idx;            /* index of the next entry ("." is 0) */
	char *names;             /* names of the store's entries in this reply */
	size_t names_len, names_cap, nnames;
	uint64_t *refs;          /* readdirplus: lookup references to count */
	uint32_t *ref_eirs;
	size_t nrefs, refs_cap;
	size_t skip;             /* fallback: entries still to pass over unsent */
};

static bool is_dots(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Adds one entry to the reply: 0, 1 if it does not fit (not added), or
 * -ENOMEM. */
static int fill_add(struct dir_fill *f, const char *name, const struct enrp_stat *attr)
{
	size_t len;
	struct fuse_entry_param e;
	off_t next = (off_t)(f->idx + 1);
	if (f->plus) {
		entry_of(f->fs, attr, &e);
		/* The kernel makes no dentry of "." and "..": no node id, so no
		 * lookup reference; d_ino still comes from the attributes. */
		if (is_dots(name))
			e.ino = 0;
		len = fuse_add_direntry_plus(f->req, f->buf + f->pos, f->size - f->pos, name, &e, next);
	} else {
		len = fuse_add_direntry(f->req, f->buf + f->pos, f->size - f->pos, name, &attr->st,
		                        next);
	}
	if (len > f->size - f->pos)
		return 1;
	if (f->plus && e.ino) {
		if (f->nrefs == f->refs_cap) {
			size_t cap = f->refs_cap ? 2 * f->refs_cap : 64;
			uint64_t *r = realloc(f->refs, cap * sizeof(*r));
			uint32_t *re = r ? realloc(f->ref_eirs, cap * sizeof(*re)) : NULL;
			if (r)
				f->refs = r;
			if (!re)
				return -ENOMEM;
			f->ref_eirs = re;
			f->refs_cap = cap;
		}
		f->refs[f->nrefs] = e.ino;
		f->ref_eirs[f->nrefs++] = attr->eir_id;
	}
	f->pos += len;
	f->idx++;
	return 0;
}

static int fill_entry(const struct enrp_dirent *ent, void *arg)
{
	struct dir_fill *f = arg;
	size_t nl = strlen(ent->name) + 1;
	if (f->skip) {
		/* Recorded as if sent, so the next request can resume after it. */
		f->skip--;
		f->idx++;
		f->names_len = f->nnames = 0;
	} else {
		int rc = fill_add(f, ent->name, &ent->attr);
		if (rc)
			return rc;
	}
	if (f->names_cap - f->names_len < nl) {
		size_t cap = f->names_cap ? 2 * f->names_cap : 1024;
		while (cap - f->names_len < nl)
			cap *= 2;
		char *n = realloc(f->names, cap);
		if (!n)
			return -ENOMEM;
		f->names = n;
		f->names_cap = cap;
	}
	memcpy(f->names + f->names_len, ent->name, nl);
	f->names_len += nl;
	f->nnames++;
	return 0;
}

/* The name of the store's entry at index IDX if the last reply had it. */
static const char *last_name(const struct dir_handle *d, uint64_t idx)
{
	if (idx < d->last_first || idx - d->last_first >= d->last_n)
		return NULL;
	const char *p = d->last_names;
	for (uint64_t i = d->last_first; i < idx; i++)
		p += strlen(p) + 1;
	return p;
}

/* A directory of the store, read from where the kernel's offset says.
 * Offsets are entry indexes: "." is 0, ".." 1, the store's entries from 2
 * in name order, and an entry carries the offset of the one after it.  The
 * handle keeps the names of its last reply, so a request resumes after the
 * entry at OFF - 1 by name (the kernel may have used only part of a reply);
 * any other offset (seekdir to an old position) walks from the start. */
static int read_streamed(struct fs *fs, struct dir_handle *d, struct dir_fill *f, off_t off)
{
	char after[ENRP_NAME_MAX + 1] = "";
	int rc;
	if (off < 2) {
		struct enrp_stat dot, dotdot;
		rc = enrp_ns_getattr(fs->st, d->ino, &dot);
		if (rc == 0)
			rc = enrp_ns_getattr(fs->st, dot.parent ? dot.parent : d->ino, &dotdot);
		if (rc)
			return rc;
		f->idx = (uint64_t)off;
		if (off == 0 && fill_add(f, ".", &dot))
			return 0;
		if (fill_add(f, "..", &dotdot))
			return 0;
	} else {
		const char *n = last_name(d, (uint64_t)off - 1);
		f->idx = (uint64_t)off;
		if (n) {
			snprintf(after, sizeof(after), "%s", n);
		} else if (off > 2) {
			f->idx = 2;
			f->skip = (size_t)(off - 2);
		}
	}
	f->names_len = f->nnames = 0;
	for (;;) {
		rc = enrp_ns_readdir_from(fs->st, d->ino, after, DIR_BATCH_MAX,
		                          f->plus ? 0 : ENRP_NS_READDIR_TYPE, fill_entry, f);
		if (rc != 1 || !f->skip)
			break;
		/* Still passing over old entries: go on after the last one
		 * passed, the only name kept while skipping. */
		snprintf(after, sizeof(after), "%s", f->names);
	}
	if (rc < 0)
		return rc;
	if (f->nnames) {
		/* Keep this reply's names; a reply with none keeps the last. */
		free(d->last_names);
		d->last_names = f->names;
		d->last_first = f->idx - f->nnames;
		d->last_n = f->nnames;
		f->names = NULL;
	}
	return 0;
}

/* A hidden directory: its few entries were made at opendir. */
static void read_fixed(struct dir_handle *d, struct dir_fill *f, off_t off)
{
	for (size_t i = (size_t)off; i < d->n; i++) {
		f->idx = i;
		if (fill_add(f, d->v[i].name, &d->v[i].attr))
			break;
	}
}

static void read_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi, bool plus)
{
	struct fs *fs = fs_of(req);
	struct dir_handle *d = (struct dir_handle *)handle_get(req, fi);
	if (!d)
		return;
	struct dir_fill f = { .req = req, .fs = fs, .plus = plus, .size = size };
	int rc = 0;
	(void)ino;
	f.buf = malloc(size ? size : 1);
	if (!f.buf) {
		rc = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&d->lock);
	if (off < 0)
		rc = -EINVAL;
	else if (d->streamed)
		rc = read_streamed(fs, d, &f, off);
	else
		read_fixed(d, &f, off);
	pthread_mutex_unlock(&d->lock);
	if (rc)
		goto out;
	/* Counted before the reply, as for lookup; every entry of a
	 * readdirplus reply is one reference, whether or not the kernel
	 * passes it on to the reader. */
	for (size_t i = 0; i < f.nrefs; i++)
		node_ref(fs, f.refs[i], f.ref_eirs[i]);
	if (fuse_reply_buf(req, f.buf, f.pos) != 0)
		for (size_t i = 0; i < f.nrefs; i++)
			node_forget(fs, f.refs[i], 1);
out:
	if (rc)
		fuse_reply_err(req, -rc);
	free(f.buf);
	free(f.refs);
	free(f.ref_eirs);
	free(f.names);
	handle_put(&d->h);
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
	handle_release(fs_of(req), fi); /* its entries go with it: dir_let_go */
	fuse_reply_err(req, 0);
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, -enrp_store_sync(fs_of(req)->st));
}
