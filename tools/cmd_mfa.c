/*
 * cmd_mfa.c — `enrpctl mfa enroll|list|remove|on|off` and ctl_mfa_check,
 * the second factor approve and reject ask for (issue 11 item 7), and every
 * administrator verb will once roles exist: the role table calls
 * ctl_mfa_check(ctl, "VERB ...") for each verb it marks administrative.
 *
 * The code is asked of the person (enrp_person_of), not of the uid: under
 * sudo or su, it is the login user's authenticator that must answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <enrp/approval.h>
#include <enrp/enrp.h>
#include <enrp/mfa.h>
#include <enrp/vault.h>

#include "ctl.h"

/* The terminal's settings while a code is asked without echo: a signal
 * that ends enrpctl then (Ctrl-C, a hang-up, kill) gives them back before
 * it takes its default course, so the shell is not left without echo. */
static struct termios prompt_saved;
static volatile sig_atomic_t prompt_fd = -1;
static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define PROMPT_SIGNALS (sizeof(prompt_signals) / sizeof(prompt_signals[0]))

static void prompt_interrupted(int sig)
{
	if (prompt_fd >= 0)
		tcsetattr(prompt_fd, TCSAFLUSH, &prompt_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads a code typed on the terminal T, without echo, into BUF.  False on
 * EOF or when the terminal cannot be set. */
static bool ask_code(struct ctl_tty *t, char *buf, size_t size)
{
	struct termios old, quiet;
	struct sigaction on_signal = { .sa_handler = prompt_interrupted }, was[PROMPT_SIGNALS];
	bool restore = tcgetattr(t->in, &old) == 0;
	if (restore) {
		prompt_saved = old;
		prompt_fd = t->in;
		sigemptyset(&on_signal.sa_mask);
		for (size_t i = 0; i < PROMPT_SIGNALS; i++)
			sigaction(prompt_signals[i], &on_signal, &was[i]);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(t->in, TCSAFLUSH, &quiet);
	}
	fflush(stdout);
	fflush(stderr);
	dprintf(t->out, "%s ", _("TOTP code:"));
	size_t n = 0;
	bool got = false;
	char c;
	while (read(t->in, &c, 1) == 1) {
		got = true;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (restore) {
		tcsetattr(t->in, TCSAFLUSH, &old);
		prompt_fd = -1;
		for (size_t i = 0; i < PROMPT_SIGNALS; i++)
			sigaction(prompt_signals[i], &was[i], NULL);
	}
	if (t->owned)
		close(t->in);
	return got;
}

/* Checks the person's code for WHAT whatever the store's setting (ALWAYS),
 * or only when MFA is on. */
static int mfa_prove(struct ctl *ctl, const char *what, bool always)
{
	bool on = false;
	int rc = enrp_mfa_enabled(ctl->store, &on);
	if (rc) {
		ctl_err("cannot read the MFA setting of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	if (!on && !always)
		return CTL_CONTINUE;

	char typed[64];
	const char *code = ctl->otp;
	if (!code)
		code = getenv("ENRP_OTP");
	if (code && !*code)
		code = NULL;
	struct ctl_tty t;
	if (!code && ctl_confirm_open(&t) && ask_code(&t, typed, sizeof(typed)))
		code = typed;

	enrp_vault *v = NULL;
	if ((rc = enrp_vault_open(ctl->store, NULL, &v))) {
		ctl_err("cannot open the keys of store '%s' to check the TOTP code: %s",
		        ctl->store_path, enrp_strerror(rc));
		return CTL_FAIL;
	}
	uint32_t person = enrp_person_of(&ctl->actor);
	rc = enrp_mfa_verify(ctl->store, v, code, enrp_now_ns(), &ctl->actor, what);
	enrp_vault_close(v);
	switch (rc) {
	case 0:
		return CTL_CONTINUE;
	case -ENOENT:
		ctl_err("%s needs a TOTP code, and uid %" PRIu32 " is not enrolled", what, person);
		ctl_hint("an enrolled administrator runs 'enrpctl mfa enroll %" PRIu32 "'", person);
		return CTL_FAIL;
	case -EINVAL:
		if (!code) {
			ctl_err("%s needs a TOTP code", what);
			ctl_hint("give the 6 digits of your authenticator with --otp CODE or ENRP_OTP");
		} else {
			ctl_err("'%s' is not a TOTP code: give the 6 digits of your authenticator",
			        code);
		}
		return CTL_FAIL;
	case -EACCES:
		ctl_err("wrong TOTP code for %s", what);
		ctl_hint("use the current code of your authenticator; check the host's clock");
		return CTL_FAIL;
	case -EALREADY:
		ctl_err("TOTP code already used: %s needs a new one", what);
		ctl_hint("wait for your authenticator's next code (every 30 seconds)");
		return CTL_FAIL;
	default:
		ctl_err("cannot check the TOTP code for %s: %s", what, enrp_strerror(rc));
		return CTL_FAIL;
	}
}

int ctl_mfa_check(struct ctl *ctl, const char *what)
{
	return mfa_prove(ctl, what, false);
}

/* PERSON ("alice" or "1001") into its uid and name.  False when neither. */
static bool person_arg(const char *s, uint32_t *uid, char *name, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024], *end;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		unsigned long u = strtoul(s, &end, 10);
		if (errno || *end || u >= ENRP_NO_UID)
			return false;
		*uid = (uint32_t)u;
		if (getpwuid_r(*uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
			snprintf(name, size, "%s", res->pw_name);
		else
			snprintf(name, size, "uid%" PRIu32, *uid);
		return true;
	}
	if (getpwnam_r(s, &pw, tmp, sizeof(tmp), &res) != 0 || !res)
		return false;
	*uid = res->pw_uid;
	snprintf(name, size, "%s", res->pw_name);
	return true;
}

/* S percent-encoded for an otpauth:// label into OUT (SIZE bytes). */
static void uri_escape(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (; *s && n + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

static const struct ctl_help mfa_help = {
	"enrpctl [-S STORE] mfa enroll|list|remove|on|off ...",
	N_("A second factor for administrators: with MFA on, approving or rejecting a\n"
	"request needs a TOTP code (RFC 6238: 6 digits, 30 seconds, SHA-1) from the\n"
	"person's authenticator app.  The code is given with --otp CODE (every verb\n"
	"takes it) or ENRP_OTP, else asked on the terminal.  A code is good once.\n"
	"\n"
	"Verbs:\n"
	"  enroll PERSON [--keyfile FILE]   make PERSON's secret and show it once\n"
	"  list [--json]                    who is enrolled, and whether MFA is on\n"
	"  remove PERSON                    forget PERSON's secret\n"
	"  on                               require codes (needs your own code)\n"
	"  off                              stop requiring them (needs your code)\n"),
};

static const struct ctl_help enroll_help = {
	"enrpctl [-S STORE] mfa enroll PERSON [--keyfile FILE] [--otp CODE] [--json]",
	N_("Makes a new TOTP secret for PERSON (a user name or uid) and prints it\n"
	"once, as base32 and as an otpauth:// URI, for their authenticator app;\n"
	"it is not shown again.  In an encrypted store the secret is wrapped by\n"
	"the master key.  With MFA on, enrolling needs your own code.\n"
	"\n"
	"Options:\n"
	"  --keyfile FILE     the master key (default: the path recorded at init)\n"
	"  --otp CODE         your TOTP code, when MFA is on\n"
	"  --json             print uid, name, secret and uri as a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help mlist_help = {
	"enrpctl [-S STORE] mfa list [--json]",
	N_("Says whether MFA is on and lists the enrolled people: uid, name, when\n"
	"and by whom they were enrolled, and when their last code was used.\n"
	"\n"
	"Options:\n"
	"  --json             print a JSON object\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help remove_help = {
	"enrpctl [-S STORE] mfa remove PERSON [--otp CODE]",
	N_("Forgets PERSON's TOTP secret.  With MFA on this needs your own code, and\n"
	"is refused while it would leave fewer than two people enrolled.\n"
	"\n"
	"Options:\n"
	"  --otp CODE         your TOTP code, when MFA is on\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

static const struct ctl_help onoff_help = {
	"enrpctl [-S STORE] mfa on|off [--otp CODE]",
	N_("Turns the second factor on or off for the whole store.  'on' needs at\n"
	"least two people enrolled and your own good code (so that nobody locks\n"
	"the store with an authenticator that does not work); 'off' needs your\n"
	"code while MFA is on.\n"
	"\n"
	"Options:\n"
	"  --otp CODE         your TOTP code\n"
	"  -S, --store STORE  the store\n"
	"  -h, --help         show this help\n"),
};

/* Parses the options every mfa verb has but --keyfile and --json. */
static int parse_plain(struct ctl *ctl, int argc, char **argv, const struct ctl_help *help)
{
	static const struct option opts[] = { CTL_OPTS_COMMON };
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:", opts, NULL)) != -1)
		if ((rc = ctl_common_option(ctl, c, optarg, help)) != CTL_CONTINUE)
			return rc;
	return CTL_CONTINUE;
}

static int mfa_enroll(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_KEYFILE = 1000 };
	static const struct option opts[] = {
		{ "keyfile", required_argument, NULL, OPT_KEYFILE },
		CTL_OPT_JSON,
		CTL_OPTS_COMMON,
	};
	const char *keyfile = NULL;
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:j", opts, NULL)) != -1) {
		if (c == OPT_KEYFILE)
			keyfile = optarg;
		else if ((rc = ctl_common_option(ctl, c, optarg, &enroll_help)) != CTL_CONTINUE)
			return rc;
	}
	if (argc - optind != 1)
		return ctl_usage_error(ctl, &enroll_help, "name one person (a user name or uid)");
	uint32_t uid;
	char name[64];
	if (!person_arg(argv[optind], &uid, name, sizeof(name)))
		return ctl_usage_error(ctl, &enroll_help, "no user named '%s'", argv[optind]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	char what[96];
	snprintf(what, sizeof(what), "mfa enroll %s", name);
	if ((rc = ctl_mfa_check(ctl, what)) != CTL_CONTINUE)
		return rc;
	enrp_vault *v;
	if ((rc = enrp_vault_open(ctl->store, keyfile, &v))) {
		ctl_err("cannot open the keys of store '%s': %s", ctl->store_path, enrp_strerror(rc));
		if (rc == -ENOKEY || rc == -ENOENT)
			ctl_hint("give the master key with --keyfile FILE");
		return CTL_FAIL;
	}
	uint8_t secret[ENRP_MFA_SECRET_LEN];
	rc = enrp_mfa_enroll(ctl->store, v, uid, name, enrp_now_ns(), &ctl->actor, secret);
	enrp_vault_close(v);
	if (rc == -EEXIST) {
		ctl_err("%s (uid %" PRIu32 ") is already enrolled", name, uid);
		ctl_hint("to give them a new secret, run 'enrpctl mfa remove %" PRIu32 "' first", uid);
		return CTL_FAIL;
	}
	if (rc) {
		ctl_err("cannot enroll %s: %s", name, enrp_strerror(rc));
		return CTL_FAIL;
	}
	char b32[ENRP_MFA_BASE32_MAX], label[200], uri[400];
	rc = enrp_mfa_base32(secret, sizeof(secret), b32, sizeof(b32));
	explicit_bzero(secret, sizeof(secret));
	if (rc) {
		ctl_err("cannot show the secret: %s", enrp_strerror(rc));
		return CTL_FAIL;
	}
	uri_escape(name, label, sizeof(label));
	snprintf(uri, sizeof(uri),
	         "otpauth://totp/enrp:%s?secret=%s&issuer=enrp&algorithm=SHA1&digits=%d&period=%d",
	         label, b32, ENRP_MFA_DIGITS, ENRP_MFA_STEP);
	if (ctl->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_u64(&j, "uid", uid);
		json_kv_str(&j, "name", name);
		json_kv_str(&j, "secret", b32);
		json_kv_str(&j, "uri", uri);
		json_object_end(&j);
		json_finish(&j);
	} else {
		ctl_line(stdout, "enrolled %s (uid %" PRIu32 "); give this to their authenticator app, "
		         "it is not shown again:", name, uid);
		/* key: value lines stay English (scripts read them); base32 and
		 * the URI we built hold nothing a terminal would act on. */
		printf("secret: %s\nuri: %s\n", b32, uri);
	}
	explicit_bzero(b32, sizeof(b32));
	explicit_bzero(uri, sizeof(uri));
	return CTL_OK;
}

struct mlist_out {
	struct table *t;
	struct json *j;
};

static int mlist_one(const struct enrp_mfa_person *p, void *arg)
{
	struct mlist_out *o = arg;
	char enrolled[TIME_BUF], used[TIME_BUF] = "-";
	time_iso(p->enrolled, enrolled);
	if (p->last_step)
		time_iso((int64_t)p->last_step * ENRP_MFA_STEP * 1000000000LL, used);
	if (o->j) {
		json_object_begin(o->j);
		json_kv_u64(o->j, "uid", p->person);
		json_kv_str(o->j, "name", p->name);
		json_kv_str(o->j, "enrolled", enrolled);
		json_kv_str(o->j, "by", p->by);
		json_kv_str(o->j, "last_used", p->last_step ? used : NULL);
		json_kv_bool(o->j, "wrapped", p->wrapped);
		json_object_end(o->j);
	} else {
		table_row(o->t);
		table_cell(o->t, "%" PRIu32, p->person);
		table_cell(o->t, "%s", p->name);
		table_cell(o->t, "%s", enrolled);
		table_cell(o->t, "%s", p->by);
		table_cell(o->t, "%s", used);
	}
	return 0;
}

static int mfa_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_OPT_JSON, CTL_OPTS_COMMON };
	int c, rc;
	ctl_getopt_begin(ctl, argv);
	while ((c = getopt_long(argc, argv, "hS:j", opts, NULL)) != -1)
		if ((rc = ctl_common_option(ctl, c, optarg, &mlist_help)) != CTL_CONTINUE)
			return rc;
	if (optind < argc)
		return ctl_usage_error(ctl, &mlist_help, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	bool on = false;
	if ((rc = enrp_mfa_enabled(ctl->store, &on))) {
		ctl_err("cannot read the MFA setting of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	struct json j;
	struct table *t = NULL;
	struct mlist_out o = { NULL, NULL };
	if (ctl->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_kv_bool(&j, "mfa", on);
		json_key(&j, "people");
		json_array_begin(&j);
		o.j = &j;
	} else {
		static const char *const headers[] = { "UID", "NAME", "ENROLLED", "BY", "LAST-USED" };
		t = table_new(5, headers);
		o.t = t;
	}
	rc = enrp_mfa_list(ctl->store, mlist_one, &o);
	if (ctl->json) {
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("MFA: %s\n", on ? "on" : "off");
		table_print(t, stdout);
		table_free(t);
	}
	if (rc) {
		ctl_err("cannot list the enrolled people of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int mfa_remove(struct ctl *ctl, int argc, char **argv)
{
	int rc = parse_plain(ctl, argc, argv, &remove_help);
	if (rc != CTL_CONTINUE)
		return rc;
	if (argc - optind != 1)
		return ctl_usage_error(ctl, &remove_help, "name one person (a user name or uid)");
	uint32_t uid;
	char name[64];
	if (!person_arg(argv[optind], &uid, name, sizeof(name)))
		return ctl_usage_error(ctl, &remove_help, "no user named '%s'", argv[optind]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	char what[96];
	snprintf(what, sizeof(what), "mfa remove %s", name);
	if ((rc = ctl_mfa_check(ctl, what)) != CTL_CONTINUE)
		return rc;
	rc = enrp_mfa_remove(ctl->store, uid, &ctl->actor);
	switch (rc) {
	case 0:
		ctl_line(stdout, "removed the TOTP secret of %s (uid %" PRIu32 ")", name, uid);
		return CTL_OK;
	case -ENOENT:
		ctl_err("%s (uid %" PRIu32 ") is not enrolled", name, uid);
		ctl_hint("'enrpctl mfa list' shows who is");
		return CTL_FAIL;
	case -EBUSY:
		ctl_err("MFA is on and removing %s would leave fewer than %d people enrolled", name,
		        ENRP_MFA_MIN_PEOPLE);
		ctl_hint("enroll someone else first, or turn MFA off with 'enrpctl mfa off'");
		return CTL_FAIL;
	default:
		ctl_err("cannot remove %s: %s", name, enrp_strerror(rc));
		return CTL_FAIL;
	}
}

static int mfa_onoff(struct ctl *ctl, int argc, char **argv, bool on)
{
	int rc = parse_plain(ctl, argc, argv, &onoff_help);
	if (rc != CTL_CONTINUE)
		return rc;
	if (optind < argc)
		return ctl_usage_error(ctl, &onoff_help, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_open_store(ctl)) != CTL_OK)
		return rc;
	/* 'on' checks the code even though MFA is still off: whoever turns it
	 * on shows that enrolment and the host's clock work. */
	if ((rc = mfa_prove(ctl, on ? "mfa on" : "mfa off", on)) != CTL_CONTINUE)
		return rc;
	rc = enrp_mfa_set(ctl->store, on, &ctl->actor);
	if (rc == -EBUSY) {
		ctl_err("MFA needs at least %d people enrolled before it is turned on",
		        ENRP_MFA_MIN_PEOPLE);
		ctl_hint("enroll them with 'enrpctl mfa enroll PERSON'");
		return CTL_FAIL;
	}
	if (rc) {
		ctl_err("cannot change the MFA setting of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	if (on)
		ctl_line(stdout, "MFA is on: approvals need a TOTP code");
	else
		ctl_line(stdout, "MFA is off: approvals need no TOTP code");
	return CTL_OK;
}

static int mfa_on(struct ctl *ctl, int argc, char **argv)
{
	return mfa_onoff(ctl, argc, argv, true);
}

static int mfa_off(struct ctl *ctl, int argc, char **argv)
{
	return mfa_onoff(ctl, argc, argv, false);
}

static const struct ctl_verb mfa_verbs[] = {
	{ "enroll", mfa_enroll, NEED_STORE_RW, N_("make a person's TOTP secret and show it once") },
	{ "list",   mfa_list,   NEED_STORE_RO, N_("who is enrolled, and whether MFA is on") },
	{ "remove", mfa_remove, NEED_STORE_RW, N_("forget a person's TOTP secret") },
	{ "on",     mfa_on,     NEED_STORE_RW, N_("require TOTP codes for approvals") },
	{ "off",    mfa_off,    NEED_STORE_RW, N_("stop requiring TOTP codes") },
};

int cmd_mfa(struct ctl *ctl, int argc, char **argv)
{
	return ctl_dispatch(ctl, "mfa", &mfa_help, mfa_verbs,
	                    sizeof(mfa_verbs) / sizeof(mfa_verbs[0]), argc, argv);
}
