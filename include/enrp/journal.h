/*
 * journal.h — the hash-chained audit journal (DESIGN.md §7).
 *
 * Records are appended with consecutive sequence numbers; each holds the
 * SHA-256 of the previous record's encoding, and the store's meta keeps the
 * last sequence number and hash, so a changed, removed, inserted or reordered
 * record breaks the chain and enrp_journal_verify() finds where.  Nothing in
 * libenrp deletes records.
 */
#ifndef ENRP_JOURNAL_H
#define ENRP_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/policy.h>
#include <enrp/store.h>

#define ENRP_JOURNAL_EVENT_MAX 31
#define ENRP_JOURNAL_DETAILS_MAX 1023

struct enrp_journal_record {
	uint64_t seq;                 /* 1, 2, 3, ... */
	int64_t time_ns;              /* UTC, ns since epoch */
	uint32_t uid;                 /* actor */
	uint32_t pid;
	char command[64];
	char eir[ENRP_EIR_NAME_MAX + 1];          /* "" when not about one EIR */
	char event[ENRP_JOURNAL_EVENT_MAX + 1];   /* e.g. "eir-create", "mode-change", "denied" */
	char details[ENRP_JOURNAL_DETAILS_MAX + 1]; /* "key=value key=value" */
	uint8_t prev_hash[32];        /* SHA-256 of the previous record (zeros for seq 1) */
	uint8_t hash[32];             /* SHA-256 of this record, as computed on read */
};

/* Appends one record in its own write.  DETAILS is printf-formatted and cut
 * at ENRP_JOURNAL_DETAILS_MAX.  -EINVAL empty or over-long EVENT, -EEXIST a
 * record already exists past the head (tampered journal), -ENOSPC, -EIO. */
int enrp_journal_append(enrp_store *st, const struct enrp_actor *actor, const char *eir,
                        const char *event, const char *details_fmt, ...)
	__attribute__((format(printf, 5, 6)));

struct enrp_journal_filter {
	const char *eir;   /* NULL: all */
	int64_t since_ns;  /* 0: from the start */
	const char *event; /* NULL: all */
};

/* Calls CB for each record matching FILTER (NULL: all), oldest first; a
 * non-zero return from CB stops and is returned; -EIO at a record that
 * cannot be decoded (enrp_journal_verify says where and why). */
int enrp_journal_iter(enrp_store *st, const struct enrp_journal_filter *filter,
                      int (*cb)(const struct enrp_journal_record *rec, void *arg), void *arg);

struct enrp_journal_verdict {
	uint64_t records;     /* records checked */
	bool intact;
	uint64_t bad_seq;     /* first record where the chain breaks (when !intact) */
	char reason[160];     /* what is wrong there */
};

/* Walks the whole chain.  Returns 0 with OUT filled (intact or not), or
 * -errno if the journal could not be read. */
int enrp_journal_verify(enrp_store *st, struct enrp_journal_verdict *out);

/*
 * Denial aggregation: a loop of denied operations must not flood the
 * journal.  enrp_denials_note() only counts, in memory; the first denial of
 * a (EIR, uid, op, errno) key is written at the next flush, later ones as one
 * record with their count at most once a minute per key.
 * Thread-safe.
 */
typedef struct enrp_denials enrp_denials;

int enrp_denials_new(enrp_store *st, enrp_denials **out);
void enrp_denials_free(enrp_denials *d); /* flushes nothing; NULL is a no-op */
void enrp_denials_note(enrp_denials *d, const char *eir, uint32_t uid, enum enrp_op op, int err);
/* Writes what is due (everything when ALL).  The daemon calls it every
 * second and with ALL at unmount. */
int enrp_denials_flush(enrp_denials *d, const struct enrp_actor *actor, int64_t now, bool all);

#endif
