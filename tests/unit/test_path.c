/*
 * test_path.c — paths of inodes for audit records (core/path.c), the
 * aggregation of lost verified files (core/loss.c) and the daemon's
 * lifecycle records (core/lifecycle.c), on real stores without FUSE.
 *
 * Paths: by directory and name, by inode (from a remembered name, and
 * from the bounded search after the hints were overwritten by another
 * store's inodes), of a directory, of the EIR directory itself; a renamed
 * file follows its new name, an unlinked one is -ENOENT, a hard link gives
 * one of its names, a buffer too small is -ENAMETOOLONG.
 * Losses: a burst is one record with count, bytes, the first paths and the
 * first caller; a quiet burst is written, a busy one waits; unmount writes
 * everything.  Lifecycle: a first mount has no recovery, a mount after a
 * mount with no unmount has one, naming the previous pid.
 *
 * Every error is asserted as its exact -errno (STYLE rule 35).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <enrp/details.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/lifecycle.h>
#include <enrp/loss.h>
#include <enrp/ns.h>
#include <enrp/path.h>
#include <enrp/store.h>

#include "../tap.h"
#include "journal_last.h"

static const char *tmp;
static struct enrp_actor actor;
static const struct enrp_caller user = { .uid = 1000, .gid = 1000, .pid = 4242 };

static void bail(const char *what, int rc)
{
	printf("Bail out! %s: %s\n", what, strerror(-rc));
	exit(1);
}

static enrp_store *open_store(const char *name, struct enrp_eir *e)
{
	char path[512];
	struct enrp_eir spec;
	enrp_store *st;
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	int rc = enrp_store_create(path);
	if (rc == 0)
		rc = enrp_store_open(path, 0, &st);
	enrp_eir_defaults(&spec, "e");
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	if (rc == 0)
		rc = enrp_eir_create(st, &spec, &actor, e);
	if (rc)
		bail("store", rc);
	return st;
}

static uint64_t mk(enrp_store *st, uint64_t parent, const char *name, mode_t mode)
{
	struct enrp_stat s;
	int rc = enrp_ns_mknod(st, &user, parent, name, mode, 0, NULL, &s);
	if (rc)
		bail(name, rc);
	return s.st.st_ino;
}

static void test_paths(void)
{
	struct enrp_eir e, e2;
	char buf[ENRP_PATH_MAX + 1];
	enrp_store *st = open_store("paths", &e);
	uint64_t d1 = mk(st, e.root_ino, "dir one", S_IFDIR | 0755);
	uint64_t d2 = mk(st, d1, "sub", S_IFDIR | 0755);
	uint64_t f = mk(st, d2, "файл.txt", S_IFREG | 0644);

	is_int(enrp_path_of(st, d2, "файл.txt", 0, buf, sizeof(buf)), 0, "by directory and name");
	is_str(buf, "dir one/sub/файл.txt", "the path from the EIR directory down");
	is_int(enrp_path_of(st, 0, NULL, f, buf, sizeof(buf)), 0, "by inode (a remembered name)");
	is_str(buf, "dir one/sub/файл.txt", "the same path");
	is_int(enrp_path_of(st, 0, NULL, d2, buf, sizeof(buf)), 0, "a directory by inode");
	is_str(buf, "dir one/sub", "a directory's path");
	is_int(enrp_path_of(st, 0, NULL, e.root_ino, buf, sizeof(buf)), 0, "the EIR directory");
	is_str(buf, "", "the EIR directory is the empty path");
	is_int(enrp_path_of(st, 0, NULL, f, buf, 5), -ENAMETOOLONG, "too small a buffer");

	is_int(enrp_ns_rename(st, &user, d2, "файл.txt", d1, "moved", 0), 0, "rename");
	is_int(enrp_path_of(st, 0, NULL, f, buf, sizeof(buf)), 0, "a renamed file");
	is_str(buf, "dir one/moved", "follows its new name");

	/* Another store's inodes (the same numbers) take every hint: the
	 * search through the entries still finds the file. */
	enrp_store *other = open_store("other", &e2);
	uint64_t o1 = mk(other, e2.root_ino, "x", S_IFDIR | 0755);
	uint64_t o2 = mk(other, o1, "y", S_IFDIR | 0755);
	mk(other, o2, "z", S_IFREG | 0644);
	is_int(enrp_path_of(st, 0, NULL, f, buf, sizeof(buf)), 0, "a stale hint is never used");
	is_str(buf, "dir one/moved", "the search finds the name");
	enrp_store_close(other);

	struct enrp_stat ls;
	is_int(enrp_ns_link(st, &user, f, e.root_ino, "second", &ls), 0, "a hard link");
	is_int(enrp_path_of(st, 0, NULL, f, buf, sizeof(buf)), 0, "a hard-linked file");
	is_str(buf, "second", "one of its names: the last it was given");
	is_int(enrp_ns_unlink(st, &user, e.root_ino, "second", false), 0, "unlink one name");
	is_int(enrp_path_of(st, 0, NULL, f, buf, sizeof(buf)), 0, "the other name");
	is_str(buf, "dir one/moved", "the name left");
	is_int(enrp_ns_unlink(st, &user, d1, "moved", false), 0, "unlink the last name");
	is_int(enrp_path_of(st, 0, NULL, f, buf, sizeof(buf)), -ENOENT, "an unlinked file: -ENOENT");
	is_int(enrp_path_of(st, ENRP_ROOT_INO, "e", 0, buf, sizeof(buf)), -ENOENT,
	       "not inside an EIR: -ENOENT");
	enrp_store_close(st);
}

struct collect {
	int n;
	char event[32], details[ENRP_JOURNAL_DETAILS_MAX + 1];
	uint32_t uid;
};

static int collect_cb(const struct enrp_journal_record *r, void *arg)
{
	struct collect *c = arg;
	if (strncmp(r->event, "file-", 5) != 0 && strcmp(r->event, "recovery") != 0)
		return 0;
	c->n++;
	snprintf(c->event, sizeof(c->event), "%s", r->event);
	snprintf(c->details, sizeof(c->details), "%s", r->details);
	c->uid = r->uid;
	return 0;
}

static struct collect collect(enrp_store *st)
{
	struct collect c;
	memset(&c, 0, sizeof(c));
	enrp_journal_iter(st, NULL, collect_cb, &c);
	return c;
}

static void test_losses(void)
{
	struct enrp_eir e;
	enrp_store *st = open_store("losses", &e);
	enrp_losses *l;
	char v[256];
	is_int(enrp_losses_new(st, &l), 0, "losses_new");
	struct enrp_stat victim;
	memset(&victim, 0, sizeof(victim));
	victim.eir_id = e.id;
	victim.st.st_size = 100;
	memset(victim.sha256, 0xab, 32);
	struct enrp_actor who = actor;
	who.uid = 1000;
	is_int(enrp_losses_want(l, e.id, ENRP_LOSS_REMOVED),
	       ENRP_LOSS_WANT_ACTOR | ENRP_LOSS_WANT_PATH, "the first wants a caller and a path");
	for (int i = 0; i < 15; i++) {
		char path[32];
		unsigned want = enrp_losses_want(l, e.id, ENRP_LOSS_REMOVED);
		snprintf(path, sizeof(path), "tree/f %d", i);
		enrp_losses_note(l, ENRP_LOSS_REMOVED, &victim, i < 14 ? 7 : 8,
		                 (want & ENRP_LOSS_WANT_ACTOR) ? &who : NULL,
		                 (want & ENRP_LOSS_WANT_PATH) ? path : NULL, NULL);
	}
	is_int(enrp_losses_want(l, e.id, ENRP_LOSS_REMOVED), 0, "ten paths kept: nothing wanted");
	int64_t now = enrp_now_ns();
	is_int(enrp_losses_flush(l, &actor, now, false), 0, "a busy burst: flush");
	is_int(collect(st).n, 0, "a busy burst is not written yet");
	is_int(enrp_losses_flush(l, &actor, now + ENRP_LOSS_QUIET_NS, false), 0, "quiet: flush");
	struct collect c = collect(st);
	is_int(c.n, 1, "one record for the burst");
	is_str(c.event, "file-removed", "file-removed");
	is_int(c.uid, 1000, "names the first caller");
	ok(enrp_details_get(c.details, "count", v, sizeof(v)) && strcmp(v, "15") == 0, "count=15");
	ok(enrp_details_get(c.details, "bytes", v, sizeof(v)) && strcmp(v, "1500") == 0, "bytes=1500");
	ok(enrp_details_get(c.details, "path", v, sizeof(v)) && strcmp(v, "tree/f 0") == 0,
	   "the first path, with its space");
	ok(enrp_details_get(c.details, "path10", v, sizeof(v)) && strcmp(v, "tree/f 9") == 0,
	   "the tenth path");
	ok(!enrp_details_get(c.details, "path11", v, sizeof(v)), "no eleventh path");
	ok(enrp_details_get(c.details, "others", v, sizeof(v)) && strcmp(v, "yes") == 0,
	   "others=yes: another process took part");
	ok(enrp_details_get(c.details, "sha256", v, sizeof(v)) && strncmp(v, "abab", 4) == 0,
	   "the first file's sha256");

	enrp_losses_note(l, ENRP_LOSS_TRUNCATED, &victim, 9, NULL, NULL, "o_trunc");
	is_int(enrp_losses_flush(l, &actor, enrp_now_ns(), true), 0, "unmount: flush all");
	c = collect(st);
	is_int(c.n, 2, "a busy record is written at unmount");
	is_str(c.event, "file-truncated", "file-truncated");
	ok(enrp_details_get(c.details, "path_unknown", v, sizeof(v)), "no path given: path_unknown");
	ok(enrp_details_get(c.details, "how", v, sizeof(v)) && strcmp(v, "o_trunc") == 0, "how");
	enrp_losses_free(l);
	enrp_store_close(st);
}

static void test_lifecycle(void)
{
	struct enrp_eir e;
	enrp_store *st = open_store("life", &e);
	struct enrp_recovery r = { .orphans_freed = 3, .spools_removed = 2 };
	struct enrp_actor a = actor;
	a.pid = 111;
	is_int(enrp_lifecycle_mount(st, &a, "/s", "/m", "", NULL, &r), 0, "first mount");
	is_int(collect(st).n, 0, "a first mount: no recovery record");
	is_int(enrp_lifecycle_unmount(st, &a, "/s", "/m"), 0, "clean unmount");
	a.pid = 222;
	is_int(enrp_lifecycle_mount(st, &a, "/s", "/m", "", NULL, &r), 0, "mount after a clean stop");
	is_int(collect(st).n, 0, "after a clean stop: no recovery record");
	a.pid = 333; /* 222 never unmounted */
	is_int(enrp_lifecycle_mount(st, &a, "/s", "/m", "", "/k", &r), 0, "mount after a crash");
	struct collect c = collect(st);
	char v[64];
	is_int(c.n, 1, "after a crash: one recovery record");
	ok(enrp_details_get(c.details, "previous_pid", v, sizeof(v)) && strcmp(v, "222") == 0,
	   "names the daemon that crashed");
	ok(enrp_details_get(c.details, "orphans_freed", v, sizeof(v)) && strcmp(v, "3") == 0,
	   "what recovery did");
	struct last last = journal_last_of(st);
	is_str(last.rec.event, "keyfile-use", "keyfile-use after the mount");
	enrp_store_close(st);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp)
		bail("tmpdir", -errno);
	enrp_actor_self(&actor, "test_path");
	test_paths();
	test_losses();
	test_lifecycle();
	tap_rmrf(tmp);
	return done_testing();
}
