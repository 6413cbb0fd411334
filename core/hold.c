/*
 * hold.c — holds and the EIR lock (see include/enrp/hold.h).
 *
 * A hold lives in DBI_HOLD under (EIR id, 'f', inode): the inode, not the
 * path, is what is held, so a rename or a new link does not escape it; the
 * path given is kept for people to read.  The checks that enforce holds run
 * inside the transaction of the operation they refuse (core/ns.c), so a hold
 * added a moment earlier is always seen.  The lock is the EIR setting
 * "lock": its days as decimal text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/hold.h>

#include "eir_int.h"
#include "hold_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "record_int.h"
#include "snapshot_int.h"
#include "store_int.h"

#define HOLD_KEY_LEN 13
#define HOLD_KIND_FILE 'f'
#define HOLD_KIND_SNAPSHOT 's'
#define HOLD_VERSION 1
#define LOCK_DAYS_MAX 36500
#define NS_PER_DAY (86400LL * 1000000000LL)

/* A hold on file ID (an inode number) or, KIND 's', snapshot ID (its gen). */
static void hold_key_kind(uint8_t key[HOLD_KEY_LEN], uint32_t eir_id, char kind, uint64_t id)
{
	be32_put(key, eir_id);
	key[4] = (uint8_t)kind;
	be64_put(key + 5, id);
}

static void hold_key(uint8_t key[HOLD_KEY_LEN], uint32_t eir_id, uint64_t ino)
{
	hold_key_kind(key, eir_id, HOLD_KIND_FILE, ino);
}

static int hold_encode(const struct enrp_hold *h, struct rec_out *o)
{
	rec_put_u8(o, HOLD_VERSION);
	rec_put_u64(o, (uint64_t)h->until);
	rec_put_u64(o, (uint64_t)h->created);
	rec_put_str(o, h->by);
	rec_put_str(o, h->reason);
	rec_put_str(o, h->path);
	return o->err;
}

static int hold_decode(const void *p, size_t n, struct enrp_hold *h)
{
	struct rec_in in;
	rec_in_init(&in, p, n);
	if (rec_get_u8(&in) != HOLD_VERSION)
		return -EIO;
	h->until = (int64_t)rec_get_u64(&in);
	h->created = (int64_t)rec_get_u64(&in);
	rec_get_str(&in, h->by, sizeof(h->by));
	rec_get_str(&in, h->reason, sizeof(h->reason));
	rec_get_str(&in, h->path, sizeof(h->path));
	return rec_in_end(&in);
}

int hold_key_parse(const void *key, size_t n, uint32_t *eir_id, char *kind, uint64_t *id)
{
	const uint8_t *k = key;
	if (n != HOLD_KEY_LEN || (k[4] != HOLD_KIND_FILE && k[4] != HOLD_KIND_SNAPSHOT))
		return -EIO;
	*eir_id = be32_get(k);
	*kind = (char)k[4];
	*id = be64_get(k + 5);
	return 0;
}

int hold_snapshot_active_txn(enrp_txn *t, uint32_t eir_id, uint64_t gen, int64_t now,
                             int64_t *until)
{
	uint8_t key[HOLD_KEY_LEN];
	MDB_val v;
	struct enrp_hold h;
	hold_key_kind(key, eir_id, HOLD_KIND_SNAPSHOT, gen);
	int rc = txn_get(t, DBI_HOLD, key, sizeof(key), &v);
	if (rc == 0)
		rc = hold_decode(v.mv_data, v.mv_size, &h);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (until)
		*until = h.until;
	return h.until > now;
}

int hold_until_of(const void *value, size_t n, int64_t *until)
{
	struct enrp_hold h;
	int rc = hold_decode(value, n, &h);
	if (rc == 0)
		*until = h.until;
	return rc;
}

static int hold_get(enrp_txn *t, uint32_t eir_id, uint64_t ino, struct enrp_hold *h)
{
	uint8_t key[HOLD_KEY_LEN];
	MDB_val v;
	hold_key(key, eir_id, ino);
	int rc = txn_get(t, DBI_HOLD, key, sizeof(key), &v);
	return rc ? rc : hold_decode(v.mv_data, v.mv_size, h);
}

static int lock_days_txn(enrp_txn *t, uint32_t eir_id, uint32_t *days)
{
	const void *v;
	size_t n;
	*days = 0;
	int rc = eir_setting_get(t, eir_id, "lock", &v, &n);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	char text[16];
	if (n == 0 || n >= sizeof(text))
		return -EIO;
	memcpy(text, v, n);
	text[n] = '\0';
	char *end;
	unsigned long d = strtoul(text, &end, 10);
	if (*end || d > LOCK_DAYS_MAX)
		return -EIO;
	*days = (uint32_t)d;
	return 0;
}

int hold_active_txn(enrp_txn *t, uint32_t eir_id, uint64_t ino, int64_t sealed_at, int64_t now)
{
	struct enrp_hold h;
	int rc = hold_get(t, eir_id, ino, &h);
	if (rc == 0 && h.until > now)
		return 1;
	if (rc && rc != -ENOENT)
		return rc;
	if (sealed_at <= 0)
		return 0; /* the lock counts from the seal: nothing sealed, nothing locked */
	uint32_t days;
	if ((rc = lock_days_txn(t, eir_id, &days)))
		return rc;
	return days && sealed_at + (int64_t)days * NS_PER_DAY > now;
}

/* ---- hold add / extend ---- */

struct add_args {
	const char *eir, *path, *snapshot, *reason;
	int64_t until;
	bool extend;
	const struct enrp_actor *actor;
	int64_t current;
};

static bool reason_valid(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= ENRP_HOLD_REASON_MAX;
}

static int add_fn(enrp_txn *t, void *arg)
{
	struct add_args *a = arg;
	uint32_t id;
	struct enrp_eir e;
	int rc = eir_lookup_txn(t, a->eir, &id);
	if (rc == 0)
		rc = eir_get_txn(t, id, &e);
	if (rc)
		return rc;
	uint64_t ino;
	struct inode_rec r;
	struct enrp_snapshot snap;
	char kind = a->snapshot ? HOLD_KIND_SNAPSHOT : HOLD_KIND_FILE;
	if (a->snapshot) {
		if ((rc = snap_gen_of(t, e.id, a->snapshot, &ino)))
			return rc;
		/* What the hold keeps, for the journal. */
		if ((rc = snap_load(t, &e, ino, &snap)))
			return rc;
	} else {
		if ((rc = ns_resolve(t, e.root_ino, a->path, &ino)))
			return rc;
		if ((rc = ns_inode_get(t, ino, &r)))
			return rc;
		if (S_ISDIR(r.mode))
			return -EISDIR;
		if (!S_ISREG(r.mode))
			return -EPERM;
		if (r.content != ENRP_CONTENT_SEALED || (r.flags & INODE_CORRUPT))
			return -EAGAIN;
	}
	int64_t now = enrp_now_ns();
	struct enrp_hold h;
	memset(&h, 0, sizeof(h));
	uint8_t key[HOLD_KEY_LEN];
	MDB_val hv;
	hold_key_kind(key, e.id, kind, ino);
	rc = txn_get(t, DBI_HOLD, key, sizeof(key), &hv);
	if (rc == 0)
		rc = hold_decode(hv.mv_data, hv.mv_size, &h);
	bool had = rc == 0;
	if (rc && rc != -ENOENT)
		return rc;
	if (a->extend && !had)
		return -ENOENT;
	if (had && a->until < h.until) {
		a->current = h.until;
		return -EPERM;
	}
	if (!had) {
		h.created = now;
		snprintf(h.path, sizeof(h.path), "%s%s", a->snapshot ? "@" : "",
		         a->snapshot ? a->snapshot : a->path);
	}
	h.until = a->until;
	snprintf(h.by, sizeof(h.by), "uid=%" PRIu32 " %s", a->actor->uid, a->actor->command);
	if (a->reason) /* an extension without one keeps the first reason */
		snprintf(h.reason, sizeof(h.reason), "%s", a->reason);
	struct rec_out o;
	rec_out_init(&o);
	rc = hold_encode(&h, &o);
	if (rc == 0)
		rc = txn_put(t, DBI_HOLD, key, sizeof(key), o.buf, o.len, 0);
	rec_out_release(&o);
	if (rc)
		return rc;
	char details[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	if (a->snapshot) {
		enrp_details_add(details, sizeof(details), "snapshot", "%s", a->snapshot);
		enrp_details_add(details, sizeof(details), "files", "%" PRIu64, snap.files);
		enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, snap.bytes);
	} else {
		enrp_details_add(details, sizeof(details), "path", "%s", a->path);
		enrp_details_add(details, sizeof(details), "ino", "%" PRIu64, ino);
		enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, r.size);
	}
	enrp_details_add(details, sizeof(details), "until", "%" PRId64, a->until);
	enrp_details_add(details, sizeof(details), "reason", "%s", h.reason);
	return journal_append_txn(t, a->actor, e.name, had ? "hold-extend" : "hold-add", details);
}

int enrp_hold_add(enrp_store *st, const char *eir, const char *path, int64_t until,
                  const char *reason, bool extend, const struct enrp_actor *actor,
                  int64_t *current)
{
	if ((reason ? !reason_valid(reason) : !extend) || until <= enrp_now_ns() ||
	    strlen(path) > ENRP_HOLD_PATH_MAX)
		return -EINVAL;
	struct add_args a = { .eir = eir, .path = path, .reason = reason, .until = until,
		              .extend = extend, .actor = actor };
	int rc = enrp_store_write(st, add_fn, &a);
	if (rc == -EPERM && current)
		*current = a.current;
	return rc;
}

int enrp_hold_add_snapshot(enrp_store *st, const char *eir, const char *snapshot, int64_t until,
                           const char *reason, bool extend, const struct enrp_actor *actor,
                           int64_t *current)
{
	if ((reason ? !reason_valid(reason) : !extend) || until <= enrp_now_ns())
		return -EINVAL;
	struct add_args a = { .eir = eir, .snapshot = snapshot, .reason = reason, .until = until,
		              .extend = extend, .actor = actor };
	int rc = enrp_store_write(st, add_fn, &a);
	if (rc == -EPERM && current)
		*current = a.current;
	return rc;
}

/* ---- hold list ---- */

struct list_args {
	const char *eir;
	int (*cb)(const struct enrp_hold *h, void *arg);
	void *arg;
};

static int list_fn(enrp_txn *t, void *arg)
{
	struct list_args *a = arg;
	uint32_t only = 0;
	int rc;
	if (a->eir && (rc = eir_lookup_txn(t, a->eir, &only)))
		return rc;
	MDB_cursor *cur;
	if ((rc = txn_cursor(t, DBI_HOLD, &cur)))
		return rc == -ENOENT ? 0 : rc; /* an older store opened read-only */
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && rc == 0) {
		uint32_t id;
		char kind;
		uint64_t what;
		if (hold_key_parse(k.mv_data, k.mv_size, &id, &kind, &what) == 0 && (!only || id == only)) {
			struct enrp_hold h;
			struct enrp_eir e;
			struct inode_rec r;
			memset(&h, 0, sizeof(h));
			rc = hold_decode(v.mv_data, v.mv_size, &h);
			if (rc == 0)
				rc = eir_get_txn(t, id, &e);
			if (rc == 0) {
				snprintf(h.eir, sizeof(h.eir), "%s", e.name);
				h.ino = what;
				h.snapshot = kind == HOLD_KIND_SNAPSHOT;
				h.linked = h.snapshot ? snap_exists(t, id, what)
				                      : ns_inode_get(t, what, &r) == 0 && r.nlink > 0;
				rc = a->cb(&h, a->arg);
			}
		}
		if (rc == 0)
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND ? 0 : store_mdb_err(mrc);
}

int enrp_hold_list(enrp_store *st, const char *eir,
                   int (*cb)(const struct enrp_hold *h, void *arg), void *arg)
{
	struct list_args a = { .eir = eir, .cb = cb, .arg = arg };
	return enrp_store_read(st, list_fn, &a);
}

/* ---- the lock ---- */

struct lock_args {
	const char *eir;
	uint32_t days;
	const struct enrp_actor *actor;
};

static int lock_get_fn(enrp_txn *t, void *arg)
{
	struct lock_args *a = arg;
	uint32_t id;
	int rc = eir_lookup_txn(t, a->eir, &id);
	return rc ? rc : lock_days_txn(t, id, &a->days);
}

int enrp_hold_lock_get(enrp_store *st, const char *eir, uint32_t *days)
{
	struct lock_args a = { .eir = eir };
	int rc = enrp_store_read(st, lock_get_fn, &a);
	*days = a.days;
	return rc;
}

static int lock_set_fn(enrp_txn *t, void *arg)
{
	struct lock_args *a = arg;
	uint32_t id, old;
	int rc = eir_lookup_txn(t, a->eir, &id);
	if (rc == 0)
		rc = lock_days_txn(t, id, &old);
	if (rc)
		return rc;
	if (a->days < old)
		return -EPERM;
	if (a->days == old)
		return 0;
	char text[16], details[64] = "";
	snprintf(text, sizeof(text), "%" PRIu32, a->days);
	if ((rc = eir_setting_put(t, id, "lock", text, strlen(text))))
		return rc;
	enrp_details_add(details, sizeof(details), "lock_days", "%" PRIu32, a->days);
	enrp_details_add(details, sizeof(details), "was", "%" PRIu32, old);
	return journal_append_txn(t, a->actor, a->eir, "lock-set", details);
}

int enrp_hold_lock_set(enrp_store *st, const char *eir, uint32_t days,
                       const struct enrp_actor *actor)
{
	if (days > LOCK_DAYS_MAX)
		return -EINVAL;
	struct lock_args a = { .eir = eir, .days = days, .actor = actor };
	return enrp_store_write(st, lock_set_fn, &a);
}
