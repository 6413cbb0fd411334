/*
 * lifecycle.c — mount, unmount, recovery and key file records (see
 * include/enrp/lifecycle.h).
 *
 * The mark.  DBI_META "mounted" holds the pid (be32) and the mount time
 * (be64, ns) of the daemon serving the store; it is put in the transaction
 * that appends "mount" and deleted in the one that appends "unmount", so
 * the mark and the records commit or vanish together.  A daemon killed
 * between the two leaves the mark, and the next mount reads it: a crash.
 * A crash before the "mount" commit leaves no mark: that daemon never
 * served, and its recovery is the next one's.  An unmount record that a
 * crash loses (it is durable only at the final sync) reads as a crash at
 * the next mount, which is what it was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/lifecycle.h>
#include <enrp/units.h>

#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"

#define META_MOUNTED "mounted"
#define MARK_LEN 12

struct mount_args {
	const struct enrp_actor *actor;
	const char *store, *mountpoint, *options, *keyfile;
	const struct enrp_recovery *r;
};

static uint64_t queued_files(enrp_txn *t)
{
	MDB_stat ms;
	return mdb_stat(t->txn, store_dbi(t, DBI_QUEUE), &ms) == 0 ? ms.ms_entries : 0;
}

static int mount_fn(enrp_txn *t, void *arg)
{
	struct mount_args *a = arg;
	char d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	MDB_val v;
	int rc = txn_get(t, DBI_META, META_MOUNTED, strlen(META_MOUNTED), &v);
	if (rc && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		/* The daemon before never unmounted: say what this start found. */
		uint32_t pid = 0;
		int64_t since = 0;
		if (v.mv_size == MARK_LEN) {
			pid = be32_get(v.mv_data);
			since = (int64_t)be64_get((const uint8_t *)v.mv_data + 4);
		}
		char when[64];
		enrp_time_format(since, when, sizeof(when));
		enrp_details_add(d, sizeof(d), "previous_pid", "%" PRIu32, pid);
		enrp_details_add(d, sizeof(d), "previous_since", "%s", when);
		enrp_details_add(d, sizeof(d), "orphans_freed", "%" PRIu64, a->r ? a->r->orphans_freed : 0);
		enrp_details_add(d, sizeof(d), "spools_removed", "%" PRIu64,
		                 a->r ? a->r->spools_removed : 0);
		enrp_details_add(d, sizeof(d), "rewrites_restored", "%" PRIu64,
		                 store_recovered(t->st, STORE_RECOVERED_REWRITES));
		enrp_details_add(d, sizeof(d), "requeued", "%" PRIu64,
		                 store_recovered(t->st, STORE_RECOVERED_REQUEUED));
		enrp_details_add(d, sizeof(d), "chunk_tmp_removed", "%" PRIu64,
		                 store_recovered(t->st, STORE_RECOVERED_CHUNK_TMP));
		enrp_details_add(d, sizeof(d), "sizes_recovered", "%" PRIu64,
		                 store_recovered(t->st, STORE_RECOVERED_SIZES));
		enrp_details_add(d, sizeof(d), "pending", "%" PRIu64, queued_files(t));
		if ((rc = journal_append_txn(t, a->actor, "", "recovery", d)))
			return rc;
	}
	d[0] = '\0';
	enrp_details_add(d, sizeof(d), "store", "%s", a->store);
	enrp_details_add(d, sizeof(d), "mountpoint", "%s", a->mountpoint);
	enrp_details_add(d, sizeof(d), "options", "%s", a->options ? a->options : "");
	enrp_details_add(d, sizeof(d), "pid", "%" PRIu32, a->actor->pid);
	if ((rc = journal_append_txn(t, a->actor, "", "mount", d)))
		return rc;
	if (a->keyfile) {
		d[0] = '\0';
		enrp_details_add(d, sizeof(d), "path", "%s", a->keyfile);
		enrp_details_add(d, sizeof(d), "store", "%s", a->store);
		enrp_details_add(d, sizeof(d), "pid", "%" PRIu32, a->actor->pid);
		if ((rc = journal_append_txn(t, a->actor, "", "keyfile-use", d)))
			return rc;
	}
	uint8_t mark[MARK_LEN];
	be32_put(mark, a->actor->pid);
	be64_put(mark + 4, (uint64_t)enrp_now_ns());
	return txn_put(t, DBI_META, META_MOUNTED, strlen(META_MOUNTED), mark, sizeof(mark), 0);
}

int enrp_lifecycle_mount(enrp_store *st, const struct enrp_actor *actor, const char *store,
                         const char *mountpoint, const char *options, const char *keyfile,
                         const struct enrp_recovery *r)
{
	struct mount_args a = { actor, store, mountpoint, options, keyfile, r };
	return enrp_store_write(st, mount_fn, &a);
}

static int unmount_fn(enrp_txn *t, void *arg)
{
	struct mount_args *a = arg;
	char d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	enrp_details_add(d, sizeof(d), "store", "%s", a->store);
	enrp_details_add(d, sizeof(d), "mountpoint", "%s", a->mountpoint);
	enrp_details_add(d, sizeof(d), "pid", "%" PRIu32, a->actor->pid);
	enrp_details_add(d, sizeof(d), "clean", "yes");
	int rc = journal_append_txn(t, a->actor, "", "unmount", d);
	if (rc == 0)
		rc = txn_del(t, DBI_META, META_MOUNTED, strlen(META_MOUNTED));
	return rc == -ENOENT ? 0 : rc;
}

int enrp_lifecycle_unmount(enrp_store *st, const struct enrp_actor *actor, const char *store,
                           const char *mountpoint)
{
	struct mount_args a = { actor, store, mountpoint, NULL, NULL, NULL };
	return enrp_store_write(st, unmount_fn, &a);
}
