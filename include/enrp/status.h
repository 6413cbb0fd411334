/*
 * status.h — the contents of the read-only files under EIR/.enrp/:
 * "status" (key: value lines), "SHA256SUMS", "pending" and "corrupt".
 *
 * A linked regular file of the EIR is in exactly one list: "pending" (open
 * or queued for checksumming), "corrupt" (a chunk failed its check), or
 * SHA256SUMS with its checksum (verified).  SHA256SUMS lists every corrupt
 * file too, with a digest of 64 zeros, so `sha256sum -c` fails on it.
 *
 * "status" is rendered whole from counters (constant cost).  The two lists
 * are walks of the EIR's tree, produced as they are read in batches of short
 * read transactions, so reading them costs memory bounded by the depth of
 * the tree and the size of a read, never the length of the list, and never
 * holds the store's lock for long (see core/status.c for the promise a
 * reader makes about files that change while it reads, and why a stat
 * counts a list's size instead of guessing it).
 *
 * Thread-safety: the functions may be called from any thread; one reader is
 * used by one thread at a time.
 */
#ifndef ENRP_STATUS_H
#define ENRP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/store.h>

enum enrp_status_file {
	ENRP_STATUS_STATUS,
	ENRP_STATUS_SHA256SUMS,
	ENRP_STATUS_PENDING,
	ENRP_STATUS_CORRUPT,
};

#define ENRP_STATUS_FILE_COUNT 4

/* "status", "SHA256SUMS", "pending", "corrupt". */
const char *enrp_status_file_name(enum enrp_status_file f);

/* An open text of one of the files. */
typedef struct enrp_status_reader enrp_status_reader;

/* Opens a reader of file F of EIR ID.  "status" is rendered now; a list is
 * walked as it is read.  -ENOENT no such EIR, -EINVAL unknown F, -ENOMEM.
 * The caller frees it with enrp_status_reader_free(). */
int enrp_status_reader_new(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                           enrp_status_reader **out);

/* The text at offset OFF, at most SIZE bytes: *P points at them (borrowed:
 * valid until the next call on R) and *N is their count, 0 at the end.  A
 * read continues the text where the previous one ended; a read before the
 * last 64 KiB already read starts the text again from the beginning.
 * -ENOMEM, or -errno of the store (-EIO for damage). */
int enrp_status_reader_get(enrp_status_reader *r, uint64_t off, size_t size, const char **p,
                           size_t *n);

/* NULL is a no-op. */
void enrp_status_reader_free(enrp_status_reader *r);

/* Renders file F of EIR ID whole into a new, NUL-terminated buffer (*BUF,
 * *LEN), which the caller frees with free().  -ENOENT no such EIR, -EINVAL
 * unknown F, -ENOMEM.  (Tests and small texts: a list is as long as the
 * EIR's paths.) */
int enrp_status_render(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                       char **buf, size_t *len);

struct enrp_snapshot;
/* Renders the SHA256SUMS of snapshot S whole, in the format of the live
 * list (same escapes, depth first in name order), into a new,
 * NUL-terminated buffer (*BUF, *LEN) the caller frees with free(): every
 * regular file of the snapshot, a damaged one too (its line then fails
 * `sha256sum -c`).  A snapshot never changes, so a snapshot mount renders
 * it once.  -ENOENT no such EIR or snapshot, -ENOMEM, -errno of the store. */
int enrp_status_render_snapshot(enrp_store *st, const struct enrp_snapshot *s, char **buf,
                                size_t *len);

/* A tree generation that no EIR has: "the EIR changed meanwhile". */
#define ENRP_STATUS_NO_GEN UINT64_MAX

/* The exact size of file F of EIR ID, without building its text: "status"
 * is rendered (it is small); a list is 0 at once when the file-state counts
 * say it has no line, and otherwise its length is counted by a walk of the
 * tree in the batches a reader uses (time linear in the EIR's entries,
 * memory in its depth).  *GEN (may be NULL) gets the EIR's tree_gen (struct
 * enrp_eir_files) the size holds for: a list's size stays right while the
 * EIR's tree_gen does, so a caller may keep it; ENRP_STATUS_NO_GEN for
 * "status" and when the EIR changed during the count.  It may differ from
 * what a later read gives if the EIR changes in between.  Errors as
 * enrp_status_reader_new. */
int enrp_status_size(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                     uint64_t *size, uint64_t *gen);

/* Once a reader has reached the end of a list in one pass: the length of
 * its text and the tree_gen it holds for (as enrp_status_size gives them),
 * or -EAGAIN when it has not reached the end, *GEN ENRP_STATUS_NO_GEN when
 * the EIR changed during the pass. */
int enrp_status_reader_length(enrp_status_reader *r, uint64_t *len, uint64_t *gen);

#endif
