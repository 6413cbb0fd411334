/*
 * cmd_calendar.c — `enrpctl calendar VERB`: the platform's calendar, which
 * the test-restore rules count working days in (core/calendar.c).
 *
 *   holiday add DATE [--note TEXT]     holiday remove DATE
 *   holiday list [--json]              zone [ZONE] [--json]
 *
 * Also the one place enrpctl turns the platform's zone into "today": the
 * zone's name is converted with the host's tz database (TZ=:ZONE, as
 * localtime(3) reads it), which enrpctl, a single-threaded program, may
 * do and libenrp, which runs under the daemon's threads, may not.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <enrp/calendar.h>
#include <enrp/enrp.h>

#include "ctl.h"

static const struct ctl_help calendar_help = {
	"enrpctl [-S STORE] calendar VERB [OPTIONS]",
	N_("The platform's calendar: the holidays and the time zone in which working\n"
	"days are counted (Monday to Friday, minus the holidays).  A test restore\n"
	"must be planned at least 3 working days ahead ('restore-test plan').\n"
	"Every change is journalled.\n"),
};

static const struct ctl_help holiday_help = {
	"enrpctl calendar holiday add DATE [--note TEXT] | remove DATE | list [--json]",
	N_("Adds, removes or lists the platform's holidays: dates (YYYY-MM-DD, in the\n"
	"platform's zone) that are not working days even on a weekday.  A holiday\n"
	"that falls on a weekend changes nothing.  add refuses a date that is a\n"
	"holiday already, remove one that is not (exit 1).  A holiday added after a\n"
	"plan was accepted does not undo the plan.\n"
	"\n"
	"Options:\n"
	"  --note TEXT        what the holiday is (add; at most 255 bytes)\n"
	"  --json             print the list as a JSON array (list)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help zone_help = {
	"enrpctl calendar zone [ZONE] [--json]",
	N_("Without ZONE, prints the platform's time zone, its offset from UTC now and\n"
	"today's date there.  With ZONE (a name of the host's tz database, e.g.\n"
	"Asia/Almaty, the default, or UTC), makes it the platform's zone: the dates\n"
	"of plans, records, holidays and due dates are that zone's dates.\n"
	"\n"
	"Options:\n"
	"  --json             print zone, offset and today as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* --- the platform's date -------------------------------------------------- */

int ctl_zone_known(const char *zone)
{
	if (!enrp_zone_name_valid(zone))
		return -EINVAL;
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	ssize_t n = read(fd, magic, sizeof(magic));
	close(fd);
	/* A directory (Asia) or any other file is no zone. */
	return n == 4 && !memcmp(magic, "TZif", 4) ? 0 : -ENOENT;
}

int ctl_zone_offset(const char *zone, int64_t ns, int32_t *offset_s)
{
	char tz[ENRP_ZONE_MAX + 2];
	int rc = ctl_zone_known(zone);
	if (rc)
		return rc;
	/* ':' asks for the file, never a POSIX rule spelt like a name. */
	snprintf(tz, sizeof(tz), ":%s", zone);
	if (setenv("TZ", tz, 1))
		return -errno;
	tzset();
	time_t t = (time_t)(ns / 1000000000LL);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return -EOVERFLOW;
	*offset_s = (int32_t)tm.tm_gmtoff;
	return 0;
}

static void zone_error(const char *zone, int err)
{
	if (err == -EINVAL) {
		ctl_err("invalid time zone name '%s'", zone);
		ctl_hint("a zone is a name of the tz database such as Asia/Almaty or UTC");
	} else {
		ctl_err("time zone '%s' is not in this host's tz database: %s", zone,
		        enrp_strerror(err));
		ctl_hint("install tzdata, or choose a zone listed under /usr/share/zoneinfo "
		         "('enrpctl calendar zone ZONE')");
	}
}

int ctl_platform_today(struct ctl *ctl, struct ctl_today *out)
{
	int rc = enrp_calendar_zone(ctl->store, out->zone);
	if (rc) {
		ctl_err("cannot read the calendar of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("run 'enrpctl fsck' to check the store");
		return CTL_FAIL;
	}
	out->now_ns = enrp_now_ns();
	rc = ctl_zone_offset(out->zone, out->now_ns, &out->offset_s);
	if (rc) {
		zone_error(out->zone, rc);
		return CTL_FAIL;
	}
	out->today = enrp_day_of(out->now_ns, out->offset_s);
	return CTL_OK;
}

/* A DATE operand: YYYY-MM-DD or a usage error. */
int ctl_parse_day(struct ctl *ctl, const struct ctl_help *help, const char *what, const char *s,
                  enrp_day *out)
{
	if (enrp_day_parse(s, out) == 0)
		return CTL_CONTINUE;
	return ctl_usage_error(ctl, help, "invalid %s '%s': expected a date YYYY-MM-DD (%d-%d)",
	                       what, s, ENRP_YEAR_MIN, ENRP_YEAR_MAX);
}

/* --- holiday ------------------------------------------------------------- */

static int holiday_list(struct ctl *ctl)
{
	struct enrp_holiday *h;
	size_t n;
	int rc = enrp_calendar_holidays(ctl->store, &h, &n);
	if (rc) {
		ctl_err("cannot list the holidays of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("run 'enrpctl fsck' to check the store");
		return CTL_FAIL;
	}
	char date[ENRP_DAY_BUF];
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++) {
			enrp_day_format(h[i].day, date);
			json_object_begin(&j);
			json_kv_str(&j, "date", date);
			json_kv_str(&j, "note", h[i].note);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_finish(&j);
	} else {
		static const char *const headers[] = { "DATE", "NOTE" };
		struct table *t = table_new(2, headers);
		for (size_t i = 0; i < n; i++) {
			enrp_day_format(h[i].day, date);
			table_row(t);
			table_cell(t, "%s", date);
			table_cell(t, "%s", h[i].note);
		}
		table_print(t, stdout);
		table_free(t);
	}
	free(h);
	return CTL_OK;
}

static int calendar_holiday(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "note", required_argument, NULL, 'n' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	const char *note = NULL;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'n') {
			note = optarg;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &holiday_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, &holiday_help, "'holiday' needs add, remove or list");
	const char *action = argv[optind++];
	bool add = !strcmp(action, "add"), remove = !strcmp(action, "remove");
	if (!add && !remove && strcmp(action, "list"))
		return ctl_usage_error(ctl, &holiday_help, "'%s' is not add, remove or list", action);
	snprintf(ctl->command, sizeof(ctl->command), "enrpctl calendar holiday %s", action);
	if (!add && !remove) {
		if (optind < argc)
			return ctl_usage_error(ctl, &holiday_help, "too many arguments");
		if (note)
			return ctl_usage_error(ctl, &holiday_help, "--note goes with add only");
		ctl->need = NEED_STORE_RO;
		rc = ctl_open_store(ctl);
		return rc != CTL_OK ? rc : holiday_list(ctl);
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, &holiday_help, "'holiday %s' needs a DATE", action);
	const char *spelling = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, &holiday_help, "too many arguments");
	if (remove && note)
		return ctl_usage_error(ctl, &holiday_help, "--note goes with add only");
	if (note && strlen(note) > ENRP_CALENDAR_NOTE_MAX)
		return ctl_usage_error(ctl, &holiday_help, "the note is longer than %d bytes",
		                       ENRP_CALENDAR_NOTE_MAX);
	enrp_day day;
	rc = ctl_parse_day(ctl, &holiday_help, "date", spelling, &day);
	if (rc != CTL_CONTINUE)
		return rc;
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;

	char date[ENRP_DAY_BUF];
	enrp_day_format(day, date);
	rc = add ? enrp_calendar_holiday_add(ctl->store, day, note, &ctl->actor)
	         : enrp_calendar_holiday_remove(ctl->store, day, &ctl->actor);
	if (rc == -EEXIST) {
		ctl_err("%s is a holiday already", date);
		ctl_hint("'enrpctl calendar holiday list' shows the holidays; remove it first to "
		         "change its note");
		return CTL_FAIL;
	}
	if (rc == -ENOENT) {
		ctl_err("%s is not a holiday", date);
		ctl_hint("'enrpctl calendar holiday list' shows the holidays");
		return CTL_FAIL;
	}
	if (rc) {
		ctl_err("cannot %s holiday %s: %s", action, date, enrp_strerror(rc));
		ctl_hint("nothing was changed; see the messages above, if any");
		return CTL_FAIL;
	}
	if (add)
		ctl_line(stdout, "added holiday %s", date);
	else
		ctl_line(stdout, "removed holiday %s", date);
	return CTL_OK;
}

/* --- zone ---------------------------------------------------------------- */

static int calendar_zone(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, &zone_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	const char *zone = optind < argc ? argv[optind++] : NULL;
	if (optind < argc)
		return ctl_usage_error(ctl, &zone_help, "too many arguments");
	if (zone) {
		rc = ctl_zone_known(zone);
		if (rc == -EINVAL)
			return ctl_usage_error(ctl, &zone_help, "invalid time zone name '%s'", zone);
		if (rc) {
			zone_error(zone, rc);
			return CTL_FAIL;
		}
	} else {
		ctl->need = NEED_STORE_RO;
	}
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	if (zone) {
		rc = enrp_calendar_zone_set(ctl->store, zone, &ctl->actor);
		if (rc == -EALREADY) {
			ctl_line(stdout, "the platform's zone is %s already", zone);
			return CTL_OK;
		}
		if (rc) {
			ctl_err("cannot set the platform's zone to '%s': %s", zone, enrp_strerror(rc));
			ctl_hint("nothing was changed; see the messages above, if any");
			return CTL_FAIL;
		}
		ctl_line(stdout, "the platform's zone is now %s", zone);
		return CTL_OK;
	}

	struct ctl_today now;
	rc = ctl_platform_today(ctl, &now);
	if (rc != CTL_OK)
		return rc;
	char date[ENRP_DAY_BUF];
	enrp_day_format(now.today, date);
	int32_t off = now.offset_s < 0 ? -now.offset_s : now.offset_s;
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_str(&j, "zone", now.zone);
		json_kv_i64(&j, "utc_offset_s", now.offset_s);
		json_kv_str(&j, "today", date);
		json_object_end(&j);
		json_finish(&j);
	} else {
		ctl_line(stdout, "%s (UTC%c%02d:%02d), today %s", now.zone,
		         now.offset_s < 0 ? '-' : '+', (int)(off / 3600), (int)(off % 3600 / 60), date);
	}
	return CTL_OK;
}

static const struct ctl_verb calendar_verbs[] = {
	{ "holiday", calendar_holiday, NEED_STORE_RW, N_("add, remove or list the holidays") },
	{ "zone",    calendar_zone,    NEED_STORE_RW, N_("show or set the platform's time zone") },
};

int cmd_calendar(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "calendar", &calendar_help, calendar_verbs,
	                    sizeof(calendar_verbs) / sizeof(calendar_verbs[0]), argc, argv);
}
