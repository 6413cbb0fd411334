/*
 * path.c — the path of an inode relative to its EIR (see include/enrp/path.h).
 *
 * Design.  Directories record their parent, so a path is walked up from a
 * directory; what a walk needs is each directory's name in its parent and,
 * for a file, one name pointing at it.  Names come from a direct-mapped
 * table of hints (ino -> parent + name) that the namespace fills whenever an
 * inode gets a name or is looked up by one; the kernel looks up every
 * component before it works on a file, so the hints of a live mount cover
 * whatever clients touch.  A hint is only a guess: before use it is checked
 * against DBI_DIRENT (and, for a directory, against its parent pointer) in
 * the caller's transaction, so a hint left stale by an unlink, a rename or
 * an aborted transaction is never reported.  Without a usable hint a
 * directory's name is looked for in its parent, and a file's in the whole
 * of DBI_DIRENT, each read bounded by SCAN_MAX entries: an audit record
 * must not stall the daemon on a directory of millions of entries.
 *
 * The table is process-wide, not per store: every hint is checked against
 * the store it is used with, so one that belongs to another store is
 * merely a miss.  protected by hints_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <enrp/details.h>
#include <enrp/ns.h>
#include <enrp/path.h>

#include "ns_int.h"
#include "path_int.h"
#include "record_int.h"

/* Power of two.  Slots hold a pointer to the name, so an idle table costs
 * 1.5 MiB; a transfer keeps the names of its files until they are sealed
 * unless it has tens of thousands waiting. */
#define HINT_SLOTS 65536
#define DEPTH_MAX 2048

struct hint {
	uint64_t ino; /* 0: empty */
	uint64_t parent;
	char *name;   /* owned */
};

static pthread_mutex_t hints_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hint hints[HINT_SLOTS]; /* protected by hints_lock */

static size_t slot_of(uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 48) & (HINT_SLOTS - 1);
}

void path_hint(uint64_t ino, uint64_t parent, const char *name)
{
	if (!ino || !name || !name[0] || strlen(name) > ENRP_NAME_MAX)
		return;
	struct hint *h = &hints[slot_of(ino)];
	/* Every lookup passes here: a name already remembered (the usual case,
	 * a file reached again) costs a compare, not an allocation. */
	pthread_mutex_lock(&hints_lock);
	bool same = h->ino == ino && h->parent == parent && h->name && !strcmp(h->name, name);
	pthread_mutex_unlock(&hints_lock);
	if (same)
		return;
	char *copy = strdup(name), *old;
	if (!copy)
		return; /* a hint is only a hint */
	pthread_mutex_lock(&hints_lock);
	old = h->name;
	h->ino = ino;
	h->parent = parent;
	h->name = copy;
	pthread_mutex_unlock(&hints_lock);
	free(old);
}

static bool hint_get(uint64_t ino, uint64_t *parent, char name[ENRP_NAME_MAX + 1])
{
	const struct hint *h = &hints[slot_of(ino)];
	bool hit;
	pthread_mutex_lock(&hints_lock);
	hit = h->ino == ino && h->name;
	if (hit) {
		*parent = h->parent;
		strcpy(name, h->name);
	}
	pthread_mutex_unlock(&hints_lock);
	return hit;
}

/* Does entry NAME of PARENT name INO? */
static bool entry_names(enrp_txn *t, uint64_t parent, const char *name, uint64_t ino)
{
	uint8_t key[8 + ENRP_NAME_MAX];
	MDB_val v;
	uint64_t got;
	uint32_t type;
	size_t klen = key_dirent(key, parent, name);
	return txn_get(t, DBI_DIRENT, key, klen, &v) == 0 &&
	       rec_dirent_decode(v.mv_data, v.mv_size, &got, &type) == 0 && got == ino;
}

struct find {
	uint64_t ino;
	char *name;
	size_t left;  /* entries still to read */
};

static int find_cb(enrp_txn *t, const char *name, size_t len, uint64_t ino, uint32_t type,
                   void *arg)
{
	struct find *f = arg;
	(void)t;
	(void)type;
	if (ino == f->ino && len <= ENRP_NAME_MAX) {
		memcpy(f->name, name, len);
		f->name[len] = '\0';
		return 1;
	}
	return --f->left == 0 ? -ENOENT : 0;
}

/* A name of INO in directory DIR, read from DIR's entries. */
static int name_in_dir(enrp_txn *t, uint64_t dir, uint64_t ino, char name[ENRP_NAME_MAX + 1],
                       size_t scan_max)
{
	struct find f = { ino, name, scan_max };
	if (scan_max == 0)
		return -ENOENT;
	int rc = ns_dir_scan(t, dir, "", 0, find_cb, &f);
	return rc == 1 ? 0 : rc ? rc : -ENOENT;
}

/* Some entry naming file INO, from anywhere in DBI_DIRENT: the first in
 * key order, that is the lowest directory, then the lowest name. */
static int name_anywhere(enrp_txn *t, uint64_t ino, uint64_t *parent,
                         char name[ENRP_NAME_MAX + 1], size_t scan_max)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_DIRENT, &cur);
	if (rc)
		return rc;
	rc = -ENOENT;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (size_t n = 0; mrc == 0 && n < scan_max; n++) {
		uint64_t got;
		uint32_t type;
		if (k.mv_size > 8 && k.mv_size <= 8 + ENRP_NAME_MAX &&
		    rec_dirent_decode(v.mv_data, v.mv_size, &got, &type) == 0 && got == ino) {
			*parent = be64_get(k.mv_data);
			memcpy(name, (const char *)k.mv_data + 8, k.mv_size - 8);
			name[k.mv_size - 8] = '\0';
			rc = 0;
			break;
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc;
}

/* Puts NAME (and a '/' after it when SLASH) in front of *POS in BUF. */
static int prepend(char *buf, size_t *pos, const char *name, bool slash)
{
	size_t n = strlen(name), total = n + (slash ? 1 : 0);
	if (total > *pos)
		return -ENAMETOOLONG;
	*pos -= total;
	memcpy(buf + *pos, name, n);
	if (slash)
		buf[*pos + n] = '/';
	return 0;
}

int path_of_txn(enrp_txn *t, uint64_t dir, const char *name, uint64_t ino, char *buf,
                size_t size, size_t scan_max)
{
	char out[ENRP_PATH_MAX + 1], part[ENRP_NAME_MAX + 1];
	size_t pos = sizeof(out) - 1;
	struct inode_rec r;
	int rc;

	out[pos] = '\0';
	if (dir == 0 && ns_inode_get(t, ino, &r) == 0 && S_ISDIR(r.mode)) {
		dir = ino; /* a directory knows its parent */
		name = NULL;
	} else if (dir == 0) {
		/* A file known by its inode: one of its names first. */
		uint64_t parent;
		if (!(hint_get(ino, &parent, part) && entry_names(t, parent, part, ino)) &&
		    (rc = name_anywhere(t, ino, &parent, part, scan_max)))
			return rc;
		dir = parent;
		name = part;
	}
	if (name && name[0] && (rc = prepend(out, &pos, name, false)))
		return rc;
	for (int depth = 0;; depth++) {
		if (depth > DEPTH_MAX || dir == ENRP_ROOT_INO)
			return -ENOENT; /* not inside an EIR */
		if ((rc = ns_inode_get(t, dir, &r)))
			return rc;
		if (!S_ISDIR(r.mode) || r.nlink == 0)
			return -ENOENT;
		if (r.parent == ENRP_ROOT_INO)
			break; /* DIR is the EIR's directory */
		uint64_t hparent;
		if (!(hint_get(dir, &hparent, part) && hparent == r.parent &&
		      entry_names(t, r.parent, part, dir)) &&
		    (rc = name_in_dir(t, r.parent, dir, part, scan_max)))
			return rc;
		bool slash = pos < sizeof(out) - 1;
		if ((rc = prepend(out, &pos, part, slash)))
			return rc;
		dir = r.parent;
	}
	if (strlen(out + pos) >= size)
		return -ENAMETOOLONG;
	memcpy(buf, out + pos, sizeof(out) - pos);
	return 0;
}

void path_details_add(enrp_txn *t, uint64_t ino, char *details, size_t size, size_t scan_max)
{
	char path[ENRP_PATH_MAX + 1];
	if (path_of_txn(t, 0, NULL, ino, path, sizeof(path), scan_max) == 0)
		enrp_details_add(details, size, "path", "%s", path);
	else
		enrp_details_add(details, size, "path_unknown", "yes");
}

struct path_args {
	uint64_t dir, ino;
	const char *name;
	char *buf;
	size_t size;
};

static int path_fn(enrp_txn *t, void *arg)
{
	struct path_args *a = arg;
	return path_of_txn(t, a->dir, a->name, a->ino, a->buf, a->size, PATH_SCAN_MAX);
}

int enrp_path_of(enrp_store *st, uint64_t dir, const char *name, uint64_t ino, char *buf,
                 size_t size)
{
	struct path_args a = { dir, ino, name, buf, size };
	return enrp_store_read(st, path_fn, &a);
}
