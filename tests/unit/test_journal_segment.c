/*
 * test_journal_segment.c — audit export and verify --segment at the
 * library level (core/journal_segment.c).
 *
 * A 300-record journal (export copies 256 records per read transaction)
 * exports whole and as a range chosen by time, and verifies; anchors in,
 * at and outside the range behave as documented.  Then every single-byte
 * change of a small segment, anywhere but the informative "exported" line,
 * must fail verification: the format has no byte whose change passes.
 * Export refuses an empty range and a broken chain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/journal_segment.h>

#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"

#include "../tap.h"

static const char *tmp;
static int store_no;
static struct enrp_actor actor;

static enrp_store *new_store(int records)
{
	char path[256];
	enrp_store *st = NULL;

	snprintf(path, sizeof(path), "%s/s%d", tmp, store_no++);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		diag("cannot create a store at %s", path);
		exit(2);
	}
	for (int i = 1; i <= records; i++)
		if (enrp_journal_append(st, &actor, i % 2 ? "alpha" : "", "test-event", "n=%d", i))
			diag("append %d failed", i);
	return st;
}

/* Exports FROM..TO of ST into a malloc'd string *OUT. */
static int export(enrp_store *st, int64_t from, int64_t to, char **out, size_t *len,
                  struct enrp_segment_info *info)
{
	FILE *f = open_memstream(out, len);
	int rc = enrp_journal_export(st, from, to, 1, f, info);
	fclose(f);
	return rc;
}

static int verify(const char *seg, size_t len, const struct enrp_journal_anchor *a, size_t n,
                  struct enrp_segment_verdict *v)
{
	FILE *f = fmemopen((void *)seg, len, "r");
	int rc = enrp_journal_segment_verify(f, a, n, v);
	fclose(f);
	return rc;
}

struct times {
	int64_t t[301];
	uint8_t h[301][32];
};

static int times_cb(const struct enrp_journal_record *r, void *arg)
{
	struct times *x = arg;
	if (r->seq <= 300) {
		x->t[r->seq] = r->time_ns;
		memcpy(x->h[r->seq], r->hash, 32);
	}
	return 0;
}

static void anchor_at(struct enrp_journal_anchor *a, uint64_t seq, const uint8_t h[32])
{
	memset(a, 0, sizeof(*a));
	a->seq = seq;
	memcpy(a->hash, h, 32);
	snprintf(a->where, sizeof(a->where), "test:%llu", (unsigned long long)seq);
}

static void whole_and_range(void)
{
	enrp_store *st = new_store(300);
	struct enrp_segment_info info;
	struct enrp_segment_verdict v;
	struct enrp_journal_head head;
	struct times *x = calloc(1, sizeof(*x));
	char *seg = NULL;
	size_t len = 0;

	is_int(export(st, 0, INT64_MAX, &seg, &len, &info), 0, "export of 300 records");
	is_int(info.first_seq, 1, "... from record 1");
	is_int(info.last_seq, 300, "... to record 300");
	is_int(enrp_journal_head(st, &head), 0, "the head");
	ok(memcmp(info.last_hash, head.hash, 32) == 0, "the segment's last hash is the head's");
	is_int(verify(seg, len, NULL, 0, &v), 0, "verify reads it");
	ok(v.intact, "intact: %s", v.reason);
	is_int(v.records, 300, "300 records checked");
	is_str(v.journal, head.journal, "the journal's name");
	ok(memcmp(v.last_hash, head.hash, 32) == 0, "verify's last hash is the head's");
	free(seg);

	enrp_journal_iter(st, NULL, times_cb, x);
	is_int(export(st, x->t[100], x->t[200], &seg, &len, &info), 0, "export of a time range");
	is_int(info.first_seq * 1000 + info.last_seq, 100200, "records 100 to 200");
	ok(memcmp(info.anchor_hash, x->h[99], 32) == 0, "the anchor is record 99's hash");
	is_int(verify(seg, len, NULL, 0, &v), 0, "verify the range");
	ok(v.intact && v.first_seq == 100 && v.last_seq == 200 && v.anchor_seq == 99,
	   "intact, 100-200 chained from 99: %s", v.reason);

	struct enrp_journal_anchor a[4];
	anchor_at(&a[0], 99, x->h[99]);
	anchor_at(&a[1], 150, x->h[150]);
	anchor_at(&a[2], 250, x->h[250]);
	anchor_at(&a[3], 150, x->h[150]); /* a repeat */
	verify(seg, len, a, 4, &v);
	ok(v.intact, "anchors at 99, 150 (twice) and 250: intact (%s)", v.reason);
	is_int(v.anchors, 2, "two distinct anchors checked");
	is_int(v.outside, 1, "one outside");

	anchor_at(&a[0], 150, x->h[151]);
	verify(seg, len, a, 1, &v);
	ok(!v.intact && v.by_anchor && v.bad_seq == 150, "a wrong hash at 150: anchor not held at 150");
	anchor_at(&a[0], 99, x->h[98]);
	verify(seg, len, a, 1, &v);
	ok(!v.intact && v.by_anchor && v.bad_seq == 99, "a wrong hash for the anchor record: not held at 99");
	anchor_at(&a[0], 250, x->h[250]);
	anchor_at(&a[1], 20, x->h[20]);
	verify(seg, len, a, 2, &v);
	ok(!v.intact && v.by_anchor && v.outside == 2,
	   "only anchors outside the segment: not intact (%s)", v.reason);
	anchor_at(&a[0], 150, x->h[1]);
	snprintf(a[0].journal, sizeof(a[0].journal), "0123456789abcdef");
	anchor_at(&a[1], 150, x->h[150]);
	verify(seg, len, a, 2, &v);
	ok(v.intact && v.foreign == 1 && v.anchors == 1, "another journal's anchor is skipped");
	free(seg);

	is_int(export(st, x->t[300] + 1, INT64_MAX, &seg, &len, &info), -ENOENT,
	       "a range after the last record: -ENOENT");
	free(seg);
	is_int(export(st, x->t[5] + 1, x->t[5] + 2, &seg, &len, &info), -ENOENT,
	       "a range between two records: -ENOENT");
	free(seg);
	free(x);
	enrp_store_close(st);
}

static void every_byte(void)
{
	enrp_store *st = new_store(4);
	struct enrp_segment_info info;
	struct enrp_segment_verdict v;
	char *seg = NULL;
	size_t len = 0;
	int passed = 0, tried = 0;

	export(st, 0, INT64_MAX, &seg, &len, &info);
	const char *ex = strstr(seg, "\nexported ");
	size_t ex_from = (size_t)(ex - seg) + 1, ex_to = (size_t)(strchr(ex + 1, '\n') - seg);
	for (size_t i = 0; i < len; i++) {
		if (i >= ex_from && i < ex_to)
			continue;
		for (int bit = 0; bit < 8; bit++) {
			seg[i] ^= (char)(1 << bit);
			if (verify(seg, len, NULL, 0, &v) == 0 && v.intact) {
				if (passed++ < 5)
					diag("flipping bit %d of byte %zu ('%c') passes", bit, i, seg[i]);
			}
			tried++;
			seg[i] ^= (char)(1 << bit);
		}
	}
	is_int(passed, 0, "none of %d single-bit changes outside the exported line passes", tried);
	/* Cut at every length: only the whole passes. */
	passed = 0;
	for (size_t n = 0; n < len; n++)
		if (verify(seg, n, NULL, 0, &v) == 0 && v.intact)
			passed++;
	is_int(passed, 0, "no proper prefix of the segment passes");
	verify(seg, len, NULL, 0, &v);
	ok(v.intact, "the untouched segment still passes");
	free(seg);
	enrp_store_close(st);
}

static int break_fn(enrp_txn *t, void *arg)
{
	(void)arg;
	uint8_t key[8];
	be64_put(key, 3);
	return txn_put(t, DBI_JOURNAL, key, sizeof(key), "garbage", 7, 0);
}

static void broken_chain(void)
{
	enrp_store *st = new_store(5);
	struct enrp_segment_info info;
	char *seg = NULL;
	size_t len = 0;

	is_int(enrp_store_write(st, break_fn, NULL), 0, "record 3 overwritten with garbage");
	is_int(export(st, 0, INT64_MAX, &seg, &len, &info), -EBADMSG, "export of a broken chain: -EBADMSG");
	is_int(info.first_seq, 3, "... naming record 3");
	is_int(len, 0, "... having written nothing");
	free(seg);
	enrp_store_close(st);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_journal_segment");
	whole_and_range();
	every_byte();
	broken_chain();
	tap_rmrf(tmp);
	return done_testing();
}
