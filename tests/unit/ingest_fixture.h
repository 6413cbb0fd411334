/*
 * ingest_fixture.h — what the three seal-pipeline test programs share
 * (test_ingest, test_ingest_pool, test_ingest_rewrites): stores, EIRs,
 * files and their spool bytes, the queue and chunk index as the store
 * holds them, the journal, and the gate.
 *
 * The pipeline's tests are three programs rather than one so that each
 * runs in minutes under valgrind and they run side by side.
 *
 * The gate: the pipeline's test hook between "chunks written" and
 * "commit" (enrp_ingest_test_chunks_written), which can hold a worker
 * there.  That makes the stale-data tests deterministic.
 *
 * Include it once, from the program's one source file.  Every helper is
 * static and not every program uses every helper, hence the pragma.
 */
#ifndef ENRP_TEST_INGEST_FIXTURE_H
#define ENRP_TEST_INGEST_FIXTURE_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <enrp/cdc.h>
#include <enrp/codec.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/gc.h>
#include <enrp/hold.h>
#include <enrp/fsck.h>
#include <enrp/ingest.h>
#include <enrp/reader.h>
#include <enrp/journal.h>
#include <enrp/keys.h>
#include <enrp/ns.h>
#include <enrp/scrub.h>
#include <enrp/spool.h>
#include <enrp/status.h>
#include <enrp/store.h>
#include <enrp/trash.h>
#include <enrp/vault.h>

#include "chunk_int.h"
#include "record_int.h"
#include "spool_int.h"
#include "store_int.h"

#include "../tap.h"

#define KiB 1024u
#define MiB (1024u * 1024u)
#define NO_INO 999999999ULL /* never allocated in these tests */
#define GC ENRP_STORE_GROUP_COMMIT
/* A bound, not a duration: a seal under valgrind beside two other tests
 * can take a minute (CI saw a 24 MiB pooled seal pass 20 s). */
#define IDLE_MS 120000

static const char *tmp;
static struct enrp_actor actor;
static const struct enrp_caller user = { .uid = 1000, .gid = 1000, .pid = 4242 };
static const struct enrp_caller root_caller = { .uid = 0, .gid = 0, .pid = 4343 };

static const char EMPTY_SHA[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/* ---- the gate: holds a worker between "chunks written" and commit ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_state;       /* protected by gate_mu: 0 off, 1 armed, 2 held, 3 released */
static unsigned gate_passes; /* protected by gate_mu */

/* The pipeline's test hook (enrp_ingest_test_chunks_written). */
static void gate_point(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_passes++;
	if (gate_state == 1) {
		gate_state = 2;
		pthread_cond_broadcast(&gate_cv);
		while (gate_state == 2)
			pthread_cond_wait(&gate_cv, &gate_mu);
		gate_state = 0;
	}
	pthread_mutex_unlock(&gate_mu);
}

static void gate_arm(void)
{
	enrp_ingest_test_chunks_written(gate_point);
	pthread_mutex_lock(&gate_mu);
	gate_state = 1;
	pthread_mutex_unlock(&gate_mu);
}

/* Waits until a worker is held in the gate; false after 20 s. */
static bool gate_wait_held(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&gate_mu);
	int rc = 0;
	while (gate_state != 2 && rc == 0)
		rc = pthread_cond_timedwait(&gate_cv, &gate_mu, &ts);
	bool held = gate_state == 2;
	pthread_mutex_unlock(&gate_mu);
	return held;
}

static void gate_release(void)
{
	pthread_mutex_lock(&gate_mu);
	if (gate_state == 2)
		gate_state = 3;
	else
		gate_state = 0; /* armed but never reached: disarm */
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* ---- helpers ---- */

static void bail(const char *what, int rc)
{
	printf("Bail out! %s: %s\n", what, strerror(-rc));
	fflush(stdout);
	exit(1);
}

/* Deterministic bytes: xorshift64*, incompressible. */
static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
	}
}

static uint8_t *random_buf(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n ? n : 1);
	if (!p)
		bail("malloc", -ENOMEM);
	fill_random(p, n, seed);
	return p;
}

static void sha_of(const void *p, size_t n, uint8_t out[32])
{
	enrp_sha256 *h;
	int rc = enrp_sha256_new(&h);
	if (rc == 0)
		rc = enrp_sha256_update(h, p, n);
	if (rc == 0)
		rc = enrp_sha256_final(h, out);
	enrp_sha256_free(h);
	if (rc)
		bail("sha256", rc);
}

static void hex_of(const uint8_t *p, char out[65])
{
	enrp_hex(p, 32, out);
}

static const char *store_path(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	return path;
}

static enrp_store *store_new(const char *name, unsigned flags)
{
	enrp_store *st;
	const char *path = store_path(name);
	int rc = enrp_store_create(path);
	if (rc)
		bail("enrp_store_create", rc);
	if ((rc = enrp_store_open(path, flags, &st)))
		bail("enrp_store_open", rc);
	return st;
}

static enrp_store *store_reopen(const char *name, unsigned flags)
{
	enrp_store *st;
	int rc = enrp_store_open(store_path(name), flags, &st);
	if (rc)
		bail("enrp_store_open (again)", rc);
	return st;
}

static void make_eir(enrp_store *st, const char *name, uint8_t cls, struct enrp_eir *out)
{
	struct enrp_eir spec;
	enrp_eir_defaults(&spec, name);
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	spec.eir_class = cls;
	int rc = enrp_eir_create(st, &spec, &actor, out);
	if (rc)
		bail("enrp_eir_create", rc);
}

static enrp_vault *vault_plain(enrp_store *st)
{
	enrp_vault *v;
	int rc = enrp_vault_open(st, NULL, &v);
	if (rc)
		bail("enrp_vault_open", rc);
	return v;
}

static enrp_ingest *ingest_with(enrp_store *st, enrp_vault *v, unsigned workers, size_t cache,
                                unsigned decoders)
{
	struct enrp_ingest_config cfg = { .workers = workers, .cache_bytes = cache,
		                          .decoders = decoders };
	enrp_ingest *ing;
	enrp_ingest_test_chunks_written(gate_point);
	int rc = enrp_ingest_open(st, v, &cfg, &ing);
	if (rc)
		bail("enrp_ingest_open", rc);
	return ing;
}

static enrp_ingest *ingest(enrp_store *st, enrp_vault *v, unsigned workers, size_t cache)
{
	return ingest_with(st, v, workers, cache, 0);
}

static void pwrite_all(int fd, const uint8_t *p, size_t n, off_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0)
			bail("pwrite", -errno);
		p += w;
		n -= (size_t)w;
		off += w;
	}
}

/* Writes LEN bytes at OFF into INO's spool file as a handle would, and
 * records the end in the inode. */
static void put_bytes(enrp_store *st, uint64_t ino, const uint8_t *p, size_t len, off_t off)
{
	int fd = enrp_spool_open(st, ino, 1);
	if (fd < 0)
		bail("enrp_spool_open", fd);
	pwrite_all(fd, p, len, off);
	close(fd);
	int rc = enrp_ns_write_done(st, ino, (uint64_t)off + len, NULL);
	if (rc)
		bail("enrp_ns_write_done", rc);
}

/* A new regular file holding P[0..LEN) (not queued).  Its inode number. */
static uint64_t new_file(enrp_store *st, uint64_t parent, const char *name, const uint8_t *p,
                         size_t len)
{
	struct enrp_stat s;
	int rc = enrp_ns_mknod(st, &user, parent, name, S_IFREG | 0644, 0, NULL, &s);
	if (rc)
		bail("enrp_ns_mknod", rc);
	if (len)
		put_bytes(st, s.st.st_ino, p, len, 0);
	return s.st.st_ino;
}

static struct enrp_stat attr_of(enrp_store *st, uint64_t ino)
{
	struct enrp_stat s;
	memset(&s, 0, sizeof(s));
	int rc = enrp_ns_getattr(st, ino, &s);
	if (rc) {
		s.state = (enum enrp_file_state)99;
		s.content = (enum enrp_content)99;
		s.st.st_size = rc;
	}
	return s;
}

/* Empties EIR's trash: what a delete or rewrite kept there is released. */
static void purge_trash(enrp_store *st, const char *eir)
{
	struct enrp_trash_purged p = { 0, 0, 0 };
	int rc = enrp_trash_purge(st, eir, 0, &actor, &p);
	is_int(rc, 0, "purge the trash of %s (%llu entries)", eir, (unsigned long long)p.entries);
}

static struct enrp_eir_usage usage_of(enrp_store *st, uint32_t id)
{
	struct enrp_eir_usage u = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
	int rc = enrp_eir_usage(st, id, &u);
	if (rc)
		ok(0, "enrp_eir_usage(%u): %s", id, strerror(-rc));
	return u;
}

/* Whole spool file of INO into a new buffer (*LEN), or NULL. */
static uint8_t *spool_bytes(enrp_store *st, uint64_t ino, size_t *len)
{
	int fd = enrp_spool_open(st, ino, 0);
	if (fd < 0)
		return NULL;
	struct stat sb;
	uint8_t *p = NULL;
	if (fstat(fd, &sb) == 0 && (p = malloc((size_t)sb.st_size + 1))) {
		size_t got = 0;
		while (got < (size_t)sb.st_size) {
			ssize_t r = pread(fd, p + got, (size_t)sb.st_size - got, (off_t)got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		*len = got;
	}
	close(fd);
	return p;
}

/* Bytes the spool file of INO has on disk, or -errno. */
static int64_t spool_blocks(enrp_store *st, uint64_t ino)
{
	int fd = enrp_spool_open(st, ino, 0);
	if (fd < 0)
		return fd;
	struct stat sb;
	int64_t n = fstat(fd, &sb) == 0 ? (int64_t)sb.st_blocks * 512 : -errno;
	close(fd);
	return n;
}

/* The bytes of spool file INO as a reader sees them: through its base
 * when it rewrites a sealed file (*BASED), else the spool file alone. */
static uint8_t *unsealed_bytes(enrp_ingest *ing, enrp_store *st, uint64_t ino, size_t *len,
                               bool *based)
{
	int fd = enrp_spool_open(st, ino, 0);
	if (fd < 0)
		return NULL;
	struct stat sb;
	uint8_t *p = NULL;
	enrp_reader *r = NULL;
	*based = enrp_reader_open_based(ing, ino, fd, &r) == 0;
	if (*based && fstat(fd, &sb) == 0 && (p = malloc((size_t)sb.st_size + 1))) {
		ssize_t got = enrp_reader_read(r, p, (size_t)sb.st_size, 0);
		*len = got > 0 ? (size_t)got : 0;
	}
	enrp_reader_close(r);
	close(fd);
	return *based ? p : spool_bytes(st, ino, len);
}

static int64_t spool_size(enrp_store *st, uint64_t ino)
{
	int fd = enrp_spool_open(st, ino, 0);
	if (fd < 0)
		return fd;
	struct stat sb;
	int64_t r = fstat(fd, &sb) < 0 ? -errno : (int64_t)sb.st_size;
	close(fd);
	return r;
}

/* Reads all of sealed INO through a reader; compares with WANT. */
static bool reads_back(enrp_ingest *ing, uint64_t ino, const uint8_t *want, size_t len)
{
	enrp_reader *r;
	if (enrp_reader_open(ing, ino, &r))
		return false;
	uint8_t *buf = malloc(len + 1);
	ssize_t n = enrp_reader_read(r, buf, len + 1, 0);
	bool same = n == (ssize_t)len && (len == 0 || memcmp(buf, want, len) == 0);
	free(buf);
	enrp_reader_close(r);
	return same;
}

static bool sha_is(const struct enrp_stat *s, const uint8_t *p, size_t n)
{
	uint8_t want[32];
	sha_of(p, n, want);
	return memcmp(s->sha256, want, 32) == 0;
}

/* ---- internal views: queue, chunk lists, chunk index ---- */

struct qent {
	uint8_t cls;
	uint32_t eir;
	int64_t at;
	uint64_t ino;
};

struct qlist {
	struct qent e[64];
	size_t n;
	bool spool_points_back; /* every entry's DBI_SPOOL value is its key */
};

static int qlist_fn(enrp_txn *t, void *arg)
{
	struct qlist *q = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = txn_cursor(t, DBI_QUEUE, &cur);
	if (rc)
		return rc;
	q->n = 0;
	q->spool_points_back = true;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && q->n < 64) {
		if (k.mv_size != QUEUE_KEY_LEN) {
			q->spool_points_back = false;
		} else {
			const uint8_t *p = k.mv_data;
			struct qent *e = &q->e[q->n++];
			e->cls = p[0];
			e->eir = key_queue_eir(p);
			e->at = key_queue_at(p);
			e->ino = key_queue_ino(p);
			uint8_t sk[8];
			MDB_val sv;
			be64_put(sk, e->ino);
			if (txn_get(t, DBI_SPOOL, sk, 8, &sv) != 0 || sv.mv_size != QUEUE_KEY_LEN ||
			    memcmp(sv.mv_data, p, QUEUE_KEY_LEN) != 0)
				q->spool_points_back = false;
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return 0;
}

static struct qlist queue_of(enrp_store *st)
{
	struct qlist q;
	memset(&q, 0, sizeof(q));
	int rc = enrp_store_read(st, qlist_fn, &q);
	if (rc)
		ok(0, "read the queue: %s", strerror(-rc));
	return q;
}

struct ext_args {
	uint64_t ino;
	struct extent_ent *v;
	size_t n;
};

static int ext_fn(enrp_txn *t, void *arg)
{
	struct ext_args *a = arg;
	return extent_get(t, a->ino, &a->v, &a->n);
}

/* INO's chunk list (caller frees A->v); -ENOENT when it has none. */
static int extents_of(enrp_store *st, uint64_t ino, struct ext_args *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	return enrp_store_read(st, ext_fn, a);
}

struct ref_args {
	uint32_t eir_id;
	const uint8_t *digest;
	struct chunk_rec c;
};

static int ref_fn(enrp_txn *t, void *arg)
{
	struct ref_args *a = arg;
	return chunk_lookup(t, a->eir_id, a->digest, &a->c);
}

/* Reference count of a chunk in the index, or -errno. */
static int64_t refs_of(enrp_store *st, uint32_t eir_id, const uint8_t digest[32])
{
	struct ref_args a = { .eir_id = eir_id, .digest = digest };
	int rc = enrp_store_read(st, ref_fn, &a);
	return rc ? rc : (int64_t)a.c.refs;
}

static void chunk_path(enrp_store *st, uint32_t eir_id, const uint8_t digest[32], char *buf,
                       size_t n)
{
	char h[65];
	hex_of(digest, h);
	snprintf(buf, n, "%s/chunks/%u/%.2s/%.2s/%s", enrp_store_path(st), eir_id, h, h + 2, h);
}

/* Number of chunk files under STORE/chunks/<eir> (tmp/ not counted). */
static long chunk_files(enrp_store *st, uint32_t eir_id)
{
	char dir[600];
	long n = 0;
	snprintf(dir, sizeof(dir), "%s/chunks/%u", enrp_store_path(st), eir_id);
	DIR *d1 = opendir(dir);
	if (!d1)
		return 0;
	struct dirent *a;
	while ((a = readdir(d1))) {
		if (strlen(a->d_name) != 2)
			continue;
		char p1[860];
		snprintf(p1, sizeof(p1), "%s/%s", dir, a->d_name);
		DIR *d2 = opendir(p1);
		struct dirent *b;
		while (d2 && (b = readdir(d2))) {
			if (strlen(b->d_name) != 2)
				continue;
			char p2[1120];
			snprintf(p2, sizeof(p2), "%s/%s", p1, b->d_name);
			DIR *d3 = opendir(p2);
			struct dirent *c;
			while (d3 && (c = readdir(d3)))
				n += strlen(c->d_name) == 64;
			if (d3)
				closedir(d3);
		}
		if (d2)
			closedir(d2);
	}
	closedir(d1);
	return n;
}

/* The distinct chunks FastCDC (the store's default parameters) cuts P into. */
static size_t distinct_chunks(const uint8_t *p, size_t n)
{
	struct enrp_cdc_params cdc;
	enrp_codec *c;
	enrp_cdc_defaults(&cdc);
	if (enrp_codec_new(3, &c))
		bail("enrp_codec_new", -ENOMEM);
	uint8_t (*seen)[32] = calloc(n / cdc.min_size + 2, 32);
	size_t nseen = 0;
	for (size_t off = 0; off < n;) {
		size_t cut = enrp_cdc_next(&cdc, p + off, n - off);
		uint8_t d[32];
		enrp_codec_name(c, NULL, p + off, cut, d);
		size_t i = 0;
		while (i < nseen && memcmp(seen[i], d, 32) != 0)
			i++;
		if (i == nseen)
			memcpy(seen[nseen++], d, 32);
		off += cut;
	}
	free(seen);
	enrp_codec_free(c);
	return nseen;
}

/* ---- journal ---- */

struct jrecs {
	uint64_t ino[128];
	char details[128][ENRP_JOURNAL_DETAILS_MAX + 1];
	size_t n;
};

static int jrecs_cb(const struct enrp_journal_record *rec, void *arg)
{
	struct jrecs *j = arg;
	if (j->n < 128) {
		unsigned long long ino = 0;
		sscanf(rec->details, "ino=%llu", &ino);
		j->ino[j->n] = ino;
		snprintf(j->details[j->n], sizeof(j->details[0]), "%s", rec->details);
		j->n++;
	}
	return 0;
}

/* Records of EVENT (oldest first); static storage, one at a time. */
static struct jrecs *journal_of(enrp_store *st, const char *event)
{
	static struct jrecs j;
	struct enrp_journal_filter f = { .event = event };
	memset(&j, 0, sizeof(j));
	int rc = enrp_journal_iter(st, &f, jrecs_cb, &j);
	if (rc)
		ok(0, "enrp_journal_iter(%s): %s", event, strerror(-rc));
	return &j;
}

static size_t journal_count(enrp_store *st, const char *event, uint64_t ino)
{
	struct jrecs *j = journal_of(st, event);
	size_t n = 0;
	for (size_t i = 0; i < j->n; i++)
		n += j->ino[i] == ino;
	return n;
}


static int flip_byte(const char *path, long at)
{
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	struct stat sb;
	fstat(fd, &sb);
	if (at < 0)
		at = sb.st_size / 2;
	uint8_t b;
	int rc = pread(fd, &b, 1, at) == 1 ? 0 : -EIO;
	b ^= 0x40;
	if (rc == 0 && pwrite(fd, &b, 1, at) != 1)
		rc = -EIO;
	close(fd);
	return rc;
}

static void quiet_sink(enum enrp_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("ENRP_TEST_LOG"))
		fprintf(stderr, "log %d: %s\n", (int)level, msg);
}

#pragma GCC diagnostic pop

#endif
