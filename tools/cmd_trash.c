/*
 * cmd_trash.c — `enrpctl trash list|restore|purge`: the verified copies
 * that clients deleted or overwrote (core/trash.c).  Only root runs
 * enrpctl, and nothing in a mount reaches trash: an owner (or whoever has
 * the owner's credentials) can neither see nor purge it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/rundir.h>
#include <enrp/trash.h>
#include <enrp/units.h>

#include "ctl.h"

#define SYNC_TIMEOUT_MS 10000

static const struct ctl_help trash_help = {
	"enrpctl [-S STORE] trash list|restore|purge ...",
	N_("Verified copies that clients deleted, renamed over, truncated or rewrote\n"
	"stay in the EIR's trash, still stored, until its retention files=DAYS has\n"
	"passed since they were sealed (prune removes them then).  Owners cannot\n"
	"see or purge trash; their quota does not count it.\n"
	"\n"
	"Verbs:\n"
	"  list EIR [--json]             show an EIR's trash, oldest first\n"
	"  restore EIR ID [--to PATH] [--json]  bring a copy back as a verified file\n"
	"  purge EIR [ID] [--json]       free one entry, or all, early\n"),
};

static const struct ctl_help list_help = {
	"enrpctl [-S STORE] trash list EIR [--json]",
	N_("Lists the trash of EIR: id, path (its last name when it went, or for a\n"
	"rewrite the file's name now; '?/NAME' when its directory is gone), size,\n"
	"when sealed, when trashed, why (deleted, renamed-over, truncated,\n"
	"overwritten) and when it expires (files=DAYS after its seal; '-' without\n"
	"a retention).\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON array (with sha256, inode, mode, owner)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help restore_help = {
	"enrpctl [-S STORE] trash restore EIR ID [--to PATH] [--json]",
	N_("Re-creates trash entry ID as a verified file with its old checksum and\n"
	"chunks (no data is copied), at its old path or at PATH (relative to the\n"
	"EIR), and removes the entry.  Nothing is ever overwritten: if something\n"
	"has that name the restore is refused.  Directories are not created.\n"
	"\n"
	"Options:\n"
	"  --to PATH          where to put it (required for rewritten copies)\n"
	"  --json             print the restored file as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help purge_help = {
	"enrpctl [-S STORE] trash purge EIR [ID] [--json]",
	N_("Frees trash entry ID of EIR, or every entry of EIR, before it expires\n"
	"(a space emergency); a running enrpfs then collects the chunks nothing\n"
	"else uses at once (else run 'enrpctl gc').  A copy that is held, or\n"
	"still under the EIR's lock (counted from its seal), is never purged.\n"
	"Journalled as trash-purge with the counts.\n"
	"\n"
	"Options:\n"
	"  --json             print the counts as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* A decimal trash id (> 0). */
static bool parse_id(const char *s, uint64_t *id)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v == 0)
		return false;
	*id = v;
	return true;
}

/* Parses the common options of a verb; returns CTL_CONTINUE or an exit. */
static int verb_options(struct ctl *ctl, int argc, char **argv, const struct ctl_help *help,
                        const char **to)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 't' && to) {
			*to = optarg;
			continue;
		}
		if (c == 't')
			return ctl_usage_error(ctl, help, "option '--to' is not for this verb");
		rc = ctl_common_option(ctl, c, optarg, help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	return CTL_CONTINUE;
}

/* Commits the daemon's open group, so that what clients deleted a moment
 * ago is listed; no daemon is no error. */
static void daemon_sync(struct ctl *ctl)
{
	int rc = enrp_control_request(ctl->store_path, "sync", NULL, 0, SYNC_TIMEOUT_MS);
	if (rc && rc != -ENOENT && rc != -ECONNREFUSED)
		ctl_warn("the running enrpfs did not commit its latest changes: %s; "
		         "the last second of deletions may be missing", enrp_strerror(rc));
}

struct list_out {
	struct table *t;
	struct json *j;
};

static void display_path(const struct enrp_trash_entry *e, char *buf, size_t n)
{
	if (e->path[0])
		snprintf(buf, n, "%s", e->path);
	else if (e->name[0])
		snprintf(buf, n, "?/%s", e->name);
	else
		snprintf(buf, n, "? (inode %" PRIu64 ")", e->ino);
}

static int list_one(const struct enrp_trash_entry *e, void *arg)
{
	struct list_out *o = arg;
	char sealed[TIME_BUF], trashed[TIME_BUF], expires[TIME_BUF], sha[65];
	char path[ENRP_TRASH_PATH_MAX + 64];
	time_iso(e->sealed_at, sealed);
	time_iso(e->trashed_at, trashed);
	if (e->expires)
		time_iso(e->expires, expires);
	else
		snprintf(expires, sizeof(expires), "-");
	hex_encode(e->sha256, 32, sha);
	display_path(e, path, sizeof(path));
	if (o->j) {
		json_object_begin(o->j);
		json_kv_u64(o->j, "id", e->id);
		json_kv_str(o->j, "eir", e->eir);
		json_kv_str(o->j, "path", e->path[0] ? e->path : NULL);
		json_kv_str(o->j, "name", e->name[0] ? e->name : NULL);
		json_kv_u64(o->j, "ino", e->ino);
		json_kv_u64(o->j, "size", e->size);
		json_kv_str(o->j, "sha256", sha);
		json_kv_str(o->j, "sealed", sealed);
		json_kv_str(o->j, "trashed", trashed);
		json_kv_str(o->j, "why", enrp_trash_why_name(e->why));
		json_kv_str(o->j, "expires", e->expires ? expires : NULL);
		json_kv_u64(o->j, "mode", e->mode & 07777);
		json_kv_u64(o->j, "uid", e->uid);
		json_kv_u64(o->j, "gid", e->gid);
		json_kv_u64(o->j, "chunks", e->chunks);
		json_object_end(o->j);
	} else {
		char size[SIZE_BUF];
		size_human(e->size, size);
		table_row(o->t);
		table_cell(o->t, "%" PRIu64, e->id);
		table_cell(o->t, "%s", size);
		table_cell(o->t, "%s", sealed);
		table_cell(o->t, "%s", trashed);
		table_cell(o->t, "%s", enrp_trash_why_name(e->why));
		table_cell(o->t, "%s", expires);
		table_cell(o->t, "%s", path);
	}
	return 0;
}

static int trash_list(struct ctl *ctl, int argc, char **argv)
{
	int rc = verb_options(ctl, argc, argv, &list_help, NULL);
	if (rc != CTL_CONTINUE)
		return rc;
	if (optind >= argc)
		return ctl_usage_error(ctl, &list_help, "missing EIR");
	const char *eir = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, &list_help, "too many arguments");
	if (!enrp_eir_name_valid(eir))
		return ctl_usage_error(ctl, &list_help, "'%s' is not a valid EIR name", eir);
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	daemon_sync(ctl);
	static const char *const headers[] = { "ID", "SIZE", "SEALED", "TRASHED", "WHY",
		                               "EXPIRES", "PATH" };
	struct listing l;
	listing_begin(&l, ctl->json, 7, headers);
	if (l.t) {
		table_align_right(l.t, 0);
		table_align_right(l.t, 1);
	}
	struct list_out o = { .t = l.t, .j = l.json };
	rc = enrp_trash_list(ctl->store, eir, list_one, &o);
	listing_end(&l, rc == 0);
	if (rc)
		return ctl_eir_error("list the trash of", eir, rc);
	return CTL_OK;
}

static int no_entry(const char *eir, uint64_t id)
{
	ctl_err("no trash entry %" PRIu64 " in EIR '%s'", id, eir);
	ctl_hint("'enrpctl trash list %s' shows its entries", eir);
	return CTL_FAIL;
}

/* EIR, then an ID: required, or maybe one when OPTIONAL_ID (0 when none). */
static int eir_and_id(struct ctl *ctl, int argc, char **argv, const struct ctl_help *help,
                      bool optional_id, const char **eir, uint64_t *id)
{
	if (optind >= argc)
		return ctl_usage_error(ctl, help, "missing EIR");
	*eir = argv[optind++];
	if (!enrp_eir_name_valid(*eir))
		return ctl_usage_error(ctl, help, "'%s' is not a valid EIR name", *eir);
	*id = 0;
	if (optind >= argc) {
		if (optional_id)
			return CTL_CONTINUE;
		return ctl_usage_error(ctl, help, "missing ID (see 'enrpctl trash list %s')", *eir);
	}
	const char *s = argv[optind++];
	if (!parse_id(s, id))
		return ctl_usage_error(ctl, help, "'%s' is not a trash id", s);
	if (optind < argc)
		return ctl_usage_error(ctl, help, "too many arguments");
	return CTL_CONTINUE;
}

static int trash_restore(struct ctl *ctl, int argc, char **argv)
{
	const char *to = NULL, *eir;
	uint64_t id;
	int rc = verb_options(ctl, argc, argv, &restore_help, &to);
	if (rc == CTL_CONTINUE)
		rc = eir_and_id(ctl, argc, argv, &restore_help, false, &eir, &id);
	if (rc != CTL_CONTINUE)
		return rc;
	if (to && (!*to || *to == '/'))
		return ctl_usage_error(ctl, &restore_help,
		                       "--to '%s' must be a path relative to the EIR", to);
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	struct enrp_trash_entry e;
	rc = enrp_trash_restore(ctl->store, eir, id, to, &ctl->actor, &e);
	const char *where = to ? to : "its old path";
	switch (rc) {
	case 0: {
		char sha[65];
		hex_encode(e.sha256, 32, sha);
		if (ctl->json) {
			struct json j;
			json_init(&j, stdout);
			json_object_begin(&j);
			json_kv_str(&j, "eir", eir);
			json_kv_u64(&j, "id", id);
			json_kv_str(&j, "path", e.path);
			json_kv_u64(&j, "size", e.size);
			json_kv_str(&j, "sha256", sha);
			json_object_end(&j);
			json_finish(&j);
		} else {
			ctl_line(stdout, "restored %s #%" PRIu64 " to %s/%s (%" PRIu64 " bytes, sha256 %s)",
			         eir, id, eir, e.path, e.size, sha);
		}
		struct enrp_eir info;
		/* The mount's kernel caches learn of the new name. */
		if (enrp_eir_get(ctl->store, eir, &info) == 0)
			ctl_notify_eir(ctl, eir, info.id);
		return CTL_OK;
	}
	case -ESRCH:
		return no_entry(eir, id);
	case -EEXIST:
		ctl_err("cannot restore %s #%" PRIu64 " to %s: something has that name", eir, id, where);
		ctl_hint("nothing is overwritten: move it away, or give --to ANOTHER/PATH");
		return CTL_FAIL;
	case -EDESTADDRREQ:
		ctl_err("cannot restore %s #%" PRIu64 ": it was rewritten in place and its old name "
		        "is the live file's", eir, id);
		ctl_hint("give --to PATH (relative to the EIR)");
		return CTL_FAIL;
	case -ENOENT:
		ctl_err("cannot restore %s #%" PRIu64 " to %s: its directory is gone "
		        "(or no EIR named '%s')", eir, id, where, eir);
		ctl_hint("directories are not created: make it, or give --to PATH in an existing one");
		return CTL_FAIL;
	case -ENOTDIR:
		ctl_err("cannot restore %s #%" PRIu64 " to %s: a part of the path is not a directory",
		        eir, id, where);
		return CTL_FAIL;
	case -EINVAL:
	case -ENAMETOOLONG:
		ctl_err("cannot restore %s #%" PRIu64 " to %s: not a valid path (no empty, '.' or "
		        "'..' parts)", eir, id, where);
		return CTL_FAIL;
	default:
		return ctl_eir_error("restore trash of", eir, rc);
	}
}

/* A purge is for a space emergency: a running daemon starts collecting the
 * chunks it freed at once (its own timer only sees what it unreferenced
 * itself); without one, the operator runs gc.  Whether it started. */
static bool collect_now(struct ctl *ctl)
{
	int rc = enrp_control_request(ctl->store_path, "gc", NULL, 0, SYNC_TIMEOUT_MS);
	if (rc == 0 && !ctl->json)
		ctl_line(stdout, "the running enrpfs is collecting the chunks nothing uses now");
	else if (rc == -ENOENT || rc == -ECONNREFUSED)
		ctl_hint("'enrpctl gc' frees the chunks nothing uses now");
	else if (rc)
		ctl_warn("the running enrpfs did not start collecting: %s; run 'enrpctl gc'",
		         enrp_strerror(rc));
	return rc == 0;
}

static int trash_purge(struct ctl *ctl, int argc, char **argv)
{
	const char *eir;
	uint64_t id;
	int rc = verb_options(ctl, argc, argv, &purge_help, NULL);
	if (rc == CTL_CONTINUE)
		rc = eir_and_id(ctl, argc, argv, &purge_help, true, &eir, &id);
	if (rc != CTL_CONTINUE)
		return rc;
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	daemon_sync(ctl);
	struct enrp_trash_purged p;
	rc = enrp_trash_purge(ctl->store, eir, id, &ctl->actor, &p);
	char size[SIZE_BUF];
	switch (rc) {
	case 0: {
		size_human(p.bytes, size);
		if (!ctl->json)
			ctl_line(stdout, "purged %" PRIu64 " trash entr%s of %s (%s)", p.entries,
			         p.entries == 1 ? "y" : "ies", eir, size);
		if (p.kept) {
			ctl_warn("kept %" PRIu64 " held or locked cop%s of %s", p.kept,
			         p.kept == 1 ? "y" : "ies", eir);
			ctl_hint("'enrpctl hold list %s' and 'enrpctl eir show %s' say until when", eir,
			         eir);
		}
		bool collecting = p.entries && collect_now(ctl);
		if (ctl->json) {
			struct json j;
			json_init(&j, stdout);
			json_object_begin(&j);
			json_kv_str(&j, "eir", eir);
			if (id)
				json_kv_u64(&j, "id", id);
			else
				json_kv_str(&j, "id", NULL);
			json_kv_u64(&j, "purged", p.entries);
			json_kv_u64(&j, "bytes", p.bytes);
			json_kv_u64(&j, "kept", p.kept);
			json_kv_bool(&j, "collecting", collecting);
			json_object_end(&j);
			json_finish(&j);
		}
		return CTL_OK;
	}
	case -ESRCH:
		return no_entry(eir, id);
	case -EPERM:
		ctl_err("cannot purge %s #%" PRIu64 ": the copy is held or under the EIR's lock", eir, id);
		ctl_hint("nobody destroys a held or locked copy before its time; "
		         "'enrpctl hold list %s' says until when", eir);
		return CTL_FAIL;
	default:
		return ctl_eir_error("purge the trash of", eir, rc);
	}
}

static const struct ctl_verb trash_verbs[] = {
	{ "list",    trash_list,    NEED_STORE_RO, N_("show an EIR's trash") },
	{ "restore", trash_restore, NEED_STORE_RW, N_("bring a trashed copy back") },
	{ "purge",   trash_purge,   NEED_STORE_RW, N_("free trash before it expires") },
};

int cmd_trash(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "trash", &trash_help, trash_verbs,
	                    sizeof(trash_verbs) / sizeof(trash_verbs[0]), argc, argv);
}
