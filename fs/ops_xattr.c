/*
 * ops_xattr.c — extended attributes.  Only the user.* namespace is stored;
 * the virtual enrp.* attributes (checksum and state) arrive with sealing.
 */
#include <errno.h>
#include <stdlib.h>

#include "fs.h"

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                 size_t size, int flags)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		fuse_reply_err(req, EROFS);
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
