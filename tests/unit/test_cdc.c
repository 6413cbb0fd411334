/*
 * test_cdc.c — FastCDC chunking: the gear table and masks against their
 * recipes, parameter validation, tiny and all-zero inputs, size bounds and
 * coverage, determinism (and independence from how much the caller passes
 * and from alignment), the size distribution of random and low-entropy data,
 * a pinned boundary fingerprint, boundary stability after an insertion, a
 * deletion and an overwrite, and a throughput figure (reported, not tested).
 *
 * All data comes from fixed-seed generators, so every run sees the same
 * bytes and the same boundaries.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <enrp/cdc.h>

#include "../tap.h"

#define MiB (1u << 20)

/* ---- deterministic data ---- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill_random(uint8_t *buf, size_t n, uint64_t seed)
{
	size_t i;
	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t v = splitmix64(&seed);
		memcpy(buf + i, &v, 8);
	}
	for (; i < n; i++)
		buf[i] = (uint8_t)splitmix64(&seed);
}

static uint8_t *random_buf(size_t n, uint64_t seed)
{
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		diag("out of memory (%zu bytes)", n);
		exit(1);
	}
	fill_random(buf, n, seed);
	return buf;
}

/* ---- chunk lists ---- */

struct chunks {
	size_t n, cap;
	size_t *end; /* end offset of each chunk, increasing */
};

static void chunks_free(struct chunks *c)
{
	free(c->end);
	memset(c, 0, sizeof(*c));
}

/* Cuts BUF[0..LEN) the way the ingest pipeline does: each call gets exactly
 * min(max_size, bytes left), or, with GREEDY, everything that is left. */
static struct chunks chunk_all(const struct enrp_cdc_params *p, const uint8_t *buf, size_t len,
                               bool greedy)
{
	struct chunks c = { 0 };
	size_t off = 0;

	while (off < len) {
		size_t left = len - off;
		size_t want = greedy || left < p->max_size ? left : p->max_size;
		size_t cut = enrp_cdc_next(p, buf + off, want);
		if (cut == 0 || cut > want) {
			diag("enrp_cdc_next returned %zu for %zu bytes at %zu", cut, want, off);
			exit(1);
		}
		if (c.n == c.cap) {
			c.cap = c.cap ? 2 * c.cap : 1024;
			c.end = realloc(c.end, c.cap * sizeof(*c.end));
			if (!c.end)
				exit(1);
		}
		off += cut;
		c.end[c.n++] = off;
	}
	return c;
}

static bool chunks_equal(const struct chunks *a, const struct chunks *b)
{
	return a->n == b->n && memcmp(a->end, b->end, a->n * sizeof(*a->end)) == 0;
}

static size_t chunk_start(const struct chunks *c, size_t i)
{
	return i ? c->end[i - 1] : 0;
}

/* Every chunk but the last in [min, max], the last in [1, max], and the
 * chunks tile [0, len) exactly. */
static bool chunks_valid(const struct enrp_cdc_params *p, const struct chunks *c, size_t len)
{
	for (size_t i = 0; i < c->n; i++) {
		size_t sz = c->end[i] - chunk_start(c, i);
		bool last = i + 1 == c->n;
		if (sz > p->max_size || sz == 0 || (!last && sz < p->min_size)) {
			diag("chunk %zu of %zu has %zu bytes", i, c->n, sz);
			return false;
		}
	}
	return c->n ? c->end[c->n - 1] == len : len == 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Mean chunk size, not counting the EOF tail, which is not a content cut. */
static double mean_size(const struct chunks *c)
{
	size_t n = c->n > 1 ? c->n - 1 : c->n;
	return n ? (double)(c->n > 1 ? c->end[n - 1] : c->end[0]) / (double)n : 0;
}

static void diag_histogram(const char *what, const struct enrp_cdc_params *p,
                           const struct chunks *c)
{
	size_t n = c->n > 1 ? c->n - 1 : c->n;
	size_t *sz = malloc(n * sizeof(*sz));
	size_t at_min = 0, at_max = 0, below_avg = 0;

	if (!sz || !n)
		exit(1);
	for (size_t i = 0; i < n; i++) {
		sz[i] = c->end[i] - chunk_start(c, i);
		at_min += sz[i] == p->min_size;
		at_max += sz[i] == p->max_size;
		below_avg += sz[i] < p->avg_size;
	}
	qsort(sz, n, sizeof(*sz), cmp_size);
	diag("%s: %zu chunks, mean %.0f (%.3f x avg), min %zu p10 %zu p50 %zu p90 %zu max %zu",
	     what, c->n, mean_size(c), mean_size(c) / p->avg_size, sz[0], sz[n / 10], sz[n / 2],
	     sz[n * 9 / 10], sz[n - 1]);
	diag("%s: %zu below avg, %zu at min_size, %zu at max_size", what, below_avg, at_min,
	     at_max);
	free(sz);
}

/* FNV-1a over the boundary list: a fingerprint of the whole cut. */
static uint64_t fingerprint(const struct chunks *c)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < c->n; i++)
		for (int b = 0; b < 8; b++) {
			h ^= (uint8_t)((uint64_t)c->end[i] >> (8 * b));
			h *= 0x100000001b3ull;
		}
	return h;
}

/* ---- stability ---- */

struct chunk_id {
	uint64_t hash;
	size_t off, len;
};

static uint64_t content_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i;
	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int cmp_id(const void *a, const void *b)
{
	const struct chunk_id *x = a, *y = b;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* How many chunks of B have the same content as some chunk of A: what the
 * store would deduplicate when B is backed up after A. */
static size_t shared_chunks(const uint8_t *a, const struct chunks *ca, const uint8_t *b,
                            const struct chunks *cb)
{
	struct chunk_id *ids = malloc(ca->n * sizeof(*ids));
	size_t shared = 0;

	if (!ids)
		exit(1);
	for (size_t i = 0; i < ca->n; i++) {
		ids[i].off = chunk_start(ca, i);
		ids[i].len = ca->end[i] - ids[i].off;
		ids[i].hash = content_hash(a + ids[i].off, ids[i].len);
	}
	qsort(ids, ca->n, sizeof(*ids), cmp_id);
	for (size_t i = 0; i < cb->n; i++) {
		struct chunk_id key;
		key.off = chunk_start(cb, i);
		key.len = cb->end[i] - key.off;
		key.hash = content_hash(b + key.off, key.len);
		const struct chunk_id *hit = bsearch(&key, ids, ca->n, sizeof(*ids), cmp_id);
		if (hit && hit->len == key.len && memcmp(a + hit->off, b + key.off, key.len) == 0)
			shared++;
	}
	free(ids);
	return shared;
}

static bool has_end(const struct chunks *c, size_t end)
{
	return bsearch(&end, c->end, c->n, sizeof(*c->end), cmp_size) != NULL;
}

/* Replaces A[at, at+del) with INS fresh bytes, cuts both versions and checks
 * that every old boundary at least max_size past the edit survives (moved by
 * INS - DEL) and that at least 90% of the new chunks deduplicate. */
static void stability(const char *what, const struct enrp_cdc_params *p, const uint8_t *a,
                      size_t len, size_t at, size_t del, size_t ins)
{
	size_t blen = len - del + ins;
	uint8_t *b = malloc(blen);
	ptrdiff_t delta = (ptrdiff_t)ins - (ptrdiff_t)del;

	if (!b)
		exit(1);
	memcpy(b, a, at);
	fill_random(b + at, ins, 0xed17ull + at + ins);
	memcpy(b + at + ins, a + at + del, len - at - del);

	struct chunks ca = chunk_all(p, a, len, false);
	struct chunks cb = chunk_all(p, b, blen, false);
	ok(chunks_valid(p, &cb, blen), "%s: edited version chunks within bounds", what);

	/* Old boundaries far enough past the edit must all be found again.  The
	 * resync point is the first old boundary past the edit from which on
	 * every old boundary is found: scanning backwards, the last one before
	 * the first miss. */
	size_t far = at + del + p->max_size, checked = 0, missing = 0, sync = 0;
	bool synced = true;
	for (size_t i = ca.n; i-- > 0;) {
		size_t e = ca.end[i];
		if (e <= at + del)
			break;
		bool found = has_end(&cb, (size_t)((ptrdiff_t)e + delta));
		if (!found)
			synced = false;
		else if (synced)
			sync = e;
		if (e >= far) {
			checked++;
			missing += !found;
		}
	}
	is_int(missing, 0, "%s: all %zu boundaries past edit + max_size survive", what, checked);

	size_t shared = shared_chunks(a, &ca, b, &cb);
	double frac = (double)shared / (double)cb.n;
	ok(frac >= 0.90, "%s: %zu of %zu chunks (%.1f%%) shared with the original", what, shared,
	   cb.n, 100 * frac);
	diag("%s: %zu new chunks; first surviving old boundary %zu bytes after the edit", what,
	     cb.n - shared, sync ? sync - at - del : 0);

	chunks_free(&ca);
	chunks_free(&cb);
	free(b);
}

/* The definition, one byte at a time and without any cleverness, to hold
 * the optimised enrp_cdc_next() to.  Length L is a cut when the gear hash
 * of the 64 bytes ending at byte L-1 has no bit of the mask for L (strict
 * below avg, loose from avg on); the first candidate is min, the last
 * min(n, max). */
static size_t ref_next(const struct enrp_cdc_params *p, const uint8_t *buf, size_t n)
{
	const uint64_t *gear = enrp_cdc_gear_table();
	uint64_t ms, ml;

	enrp_cdc_masks(p, &ms, &ml);
	if (n > p->max_size)
		n = p->max_size;
	for (size_t len = p->min_size; len < n; len++) {
		uint64_t fp = 0;
		for (size_t j = len - 64; j < len; j++)
			fp = (fp << 1) + gear[buf[j]];
		if (!(fp & (len < p->avg_size ? ms : ml)))
			return len;
	}
	return n;
}

/* ---- individual tests ---- */

/* Every N from 0 to past max_size with small parameters (so every branch of
 * the unrolled loop, both masks, the avg switch-over and every tail length
 * are hit), over many starting points, must match the definition. */
static void test_reference(void)
{
	static const struct enrp_cdc_params ps[] = {
		{ 64, 256, 1024 }, { 64, 128, 129 }, { 100, 128, 300 }, { 65, 512, 515 },
	};
	uint8_t *buf = random_buf(1u << 16, 99);
	size_t calls = 0, bad = 0;

	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		const struct enrp_cdc_params *p = &ps[k];
		for (size_t start = 0; start < 40000; start += 997)
			for (size_t n = 0; n <= p->max_size + 9; n++) {
				/* A buffer of exactly N bytes, so ASan sees any read
				 * past the end. */
				uint8_t *exact = malloc(n ? n : 1);
				if (!exact)
					exit(1);
				memcpy(exact, buf + start, n);
				size_t got = enrp_cdc_next(p, exact, n);
				size_t want = n ? ref_next(p, exact, n) : 0;
				free(exact);
				calls++;
				if (got != want && bad++ < 5)
					diag("%u/%u/%u at %zu, n %zu: got %zu, want %zu",
					     p->min_size, p->avg_size, p->max_size, start, n, got,
					     want);
			}
	}
	is_int(bad, 0, "matches the byte-at-a-time definition (%zu calls)", calls);
	free(buf);
}

static void test_gear_table(void)
{
	const uint64_t *gear = enrp_cdc_gear_table();
	uint64_t state = 0x656e727067656172ull; /* "enrpgear" */
	int bad = 0;

	for (int i = 0; i < 256; i++)
		bad += gear[i] != splitmix64(&state);
	is_int(bad, 0, "gear table is SplitMix64 seeded with \"enrpgear\"");
	is_str(enrp_cdc_gear_id(), "gear-splitmix64-v1", "gear id");
}

/* Every valid avg: masks have k+2 and k-2 bits, all in 63..16, matching the
 * documented spread, and the constant hash of a zero run misses both. */
static void test_masks(void)
{
	int bad_count = 0, bad_formula = 0, bad_zero = 0;
	uint64_t zero_fp = 0 - enrp_cdc_gear_table()[0];

	for (unsigned k = 7; k <= 25; k++) {
		struct enrp_cdc_params p = { 64, 1u << k, (1u << k) + 1 };
		uint64_t s, l, want_s = 0, want_l = 0;
		enrp_cdc_masks(&p, &s, &l);
		for (unsigned i = 0; i < k + 2; i++)
			want_s |= 1ull << (63 - i * 48 / (k + 2));
		for (unsigned i = 0; i < k - 2; i++)
			want_l |= 1ull << (63 - i * 48 / (k - 2));
		bad_count += __builtin_popcountll(s) != (int)k + 2 ||
		             __builtin_popcountll(l) != (int)k - 2 || (s | l) & 0xffff;
		bad_formula += s != want_s || l != want_l;
		bad_zero += !(zero_fp & s) || !(zero_fp & l);
	}
	is_int(bad_count, 0, "MaskS has k+2 bits, MaskL k-2, none below bit 16");
	is_int(bad_formula, 0, "masks match the documented spread formula");
	is_int(bad_zero, 0, "a run of zeros is never a cut point, for every avg");
}

static void test_validate(void)
{
	struct enrp_cdc_params p;

	enrp_cdc_defaults(&p);
	ok(p.min_size == 64u << 10 && p.avg_size == 256u << 10 && p.max_size == 2u << 20,
	   "defaults are 64 KiB / 256 KiB / 2 MiB");
	is_int(enrp_cdc_validate(&p), 0, "defaults validate");
	is_int(enrp_cdc_validate(NULL), -EINVAL, "NULL");

	static const struct {
		struct enrp_cdc_params p;
		int want;
		const char *what;
	} cases[] = {
		{ { 64, 256, 1024 }, 0, "smallest min" },
		{ { 64, 128, 129 }, 0, "smallest avg, max just above" },
		{ { 16u << 20, 32u << 20, 64u << 20 }, 0, "largest max" },
		{ { 63, 256, 1024 }, -EINVAL, "min below 64" },
		{ { 0, 256, 1024 }, -EINVAL, "min zero" },
		{ { 256, 256, 1024 }, -EINVAL, "min == avg" },
		{ { 512, 256, 1024 }, -EINVAL, "min > avg" },
		{ { 64, 1024, 1024 }, -EINVAL, "avg == max" },
		{ { 64, 1024, 512 }, -EINVAL, "max < avg" },
		{ { 64, 300, 1024 }, -EINVAL, "avg not a power of two" },
		{ { 64, 768, 4096 }, -EINVAL, "avg 3 * 256" },
		{ { 1u << 20, 32u << 20, (64u << 20) + 1 }, -EINVAL, "max above 64 MiB" },
		{ { 1u << 20, 64u << 20, 128u << 20 }, -EINVAL, "avg 64 MiB" },
		{ { 0, 0, 0 }, -EINVAL, "all zero" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(enrp_cdc_validate(&cases[i].p), cases[i].want, "validate: %s (%u/%u/%u)",
		       cases[i].what, cases[i].p.min_size, cases[i].p.avg_size, cases[i].p.max_size);
}

static void test_tiny(void)
{
	struct enrp_cdc_params d, s = { 64, 256, 1024 };
	uint8_t *buf = random_buf(ENRP_CDC_MIN_DEFAULT + 1, 7);

	enrp_cdc_defaults(&d);
	is_int(enrp_cdc_next(&d, buf, 0), 0, "0 bytes: no chunk");
	is_int(enrp_cdc_next(&d, buf, 1), 1, "1 byte: one chunk");
	is_int(enrp_cdc_next(&d, buf, d.min_size - 1), d.min_size - 1, "min-1 bytes: one chunk");
	is_int(enrp_cdc_next(&d, buf, d.min_size), d.min_size, "min bytes: one chunk");
	size_t c = enrp_cdc_next(&d, buf, d.min_size + 1);
	ok(c == d.min_size || c == d.min_size + 1, "min+1 bytes: %zu", c);
	is_int(enrp_cdc_next(&s, buf, 1), 1, "small params, 1 byte");
	is_int(enrp_cdc_next(&s, buf, 63), 63, "small params, min-1 bytes");
	free(buf);
}

static void test_zeros(void)
{
	struct enrp_cdc_params d;
	size_t len;
	uint8_t *z;

	enrp_cdc_defaults(&d);
	len = 3 * (size_t)d.max_size + 5;
	z = calloc(1, len);
	if (!z)
		exit(1);
	struct chunks c = chunk_all(&d, z, len, false);
	ok(c.n == 4 && c.end[0] == d.max_size && c.end[1] == 2 * (size_t)d.max_size &&
	           c.end[2] == 3 * (size_t)d.max_size && c.end[3] == len,
	   "zeros: three max_size chunks and a 5-byte tail (%zu chunks)", c.n);
	chunks_free(&c);
	free(z);

	/* Every avg, with min = avg/4 (at least 64) and max = 8 avg (at most
	 * 64 MiB): a zero run is cut at max_size. */
	z = calloc(1, 64u << 20);
	if (!z)
		exit(1);
	int bad = 0;
	for (unsigned k = 7; k <= 25; k++) {
		uint32_t avg = 1u << k;
		struct enrp_cdc_params p = { avg / 4 < 64 ? 64 : avg / 4, avg,
			                     k + 3 > 26 ? 64u << 20 : avg * 8 };
		if (enrp_cdc_validate(&p) || enrp_cdc_next(&p, z, p.max_size) != p.max_size) {
			diag("avg 2^%u: zeros not cut at max_size", k);
			bad++;
		}
	}
	is_int(bad, 0, "zeros are cut at max_size for every avg 2^7..2^25");
	free(z);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Recorded from the first, byte-at-a-time version of enrp_cdc_next() (the
 * data below: splitmix64 seed 64, 64 MiB, defaults); the unrolled version
 * reproduced it exactly.  If this changes, boundaries changed, and every
 * existing store would stop deduplicating against new backups: don't
 * update the constants, fix the code (or bump the gear id and store format). */
#define PIN_CHUNKS 224
#define PIN_FINGERPRINT 0x6e6d55802e3d82e8ull

static void test_random_defaults(void)
{
	struct enrp_cdc_params d;
	size_t len = 64u * MiB;
	uint8_t *buf = random_buf(len + 1, 64);

	enrp_cdc_defaults(&d);
	struct chunks c = chunk_all(&d, buf, len, false);
	ok(chunks_valid(&d, &c, len), "64 MiB random: chunks within [min,max] and cover the input");
	double mean = mean_size(&c);
	ok(mean >= 0.75 * d.avg_size && mean <= 1.25 * d.avg_size,
	   "64 MiB random: mean chunk %.0f within 25%% of %u", mean, d.avg_size);
	diag_histogram("64 MiB random", &d, &c);

	struct chunks again = chunk_all(&d, buf, len, false);
	ok(chunks_equal(&c, &again), "deterministic: same input, same boundaries");
	chunks_free(&again);

	struct chunks greedy = chunk_all(&d, buf, len, true);
	ok(chunks_equal(&c, &greedy), "passing more than max_size bytes changes nothing");
	chunks_free(&greedy);

	/* Same bytes at another address (odd alignment). */
	memmove(buf + 1, buf, len);
	struct chunks moved = chunk_all(&d, buf + 1, len, false);
	ok(chunks_equal(&c, &moved), "alignment of the buffer changes nothing");
	chunks_free(&moved);

	is_int(c.n, PIN_CHUNKS, "pinned: chunk count of the reference stream");
	ok(fingerprint(&c) == PIN_FINGERPRINT, "pinned: boundary fingerprint %#llx",
	   (unsigned long long)fingerprint(&c));

	/* Throughput: best of three full passes over 64 MiB. */
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		double t0 = now_s();
		struct chunks t = chunk_all(&d, buf + 1, len, false);
		double dt = now_s() - t0;
		if (dt < best)
			best = dt;
		chunks_free(&t);
	}
	diag("throughput: %.0f MB/s (64 MiB in %.1f ms, best of 3)", len / best / 1e6,
	     best * 1e3);

	chunks_free(&c);
	free(buf);
}

/* Bytes from a 4-letter alphabet (2 bits of entropy per byte, like DNA or
 * some logs): the gear hash must still find cut points near avg. */
static void test_low_entropy(void)
{
	struct enrp_cdc_params d;
	size_t len = 32u * MiB;
	uint8_t *buf = random_buf(len, 4);

	enrp_cdc_defaults(&d);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)"ACGT"[buf[i] & 3];
	struct chunks c = chunk_all(&d, buf, len, false);
	ok(chunks_valid(&d, &c, len), "ACGT text: chunks within bounds");
	double mean = mean_size(&c);
	ok(mean >= 0.75 * d.avg_size && mean <= 1.25 * d.avg_size,
	   "ACGT text: mean chunk %.0f within 25%% of %u", mean, d.avg_size);
	diag_histogram("ACGT text", &d, &c);
	chunks_free(&c);
	free(buf);
}

static void test_stability_defaults(void)
{
	struct enrp_cdc_params d;
	size_t len = 32u * MiB, at = MiB + 4321;
	uint8_t *a = random_buf(len, 32);

	enrp_cdc_defaults(&d);
	stability("insert 100 B at 1 MiB", &d, a, len, at, 0, 100);
	stability("delete 100 B at 1 MiB", &d, a, len, at, 100, 0);
	stability("overwrite 10 B at 1 MiB", &d, a, len, at, 10, 10);
	stability("insert 1 B at 20 MiB", &d, a, len, 20 * MiB + 7, 0, 1);
	free(a);
}

static void test_small_params(void)
{
	struct enrp_cdc_params s = { 64, 256, 1024 };
	size_t len = 4u * MiB;
	uint8_t *a = random_buf(len, 256);

	is_int(enrp_cdc_validate(&s), 0, "small params 64/256/1024 validate");
	struct chunks c = chunk_all(&s, a, len, false);
	ok(chunks_valid(&s, &c, len), "small params: chunks within [64,1024] and cover the input");
	double mean = mean_size(&c);
	ok(mean >= 0.75 * s.avg_size && mean <= 1.25 * s.avg_size,
	   "small params: mean chunk %.0f within 25%% of %u", mean, s.avg_size);
	diag_histogram("small params", &s, &c);
	chunks_free(&c);

	stability("small params: insert 100 B", &s, a, len, 300000, 0, 100);
	stability("small params: delete 100 B", &s, a, len, 300000, 100, 0);
	stability("small params: overwrite 10 B", &s, a, len, 300000, 10, 10);
	free(a);
}

int main(void)
{
	test_gear_table();
	test_masks();
	test_reference();
	test_validate();
	test_tiny();
	test_zeros();
	test_random_defaults();
	test_low_entropy();
	test_stability_defaults();
	test_small_params();
	return done_testing();
}
