/*
 * status.c — the contents of EIR/.enrp/status, SHA256SUMS and pending.
 *
 * Each file is rendered afresh on every call from the registry and the
 * namespace, so it is never stale; fs/ renders at open and serves reads from
 * that buffer, so one open handle sees one consistent text.
 *
 * "status" reads the file-state counts the namespace keeps (struct
 * enrp_eir_files), so it costs the same for any EIR and walks nothing.
 *
 * SHA256SUMS lists every verified file as sha256sum(1) writes it, so an
 * owner can run `sha256sum -c` against their source files; "pending" lists
 * the files not yet verified.  Both come from a walk of the EIR's tree.
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

#include <enrp/codec.h>
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
static void put_escaped_str(FILE *out, const char *s);
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

static void put_escaped_str(FILE *out, const char *s)
{
	put_escaped(out, s);
}

/* One directory's entries, collected during readdir. */
struct child {
	char *name;
	uint64_t ino;
	bool dir;
	enum enrp_file_state state;
	uint8_t sha256[32];
	int64_t sealed_at;
};

struct children {
	struct child *v;
	size_t n, cap;
};

static int collect_fn(const struct enrp_dirent *ent, void *arg)
{
	struct children *c = arg;
	bool dir = S_ISDIR(ent->attr.st.st_mode);

	if (!dir && !S_ISREG(ent->attr.st.st_mode))
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
	x->state = ent->attr.state;
	memcpy(x->sha256, ent->attr.sha256, 32);
	x->sealed_at = ent->attr.sealed_at;
	c->n++;
	return 0;
}

/* What a walk of the tree produces. */
struct tally {
	enum enrp_status_file listing; /* which list OUT receives, if any */
	FILE *out;
	uint64_t pending, verified, corrupt;
	int64_t last_sealed;
};

static bool is_pending(enum enrp_file_state s)
{
	return s == ENRP_FILE_OPEN || s == ENRP_FILE_PENDING;
}

/* One SHA256SUMS line as sha256sum(1) writes it: a name holding a
 * backslash or newline is escaped, and the line then starts with '\'. */
static void put_sum(FILE *out, const uint8_t sha[32], const char *prefix, const char *name)
{
	char hex[65];
	bool esc = strpbrk(prefix, "\\\n") || strpbrk(name, "\\\n");
	enrp_hex(sha, 32, hex);
	if (esc)
		fputc('\\', out);
	fprintf(out, "%s  ", hex);
	if (esc) {
		put_escaped(out, prefix);
		put_escaped(out, name);
	} else {
		fputs(prefix, out);
		fputs(name, out);
	}
	fputc('\n', out);
}

/* Walks the regular files under DIR (path PREFIX, "" at the EIR directory),
 * counting them into T and listing the ones T asks for. */
static int walk(enrp_store *st, uint64_t dir, const char *prefix, struct tally *t)
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
		if (x->dir) {
			char *sub;
			if (asprintf(&sub, "%s%s/", prefix, x->name) < 0) {
				rc = -ENOMEM;
				break;
			}
			rc = walk(st, x->ino, sub, t);
			free(sub);
			continue;
		}
		if (is_pending(x->state)) {
			t->pending++;
			if (t->out && t->listing == ENRP_STATUS_PENDING) {
				put_escaped(t->out, prefix);
				put_escaped(t->out, x->name);
				fputc('\n', t->out);
			}
		} else {
			if (x->state == ENRP_FILE_CORRUPT)
				t->corrupt++;
			else
				t->verified++;
			if (x->sealed_at > t->last_sealed)
				t->last_sealed = x->sealed_at;
			if (t->out && t->listing == ENRP_STATUS_SHA256SUMS &&
			    x->state == ENRP_FILE_VERIFIED)
				put_sum(t->out, x->sha256, prefix, x->name);
		}
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].name);
	free(c.v);
	return rc;
}

static void put_count(FILE *out, const char *key, bool known, uint64_t v)
{
	if (known)
		fprintf(out, "%s: %llu\n", key, (unsigned long long)v);
	else
		fprintf(out, "%s: unknown\n", key);
}

static int render_status(enrp_store *st, const struct enrp_eir *e, FILE *out)
{
	struct enrp_eir_usage u;
	struct enrp_eir_files fc;
	int rc = enrp_eir_usage(st, e->id, &u);
	if (rc)
		return rc;
	/* A store older than the counts has none until enrpfs mounts it. */
	rc = enrp_eir_files(st, e->id, &fc);
	if (rc && rc != -ENOENT)
		return rc;
	bool known = rc == 0;

	fprintf(out, "eir: %s\n", e->name);
	fprintf(out, "mode: %s\n", enrp_mode_name(e->mode));
	fprintf(out, "state: %s\n", enrp_state_name(e->state));
	if (e->state_reason[0]) {
		fputs("state_reason: ", out);
		put_escaped_str(out, e->state_reason);
		fputc('\n', out);
	}
	fprintf(out, "class: %u\n", e->eir_class);
	fprintf(out, "owner_uid: %u\n", e->owner_uid);
	fprintf(out, "quota: %llu\n", (unsigned long long)e->quota);
	fprintf(out, "usage_bytes: %llu\n", (unsigned long long)u.bytes);
	fprintf(out, "stored_bytes: %llu\n", (unsigned long long)u.stored);
	fprintf(out, "files: %llu\n", (unsigned long long)u.files);
	if (e->mode == ENRP_MODE_ACTIVE && e->escalated_until > enrp_now_ns()) {
		char when[40];
		enrp_time_format(e->escalated_until, when, sizeof(when));
		fprintf(out, "escalated_until: %s\n", when);
	}
	put_count(out, "pending_files", known, fc.open + fc.pending);
	put_count(out, "verified_files", known, fc.verified);
	put_count(out, "corrupt_files", known, fc.corrupt);
	if (known && fc.last_sealed) {
		char when[40];
		enrp_time_format(fc.last_sealed, when, sizeof(when));
		fprintf(out, "last_verified_transfer: %s\n", when);
	} else {
		fprintf(out, "last_verified_transfer: %s\n", known ? "none" : "unknown");
	}
	return 0;
}

int enrp_status_render(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                       char **buf, size_t *len)
{
	struct enrp_eir e;
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

	if (f == ENRP_STATUS_STATUS) {
		rc = render_status(st, &e, out);
	} else {
		struct tally t = { .listing = f, .out = out };
		rc = walk(st, e.root_ino, "", &t);
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
