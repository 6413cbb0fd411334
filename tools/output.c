/*
 * output.c — what enrpctl prints: aligned tables, JSON, sizes, times and
 * account names.
 *
 * Tables collect every cell first so columns fit their widest cell; JSON is
 * streamed.  Table cells are escaped with enrp_text_escape (like every line
 * enrpctl prints: ctl_line), so a stored reason cannot act on the terminal.
 * The JSON writer guarantees valid output whatever bytes it is given:
 * control characters, C1 controls and bidi format characters are escaped
 * (\u...) and invalid UTF-8 becomes U+FFFD, so a record written by any
 * version of any tool can still be read by `jq`, and a document shown on a
 * terminal cannot act on it.
 */
#include <assert.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <enrp/text.h>
#include <enrp/units.h>

#include "ctl.h"

/* --- tables -------------------------------------------------------------- */

struct table {
	size_t ncols;
	size_t nrows;     /* rows including the header row */
	size_t ncells;    /* cells filled so far */
	size_t cap;       /* cells allocated */
	char **cells;     /* row-major, nrows * ncols when complete */
	bool *right;      /* per column: right-aligned */
};

static void table_push(struct table *t, char *cell)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = ctl_xrealloc(t->cells, t->cap, sizeof(*t->cells));
	}
	t->cells[t->ncells++] = cell;
}

struct table *table_new(size_t ncols, const char *const *headers)
{
	assert(ncols > 0);
	struct table *t = ctl_xmalloc(sizeof(*t));
	*t = (struct table){ .ncols = ncols };
	t->right = ctl_xrealloc(NULL, ncols, sizeof(*t->right));
	for (size_t i = 0; i < ncols; i++) {
		t->right[i] = false;
		table_push(t, ctl_xstrdup(headers[i]));
	}
	t->nrows = 1;
	return t;
}

void table_align_right(struct table *t, size_t col)
{
	assert(col < t->ncols);
	t->right[col] = true;
}

void table_row(struct table *t)
{
	assert(t->ncells == t->nrows * t->ncols); /* the previous row is complete */
	t->nrows++;
}

void table_cell(struct table *t, const char *fmt, ...)
{
	assert(t->ncells < t->nrows * t->ncols);
	va_list ap;
	/* Escaped before the widths are measured: a reason or a name shows
	 * as the text it is, and the columns stay aligned. */
	va_start(ap, fmt);
	char *esc = ctl_vescaped(fmt, ap);
	va_end(ap);
	table_push(t, esc);
}

void table_print(const struct table *t, FILE *f)
{
	assert(t->ncells == t->nrows * t->ncols);
	size_t *width = ctl_xrealloc(NULL, t->ncols, sizeof(*width));
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = 0;
		for (size_t r = 0; r < t->nrows; r++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);
			if (len > width[c])
				width[c] = len;
		}
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			bool last = c + 1 == t->ncols;
			int w = (int)width[c];
			if (t->right[c])
				fprintf(f, "%*s", w, cell);
			else if (last)
				fputs(cell, f);
			else
				fprintf(f, "%-*s", w, cell);
			fputs(last ? "\n" : "  ", f);
		}
	}
	free(width);
}

void listing_begin(struct listing *l, bool json, size_t ncols, const char *const *headers)
{
	l->json = NULL;
	l->t = NULL;
	if (json) {
		json_init(&l->j, stdout);
		json_array_begin(&l->j);
		l->json = &l->j;
	} else {
		l->t = table_new(ncols, headers);
	}
}

void listing_end(struct listing *l, bool ok)
{
	if (l->json) {
		json_array_end(l->json);
		json_finish(l->json);
	} else {
		if (ok)
			table_print(l->t, stdout);
		table_free(l->t);
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	free(t);
}

/* --- JSON ---------------------------------------------------------------- */

bool utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		size_t n = enrp_utf8_decode((const char *)s, NULL);
		if (n == 0)
			return false;
		s += n;
	}
	return true;
}

void json_write_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		switch (c) {
		case '"':  fputs("\\\"", f); s++; continue;
		case '\\': fputs("\\\\", f); s++; continue;
		case '\b': fputs("\\b", f); s++; continue;
		case '\f': fputs("\\f", f); s++; continue;
		case '\n': fputs("\\n", f); s++; continue;
		case '\r': fputs("\\r", f); s++; continue;
		case '\t': fputs("\\t", f); s++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			s++;
			continue;
		}
		unsigned cp;
		size_t n = enrp_utf8_decode((const char *)s, &cp);
		if (n == 0) {
			fputs("\\ufffd", f);
			s++;
			continue;
		}
		/* Valid JSON either way; escaped, a C1 control or a bidi
		 * override cannot act on a terminal that shows the document. */
		char one[5] = { 0 };
		memcpy(one, s, n);
		if (enrp_text_needs_escape(one))
			fprintf(f, "\\u%04x", cp);
		else
			fwrite(s, 1, n, f);
		s += n;
	}
	fputc('"', f);
}

static void json_indent(struct json *j)
{
	if (j->compact) {
		if (j->depth)
			fputc(' ', j->f);
		return;
	}
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator and indentation before a value or key at the current level. */
static void json_prefix(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (!j->first[j->depth - 1])
		fputc(',', j->f);
	j->first[j->depth - 1] = false;
	json_indent(j);
}

void json_init(struct json *j, FILE *f)
{
	*j = (struct json){ .f = f };
}

static void json_open(struct json *j, char c)
{
	json_prefix(j);
	assert(j->depth < JSON_DEPTH_MAX);
	fputc(c, j->f);
	j->first[j->depth++] = true;
}

static void json_close(struct json *j, char c)
{
	assert(j->depth > 0 && !j->after_key);
	j->depth--;
	if (!j->first[j->depth])
		json_indent(j);
	fputc(c, j->f);
}

void json_object_begin(struct json *j) { json_open(j, '{'); }
void json_object_end(struct json *j) { json_close(j, '}'); }
void json_array_begin(struct json *j) { json_open(j, '['); }
void json_array_end(struct json *j) { json_close(j, ']'); }

void json_key(struct json *j, const char *key)
{
	assert(j->depth > 0 && !j->after_key);
	json_prefix(j);
	json_write_string(j->f, key);
	fputs(": ", j->f);
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	json_prefix(j);
	if (s)
		json_write_string(j->f, s);
	else
		fputs("null", j->f);
}

void json_u64(struct json *j, uint64_t v)
{
	json_prefix(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_f64(struct json *j, double v, int decimals)
{
	json_prefix(j);
	fprintf(j->f, "%.*f", decimals, v);
}

void json_i64(struct json *j, int64_t v)
{
	json_prefix(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	json_prefix(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	json_prefix(j);
	fputs("null", j->f);
}

void json_finish(struct json *j)
{
	assert(j->depth == 0 && !j->after_key);
	fputc('\n', j->f);
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_i64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_i64(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

/* --- progress ------------------------------------------------------------ */

#define PROGRESS_INTERVAL_NS (100 * 1000 * 1000LL)

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void progress_begin(struct progress *p, bool on)
{
	*p = (struct progress){ .on = on };
}

void progress_line(struct progress *p, bool force, const char *fmt, ...)
{
	if (!p->on)
		return;
	int64_t now = mono_ns();
	if (!force && p->last_ns && now - p->last_ns < PROGRESS_INTERVAL_NS)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Escaped like every line enrpctl prints: an EIR's name cannot act
	 * on the terminal. */
	char esc[sizeof(line) * 4];
	enrp_text_escape(esc, sizeof(esc), line);
	size_t width = strlen(esc);
	fprintf(stderr, "\r%s%*s", esc, p->width > width ? (int)(p->width - width) : 0, "");
	fflush(stderr);
	p->width = width;
	p->drawn = true;
	p->last_ns = now;
}

void progress_end(struct progress *p)
{
	if (p->on && p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
	p->width = 0;
}

void progress_clear(struct progress *p)
{
	if (p->on && p->drawn) {
		fprintf(stderr, "\r%*s\r", (int)p->width, "");
		fflush(stderr);
	}
	p->drawn = false;
	p->width = 0;
}

/* --- sizes, times, bytes ------------------------------------------------- */

void size_human(uint64_t bytes, char buf[SIZE_BUF])
{
	enrp_size_format(bytes, buf, SIZE_BUF);
}

void quota_human(uint64_t quota, char buf[SIZE_BUF])
{
	if (quota == 0)
		snprintf(buf, SIZE_BUF, "none");
	else
		size_human(quota, buf);
}

void time_iso(int64_t ns, char buf[TIME_BUF])
{
	enrp_time_format(ns, buf, TIME_BUF);
}

void hex_encode(const uint8_t *data, size_t n, char *buf)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = digits[data[i] >> 4];
		buf[2 * i + 1] = digits[data[i] & 0xf];
	}
	buf[2 * n] = '\0';
}

/* --- account names ------------------------------------------------------- */

char *user_name(uint32_t uid)
{
	const struct passwd *pw = getpwuid((uid_t)uid);
	return pw ? ctl_xstrdup(pw->pw_name) : NULL;
}

char *group_name(uint32_t gid)
{
	const struct group *gr = getgrgid((gid_t)gid);
	return gr ? ctl_xstrdup(gr->gr_name) : NULL;
}

static char *number_label(uint32_t id)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%" PRIu32, id);
	return ctl_xstrdup(buf);
}

char *user_label(uint32_t uid)
{
	char *name = user_name(uid);
	return name ? name : number_label(uid);
}

char *group_label(uint32_t gid)
{
	char *name = group_name(gid);
	return name ? name : number_label(gid);
}
