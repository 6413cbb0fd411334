/*
 * ingest.c — the seal pipeline: spool file -> SHA-256 + FastCDC chunks ->
 * zstd (+ AES-256-GCM) -> chunk files -> one commit.
 *
 * Queue.  DBI_QUEUE is keyed (EIR class, EIR, time queued, ino), so a
 * cursor yields class 1 first, then each EIR's files together, oldest
 * first.  It lives in LMDB, so a file queued before a crash is sealed after
 * it; at start every spool file nobody writes is queued as well (its last
 * close may have been in the metadata a crash lost).
 *
 * Sharing the workers.  A worker takes the highest class that has a file
 * ready, and within it the EIRs in turn (ing->rr: the EIR served last in
 * each class; the next pick starts after it), each EIR's oldest file
 * first.  One EIR's backlog of 20,000 files therefore delays another EIR's
 * file by one file, not 20,000.  A long seal is cut into slices of
 * SLICE_NS: at the end of each, at a chunk boundary, the worker re-reads the
 * inode (abandon, below) and asks whether a file of a higher class, or of
 * another EIR of the same class, is ready with no idle worker to take it;
 * if so it parks its seal — the chunks in flight finished, the SHA-256
 * context, the position and the chunk list so far kept in memory — and
 * picks again.  A parked seal is found again through its queue entry
 * (still there; jobs are listed in ing->jobs) and resumed where it stopped,
 * by any worker, re-reading from that chunk boundary; the result is the
 * chunk list a serial seal makes.  A slice always takes at least one step
 * (a chunk, or ZERO_STEP of a hole), so seals that park for each other
 * still advance; and a stopping pipeline parks every seal at the end of its
 * slice, so an unmount never waits for a long seal.  A file of another EIR
 * (or class) thus waits at most a slice and the drain of one window,
 * whatever the other seals' sizes, when there are fewer EIRs with work than
 * workers; with more, one slice per EIR ahead of it in the turn, divided by
 * the workers.  A parked seal holds no buffer: the SHA-256 state and its
 * chunk list only.
 * Within one EIR files go oldest first and a seal never yields to its own
 * EIR's later files; an EIR never has more seals started than there are
 * workers, because a worker always resumes its EIR's oldest unfinished one
 * before it starts another.
 *
 * Holes.  A run of zeros of at least HOLE_MIN bytes that the spool file does
 * not store (SEEK_DATA/SEEK_HOLE; also what lies past the spool file's end,
 * up to the recorded size) is never read, cut or compressed: it becomes one
 * run entry of the chunk list (record_int.h: 12 bytes whatever its length,
 * no chunk), and so does any chunk the cutter makes that is all zeros.
 * Smaller holes are read like data (4 KiB holes would otherwise cut a file
 * into 4 KiB chunks).  A run still goes into the file's SHA-256: the
 * checksum is the one of the whole file, and SHA-256 has no shortcut over
 * equal blocks, so its zeros are hashed from a read-only block in the cache
 * (enrp_sha256_update_zeros) at ~0.8 s per GiB of one core: a 1 TiB hole
 * costs ~15 CPU-minutes, linear in the file's size and bounded by its EIR's
 * quota.  That cost falls on the EIR that made the hole: the seal yields
 * every slice like any other, in steps of ZERO_STEP.  Memory does not grow
 * with it: one entry per hole.
 *
 * Abandon.  A file unlinked (nlink 0), rewritten or truncated (generation or
 * size changed) while it is sealed is noticed at the end of the slice (the
 * inode is re-read), and a writer that opens it marks its seal stale at
 * once (enrp_ingest_writer_open; checked at every chunk): the seal stops
 * within a slice, its chunks in flight finished, and commits nothing.  A
 * parked seal is dropped when a writer opens its file, and when its file
 * leaves the queue (reap_fn, whenever a seal parks or a worker goes idle),
 * so abandoned seals never pile up in memory.
 *
 * Never sealing stale data.  A file is sealed only when no handle that can
 * write it is open (ing->writers) — checked under ing->lock, which the
 * commit also holds, so a writer cannot slip in between check and commit —
 * and only if its generation (bumped by every change of its bytes) is the
 * one the worker started from.  Otherwise the worker commits nothing and the
 * file stays queued.
 *
 * Crash safety of a seal: chunks are written, then made durable (one syncfs
 * for a whole group of seals: txn_needs_chunks) before the commit of the
 * transaction that references them; the spool file is removed
 * only after that transaction is durable (txn_on_durable).  A crash at any
 * point leaves either the spool file with the file still queued, or the
 * sealed file; at worst unreferenced chunk files, which GC removes.  A
 * parked seal is memory only: a crash or a stop forgets it, and the file,
 * still queued, is sealed from the start next time.
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
 * chunk in flight is finished before the commit or a park, error or not, so
 * the crash-safety argument above is unchanged.  Smaller files are stored by
 * their worker alone: for one chunk, a handoff costs more than it can win.
 *
 * Unsealing (a sealed file opened for writing) copies the bytes back into a
 * spool file and fsyncs it before the commit that drops the chunk list, so a
 * crash never loses a verified file.  That commit moves the verified copy's
 * chunk list into trash (trash.c) rather than releasing it.
 *
 * Lock order: an unseal lock (ing->unseal_locks), ing->lock, then the
 * store's (a worker picks with ing->lock held around its read of the
 * queue).  ing->pool_lock is a leaf: taken with no other lock held, nothing
 * taken under it.  Reads of sealed files and the chunk cache are reader.c's.
 */
#define ENRP_INTERNAL 1 /* defines enrp_ingest_test_hooks, declared in ingest.h */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <enrp/cdc.h>
#include <enrp/codec.h>
#include <enrp/enrp.h>
#include <enrp/ingest.h>
#include <enrp/reader.h>
#include <enrp/journal.h>
#include <enrp/spool.h>

#include "base_int.h"
#include "chunk_int.h"
#include "clock_int.h"
#include "eir_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "path_int.h"
#include "reader_int.h"
#include "record_int.h"
#include "sealstate_int.h"
#include "spool_int.h"
#include "store_int.h"
#include "transfer_int.h"
#include "trash_int.h"

#define WRITER_BUCKETS 1024
#define DEFAULT_CACHE (64u << 20)
/* Files whose seal states are kept (sealstate_int.h): each holds at most a
 * few dozen, a few hundred bytes each. */
#define SEAL_STATES_FILES 1024
#define DEFAULT_DECODERS_MAX 8
#define READ_BLOCK (4u << 20)
#define WINDOW_PER_THREAD 2
/* A slice: long enough that parking (drain a window, re-read from a chunk
 * boundary) is noise, short enough that a small file of another EIR waits
 * well under a second. */
#define SLICE_NS (200 * 1000000LL)
/* Zeros hashed between two looks at the clock: ~50 ms at 1.2 GB/s. */
#define ZERO_STEP ((uint64_t)64 << 20)
/* A hole shorter than this is read as data (the largest chunk by default:
 * a run of zeros that long is one chunk anyway). */
#define HOLE_MIN ((uint64_t)2 << 20)
/* Queue entries of one EIR looked at per pick before trying the next EIR
 * (entries being sealed or written are skipped). */
#define PICK_PER_EIR 64
/* Locks that keep two unseals of one inode apart, by the inode's bucket. */
#define UNSEAL_STRIPES 64
/* Settling (settle_at_close): a file closed while other files of its EIR
 * are being written is sealed once nobody has written it for SETTLE_NS,
 * and at most SETTLE_MAX_NS after it first waited; at most SETTLING_MAX
 * files wait at once.  A file rewritten less than HOT_NS after each
 * settled seal waits twice as long each time, up to SETTLE_NS <<
 * SETTLE_LEVEL_MAX: its quiet time follows its own rewrite interval rather
 * than one guess for every file. */
#define HOT_NS (5 * 1000000000LL)
#define SETTLE_NS (3 * 1000000000LL)
#define SETTLE_MAX_NS (30 * 1000000000LL)
#define SETTLE_LEVEL_MAX 3
#define SETTLING_MAX 8192
#define SWEEP_NS (100 * 1000000LL)
#define EIR_CLOSES_BUCKETS 64

/* The last two distinct files of one EIR whose last writer closed
 * (eir_close_noted): whether the EIR is busy. */
struct eir_closes {
	uint32_t eir_id;
	uint64_t closed_ino, other_ino;
	int64_t closed_at, other_closed_at;
	struct eir_closes *next;
};

struct writer {
	uint64_t ino;
	unsigned count;
	bool hot;            /* it was sealed less than HOT_NS before this rewrite */
	struct writer *next;
};

/* A rewritten file that waits to be left alone before it is sealed again
 * (settle_at_close). */
struct settling {
	uint64_t ino;
	int64_t not_before;  /* mono_ns: not sealed before this */
	int64_t since;       /* mono_ns: when it first waited */
	bool hot;            /* its wait is for a rewrite soon after its seal */
	unsigned level;      /* it waits SETTLE_NS << level (a hot one: doubles) */
	struct settling *next;
};

/* What a chunk is stored for: fixed while the file is being sealed, read by
 * the worker and the compressors alike. */
struct chunk_ctx {
	enrp_store *st;
	uint32_t eir_id;
	const struct enrp_eir_key *key;
	uint64_t ino;
};

struct seal_job;

struct enrp_ingest {
	enrp_store *st;
	enrp_vault *vault;
	struct enrp_cdc_params cdc;
	int zstd_level;
	struct enrp_actor actor;
	struct enrp_ingest_test test; /* test hooks (enrp_ingest_test_hooks) */

	pthread_mutex_t lock;
	pthread_cond_t work;          /* protected by lock: something was queued, or stop */
	pthread_cond_t idle;          /* protected by lock: a worker finished a file */
	bool stopping;                /* protected by lock */
	struct seal_job *jobs;        /* protected by lock: seals started, running or parked */
	unsigned running;             /* protected by lock: jobs a worker holds */
	unsigned idle_workers;        /* protected by lock: workers waiting for work */
	uint32_t rr[256];             /* protected by lock: per class, the EIR served last */
	struct writer *writers[WRITER_BUCKETS]; /* protected by lock */
	/* Protected by lock: files settling before their next seal, and per
	 * EIR the last two distinct files whose last writer closed, and when. */
	struct settling *settling[WRITER_BUCKETS];
	size_t nsettling;
	int64_t swept_at;
	struct eir_closes *closes[EIR_CLOSES_BUCKETS];
	/* Files whose queueing failed (a full disk refusing the commit): the
	 * idle workers queue them again, so a file closed on a full disk is
	 * sealed once there is room, not at the next mount.  Protected by lock. */
	struct ino_list unqueued;
	_Atomic uint64_t sealed_files, sealed_bytes; /* enrp_ingest_stats */

	pthread_mutex_t unseal_locks[UNSEAL_STRIPES]; /* one unseal of an inode at a time */
	struct seal_states *states;   /* of recent seals, for reseals to resume from */

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

/* Hooks for the next enrp_ingest_open (tests only). */
static struct enrp_ingest_test next_test;
static pthread_mutex_t next_test_lock = PTHREAD_MUTEX_INITIALIZER;

static void (*_Atomic chunks_written_hook)(void);

void enrp_ingest_test_chunks_written(void (*fn)(void))
{
	atomic_store(&chunks_written_hook, fn);
}

void enrp_ingest_test_hooks(const struct enrp_ingest_test *t)
{
	pthread_mutex_lock(&next_test_lock);
	if (t)
		next_test = *t;
	else
		memset(&next_test, 0, sizeof(next_test));
	pthread_mutex_unlock(&next_test_lock);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- seals in progress (protected by ing->lock) ---- */

/* One file being sealed: started by a worker, perhaps parked between
 * slices.  The fields after the lock-protected ones belong to the worker
 * that holds the job (running), or to nobody while it is parked. */
struct seal_job {
	uint64_t ino;
	uint8_t cls;               /* class and EIR of its queue entry */
	uint32_t eir;
	bool running;              /* protected by ing->lock: a worker holds it */
	bool started;              /* R, CTX and SHA are set */
	_Atomic bool stale;        /* a writer opened the file: abandon */
	struct seal_job *next;     /* protected by ing->lock */

	struct inode_rec r;        /* as read when the seal started */
	struct chunk_ctx ctx;      /* what its chunks are stored for */
	enrp_sha256 *sha;          /* SHA-256 of the file's bytes [0, pos) */
	uint64_t pos;              /* [0, pos) is hashed and in the chunk list */
	uint64_t run_end;          /* > pos: [pos, run_end) is a hole being hashed */
	struct extent_ent *v;      /* the chunk list being built */
	uint32_t *stored;          /* stored length of each chunk */
	size_t n, cap, nchunks;
	uint8_t sum[32];
	bool wrote;                /* a chunk file was written (synced before commit) */
	uint64_t chunk_ticket;     /* store_chunk_ticket once they were all written */
	const struct enrp_actor *actor;
	struct seal_trail trail;   /* SHA-256 states along [0, pos) (sealstate_int.h) */
	enrp_sha256 *last_cut;     /* the state at the start of the last chunk cut, */
	uint64_t last_cut_pos;     /* there */
	uint64_t same_until;       /* a rewrite's base is unchanged up to here, */
	uint64_t tail_from;        /* and from here to its end (0: no such tail) */
	bool resume_tried;         /* a rewrite looked for a state to resume from */
};

unsigned enrp_ingest_test_jobs(enrp_ingest *ing)
{
	unsigned n = 0;
	pthread_mutex_lock(&ing->lock);
	for (struct seal_job *j = ing->jobs; j; j = j->next)
		n++;
	pthread_mutex_unlock(&ing->lock);
	return n;
}

static struct seal_job *job_find(enrp_ingest *ing, uint64_t ino)
{
	struct seal_job *j = ing->jobs;
	while (j && j->ino != ino)
		j = j->next;
	return j;
}

static void job_unlink(enrp_ingest *ing, struct seal_job *j)
{
	struct seal_job **pp = &ing->jobs;
	while (*pp && *pp != j)
		pp = &(*pp)->next;
	if (*pp)
		*pp = j->next;
}

static void job_free(struct seal_job *j)
{
	if (!j)
		return;
	/* Its chunks were pinned when stored (store_chunk); committed or not,
	 * the list is done with them. */
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].plain_len)
			chunk_unpin(j->ctx.st, j->ctx.eir_id, j->v[i].digest);
	enrp_sha256_free(j->sha);
	enrp_sha256_free(j->last_cut);
	seal_trail_free(&j->trail);
	free(j->v);
	free(j->stored);
	free(j);
}

/* ---- settling (protected by ing->lock) ----
 *
 * A file that is rewritten again and again (a file server's, a database's
 * own files) would otherwise be sealed after every close, and unsealed at
 * the next write: each seal hashes, cuts, names, compresses and commits
 * bytes that are replaced within the second, and each costs the clients a
 * share of the CPUs and the disk.  A busy EIR's new files fare no better:
 * many are replaced, renamed over or removed within seconds (a build, a
 * mail spool, a test suite), and a seal of them is work thrown away.  So a
 * file closed while its EIR is busy (another file of the EIR had its last
 * close within SETTLE_NS and is not sealed yet: eir_busy) waits
 * until it has been left alone for SETTLE_NS, and no longer than
 * SETTLE_MAX_NS in all, before its seal; a transfer's files are verified
 * seconds after their close.  The EIR, not the store: one owner's load
 * never delays another's verification.  A file closed in a quiet EIR (a
 * dump written alone, a rewrite while nothing else of the EIR is written,
 * a file written once the one before it was verified) never waits. */

static int64_t settle_ns(const enrp_ingest *ing)
{
	return ing->test.settle_ns ? ing->test.settle_ns : SETTLE_NS;
}

static size_t settling_max(const enrp_ingest *ing)
{
	return ing->test.settling_max ? ing->test.settling_max : SETTLING_MAX;
}

/* The bucket of INO in the writers' and the settling tables. */
static size_t ino_bucket(uint64_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 54);
}

static struct settling **settling_slot(enrp_ingest *ing, uint64_t ino)
{
	struct settling **pp = &ing->settling[ino_bucket(ino)];
	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->next;
	return pp;
}

static void settling_drop(enrp_ingest *ing, uint64_t ino)
{
	struct settling **pp = settling_slot(ing, ino);
	struct settling *e = *pp;
	if (e) {
		*pp = e->next;
		free(e);
		ing->nsettling--;
	}
}

/* Drops what no longer matters: a wait that has ended, unless it was a
 * hot one (the next is longer), and whatever began SETTLE_MAX_NS ago.
 * Files removed while they settle are never sealed, so nothing else drops
 * theirs: a busy EIR's short-lived files would otherwise fill the table
 * within seconds, and every file after them would be sealed at once.  At
 * most every SWEEP_NS, since it reads every entry. */
static void settling_sweep(enrp_ingest *ing, int64_t now)
{
	if (ing->swept_at && now - ing->swept_at < SWEEP_NS)
		return;
	ing->swept_at = now;
	for (size_t b = 0; b < WRITER_BUCKETS; b++) {
		struct settling **pp = &ing->settling[b];
		while (*pp) {
			struct settling *e = *pp;
			if (now - e->since > SETTLE_MAX_NS || (!e->hot && e->not_before <= now)) {
				*pp = e->next;
				free(e);
				ing->nsettling--;
			} else {
				pp = &e->next;
			}
		}
	}
}

/* Whether INO waits to settle at NOW. */
static bool settling_now(enrp_ingest *ing, uint64_t ino, int64_t now)
{
	struct settling *e = *settling_slot(ing, ino);
	return e && e->not_before > now;
}

/* Records that INO of EIR_ID had its last close at NOW; true if another
 * file of that EIR had its own within SETTLE_NS, and which (*OTHER).  The
 * EIR is busy if that file is not sealed yet (eir_busy).  Without memory
 * for the record, the EIR counts as idle: its files are sealed at once, as
 * before settling existed. */
static bool eir_close_noted(enrp_ingest *ing, uint32_t eir_id, uint64_t ino, int64_t now,
                            uint64_t *other)
{
	struct eir_closes **pp = &ing->closes[eir_id % EIR_CLOSES_BUCKETS];
	while (*pp && (*pp)->eir_id != eir_id)
		pp = &(*pp)->next;
	struct eir_closes *c = *pp;
	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return false;
		c->eir_id = eir_id;
		*pp = c;
	}
	int64_t other_at = ino == c->closed_ino ? c->other_closed_at : c->closed_at;
	*other = ino == c->closed_ino ? c->other_ino : c->closed_ino;
	if (ino != c->closed_ino) {
		c->other_closed_at = c->closed_at;
		c->other_ino = c->closed_ino;
		c->closed_ino = ino;
	}
	c->closed_at = now;
	return other_at && now - other_at < settle_ns(ing);
}

/* Whether OTHER, closed just before, keeps its EIR busy: it is not sealed
 * yet (it settles, is queued, is being sealed or written again, or was
 * removed).  One whose predecessor is verified already is not: a script
 * that writes a file and waits for it before the next gets each verified
 * at once.  Called without ing->lock: a read waits for the store's lock,
 * which a commit holds for milliseconds. */
static bool eir_busy(enrp_ingest *ing, uint64_t other)
{
	struct enrp_stat s;
	return enrp_ns_getattr(ing->st, other, &s) || s.content != ENRP_CONTENT_SEALED;
}

/* INO's last writer closed at NOW, its EIR BUSY; HOT: it was rewritten
 * soon after its seal. */
static void settle_at_close(enrp_ingest *ing, uint64_t ino, bool busy, bool hot, int64_t now)
{
	struct settling **pp = settling_slot(ing, ino);
	struct settling *e = *pp;
	if (!busy) {
		if (e)
			settling_drop(ing, ino); /* alone now: sealed at once */
		return;
	}
	if (!e) {
		if (ing->nsettling >= settling_max(ing) / 2)
			settling_sweep(ing, now);
		if (ing->nsettling >= settling_max(ing) || !(e = calloc(1, sizeof(*e))))
			return; /* sealed at once, as before settling existed */
		e->ino = ino;
		e->since = now;
		e->hot = hot;
		*pp = e;
		ing->nsettling++;
	} else if (e->not_before <= now) {
		/* Its last wait ended (it was sealed) and it is written again:
		 * rewritten soon after a hot wait, it waits longer this time;
		 * rewritten late, it has cooled down and starts over. */
		if (!hot)
			e->level = 0;
		else if (e->hot && e->level < SETTLE_LEVEL_MAX)
			e->level++;
		e->hot = hot;
		e->since = now;
	} else {
		e->hot = e->hot || hot;
	}
	e->not_before = now + (settle_ns(ing) << e->level);
	if (e->not_before > e->since + SETTLE_MAX_NS)
		e->not_before = e->since + SETTLE_MAX_NS;
}

/* ---- writers (protected by ing->lock) ---- */

static struct writer **writer_slot(enrp_ingest *ing, uint64_t ino)
{
	struct writer **pp = &ing->writers[ino_bucket(ino)];
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
	/* Its seal would be refused at the commit: stop it now (a parked one
	 * is simply forgotten). */
	struct seal_job *j = job_find(ing, ino);
	if (j && j->running) {
		atomic_store(&j->stale, true);
	} else if (j) {
		job_unlink(ing, j);
		job_free(j);
	}
	pthread_mutex_unlock(&ing->lock);
}

static void writer_close(enrp_ingest *ing, uint64_t ino, bool known, uint32_t eir_id);

void enrp_ingest_writer_close(enrp_ingest *ing, uint64_t ino)
{
	/* The store is read with ing->lock released: every open, close and
	 * worker would otherwise wait behind a commit with this close. */
	struct enrp_stat s;
	bool known = enrp_ns_getattr(ing->st, ino, &s) == 0;
	writer_close(ing, ino, known, known ? s.eir_id : 0);
}

void enrp_ingest_writer_close_in(enrp_ingest *ing, uint64_t ino, uint32_t eir_id)
{
	writer_close(ing, ino, true, eir_id);
}

static void writer_close(enrp_ingest *ing, uint64_t ino, bool known, uint32_t eir_id)
{
	bool last = false, hot = false, recent = false;
	uint64_t other = 0;
	int64_t now = mono_ns();
	pthread_mutex_lock(&ing->lock);
	struct writer **pp = writer_slot(ing, ino);
	struct writer *w = *pp;
	if (w && --w->count == 0) {
		*pp = w->next;
		hot = w->hot;
		free(w);
		last = true;
		recent = known && eir_close_noted(ing, eir_id, ino, now, &other);
	}
	pthread_mutex_unlock(&ing->lock);
	if (!last)
		return;
	if (known) {
		bool busy = recent && eir_busy(ing, other);
		pthread_mutex_lock(&ing->lock);
		settle_at_close(ing, ino, busy, hot, now);
		pthread_mutex_unlock(&ing->lock);
	}
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
	key_queue(qk, e.eir_class, r.eir_id, enrp_now_ns(), ino);
	txn_put(t, DBI_QUEUE, qk, sizeof(qk), "", 0, 0);
	txn_put(t, DBI_SPOOL, k, 8, qk, sizeof(qk), 0);
	r.flags |= INODE_QUEUED;
	ns_inode_put(t, ino, &r);
	return t->ret;
}

/* Remembers INO for queueing later; ing->lock held.  Without memory for
 * it, the next mount queues it (requeue_all). */
static void unqueued_add(enrp_ingest *ing, uint64_t ino)
{
	for (size_t i = 0; i < ing->unqueued.n; i++)
		if (ing->unqueued.v[i] == ino)
			return;
	ino_list_push(&ing->unqueued, ino);
}

int enrp_ingest_enqueue(enrp_ingest *ing, uint64_t ino)
{
	int rc = enrp_store_write(ing->st, enqueue_fn, &ino);
	pthread_mutex_lock(&ing->lock);
	if (rc)
		unqueued_add(ing, ino);
	/* Only a file a worker could take now wakes one.  One still written
	 * (an fsync queues it) or settling is found by the workers' timed
	 * look (worker_main): woken by every close of a busy EIR's files,
	 * they scanned the queue thousands of times a second, holding the
	 * lock that every open and close takes. */
	if (rc || (!writers_of(ing, ino) && !settling_now(ing, ino, mono_ns())))
		pthread_cond_broadcast(&ing->work);
	pthread_mutex_unlock(&ing->lock);
	return rc;
}

/* Queues again what could not be queued; ing->lock held on entry and exit,
 * released while the store is written. */
static void unqueued_retry(enrp_ingest *ing)
{
	struct ino_list l = ing->unqueued;
	if (!l.n)
		return;
	ing->unqueued = (struct ino_list){ 0 };
	pthread_mutex_unlock(&ing->lock);
	size_t done = 0;
	for (; done < l.n; done++)
		if (enrp_store_write(ing->st, enqueue_fn, &l.v[done]))
			break; /* still no room: all of them later */
	pthread_mutex_lock(&ing->lock);
	for (size_t i = done; i < l.n; i++)
		unqueued_add(ing, l.v[i]);
	free(l.v);
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

/* ---- picking the next file: classes in order, EIRs in turn ---- */

struct pick_args {
	enrp_ingest *ing;
	uint8_t max_cls;          /* look no further than this class */
	uint64_t skip_ino;        /* not this file (the seal asking whether to yield) */
	uint8_t skip_cls;         /* nor any file of EIR SKIP_EIR in class SKIP_CLS */
	uint32_t skip_eir;
	bool skip_own;
	/* the answer */
	bool found;
	uint8_t cls;
	uint32_t eir;
	uint64_t ino;
};

/* A worker may take INO now: nobody seals it, nobody writes it.  Called
 * with ing->lock held. */
static bool runnable(const struct pick_args *a, uint64_t ino)
{
	if (ino == a->skip_ino || writers_of(a->ing, ino) || settling_now(a->ing, ino, mono_ns()))
		return false;
	struct seal_job *j = job_find(a->ing, ino);
	return !j || !j->running;
}

/* Positions CUR at the first queue entry at or after (CLS, EIR); false if
 * there is none or it is of another class. */
static bool seek_eir(MDB_cursor *cur, uint8_t cls, uint32_t eir, MDB_val *k, int *mrc)
{
	uint8_t key[5];
	key[0] = cls;
	be32_put(key + 1, eir);
	k->mv_size = sizeof(key);
	k->mv_data = key;
	MDB_val v;
	*mrc = mdb_cursor_get(cur, k, &v, MDB_SET_RANGE);
	return *mrc == 0 && k->mv_size == QUEUE_KEY_LEN && ((uint8_t *)k->mv_data)[0] == cls;
}

/* The first runnable file of class CLS whose EIR is in [FROM, TO], EIRs in
 * ascending order, each EIR's files oldest first. */
static int scan_eirs(MDB_cursor *cur, struct pick_args *a, uint8_t cls, uint32_t from,
                     uint32_t to)
{
	MDB_val k, v;
	int mrc;
	uint32_t eir = from;
	while (seek_eir(cur, cls, eir, &k, &mrc)) {
		eir = key_queue_eir(k.mv_data);
		if (eir > to)
			return 0;
		bool skip = a->skip_own && cls == a->skip_cls && eir == a->skip_eir;
		for (unsigned looked = 0; !skip && looked < PICK_PER_EIR; looked++) {
			const uint8_t *p = k.mv_data;
			if (k.mv_size != QUEUE_KEY_LEN || p[0] != cls || key_queue_eir(p) != eir)
				break;
			if (runnable(a, key_queue_ino(p))) {
				a->found = true;
				a->cls = cls;
				a->eir = eir;
				a->ino = key_queue_ino(p);
				return 0;
			}
			if ((mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)))
				break;
		}
		if (eir == UINT32_MAX)
			return 0;
		eir++;
	}
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : 0;
}

static int pick_fn(enrp_txn *t, void *arg)
{
	struct pick_args *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t first = 0;
	int rc = txn_cursor(t, DBI_QUEUE, &cur);
	if (rc)
		return rc;
	a->found = false;
	for (unsigned cls = 0; rc == 0 && !a->found && cls <= a->max_cls; cls++) {
		/* The next class that has entries at all. */
		k.mv_size = 1;
		k.mv_data = &first;
		first = (uint8_t)cls;
		int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (mrc == MDB_NOTFOUND)
			break;
		if (mrc) {
			rc = store_mdb_err(mrc);
			break;
		}
		if (k.mv_size < 1)
			break;
		cls = ((uint8_t *)k.mv_data)[0];
		if (cls > a->max_cls)
			break;
		/* The EIRs in turn: those after the one served last, then the
		 * others from the start. */
		uint32_t after = a->ing->rr[cls];
		if (after < UINT32_MAX)
			rc = scan_eirs(cur, a, (uint8_t)cls, after + 1, UINT32_MAX);
		if (rc == 0 && !a->found)
			rc = scan_eirs(cur, a, (uint8_t)cls, 0, after);
	}
	mdb_cursor_close(cur);
	return rc;
}

/* The next seal for a worker, marked running: a parked one resumed or a
 * new one started; NULL when no file is ready.  Called with ing->lock. */
static struct seal_job *pick_locked(enrp_ingest *ing)
{
	struct pick_args a = { .ing = ing, .max_cls = UINT8_MAX };
	if (enrp_store_read(ing->st, pick_fn, &a) || !a.found)
		return NULL;
	struct seal_job *j = job_find(ing, a.ino);
	if (!j) {
		j = calloc(1, sizeof(*j));
		if (!j)
			return NULL;
		j->ino = a.ino;
		j->cls = a.cls;
		j->eir = a.eir;
		j->actor = &ing->actor;
		j->next = ing->jobs;
		ing->jobs = j;
	}
	ing->rr[a.cls] = a.eir;
	j->running = true;
	ing->running++;
	return j;
}

/* Forgets the parked seals whose file left the queue meanwhile (unlinked
 * and freed, say): nothing would ever resume them.  Called with ing->lock
 * held, whenever a seal is parked or a worker goes idle, so parked seals
 * never pile up. */
static int reap_fn(enrp_txn *t, void *arg)
{
	enrp_ingest *ing = arg;
	struct seal_job **pp = &ing->jobs;
	while (*pp) {
		struct seal_job *j = *pp;
		uint8_t k[8];
		MDB_val v;
		be64_put(k, j->ino);
		int rc = j->running ? 0 : txn_get(t, DBI_SPOOL, k, 8, &v);
		if (rc && rc != -ENOENT)
			return rc;
		if (!j->running && (rc == -ENOENT || v.mv_size != QUEUE_KEY_LEN)) {
			*pp = j->next;
			job_free(j);
			continue;
		}
		pp = &j->next;
	}
	return 0;
}

/* At the end of a slice: should J's worker park it?  Yes when the pipeline
 * stops (an unmount does not wait for a long seal), and when a file of a
 * higher class, or of another EIR of J's class, is ready and no worker is
 * idle to take it (an idle one is woken instead). */
static bool should_yield(enrp_ingest *ing, const struct seal_job *j)
{
	struct pick_args a = { .ing = ing, .max_cls = j->cls, .skip_ino = j->ino,
		               .skip_own = true, .skip_cls = j->cls, .skip_eir = j->eir };
	bool yield = false;
	pthread_mutex_lock(&ing->lock);
	if (ing->stopping) {
		yield = true;
	} else if (enrp_store_read(ing->st, pick_fn, &a) == 0 && a.found) {
		if (ing->idle_workers)
			pthread_cond_broadcast(&ing->work);
		else
			yield = true;
	}
	pthread_mutex_unlock(&ing->lock);
	return yield;
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

struct chunk_out {
	uint8_t digest[32];
	uint32_t stored;   /* length of its frame */
	bool written;      /* a chunk file was written (synced before commit) */
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

/* store_chunk() once DIGEST is pinned. */
static int store_chunk_pinned(struct coder *c, const struct chunk_ctx *x, const uint8_t *p,
                              size_t n, struct chunk_out *out)
{
	int rc;
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

/* Names the N bytes at P, and writes them as a chunk file unless the EIR
 * has that chunk already (checked by reading it back).  Thread-safe for
 * distinct C: two threads storing the same new chunk both write it, and the
 * second rename replaces the first with an equal file.  On success the
 * chunk stays pinned against GC until its job is freed (job_free). */
static int store_chunk(struct coder *c, const struct chunk_ctx *x, const uint8_t *p, size_t n,
                       struct chunk_out *out)
{
	int rc = enrp_codec_name(c->codec, x->key, p, n, out->digest);
	if (rc == 0)
		rc = chunk_pin(x->st, x->eir_id, out->digest);
	if (rc)
		return rc;
	rc = store_chunk_pinned(c, x, p, n, out);
	if (rc)
		chunk_unpin(x->st, x->eir_id, out->digest);
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
	pthread_setname_np(pthread_self(), "enrp-compress");
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

/* Appends a stored chunk of PLAIN bytes to J's chunk list. */
static int job_push(struct seal_job *j, const uint8_t *digest, uint32_t plain, uint64_t zeros,
                    uint32_t stored)
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
	struct extent_ent *e = &j->v[j->n];
	memset(e, 0, sizeof(*e));
	if (digest)
		memcpy(e->digest, digest, 32);
	e->plain_len = plain;
	e->zeros = zeros;
	j->stored[j->n++] = stored;
	return 0;
}

static int job_take(struct seal_job *j, const struct chunk_out *o, size_t plain)
{
	int rc = job_push(j, o->digest, (uint32_t)plain, 0, o->stored);
	if (rc == 0) {
		j->wrote |= o->written;
		j->nchunks++;
	} else {
		chunk_unpin(j->ctx.st, j->ctx.eir_id, o->digest); /* not in the list */
	}
	return rc;
}

/* Appends chunk E of the list J rewrites, stored already, to J's list:
 * pinned like every chunk of a list being built (job_free). */
static int job_take_listed(struct seal_job *j, const struct extent_ent *e)
{
	int rc = chunk_pin(j->ctx.st, j->ctx.eir_id, e->digest);
	if (rc)
		return rc;
	if ((rc = job_push(j, e->digest, e->plain_len, 0, 0))) {
		chunk_unpin(j->ctx.st, j->ctx.eir_id, e->digest);
		return rc;
	}
	j->nchunks++;
	return 0;
}

/* Appends N zero bytes to J's chunk list: one run, however many steps. */
static int job_add_run(struct seal_job *j, uint64_t n)
{
	if (j->n && j->v[j->n - 1].plain_len == 0) {
		j->v[j->n - 1].zeros += n;
		return 0;
	}
	return job_push(j, NULL, 0, n, 0);
}

static int start_fn(enrp_txn *t, void *arg)
{
	struct seal_job *j = arg;
	return ns_inode_get(t, j->ino, &j->r);
}

/* J's file is still the one its seal started from: 0, -EAGAIN (changed,
 * seal it again later), -ESTALE (unlinked: nothing to seal), -ENOENT. */
static int check_fn(enrp_txn *t, void *arg)
{
	struct seal_job *j = arg;
	struct inode_rec r;
	int rc = ns_inode_get(t, j->ino, &r);
	if (rc)
		return rc;
	if (r.nlink == 0)
		return -ESTALE;
	if (r.content != ENRP_CONTENT_SPOOL || r.gen != j->r.gen || r.size != j->r.size)
		return -EAGAIN;
	return 0;
}

/* Worker-owned contexts and buffers, reused for every file. */
struct worker {
	enrp_ingest *ing;
	struct coder c;
	uint8_t *buf;              /* the bytes read ahead of the cutter */
	size_t bufsz;
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

/* Takes every chunk in flight, error or not (a slot must not go while a
 * compressor has it).  The first error. */
static int window_drain(struct worker *w, struct seal_job *j, struct window *win)
{
	int rc = 0;
	while (win->taken < win->pushed) {
		int trc = window_take(w, j, win);
		if (rc == 0)
			rc = trc;
	}
	return rc;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Appends N zero bytes to J: hashed, and a run in its chunk list (after the
 * chunks still in flight, which come first in the file). */
static int take_zeros(struct worker *w, struct seal_job *j, struct window *win, uint64_t n)
{
	int rc = window_drain(w, j, win);
	if (rc == 0)
		rc = enrp_sha256_update_zeros(j->sha, n);
	return rc ? rc : job_add_run(j, n);
}

/* Hashes the N bytes at P, the next chunk of J, and stores them: at once,
 * or by the pool (P is copied; at most win->n chunks of a file are in
 * flight).  A chunk of zeros is stored as a run. */
static int emit(struct worker *w, struct seal_job *j, struct window *win, const uint8_t *p,
                size_t n)
{
	int rc = enrp_sha256_update(j->sha, p, n);
	if (rc)
		return rc;
	if (all_zero(p, n)) {
		rc = window_drain(w, j, win);
		return rc ? rc : job_add_run(j, n);
	}
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

/* ---- where the data is ---- */

/* Where a seal reads the file from. */
struct source {
	int fd;            /* its spool file, or -1 */
	uint64_t flen;     /* the bytes the spool file holds */
	enrp_reader *base; /* a rewrite's (core/base_int.h): reads go through it */
};

/* The end of the run of zeros at POS if it is a hole of at least HOLE_MIN
 * bytes (the spool file holds FLEN bytes; past them, up to SIZE, the file
 * is zeros: bytes a power loss took that were never fsync'd), else POS. */
static uint64_t hole_end(const struct source *src, uint64_t size, uint64_t pos)
{
	/* A rewrite's spool file: its holes may be its base's bytes. */
	if (src->base)
		return pos;
	int fd = src->fd;
	uint64_t flen = src->flen;
	uint64_t end = size;
	if (pos < flen) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
		if (d >= 0 && (uint64_t)d < flen)
			end = (uint64_t)d;
		else if (d < 0 && errno != ENXIO)
			return pos; /* no hole information: read it */
	}
	if (end > size)
		end = size;
	return end > pos && end - pos >= HOLE_MIN ? end : pos;
}

/* Where the data starting at FROM ends: the start of the first hole of at
 * least HOLE_MIN bytes in [FROM, LIMIT), or LIMIT.  Smaller holes count as
 * data.  Costs a few lseeks per extent of the spool file in that span. */
static uint64_t data_end(const struct source *src, uint64_t size, uint64_t from,
                         uint64_t limit)
{
	if (src->base)
		return limit; /* a rewrite's: all data */
	int fd = src->fd;
	uint64_t flen = src->flen;
	uint64_t p = from;
	while (p < limit) {
		uint64_t h = p;
		if (p < flen) {
			off_t x = lseek(fd, (off_t)p, SEEK_HOLE);
			if (x < 0)
				return limit;
			h = (uint64_t)x;
		}
		if (h >= limit)
			return limit;
		if (hole_end(src, size, h) > h)
			return h;
		if (h >= flen)
			return limit; /* zeros to the end, too few to be a run */
		off_t d = lseek(fd, (off_t)h, SEEK_DATA);
		if (d < 0 || (uint64_t)d <= h)
			return limit;
		p = (uint64_t)d;
	}
	return limit;
}

/* Reads file bytes [OFF, OFF+N) into DST: from the spool file up to FLEN
 * (through the base for a rewrite), zeros past it (or past where the file
 * now ends: the generation check refuses such a seal at the commit). */
static int read_span(const struct source *src, uint8_t *dst, uint64_t off, size_t n)
{
	int fd = src->fd;
	uint64_t flen = src->flen;
	size_t done = 0;
	if (src->base && off < flen) {
		size_t want = off + n > flen ? (size_t)(flen - off) : n;
		ssize_t got = enrp_reader_read(src->base, dst, want, off);
		if (got < 0)
			return (int)got;
		done = (size_t)got;
	}
	while (done < n && off + done < flen) {
		size_t want = n - done;
		if (off + done + want > flen)
			want = (size_t)(flen - off - done);
		ssize_t got = pread(fd, dst + done, want, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		done += (size_t)got;
	}
	memset(dst + done, 0, n - done);
	return 0;
}

/* ---- a slice of a seal ---- */

#define SLICE_PARKED 1

static void step_hook(enrp_ingest *ing, const struct seal_job *j)
{
	if (ing->test.step)
		ing->test.step(j->ino, j->pos, ing->test.arg);
}

/* The base chunk of a rewrite that J may take over as it is at J's
 * position: at a boundary of the base, a data chunk wholly before the
 * rewrite's first change or past its last, whose HAVE bytes read ahead hold
 * it whole.  NULL: cut anew. */
static const struct extent_ent *same_chunk(const struct seal_job *j, enrp_reader *base,
                                           size_t have)
{
	struct base_shape b;
	bool tail = j->tail_from && j->pos >= j->tail_from;
	if ((!tail && j->pos >= j->same_until) || !base || reader_base_list(base, &b))
		return NULL;
	size_t lo = extent_boundary(b.offs, b.n, j->pos);
	if (lo >= b.n || !b.v[lo].plain_len || b.v[lo].plain_len > have)
		return NULL;
	if (!tail && b.offs[lo + 1] > j->same_until)
		return NULL; /* the first change is in it */
	return &b.v[lo];
}

/* Takes base chunk E, whose bytes are the N at P, into J's list as it is:
 * hashed into the file's SHA-256 (the bytes were checked against E's
 * digest as they were read), not named, compressed or written again. */
static int take_base_chunk(struct worker *w, struct seal_job *j, struct window *win,
                           const uint8_t *p, const struct extent_ent *e)
{
	int rc = enrp_sha256_update(j->sha, p, e->plain_len);
	if (rc == 0)
		rc = window_drain(w, j, win); /* the chunks before it come first */
	return rc ? rc : job_take_listed(j, e);
}

/* The base chunk J hashes from the chunk cache at its position
 * (take_cached_chunk): one same_chunk() takes over as it is, past the
 * rewrite's last change, ending by END (where this stretch of data ends).
 * NULL: none. */
static const struct extent_ent *tail_chunk(const struct seal_job *j, enrp_reader *base,
                                           uint64_t end)
{
	if (!base || !j->tail_from || j->pos < j->tail_from)
		return NULL;
	const struct extent_ent *e = same_chunk(j, base, SIZE_MAX);
	return e && j->pos + e->plain_len <= end ? e : NULL;
}

/* Takes base chunk E of BASE into J's list as it is, like
 * take_base_chunk, its bytes hashed where the chunk cache holds them. */
static int take_cached_chunk(struct worker *w, struct seal_job *j, struct window *win,
                             enrp_reader *base, const struct extent_ent *e)
{
	int rc = reader_base_chunk_hash(base, e, j->sha);
	if (rc == 0)
		rc = window_drain(w, j, win);
	return rc ? rc : job_take_listed(j, e);
}

/* Keeps J's state where the chunk about to be cut starts: an append
 * resumes there, and cuts the last chunk again with what follows it, rather
 * than leaving a chunk that only the file's end cut short in the middle. */
static int keep_last_cut(struct seal_job *j)
{
	j->last_cut_pos = j->pos;
	return j->last_cut ? enrp_sha256_copy(j->last_cut, j->sha)
	                   : enrp_sha256_dup(j->sha, &j->last_cut);
}

/* A rewrite (BASE) whose bytes before its first change are those of the
 * seal before: if a state saved along that seal fits, J takes the base's
 * chunks before it as they are and hashes on from there.  0 whether or not
 * one fits, or -errno. */
static int resume(enrp_ingest *ing, struct seal_job *j, enrp_reader *base)
{
	struct base_shape b;
	size_t idx;
	uint64_t pos;
	if (j->pos || j->n)
		return 0;
	int rc = reader_base_shape(base, &b);
	if (rc == -ESTALE)
		return -EAGAIN; /* sealed again meanwhile: the commit would say so */
	if (rc)
		return rc;
	/* Past its last change, a file as long as its base ends as the base
	 * does: once the cutter meets a base boundary there, the rest is taken
	 * over (take_base_chunk). */
	if (b.tail && j->r.size == b.offs[b.n])
		j->tail_from = b.tail;
	j->same_until = b.unchanged;
	const struct extent_ent *v = b.v;
	if (!seal_states_resume(ing->states, j->ino, v, b.offs, b.n, b.unchanged, j->sha, &pos, &idx,
	                        &j->trail))
		return 0;
	for (size_t i = 0; rc == 0 && i < idx; i++)
		rc = v[i].plain_len ? job_take_listed(j, &v[i]) : job_add_run(j, v[i].zeros);
	if (rc == 0)
		j->pos = pos;
	return rc;
}

/* Seals J from where it stands for one slice: to the file's end (0), until
 * its time is up and someone else should have the worker (SLICE_PARKED:
 * every chunk in flight taken, nothing buffered), or until a reason to stop:
 * -EAGAIN (changed or reopened for writing: it stays queued), -ESTALE or
 * -ENOENT (gone), -errno.  Reads only the spool file's data: a hole of at
 * least HOLE_MIN bytes is hashed as zeros (ZERO_STEP at a time), never
 * read. */
static int run_slice(struct worker *w, struct seal_job *j)
{
	enrp_ingest *ing = w->ing;
	const struct enrp_cdc_params *cdc = &ing->cdc;
	const uint64_t size = j->r.size;
	const int64_t slice = ing->test.slice_ns ? ing->test.slice_ns : SLICE_NS;
	int rc = enrp_store_read(ing->st, check_fn, j);
	if (rc)
		return rc;
	int fd = enrp_spool_open(ing->st, j->ino, 0);
	if (fd < 0 && fd != -ENOENT)
		return fd;
	struct source src = { .fd = fd }; /* flen 0: no spool file, no bytes */
	struct stat sb;
	if (fd >= 0 && fstat(fd, &sb) == 0)
		src.flen = (uint64_t)sb.st_size;
	else if (fd >= 0)
		rc = -errno;
	if (rc == 0 && fd >= 0) {
		rc = enrp_reader_open_based(ing, j->ino, fd, &src.base);
		if (rc == -EINVAL)
			rc = 0; /* a plain spool file */
		else if (rc == -ESTALE)
			rc = -EAGAIN; /* not a spool file any more: the commit would say so */
	}
	if (rc == 0 && src.base && !j->resume_tried) {
		j->resume_tried = true;
		rc = resume(ing, j, src.base);
	}
	uint64_t left = size - j->pos;
	size_t bufsz = left < READ_BLOCK + cdc->max_size ? (size_t)left : READ_BLOCK + cdc->max_size;
	if (rc == 0)
		rc = grow(&w->buf, &w->bufsz, bufsz);
	struct window win = { .n = 0 };
	if (left > cdc->max_size && ing->window) {
		win.s = calloc(ing->window, sizeof(*win.s));
		win.n = win.s ? ing->window : 0; /* no memory for a window: serial */
	}
	size_t start = 0, have = 0;       /* buf[start, start + have) is [pos, pos + have) */
	uint64_t seg_end = UINT64_MAX;     /* where a hole starts after the data, if known */
	int64_t deadline = mono_ns() + slice;
	bool moved = false; /* a slice makes progress before it may end */
	while (rc == 0 && j->pos < size) {
		if (atomic_load(&j->stale)) {
			rc = -EAGAIN;
			break;
		}
		if (moved && mono_ns() >= deadline) {
			/* At a chunk boundary: bytes read ahead are read again. */
			rc = enrp_store_read(ing->st, check_fn, j);
			if (rc == 0 && should_yield(ing, j))
				rc = SLICE_PARKED;
			if (rc)
				break;
			deadline = mono_ns() + slice;
		}
		if (!have && j->run_end <= j->pos)
			j->run_end = hole_end(&src, size, j->pos);
		if (j->run_end > j->pos) {
			uint64_t k = j->run_end - j->pos;
			if (k > ZERO_STEP)
				k = ZERO_STEP;
			if ((rc = take_zeros(w, j, &win, k)))
				break;
			j->pos += k;
			moved = true;
			step_hook(ing, j);
			continue;
		}
		/* Refill so the window holds max_size bytes, or the rest of this
		 * stretch of data.  Only the tail moves to the front. */
		uint64_t fill = j->pos + have, stop_at = size < seg_end ? size : seg_end;
		const struct extent_ent *whole = tail_chunk(j, src.base, stop_at);
		if (whole && whole->plain_len > have) {
			/* Past the last change the base's chunks are hashed where the
			 * chunk cache holds them, not read into the window: what the
			 * window holds of this one is dropped. */
			start = have = 0;
			if ((rc = keep_last_cut(j)) ||
			    (rc = take_cached_chunk(w, j, &win, src.base, whole)))
				break;
			j->pos += whole->plain_len;
			seal_trail_add(&j->trail, j->pos, j->sha, false);
			if (j->pos == seg_end)
				seg_end = UINT64_MAX;
			moved = true;
			step_hook(ing, j);
			continue;
		}
		if (!whole && have < cdc->max_size && fill < stop_at) {
			if (start) {
				memmove(w->buf, w->buf + start, have);
				start = 0;
			}
			uint64_t limit = fill + (bufsz - have);
			if (limit > stop_at)
				limit = stop_at;
			uint64_t stop = data_end(&src, size, fill, limit);
			if (stop == fill && !have)
				stop = limit; /* the holes moved under us: read, do not loop */
			if (stop < limit)
				seg_end = stop;
			if ((rc = read_span(&src, w->buf + have, fill, (size_t)(stop - fill))))
				break;
			have += (size_t)(stop - fill);
		}
		if (!have) {
			rc = -EIO; /* cannot happen: there is data before stop_at */
			break;
		}
		const struct extent_ent *same = whole ? whole : same_chunk(j, src.base, have);
		size_t cut = same ? same->plain_len : enrp_cdc_next(cdc, w->buf + start, have);
		if ((rc = keep_last_cut(j)))
			break;
		rc = same ? take_base_chunk(w, j, &win, w->buf + start, same)
		          : emit(w, j, &win, w->buf + start, cut);
		if (rc)
			break;
		start += cut;
		have -= cut;
		j->pos += cut;
		seal_trail_add(&j->trail, j->pos, j->sha, false); /* a reseal may resume here */
		if (j->pos == seg_end)
			seg_end = UINT64_MAX;
		moved = true;
		step_hook(ing, j);
	}
	/* Every chunk in flight finishes before its slot goes, error or not;
	 * a parked seal's list then covers [0, pos). */
	int drc = window_drain(w, j, &win);
	if (rc == 0 || rc == SLICE_PARKED)
		rc = drc ? drc : rc;
	for (size_t i = 0; i < win.n; i++)
		free(win.s[i].plain);
	free(win.s);
	enrp_reader_close(src.base);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int commit_fn(enrp_txn *t, void *arg)
{
	struct seal_job *j = arg;
	struct inode_rec r;
	char hex[65], details[ENRP_JOURNAL_DETAILS_MAX + 1];
	int rc = ns_inode_get(t, j->ino, &r);
	if (rc)
		return rc;
	if (r.content != ENRP_CONTENT_SPOOL || r.gen != j->r.gen || r.size != j->r.size)
		return -EAGAIN; /* changed while we read it: seal again later */
	if (r.nlink == 0)
		return -ESTALE;
	if (j->wrote && (rc = txn_needs_chunks(t, j->chunk_ticket)))
		return rc;
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].plain_len) /* a run of zeros references no chunk */
			chunk_ref(t, r.eir_id, j->v[i].digest, j->stored[i], j->v[i].plain_len);
	/* The base it rewrote goes after the new list took its references:
	 * chunks they share never reach zero. */
	if ((rc = base_end_txn(t, r.eir_id, j->ino, true)))
		return rc;
	extent_put(t, r.eir_id, j->ino, j->v, j->n);
	dequeue_txn(t, j->ino, &r);
	uint8_t k[8];
	be64_put(k, j->ino);
	txn_del(t, DBI_SPOOL, k, 8);
	txn_on_durable(t, spool_unlink_hook, j->ino);
	r.content = ENRP_CONTENT_SEALED;
	r.flags &= ~INODE_CORRUPT;
	ns_spool_released(t, &r); /* space reserved past the end goes with the spool */
	memcpy(r.sha256, j->sum, 32);
	/* The platform clock, not the host's: retention and locks count from
	 * here, and a host clock set back must not date a copy in the past. */
	if ((rc = clock_now_txn(t, &r.sealed_at)))
		return rc;
	ns_inode_put(t, j->ino, &r);
	if (t->ret)
		return t->ret;
	struct enrp_eir e;
	if ((rc = eir_get_txn(t, r.eir_id, &e)))
		return rc;
	enrp_hex(j->sum, 32, hex);
	snprintf(details, sizeof(details), "ino=%llu size=%llu sha256=%s chunks=%zu",
	         (unsigned long long)j->ino, (unsigned long long)r.size, hex, j->nchunks);
	/* In the write transaction: remembered names only, never a search
	 * (path.c); a file whose name was forgotten is path_unknown. */
	path_details_add(t, j->ino, details, sizeof(details), PATH_SCAN_SEAL);
	if ((rc = transfer_seal_txn(t, r.eir_id, r.sealed_at)))
		return rc;
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

/* A seal that failed on a damaged chunk of the base its file rewrites
 * (the read marked the file corrupt): no retry would read it, so the file
 * leaves the queue, counted corrupt (ns.c). */
struct drop_damaged {
	uint64_t ino;
	bool dropped;
};

static int drop_damaged_fn(enrp_txn *t, void *arg)
{
	struct drop_damaged *a = arg;
	struct inode_rec r;
	a->dropped = false;
	int rc = ns_inode_get(t, a->ino, &r);
	if (rc || r.content != ENRP_CONTENT_SPOOL || !(r.flags & INODE_CORRUPT))
		return rc;
	rc = dequeue_txn(t, a->ino, &r);
	if (rc == 0)
		rc = ns_inode_put(t, a->ino, &r);
	a->dropped = rc == 0;
	return rc;
}

/* Reads J's inode and prepares its seal (first slice only). */
static int job_start(enrp_ingest *ing, struct seal_job *j)
{
	int rc = enrp_store_read(ing->st, start_fn, j);
	if (rc == 0 && (!S_ISREG(j->r.mode) || j->r.content != ENRP_CONTENT_SPOOL || !j->r.nlink))
		rc = -ESTALE;
	if (rc == 0)
		rc = enrp_vault_eir_key(ing->vault, j->r.eir_id, &j->ctx.key);
	if (rc == 0)
		rc = enrp_sha256_new(&j->sha);
	j->ctx.st = ing->st;
	j->ctx.eir_id = j->r.eir_id;
	j->ctx.ino = j->ino;
	return rc;
}

/* J is chunked and hashed to its end: make its chunks durable, then commit
 * it unless a writer came back meanwhile. */
static int job_finish(enrp_ingest *ing, struct seal_job *j)
{
	if (j->last_cut) /* an append resumes here (keep_last_cut) */
		seal_trail_add(&j->trail, j->last_cut_pos, j->last_cut, true);
	int rc = enrp_sha256_final(j->sha, j->sum);
	/* New chunks are durable before anything points at them: the commit
	 * that makes this seal durable syncs them first (txn_needs_chunks). */
	j->chunk_ticket = store_chunk_ticket(ing->st);
	void (*hook)(void) = atomic_load(&chunks_written_hook);
	if (hook && j->wrote)
		hook();
	if (rc == 0) {
		pthread_mutex_lock(&ing->lock);
		if (writers_of(ing, j->ino) || atomic_load(&j->stale))
			rc = -EAGAIN; /* reopened for writing: its close queues it again */
		else
			rc = enrp_store_write(ing->st, commit_fn, j);
		pthread_mutex_unlock(&ing->lock);
	}
	if (rc == 0) {
		atomic_fetch_add(&ing->sealed_files, 1);
		atomic_fetch_add(&ing->sealed_bytes, j->r.size);
		seal_states_put(ing->states, j->ino, j->v, j->n, &j->trail);
		/* A file that settled after a hot rewrite keeps its entry, done
		 * waiting, so that a rewrite soon after this seal waits longer
		 * (settle_at_close); settling_sweep drops it once that is long
		 * past.  Any other starts over at its next close. */
		pthread_mutex_lock(&ing->lock);
		struct settling *e = *settling_slot(ing, j->ino);
		if (e && e->hot)
			e->not_before = 0;
		else if (e)
			settling_drop(ing, j->ino);
		pthread_mutex_unlock(&ing->lock);
	}
	return rc;
}

/* Runs one slice of J, which this worker holds, and settles the outcome:
 * parked, committed, abandoned or failed. */
static void seal_slice(struct worker *w, struct seal_job *j)
{
	enrp_ingest *ing = w->ing;
	int rc = 0;
	if (!j->started) {
		rc = job_start(ing, j);
		j->started = true; /* whatever happened: job_free frees what was made */
	}
	if (rc == 0)
		rc = run_slice(w, j);
	if (rc == SLICE_PARKED) {
		pthread_mutex_lock(&ing->lock);
		j->running = false;
		ing->running--;
		enrp_store_read(ing->st, reap_fn, ing);
		pthread_cond_broadcast(&ing->work);
		pthread_mutex_unlock(&ing->lock);
		return;
	}
	if (rc == 0)
		rc = job_finish(ing, j);
	struct drop_damaged dd = { j->ino, false };
	if (rc == -EIO && enrp_store_write(ing->st, drop_damaged_fn, &dd) == 0 && dd.dropped) {
		enrp_log(ENRP_LOG_ERR, "cannot seal inode %llu: a chunk of the sealed file it rewrites "
		         "failed its check; it stays corrupt until rewritten whole",
		         (unsigned long long)j->ino);
	} else if (rc == -ESTALE || rc == -ENOENT) {
		enrp_store_write(ing->st, drop_fn, &j->ino);
	} else if (rc && rc != -EAGAIN) {
		enrp_log(ENRP_LOG_ERR, "cannot seal inode %llu: %s; will retry",
		         (unsigned long long)j->ino, enrp_strerror(rc));
		/* Back off so a persistent failure (disk full) does not spin. */
		sleep(1);
	}
	pthread_mutex_lock(&ing->lock);
	job_unlink(ing, j);
	ing->running--;
	pthread_cond_broadcast(&ing->idle);
	pthread_mutex_unlock(&ing->lock);
	job_free(j);
}

static void worker_idle(struct worker *w)
{
	coder_idle(&w->c);
	free(w->buf);
	w->buf = NULL;
	w->bufsz = 0;
}

static void worker_free(struct worker *w);

static void *worker_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-seal");
	struct worker *w = arg;
	enrp_ingest *ing = w->ing;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&ing->lock);
	while (!ing->stopping) {
		struct seal_job *j = pick_locked(ing);
		if (j) {
			pthread_mutex_unlock(&ing->lock);
			seal_slice(w, j);
			pthread_mutex_lock(&ing->lock);
			continue;
		}
		/* Nothing to do, or only files still being written or sealed by
		 * others: give the buffers back and wait, without letting go of
		 * the lock in between (a file queued meanwhile wakes us). */
		worker_idle(w);
		if (ing->jobs)
			enrp_store_read(ing->st, reap_fn, ing);
		unqueued_retry(ing);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		/* A settling file is taken within a quarter of SETTLE_NS of its
		 * time (nothing wakes us for it). */
		int64_t wait = ing->nsettling && settle_ns(ing) < 4000000000LL ? settle_ns(ing) / 4
		                                                                : 1000000000LL;
		ts.tv_nsec += (long)wait;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		ing->idle_workers++;
		pthread_cond_timedwait(&ing->work, &ing->lock, &ts);
		ing->idle_workers--;
	}
	pthread_mutex_unlock(&ing->lock);
	worker_free(w);
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	worker_idle(w);
	enrp_codec_free(w->c.codec);
	free(w);
}

static struct worker *worker_new(enrp_ingest *ing)
{
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->ing = ing;
	if (enrp_codec_new(ing->zstd_level, &w->c.codec)) {
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

/* The spool files whose index entry is of length VLEN (QUEUE_KEY_LEN_V1: a
 * queue key of an older store), or of any length but a queue key's
 * (SPOOL_UNQUEUED: files not queued). */
#define SPOOL_UNQUEUED ((size_t)-1)

struct spool_pick {
	struct ino_list l;
	size_t vlen;
};

static int spool_list_fn(enrp_txn *t, void *arg)
{
	struct spool_pick *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_SPOOL, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && rc == 0) {
		bool pick = a->vlen == SPOOL_UNQUEUED ? v.mv_size != QUEUE_KEY_LEN
		                                      : v.mv_size == a->vlen;
		if (k.mv_size == 8 && pick)
			rc = ino_list_push(&a->l, be64_get(k.mv_data));
		if (rc == 0)
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
	struct spool_pick a = { .vlen = SPOOL_UNQUEUED };
	int rc = enrp_store_read(ing->st, spool_list_fn, &a);
	for (size_t i = 0; rc == 0 && i < a.l.n; i++)
		rc = enrp_store_write(ing->st, enqueue_fn, &a.l.v[i]);
	if (rc == 0)
		store_recovered_add(ing->st, STORE_RECOVERED_REQUEUED, a.l.n);
	free(a.l.v);
	return rc;
}

/* ---- queue keys of stores before format 3 ---- */

/* Unqueues INO if its queue entry has the key of a store before format 3
 * (no EIR in it): requeue_all queues it again under a key of today. */
static int unqueue_v1_fn(enrp_txn *t, void *arg)
{
	uint64_t ino = *(uint64_t *)arg;
	uint8_t k[8];
	MDB_val v;
	struct inode_rec r;
	be64_put(k, ino);
	int rc = txn_get(t, DBI_SPOOL, k, 8, &v);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (v.mv_size != QUEUE_KEY_LEN_V1)
		return 0;
	uint8_t qk[QUEUE_KEY_LEN_V1];
	memcpy(qk, v.mv_data, sizeof(qk));
	if ((rc = txn_del(t, DBI_QUEUE, qk, sizeof(qk))) && rc != -ENOENT)
		return rc;
	if ((rc = txn_put(t, DBI_SPOOL, k, 8, "", 0, 0)))
		return rc;
	rc = ns_inode_get(t, ino, &r);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	r.flags &= ~INODE_QUEUED;
	return ns_inode_put(t, ino, &r);
}

/* Counts (*ARG) or, in a write transaction, removes the queue keys of the
 * old length that no spool entry names any more. */
static int queue_v1_fn(enrp_txn *t, void *arg)
{
	size_t *n = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_QUEUE, &cur);
	if (rc)
		return rc;
	*n = 0;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0) {
		if (k.mv_size != QUEUE_KEY_LEN) {
			(*n)++;
			if (t->write && (mrc = mdb_cursor_del(cur, 0)))
				break;
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : 0;
}

/* The queue keys of a store before format 3 lack the EIR the workers take
 * turns by (the store's first writer has already marked it format 3, so
 * older binaries refuse it: store.c).  Their files are unqueued, one
 * transaction each, so a crash half-way leaves a queue this same step
 * finishes; requeue_all then queues them under keys of today, which loses
 * only their order. */
static int upgrade_queue(enrp_ingest *ing)
{
	struct spool_pick a = { .vlen = QUEUE_KEY_LEN_V1 };
	size_t stray = 0;
	int rc = enrp_store_read(ing->st, spool_list_fn, &a);
	if (rc == 0)
		rc = enrp_store_read(ing->st, queue_v1_fn, &stray);
	for (size_t i = 0; rc == 0 && i < a.l.n; i++)
		rc = enrp_store_write(ing->st, unqueue_v1_fn, &a.l.v[i]);
	free(a.l.v);
	if (rc == 0 && (stray || a.l.n))
		rc = enrp_store_write(ing->st, queue_v1_fn, &stray);
	if (rc == 0 && a.l.n)
		enrp_log(ENRP_LOG_INFO, "%zu file(s) queued by an older enrp queued again", a.l.n);
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

unsigned enrp_ingest_default_decoders(void)
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
	pthread_mutex_lock(&next_test_lock);
	ing->test = next_test;
	pthread_mutex_unlock(&next_test_lock);
	pthread_mutex_init(&ing->lock, NULL);
	for (size_t i = 0; i < UNSEAL_STRIPES; i++)
		pthread_mutex_init(&ing->unseal_locks[i], NULL);
	pthread_cond_init(&ing->work, NULL);
	pthread_cond_init(&ing->idle, NULL);
	pthread_mutex_init(&ing->pool_lock, NULL);
	pthread_cond_init(&ing->pool_push, NULL);
	pthread_cond_init(&ing->pool_done, NULL);
	if (ing->zstd_level < 1 || ing->zstd_level > 19) {
		rc = -EINVAL;
		goto out_free;
	}
	if ((rc = load_cdc(ing)) || (rc = seal_states_new(SEAL_STATES_FILES, &ing->states)))
		goto out_free;
	/* No workers (enrpctl) and no explicit decoders: nothing reads ahead. */
	unsigned decoders = cfg->decoders ? cfg->decoders : cfg->workers ? enrp_ingest_default_decoders() : 0;
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
		if (src == 0)
			store_recovered_add(st, STORE_RECOVERED_CHUNK_TMP, swept);
		if ((rc = upgrade_queue(ing)) || (rc = requeue_all(ing)))
			goto out_free;
		ing->threads = calloc(cfg->workers, sizeof(*ing->threads));
		unsigned ncomp = cfg->compressors ? cfg->compressors : cpus();
		ing->compressors = calloc(ncomp, sizeof(*ing->compressors));
		if (!ing->threads || !ing->compressors) {
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
	seal_states_free(ing->states);
	free(ing->threads);
	/* Parked seals are forgotten: their files are still queued. */
	while (ing->jobs) {
		struct seal_job *j = ing->jobs;
		ing->jobs = j->next;
		job_free(j);
	}
	for (size_t b = 0; b < WRITER_BUCKETS; b++) {
		while (ing->writers[b]) {
			struct writer *w = ing->writers[b];
			ing->writers[b] = w->next;
			free(w);
		}
		while (ing->settling[b])
			settling_drop(ing, ing->settling[b]->ino);
	}
	for (size_t b = 0; b < EIR_CLOSES_BUCKETS; b++) {
		while (ing->closes[b]) {
			struct eir_closes *c = ing->closes[b];
			ing->closes[b] = c->next;
			free(c);
		}
	}
	/* Files never queued are queued at the next mount (requeue_all). */
	free(ing->unqueued.v);
	pthread_mutex_destroy(&ing->lock);
	for (size_t i = 0; i < UNSEAL_STRIPES; i++)
		pthread_mutex_destroy(&ing->unseal_locks[i]);
	pthread_cond_destroy(&ing->work);
	pthread_cond_destroy(&ing->idle);
	pthread_mutex_destroy(&ing->pool_lock);
	pthread_cond_destroy(&ing->pool_push);
	pthread_cond_destroy(&ing->pool_done);
	free(ing);
}

static int queue_empty_fn(enrp_txn *t, void *arg)
{
	bool *empty = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_QUEUE, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	mdb_cursor_close(cur);
	*empty = mrc == MDB_NOTFOUND;
	return mrc && mrc != MDB_NOTFOUND ? store_mdb_err(mrc) : 0;
}

int enrp_ingest_wait_idle(enrp_ingest *ing, int timeout_ms)
{
	int64_t deadline = mono_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		bool empty;
		int rc = enrp_store_read(ing->st, queue_empty_fn, &empty);
		if (rc)
			return rc;
		pthread_mutex_lock(&ing->lock);
		bool idle = empty && ing->running == 0;
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
	bool based; /* the chunk list stays as the spool file's base */
	bool peek;  /* only the inode: is it sealed? */
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
	return a->truncate || a->peek ? 0 : extent_get(t, a->ino, &a->v, &a->n);
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
	/* The verified copy being replaced goes to trash, not away. */
	struct trash_note note = { .why = a->truncate ? ENRP_TRASH_TRUNCATED : ENRP_TRASH_OVERWRITTEN };
	if ((rc = trash_or_release(t, a->ino, &r, &note)))
		return rc;
	/* Trash took the list and its references; the base takes them again
	 * (the same chunks, one more reference each). */
	for (size_t i = 0; a->based && rc == 0 && i < a->n; i++)
		if (a->v[i].plain_len)
			rc = chunk_ref(t, r.eir_id, a->v[i].digest, 0, a->v[i].plain_len);
	if (rc == 0 && a->based)
		rc = extent_put(t, r.eir_id, a->ino, a->v, a->n);
	if (rc == 0 && a->based)
		rc = base_begin_txn(t, a->ino, r.size);
	if (rc)
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

/* A new spool file for A's inode (replacing a stale one a crash left),
 * with the file's size and no data: runs of zeros stay holes.  Its
 * descriptor, or -errno. */
static int new_spool_of_size(enrp_ingest *ing, struct unseal_args *a)
{
	char name[SPOOL_NAME_LEN + 1];
	spool_name(name, a->ino);
	unlinkat(store_spool_dirfd(ing->st), name, 0);
	int fd = enrp_spool_open(ing->st, a->ino, 1);
	if (fd >= 0 && ftruncate(fd, (off_t)a->r.size) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* A spool file of A's size that holds nothing yet: the bytes stay in the
 * chunks (the base) until a write needs them (enrp_reader_prepare_write).
 * Not made durable (two disk flushes per open, the most of what it cost):
 * a commit that outlives its spool file in a crash finds it made again at
 * the next mount (base_recover_spools). */
static int sparse_spool(enrp_ingest *ing, struct unseal_args *a)
{
	int fd = new_spool_of_size(ing, a);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Writes the sealed bytes of A into INO's spool file, durably. */
static int copy_back(enrp_ingest *ing, struct unseal_args *a)
{
	const struct enrp_eir_key *key;
	int rc = enrp_vault_eir_key(ing->vault, a->r.eir_id, &key);
	if (rc)
		return rc;
	/* The spool file takes the file's size first: runs of zeros stay holes
	 * (a 15 TB sparse file is copied back in the time its chunks take). */
	int fd = new_spool_of_size(ing, a);
	if (fd < 0)
		return fd;
	uint64_t off = 0;
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
		rc = enrp_spool_sync(ing->st, a->ino, fd);
	close(fd);
	return rc;
}

/* INO, sealed as R says, is being rewritten: its writer is hot if that
 * seal is recent (settle_at_close).  The platform clock set back makes it
 * look recent: it then settles once, no harm. */
static void mark_hot(enrp_ingest *ing, uint64_t ino, const struct inode_rec *r)
{
	if (enrp_now_ns() - r->sealed_at >= HOT_NS)
		return;
	pthread_mutex_lock(&ing->lock);
	struct writer *w = *writer_slot(ing, ino);
	if (w)
		w->hot = true;
	pthread_mutex_unlock(&ing->lock);
}

int enrp_ingest_unseal(enrp_ingest *ing, uint64_t ino, bool truncate)
{
	/* Most files opened for writing are spool files already: they need no
	 * lock.  One this handle's writer found unsealed stays so (a seal
	 * commits only while nobody writes).  A sealed one is looked at again
	 * under its stripe's lock, which another unseal of it may hold: one
	 * unseal of an inode at a time, of different inodes side by side
	 * (with one lock for all, every open for writing waited behind any
	 * other file's unseal, and its wait for the disk). */
	struct unseal_args a = { .ino = ino, .truncate = truncate, .peek = true };
	int rc = enrp_store_read(ing->st, unseal_start_fn, &a);
	if (rc || a.r.content != ENRP_CONTENT_SEALED)
		return rc;
	a.peek = false;
	pthread_mutex_t *lock = &ing->unseal_locks[ino_bucket(ino) % UNSEAL_STRIPES];
	pthread_mutex_lock(lock);
	rc = enrp_store_read(ing->st, unseal_start_fn, &a);
	/* The seal that made this file removes its spool file once durable;
	 * wait for that before writing a new one under the same name (a wait
	 * for the disk: only when that removal is still to come). */
	if (rc == 0 && a.r.content == ENRP_CONTENT_SEALED)
		rc = store_hook_wait(ing->st, spool_unlink_hook, ino);
	if (rc == 0 && a.r.content == ENRP_CONTENT_SEALED)
		mark_hot(ing, ino, &a.r);
	if (rc == 0 && a.r.content == ENRP_CONTENT_SEALED) {
		/* A damaged file is copied back whole, so the open fails now on
		 * what cannot be read, as it always did: a change to part of it
		 * would keep bytes that are lost (a based spool would fail the
		 * first write into the damaged chunk anyway, and zeros there
		 * could be sealed as content nobody wrote).  It is healed by
		 * being replaced whole (O_TRUNC, a rename over it), which
		 * rsync does because it shows the epoch as its mtime (ns.c).
		 * Any other file keeps its chunks as the base of what is
		 * written. */
		a.based = !truncate && !(a.r.flags & INODE_CORRUPT);
		if (truncate)
			rc = spool_truncate(ing->st, ino, 0, true);
		else if (a.based)
			rc = sparse_spool(ing, &a);
		else
			rc = copy_back(ing, &a);
		if (rc == 0)
			rc = enrp_store_write(ing->st, unseal_commit_fn, &a);
	}
	pthread_mutex_unlock(lock);
	free(a.v);
	return rc;
}

void enrp_ingest_stats(enrp_ingest *ing, struct enrp_ingest_stats *out)
{
	out->sealed_files = atomic_load(&ing->sealed_files);
	out->sealed_bytes = atomic_load(&ing->sealed_bytes);
}

struct backlog_args {
	uint32_t eir_id;
	struct enrp_ingest_backlog *out;
};

/* The queue is keyed (class, EIR, queued_at, ino): each class's run of the
 * EIR starts with its oldest entry.  Every class is looked at, because an
 * entry keeps the class the EIR had when the file was queued. */
static int backlog_fn(enrp_txn *t, void *arg)
{
	struct backlog_args *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t prefix[5];
	int rc = txn_cursor(t, DBI_QUEUE, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	*a->out = (struct enrp_ingest_backlog){ 0 };
	for (unsigned cls = 0; cls <= UINT8_MAX && rc == 0; cls++) {
		prefix[0] = (uint8_t)cls;
		be32_put(prefix + 1, a->eir_id);
		k.mv_size = sizeof(prefix);
		k.mv_data = prefix;
		int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (mrc == 0 && k.mv_size == QUEUE_KEY_LEN &&
		       memcmp(k.mv_data, prefix, sizeof(prefix)) == 0) {
			int64_t at = key_queue_at(k.mv_data);
			if (a->out->files == 0 || at < a->out->oldest_queued)
				a->out->oldest_queued = at;
			a->out->files++;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (mrc == MDB_NOTFOUND)
			break; /* nothing in this class or any later one */
		if (mrc)
			rc = store_mdb_err(mrc);
		else if (k.mv_size >= 1 && ((uint8_t *)k.mv_data)[0] > cls)
			cls = ((uint8_t *)k.mv_data)[0] - 1u; /* skip empty classes */
	}
	mdb_cursor_close(cur);
	return rc;
}

int enrp_ingest_backlog(enrp_store *st, uint32_t eir_id, struct enrp_ingest_backlog *out)
{
	struct backlog_args a = { eir_id, out };
	*out = (struct enrp_ingest_backlog){ 0 };
	return enrp_store_read(st, backlog_fn, &a);
}
