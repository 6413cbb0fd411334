/*
 * cmd_snapshot.c — `enrpctl snapshot create|list|show|delete|mount|umount`:
 * frozen copies of an EIR's verified tree (core/snapshot.c), and read-only
 * mounts of them for test restores (fs/snapmount.c).
 *
 * mount runs enrpfs -o snapshot=EIR@NAME (the enrpfs next to this enrpctl,
 * else the one on PATH) and journals snapshot-mount; umount runs
 * fusermount3 -u and journals snapshot-umount.  The snapshot mount process
 * opens the store read-only and writes no journal of its own, so these two
 * records are enrpctl's.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <mntent.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/rundir.h>
#include <enrp/snapshot.h>
#include <enrp/units.h>

#include "ctl.h"

static const struct ctl_help snapshot_help = {
	"enrpctl [-S STORE] snapshot create|list|show|delete ...",
	N_("Snapshots freeze an EIR's verified files at one instant, at once and\n"
	"whatever the size of the tree; they cost metadata only for what changes\n"
	"after them, and no copy of any data.\n"
	"\n"
	"Verbs:\n"
	"  create EIR [NAME]         a snapshot of this instant (NAME: its time)\n"
	"  list [EIR] [--json]       the snapshots, oldest first\n"
	"  show EIR@NAME [--json]    one snapshot\n"
	"  delete EIR@NAME           delete one (what only it kept is freed by gc)\n"
	"  mount EIR@NAME MNT        mount one read-only for a test restore\n"
	"  umount MNT                unmount it\n"),
};

static const struct ctl_help mount_help = {
	"enrpctl [-S STORE] snapshot mount EIR@NAME|EIR@latest MOUNTPOINT [--allow USER|GROUP]... "
	"[--json]",
	N_("Mounts snapshot NAME of EIR read-only at MOUNTPOINT (an empty directory)\n"
	"for a test restore: a second enrpfs process beside the store's daemon,\n"
	"which keeps serving and writing.  EIR@latest takes a snapshot of this\n"
	"moment first (named latest-TIME) and mounts it.  The EIR's mode does not\n"
	"apply: a drill of a write-only EIR needs no mode change.  Every chunk read\n"
	"is verified, and MOUNTPOINT/.enrp/SHA256SUMS lists every file's checksum:\n"
	"\n"
	"    cd MOUNTPOINT && sha256sum -c .enrp/SHA256SUMS\n"
	"\n"
	"The mount is open only to the account that mounted it (root) unless\n"
	"--allow names other users or groups.  A mounted snapshot cannot be\n"
	"deleted.  Journalled as snapshot-mount.  Nothing is scanned before the\n"
	"mount is ready, whatever the size of the snapshot.\n"
	"\n"
	"Options:\n"
	"  --allow USER|GROUP another account or group that may read the mount\n"
	"                     (repeatable)\n"
	"  --json             print what was mounted where as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help umount_help = {
	"enrpctl [-S STORE] snapshot umount MOUNTPOINT",
	N_("Unmounts a snapshot mounted by 'snapshot mount' (fusermount3 -u); the\n"
	"snapshot may then be deleted again.  Journalled as snapshot-umount.\n"
	"\n"
	"Options:\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help create_help = {
	"enrpctl [-S STORE] snapshot create EIR [NAME] [--json]",
	N_("Takes a snapshot of EIR now, named NAME (1-63 of A-Z a-z 0-9 . _ : -,\n"
	"starting with a letter or digit; 'latest' is reserved) or, without NAME,\n"
	"by its time (2026-12-01T23:00:00Z).  It holds every file verified at this\n"
	"instant; files still being written or sealed are not in it (the count is\n"
	"printed: take the snapshot once .enrp/pending is empty to have them).\n"
	"\n"
	"Options:\n"
	"  --json             print the snapshot as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help list_help = {
	"enrpctl [-S STORE] snapshot list [EIR] [--json]",
	N_("Lists the snapshots of EIR (or of all EIRs), oldest first: EIR, name,\n"
	"creation time, files and bytes it holds, and files it left out.\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON array\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help show_help = {
	"enrpctl [-S STORE] snapshot show EIR@NAME [--json]",
	N_("Shows one snapshot: its name, generation, creation time, who took it,\n"
	"the files and bytes it holds and the files it left out.\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help delete_help = {
	"enrpctl [-S STORE] snapshot delete EIR@NAME",
	N_("Deletes a snapshot.  What the other snapshots still show stays; what\n"
	"only this one kept is released, and 'enrpctl gc' (or the daemon, on its\n"
	"own) frees its chunks.\n"
	"\n"
	"Options:\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* Parses the verb's options (--json only) and its operands into ARGS (at
 * most MAX).  CTL_CONTINUE, or the exit status. */
static int verb_args(struct ctl *ctl, int argc, char **argv, const struct ctl_help *help,
                     bool json, const char **args, int min, int max)
{
	static const struct option with_json[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	static const struct option without[] = { CTL_OPTS_COMMON };
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", json ? with_json : without, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	int n = argc - optind;
	if (n < min)
		return ctl_usage_error(ctl, help, "missing operand");
	if (n > max)
		return ctl_usage_error(ctl, help, "too many arguments");
	for (int i = 0; i < n; i++)
		args[i] = argv[optind + i];
	return CTL_CONTINUE;
}

/* "EIR@NAME" into its parts; false (after a usage error) otherwise. */
bool ctl_split_snapshot(const char *s, char *eir, size_t eirsz, const char **name)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || (size_t)(at - s) >= eirsz)
		return false;
	memcpy(eir, s, (size_t)(at - s));
	eir[at - s] = '\0';
	*name = at + 1;
	return enrp_eir_name_valid(eir) && enrp_snapshot_name_valid(*name);
}

static void print_json(struct json *j, const struct enrp_snapshot *s)
{
	char when[TIME_BUF];
	time_iso(s->created, when);
	json_object_begin(j);
	json_kv_str(j, "eir", s->eir);
	json_kv_str(j, "name", s->name);
	json_kv_u64(j, "gen", s->gen);
	json_kv_str(j, "created", when);
	json_kv_str(j, "by", s->by);
	json_kv_u64(j, "files", s->files);
	json_kv_u64(j, "bytes", s->bytes);
	json_kv_u64(j, "not_included", s->not_included);
	json_object_end(j);
}

static void print_json_object(const struct enrp_snapshot *s)
{
	struct json j;
	json_init(&j, stdout);
	print_json(&j, s);
	json_finish(&j);
}

static void print_text(const struct enrp_snapshot *s)
{
	char when[TIME_BUF], size[SIZE_BUF];
	time_iso(s->created, when);
	size_human(s->bytes, size);
	ctl_line(stdout, "snapshot: %s@%s", s->eir, s->name);
	ctl_line(stdout, "gen: %" PRIu64, s->gen);
	ctl_line(stdout, "created: %s", when);
	ctl_line(stdout, "by: %s", s->by);
	ctl_line(stdout, "files: %" PRIu64 " verified (%s)", s->files, size);
	ctl_line(stdout, "not included: %" PRIu64 " files being written or sealed", s->not_included);
}

static int snapshot_error(const char *what, const char *eir, const char *name, int rc)
{
	if (rc == -ENOENT && name)
		ctl_err("no snapshot '%s' of EIR '%s' (or no such EIR)", name, eir);
	else if (rc == -ENOENT)
		return ctl_eir_error(what, eir, rc);
	else if (rc == -EEXIST)
		ctl_err("EIR '%s' has a snapshot named '%s' already", eir, name);
	else if (rc == -EPERM)
		ctl_err("cannot %s snapshot of EIR '%s': '%s' is held (see 'enrpctl hold list %s'); "
		        "a hold is never cut short", _(what), eir, name, eir);
	else
		ctl_err("cannot %s snapshot of EIR '%s': %s", _(what), eir, enrp_strerror(rc));
	if (rc == -ENOENT)
		ctl_hint("'enrpctl snapshot list %s' shows its snapshots", eir);
	return CTL_FAIL;
}

static int snap_create(struct ctl *ctl, int argc, char **argv)
{
	const char *args[2] = { NULL, NULL };
	int rc = verb_args(ctl, argc, argv, &create_help, true, args, 1, 2);
	if (rc != CTL_CONTINUE)
		return rc;
	if (!enrp_eir_name_valid(args[0]))
		return ctl_usage_error(ctl, &create_help, "'%s' is not a valid EIR name", args[0]);
	if (args[1] && !enrp_snapshot_name_valid(args[1]))
		return ctl_usage_error(ctl, &create_help, "'%s' is not a valid snapshot name "
		                       "(1-63 of A-Z a-z 0-9 . _ : -, not 'latest')", args[1]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	struct enrp_snapshot s;
	rc = enrp_snapshot_create(ctl->store, args[0], args[1], &ctl->actor, &s);
	if (rc)
		return snapshot_error(N_("create a"), args[0], args[1], rc);
	if (ctl->json) {
		print_json_object(&s);
	} else {
		ctl_line(stdout, "created snapshot %s@%s: %" PRIu64 " verified files", s.eir, s.name,
		         s.files);
		if (s.not_included)
			ctl_warn("%" PRIu64 " files of '%s' were being written or sealed and are not in it",
			         s.not_included, s.eir);
	}
	return CTL_OK;
}

struct list_out {
	struct table *t;
	struct json *j;
};

static int list_one(const struct enrp_snapshot *s, void *arg)
{
	struct list_out *o = arg;
	if (o->j) {
		print_json(o->j, s);
		return 0;
	}
	char when[TIME_BUF], size[SIZE_BUF];
	time_iso(s->created, when);
	size_human(s->bytes, size);
	table_row(o->t);
	table_cell(o->t, "%s", s->eir);
	table_cell(o->t, "%s", s->name);
	table_cell(o->t, "%s", when);
	table_cell(o->t, "%" PRIu64, s->files);
	table_cell(o->t, "%s", size);
	table_cell(o->t, "%" PRIu64, s->not_included);
	return 0;
}

static int snap_list(struct ctl *ctl, int argc, char **argv)
{
	const char *args[1] = { NULL };
	int rc = verb_args(ctl, argc, argv, &list_help, true, args, 0, 1);
	if (rc != CTL_CONTINUE)
		return rc;
	if (args[0] && !enrp_eir_name_valid(args[0]))
		return ctl_usage_error(ctl, &list_help, "'%s' is not a valid EIR name", args[0]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	static const char *const headers[] = { "EIR", "NAME", "CREATED", "FILES", "BYTES",
		                               "LEFT OUT" };
	struct json j;
	struct list_out o = { 0 };
	if (ctl->json) {
		json_init(&j, stdout);
		json_array_begin(&j);
		o.j = &j;
	} else {
		o.t = table_new(6, headers);
		table_align_right(o.t, 3);
		table_align_right(o.t, 4);
		table_align_right(o.t, 5);
	}
	rc = enrp_snapshot_list(ctl->store, args[0], list_one, &o);
	if (ctl->json) {
		json_array_end(&j);
		json_finish(&j);
	} else {
		if (rc == 0)
			table_print(o.t, stdout);
		table_free(o.t);
	}
	if (rc)
		return ctl_eir_error("list the snapshots of", args[0] ? args[0] : "", rc);
	return CTL_OK;
}

/* The refusal to delete a mounted snapshot, saying where it is mounted. */
static int mounted_error(struct ctl *ctl, const char *eir, const char *name)
{
	struct enrp_snapshot s;
	struct enrp_eir e;
	char where[PATH_MAX] = "";
	if (enrp_snapshot_get(ctl->store, eir, name, &s) == 0 && enrp_eir_get(ctl->store, eir, &e) == 0) {
		int fd = enrp_rundir_snapshot_delete_lock(enrp_store_path(ctl->store), e.id, s.gen,
		                                          where, sizeof(where));
		if (fd >= 0)
			close(fd); /* unmounted meanwhile */
	}
	ctl_err("cannot delete snapshot '%s' of EIR '%s': it is mounted at %s", name, eir,
	        where[0] ? where : "a mount point not recorded");
	ctl_hint("unmount it first: enrpctl snapshot umount %s", where[0] ? where : "MOUNTPOINT");
	return CTL_FAIL;
}

static int snap_show_or_delete(struct ctl *ctl, int argc, char **argv)
{
	bool del = strcmp(argv[0], "delete") == 0;
	const struct ctl_help *help = del ? &delete_help : &show_help;
	const char *args[1] = { NULL };
	int rc = verb_args(ctl, argc, argv, help, !del, args, 1, 1);
	if (rc != CTL_CONTINUE)
		return rc;
	char eir[ENRP_EIR_NAME_MAX + 1];
	const char *name;
	if (!ctl_split_snapshot(args[0], eir, sizeof(eir), &name))
		return ctl_usage_error(ctl, help, "'%s' is not EIR@NAME", args[0]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	struct enrp_snapshot s;
	if (del) {
		rc = enrp_snapshot_delete(ctl->store, eir, name, &ctl->actor);
		if (rc == -EBUSY)
			return mounted_error(ctl, eir, name);
		if (rc)
			return snapshot_error(N_("delete a"), eir, name, rc);
		ctl_line(stdout, "deleted snapshot %s@%s", eir, name);
		return CTL_OK;
	}
	rc = enrp_snapshot_get(ctl->store, eir, name, &s);
	if (rc)
		return snapshot_error("show a", eir, name, rc);
	if (ctl->json)
		print_json_object(&s);
	else
		print_text(&s);
	return CTL_OK;
}

/* The enrpfs next to this enrpctl (build trees, installs in one sbin),
 * else "enrpfs" for execvp to find on PATH. */
static void enrpfs_path(char out[PATH_MAX], size_t size)
{
	char self[PATH_MAX - 8];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, size, "%s/enrpfs", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, size, "enrpfs");
}

/* Runs ARGV (argv[0] searched on PATH when it has no slash) and waits:
 * its exit status, or -1 if it could not run. */
static int run_wait(char *const argv[])
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		ctl_err("cannot run '%s': %s", argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define PEER_MOUNTS "/run/enrp/mounts"

/* Makes PEER_MOUNTS/UID/EIR@NAME for a member's mount: every directory
 * root's and 0755, so nobody but root can swap one for a link. */
static int peer_mount_dir(struct ctl *ctl, const char *eir, const char *name, char *buf,
                          size_t size)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%" PRIu32, PEER_MOUNTS, ctl->peer_uid);
	const char *steps[] = { "/run/enrp", PEER_MOUNTS, dir };
	for (size_t i = 0; i < 3; i++) {
		struct stat sb;
		if (mkdir(steps[i], 0755) != 0 && errno != EEXIST) {
			ctl_err("cannot make '%s': %s", steps[i], strerror(errno));
			return CTL_FAIL;
		}
		if (lstat(steps[i], &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != 0 ||
		    (sb.st_mode & 022)) {
			ctl_err("'%s' is not a directory of root's alone: not mounting there", steps[i]);
			return CTL_FAIL;
		}
	}
	int n = snprintf(buf, size, "%s/%s@%s", dir, eir, name);
	if (n < 0 || (size_t)n >= size)
		return CTL_FAIL;
	if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
		ctl_err("cannot make '%s': %s", buf, strerror(errno));
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int snap_mount(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow", required_argument, NULL, 'a' },
		CTL_OPT_JSON, CTL_OPTS_COMMON,
	};
	char allow[1024] = "";
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'a') {
			if (!optarg[0] || strpbrk(optarg, ",:") ||
			    strlen(allow) + strlen(optarg) + 2 > sizeof(allow))
				return ctl_usage_error(ctl, &mount_help, "'%s' is not a user or group name",
				                       optarg);
			if (allow[0])
				strcat(allow, ":");
			strcat(allow, optarg);
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &mount_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	/* For a member through the relay, root mounts into a directory of its
	 * own (peer_mount_dir): a path the member names could be swapped for a
	 * link between the check and the mount. */
	if (ctl->peer && argc - optind == 2) {
		ctl_err("through enrpfs a snapshot is mounted under %s/%" PRIu32
		        ": give no MOUNTPOINT", PEER_MOUNTS, ctl->peer_uid);
		return CTL_FAIL;
	}
	if (argc - optind != (ctl->peer ? 1 : 2))
		return ctl_usage_error(ctl, &mount_help, argc - optind < 2 ? "missing operand"
		                                                          : "too many arguments");
	const char *spec = argv[optind], *mnt = ctl->peer ? NULL : argv[optind + 1], *name;
	char eir[ENRP_EIR_NAME_MAX + 1];
	const char *at = strchr(spec, '@');
	bool latest = at && strcmp(at + 1, "latest") == 0;
	if (latest) {
		size_t n = (size_t)(at - spec);
		if (n == 0 || n >= sizeof(eir))
			return ctl_usage_error(ctl, &mount_help, "'%s' is not EIR@NAME", spec);
		memcpy(eir, spec, n);
		eir[n] = '\0';
		name = "latest";
		if (!enrp_eir_name_valid(eir))
			return ctl_usage_error(ctl, &mount_help, "'%s' is not EIR@NAME", spec);
	} else if (!ctl_split_snapshot(spec, eir, sizeof(eir), &name)) {
		return ctl_usage_error(ctl, &mount_help, "'%s' is not EIR@NAME", spec);
	}
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	struct enrp_snapshot s;
	char taken[ENRP_SNAPSHOT_NAME_MAX + 1];
	if (latest) {
		/* "A snapshot of this moment": its own name, so the drill's
		 * records say exactly what was restored. */
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(taken, sizeof(taken), "latest-%Y-%m-%dT%H:%M:%SZ", &tm);
		rc = enrp_snapshot_create(ctl->store, eir, taken, &ctl->actor, &s);
		if (rc)
			return snapshot_error(N_("create a"), eir, taken, rc);
		if (!ctl->json)
			ctl_line(stdout, "created snapshot %s@%s: %" PRIu64 " verified files", s.eir,
			         s.name, s.files);
		if (s.not_included)
			ctl_warn("%" PRIu64 " files of '%s' were being written or sealed and are not in it",
			         s.not_included, s.eir);
		name = taken;
	} else if ((rc = enrp_snapshot_get(ctl->store, eir, name, &s))) {
		return snapshot_error("mount a", eir, name, rc);
	}
	char peer_dir[PATH_MAX];
	if (ctl->peer) {
		if ((rc = peer_mount_dir(ctl, eir, name, peer_dir, sizeof(peer_dir))) != CTL_OK)
			return rc;
		mnt = peer_dir;
		/* The mount is root's; the member is let in by name. */
		struct passwd pw, *res = NULL;
		char pwbuf[1024];
		if (getpwuid_r(ctl->peer_uid, &pw, pwbuf, sizeof(pwbuf), &res) != 0 || !res ||
		    strlen(allow) + strlen(res->pw_name) + 2 > sizeof(allow)) {
			ctl_err("cannot name account %" PRIu32 " for the mount", ctl->peer_uid);
			return CTL_FAIL;
		}
		if (allow[0])
			strcat(allow, ":");
		strcat(allow, res->pw_name);
	}
	char opt[2048], prog[PATH_MAX], where[PATH_MAX];
	snprintf(opt, sizeof(opt), "snapshot=%s@%s%s%s", eir, name, allow[0] ? ",allow=" : "", allow);
	enrpfs_path(prog, sizeof(prog));
	char dash_o[] = "-o", store[PATH_MAX], mnt_arg[PATH_MAX];
	snprintf(store, sizeof(store), "%s", enrp_store_path(ctl->store));
	snprintf(mnt_arg, sizeof(mnt_arg), "%s", mnt);
	char *args[] = { prog, dash_o, opt, store, mnt_arg, NULL };
	rc = run_wait(args);
	if (rc != 0) {
		ctl_err("cannot mount snapshot '%s' of EIR '%s' at '%s': enrpfs %s", name, eir, mnt,
		        rc < 0 ? _("did not run") : _("failed (see above)"));
		return CTL_FAIL;
	}
	if (!realpath(mnt, where))
		snprintf(where, sizeof(where), "%s", mnt);
	char details[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	enrp_details_add(details, sizeof(details), "snapshot", "%s", name);
	enrp_details_add(details, sizeof(details), "gen", "%" PRIu64, s.gen);
	enrp_details_add(details, sizeof(details), "files", "%" PRIu64, s.files);
	enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, s.bytes);
	enrp_details_add(details, sizeof(details), "mountpoint", "%s", where);
	enrp_details_add(details, sizeof(details), "allow", "%s", allow[0] ? allow : "-");
	rc = enrp_journal_append(ctl->store, &ctl->actor, eir, "snapshot-mount", "%s", details);
	if (rc)
		ctl_warn("mounted, but the journal record failed: %s", enrp_strerror(rc));
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "snapshot");
		print_json(&j, &s);
		json_kv_bool(&j, "created", latest);
		json_kv_str(&j, "mountpoint", where);
		json_kv_str(&j, "allow", allow[0] ? allow : NULL);
		json_object_end(&j);
		json_finish(&j);
	} else {
		ctl_line(stdout, "mounted snapshot %s@%s at %s (read-only)", eir, name, where);
	}
	return rc ? CTL_FAIL : CTL_OK;
}

/* What snapshot is mounted at MNT (absolute): EIR@NAME from the mount's
 * source; false when MNT is no snapshot mount. */
static bool mounted_snapshot(const char *mnt, char *spec, size_t size)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent m;
	char buf[3 * PATH_MAX];
	size_t plen = strlen(ENRP_SNAPMOUNT_FSNAME_PREFIX);
	bool found = false;
	while (f && getmntent_r(f, &m, buf, sizeof(buf))) {
		if (strcmp(m.mnt_dir, mnt) == 0 && strcmp(m.mnt_type, "fuse.enrpfs") == 0 &&
		    strncmp(m.mnt_fsname, ENRP_SNAPMOUNT_FSNAME_PREFIX, plen) == 0) {
			snprintf(spec, size, "%s", m.mnt_fsname + plen);
			found = true;
		}
	}
	if (f)
		endmntent(f);
	return found;
}

static int snap_umount(struct ctl *ctl, int argc, char **argv)
{
	const char *args[1] = { NULL };
	int rc = verb_args(ctl, argc, argv, &umount_help, false, args, 1, 1);
	if (rc != CTL_CONTINUE)
		return rc;
	char where[PATH_MAX], spec[256];
	if (!realpath(args[0], where)) {
		ctl_err("cannot unmount '%s': %s", args[0], strerror(errno));
		return CTL_FAIL;
	}
	char mine[PATH_MAX];
	snprintf(mine, sizeof(mine), "%s/%" PRIu32 "/", PEER_MOUNTS, ctl->peer_uid);
	if (ctl->peer && strncmp(where, mine, strlen(mine))) {
		ctl_err("cannot unmount '%s': through enrpfs only your own snapshot mounts (under %s)",
		        where, mine);
		return CTL_FAIL;
	}
	if (!mounted_snapshot(where, spec, sizeof(spec))) {
		ctl_err("cannot unmount '%s': no snapshot is mounted there", where);
		ctl_hint("'grep enrp-snapshot /proc/mounts' lists the snapshot mounts");
		return CTL_FAIL;
	}
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	/* What was mounted, for the journal: it cannot be deleted before
	 * the unmount. */
	char seir[ENRP_EIR_NAME_MAX + 1];
	const char *sname;
	struct enrp_snapshot s;
	bool known = ctl_split_snapshot(spec, seir, sizeof(seir), &sname) &&
	             enrp_snapshot_get(ctl->store, seir, sname, &s) == 0;
	char prog[] = "fusermount3", dash_u[] = "-u";
	char *cmd[] = { prog, dash_u, where, NULL };
	rc = run_wait(cmd);
	if (rc != 0) {
		ctl_err("cannot unmount '%s': fusermount3 %s", where,
		        rc < 0 ? _("did not run") : _("failed (see above)"));
		ctl_hint("close the files and leave the directories open under it, then retry");
		return CTL_FAIL;
	}
	char *at = strchr(spec, '@');
	if (at)
		*at = '\0';
	char details[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	enrp_details_add(details, sizeof(details), "snapshot", "%s", at ? at + 1 : "?");
	if (known) {
		enrp_details_add(details, sizeof(details), "gen", "%" PRIu64, s.gen);
		enrp_details_add(details, sizeof(details), "files", "%" PRIu64, s.files);
		enrp_details_add(details, sizeof(details), "bytes", "%" PRIu64, s.bytes);
	}
	enrp_details_add(details, sizeof(details), "mountpoint", "%s", where);
	rc = enrp_journal_append(ctl->store, &ctl->actor, spec, "snapshot-umount", "%s", details);
	if (rc)
		ctl_warn("unmounted, but the journal record failed: %s", enrp_strerror(rc));
	if (ctl->peer)
		rmdir(where); /* made for this mount (peer_mount_dir) */
	ctl_line(stdout, "unmounted %s", where);
	return rc ? CTL_FAIL : CTL_OK;
}

static const struct ctl_verb snapshot_verbs[] = {
	{ "create", snap_create,         NEED_STORE_RW, N_("take a snapshot of an EIR now") },
	{ "list",   snap_list,           NEED_STORE_RO, N_("list snapshots") },
	{ "show",   snap_show_or_delete, NEED_STORE_RO, N_("show one snapshot") },
	{ "delete", snap_show_or_delete, NEED_STORE_RW, N_("delete a snapshot") },
	{ "mount",  snap_mount,          NEED_STORE_RW, N_("mount a snapshot read-only") },
	{ "umount", snap_umount,         NEED_STORE_RW, N_("unmount a snapshot mount") },
};

int cmd_snapshot(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "snapshot", &snapshot_help, snapshot_verbs,
	                    sizeof(snapshot_verbs) / sizeof(snapshot_verbs[0]), argc, argv);
}
