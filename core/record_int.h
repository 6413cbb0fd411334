/*
 * record_int.h — keys and values of every LMDB database (STYLE rule 19).
 *
 * Integers are big-endian so cursor order is numeric.  Every value leads with
 * a version byte; decoders refuse an unknown version or a short/long buffer
 * with -EIO ("corrupt record"), so damaged bytes never become a wild struct.
 */
#ifndef ENRP_RECORD_INT_H
#define ENRP_RECORD_INT_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/calendar.h>
#include <enrp/eir.h>
#include <enrp/form.h>
#include <enrp/journal.h>
#include <enrp/ns.h>
#include <enrp/restore.h>

#define REC_VERSION 1
/* Inode and EIR records gained fields in store format 2 (alloc_end,
 * max_files); their decoders read version 1 too, with the new fields 0. */
#define REC_VERSION_2 2

/* ---- primitive encoders ---- */
void be32_put(uint8_t *p, uint32_t v);
void be64_put(uint8_t *p, uint64_t v);
uint32_t be32_get(const uint8_t *p);
uint64_t be64_get(const uint8_t *p);

/* Growable output buffer with a sticky error. */
struct rec_out {
	uint8_t *buf;
	size_t len, cap;
	int err;
};
void rec_out_init(struct rec_out *o);
void rec_out_release(struct rec_out *o);
void rec_put_u8(struct rec_out *o, uint8_t v);
void rec_put_u32(struct rec_out *o, uint32_t v);
void rec_put_u64(struct rec_out *o, uint64_t v);
void rec_put_bytes(struct rec_out *o, const void *p, size_t n);
void rec_put_str(struct rec_out *o, const char *s); /* u16 length + bytes */

/* Bounded input with a sticky error. */
struct rec_in {
	const uint8_t *p;
	size_t left;
	int err;
};
void rec_in_init(struct rec_in *in, const void *p, size_t n);
uint8_t rec_get_u8(struct rec_in *in);
uint32_t rec_get_u32(struct rec_in *in);
uint64_t rec_get_u64(struct rec_in *in);
void rec_get_bytes(struct rec_in *in, void *dst, size_t n);
/* Copies a u16-length string into DST (size DSTSZ, NUL-terminated); -EIO if
 * it does not fit. */
void rec_get_str(struct rec_in *in, char *dst, size_t dstsz);
/* 0 when everything was consumed without error, else -EIO. */
int rec_in_end(struct rec_in *in);

/* ---- keys ---- */
#define KEY_INO_LEN 8
#define KEY_EIR_LEN 4
/* parent + name; BUF must hold 8 + ENRP_NAME_MAX bytes.  Returns the length. */
size_t key_dirent(uint8_t *buf, uint64_t parent, const char *name);
size_t key_xattr(uint8_t *buf, uint64_t ino, const char *name);

/* ---- inode ---- */
struct inode_rec {
	uint32_t eir_id;
	uint32_t mode;       /* type and permission bits */
	uint32_t uid, gid;
	uint32_t nlink;
	uint64_t rdev;
	uint64_t size;
	/* A spool file's space reserved past SIZE (fallocate KEEP_SIZE) reaches
	 * this offset; 0 when none.  The EIR is charged max(size, alloc_end). */
	uint64_t alloc_end;
	int64_t atime, mtime, ctime, btime; /* ns since epoch */
	uint64_t parent;     /* directories: the containing directory */
	uint8_t content;     /* enum enrp_content */
	uint8_t flags;       /* INODE_* */
	uint64_t gen;        /* bumped by every change of a regular file's bytes */
	int64_t sealed_at;   /* platform clock when sealed, ns; 0 if not */
	uint8_t sha256[32];  /* of the whole file, once sealed */
	char target[ENRP_SYMLINK_MAX + 1]; /* symlinks */
};

#define INODE_CORRUPT (1u << 0) /* a chunk of this sealed file failed its check */
#define INODE_QUEUED (1u << 1)  /* in DBI_QUEUE, waiting to be sealed */
int rec_inode_encode(const struct inode_rec *r, struct rec_out *o);
int rec_inode_decode(const void *p, size_t n, struct inode_rec *r);

/* ---- dirent value: child ino + file type (mode >> 12) ---- */
#define DIRENT_VAL_LEN 9
void rec_dirent_encode(uint8_t *buf, uint64_t ino, uint32_t mode);
int rec_dirent_decode(const void *p, size_t n, uint64_t *ino, uint32_t *type);

/* ---- EIR and usage ---- */
int rec_eir_encode(const struct enrp_eir *e, struct rec_out *o);
int rec_eir_decode(const void *p, size_t n, struct enrp_eir *e);
#define USAGE_VAL_LEN 33
void rec_usage_encode(uint8_t *buf, const struct enrp_eir_usage *u);
int rec_usage_decode(const void *p, size_t n, struct enrp_eir_usage *u);

/* File-state counts of an EIR: in DBI_USAGE under be32(id) + 's', so they
 * sort right after the EIR's usage record and older binaries, which only
 * get be32(id), never meet them. */
#define KEY_FILES_LEN 5
void key_files(uint8_t buf[KEY_FILES_LEN], uint32_t eir_id);
#define FILES_VAL_LEN 49
void rec_files_encode(uint8_t buf[FILES_VAL_LEN], const struct enrp_eir_files *f);
int rec_files_decode(const void *p, size_t n, struct enrp_eir_files *f);

/* Transfers against the schedule (transfer.c).  A minute in which a file
 * of the EIR was verified: DBI_USAGE be32(id) + 'T' + be64(the minute's
 * first second since the epoch) -> "" (after the 's' record, so older
 * binaries, which only get be32(id) and be32(id) + 's', never meet them). */
#define KEY_SEAL_LEN 13
void key_seal(uint8_t buf[KEY_SEAL_LEN], uint32_t eir_id, int64_t minute_s);
/* The daemon's progress on an EIR's slots (setting "transfer_mark"):
 * version byte, be64 DONE (every slot starting at or before it is settled),
 * be64 MISSED (a slot journalled missed whose late arrival may still come;
 * 0 none). */
#define TRANSFER_MARK_VAL_LEN 17
void rec_transfer_mark_encode(uint8_t buf[TRANSFER_MARK_VAL_LEN], int64_t done, int64_t missed);
int rec_transfer_mark_decode(const void *p, size_t n, int64_t *done, int64_t *missed);
/* A setting holding one signed number (the window, the schedule's start):
 * version byte, be64. */
#define SETTING_I64_LEN 9
void rec_setting_i64_encode(uint8_t buf[SETTING_I64_LEN], int64_t v);
int rec_setting_i64_decode(const void *p, size_t n, int64_t *v);

/* The platform clock's floor (clock.c): DBI_META "clock_floor", version
 * byte then be64 ns since the epoch. */
#define CLOCK_FLOOR_VAL_LEN 9
void rec_clock_floor_encode(uint8_t buf[CLOCK_FLOOR_VAL_LEN], int64_t floor_ns);
int rec_clock_floor_decode(const void *p, size_t n, int64_t *floor_ns);

/* ---- seal queue, chunks, extents ---- */
/* A queue key: EIR class, EIR id, time queued, inode — so a cursor meets
 * class 1 first, and within a class each EIR's files together, oldest
 * first, and the next EIR with work is one MDB_SET_RANGE away (the workers
 * take EIRs in turn, ingest.c).  Stores before format 3 had no EIR id (17
 * bytes, QUEUE_KEY_LEN_V1); the daemon rewrites those at start. */
#define QUEUE_KEY_LEN 21
#define QUEUE_KEY_LEN_V1 17
void key_queue(uint8_t buf[QUEUE_KEY_LEN], uint8_t eir_class, uint32_t eir_id, int64_t queued_at,
               uint64_t ino);
uint64_t key_queue_ino(const uint8_t buf[QUEUE_KEY_LEN]);
uint32_t key_queue_eir(const uint8_t buf[QUEUE_KEY_LEN]);
int64_t key_queue_at(const uint8_t buf[QUEUE_KEY_LEN]);

#define CHUNK_KEY_LEN 36
void key_chunk(uint8_t buf[CHUNK_KEY_LEN], uint32_t eir_id, const uint8_t digest[32]);

struct chunk_rec {
	uint64_t refs;       /* sealed files (and later snapshots) using it */
	uint32_t stored_len; /* bytes of the chunk file */
	uint32_t plain_len;
};
#define CHUNK_VAL_LEN 17
void rec_chunk_encode(uint8_t buf[CHUNK_VAL_LEN], const struct chunk_rec *c);
int rec_chunk_decode(const void *p, size_t n, struct chunk_rec *c);

/* A sealed file's chunk list: entries in file order, offsets implied.  An
 * entry is either a chunk (PLAIN_LEN > 0 bytes, named DIGEST; ZEROS 0) or a
 * run of ZEROS > 0 zero bytes that no chunk holds (PLAIN_LEN 0, DIGEST all
 * zero): a hole of the spool file, or a chunk the seal found to be zeros.
 * A run costs 12 bytes whatever its length, so a 15 TB sparse file has a
 * chunk list of a few bytes.
 *
 * Encoding: a list without runs is written as version 1 (one byte, a u64
 * count, then DIGEST and PLAIN_LEN per entry: what every earlier enrp
 * wrote and reads); a list with at least one run as version 2 (one byte, a
 * u64 count, then per entry a u32 PLAIN_LEN followed by DIGEST, or a zero
 * u32 followed by the u64 ZEROS).  One list, one encoding: a version 2
 * without a run is refused as damage. */
struct extent_ent {
	uint8_t digest[32];
	uint32_t plain_len;
	uint64_t zeros;
};
#define EXTENT_ENT_LEN 36
#define EXTENT_RUN_LEN 12
#define EXTENT_VERSION_RUNS 2

/* Bytes of the file the entry stands for. */
static inline uint64_t extent_len(const struct extent_ent *e)
{
	return e->plain_len ? e->plain_len : e->zeros;
}

/* The index I with OFFS[I] == POS among the N+1 ascending chunk offsets of
 * a list (OFFS[N] its size): POS is a chunk boundary there.  N+1 if not. */
static inline size_t extent_boundary(const uint64_t *offs, size_t n, uint64_t pos)
{
	size_t lo = 0, hi = n + 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (offs[mid] < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo <= n && offs[lo] == pos ? lo : n + 1;
}

int rec_extent_encode(const struct extent_ent *v, size_t n, struct rec_out *o);
/* Allocates *V (caller frees); -EIO on damage. */
int rec_extent_decode(const void *p, size_t len, struct extent_ent **v, size_t *n);

/* ---- journal ---- */
/* Encodes everything but HASH (which is the SHA-256 of this encoding). */
int rec_journal_encode(const struct enrp_journal_record *r, struct rec_out *o);
int rec_journal_decode(const void *p, size_t n, struct enrp_journal_record *r);

/* journal head in DBI_META "journal_head": seq + hash */
#define JOURNAL_HEAD_LEN 41
void rec_journal_head_encode(uint8_t *buf, uint64_t seq, const uint8_t hash[32]);
int rec_journal_head_decode(const void *p, size_t n, uint64_t *seq, uint8_t hash[32]);

/* syslog mirror setting in DBI_META "journal_mirror" (journal_mirror.c) */
struct mirror_rec {
	char target[ENRP_JOURNAL_TARGET_MAX + 1]; /* where records go from SINCE on */
	char prev[ENRP_JOURNAL_TARGET_MAX + 1];   /* where records before SINCE go */
	uint64_t since;                           /* seq of the record that set TARGET
	                                             (0: set when the store was made) */
};
int rec_mirror_encode(const struct mirror_rec *m, struct rec_out *o);
int rec_mirror_decode(const void *p, size_t n, struct mirror_rec *m);

/* ---- calendar (DBI_CALENDAR) ---- */
/* "holiday" + YYYY-MM-DD: the text sorts by date. */
#define KEY_HOLIDAY_PREFIX "holiday"
#define KEY_HOLIDAY_PREFIX_LEN 7
#define KEY_HOLIDAY_LEN (KEY_HOLIDAY_PREFIX_LEN + 10)
#define KEY_ZONE "zone"
void key_holiday(uint8_t buf[KEY_HOLIDAY_LEN], enrp_day day);
/* The day of a holiday key of LEN bytes; -EIO if it is not one. */
int key_holiday_day(const void *key, size_t len, enrp_day *day);
/* Values: version, then the note (holiday) or the zone's name. */
int rec_holiday_encode(const char *note, struct rec_out *o);
int rec_holiday_decode(const void *p, size_t n, char *note, size_t notesz);
int rec_zone_encode(const char *zone, struct rec_out *o);
int rec_zone_decode(const void *p, size_t n, char *zone, size_t zonesz);

/* ---- test restores (DBI_RESTORE) ---- */
/* EIR id + seq: an EIR's plans and records together, in the order entered. */
#define KEY_RESTORE_LEN 12
void key_restore(uint8_t buf[KEY_RESTORE_LEN], uint32_t eir_id, uint64_t seq);
/* The record's EIR and seq come from its key, not its value. */
int rec_restore_encode(const struct enrp_restore_entry *r, struct rec_out *o);
int rec_restore_decode(const void *p, size_t n, struct enrp_restore_entry *r);

/* The registration form of an EIR (form.h); fields left "" are not
 * stored.  decode: -EIO on damage. */
int rec_form_encode(const struct enrp_eir_form *f, struct rec_out *o);
int rec_form_decode(const void *p, size_t n, struct enrp_eir_form *f);

/* Daily usage samples (report.c): DBI_USAGE be32(id) + 'D' + be32(day,
 * biased by 2^31 so that cursor order is date order) -> version byte, be64
 * used, be64 stored, be64 files. */
#define KEY_USAGE_DAY_LEN 9
#define USAGE_DAY_VAL_LEN 25
struct enrp_usage_sample;
void key_usage_day(uint8_t buf[KEY_USAGE_DAY_LEN], uint32_t eir_id, int32_t day);
int32_t key_usage_day_date(const uint8_t buf[KEY_USAGE_DAY_LEN]);
void rec_usage_day_encode(uint8_t buf[USAGE_DAY_VAL_LEN], const struct enrp_usage_sample *s);
int rec_usage_day_decode(const void *p, size_t n, struct enrp_usage_sample *s);

#endif
