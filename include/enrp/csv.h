/*
 * csv.h — RFC 4180 comma-separated values: a strict reader and a writer.
 *
 * The reader takes a whole file in memory (registration forms are hundreds
 * of rows, not millions) and returns its rows, or the first error with the
 * line and column where it is.  What it accepts:
 *   - fields separated by ',' and records ended by CRLF, LF or a lone CR
 *     (spreadsheets on every system write one of them); the last record
 *     may lack its terminator;
 *   - a field in double quotes may hold ',', '"' (written "") and line
 *     breaks, kept as they are in the file;
 *   - a UTF-8 byte-order mark at the very start is skipped;
 *   - an empty line is a row of no fields (what Python's csv gives).
 * What it refuses, naming line and column (1-based; the column counts
 * characters, not bytes, from the start of the physical line):
 *   - a '"' inside an unquoted field, or anything but ',' or a line end
 *     after a closing quote (RFC 4180 §2.5-2.7; Python's csv accepts both
 *     and guesses);
 *   - a quoted field still open at the end of the input;
 *   - bytes that are not UTF-8, and NUL;
 *   - a field longer than ENRP_CSV_FIELD_MAX bytes, a row of more than
 *     ENRP_CSV_FIELDS_MAX fields, more than ENRP_CSV_ROWS_MAX rows.
 *
 * The writer quotes a field only when it must (it holds ',', '"', CR or
 * LF, starts or ends with a space, which some readers trim, or starts with
 * U+FEFF, which would read as a byte-order mark at the start) and ends
 * every record with CRLF, as RFC 4180 says, so that reading what it wrote
 * gives back the same fields.
 *
 * Pure functions apart from allocation; thread-safe.
 */
#ifndef ENRP_CSV_H
#define ENRP_CSV_H

#include <stddef.h>

#define ENRP_CSV_FIELD_MAX 4096
#define ENRP_CSV_FIELDS_MAX 256
#define ENRP_CSV_ROWS_MAX 100000
#define ENRP_CSV_ERR_MAX 128

typedef struct enrp_csv enrp_csv;

/* Where reading stopped, and why (in the reader's language: gettext). */
struct enrp_csv_error {
	unsigned line;   /* 1-based physical line */
	unsigned column; /* 1-based character in that line */
	char msg[ENRP_CSV_ERR_MAX];
};

/* Reads the LEN bytes at BUF.  0 and *OUT (free with enrp_csv_free), or
 * -EINVAL with ERR filled (may be NULL), -E2BIG past a limit (ERR filled
 * too), -ENOMEM. */
int enrp_csv_parse(const char *buf, size_t len, enrp_csv **out, struct enrp_csv_error *err);
void enrp_csv_free(enrp_csv *csv);

size_t enrp_csv_rows(const enrp_csv *csv);
/* Fields of ROW (0 for an empty line). */
size_t enrp_csv_fields(const enrp_csv *csv, size_t row);
/* Field COL of ROW, NUL-terminated; borrowed until enrp_csv_free. */
const char *enrp_csv_field(const enrp_csv *csv, size_t row, size_t col);
/* The physical line on which ROW starts (1-based). */
unsigned enrp_csv_line(const enrp_csv *csv, size_t row);

/* Appends the record of the N FIELDS, quoted where needed and ended with
 * CRLF, to *BUF (LEN bytes used, CAP allocated; *BUF may start NULL) and
 * keeps it NUL-terminated.  -ENOMEM. */
int enrp_csv_append_row(char **buf, size_t *len, size_t *cap, const char *const *fields,
                        size_t n);

#endif
