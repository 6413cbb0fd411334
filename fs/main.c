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
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/rundir.h>

#include "fs.h"

struct options {
	char *store;
	int seen_nonopts;
	unsigned workers;
	int compress;
	char *keyfile;
};

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("workers=%u", workers),
	OPT("compress=%d", compress),
	OPT("keyfile=%s", keyfile),
	FUSE_OPT_END,
};

static int option_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)outargs;
	struct options *o = data;
	if (key == FUSE_OPT_KEY_NONOPT && o->seen_nonopts++ == 0) {
		o->store = strdup(arg);
		return 0; /* ours: the store; the next one is the mountpoint */
	}
	return 1;
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
	/* Writes must reach the daemon to be checked: see ops_file.c. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
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
	        "usage: enrpfs [options] STORE MOUNTPOINT\n"
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
	        "    -o workers=N      sealing threads (default: number of cores)\n"
	        "    -o compress=N     zstd level of new chunks, 1..19 (default 3)\n"
	        "    -o keyfile=PATH   master key of an encrypted store (default: the\n"
	        "                      path recorded by 'enrpctl init --encrypt')\n");
}

static bool foreground;
static bool daemonised;
static int status_fd = -1;

static void log_sink(enum enrp_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	/* Until the terminal is let go, the user who started us reads this. */
	if (!daemonised)
		fprintf(stderr, "enrpfs: %s\n", msg);
	else
		syslog(prio[level], "%s", msg);
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
 * it can be spelled inside an option list. */
static int add_mount_options(struct fuse_args *args, const char *store)
{
	char opt[PATH_MAX + 128];
	bool plain = !strpbrk(store, ", \t\n\\");
	/* noatime: the kernel leaves atime to a FUSE daemon, and a backup store
	 * has no use for read times (retention never looks at client times). */
	snprintf(opt, sizeof(opt),
	         "-odefault_permissions,allow_other,nodev,nosuid,noatime,subtype=enrpfs%s%s",
	         plain ? ",fsname=" : "", plain ? store : "");
	return fuse_opt_add_arg(args, opt);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { 0 };
	struct fuse_cmdline_opts cmd = { 0 };
	struct fs fs = { .timeout = 1.0, .control_fd = -1, .null_fd = -1 };
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
	if (fuse_opt_parse(&args, &o, option_spec, option_proc) == -1)
		return 2;
	if (fuse_parse_cmdline(&args, &cmd) != 0) {
		usage(stderr);
		ret = 2;
		goto out_args;
	}
	if (!o.store || !cmd.mountpoint) {
		fprintf(stderr, "enrpfs: %s\n", !o.store ? "no store given" : "no mount point given");
		usage(stderr);
		ret = 2;
		goto out_args;
	}
	foreground = cmd.foreground;
	enrp_log_set_sink(log_sink, NULL, cmd.debug ? ENRP_LOG_DEBUG : ENRP_LOG_INFO);
	if (!realpath(o.store, store)) {
		fprintf(stderr, "enrpfs: cannot open store '%s': %s\n", o.store, strerror(errno));
		if (errno == ENOENT)
			fprintf(stderr, "hint: create one with 'enrpctl init %s'\n", o.store);
		goto out_args;
	}
	fs.store_path = store;

	/* Refuse clearly, before daemonising, what can be refused now. */
	enrp_store *probe;
	rc = enrp_store_open(store, ENRP_STORE_RDONLY, &probe);
	if (rc) {
		fprintf(stderr, "enrpfs: cannot open store '%s': %s\n", store, enrp_strerror(rc));
		goto out_args;
	}
	enrp_store_close(probe);
	pid_t holder = 0;
	lock_fd = enrp_rundir_lock(store, &holder);
	if (lock_fd < 0) {
		if (lock_fd == -EBUSY)
			fprintf(stderr, "enrpfs: store '%s' is already mounted by enrpfs (pid %d)\n"
			                "hint: unmount it first, or use 'enrpctl snapshot mount' for a "
			                "second, read-only view\n", store, (int)holder);
		else
			fprintf(stderr, "enrpfs: cannot lock store '%s': %s\n", store,
			        enrp_strerror(lock_fd));
		goto out_args;
	}
	if (add_mount_options(&args, store) != 0)
		goto out_lock;
	if (!cmd.foreground) {
		status_fd = daemon_begin();
		if (status_fd < 0) {
			fprintf(stderr, "enrpfs: cannot daemonise: %s\n", strerror(-status_fd));
			goto out_lock;
		}
		openlog("enrpfs", LOG_PID, LOG_DAEMON);
	}

	rc = enrp_store_open(store, ENRP_STORE_GROUP_COMMIT, &fs.st);
	if (rc) {
		fprintf(stderr, "enrpfs: cannot open store '%s': %s\n", store, enrp_strerror(rc));
		goto out_lock;
	}
	uint64_t orphans = 0, spools = 0;
	rc = enrp_ns_recover(fs.st, &orphans, &spools);
	if (rc) {
		fprintf(stderr, "enrpfs: cannot recover store '%s': %s\n", store, enrp_strerror(rc));
		goto out_store;
	}
	if (orphans || spools)
		enrp_log(ENRP_LOG_NOTICE, "recovered: freed %llu orphaned inodes, removed %llu "
		         "unreferenced spool files", (unsigned long long)orphans,
		         (unsigned long long)spools);
	rc = enrp_vault_open(fs.st, o.keyfile, &fs.vault);
	if (rc) {
		fprintf(stderr, "enrpfs: cannot open the keys of store '%s': %s\n", store,
		        rc == -ENOKEY ? "the store is encrypted and no key file is known"
		                      : enrp_strerror(rc));
		if (rc == -ENOKEY || rc == -ENOENT)
			fprintf(stderr, "hint: mount with -o keyfile=PATH\n");
		goto out_store;
	}
	struct enrp_ingest_config icfg = {
		.workers = o.workers ? o.workers : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
		.zstd_level = o.compress,
	};
	if (o.compress && (o.compress < 1 || o.compress > 19)) {
		fprintf(stderr, "enrpfs: compress=%d is not a zstd level 1..19\n", o.compress);
		ret = 2;
		goto out_vault;
	}
	rc = enrp_ingest_open(fs.st, fs.vault, &icfg, &fs.ing);
	if (rc) {
		fprintf(stderr, "enrpfs: cannot start sealing in store '%s': %s\n", store,
		        enrp_strerror(rc));
		goto out_vault;
	}
	enrp_actor_self(&fs.actor, "enrpfs");
	pthread_rwlock_init(&fs.mode_lock, NULL);
	pthread_mutex_init(&fs.dead_lock, NULL);
	pthread_mutex_init(&fs.sizes.lock, NULL);
	fs.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nodes_init(&fs.nodes) || enrp_denials_new(fs.st, &fs.denials)) {
		fprintf(stderr, "enrpfs: out of memory\n");
		goto out_ingest;
	}
	fs.se = fuse_session_new(&args, &enrp_ops, sizeof(enrp_ops), &fs);
	if (!fs.se)
		goto out_nodes;
	if (fuse_set_signal_handlers(fs.se) != 0)
		goto out_session;
	if (fuse_session_mount(fs.se, cmd.mountpoint) != 0)
		goto out_signals;
	rc = notify_start(&fs);
	if (rc) {
		fprintf(stderr, "enrpfs: cannot start control socket: %s\n", enrp_strerror(rc));
		goto out_unmount;
	}
	enrp_rundir_write_pid(lock_fd);
	daemon_done();
	enrp_log(ENRP_LOG_INFO, "serving %s at %s", store, cmd.mountpoint);

	if (cmd.singlethread) {
		ret = fuse_session_loop(fs.se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, (unsigned)cmd.clone_fd);
		fuse_loop_cfg_set_max_threads(loop, cmd.max_threads ? cmd.max_threads : 16);
		ret = fuse_session_loop_mt(fs.se, loop);
	}
	ret = ret < 0 ? 1 : 0;
	notify_stop(&fs);
	handles_reap(&fs, true);
	enrp_denials_flush(fs.denials, &fs.actor, enrp_now_ns(), true);
out_unmount:
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
out_session:
	fuse_session_destroy(fs.se);
	/* Nothing can reference an unlinked inode once unmounted. */
	enrp_ns_recover(fs.st, NULL, NULL);
out_nodes:
	enrp_denials_free(fs.denials);
	nodes_release(&fs.nodes);
	pthread_rwlock_destroy(&fs.mode_lock);
	pthread_mutex_destroy(&fs.dead_lock);
out_ingest:
	if (fs.null_fd >= 0)
		close(fs.null_fd);
	enrp_ingest_close(fs.ing);
out_vault:
	enrp_vault_close(fs.vault);
out_store:
	enrp_store_close(fs.st);
out_lock:
	close(lock_fd);
out_args:
	fuse_loop_cfg_destroy(loop);
	free(cmd.mountpoint);
	free(o.store);
	free(o.keyfile);
	fuse_opt_free_args(&args);
	return ret;
}
