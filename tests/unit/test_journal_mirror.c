/*
 * test_journal_mirror.c — the journal's syslog mirror and its anchors
 * (core/journal_mirror.c, and enrp_journal_verify_anchors in journal.c).
 *
 * Pure parts: target spellings; the RFC 5424 formatter, byte for byte, with
 * every escape; the anchor parser on SEQ:HASH lines, on the formatter's own
 * lines (a round trip over random records), on collector prefixes, and on
 * each way a line can be malformed.
 *
 * Against real stores and a unix datagram receiver of the test's own:
 * records arrive once, in order, with their hashes; a missing receiver
 * leaves them pending, warns once, and a flush sends them when it is back;
 * a receiver that does not read is "queue full", not a lost record; a
 * journal cut under the sender raises an alarm and the new records still
 * arrive; target changes go to the old target first and are refused (or
 * forced) when it is gone; an unparsable cursor sends everything again;
 * verify_anchors finds each kind of disagreement.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/journal.h>

#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"

#include "../tap.h"

static const char *tmp;
static int store_no;
static struct enrp_actor actor;

/* ---- a log sink that counts ---- */

static int n_warn, n_err, n_notice;
static char last_log[1024];

static void sink(enum enrp_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == ENRP_LOG_WARNING)
		n_warn++;
	else if (level == ENRP_LOG_ERR)
		n_err++;
	else if (level == ENRP_LOG_NOTICE)
		n_notice++;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static void log_reset(void)
{
	n_warn = n_err = n_notice = 0;
	last_log[0] = '\0';
}

/* ---- stores and receivers ---- */

/* TMP/PREFIXN (four results live at a time). */
static char *path_of(const char *prefix, int n)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];
	snprintf(p, 256, "%s/%s%d", tmp, prefix, n);
	return p;
}

/* A fresh store mirroring to TARGET (NULL: the default, never set). */
static enrp_store *new_store(const char *target)
{
	char *path = path_of("s", store_no++);
	enrp_store *st = NULL;
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st) ||
	    (target && enrp_journal_mirror_init(st, target))) {
		diag("cannot create a store at %s", path);
		exit(2);
	}
	return st;
}

static int receiver(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		diag("cannot bind %s", path);
		exit(2);
	}
	return fd;
}

/* The next datagram, or "" when none is waiting. */
static const char *next_msg(int fd)
{
	static char buf[JOURNAL_SYSLOG_MAX + 1];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Reads every waiting datagram into SEQS (anchors: seq order as received),
 * skipping lines that hold no anchor (alarms); returns how many. */
static size_t drain(int fd, struct enrp_journal_anchor *out, size_t max, int *alarms)
{
	size_t n = 0;
	for (;;) {
		const char *m = next_msg(fd);
		if (!*m)
			return n;
		struct enrp_journal_anchor a;
		int r = enrp_journal_anchor_parse(m, strlen(m), &a, NULL);
		if (r == 1 && n < max)
			out[n++] = a;
		else if (r == 0 && alarms && strstr(m, "[enrpAlarm@32473 "))
			(*alarms)++;
		else if (r < 0)
			diag("unparsable datagram: %s", m);
	}
}

struct rec_list {
	size_t n;
	struct enrp_journal_record r[64];
};

static int list_cb(const struct enrp_journal_record *r, void *arg)
{
	struct rec_list *l = arg;
	if (l->n < 64)
		l->r[l->n++] = *r;
	return 0;
}

static struct rec_list *records(enrp_store *st)
{
	static struct rec_list l;
	l.n = 0;
	enrp_journal_iter(st, NULL, list_cb, &l);
	return &l;
}

static void append(enrp_store *st, int n)
{
	for (int i = 0; i < n; i++)
		if (enrp_journal_append(st, &actor, "alpha", "test-event", "i=%d", i))
			diag("append failed");
}

/* ---- targets ---- */

static void targets(void)
{
	static const char *const good[] = {
		"none", "unix:/dev/log", "unix:/run/enrp/audit.sock", "udp:127.0.0.1:514",
		"udp:10.1.2.3:65535", "udp:[::1]:514", "udp:[2001:db8::1]:6514",
	};
	static const char *const bad[] = {
		"", "None", "tcp:10.0.0.1:514", "unix:", "unix:dev/log", "UNIX:/dev/log",
		"unix:/a b", "udp:localhost:514", "udp:10.0.0.1", "udp:10.0.0.1:", "udp:10.0.0.1:0",
		"udp:10.0.0.1:65536", "udp:10.0.0.1:+514", "udp:10.0.0.1:51x", "udp:[::1]514",
		"udp:::1:514", "udp:[::1]:", "udp:[10.0.0.1]:514", "udp:10.0.0.256:514",
		"udp:10.0.0.1:123456", "none ", " none", "unix:/dev/\x01log",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		is_int(enrp_journal_target_check(good[i]), 0, "target '%s' is valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(enrp_journal_target_check(bad[i]), -EINVAL, "target '%s' is refused", bad[i]);

	char t[256];
	memset(t, 0, sizeof(t));
	strcpy(t, "unix:/");
	memset(t + 6, 'p', 106); /* sun_path holds 107 bytes and a NUL */
	is_int(enrp_journal_target_check(t), 0, "a unix path of 107 bytes is valid");
	t[6 + 106] = 'p';
	is_int(enrp_journal_target_check(t), -EINVAL, "a unix path of 108 bytes is refused");

	struct journal_target jt;
	is_int(journal_target_parse("udp:[2001:db8::1]:6514", &jt), 0, "parse udp6");
	ok(jt.kind == TARGET_UDP && strcmp(jt.host, "2001:db8::1") == 0 && jt.port == 6514,
	   "udp6: host and port");
	is_int(journal_target_parse("unix:/dev/log", &jt), 0, "parse unix");
	ok(jt.kind == TARGET_UNIX && strcmp(jt.path, "/dev/log") == 0, "unix: the path");
}

/* ---- the formatter ---- */

static void fill(struct enrp_journal_record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = 42;
	r->time_ns = 1796169352705016960LL; /* 2026-12-01T23:55:52.705016960Z */
	r->uid = 1001;
	r->pid = 77;
	r->login_uid = ENRP_NO_UID;
	r->sudo_uid = ENRP_NO_UID;
	strcpy(r->command, "enrpctl eir set");
	strcpy(r->eir, "a");
	strcpy(r->event, "mode-change");
	strcpy(r->details, "mode=rw->ro");
	for (int i = 0; i < 32; i++) {
		r->hash[i] = (uint8_t)i;
		r->prev_hash[i] = (uint8_t)(0xff - i);
	}
}

#define HASH_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define PREV_HEX "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0"

static void formatter(void)
{
	struct enrp_journal_record r;
	char buf[JOURNAL_SYSLOG_MAX];
	size_t n;

	fill(&r);
	n = journal_syslog_format(&r, "0123456789abcdef", "vm.example", 555, buf, sizeof(buf));
	is_str(buf,
	       "<85>1 2026-12-01T23:55:52.705016Z vm.example enrp 555 journal "
	       "[enrp@32473 journal=\"0123456789abcdef\" seq=\"42\" hash=\"" HASH_HEX "\" prev=\""
	       PREV_HEX "\" time=\"1796169352705016960\" event=\"mode-change\" eir=\"a\" "
	       "uid=\"1001\" pid=\"77\" cmd=\"enrpctl eir set\"] mode-change a mode=rw->ro",
	       "a record as one RFC 5424 message (authpriv.notice, microseconds, UTC)");
	is_int(n, strlen(buf), "the length returned is the message's");

	/* The person, when known, follows the command. */
	r.login_uid = 1000;
	r.sudo_uid = 1000;
	strcpy(r.sudo_user, "al ice\"");
	journal_syslog_format(&r, "0123456789abcdef", "vm.example", 555, buf, sizeof(buf));
	ok(strstr(buf, " cmd=\"enrpctl eir set\" login_uid=\"1000\" sudo_uid=\"1000\" "
	               "sudo_user=\"al ice\\\"\"] ") != NULL,
	   "login uid, sudo uid and sudo user as structured data: %s", strstr(buf, "cmd="));
	fill(&r);

	/* Escapes: SD values escape '"', '\' and ']' and write anything not
	 * printable ASCII as \xHH; MSG writes control bytes and '\' as \xHH. */
	strcpy(r.command, "a\"b\\c]d\x01\xc3\xa9");
	r.eir[0] = '\0';
	strcpy(r.details, "path=x\ny\\z [enrp@32473 seq=\"1\"] \x7f\xc3\xa9");
	journal_syslog_format(&r, "0123456789abcdef", "bad host", 1, buf, sizeof(buf));
	ok(strstr(buf, " cmd=\"a\\\"b\\\\c\\]d\\x01\\xc3\\xa9\"]") != NULL,
	   "cmd escaped: %s", strstr(buf, "cmd="));
	ok(strstr(buf, " eir=\"\" ") != NULL, "no EIR: an empty value");
	ok(strstr(buf, "] mode-change - path=x\\x0ay\\x5cz [enrp@32473 seq=\"1\"] \\x7f\xc3\xa9") != NULL,
	   "MSG: '-' for no EIR, control bytes and '\\' as \\xHH, UTF-8 kept: %s", strstr(buf, "] "));
	ok(strncmp(buf, "<85>1 2026-12-01T23:55:52.705016Z - enrp 1 journal [", 52) == 0,
	   "a host name with a blank becomes '-'");
	ok(strchr(buf, '\n') == NULL, "one line");
	journal_syslog_format(&r, "0123456789abcdef", "x[enrp@32473", 1, buf, sizeof(buf));
	ok(strncmp(buf, "<85>1 2026-12-01T23:55:52.705016Z - enrp 1 journal [", 52) == 0,
	   "a host name with '[' becomes '-'");
	journal_syslog_format(&r, "0123456789abcdef", "fe80::1", 1, buf, sizeof(buf));
	ok(strstr(buf, "Z fe80::1 enrp 1 journal [") != NULL, "an IPv6 address is a host name");

	struct enrp_journal_anchor a;
	is_int(enrp_journal_anchor_parse(buf, strlen(buf), &a, NULL), 1,
	       "the message with a forged element in MSG parses");
	is_int(a.seq, 42, "the header's element wins over one in MSG");

	r.time_ns = 0;
	journal_syslog_format(&r, "0123456789abcdef", NULL, 1, buf, sizeof(buf));
	ok(strncmp(buf, "<85>1 1970-01-01T00:00:00.000000Z - enrp 1 journal ", 51) == 0,
	   "time 0 and no host: %.60s", buf);
	r.time_ns = -1;
	journal_syslog_format(&r, "0123456789abcdef", "h", 1, buf, sizeof(buf));
	ok(strncmp(buf, "<85>1 1969-12-31T23:59:59.999999Z h ", 36) == 0,
	   "a time before 1970 rounds down: %.40s", buf);

	fill(&r);
	is_int(journal_syslog_format(&r, "0123456789abcdef", "h", 1, buf, 100), 0,
	       "too small a buffer: 0");
	memset(r.command, 1, sizeof(r.command) - 1);
	r.command[sizeof(r.command) - 1] = '\0';
	memset(r.details, '\n', sizeof(r.details) - 1);
	r.details[sizeof(r.details) - 1] = '\0';
	memset(r.eir, ']', sizeof(r.eir) - 1);
	r.eir[sizeof(r.eir) - 1] = '\0';
	n = journal_syslog_format(&r, "0123456789abcdef", "h", 1, buf, sizeof(buf));
	ok(n > 0 && n < JOURNAL_SYSLOG_MAX, "the largest record fits JOURNAL_SYSLOG_MAX (%zu)", n);
	is_int(enrp_journal_anchor_parse(buf, n, &a, NULL), 1, "and parses back");
}

/* ---- the anchor parser ---- */

static int parse(const char *line, struct enrp_journal_anchor *a, const char **why)
{
	*why = "";
	return enrp_journal_anchor_parse(line, strlen(line), a, why);
}

static void parser(void)
{
	struct enrp_journal_anchor a;
	const char *why;
	char line[512];

	is_int(parse("12:" HASH_HEX, &a, &why), 1, "SEQ:HASH");
	ok(a.seq == 12 && a.hash[0] == 0 && a.hash[31] == 0x1f && a.journal[0] == '\0',
	   "SEQ:HASH: seq, hash, any journal");
	is_int(parse("  12:" HASH_HEX " \r", &a, &why), 1, "blanks and a CR around it");
	is_int(parse("12:" HASH_HEX "  # taken 2026-11-21", &a, &why), 1, "a comment after it");
	is_int(parse("12:" HASH_HEX "#x", &a, &why), 1, "a comment right after it");
	snprintf(line, sizeof(line), "7:%s", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
	is_int(parse(line, &a, &why), 1, "upper-case hex");
	ok(a.hash[10] == 0x0a, "upper-case hex decoded");
	is_int(parse("18446744073709551615:" HASH_HEX, &a, &why), 1, "the largest seq");
	ok(a.seq == UINT64_MAX, "UINT64_MAX");

	static const struct { const char *line; const char *why; } bad[] = {
		{ "0:" HASH_HEX, "from 1 on" },
		{ "18446744073709551616:" HASH_HEX, "from 1 on" },
		{ "123456789012345678901:" HASH_HEX, "from 1 on" },
		{ "12:", "64 hexadecimal" },
		{ "12:abc", "64 hexadecimal" },
		{ "12:zz", "64 hexadecimal" },
		{ "12:" HASH_HEX "0", "64 hexadecimal" },
		{ "12:" HASH_HEX " extra", "after SEQ:HASH" },
		{ "12:" HASH_HEX ":13", "after SEQ:HASH" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(parse(bad[i].line, &a, &why), -EINVAL, "malformed: '%.30s'", bad[i].line);
		ok(strstr(why, bad[i].why) != NULL, "  says '%s' (%s)", bad[i].why, why);
	}

	static const char *const none[] = {
		"", "   ", "\t\r", "# heads kept by the auditor", "Nov 21 10:00:01 host sshd[1]: hello",
		"<13>1 2026-11-21T10:00:00Z host cron 77 - - run-parts",
		"<13>1 2026-11-21T10:00:00Z host app 77 - [other@32473 seq=\"1\"] x",
		"<81>1 2026-11-21T10:00:00Z host enrp 7 alarm [enrpAlarm@32473 journal=\"0123456789abcdef\" mirrored_seq=\"8\"] cut",
		"<13>1 - h enrp 1 journal [enrp@324730 seq=\"1\" hash=\"" HASH_HEX "\"] x",
		"12 :" HASH_HEX, "2026-11-21T10:00:00+00:00 host enrp[7]: started",
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		is_int(parse(none[i], &a, &why), 0, "no anchor: '%.40s'", none[i]);

	/* Syslog lines: prefixes, order of parameters, unknown ones, escapes. */
	static const char *const sd_ok[] = {
		"<85>1 - h enrp 1 journal [enrp@32473 journal=\"0123456789abcdef\" seq=\"5\" hash=\"" HASH_HEX "\"] x",
		"2026-12-01T23:55:52+00:00 vm <85>1 - h enrp 1 journal [enrp@32473 hash=\"" HASH_HEX "\" future=\"a\\\"\\]b\" seq=\"5\" journal=\"0123456789ABCDEF\"]",
		"x[enrp@32473x [enrp@32473 journal=\"0123456789abcdef\" seq=\"5\" hash=\"" HASH_HEX "\"]",
		"Dec  1 23:55:52 vm 1 2026-12-01T23:55:52Z vm enrp 1 journal [enrp@32473 cmd=\"x\\\\\" journal=\"0123456789abcdef\" seq=\"5\" hash=\"" HASH_HEX "\"][other@1 a=\"b\"] msg",
	};
	for (size_t i = 0; i < sizeof(sd_ok) / sizeof(sd_ok[0]); i++) {
		memset(&a, 0, sizeof(a));
		is_int(parse(sd_ok[i], &a, &why), 1, "syslog line %zu parses (%s)", i, why);
		ok(a.seq == 5 && a.hash[1] == 1 && strcmp(a.journal, "0123456789abcdef") == 0,
		   "  seq 5, the hash, journal in lower case");
	}
	/* NUL bytes before the element do not stop the parser. */
	char nul[300];
	size_t nn = (size_t)snprintf(nul, sizeof(nul), "x%cy [enrp@32473 journal=\"0123456789abcdef\" seq=\"9\" hash=\"%s\"]", 0, HASH_HEX);
	is_int(enrp_journal_anchor_parse(nul, nn, &a, NULL), 1, "a NUL before the element");

#define SDL(params) "<85>1 - h enrp 1 journal [enrp@32473" params "] msg"
#define J " journal=\"0123456789abcdef\""
#define H " hash=\"" HASH_HEX "\""
	static const struct { const char *line; const char *why; } sd_bad[] = {
		{ SDL(J H), "lacks journal, seq or hash" },
		{ SDL(" seq=\"5\"" H), "lacks" },
		{ SDL(J " seq=\"5\""), "lacks" },
		{ "<85>1 - h enrp 1 journal [enrp@32473]", "lacks" },
		{ SDL(J " seq=\"5\" seq=\"6\"" H), "seq given twice" },
		{ SDL(J J " seq=\"5\"" H), "journal given twice" },
		{ SDL(J " seq=\"5\"" H H), "hash given twice" },
		{ SDL(J " seq=\"0\"" H), "seq is not" },
		{ SDL(J " seq=\"5x\"" H), "seq is not" },
		{ SDL(J " seq=\"\"" H), "seq is not" },
		{ SDL(" journal=\"0123456789abcde\" seq=\"5\"" H), "journal is not" },
		{ SDL(" journal=\"0123456789abcdeg\" seq=\"5\"" H), "journal is not" },
		{ SDL(J " seq=\"5\" hash=\"00\""), "hash is not" },
		{ SDL(J " seq=\"5\" hash=\"" HASH_HEX "0000000000000000000000000000000\""), "hash is not" },
		{ SDL(J " seq=\"5\"" H " x=\"a]b\""), "unescaped ']'" },
		{ "<85>1 - h enrp 1 journal [enrp@32473" J " seq=\"5\"" H, "not closed by ']'" },
		{ "<85>1 - h enrp 1 journal [enrp@32473" J " seq=\"5" , "not closed by '\"'" },
		{ SDL(J " seq=5" H), "malformed parameter" },
		{ SDL(J "  seq=\"5\"" H), "malformed parameter" },
		{ SDL(J " =\"5\"" H), "malformed parameter" },
		{ SDL(J " abcdefghijabcdefghijabcdefghijabc=\"1\" seq=\"5\"" H), "malformed parameter" },
		{ SDL(J "seq=\"5\"" H), "not closed by ']'" },
	};
	for (size_t i = 0; i < sizeof(sd_bad) / sizeof(sd_bad[0]); i++) {
		is_int(parse(sd_bad[i].line, &a, &why), -EINVAL, "malformed syslog line %zu", i);
		ok(strstr(why, sd_bad[i].why) != NULL, "  says '%s' (%s)", sd_bad[i].why, why);
	}

	/* Round trip: random records, formatted and parsed back. */
	struct enrp_journal_record r;
	char buf[JOURNAL_SYSLOG_MAX];
	int good = 0;
	srandom(7);
	for (int i = 0; i < 500; i++) {
		memset(&r, 0, sizeof(r));
		r.seq = ((uint64_t)random() << 33 | (uint64_t)random()) + 1;
		r.time_ns = (int64_t)random() * 1000003;
		r.uid = (uint32_t)random();
		for (int k = 0; k < 32; k++)
			r.hash[k] = (uint8_t)random();
		for (size_t k = 0; k < sizeof(r.command) - 1; k++)
			r.command[k] = (char)(random() % 255 + 1);
		for (size_t k = 0; k < (size_t)(random() % 300); k++)
			r.details[k] = (char)(random() % 255 + 1);
		strcpy(r.event, "e]\"\\");
		size_t n = journal_syslog_format(&r, "fedcba9876543210", "h", 1, buf, sizeof(buf));
		memset(&a, 0, sizeof(a));
		if (n && memchr(buf, '\n', n) == NULL &&
		    enrp_journal_anchor_parse(buf, n, &a, NULL) == 1 && a.seq == r.seq &&
		    memcmp(a.hash, r.hash, 32) == 0 && strcmp(a.journal, "fedcba9876543210") == 0)
			good++;
	}
	is_int(good, 500, "500 random records: formatted on one line, parsed back exactly");

	char fmt[ENRP_JOURNAL_ANCHOR_BUF];
	fill(&r);
	enrp_journal_anchor_format(123, r.hash, fmt);
	is_str(fmt, "123:" HASH_HEX, "anchor_format: SEQ:HASH");
	is_int(parse(fmt, &a, &why), 1, "and it parses");
}

/* ---- verify_anchors ---- */

static struct enrp_journal_anchor mk(uint64_t seq, const uint8_t hash[32], const char *journal,
                                     const char *where)
{
	struct enrp_journal_anchor a;
	memset(&a, 0, sizeof(a));
	a.seq = seq;
	memcpy(a.hash, hash, 32);
	snprintf(a.journal, sizeof(a.journal), "%s", journal);
	snprintf(a.where, sizeof(a.where), "%s", where);
	return a;
}

static int del_fn(enrp_txn *t, void *arg)
{
	uint8_t key[8];
	be64_put(key, *(uint64_t *)arg);
	return txn_del(t, DBI_JOURNAL, key, sizeof(key));
}

static int head_put_fn(enrp_txn *t, void *arg)
{
	return txn_put(t, DBI_META, "journal_head", 12, arg, JOURNAL_HEAD_LEN, 0);
}

/* Removes the records after KEEP and moves the head to KEEP (what an
 * administrator with the files can do). */
static void cut_head(enrp_store *st, uint64_t keep, const uint8_t hash[32], uint64_t last)
{
	uint8_t head[JOURNAL_HEAD_LEN];
	for (uint64_t s = keep + 1; s <= last; s++)
		if (enrp_store_write(st, del_fn, &s))
			diag("delete %llu failed", (unsigned long long)s);
	rec_journal_head_encode(head, keep, hash);
	if (enrp_store_write(st, head_put_fn, head))
		diag("head put failed");
}

static void verify_anchors(void)
{
	enrp_store *st = new_store("none");
	struct enrp_journal_verdict v;
	struct enrp_journal_anchor an[16];
	uint8_t bad[32];

	is_int(enrp_journal_verify_anchors(st, an, 0, &v), 0, "no anchors: runs");
	ok(v.intact && v.records == 0 && v.covered == 0, "empty journal, no anchors: intact");
	memset(bad, 0xab, 32);
	an[0] = mk(1, bad, "", "a:1");
	is_int(enrp_journal_verify_anchors(st, an, 1, &v), 0, "empty journal, an anchor: runs");
	ok(!v.intact && v.by_anchor && v.bad_seq == 1 && strstr(v.reason, "ends at record 0"),
	   "empty journal: the anchor is past the end (%s)", v.reason);

	append(st, 10);
	struct rec_list *l = records(st);
	is_int(l->n, 10, "10 records");
	char id[ENRP_JOURNAL_ID_LEN + 1];
	journal_id(l->r[0].hash, id);

	is_int(enrp_journal_verify_anchors(st, NULL, 0, &v), 0, "no anchors");
	ok(v.intact && v.records == 10 && v.covered == 0 && strcmp(v.journal, id) == 0,
	   "intact, nothing covered, the journal's name");
	ok(memcmp(v.last_hash, l->r[9].hash, 32) == 0 && v.last_time_ns == l->r[9].time_ns,
	   "the verdict names the last record's hash and time");

	size_t n = 0;
	for (int i = 9; i >= 0; i--) /* reverse order, some twice, some named */
		an[n++] = mk(l->r[i].seq, l->r[i].hash, i % 2 ? id : "", "all");
	an[n++] = mk(l->r[3].seq, l->r[3].hash, "", "again");
	is_int(enrp_journal_verify_anchors(st, an, n, &v), 0, "all records anchored");
	ok(v.intact && v.anchors == 10 && v.covered == 10 && v.foreign == 0,
	   "intact, 10 distinct anchored, all covered");

	an[0] = mk(5, l->r[4].hash, "", "five");
	is_int(enrp_journal_verify_anchors(st, an, 1, &v), 0, "one anchor at 5");
	ok(v.intact && v.covered == 5 && v.anchors == 1, "records 1-5 covered");

	an[0] = mk(6, l->r[5].hash, "", "six");
	an[1] = mk(7, bad, "", "f:7");
	is_int(enrp_journal_verify_anchors(st, an, 2, &v), 0, "a wrong hash at 7");
	ok(!v.intact && v.by_anchor && v.bad_seq == 7 && v.covered == 6 &&
	   strstr(v.reason, "record 7 differs from its anchor (f:7)") &&
	   strstr(v.reason, "record 7 was changed"), "names record 7 exactly: %s", v.reason);

	an[0] = mk(3, l->r[2].hash, "", "three");
	is_int(enrp_journal_verify_anchors(st, an, 2, &v), 0, "a wrong hash at 7, a good one at 3");
	ok(!v.intact && v.bad_seq == 7 && strstr(v.reason, "a record from 4 to 7") &&
	   strstr(v.reason, "record 3 still matches three"), "names the range 4-7: %s", v.reason);

	an[0] = mk(12, bad, "", "f:12");
	is_int(enrp_journal_verify_anchors(st, an, 1, &v), 0, "an anchor past the end");
	ok(!v.intact && v.by_anchor && v.bad_seq == 11 &&
	   strstr(v.reason, "ends at record 10, but an anchor names record 12"),
	   "tail cut: %s", v.reason);

	an[0] = mk(4, l->r[3].hash, "", "x:4");
	an[1] = mk(4, bad, "", "y:9");
	is_int(enrp_journal_verify_anchors(st, an, 2, &v), 0, "two anchors disagree");
	ok(!v.intact && v.bad_seq == 4 && strstr(v.reason, "anchors disagree about record 4"),
	   "conflict: %s", v.reason);

	an[0] = mk(4, l->r[3].hash, "00000000deadbeef", "other:1");
	an[1] = mk(5, bad, "00000000deadbeef", "other:2");
	is_int(enrp_journal_verify_anchors(st, an, 2, &v), 0, "only another journal's anchors");
	ok(!v.intact && v.by_anchor && v.bad_seq == 1 && v.foreign == 2 &&
	   strstr(v.reason, "none of the 2 anchors is about this journal"), "%s", v.reason);
	an[2] = mk(8, l->r[7].hash, id, "mine");
	is_int(enrp_journal_verify_anchors(st, an, 3, &v), 0, "another journal's, and one of ours");
	ok(v.intact && v.foreign == 2 && v.anchors == 1 && v.covered == 8,
	   "the other journal's are skipped, ours holds");

	/* A broken chain is reported as such, before any anchor after it. */
	uint64_t six = 6;
	enrp_store_write(st, del_fn, &six);
	an[0] = mk(9, bad, "", "late");
	is_int(enrp_journal_verify_anchors(st, an, 1, &v), 0, "chain broken at 6, bad anchor at 9");
	ok(!v.intact && !v.by_anchor && v.bad_seq == 6 && strstr(v.reason, "record 6 missing"),
	   "the chain's break comes first: %s", v.reason);

	struct enrp_journal_head h;
	is_int(enrp_journal_head(st, &h), 0, "head of a broken chain: still readable");
	ok(h.seq == 10 && memcmp(h.hash, l->r[9].hash, 32) == 0 && strcmp(h.journal, id) == 0,
	   "head: seq, hash, journal");
	enrp_store_close(st);

	st = new_store("none");
	is_int(enrp_journal_head(st, &h), 0, "head of an empty journal");
	ok(h.seq == 0 && h.journal[0] == '\0', "seq 0, no name");
	enrp_store_close(st);
}

/* ---- the sender ---- */

static void sender(void)
{
	char target[300];
	const char *sock = path_of("recv", 1);
	int fd = receiver(sock);
	struct enrp_journal_anchor got[64];
	struct enrp_journal_mirror_status ms;

	snprintf(target, sizeof(target), "unix:%s", sock);
	enrp_store *st = new_store(target);
	log_reset();
	append(st, 5);
	size_t n = drain(fd, got, 64, NULL);
	struct rec_list *l = records(st);
	bool same = n == 5;
	for (size_t i = 0; same && i < n; i++)
		same = got[i].seq == i + 1 && memcmp(got[i].hash, l->r[i].hash, 32) == 0;
	ok(same, "5 appends: 5 messages, in order, with the records' hashes (%zu)", n);
	char id[ENRP_JOURNAL_ID_LEN + 1];
	journal_id(l->r[0].hash, id);
	is_str(got[0].journal, id, "messages name the journal");
	is_int(enrp_journal_mirror_status(st, &ms), 0, "status");
	ok(ms.head_seq == 5 && ms.sent_seq == 5 && !ms.failing_since && strcmp(ms.target, target) == 0,
	   "status: head 5, sent 5, not failing, the target");
	is_int(n_warn + n_err, 0, "nothing logged");

	/* The receiver goes away: records stay pending, one warning. */
	close(fd);
	unlink(sock);
	append(st, 3);
	is_int(n_warn, 1, "3 appends to a missing receiver: one warning (%s)", last_log);
	is_int(enrp_journal_mirror_status(st, &ms), 0, "status");
	ok(ms.head_seq == 8 && ms.sent_seq == 5 && ms.failing_since > 0 &&
	   strstr(ms.error, sock) && strstr(ms.error, "No such file"),
	   "status: sent 5 of 8, failing: %s", ms.error);
	is_int(enrp_journal_mirror_flush(st), -ENOENT, "flush to a missing receiver: -ENOENT");
	is_int(n_warn, 1, "still one warning");

	fd = receiver(sock);
	is_int(enrp_journal_mirror_flush(st), 0, "the receiver is back: flush sends");
	n = drain(fd, got, 64, NULL);
	l = records(st);
	ok(n == 3 && got[0].seq == 6 && got[2].seq == 8 && memcmp(got[2].hash, l->r[7].hash, 32) == 0,
	   "records 6-8 arrive, in order (%zu)", n);
	ok(n_notice == 1 && strstr(last_log, "works again"), "one notice: %s", last_log);
	enrp_journal_mirror_status(st, &ms);
	ok(ms.sent_seq == 8 && !ms.failing_since && !ms.error[0], "status: all sent, not failing");

	/* A receiver that does not read: the queue fills, the record stays
	 * pending ("queue full"), and goes once it reads again. */
	int filler = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	connect(filler, (struct sockaddr *)&sa, sizeof(sa));
	int queued = 0;
	while (send(filler, "x", 1, MSG_DONTWAIT) == 1 && queued < 100000)
		queued++;
	log_reset();
	append(st, 1);
	enrp_journal_mirror_status(st, &ms);
	ok(ms.sent_seq == 8 && ms.failing_since && strstr(ms.error, "queue full"),
	   "a full queue (%d datagrams): pending, failing: %s", queued, ms.error);
	is_int(n_warn, 1, "one warning");
	while (*next_msg(fd))
		;
	is_int(enrp_journal_mirror_flush(st), 0, "drained: flush sends");
	n = drain(fd, got, 64, NULL);
	ok(n == 1 && got[0].seq == 9, "record 9 arrives");
	close(filler);

	/* The journal cut under the sender (records 8-9 removed, the head moved)
	 * and a new record 8: an alarm, then what the journal now holds. */
	l = records(st);
	uint8_t h7[32];
	memcpy(h7, l->r[6].hash, 32);
	cut_head(st, 7, h7, 9);
	log_reset();
	append(st, 1);
	int alarms = 0;
	n = drain(fd, got, 64, &alarms);
	l = records(st);
	is_int(alarms, 1, "one alarm reached the receiver");
	ok(n >= 1 && got[n - 1].seq == 8 && memcmp(got[n - 1].hash, l->r[7].hash, 32) == 0,
	   "the new record 8 arrives (%zu messages, from %llu)", n,
	   n ? (unsigned long long)got[0].seq : 0ULL);
	ok(n <= 2, "at most the records since the last checkpoint are sent again (%zu)", n);
	ok(n_err >= 1, "the divergence is logged as an error");

	/* An unparsable cursor: everything is sent again. */
	char state[300];
	snprintf(state, sizeof(state), "%s/run/journal-mirror", enrp_store_path(st));
	FILE *f = fopen(state, "w");
	fputs("garbage\n", f);
	fclose(f);
	log_reset();
	append(st, 1);
	n = drain(fd, got, 64, NULL);
	ok(n == 9 && got[0].seq == 1 && got[8].seq == 9, "garbage cursor: records 1-9 sent again (%zu)", n);
	is_int(n_warn, 1, "and one warning: %s", last_log);

	/* Changing the target: the change goes to the old one first. */
	const char *sock2 = path_of("recv", 2);
	int fd2 = receiver(sock2);
	char target2[300];
	snprintf(target2, sizeof(target2), "unix:%s", sock2);
	is_int(enrp_journal_mirror_set(st, &actor, "tcp:1.2.3.4:5", false), -EINVAL, "bad target");
	is_int(enrp_journal_mirror_set(st, &actor, target, false), -EALREADY, "same target");
	is_int(enrp_journal_mirror_set(st, &actor, target2, false), 0, "move to receiver 2");
	n = drain(fd, got, 64, NULL);
	l = records(st);
	ok(n == 1 && got[0].seq == 10 && strcmp(l->r[9].event, "mirror-target") == 0,
	   "the old receiver gets the change record 10 (%zu)", n);
	ok(strstr(l->r[9].details, "forced=no unsent=0") != NULL, "details: %s", l->r[9].details);
	n = drain(fd2, got, 64, NULL);
	ok(n == 1 && got[0].seq == 10, "the new receiver gets it too");
	append(st, 1);
	ok(drain(fd, got, 64, NULL) == 0, "the old receiver gets nothing more");
	n = drain(fd2, got, 64, NULL);
	ok(n == 1 && got[0].seq == 11, "the new receiver gets record 11");

	/* The present target is gone: a change is refused, or forced. */
	close(fd2);
	unlink(sock2);
	append(st, 1);
	is_int(enrp_journal_mirror_set(st, &actor, target, false), -EHOSTUNREACH,
	       "the present target is gone: refused");
	is_int(records(st)->n, 12, "nothing journalled");
	is_int(enrp_journal_mirror_set(st, &actor, target, true), 0, "forced");
	l = records(st);
	ok(l->n == 13 && strstr(l->r[12].details, "forced=yes unsent=1"), "forced: %s",
	   l->r[12].details);
	n = drain(fd, got, 64, NULL);
	ok(n == 2 && got[0].seq == 12 && got[1].seq == 13,
	   "the pending record and the change go to the new target (%zu)", n);
	enrp_journal_mirror_status(st, &ms);
	ok(ms.sent_seq == 13 && !ms.failing_since, "status: all sent");

	is_int(enrp_journal_mirror_init(st, "none"), -EEXIST, "init on a store with records: -EEXIST");
	enrp_store_close(st);
	st = new_store("none");
	is_int(enrp_journal_mirror_init(st, "none"), -EEXIST, "init twice: -EEXIST");
	is_int(enrp_journal_mirror_init(st, "bad"), -EINVAL, "init with a bad target: -EINVAL");
	enrp_store_close(st);

	/* The daemon's discipline: a group is mirrored once it commits, its
	 * denials (many records in one write) all of them. */
	char path[300];
	snprintf(path, sizeof(path), "%s", path_of("s", store_no++));
	enrp_store_create(path);
	enrp_store_open(path, 0, &st);
	enrp_journal_mirror_init(st, target);
	enrp_store_close(st);
	is_int(enrp_store_open(path, ENRP_STORE_GROUP_COMMIT, &st), 0, "open with group commit");
	enrp_denials *d;
	enrp_denials_new(st, &d);
	for (uint32_t uid = 1; uid <= 20; uid++)
		enrp_denials_note(d, "alpha", uid, 0, ENRP_OP_READ, -EACCES, NULL, NULL);
	is_int(enrp_denials_flush(d, &actor, enrp_now_ns(), true), 0, "20 denials in one write");
	is_int(enrp_store_sync(st), 0, "sync");
	/* The hook does not wait for a full queue (10 datagrams here, by
	 * default): the daemon's tick (poll) sends the rest. */
	n = 0;
	for (int i = 0; i < 10 && n < 20; i++) {
		n += drain(fd, got + n, 64 - n, NULL);
		enrp_journal_mirror_poll(st);
	}
	n += drain(fd, got + n, 64 - n, NULL);
	same = n == 20;
	for (size_t i = 0; same && i < n; i++)
		same = got[i].seq == i + 1;
	ok(same, "after the commit: 20 messages, in order (%zu)", n);
	enrp_denials_free(d);
	enrp_store_close(st);
	close(fd);
}

int main(void)
{
	tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_journal_mirror");
	enrp_log_set_sink(sink, NULL, ENRP_LOG_DEBUG);

	targets();
	formatter();
	parser();
	verify_anchors();
	sender();

	tap_rmrf(tmp);
	return done_testing();
}
