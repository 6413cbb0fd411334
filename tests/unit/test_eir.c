/*
 * test_eir.c — the EIR registry: names and tables, create with its
 * directory, get/list, set with owner/mode reaching the directory inode,
 * escalation and its expiry, suspend/resume/retire, usage clamping, and
 * exactly one journal record (with the right event and details) per change
 * and none per refused or empty change.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/ns.h>
#include <enrp/status.h>

#include "eir_int.h"

#include "../tap.h"
#include "journal_last.h"

#define S 1000000000LL

static enrp_store *st;
static struct enrp_actor actor;

/* ---- journal helpers ---- */

static struct last journal_last(void)
{
	return journal_last_of(st);
}

/* Checks that exactly one record was added since BEFORE, with EVENT about
 * EIR and DETAILS. */
static void journalled(uint64_t before, const char *eir, const char *event, const char *details)
{
	struct last l = journal_last();
	is_int(l.n, before + 1, "%s: one journal record", event);
	is_str(l.rec.event, event, "%s: event", event);
	is_str(l.rec.eir, eir, "%s: about %s", event, eir);
	if (details)
		is_str(l.rec.details, details, "%s: details", event);
	is_int(l.rec.uid, actor.uid, "%s: actor uid", event);
	is_str(l.rec.command, "test_eir", "%s: actor command", event);
}

static uint64_t nrec(void)
{
	return journal_last().n;
}

/* ---- tests ---- */

static void names(void)
{
	static const char *const good[] = { "a", "0", "billing", "billing-db.main_1", "9x",
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0" };
	static const char *const bad[] = { "", ".", "..", ".hidden", "-opt", "_x", "Upper",
		"a/b", "a b", "caf\xc3\xa9", "a\nb",
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01" };
	int nbad = 0;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		nbad += !enrp_eir_name_valid(good[i]);
	is_int(nbad, 0, "valid names accepted");
	nbad = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (enrp_eir_name_valid(bad[i])) {
			diag("accepted '%s'", bad[i]);
			nbad++;
		}
	}
	is_int(nbad, 0, "invalid names refused");
	ok(!enrp_eir_name_valid(NULL), "NULL name refused");

	enum enrp_mode m;
	enum enrp_state s;
	ok(enrp_mode_parse("active", &m) == 0 && m == ENRP_MODE_ACTIVE, "parse mode active");
	ok(enrp_mode_parse("wo", &m) == 0 && m == ENRP_MODE_WO, "parse mode wo");
	is_int(enrp_mode_parse("RW", &m), -EINVAL, "parse mode is exact");
	is_str(enrp_mode_name(ENRP_MODE_RO), "ro", "mode name ro");
	ok(enrp_state_parse("retired", &s) == 0 && s == ENRP_STATE_RETIRED, "parse state");
	is_int(enrp_state_parse("gone", &s), -EINVAL, "parse unknown state");
	is_str(enrp_state_name(ENRP_STATE_SUSPENDED), "suspended", "state name");
	is_str(enrp_state_name((enum enrp_state)99), "?", "state name out of range");
}

static void create_get_list(void)
{
	struct enrp_eir spec, e, g;
	struct enrp_stat sa;
	uint64_t before = nrec();

	enrp_eir_defaults(&spec, "billing");
	ok(spec.mode == ENRP_MODE_RW && spec.eir_class == 3 && spec.dir_mode == 0700 &&
	   spec.quota == 0 && spec.agent_uid == ENRP_NO_UID && spec.rpo_minutes == 60,
	   "defaults: rw, class 3, 0700, unlimited, no agent, rpo 60");
	spec.mode = ENRP_MODE_WO;
	spec.eir_class = 1;
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	spec.quota = 53687091200ULL;
	is_int(enrp_eir_create(st, &spec, &actor, &e), 0, "create billing");
	ok(e.id >= 1 && e.root_ino > ENRP_ROOT_INO && e.created > 0 &&
	   e.state == ENRP_STATE_NORMAL, "create assigns id, root_ino, created");
	journalled(before, "billing", "eir-create",
	           "id=1 mode=wo class=1 owner=1000 group=1000 dir_mode=0700 quota=53687091200 "
	           "agent=none rpo=60");

	is_int(enrp_ns_getattr(st, e.root_ino, &sa), 0, "the EIR directory exists");
	ok(S_ISDIR(sa.st.st_mode) && (sa.st.st_mode & 07777) == 0700 && sa.st.st_uid == 1000 &&
	   sa.st.st_gid == 1000 && sa.eir_id == e.id, "directory: owner, group, 0700, eir id");
	is_int(enrp_ns_lookup(st, ENRP_ROOT_INO, "billing", &sa), 0, "listed under the root");
	is_int(sa.st.st_ino, e.root_ino, "root entry points at the directory");

	is_int(enrp_eir_get(st, "billing", &g), 0, "get by name");
	ok(g.id == e.id && g.mode == ENRP_MODE_WO && g.quota == spec.quota, "get returns it");
	is_int(enrp_eir_get_by_id(st, e.id, &g), 0, "get by id");
	is_str(g.name, "billing", "get by id returns it");
	is_int(enrp_eir_get(st, "nothere", &g), -ENOENT, "get unknown: -ENOENT");
	is_int(enrp_eir_get(st, "Not/A/Name", &g), -ENOENT, "get invalid name: -ENOENT");
	is_int(enrp_eir_get_by_id(st, 999, &g), -ENOENT, "get unknown id: -ENOENT");

	struct enrp_eir_usage u = { 9, 9, 9, 9 };
	is_int(enrp_eir_usage(st, e.id, &u), 0, "usage read");
	ok(u.bytes == 0 && u.inodes == 0, "usage starts at zero");

	before = nrec();
	is_int(enrp_eir_create(st, &spec, &actor, NULL), -EEXIST, "duplicate name: -EEXIST");
	enrp_eir_defaults(&spec, "Bad Name");
	is_int(enrp_eir_create(st, &spec, &actor, NULL), -EINVAL, "bad name: -EINVAL");
	enrp_eir_defaults(&spec, "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01");
	is_int(enrp_eir_create(st, &spec, &actor, NULL), -EINVAL, "over-long name: -EINVAL");
	enrp_eir_defaults(&spec, "c0");
	spec.eir_class = 0;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), -EINVAL, "class 0: -EINVAL");
	spec.eir_class = 4;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), -EINVAL, "class 4: -EINVAL");
	spec.eir_class = 2;
	spec.dir_mode = 010000;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), -EINVAL, "dir_mode past 07777: -EINVAL");
	spec.dir_mode = 0750;
	spec.mode = (enum enrp_mode)7;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), -EINVAL, "unknown mode: -EINVAL");
	spec.mode = ENRP_MODE_RW;
	spec.rpo_minutes = 0;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), -EINVAL, "rpo 0: -EINVAL");
	is_int(nrec(), before, "refused creates journal nothing");
	is_int(enrp_eir_get(st, "c0", &g), -ENOENT, "refused creates leave nothing");

	/* State fields in the spec are the server's, not the caller's. */
	enrp_eir_defaults(&spec, "archive");
	spec.state = ENRP_STATE_RETIRED;
	spec.escalated_until = INT64_MAX;
	is_int(enrp_eir_create(st, &spec, &actor, &g), 0, "create archive");
	ok(g.state == ENRP_STATE_NORMAL && g.escalated_until == 0 && g.id == e.id + 1,
	   "a new EIR starts normal, unescalated, with the next id");

	enrp_eir_defaults(&spec, "crm");
	spec.mode = ENRP_MODE_ACTIVE;
	spec.agent_uid = 2000;
	spec.rpo_minutes = 15;
	is_int(enrp_eir_create(st, &spec, &actor, NULL), 0, "create active crm");
}

struct names {
	char v[8][ENRP_EIR_NAME_MAX + 1];
	int n;
};

static int list_cb(const struct enrp_eir *e, void *arg)
{
	struct names *n = arg;
	if (n->n < 8)
		strcpy(n->v[n->n], e->name);
	n->n++;
	return 0;
}

static int list_stop_cb(const struct enrp_eir *e, void *arg)
{
	(void)e;
	(void)arg;
	return 7;
}

/* A callback that uses the store: list must not hold a transaction. */
static int list_reenter_cb(const struct enrp_eir *e, void *arg)
{
	struct enrp_eir g;
	(void)arg;
	return enrp_eir_get(st, e->name, &g);
}

static void list(void)
{
	struct names n = { .n = 0 };
	is_int(enrp_eir_list(st, list_cb, &n), 0, "list");
	ok(n.n == 3 && strcmp(n.v[0], "archive") == 0 && strcmp(n.v[1], "billing") == 0 &&
	   strcmp(n.v[2], "crm") == 0, "list is in name order");
	is_int(enrp_eir_list(st, list_stop_cb, NULL), 7, "a callback's non-zero stops list");
	is_int(enrp_eir_list(st, list_reenter_cb, NULL), 0, "callbacks may use the store");
}

static void set(void)
{
	struct enrp_eir nv, g;
	struct enrp_stat sa;
	uint64_t before;

	enrp_eir_defaults(&nv, "");
	nv.mode = ENRP_MODE_RO;
	nv.quota = 1000;
	before = nrec();
	is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_MODE | ENRP_EIR_SET_QUOTA, &actor), 0,
	       "set mode and quota");
	journalled(before, "billing", "mode-change", "mode=wo->ro quota=53687091200->1000");
	enrp_eir_get(st, "billing", &g);
	ok(g.mode == ENRP_MODE_RO && g.quota == 1000, "set took effect");

	before = nrec();
	nv.eir_class = 2;
	is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_CLASS | ENRP_EIR_SET_QUOTA, &actor), 0,
	       "set class, quota unchanged");
	journalled(before, "billing", "eir-set", "class=1->2");

	before = nrec();
	is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_CLASS | ENRP_EIR_SET_MODE, &actor), 0,
	       "set with nothing changed");
	is_int(nrec(), before, "nothing changed: nothing journalled");

	before = nrec();
	nv.owner_uid = 1500;
	nv.owner_gid = 1501;
	/* Bits that would let others in than the registry decides are refused,
	 * and nothing changes (not even the other fields of the call). */
	static const uint32_t wider[] = { 0770, 0757, 0775, 02750, 04700, 01700, 0777 };
	for (size_t i = 0; i < sizeof(wider) / sizeof(wider[0]); i++) {
		nv.dir_mode = wider[i];
		is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_OWNER | ENRP_EIR_SET_DIR_MODE,
		                    &actor), -EINVAL, "dir_mode %04o: -EINVAL", wider[i]);
	}
	is_int(nrec(), before, "refused dir modes: nothing journalled");
	enrp_eir_get(st, "billing", &g);
	ok(g.owner_uid == 1000 && g.dir_mode == 0700, "refused dir modes: nothing changed");
	nv.dir_mode = 0750;
	is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_OWNER | ENRP_EIR_SET_DIR_MODE, &actor),
	       0, "set owner and dir_mode");
	journalled(before, "billing", "eir-set", "owner=1000:1000->1500:1501 dir_mode=0700->0750");
	enrp_eir_get(st, "billing", &g);
	enrp_ns_getattr(st, g.root_ino, &sa);
	ok(sa.st.st_uid == 1500 && sa.st.st_gid == 1501 && (sa.st.st_mode & 07777) == 0750 &&
	   S_ISDIR(sa.st.st_mode), "owner and dir_mode reach the directory inode");

	before = nrec();
	nv.agent_uid = 3000;
	nv.rpo_minutes = 30;
	is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_AGENT | ENRP_EIR_SET_RPO, &actor), 0,
	       "set agent and rpo");
	journalled(before, "billing", "eir-set", "agent=none->3000 rpo=60->30");

	before = nrec();
	nv.eir_class = 5;
	is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_CLASS, &actor), -EINVAL,
	       "set class 5: -EINVAL");
	nv.dir_mode = 017777;
	is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_DIR_MODE, &actor), -EINVAL,
	       "set dir_mode past 07777: -EINVAL");
	nv.rpo_minutes = 0;
	is_int(enrp_eir_set(st, "billing", &nv, ENRP_EIR_SET_RPO, &actor), -EINVAL,
	       "set rpo 0: -EINVAL");
	is_int(enrp_eir_set(st, "billing", &nv, 1u << 20, &actor), -EINVAL, "unknown flag: -EINVAL");
	is_int(enrp_eir_set(st, "nothere", &nv, ENRP_EIR_SET_CLASS, &actor), -ENOENT,
	       "set unknown EIR: -ENOENT");
	is_int(nrec(), before, "refused sets journal nothing");
	enrp_eir_get(st, "billing", &g);
	ok(g.eir_class == 2 && g.dir_mode == 0750 && g.rpo_minutes == 30,
	   "refused sets change nothing");
}

static void escalation(void)
{
	struct enrp_eir g;
	uint64_t before;
	int64_t now = enrp_now_ns();

	before = nrec();
	is_int(enrp_eir_escalate(st, "billing", now + 3600 * S, "drill", 0, &actor), -EINVAL,
	       "escalate a non-active EIR: -EINVAL");
	is_int(enrp_eir_escalate(st, "crm", now + 3600 * S, "", 0, &actor), -EINVAL,
	       "escalate without reason: -EINVAL");
	char longreason[ENRP_REASON_MAX + 2];
	memset(longreason, 'r', sizeof(longreason) - 1);
	longreason[sizeof(longreason) - 1] = '\0';
	is_int(enrp_eir_escalate(st, "crm", now + 3600 * S, longreason, 0, &actor), -EINVAL,
	       "escalate with an over-long reason: -EINVAL");
	is_int(enrp_eir_escalate(st, "crm", now - S, "late", 0, &actor), -EINVAL,
	       "escalate into the past: -EINVAL");
	is_int(enrp_eir_escalate(st, "nothere", now + S, "x", 0, &actor), -ENOENT,
	       "escalate unknown EIR: -ENOENT");
	is_int(enrp_eir_deescalate(st, "crm", &actor), -EALREADY,
	       "deescalate when not escalated: -EALREADY");
	is_int(nrec(), before, "refused escalations journal nothing");

	/* 2030-01-01T00:00:00Z, so the details are predictable. */
	const int64_t until = 1893456000LL * S;
	before = nrec();
	is_int(enrp_eir_escalate(st, "crm", until, "restore drill 42", 0, &actor), 0, "escalate crm");
	journalled(before, "crm", "escalate", "until=2030-01-01T00:00:00Z reason=\"restore drill 42\"");
	enrp_eir_get(st, "crm", &g);
	ok(g.escalated_until == until && strcmp(g.escalation_reason, "restore drill 42") == 0,
	   "escalation stored");

	/* A second escalation never cuts the first short unless told to. */
	before = nrec();
	is_int(enrp_eir_escalate(st, "crm", until - 3600 * S, "shorter", 0, &actor), -EEXIST,
	       "a shorter escalation: -EEXIST");
	is_int(enrp_eir_escalate(st, "crm", until, "drill", 1u << 5, &actor), -EINVAL,
	       "an unknown flag: -EINVAL");
	is_int(nrec(), before, "refused: nothing journalled");
	enrp_eir_get(st, "crm", &g);
	ok(g.escalated_until == until && strcmp(g.escalation_reason, "restore drill 42") == 0,
	   "refused: the escalation stands");
	is_int(enrp_eir_escalate(st, "crm", until + 3600 * S, "longer", 0, &actor), 0,
	       "a longer one replaces it");
	is_int(enrp_eir_escalate(st, "crm", until, "restore drill 42", ENRP_EIR_ESCALATE_SHORTEN,
	                         &actor), 0, "a shorter one with ENRP_EIR_ESCALATE_SHORTEN");
	enrp_eir_get(st, "crm", &g);
	ok(g.escalated_until == until, "shortened");

	char *buf;
	size_t len;
	is_int(enrp_status_render(st, g.id, ENRP_STATUS_STATUS, &buf, &len), 0, "status renders");
	ok(buf && strstr(buf, "escalated_until: 2030-01-01T00:00:00Z\n"), "status shows escalation");
	free(buf);

	before = nrec();
	is_int(enrp_eir_deescalate(st, "crm", &actor), 0, "deescalate");
	journalled(before, "crm", "deescalate", "until=2030-01-01T00:00:00Z");
	enrp_eir_get(st, "crm", &g);
	ok(g.escalated_until == 0 && g.escalation_reason[0] == '\0', "escalation cleared");

	/* Expiry: escalate, then expire with a clock past the end. */
	enrp_eir_escalate(st, "crm", until, "window", 0, &actor);
	uint32_t ids[4] = { 0 };
	unsigned n = 99;
	before = nrec();
	is_int(enrp_eir_expire_escalations(st, until - 1, &actor, ids, 4, &n), 0,
	       "expire before the end");
	ok(n == 0 && nrec() == before, "nothing expires early, nothing journalled");
	is_int(enrp_eir_expire_escalations(st, until, &actor, ids, 4, &n), 0, "expire at the end");
	enrp_eir_get(st, "crm", &g);
	ok(n == 1 && ids[0] == g.id, "one expired, its id reported");
	journalled(before, "crm", "escalation-expired", "until=2030-01-01T00:00:00Z reason=window");
	ok(g.escalated_until == 0, "expiry cleared the escalation");
	is_int(enrp_eir_expire_escalations(st, until + S, &actor, NULL, 0, NULL), 0,
	       "expire again with NULL outputs");
	is_int(nrec(), before + 1, "nothing left to expire");

	/* Leaving active ends an escalation. */
	enrp_eir_escalate(st, "crm", until, "window", 0, &actor);
	struct enrp_eir nv;
	enrp_eir_defaults(&nv, "");
	nv.mode = ENRP_MODE_RW;
	before = nrec();
	enrp_eir_set(st, "crm", &nv, ENRP_EIR_SET_MODE, &actor);
	journalled(before, "crm", "mode-change", "mode=active->rw escalation=ended");
	enrp_eir_get(st, "crm", &g);
	ok(g.escalated_until == 0, "leaving active ended the escalation");
	nv.mode = ENRP_MODE_ACTIVE;
	enrp_eir_set(st, "crm", &nv, ENRP_EIR_SET_MODE, &actor);
}

static void states(void)
{
	struct enrp_eir g;
	uint64_t before = nrec();

	is_int(enrp_eir_suspend(st, "archive", "", &actor), -EINVAL, "suspend without reason: -EINVAL");
	is_int(enrp_eir_suspend(st, "archive", NULL, &actor), -EINVAL, "suspend NULL reason: -EINVAL");
	is_int(enrp_eir_resume(st, "archive", &actor), -EALREADY, "resume when normal: -EALREADY");
	is_int(enrp_eir_suspend(st, "nothere", "x", &actor), -ENOENT, "suspend unknown: -ENOENT");
	is_int(nrec(), before, "refused state changes journal nothing");

	is_int(enrp_eir_suspend(st, "archive", "disk swap", &actor), 0, "suspend");
	journalled(before, "archive", "suspend", "reason=\"disk swap\"");
	enrp_eir_get(st, "archive", &g);
	ok(g.state == ENRP_STATE_SUSPENDED && strcmp(g.state_reason, "disk swap") == 0,
	   "suspended with its reason");
	is_int(enrp_eir_suspend(st, "archive", "again", &actor), -EALREADY,
	       "suspend twice: -EALREADY");

	char *buf;
	size_t len;
	enrp_status_render(st, g.id, ENRP_STATUS_STATUS, &buf, &len);
	ok(buf && strstr(buf, "state: suspended\nstate_reason: disk swap\n"),
	   "status shows state and reason");
	free(buf);

	before = nrec();
	is_int(enrp_eir_suspend(st, "archive", "C1 \xc2\x9b control", &actor), -EINVAL,
	       "a reason with a C1 control: -EINVAL");
	is_int(enrp_eir_suspend(st, "archive", "bad \xff UTF-8", &actor), -EINVAL,
	       "a reason that is not UTF-8: -EINVAL");
	is_int(enrp_eir_suspend(st, "archive", "two\nlines", &actor), -EINVAL,
	       "a reason with a newline: -EINVAL");
	is_int(enrp_eir_resume(st, "archive", &actor), 0, "resume");
	journalled(before, "archive", "resume", "suspended_for=\"disk swap\"");
	enrp_eir_get(st, "archive", &g);
	ok(g.state == ENRP_STATE_NORMAL && g.state_reason[0] == '\0', "normal again");

	enrp_eir_suspend(st, "archive", "pause", &actor);
	before = nrec();
	is_int(enrp_eir_retire(st, "archive", "removed from the critical list", &actor), 0,
	       "retire a suspended EIR");
	journalled(before, "archive", "retire", "from=suspended reason=\"removed from the critical list\"");
	enrp_eir_get(st, "archive", &g);
	ok(g.state == ENRP_STATE_RETIRED, "retired");
	before = nrec();
	is_int(enrp_eir_retire(st, "archive", "x", &actor), -EALREADY, "retire twice: -EALREADY");
	is_int(enrp_eir_resume(st, "archive", &actor), -EROFS, "resume a retired EIR: -EROFS");
	is_int(enrp_eir_suspend(st, "archive", "x", &actor), -EROFS, "suspend a retired EIR: -EROFS");
	is_int(enrp_eir_deescalate(st, "archive", &actor), -EROFS, "deescalate a retired EIR: -EROFS");
	/* Retirement is final: no setting changes either, not even to the
	 * values it has. */
	struct enrp_eir nv = g;
	nv.mode = ENRP_MODE_RO;
	nv.quota = 1 << 20;
	nv.owner_uid = 4242;
	nv.owner_gid = 4242;
	nv.eir_class = 1;
	nv.dir_mode = 0700;
	nv.rpo_minutes = 5;
	static const unsigned each[] = { ENRP_EIR_SET_MODE, ENRP_EIR_SET_OWNER, ENRP_EIR_SET_CLASS,
	                                 ENRP_EIR_SET_QUOTA, ENRP_EIR_SET_AGENT, ENRP_EIR_SET_RPO,
	                                 ENRP_EIR_SET_DIR_MODE };
	for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++)
		is_int(enrp_eir_set(st, "archive", &nv, each[i], &actor), -EROFS,
		       "set field 0x%x of a retired EIR: -EROFS", each[i]);
	is_int(enrp_eir_set(st, "archive", &g, ENRP_EIR_SET_MODE, &actor), -EROFS,
	       "set a retired EIR to the values it has: -EROFS");
	struct enrp_eir after;
	enrp_eir_get(st, "archive", &after);
	ok(after.mode == g.mode && after.quota == g.quota && after.owner_uid == g.owner_uid &&
	   after.dir_mode == g.dir_mode && after.eir_class == g.eir_class &&
	   after.state == ENRP_STATE_RETIRED, "the retired EIR's record is unchanged");
	is_int(nrec(), before, "refused changes of a retired EIR journal nothing");

	/* Retiring an active, escalated EIR ends the escalation. */
	enrp_eir_escalate(st, "crm", enrp_now_ns() + 3600 * S, "x", 0, &actor);
	is_int(enrp_eir_retire(st, "crm", NULL, &actor), 0, "retire without a reason is allowed");
	enrp_eir_get(st, "crm", &g);
	ok(g.state == ENRP_STATE_RETIRED && g.escalated_until == 0, "retire ended the escalation");
	is_int(enrp_eir_escalate(st, "crm", enrp_now_ns() + 3600 * S, "x", 0, &actor), -EROFS,
	       "escalate a retired EIR: -EROFS");
}

struct usage_args {
	uint32_t id;
	int64_t db, df;
};

static int usage_fn(enrp_txn *t, void *arg)
{
	struct usage_args *a = arg;
	return eir_usage_add(t, a->id, a->db, a->df);
}

static void usage(void)
{
	struct enrp_eir g;
	struct enrp_eir_usage u;

	enrp_eir_get(st, "billing", &g);
	struct usage_args a = { g.id, 5000, 3 };
	is_int(enrp_store_write(st, usage_fn, &a), 0, "usage add");
	enrp_eir_usage(st, g.id, &u);
	ok(u.bytes == 5000 && u.inodes == 3, "usage added");
	a = (struct usage_args){ g.id, -2000, -1 };
	enrp_store_write(st, usage_fn, &a);
	enrp_eir_usage(st, g.id, &u);
	ok(u.bytes == 3000 && u.inodes == 2, "usage subtracted");
	a = (struct usage_args){ g.id, INT64_MIN, -100 };
	enrp_store_write(st, usage_fn, &a);
	enrp_eir_usage(st, g.id, &u);
	ok(u.bytes == 0 && u.inodes == 0, "usage clamps at zero");
	a = (struct usage_args){ 999, 1, 1 };
	is_int(enrp_store_write(st, usage_fn, &a), -ENOENT, "usage of an unknown EIR: -ENOENT");
}

/* A limit below what an EIR holds is refused unless asked for. */
static void below_usage(void)
{
	struct enrp_eir spec, g, nv;
	enrp_eir_defaults(&spec, "limits");
	spec.owner_uid = spec.owner_gid = 1000;
	spec.quota = 10000;
	is_int(enrp_eir_create(st, &spec, &actor, &g), 0, "create limits");
	struct usage_args a = { g.id, 5000, 3 };
	enrp_store_write(st, usage_fn, &a);
	struct enrp_eir_usage u;
	enrp_eir_usage(st, g.id, &u);

	uint64_t before = nrec();
	enrp_eir_defaults(&nv, "");
	nv.quota = u.bytes - 1;
	is_int(enrp_eir_set(st, "limits", &nv, ENRP_EIR_SET_QUOTA, &actor), -EDQUOT,
	       "quota 1 byte below usage: -EDQUOT");
	nv.max_files = u.inodes - 1;
	is_int(enrp_eir_set(st, "limits", &nv, ENRP_EIR_SET_MAX_FILES, &actor), -EDQUOT,
	       "max_files 1 below the files: -EDQUOT");
	nv.quota = 20000;
	is_int(enrp_eir_set(st, "limits", &nv, ENRP_EIR_SET_QUOTA | ENRP_EIR_SET_MAX_FILES, &actor),
	       -EDQUOT, "a raised quota does not carry a low max_files: -EDQUOT");
	is_int(nrec(), before, "refused limits journal nothing");
	enrp_eir_get(st, "limits", &g);
	ok(g.quota == 10000 && g.max_files == 0, "refused limits change nothing");

	nv.quota = u.bytes;
	nv.max_files = u.inodes;
	is_int(enrp_eir_set(st, "limits", &nv, ENRP_EIR_SET_QUOTA | ENRP_EIR_SET_MAX_FILES, &actor),
	       0, "limits equal to the usage are accepted");
	nv.quota = 0;
	nv.max_files = 0;
	is_int(enrp_eir_set(st, "limits", &nv, ENRP_EIR_SET_QUOTA | ENRP_EIR_SET_MAX_FILES, &actor),
	       0, "no limit is never below");
	nv.quota = 1;
	nv.max_files = 1;
	is_int(enrp_eir_set(st, "limits", &nv, ENRP_EIR_SET_QUOTA | ENRP_EIR_SET_MAX_FILES |
	                    ENRP_EIR_SET_BELOW_USAGE, &actor), 0, "below the usage on purpose");
	enrp_eir_get(st, "limits", &g);
	ok(g.quota == 1 && g.max_files == 1, "the forced limits are in force");
	nv.quota = 2;
	is_int(enrp_eir_set(st, "limits", &nv, ENRP_EIR_SET_QUOTA, &actor), -EDQUOT,
	       "another limit still below needs it again");
	nv.quota = 1;
	is_int(enrp_eir_set(st, "limits", &nv, ENRP_EIR_SET_QUOTA, &actor), 0,
	       "the limit in force, unchanged, is no change");
}

static void verified(void)
{
	struct enrp_journal_verdict v;
	is_int(enrp_journal_verify(st, &v), 0, "journal verify");
	ok(v.intact && v.records > 10, "the journal of all these changes is intact");
}

/* enrp_eir_statfs as a table: limits, usage and disk in, what df shows out
 * (bytes: f_frsize is 1, so blocks are bytes). */
static void statfs_table(void)
{
	static const uint64_t G = 1ull << 30, M = 1ull << 20;
	static const struct {
		const char *what;
		uint64_t quota, max_files, bytes, files;
		uint64_t disk_avail_blocks, disk_frsize, disk_favail;
		uint64_t size, used, avail, inodes, iused, ifree;
	} rows[] = {
		{ "100G quota on a disk with 24G free: empty EIR uses 0, may write 24G",
		  100 * G, 0, 0, 0, 24 * G / 4096, 4096, 1000, 24 * G, 0, 24 * G, 1000, 0, 1000 },
		{ "1M quota, 12345 bytes used: used exactly, size the quota",
		  M, 0, 12345, 2, 1000000, 4096, 500, M, 12345, M - 12345, 502, 2, 500 },
		{ "no quota: size is usage + what the disk has",
		  0, 0, 5, 1, 1000, 4096, 9, 5 + 4096000, 5, 4096000, 10, 1, 9 },
		{ "quota lowered below usage: size = usage, nothing free",
		  1000, 0, 5000, 3, 1000, 4096, 9, 5000, 5000, 0, 12, 3, 9 },
		{ "disk full: nothing free whatever the quota",
		  G, 0, 7, 1, 0, 4096, 0, 7, 7, 0, 1, 1, 0 },
		{ "an inode limit: free inodes are what it leaves",
		  0, 10, 0, 7, 1000, 4096, 100, 4096000, 0, 4096000, 10, 7, 3 },
		{ "an inode limit already passed: none free",
		  0, 10, 0, 12, 1000, 4096, 100, 4096000, 0, 4096000, 12, 12, 0 },
		{ "an inode limit beyond the disk's inodes: the disk's",
		  0, 1000, 0, 7, 1000, 4096, 5, 4096000, 0, 4096000, 12, 7, 5 },
		{ "f_frsize 0: f_bsize counts",
		  0, 0, 0, 0, 10, 0, 1, 40960, 0, 40960, 1, 0, 1 },
		{ "a disk too big to count in bytes: clamped, no wrap",
		  0, 0, 10, 0, UINT64_MAX / 2, 4096, 1, UINT64_MAX, 10, UINT64_MAX - 10, 1, 0, 1 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct statvfs disk = { .f_bsize = 4096, .f_frsize = rows[i].disk_frsize,
		                        .f_blocks = 1ull << 40, .f_bfree = rows[i].disk_avail_blocks,
		                        .f_bavail = rows[i].disk_avail_blocks, .f_files = 1ull << 30,
		                        .f_ffree = rows[i].disk_favail, .f_favail = rows[i].disk_favail,
		                        .f_fsid = 42, .f_namemax = 255 };
		struct enrp_eir_usage u = { .bytes = rows[i].bytes, .inodes = rows[i].files };
		struct statvfs out;
		enrp_eir_statfs(rows[i].quota, rows[i].max_files, &u, &disk, &out);
		const char *w = rows[i].what;
		ok(out.f_frsize == 1 && out.f_bsize == 1, "%s: counted in bytes", w);
		is_int(out.f_blocks, rows[i].size, "%s: size", w);
		is_int(out.f_blocks - out.f_bfree, rows[i].used, "%s: used (size - free)", w);
		is_int(out.f_bavail, rows[i].avail, "%s: available", w);
		ok(out.f_bfree == out.f_bavail, "%s: free = available", w);
		ok(!rows[i].quota || out.f_bavail <= rows[i].quota, "%s: never more than the quota", w);
		is_int(out.f_files, rows[i].inodes, "%s: inodes", w);
		is_int(out.f_files - out.f_ffree, rows[i].iused, "%s: inodes used", w);
		is_int(out.f_favail, rows[i].ifree, "%s: inodes free", w);
		ok(out.f_fsid == 42 && out.f_namemax == 255, "%s: the rest is the disk's", w);
	}
}

struct setting_args {
	uint32_t id;
	const char *name, *value;
	char got[64];
	int rc;
};

static int setting_put_fn(enrp_txn *t, void *arg)
{
	struct setting_args *a = arg;
	return a->value ? eir_setting_put(t, a->id, a->name, a->value, strlen(a->value))
	                : eir_setting_del(t, a->id, a->name);
}

static int setting_get_fn(enrp_txn *t, void *arg)
{
	struct setting_args *a = arg;
	const void *v;
	size_t n;
	a->got[0] = '\0';
	a->rc = eir_setting_get(t, a->id, a->name, &v, &n);
	if (a->rc == 0)
		snprintf(a->got, sizeof(a->got), "%.*s", (int)n, (const char *)v);
	return 0;
}

static void settings(void)
{
	struct setting_args a = { .id = 7, .name = "retention", .value = "files=90" };
	struct setting_args b = { .id = 8, .name = "retention" };
	is_int(enrp_store_write(st, setting_put_fn, &a), 0, "set a setting of EIR 7");
	enrp_store_read(st, setting_get_fn, &a);
	ok(a.rc == 0 && strcmp(a.got, "files=90") == 0, "read back: '%s'", a.got);
	enrp_store_read(st, setting_get_fn, &b);
	is_int(b.rc, -ENOENT, "another EIR's is unset");
	a.name = "retentio";
	enrp_store_read(st, setting_get_fn, &a);
	is_int(a.rc, -ENOENT, "a prefix of the name is another setting");
	a.name = "retention";
	a.value = NULL;
	is_int(enrp_store_write(st, setting_put_fn, &a), 0, "unset");
	enrp_store_read(st, setting_get_fn, &a);
	is_int(a.rc, -ENOENT, "gone");
	is_int(enrp_store_write(st, setting_put_fn, &a), 0, "unset again: 0");
	a.name = "";
	a.value = "x";
	is_int(enrp_store_write(st, setting_put_fn, &a), -EINVAL, "an empty name: -EINVAL");
	a.name = "a-name-longer-than-thirty-two-bytes-x";
	is_int(enrp_store_write(st, setting_put_fn, &a), -EINVAL, "a name over 32 bytes: -EINVAL");
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];

	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_eir");

	names();
	create_get_list();
	list();
	set();
	escalation();
	states();
	usage();
	below_usage();
	verified();
	statfs_table();
	settings();

	enrp_store_close(st);
	tap_rmrf(tmp);
	return done_testing();
}
