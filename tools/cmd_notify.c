/*
 * cmd_notify.c — `enrpctl notify`: tells each due item once (issue 11
 * item 3; what is due: include/enrp/notify.h).
 *
 *   enrpctl notify [--exec CMD] [--dry-run] [--json]
 *
 * Without --exec each item is printed (a line, or a JSON object per line)
 * and recorded; with --exec CMD, `sh -c CMD` runs once per item with the
 * item as one JSON object on its stdin, and the item is recorded only when
 * CMD exits 0.  A failed CMD leaves the item for the next run: delivery is
 * at least once, and the item's "key" lets a receiver drop a repeat (the
 * one window is a crash between CMD's success and the record's commit).
 *
 * Runs are serialised by an exclusive flock on STORE/run/notify.lock, so
 * two timers firing together never both run CMD for one item; the ledger
 * (enrp_notify_emitted's -EEXIST) keeps the promise for anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/notify.h>

#include "ctl.h"

static const struct ctl_help notify_help = {
	"enrpctl [-S STORE] notify [--exec CMD] [--dry-run] [--json]",
	/* xgettext:no-c-format */
	N_("Tells each due item once: a test restore planned within 3 working days\n"
	"(tell the owner), a test-restore report due (the planned date has come and\n"
	"no result is recorded), a scheduled transfer that did not arrive, a copy that\n"
	"failed verification, a hold or a retired EIR's retention ending within 30\n"
	"days, and an EIR above 90% of its quota.  Each item is recorded (journalled\n"
	"as 'notified') and never told again; a hold extended to a new date, or a\n"
	"quota that falls below 90% and crosses it again, is a new item.\n"
	"\n"
	"Options:\n"
	"  --exec CMD         run 'sh -c CMD' per item, with the item as JSON on its\n"
	"                     stdin; the item is recorded only when CMD exits 0, else\n"
	"                     it is tried again at the next run\n"
	"  --dry-run          show what is due, record nothing\n"
	"  --json             one JSON object per item and line\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0, also when nothing is due; 1 when CMD failed for an item or\n"
	"the store could not be read; 2 for usage errors.\n"),
};

struct run {
	struct ctl *ctl;
	const char *exec;
	bool dry_run;
	unsigned told, failed;
	uint64_t first_failed_seq; /* journal items: the oldest CMD failed for (0: none) */
	int err;
};

static void owner_name(uint32_t uid, char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char sbuf[1024];
	if (getpwuid_r(uid, &pw, sbuf, sizeof(sbuf), &res) == 0 && res)
		snprintf(buf, n, "%s", res->pw_name);
	else
		snprintf(buf, n, "%" PRIu32, uid);
}

/* The item in words, in the reader's language. */
static void message_of(const struct enrp_notify_item *it, char *buf, size_t n)
{
	char day[ENRP_DAY_BUF], planned[ENRP_DAY_BUF], used[SIZE_BUF], quota[SIZE_BUF];
	enrp_day_format(it->day, day);
	enrp_day_format(it->planned, planned);
	switch (it->kind) {
	case ENRP_NOTIFY_RESTORE_SOON:
		snprintf(buf, n, _("a test restore of %s is planned for %s: tell its owner"), it->eir,
		         day);
		break;
	case ENRP_NOTIFY_RESTORE_REPORT:
		snprintf(buf, n,
		         _("the test restore of %s planned for %s has no recorded result: the report "
		           "is due by %s"),
		         it->eir, planned, day);
		break;
	case ENRP_NOTIFY_TRANSFER_MISSED:
		snprintf(buf, n, _("a scheduled transfer of %s did not arrive (%s)"), it->eir,
		         it->details);
		break;
	case ENRP_NOTIFY_VERIFY_FAILED:
		snprintf(buf, n, _("a copy in %s failed verification: %s"), it->eir,
		         it->path[0] ? it->path : it->details);
		break;
	case ENRP_NOTIFY_HOLD_EXPIRING:
		snprintf(buf, n, _("the hold on %s/%s ends on %s (%s)"), it->eir, it->path, day,
		         it->details);
		break;
	case ENRP_NOTIFY_RETENTION_EXPIRING:
		snprintf(buf, n,
		         _("the retention of retired %s ends on %s: prune then removes its data"),
		         it->eir, day);
		break;
	case ENRP_NOTIFY_QUOTA:
		size_human(it->used, used);
		size_human(it->quota, quota);
		snprintf(buf, n, _("%s uses %s of its %s quota (more than %d%%)"), it->eir, used, quota,
		         ENRP_NOTIFY_QUOTA_PCT);
		break;
	}
}

static void item_json(FILE *f, const struct enrp_notify_item *it)
{
	struct json j;
	char owner[64], msg[1024], day[ENRP_DAY_BUF];
	json_init(&j, f);
	j.compact = true;
	json_object_begin(&j);
	json_kv_str(&j, "kind", enrp_notify_kind_name(it->kind));
	json_kv_str(&j, "key", it->key);
	json_kv_str(&j, "eir", it->eir);
	owner_name(it->owner_uid, owner, sizeof(owner));
	json_kv_str(&j, "owner", it->eir_id ? owner : "");
	json_kv_u64(&j, "owner_uid", it->eir_id ? it->owner_uid : 0);
	json_key(&j, "date");
	if (it->day) {
		enrp_day_format(it->day, day);
		json_str(&j, day);
	} else {
		json_null(&j);
	}
	json_kv_i64(&j, "time_ns", it->time_ns);
	json_kv_u64(&j, "seq", it->seq);
	json_kv_str(&j, "path", it->path);
	if (it->kind == ENRP_NOTIFY_QUOTA) {
		json_kv_u64(&j, "used", it->used);
		json_kv_u64(&j, "quota", it->quota);
	}
	json_kv_str(&j, "details", it->details);
	message_of(it, msg, sizeof(msg));
	json_kv_str(&j, "message", msg);
	json_object_end(&j);
	json_finish(&j);
}

/* Runs CMD with ITEM on its stdin: 0 when it exited 0, else -1 (reported). */
static int run_exec(const char *cmd, const struct enrp_notify_item *it)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem) {
		ctl_err("out of memory");
		return -1;
	}
	item_json(mem, it);
	fclose(mem);

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		ctl_err("cannot make a pipe for --exec: %s", strerror(errno));
		free(text);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		ctl_err("cannot run --exec: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		free(text);
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[0], 0);
		setenv("ENRP_NOTIFY_KIND", enrp_notify_kind_name(it->kind), 1);
		setenv("ENRP_NOTIFY_KEY", it->key, 1);
		setenv("ENRP_NOTIFY_EIR", it->eir, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	/* A CMD that does not read its stdin must not kill enrpctl. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(pfd[1], text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(pfd[1]);
	signal(SIGPIPE, old);
	free(text);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		ctl_warn("--exec failed for %s (exit %d): it is tried again at the next run", it->key,
		         WEXITSTATUS(status));
	else
		ctl_warn("--exec failed for %s (signal %d): it is tried again at the next run",
		         it->key, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

static bool journal_kind(enum enrp_notify_kind k)
{
	return k == ENRP_NOTIFY_TRANSFER_MISSED || k == ENRP_NOTIFY_VERIFY_FAILED;
}

static int item_cb(const struct enrp_notify_item *it, void *arg)
{
	struct run *r = arg;
	const char *how = "printed";
	if (r->exec && !r->dry_run) {
		if (run_exec(r->exec, it) != 0) {
			r->failed++;
			if (journal_kind(it->kind) && (!r->first_failed_seq || it->seq < r->first_failed_seq))
				r->first_failed_seq = it->seq;
			return 0;
		}
		how = "exec";
	} else if (r->ctl->json) {
		item_json(stdout, it);
	} else {
		char msg[1024];
		message_of(it, msg, sizeof(msg));
		ctl_line(stdout, "%-19s %s", enrp_notify_kind_name(it->kind), msg);
	}
	if (r->dry_run) {
		r->told++;
		return 0;
	}
	int rc = enrp_notify_emitted(r->ctl->store, it, how, &r->ctl->actor);
	if (rc == -EEXIST)
		return 0; /* another run told it first */
	if (rc) {
		ctl_err("cannot record that %s was told: %s", it->key, enrp_strerror(rc));
		r->err = rc;
		return rc;
	}
	r->told++;
	return 0;
}

/* Holds an exclusive flock on STORE/run/notify.lock: -1 (reported) when
 * it cannot be had. */
static int lock_runs(struct ctl *ctl)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/run/notify.lock", ctl->store_path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ctl_err("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) != 0) {
		ctl_err("cannot lock '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int cmd_notify(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_EXEC = 1000, OPT_DRY };
	static const struct option opts[] = {
		{ "exec", required_argument, NULL, OPT_EXEC },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	struct run r = { .ctl = ctl };
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:j", opts, NULL)) != -1) {
		if (c == OPT_EXEC) {
			if (!*optarg)
				return ctl_usage_error(ctl, &notify_help, "--exec needs a command");
			r.exec = optarg;
			continue;
		}
		if (c == OPT_DRY) {
			r.dry_run = true;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &notify_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &notify_help, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;

	struct ctl_today now;
	if ((rc = ctl_platform_today(ctl, &now)) != CTL_OK)
		return rc;
	int lock = r.dry_run ? -2 : lock_runs(ctl);
	if (lock == -1)
		return CTL_FAIL;

	struct enrp_notify_when w = { .now_ns = now.now_ns, .today = now.today,
		                      .utc_offset_s = now.offset_s };
	uint64_t seen = 0;
	if (!r.dry_run && (rc = enrp_notify_rearm(ctl->store, &w)) != 0) {
		ctl_err("cannot read the quotas of store '%s': %s", ctl->store_path, enrp_strerror(rc));
		goto fail;
	}
	rc = enrp_notify_due(ctl->store, &w, item_cb, &r, &seen);
	if (rc && !r.err) {
		ctl_err("cannot find what is due in store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("run 'enrpctl fsck' to check the store");
		goto fail;
	}
	if (rc)
		goto fail;
	if (!r.dry_run) {
		uint64_t upto = r.first_failed_seq ? r.first_failed_seq - 1 : seen;
		if ((rc = enrp_notify_advance(ctl->store, upto)) != 0) {
			ctl_err("cannot record how far the journal was read: %s", enrp_strerror(rc));
			goto fail;
		}
	}
	if (lock >= 0)
		close(lock);
	return r.failed ? CTL_FAIL : CTL_OK;
fail:
	if (lock >= 0)
		close(lock);
	return CTL_FAIL;
}
