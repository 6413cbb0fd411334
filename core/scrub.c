/*
 * scrub.c — verify every chunk and every sealed file checksum.
 *
 * Work is taken from a list of sealed inodes read first (DBI_EXTENT), then
 * each file is checked in its own short read transactions, so a scrub of a
 * large store never holds a transaction across chunk I/O and never blocks
 * the daemon.  A file sealed or changed meanwhile is checked as it is when
 * reached, or skipped if it is gone.  Every chunk a file uses is read for
 * that file (its bytes feed the file's checksum); the verdicts are
 * remembered per (EIR, digest) — chunks are stored per EIR — so each stored
 * chunk is counted once.  A file marked corrupt that now checks clean (a
 * repeated transfer rewrote its damaged chunk) loses the mark, journalled.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <enrp/codec.h>
#include <enrp/enrp.h>
#include <enrp/scrub.h>

#include "chunk_int.h"
#include "eir_int.h"
#include "journal_int.h"
#include "ns_int.h"
#include "path_int.h"
#include "record_int.h"
#include "store_int.h"

#define SEEN_KEY_LEN 36 /* eir id (be32) + digest */

/* Stored chunks already judged in this scrub (open addressing; grows). */
struct seen {
	uint8_t (*key)[SEEN_KEY_LEN];
	int8_t *verdict; /* 0 empty, 1 good, -1 damaged */
	size_t cap, n;
};

static size_t seen_slot(const struct seen *s, const uint8_t d[SEEN_KEY_LEN])
{
	size_t h;
	memcpy(&h, d + 4, sizeof(h));
	h ^= (size_t)d[3] * 0x9E3779B97F4A7C15ull;
	size_t i = h & (s->cap - 1);
	while (s->verdict[i] && memcmp(s->key[i], d, SEEN_KEY_LEN) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int seen_get(const struct seen *s, const uint8_t d[SEEN_KEY_LEN])
{
	return s->cap ? s->verdict[seen_slot(s, d)] : 0;
}

static int seen_put(struct seen *s, const uint8_t d[SEEN_KEY_LEN], int verdict)
{
	if (2 * (s->n + 1) > s->cap) {
		struct seen g = { 0 };
		g.cap = s->cap ? s->cap * 2 : 1024;
		g.key = calloc(g.cap, SEEN_KEY_LEN);
		g.verdict = calloc(g.cap, 1);
		if (!g.key || !g.verdict) {
			free(g.key);
			free(g.verdict);
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (s->verdict[i]) {
				size_t j = seen_slot(&g, s->key[i]);
				memcpy(g.key[j], s->key[i], SEEN_KEY_LEN);
				g.verdict[j] = s->verdict[i];
				g.n++;
			}
		}
		free(s->key);
		free(s->verdict);
		*s = g;
	}
	size_t i = seen_slot(s, d);
	if (!s->verdict[i])
		s->n++;
	memcpy(s->key[i], d, SEEN_KEY_LEN);
	s->verdict[i] = (int8_t)verdict;
	return 0;
}

struct target {
	uint64_t ino;
	uint32_t eir_id;
};

struct list_args {
	uint32_t only_eir; /* 0: all */
	struct target *v;
	size_t n, cap;
};

static int list_fn(enrp_txn *t, void *arg)
{
	struct list_args *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_EXTENT, &cur);
	if (rc)
		return rc;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && rc == 0) {
		struct inode_rec r;
		uint64_t ino = k.mv_size == 8 ? be64_get(k.mv_data) : 0;
		if (ino && ns_inode_get(t, ino, &r) == 0 && (!a->only_eir || r.eir_id == a->only_eir)) {
			if (a->n == a->cap) {
				size_t cap = a->cap ? a->cap * 2 : 256;
				struct target *nv = realloc(a->v, cap * sizeof(*nv));
				if (!nv) {
					rc = -ENOMEM;
					break;
				}
				a->v = nv;
				a->cap = cap;
			}
			a->v[a->n++] = (struct target){ ino, r.eir_id };
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
	return rc;
}

struct file_args {
	uint64_t ino;
	struct inode_rec r;
	struct extent_ent *v;
	size_t n;
};

static int file_fn(enrp_txn *t, void *arg)
{
	struct file_args *a = arg;
	int rc = ns_inode_get(t, a->ino, &a->r);
	if (rc)
		return rc;
	if (a->r.content != ENRP_CONTENT_SEALED)
		return -ESTALE;
	return extent_get(t, a->ino, &a->v, &a->n);
}

struct finding {
	uint64_t ino;
	uint64_t gen;
	const struct enrp_actor *actor;
	char details[256];
	bool mark; /* true: damaged; false: clean again */
};

static int finding_fn(enrp_txn *t, void *arg)
{
	struct finding *f = arg;
	struct inode_rec r;
	struct enrp_eir e;
	int rc = ns_inode_get(t, f->ino, &r);
	if (rc == 0)
		rc = eir_get_txn(t, r.eir_id, &e);
	if (rc)
		return rc;
	if (r.content != ENRP_CONTENT_SEALED || r.gen != f->gen)
		return 0; /* changed since we read it: not the file we judged */
	if (f->mark != !!(r.flags & INODE_CORRUPT)) {
		r.flags ^= INODE_CORRUPT;
		if ((rc = ns_inode_put(t, f->ino, &r)))
			return rc;
	}
	/* A copy: a retried transaction must not add the path twice. */
	char details[ENRP_JOURNAL_DETAILS_MAX + 1];
	snprintf(details, sizeof(details), "%s", f->details);
	path_details_add(t, f->ino, details, sizeof(details), PATH_SCAN_MAX);
	return journal_append_txn(t, f->actor, e.name, f->mark ? "scrub-damage" : "scrub-repaired",
	                          details);
}

/* Reads, authenticates, decodes and re-names one chunk.  0 good, -EBADMSG
 * damaged (missing, unreadable or failing), -ENOMEM. */
static int check_chunk(enrp_store *st, enrp_codec *codec, const struct enrp_eir_key *key,
                       uint32_t eir_id, const struct extent_ent *c, uint8_t *plain)
{
	int rc = chunk_fetch(st, codec, eir_id, key, c->digest, c->plain_len, plain, true);
	return rc == -ENOMEM || rc == 0 ? rc : -EBADMSG;
}

int enrp_scrub(enrp_store *st, enrp_vault *vault, const char *eir,
               const struct enrp_actor *actor, enrp_scrub_progress_fn *progress, void *arg,
               struct enrp_scrub_result *out)
{
	struct list_args list = { 0 };
	struct seen seen = { 0 };
	enrp_codec *codec = NULL;
	enrp_sha256 *sha = NULL;
	uint8_t *plain = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (eir) {
		struct enrp_eir e;
		if ((rc = enrp_eir_get(st, eir, &e)))
			return rc;
		list.only_eir = e.id;
	}
	if ((rc = enrp_codec_new(3, &codec)) || (rc = enrp_sha256_new(&sha)))
		goto out;
	plain = malloc(ENRP_CODEC_MAX_PLAIN);
	if (!plain) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = enrp_store_read(st, list_fn, &list)))
		goto out;

	for (size_t i = 0; i < list.n; i++) {
		struct file_args f = { .ino = list.v[i].ino };
		const struct enrp_eir_key *key;
		rc = enrp_store_read(st, file_fn, &f);
		if (rc == -ENOENT || rc == -ESTALE) {
			rc = 0;
			continue; /* removed or rewritten since the list was made */
		}
		if (rc || (rc = enrp_vault_eir_key(vault, f.r.eir_id, &key))) {
			free(f.v);
			goto out;
		}
		uint8_t sum[32];
		char bad[65] = "";
		bool damaged = false;
		enrp_sha256_reset(sha);
		for (size_t c = 0; c < f.n && rc == 0; c++) {
			if (!f.v[c].plain_len) {
				/* A run of zeros: no chunk to check, but the file's
				 * checksum covers it. */
				rc = enrp_sha256_update_zeros(sha, f.v[c].zeros);
				continue;
			}
			uint8_t sk[SEEN_KEY_LEN];
			be32_put(sk, f.r.eir_id);
			memcpy(sk + 4, f.v[c].digest, 32);
			int verdict = seen_get(&seen, sk);
			int crc = check_chunk(st, codec, key, f.r.eir_id, &f.v[c], plain);
			if (crc == -ENOMEM) {
				rc = crc;
				break;
			}
			if (!verdict) {
				out->chunks++;
				if (crc)
					out->chunks_damaged++;
				rc = seen_put(&seen, sk, crc ? -1 : 1);
			}
			if (crc) {
				damaged = true;
				if (!bad[0])
					enrp_hex(f.v[c].digest, 32, bad);
				continue;
			}
			enrp_sha256_update(sha, plain, f.v[c].plain_len);
		}
		if (rc == 0 && !damaged) {
			enrp_sha256_final(sha, sum);
			damaged = CRYPTO_memcmp(sum, f.r.sha256, 32) != 0;
		}
		free(f.v);
		if (rc)
			goto out;
		out->files++;
		out->bytes += f.r.size;
		if (damaged) {
			struct finding fd = { .ino = f.ino, .gen = f.r.gen, .actor = actor, .mark = true };
			out->files_damaged++;
			if (bad[0])
				snprintf(fd.details, sizeof(fd.details), "ino=%llu chunk=%s damaged",
				         (unsigned long long)f.ino, bad);
			else
				snprintf(fd.details, sizeof(fd.details), "ino=%llu checksum mismatch",
				         (unsigned long long)f.ino);
			if ((rc = enrp_store_write(st, finding_fn, &fd)))
				goto out;
		} else if (f.r.flags & INODE_CORRUPT) {
			struct finding fd = { .ino = f.ino, .gen = f.r.gen, .actor = actor, .mark = false };
			snprintf(fd.details, sizeof(fd.details), "ino=%llu checks clean again",
			         (unsigned long long)f.ino);
			if ((rc = enrp_store_write(st, finding_fn, &fd)))
				goto out;
		}
		if (progress)
			progress(out, list.n, arg);
	}
	char summary[200];
	snprintf(summary, sizeof(summary),
	         "files=%llu files_damaged=%llu chunks=%llu chunks_damaged=%llu bytes=%llu",
	         (unsigned long long)out->files, (unsigned long long)out->files_damaged,
	         (unsigned long long)out->chunks, (unsigned long long)out->chunks_damaged,
	         (unsigned long long)out->bytes);
	rc = enrp_journal_append(st, actor, eir ? eir : "", "scrub", "%s", summary);
out:
	free(list.v);
	free(seen.key);
	free(seen.verdict);
	free(plain);
	enrp_codec_free(codec);
	enrp_sha256_free(sha);
	return rc;
}
