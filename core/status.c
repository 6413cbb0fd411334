/*
 * status.c — the contents of EIR/.enrp/status, SHA256SUMS and pending.
 *
 * Each file is rendered afresh on every call from the registry and the
 * namespace, so it is never stale; fs/ renders at open and serves reads from
 * that buffer, so one open handle sees one consistent text.
 *
 * "pending" and the pending_files count come from a walk of the EIR's tree.
 * That is O(inodes of the EIR) per render, acceptable while the only readers
 * are people and scripts polling a status file; an index of pending inodes
 * (DBI_SPOOL carries one already) can replace it without changing the
 * output.  The walk recurses outside enrp_ns_readdir's callback: readdir holds
 * a read view, and store reads do not nest.
 *
 * Paths in "pending" are relative to the EIR directory, one per line, with
 * "\\" written as "\\\\" and a newline as "\\n", so every line is one path.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/ns.h>
#include <enrp/status.h>
#include <enrp/units.h>

static const char *const file_names[ENRP_STATUS_FILE_COUNT] = {
	[ENRP_STATUS_STATUS] = "status",
	[ENRP_STATUS_SHA256SUMS] = "SHA256SUMS",
	[ENRP_STATUS_PENDING] = "pending",
};

const char *enrp_status_file_name(enum enrp_status_file f)
{
	return (unsigned)f < ENRP_STATUS_FILE_COUNT ? file_names[f] : "?";
}

/* Writes S with backslash and newline escaped. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

/* One directory's entries, collected during readdir. */
struct child {
	char *name;
	uint64_t ino;
	bool dir;
	bool pending;
};

struct children {
	struct child *v;
	size_t n, cap;
};

static int collect_fn(const struct enrp_dirent *ent, void *arg)
{
	struct children *c = arg;
	bool dir = S_ISDIR(ent->attr.st.st_mode);
	bool pending = S_ISREG(ent->attr.st.st_mode) && ent->attr.content == ENRP_CONTENT_SPOOL;

	if (!dir && !pending)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct child *nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	struct child *x = &c->v[c->n];
	x->name = strdup(ent->name);
	if (!x->name)
		return -ENOMEM;
	x->ino = ent->attr.st.st_ino;
	x->dir = dir;
	x->pending = pending;
	c->n++;
	return 0;
}

/* Counts pending files under DIR (path PREFIX, "" at the EIR directory) and,
 * when OUT is not NULL, lists them there. */
static int walk(enrp_store *st, uint64_t dir, const char *prefix, FILE *out, uint64_t *count)
{
	struct children c = { NULL, 0, 0 };
	int rc;

	rc = enrp_ns_readdir(st, dir, collect_fn, &c);
	/* A directory removed between listing its parent and reading it is
	 * simply no longer part of the tree. */
	if (rc == -ENOENT || rc == -ENOTDIR)
		rc = 0;
	for (size_t i = 0; !rc && i < c.n; i++) {
		const struct child *x = &c.v[i];
		if (x->pending) {
			(*count)++;
			if (out) {
				put_escaped(out, prefix);
				put_escaped(out, x->name);
				fputc('\n', out);
			}
		}
		if (x->dir) {
			char *sub;
			if (asprintf(&sub, "%s%s/", prefix, x->name) < 0) {
				rc = -ENOMEM;
				break;
			}
			rc = walk(st, x->ino, sub, out, count);
			free(sub);
		}
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].name);
	free(c.v);
	return rc;
}

static int render_status(enrp_store *st, const struct enrp_eir *e, FILE *out)
{
	struct enrp_eir_usage u;
	uint64_t pending = 0;
	int rc;

	rc = enrp_eir_usage(st, e->id, &u);
	if (rc)
		return rc;
	rc = walk(st, e->root_ino, "", NULL, &pending);
	if (rc)
		return rc;

	fprintf(out, "eir: %s\n", e->name);
	fprintf(out, "mode: %s\n", enrp_mode_name(e->mode));
	fprintf(out, "state: %s\n", enrp_state_name(e->state));
	if (e->state_reason[0]) {
		fputs("state_reason: ", out);
		put_escaped(out, e->state_reason);
		fputc('\n', out);
	}
	fprintf(out, "class: %u\n", e->eir_class);
	fprintf(out, "owner_uid: %u\n", e->owner_uid);
	fprintf(out, "quota: %llu\n", (unsigned long long)e->quota);
	fprintf(out, "usage_bytes: %llu\n", (unsigned long long)u.bytes);
	fprintf(out, "files: %llu\n", (unsigned long long)u.files);
	if (e->mode == ENRP_MODE_ACTIVE && e->escalated_until > enrp_now_ns()) {
		char when[40];
		enrp_time_format(e->escalated_until, when, sizeof(when));
		fprintf(out, "escalated_until: %s\n", when);
	}
	fprintf(out, "pending_files: %llu\n", (unsigned long long)pending);
	/* Transfers are verified once files are sealed with their checksums
	 * (next issue); until then nothing has been verified. */
	fputs("last_verified_transfer: none\n", out);
	return 0;
}

int enrp_status_render(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                       char **buf, size_t *len)
{
	struct enrp_eir e;
	uint64_t count = 0;
	FILE *out;
	int rc;

	*buf = NULL;
	*len = 0;
	if ((unsigned)f >= ENRP_STATUS_FILE_COUNT)
		return -EINVAL;
	rc = enrp_eir_get_by_id(st, eir_id, &e);
	if (rc)
		return rc;
	out = open_memstream(buf, len);
	if (!out)
		return -ENOMEM;

	switch (f) {
	case ENRP_STATUS_STATUS:
		rc = render_status(st, &e, out);
		break;
	case ENRP_STATUS_SHA256SUMS:
		/* Empty until files are sealed with their SHA-256 (next issue):
		 * it will list every verified file as "HEX  PATH", the format
		 * `sha256sum -c` reads, with sha256sum's escaping. */
		rc = 0;
		break;
	case ENRP_STATUS_PENDING:
		rc = walk(st, e.root_ino, "", out, &count);
		break;
	}

	/* fclose finalises *buf and *len; a failed write shows up here. */
	if (fclose(out) != 0 && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return rc;
}
