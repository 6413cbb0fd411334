/*
 * cmd_init.c — `enrpctl init`: create a new, empty store.
 *
 * The store path comes from the operand, else from -S/--store (global or
 * here), else from $ENRP_STORE.  An operand and a different -S is a usage
 * error rather than a guess.  With --encrypt the store's data is encrypted
 * under the master key in FILE (created, mode 0400, when it does not exist;
 * it must live outside the store); a store whose encryption could not be set
 * up is removed again, so init either succeeds whole or leaves nothing.
 * --mirror sets where the audit journal is mirrored from its first record
 * on (without it: the local syslog socket, /dev/log).
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/store.h>
#include <enrp/vault.h>

#include "ctl.h"

static const struct ctl_help init_help = {
	"enrpctl init [--encrypt --keyfile FILE] [--mirror TARGET] STORE",
	N_("Creates a new, empty store in the directory STORE (mode 0700).  STORE must\n"
	"not exist, or be an empty directory owned by root, and every directory\n"
	"above it must be root's alone: owned by root and writable by nobody else\n"
	"(a sticky directory like /tmp is fine).  Without the operand, the store\n"
	"named by -S or $ENRP_STORE is created.\n"
	"\n"
	"Options:\n"
	"  -S, --store STORE  the store to create (instead of the operand)\n"
	"      --encrypt      encrypt the store's data (AES-256-GCM, one key per EIR)\n"
	"      --keyfile FILE the master key file: created (mode 0400) if absent; keep\n"
	"                     it outside the store, and a copy of it somewhere safe\n"
	"      --mirror TARGET\n"
	"                     where every audit journal record is mirrored (syslog,\n"
	"                     RFC 5424): unix:/PATH (a datagram socket), udp:ADDR:PORT\n"
	"                     (numeric address; [IPv6]), or none; default unix:/dev/log.\n"
	"                     Later changes: 'enrpctl audit mirror --target'\n"
	"  -h, --help         show this help\n"),
};

static int remove_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

/* The same, sparing the top directory, which existed before init. */
static int remove_below(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return ftw->level == 0 ? 0 : remove_one(p, sb, flag, ftw);
}

/* Encrypts the new, empty store at PATH; on failure removes what init made
 * (the directory too, unless it was there before: KEEP_TOP). */
static int setup_encryption(const char *path, const char *keyfile, bool keep_top)
{
	enrp_store *st;
	int rc = enrp_store_open(path, 0, &st);
	if (rc == 0) {
		rc = enrp_vault_init(st, keyfile);
		enrp_store_close(st);
	}
	if (rc == 0)
		return 0;
	nftw(path, keep_top ? remove_below : remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	/* For these the library has already said exactly what is wrong. */
	switch (-rc) {
	case EPERM:
		ctl_hint("chmod 0400 '%s' (and keep it owned by root)", keyfile);
		break;
	case EINVAL:
		ctl_hint("give a 32-byte key file outside the store; enrpctl creates it if absent");
		break;
	default:
		ctl_err("cannot set up encryption with key file '%s': %s", keyfile,
		        enrp_strerror(rc));
		ctl_hint("check the key file's path and permissions");
	}
	return CTL_FAIL;
}

/* Sets the first mirror target of the new store at PATH; on failure
 * removes what init made, as setup_encryption() does. */
static int setup_mirror(const char *path, const char *target, bool keep_top)
{
	enrp_store *st;
	int rc = enrp_store_open(path, 0, &st);
	if (rc == 0) {
		rc = enrp_journal_mirror_init(st, target);
		enrp_store_close(st);
	}
	if (rc == 0)
		return 0;
	nftw(path, keep_top ? remove_below : remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	ctl_err("cannot set the journal mirror of '%s' to '%s': %s", path, target,
	        enrp_strerror(rc));
	ctl_hint("see the messages above, if any; nothing was created");
	return CTL_FAIL;
}

int cmd_init(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store",   required_argument, NULL, 'S' },
		{ "encrypt", no_argument,       NULL, 'E' },
		{ "keyfile", required_argument, NULL, 'K' },
		{ "mirror",  required_argument, NULL, 'M' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool encrypt = false;
	const char *keyfile = NULL;
	const char *mirror = NULL;
	const char *opt_store = NULL;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		switch (c) {
		case 'E':
			encrypt = true;
			break;
		case 'K':
			keyfile = optarg;
			break;
		case 'M':
			mirror = optarg;
			break;
		case 'S':
			opt_store = optarg;
			break;
		default:
			rc = ctl_common_option(ctl, c, optarg, &init_help);
			if (rc != CTL_CONTINUE)
				return rc;
		}
	}

	const char *path = NULL;
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, &init_help, "too many arguments");
	if (path && opt_store && strcmp(path, opt_store))
		return ctl_usage_error(ctl, &init_help, "two stores given: '%s' and '%s'",
		                       opt_store, path);
	if (!path)
		path = opt_store ? opt_store : ctl->store_path;
	if (!path || !*path)
		return ctl_usage_error(ctl, &init_help, "no store given");
	if (encrypt && !keyfile)
		return ctl_usage_error(ctl, &init_help, "--encrypt needs --keyfile FILE");
	if (keyfile && !encrypt)
		return ctl_usage_error(ctl, &init_help, "--keyfile needs --encrypt");
	if (mirror && enrp_journal_target_check(mirror))
		return ctl_usage_error(ctl, &init_help, "invalid mirror target '%s': give "
		                       "unix:/PATH, udp:ADDR:PORT, udp:[ADDR6]:PORT or none", mirror);
	struct stat before;
	bool existed = stat(path, &before) == 0;
	struct enrp_trust_problem prob;
	rc = enrp_store_create_checked(path, &prob);
	if (rc == 0 && encrypt) {
		rc = setup_encryption(path, keyfile, existed);
		if (rc)
			return rc;
	}
	if (rc == 0 && mirror) {
		rc = setup_mirror(path, mirror, existed);
		if (rc)
			return rc;
	}
	switch (-rc) {
	case 0:
		if (encrypt)
			ctl_line(stdout, "initialised encrypted store at %s", path);
		else
			ctl_line(stdout, "initialised store at %s", path);
		if (encrypt)
			ctl_line(stdout, "master key: %s (keep a copy apart from the store)", keyfile);
		return CTL_OK;
	case EPERM:
		ctl_store_not_roots("create", path, &prob);
		return CTL_FAIL;
	case EEXIST:
	case ENOTEMPTY:
		ctl_err("cannot create store '%s': the path exists and is not an empty directory",
		        path);
		ctl_hint("choose a new path, or use the store there with 'enrpctl -S %s status'",
		         path);
		return CTL_FAIL;
	case ENOENT:
		ctl_err("cannot create store '%s': the parent directory does not exist", path);
		ctl_hint("create the parent directory first (mkdir -p)");
		return CTL_FAIL;
	case EACCES:
		ctl_err("cannot create store '%s': permission denied", path);
		ctl_hint("run enrpctl as a user who may write the parent directory (usually root)");
		return CTL_FAIL;
	default:
		ctl_err("cannot create store '%s': %s", path, enrp_strerror(rc));
		ctl_hint("see the messages above, if any, and check the path");
		return CTL_FAIL;
	}
}
