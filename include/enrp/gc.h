/*
 * gc.h — garbage collection: frees the chunks that nothing references
 * (DESIGN §6).
 *
 * A chunk is referenced while its EIR's chunk index counts a user of it:
 * a sealed file's chunk list (and, with snapshots and trash, the copies
 * they keep).  When the count drops to zero the index entry goes at once
 * and the chunk's file is left for GC, which lists the chunk store, and
 * removes every chunk that neither the durable index nor the daemon's
 * uncommitted one names and that no seal in flight has pinned
 * (core/chunk_int.h explains the pins).  So it runs online, beside seals
 * and reads, holding the store's lock only for short lookups; it removes
 * the leftovers of interrupted seals too.  A crash at any instant leaves at
 * worst garbage that the next run removes.
 *
 * In the daemon, GC runs in a thread of its own (enrp_gc_start); enrpctl
 * asks a running daemon to run it, or runs it itself while holding the
 * daemon lock, so that no seal can run meanwhile in another process.
 */
#ifndef ENRP_GC_H
#define ENRP_GC_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>

struct enrp_gc_result {
	uint64_t chunks;        /* chunk files looked at */
	uint64_t chunks_freed;  /* removed */
	uint64_t bytes_freed;   /* their stored bytes */
	uint64_t chunks_busy;   /* unreferenced but pinned by a seal: left for the next run */
	uint32_t eirs;          /* EIRs done */
	uint32_t eirs_total;
};

typedef void enrp_gc_progress_fn(const struct enrp_gc_result *sofar, void *arg);

/* Frees the unreferenced chunks of EIR (NULL: of every EIR), journalling a
 * "gc" record per EIR that freed something.  PROGRESS (may be NULL) is
 * called every few thousand chunks.  *STOP (may be NULL) set ends the run
 * early, with what was freed so far.  0, -ENOENT for an unknown EIR, or
 * -errno (OUT then counts what was done). */
int enrp_gc_run(enrp_store *st, const char *eir, const struct enrp_actor *actor,
                enrp_gc_progress_fn *progress, void *arg, const _Atomic bool *stop,
                struct enrp_gc_result *out);

/* The chunk files of EIR ID as they are on disk now: how many, and the sum
 * of their sizes (apparent sizes, as `du -b` of the files counts them;
 * temporary files of seals in flight are not chunks).  Chunks whose last
 * user went stay on disk until the next garbage collection, so this is at
 * least the EIR's stored usage (struct enrp_eir_usage: what the index still
 * references); the difference is what a GC would free.  Lists the chunk
 * store: time linear in the EIR's chunks.  0, or -errno of the listing. */
struct enrp_gc_disk {
	uint64_t chunks;
	uint64_t bytes;
};
int enrp_gc_disk(enrp_store *st, uint32_t eir_id, struct enrp_gc_disk *out);

/* A background run (the daemon's). */
typedef struct enrp_gc enrp_gc;
int enrp_gc_new(enrp_store *st, const struct enrp_actor *actor, enrp_gc **out);
/* Starts a run of every EIR unless one is running (then it is the one the
 * caller waits for).  -errno when the thread cannot start. */
int enrp_gc_start(enrp_gc *g);
/* The state of the current or last run: *RUNNING, its result so far, and
 * its return code once done.  *STARTED is false before the first run. */
void enrp_gc_status(enrp_gc *g, bool *started, bool *running, int *rc,
                    struct enrp_gc_result *out);
/* Stops a running run and frees G. */
void enrp_gc_free(enrp_gc *g);

#endif
