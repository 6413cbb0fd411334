/*
 * handle.c — lifetime of open handles (files, directories, .enrp files).
 *
 * The kernel may send RELEASE while the daemon is still serving a READ on
 * the same handle in another thread: a read killed by a fatal signal is
 * abandoned by the kernel (the process exits and closes the file) while its
 * request is in our hands.  Freeing at release would then let the read use a
 * freed buffer or, worse, a closed descriptor number that another open has
 * since reused — another file's bytes.  So every op holds a reference while
 * it uses a handle, release only drops the open's reference and queues the
 * handle, and the reaper destroys it once nothing holds it and a grace
 * period has passed (covering an op that received the request but has not
 * yet taken its reference).
 *
 * What a handle holds besides its memory (an open file's descriptor) goes
 * earlier, as soon as it is released and no op uses it: a file server
 * opening 9,000 files a second would otherwise keep 18,000 descriptors
 * through the grace period, and the daemon's limit (20,000 here) was hit.
 * An op that takes its reference after the release finds the handle
 * released (handle_get returns NULL) and touches nothing: the release marks
 * it before dropping the open's reference, and whoever drops the last
 * reference after that lets go of what it holds, once.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "fs.h"

#define HANDLE_GRACE_NS 2000000000LL

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void handle_init(struct handle *h, void (*let_go)(struct handle *h),
                 void (*destroy)(struct handle *h))
{
	atomic_init(&h->refs, 1);
	atomic_init(&h->released, false);
	atomic_init(&h->let_go_state, LET_GO_NOT_YET);
	h->let_go = let_go;
	h->destroy = destroy;
	h->released_at = 0;
	h->next_dead = NULL;
	h->live_next = NULL;
	h->live_pprev = NULL;
}

static void let_go_once(struct handle *h)
{
	int not_yet = LET_GO_NOT_YET;
	if (!h->let_go || !atomic_compare_exchange_strong(&h->let_go_state, &not_yet, LET_GO_RUNNING))
		return;
	h->let_go(h);
	atomic_store(&h->let_go_state, LET_GO_DONE);
}

/* The orders below are sequentially consistent (the default), and must be:
 * either a late op's load sees RELEASED, or the release's decrement sees
 * that op's reference and leaves the letting go to its put. */
struct handle *handle_get(fuse_req_t req, const struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	atomic_fetch_add(&h->refs, 1);
	if (atomic_load(&h->released)) {
		handle_put(h);
		fuse_reply_err(req, EBADF);
		return NULL;
	}
	return h;
}

void handle_put(struct handle *h)
{
	if (atomic_fetch_sub(&h->refs, 1) == 1 && atomic_load(&h->released))
		let_go_once(h);
}

static void unlive_locked(struct handle *h)
{
	if (!h->live_pprev)
		return;
	*h->live_pprev = h->live_next;
	if (h->live_next)
		h->live_next->live_pprev = h->live_pprev;
	h->live_next = NULL;
	h->live_pprev = NULL;
}

void handle_live(struct fs *fs, struct handle *h)
{
	pthread_mutex_lock(&fs->dead_lock);
	h->live_next = fs->live;
	if (fs->live)
		fs->live->live_pprev = &h->live_next;
	fs->live = h;
	h->live_pprev = &fs->live;
	pthread_mutex_unlock(&fs->dead_lock);
}

void handle_unlive(struct fs *fs, struct handle *h)
{
	pthread_mutex_lock(&fs->dead_lock);
	unlive_locked(h);
	pthread_mutex_unlock(&fs->dead_lock);
}

void handle_release(struct fs *fs, const struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	pthread_mutex_lock(&fs->dead_lock);
	unlive_locked(h);
	h->released_at = mono_ns();
	h->next_dead = NULL;
	*(fs->dead_tail ? fs->dead_tail : &fs->dead) = h;
	fs->dead_tail = &h->next_dead;
	pthread_mutex_unlock(&fs->dead_lock);
	atomic_store(&h->released, true);
	handle_put(h);
}

void handles_reap(struct fs *fs, bool all)
{
	int64_t now = mono_ns();
	struct handle *doomed = NULL;
	pthread_mutex_lock(&fs->dead_lock);
	struct handle **pp = &fs->dead;
	/* Released in the order of the list: the walk ends at the first one
	 * still in its grace period, instead of passing, ten times a second,
	 * every handle of the last two seconds (thousands under a file
	 * server's load, with this lock held against every open and close). */
	while (*pp) {
		struct handle *h = *pp;
		if (!all && now - h->released_at < HANDLE_GRACE_NS)
			break;
		/* A put that let go of what it holds may still be at it. */
		if (all || (atomic_load(&h->refs) == 0 &&
		            atomic_load(&h->let_go_state) != LET_GO_RUNNING)) {
			*pp = h->next_dead;
			h->next_dead = doomed;
			doomed = h;
		} else {
			pp = &h->next_dead;
		}
	}
	if (!*pp)
		fs->dead_tail = pp;
	/* An unmount right after a close can end the session before the
	 * kernel's RELEASE of that file is served: at exit those go too. */
	while (all && fs->live) {
		struct handle *h = fs->live;
		unlive_locked(h);
		h->next_dead = doomed;
		doomed = h;
	}
	pthread_mutex_unlock(&fs->dead_lock);
	while (doomed) {
		struct handle *next = doomed->next_dead;
		doomed->destroy(doomed);
		doomed = next;
	}
}
