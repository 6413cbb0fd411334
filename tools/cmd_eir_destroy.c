/*
 * cmd_eir_destroy.c — `enrpctl eir destroy NAME --reason TEXT [--shred]
 * [--yes | --dry-run] [--json]`: the end of a retired EIR (core/destroy.c).
 *
 * Refused (exit 1), with every blocker named and dated, unless the EIR is
 * retired and its retention, lock and holds have all run out by the
 * platform's clock; nothing is changed then.  In an encrypted store the
 * EIR's data key is always shredded: --shred is accepted (DESIGN §9 spells
 * it) and changes nothing, since a destruction that kept the key would keep
 * the data decryptable from any copy of the disks.
 *
 * Approval: a destruction begins only with a request approved by a second
 * person (four eyes, approval.h); the approver is recorded.
 *
 * Like retire, it asks for the EIR's name on a terminal unless --yes; the
 * running enrpfs is told afterwards (it forgets the EIR's key and drops its
 * cached inodes).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <enrp/clock.h>
#include <enrp/approval.h>
#include <enrp/destroy.h>
#include <enrp/enrp.h>
#include <enrp/vault.h>

#include "ctl.h"

static const struct ctl_help destroy_help = {
	"enrpctl eir destroy NAME --reason TEXT [--shred] [--yes | --dry-run] [--json]",
	N_("Destroys a retired EIR whose retention, lock and holds have all expired\n"
	"(by the platform's clock): its data key is shredded first (encrypted\n"
	"stores), then its chunk files, spool files, snapshots, trash, holds,\n"
	"test-restore records and metadata are deleted.  Only the registry entry\n"
	"(state destroyed) and the journal remain, with a destruction record\n"
	"(journalled as eir-destroyed).  Refused, naming each blocker and when it\n"
	"ends, while anything still keeps the data.  An interrupted destruction is\n"
	"finished by running it again or by the next start of enrpfs.\n"
	"It needs a second administrator: the first run makes a request ('enrpctl\n"
	"approve ID' by another person), the same command run again destroys.\n"
	"\n"
	"Options:\n"
	"  --reason TEXT      why (journalled; required)\n"
	"  --shred            accepted for clarity: an encrypted store's key is\n"
	"                     always shredded\n"
	"  --yes              destroy without asking (scripts)\n"
	"  --dry-run          say what blocks it, or what would go; change nothing\n"
	"  --json             print the destruction record as JSON\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static void print_date(FILE *f, const char *what, uint64_t n, int64_t until)
{
	char when[TIME_BUF];
	time_iso(until, when);
	ctl_line(f, "  %" PRIu64 " %s until %s", n, what, when);
}

/* The blockers, one line each, on stderr. */
static void print_blockers(const char *name, const struct enrp_destroy_blockers *b)
{
	ctl_err("cannot destroy EIR '%s': its data must still be kept", name);
	if (b->not_retired)
		ctl_line(stderr, "  it is not retired (state: %s); retire it first with 'enrpctl eir "
		         "retire %s'", enrp_state_name(b->state), name);
	if (b->busy_files)
		ctl_line(stderr, "  %" PRIu64 " files still open or waiting to be sealed",
		         b->busy_files);
	if (b->retained_files)
		print_date(stderr, _("files whose retention (files=DAYS) runs"), b->retained_files,
		           b->retained_until);
	if (b->locked_files)
		print_date(stderr, _("files under the EIR's lock"), b->locked_files,
		           b->locked_until);
	if (b->kept_snapshots)
		print_date(stderr, _("snapshots kept by the retention policy"), b->kept_snapshots,
		           b->snapshots_until);
	if (b->holds)
		print_date(stderr, _("holds"), b->holds, b->holds_until);
	ctl_hint("nothing was changed; destroy it once every date above has passed");
}

static void record_json(const struct enrp_destruction *d)
{
	struct json j;
	char when[TIME_BUF];
	json_init(&j, stdout);
	json_object_begin(&j);
	json_kv_str(&j, "eir", d->eir);
	json_kv_u64(&j, "id", d->eir_id);
	json_kv_bool(&j, "finished", d->finished);
	time_iso(d->started, when);
	json_kv_str(&j, "started", when);
	if (d->finished_at) {
		time_iso(d->finished_at, when);
		json_kv_str(&j, "finished_at", when);
	} else {
		json_kv_str(&j, "finished_at", NULL);
	}
	json_kv_u64(&j, "files", d->files);
	json_kv_u64(&j, "bytes", d->bytes);
	json_kv_u64(&j, "inodes", d->inodes);
	json_kv_u64(&j, "chunks", d->chunks);
	json_kv_u64(&j, "stored", d->stored);
	json_kv_u64(&j, "snapshots", d->snapshots);
	json_kv_u64(&j, "trash", d->trash);
	json_kv_u64(&j, "holds", d->holds);
	json_kv_u64(&j, "chunk_files_deleted", d->chunk_files_deleted);
	json_kv_u64(&j, "spool_files_deleted", d->spool_files_deleted);
	json_kv_bool(&j, "encrypted", d->encrypted);
	json_kv_bool(&j, "key_shredded", d->shredded);
	json_kv_bool(&j, "key_share_destroyed", d->share_destroyed);
	json_kv_str(&j, "requested_by", d->requested_by);
	json_kv_str(&j, "approved_by", d->approved_by);
	json_kv_str(&j, "reason", d->reason);
	json_object_end(&j);
	json_finish(&j);
}

void destroy_record_text(FILE *f, const struct enrp_destruction *d)
{
	char when[TIME_BUF], size[SIZE_BUF];
	time_iso(d->finished ? d->finished_at : d->started, when);
	ctl_line(f, "destroyed: %s%s", when, d->finished ? "" : _(" (unfinished: run 'enrpctl eir "
	         "destroy' again or start enrpfs)"));
	size_human(d->bytes, size);
	ctl_line(f, "destroyed-what: %" PRIu64 " files, %s, %" PRIu64 " chunks, %" PRIu64
	         " snapshots, %" PRIu64 " trash entries, %" PRIu64 " holds", d->files, size,
	         d->chunks, d->snapshots, d->trash, d->holds);
	ctl_line(f, "destroyed-how: key shredded %s, key share destroyed %s, %" PRIu64
	         " chunk files and %" PRIu64 " spool files deleted",
	         d->shredded ? _("yes") : d->encrypted ? _("no") : _("no (store not encrypted)"),
	         d->share_destroyed ? _("yes") : _("no"), d->chunk_files_deleted,
	         d->spool_files_deleted);
	ctl_line(f, "destroyed-by: %s", d->requested_by);
	ctl_line(f, "destroyed-approved-by: %s", d->approved_by);
	ctl_line(f, "destroyed-reason: %s", d->reason);
}

static int check_text(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > ENRP_REASON_MAX) {
		if (len)
			ctl_err("the reason is too long (%zu bytes)", len);
		else
			ctl_err("the reason is empty");
		ctl_hint("say why in one line of at most %d bytes: --reason TEXT", ENRP_REASON_MAX);
		return CTL_USAGE;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			ctl_err("the reason contains a control character");
			ctl_hint("give it as one line of text");
			return CTL_USAGE;
		}
	return CTL_OK;
}

int cmd_eir_destroy(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason",  required_argument, NULL, 'R' },
		{ "shred",   no_argument,       NULL, 's' },
		{ "yes",     no_argument,       NULL, 'y' },
		{ "dry-run", no_argument,       NULL, 'n' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	const char *reason = NULL, *name;
	bool yes = false, dry_run = false;
	struct ctl_tty tty = { 0 };
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'R')
			reason = optarg;
		else if (c == 'y')
			yes = true;
		else if (c == 'n')
			dry_run = true;
		else if (c != 's' && (rc = ctl_common_option(ctl, c, optarg, &destroy_help)) !=
		                             CTL_CONTINUE)
			return rc;
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, &destroy_help, "no EIR name given");
	if (optind + 1 < argc)
		return ctl_usage_error(ctl, &destroy_help, "too many arguments");
	name = argv[optind];
	if (!enrp_eir_name_valid(name))
		return ctl_usage_error(ctl, &destroy_help, "invalid EIR name '%s'", name);
	if (!reason)
		return ctl_usage_error(ctl, &destroy_help, "why? give --reason TEXT");
	if ((rc = check_text(reason)) != CTL_OK)
		return rc;
	if (yes && dry_run)
		return ctl_usage_error(ctl, &destroy_help, "--yes and --dry-run exclude each other");
	bool ask = !yes && !dry_run;
	if (ask && !ctl_confirm_open(&tty)) {
		ctl_err("refusing to destroy EIR '%s' without confirmation: there is no terminal "
		        "to ask on", name);
		ctl_hint("destruction cannot be undone; give --yes to destroy it from a script, or "
		         "--dry-run to see what blocks it (nothing was changed)");
		return CTL_USAGE;
	}

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		goto out_tty;
	struct enrp_eir eir;
	rc = enrp_eir_get(ctl->store, name, &eir);
	if (rc < 0) {
		rc = ctl_eir_error("destroy", name, rc);
		goto out_tty;
	}
	struct enrp_destruction d;
	if (eir.state == ENRP_STATE_DESTROYED && enrp_destroy_record(ctl->store, eir.id, &d) == 0 &&
	    d.finished) {
		ctl_err("EIR '%s' is already destroyed", name);
		ctl_hint("'enrpctl eir show %s' shows its destruction record", name);
		rc = CTL_FAIL;
		goto out_tty;
	}
	int64_t now;
	if ((rc = enrp_platform_now(ctl->store, &now)) < 0) {
		ctl_err("cannot read the platform clock: %s", enrp_strerror(rc));
		rc = CTL_FAIL;
		goto out_tty;
	}
	struct enrp_destroy_blockers b;
	if (eir.state != ENRP_STATE_DESTROYED) {
		rc = enrp_destroy_check(ctl->store, name, now, &b);
		if (rc == -EBUSY) {
			print_blockers(name, &b);
			rc = CTL_FAIL;
			goto out_tty;
		}
		if (rc < 0) {
			rc = ctl_eir_error("destroy", name, rc);
			goto out_tty;
		}
	}
	if (dry_run) {
		ctl_line(stdout, "would destroy EIR '%s' (reason: %s)", name, reason);
		ctl_line(stdout, "nothing blocks it; nothing was changed (--dry-run)");
		return CTL_OK;
	}
	/* Four eyes before the question: nobody types the name only to learn
	 * that a second administrator must approve first.  A destruction
	 * already begun was approved when it began: finishing it needs none. */
	bool begin = eir.state != ENRP_STATE_DESTROYED;
	char what[ENRP_EIR_NAME_MAX + 32];
	snprintf(what, sizeof(what), "eir destroy %s", name);
	if (begin && (rc = ctl_approval_ready(ctl, "eir-destroy", name, "", reason, what)) !=
	                 CTL_CONTINUE)
		goto out_tty;
	if (ask) {
		if (!ctl_confirm(&tty, name, "Destroying EIR '%s' deletes all its data for ever. "
		                 "Type the EIR's name, %s, to destroy it:", name, name)) {
			ctl_err("EIR '%s' not destroyed: the name typed does not match", name);
			ctl_hint("nothing was changed; give --yes to destroy it without asking");
			return CTL_FAIL;
		}
		ask = false;
	}
	/* The approval is spent here, before the first step: should that
	 * step fail, a new approval is needed (never an open one left). */
	struct enrp_actor approver = ctl->actor;
	if (begin) {
		struct enrp_request used;
		rc = enrp_request_consume(ctl->store, "eir-destroy", name, "", enrp_now_ns(),
		                          &ctl->actor, &used);
		if (rc < 0)
			return ctl_eir_error("use the approval to destroy", name, rc);
		approver.uid = used.decider;
		approver.login_uid = used.decider;
		approver.sudo_uid = ENRP_NO_UID;
		approver.sudo_user[0] = '\0';
		approver.pid = 0;
		snprintf(approver.command, sizeof(approver.command), "enrpctl approve %" PRIu64,
		         used.id);
	}
	uint32_t id;
	rc = enrp_destroy_begin(ctl->store, name, now, reason, &ctl->actor, &approver, &b, &id);
	if (rc == 0) {
		/* The key is gone from the store: the running enrpfs forgets its
		 * copy and the EIR's cached inodes before any file goes. */
		ctl_notify_eir(ctl, name, id);
		rc = enrp_destroy_finish(ctl->store, id, &ctl->actor, &d);
	}
	if (rc == -EBUSY) {
		print_blockers(name, &b);
		return CTL_FAIL;
	}
	if (rc == -EALREADY) {
		ctl_err("EIR '%s' is already destroyed", name);
		return CTL_FAIL;
	}
	if (rc < 0) {
		ctl_err("cannot finish destroying EIR '%s': %s", name, enrp_strerror(rc));
		ctl_hint("its key is shredded if it was begun; run the same command again to "
		         "finish (or start enrpfs, which finishes it)");
		return CTL_FAIL;
	}
	if (ctl->json)
		record_json(&d);
	else
		destroy_record_text(stdout, &d);
	return CTL_OK;
out_tty:
	if (ask && tty.owned)
		close(tty.in);
	return rc;
}
