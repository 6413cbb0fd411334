/*
 * cmd_snapshot.c — `enrpctl snapshot create|list|show|delete`: frozen copies
 * of an EIR's verified tree (core/snapshot.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/snapshot.h>
#include <enrp/units.h>

#include "ctl.h"

static const struct ctl_help snapshot_help = {
	"enrpctl [-S STORE] snapshot create|list|show|delete ...",
	"Snapshots freeze an EIR's verified files at one instant, at once and\n"
	"whatever the size of the tree; they cost metadata only for what changes\n"
	"after them, and no copy of any data.\n"
	"\n"
	"Verbs:\n"
	"  create EIR [NAME]         a snapshot of this instant (NAME: its time)\n"
	"  list [EIR] [--json]       the snapshots, oldest first\n"
	"  show EIR@NAME [--json]    one snapshot\n"
	"  delete EIR@NAME           delete one (what only it kept is freed by gc)\n",
};

static const struct ctl_help create_help = {
	"enrpctl [-S STORE] snapshot create EIR [NAME] [--json]",
	"Takes a snapshot of EIR now, named NAME (1-63 of A-Z a-z 0-9 . _ : -,\n"
	"starting with a letter or digit; 'latest' is reserved) or, without NAME,\n"
	"by its time (2026-12-01T23:00:00Z).  It holds every file verified at this\n"
	"instant; files still being written or sealed are not in it (the count is\n"
	"printed: take the snapshot once .enrp/pending is empty to have them).\n"
	"\n"
	"Options:\n"
	"  --json             print the snapshot as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

static const struct ctl_help list_help = {
	"enrpctl [-S STORE] snapshot list [EIR] [--json]",
	"Lists the snapshots of EIR (or of all EIRs), oldest first: EIR, name,\n"
	"creation time, files and bytes it holds, and files it left out.\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON array\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

static const struct ctl_help show_help = {
	"enrpctl [-S STORE] snapshot show EIR@NAME [--json]",
	"Shows one snapshot: its name, generation, creation time, who took it,\n"
	"the files and bytes it holds and the files it left out.\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

static const struct ctl_help delete_help = {
	"enrpctl [-S STORE] snapshot delete EIR@NAME",
	"Deletes a snapshot.  What the other snapshots still show stays; what\n"
	"only this one kept is released, and 'enrpctl gc' (or the daemon, on its\n"
	"own) frees its chunks.\n"
	"\n"
	"Options:\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n",
};

/* Parses the verb's options (--json only) and its operands into ARGS (at
 * most MAX).  CTL_CONTINUE, or the exit status. */
static int verb_args(struct ctl *ctl, int argc, char **argv, const struct ctl_help *help,
                     bool json, const char **args, int min, int max)
{
	static const struct option with_json[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	static const struct option without[] = { CTL_OPTS_COMMON };
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", json ? with_json : without, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	int n = argc - optind;
	if (n < min)
		return ctl_usage_error(ctl, help, "missing operand");
	if (n > max)
		return ctl_usage_error(ctl, help, "too many arguments");
	for (int i = 0; i < n; i++)
		args[i] = argv[optind + i];
	return CTL_CONTINUE;
}

/* "EIR@NAME" into its parts; false (after a usage error) otherwise. */
static bool split_at(const char *s, char *eir, size_t eirsz, const char **name)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || (size_t)(at - s) >= eirsz)
		return false;
	memcpy(eir, s, (size_t)(at - s));
	eir[at - s] = '\0';
	*name = at + 1;
	return enrp_eir_name_valid(eir) && enrp_snapshot_name_valid(*name);
}

static void print_json(struct json *j, const struct enrp_snapshot *s)
{
	char when[TIME_BUF];
	time_iso(s->created, when);
	json_object_begin(j);
	json_kv_str(j, "eir", s->eir);
	json_kv_str(j, "name", s->name);
	json_kv_u64(j, "gen", s->gen);
	json_kv_str(j, "created", when);
	json_kv_str(j, "by", s->by);
	json_kv_u64(j, "files", s->files);
	json_kv_u64(j, "bytes", s->bytes);
	json_kv_u64(j, "not_included", s->not_included);
	json_object_end(j);
}

static void print_json_object(const struct enrp_snapshot *s)
{
	struct json j;
	json_init(&j, stdout);
	print_json(&j, s);
	json_finish(&j);
}

static void print_text(const struct enrp_snapshot *s)
{
	char when[TIME_BUF], size[SIZE_BUF];
	time_iso(s->created, when);
	size_human(s->bytes, size);
	ctl_line(stdout, "snapshot: %s@%s", s->eir, s->name);
	ctl_line(stdout, "gen: %" PRIu64, s->gen);
	ctl_line(stdout, "created: %s", when);
	ctl_line(stdout, "by: %s", s->by);
	ctl_line(stdout, "files: %" PRIu64 " verified (%s)", s->files, size);
	ctl_line(stdout, "not included: %" PRIu64 " files being written or sealed", s->not_included);
}

static int snapshot_error(const char *what, const char *eir, const char *name, int rc)
{
	if (rc == -ENOENT && name)
		ctl_err("no snapshot '%s' of EIR '%s' (or no such EIR)", name, eir);
	else if (rc == -ENOENT)
		return ctl_eir_error(what, eir, rc);
	else if (rc == -EEXIST)
		ctl_err("EIR '%s' has a snapshot named '%s' already", eir, name);
	else if (rc == -EPERM)
		ctl_err("cannot %s snapshot of EIR '%s': '%s' is held (see 'enrpctl hold list %s'); "
		        "a hold is never cut short", what, eir, name, eir);
	else
		ctl_err("cannot %s snapshot of EIR '%s': %s", what, eir, enrp_strerror(rc));
	if (rc == -ENOENT)
		ctl_hint("'enrpctl snapshot list %s' shows its snapshots", eir);
	return CTL_FAIL;
}

static int snap_create(struct ctl *ctl, int argc, char **argv)
{
	const char *args[2] = { NULL, NULL };
	int rc = verb_args(ctl, argc, argv, &create_help, true, args, 1, 2);
	if (rc != CTL_CONTINUE)
		return rc;
	if (!enrp_eir_name_valid(args[0]))
		return ctl_usage_error(ctl, &create_help, "'%s' is not a valid EIR name", args[0]);
	if (args[1] && !enrp_snapshot_name_valid(args[1]))
		return ctl_usage_error(ctl, &create_help, "'%s' is not a valid snapshot name "
		                       "(1-63 of A-Z a-z 0-9 . _ : -, not 'latest')", args[1]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	struct enrp_snapshot s;
	rc = enrp_snapshot_create(ctl->store, args[0], args[1], &ctl->actor, &s);
	if (rc)
		return snapshot_error("create a", args[0], args[1], rc);
	if (ctl->json) {
		print_json_object(&s);
	} else {
		ctl_line(stdout, "created snapshot %s@%s: %" PRIu64 " verified files", s.eir, s.name,
		         s.files);
		if (s.not_included)
			ctl_warn("%" PRIu64 " files of '%s' were being written or sealed and are not in it",
			         s.not_included, s.eir);
	}
	return CTL_OK;
}

struct list_out {
	struct table *t;
	struct json *j;
};

static int list_one(const struct enrp_snapshot *s, void *arg)
{
	struct list_out *o = arg;
	if (o->j) {
		print_json(o->j, s);
		return 0;
	}
	char when[TIME_BUF], size[SIZE_BUF];
	time_iso(s->created, when);
	size_human(s->bytes, size);
	table_row(o->t);
	table_cell(o->t, "%s", s->eir);
	table_cell(o->t, "%s", s->name);
	table_cell(o->t, "%s", when);
	table_cell(o->t, "%" PRIu64, s->files);
	table_cell(o->t, "%s", size);
	table_cell(o->t, "%" PRIu64, s->not_included);
	return 0;
}

static int snap_list(struct ctl *ctl, int argc, char **argv)
{
	const char *args[1] = { NULL };
	int rc = verb_args(ctl, argc, argv, &list_help, true, args, 0, 1);
	if (rc != CTL_CONTINUE)
		return rc;
	if (args[0] && !enrp_eir_name_valid(args[0]))
		return ctl_usage_error(ctl, &list_help, "'%s' is not a valid EIR name", args[0]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	static const char *const headers[] = { "EIR", "NAME", "CREATED", "FILES", "BYTES",
		                               "LEFT OUT" };
	struct json j;
	struct list_out o = { 0 };
	if (ctl->json) {
		json_init(&j, stdout);
		json_array_begin(&j);
		o.j = &j;
	} else {
		o.t = table_new(6, headers);
		table_align_right(o.t, 3);
		table_align_right(o.t, 4);
		table_align_right(o.t, 5);
	}
	rc = enrp_snapshot_list(ctl->store, args[0], list_one, &o);
	if (ctl->json) {
		json_array_end(&j);
		json_finish(&j);
	} else {
		if (rc == 0)
			table_print(o.t, stdout);
		table_free(o.t);
	}
	if (rc)
		return ctl_eir_error("list the snapshots of", args[0] ? args[0] : "", rc);
	return CTL_OK;
}

static int snap_show_or_delete(struct ctl *ctl, int argc, char **argv)
{
	bool del = strcmp(argv[0], "delete") == 0;
	const struct ctl_help *help = del ? &delete_help : &show_help;
	const char *args[1] = { NULL };
	int rc = verb_args(ctl, argc, argv, help, !del, args, 1, 1);
	if (rc != CTL_CONTINUE)
		return rc;
	char eir[ENRP_EIR_NAME_MAX + 1];
	const char *name;
	if (!split_at(args[0], eir, sizeof(eir), &name))
		return ctl_usage_error(ctl, help, "'%s' is not EIR@NAME", args[0]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	struct enrp_snapshot s;
	if (del) {
		rc = enrp_snapshot_delete(ctl->store, eir, name, &ctl->actor);
		if (rc)
			return snapshot_error("delete a", eir, name, rc);
		ctl_line(stdout, "deleted snapshot %s@%s", eir, name);
		return CTL_OK;
	}
	rc = enrp_snapshot_get(ctl->store, eir, name, &s);
	if (rc)
		return snapshot_error("show a", eir, name, rc);
	if (ctl->json)
		print_json_object(&s);
	else
		print_text(&s);
	return CTL_OK;
}

static const struct ctl_verb snapshot_verbs[] = {
	{ "create", snap_create,         NEED_STORE_RW, "take a snapshot of an EIR now" },
	{ "list",   snap_list,           NEED_STORE_RO, "list snapshots" },
	{ "show",   snap_show_or_delete, NEED_STORE_RO, "show one snapshot" },
	{ "delete", snap_show_or_delete, NEED_STORE_RW, "delete a snapshot" },
};

int cmd_snapshot(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "snapshot", &snapshot_help, snapshot_verbs,
	                    sizeof(snapshot_verbs) / sizeof(snapshot_verbs[0]), argc, argv);
}
