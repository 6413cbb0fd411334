/*
 * trust.c — whether a path can be changed by root alone (see trust.h).
 *
 * The walk resolves the path itself, one component at a time, instead of
 * calling realpath(3) and checking the result: a symlink is only as safe as
 * the directory that holds it, and realpath forgets the directories its
 * symlinks were found in.  Each directory is checked before the entry
 * looked up in it is believed, so once a directory has passed, nobody but
 * root can change what the rest of the walk sees there.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/i18n.h>
#include <enrp/trust.h>

#define MAX_LINKS 40

static void owner_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, size, "%s (uid %u)", res->pw_name, (unsigned)uid);
	else
		snprintf(buf, size, "uid %u", (unsigned)uid);
}

static int problem(struct enrp_trust_problem *p, const char *path, const char *fix,
                   const char *why_fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills P: PATH, the formatted WHY, and "FIX 'PATH'". */
static int problem(struct enrp_trust_problem *p, const char *path, const char *fix,
                   const char *why_fmt, ...)
{
	va_list ap;
	snprintf(p->path, sizeof(p->path), "%s", path);
	va_start(ap, why_fmt);
	vsnprintf(p->why, sizeof(p->why), _(why_fmt), ap);
	va_end(ap);
	/* The fix quotes the path for a shell; a path with a quote in it is not
	 * spelled out, rather than given as a command that does something else. */
	snprintf(p->fix, sizeof(p->fix), "%s '%s'", fix, strchr(path, '\'') ? "PATH" : path);
	return -EPERM;
}

static int not_root(struct enrp_trust_problem *p, const char *path, uid_t uid)
{
	char who[300];
	owner_name(uid, who, sizeof(who));
	return problem(p, path, "chown root:root", "is owned by %s, not root", who);
}

static const char *writers(mode_t mode)
{
	if ((mode & S_IWGRP) && (mode & S_IWOTH))
		return "its group and others";
	return (mode & S_IWGRP) ? "its group" : "others";
}

/* May the entry NAME be looked up in directory DIR and believed? */
static int check_lookup(const char *dir, const char *name, struct enrp_trust_problem *p)
{
	struct stat sb;
	char entry[PATH_MAX];

	if (lstat(dir, &sb) < 0)
		return -errno;
	if (sb.st_uid != 0)
		return not_root(p, dir, sb.st_uid);
	if (!(sb.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if (!(sb.st_mode & S_ISVTX))
		return problem(p, dir, "chmod go-w", "is writable by %s (mode %04o)",
		               writers(sb.st_mode), (unsigned)(sb.st_mode & 07777));
	/* Sticky: only the entry's owner (or root, or the directory's owner,
	 * root here) may rename or remove it. */
	if (snprintf(entry, sizeof(entry), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) >=
	    (int)sizeof(entry))
		return -ENAMETOOLONG;
	if (lstat(entry, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (sb.st_uid != 0) {
		char who[300];
		owner_name(sb.st_uid, who, sizeof(who));
		return problem(p, entry, "chown root:root",
		               "is owned by %s, not root, in a directory others may write", who);
	}
	return 0;
}

int enrp_trust_walk(const char *path, char *resolved, bool *exists,
                    struct enrp_trust_problem *p)
{
	char cur[PATH_MAX] = "/"; /* resolved so far: a directory, checked */
	char rest[PATH_MAX];      /* what is left to resolve */
	char next[PATH_MAX], target[PATH_MAX];
	int links = 0, rc;

	if (!*path)
		return -ENOENT;
	if (path[0] == '/') {
		if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
			return -ENAMETOOLONG;
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		if (snprintf(rest, sizeof(rest), "%s/%s", cwd, path) >= (int)sizeof(rest))
			return -ENAMETOOLONG;
	}
	if (exists)
		*exists = true;

	char *s = rest;
	for (;;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		char *end = strchr(s, '/');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		char name[NAME_MAX + 1];
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, s, len);
		name[len] = '\0';
		s += len;
		bool last = !*s || !s[strspn(s, "/")];

		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			char *slash = strrchr(cur, '/');
			if (slash == cur)
				cur[1] = '\0';
			else
				*slash = '\0';
			continue;
		}
		rc = check_lookup(cur, name, p);
		if (rc)
			return rc;
		if (snprintf(next, sizeof(next), "%s%s%s", cur, strcmp(cur, "/") ? "/" : "", name) >=
		    (int)sizeof(next))
			return -ENAMETOOLONG;
		struct stat sb;
		if (lstat(next, &sb) < 0) {
			if (errno != ENOENT || !last)
				return -errno;
			if (exists)
				*exists = false;
			snprintf(cur, sizeof(cur), "%s", next);
			break;
		}
		if (S_ISLNK(sb.st_mode)) {
			if (++links > MAX_LINKS)
				return -ELOOP;
			ssize_t n = readlink(next, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = '\0';
			/* The target, then what was left after the link. */
			if (snprintf(next, sizeof(next), "%s/%s", target, s) >= (int)sizeof(next))
				return -ENAMETOOLONG;
			snprintf(rest, sizeof(rest), "%s", next);
			s = rest;
			if (target[0] == '/')
				strcpy(cur, "/");
			continue;
		}
		if (!S_ISDIR(sb.st_mode) && !last)
			return -ENOTDIR;
		snprintf(cur, sizeof(cur), "%s", next);
		if (!S_ISDIR(sb.st_mode))
			break;
	}
	if (resolved)
		snprintf(resolved, PATH_MAX, "%s", cur);
	return 0;
}

int enrp_trust_own(const char *path, mode_t type, mode_t forbidden,
                   struct enrp_trust_problem *p)
{
	struct stat sb;
	if (lstat(path, &sb) < 0)
		return -errno;
	if ((sb.st_mode & S_IFMT) != type) {
		const char *want = type == S_IFDIR ? "a directory" : "a regular file";
		if (S_ISLNK(sb.st_mode))
			return problem(p, path, "put the real directory in place of the symlink",
			               "is a symlink, not %s", want);
		return problem(p, path, "check", "is not %s", want);
	}
	if (sb.st_uid != 0)
		return not_root(p, path, sb.st_uid);
	if (sb.st_mode & forbidden) {
		bool wr = sb.st_mode & forbidden & (S_IWGRP | S_IWOTH);
		const char *fix = forbidden == 077 ? "chmod go-rwx" : "chmod go-w";
		if (wr)
			return problem(p, path, fix, "is writable by %s (mode %04o)",
			               writers(sb.st_mode), (unsigned)(sb.st_mode & 07777));
		return problem(p, path, fix, "is open to %s (mode %04o)",
		               (sb.st_mode & 070) && (sb.st_mode & 07) ? "its group and others"
		               : (sb.st_mode & 070) ? "its group" : "others",
		               (unsigned)(sb.st_mode & 07777));
	}
	return 0;
}
