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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/i18n.h>
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
		/* A host clock set back below the store's floor is journalled by
		 * the first command that may write (once per setback). */
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

/* --- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static char prog[] = "enrpctl";
	static const struct option opts[] = {
		{ "store",   required_argument, NULL, 'S' },
		{ "json",    no_argument,       NULL, 'j' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
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
