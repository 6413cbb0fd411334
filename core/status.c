/*
 * status.c — the contents of EIR/.enrp/status, SHA256SUMS and pending.
 *
 * "status" is a few hundred bytes of key: value lines from the registry,
 * the usage counters and the file-state counts the namespace keeps
 * (struct enrp_eir_files), so it costs the same for an EIR of one file and
 * one of millions, and nothing walks the tree for it.
 *
 * SHA256SUMS lists every verified file as sha256sum(1) writes it, so an
 * owner can run `sha256sum -c` against their source files, and every
 * corrupt file with a digest no content has, so that check fails on it
 * (no_content below); "pending" lists the files not yet verified (open or
 * queued), "corrupt" the files a damaged chunk made corrupt.  A linked
 * regular file is in exactly one of "pending", "corrupt" and the verified
 * lines of SHA256SUMS, as the file-state counts of "status" say
 * (pending_files, corrupt_files, verified_files).  The lists need every
 * path, so they are a walk of the EIR's tree, depth first in name order,
 * and they are produced as they are read, never built whole:
 *
 *   - The walk is iterative.  Its state is a stack of (directory, length of
 *     the path that leads to it) and one path buffer ("a/b/c/"), so memory
 *     and work are linear in the depth and each line costs its own length:
 *     a chain of 30,000 directories neither recurses nor rebuilds prefixes.
 *     Where to resume in a directory is the name last had there; for the
 *     directories below the top of the stack that name is already in the
 *     path buffer.
 *   - Every batch of at most BATCH_ENTRIES entries (and BATCH_BYTES of
 *     text; ~0.1 ms) is one short read transaction through
 *     enrp_store_read_bulk, which lets every thread waiting for the store go
 *     first, so other EIRs' operations wait for one batch at most, however
 *     long the list a reader walks.
 *   - A reader keeps the text from KEEP_BYTES before the offset last asked
 *     for up to what it produced, so its memory is bounded by that, the
 *     size of one read request, one batch and the longest path.
 *
 * What a reader promises (the way readdir does): a file that exists, is
 * in the same state and keeps its path (no rename of it or of a directory
 * above it) during the whole read appears exactly once, with its checksum
 * at that time; a file created, removed, renamed or sealed meanwhile may
 * or may not appear.  Each read continues the text where the previous one
 * ended; a read at an offset before what the reader kept starts the text
 * again from the beginning, as /proc's seq_file files do (sequential
 * readers never do that).
 *
 * The size of a list is not known without walking it, and a size that is
 * not exact is worse than a slow one: rsync and `wc -c` trust st_size, so a
 * short one silently truncates a copy of SHA256SUMS (and `sha256sum -c`
 * then passes on fewer files), and 0, /proc's answer, makes `test -s
 * pending` say nothing is pending.  So enrp_status_size() knows an empty
 * list from the counts (no walk: the usual case of `pending`), and
 * otherwise counts the text's length with the same batched walk, building
 * no text: time linear in the EIR's entries, memory in its depth.  The
 * lists change only when the EIR's tree_gen does (the namespace moves it
 * with every change of a directory or of a file's state), so a size, and
 * the length a reader found at the end of its pass, are returned with the
 * tree_gen they hold for, and enrpfs keeps them: a stat of an unchanged
 * list (cat and python fstat before reading) walks nothing.
 *
 * All of them show what is verified: a line of SHA256SUMS, verified_files or
 * last_verified_transfer in "status", a file missing from "pending" (or a
 * size of 0 for it).  What they read comes through the daemon's open group,
 * so nothing of them is handed out before enrp_store_sync_eir() has made
 * the EIR's changes durable (store.c, "What the daemon shows as verified"):
 * once per text rendered, per read request and per size — free when the
 * group holds nothing of the EIR, one commit when it does.
 *
 * Paths in "pending" and "corrupt" are relative to the EIR directory, one
 * per line, with "\\" written as "\\\\" and a newline as "\\n", so every line
 * is one path.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <enrp/codec.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/ns.h>
#include <enrp/snapshot.h>
#include <enrp/status.h>
#include <enrp/units.h>

#include "ns_int.h"
#include "record_int.h"
#include "store_int.h"

#define BATCH_ENTRIES 64           /* directory entries per read transaction */
#define BATCH_BYTES ((size_t)16 << 10) /* text per transaction (plus one line) */
#define KEEP_BYTES ((uint64_t)64 << 10) /* text before the last offset kept */
#define SHRINK_BYTES ((size_t)512 << 10) /* a buffer above this shrinks when idle */

static const char *const file_names[ENRP_STATUS_FILE_COUNT] = {
	[ENRP_STATUS_STATUS] = "status",
	[ENRP_STATUS_SHA256SUMS] = "SHA256SUMS",
	[ENRP_STATUS_PENDING] = "pending",
	[ENRP_STATUS_CORRUPT] = "corrupt",
};

const char *enrp_status_file_name(enum enrp_status_file f)
{
	return (unsigned)f < ENRP_STATUS_FILE_COUNT ? file_names[f] : "?";
}

/* A directory being walked: its inode, and the bytes of the path buffer
 * that lead to it ("a/b/"), of which ESC are '\\' or '\n'. */
struct frame {
	uint64_t dir;
	size_t path_len, path_esc;
};

struct enrp_status_reader {
	enrp_store *st;
	uint32_t eir_id;
	uint64_t root;
	enum enrp_status_file f;

	/* the walk */
	struct frame *stack;
	size_t depth, stack_cap;
	char *path;
	size_t path_cap;
	char cur[ENRP_NAME_MAX]; /* the name last had in the top directory */
	size_t cur_len;          /* 0: none yet */
	bool done;
	uint64_t gen;            /* the EIR's tree_gen when the pass began */
	uint64_t produced;       /* bytes of text this pass made */

	/* the text: bytes [base, base + len) */
	char *buf;
	size_t len, cap;
	uint64_t base;
	bool counting;           /* enrp_status_size: count, keep nothing */

	/* one batch */
	size_t batch_entries, batch_bytes, want;
};

static size_t esc_count(const char *s, size_t n)
{
	size_t e = 0;
	for (size_t i = 0; i < n; i++)
		e += s[i] == '\\' || s[i] == '\n';
	return e;
}

/* Copies N bytes of S to P with backslash and newline escaped; returns the
 * end.  P has room for N plus the escapes. */
static char *put_escaped(char *p, const char *s, size_t n, bool any)
{
	if (n == 0)
		return p; /* S may be NULL: the path buffer before any directory */
	if (!any) {
		memcpy(p, s, n);
		return p + n;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			*p++ = '\\';
			*p++ = '\\';
		} else if (s[i] == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else {
			*p++ = s[i];
		}
	}
	return p;
}

static int buf_reserve(struct enrp_status_reader *r, size_t more)
{
	if (r->cap - r->len >= more)
		return 0;
	size_t cap = r->cap ? r->cap : 4096;
	while (cap - r->len < more) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	char *nb = realloc(r->buf, cap);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->cap = cap;
	return 0;
}

/* ---- the walk ---- */

/* The EIR's tree_gen now, or ENRP_STATUS_NO_GEN when it has no record. */
static uint64_t tree_gen(struct enrp_status_reader *r)
{
	struct enrp_eir_files fc;
	return enrp_eir_files(r->st, r->eir_id, &fc) ? ENRP_STATUS_NO_GEN : fc.tree_gen;
}

static int walk_start(struct enrp_status_reader *r)
{
	if (!r->stack) {
		r->stack = malloc(16 * sizeof(*r->stack));
		if (!r->stack)
			return -ENOMEM;
		r->stack_cap = 16;
	}
	r->stack[0] = (struct frame){ r->root, 0, 0 };
	r->depth = 1;
	r->cur_len = 0;
	r->done = false;
	r->gen = tree_gen(r);
	r->produced = 0;
	return 0;
}

/* Enters directory INO named NAME (LEN bytes) of the top directory. */
static int walk_push(struct enrp_status_reader *r, uint64_t ino, const char *name, size_t len)
{
	const struct frame *top = &r->stack[r->depth - 1];
	size_t plen = top->path_len + len + 1;
	if (r->depth == r->stack_cap) {
		struct frame *ns = realloc(r->stack, 2 * r->stack_cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		r->stack = ns;
		r->stack_cap *= 2;
		top = &r->stack[r->depth - 1];
	}
	if (plen > r->path_cap) {
		size_t cap = r->path_cap ? r->path_cap : 256;
		while (cap < plen)
			cap *= 2;
		char *np = realloc(r->path, cap);
		if (!np)
			return -ENOMEM;
		r->path = np;
		r->path_cap = cap;
	}
	memcpy(r->path + top->path_len, name, len);
	r->path[plen - 1] = '/';
	r->stack[r->depth] = (struct frame){ ino, plen, top->path_esc + esc_count(name, len) };
	r->depth++;
	r->cur_len = 0;
	return 0;
}

/* Leaves the top directory: the walk resumes in its parent after its name,
 * which is the last component of the path buffer. */
static void walk_pop(struct enrp_status_reader *r)
{
	if (r->depth == 1) {
		r->done = true;
		return;
	}
	const struct frame *top = &r->stack[r->depth - 1], *up = &r->stack[r->depth - 2];
	r->cur_len = top->path_len - 1 - up->path_len;
	memcpy(r->cur, r->path + up->path_len, r->cur_len);
	r->depth--;
}

/* Appends (or counts) the line of the file NAME (LEN bytes) of the top
 * directory, whose checksum is SHA (SHA256SUMS only). */
static int emit(struct enrp_status_reader *r, const char *name, size_t len, const uint8_t *sha)
{
	const struct frame *top = &r->stack[r->depth - 1];
	size_t nesc = esc_count(name, len);
	bool esc = top->path_esc || nesc;
	size_t line = top->path_len + top->path_esc + len + nesc + 1;
	if (sha)
		line += 64 + 2 + esc;
	r->batch_bytes += line;
	r->produced += line;
	if (r->counting) {
		return 0;
	}
	int rc = buf_reserve(r, line);
	if (rc)
		return rc;
	char *p = r->buf + r->len;
	if (sha) {
		if (esc)
			*p++ = '\\'; /* sha256sum's mark of an escaped name */
		char hex[65];
		enrp_hex(sha, 32, hex);
		memcpy(p, hex, 64);
		p += 64;
		*p++ = ' ';
		*p++ = ' ';
	}
	p = put_escaped(p, r->path, top->path_len, top->path_esc);
	p = put_escaped(p, name, len, nesc);
	*p++ = '\n';
	r->len = (size_t)(p - r->buf);
	return 0;
}

enum { SCAN_DESCEND = 1, SCAN_PAUSE = 2 };

/* The digest a corrupt file has in SHA256SUMS: all zeros, which no known
 * content has, so `sha256sum -c` reports the file FAILED wherever it runs —
 * against the owner's source files as well as in the mount (where its read
 * fails with EIO).  With its recorded digest the line would pass against
 * the source and say nothing of the damaged copy; left out, the check would
 * pass on one file fewer without a word.  The recorded digest stays in
 * enrp.sha256. */
static const uint8_t no_content[32];

static bool batch_full(const struct enrp_status_reader *r)
{
	return r->batch_entries >= BATCH_ENTRIES || r->batch_bytes >= r->want;
}

static int scan_one(enrp_txn *t, const char *name, size_t len, uint64_t ino, uint32_t type,
                    void *arg)
{
	struct enrp_status_reader *r = arg;
	if (batch_full(r))
		return SCAN_PAUSE;
	r->batch_entries++;
	if (type == S_IFDIR) {
		int rc = walk_push(r, ino, name, len);
		return rc ? rc : SCAN_DESCEND;
	}
	memcpy(r->cur, name, len);
	r->cur_len = len;
	if (type != S_IFREG)
		return 0;
	struct inode_rec rec;
	int rc = ns_inode_get(t, ino, &rec);
	if (rc == -ENOENT)
		return -EIO; /* a dangling dirent is damage */
	if (rc)
		return rc;
	/* The counts' classes, so that each list is as long as its counts say
	 * (enrp_status_size trusts them when they say 0). */
	switch (ns_file_class(&rec)) {
	case ENRP_FILE_OPEN:
	case ENRP_FILE_PENDING:
		return r->f == ENRP_STATUS_PENDING ? emit(r, name, len, NULL) : 0;
	case ENRP_FILE_VERIFIED:
		return r->f == ENRP_STATUS_SHA256SUMS ? emit(r, name, len, rec.sha256) : 0;
	case ENRP_FILE_CORRUPT:
		if (r->f == ENRP_STATUS_SHA256SUMS)
			return emit(r, name, len, no_content);
		return r->f == ENRP_STATUS_CORRUPT ? emit(r, name, len, NULL) : 0;
	default:
		return 0;
	}
}

/* One batch: walks on until BATCH_ENTRIES entries or R->want bytes of text,
 * in one read transaction. */
static int batch_fn(enrp_txn *t, void *arg)
{
	struct enrp_status_reader *r = arg;
	r->batch_entries = r->batch_bytes = 0;
	while (!r->done && !batch_full(r)) {
		const struct frame *top = &r->stack[r->depth - 1];
		int rc = ns_dir_scan(t, top->dir, r->cur, r->cur_len, scan_one, r);
		if (rc < 0)
			return rc;
		if (rc == 0)
			walk_pop(r); /* also when the directory went meanwhile */
	}
	return 0;
}

static int produce(struct enrp_status_reader *r, size_t want)
{
	r->want = want < BATCH_BYTES ? want : BATCH_BYTES;
	if (r->want == 0)
		r->want = 1;
	return enrp_store_read_bulk(r->st, batch_fn, r);
}

/* ---- a snapshot's SHA256SUMS ---- */

/* One directory of a snapshot being walked: its entries, read whole (a
 * snapshot never changes, so there is nothing to resume by name). */
struct snap_level {
	struct snap_ent {
		char *name;
		uint64_t ino;
		mode_t mode;
		bool listed;
		uint8_t sha256[32];
	} *v;
	size_t n, cap, next;
};

static int snap_level_add(const struct enrp_dirent *ent, void *arg)
{
	struct snap_level *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct snap_ent *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	struct snap_ent *e = &l->v[l->n];
	if (!(e->name = strdup(ent->name)))
		return -ENOMEM;
	e->ino = ent->attr.st.st_ino;
	e->mode = ent->attr.st.st_mode;
	/* Every file of the snapshot, a damaged one too: its line then fails
	 * `sha256sum -c`, which is the truth about restoring it. */
	e->listed = S_ISREG(e->mode) && (ent->attr.state == ENRP_FILE_VERIFIED ||
	                                 ent->attr.state == ENRP_FILE_CORRUPT);
	memcpy(e->sha256, ent->attr.sha256, 32);
	l->n++;
	return 0;
}

static void snap_level_release(struct snap_level *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	*l = (struct snap_level){ 0 };
}

int enrp_status_render_snapshot(enrp_store *st, const struct enrp_snapshot *s, char **buf,
                                size_t *len)
{
	struct enrp_eir e;
	struct enrp_status_reader r = { .st = st, .f = ENRP_STATUS_SHA256SUMS };
	struct snap_level *levels = NULL;
	size_t cap = 0;
	*buf = NULL;
	*len = 0;
	int rc = enrp_eir_get(st, s->eir, &e);
	if (rc)
		return rc;
	/* The live walk's path stack and line format; the levels alongside
	 * hold what is left to visit in each directory, so a deep tree costs
	 * heap, not C stack. */
	r.eir_id = e.id;
	r.root = e.root_ino;
	rc = walk_start(&r);
	uint64_t dir = e.root_ino;
	while (rc == 0) {
		if (dir) {
			if (r.depth > cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct snap_level *nl = realloc(levels, ncap * sizeof(*nl));
				if (!nl) {
					rc = -ENOMEM;
					break;
				}
				for (size_t i = cap; i < ncap; i++)
					nl[i] = (struct snap_level){ 0 };
				levels = nl;
				cap = ncap;
			}
			rc = enrp_snapshot_readdir(st, s, dir, snap_level_add, &levels[r.depth - 1]);
			dir = 0;
			continue;
		}
		struct snap_level *l = &levels[r.depth - 1];
		if (l->next == l->n) {
			snap_level_release(l);
			if (r.depth == 1)
				break;
			r.depth--;
			continue;
		}
		const struct snap_ent *ent = &l->v[l->next++];
		size_t nlen = strlen(ent->name);
		if (S_ISDIR(ent->mode)) {
			rc = walk_push(&r, ent->ino, ent->name, nlen);
			dir = ent->ino;
		} else if (ent->listed) {
			rc = emit(&r, ent->name, nlen, ent->sha256);
		}
	}
	for (size_t i = 0; i < cap; i++)
		snap_level_release(&levels[i]);
	free(levels);
	if (rc == 0)
		rc = buf_reserve(&r, 1);
	if (rc == 0) {
		r.buf[r.len] = '\0';
		*buf = r.buf;
		*len = r.len;
		r.buf = NULL;
	}
	free(r.stack);
	free(r.path);
	free(r.buf);
	return rc;
}

/* ---- "status" ---- */

static void put_escaped_str(FILE *out, const char *s)
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
	fprintf(out, "max_files: %llu\n", (unsigned long long)e->max_files);
	fprintf(out, "usage_bytes: %llu\n", (unsigned long long)u.bytes);
	/* How much a new file added to the stored bytes says whether its
	 * chunks were there already: in wo that would confirm guesses about
	 * content the owner may not read, so only enrpctl shows it there. */
	if (e->mode != ENRP_MODE_WO)
		fprintf(out, "stored_bytes: %llu\n", (unsigned long long)u.stored);
	/* Regular files only, so that files = pending + verified + corrupt;
	 * what max_files bounds is every inode. */
	put_count(out, "files", known, fc.open + fc.pending + fc.verified + fc.corrupt);
	fprintf(out, "inodes: %llu\n", (unsigned long long)u.inodes);
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

/* Renders "status" into R's buffer: the whole text, once. */
static int status_fill(struct enrp_status_reader *r, const struct enrp_eir *e)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return -ENOMEM;
	int rc = render_status(r->st, e, out);
	/* fclose finalises text and len; a failed write shows up here. */
	if (fclose(out) != 0 && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(text);
		return rc;
	}
	free(r->buf);
	r->buf = text;
	r->len = len;
	r->cap = len + 1;
	r->base = 0;
	r->done = true;
	return enrp_store_sync_eir(r->st, r->eir_id);
}

/* ---- readers ---- */

int enrp_status_reader_new(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                           enrp_status_reader **out)
{
	struct enrp_eir e;
	*out = NULL;
	if ((unsigned)f >= ENRP_STATUS_FILE_COUNT)
		return -EINVAL;
	int rc = enrp_eir_get_by_id(st, eir_id, &e);
	if (rc)
		return rc;
	enrp_status_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->st = st;
	r->eir_id = eir_id;
	r->root = e.root_ino;
	r->f = f;
	rc = f == ENRP_STATUS_STATUS ? status_fill(r, &e) : walk_start(r);
	if (rc) {
		enrp_status_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void enrp_status_reader_free(enrp_status_reader *r)
{
	if (!r)
		return;
	free(r->stack);
	free(r->path);
	free(r->buf);
	free(r);
}

/* Drops the text before FROM. */
static void discard_before(struct enrp_status_reader *r, uint64_t from)
{
	if (from <= r->base)
		return;
	size_t drop = from - r->base < r->len ? (size_t)(from - r->base) : r->len;
	if (drop == 0)
		return;
	memmove(r->buf, r->buf + drop, r->len - drop);
	r->len -= drop;
	r->base += drop;
}

int enrp_status_reader_get(enrp_status_reader *r, uint64_t off, size_t size, const char **p,
                           size_t *n)
{
	int rc;
	*p = NULL;
	*n = 0;
	if (off < r->base) {
		/* Back before what was kept: a new pass from the start. */
		r->len = 0;
		r->base = 0;
		if (r->f == ENRP_STATUS_STATUS) {
			struct enrp_eir e;
			rc = enrp_eir_get_by_id(r->st, r->eir_id, &e);
			if (rc == 0)
				rc = status_fill(r, &e);
		} else {
			rc = walk_start(r);
		}
		if (rc)
			return rc;
	}
	uint64_t keep_from = off > KEEP_BYTES ? off - KEEP_BYTES : 0;
	discard_before(r, keep_from);
	if (r->cap > SHRINK_BYTES && r->len < r->cap / 4) {
		size_t cap = r->len > 4096 ? r->len : 4096;
		char *nb = realloc(r->buf, cap);
		if (nb) {
			r->buf = nb;
			r->cap = cap;
		}
	}
	uint64_t end = off + size < off ? UINT64_MAX : off + size;
	while (!r->done && r->base + r->len < end) {
		rc = produce(r, (size_t)(end - (r->base + r->len)));
		if (rc)
			return rc;
		discard_before(r, keep_from);
	}
	if ((rc = enrp_store_sync_eir(r->st, r->eir_id)))
		return rc;
	if (off >= r->base + r->len)
		return 0;
	size_t avail = (size_t)(r->base + r->len - off);
	*p = r->buf + (off - r->base);
	*n = avail < size ? avail : size;
	return 0;
}

int enrp_status_render(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                       char **buf, size_t *len)
{
	enrp_status_reader *r;
	*buf = NULL;
	*len = 0;
	int rc = enrp_status_reader_new(st, eir_id, f, &r);
	if (rc)
		return rc;
	/* Nothing is discarded before offset 0: the whole text accumulates. */
	while (rc == 0 && !r->done)
		rc = produce(r, BATCH_BYTES);
	if (rc == 0)
		rc = enrp_store_sync_eir(st, eir_id);
	if (rc == 0)
		rc = buf_reserve(r, 1);
	if (rc == 0) {
		r->buf[r->len] = '\0';
		*buf = r->buf;
		*len = r->len;
		r->buf = NULL;
	}
	enrp_status_reader_free(r);
	return rc;
}

int enrp_status_reader_length(enrp_status_reader *r, uint64_t *len, uint64_t *gen)
{
	if (r->f == ENRP_STATUS_STATUS || !r->done)
		return -EAGAIN;
	*len = r->produced;
	*gen = r->gen;
	if (tree_gen(r) != r->gen)
		*gen = ENRP_STATUS_NO_GEN;
	return 0;
}

int enrp_status_size(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                     uint64_t *size, uint64_t *gen)
{
	uint64_t unused;
	if (!gen)
		gen = &unused;
	*size = 0;
	*gen = ENRP_STATUS_NO_GEN;
	if ((unsigned)f >= ENRP_STATUS_FILE_COUNT)
		return -EINVAL;
	if (f == ENRP_STATUS_STATUS) {
		char *text;
		size_t len;
		int rc = enrp_status_render(st, eir_id, f, &text, &len);
		free(text);
		*size = len;
		return rc;
	}
	/* Every linked file is reachable, so no file in a state means no line. */
	struct enrp_eir_files fc;
	int rc = enrp_eir_files(st, eir_id, &fc);
	if (rc && rc != -ENOENT)
		return rc;
	uint64_t lines = f == ENRP_STATUS_SHA256SUMS ? fc.verified + fc.corrupt
	                 : f == ENRP_STATUS_CORRUPT  ? fc.corrupt
	                                             : fc.open + fc.pending;
	if (rc == 0 && lines == 0) {
		*gen = fc.tree_gen;
		return enrp_store_sync_eir(st, eir_id); /* "nothing pending" */
	}

	enrp_status_reader *r;
	rc = enrp_status_reader_new(st, eir_id, f, &r);
	if (rc)
		return rc;
	r->counting = true;
	while (rc == 0 && !r->done)
		rc = produce(r, BATCH_BYTES);
	if (rc == 0)
		rc = enrp_status_reader_length(r, size, gen);
	if (rc == 0)
		rc = enrp_store_sync_eir(st, eir_id);
	enrp_status_reader_free(r);
	return rc;
}
