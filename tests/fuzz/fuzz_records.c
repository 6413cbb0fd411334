/*
 * fuzz_records.c — the LMDB value decoders of core/record.c on hostile bytes.
 *
 * Input: one selector byte, then the value.  SEL % 16:
 *
 *   0 inode  1 eir  2 usage  3 journal  4 journal head  5 dirent  6 chunk
 *   7 extent list
 *      Decode the value.  The decoder must return 0 or -EIO (nothing else),
 *      never read out of bounds, never leak, and on success hand back a sane
 *      struct (enums in range, strings NUL-terminated inside their arrays,
 *      no zero-length extent, no entry both a chunk and a run of zeros).  Then the round trip: re-encode the struct,
 *      the bytes must be the input again (every format is canonical: one
 *      struct, one encoding), and decoding those bytes must give the same
 *      struct.
 *   8..15 the same record types the other way round: the value bytes are
 *      poured into the struct (strings cut to fit, enums folded into range,
 *      every seventh chunk length made a run of zeros), which is encoded,
 *      decoded and compared.
 *
 * Decoders get a buffer of exactly the value's length (libFuzzer's own copy
 * of the input ends where the value ends), so ASan sees any over-read.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "record_int.h"

#include "fuzz_common.h"

/* ---- struct comparison, field by field (padding and bytes after a
 * string's NUL are not part of a record) ---- */

static bool str_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool inode_eq(const struct inode_rec *a, const struct inode_rec *b)
{
	return a->eir_id == b->eir_id && a->mode == b->mode && a->uid == b->uid &&
	       a->gid == b->gid && a->nlink == b->nlink && a->rdev == b->rdev &&
	       a->size == b->size && a->atime == b->atime && a->mtime == b->mtime &&
	       a->ctime == b->ctime && a->btime == b->btime && a->parent == b->parent &&
	       a->content == b->content && a->flags == b->flags && a->gen == b->gen &&
	       a->sealed_at == b->sealed_at && !memcmp(a->sha256, b->sha256, 32) &&
	       !strcmp(a->target, b->target);
}

static bool eir_eq(const struct enrp_eir *a, const struct enrp_eir *b)
{
	return a->id == b->id && !strcmp(a->name, b->name) && a->owner_uid == b->owner_uid &&
	       a->owner_gid == b->owner_gid && a->dir_mode == b->dir_mode &&
	       a->eir_class == b->eir_class && a->mode == b->mode && a->state == b->state &&
	       a->quota == b->quota && a->agent_uid == b->agent_uid &&
	       a->rpo_minutes == b->rpo_minutes && a->escalated_until == b->escalated_until &&
	       !strcmp(a->escalation_reason, b->escalation_reason) &&
	       !strcmp(a->state_reason, b->state_reason) && a->root_ino == b->root_ino &&
	       a->created == b->created;
}

static bool usage_eq(const struct enrp_eir_usage *a, const struct enrp_eir_usage *b)
{
	return a->bytes == b->bytes && a->inodes == b->inodes && a->stored == b->stored &&
	       a->chunks == b->chunks;
}

/* HASH is not part of the encoding (it is computed on read). */
static bool journal_eq(const struct enrp_journal_record *a, const struct enrp_journal_record *b)
{
	return a->seq == b->seq && a->time_ns == b->time_ns && a->uid == b->uid &&
	       a->pid == b->pid && !strcmp(a->command, b->command) && !strcmp(a->eir, b->eir) &&
	       !strcmp(a->event, b->event) && !strcmp(a->details, b->details) &&
	       !memcmp(a->prev_hash, b->prev_hash, 32) && a->login_uid == b->login_uid &&
	       a->sudo_uid == b->sudo_uid && !strcmp(a->sudo_user, b->sudo_user);
}

static bool chunk_eq(const struct chunk_rec *a, const struct chunk_rec *b)
{
	return a->refs == b->refs && a->stored_len == b->stored_len &&
	       a->plain_len == b->plain_len;
}

static bool extents_eq(const struct extent_ent *a, size_t an, const struct extent_ent *b,
                       size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (memcmp(a[i].digest, b[i].digest, 32) || a[i].plain_len != b[i].plain_len ||
		    a[i].zeros != b[i].zeros)
			return false;
	return true;
}

/* The bytes of an encoding must be the input again. */
/* Inode and EIR records of version 1 still decode (their new fields 0) but
 * are written as version 2: only a current record re-encodes to its own
 * bytes; an older one must decode again to the same record. */
static bool current_version(const uint8_t *p, size_t n)
{
	return n > 0 && p[0] == REC_VERSION_2;
}

static void check_same_bytes(const char *what, const void *in, size_t n, const void *enc,
                             size_t encn)
{
	FUZZ_CHECK(encn == n && (n == 0 || memcmp(in, enc, n) == 0),
	           "%s: re-encoding gives %zu bytes that differ from the %zu decoded", what, encn,
	           n);
}

/* Every decoder promises 0 or -EIO, nothing else. */
static void check_rc(const char *what, int rc)
{
	FUZZ_CHECK(rc == 0 || rc == -EIO, "%s: decoder returned %d", what, rc);
}

/* Copies the bytes at *P (N left) into DST (SIZE), consuming them; what is
 * missing is zero. */
static void take(const uint8_t **p, size_t *n, void *dst, size_t size)
{
	size_t k = *n < size ? *n : size;
	memset(dst, 0, size);
	if (k)
		memcpy(dst, *p, k);
	*p += k;
	*n -= k;
}

/* A C string for a SIZE-byte array from the input: length from one byte,
 * then that many bytes, NULs replaced, cut to SIZE - 1. */
static void take_str(const uint8_t **p, size_t *n, char *dst, size_t size)
{
	uint8_t lenb = 0;
	take(p, n, &lenb, 1);
	size_t len = lenb;
	if (len > size - 1)
		len = size - 1;
	if (len > *n)
		len = *n;
	for (size_t i = 0; i < len; i++)
		dst[i] = (*p)[i] ? (char)(*p)[i] : 'x';
	dst[len] = '\0';
	*p += len;
	*n -= len;
}

/* ---- decode → encode → decode ---- */

static void fuzz_inode(const uint8_t *p, size_t n)
{
	struct inode_rec *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct rec_out o;
	int rc;

	FUZZ_CHECK(a && b, "out of memory");
	rc = rec_inode_decode(p, n, a);
	check_rc("inode", rc);
	if (rc)
		goto out;
	FUZZ_CHECK(a->content <= ENRP_CONTENT_SEALED, "inode: content %u", a->content);
	FUZZ_CHECK(str_ok(a->target, sizeof(a->target)), "inode: unterminated target");
	rec_out_init(&o);
	FUZZ_CHECK(rec_inode_encode(a, &o) == 0, "inode: encode of a decoded record failed");
	if (current_version(p, n))
		check_same_bytes("inode", p, n, o.buf, o.len);
	rc = rec_inode_decode(o.buf, o.len, b);
	FUZZ_CHECK(rc == 0 && inode_eq(a, b), "inode: round trip differs (rc %d)", rc);
	rec_out_release(&o);
out:
	free(a);
	free(b);
}

static void fuzz_eir(const uint8_t *p, size_t n)
{
	struct enrp_eir a, b;
	struct rec_out o;
	int rc = rec_eir_decode(p, n, &a);

	check_rc("eir", rc);
	if (rc)
		return;
	FUZZ_CHECK(a.mode <= ENRP_MODE_ACTIVE && a.state <= ENRP_STATE_DESTROYED,
	           "eir: mode %d state %d", (int)a.mode, (int)a.state);
	FUZZ_CHECK(str_ok(a.name, sizeof(a.name)) && str_ok(a.state_reason, sizeof(a.state_reason)) &&
	                   str_ok(a.escalation_reason, sizeof(a.escalation_reason)),
	           "eir: unterminated string");
	rec_out_init(&o);
	FUZZ_CHECK(rec_eir_encode(&a, &o) == 0, "eir: encode of a decoded record failed");
	if (current_version(p, n))
		check_same_bytes("eir", p, n, o.buf, o.len);
	rc = rec_eir_decode(o.buf, o.len, &b);
	FUZZ_CHECK(rc == 0 && eir_eq(&a, &b), "eir: round trip differs (rc %d)", rc);
	rec_out_release(&o);
}

static void fuzz_usage(const uint8_t *p, size_t n)
{
	struct enrp_eir_usage a, b;
	uint8_t buf[USAGE_VAL_LEN];
	int rc = rec_usage_decode(p, n, &a);

	check_rc("usage", rc);
	if (rc)
		return;
	rec_usage_encode(buf, &a);
	check_same_bytes("usage", p, n, buf, sizeof(buf));
	rc = rec_usage_decode(buf, sizeof(buf), &b);
	FUZZ_CHECK(rc == 0 && usage_eq(&a, &b), "usage: round trip differs (rc %d)", rc);
}

static void fuzz_journal(const uint8_t *p, size_t n)
{
	struct enrp_journal_record *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct rec_out o;
	int rc;

	FUZZ_CHECK(a && b, "out of memory");
	rc = rec_journal_decode(p, n, a);
	check_rc("journal", rc);
	if (rc)
		goto out;
	FUZZ_CHECK(str_ok(a->command, sizeof(a->command)) && str_ok(a->eir, sizeof(a->eir)) &&
	                   str_ok(a->event, sizeof(a->event)) &&
	                   str_ok(a->details, sizeof(a->details)) &&
	                   str_ok(a->sudo_user, sizeof(a->sudo_user)),
	           "journal: unterminated string");
	rec_out_init(&o);
	FUZZ_CHECK(rec_journal_encode(a, &o) == 0, "journal: encode of a decoded record failed");
	check_same_bytes("journal", p, n, o.buf, o.len);
	rc = rec_journal_decode(o.buf, o.len, b);
	FUZZ_CHECK(rc == 0 && journal_eq(a, b), "journal: round trip differs (rc %d)", rc);
	rec_out_release(&o);
out:
	free(a);
	free(b);
}

static void fuzz_journal_head(const uint8_t *p, size_t n)
{
	uint64_t seq, seq2;
	uint8_t hash[32], hash2[32], buf[JOURNAL_HEAD_LEN];
	int rc = rec_journal_head_decode(p, n, &seq, hash);

	check_rc("journal head", rc);
	if (rc)
		return;
	rec_journal_head_encode(buf, seq, hash);
	check_same_bytes("journal head", p, n, buf, sizeof(buf));
	rc = rec_journal_head_decode(buf, sizeof(buf), &seq2, hash2);
	FUZZ_CHECK(rc == 0 && seq == seq2 && !memcmp(hash, hash2, 32),
	           "journal head: round trip differs (rc %d)", rc);
}

static void fuzz_dirent(const uint8_t *p, size_t n)
{
	uint64_t ino, ino2;
	uint32_t type, type2;
	uint8_t buf[DIRENT_VAL_LEN];
	int rc = rec_dirent_decode(p, n, &ino, &type);

	check_rc("dirent", rc);
	if (rc)
		return;
	/* TYPE is a file type (mode & S_IFMT): nothing else fits a dirent. */
	FUZZ_CHECK((type & ~(uint32_t)S_IFMT) == 0, "dirent: type 0%o is not a file type", type);
	rec_dirent_encode(buf, ino, type);
	rc = rec_dirent_decode(buf, sizeof(buf), &ino2, &type2);
	FUZZ_CHECK(rc == 0 && ino == ino2 && type == type2,
	           "dirent: round trip differs (rc %d, type 0%o -> 0%o)", rc, type, type2);
	check_same_bytes("dirent", p, n, buf, sizeof(buf));
}

static void fuzz_chunk(const uint8_t *p, size_t n)
{
	struct chunk_rec a, b;
	uint8_t buf[CHUNK_VAL_LEN];
	int rc = rec_chunk_decode(p, n, &a);

	check_rc("chunk", rc);
	if (rc)
		return;
	rec_chunk_encode(buf, &a);
	check_same_bytes("chunk", p, n, buf, sizeof(buf));
	rc = rec_chunk_decode(buf, sizeof(buf), &b);
	FUZZ_CHECK(rc == 0 && chunk_eq(&a, &b), "chunk: round trip differs (rc %d)", rc);
}

static void fuzz_extent(const uint8_t *p, size_t n)
{
	struct extent_ent *a = (void *)1, *b = NULL;
	size_t an = 1, bn = 0;
	struct rec_out o;
	int rc = rec_extent_decode(p, n, &a, &an);

	check_rc("extent", rc);
	if (rc) {
		FUZZ_CHECK(a == NULL && an == 0, "extent: failed decode left *v=%p *n=%zu",
		           (void *)a, an);
		return;
	}
	FUZZ_CHECK(a != NULL, "extent: success with a NULL list");
	for (size_t i = 0; i < an; i++) {
		FUZZ_CHECK(extent_len(&a[i]) != 0, "extent %zu: zero length", i);
		FUZZ_CHECK(!a[i].plain_len || !a[i].zeros, "extent %zu: chunk and run at once", i);
	}
	rec_out_init(&o);
	FUZZ_CHECK(rec_extent_encode(a, an, &o) == 0, "extent: encode of a decoded list failed");
	check_same_bytes("extent", p, n, o.buf, o.len);
	rc = rec_extent_decode(o.buf, o.len, &b, &bn);
	FUZZ_CHECK(rc == 0 && extents_eq(a, an, b, bn), "extent: round trip differs (rc %d)", rc);
	rec_out_release(&o);
	free(a);
	free(b);
}

/* ---- struct (from the input) → encode → decode ---- */

static void build_inode(const uint8_t *p, size_t n)
{
	struct inode_rec *a = calloc(1, sizeof(*a)), *b = malloc(sizeof(*b));
	struct rec_out o;

	FUZZ_CHECK(a && b, "out of memory");
	take(&p, &n, &a->eir_id, sizeof(a->eir_id));
	take(&p, &n, &a->mode, sizeof(a->mode));
	take(&p, &n, &a->uid, sizeof(a->uid));
	take(&p, &n, &a->gid, sizeof(a->gid));
	take(&p, &n, &a->nlink, sizeof(a->nlink));
	take(&p, &n, &a->rdev, sizeof(a->rdev));
	take(&p, &n, &a->size, sizeof(a->size));
	take(&p, &n, &a->atime, sizeof(a->atime));
	take(&p, &n, &a->mtime, sizeof(a->mtime));
	take(&p, &n, &a->ctime, sizeof(a->ctime));
	take(&p, &n, &a->btime, sizeof(a->btime));
	take(&p, &n, &a->parent, sizeof(a->parent));
	take(&p, &n, &a->content, sizeof(a->content));
	a->content %= ENRP_CONTENT_SEALED + 1;
	take(&p, &n, &a->flags, sizeof(a->flags));
	take(&p, &n, &a->gen, sizeof(a->gen));
	take(&p, &n, &a->sealed_at, sizeof(a->sealed_at));
	take(&p, &n, a->sha256, sizeof(a->sha256));
	/* A symlink target can be as long as the array; the length byte alone
	 * cannot say so, so the rest of the input is the target. */
	size_t len = n < ENRP_SYMLINK_MAX ? n : ENRP_SYMLINK_MAX;
	for (size_t i = 0; i < len; i++)
		a->target[i] = p[i] ? (char)p[i] : 'x';
	a->target[len] = '\0';

	rec_out_init(&o);
	FUZZ_CHECK(rec_inode_encode(a, &o) == 0, "inode: encode failed");
	int rc = rec_inode_decode(o.buf, o.len, b);
	FUZZ_CHECK(rc == 0 && inode_eq(a, b), "inode: encode/decode differs (rc %d)", rc);
	rec_out_release(&o);
	free(a);
	free(b);
}

static void build_eir(const uint8_t *p, size_t n)
{
	struct enrp_eir a, b;
	struct rec_out o;
	uint8_t mode, state;

	memset(&a, 0, sizeof(a));
	take(&p, &n, &a.id, sizeof(a.id));
	take_str(&p, &n, a.name, sizeof(a.name));
	take(&p, &n, &a.owner_uid, sizeof(a.owner_uid));
	take(&p, &n, &a.owner_gid, sizeof(a.owner_gid));
	take(&p, &n, &a.dir_mode, sizeof(a.dir_mode));
	take(&p, &n, &a.eir_class, sizeof(a.eir_class));
	take(&p, &n, &mode, 1);
	take(&p, &n, &state, 1);
	a.mode = (enum enrp_mode)(mode % (ENRP_MODE_ACTIVE + 1));
	a.state = (enum enrp_state)(state % (ENRP_STATE_DESTROYED + 1));
	take(&p, &n, &a.quota, sizeof(a.quota));
	take(&p, &n, &a.agent_uid, sizeof(a.agent_uid));
	take(&p, &n, &a.rpo_minutes, sizeof(a.rpo_minutes));
	take(&p, &n, &a.escalated_until, sizeof(a.escalated_until));
	take_str(&p, &n, a.escalation_reason, sizeof(a.escalation_reason));
	take_str(&p, &n, a.state_reason, sizeof(a.state_reason));
	take(&p, &n, &a.root_ino, sizeof(a.root_ino));
	take(&p, &n, &a.created, sizeof(a.created));

	rec_out_init(&o);
	FUZZ_CHECK(rec_eir_encode(&a, &o) == 0, "eir: encode failed");
	int rc = rec_eir_decode(o.buf, o.len, &b);
	FUZZ_CHECK(rc == 0 && eir_eq(&a, &b), "eir: encode/decode differs (rc %d)", rc);
	rec_out_release(&o);
}

static void build_usage(const uint8_t *p, size_t n)
{
	struct enrp_eir_usage a, b;
	uint8_t buf[USAGE_VAL_LEN];

	take(&p, &n, &a.bytes, sizeof(a.bytes));
	take(&p, &n, &a.inodes, sizeof(a.inodes));
	take(&p, &n, &a.stored, sizeof(a.stored));
	take(&p, &n, &a.chunks, sizeof(a.chunks));
	rec_usage_encode(buf, &a);
	int rc = rec_usage_decode(buf, sizeof(buf), &b);
	FUZZ_CHECK(rc == 0 && usage_eq(&a, &b), "usage: encode/decode differs (rc %d)", rc);
}

static void build_journal(const uint8_t *p, size_t n)
{
	struct enrp_journal_record *a = calloc(1, sizeof(*a)), *b = malloc(sizeof(*b));
	struct rec_out o;

	FUZZ_CHECK(a && b, "out of memory");
	take(&p, &n, &a->seq, sizeof(a->seq));
	take(&p, &n, &a->time_ns, sizeof(a->time_ns));
	take(&p, &n, &a->uid, sizeof(a->uid));
	take(&p, &n, &a->pid, sizeof(a->pid));
	take(&p, &n, &a->login_uid, sizeof(a->login_uid));
	take(&p, &n, &a->sudo_uid, sizeof(a->sudo_uid));
	take(&p, &n, &a->format, sizeof(a->format));
	a->format = a->format & 1 ? ENRP_JOURNAL_FORMAT_1 : ENRP_JOURNAL_FORMAT_2;
	if (a->format == ENRP_JOURNAL_FORMAT_1)
		a->login_uid = a->sudo_uid = ENRP_NO_UID; /* what format 1 decodes to */
	take_str(&p, &n, a->command, sizeof(a->command));
	if (a->format == ENRP_JOURNAL_FORMAT_2)
		take_str(&p, &n, a->sudo_user, sizeof(a->sudo_user));
	take_str(&p, &n, a->eir, sizeof(a->eir));
	take_str(&p, &n, a->event, sizeof(a->event));
	take(&p, &n, a->prev_hash, sizeof(a->prev_hash));
	/* The rest is DETAILS, which may be longer than a length byte says. */
	size_t len = n < ENRP_JOURNAL_DETAILS_MAX ? n : ENRP_JOURNAL_DETAILS_MAX;
	for (size_t i = 0; i < len; i++)
		a->details[i] = p[i] ? (char)p[i] : 'x';
	a->details[len] = '\0';

	rec_out_init(&o);
	FUZZ_CHECK(rec_journal_encode(a, &o) == 0, "journal: encode failed");
	int rc = rec_journal_decode(o.buf, o.len, b);
	FUZZ_CHECK(rc == 0 && journal_eq(a, b), "journal: encode/decode differs (rc %d)", rc);
	rec_out_release(&o);
	free(a);
	free(b);
}

static void build_journal_head(const uint8_t *p, size_t n)
{
	uint64_t seq, seq2;
	uint8_t hash[32], hash2[32], buf[JOURNAL_HEAD_LEN];

	take(&p, &n, &seq, sizeof(seq));
	take(&p, &n, hash, sizeof(hash));
	rec_journal_head_encode(buf, seq, hash);
	int rc = rec_journal_head_decode(buf, sizeof(buf), &seq2, hash2);
	FUZZ_CHECK(rc == 0 && seq == seq2 && !memcmp(hash, hash2, 32),
	           "journal head: encode/decode differs (rc %d)", rc);
}

static void build_dirent(const uint8_t *p, size_t n)
{
	uint64_t ino, ino2;
	uint32_t mode, type;
	uint8_t buf[DIRENT_VAL_LEN];

	take(&p, &n, &ino, sizeof(ino));
	take(&p, &n, &mode, sizeof(mode));
	rec_dirent_encode(buf, ino, mode);
	int rc = rec_dirent_decode(buf, sizeof(buf), &ino2, &type);
	FUZZ_CHECK(rc == 0 && ino == ino2 && type == (mode & S_IFMT),
	           "dirent: encode/decode differs (rc %d, mode 0%o type 0%o)", rc, mode, type);
}

static void build_chunk(const uint8_t *p, size_t n)
{
	struct chunk_rec a, b;
	uint8_t buf[CHUNK_VAL_LEN];

	take(&p, &n, &a.refs, sizeof(a.refs));
	take(&p, &n, &a.stored_len, sizeof(a.stored_len));
	take(&p, &n, &a.plain_len, sizeof(a.plain_len));
	rec_chunk_encode(buf, &a);
	int rc = rec_chunk_decode(buf, sizeof(buf), &b);
	FUZZ_CHECK(rc == 0 && chunk_eq(&a, &b), "chunk: encode/decode differs (rc %d)", rc);
}

static void build_extent(const uint8_t *p, size_t n)
{
	size_t count = n / EXTENT_ENT_LEN;
	struct extent_ent *a = calloc(count ? count : 1, sizeof(*a)), *b = NULL;
	size_t bn = 0;
	struct rec_out o;

	FUZZ_CHECK(a, "out of memory");
	for (size_t i = 0; i < count; i++) {
		take(&p, &n, a[i].digest, 32);
		take(&p, &n, &a[i].plain_len, sizeof(a[i].plain_len));
		if (a[i].plain_len % 7 == 0) {
			/* a run of zeros: no digest, a length of its own */
			memset(a[i].digest, 0, 32);
			a[i].zeros = ((uint64_t)a[i].plain_len << 20) | 1;
			a[i].plain_len = 0;
		}
	}
	rec_out_init(&o);
	FUZZ_CHECK(rec_extent_encode(a, count, &o) == 0, "extent: encode failed");
	int rc = rec_extent_decode(o.buf, o.len, &b, &bn);
	FUZZ_CHECK(rc == 0 && extents_eq(a, count, b, bn), "extent: encode/decode differs (rc %d)",
	           rc);
	rec_out_release(&o);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const fn[16])(const uint8_t *, size_t) = {
		fuzz_inode,  fuzz_eir,    fuzz_usage,   fuzz_journal,  fuzz_journal_head,
		fuzz_dirent, fuzz_chunk,  fuzz_extent,  build_inode,   build_eir,
		build_usage, build_journal, build_journal_head, build_dirent, build_chunk,
		build_extent,
	};

	if (size < 1)
		return 0;
	fn[data[0] % 16](data + 1, size - 1);
	return 0;
}
