/*
 * ops_file.c — open files: create, open, read, write, release, fsync,
 * fallocate.  (No flush: see the operation table in main.c.)
 *
 * A handle owns one spool descriptor, opened when the handle is and closed
 * with it (no descriptor per inode).  The access policy is re-checked on
 * every read and write, so a handle opened before a mode change obeys the
 * new mode (DESIGN §4).  Reads hold fs->mode_lock for reading across check
 * and reply: an enrpctl change waits for reads that passed the old check to
 * finish before it invalidates the kernel's page cache, so no page read
 * under the old mode survives the change.
 *
 * The kernel's writeback cache is off: with it, writes would be acknowledged
 * before the daemon saw them, and a switch to ro or a full quota would
 * surface only at close/fsync (see docs/design.md).
 *
 * Write-only EIRs (DESIGN §4: no byte comes back, by any path).  A handle
 * opened in a wo EIR bypasses the page cache (FOPEN_DIRECT_IO): every read,
 * pread, readv, sendfile, splice and copy_file_range through it reaches
 * op_read and is refused, a shared mmap is refused by the kernel (ENODEV)
 * and a private one faults through op_read (SIGBUS).  A handle opened before
 * the EIR became wo is page-cached; the switch drops the cached pages
 * (notify.c), its reads reach op_read, and its writes are refused, since the
 * kernel would keep their pages and serve them to that handle's readers
 * without asking.  And a writer may only rewrite or cut bytes it wrote in
 * its own writing session (inode.c): see ENRP_POLICY_REWRITE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <enrp/ingest.h>
#include <enrp/spool.h>

#include "fs.h"

struct open_file {
	struct handle h;
	struct fs *fs;
	int fd;               /* spool descriptor, or -1 */
	/* A sealed file opened for reading, or a spool file that rewrites a
	 * sealed one (its base: reads go through it, writes prepare with it). */
	enrp_reader *reader;
	uint64_t ino;
	uint32_t eir_id;
	bool writer;          /* registered with enrp_ingest_writer_open */
	bool cached;          /* the kernel caches this handle's pages */
	/* The verified copy this open unsealed, journalled at the handle's
	 * first change of bytes or size (an open for writing that changes
	 * nothing loses nothing: the same bytes are sealed again); owned. */
	_Atomic(struct pending_loss *) loss;
};

/* The first change through H: its unsealed copy is lost now, as KIND, or
 * (NEW_SIZE >= 0) as a cut when NEW_SIZE is below the copy's size. */
static void loss_of_change(struct fs *fs, struct open_file *h, enum enrp_loss_kind kind,
                           off_t new_size, const char *how)
{
	struct pending_loss *pl = atomic_exchange(&h->loss, NULL);
	if (!pl)
		return;
	pl->kind = new_size >= 0 && new_size < pl->victim.st.st_size ? ENRP_LOSS_TRUNCATED : kind;
	pl->how = how;
	loss_commit(fs, pl);
	free(pl);
}

void file_loss_truncate(struct fs *fs, struct fuse_file_info *fi, off_t size)
{
	if (fi && fi->fh)
		loss_of_change(fs, (struct open_file *)(uintptr_t)fi->fh, ENRP_LOSS_REPLACED, size,
		               "truncate");
}

static void open_file_close(struct open_file *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	enrp_reader_close(h->reader);
	h->reader = NULL;
}

/* Once, when released and unused (handle.c).  Only then is the file's
 * writer gone: a write the kernel abandoned but a thread still serves
 * lands before the file may be sealed, not during its seal. */
static void open_file_let_go(struct handle *hh)
{
	struct open_file *h = (struct open_file *)hh;
	open_file_close(h);
	if (h->writer) /* the last close queues it */
		enrp_ingest_writer_close_in(h->fs->ing, h->ino, h->eir_id);
	node_close(h->fs, h->ino, h->writer);
}

/* After open_file_let_go, or instead of it for a handle never released (an
 * open that failed, or one still open at exit), whose writer and node are
 * its caller's. */
static void open_file_destroy(struct handle *hh)
{
	struct open_file *h = (struct open_file *)hh;
	open_file_close(h);
	free(atomic_load(&h->loss));
	free(h);
}

/* The bytes of INO for reading: its spool file, or its chunks once sealed
 * (it may be sealed, or unsealed, between our look and our open).  CONTENT:
 * what the open's check found; a spool file is opened without looking for
 * chunks first (sealed since, its based reader says so: -ESTALE). */
static int open_for_reading(struct fs *fs, struct open_file *h, enum enrp_content content)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		int rc = attempt == 0 && content == ENRP_CONTENT_SPOOL
		                 ? -EINVAL
		                 : enrp_reader_open(fs->ing, h->ino, &h->reader);
		if (rc != -EINVAL)
			return rc;
		h->fd = enrp_spool_open(fs->st, h->ino, 0);
		if (h->fd == -ENOENT)
			continue;
		if (h->fd < 0)
			return h->fd;
		rc = enrp_reader_open_based(fs->ing, h->ino, h->fd, &h->reader);
		if (rc == 0 || rc == -EINVAL) /* a rewrite, or a plain spool file */
			return 0;
		close(h->fd);
		h->fd = -1;
		if (rc != -ESTALE) /* sealed meanwhile: look again */
			return rc;
	}
	/* Neither sealed nor spooled: an empty file whose spool a crash lost. */
	h->fd = enrp_spool_open(fs->st, h->ino, 1);
	return h->fd < 0 ? h->fd : 0;
}

/* Whether handles on files of EIR_ID must bypass the page cache. */
static bool uncached(struct fs *fs, uint32_t eir_id)
{
	struct enrp_eir e;
	/* Unknown: bypass, the safe side. */
	return enrp_eir_get_by_id(fs->st, eir_id, &e) != 0 || enrp_policy_uncached(&e);
}

/* A handle on INO.  A writing handle stops INO from being sealed while it
 * is open, and turns a sealed file back into a spool file first (copying
 * its bytes, or none with TRUNCATE); a file made by this very request
 * (FRESH) cannot be sealed yet, so it skips that look.  UNCACHED: its
 * pages bypass the kernel's cache (uncached()). */
static int handle_new(struct fs *fs, const struct enrp_stat *s, bool write, bool truncate,
                      bool fresh, bool uncached_io, struct fuse_file_info *fi)
{
	struct open_file *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	handle_init(&h->h, open_file_let_go, open_file_destroy);
	h->fs = fs;
	h->fd = -1;
	h->ino = s->st.st_ino;
	h->eir_id = s->eir_id;
	fi->direct_io = uncached_io;
	h->cached = !fi->direct_io;
	int rc;
	if (write) {
		enrp_ingest_writer_open(fs->ing, h->ino);
		h->writer = true;
		rc = fresh ? 0 : enrp_ingest_unseal(fs->ing, h->ino, truncate);
		if (rc == 0) {
			h->fd = enrp_spool_open(fs->st, h->ino, 1);
			rc = h->fd < 0 ? h->fd : 0;
		}
		/* A rewrite keeps the sealed bytes as its base until written. */
		if (rc == 0 && !fresh) {
			rc = enrp_reader_open_based(fs->ing, h->ino, h->fd, &h->reader);
			if (rc == -EINVAL)
				rc = 0;
		}
	} else {
		rc = open_for_reading(fs, h, s->content);
	}
	if (rc) {
		if (h->writer)
			enrp_ingest_writer_close_in(fs->ing, h->ino, h->eir_id);
		open_file_destroy(&h->h);
		return rc;
	}
	/* A reopen serves what the kernel already holds of the file, as a local
	 * filesystem does: each such byte was checked when it was read, or is
	 * what a write the store took put there ("The page cache" in
	 * docs/design.md says when it cannot be kept). */
	bool keep = node_open(fs, h->ino, h->eir_id, h->writer);
	fi->keep_cache = !uncached_io && keep;
	fi->fh = (uintptr_t)h;
	handle_live(fs, &h->h);
	return 0;
}

/* For an open whose reply never reached the kernel: nothing else has it. */
static void handle_free(struct fs *fs, struct open_file *h)
{
	handle_unlive(fs, &h->h);
	open_file_let_go(&h->h);
	open_file_destroy(&h->h);
}

static struct open_file *handle_of(const struct fuse_file_info *fi)
{
	return (struct open_file *)(uintptr_t)fi->fh;
}

static struct open_file *file_get(fuse_req_t req, const struct fuse_file_info *fi)
{
	return (struct open_file *)handle_get(req, fi);
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
               struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(parent)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	struct enrp_caller caller;
	struct enrp_stat s;
	caller_of(req, &caller);
	/* Creating a new file is a write, whatever the access mode: mkstemp(3),
	 * which rsync uses for every file, creates with O_RDWR.  In a write-only
	 * EIR each read through such a handle is still refused (op_read). */
	int rc = enrp_ns_mknod(fs->st, &caller, parent, name, S_IFREG | (mode & 07777), 0, NULL,
	                       &s);
	if (rc) {
		reply_denied(req, fs, eir_of(fs, parent), parent, name, ENRP_OP_WRITE, rc);
		return;
	}
	rc = handle_new(fs, &s, true, false, true, uncached(fs, s.eir_id), fi);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	node_session_begin(fs, s.st.st_ino, caller.uid);
	struct fuse_entry_param e;
	entry_of(fs, &s, &e);
	node_ref(fs, e.ino, s.eir_id);
	if (fuse_reply_create(req, &e, fi) != 0) {
		node_forget(fs, e.ino, 1);
		handle_free(fs, handle_of(fi));
	}
}

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		hidden_open(req, fs, ino, fi);
		return;
	}
	struct enrp_caller caller;
	struct enrp_stat s;
	struct enrp_open_check oc;
	caller_of(req, &caller);
	int rc = enrp_ns_open_check(fs->st, &caller, ino, fi->flags, &s, &oc);
	if (rc && oc.denied) {
		reply_denied(req, fs, s.eir_id, ino, NULL, oc.denied_op, rc);
		return;
	}
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	bool write = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
	bool truncate = fi->flags & O_TRUNC;
	/* Opening a verified file to write moves its copy to trash (unseal):
	 * lost at once with O_TRUNC, else at the handle's first change. */
	struct pending_loss *pl = write ? malloc(sizeof(*pl)) : NULL;
	if (pl)
		loss_prepare(req, fs, pl, truncate ? ENRP_LOSS_TRUNCATED : ENRP_LOSS_REPLACED, &s, 0,
		             NULL, truncate ? "o_trunc" : "rewrite");
	rc = handle_new(fs, &s, write, truncate, false, oc.uncached, fi);
	if (rc) {
		free(pl);
		fuse_reply_err(req, -rc);
		return;
	}
	if (pl && pl->relevant && truncate)
		loss_commit(fs, pl);
	if (pl && pl->relevant && !truncate)
		atomic_store(&handle_of(fi)->loss, pl);
	else
		free(pl);
	if (truncate) {
		struct stat attr = { .st_size = 0 };
		rc = enrp_ns_setattr(fs->st, &caller, ino, &attr, ENRP_SETATTR_SIZE, &s);
		if (rc) {
			handle_free(fs, handle_of(fi));
			reply_denied(req, fs, s.eir_id, ino, NULL, ENRP_OP_WRITE, rc);
			return;
		}
		node_session_begin(fs, ino, caller.uid);
	}
	if (fuse_reply_open(req, fi) != 0) {
		/* The kernel did not drop the pages this open was to drop. */
		if (!fi->keep_cache)
			node_pages_stale(fs, ino);
		handle_free(fs, handle_of(fi));
	}
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		hidden_read(req, ino, size, off, fi);
		return;
	}
	struct open_file *h = file_get(req, fi);
	if (!h)
		return;
	struct enrp_caller caller;
	caller_of(req, &caller);
	pthread_rwlock_rdlock(&fs->mode_lock);
	int rc = enrp_ns_check(fs->st, &caller, ino, ENRP_OP_READ);
	if (rc) {
		pthread_rwlock_unlock(&fs->mode_lock);
		reply_denied(req, fs, h->eir_id, ino, NULL, ENRP_OP_READ, rc);
	} else if (h->reader) {
		char *data = malloc(size ? size : 1);
		ssize_t n = data ? enrp_reader_read(h->reader, data, size, (uint64_t)off) : -ENOMEM;
		if (n < 0)
			fuse_reply_err(req, (int)-n);
		else
			fuse_reply_buf(req, data, (size_t)n);
		pthread_rwlock_unlock(&fs->mode_lock);
		free(data);
	} else {
		struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
		buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		buf.buf[0].fd = h->fd;
		buf.buf[0].pos = off;
		fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
		pthread_rwlock_unlock(&fs->mode_lock);
	}
	handle_put(&h->h);
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
              struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct open_file *h = file_get(req, fi);
	if (!h) {
		node_pages_stale(fs, ino);
		return;
	}
	struct enrp_caller caller;
	caller_of(req, &caller);
	bool own = node_session_owned(fs, ino, caller.uid);
	/* A write that crosses the largest file size stops there, as write(2)
	 * on the filesystem below does; one that starts past it is EFBIG. */
	size_t asked = size;
	uint64_t max = enrp_spool_size_max(fs->st);
	if ((uint64_t)off < max && size > max - (uint64_t)off)
		size = (size_t)(max - (uint64_t)off);
	unsigned flags = ENRP_WRITE_CHANGES_BYTES | (own ? ENRP_WRITE_OWN_SESSION : 0) |
	                 (h->cached ? ENRP_WRITE_CACHED : 0);
	int rc = enrp_ns_write_check(fs->st, &caller, ino, (uint64_t)off, size, flags);
	if (rc == 0 && !own)
		node_session_end(fs, ino);
	if (rc == 0)
		rc = enrp_reader_prepare_write(h->reader, (uint64_t)off, size);
	ssize_t n = 0;
	if (rc == 0) {
		n = pwrite(h->fd, data, size, off);
		rc = n < 0 ? -errno : 0;
	}
	if (rc == 0)
		rc = enrp_ns_write_done(fs->st, ino, (uint64_t)off + (uint64_t)n, NULL);
	if (rc == 0)
		loss_of_change(fs, h, ENRP_LOSS_REPLACED, -1, "rewrite");
	/* The kernel copied these bytes into its cache before asking; what it
	 * does with pages of a refused write-back (a mapping's) is its own. */
	if (rc || (size_t)n < asked)
		node_pages_stale(fs, ino);
	if (rc)
		reply_denied(req, fs, h->eir_id, ino, NULL, ENRP_OP_WRITE, rc);
	else
		fuse_reply_write(req, (size_t)n);
	handle_put(&h->h);
}

void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	/* Every kind of handle (this file's, a .enrp list's, a snapshot's
	 * file) lets go of what it holds as soon as no op uses it, not when
	 * the reaper destroys it: a spool file nobody holds can be recycled
	 * once its file is sealed (core/spool.c, open_file_let_go). */
	handle_release(fs_of(req), fi);
	fuse_reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		fuse_reply_err(req, 0);
		return;
	}
	/* The commit runs while the spool bytes are flushed: one flush's time
	 * instead of two.  Metadata durable before the bytes is what a crash
	 * can leave anyway (sizes commit every second, bytes when the kernel
	 * writes them back: zeros read back, core/store.c), and fsync returns
	 * only once both are durable. */
	struct open_file *h = file_get(req, fi);
	if (!h)
		return;
	int rc = h->writer ? enrp_ingest_enqueue(fs->ing, h->ino) : 0;
	/* A file whose last change beyond its bytes and size is durable needs
	 * no commit: its spool file, synced whole, tells its size after a
	 * crash (docs/design.md, "An fsync without a commit").  The kernel
	 * sends no write or truncate of the inode while its fsync runs. */
	bool alone = false;
	uint64_t gen = 0;
	if (rc == 0 && h->fd >= 0)
		rc = enrp_ns_sync_plan(fs->st, h->ino, &alone, &gen);
	if (rc == 0 && alone) {
		rc = enrp_spool_sync_sized(fs->st, h->ino, h->fd, gen);
		if (rc == 1) { /* no note written: commit instead */
			alone = false;
			rc = 0;
		} else if (rc == 0) {
			atomic_fetch_add(&fs->fsyncs_alone, 1);
		}
	}
	if (rc == 0 && !alone) {
		uint64_t commit = enrp_store_sync_ask(fs->st);
		if (h->fd >= 0)
			rc = enrp_spool_sync(fs->st, h->ino, h->fd);
		if (rc == 0)
			rc = enrp_store_sync_wait(fs->st, commit);
		if (rc == 0)
			atomic_fetch_add(&fs->fsyncs_committed, 1);
	}
	handle_put(&h->h);
	fuse_reply_err(req, -rc);
}

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                  struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	struct open_file *h = file_get(req, fi);
	if (!h)
		return;
	struct enrp_caller caller;
	caller_of(req, &caller);
	bool grows = !(mode & FALLOC_FL_KEEP_SIZE);
	/* A punched hole turns bytes into zeros: a change of bytes, checked
	 * like a write of the range.  A reservation changes none, but its
	 * space is charged to the quota like bytes, kept or not past the end. */
	bool punch = mode & FALLOC_FL_PUNCH_HOLE;
	bool own = punch && node_session_owned(fs, ino, caller.uid);
	unsigned flags = punch ? ENRP_WRITE_PUNCH | ENRP_WRITE_CHANGES_BYTES |
	                         (own ? ENRP_WRITE_OWN_SESSION : 0) |
	                         (h->cached ? ENRP_WRITE_CACHED : 0)
	                       : 0;
	uint64_t end = (uint64_t)offset + (uint64_t)length;
	int rc = enrp_ns_write_check(fs->st, &caller, ino, (uint64_t)offset, (uint64_t)length,
	                             flags);
	if (rc == 0 && punch && !own)
		node_session_end(fs, ino);
	if (rc == 0 && punch)
		rc = enrp_reader_prepare_write(h->reader, (uint64_t)offset, (uint64_t)length);
	if (rc == 0 && fallocate(h->fd, mode, offset, length) < 0)
		rc = -errno;
	if (rc == 0 && grows)
		rc = enrp_ns_write_done(fs->st, ino, end, NULL);
	else if (rc == 0 && !punch)
		rc = enrp_ns_reserve_done(fs->st, ino, end);
	if (rc == 0 && punch)
		loss_of_change(fs, h, ENRP_LOSS_REPLACED, -1, "punch");
	/* The kernel drops the punched range's pages itself; not trusting
	 * every kernel's ranges costs one reread. */
	if (rc == 0 && punch)
		node_pages_stale(fs, ino);
	if (rc)
		reply_denied(req, fs, h->eir_id, ino, NULL, ENRP_OP_WRITE, rc);
	else
		fuse_reply_err(req, 0);
	handle_put(&h->h);
}
