/*
 * journal_syslog.c — the wire format of the audit journal's syslog mirror:
 * the RFC 5424 message of a record (and of an alarm), the parser of anchors
 * (SEQ:HASH lines and the mirror's messages as a collector saved them), and
 * the spellings of a target.  Pure: no store, no I/O, no logging, so the
 * fuzzer (tests/fuzz/fuzz_anchor.c) links it alone.  journal_mirror.c says
 * why the message looks as it does; DESIGN.md §7 why there is one.
 *
 * Trust: a collector's file holds whatever anyone on the host (or the
 * network, for UDP) sent to syslog, so the parser takes any bytes, reads
 * only the first [enrp@32473 ...] element of a line (the header's: MSG,
 * which a client can fill through a path in the details, comes after it),
 * bounds every value, and says exactly what is malformed.  A forged line can
 * only add an anchor, and an anchor can only make verification fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "journal_int.h"

#define PRI_NOTICE 85 /* authpriv (10) * 8 + notice (5) */
#define PRI_ALERT 81  /* authpriv * 8 + alert (1) */

static const char hexdig[] = "0123456789abcdef";

void journal_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool journal_unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool journal_parse_seq(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v == 0)
		return false;
	*out = v;
	return true;
}

/* ---- targets ---- */

int journal_target_parse(const char *s, struct journal_target *t)
{
	memset(t, 0, sizeof(*t));
	if (!s || strlen(s) > ENRP_JOURNAL_TARGET_MAX)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return -EINVAL;
	if (strcmp(s, "none") == 0) {
		t->kind = TARGET_NONE;
		return 0;
	}
	if (strncmp(s, "unix:", 5) == 0) {
		const char *path = s + 5;
		if (path[0] != '/' || strlen(path) >= sizeof(t->path))
			return -EINVAL;
		t->kind = TARGET_UNIX;
		strcpy(t->path, path);
		return 0;
	}
	if (strncmp(s, "udp:", 4) != 0)
		return -EINVAL;
	const char *h = s + 4, *colon;
	size_t hlen;
	bool v6 = h[0] == '[';
	if (v6) {
		const char *close = strchr(h, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h++;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - h);
	}
	if (hlen == 0 || hlen >= sizeof(t->host))
		return -EINVAL;
	memcpy(t->host, h, hlen);
	t->host[hlen] = '\0';
	uint8_t addr[16];
	if (inet_pton(v6 ? AF_INET6 : AF_INET, t->host, addr) != 1)
		return -EINVAL;
	const char *port = colon + 1;
	unsigned long p = 0;
	if (!*port || strlen(port) > 5)
		return -EINVAL;
	for (const char *q = port; *q; q++) {
		if (*q < '0' || *q > '9')
			return -EINVAL;
		p = p * 10 + (unsigned long)(*q - '0');
	}
	if (p == 0 || p > 65535)
		return -EINVAL;
	t->kind = TARGET_UDP;
	t->port = (unsigned)p;
	return 0;
}

int enrp_journal_target_check(const char *target)
{
	struct journal_target t;
	return journal_target_parse(target, &t);
}

/* ---- the message ---- */

struct sbuf {
	char *p;
	size_t size, len;
	bool over;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 >= b->size) {
		b->over = true;
		return;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->over)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->size - b->len) {
		b->over = true;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

/* A byte that would end a line, or is not text: \xHH. */
static void sb_escaped_byte(struct sbuf *b, unsigned char c)
{
	sb_putc(b, '\\');
	sb_putc(b, 'x');
	sb_putc(b, hexdig[c >> 4]);
	sb_putc(b, hexdig[c & 15]);
}

/* name="value" with RFC 5424's escapes ('"', '\' and ']' after a
 * backslash); a PARAM-VALUE must be UTF-8, so anything but printable ASCII
 * becomes \xHH (which a reader sees as those four characters). */
static void sb_param(struct sbuf *b, const char *name, const char *value)
{
	sb_printf(b, " %s=\"", name);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == ']') {
			sb_putc(b, '\\');
			sb_putc(b, (char)*p);
		} else if (*p < 0x20 || *p >= 0x7f) {
			sb_escaped_byte(b, *p);
		} else {
			sb_putc(b, (char)*p);
		}
	}
	sb_putc(b, '"');
}

/* Free text: every byte but control ones (and backslash, so that \xHH
 * stays unambiguous) as is. */
static void sb_text(struct sbuf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			sb_escaped_byte(b, *p);
		else
			sb_putc(b, (char)*p);
	}
}

/* "<PRI>1 TIMESTAMP HOST enrp PID MSGID " */
static void sb_header(struct sbuf *b, int pri, int64_t time_ns, const char *host, int pid,
                      const char *msgid)
{
	int64_t sec = time_ns / 1000000000, ns = time_ns % 1000000000;
	if (ns < 0) {
		sec--;
		ns += 1000000000;
	}
	time_t tt = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		sb_printf(b, "<%d>1 - ", pri); /* RFC 5424's NILVALUE: no usable time */
	} else {
		sb_printf(b, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06dZ ", pri, tm.tm_year + 1900,
		          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		          (int)(ns / 1000));
	}
	/* RFC 5424 allows any printable ASCII; a host name, an IPv4 or an IPv6
	 * address needs fewer, and none of '[', ']', '"' or '=' may then come
	 * before the structured data that the parser looks for. */
	bool host_ok = host && *host && strlen(host) <= 255;
	for (const char *p = host; host_ok && *p; p++)
		host_ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		          (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_' ||
		          *p == ':';
	sb_printf(b, "%s enrp %d %s ", host_ok ? host : "-", pid, msgid);
}

size_t journal_syslog_format(const struct enrp_journal_record *r, const char *journal,
                             const char *host, int pid, char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0, size == 0 };
	char hash[65], prev[65], num[24];

	if (size)
		buf[0] = '\0';
	sb_header(&b, PRI_NOTICE, r->time_ns, host, pid, "journal");
	journal_hex(r->hash, 32, hash);
	journal_hex(r->prev_hash, 32, prev);
	sb_printf(&b, "[%s", JOURNAL_SD_ID);
	sb_param(&b, "journal", journal);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->seq);
	sb_param(&b, "seq", num);
	sb_param(&b, "hash", hash);
	sb_param(&b, "prev", prev);
	snprintf(num, sizeof(num), "%lld", (long long)r->time_ns);
	sb_param(&b, "time", num);
	sb_param(&b, "event", r->event);
	sb_param(&b, "eir", r->eir);
	snprintf(num, sizeof(num), "%u", r->uid);
	sb_param(&b, "uid", num);
	snprintf(num, sizeof(num), "%u", r->pid);
	sb_param(&b, "pid", num);
	sb_param(&b, "cmd", r->command);
	/* The person, like the actor's uid: present only when known, so a
	 * record of format 1 and a daemon's record look as they always did. */
	if (r->login_uid != ENRP_NO_UID) {
		snprintf(num, sizeof(num), "%u", r->login_uid);
		sb_param(&b, "login_uid", num);
	}
	if (r->sudo_uid != ENRP_NO_UID) {
		snprintf(num, sizeof(num), "%u", r->sudo_uid);
		sb_param(&b, "sudo_uid", num);
	}
	if (r->sudo_user[0])
		sb_param(&b, "sudo_user", r->sudo_user);
	/* Event and EIR are names enrp chose, but a damaged store can hold any
	 * bytes: they are escaped like the details. */
	sb_printf(&b, "] ");
	sb_text(&b, r->event);
	sb_putc(&b, ' ');
	sb_text(&b, r->eir[0] ? r->eir : "-");
	if (r->details[0]) {
		sb_putc(&b, ' ');
		sb_text(&b, r->details);
	}
	return b.over ? 0 : b.len;
}

size_t journal_syslog_alarm(const char *journal, uint64_t mirrored_seq,
                            const uint8_t mirrored_hash[32], uint64_t head_seq, const char *what,
                            int64_t now_ns, const char *host, int pid, char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0, size == 0 };
	char hash[65], num[24];

	if (size)
		buf[0] = '\0';
	journal_hex(mirrored_hash, 32, hash);
	sb_header(&b, PRI_ALERT, now_ns, host, pid, "alarm");
	sb_printf(&b, "[enrpAlarm@32473");
	sb_param(&b, "journal", journal);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)mirrored_seq);
	sb_param(&b, "mirrored_seq", num);
	sb_param(&b, "mirrored_hash", hash);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)head_seq);
	sb_param(&b, "head_seq", num);
	sb_printf(&b, "] ");
	sb_text(&b, what);
	sb_printf(&b, ": the audit journal was changed, cut or rolled back after it was mirrored");
	return b.over ? 0 : b.len;
}

/* ---- anchors ---- */

void enrp_journal_anchor_format(uint64_t seq, const uint8_t hash[32],
                                char buf[ENRP_JOURNAL_ANCHOR_BUF])
{
	int n = snprintf(buf, ENRP_JOURNAL_ANCHOR_BUF, "%llu:", (unsigned long long)seq);
	journal_hex(hash, 32, buf + n);
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int bad(const char **why, const char *what)
{
	if (why)
		*why = what;
	return -EINVAL;
}

/* "SEQ:HASH", blanks and a '#' comment after it allowed. */
static int parse_plain(const char *s, size_t len, struct enrp_journal_anchor *a, const char **why)
{
	size_t i = 0, j;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (!journal_parse_seq(s, i, &a->seq))
		return bad(why, "the sequence number must be a decimal number from 1 on");
	j = ++i; /* past ':' */
	while (j < len && hexval((unsigned char)s[j]) >= 0)
		j++;
	if (!journal_unhex(s + i, j - i, a->hash, 32))
		return bad(why, "the hash must be 64 hexadecimal digits");
	while (j < len && blank(s[j]))
		j++;
	if (j < len && s[j] != '#')
		return bad(why, "unexpected text after SEQ:HASH");
	a->journal[0] = '\0';
	return 1;
}

/* One SD-ELEMENT from S (just past "[SD-ID"), to its ']'. */
static int parse_sd(const char *s, size_t len, struct enrp_journal_anchor *a, const char **why)
{
	bool have_seq = false, have_hash = false, have_journal = false;
	size_t i = 0;
	char val[80];

	for (;;) {
		if (i < len && s[i] == ']')
			break;
		if (i >= len || s[i] != ' ')
			return bad(why, "structured data element not closed by ']'");
		i++;
		size_t n0 = i;
		while (i < len && s[i] != '=' && s[i] != ' ' && s[i] != ']' && s[i] != '"' &&
		       (unsigned char)s[i] > 32 && (unsigned char)s[i] < 127)
			i++;
		size_t nlen = i - n0;
		if (nlen == 0 || nlen > 32 || i + 1 >= len || s[i] != '=' || s[i + 1] != '"')
			return bad(why, "malformed parameter in the structured data");
		i += 2;
		/* The value, unescaped; only short ones matter here. */
		size_t vlen = 0;
		bool too_long = false;
		for (;;) {
			if (i >= len)
				return bad(why, "parameter value not closed by '\"'");
			char c = s[i++];
			if (c == '"')
				break;
			if (c == ']')
				return bad(why, "unescaped ']' in a parameter value");
			if (c == '\\' && i < len && (s[i] == '"' || s[i] == '\\' || s[i] == ']'))
				c = s[i++];
			if (vlen + 1 < sizeof(val))
				val[vlen++] = c;
			else
				too_long = true;
		}
		const char *name = s + n0;
#define NAME_IS(lit) (nlen == sizeof(lit) - 1 && memcmp(name, lit, nlen) == 0)
		if (NAME_IS("seq")) {
			if (have_seq)
				return bad(why, "parameter seq given twice");
			have_seq = true;
			if (too_long || !journal_parse_seq(val, vlen, &a->seq))
				return bad(why, "seq is not a sequence number from 1 on");
		} else if (NAME_IS("hash")) {
			if (have_hash)
				return bad(why, "parameter hash given twice");
			have_hash = true;
			if (too_long || !journal_unhex(val, vlen, a->hash, 32))
				return bad(why, "hash is not 64 hexadecimal digits");
		} else if (NAME_IS("journal")) {
			uint8_t id[ENRP_JOURNAL_ID_LEN / 2];
			if (have_journal)
				return bad(why, "parameter journal given twice");
			have_journal = true;
			if (too_long || !journal_unhex(val, vlen, id, sizeof(id)))
				return bad(why, "journal is not 16 hexadecimal digits");
			journal_hex(id, sizeof(id), a->journal);
		}
#undef NAME_IS
	}
	if (!have_seq || !have_hash || !have_journal)
		return bad(why, "the structured data lacks journal, seq or hash");
	return 1;
}

int enrp_journal_anchor_parse(const char *line, size_t len, struct enrp_journal_anchor *a,
                              const char **why)
{
	static const char sd[] = "[" JOURNAL_SD_ID;
	size_t i = 0;

	while (i < len && blank(line[i]))
		i++;
	while (len > i && blank(line[len - 1]))
		len--;
	if (i == len || line[i] == '#')
		return 0;
	/* The first such element is the header's: MSG, which a client can fill,
	 * comes after it.  Another SD-ID that starts alike ("enrp@324730") is
	 * not it. */
	for (size_t from = i; from < len;) {
		const char *at = memmem(line + from, len - from, sd, sizeof(sd) - 1);
		if (!at)
			break;
		size_t off = (size_t)(at - line) + sizeof(sd) - 1;
		if (off >= len || line[off] == ' ' || line[off] == ']')
			return parse_sd(line + off, len - off, a, why);
		from = off;
	}
	/* Meant as SEQ:HASH when it starts with digits and ':'. */
	size_t j = i;
	while (j < len && line[j] >= '0' && line[j] <= '9')
		j++;
	if (j > i && j < len && line[j] == ':')
		return parse_plain(line + i, len - i, a, why);
	return 0;
}

