/*
 * base.c — the base of a rewritten sealed file (see base_int.h).
 *
 * Why keys and not a bitmap value: a 1 TB file has millions of chunks, and
 * a write touches one or two; a key per copied chunk costs a put per copy
 * and nothing for the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/spool.h>

#include "base_int.h"
#include "chunk_int.h"
#include "ns_int.h"
#include "record_int.h"
#include "spool_int.h"

#define KEY_LIMIT 'L'
#define KEY_CHUNK 'C'

static size_t key_limit(uint8_t *buf, uint64_t ino)
{
	be64_put(buf, ino);
	buf[8] = KEY_LIMIT;
	return 9;
}

static size_t key_chunk_of(uint8_t *buf, uint64_t ino, uint32_t index)
{
	be64_put(buf, ino);
	buf[8] = KEY_CHUNK;
	be32_put(buf + 9, index);
	return 13;
}

int base_get_txn(enrp_txn *t, uint64_t ino, bool *based, uint64_t *limit)
{
	uint8_t k[9];
	MDB_val v;
	*based = false;
	*limit = 0;
	int rc = txn_get(t, DBI_BASE, k, key_limit(k, ino), &v);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size != 8)
		return -EIO;
	*based = true;
	*limit = be64_get(v.mv_data);
	return 0;
}

/* Every change of a base changes what a crash may leave of the file beyond
 * its size (store_int.h, txn_inode_changed). */
static int limit_put(enrp_txn *t, uint64_t ino, uint64_t limit)
{
	uint8_t k[9], v[8];
	txn_inode_changed(t, ino);
	be64_put(v, limit);
	return txn_put(t, DBI_BASE, k, key_limit(k, ino), v, sizeof(v), 0);
}

int base_begin_txn(enrp_txn *t, uint64_t ino, uint64_t limit)
{
	return limit_put(t, ino, limit);
}

int base_cut_txn(enrp_txn *t, uint32_t eir_id, uint64_t ino, uint64_t size)
{
	bool based;
	uint64_t limit;
	int rc = base_get_txn(t, ino, &based, &limit);
	if (rc || !based || size >= limit)
		return rc;
	if (size == 0)
		return base_end_txn(t, eir_id, ino, true);
	return limit_put(t, ino, size);
}

int base_mark_txn(enrp_txn *t, uint64_t ino, uint32_t index)
{
	uint8_t k[13];
	txn_inode_changed(t, ino);
	return txn_put(t, DBI_BASE, k, key_chunk_of(k, ino, index), "", 0, 0);
}

int base_marked_txn(enrp_txn *t, uint64_t ino, uint32_t index, bool *marked)
{
	uint8_t k[13];
	MDB_val v;
	int rc = txn_get(t, DBI_BASE, k, key_chunk_of(k, ino, index), &v);
	*marked = rc == 0;
	return rc == -ENOENT ? 0 : rc;
}

int base_marks_txn(enrp_txn *t, uint64_t ino, bool *found, uint32_t *first, uint32_t *last)
{
	uint8_t k0[13];
	MDB_cursor *cur;
	*found = false;
	int rc = txn_cursor(t, DBI_BASE, &cur);
	if (rc)
		return rc;
	/* The first mark at or after index 0; the last before index 2^32-1's
	 * successor, i.e. the key before the first one past every mark. */
	MDB_val k = { key_chunk_of(k0, ino, 0), k0 }, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (mrc == 0 && k.mv_size == 13 && memcmp(k.mv_data, k0, 9) == 0) {
		*found = true;
		*first = *last = be32_get((const uint8_t *)k.mv_data + 9);
		uint8_t past[9];
		be64_put(past, ino);
		past[8] = KEY_CHUNK + 1;
		k = (MDB_val){ sizeof(past), past };
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		mrc = mrc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
		               : mrc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST) : mrc;
		if (mrc == 0 && k.mv_size == 13 && memcmp(k.mv_data, k0, 9) == 0)
			*last = be32_get((const uint8_t *)k.mv_data + 9);
	}
	mdb_cursor_close(cur);
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : store_mdb_err(mrc);
}

int base_end_txn(enrp_txn *t, uint32_t eir_id, uint64_t ino, bool release)
{
	bool based;
	uint64_t limit;
	int rc = base_get_txn(t, ino, &based, &limit);
	if (rc || !based)
		return rc;
	if ((rc = base_drop_txn(t, ino)))
		return rc;
	return release ? extent_release(t, eir_id, ino) : 0;
}

int base_drop_txn(enrp_txn *t, uint64_t ino)
{
	int rc;
	txn_inode_changed(t, ino);
	uint8_t pre[8];
	be64_put(pre, ino);
	/* Deleting while walking: a cursor per round, until none is left. */
	for (;;) {
		MDB_cursor *cur;
		if ((rc = txn_cursor(t, DBI_BASE, &cur)))
			return rc;
		MDB_val k = { sizeof(pre), pre }, v;
		int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		bool found = mrc == 0 && k.mv_size > 8 && memcmp(k.mv_data, pre, 8) == 0;
		uint8_t key[16];
		size_t klen = found && k.mv_size <= sizeof(key) ? k.mv_size : 0;
		if (klen)
			memcpy(key, k.mv_data, klen);
		mdb_cursor_close(cur);
		if (mrc && mrc != MDB_NOTFOUND)
			return store_mdb_err(mrc);
		if (!found)
			break;
		if (!klen)
			return -EIO;
		if ((rc = txn_del(t, DBI_BASE, key, klen)))
			return rc;
	}
	return 0;
}

/* ---- mount-time recovery ---- */

static int list_based_fn(enrp_txn *t, void *arg)
{
	struct ino_list *l = arg;
	MDB_cursor *cur;
	int rc = txn_cursor(t, DBI_BASE, &cur);
	if (rc)
		return rc;
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; mrc == 0 && rc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (k.mv_size == 9 && ((const uint8_t *)k.mv_data)[8] == KEY_LIMIT)
			rc = ino_list_push(l, be64_get(k.mv_data));
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND ? 0 : store_mdb_err(mrc);
}

struct lost_spool {
	uint64_t ino, size;
	bool based;
};

static int lost_spool_size_fn(enrp_txn *t, void *arg)
{
	struct lost_spool *a = arg;
	struct inode_rec r;
	uint64_t limit;
	int rc = base_get_txn(t, a->ino, &a->based, &limit);
	if (rc || !a->based)
		return rc;
	if ((rc = ns_inode_get(t, a->ino, &r)))
		return rc;
	a->based = r.content == ENRP_CONTENT_SPOOL;
	a->size = r.size;
	return 0;
}

/* Drops the marks of A's inode, keeping its limit. */
static int unmark_fn(enrp_txn *t, void *arg)
{
	struct lost_spool *a = arg;
	bool based;
	uint64_t limit;
	int rc = base_get_txn(t, a->ino, &based, &limit);
	if (rc || !based)
		return rc;
	if ((rc = base_drop_txn(t, a->ino)))
		return rc;
	return limit_put(t, a->ino, limit);
}

int base_recover_spools(enrp_store *st, uint64_t *restored)
{
	struct ino_list l = { 0 };
	*restored = 0;
	int rc = enrp_store_read(st, list_based_fn, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		char name[SPOOL_NAME_LEN + 1];
		struct stat sb;
		spool_name(name, l.v[i]);
		if (fstatat(store_spool_dirfd(st), name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (errno != ENOENT) {
			rc = -errno;
			break;
		}
		struct lost_spool a = { .ino = l.v[i] };
		if ((rc = enrp_store_read(st, lost_spool_size_fn, &a)) || !a.based)
			continue; /* fsck's to report: a base record of no rewrite */
		int fd = enrp_spool_open(st, a.ino, 1);
		if (fd < 0) {
			rc = fd;
			break;
		}
		rc = ftruncate(fd, (off_t)a.size) < 0 ? -errno : 0;
		if (rc == 0)
			rc = enrp_spool_sync(st, a.ino, fd);
		close(fd);
		if (rc == 0)
			rc = enrp_store_write(st, unmark_fn, &a);
		if (rc == 0)
			(*restored)++;
	}
	free(l.v);
	return rc;
}
