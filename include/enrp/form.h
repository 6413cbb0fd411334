/*
 * form.h — the registration form of an EIR: the fields of the platform's
 * technical-characteristics form and the rules' backup parameters, kept
 * beside the EIR's registry record.
 *
 * Every field is text, "" when not filled in, and each has a kind that
 * decides what is accepted and its canonical spelling (what is stored,
 * shown and exported, so that export -> import -> export gives the same
 * bytes):
 *   text      one line of UTF-8 (no control characters), at most
 *             ENRP_FORM_VALUE_MAX bytes, kept as given
 *   number    a non-negative decimal, "12", "12.5" or "12,5" (stored
 *             "12.5"), at most 3 decimals, below 10^12
 *   percent   a number from 0 to 100
 *   schedule  the rules of schedule.h, stored canonically
 *   choice    one word of a fixed list (backup type, method, hot/cold)
 * The access mode, class and retention of an EIR are not form fields: the
 * registry and the retention policy keep them (eir.h, retention.h), and
 * enrpctl presents them with the form.
 *
 * Stored as the EIR's "form" setting (record.c: rec_form_encode), so that a
 * store written before the form existed reads as an empty form.
 */
#ifndef ENRP_FORM_H
#define ENRP_FORM_H

#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/retention.h>
#include <enrp/store.h>

#define ENRP_FORM_VALUE_MAX 512
#define ENRP_FORM_ERR_MAX 200

enum enrp_form_field {
	ENRP_FORM_FULL_NAME,    /* full name of the EIR */
	ENRP_FORM_OS,           /* OS and version */
	ENRP_FORM_DBMS,         /* DBMS or software, and version */
	ENRP_FORM_DB_SIZE,      /* database size, GB (number) */
	ENRP_FORM_DUMP_SIZE,    /* dump size, GB (number) */
	ENRP_FORM_GROWTH,       /* planned yearly growth, GB (number) */
	ENRP_FORM_CPUS,         /* server CPUs (text: "2 x Xeon Gold 6230") */
	ENRP_FORM_CPU_LOAD,     /* CPU load, % (percent) */
	ENRP_FORM_RAM,          /* RAM, GB (number) */
	ENRP_FORM_BACKUP_TOOLS, /* backup tools (text) */
	ENRP_FORM_ORGANISATION, /* owner organisation (text) */
	ENRP_FORM_RESPONSIBLE,  /* responsible person (text) */
	ENRP_FORM_PHONE,        /* their phone (text) */
	ENRP_FORM_SCHEDULE,     /* schedule.h rules */
	ENRP_FORM_BACKUP_TYPE,  /* full | incremental | differential */
	ENRP_FORM_METHOD,       /* clone | snapshot | copy */
	ENRP_FORM_HOTCOLD,      /* hot | cold */
	ENRP_FORM_FIELDS
};

struct enrp_eir_form {
	char value[ENRP_FORM_FIELDS][ENRP_FORM_VALUE_MAX + 1];
};

/* The field's key: "full_name", "os", "dbms", "db_size_gb", "dump_size_gb",
 * "growth_gb", "cpus", "cpu_load_pct", "ram_gb", "backup_tools",
 * "organisation", "responsible", "phone", "schedule", "backup_type",
 * "method", "backup_mode".  _parse: -EINVAL for anything else. */
const char *enrp_form_key(enum enrp_form_field f);
int enrp_form_key_parse(const char *key, enum enrp_form_field *out);

/* Checks IN for field F and writes its canonical form to CANON
 * (ENRP_FORM_VALUE_MAX + 1 bytes).  "" is always accepted (not filled in).
 * -EINVAL with ERR (ERRSZ bytes, may be NULL) saying what is wrong. */
int enrp_form_value_check(enum enrp_form_field f, const char *in, char *canon, char *err,
                          size_t errsz);

/* The form of EIR NAME (every field "" when none was ever set).  -ENOENT no
 * such EIR, -EIO. */
int enrp_form_get(enrp_store *st, const char *name, struct enrp_eir_form *out);

/* Sets the fields whose bit (1 << field) is in MASK to NEW's values, which
 * must be canonical (-EINVAL otherwise), and journals "form-set" with the
 * changed keys' new values.  0 also when nothing changed (nothing
 * journalled).  -ENOENT, -EINVAL a destroyed EIR, -EROFS a retired one. */
int enrp_form_set(enrp_store *st, const char *name, const struct enrp_eir_form *new_values,
                  uint32_t mask, const struct enrp_actor *actor);

/* One EIR of an import: its registry record (as for enrp_eir_create), its
 * form and its retention policy (all zero: none). */
struct enrp_form_import_item {
	struct enrp_eir eir;
	struct enrp_eir_form form;
	struct enrp_retention retention;
};

/* Creates the N EIRs of ITEMS with their forms and policies in ONE
 * transaction: all of them or none.  -EEXIST when a name is taken (by an
 * existing EIR or an earlier item; *FAILED, if not NULL, is its index),
 * -EINVAL a bad field (likewise), -ENOSPC, -EIO. */
int enrp_form_import(enrp_store *st, const struct enrp_form_import_item *items, size_t n,
                     const struct enrp_actor *actor, size_t *failed);

#endif
