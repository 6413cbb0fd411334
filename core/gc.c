/*
 * gc.c — garbage collection of chunks (see include/enrp/gc.h).
 *
 * Chunks are taken in batches as the chunk store lists them.  A batch is
 * checked against the index once without any pin held (most chunks are in
 * use and cost one lookup); the rest are doomed, which waits out no one
 * but fails for a chunk a seal has pinned, and checked again: in this
 * process's view (the daemon's open group, where a seal that has just
 * unpinned committed its reference) and in the durable one (what a crash
 * would leave: a reference that the open group dropped is still there).
 * Only a chunk absent from both is removed, still doomed, so no seal can
 * pin it, find the file and count on it between the check and the unlink.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/gc.h>

#include "chunk_int.h"
#include "store_int.h"

#define GC_BATCH 512
#define GC_PROGRESS_EVERY 4096

struct gc_batch {
	uint32_t eir_id;
	size_t n;
	uint8_t digest[GC_BATCH][32];
	uint64_t bytes[GC_BATCH];
	bool keep[GC_BATCH];   /* named by the index (or pinned): not garbage */
	bool doomed[GC_BATCH];
};

struct gc_run {
	enrp_store *st;
	struct gc_batch *b;
	struct enrp_gc_result *res;
	uint64_t eir_freed, eir_bytes; /* of the EIR being collected */
	uint64_t next_progress;
	enrp_gc_progress_fn *progress;
	void *arg;
	const _Atomic bool *stop;
};

/* Marks KEEP each chunk of the batch that the index names. */
static int lookup_fn(enrp_txn *t, void *arg)
{
	struct gc_batch *b = arg;
	for (size_t i = 0; i < b->n; i++) {
		if (b->keep[i])
			continue;
		struct chunk_rec c;
		int rc = chunk_lookup(t, b->eir_id, b->digest[i], &c);
		if (rc == 0)
			b->keep[i] = true;
		else if (rc != -ENOENT)
			return rc;
	}
	return 0;
}

static int collect_batch(struct gc_run *g)
{
	struct gc_batch *b = g->b;
	memset(b->keep, 0, sizeof(b->keep));
	memset(b->doomed, 0, sizeof(b->doomed));
	int rc = enrp_store_read(g->st, lookup_fn, b);
	bool any = false;
	for (size_t i = 0; rc == 0 && i < b->n; i++) {
		if (b->keep[i])
			continue;
		b->doomed[i] = chunk_doom(g->st, b->eir_id, b->digest[i]);
		if (!b->doomed[i]) {
			b->keep[i] = true;
			g->res->chunks_busy++;
		}
		any |= b->doomed[i];
	}
	if (rc == 0 && any)
		rc = enrp_store_read(g->st, lookup_fn, b);
	if (rc == 0 && any)
		rc = store_read_committed(g->st, lookup_fn, b);
	for (size_t i = 0; i < b->n; i++) {
		if (!b->doomed[i])
			continue;
		if (rc == 0 && !b->keep[i]) {
			int drc = chunk_delete(g->st, b->eir_id, b->digest[i]);
			if (drc == 0) {
				g->res->chunks_freed++;
				g->res->bytes_freed += b->bytes[i];
				g->eir_freed++;
				g->eir_bytes += b->bytes[i];
			} else {
				rc = drc;
			}
		}
		chunk_undoom(g->st, b->eir_id, b->digest[i]);
	}
	g->res->chunks += b->n;
	b->n = 0;
	if (g->progress && g->res->chunks >= g->next_progress) {
		g->progress(g->res, g->arg);
		g->next_progress = g->res->chunks + GC_PROGRESS_EVERY;
	}
	return rc;
}

static int listed_fn(const uint8_t digest[32], uint64_t bytes, void *arg)
{
	struct gc_run *g = arg;
	if (g->stop && atomic_load(g->stop))
		return -ECANCELED;
	memcpy(g->b->digest[g->b->n], digest, 32);
	g->b->bytes[g->b->n] = bytes;
	if (++g->b->n == GC_BATCH)
		return collect_batch(g);
	return 0;
}

struct eir_ids {
	uint32_t *id;
	char (*name)[ENRP_EIR_NAME_MAX + 1];
	size_t n, cap;
	const char *only;
};

static int eir_fn(const struct enrp_eir *e, void *arg)
{
	struct eir_ids *l = arg;
	if (l->only && strcmp(l->only, e->name) != 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		uint32_t *id = realloc(l->id, cap * sizeof(*id));
		if (!id)
			return -ENOMEM;
		l->id = id;
		char(*name)[ENRP_EIR_NAME_MAX + 1] = realloc(l->name, cap * sizeof(*name));
		if (!name)
			return -ENOMEM;
		l->name = name;
		l->cap = cap;
	}
	l->id[l->n] = e->id;
	snprintf(l->name[l->n], sizeof(l->name[l->n]), "%s", e->name);
	l->n++;
	return 0;
}

int enrp_gc_run(enrp_store *st, const char *eir, const struct enrp_actor *actor,
                enrp_gc_progress_fn *progress, void *arg, const _Atomic bool *stop,
                struct enrp_gc_result *out)
{
	memset(out, 0, sizeof(*out));
	struct eir_ids ids = { .only = eir };
	int rc = enrp_eir_list(st, eir_fn, &ids);
	if (rc == 0 && eir && ids.n == 0)
		rc = -ENOENT;
	/* What the daemon unreferenced a moment ago is in its open group; a
	 * commit makes it durable, so this run can free it. */
	if (rc == 0)
		rc = enrp_store_sync(st);
	struct gc_run g = { .st = st, .res = out, .progress = progress, .arg = arg, .stop = stop };
	if (rc == 0 && !(g.b = calloc(1, sizeof(*g.b))))
		rc = -ENOMEM;
	out->eirs_total = (uint32_t)ids.n;
	for (size_t i = 0; rc == 0 && i < ids.n; i++) {
		g.b->eir_id = ids.id[i];
		g.b->n = 0;
		g.eir_freed = g.eir_bytes = 0;
		rc = chunk_list(st, ids.id[i], listed_fn, &g);
		if (rc == 0 && g.b->n)
			rc = collect_batch(&g);
		if (g.eir_freed) {
			char details[128] = "";
			enrp_details_add(details, sizeof(details), "chunks_freed", "%llu",
			                 (unsigned long long)g.eir_freed);
			enrp_details_add(details, sizeof(details), "bytes_freed", "%llu",
			                 (unsigned long long)g.eir_bytes);
			if (rc)
				enrp_details_add(details, sizeof(details), "interrupted", "1");
			int jrc = enrp_journal_append(st, actor, ids.name[i], "gc", "%s", details);
			if (rc == 0)
				rc = jrc;
		}
		if (rc == 0)
			out->eirs++;
	}
	if (progress)
		progress(out, arg);
	free(g.b);
	free(ids.id);
	free(ids.name);
	return rc;
}

/* ---- the daemon's background run ---- */

struct enrp_gc {
	enrp_store *st;
	struct enrp_actor actor;
	pthread_mutex_t lock;
	pthread_t thread;
	bool started, running, joinable; /* protected by lock */
	int rc;                          /* protected by lock */
	struct enrp_gc_result res;       /* protected by lock */
	_Atomic bool stop;
};

int enrp_gc_new(enrp_store *st, const struct enrp_actor *actor, enrp_gc **out)
{
	enrp_gc *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->st = st;
	g->actor = *actor;
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return 0;
}

static void bg_progress(const struct enrp_gc_result *sofar, void *arg)
{
	enrp_gc *g = arg;
	pthread_mutex_lock(&g->lock);
	g->res = *sofar;
	pthread_mutex_unlock(&g->lock);
}

static void *bg_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-gc");
	enrp_gc *g = arg;
	struct enrp_gc_result r;
	int rc = enrp_gc_run(g->st, NULL, &g->actor, bg_progress, g, &g->stop, &r);
	if (rc && rc != -ECANCELED)
		enrp_log(ENRP_LOG_ERR, "garbage collection failed: %s", enrp_strerror(rc));
	pthread_mutex_lock(&g->lock);
	g->res = r;
	g->rc = rc;
	g->running = false;
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int enrp_gc_start(enrp_gc *g)
{
	int rc = 0;
	pthread_mutex_lock(&g->lock);
	if (!g->running) {
		if (g->joinable)
			pthread_join(g->thread, NULL);
		g->joinable = false;
		memset(&g->res, 0, sizeof(g->res));
		g->rc = 0;
		g->running = true;
		rc = -pthread_create(&g->thread, NULL, bg_main, g);
		if (rc == 0) {
			g->started = true;
			g->joinable = true;
		} else {
			g->running = false;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

void enrp_gc_status(enrp_gc *g, bool *started, bool *running, int *rc,
                    struct enrp_gc_result *out)
{
	pthread_mutex_lock(&g->lock);
	*started = g->started;
	*running = g->running;
	*rc = g->rc;
	*out = g->res;
	pthread_mutex_unlock(&g->lock);
}

void enrp_gc_free(enrp_gc *g)
{
	if (!g)
		return;
	atomic_store(&g->stop, true);
	pthread_mutex_lock(&g->lock);
	bool join = g->joinable;
	pthread_mutex_unlock(&g->lock);
	if (join)
		pthread_join(g->thread, NULL);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static int disk_fn(const uint8_t digest[32], uint64_t bytes, void *arg)
{
	struct enrp_gc_disk *d = arg;
	(void)digest;
	d->chunks++;
	d->bytes += bytes;
	return 0;
}

int enrp_gc_disk(enrp_store *st, uint32_t eir_id, struct enrp_gc_disk *out)
{
	*out = (struct enrp_gc_disk){ 0 };
	int rc = chunk_list(st, eir_id, disk_fn, out);
	return rc == -ENOENT ? 0 : rc; /* no directory yet: nothing stored */
}
