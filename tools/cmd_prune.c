/*
 * cmd_prune.c — `enrpctl prune [--dry-run] [EIR]`: apply the retention
 * policies (core/prune.c), then have garbage collection free what went.
 *
 * On a terminal (stderr), a progress line counts the EIRs, the snapshots
 * weighed and what went; it is erased before each item line, so items and
 * the summary read as without it.  Then, when a daemon serves the store,
 * its collection is followed with gc's own progress line; piped, the
 * daemon is only asked to collect and enrpctl does not wait.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/gc.h>
#include <enrp/prune.h>
#include <enrp/rundir.h>

#include "ctl.h"

static const struct ctl_help prune_help = {
	"enrpctl [-S STORE] prune [--dry-run] [--json] [EIR]",
	N_("Applies the retention policy of EIR (or of every EIR that has one, see\n"
	"'eir set --retention'): removes live files sealed more than files=DAYS\n"
	"ago (they do not go to trash; snapshots keep theirs), deletes the\n"
	"snapshots its keep-* rules do not select (the choices borg prune makes),\n"
	"and purges trash entries whose files=DAYS have passed since they were\n"
	"sealed.  Time is the platform's clock, from each copy's seal; periods are\n"
	"in the platform's zone ('enrpctl calendar zone').  Held snapshots and\n"
	"held or locked files stay and are listed as held; a snapshot mounted for\n"
	"a test restore stays and is listed as mounted.  A running enrpfs removes\n"
	"the files itself (it tells the kernel); without one, enrpctl keeps enrpfs\n"
	"from starting until it is done.  Afterwards garbage collection frees the\n"
	"chunks (a running enrpfs starts it at once).  On a terminal, progress is\n"
	"shown on stderr, then the daemon's collection is followed to its end.\n"
	"Each EIR that lost something gets a 'prune' journal record with its\n"
	"counts.\n"
	"\n"
	"Options:\n"
	"  --dry-run          change nothing; list what would go\n"
	"  --json             print the items and counts as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

struct out {
	struct ctl *ctl;
	struct json *j;
	bool dry_run;
	struct progress p;
};

static void item_cb(const struct enrp_prune_item *it, void *arg)
{
	struct out *o = arg;
	const char *kind = it->kind == ENRP_PRUNE_SNAPSHOT ? "snapshot"
	                   : it->kind == ENRP_PRUNE_FILE  ? "file"
	                                                  : "trash";
	char at[TIME_BUF];
	time_iso(it->at, at);
	if (o->j) {
		json_object_begin(o->j);
		json_kv_str(o->j, "eir", it->eir);
		json_kv_str(o->j, "kind", kind);
		json_kv_str(o->j, "what", it->what);
		json_kv_u64(o->j, "id", it->id);
		json_kv_str(o->j, it->kind == ENRP_PRUNE_SNAPSHOT ? "created" : "sealed", at);
		json_kv_bool(o->j, "held", it->held);
		json_kv_bool(o->j, "mounted", it->mounted);
		json_object_end(o->j);
		return;
	}
	const char *verb = it->held      ? "keep (held)"
	                   : it->mounted ? "keep (mounted)"
	                   : o->dry_run  ? "would prune"
	                                 : "pruned";
	progress_clear(&o->p);
	if (it->kind == ENRP_PRUNE_SNAPSHOT)
		ctl_line(stdout, "%-14s snapshot %s@%s (created %s)", verb, it->eir, it->what, at);
	else if (it->kind == ENRP_PRUNE_FILE)
		ctl_line(stdout, "%-14s file %s/%s (sealed %s)", verb, it->eir, it->what, at);
	else
		ctl_line(stdout, "%-14s trash %s #%" PRIu64 " %s (sealed %s)", verb, it->eir, it->id,
		         it->what, at);
	if (o->p.on)
		fflush(stdout); /* before the progress line is drawn again */
}

static void show_progress(const struct enrp_prune_result *r, void *arg)
{
	struct out *o = arg;
	char bytes[SIZE_BUF];
	size_human(r->trash_bytes, bytes);
	progress_line(&o->p, false,
	              "prune%s: EIR %" PRIu32 "/%" PRIu32 ", %" PRIu64 " snapshots examined, %"
	              PRIu64 " %s, %" PRIu64 " trash entries %s (%s)",
	              o->dry_run ? " (dry run)" : "", r->eirs_done, r->eirs_total, r->snapshots_seen,
	              r->snapshots, o->dry_run ? "to delete" : "deleted", r->trash,
	              o->dry_run ? "to purge" : "purged", bytes);
}

/* What went is freed by garbage collection: a running daemon starts it at
 * once, and on a terminal its run is followed to the end. */
static void collect(struct ctl *ctl)
{
	struct enrp_gc_result g;
	int rc = ctl->tty ? ctl_gc_follow(ctl, &g)
	                  : enrp_control_request(ctl->store_path, "gc", NULL, 0, 10000);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		if (!ctl->json)
			ctl_hint("run 'enrpctl gc' to free their chunks now");
	} else if (rc) {
		ctl_warn("the running enrpfs did not collect: %s; run 'enrpctl gc'", enrp_strerror(rc));
	}
}

/* enrp_prune_expire_fn through the running daemon (see fs/notify.c). */
static int expire_by_daemon(uint64_t parent, const char *name, uint64_t ino,
                            int64_t sealed_before, void *arg)
{
	struct ctl *ctl = arg;
	char req[64 + 2 * 255 + 2], reply[64];
	size_t len = strlen(name);
	if (len == 0 || len > 255)
		return -ENAMETOOLONG;
	int n = snprintf(req, sizeof(req), "expire %" PRIu64 " %" PRIu64 " %" PRId64 " ", parent,
	                 ino, sealed_before);
	hex_encode((const uint8_t *)name, len, req + n);
	int rc = enrp_control_request(ctl->store_path, req, reply, sizeof(reply), 30000);
	int err;
	if (rc == 0 && sscanf(reply, "ok %d", &err) == 1)
		return -err;
	return rc ? rc : -EPROTO;
}

int cmd_prune(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		CTL_OPT_JSON, CTL_OPTS_COMMON,
	};
	bool dry_run = false;
	const char *eir = NULL;
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'n') {
			dry_run = true;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &prune_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		eir = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, &prune_help, "too many arguments");
	if (eir && !enrp_eir_name_valid(eir))
		return ctl_usage_error(ctl, &prune_help, "'%s' is not a valid EIR name", eir);
	if (!ctl->store_path || !*ctl->store_path)
		return ctl_open_store(ctl); /* reports the missing store */
	/* Live files are removed by the daemon that serves the store, or here
	 * with the daemon lock held, so that none starts meanwhile. */
	int lock_fd = -1;
	bool by_daemon = false;
	if (!dry_run) {
		pid_t holder = 0;
		/* A daemon shutting down can neither prune nor let us in. */
		struct enrp_daemon_info d;
		ctl_await_daemon_exit(ctl, &d);
		lock_fd = enrp_rundir_lock(ctl->store_path, &holder);
		by_daemon = lock_fd == -EBUSY;
		if (lock_fd < 0 && !by_daemon) {
			ctl_err("cannot lock store '%s': %s", ctl->store_path, enrp_strerror(lock_fd));
			return CTL_FAIL;
		}
		if (lock_fd >= 0 && (rc = enrp_rundir_write_pid(lock_fd))) {
			close(lock_fd);
			ctl_err("cannot lock store '%s': %s", ctl->store_path, enrp_strerror(rc));
			return CTL_FAIL;
		}
	}
	if ((rc = ctl_open_store(ctl)) != CTL_OK) {
		if (lock_fd >= 0)
			close(lock_fd);
		return rc;
	}
	struct json j;
	struct out o = { ctl, NULL, dry_run, { 0 } };
	/* A JSON document on the terminal is what is being watched: no line
	 * is drawn over it. */
	progress_begin(&o.p, ctl->tty && !(ctl->json && isatty(STDOUT_FILENO)));
	if (ctl->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "items");
		json_array_begin(&j);
		o.j = &j;
	}
	struct enrp_prune_result r;
	struct enrp_prune_opts po = { .dry_run = dry_run, .cb = item_cb, .progress = show_progress,
		                      .arg = &o };
	if (by_daemon) {
		po.expire = expire_by_daemon;
		po.expire_arg = ctl;
	}
	rc = enrp_prune(ctl->store, eir, &po, &ctl->actor, &r);
	/* What the daemon removed is committed before it is reported done. */
	if (by_daemon && r.files)
		enrp_control_request(ctl->store_path, "sync", NULL, 0, 30000);
	if (lock_fd >= 0)
		close(lock_fd);
	/* The summary below says what the last progress line said. */
	progress_clear(&o.p);
	if (ctl->json) {
		json_array_end(&j);
		json_kv_bool(&j, "dry_run", dry_run);
		json_kv_u64(&j, "files", r.files);
		json_kv_u64(&j, "snapshots", r.snapshots);
		json_kv_u64(&j, "kept", r.snapshots_seen - r.snapshots);
		json_kv_u64(&j, "trash", r.trash);
		json_kv_u64(&j, "trash_bytes", r.trash_bytes);
		json_kv_u64(&j, "held", r.held);
		json_kv_u64(&j, "mounted", r.mounted);
		json_kv_u64(&j, "eirs", r.eirs);
		json_object_end(&j);
		json_finish(&j);
	}
	if (rc == -ENOENT && eir)
		return ctl_eir_error("prune", eir, rc);
	if (rc) {
		ctl_err("prune of '%s' failed: %s", ctl->store_path, enrp_strerror(rc));
		ctl_hint("what was pruned before the failure stays pruned; run it again");
		return CTL_FAIL;
	}
	if (!ctl->json) {
		char bytes[SIZE_BUF];
		size_human(r.trash_bytes, bytes);
		ctl_line(stdout, "prune%s: %" PRIu32 " EIRs with a policy; %" PRIu64 " files, %" PRIu64
		         " snapshots, %" PRIu64 " trash entries (%s) %s; %" PRIu64 " held, %" PRIu64
		         " mounted", dry_run ? " (dry run)" : "", r.eirs, r.files, r.snapshots, r.trash,
		         bytes, dry_run ? "would go" : "gone", r.held, r.mounted);
	}
	fflush(stdout);
	if (!dry_run && (r.files || r.snapshots || r.trash))
		collect(ctl);
	return CTL_OK;
}
