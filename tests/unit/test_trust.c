/*
 * test_trust.c — root's alone: the walk to a path (owners, group and other
 * write, sticky directories, symlinks and the directories they are found
 * in, "..", loops) and the check of a path itself; then enrp_store_check
 * and enrp_store_create_checked on stores whose parts someone else owns.
 * Foreign owners need chown, so most checks run only as root (as `make
 * check` does); uid 4242 stands for another account.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/store.h>
#include <enrp/trust.h>

#include "../tap.h"

#define OTHER 4242

static const char *tmp;

static char *path_of(const char *name)
{
	static char buf[8][512];
	static int i;
	char *p = buf[i++ % 8];
	snprintf(p, 512, "%s/%s", tmp, name);
	return p;
}

static int walk(const char *name, struct enrp_trust_problem *p)
{
	return enrp_trust_walk(path_of(name), NULL, NULL, p);
}

static void test_walk(void)
{
	struct enrp_trust_problem p;
	char real[PATH_MAX];
	bool exists;

	mkdir(path_of("ok"), 0755);
	mkdir(path_of("ok/sub"), 0700);
	is_int(enrp_trust_walk(path_of("ok/sub"), real, &exists, &p), 0, "root's directories: 0");
	is_str(real, path_of("ok/sub"), "resolved path is the path");
	ok(exists, "and it exists");
	is_int(enrp_trust_walk(path_of("ok/missing"), real, &exists, &p), 0,
	       "a missing last component: 0");
	ok(!exists, "... and reported missing");
	is_int(walk("nodir/x", &p), -ENOENT, "a missing directory on the way: -ENOENT");

	/* A directory someone else owns, anywhere on the way. */
	mkdir(path_of("theirs"), 0755);
	mkdir(path_of("theirs/in"), 0700);
	chown(path_of("theirs"), OTHER, OTHER);
	is_int(walk("theirs/in", &p), -EPERM, "a directory owned by uid %d on the way: -EPERM", OTHER);
	is_str(p.path, path_of("theirs"), "... names that directory");
	ok(strstr(p.why, "uid 4242") && strstr(p.why, "not root"), "... and why: '%s'", p.why);
	ok(strstr(p.fix, "chown root:root '") != NULL, "... and the fix: '%s'", p.fix);
	is_int(walk("theirs", &p), 0, "the path itself is not the walk's concern");

	/* Group or other write, without the sticky bit. */
	mkdir(path_of("gw"), 0775);
	chmod(path_of("gw"), 0775);
	is_int(walk("gw/x", &p), -EPERM, "a group-writable directory on the way: -EPERM");
	ok(strstr(p.why, "group") && strstr(p.fix, "chmod go-w"), "... '%s' / '%s'", p.why, p.fix);
	mkdir(path_of("ow"), 0757);
	chmod(path_of("ow"), 0757);
	is_int(walk("ow/x", &p), -EPERM, "an other-writable directory on the way: -EPERM");

	/* Sticky and world-writable (like /tmp): root's entries are safe there. */
	mkdir(path_of("sticky"), 01777);
	chmod(path_of("sticky"), 01777);
	mkdir(path_of("sticky/mine"), 0700);
	is_int(walk("sticky/mine", &p), 0, "root's entry of a sticky directory: 0");
	is_int(walk("sticky/notyet", &p), 0, "a missing entry of a sticky directory: 0");
	mkdir(path_of("sticky/theirs"), 0700);
	chown(path_of("sticky/theirs"), OTHER, OTHER);
	is_int(walk("sticky/theirs/x", &p), -EPERM, "someone else's entry of a sticky directory: -EPERM");
	is_str(p.path, path_of("sticky/theirs"), "... names the entry");
	chmod(path_of("sticky"), 0777);
	is_int(walk("sticky/mine", &p), -EPERM, "the same directory without the sticky bit: -EPERM");
	chmod(path_of("sticky"), 01777);

	/* Symlinks: as safe as the directory they are found in, and their
	 * targets are walked too. */
	symlink(path_of("ok/sub"), path_of("ok/link"));
	is_int(enrp_trust_walk(path_of("ok/link"), real, NULL, &p), 0, "a root symlink to root's path: 0");
	is_str(real, path_of("ok/sub"), "... resolved to its target");
	symlink(path_of("ok/sub"), path_of("theirs/link"));
	is_int(walk("theirs/link", &p), -EPERM, "a symlink in someone else's directory: -EPERM");
	symlink(path_of("theirs/in"), path_of("ok/tolink"));
	is_int(walk("ok/tolink", &p), -EPERM, "a symlink leading through someone else's directory: -EPERM");
	is_str(p.path, path_of("theirs"), "... names the directory the target goes through");
	symlink("sub/../sub", path_of("ok/rel"));
	is_int(enrp_trust_walk(path_of("ok/rel"), real, NULL, &p), 0, "a relative symlink with '..': 0");
	is_str(real, path_of("ok/sub"), "... resolved");
	symlink("loop", path_of("ok/loop"));
	is_int(walk("ok/loop", &p), -ELOOP, "a symlink loop: -ELOOP");
	int fd = open(path_of("ok/file"), O_CREAT | O_WRONLY, 0600);
	close(fd);
	is_int(walk("ok/file/x", &p), -ENOTDIR, "a file on the way: -ENOTDIR");

	/* Relative to the working directory: the working directory's parents
	 * are on the way too. */
	char cwd[PATH_MAX];
	getcwd(cwd, sizeof(cwd));
	chdir(path_of("theirs"));
	is_int(enrp_trust_walk("in", NULL, NULL, &p), -EPERM, "relative, below someone else's cwd: -EPERM");
	chdir(path_of("ok"));
	is_int(enrp_trust_walk("sub", real, NULL, &p), 0, "relative, below root's cwd: 0");
	is_str(real, path_of("ok/sub"), "... resolved to an absolute path");
	chdir(cwd);
}

static void test_own(void)
{
	struct enrp_trust_problem p;
	mkdir(path_of("own"), 0700);
	is_int(enrp_trust_own(path_of("own"), S_IFDIR, 077, &p), 0, "root's 0700 directory: 0");
	chmod(path_of("own"), 0750);
	is_int(enrp_trust_own(path_of("own"), S_IFDIR, 077, &p), -EPERM, "0750 where 077 is forbidden: -EPERM");
	ok(strstr(p.why, "0750") && strstr(p.fix, "chmod go-rwx"), "... '%s' / '%s'", p.why, p.fix);
	is_int(enrp_trust_own(path_of("own"), S_IFDIR, 022, &p), 0, "0750 where only 022 is forbidden: 0");
	chmod(path_of("own"), 0700);
	chown(path_of("own"), OTHER, 0);
	is_int(enrp_trust_own(path_of("own"), S_IFDIR, 077, &p), -EPERM, "someone else's: -EPERM");
	chown(path_of("own"), 0, 0);
	symlink(path_of("own"), path_of("ownlink"));
	is_int(enrp_trust_own(path_of("ownlink"), S_IFDIR, 077, &p), -EPERM, "a symlink to root's directory: -EPERM");
	ok(strstr(p.why, "symlink") != NULL, "... '%s'", p.why);
	is_int(enrp_trust_own(path_of("nothing"), S_IFDIR, 077, &p), -ENOENT, "missing: -ENOENT");
}

static void test_store(void)
{
	struct enrp_trust_problem p;
	static const char *const parts[] = { "meta", "spool", "chunks", "run" };
	char *s = path_of("store");

	is_int(enrp_store_create_checked(s, &p), 0, "a store below root's directories");
	is_int(enrp_store_check(s, &p), 0, "enrp_store_check of it: 0");
	enrp_store *st = NULL;
	is_int(enrp_store_open(s, 0, &st), 0, "it opens");
	enrp_store_close(st);

	for (size_t i = 0; i < 4; i++) {
		char part[600];
		snprintf(part, sizeof(part), "%s/%s", s, parts[i]);
		chown(part, OTHER, OTHER);
		is_int(enrp_store_check(s, &p), -EPERM, "%s/ owned by uid %d: -EPERM", parts[i], OTHER);
		is_str(p.path, part, "... names %s/", parts[i]);
		st = NULL;
		is_int(enrp_store_open(s, ENRP_STORE_RDONLY, &st), -EPERM, "... and open refuses it");
		ok(!st, "... leaving no handle");
		chown(part, 0, 0);
		chmod(part, 0710);
		is_int(enrp_store_check(s, &p), -EPERM, "%s/ open to its group: -EPERM", parts[i]);
		chmod(part, 0700);
		char moved[620];
		snprintf(moved, sizeof(moved), "%s.real", part);
		rename(part, moved);
		symlink(moved, part);
		is_int(enrp_store_check(s, &p), -EPERM, "%s/ a symlink to root's directory: -EPERM", parts[i]);
		unlink(part);
		rename(moved, part);
	}
	char f[600];
	snprintf(f, sizeof(f), "%s/meta/data.mdb", s);
	chown(f, OTHER, OTHER);
	is_int(enrp_store_check(s, &p), -EPERM, "meta/data.mdb owned by uid %d: -EPERM", OTHER);
	chown(f, 0, 0);
	chmod(s, 0755);
	is_int(enrp_store_check(s, &p), -EPERM, "the store directory 0755: -EPERM");
	chmod(s, 0700);
	is_int(enrp_store_check(s, &p), 0, "all put back: 0");
	is_int(enrp_store_check(path_of("nostore"), &p), -ENOENT, "no such store: -ENOENT");

	/* init: an empty directory someone else owns is refused and left as
	 * it was; root's is taken (0700). */
	char *e = path_of("empty-theirs");
	mkdir(e, 0755);
	chmod(e, 0755);
	chown(e, OTHER, OTHER);
	is_int(enrp_store_create_checked(e, &p), -EPERM, "create in someone else's empty directory: -EPERM");
	struct stat sb;
	stat(e, &sb);
	ok(sb.st_uid == OTHER && (sb.st_mode & 07777) == 0755, "... owner and mode untouched");
	ok(rmdir(e) == 0, "... and it is still empty");
	e = path_of("theirs/store");
	is_int(enrp_store_create_checked(e, &p), -EPERM, "create below someone else's directory: -EPERM");
	ok(access(e, F_OK) != 0, "... nothing created");
	e = path_of("gw/store");
	is_int(enrp_store_create_checked(e, &p), -EPERM, "create below a group-writable directory: -EPERM");
	ok(access(e, F_OK) != 0, "... nothing created");
	e = path_of("empty-mine");
	mkdir(e, 0755);
	chmod(e, 0755);
	int fd = open(path_of("empty-mine/junk"), O_CREAT | O_WRONLY, 0600);
	close(fd);
	is_int(enrp_store_create_checked(e, &p), -EEXIST, "create in root's non-empty directory: -EEXIST");
	stat(e, &sb);
	is_int(sb.st_mode & 07777, 0755, "... its mode put back");
	unlink(path_of("empty-mine/junk"));
	is_int(enrp_store_create_checked(e, &p), 0, "create in root's empty directory");
	stat(e, &sb);
	is_int(sb.st_mode & 07777, 0700, "... which becomes 0700");
	is_int(enrp_store_create_checked(path_of("sticky/store"), &p), 0,
	       "create in a sticky world-writable directory (like /tmp)");
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! tmpdir\n");
		return 1;
	}
	if (geteuid() != 0) {
		/* Foreign owners need chown. */
		printf("1..0 # SKIP needs root\n");
		tap_rmrf(tmp);
		return 0;
	}
	test_walk();
	test_own();
	test_store();
	tap_rmrf(tmp);
	return done_testing();
}
