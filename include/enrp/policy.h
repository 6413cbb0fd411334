/*
 * policy.h — the access decision of DESIGN.md §4, as one pure function.
 *
 * enrpfs, enrpctl and the tests share this single truth: given an EIR's mode
 * and state, the operation, the caller and the clock, it says allow (0) or
 * which errno.  It reads nothing and changes nothing.
 */
#ifndef ENRP_POLICY_H
#define ENRP_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>

/* The operation classes of the mode table. */
enum enrp_op {
	ENRP_OP_INSPECT, /* lookup, getattr, readdir, readlink, statfs, xattr reads, .enrp files */
	ENRP_OP_READ,    /* open for read (O_RDONLY, O_RDWR), read, .snapshots/ content */
	ENRP_OP_WRITE,   /* create, write, truncate, mkdir, mknod, symlink, link, rename,
	                    setattr, setxattr, removexattr, fallocate */
	ENRP_OP_REMOVE,  /* unlink, rmdir */
};

#define ENRP_OP_COUNT 4

/* "inspect", "read", "write", "remove". */
const char *enrp_op_name(enum enrp_op op);

/* The caller of a filesystem operation (from the FUSE request context). */
struct enrp_caller {
	uint32_t uid;
	uint32_t gid;
	uint32_t pid;
};

/* The decision.  NOW is ns since the epoch (for escalation expiry); HELD says
 * the target is under an unexpired hold.  Returns:
 *   0           allowed
 *   -EACCES     reading a write-only EIR
 *   -EROFS      changing a ro, suspended or retired EIR, or an active one
 *               when the caller is not its agent and no escalation is in force
 *   -EPERM      removing, truncating or overwriting a held file (any mode)
 *   -ENOENT     the EIR is destroyed
 * Root (uid 0) is treated like any other caller. */
int enrp_policy_check(const struct enrp_eir *eir, enum enrp_op op,
                      const struct enrp_caller *caller, int64_t now, bool held);

#endif
