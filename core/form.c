/*
 * form.c — the registration form of an EIR (form.h): value checks, and the
 * form's place in the store.
 *
 * Storing: the EIR's "form" setting in DBI_POLICY (eir_setting_put), encoded
 * by rec_form_encode.  A store from before the form has no such setting and
 * reads as an empty form; nothing in the schema changes.  Every change is
 * journalled ("form-set", the changed keys with their new values) in the
 * transaction that makes it.
 *
 * Import: enrp_form_import creates every EIR of a batch, with its form and
 * retention policy, in one enrp_store_write callback, so a crash or an
 * error at any point leaves the store with all of the batch or none of it
 * (LMDB commits the transaction whole or not at all).  The callback may run
 * twice (map growth): it keeps no state between runs but the failed index.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>
#include <enrp/form.h>
#include <enrp/i18n.h>
#include <enrp/journal.h>
#include <enrp/schedule.h>
#include <enrp/text.h>

#include "eir_int.h"
#include "form_int.h"
#include "journal_int.h"
#include "record_int.h"
#include "retention_int.h"
#include "transfer_int.h"

#define SETTING_FORM "form"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Integer digits of a number: 10^12 GB is past any real system. */
#define NUMBER_INT_DIGITS 12
#define NUMBER_FRAC_DIGITS 3

enum kind { TEXT, NUMBER, PERCENT, SCHEDULE, CHOICE };

static const struct {
	const char *key;
	enum kind kind;
	const char *const *choices; /* CHOICE: NULL-terminated */
} fields[ENRP_FORM_FIELDS] = {
	[ENRP_FORM_FULL_NAME] = { "full_name", TEXT, NULL },
	[ENRP_FORM_OS] = { "os", TEXT, NULL },
	[ENRP_FORM_DBMS] = { "dbms", TEXT, NULL },
	[ENRP_FORM_DB_SIZE] = { "db_size_gb", NUMBER, NULL },
	[ENRP_FORM_DUMP_SIZE] = { "dump_size_gb", NUMBER, NULL },
	[ENRP_FORM_GROWTH] = { "growth_gb", NUMBER, NULL },
	[ENRP_FORM_CPUS] = { "cpus", TEXT, NULL },
	[ENRP_FORM_CPU_LOAD] = { "cpu_load_pct", PERCENT, NULL },
	[ENRP_FORM_RAM] = { "ram_gb", NUMBER, NULL },
	[ENRP_FORM_BACKUP_TOOLS] = { "backup_tools", TEXT, NULL },
	[ENRP_FORM_ORGANISATION] = { "organisation", TEXT, NULL },
	[ENRP_FORM_RESPONSIBLE] = { "responsible", TEXT, NULL },
	[ENRP_FORM_PHONE] = { "phone", TEXT, NULL },
	[ENRP_FORM_SCHEDULE] = { "schedule", SCHEDULE, NULL },
	[ENRP_FORM_BACKUP_TYPE] = { "backup_type", CHOICE,
	                            (const char *const[]){ "full", "incremental",
	                                                   "differential", NULL } },
	[ENRP_FORM_METHOD] = { "method", CHOICE,
	                       (const char *const[]){ "clone", "snapshot", "copy", NULL } },
	[ENRP_FORM_HOTCOLD] = { "backup_mode", CHOICE,
	                        (const char *const[]){ "hot", "cold", NULL } },
};

const char *enrp_form_key(enum enrp_form_field f)
{
	return (unsigned)f < ENRP_FORM_FIELDS ? fields[f].key : "?";
}

int enrp_form_key_parse(const char *key, enum enrp_form_field *out)
{
	for (unsigned i = 0; i < ENRP_FORM_FIELDS; i++) {
		if (strcmp(key, fields[i].key) == 0) {
			*out = (enum enrp_form_field)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int bad(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errsz, const char *fmt, ...)
{
	if (err && errsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errsz, _(fmt), ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int check_text(const char *in, char *err, size_t errsz)
{
	for (const char *p = in; *p;) {
		unsigned cp;
		size_t n = enrp_utf8_decode(p, &cp);
		if (n == 0)
			return bad(err, errsz, N_("not valid UTF-8"));
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return bad(err, errsz, N_("a control character (line break, tab...)"));
		p += n;
	}
	return 0;
}

/* A non-negative decimal into CANON: leading zeros and trailing fraction
 * zeros dropped, ',' read as the decimal point.  *OVER_100 tells whether
 * it exceeds 100. */
static int check_number(const char *in, char *canon, bool *over_100, char *err, size_t errsz)
{
	size_t ni = strspn(in, "0123456789");
	const char *frac = in + ni;
	size_t nf = 0;

	if (ni == 0)
		return bad(err, errsz, N_("'%s' is not a number (e.g. 120 or 12.5)"), in);
	if (*frac == '.' || *frac == ',') {
		nf = strspn(frac + 1, "0123456789");
		if (nf == 0 || frac[1 + nf])
			return bad(err, errsz, N_("'%s' is not a number (e.g. 120 or 12.5)"), in);
		if (nf > NUMBER_FRAC_DIGITS)
			return bad(err, errsz, N_("'%s' has more than 3 decimals"), in);
	} else if (*frac) {
		return bad(err, errsz, N_("'%s' is not a number (e.g. 120 or 12.5)"), in);
	}
	while (ni > 1 && *in == '0') {
		in++;
		ni--;
	}
	if (ni > NUMBER_INT_DIGITS)
		return bad(err, errsz, N_("'%s' is too large"), in);
	while (nf > 0 && frac[nf] == '0')
		nf--;
	memcpy(canon, in, ni);
	size_t len = ni;
	if (nf) {
		canon[len++] = '.';
		memcpy(canon + len, frac + 1, nf);
		len += nf;
	}
	canon[len] = '\0';
	*over_100 = ni > 3 || (ni == 3 && (strncmp(in, "100", 3) > 0 || nf > 0));
	return 0;
}

int enrp_form_value_check(enum enrp_form_field f, const char *in, char *canon, char *err,
                          size_t errsz)
{
	char why[ENRP_SCHEDULE_ERR_MAX];
	struct enrp_schedule sch;
	bool over;
	int rc;

	if ((unsigned)f >= ENRP_FORM_FIELDS)
		return bad(err, errsz, N_("unknown field"));
	if (err && errsz)
		err[0] = '\0';
	if (strlen(in) > ENRP_FORM_VALUE_MAX)
		return bad(err, errsz, N_("longer than %d bytes"), ENRP_FORM_VALUE_MAX);
	if (!*in) {
		canon[0] = '\0';
		return 0;
	}
	switch (fields[f].kind) {
	case TEXT:
		rc = check_text(in, err, errsz);
		if (rc == 0)
			memcpy(canon, in, strlen(in) + 1);
		return rc;
	case NUMBER:
		return check_number(in, canon, &over, err, errsz);
	case PERCENT:
		rc = check_number(in, canon, &over, err, errsz);
		if (rc == 0 && over)
			return bad(err, errsz, N_("'%s' is not a percentage from 0 to 100"), in);
		return rc;
	case SCHEDULE:
		if (enrp_schedule_parse(in, &sch, why, sizeof(why)))
			return bad(err, errsz, "%s", why);
		enrp_schedule_format(&sch, canon, ENRP_FORM_VALUE_MAX + 1);
		return 0;
	case CHOICE:
		for (const char *const *c = fields[f].choices; *c; c++) {
			if (strcmp(in, *c) == 0) {
				memcpy(canon, in, strlen(in) + 1);
				return 0;
			}
		}
		if (err && errsz) {
			int n = snprintf(err, errsz, _("'%s' is not one of"), in);
			for (const char *const *c = fields[f].choices; *c && n > 0 && (size_t)n < errsz;
			     c++)
				n += snprintf(err + n, errsz - (size_t)n, "%s %s", c == fields[f].choices ? "" : ",", *c);
		}
		return -EINVAL;
	}
	return -EINVAL;
}

/* ---- in the store ---- */

int form_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir_form *out)
{
	const void *v;
	size_t len;
	int rc = eir_setting_get(t, id, SETTING_FORM, &v, &len);
	if (rc == -ENOENT) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (rc)
		return rc;
	return rec_form_decode(v, len, out);
}

static bool form_canonical(const struct enrp_eir_form *f, uint32_t mask)
{
	char canon[ENRP_FORM_VALUE_MAX + 1];
	for (unsigned i = 0; i < ENRP_FORM_FIELDS; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (!memchr(f->value[i], '\0', sizeof(f->value[i])))
			return false;
		if (enrp_form_value_check((enum enrp_form_field)i, f->value[i], canon, NULL, 0) ||
		    strcmp(canon, f->value[i]))
			return false;
	}
	return true;
}

/* Applies the MASK fields of NV to EIR E's form and journals the change. */
static int form_set_txn(enrp_txn *t, const struct enrp_eir *e, const struct enrp_eir_form *nv,
                        uint32_t mask, const struct enrp_actor *actor)
{
	struct enrp_eir_form *cur = malloc(sizeof(*cur));
	char details[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	bool changed = false, any = false;
	struct rec_out o;
	int rc;

	if (!cur)
		return -ENOMEM;
	rc = form_get_txn(t, e->id, cur);
	if (rc)
		goto out;
	for (unsigned i = 0; i < ENRP_FORM_FIELDS; i++) {
		if (!(mask & (1u << i)) || strcmp(cur->value[i], nv->value[i]) == 0)
			continue;
		memcpy(cur->value[i], nv->value[i], sizeof(cur->value[i]));
		/* A new schedule owes slots from now on, not from the old one's. */
		if (i == ENRP_FORM_SCHEDULE && (rc = transfer_schedule_set_txn(t, e->id)))
			goto out;
		enrp_details_add(details, sizeof(details), fields[i].key, "%s", nv->value[i]);
		changed = true;
	}
	if (!changed)
		goto out;
	for (unsigned i = 0; i < ENRP_FORM_FIELDS; i++)
		any |= cur->value[i][0] != '\0';
	if (any) {
		rec_out_init(&o);
		rc = rec_form_encode(cur, &o);
		if (rc == 0)
			rc = eir_setting_put(t, e->id, SETTING_FORM, o.buf, o.len);
		rec_out_release(&o);
	} else {
		rc = eir_setting_del(t, e->id, SETTING_FORM);
	}
	if (rc == 0)
		rc = journal_append_txn(t, actor, e->name, "form-set", details);
out:
	free(cur);
	return rc;
}

struct get_ctx {
	const char *name;
	struct enrp_eir_form *out;
};

static int get_fn(enrp_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	struct enrp_eir e;
	int rc = eir_get_by_name_txn(t, c->name, &e);
	return rc ? rc : form_get_txn(t, e.id, c->out);
}

int enrp_form_get(enrp_store *st, const char *name, struct enrp_eir_form *out)
{
	struct get_ctx c = { name, out };
	return enrp_store_read(st, get_fn, &c);
}

struct set_ctx {
	const char *name;
	const struct enrp_eir_form *nv;
	uint32_t mask;
	const struct enrp_actor *actor;
};

static int set_fn(enrp_txn *t, void *arg)
{
	struct set_ctx *c = arg;
	struct enrp_eir e;
	int rc = eir_get_by_name_txn(t, c->name, &e);
	if (rc)
		return rc;
	if (e.state == ENRP_STATE_DESTROYED)
		return -EINVAL;
	if (e.state == ENRP_STATE_RETIRED)
		return -EROFS;
	return form_set_txn(t, &e, c->nv, c->mask, c->actor);
}

int enrp_form_set(enrp_store *st, const char *name, const struct enrp_eir_form *new_values,
                  uint32_t mask, const struct enrp_actor *actor)
{
	struct set_ctx c = { name, new_values, mask, actor };
	if (mask >> ENRP_FORM_FIELDS || !form_canonical(new_values, mask))
		return -EINVAL;
	return enrp_store_write(st, set_fn, &c);
}

struct import_ctx {
	const struct enrp_form_import_item *items;
	size_t n;
	const struct enrp_actor *actor;
	size_t failed;
};

static int import_fn(enrp_txn *t, void *arg)
{
	struct import_ctx *c = arg;
	const uint32_t all = (1u << ENRP_FORM_FIELDS) - 1;

	for (size_t i = 0; i < c->n; i++) {
		const struct enrp_form_import_item *it = &c->items[i];
		struct enrp_eir e;
		c->failed = i;
		int rc = eir_create_txn(t, &it->eir, c->actor, &e);
		if (rc == 0)
			rc = form_set_txn(t, &e, &it->form, all, c->actor);
		if (rc == 0 && (enrp_retention_has_keep(&it->retention) || it->retention.files_days))
			rc = retention_set_txn(t, &e, &it->retention, c->actor);
		if (rc)
			return rc;
	}
	return 0;
}

int enrp_form_import(enrp_store *st, const struct enrp_form_import_item *items, size_t n,
                     const struct enrp_actor *actor, size_t *failed)
{
	struct import_ctx c = { items, n, actor, 0 };
	for (size_t i = 0; i < n; i++) {
		if (!form_canonical(&items[i].form, (1u << ENRP_FORM_FIELDS) - 1)) {
			if (failed)
				*failed = i;
			return -EINVAL;
		}
	}
	int rc = enrp_store_write(st, import_fn, &c);
	if (rc && failed)
		*failed = c.failed;
	return rc;
}
