/*
 * test_ns.c — the namespace on a real store with real EIRs: mknod of every
 * type and its attributes, creation errors (reserved names, the root,
 * setgid inheritance), hard links, unlink/rmdir and orphans, rename with
 * NOREPLACE/EXCHANGE and every rename(2) error, setattr (spool file sizes,
 * the EIR directory), quota, user xattrs, the access policy as the
 * namespace applies it, statfs, readdir and crash recovery.
 *
 * Every error is asserted as its exact -errno (STYLE rule 35), and every
 * change is checked in the state it leaves (getattr, lookup, readdir,
 * enrp_eir_usage, the spool directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/ns.h>
#include <enrp/policy.h>
#include <enrp/spool.h>
#include <enrp/store.h>

#include "record_int.h"
#include "store_int.h"

#include "../tap.h"

#define MiB (1024u * 1024u)
#define NO_INO 999999999ULL /* never allocated in these tests */

static const char *tmp;
static enrp_store *st;
static struct enrp_actor actor;

/* Callers: the EIR owner, a stranger and an active EIR's agent. */
static const struct enrp_caller user = { .uid = 1000, .gid = 1000, .pid = 4242 };
static const struct enrp_caller other = { .uid = 2000, .gid = 2000, .pid = 4343 };
static const struct enrp_caller agent = { .uid = 3000, .gid = 3000, .pid = 4444 };

/* The EIRs: alpha and beta (plain rw), quota (1 MiB), pol (policy games). */
static struct enrp_eir alpha, beta, quota, pol;

/* ---- helpers ---- */

static int make_eir(const char *name, uint64_t q, struct enrp_eir *out)
{
	struct enrp_eir spec;
	enrp_eir_defaults(&spec, name);
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	spec.quota = q;
	return enrp_eir_create(st, &spec, &actor, out);
}

/* mknod as USER; the new inode number, or 0 (reported as a failure). */
static uint64_t mk_as(const struct enrp_caller *c, uint64_t parent, const char *name,
                      mode_t mode)
{
	struct enrp_stat s;
	int rc = enrp_ns_mknod(st, c, parent, name, mode, 0,
	                       S_ISLNK(mode) ? "target" : NULL, &s);
	if (rc) {
		ok(0, "setup: mknod %s: %s", name, strerror(-rc));
		return 0;
	}
	return s.st.st_ino;
}

static uint64_t mk(uint64_t parent, const char *name, mode_t mode)
{
	return mk_as(&user, parent, name, mode);
}

/* Lookup: the inode number, or -errno. */
static int64_t ino_of(uint64_t parent, const char *name)
{
	struct enrp_stat s;
	int rc = enrp_ns_lookup(st, parent, name, &s);
	return rc ? rc : (int64_t)s.st.st_ino;
}

/* getattr's nlink, or -errno. */
static long nlink_of(uint64_t ino)
{
	struct enrp_stat s;
	int rc = enrp_ns_getattr(st, ino, &s);
	return rc ? rc : (long)s.st.st_nlink;
}

static int64_t size_of(uint64_t ino)
{
	struct enrp_stat s;
	int rc = enrp_ns_getattr(st, ino, &s);
	return rc ? rc : (int64_t)s.st.st_size;
}

static struct enrp_eir_usage usage_of(uint32_t id)
{
	struct enrp_eir_usage u = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
	int rc = enrp_eir_usage(st, id, &u);
	if (rc)
		ok(0, "enrp_eir_usage(%u): %s", id, strerror(-rc));
	return u;
}

/* Size of INO's spool file, or -errno (-ENOENT: there is none). */
static int64_t spool_size(uint64_t ino)
{
	int fd = enrp_spool_open(st, ino, 0);
	if (fd < 0)
		return fd;
	struct stat sb;
	int64_t r = fstat(fd, &sb) < 0 ? -errno : (int64_t)sb.st_size;
	close(fd);
	return r;
}

static int set_size(const struct enrp_caller *c, uint64_t ino, off_t size)
{
	struct stat a;
	memset(&a, 0, sizeof(a));
	a.st_size = size;
	return enrp_ns_setattr(st, c, ino, &a, ENRP_SETATTR_SIZE, NULL);
}

/* Collects readdir output as "name,name,..." and can stop early. */
struct collect {
	char names[1024];
	int calls;
	int stop_after; /* return STOP_VALUE after this many calls; 0: never */
	int stop_value;
	struct enrp_dirent last[8];
	char last_names[8][ENRP_NAME_MAX + 1];
};

static int collect_cb(const struct enrp_dirent *ent, void *arg)
{
	struct collect *c = arg;
	size_t n = strlen(c->names);
	snprintf(c->names + n, sizeof(c->names) - n, "%s%s", n ? "," : "", ent->name);
	if (c->calls < 8) {
		c->last[c->calls] = *ent;
		snprintf(c->last_names[c->calls], sizeof(c->last_names[0]), "%s", ent->name);
		c->last[c->calls].name = c->last_names[c->calls];
	}
	c->calls++;
	if (c->stop_after && c->calls == c->stop_after)
		return c->stop_value;
	return 0;
}

static const char *list_dir(uint64_t ino, int *rc)
{
	static struct collect c;
	memset(&c, 0, sizeof(c));
	*rc = enrp_ns_readdir(st, ino, collect_cb, &c);
	return c.names;
}

/* ---- mknod of every type ---- */

static void mknod_types(void)
{
	const uint64_t ra = alpha.root_ino;
	struct enrp_stat s, l;
	struct enrp_eir_usage u0 = usage_of(alpha.id);
	int64_t t0 = enrp_now_ns();

	is_int(nlink_of(ra), 2, "a new EIR directory has nlink 2");

	is_int(enrp_ns_mknod(st, &user, ra, "file", S_IFREG | 0640, 0, NULL, &s), 0,
	       "mknod regular file");
	is_int(s.st.st_mode, S_IFREG | 0640, "file: mode");
	is_int(s.st.st_uid, 1000, "file: uid is the caller's");
	is_int(s.st.st_gid, 1000, "file: gid is the caller's");
	is_int(s.st.st_nlink, 1, "file: nlink 1");
	is_int(s.st.st_size, 0, "file: size 0");
	is_int(s.st.st_rdev, 0, "file: rdev 0");
	is_int(s.eir_id, alpha.id, "file: eir_id");
	is_int(s.content, ENRP_CONTENT_SPOOL, "file: content is a spool file");
	ok(s.st.st_ino > ENRP_ROOT_INO && s.st.st_ino != ra, "file: a fresh inode number");
	ok((int64_t)s.st.st_mtim.tv_sec * 1000000000 + s.st.st_mtim.tv_nsec >= t0 - 1000000000,
	   "file: mtime is now");
	is_int(enrp_ns_lookup(st, ra, "file", &l), 0, "lookup file");
	is_int(l.st.st_ino, s.st.st_ino, "lookup: same inode");
	is_int(l.st.st_mode, S_IFREG | 0640, "lookup: same mode");
	is_int(enrp_ns_getattr(st, s.st.st_ino, &l), 0, "getattr file");
	is_int(l.st.st_uid, 1000, "getattr: uid");
	is_int(l.st.st_nlink, 1, "getattr: nlink");
	is_int(spool_size(s.st.st_ino), -ENOENT, "the spool file is created lazily");

	/* A different caller: uid and gid follow the caller. */
	is_int(enrp_ns_mknod(st, &other, ra, "others", S_IFREG | 0600, 0, NULL, &s), 0,
	       "mknod as another user");
	is_int(s.st.st_uid, 2000, "its uid is that caller's");
	is_int(s.st.st_gid, 2000, "its gid is that caller's");

	is_int(enrp_ns_mknod(st, &user, ra, "dir", S_IFDIR | 0750, 0, NULL, &s), 0, "mkdir");
	is_int(s.st.st_mode, S_IFDIR | 0750, "dir: mode");
	is_int(s.st.st_nlink, 2, "dir: nlink 2");
	is_int(s.content, ENRP_CONTENT_NONE, "dir: no content");
	is_int(nlink_of(ra), 3, "parent nlink 2 -> 3 after mkdir");
	uint64_t dir = s.st.st_ino;
	is_int(enrp_ns_mknod(st, &user, dir, "sub", S_IFDIR | 0700, 0, NULL, &s), 0,
	       "mkdir in a subdirectory");
	is_int(nlink_of(dir), 3, "subdirectory nlink 2 -> 3");
	is_int(nlink_of(ra), 3, "grandparent nlink unchanged");

	static const char target[] = "../some/where/else";
	is_int(enrp_ns_mknod(st, &user, ra, "link", S_IFLNK | 0777, 0, target, &s), 0, "symlink");
	is_int(s.st.st_mode, S_IFLNK | 0777, "symlink: mode");
	is_int(s.st.st_size, strlen(target), "symlink: size is the target's length");
	is_int(s.st.st_nlink, 1, "symlink: nlink 1");
	is_int(s.content, ENRP_CONTENT_NONE, "symlink: no content");
	char buf[64];
	is_int(enrp_ns_readlink(st, s.st.st_ino, buf, sizeof(buf)), 0, "readlink");
	is_str(buf, target, "readlink: the target");
	is_int(enrp_ns_readlink(st, s.st.st_ino, buf, 5), 0, "readlink into 5 bytes");
	is_str(buf, "../s", "readlink: cut to size - 1");
	is_int(enrp_ns_readlink(st, s.st.st_ino, buf, 0), -EINVAL, "readlink size 0: -EINVAL");
	is_int(enrp_ns_readlink(st, (uint64_t)ino_of(ra, "file"), buf, sizeof(buf)), -EINVAL,
	       "readlink of a regular file: -EINVAL");
	is_int(enrp_ns_readlink(st, NO_INO, buf, sizeof(buf)), -ENOENT,
	       "readlink of no inode: -ENOENT");

	is_int(enrp_ns_mknod(st, &user, ra, "fifo", S_IFIFO | 0600, makedev(9, 9), NULL, &s), 0,
	       "mkfifo");
	is_int(s.st.st_mode, S_IFIFO | 0600, "fifo: mode");
	is_int(s.st.st_rdev, 0, "fifo: rdev ignored");
	is_int(s.st.st_nlink, 1, "fifo: nlink 1");
	is_int(enrp_ns_mknod(st, &user, ra, "sock", S_IFSOCK | 0755, 0, NULL, &s), 0, "socket");
	is_int(s.st.st_mode, S_IFSOCK | 0755, "sock: mode");
	is_int(enrp_ns_mknod(st, &user, ra, "null", S_IFCHR | 0666, makedev(1, 3), NULL, &s), 0,
	       "character device");
	is_int(s.st.st_mode, S_IFCHR | 0666, "chr: mode");
	is_int(s.st.st_rdev, makedev(1, 3), "chr: rdev");
	is_int(enrp_ns_getattr(st, s.st.st_ino, &l), 0, "getattr chr");
	is_int(l.st.st_rdev, makedev(1, 3), "chr: rdev stored");
	is_int(enrp_ns_mknod(st, &user, ra, "sda1", S_IFBLK | 0660, makedev(8, 1), NULL, &s), 0,
	       "block device");
	is_int(s.st.st_mode, S_IFBLK | 0660, "blk: mode");
	is_int(s.st.st_rdev, makedev(8, 1), "blk: rdev");
	is_int(s.content, ENRP_CONTENT_NONE, "blk: no content");

	struct enrp_eir_usage u = usage_of(alpha.id);
	is_int(u.inodes, u0.inodes + 9, "usage counts the 9 new inodes");
	is_int(u.bytes, u0.bytes, "and no bytes");

	/* Bad types and symlink targets. */
	is_int(enrp_ns_mknod(st, &user, ra, "bad", 0644, 0, NULL, &s), -EINVAL,
	       "mknod without a type: -EINVAL");
	is_int(enrp_ns_mknod(st, &user, ra, "bad", S_IFMT | 0644, 0, NULL, &s), -EINVAL,
	       "mknod of type S_IFMT: -EINVAL");
	is_int(enrp_ns_mknod(st, &user, ra, "bad", S_IFLNK | 0777, 0, NULL, &s), -EINVAL,
	       "symlink without a target: -EINVAL");
	is_int(enrp_ns_mknod(st, &user, ra, "bad", S_IFLNK | 0777, 0, "", &s), -ENOENT,
	       "symlink to \"\": -ENOENT");
	static char longt[ENRP_SYMLINK_MAX + 2];
	memset(longt, 'x', ENRP_SYMLINK_MAX + 1);
	is_int(enrp_ns_mknod(st, &user, ra, "bad", S_IFLNK | 0777, 0, longt, &s), -ENAMETOOLONG,
	       "symlink target of 4096 bytes: -ENAMETOOLONG");
	longt[ENRP_SYMLINK_MAX] = '\0';
	is_int(enrp_ns_mknod(st, &user, ra, "maxlink", S_IFLNK | 0777, 0, longt, &s), 0,
	       "symlink target of 4095 bytes");
	static char back[ENRP_SYMLINK_MAX + 1];
	is_int(enrp_ns_readlink(st, s.st.st_ino, back, sizeof(back)), 0, "readlink it");
	ok(strcmp(back, longt) == 0, "the 4095-byte target comes back whole");
	is_int(ino_of(ra, "bad"), -ENOENT, "no failed mknod left an entry");
	is_int(usage_of(alpha.id).inodes, u0.inodes + 10, "nor an inode in the usage");
}

/* ---- creation errors ---- */

static void create_errors(void)
{
	const uint64_t ra = alpha.root_ino;
	struct enrp_stat s;
	struct enrp_eir_usage u0 = usage_of(alpha.id);
	uint64_t file = (uint64_t)ino_of(ra, "file");
	uint64_t dir = (uint64_t)ino_of(ra, "dir");
	long ra_nlink = nlink_of(ra);

	is_int(enrp_ns_mknod(st, &user, ra, "file", S_IFREG | 0644, 0, NULL, &s), -EEXIST,
	       "mknod over an existing file: -EEXIST");
	is_int(enrp_ns_mknod(st, &user, ra, "file", S_IFDIR | 0755, 0, NULL, &s), -EEXIST,
	       "mkdir over an existing file: -EEXIST");
	is_int(enrp_ns_mknod(st, &user, ra, "dir", S_IFLNK | 0777, 0, "x", &s), -EEXIST,
	       "symlink over an existing dir: -EEXIST");
	is_int(nlink_of(ra), ra_nlink, "a refused mkdir leaves the parent's nlink");

	is_int(enrp_ns_mknod(st, &user, ra, ENRP_STATUS_DIR_NAME, S_IFREG | 0644, 0, NULL, &s),
	       -EEXIST, "mknod .enrp in an EIR directory: -EEXIST");
	is_int(enrp_ns_mknod(st, &user, ra, ENRP_SNAPSHOTS_NAME, S_IFDIR | 0755, 0, NULL, &s),
	       -EEXIST, "mkdir .snapshots in an EIR directory: -EEXIST");
	is_int(enrp_ns_mknod(st, &user, ra, ENRP_SNAPSHOTS_NAME, S_IFLNK | 0777, 0, "x", &s),
	       -EEXIST, "symlink .snapshots in an EIR directory: -EEXIST");
	is_int(ino_of(ra, ENRP_SNAPSHOTS_NAME), -ENOENT, "lookup of a reserved name: -ENOENT");
	ok(enrp_ns_reserved(".enrp") && enrp_ns_reserved(".snapshots") &&
	   !enrp_ns_reserved(".snapshot") && !enrp_ns_reserved("enrp"),
	   "enrp_ns_reserved: exactly .enrp and .snapshots");
	is_int(enrp_ns_mknod(st, &user, dir, ENRP_STATUS_DIR_NAME, S_IFREG | 0644, 0, NULL, &s), 0,
	       ".enrp is an ordinary name in a subdirectory");
	is_int(enrp_ns_mknod(st, &user, dir, ENRP_SNAPSHOTS_NAME, S_IFDIR | 0755, 0, NULL, &s), 0,
	       "so is .snapshots");
	ok(ino_of(dir, ENRP_SNAPSHOTS_NAME) > 0, "and it can be looked up there");

	is_int(enrp_ns_mknod(st, &user, ra, ".", S_IFDIR | 0755, 0, NULL, &s), -EEXIST,
	       "mkdir \".\": -EEXIST");
	is_int(enrp_ns_mknod(st, &user, ra, "..", S_IFREG | 0644, 0, NULL, &s), -EEXIST,
	       "mknod \"..\": -EEXIST");
	is_int(enrp_ns_mknod(st, &user, ra, "", S_IFREG | 0644, 0, NULL, &s), -EINVAL,
	       "mknod \"\": -EINVAL");
	is_int(enrp_ns_mknod(st, &user, ra, "a/b", S_IFREG | 0644, 0, NULL, &s), -EINVAL,
	       "a name with a slash: -EINVAL");

	char name[ENRP_NAME_MAX + 2];
	memset(name, 'n', ENRP_NAME_MAX + 1);
	name[ENRP_NAME_MAX + 1] = '\0';
	is_int(enrp_ns_mknod(st, &user, ra, name, S_IFREG | 0644, 0, NULL, &s), -ENAMETOOLONG,
	       "a 256-byte name: -ENAMETOOLONG");
	is_int(enrp_ns_lookup(st, ra, name, &s), -ENAMETOOLONG, "lookup of it: -ENAMETOOLONG");
	name[ENRP_NAME_MAX] = '\0';
	is_int(enrp_ns_mknod(st, &user, ra, name, S_IFREG | 0644, 0, NULL, &s), 0,
	       "a 255-byte name is fine");
	is_int(ino_of(ra, name), s.st.st_ino, "and found again");
	is_int(enrp_ns_unlink(st, &user, ra, name, false), 0, "and removed");

	is_int(enrp_ns_mknod(st, &user, file, "x", S_IFREG | 0644, 0, NULL, &s), -ENOTDIR,
	       "parent is a regular file: -ENOTDIR");
	is_int(enrp_ns_lookup(st, file, "x", &s), -ENOTDIR, "lookup under a file: -ENOTDIR");
	is_int(enrp_ns_mknod(st, &user, NO_INO, "x", S_IFREG | 0644, 0, NULL, &s), -ENOENT,
	       "parent does not exist: -ENOENT");

	is_int(enrp_ns_mknod(st, &user, ENRP_ROOT_INO, "x", S_IFREG | 0644, 0, NULL, &s), -EPERM,
	       "mknod at the root: -EPERM");
	is_int(enrp_ns_mknod(st, &user, ENRP_ROOT_INO, "newdir", S_IFDIR | 0755, 0, NULL, &s),
	       -EPERM, "mkdir at the root: -EPERM");
	is_int(enrp_ns_mknod(st, &user, ENRP_ROOT_INO, "alpha", S_IFDIR | 0755, 0, NULL, &s),
	       -EPERM, "mkdir of an existing EIR name at the root: -EPERM");
	is_int(enrp_ns_mknod(st, &user, ENRP_ROOT_INO, "l", S_IFLNK | 0777, 0, "alpha", &s),
	       -EPERM, "symlink at the root: -EPERM");

	/* A removed directory accepts nothing. */
	uint64_t gone = mk(ra, "gone", S_IFDIR | 0755);
	is_int(enrp_ns_unlink(st, &user, ra, "gone", true), 0, "rmdir an empty dir");
	is_int(enrp_ns_mknod(st, &user, gone, "x", S_IFREG | 0644, 0, NULL, &s), -ENOENT,
	       "mknod in a removed directory: -ENOENT");
	is_int(enrp_ns_forget(st, gone), 0, "forget the removed directory");

	struct enrp_eir_usage u = usage_of(alpha.id);
	is_int(u.inodes, u0.inodes + 2, "usage: only the two subdirectory entries were added");
}

/* ---- setgid directories ---- */

static void setgid_dirs(void)
{
	const uint64_t ra = alpha.root_ino;
	struct enrp_stat s;
	struct stat a;
	uint64_t sg = mk(ra, "sgid", S_IFDIR | 02775);
	memset(&a, 0, sizeof(a));
	a.st_gid = 5000;
	is_int(enrp_ns_setattr(st, &user, sg, &a, ENRP_SETATTR_GID, &s), 0, "chgrp sgid 5000");
	is_int(s.st.st_mode, S_IFDIR | 02775, "sgid: setgid bit kept");
	is_int(s.st.st_gid, 5000, "sgid: gid 5000");

	is_int(enrp_ns_mknod(st, &user, sg, "f", S_IFREG | 0644, 0, NULL, &s), 0,
	       "file in a setgid dir");
	is_int(s.st.st_gid, 5000, "file takes the directory's gid");
	is_int(s.st.st_uid, 1000, "and the caller's uid");
	is_int(s.st.st_mode, S_IFREG | 0644, "file gets no setgid bit");
	is_int(enrp_ns_mknod(st, &user, sg, "d", S_IFDIR | 0755, 0, NULL, &s), 0,
	       "subdir in a setgid dir");
	is_int(s.st.st_gid, 5000, "subdir takes the directory's gid");
	is_int(s.st.st_mode, S_IFDIR | 02755, "subdir inherits S_ISGID");
	uint64_t d = s.st.st_ino;
	is_int(enrp_ns_getattr(st, d, &s), 0, "getattr subdir");
	is_int(s.st.st_mode, S_IFDIR | 02755, "S_ISGID is stored");
	is_int(enrp_ns_mknod(st, &user, d, "dd", S_IFDIR | 0700, 0, NULL, &s), 0,
	       "grandchild dir");
	is_int(s.st.st_gid, 5000, "grandchild takes the gid too");
	is_int(s.st.st_mode, S_IFDIR | 02700, "and S_ISGID");
	is_int(enrp_ns_mknod(st, &user, d, "sock", S_IFSOCK | 0700, 0, NULL, &s), 0,
	       "socket under the inherited setgid");
	is_int(s.st.st_gid, 5000, "socket takes the gid");

	/* Without setgid the caller's gid wins. */
	uint64_t plain = mk(ra, "plain", S_IFDIR | 0775);
	memset(&a, 0, sizeof(a));
	a.st_gid = 5000;
	enrp_ns_setattr(st, &user, plain, &a, ENRP_SETATTR_GID, NULL);
	is_int(enrp_ns_mknod(st, &user, plain, "f", S_IFREG | 0644, 0, NULL, &s), 0,
	       "file in a plain dir of gid 5000");
	is_int(s.st.st_gid, 1000, "takes the caller's gid");
	is_int(enrp_ns_mknod(st, &user, plain, "d", S_IFDIR | 0755, 0, NULL, &s), 0,
	       "subdir in a plain dir");
	is_int(s.st.st_mode, S_IFDIR | 0755, "gets no S_ISGID");
}

/* ---- hard links ---- */

static void links(void)
{
	const uint64_t ra = alpha.root_ino;
	struct enrp_stat s;
	uint64_t ld = mk(ra, "ldir", S_IFDIR | 0755);
	uint64_t f = mk(ra, "lf", S_IFREG | 0644);
	is_int(set_size(&user, f, 300), 0, "lf: size 300");
	struct enrp_eir_usage u0 = usage_of(alpha.id);

	is_int(enrp_ns_link(st, &user, f, ra, "lf2", &s), 0, "link lf -> lf2");
	is_int(s.st.st_ino, f, "link: same inode");
	is_int(s.st.st_nlink, 2, "link: nlink 2");
	is_int(enrp_ns_link(st, &user, f, ld, "lf3", &s), 0, "link into a subdirectory");
	is_int(s.st.st_nlink, 3, "nlink 3");
	is_int(nlink_of(f), 3, "getattr: nlink 3");
	is_int(ino_of(ra, "lf2"), f, "lookup lf2: the same inode");
	is_int(ino_of(ld, "lf3"), f, "lookup ldir/lf3: the same inode");
	is_int(nlink_of(ld), 2, "a link does not change the directory's nlink");
	struct enrp_eir_usage u = usage_of(alpha.id);
	is_int(u.inodes, u0.inodes, "links add no inode to the usage");
	is_int(u.bytes, u0.bytes, "nor bytes");

	is_int(enrp_ns_link(st, &user, ld, ra, "ldir2", &s), -EPERM, "link of a directory: -EPERM");
	is_int(enrp_ns_link(st, &user, f, ra, "lf2", &s), -EEXIST, "link over an existing name: -EEXIST");
	is_int(enrp_ns_link(st, &user, f, ra, "ldir", &s), -EEXIST, "link over a directory: -EEXIST");
	is_int(enrp_ns_link(st, &user, f, beta.root_ino, "lf", &s), -EXDEV,
	       "link into another EIR: -EXDEV");
	is_int(enrp_ns_link(st, &user, f, ENRP_ROOT_INO, "lf", &s), -EPERM,
	       "link into the root: -EPERM");
	is_int(enrp_ns_link(st, &user, f, ra, ENRP_SNAPSHOTS_NAME, &s), -EEXIST,
	       "link as .snapshots in the EIR directory: -EEXIST");
	is_int(enrp_ns_link(st, &user, f, ld, ENRP_SNAPSHOTS_NAME, &s), 0,
	       "link as .snapshots in a subdirectory");
	is_int(enrp_ns_link(st, &user, f, f, "x", &s), -ENOTDIR, "link under a file: -ENOTDIR");
	is_int(enrp_ns_link(st, &user, f, ra, "..", &s), -EEXIST, "link as \"..\": -EEXIST");
	is_int(enrp_ns_link(st, &user, NO_INO, ra, "x", &s), -ENOENT, "link of no inode: -ENOENT");
	is_int(nlink_of(f), 4, "refused links changed nothing (4 links)");

	is_int(enrp_ns_unlink(st, &user, ra, "lf", false), 0, "unlink the first name");
	is_int(nlink_of(f), 3, "nlink 3");
	is_int(enrp_ns_unlink(st, &user, ld, ENRP_SNAPSHOTS_NAME, false), 0,
	       "unlink the .snapshots link in the subdirectory");
	is_int(enrp_ns_unlink(st, &user, ld, "lf3", false), 0, "unlink lf3");
	is_int(nlink_of(f), 1, "nlink 1");
	u = usage_of(alpha.id);
	is_int(u.inodes, u0.inodes, "the inode still counts while one link remains");
	is_int(u.bytes, u0.bytes, "so do its bytes");
	is_int(enrp_ns_unlink(st, &user, ra, "lf2", false), 0, "unlink the last name");
	is_int(nlink_of(f), 0, "nlink 0: an orphan");
	u = usage_of(alpha.id);
	is_int(u.inodes, u0.inodes - 1, "the orphan left the file count");
	is_int(u.bytes, u0.bytes, "its bytes stay charged while it can be written");
	is_int(enrp_ns_link(st, &user, f, ra, "revive", &s), -ENOENT,
	       "linking an orphan back: -ENOENT");
	is_int(nlink_of(f), 0, "still an orphan");
	is_int(enrp_ns_forget(st, f), 0, "forget it");
	is_int(nlink_of(f), -ENOENT, "gone");
	is_int(usage_of(alpha.id).bytes, u0.bytes - 300, "and now its bytes left the usage");
}

/* ---- unlink, rmdir and orphans ---- */

static void unlink_rmdir(void)
{
	const uint64_t ra = alpha.root_ino;
	struct enrp_stat s;
	uint64_t d = mk(ra, "ud", S_IFDIR | 0755);
	uint64_t dd = mk(d, "inner", S_IFDIR | 0755);
	uint64_t f = mk(d, "uf", S_IFREG | 0644);
	long ra_nlink = nlink_of(ra);

	is_int(enrp_ns_unlink(st, &user, ra, "ud", false), -EISDIR, "unlink a directory: -EISDIR");
	is_int(enrp_ns_unlink(st, &user, d, "uf", true), -ENOTDIR, "rmdir a file: -ENOTDIR");
	is_int(enrp_ns_unlink(st, &user, ra, "ud", true), -ENOTEMPTY,
	       "rmdir a non-empty dir: -ENOTEMPTY");
	is_int(enrp_ns_unlink(st, &user, d, "missing", false), -ENOENT, "unlink missing: -ENOENT");
	is_int(enrp_ns_unlink(st, &user, d, "missing", true), -ENOENT, "rmdir missing: -ENOENT");
	is_int(enrp_ns_unlink(st, &user, f, "x", false), -ENOTDIR, "unlink under a file: -ENOTDIR");
	is_int(enrp_ns_unlink(st, &user, NO_INO, "x", false), -ENOENT,
	       "unlink under no inode: -ENOENT");
	char name[ENRP_NAME_MAX + 2];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	is_int(enrp_ns_unlink(st, &user, d, name, false), -ENAMETOOLONG,
	       "unlink a 256-byte name: -ENAMETOOLONG");

	is_int(enrp_ns_unlink(st, &user, ENRP_ROOT_INO, "alpha", true), -EPERM,
	       "rmdir an EIR directory: -EPERM");
	is_int(enrp_ns_unlink(st, &user, ENRP_ROOT_INO, "alpha", false), -EPERM,
	       "unlink an EIR directory: -EPERM");
	is_int(enrp_ns_unlink(st, &user, ENRP_ROOT_INO, "nonesuch", false), -EPERM,
	       "unlink anything at the root: -EPERM");
	ok(ino_of(ENRP_ROOT_INO, "alpha") == (int64_t)ra, "alpha is still there");
	is_int(enrp_ns_unlink(st, &user, ra, ENRP_STATUS_DIR_NAME, true), -EPERM,
	       "rmdir .enrp: -EPERM");
	is_int(enrp_ns_unlink(st, &user, ra, ENRP_SNAPSHOTS_NAME, true), -EPERM,
	       "rmdir .snapshots: -EPERM");
	is_int(enrp_ns_unlink(st, &user, ra, ENRP_SNAPSHOTS_NAME, false), -EPERM,
	       "unlink .snapshots: -EPERM");
	uint64_t r = mk(d, ENRP_STATUS_DIR_NAME, S_IFREG | 0644);
	is_int(enrp_ns_unlink(st, &user, d, ENRP_STATUS_DIR_NAME, false), 0,
	       "a .enrp file in a subdirectory can be removed");
	enrp_ns_forget(st, r);

	/* rmdir: nlink of the parent, orphan directory. */
	is_int(enrp_ns_unlink(st, &user, d, "inner", true), 0, "rmdir an empty dir");
	is_int(nlink_of(d), 2, "parent nlink 3 -> 2");
	is_int(ino_of(d, "inner"), -ENOENT, "the entry is gone");
	is_int(nlink_of(dd), 0, "the removed dir is an orphan with nlink 0");
	is_int(enrp_ns_forget(st, dd), 0, "forget it");
	is_int(nlink_of(dd), -ENOENT, "then getattr: -ENOENT");

	/* unlink of the last link: an orphan, out of the file count at once, its
	 * bytes charged until it is freed (as ext4 keeps an open file's blocks). */
	is_int(set_size(&user, f, 5000), 0, "uf: size 5000");
	is_int(spool_size(f), 5000, "uf: spool file of 5000 bytes");
	struct enrp_eir_usage u0 = usage_of(alpha.id);
	is_int(enrp_ns_setxattr(st, &user, f, "user.keep", "v", 1, 0), 0, "xattr on uf");
	is_int(usage_of(alpha.id).bytes, u0.bytes + 10, "its name and value are charged (9 + 1)");
	u0.bytes += 10;
	is_int(enrp_ns_unlink(st, &user, d, "uf", false), 0, "unlink uf");
	is_int(ino_of(d, "uf"), -ENOENT, "the name is gone");
	struct enrp_eir_usage u = usage_of(alpha.id);
	is_int(u.bytes, u0.bytes, "usage bytes stay until the orphan is freed");
	is_int(u.inodes, u0.inodes - 1, "usage files drop at unlink time");
	is_int(enrp_ns_getattr(st, f, &s), 0, "the orphan is still gettable");
	is_int(s.st.st_nlink, 0, "with nlink 0");
	is_int(s.st.st_size, 5000, "and its size");
	is_int(spool_size(f), 5000, "and its spool file");
	size_t len = 0;
	char v[8];
	is_int(enrp_ns_getxattr(st, f, "user.keep", v, sizeof(v), &len), 0,
	       "its xattrs are still there");
	is_int(enrp_ns_forget(st, d), 0, "forget of a live inode: 0");
	is_int(nlink_of(d), 2, "and a no-op");
	is_int(enrp_ns_forget(st, NO_INO), 0, "forget of no inode: 0");
	is_int(enrp_ns_forget(st, f), 0, "forget the orphan");
	is_int(enrp_ns_getattr(st, f, &s), -ENOENT, "now getattr: -ENOENT");
	is_int(spool_size(f), -ENOENT, "its spool file is removed");
	is_int(enrp_ns_getxattr(st, f, "user.keep", v, sizeof(v), &len), -ENODATA,
	       "its xattrs are gone");
	is_int(enrp_ns_listxattr(st, f, v, sizeof(v), &len), 0, "listxattr of the freed inode");
	is_int(len, 0, "lists nothing");
	is_int(enrp_ns_forget(st, f), 0, "a second forget: 0");
	u = usage_of(alpha.id);
	is_int(u.bytes, u0.bytes - 5010, "freeing the orphan releases its bytes and xattrs, once");
	is_int(u.inodes, u0.inodes - 1, "and leaves the file count alone");

	is_int(enrp_ns_unlink(st, &user, ra, "ud", true), 0, "rmdir ud (now empty)");
	is_int(nlink_of(ra), ra_nlink - 1, "EIR dir nlink drops by one");
	enrp_ns_forget(st, d);

	/* Usage files of a removed symlink and fifo. */
	u0 = usage_of(alpha.id);
	uint64_t sl = mk(ra, "sl", S_IFLNK | 0777);
	is_int(usage_of(alpha.id).bytes, u0.bytes, "a symlink adds no bytes");
	is_int(enrp_ns_unlink(st, &user, ra, "sl", false), 0, "unlink the symlink");
	is_int(usage_of(alpha.id).inodes, u0.inodes, "file count back");
	enrp_ns_forget(st, sl);
}

/* ---- rename ---- */

static void rename_tests(void)
{
	const uint64_t ra = alpha.root_ino;
	struct enrp_eir_usage u0, u;
	uint64_t p1 = mk(ra, "p1", S_IFDIR | 0755);
	uint64_t p2 = mk(ra, "p2", S_IFDIR | 0755);
	uint64_t a = mk(p1, "a", S_IFREG | 0644);
	char b[ENRP_NAME_MAX + 2];
	int rc;

	/* Plain moves. */
	is_int(enrp_ns_rename(st, &user, p1, "a", p1, "b", 0), 0, "rename a -> b");
	is_int(ino_of(p1, "a"), -ENOENT, "a is gone");
	is_int(ino_of(p1, "b"), a, "b is the same inode");
	is_int(enrp_ns_rename(st, &user, p1, "b", p2, "c", 0), 0, "move p1/b -> p2/c");
	is_int(ino_of(p1, "b"), -ENOENT, "p1/b is gone");
	is_int(ino_of(p2, "c"), a, "p2/c is the inode");
	is_int(nlink_of(a), 1, "still one link");
	is_int(nlink_of(p1), 2, "a file move leaves p1's nlink");
	is_int(nlink_of(p2), 2, "and p2's");
	is_int(enrp_ns_rename(st, &user, p1, "missing", p1, "x", 0), -ENOENT,
	       "rename of a missing name: -ENOENT");

	/* A directory moved across dirs: nlinks and its "..". */
	uint64_t m = mk(p1, "m", S_IFDIR | 0755);
	is_int(nlink_of(p1), 3, "p1 nlink 3 with m");
	is_int(enrp_ns_rename(st, &user, p1, "m", p2, "m", 0), 0, "move dir p1/m -> p2/m");
	is_int(nlink_of(p1), 2, "p1 nlink back to 2");
	is_int(nlink_of(p2), 3, "p2 nlink 3");
	is_int(enrp_ns_rename(st, &user, ra, "p2", m, "x", 0), -EINVAL,
	       "moving p2 under m (its new child): -EINVAL, so m's parent is p2");
	is_int(enrp_ns_rename(st, &user, ra, "p1", m, "p1", 0), 0,
	       "moving p1 under m is fine (m's parent is no longer p1)");
	is_int(nlink_of(m), 3, "m nlink 3 with p1 inside");
	is_int(enrp_ns_rename(st, &user, m, "p1", ra, "p1", 0), 0, "and back");
	is_int(nlink_of(m), 2, "m nlink 2");
	is_int(enrp_ns_rename(st, &user, p2, "m", p2, "m2", 0), 0, "rename a dir in place");
	is_int(nlink_of(p2), 3, "p2 nlink unchanged by a rename within it");

	/* Over an existing file: the target becomes an orphan. */
	uint64_t t = mk(p1, "t", S_IFREG | 0644);
	uint64_t s = mk(p1, "s", S_IFREG | 0644);
	set_size(&user, t, 700);
	set_size(&user, s, 20);
	u0 = usage_of(alpha.id);
	is_int(enrp_ns_rename(st, &user, p1, "s", p1, "t", 0), 0, "rename s over t");
	is_int(ino_of(p1, "t"), s, "t is now s's inode");
	is_int(ino_of(p1, "s"), -ENOENT, "s is gone");
	is_int(nlink_of(t), 0, "the old t is an orphan");
	is_int(size_of(t), 700, "still gettable with its size");
	u = usage_of(alpha.id);
	is_int(u.inodes, u0.inodes - 1, "usage: one file less");
	is_int(u.bytes, u0.bytes, "usage: the old t's bytes count until it is freed");
	is_int(enrp_ns_forget(st, t), 0, "forget the old t");
	is_int(nlink_of(t), -ENOENT, "freed");
	is_int(usage_of(alpha.id).bytes, u0.bytes - 700, "usage: now its bytes are gone");

	/* NOREPLACE. */
	uint64_t n = mk(p1, "n", S_IFREG | 0644);
	is_int(enrp_ns_rename(st, &user, p1, "n", p1, "t", RENAME_NOREPLACE), -EEXIST,
	       "NOREPLACE over an existing name: -EEXIST");
	is_int(ino_of(p1, "n"), n, "n unchanged");
	is_int(ino_of(p1, "t"), s, "t unchanged");
	is_int(enrp_ns_rename(st, &user, p1, "n", p1, "n2", RENAME_NOREPLACE), 0,
	       "NOREPLACE to a free name");
	is_int(ino_of(p1, "n2"), n, "moved");

	/* EXCHANGE of two files. */
	is_int(enrp_ns_rename(st, &user, p1, "n2", p1, "t", RENAME_EXCHANGE), 0,
	       "EXCHANGE two files");
	is_int(ino_of(p1, "n2"), s, "n2 is now s");
	is_int(ino_of(p1, "t"), n, "t is now n");
	is_int(nlink_of(s), 1, "no link count changed (s)");
	is_int(nlink_of(n), 1, "no link count changed (n)");
	is_int(enrp_ns_rename(st, &user, p1, "n2", p1, "nothing", RENAME_EXCHANGE), -ENOENT,
	       "EXCHANGE with a missing target: -ENOENT");
	is_int(ino_of(p1, "n2"), s, "n2 still there");
	is_int(enrp_ns_rename(st, &user, p1, "n2", p1, "t", RENAME_EXCHANGE | RENAME_NOREPLACE),
	       -EINVAL, "EXCHANGE|NOREPLACE: -EINVAL");
	is_int(enrp_ns_rename(st, &user, p1, "n2", p1, "t", RENAME_WHITEOUT), -EINVAL,
	       "WHITEOUT: -EINVAL");
	is_int(enrp_ns_rename(st, &user, p1, "n2", p1, "t", 1u << 10), -EINVAL,
	       "an unknown flag: -EINVAL");

	/* EXCHANGE of a file and a directory across directories. */
	uint64_t xf = mk(p1, "xf", S_IFREG | 0644);
	uint64_t xd = mk(p2, "xd", S_IFDIR | 0755);
	mk(xd, "content", S_IFREG | 0644);
	long n1 = nlink_of(p1), n2 = nlink_of(p2);
	is_int(enrp_ns_rename(st, &user, p1, "xf", p2, "xd", RENAME_EXCHANGE), 0,
	       "EXCHANGE p1/xf (file) with p2/xd (dir)");
	is_int(ino_of(p1, "xf"), xd, "p1/xf is the dir");
	is_int(ino_of(p2, "xd"), xf, "p2/xd is the file");
	is_int(nlink_of(p1), n1 + 1, "p1 gained a subdirectory: nlink + 1");
	is_int(nlink_of(p2), n2 - 1, "p2 lost one: nlink - 1");
	is_int(nlink_of(xd), 2, "the dir's own nlink is unchanged");
	ok(ino_of(xd, "content") > 0, "the dir kept its content");
	is_int(enrp_ns_rename(st, &user, ra, "p1", xd, "p1", 0), -EINVAL,
	       "p1 under the exchanged dir: -EINVAL (its \"..\" is p1)");
	is_int(enrp_ns_rename(st, &user, ra, "p2", xd, "p2", RENAME_NOREPLACE), 0,
	       "p2 under it is fine (its \"..\" is no longer p2)");
	is_int(enrp_ns_rename(st, &user, xd, "p2", ra, "p2", 0), 0, "p2 back");
	/* And back the other way round: source a dir, target a file. */
	is_int(enrp_ns_rename(st, &user, p1, "xf", p2, "xd", RENAME_EXCHANGE), 0,
	       "EXCHANGE p1/xf (dir) with p2/xd (file)");
	is_int(ino_of(p1, "xf"), xf, "p1/xf is the file again");
	is_int(ino_of(p2, "xd"), xd, "p2/xd is the dir again");
	is_int(nlink_of(p1), n1, "p1 nlink restored");
	is_int(nlink_of(p2), n2, "p2 nlink restored");
	is_int(enrp_ns_rename(st, &user, ra, "p2", xd, "p2", 0), -EINVAL,
	       "p2 under xd: -EINVAL again (its \"..\" is p2)");
	/* The exchanged dir can be moved and removed normally. */
	is_int(enrp_ns_rename(st, &user, p1, "xf", p2, "xd", RENAME_EXCHANGE), 0,
	       "exchange once more (dir now in p1)");
	long ran = nlink_of(ra);
	is_int(enrp_ns_rename(st, &user, p1, "xf", ra, "xmoved", 0), 0,
	       "move the exchanged dir to the EIR directory");
	is_int(nlink_of(p1), n1, "p1 nlink back to where it was");
	is_int(nlink_of(ra), ran + 1, "EIR dir nlink + 1");
	is_int(enrp_ns_unlink(st, &user, xd, "content", false), 0, "empty it");
	is_int(enrp_ns_unlink(st, &user, ra, "xmoved", true), 0, "rmdir it");
	is_int(nlink_of(ra), ran, "EIR dir nlink back");
	is_int(nlink_of(p2), n2 - 1, "p2 holds only the file now");

	/* EXCHANGE of two dirs across parents: nlinks unchanged. */
	uint64_t e1 = mk(p1, "e1", S_IFDIR | 0755), e2 = mk(p2, "e2", S_IFDIR | 0755);
	n1 = nlink_of(p1), n2 = nlink_of(p2);
	is_int(enrp_ns_rename(st, &user, p1, "e1", p2, "e2", RENAME_EXCHANGE), 0,
	       "EXCHANGE two dirs across parents");
	is_int(nlink_of(p1), n1, "p1 nlink unchanged");
	is_int(nlink_of(p2), n2, "p2 nlink unchanged");
	is_int(ino_of(p1, "e1"), e2, "p1/e1 is e2");
	is_int(enrp_ns_rename(st, &user, ra, "p1", e2, "x", 0), -EINVAL, "e2's parent is p1");
	is_int(enrp_ns_rename(st, &user, ra, "p2", e1, "x", 0), -EINVAL, "e1's parent is p2");

	/* Into its own subtree. */
	uint64_t top = mk(ra, "top", S_IFDIR | 0755);
	uint64_t mid = mk(top, "mid", S_IFDIR | 0755);
	uint64_t low = mk(mid, "low", S_IFDIR | 0755);
	mk(low, "leaf", S_IFREG | 0644);
	is_int(enrp_ns_rename(st, &user, ra, "top", top, "x", 0), -EINVAL,
	       "dir into itself: -EINVAL");
	is_int(enrp_ns_rename(st, &user, ra, "top", low, "x", 0), -EINVAL,
	       "dir into its grandchild: -EINVAL");
	is_int(enrp_ns_rename(st, &user, ra, "top", low, "leaf", RENAME_EXCHANGE), -EINVAL,
	       "EXCHANGE a dir with a file in its subtree: -EINVAL");
	is_int(enrp_ns_rename(st, &user, low, "leaf", ra, "top", RENAME_EXCHANGE), -EINVAL,
	       "EXCHANGE the other way round: -EINVAL");
	is_int(enrp_ns_rename(st, &user, mid, "low", top, "mid", RENAME_EXCHANGE), -EINVAL,
	       "EXCHANGE a dir with its own parent: -EINVAL");
	is_int(ino_of(top, "mid"), mid, "the tree is unchanged");
	is_int(ino_of(mid, "low"), low, "all of it");

	/* Type and emptiness errors. */
	uint64_t full = mk(ra, "full", S_IFDIR | 0755);
	mk(full, "x", S_IFREG | 0644);
	uint64_t empty = mk(ra, "empty", S_IFDIR | 0755);
	uint64_t rf = mk(ra, "rf", S_IFREG | 0644);
	is_int(enrp_ns_rename(st, &user, ra, "empty", ra, "full", 0), -ENOTEMPTY,
	       "dir over a non-empty dir: -ENOTEMPTY");
	is_int(enrp_ns_rename(st, &user, ra, "rf", ra, "empty", 0), -EISDIR,
	       "file over a dir: -EISDIR");
	is_int(enrp_ns_rename(st, &user, ra, "empty", ra, "rf", 0), -ENOTDIR,
	       "dir over a file: -ENOTDIR");
	ran = nlink_of(ra);
	u0 = usage_of(alpha.id);
	is_int(enrp_ns_rename(st, &user, ra, "full", ra, "empty", 0), 0,
	       "dir over an empty dir");
	is_int(ino_of(ra, "empty"), full, "the name is the moved dir");
	is_int(nlink_of(empty), 0, "the replaced dir is an orphan");
	is_int(nlink_of(ra), ran - 1, "parent nlink - 1");
	is_int(usage_of(alpha.id).inodes, u0.inodes - 1, "usage: one inode less");
	enrp_ns_forget(st, empty);
	is_int(enrp_ns_rename(st, &user, p1, "t", p2, "e2", 0), -EISDIR,
	       "file over a dir across parents: -EISDIR");

	/* Over a target with another link: it loses one link, no orphan. */
	uint64_t hl = mk(p1, "hl", S_IFREG | 0644);
	uint64_t src = mk(p1, "src", S_IFREG | 0644);
	struct enrp_stat ls;
	is_int(enrp_ns_link(st, &user, hl, p2, "hl-other", &ls), 0, "a second link of hl");
	set_size(&user, hl, 33);
	u0 = usage_of(alpha.id);
	is_int(enrp_ns_rename(st, &user, p1, "src", p1, "hl", 0), 0, "rename over a 2-link file");
	is_int(nlink_of(hl), 1, "the target keeps its other link");
	is_int(ino_of(p1, "hl"), src, "the name is the source's");
	is_int(ino_of(p2, "hl-other"), hl, "reachable there");
	u = usage_of(alpha.id);
	is_int(u.inodes, u0.inodes, "usage: no inode left");
	is_int(u.bytes, u0.bytes, "usage: its bytes still count");
	is_int(enrp_ns_unlink(st, &user, p2, "hl-other", false), 0, "unlink its last link");
	is_int(usage_of(alpha.id).bytes, u0.bytes, "an orphan now: its bytes still count");
	enrp_ns_forget(st, hl);
	is_int(usage_of(alpha.id).bytes, u0.bytes - 33, "freed: its bytes leave the usage");

	/* A directory over an empty directory in another parent. */
	uint64_t mv = mk(p1, "mv", S_IFDIR | 0755);
	uint64_t tgt = mk(p2, "tgt", S_IFDIR | 0755);
	n1 = nlink_of(p1), n2 = nlink_of(p2);
	is_int(enrp_ns_rename(st, &user, p1, "mv", p2, "tgt", 0), 0,
	       "dir over an empty dir in another parent");
	is_int(nlink_of(p1), n1 - 1, "source parent nlink - 1");
	is_int(nlink_of(p2), n2, "target parent nlink unchanged (one dir out, one in)");
	is_int(nlink_of(tgt), 0, "the replaced dir is an orphan");
	is_int(enrp_ns_rename(st, &user, ra, "p2", mv, "x", 0), -EINVAL, "mv's parent is p2");
	enrp_ns_forget(st, tgt);

	/* Nothing can be moved into a removed directory (mknod and link refuse
	 * with -ENOENT too): its entries would outlive it, unreachable. */
	uint64_t dead = mk(ra, "dead", S_IFDIR | 0755);
	uint64_t mover = mk(ra, "mover", S_IFREG | 0644);
	is_int(enrp_ns_unlink(st, &user, ra, "dead", true), 0, "rmdir dead");
	is_int(enrp_ns_link(st, &user, mover, dead, "x", &ls), -ENOENT,
	       "link into the removed dir: -ENOENT");
	is_int(enrp_ns_rename(st, &user, ra, "mover", dead, "mover", 0), -ENOENT,
	       "rename into the removed dir: -ENOENT");
	is_int(ino_of(ra, "mover"), mover, "the file stays where it was");
	is_str(list_dir(dead, &rc), "", "the removed dir stays empty");
	enrp_ns_forget(st, dead);
	is_int(nlink_of(mover), 1, "the file is intact after the dir is freed");

	/* Hard links: the same inode under both names. */
	uint64_t h = mk(ra, "h1", S_IFREG | 0644);
	struct enrp_stat hs;
	is_int(enrp_ns_link(st, &user, h, ra, "h2", &hs), 0, "link h1 -> h2");
	is_int(enrp_ns_rename(st, &user, ra, "h1", ra, "h2", 0), 0,
	       "rename a name over another link of the same inode: 0");
	is_int(ino_of(ra, "h1"), h, "h1 remains");
	is_int(ino_of(ra, "h2"), h, "h2 remains");
	is_int(nlink_of(h), 2, "nlink still 2");
	is_int(enrp_ns_rename(st, &user, ra, "h1", ra, "h2", RENAME_EXCHANGE), 0,
	       "EXCHANGE of two links of one inode: 0");
	is_int(enrp_ns_rename(st, &user, ra, "h1", ra, "h2", RENAME_NOREPLACE), -EEXIST,
	       "NOREPLACE onto another link: -EEXIST");
	is_int(nlink_of(h), 2, "nlink still 2");

	/* Across EIRs, the root, reserved and bad names. */
	uint64_t bf = mk(beta.root_ino, "bf", S_IFREG | 0644);
	is_int(enrp_ns_rename(st, &user, ra, "rf", beta.root_ino, "rf", 0), -EXDEV,
	       "rename into another EIR: -EXDEV");
	is_int(enrp_ns_rename(st, &user, beta.root_ino, "bf", ra, "rf", RENAME_EXCHANGE), -EXDEV,
	       "EXCHANGE across EIRs: -EXDEV");
	is_int(ino_of(beta.root_ino, "bf"), bf, "bf unchanged");
	is_int(enrp_ns_rename(st, &user, ENRP_ROOT_INO, "alpha", ENRP_ROOT_INO, "gamma", 0),
	       -EPERM, "rename an EIR directory: -EPERM");
	is_int(enrp_ns_rename(st, &user, ra, "rf", ENRP_ROOT_INO, "rf", 0), -EPERM,
	       "move into the root: -EPERM");
	is_int(enrp_ns_rename(st, &user, ENRP_ROOT_INO, "alpha", ra, "alpha", 0), -EPERM,
	       "move out of the root: -EPERM");
	is_int(ino_of(ENRP_ROOT_INO, "alpha"), ra, "alpha is where it was");
	is_int(enrp_ns_rename(st, &user, ra, "rf", ra, ENRP_SNAPSHOTS_NAME, 0), -EPERM,
	       "rename to .snapshots in an EIR directory: -EPERM");
	is_int(enrp_ns_rename(st, &user, ra, ENRP_STATUS_DIR_NAME, ra, "x", 0), -EPERM,
	       "rename from .enrp in an EIR directory: -EPERM");
	is_int(enrp_ns_rename(st, &user, ra, "rf", p1, ENRP_SNAPSHOTS_NAME, 0), 0,
	       "rename to .snapshots in a subdirectory");
	is_int(ino_of(p1, ENRP_SNAPSHOTS_NAME), rf, "found there");
	is_int(enrp_ns_rename(st, &user, p1, ENRP_SNAPSHOTS_NAME, ra, "rf", 0), 0, "and back");
	is_int(enrp_ns_rename(st, &user, ra, "rf", ra, ".", 0), -EBUSY, "rename to \".\": -EBUSY");
	is_int(enrp_ns_rename(st, &user, ra, "rf", ra, "", 0), -EINVAL, "rename to \"\": -EINVAL");
	memset(b, 'b', sizeof(b) - 1);
	b[sizeof(b) - 1] = '\0';
	is_int(enrp_ns_rename(st, &user, ra, "rf", ra, b, 0), -ENAMETOOLONG,
	       "rename to a 256-byte name: -ENAMETOOLONG");
	is_int(enrp_ns_rename(st, &user, ra, b, ra, "x", 0), -ENAMETOOLONG,
	       "rename from a 256-byte name: -ENAMETOOLONG");
	is_int(enrp_ns_rename(st, &user, rf, "x", ra, "y", 0), -ENOTDIR,
	       "rename under a file: -ENOTDIR");
	is_int(ino_of(ra, "rf"), rf, "rf survived all that");
}

/* ---- setattr ---- */

static int64_t ts_ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void setattr_tests(void)
{
	const uint64_t ra = alpha.root_ino;
	struct enrp_stat s;
	struct stat a;
	uint64_t f = mk(ra, "sa", S_IFREG | 0644);
	uint64_t d = mk(ra, "sad", S_IFDIR | 0755);
	uint64_t l = mk(ra, "sal", S_IFLNK | 0777);

	memset(&a, 0, sizeof(a));
	a.st_mode = S_IFDIR | 04751; /* the type bits must be ignored */
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_MODE, &s), 0, "chmod 4751");
	is_int(s.st.st_mode, S_IFREG | 04751, "mode changed, type kept");
	is_int(enrp_ns_getattr(st, f, &s), 0, "getattr");
	is_int(s.st.st_mode, S_IFREG | 04751, "mode stored");
	is_int(s.st.st_uid, 1000, "chmod left the uid");

	a.st_uid = 2001;
	a.st_gid = 3001;
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_UID, &s), 0, "chown 2001");
	is_int(s.st.st_uid, 2001, "uid 2001");
	is_int(s.st.st_gid, 1000, "gid untouched");
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_GID, &s), 0, "chgrp 3001");
	is_int(s.st.st_gid, 3001, "gid 3001");
	is_int(s.st.st_mode, S_IFREG | 04751, "mode untouched by chown");

	memset(&a, 0, sizeof(a));
	a.st_atim = (struct timespec){ .tv_sec = 1000, .tv_nsec = 5 };
	a.st_mtim = (struct timespec){ .tv_sec = 2000, .tv_nsec = 7 };
	int64_t t0 = enrp_now_ns();
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_ATIME | ENRP_SETATTR_MTIME, &s), 0,
	       "utimes explicit");
	is_int(ts_ns(s.st.st_atim), 1000 * 1000000000LL + 5, "atime 1000.000000005");
	is_int(ts_ns(s.st.st_mtim), 2000 * 1000000000LL + 7, "mtime 2000.000000007");
	ok(ts_ns(s.st.st_ctim) >= t0, "ctime is now");
	is_int(enrp_ns_getattr(st, f, &s), 0, "getattr");
	is_int(ts_ns(s.st.st_atim), 1000 * 1000000000LL + 5, "atime stored");
	is_int(ts_ns(s.st.st_mtim), 2000 * 1000000000LL + 7, "mtime stored");
	a.st_atim = (struct timespec){ .tv_sec = 3000, .tv_nsec = 0 };
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_ATIME, &s), 0, "atime only");
	is_int(ts_ns(s.st.st_atim), 3000 * 1000000000LL, "atime 3000");
	is_int(ts_ns(s.st.st_mtim), 2000 * 1000000000LL + 7, "mtime untouched");
	t0 = enrp_now_ns();
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_ATIME_NOW | ENRP_SETATTR_ATIME, &s),
	       0, "atime now (wins over explicit)");
	ok(ts_ns(s.st.st_atim) >= t0, "atime is now");
	is_int(ts_ns(s.st.st_mtim), 2000 * 1000000000LL + 7, "mtime untouched");
	t0 = enrp_now_ns();
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_MTIME_NOW, &s), 0, "mtime now");
	ok(ts_ns(s.st.st_mtim) >= t0, "mtime is now");
	a.st_ctim = (struct timespec){ .tv_sec = 4000, .tv_nsec = 9 };
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_CTIME, &s), 0, "explicit ctime");
	is_int(ts_ns(s.st.st_ctim), 4000 * 1000000000LL + 9, "ctime 4000.000000009");

	/* Size: the spool file follows. */
	struct enrp_eir_usage u0 = usage_of(alpha.id);
	is_int(set_size(&user, f, 10000), 0, "truncate up to 10000");
	is_int(size_of(f), 10000, "size 10000");
	is_int(spool_size(f), 10000, "spool file exists with 10000 bytes");
	is_int(usage_of(alpha.id).bytes, u0.bytes + 10000, "usage + 10000");
	is_int(enrp_ns_getattr(st, f, &s), 0, "getattr");
	is_int(s.st.st_blocks, (10000 + 511) / 512, "st_blocks");
	memset(&a, 0, sizeof(a));
	a.st_size = 100;
	t0 = enrp_now_ns();
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_SIZE, &s), 0, "truncate down to 100");
	is_int(s.st.st_size, 100, "size 100 reported");
	ok(ts_ns(s.st.st_mtim) >= t0, "truncate sets mtime");
	is_int(spool_size(f), 100, "spool file 100 bytes");
	is_int(usage_of(alpha.id).bytes, u0.bytes + 100, "usage + 100");
	is_int(set_size(&user, f, 0), 0, "truncate to 0");
	is_int(spool_size(f), 0, "spool file empty");
	is_int(usage_of(alpha.id).bytes, u0.bytes, "usage back");
	is_int(set_size(&user, f, -1), -EINVAL, "negative size: -EINVAL");
	is_int(set_size(&user, d, 10), -EISDIR, "size of a directory: -EISDIR");
	is_int(set_size(&user, l, 10), -EINVAL, "size of a symlink: -EINVAL");
	is_int(size_of(l), 6, "the symlink keeps its size");

	/* The EIR directory: the registry owns owner and mode; a client's
	 * chmod/chown (rsync -a sends them for ".") is accepted and ignored. */
	memset(&a, 0, sizeof(a));
	a.st_mode = 0777;
	a.st_uid = 2000;
	a.st_gid = 2000;
	is_int(enrp_ns_setattr(st, &user, ra, &a, ENRP_SETATTR_MODE, &s), 0,
	       "chmod of the EIR directory: accepted");
	is_int(s.st.st_mode, S_IFDIR | 0700, "and the reply shows the mode unchanged");
	is_int(enrp_ns_setattr(st, &user, ra, &a, ENRP_SETATTR_UID, &s), 0,
	       "chown of the EIR directory: accepted");
	is_int(enrp_ns_setattr(st, &user, ra, &a, ENRP_SETATTR_GID, &s), 0,
	       "chgrp of the EIR directory: accepted");
	is_int(enrp_ns_getattr(st, ra, &s), 0, "getattr EIR directory");
	is_int(s.st.st_mode, S_IFDIR | 0700, "its mode is unchanged");
	is_int(s.st.st_uid, 1000, "its owner is unchanged");
	is_int(s.st.st_gid, 1000, "its group is unchanged");
	a.st_atim = (struct timespec){ .tv_sec = 1234, .tv_nsec = 0 };
	a.st_mtim = (struct timespec){ .tv_sec = 5678, .tv_nsec = 0 };
	is_int(enrp_ns_setattr(st, &user, ra, &a, ENRP_SETATTR_ATIME | ENRP_SETATTR_MTIME, &s), 0,
	       "utimes of the EIR directory is allowed");
	is_int(ts_ns(s.st.st_mtim), 5678 * 1000000000LL, "its mtime changed");
	is_int(enrp_ns_setattr(st, &user, ENRP_ROOT_INO, &a, ENRP_SETATTR_MTIME, &s), -EPERM,
	       "setattr of the root: -EPERM");
	is_int(enrp_ns_setattr(st, &user, NO_INO, &a, ENRP_SETATTR_MTIME, &s), -ENOENT,
	       "setattr of no inode: -ENOENT");
	/* chmod of an ordinary directory works. */
	a.st_mode = 0700;
	is_int(enrp_ns_setattr(st, &user, d, &a, ENRP_SETATTR_MODE, &s), 0, "chmod a subdirectory");
	is_int(s.st.st_mode, S_IFDIR | 0700, "its mode changed");
}

/* ---- quota ---- */

static void quota_tests(void)
{
	const uint64_t rq = quota.root_ino;
	struct enrp_stat s;
	uint64_t f = mk(rq, "f", S_IFREG | 0644);
	uint64_t g = mk(rq, "g", S_IFREG | 0644);
	uint64_t d = mk(rq, "d", S_IFDIR | 0755);

	is_int(enrp_ns_write_check(st, &user, f, 0, MiB, 0), 0, "write of exactly the quota: 0");
	is_int(enrp_ns_write_check(st, &user, f, 0, MiB + 1, 0), -EDQUOT, "one byte more: -EDQUOT");
	is_int(enrp_ns_write_check(st, &user, f, MiB, 1, 0), -EDQUOT, "one byte at 1 MiB: -EDQUOT");
	is_int(enrp_ns_write_check(st, &user, f, UINT64_MAX, 2, 0), -EFBIG,
	       "offset + length overflows: -EFBIG");
	/* Past the largest file the spool takes: EFBIG, before the quota. */
	uint64_t max = enrp_spool_size_max(st);
	ok(max >= MiB && max <= (uint64_t)INT64_MAX, "largest file %llu", (unsigned long long)max);
	is_int(enrp_spool_size_max(st), max, "found once, the same after");
	is_int(enrp_ns_write_check(st, &user, f, max, 1, 0), -EFBIG,
	       "a byte at the largest size: -EFBIG, not -EDQUOT");
	is_int(enrp_ns_write_check(st, &user, f, max - 1, 1, 0), -EDQUOT,
	       "the last byte below it: the quota's -EDQUOT");
	is_int(enrp_ns_write_check(st, &user, f, max, 4096, ENRP_WRITE_PUNCH | ENRP_WRITE_CHANGES_BYTES),
	       -EFBIG, "a hole punched past it: -EFBIG");
	if (max < (uint64_t)INT64_MAX) {
		is_int(set_size(&user, f, max + 1), -EFBIG, "truncate past it: -EFBIG, not -EDQUOT");
		is_int(set_size(&user, f, max), -EDQUOT, "truncate to it: the quota's -EDQUOT");
	}
	is_int(size_of(f), 0, "refused: f keeps size 0");
	is_int(enrp_ns_write_check(st, &user, d, 0, 1, 0), -EINVAL, "write check on a dir: -EINVAL");
	is_int(enrp_ns_write_check(st, &user, NO_INO, 0, 1, 0), -ENOENT,
	       "write check on no inode: -ENOENT");

	is_int(enrp_ns_write_done(st, f, 600000, &s), 0, "write_done to 600000");
	is_int(s.st.st_size, 600000, "size 600000");
	ok(ts_ns(s.st.st_mtim) > 0, "mtime set");
	is_int(usage_of(quota.id).bytes, 600000, "usage 600000");
	is_int(enrp_ns_write_done(st, f, 1000, NULL), 0, "write_done below the size");
	is_int(size_of(f), 600000, "does not shrink the file");
	is_int(usage_of(quota.id).bytes, 600000, "nor the usage");
	is_int(enrp_ns_write_check(st, &user, f, 0, 600000, 0), 0,
	       "overwriting existing bytes needs no quota");
	is_int(enrp_ns_write_check(st, &user, g, 0, 500000, 0), -EDQUOT,
	       "500000 more with 600000 used: -EDQUOT");
	is_int(enrp_ns_write_check(st, &user, g, 0, MiB - 600000, 0), 0, "the rest fits exactly");

	is_int(set_size(&user, g, 500000), -EDQUOT, "truncate g up past the quota: -EDQUOT");
	is_int(size_of(g), 0, "g keeps size 0");
	ok(spool_size(g) <= 0, "g's spool file did not grow");
	is_int(usage_of(quota.id).bytes, 600000, "usage unchanged");
	is_int(set_size(&user, g, MiB - 600000), 0, "truncate g up to exactly the quota");
	is_int(usage_of(quota.id).bytes, MiB, "usage is the quota");
	is_int(enrp_ns_write_check(st, &user, g, MiB - 600000, 1, 0), -EDQUOT, "full: -EDQUOT");
	is_int(set_size(&user, g, 10), 0, "shrinking is always allowed");
	is_int(usage_of(quota.id).bytes, 600000 + 10, "usage follows");
	is_int(set_size(&user, g, MiB - 600000), 0, "and grow back");

	struct statvfs sv;
	is_int(enrp_ns_statfs(st, rq, &sv), 0, "statfs of the full EIR");
	is_int(sv.f_bavail, 0, "no free space reported");

	uint64_t h = mk(rq, "h", S_IFREG | 0644);
	is_int(enrp_ns_unlink(st, &user, rq, "f", false), 0, "unlink f (600000 bytes)");
	is_int(usage_of(quota.id).bytes, MiB, "an open orphan's bytes stay charged");
	is_int(enrp_ns_write_check(st, &user, h, 0, 600000, 0), -EDQUOT,
	       "so the space is not free before forget");
	is_int(enrp_ns_write_check(st, &user, f, 0, 2 * MiB, 0), -EDQUOT,
	       "writing past the quota through the orphan: -EDQUOT (no bypass)");
	is_int(enrp_ns_write_check(st, &user, f, 0, 600000, 0), 0,
	       "rewriting the orphan's own bytes is allowed");
	is_int(enrp_ns_forget(st, f), 0, "forget f");
	is_int(usage_of(quota.id).bytes, MiB - 600000, "freed: its bytes are released");
	is_int(enrp_ns_write_check(st, &user, h, 0, 600000, 0), 0, "now the space is free");
	is_int(set_size(&user, h, 600000), 0, "truncate h up to 600000");
	is_int(usage_of(quota.id).bytes, MiB, "full again");
	is_int(enrp_ns_unlink(st, &user, rq, "h", false), 0, "unlink h");
	is_int(enrp_ns_forget(st, h), 0, "forget h");
	is_int(usage_of(quota.id).bytes, MiB - 600000, "usage without h");

	/* statfs with a quota. */
	struct statvfs disk;
	is_int(statvfs(enrp_store_path(st), &disk), 0, "statvfs of the store");
	is_int(enrp_ns_statfs(st, rq, &sv), 0, "statfs of the quota EIR");
	uint64_t bs = sv.f_frsize;
	ok(bs > 0, "f_frsize %llu", (unsigned long long)bs);
	ok(sv.f_blocks * bs <= MiB && sv.f_blocks * bs + bs > MiB,
	   "f_blocks * f_frsize ~ quota (%llu)", (unsigned long long)(sv.f_blocks * bs));
	uint64_t free1 = sv.f_bavail * bs;
	ok(free1 <= 600000 && free1 + bs > 600000, "free ~ quota - usage (%llu)",
	   (unsigned long long)free1);
	is_int(sv.f_bfree, sv.f_bavail, "f_bfree = f_bavail");
	is_int(sv.f_namemax, ENRP_NAME_MAX, "f_namemax 255");
	is_int(enrp_ns_statfs(st, g, &sv), 0, "statfs via a file of the EIR");
	is_int(sv.f_bavail * bs, free1, "same free space");
	is_int(set_size(&user, g, 200000), 0, "shrink g by 248576");
	is_int(enrp_ns_statfs(st, rq, &sv), 0, "statfs again");
	ok(sv.f_bavail * bs > free1, "free space grew");
	is_int(enrp_ns_write_done(st, g, 500000, NULL), 0, "write g to 500000");
	is_int(enrp_ns_statfs(st, rq, &sv), 0, "statfs again");
	uint64_t free2 = sv.f_bavail * bs;
	ok(free2 < free1 && free2 <= MiB - 500000 && free2 + bs > MiB - 500000,
	   "free shrank with the usage (%llu)", (unsigned long long)free2);
	ok(sv.f_blocks * bs <= MiB && sv.f_blocks * bs + bs > MiB, "capacity is still the quota");

	is_int(enrp_ns_statfs(st, alpha.root_ino, &sv), 0, "statfs of an EIR without quota");
	struct enrp_eir_usage au;
	is_int(enrp_eir_usage(st, alpha.id, &au), 0, "its usage");
	is_int(sv.f_blocks - sv.f_bfree, au.bytes, "an EIR without quota: used is its own usage");
	ok(sv.f_files - sv.f_ffree == au.inodes, "... and inodes used its own live inodes");
	ok(sv.f_bavail <= (disk.f_bavail + 16384) * disk.f_frsize,
	   "... and it may write what the disk has, no more");
	is_int(enrp_ns_statfs(st, ENRP_ROOT_INO, &sv), 0, "statfs of the root");
	is_int(sv.f_blocks, disk.f_blocks, "the disk's size");
	is_int(sv.f_namemax, ENRP_NAME_MAX, "f_namemax 255");
	is_int(enrp_ns_statfs(st, NO_INO, &sv), -ENOENT, "statfs of no inode: -ENOENT");
}

/* ---- xattrs ---- */

static void xattrs(void)
{
	const uint64_t ra = alpha.root_ino;
	uint64_t f = mk(ra, "xa", S_IFREG | 0644);
	char buf[64];
	size_t len = 99;

	is_int(enrp_ns_listxattr(st, f, buf, sizeof(buf), &len), 0, "list on a new inode");
	is_int(len, 0, "is empty");
	is_int(enrp_ns_setxattr(st, &user, f, "user.a", "hello", 5, 0), 0, "set user.a");
	memset(buf, 0, sizeof(buf));
	is_int(enrp_ns_getxattr(st, f, "user.a", buf, sizeof(buf), &len), 0, "get user.a");
	is_int(len, 5, "length 5");
	is_str(buf, "hello", "value");
	len = 0;
	is_int(enrp_ns_getxattr(st, f, "user.a", NULL, 0, &len), 0, "size query");
	is_int(len, 5, "reports 5");
	is_int(enrp_ns_getxattr(st, f, "user.a", buf, 4, &len), -ERANGE, "buffer of 4: -ERANGE");
	memset(buf, 0, sizeof(buf));
	is_int(enrp_ns_getxattr(st, f, "user.a", buf, 5, &len), 0, "buffer of exactly 5");
	ok(memcmp(buf, "hello", 5) == 0, "value");

	is_int(enrp_ns_setxattr(st, &user, f, "user.a", "x", 1, XATTR_CREATE), -EEXIST,
	       "XATTR_CREATE on an existing name: -EEXIST");
	is_int(enrp_ns_setxattr(st, &user, f, "user.b", "x", 1, XATTR_REPLACE), -ENODATA,
	       "XATTR_REPLACE on a missing name: -ENODATA");
	is_int(enrp_ns_getxattr(st, f, "user.b", buf, sizeof(buf), &len), -ENODATA,
	       "which was not created");
	is_int(enrp_ns_setxattr(st, &user, f, "user.a", "world!", 6, XATTR_REPLACE), 0,
	       "XATTR_REPLACE on an existing name");
	memset(buf, 0, sizeof(buf));
	enrp_ns_getxattr(st, f, "user.a", buf, sizeof(buf), &len);
	is_str(buf, "world!", "replaced value");
	is_int(enrp_ns_setxattr(st, &user, f, "user.b", NULL, 0, XATTR_CREATE), 0,
	       "XATTR_CREATE user.b with an empty value");
	is_int(enrp_ns_getxattr(st, f, "user.b", buf, sizeof(buf), &len), 0, "get user.b");
	is_int(len, 0, "length 0");

	static const char want[] = "user.a\0user.b";
	is_int(enrp_ns_listxattr(st, f, NULL, 0, &len), 0, "list size query");
	is_int(len, sizeof(want), "14 bytes");
	memset(buf, 'z', sizeof(buf));
	is_int(enrp_ns_listxattr(st, f, buf, sizeof(buf), &len), 0, "list");
	is_int(len, sizeof(want), "14 bytes");
	ok(memcmp(buf, want, sizeof(want)) == 0, "user.a\\0user.b\\0");
	is_int(enrp_ns_listxattr(st, f, buf, 13, &len), -ERANGE, "list into 13 bytes: -ERANGE");
	is_int(enrp_ns_listxattr(st, f, buf, 14, &len), 0, "list into exactly 14 bytes");

	is_int(enrp_ns_setxattr(st, &user, f, "trusted.x", "v", 1, 0), -EOPNOTSUPP,
	       "set trusted.x: -EOPNOTSUPP");
	is_int(enrp_ns_setxattr(st, &user, f, "security.selinux", "v", 1, 0), -EOPNOTSUPP,
	       "set security.selinux: -EOPNOTSUPP");
	is_int(enrp_ns_setxattr(st, &user, f, "system.posix_acl_access", "v", 1, 0), -EOPNOTSUPP,
	       "set system.posix_acl_access: -EOPNOTSUPP");
	is_int(enrp_ns_setxattr(st, &user, f, "user.", "v", 1, 0), -EINVAL,
	       "set \"user.\" (no name): -EINVAL, as the VFS says");
	is_int(enrp_ns_setxattr(st, &user, f, "usera", "v", 1, 0), -EOPNOTSUPP,
	       "set \"usera\": -EOPNOTSUPP");
	is_int(enrp_ns_getxattr(st, f, "trusted.x", buf, sizeof(buf), &len), -ENODATA,
	       "get trusted.x: -ENODATA");
	is_int(enrp_ns_getxattr(st, f, "security.selinux", NULL, 0, &len), -ENODATA,
	       "size query of security.selinux: -ENODATA");
	is_int(enrp_ns_removexattr(st, &user, f, "trusted.x"), -ENODATA,
	       "remove trusted.x: -ENODATA");
	static char big[65537];
	is_int(enrp_ns_setxattr(st, &user, f, "user.big", big, sizeof(big), 0), -E2BIG,
	       "a 65537-byte value: -E2BIG");
	is_int(enrp_ns_setxattr(st, &user, f, "user.big", big, sizeof(big) - 1, 0), 0,
	       "a 65536-byte value is fine");
	is_int(enrp_ns_getxattr(st, f, "user.big", NULL, 0, &len), 0, "size query");
	is_int(len, 65536, "65536");
	is_int(enrp_ns_removexattr(st, &user, f, "user.big"), 0, "remove it");
	char lname[ENRP_NAME_MAX + 2];
	memcpy(lname, "user.", 5);
	memset(lname + 5, 'x', sizeof(lname) - 6);
	lname[sizeof(lname) - 1] = '\0';
	is_int(enrp_ns_setxattr(st, &user, f, lname, "v", 1, 0), -ERANGE,
	       "a 256-byte name: -ERANGE");
	lname[ENRP_NAME_MAX] = '\0';
	is_int(enrp_ns_setxattr(st, &user, f, lname, "v", 1, 0), 0, "a 255-byte name is fine");
	is_int(enrp_ns_getxattr(st, f, lname, buf, sizeof(buf), &len), 0, "and readable");
	is_int(enrp_ns_removexattr(st, &user, f, lname), 0, "and removable");

	is_int(enrp_ns_removexattr(st, &user, f, "user.b"), 0, "remove user.b");
	is_int(enrp_ns_getxattr(st, f, "user.b", buf, sizeof(buf), &len), -ENODATA,
	       "get after remove: -ENODATA");
	is_int(enrp_ns_removexattr(st, &user, f, "user.b"), -ENODATA, "remove again: -ENODATA");
	is_int(enrp_ns_listxattr(st, f, buf, sizeof(buf), &len), 0, "list");
	is_int(len, 7, "only user.a remains");

	is_int(enrp_ns_setxattr(st, &user, ENRP_ROOT_INO, "user.a", "v", 1, 0), -EPERM,
	       "setxattr on the root: -EPERM");
	is_int(enrp_ns_setxattr(st, &user, NO_INO, "user.a", "v", 1, 0), -ENOENT,
	       "setxattr on no inode: -ENOENT");
	is_int(enrp_ns_setxattr(st, &user, ra, "user.eir", "v", 1, 0), 0,
	       "setxattr on the EIR directory");

	/* Xattrs of a freed orphan are gone. */
	is_int(enrp_ns_unlink(st, &user, ra, "xa", false), 0, "unlink the file");
	is_int(enrp_ns_getxattr(st, f, "user.a", buf, sizeof(buf), &len), 0,
	       "the orphan keeps its xattrs");
	is_int(enrp_ns_forget(st, f), 0, "forget it");
	is_int(enrp_ns_getxattr(st, f, "user.a", buf, sizeof(buf), &len), -ENODATA,
	       "its xattr is gone");
	is_int(enrp_ns_listxattr(st, f, buf, sizeof(buf), &len), 0, "list the freed inode");
	is_int(len, 0, "nothing");
	uint64_t nf = mk(ra, "xa", S_IFREG | 0644);
	ok(nf != f, "a new file under the old name gets a new inode");
	is_int(enrp_ns_listxattr(st, nf, buf, sizeof(buf), &len), 0, "list on the new inode");
	is_int(len, 0, "is empty");
}

/* ---- policy through the namespace ---- */

static int set_mode(enum enrp_mode mode, uint32_t agent_uid)
{
	struct enrp_eir nv = pol;
	nv.mode = mode;
	nv.agent_uid = agent_uid;
	return enrp_eir_set(st, "pol", &nv, ENRP_EIR_SET_MODE | ENRP_EIR_SET_AGENT, &actor);
}

static void policy(void)
{
	const uint64_t rp = pol.root_ino;
	struct enrp_stat s;
	struct stat a;
	memset(&a, 0, sizeof(a));
	uint64_t f = mk(rp, "pf", S_IFREG | 0644);
	uint64_t d = mk(rp, "pd", S_IFDIR | 0755);
	mk(rp, "victim", S_IFREG | 0644);
	enrp_ns_setxattr(st, &user, f, "user.x", "1", 1, 0);
	is_int(set_size(&user, f, 50), 0, "pf: 50 bytes");

	is_int(set_mode(ENRP_MODE_RO, ENRP_NO_UID), 0, "pol -> ro");
	is_int(enrp_ns_mknod(st, &user, rp, "new", S_IFREG | 0644, 0, NULL, &s), -EROFS,
	       "ro: mknod -EROFS");
	is_int(enrp_ns_mknod(st, &user, d, "new", S_IFDIR | 0755, 0, NULL, &s), -EROFS,
	       "ro: mkdir in a subdirectory -EROFS");
	is_int(enrp_ns_unlink(st, &user, rp, "victim", false), -EROFS, "ro: unlink -EROFS");
	is_int(enrp_ns_unlink(st, &user, rp, "pd", true), -EROFS, "ro: rmdir -EROFS");
	is_int(enrp_ns_rename(st, &user, rp, "pf", rp, "pf2", 0), -EROFS, "ro: rename -EROFS");
	is_int(enrp_ns_link(st, &user, f, rp, "pf2", &s), -EROFS, "ro: link -EROFS");
	a.st_mode = 0600;
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_MODE, &s), -EROFS,
	       "ro: chmod -EROFS");
	is_int(set_size(&user, f, 10), -EROFS, "ro: truncate -EROFS");
	/* The spool file is cut only once the change is applied. */
	is_int(spool_size(f), 50, "ro: the refused truncate left the spool file whole");
	is_int(enrp_ns_setxattr(st, &user, f, "user.y", "1", 1, 0), -EROFS, "ro: setxattr -EROFS");
	is_int(enrp_ns_removexattr(st, &user, f, "user.x"), -EROFS, "ro: removexattr -EROFS");
	is_int(enrp_ns_write_check(st, &user, f, 0, 1, 0), -EROFS, "ro: write_check -EROFS");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_READ), 0, "ro: check READ 0");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_INSPECT), 0, "ro: check INSPECT 0");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_WRITE), -EROFS, "ro: check WRITE -EROFS");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_REMOVE), -EROFS, "ro: check REMOVE -EROFS");
	is_int(ino_of(rp, "pf"), f, "ro: lookup works");
	ok(ino_of(rp, "victim") > 0, "ro: nothing was removed");
	is_int(ino_of(rp, "new"), -ENOENT, "ro: nothing was created");
	is_int(ino_of(rp, "pf2"), -ENOENT, "ro: nothing was renamed or linked");
	is_int(enrp_ns_getattr(st, f, &s), 0, "ro: getattr works");
	is_int(s.st.st_mode, S_IFREG | 0644, "ro: mode unchanged");
	size_t len;
	char buf[8];
	is_int(enrp_ns_getxattr(st, f, "user.x", buf, sizeof(buf), &len), 0, "ro: getxattr works");

	is_int(set_mode(ENRP_MODE_WO, ENRP_NO_UID), 0, "pol -> wo");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_READ), -EACCES, "wo: check READ -EACCES");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_WRITE), 0, "wo: check WRITE 0");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_INSPECT), 0, "wo: check INSPECT 0");
	is_int(enrp_ns_mknod(st, &user, rp, "wo-new", S_IFREG | 0644, 0, NULL, &s), 0,
	       "wo: mknod 0");
	is_int(enrp_ns_write_check(st, &user, s.st.st_ino, 0, 10, 0), 0, "wo: write_check 0");
	is_int(enrp_ns_unlink(st, &user, rp, "wo-new", false), 0, "wo: unlink 0");
	enrp_ns_forget(st, s.st.st_ino);

	is_int(set_mode(ENRP_MODE_ACTIVE, agent.uid), 0, "pol -> active, agent 3000");
	is_int(enrp_ns_mknod(st, &agent, rp, "by-agent", S_IFREG | 0644, 0, NULL, &s), 0,
	       "active: the agent may mknod");
	is_int(s.st.st_uid, agent.uid, "owned by the agent");
	uint64_t ag = s.st.st_ino;
	is_int(enrp_ns_check(st, &agent, ag, ENRP_OP_WRITE), 0, "active: agent check WRITE 0");
	is_int(enrp_ns_write_check(st, &agent, ag, 0, 10, 0), 0, "active: agent write_check 0");
	is_int(enrp_ns_rename(st, &agent, rp, "by-agent", rp, "by-agent2", 0), 0,
	       "active: agent rename 0");
	is_int(enrp_ns_setxattr(st, &agent, ag, "user.a", "1", 1, 0), 0, "active: agent setxattr 0");
	is_int(enrp_ns_mknod(st, &user, rp, "by-user", S_IFREG | 0644, 0, NULL, &s), -EROFS,
	       "active: others mknod -EROFS");
	is_int(enrp_ns_unlink(st, &user, rp, "by-agent2", false), -EROFS,
	       "active: others unlink -EROFS");
	is_int(enrp_ns_setattr(st, &user, ag, &a, ENRP_SETATTR_MODE, &s), -EROFS,
	       "active: others setattr -EROFS");
	is_int(enrp_ns_check(st, &user, ag, ENRP_OP_WRITE), -EROFS, "active: others check WRITE -EROFS");
	is_int(enrp_ns_check(st, &user, ag, ENRP_OP_READ), 0, "active: others check READ 0");
	is_int(enrp_ns_check(st, &other, ag, ENRP_OP_WRITE), -EROFS,
	       "active: a third user check WRITE -EROFS");
	is_int(enrp_eir_escalate(st, "pol", enrp_now_ns() + 3600 * 1000000000LL, "incident 42",
	                         0, &actor), 0, "escalate pol for an hour");
	is_int(enrp_ns_mknod(st, &user, rp, "by-user", S_IFREG | 0644, 0, NULL, &s), 0,
	       "escalated: others may mknod");
	is_int(enrp_eir_deescalate(st, "pol", &actor), 0, "deescalate");
	is_int(enrp_ns_unlink(st, &user, rp, "by-user", false), -EROFS,
	       "deescalated: others -EROFS again");
	is_int(enrp_ns_unlink(st, &agent, rp, "by-agent2", false), 0, "active: agent unlink 0");
	enrp_ns_forget(st, ag);

	is_int(set_mode(ENRP_MODE_RW, ENRP_NO_UID), 0, "pol -> rw");
	is_int(enrp_eir_suspend(st, "pol", "audit", &actor), 0, "suspend pol");
	is_int(enrp_ns_mknod(st, &user, rp, "susp", S_IFREG | 0644, 0, NULL, &s), -EROFS,
	       "suspended: mknod -EROFS");
	is_int(enrp_ns_unlink(st, &user, rp, "victim", false), -EROFS, "suspended: unlink -EROFS");
	is_int(enrp_ns_setxattr(st, &user, f, "user.y", "1", 1, 0), -EROFS,
	       "suspended: setxattr -EROFS");
	is_int(enrp_ns_write_check(st, &user, f, 0, 1, 0), -EROFS, "suspended: write_check -EROFS");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_READ), 0, "suspended: check READ 0");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_WRITE), -EROFS, "suspended: check WRITE -EROFS");
	is_int(enrp_eir_resume(st, "pol", &actor), 0, "resume");
	is_int(enrp_ns_mknod(st, &user, rp, "susp", S_IFREG | 0644, 0, NULL, &s), 0,
	       "resumed: mknod 0");
	is_int(enrp_eir_retire(st, "pol", "done", &actor), 0, "retire pol");
	is_int(enrp_ns_unlink(st, &user, rp, "susp", false), -EROFS, "retired: unlink -EROFS");
	is_int(enrp_ns_check(st, &user, f, ENRP_OP_READ), 0, "retired: check READ 0");
	/* Other EIRs are not affected. */
	is_int(enrp_ns_check(st, &user, beta.root_ino, ENRP_OP_WRITE), 0,
	       "beta is still writable");
	is_int(enrp_ns_check(st, &user, ENRP_ROOT_INO, ENRP_OP_WRITE), -EPERM,
	       "check WRITE at the root: -EPERM");
	is_int(enrp_ns_check(st, &user, ENRP_ROOT_INO, ENRP_OP_INSPECT), 0,
	       "check INSPECT at the root: 0");
	is_int(enrp_ns_check(st, &user, NO_INO, ENRP_OP_READ), -ENOENT,
	       "check of no inode: -ENOENT");
}

/* ---- readdir ---- */

static void readdir_tests(void)
{
	const uint64_t ra = alpha.root_ino;
	uint64_t d = mk(ra, "rd", S_IFDIR | 0755);
	uint64_t b = mk(d, "b", S_IFREG | 0600);
	uint64_t cd = mk(d, "c.dir", S_IFDIR | 0700);
	uint64_t a = mk(d, "a", S_IFLNK | 0777);
	uint64_t aa = mk(d, "aa", S_IFIFO | 0644);
	uint64_t B = mk(d, "B", S_IFREG | 0644);
	set_size(&user, b, 1234);
	int rc;
	static struct collect c;

	is_str(list_dir(d, &rc), "B,a,aa,b,c.dir", "entries in name (byte) order");
	is_int(rc, 0, "readdir returns 0");
	memset(&c, 0, sizeof(c));
	is_int(enrp_ns_readdir(st, d, collect_cb, &c), 0, "readdir with attrs");
	is_int(c.calls, 5, "five entries, no . or ..");
	is_str(c.last[0].name, "B", "first B");
	is_int(c.last[0].attr.st.st_ino, B, "B's inode");
	is_int(c.last[1].attr.st.st_ino, a, "a's inode");
	is_int(c.last[1].attr.st.st_mode, S_IFLNK | 0777, "a is a symlink");
	is_int(c.last[1].attr.st.st_size, 6, "a's size is its target's length");
	is_int(c.last[2].attr.st.st_ino, aa, "aa's inode");
	is_int(c.last[2].attr.st.st_mode, S_IFIFO | 0644, "aa is a fifo");
	is_int(c.last[3].attr.st.st_ino, b, "b's inode");
	is_int(c.last[3].attr.st.st_mode, S_IFREG | 0600, "b is a regular file");
	is_int(c.last[3].attr.st.st_size, 1234, "b's size");
	is_int(c.last[3].attr.st.st_uid, 1000, "b's uid");
	is_int(c.last[3].attr.eir_id, alpha.id, "b's eir");
	is_int(c.last[3].attr.content, ENRP_CONTENT_SPOOL, "b's content");
	is_int(c.last[4].attr.st.st_ino, cd, "c.dir's inode");
	is_int(c.last[4].attr.st.st_mode, S_IFDIR | 0700, "c.dir is a directory");
	is_int(c.last[4].attr.st.st_nlink, 2, "c.dir's nlink");

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	c.stop_value = 42;
	is_int(enrp_ns_readdir(st, d, collect_cb, &c), 42, "a callback's stop value is returned");
	is_int(c.calls, 2, "and the walk stopped");
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	c.stop_value = -EIO;
	is_int(enrp_ns_readdir(st, d, collect_cb, &c), -EIO, "a negative stop value too");
	is_int(c.calls, 1, "after one entry");

	is_str(list_dir(cd, &rc), "", "an empty directory lists nothing");
	is_int(rc, 0, "and returns 0");
	list_dir(b, &rc);
	is_int(rc, -ENOTDIR, "readdir of a file: -ENOTDIR");
	list_dir(NO_INO, &rc);
	is_int(rc, -ENOENT, "readdir of no inode: -ENOENT");

	/* An entry's neighbours in the key space do not leak in. */
	uint64_t d2 = mk(ra, "rd2", S_IFDIR | 0755);
	mk(d2, "zz", S_IFREG | 0644);
	is_str(list_dir(d, &rc), "B,a,aa,b,c.dir", "another dir's entries stay out");

	memset(&c, 0, sizeof(c));
	is_int(enrp_ns_readdir(st, ENRP_ROOT_INO, collect_cb, &c), 0, "readdir of the root");
	is_str(c.names, "alpha,beta,pol,quota", "lists the EIR directories");
	is_int(c.last[0].attr.st.st_ino, ra, "alpha's inode");
	is_int(c.last[0].attr.eir_id, alpha.id, "alpha's eir id");
	struct enrp_stat s;
	is_int(enrp_ns_getattr(st, ENRP_ROOT_INO, &s), 0, "getattr root");
	is_int(s.st.st_nlink, 2 + 4, "root nlink: 2 + one per EIR");
	is_int(s.eir_id, 0, "root's eir id is 0");

	/* Batches resumed by name, as enrpfs's directory handles read. */
	memset(&c, 0, sizeof(c));
	is_int(enrp_ns_readdir_from(st, d, NULL, 2, 0, collect_cb, &c), 1,
	       "readdir_from: 1 when it stopped at MAX");
	is_str(c.names, "B,a", "the first two");
	memset(&c, 0, sizeof(c));
	is_int(enrp_ns_readdir_from(st, d, "a", 10, 0, collect_cb, &c), 0,
	       "readdir_from: 0 at the end of the directory");
	is_str(c.names, "aa,b,c.dir", "resumes after the name given");
	memset(&c, 0, sizeof(c));
	is_int(enrp_ns_readdir_from(st, d, "ab", 10, 0, collect_cb, &c), 0, "after a missing name");
	is_str(c.names, "b,c.dir", "resumes after where it would sort");
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	c.stop_value = 1;
	is_int(enrp_ns_readdir_from(st, d, "", 10, 0, collect_cb, &c), 1,
	       "readdir_from: a callback's 1 stops before that entry");
	memset(&c, 0, sizeof(c));
	is_int(enrp_ns_readdir_from(st, d, "aa", 10, ENRP_NS_READDIR_TYPE, collect_cb, &c), 0,
	       "readdir_from with types only");
	is_int(c.last[0].attr.st.st_ino, b, "b's inode");
	is_int(c.last[0].attr.st.st_mode, S_IFREG, "the type, and no more");
	is_int(c.last[0].attr.st.st_size, 0, "no size: the inode was not read");
	is_int(c.last[1].attr.st.st_mode, S_IFDIR, "c.dir's type");
	memset(&c, 0, sizeof(c));
	is_int(enrp_ns_readdir_from(st, b, NULL, 10, 0, collect_cb, &c), -ENOTDIR,
	       "readdir_from of a file: -ENOTDIR");
	char longname[ENRP_NAME_MAX + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_int(enrp_ns_readdir_from(st, d, longname, 10, 0, collect_cb, &c), -ENAMETOOLONG,
	       "readdir_from after a name too long: -ENAMETOOLONG");

	/* Changes between batches: every entry that stays is had exactly once,
	 * also when the entry the walk resumes after is gone. */
	memset(&c, 0, sizeof(c));
	is_int(enrp_ns_readdir_from(st, d, NULL, 2, 0, collect_cb, &c), 1, "batch 1: B,a");
	is_int(enrp_ns_unlink(st, &user, d, "a", false), 0, "unlink a (the resume point)");
	is_int(enrp_ns_unlink(st, &user, d, "B", false), 0, "unlink B (had already)");
	mk(d, "A", S_IFREG | 0644);  /* sorts before: not seen */
	mk(d, "bb", S_IFREG | 0644); /* sorts after: seen */
	is_int(enrp_ns_rename(st, &user, d, "aa", d, "0aa", 0), 0, "rename aa behind the walk");
	is_int(enrp_ns_readdir_from(st, d, "a", 10, 0, collect_cb, &c), 0, "batch 2");
	is_str(c.names, "B,a,b,bb,c.dir", "b and c.dir once, the new bb, not the new A");
}

/* ---- recovery ---- */

/* The daemon's second chance for an orphan whose forget failed: those the
 * kernel and the handles no longer hold are freed, the others kept. */
static uint64_t held_ino;

static bool held_one(uint64_t ino, void *arg)
{
	(void)arg;
	return ino == held_ino;
}

static void unheld_orphans(void)
{
	struct enrp_stat s;
	uint64_t freed = 0;
	held_ino = 0;
	/* The orphans earlier tests left, so the counts below are exact. */
	is_int(enrp_ns_free_unheld_orphans(st, held_one, NULL, &freed), 0,
	       "free the orphans left so far");
	uint64_t d = mk(alpha.root_ino, "orphanage", S_IFDIR | 0755);
	enum { N = 300 }; /* more than one batch of the walk */
	static uint64_t ino[N];
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "o%03d", i);
		ino[i] = mk(d, name, S_IFREG | 0644);
		enrp_ns_unlink(st, &user, d, name, false);
	}
	is_int(nlink_of(ino[0]), 0, "300 unlinked files are orphans");
	held_ino = ino[7];
	is_int(enrp_ns_free_unheld_orphans(st, held_one, NULL, &freed), 0,
	       "free the orphans nothing holds");
	is_int(freed, N - 1, "all but the held one are freed");
	is_int(enrp_ns_getattr(st, ino[0], &s), -ENOENT, "the first is gone");
	is_int(enrp_ns_getattr(st, ino[N - 1], &s), -ENOENT, "the last (second batch) is gone");
	is_int(nlink_of(ino[7]), 0, "the held one is still an orphan");
	held_ino = 0;
	is_int(enrp_ns_free_unheld_orphans(st, held_one, NULL, &freed), 0, "once let go");
	is_int(freed, 1, "it is freed too");
	is_int(enrp_ns_getattr(st, ino[7], &s), -ENOENT, "and gone");
	is_int(enrp_ns_free_unheld_orphans(st, held_one, NULL, &freed), 0, "with none left");
	is_int(freed, 0, "nothing is freed");
	is_int(enrp_ns_unlink(st, &user, alpha.root_ino, "orphanage", true), 0, "rmdir");
	enrp_ns_forget(st, d);
}

static void recover(void)
{
	char path[512], stray[600];
	enrp_store *main_st = st;
	struct enrp_eir r;
	struct enrp_stat s;
	uint64_t orphans = 99, spools = 99;

	snprintf(path, sizeof(path), "%s/recover", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		ok(0, "recover: cannot create a store");
		st = main_st;
		return;
	}
	/* Before the first EIR the root is synthesised. */
	is_int(enrp_ns_getattr(st, ENRP_ROOT_INO, &s), 0, "empty store: getattr of the root");
	is_int(s.st.st_mode, S_IFDIR | 0755, "root: a 0755 directory");
	is_int(s.st.st_nlink, 2, "root: nlink 2");
	int rc;
	is_str(list_dir(ENRP_ROOT_INO, &rc), "", "root: no entries");
	is_int(rc, 0, "root: readdir 0");
	is_int(enrp_ns_lookup(st, ENRP_ROOT_INO, "r", &s), -ENOENT, "root: lookup -ENOENT");
	is_int(enrp_ns_mknod(st, &user, ENRP_ROOT_INO, "r", S_IFDIR | 0755, 0, NULL, &s), -EPERM,
	       "root: mkdir -EPERM");
	is_int(make_eir("r", 0, &r), 0, "recover: an EIR");
	is_int(enrp_ns_recover(st, &orphans, &spools), 0, "recover on a clean store");
	is_int(orphans, 0, "no orphans");
	is_int(spools, 0, "no spool files");

	uint64_t gone = mk(r.root_ino, "gone", S_IFREG | 0644);
	uint64_t gdir = mk(r.root_ino, "gdir", S_IFDIR | 0755);
	uint64_t keep = mk(r.root_ino, "keep", S_IFREG | 0644);
	uint64_t lazy = mk(r.root_ino, "lazy", S_IFREG | 0644);
	is_int(set_size(&user, gone, 100), 0, "gone: 100 bytes of spool");
	is_int(set_size(&user, keep, 50), 0, "keep: 50 bytes of spool");
	is_int(enrp_ns_setxattr(st, &user, gone, "user.g", "1", 1, 0), 0, "gone: an xattr");
	is_int(enrp_ns_unlink(st, &user, r.root_ino, "gone", false), 0, "unlink gone: an orphan");
	enrp_store_close(st);

	/* The daemon died with the orphan still open; a stray spool file is
	 * left from a creation lost in the crash. */
	snprintf(stray, sizeof(stray), "%s/spool/00000000000fffff", path);
	FILE *fp = fopen(stray, "w");
	ok(fp != NULL, "make a stray spool file");
	if (fp) {
		fputs("lost", fp);
		fclose(fp);
	}
	snprintf(stray, sizeof(stray), "%s/spool/not-a-spool-file", path);
	fp = fopen(stray, "w");
	if (fp)
		fclose(fp);
	is_int(enrp_store_open(path, ENRP_STORE_GROUP_COMMIT, &st), 0, "reopen as the daemon");
	is_int(enrp_ns_getattr(st, gone, &s), 0, "the orphan survived the restart");
	is_int(s.st.st_nlink, 0, "with nlink 0");
	is_int(enrp_ns_recover(st, &orphans, &spools), 0, "recover");
	is_int(orphans, 1, "one orphan freed");
	is_int(spools, 1, "one stray spool file removed");
	is_int(enrp_ns_getattr(st, gone, &s), -ENOENT, "the orphan is gone");
	size_t len;
	char buf[8];
	is_int(enrp_ns_getxattr(st, gone, "user.g", buf, sizeof(buf), &len), -ENODATA,
	       "with its xattrs");
	is_int(spool_size(gone), -ENOENT, "and its spool file");
	snprintf(stray, sizeof(stray), "%s/spool/00000000000fffff", path);
	is_int(access(stray, F_OK), -1, "the stray spool file is gone");
	snprintf(stray, sizeof(stray), "%s/spool/not-a-spool-file", path);
	is_int(access(stray, F_OK), 0, "a file that is no spool name is left alone");
	is_int(spool_size(keep), 50, "a live inode's spool file is kept");
	is_int(spool_size(lazy), -ENOENT, "a live inode without spool file is fine");
	is_int(size_of(keep), 50, "keep is intact");
	is_int(nlink_of(gdir), 2, "a live directory is intact");
	struct enrp_eir_usage u = usage_of(r.id);
	is_int(u.inodes, 3, "usage: three live inodes");
	is_int(u.bytes, 50, "usage: keep's 50 bytes");

	/* An orphan directory and an orphan file in one go. */
	is_int(enrp_ns_unlink(st, &user, r.root_ino, "gdir", true), 0, "rmdir gdir");
	is_int(enrp_ns_unlink(st, &user, r.root_ino, "keep", false), 0, "unlink keep");
	is_int(enrp_ns_recover(st, &orphans, &spools), 0, "recover again");
	is_int(orphans, 2, "two orphans freed");
	is_int(spools, 0, "no stray spool file (keep's went with its inode)");
	is_int(spool_size(keep), -ENOENT, "keep's spool file removed");
	is_int(nlink_of(gdir), -ENOENT, "gdir freed");
	is_int(enrp_ns_recover(st, &orphans, &spools), 0, "a third recover");
	is_int(orphans, 0, "finds nothing");
	is_int(spools, 0, "nothing at all");
	is_int(enrp_ns_recover(st, NULL, NULL), 0, "NULL counters are allowed");
	enrp_store_close(st);
	st = main_st;
}

/* ---- an fsync without a commit ---- */

static bool plan_alone(uint64_t ino, uint64_t *gen)
{
	bool alone = false;
	uint64_t g = 0;
	int rc = enrp_ns_sync_plan(st, ino, &alone, &g);
	if (rc)
		diag("enrp_ns_sync_plan: %s", strerror(-rc));
	if (gen)
		*gen = g;
	return rc == 0 && alone;
}

/* Bytes written through the spool file and recorded, as op_write does. */
static int write_at(int fd, uint64_t ino, const char *bytes, size_t n, off_t off)
{
	if (pwrite(fd, bytes, n, off) != (ssize_t)n)
		return -errno;
	return enrp_ns_write_done(st, ino, (uint64_t)off + n, NULL);
}

/* The daemon's side until it dies: F is fsync'd alone at 300 bytes, and
 * G's note is older than the truncate committed after it, whose cut of the
 * spool file a power loss undid (the file is made long again by hand).
 * Then SIGKILLs itself, with the store open: the open group is lost. */
static int alone_crash_child(const char *path, uint64_t f, uint64_t g)
{
	static const char bytes[300] = { 'x' };
	uint64_t gen;
	if (enrp_store_open(path, ENRP_STORE_GROUP_COMMIT, &st))
		return 1;
	int ff = enrp_spool_open(st, f, 0), gf = enrp_spool_open(st, g, 0);
	if (ff < 0 || gf < 0)
		return 2;
	if (!plan_alone(g, &gen) || enrp_spool_sync_sized(st, g, gf, gen))
		return 3;
	if (set_size(&user, g, 50) || enrp_store_sync(st) || ftruncate(gf, 200) < 0)
		return 4;
	if (write_at(ff, f, bytes, 200, 100) || !plan_alone(f, &gen) ||
	    enrp_spool_sync_sized(st, f, ff, gen))
		return 5;
	raise(SIGKILL);
	return 6;
}

static void fsync_alone(void)
{
	char path[512];
	enrp_store *main_st = st;
	struct enrp_eir e;
	struct stat a;
	uint64_t gen, gen2;
	snprintf(path, sizeof(path), "%s/alone", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, ENRP_STORE_GROUP_COMMIT, &st) ||
	    make_eir("a", 0, &e)) {
		ok(0, "fsync alone: cannot create a store");
		st = main_st;
		return;
	}
	uint64_t f = mk(e.root_ino, "f", S_IFREG | 0644);
	uint64_t g = mk(e.root_ino, "g", S_IFREG | 0644);
	int ff = enrp_spool_open(st, f, 1), gf = enrp_spool_open(st, g, 1);
	ok(ff >= 0 && gf >= 0, "spool files made");
	is_int(write_at(ff, f, "0123456789", 10, 0), 0, "f: 10 bytes written");
	ok(!plan_alone(f, NULL), "a file whose creation is not durable needs the commit");
	is_int(enrp_store_sync(st), 0, "commit");
	ok(plan_alone(f, &gen), "then its spool file alone tells");
	is_int(write_at(ff, f, "abcdefghij", 10, 10), 0, "f: 10 more bytes");
	ok(plan_alone(f, &gen2), "writes keep it so");
	ok(gen2 > gen, "and move its generation on");
	is_int(set_size(&user, f, 15), 0, "f: truncated to 15");
	ok(plan_alone(f, NULL), "a truncate keeps it so");
	memset(&a, 0, sizeof(a));
	a.st_mode = 0600;
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_MODE, NULL), 0, "f: chmod");
	ok(!plan_alone(f, NULL), "a chmod needs the commit");
	is_int(enrp_store_sync(st), 0, "commit");
	ok(plan_alone(f, NULL), "until it is durable");
	a.st_mtim.tv_sec = 1000;
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_SIZE | ENRP_SETATTR_MTIME, NULL), 0,
	       "f: truncate with a given mtime");
	ok(!plan_alone(f, NULL), "a given mtime needs the commit");
	is_int(enrp_store_sync(st), 0, "commit");
	is_int(enrp_ns_setxattr(st, &user, f, "user.k", "v", 1, 0), 0, "f: an xattr");
	ok(!plan_alone(f, NULL), "an xattr needs the commit");
	is_int(enrp_ns_rename(st, &user, e.root_ino, "f", e.root_ino, "f2", 0), 0, "f: renamed");
	is_int(enrp_store_sync(st), 0, "commit");
	ok(plan_alone(f, NULL), "durable again");
	is_int(write_at(ff, f, "0123456789", 10, 90), 0, "f: 100 bytes");
	is_int(write_at(gf, g, "0123456789", 10, 190), 0, "g: 200 bytes");
	is_int(enrp_store_sync(st), 0, "commit at 100 and 200 bytes");
	is_int(enrp_spool_sized_gen(ff, f, &gen), -ENODATA, "no note before a sync alone");
	close(ff);
	close(gf);
	enrp_store_close(st);
	st = NULL;

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(alone_crash_child(path, f, g));
	int status = -1;
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the daemon synced alone, then died");
	if (WIFEXITED(status))
		diag("the daemon's child exited %d before its SIGKILL", WEXITSTATUS(status));
	is_int(enrp_store_open(path, ENRP_STORE_GROUP_COMMIT, &st), 0, "reopen as the daemon");
	is_int(size_of(f), 100, "before recovery f has its committed size");
	is_int(enrp_ns_recover(st, NULL, NULL), 0, "recover");
	is_int(size_of(f), 300, "f: the size its spool file was synced at");
	is_int(size_of(g), 50, "g: a note older than the committed truncate is not taken");
	struct enrp_eir_usage u = usage_of(e.id);
	is_int(u.bytes, 350 + strlen("user.k") + 1, "usage counts the recovered bytes");
	ff = enrp_spool_open(st, f, 0);
	ok(ff >= 0 && enrp_spool_sized_gen(ff, g, &gen) == -ENODATA,
	   "a note names its inode: another's is never taken");
	ok(ff >= 0 && enrp_spool_sized_gen(ff, f, &gen) == 0, "f's note");
	if (ff >= 0)
		close(ff);
	ok(plan_alone(f, &gen2) && gen2 > gen,
	   "the recovered record is committed, its generation past the note");
	is_int(enrp_ns_recover(st, NULL, NULL), 0, "recover again");
	is_int(size_of(f), 300, "changes nothing");
	enrp_store_close(st);
	st = main_st;
}

/* ---- damage and extremes, each in a child with its own store ---- */

/* Runs FN in a child process on a fresh store with one EIR and returns its
 * wait status; a hang ends with SIGALRM after 5 s, and a sanitizer abort
 * fails only this test. */
static int in_child(const char *name, int (*fn)(const struct enrp_eir *e))
{
	char path[512], main_store[512];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	snprintf(main_store, sizeof(main_store), "%s/store", tmp);
	fflush(stdout);
	/* LMDB forbids using an environment across fork, and a child that
	 * inherits one can neither close it nor free it: the main store is
	 * closed while the child runs and opened again after. */
	enrp_store_close(st);
	st = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		struct enrp_eir e;
		alarm(5);
		if (enrp_store_create(path) || enrp_store_open(path, 0, &st) ||
		    make_eir("c", 0, &e))
			_exit(100);
		int rc = fn(&e);
		enrp_store_close(st);
		_exit(rc);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	if (enrp_store_open(main_store, 0, &st)) {
		printf("Bail out! cannot open the store again after %s\n", name);
		exit(1);
	}
	if (WIFSIGNALED(status))
		diag("%s: child killed by signal %d", name, WTERMSIG(status));
	else if (WEXITSTATUS(status))
		diag("%s: child exit status %d", name, WEXITSTATUS(status));
	return status;
}

/* Times past what int64 nanoseconds hold (2262-04-11) are clamped, as the
 * kernel clamps to a filesystem's range: `touch -d 2300-01-01` must not wrap
 * into 1700 (nor overflow a signed multiplication). */
static int far_times_child(const struct enrp_eir *e)
{
	struct enrp_stat s;
	struct stat a;
	uint64_t f = mk(e->root_ino, "f", S_IFREG | 0644);
	memset(&a, 0, sizeof(a));
	a.st_mtim.tv_sec = 10000000000LL;  /* 2286-11-20 */
	a.st_atim.tv_sec = -10000000000LL; /* 1653-02-10 */
	if (enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_MTIME | ENRP_SETATTR_ATIME, &s))
		return 1;
	if (enrp_ns_getattr(st, f, &s))
		return 2;
	if (s.st.st_mtim.tv_sec < 9223372036LL)
		return 3; /* wrapped into the past */
	if (s.st.st_atim.tv_sec > -9223372036LL)
		return 4; /* wrapped into the future */
	return 0;
}

static int put_orphan_fn(enrp_txn *t, void *arg)
{
	uint8_t k[8];
	be64_put(k, *(uint64_t *)arg);
	return txn_put(t, DBI_ORPHAN, k, 8, "", 0, 0);
}

/* An orphan-index entry for an inode that still has links (damage: fsck
 * territory) must not hang the mount: free_orphan() skips such an inode, so
 * recover must drop the stale entry or move past it. */
static int stale_orphan_child(const struct enrp_eir *e)
{
	uint64_t f = mk(e->root_ino, "f", S_IFREG | 0644);
	uint64_t orphans = 99;
	if (enrp_store_write(st, put_orphan_fn, &f))
		return 1;
	if (enrp_ns_recover(st, &orphans, NULL))
		return 2;
	if (orphans != 0)
		return 3; /* a linked inode is not an orphan */
	if (nlink_of(f) != 1 || ino_of(e->root_ino, "f") != (int64_t)f)
		return 4; /* and it must be left alone */
	if (enrp_ns_recover(st, &orphans, NULL) || orphans != 0)
		return 5;
	return 0;
}

static void damage_and_extremes(void)
{
	struct enrp_stat s;
	struct stat a;
	uint64_t f = mk(alpha.root_ino, "epoch", S_IFREG | 0644);
	memset(&a, 0, sizeof(a));
	a.st_mtim = (struct timespec){ .tv_sec = -2, .tv_nsec = 500000000 }; /* -1.5 s */
	a.st_atim = (struct timespec){ .tv_sec = 0, .tv_nsec = 0 };
	is_int(enrp_ns_setattr(st, &user, f, &a, ENRP_SETATTR_MTIME | ENRP_SETATTR_ATIME, &s), 0,
	       "set a pre-epoch mtime");
	is_int(enrp_ns_getattr(st, f, &s), 0, "getattr");
	is_int(s.st.st_mtim.tv_sec, -2, "mtime seconds -2");
	is_int(s.st.st_mtim.tv_nsec, 500000000, "mtime nanoseconds 0.5 (normalised)");
	is_int(s.st.st_atim.tv_sec, 0, "atime at the epoch");

	int status = in_child("far-times", far_times_child);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "times beyond 2262 and before 1678 are clamped, not wrapped");
	status = in_child("stale-orphan", stale_orphan_child);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "recover terminates on an orphan entry of a linked inode and spares it");
}

int main(void)
{
	char path[512];

	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_ns");
	if (make_eir("alpha", 0, &alpha) || make_eir("beta", 0, &beta) ||
	    make_eir("quota", MiB, &quota) || make_eir("pol", 0, &pol)) {
		printf("Bail out! cannot create the EIRs\n");
		return 1;
	}

	mknod_types();
	create_errors();
	setgid_dirs();
	links();
	unlink_rmdir();
	rename_tests();
	setattr_tests();
	quota_tests();
	xattrs();
	policy();
	readdir_tests();
	unheld_orphans();
	recover();
	fsync_alone();
	damage_and_extremes();

	enrp_store_close(st);
	tap_rmrf(tmp);
	return done_testing();
}
