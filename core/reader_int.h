/*
 * reader_int.h — the decoded-chunk cache and its decoder pool, shared by
 * sealed-file readers (reader.c) and the copy-back of ingest.c.
 */
#ifndef ENRP_READER_INT_H
#define ENRP_READER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/codec.h>
#include <enrp/eir.h>
#include <enrp/ingest.h>
#include <enrp/store.h>
#include <enrp/vault.h>

struct chunk_cache;

/* A cache of at most CACHE_BYTES decoded bytes with DECODERS read-ahead
 * threads (0: no read-ahead; readers decode for themselves).  ACTOR signs
 * the "chunk-damaged" records.  -ENOMEM, -errno of pthread_create. */
int chunk_cache_open(enrp_store *st, enrp_vault *vault, size_t cache_bytes, unsigned decoders,
                     const struct enrp_actor *actor, struct chunk_cache **out);
/* Stops the decoders and frees.  NULL ok. */
void chunk_cache_close(struct chunk_cache *cc);

/* Reads, verifies and decodes chunk DIGEST of EIR into a new buffer of
 * PLAIN_LEN bytes (caller frees).  Bypasses the cache: for copy-back, which
 * reads every chunk once.  -EBADMSG, -ENOENT, -EIO as chunk_fetch, -ENOMEM. */
int chunk_cache_load(struct chunk_cache *cc, uint32_t eir_id, const struct enrp_eir_key *key,
                     const uint8_t digest[32], uint32_t plain_len, uint8_t **out);

/* A chunk of INO failed its check (ERR): marks the file corrupt and
 * journals "chunk-damaged" the first time. */
void chunk_cache_mark_corrupt(struct chunk_cache *cc, uint64_t ino, const uint8_t digest[32],
                              int err);

/* A based reader's base (core/base_int.h): its list V of N entries at
 * offsets OFFS (OFFS[N] is its size).  What a reseal may take over as it
 * is: the base's bytes before UNCHANGED (the first chunk copied into the
 * spool file, or the limit), and those from TAIL (past the last chunk
 * copied in) to the end, if the limit is still the base's end (0: no such
 * tail). */
struct extent_ent;
struct base_shape {
	const struct extent_ent *v;
	const uint64_t *offs;
	size_t n;
	uint64_t unchanged, tail;
};
/* -EINVAL for a reader of no base, -ESTALE once the file was sealed again. */
int reader_base_shape(enrp_reader *r, struct base_shape *out);
/* Only V, OFFS and N of that (no transaction): -EINVAL for no base. */
int reader_base_list(enrp_reader *r, struct base_shape *out);
/* Hashes the bytes of data chunk E of R's base list (reader_base_list)
 * into SHA, checked as every read of it is, where the chunk cache holds
 * them (lent, not copied), and starts the read-ahead of the chunks after
 * it.  -EIO for a damaged chunk, marked as a read marks it; -EINVAL for no
 * data chunk of that list. */
int reader_base_chunk_hash(enrp_reader *r, const struct extent_ent *e, enrp_sha256 *sha);

/* ingest.c: the cache of the pipeline ING. */
struct chunk_cache *ingest_chunk_cache(enrp_ingest *ing);

#endif
