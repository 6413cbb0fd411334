/*
 * role.h — separation of duties (issue 11 item 7): administrators (EIRs,
 * modes, retention, holds, keys), operators (snapshots, snapshot mounts,
 * test-restore records) and auditors (the journal and reports, read-only),
 * each a Unix group whose name the administrator sets.
 *
 * Root, which owns the store, holds every role.  Other accounts reach the
 * store only through the daemon (enrpfs relays their enrpctl to a root
 * enrpctl run on their behalf, naming them by the kernel's peer
 * credentials), and that enrpctl lets each command run only for the roles
 * enrp_role_required() names.  A command not in the table needs an
 * administrator: what is forgotten fails closed.
 *
 * The group names are kept in DBI_META "roles" (key=value text), changed
 * with "roles-set" journalled in the same transaction.
 */
#ifndef ENRP_ROLE_H
#define ENRP_ROLE_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>

enum enrp_role {
	ENRP_ROLE_ADMIN = 1u << 0,
	ENRP_ROLE_OPERATOR = 1u << 1,
	ENRP_ROLE_AUDITOR = 1u << 2,
};
#define ENRP_ROLES_ALL (ENRP_ROLE_ADMIN | ENRP_ROLE_OPERATOR | ENRP_ROLE_AUDITOR)
#define ENRP_ROLE_GROUP_MAX 32

/* The default group names. */
#define ENRP_ROLE_ADMIN_GROUP "enrp-admin"
#define ENRP_ROLE_OPERATOR_GROUP "enrp-operator"
#define ENRP_ROLE_AUDITOR_GROUP "enrp-auditor"

struct enrp_role_groups {
	char admin[ENRP_ROLE_GROUP_MAX + 1];
	char operator_[ENRP_ROLE_GROUP_MAX + 1];
	char auditor[ENRP_ROLE_GROUP_MAX + 1];
};

/* "admin", "operator", "auditor" for one role. */
const char *enrp_role_name(enum enrp_role role);

/* The store's group names (the defaults when none were set).  -EIO. */
int enrp_roles_get(enrp_store *st, struct enrp_role_groups *out);

/* Sets them, journalled "roles-set" (each as old->new).  -EINVAL a name
 * that is not a valid group name (1-32 of [a-z0-9_.-], not starting with
 * '-'), -EALREADY nothing changes, -ENOSPC, -EIO. */
int enrp_roles_set(enrp_store *st, const struct enrp_role_groups *g,
                   const struct enrp_actor *actor);

/* The roles of account UID (primary group GID): every role for root, else
 * the roles whose group the account belongs to (primary or supplementary,
 * as the group database says). */
unsigned enrp_roles_of(const struct enrp_role_groups *g, uint32_t uid, uint32_t gid);

/* The roles that may run COMMAND ("eir set", "audit show", "status"): a
 * mask of enum enrp_role.  Unknown commands: ENRP_ROLE_ADMIN. */
unsigned enrp_role_required(const char *command);

#endif
