/*
 * cmd_status.c — `enrpctl status`: the store, its daemon and its EIRs at a
 * glance, and `status --check`, the same numbers judged for monitoring.
 *
 * The EIR rows are eirview.c's, the same as `eir list`'s.  --check follows
 * the Nagios plugin conventions: one summary line first ("ENRP OK - ...",
 * "ENRP WARNING - ...", "ENRP CRITICAL - ...", "ENRP UNKNOWN - ..."), one
 * line per finding after it, and exit 0 OK, 1 WARNING, 2 CRITICAL, 3
 * UNKNOWN (the store cannot be read, or the command line is wrong).  What
 * is which:
 *
 *   corrupt files                      critical (data the platform holds is
 *                                      damaged; the owner must re-send it)
 *   no verified transfer within the    warning past the interval, critical
 *   EIR's interval                     past twice the interval
 *   quota use                          warning above --quota-warn (90 %),
 *                                      critical at 100 %
 *   a file queued for sealing longer   warning (the daemon is behind, stuck
 *   than --backlog-age (1h)            or not running)
 *
 *   the host clock unsynchronised      warning (adjtimex: STA_UNSYNC or
 *                                      TIME_ERROR), only for the whole store
 *                                      (not with --eir) and not with
 *                                      --ignore-clock: retention, holds and
 *                                      the journal's times count by it, but
 *                                      a lab host without NTP is common
 *
 * Destroyed EIRs are not judged; retired ones only for corrupt files
 * (what they hold is kept); suspended and retired ones have no interval.
 *
 * Read-only: the store is opened ENRP_STORE_RDONLY and the daemon is only
 * looked up through its pid lock, never contacted, so status works while
 * enrpfs is busy or hung.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/rundir.h>
#include <enrp/store.h>
#include <enrp/units.h>

#include "ctl.h"

static const struct ctl_help status_help = {
	"enrpctl [-S STORE] status [-o COLUMNS] [--eir NAME] [--json]\n"
	"       enrpctl [-S STORE] status --check [--eir NAME] [--backlog-age DURATION]\n"
	"                                  [--quota-warn PERCENT] [--json]",
	N_("Shows the store's path and format version, whether an enrpfs serves it,\n"
	"whether the host clock is synchronised (adjtimex), and a table of its EIRs\n"
	"(the same view as 'enrpctl eir list').  Columns (-o picks them,\n"
	"comma-separated; * marks the default ones):\n"
	"  name*        the EIR           id        its number\n"
	"  class*       1, 2 or 3         owner     its owner\n"
	"  mode*        rw, wo, ro, active\n"
	"  state*       normal, suspended, retired, destroyed\n"
	"  used*        bytes charged to the quota     quota*  its quota\n"
	"  use          used as a percentage of the quota\n"
	"  inodes       every live inode (files, directories, links, ...)\n"
	"  files*       regular files = verified + pending + corrupt\n"
	"  verified     files sealed with their checksum\n"
	"  pending*     files open for writing or queued for sealing\n"
	"  corrupt*     files with a chunk that failed its check\n"
	"  backlog      files queued for sealing   backlog-age  the oldest's age\n"
	"  last*        the latest verified transfer (a file sealed), UTC\n"
	"  age*         how long ago that was\n"
	"  interval     the longest expected between transfers: an active EIR's\n"
	"               rpo; other EIRs have none yet\n"
	"  stored*      bytes of the chunks still referenced (by files, snapshots,\n"
	"               trash): drops as soon as a file is removed\n"
	"  chunks       those chunks\n"
	"  disk         bytes of the EIR's chunk files on disk now (what du -b\n"
	"               counts); unreferenced chunks stay until garbage collection\n"
	"  reclaim      disk - stored: what 'enrpctl gc' would free\n"
	"  ratio*       used / stored: what deduplication and compression save\n"
	"disk and reclaim list the chunk files, so they cost time in proportion to\n"
	"the chunks; they are counted only when asked for (-o, --json).\n"
	"\n"
	"With --check, judges every EIR for monitoring (Nagios plugin conventions):\n"
	"one summary line 'ENRP OK|WARNING|CRITICAL|UNKNOWN - ...', then one line\n"
	"per finding, and exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
	"  critical  an EIR has corrupt files; no verified transfer within twice\n"
	"            its interval; its quota is 100 % used\n"
	"  warning   no verified transfer within its interval; quota use above\n"
	"            --quota-warn; a file queued for sealing for longer than\n"
	"            --backlog-age; the host clock is not synchronised (adjtimex:\n"
	"            no NTP or other discipline; judged for the whole store only,\n"
	"            not with --eir)\n"
	"  unknown   the store cannot be read, or the command line is wrong\n"
	"\n"
	"Options:\n"
	"  -o, --output COLUMNS      the table's columns (see above)\n"
	"  --eir NAME                only this EIR\n"
	"  --check                   judge instead of showing (see above)\n"
	"  --backlog-age DURATION    warn when a file has been queued for sealing\n"
	"                            longer than this (default 1h)\n"
	"  --quota-warn PERCENT      warn above this quota use (default 90)\n"
	"  --ignore-clock            do not judge the host clock (a host without NTP)\n"
	"  --json                    print one JSON object (every field, raw numbers)\n"
	"  -S, --store STORE         the store\n"
	"  -h, --help                show this help\n"),
};

#define EXIT_UNKNOWN 3

struct status_opts {
	struct eir_columns columns;
	const char *eir;         /* --eir, or NULL */
	bool check;
	int64_t backlog_age_ns;  /* --backlog-age */
	unsigned quota_warn;     /* --quota-warn, percent */
	bool ignore_clock;       /* --ignore-clock */
};

/* The host clock's discipline in words, into BUF: "synchronised, offset
 * ..." or "unsynchronised (...)".  Not translated, like --check's other
 * findings, which monitoring may parse. */
static void clock_words(const struct enrp_clock_sync *c, char *buf, size_t size)
{
	if (c->synchronised)
		snprintf(buf, size, ("synchronised, offset %.3f ms, estimated error %.3f ms, "
		         "maximum error %.3f ms"), (double)c->offset_ns / 1e6,
		         (double)c->esterror_us / 1e3, (double)c->maxerror_us / 1e3);
	else
		snprintf(buf, size, ("unsynchronised (adjtimex: state %s, maximum error %.3f s): "
		         "nothing disciplines it (NTP, chrony)"), c->state_name,
		         (double)c->maxerror_us / 1e6);
}

static void clock_json(struct json *j, int rc, const struct enrp_clock_sync *c)
{
	json_key(j, "clock");
	if (rc) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_kv_bool(j, "synchronised", c->synchronised);
	json_kv_str(j, "state", c->state_name);
	json_kv_u64(j, "status", (uint64_t)(unsigned)c->status);
	json_key(j, "offset_ns");
	json_i64(j, c->offset_ns);
	json_key(j, "esterror_us");
	json_i64(j, c->esterror_us);
	json_key(j, "maxerror_us");
	json_i64(j, c->maxerror_us);
	json_object_end(j);
}

static void status_text(struct ctl *ctl, const struct status_opts *o,
                        const struct enrp_daemon_info *d, const struct eir_row *rows, size_t n)
{
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
	struct enrp_clock_sync c;
	int crc = enrp_clock_sync(&c);
	char words[256];
	if (crc)
		ctl_line(stdout, "clock: unknown (adjtimex: %s)", enrp_strerror(crc));
	else {
		clock_words(&c, words, sizeof(words));
		ctl_line(stdout, "clock: %s", words);
	}
	ctl_line(stdout, "eirs: %zu", n);
	if (n == 0)
		return;
	putchar('\n');
	eir_table_print(&o->columns, rows, n, enrp_now_ns(), stdout);
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
	struct enrp_clock_sync c;
	int crc = enrp_clock_sync(&c);
	clock_json(&j, crc, &c);
	json_key(&j, "eirs");
	json_array_begin(&j);
	for (size_t i = 0; i < n; i++)
		eir_json(&j, &rows[i], now);
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* --- --check ------------------------------------------------------------- */

enum level { LEVEL_OK, LEVEL_WARNING, LEVEL_CRITICAL, LEVEL_UNKNOWN };

static const char *const level_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

struct finding {
	enum level level;
	const char *eir;
	const char *what; /* corrupt, overdue, quota, backlog */
	char text[256];
};

struct findings {
	struct finding *v;
	size_t n, cap;
};

__attribute__((format(printf, 5, 6)))
static void add(struct findings *f, enum level level, const char *eir, const char *what,
                const char *fmt, ...)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = ctl_xrealloc(f->v, f->cap, sizeof(*f->v));
	}
	struct finding *x = &f->v[f->n++];
	*x = (struct finding){ .level = level, .eir = eir, .what = what };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
}

static void judge(const struct status_opts *o, const struct eir_row *r, int64_t now,
                  struct findings *f)
{
	const struct enrp_eir *e = &r->eir;
	char a[AGE_BUF], b[AGE_BUF], x[SIZE_BUF], y[SIZE_BUF];

	if (e->state == ENRP_STATE_DESTROYED)
		return;
	if (r->have_files && r->fc.corrupt)
		add(f, LEVEL_CRITICAL, e->name, "corrupt", "%s: %" PRIu64 " corrupt file%s",
		    e->name, r->fc.corrupt, r->fc.corrupt == 1 ? "" : "s");
	if (e->state == ENRP_STATE_RETIRED)
		return;

	int64_t iv = eir_interval_ns(e);
	if (iv && r->have_files) {
		int64_t since = r->fc.last_sealed ? r->fc.last_sealed : e->created;
		int64_t age = now - since;
		if (age > iv) {
			age_human(age, a);
			age_human(iv, b);
			add(f, age > 2 * iv ? LEVEL_CRITICAL : LEVEL_WARNING, e->name, "overdue",
			    r->fc.last_sealed ? "%s: last verified transfer %s ago, expected every %s"
			                      : "%s: no verified transfer since it was created %s ago, "
			                        "expected every %s",
			    e->name, a, b);
		}
	}

	if (e->quota && r->have_usage) {
		double pct = 100.0 * (double)r->usage.bytes / (double)e->quota;
		size_human(r->usage.bytes, x);
		size_human(e->quota, y);
		if (r->usage.bytes >= e->quota)
			add(f, LEVEL_CRITICAL, e->name, "quota", "%s: quota full, %.0f%% used (%s of %s)",
			    e->name, pct, x, y);
		else if (pct > (double)o->quota_warn)
			add(f, LEVEL_WARNING, e->name, "quota", "%s: quota %.0f%% used (%s of %s)",
			    e->name, pct, x, y);
	}

	if (r->have_backlog && r->backlog.files && now - r->backlog.oldest_queued > o->backlog_age_ns) {
		age_human(now - r->backlog.oldest_queued, a);
		age_human(o->backlog_age_ns, b);
		add(f, LEVEL_WARNING, e->name, "backlog",
		    "%s: %" PRIu64 " file%s queued for sealing, the oldest for %s (more than %s)",
		    e->name, r->backlog.files, r->backlog.files == 1 ? "" : "s", a, b);
	}
}

static int check_report(struct ctl *ctl, const struct status_opts *o, const struct eir_row *rows,
                        size_t n)
{
	struct findings f = { 0 };
	int64_t now = enrp_now_ns();
	enum level worst = LEVEL_OK;

	for (size_t i = 0; i < n; i++)
		judge(o, &rows[i], now, &f);
	if (!o->eir && !o->ignore_clock) {
		struct enrp_clock_sync c;
		int crc = enrp_clock_sync(&c);
		char words[256];
		if (crc)
			add(&f, LEVEL_WARNING, NULL, "clock", "host clock: cannot read its state "
			    "(adjtimex: %s)", enrp_strerror(crc));
		else if (!c.synchronised) {
			clock_words(&c, words, sizeof(words));
			add(&f, LEVEL_WARNING, NULL, "clock", "host clock %s", words);
		}
	}
	for (size_t i = 0; i < f.n; i++)
		if (f.v[i].level > worst)
			worst = f.v[i].level;
	/* Worst first; within a level, in EIR order. */
	struct finding *sorted = ctl_xrealloc(NULL, f.n ? f.n : 1, sizeof(*sorted));
	size_t k = 0;
	for (int lv = LEVEL_CRITICAL; lv >= LEVEL_WARNING; lv--)
		for (size_t i = 0; i < f.n; i++)
			if ((int)f.v[i].level == lv)
				sorted[k++] = f.v[i];

	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_str(&j, "status", level_names[worst]);
		json_kv_u64(&j, "exit", worst);
		json_kv_u64(&j, "eirs", n);
		json_key(&j, "findings");
		json_array_begin(&j);
		for (size_t i = 0; i < k; i++) {
			json_object_begin(&j);
			json_kv_str(&j, "level", level_names[sorted[i].level]);
			json_kv_str(&j, "eir", sorted[i].eir);
			json_kv_str(&j, "check", sorted[i].what);
			json_kv_str(&j, "message", sorted[i].text);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else if (k == 0) {
		char b[AGE_BUF];
		age_human(o->backlog_age_ns, b);
		ctl_line(stdout, "ENRP OK - %zu EIR%s: no corrupt files, no overdue transfer, "
		         "quotas at most %u%% used, no file queued longer than %s",
		         n, n == 1 ? "" : "s", o->quota_warn, b);
	} else {
		/* The summary names every finding, worst first; a long list is cut
		 * with a count (Nagios shows the first line in its overview). */
		char summary[1024];
		size_t len = 0, shown = 0;
		for (size_t i = 0; i < k; i++) {
			size_t need = strlen(sorted[i].text) + 2;
			if (len + need + 32 >= sizeof(summary))
				break;
			len += (size_t)snprintf(summary + len, sizeof(summary) - len, "%s%s",
			                        i ? "; " : "", sorted[i].text);
			shown++;
		}
		if (shown < k)
			snprintf(summary + len, sizeof(summary) - len, "; and %zu more", k - shown);
		ctl_line(stdout, "ENRP %s - %s", level_names[worst], summary);
		for (size_t i = 0; i < k; i++)
			ctl_line(stdout, "%s: %s", level_names[sorted[i].level], sorted[i].text);
	}
	free(sorted);
	free(f.v);
	return (int)worst;
}

/* --check's answer when nothing could be judged. */
static int unknown(struct ctl *ctl, const char *why)
{
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_str(&j, "status", "UNKNOWN");
		json_kv_u64(&j, "exit", EXIT_UNKNOWN);
		json_kv_str(&j, "message", why);
		json_object_end(&j);
		json_finish(&j);
	} else {
		ctl_line(stdout, "ENRP UNKNOWN - %s", why);
	}
	return EXIT_UNKNOWN;
}

static bool wants_check(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--check") == 0)
			return true;
	}
	return false;
}

enum { OPT_CHECK = 256, OPT_EIR, OPT_BACKLOG_AGE, OPT_QUOTA_WARN, OPT_IGNORE_CLOCK };

static int parse_args(struct ctl *ctl, struct status_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "eir", required_argument, NULL, OPT_EIR },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "backlog-age", required_argument, NULL, OPT_BACKLOG_AGE },
		{ "quota-warn", required_argument, NULL, OPT_QUOTA_WARN },
		{ "ignore-clock", no_argument, NULL, OPT_IGNORE_CLOCK },
		CTL_OPT_JSON, CTL_OPTS_COMMON
	};
	int c, rc;
	bool have_o = false;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "ho:S:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if ((rc = eir_columns_parse(optarg, &o->columns)) != CTL_CONTINUE)
				return rc;
			have_o = true;
			continue;
		case OPT_EIR:
			if (!enrp_eir_name_valid(optarg))
				return ctl_usage_error(ctl, &status_help, "invalid EIR name '%s'", optarg);
			o->eir = optarg;
			continue;
		case OPT_CHECK:
			o->check = true;
			continue;
		case OPT_IGNORE_CLOCK:
			o->ignore_clock = true;
			continue;
		case OPT_BACKLOG_AGE:
			if (enrp_duration_parse(optarg, &o->backlog_age_ns) < 0 || o->backlog_age_ns <= 0) {
				ctl_err("invalid duration '%s' for --backlog-age", optarg);
				ctl_hint("give a duration such as 90s, 30m, 2h or 1d");
				return CTL_USAGE;
			}
			continue;
		case OPT_QUOTA_WARN: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 100 || optarg[0] == '-') {
				ctl_err("invalid percentage '%s' for --quota-warn", optarg);
				ctl_hint("give a whole number from 1 to 100");
				return CTL_USAGE;
			}
			o->quota_warn = (unsigned)v;
			continue;
		}
		}
		rc = ctl_common_option(ctl, c, optarg, &status_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &status_help, "too many arguments");
	if (o->check && have_o)
		return ctl_usage_error(ctl, &status_help, "--check prints findings, not columns: "
		                       "leave out -o");
	return CTL_CONTINUE;
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	struct status_opts o = { .backlog_age_ns = 3600LL * 1000000000, .quota_warn = 90 };
	struct eir_row *rows;
	size_t n;
	int rc;

	eir_columns_default(&o.columns);
	rc = parse_args(ctl, &o, argc, argv);
	if (rc != CTL_CONTINUE) {
		/* A plugin's wrong command line is UNKNOWN, not CRITICAL (2). */
		if (rc == CTL_USAGE && wants_check(argc, argv))
			return unknown(ctl, "wrong command line (see the messages on stderr)");
		return rc;
	}

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return o.check ? unknown(ctl, "cannot open the store (see the messages on stderr)")
		               : rc;
	rc = eir_collect(ctl, (ctl->json && !o.check) || o.columns.need_disk, &rows, &n);
	if (rc < 0) {
		ctl_err("cannot list the EIRs of '%s': %s", ctl->store_path, enrp_strerror(rc));
		ctl_hint("see the messages above, if any");
		return o.check ? unknown(ctl, "cannot read the EIRs of the store") : CTL_FAIL;
	}
	if (o.eir) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (strcmp(rows[i].eir.name, o.eir) == 0)
				rows[k++] = rows[i];
		if (k == 0) {
			free(rows);
			ctl_eir_error("read", o.eir, -ENOENT);
			return o.check ? unknown(ctl, "no such EIR") : CTL_FAIL;
		}
		n = k;
	}
	if (o.check) {
		rc = check_report(ctl, &o, rows, n);
		free(rows);
		return rc;
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
		status_text(ctl, &o, &d, rows, n);
	/* Said on stderr too: a monitoring script reading stdout may not look. */
	if (d.stale) {
		ctl_warn("mount point '%s' is stale: the enrpfs that served it was killed or "
		         "crashed", d.mountpoint);
		ctl_hint("'fusermount3 -u %s' clears it; then mount the store again", d.mountpoint);
	}
	free(rows);
	return CTL_OK;
}
