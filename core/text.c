/*
 * text.c — user-supplied strings made safe to show on a terminal (text.h).
 *
 * One pass over the bytes: each is either copied (printable ASCII, and
 * whole UTF-8 sequences of printable characters) or replaced by an ASCII
 * escape.  The output is cut only between whole pieces, so a cut string
 * never ends in half an escape or half a character.
 */
#include <stdio.h>
#include <string.h>

#include <enrp/text.h>

size_t enrp_utf8_decode(const char *str, unsigned *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	size_t n;
	unsigned v;
	unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* nothing past U+10FFFF */
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (cp)
		*cp = v;
	return n;
}

/* Characters that are valid UTF-8 yet act instead of showing: C1 controls
 * (some terminals take U+009B as CSI) and the format controls that reorder
 * or hide text. */
static bool hidden_cp(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

/* The escape for the piece at S (length *LEN on return) into ESC, or ""
 * when the piece is copied as it is. */
static void piece(const char *s, size_t *len, char esc[8])
{
	unsigned char c = (unsigned char)*s;
	unsigned cp;
	esc[0] = '\0';
	*len = 1;
	switch (c) {
	case '\\': strcpy(esc, "\\\\"); return;
	case '\t': strcpy(esc, "\\t"); return;
	case '\n': strcpy(esc, "\\n"); return;
	case '\r': strcpy(esc, "\\r"); return;
	default: break;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(esc, 8, "\\x%02x", c);
		return;
	}
	if (c < 0x80)
		return;
	size_t n = enrp_utf8_decode(s, &cp);
	if (n == 0) {
		snprintf(esc, 8, "\\x%02x", c);
		return;
	}
	*len = n;
	if (hidden_cp(cp))
		snprintf(esc, 8, "\\u%04x", cp);
}

size_t enrp_text_escape(char *dst, size_t size, const char *s)
{
	size_t out = 0;
	bool cut = false;
	while (*s) {
		char esc[8];
		size_t len;
		piece(s, &len, esc);
		const char *src = esc[0] ? esc : s;
		size_t n = esc[0] ? strlen(esc) : len;
		if (!cut && size && out + n < size)
			memcpy(dst + out, src, n);
		else if (!cut && size) {
			dst[out] = '\0';
			cut = true;
		}
		out += n;
		s += len;
	}
	if (size && !cut)
		dst[out] = '\0';
	return out;
}

bool enrp_text_needs_escape(const char *s)
{
	while (*s) {
		char esc[8];
		size_t len;
		piece(s, &len, esc);
		if (esc[0])
			return true;
		s += len;
	}
	return false;
}
