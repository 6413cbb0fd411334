/*
 * schedule.h — the backup schedule of an EIR, in the grammar of DESIGN §8:
 *
 *   daily HH:MM TYPE
 *   weekly DAY[,DAY...] HH:MM TYPE          DAY = mon..sun
 *   monthly|quarterly|yearly first-DAY HH:MM TYPE
 *   TYPE = full | incremental | differential; rules joined with ';'
 *
 * Words are separated by blanks (spaces or tabs, any number); words are
 * lower-case; HH is 00-23 and MM 00-59, two digits each; a weekly list
 * names each day at most once; at most ENRP_SCHEDULE_RULES_MAX rules.
 * An empty text (blanks only) is no schedule.
 *
 * The rules' default table: a rule of the period word alone is that
 * period's default, stored and shown in full:
 *   daily       daily 23:00 full
 *   monthly     monthly first-fri 23:00 full
 *   quarterly   quarterly first-sat 23:00 full
 *   yearly      yearly first-sat 23:00 full
 * The rules name no day for the yearly transfer; the first Saturday of
 * January is the year's first quarterly slot, so a schedule with both asks
 * for one transfer that night, not two.  Weekly has no default (the rules
 * give none): it needs its days.
 *
 * This module only reads and prints rules: which slots they give over the
 * calendar is slots.h's.
 *
 * Pure functions: thread-safe, no allocation.
 */
#ifndef ENRP_SCHEDULE_H
#define ENRP_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#define ENRP_SCHEDULE_RULES_MAX 16
/* Longest schedule text accepted, and room for any canonical one. */
#define ENRP_SCHEDULE_TEXT_MAX 512
#define ENRP_SCHEDULE_ERR_MAX 160
/* The hour of every default rule (23:00). */
#define ENRP_SCHEDULE_DEFAULT_HOUR 23

enum enrp_backup_type {
	ENRP_BACKUP_FULL,
	ENRP_BACKUP_INCREMENTAL,
	ENRP_BACKUP_DIFFERENTIAL,
};

/* "full", "incremental", "differential"; _parse: -EINVAL otherwise. */
const char *enrp_backup_type_name(enum enrp_backup_type t);
int enrp_backup_type_parse(const char *s, enum enrp_backup_type *out);

enum enrp_schedule_period {
	ENRP_SCHED_DAILY,
	ENRP_SCHED_WEEKLY,
	ENRP_SCHED_MONTHLY,
	ENRP_SCHED_QUARTERLY,
	ENRP_SCHED_YEARLY,
};

struct enrp_schedule_rule {
	enum enrp_schedule_period period;
	uint8_t days;     /* weekly: bit 0 = mon .. bit 6 = sun; the others: the one
	                     day of "first-DAY"; daily: 0 */
	uint8_t hour, minute;
	enum enrp_backup_type type;
};

struct enrp_schedule {
	unsigned n;
	struct enrp_schedule_rule rule[ENRP_SCHEDULE_RULES_MAX];
};

/* Parses S.  -EINVAL with ERR (ERRSZ bytes, may be NULL) naming the rule
 * (1-based) and what is wrong in it; OUT is then untouched. */
int enrp_schedule_parse(const char *s, struct enrp_schedule *out, char *err, size_t errsz);

/* The canonical text: one space between words, days in the week's order,
 * rules joined by "; " ("" for none).  BUFSZ of ENRP_SCHEDULE_TEXT_MAX is
 * always enough. */
void enrp_schedule_format(const struct enrp_schedule *s, char *buf, size_t bufsz);

#endif
