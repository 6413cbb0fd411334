/*
 * test_ingest.c — the seal pipeline on real stores: the durable queue
 * (class order, then EIR, then time; survives a close and a crash; spool
 * files never queued are queued at start; an older store's queue is
 * rewritten), the writers registry, the generation check
 * (a file changed, reopened or unlinked while it is being sealed is not
 * sealed from stale data), unseal with copy-back and with truncation, chunk
 * reference counts and EIR usage, deduplication within and across EIRs,
 * the sealed-file reader (every chunk boundary, EOF, random reads, a small
 * cache, two threads), damaged chunks (reader, journal, scrub), encryption
 * at rest (vault init/open errors, no plaintext in chunk files) and the
 * edge files (empty, sparse, no spool file at all), what was shown
 * verified surviving a crash, the sharing of the workers (classes first,
 * EIRs in turn, a long seal parked and resumed), seals abandoned when their
 * file is unlinked, reopened or truncated, and holes (never read, runs of
 * zeros in the chunk list, sparse again after a copy-back).
 *
 * The window between "chunks written" and "commit" is opened on purpose:
 * this program defines syncfs(2), which the pipeline calls exactly there
 * (chunk_sync), and can hold a worker inside it.  That makes the stale-data
 * tests deterministic.  Likewise the step hook (enrp_ingest_test_hooks)
 * holds a worker inside a seal, and a slice of 1 ns makes every step a
 * point where a seal may be parked or abandoned; pread(2) is defined here
 * to count the bytes a seal reads.
 *
 * Every error is asserted as its exact -errno (STYLE rule 35).
 */
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
#define IDLE_MS 20000        /* generous: valgrind is slow */

static const char *tmp;
static struct enrp_actor actor;
static const struct enrp_caller user = { .uid = 1000, .gid = 1000, .pid = 4242 };
static const struct enrp_caller root_caller = { .uid = 0, .gid = 0, .pid = 4343 };

static const char EMPTY_SHA[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/* ---- syncfs gate: holds a worker between "chunks written" and commit ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_state;       /* protected by gate_mu: 0 off, 1 armed, 2 held, 3 released */
static unsigned syncfs_calls; /* protected by gate_mu */

/* Overrides libc's: chunk_sync() is its only caller in libenrp. */
int syncfs(int fd)
{
	pthread_mutex_lock(&gate_mu);
	syncfs_calls++;
	if (gate_state == 1) {
		gate_state = 2;
		pthread_cond_broadcast(&gate_cv);
		while (gate_state == 2)
			pthread_cond_wait(&gate_cv, &gate_mu);
		gate_state = 0;
	}
	pthread_mutex_unlock(&gate_mu);
	return (int)syscall(SYS_syncfs, fd);
}

static void gate_arm(void)
{
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

/* ---- queue order ---- */

static void queue_order(void)
{
	enrp_store *st = store_new("queue", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e3, e1, e2;
	make_eir(st, "class3", 3, &e3);
	make_eir(st, "class1", 1, &e1);
	make_eir(st, "class2", 2, &e2);
	uint8_t *p = random_buf(200 * KiB, 1);
	/* Created (and so numbered) and queued in this order. */
	uint64_t a3 = new_file(st, e3.root_ino, "a3", p, 1000);
	uint64_t a1 = new_file(st, e1.root_ino, "a1", p + 1, 70 * KiB);
	uint64_t a2 = new_file(st, e2.root_ino, "a2", p + 2, 3000);
	uint64_t b3 = new_file(st, e3.root_ino, "b3", p + 3, 4000);
	uint64_t b1 = new_file(st, e1.root_ino, "b1", p + 4, 5000);
	const uint64_t order_in[5] = { a3, a1, a2, b3, b1 };
	const uint64_t order_out[5] = { a1, b1, a2, a3, b3 };
	const uint8_t class_out[5] = { 1, 1, 2, 3, 3 };

	enrp_ingest *ing = ingest(st, v, 0, 0);
	is_int(queue_of(st).n, 0, "nothing is queued by writing alone");
	is_int(attr_of(st, a1).state, ENRP_FILE_OPEN, "a written, unqueued file is open");
	for (int i = 0; i < 5; i++)
		is_int(enrp_ingest_enqueue(ing, order_in[i]), 0, "enqueue #%d", i);
	struct qlist q = queue_of(st);
	is_int(q.n, 5, "five queue entries");
	const uint32_t eir_out[5] = { e1.id, e1.id, e2.id, e3.id, e3.id };
	bool order = q.n == 5, cls = q.n == 5, eirs = q.n == 5, times = true;
	for (size_t i = 0; i < q.n && i < 5; i++) {
		order &= q.e[i].ino == order_out[i];
		cls &= q.e[i].cls == class_out[i];
		eirs &= q.e[i].eir == eir_out[i];
		if (i && q.e[i].cls == q.e[i - 1].cls)
			times &= q.e[i].at > q.e[i - 1].at;
	}
	ok(order, "the queue yields class 1 first, then class 2, then class 3");
	ok(cls, "each key leads with its EIR's class");
	ok(eirs, "and names its EIR next");
	ok(times, "within a class, oldest first");
	ok(q.spool_points_back, "each queued file's spool entry holds its queue key");
	struct enrp_ingest_backlog bl;
	is_int(enrp_ingest_backlog(st, e1.id, &bl), 0, "enrp_ingest_backlog: 0");
	ok(bl.files == 2 && bl.oldest_queued == q.e[0].at,
	   "class1's backlog: 2 files, the oldest queued when a1 was");
	is_int(enrp_ingest_backlog(st, e3.id, &bl), 0, "enrp_ingest_backlog of class3: 0");
	ok(bl.files == 2 && bl.oldest_queued == q.e[3].at,
	   "class3's backlog: 2 files, the oldest queued when a3 was");
	is_int(enrp_ingest_backlog(st, e2.id, &bl), 0, "enrp_ingest_backlog of class2: 0");
	ok(bl.files == 1 && bl.oldest_queued == q.e[2].at, "class2's backlog: 1 file");
	is_int(enrp_ingest_backlog(st, 999, &bl), 0, "an EIR with nothing queued: 0");
	ok(bl.files == 0 && bl.oldest_queued == 0, "and an empty backlog");
	is_int(attr_of(st, b3).state, ENRP_FILE_PENDING, "a queued file is pending");
	is_int(attr_of(st, b3).content, ENRP_CONTENT_SPOOL, "its bytes are still a spool file");

	int64_t at = q.e[0].at;
	is_int(enrp_ingest_enqueue(ing, a1), 0, "enqueue of a queued file: 0");
	q = queue_of(st);
	ok(q.n == 5 && q.e[0].ino == a1 && q.e[0].at == at,
	   "and it keeps its place (no second entry, same time)");
	is_int(enrp_ingest_enqueue(ing, e1.root_ino), 0, "enqueue of a directory: 0");
	is_int(enrp_ingest_enqueue(ing, NO_INO), 0, "enqueue of no such inode: 0");
	is_int(queue_of(st).n, 5, "neither is queued");
	is_int(enrp_ingest_wait_idle(ing, 50), -ETIMEDOUT,
	       "wait_idle without workers and a non-empty queue: -ETIMEDOUT");
	enrp_ingest_close(ing);

	size_t before = journal_of(st, "verified")->n;
	ing = ingest(st, v, 1, 0);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "one worker seals the queue");
	struct jrecs *j = journal_of(st, "verified");
	bool sealed_order = j->n == before + 5;
	for (size_t i = 0; sealed_order && i < 5; i++)
		sealed_order = j->ino[before + i] == order_out[i];
	ok(sealed_order, "sealed in queue order: a1 b1 a2 a3 b3 (journal 'verified')");
	is_int(queue_of(st).n, 0, "the queue is empty");
	bool all = true;
	for (int i = 0; i < 5; i++) {
		struct enrp_stat s = attr_of(st, order_in[i]);
		all &= s.state == ENRP_FILE_VERIFIED && s.content == ENRP_CONTENT_SEALED;
	}
	ok(all, "all five are verified and sealed");
	is_int(enrp_ingest_backlog(st, e1.id, &bl), 0, "enrp_ingest_backlog after the seals: 0");
	ok(bl.files == 0 && bl.oldest_queued == 0, "and the backlog is empty");
	struct enrp_ingest_stats is;
	enrp_ingest_stats(ing, &is);
	ok(is.sealed_files == 5 && is.sealed_bytes == 1000 + 70 * KiB + 3000 + 4000 + 5000,
	   "enrp_ingest_stats: 5 files and their bytes sealed");
	struct enrp_gc_disk disk;
	is_int(enrp_gc_disk(st, e1.id, &disk), 0, "enrp_gc_disk: 0");
	ok(disk.chunks == (uint64_t)chunk_files(st, e1.id) && disk.bytes == usage_of(st, e1.id).stored,
	   "enrp_gc_disk: class1's chunk files, whose bytes are its stored usage (no garbage)");
	is_int(enrp_gc_disk(st, 999, &disk), 0, "enrp_gc_disk of an EIR without chunks: 0");
	ok(disk.chunks == 0 && disk.bytes == 0, "and nothing on disk");
	struct enrp_stat s = attr_of(st, a1);
	ok(sha_is(&s, p + 1, 70 * KiB), "a1 carries the SHA-256 of its bytes");
	is_int(enrp_ingest_enqueue(ing, a1), 0, "enqueue of a sealed file: 0");
	is_int(queue_of(st).n, 0, "and it is not queued");
	is_int(attr_of(st, a1).state, ENRP_FILE_VERIFIED, "and stays verified");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
}

/* ---- durability of the queue ---- */

/* Static so that what the child never frees stays reachable (valgrind
 * checks the child's leaks too). */
static enrp_store *child_st;
static enrp_vault *child_v;
static enrp_ingest *child_ing;

/* 0 when a crash child reached its crash (SIGKILL), else its failing step. */
static int child_outcome(int status)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int crash_child(void)
{
	enrp_store *st;
	enrp_vault *v;
	struct enrp_eir e;
	if (enrp_store_open(store_path("durable"), GC, &child_st) ||
	    enrp_vault_open(child_st, NULL, &child_v) || enrp_eir_get(child_st, "dur", &e))
		return 1;
	st = child_st;
	v = child_v;
	uint8_t *p = random_buf(300 * KiB, 22);
	struct enrp_stat s;
	if (enrp_ns_mknod(st, &user, e.root_ino, "crash", S_IFREG | 0644, 0, NULL, &s))
		return 2;
	int fd = enrp_spool_open(st, s.st.st_ino, 1);
	if (fd < 0 || pwrite(fd, p, 300 * KiB, 0) != 300 * KiB || enrp_spool_sync(st, fd))
		return 3;
	close(fd);
	free(p);
	if (enrp_ns_write_done(st, s.st.st_ino, 300 * KiB, NULL))
		return 4;
	struct enrp_ingest_config cfg = { .workers = 0 };
	if (enrp_ingest_open(st, v, &cfg, &child_ing) || enrp_ingest_enqueue(child_ing, s.st.st_ino))
		return 5;
	if (enrp_store_sync(st)) /* what fsync(2) does */
		return 6;
	/* A crash: nothing closed, no later group committed (and nothing for
	 * valgrind to count as leaked, as after a real one). */
	raise(SIGKILL);
	return 7;
}

static void durability(void)
{
	enrp_store *st = store_new("durable", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "dur", 2, &e);
	uint8_t *p = random_buf(1 * MiB + 12345, 2);
	uint64_t f = new_file(st, e.root_ino, "f", p, 1 * MiB + 12345);
	enrp_ingest *ing = ingest(st, v, 0, 0);
	is_int(enrp_ingest_enqueue(ing, f), 0, "enqueue with no workers");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);

	st = store_reopen("durable", GC);
	v = vault_plain(st);
	struct qlist q = queue_of(st);
	ok(q.n == 1 && q.e[0].ino == f, "after close and reopen the file is still queued");
	is_int(attr_of(st, f).state, ENRP_FILE_PENDING, "and pending");
	ing = ingest(st, v, 1, 0);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a worker seals it");
	struct enrp_stat s = attr_of(st, f);
	is_int(s.state, ENRP_FILE_VERIFIED, "state verified");
	is_int(s.content, ENRP_CONTENT_SEALED, "content sealed");
	is_int(s.st.st_size, 1 * MiB + 12345, "size unchanged");
	ok(sha_is(&s, p, 1 * MiB + 12345), "sha256 is the SHA-256 of the bytes written");
	ok(s.sealed_at > 0, "sealed_at is set");
	char want[65], hex[65];
	hex_of(s.sha256, hex);
	snprintf(want, sizeof(want), "%s", hex);
	struct jrecs *j = journal_of(st, "verified");
	ok(j->n == 1 && j->ino[0] == f && strstr(j->details[0], want) &&
	   strstr(j->details[0], "size=1060921"),
	   "journal 'verified' names the inode, size and sha256");
	ok(reads_back(ing, f, p, 1 * MiB + 12345), "the reader returns the bytes written");
	is_int(enrp_store_sync(st), 0, "store sync");
	is_int(spool_size(st, f), -ENOENT, "the spool file is gone once the seal is durable");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);

	/* A crash (no close) after the enqueue was made durable. */
	free(p);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(crash_child());
	int status = 0;
	waitpid(pid, &status, 0);
	is_int(child_outcome(status), 0, "child: queue, sync, crash");
	st = store_reopen("durable", GC);
	v = vault_plain(st);
	struct enrp_stat cs;
	is_int(enrp_ns_lookup(st, e.root_ino, "crash", &cs), 0, "the crashed file exists");
	is_int(cs.state, ENRP_FILE_PENDING, "and is still queued after the crash");
	ing = ingest(st, v, 1, 0);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "and is sealed after it");
	uint8_t *cp = random_buf(300 * KiB, 22);
	cs = attr_of(st, cs.st.st_ino);
	ok(cs.state == ENRP_FILE_VERIFIED && sha_is(&cs, cp, 300 * KiB),
	   "verified with the right sha256");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(cp);
}

/* ---- what was shown verified survives a crash ---- */

/* Polls INO until it reads verified (1 ms steps, at most 20 s). */
static bool wait_verified(enrp_store *st, uint64_t ino)
{
	for (int i = 0; i < 20000; i++) {
		if (attr_of(st, ino).state == ENRP_FILE_VERIFIED)
			return true;
		usleep(1000);
	}
	return false;
}

/* The child: a new directory and a 2-byte file in it, sealed by a worker
 * inside the open group; as soon as the file reads verified, the status
 * renders SHA256SUMS (or, with RENAME, the file is renamed and the EIR's
 * changes are made durable as enrp.state does) and the process dies. */
static int shown_child(bool rename)
{
	struct enrp_eir e;
	struct enrp_stat d, s;
	if (enrp_store_open(store_path("shown"), GC, &child_st) ||
	    enrp_vault_open(child_st, NULL, &child_v) || enrp_eir_get(child_st, "shown", &e))
		return 1;
	const char *dir = rename ? "d2" : "d1";
	if (enrp_ns_mknod(child_st, &user, e.root_ino, dir, S_IFDIR | 0755, 0, NULL, &d) ||
	    enrp_ns_mknod(child_st, &user, d.st.st_ino, "f", S_IFREG | 0644, 0, NULL, &s))
		return 2;
	put_bytes(child_st, s.st.st_ino, (const uint8_t *)"hi", 2, 0);
	struct enrp_ingest_config cfg = { .workers = 1 };
	if (enrp_ingest_open(child_st, child_v, &cfg, &child_ing) ||
	    enrp_ingest_enqueue(child_ing, s.st.st_ino))
		return 3;
	if (!wait_verified(child_st, s.st.st_ino))
		return 4;
	if (rename) {
		if (enrp_ns_rename(child_st, &user, d.st.st_ino, "f", d.st.st_ino, "g", 0))
			return 5;
		if (attr_of(child_st, s.st.st_ino).state != ENRP_FILE_VERIFIED ||
		    enrp_store_sync_eir(child_st, e.id))
			return 6;
	} else {
		char *buf;
		size_t len;
		if (enrp_status_render(child_st, e.id, ENRP_STATUS_SHA256SUMS, &buf, &len))
			return 7;
		bool listed = memmem(buf, len, "  d1/f\n", 7) != NULL;
		free(buf);
		if (!listed)
			return 8;
	}
	raise(SIGKILL); /* no close, no later commit */
	return 9;
}

static void verified_survives(void)
{
	enrp_store *st = store_new("shown", GC);
	struct enrp_eir e;
	make_eir(st, "shown", 2, &e);
	enrp_store_close(st);
	for (int rename = 0; rename < 2; rename++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(shown_child(rename));
		int status = 0;
		waitpid(pid, &status, 0);
		is_int(child_outcome(status), 0,
		       "child: mkdir, create, seal in the open group, %s, crash",
		       rename ? "rename, read enrp.state" : "render SHA256SUMS listing it");
		st = store_reopen("shown", GC);
		struct enrp_stat d, s;
		int rc = enrp_ns_lookup(st, e.root_ino, rename ? "d2" : "d1", &d);
		if (rc == 0)
			rc = enrp_ns_lookup(st, d.st.st_ino, rename ? "g" : "f", &s);
		is_int(rc, 0, "after the crash the file is still where it was shown verified");
		ok(rc == 0 && s.state == ENRP_FILE_VERIFIED && sha_is(&s, (const uint8_t *)"hi", 2),
		   "still verified, with the sha256 that was shown");
		enrp_store_close(st);
	}
}

/* ---- start-up requeue ---- */

static void startup_requeue(void)
{
	enrp_store *st = store_new("requeue", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "req", 3, &e);
	uint8_t *p = random_buf(400 * KiB, 3);
	uint64_t f = new_file(st, e.root_ino, "never-queued", p, 400 * KiB);
	uint64_t o = new_file(st, e.root_ino, "orphan", p, 10 * KiB);
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "orphan", false), 0,
	       "unlink a file still held (an orphan)");
	enrp_ingest *ing = ingest(st, v, 0, 0);
	is_int(queue_of(st).n, 0, "an ingest without workers queues nothing at start");
	enrp_ingest_close(ing);
	is_int(attr_of(st, f).state, ENRP_FILE_OPEN, "the file is still open");

	ing = ingest(st, v, 1, 0);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "an ingest with workers goes idle");
	struct enrp_stat s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, p, 400 * KiB),
	   "a spool file never queued is queued and sealed at start");
	s = attr_of(st, o);
	ok(s.content == ENRP_CONTENT_SPOOL && s.state == ENRP_FILE_OPEN,
	   "an orphan's spool file is not sealed");
	is_int(enrp_ns_forget(st, o), 0, "forget the orphan");
	is_int(attr_of(st, o).st.st_size, -ENOENT, "the orphan is gone");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
}

/* ---- writers ---- */

static void writers(void)
{
	enrp_store *st = store_new("writers", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "wr", 1, &e);
	uint8_t *p = random_buf(500 * KiB, 4);
	enrp_ingest *ing = ingest(st, v, 1, 0);

	uint64_t f = new_file(st, e.root_ino, "w", p, 500 * KiB);
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_enqueue(ing, f), 0, "enqueue (fsync) while a writer is open");
	is_int(enrp_ingest_wait_idle(ing, 300), -ETIMEDOUT, "wait_idle: -ETIMEDOUT");
	is_int(attr_of(st, f).state, ENRP_FILE_PENDING, "not sealed while a writer is open");
	enrp_ingest_writer_open(ing, f);
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, 200), -ETIMEDOUT, "one of two writers closed: -ETIMEDOUT");
	is_int(attr_of(st, f).state, ENRP_FILE_PENDING, "still pending");
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "last writer closed: idle");
	struct enrp_stat s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, p, 500 * KiB), "sealed after the last close");

	/* The last close queues by itself. */
	uint64_t g = new_file(st, e.root_ino, "g", p + 7, 100 * KiB);
	is_int(attr_of(st, g).state, ENRP_FILE_OPEN, "a new file is open");
	enrp_ingest_writer_open(ing, g);
	enrp_ingest_writer_close(ing, g);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "idle after its last close");
	s = attr_of(st, g);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, p + 7, 100 * KiB),
	   "writer_close of the last writer queues and seals");

	enrp_ingest_writer_close(ing, NO_INO); /* never opened: a no-op */
	enrp_ingest_writer_close(ing, g);      /* one close too many: a no-op */
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "unbalanced closes change nothing");
	is_int(attr_of(st, g).state, ENRP_FILE_VERIFIED, "g still verified");

	/* A writer left open at close is forgotten with the ingest. */
	uint64_t h = new_file(st, e.root_ino, "h", p + 9, 1000);
	enrp_ingest_writer_open(ing, h);
	enrp_ingest_close(ing);
	ing = ingest(st, v, 1, 0);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a new ingest does not know old writers");
	is_int(attr_of(st, h).state, ENRP_FILE_VERIFIED, "and seals the file at start");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
}

/* A file closed while the disk refuses commits (its queueing fails) is
 * queued and sealed once there is room, without waiting for a remount. */
static void queue_after_full_disk(void)
{
	enrp_store *st = store_new("qfull", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "qf", 1, &e);
	uint8_t *p = random_buf(64 * KiB, 5);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	uint64_t f = new_file(st, e.root_ino, "f", p, 64 * KiB);
	enrp_ingest_writer_open(ing, f);
	enrp_store_test_fail_writes(st, -ENOSPC);
	enrp_ingest_writer_close(ing, f);
	/* Looked at before writes work again: from then on an idle worker
	 * may queue and seal it at any moment. */
	is_int(attr_of(st, f).state, ENRP_FILE_OPEN, "its queueing failed: still open");
	enrp_store_test_fail_writes(st, 0);
	struct enrp_stat s;
	for (int i = 0; i < 100; i++) {
		s = attr_of(st, f);
		if (s.state == ENRP_FILE_VERIFIED)
			break;
		usleep(50000);
	}
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, p, 64 * KiB),
	   "queued again by an idle worker and sealed once writes work");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
}

/* ---- stale data: changes while a worker is between chunks and commit ---- */

static void stale_data(void)
{
	enrp_store *st = store_new("stale", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "st", 1, &e);
	const size_t n = 600 * KiB;
	uint8_t *x = random_buf(n, 5), *y = random_buf(n, 6);
	enrp_ingest *ing = ingest(st, v, 1, 0);

	/* 1. Bytes rewritten (same size: only the generation tells). */
	uint64_t f = new_file(st, e.root_ino, "rewritten", x, n);
	gate_arm();
	is_int(enrp_ingest_enqueue(ing, f), 0, "enqueue");
	ok(gate_wait_held(), "a worker is held after writing the chunks of X");
	put_bytes(st, f, y, n, 0);
	gate_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "idle");
	struct enrp_stat s = attr_of(st, f);
	is_int(s.state, ENRP_FILE_VERIFIED, "verified");
	ok(sha_is(&s, y, n), "sealed with the new bytes, not the stale ones");
	is_int(journal_count(st, "verified", f), 1, "one 'verified' record: the stale seal committed nothing");
	ok(reads_back(ing, f, y, n), "reads back the new bytes");

	/* 2. Truncated while being sealed. */
	uint64_t g = new_file(st, e.root_ino, "truncated", x + 1, n - 1);
	gate_arm();
	enrp_ingest_enqueue(ing, g);
	ok(gate_wait_held(), "held while sealing g");
	struct stat a;
	memset(&a, 0, sizeof(a));
	a.st_size = 1000;
	is_int(enrp_ns_setattr(st, &user, g, &a, ENRP_SETATTR_SIZE, NULL), 0, "truncate g to 1000");
	gate_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "idle");
	s = attr_of(st, g);
	ok(s.state == ENRP_FILE_VERIFIED && s.st.st_size == 1000 && sha_is(&s, x + 1, 1000),
	   "sealed at its new size with the SHA-256 of the first 1000 bytes");

	/* 3. Reopened for writing while being sealed. */
	uint64_t h = new_file(st, e.root_ino, "reopened", x + 2, n - 2);
	gate_arm();
	enrp_ingest_enqueue(ing, h);
	ok(gate_wait_held(), "held while sealing h");
	enrp_ingest_writer_open(ing, h);
	gate_release();
	is_int(enrp_ingest_wait_idle(ing, 300), -ETIMEDOUT, "not idle: h is queued but written");
	is_int(attr_of(st, h).state, ENRP_FILE_PENDING, "h was not sealed under its writer");
	is_int(journal_count(st, "verified", h), 0, "no 'verified' record for h");
	put_bytes(st, h, y, 100, 0);
	enrp_ingest_writer_close(ing, h);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "idle after the writer closed");
	uint8_t *hb = malloc(n - 2);
	memcpy(hb, x + 2, n - 2);
	memcpy(hb, y, 100);
	s = attr_of(st, h);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, hb, n - 2),
	   "h sealed once, with what the writer left");
	free(hb);

	/* 4. Unlinked while being sealed: the entry is dropped, no chunk kept. */
	struct enrp_eir_usage u0 = usage_of(st, e.id);
	uint64_t k = new_file(st, e.root_ino, "unlinked", y + 5, n - 5);
	gate_arm();
	enrp_ingest_enqueue(ing, k);
	ok(gate_wait_held(), "held while sealing k");
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "unlinked", false), 0, "unlink k");
	gate_release();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "idle");
	is_int(queue_of(st).n, 0, "the queue entry of the unlinked file is dropped");
	s = attr_of(st, k);
	ok(s.content == ENRP_CONTENT_SPOOL, "the orphan was not sealed");
	struct enrp_eir_usage u1 = usage_of(st, e.id);
	ok(u1.stored == u0.stored && u1.chunks == u0.chunks,
	   "nothing was stored for it");
	is_int(enrp_ns_forget(st, k), 0, "forget k");
	u1 = usage_of(st, e.id);
	ok(u1.stored == u0.stored && u1.chunks == u0.chunks && u1.bytes == u0.bytes,
	   "freed: usage is as before the file existed");

	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(x);
	free(y);
}

/* ---- unseal, generation, usage ---- */

static void unseal_and_usage(void)
{
	enrp_store *st = store_new("unseal", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "un", 2, &e);
	const size_t nx = 3 * MiB + 17, ny = 2 * MiB + 5;
	uint8_t *x = random_buf(nx, 7), *y = random_buf(ny, 8);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	struct enrp_eir_usage u0 = usage_of(st, e.id);
	is_int(u0.stored + u0.chunks, 0, "a new EIR stores nothing");

	uint64_t f = new_file(st, e.root_ino, "f", x, nx);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "f sealed");
	struct enrp_stat s = attr_of(st, f);
	uint8_t sha_x[32];
	memcpy(sha_x, s.sha256, 32);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, x, nx), "f verified");
	struct enrp_eir_usage u1 = usage_of(st, e.id);
	is_int(u1.bytes, nx, "usage.bytes is f's size");
	is_int(u1.chunks, distinct_chunks(x, nx), "usage.chunks: the distinct FastCDC chunks of f");
	struct ext_args ex;
	is_int(extents_of(st, f, &ex), 0, "f has a chunk list");
	uint64_t stored = 0, plain = 0;
	bool refs1 = true;
	for (size_t i = 0; i < ex.n; i++) {
		char path[700];
		struct stat sb;
		chunk_path(st, e.id, ex.v[i].digest, path, sizeof(path));
		stored += stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
		plain += ex.v[i].plain_len;
		refs1 &= refs_of(st, e.id, ex.v[i].digest) == 1;
	}
	is_int(plain, nx, "its chunks add up to its size");
	is_int(u1.stored, stored, "usage.stored is the size of its chunk files");
	ok(refs1, "each chunk has one reference");
	is_int(chunk_files(st, e.id), ex.n, "one chunk file per chunk");
	is_int(enrp_store_sync(st), 0, "sync");
	is_int(spool_size(st, f), -ENOENT, "no spool file");
	free(ex.v);

	/* Unseal: the chunk list stays as the base of a sparse spool file. */
	is_int(enrp_ingest_unseal(ing, f, false), 0, "unseal");
	s = attr_of(st, f);
	is_int(s.content, ENRP_CONTENT_SPOOL, "content spool");
	is_int(s.state, ENRP_FILE_OPEN, "state open");
	is_int(s.st.st_size, nx, "size unchanged");
	ok(s.sealed_at == 0, "sealed_at cleared");
	size_t len = 0;
	bool based = false;
	uint8_t *back = unsealed_bytes(ing, st, f, &len, &based);
	ok(based && back && len == nx && memcmp(back, x, nx) == 0,
	   "it reads back whole through its base");
	free(back);
	is_int(spool_size(st, f), (int64_t)nx, "the spool file has the file's size");
	ok(spool_blocks(st, f) < 64 * 1024, "and holds no data yet (%lld bytes on disk)",
	   (long long)spool_blocks(st, f));
	struct enrp_eir_usage u2 = usage_of(st, e.id);
	is_int(u2.bytes, nx, "usage.bytes unchanged");
	ok(u2.stored == u1.stored && u2.chunks == u1.chunks,
	   "the verified copy went to trash: its chunks stay stored");
	purge_trash(st, "un");
	u2 = usage_of(st, e.id);
	ok(u2.stored == u1.stored && u2.chunks == u1.chunks,
	   "purged: the base still holds its chunks (stored %llu, chunks %llu)",
	   (unsigned long long)u2.stored, (unsigned long long)u2.chunks);
	is_int(extents_of(st, f, &ex), 0, "the chunk list stays, as the base");
	bool refs1b = true;
	for (size_t i = 0; i < ex.n; i++)
		refs1b &= refs_of(st, e.id, ex.v[i].digest) == 1;
	ok(refs1b, "each chunk has the base's one reference");
	free(ex.v);
	enrp_reader *r;
	is_int(enrp_reader_open(ing, f, &r), -EINVAL, "reader on an unsealed file: -EINVAL");
	is_int(enrp_ingest_unseal(ing, f, false), 0, "unseal of an unsealed file: 0 (no-op)");
	is_int(enrp_ingest_unseal(ing, NO_INO, false), -ENOENT, "unseal of no such inode: -ENOENT");
	is_int(enrp_ingest_unseal(ing, e.root_ino, false), 0, "unseal of a directory: 0 (no-op)");

	/* Sealed again, unchanged: same checksum, chunks found again. */
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed again");
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && memcmp(s.sha256, sha_x, 32) == 0, "same sha256");
	struct enrp_eir_usage u3 = usage_of(st, e.id);
	ok(u3.stored == u1.stored && u3.chunks == u1.chunks, "same stored bytes and chunks");

	/* Unseal with truncation. */
	is_int(enrp_ingest_unseal(ing, f, true), 0, "unseal (truncate)");
	s = attr_of(st, f);
	ok(s.content == ENRP_CONTENT_SPOOL && s.state == ENRP_FILE_OPEN && s.st.st_size == 0,
	   "an empty open spool file");
	is_int(spool_size(st, f), 0, "spool file size 0");
	struct enrp_eir_usage u4 = usage_of(st, e.id);
	ok(u4.bytes == 0 && u4.stored == u3.stored, "usage.bytes dropped; trash keeps the chunks");
	purge_trash(st, "un");
	u4 = usage_of(st, e.id);
	ok(u4.bytes == 0 && u4.stored == 0 && u4.chunks == 0, "purged: usage dropped to nothing");

	/* New bytes: sealed with the new checksum. */
	put_bytes(st, f, y, ny, 0);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed with new bytes");
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && s.st.st_size == (off_t)ny && sha_is(&s, y, ny),
	   "new size and the new SHA-256");
	ok(reads_back(ing, f, y, ny), "reads back the new bytes");
	struct enrp_eir_usage u5 = usage_of(st, e.id);
	ok(u5.bytes == ny && u5.chunks == distinct_chunks(y, ny), "usage follows the new bytes");

	/* A second file sharing f's chunks, then everything deleted. */
	uint64_t g = new_file(st, e.root_ino, "g", y, ny);
	uint64_t h = new_file(st, e.root_ino, "h", x, 300 * KiB);
	enrp_ingest_enqueue(ing, g);
	enrp_ingest_enqueue(ing, h);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "g and h sealed");
	is_int(extents_of(st, f, &ex), 0, "f's chunk list");
	ok(ex.n > 0 && refs_of(st, e.id, ex.v[0].digest) == 2, "g shares f's chunks: 2 references");
	uint64_t u5_bytes = usage_of(st, e.id).bytes;
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "f", false), 0, "unlink f");
	struct enrp_eir_usage u6 = usage_of(st, e.id);
	is_int(u6.bytes, u5_bytes, "an orphan's bytes stay charged until it is freed");
	ok(u6.chunks == distinct_chunks(y, ny) + distinct_chunks(x, 300 * KiB),
	   "its chunks stay counted until it is forgotten");
	is_int(enrp_ns_forget(st, f), 0, "forget f");
	is_int(usage_of(st, e.id).bytes, ny + 300 * KiB, "freed: now its bytes leave usage.bytes");
	ok(ex.n > 0 && refs_of(st, e.id, ex.v[0].digest) == 2, "f's trash entry keeps its reference");
	purge_trash(st, "un");
	ok(ex.n > 0 && refs_of(st, e.id, ex.v[0].digest) == 1, "purged: one reference left");
	free(ex.v);
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "g", false), 0, "unlink g");
	is_int(enrp_ns_forget(st, g), 0, "forget g");
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "h", false), 0, "unlink h");
	is_int(enrp_ns_forget(st, h), 0, "forget h");
	purge_trash(st, "un");
	struct enrp_eir_usage u7 = usage_of(st, e.id);
	ok(u7.bytes == 0 && u7.stored == 0 && u7.chunks == 0,
	   "every sealed file deleted: bytes 0, stored 0, chunks 0");

	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(x);
	free(y);
}

/* ---- deduplication ---- */

static void dedup(void)
{
	enrp_store *st = store_new("dedup", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir a, b;
	make_eir(st, "da", 3, &a);
	make_eir(st, "db", 3, &b);
	const size_t n = 3 * MiB;
	uint8_t *p = random_buf(n, 9);
	size_t distinct = distinct_chunks(p, n);
	ok(distinct >= 4, "3 MiB cut into several chunks (%zu)", distinct);
	enrp_ingest *ing = ingest(st, v, 2, 0);

	uint64_t f1 = new_file(st, a.root_ino, "one", p, n);
	enrp_ingest_enqueue(ing, f1);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "first copy sealed");
	struct enrp_eir_usage one = usage_of(st, a.id);
	is_int(one.chunks, distinct, "one copy: chunks = distinct chunks");
	ok(one.stored > n && one.stored < n + n / 50, "stored is about one copy (%llu)",
	   (unsigned long long)one.stored);

	uint64_t f2 = new_file(st, a.root_ino, "two", p, n);
	enrp_ingest_enqueue(ing, f2);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "second copy sealed");
	struct enrp_eir_usage two = usage_of(st, a.id);
	is_int(two.chunks, one.chunks, "two copies in one EIR: same number of chunks");
	is_int(two.stored, one.stored, "and the same stored bytes");
	is_int(two.bytes, 2 * n, "but twice the logical bytes");
	is_int(chunk_files(st, a.id), distinct, "one chunk file per distinct chunk");
	struct enrp_stat s1 = attr_of(st, f1), s2 = attr_of(st, f2);
	ok(memcmp(s1.sha256, s2.sha256, 32) == 0 && s2.state == ENRP_FILE_VERIFIED,
	   "both verified with one checksum");
	ok(reads_back(ing, f2, p, n), "the deduplicated copy reads back");

	uint64_t f3 = new_file(st, b.root_ino, "three", p, n);
	enrp_ingest_enqueue(ing, f3);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a copy in another EIR sealed");
	struct enrp_eir_usage ub = usage_of(st, b.id);
	is_int(ub.chunks, distinct, "the other EIR counts its own chunks");
	is_int(ub.stored, one.stored, "and its own stored bytes");
	is_int(chunk_files(st, b.id), distinct, "in its own chunk directory");
	struct enrp_eir_usage ua = usage_of(st, a.id);
	ok(ua.chunks == two.chunks && ua.stored == two.stored, "the first EIR is unchanged");

	/* Identical chunks inside one file (a repeated block). */
	uint8_t *rep = malloc(2 * n);
	memcpy(rep, p, n);
	memcpy(rep + n, p, n);
	uint64_t f4 = new_file(st, b.root_ino, "twice", rep, 2 * n);
	enrp_ingest_enqueue(ing, f4);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a file holding the data twice sealed");
	struct enrp_stat s4 = attr_of(st, f4);
	ok(s4.state == ENRP_FILE_VERIFIED && sha_is(&s4, rep, 2 * n), "verified");
	ok(reads_back(ing, f4, rep, 2 * n), "reads back");
	ub = usage_of(st, b.id);
	is_int(ub.chunks, distinct_chunks(rep, 2 * n), "chunks: only the new ones at the seam");
	is_int(enrp_ns_unlink(st, &user, b.root_ino, "three", false), 0, "unlink three");
	is_int(enrp_ns_forget(st, f3), 0, "forget three");
	is_int(enrp_ns_unlink(st, &user, b.root_ino, "twice", false), 0, "unlink twice");
	is_int(enrp_ns_forget(st, f4), 0, "forget twice");
	purge_trash(st, "db");
	ub = usage_of(st, b.id);
	ok(ub.chunks == 0 && ub.stored == 0, "repeated references are all released");
	free(rep);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
}

/* ---- reader ---- */

/* Reads LEN at OFF and compares with SRC (SIZE bytes).  Failures are
 * counted, the first one described. */
static int read_check(enrp_reader *r, const uint8_t *src, size_t size, uint64_t off, size_t len,
                      uint8_t *buf, char *why, size_t whysz)
{
	ssize_t want = off >= size ? 0 : (ssize_t)(len < size - off ? len : size - off);
	memset(buf, 0xA5, len ? len : 1);
	ssize_t got = enrp_reader_read(r, buf, len, off);
	if (got == want && (want == 0 || memcmp(buf, src + off, (size_t)want) == 0))
		return 0;
	if (why && !why[0])
		snprintf(why, whysz, "read(off=%llu, len=%zu) = %zd, want %zd%s",
		         (unsigned long long)off, len, got, want, got == want ? " (bytes differ)" : "");
	return 1;
}

struct reader_thread {
	enrp_reader *r;
	const uint8_t *src;
	size_t size;
	uint64_t seed;
	int fails;
};

static void *reader_thread_main(void *arg)
{
	struct reader_thread *t = arg;
	uint8_t *buf = malloc(3 * MiB);
	uint64_t x = t->seed;
	for (int i = 0; i < tap_reps(150); i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t off = (x >> 20) % (t->size + 100);
		size_t len = (size_t)((x >> 7) % (3 * MiB));
		t->fails += read_check(t->r, t->src, t->size, off, len, buf, NULL, 0);
	}
	free(buf);
	return NULL;
}

static void reader(void)
{
	enrp_store *st = store_new("reader", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "rd", 1, &e);
	const size_t n = 6 * MiB + 4321;
	uint8_t *p = random_buf(n, 10);
	memset(p + 2 * MiB, 0, 2500 * KiB); /* a run with no cut points: max-size chunks */
	enrp_ingest *ing = ingest(st, v, 1, 0);
	uint64_t f = new_file(st, e.root_ino, "big", p, n);
	uint64_t open_f = new_file(st, e.root_ino, "open", p, 10);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	struct ext_args ex;
	is_int(extents_of(st, f, &ex), 0, "chunk list");
	ok(ex.n >= 8, "a multi-chunk file (%zu chunks)", ex.n);
	struct enrp_cdc_params cdc;
	enrp_cdc_defaults(&cdc);
	bool maxcut = false;
	for (size_t i = 0; i < ex.n; i++)
		maxcut |= ex.v[i].plain_len == cdc.max_size;
	ok(maxcut, "the zero run is cut at max_size");
	enrp_ingest_close(ing);

	enrp_reader *r;
	uint8_t *buf = malloc(8 * MiB);
	char why[200];
	/* Default cache, then a cache smaller than some chunks (evictions, and
	 * chunks too large to cache at all); each without read-ahead and with
	 * 8 decoders racing the readers for the same chunks. */
	const size_t caches[4] = { 0, 2 * MiB + 100, 0, 2 * MiB + 100 };
	const unsigned decoders[4] = { 0, 0, 8, 8 };
	for (int pass = 0; pass < 4; pass++) {
		ing = ingest_with(st, v, 0, caches[pass], decoders[pass]);
		is_int(enrp_reader_open(ing, f, &r), 0, "[cache %zu, %u decoders] reader_open", caches[pass],
		       decoders[pass]);
		int fails = 0;
		why[0] = '\0';
		uint64_t off = 0;
		for (size_t i = 0; i <= ex.n; i++) {
			const size_t lens[] = { 1, 2, 4096, 300 * KiB };
			for (int d = -1; d <= 1; d++) {
				if (off == 0 && d < 0)
					continue;
				for (size_t l = 0; l < 4; l++)
					fails += read_check(r, p, n, off + (uint64_t)d, lens[l], buf, why,
					                    sizeof(why));
			}
			if (i < ex.n)
				off += ex.v[i].plain_len;
		}
		is_int(fails, 0, "[cache %zu, %u decoders] reads at every chunk boundary +-1 %s", caches[pass],
		       decoders[pass], why);
		fails = 0;
		why[0] = '\0';
		off = 0;
		for (size_t i = 0; i + 2 < ex.n; i++) {
			off += ex.v[i].plain_len;
			/* From the middle of chunk i to the middle of chunk i+2. */
			uint64_t from = off - ex.v[i].plain_len / 2;
			size_t len = ex.v[i].plain_len / 2 + ex.v[i + 1].plain_len +
			             ex.v[i + 2].plain_len / 2;
			fails += read_check(r, p, n, from, len, buf, why, sizeof(why));
		}
		is_int(fails, 0, "[cache %zu, %u decoders] reads across two boundaries %s", caches[pass],
		       decoders[pass], why);
		is_int(enrp_reader_read(r, buf, 100, n), 0, "read at EOF: 0");
		is_int(enrp_reader_read(r, buf, 100, n + 1), 0, "read past EOF: 0");
		is_int(enrp_reader_read(r, buf, 100, UINT64_MAX), 0, "read at offset 2^64-1: 0");
		is_int(enrp_reader_read(r, buf, 0, 0), 0, "read of 0 bytes: 0");
		buf[0] = 0;
		ok(enrp_reader_read(r, buf, 100, n - 1) == 1 && buf[0] == p[n - 1],
		   "read at size-1: the last byte");
		ok(enrp_reader_read(r, buf, 8 * MiB, 0) == (ssize_t)n && memcmp(buf, p, n) == 0,
		   "read of everything in one call");
		fails = 0;
		why[0] = '\0';
		uint64_t x = 0x1234 + (uint64_t)pass;
		const int reps = tap_reps(300);
		for (int i = 0; i < reps; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			uint64_t o = (x >> 16) % (n + 50);
			size_t len = (size_t)((x >> 40) % (i % 10 == 0 ? 5 * MiB : 70 * KiB)) + 1;
			fails += read_check(r, p, n, o, len, buf, why, sizeof(why));
		}
		is_int(fails, 0, "[cache %zu, %u decoders] %d random reads match the source %s", caches[pass],
		       decoders[pass], reps, why);

		struct reader_thread t[2] = { { r, p, n, 77 + (uint64_t)pass, 0 },
			                      { r, p, n, 99 + (uint64_t)pass, 0 } };
		pthread_t th[2];
		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, reader_thread_main, &t[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		is_int(t[0].fails + t[1].fails, 0, "[cache %zu, %u decoders] two threads share a reader",
		       caches[pass], decoders[pass]);
		enrp_reader_close(r);
		enrp_ingest_close(ing);
	}

	ing = ingest(st, v, 0, 0);
	is_int(enrp_reader_open(ing, open_f, &r), -EINVAL, "reader_open on an unsealed file: -EINVAL");
	is_int(enrp_reader_open(ing, e.root_ino, &r), -EINVAL, "reader_open on a directory: -EINVAL");
	is_int(enrp_reader_open(ing, NO_INO, &r), -ENOENT, "reader_open on no such inode: -ENOENT");
	enrp_reader_close(NULL);
	enrp_ingest_close(ing);
	enrp_ingest_close(NULL);

	free(ex.v);
	free(buf);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
}

/* ---- damage ---- */

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

static void progress_cb(const struct enrp_scrub_result *sofar, uint64_t total, void *arg)
{
	unsigned *calls = arg;
	if (sofar->files <= total)
		calls[0]++;
	calls[1] = (unsigned)total;
}

static void damage(void)
{
	enrp_store *st = store_new("damage", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir d, c;
	make_eir(st, "dmg", 2, &d);
	make_eir(st, "clean", 2, &c);
	const size_t n = 2 * MiB + 999;
	uint8_t *p = random_buf(n, 11), *q = random_buf(n, 12);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	uint64_t f = new_file(st, d.root_ino, "hurt", p, n);
	uint64_t g = new_file(st, d.root_ino, "missing", q, n);
	uint64_t h = new_file(st, c.root_ino, "fine", p, n);
	uint64_t z = new_file(st, c.root_ino, "empty", NULL, 0);
	enrp_ingest_enqueue(ing, f);
	enrp_ingest_enqueue(ing, g);
	enrp_ingest_enqueue(ing, h);
	enrp_ingest_enqueue(ing, z);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "four files sealed");
	enrp_ingest_close(ing);

	struct enrp_scrub_result res;
	unsigned calls[2] = { 0, 0 };
	is_int(enrp_scrub(st, v, NULL, &actor, progress_cb, calls, &res), 0, "scrub before damage");
	ok(res.files == 4 && res.files_damaged == 0 && res.chunks_damaged == 0 &&
	   res.bytes == 3 * n, "no damage: 4 files, 0 damaged");
	ok(calls[0] == 4 && calls[1] == 4, "progress once per file, with the total");
	size_t distinct = distinct_chunks(p, n) + distinct_chunks(q, n);
	/* core/scrub.c remembers verdicts by digest alone, and plain chunk
	 * names are content hashes: "clean"'s copies of f's chunks (other files
	 * in another directory) are never counted, so damage to them would not
	 * be counted either. */
	ok(res.chunks == distinct + distinct_chunks(p, n),
	          "scrub counts each EIR's chunks (%llu, want %zu)", (unsigned long long)res.chunks,
	          distinct + distinct_chunks(p, n));

	struct ext_args ef, eg;
	extents_of(st, f, &ef);
	extents_of(st, g, &eg);
	ok(ef.n >= 3 && eg.n >= 3, "multi-chunk files");
	char path[700], hex[65];
	chunk_path(st, d.id, ef.v[1].digest, path, sizeof(path));
	is_int(flip_byte(path, -1), 0, "flip a byte in the middle of f's second chunk");
	chunk_path(st, d.id, eg.v[eg.n - 1].digest, path, sizeof(path));
	is_int(unlink(path), 0, "remove g's last chunk file");

	/* With decoders: one of them meets the damaged chunk first, after the
	 * first read; it must neither cache it nor report it, the reader must. */
	ing = ingest_with(st, v, 0, 0, 4);
	enrp_reader *r;
	uint8_t *buf = malloc(n);
	is_int(enrp_reader_open(ing, f, &r), 0, "reader on the damaged file");
	ok(enrp_reader_read(r, buf, ef.v[0].plain_len, 0) == (ssize_t)ef.v[0].plain_len &&
	   memcmp(buf, p, ef.v[0].plain_len) == 0, "its first chunk still reads");
	usleep(200 * 1000); /* the decoders have tried chunk 2 by now */
	is_int(attr_of(st, f).state, ENRP_FILE_VERIFIED, "still verified");
	is_int(enrp_reader_read(r, buf, 10, ef.v[0].plain_len + 5), -EIO,
	       "a read in the damaged chunk: -EIO");
	is_int(attr_of(st, f).state, ENRP_FILE_CORRUPT, "the file is now corrupt");
	is_int(enrp_reader_read(r, buf, n, 0), -EIO, "a read across it: -EIO");
	struct jrecs *j = journal_of(st, "chunk-damaged");
	hex_of(ef.v[1].digest, hex);
	ok(j->n == 1 && j->ino[0] == f && strstr(j->details[0], hex) &&
	   strstr(j->details[0], "error=checksum"),
	   "one 'chunk-damaged' record naming inode, chunk and 'checksum'");
	enrp_reader_close(r);
	is_int(enrp_reader_open(ing, g, &r), 0, "reader on the file with a missing chunk");
	is_int(enrp_reader_read(r, buf, n, 0), -EIO, "read: -EIO");
	j = journal_of(st, "chunk-damaged");
	ok(j->n == 2 && j->ino[1] == g && strstr(j->details[1], "error=missing"),
	   "journalled as missing");
	is_int(attr_of(st, g).state, ENRP_FILE_CORRUPT, "corrupt");
	enrp_reader_close(r);
	is_int(enrp_ingest_unseal(ing, f, false), -EIO,
	       "unseal (copy back) of a file with a damaged chunk: -EIO");
	is_int(attr_of(st, f).content, ENRP_CONTENT_SEALED, "and leaves it sealed");
	int urc = enrp_ingest_unseal(ing, g, false);
	/* ingest.h promises -EIO/-EBADMSG; copy_back passes chunk_read's -ENOENT
	 * through (fs/ would answer open(O_WRONLY) of an existing file ENOENT). */
	ok(urc == -EIO, "unseal of a file with a missing chunk: -EIO (got %d)", urc);
	ok(urc < 0, "unseal of a file with a missing chunk fails");
	is_int(attr_of(st, g).content, ENRP_CONTENT_SEALED, "and leaves it sealed");

	enrp_ingest_close(ing);

	calls[0] = calls[1] = 0;
	is_int(enrp_scrub(st, v, "dmg", &actor, progress_cb, calls, &res), 0, "scrub dmg");
	ok(res.files == 2 && res.files_damaged == 2 && res.chunks_damaged == 2,
	   "dmg: 2 files, both damaged, 2 damaged chunks");
	is_int(res.chunks, ef.n + eg.n, "dmg: every chunk counted");
	j = journal_of(st, "scrub-damage");
	ok(j->n == 2 && ((j->ino[0] == f && j->ino[1] == g) || (j->ino[0] == g && j->ino[1] == f)),
	   "one 'scrub-damage' record per damaged file");
	is_int(enrp_scrub(st, v, "clean", &actor, NULL, NULL, &res), 0, "scrub clean");
	ok(res.files == 2 && res.files_damaged == 0 && res.chunks_damaged == 0 && res.bytes == n,
	   "a clean EIR scrubs with zero damage");
	struct enrp_scrub_result no;
	is_int(enrp_scrub(st, v, "nope", &actor, NULL, NULL, &no), -ENOENT, "scrub of no such EIR");

	/* g rewritten: its truncation needs no chunk, and sealing the same
	 * bytes again writes the missing chunk anew. */
	ing = ingest(st, v, 1, 0);
	is_int(enrp_ingest_unseal(ing, g, true), 0, "unseal g with truncation (needs no chunk)");
	is_int(attr_of(st, g).st.st_size, 0, "g is an empty spool file");
	put_bytes(st, g, q, n, 0);
	enrp_ingest_enqueue(ing, g);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "g sealed again");
	struct enrp_stat gs = attr_of(st, g);
	ok(gs.state == ENRP_FILE_VERIFIED && sha_is(&gs, q, n), "g verified");
	enrp_ingest_close(ing);
	ing = ingest(st, v, 0, 0);
	ok(reads_back(ing, g, q, n), "the missing chunk was written again: g reads back");
	enrp_ingest_close(ing);

	/* Only f damaged now. */
	is_int(enrp_scrub(st, v, "dmg", &actor, NULL, NULL, &res), 0, "scrub dmg again");
	ok(res.files == 2 && res.files_damaged == 1 && res.chunks_damaged == 1 &&
	   res.chunks == ef.n + eg.n, "files_damaged=1 chunks_damaged=1");
	j = journal_of(st, "scrub");
	ok(j->n >= 4 && strstr(j->details[j->n - 1], "files_damaged=1 chunks=") &&
	   strstr(j->details[j->n - 1], "chunks_damaged=1"), "the summary is journalled");

	/* New bytes equal to f's, in the same EIR, after the damage is known:
	 * deduplicated against the damaged chunk, so sealed "verified" and
	 * unreadable (core/ingest.c store_chunk() trusts the index, and
	 * core/chunk.c chunk_write() any existing file). */
	ing = ingest(st, v, 1, 0);
	uint64_t f2 = new_file(st, d.root_ino, "hurt-again", p, n);
	enrp_ingest_enqueue(ing, f2);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a new copy of f's bytes sealed");
	enrp_ingest_close(ing);
	enum enrp_file_state f2_state = attr_of(st, f2).state;
	ing = ingest(st, v, 0, 0);
	bool readable = reads_back(ing, f2, p, n);
	enrp_ingest_close(ing);
	ok(readable || f2_state != ENRP_FILE_VERIFIED,
	          "a file sealed after its chunk was found damaged is readable, or not verified");

	/* A frame that is valid but under another chunk's name. */
	uint8_t *s1 = random_buf(10000, 13), *s2 = random_buf(10000, 14);
	enrp_vault_close(v);
	v = vault_plain(st);
	ing = ingest(st, v, 1, 0);
	uint64_t a1 = new_file(st, c.root_ino, "small1", s1, 10000);
	uint64_t a2 = new_file(st, c.root_ino, "small2", s2, 10000);
	enrp_ingest_enqueue(ing, a1);
	enrp_ingest_enqueue(ing, a2);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "two one-chunk files of equal size sealed");
	enrp_ingest_close(ing);
	struct ext_args e1, e2;
	extents_of(st, a1, &e1);
	extents_of(st, a2, &e2);
	char p1[700], p2[700];
	chunk_path(st, c.id, e1.v[0].digest, p1, sizeof(p1));
	chunk_path(st, c.id, e2.v[0].digest, p2, sizeof(p2));
	unlink(p1);
	is_int(link(p2, p1), 0, "replace small1's chunk file with small2's frame");
	is_int(enrp_scrub(st, v, "clean", &actor, NULL, NULL, &res), 0, "scrub clean");
	ok(res.files_damaged == 1 && res.chunks_damaged == 1, "scrub finds the misplaced frame");
	ing = ingest(st, v, 0, 0);
	is_int(enrp_reader_open(ing, a1, &r), 0, "reader on small1");
	ssize_t got = enrp_reader_read(r, buf, 10000, 0);
	/* core/ingest.c load_chunk(): a plain frame is checked by zstd's
	 * checksum only, never against its name. */
	ok(got == -EIO, "reader: a valid frame under another chunk's name is -EIO "
	          "(got %zd%s)", got,
	          got == 10000 && memcmp(buf, s2, 10000) == 0 ? ": small2's bytes" : "");
	enrp_reader_close(r);
	enrp_ingest_close(ing);
	free(e1.v);
	free(e2.v);
	free(s1);
	free(s2);

	free(ef.v);
	free(eg.v);
	free(buf);
	free(p);
	free(q);
	enrp_vault_close(v);
	enrp_store_close(st);
}

/* ---- encryption ---- */

/* Whether any 32-byte window of PLAIN occurs in the file at PATH. */
static bool leaks(const char *path, const uint8_t *plain, size_t n)
{
	enum { W = 32 };
	size_t cap = 1;
	while (cap < 2 * n)
		cap <<= 1;
	uint64_t *tab = calloc(cap, sizeof(*tab)); /* window hash + 1; 0 empty */
	uint32_t *pos = calloc(cap, sizeof(*pos));
	bool found = false;
	uint64_t h;
#define WHASH(p)                                                     \
	do {                                                         \
		h = 1469598103934665603ull;                          \
		for (int k_ = 0; k_ < W; k_++)                       \
			h = (h ^ (p)[k_]) * 1099511628211ull;        \
		h |= 1;                                              \
	} while (0)
	for (size_t i = 0; i + W <= n; i++) {
		WHASH(plain + i);
		size_t s = h & (cap - 1);
		while (tab[s] && tab[s] != h)
			s = (s + 1) & (cap - 1);
		tab[s] = h;
		pos[s] = (uint32_t)i;
	}
	size_t len = 0;
	uint8_t *f = NULL;
	int fd = open(path, O_RDONLY);
	struct stat sb;
	if (fd >= 0 && fstat(fd, &sb) == 0 && (f = malloc((size_t)sb.st_size + 1)))
		len = (size_t)read(fd, f, (size_t)sb.st_size);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; f && !found && i + W <= len; i++) {
		WHASH(f + i);
		size_t s = h & (cap - 1);
		while (tab[s] && tab[s] != h)
			s = (s + 1) & (cap - 1);
		found = tab[s] == h && memcmp(plain + pos[s], f + i, W) == 0;
	}
#undef WHASH
	free(f);
	free(tab);
	free(pos);
	return found;
}

static bool any_chunk_leaks(enrp_store *st, uint32_t eir_id, uint64_t ino, const uint8_t *plain,
                            size_t n, size_t *nchunks)
{
	struct ext_args ex;
	bool any = false;
	*nchunks = 0;
	if (extents_of(st, ino, &ex))
		return true;
	for (size_t i = 0; i < ex.n; i++) {
		char path[700];
		chunk_path(st, eir_id, ex.v[i].digest, path, sizeof(path));
		any |= leaks(path, plain, n);
	}
	*nchunks = ex.n;
	free(ex.v);
	return any;
}

static void encryption(void)
{
	char key[512], key2[512], inside[600], nokey[512];
	snprintf(key, sizeof(key), "%s/master.key", tmp);
	snprintf(key2, sizeof(key2), "%s/other.key", tmp);
	snprintf(nokey, sizeof(nokey), "%s/no-such.key", tmp);
	const size_t n = 1 * MiB + 333;
	uint8_t *p = random_buf(n, 15);

	/* Positive control: an unencrypted store does show the plaintext. */
	enrp_store *st = store_new("plain", GC);
	enrp_vault *v = vault_plain(st);
	bool enc = true;
	char recorded[512] = "x";
	is_int(enrp_vault_info(st, &enc, recorded, sizeof(recorded)), 0, "vault_info (plain)");
	ok(!enc && recorded[0] == '\0', "not encrypted, no key path");
	ok(!enrp_vault_encrypted(v), "the vault of a plain store is not encrypted");
	const struct enrp_eir_key *k = (const void *)1;
	is_int(enrp_vault_eir_key(v, 1, &k), 0, "eir_key of a plain store: 0");
	ok(k == NULL, "and NULL");
	struct enrp_eir e;
	make_eir(st, "pl", 3, &e);
	is_int(enrp_vault_init(st, key2), -EEXIST, "vault_init on a store with EIRs: -EEXIST");
	enrp_ingest *ing = ingest(st, v, 1, 0);
	uint64_t f = new_file(st, e.root_ino, "f", p, n);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed (plain)");
	size_t nch;
	ok(any_chunk_leaks(st, e.id, f, p, n, &nch), "control: plain chunk files hold the plaintext");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);

	snprintf(inside, sizeof(inside), "%s/key", store_path("inside"));
	st = store_new("inside", 0);
	is_int(enrp_vault_init(st, inside), -EINVAL, "vault_init with the key inside the store: -EINVAL");
	enrp_store_close(st);

	st = store_new("crypt", GC);
	is_int(enrp_vault_init(st, key), 0, "vault_init on a fresh store");
	struct stat sb;
	ok(stat(key, &sb) == 0 && (sb.st_mode & 0777) == 0400 && sb.st_size == 32,
	   "the key file: 32 bytes, mode 0400");
	is_int(enrp_vault_init(st, key), -EEXIST, "vault_init twice: -EEXIST");
	is_int(enrp_vault_init(st, key2), -EEXIST, "vault_init again with another key: -EEXIST");
	char real[512];
	ok(realpath(key, real) != NULL, "realpath");
	is_int(enrp_vault_info(st, &enc, recorded, sizeof(recorded)), 0, "vault_info");
	ok(enc, "encrypted");
	is_str(recorded, real, "the key file path is recorded");
	is_int(enrp_vault_open(st, key2, &v), -EKEYREJECTED, "vault_open with another key: -EKEYREJECTED");
	is_int(enrp_vault_open(st, nokey, &v), -ENOENT, "vault_open with no such key file: -ENOENT");
	chmod(key, 0444);
	is_int(enrp_vault_open(st, key, &v), -EPERM, "a key file others can read: -EPERM");
	chmod(key, 0400);
	is_int(enrp_vault_open(st, NULL, &v), 0, "vault_open with the recorded key");
	ok(enrp_vault_encrypted(v), "the vault is encrypted");
	make_eir(st, "sec", 1, &e);
	ing = ingest(st, v, 1, 0);
	f = new_file(st, e.root_ino, "secret", p, n);
	uint64_t f2 = new_file(st, e.root_ino, "secret2", p, n);
	uint64_t z = new_file(st, e.root_ino, "empty", NULL, 0);
	enrp_ingest_enqueue(ing, f);
	enrp_ingest_enqueue(ing, f2);
	enrp_ingest_enqueue(ing, z);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed (encrypted)");
	struct enrp_stat s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, p, n), "verified with the plaintext SHA-256");
	ok(!any_chunk_leaks(st, e.id, f, p, n, &nch) && nch >= 2,
	   "no chunk file holds any 32-byte window of the plaintext (%zu chunks)", nch);
	struct ext_args ex;
	extents_of(st, f, &ex);
	char path[700];
	uint8_t plain_name[32];
	sha_of(p, ex.n ? ex.v[0].plain_len : 0, plain_name);
	chunk_path(st, e.id, plain_name, path, sizeof(path));
	ok(ex.n && access(path, F_OK) < 0 && memcmp(plain_name, ex.v[0].digest, 32) != 0,
	   "chunk names are keyed (not the SHA-256 of the plaintext)");
	chunk_path(st, e.id, ex.v[0].digest, path, sizeof(path));
	uint8_t hdr[6] = { 0 };
	int fd = open(path, O_RDONLY);
	ok(fd >= 0 && read(fd, hdr, 6) == 6 && memcmp(hdr, "ENRC", 4) == 0 &&
	   hdr[5] == ENRP_CODEC_ENCRYPTED, "the chunk frame is flagged encrypted");
	if (fd >= 0)
		close(fd);
	struct enrp_eir_usage u = usage_of(st, e.id);
	is_int(u.chunks, distinct_chunks(p, n), "two copies dedup under encryption too");
	ok(reads_back(ing, f, p, n), "the reader decrypts");
	ok(reads_back(ing, z, NULL, 0), "the empty file reads back empty");
	enrp_ingest_close(ing);
	enrp_vault_close(v);

	/* A fresh vault (keys unwrapped from the store) reads it too. */
	is_int(enrp_vault_open(st, key, &v), 0, "vault_open with the key file named");
	ing = ingest(st, v, 0, 0);
	ok(reads_back(ing, f2, p, n), "a fresh vault reads the second copy");
	struct enrp_scrub_result res;
	is_int(enrp_scrub(st, v, NULL, &actor, NULL, NULL, &res), 0, "scrub (encrypted)");
	ok(res.files == 3 && res.files_damaged == 0 && res.chunks == distinct_chunks(p, n),
	   "an encrypted store scrubs clean");
	is_int(enrp_ingest_unseal(ing, f2, false), 0, "unseal");
	size_t len = 0;
	bool based = false;
	uint8_t *back = unsealed_bytes(ing, st, f2, &len, &based);
	ok(based && back && len == n && memcmp(back, p, n) == 0,
	   "reads back the plaintext through its base");
	free(back);
	is_int(flip_byte(path, 30), 0, "flip a byte of the GCM tag of the first chunk");
	enrp_ingest_close(ing); /* its cache holds the chunk */
	ing = ingest(st, v, 0, 0);
	enrp_reader *r;
	uint8_t *buf = malloc(n);
	is_int(enrp_reader_open(ing, f, &r), 0, "reader");
	is_int(enrp_reader_read(r, buf, n, 0), -EIO, "a bad tag reads as -EIO");
	struct jrecs *j = journal_of(st, "chunk-damaged");
	ok(j->n == 1 && strstr(j->details[0], "error=checksum"), "journalled as checksum damage");
	enrp_reader_close(r);
	free(buf);
	free(ex.v);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
}

/* ---- edge files ---- */

static void edge_files(void)
{
	enrp_store *st = store_new("edge", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "ed", 2, &e);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	struct enrp_eir_usage u0 = usage_of(st, e.id);

	uint64_t z = new_file(st, e.root_ino, "empty", NULL, 0);
	is_int(enrp_ingest_enqueue(ing, z), 0, "enqueue an empty file");
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "idle");
	struct enrp_stat s = attr_of(st, z);
	char hex[65];
	hex_of(s.sha256, hex);
	is_int(s.state, ENRP_FILE_VERIFIED, "the empty file is verified");
	is_str(hex, EMPTY_SHA, "with the SHA-256 of the empty string");
	struct ext_args ex;
	is_int(extents_of(st, z, &ex), 0, "it has a chunk list");
	is_int(ex.n, 0, "of zero chunks");
	free(ex.v);
	struct enrp_eir_usage u1 = usage_of(st, e.id);
	ok(u1.chunks == u0.chunks && u1.stored == u0.stored, "and stores nothing");
	enrp_reader *r;
	uint8_t buf[16];
	is_int(enrp_reader_open(ing, z, &r), 0, "a reader on it");
	is_int(enrp_reader_read(r, buf, sizeof(buf), 0), 0, "reads 0 bytes");
	enrp_reader_close(r);
	is_int(enrp_ingest_unseal(ing, z, false), 0, "unseal the empty file");
	ok(attr_of(st, z).content == ENRP_CONTENT_SPOOL && spool_size(st, z) == 0,
	   "an empty spool file again");

	uint64_t one = new_file(st, e.root_ino, "one", (const uint8_t *)"x", 1);
	enrp_ingest_enqueue(ing, one);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a 1-byte file sealed");
	extents_of(st, one, &ex);
	ok(ex.n == 1 && ex.v[0].plain_len == 1, "one chunk of one byte");
	free(ex.v);
	ok(reads_back(ing, one, (const uint8_t *)"x", 1), "reads back");

	/* Size beyond the spool file's end (bytes a crash lost): zeros. */
	uint8_t *want = calloc(1, 5000);
	memcpy(want, "hello", 5);
	struct enrp_stat ms;
	is_int(enrp_ns_mknod(st, &user, e.root_ino, "short", S_IFREG | 0644, 0, NULL, &ms), 0,
	       "mknod short");
	put_bytes(st, ms.st.st_ino, (const uint8_t *)"hello", 5, 0);
	is_int(enrp_ns_write_done(st, ms.st.st_ino, 5000, NULL), 0, "size 5000, spool file 5 bytes");
	enrp_ingest_enqueue(ing, ms.st.st_ino);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	s = attr_of(st, ms.st.st_ino);
	ok(s.state == ENRP_FILE_VERIFIED && s.st.st_size == 5000 && sha_is(&s, want, 5000),
	   "a short spool file seals as zeros up to its size");
	ok(reads_back(ing, ms.st.st_ino, want, 5000), "and reads back so");

	/* No spool file at all. */
	is_int(enrp_ns_mknod(st, &user, e.root_ino, "nospool", S_IFREG | 0644, 0, NULL, &ms), 0,
	       "mknod nospool");
	is_int(enrp_ns_write_done(st, ms.st.st_ino, 3000, NULL), 0, "size 3000, no spool file");
	enrp_ingest_enqueue(ing, ms.st.st_ino);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	s = attr_of(st, ms.st.st_ino);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want + 5, 3000), "as 3000 zeros");
	free(want);
	enrp_ingest_close(ing);

	/* Configuration errors. */
	struct enrp_ingest_config bad = { .workers = 0, .zstd_level = 20 };
	enrp_ingest *x = (enrp_ingest *)1;
	is_int(enrp_ingest_open(st, v, &bad, &x), -EINVAL, "zstd_level 20: -EINVAL");
	bad.zstd_level = -1;
	is_int(enrp_ingest_open(st, v, &bad, &x), -EINVAL, "zstd_level -1: -EINVAL");
	bad.zstd_level = 19;
	is_int(enrp_ingest_open(st, v, &bad, &x), 0, "zstd_level 19");
	enrp_ingest_close(x);
	enrp_vault_close(v);
	enrp_store_close(st);

	/* A read-only open (enrpctl) reads sealed files without workers. */
	st = store_reopen("edge", ENRP_STORE_RDONLY);
	v = vault_plain(st);
	ing = ingest(st, v, 0, 0);
	ok(reads_back(ing, one, (const uint8_t *)"x", 1), "a read-only store: reader works");
	struct enrp_ingest_config w = { .workers = 1 };
	is_int(enrp_ingest_open(st, v, &w, &x), -EROFS, "workers on a read-only store: -EROFS");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
}

/* ---- the recorded chunking parameters ---- */

struct cdc_put {
	const char *gear;
	uint32_t min, avg, max;
};

static int cdc_put_fn(enrp_txn *t, void *arg)
{
	struct cdc_put *a = arg;
	struct rec_out o;
	rec_out_init(&o);
	rec_put_u8(&o, REC_VERSION);
	rec_put_u32(&o, a->min);
	rec_put_u32(&o, a->avg);
	rec_put_u32(&o, a->max);
	rec_put_str(&o, a->gear);
	int rc = o.err ? o.err : txn_put(t, DBI_META, "cdc", 3, o.buf, o.len, 0);
	rec_out_release(&o);
	return rc;
}

static void cdc_params(void)
{
	enrp_store *st = store_new("cdc", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_cdc_params d;
	enrp_cdc_defaults(&d);
	enrp_ingest *ing = ingest(st, v, 0, 0);
	enrp_ingest_close(ing);
	struct cdc_put bad = { "another-gear", d.min_size, d.avg_size, d.max_size };
	is_int(enrp_store_write(st, cdc_put_fn, &bad), 0, "record another gear table");
	struct enrp_ingest_config cfg = { 0 };
	is_int(enrp_ingest_open(st, v, &cfg, &ing), -EPROTONOSUPPORT,
	       "a store chunked with another gear table: -EPROTONOSUPPORT");
	struct cdc_put inval = { enrp_cdc_gear_id(), 100, 3, 1 };
	is_int(enrp_store_write(st, cdc_put_fn, &inval), 0, "record invalid sizes");
	is_int(enrp_ingest_open(st, v, &cfg, &ing), -EPROTONOSUPPORT,
	       "invalid recorded sizes: -EPROTONOSUPPORT");
	/* Smaller recorded sizes win over the defaults. */
	struct cdc_put small = { enrp_cdc_gear_id(), 4 * KiB, 16 * KiB, 64 * KiB };
	is_int(enrp_store_write(st, cdc_put_fn, &small), 0, "record small chunk sizes");
	struct enrp_eir e;
	make_eir(st, "cd", 3, &e);
	ing = ingest(st, v, 1, 0);
	uint8_t *p = random_buf(512 * KiB, 16);
	uint64_t f = new_file(st, e.root_ino, "f", p, 512 * KiB);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	struct ext_args ex;
	extents_of(st, f, &ex);
	bool within = ex.n >= 8;
	for (size_t i = 0; i < ex.n; i++)
		within &= ex.v[i].plain_len <= 64 * KiB;
	ok(within, "chunks follow the recorded parameters (%zu chunks, none over 64 KiB)", ex.n);
	free(ex.v);
	ok(reads_back(ing, f, p, 512 * KiB), "reads back");
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
}

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

static void quiet_sink(enum enrp_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("ENRP_TEST_LOG"))
		fprintf(stderr, "log %d: %s\n", (int)level, msg);
}

/* ---- temporary chunk files of a dead writer ---- */

static void touch_at(const char *dir, const char *name)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "partial frame", 13) != 13)
		bail("touch", -errno);
	close(fd);
}

static void tmp_sweep(void)
{
	enrp_store *st = store_new("sweep", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "sw", 2, &e);
	char dir[600], name[64];
	snprintf(dir, sizeof(dir), "%s/chunks/%u/tmp", store_path("sweep"), e.id);
	mkdir(store_path("sweep"), 0700);
	snprintf(name, sizeof(name), "%s/chunks/%u", store_path("sweep"), e.id);
	mkdir(name, 0700);
	is_int(mkdir(dir, 0700), 0, "an EIR's chunk tmp/ directory");
	/* A pid that is surely dead: a child that has exited and been reaped. */
	pid_t dead = fork();
	if (dead == 0)
		raise(SIGKILL);
	waitpid(dead, NULL, 0);
	snprintf(name, sizeof(name), "%d.17", (int)dead);
	touch_at(dir, name);
	char mine[64], live[64];
	snprintf(mine, sizeof(mine), "%d.3", (int)getpid());
	snprintf(live, sizeof(live), "%d.5", (int)getppid());
	touch_at(dir, mine);
	touch_at(dir, live);
	touch_at(dir, "not-a-temp-name");

	enrp_ingest *ing = ingest_with(st, v, 0, 0, 0);
	enrp_ingest_close(ing);
	char path[800];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ok(access(path, F_OK) == 0, "without workers (enrpctl) nothing is swept");
	ing = ingest(st, v, 1, 0);
	ok(access(path, F_OK) < 0 && errno == ENOENT,
	   "a daemon's start removes the temporary chunk file of a dead writer");
	snprintf(path, sizeof(path), "%s/%s", dir, mine);
	ok(access(path, F_OK) == 0, "this process's own temporary files stay");
	snprintf(path, sizeof(path), "%s/%s", dir, live);
	ok(access(path, F_OK) == 0, "a live process's temporary files stay");
	snprintf(path, sizeof(path), "%s/not-a-temp-name", dir);
	ok(access(path, F_OK) == 0, "files not named PID.N stay");
	/* And the pipeline still writes chunks through tmp/ afterwards. */
	const size_t n = 3 * MiB;
	uint8_t *p = random_buf(n, 31);
	uint64_t f = new_file(st, e.root_ino, "after", p, n);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a file sealed after the sweep");
	ok(reads_back(ing, f, p, n), "and reads back");
	enrp_ingest_close(ing);
	free(p);
	enrp_vault_close(v);
	enrp_store_close(st);
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

/* ---- holds and the lock, enforced by the namespace ---- */

static int hold_count_cb(const struct enrp_hold *h, void *arg)
{
	(void)h;
	(*(int *)arg)++;
	return 0;
}

static void holds_and_lock(void)
{
	enrp_store *st = store_new("holds", GC);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e, o;
	make_eir(st, "locked", 2, &e);
	make_eir(st, "open", 2, &o);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	uint8_t *p = random_buf(100 * KiB, 71);
	uint64_t f = new_file(st, e.root_ino, "f", p, 100 * KiB);
	uint64_t g = new_file(st, o.root_ino, "g", p, 100 * KiB);
	uint64_t w = new_file(st, e.root_ino, "w", p, 10);
	enrp_ingest_writer_open(ing, w); /* still being written: never sealed meanwhile */
	enrp_ingest_enqueue(ing, f);
	enrp_ingest_enqueue(ing, g);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	uint32_t days = 9;
	is_int(enrp_hold_lock_get(st, "locked", &days), 0, "lock of a new EIR");
	is_int(days, 0, "is none");
	is_int(enrp_hold_lock_set(st, "locked", 30, &actor), 0, "lock for 30 days");
	is_int(enrp_hold_lock_set(st, "locked", 29, &actor), -EPERM, "a lock cannot be shortened");
	is_int(enrp_hold_lock_set(st, "locked", 36501, &actor), -EINVAL, "nor exceed 100 years");
	is_int(enrp_hold_lock_set(st, "nope", 1, &actor), -ENOENT, "no such EIR: -ENOENT");
	struct stat a;
	struct enrp_stat s;
	memset(&a, 0, sizeof(a));
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "f", false), -EPERM, "locked: unlink -EPERM");
	is_int(enrp_ns_unlink(st, &root_caller, e.root_ino, "f", false), -EPERM, "also for root");
	uint64_t x = new_file(st, e.root_ino, "x", p, 5);
	is_int(enrp_ns_rename(st, &user, e.root_ino, "x", e.root_ino, "f", 0), -EPERM,
	       "locked: rename over it -EPERM");
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_SIZE, &s), -EPERM,
	       "locked: truncate -EPERM");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_WRITE), -EPERM, "locked: open for writing -EPERM");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_READ), 0, "reading is fine");
	a.st_mode = 0600;
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_MODE, &s), 0, "chmod is fine");
	is_int(enrp_ns_rename(st, &user, e.root_ino, "f", e.root_ino, "f2", 0), 0,
	       "renaming the locked file itself is fine");
	is_int(enrp_ns_rename(st, &user, e.root_ino, "x", e.root_ino, "w", 0), 0,
	       "a file never sealed is not locked: renamed over");
	(void)x;
	is_int(enrp_ns_unlink(st, &user, o.root_ino, "g", false), 0, "another EIR's file: unlinked");

	/* Explicit holds. */
	int64_t now = enrp_now_ns(), cur = 0;
	uint64_t h = new_file(st, o.root_ino, "h", p, 1000);
	is_int(enrp_hold_add(st, "open", "h", now + 1000000000000LL, "r", false, &actor, &cur),
	       -EAGAIN, "a file not sealed cannot be held");
	enrp_ingest_enqueue(ing, h);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "h sealed");
	is_int(enrp_hold_add(st, "open", "h", now + 1000000000000LL, "case 7", false, &actor, &cur),
	       0, "hold h");
	is_int(enrp_ns_unlink(st, &root_caller, o.root_ino, "h", false), -EPERM, "held: unlink -EPERM");
	is_int(enrp_hold_add(st, "open", "h", now + 500000000000LL, NULL, true, &actor, &cur), -EPERM,
	       "a hold cannot be shortened");
	ok(cur == now + 1000000000000LL, "and the current end is told");
	is_int(enrp_hold_add(st, "open", "h", now + 2000000000000LL, NULL, true, &actor, &cur), 0,
	       "extended");
	is_int(enrp_hold_add(st, "open", "nope", now + 1000000000LL, "r", false, &actor, &cur),
	       -ENOENT, "no such file: -ENOENT");
	is_int(enrp_hold_add(st, "open", "h/..", now + 1000000000LL, "r", false, &actor, &cur),
	       -ENOTDIR, "through a file: -ENOTDIR");
	is_int(enrp_hold_add(st, "open", "./h", now + 1000000000LL, "r", false, &actor, &cur),
	       -EINVAL, "a '.' component: -EINVAL");
	is_int(enrp_hold_add(st, "open", "h", now - 1, "r", false, &actor, &cur), -EINVAL,
	       "an end in the past: -EINVAL");
	int n = 0;
	is_int(enrp_hold_list(st, NULL, hold_count_cb, &n), 0, "hold list");
	is_int(n, 1, "one hold");
	enrp_ingest_writer_close(ing, w);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
	free(p);
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

/* ---- rewrites at chunk granularity (core/base_int.h) ---- */

/* Counts problems, but not a file a writer has open (not queued while it
 * is: fsck says so itself). */
static void fsck_finding(const struct enrp_fsck_finding *fd, void *arg)
{
	if (fd->severity != ENRP_FSCK_PROBLEM || strcmp(fd->kind, "spool-unqueued") == 0)
		return;
	diag("fsck: %s %s: %s", fd->kind, fd->object, fd->message);
	(*(uint64_t *)arg)++;
}

static uint64_t fsck_problems(enrp_store *st)
{
	struct enrp_fsck_result res;
	uint64_t problems = 0;
	int rc = enrp_fsck(st, 0, &actor, fsck_finding, &problems, &res);
	return rc ? 1000 + (uint64_t)-rc : problems;
}

/* What a writing handle does: prepare, then write into the spool file. */
static int rewrite_at(enrp_reader *r, int fd, const uint8_t *p, size_t n, uint64_t off)
{
	int rc = enrp_reader_prepare_write(r, off, n);
	if (rc == 0)
		pwrite_all(fd, p, n, (off_t)off);
	return rc;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A file rewritten soon after its seal, while other files are being
 * written, settles before it is sealed again; alone, or written once, a
 * file is sealed at once. */
/* A file rewritten soon after each settled seal, while the store is busy,
 * waits twice as long each time; left alone it is sealed at once again. */
static void settling_doubles(void)
{
	enrp_store *st = store_new("settle2", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "sd", 1, &e);
	uint8_t *want = random_buf(64 * 1024, 81);
	struct enrp_ingest_test hooks = { .settle_ns = 400000000LL };
	enrp_ingest_test_hooks(&hooks);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	enrp_ingest_test_hooks(NULL);
	uint64_t f = new_file(st, e.root_ino, "f", want, 4096);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "f sealed");

	double waited[3];
	for (int k = 0; k < 3; k++) {
		char name[16];
		snprintf(name, sizeof(name), "g%d", k);
		enrp_ingest_writer_open(ing, f);
		is_int(enrp_ingest_unseal(ing, f, false), 0, "rewrite %d: f reopened", k);
		put_bytes(st, f, want + 4096 * (k + 1), 4096, 4096 * (uint64_t)(k + 1));
		uint64_t g = new_file(st, e.root_ino, name, want, 1000);
		enrp_ingest_writer_open(ing, g);
		enrp_ingest_writer_close(ing, g);
		double closed = mono_s();
		enrp_ingest_writer_close(ing, f);
		is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "rewrite %d: sealed", k);
		waited[k] = mono_s() - closed;
		struct enrp_stat s = attr_of(st, f);
		ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, 4096 * (uint64_t)(k + 2)),
		   "rewrite %d: with its SHA-256", k);
	}
	ok(waited[0] >= 0.4, "first settle waits its 0.4 s (%.2f s)", waited[0]);
	ok(waited[1] >= 0.8, "rewritten soon after: waits twice that (%.2f s)", waited[1]);
	ok(waited[2] >= 1.6, "and again twice (%.2f s)", waited[2]);

	/* Rewritten with nothing else being written: at once. */
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "f reopened, store idle");
	put_bytes(st, f, want, 4096, 0);
	usleep(500000);
	double closed = mono_s();
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	ok(mono_s() - closed < 0.4, "at once (%.2f s)", mono_s() - closed);
	is_int(fsck_problems(st), 0, "fsck: consistent");
	free(want);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
}

static void settling(void)
{
	enrp_store *st = store_new("settle", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "se", 1, &e);
	uint8_t *want = random_buf(300 * 1024, 79);
	struct enrp_ingest_test hooks = { .settle_ns = 4000000000LL };
	enrp_ingest_test_hooks(&hooks);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	enrp_ingest_test_hooks(NULL);
	uint64_t f = new_file(st, e.root_ino, "f", want, 100 * 1024);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "f sealed");

	/* Rewritten at once, closed just after another file: it settles. */
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "f reopened for writing");
	put_bytes(st, f, want + 100 * 1024, 100 * 1024, 100 * 1024);
	uint64_t g = new_file(st, e.root_ino, "g", want, 70 * 1024);
	enrp_ingest_writer_open(ing, g);
	enrp_ingest_writer_close(ing, g);
	double closed = mono_s();
	enrp_ingest_writer_close(ing, f);
	usleep(1000000);
	is_int(attr_of(st, f).state, ENRP_FILE_PENDING, "a second later f still settles");
	is_int(attr_of(st, g).state, ENRP_FILE_VERIFIED, "while g, written once, is verified");
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "then f is sealed");
	struct enrp_stat s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, 200 * 1024),
	   "with the SHA-256 of its 200 KiB");
	ok(mono_s() - closed >= 4.0, "no sooner than it had settled (%.1f s)", mono_s() - closed);

	/* Rewritten again with nothing else written: sealed at once. */
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "f reopened for writing");
	put_bytes(st, f, want + 200 * 1024, 100 * 1024, 200 * 1024);
	usleep(100000);
	closed = mono_s();
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed");
	ok(mono_s() - closed < 4.0, "at once, nothing else being written (%.1f s)",
	   mono_s() - closed);
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, 300 * 1024), "with its SHA-256");

	/* A settling file removed: nothing is left waiting for it. */
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, true), 0, "f truncated");
	enrp_ingest_writer_open(ing, g);
	is_int(enrp_ingest_unseal(ing, g, true), 0, "g truncated");
	enrp_ingest_writer_close(ing, g);
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "f", false), 0, "f removed while it settles");
	is_int(enrp_ns_forget(st, f), 0, "and freed");
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "the queue empties");
	is_int(fsck_problems(st), 0, "fsck: consistent");

	free(want);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
}

/* The lowest position a seal of WATCH reported (its first step). */
struct first_step {
	uint64_t watch;
	_Atomic uint64_t first;
};

static void first_step_hook(uint64_t ino, uint64_t done, void *arg)
{
	struct first_step *f = arg;
	uint64_t cur = atomic_load(&f->first);
	while (ino == f->watch && done < cur && !atomic_compare_exchange_weak(&f->first, &cur, done))
		;
}

/* A reseal resumes from the SHA-256 state its seal saved before the first
 * change: a 1-byte write late in the file, and an append, hash only what
 * follows; without the states (another daemon) the whole file is sealed
 * again; every outcome has the SHA-256 of the bytes. */
static void reseal_resumes(void)
{
	enrp_store *st = store_new("resume", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "rs", 1, &e);
	const size_t n = 20 * MiB, more = 3000;
	uint8_t *want = random_buf(n + more, 78);
	struct first_step fs = { .first = UINT64_MAX };
	struct enrp_ingest_test hooks = { .step = first_step_hook, .arg = &fs };
	enrp_ingest_test_hooks(&hooks);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	enrp_ingest_test_hooks(NULL);
	uint64_t f = new_file(st, e.root_ino, "f", want, n);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a 20 MiB file sealed");
	struct ext_args ex_sealed;
	is_int(extents_of(st, f, &ex_sealed), 0, "its chunk list");

	/* One byte at 18 MiB: the seal starts past the state before it. */
	fs.watch = f;
	atomic_store(&fs.first, UINT64_MAX);
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "unsealed");
	int fd = enrp_spool_open(st, f, 0);
	enrp_reader *r = NULL;
	is_int(enrp_reader_open_based(ing, f, fd, &r), 0, "a based reader");
	want[18 * MiB] ^= 0x77;
	is_int(rewrite_at(r, fd, want + 18 * MiB, 1, 18 * MiB), 0, "1 byte at 18 MiB");
	enrp_reader_close(r);
	close(fd);
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed again");
	struct enrp_stat s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, n), "with the SHA-256 of the bytes");
	ok(reads_back(ing, f, want, n), "and reads back");
	uint64_t first = atomic_load(&fs.first);
	ok(first > 8 * MiB && first <= 18 * MiB,
	   "the reseal began past 8 MiB, at a state before the change (first step at %llu)",
	   (unsigned long long)first);
	struct ext_args before = ex_sealed, after;
	is_int(extents_of(st, f, &after), 0, "the new chunk list");
	size_t kept = 0;
	for (size_t i = 0; i < after.n; i++)
		for (size_t k = 0; k < before.n; k++)
			if (after.v[i].plain_len && before.v[k].plain_len == after.v[i].plain_len &&
			    memcmp(before.v[k].digest, after.v[i].digest, 32) == 0) {
				kept++;
				break;
			}
	ok(after.n >= before.n - 1 && kept + 2 >= after.n,
	   "all but the changed chunk are the old ones (%zu of %zu; %zu before)", kept, after.n,
	   before.n);
	free(after.v);
	free(before.v);

	/* An append: hashed from the end. */
	atomic_store(&fs.first, UINT64_MAX);
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "unsealed for an append");
	put_bytes(st, f, want + n, more, n);
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed again");
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, n + more),
	   "with the SHA-256 of all %zu bytes", n + more);
	ok(reads_back(ing, f, want, n + more), "and reads back");
	first = atomic_load(&fs.first);
	ok(first >= n - 2 * MiB && first <= n + more,
	   "the append's seal hashed only the last chunk and what was appended (first step at %llu)",
	   (unsigned long long)first);
	struct ext_args ex;
	is_int(extents_of(st, f, &ex), 0, "its chunk list");
	bool tiny = false;
	for (size_t i = 0; i + 1 < ex.n; i++)
		tiny |= ex.v[i].plain_len && ex.v[i].plain_len < 64 * 1024;
	ok(!tiny && ex.n > 0 && extent_len(&ex.v[ex.n - 1]) >= more,
	   "no chunk but the last is under the minimum (%zu chunks)", ex.n);
	free(ex.v);
	is_int(fsck_problems(st), 0, "fsck: references add up");

	/* Cut short, then a byte changed near the start: no tail to take
	 * over, a state only before the change. */
	atomic_store(&fs.first, UINT64_MAX);
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "unsealed");
	struct stat cut = { .st_size = 15 * MiB };
	is_int(enrp_ns_setattr(st, &user, f, &cut, ENRP_SETATTR_SIZE, NULL), 0, "cut to 15 MiB");
	fd = enrp_spool_open(st, f, 0);
	is_int(enrp_reader_open_based(ing, f, fd, &r), 0, "a based reader");
	want[5 * MiB + 3] ^= 0x42;
	is_int(rewrite_at(r, fd, want + 5 * MiB + 3, 1, 5 * MiB + 3), 0, "1 byte at 5 MiB");
	enrp_reader_close(r);
	close(fd);
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed again");
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, 15 * MiB) && reads_back(ing, f, want, 15 * MiB),
	   "with the SHA-256 of its 15 MiB, and reads back");
	first = atomic_load(&fs.first);
	ok(first > 4 * MiB && first <= 5 * MiB + 3 * MiB,
	   "begun at the state before 5 MiB (first step at %llu)", (unsigned long long)first);
	is_int(fsck_problems(st), 0, "fsck: references add up");

	/* Grown back with new bytes past the cut, and a byte changed before:
	 * the base's end is not the file's, so nothing past the change is
	 * taken over from it. */
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "unsealed");
	fd = enrp_spool_open(st, f, 0);
	is_int(enrp_reader_open_based(ing, f, fd, &r), 0, "a based reader");
	want[10 * MiB] ^= 0x24;
	is_int(rewrite_at(r, fd, want + 10 * MiB, 1, 10 * MiB), 0, "1 byte at 10 MiB");
	is_int(rewrite_at(r, fd, want + 15 * MiB, n + more - 15 * MiB, 15 * MiB), 0,
	       "and the rest written back past 15 MiB");
	enrp_reader_close(r);
	close(fd);
	struct stat grown = { .st_size = (off_t)(n + more) };
	is_int(enrp_ns_setattr(st, &user, f, &grown, ENRP_SETATTR_SIZE, NULL), 0, "its size");
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed again");
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, n + more) &&
	   reads_back(ing, f, want, n + more), "with the SHA-256 of all its bytes, and reads back");
	is_int(fsck_problems(st), 0, "fsck: references add up");

	/* Another daemon has no states: a change at 1 MiB seals it all. */
	enrp_ingest_close(ing);
	enrp_ingest_test_hooks(&hooks);
	ing = ingest(st, v, 1, 0);
	enrp_ingest_test_hooks(NULL);
	atomic_store(&fs.first, UINT64_MAX);
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "unsealed in another daemon");
	fd = enrp_spool_open(st, f, 0);
	is_int(enrp_reader_open_based(ing, f, fd, &r), 0, "a based reader");
	want[n - 5] ^= 0x11;
	is_int(rewrite_at(r, fd, want + n - 5, 1, n - 5), 0, "1 byte near the old end");
	enrp_reader_close(r);
	close(fd);
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed again");
	s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, n + more), "with the right SHA-256");
	first = atomic_load(&fs.first);
	ok(first < 4 * MiB, "from the start (first step at %llu)", (unsigned long long)first);
	is_int(fsck_problems(st), 0, "fsck: references add up");

	free(want);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
}

static void rewrites(void)
{
	enrp_store *st = store_new("rewrite", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "rw", 1, &e);
	const size_t n = 6 * MiB;
	uint8_t *want = random_buf(n, 77);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	uint64_t f = new_file(st, e.root_ino, "f", want, n);
	enrp_ingest_enqueue(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a 6 MiB file sealed");
	struct ext_args ex0;
	is_int(extents_of(st, f, &ex0), 0, "its chunk list");
	ok(ex0.n >= 4, "of several chunks (%zu)", ex0.n);

	/* Open for writing: nothing is copied. */
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "unseal");
	ok(spool_blocks(st, f) < 64 * 1024, "the spool file holds nothing yet (%lld bytes)",
	   (long long)spool_blocks(st, f));
	int fd = enrp_spool_open(st, f, 0);
	enrp_reader *r = NULL;
	is_int(enrp_reader_open_based(ing, f, fd, &r), 0, "a based reader");
	enrp_reader *other = NULL;
	int fd2 = enrp_spool_open(st, f, 0);
	is_int(enrp_reader_open_based(ing, f, fd2, &other), 0, "and a second one, for a reader");

	/* One byte in the middle: one chunk is copied in. */
	uint64_t mid = n / 2 + 17;
	want[mid] ^= 0x5a;
	is_int(rewrite_at(r, fd, want + mid, 1, mid), 0, "a 1-byte write in the middle");
	int64_t held = spool_blocks(st, f);
	ok(held > 0 && held < 3 * MiB, "the spool file holds about one chunk (%lld bytes)",
	   (long long)held);
	uint8_t *got = malloc(n);
	ok(enrp_reader_read(other, got, n, 0) == (ssize_t)n && memcmp(got, want, n) == 0,
	   "another reader sees the file with the byte changed");
	/* Writes across a chunk boundary and at the very start. */
	for (size_t i = 0; i < 3000; i++)
		want[i] = (uint8_t)i;
	is_int(rewrite_at(r, fd, want, 3000, 0), 0, "3000 bytes at the start");
	uint64_t b = 0;
	for (size_t i = 0; i + 1 < ex0.n && b < n / 3; i++)
		b += ex0.v[i].plain_len ? ex0.v[i].plain_len : ex0.v[i].zeros;
	for (size_t i = 0; i < 100; i++)
		want[b - 50 + i] = 0xee;
	is_int(rewrite_at(r, fd, want + b - 50, 100, b - 50), 0, "100 bytes across a chunk boundary");
	ok(enrp_reader_read(r, got, n, 0) == (ssize_t)n && memcmp(got, want, n) == 0,
	   "reads back with every change");
	ok(enrp_reader_read(other, got + 5, 4096, mid - 2000) == 4096 &&
	   memcmp(got + 5, want + mid - 2000, 4096) == 0, "a read inside a copied chunk");

	/* Cut to 4 MiB and grown back: the cut bytes read as zeros. */
	struct stat attr = { .st_size = 4 * MiB };
	is_int(enrp_ns_setattr(st, &user, f, &attr, ENRP_SETATTR_SIZE, NULL), 0, "truncate to 4 MiB");
	attr.st_size = (off_t)n;
	is_int(enrp_ns_setattr(st, &user, f, &attr, ENRP_SETATTR_SIZE, NULL), 0, "and back to 6 MiB");
	memset(want + 4 * MiB, 0, n - 4 * MiB);
	ok(enrp_reader_read(other, got, n, 0) == (ssize_t)n && memcmp(got, want, n) == 0,
	   "what was cut off reads as zeros, the rest as before");
	want[4 * MiB + 1000] = 7;
	is_int(rewrite_at(r, fd, want + 4 * MiB + 1000, 1, 4 * MiB + 1000), 0,
	       "a write past the cut");
	ok(enrp_reader_read(other, got, n, 0) == (ssize_t)n && memcmp(got, want, n) == 0,
	   "copies in nothing of what was cut");
	is_int(fsck_problems(st), 0, "fsck: a rewrite in progress is consistent");

	/* Sealed again: the new list, the base gone, every reference right. */
	enrp_ingest_writer_close(ing, f);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "sealed again");
	struct enrp_stat s = attr_of(st, f);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, n), "verified, with the new SHA-256");
	ok(reads_back(ing, f, want, n), "and reads back");
	ok(enrp_reader_read(other, got, n, 0) == (ssize_t)n && memcmp(got, want, n) == 0,
	   "a based reader opened before reads the sealed file");
	is_int(fsck_problems(st), 0, "fsck: the base is gone, references add up");
	enrp_reader_close(other);
	enrp_reader_close(r);
	close(fd);
	close(fd2);

	/* A rewrite removed before it is sealed lets go of its base. */
	uint64_t g = new_file(st, e.root_ino, "g", want, 2 * MiB);
	enrp_ingest_enqueue(ing, g);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "g sealed");
	enrp_ingest_writer_open(ing, g);
	is_int(enrp_ingest_unseal(ing, g, false), 0, "g unsealed");
	fd = enrp_spool_open(st, g, 0);
	is_int(enrp_reader_open_based(ing, g, fd, &r), 0, "g's based reader");
	is_int(rewrite_at(r, fd, want, 10, 5000), 0, "g written");
	enrp_reader_close(r);
	close(fd);
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "g", false), 0, "g removed");
	enrp_ingest_writer_close(ing, g);
	is_int(enrp_ns_forget(st, g), 0, "and freed");
	is_int(fsck_problems(st), 0, "fsck: its base went with it");
	purge_trash(st, "rw");
	is_int(fsck_problems(st), 0, "fsck after the trash is purged");

	/* The unseal does not wait for its new spool file to reach the disk:
	 * a crash may keep the commit and lose the file, written bytes and
	 * all.  The next mount makes it again, and the file reads as before. */
	uint64_t k = new_file(st, e.root_ino, "k", want, 3 * MiB);
	enrp_ingest_enqueue(ing, k);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "k sealed");
	enrp_ingest_writer_open(ing, k);
	is_int(enrp_ingest_unseal(ing, k, false), 0, "k unsealed");
	fd = enrp_spool_open(st, k, 0);
	is_int(enrp_reader_open_based(ing, k, fd, &r), 0, "k's based reader");
	uint8_t junk[64];
	memset(junk, 0xab, sizeof(junk));
	is_int(rewrite_at(r, fd, junk, sizeof(junk), 1000), 0, "k written (not fsync'd)");
	enrp_reader_close(r);
	close(fd);
	enrp_ingest_writer_close(ing, k);
	enrp_ingest_close(ing); /* the daemon is gone; the seal never ran */
	is_int(enrp_store_sync(st), 0, "the unseal and the mark are durable");
	char kname[SPOOL_NAME_LEN + 1];
	spool_name(kname, k);
	is_int(unlinkat(store_spool_dirfd(st), kname, 0), 0, "the crash took k's spool file");
	uint64_t lost_orphans, lost_spools;
	is_int(enrp_ns_recover(st, &lost_orphans, &lost_spools), 0, "the next mount's recovery");
	is_int(spool_size(st, k), 3 * MiB, "k has a spool file of its size again");
	ing = ingest(st, v, 1, 0);
	size_t klen = 0;
	bool kbased = false;
	uint8_t *kback = unsealed_bytes(ing, st, k, &klen, &kbased);
	ok(kbased && kback && klen == 3 * MiB && memcmp(kback, want, 3 * MiB) == 0,
	   "and reads as before the rewrite, through its base");
	free(kback);
	is_int(fsck_problems(st), 0, "fsck: consistent");
	enrp_ingest_enqueue(ing, k);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "k sealed again");
	s = attr_of(st, k);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, 3 * MiB),
	   "with the SHA-256 of before the rewrite");

	/* A damaged base chunk: the read that needs it and the write that
	 * would copy it fail with EIO. */
	uint64_t h = new_file(st, e.root_ino, "h", want, 3 * MiB);
	enrp_ingest_enqueue(ing, h);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "h sealed");
	struct ext_args exh;
	is_int(extents_of(st, h, &exh), 0, "h's chunk list");
	enrp_ingest_close(ing); /* its cache holds h's chunks */
	ing = ingest(st, v, 1, 0);
	enrp_ingest_writer_open(ing, h);
	is_int(enrp_ingest_unseal(ing, h, false), 0, "h unsealed");
	char path[700];
	chunk_path(st, e.id, exh.v[0].digest, path, sizeof(path));
	is_int(flip_byte(path, 40), 0, "damage h's first chunk");
	fd = enrp_spool_open(st, h, 0);
	is_int(enrp_reader_open_based(ing, h, fd, &r), 0, "h's based reader");
	is_int((int)enrp_reader_read(r, got, 100, 10), -EIO, "a read of the damaged chunk: -EIO");
	is_int(enrp_reader_prepare_write(r, 10, 1), -EIO, "a write into it: -EIO");
	ok(enrp_reader_read(r, got, 100, 3 * MiB - 100) == 100 &&
	   memcmp(got, want + 3 * MiB - 100, 100) == 0, "the rest still reads");
	enrp_reader_close(r);
	close(fd);
	enrp_ingest_writer_close(ing, h);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "its seal gave up");
	s = attr_of(st, h);
	ok(s.content == ENRP_CONTENT_SPOOL && s.state == ENRP_FILE_CORRUPT,
	   "h is counted corrupt, out of the queue (content %d, state %d)", s.content, s.state);
	attr.st_size = 0;
	is_int(enrp_ns_setattr(st, &user, h, &attr, ENRP_SETATTR_SIZE, NULL), 0, "h emptied");
	is_int(attr_of(st, h).state, ENRP_FILE_OPEN, "no longer corrupt");
	put_bytes(st, h, want, 1000, 0);
	enrp_ingest_enqueue(ing, h);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "written anew");
	s = attr_of(st, h);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, 1000), "and verified");
	free(exh.v);

	free(ex0.v);
	free(got);
	free(want);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	enrp_log_set_sink(quiet_sink, NULL, ENRP_LOG_DEBUG);
	enrp_actor_self(&actor, "test_ingest");

	queue_order();
	durability();
	verified_survives();
	startup_requeue();
	writers();
	queue_after_full_disk();
	stale_data();
	unseal_and_usage();
	dedup();
	reader();
	damage();
	encryption();
	edge_files();
	cdc_params();
	pooled();
	sharing();
	abandon();
	holes();
	older_queue();
	gc_races();
	holds_and_lock();
	tmp_sweep();
	rewrites();
	reseal_resumes();
	settling();
	settling_doubles();

	pthread_mutex_lock(&gate_mu);
	ok(syncfs_calls > 0, "the syncfs gate saw the pipeline's chunk syncs (%u)", syncfs_calls);
	pthread_mutex_unlock(&gate_mu);
	tap_rmrf(tmp);
	return done_testing();
}
