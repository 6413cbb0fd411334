/*
 * cmd_restore.c — `enrpctl restore-test VERB`: plan, record and list the
 * test restores the regulation asks of every EIR (core/restore.c).
 *
 *   plan EIR --date DATE [--note TEXT]
 *   record EIR --snapshot NAME --result pass|fail [--note TEXT]
 *   list [--due] [--json]
 *
 * "Today" is the platform's date in its zone (enrpctl calendar zone) when
 * enrpctl runs; every argument is checked before the store is opened, and
 * a refused plan or record stores and journals nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/restore.h>
#include <enrp/snapshot.h>

#include "ctl.h"

static const struct ctl_help restore_help = {
	"enrpctl [-S STORE] restore-test VERB [OPTIONS]",
	N_("Test restores: every EIR's copies must be restored for real at intervals\n"
	"set by its class (class 1 quarterly, class 2 half-yearly, class 3 yearly),\n"
	"announced to the owner at least 3 working days ahead.  'plan' records the\n"
	"announcement, 'record' the restore and its result, 'list' when each EIR's\n"
	"next one is due.  Plans and records are journalled and never change.\n"),
};

static const struct ctl_help plan_help = {
	"enrpctl restore-test plan EIR --date DATE [--note TEXT]",
	N_("Records that a test restore of EIR is planned on DATE (YYYY-MM-DD, the\n"
	"platform's date).  DATE must be at least 3 working days after today\n"
	"(Monday to Friday, minus 'enrpctl calendar holiday list', in the zone of\n"
	"'enrpctl calendar zone'): the owner must be told in advance.  An earlier\n"
	"date is refused (exit 1) with the earliest one allowed.\n"
	"\n"
	"Options:\n"
	"  --date DATE        the planned date (required)\n"
	"  --note TEXT        e.g. how the owner was told (at most 255 bytes)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help record_help = {
	"enrpctl restore-test record EIR --snapshot NAME --result pass|fail [--note TEXT]",
	N_("Records a test restore of EIR performed today from the snapshot NAME, with\n"
	"its result, who recorded it and when.  A pass restarts the EIR's interval;\n"
	"a fail does not (the copy was not shown to be restorable).  NAME\n"
	"(1-63 characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a\n"
	"letter or digit; not 'latest': name the snapshot 'EIR@latest' created) must\n"
	"be a snapshot of EIR that exists when the restore is recorded.\n"
	"\n"
	"Options:\n"
	"  --snapshot NAME    the snapshot restored (required)\n"
	"  --result RESULT    pass or fail (required)\n"
	"  --note TEXT        what was restored and how (at most 255 bytes)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help list_help = {
	"enrpctl restore-test list [--due] [--json]",
	N_("Lists every EIR (destroyed ones left out) with its interval, its last\n"
	"passed test restore, when the next one is due, its next planned date and\n"
	"its status:\n"
	"  ok        due in more than 30 days\n"
	"  due       due within 30 days (or today)\n"
	"  overdue   the due date has passed\n"
	"  exempt    retired: nothing is due\n"
	"The next one is due the interval after the last passed restore or, for an\n"
	"EIR that has none, after the EIR was created.\n"
	"\n"
	"Options:\n"
	"  --due              only the EIRs that are due or overdue\n"
	"  --json             print a JSON array of objects\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* The EIR operand of plan and record: a usage error when missing or not a
 * valid name.  CTL_CONTINUE when fine. */
static int eir_operand(struct ctl *ctl, const struct ctl_help *help, int argc, char **argv,
                       const char **name)
{
	if (optind >= argc)
		return ctl_usage_error(ctl, help, "no EIR given");
	*name = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, help, "too many arguments");
	if (!enrp_eir_name_valid(*name))
		return ctl_usage_error(ctl, help, "'%s' is not a valid EIR name", *name);
	return CTL_CONTINUE;
}

static int note_check(struct ctl *ctl, const struct ctl_help *help, const char *note)
{
	if (note && strlen(note) > ENRP_RESTORE_NOTE_MAX)
		return ctl_usage_error(ctl, help, "the note is longer than %d bytes",
		                       ENRP_RESTORE_NOTE_MAX);
	return CTL_CONTINUE;
}

/* Reports an error of plan or record about EIR NAME. */
static int restore_error(const char *what, const char *name, int err)
{
	if (err == -EINVAL) {
		ctl_err("cannot %s EIR '%s': it is destroyed", _(what), name);
		ctl_hint("'enrpctl eir show %s' shows its state", name);
		return CTL_FAIL;
	}
	return ctl_eir_error(what, name, err);
}

/* Opens the store and reads the platform's date: every verb needs both. */
static int open_today(struct ctl *ctl, struct ctl_today *now)
{
	int rc = ctl_open_store(ctl);
	return rc != CTL_OK ? rc : ctl_platform_today(ctl, now);
}

static const char *const weekday_names[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
	"Friday", "Saturday", "Sunday" };

static int restore_plan(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "date", required_argument, NULL, 'd' },
		{ "note", required_argument, NULL, 'n' },
		CTL_OPTS_COMMON,
	};
	const char *date = NULL, *note = NULL, *name;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'd') {
			date = optarg;
		} else if (c == 'n') {
			note = optarg;
		} else if ((rc = ctl_common_option(ctl, c, optarg, &plan_help)) != CTL_CONTINUE) {
			return rc;
		}
	}
	if ((rc = eir_operand(ctl, &plan_help, argc, argv, &name)) != CTL_CONTINUE)
		return rc;
	if (!date)
		return ctl_usage_error(ctl, &plan_help, "--date is required");
	enrp_day day;
	if ((rc = ctl_parse_day(ctl, &plan_help, "date", date, &day)) != CTL_CONTINUE)
		return rc;
	if ((rc = note_check(ctl, &plan_help, note)) != CTL_CONTINUE)
		return rc;
	struct ctl_today now;
	if ((rc = open_today(ctl, &now)) != CTL_OK)
		return rc;

	uint64_t seq;
	char when[ENRP_DAY_BUF], earliest_s[ENRP_DAY_BUF];
	enrp_day_format(day, when);
	rc = enrp_restore_plan(ctl->store, name, day, note, now.now_ns, now.today, &ctl->actor,
	                       &seq);
	if (rc == -ERANGE) {
		enrp_day earliest;
		ctl_err("cannot plan a test restore of EIR '%s' on %s: it is fewer than %d "
		        "working days away", name, when, ENRP_RESTORE_NOTICE_DAYS);
		if (enrp_restore_earliest(ctl->store, now.today, &earliest) == 0) {
			enrp_day_format(earliest, earliest_s);
			ctl_hint("the owner must be told %d working days in advance; the earliest "
			         "date now is %s (%s; working days are Monday to Friday in %s, "
			         "minus 'enrpctl calendar holiday list')", ENRP_RESTORE_NOTICE_DAYS,
			         earliest_s, weekday_names[enrp_day_weekday(earliest)], now.zone);
		}
		return CTL_FAIL;
	}
	if (rc)
		return restore_error(N_("plan a test restore of"), name, rc);
	ctl_line(stdout, "planned test restore %" PRIu64 " of EIR '%s' on %s (%s)", seq, name, when,
	         weekday_names[enrp_day_weekday(day)]);
	return CTL_OK;
}

static int restore_record(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "snapshot", required_argument, NULL, 's' },
		{ "result",   required_argument, NULL, 'r' },
		{ "note",     required_argument, NULL, 'n' },
		CTL_OPTS_COMMON,
	};
	const char *snapshot = NULL, *result_s = NULL, *note = NULL, *name;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 's') {
			snapshot = optarg;
		} else if (c == 'r') {
			result_s = optarg;
		} else if (c == 'n') {
			note = optarg;
		} else if ((rc = ctl_common_option(ctl, c, optarg, &record_help)) != CTL_CONTINUE) {
			return rc;
		}
	}
	if ((rc = eir_operand(ctl, &record_help, argc, argv, &name)) != CTL_CONTINUE)
		return rc;
	if (!snapshot)
		return ctl_usage_error(ctl, &record_help, "--snapshot is required");
	if (!result_s)
		return ctl_usage_error(ctl, &record_help, "--result is required");
	if (!enrp_restore_snapshot_name_valid(snapshot))
		return ctl_usage_error(ctl, &record_help, "'%s' is not a valid snapshot name",
		                       snapshot);
	enum enrp_restore_result result;
	if (enrp_restore_result_parse(result_s, &result))
		return ctl_usage_error(ctl, &record_help, "invalid result '%s': expected pass or fail",
		                       result_s);
	if ((rc = note_check(ctl, &record_help, note)) != CTL_CONTINUE)
		return rc;
	struct ctl_today now;
	if ((rc = open_today(ctl, &now)) != CTL_OK)
		return rc;

	/* A record names a copy someone can still look at; the one restored
	 * is kept until the record is made (a drill records right after it). */
	struct enrp_snapshot snap;
	rc = enrp_snapshot_get(ctl->store, name, snapshot, &snap);
	if (rc == -ENOENT && enrp_eir_get(ctl->store, name, &(struct enrp_eir){ 0 }) == 0) {
		ctl_err("cannot record a test restore of '%s' from snapshot '%s': EIR '%s' has no "
		        "such snapshot", name, snapshot, name);
		ctl_hint("'enrpctl snapshot list %s' lists them", name);
		return CTL_FAIL;
	}
	if (rc && rc != -ENOENT)
		return restore_error(N_("record a test restore of"), name, rc);
	uint64_t seq;
	rc = enrp_restore_record(ctl->store, name, snapshot, result, note, now.now_ns, now.today,
	                         &ctl->actor, &seq);
	if (rc)
		return restore_error(N_("record a test restore of"), name, rc);
	ctl_line(stdout, "recorded test restore %" PRIu64 " of EIR '%s' from snapshot '%s': %s", seq,
	         name, snapshot, enrp_restore_result_name(result));
	return CTL_OK;
}

/* --- list ---------------------------------------------------------------- */

static void json_kv_day(struct json *j, const char *key, bool have, enrp_day day)
{
	char buf[ENRP_DAY_BUF];
	enrp_day_format(day, buf);
	json_kv_str(j, key, have ? buf : NULL);
}

static void json_entry(struct json *j, const char *key, bool have,
                       const struct enrp_restore_entry *e)
{
	char when[TIME_BUF];
	json_key(j, key);
	if (!have) {
		json_null(j);
		return;
	}
	time_iso(e->time_ns, when);
	json_object_begin(j);
	json_kv_u64(j, "seq", e->seq);
	json_kv_day(j, "date", true, e->day);
	json_kv_str(j, "time", when);
	json_kv_i64(j, "time_ns", e->time_ns);
	json_kv_str(j, "snapshot", e->snapshot);
	json_kv_str(j, "result", enrp_restore_result_name(e->result));
	json_kv_u64(j, "uid", e->uid);
	json_kv_str(j, "note", e->note);
	json_object_end(j);
}

static void list_json(const struct enrp_restore_status *v, size_t n, bool only_due,
                      enrp_day today)
{
	struct json j;
	json_init(&j, stdout);
	json_array_begin(&j);
	for (size_t i = 0; i < n; i++) {
		const struct enrp_restore_status *s = &v[i];
		bool exempt = s->standing == ENRP_RESTORE_EXEMPT;
		if (only_due && s->standing != ENRP_RESTORE_SOON && s->standing != ENRP_RESTORE_OVERDUE)
			continue;
		json_object_begin(&j);
		json_kv_str(&j, "eir", s->eir.name);
		json_kv_u64(&j, "class", s->eir.eir_class);
		json_kv_str(&j, "mode", enrp_mode_name(s->eir.mode));
		json_kv_str(&j, "state", enrp_state_name(s->eir.state));
		json_kv_u64(&j, "interval_months", s->interval_months);
		json_entry(&j, "last_pass", s->have_pass, &s->last_pass);
		json_entry(&j, "last_record", s->have_record, &s->last_record);
		json_kv_day(&j, "due", !exempt, s->due);
		json_kv_str(&j, "status", enrp_restore_standing_name(s->standing));
		json_kv_bool(&j, "overdue", s->standing == ENRP_RESTORE_OVERDUE);
		json_key(&j, "days_overdue");
		if (s->standing == ENRP_RESTORE_OVERDUE)
			json_i64(&j, (int64_t)today - s->due);
		else
			json_null(&j);
		json_kv_day(&j, "next_plan", s->have_plan, s->next_plan);
		json_kv_u64(&j, "plans_ahead", s->plans_ahead);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_finish(&j);
}

static void list_table(const struct enrp_restore_status *v, size_t n, bool only_due)
{
	static const char *const headers[] = { "EIR", "CLASS", "EVERY", "LAST-PASS", "SNAPSHOT",
		"DUE", "STATUS", "PLANNED", "LAST-RESULT" };
	struct table *t = table_new(9, headers);
	char buf[ENRP_DAY_BUF];
	table_align_right(t, 1);
	for (size_t i = 0; i < n; i++) {
		const struct enrp_restore_status *s = &v[i];
		if (only_due && s->standing != ENRP_RESTORE_SOON && s->standing != ENRP_RESTORE_OVERDUE)
			continue;
		table_row(t);
		table_cell(t, "%s", s->eir.name);
		table_cell(t, "%u", s->eir.eir_class);
		table_cell(t, "%um", s->interval_months);
		enrp_day_format(s->last_pass.day, buf);
		table_cell(t, "%s", s->have_pass ? buf : "never");
		table_cell(t, "%s", s->have_pass ? s->last_pass.snapshot : "-");
		enrp_day_format(s->due, buf);
		table_cell(t, "%s", s->standing == ENRP_RESTORE_EXEMPT ? "-" : buf);
		/* Upper case so an overdue EIR stands out in a long table. */
		table_cell(t, "%s", s->standing == ENRP_RESTORE_OVERDUE
		                    ? "OVERDUE" : enrp_restore_standing_name(s->standing));
		enrp_day_format(s->next_plan, buf);
		table_cell(t, "%s", s->have_plan ? buf : "-");
		table_cell(t, "%s", s->have_record ? enrp_restore_result_name(s->last_record.result)
		                                   : "-");
	}
	table_print(t, stdout);
	table_free(t);
}

static int restore_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "due", no_argument, NULL, 'D' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	bool only_due = false;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'D')
			only_due = true;
		else if ((rc = ctl_common_option(ctl, c, optarg, &list_help)) != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &list_help, "too many arguments");
	struct ctl_today now;
	if ((rc = open_today(ctl, &now)) != CTL_OK)
		return rc;

	struct enrp_restore_status *v;
	size_t n;
	rc = enrp_restore_status_all(ctl->store, now.today, now.offset_s, &v, &n);
	if (rc) {
		ctl_err("cannot list the test restores of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("run 'enrpctl fsck' to check the store");
		return CTL_FAIL;
	}
	if (ctl->json)
		list_json(v, n, only_due, now.today);
	else
		list_table(v, n, only_due);
	free(v);
	return CTL_OK;
}

static const struct ctl_verb restore_verbs[] = {
	{ "plan",   restore_plan,   NEED_STORE_RW, N_("announce a test restore on a date") },
	{ "record", restore_record, NEED_STORE_RW, N_("record a performed test restore and its result") },
	{ "list",   restore_list,   NEED_STORE_RO, N_("when each EIR's next test restore is due") },
};

int cmd_restore_test(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "restore-test", &restore_help, restore_verbs,
	                    sizeof(restore_verbs) / sizeof(restore_verbs[0]), argc, argv);
}
