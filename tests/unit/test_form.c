/*
 * test_form.c — the registration form: value checks and canonical forms,
 * an EIR without a form (as in a store written before forms) reading as
 * empty, set and its journal record, and the all-or-nothing import.
 */
#include <errno.h>

#include <enrp/eir.h>
#include <enrp/form.h>
#include <enrp/journal.h>

#include "../tap.h"
#include "journal_last.h"
#include "record_int.h"

static enrp_store *st;
static struct enrp_actor actor;

static void value_ok(enum enrp_form_field f, const char *in, const char *want)
{
	char canon[ENRP_FORM_VALUE_MAX + 1] = "", err[ENRP_FORM_ERR_MAX] = "";
	int rc = enrp_form_value_check(f, in, canon, err, sizeof(err));
	ok(rc == 0 && strcmp(canon, want) == 0, "%s '%s' -> '%s' (rc %d, got '%s', %s)",
	   enrp_form_key(f), in, want, rc, canon, err);
}

static void value_bad(enum enrp_form_field f, const char *in, const char *want_err)
{
	char canon[ENRP_FORM_VALUE_MAX + 1] = "", err[ENRP_FORM_ERR_MAX] = "";
	int rc = enrp_form_value_check(f, in, canon, err, sizeof(err));
	ok(rc == -EINVAL && strstr(err, want_err), "%s refused: %s (rc %d, err '%s')",
	   enrp_form_key(f), want_err, rc, err);
}

static void values(void)
{
	value_ok(ENRP_FORM_FULL_NAME, "Біріңғай ақпараттық жүйе «Әділет»", "Біріңғай ақпараттық жүйе «Әділет»");
	value_ok(ENRP_FORM_DB_SIZE, "", "");
	value_ok(ENRP_FORM_DB_SIZE, "120", "120");
	value_ok(ENRP_FORM_DB_SIZE, "0012,50", "12.5");
	value_ok(ENRP_FORM_DB_SIZE, "7.000", "7");
	value_ok(ENRP_FORM_CPU_LOAD, "100", "100");
	value_ok(ENRP_FORM_CPU_LOAD, "99.9", "99.9");
	value_ok(ENRP_FORM_SCHEDULE, "daily  23:00 incremental;monthly first-fri 23:00 full",
	         "daily 23:00 incremental; monthly first-fri 23:00 full");
	value_ok(ENRP_FORM_METHOD, "snapshot", "snapshot");
	value_bad(ENRP_FORM_DB_SIZE, "12 GB", "not a number");
	value_bad(ENRP_FORM_DB_SIZE, "-1", "not a number");
	value_bad(ENRP_FORM_DB_SIZE, "1.2345", "more than 3 decimals");
	value_bad(ENRP_FORM_DB_SIZE, "1234567890123", "too large");
	value_bad(ENRP_FORM_CPU_LOAD, "100.5", "percentage");
	value_bad(ENRP_FORM_CPU_LOAD, "101", "percentage");
	value_bad(ENRP_FORM_SCHEDULE, "daily 25:00 full", "rule 1: bad time");
	value_bad(ENRP_FORM_BACKUP_TYPE, "Full", "not one of full, incremental, differential");
	value_bad(ENRP_FORM_HOTCOLD, "warm", "not one of hot, cold");
	value_bad(ENRP_FORM_PHONE, "+7 727\n123", "control character");
	value_bad(ENRP_FORM_OS, "\xff", "UTF-8");

	enum enrp_form_field f;
	ok(enrp_form_key_parse("cpu_load_pct", &f) == 0 && f == ENRP_FORM_CPU_LOAD, "key parses");
	ok(enrp_form_key_parse("nope", &f) == -EINVAL, "unknown key refused");
}

static void stored(void)
{
	struct enrp_eir spec;
	struct enrp_eir_form form;

	enrp_eir_defaults(&spec, "plain");
	ok(enrp_eir_create(st, &spec, &actor, NULL) == 0, "an EIR without a form");
	memset(&form, 'x', sizeof(form));
	ok(enrp_form_get(st, "plain", &form) == 0, "its form reads");
	bool empty = true;
	for (int i = 0; i < ENRP_FORM_FIELDS; i++)
		empty &= form.value[i][0] == '\0';
	ok(empty, "... as every field empty");
	is_int(enrp_form_get(st, "nosuch", &form), -ENOENT, "no such EIR: -ENOENT");

	uint64_t before = journal_last_of(st).n;
	snprintf(form.value[ENRP_FORM_ORGANISATION], sizeof(form.value[0]), "АО «Қазақтелеком»");
	snprintf(form.value[ENRP_FORM_RAM], sizeof(form.value[0]), "64");
	is_int(enrp_form_set(st, "plain", &form,
	                     1u << ENRP_FORM_ORGANISATION | 1u << ENRP_FORM_RAM, &actor), 0, "set");
	struct last l = journal_last_of(st);
	ok(l.n == before + 1 && strcmp(l.rec.event, "form-set") == 0 &&
	   strstr(l.rec.details, "organisation=") && strstr(l.rec.details, "ram_gb=64"),
	   "one form-set record with the new values (%s)", l.rec.details);
	is_int(enrp_form_set(st, "plain", &form, 1u << ENRP_FORM_RAM, &actor), 0, "same again");
	is_int((int)journal_last_of(st).n, (int)(before + 1), "... journals nothing");
	struct enrp_eir_form back;
	enrp_form_get(st, "plain", &back);
	is_str(back.value[ENRP_FORM_ORGANISATION], "АО «Қазақтелеком»", "organisation reads back");
	is_str(back.value[ENRP_FORM_OS], "", "unset fields stay empty");
	snprintf(form.value[ENRP_FORM_RAM], sizeof(form.value[0]), "64,0");
	is_int(enrp_form_set(st, "plain", &form, 1u << ENRP_FORM_RAM, &actor), -EINVAL,
	       "a value not in canonical form: -EINVAL");
}

static void import(void)
{
	struct enrp_form_import_item *it = calloc(3, sizeof(*it));
	size_t failed = 99;
	struct enrp_eir e;

	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "imp%d", i);
		enrp_eir_defaults(&it[i].eir, name);
		snprintf(it[i].form.value[ENRP_FORM_PHONE], sizeof(it[i].form.value[0]), "+7 701 00%d", i);
	}
	it[2].retention.keep[ENRP_KEEP_DAILY] = 7;
	snprintf(it[1].eir.name, sizeof(it[1].eir.name), "plain"); /* taken */
	uint64_t before = journal_last_of(st).n;
	is_int(enrp_form_import(st, it, 3, &actor, &failed), -EEXIST, "a taken name: -EEXIST");
	is_int((int)failed, 1, "... naming the item");
	is_int(enrp_eir_get(st, "imp0", &e), -ENOENT, "... and nothing was created");
	is_int((int)journal_last_of(st).n, (int)before, "... nor journalled");

	snprintf(it[1].eir.name, sizeof(it[1].eir.name), "imp1");
	is_int(enrp_form_import(st, it, 3, &actor, &failed), 0, "the batch imports");
	struct enrp_eir_form f;
	ok(enrp_form_get(st, "imp2", &f) == 0 && strcmp(f.value[ENRP_FORM_PHONE], "+7 701 002") == 0,
	   "with its form");
	struct enrp_retention r;
	ok(enrp_retention_get(st, "imp2", &r) == 0 && r.keep[ENRP_KEEP_DAILY] == 7,
	   "and its retention");
	free(it);
}

/* The record: what is written reads back, a field number from a newer
 * enrp is skipped, damage is -EIO. */
static void record(void)
{
	struct enrp_eir_form *f = calloc(1, sizeof(*f)), *back = calloc(1, sizeof(*back));
	struct rec_out o;

	snprintf(f->value[ENRP_FORM_PHONE], sizeof(f->value[0]), "+7 717 000");
	snprintf(f->value[ENRP_FORM_HOTCOLD], sizeof(f->value[0]), "cold");
	rec_out_init(&o);
	ok(rec_form_encode(f, &o) == 0, "form record encodes");
	ok(rec_form_decode(o.buf, o.len, back) == 0 && memcmp(f, back, sizeof(*f)) == 0,
	   "... and decodes to the same form");
	rec_put_u8(&o, 200); /* a field this version does not know */
	rec_put_str(&o, "from the future");
	ok(rec_form_decode(o.buf, o.len, back) == 0 &&
	   strcmp(back->value[ENRP_FORM_PHONE], "+7 717 000") == 0,
	   "an unknown field is skipped");
	is_int(rec_form_decode(o.buf, o.len - 3, back), -EIO, "a cut record: -EIO");
	uint8_t v2 = 2;
	is_int(rec_form_decode(&v2, 1, back), -EIO, "an unknown version: -EIO");
	rec_out_release(&o);
	free(f);
	free(back);
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	char path[256];

	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", tmp);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}
	enrp_actor_self(&actor, "test_form");
	values();
	record();
	stored();
	import();
	enrp_store_close(st);
	tap_rmrf(tmp);
	return done_testing();
}
