/*
 * ops_xattr.c — extended attributes.  The user.* namespace is stored.  Two
 * virtual attributes outside it report what the platform verified (DESIGN
 * §5): enrp.sha256 (hex SHA-256 of a verified file, ENODATA before) and
 * enrp.state (open, pending, verified, corrupt).  Being outside user.*, rsync
 * -X and cp never copy them; they are not listed, and setting them is EPERM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/codec.h>

#include "fs.h"

#define XATTR_SHA256 "enrp.sha256"
#define XATTR_STATE "enrp.state"

static bool virtual_name(const char *name)
{
	return strcmp(name, XATTR_SHA256) == 0 || strcmp(name, XATTR_STATE) == 0;
}

static void reply_value(fuse_req_t req, const char *value, size_t size)
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
	int rc = enrp_ns_getattr(fs->st, ino, &s);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (!S_ISREG(s.st.st_mode)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (strcmp(name, XATTR_STATE) == 0) {
		reply_value(req, enrp_file_state_name(s.state), size);
		return;
	}
	if (s.state != ENRP_FILE_VERIFIED && s.state != ENRP_FILE_CORRUPT) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	char hex[2 * 32 + 1];
	enrp_hex(s.sha256, 32, hex);
	reply_value(req, hex, size);
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
	struct enrp_caller caller;
	caller_of(req, &caller);
	int rc = enrp_ns_setxattr(fs->st, &caller, ino, name, value, size, flags);
	if (rc)
		reply_denied(req, fs, eir_of(fs, ino), ENRP_OP_WRITE, rc);
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
	struct enrp_caller caller;
	caller_of(req, &caller);
	int rc = enrp_ns_removexattr(fs->st, &caller, ino, name);
	if (rc)
		reply_denied(req, fs, eir_of(fs, ino), ENRP_OP_WRITE, rc);
	else
		fuse_reply_err(req, 0);
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (virtual_name(name)) {
		virtual_get(req, fs, ino, name, size);
		return;
	}
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t len = 0;
	int rc = enrp_ns_getxattr(fs->st, ino, name, buf, size, &len);
	if (rc)
		fuse_reply_err(req, -rc);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		if (size == 0)
			fuse_reply_xattr(req, 0);
		else
			fuse_reply_buf(req, NULL, 0);
		return;
	}
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t len = 0;
	int rc = enrp_ns_listxattr(fs->st, ino, buf, size, &len);
	if (rc)
		fuse_reply_err(req, -rc);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}
