/*
 * journal_segment.h — a piece of the audit journal exported for archiving,
 * checkable offline without the store (DESIGN.md §7, docs/design.md).
 *
 * A segment is text, one item per line, each line "KEYWORD FIELDS...":
 *
 *   enrp-journal-segment 1             format and its version (first line)
 *   journal ID                         the journal's name (enrp/journal.h):
 *                                      checked against record 1 when the
 *                                      segment starts there; otherwise it
 *                                      only says which anchors apply
 *   exported TIME from TIME to TIME    when and what was asked (informative)
 *   anchor SEQ:HASH                    the record before the first one:
 *                                      the first record's previous-hash must
 *                                      be HASH ("0:" and 64 zeros before
 *                                      record 1)
 *   record SEQ HASH BASE64             each record, in order: its exact
 *                                      stored bytes (RFC 4648 base64) and the
 *                                      SHA-256 of those bytes
 *   end COUNT SEQ:HASH                 how many records, and the last one
 *                                      (the head after the segment)
 *
 * HASH is 64 lower-case hex digits, TIME RFC 3339 UTC, every line ends in
 * a newline; nothing else is accepted, so that no byte outside the
 * "exported" line can change without failing the check.  A record's bytes
 * are those its hash in the journal is over (core/record.c), so the check
 * needs nothing of the store: SHA-256 of each record's bytes, its seq and
 * previous-hash fields (bytes 1..8 big-endian, and the last 32 bytes), and
 * the chain from the anchor to the end line.
 */
#ifndef ENRP_JOURNAL_SEGMENT_H
#define ENRP_JOURNAL_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <enrp/journal.h>
#include <enrp/store.h>

#define ENRP_SEGMENT_MAGIC "enrp-journal-segment"
#define ENRP_SEGMENT_VERSION 1

struct enrp_segment_info {
	uint64_t first_seq, last_seq;  /* records written (first_seq 0: none) */
	uint8_t anchor_hash[32];       /* of record FIRST_SEQ - 1 (zeros before 1) */
	uint8_t last_hash[32];         /* of record LAST_SEQ */
	char journal[ENRP_JOURNAL_ID_LEN + 1];
};

/* Writes to OUT the segment of the records from the first one timed at or
 * after FROM_NS to the last one timed at or before TO_NS (ns since the
 * epoch), every record in between included, whatever its time (records
 * are in the order they were appended, and a clock set back can make a
 * later one look earlier): a segment is always a contiguous run of the
 * chain.  NOW_NS is written as the export time.  Checks the whole chain
 * first: a segment of a broken chain would vouch for the damage.
 * 0 with INFO filled; -ENOENT no record in the range, -EBADMSG the chain is
 * broken (INFO->first_seq is then the bad record), -EIO, -ENOMEM, or the
 * -errno of a failed write to OUT. */
int enrp_journal_export(enrp_store *st, int64_t from_ns, int64_t to_ns, int64_t now_ns,
                        FILE *out, struct enrp_segment_info *info);

struct enrp_segment_verdict {
	bool intact;            /* the segment is whole and every anchor in it held */
	bool by_anchor;         /* !intact because of an anchor given */
	uint64_t bad_seq;       /* the record that disagrees (0: none is named) */
	uint64_t bad_line;      /* the line where it was found (0: none) */
	char reason[320];
	uint64_t records;       /* records checked */
	uint64_t first_seq, last_seq;
	uint64_t anchor_seq;    /* the segment's anchor: FIRST_SEQ - 1 */
	uint8_t anchor_hash[32];
	uint8_t last_hash[32];
	char journal[ENRP_JOURNAL_ID_LEN + 1];
	uint64_t anchors;       /* distinct anchors checked (inside the segment,
	                           its own anchor's record included) */
	uint64_t foreign;       /* anchors naming another journal */
	uint64_t outside;       /* anchors of this journal outside the segment */
};

/* Checks the segment read from IN, and N anchors (any order, repeats
 * allowed) against it: an anchor naming the segment's anchor record or one
 * of its records must carry that hash.  Not intact when a line is
 * malformed, a record's bytes do not hash to its stated hash or do not
 * decode, its seq is not the next one, its previous-hash is not the hash
 * before it (the segment's anchor for the first), the end line is missing
 * (truncated), disagrees or is followed by anything, the segment starts at
 * record 1 and its journal line does not name it, an anchor does not hold,
 * or none of N > 0 anchors falls in the segment.  0 with OUT filled, or
 * -errno when IN could not be read (-ENOMEM). */
int enrp_journal_segment_verify(FILE *in, const struct enrp_journal_anchor *anchors, size_t n,
                                struct enrp_segment_verdict *out);

#endif
