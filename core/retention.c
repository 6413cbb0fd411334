/*
 * retention.c — retention policies: their text, the snapshot selection, and
 * their place in the store.
 *
 * Selection is `borg prune` 1.2's (borg/helpers/misc.py prune_split), so an
 * operator who knows borg can predict it, and t5100 checks it against borg
 * itself.  The contract, for each rule in the order of enum enrp_keep_rule:
 *
 *   1. Snapshots are walked newest first (of equal times, the higher index
 *      first).  Each has a period in the platform's zone: its second (last),
 *      hour, day, ISO week, month or year.
 *   2. A snapshot whose period differs from the previous snapshot's starts
 *      a new period; if no earlier rule keeps it, this rule keeps it, and
 *      stops once it has kept N.  A period whose newest snapshot an earlier
 *      rule already keeps uses up no count of this one: the rule moves on
 *      to the next period.  (So keep-last=1,keep-daily=1 keeps the newest
 *      snapshot and the newest of an earlier day.)
 *   3. If the walk ends with fewer than N kept, the oldest snapshot is kept
 *      too, unless something already keeps it (borg's "rule[oldest]").
 *
 * No rule at all keeps everything (borg refuses to run instead): a missing
 * policy must never delete.
 *
 * Storing: the canonical text is the EIR's "retention" setting in
 * DBI_POLICY, changed together with its journal record in one transaction.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/retention.h>

#include "eir_int.h"
#include "retention_int.h"
#include "journal_int.h"

#define NS_PER_SEC 1000000000LL
#define SETTING_RETENTION "retention"
/* Digits in the largest bound: anything longer is out of range. */
#define NUMBER_DIGITS_MAX 9

static const char *const keep_keys[ENRP_KEEP_RULES] = {
	[ENRP_KEEP_LAST] = "keep-last",     [ENRP_KEEP_HOURLY] = "keep-hourly",
	[ENRP_KEEP_DAILY] = "keep-daily",   [ENRP_KEEP_WEEKLY] = "keep-weekly",
	[ENRP_KEEP_MONTHLY] = "keep-monthly", [ENRP_KEEP_YEARLY] = "keep-yearly",
};

static const char *const rule_names[ENRP_KEEP_RULES] = {
	[ENRP_KEEP_LAST] = "last",     [ENRP_KEEP_HOURLY] = "hourly",
	[ENRP_KEEP_DAILY] = "daily",   [ENRP_KEEP_WEEKLY] = "weekly",
	[ENRP_KEEP_MONTHLY] = "monthly", [ENRP_KEEP_YEARLY] = "yearly",
};

#define FILES_KEY "files"

const char *enrp_keep_rule_name(enum enrp_keep_rule rule)
{
	return (unsigned)rule < ENRP_KEEP_RULES ? rule_names[rule] : "none";
}

int enrp_retention_has_keep(const struct enrp_retention *p)
{
	for (int r = 0; r < ENRP_KEEP_RULES; r++)
		if (p->keep[r])
			return 1;
	return 0;
}

/* ---- text ---- */

/* ERR reads "'ITEM': WHY", or WHY alone when LEN is 0. */
static int fail(char *err, size_t errsz, const char *item, size_t len, const char *why)
{
	if (err && errsz && len)
		snprintf(err, errsz, "'%.*s': %s", (int)len, item, why);
	else if (err && errsz)
		snprintf(err, errsz, "%s", why);
	return -EINVAL;
}

/* Decimal digits only, as the whole of [P, P+LEN); -1 if not, or too long
 * to be in any bound. */
static long long number(const char *p, size_t len)
{
	long long v = 0;
	if (len == 0 || len > NUMBER_DIGITS_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

int enrp_retention_parse(const char *s, struct enrp_retention *out, char *err, size_t errsz)
{
	struct enrp_retention p;
	bool seen[ENRP_KEEP_RULES + 1] = { false }; /* the last one is files= */

	memset(&p, 0, sizeof(p));
	if (!s)
		return fail(err, errsz, "", 0, "no policy given");
	if (strlen(s) > ENRP_RETENTION_SPEC_MAX)
		return fail(err, errsz, "", 0, "policy longer than 256 characters");
	const char *item = s;
	while (*s) {
		size_t len = strcspn(item, ",");
		const char *eq = memchr(item, '=', len);
		if (len == 0)
			return fail(err, errsz, "", 0,
			            "empty item (two commas, or a comma at an end)");
		if (!eq || eq == item)
			return fail(err, errsz, item, len, "expected KEY=NUMBER");
		size_t klen = (size_t)(eq - item);
		int slot = -1;
		for (int r = 0; r < ENRP_KEEP_RULES; r++)
			if (strlen(keep_keys[r]) == klen && memcmp(item, keep_keys[r], klen) == 0)
				slot = r;
		if (klen == strlen(FILES_KEY) && memcmp(item, FILES_KEY, klen) == 0)
			slot = ENRP_KEEP_RULES;
		if (slot < 0)
			return fail(err, errsz, item, klen,
			            "unknown key (known: files, keep-last, keep-hourly, "
			            "keep-daily, keep-weekly, keep-monthly, keep-yearly)");
		if (seen[slot])
			return fail(err, errsz, item, klen, "given more than once");
		seen[slot] = true;
		long long v = number(eq + 1, len - klen - 1);
		if (v < 0)
			return fail(err, errsz, item, len,
			            "the value must be a whole number of digits 0-9");
		if (slot == ENRP_KEEP_RULES) {
			/* files=0 would delete every live file at the next prune:
			 * leaving files= out is how to keep them forever. */
			if (v < 1 || v > ENRP_RETENTION_FILES_DAYS_MAX)
				return fail(err, errsz, item, len,
				            "days must be 1 to 36500 (leave files= out to "
				            "keep files forever)");
			p.files_days = (uint32_t)v;
		} else {
			if (v > ENRP_RETENTION_KEEP_MAX)
				return fail(err, errsz, item, len, "at most 100000");
			p.keep[slot] = (uint32_t)v;
		}
		s = item + len;
		if (*s == ',') {
			s++;
			if (!*s)
				return fail(err, errsz, "", 0, "empty item (a comma at the end)");
		}
		item = s;
	}
	*out = p;
	return 0;
}

void enrp_retention_format(const struct enrp_retention *p, char *buf, size_t bufsz)
{
	size_t n = 0;
	if (bufsz == 0)
		return;
	buf[0] = '\0';
	if (p->files_days)
		n += (size_t)snprintf(buf + n, bufsz - n, "%s=%u", FILES_KEY, p->files_days);
	for (int r = 0; r < ENRP_KEEP_RULES && n < bufsz; r++)
		if (p->keep[r])
			n += (size_t)snprintf(buf + n, bufsz - n, "%s%s=%u", n ? "," : "",
			                      keep_keys[r], p->keep[r]);
}

/* ---- selection ---- */

struct snap {
	int64_t ts;
	size_t index;
};

/* Newest first; of equal times the higher index first. */
static int newest_first(const void *a, const void *b)
{
	const struct snap *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? 1 : -1;
	return x->index < y->index ? 1 : x->index > y->index ? -1 : 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The period of second T under RULE, as one number: equal numbers are the
 * same period (borg compares strftime texts of the local time). */
static int64_t period(enum enrp_keep_rule rule, const enrp_tz *tz, int64_t t)
{
	struct enrp_civil c;

	if (rule == ENRP_KEEP_LAST)
		return t;
	enrp_tz_civil(tz, t, &c);
	switch (rule) {
	case ENRP_KEEP_HOURLY:
		/* Local seconds, so both 02:xx hours of a night the clocks go
		 * back are one "%Y-%m-%d %H", as in borg. */
		return floor_div(t + c.utc_offset, 3600);
	case ENRP_KEEP_DAILY:
		return floor_div(t + c.utc_offset, 86400);
	case ENRP_KEEP_WEEKLY:
		return (int64_t)c.iso_year * 100 + c.iso_week;
	case ENRP_KEEP_MONTHLY:
		return (int64_t)c.year * 12 + c.month - 1;
	default:
		return c.year;
	}
}

int enrp_retention_select(const struct enrp_retention *p, const enrp_tz *tz, const int64_t *ts,
                          size_t n, struct enrp_retention_pick *out)
{
	const struct enrp_retention_pick unkept = { ENRP_KEEP_RULES, 0, 0 };

	for (size_t i = 0; i < n; i++)
		out[i] = unkept;
	if (!enrp_retention_has_keep(p)) {
		for (size_t i = 0; i < n; i++)
			out[i].rule = ENRP_KEEP_LAST;
		return 0;
	}
	if (n == 0)
		return 0;
	struct snap *order = malloc(n * sizeof(*order));
	if (!order)
		return -ENOMEM;
	/* Sorted on the full times, as borg sorts its microsecond ones; the
	 * periods come from whole seconds, as borg's time.localtime. */
	for (size_t i = 0; i < n; i++) {
		order[i].ts = ts[i];
		order[i].index = i;
	}
	qsort(order, n, sizeof(*order), newest_first);

	for (int r = 0; r < ENRP_KEEP_RULES; r++) {
		uint32_t want = p->keep[r], kept = 0;
		bool have_last = false;
		int64_t last = 0;
		size_t i;

		if (want == 0)
			continue;
		for (i = 0; i < n; i++) {
			int64_t per = period(r, tz, floor_div(order[i].ts, NS_PER_SEC));
			if (have_last && per == last)
				continue;
			have_last = true;
			last = per;
			struct enrp_retention_pick *pick = &out[order[i].index];
			if (pick->rule != ENRP_KEEP_RULES)
				continue;
			pick->rule = r;
			pick->number = ++kept;
			if (kept == want)
				break;
		}
		struct enrp_retention_pick *oldest = &out[order[n - 1].index];
		if (kept < want && oldest->rule == ENRP_KEEP_RULES) {
			oldest->rule = r;
			oldest->number = ++kept;
			oldest->oldest = 1;
		}
	}
	free(order);
	return 0;
}

/* ---- the store ---- */

struct get_ctx {
	const char *name;
	struct enrp_retention *out;
};

static int policy_get_txn(enrp_txn *t, uint32_t id, struct enrp_retention *out)
{
	char text[ENRP_RETENTION_SPEC_MAX + 1];
	const void *v;
	size_t len;
	int rc = eir_setting_get(t, id, SETTING_RETENTION, &v, &len);

	if (rc == -ENOENT) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (rc)
		return rc;
	if (len > ENRP_RETENTION_SPEC_MAX)
		return -EIO;
	memcpy(text, v, len);
	text[len] = '\0';
	/* Only enrp_retention_set writes it: anything unparsable is damage. */
	return enrp_retention_parse(text, out, NULL, 0) ? -EIO : 0;
}

static int get_fn(enrp_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	struct enrp_eir e;
	int rc = eir_get_by_name_txn(t, c->name, &e);
	if (rc)
		return rc;
	return policy_get_txn(t, e.id, c->out);
}

int enrp_retention_get(enrp_store *st, const char *name, struct enrp_retention *out)
{
	struct get_ctx c = { name, out };
	return enrp_store_read(st, get_fn, &c);
}

struct set_ctx {
	const char *name;
	const struct enrp_retention *policy;
	const struct enrp_actor *actor;
};

static int set_fn(enrp_txn *t, void *arg)
{
	struct set_ctx *c = arg;
	struct enrp_eir e;
	int rc = eir_get_by_name_txn(t, c->name, &e);

	if (rc)
		return rc;
	return retention_set_txn(t, &e, c->policy, c->actor);
}

int retention_set_txn(enrp_txn *t, const struct enrp_eir *eir, const struct enrp_retention *p,
                      const struct enrp_actor *actor)
{
	char text[ENRP_RETENTION_SPEC_MAX], old[ENRP_RETENTION_SPEC_MAX];
	char details[2 * ENRP_RETENTION_SPEC_MAX + 32];
	struct enrp_retention prev;
	const struct enrp_eir *ep = eir;
	int rc;

	if (ep->state == ENRP_STATE_DESTROYED)
		return -EINVAL;
	rc = policy_get_txn(t, ep->id, &prev);
	if (rc)
		return rc;
	enrp_retention_format(&prev, old, sizeof(old));
	enrp_retention_format(p, text, sizeof(text));
	if (text[0])
		rc = eir_setting_put(t, ep->id, SETTING_RETENTION, text, strlen(text));
	else
		rc = eir_setting_del(t, ep->id, SETTING_RETENTION);
	if (rc)
		return rc;
	/* A policy holds '=' and so is always quoted: policy="keep-daily=7". */
	details[0] = '\0';
	enrp_details_add(details, sizeof(details), "policy", "%s", text);
	enrp_details_add(details, sizeof(details), "was", "%s", old);
	return journal_append_txn(t, actor, ep->name, "retention-set", details);
}

int enrp_retention_set(enrp_store *st, const char *name, const struct enrp_retention *p,
                       const struct enrp_actor *actor)
{
	struct set_ctx c = { name, p, actor };
	return enrp_store_write(st, set_fn, &c);
}

bool enrp_retention_shortens(const struct enrp_retention *cur,
                             const struct enrp_retention *next)
{
	bool cur_keeps = enrp_retention_has_keep(cur), next_keeps = enrp_retention_has_keep(next);
	if (!cur->files_days && !cur_keeps)
		return false; /* no policy yet */
	if (next->files_days && (!cur->files_days || next->files_days < cur->files_days))
		return true;
	if (!next_keeps)
		return false; /* every snapshot kept */
	if (!cur_keeps)
		return true;
	for (int i = 0; i < ENRP_KEEP_RULES; i++)
		if (next->keep[i] < cur->keep[i])
			return true;
	return false;
}
