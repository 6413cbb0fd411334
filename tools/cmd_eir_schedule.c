/*
 * cmd_eir_schedule.c — enrpctl eir schedule: the slots of an EIR's schedule
 * in the platform's zone, the next ones or those of a period with whether
 * each was met, late or missed (transfer.h gives the definitions).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/calendar.h>
#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/transfer.h>
#include <enrp/units.h>

#include "ctl.h"

#define NS 1000000000LL
#define NEXT_DEFAULT 5
#define NEXT_MAX 1000

static const struct ctl_help schedule_help = {
	"enrpctl eir schedule NAME [--next N] [--from DATE [--to DATE]] [--json]",
	N_("Shows the slots of the schedule of the EIR NAME: the moments a transfer\n"
	"is expected, in the platform's time zone ('enrpctl calendar zone') and in\n"
	"UTC, each with its backup type and the end of its window ('eir set\n"
	"--window').  Without --from, the next N slots from now; with --from, the\n"
	"slots starting in [--from, --to) (--to: now) and what became of each: met\n"
	"(a file verified in its window), late (the first file after the window,\n"
	"before the next slot), missed, or pending (its window still open).\n"
	"Slots before the schedule was set are not owed and not shown.\n"
	"\n"
	"Options:\n"
	"  --next N           how many slots to show (1 to 1000, default 5)\n"
	"  --from DATE        show a period's slots from DATE (2027-01-01, or\n"
	"                     2027-01-01T10:00 in the platform's zone, ...Z in UTC)\n"
	"  --to DATE          ... up to DATE (default: now)\n"
	"  --json             print a JSON array\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* "2027-01-04 23:00 +05:00" (or +05:45): local time and its offset. */
static void local_text(const enrp_tz *tz, int64_t t, char *buf, size_t n)
{
	struct enrp_civil c;
	enrp_tz_civil(tz, t, &c);
	int32_t off = c.utc_offset < 0 ? -c.utc_offset : c.utc_offset;
	snprintf(buf, n, "%04d-%02d-%02d %02d:%02d %c%02d:%02d", c.year, c.month, c.day, c.hour,
	         c.minute, c.utc_offset < 0 ? '-' : '+', (int)(off / 3600), (int)(off % 3600 / 60));
}

static void utc_text(int64_t t, char *buf, size_t n)
{
	enrp_time_format(t * NS, buf, n);
}

static const char *const headers_next[] = { "LOCAL", "UTC", "TYPE", "WINDOW-END" };
static const char *const headers_past[] = { "LOCAL", "UTC", "TYPE", "WINDOW-END", "STATUS",
	                                    "VERIFIED" };

static void row(struct listing *l, const enrp_tz *tz, const struct enrp_slot *s,
                const struct enrp_slot_report *r)
{
	char local[48], utc[40], wend[48], verified[40] = "-";
	local_text(tz, s->start, local, sizeof(local));
	utc_text(s->start, utc, sizeof(utc));
	local_text(tz, s->window_end, wend, sizeof(wend));
	if (r && r->verified)
		utc_text(r->verified, verified, sizeof(verified));
	if (l->json) {
		char wend_utc[40];
		utc_text(s->window_end, wend_utc, sizeof(wend_utc));
		json_object_begin(l->json);
		json_kv_str(l->json, "start", utc);
		json_kv_str(l->json, "start_local", local);
		json_kv_str(l->json, "type", enrp_backup_type_name(s->type));
		json_kv_u64(l->json, "rule", s->rule + 1);
		json_kv_str(l->json, "window_end", wend_utc);
		json_kv_str(l->json, "window_end_local", wend);
		if (r) {
			json_kv_str(l->json, "status", enrp_slot_status_name(r->status));
			json_kv_str(l->json, "verified", r->verified ? verified : NULL);
		}
		json_object_end(l->json);
		return;
	}
	table_row(l->t);
	table_cell(l->t, "%s", local);
	table_cell(l->t, "%s", utc);
	table_cell(l->t, "%s", enrp_backup_type_name(s->type));
	table_cell(l->t, "%s", wend);
	if (r) {
		table_cell(l->t, "%s", enrp_slot_status_name(r->status));
		table_cell(l->t, "%s", verified);
	}
}

static int parse_date(struct ctl *ctl, const char *opt, const char *s, const enrp_tz *tz,
                      int64_t *out)
{
	char err[160] = "";
	int64_t ns;
	if (enrp_date_parse(s, tz, &ns, err, sizeof(err)))
		return ctl_usage_error(ctl, &schedule_help, "invalid %s '%s': %s", opt, s, err);
	*out = ns / NS;
	return CTL_CONTINUE;
}

static int show_next(struct ctl *ctl, const char *name, const struct enrp_transfer_plan *p,
                     const enrp_tz *tz, int64_t now, long next)
{
	struct listing l;
	struct enrp_slot s;
	int64_t at = now > p->since ? now : p->since;
	int rc = 0;

	listing_begin(&l, ctl->json, 4, headers_next);
	for (long i = 0; i < next && (rc = enrp_slot_next(&p->schedule, tz, p->window, at, &s)) == 0;
	     i++) {
		row(&l, tz, &s, NULL);
		at = s.next_start;
	}
	listing_end(&l, rc == 0);
	if (rc) {
		ctl_err("cannot compute the slots of EIR '%s': %s", name, enrp_strerror(rc));
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int show_period(struct ctl *ctl, const char *name, const enrp_tz *tz, int64_t from,
                       int64_t to, int64_t now)
{
	struct enrp_slot_report *r;
	struct listing l;
	size_t n;
	int rc = enrp_transfer_slots(ctl->store, name, tz, from, to, now, &r, &n);

	if (rc == -E2BIG) {
		ctl_err("too many slots between --from and --to for EIR '%s' (more than %d)", name,
		        ENRP_TRANSFER_SLOTS_MAX);
		ctl_hint("ask for a shorter period");
		return CTL_FAIL;
	}
	if (rc)
		return ctl_eir_error("read the slots of", name, rc);
	listing_begin(&l, ctl->json, 6, headers_past);
	for (size_t i = 0; i < n; i++)
		row(&l, tz, &r[i].slot, &r[i]);
	listing_end(&l, true);
	free(r);
	return CTL_OK;
}

int cmd_eir_schedule(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "next", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "to",   required_argument, NULL, 't' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	const char *from_s = NULL, *to_s = NULL, *name;
	char zone[ENRP_ZONE_MAX + 1];
	struct enrp_transfer_plan plan;
	enrp_tz *tz = NULL;
	long next = NEXT_DEFAULT;
	int64_t now_ns, from = 0, to = 0;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'n') {
			char *end;
			errno = 0;
			next = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || next < 1 || next > NEXT_MAX)
				return ctl_usage_error(ctl, &schedule_help, "--next '%s' is not a number "
				                       "from 1 to %d", optarg, NEXT_MAX);
			continue;
		}
		if (c == 'f' || c == 't') {
			*(c == 'f' ? &from_s : &to_s) = optarg;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &schedule_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, &schedule_help, "no EIR name given");
	if (optind + 1 < argc)
		return ctl_usage_error(ctl, &schedule_help, "too many arguments");
	name = argv[optind];
	if (to_s && !from_s)
		return ctl_usage_error(ctl, &schedule_help, "--to needs --from");
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	if ((rc = enrp_transfer_plan_get(ctl->store, name, &plan)) < 0)
		return ctl_eir_error("read", name, rc);
	if ((rc = enrp_calendar_zone(ctl->store, zone)) < 0) {
		ctl_err("cannot read the calendar of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("run 'enrpctl fsck' to check the store");
		return CTL_FAIL;
	}
	if ((rc = enrp_tz_open(zone, &tz)) < 0) {
		ctl_err("cannot load the platform's time zone '%s': %s", zone, enrp_strerror(rc));
		ctl_hint("install tzdata, or choose another zone ('enrpctl calendar zone ZONE')");
		return CTL_FAIL;
	}
	if ((rc = enrp_platform_now(ctl->store, &now_ns)) < 0) {
		ctl_err("cannot read the platform clock of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		rc = CTL_FAIL;
		goto out_tz;
	}
	to = now_ns / NS;
	if (from_s && (rc = parse_date(ctl, "--from", from_s, tz, &from)) != CTL_CONTINUE)
		goto out_tz;
	if (to_s && (rc = parse_date(ctl, "--to", to_s, tz, &to)) != CTL_CONTINUE)
		goto out_tz;
	if (plan.schedule.n == 0) {
		ctl_err("EIR '%s' has no schedule", name);
		ctl_hint("set one with 'enrpctl eir set %s --schedule RULES' (e.g. daily)", name);
		rc = CTL_FAIL;
		goto out_tz;
	}
	rc = from_s ? show_period(ctl, name, tz, from, to, now_ns / NS)
	            : show_next(ctl, name, &plan, tz, now_ns / NS, next);
out_tz:
	enrp_tz_free(tz);
	return rc;
}
