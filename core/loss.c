/*
 * loss.c — aggregated records of lost verified data (see include/enrp/loss.h).
 *
 * Design.  One open record per (EIR, kind), in a small array under
 * losses.lock: the daemon loses files in bursts (an rm -rf, an rsync
 * --delete) of one or two EIRs at a time, so a linear search is enough and
 * the array stays short (records are dropped once written).  note() only
 * counts and copies what it is given; the paths and the caller are found
 * by the caller of note() beforehand, and only while enrp_losses_want()
 * asks for them, so a removal of a million files costs a million counter
 * increments and ten path walks.  flush() takes the due records out under
 * the lock and writes them unlocked, in one write; a failed write puts them
 * back whole (counts added to whatever came meanwhile).
 *
 * A crash loses the counts not yet written, as it loses the denial counts:
 * the trash entries (written with the changes themselves) still hold every
 * lost file, and trash-add still counts them.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/codec.h>
#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/loss.h>

#include "eir_int.h"
#include "journal_int.h"
#include "store_int.h"

static const char *const events[ENRP_LOSS_KIND_COUNT] = {
	[ENRP_LOSS_REMOVED] = "file-removed",
	[ENRP_LOSS_REPLACED] = "file-replaced",
	[ENRP_LOSS_TRUNCATED] = "file-truncated",
};

const char *enrp_loss_event(enum enrp_loss_kind kind)
{
	return (unsigned)kind < ENRP_LOSS_KIND_COUNT ? events[kind] : "?";
}

struct loss {
	uint32_t eir_id;
	enum enrp_loss_kind kind;
	uint64_t count, bytes;
	int64_t first_at, last_at;  /* ns, of the first and latest note */
	struct enrp_actor who;
	bool has_who, others;
	uint32_t first_pid;
	uint64_t first_size;
	uint8_t first_sha[32];
	char how[16];
	char *path[ENRP_LOSS_PATHS]; /* owned; the first NPATHS are set */
	unsigned npaths;
};

struct enrp_losses {
	enrp_store *st;
	pthread_mutex_t lock;
	struct loss *v;      /* protected by lock */
	size_t n, cap;       /* protected by lock */
};

int enrp_losses_new(enrp_store *st, enrp_losses **out)
{
	enrp_losses *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	int rc = -pthread_mutex_init(&l->lock, NULL);
	if (rc) {
		free(l);
		return rc;
	}
	l->st = st;
	*out = l;
	return 0;
}

static void loss_release(struct loss *x)
{
	for (unsigned i = 0; i < x->npaths; i++)
		free(x->path[i]);
	x->npaths = 0;
}

void enrp_losses_free(enrp_losses *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		loss_release(&l->v[i]);
	free(l->v);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static struct loss *find(enrp_losses *l, uint32_t eir_id, enum enrp_loss_kind kind)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].eir_id == eir_id && l->v[i].kind == kind)
			return &l->v[i];
	return NULL;
}

unsigned enrp_losses_want(enrp_losses *l, uint32_t eir_id, enum enrp_loss_kind kind)
{
	pthread_mutex_lock(&l->lock);
	struct loss *x = find(l, eir_id, kind);
	unsigned want = !x ? ENRP_LOSS_WANT_ACTOR | ENRP_LOSS_WANT_PATH
	              : x->npaths < ENRP_LOSS_PATHS ? ENRP_LOSS_WANT_PATH : 0;
	pthread_mutex_unlock(&l->lock);
	return want;
}

void enrp_losses_note(enrp_losses *l, enum enrp_loss_kind kind, const struct enrp_stat *victim,
                      uint32_t pid, const struct enrp_actor *who, const char *path,
                      const char *how)
{
	int64_t now = enrp_now_ns();
	char *copy = path ? strdup(path) : NULL; /* no allocation under the lock */

	pthread_mutex_lock(&l->lock);
	struct loss *x = find(l, victim->eir_id, kind);
	if (!x && l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct loss *v = realloc(l->v, cap * sizeof(*v));
		if (v) {
			l->v = v;
			l->cap = cap;
		}
	}
	if (!x && l->n < l->cap) {
		x = &l->v[l->n++];
		memset(x, 0, sizeof(*x));
		x->eir_id = victim->eir_id;
		x->kind = kind;
		x->first_at = now;
		x->first_pid = pid;
		x->first_size = (uint64_t)victim->st.st_size;
		memcpy(x->first_sha, victim->sha256, 32);
		snprintf(x->how, sizeof(x->how), "%s", how ? how : "");
		if (who) {
			x->who = *who;
			x->has_who = true;
		}
	}
	if (x) {
		x->count++;
		x->bytes += (uint64_t)victim->st.st_size;
		x->last_at = now;
		if (pid != x->first_pid)
			x->others = true;
		if (copy && x->npaths < ENRP_LOSS_PATHS) {
			x->path[x->npaths++] = copy;
			copy = NULL;
		}
	} else {
		enrp_log(ENRP_LOG_ERR, "out of memory: the loss of inode %llu is not journalled",
		         (unsigned long long)victim->st.st_ino);
	}
	pthread_mutex_unlock(&l->lock);
	free(copy);
}

struct flush_ctx {
	const struct enrp_actor *daemon;
	const struct loss *due;
	size_t n;
};

static void loss_details(const struct loss *x, char *d, size_t size)
{
	char hex[65];
	d[0] = '\0';
	enrp_hex(x->first_sha, 32, hex);
	enrp_details_add(d, size, "count", "%" PRIu64, x->count);
	enrp_details_add(d, size, "bytes", "%" PRIu64, x->bytes);
	if (x->how[0])
		enrp_details_add(d, size, "how", "%s", x->how);
	if (x->others)
		enrp_details_add(d, size, "others", "yes");
	if (x->npaths)
		enrp_details_add(d, size, "path", "%s", x->path[0]);
	else
		enrp_details_add(d, size, "path_unknown", "yes");
	enrp_details_add(d, size, "size", "%" PRIu64, x->first_size);
	enrp_details_add(d, size, "sha256", "%s", hex);
	/* Further paths only while they fit whole: a cut one would mislead. */
	unsigned listed = x->npaths ? 1 : 0;
	for (unsigned i = 1; i < x->npaths; i++) {
		char key[16];
		size_t len = strlen(d);
		snprintf(key, sizeof(key), "path%u", i + 1);
		if (!enrp_details_add(d, size, key, "%s", x->path[i])) {
			d[len] = '\0';
			break;
		}
		listed++;
	}
	if (x->count > 1)
		enrp_details_add(d, size, "listed", "%u", listed);
}

static int flush_fn(enrp_txn *t, void *arg)
{
	struct flush_ctx *c = arg;
	char d[ENRP_JOURNAL_DETAILS_MAX + 1];
	for (size_t i = 0; i < c->n; i++) {
		const struct loss *x = &c->due[i];
		struct enrp_eir e;
		int rc = eir_get_txn(t, x->eir_id, &e);
		if (rc == -ENOENT) {
			snprintf(e.name, sizeof(e.name), "%s", "");
			rc = 0;
		}
		if (rc)
			return rc;
		loss_details(x, d, sizeof(d));
		rc = journal_append_txn(t, x->has_who ? &x->who : c->daemon, e.name,
		                        events[x->kind], d);
		if (rc)
			return rc;
	}
	return 0;
}

static bool due(const struct loss *x, int64_t now, bool all)
{
	return all || now - x->last_at >= ENRP_LOSS_QUIET_NS || now - x->first_at >= ENRP_LOSS_SPAN_NS;
}

int enrp_losses_flush(enrp_losses *l, const struct enrp_actor *daemon, int64_t now, bool all)
{
	struct loss *out;
	size_t n = 0, keep = 0;
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	out = malloc((l->n ? l->n : 1) * sizeof(*out));
	if (!out) {
		pthread_mutex_unlock(&l->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (due(&l->v[i], now, all))
			out[n++] = l->v[i];
		else
			l->v[keep++] = l->v[i];
	}
	l->n = keep;
	pthread_mutex_unlock(&l->lock);

	/* The write runs unlocked: removing threads never wait on LMDB. */
	if (n) {
		struct flush_ctx c = { daemon, out, n };
		rc = enrp_store_write(l->st, flush_fn, &c);
	}
	if (rc) {
		/* Back as they were, folded into any record begun meanwhile. */
		pthread_mutex_lock(&l->lock);
		for (size_t i = 0; i < n; i++) {
			struct loss *x = find(l, out[i].eir_id, out[i].kind);
			if (x) {
				x->count += out[i].count;
				x->bytes += out[i].bytes;
				loss_release(&out[i]);
			} else if (l->n < l->cap) {
				l->v[l->n++] = out[i];
			} else {
				loss_release(&out[i]);
			}
		}
		pthread_mutex_unlock(&l->lock);
	} else {
		for (size_t i = 0; i < n; i++)
			loss_release(&out[i]);
	}
	free(out);
	return rc;
}
