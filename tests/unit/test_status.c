/*
 * test_status.c — the .enrp/ files: "status" key: value lines with usage and
 * pending count, "pending" listing the EIR's spool-backed regular files
 * (escaped, relative to the EIR directory, depth first in name order), and
 * the still-empty "SHA256SUMS".  Then the file-state counts behind "status"
 * (kept through every inode change, rebuilt at mount when missing, checked
 * by fsck), and the readers of the lists: read in small pieces they give the
 * text a whole render gives, a deep chain costs no recursion, a read before
 * what a reader kept starts again, files untouched while a reader reads
 * appear exactly once whatever else changes, and the sizes a stat reports
 * are the texts' exact lengths.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <enrp/eir.h>
#include <enrp/fsck.h>
#include <enrp/ns.h>
#include <enrp/status.h>

#include "ns_int.h"
#include "record_int.h"
#include "store_int.h"

#include "../tap.h"

static enrp_store *st;

static char *render(uint32_t id, enum enrp_status_file f, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	*rc = enrp_status_render(st, id, f, &buf, &len);
	if (!*rc && strlen(buf) != len)
		diag("length %zu disagrees with the text", len);
	return buf;
}

static struct enrp_eir_files files_of(uint32_t id)
{
	struct enrp_eir_files f;
	memset(&f, 0xff, sizeof(f));
	if (enrp_eir_files(st, id, &f))
		diag("enrp_eir_files failed");
	return f;
}

struct edit {
	uint64_t ino;
	int what; /* 0 queue, 1 seal, 2 corrupt */
	int64_t when;
};

/* Changes a file's state through ns_inode_put, as the seal workers, the
 * reader and scrub do. */
static int edit_fn(enrp_txn *t, void *arg)
{
	struct edit *e = arg;
	struct inode_rec r;
	int rc = ns_inode_get(t, e->ino, &r);
	if (rc)
		return rc;
	if (e->what == 0) {
		r.flags |= INODE_QUEUED;
	} else if (e->what == 1) {
		r.flags &= ~INODE_QUEUED;
		r.content = ENRP_CONTENT_SEALED;
		r.sealed_at = e->when;
		memset(r.sha256, 0xab, sizeof(r.sha256));
	} else {
		r.flags |= INODE_CORRUPT;
	}
	return ns_inode_put(t, e->ino, &r);
}

static void edit(uint64_t ino, int what, int64_t when)
{
	struct edit e = { ino, what, when };
	if (enrp_store_write(st, edit_fn, &e))
		diag("edit of %llu failed", (unsigned long long)ino);
}

static int drop_files_fn(enrp_txn *t, void *arg)
{
	uint8_t k[KEY_FILES_LEN];
	key_files(k, *(uint32_t *)arg);
	return txn_del(t, DBI_USAGE, k, sizeof(k));
}

/* Counts the file-states findings (the fake seals of edit() have no
 * chunks: fsck rightly says so, which is not what is tested here). */
static void fsck_report(const struct enrp_fsck_finding *f, void *arg)
{
	if (strcmp(f->kind, "file-states") == 0) {
		diag("fsck: %s %s: %s", f->kind, f->object, f->message);
		++*(int *)arg;
	}
}

static uint64_t mkfile(uint64_t dir, const char *name)
{
	struct enrp_stat s;
	struct enrp_caller c = { 1000, 1000, 1 };
	int rc = enrp_ns_mknod(st, &c, dir, name, S_IFREG | 0644, 0, NULL, &s);
	if (rc)
		diag("mknod %s: %d", name, rc);
	return s.st.st_ino;
}

static uint64_t mkdir_(uint64_t dir, const char *name)
{
	struct enrp_stat s;
	struct enrp_caller c = { 1000, 1000, 1 };
	int rc = enrp_ns_mknod(st, &c, dir, name, S_IFDIR | 0755, 0, NULL, &s);
	if (rc)
		diag("mkdir %s: %d", name, rc);
	return s.st.st_ino;
}

/* Reads all of F through a reader, PIECE bytes at a time. */
static char *read_all(uint32_t id, enum enrp_status_file f, size_t piece, size_t *len)
{
	enrp_status_reader *r;
	char *out = NULL;
	size_t n = 0;
	if (enrp_status_reader_new(st, id, f, &r))
		return NULL;
	for (;;) {
		const char *p;
		size_t got;
		if (enrp_status_reader_get(r, n, piece, &p, &got)) {
			free(out);
			out = NULL;
			break;
		}
		if (got == 0)
			break;
		char *no = realloc(out, n + got + 1);
		if (!no)
			break;
		out = no;
		memcpy(out + n, p, got);
		n += got;
		out[n] = '\0';
	}
	enrp_status_reader_free(r);
	*len = n;
	return out ? out : strdup("");
}

static int count_lines(const char *text, const char *line)
{
	int n = 0;
	size_t l = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p += l)
		if ((p == text || p[-1] == '\n') && p[l] == '\n')
			n++;
	return n;
}

static void test_counts(uint32_t id, uint64_t root)
{
	struct enrp_caller c = { 1000, 1000, 1 };
	struct enrp_eir_files f0 = files_of(id), f;
	uint64_t d = mkdir_(root, "counts");
	uint64_t x = mkfile(d, "x"), y = mkfile(d, "y"), z = mkfile(d, "z");
	mkfile(d, "w");
	f = files_of(id);
	is_int((long long)(f.open - f0.open), 4, "counts: four new files are open");
	edit(x, 0, 0);
	edit(y, 0, 0);
	f = files_of(id);
	is_int((long long)(f.pending - f0.pending), 2, "counts: two queued are pending");
	is_int((long long)(f.open - f0.open), 2, "counts: and no longer open");
	edit(x, 1, 1000);
	edit(y, 1, 3000);
	edit(z, 1, 2000);
	f = files_of(id);
	is_int((long long)(f.verified - f0.verified), 3, "counts: three sealed are verified");
	is_int((long long)(f.pending - f0.pending), 0, "counts: none pending");
	is_int(f.last_sealed, 3000, "counts: last_sealed is the latest seal");
	edit(y, 2, 0);
	f = files_of(id);
	is_int((long long)(f.corrupt - f0.corrupt), 1, "counts: a damaged one is corrupt");
	is_int((long long)(f.verified - f0.verified), 2, "counts: and no longer verified");
	struct enrp_stat ls;
	is_int(enrp_ns_link(st, &c, x, d, "x2", &ls), 0, "counts: hard link");
	is_int((long long)(files_of(id).verified - f0.verified), 2, "counts: a link is no new file");
	is_int(enrp_ns_unlink(st, &c, d, "x", false), 0, "counts: unlink one name");
	is_int((long long)(files_of(id).verified - f0.verified), 2, "counts: still linked, still counted");
	is_int(enrp_ns_unlink(st, &c, d, "y", false), 0, "counts: unlink the corrupt file");
	is_int(enrp_ns_unlink(st, &c, d, "x2", false), 0, "counts: unlink the last name of x");
	f = files_of(id);
	is_int((long long)(f.verified - f0.verified), 1, "counts: gone files are not counted");
	is_int((long long)(f.corrupt - f0.corrupt), 0, "counts: nor corrupt ones");
	is_int(f.last_sealed, 3000, "counts: last_sealed stays when that file goes");

	/* A store written before the counts: rebuilt at mount, then exact. */
	is_int(enrp_store_write(st, drop_files_fn, &id), 0, "counts: drop the record");
	struct enrp_eir_files g;
	is_int(enrp_eir_files(st, id, &g), -ENOENT, "counts: a missing record is -ENOENT");
	char *buf;
	size_t len;
	int rc = enrp_status_render(st, id, ENRP_STATUS_STATUS, &buf, &len);
	ok(rc == 0 && strstr(buf, "\npending_files: unknown\n"), "status says unknown meanwhile");
	free(buf);
	edit(z, 2, 0); /* a change meanwhile is not half-counted */
	is_int(enrp_eir_files(st, id, &g), -ENOENT, "counts: a change does not create it");
	is_int(enrp_ns_recover(st, NULL, NULL), 0, "counts: recover at mount");
	g = files_of(id);
	is_int((long long)g.corrupt, 1, "counts: rebuilt corrupt");
	is_int((long long)g.verified, (long long)f.verified - 1, "counts: rebuilt verified");
	is_int((long long)g.open, (long long)f.open, "counts: rebuilt open");
	is_int((long long)g.pending, (long long)f.pending, "counts: rebuilt pending");
	is_int(g.last_sealed, 2000, "counts: rebuilt last_sealed from the live files");

	struct enrp_fsck_result res;
	int wrong = 0;
	is_int(enrp_fsck(st, 0, NULL, fsck_report, &wrong, &res), 0, "counts: fsck runs");
	is_int(wrong, 0, "counts: fsck finds the counts right");
}

/* Damage the owner sees: a corrupt file is in "corrupt", counted in
 * corrupt_files, and in SHA256SUMS with 64 zeros so `sha256sum -c` fails on
 * it; a rewrite stuck on a damaged base (a spool file marked corrupt) is
 * corrupt too, not pending.  Every file is in exactly one list, and the
 * sizes agree with the texts. */
static void test_damage(uint32_t id, uint64_t root)
{
	int rc;
	uint64_t d = mkdir_(root, "dmg");
	uint64_t ok_ = mkfile(d, "ok"), bad = mkfile(d, "bad\\x"), stuck = mkfile(d, "stuck");
	mkfile(d, "open");
	edit(ok_, 1, 7000);
	edit(bad, 1, 7001);
	edit(bad, 2, 0);
	edit(stuck, 2, 0); /* a spool file whose base failed its check */
	char *buf = render(id, ENRP_STATUS_CORRUPT, &rc);
	is_int(rc, 0, "damage: corrupt renders");
	is_str(buf, "dmg/bad\\\\x\ndmg/stuck\n", "damage: corrupt lists both, escaped");
	free(buf);
	buf = render(id, ENRP_STATUS_PENDING, &rc);
	is_str(buf, "dmg/open\n", "damage: pending lists neither");
	free(buf);
	static const char z[] = "0000000000000000000000000000000000000000000000000000000000000000";
	char want[512];
	snprintf(want, sizeof(want),
	         "\\%s  dmg/bad\\\\x\n"
	         "abababababababababababababababababababababababababababababababab  dmg/ok\n"
	         "%s  dmg/stuck\n", z, z);
	buf = render(id, ENRP_STATUS_SHA256SUMS, &rc);
	is_str(buf, want, "damage: SHA256SUMS gives corrupt files 64 zeros");
	free(buf);
	buf = render(id, ENRP_STATUS_STATUS, &rc);
	ok(buf && strstr(buf, "\ncorrupt_files: 2\n"), "damage: status corrupt_files 2");
	ok(buf && strstr(buf, "\nverified_files: 1\n"), "damage: status verified_files 1");
	ok(buf && strstr(buf, "\npending_files: 1\n"), "damage: status pending_files 1");
	free(buf);
	uint64_t size;
	size_t wlen;
	for (int f = ENRP_STATUS_SHA256SUMS; f <= ENRP_STATUS_CORRUPT; f++) {
		is_int(enrp_status_size(st, id, f, &size, NULL), 0, "damage: size of %s",
		       enrp_status_file_name(f));
		is_int(enrp_status_render(st, id, f, &buf, &wlen), 0, "damage: render %s",
		       enrp_status_file_name(f));
		ok(size == wlen, "damage: size of %s is its length", enrp_status_file_name(f));
		free(buf);
	}
	struct enrp_stat s;
	is_int(enrp_ns_getattr(st, bad, &s), 0, "damage: getattr");
	ok(s.state == ENRP_FILE_CORRUPT && s.st.st_mtim.tv_sec == ENRP_CORRUPT_MTIME &&
	   s.st.st_mtim.tv_nsec == 0, "damage: a corrupt file shows the epoch as its mtime");
	is_int(enrp_ns_getattr(st, ok_, &s), 0, "damage: getattr");
	ok(s.st.st_mtim.tv_sec > 1000000000, "damage: a verified file shows its own");

	/* Healed (scrub found it clean, or it was sealed anew): listed no more. */
	struct enrp_caller c = { 1000, 1000, 1 };
	is_int(enrp_ns_unlink(st, &c, d, "stuck", false), 0, "damage: unlink the stuck file");
	size = 1;
	is_int(enrp_status_size(st, id, ENRP_STATUS_CORRUPT, &size, NULL), 0, "damage: size");
	ok(size == strlen("dmg/bad\\\\x\n"), "damage: corrupt shrinks to one line");
}

/* The readers: pieces, deep chains, restarts, concurrent changes, sizes. */
static void test_readers(uint32_t id, uint64_t root)
{
	size_t len, wlen;
	char *whole, *pieces;
	uint64_t top = mkdir_(root, "tree");
	char name[64];
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		uint64_t ino = mkfile(top, name);
		if (i % 3 == 0)
			edit(ino, 1, 5000 + i);
	}
	uint64_t size, gen, gen2, tlen;
	is_int(enrp_status_size(st, id, ENRP_STATUS_SHA256SUMS, &size, &gen), 0, "size of sums");
	is_int(enrp_status_render(st, id, ENRP_STATUS_SHA256SUMS, &whole, &wlen), 0, "render sums");
	ok(size == wlen && wlen > 0, "SHA256SUMS size %llu is the text's %zu",
	   (unsigned long long)size, wlen);
	free(whole);
	ok(gen == files_of(id).tree_gen, "the size holds for the EIR's tree_gen");

	/* A reader at the end of a pass knows the length too, for that gen. */
	enrp_status_reader *rr;
	const char *pp;
	size_t nn, pos = 0;
	is_int(enrp_status_reader_new(st, id, ENRP_STATUS_SHA256SUMS, &rr), 0, "a reader");
	is_int(enrp_status_reader_length(rr, &tlen, &gen2), -EAGAIN, "no length before the end");
	while (enrp_status_reader_get(rr, pos, 1000, &pp, &nn) == 0 && nn)
		pos += nn;
	is_int(enrp_status_reader_length(rr, &tlen, &gen2), 0, "a length at the end");
	ok(tlen == size && gen2 == gen, "the same length and gen as the count");
	enrp_status_reader_free(rr);

	/* Reading and sealing elsewhere... only changes move tree_gen. */
	is_int((long long)files_of(id).tree_gen, (long long)gen, "reads leave tree_gen alone");
	mkfile(top, "new");
	ok(files_of(id).tree_gen != gen, "a create moves it");
	gen = files_of(id).tree_gen;
	edit(mkfile(top, "new2"), 1, 1);
	ok(files_of(id).tree_gen != gen, "a create and a seal move it");

	/* A change during the pass: the length is not for any gen. */
	is_int(enrp_status_reader_new(st, id, ENRP_STATUS_SHA256SUMS, &rr), 0, "a reader");
	pos = 0;
	while (enrp_status_reader_get(rr, pos, 1000, &pp, &nn) == 0 && nn) {
		pos += nn;
		if (pos < 2000 && pos + nn >= 1000)
			mkfile(top, "during");
	}
	is_int(enrp_status_reader_length(rr, &tlen, &gen2), 0, "a length at the end");
	ok(gen2 == ENRP_STATUS_NO_GEN, "but no gen: the EIR changed during the pass");
	enrp_status_reader_free(rr);

	/* A chain deeper than any recursion would like, a file every 100
	 * levels and two at the bottom. */
	uint64_t d = top;
	for (int i = 0; i < 4500; i++) {
		d = mkdir_(d, i % 2 ? "a" : "bb");
		if (i % 100 == 50)
			mkfile(d, "mid");
	}
	mkfile(d, "deep");
	mkfile(d, "back\\slash");

	is_int(enrp_status_render(st, id, ENRP_STATUS_PENDING, &whole, &wlen), 0, "render pending");
	pieces = read_all(id, ENRP_STATUS_PENDING, 97, &len);
	ok(pieces && len == wlen && memcmp(pieces, whole, len) == 0,
	   "pending read in 97-byte pieces is the rendered text (%zu bytes)", wlen);
	ok(strstr(whole, "/bb/a/deep\n") != NULL, "the deep file is listed with its path");
	ok(strstr(whole, "/bb/a/back\\\\slash\n") != NULL, "and a name with a backslash escaped");
	free(pieces);
	free(whole);

	is_int(enrp_status_render(st, id, ENRP_STATUS_SHA256SUMS, &whole, &wlen), 0, "render sums");
	pieces = read_all(id, ENRP_STATUS_SHA256SUMS, 4096, &len);
	ok(pieces && len == wlen && memcmp(pieces, whole, len) == 0,
	   "SHA256SUMS read in 4 KiB pieces is the rendered text");
	char sum[128];
	for (int i = 0; i < 32; i++)
		memcpy(sum + 2 * i, "ab", 2);
	strcpy(sum + 64, "  tree/f000");
	is_int(count_lines(whole, sum), 1, "a sealed file is listed with its sum");
	strcpy(sum + 64, "  tree/f001");
	is_int(count_lines(whole, sum), 0, "an open one is not");
	free(pieces);
	free(whole);

	is_int(enrp_status_render(st, id, ENRP_STATUS_PENDING, &whole, &wlen), 0, "render pending");
	is_int(enrp_status_size(st, id, ENRP_STATUS_PENDING, &size, NULL), 0, "size of pending");
	ok(size == wlen, "pending behind a 4500-level chain: size %llu is the text's %zu",
	   (unsigned long long)size, wlen);
	free(whole);

	/* A read before what a reader kept starts again; then continues. */
	enrp_status_reader *r;
	const char *p;
	size_t n;
	is_int(enrp_status_reader_new(st, id, ENRP_STATUS_PENDING, &r), 0, "reader");
	is_int(enrp_status_reader_get(r, 200000, 10, &p, &n), 0, "read far ahead");
	ok(n == 10, "got 10 bytes there");
	char at[11] = { 0 };
	memcpy(at, p, n);
	is_int(enrp_status_reader_get(r, 5, 10, &p, &n), 0, "read back near the start");
	enrp_status_render(st, id, ENRP_STATUS_PENDING, &whole, &wlen);
	ok(n == 10 && memcmp(p, whole + 5, 10) == 0, "the restarted pass gives the same bytes");
	ok(wlen > 200010 && memcmp(at, whole + 200000, 10) == 0, "and so did the far read");
	free(whole);
	enrp_status_reader_free(r);

	/* Untouched files appear exactly once whatever changes mid-read. */
	struct enrp_caller c = { 1000, 1000, 1 };
	uint64_t flat = mkdir_(root, "flat");
	for (int i = 0; i < 1200; i++) {
		snprintf(name, sizeof(name), "n%04d", i);
		mkfile(flat, name);
	}
	is_int(enrp_status_reader_new(st, id, ENRP_STATUS_PENDING, &r), 0, "reader of a flat dir");
	char *text = NULL;
	size_t tl = 0;
	int changes = 0;
	for (;;) {
		if (enrp_status_reader_get(r, tl, 512, &p, &n) || n == 0)
			break;
		text = realloc(text, tl + n + 1);
		memcpy(text + tl, p, n);
		tl += n;
		text[tl] = '\0';
		if (tl > 3000 && changes < 40) {
			/* Behind and ahead of the reader: remove, create, rename. */
			int k = changes++;
			snprintf(name, sizeof(name), "n%04d", k * 2);
			enrp_ns_unlink(st, &c, flat, name, false);
			snprintf(name, sizeof(name), "n%04d", 1199 - k * 2);
			enrp_ns_unlink(st, &c, flat, name, false);
			snprintf(name, sizeof(name), "m%04d", k);
			mkfile(flat, name);
			char to[64];
			snprintf(name, sizeof(name), "n%04d", 1 + k * 2);
			snprintf(to, sizeof(to), "z%04d", k);
			enrp_ns_rename(st, &c, flat, name, flat, to, 0);
		}
	}
	enrp_status_reader_free(r);
	int bad = 0;
	for (int i = 0; i < 1200; i++) {
		bool touched = (i < 80 && i % 2 == 0) || (i >= 1120 && i % 2 == 1) ||
		               (i < 80 && i % 2 == 1);
		if (touched)
			continue;
		char line[64];
		snprintf(line, sizeof(line), "flat/n%04d", i);
		if (count_lines(text ? text : "", line) != 1)
			bad++;
	}
	ok(changes == 40, "the changes happened mid-read");
	is_int(bad, 0, "every untouched file of the flat dir appears exactly once");
	free(text);
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];
	struct enrp_actor actor;
	struct enrp_eir spec, e;
	struct enrp_stat a, d, sub;
	struct enrp_caller owner = { 1000, 1000, 1 };
	int rc;

	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	/* Group commit, as in enrpfs: thousands of creates in seconds. */
	if (enrp_store_create(path) || enrp_store_open(path, ENRP_STORE_GROUP_COMMIT, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_status");

	is_str(enrp_status_file_name(ENRP_STATUS_STATUS), "status", "name of status");
	is_str(enrp_status_file_name(ENRP_STATUS_SHA256SUMS), "SHA256SUMS", "name of SHA256SUMS");
	is_str(enrp_status_file_name(ENRP_STATUS_PENDING), "pending", "name of pending");
	is_str(enrp_status_file_name(ENRP_STATUS_CORRUPT), "corrupt", "name of corrupt");

	enrp_eir_defaults(&spec, "billing");
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	spec.eir_class = 2;
	spec.quota = 1 << 20;
	is_int(enrp_eir_create(st, &spec, &actor, &e), 0, "create billing");

	char *buf = render(e.id, ENRP_STATUS_PENDING, &rc);
	ok(rc == 0 && buf && buf[0] == '\0', "pending of an empty EIR is empty");
	free(buf);

	is_int(enrp_ns_mknod(st, &owner, e.root_ino, "a", S_IFREG | 0644, 0, NULL, &a), 0, "file a");
	is_int(enrp_ns_mknod(st, &owner, e.root_ino, "d", S_IFDIR | 0755, 0, NULL, &d), 0, "dir d");
	is_int(enrp_ns_mknod(st, &owner, d.st.st_ino, "b\\x\nc", S_IFREG | 0644, 0, NULL, &sub), 0,
	       "file with a backslash and a newline in its name");
	is_int(enrp_ns_mknod(st, &owner, d.st.st_ino, "link", S_IFLNK | 0777, 0, "a", &sub), 0,
	       "symlink (not a pending file)");
	is_int(enrp_ns_mknod(st, &owner, d.st.st_ino, "e", S_IFDIR | 0755, 0, NULL, &sub), 0,
	       "dir d/e");
	is_int(enrp_ns_mknod(st, &owner, sub.st.st_ino, "f", S_IFREG | 0600, 0, NULL, &sub), 0,
	       "file d/e/f");

	buf = render(e.id, ENRP_STATUS_PENDING, &rc);
	is_int(rc, 0, "pending renders");
	is_str(buf, "a\nd/b\\\\x\\nc\nd/e/f\n", "pending lists every spool file, escaped");
	free(buf);

	buf = render(e.id, ENRP_STATUS_STATUS, &rc);
	is_int(rc, 0, "status renders");
	static const char head[] = "eir: billing\nmode: rw\nstate: normal\nclass: 2\n"
	                           "owner_uid: 1000\nquota: 1048576\n";
	ok(buf && strncmp(buf, head, strlen(head)) == 0, "status: identity, mode, state, quota");
	ok(buf && strstr(buf, "\npending_files: 3\n"), "status: pending_files counts the files");
	ok(buf && strstr(buf, "\nusage_bytes: "), "status: usage_bytes");
	ok(buf && strstr(buf, "\nfiles: "), "status: files");
	ok(buf && !strstr(buf, "escalated_until"), "status: no escalation line when not escalated");
	ok(buf && !strstr(buf, "state_reason"), "status: no state_reason when normal");
	ok(buf && strstr(buf, "\nlast_verified_transfer: none\n"), "status: last verified transfer");
	free(buf);

	buf = render(e.id, ENRP_STATUS_SHA256SUMS, &rc);
	ok(rc == 0 && buf && buf[0] == '\0', "SHA256SUMS is empty until files are sealed");
	free(buf);

	buf = (char *)1;
	size_t len = 1;
	is_int(enrp_status_render(st, 999, ENRP_STATUS_STATUS, &buf, &len), -ENOENT,
	       "unknown EIR: -ENOENT");
	ok(buf == NULL && len == 0, "and no buffer");
	is_int(enrp_status_render(st, e.id, (enum enrp_status_file)7, &buf, &len), -EINVAL,
	       "unknown file: -EINVAL");

	struct enrp_eir dmg;
	enrp_eir_defaults(&spec, "damage");
	spec.owner_uid = 1000;
	spec.owner_gid = 1000;
	is_int(enrp_eir_create(st, &spec, &actor, &dmg), 0, "create damage");
	test_damage(dmg.id, dmg.root_ino);
	test_counts(e.id, e.root_ino);
	test_readers(e.id, e.root_ino);

	enrp_store_close(st);
	tap_rmrf(tmp);
	return done_testing();
}
