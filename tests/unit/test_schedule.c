/*
 * test_schedule.c — the schedule grammar of DESIGN §8: accepted rules and
 * their canonical text, and refusals naming the rule and the word.
 */
#include <errno.h>

#include <enrp/schedule.h>

#include "../tap.h"

static void canon(const char *s, const char *want)
{
	struct enrp_schedule sch;
	char err[ENRP_SCHEDULE_ERR_MAX] = "", buf[ENRP_SCHEDULE_TEXT_MAX];
	int rc = enrp_schedule_parse(s, &sch, err, sizeof(err));
	buf[0] = '\0';
	if (rc == 0)
		enrp_schedule_format(&sch, buf, sizeof(buf));
	ok(rc == 0 && strcmp(buf, want) == 0, "'%s' -> '%s' (rc %d, got '%s', %s)", s, want, rc,
	   buf, err);
}

static void bad(const char *s, const char *want_err)
{
	struct enrp_schedule sch = { .n = 99 };
	char err[ENRP_SCHEDULE_ERR_MAX] = "";
	int rc = enrp_schedule_parse(s, &sch, err, sizeof(err));
	ok(rc == -EINVAL && strstr(err, want_err) && sch.n == 99,
	   "'%s' refused: '%s' (rc %d, err '%s')", s, want_err, rc, err);
}

int main(void)
{
	canon("", "");
	canon("   ", "");
	canon("daily 23:00 full", "daily 23:00 full");
	canon("  daily\t 23:00   incremental ", "daily 23:00 incremental");
	canon("weekly fri,mon 01:30 differential", "weekly mon,fri 01:30 differential");
	canon("daily 23:00 incremental; monthly first-fri 23:00 full;quarterly first-sat 23:00 full;"
	      "yearly first-sat 23:00 full",
	      "daily 23:00 incremental; monthly first-fri 23:00 full; quarterly first-sat 23:00 "
	      "full; yearly first-sat 23:00 full");
	canon("weekly sun 00:00 full", "weekly sun 00:00 full");
	/* The rules' default table. */
	canon("daily", "daily 23:00 full");
	canon(" monthly ", "monthly first-fri 23:00 full");
	canon("quarterly", "quarterly first-sat 23:00 full");
	canon("yearly", "yearly first-sat 23:00 full");
	canon("daily 01:00 incremental; monthly; yearly",
	      "daily 01:00 incremental; monthly first-fri 23:00 full; yearly first-sat 23:00 full");
	bad("weekly", "expected 'weekly DAY");
	bad("daily full", "expected 'daily HH:MM TYPE'");
	bad("monthly first-mon", "expected 'monthly first-DAY HH:MM TYPE'");

	bad("hourly 23:00 full", "rule 1: unknown period 'hourly'");
	bad("daily 24:00 full", "bad time '24:00'");
	bad("daily 9:00 full", "bad time '9:00'");
	bad("daily 23:60 full", "bad time");
	bad("daily 23:00 partial", "unknown backup type 'partial'");
	bad("daily 23:00", "expected 'daily HH:MM TYPE'");
	bad("daily 23:00 full; weekly 23:00 full", "rule 2: expected 'weekly DAY");
	bad("weekly mon,mon 23:00 full", "day 'mon' named twice");
	bad("weekly mon,,tue 23:00 full", "bad day list");
	bad("weekly mon,xyz 23:00 full", "unknown day 'xyz'");
	bad("monthly fri 23:00 full", "expected first-DAY");
	bad("monthly first-funday 23:00 full", "expected first-DAY");
	bad("Daily 23:00 full", "unknown period 'Daily'");
	bad("daily 23:00 full;", "rule 2: empty rule");
	bad("daily 23:00 full extra", "expected 'daily HH:MM TYPE'");
	bad("weekly mon 01:00 full x", "too many words");

	char many[1024] = "";
	for (int i = 0; i < ENRP_SCHEDULE_RULES_MAX + 1; i++)
		strcat(many, i ? ";daily 01:00 full" : "daily 01:00 full");
	bad(many, "more than");

	enum enrp_backup_type t;
	ok(enrp_backup_type_parse("differential", &t) == 0 && t == ENRP_BACKUP_DIFFERENTIAL,
	   "backup type parses");
	is_str(enrp_backup_type_name(ENRP_BACKUP_INCREMENTAL), "incremental", "and prints");
	return done_testing();
}
