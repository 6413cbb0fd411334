/*
 * fuzz_csv.c — the CSV reader and writer (core/csv.c) and the schedule
 * parser (core/schedule.c): the two parsers of what an administrator's
 * registration form feeds enrpctl.
 *
 * Input: one selector byte, then the payload.  SEL % 2 (the digits '0' and
 * '1' select, so seeds are plain text):
 *
 *   0  enrp_csv_parse of the bytes.  Accepted: every field is valid UTF-8
 *      without NUL, at most ENRP_CSV_FIELD_MAX bytes, each row has at most
 *      ENRP_CSV_FIELDS_MAX fields; writing every row with
 *      enrp_csv_append_row and reading that back gives the same rows, and
 *      writing them again gives the same bytes.  Refused: -EINVAL or -E2BIG
 *      with a line and column of at least 1, a line no greater than the
 *      input's line count, and a message.
 *   1  enrp_schedule_parse of the text (NUL-terminated copy).  Accepted:
 *      the canonical text parses back to the same rules and prints the
 *      same.  Refused: -EINVAL with a message starting "rule N: ".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/csv.h>
#include <enrp/schedule.h>
#include <enrp/text.h>

#include "fuzz_common.h"

static char *write_all(const enrp_csv *csv, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;
	const char **f = malloc(ENRP_CSV_FIELDS_MAX * sizeof(*f));
	FUZZ_CHECK(f != NULL, "malloc");
	*len = 0;
	for (size_t r = 0; r < enrp_csv_rows(csv); r++) {
		size_t n = enrp_csv_fields(csv, r);
		for (size_t c = 0; c < n; c++)
			f[c] = enrp_csv_field(csv, r, c);
		FUZZ_CHECK(enrp_csv_append_row(&buf, len, &cap, f, n) == 0, "append");
	}
	free(f);
	return buf;
}

static bool same_rows(const enrp_csv *a, const enrp_csv *b)
{
	if (enrp_csv_rows(a) != enrp_csv_rows(b))
		return false;
	for (size_t r = 0; r < enrp_csv_rows(a); r++) {
		if (enrp_csv_fields(a, r) != enrp_csv_fields(b, r))
			return false;
		for (size_t c = 0; c < enrp_csv_fields(a, r); c++)
			if (strcmp(enrp_csv_field(a, r, c), enrp_csv_field(b, r, c)))
				return false;
	}
	return true;
}

static void fuzz_csv(const uint8_t *data, size_t size)
{
	struct enrp_csv_error err;
	enrp_csv *csv;
	int rc = enrp_csv_parse((const char *)data, size, &csv, &err);
	if (rc) {
		unsigned lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
		FUZZ_CHECK(rc == -EINVAL || rc == -E2BIG, "rc %d", rc);
		FUZZ_CHECK(err.line >= 1 && err.line <= lines && err.column >= 1 && err.msg[0],
		           "error at %u:%u (%u lines): %s", err.line, err.column, lines, err.msg);
		return;
	}
	for (size_t r = 0; r < enrp_csv_rows(csv); r++) {
		FUZZ_CHECK(enrp_csv_fields(csv, r) <= ENRP_CSV_FIELDS_MAX, "too many fields");
		for (size_t c = 0; c < enrp_csv_fields(csv, r); c++) {
			const char *f = enrp_csv_field(csv, r, c);
			FUZZ_CHECK(strlen(f) <= ENRP_CSV_FIELD_MAX, "field too long");
			for (const char *p = f; *p;) {
				size_t n = enrp_utf8_decode(p, NULL);
				FUZZ_CHECK(n > 0, "invalid UTF-8 in a field");
				p += n;
			}
		}
	}
	size_t len1, len2;
	char *out1 = write_all(csv, &len1);
	enrp_csv *back;
	rc = enrp_csv_parse(out1 ? out1 : "", len1, &back, &err);
	FUZZ_CHECK(rc == 0, "own output refused at %u:%u: %s", err.line, err.column, err.msg);
	FUZZ_CHECK(same_rows(csv, back), "own output reads back differently");
	char *out2 = write_all(back, &len2);
	FUZZ_CHECK(len1 == len2 && (len1 == 0 || memcmp(out1, out2, len1) == 0),
	           "writing again differs");
	free(out1);
	free(out2);
	enrp_csv_free(back);
	enrp_csv_free(csv);
}

static void fuzz_schedule(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[ENRP_SCHEDULE_ERR_MAX], c1[ENRP_SCHEDULE_TEXT_MAX], c2[ENRP_SCHEDULE_TEXT_MAX];
	struct enrp_schedule a, b;
	FUZZ_CHECK(text != NULL, "malloc");
	memcpy(text, data, size);
	text[size] = '\0';
	int rc = enrp_schedule_parse(text, &a, err, sizeof(err));
	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && strncmp(err, "rule ", 5) == 0, "rc %d err '%s'", rc, err);
	} else {
		enrp_schedule_format(&a, c1, sizeof(c1));
		FUZZ_CHECK(enrp_schedule_parse(c1, &b, err, sizeof(err)) == 0, "canonical '%s' refused: %s",
		           c1, err);
		FUZZ_CHECK(a.n == b.n && memcmp(a.rule, b.rule, a.n * sizeof(a.rule[0])) == 0,
		           "'%s' reads back differently", c1);
		enrp_schedule_format(&b, c2, sizeof(c2));
		FUZZ_CHECK(strcmp(c1, c2) == 0, "'%s' prints as '%s'", c1, c2);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_csv(data + 1, size - 1);
	else
		fuzz_schedule(data + 1, size - 1);
	return 0;
}
