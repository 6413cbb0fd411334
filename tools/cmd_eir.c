/*
 * cmd_eir.c — `enrpctl eir VERB`: the EIR registry.
 *
 *   create NAME --owner USER[:GROUP] [--class N] [--mode M] [--quota SIZE]
 *               [--agent USER] [--rpo MINUTES] [--dir-mode OCTAL] [--retention SPEC]
 *   list [-o COLUMNS] [--json]      show NAME [--json]
 *   set NAME [--mode M] [--owner U[:G]] [--class N] [--quota SIZE]
 *            [--agent USER|none] [--rpo MINUTES] [--dir-mode OCTAL] [--retention SPEC]
 *            [--force]
 *   escalate NAME --for DURATION --reason TEXT [--shorten]     deescalate NAME
 *   suspend NAME --reason TEXT   resume NAME
 *   retire NAME --reason TEXT [--yes | --dry-run]
 *   destroy NAME --reason TEXT [--shred] [--yes | --dry-run] (cmd_eir_destroy.c)
 *
 * What cannot be undone or breaks owners' writes at once needs a deliberate
 * word: retire asks for the EIR's name on a terminal (--yes for scripts), a
 * limit below the usage needs --force, a shorter escalation --shorten.  Core
 * refuses the last two itself; the question is enrpctl's alone.
 *
 * Arguments are checked completely before the store is opened, so a typo is
 * a usage error (exit 2) that touches nothing.  Core checks every value
 * again inside the transaction that applies it; the checks here exist to say
 * precisely what was wrong.  The pre-reads of the current record (for set,
 * escalate, resume...) only choose the wording of an error: the decision is
 * core's, in its own transaction.
 *
 * After every successful change the running enrpfs, if any, is told through
 * the control socket and has applied the change when enrpctl returns
 * (DESIGN §2); the journal record is written by core in the change's own
 * transaction.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <enrp/approval.h>
#include <enrp/eir.h>
#include <enrp/text.h>
#include <enrp/enrp.h>
#include <enrp/hold.h>
#include <enrp/policy.h>
#include <enrp/units.h>
#include <enrp/transfer.h>

#include "ctl.h"

/* A year: longer is a typo, not a recovery-point objective. */
#define RPO_MAX_MINUTES 525600u

/* --- help ---------------------------------------------------------------- */

static const struct ctl_help eir_help = {
	"enrpctl [-S STORE] eir VERB [OPTIONS] [NAME]",
	N_("Creates, lists, shows and changes the EIRs (electronic information\n"
	"resources) of the store.  Each EIR is one directory at the root of the\n"
	"mount, with an access mode, a state, an owner, a class and a quota.\n"
	"Every change is journalled and applied by a running enrpfs before\n"
	"enrpctl returns.\n"),
};

static const struct ctl_help create_help = {
	"enrpctl eir create NAME --owner USER[:GROUP] [--class 1|2|3]\n"
	"           [--mode rw|wo|ro|active] [--quota SIZE] [--max-files N]\n"
	"           [--agent USER] [--rpo MINUTES] [--dir-mode OCTAL]\n"
	"           [--retention SPEC] [FORM OPTIONS]",
	N_("Creates the EIR NAME and its directory at the root of the mount.  NAME is\n"
	"1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or\n"
	"digit.\n"
	"\n"
	"Options:\n"
	"  --owner USER[:GROUP]  owner of the EIR directory, by name or number;\n"
	"                        the group defaults to USER's primary group (required)\n"
	"  --class 1|2|3         resource class; 1 has priority (default 3)\n"
	"  --mode MODE           access mode: rw, wo, ro or active (default rw)\n"
	"  --quota SIZE          limit on what the EIR holds (bytes of live files,\n"
	"                        space reserved with fallocate, xattrs), e.g. 50G;\n"
	"                        'none' for no limit (default none)\n"
	"  --max-files N         limit on its files, directories and links of\n"
	"                        every kind; 'none' for no limit (default none)\n"
	"  --agent USER          replication agent of an active EIR (required with\n"
	"                        --mode active)\n"
	"  --rpo MINUTES         an active EIR is snapshotted at least this often\n"
	"                        (default 60)\n"
	"  --dir-mode OCTAL      permission bits of the EIR directory (default 0700,\n"
	"                        at most 0755)\n"
	"  --retention SPEC      retention policy, e.g. \"files=90,keep-daily=7,\n"
	"                        keep-weekly=4,keep-monthly=12,keep-yearly=3\" (see\n"
	"                        enrpctl(8); default none: nothing is pruned)\n"
	"\n"
	"Registration form (each '' clears it; enrpctl(8) describes them):\n"
	"  --full-name TEXT      full name of the EIR\n"
	"  --os TEXT             operating system and version\n"
	"  --dbms TEXT           DBMS or software and version\n"
	"  --db-size-gb N        database size, GB (e.g. 120 or 12.5)\n"
	"  --dump-size-gb N      dump size, GB\n"
	"  --growth-gb N         planned growth per year, GB\n"
	"  --cpus TEXT           the server's CPUs\n"
	"  --cpu-load-pct N      CPU load in per cent, 0 to 100\n"
	"  --ram-gb N            RAM, GB\n"
	"  --backup-tools TEXT   backup tools\n"
	"  --organisation TEXT   the owner organisation\n"
	"  --responsible TEXT    the responsible person\n"
	"  --phone TEXT          their phone\n"
	"  --schedule RULES      e.g. \"daily 23:00 incremental; monthly first-fri\n"
	"                        23:00 full\" (DAY mon..sun; quarterly, yearly, weekly);\n"
	"                        daily, monthly, quarterly or yearly alone: the rules'\n"
	"                        default (23:00 full; first Friday; first Saturday)\n"
	"  --backup-type TYPE    full, incremental or differential\n"
	"  --method METHOD       clone, snapshot or copy\n"
	"  --backup-mode MODE    hot or cold\n"
	"\n"
	"  -S, --store STORE     the store\n"
	"  -h, --help            show this help\n"),
};

static const struct ctl_help list_help = {
	"enrpctl eir list [-o COLUMNS] [--json]",
	N_("Lists every EIR, one row each, in the columns 'enrpctl status' shows\n"
	"(the same view; see 'enrpctl status --help' for what each column means).\n"
	"\n"
	"Options:\n"
	"  -o, --output COLUMNS  the columns to show, comma-separated, e.g.\n"
	"                        -o name,mode,files,verified,pending,corrupt\n"
	"  --json                print a JSON array of objects, as 'eir show --json'\n"
	"                        (every field, raw numbers)\n"
	"  -S, --store STORE     the store\n"
	"  -h, --help            show this help\n"),
};

static const struct ctl_help show_help = {
	"enrpctl eir show NAME [--json]",
	N_("Shows every setting of the EIR NAME, its escalation, the reason for its\n"
	"state, its usage and its registration form, as 'key: value' lines ('-'\n"
	"for a field of the form not filled in).\n"
	"\n"
	"Options:\n"
	"  --json             print one JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help set_help = {
	"enrpctl eir set NAME [--mode MODE] [--owner USER[:GROUP]] [--class 1|2|3]\n"
	"           [--quota SIZE] [--max-files N] [--agent USER|none]\n"
	"           [--rpo MINUTES] [--dir-mode OCTAL] [--retention SPEC] [--lock DAYS]\n"
	"           [--window DURATION|next] [--force] [FORM OPTIONS]",
	N_("Changes settings of the EIR NAME (at least one option).  A mode change is\n"
	"in force for every operation on the mount once enrpctl returns.\n"
	"\n"
	"Options:\n"
	"  --mode MODE           access mode: rw, wo, ro or active\n"
	"  --owner USER[:GROUP]  owner of the EIR directory; the group defaults to\n"
	"                        USER's primary group\n"
	"  --class 1|2|3         resource class; 1 has priority\n"
	"  --quota SIZE          limit on what the EIR holds (bytes of live files,\n"
	"                        space reserved with fallocate, xattrs); 'none'\n"
	"                        for no limit\n"
	"  --max-files N         limit on its inodes; 'none' for no limit\n"
	"  --agent USER|none     replication agent of an active EIR\n"
	"  --rpo MINUTES         snapshot interval of an active EIR\n"
	"  --dir-mode OCTAL      permission bits of the EIR directory (at most 0755)\n"
	"  --retention SPEC      retention policy: files=DAYS and keep-last,\n"
	"                        keep-hourly, keep-daily, keep-weekly, keep-monthly,\n"
	"                        keep-yearly=N, comma-separated; \"\" removes it\n"
	"  --lock DAYS           hold every file for DAYS after its seal (write-once:\n"
	"                        nobody removes, truncates or overwrites it); can\n"
	"                        only be lengthened\n"
	"  --window DURATION     how long after each slot of the schedule a transfer\n"
	"                        counts for it (whole minutes: 90m, 6h, 1d); 'next'\n"
	"                        (the default): until the next slot\n"
	"  --force               set --quota or --max-files even below what the EIR\n"
	"                        holds now (refused otherwise: every write would fail)\n"
	"\n"
	"Registration form (each '' clears it; enrpctl(8) describes them):\n"
	"  --full-name TEXT      full name of the EIR\n"
	"  --os TEXT             operating system and version\n"
	"  --dbms TEXT           DBMS or software and version\n"
	"  --db-size-gb N        database size, GB (e.g. 120 or 12.5)\n"
	"  --dump-size-gb N      dump size, GB\n"
	"  --growth-gb N         planned growth per year, GB\n"
	"  --cpus TEXT           the server's CPUs\n"
	"  --cpu-load-pct N      CPU load in per cent, 0 to 100\n"
	"  --ram-gb N            RAM, GB\n"
	"  --backup-tools TEXT   backup tools\n"
	"  --organisation TEXT   the owner organisation\n"
	"  --responsible TEXT    the responsible person\n"
	"  --phone TEXT          their phone\n"
	"  --schedule RULES      e.g. \"daily 23:00 incremental; monthly first-fri\n"
	"                        23:00 full\" (DAY mon..sun; quarterly, yearly, weekly);\n"
	"                        daily, monthly, quarterly or yearly alone: the rules'\n"
	"                        default (23:00 full; first Friday; first Saturday)\n"
	"  --backup-type TYPE    full, incremental or differential\n"
	"  --method METHOD       clone, snapshot or copy\n"
	"  --backup-mode MODE    hot or cold\n"
	"\n"
	"  -S, --store STORE     the store\n"
	"  -h, --help            show this help\n"),
};

static const struct ctl_help escalate_help = {
	"enrpctl eir escalate NAME --for DURATION --reason TEXT [--shorten]",
	N_("Grants the users of the active EIR NAME read-write access for DURATION\n"
	"(e.g. 30m, 2h, 1d, 1h30m), or until 'eir deescalate'.  While an escalation\n"
	"runs, a new one replaces it (its end and reason) if it ends later; one that\n"
	"would end it earlier is refused unless --shorten.\n"
	"\n"
	"Options:\n"
	"  --for DURATION     how long the escalation lasts, from now (required)\n"
	"  --reason TEXT      why, for the journal (required, at most 255 bytes)\n"
	"  --shorten          let it end earlier than the escalation in force\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help deescalate_help = {
	"enrpctl eir deescalate NAME",
	N_("Ends the escalation of the EIR NAME now.\n"
	"\n"
	"Options:\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help suspend_help = {
	"enrpctl eir suspend NAME --reason TEXT",
	N_("Stops accepting copies for the EIR NAME: writes fail with EROFS, reads\n"
	"follow the mode, until 'eir resume'.\n"
	"\n"
	"Options:\n"
	"  --reason TEXT      why, for the journal and 'eir show' (required, at\n"
	"                     most 255 bytes)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help resume_help = {
	"enrpctl eir resume NAME",
	N_("Accepts copies for the suspended EIR NAME again.\n"
	"\n"
	"Options:\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help retire_help = {
	"enrpctl eir retire NAME --reason TEXT [--yes | --dry-run]",
	N_("Retires the EIR NAME (removed from the critical list): writes fail with\n"
	"EROFS for ever, and its data is kept until its retention expires.  This\n"
	"cannot be undone, so enrpctl first says what it will do and asks for the\n"
	"EIR's name on the terminal (/dev/tty, else standard input if it is one;\n"
	"piped input never answers).  Without a terminal it is refused (exit 2)\n"
	"unless --yes is given.\n"
	"\n"
	"Options:\n"
	"  --reason TEXT      why, for the journal and 'eir show' (required, at\n"
	"                     most 255 bytes)\n"
	"  --yes              retire without asking (scripts)\n"
	"  --dry-run          say what retiring would do, and change nothing\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* --- argument parsing ---------------------------------------------------- */

/* Decimal digits only (no sign, no spaces), at most MAX. */
static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int check_name(const char *name)
{
	if (enrp_eir_name_valid(name))
		return CTL_OK;
	if (strlen(name) > ENRP_EIR_NAME_MAX)
		ctl_err("invalid EIR name '%.*s...': longer than %d characters", 32, name,
		        ENRP_EIR_NAME_MAX);
	else
		ctl_err("invalid EIR name '%s'", name);
	ctl_hint("a name is 1-%d characters of a-z, 0-9, '.', '_' and '-', starting with "
	         "a letter or digit", ENRP_EIR_NAME_MAX);
	return CTL_USAGE;
}

/* USER by name, else by number (< ENRP_NO_UID).  *GID and *HAVE_GID give
 * the primary group when USER has an account. */
static int parse_user(const char *s, uint32_t *uid, uint32_t *gid, bool *have_gid)
{
	const struct passwd *pw = *s ? getpwnam(s) : NULL;
	*have_gid = false;
	if (pw) {
		*uid = (uint32_t)pw->pw_uid;
	} else if (parse_u32(s, ENRP_NO_UID - 1, uid)) {
		pw = getpwuid((uid_t)*uid);
	} else {
		ctl_err("no user named '%s'", s);
		ctl_hint("give an existing user name or a numeric uid");
		return CTL_USAGE;
	}
	if (pw) {
		*gid = (uint32_t)pw->pw_gid;
		*have_gid = true;
	}
	return CTL_OK;
}

static int parse_group(const char *s, uint32_t *gid)
{
	const struct group *gr = *s ? getgrnam(s) : NULL;
	if (gr) {
		*gid = (uint32_t)gr->gr_gid;
		return CTL_OK;
	}
	if (parse_u32(s, UINT32_MAX - 1, gid))
		return CTL_OK;
	ctl_err("no group named '%s'", s);
	ctl_hint("give an existing group name or a numeric gid");
	return CTL_USAGE;
}

/* USER[:GROUP]. */
static int parse_owner(const char *s, uint32_t *uid, uint32_t *gid)
{
	char *user = ctl_xstrdup(s);
	char *group = strchr(user, ':');
	bool have_gid;
	int rc;

	if (group)
		*group++ = '\0';
	if (!*user || (group && !*group)) {
		ctl_err("invalid owner '%s'", s);
		ctl_hint("give USER or USER:GROUP, by name or number");
		rc = CTL_USAGE;
		goto out;
	}
	rc = parse_user(user, uid, gid, &have_gid);
	if (rc != CTL_OK)
		goto out;
	if (group) {
		rc = parse_group(group, gid);
	} else if (!have_gid) {
		ctl_err("user %s has no account, so no primary group", user);
		ctl_hint("give the group too: --owner %s:GROUP", user);
		rc = CTL_USAGE;
	}
out:
	free(user);
	return rc;
}

static int parse_class(const char *s, uint8_t *out)
{
	if (!strcmp(s, "1") || !strcmp(s, "2") || !strcmp(s, "3")) {
		*out = (uint8_t)(s[0] - '0');
		return CTL_OK;
	}
	ctl_err("invalid class '%s'", s);
	ctl_hint("the class is 1, 2 or 3 (class 1 has priority)");
	return CTL_USAGE;
}

static int parse_mode(const char *s, enum enrp_mode *out)
{
	if (enrp_mode_parse(s, out) == 0)
		return CTL_OK;
	ctl_err("invalid mode '%s'", s);
	ctl_hint("the mode is one of rw, wo, ro, active");
	return CTL_USAGE;
}

static int parse_quota(const char *s, uint64_t *out)
{
	int rc = enrp_size_parse(s, out);
	if (rc == 0)
		return CTL_OK;
	if (rc == -ERANGE)
		ctl_err("size '%s' is too large", s);
	else
		ctl_err("invalid size '%s'", s);
	ctl_hint("give bytes with an optional K, M, G, T or P suffix (e.g. 50G), "
	         "or 'none' for no limit");
	return CTL_USAGE;
}

static int parse_max_files(const char *s, uint64_t *out)
{
	if (!strcmp(s, "none")) {
		*out = 0;
		return CTL_OK;
	}
	size_t len = strlen(s);
	if (len > 0 && len <= 18 && strspn(s, "0123456789") == len) {
		*out = strtoull(s, NULL, 10);
		if (*out > 0)
			return CTL_OK;
	}
	ctl_err("invalid file limit '%s'", s);
	ctl_hint("give a whole number of files, at least 1 (e.g. 1000000), or 'none'");
	return CTL_USAGE;
}

static int parse_agent(const char *s, bool allow_none, uint32_t *out)
{
	uint32_t gid;
	bool have_gid;
	if (allow_none && !strcmp(s, "none")) {
		*out = ENRP_NO_UID;
		return CTL_OK;
	}
	return parse_user(s, out, &gid, &have_gid);
}

static int parse_rpo(const char *s, uint32_t *out)
{
	if (parse_u32(s, RPO_MAX_MINUTES, out) && *out > 0)
		return CTL_OK;
	ctl_err("invalid rpo '%s'", s);
	ctl_hint("give whole minutes, 1 to %u (e.g. 60)", RPO_MAX_MINUTES);
	return CTL_USAGE;
}

static int parse_retention(const char *s, struct enrp_retention *out)
{
	char why[ENRP_RETENTION_ERR_MAX];
	if (enrp_retention_parse(s, out, why, sizeof(why)) == 0)
		return CTL_OK;
	ctl_err("invalid retention policy '%s': %s", s, why);
	ctl_hint("give KEY=N items separated by commas, e.g. "
	         "\"files=90,keep-daily=7,keep-weekly=4\"; \"\" for none (enrpctl(8))");
	return CTL_USAGE;
}

/* The policy as shown: its canonical text, or "none".  BUF of
 * ENRP_RETENTION_SPEC_MAX bytes. */
static const char *retention_text(const struct enrp_retention *p, char *buf)
{
	enrp_retention_format(p, buf, ENRP_RETENTION_SPEC_MAX);
	return buf[0] ? buf : "none";
}

static int parse_dir_mode(const char *s, uint32_t *out)
{
	size_t len = strlen(s);
	if (len > 0 && len <= 5 && strspn(s, "01234567") == len) {
		unsigned long v = strtoul(s, NULL, 8);
		if ((v & ~(unsigned long)ENRP_DIR_MODE_ALLOWED) == 0) {
			*out = (uint32_t)v;
			return CTL_OK;
		}
		if (v <= 07777) {
			ctl_err("directory mode '%s' would let others than the registry decides "
			        "into the EIR", s);
			ctl_hint("group and other may read and search (at most 0755), never write; "
			         "no setuid, setgid or sticky bit; the owner and the agent are let "
			         "in by the registry");
			return CTL_USAGE;
		}
	}
	ctl_err("invalid directory mode '%s'", s);
	ctl_hint("give octal permission bits, e.g. 0700 or 0750");
	return CTL_USAGE;
}

static int check_reason(const char *what, const char *s)
{
	size_t len = strlen(s);
	if (len == 0) {
		ctl_err("the %s is empty", what);
		ctl_hint("say why, for the journal: --reason TEXT");
		return CTL_USAGE;
	}
	if (len > ENRP_REASON_MAX) {
		ctl_err("the %s is too long (%zu bytes; at most %d)", what, len, ENRP_REASON_MAX);
		ctl_hint("shorten it; the details can go into your ticket system");
		return CTL_USAGE;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			ctl_err("the %s contains a control character", what);
			ctl_hint("give it as one line of text");
			return CTL_USAGE;
		}
	}
	if (!utf8_valid(s)) {
		ctl_err("the %s is not valid UTF-8", what);
		ctl_hint("give it as UTF-8 text (check the terminal's and LANG's encoding)");
		return CTL_USAGE;
	}
	for (const char *p = s; *p;) {
		unsigned cp;
		p += enrp_utf8_decode(p, &cp);
		if (cp >= 0x80 && cp <= 0x9f) {
			ctl_err("the %s contains a control character (U+%04X)", what, cp);
			ctl_hint("give it as one line of text");
			return CTL_USAGE;
		}
	}
	return CTL_OK;
}

/* The setting options shared by create and set, as given. */
struct eir_opts {
	const char *owner, *class_, *mode, *quota, *agent, *rpo, *dir_mode, *max_files;
	const char *retention; /* not a field of the EIR record: a setting of its own */
	const char *lock;      /* likewise (set only) */
	const char *window;    /* likewise (set only) */
	int64_t window_s;      /* --window parsed (seconds; 0: until the next slot) */
};

#define EIR_SETTING_OPTIONS \
	{ "owner",    required_argument, NULL, 'o' }, \
	{ "class",    required_argument, NULL, 'c' }, \
	{ "mode",     required_argument, NULL, 'm' }, \
	{ "quota",    required_argument, NULL, 'q' }, \
	{ "agent",    required_argument, NULL, 'a' }, \
	{ "rpo",      required_argument, NULL, 'r' }, \
	{ "dir-mode", required_argument, NULL, 'd' }, \
	{ "max-files", required_argument, NULL, 'F' }, \
	{ "retention", required_argument, NULL, 'T' }, \
	{ "lock",     required_argument, NULL, 'L' }, \
	{ "window",   required_argument, NULL, 'W' }

/* Stores a setting option; false if C is not one. */
static bool eir_opts_take(struct eir_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'o': o->owner = arg; return true;
	case 'c': o->class_ = arg; return true;
	case 'm': o->mode = arg; return true;
	case 'q': o->quota = arg; return true;
	case 'a': o->agent = arg; return true;
	case 'r': o->rpo = arg; return true;
	case 'd': o->dir_mode = arg; return true;
	case 'F': o->max_files = arg; return true;
	case 'T': o->retention = arg; return true;
	case 'L': o->lock = arg; return true;
	case 'W': o->window = arg; return true;
	default: return false;
	}
}

/* Parses the options given in O into E and sets the ENRP_EIR_SET_* flags of
 * the fields given. */
static int eir_opts_apply(const struct eir_opts *o, bool allow_none_agent, struct enrp_eir *e,
                          unsigned *flags)
{
	int rc = CTL_OK;
	*flags = 0;
	if (o->mode && (rc = parse_mode(o->mode, &e->mode)) == CTL_OK)
		*flags |= ENRP_EIR_SET_MODE;
	if (rc == CTL_OK && o->owner &&
	    (rc = parse_owner(o->owner, &e->owner_uid, &e->owner_gid)) == CTL_OK)
		*flags |= ENRP_EIR_SET_OWNER;
	if (rc == CTL_OK && o->class_ && (rc = parse_class(o->class_, &e->eir_class)) == CTL_OK)
		*flags |= ENRP_EIR_SET_CLASS;
	if (rc == CTL_OK && o->quota && (rc = parse_quota(o->quota, &e->quota)) == CTL_OK)
		*flags |= ENRP_EIR_SET_QUOTA;
	if (rc == CTL_OK && o->agent &&
	    (rc = parse_agent(o->agent, allow_none_agent, &e->agent_uid)) == CTL_OK)
		*flags |= ENRP_EIR_SET_AGENT;
	if (rc == CTL_OK && o->rpo && (rc = parse_rpo(o->rpo, &e->rpo_minutes)) == CTL_OK)
		*flags |= ENRP_EIR_SET_RPO;
	if (rc == CTL_OK && o->dir_mode &&
	    (rc = parse_dir_mode(o->dir_mode, &e->dir_mode)) == CTL_OK)
		*flags |= ENRP_EIR_SET_DIR_MODE;
	if (rc == CTL_OK && o->max_files &&
	    (rc = parse_max_files(o->max_files, &e->max_files)) == CTL_OK)
		*flags |= ENRP_EIR_SET_MAX_FILES;
	return rc;
}

/* The single NAME operand, checked. */
static int name_operand(struct ctl *ctl, const struct ctl_help *help, int argc, char **argv,
                        const char **name)
{
	if (optind >= argc)
		return ctl_usage_error(ctl, help, "no EIR name given");
	if (optind + 1 < argc)
		return ctl_usage_error(ctl, help, "too many arguments");
	*name = argv[optind];
	return check_name(*name);
}

/* Parses the arguments of a verb that takes only the common options (plus
 * --json if JSON) and, if NAME is not NULL, one EIR name.  Returns
 * CTL_CONTINUE to go on, or the exit status (CTL_OK after --help). */
static int simple_verb_args(struct ctl *ctl, const struct ctl_help *help, bool json, int argc,
                            char **argv, const char **name)
{
	static const struct option opts[] = { CTL_OPTS_COMMON };
	static const struct option json_opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", json ? json_opts : opts, NULL)) != -1) {
		rc = ctl_common_option(ctl, c, optarg, help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (name) {
		rc = name_operand(ctl, help, argc, argv, name);
		return rc == CTL_OK ? CTL_CONTINUE : rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, help, "too many arguments");
	return CTL_CONTINUE;
}

/* Reads the EIR NAME, reporting failure.  Refuses a destroyed one. */
static int get_live(struct ctl *ctl, const char *name, struct enrp_eir *eir)
{
	int rc = enrp_eir_get(ctl->store, name, eir);
	if (rc < 0)
		return ctl_eir_error("read", name, rc);
	if (eir->state == ENRP_STATE_DESTROYED) {
		ctl_err("EIR '%s' is destroyed", name);
		ctl_hint("a destroyed EIR cannot be changed; 'enrpctl audit show --eir %s' "
		         "shows its history", name);
		return CTL_FAIL;
	}
	return CTL_OK;
}

static bool escalated_now(const struct enrp_eir *e, int64_t now)
{
	return e->escalated_until != 0 && e->escalated_until > now;
}

/* --- create -------------------------------------------------------------- */

static int create_apply(struct ctl *ctl, const char *name, const struct enrp_eir *specp,
                        const struct enrp_retention *retp, const struct enrp_eir_form *form,
                        uint32_t form_given);

static int eir_create(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { EIR_SETTING_OPTIONS, EIR_FORM_OPTIONS,
	                                      CTL_OPTS_COMMON };
	struct eir_opts o = { 0 };
	struct form_opts fo = { 0 };
	struct enrp_eir spec;
	const char *name;
	unsigned flags;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (eir_opts_take(&o, c, optarg) || form_opts_take(&fo, c, optarg))
			continue;
		rc = ctl_common_option(ctl, c, optarg, &create_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	rc = name_operand(ctl, &create_help, argc, argv, &name);
	if (rc != CTL_OK)
		return rc;
	if (!o.owner)
		return ctl_usage_error(ctl, &create_help, "an EIR needs an owner: --owner USER");

	enrp_eir_defaults(&spec, name);
	rc = eir_opts_apply(&o, false, &spec, &flags);
	if (rc != CTL_OK)
		return rc;
	struct enrp_retention retention = { 0 };
	if (o.retention && (rc = parse_retention(o.retention, &retention)) != CTL_OK)
		return rc;
	if (spec.mode == ENRP_MODE_ACTIVE && spec.agent_uid == ENRP_NO_UID) {
		ctl_err("an active EIR needs a replication agent");
		ctl_hint("name its account with --agent USER");
		return CTL_USAGE;
	}
	if (o.lock)
		return ctl_usage_error(ctl, &create_help, "--lock is set with 'eir set NAME --lock "
		                       "DAYS' once the EIR exists");
	if (o.window)
		return ctl_usage_error(ctl, &create_help, "--window is set with 'eir set NAME "
		                       "--window DURATION' once the EIR exists");
	struct enrp_eir_form *form = ctl_xmalloc(sizeof(*form));
	uint32_t form_given = 0;
	rc = form_opts_apply(&fo, form, &form_given);
	if (rc == CTL_OK)
		rc = create_apply(ctl, name, &spec, &retention, form, form_given);
	free(form);
	return rc;
}

/* The store's part of eir create. */
static int create_apply(struct ctl *ctl, const char *name, const struct enrp_eir *specp,
                        const struct enrp_retention *retp, const struct enrp_eir_form *form,
                        uint32_t form_given)
{
	struct enrp_eir spec = *specp, out;
	struct enrp_retention retention = *retp;
	int rc;

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	rc = enrp_eir_create(ctl->store, &spec, &ctl->actor, &out);
	if (rc == -EEXIST) {
		ctl_err("EIR '%s' already exists", name);
		ctl_hint("choose another name; 'enrpctl eir show %s' shows the existing one "
		         "(the name of a destroyed EIR is never reused)", name);
		return CTL_FAIL;
	}
	if (rc < 0)
		return ctl_eir_error("create", name, rc);
	ctl_line(stdout, "created EIR '%s'", name);
	/* A second transaction: the EIR exists without its policy for a moment,
	 * which keeps everything, never less. */
	if (enrp_retention_has_keep(&retention) || retention.files_days) {
		char buf[ENRP_RETENTION_SPEC_MAX];
		rc = enrp_retention_set(ctl->store, name, &retention, &ctl->actor);
		if (rc < 0) {
			ctl_err("cannot set the retention policy of EIR '%s': %s", name,
			        enrp_strerror(rc));
			ctl_hint("the EIR was created; set it with 'enrpctl eir set %s --retention "
			         "SPEC'", name);
			return CTL_FAIL;
		}
		ctl_line(stdout, "  retention: %s", retention_text(&retention, buf));
	}
	/* Likewise: an EIR with its form still empty is an EIR all the same. */
	if (form_given && (rc = enrp_form_set(ctl->store, name, form, form_given,
	                                      &ctl->actor)) < 0) {
		ctl_err("cannot set the form of EIR '%s': %s", name, enrp_strerror(rc));
		ctl_hint("the EIR was created; fill the form in with 'enrpctl eir set %s "
		         "--full-name ...'", name);
		return CTL_FAIL;
	}
	return ctl_notify_eir(ctl, name, out.id);
}

/* --- list and show ------------------------------------------------------- */


static int eir_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, CTL_OPT_JSON, CTL_OPTS_COMMON
	};
	struct eir_columns columns;
	struct eir_row *rows;
	size_t n;
	int c, rc;

	eir_columns_default(&columns);
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "ho:S:", opts, NULL)) != -1) {
		if (c == 'o') {
			if ((rc = eir_columns_parse(optarg, &columns)) != CTL_CONTINUE)
				return rc;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &list_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &list_help, "too many arguments");
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	rc = eir_collect(ctl, ctl->json || columns.need_disk, &rows, &n);
	if (rc < 0) {
		ctl_err("cannot list the EIRs of '%s': %s", ctl->store_path, enrp_strerror(rc));
		ctl_hint("see the messages above, if any");
		return CTL_FAIL;
	}

	int64_t now = enrp_now_ns();
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++)
			eir_json(&j, &rows[i], now);
		json_array_end(&j);
		json_finish(&j);
	} else {
		eir_table_print(&columns, rows, n, now, stdout);
	}
	free(rows);
	return CTL_OK;
}

/* "name (id)" when the id has a name, else "id". */
static void print_account(const char *key, char *name, uint32_t id)
{
	if (name)
		ctl_line(stdout, "%s: %s (%" PRIu32 ")", key, name, id);
	else
		ctl_line(stdout, "%s: %" PRIu32, key, id);
	free(name);
}

static void print_time(const char *key, int64_t ns, const char *suffix)
{
	char buf[TIME_BUF];
	time_iso(ns, buf);
	ctl_line(stdout, "%s: %s%s", key, buf, suffix);
}

static void show_text(const struct eir_row *row, int64_t now)
{
	const struct enrp_eir *e = &row->eir;
	char buf[SIZE_BUF];

	ctl_line(stdout, "name: %s", e->name);
	ctl_line(stdout, "id: %" PRIu32, e->id);
	ctl_line(stdout, "mode: %s", enrp_mode_name(e->mode));
	ctl_line(stdout, "state: %s", enrp_state_name(e->state));
	ctl_line(stdout, "state-reason: %s", e->state_reason[0] ? e->state_reason : "-");
	if (row->have_destruction)
		destroy_record_text(stdout, &row->destruction);
	ctl_line(stdout, "class: %u", (unsigned)e->eir_class);
	print_account("owner", user_name(e->owner_uid), e->owner_uid);
	print_account("group", group_name(e->owner_gid), e->owner_gid);
	ctl_line(stdout, "dir-mode: %04" PRIo32, e->dir_mode);
	quota_human(e->quota, buf);
	ctl_line(stdout, "quota: %s", buf);
	if (e->max_files)
		ctl_line(stdout, "max-files: %" PRIu64, e->max_files);
	else
		ctl_line(stdout, "max-files: none");
	if (row->have_usage) {
		size_human(row->usage.bytes, buf);
		ctl_line(stdout, "used: %s", buf);
	} else {
		ctl_line(stdout, "used: -");
	}
	if (row->have_files)
		ctl_line(stdout, "files: %" PRIu64, row->files);
	else
		ctl_line(stdout, "files: -");
	if (row->have_usage)
		ctl_line(stdout, "inodes: %" PRIu64, row->usage.inodes);
	else
		ctl_line(stdout, "inodes: -");
	if (e->agent_uid == ENRP_NO_UID)
		ctl_line(stdout, "agent: none");
	else
		print_account("agent", user_name(e->agent_uid), e->agent_uid);
	ctl_line(stdout, "rpo: %" PRIu32 " minutes", e->rpo_minutes);
	char policy[ENRP_RETENTION_SPEC_MAX];
	ctl_line(stdout, "retention: %s",
	         row->have_retention ? retention_text(&row->retention, policy) : "-");
	if (!row->have_lock)
		ctl_line(stdout, "lock: -");
	else if (row->lock_days)
		ctl_line(stdout, "lock: %" PRIu32 " day%s", row->lock_days,
		         row->lock_days == 1 ? "" : "s");
	else
		ctl_line(stdout, "lock: none");
	char window[ENRP_TRANSFER_WINDOW_TEXT];
	enrp_transfer_window_format(row->window, window, sizeof(window));
	ctl_line(stdout, "window: %s", row->have_window ? window : "-");
	if (e->escalated_until == 0)
		ctl_line(stdout, "escalated-until: none");
	else
		print_time("escalated-until", e->escalated_until,
		           escalated_now(e, now) ? "" : " (expired)");
	ctl_line(stdout, "escalation-reason: %s",
	       e->escalation_reason[0] ? e->escalation_reason : "-");
	print_time("created", e->created, "");
	form_show_text(row);
}

static int eir_show(struct ctl *ctl, int argc, char **argv)
{
	struct eir_row row = { 0 };
	const char *name;
	int rc = simple_verb_args(ctl, &show_help, true, argc, argv, &name);
	if (rc != CTL_CONTINUE)
		return rc;
	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	rc = enrp_eir_get(ctl->store, name, &row.eir);
	if (rc < 0)
		return ctl_eir_error("read", name, rc);
	eir_row_read(ctl, &row, ctl->json);

	int64_t now = enrp_now_ns();
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		eir_json(&j, &row, now);
		json_finish(&j);
	} else {
		show_text(&row, now);
	}
	return CTL_OK;
}

/* --- set ----------------------------------------------------------------- */

/* Field FLAG of E for the "old -> new" lines of set.  Caller frees. */
static char *describe(const struct enrp_eir *e, unsigned flag)
{
	char buf[SIZE_BUF];
	char *a, *b;

	switch (flag) {
	case ENRP_EIR_SET_MODE:
		return ctl_xstrdup(enrp_mode_name(e->mode));
	case ENRP_EIR_SET_OWNER:
		a = user_label(e->owner_uid);
		b = group_label(e->owner_gid);
		char *both = ctl_xmalloc(strlen(a) + strlen(b) + 2);
		sprintf(both, "%s:%s", a, b);
		free(a);
		free(b);
		return both;
	case ENRP_EIR_SET_CLASS:
		snprintf(buf, sizeof(buf), "%u", (unsigned)e->eir_class);
		return ctl_xstrdup(buf);
	case ENRP_EIR_SET_QUOTA:
		quota_human(e->quota, buf);
		return ctl_xstrdup(buf);
	case ENRP_EIR_SET_AGENT:
		return e->agent_uid == ENRP_NO_UID ? ctl_xstrdup("none") : user_label(e->agent_uid);
	case ENRP_EIR_SET_RPO:
		snprintf(buf, sizeof(buf), "%" PRIu32, e->rpo_minutes);
		return ctl_xstrdup(buf);
	case ENRP_EIR_SET_DIR_MODE:
		snprintf(buf, sizeof(buf), "%04" PRIo32, e->dir_mode);
		return ctl_xstrdup(buf);
	case ENRP_EIR_SET_MAX_FILES:
		if (!e->max_files)
			return ctl_xstrdup("none");
		snprintf(buf, sizeof(buf), "%" PRIu64, e->max_files);
		return ctl_xstrdup(buf);
	}
	return ctl_xstrdup("?");
}

static bool differs(const struct enrp_eir *a, const struct enrp_eir *b, unsigned flag)
{
	switch (flag) {
	case ENRP_EIR_SET_MODE:     return a->mode != b->mode;
	case ENRP_EIR_SET_OWNER:    return a->owner_uid != b->owner_uid ||
	                                   a->owner_gid != b->owner_gid;
	case ENRP_EIR_SET_CLASS:    return a->eir_class != b->eir_class;
	case ENRP_EIR_SET_QUOTA:    return a->quota != b->quota;
	case ENRP_EIR_SET_AGENT:    return a->agent_uid != b->agent_uid;
	case ENRP_EIR_SET_RPO:      return a->rpo_minutes != b->rpo_minutes;
	case ENRP_EIR_SET_DIR_MODE: return a->dir_mode != b->dir_mode;
	case ENRP_EIR_SET_MAX_FILES: return a->max_files != b->max_files;
	}
	return false;
}

static const struct {
	unsigned flag;
	const char *key;
} set_fields[] = {
	{ ENRP_EIR_SET_MODE, "mode" },
	{ ENRP_EIR_SET_OWNER, "owner" },
	{ ENRP_EIR_SET_CLASS, "class" },
	{ ENRP_EIR_SET_QUOTA, "quota" },
	{ ENRP_EIR_SET_AGENT, "agent" },
	{ ENRP_EIR_SET_RPO, "rpo" },
	{ ENRP_EIR_SET_DIR_MODE, "dir-mode" },
	{ ENRP_EIR_SET_MAX_FILES, "max-files" },
};

#define NSET_FIELDS (sizeof(set_fields) / sizeof(set_fields[0]))

/* "2.2M", or "5 bytes" below a kibibyte (a bare "5" reads as a count). */
static void size_words(uint64_t bytes, char buf[SIZE_BUF])
{
	if (bytes < 1024)
		snprintf(buf, SIZE_BUF, "%" PRIu64 " byte%s", bytes, bytes == 1 ? "" : "s");
	else
		size_human(bytes, buf);
}

/* Refuses (CTL_FAIL, saying by how much) a change of NEXT's quota or file
 * limit (CHANGED) below what the EIR holds (U), and returns CTL_OK
 * otherwise.  Core refuses the same in its own transaction (-EDQUOT); this
 * reading only words it. */
static int check_below_usage(const char *name, const struct enrp_eir *next, unsigned changed,
                             const struct enrp_eir_usage *u)
{
	char limit[SIZE_BUF], used[SIZE_BUF], over[SIZE_BUF];
	int rc = CTL_OK;

	if ((changed & ENRP_EIR_SET_QUOTA) && next->quota && next->quota < u->bytes) {
		quota_human(next->quota, limit);
		size_words(u->bytes, used);
		size_words(u->bytes - next->quota, over);
		ctl_err("refusing to set the quota of EIR '%s' to %s: it holds %s already, %s more "
		        "than that", name, limit, used, over);
		rc = CTL_FAIL;
	}
	if ((changed & ENRP_EIR_SET_MAX_FILES) && next->max_files && next->max_files < u->inodes) {
		ctl_err("refusing to set the file limit of EIR '%s' to %" PRIu64 ": it holds %" PRIu64
		        " inodes (files, directories, links) already, %" PRIu64 " more than that",
		        name, next->max_files, u->inodes, u->inodes - next->max_files);
		rc = CTL_FAIL;
	}
	if (rc != CTL_OK)
		ctl_hint("every write to it would fail with EDQUOT until its owner deletes the "
		         "difference; add --force to set it anyway (nothing was changed)");
	return rc;
}

static int eir_set_apply(struct ctl *ctl, const char *name, const struct eir_opts *op,
                         unsigned given, const struct enrp_retention *retp, long lock_days,
                         bool force, const struct enrp_eir_form *form, uint32_t form_given,
                         struct enrp_eir_form **cur_form, uint32_t *form_changed);

static int eir_set(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		EIR_SETTING_OPTIONS,
		EIR_FORM_OPTIONS,
		{ "force", no_argument, NULL, 'f' },
		CTL_OPTS_COMMON,
	};
	struct eir_opts o = { 0 };
	struct form_opts fo = { 0 };
	struct enrp_eir want;
	const char *name;
	unsigned given;
	bool force = false;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (eir_opts_take(&o, c, optarg) || form_opts_take(&fo, c, optarg))
			continue;
		if (c == 'f') {
			force = true;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &set_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	rc = name_operand(ctl, &set_help, argc, argv, &name);
	if (rc != CTL_OK)
		return rc;
	/* Parse into a scratch record first: all syntax errors before the store. */
	enrp_eir_defaults(&want, name);
	rc = eir_opts_apply(&o, true, &want, &given);
	if (rc != CTL_OK)
		return rc;
	struct enrp_retention retention = { 0 };
	if (o.retention && (rc = parse_retention(o.retention, &retention)) != CTL_OK)
		return rc;
	long lock_days = -1;
	if (o.lock) {
		char *end;
		errno = 0;
		lock_days = strtol(o.lock, &end, 10);
		if (errno || end == o.lock || *end || lock_days < 0 || lock_days > 36500)
			return ctl_usage_error(ctl, &set_help, "--lock '%s' is not a number of days "
			                       "(0 to 36500)", o.lock);
	}
	if (o.window && enrp_transfer_window_parse(o.window, &o.window_s))
		return ctl_usage_error(ctl, &set_help, "--window '%s' is not a window: whole "
		                       "minutes up to 366d (e.g. 90m, 6h, 1d), or 'next'", o.window);
	struct enrp_eir_form *form = ctl_xmalloc(sizeof(*form)), *cur_form = NULL;
	uint32_t form_given = 0, form_changed = 0;
	rc = form_opts_apply(&fo, form, &form_given);
	if (rc != CTL_OK)
		goto out_form;
	if (!given && !o.retention && !o.lock && !o.window && !form_given) {
		rc = ctl_usage_error(ctl, &set_help, "nothing to change");
		goto out_form;
	}
	rc = eir_set_apply(ctl, name, &o, given, &retention, lock_days, force, form, form_given,
	                   &cur_form, &form_changed);
out_form:
	free(form);
	free(cur_form);
	return rc;
}

/* The second half of eir set: the store's part.  *CUR_FORM is allocated
 * here (the caller frees it). */
static int eir_set_apply(struct ctl *ctl, const char *name, const struct eir_opts *op,
                         unsigned given, const struct enrp_retention *retp, long lock_days,
                         bool force, const struct enrp_eir_form *form, uint32_t form_given,
                         struct enrp_eir_form **cur_form, uint32_t *form_changed)
{
	const struct eir_opts o = *op;
	const struct enrp_retention retention = *retp;
	struct enrp_retention cur_retention;
	struct enrp_eir cur;
	unsigned changed = 0;
	int rc;

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	rc = get_live(ctl, name, &cur);
	if (rc != CTL_OK)
		return rc;
	/* Even a change to the same values: nothing is "unchanged" about a
	 * record that no longer changes. */
	if (cur.state == ENRP_STATE_RETIRED)
		return ctl_eir_error("change", name, -EROFS);
	struct enrp_eir next = cur;
	rc = eir_opts_apply(&o, true, &next, &given); /* same values, onto the record */
	if (rc != CTL_OK)
		return rc;
	for (size_t i = 0; i < NSET_FIELDS; i++)
		if ((given & set_fields[i].flag) && differs(&cur, &next, set_fields[i].flag))
			changed |= set_fields[i].flag;
	bool retention_changed = false;
	if (o.retention) {
		rc = enrp_retention_get(ctl->store, name, &cur_retention);
		if (rc < 0)
			return ctl_eir_error("read", name, rc);
		retention_changed = memcmp(&cur_retention, &retention, sizeof(retention)) != 0;
	}
	uint32_t cur_lock = 0;
	if (o.lock && (rc = enrp_hold_lock_get(ctl->store, name, &cur_lock)) < 0)
		return ctl_eir_error("read", name, rc);
	bool lock_changed = o.lock && (uint32_t)lock_days != cur_lock;
	struct enrp_transfer_plan plan;
	if (o.window && (rc = enrp_transfer_plan_get(ctl->store, name, &plan)) < 0)
		return ctl_eir_error("read", name, rc);
	bool window_changed = o.window && plan.window != o.window_s;
	*cur_form = ctl_xmalloc(sizeof(**cur_form));
	if (form_given && (rc = enrp_form_get(ctl->store, name, *cur_form)) < 0)
		return ctl_eir_error("read", name, rc);
	for (unsigned f = 0; f < ENRP_FORM_FIELDS; f++)
		if ((form_given & (1u << f)) && strcmp((*cur_form)->value[f], form->value[f]))
			*form_changed |= 1u << f;
	if (lock_changed && (uint32_t)lock_days < cur_lock) {
		ctl_err("cannot shorten the lock of EIR '%s' from %" PRIu32 " to %ld days: a lock is "
		        "only ever lengthened", name, cur_lock, lock_days);
		return CTL_FAIL;
	}
	if (!changed && !retention_changed && !lock_changed && !window_changed && !*form_changed) {
		ctl_line(stdout, "EIR '%s' unchanged", name);
		return CTL_OK;
	}
	if (next.mode == ENRP_MODE_ACTIVE && next.agent_uid == ENRP_NO_UID) {
		ctl_err("an active EIR needs a replication agent");
		ctl_hint("name its account with --agent USER");
		return CTL_FAIL;
	}

	/* Four eyes: what can make data expire early, and opening a class 1
	 * EIR to rewriting, need a second administrator (issue 11 item 7). */
	char sensitive[ENRP_RETENTION_SPEC_MAX + 32] = "", reason[ENRP_RETENTION_SPEC_MAX + 96];
	if (retention_changed && enrp_retention_shortens(&cur_retention, &retention)) {
		char spec[ENRP_RETENTION_SPEC_MAX];
		snprintf(sensitive, sizeof(sensitive), "retention=%s", retention_text(&retention, spec));
		snprintf(reason, sizeof(reason), "shorten the retention of %s to %s", name, spec);
	}
	/* A class 1 EIR in rw, however it is reached: by its mode, or by its
	 * class (rw class 3 made class 1 is the same as class 1 made rw). */
	bool was_open = cur.eir_class == 1 && cur.mode == ENRP_MODE_RW;
	bool opens = next.eir_class == 1 && next.mode == ENRP_MODE_RW;
	if ((changed & (ENRP_EIR_SET_MODE | ENRP_EIR_SET_CLASS)) && opens && !was_open) {
		size_t l = strlen(sensitive);
		snprintf(sensitive + l, sizeof(sensitive) - l, "%smode=rw", l ? " " : "");
		snprintf(reason, sizeof(reason), "%s", l ? "shorten the retention and switch a class 1 "
		         "EIR to rw" : "switch a class 1 EIR to rw");
	}
	if (sensitive[0]) {
		char what[ENRP_RETENTION_SPEC_MAX + 128];
		snprintf(what, sizeof(what), "eir set %s (%s)", name, sensitive);
		if ((rc = ctl_approval_ready(ctl, "eir-set", name, sensitive, reason, what)) !=
		    CTL_CONTINUE)
			return rc;
		struct enrp_request used;
		rc = enrp_request_consume(ctl->store, "eir-set", name, sensitive, enrp_now_ns(),
		                          &ctl->actor, &used);
		if (rc)
			return ctl_eir_error("use the approval to change", name, rc);
		ctl_line(stdout, "using request %" PRIu64 ", approved by %s", used.id,
		         used.decider_name);
	}

	if (!force && (changed & (ENRP_EIR_SET_QUOTA | ENRP_EIR_SET_MAX_FILES))) {
		struct enrp_eir_usage u;
		rc = enrp_eir_usage(ctl->store, cur.id, &u);
		if (rc < 0 && rc != -ENOENT)
			return ctl_eir_error("read the usage of", name, rc);
		if (rc == 0 && (rc = check_below_usage(name, &next, changed, &u)) != CTL_OK)
			return rc;
	}

	if (changed) {
		rc = enrp_eir_set(ctl->store, name, &next,
		                  changed | (force ? ENRP_EIR_SET_BELOW_USAGE : 0), &ctl->actor);
		if (rc == -EDQUOT) { /* the EIR grew since it was read */
			ctl_err("refusing to set a limit of EIR '%s' below what it holds now", name);
			ctl_hint("'enrpctl eir show %s' shows its usage; add --force to set it anyway "
			         "(nothing was changed)", name);
			return CTL_FAIL;
		}
		if (rc < 0)
			return ctl_eir_error("change", name, rc);
	}
	/* After the record: a failure here leaves the old policy whole. */
	if (retention_changed) {
		rc = enrp_retention_set(ctl->store, name, &retention, &ctl->actor);
		if (rc < 0)
			return ctl_eir_error("change the retention policy of", name, rc);
	}
	if (lock_changed && (rc = enrp_hold_lock_set(ctl->store, name, (uint32_t)lock_days,
	                                             &ctl->actor)) < 0)
		return ctl_eir_error("change the lock of", name, rc);
	if (*form_changed &&
	    (rc = enrp_form_set(ctl->store, name, form, *form_changed, &ctl->actor)) < 0)
		return ctl_eir_error("change the form of", name, rc);
	if (window_changed &&
	    (rc = enrp_transfer_window_set(ctl->store, name, o.window_s, &ctl->actor)) < 0 &&
	    rc != -EALREADY)
		return ctl_eir_error("change the schedule window of", name, rc);
	ctl_line(stdout, "updated EIR '%s'", name);
	if (lock_changed)
		ctl_line(stdout, "  lock: %" PRIu32 " -> %ld days", cur_lock, lock_days);
	if (window_changed) {
		char before[ENRP_TRANSFER_WINDOW_TEXT], after[ENRP_TRANSFER_WINDOW_TEXT];
		enrp_transfer_window_format(plan.window, before, sizeof(before));
		enrp_transfer_window_format(o.window_s, after, sizeof(after));
		ctl_line(stdout, "  window: %s -> %s", before, after);
	}
	for (size_t i = 0; i < NSET_FIELDS; i++) {
		if (!(changed & set_fields[i].flag))
			continue;
		char *before = describe(&cur, set_fields[i].flag);
		char *after = describe(&next, set_fields[i].flag);
		ctl_line(stdout, "  %s: %s -> %s", set_fields[i].key, before, after);
		free(before);
		free(after);
	}
	if (retention_changed) {
		char before[ENRP_RETENTION_SPEC_MAX], after[ENRP_RETENTION_SPEC_MAX];
		ctl_line(stdout, "  retention: %s -> %s", retention_text(&cur_retention, before),
		         retention_text(&retention, after));
	}
	for (unsigned f = 0; f < ENRP_FORM_FIELDS; f++)
		if (*form_changed & (1u << f))
			ctl_line(stdout, "  %s: %s -> %s", form_option_name(f),
			         (*cur_form)->value[f][0] ? (*cur_form)->value[f] : "-",
			         form->value[f][0] ? form->value[f] : "-");
	return ctl_notify_eir(ctl, name, cur.id);
}

/* --- escalation and state ------------------------------------------------ */

/* The switches of the state verbs: which a verb takes, and which were given. */
struct state_flags {
	bool takes_shorten; /* escalate */
	bool takes_confirm; /* retire: --yes and --dry-run */
	bool shorten, yes, dry_run;
};

/* Parses NAME and the --for/--reason options a verb takes (FOR_OUT or
 * REASON_OUT NULL: not taken) and the switches FLAGS says it takes (FLAGS
 * NULL: none).  Returns CTL_CONTINUE or the exit status. */
static int state_verb_args(struct ctl *ctl, const struct ctl_help *help, int argc, char **argv,
                           const char **name, const char **for_out, const char **reason_out,
                           struct state_flags *flags)
{
	static const struct option opts[] = {
		{ "for",     required_argument, NULL, 'f' },
		{ "reason",  required_argument, NULL, 'R' },
		{ "shorten", no_argument,       NULL, 's' },
		{ "yes",     no_argument,       NULL, 'y' },
		{ "dry-run", no_argument,       NULL, 'n' },
		CTL_OPTS_COMMON,
	};
	const char *dur = NULL, *reason = NULL;
	struct state_flags none = { 0 };
	int c, rc;

	if (!flags)
		flags = &none;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'f' && for_out) {
			dur = optarg;
			continue;
		}
		if (c == 'R' && reason_out) {
			reason = optarg;
			continue;
		}
		bool *sw = c == 's' && flags->takes_shorten ? &flags->shorten
		         : c == 'y' && flags->takes_confirm ? &flags->yes
		         : c == 'n' && flags->takes_confirm ? &flags->dry_run : NULL;
		if (sw) {
			*sw = true;
			continue;
		}
		const char *other = c == 'f' ? "for" : c == 'R' ? "reason" : c == 's' ? "shorten"
		                  : c == 'y' ? "yes" : c == 'n' ? "dry-run" : NULL;
		if (other) /* an option of another verb */
			return ctl_usage_error(ctl, help, "'%s' takes no --%s", ctl->command, other);
		rc = ctl_common_option(ctl, c, optarg, help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	rc = name_operand(ctl, help, argc, argv, name);
	if (rc != CTL_OK)
		return rc;
	if (for_out) {
		if (!dur)
			return ctl_usage_error(ctl, help, "how long? give --for DURATION");
		*for_out = dur;
	}
	if (reason_out) {
		if (!reason)
			return ctl_usage_error(ctl, help, "why? give --reason TEXT");
		rc = check_reason("reason", reason);
		if (rc != CTL_OK)
			return rc;
		*reason_out = reason;
	}
	return CTL_CONTINUE;
}

/* Opens the store and reads NAME's EIR for VERB, which must not be deleted,
 * nor retired unless VERB is retire (which says "already retired" itself):
 * CTL_CONTINUE or the exit status. */
static int state_verb_open(struct ctl *ctl, const char *verb, const char *name,
                           struct enrp_eir *eir)
{
	int rc = ctl_open_store(ctl);
	if (rc == CTL_OK)
		rc = get_live(ctl, name, eir);
	if (rc == CTL_OK && eir->state == ENRP_STATE_RETIRED && strcmp(verb, "retire"))
		return ctl_eir_error(verb, name, -EROFS);
	return rc == CTL_OK ? CTL_CONTINUE : rc;
}

/* The end every state verb shares: RC of the library call for VERB, then
 * the DONE line and the daemon told. */
static int state_verb_done(struct ctl *ctl, const struct enrp_eir *eir, const char *verb,
                           const char *done, int rc)
{
	if (rc < 0)
		return ctl_eir_error(verb, eir->name, rc);
	ctl_line(stdout, "%s EIR '%s'", _(done), eir->name);
	return ctl_notify_eir(ctl, eir->name, eir->id);
}

static int eir_escalate(struct ctl *ctl, int argc, char **argv)
{
	const char *name, *dur, *reason;
	struct enrp_eir eir;
	struct state_flags flags = { .takes_shorten = true };
	int64_t ns;
	int rc = state_verb_args(ctl, &escalate_help, argc, argv, &name, &dur, &reason,
	                         &flags);
	if (rc != CTL_CONTINUE)
		return rc;
	rc = enrp_duration_parse(dur, &ns);
	if (rc < 0 || ns <= 0) {
		if (rc == -ERANGE)
			ctl_err("duration '%s' is too long", dur);
		else
			ctl_err("invalid duration '%s'", dur);
		ctl_hint("give a duration such as 90s, 30m, 2h, 7d, 1w or 1h30m");
		return CTL_USAGE;
	}
	int64_t now = enrp_now_ns();
	if (ns > INT64_MAX - now) {
		ctl_err("duration '%s' is too long", dur);
		ctl_hint("give a duration such as 2h or 7d");
		return CTL_USAGE;
	}
	int64_t until = now + ns;

	rc = state_verb_open(ctl, "escalate", name, &eir);
	if (rc != CTL_CONTINUE)
		return rc;
	if (eir.mode != ENRP_MODE_ACTIVE) {
		ctl_err("cannot escalate EIR '%s': its mode is %s, not active", name,
		        enrp_mode_name(eir.mode));
		ctl_hint("only the users of an active EIR are escalated; change the mode with "
		         "'enrpctl eir set %s --mode MODE'", name);
		return CTL_FAIL;
	}
	char buf[TIME_BUF], cur[TIME_BUF];
	time_iso(until, buf);
	rc = enrp_eir_escalate(ctl->store, name, until, reason,
	                       flags.shorten ? ENRP_EIR_ESCALATE_SHORTEN : 0, &ctl->actor);
	if (rc == -EEXIST) {
		/* Read again: the escalation core compared against. */
		if (enrp_eir_get(ctl->store, name, &eir) == 0 && eir.escalated_until > 0) {
			time_iso(eir.escalated_until, cur);
			ctl_err("refusing to shorten the escalation of EIR '%s': it runs until %s, "
			        "and --for %s would end it at %s", name, cur, dur, buf);
		} else {
			ctl_err("refusing to shorten the escalation of EIR '%s'", name);
		}
		ctl_hint("add --shorten to end it earlier, or 'enrpctl eir deescalate %s' to end "
		         "it now (nothing was changed)", name);
		return CTL_FAIL;
	}
	if (rc < 0)
		return ctl_eir_error("escalate", name, rc);
	ctl_line(stdout, "escalated EIR '%s' until %s", name, buf);
	return ctl_notify_eir(ctl, name, eir.id);
}

static int eir_deescalate(struct ctl *ctl, int argc, char **argv)
{
	const char *name;
	struct enrp_eir eir;
	int rc = state_verb_args(ctl, &deescalate_help, argc, argv, &name, NULL, NULL, NULL);
	if (rc == CTL_CONTINUE)
		rc = state_verb_open(ctl, "deescalate", name, &eir);
	if (rc != CTL_CONTINUE)
		return rc;
	rc = enrp_eir_deescalate(ctl->store, name, &ctl->actor);
	if (rc == -EALREADY) {
		ctl_err("EIR '%s' is not escalated", name);
		ctl_hint("'enrpctl eir show %s' shows its escalation", name);
		return CTL_FAIL;
	}
	return state_verb_done(ctl, &eir, N_("deescalate"), N_("deescalated"), rc);
}

static int eir_suspend(struct ctl *ctl, int argc, char **argv)
{
	const char *name, *reason;
	struct enrp_eir eir;
	int rc = state_verb_args(ctl, &suspend_help, argc, argv, &name, NULL, &reason, NULL);
	if (rc == CTL_CONTINUE)
		rc = state_verb_open(ctl, "suspend", name, &eir);
	if (rc != CTL_CONTINUE)
		return rc;
	rc = enrp_eir_suspend(ctl->store, name, reason, &ctl->actor);
	if (rc == -EALREADY) {
		ctl_err("EIR '%s' is already suspended", name);
		ctl_hint("'enrpctl eir resume %s' ends the suspension", name);
		return CTL_FAIL;
	}
	return state_verb_done(ctl, &eir, N_("suspend"), N_("suspended"), rc);
}

static int eir_resume(struct ctl *ctl, int argc, char **argv)
{
	const char *name;
	struct enrp_eir eir;
	int rc = state_verb_args(ctl, &resume_help, argc, argv, &name, NULL, NULL, NULL);
	if (rc == CTL_CONTINUE)
		rc = state_verb_open(ctl, "resume", name, &eir);
	if (rc != CTL_CONTINUE)
		return rc;
	if (eir.state != ENRP_STATE_SUSPENDED) {
		ctl_err("EIR '%s' is not suspended (state: %s)", name, enrp_state_name(eir.state));
		ctl_hint("only a suspended EIR can be resumed");
		return CTL_FAIL;
	}
	rc = enrp_eir_resume(ctl->store, name, &ctl->actor);
	return state_verb_done(ctl, &eir, N_("resume"), N_("resumed"), rc);
}

/* What retiring E (with usage U, if HAVE_U) does, for --dry-run and the
 * question: the lines after the first. */
static void retire_effects(FILE *f, const struct enrp_eir *e, const struct enrp_eir_usage *u,
                           bool have_u, int64_t now)
{
	char size[SIZE_BUF], when[TIME_BUF];
	ctl_line(f, "  state: %s -> retired, for ever: no 'eir set', escalate, deescalate, "
	         "suspend or resume after it", enrp_state_name(e->state));
	ctl_line(f, "  writes: refused with EROFS; reads follow its mode (%s)",
	         enrp_mode_name(e->mode));
	if (have_u) {
		size_words(u->bytes, size);
		ctl_line(f, "  data: %" PRIu64 " inode%s (files, directories, links), %s, kept "
		         "until its retention expires", u->inodes, u->inodes == 1 ? "" : "s", size);
	}
	if (escalated_now(e, now)) {
		time_iso(e->escalated_until, when);
		ctl_line(f, "  escalation: ends now (it ran until %s)", when);
	}
}

static int eir_retire(struct ctl *ctl, int argc, char **argv)
{
	const char *name, *reason;
	struct enrp_eir eir;
	struct state_flags flags = { .takes_confirm = true };
	struct ctl_tty tty;
	int rc = state_verb_args(ctl, &retire_help, argc, argv, &name, NULL, &reason, &flags);
	if (rc != CTL_CONTINUE)
		return rc;
	/* Before the store: how it was called decides this, not what it holds. */
	bool ask = !flags.yes && !flags.dry_run;
	if (ask && !ctl_confirm_open(&tty)) {
		ctl_err("refusing to retire EIR '%s' without confirmation: there is no terminal "
		        "to ask on", name);
		ctl_hint("retirement is final; give --yes to retire it from a script, or --dry-run "
		         "to see what it would do (nothing was changed)");
		return CTL_USAGE;
	}
	rc = state_verb_open(ctl, "retire", name, &eir);
	if (rc == CTL_CONTINUE && eir.state == ENRP_STATE_RETIRED) {
		ctl_err("EIR '%s' is already retired", name);
		ctl_hint("retirement is final; 'enrpctl eir show %s' shows why", name);
		rc = CTL_FAIL;
	}
	if (rc != CTL_CONTINUE) {
		if (ask && tty.owned)
			close(tty.in);
		return rc;
	}
	struct enrp_eir_usage u;
	bool have_u = enrp_eir_usage(ctl->store, eir.id, &u) == 0;
	int64_t now = enrp_now_ns();
	if (flags.dry_run) {
		ctl_line(stdout, "would retire EIR '%s' (reason: %s)", name, reason);
		retire_effects(stdout, &eir, &u, have_u, now);
		ctl_line(stdout, "nothing was changed (--dry-run)");
		return CTL_OK;
	}
	if (ask) {
		/* The effects go where the question goes: the person answering. */
		FILE *f = tty.out == STDERR_FILENO ? stderr : fdopen(dup(tty.out), "w");
		if (f) {
			ctl_line(f, "Retiring EIR '%s' cannot be undone:", name);
			retire_effects(f, &eir, &u, have_u, now);
			if (f != stderr)
				fclose(f);
		}
		if (!ctl_confirm(&tty, name, "Type the EIR's name, %s, to retire it:", name)) {
			ctl_err("EIR '%s' not retired: the name typed does not match", name);
			ctl_hint("nothing was changed; give --yes to retire it without asking");
			return CTL_FAIL;
		}
	}
	rc = enrp_eir_retire(ctl->store, name, reason, &ctl->actor);
	if (rc == -EALREADY) {
		ctl_err("EIR '%s' is already retired", name);
		ctl_hint("retirement is final; 'enrpctl eir show %s' shows why", name);
		return CTL_FAIL;
	}
	return state_verb_done(ctl, &eir, "retire", "retired", rc);
}

/* --- the verb table ------------------------------------------------------ */

static const struct ctl_verb eir_verbs[] = {
	{ "create",     eir_create,     NEED_STORE_RW, N_("create an EIR and its directory") },
	{ "list",       eir_list,       NEED_STORE_RO, N_("list the EIRs") },
	{ "show",       eir_show,       NEED_STORE_RO, N_("show the settings, state and usage of an EIR") },
	{ "set",        eir_set,        NEED_STORE_RW, N_("change the settings of an EIR") },
	{ "escalate",   eir_escalate,   NEED_STORE_RW, N_("grant the users of an active EIR rw for a while") },
	{ "deescalate", eir_deescalate, NEED_STORE_RW, N_("end an escalation now") },
	{ "suspend",    eir_suspend,    NEED_STORE_RW, N_("stop accepting copies, with a reason") },
	{ "resume",     eir_resume,     NEED_STORE_RW, N_("accept copies again") },
	{ "retire",     eir_retire,     NEED_STORE_RW, N_("retire an EIR for ever, with a reason") },
	{ "destroy",    cmd_eir_destroy, NEED_STORE_RW, N_("destroy a retired EIR whose retention has expired") },
	{ "import",     cmd_eir_import, NEED_STORE_RW, N_("create EIRs from a registration form (CSV)") },
	{ "export",     cmd_eir_export, NEED_STORE_RO, N_("write EIRs and their forms as CSV") },
	{ "schedule",   cmd_eir_schedule, NEED_STORE_RO, N_("show the slots of an EIR's schedule and which were met") },
};

int cmd_eir(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "eir", &eir_help, eir_verbs,
	                    sizeof(eir_verbs) / sizeof(eir_verbs[0]), argc, argv);
}
