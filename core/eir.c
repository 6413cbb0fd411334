/*
 * eir.c — the EIR registry: names, modes, states, escalation, usage.
 *
 * Layout: DBI_EIR maps be32(id) to rec_eir_encode(); DBI_EIR_NAME maps the
 * name to be32(id); DBI_USAGE maps be32(id) to the usage counters and
 * be32(id) + 's' to the file-state counts (both kept by the namespace).  Ids come
 * from the "next_eir" counter and are never reused; names are never reused
 * either (a destroyed EIR keeps its name as a tombstone, so the journal's EIR
 * names stay unambiguous for as long as the journal is kept).
 *
 * Every change runs in one enrp_store_write() callback that also appends its
 * journal record (journal_append_txn), so a change and its record commit
 * together or not at all.  Callbacks may run twice (map growth): they rebuild
 * all their outputs from the transaction each time.
 *
 * Active mode: the agent (agent_uid) writes, everyone else reads; an active
 * EIR without an agent is allowed (the agent may be set up later), and then
 * only an escalation lets anybody write.  Escalation is meaningful only in
 * active mode: leaving active ends it, and so does retiring.
 *
 * Transitions and their errnos (a destroyed EIR refuses all with -EINVAL):
 *   suspend   normal -> suspended; -EALREADY if suspended
 *   resume    suspended -> normal; -EALREADY if normal
 *   retire    normal|suspended -> retired; -EALREADY if retired; reason optional
 *   escalate  active (a suspended EIR may be escalated: the grant takes
 *             effect when it resumes); replaces a running one
 *   deescalate -EALREADY unless an escalation is in force
 * Retirement is final: every change to a retired EIR, a settings change
 * (enrp_eir_set) included, fails with -EROFS before anything is compared or
 * journalled; only retire itself answers -EALREADY.  What its lifecycle
 * still holds (its data kept until its retention expires, then destruction)
 * is not a change of its record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/policy.h>
#include <enrp/text.h>
#include <enrp/units.h>

#include "eir_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "record_int.h"

/* An rpo longer than a year is a typo, not a recovery point objective. */
#define RPO_MAX_MINUTES (366u * 24 * 60)
#define DETAILS_SIZE (ENRP_JOURNAL_DETAILS_MAX + 1)

static const char *const mode_names[] = {
	[ENRP_MODE_RW] = "rw",
	[ENRP_MODE_WO] = "wo",
	[ENRP_MODE_RO] = "ro",
	[ENRP_MODE_ACTIVE] = "active",
};

static const char *const state_names[] = {
	[ENRP_STATE_NORMAL] = "normal",
	[ENRP_STATE_SUSPENDED] = "suspended",
	[ENRP_STATE_RETIRED] = "retired",
	[ENRP_STATE_DESTROYED] = "destroyed",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *enrp_mode_name(enum enrp_mode mode)
{
	return (unsigned)mode < NELEM(mode_names) ? mode_names[mode] : "?";
}

int enrp_mode_parse(const char *s, enum enrp_mode *out)
{
	for (unsigned i = 0; i < NELEM(mode_names); i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum enrp_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *enrp_state_name(enum enrp_state state)
{
	return (unsigned)state < NELEM(state_names) ? state_names[state] : "?";
}

int enrp_state_parse(const char *s, enum enrp_state *out)
{
	for (unsigned i = 0; i < NELEM(state_names); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum enrp_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The audit login uid of PID; ENRP_NO_UID when unset (4294967295 in the
 * file) or unreadable (no audit support in the kernel). */
static uint32_t login_uid_of(uint32_t pid)
{
	char path[48], buf[24];
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/loginuid", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return ENRP_NO_UID;
	unsigned long long v = ENRP_NO_UID;
	if (fgets(buf, sizeof(buf), f))
		v = strtoull(buf, NULL, 10);
	fclose(f);
	return v > ENRP_NO_UID ? ENRP_NO_UID : (uint32_t)v;
}

void enrp_actor_self(struct enrp_actor *actor, const char *command)
{
	memset(actor, 0, sizeof(*actor));
	actor->uid = (uint32_t)getuid();
	actor->pid = (uint32_t)getpid();
	snprintf(actor->command, sizeof(actor->command), "%s", command ? command : "");
	actor->login_uid = login_uid_of(actor->pid);
	actor->sudo_uid = ENRP_NO_UID;
	const char *user = getenv("SUDO_USER"), *uid = getenv("SUDO_UID");
	if (user && *user && uid && *uid) {
		char *end;
		unsigned long long v = strtoull(uid, &end, 10);
		if (!*end && v < ENRP_NO_UID) {
			actor->sudo_uid = (uint32_t)v;
			snprintf(actor->sudo_user, sizeof(actor->sudo_user), "%s", user);
		}
	}
}

void enrp_actor_of(struct enrp_actor *actor, uint32_t uid, uint32_t pid)
{
	char path[48];

	memset(actor, 0, sizeof(*actor));
	actor->uid = uid;
	actor->pid = pid;
	actor->sudo_uid = ENRP_NO_UID;
	actor->login_uid = login_uid_of(pid);
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/comm", pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(actor->command, sizeof(actor->command), f))
			actor->command[strcspn(actor->command, "\n")] = '\0';
		fclose(f);
	}
}

bool enrp_eir_name_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return false;
	for (const char *p = name; *p; p++, n++) {
		char c = *p;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		/* A leading '.' or '-' would make "..", hidden names or options. */
		if (!alnum && (n == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
		if (n >= ENRP_EIR_NAME_MAX)
			return false;
	}
	return n > 0;
}

void enrp_eir_defaults(struct enrp_eir *spec, const char *name)
{
	memset(spec, 0, sizeof(*spec));
	/* A name that does not fit is left empty rather than cut, so create
	 * refuses it instead of creating a different name. */
	if (name && strlen(name) <= ENRP_EIR_NAME_MAX)
		memcpy(spec->name, name, strlen(name) + 1);
	spec->dir_mode = 0700;
	spec->eir_class = 3;
	spec->mode = ENRP_MODE_RW;
	spec->state = ENRP_STATE_NORMAL;
	spec->quota = 0;
	spec->agent_uid = ENRP_NO_UID;
	spec->rpo_minutes = 60;
}

/* A reason is one line of UTF-8 text: no C0 or C1 control, no DEL (what
 * enrpctl shows of it is escaped all the same). */
static bool reason_valid(const char *reason, bool required)
{
	if (!reason || !reason[0])
		return !required;
	if (strlen(reason) > ENRP_REASON_MAX)
		return false;
	for (const char *p = reason; *p;) {
		unsigned cp;
		size_t n = enrp_utf8_decode(p, &cp);
		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
		p += n;
	}
	return true;
}

/* Who may enter an EIR is the registry's decision (enrp_policy_eir_dir):
 * its directory's bits may let the owner's group or everyone look, never
 * write there, and carry no setuid, setgid or sticky bit.  Checked when the
 * bits are chosen, so an older record with 0770 can still be changed
 * otherwise (its group write bit is not presented anyway). */
static bool dir_mode_valid(uint32_t mode)
{
	return (mode & ~(uint32_t)ENRP_DIR_MODE_ALLOWED) == 0;
}

/* The fields a client of create/set may choose. */
static int validate_fields(const struct enrp_eir *e)
{
	if (!enrp_eir_name_valid(e->name))
		return -EINVAL;
	if (e->eir_class < 1 || e->eir_class > 3)
		return -EINVAL;
	if (e->dir_mode > 07777)
		return -EINVAL;
	if ((unsigned)e->mode > ENRP_MODE_ACTIVE)
		return -EINVAL;
	if (e->rpo_minutes < 1 || e->rpo_minutes > RPO_MAX_MINUTES)
		return -EINVAL;
	return 0;
}

/* ---- records inside a transaction ---- */

static int eir_put(enrp_txn *t, const struct enrp_eir *e)
{
	struct rec_out o;
	uint8_t key[KEY_EIR_LEN];
	int rc;

	be32_put(key, e->id);
	rec_out_init(&o);
	rc = rec_eir_encode(e, &o);
	if (!rc)
		rc = txn_put(t, DBI_EIR, key, sizeof(key), o.buf, o.len, 0);
	rec_out_release(&o);
	return rc;
}

int eir_put_txn(enrp_txn *t, const struct enrp_eir *e)
{
	return eir_put(t, e);
}

int eir_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir *out)
{
	uint8_t key[KEY_EIR_LEN];
	MDB_val v;
	int rc;

	be32_put(key, id);
	rc = txn_get(t, DBI_EIR, key, sizeof(key), &v);
	if (rc)
		return rc;
	return rec_eir_decode(v.mv_data, v.mv_size, out);
}

int eir_lookup_txn(enrp_txn *t, const char *name, uint32_t *id)
{
	MDB_val v;
	int rc;

	/* Also keeps over-long keys away from LMDB, which would call them
	 * MDB_BAD_VALSIZE: no EIR can have an invalid name. */
	if (!enrp_eir_name_valid(name))
		return -ENOENT;
	rc = txn_get(t, DBI_EIR_NAME, name, strlen(name), &v);
	if (rc)
		return rc;
	if (v.mv_size != 4)
		return -EIO;
	*id = be32_get(v.mv_data);
	return 0;
}

int eir_get_by_name_txn(enrp_txn *t, const char *name, struct enrp_eir *out)
{
	uint32_t id;
	int rc = eir_lookup_txn(t, name, &id);
	if (rc)
		return rc;
	return eir_get_txn(t, id, out);
}

int eir_usage_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir_usage *out)
{
	uint8_t key[KEY_EIR_LEN];
	MDB_val v;
	int rc;

	be32_put(key, id);
	rc = txn_get(t, DBI_USAGE, key, sizeof(key), &v);
	if (rc)
		return rc;
	return rec_usage_decode(v.mv_data, v.mv_size, out);
}

static int usage_put(enrp_txn *t, uint32_t id, const struct enrp_eir_usage *u)
{
	uint8_t key[KEY_EIR_LEN], val[USAGE_VAL_LEN];

	be32_put(key, id);
	rec_usage_encode(val, u);
	return txn_put(t, DBI_USAGE, key, sizeof(key), val, sizeof(val), 0);
}

/* Adds D to *V, saturating at 0 and UINT64_MAX: a counter that drifted
 * (a crash between a change and its accounting in older stores, fsck) must
 * never wrap around into an absurd quota figure. */
static uint64_t add_clamped(uint64_t v, int64_t d)
{
	if (d < 0) {
		uint64_t m = (uint64_t)(-(d + 1)) + 1;
		return m > v ? 0 : v - m;
	}
	return UINT64_MAX - v < (uint64_t)d ? UINT64_MAX : v + (uint64_t)d;
}

int eir_usage_add(enrp_txn *t, uint32_t id, int64_t dbytes, int64_t dinodes)
{
	struct enrp_eir_usage u;
	int rc;

	if (!dbytes && !dinodes)
		return 0;
	rc = eir_usage_get_txn(t, id, &u);
	if (rc)
		return rc;
	u.bytes = add_clamped(u.bytes, dbytes);
	u.inodes = add_clamped(u.inodes, dinodes);
	return usage_put(t, id, &u);
}

int eir_usage_add_stored(enrp_txn *t, uint32_t id, int64_t dstored, int64_t dchunks)
{
	struct enrp_eir_usage u;
	int rc;

	if (!dstored && !dchunks)
		return 0;
	rc = eir_usage_get_txn(t, id, &u);
	if (rc)
		return rc;
	u.stored = add_clamped(u.stored, dstored);
	u.chunks = add_clamped(u.chunks, dchunks);
	return usage_put(t, id, &u);
}

int eir_files_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir_files *out)
{
	uint8_t key[KEY_FILES_LEN];
	MDB_val v;
	key_files(key, id);
	int rc = txn_get(t, DBI_USAGE, key, sizeof(key), &v);
	if (rc)
		return rc;
	return rec_files_decode(v.mv_data, v.mv_size, out);
}

int eir_files_put(enrp_txn *t, uint32_t id, const struct enrp_eir_files *f)
{
	uint8_t key[KEY_FILES_LEN], val[FILES_VAL_LEN];
	key_files(key, id);
	rec_files_encode(val, f);
	return txn_put(t, DBI_USAGE, key, sizeof(key), val, sizeof(val), 0);
}

int eir_files_add(enrp_txn *t, uint32_t id, const int64_t d[4], int64_t sealed_at)
{
	struct enrp_eir_files f;
	int rc = eir_files_get_txn(t, id, &f);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (d) {
		f.open = add_clamped(f.open, d[0]);
		f.pending = add_clamped(f.pending, d[1]);
		f.verified = add_clamped(f.verified, d[2]);
		f.corrupt = add_clamped(f.corrupt, d[3]);
	}
	if (sealed_at > f.last_sealed)
		f.last_sealed = sealed_at;
	f.tree_gen++;
	return eir_files_put(t, id, &f);
}

int eir_files_missing(enrp_txn *t, uint32_t **ids, size_t *n)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint32_t *vec = NULL;
	size_t cnt = 0, cap = 0;
	*ids = NULL;
	*n = 0;
	int rc = txn_cursor(t, DBI_EIR, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct enrp_eir_files f;
		if (k.mv_size != KEY_EIR_LEN)
			continue;
		uint32_t id = be32_get(k.mv_data);
		rc = eir_files_get_txn(t, id, &f);
		if (rc == 0)
			continue;
		if (rc != -ENOENT && rc != -EIO)
			break;
		rc = 0;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			uint32_t *nv = realloc(vec, ncap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			vec = nv;
			cap = ncap;
		}
		vec[cnt++] = id;
	}
	mdb_cursor_close(cur);
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
	if (rc) {
		free(vec);
		return rc;
	}
	*ids = vec;
	*n = cnt;
	return 0;
}

/* ---- create ---- */

static void fmt_uid(char *buf, size_t size, uint32_t uid)
{
	if (uid == ENRP_NO_UID)
		snprintf(buf, size, "none");
	else
		snprintf(buf, size, "%u", uid);
}

struct create_ctx {
	const struct enrp_eir *spec;
	const struct enrp_actor *actor;
	struct enrp_eir e;
};

int eir_create_txn(enrp_txn *t, const struct enrp_eir *spec, const struct enrp_actor *actor,
                   struct enrp_eir *e)
{
	struct enrp_eir_usage zero = { 0 };
	char details[DETAILS_SIZE], agent[16];
	uint8_t idval[4];
	uint64_t id;
	uint32_t old;
	int rc;

	rc = validate_fields(spec);
	if (rc == 0 && !dir_mode_valid(spec->dir_mode))
		rc = -EINVAL;
	if (rc)
		return rc;
	*e = *spec;
	/* Server-assigned fields: a new EIR starts normal and unescalated. */
	e->state = ENRP_STATE_NORMAL;
	e->escalated_until = 0;
	e->escalation_reason[0] = '\0';
	e->state_reason[0] = '\0';

	rc = eir_lookup_txn(t, e->name, &old);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	rc = txn_next_id(t, "next_eir", 1, &id);
	if (rc)
		return rc;
	if (id == 0 || id >= UINT32_MAX)
		return -ENOSPC;
	e->id = (uint32_t)id;
	e->created = enrp_now_ns();

	/* Usage first: the namespace may account the new directory. */
	rc = usage_put(t, e->id, &zero);
	if (rc == 0)
		rc = eir_files_put(t, e->id, &(struct enrp_eir_files){ 0 });
	if (rc)
		return rc;
	rc = ns_create_eir_root(t, e, &e->root_ino);
	if (rc)
		return rc;
	rc = eir_put(t, e);
	if (rc)
		return rc;
	be32_put(idval, e->id);
	rc = txn_put(t, DBI_EIR_NAME, e->name, strlen(e->name), idval, sizeof(idval),
	             MDB_NOOVERWRITE);
	if (rc)
		return rc;

	fmt_uid(agent, sizeof(agent), e->agent_uid);
	details[0] = '\0';
	enrp_details_add(details, sizeof(details), "id", "%u", e->id);
	enrp_details_add(details, sizeof(details), "mode", "%s", enrp_mode_name(e->mode));
	enrp_details_add(details, sizeof(details), "class", "%u", e->eir_class);
	enrp_details_add(details, sizeof(details), "owner", "%u", e->owner_uid);
	enrp_details_add(details, sizeof(details), "group", "%u", e->owner_gid);
	enrp_details_add(details, sizeof(details), "dir_mode", "%04o", e->dir_mode);
	enrp_details_add(details, sizeof(details), "quota", "%llu", (unsigned long long)e->quota);
	enrp_details_add(details, sizeof(details), "agent", "%s", agent);
	enrp_details_add(details, sizeof(details), "rpo", "%u", e->rpo_minutes);
	if (e->max_files)
		enrp_details_add(details, sizeof(details), "max_files", "%llu",
		                 (unsigned long long)e->max_files);
	return journal_append_txn(t, actor, e->name, "eir-create", details);
}

static int create_fn(enrp_txn *t, void *arg)
{
	struct create_ctx *c = arg;
	return eir_create_txn(t, c->spec, c->actor, &c->e);
}

int enrp_eir_create(enrp_store *st, const struct enrp_eir *spec,
                    const struct enrp_actor *actor, struct enrp_eir *out)
{
	struct create_ctx c = { .spec = spec, .actor = actor };
	int rc = validate_fields(spec);
	if (rc == 0 && !dir_mode_valid(spec->dir_mode))
		rc = -EINVAL;

	if (rc)
		return rc;
	rc = enrp_store_write(st, create_fn, &c);
	if (!rc && out)
		*out = c.e;
	return rc;
}

/* ---- reads ---- */

struct get_ctx {
	const char *name;
	uint32_t id;
	struct enrp_eir *eir;
	struct enrp_eir_usage *usage;
};

static int get_name_fn(enrp_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	return eir_get_by_name_txn(t, c->name, c->eir);
}

static int get_id_fn(enrp_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	return eir_get_txn(t, c->id, c->eir);
}

static int usage_fn(enrp_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	return eir_usage_get_txn(t, c->id, c->usage);
}

int enrp_eir_get(enrp_store *st, const char *name, struct enrp_eir *out)
{
	struct get_ctx c = { .name = name, .eir = out };
	return enrp_store_read(st, get_name_fn, &c);
}

int enrp_eir_get_by_id(enrp_store *st, uint32_t id, struct enrp_eir *out)
{
	struct get_ctx c = { .id = id, .eir = out };
	return enrp_store_read(st, get_id_fn, &c);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void enrp_eir_statfs(uint64_t quota, uint64_t max_files, const struct enrp_eir_usage *u,
                     const struct statvfs *disk, struct statvfs *out)
{
	*out = *disk;
	uint64_t unit = disk->f_frsize ? disk->f_frsize : disk->f_bsize;
	uint64_t disk_free = disk->f_bavail > UINT64_MAX / (unit ? unit : 1)
	                     ? UINT64_MAX : (uint64_t)disk->f_bavail * unit;
	uint64_t room = disk_free;
	if (quota)
		room = min_u64(room, quota > u->bytes ? quota - u->bytes : 0);
	out->f_bsize = 1;
	out->f_frsize = 1;
	out->f_blocks = u->bytes + min_u64(room, UINT64_MAX - u->bytes);
	out->f_bfree = out->f_blocks - u->bytes;
	out->f_bavail = out->f_bfree;

	uint64_t ifree = disk->f_favail;
	if (max_files)
		ifree = min_u64(ifree, max_files > u->inodes ? max_files - u->inodes : 0);
	out->f_files = u->inodes + min_u64(ifree, UINT64_MAX - u->inodes);
	out->f_ffree = out->f_files - u->inodes;
	out->f_favail = out->f_ffree;
}

int enrp_eir_usage(enrp_store *st, uint32_t id, struct enrp_eir_usage *out)
{
	struct get_ctx c = { .id = id, .usage = out };
	return enrp_store_read(st, usage_fn, &c);
}

struct files_ctx {
	uint32_t id;
	struct enrp_eir_files *out;
};

static int files_fn(enrp_txn *t, void *arg)
{
	struct files_ctx *c = arg;
	struct enrp_eir e;
	int rc = eir_get_txn(t, c->id, &e);
	return rc ? rc : eir_files_get_txn(t, c->id, c->out);
}

int enrp_eir_files(enrp_store *st, uint32_t id, struct enrp_eir_files *out)
{
	struct files_ctx c = { id, out };
	return enrp_store_read(st, files_fn, &c);
}

struct list_ctx {
	struct enrp_eir *v;
	size_t n, cap;
};

int eir_each_txn(enrp_txn *t, int (*cb)(const struct enrp_eir *eir, void *arg), void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, mrc;

	rc = txn_cursor(t, DBI_EIR_NAME, &cur);
	if (rc)
		return rc;
	while ((mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		struct enrp_eir e;
		if (v.mv_size != 4) {
			rc = -EIO;
			goto out_close;
		}
		rc = eir_get_txn(t, be32_get(v.mv_data), &e);
		if (rc == 0)
			rc = cb(&e, arg);
		if (rc)
			goto out_close;
	}
	if (mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
out_close:
	mdb_cursor_close(cur);
	return rc;
}

static int list_add(const struct enrp_eir *e, void *arg)
{
	struct list_ctx *c = arg;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct enrp_eir *nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = *e;
	return 0;
}

static int list_fn(enrp_txn *t, void *arg)
{
	struct list_ctx *c = arg;
	c->n = 0;
	return eir_each_txn(t, list_add, c);
}

int enrp_eir_list(enrp_store *st, int (*cb)(const struct enrp_eir *eir, void *arg), void *arg)
{
	struct list_ctx c = { NULL, 0, 0 };
	int rc;

	/* Collect first, call back afterwards: CB runs outside the read
	 * transaction, so it may use the store (even write) without holding a
	 * reader slot across it.  A registry is hundreds of EIRs, not millions. */
	rc = enrp_store_read(st, list_fn, &c);
	for (size_t i = 0; !rc && i < c.n; i++)
		rc = cb(&c.v[i], arg);
	free(c.v);
	return rc;
}

/* ---- changes ---- */


struct set_ctx {
	const char *name;
	const struct enrp_eir *nv;
	unsigned flags;
	const struct enrp_actor *actor;
};

static int set_fn(enrp_txn *t, void *arg)
{
	struct set_ctx *c = arg;
	struct enrp_eir old, e;
	char details[DETAILS_SIZE] = "", a[16], b[16];
	const char *event = "eir-set";
	bool root_changed = false;
	int rc;

	rc = eir_get_by_name_txn(t, c->name, &old);
	if (rc)
		return rc;
	if (old.state == ENRP_STATE_DESTROYED)
		return -EINVAL;
	if (old.state == ENRP_STATE_RETIRED)
		return -EROFS;
	e = old;

	if (c->flags & ENRP_EIR_SET_MODE && c->nv->mode != old.mode) {
		e.mode = c->nv->mode;
		event = "mode-change";
		enrp_details_add(details, sizeof(details), "mode", "%s->%s", enrp_mode_name(old.mode),
		            enrp_mode_name(e.mode));
		root_changed = true; /* entering an active EIR depends on the agent */
		if (old.mode == ENRP_MODE_ACTIVE && old.escalated_until) {
			e.escalated_until = 0;
			e.escalation_reason[0] = '\0';
			enrp_details_add(details, sizeof(details), "escalation", "ended");
		}
	}
	if (c->flags & ENRP_EIR_SET_OWNER &&
	    (c->nv->owner_uid != old.owner_uid || c->nv->owner_gid != old.owner_gid)) {
		e.owner_uid = c->nv->owner_uid;
		e.owner_gid = c->nv->owner_gid;
		root_changed = true;
		enrp_details_add(details, sizeof(details), "owner", "%u:%u->%u:%u", old.owner_uid,
		            old.owner_gid, e.owner_uid, e.owner_gid);
	}
	if (c->flags & ENRP_EIR_SET_CLASS && c->nv->eir_class != old.eir_class) {
		e.eir_class = c->nv->eir_class;
		enrp_details_add(details, sizeof(details), "class", "%u->%u", old.eir_class, e.eir_class);
	}
	/* A limit below what the EIR already holds fails every write at once
	 * and keeps failing until the owner deletes: only on purpose.  Judged
	 * here, in the transaction that applies it, against the counts it
	 * commits with (enrpctl's own reading only words the refusal). */
	bool lowers = (c->flags & ENRP_EIR_SET_QUOTA && c->nv->quota != old.quota &&
	               c->nv->quota) ||
	              (c->flags & ENRP_EIR_SET_MAX_FILES && c->nv->max_files != old.max_files &&
	               c->nv->max_files);
	if (lowers && !(c->flags & ENRP_EIR_SET_BELOW_USAGE)) {
		struct enrp_eir_usage u;
		rc = eir_usage_get_txn(t, old.id, &u);
		if (rc && rc != -ENOENT)
			return rc;
		if (rc == 0 && ((c->flags & ENRP_EIR_SET_QUOTA && c->nv->quota &&
		                 c->nv->quota != old.quota && c->nv->quota < u.bytes) ||
		                (c->flags & ENRP_EIR_SET_MAX_FILES && c->nv->max_files &&
		                 c->nv->max_files != old.max_files && c->nv->max_files < u.inodes)))
			return -EDQUOT;
	}
	if (c->flags & ENRP_EIR_SET_MAX_FILES && c->nv->max_files != old.max_files) {
		e.max_files = c->nv->max_files;
		enrp_details_add(details, sizeof(details), "max_files", "%llu->%llu",
		            (unsigned long long)old.max_files, (unsigned long long)e.max_files);
	}
	if (c->flags & ENRP_EIR_SET_QUOTA && c->nv->quota != old.quota) {
		e.quota = c->nv->quota;
		enrp_details_add(details, sizeof(details), "quota", "%llu->%llu",
		            (unsigned long long)old.quota, (unsigned long long)e.quota);
	}
	if (c->flags & ENRP_EIR_SET_AGENT && c->nv->agent_uid != old.agent_uid) {
		e.agent_uid = c->nv->agent_uid;
		fmt_uid(a, sizeof(a), old.agent_uid);
		fmt_uid(b, sizeof(b), e.agent_uid);
		enrp_details_add(details, sizeof(details), "agent", "%s->%s", a, b);
		root_changed = true;
	}
	if (c->flags & ENRP_EIR_SET_RPO && c->nv->rpo_minutes != old.rpo_minutes) {
		e.rpo_minutes = c->nv->rpo_minutes;
		enrp_details_add(details, sizeof(details), "rpo", "%u->%u", old.rpo_minutes, e.rpo_minutes);
	}
	if (c->flags & ENRP_EIR_SET_DIR_MODE && c->nv->dir_mode != old.dir_mode) {
		if (!dir_mode_valid(c->nv->dir_mode))
			return -EINVAL;
		e.dir_mode = c->nv->dir_mode;
		root_changed = true;
		enrp_details_add(details, sizeof(details), "dir_mode", "%04o->%04o", old.dir_mode,
		            e.dir_mode);
	}
	if (!details[0])
		return 0;
	rc = validate_fields(&e);
	if (rc)
		return rc;
	if (root_changed) {
		rc = ns_update_eir_root(t, &e);
		if (rc)
			return rc;
	}
	rc = eir_put(t, &e);
	if (rc)
		return rc;
	return journal_append_txn(t, c->actor, e.name, event, details);
}

int enrp_eir_set(enrp_store *st, const char *name, const struct enrp_eir *new_values,
                 unsigned flags, const struct enrp_actor *actor)
{
	struct set_ctx c = { name, new_values, flags, actor };

	if (flags & ~(unsigned)(ENRP_EIR_SET_MODE | ENRP_EIR_SET_OWNER | ENRP_EIR_SET_CLASS |
	                        ENRP_EIR_SET_QUOTA | ENRP_EIR_SET_AGENT | ENRP_EIR_SET_RPO |
	                        ENRP_EIR_SET_DIR_MODE | ENRP_EIR_SET_MAX_FILES |
	                        ENRP_EIR_SET_BELOW_USAGE))
		return -EINVAL;
	return enrp_store_write(st, set_fn, &c);
}

/* One state or escalation change: the callback receives the current record,
 * changes it (or returns an errno) and fills DETAILS; this file's common
 * path writes it and its journal record. */
enum change_kind {
	CHANGE_ESCALATE,
	CHANGE_DEESCALATE,
	CHANGE_SUSPEND,
	CHANGE_RESUME,
	CHANGE_RETIRE,
};

struct change_ctx {
	const char *name;
	enum change_kind kind;
	int64_t until;
	int64_t now;
	const char *reason;
	const struct enrp_actor *actor;
	unsigned flags; /* enrp_eir_escalate_flags */
};

static const char *const change_events[] = {
	[CHANGE_ESCALATE] = "escalate",
	[CHANGE_DEESCALATE] = "deescalate",
	[CHANGE_SUSPEND] = "suspend",
	[CHANGE_RESUME] = "resume",
	[CHANGE_RETIRE] = "retire",
};

static int apply_change(const struct change_ctx *c, struct enrp_eir *e, char *details,
                        size_t size)
{
	char when[40], prev[40];

	if (e->state == ENRP_STATE_DESTROYED)
		return -EINVAL;
	if (e->state == ENRP_STATE_RETIRED)
		return c->kind == CHANGE_RETIRE ? -EALREADY : -EROFS;
	switch (c->kind) {
	case CHANGE_ESCALATE:
		if (e->mode != ENRP_MODE_ACTIVE)
			return -EINVAL;
		if (e->escalated_until > c->now && c->until < e->escalated_until &&
		    !(c->flags & ENRP_EIR_ESCALATE_SHORTEN))
			return -EEXIST;
		enrp_time_format(c->until, when, sizeof(when));
		if (e->escalated_until > c->now) {
			enrp_time_format(e->escalated_until, prev, sizeof(prev));
			enrp_details_add(details, size, "until", "%s", when);
			enrp_details_add(details, size, "previous", "%s", prev);
		} else {
			enrp_details_add(details, size, "until", "%s", when);
		}
		enrp_details_add(details, size, "reason", "%s", c->reason);
		e->escalated_until = c->until;
		snprintf(e->escalation_reason, sizeof(e->escalation_reason), "%s", c->reason);
		return 0;
	case CHANGE_DEESCALATE:
		if (e->escalated_until == 0 || e->escalated_until <= c->now)
			return -EALREADY;
		enrp_time_format(e->escalated_until, when, sizeof(when));
		enrp_details_add(details, size, "until", "%s", when);
		e->escalated_until = 0;
		e->escalation_reason[0] = '\0';
		return 0;
	case CHANGE_SUSPEND:
		if (e->state == ENRP_STATE_SUSPENDED)
			return -EALREADY;
		if (e->state != ENRP_STATE_NORMAL)
			return -EINVAL;
		e->state = ENRP_STATE_SUSPENDED;
		snprintf(e->state_reason, sizeof(e->state_reason), "%s", c->reason);
		enrp_details_add(details, size, "reason", "%s", c->reason);
		return 0;
	case CHANGE_RESUME:
		if (e->state == ENRP_STATE_NORMAL)
			return -EALREADY;
		if (e->state != ENRP_STATE_SUSPENDED)
			return -EINVAL;
		/* The reason of the suspension it ends, for the reader of the log. */
		enrp_details_add(details, size, "suspended_for", "%s", e->state_reason);
		e->state = ENRP_STATE_NORMAL;
		e->state_reason[0] = '\0';
		return 0;
	case CHANGE_RETIRE:
		if (e->state == ENRP_STATE_RETIRED)
			return -EALREADY;
		enrp_details_add(details, size, "from", "%s", enrp_state_name(e->state));
		enrp_details_add(details, size, "reason", "%s", c->reason);
		e->state = ENRP_STATE_RETIRED;
		snprintf(e->state_reason, sizeof(e->state_reason), "%s", c->reason);
		/* Writes are refused forever now; an escalation would only
		 * mislead whoever reads the status. */
		e->escalated_until = 0;
		e->escalation_reason[0] = '\0';
		return 0;
	}
	return -EINVAL;
}

static int change_fn(enrp_txn *t, void *arg)
{
	struct change_ctx *c = arg;
	struct enrp_eir e;
	char details[DETAILS_SIZE] = "";
	int rc;

	rc = eir_get_by_name_txn(t, c->name, &e);
	if (rc)
		return rc;
	rc = apply_change(c, &e, details, sizeof(details));
	if (rc)
		return rc;
	rc = eir_put(t, &e);
	if (rc)
		return rc;
	return journal_append_txn(t, c->actor, e.name, change_events[c->kind], details);
}

static int change(enrp_store *st, struct change_ctx *c)
{
	/* One clock reading for the decision and its record. */
	c->now = enrp_now_ns();
	return enrp_store_write(st, change_fn, c);
}

int enrp_eir_escalate(enrp_store *st, const char *name, int64_t until, const char *reason,
                      unsigned flags, const struct enrp_actor *actor)
{
	struct change_ctx c = { name, CHANGE_ESCALATE, until, 0, reason, actor, flags };

	if (!reason_valid(reason, true) || (flags & ~(unsigned)ENRP_EIR_ESCALATE_SHORTEN))
		return -EINVAL;
	c.now = enrp_now_ns();
	if (until <= c.now)
		return -EINVAL;
	return enrp_store_write(st, change_fn, &c);
}

int enrp_eir_deescalate(enrp_store *st, const char *name, const struct enrp_actor *actor)
{
	struct change_ctx c = { name, CHANGE_DEESCALATE, 0, 0, "", actor, 0 };
	return change(st, &c);
}

int enrp_eir_suspend(enrp_store *st, const char *name, const char *reason,
                     const struct enrp_actor *actor)
{
	struct change_ctx c = { name, CHANGE_SUSPEND, 0, 0, reason, actor, 0 };

	if (!reason_valid(reason, true))
		return -EINVAL;
	return change(st, &c);
}

int enrp_eir_resume(enrp_store *st, const char *name, const struct enrp_actor *actor)
{
	struct change_ctx c = { name, CHANGE_RESUME, 0, 0, "", actor, 0 };
	return change(st, &c);
}

int enrp_eir_retire(enrp_store *st, const char *name, const char *reason,
                    const struct enrp_actor *actor)
{
	struct change_ctx c = { name, CHANGE_RETIRE, 0, 0, reason ? reason : "", actor, 0 };

	/* The reason is optional here: retirement follows an external decision
	 * (removal from the critical list) that has its own paperwork. */
	if (!reason_valid(reason, false))
		return -EINVAL;
	return change(st, &c);
}

/* ---- escalation expiry ---- */

struct expire_ctx {
	int64_t now;
	const struct enrp_actor *actor;
	uint32_t *ids;
	unsigned max_ids;
	unsigned expired;
	uint32_t *due; /* scratch: ids to end, owned */
	size_t ndue, cap;
};

/* Pass one collects, pass two changes: puts into DBI_EIR while a cursor walks
 * it are legal in LMDB, but collecting first keeps the walk obviously right. */
static int expire_collect(enrp_txn *t, struct expire_ctx *c)
{
	MDB_cursor *cur;
	MDB_val k, v;
	struct enrp_eir e;
	int rc, mrc;

	rc = txn_cursor(t, DBI_EIR, &cur);
	if (rc)
		return rc;
	while ((mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		rc = rec_eir_decode(v.mv_data, v.mv_size, &e);
		if (rc)
			goto out_close;
		if (e.escalated_until == 0 || e.escalated_until > c->now)
			continue;
		if (c->ndue == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 16;
			uint32_t *nd = realloc(c->due, cap * sizeof(*nd));
			if (!nd) {
				rc = -ENOMEM;
				goto out_close;
			}
			c->due = nd;
			c->cap = cap;
		}
		c->due[c->ndue++] = e.id;
	}
	if (mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
out_close:
	mdb_cursor_close(cur);
	return rc;
}

static int expire_fn(enrp_txn *t, void *arg)
{
	struct expire_ctx *c = arg;
	char details[DETAILS_SIZE], when[40];
	struct enrp_eir e;
	int rc;

	c->expired = 0;
	c->ndue = 0;
	rc = expire_collect(t, c);
	if (rc)
		return rc;
	for (size_t i = 0; i < c->ndue; i++) {
		rc = eir_get_txn(t, c->due[i], &e);
		if (rc)
			return rc;
		enrp_time_format(e.escalated_until, when, sizeof(when));
		details[0] = '\0';
		enrp_details_add(details, sizeof(details), "until", "%s", when);
		enrp_details_add(details, sizeof(details), "reason", "%s", e.escalation_reason);
		e.escalated_until = 0;
		e.escalation_reason[0] = '\0';
		rc = eir_put(t, &e);
		if (rc)
			return rc;
		rc = journal_append_txn(t, c->actor, e.name, "escalation-expired", details);
		if (rc)
			return rc;
		if (c->ids && c->expired < c->max_ids)
			c->ids[c->expired] = e.id;
		c->expired++;
	}
	return 0;
}

static int expire_check_fn(enrp_txn *t, void *arg)
{
	struct expire_ctx *c = arg;
	c->ndue = 0;
	return expire_collect(t, c);
}

int enrp_eir_expire_escalations(enrp_store *st, int64_t now, const struct enrp_actor *actor,
                                uint32_t *ids, unsigned max_ids, unsigned *expired)
{
	struct expire_ctx c = { .now = now, .actor = actor, .ids = ids, .max_ids = max_ids };
	int rc;

	if (expired)
		*expired = 0;
	/* The daemon calls this every second: look before taking the writer
	 * lock, which is needed only when something is due. */
	rc = enrp_store_read(st, expire_check_fn, &c);
	if (!rc && c.ndue)
		rc = enrp_store_write(st, expire_fn, &c);
	if (!rc && expired)
		*expired = c.expired;
	free(c.due);
	return rc;
}

/* ---- per-EIR settings (DBI_POLICY) ---- */

#define SETTING_NAME_MAX 32

static int setting_key(uint8_t *key, uint32_t id, const char *name, size_t *klen)
{
	size_t n = strlen(name);
	if (n == 0 || n > SETTING_NAME_MAX)
		return -EINVAL;
	be32_put(key, id);
	memcpy(key + 4, name, n);
	*klen = 4 + n;
	return 0;
}

int eir_setting_get(enrp_txn *t, uint32_t id, const char *name, const void **value,
                    size_t *len)
{
	uint8_t key[4 + SETTING_NAME_MAX];
	size_t klen;
	MDB_val v;
	int rc = setting_key(key, id, name, &klen);
	if (rc == 0)
		rc = txn_get(t, DBI_POLICY, key, klen, &v);
	if (rc == 0) {
		*value = v.mv_data;
		*len = v.mv_size;
	}
	return rc;
}

int eir_setting_put(enrp_txn *t, uint32_t id, const char *name, const void *value, size_t len)
{
	uint8_t key[4 + SETTING_NAME_MAX];
	size_t klen;
	int rc = setting_key(key, id, name, &klen);
	return rc ? rc : txn_put(t, DBI_POLICY, key, klen, value, len, 0);
}

int eir_setting_del(enrp_txn *t, uint32_t id, const char *name)
{
	uint8_t key[4 + SETTING_NAME_MAX];
	size_t klen;
	int rc = setting_key(key, id, name, &klen);
	if (rc == 0)
		rc = txn_del(t, DBI_POLICY, key, klen);
	return rc == -ENOENT ? 0 : rc;
}

