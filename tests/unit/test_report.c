/*
 * test_report.c — the compliance report's figures (report.h) against
 * hand-computed fixtures: enrp_report_compute on facts written here (every
 * count, percent, light and reason of five EIRs and the platform's sums),
 * the period's edges and limits; then the store: daily usage samples are
 * written once per day and never rewritten, read back by range, and
 * enrp_report_build reads a schedule's met, late and missed slots, a failed
 * verification and the samples from a real store on a fake clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/clock.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/form.h>
#include <enrp/journal.h>
#include <enrp/report.h>
#include <enrp/transfer.h>
#include <enrp/units.h>

#include "../tap.h"
#include "transfer_int.h"

#define NS 1000000000LL
#define DAY 86400

static enrp_store *st;
static struct enrp_actor actor;
static enrp_tz *utc;

static int64_t at(const char *iso)
{
	int64_t ns = 0;
	if (enrp_time_parse(iso, 0, &ns))
		diag("bad time %s", iso);
	return ns / NS;
}

static enrp_day day(const char *s)
{
	enrp_day d = 0;
	if (enrp_day_parse(s, &d))
		diag("bad date %s", s);
	return d;
}

static struct enrp_report_slot slot(const char *iso, enum enrp_slot_status st_)
{
	int64_t s = at(iso);
	return (struct enrp_report_slot){ .day = (enrp_day)(s / DAY), .start = s, .status = st_ };
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* Five EIRs whose every figure is worked out by hand in the comments. */
static void fixtures(void)
{
	struct enrp_report r = { 0 };
	struct enrp_report_eir e[5];
	memset(e, 0, sizeof(e));
	r.from = day("2026-03-01");
	r.to = day("2026-03-05");
	r.now = at("2026-03-05T12:00:00Z");
	r.today = day("2026-03-05");
	r.eirs = e;
	r.n = 5;

	/* a: normal, 950 of 1000 bytes (95.0 %: amber), 400 stored (ratio
	 * 2.375); slots: 02-28 (before the period: not counted), 03-01 met,
	 * 03-02 late, 03-03 missed, 03-04 met, 03-05 10:00 pending (its window
	 * open), 03-05 23:00 still to come (not expected yet).  So expected 5,
	 * arrived 3, late 1, missed 1, pending 1.  Test restore overdue; holds:
	 * one expired, one ending in 10 days (expiring), one in 100 days.
	 * Red: missed, restore overdue; also late, quota high, hold expiring. */
	struct enrp_report_slot sa[] = {
		slot("2026-02-28T23:00:00Z", ENRP_SLOT_MET),
		slot("2026-03-01T23:00:00Z", ENRP_SLOT_MET),
		slot("2026-03-02T23:00:00Z", ENRP_SLOT_LATE),
		slot("2026-03-03T23:00:00Z", ENRP_SLOT_MISSED),
		slot("2026-03-04T23:00:00Z", ENRP_SLOT_MET),
		slot("2026-03-05T10:00:00Z", ENRP_SLOT_PENDING),
		slot("2026-03-05T23:00:00Z", ENRP_SLOT_PENDING),
	};
	struct enrp_hold ha[3];
	memset(ha, 0, sizeof(ha));
	ha[0].until = (r.now - DAY) * NS;
	ha[1].until = (r.now + 100 * DAY) * NS;
	ha[2].until = (r.now + 10 * DAY) * NS;
	snprintf(ha[2].reason, sizeof(ha[2].reason), "inquiry 7");
	struct enrp_usage_sample ua[] = {
		{ day("2026-03-01"), 100, 50, 1 },
		{ day("2026-03-03"), 300, 150, 3 },
	};
	snprintf(e[0].eir.name, sizeof(e[0].eir.name), "a");
	e[0].eir.state = ENRP_STATE_NORMAL;
	e[0].eir.quota = 1000;
	e[0].have_usage = true;
	e[0].usage.bytes = 950;
	e[0].usage.stored = 400;
	e[0].have_files = true;
	e[0].files.verified = 7;
	e[0].files.pending = 2;
	e[0].files.open = 1;
	snprintf(e[0].schedule, sizeof(e[0].schedule), "daily 23:00 full");
	e[0].slots = sa;
	e[0].nslots = sizeof(sa) / sizeof(sa[0]);
	e[0].have_restore = true;
	e[0].restore.standing = ENRP_RESTORE_OVERDUE;
	e[0].holds = ha;
	e[0].nholds = 3;
	e[0].samples = ua;
	e[0].nsamples = 2;

	/* b: retired (slots not owed, even with some), no quota, no schedule
	 * (not asked of a retired EIR), restore exempt: green. */
	struct enrp_report_slot sb[] = { slot("2026-03-02T23:00:00Z", ENRP_SLOT_MISSED) };
	snprintf(e[1].eir.name, sizeof(e[1].eir.name), "b");
	e[1].eir.state = ENRP_STATE_RETIRED;
	e[1].have_usage = true;
	e[1].usage.bytes = 10;
	e[1].usage.stored = 0;
	e[1].slots = sb;
	e[1].nslots = 1;
	e[1].have_restore = true;
	e[1].restore.standing = ENRP_RESTORE_EXEMPT;
	e[1].restore.have_record = true;
	e[1].restore.last_record.result = ENRP_RESTORE_FAIL; /* exempt: no matter */

	/* c: normal without a schedule, 100 of 100 bytes (quota full), two
	 * failed verifications, one corrupt file: red. */
	struct enrp_usage_sample uc[] = { { day("2026-03-03"), 50, 20, 2 } };
	snprintf(e[2].eir.name, sizeof(e[2].eir.name), "c");
	e[2].eir.state = ENRP_STATE_NORMAL;
	e[2].eir.quota = 100;
	e[2].have_usage = true;
	e[2].usage.bytes = 100;
	e[2].usage.stored = 40;
	e[2].have_files = true;
	e[2].files.corrupt = 1;
	e[2].files.verified = 3;
	e[2].failed_verifications = 2;
	e[2].samples = uc;
	e[2].nsamples = 1;

	/* d: destroyed: no light, counted in none; its quota is not the
	 * platform's any more. */
	snprintf(e[3].eir.name, sizeof(e[3].eir.name), "d");
	e[3].eir.state = ENRP_STATE_DESTROYED;
	e[3].eir.quota = 5000;

	/* e: suspended, restore due soon and the last one failed: amber. */
	snprintf(e[4].eir.name, sizeof(e[4].eir.name), "e");
	e[4].eir.state = ENRP_STATE_SUSPENDED;
	e[4].eir.quota = 1000;
	e[4].have_usage = true;
	e[4].usage.bytes = 899; /* 89.9 %: not yet amber for the quota */
	e[4].usage.stored = 899;
	snprintf(e[4].schedule, sizeof(e[4].schedule), "daily 23:00 full");
	e[4].have_restore = true;
	e[4].restore.standing = ENRP_RESTORE_SOON;
	e[4].restore.have_record = true;
	e[4].restore.last_record.result = ENRP_RESTORE_FAIL;

	is_int(enrp_report_compute(&r), 0, "compute");
	const struct enrp_report_eir *a = &e[0];
	ok(a->expected == 5 && a->arrived == 3 && a->late == 1 && a->missed == 1 && a->pending == 1,
	   "a: expected 5 arrived 3 late 1 missed 1 pending 1 (got %u %u %u %u %u)", a->expected,
	   a->arrived, a->late, a->missed, a->pending);
	ok(near(a->quota_pct, 95.0) && near(a->ratio, 2.375) && a->files_total == 10,
	   "a: 95.0 %% of quota, ratio 2.375, 10 files");
	ok(a->holds_active == 2 && a->holds_expiring == 1 && a->next_hold == &ha[2],
	   "a: 2 holds active, 1 expiring, the next the 10-day one");
	is_int(a->reasons, ENRP_REPORT_MISSED | ENRP_REPORT_RESTORE_OVERDUE | ENRP_REPORT_LATE |
	                           ENRP_REPORT_QUOTA_HIGH | ENRP_REPORT_HOLD_EXPIRING,
	       "a: missed, restore overdue, late, quota high, hold expiring");
	is_str(enrp_report_light_name(a->light), "red", "a: red");
	ok(a->days[0].expected == 1 && a->days[0].arrived == 1 && a->days[1].late == 1 &&
	   a->days[1].arrived == 1 && a->days[2].missed == 1 && a->days[4].expected == 1 &&
	   a->days[4].pending == 1 && a->days[4].day == day("2026-03-05"),
	   "a: per day: 03-01 arrived, 03-02 late, 03-03 missed, 03-05 pending");

	const struct enrp_report_eir *b = &e[1];
	ok(b->expected == 0 && b->missed == 0 && b->quota_pct < 0 && b->ratio == 0,
	   "b (retired): nothing expected, no quota, no ratio (nothing stored)");
	ok(b->reasons == 0 && b->light == ENRP_LIGHT_GREEN, "b: green, no reason (got %#x)",
	   b->reasons);

	const struct enrp_report_eir *c = &e[2];
	is_int(c->reasons, ENRP_REPORT_FAILED_VERIFY | ENRP_REPORT_CORRUPT |
	                           ENRP_REPORT_QUOTA_FULL | ENRP_REPORT_NO_SCHEDULE,
	       "c: failed verifications, corrupt, quota full, no schedule");
	ok(c->light == ENRP_LIGHT_RED && near(c->quota_pct, 100.0), "c: red at 100.0 %%");

	ok(e[3].light == ENRP_LIGHT_NONE && e[3].reasons == ENRP_REPORT_DESTROYED,
	   "d (destroyed): no light");
	is_int(e[4].reasons, ENRP_REPORT_SUSPENDED | ENRP_REPORT_RESTORE_DUE |
	                             ENRP_REPORT_RESTORE_FAILED,
	       "e: suspended, restore due, last restore failed (89.9 %% is not high)");
	is_str(enrp_report_light_name(e[4].light), "amber", "e: amber");

	const struct enrp_report_summary *s = &r.summary;
	ok(s->eirs == 5 && s->green == 1 && s->amber == 1 && s->red == 2 && s->none == 1,
	   "platform: 5 EIRs, 1 green, 1 amber, 2 red, 1 without a light");
	ok(s->used == 950 + 10 + 100 + 899 && s->stored == 400 + 40 + 899 &&
	   s->quota == 1000 + 100 + 1000 && s->files == 10 + 4,
	   "platform: used 1959, stored 1339, quota 2100 (not the destroyed one's), 14 files");
	ok(near(s->ratio, 1959.0 / 1339.0), "platform ratio used/stored");
	ok(s->expected == 5 && s->arrived == 3 && s->late == 1 && s->missed == 1 && s->pending == 1,
	   "platform transfers: the sums");
	ok(s->failed_verifications == 2 && s->corrupt_files == 1 && s->restore_overdue == 1 &&
	   s->restore_due == 1 && s->holds_active == 2 && s->holds_expiring == 1,
	   "platform: 2 failed verifications, 1 corrupt, 1 restore overdue, 1 due, holds 2/1");
	ok(s->usage[0].used == 100 && s->usage[1].day == 0 && s->usage[2].used == 350 &&
	   s->usage[2].files == 5 && s->days[2].missed == 1,
	   "platform usage per day: 03-01 100, 03-02 none, 03-03 300+50");
	ok(strcmp(enrp_report_reason_name(0), "missed") == 0 &&
	   strcmp(enrp_report_reason_name(12), "destroyed") == 0, "reason names");

	/* The period's limits. */
	for (size_t i = 0; i < r.n; i++) {
		free(e[i].days);
		e[i].days = NULL;
	}
	free(s->days);
	free(s->usage);
	memset(&r.summary, 0, sizeof(r.summary));
	r.to = r.from - 1;
	is_int(enrp_report_compute(&r), -EINVAL, "TO before FROM: -EINVAL");
	r.to = r.from + ENRP_REPORT_DAYS_MAX;
	is_int(enrp_report_compute(&r), -EINVAL, "a period past ENRP_REPORT_DAYS_MAX days: -EINVAL");
	r.to = r.from;
	is_int(enrp_report_compute(&r), 0, "a one-day period");
	is_int(e[0].expected, 1, "... holds one slot of a");
	for (size_t i = 0; i < r.n; i++)
		free(e[i].days);
	free(r.summary.days);
	free(r.summary.usage);
}

static uint32_t eir_id;

static int seal_fn(enrp_txn *t, void *arg)
{
	return transfer_seal_txn(t, eir_id, *(int64_t *)arg * NS);
}

static void seal(const char *iso)
{
	int64_t s = at(iso);
	ok(enrp_store_write(st, seal_fn, &s) == 0, "a file verified at %s", iso);
}

static void store_side(void)
{
	struct enrp_eir spec, e;
	struct enrp_eir_form *f = calloc(1, sizeof(*f));
	unsigned w = 99;

	enrp_clock_test_set_wall(at("2027-02-20T00:00:00Z") * NS);
	enrp_eir_defaults(&spec, "e1");
	spec.quota = 4096;
	ok(enrp_eir_create(st, &spec, &actor, NULL) == 0, "EIR e1 created on 2027-02-20");
	enrp_eir_get(st, "e1", &e);
	eir_id = e.id;

	is_int(enrp_usage_sample_today(st, day("2027-02-20"), &w), 0, "sample of 2027-02-20");
	is_int(w, 1, "... one written");
	is_int(enrp_usage_sample_today(st, day("2027-02-20"), &w), 0, "again the same day");
	is_int(w, 0, "... none written: at most one a day");
	is_int(enrp_usage_sample_today(st, day("2027-02-22"), &w), 0, "sample of 2027-02-22");
	is_int(w, 1, "... one written");
	struct enrp_usage_sample *s;
	size_t n;
	is_int(enrp_usage_samples(st, eir_id, day("2027-02-01"), day("2027-02-28"), &s, &n), 0,
	       "samples of February");
	ok(n == 2 && s[0].day == day("2027-02-20") && s[1].day == day("2027-02-22") &&
	   s[0].used == 0 && s[0].files == 0, "... two, in date order");
	free(s);
	is_int(enrp_usage_samples(st, eir_id, day("2027-02-21"), day("2027-02-22"), &s, &n), 0,
	       "samples from 02-21");
	ok(n == 1 && s[0].day == day("2027-02-22"), "... only 02-22");
	free(s);
	is_int(enrp_usage_samples(st, eir_id + 1, day("2027-02-01"), day("2027-02-28"), &s, &n), 0,
	       "another id");
	ok(n == 0 && s == NULL, "... has none (the key's prefix holds)");

	/* The schedule: daily 23:00 with a 6 h window, set on 03-01 12:00. */
	enrp_clock_test_set_wall(at("2027-03-01T12:00:00Z") * NS);
	snprintf(f->value[ENRP_FORM_SCHEDULE], sizeof(f->value[0]), "daily 23:00 full");
	ok(enrp_form_set(st, "e1", f, 1u << ENRP_FORM_SCHEDULE, &actor) == 0, "schedule set");
	free(f);
	ok(enrp_transfer_window_set(st, "e1", 6 * 3600, &actor) == 0, "window 6h");
	seal("2027-03-01T23:30:00Z"); /* 03-01: met */
	seal("2027-03-03T06:00:00Z"); /* 03-02: late (window closed 05:00) */
	/* 03-03: nothing in its window nor before the next slot: missed */
	seal("2027-03-04T23:10:00Z"); /* 03-04: met */
	/* Journal records carry the real clock's time (not the platform's
	 * test clock): today's two failures are outside the period of 2027. */
	ok(enrp_journal_append(st, &actor, "e1", "chunk-damaged", "path=x") == 0 &&
	   enrp_journal_append(st, &actor, "e1", "scrub-damage", "path=y") == 0 &&
	   enrp_journal_append(st, &actor, "e1", "scrub", "files=1") == 0 &&
	   enrp_journal_append(st, &actor, "", "chunk-damaged", "path=z") == 0,
	   "two failed verifications today, a scrub and one of no EIR");

	struct enrp_report *r = NULL;
	int64_t now = at("2027-03-05T12:00:00Z");
	is_int(enrp_report_build(st, utc, day("2027-03-01"), day("2027-03-05"), now,
	                         day("2027-03-05"), &r), 0, "report of 03-01..03-05");
	if (!r)
		return;
	ok(r->n == 1 && strcmp(r->eirs[0].eir.name, "e1") == 0, "one EIR");
	const struct enrp_report_eir *x = &r->eirs[0];
	ok(x->expected == 4 && x->arrived == 3 && x->late == 1 && x->missed == 1 && x->pending == 0,
	   "e1: expected 4 (03-05 23:00 is to come), arrived 3, late 1, missed 1 (got %u %u %u %u %u)",
	   x->expected, x->arrived, x->late, x->missed, x->pending);
	is_int(x->failed_verifications, 0, "e1: no failed verification in the period");
	is_str(x->schedule, "daily 23:00 full", "e1: its schedule");
	ok(x->light == ENRP_LIGHT_RED && (x->reasons & ENRP_REPORT_MISSED) &&
	   !(x->reasons & ENRP_REPORT_FAILED_VERIFY) && (x->reasons & ENRP_REPORT_LATE),
	   "e1: red for missed, late too");
	ok(x->nsamples == 0, "no samples in March yet");
	ok(x->have_restore && x->restore.standing == ENRP_RESTORE_OK, "restore status read");
	enrp_report_free(r);
	r = NULL;
	int64_t real = enrp_now_ns() / NS;
	enrp_day today = (enrp_day)(real / DAY);
	is_int(enrp_report_build(st, utc, today - 1, today + 1, now, day("2027-03-05"), &r), 0,
	       "report of the real today");
	if (r)
		is_int(r->eirs[0].failed_verifications, 2,
		       "e1: its chunk-damaged and scrub-damage records, not the scrub's nor the other's");
	enrp_report_free(r);
	is_int(enrp_report_build(st, utc, day("2027-03-05"), day("2027-03-01"), now,
	                         day("2027-03-05"), &r), -EINVAL, "a period backwards: -EINVAL");
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];

	if (!tmp || enrp_tz_open("UTC", &utc)) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	fixtures();
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_report");
	store_side();
	enrp_store_close(st);
	enrp_tz_free(utc);
	tap_rmrf(tmp);
	return done_testing();
}
