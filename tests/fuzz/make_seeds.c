/*
 * make_seeds.c — writes the seed corpora of the fuzz targets from real
 * encodings: records from core/record.c's encoders, frames from
 * enrp_codec_encode() (keyed ones with the frame target's fixed key and
 * digest, so they decode there), zstd frames for the wrapped modes, the
 * unit spellings the documentation names, and the journal mirror's own
 * syslog messages, anchor lines and target spellings.
 *
 *   make fuzz-seeds      (= build-fuzz/make_seeds tests/fuzz/corpus)
 *
 * Keyed frames carry a random nonce, so regenerating changes those files;
 * everything else is byte-for-byte stable.  Built with the ordinary
 * compiler, not instrumented.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zstd.h>

#include <enrp/codec.h>

#include "journal_int.h"
#include "record_int.h"

#include "fuzz_common.h"

static const char *root;

static void die(const char *what)
{
	fprintf(stderr, "make_seeds: %s\n", what);
	exit(1);
}

static void mkdirs(const char *target)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", root);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("cannot create the corpus directory");
	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("cannot create a target directory");
}

/* Writes SEL followed by the N bytes at P as ROOT/TARGET/NAME. */
static void seed(const char *target, const char *name, uint8_t sel, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fputc(sel, f) == EOF || (n && fwrite(p, 1, n, f) != n) || fclose(f))
		die(path);
}

/* xorshift64*: the same bytes on every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint8_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint8_t)((rng_state * 0x2545f4914f6cdd1dull) >> 56);
}

static void fill_text(uint8_t *p, size_t n)
{
	static const char text[] = "the backup of record is kept for seven years and every chunk "
	                           "is checked on read; ";
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)text[i % (sizeof(text) - 1)];
}

/* ---- records ---- */

static void records(void)
{
	struct rec_out o;
	char name[64];

	mkdirs("records");

	struct inode_rec *ino = calloc(1, sizeof(*ino));
	if (!ino)
		die("out of memory");
	ino->eir_id = 3;
	ino->mode = S_IFREG | 0640;
	ino->uid = 1000;
	ino->gid = 1000;
	ino->nlink = 1;
	ino->size = 123456;
	ino->atime = ino->mtime = ino->ctime = ino->btime = 1767225600000000000LL;
	ino->parent = 7;
	ino->content = ENRP_CONTENT_SEALED;
	ino->flags = INODE_QUEUED;
	ino->gen = 4;
	ino->sealed_at = 1767225601000000000LL;
	memset(ino->sha256, 0xab, sizeof(ino->sha256));
	for (int v = 0; v < 3; v++) {
		if (v == 1) {
			ino->mode = S_IFLNK | 0777;
			ino->content = ENRP_CONTENT_NONE;
			strcpy(ino->target, "../some/where/else");
		} else if (v == 2) {
			ino->mode = S_IFDIR | 0770;
			ino->content = ENRP_CONTENT_SPOOL;
			ino->atime = -1;
			ino->target[0] = '\0';
		}
		rec_out_init(&o);
		if (rec_inode_encode(ino, &o))
			die("inode encode");
		snprintf(name, sizeof(name), "inode-%d", v);
		seed("records", name, 0, o.buf, o.len);
		snprintf(name, sizeof(name), "build-inode-%d", v);
		seed("records", name, 8, o.buf + 1, o.len - 1);
		rec_out_release(&o);
	}
	free(ino);

	struct enrp_eir e;
	memset(&e, 0, sizeof(e));
	e.id = 3;
	strcpy(e.name, "payroll");
	e.owner_uid = 1000;
	e.owner_gid = 1000;
	e.dir_mode = 0770;
	e.eir_class = 1;
	e.mode = ENRP_MODE_ACTIVE;
	e.state = ENRP_STATE_NORMAL;
	e.quota = 50ull << 30;
	e.agent_uid = 1001;
	e.rpo_minutes = 60;
	e.escalated_until = 1767225600000000000LL;
	strcpy(e.escalation_reason, "restore test");
	e.root_ino = 12;
	e.created = 1767225600000000000LL;
	for (int v = 0; v < 2; v++) {
		if (v == 1) {
			e.mode = ENRP_MODE_RO;
			e.state = ENRP_STATE_RETIRED;
			memset(e.name, 'n', ENRP_EIR_NAME_MAX);
			e.name[ENRP_EIR_NAME_MAX] = '\0';
			memset(e.state_reason, 'r', ENRP_REASON_MAX);
			e.state_reason[ENRP_REASON_MAX] = '\0';
			e.escalation_reason[0] = '\0';
		}
		rec_out_init(&o);
		if (rec_eir_encode(&e, &o))
			die("eir encode");
		snprintf(name, sizeof(name), "eir-%d", v);
		seed("records", name, 1, o.buf, o.len);
		rec_out_release(&o);
	}

	uint8_t buf[64];
	struct enrp_eir_usage u = { 1 << 20, 12, 300000, 5 };
	rec_usage_encode(buf, &u);
	seed("records", "usage", 2, buf, USAGE_VAL_LEN);

	struct enrp_journal_record *j = calloc(1, sizeof(*j));
	if (!j)
		die("out of memory");
	j->seq = 42;
	j->time_ns = 1767225600000000000LL;
	j->uid = 0;
	j->pid = 1234;
	strcpy(j->command, "enrpctl eir set");
	strcpy(j->eir, "payroll");
	strcpy(j->event, "mode-change");
	strcpy(j->details, "old=rw new=ro");
	memset(j->prev_hash, 0x11, sizeof(j->prev_hash));
	rec_out_init(&o);
	if (rec_journal_encode(j, &o))
		die("journal encode");
	seed("records", "journal", 3, o.buf, o.len);
	rec_out_release(&o);
	memset(j->details, 'd', ENRP_JOURNAL_DETAILS_MAX);
	j->details[ENRP_JOURNAL_DETAILS_MAX] = '\0';
	j->eir[0] = '\0';
	rec_out_init(&o);
	if (rec_journal_encode(j, &o))
		die("journal encode");
	seed("records", "journal-long", 3, o.buf, o.len);
	rec_out_release(&o);
	free(j);

	uint8_t hash[32];
	memset(hash, 0x22, sizeof(hash));
	rec_journal_head_encode(buf, 42, hash);
	seed("records", "journal-head", 4, buf, JOURNAL_HEAD_LEN);

	rec_dirent_encode(buf, 99, S_IFDIR | 0755);
	seed("records", "dirent-dir", 5, buf, DIRENT_VAL_LEN);
	rec_dirent_encode(buf, 100, S_IFREG | 0644);
	seed("records", "dirent-reg", 5, buf, DIRENT_VAL_LEN);

	struct chunk_rec c = { 2, 70000, 262144 };
	rec_chunk_encode(buf, &c);
	seed("records", "chunk", 6, buf, CHUNK_VAL_LEN);

	struct extent_ent x[3] = { 0 };
	for (int i = 0; i < 3; i++) {
		memset(x[i].digest, 0x30 + i, 32);
		x[i].plain_len = 262144u << i;
	}
	for (size_t n = 0; n <= 3; n += 1) {
		rec_out_init(&o);
		if (rec_extent_encode(x, n, &o))
			die("extent encode");
		snprintf(name, sizeof(name), "extent-%zu", n);
		seed("records", name, 7, o.buf, o.len);
		rec_out_release(&o);
	}
	/* A sparse file's list: a chunk, a run of 15 TB of zeros, a chunk. */
	memset(x[1].digest, 0, 32);
	x[1].plain_len = 0;
	x[1].zeros = 15ull << 40;
	rec_out_init(&o);
	if (rec_extent_encode(x, 3, &o))
		die("extent encode");
	seed("records", "extent-runs", 7, o.buf, o.len);
	rec_out_release(&o);

	/* The encode → decode modes take raw struct bytes. */
	uint8_t raw[200];
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = rnd();
	for (int sel = 9; sel < 16; sel++) {
		snprintf(name, sizeof(name), "build-%d", sel);
		seed("records", name, (uint8_t)sel, raw, sel == 15 ? 3 * EXTENT_ENT_LEN : 120);
	}
}

/* ---- frames ---- */

static void frames(void)
{
	static const size_t sizes[] = { 0, 5, 1000, 3000 };
	uint8_t data_key[ENRP_KEY_LEN], digest[ENRP_DIGEST_LEN];
	struct enrp_eir_key key;
	enrp_codec *c;
	char name[64];

	mkdirs("frame");
	fuzz_frame_data_key(data_key);
	fuzz_frame_digest(digest);
	if (enrp_eir_key_derive(data_key, &key) || enrp_codec_new(1, &c))
		die("codec");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *plain = malloc(n + 1), *frame = malloc(enrp_codec_bound(n)), *z;
		size_t flen, zcap = ZSTD_compressBound(n), zlen;
		if (!plain || !frame)
			die("out of memory");
		if (i == 3)
			for (size_t k = 0; k < n; k++)
				plain[k] = rnd(); /* incompressible: a raw block */
		else
			fill_text(plain, n);

		for (int keyed = 0; keyed < 2; keyed++) {
			if (enrp_codec_encode(c, keyed ? &key : NULL, keyed ? digest : NULL, plain, n,
			                      frame, enrp_codec_bound(n), &flen))
				die("encode");
			snprintf(name, sizeof(name), "%s-%zu", keyed ? "keyed" : "plain", n);
			seed("frame", name, keyed ? 1 : 0, frame, flen);
		}

		/* Wrapped modes: W=1 (plain length from the zstd header), PLEN 0,
		 * then a checksummed zstd frame. */
		z = malloc(4 + zcap);
		if (!z)
			die("out of memory");
		ZSTD_CCtx *zc = ZSTD_createCCtx();
		ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 1);
		zlen = ZSTD_compress2(zc, z + 4, zcap, plain, n);
		ZSTD_freeCCtx(zc);
		if (ZSTD_isError(zlen))
			die("zstd");
		memcpy(z, "\x01\x00\x00\x00", 4);
		snprintf(name, sizeof(name), "wrapped-%zu", n);
		seed("frame", name, 2, z, 4 + zlen);
		snprintf(name, sizeof(name), "wrapped-keyed-%zu", n);
		seed("frame", name, 3, z, 4 + zlen);
		free(z);

		snprintf(name, sizeof(name), "roundtrip-%zu", n);
		seed("frame", name, 4, plain, n);
		/* Tamper: POS, XOR, K, plaintext. */
		uint8_t *t = malloc(4 + n);
		if (!t)
			die("out of memory");
		t[0] = 0;
		t[1] = (uint8_t)(20 + i);
		t[2] = 0x01;
		t[3] = (uint8_t)(i & 1);
		fill_text(t + 4, n);
		snprintf(name, sizeof(name), "tamper-%zu", n);
		seed("frame", name, 5, t, 4 + n);
		free(t);
		free(plain);
		free(frame);
	}
	enrp_codec_free(c);
	enrp_eir_key_wipe(&key);
}

/* ---- retention: selector digit, then a policy, a date or snapshots ---- */

static void retention(void)
{
#define S(x) { x, sizeof(x) - 1 }
	static const struct {
		const char *s;
		size_t n;
	} seeds[] = {
		S("0"), S("0files=90"), S("0keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3"),
		S("0files=90,keep-last=1,keep-hourly=24,keep-daily=7,keep-weekly=4,keep-monthly=12,"
		  "keep-yearly=3"),
		S("0keep-yearly=3,files=1"), S("0keep-daily=0"), S("0keep-daily=1,keep-daily=2"),
		S("0files=0"), S("0keep-last=100001"), S("0keep-daily=,"), S("0keep-x=1"),
		S("12031-01-01"), S("12031-01-01T10:00"), S("12031-01-01T10:00:30Z"),
		S("22031-01-01T10:00+05:00"), S("22031-01-01 10:00-03:30"), S("21970-01-01"),
		S("32024-03-31T02:30"), S("32023-10-29T02:30:00"), S("32028-02-29"), S("32261-12-31"),
		S("12031-02-29"), S("12031-01-01T24:00"),
		/* selection: zone, six keep counts, then 4-byte times */
		S("4\x01\x01\x01\x02\x01\x01\x01\x00\x00\x10\x00\x00\x01\x00\x00\x00\x10\x00\x00"
		  "\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00"),
		S("5\x02\x00\x00\x00\x00\x00\x05\x03\x20\x00\x00\x03\x20\x00\x01\x03\x20\x00\x02"
		  "\x04\x00\x00\x00"),
		S("6\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"),
	};
#undef S
	char name[64];

	mkdirs("retention");
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		snprintf(name, sizeof(name), "seed-%02zu", i);
		seed("retention", name, (uint8_t)seeds[i].s[0], seeds[i].s + 1, seeds[i].n - 1);
	}
}

/* ---- units: selector digit, then the text ---- */

static void units(void)
{
#define S(x) { x, sizeof(x) - 1 }
	static const struct {
		const char *s;
		size_t n;
	} seeds[] = {
		/* Inputs that showed core bugs are not seeds but regressions
		 * (tests/fuzz/regress/), so a clean corpus stays clean. */
		S("0"), S("00"), S("01024"), S("0512K"), S("050G"), S("01.5T"), S("02TiB"),
		S("0none"), S("01KiB"), S("07.25MB"), S("08191P"), S("00.5k"),
		S("00.000000000000000001P"),
		S("190s"), S("130m"), S("12h"), S("17d"), S("11w"), S("11h30m"), S("11w2d3h4m5s"),
		S("2now"), S("22026-11-21"), S("22026-11-21T10:00"), S("22026-11-21T10:00:00Z"),
		S("22026-11-21 10:00:00"), S("22024-02-29T23:59:59Z"), S("2-7d"), S("2+7d"),
		S("2+1h30m"), S("22262-04-11T23:47:16Z"),
		S("3-1s"), S("3+1s"), S("4-1s"), S("4+1s"), S("5now"), S("51970-01-01"),
		/* raw values for the printers: 8 bytes big-endian, then a buffer size */
		S("6\x00\x00\x00\x00\x00\x00\x00\x00\x05"),
		S("6\x00\x00\x00\x00\x00\x0f\xff\xf0\x10"),
		S("7\x80\x00\x00\x00\x00\x00\x00\x00"), S("7\x17\x9b\x7c\x2a\x5b\x1e\x80\x00\x08"),
	};
#undef S
	char name[64];

	mkdirs("units");
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		snprintf(name, sizeof(name), "seed-%02zu", i);
		seed("units", name, (uint8_t)seeds[i].s[0], seeds[i].s + 1, seeds[i].n - 1);
	}
}

/* ---- schedule: selector digit (0 parse, 1-3 walk in a zone), then a text ---- */

static void schedules(void)
{
	static const char *const texts[] = {
		"daily 23:00 full",
		"daily",
		"monthly",
		"quarterly",
		"yearly",
		"weekly mon,wed,fri 01:30 differential",
		"daily 23:00 incremental; monthly first-fri 23:00 full",
		"daily 02:30 incremental; weekly sun 01:30 differential; monthly first-fri 23:00 full; "
		"quarterly first-sat 23:00 full; yearly first-sat 23:00 full",
		"  daily\t00:00   full ;weekly sun 00:00 incremental",
		"weekly mon,tue,wed,thu,fri,sat,sun 23:59 full",
		"daily 24:00 full",
		"weekly mon,mon 23:00 full",
		"monthly fri 23:00 full",
		"daily 23:00 full;",
	};
	char name[64];

	mkdirs("schedule");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		for (int sel = 0; sel < 4; sel++) {
			snprintf(name, sizeof(name), "seed-%02zu-%d", i, sel);
			seed("schedule", name, (uint8_t)('0' + sel), texts[i], strlen(texts[i]));
		}
	}
}

/* ---- anchor: selector digit, then a line, a record, a target or an alarm ---- */

static void anchors(void)
{
	static const char *const lines[] = {
		"0",
		"0# heads kept by the auditor",
		"012:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"0  7:000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F  # noted",
		"0Nov 21 10:00:01 host sshd[78]: Accepted publickey for root",
		"0<13>1 2026-11-21T10:00:00Z host cron 77 - - (root) CMD (run-parts)",
		"2unix:/dev/log", "2unix:/run/enrp/audit.sock", "2udp:127.0.0.1:514",
		"2udp:[2001:db8::1]:6514", "2none", "2tcp:10.0.0.1:514",
	};
	struct enrp_journal_record r;
	char buf[JOURNAL_SYSLOG_MAX + 64], name[64];
	uint8_t raw[256];

	mkdirs("anchor");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(name, sizeof(name), "line-%02zu", i);
		seed("anchor", name, (uint8_t)lines[i][0], lines[i] + 1, strlen(lines[i]) - 1);
	}
	/* A real message, bare and behind a collector's prefix. */
	memset(&r, 0, sizeof(r));
	r.seq = 42;
	r.time_ns = 1796169352705016960LL;
	r.uid = 1001;
	r.pid = 77;
	strcpy(r.command, "enrpctl eir set");
	strcpy(r.eir, "a");
	strcpy(r.event, "mode-change");
	strcpy(r.details, "mode=rw->ro path=\"x]\\\n\"");
	for (int i = 0; i < 32; i++) {
		r.hash[i] = (uint8_t)i;
		r.prev_hash[i] = (uint8_t)(0xff - i);
	}
	size_t n = journal_syslog_format(&r, "0123456789abcdef", "vm", 555, buf, sizeof(buf));
	seed("anchor", "message", 0, buf, n);
	char line[sizeof(buf) + 64];
	int m = snprintf(line, sizeof(line), "Dec  1 23:55:52 vm %s", buf);
	seed("anchor", "message-prefixed", 0, line, (size_t)m);
	n = journal_syslog_alarm("0123456789abcdef", 8, r.hash, 4, "the journal is shorter",
	                         1796169352705016960LL, "vm", 555, buf, sizeof(buf));
	seed("anchor", "alarm-line", 0, buf, n);
	/* Raw bytes for the record and alarm builders. */
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 37 + 11);
	static const char strs[] = "enrpctl\0a\0eir-create\0vm\0owner=1001 mode=rw";
	memcpy(raw + 96, strs, sizeof(strs));
	seed("anchor", "record", 1, raw, 96 + sizeof(strs));
	seed("anchor", "alarm", 3, raw, 96);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds CORPUS-DIR\n");
		return 2;
	}
	root = argv[1];
	records();
	frames();
	units();
	retention();
	anchors();
	schedules();
	return 0;
}
