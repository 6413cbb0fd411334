/*
 * spool.c — staging files of regular files being written.
 *
 * A spool file is named after its inode and lives as long as the inode's
 * content is ENRP_CONTENT_SPOOL.  Creation is lazy (first open), so an inode
 * whose create was lost in a crash leaves at most a file that
 * enrp_ns_recover() removes; removal waits until the metadata that freed the
 * inode is durable (spool_unlink_hook), so a crash can never leave an inode
 * pointing at a removed spool file.
 *
 * Recycling.  In a transfer of many small files, allocating one ext4 inode
 * per spool file and freeing it after the seal is the most expensive thing
 * the daemon does: ext4 without a journal skips recently freed inodes when
 * it allocates, so a spool directory that churns through thousands of files
 * makes every new one scan its block group (measured here: 0.3-1 ms per
 * create, against ~0.05 ms for a rename).  So the daemon
 * (ENRP_STORE_GROUP_COMMIT) keeps the files it no longer needs: the hook
 * empties one (ftruncate to 0, which frees its blocks as unlink would) and
 * renames it to a pool name "p<16 hex>" (the inode it last served, so names
 * never collide); a spool file that must be created is a pool file renamed
 * into place.  Pool files are empty, belong to no inode, and are kept across
 * mounts (enrp_ns_recover lists them again); at most POOL_MAX are kept.
 * enrpctl never recycles.
 *
 * A spool file still open anywhere (a reader that opened it while the file
 * was pending keeps reading those bytes after the seal) must never be
 * emptied or handed to another file.  The hook therefore takes a write lease
 * first, which the kernel grants only when no other descriptor of the file
 * is open in any process; without it the file is unlinked as before.  An
 * open that resolved the name before the rename and completes after it
 * (it waits for the lease) is caught by enrp_spool_open, which checks that
 * the name still leads to the inode it opened.  A reused file is emptied
 * again if a crash undid the truncate.
 *
 * Largest file.  A file's bytes pass through its spool file, so the largest
 * file enrp holds is the largest the spool directory's filesystem takes
 * (ext4 with 4 KiB blocks: 16 TiB - 4 KiB; XFS, btrfs: 8 EiB).  Linux has
 * no call that tells it, so enrp_spool_size_max finds it once per store: it
 * grows an unnamed file (O_TMPFILE, sparse, nothing written) by bisection
 * until ftruncate answers EFBIG.  The namespace checks sizes against it
 * before the quota, so a file too large is EFBIG in every EIR, with a quota
 * or without, as on the filesystem below.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/spool.h>

#include "record_int.h"
#include "spool_int.h"

#define POOL_MAX 65536
/* The note of an fsync without a commit (enrp_spool_sync_sized): the inode
 * and its generation, so that a pool file handed to another inode never
 * speaks for it. */
#define SIZED_XATTR "user.enrp.sized"
#define SIZED_LEN 16
/* Spool files made lately, whose directory entry may not be durable yet
 * (enrp_spool_sync). */
#define FRESH_MAX 1024

struct spool_pool {
	pthread_mutex_t lock;
	uint64_t *v;      /* protected by lock: pool names (inode numbers) */
	size_t n, cap;    /* protected by lock */
	/* Spool files made (created, or taken from the pool), numbered; the
	 * inode of number K is fresh[K % FRESH_MAX] (protected by lock). */
	uint64_t fresh[FRESH_MAX];
	uint64_t made;    /* the number of the last one made */
	uint64_t durable; /* the entries of those up to this one are durable */
	uint64_t dir_syncs;
};

void spool_name(char *buf, uint64_t ino)
{
	snprintf(buf, SPOOL_NAME_LEN + 1, "%016" PRIx64, ino);
}

static void pool_name(char *buf, uint64_t id)
{
	snprintf(buf, SPOOL_NAME_LEN + 2, "p%016" PRIx64, id);
}

static bool parse_hex16(const char *name, uint64_t *out)
{
	uint64_t v = 0;
	for (int i = 0; i < SPOOL_NAME_LEN; i++) {
		char c = name[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

bool spool_parse_name(const char *name, uint64_t *ino)
{
	return strlen(name) == SPOOL_NAME_LEN && parse_hex16(name, ino);
}

bool spool_parse_pool_name(const char *name, uint64_t *id)
{
	return strlen(name) == SPOOL_NAME_LEN + 1 && name[0] == 'p' && parse_hex16(name + 1, id);
}

struct spool_pool *spool_pool_new(void)
{
	struct spool_pool *p = calloc(1, sizeof(*p));
	if (p) {
		pthread_mutex_init(&p->lock, NULL);
		/* Files made before this daemon are unknown: the first sync
		 * syncs the directory. */
		p->made = FRESH_MAX + 1;
	}
	return p;
}

void spool_pool_free(struct spool_pool *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->v);
	free(p);
}

void spool_pool_reset(enrp_store *st)
{
	struct spool_pool *p = store_spool_pool(st);
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->n = 0;
	pthread_mutex_unlock(&p->lock);
}

bool spool_pool_add(enrp_store *st, uint64_t id)
{
	struct spool_pool *p = store_spool_pool(st);
	if (!p)
		return false;
	bool added = false;
	pthread_mutex_lock(&p->lock);
	if (p->n < POOL_MAX) {
		if (p->n == p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 256;
			uint64_t *v = realloc(p->v, cap * sizeof(*v));
			if (v) {
				p->v = v;
				p->cap = cap;
			}
		}
		if (p->n < p->cap) {
			p->v[p->n++] = id;
			added = true;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return added;
}

static bool pool_pop(struct spool_pool *p, uint64_t *id)
{
	bool got = false;
	pthread_mutex_lock(&p->lock);
	if (p->n) {
		*id = p->v[--p->n];
		got = true;
	}
	pthread_mutex_unlock(&p->lock);
	return got;
}

/* Renames a pool file to NAME and opens it, emptied.  -ENOENT when the pool
 * has nothing to give, -EEXIST when NAME exists already. */
static int pool_take(enrp_store *st, const char *name)
{
	struct spool_pool *p = store_spool_pool(st);
	int dfd = store_spool_dirfd(st);
	uint64_t id;
	while (p && pool_pop(p, &id)) {
		char pname[SPOOL_NAME_LEN + 2];
		pool_name(pname, id);
		if (renameat2(dfd, pname, dfd, name, RENAME_NOREPLACE) < 0) {
			int err = errno;
			if (err == ENOENT)
				continue; /* removed behind our back: try the next */
			spool_pool_add(st, id);
			return -err;
		}
		int fd = openat(dfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return -errno;
		/* Empty already, unless a crash undid the truncate.  (Truncating
		 * an empty file is not free on ext4: its next close would force
		 * the new bytes to disk, auto_da_alloc.) */
		struct stat sb;
		if (fstat(fd, &sb) < 0 || (sb.st_size != 0 && ftruncate(fd, 0) < 0)) {
			int rc = -errno;
			close(fd);
			return rc;
		}
		return fd;
	}
	return -ENOENT;
}

/* With recycling, the file NAME led to when FD was opened may have been
 * emptied into the pool since (see the top): then it is not ours. */
static int still_named(enrp_store *st, int fd, const char *name)
{
	struct stat a, b;
	if (fstat(fd, &a) < 0)
		return -errno;
	if (fstatat(store_spool_dirfd(st), name, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev ? 0 : -ENOENT;
}

/* INO's spool file was just made (its entry is in the directory): its
 * number is taken only now, so that a directory sync that began at or
 * after it covers the entry. */
static void entry_made(enrp_store *st, uint64_t ino)
{
	struct spool_pool *p = store_spool_pool(st);
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->made++;
	p->fresh[p->made % FRESH_MAX] = ino;
	pthread_mutex_unlock(&p->lock);
}

/* Whether INO's directory entry is known durable: no spool file made since
 * the last directory sync began is INO's, and all of those are listed.
 * *MADE: the number of the last file made, for a sync about to begin. */
static bool entry_durable(struct spool_pool *p, uint64_t ino, uint64_t *made)
{
	pthread_mutex_lock(&p->lock);
	bool durable = p->made - p->durable <= FRESH_MAX;
	for (uint64_t k = p->durable + 1; durable && k <= p->made; k++)
		durable = p->fresh[k % FRESH_MAX] != ino;
	*made = p->made;
	pthread_mutex_unlock(&p->lock);
	return durable;
}

int enrp_spool_open(enrp_store *st, uint64_t ino, int create)
{
	char name[SPOOL_NAME_LEN + 1];
	spool_name(name, ino);
	/* Most opens find the file there already (a rewrite, a file written
	 * again while it settles): try that first, since taking from the pool
	 * renames, and a rename that fails still locks the spool directory
	 * against every other create, rename and unlink in it. */
	if (create && store_spool_pool(st)) {
		int fd = enrp_spool_open(st, ino, 0);
		if (fd >= 0)
			entry_made(st, ino); /* made earlier: either way */
		if (fd != -ENOENT)
			return fd;
		fd = pool_take(st, name);
		if (fd >= 0) {
			entry_made(st, ino);
			return fd;
		}
		/* -ENOENT: nothing pooled; -EEXIST: made meanwhile, opened below. */
	}
	for (int attempt = 0;; attempt++) {
		int fd = openat(store_spool_dirfd(st), name,
		                O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
		if (fd < 0 || !store_spool_pool(st))
			return fd < 0 ? -errno : fd;
		int rc = still_named(st, fd, name);
		if (rc == 0) {
			if (create)
				entry_made(st, ino); /* made now, or earlier: either way */
			return fd;
		}
		close(fd);
		if (!create || attempt == 2)
			return rc;
	}
}

static int spool_sync(enrp_store *st, uint64_t ino, int fd, bool whole)
{
	if ((whole ? fsync(fd) : fdatasync(fd)) < 0)
		return -errno;
	/* A new file's directory entry must be durable too.  Only a new one's:
	 * under a busy load that syncs the directory for most fsyncs of a
	 * client took a second journal commit each. */
	struct spool_pool *p = store_spool_pool(st);
	uint64_t began = 0;
	if (p && entry_durable(p, ino, &began))
		return 0;
	if (fsync(store_spool_dirfd(st)) < 0)
		return -errno;
	if (p) {
		pthread_mutex_lock(&p->lock);
		if (p->durable < began)
			p->durable = began;
		p->dir_syncs++;
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

int enrp_spool_sync(enrp_store *st, uint64_t ino, int fd)
{
	return spool_sync(st, ino, fd, false);
}

int enrp_spool_sync_sized(enrp_store *st, uint64_t ino, int fd, uint64_t gen)
{
	uint8_t note[SIZED_LEN];
	be64_put(note, ino);
	be64_put(note + 8, gen);
	if (fsetxattr(fd, SIZED_XATTR, note, sizeof(note), 0) < 0)
		return 1;
	return spool_sync(st, ino, fd, true);
}

int enrp_spool_sized_gen(int fd, uint64_t ino, uint64_t *gen)
{
	uint8_t note[SIZED_LEN];
	ssize_t n = fgetxattr(fd, SIZED_XATTR, note, sizeof(note));
	if (n < 0)
		return errno == ENODATA || errno == ENOTSUP ? -ENODATA : -errno;
	if (n != SIZED_LEN || be64_get(note) != ino)
		return -ENODATA;
	*gen = be64_get(note + 8);
	return 0;
}

uint64_t spool_dir_syncs(enrp_store *st)
{
	struct spool_pool *p = store_spool_pool(st);
	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	uint64_t n = p->dir_syncs;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Empties INO's spool file and renames it into the pool; false when it
 * cannot (no pool, pool full, no such file), and the caller unlinks. */
static bool recycle(enrp_store *st, const char *name, uint64_t ino)
{
	struct spool_pool *p = store_spool_pool(st);
	if (!p)
		return false;
	pthread_mutex_lock(&p->lock);
	bool room = p->n < POOL_MAX;
	pthread_mutex_unlock(&p->lock);
	if (!room)
		return false;
	int dfd = store_spool_dirfd(st);
	int fd = openat(dfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	/* A lease break (an open racing us) must not signal the process: the
	 * signal is set to one whose default is to be ignored, and the owner
	 * cleared as soon as the lease is ours. */
	fcntl(fd, F_SETSIG, SIGURG);
	if (fcntl(fd, F_SETLEASE, F_WRLCK) < 0) {
		close(fd); /* open elsewhere (or no leases here): unlink it */
		return false;
	}
	fcntl(fd, F_SETOWN, 0);
	char pname[SPOOL_NAME_LEN + 2];
	pool_name(pname, ino);
	/* The note of a fsync without a commit names INO, so it could not be
	 * taken for another inode's; it goes anyway, with the bytes. */
	fremovexattr(fd, SIZED_XATTR);
	bool moved = ftruncate(fd, 0) == 0 &&
	             renameat2(dfd, name, dfd, pname, RENAME_NOREPLACE) == 0;
	fcntl(fd, F_SETLEASE, F_UNLCK);
	close(fd);
	if (!moved)
		return false;
	if (!spool_pool_add(st, ino))
		unlinkat(dfd, pname, 0); /* the pool filled meanwhile */
	return true;
}

void spool_unlink_hook(enrp_store *st, uint64_t ino)
{
	char name[SPOOL_NAME_LEN + 1];
	spool_name(name, ino);
	if (recycle(st, name, ino))
		return;
	if (unlinkat(store_spool_dirfd(st), name, 0) < 0 && errno != ENOENT)
		enrp_log(ENRP_LOG_WARNING, "cannot remove spool file %s: %s", name, strerror(errno));
}

/* The kernel's own bound for any file (MAX_LFS_FILESIZE), and so for FUSE's. */
#define FILE_SIZE_LIMIT ((uint64_t)INT64_MAX)

/* The largest size ftruncate grants a file in the spool directory, or 0
 * when it cannot be found (no O_TMPFILE, an unexpected error). */
static uint64_t probe_size_max(int dirfd)
{
	int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	/* ok is a size granted, over one that is refused (or past the kernel's
	 * bound): ftruncate refuses sizes past the limit and no others. */
	uint64_t ok = 0, over = FILE_SIZE_LIMIT + 1;
	while (over - ok > 1) {
		uint64_t mid = ok + (over - ok) / 2;
		if (ftruncate(fd, (off_t)mid) == 0) {
			ok = mid;
		} else if (errno == EFBIG || errno == EINVAL) {
			over = mid;
		} else {
			ok = 0;
			break;
		}
	}
	close(fd); /* unnamed: its blocks (none) go with the descriptor */
	return ok;
}

uint64_t enrp_spool_size_max(enrp_store *st)
{
	uint64_t max = store_spool_size_max(st);
	if (max)
		return max;
	int dirfd = store_spool_dirfd(st);
	max = dirfd >= 0 ? probe_size_max(dirfd) : 0;
	if (!max) {
		/* Not known: the kernel's bound, and whatever the spool's
		 * filesystem answers when a file reaches its own. */
		return FILE_SIZE_LIMIT;
	}
	/* Threads that race here find the same value. */
	store_set_spool_size_max(st, max);
	return max;
}

static int spool_cut(int fd, uint64_t size)
{
	/* Not when it has the size already: a truncate on ext4 journals the
	 * inode (and can wait for a commit), and one to zero makes the next
	 * close of the file flush whatever was written (auto_da_alloc). */
	struct stat sb;
	if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size == size)
		return 0;
	return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

int spool_truncate(enrp_store *st, uint64_t ino, uint64_t size, bool create)
{
	int fd = enrp_spool_open(st, ino, create);
	if (fd < 0)
		return fd == -ENOENT && !create ? 0 : fd;
	int rc = spool_cut(fd, size);
	close(fd);
	return rc;
}
