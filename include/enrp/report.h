/*
 * report.h — the compliance report (DESIGN §8, issue 11 item 4): every
 * EIR's standing over a period of platform dates [FROM, TO], and the daily
 * usage samples it draws history from.
 *
 * Daily usage samples.  One small record per EIR per platform day: the
 * bytes charged to its quota, the bytes stored and its regular files, as
 * first seen that day.  Kept in DBI_USAGE under be32(id) + 'D' + be32(day)
 * (25-byte value), beside the usage record and the seal minutes
 * (transfer.h: be32(id) + 'T'), which older binaries never meet since they
 * read only be32(id) and be32(id) + 's' by exact key.  Keys in an existing
 * database, so no store format bump (one would collide with the other
 * work on the store in flight); a new DBI would buy nothing a prefix does
 * not.  Size: ~60 bytes a sample with its key, so 10 years of 500 EIRs is
 * 1.8 million records, ~110 MB: bounded, and cheap to range-read.  Written
 * at most once per platform day per EIR (an existing sample is never
 * overwritten), by the daemon's maintenance thread and by `enrpctl report`
 * when today's is missing, so a store no daemon serves still gets history.
 * Removing them is the destroy's job (the whole be32(id) prefix).
 *
 * Figures.  enrp_report_build reads the facts of each EIR from the store;
 * enrp_report_compute derives every figure from the facts alone (pure: the
 * unit test checks it against hand-computed fixtures).  Definitions
 * (enrpctl(8) REPORT says the same to users):
 *   expected  slots of the EIR's schedule (transfer.h) starting on a date of
 *             the period, not after NOW (slots to come are not owed yet);
 *             not counted for retired or destroyed EIRs
 *   arrived   expected slots met or late (a transfer counted for them)
 *   late      expected slots whose transfer came after the window
 *   missed    expected slots whose window closed with no transfer
 *   pending   expected slots whose window is still open
 *             so expected = arrived + missed + pending, arrived >= late
 *   failed verifications  "chunk-damaged" and "scrub-damage" journal
 *             records of the EIR in the period
 *   holds     active: not expired at NOW; expiring: active and ending
 *             within ENRP_REPORT_SOON_DAYS days of NOW
 * The traffic light: red when any of ENRP_REPORT_RED's reasons holds, else
 * amber when any other reason holds, else green; a destroyed EIR has no
 * light (NONE).
 */
#ifndef ENRP_REPORT_H
#define ENRP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/calendar.h>
#include <enrp/eir.h>
#include <enrp/hold.h>
#include <enrp/restore.h>
#include <enrp/retention.h>
#include <enrp/schedule.h>
#include <enrp/store.h>
#include <enrp/transfer.h>
#include <enrp/tz.h>

/* Holds ending within this many days are "expiring". */
#define ENRP_REPORT_SOON_DAYS 30
/* Quota use that turns the light amber and red, in percent. */
#define ENRP_REPORT_QUOTA_AMBER 90
#define ENRP_REPORT_QUOTA_RED 100
/* The longest period a report covers, in days (ten years). */
#define ENRP_REPORT_DAYS_MAX 3660

/* ---- daily usage samples ---- */

struct enrp_usage_sample {
	enrp_day day;    /* the platform's date */
	uint64_t used;   /* struct enrp_eir_usage.bytes: charged to the quota */
	uint64_t stored; /* struct enrp_eir_usage.stored */
	uint64_t files;  /* regular files: open + pending + verified + corrupt */
};

/* Writes the sample of TODAY for every EIR that is not destroyed and has
 * none yet, in one transaction; *WRITTEN (may be NULL) receives how many.
 * -ENOSPC, -EIO. */
int enrp_usage_sample_today(enrp_store *st, enrp_day today, unsigned *written);

/* The samples of EIR ID dated FROM..TO (inclusive), in date order, into a
 * new array (*OUT, *N; NULL when 0; the caller frees with free()).  -EIO a
 * damaged sample, -ENOMEM. */
int enrp_usage_samples(enrp_store *st, uint32_t id, enrp_day from, enrp_day to,
                       struct enrp_usage_sample **out, size_t *n);

/* ---- the report ---- */

enum enrp_report_light {
	ENRP_LIGHT_GREEN,
	ENRP_LIGHT_AMBER,
	ENRP_LIGHT_RED,
	ENRP_LIGHT_NONE, /* destroyed: nothing to judge */
};
/* "green", "amber", "red", "none". */
const char *enrp_report_light_name(enum enrp_report_light l);

/* Why a light is not green, as flags (several may hold). */
enum enrp_report_reason {
	ENRP_REPORT_MISSED          = 1 << 0, /* red: a missed slot in the period */
	ENRP_REPORT_FAILED_VERIFY   = 1 << 1, /* red: a failed verification in the period */
	ENRP_REPORT_CORRUPT         = 1 << 2, /* red: corrupt files now */
	ENRP_REPORT_RESTORE_OVERDUE = 1 << 3, /* red: the test restore is overdue */
	ENRP_REPORT_QUOTA_FULL      = 1 << 4, /* red: quota use >= QUOTA_RED % */
	ENRP_REPORT_LATE            = 1 << 5, /* amber: a late slot in the period */
	ENRP_REPORT_RESTORE_DUE     = 1 << 6, /* amber: test restore due within 30 days */
	ENRP_REPORT_RESTORE_FAILED  = 1 << 7, /* amber: the latest test restore failed */
	ENRP_REPORT_QUOTA_HIGH      = 1 << 8, /* amber: quota use >= QUOTA_AMBER % */
	ENRP_REPORT_HOLD_EXPIRING   = 1 << 9, /* amber: a hold ends within 30 days */
	ENRP_REPORT_SUSPENDED       = 1 << 10,/* amber: the EIR is suspended */
	ENRP_REPORT_NO_SCHEDULE     = 1 << 11,/* amber: a normal EIR without a schedule */
	ENRP_REPORT_DESTROYED       = 1 << 12,/* no light */
};
#define ENRP_REPORT_RED (ENRP_REPORT_MISSED | ENRP_REPORT_FAILED_VERIFY | ENRP_REPORT_CORRUPT | \
                         ENRP_REPORT_RESTORE_OVERDUE | ENRP_REPORT_QUOTA_FULL)
#define ENRP_REPORT_REASONS 13
/* The reason of flag bit I (0..ENRP_REPORT_REASONS-1) as a stable word
 * ("missed", "failed-verification", ...): what --json and --csv print. */
const char *enrp_report_reason_name(unsigned bit);

/* One slot of an EIR's schedule in the period, with the platform date of
 * its start. */
struct enrp_report_slot {
	enrp_day day;
	int64_t start;                /* seconds since the epoch */
	enum enrp_slot_status status; /* as of the report's NOW */
};

/* Transfers of one day against the schedule. */
struct enrp_report_day {
	enrp_day day;
	uint32_t expected, arrived, late, missed, pending;
};

/* The destruction record of a destroyed EIR (include/enrp/destroy.h): what
 * the report shows of it, read from enrp_destroy_record() (when =
 * d.started).  HAVE false for an EIR that is not destroyed. */
struct enrp_report_destroyed {
	bool have;
	bool finished;
	int64_t when_ns;         /* platform clock: the key shredded, state destroyed */
	char requested_by[128];  /* "uid=0 login=1000 sudo=alice ..." */
	char approved_by[128];
	char reason[ENRP_REASON_MAX + 1];
	uint64_t files, bytes, stored; /* what went */
};

struct enrp_report_eir {
	/* Facts: read by enrp_report_build, or filled by hand in a test. */
	struct enrp_eir eir;
	bool have_usage;
	struct enrp_eir_usage usage;
	bool have_files;
	struct enrp_eir_files files;
	char backup_mode[8];                    /* the form's hot/cold ("" unknown) */
	char schedule[ENRP_SCHEDULE_TEXT_MAX];  /* canonical text, "" none */
	char retention[ENRP_RETENTION_SPEC_MAX];/* canonical text, "" none */
	uint32_t lock_days;
	struct enrp_report_slot *slots;         /* slots starting in the period */
	size_t nslots;
	uint32_t failed_verifications;
	bool have_restore;                      /* false for destroyed EIRs */
	struct enrp_restore_status restore;
	struct enrp_hold *holds;                /* all holds, expired ones included */
	size_t nholds;
	struct enrp_usage_sample *samples;      /* in the period, date order */
	size_t nsamples;
	struct enrp_report_destroyed destroyed; /* see above */

	/* Figures: enrp_report_compute. */
	uint32_t expected, arrived, late, missed, pending;
	uint64_t files_total;                   /* open + pending + verified + corrupt */
	double quota_pct;                       /* used / quota * 100; -1: no quota */
	double ratio;                           /* used / stored; 0: nothing stored */
	uint32_t holds_active, holds_expiring;
	const struct enrp_hold *next_hold;      /* the active hold ending first, or NULL */
	struct enrp_report_day *days;           /* one per date of the period */
	unsigned reasons;                       /* enum enrp_report_reason */
	enum enrp_report_light light;
};

struct enrp_report_summary {
	uint32_t eirs, green, amber, red, none;
	uint64_t used, stored, files, quota; /* quota: sum of the finite ones */
	double ratio;                        /* used / stored; 0: nothing stored */
	uint32_t expected, arrived, late, missed, pending;
	uint32_t failed_verifications, corrupt_files;
	uint32_t restore_overdue, restore_due;
	uint32_t holds_active, holds_expiring;
	struct enrp_report_day *days;        /* the platform's: sums of the EIRs' */
	struct enrp_usage_sample *usage;     /* per date: sums of the EIRs' samples of
	                                        that date (day 0 if no EIR has one) */
};

struct enrp_report {
	enrp_day from, to;    /* the period, inclusive */
	enrp_day today;
	int64_t now;          /* seconds since the epoch, the platform clock */
	char zone[ENRP_ZONE_MAX + 1];
	struct enrp_report_eir *eirs; /* name order */
	size_t n;
	struct enrp_report_summary summary;
};

/* Reads the facts of every EIR for the period FROM..TO of zone TZ (NOW in
 * seconds, TODAY its date), then computes.  -EINVAL TO before FROM or the
 * period longer than ENRP_REPORT_DAYS_MAX, -E2BIG too many slots
 * (transfer.h), -ENOMEM, -EIO.  Free with enrp_report_free. */
int enrp_report_build(enrp_store *st, const enrp_tz *tz, enrp_day from, enrp_day to, int64_t now,
                      enrp_day today, struct enrp_report **out);

/* Derives every figure of R (its facts, from, to, now and today set) and
 * the summary.  Pure.  -EINVAL as enrp_report_build, -ENOMEM. */
int enrp_report_compute(struct enrp_report *r);

/* Frees R, its EIRs' fact arrays and the figures (NULL is a no-op). */
void enrp_report_free(struct enrp_report *r);

#endif
