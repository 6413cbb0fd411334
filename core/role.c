/*
 * role.c — who may run which enrpctl command (see include/enrp/role.h).
 *
 * Reading is open to every role: an operator planning a drill needs `eir
 * list`, an auditor needs `status`.  The journal and the reports are for
 * auditors (and administrators, who answer for the platform); changes are
 * split as issue 11 item 7 lists them.  Four eyes (approval.h) works within
 * the administrators: `approve` is theirs.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/role.h>

#include "journal_int.h"
#include "store_int.h"

#define ROLES_KEY "roles"
#define ANY ENRP_ROLES_ALL
#define ADM ENRP_ROLE_ADMIN
#define OPS (ENRP_ROLE_OPERATOR | ENRP_ROLE_ADMIN)
#define AUD (ENRP_ROLE_AUDITOR | ENRP_ROLE_ADMIN)

static const struct {
	const char *command;
	unsigned roles;
} table[] = {
	{ "status", ANY },
	{ "eir list", ANY },
	{ "eir show", ANY },
	{ "eir schedule", ANY },
	{ "eir export", ANY },
	{ "snapshot list", ANY },
	{ "snapshot show", ANY },
	{ "hold list", ANY },
	{ "trash list", ANY },
	{ "restore-test list", ANY },
	{ "requests", ANY },
	{ "wait", ANY },
	{ "snapshot create", OPS },
	{ "snapshot mount", OPS },
	{ "snapshot umount", OPS },
	{ "restore-test plan", OPS },
	{ "restore-test record", OPS },
	{ "trash restore", OPS },
	{ "audit show", AUD },
	{ "audit verify", AUD },
	{ "audit head", AUD },
	{ "audit events", AUD },
	{ "audit export", AUD },
	{ "report", AUD },
	{ "notify", ADM },
};

unsigned enrp_role_required(const char *command)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].command, command))
			return table[i].roles;
	return ADM;
}

const char *enrp_role_name(enum enrp_role role)
{
	switch (role) {
	case ENRP_ROLE_ADMIN:    return "admin";
	case ENRP_ROLE_OPERATOR: return "operator";
	case ENRP_ROLE_AUDITOR:  return "auditor";
	}
	return "?";
}

static void defaults(struct enrp_role_groups *g)
{
	snprintf(g->admin, sizeof(g->admin), "%s", ENRP_ROLE_ADMIN_GROUP);
	snprintf(g->operator_, sizeof(g->operator_), "%s", ENRP_ROLE_OPERATOR_GROUP);
	snprintf(g->auditor, sizeof(g->auditor), "%s", ENRP_ROLE_AUDITOR_GROUP);
}

static bool group_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ENRP_ROLE_GROUP_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static int get_txn(enrp_txn *t, struct enrp_role_groups *g)
{
	MDB_val v;
	char text[256], key[ENRP_DETAILS_KEY_MAX + 1], value[ENRP_ROLE_GROUP_MAX + 1];
	defaults(g);
	int rc = txn_get(t, DBI_META, ROLES_KEY, strlen(ROLES_KEY), &v);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size >= sizeof(text))
		return -EIO;
	memcpy(text, v.mv_data, v.mv_size);
	text[v.mv_size] = '\0';
	const char *cur = text;
	while (enrp_details_next(&cur, key, sizeof(key), value, sizeof(value), NULL)) {
		if (!group_name_valid(value))
			return -EIO;
		if (!strcmp(key, "admin"))
			memcpy(g->admin, value, sizeof(g->admin));
		else if (!strcmp(key, "operator"))
			memcpy(g->operator_, value, sizeof(g->operator_));
		else if (!strcmp(key, "auditor"))
			memcpy(g->auditor, value, sizeof(g->auditor));
	}
	return 0;
}

static int get_fn(enrp_txn *t, void *arg)
{
	return get_txn(t, arg);
}

int enrp_roles_get(enrp_store *st, struct enrp_role_groups *out)
{
	return enrp_store_read(st, get_fn, out);
}

struct set_ctx {
	const struct enrp_role_groups *g;
	const struct enrp_actor *actor;
};

static int set_fn(enrp_txn *t, void *arg)
{
	struct set_ctx *c = arg;
	struct enrp_role_groups cur;
	char text[256] = "", d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	int rc = get_txn(t, &cur);
	if (rc)
		return rc;
	const char *names[] = { "admin", "operator", "auditor" };
	const char *was[] = { cur.admin, cur.operator_, cur.auditor };
	const char *now[] = { c->g->admin, c->g->operator_, c->g->auditor };
	for (int i = 0; i < 3; i++) {
		enrp_details_add(text, sizeof(text), names[i], "%s", now[i]);
		if (strcmp(was[i], now[i]))
			enrp_details_add(d, sizeof(d), names[i], "%s->%s", was[i], now[i]);
	}
	if (!d[0])
		return -EALREADY;
	if ((rc = txn_put(t, DBI_META, ROLES_KEY, strlen(ROLES_KEY), text, strlen(text), 0)))
		return rc;
	return journal_append_txn(t, c->actor, "", "roles-set", d);
}

int enrp_roles_set(enrp_store *st, const struct enrp_role_groups *g,
                   const struct enrp_actor *actor)
{
	if (!group_name_valid(g->admin) || !group_name_valid(g->operator_) ||
	    !group_name_valid(g->auditor))
		return -EINVAL;
	struct set_ctx c = { g, actor };
	return enrp_store_write(st, set_fn, &c);
}

/* Whether account NAME (primary group GID) is in group GROUP. */
static bool member(const char *name, uint32_t gid, const char *group)
{
	struct group gr, *res = NULL;
	char buf[16384];
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	if (res->gr_gid == gid)
		return true;
	for (char **m = res->gr_mem; m && *m; m++)
		if (!strcmp(*m, name))
			return true;
	return false;
}

unsigned enrp_roles_of(const struct enrp_role_groups *g, uint32_t uid, uint32_t gid)
{
	if (uid == 0)
		return ENRP_ROLES_ALL;
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return 0; /* an account the system does not know holds no role */
	unsigned roles = 0;
	if (member(res->pw_name, gid, g->admin) || member(res->pw_name, res->pw_gid, g->admin))
		roles |= ENRP_ROLE_ADMIN;
	if (member(res->pw_name, gid, g->operator_) || member(res->pw_name, res->pw_gid, g->operator_))
		roles |= ENRP_ROLE_OPERATOR;
	if (member(res->pw_name, gid, g->auditor) || member(res->pw_name, res->pw_gid, g->auditor))
		roles |= ENRP_ROLE_AUDITOR;
	return roles;
}
