/*
 * test_text.c — enrp_text_escape: every control, escape sequence, invalid
 * byte and bidi override made visible, UTF-8 text kept, cuts at whole
 * pieces, and the returned length like snprintf's; enrp_utf8_decode on the
 * edges of UTF-8.
 */
#include <stdio.h>
#include <string.h>

#include <enrp/text.h>

#include "../tap.h"

static void esc_is(const char *in, const char *want, const char *what)
{
	char buf[256];
	size_t n = enrp_text_escape(buf, sizeof(buf), in);
	is_str(buf, want, "%s", what);
	is_int(n, strlen(want), "%s: length", what);
	ok(enrp_text_needs_escape(in) == (strcmp(in, want) != 0), "%s: needs_escape agrees", what);
}

static void test_escape(void)
{
	esc_is("plain-name_1.0", "plain-name_1.0", "printable ASCII is kept");
	esc_is("", "", "empty");
	esc_is("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m", "ANSI colour sequence");
	esc_is("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07", "OSC title sequence with BEL");
	esc_is("a\nenrpctl: fake", "a\\nenrpctl: fake", "newline cannot fake a message line");
	esc_is("a\rb\tc", "a\\rb\\tc", "carriage return and tab");
	esc_is("back\\slash", "back\\\\slash", "backslash doubled, so escapes read back");
	esc_is("\x7f\x01\x1f", "\\x7f\\x01\\x1f", "DEL and other C0 controls");
	esc_is("\x9b" "31m", "\\x9b31m", "a lone 8-bit CSI byte (not UTF-8)");
	esc_is("\xc2\x9b" "31m", "\\u009b31m", "U+009B (C1 CSI) in UTF-8");
	esc_is("\xc2\x85", "\\u0085", "U+0085 NEL");
	esc_is("abc\xe2\x80\xae" "txt.exe", "abc\\u202etxt.exe", "right-to-left override");
	esc_is("\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069", "bidi isolates");
	esc_is("zero\xe2\x80\x8bwidth", "zero\\u200bwidth", "zero-width space");
	esc_is("\xef\xbb\xbf" "bom", "\\ufeffbom", "byte order mark");
	esc_is("\xd8\xa7\xd9\x84", "\xd8\xa7\xd9\x84", "Arabic letters are kept");
	esc_is("\xd0\xbf\xd1\x80\xd0\xb8\xd1\x87\xd0\xb8\xd0\xbd\xd0\xb0",
	       "\xd0\xbf\xd1\x80\xd0\xb8\xd1\x87\xd0\xb8\xd0\xbd\xd0\xb0", "Cyrillic reason is kept");
	esc_is("caf\xc3\xa9 \xf0\x9f\x92\xbe", "caf\xc3\xa9 \xf0\x9f\x92\xbe", "accents and emoji are kept");
	esc_is("\xc0\xaf", "\\xc0\\xaf", "overlong '/' is two invalid bytes");
	esc_is("\xed\xa0\x80", "\\xed\\xa0\\x80", "a UTF-16 surrogate is invalid");
	esc_is("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", "past U+10FFFF is invalid");
	esc_is("\xe2\x82", "\\xe2\\x82", "a truncated sequence at the end");
	esc_is("\xff\xfe", "\\xff\\xfe", "bytes that never occur in UTF-8");
}

static void test_cut(void)
{
	char buf[8];
	size_t n = enrp_text_escape(buf, sizeof(buf), "abcdefghij");
	is_int(n, 10, "a cut string: the full length is returned");
	is_str(buf, "abcdefg", "... and as much as fits, NUL-terminated");
	n = enrp_text_escape(buf, sizeof(buf), "abcde\x1b[m");
	is_str(buf, "abcde", "an escape that does not fit is left out whole");
	is_int(n, 11, "... full length 11");
	n = enrp_text_escape(buf, sizeof(buf), "abcdef\xc3\xa9");
	is_str(buf, "abcdef", "a character that does not fit is left out whole");
	n = enrp_text_escape(buf, 1, "abc");
	is_str(buf, "", "size 1: empty string");
	n = enrp_text_escape(NULL, 0, "a\nb");
	is_int(n, 4, "size 0: only the length, nothing written");
}

static void test_decode(void)
{
	unsigned cp = 0;
	is_int(enrp_utf8_decode("A", &cp), 1, "ASCII: 1 byte");
	is_int(cp, 'A', "... U+0041");
	is_int(enrp_utf8_decode("\xc3\xa9", &cp), 2, "U+00E9: 2 bytes");
	is_int(cp, 0xe9, "... its code point");
	is_int(enrp_utf8_decode("\xe2\x80\xae", &cp), 3, "U+202E: 3 bytes");
	is_int(cp, 0x202e, "... its code point");
	is_int(enrp_utf8_decode("\xf4\x8f\xbf\xbf", &cp), 4, "U+10FFFF: 4 bytes");
	is_int(cp, 0x10ffff, "... its code point");
	is_int(enrp_utf8_decode("\xc1\xbf", NULL), 0, "overlong 2-byte form: 0");
	is_int(enrp_utf8_decode("\xe0\x9f\xbf", NULL), 0, "overlong 3-byte form: 0");
	is_int(enrp_utf8_decode("\xf0\x8f\xbf\xbf", NULL), 0, "overlong 4-byte form: 0");
	is_int(enrp_utf8_decode("\x80", NULL), 0, "a lone continuation byte: 0");
}

int main(void)
{
	test_escape();
	test_cut();
	test_decode();
	return done_testing();
}
