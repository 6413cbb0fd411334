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

/* What the caller of enrp_policy_check knows of the operation beyond its class. */
enum enrp_policy_flags {
	/* The target is under an unexpired hold. */
	ENRP_POLICY_HELD = 1 << 0,
	/* The operation goes through a handle whose pages the kernel caches
	 * (one opened before the EIR became write-only): in wo its writes would
	 * put bytes into a cache that readers of that handle are served from
	 * without asking us, so they are refused; handles opened in wo bypass
	 * the cache (enrp_policy_uncached). */
	ENRP_POLICY_CACHED = 1 << 1,
	/* The operation changes or cuts bytes that the caller did not write in
	 * its own current writing session: an in-place overwrite below the end
	 * of the file, a shortening truncate, a punched hole.  In wo that would
	 * let the caller learn the platform's checksum of a mix of its own and
	 * unknown bytes (overwrite byte k with a guess, compare the checksum), so
	 * it is refused there; new files, whole replacement (O_TRUNC, rename
	 * over, truncate to 0) and appends stay allowed. */
	ENRP_POLICY_REWRITE = 1 << 2,
};

/* The decision.  NOW is ns since the epoch (for escalation expiry); FLAGS
 * are enum enrp_policy_flags.  Returns:
 *   0           allowed
 *   -EACCES     reading a write-only EIR; in a write-only EIR, writing
 *               through a page-cached handle (ENRP_POLICY_CACHED) or
 *               rewriting bytes the caller did not write (ENRP_POLICY_REWRITE)
 *   -EROFS      changing a ro, suspended or retired EIR, or an active one
 *               when the caller is not its agent and no escalation is in force
 *   -EPERM      removing, truncating or overwriting a held file (any mode)
 *   -ENOENT     the EIR is destroyed
 * Root (uid 0) is treated like any other caller. */
int enrp_policy_check(const struct enrp_eir *eir, enum enrp_op op,
                      const struct enrp_caller *caller, int64_t now, unsigned flags);

/* True when handles opened in EIR must bypass the kernel's page cache
 * (direct I/O): in a write-only EIR no byte may come back, and cached pages
 * would be served to read(2), mmap and sendfile of a handle created O_RDWR
 * without the daemon being asked. */
bool enrp_policy_uncached(const struct enrp_eir *eir);

/* Who may enter an EIR directory (DESIGN §3: the registry decides, never
 * mode bits a client set).  The directory is presented as belonging to the
 * account the EIR expects writes from — the agent of an active EIR that has
 * one, else the owner — so that account's chmod/utimes of it (what
 * `rsync -a src/ EIR/` sends) pass the kernel's ownership checks; every other
 * account the registry admits is a named POSIX ACL entry, which the kernel
 * enforces.  Group and other bits come from the EIR's dir_mode, never with
 * write, setuid, setgid or sticky bits. */
#define ENRP_DIR_ENTRANTS_MAX 4

struct enrp_dir_entrant {
	bool group;        /* a group (else a user) */
	uint32_t id;       /* uid or gid */
	unsigned perm;     /* 0..7: r=4 w=2 x=1 */
};

struct enrp_dir_access {
	uint32_t uid, gid;         /* presented owner and group */
	uint32_t mode;             /* permission bits as stat shows them: with
	                              entrants, the group bits are the ACL mask */
	unsigned user_perm;        /* ACL user:: (the presented owner) */
	unsigned group_perm;       /* ACL group:: (the presented group) */
	unsigned other_perm;       /* ACL other:: */
	unsigned mask;             /* ACL mask:: (only with entrants) */
	unsigned nentrants;        /* 0: no ACL, the mode bits say it all */
	struct enrp_dir_entrant entrants[ENRP_DIR_ENTRANTS_MAX]; /* users first, by id */
};

/* The permission bits an EIR directory may be given (enrpctl --dir-mode). */
#define ENRP_DIR_MODE_ALLOWED 0755

void enrp_policy_eir_dir(const struct enrp_eir *eir, struct enrp_dir_access *out);

#endif
