/*
 * details.c — key=value pairs of a journal record, quoted where a value
 * would otherwise read back as something else (details.h says how).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/text.h>

#include "journal_int.h"

static bool must_quote(const char *v)
{
	if (!*v)
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' || *p == 0x7f)
			return true;
	return false;
}

static bool key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > ENRP_DETAILS_KEY_MAX)
		return false;
	return strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* The escape of byte C inside quotes into OUT (at most 5 bytes with the
 * NUL); "" when C stands for itself. */
static void quoted_escape(unsigned char c, char out[5])
{
	out[0] = '\0';
	switch (c) {
	case '"': strcpy(out, "\\\""); break;
	case '\\': strcpy(out, "\\\\"); break;
	case '\n': strcpy(out, "\\n"); break;
	case '\t': strcpy(out, "\\t"); break;
	case '\r': strcpy(out, "\\r"); break;
	default:
		if (c < 0x20 || c == 0x7f)
			snprintf(out, 5, "\\x%02x", c);
	}
}

/* Writes the quoted form of V at DST, which has ROOM bytes besides the NUL;
 * cuts before a character that does not fit, keeping room for the closing
 * quote and the \~ mark.  Returns the bytes written, or 0 when not even an
 * empty cut value fits. */
static size_t put_quoted(char *dst, size_t room, const char *v, bool *cut)
{
	size_t need = 2, n = 0;
	const char *p = v;
	char esc[5];

	/* Whole length first: the mark's 2 bytes are reserved only if cut. */
	for (; *p; p++) {
		quoted_escape((unsigned char)*p, esc);
		need += esc[0] ? strlen(esc) : 1;
	}
	*cut = need > room;
	size_t limit = *cut ? room : need;
	if (*cut && room < 4)
		return 0;
	if (*cut)
		limit -= 2; /* the \~ mark */
	dst[n++] = '"';
	for (p = v; *p;) {
		size_t clen = enrp_utf8_decode(p, NULL);
		char piece[8];
		size_t plen;
		if (clen > 1) {
			memcpy(piece, p, clen);
			plen = clen;
		} else {
			quoted_escape((unsigned char)*p, esc);
			if (esc[0]) {
				plen = strlen(esc);
				memcpy(piece, esc, plen);
			} else {
				piece[0] = *p;
				plen = 1;
			}
			clen = 1;
		}
		if (n + plen + 1 > limit)
			break;
		memcpy(dst + n, piece, plen);
		n += plen;
		p += clen;
	}
	if (*cut) {
		memcpy(dst + n, "\\~", 2);
		n += 2;
	}
	dst[n++] = '"';
	dst[n] = '\0';
	return n;
}

bool enrp_details_add(char *buf, size_t size, const char *key, const char *fmt, ...)
{
	char value[4096 + 512];
	va_list ap;

	if (!size || !key_valid(key))
		return false;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);

	size_t len = strnlen(buf, size - 1);
	size_t klen = strlen(key);
	size_t sep = len ? 1 : 0;
	if (len + sep + klen + 1 >= size)
		return false;
	char *out = buf + len + sep + klen + 1;
	size_t room = size - 1 - (len + sep + klen + 1);
	bool cut = false;

	if (!must_quote(value) && strlen(value) <= room) {
		memcpy(out, value, strlen(value) + 1);
	} else if (!put_quoted(out, room, value, &cut)) {
		buf[len] = '\0';
		return false;
	}
	if (sep)
		buf[len] = ' ';
	memcpy(buf + len + sep, key, klen);
	buf[len + sep + klen] = '=';
	return !cut;
}

static void put_byte(char *value, size_t valuesz, size_t *n, char c)
{
	if (*n + 1 < valuesz)
		value[(*n)++] = c;
}

bool enrp_details_next(const char **cursor, char *key, size_t keysz, char *value,
                       size_t valuesz, bool *cut)
{
	const char *p = *cursor;
	size_t n = 0;

	if (cut)
		*cut = false;
	while (*p == ' ')
		p++;
	if (!*p) {
		*cursor = p;
		return false;
	}
	if (keysz)
		key[0] = '\0';
	const char *eq = p;
	while (*eq && *eq != '=' && *eq != ' ')
		eq++;
	size_t klen = (size_t)(eq - p);
	bool paired = *eq == '=' && klen > 0 && klen <= ENRP_DETAILS_KEY_MAX;
	for (size_t i = 0; paired && i < klen; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", p[i]) )
			paired = false;
	if (!paired) {
		/* Not a pair: up to the next space, as it stands. */
		while (*p && *p != ' ')
			put_byte(value, valuesz, &n, *p++);
	} else {
		if (keysz) {
			size_t k = klen < keysz ? klen : keysz - 1;
			memcpy(key, p, k);
			key[k] = '\0';
		}
		p = eq + 1;
		if (*p != '"') {
			while (*p && *p != ' ')
				put_byte(value, valuesz, &n, *p++);
		} else {
			for (p++; *p && *p != '"'; p++) {
				if (*p != '\\' || !p[1]) {
					put_byte(value, valuesz, &n, *p);
					continue;
				}
				p++;
				uint8_t byte;
				switch (*p) {
				case 'n': put_byte(value, valuesz, &n, '\n'); break;
				case 't': put_byte(value, valuesz, &n, '\t'); break;
				case 'r': put_byte(value, valuesz, &n, '\r'); break;
				case '~':
					if (cut)
						*cut = true;
					break;
				case 'x':
					if (p[1] && journal_unhex(p + 1, 2, &byte, 1)) {
						put_byte(value, valuesz, &n, (char)byte);
						p += 2;
					} else {
						put_byte(value, valuesz, &n, 'x');
					}
					break;
				default: put_byte(value, valuesz, &n, *p); break;
				}
			}
			if (*p == '"')
				p++;
		}
	}
	if (valuesz)
		value[n < valuesz ? n : valuesz - 1] = '\0';
	*cursor = p;
	return true;
}

bool enrp_details_get(const char *details, const char *key, char *value, size_t valuesz)
{
	char k[ENRP_DETAILS_KEY_MAX + 1];
	const char *cur = details;

	while (enrp_details_next(&cur, k, sizeof(k), value, valuesz, NULL))
		if (!strcmp(k, key))
			return true;
	if (valuesz)
		value[0] = '\0';
	return false;
}
