/*
 * cmd_eir_form.c — the registration form in enrpctl: the form options of
 * `eir create` and `eir set`, its lines in `eir show`, and
 *
 *   eir import FILE.csv [--dry-run]     eir export [NAME...] [-o FILE]
 *
 * The CSV columns (enrpctl(8) lists them): a header row of column keys,
 * English (case-insensitive) or the Russian or Kazakh titles of the
 * platform's form (exact), in any order; only "name" and "owner" are required.  Export
 * writes every column, English keys, in the order of the table below, with
 * canonical values, so export -> import -> export gives the same bytes.
 *
 * Import is all-or-nothing: the whole file is read and every row checked
 * (syntax, each value, names taken in the store or twice in the file,
 * owners and agents that are no users) before anything is written; every
 * problem is reported, not only the first; then one core transaction
 * (enrp_form_import) creates all of them, or none if the store changed
 * meanwhile.  Errors name the file and line, and the column: the
 * character column for a syntax error, the field's number and key for a
 * bad value.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <enrp/csv.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/form.h>
#include <enrp/units.h>

#include "ctl.h"

/* Reading more than this is a wrong file, not a form. */
#define IMPORT_FILE_MAX (64u << 20)
/* EIRs in one import: a platform's registry is hundreds; each row costs
 * about 10 KiB while checked, and all go into one transaction. */
#define IMPORT_EIRS_MAX 10000
/* Problems listed before the rest are only counted. */
#define IMPORT_ERRORS_SHOWN 50

/* --- form options of create and set -------------------------------------- */

static const char *const option_names[ENRP_FORM_FIELDS] = {
	[ENRP_FORM_FULL_NAME] = "full-name",
	[ENRP_FORM_OS] = "os",
	[ENRP_FORM_DBMS] = "dbms",
	[ENRP_FORM_DB_SIZE] = "db-size-gb",
	[ENRP_FORM_DUMP_SIZE] = "dump-size-gb",
	[ENRP_FORM_GROWTH] = "growth-gb",
	[ENRP_FORM_CPUS] = "cpus",
	[ENRP_FORM_CPU_LOAD] = "cpu-load-pct",
	[ENRP_FORM_RAM] = "ram-gb",
	[ENRP_FORM_BACKUP_TOOLS] = "backup-tools",
	[ENRP_FORM_ORGANISATION] = "organisation",
	[ENRP_FORM_RESPONSIBLE] = "responsible",
	[ENRP_FORM_PHONE] = "phone",
	[ENRP_FORM_SCHEDULE] = "schedule",
	[ENRP_FORM_BACKUP_TYPE] = "backup-type",
	[ENRP_FORM_METHOD] = "method",
	[ENRP_FORM_HOTCOLD] = "backup-mode",
};

const char *form_option_name(unsigned field)
{
	return field < ENRP_FORM_FIELDS ? option_names[field] : "?";
}

bool form_opts_take(struct form_opts *fo, int c, const char *arg)
{
	if (c < FORM_OPT_BASE || c >= FORM_OPT_BASE + ENRP_FORM_FIELDS)
		return false;
	fo->value[c - FORM_OPT_BASE] = arg;
	return true;
}

int form_opts_apply(const struct form_opts *fo, struct enrp_eir_form *form, uint32_t *mask)
{
	char err[ENRP_FORM_ERR_MAX];
	*mask = 0;
	for (unsigned f = 0; f < ENRP_FORM_FIELDS; f++) {
		if (!fo->value[f])
			continue;
		if (enrp_form_value_check((enum enrp_form_field)f, fo->value[f], form->value[f], err,
		                          sizeof(err))) {
			ctl_err("invalid --%s: %s", option_names[f], err);
			ctl_hint("see 'enrpctl eir create --help' and enrpctl(8) for the form's fields");
			return CTL_USAGE;
		}
		*mask |= 1u << f;
	}
	return CTL_OK;
}

void form_show_text(const struct eir_row *row)
{
	for (unsigned f = 0; f < ENRP_FORM_FIELDS; f++) {
		const char *v = row->have_form ? row->form.value[f] : "";
		ctl_line(stdout, "%s: %s", option_names[f], v[0] ? v : "-");
	}
}

/* --- columns ------------------------------------------------------------- */

enum column {
	COL_NAME,
	COL_FORM_FIRST, /* COL_FORM_FIRST + field, for every form field */
	COL_CLASS = COL_FORM_FIRST + ENRP_FORM_FIELDS,
	COL_MODE,
	COL_RETENTION,
	COL_OWNER,
	COL_AGENT,
	COL_QUOTA,
	COLUMNS
};

struct column_def {
	const char *key;
	const char *title_ru; /* the form's column title */
	const char *title_kk; /* the same in Kazakh */
};

static const struct column_def columns[COLUMNS] = {
	[COL_NAME] = { "name", "Имя ЭИР",
	                 "ЭАР аты" },
	[COL_FORM_FIRST + ENRP_FORM_FULL_NAME] = { "full_name", "Полное наименование ЭИР",
	                 "ЭАР толық атауы" },
	[COL_FORM_FIRST + ENRP_FORM_OS] = { "os", "ОС и версия",
	                 "ОЖ және нұсқасы" },
	[COL_FORM_FIRST + ENRP_FORM_DBMS] = { "dbms", "СУБД/ПО и версия",
	                 "ДҚБЖ/БҚ және нұсқасы" },
	[COL_FORM_FIRST + ENRP_FORM_DB_SIZE] = { "db_size_gb", "Размер БД (ГБ)",
	                 "ДҚ көлемі (ГБ)" },
	[COL_FORM_FIRST + ENRP_FORM_DUMP_SIZE] = { "dump_size_gb", "Размер дампа (ГБ)",
	                 "Дамп көлемі (ГБ)" },
	[COL_FORM_FIRST + ENRP_FORM_GROWTH] = { "growth_gb", "Планируемый прирост в год (ГБ)",
	                 "Жылдық жоспарланған өсім (ГБ)" },
	[COL_FORM_FIRST + ENRP_FORM_CPUS] = { "cpus", "Процессоры сервера",
	                 "Сервер процессорлары" },
	[COL_FORM_FIRST + ENRP_FORM_CPU_LOAD] = { "cpu_load_pct", "Загрузка ЦП (%)",
	                 "ОП жүктемесі (%)" },
	[COL_FORM_FIRST + ENRP_FORM_RAM] = { "ram_gb", "ОЗУ (ГБ)",
	                 "ЖЖҚ (ГБ)" },
	[COL_FORM_FIRST + ENRP_FORM_BACKUP_TOOLS] = { "backup_tools",
	                                              "Средства резервного копирования",
	                 "Сақтық көшірмелеу құралдары" },
	[COL_FORM_FIRST + ENRP_FORM_ORGANISATION] = { "organisation", "Владелец (организация)",
	                 "Иесі (ұйым)" },
	[COL_FORM_FIRST + ENRP_FORM_RESPONSIBLE] = { "responsible", "Ответственное лицо",
	                 "Жауапты тұлға" },
	[COL_FORM_FIRST + ENRP_FORM_PHONE] = { "phone", "Телефон",
	                 "Телефон" },
	[COL_FORM_FIRST + ENRP_FORM_SCHEDULE] = { "schedule", "Расписание",
	                 "Кесте" },
	[COL_FORM_FIRST + ENRP_FORM_BACKUP_TYPE] = { "backup_type", "Тип резервного копирования",
	                 "Сақтық көшірмелеу түрі" },
	[COL_FORM_FIRST + ENRP_FORM_METHOD] = { "method", "Способ резервного копирования",
	                 "Сақтық көшірмелеу әдісі" },
	[COL_FORM_FIRST + ENRP_FORM_HOTCOLD] = { "backup_mode", "Режим резервного копирования",
	                 "Сақтық көшірмелеу режимі" },
	[COL_CLASS] = { "class", "Класс ЭИР",
	                 "ЭАР сыныбы" },
	[COL_MODE] = { "mode", "Режим доступа",
	                 "Қол жеткізу режимі" },
	[COL_RETENTION] = { "retention", "Срок хранения",
	                 "Сақтау мерзімі" },
	[COL_OWNER] = { "owner", "Учётная запись владельца",
	                 "Иесінің тіркелгісі" },
	[COL_AGENT] = { "agent", "Учётная запись агента",
	                 "Агенттің тіркелгісі" },
	[COL_QUOTA] = { "quota", "Квота",
	                 "Квота" },
};

/* The column a header cell names (surrounding spaces ignored), or -1. */
static int column_of(const char *cell)
{
	size_t len = strlen(cell);
	while (len && cell[len - 1] == ' ')
		len--;
	while (*cell == ' ') {
		cell++;
		len--;
	}
	for (int c = 0; c < COLUMNS; c++) {
		if ((strlen(columns[c].key) == len && strncasecmp(cell, columns[c].key, len) == 0) ||
		    (strlen(columns[c].title_ru) == len && strncmp(cell, columns[c].title_ru, len) == 0) ||
		    (strlen(columns[c].title_kk) == len && strncmp(cell, columns[c].title_kk, len) == 0))
			return c;
	}
	return -1;
}

/* --- help ---------------------------------------------------------------- */

static const struct ctl_help import_help = {
	"enrpctl eir import FILE.csv [--dry-run] [--json]",
	N_("Creates the EIRs described by FILE.csv (the platform's registration form;\n"
	"'-' reads standard input), all of them or none.  The file is UTF-8 CSV\n"
	"(RFC 4180: fields with commas, quotes or line breaks in double quotes, a\n"
	"quote doubled) with a header row of column keys, English or the form's\n"
	"Russian or Kazakh titles, in any order: name and owner are required;\n"
	"full_name, os, dbms, db_size_gb, dump_size_gb, growth_gb, cpus,\n"
	"cpu_load_pct, ram_gb, backup_tools, organisation, class, responsible,\n"
	"phone, schedule, backup_type, method, backup_mode, mode, retention, agent\n"
	"and quota may follow (enrpctl(8) describes each).  Every row is checked first; any\n"
	"problem is reported with its line and column and nothing is imported.\n"
	"\n"
	"Options:\n"
	"  --dry-run          check the file and list what would be created; change\n"
	"                     nothing\n"
	"  --json             print the EIRs created (or that would be) as a JSON\n"
	"                     array: name, line, owner, class, mode, created\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help export_help = {
	"enrpctl eir export [NAME...] [-o FILE]",
	N_("Writes the EIRs (every one that is not destroyed, or the NAMEs) as CSV in\n"
	"the columns 'eir import' reads, English keys in the header, so that the\n"
	"output imported into another store creates the same EIRs with the same\n"
	"form.  Their state, usage and history are not part of it.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE  write to FILE (replaced) instead of standard output\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* --- import -------------------------------------------------------------- */

struct import_state {
	const char *file;
	unsigned errors;
};

/* Reports a problem of cell COL (-1: the row) on LINE. */
static void cell_problem(struct import_state *s, unsigned line, int field, int col,
                         const char *msg)
{
	s->errors++;
	if (s->errors > IMPORT_ERRORS_SHOWN)
		return;
	if (col < 0)
		ctl_err("%s:%u: %s", s->file, line, msg);
	else
		ctl_err("%s:%u: column %d (%s): %s", s->file, line, field + 1, columns[col].key, msg);
}

static bool read_all(const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 0;
	*buf = NULL;
	*len = 0;
	if (!f) {
		ctl_err("cannot open '%s': %s", path, strerror(errno));
		ctl_hint("give the path of a CSV file, or '-' for standard input");
		return false;
	}
	for (;;) {
		if (*len + 65536 > cap) {
			cap = (*len + 65536) * 2;
			*buf = ctl_xrealloc(*buf, cap, 1);
		}
		size_t n = fread(*buf + *len, 1, cap - *len, f);
		*len += n;
		if (*len > IMPORT_FILE_MAX) {
			ctl_err("'%s' is larger than %u MiB", path, IMPORT_FILE_MAX >> 20);
			ctl_hint("split it into several files");
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		ctl_err("cannot read '%s': %s", path, strerror(errno));
		ctl_hint("check the file");
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	return true;
fail:
	if (f != stdin)
		fclose(f);
	free(*buf);
	*buf = NULL;
	return false;
}

/* USER[:GROUP] that must exist; a message in ERR otherwise. */
static bool owner_lookup(const char *s, uint32_t *uid, uint32_t *gid, char *err, size_t errsz)
{
	char *user = ctl_xstrdup(s), *group = strchr(user, ':');
	const struct passwd *pw;
	const struct group *gr;
	bool ok = false;
	if (group)
		*group++ = '\0';
	pw = *user ? getpwnam(user) : NULL;
	if (!pw && *user && strspn(user, "0123456789") == strlen(user) && strlen(user) < 10)
		pw = getpwuid((uid_t)strtoul(user, NULL, 10));
	if (!pw) {
		snprintf(err, errsz, _("no user named '%s'"), user);
		goto out;
	}
	*uid = (uint32_t)pw->pw_uid;
	*gid = (uint32_t)pw->pw_gid;
	if (group) {
		gr = *group ? getgrnam(group) : NULL;
		if (!gr && *group && strspn(group, "0123456789") == strlen(group) && strlen(group) < 10)
			gr = getgrgid((gid_t)strtoul(group, NULL, 10));
		if (!gr) {
			snprintf(err, errsz, _("no group named '%s'"), group);
			goto out;
		}
		*gid = (uint32_t)gr->gr_gid;
	}
	ok = true;
out:
	free(user);
	return ok;
}

/* Checks one data row into IT; reports every bad cell. */
static void check_row(struct import_state *s, const enrp_csv *csv, size_t r, const int *colmap,
                      size_t ncols, struct enrp_form_import_item *it)
{
	unsigned line = enrp_csv_line(csv, r);
	const char *cell[COLUMNS] = { 0 };
	int field_of[COLUMNS];
	char err[ENRP_FORM_ERR_MAX + 64];

	for (int c = 0; c < COLUMNS; c++)
		field_of[c] = -1;
	for (size_t i = 0; i < ncols; i++) {
		cell[colmap[i]] = enrp_csv_field(csv, r, i);
		field_of[colmap[i]] = (int)i;
	}
	const char *name = cell[COL_NAME];
	enrp_eir_defaults(&it->eir, name && enrp_eir_name_valid(name) ? name : "");
	if (!enrp_eir_name_valid(name)) {
		snprintf(err, sizeof(err), _("invalid EIR name '%s' (1-%d characters of a-z, 0-9, "
		         "'.', '_' and '-', starting with a letter or digit)"), name, ENRP_EIR_NAME_MAX);
		cell_problem(s, line, field_of[COL_NAME], COL_NAME, err);
	}
	for (unsigned f = 0; f < ENRP_FORM_FIELDS; f++) {
		int c = COL_FORM_FIRST + (int)f;
		if (!cell[c])
			continue;
		if (enrp_form_value_check((enum enrp_form_field)f, cell[c], it->form.value[f], err,
		                          sizeof(err)))
			cell_problem(s, line, field_of[c], c, err);
	}
	if (cell[COL_CLASS] && cell[COL_CLASS][0]) {
		const char *v = cell[COL_CLASS];
		if ((v[0] == '1' || v[0] == '2' || v[0] == '3') && !v[1])
			it->eir.eir_class = (uint8_t)(v[0] - '0');
		else
			cell_problem(s, line, field_of[COL_CLASS], COL_CLASS,
			             _("the class is 1, 2 or 3"));
	}
	if (cell[COL_MODE] && cell[COL_MODE][0] && enrp_mode_parse(cell[COL_MODE], &it->eir.mode))
		cell_problem(s, line, field_of[COL_MODE], COL_MODE,
		             _("the mode is one of rw, wo, ro, active"));
	if (cell[COL_RETENTION] && cell[COL_RETENTION][0]) {
		char why[ENRP_RETENTION_ERR_MAX];
		if (enrp_retention_parse(cell[COL_RETENTION], &it->retention, why, sizeof(why)))
			cell_problem(s, line, field_of[COL_RETENTION], COL_RETENTION, why);
	}
	if (!cell[COL_OWNER] || !cell[COL_OWNER][0]) {
		cell_problem(s, line, field_of[COL_OWNER], COL_OWNER,
		             _("an EIR needs an owner (USER or USER:GROUP)"));
	} else if (!owner_lookup(cell[COL_OWNER], &it->eir.owner_uid, &it->eir.owner_gid, err,
	                         sizeof(err))) {
		cell_problem(s, line, field_of[COL_OWNER], COL_OWNER, err);
	}
	if (cell[COL_AGENT] && cell[COL_AGENT][0]) {
		uint32_t gid;
		if (!owner_lookup(cell[COL_AGENT], &it->eir.agent_uid, &gid, err, sizeof(err)) ||
		    strchr(cell[COL_AGENT], ':'))
			cell_problem(s, line, field_of[COL_AGENT], COL_AGENT,
			             strchr(cell[COL_AGENT], ':') ? _("the agent is a user, not USER:GROUP")
			                                          : err);
	}
	if (it->eir.mode == ENRP_MODE_ACTIVE && it->eir.agent_uid == ENRP_NO_UID)
		cell_problem(s, line, field_of[COL_MODE], COL_MODE,
		             _("an active EIR needs a replication agent (the agent column)"));
	if (cell[COL_QUOTA] && cell[COL_QUOTA][0] && enrp_size_parse(cell[COL_QUOTA], &it->eir.quota))
		cell_problem(s, line, field_of[COL_QUOTA], COL_QUOTA,
		             _("invalid size (bytes with an optional K, M, G, T or P suffix, or "
		               "'none')"));
}

/* What an import made (CREATED) or would make: one object per EIR. */
static void import_json(const struct enrp_form_import_item *items, const size_t *line_of,
                        size_t n, bool created)
{
	struct json j;
	json_init(&j, stdout);
	json_array_begin(&j);
	for (size_t k = 0; k < n; k++) {
		char *owner = user_label(items[k].eir.owner_uid);
		json_object_begin(&j);
		json_kv_str(&j, "name", items[k].eir.name);
		json_kv_u64(&j, "line", line_of[k]);
		json_kv_str(&j, "owner", owner);
		json_kv_u64(&j, "class", items[k].eir.eir_class);
		json_kv_str(&j, "mode", enrp_mode_name(items[k].eir.mode));
		json_kv_bool(&j, "created", created);
		json_object_end(&j);
		free(owner);
	}
	json_array_end(&j);
	json_finish(&j);
}

static int import_file(struct ctl *ctl, const char *path, bool dry_run)
{
	struct import_state s = { path, 0 };
	struct enrp_csv_error cerr;
	struct enrp_form_import_item *items = NULL;
	enrp_csv *csv = NULL;
	int colmap[ENRP_CSV_FIELDS_MAX];
	size_t len, nitems = 0, ncols;
	char *buf;
	int rc = CTL_FAIL;

	if (!read_all(path, &buf, &len))
		return CTL_FAIL;
	int prc = enrp_csv_parse(buf, len, &csv, &cerr);
	free(buf);
	if (prc == -ENOMEM) {
		ctl_err("out of memory reading '%s'", path);
		ctl_hint("split the file");
		return CTL_FAIL;
	}
	if (prc) {
		ctl_err("%s:%u:%u: %s", path, cerr.line, cerr.column, cerr.msg);
		ctl_hint("fix the file (RFC 4180 CSV in UTF-8); nothing was imported");
		return CTL_FAIL;
	}
	size_t header = 0;
	while (header < enrp_csv_rows(csv) && enrp_csv_fields(csv, header) == 0)
		header++;
	if (header == enrp_csv_rows(csv)) {
		ctl_err("'%s' has no header row", path);
		ctl_hint("the first line names the columns, e.g. name,owner,full_name");
		goto out;
	}
	ncols = enrp_csv_fields(csv, header);
	bool seen[COLUMNS] = { 0 };
	for (size_t i = 0; i < ncols; i++) {
		const char *h = enrp_csv_field(csv, header, i);
		colmap[i] = column_of(h);
		if (colmap[i] < 0) {
			char msg[300];
			snprintf(msg, sizeof(msg), _("unknown column '%s'"), h);
			s.errors++;
			ctl_err("%s:%u: column %zu: %s", path, enrp_csv_line(csv, header), i + 1, msg);
		} else if (seen[colmap[i]]) {
			s.errors++;
			ctl_err("%s:%u: column %zu: column '%s' given twice", path,
			        enrp_csv_line(csv, header), i + 1, columns[colmap[i]].key);
		} else {
			seen[colmap[i]] = true;
		}
	}
	if (!s.errors && (!seen[COL_NAME] || !seen[COL_OWNER])) {
		s.errors++;
		ctl_err("%s:%u: the header has no '%s' column", path, enrp_csv_line(csv, header),
		        !seen[COL_NAME] ? "name" : "owner");
	}
	if (s.errors) {
		ctl_hint("the columns are listed in 'enrpctl eir import --help' and enrpctl(8); "
		         "nothing was imported");
		goto out;
	}

	if (enrp_csv_rows(csv) - header - 1 > IMPORT_EIRS_MAX) {
		ctl_err("'%s' has %zu rows; one import takes at most %d EIRs", path,
		        enrp_csv_rows(csv) - header - 1, IMPORT_EIRS_MAX);
		ctl_hint("split the file; nothing was imported");
		goto out;
	}
	items = ctl_xmalloc((enrp_csv_rows(csv) + 1) * sizeof(*items));
	size_t *line_of = ctl_xmalloc((enrp_csv_rows(csv) + 1) * sizeof(*line_of));
	for (size_t r = header + 1; r < enrp_csv_rows(csv); r++) {
		size_t n = enrp_csv_fields(csv, r);
		unsigned line = enrp_csv_line(csv, r);
		if (n == 0)
			continue; /* an empty line */
		if (n != ncols) {
			char msg[120];
			snprintf(msg, sizeof(msg), _("%zu fields, but the header has %zu"), n, ncols);
			cell_problem(&s, line, -1, -1, msg);
			continue;
		}
		struct enrp_form_import_item *it = &items[nitems];
		memset(it, 0, sizeof(*it));
		check_row(&s, csv, r, colmap, ncols, it);
		line_of[nitems] = line;
		if (!it->eir.name[0]) {
			nitems++;
			continue;
		}
		for (size_t k = 0; k < nitems; k++) {
			if (strcmp(items[k].eir.name, it->eir.name) == 0) {
				char msg[200];
				snprintf(msg, sizeof(msg), _("EIR '%s' is named on line %zu already"),
				         it->eir.name, line_of[k]);
				cell_problem(&s, line, -1, -1, msg);
				break;
			}
		}
		nitems++;
	}
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		goto out_lines;
	rc = CTL_FAIL;
	for (size_t k = 0; k < nitems; k++) {
		struct enrp_eir e;
		if (items[k].eir.name[0] && enrp_eir_get(ctl->store, items[k].eir.name, &e) == 0) {
			char msg[200];
			snprintf(msg, sizeof(msg), _("EIR '%s' already exists in the store"),
			         items[k].eir.name);
			cell_problem(&s, (unsigned)line_of[k], -1, -1, msg);
		}
	}
	if (s.errors) {
		if (s.errors > IMPORT_ERRORS_SHOWN)
			ctl_err("%u more problems not shown", s.errors - IMPORT_ERRORS_SHOWN);
		ctl_hint("fix the %u problem(s) above; nothing was imported", s.errors);
		goto out_lines;
	}
	if (nitems == 0) {
		ctl_line(stdout, "no EIRs in '%s': nothing to import", path);
		rc = CTL_OK;
		goto out_lines;
	}
	if (dry_run && ctl->json) {
		import_json(items, line_of, nitems, false);
		rc = CTL_OK;
		goto out_lines;
	}
	if (dry_run) {
		for (size_t k = 0; k < nitems; k++) {
			char *owner = user_label(items[k].eir.owner_uid);
			ctl_line(stdout, "would create EIR '%s' (line %zu: owner %s, class %u, mode %s)",
			         items[k].eir.name, line_of[k], owner, items[k].eir.eir_class,
			         enrp_mode_name(items[k].eir.mode));
			free(owner);
		}
		ctl_line(stdout, "%zu EIR(s) would be imported; nothing was changed (--dry-run)",
		         nitems);
		rc = CTL_OK;
		goto out_lines;
	}
	size_t failed = 0;
	int irc = enrp_form_import(ctl->store, items, nitems, &ctl->actor, &failed);
	if (irc == -EEXIST) {
		ctl_err("%s:%zu: EIR '%s' was created meanwhile", path, line_of[failed],
		        items[failed].eir.name);
		ctl_hint("nothing was imported; run the import again");
		goto out_lines;
	}
	if (irc < 0) {
		ctl_err("cannot import '%s' (line %zu, EIR '%s'): %s", path, line_of[failed],
		        items[failed].eir.name, enrp_strerror(irc));
		ctl_hint("nothing was imported; see the messages above, if any");
		goto out_lines;
	}
	rc = CTL_OK;
	if (ctl->json)
		import_json(items, line_of, nitems, true);
	for (size_t k = 0; k < nitems; k++) {
		struct enrp_eir e;
		if (!ctl->json)
			ctl_line(stdout, "created EIR '%s'", items[k].eir.name);
		if (enrp_eir_get(ctl->store, items[k].eir.name, &e) == 0 &&
		    ctl_notify_eir(ctl, e.name, e.id) != CTL_OK)
			rc = CTL_FAIL;
	}
	if (!ctl->json)
		ctl_line(stdout, "imported %zu EIR(s) from '%s'", nitems, path);
out_lines:
	free(line_of);
out:
	free(items);
	enrp_csv_free(csv);
	return rc;
}

int cmd_eir_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' }, CTL_OPT_JSON, CTL_OPTS_COMMON
	};
	bool dry_run = false;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:j", opts, NULL)) != -1) {
		if (c == 'n') {
			dry_run = true;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &import_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, &import_help, "no file given");
	if (optind + 1 < argc)
		return ctl_usage_error(ctl, &import_help, "too many arguments");
	return import_file(ctl, argv[optind], dry_run);
}

/* --- export -------------------------------------------------------------- */

/* The cells of ROW in column order into CELLS (strings owned by BUFS). */
static void export_cells(const struct eir_row *row, const char **cells, char bufs[][128])
{
	const struct enrp_eir *e = &row->eir;
	cells[COL_NAME] = e->name;
	for (unsigned f = 0; f < ENRP_FORM_FIELDS; f++)
		cells[COL_FORM_FIRST + f] = row->have_form ? row->form.value[f] : "";
	snprintf(bufs[0], 128, "%u", (unsigned)e->eir_class);
	cells[COL_CLASS] = bufs[0];
	cells[COL_MODE] = enrp_mode_name(e->mode);
	static char policy[ENRP_RETENTION_SPEC_MAX];
	enrp_retention_format(&row->retention, policy, sizeof(policy));
	cells[COL_RETENTION] = row->have_retention ? policy : "";
	char *u = user_label(e->owner_uid), *g = group_label(e->owner_gid);
	snprintf(bufs[1], 128, "%s:%s", u, g);
	free(u);
	free(g);
	cells[COL_OWNER] = bufs[1];
	bufs[2][0] = '\0';
	if (e->agent_uid != ENRP_NO_UID) {
		u = user_label(e->agent_uid);
		snprintf(bufs[2], 128, "%s", u);
		free(u);
	}
	cells[COL_AGENT] = bufs[2];
	bufs[3][0] = '\0';
	if (e->quota)
		snprintf(bufs[3], 128, "%llu", (unsigned long long)e->quota);
	cells[COL_QUOTA] = bufs[3];
}

int cmd_eir_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, CTL_OPTS_COMMON
	};
	const char *output = NULL;
	struct eir_row *rows = NULL;
	size_t n = 0;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "ho:S:", opts, NULL)) != -1) {
		if (c == 'o') {
			output = optarg;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &export_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	for (int i = optind; i < argc; i++) {
		if (!enrp_eir_name_valid(argv[i])) {
			ctl_err("invalid EIR name '%s'", argv[i]);
			ctl_hint("a name is 1-%d characters of a-z, 0-9, '.', '_' and '-', starting "
			         "with a letter or digit", ENRP_EIR_NAME_MAX);
			return CTL_USAGE;
		}
	}
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	rc = eir_collect(ctl, false, &rows, &n);
	if (rc < 0) {
		ctl_err("cannot list the EIRs of '%s': %s", ctl->store_path, enrp_strerror(rc));
		ctl_hint("see the messages above, if any");
		return CTL_FAIL;
	}
	for (int i = optind; i < argc; i++) {
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = strcmp(rows[k].eir.name, argv[i]) == 0 &&
			        rows[k].eir.state != ENRP_STATE_DESTROYED;
		if (!found) {
			free(rows);
			return ctl_eir_error("export", argv[i], -ENOENT);
		}
	}

	char *out = NULL;
	size_t len = 0, cap = 0;
	const char *cells[COLUMNS];
	char bufs[4][128];
	for (int col = 0; col < COLUMNS; col++)
		cells[col] = columns[col].key;
	enrp_csv_append_row(&out, &len, &cap, cells, COLUMNS);
	for (size_t k = 0; k < n; k++) {
		bool wanted = optind >= argc;
		for (int i = optind; i < argc && !wanted; i++)
			wanted = strcmp(rows[k].eir.name, argv[i]) == 0;
		if (!wanted || rows[k].eir.state == ENRP_STATE_DESTROYED)
			continue;
		export_cells(&rows[k], cells, bufs);
		if (enrp_csv_append_row(&out, &len, &cap, cells, COLUMNS)) {
			ctl_err("out of memory");
			ctl_hint("export fewer EIRs at a time");
			rc = CTL_FAIL;
			goto out;
		}
	}
	FILE *f = output ? fopen(output, "wb") : stdout;
	if (!f) {
		ctl_err("cannot create '%s': %s", output, strerror(errno));
		ctl_hint("check the directory and its permissions");
		rc = CTL_FAIL;
		goto out;
	}
	bool wrote = fwrite(out, 1, len, f) == len;
	wrote &= (output ? fclose(f) : fflush(f)) == 0;
	if (!wrote) {
		ctl_err("cannot write '%s': %s", output ? output : "standard output", strerror(errno));
		ctl_hint("check the space left on the device");
		rc = CTL_FAIL;
		goto out;
	}
	rc = CTL_OK;
out:
	free(out);
	free(rows);
	return rc;
}
