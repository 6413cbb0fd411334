/*
 * journal.h — the hash-chained audit journal (DESIGN.md §7).
 *
 * Records are appended with consecutive sequence numbers; each holds the
 * SHA-256 of the previous record's encoding, and the store's meta keeps the
 * last sequence number and hash, so a changed, removed, inserted or reordered
 * record breaks the chain and enrp_journal_verify() finds where.  Nothing in
 * libenrp deletes records.
 *
 * Whoever holds the store's files can still rewrite the chain and the head
 * consistently, so the head is anchored outside the store: every record, once
 * durable, is mirrored to syslog (RFC 5424, one message per record, carrying
 * its sequence number and hash), enrp_journal_head() gives the head for
 * auditors to keep, and enrp_journal_verify_anchors() proves the chain still
 * holds each anchor taken from either.  core/journal_mirror.c says how.
 */
#ifndef ENRP_JOURNAL_H
#define ENRP_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/policy.h>
#include <enrp/store.h>

#define ENRP_JOURNAL_EVENT_MAX 31
/* Room for a path of PATH_MAX (4096) bytes, quoted, beside the other pairs
 * of a record (enrp/details.h). */
#define ENRP_JOURNAL_DETAILS_MAX 8191

/* The encodings a record can be stored in.  Each record keeps its own: its
 * hash is over its stored bytes, so a record is never re-encoded. */
enum enrp_journal_format {
	ENRP_JOURNAL_FORMAT_1 = 1,  /* uid, pid and command only */
	ENRP_JOURNAL_FORMAT_2 = 2,  /* and the person: login uid, sudo uid and user */
};
#define ENRP_JOURNAL_FORMAT_CURRENT ENRP_JOURNAL_FORMAT_2

struct enrp_journal_record {
	uint64_t seq;                 /* 1, 2, 3, ... */
	int64_t time_ns;              /* UTC, ns since epoch */
	uint32_t uid;                 /* actor (struct enrp_actor) */
	uint32_t pid;
	char command[64];
	/* The person behind the actor.  ENRP_NO_UID / "" when unset, and in
	 * records of format 1, which predate them. */
	uint32_t login_uid;
	uint32_t sudo_uid;
	char sudo_user[33];
	uint8_t format;               /* enum enrp_journal_format it is stored in;
	                                 appends always write the current one */
	char eir[ENRP_EIR_NAME_MAX + 1];          /* "" when not about one EIR */
	char event[ENRP_JOURNAL_EVENT_MAX + 1];   /* e.g. "eir-create", "mode-change", "denied" */
	char details[ENRP_JOURNAL_DETAILS_MAX + 1]; /* "key=value key=value", as
	                                               enrp/details.h writes and reads */
	uint8_t prev_hash[32];        /* SHA-256 of the previous record (zeros for seq 1) */
	uint8_t hash[32];             /* SHA-256 of this record, as computed on read */
};

/* Appends one record in its own write.  DETAILS is printf-formatted and cut
 * at ENRP_JOURNAL_DETAILS_MAX; a value that may hold blanks, quotes or '='
 * (a name, a path, a reason) must go through enrp_details_add() and the
 * result be passed as "%s".  -EINVAL empty or over-long EVENT, -EEXIST a
 * record already exists past the head (tampered journal), -ENOSPC, -EIO. */
int enrp_journal_append(enrp_store *st, const struct enrp_actor *actor, const char *eir,
                        const char *event, const char *details_fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The events a record can carry (core/journal_events.c), for listing and
 * for checking a filter.  Static; thread-safe. */
struct enrp_journal_event {
	const char *name;     /* e.g. "eir-create" */
	const char *meaning;  /* one line, no full stop */
};

/* Every event, in the table's order (grouped by subject); *N is the count. */
const struct enrp_journal_event *enrp_journal_events(size_t *n);

/* The event NAME, or NULL when no code writes it. */
const struct enrp_journal_event *enrp_journal_event_find(const char *name);

struct enrp_journal_filter {
	const char *eir;   /* NULL: all */
	int64_t since_ns;  /* 0: from the start */
	const char *event; /* NULL: all */
	int64_t until_ns;  /* 0: to the end; else records at or before it */
	uint64_t from_seq; /* 0: from record 1; else from this record on (a
	                      reader following the journal) */
};

/* Calls CB for each record matching FILTER (NULL: all), oldest first; a
 * non-zero return from CB stops and is returned; -EIO at a record that
 * cannot be decoded (enrp_journal_verify says where and why). */
int enrp_journal_iter(enrp_store *st, const struct enrp_journal_filter *filter,
                      int (*cb)(const struct enrp_journal_record *rec, void *arg), void *arg);

/* A journal is named by the first ENRP_JOURNAL_ID_LEN hex digits of the hash
 * of its record 1, so one anchors file (a collector's stream) can hold the
 * anchors of several stores. */
#define ENRP_JOURNAL_ID_LEN 16

/* An anchor: "record SEQ of journal JOURNAL had hash HASH". */
struct enrp_journal_anchor {
	uint64_t seq;                            /* >= 1 */
	uint8_t hash[32];
	char journal[ENRP_JOURNAL_ID_LEN + 1];   /* "": whichever journal is checked */
	char where[96];                          /* where it came from, for messages
	                                            ("heads.txt:12"); set by the caller */
};

struct enrp_journal_verdict {
	uint64_t records;     /* records checked */
	bool intact;          /* chain whole, and every anchor of this journal held */
	bool by_anchor;       /* !intact because of an anchor (the chain up to
	                         BAD_SEQ verified) */
	uint64_t bad_seq;     /* first record that disagrees (when !intact) */
	char reason[320];     /* what is wrong there */
	/* With anchors: */
	char journal[ENRP_JOURNAL_ID_LEN + 1]; /* this journal's name ("" if empty) */
	uint64_t anchors;     /* distinct records of this journal anchored and checked */
	uint64_t foreign;     /* anchors naming another journal, not checked */
	uint64_t covered;     /* records 1..covered match an anchor (0: none) */
	uint8_t last_hash[32]; /* of record RECORDS, the last one checked */
	int64_t last_time_ns;  /* its time */
};

/* Walks the whole chain.  Returns 0 with OUT filled (intact or not), or
 * -errno if the journal could not be read. */
int enrp_journal_verify(enrp_store *st, struct enrp_journal_verdict *out);

/* Walks the whole chain and checks N anchors (any order, repeats allowed)
 * against it: the record an anchor names must exist and have its hash.  Not
 * intact, with BAD_SEQ and REASON naming the first disagreement in record
 * order, when the chain breaks, a record differs from its anchor (changed,
 * or records before it removed or inserted, and the chain re-hashed), an
 * anchor names a record past the end (tail cut, rollback), two anchors give
 * one record different hashes, or none of N > 0 anchors names this journal
 * (its record 1 is not the one anchored).  0 with OUT filled, or -errno
 * (-ENOMEM, -EIO) if the journal could not be read. */
int enrp_journal_verify_anchors(enrp_store *st, const struct enrp_journal_anchor *anchors,
                                size_t n, struct enrp_journal_verdict *out);

struct enrp_journal_head {
	uint64_t seq;                          /* 0: the journal is empty */
	uint8_t hash[32];                      /* of record SEQ */
	int64_t time_ns;                       /* of record SEQ */
	char journal[ENRP_JOURNAL_ID_LEN + 1]; /* "" when empty */
};

/* Reads the head and the record it names, as stored (enrp_journal_verify
 * says whether the chain leads to it).  -EIO if that record is missing or
 * cannot be decoded. */
int enrp_journal_head(enrp_store *st, struct enrp_journal_head *out);

/* Room for "SEQ:HASH" and its NUL. */
#define ENRP_JOURNAL_ANCHOR_BUF (20 + 1 + 64 + 1)

/* Writes "SEQ:HASH" (HASH in lower-case hex), the anchor line of
 * `enrpctl audit head`, into BUF. */
void enrp_journal_anchor_format(uint64_t seq, const uint8_t hash[32],
                                char buf[ENRP_JOURNAL_ANCHOR_BUF]);

/* Parses one line of an anchors file (LEN bytes, without its newline; any
 * bytes, NULs included):
 *   - "SEQ:HASH", as `enrpctl audit head` prints (SEQ >= 1, HASH 64 hex
 *     digits; blanks around it and a '#' comment after it allowed); a line
 *     that starts with digits and ':' is taken to mean one;
 *   - a syslog line holding the mirror's structured data element
 *     [enrp@32473 journal="ID" seq="SEQ" hash="HASH" ...], with whatever a
 *     collector wrote before it.
 * Returns 1 with A filled (A->where is left alone); 0 for a line without an
 * anchor (blank, '#' comment, any other syslog line); -EINVAL for a line that
 * is meant as an anchor but is malformed, with *WHY (if WHY is not NULL) a
 * static description of what is wrong.  Pure; thread-safe. */
int enrp_journal_anchor_parse(const char *line, size_t len, struct enrp_journal_anchor *a,
                              const char **why);

/*
 * The syslog mirror (core/journal_mirror.c).  The target is a store
 * setting, changed only through enrp_journal_mirror_set(), which journals
 * the change; the record of a change is mirrored to the old target before
 * any record goes to the new one.  Spellings:
 *   unix:/PATH           a unix datagram socket (/dev/log: the local syslog)
 *   udp:IPV4:PORT        udp:[IPV6]:PORT (numeric: a sender never waits for DNS)
 *   none                 no mirror
 */
#define ENRP_JOURNAL_TARGET_MAX 127
#define ENRP_JOURNAL_TARGET_DEFAULT "unix:/dev/log"

/* 0 when TARGET is a valid spelling, else -EINVAL. */
int enrp_journal_target_check(const char *target);

struct enrp_journal_mirror_status {
	char target[ENRP_JOURNAL_TARGET_MAX + 1]; /* current target */
	uint64_t head_seq;      /* last record in the journal */
	uint64_t sent_seq;      /* records up to this one have been handed to syslog */
	int64_t failing_since;  /* ns: the mirror has failed since then; 0 if not */
	char error[160];        /* why, when failing */
};

/* Reads the target and how far the mirror got.  -EIO for a damaged setting. */
int enrp_journal_mirror_status(enrp_store *st, struct enrp_journal_mirror_status *out);

/* Sends every durable record not yet mirrored, in order, waiting a little
 * for a receiver that is slow or for another process that is sending.
 * 0 when everything was sent; -EHOSTUNREACH (or the socket's -errno) when
 * the target did not take it (enrp_journal_mirror_status says why),
 * -EBUSY if another process kept the mirror busy; the records stay pending. */
int enrp_journal_mirror_flush(enrp_store *st);

/* Sends what is pending without waiting for anything; for the daemon's
 * once-a-second tick. */
void enrp_journal_mirror_poll(enrp_store *st);

/* Changes the target to TARGET, journalling "mirror-target from=OLD to=NEW".
 * First sends what is pending to the old target; unless FORCE, refuses with
 * -EHOSTUNREACH when that fails or the old target is unreachable (so the old
 * collector always learns where the stream went), and with FORCE sends the
 * pending records and the change to the new target instead.  -EINVAL bad
 * TARGET, -EALREADY already the target (nothing journalled), -EROFS, -ENOSPC,
 * -EIO. */
int enrp_journal_mirror_set(enrp_store *st, const struct enrp_actor *actor, const char *target,
                            bool force);

/* Sets the first target of a store whose journal is still empty (enrpctl
 * init), without a record: there is no change to record yet.  -EEXIST once
 * the journal has a record or a target was set, -EINVAL, -EROFS, -EIO. */
int enrp_journal_mirror_init(enrp_store *st, const char *target);

/*
 * Denial aggregation: a loop of denied operations must not flood the
 * journal.  enrp_denials_note() only counts, in memory; the first denial of
 * a (EIR, uid, op, errno) key is written at the next flush, later ones as one
 * record with their count at most once a minute per key.  Each record names
 * the first denial's caller and path.
 * Thread-safe.
 */
typedef struct enrp_denials enrp_denials;

int enrp_denials_new(enrp_store *st, enrp_denials **out);
void enrp_denials_free(enrp_denials *d); /* flushes nothing; NULL is a no-op */
/* Whether the next denial of (EIR, UID, OP, ERR) is the first of its
 * record: then its caller's identity and path are worth finding. */
bool enrp_denials_first(enrp_denials *d, const char *eir, uint32_t uid, enum enrp_op op, int err);
/* Counts one denial by process PID of UID.  For the first of a record WHO
 * (the caller, enrp_actor_of) and PATH (relative to the EIR) are kept, and
 * the record names them; either may be NULL (the daemon is named, no path).
 * A record whose denials came from more than one process says others=yes. */
void enrp_denials_note(enrp_denials *d, const char *eir, uint32_t uid, uint32_t pid,
                       enum enrp_op op, int err, const struct enrp_actor *who,
                       const char *path);
/* Writes what is due (everything when ALL).  The daemon calls it every
 * second and with ALL at unmount. */
int enrp_denials_flush(enrp_denials *d, const struct enrp_actor *actor, int64_t now, bool all);

#endif
