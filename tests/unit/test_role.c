/*
 * test_role.c — the roles: the command table fails closed (anything not
 * named needs an administrator), root holds every role, an account holds
 * the roles of its groups and no others, group names are checked and
 * their change journalled once; the relay's socket path is one per store
 * and the same from any spelling of its path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/eir.h>
#include <enrp/relay.h>
#include <enrp/role.h>

#include "../tap.h"
#include "journal_last.h"

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256], p1[512], p2[512], p3[512];
	enrp_store *st;
	struct enrp_actor actor;
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	is_int((int)enrp_role_required("status"), ENRP_ROLES_ALL, "status: every role");
	is_int((int)enrp_role_required("snapshot create"), ENRP_ROLE_OPERATOR | ENRP_ROLE_ADMIN,
	       "snapshot create: operators and administrators");
	is_int((int)enrp_role_required("audit show"), ENRP_ROLE_AUDITOR | ENRP_ROLE_ADMIN,
	       "audit show: auditors and administrators");
	is_int((int)enrp_role_required("eir set"), ENRP_ROLE_ADMIN, "eir set: administrators");
	is_int((int)enrp_role_required("something new"), ENRP_ROLE_ADMIN,
	       "a command not in the table: administrators only (fails closed)");
	is_int((int)enrp_role_required("audit"), ENRP_ROLE_ADMIN, "a group without its verb too");
	is_str(enrp_role_name(ENRP_ROLE_OPERATOR), "operator", "role names");

	struct enrp_role_groups g = { "nosuch-grp-a", "nosuch-grp-o", "nosuch-grp-u" };
	is_int((int)enrp_roles_of(&g, 0, 0), ENRP_ROLES_ALL, "root holds every role");
	is_int((int)enrp_roles_of(&g, 65534, 65534), 0, "an account in none of the groups: none");
	snprintf(g.operator_, sizeof(g.operator_), "root");
	is_int((int)enrp_roles_of(&g, 65534, 0), ENRP_ROLE_OPERATOR,
	       "the primary group counts (gid 0 is group root)");
	is_int((int)enrp_roles_of(&g, 4000000, 0), 0, "an account the system does not know: none");

	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_role");
	struct enrp_role_groups cur;
	is_int(enrp_roles_get(st, &cur), 0, "roles of a new store");
	is_str(cur.admin, ENRP_ROLE_ADMIN_GROUP, "the default administrators' group");
	struct enrp_role_groups bad = cur;
	snprintf(bad.auditor, sizeof(bad.auditor), "-x");
	is_int(enrp_roles_set(st, &bad, &actor), -EINVAL, "a name starting with '-': -EINVAL");
	snprintf(bad.auditor, sizeof(bad.auditor), "Audit");
	is_int(enrp_roles_set(st, &bad, &actor), -EINVAL, "upper case: -EINVAL");
	is_int(enrp_roles_set(st, &cur, &actor), -EALREADY, "no change: -EALREADY");
	uint64_t n0 = journal_last_of(st).n;
	snprintf(cur.auditor, sizeof(cur.auditor), "audit.team");
	is_int(enrp_roles_set(st, &cur, &actor), 0, "set the auditors' group");
	struct last l = journal_last_of(st);
	ok(l.n == n0 + 1 && !strcmp(l.rec.event, "roles-set") &&
	   strstr(l.rec.details, "enrp-auditor->audit.team"),
	   "journalled once, old->new (%s)", l.rec.details);
	struct enrp_role_groups again;
	is_int(enrp_roles_get(st, &again), 0, "read back");
	is_str(again.auditor, "audit.team", "kept");
	enrp_store_close(st);

	is_int(enrp_relay_path(path, p1, sizeof(p1)), 0, "the relay socket of the store");
	snprintf(p3, sizeof(p3), "%s/./store/", tmp);
	is_int(enrp_relay_path(p3, p2, sizeof(p2)), 0, "the same store spelt otherwise");
	is_str(p2, p1, "one socket per store, whatever the spelling");
	ok(!strncmp(p1, ENRP_RELAY_DIR "/ctl-", strlen(ENRP_RELAY_DIR "/ctl-")),
	   "under " ENRP_RELAY_DIR " (%s)", p1);
	is_int(enrp_relay_path(tmp, p2, sizeof(p2)), 0, "another directory");
	ok(strcmp(p1, p2) != 0, "another socket");
	is_int(enrp_relay_path("/nonexistent/store", p2, sizeof(p2)), -ENOENT,
	       "a store that does not exist: -ENOENT");
	tap_rmrf(tmp);
	return done_testing();
}
