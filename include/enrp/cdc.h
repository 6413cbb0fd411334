/*
 * cdc.h — content-defined chunking (FastCDC): where to cut a file into
 * chunks so that an insertion or deletion changes only the chunks around it
 * and every other chunk deduplicates against the previous version.
 *
 * Boundaries are a pure function of the bytes, the parameters and the gear
 * table named by enrp_cdc_gear_id().  Changing any of the three changes
 * (almost) every boundary, so a store records all of them and only
 * deduplicates between files chunked the same way.
 *
 * Thread-safety: every function here is pure and may be called from any
 * thread at any time; there is no state to set up or tear down.
 */
#ifndef ENRP_CDC_H
#define ENRP_CDC_H

#include <stddef.h>
#include <stdint.h>

/* Chunk sizes in bytes.  Kept on the stack by callers; check with
 * enrp_cdc_validate() before use.
 *   min_size  no chunk is shorter, except the last chunk of a stream;
 *   avg_size  the target ("normal") size, a power of two: below it a byte is
 *             a cut point with probability 1/(4 avg), above it 4/avg, which
 *             pulls sizes towards it (the mean lands near avg_size);
 *   max_size  no chunk is longer; a run without content cut points (zeros)
 *             is cut every max_size bytes. */
struct enrp_cdc_params {
	uint32_t min_size, avg_size, max_size;
};

#define ENRP_CDC_MIN_DEFAULT (64u << 10)
#define ENRP_CDC_AVG_DEFAULT (256u << 10)
#define ENRP_CDC_MAX_DEFAULT (2u << 20)

/* Fills P with the defaults (64 KiB, 256 KiB, 2 MiB). */
void enrp_cdc_defaults(struct enrp_cdc_params *p);

/* 0 if P may be passed to enrp_cdc_next(); -EINVAL if P is NULL or unless
 * 64 <= min < avg < max <= 64 MiB and avg is a power of two. */
int enrp_cdc_validate(const struct enrp_cdc_params *p);

/* Length of the next chunk at the start of BUF[0..N).  The caller passes at
 * least min(max_size, bytes left in the stream) bytes; when N < max_size the
 * caller asserts BUF ends the stream (EOF), so a short tail is one chunk.
 * Passing more than max_size bytes is allowed and gives the same answer as
 * passing exactly max_size.  Returns a value in [1, N] (0 only when N is 0);
 * never more than max_size.  Reads no byte at or past BUF + min(N, max_size).
 * P must have passed enrp_cdc_validate() (asserted).  Pure and thread-safe. */
size_t enrp_cdc_next(const struct enrp_cdc_params *p, const uint8_t *buf, size_t n);

/* The gear table identity recorded in the store ("gear-splitmix64-v1"), so a
 * store chunked with one table is never deduplicated against another.  A
 * static string. */
const char *enrp_cdc_gear_id(void);

#ifdef ENRP_INTERNAL
/* The 256-entry gear table, so the tests can check it against its
 * generator.  Static storage. */
const uint64_t *enrp_cdc_gear_table(void);

/* The two masks enrp_cdc_next() uses for P (which must be valid): *S below
 * avg_size, *L from avg_size on. */
void enrp_cdc_masks(const struct enrp_cdc_params *p, uint64_t *s, uint64_t *l);
#endif

#endif
