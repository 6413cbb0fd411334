/*
 * ops_entry.c — lookup, forget, getattr, setattr, readlink, statfs, and the
 * helpers every op uses to reply.
 *
 * Negative lookups are never cached (ENOENT, not an entry with a timeout):
 * enrpctl creates EIRs behind the kernel's back (STYLE rule 24).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <enrp/spool.h>

#include "fs.h"

void caller_of(fuse_req_t req, struct enrp_caller *caller)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	caller->uid = ctx->uid;
	caller->gid = ctx->gid;
	caller->pid = (uint32_t)ctx->pid;
}

/* Policy denials go to the audit journal, aggregated (DESIGN §4).  The
 * first denial of a record names its caller and path; finding those reads
 * /proc and the store, so later ones of the same record are only counted. */
void reply_denied(fuse_req_t req, struct fs *fs, uint32_t eir_id, uint64_t at, const char *name,
                  enum enrp_op op, int rc)
{
	if ((rc == -EACCES || rc == -EROFS || rc == -EPERM || rc == -EDQUOT) && eir_id) {
		const struct fuse_ctx *ctx = fuse_req_ctx(req);
		struct enrp_eir e;
		if (enrp_eir_get_by_id(fs->st, eir_id, &e) == 0) {
			struct enrp_actor who;
			char path[ENRP_PATH_MAX + 1];
			bool first = enrp_denials_first(fs->denials, e.name, ctx->uid, op, rc);
			bool known = false;
			if (first) {
				enrp_actor_of(&who, ctx->uid, (uint32_t)ctx->pid);
				known = at && (name ? enrp_path_of(fs->st, at, name, 0, path,
				                                   sizeof(path))
				                    : enrp_path_of(fs->st, 0, NULL, at, path,
				                                   sizeof(path))) == 0;
			}
			enrp_denials_note(fs->denials, e.name, ctx->uid, (uint32_t)ctx->pid, op, rc,
			                  first ? &who : NULL, known ? path : NULL);
		}
	}
	fuse_reply_err(req, -rc);
}

uint32_t eir_of(struct fs *fs, fuse_ino_t ino)
{
	struct enrp_stat s;
	return enrp_ns_getattr(fs->st, ino, &s) == 0 ? s.eir_id : 0;
}

void entry_of(struct fs *fs, const struct enrp_stat *s, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = s->st.st_ino;
	e->generation = 1;
	e->attr = s->st;
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
}

void reply_entry_stat(fuse_req_t req, struct fs *fs, int rc, const struct enrp_stat *s,
                      enum enrp_op op, fuse_ino_t where, const char *name)
{
	if (rc) {
		reply_denied(req, fs, eir_of(fs, where), where, name, op, rc);
		return;
	}
	struct fuse_entry_param e;
	entry_of(fs, s, &e);
	/* Count the reference before the kernel can forget it. */
	node_ref(fs, e.ino, s->eir_id);
	if (fuse_reply_entry(req, &e) != 0)
		node_forget(fs, e.ino, 1);
}


void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	if (hidden_ino(parent)) {
		hidden_lookup(req, fs, parent, name);
		return;
	}
	if (enrp_ns_reserved(name) && hidden_lookup_in_eir(req, fs, parent, name))
		return;
	struct enrp_stat s;
	int rc = enrp_ns_lookup(fs->st, parent, name, &s);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_entry_stat(req, fs, 0, &s, ENRP_OP_INSPECT, parent, name);
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(fs_of(req), ino, nlookup);
	fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);
	for (size_t i = 0; i < count; i++)
		node_forget(fs, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		hidden_getattr(req, fs, ino);
		return;
	}
	struct enrp_stat s;
	int rc = enrp_ns_getattr(fs->st, ino, &s);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &s.st, fs->timeout);
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                struct fuse_file_info *fi)
{
	static const struct { int fuse; unsigned ours; } map[] = {
		{ FUSE_SET_ATTR_MODE, ENRP_SETATTR_MODE },
		{ FUSE_SET_ATTR_UID, ENRP_SETATTR_UID },
		{ FUSE_SET_ATTR_GID, ENRP_SETATTR_GID },
		{ FUSE_SET_ATTR_SIZE, ENRP_SETATTR_SIZE },
		{ FUSE_SET_ATTR_ATIME, ENRP_SETATTR_ATIME },
		{ FUSE_SET_ATTR_MTIME, ENRP_SETATTR_MTIME },
		{ FUSE_SET_ATTR_ATIME_NOW, ENRP_SETATTR_ATIME_NOW },
		{ FUSE_SET_ATTR_MTIME_NOW, ENRP_SETATTR_MTIME_NOW },
		{ FUSE_SET_ATTR_CTIME, ENRP_SETATTR_CTIME },
	};
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	unsigned flags = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (to_set & map[i].fuse)
			flags |= map[i].ours;
	struct enrp_caller caller;
	struct enrp_stat s, before;
	caller_of(req, &caller);
	int rc = 0;
	bool resize = flags & ENRP_SETATTR_SIZE, writing = false;
	if (resize) {
		/* A truncate is a write: no sealing meanwhile, and a sealed file
		 * becomes a spool file first (empty when cut to zero).  The policy
		 * is checked before any copying: the checks of an open for writing,
		 * which read the attributes too. */
		struct enrp_open_check oc;
		rc = enrp_ns_open_check(fs->st, &caller, ino, O_WRONLY, &before, &oc);
		/* Refused before a sealed file is unsealed for nothing (core
		 * checks it again, before the quota). */
		if (rc == 0 && (uint64_t)attr->st_size > enrp_spool_size_max(fs->st))
			rc = -EFBIG;
		struct pending_loss pl = { .relevant = false };
		if (rc == 0)
			loss_prepare(req, fs, &pl,
			             attr->st_size < before.st.st_size ? ENRP_LOSS_TRUNCATED
			                                               : ENRP_LOSS_REPLACED,
			             &before, 0, NULL, "truncate");
		if (rc == 0) {
			enrp_ingest_writer_open(fs->ing, ino);
			writing = true;
			rc = enrp_ingest_unseal(fs->ing, ino, attr->st_size == 0);
		}
		if (rc == 0)
			loss_commit(fs, &pl);
		/* ftruncate through a handle that unsealed the file at its open. */
		if (rc == 0)
			file_loss_truncate(fs, fi, attr->st_size);
	}
	/* Shortening a file is a rewrite unless its writing session is the
	 * caller's (core/policy.h); emptying it starts the caller's session. */
	bool own = resize && node_session_owned(fs, ino, caller.uid);
	if (own)
		flags |= ENRP_SETATTR_OWN_SESSION;
	if (rc == 0)
		rc = enrp_ns_setattr(fs->st, &caller, ino, attr, flags, &s);
	if (rc == 0 && resize && attr->st_size == 0)
		node_session_begin(fs, ino, caller.uid);
	else if (rc == 0 && resize && !own)
		node_session_end(fs, ino);
	if (writing) /* queues the changed file */
		enrp_ingest_writer_close_in(fs->ing, ino, before.eir_id);
	if (rc)
		reply_denied(req, fs, eir_of(fs, ino), ino, NULL, ENRP_OP_WRITE, rc);
	else
		fuse_reply_attr(req, &s.st, fs->timeout);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	if (hidden_ino(ino)) {
		hidden_readlink(req, fs_of(req), ino);
		return;
	}
	char target[ENRP_SYMLINK_MAX + 1];
	int rc = enrp_ns_readlink(fs_of(req)->st, ino, target, sizeof(target));
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	struct fs *fs = fs_of(req);
	if (hidden_ino(ino)) {
		/* .enrp/ and .snapshots/ are the EIR's: df there shows the EIR. */
		struct enrp_eir e;
		ino = enrp_eir_get_by_id(fs->st, hidden_eir(ino), &e) == 0 ? e.root_ino
		                                                            : ENRP_ROOT_INO;
	}
	int rc = enrp_ns_statfs(fs->st, ino, &sv);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_statfs(req, &sv);
}
