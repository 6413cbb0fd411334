/*
 * test_details.c — journal details: values with spaces, quotes, '=' and
 * controls come back byte for byte; plain values stay unquoted as records
 * always had them; cut values are marked; older unpaired text still reads.
 */
#include <stdio.h>
#include <string.h>

#include <enrp/details.h>

#include "../tap.h"

static void roundtrip(const char *value, const char *what)
{
	char buf[256] = "", k[32], v[256];
	const char *cur = buf;
	bool cut = true;

	ok(enrp_details_add(buf, sizeof(buf), "ino", "%d", 7), "%s: first pair", what);
	ok(enrp_details_add(buf, sizeof(buf), "reason", "%s", value), "%s: added whole", what);
	ok(enrp_details_add(buf, sizeof(buf), "size", "%d", 42), "%s: pair after it", what);
	ok(enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), &cut) && !strcmp(k, "ino") &&
	   !strcmp(v, "7"), "%s: ino reads back", what);
	ok(enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), &cut), "%s: second pair", what);
	is_str(k, "reason", "%s: key", what);
	is_str(v, value, "%s: value byte for byte", what);
	ok(!cut, "%s: not cut", what);
	ok(enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), &cut) && !strcmp(k, "size") &&
	   !strcmp(v, "42"), "%s: the pair after it is still a pair", what);
	ok(!enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), &cut), "%s: end", what);
}

static void test_roundtrip(void)
{
	roundtrip("plain", "plain word");
	roundtrip("long-term storage, order 12", "spaces");
	roundtrip("size=99 sha256=00", "text that looks like pairs");
	roundtrip("say \"hi\" \\ back", "quotes and backslashes");
	roundtrip("", "empty");
	roundtrip("line\nfake=1\t\r\x01\x7f", "controls");
	roundtrip("долгосрочное хранение, приказ 12", "Russian");
	roundtrip("ұзақ мерзімді сақтау", "Kazakh");
	roundtrip("a\\x41", "a literal backslash-x");
}

static void test_plain_form(void)
{
	char buf[128] = "";
	enrp_details_add(buf, sizeof(buf), "mode", "%s", "rw->wo");
	enrp_details_add(buf, sizeof(buf), "reason", "%s", "a b");
	is_str(buf, "mode=rw->wo reason=\"a b\"", "plain values unquoted, others quoted");
	ok(!enrp_details_add(buf, sizeof(buf), "Bad", "x"), "upper-case key refused");
	ok(!enrp_details_add(buf, sizeof(buf), "", "x"), "empty key refused");
	is_str(buf, "mode=rw->wo reason=\"a b\"", "refused keys change nothing");

	char v[64];
	ok(enrp_details_get("uid=5 op=unlink errno=EACCES count=3", "op", v, sizeof(v)) &&
	   !strcmp(v, "unlink"), "old-style record: get op");
	ok(!enrp_details_get("uid=5", "path", v, sizeof(v)) && !v[0], "missing key: false, empty");

	const char *cur = "legacy words ino=3";
	char k[32];
	ok(enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), NULL) && !k[0] &&
	   !strcmp(v, "legacy"), "unpaired text comes back with an empty key");
	enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), NULL);
	ok(enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), NULL) && !strcmp(k, "ino") &&
	   !strcmp(v, "3"), "and pairs after it still read");
}

static void test_cut(void)
{
	char buf[40] = "", k[32], v[128];
	bool cut = false;
	ok(enrp_details_add(buf, sizeof(buf), "ino", "9"), "short pair fits");
	ok(!enrp_details_add(buf, sizeof(buf), "path", "%s", "dumps/ééééééééééééééééééééé.dump"),
	   "long value reported cut");
	ok(strlen(buf) < sizeof(buf), "buffer not overrun");
	const char *cur = buf;
	enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), &cut);
	ok(enrp_details_next(&cur, k, sizeof(k), v, sizeof(v), &cut), "cut pair still reads");
	is_str(k, "path", "cut pair's key");
	ok(cut, "reader sees the cut mark");
	ok(!strncmp(v, "dumps/", 6), "cut value keeps its start");
	/* Never half a UTF-8 character. */
	size_t n = strlen(v);
	ok(n >= 6 && ((unsigned char)v[n - 1] < 0x80 || (unsigned char)v[n - 1] == 0xa9),
	   "cut at a character boundary");
	ok(!enrp_details_add(buf, sizeof(buf), "more", "x"), "nothing fits after a full buffer");

	char tiny[8] = "";
	ok(!enrp_details_add(tiny, sizeof(tiny), "reason", "a b"), "no room for key and quotes");
	is_str(tiny, "", "nothing half-written");
}

int main(void)
{
	test_roundtrip();
	test_plain_form();
	test_cut();
	return done_testing();
}
