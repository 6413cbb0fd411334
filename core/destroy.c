/*
 * destroy.c — destroying a retired EIR (see include/enrp/destroy.h).
 *
 * Steps, each a transaction or a file removal, in this order:
 *
 *   1. begin: inside one write transaction, check the blockers again at the
 *      caller's NOW, set the state destroyed, delete the wrapped data key
 *      (DBI_KEYS), and store the destruction record (EIR setting
 *      "destroy", unfinished) with the counts of what is about to go.  From
 *      this commit on no process can unwrap the key (it is not in the
 *      store) nor make a new one (vault.c refuses an EIR with a record),
 *      and every filesystem operation on the EIR answers ENOENT.
 *   2. the key share beside the master key file (vault_int.h) is
 *      overwritten and unlinked; then STORE/chunks/<id>/ is removed file
 *      by file.
 *   3. metadata, in batches of BATCH keys per transaction so that no
 *      transaction grows without bound: every inode of the EIR (found by a
 *      scan of DBI_INODE) with its names, xattrs, chunk list, rewrite base,
 *      orphan and spool entries (the spool file unlinked first); its seal
 *      queue entries; every key under its id in the chunk index, usage,
 *      holds, test restores, trash, snapshots and kept versions; its
 *      settings but the registration form and the record; its name in the
 *      root directory.
 *   4. end: the record marked finished and "eir-destroyed" journalled, in
 *      one transaction.
 *
 * Steps 2-4 only remove what a destroyed EIR leaves, so running them again
 * after a crash at any instant is safe; enrp_destroy_resume() does that for
 * every unfinished record.  Nothing is ever left that looks alive: the
 * state is destroyed from step 1 on.
 *
 * What crypto-shredding guarantees (docs/design.md "Destruction"): step 1
 * removes the wrapped key from every page LMDB can reach, and step 2
 * destroys the EIR's key share (keys.h "Key shares"), the half of the
 * key-encryption key kept outside the store.  Without the share no copy of
 * the wrapped key opens — an old copy of the store, a free LMDB page —
 * even with the master key.  Keys of version 1 (made before shares) have
 * no share: an old copy of the store opens them with the master key, and
 * the record says key_share_destroyed=no.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/clock.h>
#include <enrp/destroy.h>
#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/keys.h>
#include <enrp/ns.h>
#include <enrp/retention.h>
#include <enrp/snapshot.h>
#include <enrp/units.h>
#include <enrp/vault.h>

#include "eir_int.h"
#include "hold_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "record_int.h"
#include "snapshot_int.h"
#include "spool_int.h"
#include "store_int.h"
#include "trash_int.h"
#include "vault_int.h"

#define SETTING_DESTROY "destroy"
#define SETTING_FORM "form"
#define RECORD_VERSION 1
#define NS_PER_DAY (86400LL * 1000000000LL)
#define BATCH 2000

/* ---- the record ---- */

static int record_put(enrp_txn *t, const struct enrp_destruction *d)
{
	struct rec_out o;
	rec_out_init(&o);
	rec_put_u8(&o, RECORD_VERSION);
	rec_put_u8(&o, d->finished);
	rec_put_u64(&o, (uint64_t)d->started);
	rec_put_u64(&o, (uint64_t)d->finished_at);
	rec_put_u64(&o, d->files);
	rec_put_u64(&o, d->bytes);
	rec_put_u64(&o, d->inodes);
	rec_put_u64(&o, d->chunks);
	rec_put_u64(&o, d->stored);
	rec_put_u64(&o, d->snapshots);
	rec_put_u64(&o, d->trash);
	rec_put_u64(&o, d->holds);
	rec_put_u64(&o, d->chunk_files_deleted);
	rec_put_u64(&o, d->spool_files_deleted);
	rec_put_u8(&o, d->encrypted);
	rec_put_u8(&o, d->shredded);
	rec_put_u8(&o, d->share_destroyed);
	rec_put_str(&o, d->requested_by);
	rec_put_str(&o, d->approved_by);
	rec_put_str(&o, d->reason);
	int rc = o.err ? o.err : eir_setting_put(t, d->eir_id, SETTING_DESTROY, o.buf, o.len);
	rec_out_release(&o);
	return rc;
}

/* -ENOENT: the EIR has no record. */
static int record_get(enrp_txn *t, uint32_t id, struct enrp_destruction *d)
{
	const void *v;
	size_t n;
	int rc = eir_setting_get(t, id, SETTING_DESTROY, &v, &n);
	if (rc)
		return rc;
	struct rec_in in;
	memset(d, 0, sizeof(*d));
	d->eir_id = id;
	rec_in_init(&in, v, n);
	if (rec_get_u8(&in) != RECORD_VERSION)
		return -EIO;
	d->finished = rec_get_u8(&in) != 0;
	d->started = (int64_t)rec_get_u64(&in);
	d->finished_at = (int64_t)rec_get_u64(&in);
	d->files = rec_get_u64(&in);
	d->bytes = rec_get_u64(&in);
	d->inodes = rec_get_u64(&in);
	d->chunks = rec_get_u64(&in);
	d->stored = rec_get_u64(&in);
	d->snapshots = rec_get_u64(&in);
	d->trash = rec_get_u64(&in);
	d->holds = rec_get_u64(&in);
	d->chunk_files_deleted = rec_get_u64(&in);
	d->spool_files_deleted = rec_get_u64(&in);
	d->encrypted = rec_get_u8(&in) != 0;
	d->shredded = rec_get_u8(&in) != 0;
	d->share_destroyed = rec_get_u8(&in) != 0;
	rec_get_str(&in, d->requested_by, sizeof(d->requested_by));
	rec_get_str(&in, d->approved_by, sizeof(d->approved_by));
	rec_get_str(&in, d->reason, sizeof(d->reason));
	rc = rec_in_end(&in);
	if (rc)
		return rc;
	struct enrp_eir e;
	if (eir_get_txn(t, id, &e) == 0)
		snprintf(d->eir, sizeof(d->eir), "%s", e.name);
	return 0;
}

void enrp_destroy_actor_text(const struct enrp_actor *a, char *buf, size_t size)
{
	char login[16] = "-";
	if (a->login_uid != ENRP_NO_UID)
		snprintf(login, sizeof(login), "%u", (unsigned)a->login_uid);
	snprintf(buf, size, "uid=%u login=%s sudo=%s pid=%u cmd=%s", (unsigned)a->uid, login,
	         a->sudo_user[0] ? a->sudo_user : "-", (unsigned)a->pid,
	         a->command[0] ? a->command : "-");
	/* The command may hold blanks; the record is one line of words. */
	for (char *p = strstr(buf, "cmd="); p && *p; p++)
		if (*p == ' ')
			*p = '_';
}

/* ---- blockers ---- */

static void until_max(int64_t *cur, int64_t v)
{
	if (v > *cur)
		*cur = v;
}

static int files_days_txn(enrp_txn *t, uint32_t id, uint32_t *days)
{
	const void *v;
	size_t n;
	char text[ENRP_RETENTION_SPEC_MAX + 1];
	struct enrp_retention p;
	*days = 0;
	int rc = eir_setting_get(t, id, "retention", &v, &n);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (n > ENRP_RETENTION_SPEC_MAX)
		return -EIO;
	memcpy(text, v, n);
	text[n] = '\0';
	if (enrp_retention_parse(text, &p, NULL, 0))
		return -EIO;
	*days = p.files_days;
	return 0;
}

static int lock_days_txn(enrp_txn *t, uint32_t id, uint32_t *days)
{
	const void *v;
	size_t n;
	char text[16], *end;
	*days = 0;
	int rc = eir_setting_get(t, id, "lock", &v, &n);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (n == 0 || n >= sizeof(text))
		return -EIO;
	memcpy(text, v, n);
	text[n] = '\0';
	unsigned long d = strtoul(text, &end, 10);
	if (*end)
		return -EIO;
	*days = (uint32_t)d;
	return 0;
}

/* A copy sealed at SEALED_AT under FILES and LOCK days, at NOW. */
static void copy_blocks(struct enrp_destroy_blockers *b, int64_t sealed_at, uint32_t files,
                        uint32_t lock, int64_t now)
{
	if (sealed_at <= 0)
		return;
	if (files && sealed_at + (int64_t)files * NS_PER_DAY > now) {
		b->retained_files++;
		until_max(&b->retained_until, sealed_at + (int64_t)files * NS_PER_DAY);
	}
	if (lock && sealed_at + (int64_t)lock * NS_PER_DAY > now) {
		b->locked_files++;
		until_max(&b->locked_until, sealed_at + (int64_t)lock * NS_PER_DAY);
	}
}

static bool is_blocked(const struct enrp_destroy_blockers *b)
{
	return b->not_retired || b->busy_files || b->retained_files || b->locked_files ||
	       b->kept_snapshots || b->holds;
}

/* Fills B for E at NOW, and counts into D (may be NULL) what would go. */
static int check_txn(enrp_txn *t, const struct enrp_eir *e, int64_t now,
                     struct enrp_destroy_blockers *b, struct enrp_destruction *d)
{
	uint32_t files = 0, lock = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t pfx[KEY_EIR_LEN];
	int rc, mrc;

	memset(b, 0, sizeof(*b));
	b->state = e->state;
	b->not_retired = e->state != ENRP_STATE_RETIRED;
	struct enrp_eir_files f;
	rc = eir_files_get_txn(t, e->id, &f);
	if (rc == 0) {
		b->busy_files = f.open + f.pending;
		if (d)
			d->files = f.open + f.pending + f.verified + f.corrupt;
	} else if (rc != -ENOENT) {
		return rc;
	}
	struct enrp_eir_usage u;
	if (d && eir_usage_get_txn(t, e->id, &u) == 0) {
		d->bytes = u.bytes;
		d->inodes = u.inodes;
		d->chunks = u.chunks;
		d->stored = u.stored;
	}
	if ((rc = files_days_txn(t, e->id, &files)) || (rc = lock_days_txn(t, e->id, &lock)))
		return rc;

	/* Live files: every inode of the EIR. */
	if ((rc = txn_cursor(t, DBI_INODE, &cur)))
		return rc;
	mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0) {
		struct inode_rec r;
		if (rec_inode_decode(v.mv_data, v.mv_size, &r) == 0 && r.eir_id == e->id &&
		    S_ISREG(r.mode))
			copy_blocks(b, r.sealed_at, files, lock, now);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (mrc != MDB_NOTFOUND)
		return store_mdb_err(mrc);

	be32_put(pfx, e->id);
	/* Trash copies count like live ones: retention and lock run from the seal. */
	rc = txn_cursor(t, DBI_TRASH, &cur);
	if (rc == 0) {
		k.mv_data = pfx;
		k.mv_size = sizeof(pfx);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (mrc == 0 && k.mv_size >= 4 && be32_get(k.mv_data) == e->id) {
			struct enrp_trash_entry te;
			struct extent_ent *x = NULL;
			size_t nx;
			uint32_t eid;
			if (trash_record_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &eid, &te,
			                        &x, &nx) == 0)
				copy_blocks(b, te.sealed_at, files, lock, now);
			free(x);
			if (d)
				d->trash++;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
	} else if (rc != -ENOENT) {
		return rc;
	}

	/* Snapshots: what they froze is kept files=DAYS from when they were taken. */
	rc = txn_cursor(t, DBI_SNAPSHOT, &cur);
	if (rc == 0) {
		uint8_t start[5];
		be32_put(start, e->id);
		start[4] = 'g';
		k.mv_data = start;
		k.mv_size = sizeof(start);
		uint64_t *gens = NULL;
		size_t ng = 0, cap = 0;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (mrc == 0 && k.mv_size == 13 && be32_get(k.mv_data) == e->id &&
		       ((const uint8_t *)k.mv_data)[4] == 'g') {
			if (ng == cap) {
				cap = cap ? 2 * cap : 16;
				uint64_t *ngv = realloc(gens, cap * sizeof(*gens));
				if (!ngv) {
					free(gens);
					mdb_cursor_close(cur);
					return -ENOMEM;
				}
				gens = ngv;
			}
			gens[ng++] = be64_get((const uint8_t *)k.mv_data + 5);
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
		for (size_t i = 0; i < ng; i++) {
			struct enrp_snapshot s;
			if (snap_load(t, e, gens[i], &s) != 0)
				continue;
			if (d)
				d->snapshots++;
			if (files && s.created + (int64_t)files * NS_PER_DAY > now) {
				b->kept_snapshots++;
				until_max(&b->snapshots_until, s.created + (int64_t)files * NS_PER_DAY);
			}
		}
		free(gens);
	} else if (rc != -ENOENT) {
		return rc;
	}

	/* Holds, on files and snapshots alike. */
	rc = txn_cursor(t, DBI_HOLD, &cur);
	if (rc == 0) {
		k.mv_data = pfx;
		k.mv_size = sizeof(pfx);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (mrc == 0 && k.mv_size >= 4 && be32_get(k.mv_data) == e->id) {
			int64_t until;
			if (d)
				d->holds++;
			if (hold_until_of(v.mv_data, v.mv_size, &until) != 0 || until > now) {
				/* An unreadable hold is kept: the safe side. */
				b->holds++;
				until_max(&b->holds_until, until);
			}
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
	} else if (rc != -ENOENT) {
		return rc;
	}
	return t->ret;
}

struct check_args {
	const char *name;
	int64_t now;
	struct enrp_destroy_blockers *b;
};

static int check_fn(enrp_txn *t, void *arg)
{
	struct check_args *a = arg;
	struct enrp_eir e;
	int rc = eir_get_by_name_txn(t, a->name, &e);
	if (rc)
		return rc;
	if (e.state == ENRP_STATE_DESTROYED)
		return -EALREADY;
	rc = check_txn(t, &e, a->now, a->b, NULL);
	if (rc)
		return rc;
	return is_blocked(a->b) ? -EBUSY : 0;
}

int enrp_destroy_check(enrp_store *st, const char *name, int64_t now,
                       struct enrp_destroy_blockers *b)
{
	struct check_args a = { name, now, b };
	memset(b, 0, sizeof(*b));
	return enrp_store_read(st, check_fn, &a);
}

/* ---- step 1 ---- */

struct begin_args {
	const char *name;
	int64_t now;
	const char *reason;
	const struct enrp_actor *requester, *approver;
	struct enrp_destroy_blockers *b;
	struct enrp_destruction d;
	bool resumed;          /* already destroyed, unfinished: nothing begun */
};

static int begin_fn(enrp_txn *t, void *arg)
{
	struct begin_args *a = arg;
	struct enrp_eir e;
	MDB_val v;
	uint8_t key[KEY_EIR_LEN];
	int rc = eir_get_by_name_txn(t, a->name, &e);
	if (rc)
		return rc;
	a->resumed = false;
	if (e.state == ENRP_STATE_DESTROYED) {
		rc = record_get(t, e.id, &a->d);
		if (rc == -ENOENT || (rc == 0 && a->d.finished))
			return -EALREADY;
		if (rc)
			return rc;
		a->resumed = true;
		return 0;
	}
	memset(&a->d, 0, sizeof(a->d));
	a->d.eir_id = e.id;
	snprintf(a->d.eir, sizeof(a->d.eir), "%s", e.name);
	rc = check_txn(t, &e, a->now, a->b, &a->d);
	if (rc)
		return rc;
	if (is_blocked(a->b))
		return -EBUSY;
	a->d.encrypted = txn_get(t, DBI_META, "encryption", 10, &v) == 0;
	be32_put(key, e.id);
	rc = txn_get(t, DBI_KEYS, key, sizeof(key), &v);
	if (rc == 0) {
		a->d.shredded = true;
		/* Overwrite before the delete: a page this transaction already
		 * dirtied is written in place, so the bytes do not linger there
		 * (the committed page they came from is LMDB's free list's). */
		uint8_t zero[ENRP_WRAPPED_KEY_V2_LEN];
		memset(zero, 0, sizeof(zero));
		rc = txn_put(t, DBI_KEYS, key, sizeof(key), zero,
		             v.mv_size < sizeof(zero) ? v.mv_size : sizeof(zero), 0);
		if (rc == 0)
			rc = txn_del(t, DBI_KEYS, key, sizeof(key));
	} else if (rc == -ENOENT) {
		rc = t->ret; /* an EIR that never stored a byte encrypted: nothing to shred */
	}
	if (rc)
		return rc;
	a->d.started = a->now;
	enrp_destroy_actor_text(a->requester, a->d.requested_by, sizeof(a->d.requested_by));
	enrp_destroy_actor_text(a->approver, a->d.approved_by, sizeof(a->d.approved_by));
	snprintf(a->d.reason, sizeof(a->d.reason), "%s", a->reason);
	e.state = ENRP_STATE_DESTROYED;
	snprintf(e.state_reason, sizeof(e.state_reason), "%s", a->reason);
	e.escalated_until = 0;
	e.escalation_reason[0] = '\0';
	if ((rc = eir_put_txn(t, &e)))
		return rc;
	txn_touch_eir(t, e.id);
	return record_put(t, &a->d);
}

/* ---- step 2: chunk files ---- */

/* Removes everything under directory NAME of DFD, then NAME itself;
 * counts regular files in *FILES.  0 also when NAME does not exist. */
static int remove_tree_at(int dfd, const char *name, uint64_t *files)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat sb;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT && !rc)
				rc = -errno;
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			int r = remove_tree_at(fd, de->d_name, files);
			if (r && !rc)
				rc = r;
		} else if (unlinkat(fd, de->d_name, 0) == 0) {
			(*files)++;
		} else if (errno != ENOENT && !rc) {
			rc = -errno;
		}
	}
	closedir(dir);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* ---- step 3: metadata ---- */

struct sweep_args {
	uint32_t id;
	uint64_t next_ino;      /* where the inode scan goes on: those before are gone */
	bool inodes_done;
	uint64_t scan_next;     /* what this transaction would make them */
	bool scan_done;
	char name[ENRP_EIR_NAME_MAX + 1];
	enrp_store *st;
	uint64_t deleted;       /* keys deleted by this transaction */
	uint64_t spool_files;   /* spool files unlinked by this transaction */
};

/* Deletes up to LIMIT keys of DB starting with PREFIX (PLEN bytes), except
 * those KEEP says to keep.  The count deleted, or -errno. */
static int64_t prefix_del(enrp_txn *t, enum store_dbi db, const uint8_t *prefix, size_t plen,
                          uint64_t limit, bool (*keep)(const MDB_val *k))
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, db, &cur);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	uint8_t **keys = NULL;
	size_t *lens = NULL, n = 0;
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && n < limit && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen)) {
		if (!keep || !keep(&k)) {
			uint8_t **nk = realloc(keys, (n + 1) * sizeof(*keys));
			size_t *nl = nk ? realloc(lens, (n + 1) * sizeof(*lens)) : NULL;
			if (nk)
				keys = nk;
			if (nl)
				lens = nl;
			uint8_t *copy = nl ? malloc(k.mv_size) : NULL;
			if (!copy) {
				rc = -ENOMEM;
				break;
			}
			memcpy(copy, k.mv_data, k.mv_size);
			keys[n] = copy;
			lens[n++] = k.mv_size;
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = txn_del(t, db, keys[i], lens[i]);
		free(keys[i]);
	}
	free(keys);
	free(lens);
	return rc ? rc : (int64_t)n;
}

static bool keep_setting(const MDB_val *k)
{
	const char *name = (const char *)k->mv_data + KEY_EIR_LEN;
	size_t n = k->mv_size - KEY_EIR_LEN;
	return (n == strlen(SETTING_FORM) && !memcmp(name, SETTING_FORM, n)) ||
	       (n == strlen(SETTING_DESTROY) && !memcmp(name, SETTING_DESTROY, n));
}

/* One inode INO of the EIR, with everything keyed by it. */
static int drop_inode(enrp_txn *t, struct sweep_args *a, uint64_t ino)
{
	uint8_t key[KEY_INO_LEN];
	MDB_val v;
	be64_put(key, ino);
	if (txn_get(t, DBI_SPOOL, key, sizeof(key), &v) == 0) {
		char name[SPOOL_NAME_LEN + 1];
		spool_name(name, ino);
		/* Before the entry goes: a crash between the two leaves the entry,
		 * and a rerun finds the file already gone. */
		if (unlinkat(store_spool_dirfd(a->st), name, 0) == 0)
			a->spool_files++;
		else if (errno != ENOENT)
			return -errno;
		txn_del(t, DBI_SPOOL, key, sizeof(key));
	} else if (t->ret) {
		return t->ret;
	}
	int64_t n;
	enum store_dbi by_prefix[] = { DBI_DIRENT, DBI_XATTR, DBI_BASE };
	for (size_t i = 0; i < sizeof(by_prefix) / sizeof(by_prefix[0]); i++) {
		n = prefix_del(t, by_prefix[i], key, sizeof(key), UINT64_MAX, NULL);
		if (n < 0)
			return (int)n;
		a->deleted += (uint64_t)n;
	}
	enum store_dbi exact[] = { DBI_EXTENT, DBI_ORPHAN, DBI_INODE };
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		int rc = txn_get(t, exact[i], key, sizeof(key), &v);
		if (rc == 0)
			rc = txn_del(t, exact[i], key, sizeof(key));
		if (rc && rc != -ENOENT)
			return rc;
		a->deleted++;
	}
	return 0;
}

static int sweep_fn(enrp_txn *t, void *arg)
{
	struct sweep_args *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t inos[BATCH / 4];
	size_t ni = 0;
	int rc, mrc;
	a->deleted = a->spool_files = 0;

	/* Inodes first: their keys need the inode to be found.  The scan goes
	 * on where the last batch stopped (no inode of a destroyed EIR is ever
	 * made again), so the whole store is read once, not once per batch. */
	if (!a->inodes_done) {
		uint8_t start[KEY_INO_LEN];
		be64_put(start, a->next_ino);
		if ((rc = txn_cursor(t, DBI_INODE, &cur)))
			return rc;
		k.mv_data = start;
		k.mv_size = sizeof(start);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (mrc == 0 && ni < sizeof(inos) / sizeof(inos[0])) {
			struct inode_rec r;
			if (k.mv_size == KEY_INO_LEN && rec_inode_decode(v.mv_data, v.mv_size, &r) == 0 &&
			    r.eir_id == a->id)
				inos[ni++] = be64_get(k.mv_data);
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
		if (mrc != 0 && mrc != MDB_NOTFOUND)
			return store_mdb_err(mrc);
		for (size_t i = 0; i < ni; i++)
			if ((rc = drop_inode(t, a, inos[i])))
				return rc;
		if (ni) {
			/* Set only if this transaction commits: see finish(). */
			a->scan_next = inos[ni - 1] + 1;
			return t->ret;
		}
		a->scan_done = true;
	}

	/* Seal queue: class + EIR + time + ino. */
	if ((rc = txn_cursor(t, DBI_QUEUE, &cur)))
		return rc;
	uint8_t qkeys[64][QUEUE_KEY_LEN];
	size_t nq = 0;
	mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && nq < 64) {
		if (k.mv_size == QUEUE_KEY_LEN && key_queue_eir(k.mv_data) == a->id)
			memcpy(qkeys[nq++], k.mv_data, QUEUE_KEY_LEN);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	for (size_t i = 0; i < nq; i++)
		txn_del(t, DBI_QUEUE, qkeys[i], QUEUE_KEY_LEN);
	a->deleted += nq;
	if (nq)
		return t->ret;

	/* Everything under the EIR's id. */
	uint8_t pfx[KEY_EIR_LEN];
	be32_put(pfx, a->id);
	enum store_dbi by_eir[] = { DBI_CHUNK, DBI_USAGE, DBI_KEYS, DBI_HOLD, DBI_RESTORE,
	                            DBI_TRASH, DBI_SNAPSHOT, DBI_PRESERVED, DBI_POLICY };
	for (size_t i = 0; i < sizeof(by_eir) / sizeof(by_eir[0]); i++) {
		int64_t n = prefix_del(t, by_eir[i], pfx, sizeof(pfx), BATCH,
		                       by_eir[i] == DBI_POLICY ? keep_setting : NULL);
		if (n < 0)
			return (int)n;
		a->deleted += (uint64_t)n;
		if (n)
			return t->ret;
	}

	/* Last, its name in the root directory. */
	uint8_t dkey[8 + ENRP_NAME_MAX];
	size_t dlen = key_dirent(dkey, ENRP_ROOT_INO, a->name);
	rc = txn_get(t, DBI_DIRENT, dkey, dlen, &v);
	if (rc == 0) {
		uint64_t child;
		uint32_t type;
		struct enrp_eir e;
		/* Only if the name still leads to this EIR's root. */
		if (rec_dirent_decode(v.mv_data, v.mv_size, &child, &type) == 0 &&
		    eir_get_txn(t, a->id, &e) == 0 && child == e.root_ino) {
			struct inode_rec root;
			txn_del(t, DBI_DIRENT, dkey, dlen);
			if (ns_inode_get(t, ENRP_ROOT_INO, &root) == 0) {
				if (root.nlink > 2)
					root.nlink--;
				root.mtime = root.ctime = enrp_now_ns();
				ns_inode_put(t, ENRP_ROOT_INO, &root);
			}
			a->deleted++;
		}
	} else if (rc == -ENOENT) {
		rc = 0;
	}
	return rc ? rc : t->ret;
}

/* ---- step 4 ---- */

struct end_args {
	uint32_t id;
	int64_t now;
	uint64_t chunk_files, spool_files;
	bool share_destroyed;
	const struct enrp_actor *actor;
	struct enrp_destruction d;
};

static int end_fn(enrp_txn *t, void *arg)
{
	struct end_args *a = arg;
	char details[ENRP_JOURNAL_DETAILS_MAX + 1] = "", when[40];
	int rc = record_get(t, a->id, &a->d);
	if (rc)
		return rc;
	if (a->d.finished)
		return 0;
	a->d.finished = true;
	a->d.finished_at = a->now > a->d.started ? a->now : a->d.started;
	a->d.chunk_files_deleted += a->chunk_files;
	a->d.spool_files_deleted += a->spool_files;
	a->d.share_destroyed = a->d.share_destroyed || a->share_destroyed;
	if ((rc = record_put(t, &a->d)))
		return rc;
	struct enrp_destruction *d = &a->d;
	enrp_time_format(d->started, when, sizeof(when));
	enrp_details_add(details, sizeof(details), "files", "%" PRIu64, d->files);
	enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, d->bytes);
	enrp_details_add(details, sizeof(details), "inodes", "%" PRIu64, d->inodes);
	enrp_details_add(details, sizeof(details), "chunks", "%" PRIu64, d->chunks);
	enrp_details_add(details, sizeof(details), "stored", "%" PRIu64, d->stored);
	enrp_details_add(details, sizeof(details), "snapshots", "%" PRIu64, d->snapshots);
	enrp_details_add(details, sizeof(details), "trash", "%" PRIu64, d->trash);
	enrp_details_add(details, sizeof(details), "holds", "%" PRIu64, d->holds);
	enrp_details_add(details, sizeof(details), "chunk_files_deleted", "%" PRIu64,
	                 d->chunk_files_deleted);
	enrp_details_add(details, sizeof(details), "spool_files_deleted", "%" PRIu64,
	                 d->spool_files_deleted);
	enrp_details_add(details, sizeof(details), "encrypted", "%s", d->encrypted ? "yes" : "no");
	enrp_details_add(details, sizeof(details), "key_shredded", "%s", d->shredded ? "yes" : "no");
	enrp_details_add(details, sizeof(details), "key_share_destroyed", "%s",
	                 d->share_destroyed ? "yes" : "no");
	enrp_details_add(details, sizeof(details), "started", "%s", when);
	enrp_details_add(details, sizeof(details), "requested_by", "%s", d->requested_by);
	enrp_details_add(details, sizeof(details), "approved_by", "%s", d->approved_by);
	enrp_details_add(details, sizeof(details), "reason", "%s", d->reason);
	return journal_append_txn(t, a->actor, d->eir, "eir-destroyed", details);
}

/* Steps 2 to 4 for EIR ID (destroyed, record unfinished). */
static int finish(enrp_store *st, uint32_t id, const struct enrp_actor *actor,
                  struct enrp_destruction *out)
{
	struct sweep_args sw = { .id = id, .st = st };
	struct end_args end = { .id = id, .actor = actor };
	struct enrp_eir e;
	char rel[16];
	int rc = enrp_eir_get_by_id(st, id, &e);
	if (rc)
		return rc;
	snprintf(sw.name, sizeof(sw.name), "%s", e.name);
	/* The share first: with it gone, no copy of the wrapped key (an old
	 * copy of the store, a free page) opens, master key or not. */
	bool encrypted;
	char keyfile[PATH_MAX];
	rc = enrp_vault_info(st, &encrypted, keyfile, sizeof(keyfile));
	if (rc == 0 && encrypted && keyfile[0])
		rc = vault_share_destroy(keyfile, id, &end.share_destroyed);
	if (rc) {
		enrp_log(ENRP_LOG_ERR, "destroy of EIR '%s': cannot destroy its key share: %s",
		         e.name, strerror(-rc));
		return rc;
	}
	snprintf(rel, sizeof(rel), "%u", (unsigned)id);
	rc = remove_tree_at(store_chunks_dirfd(st), rel, &end.chunk_files);
	if (rc) {
		enrp_log(ENRP_LOG_ERR, "destroy of EIR '%s': cannot remove its chunk files: %s",
		         e.name, strerror(-rc));
		return rc;
	}
	if (fsync(store_chunks_dirfd(st)) < 0)
		return -errno;
	do {
		sw.scan_next = sw.next_ino;
		sw.scan_done = sw.inodes_done;
		rc = enrp_store_write(st, sweep_fn, &sw);
		if (rc == 0) { /* committed: the scan position moves on */
			sw.next_ino = sw.scan_next;
			sw.inodes_done = sw.scan_done;
		}
		end.spool_files += sw.spool_files;
	} while (rc == 0 && sw.deleted);
	if (rc)
		return rc;
	if (end.spool_files && fsync(store_spool_dirfd(st)) < 0)
		return -errno;
	if ((rc = enrp_platform_now(st, &end.now)))
		return rc;
	rc = enrp_store_write(st, end_fn, &end);
	if (rc == 0 && out)
		*out = end.d;
	return rc;
}

int enrp_destroy_begin(enrp_store *st, const char *name, int64_t now, const char *reason,
                       const struct enrp_actor *requester, const struct enrp_actor *approver,
                       struct enrp_destroy_blockers *b, uint32_t *eir_id)
{
	struct enrp_destroy_blockers local;
	struct begin_args a = { .name = name, .now = now, .reason = reason, .requester = requester,
	                       .approver = approver, .b = b ? b : &local };
	if (!reason || !reason[0] || strlen(reason) > ENRP_REASON_MAX)
		return -EINVAL;
	memset(a.b, 0, sizeof(*a.b));
	int rc = enrp_store_write(st, begin_fn, &a);
	if (rc)
		return rc;
	/* The key is gone and the state destroyed, durably, before any file goes. */
	if ((rc = enrp_store_sync(st)))
		return rc;
	/* Fault point for the crash test (t7500): die as a SIGKILL would, with
	 * the first step durable and nothing else done. */
	const char *stop = getenv("ENRP_TEST_DESTROY_STOP");
	if (stop && !strcmp(stop, "begun"))
		raise(SIGKILL);
	*eir_id = a.d.eir_id;
	return 0;
}

int enrp_destroy_finish(enrp_store *st, uint32_t eir_id, const struct enrp_actor *actor,
                        struct enrp_destruction *out)
{
	return finish(st, eir_id, actor, out);
}

int enrp_eir_destroy(enrp_store *st, const char *name, int64_t now, const char *reason,
                     const struct enrp_actor *requester, const struct enrp_actor *approver,
                     struct enrp_destroy_blockers *b, struct enrp_destruction *out)
{
	uint32_t id;
	int rc = enrp_destroy_begin(st, name, now, reason, requester, approver, b, &id);
	return rc ? rc : finish(st, id, requester, out);
}

struct unfinished_args {
	uint32_t *ids;
	size_t n, cap;
	enrp_txn *t;
};

static int unfinished_cb(const struct enrp_eir *e, void *arg)
{
	struct unfinished_args *a = arg;
	struct enrp_destruction d;
	if (e->state != ENRP_STATE_DESTROYED || record_get(a->t, e->id, &d) || d.finished)
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;
		uint32_t *n = realloc(a->ids, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		a->ids = n;
		a->cap = cap;
	}
	a->ids[a->n++] = e->id;
	return 0;
}

static int unfinished_fn(enrp_txn *t, void *arg)
{
	struct unfinished_args *a = arg;
	a->t = t;
	a->n = 0;
	return eir_each_txn(t, unfinished_cb, a);
}

int enrp_destroy_resume(enrp_store *st, const struct enrp_actor *actor, unsigned *done)
{
	struct unfinished_args a = { 0 };
	if (done)
		*done = 0;
	int rc = enrp_store_read(st, unfinished_fn, &a);
	for (size_t i = 0; rc == 0 && i < a.n; i++) {
		rc = finish(st, a.ids[i], actor, NULL);
		if (rc == 0 && done)
			(*done)++;
	}
	free(a.ids);
	return rc;
}

struct record_args {
	uint32_t id;
	struct enrp_destruction *out;
};

static int record_fn(enrp_txn *t, void *arg)
{
	struct record_args *a = arg;
	return record_get(t, a->id, a->out);
}

int enrp_destroy_record(enrp_store *st, uint32_t eir_id, struct enrp_destruction *out)
{
	struct record_args a = { eir_id, out };
	return enrp_store_read(st, record_fn, &a);
}
