/*
 * trust.h — whether a path can be changed by root alone.
 *
 * A store is the platform's data and its audit journal; whoever can rename
 * a directory on the way to it, or owns one of its directories, can swap
 * meta/, spool/ or run/ under the daemon.  These checks say, before
 * anything is opened or created, whether anyone but root could.
 *
 * A directory is root's alone when it is owned by uid 0 and neither its group
 * nor others may write it (POSIX ACLs grant write through the group bits, so
 * those are covered).  A directory others may write is accepted on the way to
 * a path only when it is sticky (like /tmp) and the entry taken from it is
 * owned by root: there, nobody else can rename or remove that entry.
 *
 * The checks read the path by name; they are race-free against everyone but
 * root because each directory is verified before anything found in it is
 * trusted.  Thread-safe.
 */
#ifndef ENRP_TRUST_H
#define ENRP_TRUST_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/* What makes a path not root's alone, for messages: "'PATH' WHY" and a
 * command that fixes it. */
struct enrp_trust_problem {
	char path[PATH_MAX]; /* the file or directory at fault */
	char why[256];       /* e.g. "is owned by enrp-alice (uid 1001), not root" */
	char fix[PATH_MAX + 64]; /* e.g. "chown root:root '/srv/enrp'" */
};

/* Resolves PATH (relative to the working directory; symlinks followed, at
 * most 40) and checks that every directory looked up on the way, the ones a
 * symlink leads through included, is root's alone as described above.  PATH
 * itself is not checked.  RESOLVED (PATH_MAX bytes, may be NULL) receives the
 * absolute path without symlinks; *EXISTS whether PATH exists (may be NULL).
 * Returns 0; -EPERM with *P filled when a directory is not root's alone;
 * -ENOENT when a directory on the way is missing (a missing last component is
 * not an error); -ENOTDIR, -ELOOP, -ENAMETOOLONG, -EACCES. */
int enrp_trust_walk(const char *path, char *resolved, bool *exists,
                    struct enrp_trust_problem *p);

/* Checks the object at PATH itself (not followed if a symlink): it is of
 * type TYPE (S_IFDIR, S_IFREG), owned by uid 0, and has none of the
 * permission bits in FORBIDDEN (e.g. 077: nobody but root may use it; 022:
 * nobody else may write it).  Returns 0, -EPERM with *P filled, or the
 * -errno of lstat (-ENOENT when missing). */
int enrp_trust_own(const char *path, mode_t type, mode_t forbidden,
                   struct enrp_trust_problem *p);

#endif
