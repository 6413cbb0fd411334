/*
 * test_csv.c — the RFC 4180 reader and writer: what is accepted and read
 * exactly, what is refused and at which line and column, the limits, and
 * that the writer's output reads back to the same fields.
 *
 * Run as `test_csv --dump FILE`, it prints what the reader makes of FILE
 * as JSON (an array of rows of strings, or {"error": [line, column, msg]})
 * for the differential test against Python's csv module
 * (tests/integration/t7410-csv-differential.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <enrp/csv.h>

#include "../tap.h"

/* Parses S and joins the table as "a|b/c|d" (rows by '/', fields by '|'). */
static char *flat(const char *s, size_t len, int *rc, struct enrp_csv_error *err)
{
	enrp_csv *csv;
	*rc = enrp_csv_parse(s, len, &csv, err);
	if (*rc)
		return NULL;
	size_t cap = len * 2 + 16, n = 0;
	char *out = calloc(1, cap + 1);
	for (size_t r = 0; r < enrp_csv_rows(csv); r++) {
		if (r)
			out[n++] = '/';
		for (size_t c = 0; c < enrp_csv_fields(csv, r); c++) {
			const char *f = enrp_csv_field(csv, r, c);
			if (c)
				out[n++] = '|';
			n += (size_t)snprintf(out + n, cap - n, "%s", f);
		}
	}
	enrp_csv_free(csv);
	return out;
}

/* S made printable on one TAP line. */
static const char *label(const char *s, char *buf, size_t size)
{
	size_t n = 0;
	for (; *s && n + 1 < size; s++)
		buf[n++] = (unsigned char)*s < 0x20 ? '~' : *s;
	buf[n] = '\0';
	return buf;
}

static void reads(const char *s, const char *want)
{
	char l1[256], l2[256], l3[256];
	int rc;
	struct enrp_csv_error err;
	char *got = flat(s, strlen(s), &rc, &err);
	ok(rc == 0 && got && strcmp(got, want) == 0, "reads %s as %s (rc %d, got %s, err %u:%u %s)",
	   label(s, l1, sizeof(l1)), label(want, l2, sizeof(l2)), rc,
	   got ? label(got, l3, sizeof(l3)) : "-", err.line, err.column, err.msg);
	free(got);
}

static void refuses(const char *s, size_t len, int want_rc, unsigned line, unsigned col)
{
	int rc;
	struct enrp_csv_error err;
	char *got = flat(s, len, &rc, &err);
	ok(rc == want_rc && err.line == line && err.column == col && err.msg[0],
	   "refuses input at %u:%u with %d (got %d at %u:%u: %s)", line, col, want_rc, rc,
	   err.line, err.column, err.msg);
	free(got);
}

static void test_read(void)
{
	reads("", "");
	reads("a,b,c", "a|b|c");
	reads("a,b\r\nc,d\r\n", "a|b/c|d");
	reads("a,b\nc,d\n", "a|b/c|d");
	reads("a\rb\r", "a/b");
	reads("a,,\n", "a||");
	reads("a\n\nb\n", "a//b");
	reads("\"x,y\",\"he said \"\"hi\"\"\"\n", "x,y|he said \"hi\"");
	reads("\"line1\nline2\",z", "line1\nline2|z");
	reads("\"\"", "");
	reads("\xef\xbb\xbfname,full_name\n", "name|full_name");
	reads("Қазақстан,әғқңөұүһі,Полное наименование\n",
	      "Қазақстан|әғқңөұүһі|Полное наименование");
	reads(" a , b ", " a | b ");
}

static void test_refuse(void)
{
	refuses("a\"b\n", 4, -EINVAL, 1, 2);
	refuses("x\n\"ab\"c,d\n", 10, -EINVAL, 2, 5);
	refuses("a,b\n\"open\nstill\n", 16, -EINVAL, 2, 1);
	refuses("ok\nя,\xff\n", 8, -EINVAL, 2, 3);
	refuses("a,b\0c", 5, -EINVAL, 1, 4);
	refuses("\"a\nb\",\"x\"y", 10, -EINVAL, 2, 7);

	char *big = malloc(ENRP_CSV_FIELD_MAX + 10);
	memset(big, 'x', ENRP_CSV_FIELD_MAX + 1);
	big[ENRP_CSV_FIELD_MAX + 1] = '\0';
	refuses(big, ENRP_CSV_FIELD_MAX + 1, -E2BIG, 1, 1);
	big[ENRP_CSV_FIELD_MAX] = '\0';
	int rc;
	char *got = flat(big, ENRP_CSV_FIELD_MAX, &rc, NULL);
	ok(rc == 0, "a field of exactly %d bytes is read", ENRP_CSV_FIELD_MAX);
	free(got);
	free(big);

	char wide[ENRP_CSV_FIELDS_MAX * 2 + 4];
	memset(wide, ',', ENRP_CSV_FIELDS_MAX);
	wide[ENRP_CSV_FIELDS_MAX] = '\0';
	refuses(wide, ENRP_CSV_FIELDS_MAX, -E2BIG, 1, ENRP_CSV_FIELDS_MAX + 1);

	size_t n = (size_t)ENRP_CSV_ROWS_MAX + 1;
	char *tall = malloc(n * 2);
	for (size_t i = 0; i < n; i++) {
		tall[2 * i] = 'a';
		tall[2 * i + 1] = '\n';
	}
	refuses(tall, n * 2, -E2BIG, ENRP_CSV_ROWS_MAX + 1, 1);
	free(tall);
}

static void test_write(void)
{
	const char *fields[] = { "plain", "a,b", "say \"hi\"", "two\nlines", " pad", "",
	                         "Ақтөбе" };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ok(enrp_csv_append_row(&buf, &len, &cap, fields, 7) == 0, "writes a row");
	is_str(buf, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" pad\",,Ақтөбе\r\n",
	       "quotes only where needed, ends with CRLF");
	const char *empty[] = { "" };
	ok(enrp_csv_append_row(&buf, &len, &cap, empty, 1) == 0, "writes a lone empty field");
	enrp_csv *csv;
	ok(enrp_csv_parse(buf, len, &csv, NULL) == 0, "reads its own output");
	is_int((int)enrp_csv_rows(csv), 2, "two rows");
	bool same = enrp_csv_fields(csv, 0) == 7;
	for (size_t i = 0; same && i < 7; i++)
		same = strcmp(enrp_csv_field(csv, 0, i), fields[i]) == 0;
	ok(same, "the fields read back exactly");
	ok(enrp_csv_fields(csv, 1) == 1 && !*enrp_csv_field(csv, 1, 0),
	   "a lone empty field reads back as one field, not an empty line");
	is_int((int)enrp_csv_line(csv, 1), 3, "the second row starts on line 3");
	enrp_csv_free(csv);
	free(buf);
}

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static int dump(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 2;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (len + 65536 > cap) {
			cap = (len + 65536) * 2;
			buf = realloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	enrp_csv *csv;
	struct enrp_csv_error err;
	int rc = enrp_csv_parse(buf, len, &csv, &err);
	free(buf);
	if (rc) {
		printf("{\"error\": [%u, %u, ", err.line, err.column);
		json_str(err.msg);
		printf("]}\n");
		return 0;
	}
	putchar('[');
	for (size_t r = 0; r < enrp_csv_rows(csv); r++) {
		printf(r ? ",[" : "[");
		for (size_t c = 0; c < enrp_csv_fields(csv, r); c++) {
			if (c)
				putchar(',');
			json_str(enrp_csv_field(csv, r, c));
		}
		putchar(']');
	}
	printf("]\n");
	enrp_csv_free(csv);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return dump(argv[2]);
	test_read();
	test_refuse();
	test_write();
	return done_testing();
}
