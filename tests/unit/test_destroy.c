/*
 * test_destroy.c — destroying an EIR on a real encrypted store, without
 * FUSE (core/destroy.c): each blocker refuses with -EBUSY and its count and
 * date (not retired, files=DAYS, lock, snapshot, hold) and changes nothing;
 * a destruction at a later NOW shreds the key (no vault can get it back:
 * -EKEYREVOKED, from the cached vault after enrp_vault_forget and from a
 * new one; no new key is made), deletes the chunk files and every key of
 * the EIR in the store, keeps the registry entry and the form, writes the
 * record and one eir-destroyed journal record; another EIR reads back;
 * fsck is clean; a second destroy is -EALREADY.  A process killed right
 * after the first step (fault point ENRP_TEST_DESTROY_STOP=begun, in a
 * child) leaves the EIR destroyed with an unfinished record and its chunk
 * files, and enrp_destroy_resume() finishes it.  Key shares: a new EIR's
 * key is version 2 with its share beside the key file; after destruction
 * the share file is gone and the old wrapped blob opens with the master key
 * only together with the old share (control), never without it.  A
 * version 1 key (a store made before shares) still seals and reads, and
 * its destruction says no share was destroyed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <enrp/destroy.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/fsck.h>
#include <enrp/hold.h>
#include <enrp/ingest.h>
#include <enrp/journal.h>
#include <enrp/keys.h>
#include <enrp/ns.h>
#include <enrp/reader.h>
#include <enrp/retention.h>
#include <enrp/snapshot.h>
#include <enrp/spool.h>
#include <enrp/store.h>
#include <enrp/vault.h>

#include "record_int.h"
#include "store_int.h"
#include "vault_int.h"

#include "../tap.h"
#include "journal_last.h"

#define IDLE_MS 20000
#define NS_PER_DAY (86400LL * 1000000000LL)

static const char *tmp;
static char store_path[512], key_path[512];
static struct enrp_actor actor;
static const struct enrp_caller user = { .uid = 1000, .gid = 1000, .pid = 4242 };

static void bail(const char *what, int rc)
{
	printf("Bail out! %s: %s\n", what, strerror(-rc));
	exit(1);
}

struct fx {
	enrp_store *st;
	enrp_vault *v;
	enrp_ingest *ing;
};

static void fx_open(struct fx *x)
{
	struct enrp_ingest_config cfg = { .workers = 1 };
	int rc = enrp_store_open(store_path, 0, &x->st);
	if (rc == 0)
		rc = enrp_vault_open(x->st, NULL, &x->v);
	if (rc == 0)
		rc = enrp_ingest_open(x->st, x->v, &cfg, &x->ing);
	if (rc)
		bail("fixture", rc);
}

static void fx_close(struct fx *x)
{
	enrp_ingest_close(x->ing);
	enrp_vault_close(x->v);
	enrp_store_close(x->st);
}

static struct enrp_eir mk_eir(struct fx *x, const char *name)
{
	struct enrp_eir spec, e;
	enrp_eir_defaults(&spec, name);
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	int rc = enrp_eir_create(x->st, &spec, &actor, &e);
	if (rc)
		bail("eir create", rc);
	return e;
}

static uint8_t *bytes_of(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n);
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; p && i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = (uint8_t)s;
	}
	if (!p)
		bail("malloc", -ENOMEM);
	return p;
}

static uint64_t sealed_file(struct fx *x, uint64_t parent, const char *name, const uint8_t *p,
                            size_t n)
{
	struct enrp_stat s;
	int rc = enrp_ns_mknod(x->st, &user, parent, name, S_IFREG | 0640, 0, NULL, &s);
	if (rc)
		bail("mknod", rc);
	int fd = enrp_spool_open(x->st, s.st.st_ino, 1);
	if (fd < 0 || pwrite(fd, p, n, 0) != (ssize_t)n)
		bail("spool write", fd < 0 ? fd : -EIO);
	close(fd);
	if ((rc = enrp_ns_write_done(x->st, s.st.st_ino, n, NULL)))
		bail("write_done", rc);
	enrp_ingest_enqueue(x->ing, s.st.st_ino);
	if ((rc = enrp_ingest_wait_idle(x->ing, IDLE_MS)))
		bail("seal", rc);
	return s.st.st_ino;
}

static bool reads_back(struct fx *x, uint64_t ino, const uint8_t *want, size_t n)
{
	enrp_reader *r;
	if (enrp_reader_open(x->ing, ino, &r))
		return false;
	uint8_t *buf = malloc(n + 1);
	ssize_t got = enrp_reader_read(r, buf, n + 1, 0);
	bool same = got == (ssize_t)n && memcmp(buf, want, n) == 0;
	free(buf);
	enrp_reader_close(r);
	return same;
}

static bool chunk_dir_exists(uint32_t id)
{
	char p[600];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/chunks/%u", store_path, (unsigned)id);
	return stat(p, &sb) == 0;
}

/* Keys of any database under the EIR's id prefix (4 bytes), except the
 * registry's own (DBI_EIR) and the settings kept (form, destroy). */
struct left_args {
	uint32_t id;
	uint64_t n;
};

static int left_fn(enrp_txn *t, void *arg)
{
	struct left_args *a = arg;
	enum store_dbi dbs[] = { DBI_CHUNK, DBI_USAGE, DBI_KEYS, DBI_HOLD, DBI_RESTORE, DBI_TRASH,
	                         DBI_SNAPSHOT, DBI_PRESERVED, DBI_POLICY };
	uint8_t pfx[4];
	be32_put(pfx, a->id);
	a->n = 0;
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_cursor *cur;
		MDB_val k = { 4, pfx }, v;
		if (txn_cursor(t, dbs[i], &cur))
			continue;
		int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (mrc == 0 && k.mv_size >= 4 && !memcmp(k.mv_data, pfx, 4)) {
			bool kept = dbs[i] == DBI_POLICY &&
			            ((k.mv_size == 8 && !memcmp((char *)k.mv_data + 4, "form", 4)) ||
			             (k.mv_size == 11 && !memcmp((char *)k.mv_data + 4, "destroy", 7)));
			if (!kept)
				a->n++;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
	}
	return 0;
}

static uint64_t keys_left(enrp_store *st, uint32_t id)
{
	struct left_args a = { id, 0 };
	enrp_store_read(st, left_fn, &a);
	return a.n;
}

struct blob_args {
	uint32_t id;
	uint8_t *out;
	size_t len;
};

static int blob_fn(enrp_txn *t, void *arg)
{
	struct blob_args *a = arg;
	uint8_t k[4];
	MDB_val v;
	be32_put(k, a->id);
	int rc = txn_get(t, DBI_KEYS, k, 4, &v);
	if (rc == 0 && v.mv_size <= ENRP_WRAPPED_KEY_V2_LEN) {
		memcpy(a->out, v.mv_data, v.mv_size);
		a->len = v.mv_size;
	}
	return rc;
}

static void blockers_and_destroy(void)
{
	struct fx x;
	struct enrp_destroy_blockers b;
	struct enrp_destruction d;
	fx_open(&x);
	struct enrp_eir gone = mk_eir(&x, "gone"), keep = mk_eir(&x, "keep");
	uint8_t *p = bytes_of(600000, 1), *q = bytes_of(200000, 2);
	sealed_file(&x, gone.root_ino, "a", p, 600000);
	uint64_t kino = sealed_file(&x, keep.root_ino, "k", q, 200000);
	struct enrp_retention ret = { .files_days = 1 };
	is_int(enrp_retention_set(x.st, "gone", &ret, &actor), 0, "files=1");
	is_int(enrp_hold_lock_set(x.st, "gone", 3, &actor), 0, "lock 3 days");
	struct enrp_snapshot snap;
	is_int(enrp_snapshot_create(x.st, "gone", "s1", &actor, &snap), 0, "snapshot");
	const struct enrp_eir_key *key;
	is_int(enrp_vault_eir_key(x.v, gone.id, &key), 0, "gone has a data key");
	ok(chunk_dir_exists(gone.id), "gone has chunk files");
	int64_t now = enrp_now_ns();
	/* What an old copy of the store and of the key directory would hold. */
	uint8_t blob[ENRP_WRAPPED_KEY_V2_LEN], share[ENRP_EIR_SHARE_LEN];
	struct blob_args ba = { gone.id, blob, 0 };
	enrp_store_read(x.st, blob_fn, &ba);
	is_int((int)ba.len, ENRP_WRAPPED_KEY_V2_LEN, "a new EIR's key is version 2 (needs its share)");
	is_int(vault_share_get(key_path, gone.id, false, share), 0, "its share is beside the key file");

	int rc = enrp_eir_destroy(x.st, "gone", now, "r", &actor, &actor, &b, &d);
	is_int(rc, -EBUSY, "a normal EIR: -EBUSY");
	ok(b.not_retired && b.state == ENRP_STATE_NORMAL, "blocker: not retired");
	is_int(enrp_eir_destroy(x.st, "gone", now, "", &actor, &actor, &b, &d), -EINVAL,
	       "empty reason: -EINVAL");
	is_int(enrp_eir_destroy(x.st, "nosuch", now, "r", &actor, &actor, &b, &d), -ENOENT,
	       "no such EIR: -ENOENT");
	is_int(enrp_eir_retire(x.st, "gone", "end", &actor), 0, "retire");

	rc = enrp_destroy_check(x.st, "gone", now, &b);
	is_int(rc, -EBUSY, "retired, retention running: -EBUSY");
	ok(!b.not_retired, "retired is no blocker");
	is_int((int)b.retained_files, 1, "one file under files=1");
	ok(b.retained_until > now + NS_PER_DAY - 60 * 1000000000LL &&
	   b.retained_until <= now + NS_PER_DAY, "its retention ends a day after its seal");
	is_int((int)b.locked_files, 1, "one file under the lock");
	ok(b.locked_until > now + 2 * NS_PER_DAY, "the lock ends three days after the seal");
	is_int((int)b.kept_snapshots, 1, "the snapshot is kept for files=1");

	rc = enrp_destroy_check(x.st, "gone", now + 2 * NS_PER_DAY, &b);
	is_int(rc, -EBUSY, "day 2: the lock still runs");
	ok(b.retained_files == 0 && b.kept_snapshots == 0 && b.locked_files == 1,
	   "day 2: only the lock");
	is_int(enrp_hold_add(x.st, "gone", "a", now + 10 * NS_PER_DAY, "order", false, &actor,
	                     NULL), 0, "hold for 10 days");
	rc = enrp_destroy_check(x.st, "gone", now + 4 * NS_PER_DAY, &b);
	is_int(rc, -EBUSY, "day 4: the hold runs");
	ok(b.holds == 1 && b.holds_until == now + 10 * NS_PER_DAY && b.locked_files == 0,
	   "day 4: only the hold, with its date");
	uint64_t j0 = journal_last_of(x.st).n;
	rc = enrp_eir_destroy(x.st, "gone", now + 4 * NS_PER_DAY, "r", &actor, &actor, &b, &d);
	is_int(rc, -EBUSY, "destroy at day 4: -EBUSY");
	struct enrp_eir e;
	enrp_eir_get(x.st, "gone", &e);
	ok(e.state == ENRP_STATE_RETIRED && keys_left(x.st, gone.id) > 0 &&
	   journal_last_of(x.st).n == j0, "a refusal changes and journals nothing");

	rc = enrp_eir_destroy(x.st, "gone", now + 11 * NS_PER_DAY, "over", &actor, &actor, &b, &d);
	is_int(rc, 0, "day 11: destroyed");
	ok(d.finished && d.shredded && d.encrypted && d.files == 1 && d.snapshots == 1 &&
	   d.holds == 1 && d.chunk_files_deleted > 0 && !strcmp(d.reason, "over"),
	   "the record: what, how, why");
	ok(d.started == now + 11 * NS_PER_DAY, "the record: when (the NOW given)");
	enrp_eir_get(x.st, "gone", &e);
	is_int((int)e.state, ENRP_STATE_DESTROYED, "state destroyed; the registry entry stays");
	ok(!chunk_dir_exists(gone.id), "its chunk files are gone");
	ok(d.share_destroyed, "the record: share destroyed");
	uint8_t share2[ENRP_EIR_SHARE_LEN];
	is_int(vault_share_get(key_path, gone.id, false, share2), -ENOENT, "its share file is gone");
	enrp_master *m;
	struct enrp_eir_key ek;
	is_int(enrp_master_load(key_path, &m), 0, "the master key still loads");
	is_int(enrp_master_unwrap_eir_key_v2(m, gone.id, share, blob, &ek), 0,
	       "control: the old blob opens with the master key AND the old share");
	enrp_eir_key_wipe(&ek);
	memset(share2, 0, sizeof(share2));
	is_int(enrp_master_unwrap_eir_key_v2(m, gone.id, share2, blob, &ek), -EKEYREJECTED,
	       "without the share the old blob does not open, master key or not");
	share2[0] = 1;
	is_int(enrp_master_unwrap_eir_key_v2(m, keep.id, share, blob, &ek), -EKEYREJECTED,
	       "nor as another EIR's");
	enrp_master_free(m);
	is_int((int)keys_left(x.st, gone.id), 0, "no key of the EIR left in any database");
	struct enrp_stat s;
	is_int(enrp_ns_lookup(x.st, ENRP_ROOT_INO, "gone", &s), -ENOENT, "its name left the root");
	static struct last jl;
	jl = journal_last_of(x.st);
	const struct enrp_journal_record jr = jl.rec;
	ok(!strcmp(jr.event, "eir-destroyed") &&
	   !strcmp(jr.eir, "gone") && strstr(jr.details, "key_shredded=yes"),
	   "journalled as eir-destroyed");
	struct enrp_destruction d2;
	ok(enrp_destroy_record(x.st, gone.id, &d2) == 0 && d2.finished &&
	   d2.finished_at >= d2.started && !strcmp(d2.eir, "gone"), "enrp_destroy_record");
	is_int(enrp_destroy_record(x.st, keep.id, &d2), -ENOENT, "no record for a live EIR");
	is_int(enrp_eir_destroy(x.st, "gone", now + 11 * NS_PER_DAY, "again", &actor, &actor, &b,
	                        &d), -EALREADY, "a second destroy: -EALREADY");

	/* The key: the cached copy is wiped on forget, and nothing makes a new one. */
	enrp_vault_forget(x.v, gone.id);
	is_int(enrp_vault_eir_key(x.v, gone.id, &key), -EKEYREVOKED, "forgotten key: -EKEYREVOKED");
	enrp_vault *v2;
	is_int(enrp_vault_open(x.st, NULL, &v2), 0, "a new vault");
	is_int(enrp_vault_eir_key(v2, gone.id, &key), -EKEYREVOKED, "new vault: -EKEYREVOKED");
	enrp_vault_close(v2);
	is_int((int)keys_left(x.st, gone.id), 0, "and no key was made again");

	ok(reads_back(&x, kino, q, 200000), "the other EIR reads back");
	struct enrp_fsck_result fr;
	is_int(enrp_fsck(x.st, 0, &actor, NULL, NULL, &fr), 0, "fsck runs");
	is_int((int)fr.problems, 0, "fsck: no problem");
	free(p);
	free(q);
	fx_close(&x);
}

static void crash_and_resume(void)
{
	struct fx x;
	fx_open(&x);
	struct enrp_eir c = mk_eir(&x, "crash");
	uint8_t *p = bytes_of(300000, 3);
	sealed_file(&x, c.root_ino, "a", p, 300000);
	free(p);
	is_int(enrp_eir_retire(x.st, "crash", "end", &actor), 0, "retire crash");
	fx_close(&x);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		enrp_store *st;
		struct enrp_destroy_blockers b;
		if (enrp_store_open(store_path, 0, &st))
			_exit(2);
		setenv("ENRP_TEST_DESTROY_STOP", "begun", 1);
		enrp_eir_destroy(st, "crash", enrp_now_ns(), "drill", &actor, &actor, &b, NULL);
		_exit(3); /* not reached when the fault point fires */
	}
	int status;
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child died at the fault point");

	fx_open(&x);
	struct enrp_eir e;
	struct enrp_destruction d;
	enrp_eir_get(x.st, "crash", &e);
	is_int((int)e.state, ENRP_STATE_DESTROYED, "after the crash: destroyed (nothing looks alive)");
	ok(enrp_destroy_record(x.st, c.id, &d) == 0 && !d.finished && d.shredded,
	   "record unfinished, key shredded");
	ok(chunk_dir_exists(c.id), "its chunk files are still there");
	const struct enrp_eir_key *key;
	is_int(enrp_vault_eir_key(x.v, c.id, &key), -EKEYREVOKED, "no key for it");
	unsigned done;
	is_int(enrp_destroy_resume(x.st, &actor, &done), 0, "resume");
	is_int((int)done, 1, "one destruction finished");
	ok(!chunk_dir_exists(c.id) && keys_left(x.st, c.id) == 0, "everything of it is gone");
	ok(enrp_destroy_record(x.st, c.id, &d) == 0 && d.finished, "record finished");
	is_int(enrp_destroy_resume(x.st, &actor, &done), 0, "resume again");
	is_int((int)done, 0, "nothing left to finish");
	fx_close(&x);
}

/* A store made before key shares holds 60-byte version 1 blobs: they still
 * open with the master key alone, and destroying such an EIR shreds its key
 * but has no share to destroy (and says so). */
struct v1_args {
	uint32_t id;
	uint8_t wrapped[ENRP_WRAPPED_KEY_LEN];
};

static int put_v1_fn(enrp_txn *t, void *arg)
{
	struct v1_args *a = arg;
	uint8_t k[4];
	be32_put(k, a->id);
	return txn_put(t, DBI_KEYS, k, 4, a->wrapped, sizeof(a->wrapped), 0);
}

static void version1_keys(void)
{
	struct fx x;
	fx_open(&x);
	struct enrp_eir e = mk_eir(&x, "v1");
	enrp_master *m;
	struct enrp_eir_key ek;
	struct v1_args a = { .id = e.id };
	is_int(enrp_master_load(key_path, &m), 0, "master key");
	is_int(enrp_master_new_eir_key(m, e.id, a.wrapped, &ek), 0, "a version 1 key");
	enrp_eir_key_wipe(&ek);
	enrp_master_free(m);
	is_int(enrp_store_write(x.st, put_v1_fn, &a), 0, "stored as an old store has it");
	uint8_t *p = bytes_of(100000, 4);
	uint64_t ino = sealed_file(&x, e.root_ino, "a", p, 100000);
	ok(reads_back(&x, ino, p, 100000), "a version 1 key seals and reads (no share needed)");
	uint8_t share[ENRP_EIR_SHARE_LEN];
	is_int(vault_share_get(key_path, e.id, false, share), -ENOENT, "and no share was made");
	free(p);
	is_int(enrp_eir_retire(x.st, "v1", "end", &actor), 0, "retire v1");
	struct enrp_destruction d;
	is_int(enrp_eir_destroy(x.st, "v1", enrp_now_ns(), "old", &actor, &actor, NULL, &d), 0,
	       "destroy v1");
	ok(d.shredded && !d.share_destroyed, "record: key shredded, no share to destroy");
	fx_close(&x);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_destroy");
	snprintf(store_path, sizeof(store_path), "%s/store", tmp);
	snprintf(key_path, sizeof(key_path), "%s/master.key", tmp);
	enrp_store *st;
	int rc = enrp_store_create(store_path);
	if (rc == 0)
		rc = enrp_store_open(store_path, 0, &st);
	if (rc == 0) {
		rc = enrp_vault_init(st, key_path);
		enrp_store_close(st);
	}
	if (rc)
		bail("encrypted store", rc);
	blockers_and_destroy();
	crash_and_resume();
	version1_keys();
	tap_rmrf(tmp);
	return done_testing();
}
