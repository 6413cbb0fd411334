/*
 * reader.c — reads of sealed files: a bounded cache of decoded chunks, a
 * pool of decoder threads that works ahead of sequential readers, and the
 * reader itself.
 *
 * Why a pool.  Decoding a chunk (read its file, check it, zstd-decompress,
 * SHA-256 the result against its name) costs ~2 ms of CPU for 256 KiB, and
 * on a cold cache each chunk file is one more disk round trip.  One thread
 * decoding in the order the client reads leaves the other cores idle and
 * the disk waiting; DECODERS threads each take the next chunk a sequential
 * reader will want, so decode and I/O overlap across cores.
 *
 * Single flight.  A chunk being decoded is listed in cc->loading; anyone
 * else who needs it waits for it instead of decoding it a second time.  A
 * decoder never waits: a chunk someone else is decoding is simply skipped.
 *
 * Every byte handed out comes from a chunk that passed chunk_fetch()'s
 * checks, whether a reader or a decoder decoded it; a chunk that fails is
 * not cached, so the reader that needs it decodes it itself and reports it.
 *
 * A run of zeros in a chunk list (a hole of a sparse file) has no chunk:
 * reads of it are a memset, and read-ahead skips it.
 *
 * Lock order: pf_lock, then cache_lock (a leaf).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <enrp/codec.h>
#include <enrp/enrp.h>
#include <enrp/snapshot.h>
#include <enrp/reader.h>

#include "base_int.h"
#include "chunk_int.h"
#include "eir_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "path_int.h"
#include "reader_int.h"
#include "snapshot_int.h"
#include "record_int.h"
#include "store_int.h"

#define CACHE_BUCKETS 4096
#define LOADING_MAX 64
#define PF_SLOTS 64
/* Chunks decoded ahead of a sequential reader: ~4 MiB at the 256 KiB
 * average chunk, enough to keep every decoder and the disk busy while the
 * client consumes what it got, and a sixteenth of the default cache. */
#define PF_AHEAD 16
#define MAX_DECODERS 32

struct cache_ent {
	uint32_t eir_id;
	uint8_t digest[32];
	uint8_t *data;
	size_t len;
	struct cache_ent *prev, *next; /* LRU, most recent first */
	struct cache_ent *hnext;       /* hash chain */
};

/* A chunk being decoded: others wait for it instead of decoding it again. */
struct loading {
	uint32_t eir_id;
	uint8_t digest[32];
};

/* A chunk to decode into the cache ahead of a sequential reader. */
struct prefetch {
	uint32_t eir_id;
	const struct enrp_eir_key *key; /* borrowed from the vault */
	uint8_t digest[32];
	uint32_t plain_len;
};

struct chunk_cache {
	enrp_store *st;
	enrp_vault *vault;
	struct enrp_actor actor;
	pthread_key_t codec_key;      /* per-thread enrp_codec */

	pthread_mutex_t cache_lock;
	pthread_cond_t cache_cond;    /* protected by cache_lock: a load ended */
	struct loading loading[LOADING_MAX]; /* protected by cache_lock */
	unsigned nloading;            /* protected by cache_lock */
	struct cache_ent *lru_head, *lru_tail; /* protected by cache_lock */
	struct cache_ent *hash[CACHE_BUCKETS]; /* protected by cache_lock */
	size_t bytes, max;            /* protected by cache_lock */

	/* Read-ahead: a bounded ring; a full ring drops requests (they are
	 * hints: a reader decodes for itself when the chunk is not there). */
	pthread_mutex_t pf_lock;
	pthread_cond_t pf_cond;       /* protected by pf_lock */
	struct prefetch pf[PF_SLOTS]; /* protected by pf_lock */
	unsigned pf_head, pf_count;   /* protected by pf_lock */
	bool pf_stop;                 /* protected by pf_lock */
	pthread_t decoders[MAX_DECODERS];
	unsigned ndecoders;
};

static void codec_destroy(void *p)
{
	enrp_codec_free(p);
}

static enrp_codec *thread_codec(struct chunk_cache *cc)
{
	enrp_codec *c = pthread_getspecific(cc->codec_key);
	if (!c && enrp_codec_new(3, &c) == 0)
		pthread_setspecific(cc->codec_key, c);
	return c;
}

/* ---- the cache (LRU, bounded) ---- */

static bool same(const struct cache_ent *e, uint32_t eir_id, const uint8_t digest[32])
{
	return e->eir_id == eir_id && memcmp(e->digest, digest, 32) == 0;
}

static size_t bucket(uint32_t eir_id, const uint8_t digest[32])
{
	return ((size_t)digest[0] << 8 | digest[1] | (size_t)eir_id << 4) % CACHE_BUCKETS;
}

/* Caller holds cache_lock. */
static struct cache_ent *find(struct chunk_cache *cc, uint32_t eir_id, const uint8_t digest[32])
{
	struct cache_ent *e = cc->hash[bucket(eir_id, digest)];
	while (e && !same(e, eir_id, digest))
		e = e->hnext;
	return e;
}

static void lru_unlink(struct chunk_cache *cc, struct cache_ent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		cc->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		cc->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct chunk_cache *cc, struct cache_ent *e)
{
	e->prev = NULL;
	e->next = cc->lru_head;
	if (cc->lru_head)
		cc->lru_head->prev = e;
	cc->lru_head = e;
	if (!cc->lru_tail)
		cc->lru_tail = e;
}

static void evict(struct chunk_cache *cc, struct cache_ent *e)
{
	lru_unlink(cc, e);
	struct cache_ent **pp = &cc->hash[bucket(e->eir_id, e->digest)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	cc->bytes -= e->len;
	free(e->data);
	free(e);
}

/* Copies bytes [OFF, OFF+N) of a cached chunk into DST: true on a hit. */
static bool cache_copy(struct chunk_cache *cc, uint32_t eir_id, const uint8_t digest[32],
                       void *dst, size_t off, size_t n)
{
	bool hit = false;
	pthread_mutex_lock(&cc->cache_lock);
	struct cache_ent *e = find(cc, eir_id, digest);
	if (e && off + n <= e->len) {
		memcpy(dst, e->data + off, n);
		lru_unlink(cc, e);
		lru_push(cc, e);
		hit = true;
	}
	pthread_mutex_unlock(&cc->cache_lock);
	return hit;
}

/* Takes ownership of DATA. */
static void cache_put(struct chunk_cache *cc, uint32_t eir_id, const uint8_t digest[32],
                      uint8_t *data, size_t len)
{
	struct cache_ent *e = calloc(1, sizeof(*e));
	if (!e || len > cc->max) {
		free(e);
		free(data);
		return;
	}
	e->eir_id = eir_id;
	memcpy(e->digest, digest, 32);
	e->data = data;
	e->len = len;
	pthread_mutex_lock(&cc->cache_lock);
	struct cache_ent *dup = find(cc, eir_id, digest);
	if (dup)
		evict(cc, dup);
	while (cc->bytes + len > cc->max && cc->lru_tail)
		evict(cc, cc->lru_tail);
	size_t b = bucket(eir_id, digest);
	e->hnext = cc->hash[b];
	cc->hash[b] = e;
	lru_push(cc, e);
	cc->bytes += len;
	pthread_mutex_unlock(&cc->cache_lock);
}

/* Takes a cached chunk out of the cache, its bytes now the caller's (who
 * puts them back with cache_put): false on a miss. */
static bool cache_take(struct chunk_cache *cc, uint32_t eir_id, const uint8_t digest[32],
                       uint8_t **data, size_t *len)
{
	pthread_mutex_lock(&cc->cache_lock);
	struct cache_ent *e = find(cc, eir_id, digest);
	if (e) {
		*data = e->data;
		*len = e->len;
		e->data = NULL; /* evict frees the entry, not the bytes */
		evict(cc, e);
	}
	pthread_mutex_unlock(&cc->cache_lock);
	return e != NULL;
}

int chunk_cache_load(struct chunk_cache *cc, uint32_t eir_id, const struct enrp_eir_key *key,
                     const uint8_t digest[32], uint32_t plain_len, uint8_t **out)
{
	enrp_codec *codec = thread_codec(cc);
	uint8_t *plain = malloc(plain_len ? plain_len : 1);
	if (!codec || !plain) {
		free(plain);
		return -ENOMEM;
	}
	int rc = chunk_fetch(cc->st, codec, eir_id, key, digest, plain_len, plain, false);
	if (rc) {
		free(plain);
		return rc;
	}
	*out = plain;
	return 0;
}

/* ---- single flight ---- */

enum claim { CLAIM_CACHED, CLAIM_MINE, CLAIM_BUSY, CLAIM_UNTRACKED };

/* Caller holds cache_lock. */
static int loading_index(struct chunk_cache *cc, uint32_t eir_id, const uint8_t digest[32])
{
	for (unsigned i = 0; i < cc->nloading; i++)
		if (cc->loading[i].eir_id == eir_id && memcmp(cc->loading[i].digest, digest, 32) == 0)
			return (int)i;
	return -1;
}

/* CLAIM_CACHED when the chunk is in the cache; CLAIM_MINE when the caller
 * is to decode it and call load_end(); CLAIM_UNTRACKED when the table is
 * full (decode, no load_end()).  A decode under way by someone else: with
 * WAIT, wait for it and look again; without, CLAIM_BUSY. */
static enum claim load_claim(struct chunk_cache *cc, uint32_t eir_id, const uint8_t digest[32],
                             bool wait)
{
	enum claim rc;
	pthread_mutex_lock(&cc->cache_lock);
	for (;;) {
		if (find(cc, eir_id, digest)) {
			rc = CLAIM_CACHED;
			break;
		}
		if (loading_index(cc, eir_id, digest) < 0) {
			if (cc->nloading == LOADING_MAX) {
				rc = CLAIM_UNTRACKED;
				break;
			}
			cc->loading[cc->nloading].eir_id = eir_id;
			memcpy(cc->loading[cc->nloading++].digest, digest, 32);
			rc = CLAIM_MINE;
			break;
		}
		if (!wait) {
			rc = CLAIM_BUSY;
			break;
		}
		pthread_cond_wait(&cc->cache_cond, &cc->cache_lock);
	}
	pthread_mutex_unlock(&cc->cache_lock);
	return rc;
}

static void load_end(struct chunk_cache *cc, uint32_t eir_id, const uint8_t digest[32])
{
	pthread_mutex_lock(&cc->cache_lock);
	int i = loading_index(cc, eir_id, digest);
	if (i >= 0)
		cc->loading[i] = cc->loading[--cc->nloading];
	pthread_cond_broadcast(&cc->cache_cond);
	pthread_mutex_unlock(&cc->cache_lock);
}

/* ---- decoders ---- */

static void prefetch_request(struct chunk_cache *cc, const struct prefetch *p)
{
	if (!cc->ndecoders)
		return;
	pthread_mutex_lock(&cc->pf_lock);
	for (unsigned i = 0; i < cc->pf_count; i++) {
		const struct prefetch *q = &cc->pf[(cc->pf_head + i) % PF_SLOTS];
		if (q->eir_id == p->eir_id && memcmp(q->digest, p->digest, 32) == 0) {
			pthread_mutex_unlock(&cc->pf_lock);
			return;
		}
	}
	if (cc->pf_count < PF_SLOTS) {
		cc->pf[(cc->pf_head + cc->pf_count++) % PF_SLOTS] = *p;
		pthread_cond_signal(&cc->pf_cond);
	}
	pthread_mutex_unlock(&cc->pf_lock);
}

static void *decoder_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-decode");
	struct chunk_cache *cc = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&cc->pf_lock);
	while (!cc->pf_stop) {
		if (!cc->pf_count) {
			pthread_cond_wait(&cc->pf_cond, &cc->pf_lock);
			continue;
		}
		struct prefetch p = cc->pf[cc->pf_head];
		cc->pf_head = (cc->pf_head + 1) % PF_SLOTS;
		cc->pf_count--;
		pthread_mutex_unlock(&cc->pf_lock);
		if (load_claim(cc, p.eir_id, p.digest, false) == CLAIM_MINE) {
			uint8_t *plain;
			if (chunk_cache_load(cc, p.eir_id, p.key, p.digest, p.plain_len, &plain) == 0)
				cache_put(cc, p.eir_id, p.digest, plain, p.plain_len);
			load_end(cc, p.eir_id, p.digest);
		}
		pthread_mutex_lock(&cc->pf_lock);
	}
	pthread_mutex_unlock(&cc->pf_lock);
	codec_destroy(pthread_getspecific(cc->codec_key));
	pthread_setspecific(cc->codec_key, NULL);
	return NULL;
}

int chunk_cache_open(enrp_store *st, enrp_vault *vault, size_t cache_bytes, unsigned decoders,
                     const struct enrp_actor *actor, struct chunk_cache **out)
{
	struct chunk_cache *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return -ENOMEM;
	int rc = -pthread_key_create(&cc->codec_key, codec_destroy);
	if (rc) {
		free(cc);
		return rc;
	}
	cc->st = st;
	cc->vault = vault;
	cc->actor = *actor;
	cc->max = cache_bytes;
	pthread_mutex_init(&cc->cache_lock, NULL);
	pthread_cond_init(&cc->cache_cond, NULL);
	pthread_mutex_init(&cc->pf_lock, NULL);
	pthread_cond_init(&cc->pf_cond, NULL);
	if (decoders > MAX_DECODERS)
		decoders = MAX_DECODERS;
	for (unsigned i = 0; i < decoders; i++) {
		if ((rc = -pthread_create(&cc->decoders[i], NULL, decoder_main, cc))) {
			chunk_cache_close(cc);
			return rc;
		}
		cc->ndecoders++;
	}
	*out = cc;
	return 0;
}

void chunk_cache_close(struct chunk_cache *cc)
{
	if (!cc)
		return;
	pthread_mutex_lock(&cc->pf_lock);
	cc->pf_stop = true;
	pthread_cond_broadcast(&cc->pf_cond);
	pthread_mutex_unlock(&cc->pf_lock);
	for (unsigned i = 0; i < cc->ndecoders; i++)
		pthread_join(cc->decoders[i], NULL);
	while (cc->lru_head)
		evict(cc, cc->lru_head);
	/* This thread's codec, if any; the decoders' went with them. */
	codec_destroy(pthread_getspecific(cc->codec_key));
	pthread_setspecific(cc->codec_key, NULL);
	pthread_key_delete(cc->codec_key);
	pthread_mutex_destroy(&cc->pf_lock);
	pthread_cond_destroy(&cc->pf_cond);
	pthread_mutex_destroy(&cc->cache_lock);
	pthread_cond_destroy(&cc->cache_cond);
	free(cc);
}

/* ---- damage ---- */

struct corrupt_args {
	uint64_t ino;
	const uint8_t *digest;
	int err;
	const struct enrp_actor *actor;
};

static int corrupt_fn(enrp_txn *t, void *arg)
{
	struct corrupt_args *a = arg;
	struct inode_rec r;
	struct enrp_eir e;
	char hex[65], details[ENRP_JOURNAL_DETAILS_MAX + 1];
	int rc = ns_inode_get(t, a->ino, &r);
	if (rc == 0)
		rc = eir_get_txn(t, r.eir_id, &e);
	if (rc)
		return rc;
	bool first = !(r.flags & INODE_CORRUPT);
	r.flags |= INODE_CORRUPT;
	if ((rc = ns_inode_put(t, a->ino, &r)) || !first)
		return rc;
	enrp_hex(a->digest, 32, hex);
	snprintf(details, sizeof(details), "ino=%llu chunk=%s error=%s", (unsigned long long)a->ino,
	         hex, a->err == -ENOENT ? "missing" : a->err == -EBADMSG ? "checksum" : "unreadable");
	path_details_add(t, a->ino, details, sizeof(details), PATH_SCAN_MAX);
	return journal_append_txn(t, a->actor, e.name, "chunk-damaged", details);
}

/* enrp_reader_verify_failures: one process, one store, so one counter. */
static _Atomic uint64_t verify_failures;

uint64_t enrp_reader_verify_failures(void)
{
	return atomic_load(&verify_failures);
}

void chunk_cache_mark_corrupt(struct chunk_cache *cc, uint64_t ino, const uint8_t digest[32],
                              int err)
{
	atomic_fetch_add(&verify_failures, 1);
	struct corrupt_args c = { ino, digest, err, &cc->actor };
	enrp_store_write(cc->st, corrupt_fn, &c);
	enrp_log(ENRP_LOG_ERR, "inode %llu: chunk failed its check (%s)", (unsigned long long)ino,
	         enrp_strerror(err));
}

/* ---- readers ---- */

struct enrp_reader {
	struct chunk_cache *cc;
	uint64_t ino;
	uint32_t eir_id;
	const struct enrp_eir_key *key;
	struct extent_ent *v;
	uint64_t *offs;   /* offset of each chunk, plus the size at [n] */
	size_t n;
	/* Where a sequential reader reads next, and the chunks already handed
	 * to the decoders (the kernel sends read-ahead on several threads). */
	_Atomic uint64_t next_off;
	_Atomic size_t requested;
	const struct enrp_snapshot *snapshot; /* the file as a snapshot shows it */
	/* A spool file rewriting a sealed one: V is its base, SPOOL_FD (the
	 * caller's) its spool file; see core/base_int.h. */
	bool based;
	int spool_fd;
	/* Once such a file is sealed again: a reader of its new chunks, made
	 * at the first read that finds it sealed, kept until close. */
	pthread_mutex_t sealed_lock;
	struct enrp_reader *sealed;
};

static int reader_fn(enrp_txn *t, void *arg)
{
	struct enrp_reader *r = arg;
	if (r->snapshot)
		return snap_file_extents(t, r->snapshot, r->ino, &r->eir_id, &r->v, &r->n);
	struct inode_rec rec;
	int rc = ns_inode_get(t, r->ino, &rec);
	if (rc)
		return rc;
	if (r->based) {
		bool based;
		uint64_t limit;
		rc = rec.content == ENRP_CONTENT_SPOOL ? base_get_txn(t, r->ino, &based, &limit) : 0;
		if (rc == 0 && rec.content != ENRP_CONTENT_SPOOL)
			rc = -ESTALE;
		else if (rc == 0 && !based)
			rc = -EINVAL;
	} else if (rec.content != ENRP_CONTENT_SEALED) {
		return -EINVAL;
	}
	if (rc)
		return rc;
	r->eir_id = rec.eir_id;
	return extent_get(t, r->ino, &r->v, &r->n);
}

int enrp_reader_open(enrp_ingest *ing, uint64_t ino, enrp_reader **out)
{
	return enrp_reader_open_snapshot(ing, NULL, ino, out);
}

static int reader_new(enrp_ingest *ing, const struct enrp_snapshot *s, uint64_t ino, int spool_fd,
                      enrp_reader **out);

int enrp_reader_open_snapshot(enrp_ingest *ing, const struct enrp_snapshot *s, uint64_t ino,
                              enrp_reader **out)
{
	return reader_new(ing, s, ino, -1, out);
}

int enrp_reader_open_based(enrp_ingest *ing, uint64_t ino, int spool_fd, enrp_reader **out)
{
	return reader_new(ing, NULL, ino, spool_fd, out);
}

static int reader_new(enrp_ingest *ing, const struct enrp_snapshot *s, uint64_t ino, int spool_fd,
                      enrp_reader **out)
{
	enrp_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cc = ingest_chunk_cache(ing);
	r->ino = ino;
	r->snapshot = s;
	r->based = spool_fd >= 0;
	r->spool_fd = spool_fd;
	pthread_mutex_init(&r->sealed_lock, NULL);
	int rc = enrp_store_read(r->cc->st, reader_fn, r);
	if (rc == 0)
		rc = enrp_vault_eir_key(r->cc->vault, r->eir_id, &r->key);
	if (rc == 0) {
		r->offs = malloc((r->n + 1) * sizeof(*r->offs));
		if (!r->offs)
			rc = -ENOMEM;
	}
	if (rc) {
		enrp_reader_close(r);
		return rc;
	}
	uint64_t off = 0;
	for (size_t i = 0; i < r->n; i++) {
		r->offs[i] = off;
		off += extent_len(&r->v[i]);
	}
	r->offs[r->n] = off;
	*out = r;
	return 0;
}

void enrp_reader_close(enrp_reader *r)
{
	if (!r)
		return;
	enrp_reader_close(r->sealed);
	pthread_mutex_destroy(&r->sealed_lock);
	free(r->v);
	free(r->offs);
	free(r);
}

/* What a failed decode of DIGEST for R (RC) is said to be: a damaged chunk
 * (missing, unreadable or failing its check) is marked, or logged for a
 * snapshot, and is -EIO. */
static int chunk_failed(enrp_reader *r, const uint8_t digest[32], int rc)
{
	if (rc == -EBADMSG || rc == -ENOENT || rc == -EIO) {
		/* A snapshot's file is not the live inode of that number: the
		 * damage is logged, and scrub finds what it touches. */
		if (!r->snapshot)
			chunk_cache_mark_corrupt(r->cc, r->ino, digest, rc);
		else
			enrp_log(ENRP_LOG_ERR, "snapshot %s@%s, inode %llu: a chunk failed its check (%s)",
			         r->snapshot->eir, r->snapshot->name, (unsigned long long)r->ino,
			         enrp_strerror(rc));
		rc = -EIO;
	}
	return rc;
}

/* Copies [IN, IN+TAKE) of chunk I into DST, decoding it if no one has. */
static int read_chunk(enrp_reader *r, size_t i, uint8_t *dst, size_t in, size_t take)
{
	struct chunk_cache *cc = r->cc;
	const uint8_t *digest = r->v[i].digest;
	if (cache_copy(cc, r->eir_id, digest, dst, in, take))
		return 0;
	/* Being decoded by a decoder or by a read-ahead request on another
	 * thread: wait for it rather than decode it twice. */
	enum claim claim = load_claim(cc, r->eir_id, digest, true);
	if (claim == CLAIM_CACHED && cache_copy(cc, r->eir_id, digest, dst, in, take))
		return 0;
	uint8_t *plain;
	int rc = chunk_cache_load(cc, r->eir_id, r->key, digest, r->v[i].plain_len, &plain);
	if (rc == 0) {
		memcpy(dst, plain + in, take);
		cache_put(cc, r->eir_id, digest, plain, r->v[i].plain_len);
	}
	if (claim == CLAIM_MINE)
		load_end(cc, r->eir_id, digest);
	return chunk_failed(r, digest, rc);
}

/* Hands the decoders the chunks after FIRST up to PF_AHEAD past LAST, each
 * once: those this request needs too, so they decode in parallel with the
 * one this thread decodes.  Races between threads only repeat requests,
 * which the ring and the single flight absorb. */
static void read_ahead(enrp_reader *r, size_t first, size_t last)
{
	size_t upto = last + PF_AHEAD < r->n - 1 ? last + PF_AHEAD : r->n - 1;
	size_t from = atomic_exchange(&r->requested, upto);
	if (from < first || from > upto) /* a new reader, or it went back */
		from = first;
	for (size_t k = from + 1; k <= upto; k++) {
		if (!r->v[k].plain_len)
			continue; /* a run of zeros: nothing to decode */
		struct prefetch p = { r->eir_id, r->key, { 0 }, r->v[k].plain_len };
		memcpy(p.digest, r->v[k].digest, 32);
		prefetch_request(r->cc, &p);
	}
}

/* A read of [OFF, OFF+SIZE), starting in chunk LO: if it is sequential
 * (within 4 MiB of where the last read ended: the kernel's read-ahead
 * arrives on several threads, out of order), the decoders start on what
 * comes next before what is asked now is decoded. */
static void read_ahead_if_sequential(enrp_reader *r, size_t lo, uint64_t off, size_t size)
{
	uint64_t expect = r->next_off;
	if (lo >= r->n || off + (4u << 20) < expect || off > expect + (4u << 20))
		return;
	size_t last = lo;
	while (last + 1 < r->n && r->offs[last + 1] < off + size)
		last++;
	read_ahead(r, lo, last);
}

/* ---- spool files rewriting a sealed file (a base) ---- */

/* The chunk holding OFF: the last whose start is <= OFF (n when past the
 * end of the list). */
static size_t chunk_at(const enrp_reader *r, uint64_t off)
{
	if (off >= r->offs[r->n])
		return r->n;
	size_t lo = 0, hi = r->n;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (r->offs[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* What a base's spool file holds of [OFF, OFF+LEN) now, read in one
 * transaction: whether the file still rewrites this base (SEALED: it was
 * sealed again since), its limit, and which chunks [FIRST, LAST] of the
 * span are in the spool file (MARKED, LAST - FIRST + 1 entries). */
struct base_view {
	enrp_reader *r;
	uint64_t off, len;
	size_t first, last;
	bool *marked;
	bool based, sealed;
	uint64_t limit;
};

static int base_view_fn(enrp_txn *t, void *arg)
{
	struct base_view *b = arg;
	struct inode_rec rec;
	int rc = ns_inode_get(t, b->r->ino, &rec);
	if (rc)
		return rc;
	b->sealed = rec.content == ENRP_CONTENT_SEALED;
	b->based = false;
	if (rec.content != ENRP_CONTENT_SPOOL)
		return 0;
	if ((rc = base_get_txn(t, b->r->ino, &b->based, &b->limit)) || !b->based)
		return rc;
	for (size_t i = b->first; rc == 0 && i <= b->last && i < b->r->n; i++)
		rc = base_marked_txn(t, b->r->ino, (uint32_t)i, &b->marked[i - b->first]);
	return rc;
}

static int base_view_load(enrp_reader *r, uint64_t off, uint64_t len, struct base_view *b)
{
	memset(b, 0, sizeof(*b));
	b->r = r;
	b->off = off;
	b->len = len;
	b->first = chunk_at(r, off);
	b->last = len ? chunk_at(r, off + len - 1) : b->first;
	if (b->last == r->n && r->n)
		b->last = r->n - 1;
	size_t cnt = b->first < r->n ? b->last - b->first + 1 : 0;
	b->marked = calloc(cnt ? cnt : 1, sizeof(*b->marked));
	if (!b->marked)
		return -ENOMEM;
	if (cnt == 0)
		b->first = b->last = r->n; /* nothing of the base in the span */
	int rc = enrp_store_read(r->cc->st, base_view_fn, b);
	if (rc)
		free(b->marked);
	return rc;
}

/* [*LO, *HI): the part of chunk I below the limit, within [OFF, END). */
static bool base_part(const enrp_reader *r, const struct base_view *b, size_t i, uint64_t off,
                      uint64_t end, uint64_t *lo, uint64_t *hi)
{
	uint64_t cs = r->offs[i], ce = r->offs[i + 1];
	if (ce > b->limit)
		ce = b->limit;
	*lo = cs > off ? cs : off;
	*hi = ce < end ? ce : end;
	return *lo < *hi;
}

/* The file sealed again since this reader was opened: reads go to its new
 * chunk list. */
static int sealed_reader(enrp_reader *r, enrp_reader **out)
{
	pthread_mutex_lock(&r->sealed_lock);
	int rc = 0;
	if (!r->sealed) {
		enrp_reader *n = calloc(1, sizeof(*n));
		if (!n) {
			rc = -ENOMEM;
		} else {
			n->cc = r->cc;
			n->ino = r->ino;
			n->spool_fd = -1;
			pthread_mutex_init(&n->sealed_lock, NULL);
			rc = enrp_store_read(r->cc->st, reader_fn, n);
			if (rc == 0)
				rc = enrp_vault_eir_key(r->cc->vault, n->eir_id, &n->key);
			if (rc == 0 && !(n->offs = malloc((n->n + 1) * sizeof(*n->offs))))
				rc = -ENOMEM;
			if (rc == 0) {
				uint64_t o = 0;
				for (size_t i = 0; i < n->n; i++) {
					n->offs[i] = o;
					o += extent_len(&n->v[i]);
				}
				n->offs[n->n] = o;
				r->sealed = n;
			} else {
				enrp_reader_close(n);
			}
		}
	}
	*out = r->sealed;
	pthread_mutex_unlock(&r->sealed_lock);
	return rc;
}

static ssize_t pread_all(int fd, uint8_t *buf, size_t size, uint64_t off)
{
	size_t done = 0;
	while (done < size) {
		ssize_t got = pread(fd, buf + done, size - done, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

static int read_chunk(enrp_reader *r, size_t i, uint8_t *dst, size_t in, size_t take);

/* [FROM, TO) of a based file from its spool file into BUF (which holds the
 * read from OFF); what a truncation racing us took reads as zeros. */
static int spool_span(enrp_reader *r, uint8_t *buf, uint64_t off, uint64_t from, uint64_t to)
{
	if (from >= to)
		return 0;
	ssize_t got = pread_all(r->spool_fd, buf + (from - off), (size_t)(to - from), from);
	if (got < 0)
		return (int)got;
	memset(buf + (from - off) + got, 0, (size_t)(to - from - (uint64_t)got));
	return 0;
}

/* A read of a based file: the spool file's bytes, with the base's put in
 * where the spool file does not hold them yet.  The marks are read before
 * the spool file: a chunk copied in meanwhile is read from the base, which
 * holds the same bytes. */
static ssize_t based_read(enrp_reader *r, uint8_t *buf, size_t size, uint64_t off)
{
	struct base_view b;
	int rc = base_view_load(r, off, size, &b);
	if (rc)
		return rc;
	if (b.sealed) {
		free(b.marked);
		enrp_reader *n;
		rc = sealed_reader(r, &n);
		return rc ? rc : enrp_reader_read(n, buf, size, off);
	}
	/* The spool file is as long as the file; only what the base does not
	 * hold is read from it (its holes cost the kernel a page of zeros
	 * each: most of a reseal's time before). */
	struct stat sb;
	if (fstat(r->spool_fd, &sb) < 0) {
		free(b.marked);
		return -errno;
	}
	uint64_t flen = (uint64_t)sb.st_size;
	uint64_t end = off >= flen ? off : off + (size < flen - off ? size : flen - off);
	uint64_t pos = off; /* [off, pos) is in buf */
	/* A reseal reads a base from end to end, in spans of megabytes (and
	 * starts where its saved state is, not where the reader last was). */
	if (b.based && b.first < r->n && size >= (1u << 20))
		read_ahead(r, b.first, b.last);
	else if (b.based)
		read_ahead_if_sequential(r, b.first, off, size);
	for (size_t i = b.first; rc == 0 && b.based && i < r->n && i <= b.last; i++) {
		uint64_t lo, hi;
		if (b.marked[i - b.first] || !r->v[i].plain_len || !base_part(r, &b, i, off, end, &lo, &hi))
			continue; /* in the spool file: written, copied, or zeros */
		if ((rc = spool_span(r, buf, off, pos, lo)) == 0)
			rc = read_chunk(r, i, buf + (lo - off), (size_t)(lo - r->offs[i]), (size_t)(hi - lo));
		pos = hi;
	}
	if (rc == 0)
		rc = spool_span(r, buf, off, pos, end);
	free(b.marked);
	if (rc)
		return rc;
	r->next_off = end;
	return (ssize_t)(end - off);
}

struct shape_args {
	enrp_reader *r;
	struct base_shape *s;
};

static int shape_fn(enrp_txn *t, void *arg)
{
	struct shape_args *a = arg;
	const enrp_reader *r = a->r;
	struct base_shape *s = a->s;
	struct inode_rec rec;
	bool based, marked;
	uint32_t first, last;
	uint64_t limit, end = r->offs[r->n];
	int rc = ns_inode_get(t, r->ino, &rec);
	if (rc)
		return rc;
	if (rec.content != ENRP_CONTENT_SPOOL)
		return -ESTALE;
	if ((rc = base_get_txn(t, r->ino, &based, &limit)))
		return rc;
	if (!based)
		return -ESTALE;
	if ((rc = base_marks_txn(t, r->ino, &marked, &first, &last)))
		return rc;
	s->unchanged = limit < end ? limit : end;
	if (marked && first < r->n && r->offs[first] < s->unchanged)
		s->unchanged = r->offs[first];
	s->tail = 0;
	if (limit >= end && marked && last < r->n)
		s->tail = r->offs[last + 1];
	return 0;
}

int reader_base_list(enrp_reader *r, struct base_shape *out)
{
	if (!r->based)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->v = r->v;
	out->offs = r->offs;
	out->n = r->n;
	return 0;
}

int reader_base_chunk_hash(enrp_reader *r, const struct extent_ent *e, enrp_sha256 *sha)
{
	uintptr_t at = (uintptr_t)e, first = (uintptr_t)r->v;
	if (!r->based || at < first || at >= first + r->n * sizeof(*e) || !e->plain_len)
		return -EINVAL;
	size_t i = (size_t)(e - r->v);
	struct chunk_cache *cc = r->cc;
	const uint8_t *digest = e->digest;
	size_t len = e->plain_len, have = 0;
	uint8_t *plain = NULL;
	read_ahead(r, i, i);
	bool taken = cache_take(cc, r->eir_id, digest, &plain, &have);
	enum claim claim = CLAIM_CACHED;
	if (!taken) {
		/* Being decoded by a decoder (the read-ahead above, or an
		 * earlier one): wait for it rather than decode it twice. */
		claim = load_claim(cc, r->eir_id, digest, true);
		taken = claim == CLAIM_CACHED && cache_take(cc, r->eir_id, digest, &plain, &have);
	}
	if (taken && have != len) {
		cache_put(cc, r->eir_id, digest, plain, have); /* not this chunk's bytes: decode */
		taken = false;
	}
	int load_rc = taken ? 0 : chunk_cache_load(cc, r->eir_id, r->key, digest, e->plain_len,
	                                           &plain);
	int rc = load_rc;
	if (rc == 0) {
		rc = enrp_sha256_update(sha, plain, len);
		cache_put(cc, r->eir_id, digest, plain, len);
	}
	if (claim == CLAIM_MINE)
		load_end(cc, r->eir_id, digest);
	return load_rc ? chunk_failed(r, digest, load_rc) : rc;
}

int reader_base_shape(enrp_reader *r, struct base_shape *out)
{
	if (!r->based)
		return -EINVAL;
	struct shape_args a = { r, out };
	int rc = enrp_store_read(r->cc->st, shape_fn, &a);
	if (rc)
		return rc;
	out->v = r->v;
	out->offs = r->offs;
	out->n = r->n;
	return 0;
}

/* One lock per inode stripe: copies into a spool file and their marks are
 * made by one writer at a time, so a second never copies a chunk over
 * bytes the first wrote after copying it. */
#define PREP_STRIPES 64
static pthread_mutex_t prep_locks[PREP_STRIPES];
static pthread_once_t prep_once = PTHREAD_ONCE_INIT;

static void prep_locks_init(void)
{
	for (size_t i = 0; i < PREP_STRIPES; i++)
		pthread_mutex_init(&prep_locks[i], NULL);
}

struct mark_args {
	uint64_t ino;
	const size_t *idx;
	size_t n;
};

static int mark_fn(enrp_txn *t, void *arg)
{
	struct mark_args *a = arg;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < a->n; i++)
		rc = base_mark_txn(t, a->ino, (uint32_t)a->idx[i]);
	return rc;
}

static int write_all_at(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(fd, p + done, n - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	return 0;
}

int enrp_reader_prepare_write(enrp_reader *r, uint64_t off, uint64_t len)
{
	if (!r || !r->based || len == 0 || off >= r->offs[r->n])
		return 0;
	pthread_once(&prep_once, prep_locks_init);
	pthread_mutex_t *lock = &prep_locks[r->ino % PREP_STRIPES];
	pthread_mutex_lock(lock);
	struct base_view b;
	int rc = base_view_load(r, off, len, &b);
	size_t *idx = NULL, nidx = 0;
	if (rc == 0 && b.based && b.first < r->n) {
		idx = malloc((b.last - b.first + 1) * sizeof(*idx));
		if (!idx)
			rc = -ENOMEM;
	}
	uint8_t *plain = NULL;
	for (size_t i = b.first; rc == 0 && b.based && i < r->n && i <= b.last; i++) {
		uint64_t lo, hi;
		if (b.marked[i - b.first] || !base_part(r, &b, i, 0, UINT64_MAX, &lo, &hi))
			continue; /* copied already, or cut off the base */
		/* The whole chunk, even where the write covers it: should the
		 * write fail, the spool file still holds the file's bytes. */
		if (r->v[i].plain_len) {
			size_t n = (size_t)(hi - lo);
			uint8_t *p = realloc(plain, n);
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			plain = p;
			rc = read_chunk(r, i, plain, 0, n);
			if (rc == 0)
				rc = write_all_at(r->spool_fd, plain, n, lo);
		}
		if (rc == 0)
			idx[nidx++] = i;
	}
	free(plain);
	if (rc == 0 && nidx) {
		struct mark_args m = { r->ino, idx, nidx };
		rc = enrp_store_write(r->cc->st, mark_fn, &m);
	}
	if (b.marked)
		free(b.marked);
	free(idx);
	pthread_mutex_unlock(lock);
	return rc;
}

ssize_t enrp_reader_read(enrp_reader *r, void *buf, size_t size, uint64_t off)
{
	if (r->based)
		return based_read(r, buf, size, off);
	uint64_t end = r->offs[r->n];
	if (off >= end || size == 0)
		return 0;
	if (size > end - off)
		size = (size_t)(end - off);
	size_t lo = chunk_at(r, off);
	read_ahead_if_sequential(r, lo, off, size);
	size_t done = 0;
	for (size_t i = lo; done < size && i < r->n; i++) {
		uint64_t in = off + done - r->offs[i];
		uint64_t left = extent_len(&r->v[i]) - in;
		size_t take = left < size - done ? (size_t)left : size - done;
		if (!r->v[i].plain_len) {
			/* A run of zeros (a hole): nothing stored, nothing to check. */
			memset((uint8_t *)buf + done, 0, take);
		} else {
			int rc = read_chunk(r, i, (uint8_t *)buf + done, (size_t)in, take);
			if (rc)
				return rc;
		}
		done += take;
	}
	r->next_off = off + done;
	return (ssize_t)done;
}
