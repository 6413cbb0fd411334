/*
 * sealstate_int.h — SHA-256 states saved along a seal, so that the reseal
 * of a rewritten or appended file resumes from the last state before its
 * first change instead of reading, checking and hashing every byte again.
 *
 * A seal keeps a trail of states at chunk boundaries: one every few MiB (at
 * most TRAIL_MAX, spaced wider as the file grows) and one at the file's end.
 * Once the seal is committed the trail is published for its inode, replacing
 * the one before.  A reseal whose base is that seal's chunk list takes the
 * base's chunks before the state as they are and hashes on from it.
 *
 * The states live in the daemon's memory only (a bounded cache; a restart
 * or an eviction only costs a whole reseal), and they are checked before
 * use against the base they are taken for: the same list length and size,
 * a chunk boundary at the state, and the digest of the chunk that ends
 * there.  The states' own integrity is the process's: they are never
 * written anywhere.
 */
#ifndef ENRP_SEALSTATE_INT_H
#define ENRP_SEALSTATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/codec.h>

#include "record_int.h"

struct seal_trail_ent {
	uint64_t pos;       /* the state hashes [0, pos); a chunk boundary */
	uint8_t digest[32]; /* of the chunk that ends at pos (set when published) */
	enrp_sha256 *sha;
};

/* The states one seal collects. */
struct seal_trail {
	struct seal_trail_ent *v;
	size_t n, cap;
	uint64_t step; /* bytes between two kept states (grows as they thin) */
};

/* Saves SHA's state at POS, a chunk boundary, if POS is far enough past the
 * last saved one (or FORCE: the file's end).  0 or -ENOMEM/-EIO (the seal
 * goes on without it either way). */
int seal_trail_add(struct seal_trail *t, uint64_t pos, const enrp_sha256 *sha, bool force);
void seal_trail_free(struct seal_trail *t);

struct seal_states;

/* A cache of the trails of at most MAX_FILES files.  -ENOMEM. */
int seal_states_new(size_t max_files, struct seal_states **out);
void seal_states_free(struct seal_states *c);

/* INO was sealed as the list V of N entries: its trail T (taken; T is left
 * empty) replaces any before.  States not at the end of a data chunk of V
 * are dropped; the others learn that chunk's digest. */
void seal_states_put(struct seal_states *c, uint64_t ino, const struct extent_ent *v, size_t n,
                     struct seal_trail *t);

/* For a reseal of INO whose base is the list V (N entries at offsets OFFS,
 * OFFS[N] its size), unchanged in [0, UNCHANGED): the last saved state at
 * or before UNCHANGED that fits that base.  On true, SHA holds it, *POS is
 * where it stands and *IDX the base entries before it; the states before
 * it are copied into INTO (the new seal's trail).  False: none fits. */
bool seal_states_resume(struct seal_states *c, uint64_t ino, const struct extent_ent *v,
                        const uint64_t *offs, size_t n, uint64_t unchanged, enrp_sha256 *sha,
                        uint64_t *pos, size_t *idx, struct seal_trail *into);

#endif
