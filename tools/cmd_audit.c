/*
 * cmd_audit.c — `enrpctl audit VERB`: read and verify the hash-chained audit
 * journal (DESIGN §7).
 *
 *   show [--eir NAME] [--since TIME] [--event EVENT] [--json]
 *   verify [--json]
 *
 * Read-only by construction: the store is opened ENRP_STORE_RDONLY, and
 * libenrp has no call that deletes or rewrites a record.  `verify` prints
 * its verdict on stdout (it is the data asked for) and exits 1 when the
 * chain is broken, so scripts and monitoring can rely on the status alone.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/units.h>

#include "ctl.h"

static const struct ctl_help audit_help = {
	"enrpctl [-S STORE] audit VERB [OPTIONS]",
	"Reads and verifies the audit journal: every administrative action,\n"
	"verification result and denied operation, each record chained to the\n"
	"previous one by its SHA-256.\n",
};

static const struct ctl_help show_help = {
	"enrpctl audit show [--eir NAME] [--since TIME] [--event EVENT] [--json]",
	"Prints the journal records, oldest first, one per line:\n"
	"  SEQ TIME uid=UID pid=PID \"COMMAND\" EIR EVENT DETAILS\n"
	"(EIR is '-' for a record about no EIR).\n"
	"\n"
	"Options:\n"
	"  --eir NAME         only the records of the EIR NAME\n"
	"  --since TIME       only records from TIME on: 2026-11-21,\n"
	"                     2026-11-21T10:00, 2026-11-21T10:00:00Z (UTC), now,\n"
	"                     or -7d style (relative to now)\n"
	"  --event EVENT      only records of EVENT (e.g. eir-create, denied)\n"
	"  --json             print a JSON array of record objects\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

static const struct ctl_help verify_help = {
	"enrpctl audit verify [--json]",
	"Checks the whole hash chain of the journal.  Prints\n"
	"  audit: chain intact, N records\n"
	"and exits 0, or\n"
	"  audit: chain broken at record SEQ: REASON\n"
	"and exits 1.\n"
	"\n"
	"Options:\n"
	"  --json             print the verdict as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

/* --- show ---------------------------------------------------------------- */

struct show_state {
	struct json j;
	bool json;
	uint64_t count;
};

static int show_cb(const struct enrp_journal_record *rec, void *arg)
{
	struct show_state *s = arg;
	char when[TIME_BUF];
	time_iso(rec->time_ns, when);

	if (s->json) {
		char hex[2 * 32 + 1];
		json_object_begin(&s->j);
		json_kv_u64(&s->j, "seq", rec->seq);
		json_kv_str(&s->j, "time", when);
		json_kv_i64(&s->j, "time_ns", rec->time_ns);
		json_kv_u64(&s->j, "uid", rec->uid);
		json_kv_u64(&s->j, "pid", rec->pid);
		json_kv_str(&s->j, "command", rec->command);
		json_kv_str(&s->j, "eir", rec->eir[0] ? rec->eir : NULL);
		json_kv_str(&s->j, "event", rec->event);
		json_kv_str(&s->j, "details", rec->details);
		hex_encode(rec->hash, sizeof(rec->hash), hex);
		json_kv_str(&s->j, "hash", hex);
		hex_encode(rec->prev_hash, sizeof(rec->prev_hash), hex);
		json_kv_str(&s->j, "prev_hash", hex);
		json_object_end(&s->j);
	} else {
		ctl_line(stdout, "%" PRIu64 " %s uid=%" PRIu32 " pid=%" PRIu32 " \"%s\" %s %s%s%s",
		         rec->seq, when, rec->uid, rec->pid, rec->command, rec->eir[0] ? rec->eir : "-",
		         rec->event, rec->details[0] ? " " : "", rec->details);
	}
	s->count++;
	return 0;
}

static int audit_show(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "eir",   required_argument, NULL, 'e' },
		{ "since", required_argument, NULL, 's' },
		{ "event", required_argument, NULL, 'v' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	struct enrp_journal_filter filter = { 0 };
	const char *since = NULL;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			filter.eir = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'v':
			filter.event = optarg;
			break;
		default:
			rc = ctl_common_option(ctl, c, optarg, &show_help);
			if (rc != CTL_CONTINUE)
				return rc;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &show_help, "too many arguments");
	if (filter.eir && !enrp_eir_name_valid(filter.eir)) {
		ctl_err("invalid EIR name '%s'", filter.eir);
		ctl_hint("a name is 1-%d characters of a-z, 0-9, '.', '_' and '-', starting "
		         "with a letter or digit", ENRP_EIR_NAME_MAX);
		return CTL_USAGE;
	}
	if (filter.event && (!*filter.event || strlen(filter.event) > ENRP_JOURNAL_EVENT_MAX)) {
		ctl_err("invalid event '%s'", filter.event);
		ctl_hint("an event is a short name such as eir-create or denied; "
		         "'enrpctl audit show' lists the events recorded");
		return CTL_USAGE;
	}
	if (since) {
		rc = enrp_time_parse(since, enrp_now_ns(), &filter.since_ns);
		if (rc < 0) {
			ctl_err("invalid time '%s'", since);
			ctl_hint("give 2026-11-21, 2026-11-21T10:00, 2026-11-21T10:00:00Z (UTC), "
			         "now, or -7d style");
			return CTL_USAGE;
		}
	}

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	struct show_state s = { .json = ctl->json };
	if (s.json) {
		json_init(&s.j, stdout);
		json_array_begin(&s.j);
	}
	rc = enrp_journal_iter(ctl->store, &filter, show_cb, &s);
	if (s.json) {
		/* Close the array even after an error: what was printed stays valid. */
		json_array_end(&s.j);
		json_finish(&s.j);
	}
	if (rc < 0) {
		ctl_err("cannot read the audit journal of '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("run 'enrpctl audit verify' and see the messages above");
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* --- verify -------------------------------------------------------------- */

static int audit_verify(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	struct enrp_journal_verdict v;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, &verify_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &verify_help, "too many arguments");

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	memset(&v, 0, sizeof(v));
	rc = enrp_journal_verify(ctl->store, &v);
	if (rc < 0) {
		ctl_err("cannot read the audit journal of '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("see the messages above; the journal could not be checked at all");
		return CTL_FAIL;
	}
	v.reason[sizeof(v.reason) - 1] = '\0';

	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_bool(&j, "intact", v.intact);
		json_kv_u64(&j, "records", v.records);
		json_key(&j, "bad_seq");
		if (v.intact)
			json_null(&j);
		else
			json_u64(&j, v.bad_seq);
		json_kv_str(&j, "reason", v.intact ? NULL : v.reason);
		json_object_end(&j);
		json_finish(&j);
	} else if (v.intact) {
		printf("audit: chain intact, %" PRIu64 " record%s\n", v.records,
		       v.records == 1 ? "" : "s");
	} else {
		ctl_line(stdout, "audit: chain broken at record %" PRIu64 ": %s", v.bad_seq, v.reason);
	}
	return v.intact ? CTL_OK : CTL_FAIL;
}

static const struct ctl_verb audit_verbs[] = {
	{ "show",   audit_show,   NEED_STORE_RO, "print journal records" },
	{ "verify", audit_verify, NEED_STORE_RO, "check the hash chain of the journal" },
};

int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "audit", &audit_help, audit_verbs,
	                    sizeof(audit_verbs) / sizeof(audit_verbs[0]), argc, argv);
}
