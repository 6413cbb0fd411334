/*
 * test_ingest_rewrites.c — files changed after their seal: holds and the
 * lock enforced by the namespace, temporary chunk files of a dead writer
 * swept, rewrites at chunk granularity (only the chunks written are
 * sealed again), a reseal resumed where it stopped, and the settling of a
 * file rewritten soon after its seal (the wait doubling while it keeps
 * being rewritten).
 *
 * Every error is asserted as its exact -errno (STYLE rule 35).
 */

#include "ingest_fixture.h"

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

/* What a client's open, write of N bytes of P at OFF, and close do to
 * sealed file F (its seal is then queued). */
static void rewrite_sealed(enrp_ingest *ing, enrp_store *st, uint64_t f, const uint8_t *p,
                           size_t n, uint64_t off, const char *what)
{
	enrp_ingest_writer_open(ing, f);
	is_int(enrp_ingest_unseal(ing, f, false), 0, "%s: unsealed", what);
	int fd = enrp_spool_open(st, f, 0);
	enrp_reader *r = NULL;
	is_int(enrp_reader_open_based(ing, f, fd, &r), 0, "%s: a based reader", what);
	is_int(rewrite_at(r, fd, p, n, off), 0, "%s: written", what);
	enrp_reader_close(r);
	close(fd);
	enrp_ingest_writer_close(ing, f);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A pipeline of one worker whose files settle for SETTLE_NS, at most MAX
 * at once (0: as shipped). */
static enrp_ingest *ingest_settling(enrp_store *st, enrp_vault *v, int64_t settle_ns,
                                    unsigned max)
{
	struct enrp_ingest_test hooks = { .settle_ns = settle_ns, .settling_max = max };
	enrp_ingest_test_hooks(&hooks);
	enrp_ingest *ing = ingest(st, v, 1, 0);
	enrp_ingest_test_hooks(NULL);
	return ing;
}

/* Another file of ROOT's EIR, closed and removed at once: removed, it is
 * not sealed whatever the worker did meanwhile, so the EIR is busy at the
 * next close (settle_at_close). */
static void close_removed(enrp_store *st, enrp_ingest *ing, uint64_t root, const char *name,
                          const uint8_t *data)
{
	uint64_t x = new_file(st, root, name, data, 100);
	enrp_ingest_writer_open(ing, x);
	enrp_ingest_writer_close(ing, x);
	if (enrp_ns_unlink(st, &user, root, name, false) || enrp_ns_forget(st, x))
		bail("removing a file that settles", -EIO);
}

/* A file rewritten soon after each settled seal, while its EIR is busy,
 * waits twice as long each time; left alone it is sealed at once again. */
static void settling_doubles(void)
{
	enrp_store *st = store_new("settle2", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "sd", 1, &e);
	uint8_t *want = random_buf(64 * 1024, 81);
	enrp_ingest *ing = ingest_settling(st, v, 400000000LL, 0);
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
		close_removed(st, ing, e.root_ino, name, want);
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

/* A file rewritten soon after its seal, while other files of its EIR are
 * being written, settles before it is sealed again; closed alone in its
 * EIR, a file is sealed at once. */
static void settling(void)
{
	enrp_store *st = store_new("settle", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "se", 1, &e);
	uint8_t *want = random_buf(300 * 1024, 79);
	enrp_ingest *ing = ingest_settling(st, v, 4000000000LL, 0);
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
	close_removed(st, ing, e.root_ino, "x", want);
	double closed = mono_s();
	enrp_ingest_writer_close(ing, f);
	usleep(1000000);
	is_int(attr_of(st, f).state, ENRP_FILE_PENDING, "a second later f still settles");
	is_int(attr_of(st, g).state, ENRP_FILE_VERIFIED, "while g, closed while nothing else of its EIR was, is verified");
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

/* A new file closed while other files of its EIR are being written waits
 * before its seal until it is left alone (it may be replaced, or gone, by
 * then); one closed in a quiet EIR, however busy the others, is sealed at
 * once. */
static void fresh_settling(void)
{
	enrp_store *st = store_new("fresh", 0);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir busy, quiet;
	make_eir(st, "fb", 1, &busy);
	make_eir(st, "fq", 1, &quiet);
	uint8_t *want = random_buf(64 * 1024, 83);
	/* 3 s, as shipped: long against a small file's seal. */
	enrp_ingest *ing = ingest_settling(st, v, 3000000000LL, 0);

	uint64_t a1 = new_file(st, busy.root_ino, "a1", want, 4096);
	enrp_ingest_writer_open(ing, a1);
	double closed = mono_s();
	enrp_ingest_writer_close(ing, a1);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "a1 sealed");
	ok(mono_s() - closed < 3.0, "alone in its EIR: at once (%.2f s)", mono_s() - closed);

	uint64_t a2 = new_file(st, busy.root_ino, "a2", want, 8192);
	uint64_t b1 = new_file(st, quiet.root_ino, "b1", want, 8192);
	close_removed(st, ing, busy.root_ino, "x", want);
	enrp_ingest_writer_open(ing, a2);
	enrp_ingest_writer_close(ing, a2);
	closed = mono_s();
	enrp_ingest_writer_open(ing, b1);
	enrp_ingest_writer_close(ing, b1);
	while (attr_of(st, b1).state != ENRP_FILE_VERIFIED && mono_s() - closed < 30)
		usleep(10000);
	double b1_at = mono_s() - closed;
	ok(b1_at < 3.0, "b1, alone in its EIR, is verified at once (%.2f s)", b1_at);
	is_int(attr_of(st, a2).state, ENRP_FILE_PENDING,
	       "while a2, closed just after another file of its EIR, waits");

	/* Written again while it waits: the wait starts over. */
	usleep(2000000);
	enrp_ingest_writer_open(ing, a2);
	put_bytes(st, a2, want + 8192, 4096, 8192);
	enrp_ingest_writer_close(ing, a2);
	usleep(2000000);
	is_int(attr_of(st, a2).state, ENRP_FILE_PENDING,
	       "a2 written again 2 s into its wait: still pending 2 s later");
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "then a2 is sealed");
	struct enrp_stat s = attr_of(st, a2);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, 12288), "with its SHA-256");
	ok(mono_s() - closed >= 5.0, "no sooner than 3 s after its last close (%.1f s)",
	   mono_s() - closed);

	/* A file closed once the one before it is verified: at once. */
	sleep(4); /* a2's close is long past */
	uint64_t c1 = new_file(st, busy.root_ino, "c1", want, 4096);
	uint64_t c2 = new_file(st, busy.root_ino, "c2", want, 4096);
	enrp_ingest_writer_open(ing, c1);
	enrp_ingest_writer_close(ing, c1);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "c1 sealed");
	enrp_ingest_writer_open(ing, c2);
	enrp_ingest_writer_close(ing, c2);
	closed = mono_s();
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "c2 sealed");
	ok(mono_s() - closed < 2.5,
	   "c2, closed just after c1 was verified, is verified at once (%.2f s)",
	   mono_s() - closed);
	is_int(fsck_problems(st), 0, "fsck: consistent");

	free(want);
	enrp_ingest_close(ing);
	enrp_vault_close(v);
	enrp_store_close(st);
}

/* Files removed while they settle are never sealed, and what is left of
 * their wait is dropped once it ends: a busy EIR that creates and removes
 * more files than may settle at once still has its next file settle,
 * rather than sealed at once behind a full table. */
static void settling_churn(void)
{
	enrp_store *st = store_new("churn", ENRP_STORE_GROUP_COMMIT);
	enrp_vault *v = vault_plain(st);
	struct enrp_eir e;
	make_eir(st, "ch", 1, &e);
	uint8_t *want = random_buf(4096, 84);
	enrp_ingest *ing = ingest_settling(st, v, 2000000000LL, 64);
	int removed = 0;
	for (int round = 0; round < 3; round++) {
		if (round)
			usleep(2100000); /* the last round's waits end */
		for (int k = 0; k < 40; k++) {
			char name[32];
			snprintf(name, sizeof(name), "t%d-%d", round, k);
			close_removed(st, ing, e.root_ino, name, want);
			removed++;
		}
	}
	is_int(removed, 120, "120 files removed while they settled, 64 may settle at once");
	uint64_t g = new_file(st, e.root_ino, "g", want, 4096);
	enrp_ingest_writer_open(ing, g);
	enrp_ingest_writer_close(ing, g);
	double closed = mono_s();
	usleep(500000);
	is_int(attr_of(st, g).state, ENRP_FILE_PENDING, "g, closed just after them, settles");
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "then it is sealed");
	struct enrp_stat s = attr_of(st, g);
	ok(s.state == ENRP_FILE_VERIFIED && sha_is(&s, want, 4096), "with its SHA-256");
	ok(mono_s() - closed >= 2.0, "no sooner than its 2 s (%.1f s)", mono_s() - closed);
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
	want[18 * MiB] ^= 0x77;
	rewrite_sealed(ing, st, f, want + 18 * MiB, 1, 18 * MiB, "1 byte at 18 MiB");
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
	int fd = enrp_spool_open(st, f, 0);
	enrp_reader *r = NULL;
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

	/* A byte changed near the start: the 18 MiB past it, more than the
	 * seal reads ahead, are the base's chunks, hashed where the chunk
	 * cache holds them. */
	want[2 * MiB] ^= 0x5a;
	rewrite_sealed(ing, st, f, want + 2 * MiB, 1, 2 * MiB, "1 byte at 2 MiB");
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
	want[n - 5] ^= 0x11;
	rewrite_sealed(ing, st, f, want + n - 5, 1, n - 5, "another daemon, 1 byte near the old end");
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
	/* No workers yet: k is queued (its last close did it), and a seal
	 * racing the checks below would leave its spool file for the commit's
	 * hook to remove, which fsck, reading between the two, calls stray. */
	ing = ingest(st, v, 0, 0);
	size_t klen = 0;
	bool kbased = false;
	uint8_t *kback = unsealed_bytes(ing, st, k, &klen, &kbased);
	ok(kbased && kback && klen == 3 * MiB && memcmp(kback, want, 3 * MiB) == 0,
	   "and reads as before the rewrite, through its base");
	free(kback);
	is_int(fsck_problems(st), 0, "fsck: consistent");
	enrp_ingest_close(ing);
	ing = ingest(st, v, 1, 0);
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

	/* Past a rewrite's last change the seal hashes the base's chunks where
	 * the chunk cache holds them: a damaged one there ends the seal as a
	 * damaged read does. */
	uint64_t t = new_file(st, e.root_ino, "t", want, 3 * MiB);
	enrp_ingest_enqueue(ing, t);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "t sealed");
	struct ext_args ext;
	is_int(extents_of(st, t, &ext), 0, "t's chunk list");
	ok(ext.n >= 3, "of several chunks (%zu)", ext.n);
	enrp_ingest_close(ing); /* its cache holds t's chunks */
	ing = ingest(st, v, 1, 0);
	enrp_ingest_writer_open(ing, t);
	is_int(enrp_ingest_unseal(ing, t, false), 0, "t unsealed");
	fd = enrp_spool_open(st, t, 0);
	is_int(enrp_reader_open_based(ing, t, fd, &r), 0, "t's based reader");
	is_int(rewrite_at(r, fd, junk, sizeof(junk), 100), 0, "t written near its start");
	enrp_reader_close(r);
	close(fd);
	chunk_path(st, e.id, ext.v[ext.n - 1].digest, path, sizeof(path));
	is_int(flip_byte(path, 40), 0, "damage t's last chunk");
	enrp_ingest_writer_close(ing, t);
	is_int(enrp_ingest_wait_idle(ing, IDLE_MS), 0, "its seal gave up");
	s = attr_of(st, t);
	ok(s.content == ENRP_CONTENT_SPOOL && s.state == ENRP_FILE_CORRUPT,
	   "t is counted corrupt (content %d, state %d)", s.content, s.state);
	free(ext.v);

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
	enrp_actor_self(&actor, "test_ingest_rewrites");

	holds_and_lock();
	tmp_sweep();
	rewrites();
	reseal_resumes();
	settling();
	settling_doubles();
	fresh_settling();
	settling_churn();

	tap_rmrf(tmp);
	return done_testing();
}
