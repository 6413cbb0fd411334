/*
 * fuzz_anchor.c — the audit journal's anchor parser and syslog formatter
 * (core/journal_syslog.c): the parser reads files an auditor got from a
 * collector, which anyone who can send to syslog can add lines to.
 *
 * Input: one selector byte, then the mode's bytes.  SEL % 4 (the digits
 * '0'..'3' select 0..3, so seeds are plain text):
 *
 *   0  enrp_journal_anchor_parse on the bytes as one line (NULs and all).
 *      It must return -EINVAL (with a non-empty reason), 0 or 1, read
 *      nothing past the line, and on 1 give seq >= 1 and a journal name that
 *      is "" or 16 lower-case hex digits.  A SEQ:HASH result written back
 *      with enrp_journal_anchor_format parses to the same anchor; the same
 *      line parsed with a NULL reason pointer gives the same result.
 *   1  A record built from the bytes (seq, time, ids, hashes, then command,
 *      EIR, event and details cut from the rest), formatted with
 *      journal_syslog_format: the message must fit, be one line without NUL,
 *      CR or LF, and parse back to exactly the record's seq, hash and
 *      journal name, also behind a collector's prefix.
 *   2  journal_target_parse on the bytes as a string (cut at a NUL): 0 or
 *      -EINVAL, and a valid one must be what the spelling says (a unix path
 *      that starts with '/' and fits sun_path; a UDP port 1..65535 and an
 *      address inet_pton takes).
 *   3  journal_syslog_alarm from the bytes: it must fit, be one line, and
 *      never parse as an anchor.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal_int.h"

#include "fuzz_common.h"

static bool lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void one_line(const char *buf, size_t n)
{
	FUZZ_CHECK(n > 0, "formatting failed");
	FUZZ_CHECK(strlen(buf) == n, "a NUL inside the message");
	FUZZ_CHECK(!memchr(buf, '\n', n) && !memchr(buf, '\r', n), "a line break in the message");
}

static void parse_line(const uint8_t *data, size_t size)
{
	/* A copy exactly as long as the line, so ASan sees any overread. */
	char *line = malloc(size ? size : 1);
	struct enrp_journal_anchor a, b;
	const char *why = NULL;

	memcpy(line, data, size);
	memset(&a, 0x5a, sizeof(a));
	int r = enrp_journal_anchor_parse(line, size, &a, &why);
	FUZZ_CHECK(r == 1 || r == 0 || r == -EINVAL, "returned %d", r);
	if (r == -EINVAL)
		FUZZ_CHECK(why && *why, "no reason for -EINVAL");
	memset(&b, 0x5a, sizeof(b));
	FUZZ_CHECK(enrp_journal_anchor_parse(line, size, &b, NULL) == r, "result depends on WHY");
	if (r == 1) {
		FUZZ_CHECK(a.seq >= 1, "seq 0");
		FUZZ_CHECK(a.journal[0] == '\0' || lower_hex(a.journal, ENRP_JOURNAL_ID_LEN),
		           "journal name '%.20s'", a.journal);
		FUZZ_CHECK(b.seq == a.seq && memcmp(a.hash, b.hash, 32) == 0, "two parses differ");
		if (!a.journal[0]) {
			char fmt[ENRP_JOURNAL_ANCHOR_BUF];
			enrp_journal_anchor_format(a.seq, a.hash, fmt);
			memset(&b, 0, sizeof(b));
			FUZZ_CHECK(enrp_journal_anchor_parse(fmt, strlen(fmt), &b, NULL) == 1 &&
			           b.seq == a.seq && memcmp(a.hash, b.hash, 32) == 0 && !b.journal[0],
			           "SEQ:HASH does not survive format and parse");
		}
	}
	free(line);
}

/* Takes up to MAX bytes (stopping at a NUL) from *P into DST. */
static void take_str(const uint8_t **p, size_t *left, char *dst, size_t max)
{
	size_t n = 0;
	while (*left && n < max && **p) {
		dst[n++] = (char)**p;
		(*p)++;
		(*left)--;
	}
	dst[n] = '\0';
	if (*left) {
		(*p)++;
		(*left)--;
	}
}

static void format_record(const uint8_t *data, size_t size)
{
	struct enrp_journal_record r;
	uint8_t head[8 + 8 + 4 + 4 + 32 + 32 + 8];
	char journal[ENRP_JOURNAL_ID_LEN + 1], buf[JOURNAL_SYSLOG_MAX], host[32];

	memset(head, 0, sizeof(head));
	memcpy(head, data, size < sizeof(head) ? size : sizeof(head));
	const uint8_t *p = data + (size < sizeof(head) ? size : sizeof(head));
	size_t left = size - (size_t)(p - data);
	memset(&r, 0, sizeof(r));
	memcpy(&r.seq, head, 8);
	if (r.seq == 0)
		r.seq = 1;
	memcpy(&r.time_ns, head + 8, 8);
	memcpy(&r.uid, head + 16, 4);
	memcpy(&r.pid, head + 20, 4);
	memcpy(r.hash, head + 24, 32);
	memcpy(r.prev_hash, head + 56, 32);
	journal_hex(head + 88, 8, journal);
	take_str(&p, &left, r.command, sizeof(r.command) - 1);
	take_str(&p, &left, r.eir, sizeof(r.eir) - 1);
	take_str(&p, &left, r.event, sizeof(r.event) - 1);
	take_str(&p, &left, host, sizeof(host) - 1);
	take_str(&p, &left, r.details, sizeof(r.details) - 1);

	size_t n = journal_syslog_format(&r, journal, host, 4242, buf, sizeof(buf));
	one_line(buf, n);
	struct enrp_journal_anchor a;
	memset(&a, 0, sizeof(a));
	FUZZ_CHECK(enrp_journal_anchor_parse(buf, n, &a, NULL) == 1, "own message does not parse: %s", buf);
	FUZZ_CHECK(a.seq == r.seq && memcmp(a.hash, r.hash, 32) == 0 && strcmp(a.journal, journal) == 0,
	           "own message parses to another anchor");

	/* Behind a collector's prefix (rsyslog's traditional one). */
	char line[JOURNAL_SYSLOG_MAX + 64];
	int m = snprintf(line, sizeof(line), "Dec  1 23:55:52 vm %s", buf);
	memset(&a, 0, sizeof(a));
	FUZZ_CHECK(enrp_journal_anchor_parse(line, (size_t)m, &a, NULL) == 1 && a.seq == r.seq,
	           "own message behind a prefix does not parse");
	/* A buffer one byte too small is refused, not cut. */
	FUZZ_CHECK(journal_syslog_format(&r, journal, host, 4242, buf, n) == 0,
	           "a message cut to fit");
}

static void target(const uint8_t *data, size_t size)
{
	char s[512];
	struct journal_target t;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	int r = journal_target_parse(s, &t);
	FUZZ_CHECK(r == 0 || r == -EINVAL, "returned %d", r);
	FUZZ_CHECK(enrp_journal_target_check(s) == r, "check and parse disagree");
	if (r)
		return;
	FUZZ_CHECK(strlen(s) <= ENRP_JOURNAL_TARGET_MAX, "an over-long target accepted");
	if (t.kind == TARGET_NONE) {
		FUZZ_CHECK(strcmp(s, "none") == 0, "none from '%s'", s);
	} else if (t.kind == TARGET_UNIX) {
		FUZZ_CHECK(strncmp(s, "unix:/", 6) == 0 && strcmp(s + 5, t.path) == 0 &&
		           strlen(t.path) < sizeof(t.path), "unix target '%s'", s);
	} else {
		uint8_t addr[16];
		FUZZ_CHECK(t.kind == TARGET_UDP && strncmp(s, "udp:", 4) == 0, "kind of '%s'", s);
		FUZZ_CHECK(t.port >= 1 && t.port <= 65535, "port %u", t.port);
		FUZZ_CHECK(inet_pton(strchr(t.host, ':') ? AF_INET6 : AF_INET, t.host, addr) == 1,
		           "host '%s'", t.host);
	}
}

static void alarm(const uint8_t *data, size_t size)
{
	uint8_t head[8 + 8 + 32 + 8 + 8] = { 0 };
	char journal[ENRP_JOURNAL_ID_LEN + 1], what[64], host[32], buf[2048];
	memcpy(head, data, size < sizeof(head) ? size : sizeof(head));
	const uint8_t *p = data + (size < sizeof(head) ? size : sizeof(head));
	size_t left = size - (size_t)(p - data);
	uint64_t mseq, hseq;
	int64_t now;
	memcpy(&mseq, head, 8);
	memcpy(&hseq, head + 8, 8);
	memcpy(&now, head + 48, 8);
	journal_hex(head + 56, 8, journal);
	take_str(&p, &left, what, sizeof(what) - 1);
	take_str(&p, &left, host, sizeof(host) - 1);
	size_t n = journal_syslog_alarm(journal, mseq, head + 16, hseq, what, now, host, 1, buf,
	                                sizeof(buf));
	one_line(buf, n);
	struct enrp_journal_anchor a;
	FUZZ_CHECK(enrp_journal_anchor_parse(buf, n, &a, NULL) == 0 || strstr(what, "[enrp@32473"),
	           "an alarm parsed as an anchor: %s", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		parse_line(data + 1, size - 1);
		break;
	case 1:
		format_record(data + 1, size - 1);
		break;
	case 2:
		target(data + 1, size - 1);
		break;
	case 3:
		alarm(data + 1, size - 1);
		break;
	}
	return 0;
}
