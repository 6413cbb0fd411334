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
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/status.h>

#include "fs.h"

#define HIDDEN_BIT (1ull << 62)

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

bool hidden_ino(fuse_ino_t ino)
{
	return ino & HIDDEN_BIT;
}

static fuse_ino_t hidden_make(uint32_t eir_id, unsigned kind)
{
	return HIDDEN_BIT | (uint64_t)eir_id << 8 | kind;
}

uint32_t hidden_eir(fuse_ino_t ino)
{
	return (uint32_t)((ino & ~HIDDEN_BIT) >> 8);
}

static unsigned hidden_kind(fuse_ino_t ino)
{
	return ino & 0xff;
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
static int hidden_stat(struct fs *fs, fuse_ino_t ino, struct enrp_stat *out)
{
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

void hidden_lookup(fuse_req_t req, struct fs *fs, fuse_ino_t parent, const char *name)
{
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

static void hidden_file_destroy(struct handle *h)
{
	struct hidden_file *f = (struct hidden_file *)h;
	enrp_status_reader_free(f->r);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void hidden_open(fuse_req_t req, struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
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
	handle_init(&h->h, hidden_file_destroy);
	pthread_mutex_init(&h->lock, NULL);
	int rc = enrp_status_reader_new(fs->st, hidden_eir(ino), kind - HK_FILE_BASE, &h->r);
	if (rc) {
		hidden_file_destroy(&h->h);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	if (fuse_reply_open(req, fi) != 0)
		hidden_file_destroy(&h->h);
}

void hidden_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                 struct fuse_file_info *fi)
{
	struct hidden_file *h = (struct hidden_file *)handle_get(fi);
	const char *p;
	size_t n = 0;
	char *copy = NULL;
	/* The reader's text is valid until its next call: copy what the reply
	 * needs, so no lock is held across it. */
	pthread_mutex_lock(&h->lock);
	int rc = off < 0 ? -EINVAL : !h->r ? -EBADF
	                           : enrp_status_reader_get(h->r, (uint64_t)off, size, &p, &n);
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

void hidden_release(fuse_req_t req, struct fuse_file_info *fi)
{
	/* The text goes now, not when the handle is reaped a grace period
	 * later: a loop of opens would otherwise keep every closed reader's
	 * window alive meanwhile.  A read still in flight finds none. */
	struct hidden_file *h = (struct hidden_file *)(uintptr_t)fi->fh;
	pthread_mutex_lock(&h->lock);
	enrp_status_reader_free(h->r);
	h->r = NULL;
	pthread_mutex_unlock(&h->lock);
	handle_release(fs_of(req), fi);
	fuse_reply_err(req, 0);
}

void hidden_opendir(fuse_req_t req, struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *d = dir_new(ino);
	struct enrp_stat s;
	int rc = d ? hidden_stat(fs, ino, &s) : -ENOMEM;
	if (rc)
		goto out_err;
	if (hidden_kind(ino) >= HK_FILE_BASE) {
		rc = -ENOTDIR;
		goto out_err;
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
	if (fuse_reply_open(req, fi) != 0)
		dir_free(d);
	return;
out_err:
	dir_free(d);
	fuse_reply_err(req, -rc);
}
