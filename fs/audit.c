/*
 * audit.c — the daemon's mount and unmount in the audit journal
 * (enrp/lifecycle.h): what main() knows, gathered into the records; and
 * the loss of verified files (enrp/loss.h), noted from the namespace ops.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <enrp/destroy.h>
#include <enrp/enrp.h>
#include <enrp/lifecycle.h>

#include "fs.h"

/* The -o options of ARGV as given ("-o a,b -o c" -> "a,b,c"), into BUF. */
static void options_of(int argc, char **argv, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *o = NULL;
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			o = argv[++i];
		else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2])
			o = argv[i] + 2;
		if (!o)
			continue;
		size_t n = strlen(o);
		if (len + n + 2 > size)
			break; /* cut: the record says as much as fits */
		if (len)
			buf[len++] = ',';
		memcpy(buf + len, o, n + 1);
		len += n;
	}
}

void audit_mount(struct fs *fs, int argc, char **argv, const char *mnt, const char *keyfile,
                 uint64_t orphans, uint64_t spools)
{
	char options[1024], key[PATH_MAX];
	struct enrp_recovery r = { .orphans_freed = orphans, .spools_removed = spools };
	options_of(argc, argv, options, sizeof(options));
	if (keyfile && realpath(keyfile, key))
		keyfile = key;
	int rc = enrp_lifecycle_mount(fs->st, &fs->actor, fs->store_path, mnt, options, keyfile,
	                              &r);
	if (rc)
		enrp_log(ENRP_LOG_ERR, "cannot journal the mount of '%s': %s", fs->store_path,
		         enrp_strerror(rc));
	/* Durable, and so seen by enrpctl, before enrpfs reports the mount
	 * up: the record of a mount must never trail the mount itself. */
	else if ((rc = enrp_store_sync(fs->st)))
		enrp_log(ENRP_LOG_ERR, "cannot journal the mount of '%s': %s", fs->store_path,
		         enrp_strerror(rc));
	/* A destruction a crash interrupted is finished before anything else
	 * can meet what is left of it (destroy.h). */
	unsigned done;
	rc = enrp_destroy_resume(fs->st, &fs->actor, &done);
	if (rc)
		enrp_log(ENRP_LOG_ERR, "cannot finish an interrupted EIR destruction in '%s': %s; "
		         "run 'enrpctl eir destroy' on it again", fs->store_path, enrp_strerror(rc));
	else if (done)
		enrp_log(ENRP_LOG_NOTICE, "finished %u interrupted EIR destruction%s", done,
		         done == 1 ? "" : "s");
}

void audit_unmount(struct fs *fs, const char *mnt)
{
	/* The last losses before the unmount that ends them. */
	enrp_losses_flush(fs->losses, &fs->actor, enrp_now_ns(), true);
	int rc = enrp_lifecycle_unmount(fs->st, &fs->actor, fs->store_path, mnt);
	if (rc)
		enrp_log(ENRP_LOG_ERR, "cannot journal the unmount of '%s': %s", fs->store_path,
		         enrp_strerror(rc));
}

void loss_prepare(fuse_req_t req, struct fs *fs, struct pending_loss *pl, enum enrp_loss_kind kind,
                  const struct enrp_stat *victim, uint64_t parent, const char *name,
                  const char *how)
{
	pl->relevant = false;
	if (!S_ISREG(victim->st.st_mode) || victim->content != ENRP_CONTENT_SEALED ||
	    victim->state != ENRP_FILE_VERIFIED)
		return;
	/* Removing a name of a file with other names left loses nothing. */
	if (kind == ENRP_LOSS_REMOVED && victim->st.st_nlink > 1)
		return;
	if (kind == ENRP_LOSS_REPLACED && name && victim->st.st_nlink > 1)
		return;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	pl->relevant = true;
	pl->kind = kind;
	pl->victim = *victim;
	pl->pid = (uint32_t)ctx->pid;
	pl->how = how;
	pl->want = enrp_losses_want(fs->losses, victim->eir_id, kind);
	pl->known = false;
	if (pl->want & ENRP_LOSS_WANT_ACTOR)
		enrp_actor_of(&pl->who, ctx->uid, pl->pid);
	/* Now: after a removal the name is gone. */
	if (pl->want & ENRP_LOSS_WANT_PATH)
		pl->known = (name ? enrp_path_of(fs->st, parent, name, 0, pl->path, sizeof(pl->path))
		                  : enrp_path_of(fs->st, 0, NULL, victim->st.st_ino, pl->path,
		                                 sizeof(pl->path))) == 0;
}

void loss_commit(struct fs *fs, const struct pending_loss *pl)
{
	if (!pl->relevant)
		return;
	enrp_losses_note(fs->losses, pl->kind, &pl->victim, pl->pid,
	                 (pl->want & ENRP_LOSS_WANT_ACTOR) ? &pl->who : NULL,
	                 pl->known ? pl->path : NULL, pl->how);
}
