/*
 * cmd_hold.c — `enrpctl hold add|extend|list`: long-term holds on verified
 * files (core/hold.c).  A held file cannot be removed, truncated,
 * overwritten or renamed over by anyone until its hold expires; a hold is
 * extended, never shortened.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/hold.h>
#include <enrp/units.h>

#include "ctl.h"

static const struct ctl_help hold_help = {
	"enrpctl [-S STORE] hold add|extend|list ...",
	N_("Holds verified files for long-term storage or an investigation: until the\n"
	"hold expires nobody (root included, in any mode) can remove, truncate,\n"
	"overwrite or rename over them (EPERM).  Holds are extended, never\n"
	"shortened or released early.\n"
	"\n"
	"Verbs:\n"
	"  add EIR/PATH|EIR@SNAP --until TIME --reason TEXT   hold a verified file\n"
	"                                              or a snapshot\n"
	"  extend EIR/PATH|EIR@SNAP --until TIME [--reason TEXT]  move its end later\n"
	"  list [EIR] [--json]                         show holds, expired ones too\n"),
};

static const struct ctl_help add_help = {
	"enrpctl [-S STORE] hold add|extend EIR/PATH|EIR@SNAPSHOT --until TIME --reason TEXT",
	N_("Holds the verified regular file PATH of EIR until TIME (2031-01-01,\n"
	"2031-01-01T12:00:00Z, or +3650d from now), or extends its hold.  PATH is\n"
	"relative to the EIR's directory; symlinks are not followed.  A hold is\n"
	"never shortened: an earlier TIME than the current hold's is refused.\n"
	"A file that is not verified yet cannot be held (wait until it is).\n"
	"EIR@SNAPSHOT holds a snapshot: it cannot be deleted before the hold ends.\n"
	"\n"
	"Options:\n"
	"  --until TIME       when the hold ends (required; in the future)\n"
	"  --reason TEXT      why (required for add: long-term storage, order 12)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help list_help = {
	"enrpctl [-S STORE] hold list [EIR] [--json]",
	N_("Lists the holds of EIR (or of all EIRs), expired ones too: EIR, path as\n"
	"given when held, until, state (held/expired; 'unlinked' when the file no\n"
	"longer has a name, which a hold prevents unless it had expired), who, why.\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON array\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* "EIR/PATH" into EIR (a valid name) and PATH (non-empty). */
static bool split_target(const char *target, char *eir, size_t eirsz, const char **path)
{
	const char *slash = strchr(target, '/');
	if (!slash || slash == target || (size_t)(slash - target) >= eirsz || !slash[1])
		return false;
	memcpy(eir, target, (size_t)(slash - target));
	eir[slash - target] = '\0';
	*path = slash + 1;
	return enrp_eir_name_valid(eir);
}

static int hold_add_or_extend(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "until", required_argument, NULL, 'u' },
		{ "reason", required_argument, NULL, 'r' },
		CTL_OPTS_COMMON,
	};
	bool extend = strcmp(argv[0], "extend") == 0;
	const char *until_s = NULL, *reason = NULL;
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'u') {
			until_s = optarg;
			continue;
		}
		if (c == 'r') {
			reason = optarg;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &add_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, &add_help, "missing EIR/PATH");
	const char *target = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, &add_help, "too many arguments");
	char eir[ENRP_EIR_NAME_MAX + 1];
	const char *path = NULL;
	/* EIR@SNAPSHOT holds a snapshot; EIR/PATH a file. */
	const char *at = strchr(target, '@'), *slash = strchr(target, '/');
	bool snap = at && (!slash || at < slash);
	char sep = snap ? '@' : '/';
	if (snap ? !ctl_split_snapshot(target, eir, sizeof(eir), &path) :
	           !split_target(target, eir, sizeof(eir), &path))
		return ctl_usage_error(ctl, &add_help, "'%s' is not EIR/PATH or EIR@SNAPSHOT", target);
	if (!until_s)
		return ctl_usage_error(ctl, &add_help, "--until TIME is required");
	int64_t now = enrp_now_ns(), until;
	if (enrp_time_parse(until_s, now, &until))
		return ctl_usage_error(ctl, &add_help, "--until '%s' is not a time (2031-01-01, "
		                       "2031-01-01T12:00:00Z, +3650d)", until_s);
	if (until <= now)
		return ctl_usage_error(ctl, &add_help, "--until '%s' is not in the future", until_s);
	if (!reason && !extend)
		return ctl_usage_error(ctl, &add_help, "--reason TEXT is required");
	if (reason && (!*reason || strlen(reason) > ENRP_HOLD_REASON_MAX))
		return ctl_usage_error(ctl, &add_help, "--reason must be 1 to %d bytes",
		                       ENRP_HOLD_REASON_MAX);
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	int64_t current = 0;
	rc = snap ? enrp_hold_add_snapshot(ctl->store, eir, path, until, reason, extend, &ctl->actor,
	                                   &current)
	          : enrp_hold_add(ctl->store, eir, path, until, reason, extend, &ctl->actor, &current);
	char when[TIME_BUF];
	switch (rc) {
	case 0:
		time_iso(until, when);
		ctl_line(stdout, "%s%c%s held until %s", eir, sep, path, when);
		return CTL_OK;
	case -EPERM:
		if (current) {
			time_iso(current, when);
			ctl_err("cannot shorten the hold of %s%c%s: it runs until %s", eir, sep, path, when);
			ctl_hint("holds are only ever extended; give --until %s or later", when);
		} else {
			ctl_err("cannot hold %s%c%s: not a regular file", eir, sep, path);
		}
		return CTL_FAIL;
	case -EAGAIN:
		ctl_err("cannot hold %s%c%s: it is not verified yet (or is corrupt)", eir, sep, path);
		ctl_hint("wait until its enrp.state is 'verified', then hold it");
		return CTL_FAIL;
	case -EISDIR:
		ctl_err("cannot hold %s%c%s: it is a directory; hold its files", eir, sep, path);
		return CTL_FAIL;
	case -ENOENT:
		if (extend) {
			ctl_err("no hold on %s%c%s to extend (or no such EIR or file)", eir, sep, path);
			ctl_hint("'enrpctl hold list %s' shows its holds; 'hold add' makes one", eir);
		} else {
			ctl_err("no %s %s%c%s (or no EIR named '%s')", snap ? "snapshot" : "file", eir,
			        sep, path, eir);
			ctl_hint("'enrpctl eir list' shows the EIRs; PATH is relative to the EIR");
		}
		return CTL_FAIL;
	case -EINVAL:
		ctl_err("cannot hold %s%c%s: the path has an empty, '.' or '..' part", eir, sep, path);
		return CTL_FAIL;
	case -ENOTDIR:
		ctl_err("cannot hold %s%c%s: a part of the path is not a directory", eir, sep, path);
		return CTL_FAIL;
	default:
		ctl_err("cannot hold %s%c%s: %s", eir, sep, path, enrp_strerror(rc));
		return CTL_FAIL;
	}
}

struct list_out {
	struct table *t;
	struct json *j;
	int64_t now;
};

static const char *hold_state(const struct enrp_hold *h, int64_t now)
{
	if (h->until <= now)
		return h->linked ? "expired" : "expired, unlinked";
	return h->linked ? "held" : "held, unlinked";
}

static int list_one(const struct enrp_hold *h, void *arg)
{
	struct list_out *o = arg;
	char until[TIME_BUF], created[TIME_BUF];
	time_iso(h->until, until);
	time_iso(h->created, created);
	if (o->j) {
		json_object_begin(o->j);
		json_kv_str(o->j, "eir", h->eir);
		json_kv_str(o->j, "path", h->path);
		json_kv_u64(o->j, "ino", h->ino);
		json_kv_str(o->j, "until", until);
		json_kv_str(o->j, "created", created);
		json_kv_str(o->j, "by", h->by);
		json_kv_str(o->j, "reason", h->reason);
		json_kv_bool(o->j, "active", h->until > o->now);
		json_kv_bool(o->j, "linked", h->linked);
		json_object_end(o->j);
	} else {
		table_row(o->t);
		table_cell(o->t, "%s", h->eir);
		table_cell(o->t, "%s", h->path);
		table_cell(o->t, "%s", until);
		table_cell(o->t, "%s", hold_state(h, o->now));
		table_cell(o->t, "%s", h->reason);
	}
	return 0;
}

static int hold_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	const char *eir = NULL;
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, &list_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		eir = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, &list_help, "too many arguments");
	if (eir && !enrp_eir_name_valid(eir))
		return ctl_usage_error(ctl, &list_help, "'%s' is not a valid EIR name", eir);
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	static const char *const headers[] = { "EIR", "PATH", "UNTIL", "STATE", "REASON" };
	struct listing l;
	listing_begin(&l, ctl->json, 5, headers);
	struct list_out o = { .t = l.t, .j = l.json, .now = enrp_now_ns() };
	rc = enrp_hold_list(ctl->store, eir, list_one, &o);
	listing_end(&l, rc == 0);
	if (rc)
		return ctl_eir_error("list the holds of", eir ? eir : "", rc);
	return CTL_OK;
}

static const struct ctl_verb hold_verbs[] = {
	{ "add",    hold_add_or_extend, NEED_STORE_RW, N_("hold a verified file until a date") },
	{ "extend", hold_add_or_extend, NEED_STORE_RW, N_("move the end of a hold later") },
	{ "list",   hold_list,          NEED_STORE_RO, N_("show holds") },
};

int cmd_hold(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "hold", &hold_help, hold_verbs,
	                    sizeof(hold_verbs) / sizeof(hold_verbs[0]), argc, argv);
}
