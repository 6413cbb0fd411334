/*
 * csv.c — the strict RFC 4180 reader and the writer of csv.h.
 *
 * One pass over the bytes with an explicit position, line and line start;
 * a column is the count of UTF-8 characters between the line start and the
 * position, computed only when an error is reported.  Field texts go into
 * one growing arena, NUL-separated, with an offset array per field and a
 * (first field, count, line) triple per row, so a table is three
 * allocations however many fields it has.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/csv.h>
#include <enrp/i18n.h>
#include <enrp/text.h>

struct csv_row {
	size_t first;  /* index into offs */
	size_t n;
	unsigned line;
};

struct enrp_csv {
	char *text;
	size_t text_len, text_cap;
	size_t *offs;
	size_t nfields, fields_cap;
	struct csv_row *rows;
	size_t nrows, rows_cap;
};

struct reader {
	const char *buf;
	size_t len, pos;
	unsigned line;
	size_t line_start;
	struct enrp_csv *csv;
	struct enrp_csv_error *err;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Reports an error at byte AT of the input. */
static int fail(struct reader *r, int rc, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct reader *r, int rc, size_t at, const char *fmt, ...)
{
	if (!r->err)
		return rc;
	unsigned col = 1;
	for (size_t i = r->line_start; i < at && i < r->len; i++)
		if (((unsigned char)r->buf[i] & 0xc0) != 0x80)
			col++;
	r->err->line = r->line;
	r->err->column = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err->msg, sizeof(r->err->msg), _(fmt), ap);
	va_end(ap);
	return rc;
}

static int put_bytes(struct reader *r, const char *p, size_t n)
{
	struct enrp_csv *c = r->csv;
	int rc = grow((void **)&c->text, &c->text_cap, c->text_len + n + 1, 1);
	if (rc)
		return rc;
	memcpy(c->text + c->text_len, p, n);
	c->text_len += n;
	return 0;
}

static void newline(struct reader *r)
{
	r->line++;
	r->line_start = r->pos;
}

/* Consumes the record terminator at the position (CRLF, LF or CR). */
static void end_of_record(struct reader *r)
{
	if (r->buf[r->pos] == '\r' && r->pos + 1 < r->len && r->buf[r->pos + 1] == '\n')
		r->pos++;
	r->pos++;
	newline(r);
}

static bool at_eol(const struct reader *r)
{
	return r->pos < r->len && (r->buf[r->pos] == '\r' || r->buf[r->pos] == '\n');
}

/* Copies one UTF-8 character at the position into the field. */
static int put_char(struct reader *r)
{
	char tmp[5] = { 0 };
	size_t avail = r->len - r->pos < 4 ? r->len - r->pos : 4;
	memcpy(tmp, r->buf + r->pos, avail);
	if (tmp[0] == '\0')
		return fail(r, -EINVAL, r->pos, N_("NUL byte"));
	size_t n = enrp_utf8_decode(tmp, NULL);
	if (n == 0)
		return fail(r, -EINVAL, r->pos, N_("invalid UTF-8 (byte 0x%02x)"),
		            (unsigned char)tmp[0]);
	int rc = put_bytes(r, r->buf + r->pos, n);
	r->pos += n;
	return rc;
}

static int begin_field(struct reader *r)
{
	struct enrp_csv *c = r->csv;
	struct csv_row *row = &c->rows[c->nrows - 1];
	if (row->n >= ENRP_CSV_FIELDS_MAX)
		return fail(r, -E2BIG, r->pos, N_("more than %d fields in a row"), ENRP_CSV_FIELDS_MAX);
	int rc = grow((void **)&c->offs, &c->fields_cap, c->nfields + 1, sizeof(*c->offs));
	if (rc)
		return rc;
	c->offs[c->nfields++] = c->text_len;
	row->n++;
	return 0;
}

static int end_field(struct reader *r, size_t started_at)
{
	struct enrp_csv *c = r->csv;
	if (c->text_len - c->offs[c->nfields - 1] > ENRP_CSV_FIELD_MAX)
		return fail(r, -E2BIG, started_at, N_("field longer than %d bytes"), ENRP_CSV_FIELD_MAX);
	return put_bytes(r, "", 1);
}

/* A quoted field; the position is at its opening quote.  Leaves the
 * position after the closing quote. */
static int quoted(struct reader *r)
{
	size_t open = r->pos;
	unsigned open_line = r->line;
	size_t open_line_start = r->line_start;
	int rc = 0;

	r->pos++;
	while (!rc) {
		if (r->pos >= r->len) {
			r->line = open_line;
			r->line_start = open_line_start;
			return fail(r, -EINVAL, open, N_("quoted field not closed"));
		}
		char ch = r->buf[r->pos];
		if (ch == '"') {
			if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"') {
				rc = put_bytes(r, "\"", 1);
				r->pos += 2;
				continue;
			}
			r->pos++;
			return 0;
		}
		if (ch == '\n' || ch == '\r') {
			bool crlf = ch == '\r' && r->pos + 1 < r->len && r->buf[r->pos + 1] == '\n';
			rc = put_bytes(r, r->buf + r->pos, crlf ? 2 : 1);
			r->pos += crlf ? 2 : 1;
			newline(r);
			continue;
		}
		rc = put_char(r);
	}
	return rc;
}

/* One record; the position is at its first byte, not at a line end. */
static int record(struct reader *r)
{
	for (;;) {
		size_t started = r->pos;
		int rc = begin_field(r);
		if (rc)
			return rc;
		if (r->pos < r->len && r->buf[r->pos] == '"') {
			rc = quoted(r);
			if (rc)
				return rc;
			if (r->pos < r->len && r->buf[r->pos] != ',' && !at_eol(r))
				return fail(r, -EINVAL, r->pos,
				            N_("unexpected character after a closing quote "
				            "(a quote inside a field is written \"\")"));
		} else {
			while (r->pos < r->len && r->buf[r->pos] != ',' && !at_eol(r)) {
				if (r->buf[r->pos] == '"')
					return fail(r, -EINVAL, r->pos,
					            N_("quote inside an unquoted field (quote the whole "
					            "field and double the quote)"));
				rc = put_char(r);
				if (rc)
					return rc;
			}
		}
		rc = end_field(r, started);
		if (rc)
			return rc;
		if (r->pos >= r->len)
			return 0;
		if (at_eol(r)) {
			end_of_record(r);
			return 0;
		}
		r->pos++; /* the comma */
	}
}

int enrp_csv_parse(const char *buf, size_t len, enrp_csv **out, struct enrp_csv_error *err)
{
	struct enrp_csv *c = calloc(1, sizeof(*c));
	struct reader r = { buf, len, 0, 1, 0, c, err };
	int rc = 0;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	if (err)
		memset(err, 0, sizeof(*err));
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		r.pos = r.line_start = 3;
	while (!rc && r.pos < r.len) {
		if (c->nrows >= ENRP_CSV_ROWS_MAX) {
			rc = fail(&r, -E2BIG, r.pos, N_("more than %d rows"), ENRP_CSV_ROWS_MAX);
			break;
		}
		rc = grow((void **)&c->rows, &c->rows_cap, c->nrows + 1, sizeof(*c->rows));
		if (rc)
			break;
		c->rows[c->nrows++] = (struct csv_row){ c->nfields, 0, r.line };
		if (at_eol(&r))
			end_of_record(&r); /* an empty line: a row of no fields */
		else
			rc = record(&r);
	}
	if (rc) {
		enrp_csv_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void enrp_csv_free(enrp_csv *csv)
{
	if (!csv)
		return;
	free(csv->text);
	free(csv->offs);
	free(csv->rows);
	free(csv);
}

size_t enrp_csv_rows(const enrp_csv *csv)
{
	return csv->nrows;
}

size_t enrp_csv_fields(const enrp_csv *csv, size_t row)
{
	return row < csv->nrows ? csv->rows[row].n : 0;
}

const char *enrp_csv_field(const enrp_csv *csv, size_t row, size_t col)
{
	if (row >= csv->nrows || col >= csv->rows[row].n)
		return NULL;
	return csv->text + csv->offs[csv->rows[row].first + col];
}

unsigned enrp_csv_line(const enrp_csv *csv, size_t row)
{
	return row < csv->nrows ? csv->rows[row].line : 0;
}

static bool must_quote(const char *f)
{
	size_t n = strlen(f);
	if (n && (f[0] == ' ' || f[n - 1] == ' '))
		return true;
	/* U+FEFF first in a file would be read as a byte-order mark. */
	if (strncmp(f, "\xef\xbb\xbf", 3) == 0)
		return true;
	/* A lone empty field would write an empty line, which reads back as a
	 * row of no fields. */
	return strpbrk(f, ",\"\r\n") != NULL;
}

int enrp_csv_append_row(char **buf, size_t *len, size_t *cap, const char *const *fields,
                        size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *f = fields[i] ? fields[i] : "";
		bool q = must_quote(f) || (n == 1 && !*f);
		size_t need = *len + 2 * strlen(f) + 6;
		if (grow((void **)buf, cap, need, 1))
			return -ENOMEM;
		char *o = *buf + *len;
		if (i)
			*o++ = ',';
		if (q)
			*o++ = '"';
		for (const char *p = f; *p; p++) {
			if (*p == '"' && q)
				*o++ = '"';
			*o++ = *p;
		}
		if (q)
			*o++ = '"';
		*len = (size_t)(o - *buf);
	}
	if (grow((void **)buf, cap, *len + 3, 1))
		return -ENOMEM;
	memcpy(*buf + *len, "\r\n", 3);
	*len += 2;
	return 0;
}
