/*
 * cmd_report.c — `enrpctl report`: the compliance report (report.h) as a
 * table, JSON, CSV or one self-contained HTML page.
 *
 *   enrpctl report [--from DATE] [--to DATE] [--json | --csv | --html FILE]
 *
 * The period is platform dates (calendar.h), the last 30 days to today by
 * default.  Before reading, today's usage sample is written for every EIR
 * that lacks one (report.h): a store no daemon serves still gets history.
 *
 * The HTML page needs nothing but itself: inline CSS, charts drawn here as
 * inline SVG, no script, no URL of any kind (a page an inspector opens
 * offline, or prints, shows the same).  Every text that comes from the
 * store (names, reasons, schedules) goes through html_text(), which
 * escapes the five characters HTML gives meaning to.  Each figure's cell
 * carries data-k="KEY" (the --json key) so that a test, or a reader's
 * tool, can find it; what the cell shows is the figure itself.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/clock.h>
#include <enrp/csv.h>
#include <enrp/enrp.h>
#include <enrp/report.h>

#include "ctl.h"

#define NS 1000000000LL
#define DEFAULT_DAYS 30

static const struct ctl_help report_help = {
	"enrpctl [-S STORE] report [--from DATE] [--to DATE] [--json | --csv | --html FILE]",
	N_("Shows every EIR's standing over a period of platform dates (default: the\n"
	"last 30 days to today): class, mode and state, usage against quota, dedup\n"
	"ratio, transfers expected / arrived / late / missed against its schedule,\n"
	"failed verifications, the test restores, holds, a traffic light with its\n"
	"reasons, and a summary row for the platform.  enrpctl(8) REPORT defines\n"
	"each figure.  Writes today's usage sample of each EIR that has none.\n"
	"\n"
	"Options:\n"
	"  --from DATE        first date of the period (YYYY-MM-DD)\n"
	"  --to DATE          last date of the period (default: today)\n"
	"  --json             everything, raw numbers, as JSON\n"
	"  --csv              one row per EIR and one for the platform (RFC 4180)\n"
	"  --html FILE        one self-contained web page with charts, printable on A4\n"
	"                     ('-': standard output)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* The reasons in words, by flag bit (report.h's order). */
static const char *const reason_words[ENRP_REPORT_REASONS] = {
	N_("missed transfers"),
	N_("failed verifications"),
	N_("corrupt files"),
	N_("test restore overdue"),
	N_("quota full"),
	N_("late transfers"),
	N_("test restore due soon"),
	N_("last test restore failed"),
	N_("quota nearly full"),
	N_("hold expiring"),
	N_("suspended"),
	N_("no schedule"),
	N_("destroyed"),
};

static const char *light_word(enum enrp_report_light l)
{
	switch (l) {
	case ENRP_LIGHT_GREEN: return _("green");
	case ENRP_LIGHT_AMBER: return _("amber");
	case ENRP_LIGHT_RED: return _("red");
	default: return _("none");
	}
}

/* The reasons of MASK joined by SEP: in words (translated) or as codes. */
static void reasons_text(unsigned mask, bool words, const char *sep, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (unsigned b = 0; b < ENRP_REPORT_REASONS; b++) {
		if (!(mask & (1u << b)))
			continue;
		int n = snprintf(buf + len, size - len, "%s%s", len ? sep : "",
		                 words ? _(reason_words[b]) : enrp_report_reason_name(b));
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
}

static void day_text(enrp_day d, char buf[ENRP_DAY_BUF])
{
	enrp_day_format(d, buf);
}

/* --- facts shared by the formats ---------------------------------------- */

struct restore_view {
	const char *last_pass, *last_record, *last_result, *due, *standing, *next_plan;
	char b_pass[ENRP_DAY_BUF], b_rec[ENRP_DAY_BUF], b_due[ENRP_DAY_BUF], b_plan[ENRP_DAY_BUF];
};

static void restore_view(const struct enrp_report_eir *e, struct restore_view *v)
{
	memset(v, 0, sizeof(*v));
	if (!e->have_restore)
		return;
	const struct enrp_restore_status *s = &e->restore;
	if (s->have_pass) {
		day_text(s->last_pass.day, v->b_pass);
		v->last_pass = v->b_pass;
	}
	if (s->have_record) {
		day_text(s->last_record.day, v->b_rec);
		v->last_record = v->b_rec;
		v->last_result = enrp_restore_result_name(s->last_record.result);
	}
	if (s->standing != ENRP_RESTORE_EXEMPT) {
		day_text(s->due, v->b_due);
		v->due = v->b_due;
	}
	v->standing = enrp_restore_standing_name(s->standing);
	if (s->have_plan) {
		day_text(s->next_plan, v->b_plan);
		v->next_plan = v->b_plan;
	}
}

/* --- JSON ---------------------------------------------------------------- */

static void json_day(struct json *j, const char *key, enrp_day d)
{
	char b[ENRP_DAY_BUF];
	day_text(d, b);
	json_kv_str(j, key, b);
}

static void json_days(struct json *j, const struct enrp_report_day *d, size_t n, bool all)
{
	json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		if (!all && d[i].expected == 0)
			continue;
		json_object_begin(j);
		json_day(j, "date", d[i].day);
		json_kv_u64(j, "expected", d[i].expected);
		json_kv_u64(j, "arrived", d[i].arrived);
		json_kv_u64(j, "late", d[i].late);
		json_kv_u64(j, "missed", d[i].missed);
		json_kv_u64(j, "pending", d[i].pending);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_samples(struct json *j, const struct enrp_usage_sample *s, size_t n, bool skip0)
{
	json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		if (skip0 && s[i].day == 0)
			continue;
		json_object_begin(j);
		json_day(j, "date", s[i].day);
		json_kv_u64(j, "used", s[i].used);
		json_kv_u64(j, "stored", s[i].stored);
		json_kv_u64(j, "files", s[i].files);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_reasons(struct json *j, unsigned mask)
{
	json_key(j, "reasons");
	json_array_begin(j);
	for (unsigned b = 0; b < ENRP_REPORT_REASONS; b++)
		if (mask & (1u << b))
			json_str(j, enrp_report_reason_name(b));
	json_array_end(j);
}

static void json_eir(struct json *j, const struct enrp_report_eir *e, size_t ndays)
{
	char t[TIME_BUF];
	struct restore_view rv;

	json_object_begin(j);
	json_kv_str(j, "name", e->eir.name);
	json_kv_u64(j, "class", e->eir.eir_class);
	json_kv_str(j, "mode", enrp_mode_name(e->eir.mode));
	json_kv_str(j, "state", enrp_state_name(e->eir.state));
	json_kv_str(j, "state_reason", e->eir.state_reason[0] ? e->eir.state_reason : NULL);
	json_kv_str(j, "backup_mode", e->backup_mode[0] ? e->backup_mode : NULL);
	json_kv_str(j, "schedule", e->schedule[0] ? e->schedule : NULL);
	json_kv_str(j, "retention", e->retention[0] ? e->retention : NULL);
	json_kv_u64(j, "lock_days", e->lock_days);
	json_kv_u64(j, "used", e->have_usage ? e->usage.bytes : 0);
	json_kv_u64(j, "quota", e->eir.quota);
	json_key(j, "quota_used_percent");
	if (e->quota_pct >= 0)
		json_f64(j, e->quota_pct, 1);
	else
		json_null(j);
	json_kv_u64(j, "stored", e->have_usage ? e->usage.stored : 0);
	json_key(j, "ratio");
	if (e->ratio > 0)
		json_f64(j, e->ratio, 2);
	else
		json_null(j);
	json_kv_u64(j, "files", e->files_total);
	json_kv_u64(j, "verified", e->have_files ? e->files.verified : 0);
	json_kv_u64(j, "corrupt", e->have_files ? e->files.corrupt : 0);
	json_kv_u64(j, "expected", e->expected);
	json_kv_u64(j, "arrived", e->arrived);
	json_kv_u64(j, "late", e->late);
	json_kv_u64(j, "missed", e->missed);
	json_kv_u64(j, "pending", e->pending);
	json_kv_u64(j, "failed_verifications", e->failed_verifications);
	restore_view(e, &rv);
	json_key(j, "restore");
	json_object_begin(j);
	json_kv_str(j, "last_pass", rv.last_pass);
	json_kv_str(j, "last_record", rv.last_record);
	json_kv_str(j, "last_result", rv.last_result);
	json_kv_str(j, "due", rv.due);
	json_kv_str(j, "standing", rv.standing);
	json_kv_bool(j, "overdue", e->have_restore && e->restore.standing == ENRP_RESTORE_OVERDUE);
	json_kv_str(j, "next_plan", rv.next_plan);
	json_object_end(j);
	json_kv_u64(j, "holds_active", e->holds_active);
	json_kv_u64(j, "holds_expiring", e->holds_expiring);
	if (e->next_hold) {
		time_iso(e->next_hold->until, t);
		json_kv_str(j, "next_hold_until", t);
		json_kv_str(j, "next_hold_reason", e->next_hold->reason);
	} else {
		json_kv_str(j, "next_hold_until", NULL);
		json_kv_str(j, "next_hold_reason", NULL);
	}
	json_kv_str(j, "light", enrp_report_light_name(e->light));
	json_reasons(j, e->reasons);
	/* Reserved for the destruction record (issue 11 item 5: when, by whom,
	 * how much); null until `eir destroy` writes one. */
	json_key(j, "destroyed");
	if (e->destroyed.have) {
		json_object_begin(j);
		time_iso(e->destroyed.when_ns, t);
		json_kv_str(j, "when", t);
		json_kv_bool(j, "finished", e->destroyed.finished);
		json_kv_str(j, "requested_by", e->destroyed.requested_by);
		json_kv_str(j, "approved_by", e->destroyed.approved_by);
		json_kv_str(j, "reason", e->destroyed.reason);
		json_kv_u64(j, "files", e->destroyed.files);
		json_kv_u64(j, "bytes", e->destroyed.bytes);
		json_kv_u64(j, "stored", e->destroyed.stored);
		json_object_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "usage_history");
	json_samples(j, e->samples, e->nsamples, false);
	json_key(j, "transfers_by_day");
	json_days(j, e->days, ndays, false);
	json_object_end(j);
}

static void print_json(const struct enrp_report *r)
{
	struct json j;
	char t[TIME_BUF];
	size_t nd = (size_t)(r->to - r->from) + 1;
	const struct enrp_report_summary *s = &r->summary;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_day(&j, "from", r->from);
	json_day(&j, "to", r->to);
	json_day(&j, "today", r->today);
	time_iso(r->now * NS, t);
	json_kv_str(&j, "generated", t);
	json_kv_str(&j, "zone", r->zone);
	json_key(&j, "eirs");
	json_array_begin(&j);
	for (size_t i = 0; i < r->n; i++)
		json_eir(&j, &r->eirs[i], nd);
	json_array_end(&j);
	json_key(&j, "summary");
	json_object_begin(&j);
	json_kv_u64(&j, "eirs", s->eirs);
	json_kv_u64(&j, "green", s->green);
	json_kv_u64(&j, "amber", s->amber);
	json_kv_u64(&j, "red", s->red);
	json_kv_u64(&j, "none", s->none);
	json_kv_u64(&j, "used", s->used);
	json_kv_u64(&j, "quota", s->quota);
	json_kv_u64(&j, "stored", s->stored);
	json_key(&j, "ratio");
	if (s->ratio > 0)
		json_f64(&j, s->ratio, 2);
	else
		json_null(&j);
	json_kv_u64(&j, "files", s->files);
	json_kv_u64(&j, "corrupt", s->corrupt_files);
	json_kv_u64(&j, "expected", s->expected);
	json_kv_u64(&j, "arrived", s->arrived);
	json_kv_u64(&j, "late", s->late);
	json_kv_u64(&j, "missed", s->missed);
	json_kv_u64(&j, "pending", s->pending);
	json_kv_u64(&j, "failed_verifications", s->failed_verifications);
	json_kv_u64(&j, "restore_overdue", s->restore_overdue);
	json_kv_u64(&j, "restore_due", s->restore_due);
	json_kv_u64(&j, "holds_active", s->holds_active);
	json_kv_u64(&j, "holds_expiring", s->holds_expiring);
	json_key(&j, "usage_history");
	json_samples(&j, s->usage, nd, true);
	json_key(&j, "transfers_by_day");
	json_days(&j, s->days, nd, true);
	json_object_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* --- CSV ----------------------------------------------------------------- */

static const char *const csv_header[] = {
	"row", "name", "class", "mode", "state", "backup_mode", "used", "quota",
	"quota_used_percent", "stored", "ratio", "files", "corrupt", "expected", "arrived",
	"late", "missed", "pending", "failed_verifications", "restore_last_pass", "restore_due",
	"restore_standing", "restore_next_plan", "holds_active", "holds_expiring",
	"next_hold_until", "light", "reasons",
};
#define CSV_COLS (sizeof(csv_header) / sizeof(csv_header[0]))

static int print_csv(const struct enrp_report *r)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	char v[CSV_COLS][96];
	const char *f[CSV_COLS];
	int rc = enrp_csv_append_row(&buf, &len, &cap, csv_header, CSV_COLS);

	for (size_t i = 0; rc == 0 && i <= r->n; i++) {
		const struct enrp_report_eir *e = i < r->n ? &r->eirs[i] : NULL;
		const struct enrp_report_summary *s = &r->summary;
		struct restore_view rv;
		char reasons[512], t[TIME_BUF];
		for (size_t c = 0; c < CSV_COLS; c++) {
			v[c][0] = '\0';
			f[c] = v[c];
		}
		if (e) {
			restore_view(e, &rv);
			reasons_text(e->reasons, false, " ", reasons, sizeof(reasons));
			f[0] = "eir";
			f[1] = e->eir.name;
			snprintf(v[2], 96, "%u", e->eir.eir_class);
			f[3] = enrp_mode_name(e->eir.mode);
			f[4] = enrp_state_name(e->eir.state);
			f[5] = e->backup_mode;
			snprintf(v[6], 96, "%" PRIu64, e->have_usage ? e->usage.bytes : 0);
			snprintf(v[7], 96, "%" PRIu64, e->eir.quota);
			if (e->quota_pct >= 0)
				snprintf(v[8], 96, "%.1f", e->quota_pct);
			snprintf(v[9], 96, "%" PRIu64, e->have_usage ? e->usage.stored : 0);
			if (e->ratio > 0)
				snprintf(v[10], 96, "%.2f", e->ratio);
			snprintf(v[11], 96, "%" PRIu64, e->files_total);
			snprintf(v[12], 96, "%" PRIu64, e->have_files ? e->files.corrupt : 0);
			snprintf(v[13], 96, "%" PRIu32, e->expected);
			snprintf(v[14], 96, "%" PRIu32, e->arrived);
			snprintf(v[15], 96, "%" PRIu32, e->late);
			snprintf(v[16], 96, "%" PRIu32, e->missed);
			snprintf(v[17], 96, "%" PRIu32, e->pending);
			snprintf(v[18], 96, "%" PRIu32, e->failed_verifications);
			f[19] = rv.last_pass ? rv.last_pass : "";
			f[20] = rv.due ? rv.due : "";
			f[21] = rv.standing ? rv.standing : "";
			f[22] = rv.next_plan ? rv.next_plan : "";
			snprintf(v[23], 96, "%" PRIu32, e->holds_active);
			snprintf(v[24], 96, "%" PRIu32, e->holds_expiring);
			if (e->next_hold) {
				time_iso(e->next_hold->until, t);
				snprintf(v[25], 96, "%s", t);
			}
			f[26] = enrp_report_light_name(e->light);
			f[27] = reasons;
		} else {
			f[0] = "platform";
			snprintf(v[6], 96, "%" PRIu64, s->used);
			snprintf(v[7], 96, "%" PRIu64, s->quota);
			snprintf(v[9], 96, "%" PRIu64, s->stored);
			if (s->ratio > 0)
				snprintf(v[10], 96, "%.2f", s->ratio);
			snprintf(v[11], 96, "%" PRIu64, s->files);
			snprintf(v[12], 96, "%" PRIu32, s->corrupt_files);
			snprintf(v[13], 96, "%" PRIu32, s->expected);
			snprintf(v[14], 96, "%" PRIu32, s->arrived);
			snprintf(v[15], 96, "%" PRIu32, s->late);
			snprintf(v[16], 96, "%" PRIu32, s->missed);
			snprintf(v[17], 96, "%" PRIu32, s->pending);
			snprintf(v[18], 96, "%" PRIu32, s->failed_verifications);
			snprintf(v[23], 96, "%" PRIu32, s->holds_active);
			snprintf(v[24], 96, "%" PRIu32, s->holds_expiring);
		}
		rc = enrp_csv_append_row(&buf, &len, &cap, f, CSV_COLS);
	}
	if (rc == 0)
		fwrite(buf, 1, len, stdout);
	free(buf);
	return rc;
}

/* --- text ---------------------------------------------------------------- */

static void print_text(const struct enrp_report *r)
{
	static const char *const headers[] = {
		"NAME", "CLASS", "MODE", "STATE", "USED", "QUOTA%", "RATIO", "EXPECTED", "ARRIVED",
		"LATE", "MISSED", "FAILED", "RESTORE", "DUE", "HOLDS", "LIGHT", "REASONS",
	};
	struct table *t = table_new(17, headers);
	char a[ENRP_DAY_BUF], b[ENRP_DAY_BUF], sz[SIZE_BUF], reasons[512];
	for (size_t c = 4; c <= 14; c++)
		table_align_right(t, c);
	day_text(r->from, a);
	day_text(r->to, b);
	ctl_line(stdout, _("Compliance report %s .. %s (%s)"), a, b, r->zone);
	for (size_t i = 0; i <= r->n; i++) {
		table_row(t);
		if (i == r->n) {
			const struct enrp_report_summary *s = &r->summary;
			size_human(s->used, sz);
			table_cell(t, "%s", _("(platform)"));
			table_cell(t, "-");
			table_cell(t, "-");
			table_cell(t, "%u", s->eirs);
			table_cell(t, "%s", sz);
			table_cell(t, "-"); /* unlimited EIRs' use has no quota to compare with */
			table_cell(t, "%.2f", s->ratio);
			table_cell(t, "%u", s->expected);
			table_cell(t, "%u", s->arrived);
			table_cell(t, "%u", s->late);
			table_cell(t, "%u", s->missed);
			table_cell(t, "%u", s->failed_verifications);
			table_cell(t, "%u", s->restore_overdue);
			table_cell(t, "-");
			table_cell(t, "%u", s->holds_active);
			table_cell(t, "%u/%u/%u", s->green, s->amber, s->red);
			table_cell(t, "-");
			break;
		}
		const struct enrp_report_eir *e = &r->eirs[i];
		struct restore_view rv;
		restore_view(e, &rv);
		size_human(e->have_usage ? e->usage.bytes : 0, sz);
		reasons_text(e->reasons, true, ", ", reasons, sizeof(reasons));
		table_cell(t, "%s", e->eir.name);
		table_cell(t, "%u", e->eir.eir_class);
		table_cell(t, "%s", enrp_mode_name(e->eir.mode));
		table_cell(t, "%s", enrp_state_name(e->eir.state));
		table_cell(t, "%s", sz);
		if (e->quota_pct >= 0)
			table_cell(t, "%.1f", e->quota_pct);
		else
			table_cell(t, "-");
		table_cell(t, "%.2f", e->ratio);
		table_cell(t, "%u", e->expected);
		table_cell(t, "%u", e->arrived);
		table_cell(t, "%u", e->late);
		table_cell(t, "%u", e->missed);
		table_cell(t, "%u", e->failed_verifications);
		table_cell(t, "%s", rv.standing ? rv.standing : "-");
		table_cell(t, "%s", rv.due ? rv.due : "-");
		table_cell(t, "%u", e->holds_active);
		table_cell(t, "%s", light_word(e->light));
		table_cell(t, "%s", reasons[0] ? reasons : "-");
	}
	table_print(t, stdout);
	table_free(t);
}

/* --- HTML ---------------------------------------------------------------- */

/* S with &, <, >, " and ' escaped: safe in text and in quoted attributes. */
static void html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *light_colour(enum enrp_report_light l)
{
	switch (l) {
	case ENRP_LIGHT_GREEN: return "#2e7d32";
	case ENRP_LIGHT_AMBER: return "#f9a825";
	case ENRP_LIGHT_RED: return "#c62828";
	default: return "#9e9e9e";
	}
}

static const char html_style[] =
	"body{font-family:sans-serif;font-size:10pt;color:#212121;margin:1.5em}"
	"h1{font-size:16pt;margin:0 0 .3em}h2{font-size:12pt;margin:1.2em 0 .3em}"
	"table{border-collapse:collapse;margin:.5em 0;font-size:9pt}#eirs,#summary{width:100%}"
	"th,td{border:1px solid #bdbdbd;padding:2px 5px;text-align:left;vertical-align:top}"
	"th{background:#eeeeee}td.n{text-align:right}"
	".light{white-space:nowrap}.eir{page-break-inside:avoid;break-inside:avoid}"
	"figure{display:inline-block;margin:0 1em .5em 0}figcaption{font-size:9pt;color:#616161}"
	".muted{color:#757575}"
	".legend span{margin-right:1em}"
	"@page{size:A4;margin:12mm}"
	"@media print{body{margin:0;font-size:8pt}h2{page-break-after:avoid}"
	"table{font-size:6.5pt}th,td{padding:1px 2px}figure{margin-right:.5em}"
	"table{page-break-inside:auto}tr{page-break-inside:avoid}}";

static void html_light(FILE *f, enum enrp_report_light l)
{
	fprintf(f, "<span class=\"light\"><svg width=\"12\" height=\"12\" aria-hidden=\"true\">"
	           "<circle cx=\"6\" cy=\"6\" r=\"5.5\" fill=\"%s\"/></svg> <span data-k=\"light\">",
	        light_colour(l));
	html_text(f, light_word(l));
	fputs("</span></span>", f);
}

#define CHART_W 340
#define CHART_H 110
#define PAD_L 8
#define PAD_B 16

static void svg_begin(FILE *f, const char *id)
{
	fputs("<svg class=\"chart\" id=\"", f);
	html_text(f, id);
	fprintf(f, "\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">", CHART_W,
	        CHART_H, CHART_W, CHART_H);
}

/* Transfers per day against the schedule: a grey outline for the slots
 * expected, filled green for arrived on time, amber late, red missed. */
static void html_bars(FILE *f, const char *id, const struct enrp_report_day *d, size_t n)
{
	fprintf(f, "<figure><figcaption>%s</figcaption>", _("Transfers per day against the schedule"));
	uint32_t max = 1;
	for (size_t i = 0; i < n; i++)
		if (d[i].expected > max)
			max = d[i].expected;
	double step = (double)(CHART_W - PAD_L) / (double)n, bw = step > 3 ? step - 1 : step;
	double unit = (double)(CHART_H - PAD_B - 4) / (double)max;
	char a[ENRP_DAY_BUF], b[ENRP_DAY_BUF];
	svg_begin(f, id);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
	           "stroke=\"#e0e0e0\"/>", CHART_W, CHART_H);
	int base = CHART_H - PAD_B;
	for (size_t i = 0; i < n; i++) {
		double x = PAD_L + step * (double)i, y = base;
		uint32_t ontime = d[i].arrived - d[i].late;
		struct { uint32_t v; const char *c; } seg[] = {
			{ ontime, "#2e7d32" }, { d[i].late, "#f9a825" }, { d[i].missed, "#c62828" },
		};
		if (d[i].expected)
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			           "fill=\"none\" stroke=\"#616161\" stroke-width=\"0.8\"/>",
			        x, base - unit * d[i].expected, bw, unit * d[i].expected);
		for (size_t k = 0; k < 3; k++) {
			if (!seg[k].v)
				continue;
			double h = unit * seg[k].v;
			y -= h;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
			        x, y, bw, h, seg[k].c);
		}
	}
	day_text(d[0].day, a);
	day_text(d[n - 1].day, b);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#616161\">%s</text>"
	           "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#616161\" "
	           "text-anchor=\"end\">%s</text></svg>",
	        PAD_L, CHART_H - 4, a, CHART_W - 2, CHART_H - 4, b);
	fputs("</figure>", f);
}

/* Usage over the period: the daily samples' used bytes as a blue line
 * (a dot for a lone sample), the quota as a dashed red line. */
static void html_usage(FILE *f, const char *id, const struct enrp_usage_sample *s, size_t ns,
                       enrp_day from, enrp_day to, uint64_t quota)
{
	uint64_t max = quota;
	size_t drawn = 0;
	for (size_t i = 0; i < ns; i++)
		if (s[i].day && s[i].used > max)
			max = s[i].used;
	if (max == 0)
		max = 1;
	double span = to > from ? (double)(to - from) : 1;
	fprintf(f, "<figure><figcaption>%s</figcaption>", _("Usage over time (dashed: quota)"));
	double w = CHART_W - PAD_L - 4, h = CHART_H - PAD_B - 6;
	int base = CHART_H - PAD_B;
	char a[ENRP_DAY_BUF], b[ENRP_DAY_BUF], sz[SIZE_BUF];
	svg_begin(f, id);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
	           "stroke=\"#e0e0e0\"/>", CHART_W, CHART_H);
	if (quota)
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#c62828\" "
		           "stroke-dasharray=\"4 3\"/>", PAD_L, base - h, CHART_W - 4, base - h);
	fputs("<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2.5\" points=\"", f);
	double lx = 0, ly = 0;
	for (size_t i = 0; i < ns; i++) {
		if (!s[i].day || s[i].day < from || s[i].day > to)
			continue;
		lx = PAD_L + w * (double)(s[i].day - from) / span;
		ly = base - h * (double)s[i].used / (double)max;
		fprintf(f, "%s%.1f,%.1f", drawn++ ? " " : "", lx, ly);
	}
	fputs("\"/>", f);
	if (drawn)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#1565c0\"/>", lx, ly);
	else
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#757575\">%s</text>",
		        PAD_L + 10, CHART_H / 2, _("no usage samples in the period"));
	day_text(from, a);
	day_text(to, b);
	size_human(max, sz);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#616161\">%s</text>"
	           "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#616161\" "
	           "text-anchor=\"end\">%s</text>"
	           "<text x=\"%d\" y=\"12\" font-size=\"10\" fill=\"#616161\">%s</text></svg>",
	        PAD_L, CHART_H - 4, a, CHART_W - 2, CHART_H - 4, b, PAD_L + 2, sz);
	fputs("</figure>", f);
}

static void td_u(FILE *f, const char *key, uint64_t v)
{
	fprintf(f, "<td class=\"n\" data-k=\"%s\">%" PRIu64 "</td>", key, v);
}

static void td_s(FILE *f, const char *key, const char *v)
{
	fprintf(f, "<td data-k=\"%s\">", key);
	html_text(f, v ? v : "-");
	fputs("</td>", f);
}

static void td_size(FILE *f, const char *key, uint64_t v)
{
	char sz[SIZE_BUF];
	size_human(v, sz);
	fprintf(f, "<td class=\"n\" data-k=\"%s\" title=\"%" PRIu64 "\">%s</td>", key, v, sz);
}

static void td_f(FILE *f, const char *key, double v, int decimals, bool have)
{
	fprintf(f, "<td class=\"n\" data-k=\"%s\">", key);
	if (have)
		fprintf(f, "%.*f", decimals, v);
	else
		fputs("-", f);
	fputs("</td>", f);
}

static int print_html(const struct enrp_report *r, const char *path)
{
	/* "-": standard output (how a member runs it through the relay). */
	bool to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "w");
	char a[ENRP_DAY_BUF], b[ENRP_DAY_BUF], t[TIME_BUF], reasons[512], id[96];
	size_t nd = (size_t)(r->to - r->from) + 1;
	const struct enrp_report_summary *s = &r->summary;

	if (!f)
		return -errno;
	day_text(r->from, a);
	day_text(r->to, b);
	time_iso(r->now * NS, t);
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width\"><title>", f);
	html_text(f, _("Compliance report"));
	fprintf(f, " %s .. %s</title><style>%s</style></head><body>\n<h1>", a, b, html_style);
	html_text(f, _("Compliance report"));
	fprintf(f, "</h1><p>%s <span id=\"from\">%s</span> .. <span id=\"to\">%s</span>; ",
	        _("Period"), a, b);
	fprintf(f, "%s %s (", _("generated"), t);
	html_text(f, r->zone);
	fputs(")</p>\n", f);

	/* The platform. */
	fprintf(f, "<h2>%s</h2><table id=\"summary\"><tr>", _("Platform"));
	static const char *const sum_cols[] = {
		N_("EIRs"), N_("green"), N_("amber"), N_("red"), N_("used"), N_("stored"),
		N_("dedup ratio"), N_("expected"), N_("arrived"), N_("late"), N_("missed"),
		N_("failed verifications"), N_("restores overdue"), N_("holds"), N_("holds expiring"),
	};
	for (size_t c = 0; c < sizeof(sum_cols) / sizeof(sum_cols[0]); c++)
		fprintf(f, "<th>%s</th>", _(sum_cols[c]));
	fputs("</tr><tr>", f);
	td_u(f, "eirs", s->eirs);
	td_u(f, "green", s->green);
	td_u(f, "amber", s->amber);
	td_u(f, "red", s->red);
	td_size(f, "used", s->used);
	td_size(f, "stored", s->stored);
	td_f(f, "ratio", s->ratio, 2, s->ratio > 0);
	td_u(f, "expected", s->expected);
	td_u(f, "arrived", s->arrived);
	td_u(f, "late", s->late);
	td_u(f, "missed", s->missed);
	td_u(f, "failed_verifications", s->failed_verifications);
	td_u(f, "restore_overdue", s->restore_overdue);
	td_u(f, "holds_active", s->holds_active);
	td_u(f, "holds_expiring", s->holds_expiring);
	fputs("</tr></table>\n<div class=\"charts\">", f);
	html_bars(f, "chart-transfers", s->days, nd);
	html_usage(f, "chart-usage", s->usage, nd, r->from, r->to, s->quota);
	fprintf(f, "</div><p class=\"legend muted\"><span style=\"color:#2e7d32\">&#9632; %s</span>"
	           "<span style=\"color:#f9a825\">&#9632; %s</span>"
	           "<span style=\"color:#c62828\">&#9632; %s</span>"
	           "<span style=\"color:#616161\">&#9633; %s</span>"
	           "<span style=\"color:#1565c0\">&#9644; %s</span></p>\n",
	        _("arrived on time"), _("late"), _("missed"), _("expected"), _("used"));

	/* Every EIR, one row. */
	fprintf(f, "<h2>%s</h2><table id=\"eirs\"><tr>", _("EIRs"));
	static const char *const cols[] = {
		N_("light"), N_("name"), N_("class"), N_("mode"), N_("state"), N_("used"),
		N_("quota %"), N_("dedup ratio"), N_("expected"), N_("arrived"), N_("late"),
		N_("missed"), N_("failed verifications"), N_("last test restore"), N_("next due"),
		N_("restore"), N_("holds"), N_("holds expiring"), N_("reasons"),
	};
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		fprintf(f, "<th>%s</th>", _(cols[c]));
	fputs("</tr>\n", f);
	for (size_t i = 0; i < r->n; i++) {
		const struct enrp_report_eir *e = &r->eirs[i];
		struct restore_view rv;
		restore_view(e, &rv);
		reasons_text(e->reasons, true, ", ", reasons, sizeof(reasons));
		fputs("<tr data-eir=\"", f);
		html_text(f, e->eir.name);
		fputs("\"><td>", f);
		html_light(f, e->light);
		fputs("</td>", f);
		td_s(f, "name", e->eir.name);
		td_u(f, "class", e->eir.eir_class);
		td_s(f, "mode", enrp_mode_name(e->eir.mode));
		td_s(f, "state", enrp_state_name(e->eir.state));
		td_size(f, "used", e->have_usage ? e->usage.bytes : 0);
		td_f(f, "quota_used_percent", e->quota_pct, 1, e->quota_pct >= 0);
		td_f(f, "ratio", e->ratio, 2, e->ratio > 0);
		td_u(f, "expected", e->expected);
		td_u(f, "arrived", e->arrived);
		td_u(f, "late", e->late);
		td_u(f, "missed", e->missed);
		td_u(f, "failed_verifications", e->failed_verifications);
		td_s(f, "last_pass", rv.last_pass);
		td_s(f, "due", rv.due);
		td_s(f, "standing", rv.standing);
		td_u(f, "holds_active", e->holds_active);
		td_u(f, "holds_expiring", e->holds_expiring);
		td_s(f, "reasons", reasons[0] ? reasons : NULL);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);

	/* Each EIR's charts and the texts behind its standing. */
	for (size_t i = 0; i < r->n; i++) {
		const struct enrp_report_eir *e = &r->eirs[i];
		fputs("<div class=\"eir\"><h2>", f);
		html_light(f, e->light);
		fputs(" ", f);
		html_text(f, e->eir.name);
		fputs("</h2><p class=\"muted\">", f);
		fprintf(f, "%s: ", _("schedule"));
		html_text(f, e->schedule[0] ? e->schedule : _("none"));
		fprintf(f, "; %s: ", _("retention"));
		html_text(f, e->retention[0] ? e->retention : _("none"));
		if (e->eir.state_reason[0]) {
			fprintf(f, "; %s: ", _("state reason"));
			html_text(f, e->eir.state_reason);
		}
		if (e->next_hold) {
			time_iso(e->next_hold->until, t);
			fprintf(f, "; %s %s: ", _("next hold ends"), t);
			html_text(f, e->next_hold->reason);
		}
		/* Reserved for the destruction record (issue 11 item 5). */
		if (e->destroyed.have) {
			char sz[SIZE_BUF];
			time_iso(e->destroyed.when_ns, t);
			size_human(e->destroyed.bytes, sz);
			fprintf(f, "; %s %s (", _("destroyed"), t);
			fprintf(f, _("%" PRIu64 " files, %s"), e->destroyed.files, sz);
			fputs("), ", f);
			html_text(f, e->destroyed.requested_by);
			fputs(" / ", f);
			html_text(f, e->destroyed.approved_by);
		}
		fputs("</p><div class=\"charts\">", f);
		snprintf(id, sizeof(id), "transfers-%s", e->eir.name);
		html_bars(f, id, e->days, nd);
		snprintf(id, sizeof(id), "usage-%s", e->eir.name);
		html_usage(f, id, e->samples, e->nsamples, r->from, r->to, e->eir.quota);
		fputs("</div></div>\n", f);
	}
	fputs("</body></html>\n", f);
	if (to_stdout)
		return fflush(f) != 0 || ferror(f) ? -EIO : 0;
	if (ferror(f) | fclose(f))
		return -EIO;
	return 0;
}

/* --- the command --------------------------------------------------------- */

int cmd_report(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "csv", no_argument, NULL, 'c' },
		{ "html", required_argument, NULL, 'H' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	const char *from_s = NULL, *to_s = NULL, *html = NULL;
	bool csv = false;
	enrp_day from, to;
	enrp_tz *tz = NULL;
	struct enrp_report *r = NULL;
	struct ctl_today now;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': from_s = optarg; continue;
		case 't': to_s = optarg; continue;
		case 'c': csv = true; continue;
		case 'H': html = optarg; continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &report_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &report_help, "unexpected argument '%s'", argv[optind]);
	if ((ctl->json) + csv + (html != NULL) > 1)
		return ctl_usage_error(ctl, &report_help, "--json, --csv and --html exclude each other");
	if (html && !*html)
		return ctl_usage_error(ctl, &report_help, "--html needs a file name");
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	if ((rc = ctl_platform_today(ctl, &now)) != CTL_OK)
		return rc;
	/* The platform clock (never behind what the store has seen). */
	if ((rc = enrp_platform_now(ctl->store, &now.now_ns)) < 0) {
		ctl_err("cannot read the platform clock of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	if ((rc = enrp_tz_open(now.zone, &tz)) < 0) {
		ctl_err("cannot load the platform's time zone '%s': %s", now.zone, enrp_strerror(rc));
		ctl_hint("install tzdata, or choose another zone ('enrpctl calendar zone ZONE')");
		return CTL_FAIL;
	}
	now.today = enrp_day_of(now.now_ns, enrp_tz_offset(tz, now.now_ns / NS));
	to = now.today;
	if (to_s && (rc = ctl_parse_day(ctl, &report_help, "--to", to_s, &to)) != CTL_CONTINUE)
		goto out;
	from = to - (DEFAULT_DAYS - 1);
	if (from_s && (rc = ctl_parse_day(ctl, &report_help, "--from", from_s, &from)) != CTL_CONTINUE)
		goto out;
	if (to < from) {
		char a[ENRP_DAY_BUF], b[ENRP_DAY_BUF];
		day_text(to, a);
		day_text(from, b);
		rc = ctl_usage_error(ctl, &report_help, "--to %s is before --from %s", a, b);
		goto out;
	}
	if ((int64_t)to - from + 1 > ENRP_REPORT_DAYS_MAX) {
		rc = ctl_usage_error(ctl, &report_help, "a report covers at most %d days",
		                     ENRP_REPORT_DAYS_MAX);
		goto out;
	}

	unsigned written;
	rc = enrp_usage_sample_today(ctl->store, now.today, &written);
	if (rc < 0)
		ctl_warn("cannot write today's usage samples: %s", enrp_strerror(rc));

	rc = enrp_report_build(ctl->store, tz, from, to, now.now_ns / NS, now.today, &r);
	if (rc < 0) {
		ctl_err("cannot build the report of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		if (rc == -E2BIG)
			ctl_hint("choose a shorter period (--from, --to)");
		rc = CTL_FAIL;
		goto out;
	}
	rc = CTL_OK;
	if (ctl->json) {
		print_json(r);
	} else if (csv) {
		if (print_csv(r) < 0) {
			ctl_err("out of memory");
			rc = CTL_FAIL;
		}
	} else if (html) {
		int err = print_html(r, html);
		if (err < 0) {
			ctl_err("cannot write '%s': %s", html, enrp_strerror(err));
			rc = CTL_FAIL;
		}
	} else {
		print_text(r);
	}
out:
	enrp_report_free(r);
	enrp_tz_free(tz);
	return rc;
}
