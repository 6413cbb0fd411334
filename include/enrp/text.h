/*
 * text.h — user-supplied strings made safe to show on a terminal.
 *
 * EIR names, paths, reasons and option values come from people and
 * programs enrp does not control, and enrpctl and enrpfs echo them in
 * messages, tables and logs.  Written raw, an escape sequence in a reason
 * can rewrite the administrator's screen, a newline in a path can fake a
 * second message, and a right-to-left override can make a name read as
 * another.  enrp_text_escape() is the one place where such bytes are made
 * visible; every printer of enrpctl and enrpfs goes through it.
 *
 * What is escaped, and how (the result is plain ASCII for them, and every
 * escape reads back unambiguously):
 *   backslash                          \\
 *   tab, newline, carriage return      \t \n \r
 *   other C0 controls and DEL          \xHH  (ESC is \x1b)
 *   bytes that are not UTF-8           \xHH
 *   C1 controls U+0080..U+009F         \u0080 .. \u009f
 *   bidirectional and invisible format
 *   controls (U+061C, U+200B..U+200F,
 *   U+202A..U+202E, U+2060..U+2069,
 *   U+FEFF)                            \u202e and so on
 * Everything else, UTF-8 letters of every script included, is kept.
 *
 * Pure functions: thread-safe, no allocation.
 */
#ifndef ENRP_TEXT_H
#define ENRP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Writes S escaped into DST (SIZE bytes; always NUL-terminated when SIZE >
 * 0, cut at a character boundary, never inside an escape).  Returns the
 * length the whole escaped string needs, without the NUL, like snprintf:
 * a result >= SIZE means it was cut. */
size_t enrp_text_escape(char *dst, size_t size, const char *s);

/* Whether S holds anything enrp_text_escape changes. */
bool enrp_text_needs_escape(const char *s);

/* Length of the valid UTF-8 sequence at S (1..4), or 0 when S does not start
 * one (overlong forms, surrogates and values past U+10FFFF are not valid).
 * *CP receives its code point (may be NULL). */
size_t enrp_utf8_decode(const char *s, unsigned *cp);

#endif
