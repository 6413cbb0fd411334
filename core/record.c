/*
 * record.c — keys and values of every LMDB database.
 *
 * Integers are big-endian, so LMDB's byte order is numeric order.  Values lead
 * with a version byte and are built field by field, never by dumping a padded
 * struct.  Decoders take untrusted bytes (a damaged or foreign store): they
 * check every length, refuse unknown versions and trailing garbage, and
 * return -EIO rather than a half-filled struct.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/report.h>

#include "record_int.h"

void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, v >> 32);
	be32_put(p + 4, (uint32_t)v);
}

uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

void rec_out_init(struct rec_out *o)
{
	memset(o, 0, sizeof(*o));
}

void rec_out_release(struct rec_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

static uint8_t *out_reserve(struct rec_out *o, size_t n)
{
	if (o->err)
		return NULL;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 128;
		while (cap < o->len + n)
			cap *= 2;
		uint8_t *b = realloc(o->buf, cap);
		if (!b) {
			o->err = -ENOMEM;
			return NULL;
		}
		o->buf = b;
		o->cap = cap;
	}
	uint8_t *p = o->buf + o->len;
	o->len += n;
	return p;
}

void rec_put_u8(struct rec_out *o, uint8_t v)
{
	uint8_t *p = out_reserve(o, 1);
	if (p)
		*p = v;
}

void rec_put_u32(struct rec_out *o, uint32_t v)
{
	uint8_t *p = out_reserve(o, 4);
	if (p)
		be32_put(p, v);
}

void rec_put_u64(struct rec_out *o, uint64_t v)
{
	uint8_t *p = out_reserve(o, 8);
	if (p)
		be64_put(p, v);
}

void rec_put_bytes(struct rec_out *o, const void *src, size_t n)
{
	uint8_t *p = out_reserve(o, n);
	if (p && n)
		memcpy(p, src, n);
}

void rec_put_str(struct rec_out *o, const char *s)
{
	size_t n = strlen(s);
	if (n > UINT16_MAX) {
		o->err = o->err ? o->err : -ENAMETOOLONG;
		return;
	}
	uint8_t *p = out_reserve(o, 2);
	if (!p)
		return;
	p[0] = n >> 8;
	p[1] = (uint8_t)n;
	rec_put_bytes(o, s, n);
}

void rec_in_init(struct rec_in *in, const void *p, size_t n)
{
	in->p = p;
	in->left = n;
	in->err = 0;
}

static const uint8_t *in_take(struct rec_in *in, size_t n)
{
	if (in->err || in->left < n) {
		in->err = -EIO;
		return NULL;
	}
	const uint8_t *p = in->p;
	in->p += n;
	in->left -= n;
	return p;
}

uint8_t rec_get_u8(struct rec_in *in)
{
	const uint8_t *p = in_take(in, 1);
	return p ? *p : 0;
}

uint32_t rec_get_u32(struct rec_in *in)
{
	const uint8_t *p = in_take(in, 4);
	return p ? be32_get(p) : 0;
}

uint64_t rec_get_u64(struct rec_in *in)
{
	const uint8_t *p = in_take(in, 8);
	return p ? be64_get(p) : 0;
}

void rec_get_bytes(struct rec_in *in, void *dst, size_t n)
{
	const uint8_t *p = in_take(in, n);
	if (p && n)
		memcpy(dst, p, n);
	else if (!p)
		memset(dst, 0, n);
}

void rec_get_str(struct rec_in *in, char *dst, size_t dstsz)
{
	dst[0] = '\0';
	const uint8_t *lp = in_take(in, 2);
	if (!lp)
		return;
	size_t n = (size_t)lp[0] << 8 | lp[1];
	if (n >= dstsz) {
		in->err = -EIO;
		return;
	}
	const uint8_t *p = in_take(in, n);
	if (!p)
		return;
	/* An embedded NUL would make the C string disagree with the record. */
	if (memchr(p, '\0', n)) {
		in->err = -EIO;
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

int rec_in_end(struct rec_in *in)
{
	if (in->err)
		return in->err;
	return in->left ? -EIO : 0;
}

size_t key_dirent(uint8_t *buf, uint64_t parent, const char *name)
{
	size_t n = strnlen(name, ENRP_NAME_MAX);
	be64_put(buf, parent);
	memcpy(buf + 8, name, n);
	return 8 + n;
}

size_t key_xattr(uint8_t *buf, uint64_t ino, const char *name)
{
	return key_dirent(buf, ino, name);
}

int rec_inode_encode(const struct inode_rec *r, struct rec_out *o)
{
	rec_put_u8(o, REC_VERSION_2);
	rec_put_u32(o, r->eir_id);
	rec_put_u32(o, r->mode);
	rec_put_u32(o, r->uid);
	rec_put_u32(o, r->gid);
	rec_put_u32(o, r->nlink);
	rec_put_u64(o, r->rdev);
	rec_put_u64(o, r->size);
	rec_put_u64(o, (uint64_t)r->atime);
	rec_put_u64(o, (uint64_t)r->mtime);
	rec_put_u64(o, (uint64_t)r->ctime);
	rec_put_u64(o, (uint64_t)r->btime);
	rec_put_u64(o, r->parent);
	rec_put_u8(o, r->content);
	rec_put_u8(o, r->flags);
	rec_put_u64(o, r->gen);
	rec_put_u64(o, (uint64_t)r->sealed_at);
	rec_put_bytes(o, r->sha256, sizeof(r->sha256));
	rec_put_str(o, r->target);
	rec_put_u64(o, r->alloc_end);
	return o->err;
}

int rec_inode_decode(const void *p, size_t n, struct inode_rec *r)
{
	struct rec_in in;
	rec_in_init(&in, p, n);
	uint8_t version = rec_get_u8(&in);
	if (version != REC_VERSION && version != REC_VERSION_2)
		return -EIO;
	r->eir_id = rec_get_u32(&in);
	r->mode = rec_get_u32(&in);
	r->uid = rec_get_u32(&in);
	r->gid = rec_get_u32(&in);
	r->nlink = rec_get_u32(&in);
	r->rdev = rec_get_u64(&in);
	r->size = rec_get_u64(&in);
	r->atime = (int64_t)rec_get_u64(&in);
	r->mtime = (int64_t)rec_get_u64(&in);
	r->ctime = (int64_t)rec_get_u64(&in);
	r->btime = (int64_t)rec_get_u64(&in);
	r->parent = rec_get_u64(&in);
	r->content = rec_get_u8(&in);
	r->flags = rec_get_u8(&in);
	r->gen = rec_get_u64(&in);
	r->sealed_at = (int64_t)rec_get_u64(&in);
	rec_get_bytes(&in, r->sha256, sizeof(r->sha256));
	rec_get_str(&in, r->target, sizeof(r->target));
	r->alloc_end = version == REC_VERSION_2 ? rec_get_u64(&in) : 0;
	if (r->content > ENRP_CONTENT_SEALED)
		return -EIO;
	return rec_in_end(&in);
}

void rec_dirent_encode(uint8_t *buf, uint64_t ino, uint32_t mode)
{
	be64_put(buf, ino);
	buf[8] = (mode & S_IFMT) >> 12;
}

int rec_dirent_decode(const void *p, size_t n, uint64_t *ino, uint32_t *type)
{
	/* A type with bits outside S_IFMT would not survive re-encoding. */
	if (n != DIRENT_VAL_LEN || ((const uint8_t *)p)[8] > (S_IFMT >> 12))
		return -EIO;
	*ino = be64_get(p);
	*type = (uint32_t)((const uint8_t *)p)[8] << 12;
	return 0;
}

int rec_eir_encode(const struct enrp_eir *e, struct rec_out *o)
{
	rec_put_u8(o, REC_VERSION_2);
	rec_put_u32(o, e->id);
	rec_put_str(o, e->name);
	rec_put_u32(o, e->owner_uid);
	rec_put_u32(o, e->owner_gid);
	rec_put_u32(o, e->dir_mode);
	rec_put_u8(o, e->eir_class);
	rec_put_u8(o, (uint8_t)e->mode);
	rec_put_u8(o, (uint8_t)e->state);
	rec_put_u64(o, e->quota);
	rec_put_u32(o, e->agent_uid);
	rec_put_u32(o, e->rpo_minutes);
	rec_put_u64(o, (uint64_t)e->escalated_until);
	rec_put_str(o, e->escalation_reason);
	rec_put_str(o, e->state_reason);
	rec_put_u64(o, e->root_ino);
	rec_put_u64(o, (uint64_t)e->created);
	rec_put_u64(o, e->max_files);
	return o->err;
}

int rec_eir_decode(const void *p, size_t n, struct enrp_eir *e)
{
	struct rec_in in;
	memset(e, 0, sizeof(*e));
	rec_in_init(&in, p, n);
	uint8_t version = rec_get_u8(&in);
	if (version != REC_VERSION && version != REC_VERSION_2)
		return -EIO;
	e->id = rec_get_u32(&in);
	rec_get_str(&in, e->name, sizeof(e->name));
	e->owner_uid = rec_get_u32(&in);
	e->owner_gid = rec_get_u32(&in);
	e->dir_mode = rec_get_u32(&in);
	e->eir_class = rec_get_u8(&in);
	uint8_t mode = rec_get_u8(&in);
	uint8_t state = rec_get_u8(&in);
	e->quota = rec_get_u64(&in);
	e->agent_uid = rec_get_u32(&in);
	e->rpo_minutes = rec_get_u32(&in);
	e->escalated_until = (int64_t)rec_get_u64(&in);
	rec_get_str(&in, e->escalation_reason, sizeof(e->escalation_reason));
	rec_get_str(&in, e->state_reason, sizeof(e->state_reason));
	e->root_ino = rec_get_u64(&in);
	e->created = (int64_t)rec_get_u64(&in);
	e->max_files = version == REC_VERSION_2 ? rec_get_u64(&in) : 0;
	if (mode > ENRP_MODE_ACTIVE || state > ENRP_STATE_DESTROYED)
		return -EIO;
	e->mode = (enum enrp_mode)mode;
	e->state = (enum enrp_state)state;
	return rec_in_end(&in);
}

void rec_usage_encode(uint8_t *buf, const struct enrp_eir_usage *u)
{
	buf[0] = REC_VERSION;
	be64_put(buf + 1, u->bytes);
	be64_put(buf + 9, u->inodes);
	be64_put(buf + 17, u->stored);
	be64_put(buf + 25, u->chunks);
}

int rec_usage_decode(const void *p, size_t n, struct enrp_eir_usage *u)
{
	const uint8_t *b = p;
	if (n != USAGE_VAL_LEN || b[0] != REC_VERSION)
		return -EIO;
	u->bytes = be64_get(b + 1);
	u->inodes = be64_get(b + 9);
	u->stored = be64_get(b + 17);
	u->chunks = be64_get(b + 25);
	return 0;
}

void key_files(uint8_t buf[KEY_FILES_LEN], uint32_t eir_id)
{
	be32_put(buf, eir_id);
	buf[4] = 's';
}

void key_seal(uint8_t buf[KEY_SEAL_LEN], uint32_t eir_id, int64_t minute_s)
{
	be32_put(buf, eir_id);
	buf[4] = 'T';
	be64_put(buf + 5, (uint64_t)minute_s);
}

void rec_transfer_mark_encode(uint8_t buf[TRANSFER_MARK_VAL_LEN], int64_t done, int64_t missed)
{
	buf[0] = REC_VERSION;
	be64_put(buf + 1, (uint64_t)done);
	be64_put(buf + 9, (uint64_t)missed);
}

int rec_transfer_mark_decode(const void *p, size_t n, int64_t *done, int64_t *missed)
{
	const uint8_t *b = p;
	if (n != TRANSFER_MARK_VAL_LEN || b[0] != REC_VERSION)
		return -EIO;
	*done = (int64_t)be64_get(b + 1);
	*missed = (int64_t)be64_get(b + 9);
	return 0;
}

void rec_setting_i64_encode(uint8_t buf[SETTING_I64_LEN], int64_t v)
{
	buf[0] = REC_VERSION;
	be64_put(buf + 1, (uint64_t)v);
}

int rec_setting_i64_decode(const void *p, size_t n, int64_t *v)
{
	const uint8_t *b = p;
	if (n != SETTING_I64_LEN || b[0] != REC_VERSION)
		return -EIO;
	*v = (int64_t)be64_get(b + 1);
	return 0;
}

void rec_files_encode(uint8_t buf[FILES_VAL_LEN], const struct enrp_eir_files *f)
{
	buf[0] = REC_VERSION;
	be64_put(buf + 1, f->open);
	be64_put(buf + 9, f->pending);
	be64_put(buf + 17, f->verified);
	be64_put(buf + 25, f->corrupt);
	be64_put(buf + 33, (uint64_t)f->last_sealed);
	be64_put(buf + 41, f->tree_gen);
}

int rec_files_decode(const void *p, size_t n, struct enrp_eir_files *f)
{
	const uint8_t *b = p;
	if (n != FILES_VAL_LEN || b[0] != REC_VERSION)
		return -EIO;
	f->open = be64_get(b + 1);
	f->pending = be64_get(b + 9);
	f->verified = be64_get(b + 17);
	f->corrupt = be64_get(b + 25);
	f->last_sealed = (int64_t)be64_get(b + 33);
	f->tree_gen = be64_get(b + 41);
	return 0;
}

void rec_clock_floor_encode(uint8_t buf[CLOCK_FLOOR_VAL_LEN], int64_t floor_ns)
{
	buf[0] = REC_VERSION;
	be64_put(buf + 1, (uint64_t)floor_ns);
}

int rec_clock_floor_decode(const void *p, size_t n, int64_t *floor_ns)
{
	const uint8_t *b = p;
	if (n != CLOCK_FLOOR_VAL_LEN || b[0] != REC_VERSION)
		return -EIO;
	*floor_ns = (int64_t)be64_get(b + 1);
	return 0;
}

void key_queue(uint8_t buf[QUEUE_KEY_LEN], uint8_t eir_class, uint32_t eir_id, int64_t queued_at,
               uint64_t ino)
{
	buf[0] = eir_class;
	be32_put(buf + 1, eir_id);
	be64_put(buf + 5, (uint64_t)queued_at);
	be64_put(buf + 13, ino);
}

uint64_t key_queue_ino(const uint8_t buf[QUEUE_KEY_LEN])
{
	return be64_get(buf + 13);
}

uint32_t key_queue_eir(const uint8_t buf[QUEUE_KEY_LEN])
{
	return be32_get(buf + 1);
}

int64_t key_queue_at(const uint8_t buf[QUEUE_KEY_LEN])
{
	return (int64_t)be64_get(buf + 5);
}

void key_chunk(uint8_t buf[CHUNK_KEY_LEN], uint32_t eir_id, const uint8_t digest[32])
{
	be32_put(buf, eir_id);
	memcpy(buf + 4, digest, 32);
}

void rec_chunk_encode(uint8_t buf[CHUNK_VAL_LEN], const struct chunk_rec *c)
{
	buf[0] = REC_VERSION;
	be64_put(buf + 1, c->refs);
	be32_put(buf + 9, c->stored_len);
	be32_put(buf + 13, c->plain_len);
}

int rec_chunk_decode(const void *p, size_t n, struct chunk_rec *c)
{
	const uint8_t *b = p;
	if (n != CHUNK_VAL_LEN || b[0] != REC_VERSION)
		return -EIO;
	c->refs = be64_get(b + 1);
	c->stored_len = be32_get(b + 9);
	c->plain_len = be32_get(b + 13);
	return 0;
}

int rec_extent_encode(const struct extent_ent *v, size_t n, struct rec_out *o)
{
	bool runs = false;
	for (size_t i = 0; i < n && !runs; i++)
		runs = v[i].plain_len == 0;
	rec_put_u8(o, runs ? EXTENT_VERSION_RUNS : REC_VERSION);
	rec_put_u64(o, n);
	for (size_t i = 0; i < n; i++) {
		if (!runs) {
			rec_put_bytes(o, v[i].digest, 32);
			rec_put_u32(o, v[i].plain_len);
		} else if (v[i].plain_len) {
			rec_put_u32(o, v[i].plain_len);
			rec_put_bytes(o, v[i].digest, 32);
		} else {
			rec_put_u32(o, 0);
			rec_put_u64(o, v[i].zeros);
		}
	}
	return o->err;
}

int rec_extent_decode(const void *p, size_t len, struct extent_ent **v, size_t *n)
{
	struct rec_in in;
	rec_in_init(&in, p, len);
	*v = NULL;
	*n = 0;
	uint8_t version = rec_get_u8(&in);
	if (version != REC_VERSION && version != EXTENT_VERSION_RUNS)
		return -EIO;
	uint64_t count = rec_get_u64(&in);
	size_t least = version == REC_VERSION ? EXTENT_ENT_LEN : EXTENT_RUN_LEN;
	if (in.err || count > in.left / least)
		return -EIO;
	struct extent_ent *e = calloc(count ? count : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	bool runs = false;
	for (uint64_t i = 0; i < count && !in.err; i++) {
		if (version == REC_VERSION) {
			rec_get_bytes(&in, e[i].digest, 32);
			e[i].plain_len = rec_get_u32(&in);
			if (e[i].plain_len == 0)
				in.err = -EIO;
		} else if ((e[i].plain_len = rec_get_u32(&in))) {
			rec_get_bytes(&in, e[i].digest, 32);
		} else {
			e[i].zeros = rec_get_u64(&in);
			runs = true;
			if (e[i].zeros == 0)
				in.err = -EIO;
		}
	}
	if (version == EXTENT_VERSION_RUNS && !runs && !in.err)
		in.err = -EIO; /* not the canonical encoding of its list */
	int rc = rec_in_end(&in);
	if (rc) {
		free(e);
		return rc;
	}
	*v = e;
	*n = count;
	return 0;
}

/* Format 1: version 1, seq, time, uid, pid, command, eir, event, details,
 * prev_hash.  Format 2 adds the person after pid: login uid and sudo uid,
 * then sudo user after command.  A record is written in the format it says
 * (a decoded one re-encodes to its own bytes, which its hash is over). */
int rec_journal_encode(const struct enrp_journal_record *r, struct rec_out *o)
{
	bool v1 = r->format == ENRP_JOURNAL_FORMAT_1;

	rec_put_u8(o, v1 ? REC_VERSION : REC_VERSION_2);
	rec_put_u64(o, r->seq);
	rec_put_u64(o, (uint64_t)r->time_ns);
	rec_put_u32(o, r->uid);
	rec_put_u32(o, r->pid);
	if (!v1) {
		rec_put_u32(o, r->login_uid);
		rec_put_u32(o, r->sudo_uid);
	}
	rec_put_str(o, r->command);
	if (!v1)
		rec_put_str(o, r->sudo_user);
	rec_put_str(o, r->eir);
	rec_put_str(o, r->event);
	rec_put_str(o, r->details);
	rec_put_bytes(o, r->prev_hash, sizeof(r->prev_hash));
	return o->err;
}

int rec_journal_decode(const void *p, size_t n, struct enrp_journal_record *r)
{
	struct rec_in in;
	memset(r, 0, sizeof(*r));
	rec_in_init(&in, p, n);
	uint8_t version = rec_get_u8(&in);
	if (version != REC_VERSION && version != REC_VERSION_2)
		return -EIO;
	bool v1 = version == REC_VERSION;
	r->format = v1 ? ENRP_JOURNAL_FORMAT_1 : ENRP_JOURNAL_FORMAT_2;
	r->seq = rec_get_u64(&in);
	r->time_ns = (int64_t)rec_get_u64(&in);
	r->uid = rec_get_u32(&in);
	r->pid = rec_get_u32(&in);
	r->login_uid = v1 ? ENRP_NO_UID : rec_get_u32(&in);
	r->sudo_uid = v1 ? ENRP_NO_UID : rec_get_u32(&in);
	rec_get_str(&in, r->command, sizeof(r->command));
	if (!v1)
		rec_get_str(&in, r->sudo_user, sizeof(r->sudo_user));
	rec_get_str(&in, r->eir, sizeof(r->eir));
	rec_get_str(&in, r->event, sizeof(r->event));
	rec_get_str(&in, r->details, sizeof(r->details));
	rec_get_bytes(&in, r->prev_hash, sizeof(r->prev_hash));
	return rec_in_end(&in);
}

void rec_journal_head_encode(uint8_t *buf, uint64_t seq, const uint8_t hash[32])
{
	buf[0] = REC_VERSION;
	be64_put(buf + 1, seq);
	memcpy(buf + 9, hash, 32);
}

int rec_journal_head_decode(const void *p, size_t n, uint64_t *seq, uint8_t hash[32])
{
	const uint8_t *b = p;
	if (n != JOURNAL_HEAD_LEN || b[0] != REC_VERSION)
		return -EIO;
	*seq = be64_get(b + 1);
	memcpy(hash, b + 9, 32);
	return 0;
}

int rec_mirror_encode(const struct mirror_rec *m, struct rec_out *o)
{
	rec_put_u8(o, REC_VERSION);
	rec_put_str(o, m->target);
	rec_put_str(o, m->prev);
	rec_put_u64(o, m->since);
	return o->err;
}

int rec_mirror_decode(const void *p, size_t n, struct mirror_rec *m)
{
	struct rec_in in;
	memset(m, 0, sizeof(*m));
	rec_in_init(&in, p, n);
	if (rec_get_u8(&in) != REC_VERSION)
		return -EIO;
	rec_get_str(&in, m->target, sizeof(m->target));
	rec_get_str(&in, m->prev, sizeof(m->prev));
	m->since = rec_get_u64(&in);
	return rec_in_end(&in);
}

void key_holiday(uint8_t buf[KEY_HOLIDAY_LEN], enrp_day day)
{
	char date[ENRP_DAY_BUF];
	enrp_day_format(day, date);
	memcpy(buf, KEY_HOLIDAY_PREFIX, KEY_HOLIDAY_PREFIX_LEN);
	memcpy(buf + KEY_HOLIDAY_PREFIX_LEN, date, 10);
}

int key_holiday_day(const void *key, size_t len, enrp_day *day)
{
	char date[ENRP_DAY_BUF];
	if (len != KEY_HOLIDAY_LEN || memcmp(key, KEY_HOLIDAY_PREFIX, KEY_HOLIDAY_PREFIX_LEN) != 0)
		return -EIO;
	memcpy(date, (const uint8_t *)key + KEY_HOLIDAY_PREFIX_LEN, 10);
	date[10] = '\0';
	return enrp_day_parse(date, day) ? -EIO : 0;
}

int rec_holiday_encode(const char *note, struct rec_out *o)
{
	rec_put_u8(o, REC_VERSION);
	rec_put_str(o, note);
	return o->err;
}

int rec_holiday_decode(const void *p, size_t n, char *note, size_t notesz)
{
	struct rec_in in;
	rec_in_init(&in, p, n);
	if (rec_get_u8(&in) != REC_VERSION)
		return -EIO;
	rec_get_str(&in, note, notesz);
	return rec_in_end(&in);
}

int rec_zone_encode(const char *zone, struct rec_out *o)
{
	return rec_holiday_encode(zone, o);
}

int rec_zone_decode(const void *p, size_t n, char *zone, size_t zonesz)
{
	return rec_holiday_decode(p, n, zone, zonesz);
}

void key_restore(uint8_t buf[KEY_RESTORE_LEN], uint32_t eir_id, uint64_t seq)
{
	be32_put(buf, eir_id);
	be64_put(buf + 4, seq);
}

int rec_restore_encode(const struct enrp_restore_entry *r, struct rec_out *o)
{
	rec_put_u8(o, REC_VERSION);
	rec_put_u8(o, (uint8_t)r->kind);
	rec_put_u32(o, (uint32_t)r->day);
	rec_put_u64(o, (uint64_t)r->time_ns);
	rec_put_u8(o, (uint8_t)r->result);
	rec_put_u32(o, r->uid);
	rec_put_u32(o, r->pid);
	rec_put_str(o, r->command);
	rec_put_str(o, r->snapshot);
	rec_put_str(o, r->note);
	return o->err;
}

int rec_restore_decode(const void *p, size_t n, struct enrp_restore_entry *r)
{
	struct rec_in in;
	rec_in_init(&in, p, n);
	if (rec_get_u8(&in) != REC_VERSION)
		return -EIO;
	uint8_t kind = rec_get_u8(&in);
	r->day = (enrp_day)rec_get_u32(&in);
	r->time_ns = (int64_t)rec_get_u64(&in);
	uint8_t result = rec_get_u8(&in);
	r->uid = rec_get_u32(&in);
	r->pid = rec_get_u32(&in);
	rec_get_str(&in, r->command, sizeof(r->command));
	rec_get_str(&in, r->snapshot, sizeof(r->snapshot));
	rec_get_str(&in, r->note, sizeof(r->note));
	int rc = rec_in_end(&in);
	if (rc)
		return rc;
	/* A plan has no result and no snapshot; a record has both. */
	if (kind == ENRP_RESTORE_PLAN && result == ENRP_RESTORE_NONE && !r->snapshot[0])
		r->kind = ENRP_RESTORE_PLAN;
	else if (kind == ENRP_RESTORE_RECORD &&
	         (result == ENRP_RESTORE_PASS || result == ENRP_RESTORE_FAIL) && r->snapshot[0])
		r->kind = ENRP_RESTORE_RECORD;
	else
		return -EIO;
	r->result = result;
	return 0;
}

/* ---- the registration form (DBI_POLICY "form") ----
 * Version byte, then per filled-in field: u8 field, u16 length, bytes.
 * A field number this version does not know (a newer enrp wrote it) is
 * skipped, so an older enrp still shows the fields it knows. */
#define REC_FORM_VERSION 1

int rec_form_encode(const struct enrp_eir_form *f, struct rec_out *o)
{
	rec_put_u8(o, REC_FORM_VERSION);
	for (unsigned i = 0; i < ENRP_FORM_FIELDS; i++) {
		if (!f->value[i][0])
			continue;
		rec_put_u8(o, (uint8_t)i);
		rec_put_str(o, f->value[i]);
	}
	return o->err;
}

int rec_form_decode(const void *p, size_t n, struct enrp_eir_form *f)
{
	struct rec_in in;

	memset(f, 0, sizeof(*f));
	rec_in_init(&in, p, n);
	if (rec_get_u8(&in) != REC_FORM_VERSION)
		return -EIO;
	while (!in.err && in.left) {
		uint8_t field = rec_get_u8(&in);
		if (field < ENRP_FORM_FIELDS) {
			rec_get_str(&in, f->value[field], sizeof(f->value[field]));
			continue;
		}
		/* A field of a newer enrp: skip its u16 length and bytes. */
		size_t len = (size_t)rec_get_u8(&in) << 8;
		len |= rec_get_u8(&in);
		while (len-- && !in.err)
			rec_get_u8(&in);
	}
	return rec_in_end(&in);
}

/* ---- daily usage samples (DBI_USAGE be32(id) 'D' be32(day)) ---- */

#define USAGE_DAY_VERSION 1

void key_usage_day(uint8_t buf[KEY_USAGE_DAY_LEN], uint32_t eir_id, int32_t day)
{
	be32_put(buf, eir_id);
	buf[4] = 'D';
	be32_put(buf + 5, (uint32_t)day ^ 0x80000000u);
}

int32_t key_usage_day_date(const uint8_t buf[KEY_USAGE_DAY_LEN])
{
	return (int32_t)(be32_get(buf + 5) ^ 0x80000000u);
}

void rec_usage_day_encode(uint8_t buf[USAGE_DAY_VAL_LEN], const struct enrp_usage_sample *s)
{
	buf[0] = USAGE_DAY_VERSION;
	be64_put(buf + 1, s->used);
	be64_put(buf + 9, s->stored);
	be64_put(buf + 17, s->files);
}

int rec_usage_day_decode(const void *p, size_t n, struct enrp_usage_sample *s)
{
	const uint8_t *b = p;
	if (n != USAGE_DAY_VAL_LEN || b[0] != USAGE_DAY_VERSION)
		return -EIO;
	s->used = be64_get(b + 1);
	s->stored = be64_get(b + 9);
	s->files = be64_get(b + 17);
	return 0;
}
