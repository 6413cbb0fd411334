/*
 * cmd_scrub.c — `enrpctl scrub [EIR]`: re-read every chunk and recompute
 * every sealed file's checksum, with progress on a terminal, a summary, and
 * exit status 1 when anything is damaged.
 *
 * The store is opened for writing: damaged files are marked corrupt and
 * every finding is journalled.  An encrypted store needs its master key
 * (--keyfile, or the path recorded at init).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/scrub.h>
#include <enrp/units.h>
#include <enrp/vault.h>

#include "ctl.h"

static const struct ctl_help scrub_help = {
	"enrpctl [-S STORE] scrub [--keyfile FILE] [--json] [EIR]",
	N_("Re-reads every chunk of every sealed file (of EIR, or of all EIRs),\n"
	"checks each against its authentication tag or checksum and its name, and\n"
	"recomputes each file's SHA-256.  Damaged files are marked corrupt and\n"
	"journalled.  Exit status 1 when anything is damaged.\n"
	"\n"
	"Options:\n"
	"  --keyfile FILE     master key of an encrypted store (default: the path\n"
	"                     recorded by 'enrpctl init --encrypt')\n"
	"  --json             print the summary as one JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static void show_progress(const struct enrp_scrub_result *r, uint64_t total, void *arg)
{
	(void)arg;
	char bytes[SIZE_BUF];
	size_human(r->bytes, bytes);
	fputc('\r', stderr);
	fprintf(stderr, _("scrub: %" PRIu64 "/%" PRIu64 " files, %s, %" PRIu64 " damaged"),
	        r->files, total, bytes, r->files_damaged);
	fflush(stderr);
}

int cmd_scrub(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keyfile", required_argument, NULL, 'K' },
		CTL_OPT_JSON, CTL_OPTS_COMMON,
	};
	const char *keyfile = NULL, *eir = NULL;
	int c, rc;

	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == 'K') {
			keyfile = optarg;
			continue;
		}
		rc = ctl_common_option(ctl, c, optarg, &scrub_help);
		if (rc != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		eir = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, &scrub_help, "too many arguments");
	if (eir && !enrp_eir_name_valid(eir))
		return ctl_usage_error(ctl, &scrub_help, "'%s' is not a valid EIR name", eir);

	rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	enrp_vault *vault;
	rc = enrp_vault_open(ctl->store, keyfile, &vault);
	if (rc) {
		ctl_err("cannot open the keys of store '%s': %s", ctl->store_path,
		        rc == -ENOKEY ? "the store is encrypted and no key file is known"
		                      : enrp_strerror(rc));
		ctl_hint("give the master key with --keyfile FILE");
		return CTL_FAIL;
	}
	if (enrp_vault_encrypted(vault)) {
		/* Reading the master key is journalled, whoever does it (the
		 * daemon journals its own at mount). */
		char path[PATH_MAX] = "", real[PATH_MAX], d[PATH_MAX + 64] = "";
		bool encrypted;
		if (!keyfile && enrp_vault_info(ctl->store, &encrypted, path, sizeof(path)) == 0)
			keyfile = path;
		if (keyfile && realpath(keyfile, real))
			keyfile = real;
		enrp_details_add(d, sizeof(d), "path", "%s", keyfile ? keyfile : "");
		enrp_details_add(d, sizeof(d), "store", "%s", ctl->store_path);
		enrp_details_add(d, sizeof(d), "pid", "%ld", (long)getpid());
		rc = enrp_journal_append(ctl->store, &ctl->actor, eir ? eir : "", "keyfile-use", "%s", d);
		if (rc)
			ctl_warn("cannot journal the use of the key file: %s", enrp_strerror(rc));
	}
	struct enrp_scrub_result r;
	rc = enrp_scrub(ctl->store, vault, eir, &ctl->actor, ctl->tty ? show_progress : NULL, NULL,
	                &r);
	enrp_vault_close(vault);
	if (ctl->tty)
		fputc('\n', stderr);
	if (rc == -ENOENT && eir)
		return ctl_eir_error("scrub", eir, rc);
	if (rc) {
		ctl_err("scrub of '%s' failed: %s", ctl->store_path, enrp_strerror(rc));
		ctl_hint("see the messages above, if any");
		return CTL_FAIL;
	}
	bool damaged = r.files_damaged || r.chunks_damaged;
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_u64(&j, "files", r.files);
		json_kv_u64(&j, "files_damaged", r.files_damaged);
		json_kv_u64(&j, "chunks", r.chunks);
		json_kv_u64(&j, "chunks_damaged", r.chunks_damaged);
		json_kv_u64(&j, "bytes", r.bytes);
		json_kv_bool(&j, "damaged", damaged);
		json_object_end(&j);
		json_finish(&j);
	} else {
		char bytes[SIZE_BUF];
		size_human(r.bytes, bytes);
		printf(_("scrub: %" PRIu64 " files, %s, %" PRIu64 " chunks checked; %" PRIu64
		       " damaged files, %" PRIu64 " damaged chunks\n"),
		       r.files, bytes, r.chunks, r.files_damaged, r.chunks_damaged);
	}
	if (damaged) {
		ctl_err("damage found: see 'enrpctl audit show --event scrub-damage'");
		return CTL_FAIL;
	}
	return CTL_OK;
}
