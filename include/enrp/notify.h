/*
 * notify.h — what the platform's staff and the EIRs' owners must be told,
 * and the ledger that makes each thing told once (issue 11 item 3).
 *
 * An item is due when:
 *   restore-test-soon   a planned test restore is ENRP_NOTIFY_WORKDAYS
 *                       working days away or nearer (the owner must be told
 *                       in advance);
 *   restore-report-due  a planned test restore's date has come and no
 *                       result was recorded since: the report is due within
 *                       ENRP_NOTIFY_WORKDAYS working days after the date;
 *   transfer-missed     the journal has a `transfer-missed` record;
 *   verify-failed       the journal has a `chunk-damaged` or `scrub-damage`
 *                       record (a copy no longer verifies);
 *   hold-expiring       a hold ends within ENRP_NOTIFY_AHEAD_DAYS days;
 *   retention-expiring  a retired EIR's retention (files=DAYS after its
 *                       last seal) ends within ENRP_NOTIFY_AHEAD_DAYS days:
 *                       after that prune removes its data for good;
 *   quota               an EIR uses more than ENRP_NOTIFY_QUOTA_PCT % of
 *                       its quota.
 *
 * Every item has a key that names the fact, not the run that found it
 * ("hold:7:1:42:2027-01-01", "journal:1234", "quota:7:3"), and the ledger
 * remembers the keys emitted: enrp_notify_due() never offers a key twice
 * once enrp_notify_emitted() has recorded it, and that record is
 * journalled ("notified") in the same transaction.  A hold extended to a
 * new date, or a quota that falls below the threshold and crosses it again
 * (enrp_notify_rearm), is a new fact with a new key.
 *
 * Journal items are found from a cursor (the last record examined), so a
 * run reads only the records written since; records older than
 * ENRP_NOTIFY_AHEAD_DAYS when first seen are not news and are skipped.
 *
 * The ledger lives in DBI_META under "notify:" + key; the cursor is
 * "notify_journal_seq" and a quota's crossing counter "notify_quota:" + id.
 */
#ifndef ENRP_NOTIFY_H
#define ENRP_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/calendar.h>
#include <enrp/eir.h>
#include <enrp/hold.h>
#include <enrp/journal.h>
#include <enrp/store.h>

#define ENRP_NOTIFY_WORKDAYS 3
#define ENRP_NOTIFY_AHEAD_DAYS 30
#define ENRP_NOTIFY_QUOTA_PCT 90
#define ENRP_NOTIFY_KEY_MAX 127

enum enrp_notify_kind {
	ENRP_NOTIFY_RESTORE_SOON = 1,
	ENRP_NOTIFY_RESTORE_REPORT,
	ENRP_NOTIFY_TRANSFER_MISSED,
	ENRP_NOTIFY_VERIFY_FAILED,
	ENRP_NOTIFY_HOLD_EXPIRING,
	ENRP_NOTIFY_RETENTION_EXPIRING,
	ENRP_NOTIFY_QUOTA,
};
#define ENRP_NOTIFY_KINDS 7

/* "restore-test-soon", "restore-report-due", ... ("?" outside the enum). */
const char *enrp_notify_kind_name(enum enrp_notify_kind kind);

struct enrp_notify_item {
	enum enrp_notify_kind kind;
	char key[ENRP_NOTIFY_KEY_MAX + 1];
	char eir[ENRP_EIR_NAME_MAX + 1];
	uint32_t eir_id;
	uint32_t owner_uid;
	enrp_day day;          /* the date it is about: the restore's date, the
	                          report's deadline, the hold's or retention's end
	                          (platform dates); 0 for journal and quota items */
	enrp_day planned;      /* restore items: the planned date */
	int64_t time_ns;       /* journal items: the record's time; holds: their
	                          end; retention: its end; quota: now */
	uint64_t seq;          /* journal items: the record; restore items: the plan */
	uint64_t used, quota;  /* quota items: bytes */
	char path[ENRP_HOLD_PATH_MAX + 2]; /* a held file (@SNAP for a snapshot),
	                                      or the path of a journal record */
	char details[ENRP_JOURNAL_DETAILS_MAX + 1]; /* journal items: the record's;
	                                               holds: the reason */
};

/* The moment a run judges by: the platform clock and date (calendar.h). */
struct enrp_notify_when {
	int64_t now_ns;
	enrp_day today;
	int32_t utc_offset_s;
};

/* Calls CB for every item due at W that the ledger has not recorded, EIR
 * by EIR (journal items last, oldest first); a non-zero return from CB
 * stops and is returned.  *JOURNAL_SEQ (not NULL) receives the last
 * journal record examined: pass it to enrp_notify_advance once the items
 * up to it are emitted.  Destroyed EIRs have no items.  -EIO, -ENOMEM. */
int enrp_notify_due(enrp_store *st, const struct enrp_notify_when *w,
                    int (*cb)(const struct enrp_notify_item *item, void *arg), void *arg,
                    uint64_t *journal_seq);

/* Records ITEM as emitted and journals "notified" (kind, key, EIR and how:
 * HOW is "printed" or "exec") in one transaction.  -EEXIST: already
 * recorded (another run emitted it first: nothing is written), -ENOSPC,
 * -EROFS, -EIO. */
int enrp_notify_emitted(enrp_store *st, const struct enrp_notify_item *item, const char *how,
                        const struct enrp_actor *actor);

/* Moves the journal cursor to SEQ (never backwards).  -ENOSPC, -EIO. */
int enrp_notify_advance(enrp_store *st, uint64_t seq);

/* Re-arms the quota item of every EIR at or below the threshold at W whose
 * last crossing was emitted: its next crossing is a new item.  -EIO. */
int enrp_notify_rearm(enrp_store *st, const struct enrp_notify_when *w);

#endif
