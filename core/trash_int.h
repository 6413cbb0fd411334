/* trash_int.h — trash as the namespace, the seal pipeline and fsck see it
 * (trash.c). */
#ifndef ENRP_TRASH_INT_H
#define ENRP_TRASH_INT_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/trash.h>

#include "record_int.h"
#include "store_int.h"

/* What the namespace knows when a file's last name goes: kept as the value
 * of its DBI_ORPHAN entry until the orphan is freed (by then the name is
 * gone).  An empty value (orphans of older stores, fsck repairs) decodes as
 * "deleted, name not known". */
struct trash_note {
	enum enrp_trash_why why;
	uint64_t parent;
	int64_t at;
	char name[ENRP_NAME_MAX + 1];
};
/* A note's WHY beyond enum enrp_trash_why: retention removed the file
 * (files=DAYS have passed since its seal), so its copy does not go to
 * trash.  A binary that does not know it reads the note as damaged and
 * keeps the copy in trash: the safe side. */
#define TRASH_NOTE_EXPIRED ENRP_TRASH_WHY_COUNT
int trash_note_encode(const struct trash_note *n, struct rec_out *o);
int trash_note_decode(const void *p, size_t len, struct trash_note *n);

/* Drops the chunk list of regular file INO (record R, sealed): into a new
 * trash entry with its references when R is verified (not corrupt), else
 * released as extent_release() does.  One put (the entry) and one delete
 * (the list).  NOTE says why; its AT 0 means now. */
int trash_or_release(enrp_txn *t, uint64_t ino, const struct inode_rec *r,
                     const struct trash_note *note);

/* A DBI_TRASH record as fsck reads it: the EIR id and trash id from the
 * key, the entry and its chunk list (*V, caller frees) from the value.
 * -EIO when either does not decode. */
int trash_record_decode(const void *key, size_t klen, const void *val, size_t vlen,
                        uint32_t *eir_id, struct enrp_trash_entry *e, struct extent_ent **v,
                        size_t *n);

#endif
