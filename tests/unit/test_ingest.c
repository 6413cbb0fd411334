/*
 * test_ingest.c — the seal pipeline on real stores: the durable queue
 * (class order, then EIR, then time; survives a close and a crash; spool
 * files never queued are queued at start), the writers registry, the
 * generation check (a file changed, reopened or unlinked while it is being
 * sealed is not sealed from stale data), unseal with copy-back and with
 * truncation, chunk reference counts and EIR usage, deduplication within
 * and across EIRs, the sealed-file reader (every chunk boundary, EOF,
 * random reads, a small cache, two threads), damaged chunks (reader,
 * journal, scrub), encryption at rest (vault init/open errors, no
 * plaintext in chunk files), the edge files (empty, sparse, no spool file
 * at all), what was shown verified surviving a crash, and the recorded
 * chunking parameters.  test_ingest_pool and test_ingest_rewrites test the
 * rest of the pipeline; ingest_fixture.h is what they share.
 *
 * Every error is asserted as its exact -errno (STYLE rule 35).
 */

#include "ingest_fixture.h"

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
	if (fd < 0 || pwrite(fd, p, 300 * KiB, 0) != 300 * KiB || enrp_spool_sync(st, s.st.st_ino, fd))
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

	pthread_mutex_lock(&gate_mu);
	ok(gate_passes > 0, "the gate saw the pipeline's seals that wrote chunks (%u)", gate_passes);
	pthread_mutex_unlock(&gate_mu);
	tap_rmrf(tmp);
	return done_testing();
}
