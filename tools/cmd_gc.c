/*
 * cmd_gc.c — `enrpctl gc [EIR]`: free the chunks that nothing references.
 *
 * While enrpfs serves the store the daemon runs the collection (seals pin
 * their chunks in its memory, see core/gc.c): enrpctl starts it over the
 * control socket and follows its progress until it is done.  Otherwise
 * enrpctl runs it itself, holding the daemon lock so that no enrpfs can
 * start sealing meanwhile.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/gc.h>
#include <enrp/rundir.h>

#include "ctl.h"

static const struct ctl_help gc_help = {
	"enrpctl [-S STORE] gc [--json] [EIR]",
	N_("Frees the chunks that no file (and no snapshot or trash entry) uses any\n"
	"more: those of deleted and overwritten files, and those an interrupted\n"
	"seal left behind.  Runs online: while enrpfs serves the store, the\n"
	"daemon collects and enrpctl follows it; transfers, seals and reads go\n"
	"on.  Progress is shown on a terminal; each EIR that freed something gets\n"
	"a 'gc' journal record.  With EIR, only its chunks (offline only).\n"
	"\n"
	"Options:\n"
	"  --json             print the summary as one JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static void draw(struct progress *p, bool force, const struct enrp_gc_result *r)
{
	char bytes[SIZE_BUF];
	size_human(r->bytes_freed, bytes);
	progress_line(p, force, "gc: EIR %" PRIu32 "/%" PRIu32 ", %" PRIu64 " chunks looked at, %"
	              PRIu64 " freed (%s)", r->eirs, r->eirs_total, r->chunks, r->chunks_freed, bytes);
}

static void show_progress(const struct enrp_gc_result *r, void *arg)
{
	draw(arg, false, r);
}

/* "running|done RC CHUNKS FREED BYTES BUSY EIRS TOTAL" from the daemon. */
static int parse_status(const char *reply, bool *running, int *rc, struct enrp_gc_result *r)
{
	char state[16];
	if (sscanf(reply, "ok %15s %d %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu32
	           " %" SCNu32, state, rc, &r->chunks, &r->chunks_freed, &r->bytes_freed,
	           &r->chunks_busy, &r->eirs, &r->eirs_total) != 8)
		return -EPROTO;
	*running = strcmp(state, "running") == 0;
	return 0;
}

int ctl_gc_follow(struct ctl *ctl, struct enrp_gc_result *r)
{
	char reply[256];
	struct progress p;
	memset(r, 0, sizeof(*r));
	int rc = enrp_control_request(ctl->store_path, "gc", reply, sizeof(reply), 10000);
	if (rc)
		return rc;
	progress_begin(&p, ctl->tty);
	bool running = true;
	int run_rc = 0;
	while (running) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		rc = enrp_control_request(ctl->store_path, "gc-status", reply, sizeof(reply), 10000);
		if (rc == 0)
			rc = parse_status(reply, &running, &run_rc, r);
		if (rc)
			break;
		draw(&p, !running, r); /* the last counts always */
	}
	progress_end(&p);
	return rc ? rc : run_rc;
}

static int gc_here(struct ctl *ctl, const char *eir, int lock_fd, struct enrp_gc_result *r)
{
	struct progress p;
	int rc = ctl_open_store(ctl);
	if (rc != CTL_OK) {
		close(lock_fd);
		return rc;
	}
	progress_begin(&p, ctl->tty);
	rc = enrp_gc_run(ctl->store, eir, &ctl->actor, ctl->tty ? show_progress : NULL, &p, NULL, r);
	if (rc == 0)
		draw(&p, true, r); /* the last counts, whenever the last draw was */
	progress_end(&p);
	close(lock_fd);
	return rc;
}

int cmd_gc(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	const char *eir = NULL;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, &gc_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		eir = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, &gc_help, "too many arguments");
	if (eir && !enrp_eir_name_valid(eir))
		return ctl_usage_error(ctl, &gc_help, "'%s' is not a valid EIR name", eir);
	if (!ctl->store_path || !*ctl->store_path)
		return ctl_open_store(ctl); /* reports the missing store */

	struct enrp_gc_result r;
	memset(&r, 0, sizeof(r));
	pid_t holder = 0;
	/* A daemon shutting down can neither collect nor let us in. */
	struct enrp_daemon_info d;
	ctl_await_daemon_exit(ctl, &d);
	int lock_fd = enrp_rundir_lock(ctl->store_path, &holder);
	bool by_daemon = lock_fd == -EBUSY;
	if (by_daemon && eir) {
		ctl_err("cannot collect EIR '%s' alone: enrpfs (pid %d) is serving store '%s'", eir,
		        (int)holder, ctl->store_path);
		ctl_hint("run 'enrpctl gc' without an EIR: the daemon collects every EIR online");
		return CTL_FAIL;
	}
	if (by_daemon)
		rc = ctl_gc_follow(ctl, &r);
	else if (lock_fd < 0)
		rc = lock_fd;
	else if ((rc = enrp_rundir_write_pid(lock_fd))) /* who keeps a daemon out */
		close(lock_fd);
	else
		rc = gc_here(ctl, eir, lock_fd, &r);
	if (rc == -ENOENT && eir)
		return ctl_eir_error("gc", eir, rc);
	if (rc == CTL_FAIL || rc == CTL_USAGE)
		return rc;
	if (rc) {
		ctl_err("garbage collection of '%s' failed: %s", ctl->store_path, enrp_strerror(rc));
		ctl_hint(by_daemon ? "see the daemon's messages (syslog)" : "see the messages above, if any");
		return CTL_FAIL;
	}
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_u64(&j, "eirs", r.eirs);
		json_kv_u64(&j, "chunks", r.chunks);
		json_kv_u64(&j, "chunks_freed", r.chunks_freed);
		json_kv_u64(&j, "bytes_freed", r.bytes_freed);
		json_kv_u64(&j, "chunks_busy", r.chunks_busy);
		json_kv_bool(&j, "by_daemon", by_daemon);
		json_object_end(&j);
		json_finish(&j);
	} else {
		char bytes[SIZE_BUF];
		size_human(r.bytes_freed, bytes);
		printf(_("gc: %" PRIu32 " EIRs, %" PRIu64 " chunks looked at, %" PRIu64
		       " freed (%s)%s\n"), r.eirs, r.chunks, r.chunks_freed, bytes,
		       r.chunks_busy ? _("; some in use by seals in flight, left for the next run") : "");
	}
	return CTL_OK;
}
