/*
 * eirview.c — the one view of an EIR that `enrpctl status`, `eir list` and
 * `eir show --json` share: how a row is read, which columns exist, what
 * each means and how it is printed.
 *
 * One row builder and one column set, so that the same EIR never shows two
 * different numbers under one name in two commands.  The names that differ
 * from what people may assume:
 *
 *   FILES     regular files only (directories, symlinks and special files
 *             are INODES); FILES = VERIFIED + PENDING + CORRUPT always, where
 *             PENDING counts open files (being written) and queued ones.
 *   STORED    bytes of the chunks that something still references (files,
 *             snapshots, trash): what the EIR costs once garbage is
 *             collected.  It drops at once when a file goes.
 *   DISK      bytes of the EIR's chunk files on disk now (`du -b` of the
 *             files): chunks nothing references stay until garbage
 *             collection (`enrpctl gc`, or the daemon's own) removes them.
 *   RECLAIM   DISK - STORED: what a GC would free.
 *   DISK and RECLAIM list the chunk files (time linear in the EIR's
 *             chunks), so they are counted only when a column or --json
 *             asks for them.
 *   LAST      the platform's time of the latest seal of one of its files
 *             (a verified transfer); AGE is how long ago, INTERVAL what is
 *             expected (an active EIR's rpo; no other EIR has one yet).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/hold.h>
#include <enrp/transfer.h>

#include "ctl.h"

/* --- rows ---------------------------------------------------------------- */

void eir_row_read(struct ctl *ctl, struct eir_row *row, bool want_disk)
{
	uint32_t id = row->eir.id;
	row->have_usage = enrp_eir_usage(ctl->store, id, &row->usage) == 0;
	row->have_files = enrp_eir_files(ctl->store, id, &row->fc) == 0;
	row->files = row->have_files
	                     ? row->fc.open + row->fc.pending + row->fc.verified + row->fc.corrupt
	                     : 0;
	row->have_backlog = enrp_ingest_backlog(ctl->store, id, &row->backlog) == 0;
	row->have_disk = want_disk && row->eir.state != ENRP_STATE_DESTROYED &&
	                 enrp_gc_disk(ctl->store, id, &row->disk) == 0;
	row->have_retention = enrp_retention_get(ctl->store, row->eir.name, &row->retention) == 0;
	row->have_lock = enrp_hold_lock_get(ctl->store, row->eir.name, &row->lock_days) == 0;
	struct enrp_transfer_plan plan;
	row->have_window = enrp_transfer_plan_get(ctl->store, row->eir.name, &plan) == 0;
	row->window = row->have_window ? plan.window : 0;
	row->have_form = enrp_form_get(ctl->store, row->eir.name, &row->form) == 0;
	row->have_destruction = row->eir.state == ENRP_STATE_DESTROYED &&
	                        enrp_destroy_record(ctl->store, id, &row->destruction) == 0;
}

struct collect {
	struct eir_row *rows;
	size_t n, cap;
};

static int collect_cb(const struct enrp_eir *eir, void *arg)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->rows = ctl_xrealloc(c->rows, c->cap, sizeof(*c->rows));
	}
	c->rows[c->n++] = (struct eir_row){ .eir = *eir };
	return 0;
}

int eir_collect(struct ctl *ctl, bool want_disk, struct eir_row **rows, size_t *n)
{
	struct collect c = { 0 };
	/* Usage is read after the walk: no nested reads inside core's callback. */
	int rc = enrp_eir_list(ctl->store, collect_cb, &c);
	if (rc < 0) {
		free(c.rows);
		return rc;
	}
	for (size_t i = 0; i < c.n; i++)
		eir_row_read(ctl, &c.rows[i], want_disk);
	*rows = c.rows;
	*n = c.n;
	return 0;
}

int64_t eir_interval_ns(const struct enrp_eir *e)
{
	if (e->state != ENRP_STATE_NORMAL)
		return 0; /* suspended or retired: no transfer is expected */
	if (e->mode == ENRP_MODE_ACTIVE && e->rpo_minutes)
		return (int64_t)e->rpo_minutes * 60 * 1000000000;
	return 0;
}

/* --- JSON ---------------------------------------------------------------- */

static void json_kv_time(struct json *j, const char *key, int64_t ns)
{
	char buf[TIME_BUF];
	if (ns == 0) {
		json_kv_str(j, key, NULL);
		return;
	}
	time_iso(ns, buf);
	json_kv_str(j, key, buf);
}

static void json_kv_opt(struct json *j, const char *key, bool have, uint64_t v)
{
	json_key(j, key);
	if (have)
		json_u64(j, v);
	else
		json_null(j);
}

/* Seconds from NS to NOW (never negative), or null when NS is 0. */
static void json_kv_age(struct json *j, const char *key, int64_t ns, int64_t now)
{
	json_key(j, key);
	if (ns == 0)
		json_null(j);
	else
		json_i64(j, now > ns ? (now - ns) / 1000000000 : 0);
}

void eir_json(struct json *j, const struct eir_row *row, int64_t now)
{
	const struct enrp_eir *e = &row->eir;
	char buf[32];
	char *s;

	json_object_begin(j);
	json_kv_str(j, "name", e->name);
	json_kv_u64(j, "id", e->id);
	json_kv_str(j, "mode", enrp_mode_name(e->mode));
	json_kv_str(j, "state", enrp_state_name(e->state));
	json_kv_str(j, "state_reason", e->state_reason[0] ? e->state_reason : NULL);
	if (row->have_destruction) {
		char when[TIME_BUF];
		time_iso(row->destruction.finished ? row->destruction.finished_at
		                                   : row->destruction.started, when);
		json_kv_str(j, "destroyed_at", when);
		json_kv_bool(j, "destruction_finished", row->destruction.finished);
	}
	json_kv_u64(j, "class", e->eir_class);
	s = user_name(e->owner_uid);
	json_kv_str(j, "owner", s);
	free(s);
	json_kv_u64(j, "owner_uid", e->owner_uid);
	s = group_name(e->owner_gid);
	json_kv_str(j, "group", s);
	free(s);
	json_kv_u64(j, "owner_gid", e->owner_gid);
	snprintf(buf, sizeof(buf), "%04" PRIo32, e->dir_mode);
	json_kv_str(j, "dir_mode", buf);
	json_kv_u64(j, "quota", e->quota);
	json_kv_u64(j, "max_files", e->max_files);
	json_kv_opt(j, "used", row->have_usage, row->usage.bytes);
	json_key(j, "quota_used_percent");
	if (row->have_usage && e->quota)
		json_f64(j, 100.0 * (double)row->usage.bytes / (double)e->quota, 1);
	else
		json_null(j);
	json_kv_opt(j, "files", row->have_files, row->files);
	json_kv_opt(j, "verified", row->have_files, row->fc.verified);
	json_kv_opt(j, "pending", row->have_files, row->fc.open + row->fc.pending);
	json_kv_opt(j, "open", row->have_files, row->fc.open);
	json_kv_opt(j, "queued", row->have_files, row->fc.pending);
	json_kv_opt(j, "corrupt", row->have_files, row->fc.corrupt);
	json_kv_opt(j, "inodes", row->have_usage, row->usage.inodes);
	json_kv_opt(j, "backlog_files", row->have_backlog, row->backlog.files);
	json_kv_time(j, "backlog_oldest", row->have_backlog ? row->backlog.oldest_queued : 0);
	json_kv_age(j, "backlog_age_s", row->have_backlog ? row->backlog.oldest_queued : 0, now);
	int64_t last = row->have_files ? row->fc.last_sealed : 0;
	json_kv_time(j, "last_verified", last);
	json_kv_i64(j, "last_verified_ns", last);
	json_kv_age(j, "last_verified_age_s", last, now);
	int64_t interval = eir_interval_ns(e);
	json_key(j, "interval_s");
	if (interval)
		json_i64(j, interval / 1000000000);
	else
		json_null(j);
	json_kv_str(j, "interval_source", interval ? "rpo" : NULL);
	json_kv_opt(j, "stored", row->have_usage, row->usage.stored);
	json_kv_opt(j, "chunks", row->have_usage, row->usage.chunks);
	json_kv_opt(j, "disk", row->have_disk, row->disk.bytes);
	json_kv_opt(j, "disk_chunks", row->have_disk, row->disk.chunks);
	json_kv_opt(j, "reclaimable", row->have_disk && row->have_usage,
	            row->disk.bytes > row->usage.stored ? row->disk.bytes - row->usage.stored : 0);
	json_key(j, "ratio");
	if (row->have_usage && row->usage.stored)
		json_f64(j, (double)row->usage.bytes / (double)row->usage.stored, 2);
	else
		json_null(j);
	if (e->agent_uid == ENRP_NO_UID) {
		json_kv_str(j, "agent", NULL);
		json_key(j, "agent_uid");
		json_null(j);
	} else {
		s = user_name(e->agent_uid);
		json_kv_str(j, "agent", s);
		free(s);
		json_kv_u64(j, "agent_uid", e->agent_uid);
	}
	json_kv_u64(j, "rpo_minutes", e->rpo_minutes);
	/* null: no policy (or unreadable); else the canonical text. */
	char policy[ENRP_RETENTION_SPEC_MAX];
	enrp_retention_format(&row->retention, policy, sizeof(policy));
	json_kv_str(j, "retention", row->have_retention && policy[0] ? policy : NULL);
	json_kv_opt(j, "lock_days", row->have_lock, row->lock_days);
	char window[ENRP_TRANSFER_WINDOW_TEXT];
	enrp_transfer_window_format(row->window, window, sizeof(window));
	json_kv_str(j, "schedule_window", row->have_window ? window : NULL);
	/* The registration form: every field, null when not filled in. */
	json_key(j, "form");
	json_object_begin(j);
	for (unsigned f = 0; f < ENRP_FORM_FIELDS; f++)
		json_kv_str(j, enrp_form_key((enum enrp_form_field)f),
		            row->have_form && row->form.value[f][0] ? row->form.value[f] : NULL);
	json_object_end(j);
	json_kv_bool(j, "escalated", e->escalated_until != 0 && e->escalated_until > now);
	json_kv_time(j, "escalated_until", e->escalated_until);
	json_kv_i64(j, "escalated_until_ns", e->escalated_until);
	json_kv_str(j, "escalation_reason",
	             e->escalation_reason[0] ? e->escalation_reason : NULL);
	json_kv_time(j, "created", e->created);
	json_kv_i64(j, "created_ns", e->created);
	json_object_end(j);
}

/* --- columns ------------------------------------------------------------- */

enum col {
	COL_NAME, COL_ID, COL_CLASS, COL_MODE, COL_STATE, COL_OWNER, COL_USED, COL_QUOTA,
	COL_USE, COL_INODES, COL_FILES, COL_VERIFIED, COL_PENDING, COL_CORRUPT, COL_BACKLOG,
	COL_BACKLOG_AGE, COL_LAST, COL_AGE, COL_INTERVAL, COL_STORED, COL_CHUNKS, COL_DISK,
	COL_RECLAIM, COL_RATIO, COL_DESTROYED, COL_COUNT
};

static const struct {
	const char *name, *header;
	bool right, disk;
} cols[COL_COUNT] = {
	[COL_NAME] = { "name", "NAME", false, false },
	[COL_ID] = { "id", "ID", true, false },
	[COL_CLASS] = { "class", "CLASS", true, false },
	[COL_MODE] = { "mode", "MODE", false, false },
	[COL_STATE] = { "state", "STATE", false, false },
	[COL_OWNER] = { "owner", "OWNER", false, false },
	[COL_USED] = { "used", "USED", true, false },
	[COL_QUOTA] = { "quota", "QUOTA", true, false },
	[COL_USE] = { "use", "USE%", true, false },
	[COL_INODES] = { "inodes", "INODES", true, false },
	[COL_FILES] = { "files", "FILES", true, false },
	[COL_VERIFIED] = { "verified", "VERIFIED", true, false },
	[COL_PENDING] = { "pending", "PENDING", true, false },
	[COL_CORRUPT] = { "corrupt", "CORRUPT", true, false },
	[COL_BACKLOG] = { "backlog", "BACKLOG", true, false },
	[COL_BACKLOG_AGE] = { "backlog-age", "BACKLOG-AGE", true, false },
	[COL_LAST] = { "last", "LAST-VERIFIED", false, false },
	[COL_AGE] = { "age", "AGE", true, false },
	[COL_INTERVAL] = { "interval", "INTERVAL", true, false },
	[COL_STORED] = { "stored", "STORED", true, false },
	[COL_CHUNKS] = { "chunks", "CHUNKS", true, false },
	[COL_DISK] = { "disk", "DISK", true, true },
	[COL_RECLAIM] = { "reclaim", "RECLAIM", true, true },
	[COL_RATIO] = { "ratio", "RATIO", true, false },
	[COL_DESTROYED] = { "destroyed", "DESTROYED", false, false },
};

void eir_columns_default(struct eir_columns *c)
{
	static const unsigned def[] = {
		COL_NAME, COL_CLASS, COL_MODE, COL_STATE, COL_USED, COL_QUOTA, COL_FILES,
		COL_PENDING, COL_CORRUPT, COL_LAST, COL_AGE, COL_STORED, COL_RATIO,
	};
	*c = (struct eir_columns){ .n = sizeof(def) / sizeof(def[0]) };
	memcpy(c->col, def, sizeof(def));
}

static void columns_hint(void)
{
	char list[512] = "";
	for (size_t i = 0; i < COL_COUNT; i++) {
		strcat(list, cols[i].name);
		if (i + 1 < COL_COUNT)
			strcat(list, ",");
	}
	ctl_hint("the columns are %s", list);
}

int eir_columns_parse(const char *spec, struct eir_columns *c)
{
	*c = (struct eir_columns){ 0 };
	const char *p = spec;
	for (;;) {
		size_t len = strcspn(p, ",");
		size_t i;
		for (i = 0; i < COL_COUNT; i++)
			if (strlen(cols[i].name) == len && strncmp(cols[i].name, p, len) == 0)
				break;
		if (i == COL_COUNT) {
			ctl_err("unknown column '%.*s' in -o", (int)len, p);
			columns_hint();
			return CTL_USAGE;
		}
		for (size_t k = 0; k < c->n; k++)
			if (c->col[k] == i) {
				ctl_err("column '%s' is given twice in -o", cols[i].name);
				columns_hint();
				return CTL_USAGE;
			}
		c->col[c->n++] = (unsigned)i;
		c->need_disk |= cols[i].disk;
		if (p[len] == '\0')
			return CTL_CONTINUE;
		p += len + 1;
	}
}

void age_human(int64_t ns, char buf[AGE_BUF])
{
	int64_t s = ns > 0 ? ns / 1000000000 : 0;
	/* A whole number of hours or minutes (intervals, thresholds) reads as
	 * given: "1h", "1m", not "60m", "60s". */
	if (s >= 3600 && s % 3600 == 0 && s < 48 * 3600)
		snprintf(buf, AGE_BUF, "%" PRId64 "h", s / 3600);
	else if (s >= 60 && s % 60 == 0 && s < 120 * 60)
		snprintf(buf, AGE_BUF, "%" PRId64 "m", s / 60);
	else if (s < 120)
		snprintf(buf, AGE_BUF, "%" PRId64 "s", s);
	else if (s < 120 * 60)
		snprintf(buf, AGE_BUF, "%" PRId64 "m", s / 60);
	else if (s < 48 * 3600)
		snprintf(buf, AGE_BUF, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, AGE_BUF, "%" PRId64 "d%02" PRId64 "h", s / 86400, s / 3600 % 24);
}

static void cell_size(struct table *t, bool have, uint64_t v)
{
	char buf[SIZE_BUF];
	size_human(v, buf);
	table_cell(t, "%s", have ? buf : "-");
}

static void cell_count(struct table *t, bool have, uint64_t v)
{
	if (have)
		table_cell(t, "%" PRIu64, v);
	else
		table_cell(t, "-");
}

static void cell(struct table *t, unsigned col, const struct eir_row *r, int64_t now)
{
	const struct enrp_eir *e = &r->eir;
	char buf[TIME_BUF > SIZE_BUF ? TIME_BUF : SIZE_BUF];
	int64_t last = r->have_files ? r->fc.last_sealed : 0;

	switch ((enum col)col) {
	case COL_NAME: table_cell(t, "%s", e->name); break;
	case COL_ID: table_cell(t, "%" PRIu32, e->id); break;
	case COL_CLASS: table_cell(t, "%u", (unsigned)e->eir_class); break;
	case COL_MODE: table_cell(t, "%s", enrp_mode_name(e->mode)); break;
	case COL_STATE: table_cell(t, "%s", enrp_state_name(e->state)); break;
	case COL_OWNER: {
		char *owner = user_label(e->owner_uid);
		table_cell(t, "%s", owner);
		free(owner);
		break;
	}
	case COL_USED: cell_size(t, r->have_usage, r->usage.bytes); break;
	case COL_QUOTA: quota_human(e->quota, buf); table_cell(t, "%s", buf); break;
	case COL_USE:
		if (r->have_usage && e->quota)
			table_cell(t, "%.0f%%", 100.0 * (double)r->usage.bytes / (double)e->quota);
		else
			table_cell(t, "-");
		break;
	case COL_INODES: cell_count(t, r->have_usage, r->usage.inodes); break;
	case COL_FILES: cell_count(t, r->have_files, r->files); break;
	case COL_VERIFIED: cell_count(t, r->have_files, r->fc.verified); break;
	case COL_PENDING: cell_count(t, r->have_files, r->fc.open + r->fc.pending); break;
	case COL_CORRUPT: cell_count(t, r->have_files, r->fc.corrupt); break;
	case COL_BACKLOG: cell_count(t, r->have_backlog, r->backlog.files); break;
	case COL_BACKLOG_AGE:
		if (r->have_backlog && r->backlog.files) {
			age_human(now - r->backlog.oldest_queued, buf);
			table_cell(t, "%s", buf);
		} else {
			table_cell(t, "-");
		}
		break;
	case COL_LAST:
		if (last) {
			time_iso(last, buf);
			table_cell(t, "%s", buf);
		} else {
			table_cell(t, "%s", r->have_files ? "never" : "-");
		}
		break;
	case COL_AGE:
		if (last) {
			age_human(now - last, buf);
			table_cell(t, "%s", buf);
		} else {
			table_cell(t, "-");
		}
		break;
	case COL_INTERVAL: {
		int64_t iv = eir_interval_ns(e);
		if (iv) {
			age_human(iv, buf);
			table_cell(t, "%s", buf);
		} else {
			table_cell(t, "-");
		}
		break;
	}
	case COL_STORED: cell_size(t, r->have_usage, r->usage.stored); break;
	case COL_CHUNKS: cell_count(t, r->have_usage, r->usage.chunks); break;
	case COL_DISK: cell_size(t, r->have_disk, r->disk.bytes); break;
	case COL_RECLAIM:
		cell_size(t, r->have_disk && r->have_usage,
		          r->disk.bytes > r->usage.stored ? r->disk.bytes - r->usage.stored : 0);
		break;
	case COL_RATIO:
		/* Logical bytes per stored byte: what dedup and compression save
		 * together (pending files count once sealed). */
		if (r->have_usage && r->usage.stored)
			table_cell(t, "%.2fx", (double)r->usage.bytes / (double)r->usage.stored);
		else
			table_cell(t, "-");
		break;
	case COL_DESTROYED:
		/* When the key went: from then on the EIR is gone for everyone. */
		if (r->have_destruction) {
			time_iso(r->destruction.started, buf);
			table_cell(t, "%s%s", buf, r->destruction.finished ? "" : "*");
		} else {
			table_cell(t, "-");
		}
		break;
	case COL_COUNT: table_cell(t, "?"); break;
	}
}

void eir_table_print(const struct eir_columns *c, const struct eir_row *rows, size_t n,
                     int64_t now, FILE *f)
{
	const char *headers[EIR_COLUMNS_MAX];
	for (size_t k = 0; k < c->n; k++)
		headers[k] = cols[c->col[k]].header;
	struct table *t = table_new(c->n, headers);
	for (size_t k = 0; k < c->n; k++)
		if (cols[c->col[k]].right)
			table_align_right(t, k);
	for (size_t i = 0; i < n; i++) {
		table_row(t);
		for (size_t k = 0; k < c->n; k++)
			cell(t, c->col[k], &rows[i], now);
	}
	table_print(t, f);
	table_free(t);
}
