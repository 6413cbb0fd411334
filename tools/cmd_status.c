/*
 * cmd_status.c — `enrpctl status`: the store, its daemon and its EIRs at a
 * glance.
 *
 * Read-only: the store is opened ENRP_STORE_RDONLY and the daemon is only
 * looked up through its pid lock, never contacted, so status works while
 * enrpfs is busy or hung.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/rundir.h>
#include <enrp/store.h>

#include "ctl.h"

static const struct ctl_help status_help = {
	"enrpctl [-S STORE] status [--json]",
	"Shows the store's path and format version, whether an enrpfs serves it,\n"
	"and for every EIR its mode, state, usage against its quota, its number of\n"
	"files, the bytes its chunks take on disk (STORED) and the ratio of logical\n"
	"to stored bytes that deduplication and compression achieve (RATIO).\n"
	"\n"
	"Options:\n"
	"  --json             print one JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

static void status_text(struct ctl *ctl, const struct enrp_daemon_info *d, const struct eir_row *rows, size_t n)
{
	static const char *const headers[] = {
		"NAME", "MODE", "STATE", "USED", "QUOTA", "FILES", "STORED", "RATIO",
	};

	ctl_line(stdout, "store: %s", ctl->store_path);
	ctl_line(stdout, "format: %u", enrp_store_format(ctl->store));
	if (d->state == ENRP_DAEMON_SERVING && d->mountpoint[0])
		ctl_line(stdout, "daemon: running, pid %ld, mounted on %s", (long)d->pid,
		         d->mountpoint);
	else if (d->state == ENRP_DAEMON_SERVING)
		ctl_line(stdout, "daemon: running, pid %ld", (long)d->pid);
	else if (d->state == ENRP_DAEMON_STOPPING)
		ctl_line(stdout, "daemon: shutting down, pid %ld (%s is unmounted)", (long)d->pid,
		         d->mountpoint);
	else if (d->stale)
		ctl_line(stdout, "daemon: not running; mount point %s is stale ('fusermount3 -u %s' "
		         "clears it)", d->mountpoint, d->mountpoint);
	else
		ctl_line(stdout, "daemon: not running");
	ctl_line(stdout, "eirs: %zu", n);
	if (n == 0)
		return;

	struct table *t = table_new(8, headers);
	for (size_t col = 3; col < 8; col++)
		table_align_right(t, col);
	for (size_t i = 0; i < n; i++) {
		const struct enrp_eir *e = &rows[i].eir;
		char used[SIZE_BUF], quota[SIZE_BUF];
		size_human(rows[i].usage.bytes, used);
		quota_human(e->quota, quota);
		table_row(t);
		table_cell(t, "%s", e->name);
		table_cell(t, "%s", enrp_mode_name(e->mode));
		table_cell(t, "%s", enrp_state_name(e->state));
		table_cell(t, "%s", rows[i].have_usage ? used : "-");
		table_cell(t, "%s", quota);
		if (rows[i].have_usage) {
			const struct enrp_eir_usage *u = &rows[i].usage;
			char stored[SIZE_BUF];
			size_human(u->stored, stored);
			if (rows[i].have_files)
				table_cell(t, "%" PRIu64, rows[i].files);
			else
				table_cell(t, "-");
			table_cell(t, "%s", stored);
			/* Logical bytes per stored byte: what dedup and compression
			 * save together (pending files count once sealed). */
			if (u->stored)
				table_cell(t, "%.2fx", (double)u->bytes / (double)u->stored);
			else
				table_cell(t, "-");
		} else {
			table_cell(t, "-");
			table_cell(t, "-");
			table_cell(t, "-");
		}
	}
	putchar('\n');
	table_print(t, stdout);
	table_free(t);
}

static void status_json(struct ctl *ctl, const struct enrp_daemon_info *d, const struct eir_row *rows, size_t n)
{
	struct json j;
	int64_t now = enrp_now_ns();

	json_init(&j, stdout);
	json_object_begin(&j);
	json_kv_str(&j, "store", ctl->store_path);
	json_kv_u64(&j, "format", enrp_store_format(ctl->store));
	static const char *const states[] = { "none", "serving", "stopping" };
	json_kv_bool(&j, "daemon_running", d->state != ENRP_DAEMON_NONE);
	json_key(&j, "daemon_pid");
	if (d->state != ENRP_DAEMON_NONE)
		json_i64(&j, d->pid);
	else
		json_null(&j);
	json_kv_str(&j, "daemon_state", states[d->state]);
	json_key(&j, "mountpoint");
	if (d->mountpoint[0])
		json_str(&j, d->mountpoint);
	else
		json_null(&j);
	json_kv_bool(&j, "mountpoint_stale", d->stale);
	json_key(&j, "eirs");
	json_array_begin(&j);
	for (size_t i = 0; i < n; i++)
		eir_json(&j, &rows[i], now);
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	struct eir_row *rows;
	size_t n;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, &status_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &status_help, "too many arguments");

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	rc = eir_collect(ctl, &rows, &n);
	if (rc < 0) {
		ctl_err("cannot list the EIRs of '%s': %s", ctl->store_path, enrp_strerror(rc));
		ctl_hint("see the messages above, if any");
		return CTL_FAIL;
	}
	struct enrp_daemon_info d;
	if (enrp_rundir_daemon_info(ctl->store_path, &d)) {
		memset(&d, 0, sizeof(d));
		d.pid = enrp_rundir_daemon_pid(ctl->store_path);
		d.state = d.pid ? ENRP_DAEMON_SERVING : ENRP_DAEMON_NONE;
	}
	if (ctl->json)
		status_json(ctl, &d, rows, n);
	else
		status_text(ctl, &d, rows, n);
	/* Said on stderr too: a monitoring script reading stdout may not look. */
	if (d.stale) {
		ctl_warn("mount point '%s' is stale: the enrpfs that served it was killed or "
		         "crashed", d.mountpoint);
		ctl_hint("'fusermount3 -u %s' clears it; then mount the store again", d.mountpoint);
	}
	free(rows);
	return CTL_OK;
}
