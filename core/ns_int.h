/* ns_int.h — namespace calls the EIR registry makes inside its transaction. */
#ifndef ENRP_NS_INT_H
#define ENRP_NS_INT_H

#include <enrp/eir.h>

#include "record_int.h"
#include "store_int.h"

/* What stat(2) shows of inode INO with record R.  A corrupt file shows
 * ENRP_CORRUPT_MTIME as its mtime (ns.c, "The mtime of a corrupt file"). */
void ns_fill_stat(uint64_t ino, const struct inode_rec *r, struct enrp_stat *out);

/* The state linked regular file R is counted under (enum enrp_file_state),
 * or -1 when the file-state counts leave it out: not a regular file, or not
 * linked.  What .enrp's lists show a file as agrees with these counts. */
int ns_file_class(const struct inode_rec *r);

/* A growing list of inode numbers (free V when done). */
struct ino_list {
	uint64_t *v;
	size_t n, cap;
};
int ino_list_push(struct ino_list *l, uint64_t ino);

/* One inode record: -ENOENT, -EIO for a record that does not decode. */
int ns_inode_get(enrp_txn *t, uint64_t ino, struct inode_rec *r);
int ns_inode_put(enrp_txn *t, uint64_t ino, const struct inode_rec *r);

/* Creates the directory of new EIR E under the root (owner, group and mode
 * from E) and returns its inode number. */
int ns_create_eir_root(enrp_txn *t, const struct enrp_eir *e, uint64_t *ino);

/* Applies E's owner, group and dir_mode to its directory inode. */
int ns_update_eir_root(enrp_txn *t, const struct enrp_eir *e);

/* What R charges to its EIR's usage for its content: a regular file's size,
 * or the end of the space reserved past it if further; 0 otherwise. */
uint64_t ns_charge(const struct inode_rec *r);

/* R's spool file is gone (its file was sealed): space reserved past its end
 * is no longer held.  Updates R (written back by the caller) and usage. */
int ns_spool_released(enrp_txn *t, struct inode_rec *r);

/* One directory entry as ns_dir_scan finds it: NAME is LEN bytes, not
 * NUL-terminated, borrowed for the call; TYPE is the file type (the S_IFMT
 * bits of the mode) recorded in the entry, so no inode needs reading to
 * tell a directory. */
typedef int ns_dirent_fn(enrp_txn *t, const char *name, size_t len, uint64_t ino,
                         uint32_t type, void *arg);

/* Calls CB for each entry of directory DIR whose name sorts after the
 * AFTER_LEN bytes of AFTER (AFTER_LEN 0: from the first entry), in name
 * order, until CB returns non-zero (returned) or the entries end (0).  An
 * entry named exactly AFTER is skipped, so a walk resumes after the last
 * name it had even if that entry is gone.  -EIO for a damaged entry. */
int ns_dir_scan(enrp_txn *t, uint64_t dir, const char *after, size_t after_len,
                ns_dirent_fn *cb, void *arg);

/* The inode that the relative PATH names under directory DIR, following no
 * symlink: -ENOENT, -ENOTDIR, -EINVAL (empty, absolute, "." or ".."
 * components, a name too long). */
int ns_resolve(enrp_txn *t, uint64_t dir, const char *path, uint64_t *ino);

/* Links the regular file R (sealed, its chunk list to be put by the caller)
 * as NAME in directory PARENT under a new inode number (*INO), linked once,
 * charged to its EIR: trash restore.  Never replaces: -EEXIST when NAME is
 * taken (or reserved); -ENOENT PARENT is gone, unlinked or of another EIR;
 * -ENOTDIR; -EINVAL, -ENAMETOOLONG a bad NAME.  Sets R's link count, times
 * of change and birth. */
int ns_restore_file(enrp_txn *t, uint64_t parent, const char *name, struct inode_rec *r,
                    uint64_t *ino);

#endif
