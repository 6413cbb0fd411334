/*
 * inode.c — the kernel's lookup counts and open handles per inode.
 *
 * Only inodes the kernel holds are here (DESIGN §3: the kernel's lookup count
 * decides what stays in memory; nothing is cached per inode beyond this small
 * record).  An unlinked inode stays an orphan in core until its count is 0
 * and no handle is open; then it is freed (STYLE rule 22).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <enrp/enrp.h>

#include "fs.h"

static size_t bucket_of(const struct node_table *t, uint64_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 20) & (t->nbuckets - 1);
}

int nodes_init(struct node_table *t)
{
	t->nbuckets = 1 << 16;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void nodes_release(struct node_table *t)
{
	for (size_t i = 0; t->buckets && i < t->nbuckets; i++) {
		struct node *n = t->buckets[i];
		while (n) {
			struct node *next = n->next;
			free(n);
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	pthread_mutex_destroy(&t->lock);
}

/* Doubles the table when chains grow long; called with the lock held. */
static void grow(struct node_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct node **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	size_t old = t->nbuckets;
	struct node **ob = t->buckets;
	t->buckets = b;
	t->nbuckets = nb;
	for (size_t i = 0; i < old; i++) {
		struct node *n = ob[i];
		while (n) {
			struct node *next = n->next;
			size_t k = bucket_of(t, n->ino);
			n->next = b[k];
			b[k] = n;
			n = next;
		}
	}
	free(ob);
}

static struct node **find(struct node_table *t, uint64_t ino)
{
	struct node **pp = &t->buckets[bucket_of(t, ino)];
	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->next;
	return pp;
}

static struct node *get_or_add(struct node_table *t, uint64_t ino, uint32_t eir_id)
{
	struct node **pp = find(t, ino);
	if (*pp)
		return *pp;
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->ino = ino;
	n->eir_id = eir_id;
	n->session_uid = ENRP_NO_UID;
	*pp = n;
	if (++t->count > t->nbuckets * 2)
		grow(t);
	return n;
}

/* Drops NODE when nothing holds it; returns true if the caller must tell
 * core (which frees the inode only if it is an orphan). */
static bool drop_if_unused(struct node_table *t, uint64_t ino)
{
	struct node **pp = find(t, ino);
	struct node *n = *pp;
	if (!n || n->nlookup || n->nopen)
		return false;
	*pp = n->next;
	free(n);
	t->count--;
	return true;
}

/* Nothing holds INO any more: core frees it if it is an orphan.  If that
 * fails (a full disk, a metadata group without room) the orphan is owed,
 * freed by nodes_free_owed once writing works, not only at the next mount
 * (a read-only store frees nothing and owes nothing). */
static void let_go(struct fs *fs, uint64_t ino)
{
	int rc = enrp_ns_forget(fs->st, ino);
	if (rc && rc != -EROFS) {
		atomic_store(&fs->nodes.owed, true);
		enrp_log(ENRP_LOG_DEBUG, "unlinked inode %llu not freed yet: %s",
		         (unsigned long long)ino, enrp_strerror(rc));
	}
}

static bool node_held(uint64_t ino, void *arg)
{
	struct fs *fs = arg;
	pthread_mutex_lock(&fs->nodes.lock);
	bool held = *find(&fs->nodes, ino) != NULL;
	pthread_mutex_unlock(&fs->nodes.lock);
	return held;
}

void nodes_free_owed(struct fs *fs)
{
	if (!atomic_exchange(&fs->nodes.owed, false))
		return;
	uint64_t freed = 0;
	int rc = enrp_ns_free_unheld_orphans(fs->st, node_held, fs, &freed);
	if (rc && rc != -EROFS)
		atomic_store(&fs->nodes.owed, true); /* the next tick tries again */
	if (freed)
		enrp_log(ENRP_LOG_NOTICE, "freed %llu unlinked inodes whose freeing had failed",
		         (unsigned long long)freed);
}

void node_ref(struct fs *fs, uint64_t ino, uint32_t eir_id)
{
	if (ino == ENRP_ROOT_INO || hidden_ino(ino))
		return;
	pthread_mutex_lock(&fs->nodes.lock);
	struct node *n = get_or_add(&fs->nodes, ino, eir_id);
	if (n)
		n->nlookup++;
	pthread_mutex_unlock(&fs->nodes.lock);
}

void node_forget(struct fs *fs, uint64_t ino, uint64_t count)
{
	if (ino == ENRP_ROOT_INO || hidden_ino(ino))
		return;
	pthread_mutex_lock(&fs->nodes.lock);
	struct node *n = *find(&fs->nodes, ino);
	bool gone = false;
	if (n) {
		n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
		gone = drop_if_unused(&fs->nodes, ino);
	}
	pthread_mutex_unlock(&fs->nodes.lock);
	if (gone)
		let_go(fs, ino);
}

void node_release_unknown(struct fs *fs, uint64_t ino)
{
	pthread_mutex_lock(&fs->nodes.lock);
	bool known = *find(&fs->nodes, ino) != NULL;
	pthread_mutex_unlock(&fs->nodes.lock);
	/* The kernel and the handles hold nothing of it: nothing will ever
	 * forget it, so an orphan is freed now (a name of it no longer
	 * exists, so no lookup can start to hold it). */
	if (!known)
		let_go(fs, ino);
}

bool node_open(struct fs *fs, uint64_t ino, uint32_t eir_id, bool writer)
{
	pthread_mutex_lock(&fs->nodes.lock);
	struct node *n = get_or_add(&fs->nodes, ino, eir_id);
	/* An open that does not keep the pages drops them (the kernel does,
	 * at the reply), so the mark is spent either way. */
	bool keep = !n || !n->stale_pages;
	if (n) {
		n->nopen++;
		n->nwriters += writer;
		n->stale_pages = false;
	}
	pthread_mutex_unlock(&fs->nodes.lock);
	return keep;
}

void node_close(struct fs *fs, uint64_t ino, bool writer)
{
	pthread_mutex_lock(&fs->nodes.lock);
	struct node *n = *find(&fs->nodes, ino);
	bool gone = false;
	if (n) {
		if (n->nopen)
			n->nopen--;
		if (writer && n->nwriters && --n->nwriters == 0)
			n->session_uid = ENRP_NO_UID;
		gone = drop_if_unused(&fs->nodes, ino);
	}
	pthread_mutex_unlock(&fs->nodes.lock);
	if (gone)
		let_go(fs, ino);
}

void node_session_begin(struct fs *fs, uint64_t ino, uint32_t uid)
{
	pthread_mutex_lock(&fs->nodes.lock);
	struct node *n = *find(&fs->nodes, ino);
	/* Without a writing handle there is no session to remember: the next
	 * open for writing starts from whatever the file then holds. */
	if (n && n->nwriters)
		n->session_uid = uid;
	pthread_mutex_unlock(&fs->nodes.lock);
}

bool node_session_owned(struct fs *fs, uint64_t ino, uint32_t uid)
{
	pthread_mutex_lock(&fs->nodes.lock);
	struct node *n = *find(&fs->nodes, ino);
	bool own = n && n->session_uid == uid && uid != ENRP_NO_UID;
	pthread_mutex_unlock(&fs->nodes.lock);
	return own;
}

void node_session_end(struct fs *fs, uint64_t ino)
{
	pthread_mutex_lock(&fs->nodes.lock);
	struct node *n = *find(&fs->nodes, ino);
	if (n)
		n->session_uid = ENRP_NO_UID;
	pthread_mutex_unlock(&fs->nodes.lock);
}

void node_pages_stale(struct fs *fs, uint64_t ino)
{
	pthread_mutex_lock(&fs->nodes.lock);
	struct node *n = *find(&fs->nodes, ino);
	/* No node: the kernel holds no inode, hence no pages, of INO. */
	if (n)
		n->stale_pages = true;
	pthread_mutex_unlock(&fs->nodes.lock);
}

int nodes_of_eir(struct fs *fs, uint32_t eir_id, uint64_t **inos, size_t *count)
{
	pthread_mutex_lock(&fs->nodes.lock);
	size_t cap = fs->nodes.count ? fs->nodes.count : 1, n = 0;
	uint64_t *v = malloc(cap * sizeof(*v));
	if (!v) {
		pthread_mutex_unlock(&fs->nodes.lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < fs->nodes.nbuckets; i++)
		for (struct node *nd = fs->nodes.buckets[i]; nd; nd = nd->next)
			if ((eir_id == 0 || nd->eir_id == eir_id) && n < cap)
				v[n++] = nd->ino;
	pthread_mutex_unlock(&fs->nodes.lock);
	*inos = v;
	*count = n;
	return 0;
}
