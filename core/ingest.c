/*
 * ingest.c — the seal pipeline: spool file -> SHA-256 + FastCDC chunks ->
 * zstd (+ AES-256-GCM) -> chunk files -> one commit.
 *
 * Queue.  DBI_QUEUE is keyed (EIR class, time queued, ino), so a cursor from
 * the start yields class 1 first and then the oldest.  It lives in LMDB, so
 * a file queued before a crash is sealed after it; at start every spool file
 * nobody writes is queued as well (its last close may have been in the
 * metadata a crash lost).
 *
 * Never sealing stale data.  A file is sealed only when no handle that can
 * write it is open (ing->writers) — checked under ing->lock, which the
 * commit also holds, so a writer cannot slip in between check and commit —
 * and only if its generation (bumped by every change of its bytes) is the
 * one the worker started from.  Otherwise the worker commits nothing and the
 * file stays queued.
 *
 * Crash safety of a seal: chunks are written and made durable (one syncfs)
 * before the transaction that references them; the spool file is removed
 * only after that transaction is durable (txn_on_durable).  A crash at any
 * point leaves either the spool file with the file still queued, or the
 * sealed file; at worst unreferenced chunk files, which GC removes.
 *
 * One file on every CPU.  The worker that owns a file reads it, computes its
 * SHA-256 and cuts it into chunks (FastCDC): cheap work, GB/s.  A file
 * larger than one chunk can be hands each chunk to the compressor pool (one
 * thread per CPU, shared by every worker), where naming, the dedup check
 * (reading a known chunk back), zstd, encryption and the chunk file write
 * run in parallel.  At most ing->window chunks of a file are in flight, each
 * a copy of its bytes, and the worker takes their results in file order, so
 * the chunk list is the one a serial seal makes; while its window is full
 * the worker waits (pool_wait() says why it does not compress too).  Every
 * chunk in flight is finished before the syncfs, error or not, so the
 * crash-safety argument above is unchanged.  Smaller files are stored by
 * their worker alone: for one chunk, a handoff costs more than it can win.
 *
 * Unsealing (a sealed file opened for writing) copies the bytes back into a
 * spool file and fsyncs it before the commit that drops the chunk list, so a
 * crash never loses a verified file.
 *
 * Lock order: ing->unseal_lock, ing->lock, then the store's.  ing->pool_lock
 * is a leaf: taken with no other lock held, nothing taken under it.  Reads
 * of sealed files and the chunk cache are reader.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <enrp/cdc.h>
#include <enrp/codec.h>
#include <enrp/enrp.h>
#include <enrp/ingest.h>
#include <enrp/journal.h>
#include <enrp/spool.h>

#include "chunk_int.h"
#include "eir_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "reader_int.h"
#include "record_int.h"
#include "spool_int.h"
#include "store_int.h"

#define WRITER_BUCKETS 1024
#define DEFAULT_CACHE (64u << 20)
#define DEFAULT_DECODERS_MAX 8
#define READ_BLOCK (4u << 20)
#define WINDOW_PER_THREAD 2

struct writer {
	uint64_t ino;
	unsigned count;
	struct writer *next;
};

struct enrp_ingest {
	enrp_store *st;
	enrp_vault *vault;
	struct enrp_cdc_params cdc;
	int zstd_level;
	struct enrp_actor actor;

	pthread_mutex_t lock;
	pthread_cond_t work;          /* protected by lock: something was queued, or stop */
	pthread_cond_t idle;          /* protected by lock: a worker finished a file */
	bool stopping;                /* protected by lock */
	uint64_t *busy;               /* protected by lock: inos being sealed */
	unsigned nbusy;
	struct writer *writers[WRITER_BUCKETS]; /* protected by lock */

	pthread_mutex_t unseal_lock;  /* one copy-back at a time */

	pthread_t *threads;
	unsigned nthreads;

	/* The compressor pool: chunks of large files, from every worker. */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_push;     /* protected by pool_lock: a slot was queued, or stop */
	pthread_cond_t pool_done;     /* protected by pool_lock: a slot is done */
	struct slot *pool_head, *pool_tail; /* protected by pool_lock: queued slots */
	bool pool_stopping;           /* protected by pool_lock */
	pthread_t *compressors;
	unsigned ncompressors;
	unsigned window;              /* chunks of one file in flight; 0: no pool */

	struct chunk_cache *cc;       /* decoded chunks, for copy-back and readers */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- writers (protected by ing->lock) ---- */

static struct writer **writer_slot(enrp_ingest *ing, uint64_t ino)
{
	struct writer **pp = &ing->writers[(ino * 0x9E3779B97F4A7C15ull) >> 54];
	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->next;
	return pp;
}

static unsigned writers_of(enrp_ingest *ing, uint64_t ino)
{
	struct writer *w = *writer_slot(ing, ino);
	return w ? w->count : 0;
}

void enrp_ingest_writer_open(enrp_ingest *ing, uint64_t ino)
{
	pthread_mutex_lock(&ing->lock);
	struct writer **pp = writer_slot(ing, ino);
	if (!*pp)
		*pp = calloc(1, sizeof(**pp));
	if (*pp) {
		(*pp)->ino = ino;
		(*pp)->count++;
	} else {
		enrp_log(ENRP_LOG_ERR, "out of memory tracking writers of inode %llu",
		         (unsigned long long)ino);
	}
	pthread_mutex_unlock(&ing->lock);
}

void enrp_ingest_writer_close(enrp_ingest *ing, uint64_t ino)
{
	bool last = false;
	pthread_mutex_lock(&ing->lock);
	struct writer **pp = writer_slot(ing, ino);
	struct writer *w = *pp;
	if (w && --w->count == 0) {
		*pp = w->next;
		free(w);
		last = true;
	}
	pthread_mutex_unlock(&ing->lock);
	if (last)
		enrp_ingest_enqueue(ing, ino);
}

/* ---- the durable queue ---- */

static int enqueue_fn(enrp_txn *t, void *arg)
{
	uint64_t ino = *(uint64_t *)arg;
	struct inode_rec r;
	struct enrp_eir e;
	uint8_t k[8], qk[QUEUE_KEY_LEN];
	MDB_val v;
	int rc = ns_inode_get(t, ino, &r);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (!S_ISREG(r.mode) || r.content != ENRP_CONTENT_SPOOL || r.nlink == 0 ||
	    (r.flags & INODE_QUEUED))
		return 0;
	rc = eir_get_txn(t, r.eir_id, &e);
	if (rc)
		return rc;
	be64_put(k, ino);
	if (txn_get(t, DBI_SPOOL, k, 8, &v) == 0 && v.mv_size == QUEUE_KEY_LEN)
		return 0;
	key_queue(qk, e.eir_class, enrp_now_ns(), ino);
	txn_put(t, DBI_QUEUE, qk, sizeof(qk), "", 0, 0);
	txn_put(t, DBI_SPOOL, k, 8, qk, sizeof(qk), 0);
	r.flags |= INODE_QUEUED;
	ns_inode_put(t, ino, &r);
	return t->ret;
}

int enrp_ingest_enqueue(enrp_ingest *ing, uint64_t ino)
{
	int rc = enrp_store_write(ing->st, enqueue_fn, &ino);
	pthread_mutex_lock(&ing->lock);
	pthread_cond_broadcast(&ing->work);
	pthread_mutex_unlock(&ing->lock);
	return rc;
}

/* Removes INO's queue entry (and its QUEUED flag) in this transaction. */
static int dequeue_txn(enrp_txn *t, uint64_t ino, struct inode_rec *r)
{
	uint8_t k[8];
	MDB_val v;
	be64_put(k, ino);
	int rc = txn_get(t, DBI_SPOOL, k, 8, &v);
	if (rc == 0 && v.mv_size == QUEUE_KEY_LEN) {
		uint8_t qk[QUEUE_KEY_LEN];
		memcpy(qk, v.mv_data, sizeof(qk));
		rc = txn_del(t, DBI_QUEUE, qk, sizeof(qk));
		if (rc && rc != -ENOENT)
			return rc;
		rc = txn_put(t, DBI_SPOOL, k, 8, "", 0, 0);
	} else if (rc == -ENOENT) {
		rc = 0;
	}
	r->flags &= ~INODE_QUEUED;
	return rc;
}

struct pick_args {
	uint64_t cand[64];
	unsigned n;
};

static int pick_fn(enrp_txn *t, void *arg)
{
	struct pick_args *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_QUEUE, &cur);
	if (rc)
		return rc;
	a->n = 0;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && a->n < 64) {
		if (k.mv_size == QUEUE_KEY_LEN)
			a->cand[a->n++] = key_queue_ino(k.mv_data);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : 0;
}

static bool is_busy(enrp_ingest *ing, uint64_t ino)
{
	for (unsigned i = 0; i < ing->nbusy; i++)
		if (ing->busy[i] == ino)
			return true;
	return false;
}

static void unbusy(enrp_ingest *ing, uint64_t ino)
{
	for (unsigned i = 0; i < ing->nbusy; i++) {
		if (ing->busy[i] == ino) {
			ing->busy[i] = ing->busy[--ing->nbusy];
			break;
		}
	}
	pthread_cond_broadcast(&ing->idle);
}

/* Next queued inode nobody seals or writes, marked busy; 0 if none. */
static uint64_t pick(enrp_ingest *ing)
{
	struct pick_args a;
	if (enrp_store_read(ing->st, pick_fn, &a) || a.n == 0)
		return 0;
	uint64_t ino = 0;
	pthread_mutex_lock(&ing->lock);
	for (unsigned i = 0; i < a.n && !ino; i++) {
		if (!is_busy(ing, a.cand[i]) && writers_of(ing, a.cand[i]) == 0) {
			ino = a.cand[i];
			ing->busy[ing->nbusy++] = ino;
		}
	}
	pthread_mutex_unlock(&ing->lock);
	return ino;
}

/* ---- per-thread codec state ---- */

/* A codec and the buffers one chunk needs: one per worker and one per
 * compressor (STYLE 27).  The buffers grow to the largest chunk met and are
 * freed when their thread goes idle, so an idle daemon holds none. */
struct coder {
	enrp_codec *codec;
	uint8_t *frame;    /* the encoded chunk */
	size_t framesz;
	uint8_t *check;    /* an existing chunk, decoded for comparison */
	size_t checksz;
};

/* Makes *P hold at least N bytes; its contents are not kept. */
static int grow(uint8_t **p, size_t *cap, size_t n)
{
	if (*p && *cap >= n)
		return 0;
	free(*p);
	*p = malloc(n ? n : 1);
	*cap = *p ? n : 0;
	return *p ? 0 : -ENOMEM;
}

static void coder_idle(struct coder *c)
{
	free(c->frame);
	free(c->check);
	c->frame = c->check = NULL;
	c->framesz = c->checksz = 0;
}

/* ---- one chunk ---- */

/* What a chunk is stored for: fixed while the file is being sealed, read by
 * the worker and the compressors alike. */
struct chunk_ctx {
	enrp_store *st;
	uint32_t eir_id;
	const struct enrp_eir_key *key;
	uint64_t ino;
};

struct chunk_out {
	uint8_t digest[32];
	uint32_t stored;   /* length of its frame */
	bool written;      /* a chunk file was written (syncfs before commit) */
};

struct known_args {
	uint32_t eir_id;
	const uint8_t *digest;
	struct chunk_rec c;
};

static int known_fn(enrp_txn *t, void *arg)
{
	struct known_args *a = arg;
	return chunk_lookup(t, a->eir_id, a->digest, &a->c);
}

/* Does the stored chunk DIGEST hold exactly P[0..N)?  Reads and decodes it:
 * a file must never be called verified on the strength of a chunk that a
 * disk has since damaged. */
static bool stored_chunk_matches(struct coder *c, const struct chunk_ctx *x,
                                 const uint8_t digest[32], const uint8_t *p, size_t n)
{
	return grow(&c->check, &c->checksz, n) == 0 &&
	       chunk_fetch(x->st, c->codec, x->eir_id, x->key, digest, (uint32_t)n, c->check,
	                   false) == 0 &&
	       memcmp(c->check, p, n) == 0;
}

/* Names the N bytes at P, and writes them as a chunk file unless the EIR
 * has that chunk already (checked by reading it back).  Thread-safe for
 * distinct C: two threads storing the same new chunk both write it, and the
 * second rename replaces the first with an equal file. */
static int store_chunk(struct coder *c, const struct chunk_ctx *x, const uint8_t *p, size_t n,
                       struct chunk_out *out)
{
	int rc = enrp_codec_name(c->codec, x->key, p, n, out->digest);
	if (rc)
		return rc;
	out->written = false;
	struct known_args k = { .eir_id = x->eir_id, .digest = out->digest };
	rc = enrp_store_read(x->st, known_fn, &k);
	if (rc == 0 && stored_chunk_matches(c, x, out->digest, p, n)) {
		out->stored = k.c.stored_len;
		return 0;
	}
	if (rc == 0) {
		char hex[65];
		enrp_hex(out->digest, 32, hex);
		enrp_log(ENRP_LOG_WARNING, "EIR %u: chunk %s was damaged; rewriting it from "
		         "inode %llu", x->eir_id, hex, (unsigned long long)x->ino);
	} else if (rc != -ENOENT) {
		return rc;
	}
	size_t flen;
	if ((rc = grow(&c->frame, &c->framesz, enrp_codec_bound(n))))
		return rc;
	rc = enrp_codec_encode(c->codec, x->key, out->digest, p, n, c->frame, c->framesz, &flen);
	if (rc)
		return rc;
	rc = chunk_write(x->st, x->eir_id, out->digest, c->frame, flen, &out->written);
	out->stored = (uint32_t)flen;
	return rc;
}

/* ---- the compressor pool ---- */

/* One chunk handed to the pool.  The worker that owns it fills PLAIN, N and
 * CTX before pool_push(); a compressor fills RC and OUT and then sets DONE. */
struct slot {
	const struct chunk_ctx *ctx;
	uint8_t *plain;
	size_t cap, n;
	int rc;
	struct chunk_out out;
	bool done;          /* protected by pool_lock */
	struct slot *next;  /* protected by pool_lock */
};

static void pool_push(enrp_ingest *ing, struct slot *s)
{
	pthread_mutex_lock(&ing->pool_lock);
	s->done = false;
	s->next = NULL;
	if (ing->pool_tail)
		ing->pool_tail->next = s;
	else
		ing->pool_head = s;
	ing->pool_tail = s;
	pthread_cond_signal(&ing->pool_push);
	pthread_mutex_unlock(&ing->pool_lock);
}

/* The oldest queued slot, or NULL.  Called with pool_lock held. */
static struct slot *pool_pop(enrp_ingest *ing)
{
	struct slot *s = ing->pool_head;
	if (s) {
		ing->pool_head = s->next;
		if (!ing->pool_head)
			ing->pool_tail = NULL;
	}
	return s;
}

/* Runs S unlocked and marks it done.  Called with pool_lock held. */
static void pool_run(enrp_ingest *ing, struct coder *c, struct slot *s)
{
	pthread_mutex_unlock(&ing->pool_lock);
	s->rc = store_chunk(c, s->ctx, s->plain, s->n, &s->out);
	pthread_mutex_lock(&ing->pool_lock);
	s->done = true;
	pthread_cond_broadcast(&ing->pool_done);
}

/* Waits until S is done.  The worker does not compress meanwhile: measured
 * on 2 CPUs, a worker that also took queued chunks made three busy threads
 * for two CPUs and sealed a 256 MiB dump at 94-170 MB/s; one that waits, at
 * 185-205 MB/s with ~10% less CPU. */
static void pool_wait(enrp_ingest *ing, struct slot *s)
{
	pthread_mutex_lock(&ing->pool_lock);
	while (!s->done)
		pthread_cond_wait(&ing->pool_done, &ing->pool_lock);
	pthread_mutex_unlock(&ing->pool_lock);
}

struct compressor {
	enrp_ingest *ing;
	struct coder c;
};

static void *compressor_main(void *arg)
{
	struct compressor *cp = arg;
	enrp_ingest *ing = cp->ing;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&ing->pool_lock);
	for (;;) {
		struct slot *s = pool_pop(ing);
		if (s) {
			pool_run(ing, &cp->c, s);
			continue;
		}
		if (ing->pool_stopping)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (pthread_cond_timedwait(&ing->pool_push, &ing->pool_lock, &ts) == ETIMEDOUT)
			coder_idle(&cp->c); /* a second without work: give the buffers back */
	}
	pthread_mutex_unlock(&ing->pool_lock);
	coder_idle(&cp->c);
	enrp_codec_free(cp->c.codec);
	free(cp);
	return NULL;
}

/* ---- sealing one file ---- */

struct seal_job {
	uint64_t ino;
	struct inode_rec r;        /* as read at the start */
	struct chunk_ctx ctx;
	struct extent_ent *v;      /* the chunk list being built */
	uint32_t *stored;          /* stored length of each chunk */
	size_t n, cap;
	uint8_t sha[32];
	bool wrote;
	const struct enrp_actor *actor;
};

/* Appends a stored chunk of PLAIN bytes to J's chunk list. */
static int job_take(struct seal_job *j, const struct chunk_out *o, size_t plain)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		struct extent_ent *v = realloc(j->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		j->v = v;
		uint32_t *s = realloc(j->stored, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		j->stored = s;
		j->cap = cap;
	}
	memcpy(j->v[j->n].digest, o->digest, 32);
	j->v[j->n].plain_len = (uint32_t)plain;
	j->stored[j->n++] = o->stored;
	j->wrote |= o->written;
	return 0;
}

static int start_fn(enrp_txn *t, void *arg)
{
	struct seal_job *j = arg;
	return ns_inode_get(t, j->ino, &j->r);
}

/* Worker-owned contexts, reused for every file. */
struct worker {
	enrp_ingest *ing;
	struct coder c;
	enrp_sha256 *sha;
};

/* The chunks of one file in flight in the pool: slot i % n holds chunk i,
 * so the chunk list is taken in file order. */
struct window {
	struct slot *s;
	size_t n;                  /* 0: the worker stores every chunk itself */
	size_t pushed, taken;
};

/* Takes the oldest chunk in flight into J's chunk list, once it is done. */
static int window_take(struct worker *w, struct seal_job *j, struct window *win)
{
	struct slot *s = &win->s[win->taken++ % win->n];
	pool_wait(w->ing, s);
	return s->rc ? s->rc : job_take(j, &s->out, s->n);
}

/* Stores the N bytes at P, the next chunk of J: at once, or by the pool
 * (P is copied; at most win->n chunks of a file are in flight). */
static int emit(struct worker *w, struct seal_job *j, struct window *win, const uint8_t *p,
                size_t n)
{
	int rc;
	if (!win->n) {
		struct chunk_out o;
		rc = store_chunk(&w->c, &j->ctx, p, n, &o);
		return rc ? rc : job_take(j, &o, n);
	}
	if (win->pushed - win->taken == win->n && (rc = window_take(w, j, win)))
		return rc;
	struct slot *s = &win->s[win->pushed % win->n];
	if ((rc = grow(&s->plain, &s->cap, n)))
		return rc;
	memcpy(s->plain, p, n);
	s->n = n;
	s->ctx = &j->ctx;
	pool_push(w->ing, s);
	win->pushed++;
	return 0;
}

/* Reads the spool file (zeros past its end, up to the recorded size: bytes a
 * power loss took that were never fsync'd), hashes and chunks it.  A file
 * larger than one chunk can be has its chunks stored by the pool, in
 * parallel, while this thread reads, hashes and cuts the rest. */
static int chunk_file(struct worker *w, struct seal_job *j)
{
	enrp_ingest *ing = w->ing;
	const struct enrp_cdc_params *cdc = &ing->cdc;
	uint64_t size = j->r.size, pos = 0;
	size_t have = 0, start = 0; /* the window is buf[start, start + have) */
	struct window win = { .n = 0 };
	size_t bufsz = size < READ_BLOCK + cdc->max_size ? (size_t)size
	                                                 : READ_BLOCK + cdc->max_size;
	uint8_t *buf = malloc(bufsz ? bufsz : 1);
	if (!buf)
		return -ENOMEM;
	if (size > cdc->max_size && ing->window) {
		win.s = calloc(ing->window, sizeof(*win.s));
		win.n = win.s ? ing->window : 0; /* no memory for a window: serial */
	}
	int fd = enrp_spool_open(ing->st, j->ino, 0);
	int rc = fd < 0 && fd != -ENOENT ? fd : enrp_sha256_reset(w->sha);
	while (rc == 0 && (pos < size || have)) {
		/* Refill so the window holds max_size bytes or the rest.  Only the
		 * tail (< max_size) moves to the front, once per refill, not after
		 * every chunk. */
		if (have < cdc->max_size && pos < size && start) {
			memmove(buf, buf + start, have);
			start = 0;
		}
		while (rc == 0 && have < cdc->max_size && pos < size) {
			size_t want = bufsz - have;
			if (want > size - pos)
				want = (size_t)(size - pos);
			ssize_t got = fd >= 0 ? pread(fd, buf + have, want, (off_t)pos) : 0;
			if (got < 0) {
				rc = errno == EINTR ? 0 : -errno;
				continue;
			}
			if (got == 0) {
				memset(buf + have, 0, want);
				got = (ssize_t)want;
			}
			rc = enrp_sha256_update(w->sha, buf + have, (size_t)got);
			have += (size_t)got;
			pos += (uint64_t)got;
		}
		if (rc || have == 0)
			break;
		size_t cut = enrp_cdc_next(cdc, buf + start, have);
		rc = emit(w, j, &win, buf + start, cut);
		start += cut;
		have -= cut;
	}
	/* Every chunk in flight finishes before its slot goes, error or not. */
	while (win.taken < win.pushed) {
		int trc = window_take(w, j, &win);
		if (rc == 0)
			rc = trc;
	}
	for (size_t i = 0; i < win.n; i++)
		free(win.s[i].plain);
	free(win.s);
	free(buf);
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		rc = enrp_sha256_final(w->sha, j->sha);
	return rc;
}

static int commit_fn(enrp_txn *t, void *arg)
{
	struct seal_job *j = arg;
	struct inode_rec r;
	char hex[65], details[256];
	int rc = ns_inode_get(t, j->ino, &r);
	if (rc)
		return rc;
	if (r.content != ENRP_CONTENT_SPOOL || r.gen != j->r.gen || r.size != j->r.size)
		return -EAGAIN; /* changed while we read it: seal again later */
	if (r.nlink == 0)
		return -ESTALE;
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].plain_len) /* a run of zeros references no chunk */
			chunk_ref(t, r.eir_id, j->v[i].digest, j->stored[i], j->v[i].plain_len);
	extent_put(t, j->ino, j->v, j->n);
	dequeue_txn(t, j->ino, &r);
	uint8_t k[8];
	be64_put(k, j->ino);
	txn_del(t, DBI_SPOOL, k, 8);
	txn_on_durable(t, spool_unlink_hook, j->ino);
	r.content = ENRP_CONTENT_SEALED;
	r.flags &= ~INODE_CORRUPT;
	ns_spool_released(t, &r); /* space reserved past the end goes with the spool */
	memcpy(r.sha256, j->sha, 32);
	r.sealed_at = enrp_now_ns();
	ns_inode_put(t, j->ino, &r);
	if (t->ret)
		return t->ret;
	struct enrp_eir e;
	if ((rc = eir_get_txn(t, r.eir_id, &e)))
		return rc;
	enrp_hex(j->sha, 32, hex);
	snprintf(details, sizeof(details), "ino=%llu size=%llu sha256=%s chunks=%zu",
	         (unsigned long long)j->ino, (unsigned long long)r.size, hex, j->n);
	return journal_append_txn(t, j->actor, e.name, "verified", details);
}

/* Drops a queue entry that can never be sealed (file gone or unlinked). */
static int drop_fn(enrp_txn *t, void *arg)
{
	uint64_t ino = *(uint64_t *)arg;
	struct inode_rec r;
	int rc = ns_inode_get(t, ino, &r);
	if (rc == -ENOENT) {
		/* Find the entry by scanning: the inode that named it is gone. */
		MDB_cursor *cur;
		MDB_val k, v;
		if ((rc = txn_cursor(t, DBI_QUEUE, &cur)))
			return rc;
		int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		while (mrc == 0) {
			if (k.mv_size == QUEUE_KEY_LEN && key_queue_ino(k.mv_data) == ino) {
				mrc = mdb_cursor_del(cur, 0);
				break;
			}
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
		return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : 0;
	}
	if (rc)
		return rc;
	rc = dequeue_txn(t, ino, &r);
	return rc ? rc : ns_inode_put(t, ino, &r);
}

static void seal_one(struct worker *w, uint64_t ino)
{
	enrp_ingest *ing = w->ing;
	struct seal_job j = { .ino = ino, .actor = &ing->actor };
	int rc = enrp_store_read(ing->st, start_fn, &j);
	if (rc == 0 && (!S_ISREG(j.r.mode) || j.r.content != ENRP_CONTENT_SPOOL || !j.r.nlink))
		rc = -ESTALE;
	if (rc == 0)
		rc = enrp_vault_eir_key(ing->vault, j.r.eir_id, &j.ctx.key);
	j.ctx.st = ing->st;
	j.ctx.eir_id = j.r.eir_id;
	j.ctx.ino = ino;
	if (rc == 0)
		rc = chunk_file(w, &j);
	/* New chunks are durable before anything points at them. */
	if (rc == 0 && j.wrote)
		rc = chunk_sync(ing->st);
	if (rc == 0) {
		pthread_mutex_lock(&ing->lock);
		if (writers_of(ing, ino))
			rc = -EAGAIN; /* reopened for writing: its close queues it again */
		else
			rc = enrp_store_write(ing->st, commit_fn, &j);
		pthread_mutex_unlock(&ing->lock);
	}
	if (rc == -ESTALE || rc == -ENOENT) {
		enrp_store_write(ing->st, drop_fn, &ino);
	} else if (rc && rc != -EAGAIN) {
		enrp_log(ENRP_LOG_ERR, "cannot seal inode %llu: %s; will retry",
		         (unsigned long long)ino, enrp_strerror(rc));
		/* Back off so a persistent failure (disk full) does not spin. */
		sleep(1);
	}
	free(j.v);
	free(j.stored);
}

static void worker_free(struct worker *w);

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	enrp_ingest *ing = w->ing;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&ing->lock);
		bool stop = ing->stopping;
		pthread_mutex_unlock(&ing->lock);
		if (stop)
			break;
		uint64_t ino = pick(ing);
		if (!ino) {
			/* Nothing to do, or only files still being written. */
			coder_idle(&w->c);
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_mutex_lock(&ing->lock);
			if (!ing->stopping)
				pthread_cond_timedwait(&ing->work, &ing->lock, &ts);
			pthread_mutex_unlock(&ing->lock);
			continue;
		}
		seal_one(w, ino);
		pthread_mutex_lock(&ing->lock);
		unbusy(ing, ino);
		pthread_mutex_unlock(&ing->lock);
	}
	worker_free(w);
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	coder_idle(&w->c);
	enrp_codec_free(w->c.codec);
	enrp_sha256_free(w->sha);
	free(w);
}

static struct worker *worker_new(enrp_ingest *ing)
{
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->ing = ing;
	if (enrp_codec_new(ing->zstd_level, &w->c.codec) || enrp_sha256_new(&w->sha)) {
		worker_free(w);
		return NULL;
	}
	return w;
}

/* ---- chunking parameters recorded in the store ---- */

struct cdc_args {
	struct enrp_cdc_params p;
	char gear[64];
	bool found;
};

static int cdc_fn(enrp_txn *t, void *arg)
{
	struct cdc_args *a = arg;
	MDB_val v;
	int rc = txn_get(t, DBI_META, "cdc", 3, &v);
	if (rc == 0) {
		struct rec_in in;
		rec_in_init(&in, v.mv_data, v.mv_size);
		if (rec_get_u8(&in) != REC_VERSION)
			return -EIO;
		a->p.min_size = rec_get_u32(&in);
		a->p.avg_size = rec_get_u32(&in);
		a->p.max_size = rec_get_u32(&in);
		rec_get_str(&in, a->gear, sizeof(a->gear));
		a->found = true;
		return rec_in_end(&in);
	}
	if (rc != -ENOENT || !t->write)
		return rc == -ENOENT ? 0 : rc;
	struct rec_out o;
	rec_out_init(&o);
	rec_put_u8(&o, REC_VERSION);
	rec_put_u32(&o, a->p.min_size);
	rec_put_u32(&o, a->p.avg_size);
	rec_put_u32(&o, a->p.max_size);
	rec_put_str(&o, enrp_cdc_gear_id());
	rc = o.err ? o.err : txn_put(t, DBI_META, "cdc", 3, o.buf, o.len, 0);
	rec_out_release(&o);
	snprintf(a->gear, sizeof(a->gear), "%s", enrp_cdc_gear_id());
	return rc;
}

/* The store's chunking parameters win over this binary's defaults, so
 * deduplication stays consistent across versions; they are recorded by the
 * first writer. */
static int load_cdc(enrp_ingest *ing)
{
	struct cdc_args a = { .found = false };
	enrp_cdc_defaults(&a.p);
	int rc = enrp_store_write(ing->st, cdc_fn, &a);
	if (rc == -EROFS)
		rc = enrp_store_read(ing->st, cdc_fn, &a);
	if (rc)
		return rc;
	if (a.found && strcmp(a.gear, enrp_cdc_gear_id()) != 0) {
		enrp_log(ENRP_LOG_ERR, "store chunks with gear table '%s', this enrp has '%s'",
		         a.gear, enrp_cdc_gear_id());
		return -EPROTONOSUPPORT;
	}
	if (enrp_cdc_validate(&a.p)) {
		enrp_log(ENRP_LOG_ERR, "store records invalid chunking parameters");
		return -EPROTONOSUPPORT;
	}
	ing->cdc = a.p;
	return 0;
}

struct ino_list {
	uint64_t *v;
	size_t n, cap;
};

static int spool_list_fn(enrp_txn *t, void *arg)
{
	struct ino_list *l = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_SPOOL, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0) {
		if (k.mv_size == 8 && v.mv_size != QUEUE_KEY_LEN) {
			if (l->n == l->cap) {
				size_t cap = l->cap ? l->cap * 2 : 256;
				uint64_t *nv = realloc(l->v, cap * sizeof(*nv));
				if (!nv) {
					rc = -ENOMEM;
					break;
				}
				l->v = nv;
				l->cap = cap;
			}
			l->v[l->n++] = be64_get(k.mv_data);
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
	return rc;
}

/* Queues every spool file not yet queued: nobody writes any at start, and a
 * file's last close may have been in the metadata a crash lost. */
static int requeue_all(enrp_ingest *ing)
{
	struct ino_list l = { 0 };
	int rc = enrp_store_read(ing->st, spool_list_fn, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = enrp_store_write(ing->st, enqueue_fn, &l.v[i]);
	free(l.v);
	return rc;
}

/* Read-ahead decoders when none are asked for.  On a cold cache a decoder
 * spends about half its time waiting for its chunk file to come off the
 * disk (measured: two decoders on two CPUs were each ~50% busy), so more
 * decoders than CPUs keep both the CPUs and the disk queue full: 4 per CPU,
 * at most 8 (more measured no faster and only cost stacks). */
static unsigned cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (unsigned)n;
}

static unsigned default_decoders(void)
{
	unsigned n = cpus();
	return n >= DEFAULT_DECODERS_MAX / 4 ? DEFAULT_DECODERS_MAX : n * 4;
}

struct chunk_cache *ingest_chunk_cache(enrp_ingest *ing)
{
	return ing->cc;
}

int enrp_ingest_open(enrp_store *st, enrp_vault *vault, const struct enrp_ingest_config *cfg,
                     enrp_ingest **out)
{
	int rc;
	enrp_ingest *ing = calloc(1, sizeof(*ing));
	if (!ing)
		return -ENOMEM;
	ing->st = st;
	ing->vault = vault;
	ing->zstd_level = cfg->zstd_level ? cfg->zstd_level : 3;
	enrp_actor_self(&ing->actor, "enrpfs seal");
	pthread_mutex_init(&ing->lock, NULL);
	pthread_mutex_init(&ing->unseal_lock, NULL);
	pthread_cond_init(&ing->work, NULL);
	pthread_cond_init(&ing->idle, NULL);
	pthread_mutex_init(&ing->pool_lock, NULL);
	pthread_cond_init(&ing->pool_push, NULL);
	pthread_cond_init(&ing->pool_done, NULL);
	if (ing->zstd_level < 1 || ing->zstd_level > 19) {
		rc = -EINVAL;
		goto out_free;
	}
	if ((rc = load_cdc(ing)))
		goto out_free;
	/* No workers (enrpctl) and no explicit decoders: nothing reads ahead. */
	unsigned decoders = cfg->decoders ? cfg->decoders : cfg->workers ? default_decoders() : 0;
	if ((rc = chunk_cache_open(st, vault, cfg->cache_bytes ? cfg->cache_bytes : DEFAULT_CACHE,
	                           decoders, &ing->actor, &ing->cc)))
		goto out_free;
	if (cfg->workers) {
		/* Only a daemon has workers, and only one runs on a store: a
		 * temporary chunk file of a dead writer is garbage now. */
		unsigned swept;
		int src = chunk_tmp_sweep(st, &swept);
		if (src)
			enrp_log(ENRP_LOG_WARNING, "temporary chunk files left by a crash: %s",
			         enrp_strerror(src));
		else if (swept)
			enrp_log(ENRP_LOG_INFO, "removed %u temporary chunk file(s) left by a crash",
			         swept);
		if ((rc = requeue_all(ing)))
			goto out_free;
		ing->busy = calloc(cfg->workers, sizeof(*ing->busy));
		ing->threads = calloc(cfg->workers, sizeof(*ing->threads));
		unsigned ncomp = cfg->compressors ? cfg->compressors : cpus();
		ing->compressors = calloc(ncomp, sizeof(*ing->compressors));
		if (!ing->busy || !ing->threads || !ing->compressors) {
			rc = -ENOMEM;
			goto out_free;
		}
		for (unsigned i = 0; i < ncomp; i++) {
			struct compressor *cp = calloc(1, sizeof(*cp));
			if (!cp || (rc = enrp_codec_new(ing->zstd_level, &cp->c.codec))) {
				free(cp);
				rc = -ENOMEM;
				goto out_free;
			}
			cp->ing = ing;
			rc = -pthread_create(&ing->compressors[i], NULL, compressor_main, cp);
			if (rc) {
				enrp_codec_free(cp->c.codec);
				free(cp);
				goto out_free;
			}
			ing->ncompressors++;
		}
		/* Enough chunks in flight that every compressor has the next
		 * one queued while the worker reads and cuts. */
		ing->window = WINDOW_PER_THREAD * (ing->ncompressors + 1);
		for (unsigned i = 0; i < cfg->workers; i++) {
			struct worker *w = worker_new(ing);
			if (!w) {
				rc = -ENOMEM;
				goto out_free;
			}
			rc = -pthread_create(&ing->threads[i], NULL, worker_main, w);
			if (rc) {
				worker_free(w);
				goto out_free;
			}
			ing->nthreads++;
		}
	}
	*out = ing;
	return 0;
out_free:
	enrp_ingest_close(ing);
	return rc;
}

void enrp_ingest_close(enrp_ingest *ing)
{
	if (!ing)
		return;
	pthread_mutex_lock(&ing->lock);
	ing->stopping = true;
	pthread_cond_broadcast(&ing->work);
	pthread_mutex_unlock(&ing->lock);
	for (unsigned i = 0; i < ing->nthreads; i++) {
		void *w;
		pthread_join(ing->threads[i], &w);
	}
	/* After the workers: none waits for a slot any more. */
	pthread_mutex_lock(&ing->pool_lock);
	ing->pool_stopping = true;
	pthread_cond_broadcast(&ing->pool_push);
	pthread_mutex_unlock(&ing->pool_lock);
	for (unsigned i = 0; i < ing->ncompressors; i++)
		pthread_join(ing->compressors[i], NULL);
	free(ing->compressors);
	chunk_cache_close(ing->cc);
	free(ing->threads);
	free(ing->busy);
	for (size_t b = 0; b < WRITER_BUCKETS; b++) {
		while (ing->writers[b]) {
			struct writer *w = ing->writers[b];
			ing->writers[b] = w->next;
			free(w);
		}
	}
	pthread_mutex_destroy(&ing->lock);
	pthread_mutex_destroy(&ing->unseal_lock);
	pthread_cond_destroy(&ing->work);
	pthread_cond_destroy(&ing->idle);
	pthread_mutex_destroy(&ing->pool_lock);
	pthread_cond_destroy(&ing->pool_push);
	pthread_cond_destroy(&ing->pool_done);
	free(ing);
}

static int queue_empty_fn(enrp_txn *t, void *arg)
{
	struct pick_args *a = arg;
	return pick_fn(t, a);
}

int enrp_ingest_wait_idle(enrp_ingest *ing, int timeout_ms)
{
	int64_t deadline = mono_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		struct pick_args a;
		int rc = enrp_store_read(ing->st, queue_empty_fn, &a);
		if (rc)
			return rc;
		pthread_mutex_lock(&ing->lock);
		bool idle = a.n == 0 && ing->nbusy == 0;
		pthread_mutex_unlock(&ing->lock);
		if (idle)
			return 0;
		if (mono_ns() > deadline)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

/* ---- unseal: copy back into a spool file ---- */

struct unseal_args {
	uint64_t ino;
	bool truncate;
	struct inode_rec r;
	struct extent_ent *v;
	size_t n;
};

static int unseal_start_fn(enrp_txn *t, void *arg)
{
	struct unseal_args *a = arg;
	int rc = ns_inode_get(t, a->ino, &a->r);
	if (rc || a->r.content != ENRP_CONTENT_SEALED)
		return rc;
	return a->truncate ? 0 : extent_get(t, a->ino, &a->v, &a->n);
}

static int unseal_commit_fn(enrp_txn *t, void *arg)
{
	struct unseal_args *a = arg;
	struct inode_rec r;
	uint8_t k[8];
	int rc = ns_inode_get(t, a->ino, &r);
	if (rc)
		return rc;
	if (r.content != ENRP_CONTENT_SEALED || r.gen != a->r.gen)
		return -EAGAIN;
	if ((rc = extent_release(t, r.eir_id, a->ino)))
		return rc;
	be64_put(k, a->ino);
	txn_put(t, DBI_SPOOL, k, 8, "", 0, 0);
	if (a->truncate && r.size)
		eir_usage_add(t, r.eir_id, -(int64_t)r.size, 0);
	if (a->truncate)
		r.size = 0;
	r.content = ENRP_CONTENT_SPOOL;
	r.flags &= ~(INODE_CORRUPT | INODE_QUEUED);
	memset(r.sha256, 0, sizeof(r.sha256));
	r.sealed_at = 0;
	r.gen++;
	return ns_inode_put(t, a->ino, &r);
}

/* Writes the sealed bytes of A into INO's spool file, durably. */
static int copy_back(enrp_ingest *ing, struct unseal_args *a)
{
	const struct enrp_eir_key *key;
	int rc = enrp_vault_eir_key(ing->vault, a->r.eir_id, &key);
	if (rc)
		return rc;
	char name[SPOOL_NAME_LEN + 1];
	spool_name(name, a->ino);
	unlinkat(store_spool_dirfd(ing->st), name, 0); /* a stale one from a crash */
	int fd = enrp_spool_open(ing->st, a->ino, 1);
	if (fd < 0)
		return fd;
	/* The spool file takes the file's size first: runs of zeros stay holes
	 * (a 15 TB sparse file is copied back in the time its chunks take). */
	uint64_t off = 0;
	if (ftruncate(fd, (off_t)a->r.size) < 0)
		rc = -errno;
	for (size_t i = 0; rc == 0 && i < a->n; i++) {
		if (!a->v[i].plain_len) {
			off += a->v[i].zeros;
			continue;
		}
		uint8_t *plain;
		rc = chunk_cache_load(ing->cc, a->r.eir_id, key, a->v[i].digest, a->v[i].plain_len, &plain);
		if (rc == -EBADMSG || rc == -ENOENT || rc == -EIO) {
			chunk_cache_mark_corrupt(ing->cc, a->ino, a->v[i].digest, rc);
			rc = -EIO;
		}
		if (rc)
			break;
		size_t done = 0;
		while (rc == 0 && done < a->v[i].plain_len) {
			ssize_t w = pwrite(fd, plain + done, a->v[i].plain_len - done,
			                   (off_t)(off + done));
			if (w < 0 && errno != EINTR)
				rc = -errno;
			else if (w > 0)
				done += (size_t)w;
		}
		free(plain);
		off += a->v[i].plain_len;
	}
	if (rc == 0 && off != a->r.size)
		rc = -EIO; /* chunk list and size disagree: damage */
	if (rc == 0)
		rc = enrp_spool_sync(ing->st, fd);
	close(fd);
	return rc;
}

int enrp_ingest_unseal(enrp_ingest *ing, uint64_t ino, bool truncate)
{
	struct unseal_args a = { .ino = ino, .truncate = truncate };
	pthread_mutex_lock(&ing->unseal_lock);
	int rc = enrp_store_read(ing->st, unseal_start_fn, &a);
	/* The seal that made this file removes its spool file once durable;
	 * wait for that before writing a new one under the same name. */
	if (rc == 0 && a.r.content == ENRP_CONTENT_SEALED)
		rc = enrp_store_sync(ing->st);
	if (rc == 0 && a.r.content == ENRP_CONTENT_SEALED) {
		if (truncate)
			rc = spool_truncate(ing->st, ino, 0);
		else
			rc = copy_back(ing, &a);
		if (rc == 0)
			rc = enrp_store_write(ing->st, unseal_commit_fn, &a);
	}
	pthread_mutex_unlock(&ing->unseal_lock);
	free(a.v);
	return rc;
}
