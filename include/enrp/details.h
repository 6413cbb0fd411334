/*
 * details.h — the structured details of an audit journal record.
 *
 * A record's details are a list of key=value pairs kept as one string,
 * "key=value key=value", so that the journal's encoding and its hash chain
 * stay what they were.  A reason typed by an administrator or a path chosen
 * by a client may hold spaces, quotes or '=', and read back naively such a
 * value would split into fake pairs; so a value that is empty or holds any
 * of ' ', '"', '\\', '=' or a byte below 0x20 or 0x7f is written in double
 * quotes, with \" \\ \n \t \r and \xHH escapes.  Every other byte, UTF-8
 * text of any script included, is kept as it is.  Records written before
 * values were quoted parse the same way as long as their values held none
 * of those bytes, which is how they were written.
 *
 * A value that does not fit in what is left of the buffer is cut at a UTF-8
 * character boundary and ends with the escape \~, which the reader turns
 * into CUT: an auditor can tell a shortened path from a short one.
 *
 * Keys are 1-31 characters of [a-z0-9_].  The key "path" names the file a
 * record is about, relative to its EIR.
 *
 * Pure functions: thread-safe, no allocation.
 */
#ifndef ENRP_DETAILS_H
#define ENRP_DETAILS_H

#include <stdbool.h>
#include <stddef.h>

#define ENRP_DETAILS_KEY_MAX 31

/* Appends " KEY=VALUE" (no leading space when BUF is empty) to the
 * NUL-terminated BUF of SIZE bytes, VALUE being printf-formatted and quoted
 * when it must be.  When the whole pair does not fit, the value is cut (see
 * above); when not even KEY=""\~ fits, nothing is appended.  Returns false
 * when the value was cut or dropped. */
bool enrp_details_add(char *buf, size_t size, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reads the next pair at *CURSOR (start with the details string) into KEY
 * and VALUE (cut to their sizes; VALUE unescaped) and moves *CURSOR past it.
 * *CUT (may be NULL) tells whether the writer had to cut the value.  Returns
 * false at the end of the string; a stretch that is not a pair (text from a
 * record older than pairs) comes back with KEY "" and the stretch as VALUE. */
bool enrp_details_next(const char **cursor, char *key, size_t keysz, char *value,
                       size_t valuesz, bool *cut);

/* The value of the first pair named KEY in DETAILS, into VALUE.  False when
 * there is none. */
bool enrp_details_get(const char *details, const char *key, char *value, size_t valuesz);

#endif
