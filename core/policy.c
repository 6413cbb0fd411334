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
 *                             escalation is in force; then -EPERM when held
 *
 * So a held file in a ro EIR answers EROFS (the mode speaks first), and
 * EPERM is reserved for "this EIR accepts changes, but not to this file".
 * Root gets no exception: the mode binds every caller of the mount.
 */
#include <errno.h>
#include <stddef.h>

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
                      const struct enrp_caller *caller, int64_t now, bool held)
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
	return held ? -EPERM : 0;
}
