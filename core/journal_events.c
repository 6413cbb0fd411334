/*
 * journal_events.c — the vocabulary of the audit journal: every event a
 * record can carry, with one line of what it means.
 *
 * One table, so that `enrpctl audit events`, enrpctl(8) and the check of an
 * `audit show --event` argument all say the same thing.  An event written by
 * code but missing here would be a record an auditor cannot look up and
 * cannot select: tests/integration/t6310-audit-events.sh reads the sources
 * for every event passed to journal_append_txn()/enrp_journal_append() and
 * fails when one is missing.  Events are never removed from the table once
 * a release wrote them: old journals still hold them.
 */
#include <string.h>

#include <enrp/journal.h>

static const struct enrp_journal_event events[] = {
	/* EIRs */
	{ "eir-create", "an EIR was created (its mode, class, owner, quota, agent, rpo)" },
	{ "eir-set", "settings of an EIR changed (each as old->new)" },
	{ "mode-change", "the mode of an EIR changed (with any other setting changed with it)" },
	{ "escalate", "users of an active EIR were granted rw until a time, with a reason" },
	{ "deescalate", "an escalation was ended before its time" },
	{ "escalation-expired", "an escalation reached its end and rw was withdrawn" },
	{ "suspend", "an EIR was suspended (no access), with a reason" },
	{ "resume", "a suspended EIR was resumed" },
	{ "retire", "an EIR was retired for good, with a reason" },
	{ "eir-destroyed", "a retired EIR was destroyed: its key shredded, its data deleted (what, how much, who asked and approved, why)" },
	/* holds and retention */
	{ "hold-add", "a file or snapshot was put on hold until a date, with a reason" },
	{ "hold-extend", "a hold was extended to a later date" },
	{ "lock-set", "the minimum lock of an EIR's snapshots (days) changed" },
	{ "form-set", "an EIR's registration form changed (the fields set, with their new values)" },
	{ "retention-set", "the retention policy of an EIR changed" },
	{ "schedule-window", "the window in which a transfer counts for a slot of an EIR's "
	                     "schedule changed (from, to)" },
	{ "transfer-missed", "a slot of an EIR's schedule closed with no file verified in its "
	                     "window (slot, type, window_end; or slots, first, last for a long "
	                     "downtime)" },
	{ "transfer-late", "a file arrived after the window of a slot journalled missed "
	                   "(slot, type, window_end, verified)" },
	{ "prune", "retention removed files, snapshots or trash of an EIR (counts)" },
	{ "gc", "garbage collection freed chunks no file refers to (count, bytes)" },
	/* snapshots, trash, restore tests */
	{ "snapshot-create", "a snapshot of an EIR was taken" },
	{ "snapshot-delete", "a snapshot was deleted" },
	{ "snapshot-mount", "a snapshot was mounted read-only (where, for whom)" },
	{ "snapshot-umount", "a mounted snapshot was unmounted" },
	{ "trash-add", "a removed verified file was kept in the trash" },
	{ "trash-restore", "a file was restored from the trash" },
	{ "trash-purge", "files were purged from the trash for good" },
	{ "restore-test-planned", "a restore test of an EIR was planned for a date" },
	{ "restore-test-recorded", "the result of a restore test was recorded" },
	{ "holiday-add", "a day was added to the calendar of non-working days" },
	{ "holiday-remove", "a day was removed from the calendar of non-working days" },
	{ "calendar-zone", "the time zone of the calendar changed" },
	/* data and its integrity */
	{ "verified", "a file was sealed and verified: the store holds exactly these bytes "
	              "(path, size, sha256)" },
	{ "chunk-damaged", "reading a file found a damaged or missing chunk" },
	{ "scrub", "a scrub finished (files and chunks checked, damage found)" },
	{ "scrub-damage", "a scrub found a file damaged and marked it corrupt" },
	{ "scrub-repaired", "a scrub found a file marked corrupt to check clean again" },
	{ "fsck-repair", "fsck --repair changed the store's metadata (counts)" },
	{ "file-removed", "a verified file was removed (path, size, sha256; a tree as one "
	                  "record with the count and first paths)" },
	{ "file-replaced", "a verified file was renamed over or changed in place (path, size, "
	                   "sha256 of what was lost; how=rename|rewrite|punch; aggregated)" },
	{ "file-truncated", "a verified file was truncated, or opened with O_TRUNC (path, size, "
	                    "sha256 of what was lost; aggregated)" },
	/* access */
	{ "denied", "operations were refused (uid, operation, errno, count; aggregated)" },
	/* the daemon */
	{ "mount", "enrpfs mounted the store" },
	{ "unmount", "enrpfs unmounted the store" },
	{ "recovery", "enrpfs started after a crash: what recovery found and did" },
	{ "clock-jump", "the host clock jumped more than 5 s (from, to, delta_ns, direction, "
	                "seen_by=monotonic by enrpfs, or floor: set back behind the store's floor)" },
	{ "keyfile-use", "the store's key file was read to open its encrypted data (by enrpfs at "
	                 "mount, or by enrpctl scrub)" },
	/* the journal itself */
	{ "notified", "enrpctl notify told a due item (kind, key, how: printed or exec)" },
	{ "request-created", "an action that needs a second person's approval was requested (action, target, reason)" },
	{ "request-approved", "a second person approved a request" },
	{ "request-rejected", "a second person rejected a request" },
	{ "escrow-put", "an owner's decryption material was deposited, wrapped by the master key (id, name, size, sha256)" },
	{ "escrow-list", "the escrow deposits of an EIR were listed" },
	{ "escrow-get", "an escrow deposit was read back, with the approved request it used" },
	{ "roles-set", "the Unix groups of the administrators, operators or auditors changed (old->new)" },
	{ "mirror-target", "the syslog mirror of the journal was moved to another target" },
	{ "mfa-enroll", "a person was given a TOTP secret for the second factor (person, name, wrapped)" },
	{ "mfa-remove", "a person's TOTP secret was removed (person, name)" },
	{ "mfa-set", "the second factor was turned on or off for the store (mfa, was, enrolled)" },
	{ "mfa-failed", "a TOTP code was refused (person, name, what it was for, why: not-enrolled, missing, malformed, wrong, replayed)" },
};

const struct enrp_journal_event *enrp_journal_events(size_t *n)
{
	*n = sizeof(events) / sizeof(events[0]);
	return events;
}

const struct enrp_journal_event *enrp_journal_event_find(const char *name)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strcmp(events[i].name, name) == 0)
			return &events[i];
	return NULL;
}
