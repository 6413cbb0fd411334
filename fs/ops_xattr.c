/*
 * ops_xattr.c — extended attributes.  The user.* namespace is stored.  Two
 * virtual attributes outside it report what the platform verified (DESIGN
 * §5): enrp.sha256 (hex SHA-256 of a verified file, ENODATA before) and
 * enrp.state (open, pending, verified, corrupt).  Being outside user.*, rsync
 * -X and cp never copy them; they are not listed, and setting them is EPERM.
 *
 * Who may enter an EIR directory is the registry's decision
 * (enrp_policy_eir_dir): besides its presented owner, further accounts (the
 * owner of an active EIR, its agent) are named entries of a POSIX ACL that
 * this file serves as the directory's system.posix_acl_access, and the
 * kernel enforces it (FUSE_CAP_POSIX_ACL, main.c).  A client's ACL change of
 * the EIR directory is accepted and changes nothing, like its chmod
 * (core/ns.c), so `rsync -aA` exits 0 and access never widens; the kernel
 * drops the ACL it cached when the call returns and asks again.  No other
 * inode has an ACL: setting one fails with EOPNOTSUPP (core/ns.c).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/codec.h>

#include <enrp/snapshot.h>

#include "fs.h"

#define XATTR_SHA256 "enrp.sha256"
#define XATTR_STATE "enrp.state"
#define XATTR_ACL_ACCESS "system.posix_acl_access"

/* The kernel's POSIX ACL xattr format (linux/posix_acl_xattr.h): a version
 * word, then entries of tag, permission and id, little-endian. */
#define ACL_XATTR_VERSION 2
#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20
#define ACL_NO_ID 0xffffffffu
#define ACL_ENTRY_LEN 8
#define ACL_MAX_LEN (4 + ACL_ENTRY_LEN * (4 + ENRP_DIR_ENTRANTS_MAX))

static size_t acl_put(uint8_t *p, uint16_t tag, unsigned perm, uint32_t id)
{
	uint16_t t = htole16(tag), pm = htole16((uint16_t)perm);
	uint32_t i = htole32(id);
	memcpy(p, &t, 2);
	memcpy(p + 2, &pm, 2);
	memcpy(p + 4, &i, 4);
	return ACL_ENTRY_LEN;
}

/* Encodes A as an access ACL into BUF; returns its length. */
static size_t acl_encode(const struct enrp_dir_access *a, uint8_t buf[ACL_MAX_LEN])
{
	uint32_t version = htole32(ACL_XATTR_VERSION);
	size_t n = 0;
	memcpy(buf, &version, 4);
	n += 4;
	n += acl_put(buf + n, ACL_USER_OBJ, a->user_perm, ACL_NO_ID);
	for (unsigned i = 0; i < a->nentrants; i++)
		if (!a->entrants[i].group)
			n += acl_put(buf + n, ACL_USER, a->entrants[i].perm, a->entrants[i].id);
	n += acl_put(buf + n, ACL_GROUP_OBJ, a->group_perm, ACL_NO_ID);
	for (unsigned i = 0; i < a->nentrants; i++)
		if (a->entrants[i].group)
			n += acl_put(buf + n, ACL_GROUP, a->entrants[i].perm, a->entrants[i].id);
	n += acl_put(buf + n, ACL_MASK, a->mask, ACL_NO_ID);
	n += acl_put(buf + n, ACL_OTHER, a->other_perm, ACL_NO_ID);
	return n;
}

/* True if INO is the directory of an EIR; *E gets its record. */
static bool eir_dir(struct fs *fs, fuse_ino_t ino, struct enrp_eir *e)
{
	struct enrp_stat s;
	return ino != ENRP_ROOT_INO && enrp_ns_getattr(fs->st, ino, &s) == 0 && s.eir_id &&
	       enrp_eir_get_by_id(fs->st, s.eir_id, e) == 0 && e->root_ino == ino;
}

/* The registry's ACL of an EIR directory; ENODATA elsewhere, and where the
 * mode bits already say who may enter. */
static void acl_get(fuse_req_t req, struct fs *fs, fuse_ino_t ino, size_t size)
{
	struct enrp_eir e;
	struct enrp_dir_access a;
	if (!eir_dir(fs, ino, &e)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	enrp_policy_eir_dir(&e, &a);
	if (a.nentrants == 0) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	uint8_t buf[ACL_MAX_LEN];
	size_t len = acl_encode(&a, buf);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, (const char *)buf, len);
}

/* A client's ACL change of an EIR directory: accepted where the mode
 * allows changes, and ignored (see the top of this file).  Returns false
 * when INO is not an EIR directory. */
static bool acl_change_of_eir_dir(fuse_req_t req, struct fs *fs, fuse_ino_t ino)
{
	struct enrp_eir e;
	if (!eir_dir(fs, ino, &e))
		return false;
	struct enrp_caller caller;
	caller_of(req, &caller);
	int rc = enrp_ns_check(fs->st, &caller, ino, ENRP_OP_WRITE);
	if (rc)
		reply_denied(req, fs, e.id, ino, NULL, ENRP_OP_WRITE, rc);
	else
		fuse_reply_err(req, 0);
	return true;
}

static bool virtual_name(const char *name)
{
	return strcmp(name, XATTR_SHA256) == 0 || strcmp(name, XATTR_STATE) == 0;
}

void reply_xattr_text(fuse_req_t req, const char *value, size_t size)
{
	size_t len = strlen(value);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
}

static void virtual_get(fuse_req_t req, struct fs *fs, fuse_ino_t ino, const char *name,
                        size_t size)
{
	struct enrp_stat s;
	/* A snapshot's file: what it was sealed with, durable long since. */
	bool snap = hidden_ino(ino);
	int rc = snap ? hidden_snapshot_stat(fs, ino, &s) : enrp_ns_getattr(fs->st, ino, &s);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (!S_ISREG(s.st.st_mode)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	/* A seal is shown only once it, and the names that reach the file,
	 * are durable (docs/design.md, "What verified guarantees"). */
	if (!snap && s.content == ENRP_CONTENT_SEALED && (rc = enrp_store_sync_eir(fs->st, s.eir_id))) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (strcmp(name, XATTR_STATE) == 0) {
		reply_xattr_text(req, enrp_file_state_name(s.state), size);
		return;
	}
	if (s.state != ENRP_FILE_VERIFIED && s.state != ENRP_FILE_CORRUPT) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	char hex[2 * 32 + 1];
	enrp_hex(s.sha256, 32, hex);
	reply_xattr_text(req, hex, size);
}

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                 size_t size, int flags)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (virtual_name(name)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (strcmp(name, XATTR_ACL_ACCESS) == 0 && acl_change_of_eir_dir(req, fs, ino))
		return;
	struct enrp_caller caller;
	caller_of(req, &caller);
	int rc = enrp_ns_setxattr(fs->st, &caller, ino, name, value, size, flags);
	if (rc)
		reply_denied(req, fs, eir_of(fs, ino), ino, NULL, ENRP_OP_WRITE, rc);
	else
		fuse_reply_err(req, 0);
}

void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (virtual_name(name)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (strcmp(name, XATTR_ACL_ACCESS) == 0 && acl_change_of_eir_dir(req, fs, ino))
		return;
	struct enrp_caller caller;
	caller_of(req, &caller);
	int rc = enrp_ns_removexattr(fs->st, &caller, ino, name);
	if (rc)
		reply_denied(req, fs, eir_of(fs, ino), ino, NULL, ENRP_OP_WRITE, rc);
	else
		fuse_reply_err(req, 0);
}

/* Replies to a get (NAME) or a list (NAME NULL) of INO's stored xattrs:
 * the live ones, or those a .snapshots/ inode had in its snapshot. */
static void stored_xattr(fuse_req_t req, struct fs *fs, fuse_ino_t ino, const char *name,
                         size_t size)
{
	const struct enrp_snapshot *snap = NULL;
	uint64_t real = ino;
	if (hidden_ino(ino) && hidden_snapshot_node(ino, &snap, &real)) {
		/* .enrp/ and the .snapshots/ directory itself have none. */
		if (name)
			fuse_reply_err(req, ENODATA);
		else if (size == 0)
			fuse_reply_xattr(req, 0);
		else
			fuse_reply_buf(req, NULL, 0);
		return;
	}
	reply_stored_xattr(req, fs->st, snap, real, name, size);
}

void reply_stored_xattr(fuse_req_t req, enrp_store *st, const struct enrp_snapshot *snap,
                        uint64_t ino, const char *name, size_t size)
{
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t len = 0;
	int rc;
	if (snap)
		rc = name ? enrp_snapshot_getxattr(st, snap, ino, name, buf, size, &len)
		          : enrp_snapshot_listxattr(st, snap, ino, buf, size, &len);
	else
		rc = name ? enrp_ns_getxattr(st, ino, name, buf, size, &len)
		          : enrp_ns_listxattr(st, ino, buf, size, &len);
	if (rc)
		fuse_reply_err(req, -rc);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		if (virtual_name(name))
			virtual_get(req, fs, ino, name, size);
		else
			stored_xattr(req, fs, ino, name, size);
		return;
	}
	if (virtual_name(name)) {
		virtual_get(req, fs, ino, name, size);
		return;
	}
	if (strcmp(name, XATTR_ACL_ACCESS) == 0) {
		acl_get(req, fs, ino, size);
		return;
	}
	stored_xattr(req, fs, ino, name, size);
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	stored_xattr(req, fs_of(req), ino, NULL, size);
}
