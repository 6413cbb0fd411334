/*
 * journal.c — the hash-chained audit journal (DESIGN.md §7) and the
 * aggregation of denied operations.
 *
 * Layout: DBI_JOURNAL maps be64(seq) to rec_journal_encode() of a record;
 * DBI_META "journal_head" holds the last seq and the SHA-256 of its encoding.
 *
 * Invariants, kept by journal_append_txn() being the only writer:
 *   - seqs are 1, 2, 3, ... with no gap; the head names the last one;
 *   - record N's prev_hash is the SHA-256 of record N-1's stored bytes
 *     (zeros for record 1), and the head's hash is that of the last record.
 * So editing a record breaks the next record's prev_hash (or the head's hash
 * for the last one), removing one leaves a gap, swapping two puts a record
 * under the wrong key, and cutting the tail disagrees with the head.  Somebody
 * with write access to the LMDB file could rewrite the whole chain and the
 * head consistently (or put an older data.mdb back): the chain alone cannot
 * tell.  What can is an anchor kept outside the store, "record SEQ had hash
 * H": the head an auditor saved (enrp_journal_head), or the syslog stream
 * that journal_mirror.c sends every record to as it becomes durable.  Since
 * each hash covers its predecessor's, a chain that verifies and holds the
 * anchored hash at SEQ proves records 1..SEQ unchanged;
 * enrp_journal_verify_anchors() checks both in one walk.
 *
 * A record is appended in the same transaction as the change it describes
 * (journal_append_txn), so the two commit or vanish together; the same
 * transaction registers the mirror's hook, which runs once it is durable.
 *
 * Readers (iter, verify) walk the journal in batches, each in its own short
 * read transaction, and call back outside any transaction: a journal of
 * three years must not pin old pages for the whole walk, and a callback may
 * itself use the store.
 *
 * Denials: a table in memory, keyed by (EIR, uid, op, errno), protected by
 * enrp_denials.lock.  note() only counts; flush() writes one "denied" record
 * per due key, all in one write.  The table is bounded: keys that have been
 * quiet for a minute are forgotten at flush, and when it is full new keys
 * fold into one overflow key per EIR (and past that, one for everybody).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <enrp/enrp.h>

#include <enrp/details.h>

#include "journal_int.h"
#include "record_int.h"

#define HEAD_KEY "journal_head"
/* Records per read transaction in iter/verify. */
#define BATCH 256

static int sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return -EIO;
	return 0;
}

static void copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

void journal_id(const uint8_t hash1[32], char id[ENRP_JOURNAL_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < ENRP_JOURNAL_ID_LEN / 2; i++) {
		id[2 * i] = hex[hash1[i] >> 4];
		id[2 * i + 1] = hex[hash1[i] & 15];
	}
	id[ENRP_JOURNAL_ID_LEN] = '\0';
}

/* Reads the head; an absent head is an empty journal (seq 0, zero hash). */
static int head_get(enrp_txn *t, uint64_t *seq, uint8_t hash[32], bool *present)
{
	MDB_val v;
	int rc = txn_get(t, DBI_META, HEAD_KEY, strlen(HEAD_KEY), &v);
	if (rc == -ENOENT) {
		*seq = 0;
		memset(hash, 0, 32);
		if (present)
			*present = false;
		return 0;
	}
	if (rc)
		return rc;
	if (present)
		*present = true;
	return rec_journal_head_decode(v.mv_data, v.mv_size, seq, hash);
}

int journal_head_txn(enrp_txn *t, uint64_t *seq, uint8_t hash[32])
{
	return head_get(t, seq, hash, NULL);
}

int journal_get_txn(enrp_txn *t, uint64_t seq, struct enrp_journal_record *r)
{
	uint8_t key[8];
	MDB_val v;

	be64_put(key, seq);
	int rc = txn_get(t, DBI_JOURNAL, key, sizeof(key), &v);
	if (rc)
		return rc;
	if (rec_journal_decode(v.mv_data, v.mv_size, r) || r->seq != seq)
		return -EIO;
	return sha256(v.mv_data, v.mv_size, r->hash);
}

int journal_append_txn(enrp_txn *t, const struct enrp_actor *actor, const char *eir,
                       const char *event, const char *details)
{
	struct enrp_journal_record r;
	struct rec_out o;
	uint8_t key[8], head[JOURNAL_HEAD_LEN];
	uint64_t seq;
	int rc;

	if (!event || !event[0] || strlen(event) > ENRP_JOURNAL_EVENT_MAX)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	rc = head_get(t, &seq, r.prev_hash, NULL);
	if (rc)
		return rc;
	r.seq = seq + 1;
	r.time_ns = enrp_now_ns();
	r.format = ENRP_JOURNAL_FORMAT_CURRENT;
	r.login_uid = ENRP_NO_UID;
	r.sudo_uid = ENRP_NO_UID;
	if (actor) {
		r.uid = actor->uid;
		r.pid = actor->pid;
		copy_str(r.command, sizeof(r.command), actor->command);
		r.login_uid = actor->login_uid;
		r.sudo_uid = actor->sudo_uid;
		copy_str(r.sudo_user, sizeof(r.sudo_user), actor->sudo_user);
	}
	copy_str(r.eir, sizeof(r.eir), eir);
	copy_str(r.event, sizeof(r.event), event);
	copy_str(r.details, sizeof(r.details), details);

	rec_out_init(&o);
	rc = rec_journal_encode(&r, &o);
	if (rc)
		goto out_release;
	rc = sha256(o.buf, o.len, r.hash);
	if (rc)
		goto out_release;
	be64_put(key, r.seq);
	/* Never overwrite: a record already under the next seq means the head
	 * was tampered with, and appending must not bury the evidence. */
	rc = txn_put(t, DBI_JOURNAL, key, sizeof(key), o.buf, o.len, MDB_NOOVERWRITE);
	if (rc)
		goto out_release;
	rec_journal_head_encode(head, r.seq, r.hash);
	rc = txn_put(t, DBI_META, HEAD_KEY, strlen(HEAD_KEY), head, sizeof(head), 0);
	/* One send per commit, of everything up to the durable head. */
	if (rc == 0)
		rc = txn_on_durable_once(t, journal_mirror_hook, r.seq);
out_release:
	rec_out_release(&o);
	return rc;
}

struct append_ctx {
	const struct enrp_actor *actor;
	const char *eir, *event, *details;
};

static int append_fn(enrp_txn *t, void *arg)
{
	struct append_ctx *c = arg;
	return journal_append_txn(t, c->actor, c->eir, c->event, c->details);
}

int enrp_journal_append(enrp_store *st, const struct enrp_actor *actor, const char *eir,
                        const char *event, const char *details_fmt, ...)
{
	char details[ENRP_JOURNAL_DETAILS_MAX + 1];
	va_list ap;

	va_start(ap, details_fmt);
	/* vsnprintf cuts at the buffer: that is the documented truncation. */
	vsnprintf(details, sizeof(details), details_fmt, ap);
	va_end(ap);

	struct append_ctx c = { actor, eir, event, details };
	return enrp_store_write(st, append_fn, &c);
}

/* ---- reading in batches ---- */

/* One batch: up to BATCH raw records from FROM on, plus (when the batch
 * reached the end of the journal) the head as seen in the same view. */
struct batch {
	uint64_t from;
	size_t n;
	uint64_t key_seq[BATCH];
	bool key_ok[BATCH];          /* the key was 8 bytes */
	int decode_rc[BATCH];
	struct enrp_journal_record rec[BATCH];
	bool at_end;
	bool head_present;
	uint64_t head_seq;
	uint8_t head_hash[32];
};

static int batch_fn(enrp_txn *t, void *arg)
{
	struct batch *b = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t key[8];
	int rc, mrc;

	b->n = 0;
	b->at_end = false;
	rc = txn_cursor(t, DBI_JOURNAL, &cur);
	if (rc)
		return rc;
	be64_put(key, b->from);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && b->n < BATCH) {
		size_t i = b->n++;
		b->key_ok[i] = k.mv_size == 8;
		b->key_seq[i] = b->key_ok[i] ? be64_get(k.mv_data) : 0;
		b->decode_rc[i] = rec_journal_decode(v.mv_data, v.mv_size, &b->rec[i]);
		if (sha256(v.mv_data, v.mv_size, b->rec[i].hash)) {
			rc = -EIO;
			goto out_close;
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND) {
		rc = store_mdb_err(mrc);
		goto out_close;
	}
	if (mrc == MDB_NOTFOUND) {
		b->at_end = true;
		rc = head_get(t, &b->head_seq, b->head_hash, &b->head_present);
	}
out_close:
	mdb_cursor_close(cur);
	return rc;
}

static bool filter_match(const struct enrp_journal_filter *f, const struct enrp_journal_record *r)
{
	if (!f)
		return true;
	if (f->eir && strcmp(f->eir, r->eir) != 0)
		return false;
	if (f->since_ns && r->time_ns < f->since_ns)
		return false;
	if (f->until_ns && r->time_ns > f->until_ns)
		return false;
	if (f->event && strcmp(f->event, r->event) != 0)
		return false;
	return true;
}

int enrp_journal_iter(enrp_store *st, const struct enrp_journal_filter *filter,
                      int (*cb)(const struct enrp_journal_record *rec, void *arg), void *arg)
{
	struct batch *b = malloc(sizeof(*b));
	int rc = 0;

	if (!b)
		return -ENOMEM;
	b->from = filter ? filter->from_seq : 0;
	for (;;) {
		rc = enrp_store_read(st, batch_fn, b);
		if (rc)
			break;
		for (size_t i = 0; i < b->n; i++) {
			if (!b->key_ok[i] || b->decode_rc[i]) {
				enrp_log(ENRP_LOG_ERR, "journal: record %llu cannot be decoded",
				         (unsigned long long)b->key_seq[i]);
				rc = -EIO;
				goto out_free;
			}
			if (!filter_match(filter, &b->rec[i]))
				continue;
			rc = cb(&b->rec[i], arg);
			if (rc)
				goto out_free;
		}
		if (b->at_end || b->n == 0)
			break;
		/* Resume after the last key seen (a bad key stops above). */
		if (b->key_seq[b->n - 1] == UINT64_MAX)
			break;
		b->from = b->key_seq[b->n - 1] + 1;
	}
out_free:
	free(b);
	return rc;
}

static void verdict_bad(struct enrp_journal_verdict *out, uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void verdict_bad(struct enrp_journal_verdict *out, uint64_t seq, const char *fmt, ...)
{
	va_list ap;
	out->intact = false;
	out->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* Checks one stored record against the chain so far; false when broken. */
static bool verify_one(struct enrp_journal_verdict *out, const struct batch *b, size_t i,
                       uint64_t expect, const uint8_t prev_hash[32])
{
	unsigned long long e = expect;
	const struct enrp_journal_record *r = &b->rec[i];

	if (!b->key_ok[i]) {
		verdict_bad(out, expect, "record %llu: malformed key (foreign data in the journal)", e);
		return false;
	}
	if (b->key_seq[i] != expect) {
		if (b->key_seq[i] == expect + 1)
			verdict_bad(out, expect, "record %llu missing", e);
		else
			verdict_bad(out, expect, "records %llu to %llu missing", e,
			            (unsigned long long)b->key_seq[i] - 1);
		return false;
	}
	if (b->decode_rc[i]) {
		verdict_bad(out, expect, "record %llu: cannot be decoded (corrupt)", e);
		return false;
	}
	if (r->seq != expect) {
		verdict_bad(out, expect, "record %llu: holds record %llu (moved or reordered)", e,
		            (unsigned long long)r->seq);
		return false;
	}
	if (CRYPTO_memcmp(r->prev_hash, prev_hash, 32) != 0) {
		if (expect == 1)
			verdict_bad(out, 1, "record 1: previous-hash is not zero (records before it?)");
		else
			verdict_bad(out, expect,
			            "record %llu: previous-hash mismatch (record %llu changed, removed or reordered)",
			            e, e - 1);
		return false;
	}
	return true;
}

/* ---- anchors ---- */

/* One anchored record: the first anchor naming it, and another that gives
 * it a different hash (evidence that two journals were mirrored as one). */
struct anchored {
	const struct enrp_journal_anchor *a;
	const struct enrp_journal_anchor *conflict;
};

static int anchor_cmp(const void *x, const void *y)
{
	const struct enrp_journal_anchor *a = *(const struct enrp_journal_anchor *const *)x;
	const struct enrp_journal_anchor *b = *(const struct enrp_journal_anchor *const *)y;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The first 12 hex digits of a hash, enough to tell two apart in a message. */
static const char *short_hex(const uint8_t h[32], char buf[13])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		buf[2 * i] = hex[h[i] >> 4];
		buf[2 * i + 1] = hex[h[i] & 15];
	}
	buf[12] = '\0';
	return buf;
}

/* Keeps the anchors of journal ID (or of none in particular), sorted by seq
 * with repeats merged, in *OUT (caller frees); *NOUT of them. */
static int anchors_select(const struct enrp_journal_anchor *an, size_t n, const char *id,
                          struct enrp_journal_verdict *v, struct anchored **out, size_t *nout)
{
	const struct enrp_journal_anchor **p = malloc((n ? n : 1) * sizeof(*p));
	struct anchored *u = malloc((n ? n : 1) * sizeof(*u));
	size_t m = 0, k = 0;

	if (!p || !u) {
		free(p);
		free(u);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (an[i].journal[0] && strcmp(an[i].journal, id) != 0)
			v->foreign++;
		else
			p[m++] = &an[i];
	}
	/* Stable order is not needed: merged repeats are equal, and of two that
	 * conflict, either one names the conflict. */
	qsort(p, m, sizeof(*p), anchor_cmp);
	for (size_t i = 0; i < m; i++) {
		if (k && u[k - 1].a->seq == p[i]->seq) {
			if (!u[k - 1].conflict && memcmp(u[k - 1].a->hash, p[i]->hash, 32) != 0)
				u[k - 1].conflict = p[i];
			continue;
		}
		u[k].a = p[i];
		u[k].conflict = NULL;
		k++;
	}
	free(p);
	*out = u;
	*nout = k;
	return 0;
}

/* Record SEQ (hash H) against its anchor X; LAST_GOOD is the highest anchor
 * that held so far (0: none).  False, with the verdict, when it fails. */
static bool anchor_check(struct enrp_journal_verdict *out, const struct anchored *x,
                         const uint8_t h[32], uint64_t last_good, const char *last_where)
{
	unsigned long long s = x->a->seq;
	char x1[13], x2[13];

	out->by_anchor = true;
	if (x->conflict) {
		verdict_bad(out, s, "anchors disagree about record %llu: %s gives %s, %s gives "
		            "%s; the anchors hold two different journals (the journal was rewritten "
		            "or rolled back while being mirrored, or lines were forged)",
		            s, x->a->where, short_hex(x->a->hash, x1), x->conflict->where,
		            short_hex(x->conflict->hash, x2));
		return false;
	}
	if (CRYPTO_memcmp(h, x->a->hash, 32) == 0) {
		out->by_anchor = false;
		return true;
	}
	if (last_good + 1 == s)
		verdict_bad(out, s, "record %llu differs from its anchor (%s): hash %s, anchored %s; "
		            "record %llu was changed or replaced and the chain re-hashed",
		            s, x->a->where, short_hex(h, x1), short_hex(x->a->hash, x2), s);
	else if (last_good)
		verdict_bad(out, s, "record %llu differs from its anchor (%s): hash %s, anchored %s; "
		            "a record from %llu to %llu was changed, removed or inserted and the "
		            "chain re-hashed (record %llu still matches %s)",
		            s, x->a->where, short_hex(h, x1), short_hex(x->a->hash, x2),
		            (unsigned long long)last_good + 1, s, (unsigned long long)last_good,
		            last_where);
	else
		verdict_bad(out, s, "record %llu differs from its anchor (%s): hash %s, anchored %s; "
		            "a record from 1 to %llu was changed, removed or inserted and the chain "
		            "re-hashed", s, x->a->where, short_hex(h, x1), short_hex(x->a->hash, x2), s);
	return false;
}

static int read_first_fn(enrp_txn *t, void *arg)
{
	int rc = journal_get_txn(t, 1, arg);
	return rc == -ENOENT ? 1 : rc;
}

int enrp_journal_verify_anchors(enrp_store *st, const struct enrp_journal_anchor *anchors,
                                size_t n, struct enrp_journal_verdict *out)
{
	struct enrp_journal_record *first = NULL;
	struct anchored *u = NULL;
	size_t nu = 0, k = 0;
	struct batch *b = NULL;
	uint8_t prev_hash[32] = { 0 };
	uint64_t last = 0, last_good = 0;
	const char *last_where = "";
	int rc;

	memset(out, 0, sizeof(*out));
	out->intact = true;
	if (n) {
		/* The journal's name decides which anchors are about it. */
		first = malloc(sizeof(*first));
		if (!first)
			return -ENOMEM;
		rc = enrp_store_read(st, read_first_fn, first);
		if (rc < 0)
			goto out_free;
		if (rc == 0)
			journal_id(first->hash, out->journal);
		rc = anchors_select(anchors, n, out->journal, out, &u, &nu);
		if (rc)
			goto out_free;
	}
	b = malloc(sizeof(*b));
	if (!b) {
		rc = -ENOMEM;
		goto out_free;
	}
	b->from = 0;
	for (;;) {
		rc = enrp_store_read(st, batch_fn, b);
		if (rc)
			goto out_free;
		for (size_t i = 0; i < b->n; i++) {
			if (!verify_one(out, b, i, last + 1, prev_hash))
				goto out_free;
			out->records++;
			last++;
			memcpy(prev_hash, b->rec[i].hash, 32);
			memcpy(out->last_hash, b->rec[i].hash, 32);
			out->last_time_ns = b->rec[i].time_ns;
			if (last == 1 && !out->journal[0])
				journal_id(b->rec[i].hash, out->journal);
			for (; k < nu && u[k].a->seq == last; k++) {
				if (!anchor_check(out, &u[k], b->rec[i].hash, last_good, last_where))
					goto out_free;
				out->anchors++;
				last_good = out->covered = last;
				last_where = u[k].a->where;
			}
		}
		if (b->at_end)
			break;
		b->from = last + 1;
	}

	/* The head is read in the view that saw the end of the records, so
	 * concurrent appends cannot make the two disagree. */
	if (!b->head_present) {
		if (last)
			verdict_bad(out, last, "journal head missing but %llu records found",
			            (unsigned long long)last);
	} else if (b->head_seq != last) {
		verdict_bad(out, b->head_seq > last ? last + 1 : b->head_seq + 1,
		            "journal head says %llu records, found %llu",
		            (unsigned long long)b->head_seq, (unsigned long long)last);
	} else if (CRYPTO_memcmp(b->head_hash, prev_hash, 32) != 0) {
		verdict_bad(out, last, "record %llu: does not match the journal head (changed)",
		            (unsigned long long)last);
	}
	if (!out->intact)
		goto out_free;
	if (k < nu) {
		const struct anchored *x = &u[k];
		char x1[13];
		out->by_anchor = true;
		if (x->conflict)
			anchor_check(out, x, x->a->hash, last_good, last_where);
		else
			verdict_bad(out, last + 1, "the journal ends at record %llu, but an anchor "
			            "names record %llu (%s, %s): records from %llu on were removed from "
			            "the end (tail cut, or an older data.mdb put back)",
			            (unsigned long long)last, (unsigned long long)x->a->seq,
			            short_hex(x->a->hash, x1), x->a->where, (unsigned long long)last + 1);
	} else if (n && nu == 0) {
		out->by_anchor = true;
		verdict_bad(out, 1, "none of the %zu anchors is about this journal (%s): they name "
		            "journal %s (%s); record 1 was changed or removed, or the anchors come "
		            "from another store", n, out->journal[0] ? out->journal : "empty",
		            anchors[0].journal, anchors[0].where);
	}
out_free:
	free(b);
	free(u);
	free(first);
	return rc < 0 ? rc : 0;
}

int enrp_journal_verify(enrp_store *st, struct enrp_journal_verdict *out)
{
	return enrp_journal_verify_anchors(st, NULL, 0, out);
}

/* ---- the head ---- */

struct head_ctx {
	struct enrp_journal_head *h;
	struct enrp_journal_record r;
};

static int head_fn(enrp_txn *t, void *arg)
{
	struct head_ctx *c = arg;
	uint8_t stored[32];
	int rc = head_get(t, &c->h->seq, stored, NULL);
	if (rc || c->h->seq == 0)
		return rc;
	rc = journal_get_txn(t, c->h->seq, &c->r);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	memcpy(c->h->hash, c->r.hash, 32);
	c->h->time_ns = c->r.time_ns;
	rc = journal_get_txn(t, 1, &c->r);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	journal_id(c->r.hash, c->h->journal);
	return 0;
}

int enrp_journal_head(enrp_store *st, struct enrp_journal_head *out)
{
	struct head_ctx *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	c->h = out;
	int rc = enrp_store_read(st, head_fn, c);
	free(c);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- denial aggregation ---- */

#define DENIAL_KEYS_MAX 4096      /* distinct (eir, uid, op, errno) keys */
#define DENIAL_OVERFLOW_MAX 1024  /* per-EIR overflow keys beyond that */
#define DENIAL_SLOTS (DENIAL_KEYS_MAX + DENIAL_OVERFLOW_MAX + 1)
#define DENIAL_BUCKETS 8192       /* power of two */
#define DENIAL_INTERVAL_NS (60LL * 1000000000)
#define NO_SLOT UINT32_MAX

enum denial_kind {
	DENIAL_EXACT,    /* one (eir, uid, op, errno) */
	DENIAL_OVERFLOW, /* everything else of one EIR, once the table is full */
	DENIAL_GLOBAL,   /* everything else, once the overflow keys are used up */
};

struct denial {
	char eir[ENRP_EIR_NAME_MAX + 1];
	uint32_t uid;
	int op;
	int err;
	enum denial_kind kind;
	uint64_t pending;   /* noted since the last flush of this key */
	/* The first denial since the last flush: who made it (when HAS_WHO)
	 * and where (PATH: owned, NULL when unknown); OTHERS when a later one
	 * came from another process. */
	struct enrp_actor who;
	bool has_who, others;
	uint32_t first_pid;
	char *path;
	int64_t last_flush; /* ns; meaningful when flushed */
	bool flushed;
	uint32_t next;      /* bucket chain */
};

struct enrp_denials {
	enrp_store *st;
	pthread_mutex_t lock;
	/* protected by lock: */
	struct denial *slot;   /* DENIAL_SLOTS */
	uint32_t nslots, nexact, noverflow;
	uint32_t bucket[DENIAL_BUCKETS];
};

static uint32_t denial_hash(const char *eir, uint32_t uid, int op, int err, enum denial_kind kind)
{
	/* FNV-1a: spreading is all that matters, the keys are not adversarial
	 * enough to need a keyed hash (the table is bounded anyway). */
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)eir; *p; p++)
		h = (h ^ *p) * 16777619u;
	uint32_t mix[4] = { uid, (uint32_t)op, (uint32_t)err, (uint32_t)kind };
	for (int i = 0; i < 4; i++)
		h = (h ^ mix[i]) * 16777619u;
	return h & (DENIAL_BUCKETS - 1);
}

static struct denial *denial_find(enrp_denials *d, const char *eir, uint32_t uid, int op,
                                  int err, enum denial_kind kind, uint32_t h)
{
	for (uint32_t i = d->bucket[h]; i != NO_SLOT; i = d->slot[i].next) {
		struct denial *x = &d->slot[i];
		if (x->kind == kind && x->uid == uid && x->op == op && x->err == err &&
		    strcmp(x->eir, eir) == 0)
			return x;
	}
	return NULL;
}

static struct denial *denial_insert(enrp_denials *d, const char *eir, uint32_t uid, int op,
                                    int err, enum denial_kind kind, uint32_t h)
{
	struct denial *x = &d->slot[d->nslots];
	memset(x, 0, sizeof(*x));
	copy_str(x->eir, sizeof(x->eir), eir);
	x->uid = uid;
	x->op = op;
	x->err = err;
	x->kind = kind;
	x->next = d->bucket[h];
	d->bucket[h] = d->nslots++;
	if (kind == DENIAL_EXACT)
		d->nexact++;
	else if (kind == DENIAL_OVERFLOW)
		d->noverflow++;
	return x;
}

/* Finds or makes the key of KIND that counts this denial, folding into an
 * overflow key when the table is full.  Never fails: the global key always
 * has a slot (DENIAL_SLOTS counts it). */
static struct denial *denial_slot(enrp_denials *d, const char *eir, uint32_t uid, int op,
                                  int err, enum denial_kind kind)
{
	struct denial *x;
	uint32_t h;

	if (kind == DENIAL_EXACT) {
		h = denial_hash(eir, uid, op, err, DENIAL_EXACT);
		x = denial_find(d, eir, uid, op, err, DENIAL_EXACT, h);
		if (x)
			return x;
		if (d->nexact < DENIAL_KEYS_MAX)
			return denial_insert(d, eir, uid, op, err, DENIAL_EXACT, h);
	}
	if (kind != DENIAL_GLOBAL) {
		h = denial_hash(eir, 0, 0, 0, DENIAL_OVERFLOW);
		x = denial_find(d, eir, 0, 0, 0, DENIAL_OVERFLOW, h);
		if (x)
			return x;
		if (d->noverflow < DENIAL_OVERFLOW_MAX)
			return denial_insert(d, eir, 0, 0, 0, DENIAL_OVERFLOW, h);
	}
	h = denial_hash("", 0, 0, 0, DENIAL_GLOBAL);
	x = denial_find(d, "", 0, 0, 0, DENIAL_GLOBAL, h);
	if (x)
		return x;
	return denial_insert(d, "", 0, 0, 0, DENIAL_GLOBAL, h);
}

int enrp_denials_new(enrp_store *st, enrp_denials **out)
{
	enrp_denials *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return -ENOMEM;
	d->slot = calloc(DENIAL_SLOTS, sizeof(*d->slot));
	if (!d->slot) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = -pthread_mutex_init(&d->lock, NULL);
	if (rc)
		goto out_free_slots;
	d->st = st;
	for (uint32_t i = 0; i < DENIAL_BUCKETS; i++)
		d->bucket[i] = NO_SLOT;
	*out = d;
	return 0;

out_free_slots:
	free(d->slot);
out_free:
	free(d);
	return rc;
}

void enrp_denials_free(enrp_denials *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	for (uint32_t i = 0; i < d->nslots; i++)
		free(d->slot[i].path);
	free(d->slot);
	free(d);
}

bool enrp_denials_first(enrp_denials *d, const char *eir, uint32_t uid, enum enrp_op op, int err)
{
	char name[ENRP_EIR_NAME_MAX + 1];

	if (err < 0)
		err = -err;
	copy_str(name, sizeof(name), eir);
	pthread_mutex_lock(&d->lock);
	struct denial *x = denial_slot(d, name, uid, (int)op, err, DENIAL_EXACT);
	bool first = x->pending == 0;
	pthread_mutex_unlock(&d->lock);
	return first;
}

void enrp_denials_note(enrp_denials *d, const char *eir, uint32_t uid, uint32_t pid,
                       enum enrp_op op, int err, const struct enrp_actor *who, const char *path)
{
	char name[ENRP_EIR_NAME_MAX + 1];
	/* Copied before the lock: no allocation under it. */
	char *copy = path ? strdup(path) : NULL;

	if (err < 0)
		err = -err;
	copy_str(name, sizeof(name), eir);
	pthread_mutex_lock(&d->lock);
	struct denial *x = denial_slot(d, name, uid, (int)op, err, DENIAL_EXACT);
	if (x->pending == 0) {
		free(x->path);
		x->path = copy;
		copy = NULL;
		x->has_who = who != NULL;
		if (who)
			x->who = *who;
		x->first_pid = pid;
		x->others = false;
	} else if (pid != x->first_pid) {
		x->others = true;
	}
	if (x->pending < UINT64_MAX)
		x->pending++;
	pthread_mutex_unlock(&d->lock);
	free(copy);
}

/* Drops keys quiet for a full interval and rebuilds the hash chains, so the
 * table cannot fill up for good.  Forgetting is safe: a later denial of the
 * key is then "first" and written at the next flush, which is no sooner than
 * the interval would have allowed anyway. */
static void denial_compact(enrp_denials *d, int64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < d->nslots; i++) {
		struct denial *x = &d->slot[i];
		if (x->pending == 0 && x->flushed && now - x->last_flush >= DENIAL_INTERVAL_NS) {
			free(x->path);
			continue;
		}
		if (n != i)
			d->slot[n] = *x;
		n++;
	}
	d->nslots = d->nexact = d->noverflow = 0;
	for (uint32_t i = 0; i < DENIAL_BUCKETS; i++)
		d->bucket[i] = NO_SLOT;
	for (uint32_t i = 0; i < n; i++) {
		struct denial *x = &d->slot[i];
		uint32_t h = denial_hash(x->eir, x->uid, x->op, x->err, x->kind);
		x->next = d->bucket[h];
		d->bucket[h] = i;
		if (x->kind == DENIAL_EXACT)
			d->nexact++;
		else if (x->kind == DENIAL_OVERFLOW)
			d->noverflow++;
	}
	d->nslots = n;
}

struct due {
	char eir[ENRP_EIR_NAME_MAX + 1];
	uint32_t uid;
	int op;
	int err;
	enum denial_kind kind;
	uint64_t count;
	struct enrp_actor who;
	bool has_who, others;
	char *path; /* owned */
};

struct flush_ctx {
	const struct enrp_actor *actor;
	const struct due *due;
	size_t n;
};

static int flush_fn(enrp_txn *t, void *arg)
{
	struct flush_ctx *c = arg;
	char details[ENRP_JOURNAL_DETAILS_MAX + 1];

	for (size_t i = 0; i < c->n; i++) {
		const struct due *x = &c->due[i];
		if (x->kind == DENIAL_EXACT) {
			const char *ename = strerrorname_np(x->err);
			char num[16];
			if (!ename) {
				snprintf(num, sizeof(num), "%d", x->err);
				ename = num;
			}
			snprintf(details, sizeof(details), "uid=%u op=%s errno=%s count=%llu", x->uid,
			         enrp_op_name((enum enrp_op)x->op), ename,
			         (unsigned long long)x->count);
			if (x->path)
				enrp_details_add(details, sizeof(details), "path", "%s", x->path);
			if (x->others)
				enrp_details_add(details, sizeof(details), "others", "yes");
		} else {
			/* Too many distinct denials to keep apart: the count is still exact. */
			snprintf(details, sizeof(details), "uid=any op=any errno=any count=%llu overflow=yes",
			         (unsigned long long)x->count);
		}
		/* The record names the first caller; "others" says more took part. */
		int rc = journal_append_txn(t, x->has_who ? &x->who : c->actor, x->eir, "denied",
		                            details);
		if (rc)
			return rc;
	}
	return 0;
}

int enrp_denials_flush(enrp_denials *d, const struct enrp_actor *actor, int64_t now, bool all)
{
	struct due *due;
	size_t n = 0;
	int rc = 0;

	pthread_mutex_lock(&d->lock);
	due = malloc((d->nslots ? d->nslots : 1) * sizeof(*due));
	if (!due) {
		pthread_mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < d->nslots; i++) {
		struct denial *x = &d->slot[i];
		if (x->pending == 0)
			continue;
		if (!all && x->flushed && now - x->last_flush < DENIAL_INTERVAL_NS)
			continue;
		struct due *y = &due[n++];
		memcpy(y->eir, x->eir, sizeof(y->eir));
		y->uid = x->uid;
		y->op = x->op;
		y->err = x->err;
		y->kind = x->kind;
		y->count = x->pending;
		y->who = x->who;
		y->has_who = x->has_who;
		y->others = x->others;
		y->path = x->path;
		x->path = NULL;
		x->pending = 0;
		x->flushed = true;
		x->last_flush = now;
	}
	denial_compact(d, now);
	pthread_mutex_unlock(&d->lock);

	/* The write runs unlocked so denying threads never wait on LMDB. */
	if (n) {
		struct flush_ctx c = { actor, due, n };
		rc = enrp_store_write(d->st, flush_fn, &c);
	}
	if (rc) {
		/* Put the counts back so the next flush writes them. */
		pthread_mutex_lock(&d->lock);
		for (size_t i = 0; i < n; i++) {
			struct denial *x = denial_slot(d, due[i].eir, due[i].uid, due[i].op,
			                               due[i].err, due[i].kind);
			if (x->pending == 0) {
				free(x->path);
				x->path = due[i].path;
				due[i].path = NULL;
				x->who = due[i].who;
				x->has_who = due[i].has_who;
				x->others = due[i].others;
			}
			x->pending += due[i].count;
			x->flushed = false;
		}
		pthread_mutex_unlock(&d->lock);
	}
	for (size_t i = 0; i < n; i++)
		free(due[i].path);
	free(due);
	return rc;
}
