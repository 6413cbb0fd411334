/*
 * main.c — enrpfs: options, store, session, mount, loop, teardown.
 *
 *   enrpfs [-f] [-d] [-o opt,...] STORE MOUNTPOINT
 *
 * Unless -f is given, enrpfs daemonises but the parent waits for the child
 * to report that the store is open and the mount is up, so every start-up
 * error reaches the terminal and the exit status.  The store is opened only
 * in the child: an LMDB environment must not cross fork().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/gc.h>
#include <enrp/i18n.h>
#include <enrp/rundir.h>
#include <enrp/snapshot.h>
#include <enrp/store.h>
#include <enrp/text.h>
#include <enrp/trust.h>
#include <enrp/vault.h>

#include "fs.h"
#include "service.h"

/* Sealing threads: more than this only adds memory (each holds up to
 * 2 x (compressors + 1) chunks in flight) and contention for the CPUs. */
#define WORKERS_MAX 64

struct options {
	char *store;
	char *mountpoint;   /* as given */
	int seen_nonopts;
	unsigned workers;   /* 0: one per CPU */
	int compress;       /* 0: the library's default */
	char *keyfile;
	long gc_interval;   /* seconds; -1: the default */
	char *snapshot;     /* EIR@NAME: a read-only mount of that snapshot */
	struct snapmount_access allow; /* snapshot mounts: who else may use it */
	bool allow_given;
	char *logfile;      /* daemon messages go here (service.c) */
	char *metrics;      /* metrics=FILE, or NULL */
	long metrics_interval; /* seconds */
};

/* How often at most the daemon collects garbage on its own, and the most
 * an administrator may ask for (a week). */
#define GC_INTERVAL_DEFAULT 600
#define GC_INTERVAL_MAX (7 * 86400)
/* How often the metrics file is rewritten by default, and at most. */
#define METRICS_INTERVAL_DEFAULT 5
#define METRICS_INTERVAL_MAX 3600

/* How long a start waits for the last daemon to finish shutting down
 * (what enrpctl waits too). */
#define DAEMON_STOP_WAIT_MS 30000

enum { KEY_WORKERS, KEY_COMPRESS, KEY_KEYFILE, KEY_GC_INTERVAL, KEY_SNAPSHOT, KEY_ALLOW,
       KEY_LOGFILE, KEY_METRICS, KEY_METRICS_INTERVAL };
static const struct fuse_opt option_spec[] = {
	FUSE_OPT_KEY("logfile=", KEY_LOGFILE),
	FUSE_OPT_KEY("metrics=", KEY_METRICS),
	FUSE_OPT_KEY("metrics_interval=", KEY_METRICS_INTERVAL),
	FUSE_OPT_KEY("snapshot=", KEY_SNAPSHOT),
	FUSE_OPT_KEY("allow=", KEY_ALLOW),
	FUSE_OPT_KEY("gc_interval=", KEY_GC_INTERVAL),
	FUSE_OPT_KEY("workers=", KEY_WORKERS),
	FUSE_OPT_KEY("compress=", KEY_COMPRESS),
	FUSE_OPT_KEY("keyfile=", KEY_KEYFILE),
	FUSE_OPT_END,
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A decimal number LO..HI, the whole of S; false otherwise. */
static bool parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int option_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)outargs;
	struct options *o = data;
	const char *val = strchr(arg, '=');
	long v;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		/* Both operands are ours: libfuse would judge a missing mount
		 * point a usage error, and check nothing else about it. */
		switch (o->seen_nonopts++) {
		case 0:
			o->store = strdup(arg);
			return o->store ? 0 : -1;
		case 1:
			o->mountpoint = strdup(arg);
			return o->mountpoint ? 0 : -1;
		default:
			say("enrpfs: unexpected argument '%s'", arg);
			return -1;
		}
	case KEY_WORKERS:
		if (!parse_num(val + 1, 1, WORKERS_MAX, &v)) {
			say("enrpfs: bad option '%s': workers is a number of threads, 1..%d",
			    arg, WORKERS_MAX);
			return -1;
		}
		o->workers = (unsigned)v;
		return 0;
	case KEY_COMPRESS:
		if (!parse_num(val + 1, 1, 19, &v)) {
			say("enrpfs: bad option '%s': compress is a zstd level, 1..19", arg);
			return -1;
		}
		o->compress = (int)v;
		return 0;
	case KEY_GC_INTERVAL:
		if (!parse_num(val + 1, 0, GC_INTERVAL_MAX, &v)) {
			say("enrpfs: bad option '%s': gc_interval is seconds, 0 (never) .. %d",
			    arg, GC_INTERVAL_MAX);
			return -1;
		}
		o->gc_interval = v;
		return 0;
	case KEY_SNAPSHOT:
		if (!strchr(val + 1, '@')) {
			say("enrpfs: bad option '%s': snapshot is EIR@NAME", arg);
			return -1;
		}
		free(o->snapshot);
		o->snapshot = strdup(val + 1);
		return o->snapshot ? 0 : -1;
	case KEY_ALLOW: {
		char bad[256];
		int rc = snapmount_allow(&o->allow, val + 1, bad, sizeof(bad));
		if (rc == -ENOENT)
			say("enrpfs: bad option '%s': no user or group named '%s'", arg, bad);
		else if (rc)
			say("enrpfs: bad option '%s': allow is USER|GROUP[:USER|GROUP...]", arg);
		o->allow_given = true;
		return rc ? -1 : 0;
	}
	case KEY_LOGFILE:
		if (val[1] != '/') {
			say("enrpfs: bad option '%s': logfile needs an absolute path (the daemon "
			    "runs in /)", arg);
			return -1;
		}
		free(o->logfile);
		o->logfile = strdup(val + 1);
		return o->logfile ? 0 : -1;
	case KEY_METRICS:
		if (val[1] != '/') {
			say("enrpfs: bad option '%s': metrics needs the absolute path of a file", arg);
			return -1;
		}
		free(o->metrics);
		o->metrics = strdup(val + 1);
		return o->metrics ? 0 : -1;
	case KEY_METRICS_INTERVAL:
		if (!parse_num(val + 1, 1, METRICS_INTERVAL_MAX, &v)) {
			say("enrpfs: bad option '%s': metrics_interval is seconds, 1..%d", arg,
			    METRICS_INTERVAL_MAX);
			return -1;
		}
		o->metrics_interval = v;
		return 0;
	case KEY_KEYFILE:
		if (!val[1]) {
			say("enrpfs: bad option '%s': keyfile needs the path of a key file", arg);
			return -1;
		}
		free(o->keyfile);
		o->keyfile = strdup(val + 1);
		return o->keyfile ? 0 : -1;
	default:
		return 1;
	}
}

/* No .flush: close(2) has nothing to do here (writes are synchronous and
 * fsync is its own request).  Without a handler libfuse answers the first
 * FLUSH with "not implemented" and the kernel sends none after it: one
 * round trip less per close. */
static const struct fuse_lowlevel_ops enrp_ops = {
	.init = op_init,
	.destroy = op_destroy,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.statfs = op_statfs,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.link = op_link,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.create = op_create,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.fsync = op_fsync,
	.fallocate = op_fallocate,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
};

void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_SPLICE_MOVE)
		conn->want |= FUSE_CAP_SPLICE_MOVE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* The registry's ACL of each EIR directory says who may enter it
	 * (ops_xattr.c); the kernel enforces it only with this capability. */
	if (conn->capable & FUSE_CAP_POSIX_ACL)
		conn->want |= FUSE_CAP_POSIX_ACL;
	/* Writes must reach the daemon to be checked: see ops_file.c. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* Only the kernel's own requests change a file's bytes (the daemon
	 * drops the pages itself where they may be stale: node_pages_stale,
	 * invalidate_eir), so a new mtime at an attribute refresh must not
	 * drop the pages a write just put there. */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	/* Dumps arrive in large sequential writes: 1 MiB requests cut the
	 * per-request cost of FUSE eightfold against the 128 KiB default. */
	conn->max_write = 1 << 20;
	conn->max_readahead = 1 << 20;
}

void op_destroy(void *userdata)
{
	struct fs *fs = userdata;
	enrp_store_sync(fs->st);
}

static void usage(FILE *out)
{
	fprintf(out,
	        _("usage: enrpfs [options] STORE MOUNTPOINT\n"
	        "\n"
	        "Mounts the enrp platform store STORE (made by 'enrpctl init') at MOUNTPOINT.\n"
	        "\n"
	        "options:\n"
	        "    -h, --help        print this help and exit\n"
	        "    -V, --version     print the version and exit\n"
	        "    -f                stay in the foreground\n"
	        "    -d                debug: foreground, log every request\n"
	        "    -s                single-threaded\n"
	        "    -o opt[,opt...]   mount options (see enrpfs(8)); default_permissions,\n"
	        "                      allow_other, nodev, nosuid and noatime are always set\n"
	        "\n"
	        "enrpfs options:\n"
	        "    -o workers=N      sealing threads, 1..64 (default: number of cores)\n"
	        "    -o compress=N     zstd level of new chunks, 1..19 (default 3)\n"
	        "    -o logfile=PATH   append the daemon's messages to PATH (absolute; SIGHUP\n"
	        "                      reopens it) instead of syslog\n"
	        "    -o keyfile=PATH   master key of an encrypted store (default: the\n"
	        "                      path recorded by 'enrpctl init --encrypt')\n"
	        "    -o gc_interval=S  collect garbage on its own at most every S seconds\n"
	        "                      once chunks lost their last user (default %d; 0 never)\n"
	        "    -o snapshot=EIR@NAME  serve that snapshot alone, read-only, beside the\n"
	        "                      store's daemon (a test restore); open only to the\n"
	        "                      mounting account unless allow= says otherwise\n"
	        "    -o allow=USER|GROUP[:USER|GROUP...]  with snapshot=: who else may use it\n"
	        "    -o metrics=FILE   write Prometheus metrics to FILE (an absolute path),\n"
	        "                      replaced atomically every metrics_interval seconds\n"
	        "    -o metrics_interval=S  seconds between rewrites, 1..%d (default %d)\n"
	        "\n"
	        "MOUNTPOINT must be an empty directory outside the store and outside every\n"
	        "enrpfs mount.  enrpfs runs as root: the store is root's alone.  Exit\n"
	        "status: 0 mounted, 1 failure, 2 usage error.\n"),
	        GC_INTERVAL_DEFAULT, METRICS_INTERVAL_MAX, METRICS_INTERVAL_DEFAULT);
}

static bool foreground;
static bool daemonised;
static int status_fd = -1;

/* Every message enrpfs writes goes through here: one line, with whatever it
 * quotes (paths, option values, names) escaped by enrp_text_escape, so no
 * byte of a user's string reaches the terminal or syslog as a control.  Our
 * own formats hold no controls; the line break is added here. */
static void emit(int prio, const char *msg)
{
	char buf[4 * PATH_MAX];
	enrp_text_escape(buf, sizeof(buf), msg);
	/* -o logfile= takes every message, syslog's included. */
	bool to_file = logfile_active();
	if (to_file) {
		static const char *const names[] = { "emerg", "alert", "crit", "error",
			                             "warning", "notice", "info", "debug" };
		const char *text = strncmp(buf, "enrpfs: ", 8) ? buf : buf + 8;
		logfile_write(names[prio & 7], text);
	}
	/* Until the terminal is let go, the user who started us reads this. */
	if (!daemonised)
		fprintf(stderr, "%s\n", buf);
	else if (!to_file)
		syslog(prio, "%s", buf);
}

/* Says, before a daemon lets its terminal go, that its messages would
 * reach nobody: no log file, and no syslog socket to take them (a
 * container, a minimal host).  Messages of a foreground enrpfs go to its
 * stderr (under systemd, the journal). */
static void warn_if_messages_lost(bool foreground_run)
{
	struct stat sb;
	if (foreground_run || logfile_active() ||
	    (stat("/dev/log", &sb) == 0 && S_ISSOCK(sb.st_mode)))
		return;
	say("enrpfs: warning: no syslog socket (/dev/log) on this host: the daemon's messages "
	    "will be lost");
	say("hint: mount with -o logfile=/var/log/enrpfs.log, or run 'enrpfs -f' under a "
	    "service manager that keeps its stderr (see enrpfs(8), RUNNING AS A SERVICE)");
}

static void say(const char *fmt, ...)
{
	char msg[4 * PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	emit(LOG_ERR, msg);
}

static void log_sink(enum enrp_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	char line[4 * PATH_MAX];
	snprintf(line, sizeof(line), "%s%s", daemonised ? "" : "enrpfs: ", msg);
	emit(prio[level], line);
}

/* libfuse's messages ("fuse: unknown option(s): `-o x'") come in pieces;
 * they are collected up to the newline and said as ours. */
static void fuse_log_sink(enum fuse_log_level level, const char *fmt, va_list ap)
{
	static char line[1024];
	static size_t len;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	char piece_buf[1024];
	vsnprintf(piece_buf, sizeof(piece_buf), fmt, ap);
	pthread_mutex_lock(&lock);
	for (const char *p = piece_buf; *p; p++) {
		if (*p != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = *p;
			continue;
		}
		line[len] = '\0';
		const char *msg = strncmp(line, "fuse: ", 6) == 0 ? line + 6 : line;
		if (level <= FUSE_LOG_ERR || !daemonised) {
			char out[1100];
			snprintf(out, sizeof(out), "%s%s", daemonised ? "" : "enrpfs: ", msg);
			emit(level <= FUSE_LOG_ERR ? LOG_ERR : LOG_INFO, out);
		}
		len = 0;
	}
	pthread_mutex_unlock(&lock);
}

/* Forks; the parent waits for "ok" from the child and exits with its
 * verdict.  Returns in the child with the status pipe's write end. */
static int daemon_begin(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		char buf[8] = "";
		ssize_t n = read(p[0], buf, sizeof(buf) - 1);
		if (n > 0 && strncmp(buf, "ok", 2) == 0)
			_exit(0);
		int status;
		waitpid(pid, &status, 0);
		_exit(WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void daemon_done(void)
{
	if (status_fd < 0)
		return;
	daemonised = true;
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	if (chdir("/") < 0) {
		/* nothing relative is used after this point */
	}
	if (write(status_fd, "ok", 2) != 2) {
		/* the parent is gone: nobody to tell */
	}
	close(status_fd);
	status_fd = -1;
}

/* Adds our fixed mount options; the store path names the filesystem when
 * it can be spelled inside an option list.  A snapshot mount (O->snapshot)
 * is ro, leaves permissions to its own check (snapmount.c) and lets others
 * in only when allow= names them. */
static int add_mount_options(struct fuse_args *args, const char *store, const struct options *o)
{
	char opt[PATH_MAX + 128];
	bool plain = !strpbrk(store, ", \t\n\\");
	const char *access = !o->snapshot ? "default_permissions,allow_other"
	                     : o->allow_given ? "ro,allow_other" : "ro";
	/* noatime: the kernel leaves atime to a FUSE daemon, and a backup store
	 * has no use for read times (retention never looks at client times).
	 * A snapshot mount is named after its snapshot: mount(8) then says
	 * what is mounted, and `enrpctl snapshot umount` journals it. */
	if (o->snapshot)
		snprintf(opt, sizeof(opt), "-o%s,nodev,nosuid,noatime,subtype=enrpfs,"
		         "fsname=" ENRP_SNAPMOUNT_FSNAME_PREFIX "%s", access, o->snapshot);
	else
		snprintf(opt, sizeof(opt), "-o%s,nodev,nosuid,noatime,subtype=enrpfs%s%s", access,
		         plain ? ",fsname=" : "", plain ? store : "");
	return fuse_opt_add_arg(args, opt);
}

/* The mount holding PATH (absolute, no symlinks): the deepest entry of
 * /proc/self/mounts whose directory is PATH or above it; of several on one
 * directory, the last (the one on top).  false when none is found. */
static bool mount_of(const char *path, char *dir, char *type, char *src)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return false;
	struct mntent m;
	char buf[3 * PATH_MAX];
	size_t best = 0;
	bool found = false;
	while (getmntent_r(f, &m, buf, sizeof(buf))) {
		size_t n = strlen(m.mnt_dir);
		bool above = !strcmp(m.mnt_dir, "/") ||
		             (!strncmp(path, m.mnt_dir, n) && (path[n] == '/' || !path[n]));
		if (!above || n < best || strlen(m.mnt_type) >= 64 || strlen(m.mnt_fsname) >= PATH_MAX)
			continue;
		best = n;
		found = true;
		snprintf(dir, PATH_MAX, "%s", m.mnt_dir);
		snprintf(type, 64, "%s", m.mnt_type);
		snprintf(src, PATH_MAX, "%s", m.mnt_fsname);
	}
	endmntent(f);
	return found;
}

/* Whether PATH is BASE or below it (both absolute, no symlinks). */
static bool is_below(const char *path, const char *base)
{
	size_t n = strlen(base);
	if (!strcmp(base, "/"))
		return true;
	return !strncmp(path, base, n) && (path[n] == '/' || !path[n]);
}

/* The store (ARG as given, STORE resolved): root's alone, and not served
 * through another enrpfs mount.  0, or 1 after saying why. */
static int check_store(const char *arg, const char *store)
{
	struct enrp_trust_problem tp;
	if (enrp_store_check(arg, &tp) == -EPERM) {
		if (strcmp(tp.path, store))
			say("enrpfs: cannot open store '%s': '%s' %s", store, tp.path, tp.why);
		else
			say("enrpfs: cannot open store '%s': it %s", store, tp.why);
		say("hint: %s (a store and every directory above it must be root's alone; "
		    "nothing was changed)", tp.fix);
		return 1;
	}
	char dir[PATH_MAX], type[64], src[PATH_MAX];
	if (mount_of(store, dir, type, src) && !strcmp(type, "fuse.enrpfs")) {
		say("enrpfs: cannot open store '%s': it is inside the enrpfs mount at '%s'", store, dir);
		say("hint: give the store's own directory (the one 'enrpctl init' made), not a "
		    "path through a mount");
		return 1;
	}
	return 0;
}

/* Says why STORE could not be opened (RC of enrp_store_open): one reason,
 * and what to do. */
static void store_open_failed(const char *store, int rc)
{
	/* Core has said it already, naming both format numbers. */
	if (rc != -EPROTONOSUPPORT)
		say("enrpfs: cannot open store '%s': %s", store, enrp_strerror(rc));
	if (rc == -EMEDIUMTYPE)
		say("hint: give the directory made by 'enrpctl init'");
	else if (rc == -EPROTONOSUPPORT)
		say("hint: use the enrp release that made the store (this is enrpfs %s, store "
		    "format %d)", ENRP_VERSION, ENRP_STORE_FORMAT);
}

/* The mount point ARG for STORE: an existing, empty directory that no
 * enrpfs serves already, outside every enrpfs mount and the store, and not
 * above the store.  0 with its absolute path in MNT (PATH_MAX bytes), or 1
 * after saying why.  A descriptor passed as /dev/fd/N (mount.fuse3's
 * drop_privileges) was mounted by the caller and is taken as it is. */
static int check_mountpoint(const char *store, const char *arg, char *mnt)
{
	char dir[PATH_MAX], type[64], src[PATH_MAX];
	struct stat sb;
	if (!strncmp(arg, "/dev/fd/", 8)) {
		snprintf(mnt, PATH_MAX, "%s", arg);
		return 0;
	}
	if (!realpath(arg, mnt) || stat(mnt, &sb) < 0) {
		int err = errno;
		if (err == ENOTCONN) {
			/* What a killed daemon leaves: the kernel keeps the mount
			 * until someone removes it. */
			say("enrpfs: cannot mount on '%s': the mount point is stale (the enrpfs that "
			    "served it was killed or crashed: %s)", arg, strerror(err));
			say("hint: 'fusermount3 -u %s' clears it; then mount again", arg);
			return 1;
		}
		say("enrpfs: cannot mount on '%s': %s", arg, strerror(err));
		if (err == ENOENT)
			say("hint: create the directory first (mkdir -p '%s')", arg);
		return 1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		say("enrpfs: cannot mount on '%s': not a directory", arg);
		say("hint: mount on an empty directory");
		return 1;
	}
	if (mount_of(mnt, dir, type, src) && !strcmp(type, "fuse.enrpfs")) {
		if (!strcmp(dir, mnt)) {
			say("enrpfs: cannot mount on '%s': an enrpfs mount of '%s' is already there",
			    arg, src);
			say("hint: a second mount would hide the one that owners are using; unmount "
			    "it first (fusermount3 -u %s) or choose another directory", arg);
		} else {
			say("enrpfs: cannot mount on '%s': it is inside the enrpfs mount at '%s'", arg,
			    dir);
			say("hint: mount on an empty directory outside every enrpfs mount");
		}
		return 1;
	}
	if (is_below(mnt, store)) {
		say("enrpfs: cannot mount on '%s': it is inside the store '%s'", arg, store);
		say("hint: mount outside the store, e.g. on an empty /mnt/enrp");
		return 1;
	}
	if (is_below(store, mnt)) {
		say("enrpfs: cannot mount on '%s': the store '%s' is below it, and the mount "
		    "would hide it", arg, store);
		say("hint: mount on an empty directory outside the store's path");
		return 1;
	}
	DIR *d = opendir(mnt);
	if (!d) {
		say("enrpfs: cannot mount on '%s': %s", arg, strerror(errno));
		return 1;
	}
	struct dirent *de;
	unsigned long n = 0;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	if (n) {
		say("enrpfs: cannot mount on '%s': the directory is not empty (%lu entr%s would "
		    "be hidden)", arg, n, n == 1 ? "y" : "ies");
		say("hint: mount on an empty directory");
		return 1;
	}
	return 0;
}

/* Serves snapshot O->snapshot of STORE at MNT (snapmount.c): a second,
 * read-only process beside the store's daemon, which keeps the daemon
 * lock.  Returns the exit status. */
static int serve_snapshot(struct options *o, struct fuse_cmdline_opts *cmd,
                          struct fuse_args *args, const char *store, const char *mnt)
{
	struct fs fs = { .timeout = 1.0, .control_fd = -1, .store_path = store };
	struct fuse_loop_config *loop = NULL;

	enrp_i18n_init();
	int ret = 1;
	/* Refused on the terminal when the snapshot is not there. */
	{
		enrp_store *probe;
		struct enrp_snapshot snap;
		char *at = strchr(o->snapshot, '@');
		*at = '\0';
		int rc = enrp_store_open(store, ENRP_STORE_RDONLY, &probe);
		if (rc == 0) {
			rc = enrp_eir_name_valid(o->snapshot) && enrp_snapshot_name_valid(at + 1)
			             ? enrp_snapshot_get(probe, o->snapshot, at + 1, &snap)
			             : -EINVAL;
			enrp_store_close(probe);
		}
		if (rc) {
			say("enrpfs: cannot mount snapshot '%s@%s': %s", o->snapshot, at + 1,
			    rc == -ENOENT ? "no such EIR or snapshot" : enrp_strerror(rc));
			say("hint: 'enrpctl snapshot list %s' shows its snapshots", o->snapshot);
			*at = '@';
			return rc == -EINVAL ? 2 : 1;
		}
		*at = '@';
	}
	fs.se = fuse_session_new(args, &snapmount_ops, sizeof(snapmount_ops), &fs);
	if (!fs.se) {
		say("hint: run 'enrpfs --help' for the options");
		return 2;
	}
	warn_if_messages_lost(cmd->foreground);
	if (!cmd->foreground) {
		status_fd = daemon_begin();
		if (status_fd < 0) {
			say("enrpfs: cannot daemonise: %s", strerror(-status_fd));
			goto out_session;
		}
		openlog("enrpfs", LOG_PID, LOG_DAEMON);
	}
	/* Read-only: no format upgrade, no database created, no recovery, no
	 * daemon lock, and a pipeline without seal workers (its chunk reader
	 * verifies every chunk and journals nothing). */
	int rc = enrp_store_open(store, ENRP_STORE_RDONLY, &fs.st);
	if (rc) {
		store_open_failed(store, rc);
		goto out_session;
	}
	rc = enrp_vault_open(fs.st, o->keyfile, &fs.vault);
	if (rc) {
		say("enrpfs: cannot open the keys of store '%s': %s", store,
		    rc == -ENOKEY ? "the store is encrypted and no key file is known"
		                  : enrp_strerror(rc));
		goto out_store;
	}
	/* As many read-ahead decoders as the store's daemon: a test restore
	 * reads a snapshot as fast as the live files (bench step 13). */
	struct enrp_ingest_config icfg = { .workers = 0,
		                           .decoders = enrp_ingest_default_decoders() };
	rc = enrp_ingest_open(fs.st, fs.vault, &icfg, &fs.ing);
	if (rc) {
		say("enrpfs: cannot start the chunk reader of store '%s': %s", store,
		    enrp_strerror(rc));
		goto out_vault;
	}
	pthread_mutex_init(&fs.dead_lock, NULL);
	rc = snapmount_open(&fs, o->snapshot, &o->allow, mnt);
	if (rc) {
		say("enrpfs: cannot mount snapshot '%s': %s", o->snapshot,
		    rc == -EBUSY ? "it is being deleted" : enrp_strerror(rc));
		goto out_ingest;
	}
	if (fuse_set_signal_handlers(fs.se) != 0 ||
	    (logfile_active() && logfile_reopen_on_sighup() != 0))
		goto out_snapmount;
	if (fuse_session_mount(fs.se, mnt) != 0)
		goto out_signals;
	daemon_done();
	enrp_log(ENRP_LOG_INFO, "serving snapshot %s of %s at %s, read-only", o->snapshot, store,
	         mnt);
	service_notify("READY=1\nSTATUS=serving snapshot %s at %s, read-only", o->snapshot, mnt);
	if (cmd->singlethread) {
		ret = fuse_session_loop(fs.se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, (unsigned)cmd->clone_fd);
		fuse_loop_cfg_set_max_threads(loop, cmd->max_threads);
		ret = fuse_session_loop_mt(fs.se, loop);
	}
	ret = ret < 0 ? 1 : 0;
	service_notify("STOPPING=1\nSTATUS=unmounted; stopping");
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
out_snapmount:
	fuse_session_destroy(fs.se);
	fs.se = NULL;
	handles_reap(&fs, true);
	snapmount_close(&fs);
out_ingest:
	pthread_mutex_destroy(&fs.dead_lock);
	enrp_ingest_close(fs.ing);
out_vault:
	enrp_vault_close(fs.vault);
out_store:
	enrp_store_close(fs.st);
out_session:
	if (fs.se)
		fuse_session_destroy(fs.se);
	fuse_loop_cfg_destroy(loop);
	return ret;
}

/* Every file open for writing, or for reading before its seal, holds a
 * descriptor here: a shell's soft limit (1024) would cap what all clients
 * together may hold open, where the hard limit is what the host allows. */
static void raise_descriptor_limit(void)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
			enrp_log(ENRP_LOG_WARNING, "cannot raise the limit on open files to %llu: %s",
			         (unsigned long long)lim.rlim_max, strerror(errno));
	}
}

/* Two request threads per core, 4 to 10 (libfuse's own default).  More
 * only contend: on 2 cores, 4 threads served the file-server load 10-15 %
 * faster than 10, and another EIR's creates were no slower beside it
 * (docs/performance.md).  Each waiting request (a commit, a cold chunk)
 * holds one, hence at least 4. */
static unsigned default_request_threads(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = cores > 0 ? 2 * (unsigned)cores : 4;
	return n < 4 ? 4 : n > 10 ? 10 : n;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { .gc_interval = -1, .metrics_interval = METRICS_INTERVAL_DEFAULT };
	struct metrics *metrics = NULL;
	struct relay *relay = NULL;
	struct fuse_cmdline_opts cmd = { 0 };
	struct fs fs = { .timeout = 1.0, .control_fd = -1 };
	struct fuse_loop_config *loop = NULL;
	char store[PATH_MAX];
	int ret = 1, rc, lock_fd = -1;

	/* A daemon keeps nothing its starter left open (a pipe held open would
	 * keep the starter waiting, a stray descriptor pins a file); only a
	 * pre-opened FUSE descriptor given as /dev/fd/N must survive. */
	bool fd_passed = false;
	for (int i = 1; i < argc; i++)
		fd_passed |= strncmp(argv[i], "/dev/fd/", 8) == 0;
	if (!fd_passed)
		close_range(3, ~0U, 0);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("enrpfs %s (libfuse %s)\n", ENRP_VERSION, fuse_pkgversion());
			return 0;
		}
	}
	fuse_set_log_func(fuse_log_sink);
	if (fuse_opt_parse(&args, &o, option_spec, option_proc) == -1) {
		say("hint: run 'enrpfs --help' for the options");
		ret = 2;
		goto out_args;
	}
	if (fuse_parse_cmdline(&args, &cmd) != 0) {
		usage(stderr);
		ret = 2;
		goto out_args;
	}
	bool threads_given = false;
	for (int i = 1; i < argc; i++)
		threads_given |= strstr(argv[i], "max_threads=") != NULL;
	if (!threads_given)
		cmd.max_threads = default_request_threads();
	if (!o.store || !o.mountpoint) {
		/* One line: the whole help would bury what is missing. */
		say("enrpfs: no %s given (usage: enrpfs [options] STORE MOUNTPOINT; see "
		    "'enrpfs --help')", !o.store ? _("store") : _("mount point"));
		ret = 2;
		goto out_args;
	}
	/* Any other account fails further on with a bare "Permission denied"
	 * (the store is root's alone, 0700) or, were it let in, at allow_other
	 * (fusermount3 grants it to root only by default): say what is needed
	 * before either. */
	if (geteuid() != 0) {
		say("enrpfs: cannot mount store '%s' as uid %u: enrpfs must run as root (the "
		    "store is root's alone, and the mount serves every EIR's owner)", o.store,
		    (unsigned)geteuid());
		goto out_args;
	}
	foreground = cmd.foreground;
	if (o.logfile) {
		rc = logfile_open(o.logfile);
		if (rc) {
			say("enrpfs: cannot open log file '%s': %s", o.logfile, strerror(-rc));
			say("hint: give a path in an existing directory that root may write");
			goto out_args;
		}
	}
	enrp_log_set_sink(log_sink, NULL, cmd.debug ? ENRP_LOG_DEBUG : ENRP_LOG_INFO);
	if (!realpath(o.store, store)) {
		say("enrpfs: cannot open store '%s': %s", o.store, strerror(errno));
		if (errno == ENOENT)
			say("hint: create one with 'enrpctl init %s'", o.store);
		goto out_args;
	}
	fs.store_path = store;
	raise_descriptor_limit();

	/* Refuse clearly, before daemonising, what can be refused now: the
	 * store, the mount point, the options, in that order. */
	char mnt[PATH_MAX];
	if (check_store(o.store, store) || check_mountpoint(store, o.mountpoint, mnt))
		goto out_args;
	enrp_store *probe;
	rc = enrp_store_open(store, ENRP_STORE_RDONLY, &probe);
	if (rc) {
		store_open_failed(store, rc);
		goto out_args;
	}
	bool encrypted = false;
	char recorded[PATH_MAX];
	rc = enrp_vault_info(probe, &encrypted, recorded, sizeof(recorded));
	enrp_store_close(probe);
	if (rc) {
		say("enrpfs: cannot read the keys of store '%s': %s", store, enrp_strerror(rc));
		goto out_args;
	}
	if (o.keyfile && !encrypted) {
		say("enrpfs: bad option 'keyfile=%s': store '%s' is not encrypted", o.keyfile, store);
		say("hint: leave out keyfile=; only a store made by 'enrpctl init --encrypt' has a key");
		ret = 2;
		goto out_args;
	}
	if (o.allow_given && !o.snapshot) {
		say("enrpfs: bad option 'allow=': it is for snapshot mounts only");
		say("hint: the store's own mount is open to every account its EIRs name");
		ret = 2;
		goto out_args;
	}
	if (o.metrics && (o.snapshot || (rc = metrics_check_path(o.metrics)))) {
		if (o.snapshot)
			say("enrpfs: bad option 'metrics=': the store's own mount writes the metrics, "
			    "not a snapshot mount");
		else
			say("enrpfs: bad option 'metrics=%s': cannot create '%s.tmp' beside it: %s",
			    o.metrics, o.metrics, strerror(-rc));
		say("hint: give a file in an existing directory that root can write");
		ret = 2;
		goto out_args;
	}
	if (add_mount_options(&args, store, &o) != 0)
		goto out_args;
	if (o.snapshot) {
		ret = serve_snapshot(&o, &cmd, &args, store, mnt);
		goto out_args;
	}
	/* The session parses the FUSE options: made here, an unknown one is a
	 * usage error on the terminal rather than a failed daemon.  Nothing in
	 * it minds the fork below (no thread, no descriptor yet). */
	fs.se = fuse_session_new(&args, &enrp_ops, sizeof(enrp_ops), &fs);
	if (!fs.se) {
		say("hint: run 'enrpfs --help' for the options");
		ret = 2;
		goto out_args;
	}
	pid_t holder = 0;
	lock_fd = enrp_rundir_lock(store, &holder);
	struct enrp_daemon_info prev;
	/* Unmounted a moment ago, the last daemon may still be finishing its
	 * work: a restart (fusermount3 -u; enrpfs ...) waits for it. */
	if (lock_fd == -EBUSY && !enrp_rundir_daemon_info(store, &prev) &&
	    prev.state == ENRP_DAEMON_STOPPING) {
		say("enrpfs: waiting for enrpfs (pid %d) to finish shutting down...", (int)prev.pid);
		enrp_rundir_wait_stopped(store, DAEMON_STOP_WAIT_MS, &prev);
		lock_fd = enrp_rundir_lock(store, &holder);
	}
	if (lock_fd < 0) {
		if (lock_fd == -EBUSY) {
			say("enrpfs: store '%s' is already mounted by enrpfs (pid %d)", store, (int)holder);
			say("hint: unmount it first, or use 'enrpctl snapshot mount' for a second, "
			    "read-only view");
		} else {
			say("enrpfs: cannot lock store '%s': %s", store, enrp_strerror(lock_fd));
		}
		goto out_session;
	}
	/* The last daemon's mount point, until ours is up (rundir.h). */
	enrp_rundir_write_mountpoint(store, NULL);
	warn_if_messages_lost(cmd.foreground);
	if (!cmd.foreground) {
		status_fd = daemon_begin();
		if (status_fd < 0) {
			say("enrpfs: cannot daemonise: %s", strerror(-status_fd));
			goto out_lock;
		}
		openlog("enrpfs", LOG_PID, LOG_DAEMON);
	}

	rc = enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &fs.st);
	if (rc) {
		store_open_failed(store, rc);
		goto out_lock;
	}
	uint64_t orphans = 0, spools = 0;
	rc = enrp_ns_recover(fs.st, &orphans, &spools);
	if (rc == -ENOSPC) {
		/* A full disk must not keep the store from mounting: reads go on,
		 * writes get ENOSPC until there is room, and the orphans are freed
		 * as the kernel forgets them or at the next mount. */
		enrp_log(ENRP_LOG_WARNING, "the disk of store '%s' is full: recovery postponed; "
		         "writes will fail with ENOSPC until space is freed", store);
	} else if (rc) {
		say("enrpfs: cannot recover store '%s': %s", store, enrp_strerror(rc));
		goto out_store;
	}
	if (orphans || spools)
		enrp_log(ENRP_LOG_NOTICE, "recovered: freed %llu orphaned inodes, removed %llu "
		         "unreferenced spool files", (unsigned long long)orphans,
		         (unsigned long long)spools);
	rc = enrp_vault_open(fs.st, o.keyfile, &fs.vault);
	if (rc) {
		say("enrpfs: cannot open the keys of store '%s': %s", store,
		    rc == -ENOKEY ? "the store is encrypted and no key file is known"
		                  : enrp_strerror(rc));
		if (rc == -ENOKEY || rc == -ENOENT)
			say("hint: mount with -o keyfile=PATH");
		goto out_store;
	}
	struct enrp_ingest_config icfg = {
		.workers = o.workers ? o.workers : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
		.zstd_level = o.compress,
	};
	rc = enrp_ingest_open(fs.st, fs.vault, &icfg, &fs.ing);
	if (rc) {
		say("enrpfs: cannot start sealing in store '%s': %s", store, enrp_strerror(rc));
		goto out_vault;
	}
	enrp_actor_self(&fs.actor, "enrpfs");
	fs.gc_interval = o.gc_interval >= 0 ? o.gc_interval : GC_INTERVAL_DEFAULT;
	pthread_rwlock_init(&fs.mode_lock, NULL);
	pthread_mutex_init(&fs.dead_lock, NULL);
	pthread_mutex_init(&fs.sizes.lock, NULL);
	if (nodes_init(&fs.nodes) || enrp_denials_new(fs.st, &fs.denials) ||
	    enrp_losses_new(fs.st, &fs.losses) ||
	    enrp_gc_new(fs.st, &fs.actor, &fs.gc)) {
		say("enrpfs: out of memory");
		goto out_nodes;
	}
	if (fuse_set_signal_handlers(fs.se) != 0 ||
	    (logfile_active() && logfile_reopen_on_sighup() != 0))
		goto out_nodes;
	if (fuse_session_mount(fs.se, mnt) != 0)
		goto out_signals;
	rc = notify_start(&fs);
	if (rc) {
		say("enrpfs: cannot start control socket: %s", enrp_strerror(rc));
		goto out_unmount;
	}
	relay = relay_start(store);
	if (o.metrics && (rc = metrics_start(&fs, o.metrics, o.metrics_interval, &metrics)))
		enrp_log(ENRP_LOG_ERR, "cannot start writing metrics to '%s': %s", o.metrics,
		         enrp_strerror(rc));
	audit_mount(&fs, argc, argv, mnt, encrypted ? (o.keyfile ? o.keyfile : recorded) : NULL,
	            orphans, spools);
	enrp_rundir_write_pid(lock_fd);
	if (mnt[0] == '/')
		enrp_rundir_write_mountpoint(store, mnt);
	daemon_done();
	enrp_log(ENRP_LOG_INFO, "serving %s at %s", store, mnt);
	service_notify("READY=1\nSTATUS=serving %s at %s", store, mnt);

	if (cmd.singlethread) {
		ret = fuse_session_loop(fs.se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, (unsigned)cmd.clone_fd);
		fuse_loop_cfg_set_max_threads(loop, cmd.max_threads);
		ret = fuse_session_loop_mt(fs.se, loop);
	}
	ret = ret < 0 ? 1 : 0;
	/* Unmounted (or told to stop): what follows may take a while (the
	 * seal queue drains), and enrpctl waits for it (rundir.h). */
	enrp_log(ENRP_LOG_INFO, "unmounted from %s; finishing and stopping", mnt);
	service_notify("STOPPING=1\nSTATUS=unmounted; finishing pending work");
	metrics_stop(metrics);
	relay_stop(relay);
	notify_stop(&fs);
	handles_reap(&fs, true);
	enrp_denials_flush(fs.denials, &fs.actor, enrp_now_ns(), true);
	audit_unmount(&fs, mnt);
out_unmount:
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
	/* Destroying a session that was mounted runs op_destroy, which needs
	 * the store: here, not at out_session. */
	fuse_session_destroy(fs.se);
	fs.se = NULL;
	/* Nothing can reference an unlinked inode once unmounted. */
	enrp_ns_recover(fs.st, NULL, NULL);
out_nodes:
	enrp_gc_free(fs.gc); /* stops a run: what it freed so far stays freed */
	enrp_denials_free(fs.denials);
	enrp_losses_free(fs.losses);
	nodes_release(&fs.nodes);
	pthread_rwlock_destroy(&fs.mode_lock);
	pthread_mutex_destroy(&fs.dead_lock);
	enrp_ingest_close(fs.ing);
out_vault:
	enrp_vault_close(fs.vault);
out_store:
	/* Make the last records durable and mirror what the commit hook and the
	 * tick left pending, waiting for a slow syslog as enrpctl does. */
	enrp_store_sync(fs.st);
	enrp_journal_mirror_flush(fs.st);
	enrp_store_close(fs.st);
out_lock:
	close(lock_fd);
out_session:
	if (fs.se)
		fuse_session_destroy(fs.se);
out_args:
	fuse_loop_cfg_destroy(loop);
	free(cmd.mountpoint);
	free(o.store);
	free(o.mountpoint);
	free(o.keyfile);
	free(o.logfile);
	free(o.metrics);
	free(o.snapshot);
	free(o.allow.uids);
	free(o.allow.gids);
	fuse_opt_free_args(&args);
	return ret;
}
