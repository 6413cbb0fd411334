/*
 * cmd_roles.c — `enrpctl roles`: the Unix groups of the three roles
 * (include/enrp/role.h), shown or set.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/role.h>

#include "ctl.h"

static const struct ctl_help roles_help = {
	"enrpctl [-S STORE] roles [--admin GROUP] [--operator GROUP] [--auditor GROUP] [--json]",
	N_("Shows (or sets) the Unix groups whose members hold the roles: administrators\n"
	"(EIRs, modes, retention, holds, keys, approvals), operators (snapshots,\n"
	"test-restore records) and auditors (the journal and reports).  Everyone in\n"
	"a role reads the status and the EIRs.  Root holds every role; other members\n"
	"run enrpctl as themselves, through the store's enrpfs (enrpctl(8), ROLES).\n"
	"\n"
	"Options:\n"
	"  --admin GROUP      the administrators' group (default enrp-admin)\n"
	"  --operator GROUP   the operators' group (default enrp-operator)\n"
	"  --auditor GROUP    the auditors' group (default enrp-auditor)\n"
	"  --json             print them as JSON\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

int cmd_roles(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_ADMIN = 1000, OPT_OPERATOR, OPT_AUDITOR };
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, OPT_ADMIN },
		{ "operator", required_argument, NULL, OPT_OPERATOR },
		{ "auditor", required_argument, NULL, OPT_AUDITOR },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	const char *want[3] = { NULL, NULL, NULL };
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:j", opts, NULL)) != -1) {
		if (c >= OPT_ADMIN && c <= OPT_AUDITOR)
			want[c - OPT_ADMIN] = optarg;
		else if ((rc = ctl_common_option(ctl, c, optarg, &roles_help)) != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &roles_help, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	struct enrp_role_groups g;
	if ((rc = enrp_roles_get(ctl->store, &g)) != 0) {
		ctl_err("cannot read the role groups of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	char *field[3] = { g.admin, g.operator_, g.auditor };
	if (want[0] || want[1] || want[2]) {
		for (int i = 0; i < 3; i++)
			if (want[i])
				snprintf(field[i], ENRP_ROLE_GROUP_MAX + 1, "%s", want[i]);
		for (int i = 0; i < 3; i++)
			if (want[i] && strcmp(field[i], want[i]))
				return ctl_usage_error(ctl, &roles_help, "'%s' is not a group name", want[i]);
		rc = enrp_roles_set(ctl->store, &g, &ctl->actor);
		if (rc == -EINVAL)
			return ctl_usage_error(ctl, &roles_help,
			                       "a group name is 1 to 32 of a-z, 0-9, '_', '.', '-' "
			                       "(not starting with '-')");
		if (rc == -EALREADY) {
			ctl_line(stdout, "roles unchanged");
			return CTL_OK;
		}
		if (rc) {
			ctl_err("cannot set the role groups: %s", enrp_strerror(rc));
			return CTL_FAIL;
		}
	}
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_str(&j, "admin", g.admin);
		json_kv_str(&j, "operator", g.operator_);
		json_kv_str(&j, "auditor", g.auditor);
		json_object_end(&j);
		json_finish(&j);
	} else {
		ctl_line(stdout, "admin: %s", g.admin);
		ctl_line(stdout, "operator: %s", g.operator_);
		ctl_line(stdout, "auditor: %s", g.auditor);
	}
	return CTL_OK;
}
