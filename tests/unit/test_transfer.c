/*
 * test_transfer.c — transfers against the schedule (transfer.h), on a fake
 * platform clock: met, late, missed and pending at the window's edges;
 * slots before the schedule was set are not owed; the daemon's check
 * journals each missed slot once and a late arrival once, never again
 * after a restart, and sums up a long downtime in one record; the window
 * setting and its spelling.
 */
#include <errno.h>
#include <inttypes.h>

#include <enrp/clock.h>
#include <enrp/eir.h>
#include <enrp/form.h>
#include <enrp/journal.h>
#include <enrp/transfer.h>
#include <enrp/units.h>

#include "../tap.h"
#include "journal_last.h"
#include "transfer_int.h"

#define NS 1000000000LL

static enrp_store *st;
static struct enrp_actor actor;
static enrp_tz *utc;
static uint32_t eir_id;

static int64_t at(const char *iso)
{
	int64_t ns = 0;
	if (enrp_time_parse(iso, 0, &ns))
		diag("bad time %s", iso);
	return ns / NS;
}

static int seal_fn(enrp_txn *t, void *arg)
{
	return transfer_seal_txn(t, eir_id, *(int64_t *)arg * NS + 123456789);
}

static void seal(const char *iso)
{
	int64_t s = at(iso);
	ok(enrp_store_write(st, seal_fn, &s) == 0, "a file verified at %s", iso);
}

/* The records the check wrote since the journal held BEFORE records, their
 * events and details joined by " | ". */
struct since { uint64_t skip, n; char text[4096]; };

static int since_cb(const struct enrp_journal_record *r, void *arg)
{
	struct since *s = arg;
	if (s->n++ < s->skip)
		return 0;
	snprintf(s->text + strlen(s->text), sizeof(s->text) - strlen(s->text), "%s%s %s",
	         s->text[0] ? " | " : "", r->event, r->details);
	return 0;
}

static void check(const char *now, unsigned want_n, const char *want)
{
	struct since s = { .skip = journal_last_of(st).n };
	unsigned n = 99;
	int rc = enrp_transfer_check(st, utc, at(now) * NS, &actor, &n);
	enrp_journal_iter(st, NULL, since_cb, &s);
	ok(rc == 0 && n == want_n && strcmp(s.text, want) == 0,
	   "check at %s: %u record(s) '%s' (rc %d, %u: '%s')", now, want_n, want, rc, n, s.text);
}

static void setup(void)
{
	struct enrp_eir spec;
	struct enrp_eir_form *f = calloc(1, sizeof(*f));

	enrp_clock_test_set_wall(at("2027-02-20T00:00:00Z") * NS);
	enrp_eir_defaults(&spec, "e1");
	ok(enrp_eir_create(st, &spec, &actor, NULL) == 0, "EIR created on 2027-02-20");
	struct enrp_eir e;
	enrp_eir_get(st, "e1", &e);
	eir_id = e.id;
	enrp_clock_test_set_wall(at("2027-03-01T12:00:00Z") * NS);
	snprintf(f->value[ENRP_FORM_SCHEDULE], sizeof(f->value[0]), "daily 23:00 full");
	ok(enrp_form_set(st, "e1", f, 1u << ENRP_FORM_SCHEDULE, &actor) == 0,
	   "schedule set on 2027-03-01 12:00");
	free(f);
	ok(enrp_transfer_window_set(st, "e1", 6 * 3600, &actor) == 0, "window 6h");
	struct last l = journal_last_of(st);
	is_str(l.rec.event, "schedule-window", "journalled");
	is_str(l.rec.details, "from=next to=6h", "from the default to 6h");
	is_int(enrp_transfer_window_set(st, "e1", 6 * 3600, &actor), -EALREADY, "the same again: -EALREADY");
	is_int(journal_last_of(st).n, l.n, "... nothing journalled");
	is_int(enrp_transfer_window_set(st, "e1", 90, &actor), -EINVAL, "not whole minutes: -EINVAL");
	is_int(enrp_transfer_window_set(st, "nosuch", 60, &actor), -ENOENT, "no such EIR");
	struct enrp_transfer_plan p;
	ok(enrp_transfer_plan_get(st, "e1", &p) == 0 && p.schedule.n == 1 && p.window == 21600 &&
	   p.since == at("2027-03-01T12:00:00Z"), "the plan: one rule, 6h, since the schedule was set");
}

static void statuses(void)
{
	seal("2027-03-02T01:30:00Z");  /* slot 03-01: met */
	seal("2027-03-03T10:00:00Z");  /* slot 03-02: late (window ended 05:00) */
	                               /* slot 03-03: missed */
	seal("2027-03-04T23:00:00Z");  /* slot 03-04: met at its first second */
	seal("2027-03-06T05:00:00Z");  /* slot 03-05: window ended that second: late */
	seal("2027-03-06T22:59:00Z");  /* before slot 03-06: not for it; 03-05 is late already */
	                               /* slot 03-06: missed */
	struct enrp_slot_report *r;
	size_t n;
	int rc = enrp_transfer_slots(st, "e1", utc, at("2027-02-27T00:00:00Z"),
	                             at("2027-03-08T00:00:00Z"), at("2027-03-07T12:00:00Z"), &r, &n);
	char got[512] = "";
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char a[32], b[32] = "-";
		enrp_time_format(r[i].slot.start * NS, a, sizeof(a));
		if (r[i].verified)
			enrp_time_format(r[i].verified * NS, b, sizeof(b));
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%.10s %s %s", i ? ", " : "", a,
		         enrp_slot_status_name(r[i].status), b + (r[i].verified ? 11 : 0));
	}
	is_str(got, "2027-03-01 met 01:30:00Z, 2027-03-02 late 10:00:00Z, 2027-03-03 missed -, "
	       "2027-03-04 met 23:00:00Z, 2027-03-05 late 05:00:00Z, 2027-03-06 missed -, "
	       "2027-03-07 pending -",
	       "slots from 02-27 as of 03-07 12:00: none before the schedule was set");
	ok(n > 0 && r[0].slot.window_end == at("2027-03-02T05:00:00Z") &&
	   r[0].slot.type == ENRP_BACKUP_FULL, "the window ends 6h after the start");
	free(r);
	rc = enrp_transfer_slots(st, "e1", utc, at("2027-03-02T00:00:00Z"), at("2027-03-03T00:00:00Z"),
	                         at("2027-03-03T06:00:00Z"), &r, &n);
	ok(rc == 0 && n == 1 && r[0].status == ENRP_SLOT_MISSED,
	   "as of 03-03 06:00, slot 03-02 is missed: its late arrival has not come yet");
	free(r);
	rc = enrp_transfer_slots(st, "e1", utc, at("2027-03-04T00:00:00Z"), at("2027-03-05T00:00:00Z"),
	                         at("2027-03-04T23:00:30Z"), &r, &n);
	ok(rc == 0 && n == 1 && r[0].status == ENRP_SLOT_MET,
	   "a transfer this very minute counts at once");
	free(r);
	rc = enrp_transfer_slots(st, "e1", utc, at("2027-03-01T00:00:00Z"), at("2055-01-01T00:00:00Z"),
	                         at("2027-03-01T00:00:00Z"), &r, &n);
	ok(rc == -E2BIG && r == NULL && n == 0, "more than the maximum of slots: -E2BIG");
	is_int(enrp_transfer_slots(st, "nosuch", utc, 0, 1, 1, &r, &n), -ENOENT, "no such EIR");
}

/* The first checks also show that the slots between the EIR's creation
 * (02-20) and its schedule (03-01 12:00) are not owed. */
static void daemon_check(void)
{
	check("2027-03-02T04:59:00Z", 0, "");
	check("2027-03-02T05:00:00Z", 0, "");
	check("2027-03-03T05:00:00Z", 1, "transfer-missed slot=2027-03-02T23:00:00Z type=full "
	      "window_end=2027-03-03T05:00:00Z");
	check("2027-03-03T05:00:00Z", 0, "");
	check("2027-03-03T09:59:00Z", 0, "");
	check("2027-03-03T10:01:00Z", 1, "transfer-late slot=2027-03-02T23:00:00Z type=full "
	      "window_end=2027-03-03T05:00:00Z verified=2027-03-03T10:00:00Z");
	check("2027-03-03T12:00:00Z", 0, "");
	check("2027-03-04T05:00:00Z", 1, "transfer-missed slot=2027-03-03T23:00:00Z type=full "
	      "window_end=2027-03-04T05:00:00Z");
	check("2027-03-07T12:00:00Z", 3, "transfer-missed slot=2027-03-05T23:00:00Z type=full "
	      "window_end=2027-03-06T05:00:00Z | transfer-late slot=2027-03-05T23:00:00Z type=full "
	      "window_end=2027-03-06T05:00:00Z verified=2027-03-06T05:00:00Z | transfer-missed "
	      "slot=2027-03-06T23:00:00Z type=full window_end=2027-03-07T05:00:00Z");

	/* A restart: the mark is in the store. */
	char path[512];
	snprintf(path, sizeof(path), "%s", enrp_store_path(st));
	enrp_store_close(st);
	ok(enrp_store_open(path, 0, &st) == 0, "store reopened");
	check("2027-03-07T12:00:00Z", 0, "");

	/* Downtime to June: April's slots in one record, the last 31 days'
	 * each on its own. */
	struct since s = { .skip = journal_last_of(st).n };
	unsigned n = 0;
	int rc = enrp_transfer_check(st, utc, at("2027-06-01T00:00:00Z") * NS, &actor, &n);
	enrp_journal_iter(st, NULL, since_cb, &s);
	ok(rc == 0 && n == 32, "after downtime: 32 records (got %u, rc %d)", n, rc);
	static const char want[] = "transfer-missed slots=54 first=2027-03-07T23:00:00Z "
	                           "last=2027-04-29T23:00:00Z | transfer-missed slot=2027-04-30T23:00:00Z";
	ok(strncmp(s.text, want, sizeof(want) - 1) == 0,
	   "the 54 slots older than 31 days in one record, then one each: %.200s", s.text);
	ok(strstr(s.text, "slot=2027-05-30T23:00:00Z") && !strstr(s.text, "slot=2027-05-31"),
	   "up to the last closed window");
	check("2027-06-01T00:00:00Z", 0, "");
}

static void windows(void)
{
	int64_t w;
	char buf[ENRP_TRANSFER_WINDOW_TEXT];
	static const struct { const char *in; int64_t want; const char *out; } ok_cases[] = {
		{ "6h", 21600, "6h" }, { "90m", 5400, "1h30m" }, { "1d12h", 129600, "1d12h" },
		{ "next", 0, "next" }, { "0", 0, "next" }, { "1m", 60, "1m" }, { "366d", 366 * 86400, "366d" },
	};
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		int rc = enrp_transfer_window_parse(ok_cases[i].in, &w);
		enrp_transfer_window_format(w, buf, sizeof(buf));
		ok(rc == 0 && w == ok_cases[i].want && strcmp(buf, ok_cases[i].out) == 0,
		   "window '%s' = %" PRId64 " s, shown '%s' (got %s)", ok_cases[i].in, ok_cases[i].want,
		   ok_cases[i].out, buf);
	}
	static const char *const bad[] = { "30s", "90s", "367d", "", "-1h", "6", "soon", "1h30" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(enrp_transfer_window_parse(bad[i], &w), -EINVAL, "window '%s' refused", bad[i]);
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];

	if (!tmp || enrp_tz_open("UTC", &utc)) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_transfer");
	setup();
	statuses();
	daemon_check();
	windows();
	enrp_store_close(st);
	enrp_tz_free(utc);
	tap_rmrf(tmp);
	return done_testing();
}
