/*
 * cmd_fsck.c — `enrpctl fsck [--repair] [--json]`: check the store's
 * metadata against itself and its spool and chunk files, and with --repair
 * fix what is safe to fix (see include/enrp/fsck.h and enrpctl(8)).
 *
 * A check may run while enrpfs serves the store (it reads one consistent
 * view, but files being written or sealed show up as transient findings);
 * --repair refuses while a daemon serves the store.  Exit status: 0 no
 * problems (informational findings such as unreferenced chunks allowed),
 * 1 problems found (or left after --repair), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/fsck.h>
#include <enrp/rundir.h>

#include "ctl.h"

static const struct ctl_help fsck_help = {
	"enrpctl [-S STORE] fsck [--repair] [--json]",
	N_("Checks the consistency of the store's metadata, spool files and chunk\n"
	"files: directory entries, link counts, orphans, the spool index, the seal\n"
	"queue, chunk lists, chunk reference counts, chunk files, usage counters,\n"
	"the counts of files by state behind .enrp/status and the audit journal's\n"
	"chain.  Unreferenced chunk files (left by an interrupted seal; garbage\n"
	"collection removes them) are counted, not failed on.  Exit status 1 when\n"
	"problems are found.\n"
	"\n"
	"A check while enrpfs serves the store may show transient findings (files\n"
	"being written or sealed).  --repair needs the store unmounted.\n"
	"\n"
	"Options:\n"
	"  --repair           fix what is safe: usage and file-state counters,\n"
	"                     chunk reference counts, link counts, stray spool\n"
	"                     and chunk files, the seal queue, orphans; never\n"
	"                     removes a reachable file or data a sealed file uses\n"
	"  --json             print the findings and the summary as one JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

struct collect {
	struct enrp_fsck_finding *v;
	size_t n;
};

static void collect(const struct enrp_fsck_finding *f, void *arg)
{
	struct collect *c = arg;
	c->v = ctl_xrealloc(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = *f;
}

static const char *status_of(const struct enrp_fsck_finding *f)
{
	if (f->after_repair)
		return "remains";
	if (f->repaired)
		return "repaired";
	return f->severity == ENRP_FSCK_INFO ? "info" : "problem";
}

int cmd_fsck(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repair", no_argument, NULL, 'R' },
		CTL_OPT_JSON, CTL_OPTS_COMMON,
	};
	bool repair = false;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'R') {
			repair = true;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &fsck_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &fsck_help, "too many arguments");
	if (!ctl->store_path || !*ctl->store_path)
		return ctl_open_store(ctl); /* reports the missing store */

	if (repair) {
		struct enrp_daemon_info d;
		ctl_await_daemon_exit(ctl, &d);
		if (d.state != ENRP_DAEMON_NONE) {
			ctl_err("cannot repair store '%s': enrpfs (pid %d) is %s it", ctl->store_path,
			        (int)d.pid, d.state == ENRP_DAEMON_STOPPING ? "still holding" : "serving");
			if (d.state == ENRP_DAEMON_STOPPING)
				ctl_hint("it is unmounted but still finishing its work (see its messages); "
				         "run 'enrpctl fsck --repair' again once it has exited");
			else
				ctl_hint("unmount it first (fusermount3 -u %s), or run 'enrpctl fsck' "
				         "without --repair to check only",
				         d.mountpoint[0] ? d.mountpoint : "MOUNTPOINT");
			return CTL_FAIL;
		}
	} else {
		ctl->need = NEED_STORE_RO;
	}
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;

	struct collect col = { 0 };
	struct enrp_fsck_result r;
	rc = enrp_fsck(ctl->store, repair ? ENRP_FSCK_REPAIR : 0, &ctl->actor, collect, &col, &r);
	if (rc == -EBUSY) {
		ctl_err("cannot repair store '%s': enrpfs is serving it", ctl->store_path);
		ctl_hint("unmount it first, then run 'enrpctl fsck --repair' again");
		free(col.v);
		return CTL_FAIL;
	}
	if (rc) {
		ctl_err("fsck of '%s' failed: %s", ctl->store_path, enrp_strerror(rc));
		ctl_hint("see the messages above, if any");
		free(col.v);
		return CTL_FAIL;
	}

	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "findings");
		json_array_begin(&j);
		for (size_t i = 0; i < col.n; i++) {
			const struct enrp_fsck_finding *f = &col.v[i];
			json_object_begin(&j);
			json_kv_str(&j, "kind", f->kind);
			json_kv_str(&j, "severity", f->severity == ENRP_FSCK_INFO ? "info" : "problem");
			json_kv_str(&j, "object", f->object);
			json_kv_str(&j, "message", f->message);
			json_kv_bool(&j, "repaired", f->repaired);
			json_kv_bool(&j, "after_repair", f->after_repair);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_kv_u64(&j, "inodes", r.inodes);
		json_kv_u64(&j, "dirents", r.dirents);
		json_kv_u64(&j, "chunks", r.chunks);
		json_kv_u64(&j, "chunk_files", r.chunk_files);
		json_kv_u64(&j, "spool_files", r.spool_files);
		json_kv_u64(&j, "holds", r.holds);
		json_kv_u64(&j, "trash", r.trash);
		json_kv_u64(&j, "problems", r.problems);
		json_kv_u64(&j, "infos", r.infos);
		json_kv_u64(&j, "unreferenced_chunks", r.unreferenced_chunks);
		json_kv_u64(&j, "repaired", r.repaired);
		json_kv_u64(&j, "remaining", r.remaining);
		json_kv_bool(&j, "clean", r.remaining == 0);
		json_object_end(&j);
		json_finish(&j);
	} else {
		for (size_t i = 0; i < col.n; i++) {
			const struct enrp_fsck_finding *f = &col.v[i];
			ctl_line(stdout, "%-8s  %-20s  %s: %s", status_of(f), f->kind, f->object, f->message);
		}
		printf(_("fsck: %" PRIu64 " inodes, %" PRIu64 " dirents, %" PRIu64 " chunks, %" PRIu64
		       " chunk files, %" PRIu64 " spool files checked; %" PRIu64 " problems"),
		       r.inodes, r.dirents, r.chunks, r.chunk_files, r.spool_files, r.problems);
		if (repair)
			printf(_(" (%" PRIu64 " findings repaired, %" PRIu64 " problems remain)"),
			       r.repaired, r.remaining);
		printf(_(", %" PRIu64 " unreferenced chunks\n"), r.unreferenced_chunks);
	}
	free(col.v);
	if (r.remaining) {
		ctl_err("store '%s' has %" PRIu64 " problem%s", ctl->store_path, r.remaining,
		        r.remaining == 1 ? "" : "s");
		ctl_hint(repair ? "the problems listed as 'remains' need an operator; see enrpctl(8)"
		                : "unmount the store and run 'enrpctl fsck --repair'");
		return CTL_FAIL;
	}
	return CTL_OK;
}
