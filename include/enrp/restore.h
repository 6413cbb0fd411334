/*
 * restore.h — test restores: the plans operators announce, the records of
 * the restores they performed, and when each EIR's next one is due
 * (DESIGN §6, issue 9 item 3).
 *
 * The regulation wants a copy of every EIR restored for real at intervals
 * set by its class, announced to the owner in advance.  A plan names a
 * date at least ENRP_RESTORE_NOTICE_DAYS working days ahead (calendar.h:
 * Monday to Friday minus the administrator's holidays, in the platform's
 * zone).  A record names the snapshot restored, the result, a note, who
 * and when.  Both are kept in DBI_RESTORE and journalled in the same
 * transaction ("restore-test-planned", "restore-test-recorded"); nothing
 * here changes or removes one once written.
 *
 * A record's snapshot name is checked for its syntax only
 * (enrp_restore_snapshot_name_valid): it may name a snapshot deleted since.
 * When the EIR has that snapshot, its files and bytes go into the journal
 * record (what the drill had to restore); a plan's record carries the
 * notice given, in working days.
 *
 * The rules (enrp_restore_interval_months, enrp_restore_due) are pure
 * functions of their inputs; "today" is always a parameter.
 */
#ifndef ENRP_RESTORE_H
#define ENRP_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/calendar.h>
#include <enrp/eir.h>
#include <enrp/store.h>

#define ENRP_RESTORE_NOTICE_DAYS 3   /* working days' notice a plan needs */
#define ENRP_RESTORE_SOON_DAYS 30    /* `list --due` also shows what is due within this */
#define ENRP_RESTORE_NOTE_MAX 255
#define ENRP_SNAPSHOT_NAME_MAX 63

enum enrp_restore_kind {
	ENRP_RESTORE_PLAN = 1,   /* an announced test restore */
	ENRP_RESTORE_RECORD = 2, /* a performed one, with its result */
};

enum enrp_restore_result {
	ENRP_RESTORE_NONE = 0, /* plans */
	ENRP_RESTORE_PASS = 1,
	ENRP_RESTORE_FAIL = 2,
};

/* Name table: "pass", "fail" ("" for NONE).  _parse: -EINVAL for anything
 * but "pass" and "fail". */
const char *enrp_restore_result_name(enum enrp_restore_result r);
int enrp_restore_result_parse(const char *s, enum enrp_restore_result *out);

/* One plan or record, as callers keep it on the stack. */
struct enrp_restore_entry {
	uint64_t seq;                 /* store-wide, increasing: the order entered */
	uint32_t eir_id;
	enum enrp_restore_kind kind;
	enrp_day day;                 /* plan: the planned date; record: the platform's
	                                 date when it was recorded (the restore's date) */
	int64_t time_ns;              /* when it was entered (UTC, ns) */
	enum enrp_restore_result result; /* records: pass or fail; plans: NONE */
	uint32_t uid, pid;            /* who entered it (struct enrp_actor) */
	char command[64];
	char snapshot[ENRP_SNAPSHOT_NAME_MAX + 1]; /* records: what was restored; plans: "" */
	char note[ENRP_RESTORE_NOTE_MAX + 1];
};

/* Snapshot names: 1..63 bytes of [A-Za-z0-9._-], starting with a letter or
 * digit, and not "latest" (which names no snapshot but "the one taken
 * now").  Syntax only: see the top of this file. */
bool enrp_restore_snapshot_name_valid(const char *name);

/* Months between test restores of an EIR of class EIR_CLASS in MODE;
 * IS_DATABASE says the EIR holds a database (the registry does not know it
 * yet: pass false).  The regulation: "class 1 and databases quarterly
 * except active EIRs, class 2 half-yearly, class 3 yearly".  Read as: class
 * 1 -> 3; a database not in an active EIR -> 3; otherwise class 2 -> 6 and
 * class 3 -> 12 (an active EIR's database falls back to its class).  See
 * docs/design.md, "Test restores", for why.  0 for a class outside 1..3. */
unsigned enrp_restore_interval_months(unsigned eir_class, enum enrp_mode mode, bool is_database);

/* When the next test restore is due: INTERVAL months after the last passed
 * one (LAST_PASS, when HAVE_PASS), else after the EIR was registered
 * (CREATED: the platform's date of its creation).  A failed restore does
 * not count: the copy was not shown to be restorable. */
enrp_day enrp_restore_due(unsigned interval_months, bool have_pass, enrp_day last_pass,
                          enrp_day created);

/* The EIR's standing on TODAY. */
enum enrp_restore_standing {
	ENRP_RESTORE_OK,      /* due later than ENRP_RESTORE_SOON_DAYS from now */
	ENRP_RESTORE_SOON,    /* due within ENRP_RESTORE_SOON_DAYS (today included) */
	ENRP_RESTORE_OVERDUE, /* the due date has passed */
	ENRP_RESTORE_EXEMPT,  /* retired: off the critical list, nothing is due */
};
/* Name table: "ok", "due", "overdue", "exempt". */
const char *enrp_restore_standing_name(enum enrp_restore_standing s);
enum enrp_restore_standing enrp_restore_judge(enrp_day due, enrp_day today);

/* Plans a test restore of EIR NAME on DAY, journalled "restore-test-planned
 * seq=N date=DAY note=NOTE".  TODAY is the platform's date now, NOW_NS the
 * instant (calendar.h: enrp_day_of).  NOTE may be NULL.
 * -ENOENT no such EIR, -EINVAL destroyed EIR or NOTE too long, -ERANGE DAY
 * is fewer than ENRP_RESTORE_NOTICE_DAYS working days after TODAY (nothing
 * is stored: see enrp_restore_earliest), -ENOSPC, -EIO.  *SEQ (if not NULL)
 * receives the plan's seq. */
int enrp_restore_plan(enrp_store *st, const char *name, enrp_day day, const char *note,
                      int64_t now_ns, enrp_day today, const struct enrp_actor *actor,
                      uint64_t *seq);

/* The first date a plan made on TODAY may name (ENRP_RESTORE_NOTICE_DAYS
 * working days after TODAY, with the store's holidays).  -EIO. */
int enrp_restore_earliest(enrp_store *st, enrp_day today, enrp_day *out);

/* Records a performed test restore of EIR NAME from snapshot SNAPSHOT with
 * RESULT (pass or fail) on TODAY at NOW_NS, journalled
 * "restore-test-recorded seq=N snapshot=S result=R note=NOTE".  NOTE may be
 * NULL.  -ENOENT no such EIR, -EINVAL destroyed EIR, bad snapshot name, a
 * RESULT other than pass or fail, or NOTE too long; -ENOSPC, -EIO. */
int enrp_restore_record(enrp_store *st, const char *name, const char *snapshot,
                        enum enrp_restore_result result, const char *note, int64_t now_ns,
                        enrp_day today, const struct enrp_actor *actor, uint64_t *seq);

/* Calls CB for every plan and record of the EIR EIR_ID (0: of every EIR),
 * by EIR id then seq; a non-zero return from CB stops the walk and is
 * returned.  -EIO for a damaged record. */
int enrp_restore_iter(enrp_store *st, uint32_t eir_id,
                      int (*cb)(const struct enrp_restore_entry *e, void *arg), void *arg);

/* Where an EIR stands: what `restore-test list` shows and the compliance
 * report will. */
struct enrp_restore_status {
	struct enrp_eir eir;
	unsigned interval_months;   /* enrp_restore_interval_months */
	bool have_pass;
	struct enrp_restore_entry last_pass;   /* when HAVE_PASS */
	bool have_record;
	struct enrp_restore_entry last_record; /* the latest record, pass or fail */
	enrp_day due;               /* enrp_restore_due (meaningless when EXEMPT) */
	enum enrp_restore_standing standing;
	bool have_plan;
	enrp_day next_plan;         /* the first plan on or after TODAY */
	unsigned plans_ahead;       /* plans on or after TODAY */
};

/* The status of every EIR that is not destroyed, in name order, on TODAY,
 * with UTC_OFFSET_S the zone's current offset (for the EIRs' creation
 * dates), into a new array (*OUT, *N; the caller frees *OUT with free()).
 * -EIO, -ENOMEM. */
int enrp_restore_status_all(enrp_store *st, enrp_day today, int32_t utc_offset_s,
                            struct enrp_restore_status **out, size_t *n);

#endif
