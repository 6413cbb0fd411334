/*
 * ingest.h — the seal pipeline (DESIGN §5); reads of sealed files are
 * reader.h's.
 *
 * A regular file is written into a spool file.  When its last writer closes
 * (or on fsync) it is queued durably; background workers, class 1 first and
 * then oldest first, compute its SHA-256, cut it into content-defined
 * chunks, compress (and encrypt) each, store the chunks the EIR does not
 * have yet, and commit chunk list, checksum and state in one transaction
 * before the spool file goes.  A file written again while being sealed is
 * not sealed from stale data.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef ENRP_INGEST_H
#define ENRP_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <enrp/policy.h>
#include <enrp/store.h>
#include <enrp/vault.h>

typedef struct enrp_ingest enrp_ingest;

struct enrp_ingest_config {
	unsigned workers;   /* sealing threads; 0: none (enrpctl: reads and scrub only) */
	int zstd_level;     /* 1..19; 0 means 3 */
	size_t cache_bytes; /* decompressed chunk cache; 0 means 64 MiB */
	unsigned decoders;  /* read-ahead decoder threads; 0 means 4 per CPU (at most
	                     * 8) with workers, none without */
	unsigned compressors; /* threads that store the chunks of files larger than
	                       * one chunk, for every worker; 0 means one per CPU
	                       * (with workers) */
};

/* The read-ahead decoders a pipeline with workers starts by default: 4 per
 * CPU, at most 8 (a reader without workers may ask for as many). */
unsigned enrp_ingest_default_decoders(void);

/* Starts the pipeline on ST with the keys of VAULT (borrowed; must outlive
 * the pipeline).  With workers, every spool file not being written is queued
 * (files closed before a crash are sealed after it).  -ENOMEM, -EINVAL. */
int enrp_ingest_open(enrp_store *st, enrp_vault *vault, const struct enrp_ingest_config *cfg,
                     enrp_ingest **out);

/* What the pipeline of this process did since it opened (for the daemon's
 * metrics): files and their bytes committed as verified.  Counters only go
 * up.  Thread-safe. */
struct enrp_ingest_stats {
	uint64_t sealed_files;
	uint64_t sealed_bytes; /* the files' logical sizes */
};
void enrp_ingest_stats(enrp_ingest *ing, struct enrp_ingest_stats *out);

/* The ingest backlog of EIR ID as the store records it (any process may ask,
 * with or without a pipeline): the files queued for sealing and the platform
 * clock (ns) at which the oldest of them was queued, 0 when none is.  Files
 * still open for writing are not queued, so not in it.  Time linear in the
 * EIR's queued files.  0 or -errno of the store. */
struct enrp_ingest_backlog {
	uint64_t files;
	int64_t oldest_queued;
};
int enrp_ingest_backlog(enrp_store *st, uint32_t eir_id, struct enrp_ingest_backlog *out);

/* Stops the workers (a file being sealed stays queued) and frees.  NULL ok. */
void enrp_ingest_close(enrp_ingest *ing);

/* A handle that may write INO was opened / closed.  While one is open, INO
 * is never sealed; when the last one closes, INO is queued. */
void enrp_ingest_writer_open(enrp_ingest *ing, uint64_t ino);
void enrp_ingest_writer_close(enrp_ingest *ing, uint64_t ino);
/* The same, for a writer that knows INO's EIR (an open handle): no store
 * read. */
void enrp_ingest_writer_close_in(enrp_ingest *ing, uint64_t ino, uint32_t eir_id);

/* Queues INO (fsync).  0 also when it is already queued or sealed. */
int enrp_ingest_enqueue(enrp_ingest *ing, uint64_t ino);

/* Before INO is changed: a sealed file becomes a spool file again, a copy of
 * its bytes (made durable first, so a crash never loses a verified file) —
 * or an empty one with TRUNCATE.  No-op for a file that is not sealed.
 * -EIO when a chunk is missing or fails its check (the file is then marked
 * corrupt and journalled, as by a read), -ENOENT no such inode, -ENOSPC. */
int enrp_ingest_unseal(enrp_ingest *ing, uint64_t ino, bool truncate);

/* Waits until nothing is queued or being sealed, at most TIMEOUT_MS.
 * -ETIMEDOUT. */
int enrp_ingest_wait_idle(enrp_ingest *ing, int timeout_ms);

/* What the test hooks of a pipeline are; all zero in enrpfs. */
struct enrp_ingest_test {
	/* Called by a worker after each chunk, or each step of zeros, of a
	 * seal: INO, and the bytes of it hashed so far.  No lock is held. */
	void (*step)(uint64_t ino, uint64_t done, void *arg);
	void *arg;
	/* The length of a slice in ns (0: 200 ms); 1 makes every step the end
	 * of a slice, where a seal may be parked or abandoned. */
	int64_t slice_ns;
	/* How long a file of a busy EIR settles before its seal, in ns (0:
	 * 3 s; see core/ingest.c, settling). */
	int64_t settle_ns;
	/* How many files may settle at once (0: 8,192). */
	unsigned settling_max;
};

#ifdef ENRP_INTERNAL
/* Hooks for the pipelines opened after this call (NULL: none). */
void enrp_ingest_test_hooks(const struct enrp_ingest_test *t);
/* Seals started and not finished (running or parked). */
unsigned enrp_ingest_test_jobs(enrp_ingest *ing);
/* FN runs in every pipeline's worker between the chunk files of a seal
 * being written and its commit, when it wrote any (no lock held): tests
 * hold a worker there.  NULL: none. */
void enrp_ingest_test_chunks_written(void (*fn)(void));
#endif

#endif
