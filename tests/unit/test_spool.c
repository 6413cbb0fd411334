/*
 * test_spool.c — spool files: create and open, and the daemon's pool of
 * emptied spool files (a freed spool file is emptied and reused for the
 * next new one; one still open elsewhere is unlinked instead, never emptied
 * nor reused; enrpctl's stores never recycle; recover lists the pool again).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/ns.h>
#include <enrp/spool.h>
#include <enrp/store.h>

#include "spool_int.h"
#include "store_int.h"

#include "../tap.h"

static const char *tmp;

static char *path_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *path_of(const char *fmt, ...)
{
	static char buf[8][512];
	static int i;
	char *p = buf[i++ % 8];
	char rel[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(p, 512, "%s/%s", tmp, rel);
	return p;
}

/* st_ino of PATH, or 0. */
static ino_t ino_of(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

static off_t size_of(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static int put(enrp_store *st, uint64_t ino, const char *bytes)
{
	int fd = enrp_spool_open(st, ino, 1);
	if (fd < 0)
		return fd;
	ssize_t n = pwrite(fd, bytes, strlen(bytes), 0);
	close(fd);
	return n == (ssize_t)strlen(bytes) ? 0 : -EIO;
}

static void pool(void)
{
	is_int(enrp_store_create(path_of("s")), 0, "store created");
	enrp_store *st;
	is_int(enrp_store_open(path_of("s"), ENRP_STORE_GROUP_COMMIT, &st), 0, "daemon open");

	/* A freed spool file goes to the pool, emptied. */
	is_int(put(st, 0x10, "secret bytes of file 16"), 0, "spool file of inode 16 written");
	ino_t first = ino_of(path_of("s/spool/0000000000000010"));
	ok(first != 0, "it exists");
	spool_unlink_hook(st, 0x10);
	ok(access(path_of("s/spool/0000000000000010"), F_OK) != 0, "its name is gone after the hook");
	is_int(ino_of(path_of("s/spool/p0000000000000010")), first, "it is pooled under p+16 hex");
	is_int(size_of(path_of("s/spool/p0000000000000010")), 0, "the pooled file is empty");

	/* The next new spool file is that file, renamed into place. */
	int fd = enrp_spool_open(st, 0x11, 1);
	ok(fd >= 0, "spool file of inode 17 created");
	is_int(ino_of(path_of("s/spool/0000000000000011")), first, "it reuses the pooled inode");
	ok(access(path_of("s/spool/p0000000000000010"), F_OK) != 0, "the pool name is gone");
	char buf[64];
	is_int(pread(fd, buf, sizeof(buf), 0), 0, "it reads empty");
	close(fd);

	/* Opening an existing spool file with CREATE keeps its bytes. */
	is_int(put(st, 0x11, "abc"), 0, "bytes written to inode 17");
	fd = enrp_spool_open(st, 0x11, 1);
	is_int(fd >= 0 ? pread(fd, buf, sizeof(buf), 0) : fd, 3, "reopened with CREATE: bytes kept");
	close(fd);

	/* A spool file open elsewhere (a reader of the pending file) is never
	 * emptied nor reused: it is unlinked, and the reader keeps its bytes. */
	is_int(put(st, 0x12, "read me"), 0, "spool file of inode 18 written");
	int rfd = enrp_spool_open(st, 0x12, 0);
	ok(rfd >= 0, "a reader has it open");
	spool_unlink_hook(st, 0x12);
	ok(access(path_of("s/spool/0000000000000012"), F_OK) != 0, "its name is gone");
	ok(access(path_of("s/spool/p0000000000000012"), F_OK) != 0, "it is not pooled");
	memset(buf, 0, sizeof(buf));
	is_int(pread(rfd, buf, sizeof(buf), 0), 7, "the reader still reads its 7 bytes");
	is_str(buf, "read me", "the same bytes");
	close(rfd);

	/* A pooled file that is not empty (a crash undid the truncate) is
	 * emptied when reused. */
	is_int(put(st, 0x13, "x"), 0, "spool file of inode 19");
	spool_unlink_hook(st, 0x13);
	int pfd = open(path_of("s/spool/p0000000000000013"), O_WRONLY);
	ok(pfd >= 0 && write(pfd, "stale", 5) == 5, "pooled file made non-empty");
	if (pfd >= 0)
		close(pfd);
	fd = enrp_spool_open(st, 0x14, 1);
	is_int(fd >= 0 ? pread(fd, buf, sizeof(buf), 0) : fd, 0, "reused file reads empty");
	if (fd >= 0)
		close(fd);

	/* Recover lists the pool again: unreferenced spool files go, pool
	 * files stay and are reused. */
	is_int(put(st, 0x15, "y"), 0, "spool file of inode 21");
	spool_unlink_hook(st, 0x15);
	ino_t pooled = ino_of(path_of("s/spool/p0000000000000015"));
	ok(pooled != 0, "pooled");
	uint64_t orphans = 0, spools = 0;
	is_int(enrp_ns_recover(st, &orphans, &spools), 0, "recover");
	ok(access(path_of("s/spool/0000000000000011"), F_OK) != 0, "unreferenced spool files removed");
	is_int(ino_of(path_of("s/spool/p0000000000000015")), pooled, "the pool file is kept");
	fd = enrp_spool_open(st, 0x16, 1);
	is_int(ino_of(path_of("s/spool/0000000000000016")), pooled, "and reused after recover");
	if (fd >= 0)
		close(fd);
	enrp_store_close(st);

	/* enrpctl (no group commit) unlinks; its recover removes pool files. */
	is_int(enrp_store_open(path_of("s"), 0, &st), 0, "enrpctl open");
	is_int(put(st, 0x17, "z"), 0, "spool file of inode 23");
	spool_unlink_hook(st, 0x17);
	ok(access(path_of("s/spool/0000000000000017"), F_OK) != 0, "unlinked");
	ok(access(path_of("s/spool/p0000000000000017"), F_OK) != 0, "not pooled");
	enrp_store_close(st);
}

/* The spool directory is synced for a file whose entry is new since the
 * last sync of it began, and only then: the daemon's first sync (files of
 * an earlier run are unknown), a file made since, more files made than it
 * keeps track of. */
static void dir_entry_sync(void)
{
	enrp_store *st;
	const char *store = path_of("dirsync");
	if (enrp_store_create(store) || enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &st)) {
		ok(0, "store for dir_entry_sync");
		return;
	}
	int a = enrp_spool_open(st, 1, 1), b = -1;
	uint64_t n0 = spool_dir_syncs(st);
	is_int(enrp_spool_sync(st, 1, a), 0, "a new file's sync");
	is_int(spool_dir_syncs(st), n0 + 1, "syncs the directory");
	is_int(enrp_spool_sync(st, 1, a), 0, "its next sync");
	is_int(spool_dir_syncs(st), n0 + 1, "does not: its entry is durable");
	b = enrp_spool_open(st, 2, 1);
	is_int(enrp_spool_sync(st, 1, a), 0, "a sync once another file is made");
	is_int(spool_dir_syncs(st), n0 + 1, "does not either: the new entry is not its own");
	is_int(enrp_spool_sync(st, 2, b), 0, "the new file's sync");
	is_int(spool_dir_syncs(st), n0 + 2, "syncs the directory");
	close(b);
	for (uint64_t ino = 10; ino < 10 + 1100; ino++) {
		int fd = enrp_spool_open(st, ino, 1);
		if (fd >= 0)
			close(fd);
	}
	is_int(enrp_spool_sync(st, 1, a), 0, "a sync after 1,100 files were made");
	is_int(spool_dir_syncs(st), n0 + 3, "syncs the directory: more than it tracks");
	close(a);
	enrp_store_close(st);

	is_int(enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &st), 0, "the store opened again");
	a = enrp_spool_open(st, 1, 0);
	ok(a >= 0, "an existing spool file opened");
	is_int(enrp_spool_sync(st, 1, a), 0, "its first sync in this run");
	is_int(spool_dir_syncs(st), 1, "syncs the directory: what an earlier run made is unknown");
	close(a);
	enrp_store_close(st);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp)
		return 2;
	pool();
	dir_entry_sync();
	tap_rmrf(tmp);
	return done_testing();
}
