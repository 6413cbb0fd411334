/*
 * cmd_escrow.c — `enrpctl escrow put|list|get` (issue 11 item 6) and the
 * four-eyes commands `enrpctl requests`, `approve` and `reject` (item 7).
 *
 * `escrow get` is the first action behind four eyes.  Its first run makes
 * a request and exits 1 saying so; a second administrator approves it; the
 * requester runs the same command again and gets the deposit, once.  This
 * shape (request, approve, repeat) needs no daemon and no waiting process,
 * and it is the one every later four-eyes action follows.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <enrp/approval.h>
#include <enrp/details.h>
#include <enrp/enrp.h>
#include <enrp/escrow.h>
#include <enrp/journal.h>
#include <enrp/vault.h>

#include "ctl.h"

/* --- four eyes, for every command that needs it ------------------------ */

int ctl_approval_ready(struct ctl *ctl, const char *action, const char *eir,
                       const char *target, const char *reason, const char *what)
{
	struct enrp_request req;
	int64_t now = enrp_now_ns();
	int rc = enrp_request_find(ctl->store, action, eir, target, now, &ctl->actor, &req);
	if (rc && rc != -ENOENT) {
		ctl_err("cannot read the requests of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	if (rc == -ENOENT) {
		uint64_t rid = 0;
		rc = enrp_request_create(ctl->store, action, eir, target, reason, now, &ctl->actor,
		                         &rid);
		if (rc)
			return ctl_eir_error("make a request for", eir, rc);
		ctl_err("%s needs a second administrator's approval: request %" PRIu64 " made", what,
		        rid);
		ctl_hint("another administrator runs 'enrpctl approve %" PRIu64
		         "'; then run this command again (within 24 hours)",
		         rid);
		return CTL_FAIL;
	}
	if (req.state == ENRP_REQUEST_PENDING) {
		ctl_err("request %" PRIu64 " for %s is still waiting for approval", req.id, what);
		ctl_hint("another administrator runs 'enrpctl approve %" PRIu64 "'", req.id);
		return CTL_FAIL;
	}
	return CTL_CONTINUE;
}

static const struct ctl_help escrow_help = {
	"enrpctl [-S STORE] escrow put|list|get ...",
	N_("Keeps owners' decryption material (the key or passphrase their dumps are\n"
	"encrypted with) wrapped by the store's master key, so a restore does not\n"
	"depend on the owner still having it.  Needs an encrypted store.  Every\n"
	"access is journalled; 'get' needs a second administrator's approval.\n"
	"\n"
	"Verbs:\n"
	"  put EIR FILE --reason TEXT [--name NAME]   deposit FILE for EIR\n"
	"  list EIR [--json]                          show the deposits of EIR\n"
	"  get EIR ID --reason TEXT [-o FILE]         read a deposit back (four eyes)\n"),
};

static const struct ctl_help put_help = {
	"enrpctl [-S STORE] escrow put EIR FILE --reason TEXT [--name NAME] [--keyfile FILE]",
	N_("Deposits the contents of FILE (at most 1 MiB; '-' reads standard input,\n"
	"then --name is needed) for EIR, wrapped by the\n"
	"master key.  The plaintext is never written to the store; its size and\n"
	"SHA-256 are recorded and journalled, so the owner can check what was kept.\n"
	"\n"
	"Options:\n"
	"  --reason TEXT      why it is deposited (required)\n"
	"  --name NAME        what to call it (default: FILE's base name)\n"
	"  --keyfile FILE     the master key (default: the path recorded at init)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help list_help = {
	"enrpctl [-S STORE] escrow list EIR [--json]",
	N_("Lists the deposits of EIR: id, name, size, SHA-256, when, by whom and why.\n"
	"The listing is journalled.\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON array\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help get_help = {
	"enrpctl [-S STORE] escrow get EIR ID --reason TEXT [-o FILE] [--keyfile FILE]",
	N_("Reads deposit ID of EIR back.  The first run makes a request (exit 1):\n"
	"another administrator approves it with 'enrpctl approve REQUEST'; then the\n"
	"same command, run again by the same person within 24 hours, writes the\n"
	"deposit once.  Without -o it goes to standard output, which must not be a\n"
	"terminal.\n"
	"\n"
	"Options:\n"
	"  --reason TEXT      why it is needed (required)\n"
	"  -o, --output FILE  write it to FILE (created, mode 0600; never replaced)\n"
	"  --keyfile FILE     the master key (default: the path recorded at init)\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* Opens the store's vault, journalling the key file's use as scrub does.
 * CTL_OK with *V, or CTL_FAIL (reported). */
static int open_vault(struct ctl *ctl, const char *keyfile, const char *eir, enrp_vault **v)
{
	/* An EIR that does not exist is refused before the key is read. */
	struct enrp_eir e;
	int rc = enrp_eir_get(ctl->store, eir, &e);
	if (rc)
		return ctl_eir_error("use escrow of", eir, rc);
	rc = enrp_vault_open(ctl->store, keyfile, v);
	if (rc) {
		ctl_err("cannot open the keys of store '%s': %s", ctl->store_path, enrp_strerror(rc));
		if (rc == -ENOKEY || rc == -ENOENT)
			ctl_hint("give the master key with --keyfile FILE");
		return CTL_FAIL;
	}
	if (!enrp_vault_encrypted(*v)) {
		enrp_vault_close(*v);
		ctl_err("store '%s' is not encrypted: escrow needs the master key of an encrypted "
		        "store to wrap deposits with",
		        ctl->store_path);
		ctl_hint("create the store with 'enrpctl init --encrypt --keyfile FILE'");
		return CTL_FAIL;
	}
	char path[4096] = "", real[4096], d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	bool encrypted;
	if (!keyfile && enrp_vault_info(ctl->store, &encrypted, path, sizeof(path)) == 0)
		keyfile = path;
	if (keyfile && realpath(keyfile, real))
		keyfile = real;
	enrp_details_add(d, sizeof(d), "path", "%s", keyfile ? keyfile : "");
	rc = enrp_journal_append(ctl->store, &ctl->actor, eir, "keyfile-use", "%s", d);
	if (rc) {
		enrp_vault_close(*v);
		ctl_err("cannot journal the use of the key file: %s", enrp_strerror(rc));
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int escrow_put(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_REASON = 1000, OPT_NAME, OPT_KEYFILE };
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "keyfile", required_argument, NULL, OPT_KEYFILE },
		CTL_OPTS_COMMON,
	};
	const char *reason = NULL, *name = NULL, *keyfile = NULL;
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == OPT_REASON)
			reason = optarg;
		else if (c == OPT_NAME)
			name = optarg;
		else if (c == OPT_KEYFILE)
			keyfile = optarg;
		else if ((rc = ctl_common_option(ctl, c, optarg, &put_help)) != CTL_CONTINUE)
			return rc;
	}
	if (argc - optind != 2)
		return ctl_usage_error(ctl, &put_help, "name the EIR and the FILE to deposit");
	const char *eir = argv[optind], *file = argv[optind + 1];
	if (!enrp_eir_name_valid(eir))
		return ctl_usage_error(ctl, &put_help, "'%s' is not a valid EIR name", eir);
	if (!reason || !*reason || strlen(reason) > ENRP_ESCROW_REASON_MAX)
		return ctl_usage_error(ctl, &put_help, "give a --reason of 1 to %d bytes",
		                       ENRP_ESCROW_REASON_MAX);
	bool name_given = name != NULL;
	if (!name)
		name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	if (!*name || strlen(name) > ENRP_ESCROW_NAME_MAX)
		return ctl_usage_error(ctl, &put_help, "give a --name of 1 to %d bytes",
		                       ENRP_ESCROW_NAME_MAX);

	bool from_stdin = !strcmp(file, "-");
	if (from_stdin && !name_given)
		return ctl_usage_error(ctl, &put_help, "name a deposit read from standard input "
		                       "with --name");
	int fd = from_stdin ? 0 : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ctl_err("cannot read '%s': %s", file, strerror(errno));
		return CTL_FAIL;
	}
	/* Read one byte past the limit, so a larger file is refused whole. */
	size_t n = 0;
	uint8_t *data = ctl_xmalloc(ENRP_ESCROW_MAX + 1);
	for (;;) {
		ssize_t r = read(fd, data + n, ENRP_ESCROW_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ctl_err("cannot read '%s': %s", file, strerror(errno));
			if (!from_stdin)
				close(fd);
			enrp_master_buf_free(data, ENRP_ESCROW_MAX + 1);
			return CTL_FAIL;
		}
		if (r == 0 || (n += (size_t)r) > ENRP_ESCROW_MAX)
			break;
	}
	if (!from_stdin)
		close(fd);
	if (n == 0 || n > ENRP_ESCROW_MAX) {
		ctl_err("'%s' must hold 1 byte to 1 MiB (it has %s)", file,
		        n ? "more than 1 MiB" : "nothing");
		enrp_master_buf_free(data, ENRP_ESCROW_MAX + 1);
		return CTL_FAIL;
	}

	if ((rc = ctl_open_store(ctl)) != CTL_OK) {
		enrp_master_buf_free(data, ENRP_ESCROW_MAX + 1);
		return rc;
	}
	enrp_vault *v;
	if ((rc = open_vault(ctl, keyfile, eir, &v)) != CTL_OK) {
		enrp_master_buf_free(data, ENRP_ESCROW_MAX + 1);
		return rc;
	}
	uint64_t id = 0;
	rc = enrp_escrow_put(ctl->store, v, eir, name, data, n, reason, enrp_now_ns(), &ctl->actor,
	                     &id);
	enrp_master_buf_free(data, ENRP_ESCROW_MAX + 1);
	enrp_vault_close(v);
	if (rc)
		return ctl_eir_error("deposit escrow for", eir, rc);
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_u64(&j, "id", id);
		json_kv_str(&j, "eir", eir);
		json_kv_str(&j, "name", name);
		json_kv_u64(&j, "size", n);
		json_object_end(&j);
		json_finish(&j);
	} else {
		ctl_line(stdout, "deposited '%s' for EIR '%s' as escrow %" PRIu64 " (%zu bytes)", name,
		         eir, id, n);
	}
	return CTL_OK;
}

struct list_out {
	struct table *t;
	struct json *j;
};

static int list_one(const struct enrp_escrow *e, void *arg)
{
	struct list_out *o = arg;
	char created[TIME_BUF], size[SIZE_BUF];
	time_iso(e->created, created);
	if (o->j) {
		json_object_begin(o->j);
		json_kv_u64(o->j, "id", e->id);
		json_kv_str(o->j, "eir", e->eir);
		json_kv_str(o->j, "name", e->name);
		json_kv_u64(o->j, "size", e->size);
		json_kv_str(o->j, "sha256", e->sha256);
		json_kv_str(o->j, "created", created);
		json_kv_str(o->j, "by", e->by);
		json_kv_str(o->j, "reason", e->reason);
		json_object_end(o->j);
	} else {
		size_human(e->size, size);
		table_row(o->t);
		table_cell(o->t, "%" PRIu64, e->id);
		table_cell(o->t, "%s", e->name);
		table_cell(o->t, "%s", size);
		table_cell(o->t, "%.16s", e->sha256);
		table_cell(o->t, "%s", created);
		table_cell(o->t, "%s", e->reason);
	}
	return 0;
}

static int escrow_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1)
		if ((rc = ctl_common_option(ctl, c, optarg, &list_help)) != CTL_CONTINUE)
			return rc;
	if (argc - optind != 1)
		return ctl_usage_error(ctl, &list_help, "name one EIR");
	const char *eir = argv[optind];
	if (!enrp_eir_name_valid(eir))
		return ctl_usage_error(ctl, &list_help, "'%s' is not a valid EIR name", eir);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	static const char *const headers[] = { "ID", "NAME", "SIZE", "SHA256", "CREATED", "REASON" };
	struct listing l;
	listing_begin(&l, ctl->json, 6, headers);
	struct list_out o = { .t = l.t, .j = l.json };
	rc = enrp_escrow_list(ctl->store, eir, list_one, &o, &ctl->actor);
	listing_end(&l, rc == 0);
	return rc ? ctl_eir_error("list the escrow of", eir, rc) : CTL_OK;
}

/* Writes N bytes to FD.  0 or -errno. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int escrow_get(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_REASON = 1000, OPT_KEYFILE };
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "output", required_argument, NULL, 'o' },
		{ "keyfile", required_argument, NULL, OPT_KEYFILE },
		CTL_OPTS_COMMON,
	};
	const char *reason = NULL, *output = NULL, *keyfile = NULL;
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:o:", opts, NULL)) != -1) {
		if (c == OPT_REASON)
			reason = optarg;
		else if (c == 'o')
			output = optarg;
		else if (c == OPT_KEYFILE)
			keyfile = optarg;
		else if ((rc = ctl_common_option(ctl, c, optarg, &get_help)) != CTL_CONTINUE)
			return rc;
	}
	if (argc - optind != 2)
		return ctl_usage_error(ctl, &get_help, "name the EIR and the deposit's ID");
	const char *eir = argv[optind], *ids = argv[optind + 1];
	char *end;
	errno = 0;
	unsigned long long id = strtoull(ids, &end, 10);
	if (!enrp_eir_name_valid(eir))
		return ctl_usage_error(ctl, &get_help, "'%s' is not a valid EIR name", eir);
	if (errno || end == ids || *end || ids[0] == '-' || id == 0)
		return ctl_usage_error(ctl, &get_help, "invalid ID '%s': give the number 'escrow "
		                       "list' shows", ids);
	if (!reason || !*reason || strlen(reason) > ENRP_ESCROW_REASON_MAX)
		return ctl_usage_error(ctl, &get_help, "give a --reason of 1 to %d bytes",
		                       ENRP_ESCROW_REASON_MAX);
	if (!output && isatty(1))
		return ctl_usage_error(ctl, &get_help,
		                       "standard output is a terminal: write the deposit with -o FILE");
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;

	int64_t now = enrp_now_ns();
	struct enrp_request req;
	char what[128];
	snprintf(what, sizeof(what), "escrow get %s %s", eir, ids);
	if ((rc = ctl_approval_ready(ctl, "escrow-get", eir, ids, reason, what)) != CTL_CONTINUE)
		return rc;

	int fd = 1;
	if (output) {
		fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			ctl_err("cannot create '%s': %s", output, strerror(errno));
			if (errno == EEXIST)
				ctl_hint("name a file that does not exist: a deposit never replaces one");
			return CTL_FAIL;
		}
	}
	enrp_vault *v;
	if ((rc = open_vault(ctl, keyfile, eir, &v)) != CTL_OK)
		goto fail;
	uint8_t *data = NULL;
	size_t n = 0;
	rc = enrp_escrow_get(ctl->store, v, eir, (uint64_t)id, reason, now, &ctl->actor, &data, &n,
	                     &req);
	enrp_vault_close(v);
	if (rc) {
		if (rc == -ENOENT)
			ctl_err("EIR '%s' has no escrow deposit %llu", eir, id);
		else
			ctl_eir_error("read escrow of", eir, rc);
		rc = CTL_FAIL;
		goto fail;
	}
	int wrc = write_all(fd, data, n);
	enrp_master_buf_free(data, n);
	if (wrc == 0 && output && fsync(fd) != 0)
		wrc = -errno;
	if (wrc) {
		ctl_err("cannot write the deposit: %s", strerror(-wrc));
		rc = CTL_FAIL;
		goto fail;
	}
	if (output) {
		close(fd);
		ctl_line(stderr, "wrote escrow %llu of EIR '%s' to '%s' (request %" PRIu64
		         ", approved by %s)",
		         id, eir, output, req.id, req.decider_name);
	}
	return CTL_OK;
fail:
	if (output && fd >= 0) {
		close(fd);
		unlink(output);
	}
	return rc == CTL_OK ? CTL_FAIL : rc;
}

static const struct ctl_verb escrow_verbs[] = {
	{ "put",  escrow_put,  NEED_STORE_RW, N_("deposit an owner's decryption material") },
	{ "list", escrow_list, NEED_STORE_RW, N_("show the deposits of an EIR") },
	{ "get",  escrow_get,  NEED_STORE_RW, N_("read a deposit back (needs an approval)") },
};

int cmd_escrow(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "escrow", &escrow_help, escrow_verbs,
	                    sizeof(escrow_verbs) / sizeof(escrow_verbs[0]), argc, argv);
}

/* --- requests, approve, reject ------------------------------------------ */

static const struct ctl_help requests_help = {
	"enrpctl [-S STORE] requests [--all] [--json]",
	N_("Lists the requests waiting for a second administrator's approval (with\n"
	"--all: every request, approved, rejected, used and expired ones too).  A\n"
	"request expires 24 hours after it was made.\n"
	"\n"
	"Options:\n"
	"  --all              every request, not only the pending ones\n"
	"  --json             print a JSON array\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help decide_help = {
	"enrpctl [-S STORE] approve|reject ID [--note TEXT] [--otp CODE]",
	N_("Approves (or rejects) request ID of another administrator; nobody can\n"
	"approve their own.  The person is the login user (kept across su and sudo),\n"
	"else the sudo user, else the user.  With MFA on ('enrpctl mfa on') the\n"
	"person's TOTP code is needed: --otp CODE, else ENRP_OTP, else asked on\n"
	"the terminal.\n"
	"\n"
	"Options:\n"
	"  --note TEXT        a note kept with the decision\n"
	"  --otp CODE         your TOTP code, when MFA is on\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

struct req_out {
	struct table *t;
	struct json *j;
	bool all;
};

static int request_one(const struct enrp_request *r, void *arg)
{
	struct req_out *o = arg;
	if (!o->all && r->state != ENRP_REQUEST_PENDING)
		return 0;
	char created[TIME_BUF], expires[TIME_BUF];
	time_iso(r->created, created);
	time_iso(r->expires, expires);
	if (o->j) {
		json_object_begin(o->j);
		json_kv_u64(o->j, "id", r->id);
		json_kv_str(o->j, "action", r->action);
		json_kv_str(o->j, "eir", r->eir);
		json_kv_str(o->j, "target", r->target);
		json_kv_str(o->j, "state", enrp_request_state_name(r->state));
		json_kv_str(o->j, "requester", r->requester_name);
		json_kv_u64(o->j, "requester_uid", r->requester);
		json_kv_str(o->j, "reason", r->reason);
		json_kv_str(o->j, "created", created);
		json_kv_str(o->j, "expires", expires);
		json_kv_str(o->j, "decided_by", r->decider_name);
		json_kv_str(o->j, "note", r->note);
		json_object_end(o->j);
	} else {
		table_row(o->t);
		table_cell(o->t, "%" PRIu64, r->id);
		table_cell(o->t, "%s", r->action);
		table_cell(o->t, "%s", r->eir);
		table_cell(o->t, "%s", r->target);
		table_cell(o->t, "%s", enrp_request_state_name(r->state));
		table_cell(o->t, "%s", r->requester_name);
		table_cell(o->t, "%s", expires);
		table_cell(o->t, "%s", r->reason);
	}
	return 0;
}

int cmd_requests(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_ALL = 1000 };
	static const struct option opts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	bool all = false;
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:j", opts, NULL)) != -1) {
		if (c == OPT_ALL)
			all = true;
		else if ((rc = ctl_common_option(ctl, c, optarg, &requests_help)) != CTL_CONTINUE)
			return rc;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, &requests_help, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	static const char *const headers[] = { "ID", "ACTION", "EIR", "TARGET", "STATE",
		                               "REQUESTER", "EXPIRES", "REASON" };
	struct listing l;
	listing_begin(&l, ctl->json, 8, headers);
	struct req_out o = { .t = l.t, .j = l.json, .all = all };
	rc = enrp_request_list(ctl->store, enrp_now_ns(), request_one, &o);
	listing_end(&l, rc == 0);
	if (rc) {
		ctl_err("cannot list the requests of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int decide(struct ctl *ctl, int argc, char **argv, bool approve)
{
	enum { OPT_NOTE = 1000 };
	static const struct option opts[] = {
		{ "note", required_argument, NULL, OPT_NOTE },
		CTL_OPTS_COMMON,
	};
	const char *note = NULL;
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1) {
		if (c == OPT_NOTE)
			note = optarg;
		else if ((rc = ctl_common_option(ctl, c, optarg, &decide_help)) != CTL_CONTINUE)
			return rc;
	}
	if (argc - optind != 1)
		return ctl_usage_error(ctl, &decide_help, "name one request by its ID");
	const char *ids = argv[optind];
	char *end;
	errno = 0;
	unsigned long long id = strtoull(ids, &end, 10);
	if (errno || end == ids || *end || ids[0] == '-' || id == 0)
		return ctl_usage_error(ctl, &decide_help,
		                       "invalid ID '%s': give the number 'enrpctl requests' shows", ids);
	if (note && strlen(note) > ENRP_REQUEST_TEXT_MAX)
		return ctl_usage_error(ctl, &decide_help, "--note is longer than %d bytes",
		                       ENRP_REQUEST_TEXT_MAX);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	char what[64];
	snprintf(what, sizeof(what), "%s %llu", approve ? "approve" : "reject", id);
	if ((rc = ctl_mfa_check(ctl, what)) != CTL_CONTINUE)
		return rc;
	int64_t now = enrp_now_ns();
	struct enrp_request r;
	rc = enrp_request_decide(ctl->store, id, approve, note, now, &ctl->actor);
	switch (rc) {
	case 0:
		enrp_request_get(ctl->store, id, now, &r);
		if (approve)
			ctl_line(stdout, "approved request %llu (%s of %s/%s by %s)", id, r.action,
			         r.eir, r.target, r.requester_name);
		else
			ctl_line(stdout, "rejected request %llu (%s of %s/%s by %s)", id, r.action,
			         r.eir, r.target, r.requester_name);
		return CTL_OK;
	case -ENOENT:
		ctl_err("there is no request %llu", id);
		ctl_hint("'enrpctl requests' lists the pending ones");
		return CTL_FAIL;
	case -EPERM:
		ctl_err("request %llu is your own: another administrator must decide it", id);
		return CTL_FAIL;
	case -EALREADY:
		enrp_request_get(ctl->store, id, now, &r);
		ctl_err("request %llu is already %s", id, enrp_request_state_name(r.state));
		return CTL_FAIL;
	case -ETIME:
		ctl_err("request %llu has expired", id);
		ctl_hint("the requester makes a new one by running their command again");
		return CTL_FAIL;
	default:
		ctl_err("cannot decide request %llu: %s", id, enrp_strerror(rc));
		return CTL_FAIL;
	}
}

int cmd_approve(struct ctl *ctl, int argc, char **argv)
{
	return decide(ctl, argc, argv, true);
}

int cmd_reject(struct ctl *ctl, int argc, char **argv)
{
	return decide(ctl, argc, argv, false);
}
