/*
 * test_notify.c — what enrp_notify_due offers and the ledger that makes it
 * offer each fact once, on a real store with "today" as a parameter: a
 * planned restore told 3 working days ahead and not before (a holiday
 * moves the day), its report due once the date has passed and answered by
 * a record, journal items from the cursor (old ones skipped, a failed
 * one kept by not advancing past it), and enrp_notify_emitted journalling
 * "notified" once (-EEXIST after).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/calendar.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/notify.h>
#include <enrp/restore.h>

#include "../tap.h"
#include "journal_last.h"

#define S 1000000000LL
#define DAY_NS (86400 * S)
#define ALMATY (5 * 3600)

static enrp_store *st;
static struct enrp_actor actor;

static enrp_day D(const char *s)
{
	enrp_day d = 0;
	if (enrp_day_parse(s, &d))
		printf("# bad date in test: %s\n", s);
	return d;
}

/* Noon in Almaty on DAY. */
static struct enrp_notify_when at(enrp_day day)
{
	struct enrp_notify_when w = { .now_ns = (int64_t)day * DAY_NS + 7 * 3600 * S,
		                      .today = day, .utc_offset_s = ALMATY };
	return w;
}

struct found {
	size_t n;
	struct enrp_notify_item v[16];
};

static int collect(const struct enrp_notify_item *it, void *arg)
{
	struct found *f = arg;
	if (f->n < 16)
		f->v[f->n] = *it;
	f->n++;
	return 0;
}

static struct found due(enrp_day day, uint64_t *seen)
{
	struct found f = { 0 };
	struct enrp_notify_when w = at(day);
	int rc = enrp_notify_due(st, &w, collect, &f, seen);
	if (rc)
		diag("enrp_notify_due: %d", rc);
	return f;
}

static void restores(void)
{
	struct enrp_eir spec;
	enrp_day today = D("2026-12-02"); /* a Wednesday */
	int64_t now = (int64_t)today * DAY_NS + 7 * 3600 * S;
	uint64_t plan = 0, seen;

	enrp_eir_defaults(&spec, "pop");
	spec.eir_class = 1;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), 0, "create pop");
	enrp_eir_defaults(&spec, "gone");
	is_int(enrp_eir_create(st, &spec, &actor, NULL), 0, "create gone");

	struct found f = due(today, &seen);
	is_int((int)f.n, 0, "a new store: nothing due");

	/* Wed Dec 9: Thu, Fri, Mon, Tue, Wed are 5 working days away. */
	is_int(enrp_restore_plan(st, "pop", D("2026-12-09"), "drill", now, today, &actor, &plan), 0,
	       "plan a restore of pop on Wed Dec 9");
	f = due(today, &seen);
	is_int((int)f.n, 0, "5 working days ahead: not yet");
	f = due(D("2026-12-03"), &seen);
	is_int((int)f.n, 0, "Thu Dec 3: 4 working days ahead, not yet");
	f = due(D("2026-12-04"), &seen);
	ok(f.n == 1 && f.v[0].kind == ENRP_NOTIFY_RESTORE_SOON && f.v[0].day == D("2026-12-09") &&
	   f.v[0].seq == plan && !strcmp(f.v[0].eir, "pop") && !strcmp(f.v[0].details, "drill"),
	   "Fri Dec 4: 3 working days ahead, restore-test-soon (%zu items)", f.n);
	struct enrp_notify_item soon = f.v[0];

	/* A holiday between makes the date fewer working days away. */
	is_int(enrp_calendar_holiday_add(st, D("2026-12-08"), "a holiday", &actor), 0,
	       "Tue Dec 8 is a holiday");
	f = due(D("2026-12-03"), &seen);
	is_int((int)f.n, 1, "then Thu Dec 3 (Fri, Mon, Wed: 3 working days ahead) is the day");
	is_int(enrp_calendar_holiday_remove(st, D("2026-12-08"), &actor), 0, "holiday removed");

	struct last before = journal_last_of(st);
	is_int(enrp_notify_emitted(st, &soon, "printed", &actor), 0, "told");
	struct last after = journal_last_of(st);
	ok(after.n == before.n + 1 && !strcmp(after.rec.event, "notified") &&
	   !strcmp(after.rec.eir, "pop") && strstr(after.rec.details, "kind=restore-test-soon") &&
	   strstr(after.rec.details, "how=printed"),
	   "journalled once as notified (%s)", after.rec.details);
	is_int(enrp_notify_emitted(st, &soon, "printed", &actor), -EEXIST, "told twice: -EEXIST");
	is_int((int)journal_last_of(st).n, (int)after.n, "and nothing journalled");
	f = due(D("2026-12-08"), &seen);
	is_int((int)f.n, 0, "never offered again");

	/* The date passes with no record: the report is due 3 working days on. */
	f = due(D("2026-12-10"), &seen);
	ok(f.n == 1 && f.v[0].kind == ENRP_NOTIFY_RESTORE_REPORT && f.v[0].planned == D("2026-12-09") &&
	   f.v[0].day == D("2026-12-14"), "Thu Dec 10: the report is due by Mon Dec 14 (%zu items)",
	   f.n);
	int64_t later = (int64_t)D("2026-12-10") * DAY_NS + 7 * 3600 * S;
	is_int(enrp_restore_record(st, "pop", "nightly", ENRP_RESTORE_PASS, NULL, later,
	                           D("2026-12-10"), &actor, NULL),
	       0, "a result recorded on Dec 10");
	f = due(D("2026-12-10"), &seen);
	is_int((int)f.n, 0, "answers the report");
	is_int((int)enrp_notify_kind_name(ENRP_NOTIFY_QUOTA)[0], 'q', "kind names");
	is_str(enrp_notify_kind_name((enum enrp_notify_kind)99), "?", "an unknown kind: ?");
}

static void journal_items(void)
{
	enrp_day today = D("2026-12-02");
	uint64_t seen = 0;
	struct found f = due(today, &seen);
	/* The real clock wrote the records so far: the test's "now" must be
	 * later than them for the age rule; use today's real date. */
	int64_t real_now = enrp_now_ns();
	enrp_day real_today = enrp_day_of(real_now, ALMATY);
	(void)f;

	is_int(enrp_notify_advance(st, seen), 0, "cursor to the head");
	is_int(enrp_journal_append(st, &actor, "pop", "chunk-damaged", "path=a/b chunk=x"), 0,
	       "a chunk-damaged record");
	is_int(enrp_journal_append(st, &actor, "pop", "eir-set", "x=1"), 0, "an unrelated one");
	uint64_t damaged = journal_last_of(st).n - 1;
	f = due(real_today, &seen);
	ok(f.n == 1 && f.v[0].kind == ENRP_NOTIFY_VERIFY_FAILED && f.v[0].seq == damaged &&
	   !strcmp(f.v[0].path, "a/b") && f.v[0].eir_id != 0,
	   "verify-failed from the journal, with its path and EIR (%zu items)", f.n);
	is_int((int)seen, (int)journal_last_of(st).n, "the walk reached the head");

	/* Not advanced (its hook failed): offered again. */
	f = due(real_today, &seen);
	is_int((int)f.n, 1, "not told, cursor not moved: offered again");
	is_int(enrp_notify_emitted(st, &f.v[0], "exec", &actor), 0, "told");
	is_int(enrp_notify_advance(st, seen), 0, "cursor moved");
	is_int(enrp_notify_advance(st, 1), 0, "a cursor never moves back");
	f = due(real_today, &seen);
	is_int((int)f.n, 0, "nothing new");

	/* 31 days later a new-found record is history. */
	is_int(enrp_journal_append(st, &actor, "pop", "scrub-damage", "path=c"), 0, "scrub-damage");
	struct enrp_notify_when w = at(real_today + 31);
	w.now_ns = real_now + 31 * DAY_NS;
	f.n = 0;
	is_int(enrp_notify_due(st, &w, collect, &f, &seen), 0, "due, a month on");
	is_int((int)f.n, 0, "a record older than 30 days when first read is skipped");

	/* A slot the daemon found missed is told as transfer-missed. */
	is_int(enrp_journal_append(st, &actor, "pop", "transfer-missed",
	                           "slot=2026-12-01T23:00+05:00 type=full"), 0, "a transfer-missed record");
	f = due(real_today, &seen);
	ok(f.n == 2 && f.v[1].kind == ENRP_NOTIFY_TRANSFER_MISSED &&
	   strstr(f.v[1].details, "type=full") != NULL,
	   "told as transfer-missed, with the slot (%zu items)", f.n);

	/* Today, from the same cursor, the same record is news. */
	f = due(real_today, &seen);
	ok(f.n == 2 && !strcmp(f.v[0].path, "c"), "the same record read today is told (%zu)", f.n);
	(void)today;
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_notify");
	restores();
	journal_items();
	enrp_store_close(st);
	tap_rmrf(tmp);
	return done_testing();
}
