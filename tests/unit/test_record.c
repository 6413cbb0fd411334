/*
 * test_record.c — every record encoding round-trips, and every decoder
 * turns truncated, extended, wrongly versioned or random bytes into -EIO
 * (never a crash, never a half-filled success).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "record_int.h"

#include "../tap.h"

typedef int decode_fn(const void *p, size_t n, void *out);

static int dec_inode(const void *p, size_t n, void *out)
{
	return rec_inode_decode(p, n, out);
}

static int dec_eir(const void *p, size_t n, void *out)
{
	return rec_eir_decode(p, n, out);
}

static int dec_journal(const void *p, size_t n, void *out)
{
	return rec_journal_decode(p, n, out);
}

static int dec_usage(const void *p, size_t n, void *out)
{
	return rec_usage_decode(p, n, out);
}

static int dec_dirent(const void *p, size_t n, void *out)
{
	uint64_t *v = out;
	uint32_t type;
	return rec_dirent_decode(p, n, v, &type);
}

static int dec_head(const void *p, size_t n, void *out)
{
	uint8_t hash[32];
	return rec_journal_head_decode(p, n, out, hash);
}

/* Every strict prefix and one extra trailing byte must be refused. */
static void damaged(const char *what, decode_fn *dec, const uint8_t *buf, size_t len,
                    void *scratch)
{
	uint8_t tmp[8192];
	int bad = 0;

	for (size_t n = 0; n < len; n++)
		if (dec(buf, n, scratch) != -EIO)
			bad++;
	is_int(bad, 0, "%s: all %zu truncations give -EIO", what, len);

	memcpy(tmp, buf, len);
	tmp[len] = 0;
	is_int(dec(tmp, len + 1, scratch), -EIO, "%s: a trailing byte gives -EIO", what);
}

static void bad_version(const char *what, decode_fn *dec, const uint8_t *buf, size_t len,
                        void *scratch)
{
	uint8_t tmp[8192];

	memcpy(tmp, buf, len);
	tmp[0] = REC_VERSION_2 + 1;
	is_int(dec(tmp, len, scratch), -EIO, "%s: unknown version gives -EIO", what);
}

/* Deterministic xorshift: garbage that is the same on every run. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random bytes and bit flips of a good record: a decoder may accept a
 * well-formed result, but must answer 0 or -EIO and nothing else. */
static void garbage(const char *what, decode_fn *dec, const uint8_t *good, size_t len,
                    void *scratch)
{
	uint8_t tmp[8192];
	int bad = 0;

	for (int i = 0; i < 2000; i++) {
		size_t n = next_rand() % (len + 16);
		for (size_t j = 0; j < n; j++)
			tmp[j] = (uint8_t)next_rand();
		int rc = dec(tmp, n, scratch);
		if (rc != 0 && rc != -EIO)
			bad++;
	}
	for (size_t bit = 0; bit < len * 8; bit++) {
		memcpy(tmp, good, len);
		tmp[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = dec(tmp, len, scratch);
		if (rc != 0 && rc != -EIO)
			bad++;
	}
	is_int(bad, 0, "%s: random bytes and bit flips give 0 or -EIO", what);
}

static void inode(void)
{
	struct inode_rec a, b;
	struct rec_out o;

	memset(&a, 0, sizeof(a));
	a.eir_id = 7;
	a.mode = 0100644;
	a.uid = 1000;
	a.gid = 1001;
	a.nlink = 2;
	a.rdev = 0x0801;
	a.size = 1ULL << 40;
	a.flags = INODE_CORRUPT;
	a.gen = 0x0102030405060708ULL;
	a.sealed_at = 1795264734000000001LL;
	memset(a.sha256, 0xa5, sizeof(a.sha256));
	a.atime = -5;
	a.mtime = 1700000000123456789LL;
	a.ctime = 3;
	a.btime = 4;
	a.parent = 99;
	a.content = ENRP_CONTENT_SPOOL;
	a.alloc_end = (1ULL << 41) + 3;
	strcpy(a.target, "../some/where");

	rec_out_init(&o);
	is_int(rec_inode_encode(&a, &o), 0, "inode: encode");
	memset(&b, 0xff, sizeof(b));
	is_int(rec_inode_decode(o.buf, o.len, &b), 0, "inode: decode");
	ok(b.eir_id == a.eir_id && b.mode == a.mode && b.uid == a.uid && b.gid == a.gid &&
	   b.nlink == a.nlink && b.rdev == a.rdev && b.size == a.size && b.atime == a.atime &&
	   b.mtime == a.mtime && b.ctime == a.ctime && b.btime == a.btime &&
	   b.parent == a.parent && b.content == a.content && strcmp(b.target, a.target) == 0 &&
	   b.flags == a.flags && b.gen == a.gen && b.sealed_at == a.sealed_at &&
	   memcmp(b.sha256, a.sha256, 32) == 0 && b.alloc_end == a.alloc_end,
	   "inode: round trip keeps every field");
	/* A record of store format 1 (no alloc_end) still decodes, with 0. */
	o.buf[0] = REC_VERSION;
	is_int(rec_inode_decode(o.buf, o.len - 8, &b), 0, "inode: a version-1 record decodes");
	ok(b.alloc_end == 0 && b.size == a.size && strcmp(b.target, a.target) == 0,
	   "inode: version 1 has no reservation");
	is_int(rec_inode_decode(o.buf, o.len, &b), -EIO,
	       "inode: version 1 with the new field is too long");
	o.buf[0] = REC_VERSION_2;
	damaged("inode", dec_inode, o.buf, o.len, &b);
	bad_version("inode", dec_inode, o.buf, o.len, &b);
	garbage("inode", dec_inode, o.buf, o.len, &b);

	/* content precedes flags (1), gen (8), sealed_at (8), sha256 (32),
	 * the target's u16 length and bytes, and alloc_end (8). */
	size_t tlen = strlen(a.target);
	size_t content_at = o.len - 8 - tlen - 2 - 32 - 8 - 8 - 1 - 1;
	o.buf[content_at] = ENRP_CONTENT_SEALED + 1;
	is_int(rec_inode_decode(o.buf, o.len, &b), -EIO, "inode: unknown content kind gives -EIO");
	o.buf[content_at] = ENRP_CONTENT_SPOOL;
	o.buf[o.len - 8 - 1] = '\0';
	is_int(rec_inode_decode(o.buf, o.len, &b), -EIO, "inode: NUL inside a string gives -EIO");
	rec_out_release(&o);

	/* The longest symlink target fits; the encoder refuses nothing valid. */
	memset(a.target, 'x', ENRP_SYMLINK_MAX);
	a.target[ENRP_SYMLINK_MAX] = '\0';
	rec_out_init(&o);
	ok(rec_inode_encode(&a, &o) == 0 && rec_inode_decode(o.buf, o.len, &b) == 0 &&
	   strlen(b.target) == ENRP_SYMLINK_MAX, "inode: longest target round-trips");
	rec_out_release(&o);
}

static void eir(void)
{
	struct enrp_eir a, b;
	struct rec_out o;

	enrp_eir_defaults(&a, "billing-db.main_1");
	a.id = 42;
	a.owner_uid = 1000;
	a.owner_gid = 1000;
	a.dir_mode = 02750;
	a.eir_class = 1;
	a.mode = ENRP_MODE_ACTIVE;
	a.state = ENRP_STATE_SUSPENDED;
	a.quota = 50ULL << 30;
	a.agent_uid = 2000;
	a.rpo_minutes = 15;
	a.escalated_until = 1800000000000000000LL;
	strcpy(a.escalation_reason, "restore drill");
	strcpy(a.state_reason, "disk replacement");
	a.root_ino = 12345;
	a.created = 1700000000000000000LL;
	a.max_files = 1000000;

	rec_out_init(&o);
	is_int(rec_eir_encode(&a, &o), 0, "eir: encode");
	is_int(rec_eir_decode(o.buf, o.len, &b), 0, "eir: decode");
	ok(b.id == a.id && strcmp(b.name, a.name) == 0 && b.owner_uid == a.owner_uid &&
	   b.owner_gid == a.owner_gid && b.dir_mode == a.dir_mode && b.eir_class == a.eir_class &&
	   b.mode == a.mode && b.state == a.state && b.quota == a.quota &&
	   b.agent_uid == a.agent_uid && b.rpo_minutes == a.rpo_minutes &&
	   b.escalated_until == a.escalated_until &&
	   strcmp(b.escalation_reason, a.escalation_reason) == 0 &&
	   strcmp(b.state_reason, a.state_reason) == 0 && b.root_ino == a.root_ino &&
	   b.created == a.created && b.max_files == a.max_files,
	   "eir: round trip keeps every field");
	o.buf[0] = REC_VERSION;
	is_int(rec_eir_decode(o.buf, o.len - 8, &b), 0, "eir: a version-1 record decodes");
	ok(b.max_files == 0 && b.quota == a.quota, "eir: version 1 has no file limit");
	o.buf[0] = REC_VERSION_2;
	damaged("eir", dec_eir, o.buf, o.len, &b);
	bad_version("eir", dec_eir, o.buf, o.len, &b);
	garbage("eir", dec_eir, o.buf, o.len, &b);

	/* version(1) id(4) name(2+n) uid gid dir_mode(12) class(1) mode(1) */
	size_t mode_at = 1 + 4 + 2 + strlen(a.name) + 12 + 1;
	o.buf[mode_at] = ENRP_MODE_ACTIVE + 1;
	is_int(rec_eir_decode(o.buf, o.len, &b), -EIO, "eir: unknown mode gives -EIO");
	o.buf[mode_at] = ENRP_MODE_RW;
	o.buf[mode_at + 1] = ENRP_STATE_DESTROYED + 1;
	is_int(rec_eir_decode(o.buf, o.len, &b), -EIO, "eir: unknown state gives -EIO");
	rec_out_release(&o);

	/* A name one byte longer than the struct holds must not decode. */
	memset(&a.name, 'a', sizeof(a.name) - 1);
	rec_out_init(&o);
	rec_eir_encode(&a, &o);
	size_t nlen = sizeof(a.name);
	o.buf[5] = (uint8_t)(nlen >> 8);
	o.buf[6] = (uint8_t)nlen;
	is_int(rec_eir_decode(o.buf, o.len, &b), -EIO, "eir: over-long name gives -EIO");
	rec_out_release(&o);
}

/* A record as enrp wrote it before records named the person (format 1),
 * byte for byte: seq 5, time 1700000000000000001, uid 0, pid 4242, command
 * "enrpctl eir set", EIR "a", event "mode-change", details "mode=rw->ro",
 * prev_hash 0x01 0x02 ... 0x20.  Stores hold such records for years, and
 * their hashes are over these bytes: they must decode, and re-encode to
 * exactly themselves. */
static const uint8_t journal_v1[] = {
	0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x17, 0x97, 0x9c, 0xfe, 0x36, 0x2a, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x10, 0x92,
	0x00, 0x0f, 'e', 'n', 'r', 'p', 'c', 't', 'l', ' ', 'e', 'i', 'r', ' ', 's', 'e', 't',
	0x00, 0x01, 'a',
	0x00, 0x0b, 'm', 'o', 'd', 'e', '-', 'c', 'h', 'a', 'n', 'g', 'e',
	0x00, 0x0b, 'm', 'o', 'd', 'e', '=', 'r', 'w', '-', '>', 'r', 'o',
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static void journal_format1(void)
{
	struct enrp_journal_record r;
	struct rec_out o;

	is_int(rec_journal_decode(journal_v1, sizeof(journal_v1), &r), 0,
	       "journal: a format 1 record decodes");
	ok(r.format == ENRP_JOURNAL_FORMAT_1 && r.seq == 5 &&
	   r.time_ns == 1700000000000000001LL && r.uid == 0 && r.pid == 4242 &&
	   strcmp(r.command, "enrpctl eir set") == 0 && strcmp(r.eir, "a") == 0 &&
	   strcmp(r.event, "mode-change") == 0 && strcmp(r.details, "mode=rw->ro") == 0 &&
	   r.prev_hash[0] == 1 && r.prev_hash[31] == 32,
	   "journal: format 1 fields read back");
	ok(r.login_uid == ENRP_NO_UID && r.sudo_uid == ENRP_NO_UID && r.sudo_user[0] == '\0',
	   "journal: format 1 has no person (unset, not uid 0)");
	rec_out_init(&o);
	ok(rec_journal_encode(&r, &o) == 0 && o.len == sizeof(journal_v1) &&
	   memcmp(o.buf, journal_v1, o.len) == 0,
	   "journal: a format 1 record re-encodes to its own bytes (its hash holds)");
	rec_out_release(&o);
	damaged("journal v1", dec_journal, journal_v1, sizeof(journal_v1), &r);
}

static void journal(void)
{
	struct enrp_journal_record a, b;
	struct rec_out o;

	memset(&a, 0, sizeof(a));
	a.seq = 77;
	a.time_ns = 1700000000000000001LL;
	a.uid = 0;
	a.pid = 31337;
	a.login_uid = 1000;
	a.sudo_uid = 1001;
	strcpy(a.sudo_user, "alice");
	strcpy(a.command, "enrpctl eir set");
	strcpy(a.eir, "billing");
	strcpy(a.event, "mode-change");
	strcpy(a.details, "mode=rw->ro");
	for (int i = 0; i < 32; i++)
		a.prev_hash[i] = (uint8_t)(i * 7 + 1);

	rec_out_init(&o);
	is_int(rec_journal_encode(&a, &o), 0, "journal: encode");
	is_int(rec_journal_decode(o.buf, o.len, &b), 0, "journal: decode");
	ok(b.seq == a.seq && b.time_ns == a.time_ns && b.uid == a.uid && b.pid == a.pid &&
	   strcmp(b.command, a.command) == 0 && strcmp(b.eir, a.eir) == 0 &&
	   strcmp(b.event, a.event) == 0 && strcmp(b.details, a.details) == 0 &&
	   memcmp(b.prev_hash, a.prev_hash, 32) == 0 && b.login_uid == 1000 &&
	   b.sudo_uid == 1001 && strcmp(b.sudo_user, "alice") == 0 &&
	   b.format == ENRP_JOURNAL_FORMAT_2, "journal: round trip keeps every field");
	damaged("journal", dec_journal, o.buf, o.len, &b);
	bad_version("journal", dec_journal, o.buf, o.len, &b);
	garbage("journal", dec_journal, o.buf, o.len, &b);
	rec_out_release(&o);

	memset(a.details, 'd', ENRP_JOURNAL_DETAILS_MAX);
	a.details[ENRP_JOURNAL_DETAILS_MAX] = '\0';
	rec_out_init(&o);
	ok(rec_journal_encode(&a, &o) == 0 && rec_journal_decode(o.buf, o.len, &b) == 0 &&
	   strlen(b.details) == ENRP_JOURNAL_DETAILS_MAX, "journal: longest details round-trip");
	rec_out_release(&o);
	journal_format1();
}

static void fixed(void)
{
	struct enrp_eir_usage u = { 123456789012ULL, 42, 77, 3 }, v;
	uint8_t ubuf[USAGE_VAL_LEN];

	rec_usage_encode(ubuf, &u);
	ok(rec_usage_decode(ubuf, sizeof(ubuf), &v) == 0 && v.bytes == u.bytes &&
	   v.inodes == u.inodes && v.stored == u.stored && v.chunks == u.chunks, "usage: round trip");
	damaged("usage", dec_usage, ubuf, sizeof(ubuf), &v);
	bad_version("usage", dec_usage, ubuf, sizeof(ubuf), &v);
	garbage("usage", dec_usage, ubuf, sizeof(ubuf), &v);

	uint8_t dbuf[DIRENT_VAL_LEN];
	uint64_t ino;
	uint32_t type;
	rec_dirent_encode(dbuf, 0x0102030405060708ULL, 0120777);
	ok(rec_dirent_decode(dbuf, sizeof(dbuf), &ino, &type) == 0 &&
	   ino == 0x0102030405060708ULL && type == 0120000, "dirent: round trip (ino, type)");
	damaged("dirent", dec_dirent, dbuf, sizeof(dbuf), &ino);
	garbage("dirent", dec_dirent, dbuf, sizeof(dbuf), &ino);

	uint8_t hbuf[JOURNAL_HEAD_LEN], hash[32], hash2[32];
	uint64_t seq;
	for (int i = 0; i < 32; i++)
		hash[i] = (uint8_t)(255 - i);
	rec_journal_head_encode(hbuf, 1ULL << 40, hash);
	ok(rec_journal_head_decode(hbuf, sizeof(hbuf), &seq, hash2) == 0 && seq == 1ULL << 40 &&
	   memcmp(hash, hash2, 32) == 0, "journal head: round trip");
	damaged("journal head", dec_head, hbuf, sizeof(hbuf), &seq);
	bad_version("journal head", dec_head, hbuf, sizeof(hbuf), &seq);
	garbage("journal head", dec_head, hbuf, sizeof(hbuf), &seq);
}

static int dec_extent(const void *p, size_t n, void *out)
{
	struct extent_ent *v;
	size_t k;
	int rc = rec_extent_decode(p, n, &v, &k);
	*(size_t *)out = k;
	free(v);
	return rc;
}

static bool same_list(const struct extent_ent *a, const struct extent_ent *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(a[i].digest, b[i].digest, 32) || a[i].plain_len != b[i].plain_len ||
		    a[i].zeros != b[i].zeros)
			return false;
	return true;
}

static void extents(void)
{
	struct extent_ent x[4] = { { { 0 }, 0, 0 } }, *y;
	size_t n, scratch;
	struct rec_out o;
	for (int i = 0; i < 4; i++) {
		memset(x[i].digest, 0x41 + i, 32);
		x[i].plain_len = 65536u << i;
	}

	rec_out_init(&o);
	is_int(rec_extent_encode(x, 4, &o), 0, "extent list without runs: encode");
	ok(o.len == 1 + 8 + 4 * EXTENT_ENT_LEN && o.buf[0] == REC_VERSION,
	   "is written as version 1, 36 bytes an entry (what earlier enrp reads)");
	ok(rec_extent_decode(o.buf, o.len, &y, &n) == 0 && n == 4 && same_list(x, y, 4),
	   "and round-trips");
	free(y);
	damaged("extent v1", dec_extent, o.buf, o.len, &scratch);
	garbage("extent v1", dec_extent, o.buf, o.len, &scratch);
	rec_out_release(&o);

	/* A sparse file: chunk, 15 TB of zeros, chunk, 5 zero bytes. */
	memset(x[1].digest, 0, 32);
	x[1].plain_len = 0;
	x[1].zeros = 15ull << 40;
	memset(x[3].digest, 0, 32);
	x[3].plain_len = 0;
	x[3].zeros = 5;
	rec_out_init(&o);
	is_int(rec_extent_encode(x, 4, &o), 0, "extent list with runs of zeros: encode");
	ok(o.len == 1 + 8 + 2 * (4 + 32) + 2 * EXTENT_RUN_LEN && o.buf[0] == EXTENT_VERSION_RUNS,
	   "is written as version 2, a run in 12 bytes whatever its length");
	ok(rec_extent_decode(o.buf, o.len, &y, &n) == 0 && n == 4 && same_list(x, y, 4) &&
	   extent_len(&y[1]) == 15ull << 40 && extent_len(&y[2]) == 65536u << 2,
	   "and round-trips (lengths: runs their zeros, chunks their bytes)");
	free(y);
	damaged("extent v2", dec_extent, o.buf, o.len, &scratch);
	garbage("extent v2", dec_extent, o.buf, o.len, &scratch);
	o.buf[0] = EXTENT_VERSION_RUNS + 1;
	is_int(dec_extent(o.buf, o.len, &scratch), -EIO, "extent: version 3 gives -EIO");
	o.buf[0] = EXTENT_VERSION_RUNS;
	size_t run = 1 + 8 + 4 + 32 + 4; /* the u64 of the first run */
	memset(o.buf + run, 0, 8);
	is_int(dec_extent(o.buf, o.len, &scratch), -EIO, "extent: a run of 0 zeros gives -EIO");
	rec_out_release(&o);

	/* Version 2 is only for lists with a run: one list, one encoding. */
	uint8_t v2[1 + 8 + 4 + 32] = { EXTENT_VERSION_RUNS };
	be64_put(v2 + 1, 1);
	be32_put(v2 + 9, 100);
	is_int(dec_extent(v2, sizeof(v2), &scratch), -EIO,
	       "extent: version 2 without a run gives -EIO (not canonical)");
}

static void keys(void)
{
	uint8_t k1[8 + ENRP_NAME_MAX], k2[8 + ENRP_NAME_MAX];
	size_t n1 = key_dirent(k1, 1, "zzz");
	size_t n2 = key_dirent(k2, 256, "aaa");
	is_int(n1, 11, "dirent key: 8 bytes + name");
	ok(n2 == 11 && memcmp(k1, k2, 8) < 0, "dirent keys sort by parent numerically first");

	uint8_t b[8];
	be64_put(b, 0x0102030405060708ULL);
	ok(b[0] == 1 && b[7] == 8 && be64_get(b) == 0x0102030405060708ULL, "be64 is big-endian");
	be32_put(b, 0xa1b2c3d4u);
	ok(b[0] == 0xa1 && b[3] == 0xd4 && be32_get(b) == 0xa1b2c3d4u, "be32 is big-endian");
}

int main(void)
{
	inode();
	eir();
	journal();
	fixed();
	extents();
	keys();
	return done_testing();
}
