/*
 * hidden.c — the virtual trees reachable by name in every EIR directory but
 * never listed (like ZFS's .zfs): .snapshots/ and .enrp/.
 *
 * Their inode numbers carry HIDDEN_BIT, the EIR id and a kind, so they need
 * no table and no forget bookkeeping; real inode numbers never reach that
 * bit.  .enrp files are core's readers (status.h), served with direct_io so
 * the kernel caches nothing: "status" is rendered at open, the lists are
 * produced as they are read, so a handle holds a bounded window of text and
 * never the whole list; a stat counts a list's exact size without building
 * its text.
 *
 * .snapshots/NAME/ is snapshot NAME of the EIR (core/snapshot.h), read-only:
 * its inodes carry SNAP_BIT too, a slot number naming the snapshot in a
 * table of this process (slots are never reused, so a kernel's stale
 * inode number can never name another snapshot), and the inode number of
 * the live tree.  Its files are read with direct I/O: nothing of them sits
 * in the page cache when the EIR becomes write-only, and opens check the
 * EIR's mode like live files (wo: names and attributes only).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/reader.h>
#include <enrp/snapshot.h>
#include <enrp/status.h>

#include "fs.h"

#define HIDDEN_BIT (1ull << 62)
#define SNAP_BIT (1ull << 61)
#define SNAP_SLOT_SHIFT 40
#define SNAP_INO_MASK ((1ull << SNAP_SLOT_SHIFT) - 1)
#define SNAP_SLOTS_MAX ((1u << 21) - 1)

enum hidden_kind {
	HK_SNAPSHOTS = 1,
	HK_STATUS_DIR = 2,
	HK_FILE_BASE = 16, /* + enum enrp_status_file */
};

struct hidden_file {
	struct handle h;
	pthread_mutex_t lock;   /* a reader serves one read at a time */
	enrp_status_reader *r;  /* protected by lock */
};

/* The snapshots this process has shown, by slot (1-based). */
struct snap_slot {
	struct enrp_snapshot s; /* borrowed by the readers of its files */
	uint32_t eir_id;
};

static struct {
	pthread_mutex_t lock;
	struct snap_slot **v; /* protected by lock; entries never move nor go */
	size_t n, cap;        /* protected by lock */
} slots = { .lock = PTHREAD_MUTEX_INITIALIZER };

bool hidden_ino(fuse_ino_t ino)
{
	return ino & HIDDEN_BIT;
}

static bool snap_ino(fuse_ino_t ino)
{
	return (ino & HIDDEN_BIT) && (ino & SNAP_BIT);
}

static fuse_ino_t hidden_make(uint32_t eir_id, unsigned kind)
{
	return HIDDEN_BIT | (uint64_t)eir_id << 8 | kind;
}

static const struct snap_slot *slot_at(fuse_ino_t ino)
{
	size_t i = (size_t)((ino & ~(HIDDEN_BIT | SNAP_BIT)) >> SNAP_SLOT_SHIFT);
	const struct snap_slot *sl = NULL;
	pthread_mutex_lock(&slots.lock);
	if (i >= 1 && i <= slots.n)
		sl = slots.v[i - 1];
	pthread_mutex_unlock(&slots.lock);
	return sl;
}

/* The slot of snapshot S of EIR_ID, made on first use; 0 when full. */
static size_t slot_of(const struct enrp_snapshot *s, uint32_t eir_id)
{
	size_t found = 0;
	pthread_mutex_lock(&slots.lock);
	for (size_t i = 0; i < slots.n && !found; i++)
		if (slots.v[i]->s.gen == s->gen && slots.v[i]->eir_id == eir_id)
			found = i + 1;
	if (!found && slots.n < SNAP_SLOTS_MAX) {
		struct snap_slot *sl = malloc(sizeof(*sl));
		if (slots.n == slots.cap) {
			size_t cap = slots.cap ? 2 * slots.cap : 16;
			struct snap_slot **v = realloc(slots.v, cap * sizeof(*v));
			if (v) {
				slots.v = v;
				slots.cap = cap;
			}
		}
		if (sl && slots.n < slots.cap) {
			sl->s = *s;
			sl->eir_id = eir_id;
			slots.v[slots.n++] = sl;
			found = slots.n;
		} else {
			free(sl);
		}
	}
	pthread_mutex_unlock(&slots.lock);
	return found;
}

/* The inode number that shows live inode STORE_INO in the snapshot of SLOT;
 * 0 when it does not fit (an inode number past 2^40). */
static fuse_ino_t snap_make(size_t slot, uint64_t store_ino)
{
	if (store_ino > SNAP_INO_MASK)
		return 0;
	return HIDDEN_BIT | SNAP_BIT | (uint64_t)slot << SNAP_SLOT_SHIFT | store_ino;
}

uint32_t hidden_eir(fuse_ino_t ino)
{
	if (snap_ino(ino)) {
		const struct snap_slot *sl = slot_at(ino);
		return sl ? sl->eir_id : 0;
	}
	return (uint32_t)((ino & ~HIDDEN_BIT) >> 8);
}

static unsigned hidden_kind(fuse_ino_t ino)
{
	return snap_ino(ino) ? 0 : ino & 0xff;
}

static struct list_size *size_slot(struct fs *fs, uint32_t eir_id, unsigned file)
{
	return &fs->sizes.slot[(eir_id * ENRP_STATUS_FILE_COUNT + file) % LIST_SIZE_SLOTS];
}

/* Keeps SIZE of list FILE of EIR_ID as right for tree generation GEN. */
static void size_keep(struct fs *fs, uint32_t eir_id, unsigned file, uint64_t gen,
                      uint64_t size)
{
	if (gen == ENRP_STATUS_NO_GEN)
		return;
	pthread_mutex_lock(&fs->sizes.lock);
	*size_slot(fs, eir_id, file) = (struct list_size){ eir_id, file, gen, size };
	pthread_mutex_unlock(&fs->sizes.lock);
}

/* The size of file FILE of EIR_ID: kept, if the EIR's tree has not
 * changed since it was known, else counted (and kept). */
static int list_size(struct fs *fs, uint32_t eir_id, unsigned file, uint64_t *size)
{
	struct enrp_eir_files fc;
	uint64_t gen;
	if (file != ENRP_STATUS_STATUS && enrp_eir_files(fs->st, eir_id, &fc) == 0) {
		pthread_mutex_lock(&fs->sizes.lock);
		struct list_size k = *size_slot(fs, eir_id, file);
		pthread_mutex_unlock(&fs->sizes.lock);
		if (k.eir_id == eir_id && k.file == file && k.gen == fc.tree_gen) {
			*size = k.size;
			return 0;
		}
	}
	int rc = enrp_status_size(fs->st, eir_id, file, size, &gen);
	if (rc == 0)
		size_keep(fs, eir_id, file, gen, *size);
	return rc;
}

/* Attributes of a hidden inode: owned like its EIR directory, read-only. */
/* The attributes of snapshot inode INO, numbered as the kernel sees it. */
static int snap_stat(struct fs *fs, fuse_ino_t ino, struct enrp_stat *out)
{
	const struct snap_slot *sl = slot_at(ino);
	if (!sl)
		return -ESTALE;
	int rc = enrp_snapshot_getattr(fs->st, &sl->s, ino & SNAP_INO_MASK, out);
	if (rc == 0)
		out->st.st_ino = ino;
	return rc;
}

static int hidden_stat(struct fs *fs, fuse_ino_t ino, struct enrp_stat *out)
{
	if (snap_ino(ino))
		return snap_stat(fs, ino, out);
	struct enrp_eir e;
	struct enrp_stat root;
	unsigned kind = hidden_kind(ino);
	int rc = enrp_eir_get_by_id(fs->st, hidden_eir(ino), &e);
	if (rc == 0)
		rc = enrp_ns_getattr(fs->st, e.root_ino, &root);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->eir_id = e.id;
	out->st = root.st;
	out->st.st_ino = ino;
	if (kind >= HK_FILE_BASE) {
		uint64_t len;
		rc = list_size(fs, e.id, kind - HK_FILE_BASE, &len);
		if (rc)
			return rc;
		out->st.st_mode = S_IFREG | 0444;
		out->st.st_nlink = 1;
		out->st.st_size = (off_t)len;
		out->st.st_blocks = (blkcnt_t)((len + 511) / 512);
	} else {
		out->st.st_mode = S_IFDIR | 0555;
		out->st.st_nlink = 2;
	}
	return 0;
}

static void reply_hidden_entry(fuse_req_t req, struct fs *fs, fuse_ino_t ino)
{
	struct enrp_stat s;
	int rc = hidden_stat(fs, ino, &s);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	struct fuse_entry_param e;
	entry_of(fs, &s, &e);
	/* Rendered files change size at any time: never cache their attrs. */
	if (hidden_kind(ino) >= HK_FILE_BASE)
		e.attr_timeout = 0;
	fuse_reply_entry(req, &e);
}

int hidden_lookup_in_eir(fuse_req_t req, struct fs *fs, fuse_ino_t parent, const char *name)
{
	struct enrp_stat s;
	struct enrp_eir e;
	if (enrp_ns_getattr(fs->st, parent, &s) || s.eir_id == 0 ||
	    enrp_eir_get_by_id(fs->st, s.eir_id, &e) || e.root_ino != parent)
		return 0;
	unsigned kind = strcmp(name, ENRP_SNAPSHOTS_NAME) == 0 ? HK_SNAPSHOTS : HK_STATUS_DIR;
	reply_hidden_entry(req, fs, hidden_make(e.id, kind));
	return 1;
}

/* NAME in .snapshots/ (a snapshot) or in a snapshot's directory. */
static void snap_lookup(fuse_req_t req, struct fs *fs, fuse_ino_t parent, const char *name)
{
	struct enrp_stat s;
	size_t slot;
	uint64_t child;
	int rc;
	if (snap_ino(parent)) {
		const struct snap_slot *sl = slot_at(parent);
		rc = sl ? enrp_snapshot_lookup(fs->st, &sl->s, parent & SNAP_INO_MASK, name, &s)
		        : -ESTALE;
		slot = (size_t)((parent & ~(HIDDEN_BIT | SNAP_BIT)) >> SNAP_SLOT_SHIFT);
		child = s.st.st_ino;
	} else {
		struct enrp_eir e;
		struct enrp_snapshot snap;
		rc = enrp_eir_get_by_id(fs->st, hidden_eir(parent), &e);
		if (rc == 0)
			rc = enrp_snapshot_name_valid(name) ? enrp_snapshot_get(fs->st, e.name, name, &snap)
			                                    : -ENOENT;
		slot = rc == 0 ? slot_of(&snap, e.id) : 0;
		if (rc == 0 && !slot)
			rc = -ENOMEM;
		child = e.root_ino;
	}
	fuse_ino_t ino = rc == 0 ? snap_make(slot, child) : 0;
	if (rc == 0 && !ino)
		rc = -EOVERFLOW;
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_hidden_entry(req, fs, ino);
}

void hidden_lookup(fuse_req_t req, struct fs *fs, fuse_ino_t parent, const char *name)
{
	if (snap_ino(parent) || hidden_kind(parent) == HK_SNAPSHOTS) {
		snap_lookup(req, fs, parent, name);
		return;
	}
	if (hidden_kind(parent) == HK_STATUS_DIR) {
		for (unsigned f = 0; f < ENRP_STATUS_FILE_COUNT; f++) {
			if (strcmp(name, enrp_status_file_name(f)) == 0) {
				reply_hidden_entry(req, fs, hidden_make(hidden_eir(parent),
				                                        HK_FILE_BASE + f));
				return;
			}
		}
	}
	fuse_reply_err(req, ENOENT);
}

void hidden_getattr(fuse_req_t req, struct fs *fs, fuse_ino_t ino)
{
	struct enrp_stat s;
	int rc = hidden_stat(fs, ino, &s);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &s.st, hidden_kind(ino) >= HK_FILE_BASE ? 0 : fs->timeout);
}

/* The text goes as soon as the handle is released and unused, not when it
 * is reaped a grace period later: a loop of opens would otherwise keep
 * every closed reader's window alive meanwhile. */
static void hidden_file_let_go(struct handle *h)
{
	struct hidden_file *f = (struct hidden_file *)h;
	enrp_status_reader_free(f->r);
	f->r = NULL;
}

static void hidden_file_destroy(struct handle *h)
{
	struct hidden_file *f = (struct hidden_file *)h;
	hidden_file_let_go(h);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* An open file of a snapshot (also the files of a snapshot mount,
 * snapmount.c). */
struct snap_file {
	struct handle h;
	enrp_reader *r;
};

static void snap_file_let_go(struct handle *h)
{
	struct snap_file *f = (struct snap_file *)h;
	enrp_reader_close(f->r);
	f->r = NULL;
}

static void snap_file_destroy(struct handle *h)
{
	snap_file_let_go(h);
	free(h);
}

int snap_file_new(struct fs *fs, const struct enrp_snapshot *s, uint64_t ino,
                  struct handle **out)
{
	struct snap_file *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	handle_init(&f->h, snap_file_let_go, snap_file_destroy);
	int rc = enrp_reader_open_snapshot(fs->ing, s, ino, &f->r);
	if (rc) {
		snap_file_destroy(&f->h);
		return rc;
	}
	*out = &f->h;
	return 0;
}

void snap_file_free(struct handle *h)
{
	snap_file_destroy(h);
}

static void snap_open(fuse_req_t req, struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct snap_slot *sl = slot_at(ino);
	struct enrp_stat s;
	struct enrp_eir e;
	struct enrp_caller caller;
	struct handle *h = NULL;
	int rc = sl ? snap_stat(fs, ino, &s) : -ESTALE;
	if (rc == 0 && S_ISDIR(s.st.st_mode))
		rc = -EISDIR;
	else if (rc == 0 && ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)))
		rc = -EROFS;
	/* Reading a snapshot's bytes is reading the EIR: its mode decides. */
	caller_of(req, &caller);
	if (rc == 0)
		rc = enrp_eir_get_by_id(fs->st, sl->eir_id, &e);
	if (rc == 0)
		rc = enrp_ns_check(fs->st, &caller, e.root_ino, ENRP_OP_READ);
	if (rc == 0)
		rc = snap_file_new(fs, &sl->s, ino & SNAP_INO_MASK, &h);
	if (rc) {
		if (rc == -EACCES)
			reply_denied(req, fs, sl->eir_id, 0, NULL, ENRP_OP_READ, rc);
		else
			fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	handle_live(fs, h);
	if (fuse_reply_open(req, fi) != 0) {
		handle_unlive(fs, h);
		snap_file_destroy(h);
	}
}

void snap_file_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct snap_file *f = (struct snap_file *)handle_get(req, fi);
	if (!f)
		return;
	char *buf = malloc(size ? size : 1);
	ssize_t n = !buf ? -ENOMEM : off < 0 ? -EINVAL
	                                    : enrp_reader_read(f->r, buf, size, (uint64_t)off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
	handle_put(&f->h);
}

void hidden_readlink(fuse_req_t req, struct fs *fs, fuse_ino_t ino)
{
	char target[ENRP_SYMLINK_MAX + 1];
	const struct snap_slot *sl = snap_ino(ino) ? slot_at(ino) : NULL;
	int rc = sl ? enrp_snapshot_readlink(fs->st, &sl->s, ino & SNAP_INO_MASK, target,
	                                     sizeof(target))
	            : -EINVAL;
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

void hidden_open(fuse_req_t req, struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (snap_ino(ino)) {
		snap_open(req, fs, ino, fi);
		return;
	}
	unsigned kind = hidden_kind(ino);
	if (kind < HK_FILE_BASE) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	struct hidden_file *h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	handle_init(&h->h, hidden_file_let_go, hidden_file_destroy);
	pthread_mutex_init(&h->lock, NULL);
	int rc = enrp_status_reader_new(fs->st, hidden_eir(ino), kind - HK_FILE_BASE, &h->r);
	if (rc) {
		hidden_file_destroy(&h->h);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	handle_live(fs, &h->h);
	if (fuse_reply_open(req, fi) != 0) {
		handle_unlive(fs, &h->h);
		hidden_file_destroy(&h->h);
	}
}

void hidden_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                 struct fuse_file_info *fi)
{
	if (snap_ino(ino)) {
		snap_file_read(req, size, off, fi);
		return;
	}
	struct hidden_file *h = (struct hidden_file *)handle_get(req, fi);
	if (!h)
		return;
	const char *p;
	size_t n = 0;
	char *copy = NULL;
	/* The reader's text is valid until its next call: copy what the reply
	 * needs, so no lock is held across it. */
	pthread_mutex_lock(&h->lock);
	int rc = off < 0 ? -EINVAL : enrp_status_reader_get(h->r, (uint64_t)off, size, &p, &n);
	if (rc == 0 && n) {
		copy = malloc(n);
		if (copy)
			memcpy(copy, p, n);
		else
			rc = -ENOMEM;
	}
	uint64_t len, gen;
	bool at_end = rc == 0 && n == 0 && enrp_status_reader_length(h->r, &len, &gen) == 0;
	pthread_mutex_unlock(&h->lock);
	/* A pass read to its end knows the list's size: the next stat (cat
	 * and python fstat before they read) need not count it. */
	if (at_end)
		size_keep(fs_of(req), hidden_eir(ino), hidden_kind(ino) - HK_FILE_BASE, gen, len);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, copy, n);
	free(copy);
	handle_put(&h->h);
}


/* Directory handles of .snapshots/ and of a snapshot's directories hold
 * all their entries, read at opendir (a snapshot does not change). */
struct fill {
	struct fs *fs;
	struct dir_handle *d;
	size_t slot;
};

static int snap_entry(const struct enrp_dirent *ent, void *arg)
{
	struct fill *f = arg;
	struct enrp_stat a = ent->attr;
	a.st.st_ino = snap_make(f->slot, ent->attr.st.st_ino);
	if (!a.st.st_ino)
		return -EOVERFLOW;
	return dir_add(f->d, ent->name, &a) ? -ENOMEM : 0;
}

static int snap_fill_dir(struct fs *fs, fuse_ino_t ino, const struct enrp_stat *self,
                         struct dir_handle *d)
{
	const struct snap_slot *sl = slot_at(ino);
	struct fill f = { fs, d, (size_t)((ino & ~(HIDDEN_BIT | SNAP_BIT)) >> SNAP_SLOT_SHIFT) };
	struct enrp_stat up;
	struct enrp_eir e;
	int rc = sl ? enrp_eir_get_by_id(fs->st, sl->eir_id, &e) : -ESTALE;
	if (rc)
		return rc;
	/* ".." of a snapshot's top is .snapshots/; below, its parent in it. */
	if ((ino & SNAP_INO_MASK) == e.root_ino)
		rc = hidden_stat(fs, hidden_make(e.id, HK_SNAPSHOTS), &up);
	else
		rc = snap_stat(fs, snap_make(f.slot, self->parent), &up);
	if (rc == 0 && (dir_add(d, ".", self) || dir_add(d, "..", &up)))
		rc = -ENOMEM;
	if (rc == 0)
		rc = enrp_snapshot_readdir(fs->st, &sl->s, ino & SNAP_INO_MASK, snap_entry, &f);
	return rc;
}

/* The slots of an EIR's snapshots, gathered while the store is read and
 * stat'ed after (a callback of a store read must not read the store). */
struct snapshots_fill {
	uint32_t eir_id;
	size_t *slot;
	char (*name)[ENRP_SNAPSHOT_NAME_MAX + 1];
	size_t n, cap;
};

static int snapshots_entry(const struct enrp_snapshot *s, void *arg)
{
	struct snapshots_fill *f = arg;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		size_t *slot = realloc(f->slot, cap * sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		f->slot = slot;
		char(*name)[ENRP_SNAPSHOT_NAME_MAX + 1] = realloc(f->name, cap * sizeof(*name));
		if (!name)
			return -ENOMEM;
		f->name = name;
		f->cap = cap;
	}
	f->slot[f->n] = slot_of(s, f->eir_id);
	if (!f->slot[f->n])
		return -ENOMEM;
	snprintf(f->name[f->n++], sizeof(f->name[0]), "%s", s->name);
	return 0;
}

static int snapshots_fill_dir(struct fs *fs, const struct enrp_eir *e, struct dir_handle *d)
{
	struct snapshots_fill f = { .eir_id = e->id };
	int rc = enrp_snapshot_list(fs->st, e->name, snapshots_entry, &f);
	for (size_t i = 0; rc == 0 && i < f.n; i++) {
		struct enrp_stat a;
		rc = snap_stat(fs, snap_make(f.slot[i], e->root_ino), &a);
		if (rc == -ENOENT)
			rc = 0; /* deleted since it was listed */
		else if (rc == 0 && dir_add(d, f.name[i], &a))
			rc = -ENOMEM;
	}
	free(f.slot);
	free(f.name);
	return rc;
}

void hidden_opendir(fuse_req_t req, struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *d = dir_new(ino);
	struct enrp_stat s;
	int rc = d ? hidden_stat(fs, ino, &s) : -ENOMEM;
	if (rc)
		goto out_err;
	if (snap_ino(ino) ? !S_ISDIR(s.st.st_mode) : hidden_kind(ino) >= HK_FILE_BASE) {
		rc = -ENOTDIR;
		goto out_err;
	}
	if (snap_ino(ino)) {
		rc = snap_fill_dir(fs, ino, &s, d);
		if (rc)
			goto out_err;
		fi->fh = (uintptr_t)d;
		handle_live(fs, &d->h);
		if (fuse_reply_open(req, fi) != 0) {
			handle_unlive(fs, &d->h);
			dir_free(d);
		}
		return;
	}
	/* ".." of both is the EIR directory. */
	struct enrp_eir e;
	struct enrp_stat up;
	rc = enrp_eir_get_by_id(fs->st, hidden_eir(ino), &e);
	if (rc == 0)
		rc = enrp_ns_getattr(fs->st, e.root_ino, &up);
	if (rc)
		goto out_err;
	if (dir_add(d, ".", &s) || dir_add(d, "..", &up)) {
		rc = -ENOMEM;
		goto out_err;
	}
	if (hidden_kind(ino) == HK_SNAPSHOTS && (rc = snapshots_fill_dir(fs, &e, d)))
		goto out_err;
	if (hidden_kind(ino) == HK_STATUS_DIR) {
		for (unsigned f = 0; f < ENRP_STATUS_FILE_COUNT; f++) {
			struct enrp_stat fst;
			rc = hidden_stat(fs, hidden_make(hidden_eir(ino), HK_FILE_BASE + f), &fst);
			if (rc == 0)
				rc = dir_add(d, enrp_status_file_name(f), &fst);
			if (rc)
				goto out_err;
		}
	}
	fi->fh = (uintptr_t)d;
	handle_live(fs, &d->h);
	if (fuse_reply_open(req, fi) != 0) {
		handle_unlive(fs, &d->h);
		dir_free(d);
	}
	return;
out_err:
	dir_free(d);
	fuse_reply_err(req, -rc);
}

int hidden_snapshot_node(fuse_ino_t ino, const struct enrp_snapshot **s, uint64_t *real)
{
	const struct snap_slot *sl = snap_ino(ino) ? slot_at(ino) : NULL;
	if (!sl)
		return -ENODATA;
	*s = &sl->s;
	*real = ino & SNAP_INO_MASK;
	return 0;
}

int hidden_snapshot_stat(struct fs *fs, fuse_ino_t ino, struct enrp_stat *out)
{
	return snap_ino(ino) ? snap_stat(fs, ino, out) : -ENODATA;
}
