/*
 * cmd_wait.c — `enrpctl wait`: returns once files are verified, so an
 * owner's script can compare checksums right after a transfer without a
 * polling loop of its own.
 *
 *   enrpctl wait [--timeout SECONDS] TARGET...
 *
 * A TARGET is either EIR[/PATH] of the store (-S or $ENRP_STORE), or a path
 * in an enrpfs mount.  The two exist because of who runs it: the store is
 * root's alone (DESIGN §2), so an owner, running as their own uid, cannot
 * open it at all, while the mount lets them look at their own EIR in every
 * mode (getxattr and the .enrp/ files are allowed in wo, DESIGN §4).  So:
 *
 *   - through the store (operators): a file's state is its inode's, an
 *     EIR's is its file-state counts (struct enrp_eir_files), each read in
 *     one short read-only transaction.  The store is opened read-only, as
 *     `status` does, beside the running daemon.  Another process sees only
 *     what the daemon's group commit has made durable, so `verified` here
 *     is never shown before a crash could no longer take it back;
 *   - through the mount (owners): a file's state is `getfattr -n
 *     enrp.state`, an EIR directory's is its `.enrp/status`
 *     (pending_files, corrupt_files).  Both go through the daemon's
 *     enrp_store_sync_eir(), so they too never show `verified` early.
 *
 * Why polling and not a blocking read of a .enrp/ file: a FUSE request that
 * blocks for minutes holds one of the daemon's few worker threads (and a
 * loop of owners waiting could take them all), and the read would have to
 * be woken by every seal of every EIR.  A look costs one read transaction
 * (store) or one getxattr/read of a small constant-cost file (mount);
 * starting at 50 ms and doubling to 1 s (the group-commit interval: a seal
 * becomes visible at most that late anyway) keeps a long wait to one look
 * per second per target.
 *
 * Paths are looked up again at every look: rsync, cp and `>` replace a file
 * by renaming a new one over it, and the new inode is the one to wait for.
 *
 * Exit status: 0 when every target is verified; 1 when one is corrupt,
 * cannot be found or read, or the timeout passed first (each with its own
 * message); 2 for usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/ns.h>
#include <enrp/store.h>

#include "ctl.h"

static const struct ctl_help wait_help = {
	"enrpctl [-S STORE] wait [--timeout SECONDS] EIR[/PATH]|MOUNTPATH...",
	N_("Waits until every named file is verified (its checksum and chunks are\n"
	"durable on the platform), then exits 0.  An EIR (or an EIR's directory in a\n"
	"mount) stands for every file in it: it is done when nothing in it is open\n"
	"or pending.  Exits 1 at once when a file is corrupt (send it again), or\n"
	"cannot be found, and when the timeout passes first.\n"
	"\n"
	"EIR[/PATH] is looked up in the store (-S or $ENRP_STORE; the store's\n"
	"owner, usually root).  A path that starts with '/', './' or '../', and\n"
	"every operand when no store is given, is a file or an EIR directory in an\n"
	"enrpfs mount: how an EIR's owner waits, as their own user.\n"
	"\n"
	"Options:\n"
	"  --timeout SECONDS  give up after SECONDS (default: wait as long as it takes)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

enum verdict {
	V_WAITING,  /* open or pending */
	V_VERIFIED,
	V_CORRUPT,
	V_ERROR,    /* already reported */
};

struct target {
	const char *arg;     /* as given */
	bool in_mount;       /* a path in a mount, else EIR[/PATH] of the store */
	enum verdict last;
	bool is_eir;         /* stands for a whole EIR (set by the looks) */
	uint64_t waiting;    /* EIR targets: files open or pending at the last look */
};

static bool looks_like_path(const char *s)
{
	return s[0] == '/' || !strncmp(s, "./", 2) || !strncmp(s, "../", 3) || !strcmp(s, ".") ||
	       !strcmp(s, "..");
}

/* --- through the store ---------------------------------------------------- */

static enum verdict look_store(struct ctl *ctl, struct target *t)
{
	char eir[ENRP_NAME_MAX + 1];
	const char *slash = strchr(t->arg, '/');
	size_t n = slash ? (size_t)(slash - t->arg) : strlen(t->arg);
	if (n == 0 || n >= sizeof(eir)) {
		ctl_err("no EIR named '%.*s'", (int)n, t->arg);
		return V_ERROR;
	}
	memcpy(eir, t->arg, n);
	eir[n] = '\0';

	struct enrp_eir e;
	int rc = enrp_eir_get(ctl->store, eir, &e);
	if (rc) {
		ctl_eir_error("read", eir, rc);
		return V_ERROR;
	}
	const char *path = slash ? slash + 1 : "";
	while (*path == '/')
		path++;
	if (!*path) {
		struct enrp_eir_files fc;
		t->is_eir = true;
		rc = enrp_eir_files(ctl->store, e.id, &fc);
		if (rc) {
			ctl_err("cannot read the file states of EIR '%s': %s", eir,
			        rc == -ENOENT ? "the store has not counted them yet" : enrp_strerror(rc));
			ctl_hint("mount the store with enrpfs once; it counts them");
			return V_ERROR;
		}
		t->waiting = fc.open + fc.pending;
		if (fc.corrupt)
			return V_CORRUPT;
		return t->waiting ? V_WAITING : V_VERIFIED;
	}

	/* Walk PATH from the EIR's directory, a component at a time. */
	struct enrp_stat s;
	uint64_t ino = e.root_ino;
	char *copy = ctl_xstrdup(path), *save = NULL;
	rc = 0;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		rc = enrp_ns_lookup(ctl->store, ino, c, &s);
		if (rc)
			break;
		ino = s.st.st_ino;
	}
	free(copy);
	if (rc) {
		ctl_err("cannot find '%s': %s", t->arg, enrp_strerror(rc));
		ctl_hint("name a file of the EIR as EIR/PATH, relative to the EIR's directory");
		return V_ERROR;
	}
	if (!S_ISREG(s.st.st_mode)) {
		ctl_err("'%s' is not a regular file", t->arg);
		ctl_hint("wait for a file, or for a whole EIR by its name alone");
		return V_ERROR;
	}
	switch (s.state) {
	case ENRP_FILE_VERIFIED: return V_VERIFIED;
	case ENRP_FILE_CORRUPT:  return V_CORRUPT;
	default:                 return V_WAITING;
	}
}

/* --- through a mount ------------------------------------------------------ */

/* The value of KEY in the "key: value" text of FILE, or -1 (reported). */
static int64_t status_count(const char *file, const char *key)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		ctl_err("cannot read '%s': %s", file, strerror(errno));
		return -1;
	}
	char line[512];
	int64_t v = -1;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			char *end;
			unsigned long long u = strtoull(line + klen + 1, &end, 10);
			if (end != line + klen + 1)
				v = (int64_t)u;
			break;
		}
	}
	fclose(f);
	if (v < 0)
		ctl_err("'%s' has no count '%s'", file, key);
	return v;
}

static enum verdict look_mount(struct target *t)
{
	struct stat st;
	if (stat(t->arg, &st) != 0) {
		ctl_err("cannot look at '%s': %s", t->arg, strerror(errno));
		return V_ERROR;
	}
	if (S_ISDIR(st.st_mode)) {
		char *file;
		if (asprintf(&file, "%s/.enrp/status", t->arg) < 0) {
			ctl_err("out of memory");
			return V_ERROR;
		}
		struct stat sst;
		t->is_eir = true;
		if (stat(file, &sst) != 0) {
			ctl_err("'%s' is not the directory of an EIR in an enrpfs mount", t->arg);
			ctl_hint("wait for a file, or for a whole EIR by its directory");
			free(file);
			return V_ERROR;
		}
		int64_t pending = status_count(file, "pending_files");
		int64_t corrupt = pending < 0 ? -1 : status_count(file, "corrupt_files");
		free(file);
		if (corrupt < 0)
			return V_ERROR;
		t->waiting = (uint64_t)pending;
		if (corrupt)
			return V_CORRUPT;
		return pending ? V_WAITING : V_VERIFIED;
	}
	if (!S_ISREG(st.st_mode)) {
		ctl_err("'%s' is not a regular file", t->arg);
		return V_ERROR;
	}
	char v[32];
	ssize_t n = getxattr(t->arg, "enrp.state", v, sizeof(v) - 1);
	if (n < 0) {
		if (errno == ENODATA || errno == ENOTSUP)
			ctl_err("'%s' is not in an enrpfs mount (it has no enrp.state)", t->arg);
		else
			ctl_err("cannot read the state of '%s': %s", t->arg, strerror(errno));
		return V_ERROR;
	}
	v[n] = '\0';
	if (!strcmp(v, "verified"))
		return V_VERIFIED;
	if (!strcmp(v, "corrupt"))
		return V_CORRUPT;
	return V_WAITING;
}

/* --- the wait ------------------------------------------------------------- */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void report_corrupt(const struct target *t)
{
	if (t->is_eir)
		ctl_err("'%s' holds corrupt files: the platform no longer has all their bytes",
		        t->arg);
	else
		ctl_err("'%s' is corrupt: the platform no longer has all its bytes", t->arg);
	ctl_hint("send it again (a new copy replaces a corrupt one); 'corrupt_files' in "
	         ".enrp/status counts them, and the platform's operators see the damage in "
	         "'enrpctl audit show --event chunk-damaged'");
}

int cmd_wait(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		CTL_OPTS_COMMON,
	};
	int64_t timeout_ns = -1;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 't') {
			char *end;
			errno = 0;
			unsigned long long s = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || s > 100ULL * 365 * 86400)
				return ctl_usage_error(ctl, &wait_help,
				                       "invalid --timeout '%s': give whole seconds", optarg);
			timeout_ns = (int64_t)s * 1000000000;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &wait_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, &wait_help, "name an EIR, a file or a path to wait for");

	bool have_store = ctl->store_path && *ctl->store_path;
	size_t n = (size_t)(argc - optind);
	struct target *ts = ctl_xmalloc(n * sizeof(*ts));
	bool need_store = false;
	for (size_t i = 0; i < n; i++) {
		ts[i] = (struct target){ .arg = argv[optind + (int)i], .last = V_WAITING };
		ts[i].in_mount = !have_store || looks_like_path(ts[i].arg);
		need_store |= !ts[i].in_mount;
	}
	if (need_store && (rc = ctl_open_store(ctl)) != CTL_OK)
		goto out;

	int64_t start = mono_ns();
	int64_t pause_ms = 50;
	struct progress pr;
	progress_begin(&pr, ctl->tty);
	for (;;) {
		size_t done = 0;
		rc = CTL_OK;
		for (size_t i = 0; i < n && rc == CTL_OK; i++) {
			struct target *t = &ts[i];
			t->last = t->in_mount ? look_mount(t) : look_store(ctl, t);
			if (t->last == V_ERROR) {
				progress_clear(&pr);
				rc = CTL_FAIL;
			} else if (t->last == V_CORRUPT) {
				progress_clear(&pr);
				report_corrupt(t);
				rc = CTL_FAIL;
			} else if (t->last == V_VERIFIED) {
				done++;
			}
		}
		if (rc != CTL_OK || done == n)
			break;
		int64_t waited = mono_ns() - start;
		if (timeout_ns >= 0 && waited >= timeout_ns) {
			progress_clear(&pr);
			for (size_t i = 0; i < n; i++) {
				if (ts[i].last != V_WAITING)
					continue;
				if (ts[i].waiting)
					ctl_err("timed out after %" PRId64 " s: '%s' still has %" PRIu64
					        " file(s) not verified", timeout_ns / 1000000000, ts[i].arg,
					        ts[i].waiting);
				else
					ctl_err("timed out after %" PRId64 " s: '%s' is not verified yet",
					        timeout_ns / 1000000000, ts[i].arg);
			}
			ctl_hint("the platform may still be checksumming: run 'enrpctl wait' again "
			         "(.enrp/pending lists what is not verified)");
			rc = CTL_FAIL;
			break;
		}
		progress_line(&pr, false, "waiting: %zu of %zu verified, %" PRId64 " s", done, n,
		              waited / 1000000000);
		int64_t pause_ns = pause_ms * 1000000;
		if (timeout_ns >= 0 && timeout_ns - waited < pause_ns)
			pause_ns = timeout_ns - waited;
		struct timespec p = { pause_ns / 1000000000, pause_ns % 1000000000 };
		nanosleep(&p, NULL);
		if (pause_ms < 1000)
			pause_ms = pause_ms * 2 > 1000 ? 1000 : pause_ms * 2;
	}
	progress_clear(&pr);
out:
	free(ts);
	return rc;
}
