/*
 * journal_segment.c — exporting a run of the audit journal as a segment
 * that verifies offline (include/enrp/journal_segment.h gives the format).
 *
 * Why it needs nothing but the file: each record travels as its exact
 * stored bytes, which are what its hash is over, and the bytes hold the
 * record's seq and its predecessor's hash.  So the segment proves itself
 * from its anchor line on; what proves the anchor line is an anchor kept
 * outside (a head saved by `audit head`, the syslog stream), given to the
 * check or compared by hand.  The hash lines are redundant with the bytes
 * on purpose: a reader without a record decoder (an auditor's script) can
 * check the hashes and the chain from them and the bytes' last 32 bytes.
 *
 * Export walks the journal twice outside any long transaction: once
 * decoded, to find the range and the hash before it, once raw, in batches,
 * to write the bytes.  Records are only ever appended, so the second walk
 * sees the same records up to the range's end; it re-checks the chain
 * anyway, since it is what the file will vouch for.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <enrp/enrp.h>
#include <enrp/journal_segment.h>

#include "journal_int.h"
#include "record_int.h"

/* Records per read transaction when copying the bytes. */
#define BATCH 256
/* The longest record line: a record's bytes are bounded by its fields. */
#define RECORD_BYTES_MAX (1 + 8 * 2 + 4 * 4 + 5 * 4 + 64 + 33 + ENRP_EIR_NAME_MAX + \
                          ENRP_JOURNAL_EVENT_MAX + ENRP_JOURNAL_DETAILS_MAX + 32 + 64)

static int sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return -EIO;
	return 0;
}

static void iso(int64_t ns, char buf[32])
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	if (ns < 0 || !gmtime_r(&s, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, 32, "-");
}

/* ---- export ---- */

struct range_ctx {
	int64_t from, to;
	uint64_t first, last;
	uint8_t prev[32];       /* hash of the record before the one being looked at */
	uint8_t anchor[32];
	uint8_t last_hash[32];
	char journal[ENRP_JOURNAL_ID_LEN + 1];
};

static int range_cb(const struct enrp_journal_record *r, void *arg)
{
	struct range_ctx *c = arg;
	if (r->seq == 1)
		journal_id(r->hash, c->journal);
	if (!c->first && r->time_ns >= c->from) {
		c->first = r->seq;
		memcpy(c->anchor, c->prev, 32);
	}
	if (c->first && r->time_ns <= c->to) {
		c->last = r->seq;
		memcpy(c->last_hash, r->hash, 32);
	}
	memcpy(c->prev, r->hash, 32);
	return 0;
}

struct raw_batch {
	uint64_t from, to;
	size_t n;
	uint64_t seq[BATCH];
	size_t off[BATCH + 1];
	uint8_t *buf;
	size_t cap;
};

static int raw_fn(enrp_txn *t, void *arg)
{
	struct raw_batch *b = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t key[8];
	int rc = 0, mrc;

	b->n = 0;
	b->off[0] = 0;
	rc = txn_cursor(t, DBI_JOURNAL, &cur);
	if (rc)
		return rc;
	be64_put(key, b->from);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && b->n < BATCH) {
		if (k.mv_size != 8) {
			rc = -EBADMSG;
			break;
		}
		uint64_t seq = be64_get(k.mv_data);
		if (seq > b->to)
			break;
		size_t need = b->off[b->n] + v.mv_size;
		if (need > b->cap) {
			size_t cap = b->cap ? b->cap : 65536;
			while (cap < need)
				cap *= 2;
			uint8_t *p = realloc(b->buf, cap);
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			b->buf = p;
			b->cap = cap;
		}
		memcpy(b->buf + b->off[b->n], v.mv_data, v.mv_size);
		b->seq[b->n] = seq;
		b->off[b->n + 1] = need;
		b->n++;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = store_mdb_err(mrc);
	mdb_cursor_close(cur);
	return rc;
}

static int put_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put_line(FILE *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(out, fmt, ap);
	va_end(ap);
	return n < 0 ? -(errno ? errno : EIO) : 0;
}

/* Writes records FIRST..LAST of B's journal, checking the chain from PREV. */
static int write_records(enrp_store *st, FILE *out, uint64_t first, uint64_t last,
                         uint8_t prev[32])
{
	struct raw_batch *b = calloc(1, sizeof(*b));
	char *line = malloc(4 * (RECORD_BYTES_MAX / 3 + 1) + 1);
	char hex[65];
	uint64_t expect = first;
	int rc = 0;

	if (!b || !line) {
		rc = -ENOMEM;
		goto out;
	}
	b->from = first;
	b->to = last;
	while (expect <= last) {
		rc = enrp_store_read(st, raw_fn, b);
		if (rc)
			goto out;
		if (b->n == 0) {
			rc = -EBADMSG; /* records vanished between the walks */
			goto out;
		}
		for (size_t i = 0; i < b->n; i++) {
			const uint8_t *p = b->buf + b->off[i];
			size_t len = b->off[i + 1] - b->off[i];
			uint8_t h[32];
			if (b->seq[i] != expect || len < 1 + 8 + 32 || len > RECORD_BYTES_MAX ||
			    be64_get(p + 1) != expect || CRYPTO_memcmp(p + len - 32, prev, 32) != 0) {
				rc = -EBADMSG;
				goto out;
			}
			if ((rc = sha256(p, len, h)))
				goto out;
			EVP_EncodeBlock((unsigned char *)line, p, (int)len);
			journal_hex(h, 32, hex);
			rc = put_line(out, "record %" PRIu64 " %s %s\n", expect, hex, line);
			if (rc)
				goto out;
			memcpy(prev, h, 32);
			expect++;
		}
		b->from = expect;
	}
out:
	if (b)
		free(b->buf);
	free(b);
	free(line);
	return rc;
}

int enrp_journal_export(enrp_store *st, int64_t from_ns, int64_t to_ns, int64_t now_ns,
                        FILE *out, struct enrp_segment_info *info)
{
	struct enrp_journal_verdict v;
	struct range_ctx c;
	char hex[65], t0[32], t1[32], t2[32];
	int rc;

	memset(info, 0, sizeof(*info));
	rc = enrp_journal_verify(st, &v);
	if (rc)
		return rc;
	if (!v.intact) {
		info->first_seq = v.bad_seq;
		return -EBADMSG;
	}
	memset(&c, 0, sizeof(c));
	c.from = from_ns;
	c.to = to_ns;
	rc = enrp_journal_iter(st, NULL, range_cb, &c);
	if (rc)
		return rc;
	if (!c.first || !c.last)
		return -ENOENT;
	snprintf(info->journal, sizeof(info->journal), "%s", c.journal);
	memcpy(info->anchor_hash, c.anchor, 32);

	iso(now_ns, t0);
	if (from_ns > 0)
		iso(from_ns, t1);
	else
		snprintf(t1, sizeof(t1), "start");
	if (to_ns < INT64_MAX)
		iso(to_ns, t2);
	else
		snprintf(t2, sizeof(t2), "end");
	journal_hex(c.anchor, 32, hex);
	rc = put_line(out, "%s %d\njournal %s\nexported %s from %s to %s\nanchor %" PRIu64 ":%s\n",
	              ENRP_SEGMENT_MAGIC, ENRP_SEGMENT_VERSION, c.journal, t0, t1, t2,
	              c.first - 1, hex);
	if (rc)
		return rc;
	uint8_t prev[32];
	memcpy(prev, c.anchor, 32);
	rc = write_records(st, out, c.first, c.last, prev);
	if (rc)
		return rc;
	if (CRYPTO_memcmp(prev, c.last_hash, 32) != 0)
		return -EBADMSG;
	journal_hex(prev, 32, hex);
	rc = put_line(out, "end %" PRIu64 " %" PRIu64 ":%s\n", c.last - c.first + 1, c.last, hex);
	if (rc)
		return rc;
	if (fflush(out) == EOF)
		return -(errno ? errno : EIO);
	info->first_seq = c.first;
	info->last_seq = c.last;
	memcpy(info->last_hash, prev, 32);
	return 0;
}

/* ---- offline verification ---- */

static void bad(struct enrp_segment_verdict *v, uint64_t seq, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void bad(struct enrp_segment_verdict *v, uint64_t seq, uint64_t line, const char *fmt, ...)
{
	va_list ap;
	v->intact = false;
	v->bad_seq = seq;
	v->bad_line = line;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

static const char *short_hex(const uint8_t h[32], char buf[13])
{
	char full[65];
	journal_hex(h, 32, full);
	memcpy(buf, full, 12);
	buf[12] = '\0';
	return buf;
}

/* Splits S at single blanks into at most MAX fields; the count, or
 * MAX + 1 when there are more (or a field is empty). */
static size_t split(char *s, char **f, size_t max)
{
	size_t n = 0;
	for (;;) {
		char *sp = strchr(s, ' ');
		if (n == max || (sp == s) || !*s)
			return max + 1;
		f[n++] = s;
		if (!sp)
			return n;
		*sp = '\0';
		s = sp + 1;
	}
}

/* 64 lower-case hex digits, the only spelling export writes (so no byte of
 * a segment can change without failing it), into H. */
static bool parse_hash(const char *s, uint8_t h[32])
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64 && journal_unhex(s, 64, h, 32);
}

/* "SEQ:HASH" with SEQ >= 0 (0 only with ZERO_OK). */
static bool parse_seq_hash(const char *s, bool zero_ok, uint64_t *seq, uint8_t h[32])
{
	const char *colon = strchr(s, ':');
	if (!colon || !parse_hash(colon + 1, h))
		return false;
	if (zero_ok && colon - s == 1 && s[0] == '0') {
		*seq = 0;
		return true;
	}
	return journal_parse_seq(s, (size_t)(colon - s), seq);
}

/* Decodes canonical, unwrapped base64 of S into OUT (room for LEN * 3 / 4). */
static bool unbase64(const char *s, size_t len, uint8_t *out, size_t *outlen, char *scratch)
{
	if (len == 0 || len % 4)
		return false;
	int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0)
		return false;
	size_t pad = (s[len - 1] == '=') + (s[len - 2] == '=');
	*outlen = (size_t)n - pad;
	/* Only the one spelling export writes: re-encoding must give S back. */
	EVP_EncodeBlock((unsigned char *)scratch, out, (int)*outlen);
	return strlen(scratch) == len && memcmp(scratch, s, len) == 0;
}

static int ptr_cmp(const void *x, const void *y)
{
	const struct enrp_journal_anchor *a = *(const struct enrp_journal_anchor *const *)x;
	const struct enrp_journal_anchor *b = *(const struct enrp_journal_anchor *const *)y;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct anchor_walk {
	const struct enrp_journal_anchor **p;
	size_t n, k;            /* sorted anchors of this journal; next to look at */
	uint64_t last_checked;  /* seq of the last distinct anchor counted */
};

/* Checks the anchors naming SEQ (hash H); false with the verdict on failure. */
static bool anchors_at(struct enrp_segment_verdict *v, struct anchor_walk *w, uint64_t seq,
                       const uint8_t h[32], uint64_t line)
{
	char x1[13], x2[13];
	while (w->k < w->n && w->p[w->k]->seq < seq) {
		v->outside++;
		w->k++;
	}
	for (; w->k < w->n && w->p[w->k]->seq == seq; w->k++) {
		const struct enrp_journal_anchor *a = w->p[w->k];
		if (CRYPTO_memcmp(a->hash, h, 32) != 0) {
			bad(v, seq, line, "record %llu differs from its anchor (%s): hash %s, anchored "
			    "%s; the segment is not the journal that anchor was taken from",
			    (unsigned long long)seq, a->where, short_hex(h, x1), short_hex(a->hash, x2));
			v->by_anchor = true;
			return false;
		}
		if (w->last_checked != seq || v->anchors == 0)
			v->anchors++;
		w->last_checked = seq;
	}
	return true;
}

enum { ST_MAGIC, ST_HEADER, ST_RECORDS, ST_END };

int enrp_journal_segment_verify(FILE *in, const struct enrp_journal_anchor *anchors, size_t n,
                                struct enrp_segment_verdict *v)
{
	struct anchor_walk w = { 0 };
	char *line = NULL, *f[8];
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 0, expect = 0;
	uint8_t prev[32], *bytes = malloc(RECORD_BYTES_MAX + 4);
	char *scratch = malloc(4 * (RECORD_BYTES_MAX / 3 + 2) + 1);
	bool have_anchor = false, have_journal = false;
	int state = ST_MAGIC, rc = 0;
	char x1[13], x2[13];

	memset(v, 0, sizeof(*v));
	v->intact = true;
	w.p = malloc((n ? n : 1) * sizeof(*w.p));
	if (!bytes || !scratch || !w.p) {
		rc = -ENOMEM;
		goto out;
	}

	while (v->intact && (len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		bool nl = len && line[len - 1] == '\n';
		if (nl)
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			bad(v, expect, lineno, "line %llu holds a NUL byte", (unsigned long long)lineno);
			break;
		}
		if (state == ST_END) {
			bad(v, 0, lineno, "line %llu: data after the end line (records appended to "
			    "a finished segment?)", (unsigned long long)lineno);
			break;
		}
		size_t nf = split(line, f, 7);
		if (state == ST_MAGIC) {
			if (nf != 2 || strcmp(f[0], ENRP_SEGMENT_MAGIC) != 0) {
				bad(v, 0, lineno, "not a journal segment (its first line is not '%s %d')",
				    ENRP_SEGMENT_MAGIC, ENRP_SEGMENT_VERSION);
				break;
			}
			if (strcmp(f[1], "1") != 0) {
				bad(v, 0, lineno, "segment format '%s' is not known to this enrpctl "
				    "(it reads format %d)", f[1], ENRP_SEGMENT_VERSION);
				break;
			}
			state = ST_HEADER;
			continue;
		}
		if (nf > 7) {
			bad(v, expect, lineno, "line %llu is malformed", (unsigned long long)lineno);
			break;
		}
		if (state == ST_HEADER && strcmp(f[0], "journal") == 0 && nf == 2 && !have_journal &&
		    strlen(f[1]) == ENRP_JOURNAL_ID_LEN && strspn(f[1], "0123456789abcdef") ==
		    ENRP_JOURNAL_ID_LEN) {
			snprintf(v->journal, sizeof(v->journal), "%s", f[1]);
			have_journal = true;
			continue;
		}
		if (state == ST_HEADER && strcmp(f[0], "exported") == 0 && nf == 6)
			continue;
		if (state == ST_HEADER && strcmp(f[0], "anchor") == 0 && nf == 2 && !have_anchor) {
			if (!parse_seq_hash(f[1], true, &v->anchor_seq, v->anchor_hash)) {
				bad(v, 0, lineno, "line %llu: the anchor is not SEQ:HASH",
				    (unsigned long long)lineno);
				break;
			}
			have_anchor = true;
			continue;
		}
		if (strcmp(f[0], "record") == 0 && nf == 4) {
			uint64_t seq;
			uint8_t stated[32], h[32];
			size_t blen;
			struct enrp_journal_record *r;

			if (state == ST_HEADER) {
				if (!have_journal || !have_anchor) {
					bad(v, 0, lineno, "line %llu: a record before the %s line",
					    (unsigned long long)lineno, have_journal ? "anchor" : "journal");
					break;
				}
				/* The anchors of this journal, in seq order. */
				for (size_t i = 0; i < n; i++) {
					if (anchors[i].journal[0] && strcmp(anchors[i].journal, v->journal))
						v->foreign++;
					else
						w.p[w.n++] = &anchors[i];
				}
				qsort(w.p, w.n, sizeof(*w.p), ptr_cmp);
				if (v->anchor_seq && !anchors_at(v, &w, v->anchor_seq, v->anchor_hash,
				                                 lineno))
					break;
				memcpy(prev, v->anchor_hash, 32);
				expect = v->anchor_seq + 1;
				v->first_seq = expect;
				state = ST_RECORDS;
			}
			if (!journal_parse_seq(f[1], strlen(f[1]), &seq) || !parse_hash(f[2], stated)) {
				bad(v, expect, lineno, "line %llu: malformed record line (record %llu "
				    "expected)", (unsigned long long)lineno, (unsigned long long)expect);
				break;
			}
			if (strlen(f[3]) > 4 * (RECORD_BYTES_MAX / 3 + 1) ||
			    !unbase64(f[3], strlen(f[3]), bytes, &blen, scratch)) {
				bad(v, seq, lineno, "record %llu (line %llu): its data is not valid base64 "
				    "(changed or cut)", (unsigned long long)seq, (unsigned long long)lineno);
				break;
			}
			if ((rc = sha256(bytes, blen, h)))
				goto out;
			if (CRYPTO_memcmp(h, stated, 32) != 0) {
				bad(v, seq, lineno, "record %llu (line %llu): its bytes hash to %s, the "
				    "segment says %s (the record or its hash was changed)",
				    (unsigned long long)seq, (unsigned long long)lineno, short_hex(h, x1),
				    short_hex(stated, x2));
				break;
			}
			r = malloc(sizeof(*r));
			if (!r) {
				rc = -ENOMEM;
				goto out;
			}
			int drc = rec_journal_decode(bytes, blen, r);
			uint64_t rseq = r->seq;
			bool prev_ok = CRYPTO_memcmp(r->prev_hash, prev, 32) == 0;
			free(r);
			if (drc) {
				bad(v, seq, lineno, "record %llu (line %llu): cannot be decoded as a "
				    "journal record", (unsigned long long)seq, (unsigned long long)lineno);
				break;
			}
			if (rseq != seq) {
				bad(v, seq, lineno, "record %llu (line %llu): its bytes are record %llu's",
				    (unsigned long long)seq, (unsigned long long)lineno,
				    (unsigned long long)rseq);
				break;
			}
			if (seq > expect) {
				if (seq == expect + 1)
					bad(v, expect, lineno, "record %llu missing or moved (line %llu holds record "
					    "%llu)", (unsigned long long)expect, (unsigned long long)lineno,
					    (unsigned long long)seq);
				else
					bad(v, expect, lineno, "records %llu to %llu missing or moved (line %llu holds "
					    "record %llu)", (unsigned long long)expect,
					    (unsigned long long)seq - 1, (unsigned long long)lineno,
					    (unsigned long long)seq);
				break;
			}
			if (seq < expect) {
				bad(v, expect, lineno, "record %llu expected at line %llu, which holds "
				    "record %llu (reordered or repeated)", (unsigned long long)expect,
				    (unsigned long long)lineno, (unsigned long long)seq);
				break;
			}
			if (!prev_ok) {
				if (seq == v->first_seq)
					bad(v, seq, lineno, "record %llu (line %llu): its previous-hash is not "
					    "the segment's anchor %llu:%s", (unsigned long long)seq,
					    (unsigned long long)lineno, (unsigned long long)v->anchor_seq,
					    short_hex(v->anchor_hash, x1));
				else
					bad(v, seq, lineno, "record %llu (line %llu): its previous-hash is not "
					    "record %llu's hash (record %llu was changed)",
					    (unsigned long long)seq, (unsigned long long)lineno,
					    (unsigned long long)seq - 1, (unsigned long long)seq - 1);
				break;
			}
			if (seq == 1) {
				char id[ENRP_JOURNAL_ID_LEN + 1];
				journal_id(h, id);
				if (strcmp(id, v->journal) != 0) {
					bad(v, 1, lineno, "record 1 names the journal %s, the segment says %s",
					    id, v->journal);
					break;
				}
			}
			if (!anchors_at(v, &w, seq, h, lineno))
				break;
			memcpy(prev, h, 32);
			memcpy(v->last_hash, h, 32);
			v->last_seq = seq;
			v->records++;
			expect++;
			if (!nl) {
				bad(v, seq + 1, lineno, "the segment ends in the middle of line %llu, after "
				    "record %llu (truncated)", (unsigned long long)lineno,
				    (unsigned long long)seq);
				break;
			}
			continue;
		}
		if (strcmp(f[0], "end") == 0 && nf == 3) {
			uint64_t count, seq;
			uint8_t h[32];
			if (state != ST_RECORDS) {
				bad(v, 0, lineno, "the segment holds no record");
				break;
			}
			if (!journal_parse_seq(f[1], strlen(f[1]), &count) ||
			    !parse_seq_hash(f[2], false, &seq, h)) {
				bad(v, 0, lineno, "line %llu: malformed end line", (unsigned long long)lineno);
				break;
			}
			if (count != v->records || seq != v->last_seq) {
				bad(v, v->last_seq + 1, lineno, "the end line says %llu records up to record "
				    "%llu, the segment holds %llu up to %llu (records cut or added)",
				    (unsigned long long)count, (unsigned long long)seq,
				    (unsigned long long)v->records, (unsigned long long)v->last_seq);
				break;
			}
			if (CRYPTO_memcmp(h, v->last_hash, 32) != 0) {
				bad(v, seq, lineno, "the end line gives record %llu the hash %s, it has %s",
				    (unsigned long long)seq, short_hex(h, x1), short_hex(v->last_hash, x2));
				break;
			}
			if (!nl) {
				bad(v, 0, lineno, "the end line is cut (no newline after it)");
				break;
			}
			state = ST_END;
			continue;
		}
		bad(v, state == ST_RECORDS ? expect : 0, lineno, "line %llu is malformed "
		    "('%.20s' is not what a segment holds there)", (unsigned long long)lineno, f[0]);
	}
	if (v->intact && ferror(in)) {
		rc = -(errno ? errno : EIO);
		goto out;
	}
	if (v->intact && state != ST_END) {
		if (state == ST_MAGIC)
			bad(v, 0, 0, "the file is empty");
		else if (state == ST_HEADER)
			bad(v, 0, lineno, "the segment holds no record");
		else
			bad(v, v->last_seq + 1, lineno, "the segment ends after record %llu without its "
			    "end line (truncated)", (unsigned long long)v->last_seq);
	}
	if (v->intact) {
		v->outside += w.n - w.k;
		if (n && !v->anchors) {
			v->by_anchor = true;
			bad(v, 0, 0, "none of the %zu anchors given is a record of this segment "
			    "(records %llu to %llu, chained from %llu)", n,
			    (unsigned long long)v->first_seq, (unsigned long long)v->last_seq,
			    (unsigned long long)v->anchor_seq);
		}
	}
out:
	free(line);
	free(bytes);
	free(scratch);
	free(w.p);
	return rc;
}
