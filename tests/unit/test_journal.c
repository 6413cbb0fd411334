/*
 * test_journal.c — the hash chain and the denial aggregation.
 *
 * Chain: append records, check that verify calls an untouched journal
 * intact and that each record's prev_hash is its predecessor's hash; then,
 * on fresh stores, tamper with the LMDB records behind the journal's back
 * (rewrite a record, delete one, swap two, cut the tail, write garbage) and
 * check that verify points at the right record.  Batching (iter and verify
 * read 256 records per transaction) is crossed by a 600-record journal.
 *
 * Denials: 1000 notes become one record on the first flush, nothing on an
 * immediate second flush, one record with the new count once 61 simulated
 * seconds have passed; the table's bound folds extra keys into an overflow
 * record; notes from several threads are all counted.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include <enrp/enrp.h>
#include <enrp/journal.h>

#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"

#include "../tap.h"

#define S 1000000000LL

static const char *tmp;
static int store_no;

static enrp_store *new_store(void)
{
	char path[256];
	enrp_store *st = NULL;

	snprintf(path, sizeof(path), "%s/s%d", tmp, store_no++);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		diag("cannot create a store at %s", path);
		exit(2);
	}
	return st;
}

static struct enrp_actor actor;

static void append_n(enrp_store *st, int n)
{
	int bad = 0;
	for (int i = 1; i <= n; i++)
		if (enrp_journal_append(st, &actor, i % 2 ? "alpha" : "beta",
		                        i % 3 ? "test-event" : "other-event", "n=%d", i))
			bad++;
	if (bad)
		diag("%d appends failed", bad);
}

/* ---- reading ---- */

struct collect {
	uint64_t n;
	uint64_t last_seq;
	bool chain_ok;
	uint8_t last_hash[32];
	char last_details[ENRP_JOURNAL_DETAILS_MAX + 1];
	char last_eir[ENRP_EIR_NAME_MAX + 1];
};

static int collect_cb(const struct enrp_journal_record *r, void *arg)
{
	struct collect *c = arg;
	if (c->n && memcmp(r->prev_hash, c->last_hash, 32) != 0)
		c->chain_ok = false;
	c->n++;
	c->last_seq = r->seq;
	memcpy(c->last_hash, r->hash, 32);
	strcpy(c->last_details, r->details);
	strcpy(c->last_eir, r->eir);
	return 0;
}

static struct collect collect(enrp_store *st, const struct enrp_journal_filter *f)
{
	struct collect c;
	memset(&c, 0, sizeof(c));
	c.chain_ok = true;
	int rc = enrp_journal_iter(st, f, collect_cb, &c);
	if (rc)
		diag("iter failed: %d", rc);
	return c;
}

static int stop_cb(const struct enrp_journal_record *r, void *arg)
{
	(void)arg;
	return r->seq == 3 ? 42 : 0;
}

static int first_cb(const struct enrp_journal_record *r, void *arg)
{
	memcpy(arg, r, sizeof(*r));
	return 1;
}

static void append_and_read(void)
{
	enrp_store *st = new_store();
	struct enrp_journal_verdict v;
	uint8_t zero[32] = { 0 };

	is_int(enrp_journal_verify(st, &v), 0, "empty journal: verify runs");
	ok(v.intact && v.records == 0, "empty journal is intact");

	append_n(st, 10);
	struct collect c = collect(st, NULL);
	is_int(c.n, 10, "iter sees 10 records");
	ok(c.chain_ok, "each prev_hash is the previous record's hash");
	is_int(c.last_seq, 10, "seqs run to 10");

	struct enrp_journal_filter f = { .eir = "alpha" };
	is_int(collect(st, &f).n, 5, "filter by eir");
	f = (struct enrp_journal_filter){ .event = "other-event" };
	is_int(collect(st, &f).n, 3, "filter by event");
	f = (struct enrp_journal_filter){ .eir = "alpha", .event = "other-event" };
	is_int(collect(st, &f).n, 2, "filter by eir and event");
	f = (struct enrp_journal_filter){ .since_ns = enrp_now_ns() + 3600 * S };
	is_int(collect(st, &f).n, 0, "filter by time: nothing from the future");
	f = (struct enrp_journal_filter){ .since_ns = enrp_now_ns() - 3600 * S };
	is_int(collect(st, &f).n, 10, "filter by time: everything from the last hour");
	is_int(enrp_journal_iter(st, NULL, stop_cb, NULL), 42, "a callback's non-zero stops iter");

	is_int(enrp_journal_verify(st, &v), 0, "verify runs");
	ok(v.intact && v.records == 10 && v.bad_seq == 0, "10 records, intact");

	char big[ENRP_JOURNAL_DETAILS_MAX + 2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(enrp_journal_append(st, &actor, NULL, "big", "%s", big), 0, "append long details");
	c = collect(st, NULL);
	is_int(strlen(c.last_details), ENRP_JOURNAL_DETAILS_MAX, "details cut at the maximum");
	is_str(c.last_eir, "", "NULL eir is stored as empty");

	is_int(enrp_journal_append(st, &actor, "a", "", "x"), -EINVAL, "empty event: -EINVAL");
	is_int(enrp_journal_append(st, &actor, "a", "an-event-name-longer-than-31-chars", "x"),
	       -EINVAL, "over-long event: -EINVAL");
	is_int(collect(st, NULL).n, 11, "refused appends left nothing");

	struct enrp_journal_record first;
	is_int(enrp_journal_iter(st, NULL, first_cb, &first), 1, "read the first record");
	ok(first.seq == 1 && memcmp(first.prev_hash, zero, 32) == 0,
	   "the first record's prev_hash is zero");
	enrp_store_close(st);
}

/* ---- tampering ---- */

enum tamper_kind { T_REWRITE, T_DELETE, T_SWAP, T_GARBAGE, T_ZERO_PREV };

struct tamper {
	enum tamper_kind kind;
	uint64_t a, b;
};

static int get_raw(enrp_txn *t, uint64_t seq, uint8_t *buf, size_t *len)
{
	uint8_t key[8];
	MDB_val v;
	be64_put(key, seq);
	int rc = txn_get(t, DBI_JOURNAL, key, sizeof(key), &v);
	if (rc)
		return rc;
	memcpy(buf, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return 0;
}

static int put_raw(enrp_txn *t, uint64_t seq, const uint8_t *buf, size_t len)
{
	uint8_t key[8];
	be64_put(key, seq);
	return txn_put(t, DBI_JOURNAL, key, sizeof(key), buf, len, 0);
}

static int tamper_fn(enrp_txn *t, void *arg)
{
	struct tamper *tp = arg;
	uint8_t a[4096], b[4096], key[8];
	size_t alen, blen;
	struct enrp_journal_record r;
	struct rec_out o;
	int rc;

	switch (tp->kind) {
	case T_REWRITE:
	case T_ZERO_PREV:
		rc = get_raw(t, tp->a, a, &alen);
		if (rc)
			return rc;
		rc = rec_journal_decode(a, alen, &r);
		if (rc)
			return rc;
		if (tp->kind == T_REWRITE)
			strcpy(r.details, "n=666");
		else
			memset(r.prev_hash, 0, 32);
		rec_out_init(&o);
		rc = rec_journal_encode(&r, &o);
		if (!rc)
			rc = put_raw(t, tp->a, o.buf, o.len);
		rec_out_release(&o);
		return rc;
	case T_DELETE:
		be64_put(key, tp->a);
		return txn_del(t, DBI_JOURNAL, key, sizeof(key));
	case T_SWAP:
		rc = get_raw(t, tp->a, a, &alen);
		if (!rc)
			rc = get_raw(t, tp->b, b, &blen);
		if (!rc)
			rc = put_raw(t, tp->a, b, blen);
		if (!rc)
			rc = put_raw(t, tp->b, a, alen);
		return rc;
	case T_GARBAGE:
		memset(a, 0x5a, 40);
		return put_raw(t, tp->a, a, 40);
	}
	return -EINVAL;
}

static void tampered(const char *what, int n, struct tamper tp, uint64_t want_seq,
                     const char *want_reason)
{
	enrp_store *st = new_store();
	struct enrp_journal_verdict v;

	append_n(st, n);
	is_int(enrp_store_write(st, tamper_fn, &tp), 0, "%s: tampering applied", what);
	is_int(enrp_journal_verify(st, &v), 0, "%s: verify runs", what);
	ok(!v.intact, "%s: detected", what);
	is_int(v.bad_seq, want_seq, "%s: breaks at record %llu", what, (unsigned long long)want_seq);
	ok(strstr(v.reason, want_reason) != NULL, "%s: reason '%s' says '%s'", what, v.reason,
	   want_reason);
	enrp_store_close(st);
}

static void tampering(void)
{
	tampered("changed details of record 5", 10, (struct tamper){ T_REWRITE, 5, 0 }, 6,
	         "record 6: previous-hash mismatch (record 5 changed");
	tampered("changed details of the last record", 10, (struct tamper){ T_REWRITE, 10, 0 }, 10,
	         "record 10: does not match the journal head");
	tampered("deleted record 5", 10, (struct tamper){ T_DELETE, 5, 0 }, 5, "record 5 missing");
	tampered("deleted record 1", 10, (struct tamper){ T_DELETE, 1, 0 }, 1, "record 1 missing");
	tampered("swapped records 3 and 4", 10, (struct tamper){ T_SWAP, 3, 4 }, 3,
	         "record 3: holds record 4");
	tampered("deleted the tail", 10, (struct tamper){ T_DELETE, 10, 0 }, 10,
	         "journal head says 10 records, found 9");
	tampered("garbage in record 7", 10, (struct tamper){ T_GARBAGE, 7, 0 }, 7,
	         "record 7: cannot be decoded");
	tampered("record 4 re-chained to zero", 10, (struct tamper){ T_ZERO_PREV, 4, 0 }, 4,
	         "record 4: previous-hash mismatch");
}

/* A record written past the head: the head is stale. */
static int extra_fn(enrp_txn *t, void *arg)
{
	(void)arg;
	uint8_t a[4096];
	size_t alen;
	int rc = get_raw(t, 10, a, &alen);
	if (rc)
		return rc;
	return put_raw(t, 11, a, alen);
}

static void extra_record(void)
{
	enrp_store *st = new_store();
	struct enrp_journal_verdict v;

	append_n(st, 10);
	enrp_store_write(st, extra_fn, NULL);
	enrp_journal_verify(st, &v);
	ok(!v.intact && v.bad_seq == 11, "a record past the head is found (%s)", v.reason);
	is_int(enrp_journal_append(st, &actor, "x", "after", "y"), -EEXIST,
	       "append refuses to overwrite a record the head does not know");
	enrp_store_close(st);
}

static void batches(void)
{
	enrp_store *st = new_store();
	struct enrp_journal_verdict v;

	append_n(st, 600);
	struct collect c = collect(st, NULL);
	ok(c.n == 600 && c.chain_ok && c.last_seq == 600, "iter crosses batches: 600 chained");
	enrp_journal_verify(st, &v);
	ok(v.intact && v.records == 600, "verify crosses batches: 600 intact");
	struct tamper tp = { T_DELETE, 257, 0 };
	enrp_store_write(st, tamper_fn, &tp);
	enrp_journal_verify(st, &v);
	ok(!v.intact && v.bad_seq == 257, "deletion at a batch boundary found (%s)", v.reason);
	enrp_store_close(st);
}

/* ---- denials ---- */

static struct collect denied(enrp_store *st)
{
	struct enrp_journal_filter f = { .event = "denied" };
	return collect(st, &f);
}

struct noter {
	enrp_denials *d;
	int n;
};

static void *noter_main(void *arg)
{
	struct noter *x = arg;
	for (int i = 0; i < x->n; i++)
		enrp_denials_note(x->d, "threads", 7, 0, ENRP_OP_WRITE, -EROFS, NULL, NULL);
	return NULL;
}

static void denials(void)
{
	enrp_store *st = new_store();
	enrp_denials *d;
	const int64_t t0 = 1800000000LL * S;

	is_int(enrp_denials_new(st, &d), 0, "denials table made");
	for (int i = 0; i < 1000; i++)
		enrp_denials_note(d, "alpha", 1001, 0, ENRP_OP_READ, -EACCES, NULL, NULL);
	is_int(enrp_denials_flush(d, &actor, t0, false), 0, "first flush");
	struct collect c = denied(st);
	is_int(c.n, 1, "1000 denials: one record");
	is_str(c.last_details, "uid=1001 op=read errno=EACCES count=1000", "with their count");
	is_str(c.last_eir, "alpha", "about the EIR");

	enrp_denials_flush(d, &actor, t0, false);
	is_int(denied(st).n, 1, "an immediate second flush writes nothing");

	for (int i = 0; i < 500; i++)
		enrp_denials_note(d, "alpha", 1001, 0, ENRP_OP_READ, EACCES, NULL, NULL);
	enrp_denials_flush(d, &actor, t0 + 1 * S, false);
	is_int(denied(st).n, 1, "one second later: still nothing (once a minute per key)");
	enrp_denials_flush(d, &actor, t0 + 61 * S, false);
	c = denied(st);
	is_int(c.n, 2, "61 s later: one more record");
	is_str(c.last_details, "uid=1001 op=read errno=EACCES count=500", "with the new count");

	enrp_denials_note(d, "alpha", 1001, 0, ENRP_OP_READ, EACCES, NULL, NULL);
	enrp_denials_note(d, "beta", 1002, 0, ENRP_OP_REMOVE, EROFS, NULL, NULL);
	enrp_denials_flush(d, &actor, t0 + 62 * S, false);
	c = denied(st);
	is_int(c.n, 3, "a new key is written at once, the old one waits");
	is_str(c.last_details, "uid=1002 op=remove errno=EROFS count=1", "the new key's record");
	enrp_denials_flush(d, &actor, t0 + 63 * S, true);
	c = denied(st);
	is_int(c.n, 4, "flush ALL writes what was waiting");
	is_str(c.last_details, "uid=1001 op=read errno=EACCES count=1", "the waiting count");

	/* The bound: 5000 distinct uids in one EIR.  A flush with nothing due
	 * first lets the table forget alpha and beta, quiet for a minute. */
	enrp_denials_flush(d, &actor, t0 + 130 * S, false);
	is_int(denied(st).n, 4, "a flush with nothing pending writes nothing");
	for (uint32_t uid = 0; uid < 5000; uid++)
		enrp_denials_note(d, "gamma", 100000 + uid, 0, ENRP_OP_WRITE, EROFS, NULL, NULL);
	enrp_denials_flush(d, &actor, t0 + 200 * S, true);
	c = denied(st);
	/* alpha and beta were quiet for over a minute, so forgotten: all 4096
	 * exact keys are gamma's, and the rest folds into one overflow. */
	is_int(c.n, 4 + 4096 + 1, "5000 keys: 4096 records and one overflow record");
	is_str(c.last_details, "uid=any op=any errno=any count=904 overflow=yes",
	       "the overflow record counts the rest");
	enrp_denials_flush(d, &actor, t0 + 300 * S, false);
	enrp_denials_note(d, "delta", 5, 0, ENRP_OP_READ, EACCES, NULL, NULL);
	enrp_denials_flush(d, &actor, t0 + 301 * S, false);
	c = denied(st);
	is_str(c.last_details, "uid=5 op=read errno=EACCES count=1",
	       "quiet keys are forgotten: new keys are exact again");

	pthread_t th[4];
	struct noter x = { d, 10000 };
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, noter_main, &x);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	enrp_denials_flush(d, &actor, t0 + 400 * S, true);
	c = denied(st);
	is_str(c.last_details, "uid=7 op=write errno=EROFS count=40000",
	       "notes from 4 threads are all counted");

	enrp_denials_free(d);
	enrp_denials_free(NULL);

	struct enrp_journal_verdict v;
	enrp_journal_verify(st, &v);
	ok(v.intact, "the journal is intact after all that");
	enrp_store_close(st);
}

/* ---- a journal written before records named the person ---- */

/* Rewrites records 1..N as format 1 (the encoding test_record.c pins byte
 * for byte), re-chained, and moves the head: the journal a store written by
 * an older enrp holds. */
static int to_format1_fn(enrp_txn *t, void *arg)
{
	uint64_t n = *(uint64_t *)arg;
	uint8_t prev[32] = { 0 }, head[JOURNAL_HEAD_LEN];
	int rc = 0;

	for (uint64_t seq = 1; seq <= n && !rc; seq++) {
		struct enrp_journal_record r;
		struct rec_out o;
		unsigned int len = 0;
		rc = journal_get_txn(t, seq, &r);
		if (rc)
			return rc;
		r.format = ENRP_JOURNAL_FORMAT_1;
		memcpy(r.prev_hash, prev, 32);
		rec_out_init(&o);
		rc = rec_journal_encode(&r, &o);
		if (!rc && o.buf[0] != 1)
			rc = -EPROTO;
		if (!rc && EVP_Digest(o.buf, o.len, prev, &len, EVP_sha256(), NULL) != 1)
			rc = -EIO;
		if (!rc)
			rc = put_raw(t, seq, o.buf, o.len);
		rec_out_release(&o);
	}
	if (rc)
		return rc;
	rec_journal_head_encode(head, n, prev);
	return txn_put(t, DBI_META, "journal_head", strlen("journal_head"), head, sizeof(head), 0);
}

struct formats {
	int n, v1, v2, v1_person, v2_person;
};

static int formats_cb(const struct enrp_journal_record *r, void *arg)
{
	struct formats *f = arg;
	f->n++;
	if (r->format == ENRP_JOURNAL_FORMAT_1) {
		f->v1++;
		f->v1_person += r->login_uid != ENRP_NO_UID || r->sudo_uid != ENRP_NO_UID ||
		                r->sudo_user[0];
	} else if (r->format == ENRP_JOURNAL_FORMAT_2) {
		f->v2++;
		f->v2_person += r->login_uid == actor.login_uid && r->sudo_uid == actor.sudo_uid &&
		                strcmp(r->sudo_user, actor.sudo_user) == 0;
	}
	return 0;
}

static void old_format(void)
{
	enrp_store *st = new_store();
	struct enrp_journal_verdict v;
	struct enrp_journal_head h;
	uint64_t n = 4;

	append_n(st, (int)n);
	is_int(enrp_store_write(st, to_format1_fn, &n), 0, "old journal: 4 records in format 1");
	is_int(enrp_journal_verify(st, &v), 0, "old journal: verify runs");
	ok(v.intact && v.records == 4, "old journal: its chain verifies (%s)", v.reason);
	is_int(enrp_journal_head(st, &h), 0, "old journal: head taken");

	append_n(st, 3);
	is_int(enrp_journal_verify(st, &v), 0, "old + new: verify runs");
	ok(v.intact && v.records == 7, "old + new: the chain runs through both formats (%s)",
	   v.reason);
	struct enrp_journal_anchor an = { .seq = h.seq };
	memcpy(an.hash, h.hash, 32);
	is_int(enrp_journal_verify_anchors(st, &an, 1, &v), 0, "old + new: anchors checked");
	ok(v.intact && v.covered == 4, "old + new: the anchor taken before still holds");

	struct formats f = { 0 };
	is_int(enrp_journal_iter(st, NULL, formats_cb, &f), 0, "old + new: every record reads");
	ok(f.n == 7 && f.v1 == 4 && f.v2 == 3, "old + new: 4 records of format 1, 3 of format 2");
	is_int(f.v1_person, 0, "format 1 records name no person");
	is_int(f.v2_person, 3, "format 2 records name the actor's login uid and sudo user");
	enrp_store_close(st);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_journal");

	append_and_read();
	tampering();
	extra_record();
	batches();
	denials();
	old_format();

	tap_rmrf(tmp);
	return done_testing();
}
