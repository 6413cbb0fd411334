/*
 * schedule.c — reading and printing schedule rules (schedule.h gives the
 * grammar).  A rule is split into blank-separated words first; each
 * position then has one meaning, so every error can say which word is
 * wrong and what was expected there.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <enrp/i18n.h>
#include <enrp/schedule.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define WORDS_MAX 4
#define WORD_MAX 96

static const char *const type_names[] = {
	[ENRP_BACKUP_FULL] = "full",
	[ENRP_BACKUP_INCREMENTAL] = "incremental",
	[ENRP_BACKUP_DIFFERENTIAL] = "differential",
};

static const char *const period_names[] = {
	[ENRP_SCHED_DAILY] = "daily",     [ENRP_SCHED_WEEKLY] = "weekly",
	[ENRP_SCHED_MONTHLY] = "monthly", [ENRP_SCHED_QUARTERLY] = "quarterly",
	[ENRP_SCHED_YEARLY] = "yearly",
};

static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

const char *enrp_backup_type_name(enum enrp_backup_type t)
{
	return (unsigned)t < NELEM(type_names) ? type_names[t] : "?";
}

int enrp_backup_type_parse(const char *s, enum enrp_backup_type *out)
{
	for (unsigned i = 0; i < NELEM(type_names); i++) {
		if (strcmp(s, type_names[i]) == 0) {
			*out = (enum enrp_backup_type)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int fail(char *err, size_t errsz, unsigned rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsz, unsigned rule, const char *fmt, ...)
{
	if (err && errsz) {
		int n = snprintf(err, errsz, _("rule %u: "), rule);
		va_list ap;
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < errsz)
			vsnprintf(err + n, errsz - (size_t)n, _(fmt), ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int day_parse(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (strcmp(s, day_names[i]) == 0)
			return i;
	return -1;
}

static bool time_parse(const char *s, uint8_t *h, uint8_t *m)
{
	if (strlen(s) != 5 || s[2] != ':')
		return false;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return false;
	int hh = (s[0] - '0') * 10 + (s[1] - '0'), mm = (s[3] - '0') * 10 + (s[4] - '0');
	if (hh > 23 || mm > 59)
		return false;
	*h = (uint8_t)hh;
	*m = (uint8_t)mm;
	return true;
}

/* One rule of LEN bytes at S. */
static int rule_parse(const char *s, size_t len, unsigned no, struct enrp_schedule_rule *r,
                      char *err, size_t errsz)
{
	char w[WORDS_MAX][WORD_MAX];
	unsigned nw = 0;
	size_t i = 0;

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= len)
			break;
		size_t st = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		if (nw == WORDS_MAX)
			return fail(err, errsz, no, N_("too many words (a rule is PERIOD [DAYS] HH:MM TYPE)"));
		if (i - st >= WORD_MAX)
			return fail(err, errsz, no, N_("word too long"));
		memcpy(w[nw], s + st, i - st);
		w[nw++][i - st] = '\0';
	}
	if (nw == 0)
		return fail(err, errsz, no, N_("empty rule"));
	int period = -1;
	for (unsigned k = 0; k < NELEM(period_names); k++)
		if (strcmp(w[0], period_names[k]) == 0)
			period = (int)k;
	if (period < 0)
		return fail(err, errsz, no,
		            N_("unknown period '%s' (daily, weekly, monthly, quarterly or yearly)"), w[0]);
	r->period = (enum enrp_schedule_period)period;
	r->days = 0;
	if (nw == 1 && period != ENRP_SCHED_WEEKLY) {
		/* The rules' default table (schedule.h). */
		static const int first_day[] = { [ENRP_SCHED_MONTHLY] = 4, [ENRP_SCHED_QUARTERLY] = 5,
		                                 [ENRP_SCHED_YEARLY] = 5 };
		if (period != ENRP_SCHED_DAILY)
			r->days = (uint8_t)(1u << first_day[period]);
		r->hour = ENRP_SCHEDULE_DEFAULT_HOUR;
		r->minute = 0;
		r->type = ENRP_BACKUP_FULL;
		return 0;
	}
	unsigned want = period == ENRP_SCHED_DAILY ? 3 : 4;
	if (nw != want)
		return fail(err, errsz, no, period == ENRP_SCHED_DAILY
		            ? N_("expected 'daily HH:MM TYPE'")
		            : period == ENRP_SCHED_WEEKLY ? N_("expected 'weekly DAY[,DAY...] HH:MM TYPE'")
		                                          : N_("expected '%s first-DAY HH:MM TYPE'"),
		            period_names[period]);
	if (period == ENRP_SCHED_WEEKLY) {
		char *save = NULL, list[WORD_MAX];
		memcpy(list, w[1], sizeof(list));
		if (!list[0] || list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
			return fail(err, errsz, no, N_("bad day list '%s' (e.g. mon,wed,fri)"), w[1]);
		for (char *d = strtok_r(list, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
			int k = day_parse(d);
			if (k < 0)
				return fail(err, errsz, no, N_("unknown day '%s' (mon..sun)"), d);
			if (r->days & (1u << k))
				return fail(err, errsz, no, N_("day '%s' named twice"), d);
			r->days |= (uint8_t)(1u << k);
		}
	} else if (period != ENRP_SCHED_DAILY) {
		int k = strncmp(w[1], "first-", 6) == 0 ? day_parse(w[1] + 6) : -1;
		if (k < 0)
			return fail(err, errsz, no, N_("expected first-DAY (e.g. first-fri), not '%s'"), w[1]);
		r->days = (uint8_t)(1u << k);
	}
	if (!time_parse(w[want - 2], &r->hour, &r->minute))
		return fail(err, errsz, no, N_("bad time '%s' (HH:MM, 00:00 to 23:59)"), w[want - 2]);
	if (enrp_backup_type_parse(w[want - 1], &r->type))
		return fail(err, errsz, no, N_("unknown backup type '%s' (full, incremental or "
		            "differential)"), w[want - 1]);
	return 0;
}

int enrp_schedule_parse(const char *s, struct enrp_schedule *out, char *err, size_t errsz)
{
	struct enrp_schedule sch = { 0 };
	size_t len = strlen(s);

	if (err && errsz)
		err[0] = '\0';
	if (len > ENRP_SCHEDULE_TEXT_MAX)
		return fail(err, errsz, 1, N_("schedule longer than %d bytes"), ENRP_SCHEDULE_TEXT_MAX);
	if (strspn(s, " \t") == len) {
		*out = sch;
		return 0;
	}
	for (const char *p = s;;) {
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);
		if (sch.n == ENRP_SCHEDULE_RULES_MAX)
			return fail(err, errsz, sch.n + 1, N_("more than %d rules"),
			            ENRP_SCHEDULE_RULES_MAX);
		int rc = rule_parse(p, n, sch.n + 1, &sch.rule[sch.n], err, errsz);
		if (rc)
			return rc;
		sch.n++;
		if (!semi)
			break;
		p = semi + 1;
	}
	*out = sch;
	return 0;
}

void enrp_schedule_format(const struct enrp_schedule *s, char *buf, size_t bufsz)
{
	size_t len = 0;

	if (bufsz)
		buf[0] = '\0';
	for (unsigned i = 0; i < s->n && len < bufsz; i++) {
		const struct enrp_schedule_rule *r = &s->rule[i];
		char days[40] = "";
		if (r->period == ENRP_SCHED_WEEKLY) {
			for (int k = 0; k < 7; k++)
				if (r->days & (1u << k))
					snprintf(days + strlen(days), sizeof(days) - strlen(days), "%s%s",
					         days[0] ? "," : "", day_names[k]);
		} else if (r->period != ENRP_SCHED_DAILY) {
			for (int k = 0; k < 7; k++)
				if (r->days & (1u << k))
					snprintf(days, sizeof(days), "first-%s", day_names[k]);
		}
		int n = snprintf(buf + len, bufsz - len, "%s%s%s%s %02u:%02u %s", i ? "; " : "",
		                 (unsigned)r->period < NELEM(period_names) ? period_names[r->period] : "?",
		                 days[0] ? " " : "", days, r->hour, r->minute,
		                 enrp_backup_type_name(r->type));
		if (n < 0)
			break;
		len += (size_t)n;
	}
}
