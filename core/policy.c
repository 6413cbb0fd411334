/*
 * policy.c — the access decision of DESIGN.md §4.
 *
 * Pure: it reads only its arguments, so enrpfs, enrpctl and the tests get the
 * same answer for the same inputs, and the unit test can enumerate every
 * combination.  The order of the checks is the contract:
 *
 *   1. destroyed           -> -ENOENT for everything
 *   2. inspect             -> always allowed (also suspended, retired, wo)
 *   3. read                -> -EACCES in wo, else allowed: reads follow the
 *                             mode even while suspended or retired
 *   4. write, remove       -> -EROFS when suspended or retired, in ro, and in
 *                             active unless the caller is the agent or an
 *                             escalation is in force;
 *   5.                        in wo, -EACCES through a page-cached handle or
 *                             for a rewrite of bytes the caller did not write;
 *   6.                        then -EPERM when held
 *
 * So a held file in a ro EIR answers EROFS (the mode speaks first), and
 * EPERM is reserved for "this EIR accepts changes, but not to this file".
 * Root gets no exception: the mode binds every caller of the mount.
 *
 * enrp_policy_eir_dir is the other decision: who may enter an EIR directory,
 * expressed as owner, group, mode bits and named ACL entries for the kernel
 * to enforce (fs/ serves them as system.posix_acl_access).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <enrp/policy.h>

static const char *const op_names[ENRP_OP_COUNT] = {
	[ENRP_OP_INSPECT] = "inspect",
	[ENRP_OP_READ] = "read",
	[ENRP_OP_WRITE] = "write",
	[ENRP_OP_REMOVE] = "remove",
};

const char *enrp_op_name(enum enrp_op op)
{
	if ((unsigned)op >= ENRP_OP_COUNT)
		return "?";
	return op_names[op];
}

/* Active mode: the agent always writes; others only during an escalation.
 * An active EIR without an agent (ENRP_NO_UID) is writable only while
 * escalated; a caller whose uid happens to be ENRP_NO_UID is nobody's agent. */
static bool may_change_active(const struct enrp_eir *eir, const struct enrp_caller *caller,
                              int64_t now)
{
	if (eir->agent_uid != ENRP_NO_UID && caller->uid == eir->agent_uid)
		return true;
	return eir->escalated_until != 0 && now < eir->escalated_until;
}

int enrp_policy_check(const struct enrp_eir *eir, enum enrp_op op,
                      const struct enrp_caller *caller, int64_t now, unsigned flags)
{
	if (eir->state == ENRP_STATE_DESTROYED)
		return -ENOENT;

	switch (op) {
	case ENRP_OP_INSPECT:
		return 0;
	case ENRP_OP_READ:
		return eir->mode == ENRP_MODE_WO ? -EACCES : 0;
	case ENRP_OP_WRITE:
	case ENRP_OP_REMOVE:
		break;
	default:
		return -EINVAL;
	}

	if (eir->state != ENRP_STATE_NORMAL)
		return -EROFS;
	switch (eir->mode) {
	case ENRP_MODE_RW:
	case ENRP_MODE_WO:
		break;
	case ENRP_MODE_ACTIVE:
		if (!may_change_active(eir, caller, now))
			return -EROFS;
		break;
	case ENRP_MODE_RO:
	default:
		/* An unknown mode (a newer binary's record) must fail closed. */
		return -EROFS;
	}
	if (eir->mode == ENRP_MODE_WO && (flags & (ENRP_POLICY_CACHED | ENRP_POLICY_REWRITE)))
		return -EACCES;
	return (flags & ENRP_POLICY_HELD) ? -EPERM : 0;
}

bool enrp_policy_uncached(const struct enrp_eir *eir)
{
	return eir->mode == ENRP_MODE_WO;
}

static void add_entrant(struct enrp_dir_access *a, bool group, uint32_t id, unsigned perm)
{
	if (id == ENRP_NO_UID || a->nentrants == ENRP_DIR_ENTRANTS_MAX)
		return;
	if (!group && id == a->uid)
		return; /* the presented owner is user::, not a named entry */
	for (unsigned i = 0; i < a->nentrants; i++)
		if (a->entrants[i].group == group && a->entrants[i].id == id)
			return;
	/* Users before groups, each by id: the order posix_acl_valid wants. */
	unsigned at = a->nentrants;
	while (at > 0) {
		const struct enrp_dir_entrant *p = &a->entrants[at - 1];
		if (p->group < group || (p->group == group && p->id < id))
			break;
		a->entrants[at] = *p;
		at--;
	}
	a->entrants[at] = (struct enrp_dir_entrant){ group, id, perm };
	a->nentrants++;
}

void enrp_policy_eir_dir(const struct enrp_eir *eir, struct enrp_dir_access *out)
{
	uint32_t bits = eir->dir_mode & ENRP_DIR_MODE_ALLOWED;
	bool agent_writes = eir->mode == ENRP_MODE_ACTIVE && eir->agent_uid != ENRP_NO_UID;

	memset(out, 0, sizeof(*out));
	out->uid = agent_writes ? eir->agent_uid : eir->owner_uid;
	out->gid = eir->owner_gid;
	out->user_perm = (bits >> 6) & 7;
	out->group_perm = (bits >> 3) & 7;
	out->other_perm = bits & 7;
	/* The owner always enters its EIR, the agent only while it is the
	 * agent of an active EIR; both with the owner's bits. */
	add_entrant(out, false, eir->owner_uid, out->user_perm);
	if (agent_writes)
		add_entrant(out, false, eir->agent_uid, out->user_perm);
	out->mask = out->group_perm;
	for (unsigned i = 0; i < out->nentrants; i++)
		out->mask |= out->entrants[i].perm;
	out->mode = (out->user_perm << 6) |
	            ((out->nentrants ? out->mask : out->group_perm) << 3) | out->other_perm;
}
