/*
 * test_ingest_pool.c — how the seal pipeline shares its threads: the
 * compressor pool (one file on every CPU, the same chunk list as a serial
 * seal), the workers shared between classes and EIRs (classes first, EIRs
 * in turn, a long seal parked and resumed), seals abandoned when their file
 * is unlinked, reopened or truncated, holes (never read, runs of zeros in
 * the chunk list, sparse again after a copy-back), an older store's queue
 * rewritten, and garbage collection racing seals.
 *
 * The step hook (enrp_ingest_test_hooks) holds a worker inside a seal, and
 * a slice of 1 ns makes every step a point where a seal may be parked or
 * abandoned; this program defines pread(2) to count the bytes a seal
 * reads.
 *
 * Every error is asserted as its exact -errno (STYLE rule 35).
 */

#include "ingest_fixture.h"

/* ---- the compressor pool: one file on every CPU ---- */

static enrp_ingest *ingest_pool(enrp_store *st, enrp_vault *v, unsigned workers,
                                unsigned compressors)
{
	struct enrp_ingest_config cfg = { .workers = workers, .compressors = compressors };
	enrp_ingest *ing;
	int rc = enrp_ingest_open(st, v, &cfg, &ing);
	if (rc)
		bail("enrp_ingest_open", rc);
	return ing;
}

/* Compressible bytes that do not repeat (16 letters), so zstd has work and
 * every chunk is distinct. */
static uint8_t *rows_buf(size_t n, uint64_t seed)
{
	uint8_t *p = random_buf(n, seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)('a' + (p[i] & 15));
	return p;
}

/* Does INO's chunk list equal the one a serial seal makes of P[0..N)
 * (FastCDC with the defaults, in file order, each chunk named by its
 * SHA-256)?  *COUNT gets its length. */
static bool list_is_serial(enrp_store *st, uint64_t ino, const uint8_t *p, size_t n,
                           size_t *count)
{
	struct enrp_cdc_params cdc;
	struct ext_args ex;
	enrp_codec *c;
	enrp_cdc_defaults(&cdc);
	*count = 0;
	if (extents_of(st, ino, &ex) || enrp_codec_new(3, &c))
		return false;
	bool same = true;
	size_t i = 0;
	for (size_t off = 0; off < n && same; i++) {
		size_t cut = enrp_cdc_next(&cdc, p + off, n - off);
		uint8_t d[32];
		enrp_codec_name(c, NULL, p + off, cut, d);
		same = i < ex.n && ex.v[i].plain_len == cut && memcmp(ex.v[i].digest, d, 32) == 0;
		off += cut;
	}
	same = same && i == ex.n;
	*count = ex.n;
	enrp_codec_free(c);
	free(ex.v);
	return same;
}

static void pooled(void)
{
	enrp_store *st = store_new("pool", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "pool", 1, &e);
	const size_t n = 24 * MiB + 12345, m = 9 * MiB + 3;
	uint8_t *x = rows_buf(n, 21), *y = random_buf(m, 22), *z = rows_buf(m, 23);
	size_t cnt = 0;

	/* 1. One file, three compressors: the serial chunk list, in order. */
	enrp_ingest *ing = ingest_pool(st, v, 1, 3);
	uint64_t f = new_file(st, e.root_ino, "big", x, n);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a 24 MiB file sealed by the pool");
	struct enrp_stat s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, x, n), "verified with its SHA-256");
	bool serial = list_is_serial(st, f, x, n, &cnt);
	ok(serial && cnt > 40, "chunk list equals the serial one, in file order (%zu chunks)", cnt);
	is_int(chunk_files(st, e.id), distinct_chunks(x, n), "one chunk file per distinct chunk");
	ok(reads_back(ing, f, x, n), "reads back");
	enrp_ingest_close(ing);

	/* 2. Two workers sealing two large files at once share one compressor. */
	ing = ingest_pool(st, v, 2, 1);
	uint64_t g = new_file(st, e.root_ino, "random", y, m);
	uint64_t h = new_file(st, e.root_ino, "rows", z, m);
	enrp_ingest_enqueue(ing, g);
	enrp_ingest_enqueue(ing, h);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "two large files sealed at once");
	ok(attr_of(st, g).state == ENRP_FILE_VERIFIED && list_is_serial(st, g, y, m, &cnt),
	   "the first has its own chunks, in order (%zu)", cnt);
	ok(attr_of(st, h).state == ENRP_FILE_VERIFIED && list_is_serial(st, h, z, m, &cnt),
	   "the second too (%zu)", cnt);
	struct enrp_stat sg = attr_of(st, g), sh = attr_of(st, h);
	ok(sha_is(&sg, y, m) && sha_is(&sh, z, m), "both with their SHA-256");

	/* 3. Written while the pool stored its chunks: nothing committed from
	 * the stale bytes; sealed again with the new ones. */
	uint8_t *zk = rows_buf(m, 24);
	uint64_t k = new_file(st, e.root_ino, "changed", zk, m);
	gate_arm();
	enrp_ingest_enqueue(ing, k);
	ok(gate_wait_held(), "a worker is held after the pool wrote the chunks");
	put_bytes(st, k, y, MiB, 4 * MiB);
	gate_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "idle");
	memcpy(zk + 4 * MiB, y, MiB);
	s = attr_of(st, k);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, zk, m) && list_is_serial(st, k, zk, m, &cnt),
	   "sealed with the new bytes and their chunk list");
	is_int(journal_count(st, "verified", k), 1, "one 'verified' record: the stale seal committed nothing");
	ok(reads_back(ing, k, zk, m), "reads back the new bytes");

	/* 4. A stored chunk damaged on disk is not vouched for by a copy sealed
	 * through the pool: the compressor reads it back, finds the damage and
	 * writes it again, which heals the first file too. */
	struct ext_args ex;
	char path[1200];
	is_int(extents_of(st, f, &ex), 0, "chunk list of big");
	chunk_path(st, e.id, ex.v[ex.n / 2].digest, path, sizeof(path));
	is_int(flip_byte(path, -1), 0, "damage a chunk in the middle of big");
	struct enrp_eir_usage u0 = usage_of(st, e.id);
	int64_t refs0 = refs_of(st, e.id, ex.v[ex.n / 2].digest);
	uint64_t f2 = new_file(st, e.root_ino, "big-again", x, n);
	enrp_ingest_enqueue(ing, f2);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a copy of big sealed");
	s = attr_of(st, f2);
	ok(s.state == ENRP_FILE_VERIFIED && list_is_serial(st, f2, x, n, &cnt), "the copy is verified");
	struct enrp_eir_usage u1 = usage_of(st, e.id);
	ok(u1.chunks == u0.chunks && u1.stored == u0.stored, "deduplicated: no chunk counted twice");
	is_int(refs_of(st, e.id, ex.v[ex.n / 2].digest), 2 * refs0, "the healed chunk has both users");
	ok(reads_back(ing, f, x, n), "big reads back: its damaged chunk was rewritten");
	free(ex.v);

	/* 5. Chunk files cannot be written: the seal fails as a whole, every
	 * chunk in flight is waited for, and it is retried. */
	char tmpdir[600];
	snprintf(tmpdir, sizeof(tmpdir), "%s/chunks/%u/tmp", enrp_store_path(st), e.id);
	tap_rmrf(tmpdir);
	int fd = open(tmpdir, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0, "chunks/<eir>/tmp is a file now");
	if (fd >= 0)
		close(fd);
	uint64_t w = new_file(st, e.root_ino, "unwritable", y + 1, m - 1);
	enrp_ingest_enqueue(ing, w);
	is_int(enrp_ingest_wait_idle(ing, 300), -ETIMEDOUT, "not sealed while chunks cannot be written");
	ok(attr_of(st, w).state == ENRP_FILE_PENDING && queue_of(st).n == 1, "still pending and queued");
	unlink(tmpdir);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed once they can");
	s = attr_of(st, w);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, y + 1, m - 1) &&
	   list_is_serial(st, w, y + 1, m - 1, &cnt), "verified, with the serial chunk list");

	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(zk);
	free(x);
	free(y);
	free(z);
}

/* ---- sharing the workers, abandoned seals, holes ---- */

/* The step hook: logs every step (inode, bytes hashed) and can hold the
 * worker at the first step of one inode until released. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t hold;           /* hold at the next step of this inode (0: none) */
	bool held;
	uint64_t ino[8192];
	uint64_t done[8192];
	size_t n;
} stp = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void step_cb(uint64_t ino, uint64_t done, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&stp.mu);
	if (stp.n < 8192) {
		stp.ino[stp.n] = ino;
		stp.done[stp.n++] = done;
	}
	if (ino == stp.hold) {
		stp.held = true;
		pthread_cond_broadcast(&stp.cv);
		while (stp.hold == ino)
			pthread_cond_wait(&stp.cv, &stp.mu);
		stp.held = false;
	}
	pthread_mutex_unlock(&stp.mu);
}

static void step_reset(uint64_t hold)
{
	pthread_mutex_lock(&stp.mu);
	stp.n = 0;
	stp.hold = hold;
	stp.held = false;
	pthread_mutex_unlock(&stp.mu);
}

/* Waits (20 s at most) until a worker is held in the step hook. */
static bool step_wait_held(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&stp.mu);
	int rc = 0;
	while (!stp.held && rc == 0)
		rc = pthread_cond_timedwait(&stp.cv, &stp.mu, &ts);
	bool held = stp.held;
	pthread_mutex_unlock(&stp.mu);
	return held;
}

static void step_release(void)
{
	pthread_mutex_lock(&stp.mu);
	stp.hold = 0;
	pthread_cond_broadcast(&stp.cv);
	pthread_mutex_unlock(&stp.mu);
}

/* Steps logged for INO: how many, and whether its byte counts only grew
 * (a parked seal resumed where it stopped, never restarted). */
static size_t steps_of(uint64_t ino, bool *only_grew)
{
	size_t k = 0;
	uint64_t last = 0;
	*only_grew = true;
	pthread_mutex_lock(&stp.mu);
	for (size_t i = 0; i < stp.n; i++) {
		if (stp.ino[i] != ino)
			continue;
		if (k && stp.done[i] <= last)
			*only_grew = false;
		last = stp.done[i];
		k++;
	}
	pthread_mutex_unlock(&stp.mu);
	return k;
}

/* A pipeline whose every step ends a slice, with the step hook. */
static enrp_ingest *ingest_sliced(enrp_store *st, enrp_vault *v, unsigned workers,
                                  int64_t slice_ns)
{
	struct enrp_ingest_test t = { .step = step_cb, .slice_ns = slice_ns };
	enrp_ingest_test_hooks(&t);
	enrp_ingest *ing = ingest(st, v, workers, 0);
	enrp_ingest_test_hooks(NULL);
	return ing;
}

/* Position of INO among the "verified" records (-1: none). */
static long verified_at(enrp_store *st, uint64_t ino)
{
	struct jrecs *j = journal_of(st, "verified");
	for (size_t i = 0; i < j->n; i++)
		if (j->ino[i] == ino)
			return (long)i;
	return -1;
}

/* ---- garbage collection against seals in flight ---- */

/* Is chunk DIGEST of EIR pinned by a seal?  (Doomed and let go at once.) */
static bool pinned(enrp_store *st, uint32_t eir_id, const uint8_t digest[32])
{
	if (!chunk_doom(st, eir_id, digest))
		return true;
	chunk_undoom(st, eir_id, digest);
	return false;
}

/* Every chunk that INO's chunk list names exists as a file. */
static bool chunks_present(enrp_store *st, uint32_t eir_id, uint64_t ino)
{
	struct ext_args ex;
	if (extents_of(st, ino, &ex))
		return false;
	bool all = true;
	char path[700];
	for (size_t i = 0; i < ex.n; i++) {
		if (!ex.v[i].plain_len)
			continue;
		chunk_path(st, eir_id, ex.v[i].digest, path, sizeof(path));
		all &= access(path, F_OK) == 0;
	}
	free(ex.v);
	return all;
}

/* Deletes for good: unlink, forget, and the trash of EIR "g" purged. */
static void delete_file(enrp_store *st, uint64_t parent, const char *name, uint64_t ino)
{
	is_int(enrp_ns_unlink(st, &user, parent, name, false), 0, "unlink %s", name);
	is_int(enrp_ns_forget(st, ino), 0, "forget %s", name);
	purge_trash(st, "g");
}

static void gc_races(void)
{
	enrp_store *st = store_new("gcrace", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "g", 2, &e);
	const size_t n = 3 * MiB + 99;
	uint8_t *p = random_buf(n, 61);
	struct enrp_gc_result res;

	/* 1. B deduplicates onto A's chunks and is held mid-way; A goes, so
	 * its chunks have no reference left in the index; GC runs.  The chunks
	 * B has already taken are pinned and must survive; the others may go
	 * (B writes them again when it gets there). */
	enrp_ingest *ing = ingest_sliced(st, v, 1, 0);
	uint64_t a = new_file(st, e.root_ino, "a", p, n);
	enrp_ingest_enqueue(ing, a);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a sealed");
	struct ext_args ex;
	is_int(extents_of(st, a, &ex), 0, "a's chunk list");
	ok(ex.n >= 4, "a has several chunks (%zu)", ex.n);
	uint8_t first[32];
	memcpy(first, ex.v[0].digest, 32);
	free(ex.v);
	uint64_t b = new_file(st, e.root_ino, "b", p, n);
	step_reset(b);
	enrp_ingest_enqueue(ing, b);
	ok(step_wait_held(), "b's seal is held after its first chunk");
	bool pin_seen = false;
	for (int i = 0; i < 2000 && !(pin_seen = pinned(st, e.id, first)); i++)
		usleep(10000);
	ok(pin_seen, "b's seal pinned the first chunk it deduplicated onto");
	delete_file(st, e.root_ino, "a", a);
	ok(refs_of(st, e.id, first) == -ENOENT, "a's chunks have no reference left in the index");
	is_int(enrp_gc_run(st, NULL, &actor, NULL, NULL, NULL, &res), 0, "gc while b is held");
	ok(res.chunks_busy >= 1, "gc left the pinned chunks alone (%llu busy)",
	   (unsigned long long)res.chunks_busy);
	char path[700];
	chunk_path(st, e.id, first, path, sizeof(path));
	ok(access(path, F_OK) == 0, "the chunk b deduplicated onto is still there");
	step_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "b sealed");
	is_int(attr_of(st, b).state, ENRP_FILE_VERIFIED, "b verified");
	ok(chunks_present(st, e.id, b), "every chunk b's list names exists");
	is_int(enrp_gc_run(st, NULL, &actor, NULL, NULL, NULL, &res), 0, "gc after b");
	is_int(res.chunks_freed, 0, "b's chunks are referenced: nothing freed");
	enrp_ingest_close(ing);
	ing = ingest(st, v, 1, 0); /* a cold cache: reads go to the chunk files */
	ok(reads_back(ing, b, p, n), "b reads back whole");

	/* 2. GC has doomed a chunk (it is about to remove it) when a seal
	 * wants it: the seal waits, finds it gone, and writes it again. */
	uint8_t *q = random_buf(n, 62);
	uint64_t c = new_file(st, e.root_ino, "c", q, n);
	enrp_ingest_enqueue(ing, c);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "c sealed");
	is_int(extents_of(st, c, &ex), 0, "c's chunk list");
	memcpy(first, ex.v[0].digest, 32);
	free(ex.v);
	delete_file(st, e.root_ino, "c", c);
	is_int(enrp_store_sync(st), 0, "c's deletion committed");
	ok(chunk_doom(st, e.id, first), "doom c's first chunk, as gc does before removing it");
	uint64_t d = new_file(st, e.root_ino, "d", q, n);
	enrp_ingest_enqueue(ing, d);
	usleep(200000); /* d's seal reaches the doomed chunk and waits */
	is_int(attr_of(st, d).state, ENRP_FILE_PENDING, "d is not sealed while its chunk is doomed");
	is_int(chunk_delete(st, e.id, first), 0, "gc removes the doomed chunk");
	chunk_undoom(st, e.id, first);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "d sealed");
	is_int(attr_of(st, d).state, ENRP_FILE_VERIFIED, "d verified");
	chunk_path(st, e.id, first, path, sizeof(path));
	ok(access(path, F_OK) == 0, "the removed chunk was written again for d");
	ok(chunks_present(st, e.id, d), "every chunk d's list names exists");
	enrp_ingest_close(ing);
	ing = ingest(st, v, 1, 0);
	ok(reads_back(ing, d, q, n), "d reads back whole");

	/* 3. Everything goes: GC leaves no chunk file. */
	delete_file(st, e.root_ino, "b", b);
	delete_file(st, e.root_ino, "d", d);
	is_int(enrp_gc_run(st, "g", &actor, NULL, NULL, NULL, &res), 0, "gc of EIR g");
	is_int(chunk_files(st, e.id), 0, "no chunk file left");
	is_int(usage_of(st, e.id).stored, 0, "stored bytes 0");
	is_int(enrp_gc_run(st, "nope", &actor, NULL, NULL, NULL, &res), -ENOENT,
	       "gc of an unknown EIR: -ENOENT");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
	free(q);
}

static void sharing(void)
{
	enrp_store *st = store_new("share", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir a, b, c;
	make_eir(st, "a", 3, &a);
	make_eir(st, "b", 3, &b);
	make_eir(st, "c", 1, &c);
	const size_t n = 12 * MiB + 777;
	uint8_t *big = rows_buf(n, 41), *small = random_buf(4 * KiB, 42);
	size_t cnt = 0;
	bool grew;

	/* 1. One worker on A's large file; B's small file (same class) and C's
	 * (class 1) arrive.  The seal is parked at its next chunk boundary,
	 * C and then B are sealed, and A's seal resumes where it stopped. */
	enrp_ingest *ing = ingest_sliced(st, v, 1, 1);
	uint64_t fa = new_file(st, a.root_ino, "big", big, n);
	step_reset(fa);
	enrp_ingest_enqueue(ing, fa);
	ok(step_wait_held(), "the worker is held inside A's 12 MiB seal");
	uint64_t fb = new_file(st, b.root_ino, "small", small, 4 * KiB);
	uint64_t fc = new_file(st, c.root_ino, "small", small + 1, 2);
	enrp_ingest_enqueue(ing, fb);
	enrp_ingest_enqueue(ing, fc);
	step_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "all three sealed");
	long ia = verified_at(st, fa), ib = verified_at(st, fb), ic = verified_at(st, fc);
	diag("verified order: A's big file %ld, B's %ld, C's %ld", ia, ib, ic);
	ok(ic >= 0 && ib > ic && ia > ib,
	   "class 1 (C) first, then B, then A's large file, whose seal was parked");
	size_t sa = steps_of(fa, &grew);
	ok(grew && sa > 20, "A's seal resumed where it stopped, never restarted (%zu steps)", sa);
	struct enrp_stat s = attr_of(st, fa);
	bool serial = list_is_serial(st, fa, big, n, &cnt);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, big, n) && serial,
	   "a parked and resumed seal: the SHA-256 and the chunk list of a serial one (%zu)", cnt);
	ok(reads_back(ing, fa, big, n), "and reads back");
	s = attr_of(st, fb);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, small, 4 * KiB), "B's file verified");

	/* 2. Within one EIR, the older file goes first: A's second large file
	 * is not parked for A's small file. */
	uint64_t fa2 = new_file(st, a.root_ino, "big2", big + 1, n - 1);
	step_reset(fa2);
	enrp_ingest_enqueue(ing, fa2);
	ok(step_wait_held(), "held inside A's second large file");
	uint64_t fa3 = new_file(st, a.root_ino, "small", small, 100);
	enrp_ingest_enqueue(ing, fa3);
	step_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "both sealed");
	ok(verified_at(st, fa2) >= 0 && verified_at(st, fa3) > verified_at(st, fa2),
	   "the EIR's own later file waits for its older one");
	is_int(enrp_ingest_test_jobs(ing), 0, "no seal is left in memory");

	/* 3. A parked seal whose file is unlinked and freed meanwhile is
	 * forgotten (nothing would resume it). */
	uint64_t fa4 = new_file(st, a.root_ino, "big4", big + 2, n - 2);
	step_reset(fa4);
	enrp_ingest_enqueue(ing, fa4);
	ok(step_wait_held(), "held inside A's third large file");
	uint64_t fb3 = new_file(st, b.root_ino, "small3", small, 10);
	enrp_ingest_enqueue(ing, fb3);
	pthread_mutex_lock(&stp.mu);
	stp.hold = fb3; /* A's seal parks for B's file, which is held in turn */
	stp.held = false;
	pthread_cond_broadcast(&stp.cv);
	pthread_mutex_unlock(&stp.mu);
	ok(step_wait_held(), "held inside B's file, A's seal parked");
	is_int(enrp_ingest_test_jobs(ing), 2, "two seals in memory: B's and A's parked one");
	is_int(enrp_ns_unlink(st, &user, a.root_ino, "big4", false), 0, "unlink A's file");
	is_int(enrp_ns_forget(st, fa4), 0, "and free it (its queue entry goes)");
	step_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "B's file sealed");
	for (int i = 0; i < 100 && enrp_ingest_test_jobs(ing); i++)
		usleep(20000); /* the worker reaps when it goes idle */
	is_int(enrp_ingest_test_jobs(ing), 0, "the parked seal of the freed file is forgotten");
	ok(verified_at(st, fb3) >= 0 && verified_at(st, fa4) < 0, "B's verified, A's freed file not");
	enrp_ingest_close(ing);

	/* 4. Turns: 30 files of A queued before one of B; B's is the second
	 * file sealed, not the 31st. */
	ing = ingest(st, v, 0, 0);
	uint64_t many[30];
	for (int i = 0; i < 30; i++) {
		char name[32];
		snprintf(name, sizeof(name), "m%02d", i);
		many[i] = new_file(st, a.root_ino, name, small + i, 1000);
		enrp_ingest_enqueue(ing, many[i]);
	}
	uint64_t fb2 = new_file(st, b.root_ino, "late", small, 3000);
	enrp_ingest_enqueue(ing, fb2);
	enrp_ingest_close(ing);
	size_t before = journal_of(st, "verified")->n;
	ing = ingest(st, v, 1, 0);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "31 files sealed by one worker");
	long at = verified_at(st, fb2) - (long)before;
	ok(at >= 0 && at <= 1, "B's file, queued after A's 30, was sealed as number %ld of 31", at + 1);
	ok(verified_at(st, many[29]) > verified_at(st, many[0]), "A's files in their order");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(big);
	free(small);
}

static void abandon(void)
{
	enrp_store *st = store_new("abandon", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "ab", 2, &e);
	const size_t n = 12 * MiB + 5;
	uint8_t *p = rows_buf(n, 51), *q = rows_buf(n, 52);
	bool grew;
	enrp_ingest *ing = ingest_sliced(st, v, 1, 1);

	/* 1. A sparse 4 GiB file, deleted while its hole is being hashed. */
	struct enrp_stat s;
	is_int(enrp_ns_mknod(st, &user, e.root_ino, "sparse", S_IFREG | 0644, 0, NULL, &s), 0,
	       "mknod sparse");
	uint64_t sp = s.st.st_ino;
	is_int(enrp_ns_write_done(st, sp, (uint64_t)4 << 30, NULL), 0, "4 GiB, all hole");
	step_reset(sp);
	enrp_ingest_enqueue(ing, sp);
	ok(step_wait_held(), "held after the first 64 MiB of zeros");
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "sparse", false), 0, "unlink it");
	step_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "the worker goes idle");
	is_int(steps_of(sp, &grew), 1, "the seal stopped at the next step: 64 MiB of 4 GiB hashed");
	is_int(verified_at(st, sp), -1, "nothing was committed");
	is_int(queue_of(st).n, 0, "and its queue entry is gone");

	/* 2. Reopened for writing while sealed: stopped at once, sealed again
	 * from the new bytes once the writer closes. */
	uint64_t f = new_file(st, e.root_ino, "rewritten", p, n);
	step_reset(f);
	enrp_ingest_enqueue(ing, f);
	ok(step_wait_held(), "held inside the seal of a 12 MiB file");
	enrp_ingest_writer_open(ing, f);
	step_release();
	is_int(attr_of(st, f).state, ENRP_FILE_PENDING, "the file stays queued");
	put_bytes(st, f, q, n, 0);
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed after the writer closed");
	struct ext_args ex;
	extents_of(st, f, &ex);
	is_int(steps_of(f, &grew), 1 + ex.n, "a writer's open stopped the seal at once: one step "
	       "before, then a new seal from the start, one step per chunk (%zu)", ex.n);
	free(ex.v);
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, q, n), "with the new bytes' SHA-256");

	/* 3. Truncated (no writer registered): noticed at the end of the
	 * slice, the seal starts over from the new content. */
	uint64_t g = new_file(st, e.root_ino, "truncated", p, n);
	step_reset(g);
	enrp_ingest_enqueue(ing, g);
	ok(step_wait_held(), "held inside the seal of another 12 MiB file");
	struct stat at = { .st_size = 1000 };
	is_int(enrp_ns_setattr(st, &user, g, &at, ENRP_SETATTR_SIZE, NULL), 0, "truncate to 1000");
	step_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed again");
	s = attr_of(st, g);
	ok(s.state == ENRP_FILE_VERIFIED && s.st.st_size == 1000 && sha_is(&s, p, 1000),
	   "as the 1000 bytes left, not the 12 MiB read before");
	is_int(journal_count(st, "verified", g), 1, "one seal committed");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
	free(q);
}

/* Bytes read with pread(2) by this process while COUNTING: the seal of a
 * sparse file must not read its holes.  (With _FILE_OFFSET_BITS=64 this
 * defines pread64, which libenrp calls.) */
static _Atomic uint64_t pread_bytes;
static _Atomic bool pread_counting;

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r = (ssize_t)syscall(SYS_pread64, fd, buf, n, off);
	if (r > 0 && pread_counting)
		pread_bytes += (uint64_t)r;
	return r;
}

static void holes(void)
{
	enrp_store *st = store_new("holes", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "ho", 2, &e);
	enrp_ingest *ing = ingest(st, v, 1, 0);

	/* 300 KiB of data, a 64 MiB hole, 100 KiB of data, 3 KiB of hole, 1 byte,
	 * and 5 MiB past the spool file's end (a power loss took them). */
	const uint64_t a = 300 * KiB, hole = 64 * MiB, b = 100 * KiB;
	const uint64_t c_at = a + hole + b + 3 * KiB, flen = c_at + 1, size = flen + 5 * MiB;
	uint8_t *want = calloc(1, size);
	uint8_t *d1 = random_buf(a, 61), *d2 = random_buf(b, 62);
	memcpy(want, d1, a);
	memcpy(want + a + hole, d2, b);
	want[c_at] = 7;
	struct enrp_stat s;
	is_int(enrp_ns_mknod(st, &user, e.root_ino, "sparse", S_IFREG | 0644, 0, NULL, &s), 0,
	       "mknod");
	uint64_t f = s.st.st_ino;
	int fd = enrp_spool_open(st, f, 1);
	pwrite_all(fd, d1, a, 0);
	pwrite_all(fd, d2, b, (off_t)(a + hole));
	pwrite_all(fd, want + c_at, 1, (off_t)c_at);
	close(fd);
	is_int(enrp_ns_write_done(st, f, size, NULL), 0, "size: 5 MiB past the spool file's end");
	long files0 = chunk_files(st, e.id);
	pread_bytes = 0;
	pread_counting = true;
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	pread_counting = false;
	diag("the seal read %llu bytes with pread of a %llu-byte file",
	     (unsigned long long)pread_bytes, (unsigned long long)size);
	ok(pread_bytes < 2 * MiB, "the holes were not read (%llu bytes read for %llu of data)",
	   (unsigned long long)pread_bytes, (unsigned long long)(a + b + 4 * KiB));
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, size),
	   "verified: the SHA-256 of the whole file, zeros included");
	struct ext_args ex;
	is_int(extents_of(st, f, &ex), 0, "its chunk list");
	size_t runs = 0, chunks = 0;
	uint64_t run_bytes = 0, total = 0;
	for (size_t i = 0; i < ex.n; i++) {
		total += extent_len(&ex.v[i]);
		if (ex.v[i].plain_len) {
			chunks++;
		} else {
			runs++;
			run_bytes += ex.v[i].zeros;
		}
	}
	ok(runs == 2 && run_bytes == hole + 5 * MiB && total == size,
	   "two runs of zeros: the 64 MiB hole and the 5 MiB past the end (%zu runs, %zu chunks)",
	   runs, chunks);
	is_int(chunk_files(st, e.id) - files0, (long)chunks, "chunk files only for the data");
	free(ex.v);
	ok(reads_back(ing, f, want, size), "reads back: data and zeros where the holes were");
	struct enrp_scrub_result res;
	is_int(enrp_scrub(st, v, "ho", &actor, NULL, NULL, &res), 0, "scrub");
	ok(res.files_damaged == 0 && res.files == 1, "scrubs clean (the runs hashed as zeros)");

	is_int(enrp_ingest_unseal(ing, f, false), 0, "copy back");
	char path[700];
	char name[32];
	snprintf(name, sizeof(name), "%016llx", (unsigned long long)f);
	snprintf(path, sizeof(path), "%s/spool/%s", enrp_store_path(st), name);
	struct stat sb = { 0 };
	bool there = stat(path, &sb) == 0;
	ok(there && (uint64_t)sb.st_size == size && sb.st_blocks * 512 < 8 * MiB,
	   "the spool file is sparse again (%lld bytes allocated of %llu)",
	   (long long)sb.st_blocks * 512, (unsigned long long)size);
	size_t len;
	bool based = false;
	uint8_t *back = unsealed_bytes(ing, st, f, &len, &based);
	ok(based && back && len == size && memcmp(back, want, size) == 0,
	   "and reads the file's bytes through its base");
	free(back);

	/* 4 KiB of data every 8 KiB: small holes are read as data, so the
	 * chunks keep their usual sizes. */
	const size_t m = 2 * MiB;
	uint8_t *comb = calloc(1, m), *d3 = random_buf(m, 63);
	is_int(enrp_ns_mknod(st, &user, e.root_ino, "comb", S_IFREG | 0644, 0, NULL, &s), 0,
	       "mknod comb");
	uint64_t cf = s.st.st_ino;
	fd = enrp_spool_open(st, cf, 1);
	for (size_t off = 0; off < m; off += 8 * KiB) {
		memcpy(comb + off, d3 + off, 4 * KiB);
		pwrite_all(fd, comb + off, 4 * KiB, (off_t)off);
	}
	close(fd);
	is_int(enrp_ns_write_done(st, cf, m, NULL), 0, "2 MiB, a 4 KiB hole every 8 KiB");
	enrp_ingest_enqueue(ing, cf);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	s = attr_of(st, cf);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, comb, m), "verified");
	extents_of(st, cf, &ex);
	ok(ex.n > 0 && ex.n <= 16, "in %zu chunks, not 256 of 4 KiB", ex.n);
	free(ex.v);
	ok(reads_back(ing, cf, comb, m), "reads back");
	free(comb);
	free(d3);

	/* Zeros written as data (no holes): chunks of zeros become runs too. */
	uint8_t *zeros = calloc(1, 8 * MiB);
	uint64_t z = new_file(st, e.root_ino, "written-zeros", zeros, 8 * MiB);
	files0 = chunk_files(st, e.id);
	enrp_ingest_enqueue(ing, z);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "8 MiB of written zeros sealed");
	s = attr_of(st, z);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, zeros, 8 * MiB), "verified");
	extents_of(st, z, &ex);
	ok(ex.n == 1 && ex.v[0].plain_len == 0 && ex.v[0].zeros == 8 * MiB,
	   "one run of 8 MiB, no chunk (%zu entries)", ex.n);
	free(ex.v);
	is_int(chunk_files(st, e.id), files0, "no chunk file written");
	ok(reads_back(ing, z, zeros, 8 * MiB), "reads back as zeros");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(zeros);
	free(want);
	free(d1);
	free(d2);
}

/* ---- a store queued by an older enrp ---- */

/* Makes the store look like a format 1 store with INO queued in it: the
 * format key, and a queue key without the EIR (class, time, ino). */
static int make_v1_fn(enrp_txn *t, void *arg)
{
	uint64_t ino = *(uint64_t *)arg;
	uint8_t k[8], qk[QUEUE_KEY_LEN_V1], fmt[4];
	MDB_val v;
	struct inode_rec r;
	be64_put(k, ino);
	qk[0] = 2;
	be64_put(qk + 1, 12345);
	be64_put(qk + 9, ino);
	be32_put(fmt, 1);
	int rc = txn_get(t, DBI_INODE, k, 8, &v);
	if (rc || (rc = rec_inode_decode(v.mv_data, v.mv_size, &r)))
		return rc;
	r.flags |= INODE_QUEUED;
	struct rec_out o;
	rec_out_init(&o);
	rc = rec_inode_encode(&r, &o);
	if (rc == 0)
		rc = txn_put(t, DBI_INODE, k, 8, o.buf, o.len, 0);
	rec_out_release(&o);
	txn_put(t, DBI_QUEUE, qk, sizeof(qk), "", 0, 0);
	txn_put(t, DBI_SPOOL, k, 8, qk, sizeof(qk), 0);
	txn_put(t, DBI_META, "format", 6, fmt, 4, 0);
	return rc ? rc : t->ret;
}

static void older_queue(void)
{
	enrp_store *st = store_new("fmt1", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "old", 2, &e);
	uint8_t *p = random_buf(100 * KiB, 71);
	uint64_t f = new_file(st, e.root_ino, "queued-by-v1", p, 100 * KiB);
	is_int(enrp_store_write(st, make_v1_fn, &f), 0, "a format 1 store with a file queued");
	enrp_vault_close(v);
	enrp_store_close(st);

	st = store_reopen("fmt1", ENRP_STORE_RDONLY);
	is_int(enrp_store_format(st), 1, "this enrp opens a format 1 store");
	enrp_store_close(st);
	st = store_reopen("fmt1", GC);
	is_int(enrp_store_format(st), ENRP_STORE_FORMAT, "its first writer marks it format %d",
	       ENRP_STORE_FORMAT);
	v = vault_plain(st);
	enrp_ingest *ing = ingest(st, v, 0, 0);
	struct qlist q = queue_of(st);
	ok(q.n == 0 && !q.spool_points_back, "without workers (enrpctl) the old key stays");
	enrp_ingest_close(ing);
	ing = ingest(st, v, 1, 0);
	q = queue_of(st);
	ok(q.n <= 1 && q.spool_points_back, "the daemon's start rewrites it");
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "and seals what the older enrp had queued");
	struct enrp_stat s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, p, 100 * KiB), "verified");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	st = store_reopen("fmt1", ENRP_STORE_RDONLY);
	is_int(enrp_store_format(st), ENRP_STORE_FORMAT, "the new format is on disk");
	enrp_store_close(st);
	free(p);
}
int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	enrp_log_set_sink(quiet_sink, NULL, ENRP_LOG_DEBUG);
	enrp_actor_self(&actor, "test_ingest_pool");

	pooled();
	sharing();
	abandon();
	holes();
	older_queue();
	gc_races();

	tap_rmrf(tmp);
	return done_testing();
}
