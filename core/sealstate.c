/*
 * sealstate.c — SHA-256 states saved along a seal (see sealstate_int.h).
 *
 * Why in memory and not in the store: a state is OpenSSL's context, which
 * has no stable serialised form, and what it saves (a reseal's time) is
 * worth nothing after a restart that a whole reseal does not also give.
 * Why a few per file and not one per chunk: a rewrite resumes from the last
 * state before its change, so a state every 1/TRAIL_MAX of the file bounds
 * what is hashed again to that much more than the change needs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sealstate_int.h"

#define TRAIL_STEP ((uint64_t)4 << 20) /* the first spacing of kept states */
#define TRAIL_MAX 64                     /* states kept per file, at most */

static void ent_free(struct seal_trail_ent *e)
{
	enrp_sha256_free(e->sha);
	e->sha = NULL;
}

/* Halves the trail: every other state goes, the spacing doubles. */
static void thin(struct seal_trail *t)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (i % 2 == 0 && i + 1 < t->n)
			ent_free(&t->v[i]);
		else
			t->v[k++] = t->v[i];
	}
	t->n = k;
	t->step *= 2;
}

int seal_trail_add(struct seal_trail *t, uint64_t pos, const enrp_sha256 *sha, bool force)
{
	if (!t->step)
		t->step = TRAIL_STEP;
	uint64_t last = t->n ? t->v[t->n - 1].pos : 0;
	if (pos == 0 || (t->n && pos <= last) || (!force && pos - last < t->step))
		return 0;
	if (t->n == TRAIL_MAX)
		thin(t);
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 8;
		struct seal_trail_ent *nv = realloc(t->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		t->v = nv;
		t->cap = ncap;
	}
	struct seal_trail_ent *e = &t->v[t->n];
	int rc = enrp_sha256_dup(sha, &e->sha);
	if (rc)
		return rc;
	e->pos = pos;
	memset(e->digest, 0, 32);
	t->n++;
	return 0;
}

void seal_trail_free(struct seal_trail *t)
{
	for (size_t i = 0; i < t->n; i++)
		ent_free(&t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- the cache ---- */

struct file_states {
	uint64_t ino, size;
	size_t n;             /* entries of the list the trail was taken along */
	uint64_t used;        /* the cache's clock when last put or used */
	struct seal_trail trail;
};

struct seal_states {
	pthread_mutex_t lock;
	struct file_states *f;
	size_t n, max;
	uint64_t clock;
};

int seal_states_new(size_t max_files, struct seal_states **out)
{
	struct seal_states *c = calloc(1, sizeof(*c));
	if (!c || !(c->f = calloc(max_files ? max_files : 1, sizeof(*c->f)))) {
		free(c);
		return -ENOMEM;
	}
	c->max = max_files ? max_files : 1;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void seal_states_free(struct seal_states *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		seal_trail_free(&c->f[i].trail);
	pthread_mutex_destroy(&c->lock);
	free(c->f);
	free(c);
}

static struct file_states *find(struct seal_states *c, uint64_t ino)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->f[i].ino == ino)
			return &c->f[i];
	return NULL;
}

/* Gives each state of T the digest of V's data chunk ending at it, and
 * drops those at no such end.  The size V covers. */
static uint64_t resolve(struct seal_trail *t, const struct extent_ent *v, size_t n)
{
	uint64_t off = 0;
	size_t i = 0, k = 0;
	for (size_t s = 0; s < t->n; s++) {
		struct seal_trail_ent *e = &t->v[s];
		for (; i < n && off < e->pos; i++)
			off += extent_len(&v[i]);
		if (off == e->pos && i > 0 && v[i - 1].plain_len) {
			memcpy(e->digest, v[i - 1].digest, 32);
			t->v[k++] = *e;
		} else {
			ent_free(e);
		}
	}
	t->n = k;
	for (; i < n; i++)
		off += extent_len(&v[i]);
	return off;
}

void seal_states_put(struct seal_states *c, uint64_t ino, const struct extent_ent *v, size_t n,
                     struct seal_trail *t)
{
	uint64_t size = resolve(t, v, n);
	pthread_mutex_lock(&c->lock);
	struct file_states *f = find(c, ino);
	if (!f && c->n < c->max) {
		f = &c->f[c->n++];
	} else if (!f) {
		f = &c->f[0]; /* the least recently used goes */
		for (size_t i = 1; i < c->n; i++)
			if (c->f[i].used < f->used)
				f = &c->f[i];
	}
	if (f->trail.v)
		seal_trail_free(&f->trail);
	f->ino = ino;
	f->size = size;
	f->n = n;
	f->used = ++c->clock;
	f->trail = *t;
	memset(t, 0, sizeof(*t));
	pthread_mutex_unlock(&c->lock);
}

bool seal_states_resume(struct seal_states *c, uint64_t ino, const struct extent_ent *v,
                        const uint64_t *offs, size_t n, uint64_t unchanged, enrp_sha256 *sha,
                        uint64_t *pos, size_t *idx, struct seal_trail *into)
{
	bool found = false;
	pthread_mutex_lock(&c->lock);
	struct file_states *f = find(c, ino);
	if (!f || f->size != offs[n] || f->n != n)
		goto out;
	for (size_t k = f->trail.n; k-- > 0;) {
		const struct seal_trail_ent *e = &f->trail.v[k];
		if (e->pos > unchanged)
			continue;
		size_t i = extent_boundary(offs, n, e->pos);
		if (i == 0 || i > n || !v[i - 1].plain_len || memcmp(v[i - 1].digest, e->digest, 32))
			continue;
		if (enrp_sha256_copy(sha, e->sha))
			break;
		/* The new trail starts with the states it resumes from. */
		for (size_t m = 0; m <= k; m++)
			seal_trail_add(into, f->trail.v[m].pos, f->trail.v[m].sha, true);
		*pos = e->pos;
		*idx = i;
		f->used = ++c->clock;
		found = true;
		break;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return found;
}
