/*
 * cmd_audit.c — `enrpctl audit VERB`: read and verify the hash-chained audit
 * journal, and anchor it outside the store (DESIGN §7).
 *
 *   show [--eir NAME] [--since TIME] [--event EVENT] [--json]
 *   verify [--anchor SEQ:HASH]... [--anchors FILE]... [--json]
 *   head [--json]
 *   mirror [--json]              mirror --target TARGET [--force]
 *
 * show, verify and head open the store ENRP_STORE_RDONLY, and libenrp has no
 * call that deletes or rewrites a record.  `verify` prints its verdict on
 * stdout (it is the data asked for) and exits 1 when the chain is broken or
 * an anchor does not hold, so scripts and monitoring can rely on the status
 * alone; anchors that cannot be read or parsed are a usage error (exit 2:
 * nothing was verified).  A failing syslog mirror is reported on stderr by
 * verify and head, since it means the newest records are anchored nowhere.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/units.h>

#include "ctl.h"

static const struct ctl_help audit_help = {
	"enrpctl [-S STORE] audit VERB [OPTIONS]",
	"Reads and verifies the audit journal: every administrative action,\n"
	"verification result and denied operation, each record chained to the\n"
	"previous one by its SHA-256, and anchors it outside the store: every\n"
	"record is mirrored to syslog, and 'head' prints the head for auditors\n"
	"to keep ('verify --anchors' checks both).\n",
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
	"enrpctl audit verify [--anchor SEQ:HASH]... [--anchors FILE]... [--json]",
	"Checks the whole hash chain of the journal, and that it still holds every\n"
	"anchor given: record SEQ must exist and have hash HASH.  Prints\n"
	"  audit: chain intact, N records\n"
	"(with anchors, a second line: how many records they cover, how many after\n"
	"the last anchor they do not) and exits 0; or\n"
	"  audit: chain broken at record SEQ: REASON\n"
	"  audit: anchor not held at record SEQ: REASON\n"
	"and exits 1.  The chain alone cannot show a journal rewritten whole (records\n"
	"edited or deleted and the chain re-hashed, the tail cut and the head moved,\n"
	"an older data.mdb put back); an anchor kept outside the store can.\n"
	"\n"
	"Options:\n"
	"  --anchor SEQ:HASH  an anchor, as 'enrpctl audit head' prints it (repeatable)\n"
	"  --anchors FILE     anchors from FILE ('-': stdin): SEQ:HASH lines, and/or the\n"
	"                     journal's syslog stream as a collector saved it (lines\n"
	"                     with [enrp@32473 ...] structured data; other lines, and\n"
	"                     other stores' records, are skipped).  Repeatable.\n"
	"                     An anchor that cannot be parsed is an error (exit 2)\n"
	"  --json             print the verdict as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

static const struct ctl_help head_help = {
	"enrpctl audit head [--json]",
	"Verifies the chain, then prints its head, the last record, as an anchor:\n"
	"  SEQ:HASH\n"
	"for auditors to keep outside the store and give to 'audit verify --anchor'\n"
	"or '--anchors FILE' later: any change to records 1..SEQ, or their removal,\n"
	"is then detected.  Exits 1 (printing nothing on stdout) when the chain is\n"
	"broken or the journal is empty.  Warns on stderr when the syslog mirror is\n"
	"failing.\n"
	"\n"
	"Options:\n"
	"  --json             print seq, hash, time, journal, anchor and mirror state\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

static const struct ctl_help mirror_help = {
	"enrpctl audit mirror [--json] | --target TARGET [--force]",
	"Every journal record, once durable, is sent to syslog (RFC 5424, structured\n"
	"data [enrp@32473 journal= seq= hash= prev= time= event= eir= ...]) so that a\n"
	"remote collector keeps anchors the store's administrator cannot reach.\n"
	"Without --target: sends what is pending, then prints the target, the journal\n"
	"head, how far the mirror got, and whether it is failing (exit 1 if it is).\n"
	"\n"
	"TARGET: unix:/PATH (a unix datagram socket; unix:/dev/log is the local\n"
	"syslog and the default), udp:ADDR:PORT or udp:[ADDR6]:PORT (numeric), or\n"
	"none.  The change is journalled, and its record is sent to the old target\n"
	"before anything goes to the new one.\n"
	"\n"
	"Options:\n"
	"  --target TARGET    send from now on to TARGET\n"
	"  --force            change even though the old target cannot take the\n"
	"                     pending records and the change (they go to TARGET)\n"
	"  --json             print the state as a JSON object\n"
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

/* --- the mirror's state, shared by verify, head and mirror -------------- */

static bool mirror_failing(const struct enrp_journal_mirror_status *m)
{
	return m->failing_since != 0;
}

/* One line: what the mirror did not send, and why. */
static void mirror_warn(const struct enrp_journal_mirror_status *m)
{
	char when[TIME_BUF];
	if (!mirror_failing(m))
		return;
	time_iso(m->failing_since, when);
	if (m->head_seq > m->sent_seq)
		ctl_warn("the syslog mirror fails since %s (%s): records %" PRIu64 " to %" PRIu64
		         " are anchored nowhere outside the store yet", when, m->error,
		         m->sent_seq + 1, m->head_seq);
	else
		ctl_warn("the syslog mirror fails since %s (%s)", when, m->error);
	ctl_hint("fix the target ('enrpctl audit mirror' shows it), or keep 'enrpctl audit "
	         "head' until it works again");
}

static void mirror_json(struct json *j, const struct enrp_journal_mirror_status *m)
{
	char when[TIME_BUF];
	json_key(j, "mirror");
	json_object_begin(j);
	json_kv_str(j, "target", m->target);
	json_kv_u64(j, "head_seq", m->head_seq);
	json_kv_u64(j, "sent_seq", m->sent_seq);
	json_kv_u64(j, "pending", m->head_seq > m->sent_seq ? m->head_seq - m->sent_seq : 0);
	json_kv_bool(j, "failing", mirror_failing(m));
	if (mirror_failing(m)) {
		time_iso(m->failing_since, when);
		json_kv_str(j, "failing_since", when);
		json_kv_str(j, "error", m->error);
	} else {
		json_kv_str(j, "failing_since", NULL);
		json_kv_str(j, "error", NULL);
	}
	json_object_end(j);
}

/* --- verify -------------------------------------------------------------- */

struct anchor_list {
	struct enrp_journal_anchor *v;
	size_t n, cap;
};

static struct enrp_journal_anchor *anchor_push(struct anchor_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = ctl_xrealloc(l->v, l->cap, sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static int anchor_arg(struct anchor_list *l, const char *arg)
{
	struct enrp_journal_anchor *a = anchor_push(l);
	const char *why = "not SEQ:HASH";
	if (enrp_journal_anchor_parse(arg, strlen(arg), a, &why) != 1 || a->journal[0]) {
		ctl_err("invalid anchor '%s': %s", arg, why);
		ctl_hint("give SEQ:HASH as 'enrpctl audit head' prints it");
		return CTL_USAGE;
	}
	snprintf(a->where, sizeof(a->where), "given with --anchor");
	return CTL_OK;
}

/* Reads every anchor of PATH ("-": stdin) into L. */
static int anchor_file(struct anchor_list *l, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0, before = l->n, skipped = 0;
	ssize_t len;
	int rc = CTL_OK;

	if (!f) {
		ctl_err("cannot read anchors file '%s': %s", path, strerror(errno));
		ctl_hint("give a file of SEQ:HASH lines or a saved syslog stream of the mirror");
		return CTL_USAGE;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			len--;
		struct enrp_journal_anchor *a = anchor_push(l);
		const char *why = "";
		int r = enrp_journal_anchor_parse(line, (size_t)len, a, &why);
		if (r < 0) {
			ctl_err("anchors file '%s', line %zu: %s", path, lineno, why);
			ctl_hint("fix or delete that line (lines that hold no anchor are skipped)");
			rc = CTL_USAGE;
			break;
		}
		if (r == 0) {
			l->n--;
			skipped++;
			continue;
		}
		snprintf(a->where, sizeof(a->where), "%s:%zu", path, lineno);
	}
	if (rc == CTL_OK && ferror(f)) {
		ctl_err("cannot read anchors file '%s': %s", path, strerror(errno));
		rc = CTL_USAGE;
	}
	if (rc == CTL_OK && l->n == before) {
		ctl_err("anchors file '%s' holds no anchor (%zu lines, none SEQ:HASH or a record of "
		        "the journal's syslog stream)", path, lineno);
		ctl_hint("give the lines 'enrpctl audit head' printed, or the collector's file "
		         "with the [enrp@32473 ...] messages");
		rc = CTL_USAGE;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int audit_verify(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "anchor",  required_argument, NULL, 'a' },
		{ "anchors", required_argument, NULL, 'A' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	struct anchor_list l = { 0 };
	struct enrp_journal_verdict v;
	struct enrp_journal_mirror_status ms;
	bool have_ms;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'a' || c == 'A') {
			rc = c == 'a' ? anchor_arg(&l, optarg) : anchor_file(&l, optarg);
			if (rc != CTL_OK)
				goto out;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &verify_help);
		if (rc != CTL_CONTINUE)
			goto out;
	}
	if (optind < argc) {
		rc = ctl_usage_error(ctl, &verify_help, "too many arguments");
		goto out;
	}

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		goto out;
	rc = enrp_journal_verify_anchors(ctl->store, l.v, l.n, &v);
	if (rc < 0) {
		ctl_err("cannot read the audit journal of '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("see the messages above; the journal could not be checked at all");
		rc = CTL_FAIL;
		goto out;
	}
	v.reason[sizeof(v.reason) - 1] = '\0';
	have_ms = enrp_journal_mirror_status(ctl->store, &ms) == 0;
	uint64_t uncovered = v.records - v.covered;

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
		json_kv_bool(&j, "anchor_failed", !v.intact && v.by_anchor);
		json_kv_str(&j, "journal", v.journal[0] ? v.journal : NULL);
		json_kv_u64(&j, "anchors_given", l.n);
		json_kv_u64(&j, "anchors_checked", v.anchors);
		json_kv_u64(&j, "anchors_other_journals", v.foreign);
		json_kv_u64(&j, "covered", v.covered);
		json_kv_u64(&j, "uncovered", uncovered);
		if (have_ms)
			mirror_json(&j, &ms);
		json_object_end(&j);
		json_finish(&j);
	} else if (!v.intact) {
		ctl_line(stdout, "audit: %s at record %" PRIu64 ": %s",
		         v.by_anchor ? "anchor not held" : "chain broken", v.bad_seq, v.reason);
	} else {
		printf("audit: chain intact, %" PRIu64 " record%s\n", v.records,
		       v.records == 1 ? "" : "s");
		if (l.n) {
			printf("audit: %" PRIu64 " anchored record%s match; records 1-%" PRIu64
			       " covered, %" PRIu64 " after record %" PRIu64 " not covered\n",
			       v.anchors, v.anchors == 1 ? "" : "s", v.covered, uncovered, v.covered);
			if (v.foreign)
				printf("audit: %" PRIu64 " anchor%s of other journals skipped\n", v.foreign,
				       v.foreign == 1 ? "" : "s");
		}
	}
	if (have_ms && !ctl->json)
		mirror_warn(&ms);
	rc = v.intact ? CTL_OK : CTL_FAIL;
out:
	free(l.v);
	return rc;
}

/* --- head ---------------------------------------------------------------- */

static int audit_head(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	struct enrp_journal_verdict v;
	struct enrp_journal_mirror_status ms;
	char anchor[ENRP_JOURNAL_ANCHOR_BUF], hex[65], when[TIME_BUF];
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, &head_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &head_help, "too many arguments");
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	/* An anchor of a broken chain would vouch for the damage. */
	rc = enrp_journal_verify(ctl->store, &v);
	if (rc < 0) {
		ctl_err("cannot read the audit journal of '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("see the messages above; the journal could not be checked at all");
		return CTL_FAIL;
	}
	v.reason[sizeof(v.reason) - 1] = '\0';
	if (!v.intact) {
		ctl_err("the audit journal's chain is broken at record %" PRIu64 ": %s", v.bad_seq,
		        v.reason);
		ctl_hint("no head is printed for a broken chain; see 'enrpctl audit verify'");
		return CTL_FAIL;
	}
	if (v.records == 0) {
		ctl_err("the audit journal of '%s' is empty: there is no head to anchor yet",
		        ctl->store_path);
		ctl_hint("take the head once the first change is recorded");
		return CTL_FAIL;
	}
	enrp_journal_anchor_format(v.records, v.last_hash, anchor);
	bool have_ms = enrp_journal_mirror_status(ctl->store, &ms) == 0;
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_u64(&j, "seq", v.records);
		hex_encode(v.last_hash, 32, hex);
		json_kv_str(&j, "hash", hex);
		time_iso(v.last_time_ns, when);
		json_kv_str(&j, "time", when);
		json_kv_str(&j, "journal", v.journal);
		json_kv_str(&j, "anchor", anchor);
		if (have_ms)
			mirror_json(&j, &ms);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("%s\n", anchor);
		if (have_ms)
			mirror_warn(&ms);
	}
	return CTL_OK;
}

/* --- mirror -------------------------------------------------------------- */

static int mirror_set(struct ctl *ctl, const char *target, bool force)
{
	int rc = enrp_journal_mirror_set(ctl->store, &ctl->actor, target, force);
	switch (-rc) {
	case 0:
		printf("audit: the journal is mirrored to %s from now on\n", target);
		return CTL_OK;
	case EALREADY:
		printf("audit: the journal is already mirrored to %s; nothing changed\n", target);
		return CTL_OK;
	case EHOSTUNREACH: {
		struct enrp_journal_mirror_status ms;
		ctl_err("cannot move the journal mirror to '%s': the present target does not take "
		        "what must go to it first; nothing changed", target);
		if (enrp_journal_mirror_status(ctl->store, &ms) == 0) {
			if (ms.error[0])
				ctl_err("%s", ms.error);
			else
				ctl_err("%s cannot be reached", ms.target);
		}
		ctl_hint("make the present target work, or add --force to send the pending records "
		         "and the change to '%s' instead (the record says it was forced)", target);
		return CTL_FAIL;
	}
	default:
		ctl_err("cannot move the journal mirror to '%s': %s", target, enrp_strerror(rc));
		ctl_hint("see the messages above, if any");
		return CTL_FAIL;
	}
}

static int audit_mirror(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "force",  no_argument,       NULL, 'f' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	struct enrp_journal_mirror_status ms;
	const char *target = NULL;
	bool force = false;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			target = optarg;
			break;
		case 'f':
			force = true;
			break;
		default:
			rc = ctl_common_option(ctl, c, optarg, &mirror_help);
			if (rc != CTL_CONTINUE)
				return rc;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &mirror_help, "too many arguments");
	if (force && !target)
		return ctl_usage_error(ctl, &mirror_help, "--force needs --target");
	if (target && ctl->json)
		return ctl_usage_error(ctl, &mirror_help, "--json shows the state; not with --target");
	if (target && enrp_journal_target_check(target))
		return ctl_usage_error(ctl, &mirror_help, "invalid target '%s': give unix:/PATH, "
		                       "udp:ADDR:PORT, udp:[ADDR6]:PORT or none", target);
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	if (target)
		return mirror_set(ctl, target, force);

	enrp_journal_mirror_flush(ctl->store); /* the state below says how it went */
	rc = enrp_journal_mirror_status(ctl->store, &ms);
	if (rc) {
		ctl_err("cannot read the journal mirror's state in '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	uint64_t pending = ms.head_seq > ms.sent_seq ? ms.head_seq - ms.sent_seq : 0;
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		mirror_json(&j, &ms);
		json_object_end(&j);
		json_finish(&j);
	} else {
		char when[TIME_BUF];
		printf("target: %s\n", ms.target);
		printf("journal head: %" PRIu64 "\n", ms.head_seq);
		printf("mirrored up to: %" PRIu64 "\n", ms.sent_seq);
		printf("pending: %" PRIu64 "\n", pending);
		if (mirror_failing(&ms)) {
			time_iso(ms.failing_since, when);
			printf("state: failing since %s: %s\n", when, ms.error);
		} else {
			printf("state: ok\n");
		}
	}
	return mirror_failing(&ms) ? CTL_FAIL : CTL_OK;
}

static const struct ctl_verb audit_verbs[] = {
	{ "show",   audit_show,   NEED_STORE_RO, "print journal records" },
	{ "verify", audit_verify, NEED_STORE_RO, "check the hash chain of the journal, and anchors" },
	{ "head",   audit_head,   NEED_STORE_RO, "print the head (SEQ:HASH) for auditors to keep" },
	{ "mirror", audit_mirror, NEED_STORE_RW, "show or change the journal's syslog mirror" },
};

int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "audit", &audit_help, audit_verbs,
	                    sizeof(audit_verbs) / sizeof(audit_verbs[0]), argc, argv);
}
