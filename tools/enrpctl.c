/*
 * enrpctl.c — the administrators' tool: global options, the command table,
 * and the plumbing every command shares (verb dispatch, option handling,
 * opening the store, error reporting).
 *
 *   enrpctl [-S STORE] [--json] COMMAND [VERB] [OPTIONS] [ARGS]
 *
 * Global options stop at the first non-option (the command), so a command's
 * own options never collide with them.  Each command gets argv starting at
 * its own name and parses the rest with getopt_long (GNU permutation, so
 * options may follow operands: `eir create NAME --owner bob`).
 *
 * Exit status: 0 success, 1 failure, 2 usage.  libenrp reports details
 * through the log sink set here, which prints "enrpctl: MSG" on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <enrp/details.h>
#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/i18n.h>
#include <enrp/journal.h>
#include <enrp/relay.h>
#include <enrp/role.h>
#include <enrp/rundir.h>
#include <enrp/store.h>
#include <enrp/text.h>

#include "ctl.h"

struct cmd {
	const char *name;
	int (*fn)(struct ctl *ctl, int argc, char **argv);
	unsigned need; /* NEED_*; a group's verbs refine it */
	const char *summary;
};

static const struct cmd commands[] = {
	{ "init",   cmd_init,   NEED_NOTHING,  N_("create a new store") },
	{ "eir",    cmd_eir,    NEED_STORE_RW, N_("create, list, show and change EIRs") },
	{ "status", cmd_status, NEED_STORE_RO, N_("show the store, its daemon and its EIRs") },
	{ "audit",  cmd_audit,  NEED_STORE_RO, N_("show and verify the audit journal") },
	{ "scrub",  cmd_scrub,  NEED_STORE_RW, N_("verify every chunk and file checksum") },
	{ "fsck",   cmd_fsck,   NEED_STORE_RW, N_("check (and --repair) the store's consistency") },
	{ "prune",  cmd_prune,  NEED_STORE_RW, N_("apply the retention policies") },
	{ "gc",     cmd_gc,     NEED_STORE_RW, N_("free the chunks nothing references any more") },
	{ "snapshot", cmd_snapshot, NEED_STORE_RW, N_("frozen copies of an EIR's verified files") },
	{ "hold",   cmd_hold,   NEED_STORE_RW, N_("hold verified files: nobody can destroy them") },
	{ "trash",  cmd_trash,  NEED_STORE_RW, N_("list, restore and purge deleted or overwritten copies") },
	{ "restore-test", cmd_restore_test, NEED_STORE_RW, N_("plan, record and list test restores") },
	{ "calendar", cmd_calendar, NEED_STORE_RW, N_("the holidays and time zone of working days") },
	{ "wait",   cmd_wait,   NEED_STORE_RO, N_("wait until files or whole EIRs are verified") },
	{ "notify", cmd_notify, NEED_STORE_RW, N_("tell each due item once (restores, transfers, holds, quotas)") },
	{ "escrow", cmd_escrow, NEED_STORE_RW, N_("owners' decryption material, wrapped by the master key") },
	{ "requests", cmd_requests, NEED_STORE_RO, N_("list requests waiting for a second administrator") },
	{ "approve", cmd_approve, NEED_STORE_RW, N_("approve another administrator's request") },
	{ "reject", cmd_reject, NEED_STORE_RW, N_("reject another administrator's request") },
	{ "roles",  cmd_roles,  NEED_STORE_RW, N_("the Unix groups of administrators, operators, auditors") },
	{ "report", cmd_report, NEED_STORE_RW, N_("every EIR's standing over a period (compliance)") },
	{ "mfa",    cmd_mfa,    NEED_STORE_RW, N_("TOTP second factor: enroll people, turn it on or off") },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: enrpctl [-S STORE] [--json] COMMAND [ARGS]\n"
	      "       enrpctl --help | -V | --version\n\n", f);
	fputs(_("Administers an enrp backup store (see enrpctl(8)).\n"
	      "\n"
	      "Commands:\n"), f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-12s  %s\n", commands[i].name, _(commands[i].summary));
	fputs(_("\n"
	      "Global options:\n"
	      "  -S, --store STORE  the store directory (default: $ENRP_STORE)\n"
	      "      --json         print data as JSON\n"
	      "  -h, --help         show this help\n"
	      "  -V, --version      show the version (the same as enrpfs -V's)\n"
	      "\n"
	      "Run 'enrpctl COMMAND --help' for the options of a command.\n"), f);
}

/* --- output lines and diagnostics ----------------------------------------- */

char *ctl_vescaped(const char *fmt, va_list ap)
{
	char *text;
	if (vasprintf(&text, fmt, ap) < 0) {
		fputs("enrpctl: out of memory\n", stderr); /* not ctl_err: it comes here */
		exit(CTL_FAIL);
	}
	size_t n = enrp_text_escape(NULL, 0, text) + 1;
	char *esc = ctl_xmalloc(n);
	enrp_text_escape(esc, n, text);
	free(text);
	return esc;
}

/* Writes PREFIX, then the text of FMT escaped (ctl_vescaped), then a
 * newline, on F. */
__attribute__((format(printf, 3, 0)))
static void vline(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	char *esc = ctl_vescaped(fmt, ap);
	fputs(prefix, f);
	fputs(esc, f);
	fputc('\n', f);
	free(esc);
}

void ctl_line(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(f, "", _(fmt), ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 0)))
static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	vline(stderr, prefix, fmt, ap);
}

void ctl_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("enrpctl: ", _(fmt), ap);
	va_end(ap);
}

void ctl_hint(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(_("hint: "), _(fmt), ap);
	va_end(ap);
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char prefix[128];
	snprintf(prefix, sizeof(prefix), "enrpctl: %s", _("warning: "));
	vreport(prefix, _(fmt), ap);
	va_end(ap);
}

static void log_sink(enum enrp_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	ctl_line(stderr, "enrpctl: %s%s", level == ENRP_LOG_WARNING ? "warning: " : "", msg);
}

void *ctl_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p) {
		ctl_err("out of memory");
		exit(CTL_FAIL);
	}
	return p;
}

void *ctl_xrealloc(void *p, size_t nmemb, size_t size)
{
	if (nmemb && size > SIZE_MAX / nmemb) {
		ctl_err("out of memory");
		exit(CTL_FAIL);
	}
	size_t bytes = nmemb * size;
	void *q = realloc(p, bytes ? bytes : 1);
	if (!q) {
		ctl_err("out of memory");
		exit(CTL_FAIL);
	}
	return q;
}

char *ctl_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p) {
		ctl_err("out of memory");
		exit(CTL_FAIL);
	}
	return p;
}

/* What to do about an error of the store itself. */
static void store_error_hint(int err)
{
	switch (-err) {
	case ENOSPC:
		ctl_hint("free space on the store's file system, then try again");
		break;
	case EACCES:
	case EPERM:
		ctl_hint("run enrpctl as the store's owner (usually root)");
		break;
	case EIO:
	case EBADMSG:
		ctl_hint("see the messages above; 'dmesg' may show a disk error");
		break;
	default:
		ctl_hint("see the messages above, if any, and enrpctl(8)");
		break;
	}
}

int ctl_eir_error(const char *what, const char *name, int err)
{
	if (err == -ENOENT) {
		ctl_err("no EIR named '%s'", name);
		ctl_hint("run 'enrpctl eir list' to see the EIRs");
		return CTL_FAIL;
	}
	if (err == -EROFS) {
		ctl_err("cannot %s EIR '%s': it is retired, and retirement is final", _(what), name);
		ctl_hint("a retired EIR keeps its data, read-only, until its retention expires; "
		         "nothing else about it changes ('enrpctl eir show %s' shows why it was "
		         "retired)", name);
		return CTL_FAIL;
	}
	ctl_err("cannot %s EIR '%s': %s", _(what), name, enrp_strerror(err));
	store_error_hint(err);
	return CTL_FAIL;
}

/* --- confirmation ------------------------------------------------------- */

bool ctl_confirm_open(struct ctl_tty *t)
{
	/* O_NOCTTY: a process without a controlling terminal must not gain one
	 * here; then open fails with ENXIO and nobody is asked. */
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		*t = (struct ctl_tty){ .in = fd, .out = fd, .owned = true };
		return true;
	}
	if (isatty(STDIN_FILENO) == 1) {
		*t = (struct ctl_tty){ .in = STDIN_FILENO, .out = STDERR_FILENO, .owned = false };
		return true;
	}
	return false;
}

bool ctl_confirm(struct ctl_tty *t, const char *word, const char *prompt, ...)
{
	char answer[256];
	size_t n = 0;
	bool eof = false;
	va_list ap;

	va_start(ap, prompt);
	char *esc = ctl_vescaped(_(prompt), ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	dprintf(t->out, "%s ", esc);
	free(esc);
	/* One line, byte by byte: nothing past the newline is consumed. */
	while (n < sizeof(answer) - 1) {
		char ch;
		ssize_t r = read(t->in, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			eof = true;
			break;
		}
		if (ch == '\n')
			break;
		answer[n++] = ch;
	}
	answer[n] = '\0';
	if (n && answer[n - 1] == '\r')
		answer[--n] = '\0';
	if (eof) /* the prompt's line was never ended by the user */
		dprintf(t->out, "\n");
	if (t->owned)
		close(t->in);
	return !strcmp(answer, word);
}

int ctl_notify_eir(struct ctl *ctl, const char *name, uint32_t id)
{
	int rc = enrp_control_notify_eir(ctl->store_path, id);
	/* No daemon serving the store: nothing caches the old settings. */
	if (rc == 0 || rc == -ENOENT || rc == -ECONNREFUSED)
		return CTL_OK;
	ctl_warn("the change to EIR '%s' is stored, but the running enrpfs could not be told: %s",
	         name, enrp_strerror(rc));
	ctl_hint("the mount may act on the old settings until enrpfs is restarted; "
	         "see 'enrpctl status'");
	return CTL_FAIL;
}

void ctl_await_daemon_exit(struct ctl *ctl, struct enrp_daemon_info *out)
{
	if (enrp_rundir_daemon_info(ctl->store_path, out)) {
		out->state = ENRP_DAEMON_SERVING;
		return;
	}
	if (out->state != ENRP_DAEMON_STOPPING)
		return;
	pid_t pid = out->pid;
	ctl_line(stderr, "enrpctl: waiting for enrpfs (pid %d) to finish shutting down...",
	         (int)pid);
	if (enrp_rundir_wait_stopped(ctl->store_path, CTL_DAEMON_STOP_WAIT_MS, out)) {
		out->state = ENRP_DAEMON_SERVING;
		return;
	}
	if (out->state == ENRP_DAEMON_STOPPING)
		ctl_err("enrpfs (pid %d) did not finish shutting down within %d s", (int)pid,
		        CTL_DAEMON_STOP_WAIT_MS / 1000);
}

/* --- help and options ---------------------------------------------------- */

void ctl_print_help(FILE *f, const struct ctl_help *help)
{
	fprintf(f, "usage: %s\n", help->usage);
	if (help->text && *help->text)
		fprintf(f, "\n%s", _(help->text));
}

int ctl_usage_error(struct ctl *ctl, const struct ctl_help *help, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("enrpctl: ", _(fmt), ap);
	va_end(ap);
	fprintf(stderr, "usage: %s\n", help->usage);
	ctl_hint("run '%s --help' for details", ctl->command);
	return CTL_USAGE;
}

/* What getopt would have said about the option it just rejected, in our
 * words and escaped: getopt itself would print the user's bytes raw, so it
 * is kept quiet (opterr = 0).  PROG starts the line; every command's option
 * string is "hS:" (-S is the only short option with an argument). */
static void getopt_complaint(const char *prog, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	if (!strncmp(arg, "--", 2)) {
		const char *eq = strchr(arg, '=');
		if (!optopt)
			ctl_line(stderr, "%s: unrecognized option '%s'", prog, arg);
		else if (eq)
			ctl_line(stderr, "%s: option '%.*s' takes no argument", prog, (int)(eq - arg),
			         arg);
		else
			ctl_line(stderr, "%s: option '%s' requires an argument", prog, arg);
	} else if (optopt == 'S') {
		ctl_line(stderr, "%s: option requires an argument -- 'S'", prog);
	} else {
		ctl_line(stderr, "%s: invalid option -- '%c'", prog, optopt);
	}
}

void ctl_getopt_begin(struct ctl *ctl, char **argv)
{
	/* getopt prefixes its messages with argv[0]; make them read like ours:
	 * "enrpctl: eir create: unrecognized option '--x'". */
	const char *verb = strncmp(ctl->command, "enrpctl ", 8) == 0 ? ctl->command + 8 : ctl->command;
	snprintf(ctl->getopt_prog, sizeof(ctl->getopt_prog), "enrpctl: %s", verb);
	argv[0] = ctl->getopt_prog;
	ctl->argv = argv;
	optind = 0; /* GNU: full re-initialisation for a new argv */
	opterr = 0; /* getopt_complaint says it, escaped */
}

int ctl_common_option(struct ctl *ctl, int c, const char *arg, const struct ctl_help *help)
{
	switch (c) {
	case 'h':
		ctl_print_help(stdout, help);
		return CTL_OK;
	case 'S':
		ctl->store_path = arg;
		return CTL_CONTINUE;
	case 'j':
		ctl->json = true;
		return CTL_CONTINUE;
	case CTL_OPT_OTP:
		ctl->otp = arg;
		return CTL_CONTINUE;
	default: /* '?' or ':' */
		getopt_complaint(ctl->getopt_prog, ctl->argv);
		fprintf(stderr, "usage: %s\n", help->usage);
		ctl_hint("run '%s --help' for details", ctl->command);
		return CTL_USAGE;
	}
}

int ctl_dispatch(struct ctl *ctl, const char *group, const struct ctl_help *group_help,
                 const struct ctl_verb *verbs, size_t n, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;
	FILE *f = stdout;
	int rc = CTL_OK;

	if (!verb) {
		ctl_err("'%s' needs a verb", group);
		f = stderr;
		rc = CTL_USAGE;
	} else if (!strcmp(verb, "-h") || !strcmp(verb, "--help")) {
		f = stdout;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(verb, verbs[i].name))
				continue;
			snprintf(ctl->command, sizeof(ctl->command), "enrpctl %s %s", group,
			         verbs[i].name);
			ctl->need = verbs[i].need;
			return verbs[i].fn(ctl, argc - 1, argv + 1);
		}
		ctl_err("'%s' is not a verb of '%s'", verb, group);
		f = stderr;
		rc = CTL_USAGE;
	}

	ctl_print_help(f, group_help);
	fputs(_("\nVerbs:\n"), f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-12s  %s\n", verbs[i].name, _(verbs[i].summary));
	fprintf(f, _("\nRun 'enrpctl %s VERB --help' for the options of a verb.\n"), group);
	return rc;
}

/* --- the store ----------------------------------------------------------- */

void ctl_store_not_roots(const char *what, const char *path, const struct enrp_trust_problem *p)
{
	if (!strcmp(p->path, path))
		ctl_err("cannot %s store '%s': it %s", _(what), path, p->why);
	else
		ctl_err("cannot %s store '%s': '%s' %s", _(what), path, p->path, p->why);
	ctl_hint("%s (a store and every directory above it must be root's alone; "
	         "nothing was changed)", p->fix);
}

int ctl_open_store(struct ctl *ctl)
{
	if (ctl->store)
		return CTL_OK;
	if (!ctl->store_path || !*ctl->store_path) {
		ctl_err("no store given");
		ctl_hint("name one with 'enrpctl -S STORE ...', or set ENRP_STORE");
		return CTL_USAGE;
	}
	const char *path = ctl->store_path;
	unsigned flags = (ctl->need & NEED_STORE_RW) ? 0 : ENRP_STORE_RDONLY;
	/* Other errors of the check are the open's to report, in its words. */
	struct enrp_trust_problem p;
	int rc = enrp_store_check(path, &p);
	if (rc == -EPERM) {
		ctl_store_not_roots("open", path, &p);
		return CTL_FAIL;
	}
	rc = enrp_store_open(path, flags, &ctl->store);
	if (rc == 0) {
		enrp_actor_self(&ctl->actor, ctl->command);
		if (ctl->peer) {
			/* Acting for the account enrpfs named: it, not root, is
			 * who the journal and four eyes see. */
			ctl->actor.uid = ctl->peer_uid;
			ctl->actor.pid = ctl->peer_pid;
			ctl->actor.login_uid = ctl->peer_login_uid;
			ctl->actor.sudo_uid = ENRP_NO_UID;
			ctl->actor.sudo_user[0] = '\0';
		}
		/* A host clock set back below the store's floor is journalled by
		 * the first command that may write (once per setback). */
		/* With MFA on, an administrator's verb needs the person's code:
		 * checked once, here, before the verb touches anything.  approve,
		 * reject and mfa check their own; notify runs from a timer. */
		const char *key = ctl->command + strlen("enrpctl ");
		if (!ctl->mfa_checked && strlen(ctl->command) > strlen("enrpctl ") &&
		    enrp_role_required(key) == ENRP_ROLE_ADMIN && strcmp(key, "approve") &&
		    strcmp(key, "reject") && strncmp(key, "mfa", 3) && strcmp(key, "notify")) {
			ctl->mfa_checked = true;
			if (ctl_mfa_check(ctl, key) != CTL_CONTINUE) {
				enrp_store_close(ctl->store);
				ctl->store = NULL;
				return CTL_FAIL;
			}
		}
		if (!(flags & ENRP_STORE_RDONLY) &&
		    enrp_clock_floor_check(ctl->store, &ctl->actor) == 1)
			ctl_warn("the host clock was set back behind the platform's clock: journalled "
			         "as clock-jump (retention counts from the platform's clock)");
		return CTL_OK;
	}
	ctl->store = NULL;
	switch (-rc) {
	case ENOENT:
		ctl_err("cannot open store '%s': no such store", path);
		ctl_hint("create one with 'enrpctl init %s'", path);
		break;
	case EMEDIUMTYPE:
		ctl_err("cannot open store '%s': not an enrp store", path);
		ctl_hint("give the directory made by 'enrpctl init', or make one with "
		         "'enrpctl init STORE'");
		break;
	case EPROTONOSUPPORT:
		/* Core has said why, with both format numbers, in our words:
		 * "enrpctl: cannot open store 'PATH': its format N is newer...". */
		ctl_hint("use the enrp release that made the store (this is enrpctl %s, store "
		         "format %d)", ENRP_VERSION, ENRP_STORE_FORMAT);
		break;
	case EACCES:
	case EPERM:
		ctl_err("cannot open store '%s': permission denied", path);
		ctl_hint("run enrpctl as the store's owner (usually root)");
		break;
	case ENOTDIR:
		ctl_err("cannot open store '%s': not a directory", path);
		ctl_hint("give the store directory made by 'enrpctl init'");
		break;
	default:
		ctl_err("cannot open store '%s': %s", path, enrp_strerror(rc));
		store_error_hint(rc);
		break;
	}
	return CTL_FAIL;
}

/* --- members of the role groups who are not root (relay.h) ------------- */

/* Commands whose first argument is a verb. */
static bool has_verbs(const char *cmd)
{
	static const char *const groups[] = { "eir", "snapshot", "hold", "trash", "restore-test",
		                              "audit", "calendar", "escrow" };
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (!strcmp(cmd, groups[i]))
			return true;
	return false;
}

/* What enrpctl must not do as root on an account's behalf: name host paths
 * (root would read or write them for the account), create stores, mount.
 * Returns the refusal, or NULL. */
static const char *peer_refusal(const char *cmd, int argc, char **argv)
{
	static const char *const path_options[] = { "-o", "--output", "--html", "--anchors",
		                                    "--segment", "--keyfile" };
	if (!strcmp(cmd, "init") || !strcmp(cmd, "wait"))
		return N_("runs only as root (an EIR's owner waits on the mount, as themselves)");
	for (int i = 1; i < argc; i++) {
		for (size_t k = 0; k < sizeof(path_options) / sizeof(path_options[0]); k++) {
			size_t l = strlen(path_options[k]);
			if (strncmp(argv[i], path_options[k], l))
				continue;
			const char *v = argv[i][l] == '=' ? argv[i] + l + 1
			              : !argv[i][l] && i + 1 < argc ? argv[i + 1] : NULL;
			if ((argv[i][l] == '=' || !argv[i][l]) && (!v || strcmp(v, "-")))
				return N_("names a file of the host: through the daemon only '-' (standard "
				          "input or output) is allowed");
		}
	}
	/* Operands that are files: the CSV of an import, an escrow deposit
	 * (its second operand; --reason, --name take values). */
	bool import = !strcmp(cmd, "eir") && argc > 1 && !strcmp(argv[1], "import");
	bool put = !strcmp(cmd, "escrow") && argc > 1 && !strcmp(argv[1], "put");
	if (import || put) {
		int operand = 0;
		for (int i = 2; i < argc; i++) {
			if (argv[i][0] == '-' && argv[i][1]) {
				if (put && !strchr(argv[i], '=') &&
				    (!strcmp(argv[i], "--reason") || !strcmp(argv[i], "--name")))
					i++;
				continue;
			}
			operand++;
			if (((import && operand == 1) || (put && operand == 2)) && strcmp(argv[i], "-"))
				return N_("names a file of the host: through the daemon give '-' and send "
				          "it on standard input");
		}
	}
	return NULL;
}

/* In a root enrpctl run for a peer: may it run CMD (ARGV)?  Journals a
 * refusal.  CTL_CONTINUE or an exit status. */
static int peer_admit(struct ctl *ctl, const char *cmd, int argc, char **argv)
{
	char key[64];
	if (has_verbs(cmd) && argc > 1 && argv[1][0] != '-')
		snprintf(key, sizeof(key), "%s %s", cmd, argv[1]);
	else
		snprintf(key, sizeof(key), "%s", cmd);
	const char *why = peer_refusal(cmd, argc, argv);
	if (why) {
		ctl_err("'enrpctl %s' %s", key, _(why));
		return CTL_FAIL;
	}
	ctl->need = NEED_STORE_RW; /* a refusal is journalled */
	snprintf(ctl->command, sizeof(ctl->command), "enrpctl %.50s", key);
	int rc = ctl_open_store(ctl);
	if (rc != CTL_OK)
		return rc;
	struct enrp_role_groups g;
	if ((rc = enrp_roles_get(ctl->store, &g)) != 0) {
		ctl_err("cannot read the role groups of store '%s': %s", ctl->store_path,
		        enrp_strerror(rc));
		return CTL_FAIL;
	}
	unsigned have = enrp_roles_of(&g, ctl->peer_uid, ctl->peer_gid);
	unsigned need = enrp_role_required(key);
	if (have & need)
		return CTL_CONTINUE;
	char needs[64] = "", d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	const char *group_of[] = { g.admin, g.operator_, g.auditor };
	char groups[128] = "";
	for (unsigned bit = 0; bit < 3; bit++) {
		if (!(need & (1u << bit)))
			continue;
		size_t l = strlen(needs), m = strlen(groups);
		snprintf(needs + l, sizeof(needs) - l, "%s%s", l ? "," : "",
		         enrp_role_name((enum enrp_role)(1u << bit)));
		snprintf(groups + m, sizeof(groups) - m, "%s%s", m ? ", " : "", group_of[bit]);
	}
	enrp_details_add(d, sizeof(d), "uid", "%" PRIu32, ctl->peer_uid);
	enrp_details_add(d, sizeof(d), "op", "enrpctl %s", key);
	enrp_details_add(d, sizeof(d), "errno", "%d", EACCES);
	enrp_details_add(d, sizeof(d), "count", "1");
	enrp_details_add(d, sizeof(d), "needs", "%s", needs);
	enrp_journal_append(ctl->store, &ctl->actor, "", "denied", "%s", d);
	ctl_err("permission denied: 'enrpctl %s' needs the role %s (group %s)", key, needs, groups);
	ctl_hint("an administrator adds your account to the group; 'enrpctl roles' names them");
	return CTL_FAIL;
}

/* In a non-root enrpctl that cannot open the store: runs the command
 * through the store's daemon.  Returns the exit status. */
static int relay(struct ctl *ctl, int argc, char **argv)
{
	char sock[512];
	int rc = enrp_relay_path(ctl->store_path, sock, sizeof(sock));
	if (rc) {
		ctl_err("cannot open store '%s': %s", ctl->store_path, enrp_strerror(rc));
		return CTL_FAIL;
	}
	char **args = ctl_xmalloc(((size_t)argc + 2) * sizeof(char *));
	int n = 0;
	if (ctl->json)
		args[n++] = (char *)"--json";
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	static const char *const names[] = { "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES",
		                             "LC_CTYPE" };
	char *env[5];
	int envc = 0;
	char envbuf[5][256];
	for (size_t i = 0; i < 5; i++) {
		const char *v = getenv(names[i]);
		if (v && strlen(v) < 200) {
			snprintf(envbuf[envc], sizeof(envbuf[envc]), "%s=%s", names[i], v);
			env[envc] = envbuf[envc];
			envc++;
		}
	}
	fflush(NULL);
	int status = CTL_FAIL;
	rc = enrp_relay_run(sock, n, args, envc, env, &status);
	free(args);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		ctl_err("cannot open store '%s': permission denied, and no enrpfs serves it to "
		        "other accounts (%s)", ctl->store_path, sock);
		ctl_hint("run enrpctl as root, or mount the store with enrpfs: members of its role "
		         "groups then run enrpctl through it");
		return CTL_FAIL;
	}
	if (rc) {
		ctl_err("cannot run the command through enrpfs (%s): %s", sock, enrp_strerror(rc));
		return CTL_FAIL;
	}
	return status;
}

/* --- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static char prog[] = "enrpctl";
	static const struct option opts[] = {
		{ "store",   required_argument, NULL, 'S' },
		{ "json",    no_argument,       NULL, 'j' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ "peer",    required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .tty = isatty(STDERR_FILENO) == 1 };
	int c, rc;

	enrp_i18n_init();
	enrp_log_set_sink(log_sink, NULL, ENRP_LOG_NOTICE);
	const char *env = getenv("ENRP_STORE");
	if (env && *env)
		ctl.store_path = env;

	if (argc < 1)
		return CTL_USAGE;
	argv[0] = prog;
	opterr = 0; /* getopt_complaint says it, escaped */
	/* "+": stop at the command; its options are its own. */
	while ((c = getopt_long(argc, argv, "+hVS:", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			ctl.store_path = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		case 'V':
			printf("enrpctl %s (store format %d)\n", ENRP_VERSION, ENRP_STORE_FORMAT);
			return CTL_OK;
		case 'P':
			/* enrpfs's relay names the account it runs us for; only a root
			 * enrpctl acts for another account. */
			if (geteuid() != 0 ||
			    sscanf(optarg, "%" SCNu32 ":%" SCNu32 ":%" SCNu32 ":%" SCNu32, &ctl.peer_uid,
			           &ctl.peer_gid, &ctl.peer_pid, &ctl.peer_login_uid) != 4) {
				ctl_err("--peer is for enrpfs's relay");
				return CTL_USAGE;
			}
			ctl.peer = true;
			break;
		default:
			getopt_complaint("enrpctl", argv);
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		ctl_err("no command given");
		usage(stderr);
		return CTL_USAGE;
	}

	const char *name = argv[optind];
	const struct cmd *cmd = NULL;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		ctl_err("'%s' is not an enrpctl command", name);
		usage(stderr);
		return CTL_USAGE;
	}

	snprintf(ctl.command, sizeof(ctl.command), "enrpctl %s", cmd->name);
	ctl.need = cmd->need;
	bool help = false;
	for (int i = optind; i < argc; i++)
		help |= !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help");
	if (!ctl.peer && !help && geteuid() != 0 && ctl.store_path && *ctl.store_path &&
	    strcmp(cmd->name, "init") && access(ctl.store_path, X_OK) != 0 && errno == EACCES)
		return relay(&ctl, argc - optind, argv + optind);
	if (ctl.peer && !help) {
		rc = peer_admit(&ctl, cmd->name, argc - optind, argv + optind);
		if (rc != CTL_CONTINUE) {
			enrp_store_close(ctl.store);
			return rc;
		}
		snprintf(ctl.command, sizeof(ctl.command), "enrpctl %s", cmd->name);
	}
	rc = cmd->fn(&ctl, argc - optind, argv + optind);
	enrp_store_close(ctl.store);

	/* A full disk or closed pipe on stdout is a failure, not a success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			ctl_err("cannot write output: %s", strerror(errno));
		if (rc == CTL_OK)
			rc = CTL_FAIL;
	}
	return rc;
}
