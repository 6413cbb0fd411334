/* journal_int.h — what core shares about the journal: appending inside a
 * core transaction (so a change and its record commit together), reading
 * single records, and the pieces of the syslog mirror (journal_mirror.c)
 * that journal.c and the tests reach. */
#ifndef ENRP_JOURNAL_INT_H
#define ENRP_JOURNAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/journal.h>

#include "store_int.h"

int journal_append_txn(enrp_txn *t, const struct enrp_actor *actor, const char *eir,
                       const char *event, const char *details);

/* The head: last seq and its hash (0 and zeros for an empty journal). */
int journal_head_txn(enrp_txn *t, uint64_t *seq, uint8_t hash[32]);

/* Record SEQ, decoded, with R->hash computed from its stored bytes.
 * -ENOENT none, -EIO undecodable (or its key holds another seq). */
int journal_get_txn(enrp_txn *t, uint64_t seq, struct enrp_journal_record *r);

/* The journal's name from its record 1's hash. */
void journal_id(const uint8_t hash1[32], char id[ENRP_JOURNAL_ID_LEN + 1]);

/* ---- journal_mirror.c: the sender ---- */

/* The post-durability hook journal_append_txn registers (ARG: the seq of
 * the last record the transaction appended): sends what is pending. */
void journal_mirror_hook(enrp_store *st, uint64_t seq);

/* ---- journal_syslog.c: the wire format (pure) ---- */

/* Lower-case hex of N bytes into OUT (2N + 1 bytes). */
void journal_hex(const uint8_t *p, size_t n, char *out);
/* Exactly 2N hex digits (either case) in S (LEN bytes) into OUT. */
bool journal_unhex(const char *s, size_t len, uint8_t *out, size_t n);
/* A decimal number >= 1 in S (LEN bytes): no sign, no blank, no overflow. */
bool journal_parse_seq(const char *s, size_t len, uint64_t *out);

/* The SD-ID of the mirror's structured data (32473 is the private
 * enterprise number RFC 5612 reserves for documentation: enrp has none). */
#define JOURNAL_SD_ID "enrp@32473"

/* Room for one syslog message: header, structured data with every value
 * escaped, and the details escaped (four bytes per byte at worst).  A
 * collector may cut a long message (rsyslog keeps 8 KiB by default); the
 * structured data, which anchors need, comes first. */
#define JOURNAL_SYSLOG_MAX (4 * (ENRP_JOURNAL_DETAILS_MAX + 1) + 4096)

/* Formats R as one RFC 5424 message (no trailing newline) into BUF of SIZE
 * bytes; HOST and PID are the header's HOSTNAME and PROCID, JOURNAL the
 * journal's name.  Returns the length, or 0 if SIZE is too small. */
size_t journal_syslog_format(const struct enrp_journal_record *r, const char *journal,
                             const char *host, int pid, char *buf, size_t size);

/* The alarm a sender raises when the journal no longer holds record
 * MIRRORED_SEQ with MIRRORED_HASH, as it mirrored it (HEAD_SEQ: the journal's
 * head now; WHAT: which way it diverged): RFC 5424, severity alert, SD-ID
 * enrpAlarm@32473, never taken for an anchor.  Length, or 0 if SIZE is too
 * small. */
size_t journal_syslog_alarm(const char *journal, uint64_t mirrored_seq,
                            const uint8_t mirrored_hash[32], uint64_t head_seq, const char *what,
                            int64_t now_ns, const char *host, int pid, char *buf, size_t size);

/* Parses a target spelling into what a sender connects to.  0 or -EINVAL. */
struct journal_target {
	enum { TARGET_NONE, TARGET_UNIX, TARGET_UDP } kind;
	char path[108];                   /* TARGET_UNIX */
	char host[64];                    /* TARGET_UDP: numeric address */
	unsigned port;
};
int journal_target_parse(const char *spelling, struct journal_target *out);

#endif
