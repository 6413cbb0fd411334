/*
 * cmd_audit.c — `enrpctl audit VERB`: read and verify the hash-chained audit
 * journal, and anchor it outside the store (DESIGN §7).
 *
 *   show [--eir NAME] [--since TIME] [--until TIME] [--event EVENT] [--uid UID]
 *        [--path PATH] [-n N] [--follow] [-v] [--json]
 *   events [--json]
 *   verify [--anchor SEQ:HASH]... [--anchors FILE]... [--json]
 *   head [--json]
 *   export [--from TIME] [--to TIME] [-o FILE]
 *   verify --segment FILE [--anchor SEQ:HASH]... [--anchors FILE]... [--json]
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
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/journal_segment.h>
#include <enrp/units.h>

#include "ctl.h"

static const struct ctl_help audit_help = {
	"enrpctl [-S STORE] audit VERB [OPTIONS]",
	N_("Reads and verifies the audit journal: every administrative action,\n"
	"verification result and denied operation, each record chained to the\n"
	"previous one by its SHA-256, and anchors it outside the store: every\n"
	"record is mirrored to syslog, and 'head' prints the head for auditors\n"
	"to keep ('verify --anchors' checks both).\n"),
};

static const struct ctl_help show_help = {
	"enrpctl audit show [--eir NAME] [--since TIME] [--until TIME] [--event EVENT]\n"
	"                          [--uid UID|USER] [--path PATH] [-n N] [--follow] [-v] [--json]",
	N_("Prints the journal records, oldest first, one per line:\n"
	"  SEQ TIME WHO pid=PID \"COMMAND\" EIR EVENT DETAILS\n"
	"EIR is '-' for a record about no EIR.  WHO is the person: 'alice via sudo\n"
	"(uid 0)' (enrpctl run through sudo), 'login alice (uid 0)' (a login session\n"
	"of alice that became root otherwise), 'alice (uid 1000)', or 'uid N' when\n"
	"nothing more is known (a daemon, a record older than these fields).\n"
	"\n"
	"Consecutive 'verified' records of one EIR (one per file sealed) are shown\n"
	"as one line per run:\n"
	"  SEQ-SEQ TIME EIR verified N files, SIZE, until HH:MM:SS, first PATH\n"
	"Every record stays in the journal: --event verified, --path, -v and --json\n"
	"show each one.\n"
	"\n"
	"Options:\n"
	"  --eir NAME         only the records of the EIR NAME (an unknown EIR is an\n"
	"                     error)\n"
	"  --since TIME       only records from TIME on: 2026-11-21,\n"
	"                     2026-11-21T10:00, 2026-11-21T10:00:00Z (UTC), now,\n"
	"                     or -7d style (relative to now)\n"
	"  --until TIME       only records up to TIME (same forms; a date alone is\n"
	"                     its midnight, the start of that day)\n"
	"  --event EVENT      only records of EVENT ('enrpctl audit events' lists\n"
	"                     them; another name is an error)\n"
	"  --uid UID|USER     only records of that person: the record's uid, its\n"
	"                     login uid or its sudo uid is UID\n"
	"  --path PATH        only records about PATH (relative to the EIR; a\n"
	"                     leading '/' is ignored): the file PATH itself, or\n"
	"                     anything under the directory PATH\n"
	"  -n, --last N       only the last N of the records selected\n"
	"  -f, --follow       after printing, wait for new records and print them\n"
	"                     as they are appended, until interrupted (like\n"
	"                     'journalctl -f'; without -n, starts with the last 10);\n"
	"                     with --json, one JSON object per line\n"
	"  -v, --verbose      every record on its own line (no grouping)\n"
	"  --json             print a JSON array of record objects: details as an\n"
	"                     object of typed fields (numbers, yes/no as booleans),\n"
	"                     the record's path, and the person (login_uid,\n"
	"                     login_user, sudo_uid, sudo_user)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help verify_help = {
	"enrpctl audit verify [--segment FILE] [--anchor SEQ:HASH]... [--anchors FILE]... [--json]",
	N_("Checks the whole hash chain of the journal, and that it still holds every\n"
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
	"  --segment FILE     check the segment FILE that 'audit export' wrote, offline,\n"
	"                     without the store: every record's SHA-256 from its bytes,\n"
	"                     the chain from the segment's anchor to its end line; the\n"
	"                     anchors given must name records of the segment (or the\n"
	"                     one before it) and hold.  Prints\n"
	"                       audit: segment intact, records FIRST-LAST (N records),\n"
	"                       chained from SEQ:HASH\n"
	"                     or 'audit: segment broken at record SEQ: REASON' (exit 1)\n"
	"  --json             print the verdict as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help export_help = {
	"enrpctl audit export [--from TIME] [--to TIME] [-o FILE]",
	N_("Writes a segment of the journal for archiving: the records from the first\n"
	"one at or after --from to the last one at or before --to, every record in\n"
	"between included (a segment is a contiguous run of the chain), each as its\n"
	"exact bytes and their SHA-256, with the hash of the record before the first\n"
	"(the anchor the segment chains from) and the last record's hash.  'audit\n"
	"verify --segment FILE' checks it later without the store; a head saved with\n"
	"'audit head' that falls inside the segment, or is its anchor, proves it is\n"
	"the journal that head was taken from.  The chain is verified first: a broken\n"
	"chain is not exported (exit 1).  Nothing is removed from the journal.\n"
	"\n"
	"Options:\n"
	"  --from TIME        from this time on (default: the first record); the forms\n"
	"                     of 'audit show --since'\n"
	"  --to TIME          up to this time (default: the last record)\n"
	"  -o, --output FILE  write to FILE (created; an existing FILE is an error),\n"
	"                     durably, and print what was written; default: the\n"
	"                     segment on standard output\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help head_help = {
	"enrpctl audit head [--json]",
	N_("Verifies the chain, then prints its head, the last record, as an anchor:\n"
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
	"  -h, --help         show this help\n"),
};

static const struct ctl_help mirror_help = {
	"enrpctl audit mirror [--json] | --target TARGET [--force]",
	N_("Every journal record, once durable, is sent to syslog (RFC 5424, structured\n"
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
	"  -h, --help         show this help\n"),
};

static const struct ctl_help events_help = {
	"enrpctl audit events [--json]",
	N_("Lists every event a journal record can carry, with what it means: the\n"
	"names 'audit show --event' takes.\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON array of {\"event\", \"meaning\"} objects\n"
	"  -h, --help         show this help\n"),
};

/* --- events -------------------------------------------------------------- */

static int audit_events(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	size_t n;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, &events_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &events_help, "too many arguments");
	const struct enrp_journal_event *ev = enrp_journal_events(&n);
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++) {
			json_object_begin(&j);
			json_kv_str(&j, "event", ev[i].name);
			json_kv_str(&j, "meaning", ev[i].meaning);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_finish(&j);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-22s %s\n", ev[i].name, ev[i].meaning);
	}
	return CTL_OK;
}

/* --- show ---------------------------------------------------------------- */

/* User names, each looked up once: a journal of years names few people,
 * and a lookup can read /etc/passwd or ask a directory service. */
#define NAMES_MAX 32

struct names {
	uint32_t uid[NAMES_MAX];
	char *name[NAMES_MAX]; /* NULL: the uid has no name */
	size_t n, next;
};

static const char *name_of(struct names *c, uint32_t uid)
{
	if (uid == ENRP_NO_UID)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->uid[i] == uid)
			return c->name[i];
	size_t i = c->n < NAMES_MAX ? c->n++ : c->next++ % NAMES_MAX;
	if (i < c->n && c->name[i] && c->uid[i] != uid)
		free(c->name[i]);
	c->uid[i] = uid;
	c->name[i] = user_name(uid);
	return c->name[i];
}

static void names_release(struct names *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->name[i]);
}

/* A run of consecutive `verified` records of one EIR, shown as one line. */
struct group {
	uint64_t n, bytes, first_seq, last_seq;
	int64_t last_ns;
	char first_path[ENRP_JOURNAL_DETAILS_MAX + 1];
	struct enrp_journal_record first; /* shown alone when the run is one record */
};

struct show_state {
	struct json j;
	bool json, group;
	bool by_uid;
	uint32_t uid;
	const char *path;   /* normalised --path, or NULL */
	uint64_t limit;     /* records after this seq are left for the next poll */
	uint64_t skip;      /* matching records to pass over first (-n) */
	uint64_t matched;   /* matching records seen */
	bool counting;      /* the first pass of -n: count, print nothing */
	struct names names;
	struct group *g;    /* the open run (g->n == 0: none) */
	char key[ENRP_DETAILS_KEY_MAX + 1];
	char value[ENRP_JOURNAL_DETAILS_MAX + 1];
};

/* Whether the detail KEY names a file the record is about: "path", or one
 * of several ("from_path", "first_path", ...). */
static bool path_key(const char *key)
{
	size_t n = strlen(key);
	return strcmp(key, "path") == 0 || (n > 5 && strcmp(key + n - 5, "_path") == 0);
}

/* PATH itself, or anything under the directory PATH ("" matches every path). */
static bool path_under(const char *value, const char *path)
{
	size_t n = strlen(path);
	if (n == 0)
		return true;
	return strncmp(value, path, n) == 0 && (value[n] == '\0' || value[n] == '/');
}

static bool record_matches(struct show_state *s, const struct enrp_journal_record *r)
{
	if (s->by_uid && r->uid != s->uid && r->login_uid != s->uid && r->sudo_uid != s->uid)
		return false;
	if (s->path) {
		const char *cur = r->details;
		bool any = false;
		while (!any && enrp_details_next(&cur, s->key, sizeof(s->key), s->value,
		                                 sizeof(s->value), NULL))
			any = path_key(s->key) && path_under(s->value, s->path);
		if (!any)
			return false;
	}
	return true;
}

/* WHO: the person behind the record, as the help text describes. */
static void person(struct show_state *s, const struct enrp_journal_record *r, char *buf,
                   size_t size)
{
	const char *name;
	if (r->sudo_user[0]) {
		snprintf(buf, size, "%s via sudo (uid %" PRIu32 ")", r->sudo_user, r->uid);
	} else if (r->login_uid != ENRP_NO_UID && r->login_uid != r->uid) {
		name = name_of(&s->names, r->login_uid);
		if (name)
			snprintf(buf, size, "login %s (uid %" PRIu32 ")", name, r->uid);
		else
			snprintf(buf, size, "login uid %" PRIu32 " (uid %" PRIu32 ")", r->login_uid,
			         r->uid);
	} else if ((name = name_of(&s->names, r->uid))) {
		snprintf(buf, size, "%s (uid %" PRIu32 ")", name, r->uid);
	} else {
		snprintf(buf, size, "uid %" PRIu32, r->uid);
	}
}

/* A detail's value as JSON: a decimal integer as a number, yes/no as a
 * boolean, anything else as a string. */
static void json_detail(struct json *j, const char *v)
{
	const char *d = v + (*v == '-');
	size_t n = strlen(d);
	bool integer = n > 0 && n <= 18 && (d[0] != '0' || n == 1) &&
	               strspn(d, "0123456789") == n;
	if (integer)
		json_i64(j, strtoll(v, NULL, 10));
	else if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0)
		json_bool(j, v[0] == 'y');
	else
		json_str(j, v);
}

#define DETAIL_KEYS_MAX 64

static void json_details(struct show_state *s, const struct enrp_journal_record *r)
{
	char seen[DETAIL_KEYS_MAX][ENRP_DETAILS_KEY_MAX + 16];
	char cut[DETAIL_KEYS_MAX][ENRP_DETAILS_KEY_MAX + 16];
	size_t nseen = 0, ncut = 0;
	const char *cur = r->details;
	bool was_cut;

	json_key(&s->j, "details");
	json_object_begin(&s->j);
	while (enrp_details_next(&cur, s->key, sizeof(s->key), s->value, sizeof(s->value),
	                         &was_cut)) {
		char name[ENRP_DETAILS_KEY_MAX + 16];
		/* Text of a record older than pairs, and a key given twice, keep
		 * their place under a name of their own: a JSON object has one
		 * value per key. */
		snprintf(name, sizeof(name), "%s", s->key[0] ? s->key : "_text");
		for (int k = 2; k < 100; k++) {
			bool dup = false;
			for (size_t i = 0; i < nseen && !dup; i++)
				dup = strcmp(seen[i], name) == 0;
			if (!dup)
				break;
			snprintf(name, sizeof(name), "%s_%d", s->key[0] ? s->key : "_text", k);
		}
		if (nseen < DETAIL_KEYS_MAX)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
		if (was_cut && ncut < DETAIL_KEYS_MAX)
			snprintf(cut[ncut++], sizeof(cut[0]), "%s", name);
		json_key(&s->j, name);
		if (s->key[0])
			json_detail(&s->j, s->value);
		else
			json_str(&s->j, s->value);
	}
	json_object_end(&s->j);
	/* Values the writer had to shorten (a path longer than a record holds). */
	json_key(&s->j, "details_cut");
	json_array_begin(&s->j);
	for (size_t i = 0; i < ncut; i++)
		json_str(&s->j, cut[i]);
	json_array_end(&s->j);
}

static void show_json(struct show_state *s, const struct enrp_journal_record *rec)
{
	char when[TIME_BUF], hex[2 * 32 + 1], who[160];

	time_iso(rec->time_ns, when);
	person(s, rec, who, sizeof(who));
	json_object_begin(&s->j);
	json_kv_u64(&s->j, "seq", rec->seq);
	json_kv_str(&s->j, "time", when);
	json_kv_i64(&s->j, "time_ns", rec->time_ns);
	json_kv_u64(&s->j, "uid", rec->uid);
	json_kv_str(&s->j, "user", name_of(&s->names, rec->uid));
	json_kv_u64(&s->j, "pid", rec->pid);
	json_kv_str(&s->j, "command", rec->command);
	json_key(&s->j, "login_uid");
	if (rec->login_uid == ENRP_NO_UID)
		json_null(&s->j);
	else
		json_u64(&s->j, rec->login_uid);
	json_kv_str(&s->j, "login_user", name_of(&s->names, rec->login_uid));
	json_key(&s->j, "sudo_uid");
	if (rec->sudo_uid == ENRP_NO_UID)
		json_null(&s->j);
	else
		json_u64(&s->j, rec->sudo_uid);
	json_kv_str(&s->j, "sudo_user", rec->sudo_user[0] ? rec->sudo_user : NULL);
	json_kv_str(&s->j, "person", who);
	json_kv_str(&s->j, "eir", rec->eir[0] ? rec->eir : NULL);
	json_kv_str(&s->j, "event", rec->event);
	bool has_path = enrp_details_get(rec->details, "path", s->value, sizeof(s->value));
	json_kv_str(&s->j, "path", has_path ? s->value : NULL);
	json_details(s, rec);
	json_kv_u64(&s->j, "format", rec->format);
	hex_encode(rec->hash, sizeof(rec->hash), hex);
	json_kv_str(&s->j, "hash", hex);
	hex_encode(rec->prev_hash, sizeof(rec->prev_hash), hex);
	json_kv_str(&s->j, "prev_hash", hex);
	json_object_end(&s->j);
	if (s->j.compact) {
		json_finish(&s->j);
		fflush(stdout);
	}
}

static void show_text(struct show_state *s, const struct enrp_journal_record *rec)
{
	char when[TIME_BUF], who[160];

	time_iso(rec->time_ns, when);
	person(s, rec, who, sizeof(who));
	ctl_line(stdout, "%" PRIu64 " %s %s pid=%" PRIu32 " \"%s\" %s %s%s%s", rec->seq, when, who,
	         rec->pid, rec->command, rec->eir[0] ? rec->eir : "-", rec->event,
	         rec->details[0] ? " " : "", rec->details);
}

/* 1234567 -> "1,234,567" */
static void thousands(uint64_t v, char buf[32])
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v), o = 0;
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

static void group_flush(struct show_state *s)
{
	struct group *g = s->g;
	char when[TIME_BUF], end[TIME_BUF], count[32], size[SIZE_BUF];

	if (!g || g->n == 0)
		return;
	if (g->n == 1) {
		show_text(s, &g->first);
	} else {
		time_iso(g->first.time_ns, when);
		time_iso(g->last_ns, end);
		thousands(g->n, count);
		if (g->bytes < 1024)
			snprintf(size, sizeof(size), "%" PRIu64 " bytes", g->bytes);
		else
			size_human(g->bytes, size);
		/* The end as a time of day when the run ends the day it started. */
		const char *until = strncmp(when, end, 11) == 0 && strlen(end) >= 19 ? end + 11 : end;
		ctl_line(stdout, "%" PRIu64 "-%" PRIu64 " %s %s verified %s files, %s, until %s, "
		         "first %s", g->first_seq, g->last_seq, when, g->first.eir[0] ? g->first.eir : "-",
		         count, size, until, g->first_path);
	}
	g->n = 0;
}

static void group_add(struct show_state *s, const struct enrp_journal_record *rec)
{
	struct group *g = s->g;
	if (g->n && strcmp(g->first.eir, rec->eir) != 0)
		group_flush(s);
	if (g->n == 0) {
		g->first = *rec;
		g->first_seq = rec->seq;
		g->bytes = 0;
		if (!enrp_details_get(rec->details, "path", g->first_path, sizeof(g->first_path))) {
			char ino[32] = "?";
			enrp_details_get(rec->details, "ino", ino, sizeof(ino));
			snprintf(g->first_path, sizeof(g->first_path), "inode %s", ino);
		}
	}
	char size[32];
	if (enrp_details_get(rec->details, "size", size, sizeof(size)))
		g->bytes += strtoull(size, NULL, 10);
	g->n++;
	g->last_seq = rec->seq;
	g->last_ns = rec->time_ns;
}

static int show_cb(const struct enrp_journal_record *rec, void *arg)
{
	struct show_state *s = arg;

	if (rec->seq > s->limit || !record_matches(s, rec))
		return 0;
	s->matched++;
	if (s->counting || s->matched <= s->skip)
		return 0;
	if (s->json)
		show_json(s, rec);
	else if (s->group && strcmp(rec->event, "verified") == 0)
		group_add(s, rec);
	else {
		group_flush(s);
		show_text(s, rec);
	}
	return 0;
}

/* Normalises --path: relative to the EIR, no leading '/' or "./", no
 * trailing '/'.  "" (the EIR's root) matches every record with a path. */
static void path_normalise(char *p)
{
	char *q = p;
	for (;;) {
		if (*q == '/')
			q++;
		else if (q[0] == '.' && (q[1] == '/' || q[1] == '\0'))
			q += 1;
		else
			break;
	}
	memmove(p, q, strlen(q) + 1);
	size_t n = strlen(p);
	while (n && p[n - 1] == '/')
		p[--n] = '\0';
}

static int parse_uid_arg(const char *arg, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (*arg >= '0' && *arg <= '9' && *end == '\0' && errno == 0 && v < ENRP_NO_UID) {
		*out = (uint32_t)v;
		return 0;
	}
	const struct passwd *pw = getpwnam(arg);
	if (!pw)
		return -ENOENT;
	*out = (uint32_t)pw->pw_uid;
	return 0;
}

static void event_names_hint(void)
{
	size_t n, len = 0;
	const struct enrp_journal_event *ev = enrp_journal_events(&n);
	char list[2048] = "";
	for (size_t i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
		                        ev[i].name);
	ctl_hint("the events are: %s ('enrpctl audit events' says what each means)", list);
}

/* Prints the journal's records from FROM_SEQ up to S->LIMIT. */
static int show_pass(struct ctl *ctl, struct enrp_journal_filter *filter, struct show_state *s)
{
	int rc = enrp_journal_iter(ctl->store, filter, show_cb, s);
	group_flush(s);
	if (rc < 0) {
		ctl_err("cannot read the audit journal of '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("run 'enrpctl audit verify' and see the messages above");
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int journal_limit(struct ctl *ctl, uint64_t *seq)
{
	struct enrp_journal_head h;
	int rc = enrp_journal_head(ctl->store, &h);
	if (rc < 0) {
		ctl_err("cannot read the audit journal's head in '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		ctl_hint("run 'enrpctl audit verify'");
		return CTL_FAIL;
	}
	*seq = h.seq;
	return CTL_OK;
}

static int audit_show(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "eir",     required_argument, NULL, 'e' },
		{ "since",   required_argument, NULL, 's' },
		{ "until",   required_argument, NULL, 'u' },
		{ "event",   required_argument, NULL, 'E' },
		{ "uid",     required_argument, NULL, 'U' },
		{ "path",    required_argument, NULL, 'p' },
		{ "last",    required_argument, NULL, 'n' },
		{ "follow",  no_argument,       NULL, 'f' },
		{ "verbose", no_argument,       NULL, 'v' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	struct enrp_journal_filter filter = { 0 };
	const char *since = NULL, *until = NULL, *uid_arg = NULL, *last = NULL;
	char *path = NULL;
	bool follow = false, verbose = false;
	uint64_t last_n = 0;
	struct show_state *s = NULL;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:n:fv", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			filter.eir = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'E':
			filter.event = optarg;
			break;
		case 'U':
			uid_arg = optarg;
			break;
		case 'p':
			free(path);
			path = ctl_xstrdup(optarg);
			break;
		case 'n':
			last = optarg;
			break;
		case 'f':
			follow = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			rc = ctl_common_option(ctl, c, optarg, &show_help);
			if (rc != CTL_CONTINUE)
				goto out;
		}
	}
	rc = CTL_USAGE;
	if (optind < argc) {
		rc = ctl_usage_error(ctl, &show_help, "too many arguments");
		goto out;
	}
	if (filter.eir && !enrp_eir_name_valid(filter.eir)) {
		ctl_err("invalid EIR name '%s'", filter.eir);
		ctl_hint("a name is 1-%d characters of a-z, 0-9, '.', '_' and '-', starting "
		         "with a letter or digit", ENRP_EIR_NAME_MAX);
		goto out;
	}
	if (filter.event && !enrp_journal_event_find(filter.event)) {
		ctl_err("unknown event '%s'", filter.event);
		event_names_hint();
		rc = CTL_FAIL;
		goto out;
	}
	const char *times[2] = { since, until };
	int64_t *ns[2] = { &filter.since_ns, &filter.until_ns };
	for (int i = 0; i < 2; i++) {
		if (times[i] && enrp_time_parse(times[i], enrp_now_ns(), ns[i]) < 0) {
			ctl_err("invalid time '%s'", times[i]);
			ctl_hint("give 2026-11-21, 2026-11-21T10:00, 2026-11-21T10:00:00Z (UTC), "
			         "now, or -7d style");
			goto out;
		}
	}
	if (since && until && filter.until_ns < filter.since_ns) {
		ctl_err("--until %s is before --since %s: no record can match", until, since);
		ctl_hint("swap them");
		goto out;
	}
	if (last) {
		char *end;
		errno = 0;
		last_n = strtoull(last, &end, 10);
		if (!(*last >= '0' && *last <= '9') || *end || errno) {
			ctl_err("invalid count '%s' for -n", last);
			ctl_hint("give the number of records to show, e.g. -n 20");
			goto out;
		}
	} else if (follow) {
		last_n = 10;
		last = "10";
	}

	s = ctl_xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->json = ctl->json;
	s->group = !verbose && !ctl->json && !path &&
	           !(filter.event && strcmp(filter.event, "verified") == 0);
	if (uid_arg) {
		if (parse_uid_arg(uid_arg, &s->uid) < 0) {
			ctl_err("no user '%s' on this host", uid_arg);
			ctl_hint("give a uid (a number) or a user name that 'getent passwd' knows");
			rc = CTL_FAIL;
			goto out_free;
		}
		s->by_uid = true;
	}
	if (path) {
		path_normalise(path);
		s->path = path;
	}
	s->g = ctl_xmalloc(sizeof(*s->g));
	s->g->n = 0;

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		goto out_free;
	if (filter.eir) {
		struct enrp_eir e;
		int erc = enrp_eir_get(ctl->store, filter.eir, &e);
		if (erc) {
			rc = ctl_eir_error("show the records of", filter.eir, erc);
			goto out_free;
		}
	}
	rc = journal_limit(ctl, &s->limit);
	if (rc != CTL_OK)
		goto out_free;
	if (last) {
		/* First pass: how many match, to pass over all but the last N. */
		s->counting = true;
		rc = show_pass(ctl, &filter, s);
		if (rc != CTL_OK)
			goto out_free;
		s->skip = s->matched > last_n ? s->matched - last_n : 0;
		s->matched = 0;
		s->counting = false;
	}
	if (s->json) {
		json_init(&s->j, stdout);
		/* Following, the output never ends: JSON lines, one object each. */
		s->j.compact = follow;
		if (!follow)
			json_array_begin(&s->j);
	}
	rc = show_pass(ctl, &filter, s);
	if (s->json && !follow) {
		/* Close the array even after an error: what was printed stays valid. */
		json_array_end(&s->j);
		json_finish(&s->j);
	}
	fflush(stdout);
	/* Follow: poll the head twice a second, and print what came after the
	 * last record printed.  A record is durable once its head is, and the
	 * read-only handle sees each commit in its next read. */
	while (follow && rc == CTL_OK) {
		struct timespec half = { 0, 500 * 1000 * 1000 };
		uint64_t head;
		nanosleep(&half, NULL);
		rc = journal_limit(ctl, &head);
		if (rc != CTL_OK || head <= s->limit)
			continue;
		filter.from_seq = s->limit + 1;
		s->limit = head;
		rc = show_pass(ctl, &filter, s);
		fflush(stdout);
	}
out_free:
	free(s->g);
	names_release(&s->names);
	free(s);
out:
	free(path);
	return rc;
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

/* `verify --segment FILE`: offline, the store is never opened. */
static int verify_segment(struct ctl *ctl, const char *path, const struct anchor_list *l)
{
	struct enrp_segment_verdict v;
	char hex[65];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");

	if (!f) {
		ctl_err("cannot read segment '%s': %s", path, strerror(errno));
		ctl_hint("give the file 'enrpctl audit export' wrote");
		return CTL_USAGE;
	}
	int rc = enrp_journal_segment_verify(f, l->v, l->n, &v);
	if (f != stdin)
		fclose(f);
	if (rc < 0) {
		ctl_err("cannot read segment '%s': %s", path, enrp_strerror(rc));
		ctl_hint("nothing was verified");
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
		if (v.intact || !v.bad_seq)
			json_null(&j);
		else
			json_u64(&j, v.bad_seq);
		json_key(&j, "bad_line");
		if (v.intact || !v.bad_line)
			json_null(&j);
		else
			json_u64(&j, v.bad_line);
		json_kv_str(&j, "reason", v.intact ? NULL : v.reason);
		json_kv_bool(&j, "anchor_failed", !v.intact && v.by_anchor);
		json_kv_str(&j, "journal", v.journal[0] ? v.journal : NULL);
		json_kv_u64(&j, "first_seq", v.first_seq);
		json_kv_u64(&j, "last_seq", v.last_seq);
		char anchor[ENRP_JOURNAL_ANCHOR_BUF];
		hex_encode(v.anchor_hash, 32, hex);
		snprintf(anchor, sizeof(anchor), "%" PRIu64 ":%s", v.anchor_seq, hex);
		json_kv_str(&j, "anchor", anchor);
		enrp_journal_anchor_format(v.last_seq, v.last_hash, anchor);
		json_kv_str(&j, "last", v.records ? anchor : NULL);
		json_kv_u64(&j, "anchors_given", l->n);
		json_kv_u64(&j, "anchors_checked", v.anchors);
		json_kv_u64(&j, "anchors_other_journals", v.foreign);
		json_kv_u64(&j, "anchors_outside", v.outside);
		json_object_end(&j);
		json_finish(&j);
	} else if (!v.intact) {
		if (v.bad_seq)
			ctl_line(stdout, "audit: segment %s at record %" PRIu64 ": %s",
			         v.by_anchor ? "anchor not held" : "broken", v.bad_seq, v.reason);
		else
			ctl_line(stdout, "audit: segment %s: %s",
			         v.by_anchor ? "anchor not held" : "broken", v.reason);
	} else {
		hex_encode(v.anchor_hash, 32, hex);
		printf("audit: segment intact, records %" PRIu64 "-%" PRIu64 " (%" PRIu64
		       " record%s), chained from %" PRIu64 ":%s\n", v.first_seq, v.last_seq,
		       v.records, v.records == 1 ? "" : "s", v.anchor_seq, hex);
		if (l->n) {
			printf("audit: %" PRIu64 " anchored record%s match; %" PRIu64
			       " anchor%s outside the segment\n", v.anchors, v.anchors == 1 ? "" : "s",
			       v.outside, v.outside == 1 ? "" : "s");
			if (v.foreign)
				printf("audit: %" PRIu64 " anchor%s of other journals skipped\n", v.foreign,
				       v.foreign == 1 ? "" : "s");
		}
	}
	return v.intact ? CTL_OK : CTL_FAIL;
}

static int audit_verify(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "anchor",  required_argument, NULL, 'a' },
		{ "anchors", required_argument, NULL, 'A' },
		{ "segment", required_argument, NULL, 's' },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	struct anchor_list l = { 0 };
	struct enrp_journal_verdict v;
	struct enrp_journal_mirror_status ms;
	const char *segment = NULL;
	bool have_ms;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 's') {
			segment = optarg;
			continue;
		}
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
	if (segment) {
		rc = verify_segment(ctl, segment, &l);
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

/* --- export -------------------------------------------------------------- */

static int audit_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from",   required_argument, NULL, 'f' },
		{ "to",     required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		CTL_OPTS_COMMON,
	};
	const char *from = NULL, *to = NULL, *output = NULL;
	int64_t from_ns = 0, to_ns = INT64_MAX, now = enrp_now_ns();
	struct enrp_segment_info info;
	char tmp[4096], hex[65];
	FILE *f = stdout;
	int c, rc, fd = -1;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "ho:S:", opts, NULL)) != -1) {
		if (c == 'f' || c == 't' || c == 'o') {
			*(c == 'f' ? &from : c == 't' ? &to : &output) = optarg;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &export_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &export_help, "too many arguments");
	if ((from && enrp_time_parse(from, now, &from_ns) < 0) ||
	    (to && enrp_time_parse(to, now, &to_ns) < 0)) {
		ctl_err("invalid time '%s'", from && enrp_time_parse(from, now, &from_ns) < 0 ? from : to);
		ctl_hint("give 2026-11-21, 2026-11-21T10:00, 2026-11-21T10:00:00Z (UTC), "
		         "now, or -7d style");
		return CTL_USAGE;
	}
	if (to_ns < from_ns) {
		ctl_err("--to %s is before --from %s: no record can match", to, from);
		ctl_hint("swap them");
		return CTL_USAGE;
	}
	if (output && (strlen(output) + 16 > sizeof(tmp) || access(output, F_OK) == 0)) {
		ctl_err("cannot write segment '%s': %s", output,
		        strlen(output) + 16 > sizeof(tmp) ? strerror(ENAMETOOLONG) : strerror(EEXIST));
		ctl_hint("give a new file name: an archived segment is never overwritten");
		return CTL_FAIL;
	}
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	if (output) {
		/* Written beside FILE and linked into place, so FILE either holds a
		 * whole segment or does not exist. */
		snprintf(tmp, sizeof(tmp), "%s.partXXXXXX", output);
		fd = mkstemp(tmp);
		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			ctl_err("cannot create '%s': %s", tmp, strerror(errno));
			ctl_hint("check the directory and its permissions");
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			return CTL_FAIL;
		}
	}
	rc = enrp_journal_export(ctl->store, from_ns, to_ns, now, f, &info);
	if (rc == 0 && output && (fflush(f) == EOF || fsync(fd) < 0))
		rc = -errno;
	if (output) {
		if (fclose(f) == EOF && rc == 0)
			rc = -errno;
		if (rc == 0 && link(tmp, output) < 0)
			rc = -errno;
		unlink(tmp);
		/* The name, too, must survive a crash once we said it was written. */
		if (rc == 0) {
			char dir[4096];
			snprintf(dir, sizeof(dir), "%s", output);
			char *slash = strrchr(dir, '/');
			if (!slash)
				snprintf(dir, sizeof(dir), ".");
			else
				slash[slash == dir] = '\0';
			int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0 || fsync(dfd) < 0) {
				rc = -errno;
				unlink(output); /* not durable: as if never written */
			}
			if (dfd >= 0)
				close(dfd);
		}
	}
	if (rc == -ENOENT) {
		ctl_err("no journal record between %s and %s", from ? from : "the start",
		        to ? to : "the end");
		ctl_hint("see 'enrpctl audit show --since %s' for the records there are",
		         from ? from : "-30d");
		return CTL_FAIL;
	}
	if (rc == -EBADMSG) {
		ctl_err("the audit journal's chain is broken at record %" PRIu64 ": not exported",
		        info.first_seq);
		ctl_hint("a segment of a broken chain would vouch for the damage; see "
		         "'enrpctl audit verify'");
		return CTL_FAIL;
	}
	if (rc) {
		ctl_err("cannot export the audit journal of '%s' to '%s': %s", ctl->store_path,
		        output ? output : "standard output", enrp_strerror(rc));
		ctl_hint("check the space left on the device; nothing was written to '%s'",
		         output ? output : "standard output");
		return CTL_FAIL;
	}
	if (output) {
		hex_encode(info.last_hash, 32, hex);
		printf("audit: exported records %" PRIu64 "-%" PRIu64 " to %s, last %" PRIu64 ":%s\n",
		       info.first_seq, info.last_seq, output, info.last_seq, hex);
	}
	return CTL_OK;
}

/* --- mirror -------------------------------------------------------------- */

static int mirror_set(struct ctl *ctl, const char *target, bool force)
{
	int rc = enrp_journal_mirror_set(ctl->store, &ctl->actor, target, force);
	switch (-rc) {
	case 0:
		printf(_("audit: the journal is mirrored to %s from now on\n"), target);
		return CTL_OK;
	case EALREADY:
		printf(_("audit: the journal is already mirrored to %s; nothing changed\n"), target);
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
	{ "show",   audit_show,   NEED_STORE_RO, N_("print journal records") },
	{ "events", audit_events, NEED_NOTHING,  N_("list the events a record can carry") },
	{ "verify", audit_verify, NEED_STORE_RO, N_("check the hash chain of the journal, and anchors") },
	{ "head",   audit_head,   NEED_STORE_RO, N_("print the head (SEQ:HASH) for auditors to keep") },
	{ "export", audit_export, NEED_STORE_RO, N_("write a segment of the journal that verifies offline") },
	{ "mirror", audit_mirror, NEED_STORE_RW, N_("show or change the journal's syslog mirror") },
};

int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "audit", &audit_help, audit_verbs,
	                    sizeof(audit_verbs) / sizeof(audit_verbs[0]), argc, argv);
}
