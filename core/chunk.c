/*
 * chunk.c — chunk files and the per-EIR chunk index.
 *
 * A chunk lives at STORE/chunks/<eir id>/<d0d1>/<d2d3>/<64 hex digits>.
 * Chunks are shared only within one EIR (its directory and its key): the
 * index key is (eir id, digest).
 *
 * Crash safety.  A chunk file is written under a temporary name in the EIR's
 * tmp/ directory and renamed into place, so a visible chunk file is always
 * complete.  The seal pipeline writes all new chunks of a file and applies
 * the index entries and chunk list that point at them to the daemon's open
 * group; the group's commit makes them durable first (chunk_sync, called by
 * txn_needs_chunks in store.c), so metadata never durably points at a chunk
 * that a crash could lose.  A group that wrote few chunk files (with the
 * directories made for them, at most UNSYNCED_MAX names) syncs those files,
 * the directories they were renamed into, and the parent of each directory
 * made; a larger one (a dump) runs one syncfs(2).  syncfs alone flushed
 * every dirty page of the filesystem, the clients' spool files included:
 * under a busy small-file load each commit that carried a seal waited for
 * all of them.  In a young store nearly every chunk makes its <d2d3>
 * directory, so those must not need a syncfs either.
 *
 * A directory another writer made may already hold our chunk before that
 * writer has listed it: every mkdir counts as in flight (u->making) until
 * its parent is listed, and a sync waits for none to be in flight before it
 * takes the list.  Syncs run one at a time, so one that took a directory
 * is finished before a later one, which may cover a chunk inside it, can
 * report durability.  A crash in between leaves chunk files nothing
 * references, which garbage collection removes; an index entry whose
 * reference count drops to zero is removed at once, its file likewise left
 * to GC (a snapshot taken later may still find it useful, and removing files
 * must wait until no metadata can point at them again).  A temporary file
 * of a writer that died before its rename is removed when the next daemon
 * starts (chunk_tmp_sweep).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <enrp/enrp.h>

#include "chunk_int.h"
#include "eir_int.h"
#include "snapshot_int.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* "<eir>/ab/cd/<hex>" relative to chunks/, and its two parent levels. */
static void chunk_rel(uint32_t eir_id, const uint8_t digest[32], char *buf, size_t n)
{
	char h[65];
	hex(digest, 32, h);
	snprintf(buf, n, "%u/%.2s/%.2s/%s", eir_id, h, h + 2, h);
}

/* The chunk files this process wrote that are not yet known durable, and
 * the directories whose entries must be: their names, unless there were
 * more than UNSYNCED_MAX (then only a syncfs does). */
#define UNSYNCED_MAX 64
#define REL_MAX 128 /* chunk_rel's buffers */

struct unsynced_name {
	char rel[REL_MAX];
	bool dir; /* a directory to sync itself; a file's directory is synced too */
};

struct chunk_unsynced {
	pthread_mutex_t lock;
	pthread_cond_t made;               /* signalled when making drops to 0 */
	pthread_mutex_t syncing;           /* held across a whole chunk_sync */
	struct unsynced_name v[UNSYNCED_MAX]; /* protected by lock */
	unsigned n;                        /* protected by lock */
	unsigned making;                   /* protected by lock: mkdirs not yet listed */
	bool whole;                        /* protected by lock: syncfs needed */
	uint64_t file_syncs, whole_syncs, dir_syncs; /* protected by lock */
	void (*test_made_hook)(void *); /* after a mkdir, before its listing */
	void *test_made_arg;
};

struct chunk_unsynced *chunk_unsynced_new(void)
{
	struct chunk_unsynced *u = calloc(1, sizeof(*u));
	if (u) {
		pthread_mutex_init(&u->lock, NULL);
		pthread_cond_init(&u->made, NULL);
		pthread_mutex_init(&u->syncing, NULL);
	}
	return u;
}

void chunk_unsynced_free(struct chunk_unsynced *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->syncing);
	pthread_cond_destroy(&u->made);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

/* Lists REL (its first LEN bytes) for the next sync; u->lock held. */
static void unsynced_add_locked(struct chunk_unsynced *u, const char *rel, size_t len, bool dir)
{
	if (u->n == UNSYNCED_MAX || len >= REL_MAX) {
		u->whole = true;
		return;
	}
	memcpy(u->v[u->n].rel, rel, len);
	u->v[u->n].rel[len] = '\0';
	u->v[u->n++].dir = dir;
}

static void unsynced_add(enrp_store *st, const char *rel)
{
	struct chunk_unsynced *u = store_chunk_unsynced(st);
	pthread_mutex_lock(&u->lock);
	unsynced_add_locked(u, rel, strlen(rel), false);
	pthread_mutex_unlock(&u->lock);
}

/* Creates each parent of REL (a relative path) in turn, listing the parent
 * of each directory it makes ("." for a top one) for the next sync.  In
 * flight from before the first mkdir until the lists are done: see above. */
static int mkdir_p_at(enrp_store *st, int dfd, char *rel)
{
	struct chunk_unsynced *u = store_chunk_unsynced(st);
	pthread_mutex_lock(&u->lock);
	u->making++;
	pthread_mutex_unlock(&u->lock);
	int rc = 0;
	for (char *p = strchr(rel, '/'); p && rc == 0; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(dfd, rel, 0700) == 0) {
			if (u->test_made_hook)
				u->test_made_hook(u->test_made_arg);
			const char *up = strrchr(rel, '/');
			pthread_mutex_lock(&u->lock);
			unsynced_add_locked(u, up ? rel : ".", up ? (size_t)(up - rel) : 1, true);
			pthread_mutex_unlock(&u->lock);
		} else if (errno != EEXIST) {
			rc = -errno;
		}
		*p = '/';
	}
	pthread_mutex_lock(&u->lock);
	if (--u->making == 0)
		pthread_cond_broadcast(&u->made);
	pthread_mutex_unlock(&u->lock);
	return rc;
}

int chunk_write(enrp_store *st, uint32_t eir_id, const uint8_t digest[32], const void *frame,
                size_t n, bool *written)
{
	char rel[128], tmp[128];
	int dfd = store_chunks_dirfd(st);
	*written = false;
	chunk_rel(eir_id, digest, rel, sizeof(rel));
	/* Called only for a chunk the index does not vouch for: a file already
	 * there (a crash between write and commit, or a damaged copy) is
	 * replaced, never trusted. */
	static _Atomic unsigned long counter;
	snprintf(tmp, sizeof(tmp), "%u/tmp/%d.%lu", eir_id, (int)getpid(), ++counter);
	/* Directories are made only when missing: after the first chunks of an
	 * EIR they nearly always exist, and each mkdirat is a syscall. */
	int rc = 0;
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT) {
		if ((rc = mkdir_p_at(st, dfd, tmp)))
			return rc;
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return -errno;
	const uint8_t *p = frame;
	size_t left = n;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dfd, tmp, dfd, rel) < 0) {
		rc = -errno;
		if (rc == -ENOENT && (rc = mkdir_p_at(st, dfd, rel)) == 0 &&
		    renameat(dfd, tmp, dfd, rel) < 0)
			rc = -errno;
	}
	if (rc) {
		unlinkat(dfd, tmp, 0);
		return rc;
	}
	unsynced_add(st, rel);
	*written = true;
	return 0;
}

/* A temporary chunk file "PID.N" whose writer is gone: another process
 * (this one's are in use; a live pid may be a writer, or a reused pid — its
 * file is then left for the next start). */
static bool tmp_is_stale(const char *name)
{
	char *end;
	errno = 0;
	long pid = strtol(name, &end, 10);
	if (errno || end == name || *end != '.' || pid <= 0)
		return false;
	return pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int chunk_tmp_sweep(enrp_store *st, unsigned *removed)
{
	int cfd = store_chunks_dirfd(st);
	*removed = 0;
	int dfd = openat(cfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *top = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!top) {
		int rc = -errno;
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	struct dirent *e;
	char rel[64];
	int rc = 0;
	while ((e = readdir(top))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || strlen(e->d_name) > 10)
			continue;
		snprintf(rel, sizeof(rel), "%.16s/tmp", e->d_name);
		int tfd = openat(cfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *t = tfd >= 0 ? fdopendir(tfd) : NULL;
		if (!t) {
			if (tfd >= 0)
				close(tfd);
			continue; /* no tmp/ yet: this EIR never had a chunk written */
		}
		struct dirent *f;
		while ((f = readdir(t))) {
			if (!tmp_is_stale(f->d_name))
				continue;
			if (unlinkat(dirfd(t), f->d_name, 0) == 0)
				(*removed)++;
			else if (errno != ENOENT && rc == 0)
				rc = -errno;
		}
		closedir(t);
	}
	closedir(top);
	return rc;
}

int chunk_delete(enrp_store *st, uint32_t eir_id, const uint8_t digest[32])
{
	char rel[128];
	chunk_rel(eir_id, digest, rel, sizeof(rel));
	if (unlinkat(store_chunks_dirfd(st), rel, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

bool chunk_hex_name(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

DIR *chunk_opendir_at(int dfd, const char *rel)
{
	int fd = openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	return d;
}

/* Lists one leaf directory "<eir>/ab/cd" of chunk files. */
static int list_leaf(int cfd, const char *rel, chunk_list_fn *fn, void *arg)
{
	DIR *d = chunk_opendir_at(cfd, rel);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (!chunk_hex_name(e->d_name, 64))
			continue;
		uint8_t digest[32];
		for (int i = 0; i < 32; i++) {
			unsigned v;
			sscanf(e->d_name + 2 * i, "%2x", &v);
			digest[i] = (uint8_t)v;
		}
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* removed meanwhile */
			rc = -errno;
			break;
		}
		rc = fn(digest, (uint64_t)sb.st_size, arg);
	}
	closedir(d);
	return rc;
}

/* Lists "<eir>" or "<eir>/ab": calls LEAF for each two-hex subdirectory. */
static int list_level(int cfd, const char *rel, bool leaf, chunk_list_fn *fn, void *arg)
{
	DIR *d = chunk_opendir_at(cfd, rel);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	int rc = 0;
	char sub[64];
	while (rc == 0 && (e = readdir(d))) {
		if (!chunk_hex_name(e->d_name, 2))
			continue;
		snprintf(sub, sizeof(sub), "%.40s/%.2s", rel, e->d_name);
		rc = leaf ? list_leaf(cfd, sub, fn, arg) : list_level(cfd, sub, true, fn, arg);
	}
	closedir(d);
	return rc;
}

int chunk_list(enrp_store *st, uint32_t eir_id, chunk_list_fn *fn, void *arg)
{
	char rel[16];
	snprintf(rel, sizeof(rel), "%u", eir_id);
	return list_level(store_chunks_dirfd(st), rel, false, fn, arg);
}

/* ---- pins ---- */

#define PIN_BUCKETS 1024

struct pin {
	uint32_t eir_id;
	uint8_t digest[32];
	unsigned pins;
	bool doomed;
	struct pin *next;
};

struct chunk_pins {
	pthread_mutex_t lock;
	pthread_cond_t undoomed;      /* protected by lock: a doomed chunk was let go */
	struct pin *bucket[PIN_BUCKETS]; /* protected by lock */
};

struct chunk_pins *chunk_pins_new(void)
{
	struct chunk_pins *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->undoomed, NULL);
	return p;
}

void chunk_pins_free(struct chunk_pins *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < PIN_BUCKETS; i++)
		while (p->bucket[i]) {
			struct pin *n = p->bucket[i]->next;
			free(p->bucket[i]);
			p->bucket[i] = n;
		}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->undoomed);
	free(p);
}

/* The slot that holds (or would hold) the entry.  Caller holds lock. */
static struct pin **pin_slot(struct chunk_pins *p, uint32_t eir_id, const uint8_t digest[32])
{
	size_t b = ((size_t)digest[0] << 8 | digest[1]) ^ eir_id;
	struct pin **pp = &p->bucket[b % PIN_BUCKETS];
	while (*pp && ((*pp)->eir_id != eir_id || memcmp((*pp)->digest, digest, 32) != 0))
		pp = &(*pp)->next;
	return pp;
}

static struct pin *pin_add(struct pin **slot, uint32_t eir_id, const uint8_t digest[32])
{
	struct pin *n = calloc(1, sizeof(*n));
	if (n) {
		n->eir_id = eir_id;
		memcpy(n->digest, digest, 32);
		*slot = n;
	}
	return n;
}

/* Removes the entry at SLOT once nothing holds it.  Caller holds lock. */
static void pin_drop_if_idle(struct pin **slot)
{
	struct pin *e = *slot;
	if (e && !e->pins && !e->doomed) {
		*slot = e->next;
		free(e);
	}
}

int chunk_pin(enrp_store *st, uint32_t eir_id, const uint8_t digest[32])
{
	struct chunk_pins *p = store_chunk_pins(st);
	int rc = 0;
	pthread_mutex_lock(&p->lock);
	struct pin **slot = pin_slot(p, eir_id, digest);
	while (*slot && (*slot)->doomed) {
		pthread_cond_wait(&p->undoomed, &p->lock);
		slot = pin_slot(p, eir_id, digest);
	}
	struct pin *e = *slot ? *slot : pin_add(slot, eir_id, digest);
	if (e)
		e->pins++;
	else
		rc = -ENOMEM;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void chunk_unpin(enrp_store *st, uint32_t eir_id, const uint8_t digest[32])
{
	struct chunk_pins *p = store_chunk_pins(st);
	pthread_mutex_lock(&p->lock);
	struct pin **slot = pin_slot(p, eir_id, digest);
	if (*slot && (*slot)->pins) {
		(*slot)->pins--;
		pin_drop_if_idle(slot);
	}
	pthread_mutex_unlock(&p->lock);
}

bool chunk_doom(enrp_store *st, uint32_t eir_id, const uint8_t digest[32])
{
	struct chunk_pins *p = store_chunk_pins(st);
	bool doomed = false;
	pthread_mutex_lock(&p->lock);
	struct pin **slot = pin_slot(p, eir_id, digest);
	if (!*slot && pin_add(slot, eir_id, digest)) {
		(*slot)->doomed = true;
		doomed = true;
	}
	pthread_mutex_unlock(&p->lock);
	return doomed;
}

void chunk_undoom(enrp_store *st, uint32_t eir_id, const uint8_t digest[32])
{
	struct chunk_pins *p = store_chunk_pins(st);
	pthread_mutex_lock(&p->lock);
	struct pin **slot = pin_slot(p, eir_id, digest);
	if (*slot && (*slot)->doomed) {
		(*slot)->doomed = false;
		pin_drop_if_idle(slot);
		pthread_cond_broadcast(&p->undoomed);
	}
	pthread_mutex_unlock(&p->lock);
}

/* fsync of REL under DFD, opened read-only (a directory too). */
static int sync_at(int dfd, const char *rel)
{
	int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Syncs the N listed files, then each directory listed or holding one of
 * them, once.  A file gone meanwhile needs nothing (GC removed it, or a
 * rewrite replaced it: that one is listed itself).  *DIRS: directories
 * synced. */
static int sync_names(int dfd, struct unsynced_name *v, unsigned n, unsigned *dirs)
{
	*dirs = 0;
	for (unsigned i = 0; i < n; i++) {
		if (v[i].dir)
			continue;
		int rc = sync_at(dfd, v[i].rel);
		if (rc && rc != -ENOENT)
			return rc;
		char *slash = strrchr(v[i].rel, '/');
		if (slash) {
			*slash = '\0'; /* from now on, the file's directory */
			v[i].dir = true;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		bool seen = !v[i].dir;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = v[j].dir && strcmp(v[j].rel, v[i].rel) == 0;
		if (seen)
			continue;
		int rc = sync_at(dfd, v[i].rel);
		if (rc)
			return rc;
		++*dirs;
	}
	return 0;
}

int chunk_sync(enrp_store *st)
{
	/* Taken whole: what is written after this moment waits for the next
	 * sync (its seal's ticket is newer than the sync: store.c). */
	struct chunk_unsynced *u = store_chunk_unsynced(st);
	struct unsynced_name *v = malloc(sizeof(u->v));
	pthread_mutex_lock(&u->syncing);
	pthread_mutex_lock(&u->lock);
	while (u->making)
		pthread_cond_wait(&u->made, &u->lock);
	unsigned n = u->n, dirs = 0;
	bool whole = u->whole || !v;
	if (v)
		memcpy(v, u->v, n * sizeof(*v));
	u->n = 0;
	u->whole = false;
	pthread_mutex_unlock(&u->lock);
	int rc = 0;
	if (!whole && n)
		rc = sync_names(store_chunks_dirfd(st), v, n, &dirs);
	if (whole || rc)
		rc = syncfs(store_chunks_dirfd(st)) < 0 ? -errno : 0;
	pthread_mutex_unlock(&u->syncing);
	free(v);
	pthread_mutex_lock(&u->lock);
	if (whole)
		u->whole_syncs++;
	else if (n)
		u->file_syncs++;
	u->dir_syncs += dirs;
	pthread_mutex_unlock(&u->lock);
	return rc;
}

void chunk_test_made_hook(enrp_store *st, void (*fn)(void *), void *arg)
{
	struct chunk_unsynced *u = store_chunk_unsynced(st);
	u->test_made_hook = fn;
	u->test_made_arg = arg;
}

void chunk_sync_counts(enrp_store *st, uint64_t *files, uint64_t *whole, uint64_t *dirs)
{
	struct chunk_unsynced *u = store_chunk_unsynced(st);
	pthread_mutex_lock(&u->lock);
	*files = u->file_syncs;
	*whole = u->whole_syncs;
	*dirs = u->dir_syncs;
	pthread_mutex_unlock(&u->lock);
}

int chunk_read(enrp_store *st, uint32_t eir_id, const uint8_t digest[32], uint8_t **buf,
               size_t *n)
{
	char rel[128];
	chunk_rel(eir_id, digest, rel, sizeof(rel));
	int fd = openat(store_chunks_dirfd(st), rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat sb;
	int rc = 0;
	uint8_t *b = NULL;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto out_close;
	}
	b = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!b) {
		rc = -ENOMEM;
		goto out_close;
	}
	size_t got = 0;
	while (got < (size_t)sb.st_size) {
		ssize_t r = pread(fd, b + got, (size_t)sb.st_size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)r;
	}
	if (rc) {
		free(b);
		goto out_close;
	}
	*buf = b;
	*n = got;
out_close:
	close(fd);
	return rc;
}

int chunk_fetch(enrp_store *st, enrp_codec *codec, uint32_t eir_id,
                const struct enrp_eir_key *key, const uint8_t digest[32], uint32_t plain_len,
                uint8_t *plain, bool check_name)
{
	uint8_t *frame, name[32];
	size_t flen, plen;
	int rc = chunk_read(st, eir_id, digest, &frame, &flen);
	if (rc)
		return rc;
	rc = enrp_codec_decode(codec, key, digest, frame, flen, plain, plain_len, &plen);
	free(frame);
	/* A frame longer than its chunk list says is damage, not a bad call;
	 * so is a frame that does not parse. */
	if (rc == -EINVAL || rc == -EIO || (rc == 0 && plen != plain_len))
		rc = -EBADMSG;
	if (rc == 0 && (check_name || !key)) {
		/* zstd's checksum proves a frame intact, not that it is this chunk;
		 * an encrypted frame is bound to its name by the GCM tag. */
		rc = enrp_codec_name(codec, key, plain, plen, name);
		if (rc == 0 && CRYPTO_memcmp(name, digest, 32) != 0)
			rc = -EBADMSG;
	}
	return rc;
}

int chunk_lookup(enrp_txn *t, uint32_t eir_id, const uint8_t digest[32], struct chunk_rec *out)
{
	uint8_t key[CHUNK_KEY_LEN];
	MDB_val v;
	key_chunk(key, eir_id, digest);
	int rc = txn_get(t, DBI_CHUNK, key, sizeof(key), &v);
	if (rc)
		return rc;
	return rec_chunk_decode(v.mv_data, v.mv_size, out);
}

static int chunk_store(enrp_txn *t, uint32_t eir_id, const uint8_t digest[32],
                       const struct chunk_rec *c)
{
	uint8_t key[CHUNK_KEY_LEN], val[CHUNK_VAL_LEN];
	key_chunk(key, eir_id, digest);
	rec_chunk_encode(val, c);
	return txn_put(t, DBI_CHUNK, key, sizeof(key), val, sizeof(val), 0);
}

int chunk_ref(enrp_txn *t, uint32_t eir_id, const uint8_t digest[32], uint32_t stored_len,
              uint32_t plain_len)
{
	struct chunk_rec c;
	int rc = chunk_lookup(t, eir_id, digest, &c);
	if (rc == -ENOENT) {
		c = (struct chunk_rec){ .refs = 0, .stored_len = stored_len, .plain_len = plain_len };
		rc = eir_usage_add_stored(t, eir_id, stored_len, 1);
	}
	if (rc)
		return rc;
	c.refs++;
	return chunk_store(t, eir_id, digest, &c);
}

int chunk_unref(enrp_txn *t, uint32_t eir_id, const uint8_t digest[32])
{
	struct chunk_rec c;
	int rc = chunk_lookup(t, eir_id, digest, &c);
	if (rc)
		return rc == -ENOENT ? -EIO : rc; /* a chunk list names a chunk the index lacks */
	if (c.refs > 1) {
		c.refs--;
		return chunk_store(t, eir_id, digest, &c);
	}
	uint8_t key[CHUNK_KEY_LEN];
	key_chunk(key, eir_id, digest);
	rc = txn_del(t, DBI_CHUNK, key, sizeof(key));
	if (rc == 0)
		rc = eir_usage_add_stored(t, eir_id, -(int64_t)c.stored_len, -1);
	if (rc == 0)
		store_note_unreferenced(t->st);
	return rc;
}

int extent_get(enrp_txn *t, uint64_t ino, struct extent_ent **v, size_t *n)
{
	uint8_t key[8];
	MDB_val val;
	be64_put(key, ino);
	int rc = txn_get(t, DBI_EXTENT, key, sizeof(key), &val);
	if (rc)
		return rc;
	return rec_extent_decode(val.mv_data, val.mv_size, v, n);
}

int extent_put(enrp_txn *t, uint32_t eir_id, uint64_t ino, const struct extent_ent *v, size_t n)
{
	uint8_t key[8];
	struct rec_out o;
	be64_put(key, ino);
	int rc = snap_preserve(t, eir_id, DBI_EXTENT, key, sizeof(key));
	if (rc)
		return rc;
	rec_out_init(&o);
	rc = rec_extent_encode(v, n, &o);
	if (rc == 0)
		rc = txn_put(t, DBI_EXTENT, key, sizeof(key), o.buf, o.len, 0);
	rec_out_release(&o);
	return rc;
}

int extent_release(enrp_txn *t, uint32_t eir_id, uint64_t ino)
{
	struct extent_ent *v;
	size_t n;
	int rc = extent_get(t, ino, &v, &n);
	if (rc == -ENOENT)
		return 0;
	/* A snapshot that still shows these bytes takes its own references
	 * first: the ones dropped below are the live file's. */
	uint8_t key[8];
	be64_put(key, ino);
	if (rc == 0 && (rc = snap_preserve(t, eir_id, DBI_EXTENT, key, sizeof(key))))
		free(v);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (v[i].plain_len) /* a run of zeros references no chunk */
			rc = chunk_unref(t, eir_id, v[i].digest);
	free(v);
	if (rc)
		return rc;
	return txn_del(t, DBI_EXTENT, key, sizeof(key));
}
